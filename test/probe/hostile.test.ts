import { afterEach, describe, expect, it } from 'vitest';
import { encodeConnectionConfirm, PROTOCOL_HYBRID, PROTOCOL_SSL } from '../../src/codec/x224.js';
import { runProbe, type ProbeOptions } from '../../src/probe/run-probe.js';
import { fakePeer, openFds, readTpkt, serverTls, type FakePeer } from './fake-peer.js';

// Hostile and broken servers: every probe ends within its deadline with a precise outcome, never throws, and leaves
// no socket behind (the process's descriptor count returns to its baseline).

const PHASE = 600;
const quick: ProbeOptions = { phaseTimeoutMs: PHASE, timeoutMs: 5000, enumerate: false, tlsVersions: false };
const selectSsl = encodeConnectionConfirm({ neg: { kind: 'response', flags: 0x1f, selectedProtocol: PROTOCOL_SSL } });

/** Answers the Connection Request with a Confirm selecting SSL, one byte every 100 ms. */
async function dripConfirm(s: Parameters<Parameters<typeof fakePeer>[0]>[0]): Promise<void> {
  await readTpkt(s);
  for (const b of selectSsl) {
    if (s.destroyed) return;
    s.write(Buffer.of(b));
    await new Promise((r) => setTimeout(r, 100));
  }
}

let peer: FakePeer | undefined;
afterEach(async () => {
  await peer?.close();
  peer = undefined;
});

async function settle(baseline: number): Promise<number> {
  for (let i = 0; i < 50 && openFds() > baseline; i++) await new Promise((r) => setTimeout(r, 20));
  return openFds();
}

