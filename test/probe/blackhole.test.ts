// MSS-clamp black-hole confirmation: the orchestrator with a fake handshake (a simulated path), and the minimal
// X.224 + TLS handshake against scripted peers on 127.0.0.1.
import { describe, expect, it } from 'vitest';
import { pathReport } from '../../src/cli/actions/path.js';
import { probePath } from '../../src/probe/path.js';
import { confirmBlackhole, x224TlsHandshake, type HandshakeResult, type MssAttempt, type MssClampResult } from '../../src/probe/blackhole.js';
import { encodeConnectionConfirm, PROTOCOL_SSL } from '../../src/codec/x224.js';
import { loadNative } from '../../src/transport/native.js';
import { fakePeer, readTpkt, serverTls } from './fake-peer.js';

/** A server→client path: segments of MSS + 40 bytes pass when ≤ mtu (black hole above); default MSS = 1460. */
function fakePath(mtu: number, opts: { stallAlways?: boolean; neverStalls?: boolean; throwAt?: number } = {}) {
  const calls: (number | undefined)[] = [];
  const handshake = async (mss?: number): Promise<HandshakeResult> => {
    calls.push(mss);
    if (opts.throwAt !== undefined && mss === opts.throwAt) throw new Error('ECONNRESET');
    const seg = (mss ?? 1460) + 40;
    const stalled = opts.neverStalls ? false : opts.stallAlways ? true : seg > mtu;
    return { stalled, bytesReceived: stalled ? 1448 : 2200, ms: stalled ? 3000 : 20 };
  };
  return { handshake, calls };
}

/** confirmBlackhole where the check can run: its clamp result (a `notPossible` here fails the test). */
async function confirmed(...a: Parameters<typeof confirmBlackhole>): Promise<MssClampResult> {
  const r = await confirmBlackhole(...a);
  if ('notPossible' in r) throw new Error(`unexpected: ${r.notPossible}`);
  return r;
}

describe('confirmBlackhole', () => {
  it('no stall at the default MSS: nothing to confirm, one handshake', async () => {
    const p = fakePath(1500);
    expect(await confirmed(p.handshake)).toEqual({ defaultStalled: false });
    expect(p.calls).toEqual([undefined]);
  });

  it('1400 black hole: stalls by default, 1360 passes, the search bounds it within 16', async () => {
    const p = fakePath(1400);
    const attempts: MssAttempt[] = [];
    const r = await confirmed(p.handshake, { onAttempt: (a) => attempts.push(a) });
    expect(r).toMatchObject({ defaultStalled: true, clampedOk: true });
    expect(r.bound!.passes).toBe(1360);
    expect(r.bound!.stalls).toBeGreaterThan(1360);
    expect(r.bound!.stalls - r.bound!.passes).toBeLessThanOrEqual(16);
    expect(r.clampedMss).toBe(1360);
    expect(p.calls.slice(0, 2)).toEqual([undefined, 1360]);
    expect(p.calls.length).toBeLessThanOrEqual(8);
    expect(attempts[0]).toMatchObject({ stalled: true, bytesReceived: 1448 });
  });

  it('precision 1 finds the exact MSS', async () => {
    const p = fakePath(1400);
    const r = await confirmed(p.handshake, { precision: 1, maxHandshakes: 20 });
    expect(r.bound).toEqual({ passes: 1360, stalls: 1361 });
  });

  it('a smaller hole: 1360 stalls too, falls back to 1200 and searches between', async () => {
    const p = fakePath(1280);
    const r = await confirmed(p.handshake, { precision: 8, maxHandshakes: 12 });
    expect(p.calls.slice(0, 3)).toEqual([undefined, 1360, 1200]);
    expect(r).toMatchObject({ defaultStalled: true, clampedOk: true });
    expect(r.bound!.passes).toBeLessThanOrEqual(1240);
    expect(r.bound!.stalls).toBeGreaterThan(1240);
    expect(r.bound!.stalls - r.bound!.passes).toBeLessThanOrEqual(8);
  });

  it('stalls whatever the MSS: not a PMTU problem', async () => {
    const p = fakePath(1400, { stallAlways: true });
    const r = await confirmed(p.handshake);
    expect(r).toEqual({ defaultStalled: true, clampedOk: false, clampedMss: 536 });
    expect(p.calls).toEqual([undefined, 1360, 1200, 1000, 536]);
  });

  it('bounded: never more than maxHandshakes', async () => {
    const p = fakePath(1400);
    await confirmed(p.handshake, { precision: 1, maxHandshakes: 4 });
    expect(p.calls).toHaveLength(4);
  });

  it('a clamped handshake that throws counts as not passing; a default one that fails means the check is not possible', async () => {
    const p = fakePath(1400, { throwAt: 1360 });
    const attempts: MssAttempt[] = [];
    const r = await confirmed(p.handshake, { onAttempt: (a) => attempts.push(a) });
    expect(attempts[1]).toMatchObject({ mss: 1360, stalled: true, error: 'ECONNRESET' });
    expect(r.bound!.passes).toBeLessThan(1360);
    expect(await confirmBlackhole(async () => Promise.reject(new Error('TCP refused')))).toEqual({ notPossible: 'TCP refused' });
    const failing = fakePath(1400);
    let n = 0;
    const r2 = await confirmBlackhole(async (mss) => (n++, mss === undefined ? { stalled: false, bytesReceived: 0, ms: 1, failure: 'TCP refused (ECONNREFUSED)' } : failing.handshake(mss)));
    expect(r2).toEqual({ notPossible: 'TCP refused (ECONNREFUSED)' });
    expect(n).toBe(1);
  });
});

