import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { Option } from 'commander';
import { AtomicFile } from '../../report/atomic-write.js';
import { CsvWriter } from '../../report/csv.js';
import { NdjsonWriter, type ScanWriter } from '../../report/ndjson.js';
import { JsonDocumentWriter } from '../../report/scan-json.js';
import { TableWriter } from '../../report/scan-table.js';
import { renderSummary } from '../../report/summary-render.js';
import { matchesFailOn, parseFailOn, SummaryBuilder, type HostRecord, type ScanSummary } from '../../scan/summary.js';
import { UsageError } from '../util.js';
import { colorFor, formatFor, type ScanFormat } from './scan.js';

export interface MergeCliOptions {
  format?: ScanFormat;
  output?: string;
  failOn?: string;
  quiet?: boolean;
}

interface Line {
  kind: 'host' | 'summary' | 'other';
  record?: HostRecord;
  summary?: ScanSummary;
}

/** One line of an ndjson result file or of the json document (one host per line); torn or foreign lines are 'other'. */
function parseLine(raw: string): Line {
  const line = raw.trim();
  const body = line.endsWith(',') ? line.slice(0, -1) : line;
  if (body.startsWith('{"type":"host"')) {
    try {
      const r = JSON.parse(body) as HostRecord;
      if (r.type === 'host' && typeof r.target === 'string' && r.observation) return { kind: 'host', record: r };
    } catch {
      /* torn line */
    }
    return { kind: 'other' };
  }
  if (body.startsWith('{"type":"summary"')) {
    try {
      return { kind: 'summary', summary: JSON.parse(body) as ScanSummary };
    } catch {
      return { kind: 'other' };
    }
  }
  const m = /^\],"summary":(\{.*\})\}$/.exec(body);
  if (m) {
    try {
      return { kind: 'summary', summary: JSON.parse(m[1]) as ScanSummary };
    } catch {
      return { kind: 'other' };
    }
  }
  return { kind: 'other' };
}

async function* linesOf(path: string): AsyncGenerator<{ n: number; line: Line; raw: string }> {
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const raw of rl) {
    n++;
    if (!raw.trim()) continue;
    yield { n, line: parseLine(raw), raw };
  }
}

export function register(program: Command): void {
  program
    .command('merge')
    .description('combine scan results (ndjson or json, e.g. from shards or an interrupted run and its --resume) into one, every host once, with a fresh summary')
    .argument('<files...>', 'results of rdprobe scan (-f ndjson or -f json)')
    .addOption(new Option('-f, --format <format>', 'table | json | ndjson (default when piped) | csv').choices(['table', 'json', 'ndjson', 'csv']))
    .option('-o, --output <file>', 'write atomically to FILE (format from the extension unless -f)')
    .option('--fail-on <list>', 'exit 3 when a host matches: cause id, client error code or outcome, comma-separated')
    .option('-q, --quiet', 'no summary on stderr')
    .action(async (files: string[], o: MergeCliOptions) => {
      process.exitCode = await runMerge(files, o);
    });
}

/**
 * Two passes over the inputs: the first finds, for every target, the last file and line holding it (a later file
 * wins: a resumed or re-run shard replaces older results); the second streams those records out. Memory: one map
 * entry per distinct target, never the records.
 */
export async function runMerge(files: string[], o: MergeCliOptions): Promise<number> {
  const say = (s: string) => {
    if (!o.quiet) process.stderr.write(`${s}\n`);
  };
  const failOn = o.failOn ? parseFailOn(o.failOn) : [];
  const outPath = o.output ? resolve(o.output) : undefined;
  if (outPath && files.some((f) => resolve(f) === outPath)) throw new UsageError('-o must not be one of the inputs (write to a new file)');

  // pass 1
  const last = new Map<string, number>(); // target → (file index << 32 | line) encoded as file * 2^32 + line
  let hostLines = 0;
  let interruptedInputs = 0;
  const unreadable: string[] = [];
  for (let fi = 0; fi < files.length; fi++) {
    let hosts = 0;
    let other = 0;
    try {
      for await (const { n, line } of linesOf(files[fi])) {
        if (line.kind === 'host') {
          hosts++;
          last.set(line.record!.target, fi * 2 ** 32 + n);
        } else if (line.kind === 'summary') {
          if (line.summary!.interrupted) interruptedInputs++;
        } else other++;
      }
    } catch (e) {
      throw new UsageError(`${files[fi]}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (!hosts && other) unreadable.push(files[fi]);
    hostLines += hosts;
  }
  if (unreadable.length) {
    throw new UsageError(`no host records in ${unreadable.join(', ')} (merge reads the ndjson or json output of rdprobe scan; csv rows do not carry the observation)`);
  }
  const duplicates = hostLines - last.size;

  // pass 2
  const format = formatFor(o, !!process.stdout.isTTY && !o.output);
  const file = outPath ? await AtomicFile.create(outPath) : undefined;
  const out: Writable = file ? file.stream : process.stdout;
  const toTerminal = !file && !!process.stdout.isTTY;
  let writer: ScanWriter;
  switch (format) {
    case 'table':
      writer = new TableWriter(out, { color: toTerminal && colorFor(process.stdout), columns: process.stdout.columns });
      break;
    case 'json':
      writer = new JsonDocumentWriter(out, { merged: files });
      break;
    case 'csv':
      writer = new CsvWriter(out);
      break;
    default:
      writer = new NdjsonWriter(out);
  }
  const summary = new SummaryBuilder();
  let failHosts = 0;
  let internal = 0;
  try {
    for (let fi = 0; fi < files.length; fi++) {
      for await (const { n, line } of linesOf(files[fi])) {
        if (line.kind !== 'host') continue;
        const r = line.record!;
        if (last.get(r.target) !== fi * 2 ** 32 + n) continue;
        const failed = matchesFailOn(r, failOn);
        if (failed) failHosts++;
        if (r.outcome === 'error') internal++;
        summary.add(r, failed);
        const w = writer.host(r);
        if (w) await w;
      }
    }
    const s = summary.build({
      interrupted: false,
      merged: { files, duplicates, interruptedInputs },
      failOn: failOn.length ? { patterns: failOn, hosts: failHosts } : undefined,
    });
    await writer.end(s);
    if (file) await file.commit();
    if (interruptedInputs) say(`rdprobe merge: ${interruptedInputs} input(s) are interrupted scans; unless their --resume runs are among the inputs, some targets have no result`);
    if (format !== 'table' || file) say(renderSummary(s, { color: colorFor(process.stderr) }));
  } catch (e) {
    await file?.discard();
    throw e;
  }
  if (internal > 0) return 1;
  if (failOn.length && failHosts > 0) return 3;
  return 0;
}
