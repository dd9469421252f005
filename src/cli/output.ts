/**
 * Where results go (`scan`, `merge`): the format chosen from -f / -o / the terminal, the atomic -o file (temporary
 * file, renamed into place on commit) or stdout, and the one writer for that format.
 */
import type { Writable } from 'node:stream';
import { AtomicFile } from '../report/atomic-write.js';
import { CsvWriter } from '../report/csv.js';
import { NdjsonWriter, type ScanWriter } from '../report/ndjson.js';
import { JsonDocumentWriter } from '../report/scan-json.js';
import { TableWriter, type TableWriterOptions } from '../report/scan-table.js';
import { matchesFailOn, SummaryBuilder, type HostRecord } from '../scan/summary.js';
import { colorFor, formatFor, type ResultFormat } from './options/results.js';
import { UsageError } from './util.js';

export interface ResultOutput {
  format: ResultFormat;
  /** The -o file (undefined: stdout). */
  file?: AtomicFile;
  out: Writable;
  /** Results go to a terminal (stdout is a TTY and there is no -o). */
  toTerminal: boolean;
}

/** Open the -o file (atomically) or take stdout. A file that cannot be created is a usage error. */
export async function openOutput(o: { format?: ResultFormat; output?: string }, outPath: string | undefined): Promise<ResultOutput> {
  const format = formatFor(o, !!process.stdout.isTTY && !o.output);
  let file: AtomicFile | undefined;
  try {
    file = outPath ? await AtomicFile.create(outPath) : undefined;
  } catch (e) {
    throw new UsageError(`-o ${o.output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return { format, file, out: file ? file.stream : process.stdout, toTerminal: !file && !!process.stdout.isTTY };
}

export interface WriterOptions {
  /** Table extras (colour and width are decided here). */
  table?: Omit<TableWriterOptions, 'color' | 'columns'>;
  /** The `scan` member of the json document's head. */
  json?: Record<string, unknown>;
}

/** The writer for the output's format. */
export function createWriter(output: ResultOutput, opts: WriterOptions = {}): ScanWriter {
  const { out } = output;
  switch (output.format) {
    case 'table':
      return new TableWriter(out, { color: output.toTerminal && colorFor(process.stdout), columns: process.stdout.columns, ...opts.table });
    case 'json':
      return new JsonDocumentWriter(out, opts.json);
    case 'csv':
      return new CsvWriter(out);
    case 'ndjson':
      return new NdjsonWriter(out);
  }
}

/** Every host record that is written: counted for the summary, the `--fail-on` matches and internal errors. */
export class ResultTally {
  readonly summary = new SummaryBuilder();
  failHosts = 0;
  internal = 0;

  constructor(
    private readonly writer: ScanWriter,
    readonly failOn: readonly string[],
  ) {}

  add(rec: HostRecord): Promise<void> | undefined {
    const failed = matchesFailOn(rec, this.failOn);
    if (failed) this.failHosts++;
    if (rec.outcome === 'error') this.internal++;
    this.summary.add(rec, failed);
    return this.writer.host(rec);
  }

  /** The summary's `failOn` member (undefined without --fail-on). */
  failOnSummary(): { patterns: string[]; hosts: number } | undefined {
    return this.failOn.length ? { patterns: [...this.failOn], hosts: this.failHosts } : undefined;
  }
}
