import { beforeAll, describe, expect, it } from 'vitest';
import { flushPmtu, LAB_HOSTS, rdprobe } from './helpers.js';

// `rdprobe diagnose` end to end against the lab's real servers: each scenario host yields its expected top finding,
// and healthy hosts are healthy for a client profile that matches them.

interface DiagnosisDoc {
  verdict: { healthy: boolean; status: string; line: string; causeId?: string; clientError?: string };
  findings: { id: string; confidence: string; severity?: string; clientErrors: { code: string; extended?: string }[]; fixes: { place: string; text: string; workaround?: boolean }[] }[];
  perProfile: Record<string, { healthy: boolean; line: string }>;
  observation?: { pmtu?: { mssClamp?: { clampedOk?: boolean; bound?: { passes: number; stalls: number } } }; udp?: { outcome: string } };
}

async function diagnose(target: string, args: string[] = []): Promise<DiagnosisDoc> {
  const r = await rdprobe(['diagnose', target, '--json', ...args], { timeoutMs: 90_000 });
  if (r.code !== 0) throw new Error(`rdprobe diagnose exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as DiagnosisDoc;
}

describe('rdprobe diagnose in the lab', () => {
  it('a name that cannot resolve → 0x104', async () => {
    const d = await diagnose('rdp-host.nx.rdplab.test', ['--phase-timeout', '2000']);
    expect(d.verdict).toMatchObject({ healthy: false, causeId: 'dns-nxdomain' });
    expect(d.verdict.clientError).toMatch(/^0x104\b/);
  });

  it('closed port → 0x204 service stopped / nothing listening', async () => {
    const d = await diagnose(LAB_HOSTS.closed.name);
    expect(d.verdict).toMatchObject({ healthy: false, causeId: 'tcp-refused', clientError: '0x204' });
  });

  it('filtered port → 0x204 firewall', async () => {
    const d = await diagnose(LAB_HOSTS.filtered.name, ['--phase-timeout', '1500']);
    expect(d.verdict).toMatchObject({ healthy: false, causeId: 'tcp-filtered' });
    expect(d.verdict.clientError).toMatch(/0x204|0x108/);
  });

  it('NLA required: healthy for mstsc, 0x4/0x0 security-layer mismatch for mstsc with NLA off', async () => {
    const ok = await diagnose(LAB_HOSTS.nla.name);
    expect(ok.verdict.healthy).toBe(true);
    const off = await diagnose(LAB_HOSTS.nla.name, ['--client', 'mstsc-nla-off']);
    expect(off.verdict).toMatchObject({ healthy: false, causeId: 'nla-required', clientError: '0x4/0x0' });
    expect(off.findings[0].confidence).toBe('high');
    // the secure fix comes first; disabling NLA is only a labelled workaround
    expect(off.findings[0].fixes[0].workaround).toBeFalsy();
    expect(off.findings[0].fixes.filter((f) => /UserAuthentication|Network Level Authentication/.test(f.text)).every((f) => f.workaround)).toBe(true);
    expect(off.perProfile.mstsc.healthy).toBe(true);
  });

  it('xrdp TLS-only: healthy for mstsc, a mismatch for a client that requires Standard RDP Security', async () => {
    const ok = await diagnose(LAB_HOSTS.tls.name);
    expect(ok.verdict.healthy).toBe(true);
    const rdp = await diagnose(LAB_HOSTS.tls.name, ['--require', 'rdp']);
    expect(rdp.verdict).toMatchObject({ healthy: false, causeId: 'tls-required' });
  });

  it('xrdp RDP-only: a mismatch for a client that requires TLS; mstsc falls back to Standard RDP Security', async () => {
    const tls = await diagnose(LAB_HOSTS.rdp.name, ['--require', 'tls']);
    expect(tls.verdict).toMatchObject({ healthy: false, causeId: 'rdp-security-only' });
    const mstsc = await diagnose(LAB_HOSTS.rdp.name);
    expect(mstsc.findings.map((f) => f.id)).toContain('standard-rdp-security');
  });

  describe('path scenarios', () => {
    beforeAll(() => flushPmtu());

    it('PMTU black hole → 0x904/0x7, confirmed by MSS clamping, netsh MTU from the measurement', async () => {
      const d = await diagnose(LAB_HOSTS.blackhole.name, ['--pmtu', '--phase-timeout', '2500']);
      expect(d.verdict).toMatchObject({ healthy: false, causeId: 'pmtu-black-hole', clientError: '0x904/0x7' });
      expect(d.findings[0].confidence).toBe('high');
      const clamp = d.observation?.pmtu?.mssClamp;
      expect(clamp?.clampedOk).toBe(true);
      expect(clamp!.bound!.stalls - clamp!.bound!.passes).toBeLessThanOrEqual(16);
      expect(d.findings[0].fixes.some((f) => /netsh interface ipv4 set subinterface .* mtu=1400 store=persistent/.test(f.text))).toBe(true);
    });

    it('the same path with ICMP delivered (mtu1400) is healthy: PMTUD works', async () => {
      flushPmtu();
      const d = await diagnose(LAB_HOSTS.mtu1400.name, ['--pmtu']);
      expect(d.verdict.healthy).toBe(true);
      expect(d.findings.map((f) => f.id)).not.toContain('pmtu-black-hole');
    });

    it('UDP 3389 dropped while TCP works → UDP finding for mstsc, nothing for FreeRDP (no RDP-UDP client)', async () => {
      const d = await diagnose(LAB_HOSTS.udpdrop.name, ['--udp']);
      expect(d.observation?.udp?.outcome).toBe('silent');
      expect(d.findings.map((f) => f.id)).toContain('udp-blocked');
      const f = await diagnose(LAB_HOSTS.udpdrop.name, ['--udp', '--client', 'freerdp']);
      expect(f.findings.filter((x) => x.id === 'udp-blocked' && x.severity !== 'info')).toHaveLength(0);
    });

    it('UDP answered by the RDPEUDP responder → no UDP finding', async () => {
      const d = await diagnose(LAB_HOSTS.udp.name, ['--udp']);
      expect(d.observation?.udp?.outcome).toBe('synack');
      expect(d.findings.map((f) => f.id)).not.toContain('udp-blocked');
      expect(d.verdict.healthy).toBe(true);
    });
  });
});
