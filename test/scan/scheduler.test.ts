import { describe, expect, it } from 'vitest';
import type { Observation, TcpOutcome } from '../../src/observation/types.js';
import { FdGovernor } from '../../src/scan/fdlimit.js';
import { RateLimiter, type Clock } from '../../src/scan/rate.js';
import { Scheduler, type HostResult, type ProbeFn } from '../../src/scan/scheduler.js';
import { buildTargetSet, tokensOf, type ScanTarget } from '../../src/scan/targets.js';

const targets = (spec: string) => [...buildTargetSet(tokensOf(spec, 't')).set.expand()];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function obs(t: ScanTarget, outcome: TcpOutcome, errno?: string): Observation {
  return {
    schema: 1,
    tool: { name: 'rdprobe', version: 'test' },
    source: { kind: 'live', target: t.key, host: t.host, port: t.port, address: t.address, startedAt: new Date().toISOString() },
    tcp: { outcome, ms: 1, address: t.address ?? t.host, port: t.port, ...(errno ? { errno } : {}) },
    connections: 1,
    durationMs: 1,
    timeline: [],
    errors: [],
  };
}

/** A governor that never sees the real descriptor table. */
const governor = (wanted: number, limit = 100_000) => new FdGovernor({ wanted, perProbe: 1, limit, openNow: () => 10 });

