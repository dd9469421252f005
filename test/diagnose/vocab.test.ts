/** The shared vocabulary: tuples ⇔ types ⇔ validator, the one RDP_NEG_FAILURE table, the one unknown(0x…) format. */
import { describe, expect, it } from 'vitest';
import { flagNames, nameOf } from '../../src/codec/names.js';
import { ntstatusName } from '../../src/codec/ntstatus.js';
import * as x224 from '../../src/codec/x224.js';
import { decodeConnectionConfirm, encodeConnectionConfirm, selectedProtocolName } from '../../src/codec/x224.js';
import { singleAnswer } from '../../src/diagnose/negotiation.js';
import type { Observation } from '../../src/observation/types.js';
import { ObservationInputError, validateObservation } from '../../src/observation/validate.js';
import {
  CREDSSP_AUTH_OUTCOMES,
  CREDSSP_OUTCOMES,
  DNS_OUTCOMES,
  ENCRYPTION_METHOD_BITS,
  ENCRYPTION_METHODS,
  ERROR_CODES,
  MCS_OUTCOMES,
  NEG_FAILURE_NAMES,
  PHASES,
  PMTU_OUTCOMES,
  PMTU_PROBE_RESULTS,
  PROTOCOL_BITS,
  PROTOCOL_NAMES,
  PROTOCOL_RESULT_OUTCOMES,
  TCP_OUTCOMES,
  TLS_OUTCOMES,
  TLS_VERSION_OUTCOMES,
  TLS_VERSIONS,
  UDP_OUTCOMES,
  X224_OUTCOMES,
  assertNever,
  extendedClientDataSupported,
  isUnknownName,
  negFailureCoded,
  negFailureName,
  unknownName,
  usesCredssp,
  usesTls,
  type DnsOutcome,
  type McsOutcome,
  type TcpOutcome,
  type TlsOutcome,
  type UdpOutcome,
  type X224Outcome,
} from '../../src/observation/vocab.js';
import { healthy, tlsStalled } from './fixtures.js';

type Json = Record<string, unknown>;
const clone = (o: Observation): Json => JSON.parse(JSON.stringify(o)) as Json;

function problems(o: Json): string[] {
  try {
    validateObservation(o, 'o.json');
    return [];
  } catch (e) {
    if (e instanceof ObservationInputError) return e.problems;
    throw e;
  }
}

/** Set `value` at a dotted path (array indexes as numbers) of a parsed observation. */
function set(o: Json, path: string, value: unknown): Json {
  const keys = path.split('.');
  let cur = o as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) cur = cur[k] as Record<string, unknown>;
  cur[keys[keys.length - 1]] = value;
  return o;
}

