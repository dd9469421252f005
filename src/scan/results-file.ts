/**
 * Reading the results of `rdprobe scan` back (`--resume`, `rdprobe merge`): ndjson, or the json document with one
 * host record per line (report/scan-json.ts), complete or cut short. Every line is classified on its own, so a torn
 * last line (a crash, the `.partial` temporary file of -o) costs that line only. CSV is only readable by its
 * `target` column, which resume.ts handles.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { HostRecord, ScanSummary } from './summary.js';

export type ResultLine =
  /** A host record (`type` "host" and a string `target`; the observation is not checked here). */
  | { kind: 'host'; record: HostRecord }
  /** The summary (ndjson line or the json document's tail); `summary` is undefined when the line is torn. */
  | { kind: 'summary'; summary?: ScanSummary }
  /** The json document's head (`{"type":"scan"…`) or a closing bracket: structure, no data. */
  | { kind: 'frame' }
  /** A line that starts like a host record but does not parse as one (torn). */
  | { kind: 'torn-host' }
  /** Anything else: foreign text, CSV rows. */
  | { kind: 'other' };

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** Classify one line of a results file. */
export function parseResultLine(raw: string): ResultLine {
  const line = raw.trim();
  const body = line.endsWith(',') ? line.slice(0, -1) : line;
  if (body.startsWith('{"type":"host"')) {
    const r = parseJson<HostRecord>(body);
    return r && r.type === 'host' && typeof r.target === 'string' ? { kind: 'host', record: r } : { kind: 'torn-host' };
  }
  if (body.startsWith('{"type":"summary"')) return { kind: 'summary', summary: parseJson<ScanSummary>(body) };
  if (body.startsWith('],"summary"')) {
    const m = /^\],"summary":(\{.*\})\}$/.exec(body);
    return { kind: 'summary', summary: m ? parseJson<ScanSummary>(m[1]) : undefined };
  }
  if (body.startsWith('{"type":"scan"') || body.startsWith(']')) return { kind: 'frame' };
  return { kind: 'other' };
}

/** The non-empty lines of a results file with their 1-based line numbers (empty lines are counted, not yielded). */
export async function* resultLines(path: string): AsyncGenerator<{ n: number; raw: string; line: ResultLine }> {
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const raw of rl) {
    n++;
    if (!raw.trim()) continue;
    yield { n, raw, line: parseResultLine(raw) };
  }
}