const CC_SSL = encodeConnectionConfirm({ neg: { kind: 'response', selectedProtocol: PROTOCOL_SSL } });

describe.skipIf(loadNative().addon === null)('x224TlsHandshake against fake peers', () => {
  it('completes (default and clamped MSS): not stalled, server flight counted', async () => {
    const peer = await fakePeer(async (s) => {
      const cr = await readTpkt(s);
      expect(cr.subarray(11)).toEqual(Buffer.from([0x01, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00])); // RDP_NEG_REQ SSL
      s.write(CC_SSL);
      s.resume();
      serverTls(s);
    });
    try {
      const hs = x224TlsHandshake('127.0.0.1', peer.port, { stallMs: 3000 });
      for (const mss of [undefined, 1360]) {
        const r = await hs(mss);
        expect(r.stalled).toBe(false);
        expect(r.bytesReceived).toBeGreaterThan(500); // ServerHello + certificate
      }
    } finally {
      await peer.close();
    }
  });

  it('a server that goes quiet after the Connection Confirm: stalled at the deadline', async () => {
    const peer = await fakePeer(async (s) => {
      await readTpkt(s);
      s.write(CC_SSL);
      s.resume(); // swallow the ClientHello, answer nothing
    });
    try {
      const r = await x224TlsHandshake('127.0.0.1', peer.port, { stallMs: 300 })(1360);
      expect(r).toMatchObject({ stalled: true, bytesReceived: 0 });
      expect(r.ms).toBeGreaterThanOrEqual(290);
    } finally {
      await peer.close();
    }
  });

  it('no TLS on offer, or refused: a failure as data (the stall question does not arise)', async () => {
    const peer = await fakePeer(async (s) => {
      await readTpkt(s);
      s.end(encodeConnectionConfirm({ neg: { kind: 'failure', code: 5 } }));
    });
    try {
      const r = await x224TlsHandshake('127.0.0.1', peer.port)();
      expect(r.failure).toMatch(/did not select TLS \(RDP_NEG_FAILURE 5\)/);
      expect(r.stalled).toBe(false);
      const clamped = await x224TlsHandshake('127.0.0.1', peer.port)(1360);
      expect(clamped.failure).toMatch(/did not select TLS \(RDP_NEG_FAILURE 5\)/);
    } finally {
      await peer.close();
    }
    const gone = await fakePeer(() => undefined);
    const port = gone.port;
    await gone.close();
    for (const mss of [undefined, 1360]) {
      const r = await x224TlsHandshake('127.0.0.1', port)(mss);
      expect(r.failure, String(mss)).toBe('TCP refused (ECONNREFUSED)');
    }
  });
});

describe('probePath (rdprobe path as an Observation)', () => {
  it('DNS, path MTU, and a clamp check that cannot run recorded as data; the path view keeps its shape', async () => {
    const gone = await fakePeer(() => undefined);
    const port = gone.port;
    await gone.close();
    const attempts: MssAttempt[] = [];
    const obs = await probePath(`127.0.0.1:${port}`, { confirm: true, pmtuOptions: { timeoutMs: 200, attempts: 1 }, onAttempt: (a) => attempts.push(a) });
    expect(obs.options?.phases).toEqual(['dns', 'pmtu']);
    expect(obs.source).toMatchObject({ target: `127.0.0.1:${port}`, host: '127.0.0.1', port, address: '127.0.0.1' });
    expect(obs.dns?.outcome).toBe('skipped');
    expect(obs.pmtu?.outcome).toMatch(/^(measured|unprivileged)$/);
    expect(obs.pmtu?.mssClamp).toBeUndefined();
    expect(obs.errors).toEqual([{ phase: 'mss-clamp', code: 'RDPROBE_MSS_CLAMP', message: 'TCP refused (ECONNREFUSED)' }]);
    expect(obs.connections).toBe(1);
    expect(attempts).toEqual([]);
    const view = pathReport(obs, '127.0.0.1', attempts);
    expect(view).toMatchObject({ address: '127.0.0.1', port, mssAttempts: [], notes: ['MSS-clamp check not possible: TCP refused (ECONNREFUSED)'] });
    expect(view.advice).toBeUndefined(); // loopback: nothing wrong with the path
  });

  it('a name that does not resolve: only the dns phase, and the note says so', async () => {
    const obs = await probePath('nonexistent.invalid', { phaseTimeoutMs: 3000 });
    expect(obs.options?.phases).toEqual(['dns']);
    expect(obs.pmtu).toBeUndefined();
    const view = pathReport(obs, 'nonexistent.invalid', []);
    expect(view.notes[0]).toMatch(/^nonexistent\.invalid does not resolve \(/);
  });
});
