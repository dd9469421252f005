// The path-MTU search against simulated paths (no sockets): a fake clock and a fake `send` that behaves like a
// path with a given MTU, ICMP delivered or dropped, random loss, a silent host, an ICMP-rate-limited target.
import { describe, expect, it } from 'vitest';
import { searchPmtu, type ProbeOutcome, type SearchParams } from '../../src/transport/pmtu.js';

interface FakePath {
  mtu: number;
  /** routers on the way: each with its MTU; frag-needed delivered or not */
  hops?: { mtu: number; icmp: boolean; from: string; reportMtu?: boolean }[];
  rtt?: number;
  /** deterministic loss: return true to drop this attempt */
  drop?: (size: number, n: number) => boolean;
  /** host answers nothing at all */
  silent?: boolean;
  /** ICMP error from a router for every probe (host unreachable) */
  unreachable?: boolean;
  /** target rate-limits its answers: burst, one per intervalMs */
  rateLimit?: { burst: number; intervalMs: number };
}

function simulate(path: FakePath) {
  let clock = 0;
  let n = 0;
  let tokens = path.rateLimit?.burst ?? 0;
  let tokensAt = 0;
  const rtt = path.rtt ?? 0.2;
  const send = async (size: number, timeoutMs: number): Promise<ProbeOutcome> => {
    n++;
    if (path.unreachable) {
      clock += rtt;
      return { result: 'error', ms: rtt, from: '10.0.0.1', detail: 'ICMP host unreachable from 10.0.0.1', fatal: true };
    }
    for (const hop of path.hops ?? []) {
      if (size > hop.mtu) {
        if (!hop.icmp) break; // dropped silently below
        clock += rtt / 2;
        return { result: 'frag-needed', mtu: hop.reportMtu === false ? undefined : hop.mtu, from: hop.from, ms: rtt / 2 };
      }
    }
    const blackholed = (path.hops ?? []).some((h) => size > h.mtu && !h.icmp) || size > path.mtu;
    let answered = !blackholed && !path.silent && !path.drop?.(size, n);
    if (answered && path.rateLimit) {
      tokens = Math.min(path.rateLimit.burst, tokens + (clock - tokensAt) / path.rateLimit.intervalMs);
      tokensAt = clock;
      if (tokens >= 1) tokens -= 1;
      else answered = false;
    }
    if (answered) {
      clock += rtt;
      return { result: 'ok', ms: rtt };
    }
    clock += timeoutMs;
    return { result: 'lost', ms: timeoutMs };
  };
  const params = (over: Partial<SearchParams> = {}): SearchParams => ({
    family: 4,
    top: 1500,
    base: 1200,
    attempts: 3,
    maxProbes: 48,
    timeoutMs: 1000,
    minTimeoutMs: 100,
    precision: 1,
    deadlineAt: 60_000,
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
    ...over,
  });
  return { send, params, elapsed: () => clock, sent: () => n };
}

