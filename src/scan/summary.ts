/**
 * Per-host scan records and the scan summary. A record is the Observation plus the few derived fields a scan
 * report sorts and counts by (outcome, protocol, diagnosis); the summary counts records. `merge` rebuilds the same
 * summary from records, so a summary never has to be trusted across files.
 */
import type { Observation } from '../observation/types.js';
import { SCHEMA_VERSION } from '../observation/types.js';
import { VERSION } from '../version.js';

/**
 * What happened to the host, one word, from the deepest phase reached:
 *   rdp            X.224 Connection Confirm with RDP_NEG_RSP (a protocol was selected)
 *   rdp-failure    X.224 Connection Confirm with RDP_NEG_FAILURE (an RDP server refusing the offer)
 *   rdp-legacy     X.224 Connection Confirm without negotiation data (Standard RDP Security only / pre-Vista)
 *   open           TCP open (depth reach: nothing more was asked)
 *   not-rdp        TCP open, but the answer to the Connection Request was a close, a reset or not X.224
 *   no-answer      TCP open, no answer to the Connection Request before the deadline
 *   refused | filtered | unreachable | reset | timeout     TCP outcome (transport/tcp.ts)
 *   tcp-error      any other TCP failure (errno kept in the record)
 *   dns-failed     the name did not resolve (dns.outcome says how)
 *   error          rdprobe itself failed (RDPROBE_INTERNAL in errors)
 */
export type HostOutcome =
  | 'rdp'
  | 'rdp-failure'
  | 'rdp-legacy'
  | 'open'
  | 'not-rdp'
  | 'no-answer'
  | 'refused'
  | 'filtered'
  | 'unreachable'
  | 'reset'
  | 'timeout'
  | 'tcp-error'
  | 'dns-failed'
  | 'error';

export const HOST_OUTCOMES: readonly HostOutcome[] = [
  'rdp',
  'rdp-failure',
  'rdp-legacy',
  'open',
  'not-rdp',
  'no-answer',
  'refused',
  'filtered',
  'unreachable',
  'reset',
  'timeout',
  'tcp-error',
  'dns-failed',
  'error',
];

export function hostOutcome(obs: Observation): HostOutcome {
  if (obs.errors.some((e) => e.code === 'RDPROBE_INTERNAL')) return 'error';
  const x = obs.x224;
  if (x) {
    switch (x.outcome) {
      case 'selected':
        return 'rdp';
      case 'failure':
        return 'rdp-failure';
      case 'legacy':
        return 'rdp-legacy';
      case 'timeout':
      case 'aborted': // the scan's per-host deadline: as before the 'aborted' outcome existed
        return 'no-answer';
      default:
        return 'not-rdp';
    }
  }
  const t = obs.tcp;
  if (t) {
    if (t.outcome === 'open') return 'open';
    if (t.outcome === 'error' || t.outcome === 'aborted') return 'tcp-error';
    return t.outcome;
  }
  if (obs.dns && obs.dns.outcome !== 'ok' && obs.dns.outcome !== 'skipped') return 'dns-failed';
  return 'error';
}

/** `SSL`, `HYBRID`, `failure:HYBRID_REQUIRED_BY_SERVER`, `legacy`, or undefined when X.224 did not answer. */
export function hostProtocol(obs: Observation): string | undefined {
  const x = obs.x224;
  if (!x) return undefined;
  if (x.outcome === 'selected') return String(x.selected ?? `unknown(${x.selectedMask})`);
  if (x.outcome === 'failure') return `failure:${x.failure?.name ?? 'unknown'}`;
  if (x.outcome === 'legacy') return 'legacy';
  return undefined;
}

/** The part of a diagnosis a scan record keeps (the full one is one `rdprobe diagnose` away). */
export interface RecordDiagnosis {
  healthy: boolean;
  status?: string;
  line: string;
  clientError?: string;
  causeId?: string;
  /** Finding ids, most important first. */
  findings: string[];
}

/** Structural view of src/diagnose's Diagnosis, so the scan does not depend on its internals. */
export interface DiagnosisLike {
  verdict: { healthy: boolean; status?: string; line: string; clientError?: string; causeId?: string };
  findings: { id?: string; clientErrors?: { code: string; extended?: string }[] }[];
}

export function toRecordDiagnosis(d: DiagnosisLike): RecordDiagnosis {
  const out: RecordDiagnosis = { healthy: d.verdict.healthy, line: d.verdict.line, findings: [] };
  if (d.verdict.status) out.status = d.verdict.status;
  if (d.verdict.clientError) out.clientError = d.verdict.clientError;
  if (d.verdict.causeId) out.causeId = d.verdict.causeId;
  for (const f of d.findings ?? []) if (f.id) out.findings.push(f.id);
  return out;
}

export interface HostRecord {
  type: 'host';
  /** Canonical `address:port` / `[v6]:port` / `name:port`: the identity for resume and merge. */
  target: string;
  host: string;
  address?: string;
  port: number;
  outcome: HostOutcome;
  protocol?: string;
  diagnosis?: RecordDiagnosis;
  /** Probe attempts (retries for silent hosts count). */
  attempts: number;
  /** Wall time for the host, all attempts. */
  ms: number;
  observation: Observation;
}

