/**
 * Any valid Observation is diagnosable: random combinations of outcomes and missing sections (seeded PRNG) never make
 * the engine throw, and every result is self-consistent (verdict ↔ findings, line first in the report).
 */
import { describe, expect, it } from 'vitest';
import { diagnose, PROFILE_NAMES, REQUIRE_MODES } from '../../src/diagnose/index.js';
import { validateObservation } from '../../src/observation/validate.js';
import type { Observation } from '../../src/observation/types.js';
import { renderDiagnosis } from '../../src/report/findings.js';
import { healthy, NEG, windowsNlaRequired, xrdpRdpOnly, xrdpTlsOnly } from './fixtures.js';
import { prng } from '../helpers/prng.js';


const PICK = {
  dns: ['ok', 'nxdomain', 'nodata', 'servfail', 'refused', 'timeout', 'aborted', 'error', 'skipped'],
  tcp: ['open', 'refused', 'filtered', 'unreachable', 'reset', 'timeout', 'aborted', 'error'],
  x224: ['selected', 'failure', 'legacy', 'closed', 'reset', 'timeout', 'aborted', 'malformed', 'error'],
  proto: ['accepted', 'not-selected', 'failure', 'legacy', 'no-answer', 'error'],
  tls: ['ok', 'alert', 'closed', 'reset', 'stalled', 'timeout', 'aborted', 'error', 'skipped'],
  tlsv: ['accepted', 'rejected', 'closed', 'reset', 'stalled', 'timeout', 'aborted', 'error', 'unsupported-locally'],
  credssp: ['challenge', 'error', 'closed', 'alert', 'reset', 'timeout', 'aborted', 'malformed', 'skipped'],
  auth: ['success', 'failed', 'error-code', 'closed', 'alert', 'timeout', 'aborted', 'malformed'],
  mcs: ['ok', 'rejected', 'closed', 'reset', 'timeout', 'aborted', 'malformed', 'skipped'],
  udp: ['synack', 'icmp-unreachable', 'silent', 'local-error', 'aborted', 'skipped', 'error'],
  pmtu: ['measured', 'black-hole', 'unprivileged', 'unreachable', 'skipped', 'error'],
  selected: ['RDP', 'SSL', 'HYBRID', 'HYBRID_EX', 'RDSTLS', 'RDSAAD', 'unknown(0x00000040)'],
} as const;

function randomObservation(r: () => number): Observation {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
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
      if (maybe(0.4)) o.protocols[p] = { outcome: pick(PICK.proto), selected: maybe() ? pick(PICK.selected) : undefined, failure: maybe() ? pick(failures) : undefined, ms: 1 };
      if (maybe(0.1)) delete o.protocols[p];
    }
  }
  if (maybe(0.2)) delete o.security;
  if (maybe(0.3)) o.tls = { outcome: pick(PICK.tls), bytesReceived: Math.floor(r() * 3000), alert: maybe() ? 'protocol version' : undefined, certificate: maybe() ? healthy().tls!.certificate : undefined };
  if (o.tls && maybe(0.3)) o.tls.versions = { TLSv1: { outcome: pick(PICK.tlsv) }, 'TLSv1.2': { outcome: pick(PICK.tlsv) } };
  if (maybe(0.3)) {
    o.credssp = { outcome: pick(PICK.credssp), ms: 1, version: maybe() ? Math.floor(r() * 7) : undefined, errorCode: maybe() ? { value: 0xc000006d, name: 'STATUS_LOGON_FAILURE' } : undefined };
    if (maybe()) o.credssp.auth = { user: 'u', outcome: pick(PICK.auth), errorCode: maybe() ? { value: 0xdeadbeef, name: 'unknown(0xdeadbeef)' } : undefined, earlyUserAuth: maybe() ? { value: 5, name: 'AUTHZ_ACCESS_DENIED' } : undefined };
  }
  if (maybe(0.3)) o.mcs = { outcome: pick(PICK.mcs), via: maybe() ? 'tls' : 'plain', ms: 1, multitransport: maybe() ? { value: Math.floor(r() * 0x400), names: [] } : undefined };
  if (maybe(0.3)) o.udp = { outcome: pick(PICK.udp) };
  if (maybe(0.3)) {
    o.pmtu = {
      outcome: pick(PICK.pmtu),
      probes: [{ size: 1500, result: maybe() ? 'ok' : 'lost' }],
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
    for (let i = 0; i < 400; i++) {
      const obs = randomObservation(r);
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
  });
});
