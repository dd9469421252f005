/**
 * The scan scheduler: pulls targets lazily from an iterator and probes them with bounded concurrency (p-limit, whose
 * bound the descriptor governor may lower and raise while the scan runs), a connection rate limit, a per-host
 * deadline, retries for silent hosts, and a two-stage stop (stop sending → cancel what is in flight).
 *
 * Memory is O(concurrency): a target is taken from the iterator only when a slot is free, and each result is handed
 * to `onResult` (which may apply backpressure by returning a promise) and then dropped.
 */
import { setMaxListeners } from 'node:events';
import pLimit from 'p-limit';
import type { Observation } from '../observation/types.js';
import { FdGovernor, isDescriptorExhaustion } from './fdlimit.js';
import { RateLimiter, realClock, type Clock } from './rate.js';
import type { ScanTarget } from './targets.js';
import { VERSION } from '../version.js';

export interface ProbeContext {
  /** 1 for the first attempt. */
  attempt: number;
  /** Time left for this host (ms): the probe must finish within it. */
  timeoutMs: number;
  /** Aborted when in-flight work is cancelled (second Ctrl-C, or the grace period after the first ran out). */
  signal: AbortSignal;
}

export type ProbeFn = (t: ScanTarget, ctx: ProbeContext) => Promise<Observation>;

export interface HostResult {
  target: ScanTarget;
  observation: Observation;
  attempts: number;
  /** Wall time for the host over all attempts. */
  ms: number;
}

export interface SchedulerOptions {
  probe: ProbeFn;
  concurrency: number;
  /** New connections (probe attempts) per second; undefined or 0 = no limit. */
  rate?: number;
  /** Deadline for one host, all attempts included. */
  hostTimeoutMs: number;
  /** Extra attempts for hosts that stayed silent (see `isSilent`). */
  retries?: number;
  /** Default: TCP got no answer at all (SYN unanswered). Refused, reset and unreachable are answers. */
  isSilent?: (obs: Observation) => boolean;
  /** First stage of stopping: no new hosts are started; in-flight ones get `graceMs` to finish. */
  stop?: AbortSignal;
  graceMs?: number;
  /** Second stage: cancel in-flight probes now. */
  kill?: AbortSignal;
  /** Targets to skip without probing (resume). */
  skip?: (t: ScanTarget) => boolean;
  /** Receives every completed host, in completion order; a returned promise pauses the scan until it settles. */
  onResult: (r: HostResult) => void | Promise<void>;
  /** Descriptor governor; default one sized from RLIMIT_NOFILE with `fdsPerProbe`. */
  governor?: FdGovernor;
  fdsPerProbe?: number;
  /** Called about once a second while the descriptor cap is below the wanted concurrency. */
  onBackoff?: (cap: number, wanted: number) => void;
  clock?: Clock;
  /** How often the governor samples open descriptors (ms). */
  checkEveryMs?: number;
  /** How often a target hitting EMFILE may be put back before its result is accepted as is. */
  maxRequeues?: number;
}

export interface SchedulerStats {
  /** Hosts with a result handed to onResult. */
  completed: number;
  /** Targets skipped by `skip` (resume). */
  skipped: number;
  /** Hosts whose probe was cancelled (no result). */
  cancelled: number;
  /** Targets taken from the iterator but never started because of a stop (the rest of the iterator is not read). */
  notStarted: number;
  /** Probe attempts started (retries and EMFILE re-queues included). */
  attempts: number;
  /** Targets put back after EMFILE/ENFILE. */
  requeued: number;
  interrupted: boolean;
  elapsedMs: number;
  /** Largest number of probes in flight at once. */
  peakActive: number;
  backoffs: number;
}

/** The live counters, readable while the scan runs (progress bar). */
export interface LiveStats {
  completed: number;
  skipped: number;
  active: number;
  cap: number;
  backingOff: boolean;
}

export const defaultIsSilent = (obs: Observation): boolean => obs.tcp?.outcome === 'filtered' || obs.tcp?.outcome === 'timeout';

