/** PMTU black hole: with and without measurement; the MTU/MSS in the fix commands comes from Observation.pmtu. */
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnose/index.js';
import type { Finding } from '../../src/diagnose/types.js';
import { healthy, make, tlsStalled } from './fixtures.js';

const fixText = (f: Finding, place: string) => f.fixes.filter((x) => x.place === place).map((x) => x.text).join('\n');

describe('PMTU black hole', () => {
  it('measured: high confidence, netsh/ip/iptables use the measured numbers', () => {
    const o = tlsStalled(1200, {
      outcome: 'black-hole',
      bounds: { passes: 1380, lost: 1381 },
      localMtu: 1500,
      interface: 'wg0',
      probes: [{ size: 1380, result: 'ok' }, { size: 1500, result: 'lost' }],
      recommendedMtu: 1380,
      recommendedMss: 1340,
    });
    const d = diagnose(o);
    const f = d.findings[0];
    expect(f).toMatchObject({ id: 'pmtu-black-hole', confidence: 'high', severity: 'error' });
    expect(d.verdict.line).toBe("0x904 (extended 0x7) — PMTU black hole: TCP and X.224 pass, the server's TLS flight stalls after 1200 bytes (path MTU ≈ 1380)");
    expect(fixText(f, 'windows-client')).toContain('netsh interface ipv4 set subinterface "<VPN adapter>" mtu=1380 store=persistent');
    expect(fixText(f, 'linux-macos-client')).toContain('sudo ip link set dev wg0 mtu 1380');
    expect(fixText(f, 'linux-macos-client')).toContain('sudo ifconfig wg0 mtu 1380');
    expect(fixText(f, 'network')).toContain('--set-mss 1340');
    expect(fixText(f, 'network')).toContain('tcp option maxseg size set 1340');
    expect(f.nextProbe).toBeUndefined();
    // The network fix (MSS clamping) comes first.
    expect(f.fixes[0].place).toBe('network');
  });

  it('not measured, but the kernel held the tail of the flight beyond a hole: medium confidence, cites TCP_INFO', () => {
    const o = make(tlsStalled(0), {
      tls: {
        stallEvidence: 'hole',
        stalledAfterMs: 1027,
        kernel: { state: 1, retransmits: 0, rttMs: 0.75, rttVarMs: 1.4, rtoMs: 204, sndMss: 1448, rcvMss: 721, pmtu: 1500, msSinceLastDataRecv: 1028, totalRetrans: 0, bytesInOrder: 19, dataSegmentsIn: 2, outOfOrderPackets: 1 },
      },
    });
    const f = diagnose(o).findings[0];
    expect(f).toMatchObject({ id: 'pmtu-black-hole', confidence: 'medium' });
    expect(f.evidence.find((e) => e.field === 'tls.kernel.outOfOrderPackets')).toMatchObject({ value: 1 });
    expect(f.nextProbe).toBe('rdprobe probe rdp.example.test --pmtu');
  });

  it('not measured: placeholders stay visible and the finding says how to measure', () => {
    const f = diagnose(tlsStalled(0)).findings[0];
    expect(f).toMatchObject({ id: 'pmtu-black-hole', confidence: 'low' });
    expect(fixText(f, 'windows-client')).toContain('mtu=<N> store=persistent');
    expect(fixText(f, 'network')).toContain('--set-mss <MSS>');
    expect(f.nextProbe).toBe('rdprobe probe rdp.example.test --pmtu');
  });

  it('partial flight then silence without DF probes: medium', () => {
    const f = diagnose(tlsStalled(1024)).findings[0];
    expect(f).toMatchObject({ id: 'pmtu-black-hole', confidence: 'medium' });
    expect(f.nextProbe).toContain('--pmtu');
  });

  it('confirmed by clamping the MSS: high, MTU = clamped MSS + 40', () => {
    const o = tlsStalled(0, { outcome: 'skipped', probes: [], mssClamp: { defaultStalled: true, clampedMss: 1300, clampedOk: true } });
    const f = diagnose(o).findings[0];
    expect(f).toMatchObject({ id: 'pmtu-black-hole', confidence: 'high' });
    expect(f.confidenceWhy).toContain('clamped to 1300');
    expect(fixText(f, 'windows-client')).toContain('mtu=1340');
    expect(fixText(f, 'network')).toContain('--set-mss 1300');
  });

  it('stalls even with a clamped MSS: not the path MTU', () => {
    const o = tlsStalled(0, { outcome: 'skipped', probes: [], mssClamp: { defaultStalled: true, clampedMss: 1200, clampedOk: false } });
    expect(diagnose(o).findings[0]).toMatchObject({ id: 'tls-handshake-failed', confidence: 'medium' });
  });

  it('full-size path measured: a black hole is unlikely', () => {
    const o = tlsStalled(0, { outcome: 'measured', pathMtu: 1500, localMtu: 1500, probes: [{ size: 1500, result: 'ok' }] });
    expect(diagnose(o).findings[0]).toMatchObject({ id: 'tls-handshake-failed', confidence: 'low' });
  });

  it('reduced path MTU with ICMP seen from our side: medium (the server side may still drop it)', () => {
    const o = tlsStalled(0, { outcome: 'measured', pathMtu: 1400, localMtu: 1500, probes: [{ size: 1500, result: 'frag-needed', mtu: 1400 }] });
    const f = diagnose(o).findings[0];
    expect(f).toMatchObject({ id: 'pmtu-black-hole', confidence: 'medium' });
    expect(fixText(f, 'windows-client')).toContain('mtu=1400');
  });

  it('IPv6: netsh ipv6 and MSS = MTU − 60', () => {
    const o = tlsStalled(0, { outcome: 'black-hole', pathMtu: 1400, bounds: { passes: 1400, lost: 1401 }, probes: [] });
    o.source.address = '2001:db8::10';
    const f = diagnose(o).findings[0];
    expect(fixText(f, 'windows-client')).toContain('netsh interface ipv6 set subinterface "<VPN adapter>" mtu=1400');
    expect(fixText(f, 'network')).toContain('--set-mss 1340');
  });

  it('black hole found by DF probes while the small TLS flight passed: the session will stall later', () => {
    const o = make(healthy(), {
      tls: { bytesReceived: 1262 },
      pmtu: { outcome: 'black-hole', bounds: { passes: 1400, lost: 1401 }, localMtu: 1500, probes: [], recommendedMtu: 1400 },
    });
    const f = diagnose(o).findings[0];
    expect(f).toMatchObject({ id: 'pmtu-black-hole', severity: 'error', confidence: 'medium' });
    expect(f.summary).toContain('full-size session packets will stall');
  });

  it('black hole found by DF probes, but a full-size TLS flight got through: only a warning', () => {
    const o = make(healthy(), {
      tls: { bytesReceived: 2200 },
      pmtu: { outcome: 'black-hole', bounds: { passes: 1400, lost: 1401 }, localMtu: 1500, probes: [], recommendedMtu: 1400 },
    });
    const d = diagnose(o);
    expect(d.findings[0]).toMatchObject({ id: 'pmtu-black-hole', severity: 'warning', confidence: 'low' });
    expect(d.verdict.healthy).toBe(true);
  });
});
