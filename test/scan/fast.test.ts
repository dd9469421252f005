/**
 * The reach path: the connector (src/transport/reach.ts), both engines — the addon's batch connect engine and the
 * portable net.Socket one — against loopback endpoints that are open, closed (RST) and silent (a listener whose
 * accept queue is full and whose process is stopped: the kernel drops further SYNs); and the records scan builds
 * through createReachProber (src/probe/reach.ts), compared byte for byte with what runProbe reports at depth reach.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Observation } from '../../src/observation/types.js';
import { createReachProber, probeReach } from '../../src/probe/reach.js';
import { runProbe } from '../../src/probe/run-probe.js';
import type { ScanTarget } from '../../src/scan/targets.js';
import { createReachConnector, nativeReachAvailable } from '../../src/transport/reach.js';

let open: net.Server;
let openPort = 0;
let closedPort = 0;
let stalled: ChildProcess;
let stalledPort = 0;
const fillers: net.Socket[] = [];
const hasNative = nativeReachAvailable().ok;

const target = (port: number, address = '127.0.0.1'): ScanTarget => ({ key: `${address}:${port}`, host: address, address, family: net.isIP(address) as 4 | 6, port, index: 0 });

beforeAll(async () => {
  open = net.createServer((s) => s.on('error', () => undefined).destroy());
  await new Promise<void>((r) => open.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => r()));
  openPort = (open.address() as net.AddressInfo).port;
  // a port nobody listens on: bind, read the port, close
  const tmp = net.createServer();
  await new Promise<void>((r) => tmp.listen({ host: '127.0.0.1', port: 0 }, () => r()));
  closedPort = (tmp.address() as net.AddressInfo).port;
  await new Promise((r) => tmp.close(r));
  // a listener in a child process with backlog 1, then SIGSTOP: once its accept queue is full, SYNs go unanswered
  stalled = spawn(process.execPath, ['-e', "const s=require('net').createServer(()=>{}).listen({host:'127.0.0.1',port:0,backlog:1},()=>console.log(s.address().port))"], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  stalledPort = await new Promise<number>((r) => stalled.stdout!.once('data', (d) => r(Number(String(d).trim()))));
  stalled.kill('SIGSTOP');
  // fill the accept queue (these complete in the kernel)
  for (let i = 0; i < 3; i++) {
    const s = net.connect({ host: '127.0.0.1', port: stalledPort });
    s.on('error', () => undefined);
    fillers.push(s);
    await new Promise((r) => setTimeout(r, 30));
  }
});

afterAll(async () => {
  for (const s of fillers) s.destroy();
  stalled.kill('SIGKILL');
  await new Promise((r) => open.close(r));
});

/** The record with its timings and timestamps zeroed: what must be byte-identical between two paths. */
function normalised(o: Observation): string {
  return JSON.stringify(o, (k, v) => (k === 'ms' || k === 'at' || k === 'durationMs' ? 0 : k === 'startedAt' ? 'T' : v));
}

const engines = [
  ['native', 'native'],
  ['net.Socket', 'net'],
] as const;

