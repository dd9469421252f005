/**
 * What a given client profile would get from the server's X.224 negotiation, predicted from the observation.
 *
 * The probe's own request (x224.requested, usually SSL|HYBRID|HYBRID_EX) is generally not the client's, so the
 * answer is taken, in order of directness, from: the main X.224 exchange when it used exactly the client's offer;
 * the per-protocol enumeration (one connection per protocol alone) when the offer is a single protocol; otherwise a
 * combination of the enumeration answers (the server selects the most preferred protocol it accepts, MS-RDPBCGR
 * 3.3.5.3.1), then the derived `security` facts, then what the main exchange implies for a subset of its offer.
 * Then the client's reaction is applied (accept the selection, or retry with fewer protocols like FreeRDP does).
 */
import type { Observation, ProtocolResult } from '../observation/types.js';
import {
  HYBRID_REQUIRED_BY_SERVER,
  SSL_CERT_NOT_ON_SERVER,
  SSL_NOT_ALLOWED_BY_SERVER,
  SSL_REQUIRED_BY_SERVER,
  assertNever,
  negFailureCoded,
  type Coded,
  type ProtocolName,
} from '../observation/vocab.js';
import type { ClientProfile } from './profiles.js';
import type { Evidence } from './types.js';

/** How directly an answer was observed. */
export type AnswerBasis = 'exact' | 'combined' | 'facts' | 'implied';

export type Answer =
  | { kind: 'selected'; protocol: string; basis: AnswerBasis; evidence: Evidence[] }
  | { kind: 'failure'; failure: Coded; basis: AnswerBasis; evidence: Evidence[] }
  | { kind: 'legacy'; basis: AnswerBasis; evidence: Evidence[] }
  | { kind: 'no-answer'; outcome: string; basis: AnswerBasis; evidence: Evidence[] }
  | { kind: 'unknown'; evidence: Evidence[] };

export interface Prediction {
  /**
   * ok: the negotiation succeeds for this client. mismatch: it fails (failure code or an unacceptable selection).
   * no-negotiation: the server never answered the negotiation (closed/reset/timeout). unknown: the observation
   * cannot tell. not-reached: TCP never opened, or no negotiation was attempted.
   */
  status: 'ok' | 'mismatch' | 'no-negotiation' | 'unknown' | 'not-reached';
  /** ok: the protocol the session runs on. */
  protocol?: string;
  /** ok: reached through a legacy CC (server ignored the negotiation). */
  legacy?: boolean;
  /** ok after the client retried with fewer protocols. */
  fallback?: { failure: Coded; from: ProtocolName[]; to: ProtocolName[] };
  /** mismatch: the failure code, or the selection the client refuses. */
  failure?: Coded;
  selectedUnacceptable?: string;
  /** The offer that produced the terminal answer. */
  offered: ProtocolName[];
  basis?: AnswerBasis;
  /** For no-negotiation: closed/reset/timeout. */
  noAnswer?: string;
  evidence: Evidence[];
}

const TLS_BASED: readonly ProtocolName[] = ['SSL', 'HYBRID', 'HYBRID_EX', 'RDSTLS', 'RDSAAD'];
const PREFERENCE: readonly ProtocolName[] = ['RDSAAD', 'HYBRID_EX', 'RDSTLS', 'HYBRID', 'SSL'];

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const x = a.filter((p) => p !== 'RDP');
  const y = b.filter((p) => p !== 'RDP');
  return x.length === y.length && x.every((p) => y.includes(p));
}

function byPreference(set: readonly ProtocolName[]): ProtocolName[] {
  return PREFERENCE.filter((p) => set.includes(p));
}

