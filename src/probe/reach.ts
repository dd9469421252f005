/**
 * Depth 'reach': DNS (unless an address is given) and one TCP handshake, through a ReachConnector. runProbe uses it
 * for `--depth reach` with the net.Socket connector; scan uses it through createReachProber() with the fast
 * connector (transport/reach.ts: the addon's batch connect engine on its own thread, or net.Socket without it).
 * One code path, one record builder (probe/record.ts): the same outcome gives the same record either way.
 */
import type { Observation, ProtocolName } from '../observation/types.js';
import { resolveTarget } from '../transport/dns.js';
import { createReachConnector, type ReachConnector } from '../transport/reach.js';
import { beginObservation, DEFAULT_REQUESTED, endObservation, internalError, tcpRecord, timelineEntry } from './record.js';

export type { ReachConnector, ReachResult } from '../transport/reach.js';

/** What to probe: scan's ScanTarget fits as is. */
export interface ReachTarget {
  /** Recorded as source.target. */
  key: string;
  host: string;
  port: number;
  /** Probe this address instead of resolving host. */
  address?: string;
  family?: 0 | 4 | 6;
}

export interface ReachProbeOptions {
  /** TCP connect deadline (SYN unanswered → 'filtered'); default min(phaseTimeoutMs, 3000). */
  connectTimeoutMs?: number;
  /** DNS deadline, and recorded in options (default 5000). */
  phaseTimeoutMs?: number;
  /** Deadline for the whole probe (default 30 000): the connect gets what is left of it. */
  timeoutMs?: number;
  /** Recorded in options like every probe does (a reach probe sends no Connection Request). */
  requested?: ProtocolName[];
  cookie?: string | null;
  signal?: AbortSignal;
}

/** Probe reachability of one endpoint. Never throws for anything the network does. */
export async function probeReach(target: ReachTarget, opts: ReachProbeOptions, connector: ReachConnector): Promise<Observation> {
  const started = performance.now();
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const phaseTimeoutMs = opts.phaseTimeoutMs ?? 5_000;
  const connectTimeoutMs = opts.connectTimeoutMs ?? Math.min(phaseTimeoutMs, 3000);
  const obs = beginObservation({
    target: target.key,
    host: target.host,
    port: target.port,
    requested: opts.requested ?? DEFAULT_REQUESTED,
    cookie: opts.cookie ?? null,
    timeoutMs,
    phaseTimeoutMs,
  });
  const phases = obs.options!.phases;
  let connections = 0;
  let deadline = false;
  try {
    let address = target.address;
    if (!address) {
      phases.push('dns');
      const t0 = performance.now();
      obs.dns = await resolveTarget(target.host, { timeoutMs: Math.min(phaseTimeoutMs, timeoutMs), family: target.family });
      obs.timeline.push(timelineEntry('dns', t0 - started, round1(performance.now() - t0), obs.dns.outcome, obs.dns.addresses.map((a) => a.address).join(' ')));
      if (!obs.dns.addresses.length) return obs;
      address = obs.dns.addresses[0].address;
    }
    obs.source.address = address;
    phases.push('tcp');
    const t0 = performance.now();
    const left = Math.max(1, Math.round(timeoutMs - (t0 - started)));
    connections++;
    const r = await connector.connect(address, target.port, target.family ?? 0, Math.min(connectTimeoutMs, left), opts.signal);
    obs.tcp = tcpRecord(address, target.port, r);
    obs.timeline.push(timelineEntry('tcp', t0 - started, r.ms, r.outcome, r.errno));
    deadline = left < connectTimeoutMs && r.errno === 'ETIMEDOUT';
    return obs;
  } catch (e) {
    internalError(obs, 'probe', e);
    return obs;
  } finally {
    endObservation(obs, { connections, started, aborted: opts.signal?.aborted, deadlineMs: deadline ? timeoutMs : undefined });
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;

export interface ReachProberOptions {
  connectTimeoutMs: number;
  phaseTimeoutMs: number;
  /** The per-host deadline (recorded in options). */
  timeoutMs: number;
  /** Aborts every connect in flight and every later one (outcome 'aborted', errno 'ABORTED'). */
  signal?: AbortSignal;
  /** Force the portable net.Socket connector. */
  portable?: boolean;
}

export interface ReachProber {
  probe(t: ReachTarget, attemptTimeoutMs?: number): Promise<Observation>;
  readonly impl: 'native' | 'net';
  readonly inFlight: number;
  close(): Promise<void>;
}

/** scan --depth reach: probeReach over one shared fast connector. */
export function createReachProber(opts: ReachProberOptions): ReachProber {
  const connector = createReachConnector({ engine: opts.portable ? 'net' : 'auto' });
  const base: ReachProbeOptions = { phaseTimeoutMs: opts.phaseTimeoutMs, timeoutMs: opts.timeoutMs, signal: opts.signal };
  return {
    get impl() {
      return connector.impl;
    },
    get inFlight() {
      return connector.inFlight;
    },
    probe(t, attemptTimeoutMs) {
      const connectTimeoutMs = Math.max(1, Math.min(opts.connectTimeoutMs, attemptTimeoutMs ?? opts.timeoutMs, opts.timeoutMs));
      return probeReach(t, { ...base, connectTimeoutMs }, connector);
    },
    close: () => connector.close(),
  };
}
