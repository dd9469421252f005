/**
 * `--resume FILE`: the targets FILE already holds a result for are skipped. FILE may be any output of `rdprobe scan`
 * — ndjson, the json document (one host per line), csv (the `target` column) — complete or cut short (a crash, the
 * `.partial` temporary file of `-o`): every complete host line counts, a torn last line is ignored.
 *
 * The done set is kept as intervals per port (intervals.ts PointSet), so resuming a /8 costs a few intervals, not
 * one entry per host.
 */
import { parseIPv4, parseIPv6 } from './ip.js';
import { PointSet } from './intervals.js';
import { resultLines } from './results-file.js';
import type { HostRecord } from './summary.js';
import type { ScanTarget } from './targets.js';

export class DoneSet {
  private readonly v4 = new Map<number, PointSet>();
  private readonly v6 = new Map<number, PointSet>();
  private readonly names = new Set<string>();
  size = 0;

  /** Add a canonical target key (`1.2.3.4:3389`, `[2001:db8::1]:3389`, `name:3389`); false when it is not one. */
  addKey(key: string): boolean {
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(key);
    if (!m) return false;
    const port = Number(m[3]);
    if (m[1] !== undefined) {
      const v = parseIPv6(m[1]);
      if (v === null) return false;
      this.set(this.v6, port).add(v);
    } else {
      const v = parseIPv4(m[2]);
      if (v !== null) this.set(this.v4, port).add(BigInt(v));
      else this.names.add(`${m[2].toLowerCase()}:${port}`);
    }
    this.size++;
    return true;
  }

  private set(m: Map<number, PointSet>, port: number): PointSet {
    let s = m.get(port);
    if (!s) m.set(port, (s = new PointSet()));
    return s;
  }

  has(t: ScanTarget): boolean {
    if (t.family === 4) return this.v4.get(t.port)?.has(BigInt(parseIPv4(t.host)!)) ?? false;
    if (t.family === 6) return this.v6.get(t.port)?.has(parseIPv6(t.host)!) ?? false;
    return this.names.has(`${t.host}:${t.port}`);
  }
}

export interface ResumeLoad {
  done: DoneSet;
  /** Host lines read. */
  records: number;
  /** Lines that were neither a host record nor a known non-host line (torn or foreign). */
  skippedLines: number;
}

/**
 * Read one results file. `onRecord` receives each full host record (ndjson / json formats), e.g. to carry it
 * into a new output that replaces the file.
 */
export async function loadResume(path: string, done = new DoneSet(), onRecord?: (r: HostRecord) => void | Promise<void>): Promise<ResumeLoad> {
  let records = 0;
  let skippedLines = 0;
  let csvTarget = -1;
  for await (const { n, raw, line } of resultLines(path)) {
    const text = raw.trim();
    if (n === 1 && !text.startsWith('{') && !text.startsWith('[')) {
      csvTarget = text.split(',').indexOf('target');
      if (csvTarget >= 0) continue;
    }
    if (csvTarget >= 0) {
      const cell = csvField(text, csvTarget);
      if (cell && done.addKey(cell)) records++;
      else skippedLines++;
      continue;
    }
    switch (line.kind) {
      case 'host':
        if (!done.addKey(line.record.target)) {
          skippedLines++;
          continue;
        }
        records++;
        if (onRecord) await onRecord(line.record);
        continue;
      case 'summary':
      case 'frame':
        continue;
      case 'torn-host':
      case 'other':
        skippedLines++;
        continue;
      default:
        return assertNever(line);
    }
  }
  return { done, records, skippedLines };
}

function assertNever(x: never): never {
  throw new Error(`unexpected result line ${JSON.stringify(x)}`);
}

/** Field `i` of one CSV line (RFC 4180 quotes). */
export function csvField(line: string, i: number): string | undefined {
  let field = 0;
  let cur = '';
  let q = false;
  for (let p = 0; p < line.length; p++) {
    const c = line[p];
    if (q) {
      if (c === '"' && line[p + 1] === '"') {
        cur += '"';
        p++;
      } else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      if (field === i) return cur;
      field++;
      cur = '';
    } else cur += c;
  }
  return field === i ? cur : undefined;
}
