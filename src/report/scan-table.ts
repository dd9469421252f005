/**
 * `--format table` (the default on a terminal): one row per host, streamed as hosts finish, drawn with cli-table3
 * at fixed column widths so rows printed one at a time line up; the summary follows the rows. Formatting only.
 */
import type Table from 'cli-table3';
import { loadTable } from './cli-table.js';
import type { Writable } from 'node:stream';
import type { HostRecord, ScanSummary } from '../scan/summary.js';
import { writeChunk } from './atomic-write.js';
import type { ScanWriter } from './ndjson.js';
import { renderSummary } from './summary-render.js';

export interface TableWriterOptions {
  color?: boolean;
  /** Terminal width (default 120). */
  columns?: number;
  /** Only rows whose TCP connection opened (`--open`). */
  openOnly?: boolean;
  /** Called around each write (to clear and redraw a progress bar on the same terminal). */
  around?: <T>(fn: () => T) => T;
  resumeHint?: string;
}

const HEAD = ['target', 'outcome', 'protocol', 'tcp ms', 'verdict / detail'];

const COLORS: Record<string, string> = {
  rdp: '32',
  'rdp-legacy': '33',
  'rdp-failure': '33',
  open: '32',
  'not-rdp': '35',
  'no-answer': '35',
  error: '31;1',
};

export class TableWriter implements ScanWriter {
  private started = false;
  private rows = 0;
  private readonly widths: number[];

  constructor(
    private readonly out: Writable,
    private readonly o: TableWriterOptions = {},
  ) {
    const cols = Math.max(80, o.columns ?? 120);
    // target fits 255.255.255.255:65535; longer targets (IPv6, names) and verdicts wrap onto more lines
    const fixed = [24, 13, 22, 8];
    // borders: 6 vertical bars; cli-table3 widths include 1 space of padding on each side
    this.widths = [...fixed, Math.max(20, cols - fixed.reduce((a, b) => a + b, 0) - 6)];
  }

  private table(): Table.Table {
    return new (loadTable())({
      colWidths: this.widths,
      wordWrap: true,
      truncate: '…',
      style: { head: [], border: [], compact: true },
    });
  }

  private paint(outcome: string): string {
    const c = COLORS[outcome] ?? (outcome === 'refused' || outcome === 'filtered' || outcome === 'timeout' ? '2' : '31');
    return this.o.color ? `\x1b[${c}m${outcome}\x1b[0m` : outcome;
  }

  private header(): string {
    const t = this.table();
    t.push(HEAD.map((h) => (this.o.color ? `\x1b[1m${h}\x1b[0m` : h)));
    const lines = t.toString().split('\n');
    // top border, header row, then a separator in place of the bottom border
    const bottom = lines[lines.length - 1];
    const sep = bottom.replace('└', '├').replace('┘', '┤').replace(/┴/g, '┼');
    return [...lines.slice(0, -1), sep].join('\n') + '\n';
  }

  private write(s: string): Promise<void> | undefined {
    return this.o.around ? this.o.around(() => writeChunk(this.out, s)) : writeChunk(this.out, s);
  }

  host(r: HostRecord): Promise<void> | undefined {
    if (this.o.openOnly && r.observation.tcp?.outcome !== 'open') return undefined;
    const head = this.started ? '' : this.header();
    this.started = true;
    this.rows++;
    const t = this.table();
    t.push([hardWrap(r.target, this.widths[0] - 2), this.paint(r.outcome), r.protocol ?? '', r.observation.tcp ? String(r.observation.tcp.ms) : '', headline(detail(r), this.widths[4] - 2)]);
    const lines = t.toString().split('\n');
    return this.write(head + lines.slice(1, -1).join('\n') + '\n');
  }

  async end(summary: ScanSummary): Promise<void> {
    let s = '';
    if (this.started) {
      const t = this.table();
      t.push(HEAD.map(() => ''));
      const lines = t.toString().split('\n');
      s += lines[lines.length - 1] + '\n';
    } else {
      s += this.o.openOnly ? 'No host with an open port.\n' : 'No hosts.\n';
    }
    s += `${renderSummary(summary, { color: this.o.color, resumeHint: this.o.resumeHint })}\n`;
    await this.write(s);
  }
}

/** Break a string without blanks (IPv6 targets, long names) into lines: a target is never truncated. */
function hardWrap(s: string, width: number): string {
  if (s.length <= width) return s;
  const parts: string[] = [];
  for (let i = 0; i < s.length; i += width) parts.push(s.slice(i, i + width));
  return parts.join('\n');
}

/** A long verdict keeps its headline ("0x204 — connection refused"); the full line is in json/ndjson/csv. */
function headline(text: string, width: number): string {
  if (text.length <= width * 2) return text;
  const cut = text.indexOf(': ');
  return cut > 0 ? text.slice(0, cut) : text;
}

/** The most telling text for the last column: the diagnosis line, else what the deepest phase said. */
function detail(r: HostRecord): string {
  if (r.diagnosis) return r.diagnosis.line;
  const o = r.observation;
  if (o.x224) return o.x224.detail ?? (o.x224.flags?.names.length ? `flags ${o.x224.flags.names.join(', ')}` : '');
  if (o.tcp && o.tcp.outcome !== 'open') return o.tcp.errno ?? o.tcp.message ?? '';
  if (o.dns && o.dns.outcome !== 'ok' && o.dns.outcome !== 'skipped') return `dns ${o.dns.outcome}${o.dns.code ? ` (${o.dns.code})` : ''}`;
  const internal = o.errors.find((e) => e.code === 'RDPROBE_INTERNAL');
  return internal ? internal.message.split('\n')[0] : '';
}
