/**
 * The reach prober (src/scan/fast.ts), both engines — the tcp_wrap worker and the portable net.Socket path — against
 * loopback endpoints that are open, closed (RST) and silent (a listener whose accept queue is full and whose process
 * is stopped: the kernel drops further SYNs), compared with what runProbe reports at depth reach.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Observation } from '../../src/observation/types.js';
import { runProbe } from '../../src/probe/run-probe.js';
import { createReachProber, tcpWrap } from '../../src/scan/fast.js';
import type { ScanTarget } from '../../src/scan/targets.js';

let open: net.Server;
let openPort = 0;
let closedPort = 0;
let stalled: ChildProcess;
let stalledPort = 0;
const fillers: net.Socket[] = [];

const target = (port: number): ScanTarget => ({ key: `127.0.0.1:${port}`, host: '127.0.0.1', address: '127.0.0.1', family: 4, port, index: 0 });

beforeAll(async () => {
  open = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => open.listen({ host: '127.0.0.1', port: 0 }, () => r()));
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

/** Observation fields that must agree, without timings, timestamps and the tool version. */
function essence(o: Observation) {
  const { tcp, source, options, timeline } = o;
  return {
    source: { ...source, startedAt: typeof source.startedAt },
    options,
    tcp: { ...tcp, ms: typeof tcp?.ms },
    timeline: timeline.map((e) => ({ ...e, at: typeof e.at, ms: typeof e.ms })),
    connections: o.connections,
    errors: o.errors,
    dns: o.dns,
    x224: o.x224,
  };
}

const engines = [
  ['tcp_wrap worker', false],
  ['portable net.Socket', true],
] as const;

describe.each(engines)('reach prober: %s', (_name, portable) => {
  it('open, refused and silent agree with runProbe at depth reach', async () => {
    if (!portable && !tcpWrap()) return; // the binding is gone in this Node: only the portable engine exists
    const prober = createReachProber({ connectTimeoutMs: 600, phaseTimeoutMs: 600, timeoutMs: 5000, portable });
    expect(prober.impl).toBe(portable ? 'net' : 'tcp_wrap-worker');
    try {
      for (const [port, outcome, errno] of [
        [openPort, 'open', undefined],
        [closedPort, 'refused', 'ECONNREFUSED'],
        [stalledPort, 'filtered', 'ETIMEDOUT'],
      ] as const) {
        const t0 = performance.now();
        const fast = await prober.probe(target(port));
        const took = performance.now() - t0;
        expect(fast.tcp?.outcome, `port ${port}`).toBe(outcome);
        expect(fast.tcp?.errno).toBe(errno);
        if (outcome === 'filtered') {
          expect(took).toBeGreaterThanOrEqual(590);
          expect(took).toBeLessThan(3000);
        }
        const direct = await runProbe(`127.0.0.1:${port}`, { address: '127.0.0.1', depth: 'reach', phaseTimeoutMs: 600, timeoutMs: 5000 });
        expect(essence(fast), `port ${port}`).toEqual(essence(direct));
      }
    } finally {
      await prober.close();
    }
  });

  it('many at once, and an abort resolves everything in flight', async () => {
    if (!portable && !tcpWrap()) return;
    const ac = new AbortController();
    const prober = createReachProber({ connectTimeoutMs: 10_000, phaseTimeoutMs: 10_000, timeoutMs: 20_000, portable, signal: ac.signal });
    try {
      const quick = await Promise.all(Array.from({ length: 200 }, (_, i) => prober.probe(target(i % 2 ? openPort : closedPort))));
      expect(quick.filter((o) => o.tcp?.outcome === 'open')).toHaveLength(100);
      expect(quick.filter((o) => o.tcp?.outcome === 'refused')).toHaveLength(100);
      const hanging = Promise.all([prober.probe(target(stalledPort)), prober.probe(target(stalledPort))]);
      await new Promise((r) => setTimeout(r, 100));
      expect(prober.inFlight).toBe(2);
      ac.abort();
      const aborted = await hanging;
      expect(aborted.map((o) => [o.tcp?.outcome, o.tcp?.errno])).toEqual([
        ['aborted', 'ABORTED'],
        ['aborted', 'ABORTED'],
      ]);
      expect(prober.inFlight).toBe(0);
      // after an abort, nothing new starts
      const late = await prober.probe(target(openPort));
      expect(late.tcp?.errno).toBe('ABORTED');
    } finally {
      await prober.close();
    }
  });
});