function exhausted(obs: Observation): boolean {
  return isDescriptorExhaustion(obs.tcp?.errno) || obs.errors.some((e) => isDescriptorExhaustion(e.code) || /\b(EMFILE|ENFILE)\b/.test(e.message));
}

export class Scheduler {
  readonly live: LiveStats = { completed: 0, skipped: 0, active: 0, cap: 0, backingOff: false };
  private readonly cancel = new AbortController();

  constructor(private readonly o: SchedulerOptions) {
    setMaxListeners(0, this.cancel.signal);
  }

  /** Aborted when in-flight probes are cancelled; hand it to probes that are created outside run(). */
  get signal(): AbortSignal {
    return this.cancel.signal;
  }

  async run(targets: Iterable<ScanTarget>): Promise<SchedulerStats> {
    const o = this.o;
    const clock = o.clock ?? realClock;
    const started = clock.now();
    const governor = o.governor ?? new FdGovernor({ wanted: o.concurrency, perProbe: o.fdsPerProbe ?? 1 });
    const limit = pLimit(Math.max(1, governor.cap));
    const rate = o.rate && o.rate > 0 ? new RateLimiter(o.rate, undefined, clock) : undefined;
    const retries = Math.max(0, o.retries ?? 0);
    const isSilent = o.isSilent ?? defaultIsSilent;
    const maxRequeues = o.maxRequeues ?? 8;
    const stats: SchedulerStats = {
      completed: 0,
      skipped: 0,
      cancelled: 0,
      notStarted: 0,
      attempts: 0,
      requeued: 0,
      interrupted: false,
      elapsedMs: 0,
      peakActive: 0,
      backoffs: 0,
    };
    const live = this.live;
    live.cap = governor.cap;

    // --- stopping
    let stopping = false;
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    let wake: (() => void) | null = null;
    const poke = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    const kill = () => {
      if (!this.cancel.signal.aborted) this.cancel.abort();
      poke();
    };
    const onStop = () => {
      if (stopping) return;
      stopping = true;
      stats.interrupted = true;
      graceTimer = setTimeout(kill, o.graceMs ?? 2000);
      poke();
    };
    if (o.stop?.aborted) onStop();
    o.stop?.addEventListener('abort', onStop, { once: true });
    if (o.kill?.aborted) kill();
    o.kill?.addEventListener('abort', kill, { once: true });

    // --- descriptor governor
    const checker = setInterval(() => {
      governor.check();
      limit.concurrency = Math.max(1, governor.cap);
      live.cap = governor.cap;
      live.backingOff = governor.backingOff;
      if (governor.cap < governor.wanted) o.onBackoff?.(governor.cap, governor.wanted);
    }, o.checkEveryMs ?? 1000);
    checker.unref?.();

    // --- the host task
    const requeue: { t: ScanTarget; n: number }[] = [];
    const requeues = new Map<string, number>();
    let sinkBusy: Promise<void> | undefined;
    let inFlight = 0;
    let fatal: unknown;
    let closed = false;

    const host = async (t: ScanTarget): Promise<void> => {
      const t0 = clock.now();
      const deadline = t0 + o.hostTimeoutMs;
      let attempt = 0;
      let obs: Observation;
      for (;;) {
        attempt++;
        stats.attempts++;
        try {
          obs = await o.probe(t, { attempt, timeoutMs: Math.max(1, Math.round(deadline - clock.now())), signal: this.cancel.signal });
        } catch (e) {
          obs = internalErrorObservation(t, e);
        }
        if (this.cancel.signal.aborted) {
          stats.cancelled++;
          return;
        }
        if (exhausted(obs)) {
          const n = (requeues.get(t.key) ?? 0) + 1;
          if (n <= maxRequeues) {
            requeues.set(t.key, n);
            stats.requeued++;
            governor.onExhausted(live.active);
            limit.concurrency = Math.max(1, governor.cap);
            live.cap = governor.cap;
            live.backingOff = true;
            requeue.push({ t, n });
            return;
          }
        }
        if (attempt <= retries && isSilent(obs) && !stopping && clock.now() < deadline) {
          const w = rate?.take();
          if (w) await w;
          continue;
        }
        break;
      }
      requeues.delete(t.key);
      if (closed) return;
      stats.completed++;
      live.completed++;
      const r = o.onResult({ target: t, observation: obs, attempts: attempt, ms: Math.round(clock.now() - t0) });
      if (r && typeof (r as Promise<void>).then === 'function') {
        const p = (r as Promise<void>).catch((e) => {
          fatal ??= e;
          onStop();
        });
        sinkBusy = sinkBusy ? sinkBusy.then(() => p) : p;
      }
    };

    const launch = (t: ScanTarget) => {
      inFlight++;
      live.active = inFlight;
      if (inFlight > stats.peakActive) stats.peakActive = inFlight;
      void limit(host, t).finally(() => {
        inFlight--;
        live.active = inFlight;
        poke();
      });
    };

    const it = targets[Symbol.iterator]();
    let exhaustedInput = false;
    const nextTarget = (): ScanTarget | undefined => {
      if (requeue.length) return requeue.shift()!.t;
      while (!exhaustedInput) {
        const n = it.next();
        if (n.done) {
          exhaustedInput = true;
          return undefined;
        }
        if (o.skip?.(n.value)) {
          stats.skipped++;
          live.skipped++;
          continue;
        }
        return n.value;
      }
      return undefined;
    };
    const waitForSlot = () => new Promise<void>((r) => (wake = r));

    try {
      for (;;) {
        if (stopping) break;
        if (sinkBusy) {
          const b = sinkBusy;
          await b;
          if (sinkBusy === b) sinkBusy = undefined;
          continue;
        }
        if (inFlight >= limit.concurrency) {
          await waitForSlot();
          continue;
        }
        const t = nextTarget();
        if (!t) {
          if (inFlight === 0 && !requeue.length) break;
          await waitForSlot();
          continue;
        }
        const w = rate?.take();
        if (w) await w;
        if (stopping) {
          stats.notStarted++;
          break;
        }
        launch(t);
      }
      // In-flight probes finish, or are cancelled when the grace period ends. A probe that ignores its abort signal
      // for 3 s after that is abandoned (counted as cancelled) rather than hanging the scan.
      let abandonAt = Infinity;
      while (inFlight > 0) {
        if (this.cancel.signal.aborted && abandonAt === Infinity) abandonAt = clock.now() + 3000;
        if (clock.now() >= abandonAt) {
          stats.cancelled += inFlight;
          break;
        }
        const t = setTimeout(poke, 250);
        await waitForSlot();
        clearTimeout(t);
      }
      if (sinkBusy) await sinkBusy;
      if (stopping) stats.notStarted += requeue.length;
    } finally {
      closed = true;
      clearInterval(checker);
      if (graceTimer) clearTimeout(graceTimer);
      o.stop?.removeEventListener('abort', onStop);
      o.kill?.removeEventListener('abort', kill);
    }
    if (fatal) throw fatal;
    stats.backoffs = governor.backoffs;
    stats.elapsedMs = Math.round(clock.now() - started);
    return stats;
  }
}

/** A probe function threw (our bug): keep the host in the output with the error, never crash the scan. */
function internalErrorObservation(t: ScanTarget, e: unknown): Observation {
  return {
    schema: 1,
    tool: { name: 'rdprobe', version: VERSION },
    source: { kind: 'live', target: t.key, host: t.host, port: t.port, startedAt: new Date().toISOString(), ...(t.address ? { address: t.address } : {}) },
    connections: 0,
    durationMs: 0,
    timeline: [],
    errors: [{ phase: 'probe', code: 'RDPROBE_INTERNAL', message: (e as Error)?.stack ?? String(e) }],
  };
}

export function scan(targets: Iterable<ScanTarget>, opts: SchedulerOptions): Promise<SchedulerStats> {
  return new Scheduler(opts).run(targets);
}
