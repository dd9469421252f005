/**
 * `--format json`: one JSON document, streamed so memory does not grow with the host count:
 *
 *   {"type":"scan","schema":1,"tool":{…},"scan":{…options…},"hosts":[
 *   {…host record…},
 *   {…host record…}
 *   ],"summary":{…}}
 *
 * One host record per line, so `--resume` can read a document that was cut short (only complete lines count).
 * With `-o` the document is only renamed into place once complete (atomic-write.ts).
 */
import type { Writable } from 'node:stream';
import { SCHEMA_VERSION } from '../observation/types.js';
import type { HostRecord, ScanSummary } from '../scan/summary.js';
import { VERSION } from '../version.js';
import { ChunkedSink } from './atomic-write.js';
import type { ScanWriter } from './ndjson.js';

export class JsonDocumentWriter implements ScanWriter {
  private started = false;
  private count = 0;

  private readonly sink: ChunkedSink;

  constructor(
    out: Writable,
    private readonly scanInfo: Record<string, unknown> = {},
  ) {
    this.sink = new ChunkedSink(out);
  }

  private head(): string {
    this.started = true;
    const h = JSON.stringify({ type: 'scan', schema: SCHEMA_VERSION, tool: { name: 'rdprobe', version: VERSION }, scan: this.scanInfo });
    return `${h.slice(0, -1)},"hosts":[\n`;
  }

  host(r: HostRecord): Promise<void> | undefined {
    const pre = this.started ? '' : this.head();
    const sep = this.count++ ? ',\n' : '';
    return this.sink.push(`${pre}${sep}${JSON.stringify(r)}`);
  }

  async end(summary: ScanSummary): Promise<void> {
    const pre = this.started ? '' : this.head();
    this.sink.push(`${pre}${this.count ? '\n' : ''}],"summary":${JSON.stringify(summary)}}\n`);
    await this.sink.flush();
  }
}
