/**
 * The scan engine as a library: targets (parse, lazy expansion, excludes, shards), the scheduler, the reach prober
 * (re-exported from probe/reach.ts: scan never touches sockets itself), host records, summaries and resume. The CLI (src/cli/commands/scan.ts) is one user of it:
 *
 *   const { set } = buildTargetSet(tokensOf('10.0.0.0/24\n', 'inline'));
 *   const summary = new SummaryBuilder();
 *   await new Scheduler({
 *     concurrency: 128,
 *     hostTimeoutMs: 7000,
 *     probe: (t, ctx) => runProbe(t.key, { address: t.address, depth: 'negotiate', timeoutMs: ctx.timeoutMs, signal: ctx.signal }),
 *     onResult: (r) => summary.add(toHostRecord(r.target, r.observation, r)),
 *   }).run(set.expand());
 */
export { buildTargetSet, collectTokens, formatTargetError, parsePortList, parseTargetToken, TargetSet, TargetSetBuilder, tokensOf, targetKey } from './targets.js';
export type { ScanTarget, TargetError, TargetStats, Token } from './targets.js';
export { parseShard, shardSize, type Shard } from './shard.js';
export { Scheduler, scan, defaultIsSilent, type HostResult, type ProbeContext, type ProbeFn, type SchedulerOptions, type SchedulerStats } from './scheduler.js';
export { createReachProber, probeReach, type ReachProberOptions, type ReachProber, type ReachTarget } from '../probe/reach.js';
export { FdGovernor, readFdLimit } from './fdlimit.js';
export { RateLimiter } from './rate.js';
export {
  HOST_OUTCOMES,
  hostOutcome,
  hostProtocol,
  matchesFailOn,
  parseFailOn,
  SummaryBuilder,
  toHostRecord,
  toRecordDiagnosis,
  type HostOutcome,
  type HostRecord,
  type RecordDiagnosis,
  type ScanSummary,
} from './summary.js';
export { DoneSet, loadResume } from './resume.js';
