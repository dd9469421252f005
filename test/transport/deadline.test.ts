import dgram from 'node:dgram';
import { getEventListeners } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runProbe } from '../../src/probe/run-probe.js';
import { Conn } from '../../src/transport/conn.js';
import { deadline, probeDeadlineReason } from '../../src/transport/deadline.js';
import { resolveTarget } from '../../src/transport/dns.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { classifyUdpError, probeRdpeudp } from '../../src/transport/udp.js';
import { fakePeer, type FakePeer } from '../probe/fake-peer.js';

// Deadline tests assert order and generous bounds only: "ended, not before the deadline − a small epsilon, and
// well before a generous bound" — they must hold on a loaded 2-core machine.
const EPS = 15;

const listeners = (s: AbortSignal) => getEventListeners(s, 'abort').length;

let peer: FakePeer | undefined;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  await peer?.close();
  peer = undefined;
  for (const c of cleanups.splice(0)) c();
});

describe('deadline()', () => {
  it('expires with reason timeout, not before its time', async () => {
    const t = performance.now();
    const d = deadline({ timeoutMs: 100 });
    const reason = await new Promise((r) => d.onExpire(r));
    expect(reason).toBe('timeout');
    expect(performance.now() - t).toBeGreaterThanOrEqual(100 - EPS);
    expect(d.expired).toBe(true);
    d.dispose();
  });

  it('an abort is reason aborted, with the signal reason as its detail', async () => {
    const ac = new AbortController();
    const d = deadline({ timeoutMs: 10_000, signal: ac.signal });
    setTimeout(() => ac.abort(probeDeadlineReason(300)), 20);
    expect(await new Promise((r) => d.onExpire(r))).toBe('aborted');
    expect(d.abortDetail()).toBe('probe deadline of 300 ms reached');
    expect(d.abortCode()).toBe('RDPROBE_PROBE_DEADLINE');
    d.dispose();
  });

  it('a plain abort() says how long the operation ran', async () => {
    const ac = new AbortController();
    const d = deadline({ timeoutMs: 10_000, signal: ac.signal });
    ac.abort();
    await new Promise((r) => d.onExpire(r));
    expect(d.abortDetail()).toMatch(/^aborted after \d+ ms$/);
    expect(d.abortCode()).toBe('RDPROBE_ABORTED');
    d.dispose();
  });

  it('an already aborted signal: expired from the start, no listener added', () => {
    const ac = new AbortController();
    ac.abort();
    const d = deadline({ timeoutMs: 1000, signal: ac.signal });
    expect(d.reason).toBe('aborted');
    expect(listeners(ac.signal)).toBe(0);
    d.dispose();
  });

  it('an event in the same turn as the timer wins (expiry is declared a setImmediate later)', async () => {
    const d = deadline({ timeoutMs: 30 });
    const order: string[] = [];
    d.onExpire(() => order.push('expired'));
    // a timer due at the same moment, scheduled after the deadline's: runs in the same timers phase
    await new Promise<void>((r) =>
      setTimeout(() => {
        order.push('io');
        d.dispose();
        r();
      }, 30),
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(order).toEqual(['io']);
  });

  it('dispose stops both the timer and the subscription', async () => {
    const ac = new AbortController();
    const d = deadline({ timeoutMs: 20, signal: ac.signal });
    let fired = false;
    d.onExpire(() => (fired = true));
    expect(listeners(ac.signal)).toBe(1);
    d.dispose();
    expect(listeners(ac.signal)).toBe(0);
    ac.abort();
    await new Promise((r) => setTimeout(r, 60));
    expect(fired).toBe(false);
  });

  it('many deadlines on one signal: one listener on the signal in all, removed when the last ends', async () => {
    const ac = new AbortController();
    const ds = Array.from({ length: 50 }, () => deadline({ timeoutMs: 10_000, signal: ac.signal }));
    expect(listeners(ac.signal)).toBe(1);
    for (const d of ds.slice(0, 49)) d.dispose();
    expect(listeners(ac.signal)).toBe(1);
    ds[49].dispose();
    expect(listeners(ac.signal)).toBe(0);
    // and an abort still reaches every live one
    const live = Array.from({ length: 20 }, () => deadline({ timeoutMs: 10_000, signal: ac.signal }));
    ac.abort();
    const reasons = await Promise.all(live.map((d) => new Promise((r) => d.onExpire(r))));
    expect(reasons.every((r) => r === 'aborted')).toBe(true);
    for (const d of live) d.dispose();
  });
});

describe('operations sharing one signal', () => {
  it('50 concurrent connects and reads on one signal: no MaxListenersExceededWarning, no listener left', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    cleanups.push(() => process.off('warning', onWarning));
    peer = await fakePeer(() => {}); // accepts, then silence
    const ac = new AbortController();
    const one = async () => {
      const t = await connectTcp('127.0.0.1', peer!.port, { timeoutMs: 3000, signal: ac.signal });
      expect(t.outcome).toBe('open');
      const conn = new Conn(t.socket!);
      // several waits per read: the peer sends nothing, the read ends at its deadline
      const r = await conn.read(() => null, 150, ac.signal);
      conn.destroy();
      return r.kind;
    };
    const kinds = await Promise.all(Array.from({ length: 50 }, one));
    expect(kinds.every((k) => k === 'timeout')).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    expect(listeners(ac.signal)).toBe(0);
  });

  it('a read aborted mid-wait is kind aborted, not timeout', async () => {
    peer = await fakePeer(() => {});
    const ac = new AbortController();
    const t = await connectTcp('127.0.0.1', peer.port, { timeoutMs: 3000, signal: ac.signal });
    const conn = new Conn(t.socket!);
    setTimeout(() => ac.abort(probeDeadlineReason(123)), 50);
    const r = await conn.read(() => null, 5000, ac.signal);
    conn.destroy();
    expect(r).toMatchObject({ kind: 'aborted', code: 'RDPROBE_PROBE_DEADLINE', detail: 'probe deadline of 123 ms reached' });
    expect(listeners(ac.signal)).toBe(0);
  });

  it('a connect aborted before it starts is outcome aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    const t = await connectTcp('127.0.0.1', 9, { timeoutMs: 1000, signal: ac.signal });
    expect(t).toMatchObject({ outcome: 'aborted', errno: 'ABORTED' });
  });
});

