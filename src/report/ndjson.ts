/**
 * `--format ndjson`: one JSON object per line, streamed as hosts finish — `{"type":"host",…}` per host and a final
 * `{"type":"summary",…}`. Lines are written whole, so a reader (or `--resume`) can use every complete line of a
 * file that was cut short.
 */
import type { Writable } from 'node:stream';
import type { HostRecord, ScanSummary } from '../scan/summary.js';
import { ChunkedSink } from './atomic-write.js';

export interface ScanWriter {
  host(r: HostRecord): Promise<void> | undefined;
  end(summary: ScanSummary): Promise<void>;
}

export class NdjsonWriter implements ScanWriter {
  private readonly sink: ChunkedSink;

  constructor(out: Writable) {
    this.sink = new ChunkedSink(out);
  }

  host(r: HostRecord): Promise<void> | undefined {
    return this.sink.push(`${JSON.stringify(r)}\n`);
  }

  async end(summary: ScanSummary): Promise<void> {
    this.sink.push(`${JSON.stringify(summary)}\n`);
    await this.sink.flush();
  }
}