describe('outcome tuples ⇔ the validator', () => {
  const base = () => {
    const o = clone(tlsStalled(10, { outcome: 'black-hole', probes: [{ size: 1500, result: 'lost' }] }));
    const h = clone(healthy());
    o.credssp = { ...(h.credssp as Json), auth: { user: 'u', outcome: 'success' } };
    o.mcs = h.mcs;
    o.udp = h.udp;
    (o.tls as Json).versions = (h.tls as Json).versions;
    o.timeline = [{ phase: 'tcp', at: 0, ms: 1 }];
    o.errors = [{ phase: 'probe', code: 'RDPROBE_INTERNAL', message: 'x' }];
    return o;
  };
  const fields: [string, readonly (string | number)[]][] = [
    ['dns.outcome', DNS_OUTCOMES],
    ['tcp.outcome', TCP_OUTCOMES],
    ['x224.outcome', X224_OUTCOMES],
    ['protocols.SSL.outcome', PROTOCOL_RESULT_OUTCOMES],
    ['tls.outcome', TLS_OUTCOMES],
    ['tls.versions.TLSv1.outcome', TLS_VERSION_OUTCOMES],
    ['credssp.outcome', CREDSSP_OUTCOMES],
    ['credssp.auth.outcome', CREDSSP_AUTH_OUTCOMES],
    ['mcs.outcome', MCS_OUTCOMES],
    ['udp.outcome', UDP_OUTCOMES],
    ['pmtu.outcome', PMTU_OUTCOMES],
    ['pmtu.probes.0.result', PMTU_PROBE_RESULTS],
    ['timeline.0.phase', PHASES],
    ['errors.0.phase', PHASES],
    ['errors.0.code', ERROR_CODES],
  ];

  it('the base observation is valid', () => {
    expect(problems(base())).toEqual([]);
  });

  it.each(fields)('%s accepts exactly the tuple values', (path, values) => {
    for (const v of values) expect(problems(set(base(), path, v)), `${path} = ${v}`).toEqual([]);
    const bad = problems(set(base(), path, 'not-a-value'));
    expect(bad).toHaveLength(1);
    expect(bad[0]).toBe(`field "${path.replace(/\.(\d+)\./g, '[$1].')}" must be one of ${values.join(', ')} (got "not-a-value")`);
  });

  it("'aborted' (whole probe aborted, not a timeout) is an outcome of tcp, dns, x224, tls, credssp, mcs and udp", () => {
    for (const t of [TCP_OUTCOMES, DNS_OUTCOMES, X224_OUTCOMES, TLS_OUTCOMES, CREDSSP_OUTCOMES, MCS_OUTCOMES, UDP_OUTCOMES]) {
      expect(t as readonly string[]).toContain('aborted');
      expect(t as readonly string[]).toContain(t === UDP_OUTCOMES ? 'silent' : 'timeout');
    }
  });

  it('the types are the tuples: an exhaustive record per type has exactly the tuple as keys', () => {
    // each Record<…> literal must name every member of the union (tsc), and nothing else
    const tcp: Record<TcpOutcome, 1> = { open: 1, refused: 1, filtered: 1, unreachable: 1, reset: 1, timeout: 1, aborted: 1, error: 1 };
    const dns: Record<DnsOutcome, 1> = { ok: 1, nxdomain: 1, nodata: 1, servfail: 1, refused: 1, timeout: 1, aborted: 1, error: 1, skipped: 1 };
    const x: Record<X224Outcome, 1> = { selected: 1, failure: 1, legacy: 1, closed: 1, reset: 1, timeout: 1, aborted: 1, malformed: 1, error: 1 };
    const tls: Record<TlsOutcome, 1> = { ok: 1, alert: 1, closed: 1, reset: 1, stalled: 1, timeout: 1, aborted: 1, error: 1, skipped: 1 };
    const mcs: Record<McsOutcome, 1> = { ok: 1, rejected: 1, closed: 1, reset: 1, timeout: 1, aborted: 1, malformed: 1, skipped: 1 };
    const udp: Record<UdpOutcome, 1> = { synack: 1, 'icmp-unreachable': 1, silent: 1, 'local-error': 1, skipped: 1, aborted: 1, error: 1 };
    const pairs: [object, readonly string[]][] = [[tcp, TCP_OUTCOMES], [dns, DNS_OUTCOMES], [x, X224_OUTCOMES], [tls, TLS_OUTCOMES], [mcs, MCS_OUTCOMES], [udp, UDP_OUTCOMES]];
    for (const [rec, tuple] of pairs) expect(Object.keys(rec).sort()).toEqual([...tuple].sort());
  });

  it('protocol and TLS version keys are closed too', () => {
    expect(problems(set(base(), 'protocols.FOO', { outcome: 'accepted', ms: 1 }))[0]).toMatch(/unknown key "FOO" \(one of RDP, SSL, HYBRID, RDSTLS, HYBRID_EX, RDSAAD\)/);
    expect(problems(set(base(), 'tls.versions.SSLv3', { outcome: 'accepted' }))[0]).toMatch(new RegExp(`unknown key "SSLv3" \\(one of ${TLS_VERSIONS.join(', ')}\\)`));
  });
});

