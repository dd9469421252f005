/**
 * One case per rule / cause: Observation in → top finding id, client error, confidence, key evidence.
 * Observations are built from the fixtures (real xrdp / FreeRDP / Windows behaviour, see fixtures.ts).
 */
import { describe, expect, it } from 'vitest';
import { CAUSES, diagnose, type ProfileName, type RequireMode } from '../../src/diagnose/index.js';
import type { Confidence, Finding, Severity } from '../../src/diagnose/types.js';
import type { Observation } from '../../src/observation/types.js';
import {
  healthy,
  make,
  NEG,
  tcpOnly,
  tlsStalled,
  windowsNlaRequired,
  windowsRdpOnly,
  withProtocols,
  accepted,
  failed,
  xrdpRdpOnly,
  xrdpTlsOnly,
} from './fixtures.js';

interface Case {
  name: string;
  obs: Observation;
  profile?: ProfileName;
  require?: RequireMode;
  /** expected id of the first finding */
  top: string;
  severity: Severity;
  /** Verdict clientError (when the top finding is an error) or the first client error code of the top finding. */
  error?: string;
  confidence: Confidence;
  /** field → value that must be in the top finding's evidence */
  evidence?: Record<string, unknown>;
  /** substring of the summary */
  summary?: string;
}

const cert = healthy().tls!.certificate!;
const logon = (name: string, value: number): Observation =>
  make(windowsNlaRequired(), {
    credssp: { auth: { user: 'alice', domain: 'EXAMPLE', outcome: 'error-code', errorCode: { value, name } } },
  });