function fromEnumeration(p: ProtocolName, r: ProtocolResult): Answer {
  const f = `protocols.${p}`;
  const ev: Evidence[] = [{ field: `${f}.outcome`, value: r.outcome }];
  switch (r.outcome) {
    case 'accepted':
      return { kind: 'selected', protocol: r.selected ?? p, basis: 'exact', evidence: ev };
    case 'not-selected':
      if (r.selected === undefined) return { kind: 'unknown', evidence: ev };
      ev.push({ field: `${f}.selected`, value: r.selected, note: `the server answered a ${p} request by selecting ${r.selected}` });
      return { kind: 'selected', protocol: r.selected, basis: 'exact', evidence: ev };
    case 'failure':
      if (!r.failure) return { kind: 'unknown', evidence: ev };
      ev.push({ field: `${f}.failure.name`, value: r.failure.name });
      return { kind: 'failure', failure: r.failure, basis: 'exact', evidence: ev };
    case 'legacy':
      return { kind: 'legacy', basis: 'exact', evidence: ev };
    case 'no-answer':
    case 'refused':
      if (r.detail) ev.push({ field: `${f}.detail`, value: r.detail });
      return { kind: 'no-answer', outcome: r.detail ?? r.outcome, basis: 'exact', evidence: ev };
    case 'error':
      return { kind: 'unknown', evidence: ev };
    default:
      return assertNever(r.outcome, 'protocol result outcome');
  }
}

/** The server's answer to one protocol requested alone ('RDP' = requestedProtocols 0). */
export function singleAnswer(obs: Observation, p: ProtocolName): Answer {
  const r = obs.protocols?.[p];
  if (r) {
    const a = fromEnumeration(p, r);
    if (a.kind !== 'unknown') return a;
  }
  const f = obs.security;
  if (f) {
    const fact = (k: keyof Omit<typeof f, 'basis'>): Evidence => ({ field: `security.${k}`, value: f[k] });
    const basis: Evidence[] = f.basis.length ? [{ field: 'security.basis', value: f.basis }] : [];
    const sel = (protocol: string, ...ks: (keyof Omit<typeof f, 'basis'>)[]): Answer => ({
      kind: 'selected', protocol, basis: 'facts', evidence: [...ks.map(fact), ...basis],
    });
    const fail = (code: number, ...ks: (keyof Omit<typeof f, 'basis'>)[]): Answer => ({
      kind: 'failure', failure: negFailureCoded(code), basis: 'facts', evidence: [...ks.map(fact), ...basis],
    });
    if (p === 'RDP') {
      if (f.standardRdpAllowed === true) return sel('RDP', 'standardRdpAllowed');
      if (f.nlaRequired === true) return fail(HYBRID_REQUIRED_BY_SERVER, 'nlaRequired');
      if (f.tlsRequired === true) return fail(SSL_REQUIRED_BY_SERVER, 'tlsRequired');
    } else if (p === 'SSL') {
      if (f.nlaRequired === true) return fail(HYBRID_REQUIRED_BY_SERVER, 'nlaRequired');
      if (f.tlsSupported === true) return sel('SSL', 'tlsSupported');
      if (f.tlsSupported === false && f.standardRdpAllowed === true) return fail(SSL_NOT_ALLOWED_BY_SERVER, 'tlsSupported', 'standardRdpAllowed');
    } else if (p === 'HYBRID' || p === 'HYBRID_EX') {
      if (f.nlaSupported === true) return sel('HYBRID', 'nlaSupported');
      if (f.nlaSupported === false && f.tlsSupported === true) return fail(SSL_REQUIRED_BY_SERVER, 'nlaSupported', 'tlsSupported');
      if (f.nlaSupported === false && f.tlsSupported === false && f.standardRdpAllowed === true) {
        return fail(SSL_NOT_ALLOWED_BY_SERVER, 'nlaSupported', 'tlsSupported', 'standardRdpAllowed');
      }
    }
  }
  const x = obs.x224;
  if (x && x.outcome === 'selected' && x.selected === p) {
    return {
      kind: 'selected', protocol: p, basis: 'implied',
      evidence: [{ field: 'x224.selected', value: x.selected, note: `selected from the probe's offer ${x.requested.join('|') || 'RDP'}` }],
    };
  }
  // HYBRID_EX is CredSSP plus the Early User Authorization Result (MS-RDPBCGR 2.2.1.1.1): a server selecting it does CredSSP.
  if (x && x.outcome === 'selected' && x.selected === 'HYBRID_EX' && p === 'HYBRID') {
    return {
      kind: 'selected', protocol: 'HYBRID', basis: 'implied',
      evidence: [{ field: 'x224.selected', value: x.selected, note: 'a server that selects HYBRID_EX speaks CredSSP (HYBRID)' }],
    };
  }
  return { kind: 'unknown', evidence: [] };
}

