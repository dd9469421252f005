/**
 * Any valid Observation is diagnosable: random combinations of outcomes and missing sections (seeded PRNG) never make
 * the engine throw, and every result is self-consistent (verdict ↔ findings, line first in the report).
 */
import { describe, expect, it } from 'vitest';
import { diagnose, PROFILE_NAMES, REQUIRE_MODES } from '../../src/diagnose/index.js';
import { validateObservation } from '../../src/observation/validate.js';
import { PROTOCOL_NAMES, TLS_VERSIONS, type Observation } from '../../src/observation/types.js';
import { renderDiagnosis } from '../../src/report/findings.js';
import { healthy, NEG, windowsNlaRequired, xrdpRdpOnly, xrdpTlsOnly } from './fixtures.js';
import { prng } from '../helpers/prng.js';
import { OUTCOMES } from '../helpers/outcomes.js';


/** Every outcome of every phase (test/helpers/outcomes.ts is checked exhaustive by the compiler), plus selections. */
const PICK = {
  ...OUTCOMES,
  selected: [...PROTOCOL_NAMES, 'unknown(0x00000040)'],
} as const;

/** Which values each PICK list gave, so the test can check that the generator reached every one of them. */
type Drawn = Map<readonly unknown[], Set<unknown>>;

function randomObservation(r: () => number, drawn: Drawn): Observation {
  const pick = <T>(a: readonly T[]): T => {
    const v = a[Math.floor(r() * a.length)];
    drawn.set(a, (drawn.get(a) ?? new Set()).add(v));
    return v;
  };
  const maybe = (p = 0.5) => r() < p;
  const bases = [healthy, windowsNlaRequired, xrdpTlsOnly, xrdpRdpOnly];
  const o = pick(bases)() as Observation & Record<string, unknown>;
  const failures = Object.values(NEG).concat([{ value: 0x1f, name: 'unknown(0x0000001f)' }]);
  if (maybe(0.3)) o.dns = { outcome: pick(PICK.dns), addresses: [], ms: r() * 100 };
  if (maybe(0.3)) o.tcp = { ...o.tcp!, outcome: pick(PICK.tcp), errno: maybe() ? 'EWHATEVER' : undefined };
  if (maybe(0.1)) delete o.tcp;
  if (o.x224 && maybe(0.4)) {
    o.x224 = { ...o.x224, outcome: pick(PICK.x224), selected: maybe() ? pick(PICK.selected) : undefined, failure: maybe() ? pick(failures) : undefined };
  }
  if (maybe(0.15)) delete o.x224;
  if (o.protocols && maybe(0.5)) {
    for (const p of Object.keys(o.protocols) as (keyof typeof o.protocols)[]) {
      if (maybe(0.4)) o.protocols[p] = { outcome: pick(PICK.protocol), selected: maybe() ? pick(PICK.selected) : undefined, failure: maybe() ? pick(failures) : undefined, ms: 1 };
      if (maybe(0.1)) delete o.protocols[p];
    }
  }
  if (maybe(0.2)) delete o.security;
  if (maybe(0.3)) o.tls = { outcome: pick(PICK.tls), bytesReceived: Math.floor(r() * 3000), alert: maybe() ? 'protocol version' : undefined, certificate: maybe() ? healthy().tls!.certificate : undefined };
  if (o.tls && maybe(0.3)) o.tls.versions = Object.fromEntries(TLS_VERSIONS.filter(() => maybe()).map((v) => [v, { outcome: pick(PICK.tlsVersion) }]));
  if (o.tls && maybe(0.2)) o.tls.stallEvidence = pick(PICK.stallEvidence);
  if (maybe(0.3)) {
    o.credssp = { outcome: pick(PICK.credssp), ms: 1, version: maybe() ? Math.floor(r() * 7) : undefined, errorCode: maybe() ? { value: 0xc000006d, name: 'STATUS_LOGON_FAILURE' } : undefined };
    if (maybe()) o.credssp.auth = { user: 'u', outcome: pick(PICK.credsspAuth), errorCode: maybe() ? { value: 0xdeadbeef, name: 'unknown(0xdeadbeef)' } : undefined, earlyUserAuth: maybe() ? { value: 5, name: 'AUTHZ_ACCESS_DENIED' } : undefined };
  }
  if (maybe(0.3)) o.mcs = { outcome: pick(PICK.mcs), via: pick(PICK.mcsVia), ms: 1, multitransport: maybe() ? { value: Math.floor(r() * 0x400), names: [] } : undefined };
  if (o.mcs && maybe(0.3)) o.mcs.encryptionMethods = { '128BIT': pick(PICK.mcsEncryptionMethod), FIPS: pick(PICK.mcsEncryptionMethod) };
  if (maybe(0.3)) o.udp = { outcome: pick(PICK.udp) };
  if (maybe(0.3)) {
    o.pmtu = {
      outcome: pick(PICK.pmtu),
      probes: [{ size: 1500, result: pick(PICK.pmtuProbe) }],
      pathMtu: maybe() ? 1200 + Math.floor(r() * 400) : undefined,
      bounds: maybe() ? { passes: 1400, lost: 1401 } : undefined,
      mssClamp: maybe() ? { defaultStalled: maybe(), clampedOk: maybe() ? maybe() : undefined, clampedMss: maybe() ? 1300 : undefined } : undefined,
    };
  }
  if (maybe(0.2)) o.stability = { samples: Math.floor(r() * 30), ok: 0, lost: Math.floor(r() * 5), rttMs: { min: 1, avg: 2, max: 90, jitter: r() * 60 } };
  if (maybe(0.2)) o.burst = { connections: 10, accepted: 10, refused: 0, reset: Math.floor(r() * 10), timeout: 0, negotiated: Math.floor(r() * 10) };
  return JSON.parse(JSON.stringify(o)) as Observation; // drop undefined keys like a real JSON round trip
}

describe('robustness', () => {
  it('400 random observations × every profile/requirement: no throw, consistent verdicts', () => {
    const r = prng(0x5eed);
    const drawn: Drawn = new Map();
    for (let i = 0; i < 400; i++) {
      const obs = randomObservation(r, drawn);
      expect(() => validateObservation(obs)).not.toThrow();
      for (const profile of PROFILE_NAMES) {
        for (const require of [undefined, ...REQUIRE_MODES]) {
          const d = diagnose(obs, { profile, require });
          const errors = d.findings.filter((f) => f.severity === 'error');
          expect(d.verdict.line.length).toBeGreaterThan(0);
          expect(d.verdict.line).not.toContain('undefined');
          if (errors.length) expect(d.verdict).toMatchObject({ healthy: false, status: 'failing', causeId: errors[0].id });
          else expect(d.verdict.status).not.toBe('failing');
          expect(renderDiagnosis(d).split('\n')[0]).toBe(d.verdict.line);
          for (const f of d.findings) {
            for (const x of f.fixes) expect(x.text).not.toMatch(/\{(host|port|target|mtu|mss|iface|ipver)\}/);
            expect(f.summary).not.toContain('undefined');
          }
        }
      }
    }
    // the generator reached every value of every list (a list it never draws from, or a value it never picks, fails)
    for (const [name, values] of Object.entries(PICK)) {
      expect({ name, missing: values.filter((v) => !drawn.get(values)?.has(v)) }).toEqual({ name, missing: [] });
    }
  });
});
