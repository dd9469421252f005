/**
 * The path-MTU search, in the spirit of RFC 8899 (DPLPMTUD), with no sockets: confirm a base size first
 * (BASE_PLPMTU; it also gives the RTT that sizes the probe timer), try the largest candidate, follow ICMP
 * "fragmentation needed" hints (RFC 1191 next-hop MTU) when routers send them, and otherwise binary-search between
 * the largest size that passed and the smallest that did not. Every probe has a deadline, a lost size is retried
 * (MAX_PROBES attempts) before it counts as lost, and the whole search is bounded in probe count and time.
 * Pure apart from the injected `send`, clock and sleep: unit-tested with fake paths (test/transport/pmtu-search.test.ts).
 */
import type { PmtuObservation, PmtuProbeResult } from '../observation/types.js';

export type PmtuProbe = PmtuObservation['probes'][number];

/** What one probe of one size found out. */
export interface ProbeOutcome {
  result: PmtuProbeResult;
  /** next-hop MTU (frag-needed) or local MTU (emsgsize) */
  mtu?: number;
  /** who sent the ICMP message */
  from?: string;
  ms: number;
  /** for 'error': what happened (ICMP type/code, errno) */
  detail?: string;
  /** for 'error': the destination answered that it is unreachable; nothing bigger or smaller will pass either */
  fatal?: boolean;
}


export interface SearchParams {
  family: 4 | 6;
  /** Largest size to try. */
  top: number;
  base: number;
  attempts: number;
  maxProbes: number;
  timeoutMs: number;
  minTimeoutMs: number;
  precision: number;
  deadlineAt: number;
  icmpRateLimit?: { burst: number; intervalMs: number };
  signal?: AbortSignal;
  onProbe?: (p: PmtuProbe) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface SearchResult {
  outcome: 'measured' | 'black-hole' | 'unreachable' | 'error';
  pathMtu?: number;
  bounds?: { passes: number; lost: number };
  reportingRouter?: string;
  probes: PmtuProbe[];
  /** Why the search stopped early, ICMP errors seen … */
  notes: string[];
  /** The largest size tried passed (nothing on the path is smaller than `top`). */
  topPassed: boolean;
  /** How the smallest failing size failed. */
  failedBy?: 'lost' | 'frag-needed' | 'emsgsize' | 'error';
}

class Budget extends Error {}

/** Smaller sizes to fall back to when BASE_PLPMTU gets no answer: RFC 791's 576, then a plain ping (84). */
function floors(family: 4 | 6): number[] {
  return family === 4 ? [576, 84] : []; // IPv6 links carry at least 1280 (RFC 8200 §5)
}

export async function searchPmtu(send: (size: number, timeoutMs: number) => Promise<ProbeOutcome>, p: SearchParams): Promise<SearchResult> {
  const now = p.now ?? (() => performance.now());
  const sleep = p.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const probes: PmtuProbe[] = [];
  const notes: string[] = [];
  let maxRtt = 0;
  let lo: number | undefined;
  let hi: number | undefined;
  let failedBy: SearchResult['failedBy'];
  let router: string | undefined;
  let fatal: ProbeOutcome | undefined;

  // Probe timer: the full timeoutMs until an answer gave an RTT, then 4 × the largest RTT + 50 ms (at least
  // minTimeoutMs). A late answer to an earlier attempt at the same size still counts (the probers match it), so
  // retries need no back-off.
  let rttKnown = false;
  const timer = () => Math.min(p.timeoutMs, rttKnown ? Math.max(p.minTimeoutMs, Math.ceil(4 * maxRtt + 50)) : p.timeoutMs);
  // Token bucket mirroring the target's ICMP error rate limit (only for probers that need it).
  const rl = p.icmpRateLimit;
  let tokens = rl?.burst ?? 0;
  let tokensAt = now();
  const pace = async () => {
    if (!rl) return;
    tokens = Math.min(rl.burst, tokens + (now() - tokensAt) / rl.intervalMs);
    tokensAt = now();
    if (tokens >= 1) return;
    const wait = Math.min((1 - tokens) * rl.intervalMs, p.deadlineAt - now());
    if (wait > 0) await sleep(wait);
    tokens = Math.min(rl.burst, tokens + wait / rl.intervalMs);
    tokensAt = now();
  };

  /** One size, retried while lost (up to `attempts`, or `maxAttempts` when given). */
  const probe = async (size: number, maxAttempts = p.attempts): Promise<ProbeOutcome> => {
    let last: ProbeOutcome | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (p.signal?.aborted) throw new Budget('aborted');
      if (probes.length >= p.maxProbes) throw new Budget(`probe budget of ${p.maxProbes} used up`);
      if (now() >= p.deadlineAt) throw new Budget('deadline reached');
      await pace();
      const r = await send(size, timer());
      const entry: PmtuProbe = { size, result: r.result, ms: Math.round(r.ms * 100) / 100 };
      if (r.mtu !== undefined) entry.mtu = r.mtu;
      if (r.from !== undefined) entry.from = r.from;
      probes.push(entry);
      p.onProbe?.(entry);
      if (r.result === 'ok') {
        maxRtt = Math.max(maxRtt, r.ms);
        rttKnown = true;
        if (rl) tokens -= 1;
      }
      if (r.result !== 'lost') return r;
      last = r;
    }
    return last!;
  };