function fromMainX224(obs: Observation, basis: AnswerBasis): Answer | undefined {
  const x = obs.x224;
  if (!x) return undefined;
  const ev: Evidence[] = [
    { field: 'x224.requested', value: x.requested.join('|') || 'RDP' },
    { field: 'x224.outcome', value: x.outcome },
  ];
  switch (x.outcome) {
    case 'selected':
      if (x.selected === undefined) return undefined;
      ev.push({ field: 'x224.selected', value: x.selected });
      return { kind: 'selected', protocol: x.selected, basis, evidence: ev };
    case 'failure':
      if (!x.failure) return undefined;
      ev.push({ field: 'x224.failure.name', value: x.failure.name });
      return { kind: 'failure', failure: x.failure, basis, evidence: ev };
    case 'legacy':
      return { kind: 'legacy', basis, evidence: ev };
    case 'closed':
    case 'reset':
    case 'timeout':
      return { kind: 'no-answer', outcome: x.outcome, basis, evidence: ev };
    // a whole-probe abort is not the server's answer: not measured, like malformed bytes or our own error
    case 'aborted':
    case 'malformed':
    case 'error':
      return undefined;
    default:
      return assertNever(x.outcome, 'x224 outcome');
  }
}

/** The server's answer to one X.224 request offering `set` (RDP implied). */
export function answerFor(obs: Observation, set: readonly ProtocolName[]): Answer {
  const x = obs.x224;
  let noAnswer: Answer | undefined;
  // 1. The probe's main exchange used exactly this offer.
  if (x && sameSet(x.requested, set)) {
    const a = fromMainX224(obs, 'exact');
    if (a && a.kind !== 'no-answer') return a;
    noAnswer = a;
  }
  const ordered = byPreference(set);
  // 2. A single-protocol offer: the enumeration asked exactly this.
  if (ordered.length <= 1) {
    const a = singleAnswer(obs, ordered[0] ?? 'RDP');
    if (a.kind !== 'unknown' && a.kind !== 'no-answer') return a;
    noAnswer ??= a.kind === 'no-answer' ? a : undefined;
  } else {
    // 3. Combine the single-protocol answers: the server selects its most preferred accepted protocol.
    const answers = ordered.map((p) => ({ p, a: singleAnswer(obs, p) }));
    const known = answers.filter(({ a }) => a.kind !== 'unknown' && a.kind !== 'no-answer');
    const evidence = known.flatMap(({ a }) => a.evidence);
    const basis: AnswerBasis = known.some(({ a }) => a.kind !== 'unknown' && 'basis' in a && a.basis !== 'exact') ? 'facts' : 'combined';
    for (const { p, a } of answers) {
      if (a.kind === 'selected' && (a.protocol === p || (p === 'HYBRID_EX' && a.protocol === 'HYBRID' && set.includes('HYBRID')))) {
        return { kind: 'selected', protocol: a.protocol, basis, evidence };
      }
    }
    // Nothing accepted as offered. A selection of something else (typically RDP) wins over failures.
    for (const { a } of answers) {
      if (a.kind === 'selected' && a.protocol !== 'HYBRID') return { kind: 'selected', protocol: a.protocol, basis, evidence };
    }
    // Every member refused (or unknown): the most preferred refusal is what the server sends for the set, provided
    // the set's members all answered; with unknowns we cannot exclude that one of them is accepted.
    if (known.length === answers.length) {
      const f = known.find(({ a }) => a.kind === 'failure');
      if (f && f.a.kind === 'failure') return { kind: 'failure', failure: f.a.failure, basis, evidence };
      if (known.some(({ a }) => a.kind === 'legacy')) return { kind: 'legacy', basis, evidence };
    }
    const na = answers.find(({ a }) => a.kind === 'no-answer');
    if (na && known.length === 0) noAnswer ??= na.a;
  }
  // 4. What the main exchange implies for a subset of its offer.
  if (x && set.length > 0) {
    const a = fromMainX224(obs, 'implied');
    if (a) {
      const offeredTls = set.some((p) => TLS_BASED.includes(p));
      if (a.kind === 'selected' && set.includes(a.protocol as ProtocolName)) {
        // The server chose q from the probe's offer; it chooses q from this offer too, unless this offer contains a
        // protocol it prefers over q that the probe did not offer (then we cannot know).
        const q = a.protocol as ProtocolName;
        const preferredUnprobed = set.some((p) => p !== q && byPreference([p, q])[0] === p && !x.requested.includes(p));
        if (!preferredUnprobed) return a;
      }
      if (a.kind === 'failure' && offeredTls && (a.failure.value === SSL_NOT_ALLOWED_BY_SERVER || a.failure.value === SSL_CERT_NOT_ON_SERVER)) return a;
      if (a.kind === 'legacy') return a;
    }
  }
  return noAnswer ?? { kind: 'unknown', evidence: [] };
}