describe('searchPmtu', () => {
  it('clean 1500 path: base then top, two probes', async () => {
    const s = simulate({ mtu: 1500 });
    const r = await searchPmtu(s.send, s.params());
    expect(r).toMatchObject({ outcome: 'measured', pathMtu: 1500, topPassed: true });
    expect(r.probes.map((p) => `${p.size}:${p.result}`)).toEqual(['1200:ok', '1500:ok']);
  });

  it('1400 hop with ICMP delivered: exact from the next-hop MTU, three probes', async () => {
    const s = simulate({ mtu: 1500, hops: [{ mtu: 1400, icmp: true, from: '198.19.0.1' }] });
    const r = await searchPmtu(s.send, s.params());
    expect(r).toMatchObject({ outcome: 'measured', pathMtu: 1400, reportingRouter: '198.19.0.1', failedBy: 'frag-needed' });
    expect(r.bounds).toBeUndefined();
    expect(r.probes.map((p) => `${p.size}:${p.result}`)).toEqual(['1200:ok', '1500:frag-needed', '1400:ok']);
  });

  it('two reducing routers: follows the chain of hints', async () => {
    const s = simulate({ mtu: 1500, hops: [{ mtu: 1480, icmp: true, from: 'a' }, { mtu: 1420, icmp: true, from: 'b' }] });
    const r = await searchPmtu(s.send, s.params());
    expect(r).toMatchObject({ outcome: 'measured', pathMtu: 1420, reportingRouter: 'b' });
    expect(r.probes.map((p) => p.size)).toEqual([1200, 1500, 1480, 1420]);
  });

  it('router without a next-hop MTU (pre-RFC 1191): binary search, still exact', async () => {
    const s = simulate({ mtu: 1500, hops: [{ mtu: 1392, icmp: true, from: 'r', reportMtu: false }] });
    const r = await searchPmtu(s.send, s.params());
    expect(r).toMatchObject({ outcome: 'measured', pathMtu: 1392 });
    expect(r.probes.length).toBeLessThanOrEqual(12);
  });

  it('black hole at 1400: detected, bounded exactly, within the probe budget and about a second and a half', async () => {
    const s = simulate({ mtu: 1500, hops: [{ mtu: 1400, icmp: false, from: 'r' }] });
    const r = await searchPmtu(s.send, s.params());
    expect(r).toMatchObject({ outcome: 'black-hole', pathMtu: 1400, bounds: { passes: 1400, lost: 1401 }, failedBy: 'lost' });
    // each lost size was tried `attempts` times
    const lost = r.probes.filter((p) => p.result === 'lost');
    expect(lost.length % 3).toBe(0);
    expect(r.probes.length).toBeLessThanOrEqual(25);
    // 4 lost sizes × 3 attempts × 100 ms timer (RTT 0.2 ms → the 100 ms floor)
    expect(s.elapsed()).toBeLessThan(1500);
  });

  it('black hole with precision 16: bounds within 16 bytes, fewer probes', async () => {
    const s = simulate({ mtu: 1500, hops: [{ mtu: 1436, icmp: false, from: 'r' }] });
    const r = await searchPmtu(s.send, s.params({ precision: 16 }));
    expect(r.outcome).toBe('black-hole');
    expect(r.bounds!.passes).toBeLessThanOrEqual(1436);
    expect(r.bounds!.lost).toBeGreaterThan(1436);
    expect(r.bounds!.lost - r.bounds!.passes).toBeLessThanOrEqual(16);
  });

  it('black hole below BASE_PLPMTU: falls back to 576 and finds it', async () => {
    const s = simulate({ mtu: 1500, hops: [{ mtu: 1000, icmp: false, from: 'r' }] });
    const r = await searchPmtu(s.send, s.params());
    expect(r).toMatchObject({ outcome: 'black-hole', pathMtu: 1000, bounds: { passes: 1000, lost: 1001 } });
    expect(r.probes.slice(0, 4).map((p) => `${p.size}:${p.result}`)).toEqual(['1200:lost', '1200:lost', '1200:lost', '576:ok']);
  });

  it('random loss is retried, not mistaken for a black hole', async () => {
    // drop every 3rd attempt
    const s = simulate({ mtu: 1500, hops: [{ mtu: 1400, icmp: false, from: 'r' }], drop: (_size, n) => n % 3 === 0 });
    const r = await searchPmtu(s.send, s.params());
    expect(r).toMatchObject({ outcome: 'black-hole', pathMtu: 1400, bounds: { passes: 1400, lost: 1401 } });
  });

  it('nothing answers: unreachable after base and the fallbacks, with a bounded number of probes', async () => {
    const s = simulate({ mtu: 1500, silent: true });
    const r = await searchPmtu(s.send, s.params());
    expect(r.outcome).toBe('unreachable');
    expect(r.pathMtu).toBeUndefined();
    expect(r.probes.map((p) => p.size)).toEqual([1200, 1200, 1200, 576, 576, 84, 84]);
    expect(r.notes.join()).toMatch(/no DF probe was answered/);
  });

  it('ICMP host unreachable stops at once', async () => {
    const s = simulate({ mtu: 1500, unreachable: true });
    const r = await searchPmtu(s.send, s.params());
    expect(r.outcome).toBe('unreachable');
    expect(r.probes).toHaveLength(1);
    expect(r.notes).toContain('ICMP host unreachable from 10.0.0.1');
  });

  it('the probe budget bounds the search and says so', async () => {
    const s = simulate({ mtu: 1500, hops: [{ mtu: 1400, icmp: false, from: 'r' }] });
    const r = await searchPmtu(s.send, s.params({ maxProbes: 8 }));
    expect(r.probes).toHaveLength(8);
    expect(r.outcome).toBe('black-hole');
    expect(r.bounds!.lost - r.bounds!.passes).toBeGreaterThan(1);
    expect(r.notes.join()).toMatch(/budget of 8/);
  });

  it('the deadline bounds the search', async () => {
    const s = simulate({ mtu: 1500, silent: true });
    const r = await searchPmtu(s.send, s.params({ deadlineAt: 2500 }));
    expect(r.outcome).toBe('error');
    expect(s.elapsed()).toBeLessThanOrEqual(3500);
    expect(r.notes.join()).toMatch(/deadline/);
  });

  it('abort stops it', async () => {
    const ac = new AbortController();
    const s = simulate({ mtu: 1500, hops: [{ mtu: 1400, icmp: false, from: 'r' }] });
    const r = await searchPmtu(async (size, t) => {
      if (size === 1500) ac.abort();
      return s.send(size, t);
    }, s.params({ signal: ac.signal }));
    expect(r.notes.join()).toMatch(/aborted/);
    expect(r.probes.length).toBeLessThanOrEqual(3);
  });

  it('the first probe waits the full timeout (RTT unknown), later ones adapt to the RTT', async () => {
    const timers: number[] = [];
    const s = simulate({ mtu: 1500, rtt: 40, hops: [{ mtu: 1400, icmp: false, from: 'r' }] });
    await searchPmtu((size, t) => {
      timers.push(t);
      return s.send(size, t);
    }, s.params());
    expect(timers[0]).toBe(1000);
    expect(timers[1]).toBe(4 * 40 + 50);
  });

  it('an ICMP-rate-limited target (UDP method): pacing keeps passes from looking lost', async () => {
    const path: FakePath = { mtu: 1500, hops: [{ mtu: 1400, icmp: false, from: 'r' }], rateLimit: { burst: 3, intervalMs: 1000 } };
    const unpaced = simulate(path);
    const bad = await searchPmtu(unpaced.send, unpaced.params({ attempts: 1 }));
    expect(bad.pathMtu).not.toBe(1400); // without pacing the limiter corrupts the answer
    const paced = simulate(path);
    const good = await searchPmtu(paced.send, paced.params({ attempts: 1, icmpRateLimit: { burst: 3, intervalMs: 1000 } }));
    expect(good).toMatchObject({ outcome: 'black-hole', pathMtu: 1400, bounds: { passes: 1400, lost: 1401 } });
  });

  it('IPv6: no fallbacks below 1280', async () => {
    const s = simulate({ mtu: 1500, silent: true });
    const r = await searchPmtu(s.send, s.params({ family: 6, base: 1280 }));
    expect(r.outcome).toBe('unreachable');
    expect(new Set(r.probes.map((p) => p.size))).toEqual(new Set([1280]));
  });
});