  /** Record a failure of `size`; returns a size hint worth trying next (ICMP next-hop MTU), if any. */
  const failed = (size: number, r: ProbeOutcome): number | undefined => {
    if (hi === undefined || size <= hi) {
      hi = size;
      failedBy = r.result === 'ok' ? undefined : (r.result as SearchResult['failedBy']);
    }
    if (r.result === 'frag-needed' && r.from) router = r.from;
    if (r.result === 'error') {
      if (r.detail && !notes.includes(r.detail)) notes.push(r.detail);
      if (r.fatal) fatal = r;
    }
    if ((r.result === 'frag-needed' || r.result === 'emsgsize') && r.mtu !== undefined && r.mtu > 0 && r.mtu < size) return r.mtu;
    return undefined;
  };

  /** Follow next-hop-MTU hints: a hinted size that passes is exact (the hop said sizes above it do not fit). */
  const followHints = async (hint: number | undefined): Promise<void> => {
    for (let chain = 0; hint !== undefined && chain < 8; chain++) {
      if (lo !== undefined && hint <= lo) return;
      const r = await probe(hint);
      if (r.result === 'ok') {
        lo = hint;
        if (hi !== undefined && hi > hint + 1 && (failedBy === 'frag-needed' || failedBy === 'emsgsize')) hi = hint + 1;
        return;
      }
      hint = failed(hint, r);
      if (fatal) return;
    }
  };

  let stopped: string | undefined;
  try {
    // 1. Something that passes: BASE_PLPMTU (also measures the RTT), then smaller sizes.
    const starts = [Math.min(p.base, p.top), ...floors(p.family).filter((s) => s < Math.min(p.base, p.top))];
    for (const [i, s] of starts.entries()) {
      if (hi !== undefined && s >= hi) continue;
      // the smaller fallbacks only tell "black hole below BASE" from "nothing answers": two tries each do
      const r = await probe(s, i === 0 ? p.attempts : Math.min(2, p.attempts));
      if (r.result === 'ok') {
        lo = s;
        break;
      }
      await followHints(failed(s, r));
      if (fatal || lo !== undefined) break;
    }
    if (fatal) return finish('unreachable');
    if (lo === undefined) {
      notes.push(`no DF probe was answered at any size down to ${starts[starts.length - 1]} bytes`);
      return finish('unreachable');
    }
    // 2. The largest candidate, then ICMP hints.
    if (lo < p.top && (hi === undefined || p.top < hi)) {
      const r = await probe(p.top);
      if (r.result === 'ok') lo = p.top;
      else await followHints(failed(p.top, r));
    }
    // 3. Binary search between what passed and what did not.
    while (!fatal && hi !== undefined && lo !== undefined && hi - lo > (failedBy === 'lost' ? p.precision : 1)) {
      const mid = Math.floor((lo + hi) / 2);
      const r = await probe(mid);
      if (r.result === 'ok') lo = mid;
      else await followHints(failed(mid, r));
    }
  } catch (e) {
    if (!(e instanceof Budget)) throw e;
    stopped = e.message;
    notes.push(`search stopped early: ${e.message}`);
  }
  if (lo === undefined) return finish(stopped || !fatal ? 'error' : 'unreachable');
  if (fatal) {
    notes.push(`the search was interrupted by ${fatal.detail ?? 'an ICMP error'}`);
    return finish('error');
  }
  return finish(hi !== undefined && failedBy === 'lost' ? 'black-hole' : 'measured');

  function finish(outcome: SearchResult['outcome']): SearchResult {
    const res: SearchResult = { outcome, probes, notes, topPassed: lo === p.top && hi === undefined, failedBy };
    if (lo !== undefined && (outcome === 'measured' || outcome === 'black-hole')) res.pathMtu = lo;
    if (outcome === 'black-hole' && lo !== undefined && hi !== undefined) res.bounds = { passes: lo, lost: hi };
    if (router) res.reportingRouter = router;
    if (fatal?.detail && outcome === 'unreachable' && !res.notes.includes(fatal.detail)) res.notes.push(fatal.detail);
    return res;
  }
}