describe.each(engines)('reach connector: %s', (_name, engine) => {
  const skip = engine === 'native' && !hasNative;

  it.skipIf(skip)('open, refused, silent (filtered at its own deadline) and IPv6', async () => {
    const c = createReachConnector({ engine });
    expect(c.impl).toBe(engine);
    try {
      expect(await c.connect('127.0.0.1', openPort, 4, 2000)).toEqual({ outcome: 'open', ms: expect.any(Number) });
      expect(await c.connect('127.0.0.1', closedPort, 0, 2000)).toEqual({
        outcome: 'refused',
        ms: expect.any(Number),
        errno: 'ECONNREFUSED',
        message: `connect ECONNREFUSED 127.0.0.1:${closedPort}`,
      });
      const t0 = performance.now();
      const silent = await c.connect('127.0.0.1', stalledPort, 4, 400);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(390);
      expect(silent).toEqual({ outcome: 'filtered', ms: expect.any(Number), errno: 'ETIMEDOUT', message: 'no answer to SYN within 400 ms' });
      // ::1 may be absent (IPv6 disabled): then the errno says so, and it is not a refusal
      const v6 = await c.connect('::1', closedPort, 6, 2000);
      expect(['ECONNREFUSED', 'EADDRNOTAVAIL', 'EAFNOSUPPORT', 'ENETUNREACH']).toContain(v6.errno);
      expect(c.inFlight).toBe(0);
    } finally {
      await c.close();
    }
  });

  it.skipIf(skip)('many at once, then an abort settles what is in flight as aborted (not as a timeout)', async () => {
    const c = createReachConnector({ engine });
    try {
      const quick = await Promise.all(Array.from({ length: 400 }, (_, i) => c.connect('127.0.0.1', i % 2 ? openPort : closedPort, 4, 10_000)));
      expect(quick.filter((r) => r.outcome === 'open')).toHaveLength(200);
      expect(quick.filter((r) => r.outcome === 'refused')).toHaveLength(200);
      const ac = new AbortController();
      const other = new AbortController();
      const hanging = Promise.all([1, 2, 3].map(() => c.connect('127.0.0.1', stalledPort, 4, 10_000, ac.signal)));
      const unaffected = c.connect('127.0.0.1', stalledPort, 4, 300, other.signal);
      await new Promise((r) => setTimeout(r, 100));
      expect(c.inFlight).toBe(4);
      ac.abort();
      expect((await hanging).map((r) => [r.outcome, r.errno])).toEqual([
        ['aborted', 'ABORTED'],
        ['aborted', 'ABORTED'],
        ['aborted', 'ABORTED'],
      ]);
      expect((await unaffected).errno).toBe('ETIMEDOUT');
      expect(c.inFlight).toBe(0);
      expect((await c.connect('127.0.0.1', openPort, 4, 1000, ac.signal)).errno).toBe('ABORTED');
      // close() settles the rest as aborted too
      const pending = c.connect('127.0.0.1', stalledPort, 4, 10_000);
      await new Promise((r) => setTimeout(r, 20));
      await c.close();
      expect((await pending).errno).toBe('ABORTED');
    } finally {
      await c.close();
    }
  });

  it.skipIf(skip)('descriptor exhaustion comes back as errno EMFILE (the scan backs off on it)', () => {
    // a child with a small descriptor limit fires 200 connects at the silent port at once
    const reach = fileURLToPath(new URL('../../src/transport/reach.ts', import.meta.url));
    const code = `const { createReachConnector } = await import(${JSON.stringify(reach)});
      const c = createReachConnector({ engine: '${engine}' });
      const rs = await Promise.all(Array.from({ length: 200 }, () => c.connect('127.0.0.1', ${stalledPort}, 4, 300)));
      const n = {}; for (const r of rs) n[r.errno ?? r.outcome] = (n[r.errno ?? r.outcome] ?? 0) + 1;
      const emfile = rs.find((r) => r.errno === 'EMFILE');
      console.log(JSON.stringify({ n, emfile }));
      await c.close();`;
    const r = spawnSync('bash', ['-c', `ulimit -n 64 && exec "$0" --import tsx --input-type=module -e "$1"`, process.execPath, code], {
      encoding: 'utf8',
      timeout: 60_000,
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { n: Record<string, number>; emfile?: { outcome: string; errno: string } };
    expect(out.n.EMFILE, JSON.stringify(out.n)).toBeGreaterThan(0);
    expect(out.n.ETIMEDOUT, JSON.stringify(out.n)).toBeGreaterThan(0);
    expect(out.emfile).toMatchObject({ outcome: 'error', errno: 'EMFILE' });
  }, 60_000);
});

describe.each(engines)('reach prober (scan): %s', (_name, engine) => {
  const skip = engine === 'native' && !hasNative;

  it.skipIf(skip)('open, refused and silent give the records runProbe gives at depth reach, byte for byte', async () => {
    const prober = createReachProber({ connectTimeoutMs: 600, phaseTimeoutMs: 600, timeoutMs: 5000, portable: engine === 'net' });
    expect(prober.impl).toBe(engine);
    try {
      for (const [port, outcome, errno] of [
        [openPort, 'open', undefined],
        [closedPort, 'refused', 'ECONNREFUSED'],
        [stalledPort, 'filtered', 'ETIMEDOUT'],
      ] as const) {
        const fast = await prober.probe(target(port));
        expect(fast.tcp?.outcome, `port ${port}`).toBe(outcome);
        expect(fast.tcp?.errno).toBe(errno);
        const direct = await runProbe(`127.0.0.1:${port}`, { address: '127.0.0.1', depth: 'reach', phaseTimeoutMs: 600, timeoutMs: 5000 });
        expect(normalised(fast), `port ${port}`).toBe(normalised(direct));
        expect(fast.timeline).toEqual([{ phase: 'tcp', at: expect.any(Number), ms: fast.tcp!.ms, outcome, ...(errno ? { note: errno } : {}) }]);
      }
    } finally {
      await prober.close();
    }
  });

  it.skipIf(skip)('the scan signal aborts every probe in flight and every later one', async () => {
    const ac = new AbortController();
    const prober = createReachProber({ connectTimeoutMs: 10_000, phaseTimeoutMs: 10_000, timeoutMs: 20_000, portable: engine === 'net', signal: ac.signal });
    try {
      const hanging = Promise.all([prober.probe(target(stalledPort)), prober.probe(target(stalledPort))]);
      await new Promise((r) => setTimeout(r, 100));
      expect(prober.inFlight).toBe(2);
      ac.abort();
      const aborted = await hanging;
      expect(aborted.map((o) => [o.tcp?.outcome, o.tcp?.errno, o.errors.map((e) => e.code)])).toEqual([
        ['aborted', 'ABORTED', ['RDPROBE_ABORTED']],
        ['aborted', 'ABORTED', ['RDPROBE_ABORTED']],
      ]);
      expect(prober.inFlight).toBe(0);
      expect((await prober.probe(target(openPort))).tcp?.errno).toBe('ABORTED');
    } finally {
      await prober.close();
    }
  });
});

describe.skipIf(!hasNative)('native and net engines', () => {
  it('give identical records for open, refused and silent endpoints', async () => {
    const native = createReachConnector({ engine: 'native' });
    const portable = createReachConnector({ engine: 'net' });
    try {
      for (const port of [openPort, closedPort, stalledPort]) {
        const opts = { connectTimeoutMs: 300, phaseTimeoutMs: 300, timeoutMs: 3000 };
        const [a, b] = await Promise.all([probeReach(target(port), opts, native), probeReach(target(port), opts, portable)]);
        expect(normalised(a), `port ${port}`).toBe(normalised(b));
      }
    } finally {
      await native.close();
      await portable.close();
    }
  });

  it('a name is resolved first (dns phase) on both paths alike', async () => {
    const native = createReachConnector({ engine: 'native' });
    try {
      const t = { key: `localhost:${closedPort}`, host: 'localhost', port: closedPort, family: 4 as const };
      const a = await probeReach(t, { phaseTimeoutMs: 2000 }, native);
      const b = await runProbe(`localhost:${closedPort}`, { depth: 'reach', phaseTimeoutMs: 2000, family: 4 });
      expect(a.options?.phases).toEqual(['dns', 'tcp']);
      expect(a.tcp?.outcome).toBe('refused');
      expect(normalised(a)).toBe(normalised(b));
    } finally {
      await native.close();
    }
  });
});
