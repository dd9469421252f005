/**
 * The one place an Observation record is begun and finished, for every live probe: runProbe (all depths), the
 * reach path scan uses (probe/reach.ts) and `rdprobe path` (probe/path-probe.ts). Field order here is the order in
 * the JSON output, so records of the same outcome serialise byte for byte alike whichever path built them.
 */
import type { Observation, ProtocolName, TcpObservation, TcpOutcome, TimelineEntry, Phase } from '../observation/types.js';
import { SCHEMA_VERSION } from '../observation/types.js';
import { VERSION } from '../version.js';

/** What a Connection Request offers when the caller names nothing: what a current Windows client offers. */
export const DEFAULT_REQUESTED: ProtocolName[] = ['SSL', 'HYBRID', 'HYBRID_EX'];

export interface RecordStart {
  /** What the user typed (host, host:port, [v6]:port). */
  target: string;
  host: string;
  port: number;
  requested: ProtocolName[];
  cookie: string | null;
  timeoutMs: number;
  phaseTimeoutMs: number;
}

// startedAt: one ISO string per millisecond is plenty (a Date per host is measurable at 40k hosts/s)
let isoMs = -1;
let iso = '';
export function nowIso(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    isoMs = ms;
    iso = new Date(ms).toISOString();
  }
  return iso;
}

/** The record as it stands before the first phase: source, options (phases filled in as they start), no results. */
export function beginObservation(s: RecordStart): Observation {
  return {
    schema: SCHEMA_VERSION,
    tool: { name: 'rdprobe', version: VERSION },
    source: { kind: 'live', target: s.target, host: s.host, port: s.port, startedAt: nowIso() },
    options: { requested: s.requested, cookie: s.cookie, phases: [], timeoutMs: s.timeoutMs, phaseTimeoutMs: s.phaseTimeoutMs },
    connections: 0,
    durationMs: 0,
    timeline: [],
    errors: [],
  };
}

/** A connect result as the record keeps it (the message only for outcomes other than open). */
export function tcpRecord(
  address: string,
  port: number,
  r: { outcome: TcpOutcome; ms: number; errno?: string; message?: string; localAddress?: string; localPort?: number },
): TcpObservation {
  const tcp: TcpObservation = { outcome: r.outcome, ms: r.ms, address, port };
  if (r.errno) tcp.errno = r.errno;
  if (r.message && r.outcome !== 'open') tcp.message = r.message;
  if (r.localAddress) (tcp.localAddress = r.localAddress), (tcp.localPort = r.localPort);
  return tcp;
}

/** One timeline entry; `at` is ms since the probe started. */
export function timelineEntry(phase: Phase, at: number, ms: number, outcome?: string, note?: string): TimelineEntry {
  const e: TimelineEntry = { phase, at: Math.round(at), ms };
  if (outcome) e.outcome = outcome;
  if (note) e.note = note;
  return e;
}

export interface RecordEnd {
  connections: number;
  /** performance.now() when the probe started. */
  started: number;
  /** The probe's own deadline cut it short. */
  deadlineMs?: number;
  /** The caller's signal aborted it. */
  aborted?: boolean;
  /** What the abort reason said ("probe aborted after N ms"). */
  abortMessage?: string;
}

/** Close the record: connection count, duration, and why it ended early (deadline ≠ abort). */
export function endObservation(obs: Observation, e: RecordEnd): Observation {
  if (e.aborted) obs.errors.push({ phase: 'probe', code: 'RDPROBE_ABORTED', message: e.abortMessage ?? 'probe aborted' });
  else if (e.deadlineMs !== undefined) obs.errors.push({ phase: 'probe', code: 'RDPROBE_PROBE_DEADLINE', message: `probe deadline of ${e.deadlineMs} ms reached` });
  obs.connections = e.connections;
  obs.durationMs = Math.round(performance.now() - e.started);
  return obs;
}

/** Our own bug, kept in the record instead of thrown. */
export function internalError(obs: Observation, phase: Phase, e: unknown): void {
  obs.errors.push({ phase, code: 'RDPROBE_INTERNAL', message: (e as Error)?.stack ?? String(e) });
}