describe('whole-probe abort', () => {
  it('a peer silent after accept, probe deadline 300 ms, phase deadline 5000 ms → x224 aborted + RDPROBE_PROBE_DEADLINE', async () => {
    peer = await fakePeer(() => {});
    const t = performance.now();
    const obs = await runProbe(`127.0.0.1:${peer.port}`, { timeoutMs: 300, phaseTimeoutMs: 5000, enumerate: false, tlsVersions: false });
    const took = performance.now() - t;
    expect(obs.tcp?.outcome).toBe('open');
    expect(obs.x224?.outcome).toBe('aborted');
    expect(obs.x224?.detail).toBe('probe deadline of 300 ms reached');
    expect(obs.x224?.detail).not.toMatch(/within 5000 ms/);
    expect(obs.errors.map((e) => e.code)).toContain('RDPROBE_PROBE_DEADLINE');
    expect(took).toBeGreaterThanOrEqual(300 - EPS);
    expect(took).toBeLessThan(4000); // far below the 5000 ms phase deadline
  });

  it('a caller abort is RDPROBE_ABORTED with "probe aborted after N ms"', async () => {
    peer = await fakePeer(() => {});
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const obs = await runProbe(`127.0.0.1:${peer.port}`, { timeoutMs: 20_000, phaseTimeoutMs: 5000, enumerate: false, tlsVersions: false, signal: ac.signal });
    expect(obs.x224?.outcome).toBe('aborted');
    expect(obs.x224?.detail).toMatch(/^probe aborted after \d+ ms$/);
    expect(obs.errors.find((e) => e.code === 'RDPROBE_ABORTED')?.message).toMatch(/^probe aborted after \d+ ms$/);
  });
});