function acceptable(profile: ClientProfile, offered: readonly ProtocolName[], protocol: string): boolean {
  if (protocol === 'RDP') return profile.rdp;
  if (offered.includes(protocol as ProtocolName)) return true;
  return protocol === 'HYBRID' && offered.includes('HYBRID_EX');
}

/** Predict the negotiation outcome for a client profile. */
export function predictNegotiation(obs: Observation, profile: ClientProfile): Prediction {
  if (obs.tcp?.outcome !== 'open') return { status: 'not-reached', offered: profile.offer, evidence: [] };
  if (!obs.x224 && !obs.protocols && !obs.security) {
    return { status: 'not-reached', offered: profile.offer, evidence: [{ field: 'x224', value: undefined, note: 'no negotiation in the observation' }] };
  }
  let offer: ProtocolName[] = [...profile.offer];
  let fallback: Prediction['fallback'];
  const trail: Evidence[] = [];
  for (let attempt = 0; attempt < 4; attempt++) {
    const a = answerFor(obs, offer);
    const evidence = [...trail, ...a.evidence];
    switch (a.kind) {
      case 'selected':
        if (acceptable(profile, offer, a.protocol)) {
          return { status: 'ok', protocol: a.protocol, fallback, offered: offer, basis: a.basis, evidence };
        }
        return { status: 'mismatch', selectedUnacceptable: a.protocol, offered: offer, basis: a.basis, evidence };
      case 'legacy':
        if (profile.rdp) return { status: 'ok', protocol: 'RDP', legacy: true, fallback, offered: offer, basis: a.basis, evidence };
        return { status: 'mismatch', selectedUnacceptable: 'RDP', offered: offer, basis: a.basis, evidence };
      case 'failure': {
        const next = profile.retry(a.failure.value, offer);
        if (next) {
          fallback = { failure: a.failure, from: offer, to: next };
          trail.push(...a.evidence, {
            field: 'client.retry',
            value: next.join('|') || 'RDP',
            note: `${profile.base} reconnects offering ${next.join('|') || 'RDP'} after ${a.failure.name}`,
          });
          offer = next;
          continue;
        }
        return { status: 'mismatch', failure: a.failure, offered: offer, basis: a.basis, evidence };
      }
      case 'no-answer':
        return { status: 'no-negotiation', noAnswer: a.outcome, offered: offer, basis: a.basis, evidence };
      case 'unknown':
        return { status: 'unknown', offered: offer, evidence };
    }
  }
  return { status: 'unknown', offered: offer, evidence: trail };
}
