/**
 * `--format ndjson`: one JSON object per line, streamed as hosts finish — `{"type":"host",…}` per host and a final
 * `{"type":"summary",…}`. Lines are written whole, so a reader (or `--resume`) can use every complete line of a
 * file that was cut short.
 */
import type { Writable } from 'node:stream';
import type { HostRecord, ScanSummary } from '../scan/summary.js';
import { writeChunk } from './atomic-write.js';

export interface ScanWriter {
  host(r: HostRecord): Promise<void> | undefined;
  end(summary: ScanSummary): Promise<void>;
}

export class NdjsonWriter implements ScanWriter {
  constructor(private readonly out: Writable) {}

  host(r: HostRecord): Promise<void> | undefined {
    return writeChunk(this.out, `${JSON.stringify(r)}\n`);
  }

  async end(summary: ScanSummary): Promise<void> {
    await writeChunk(this.out, `${JSON.stringify(summary)}\n`);
  }
}