describe('closed selected-protocol unions keep unknowns', () => {
  it('x224.selected, protocols.*.selected and tls.over accept a protocol name or unknown(0x…), nothing else', () => {
    for (const path of ['x224.selected', 'protocols.SSL.selected', 'tls.over']) {
      for (const p of PROTOCOL_NAMES) expect(problems(set(clone(healthy()), path, p))).toEqual([]);
      expect(problems(set(clone(healthy()), path, 'unknown(0x00000020)'))).toEqual([]);
      expect(problems(set(clone(healthy()), path, 'TLS'))[0]).toMatch(new RegExp(`^field "${path.replace(/\./g, '\\.')}" must be one of RDP, .* or unknown\\(0x…\\)`));
    }
  });

  it('an unknown selectedProtocol is named unknown(0x…) and keeps its raw value', () => {
    const cc = encodeConnectionConfirm({ neg: { kind: 'response', selectedProtocol: 0x20 } });
    const neg = decodeConnectionConfirm(cc).neg;
    expect(neg).toEqual({ kind: 'response', flags: 0, selectedProtocol: 0x20 });
    expect(selectedProtocolName(0x20)).toBe('unknown(0x00000020)');
    for (const p of PROTOCOL_NAMES) expect(selectedProtocolName(PROTOCOL_BITS[p])).toBe(p);
  });

  it('mcs.serverCertificate.type is proprietary, x509 or unknown(0x…)', () => {
    const o = clone(healthy());
    for (const type of ['proprietary', 'x509', 'unknown(0x00000007)']) {
      expect(problems(set(clone(healthy()), 'mcs.serverCertificate', { type, keyBits: 512 }))).toEqual([]);
    }
    expect(problems(set(o, 'mcs.serverCertificate', { type: 'pem' }))[0]).toMatch(/mcs\.serverCertificate\.type" must be one of proprietary, x509 or unknown/);
  });
});

describe('RDP_NEG_FAILURE names: one table (MS-RDPBCGR 2.2.1.2.2)', () => {
  it('has the six codes of the spec', () => {
    expect(NEG_FAILURE_NAMES).toEqual({
      1: 'SSL_REQUIRED_BY_SERVER',
      2: 'SSL_NOT_ALLOWED_BY_SERVER',
      3: 'SSL_CERT_NOT_ON_SERVER',
      4: 'INCONSISTENT_FLAGS',
      5: 'HYBRID_REQUIRED_BY_SERVER',
      6: 'SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER',
    });
    expect(negFailureName(9)).toBe('unknown(0x00000009)');
    expect(negFailureCoded(5)).toEqual({ value: 5, name: 'HYBRID_REQUIRED_BY_SERVER' });
  });

  it('the codec keeps no copy; diagnose names a failure it derives with the same table', () => {
    const tables = Object.entries(x224).filter(([, v]) => typeof v === 'object' && v !== null && Object.values(v).includes('SSL_REQUIRED_BY_SERVER'));
    expect(tables.map(([k]) => k)).toEqual([]);
    const o = healthy();
    delete o.protocols;
    o.x224 = undefined;
    o.security = { standardRdpAllowed: false, tlsSupported: true, tlsRequired: true, nlaSupported: true, nlaRequired: true, basis: [] };
    const a = singleAnswer(o, 'SSL');
    expect(a).toMatchObject({ kind: 'failure', failure: { value: 5, name: NEG_FAILURE_NAMES[5] }, basis: 'facts' });
  });
});

describe('unknownName: the one unknown(0x…) format', () => {
  it('pads to the width given, reads the value as unsigned 32-bit', () => {
    expect(unknownName(7)).toBe('unknown(0x00000007)');
    expect(unknownName(0xab, 2)).toBe('unknown(0xab)');
    expect(unknownName(0xc0de, 4)).toBe('unknown(0xc0de)');
    expect(unknownName(0x100, 0)).toBe('unknown(0x100)');
    expect(unknownName(-1)).toBe('unknown(0xffffffff)');
    expect(isUnknownName(unknownName(0x1234))).toBe(true);
    expect(isUnknownName('SSL')).toBe(false);
  });

  it('every code → name table falls back to it', () => {
    expect(nameOf({ 1: 'ONE' }, 2)).toBe(unknownName(2, 8));
    expect(nameOf({ 1: 'ONE' }, 2, 2)).toBe(unknownName(2, 2));
    expect(flagNames({ 1: 'A' }, 0x31)).toEqual(['A', unknownName(0x30, 0)]);
    expect(ntstatusName(0x12345678)).toBe(unknownName(0x12345678, 8));
    expect(ntstatusName(-1)).toBe('unknown(0xffffffff)');
    expect(selectedProtocolName(0x40)).toBe(unknownName(0x40, 8));
    expect(negFailureName(0x7f)).toBe(unknownName(0x7f, 8));
  });
});

describe('shared predicates and bits', () => {
  it('usesTls / usesCredssp over every protocol name', () => {
    expect(PROTOCOL_NAMES.filter(usesTls)).toEqual(['SSL', 'HYBRID', 'RDSTLS', 'HYBRID_EX', 'RDSAAD']);
    expect(PROTOCOL_NAMES.filter(usesCredssp)).toEqual(['HYBRID', 'HYBRID_EX']);
    expect(usesTls(undefined)).toBe(false);
    expect(usesTls('unknown(0x00000020)')).toBe(false);
  });

  it('encryption method bits (MS-RDPBCGR 2.2.1.3.3) and EXTENDED_CLIENT_DATA_SUPPORTED (2.2.1.2.1)', () => {
    expect(ENCRYPTION_METHODS.map((m) => ENCRYPTION_METHOD_BITS[m])).toEqual([0x01, 0x02, 0x08, 0x10]);
    expect(extendedClientDataSupported({ value: 0x1f, names: [] })).toBe(true);
    expect(extendedClientDataSupported({ value: 0x1e, names: [] })).toBe(false);
    expect(extendedClientDataSupported(undefined)).toBe(false);
  });

  it('assertNever throws with the value it was given', () => {
    expect(() => assertNever('x' as never, 'tcp outcome')).toThrow('unexpected tcp outcome: "x"');
  });
});