export function toHostRecord(
  t: { key: string; host: string; address?: string; port: number },
  obs: Observation,
  extra: { attempts: number; ms: number; diagnosis?: RecordDiagnosis },
): HostRecord {
  const r: HostRecord = { type: 'host', target: t.key, host: t.host, port: t.port, outcome: hostOutcome(obs), attempts: extra.attempts, ms: extra.ms, observation: obs };
  const address = t.address ?? obs.source.address;
  if (address) r.address = address;
  const p = hostProtocol(obs);
  if (p) r.protocol = p;
  if (extra.diagnosis) r.diagnosis = extra.diagnosis;
  // keep a stable key order in JSON: identity, outcome, details, observation last
  return {
    type: r.type,
    target: r.target,
    host: r.host,
    ...(r.address ? { address: r.address } : {}),
    port: r.port,
    outcome: r.outcome,
    ...(r.protocol ? { protocol: r.protocol } : {}),
    ...(r.diagnosis ? { diagnosis: r.diagnosis } : {}),
    attempts: r.attempts,
    ms: r.ms,
    observation: r.observation,
  };
}

/** Diagnosis bucket of a record: the verdict's cause, `healthy`, else the first finding or the verdict status (`inconclusive`). */
export function diagnosisKey(r: HostRecord): string | undefined {
  const d = r.diagnosis;
  if (!d) return undefined;
  if (d.causeId) return d.causeId;
  if (d.healthy) return 'healthy';
  return d.findings[0] ?? d.status ?? 'unclassified';
}

export interface ScanSummary {
  type: 'summary';
  schema: typeof SCHEMA_VERSION;
  tool: { name: 'rdprobe'; version: string };
  startedAt?: string;
  finishedAt: string;
  elapsedMs?: number;
  depth?: string;
  ports?: number[];
  shard?: string;
  /** True when the scan was stopped (Ctrl-C, SIGTERM) before every target was probed. */
  interrupted: boolean;
  targets: {
    /** Targets in this run after dedupe, excludes and sharding (undefined for merges). */
    planned?: number;
    /** Records in this output. */
    hosts: number;
    /** Skipped by --resume (already done). */
    resumed?: number;
    /** Not probed because of the interrupt (resume them with --resume). */
    notScanned?: number;
    duplicates?: number;
    excluded?: number;
    /** Tokens that could not be parsed (with line numbers on stderr). */
    bad?: number;
  };
  /** Hosts per second over the whole run. */
  rate?: number;
  byOutcome: Record<string, number>;
  byProtocol: Record<string, number>;
  byDiagnosis: Record<string, number>;
  byClientError: Record<string, number>;
  /** Hosts matching --fail-on. */
  failOn?: { patterns: string[]; hosts: number };
  /** Merge only: which files, and duplicates dropped across them. */
  merged?: { files: string[]; duplicates: number; interruptedInputs?: number };
}

const inc = (m: Record<string, number>, k: string | undefined) => {
  if (k !== undefined) m[k] = (m[k] ?? 0) + 1;
};

/** Sort a count map by count (desc), then key, for stable output. */
export function sortedCounts(m: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(m).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
}

export class SummaryBuilder {
  hosts = 0;
  readonly byOutcome: Record<string, number> = {};
  readonly byProtocol: Record<string, number> = {};
  readonly byDiagnosis: Record<string, number> = {};
  readonly byClientError: Record<string, number> = {};
  failMatches = 0;

  add(r: HostRecord, failed = false): void {
    this.hosts++;
    inc(this.byOutcome, r.outcome);
    inc(this.byProtocol, r.protocol);
    inc(this.byDiagnosis, diagnosisKey(r));
    if (r.diagnosis && !r.diagnosis.healthy) inc(this.byClientError, r.diagnosis.clientError);
    if (failed) this.failMatches++;
  }

  build(meta: Omit<ScanSummary, 'type' | 'schema' | 'tool' | 'byOutcome' | 'byProtocol' | 'byDiagnosis' | 'byClientError' | 'targets' | 'finishedAt'> & {
    targets?: Omit<ScanSummary['targets'], 'hosts'>;
    finishedAt?: string;
  }): ScanSummary {
    const { targets, finishedAt, ...rest } = meta;
    return {
      type: 'summary',
      schema: SCHEMA_VERSION,
      tool: { name: 'rdprobe', version: VERSION },
      ...rest,
      finishedAt: finishedAt ?? new Date().toISOString(),
      targets: { ...targets, hosts: this.hosts },
      byOutcome: sortedCounts(this.byOutcome),
      byProtocol: sortedCounts(this.byProtocol),
      byDiagnosis: sortedCounts(this.byDiagnosis),
      byClientError: sortedCounts(this.byClientError),
    };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// --fail-on

/**
 * `--fail-on` patterns: a cause id (`nla-required`), a client error code (`0x204`, `0x4/0x0`), or a host outcome
 * (`refused`, `rdp-failure`). A host matches when its diagnosis has that cause (verdict or any finding) or client
 * error, or its outcome is that word. Matching is case-insensitive.
 */
export function parseFailOn(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

export function matchesFailOn(r: HostRecord, patterns: readonly string[]): boolean {
  if (!patterns.length) return false;
  const keys = new Set<string>([r.outcome]);
  const d = r.diagnosis;
  if (d) {
    if (d.causeId) keys.add(d.causeId.toLowerCase());
    for (const f of d.findings) keys.add(f.toLowerCase());
    if (d.clientError && !d.healthy) {
      const ce = d.clientError.toLowerCase();
      keys.add(ce);
      keys.add(ce.split('/')[0]);
    }
  }
  return patterns.some((p) => keys.has(p));
}