describe('probe against hostile peers', () => {
  it('silence after accept → x224 timeout at the phase deadline', async () => {
    peer = await fakePeer(() => {});
    const base = openFds();
    const t = Date.now();
    const obs = await runProbe(`127.0.0.1:${peer.port}`, quick);
    const took = Date.now() - t;
    expect(obs.tcp?.outcome).toBe('open');
    expect(obs.x224?.outcome).toBe('timeout');
    expect(obs.x224?.detail).toMatch(/no answer to the Connection Request within 600 ms/);
    // ended at the phase deadline: not before it (small epsilon), well before a generous bound
    expect(took).toBeGreaterThanOrEqual(PHASE - 20);
    expect(took).toBeLessThan(PHASE + 4000);
    await peer.close();
    expect(await settle(base)).toBeLessThanOrEqual(base);
  });

  it('RST right after the Connection Request → x224 reset', async () => {
    peer = await fakePeer(async (s) => {
      await readTpkt(s);
      s.resetAndDestroy();
    });
    const obs = await runProbe(`127.0.0.1:${peer.port}`, quick);
    expect(obs.tcp?.outcome).toBe('open');
    expect(obs.x224?.outcome).toBe('reset');
    expect(obs.x224?.detail).toMatch(/ECONNRESET/);
  });

  it('FIN right after the Connection Request → x224 closed (not reset, not timeout)', async () => {
    peer = await fakePeer(async (s) => {
      await readTpkt(s);
      s.end();
    });
    const obs = await runProbe(`127.0.0.1:${peer.port}`, quick);
    expect(obs.x224?.outcome).toBe('closed');
  });

  it('a Confirm dripped one byte per 100 ms: timeout with the partial byte count under a short deadline', async () => {
    peer = await fakePeer(dripConfirm);
    const obs = await runProbe(`127.0.0.1:${peer.port}`, { ...quick, tlsVersions: false, credssp: false, mcs: false });
    expect(obs.x224?.outcome).toBe('timeout');
    expect(obs.x224?.bytesReceived).toBeGreaterThanOrEqual(4);
    expect(obs.x224?.bytesReceived).toBeLessThan(19);
    expect(obs.x224?.detail).toMatch(/only \d+ byte\(s\) of the Connection Confirm/);
  });

  it('a Confirm dripped one byte per 100 ms completes under a long enough deadline', async () => {
    peer = await fakePeer(dripConfirm);
    const obs = await runProbe(`127.0.0.1:${peer.port}`, { ...quick, phaseTimeoutMs: 3500, depth: 'negotiate' });
    expect(obs.x224?.outcome).toBe('selected');
    expect(obs.x224?.selected).toBe('SSL');
    expect(obs.x224?.ms).toBeGreaterThan(1500);
  });

  it('TPKT length 65535 then silence → malformed at once, without waiting for the deadline or buffering 64 KiB', async () => {
    peer = await fakePeer(async (s) => {
      await readTpkt(s);
      s.write(Buffer.from([0x03, 0x00, 0xff, 0xff]));
    });
    const t = Date.now();
    const obs = await runProbe(`127.0.0.1:${peer.port}`, { ...quick, phaseTimeoutMs: 10_000, timeoutMs: 20_000 });
    expect(obs.x224?.outcome).toBe('malformed');
    expect(obs.x224?.detail).toMatch(/65535/);
    expect(Date.now() - t).toBeLessThan(5000); // well before the 10 s phase deadline
  });

  it('garbage (an HTTP answer) → malformed, naming the TPKT version byte', async () => {
    peer = await fakePeer(async (s) => {
      await readTpkt(s);
      s.write('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    const obs = await runProbe(`127.0.0.1:${peer.port}`, quick);
    expect(obs.x224?.outcome).toBe('malformed');
    expect(obs.x224?.detail).toMatch(/TPKT\.version/);
  });

  it('a Confirm with an invalid RDP_NEG_RSP length → malformed (zeek rdp-invalid-length pattern)', async () => {
    peer = await fakePeer(async (s) => {
      await readTpkt(s);
      s.write(encodeConnectionConfirm({ neg: { kind: 'response', flags: 3, selectedProtocol: 1 }, negLength: 0 }));
    });
    const obs = await runProbe(`127.0.0.1:${peer.port}`, quick);
    expect(obs.x224?.outcome).toBe('malformed');
    expect(obs.x224?.detail).toMatch(/RDP_NEG_RSP\.length/);
  });

  it('an MCS Disconnect Provider Ultimatum instead of a Confirm (xrdp to RDSAAD) → closed with the reason; enumeration says refused', async () => {
    // bytes xrdp 0.9.21 sent to an RDSAAD-only request in the lab: TPKT(9) + X.224 DT + DPUM rn-user-requested
    peer = await fakePeer(async (s) => {
      const cr = await readTpkt(s);
      const requested = cr.readUInt32LE(cr.length - 4);
      s.write(requested === 0x10 ? Buffer.from('0300000902f0802180', 'hex') : selectSsl);
      s.end();
    });
    const obs = await runProbe(`127.0.0.1:${peer.port}`, { ...quick, enumerate: true, requested: ['RDSAAD'], tlsVersions: false, credssp: false, mcs: false });
    expect(obs.x224?.outcome).toBe('closed');
    expect(obs.x224?.disconnect).toEqual({ kind: 'mcs-disconnect-provider-ultimatum', reason: { value: 3, name: 'rn-user-requested' } });
    expect(obs.protocols?.RDSAAD?.outcome).toBe('refused');
    expect(obs.protocols?.SSL?.outcome).toBe('accepted');
  });

  it('a TLS server that never finishes the handshake → tls stalled at the deadline, probe ends', async () => {
    peer = await fakePeer(async (s) => {
      await readTpkt(s);
      s.write(selectSsl);
      // swallow the ClientHello, answer nothing
      s.on('data', () => {});
      s.resume();
    });
    const base = openFds();
    const t = Date.now();
    const obs = await runProbe(`127.0.0.1:${peer.port}`, quick);
    expect(obs.x224?.selected).toBe('SSL');
    expect(obs.tls?.outcome).toBe('stalled');
    expect(obs.tls?.bytesReceived).toBe(0);
    expect(obs.tls?.stalledAfterMs).toBe(PHASE);
    expect(Date.now() - t).toBeLessThan(PHASE + 4000);
    await peer.close();
    expect(await settle(base)).toBeLessThanOrEqual(base);
  });

  it('a TLS server that sends half a ServerHello record then stops → stalled with the bytes that came', async () => {
    peer = await fakePeer(async (s) => {
      await readTpkt(s);
      s.write(selectSsl);
      s.once('data', () => s.write(Buffer.from([0x16, 0x03, 0x03, 0x05, 0x00, 0x02, 0x00, 0x00])));
      s.resume();
    });
    const obs = await runProbe(`127.0.0.1:${peer.port}`, quick);
    expect(obs.tls?.outcome).toBe('stalled');
    expect(obs.tls?.bytesReceived).toBe(8);
  });

  it('RST after the ClientHello → tls reset; FIN → tls closed', async () => {
    peer = await fakePeer(async (s, i) => {
      await readTpkt(s);
      s.write(selectSsl);
      s.once('data', () => (i % 2 === 0 ? s.resetAndDestroy() : s.end()));
      s.resume();
    });
    const a = await runProbe(`127.0.0.1:${peer.port}`, quick);
    const b = await runProbe(`127.0.0.1:${peer.port}`, quick);
    expect(a.tls?.outcome).toBe('reset');
    expect(b.tls?.outcome).toBe('closed');
  });

  it('CredSSP: a server that goes silent after the TLS handshake → credssp timeout; one that closes → closed', async () => {
    peer = await fakePeer(async (s, i) => {
      await readTpkt(s);
      s.write(encodeConnectionConfirm({ neg: { kind: 'response', flags: 0x1f, selectedProtocol: PROTOCOL_HYBRID } }));
      const t = serverTls(s);
      t.on('data', () => {
        if (i % 2 === 1) t.end();
      });
    });
    const a = await runProbe(`127.0.0.1:${peer.port}`, quick);
    expect(a.tls?.outcome).toBe('ok');
    expect(a.credssp?.outcome).toBe('timeout');
    const b = await runProbe(`127.0.0.1:${peer.port}`, quick);
    expect(b.credssp?.outcome).toBe('closed');
  });

  it('CredSSP: garbage instead of a TSRequest → malformed', async () => {
    peer = await fakePeer(async (s) => {
      await readTpkt(s);
      s.write(encodeConnectionConfirm({ neg: { kind: 'response', flags: 0x1f, selectedProtocol: PROTOCOL_HYBRID } }));
      const t = serverTls(s);
      t.once('data', () => t.write('garbage garbage garbage'));
    });
    const obs = await runProbe(`127.0.0.1:${peer.port}`, quick);
    expect(obs.credssp?.outcome).toBe('malformed');
  });

  it('the whole-probe deadline bounds a full probe against a peer that stalls every phase', async () => {
    peer = await fakePeer(() => {});
    const t = Date.now();
    const obs = await runProbe(`127.0.0.1:${peer.port}`, { phaseTimeoutMs: 10_000, timeoutMs: 800 });
    expect(Date.now() - t).toBeLessThan(5000); // well before the 10 s phase deadline
    expect(obs.errors.map((e) => e.code)).toContain('RDPROBE_PROBE_DEADLINE');
    // an abort of the whole probe is not a phase timeout
    expect(obs.x224?.outcome).toBe('aborted');
    expect(obs.x224?.detail).toBe('probe deadline of 800 ms reached');
  });

  it('TCP refused and a closed port are told apart from silence', async () => {
    const srv = await fakePeer(() => {});
    const port = srv.port;
    await srv.close();
    const obs = await runProbe(`127.0.0.1:${port}`, quick);
    expect(obs.tcp?.outcome).toBe('refused');
    expect(obs.tcp?.errno).toBe('ECONNREFUSED');
    expect(obs.x224).toBeUndefined();
  });

  it('a full probe against 50 hostile peers in a row leaks no descriptors', async () => {
    peer = await fakePeer(async (s, i) => {
      await readTpkt(s);
      if (i % 3 === 0) s.resetAndDestroy();
      else if (i % 3 === 1) s.write(selectSsl);
      else s.end();
    });
    const base = openFds();
    for (let i = 0; i < 50; i++) await runProbe(`127.0.0.1:${peer.port}`, { phaseTimeoutMs: 200, timeoutMs: 3000, enumerate: false, tlsVersions: false });
    await peer.close();
    expect(await settle(base)).toBeLessThanOrEqual(base);
  });
});