export const CASES: Case[] = [
  // name resolution
  {
    name: 'NXDOMAIN → 0x104',
    obs: make(tcpOnly(undefined), { dns: { outcome: 'nxdomain', addresses: [], ms: 12, code: 'ENOTFOUND' } }),
    top: 'dns-nxdomain', severity: 'error', error: '0x104/0x0', confidence: 'high',
    evidence: { 'dns.outcome': 'nxdomain' }, summary: 'does not exist in DNS',
  },
  {
    name: 'NODATA → 0x104 (no address record)',
    obs: make(tcpOnly(undefined), { dns: { outcome: 'nodata', addresses: [], ms: 9 } }),
    top: 'dns-nxdomain', severity: 'error', error: '0x104/0x0', confidence: 'high', summary: 'no address record',
  },
  {
    name: 'SERVFAIL → 0x104, DNS server fixes',
    obs: make(tcpOnly(undefined), { dns: { outcome: 'servfail', addresses: [], ms: 40, code: 'ESERVFAIL' } }),
    top: 'dns-servfail', severity: 'error', error: '0x104/0x0', confidence: 'high', evidence: { 'dns.code': 'ESERVFAIL' },
  },
  {
    name: 'DNS timeout → 0x104, medium',
    obs: make(tcpOnly(undefined), { dns: { outcome: 'timeout', addresses: [], ms: 5000, code: 'ETIMEOUT' } }),
    top: 'dns-timeout', severity: 'error', error: '0x104/0x0', confidence: 'medium',
  },
  {
    name: 'name fails while the address answers',
    obs: make(healthy(), { dns: { outcome: 'nxdomain', addresses: [], ms: 12 } }),
    top: 'dns-nxdomain', severity: 'error', error: '0x104/0x0', confidence: 'high',
    evidence: { 'tcp.outcome': 'open' }, summary: 'the address answers',
  },
  // reachability
  {
    name: 'TCP refused → 0x204 service stopped / RDP disabled',
    obs: tcpOnly({ outcome: 'refused', ms: 1, address: '192.0.2.10', port: 3389, errno: 'ECONNREFUSED' }),
    top: 'tcp-refused', severity: 'error', error: '0x204', confidence: 'high', evidence: { 'tcp.errno': 'ECONNREFUSED' },
  },
  {
    name: 'TCP filtered, nothing else from the host → 0x204 medium',
    obs: tcpOnly({ outcome: 'filtered', ms: 5000, address: '192.0.2.10', port: 3389, errno: 'ETIMEDOUT' }),
    top: 'tcp-filtered', severity: 'error', error: '0x204', confidence: 'medium', summary: 'or the host is off',
  },
  {
    name: 'TCP filtered while UDP answers ICMP → firewall, high',
    obs: make(tcpOnly({ outcome: 'filtered', ms: 5000, address: '192.0.2.10', port: 3389 }), { udp: { outcome: 'icmp-unreachable', attempts: 1 } }),
    top: 'tcp-filtered', severity: 'error', error: '0x204', confidence: 'high', evidence: { 'udp.outcome': 'icmp-unreachable' },
    summary: 'a firewall drops TCP 3389',
  },
  {
    name: 'ICMP unreachable → host unreachable',
    obs: tcpOnly({ outcome: 'unreachable', ms: 3, address: '192.0.2.10', port: 3389, errno: 'EHOSTUNREACH' }),
    top: 'host-unreachable', severity: 'error', error: '0x204', confidence: 'high',
  },
  {
    name: 'local connect error',
    obs: tcpOnly({ outcome: 'error', ms: 0, address: '192.0.2.10', port: 3389, errno: 'EACCES', message: 'permission denied' }),
    top: 'connect-error', severity: 'error', error: '0x204', confidence: 'medium',
  },
  {
    name: 'something else answers on the port → not RDP',
    obs: make(tcpOnly({ outcome: 'open', ms: 2, address: '192.0.2.10', port: 3389 }), {
      x224: { requested: ['SSL', 'HYBRID', 'HYBRID_EX'], requestedMask: 0x0b, outcome: 'malformed', ms: 3, bytesReceived: 17, detail: 'TPKT version 0x53 (SSH-2.0?)' },
    }),
    top: 'not-rdp', severity: 'error', error: '0x4/0x0', confidence: 'high', evidence: { 'x224.outcome': 'malformed' },
  },
  {
    name: 'unstable network (3/20 handshakes lost)',
    obs: make(healthy(), { stability: { samples: 20, ok: 17, lost: 3, rttMs: { min: 20, avg: 45, max: 180, jitter: 22 } } }),
    top: 'unstable-network', severity: 'warning', confidence: 'high', error: '0x904/0x7', evidence: { 'stability.lost': 3 },
  },
  // server load
  {
    name: 'accepted then reset → 0x4/0x0',
    obs: make(tcpOnly({ outcome: 'open', ms: 2, address: '192.0.2.10', port: 3389 }), {
      x224: { requested: ['SSL', 'HYBRID', 'HYBRID_EX'], requestedMask: 0x0b, outcome: 'reset', ms: 4, bytesReceived: 0 },
    }),
    top: 'accepted-then-reset', severity: 'error', error: '0x4/0x0', confidence: 'medium', evidence: { 'x224.outcome': 'reset' },
  },
  {
    name: 'accepted, never answered, burst all dropped → hung service, high',
    obs: make(tcpOnly({ outcome: 'open', ms: 2, address: '192.0.2.10', port: 3389 }), {
      x224: { requested: ['SSL', 'HYBRID', 'HYBRID_EX'], requestedMask: 0x0b, outcome: 'timeout', ms: 5000 },
      burst: { connections: 20, accepted: 20, refused: 0, reset: 0, timeout: 20, negotiated: 0 },
    }),
    top: 'accepted-then-reset', severity: 'error', error: '0x4/0x0', confidence: 'high',
  },
  {
    name: 'burst: server refuses under concurrent load',
    obs: make(healthy(), { burst: { connections: 20, accepted: 20, refused: 0, reset: 12, timeout: 0, negotiated: 8 } }),
    top: 'burst-refusal', severity: 'warning', error: '0x4/0x0', confidence: 'high', summary: '8 of 20',
  },
  // security negotiation, judged per profile
  {
    name: 'NLA required, mstsc with NLA off → 0x4/0x0 mismatch',
    obs: windowsNlaRequired(), profile: 'mstsc-nla-off',
    top: 'nla-required', severity: 'error', error: '0x4/0x0', confidence: 'high',
    evidence: { 'protocols.SSL.failure.name': 'HYBRID_REQUIRED_BY_SERVER' }, summary: 'server requires NLA, client has NLA off',
  },
  {
    name: 'NLA required, FreeRDP /sec:tls → ERRCONNECT_HYBRID_REQUIRED_BY_SERVER',
    obs: windowsNlaRequired(), profile: 'freerdp', require: 'tls',
    top: 'nla-required', severity: 'error', error: 'ERRCONNECT_HYBRID_REQUIRED_BY_SERVER', confidence: 'high',
  },
  {
    name: 'xrdp TLS-only, client requires NLA → SSL_REQUIRED_BY_SERVER',
    obs: xrdpTlsOnly(), profile: 'freerdp', require: 'nla',
    top: 'nla-unavailable', severity: 'error', error: 'ERRCONNECT_SECURITY_NEGO_CONNECT_FAILED', confidence: 'high',
    evidence: { 'protocols.HYBRID.failure.name': 'SSL_REQUIRED_BY_SERVER' },
  },
  {
    name: 'xrdp TLS-only, client offers Standard RDP Security only → TLS required',
    obs: xrdpTlsOnly(), profile: 'mstsc', require: 'rdp',
    top: 'tls-required', severity: 'error', error: '0x4/0x0', confidence: 'high', evidence: { 'protocols.RDP.failure.name': 'SSL_REQUIRED_BY_SERVER' },
  },
  {
    name: 'xrdp RDP-only answers SSL by selecting RDP, client requires TLS',
    obs: xrdpRdpOnly(), profile: 'mstsc', require: 'tls',
    top: 'rdp-security-only', severity: 'error', error: '0x4/0x0', confidence: 'high', evidence: { 'protocols.SSL.selected': 'RDP' },
  },
  {
    name: 'Windows SSL_NOT_ALLOWED_BY_SERVER, FreeRDP /sec:tls',
    obs: windowsRdpOnly(), profile: 'freerdp', require: 'tls',
    top: 'rdp-security-only', severity: 'error', error: 'ERRCONNECT_SECURITY_NEGO_CONNECT_FAILED', confidence: 'high',
    evidence: { 'protocols.SSL.failure.name': 'SSL_NOT_ALLOWED_BY_SERVER' },
  },
  {
    name: 'Windows SSL_NOT_ALLOWED_BY_SERVER, mstsc retries with Standard RDP Security → warning',
    obs: windowsRdpOnly(),
    top: 'standard-rdp-security', severity: 'warning', confidence: 'high', evidence: { 'client.retry': 'RDP' }, summary: 'retries',
  },
  {
    name: 'legacy Connection Confirm (pre-Vista) → Standard RDP Security',
    obs: make(xrdpRdpOnly(), { x224: { outcome: 'legacy', selected: undefined, selectedMask: undefined }, protocols: undefined, security: undefined }),
    top: 'standard-rdp-security', severity: 'warning', confidence: 'high', summary: 'legacy',
  },
  {
    name: 'SSL_CERT_NOT_ON_SERVER → no certificate',
    obs: withProtocols(
      make(healthy(), {
        x224: { outcome: 'failure', selected: undefined, selectedMask: undefined, flags: undefined, failure: NEG.SSL_CERT_NOT_ON_SERVER },
        tls: undefined, credssp: undefined, mcs: undefined,
      }),
      { RDP: accepted('RDP'), SSL: failed(NEG.SSL_CERT_NOT_ON_SERVER), HYBRID: failed(NEG.SSL_CERT_NOT_ON_SERVER), HYBRID_EX: failed(NEG.SSL_CERT_NOT_ON_SERVER) },
    ),
    top: 'no-certificate', severity: 'error', error: '0x4/0x0', confidence: 'high', evidence: { 'x224.failure.name': 'SSL_CERT_NOT_ON_SERVER' },
  },
  {
    name: 'SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER → client certificate required',
    obs: make(healthy(), {
      x224: { outcome: 'failure', selected: undefined, selectedMask: undefined, flags: undefined, failure: NEG.SSL_WITH_USER_AUTH },
      protocols: undefined, security: undefined, tls: undefined, credssp: undefined, mcs: undefined,
    }),
    top: 'client-cert-required', severity: 'error', error: '0x4/0x0', confidence: 'high',
  },
  {
    name: 'INCONSISTENT_FLAGS → negotiation refused',
    obs: make(healthy(), {
      x224: { outcome: 'failure', selected: undefined, selectedMask: undefined, flags: undefined, failure: NEG.INCONSISTENT_FLAGS },
      protocols: undefined, security: undefined, tls: undefined, credssp: undefined, mcs: undefined,
    }),
    top: 'negotiation-refused', severity: 'error', error: '0x4/0x0', confidence: 'high',
  },
  {
    name: 'MCS Connect-Initial rejected → server denied',
    obs: make(xrdpTlsOnly(), { mcs: { outcome: 'rejected', result: { value: 1, name: 'rt-domain-merging' } } }),
    top: 'mcs-rejected', severity: 'error', error: '0x904/0x7', confidence: 'medium', evidence: { 'mcs.result': 'rt-domain-merging' },
  },
  // TLS
  {
    name: 'server only TLS 1.0 → FreeRDP fails (outdated TLS)',
    obs: make(healthy(), {
      tls: { version: 'TLSv1', versions: { TLSv1: { outcome: 'accepted' }, 'TLSv1.1': { outcome: 'rejected' }, 'TLSv1.2': { outcome: 'rejected' }, 'TLSv1.3': { outcome: 'rejected' } } },
    }),
    profile: 'freerdp',
    top: 'tls-outdated', severity: 'error', error: 'ERRCONNECT_TLS_CONNECT_FAILED', confidence: 'high', evidence: { 'tls.versions.TLSv1.2': 'rejected' },
  },
  {
    name: 'server only TLS 1.0 → mstsc still connects (warning)',
    obs: make(healthy(), {
      tls: { version: 'TLSv1', versions: { TLSv1: { outcome: 'accepted' }, 'TLSv1.1': { outcome: 'rejected' }, 'TLSv1.2': { outcome: 'rejected' }, 'TLSv1.3': { outcome: 'rejected' } } },
    }),
    top: 'tls-outdated', severity: 'warning', error: '0x4/0x0', confidence: 'high',
  },
  {
    name: 'version alert on the ClientHello → outdated TLS for the Mac client',
    obs: make(healthy(), { tls: { outcome: 'alert', alert: 'protocol version', version: undefined, certificate: undefined, versions: undefined }, credssp: undefined }),
    profile: 'windows-app-mac',
    top: 'tls-outdated', severity: 'error', error: '0x4/0x0', confidence: 'medium',
  },
  {
    name: 'handshake_failure alert → TLS handshake failed',
    obs: make(healthy(), { tls: { outcome: 'alert', alert: 'handshake failure', version: undefined, certificate: undefined, versions: undefined, bytesReceived: 7 }, credssp: undefined }),
    top: 'tls-handshake-failed', severity: 'error', error: '0x904/0x7', confidence: 'medium', evidence: { 'tls.alert': 'handshake failure' },
  },
  {
    name: 'expired certificate',
    obs: make(healthy(), { tls: { certificate: { ...cert, notAfter: '2025-12-01T00:00:00.000Z', daysLeft: -45, expired: true } } }),
    top: 'cert-expired', severity: 'warning', error: '0x904/0x7', confidence: 'high', evidence: { 'tls.certificate.daysLeft': -45 },
  },
  {
    name: 'certificate not yet valid',
    obs: make(healthy(), { tls: { certificate: { ...cert, notBefore: '2026-02-01T00:00:00.000Z', notYetValid: true } }, credssp: { ntlm: { clockSkewMs: 1_800_000 } } }),
    top: 'cert-not-yet-valid', severity: 'warning', confidence: 'high', evidence: { 'credssp.ntlm.clockSkewMs': 1_800_000 }, summary: 'differs by 30 min',
  },
  {
    name: '1024-bit key → FreeRDP refuses',
    obs: make(healthy(), { tls: { certificate: { ...cert, keyBits: 1024 } } }),
    profile: 'freerdp',
    top: 'cert-weak-key', severity: 'error', error: 'ERRCONNECT_TLS_CONNECT_FAILED', confidence: 'medium', evidence: { 'tls.certificate.keyBits': 1024 },
  },
  {
    name: '1024-bit key → mstsc accepts (warning)',
    obs: make(healthy(), { tls: { certificate: { ...cert, keyBits: 1024 } } }),
    top: 'cert-weak-key', severity: 'warning', confidence: 'high',
  },
  {
    name: 'CA certificate for another name → name mismatch',
    obs: make(healthy(), { tls: { certificate: { ...cert, subjectCN: 'other.example.test', subject: 'CN=other.example.test', san: ['DNS:other.example.test'], selfSigned: false } } }),
    top: 'cert-name-mismatch', severity: 'warning', confidence: 'high', summary: 'not "rdp.example.test"',
  },
  // NLA / credentials
  {
    name: 'STATUS_LOGON_FAILURE → 0x807',
    obs: logon('STATUS_LOGON_FAILURE', 0xc000006d),
    top: 'credssp-logon-failure', severity: 'error', error: '0x807', confidence: 'high',
    evidence: { 'credssp.auth.errorCode': { value: 0xc000006d, name: 'STATUS_LOGON_FAILURE' } },
  },
  {
    name: 'STATUS_ACCOUNT_LOCKED_OUT → 0xD07',
    obs: logon('STATUS_ACCOUNT_LOCKED_OUT', 0xc0000234),
    top: 'credssp-logon-failure', severity: 'error', error: '0xD07', confidence: 'high',
  },
  {
    name: 'STATUS_PASSWORD_EXPIRED → 0xF07 (FreeRDP: ERRCONNECT_PASSWORD_EXPIRED)',
    obs: logon('STATUS_PASSWORD_EXPIRED', 0xc0000071), profile: 'freerdp',
    top: 'credssp-logon-failure', severity: 'error', error: 'ERRCONNECT_PASSWORD_EXPIRED', confidence: 'high',
  },
  {
    name: 'server closes after AUTHENTICATE (FreeRDP server, measured) → logon failure, medium',
    obs: make(windowsNlaRequired(), { credssp: { auth: { user: 'labuser', outcome: 'closed', detail: 'server closed the TLS session after the NTLM AUTHENTICATE' } } }),
    top: 'credssp-logon-failure', severity: 'error', error: '0x807', confidence: 'medium',
  },
  {
    name: 'server closes CredSSP before authentication',
    obs: make(windowsNlaRequired(), { credssp: { outcome: 'closed', version: undefined, ntlm: undefined, detail: 'server closed the TLS session after the NTLM NEGOTIATE' } }),
    top: 'credssp-rejected', severity: 'error', error: '0x904', confidence: 'medium',
  },
  {
    name: 'CredSSP version 3 → encryption oracle remediation (mstsc refuses)',
    obs: make(windowsNlaRequired(), { credssp: { version: 3 } }),
    top: 'credssp-outdated', severity: 'error', confidence: 'medium', evidence: { 'credssp.version': 3 },
  },
  // path MTU
  {
    name: 'TLS stalls, DF probes confirm a black hole → high',
    obs: tlsStalled(1200, { outcome: 'black-hole', bounds: { passes: 1400, lost: 1401 }, localMtu: 1500, interface: 'wg0', probes: [{ size: 1400, result: 'ok' }, { size: 1500, result: 'lost' }], recommendedMtu: 1400, recommendedMss: 1360 }),
    top: 'pmtu-black-hole', severity: 'error', error: '0x904/0x7', confidence: 'high', evidence: { 'pmtu.outcome': 'black-hole' },
  },
  {
    name: 'path MTU reduced, PMTUD works → info only',
    obs: make(healthy(), { pmtu: { outcome: 'measured', pathMtu: 1400, localMtu: 1500, probes: [{ size: 1500, result: 'frag-needed', mtu: 1400 }] } }),
    top: 'pmtu-reduced', severity: 'info', confidence: 'high',
  },
  // UDP
  {
    name: 'UDP 3389 silent while TCP works, server offers UDP → mstsc warning',
    obs: make(healthy(), { udp: { outcome: 'silent', attempts: 3, ms: undefined, version: undefined } }),
    top: 'udp-blocked', severity: 'warning', error: '0x904/0x7', confidence: 'medium', evidence: { 'udp.outcome': 'silent' },
  },
  {
    name: 'UDP closed (ICMP port unreachable) → info',
    obs: make(healthy(), { mcs: { multitransport: undefined }, udp: { outcome: 'icmp-unreachable', attempts: 1 } }),
    top: 'udp-not-listening', severity: 'info', confidence: 'high',
  },
  {
    name: 'UDP rejected with ICMP administratively prohibited → a filter, not "nothing listens"',
    obs: make(healthy(), { udp: { outcome: 'icmp-unreachable', unreachable: 'prohibited', errno: 'EACCES', attempts: 1 } }),
    top: 'udp-blocked', severity: 'warning', confidence: 'high', evidence: { 'udp.unreachable': 'prohibited' },
  },
];

