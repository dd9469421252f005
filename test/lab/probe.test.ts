import { beforeAll, describe, expect, it } from 'vitest';
import type { Observation } from '../../src/observation/types.js';
import { LAB_HOSTS, NLA_PASSWORD, NLA_USER, rdprobe } from './helpers.js';

// `rdprobe probe` against the real servers of the lab, run from the lab's client namespace. The expectations are
// what the servers really do (shared/LAB-NOTES.md, lab/README.md), including the cases where nmap 7.93 is wrong.

async function probe(target: string, extra: string[] = [], env?: NodeJS.ProcessEnv): Promise<Observation> {
  const r = await rdprobe(['probe', target, '--json', ...extra], { timeoutMs: 60_000, env });
  if (r.code !== 0) throw new Error(`rdprobe exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Observation;
}

describe('rdprobe probe in the lab', () => {
  const seen: Partial<Record<string, Observation>> = {};
  beforeAll(async () => {
    const names = ['tls', 'rdp', 'nla'] as const;
    const results = await Promise.all(names.map((n) => probe(LAB_HOSTS[n].name)));
    names.forEach((n, i) => (seen[n] = results[i]));
  });

  it('xrdp TLS-only: SSL selected, every other protocol refused with SSL_REQUIRED_BY_SERVER, TLS 1.2/1.3 only', () => {
    const o = seen.tls!;
    expect(o.dns?.addresses.map((a) => a.address)).toEqual([LAB_HOSTS.tls.address]);
    expect(o.tcp?.outcome).toBe('open');
    expect(o.x224?.outcome).toBe('selected');
    expect(o.x224?.selected).toBe('SSL');
    expect(o.x224?.sourceRef).toBe(0x1234); // xrdp's fingerprint (LAB-NOTES)
    expect(o.protocols?.RDP).toMatchObject({ outcome: 'failure', failure: { name: 'SSL_REQUIRED_BY_SERVER', value: 1 } });
    expect(o.protocols?.SSL?.outcome).toBe('accepted');
    expect(o.protocols?.HYBRID).toMatchObject({ outcome: 'failure', failure: { name: 'SSL_REQUIRED_BY_SERVER' } });
    expect(o.security).toMatchObject({ tlsRequired: true, tlsSupported: true, nlaSupported: false, nlaRequired: false, standardRdpAllowed: false });
    expect(o.tls?.outcome).toBe('ok');
    expect(o.tls?.version).toBe('TLSv1.3');
    expect(o.tls?.certificate).toMatchObject({ subjectCN: 'tls.rdplab.test', keyType: 'rsa', keyBits: 2048, selfSigned: true, expired: false });
    expect(o.tls?.versions?.['TLSv1.2']?.outcome).toBe('accepted');
    expect(o.tls?.versions?.['TLSv1.3']?.outcome).toBe('accepted');
    expect(o.tls?.versions?.TLSv1?.outcome).toBe('rejected');
    expect(o.tls?.versions?.['TLSv1.1']?.outcome).toBe('rejected');
    // MCS inside TLS: nmap 7.93 fails with "Script execution failed" on this host
    expect(o.mcs).toMatchObject({ outcome: 'ok', via: 'tls', rdpVersion: { value: 0x00080004 }, encryptionMethod: { value: 0 } });
    expect(o.credssp).toBeUndefined();
  });

  it('xrdp RDP-only: every request answered by selecting PROTOCOL_RDP, which is not acceptance (nmap says SUCCESS)', () => {
    const o = seen.rdp!;
    expect(o.x224?.selected).toBe('RDP');
    expect(o.protocols?.RDP?.outcome).toBe('accepted');
    for (const p of ['SSL', 'HYBRID', 'HYBRID_EX', 'RDSTLS'] as const) {
      expect(o.protocols?.[p]).toMatchObject({ outcome: 'not-selected', selected: 'RDP' });
    }
    expect(o.security).toMatchObject({ standardRdpAllowed: true, tlsSupported: false, tlsRequired: false, nlaSupported: false });
    expect(o.tls).toBeUndefined();
    expect(o.mcs).toMatchObject({
      outcome: 'ok',
      via: 'plain',
      rdpVersion: { value: 0x00080004 },
      encryptionMethod: { name: '128BIT' },
      encryptionLevel: { name: 'HIGH' },
      serverRandomLength: 32,
    });
    expect(o.mcs?.serverCertificate?.keyBits).toBe(2048); // /etc/xrdp/rsakeys.ini
    // xrdp ignores the offered method and always answers 128-bit RC4 (LAB-NOTES)
    expect(o.mcs?.encryptionMethods).toEqual({ '40BIT': 'rejected', '128BIT': 'accepted', '56BIT': 'rejected', FIPS: 'rejected' });
  });

  it('FreeRDP shadow with NLA: HYBRID only, NLA required, NTLM names and OS version from the CHALLENGE', () => {
    const o = seen.nla!;
    expect(o.x224?.selected).toBe('HYBRID');
    expect(o.x224?.flags?.value).toBe(0x03);
    expect(o.x224?.sourceRef).toBe(0);
    expect(o.protocols?.RDP).toMatchObject({ outcome: 'failure', failure: { name: 'HYBRID_REQUIRED_BY_SERVER', value: 5 } });
    expect(o.protocols?.SSL).toMatchObject({ outcome: 'failure', failure: { name: 'HYBRID_REQUIRED_BY_SERVER' } });
    expect(o.protocols?.HYBRID?.outcome).toBe('accepted');
    expect(o.security).toMatchObject({ nlaRequired: true, nlaSupported: true, tlsRequired: true, standardRdpAllowed: false });
    expect(o.tls?.outcome).toBe('ok');
    expect(o.tls?.certificate?.subjectCN).toBe('RDPLAB-NLA');
    expect(o.credssp?.outcome).toBe('challenge');
    expect(o.credssp?.ntlm).toMatchObject({ nbComputer: 'RDPLAB-NLA', dnsComputer: 'RDPLAB-NLA', osVersion: '6.1.7601', osBuild: 7601 });
    expect(Math.abs(o.credssp!.ntlm!.clockSkewMs!)).toBeLessThan(5000);
    expect(o.mcs).toBeUndefined(); // needs credentials behind NLA
  });

  it('NLA with the right password authenticates; with a wrong one the server closes after AUTHENTICATE', async () => {
    const ok = await probe(LAB_HOSTS.nla.name, ['--user', NLA_USER, '--no-enumerate', '--no-tls-versions'], { RDPROBE_PASSWORD: NLA_PASSWORD });
    expect(ok.credssp?.auth).toMatchObject({ user: NLA_USER, outcome: 'success' });
    const bad = await probe(LAB_HOSTS.nla.name, ['--user', `LAB\\${NLA_USER}`, '--no-enumerate', '--no-tls-versions'], { RDPROBE_PASSWORD: 'wrong-password' });
    expect(bad.credssp?.auth).toMatchObject({ user: NLA_USER, domain: 'LAB', outcome: 'closed' });
    expect(bad.credssp?.auth?.detail).toMatch(/after the NTLM AUTHENTICATE/);
    // the secret never appears in the output
    expect(JSON.stringify(ok)).not.toContain(NLA_PASSWORD);
    expect(JSON.stringify(bad)).not.toContain('wrong-password');
  });

  it('PMTU black hole: the TLS stall is declared from the kernel\'s out-of-order data, long before the phase deadline', async () => {
    const o = await probe(LAB_HOSTS.blackhole.name, ['--phase-timeout', '8000']);
    expect(o.x224?.selected).toBe('SSL');
    expect(o.tls).toMatchObject({ outcome: 'stalled', stallEvidence: 'hole', bytesReceived: 0 });
    expect(o.tls!.kernel!.outOfOrderPackets).toBeGreaterThanOrEqual(1);
    expect(o.tls!.kernel!.rcvMss).toBeLessThan(1400); // only the flight's short tail segment arrived
    expect(o.tls!.stalledAfterMs).toBeGreaterThanOrEqual(1000);
    expect(o.tls!.stalledAfterMs).toBeLessThan(3000);
    // the control host behind the same 1400-byte link, with ICMP delivered, completes
    const c = await probe(LAB_HOSTS.mtu1400.name, ['--no-enumerate', '--no-tls-versions']);
    expect(c.tls?.outcome).toBe('ok');
    expect(c.tls?.bytesReceived).toBeGreaterThan(1400);
  });

  it('closed port: TCP refused with ECONNREFUSED, one connection, nothing else', async () => {
    const o = await probe(LAB_HOSTS.closed.name);
    expect(o.tcp).toMatchObject({ outcome: 'refused', errno: 'ECONNREFUSED' });
    expect(o.x224).toBeUndefined();
    expect(o.connections).toBe(1);
  });

  it('filtered port: TCP filtered at the connect deadline', async () => {
    const o = await probe(LAB_HOSTS.filtered.name, ['--phase-timeout', '1500']);
    expect(o.tcp?.outcome).toBe('filtered');
    expect(o.tcp?.ms).toBeGreaterThanOrEqual(1490);
    expect(o.tcp?.ms).toBeLessThan(2500);
  });

  it('DNS: NXDOMAIN, SERVFAIL and timeout are told apart', async () => {
    const nx = await probe('host.nx.rdplab.test', ['--phase-timeout', '2000']);
    const sf = await probe('host.servfail.rdplab.test', ['--phase-timeout', '2000']);
    const to = await probe('host.timeout.rdplab.test', ['--phase-timeout', '2000']);
    expect(nx.dns?.outcome).toBe('nxdomain');
    expect(sf.dns?.outcome).toBe('servfail');
    expect(to.dns?.outcome).toBe('timeout');
    for (const o of [nx, sf, to]) {
      expect(o.tcp).toBeUndefined();
      expect(o.connections).toBe(0);
    }
  });

  it('several targets in one run: exit 0 whatever they answered; a bad target is a usage error (exit 2)', async () => {
    const r = await rdprobe(['probe', LAB_HOSTS.closed.name, LAB_HOSTS.tls.name, '--json', '--no-enumerate', '--no-tls-versions']);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as Observation[];
    expect(list.map((o) => o.tcp?.outcome)).toEqual(['refused', 'open']);
    const bad = await rdprobe(['probe', 'bad host:99999']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/99999|not a valid/);
  });

  it('the human report shows every phase and a one-line summary', async () => {
    const r = await rdprobe(['probe', LAB_HOSTS.nla.name]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/nla\.rdplab\.test: selected HYBRID, NLA required/);
    for (const title of ['DNS', 'TCP', 'X.224 negotiation', 'Security protocols', 'Security facts', 'TLS (over HYBRID)', 'CredSSP / NTLM']) {
      expect(r.stdout).toContain(title);
    }
    expect(r.stdout).toContain('RDPLAB-NLA');
  });
});