describe('DNS with a resolver that never answers', () => {
  async function silentDns(): Promise<{ port: number; queries: () => number }> {
    const s = dgram.createSocket('udp4');
    let n = 0;
    s.on('message', () => n++); // read and drop
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    cleanups.push(() => s.close());
    return { port: s.address().port, queries: () => n };
  }

  it('ends at the phase deadline with outcome timeout', async () => {
    const dns = await silentDns();
    const t = performance.now();
    const obs = await resolveTarget('rdp.example.test', { timeoutMs: 400, servers: [`127.0.0.1:${dns.port}`] });
    const took = performance.now() - t;
    expect(obs.outcome).toBe('timeout');
    expect(dns.queries()).toBeGreaterThan(0);
    expect(took).toBeGreaterThanOrEqual(400 - EPS);
    expect(took).toBeLessThan(3000);
  });

  it('ends at the abort with outcome aborted, not timeout', async () => {
    const dns = await silentDns();
    const ac = new AbortController();
    setTimeout(() => ac.abort(probeDeadlineReason(150)), 150);
    const t = performance.now();
    const obs = await resolveTarget('rdp.example.test', { timeoutMs: 5000, servers: [`127.0.0.1:${dns.port}`], signal: ac.signal });
    expect(obs.outcome).toBe('aborted');
    expect(obs.note).toBe('probe deadline of 150 ms reached');
    expect(performance.now() - t).toBeLessThan(3000);
    expect(listeners(ac.signal)).toBe(0);
  });
});

describe('UDP outcomes', () => {
  it('ICMP port unreachable on 127.0.0.1 (a closed port) → icmp-unreachable, kind port', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as net.AddressInfo).port; // a free port number; nothing binds it on UDP
    s.close();
    const u = await probeRdpeudp('127.0.0.1', port, { timeoutMs: 1000, attempts: 1 });
    expect(u).toMatchObject({ outcome: 'icmp-unreachable', unreachable: 'port' });
  });

  it('an abort is outcome aborted', async () => {
    const s = dgram.createSocket('udp4'); // a silent listener
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    cleanups.push(() => s.close());
    const ac = new AbortController();
    setTimeout(() => ac.abort(probeDeadlineReason(100)), 100);
    const u = await probeRdpeudp('127.0.0.1', s.address().port, { timeoutMs: 2000, attempts: 3, signal: ac.signal });
    expect(u).toMatchObject({ outcome: 'aborted', detail: 'probe deadline of 100 ms reached' });
    expect(listeners(ac.signal)).toBe(0);
  });

  it('errno classification keeps ICMP kinds and local refusals apart', () => {
    const err = (code: string, syscall: string) => Object.assign(new Error(`${syscall} ${code}`), { code, syscall });
    expect(classifyUdpError(err('ECONNREFUSED', 'recvmsg'))).toMatchObject({ outcome: 'icmp-unreachable', unreachable: 'port' });
    expect(classifyUdpError(err('EHOSTUNREACH', 'recvmsg'))).toMatchObject({ outcome: 'icmp-unreachable', unreachable: 'host', errno: 'EHOSTUNREACH' });
    expect(classifyUdpError(err('ENETUNREACH', 'recvmsg'))).toMatchObject({ outcome: 'icmp-unreachable', unreachable: 'net' });
    expect(classifyUdpError(err('EACCES', 'recvmsg'))).toMatchObject({ outcome: 'icmp-unreachable', unreachable: 'prohibited' });
    expect(classifyUdpError(err('ENETUNREACH', 'connect'))).toMatchObject({ outcome: 'local-error', errno: 'ENETUNREACH' });
    expect(classifyUdpError(err('EPERM', 'send'))).toMatchObject({ outcome: 'local-error', errno: 'EPERM' });
    expect(classifyUdpError(err('EACCES', 'send'))).toMatchObject({ outcome: 'local-error', errno: 'EACCES' });
    expect(classifyUdpError(err('EIO', 'send'))).toMatchObject({ outcome: 'error', errno: 'EIO' });
  });
});