describe('scheduler', () => {
  it('never has more probes in flight than --concurrency, and probes every target once', async () => {
    const list = targets('10.0.0.0/24');
    let active = 0;
    let peak = 0;
    const seen: string[] = [];
    const probe: ProbeFn = async (t) => {
      active++;
      peak = Math.max(peak, active);
      seen.push(t.key);
      await sleep(Math.random() * 3);
      active--;
      return obs(t, 'open');
    };
    const results: HostResult[] = [];
    const stats = await new Scheduler({ probe, concurrency: 7, hostTimeoutMs: 1000, governor: governor(7), onResult: (r) => void results.push(r) }).run(list);
    expect(peak).toBe(7);
    expect(seen.sort()).toEqual(list.map((t) => t.key).sort());
    expect(results).toHaveLength(256);
    expect(stats).toMatchObject({ completed: 256, skipped: 0, cancelled: 0, interrupted: false, attempts: 256, peakActive: 7 });
  });

  it('pulls targets lazily: the iterator is only ever a concurrency window ahead', async () => {
    let pulled = 0;
    let done = 0;
    let maxAhead = 0;
    function* gen(): Generator<ScanTarget> {
      for (const t of targets('10.0.0.0/26')) {
        pulled++;
        maxAhead = Math.max(maxAhead, pulled - done);
        yield t;
      }
    }
    await new Scheduler({
      probe: async (t) => (await sleep(1), obs(t, 'open')),
      concurrency: 5,
      hostTimeoutMs: 1000,
      governor: governor(5),
      onResult: () => void done++,
    }).run(gen());
    expect(done).toBe(64);
    expect(maxAhead).toBeLessThanOrEqual(6);
  });

  it('respects --rate (new connections per second, retries included)', async () => {
    const starts: number[] = [];
    const t0 = performance.now();
    const rate = 250;
    await new Scheduler({
      probe: async (t) => {
        starts.push(performance.now() - t0);
        return obs(t, 'refused');
      },
      concurrency: 64,
      rate,
      hostTimeoutMs: 1000,
      governor: governor(64),
      onResult: () => undefined,
    }).run(targets('10.0.0.0/26'));
    const burst = Math.max(1, Math.floor(rate / 50));
    // The limiter's guarantee: the k-th connection never starts before its slot, (k − burst) / rate after the
    // first. (A late timer only delays starts, so this holds however loaded the machine is.)
    starts.sort((a, b) => a - b);
    for (let k = 0; k < starts.length; k++) {
      expect(starts[k] - starts[0], `start #${k}`).toBeGreaterThanOrEqual(((k + 1 - burst) * 1000) / rate - 1);
    }
    expect(starts).toHaveLength(64);
  });

  it('rate limiter: one slot per 1/rate, a bounded burst after idle, concurrent takers get distinct slots (fake clock)', async () => {
    let now = 0;
    const waits: number[] = [];
    const clock: Clock = {
      now: () => now,
      sleep: async (ms) => {
        waits.push(ms);
        now += ms;
      },
    };
    const rl = new RateLimiter(100, 1, clock);
    expect(rl.take()).toBeUndefined();
    for (let i = 0; i < 3; i++) await rl.take();
    expect(waits).toEqual([10, 10, 10]);
    expect(now).toBe(30);
    now = 1000; // after a long idle period at most `burst` (1) slots are banked
    expect(rl.take()).toBeUndefined();
    // concurrent takers: distinct slots 10, 20, 30 ms ahead
    waits.length = 0;
    // a clock that never moves: sleeps are recorded and never end
    const frozen: Clock = { now: () => 5000, sleep: (ms) => (waits.push(ms), new Promise<void>(() => undefined)) };
    const rl2 = new RateLimiter(100, 1, frozen);
    expect(rl2.take()).toBeUndefined();
    const pending = [rl2.take(), rl2.take(), rl2.take()];
    expect(pending.every((p) => p instanceof Promise)).toBe(true);
    expect(waits).toEqual([10, 20, 30]);
    const burst = new RateLimiter(1000, 20, frozen);
    let immediate = 0;
    for (let i = 0; i < 30; i++) if (burst.take() === undefined) immediate++;
    expect(immediate).toBe(20);
  });

  it('retries only hosts that stayed silent, within the host deadline', async () => {
    const attempts = new Map<string, number>();
    const probe: ProbeFn = async (t, ctx) => {
      attempts.set(t.key, ctx.attempt);
      const last = Number(t.host.split('.')[3]);
      if (last === 1) return obs(t, 'refused'); // an answer: never retried
      if (last === 2) return obs(t, 'filtered'); // silent every time
      if (last === 3) return obs(t, ctx.attempt < 2 ? 'filtered' : 'open'); // silent once
      if (last === 4) return obs(t, 'reset');
      return obs(t, 'unreachable'); // ICMP: an answer
    };
    const results = new Map<string, HostResult>();
    const stats = await new Scheduler({
      probe,
      concurrency: 4,
      retries: 2,
      hostTimeoutMs: 1000,
      governor: governor(4),
      onResult: (r) => void results.set(r.target.key, r),
    }).run(targets('10.0.0.1-5'));
    expect(Object.fromEntries(attempts)).toEqual({
      '10.0.0.1:3389': 1,
      '10.0.0.2:3389': 3,
      '10.0.0.3:3389': 2,
      '10.0.0.4:3389': 1,
      '10.0.0.5:3389': 1,
    });
    expect(results.get('10.0.0.3:3389')!.observation.tcp!.outcome).toBe('open');
    expect(results.get('10.0.0.3:3389')!.attempts).toBe(2);
    expect(stats.attempts).toBe(8);
  });

  it('passes the time left for the host to each attempt and stops retrying at the deadline', async () => {
    const budgets: number[] = [];
    await new Scheduler({
      probe: async (t, ctx) => {
        budgets.push(ctx.timeoutMs);
        await sleep(300);
        return obs(t, 'filtered');
      },
      concurrency: 1,
      retries: 10,
      hostTimeoutMs: 1000,
      governor: governor(1),
      onResult: () => undefined,
    }).run(targets('10.0.0.1'));
    // Attempts of at least 300 ms each: at most 4 fit in the 1000 ms (0, 300, 600, 900), so 10 retries were cut by
    // the deadline; at least 2 ran unless the first 300 ms sleep took more than 1000 ms (slack for a loaded machine).
    expect(budgets.length).toBeGreaterThanOrEqual(2);
    expect(budgets.length).toBeLessThanOrEqual(4);
    expect(budgets[0]).toBe(1000);
    for (let i = 1; i < budgets.length; i++) expect(budgets[i]).toBeLessThan(budgets[i - 1]);
  });

  it('stop: no new hosts start, in-flight hosts finish and are reported, the rest is counted', async () => {
    const stop = new AbortController();
    const started: string[] = [];
    const results: string[] = [];
    const probe: ProbeFn = async (t) => {
      started.push(t.key);
      await sleep(30);
      return obs(t, 'open');
    };
    const p = new Scheduler({
      probe,
      concurrency: 4,
      hostTimeoutMs: 1000,
      stop: stop.signal,
      graceMs: 1000,
      governor: governor(4),
      onResult: (r) => {
        results.push(r.target.key);
        if (results.length === 6) stop.abort();
      },
    }).run(targets('10.0.0.0/26'));
    const stats = await p;
    expect(stats.interrupted).toBe(true);
    // everything started was finished and reported (grace was long enough)
    expect(results.sort()).toEqual([...started].sort());
    expect(stats.completed).toBe(started.length);
    expect(stats.cancelled).toBe(0);
    expect(started.length).toBeLessThan(64);
    expect(started.length).toBeGreaterThanOrEqual(6);
  });

  it('kill (second Ctrl-C or grace over): in-flight probes are cancelled and not reported', async () => {
    const stop = new AbortController();
    const kill = new AbortController();
    const results: string[] = [];
    const probe: ProbeFn = (t, ctx) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => resolve(obs(t, 'open')), t.host.endsWith('.1') ? 5 : 10_000);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve(obs(t, 'error', 'ABORTED'));
        });
      });
    const run = new Scheduler({
      probe,
      concurrency: 3,
      hostTimeoutMs: 60_000,
      stop: stop.signal,
      kill: kill.signal,
      graceMs: 60_000,
      governor: governor(3),
      onResult: (r) => void results.push(r.target.key),
    }).run(targets('10.0.0.1-9'));
    await sleep(50);
    stop.abort();
    await sleep(20);
    kill.abort();
    const stats = await run;
    // .1 finished before the stop; .2, .3 and .4 (started when .1 freed its slot) were in flight
    expect(results).toEqual(['10.0.0.1:3389']);
    expect(stats.cancelled).toBe(3);
    expect(stats.completed).toBe(1);
    expect(stats.interrupted).toBe(true);
  });

  it('the grace period ends in a cancel by itself', async () => {
    const stop = new AbortController();
    const t0 = performance.now();
    const run = new Scheduler({
      probe: (t, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(obs(t, 'error', 'ABORTED')))),
      concurrency: 2,
      hostTimeoutMs: 60_000,
      stop: stop.signal,
      graceMs: 100,
      governor: governor(2),
      onResult: () => undefined,
    }).run(targets('10.0.0.1-5'));
    await sleep(20);
    stop.abort();
    const stats = await run;
    // the 100 ms grace, not the 60 s host timeout, ended the run (the bound leaves room for a loaded machine)
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(stats.cancelled).toBe(2);
    expect(stats.completed).toBe(0);
  });

  it('skips targets already done (resume) without probing them', async () => {
    const probed: string[] = [];
    const stats = await new Scheduler({
      probe: async (t) => (probed.push(t.key), obs(t, 'open')),
      concurrency: 3,
      hostTimeoutMs: 1000,
      skip: (t) => Number(t.host.split('.')[3]) % 2 === 0,
      governor: governor(3),
      onResult: () => undefined,
    }).run(targets('10.0.0.1-10'));
    expect(probed.sort()).toEqual(['10.0.0.1:3389', '10.0.0.3:3389', '10.0.0.5:3389', '10.0.0.7:3389', '10.0.0.9:3389']);
    expect(stats.skipped).toBe(5);
    expect(stats.completed).toBe(5);
  });

  it('backs off on EMFILE: the target is put back, concurrency drops, nothing is reported as EMFILE', async () => {
    let active = 0;
    let emfiles = 0;
    const gov = governor(40);
    const results: HostResult[] = [];
    const stats = await new Scheduler({
      probe: async (t) => {
        active++;
        try {
          await sleep(2);
          // the "descriptor table" holds 10
          if (active > 10) {
            emfiles++;
            return obs(t, 'error', 'EMFILE');
          }
          return obs(t, 'open');
        } finally {
          active--;
        }
      },
      concurrency: 40,
      hostTimeoutMs: 10_000,
      governor: gov,
      onResult: (r) => void results.push(r),
    }).run(targets('10.0.0.0/25'));
    expect(emfiles).toBeGreaterThan(0);
    expect(stats.requeued).toBe(emfiles);
    expect(results).toHaveLength(128);
    expect(results.every((r) => r.observation.tcp!.outcome === 'open')).toBe(true);
    expect(new Set(results.map((r) => r.target.key)).size).toBe(128);
    expect(gov.cap).toBeLessThan(40);
    expect(gov.backoffs).toBeGreaterThan(0);
  });

  it('sizes concurrency to the descriptor limit at start', () => {
    const g = new FdGovernor({ wanted: 5000, perProbe: 4, limit: 1024, openNow: () => 24 });
    // (1024 − 24 open − 64 reserve) / 4 per probe
    expect(g.cap).toBe(234);
    expect(g.limitedAtStart).toBe(true);
    const roomy = new FdGovernor({ wanted: 256, perProbe: 1, limit: 1 << 20, openNow: () => 24 });
    expect(roomy.cap).toBe(256);
    expect(roomy.limitedAtStart).toBe(false);
  });

  it('governor: halves near the limit, grows back after quiet periods', () => {
    let now = 0;
    let open = 10;
    const g = new FdGovernor({ wanted: 160, perProbe: 1, limit: 1000, openNow: () => open, now: () => now });
    expect(g.cap).toBe(160);
    open = 950;
    g.check();
    expect(g.cap).toBe(80);
    open = 10;
    now += 1000;
    g.check();
    expect(g.cap).toBe(80); // still within 2 s of trouble
    now += 1500;
    g.check();
    expect(g.cap).toBe(90); // + wanted/16
    g.onExhausted(50);
    expect(g.cap).toBe(25);
  });

  it('a probe that throws becomes an error record, the scan goes on', async () => {
    const results: HostResult[] = [];
    await new Scheduler({
      probe: async (t) => {
        if (t.host.endsWith('.2')) throw new Error('bug');
        return obs(t, 'open');
      },
      concurrency: 2,
      hostTimeoutMs: 1000,
      governor: governor(2),
      onResult: (r) => void results.push(r),
    }).run(targets('10.0.0.1-3'));
    expect(results).toHaveLength(3);
    const bad = results.find((r) => r.target.host === '10.0.0.2')!;
    expect(bad.observation.errors[0]).toMatchObject({ code: 'RDPROBE_INTERNAL' });
    expect(bad.observation.errors[0].message).toMatch(/bug/);
  });

  it('backpressure: while the output is busy no new host starts', async () => {
    let release!: () => void;
    let busy = true;
    const startedWhileBusy: string[] = [];
    let n = 0;
    const run = new Scheduler({
      probe: async (t) => {
        if (busy && n > 0) startedWhileBusy.push(t.key);
        return obs(t, 'open');
      },
      concurrency: 1,
      hostTimeoutMs: 1000,
      governor: governor(1),
      onResult: () => {
        n++;
        if (n === 1) return new Promise<void>((r) => (release = r));
        return undefined;
      },
    }).run(targets('10.0.0.1-5'));
    await sleep(50);
    expect(n).toBe(1);
    busy = false;
    release();
    const stats = await run;
    expect(startedWhileBusy).toEqual([]);
    expect(stats.completed).toBe(5);
  });
});
