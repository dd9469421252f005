// MS-RDPEUDP reachability on loopback: the responder test peer (synack), a closed port (ICMP port unreachable →
// ECONNREFUSED on the connected dgram socket), a silent listener, a wrong SYN+ACK.
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeRdpeudpSyn, encodeRdpeudpSynAck, RDPEUDP_SYN_DATAGRAM_LENGTH } from '../../src/codec/rdpeudp.js';
import { probeRdpeudp, randomCorrelationId } from '../../src/transport/udp.js';
import { startResponder, type Responder } from '../peers/rdpeudp-responder.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function responder(opts: { maxVersion?: number } = {}): Promise<Responder & { lines: string[] }> {
  const lines: string[] = [];
  const r = await startResponder({ host: '127.0.0.1', port: 0, log: (l) => lines.push(l), ...opts });
  cleanups.push(() => r.close());
  return Object.assign(r, { lines });
}

/** A UDP socket on 127.0.0.1 that calls `onMessage` and answers what it returns. */
async function peer(onMessage: (m: Buffer) => Uint8Array | undefined): Promise<{ port: number; got: Buffer[] }> {
  const s = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  s.on('message', (m, r) => {
    got.push(m);
    const reply = onMessage(m);
    if (reply) s.send(reply, r.port, r.address);
  });
  await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
  cleanups.push(() => new Promise<void>((res) => s.close(() => res())));
  return { port: s.address().port, got };
}

async function closedPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
  const port = s.address().port;
  await new Promise<void>((res) => s.close(() => res()));
  return port;
}

describe('probeRdpeudp', () => {
  it('the responder answers: synack, version 2, server MTUs and ISN recorded, one SYN of 1232 bytes', async () => {
    const r = await responder();
    // a long retransmit timer: attempts 1 and ms below it mean "answered before any retransmission", load or not
    const o = await probeRdpeudp('127.0.0.1', r.port, { timeoutMs: 3000 });
    expect(o).toMatchObject({ outcome: 'synack', attempts: 1, version: 2, serverMtu: { up: 1232, down: 1232 } });
    expect(o.serverSequence).toBeTypeOf('number');
    expect(o.ms).toBeLessThan(3000);
    expect(r.stats).toMatchObject({ datagrams: 1, syns: 1, synAcks: 1, ignored: 0 });
    expect(r.lines.some((l) => /SYN isn=0x[0-9a-f]+ SYN\|SYNEX 1232 bytes ver=0x2 → SYN\+ACK/.test(l))).toBe(true);
  });

  it('with a correlation id and no SYNDATAEX: version 1 (3.1.5.1.3: v1 when either side omits it)', async () => {
    const r = await responder();
    const o = await probeRdpeudp('127.0.0.1', r.port, { timeoutMs: 500, correlationId: true, version: null });
    expect(o).toMatchObject({ outcome: 'synack', version: 1 });
    expect(r.lines.some((l) => / SYN\|CORRELATION_ID 1232 bytes → /.test(l))).toBe(true);
  });

  it('responder limited to version 1 answers a version-2 SYN with version 1', async () => {
    const r = await responder({ maxVersion: 1 });
    expect(await probeRdpeudp('127.0.0.1', r.port, { timeoutMs: 500 })).toMatchObject({ outcome: 'synack', version: 1 });
  });

  it('closed port: ICMP port unreachable surfaces as ECONNREFUSED → icmp-unreachable, at once', async () => {
    const port = await closedPort();
    // "at once": well before the 5000 ms retransmit timer (generous for a loaded machine)
    const o = await probeRdpeudp('127.0.0.1', port, { timeoutMs: 5000 });
    expect(o).toMatchObject({ outcome: 'icmp-unreachable', unreachable: 'port', attempts: 1 });
    expect(o.ms).toBeLessThan(2500);
  });

  it('a listener that never answers: silent after every attempt, SYNs retransmitted identically', async () => {
    const p = await peer(() => undefined);
    const t = performance.now();
    const o = await probeRdpeudp('127.0.0.1', p.port, { timeoutMs: 150, attempts: 3 });
    expect(o).toMatchObject({ outcome: 'silent', attempts: 3 });
    expect(performance.now() - t).toBeGreaterThanOrEqual(440);
    expect(p.got).toHaveLength(3);
    for (const m of p.got) expect(m.length).toBe(RDPEUDP_SYN_DATAGRAM_LENGTH);
    expect(new Set(p.got.map((m) => m.toString('hex'))).size).toBe(1);
  });

  it('a SYN+ACK for another ISN does not count', async () => {
    const p = await peer((m) => encodeRdpeudpSynAck({ acknowledges: (decodeRdpeudpSyn(m).initialSequenceNumber + 1) >>> 0, initialSequenceNumber: 5 }));
    const o = await probeRdpeudp('127.0.0.1', p.port, { timeoutMs: 150, attempts: 2 });
    expect(o.outcome).toBe('silent');
    expect(o.detail).toMatch(/2 unrelated datagram\(s\) ignored/);
  });

  it('the responder ignores anything that is not a SYN (no reflection)', async () => {
    const r = await responder();
    const s = dgram.createSocket('udp4');
    cleanups.push(() => new Promise<void>((res) => s.close(() => res())));
    let answered = false;
    s.on('message', () => (answered = true));
    await new Promise<void>((res) => s.send(Buffer.alloc(64), r.port, '127.0.0.1', () => res()));
    await new Promise((res) => setTimeout(res, 100));
    expect(answered).toBe(false);
    expect(r.stats.ignored).toBe(1);
  });

  it('validates its arguments', async () => {
    await expect(probeRdpeudp('localhost', 3389)).rejects.toThrow(RangeError);
    await expect(probeRdpeudp('127.0.0.1', 0)).rejects.toThrow(/port/);
    await expect(probeRdpeudp('127.0.0.1', 3389, { attempts: 50 })).rejects.toThrow(/attempts/);
  });

  it('random correlation ids follow 3.1.5.1.1', () => {
    for (let i = 0; i < 200; i++) {
      const c = randomCorrelationId();
      expect(c).toHaveLength(16);
      expect([0x00, 0xf4]).not.toContain(c[0]);
      expect(c.includes(0x0d)).toBe(false);
    }
  });
});