describe('outcomes that must not collapse', () => {
  const udpIds = (udp: Observation['udp']) => diagnose(make(healthy(), { udp })).findings.map((f) => f.id).filter((id) => id.startsWith('udp-'));
  it('a local EPERM (this host\'s firewall) is not "UDP blocked on the path" nor "not listening"', () => {
    expect(udpIds({ outcome: 'local-error', errno: 'EPERM', attempts: 1, detail: 'EPERM' })).toEqual([]);
  });
  it('ICMP host unreachable for UDP is not "nothing listens on UDP"', () => {
    expect(udpIds({ outcome: 'icmp-unreachable', unreachable: 'host', errno: 'EHOSTUNREACH', attempts: 1 })).toEqual([]);
  });
  it('an aborted UDP probe says nothing', () => {
    expect(udpIds({ outcome: 'aborted', attempts: 1 })).toEqual([]);
  });
  it('TLS 1.2/1.3 refused by FIN or RST is decisive (high), a stall is not (medium)', () => {
    const v = (o12: string, o13: string) =>
      make(healthy(), { tls: { version: 'TLSv1', versions: { TLSv1: { outcome: 'accepted' }, 'TLSv1.1': { outcome: 'rejected' }, 'TLSv1.2': { outcome: o12 as never }, 'TLSv1.3': { outcome: o13 as never } } } });
    const hit = (o: Observation) => diagnose(o).findings.find((f) => f.id === 'tls-outdated');
    expect(hit(v('reset', 'closed'))?.confidence).toBe('high');
    expect(hit(v('stalled', 'closed'))?.confidence).toBe('medium');
    expect(hit(v('aborted', 'rejected'))?.confidence).toBe('medium');
  });
  it('a TCP connect cut short by the probe deadline is not a local connect error', () => {
    const d = diagnose(make(tcpOnly({ outcome: 'aborted', errno: 'ABORTED', message: 'probe deadline of 300 ms reached', ms: 300, address: '127.0.0.1', port: 3389 }), {}));
    expect(d.findings.map((f) => f.id)).not.toContain('connect-error');
  });
});

