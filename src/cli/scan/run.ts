/**
 * `rdprobe scan`, step 2: the run. Signals (first: stop starting hosts, let in-flight ones finish; second: cancel
 * them), the descriptor governor, the scheduler with the probe for the chosen depth, the progress line.
 */
import { diagnose, type DiagnoseOptions } from '../../diagnose/index.js';
import type { Observation } from '../../observation/types.js';
import { runProbe, type ProbeOptions } from '../../probe/run-probe.js';
import { createReachProber, type ReachProber } from '../../probe/reach.js';
import { FdGovernor } from '../../scan/fdlimit.js';
import { capYoungGeneration } from '../../scan/memory.js';
import { ProgressBar } from '../../scan/progress.js';
import { RateLimiter } from '../../scan/rate.js';
import { Scheduler, type ProbeFn, type SchedulerStats } from '../../scan/scheduler.js';
import { toHostRecord, toRecordDiagnosis, type HostRecord, type RecordDiagnosis } from '../../scan/summary.js';
import { colorFor } from '../options/results.js';
import { pathPhases } from '../phases.js';
import type { Say, ScanConfig } from './config.js';

export interface Interrupts {
  stop: AbortController;
  kill: AbortController;
  /** Remove the signal handlers. */
  off(): void;
}

/** SIGINT/SIGTERM: the first calls `onFirst` and aborts `stop`, the second aborts `kill`. */
export function installInterrupts(onFirst: (sig: NodeJS.Signals) => void): Interrupts {
  const stop = new AbortController();
  const kill = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      onFirst(sig);
      stop.abort();
    } else kill.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stop,
    kill,
    off: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export interface RunHooks {
  say: Say;
  interrupts: Interrupts;
  /** The progress line, once started (shared with the table writer, which draws around it). */
  progress: { bar?: ProgressBar };
  showProgress: boolean;
  /** Live per-outcome counts for the progress line. */
  counts: () => Record<string, number>;
  /** Every finished host; a returned promise pauses the scan (back-pressure of the output). */
  onRecord: (rec: HostRecord) => Promise<void> | undefined;
}

export interface RunResult {
  result: SchedulerStats;
  startedAt: string;
  elapsedMs: number;
  reach?: ReachProber;
}

/** The judge of each host (--no-diagnose: none). */
function judgeFor(cfg: ScanConfig): ((obs: Observation) => RecordDiagnosis) | undefined {
  if (!cfg.o.diagnose) return undefined;
  const opts: DiagnoseOptions = { profile: cfg.o.client, require: cfg.o.require, perProfile: false };
  return (obs) => toRecordDiagnosis(diagnose(obs, opts));
}

export async function runScanLoop(cfg: ScanConfig, hooks: RunHooks): Promise<RunResult> {
  const { o, depth, hostTimeoutMs } = cfg;
  const { stop, kill } = hooks.interrupts;
  const judge = judgeFor(cfg);
  const governor = new FdGovernor({ wanted: o.concurrency, perProbe: depth === 'full' ? 4 : 1 });
  if (governor.limitedAtStart) {
    hooks.say(`rdprobe: --concurrency ${o.concurrency} lowered to ${governor.cap}: the open-file limit is ${governor.limit} (raise it with ulimit -n)`);
  }
  let probeFn: ProbeFn | undefined;
  const sched = new Scheduler({
    probe: (t, ctx) => probeFn!(t, ctx),
    concurrency: o.concurrency,
    rate: o.rate,
    hostTimeoutMs,
    retries: o.retries,
    stop: stop.signal,
    kill: kill.signal,
    graceMs: Math.min(2000, o.timeout),
    skip: cfg.done.size ? (t) => cfg.done.has(t) : undefined,
    governor,
    onResult: (r) => {
      let diagnosis: RecordDiagnosis | undefined;
      if (judge) {
        try {
          diagnosis = judge(r.observation);
        } catch (e) {
          r.observation.errors.push({ phase: 'diagnose', code: 'RDPROBE_INTERNAL', message: (e as Error).stack ?? String(e) });
        }
      }
      return hooks.onRecord(toHostRecord(r.target, r.observation, { attempts: r.attempts, ms: r.ms, diagnosis }));
    },
  });
  const reach = depth === 'reach' ? createReachProber({ connectTimeoutMs: o.timeout, phaseTimeoutMs: o.timeout, timeoutMs: hostTimeoutMs, signal: sched.signal }) : undefined;
  // --path-rate: one slot per host that gets the path phases, taken when the phase starts (after its module loaded)
  const pathLimiter = o.udp || o.pmtu ? new RateLimiter(o.pathRate, 1) : undefined;
  const extraPhases = pathLimiter ? pathPhases({ udp: !!o.udp, pmtu: !!o.pmtu }, () => pathLimiter.take()) : undefined;
  probeFn = (t, ctx) => {
    if (reach && t.address) return reach.probe(t, ctx.timeoutMs);
    const opts: ProbeOptions = {
      address: t.address,
      port: t.port,
      depth,
      timeoutMs: ctx.timeoutMs,
      phaseTimeoutMs: o.timeout,
      connectTimeoutMs: o.timeout,
      cookie: o.cookie ?? null,
      requested: o.offer,
      signal: ctx.signal,
      extraPhases,
    };
    return runProbe(t.key, opts);
  };

  if (hooks.showProgress) {
    hooks.progress.bar = new ProgressBar(
      process.stderr,
      () => ({
        done: sched.live.completed + sched.live.skipped,
        total: cfg.planned,
        active: sched.live.active,
        cap: sched.live.cap,
        backingOff: sched.live.backingOff,
        counts: hooks.counts(),
      }),
      { color: colorFor(process.stderr) },
    ).start();
  }

  if (depth !== 'reach') capYoungGeneration();
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  try {
    const result = await sched.run(cfg.set.expand(cfg.shard));
    return { result, startedAt, elapsedMs: Math.round(performance.now() - t0), reach };
  } finally {
    hooks.progress.bar?.stop();
    hooks.interrupts.off();
    await reach?.close();
  }
}
