/** Client profiles: healthy cases for each, and the same server judged differently per client. */
import { describe, expect, it } from 'vitest';
import { diagnose, predictNegotiation, PROFILE_NAMES, resolveProfile } from '../../src/diagnose/index.js';
import { renderDiagnosis } from '../../src/report/findings.js';
import { healthy, make, windowsNlaRequired, windowsRdpOnly, xrdpRdpOnly, xrdpTlsOnly } from './fixtures.js';

describe('healthy servers produce no error finding', () => {
  it.each(PROFILE_NAMES)('Windows, NLA optional: healthy for %s with no findings at all', (profile) => {
    const d = diagnose(healthy(), { profile });
    expect(d.findings).toEqual([]);
    expect(d.verdict).toEqual({ healthy: true, status: 'healthy', line: `healthy for ${profile}` });
  });

  it.each(PROFILE_NAMES)('xrdp TLS-only: healthy for %s (only informational findings)', (profile) => {
    const d = diagnose(xrdpTlsOnly(), { profile });
    expect(d.verdict.status).toBe('healthy');
    expect(d.findings.every((f) => f.severity === 'info')).toBe(true);
    // UDP matters only for mstsc: the closed UDP port is reported to mstsc profiles only.
    expect(d.findings.some((f) => f.id === 'udp-not-listening')).toBe(profile === 'mstsc' || profile === 'mstsc-nla-off');
  });

  it.each(['mstsc', 'windows-app-mac', 'freerdp'] as const)('Windows, NLA required: healthy for %s', (profile) => {
    const d = diagnose(windowsNlaRequired(), { profile });
    expect(d.verdict.healthy).toBe(true);
    expect(d.findings).toEqual([]);
  });
});

describe('the same server, judged per client', () => {
  it('NLA required: healthy for mstsc, 0x4/0x0 for mstsc-nla-off, and the report says so', () => {
    const d = diagnose(windowsNlaRequired());
    expect(d.verdict.line).toBe('healthy for mstsc');
    expect(d.perProfile).toMatchObject({
      mstsc: { healthy: true },
      'windows-app-mac': { healthy: true },
      freerdp: { healthy: true },
      'mstsc-nla-off': { healthy: false, status: 'failing', line: '0x4 (extended 0x0) — security layer mismatch: server requires NLA, client has NLA off' },
    });
    const text = renderDiagnosis(d);
    expect(text.split('\n')[0]).toBe('healthy for mstsc');
    expect(text).toContain('other clients (the verdict depends on the client):');
    expect(text).toContain('mstsc-nla-off: 0x4 (extended 0x0) — security layer mismatch');

    const off = diagnose(windowsNlaRequired(), { profile: 'mstsc-nla-off' });
    expect(off.verdict).toMatchObject({
      healthy: false,
      status: 'failing',
      clientError: '0x4/0x0',
      causeId: 'nla-required',
      line: '0x4 (extended 0x0) — security layer mismatch: server requires NLA, client has NLA off',
    });
    expect(off.perProfile!.mstsc.healthy).toBe(true);
  });

  it('xrdp TLS-only: healthy by default, mismatch when the client requires NLA', () => {
    expect(diagnose(xrdpTlsOnly(), { profile: 'freerdp' }).verdict.healthy).toBe(true);
    const d = diagnose(xrdpTlsOnly(), { profile: 'freerdp', require: 'nla' });
    expect(d.profile).toBe('freerdp --require nla');
    expect(d.verdict.line).toBe('ERRCONNECT_SECURITY_NEGO_CONNECT_FAILED — security layer mismatch: server supports TLS but not NLA, client requires NLA');
  });

  it('Standard RDP Security only: every default client connects with a warning; --require tls fails', () => {
    for (const profile of PROFILE_NAMES) {
      const d = diagnose(xrdpRdpOnly(), { profile });
      expect(d.verdict.status, profile).toBe('degraded');
      expect(d.findings[0].id).toBe('standard-rdp-security');
    }
    expect(diagnose(xrdpRdpOnly(), { require: 'tls' }).verdict.status).toBe('failing');
  });

  it('FreeRDP retries after SSL_NOT_ALLOWED_BY_SERVER like nego.c and lands on Standard RDP Security', () => {
    const p = predictNegotiation(windowsRdpOnly(), resolveProfile('freerdp'));
    expect(p).toMatchObject({ status: 'ok', protocol: 'RDP', fallback: { failure: { name: 'SSL_NOT_ALLOWED_BY_SERVER' }, to: [] } });
  });
});

describe('negotiation prediction', () => {
  it('uses the main exchange when it was the client\'s exact offer', () => {
    const p = predictNegotiation(healthy(), resolveProfile('mstsc'));
    expect(p).toMatchObject({ status: 'ok', protocol: 'HYBRID_EX', basis: 'exact' });
  });

  it('combines single-protocol answers for a multi-protocol offer (FreeRDP: HYBRID|SSL)', () => {
    const p = predictNegotiation(windowsNlaRequired(), resolveProfile('freerdp'));
    expect(p).toMatchObject({ status: 'ok', protocol: 'HYBRID', basis: 'combined' });
  });

  it('treats "SSL answered with PROTOCOL_RDP" as TLS not accepted', () => {
    const p = predictNegotiation(xrdpRdpOnly(), resolveProfile('mstsc', 'tls'));
    expect(p).toMatchObject({ status: 'mismatch', selectedUnacceptable: 'RDP' });
  });

  it('falls back to the security facts when the enumeration lacks a protocol', () => {
    const o = windowsNlaRequired();
    delete o.protocols!.SSL;
    o.security = { ...o.security!, nlaRequired: true };
    const p = predictNegotiation(o, resolveProfile('mstsc-nla-off'));
    expect(p).toMatchObject({ status: 'mismatch', failure: { value: 5 }, basis: 'facts' });
    const d = diagnose(o, { profile: 'mstsc-nla-off' });
    expect(d.findings[0]).toMatchObject({ id: 'nla-required', confidence: 'medium' });
    expect(d.findings[0].evidence.some((e) => e.field === 'security.nlaRequired' && e.value === true)).toBe(true);
  });

  it('says "inconclusive" when the observation cannot tell what the client gets', () => {
    // Only the main exchange (SSL|HYBRID|HYBRID_EX → HYBRID_EX): nothing says whether SSL alone is accepted.
    const o = make(healthy(), { protocols: undefined, security: undefined });
    expect(diagnose(o, { profile: 'mstsc' }).verdict.status).toBe('healthy');
    expect(diagnose(o, { profile: 'freerdp' }).verdict.status).toBe('healthy'); // HYBRID_EX implies HYBRID
    const v = diagnose(o, { profile: 'mstsc-nla-off' }).verdict;
    expect(v.status).toBe('inconclusive');
    expect(v.healthy).toBe(false);
    expect(v.line).toContain('does not show how the server answers SSL');
    expect(v.line).toContain('rdprobe probe rdp.example.test');
  });

  it('is inconclusive when the probe stopped before negotiating', () => {
    const o = make(healthy(), { x224: undefined, protocols: undefined, security: undefined, tls: undefined, credssp: undefined, mcs: undefined, udp: undefined });
    expect(diagnose(o).verdict).toMatchObject({ status: 'inconclusive', healthy: false });
  });

  it('rejects unknown profiles and requirements', () => {
    expect(() => resolveProfile('rdesktop' as never)).toThrow(/unknown client profile/);
    expect(() => resolveProfile('mstsc', 'kerberos' as never)).toThrow(/unknown --require/);
  });
});
