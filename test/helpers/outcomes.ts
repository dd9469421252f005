/**
 * Every value of every phase outcome union, in one place, for generators that must draw from all of them
 * (test/diagnose/robustness.test.ts). Each list is built from a `Record<Union, true>` table, so the compiler rejects
 * a missing member and an extra one: adding an outcome to src/observation/types.ts breaks `npm run typecheck` until
 * it is listed here. When the sources export const tuples of these values, replace a table by the tuple (keeping
 * the `readonly Union[]` type) and the generators follow.
 */
import type {
  CredsspObservation,
  CredsspOutcome,
  DnsOutcome,
  McsObservation,
  McsOutcome,
  PmtuObservation,
  PmtuProbeResult,
  ProtocolResultOutcome,
  TcpOutcome,
  TlsObservation,
  TlsOutcome,
  TlsVersionOutcome,
  UdpOutcome,
  X224Outcome,
} from '../../src/observation/types.js';

export type CredsspAuthOutcome = NonNullable<CredsspObservation['auth']>['outcome'];
export type PmtuOutcome = PmtuObservation['outcome'];
export type McsVia = McsObservation['via'];
export type StallEvidence = NonNullable<TlsObservation['stallEvidence']>;
type EncryptionMethodResult = NonNullable<McsObservation['encryptionMethods']>[keyof NonNullable<McsObservation['encryptionMethods']>] & string;

/** The keys of an exhaustive table, typed as the union the table was checked against. */
function members<K extends string>(table: Record<K, true>): readonly K[] {
  return Object.keys(table) as K[]; // Object.keys loses the key type; the Record<K, true> argument guarantees it
}

/** One list per phase (plus the few other closed unions a generator picks from). */
export const OUTCOMES = {
  dns: members<DnsOutcome>({ ok: true, nxdomain: true, nodata: true, servfail: true, refused: true, timeout: true, error: true, skipped: true }),
  tcp: members<TcpOutcome>({ open: true, refused: true, filtered: true, unreachable: true, reset: true, timeout: true, error: true }),
  x224: members<X224Outcome>({ selected: true, failure: true, legacy: true, closed: true, reset: true, timeout: true, malformed: true, error: true }),
  protocol: members<ProtocolResultOutcome>({
    accepted: true,
    'not-selected': true,
    failure: true,
    refused: true,
    legacy: true,
    'no-answer': true,
    error: true,
  }),
  tls: members<TlsOutcome>({ ok: true, alert: true, closed: true, reset: true, stalled: true, timeout: true, error: true, skipped: true }),
  tlsVersion: members<TlsVersionOutcome>({ accepted: true, rejected: true, closed: true, timeout: true, error: true, 'unsupported-locally': true }),
  credssp: members<CredsspOutcome>({ challenge: true, error: true, closed: true, alert: true, reset: true, timeout: true, malformed: true, skipped: true }),
  credsspAuth: members<CredsspAuthOutcome>({ success: true, failed: true, 'error-code': true, closed: true, alert: true, timeout: true, malformed: true }),
  mcs: members<McsOutcome>({ ok: true, rejected: true, closed: true, reset: true, timeout: true, malformed: true, skipped: true }),
  udp: members<UdpOutcome>({ synack: true, 'icmp-unreachable': true, silent: true, skipped: true, error: true }),
  pmtu: members<PmtuOutcome>({ measured: true, 'black-hole': true, unprivileged: true, unreachable: true, skipped: true, error: true }),
  pmtuProbe: members<PmtuProbeResult>({ ok: true, 'frag-needed': true, lost: true, emsgsize: true, error: true }),
  mcsVia: members<McsVia>({ plain: true, tls: true }),
  mcsEncryptionMethod: members<EncryptionMethodResult>({ accepted: true, rejected: true, 'no-answer': true }),
  stallEvidence: members<StallEvidence>({ deadline: true, hole: true }),
} as const;