function hasEvidence(f: Finding, field: string, value: unknown): boolean {
  return f.evidence.some((e) => e.field === field && JSON.stringify(e.value) === JSON.stringify(value));
}

describe('diagnosis table: one case per rule', () => {
  it.each(CASES)('$name', (c) => {
    const d = diagnose(c.obs, { profile: c.profile, require: c.require });
    const f = d.findings[0];
    expect(f, 'a finding').toBeDefined();
    expect(f.id).toBe(c.top);
    expect(f.severity).toBe(c.severity);
    expect(f.confidence).toBe(c.confidence);
    if (c.error) {
      if (c.severity === 'error') expect(d.verdict.clientError).toBe(c.error);
      else {
        const ce = f.clientErrors[0];
        expect(ce.extended ? `${ce.code}/${ce.extended}` : ce.code).toBe(c.error);
      }
    }
    for (const [field, value] of Object.entries(c.evidence ?? {})) {
      expect(hasEvidence(f, field, value), `evidence ${field}=${JSON.stringify(value)} in ${JSON.stringify(f.evidence)}`).toBe(true);
    }
    if (c.summary) expect(f.summary).toContain(c.summary);
    // The verdict follows the top finding's severity.
    expect(d.verdict.healthy).toBe(c.severity !== 'error');
    if (c.severity === 'error') expect(d.verdict.causeId).toBe(c.top);
    // Every finding carries evidence, an explanation and at least one fix; confidence below high says what decides it
    // unless the rule has nothing better to offer.
    for (const x of d.findings) {
      expect(x.evidence.length).toBeGreaterThan(0);
      expect(x.explanation.length).toBeGreaterThan(20);
      expect(x.fixes.length).toBeGreaterThan(0);
      expect(x.confidenceWhy.length).toBeGreaterThan(10);
    }
  });

  it('reaches every cause in the catalogue with at least one case', () => {
    const seen = new Set<string>();
    for (const c of CASES) for (const f of diagnose(c.obs, { profile: c.profile, require: c.require }).findings) seen.add(f.id);
    const missing = CAUSES.map((c) => c.id).filter((id) => !seen.has(id));
    expect(missing).toEqual([]);
  });

  it('offers the secure fix first and labels security-weakening workarounds', () => {
    const f = diagnose(windowsNlaRequired(), { profile: 'mstsc-nla-off' }).findings[0];
    expect(f.fixes[0].workaround).toBeFalsy();
    expect(f.fixes[0].text).toContain('enablecredsspsupport:i:1');
    const w = f.fixes.find((x) => x.workaround)!;
    expect(w.place).toBe('windows-server');
    expect(w.text).toContain('UserAuthentication = 0');
    expect(f.fixes.indexOf(w)).toBe(f.fixes.length - 1);
  });

  it('fills the port into firewall fixes', () => {
    const o = tcpOnly({ outcome: 'filtered', ms: 5000, address: '192.0.2.10', port: 3390 });
    o.source.port = 3390;
    const f = diagnose(o).findings[0];
    expect(f.fixes.some((x) => x.text.includes('localport=3390'))).toBe(true);
  });

  it('names the exact services, registry values and GPO paths', () => {
    const refused = diagnose(CASES.find((c) => c.top === 'tcp-refused')!.obs).findings[0];
    const text = refused.fixes.map((x) => x.text).join('\n');
    expect(text).toContain('fDenyTSConnections');
    expect(text).toContain('TermService');
    expect(text).toContain('UmRdpService');
    const reset = diagnose(CASES.find((c) => c.top === 'accepted-then-reset')!.obs).findings[0];
    expect(reset.fixes.map((x) => x.text).join('\n')).toContain('HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\MaxOutstandingConnections');
    const udp = diagnose(CASES.find((c) => c.top === 'udp-blocked')!.obs).findings[0];
    expect(udp.fixes.map((x) => x.text).join('\n')).toContain('HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services\\Client\\fClientDisableUDP');
  });

  it('gives a next probe only where the evidence is not conclusive', () => {
    const low = diagnose(CASES.find((c) => c.name.startsWith('TCP filtered, nothing'))!.obs).findings[0];
    expect(low.nextProbe).toContain('rdprobe probe rdp.example.test --udp --pmtu');
    const high = diagnose(CASES.find((c) => c.name.startsWith('TCP refused'))!.obs).findings[0];
    expect(high.nextProbe).toBeUndefined();
    const reset = diagnose(CASES.find((c) => c.name === 'accepted then reset → 0x4/0x0')!.obs).findings[0];
    expect(reset.nextProbe).toBe('rdprobe probe rdp.example.test --burst 20 --stability 20');
  });

  it('treats intermittent resets as a warning, not a failure', () => {
    const o = make(healthy(), { protocols: { SSL: { outcome: 'no-answer', detail: 'reset', selected: undefined } } });
    const d = diagnose(o);
    expect(d.verdict.status).toBe('degraded');
    expect(d.findings[0]).toMatchObject({ id: 'accepted-then-reset', severity: 'warning' });
    expect(d.findings[0].summary).toContain('intermittent');
  });

  it('does not flag UDP for clients that never use RDP-UDP', () => {
    const o = make(healthy(), { udp: { outcome: 'silent', attempts: 3 } });
    for (const profile of ['windows-app-mac', 'freerdp'] as const) expect(diagnose(o, { profile }).findings).toEqual([]);
  });

  it('keeps a silent UDP port informational when the server does not offer UDP', () => {
    const o = make(healthy(), { mcs: { multitransport: undefined }, udp: { outcome: 'silent', attempts: 3 } });
    const d = diagnose(o);
    expect(d.findings[0]).toMatchObject({ id: 'udp-blocked', severity: 'info' });
    expect(d.verdict.status).toBe('healthy');
  });

  it('fails the verdict on heavy loss', () => {
    const o = make(healthy(), { stability: { samples: 20, ok: 10, lost: 10, rttMs: { min: 20, avg: 30, max: 40, jitter: 5 } } });
    expect(diagnose(o).findings[0]).toMatchObject({ id: 'unstable-network', severity: 'error' });
  });

  it('CredSSP version 3 is informational for FreeRDP, which does not enforce the remediation', () => {
    const o = make(windowsNlaRequired(), { credssp: { version: 3 } });
    const d = diagnose(o, { profile: 'freerdp' });
    expect(d.findings[0]).toMatchObject({ id: 'credssp-outdated', severity: 'info' });
    expect(d.verdict.healthy).toBe(true);
  });

  it('a self-signed certificate that does not name the host is informational', () => {
    const o = make(healthy(), { tls: { certificate: { ...cert, subjectCN: 'WIN-7H2K', subject: 'CN=WIN-7H2K', san: [] } } });
    const d = diagnose(o);
    expect(d.findings[0]).toMatchObject({ id: 'cert-name-mismatch', severity: 'info' });
    expect(d.verdict.status).toBe('healthy');
  });

  it('matches certificate names: wildcards, IP SANs, case', () => {
    const ok = (san: string[], host: string, cn?: string) =>
      diagnose(make(healthy(), { source: { host }, tls: { certificate: { ...cert, subjectCN: cn, san, selfSigned: false } } })).findings.length === 0;
    expect(ok(['DNS:*.example.test'], 'RDP.Example.Test')).toBe(true);
    expect(ok(['DNS:*.example.test'], 'a.b.example.test')).toBe(false);
    expect(ok(['IP Address:192.0.2.10'], '192.0.2.10')).toBe(true);
    expect(ok(['DNS:rdp.example.test'], '192.0.2.10')).toBe(false);
    expect(ok([], 'rdp.example.test', 'rdp.example.test')).toBe(true);
  });
});
