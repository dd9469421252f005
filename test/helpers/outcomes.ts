/**
 * Every value of every phase outcome union, in one place, for generators that must draw from all of them
 * (test/diagnose/robustness.test.ts). The lists are the vocabulary's own const tuples (src/observation/vocab.ts), so
 * a new outcome is generated without editing this file; the `satisfies` checks below make the compiler reject a
 * tuple that drifts from the Observation type it is meant to enumerate.
 */
import type { CredsspObservation, McsObservation, PmtuObservation, TlsObservation } from '../../src/observation/types.js';
import {
  CREDSSP_AUTH_OUTCOMES,
  CREDSSP_OUTCOMES,
  DNS_OUTCOMES,
  ENCRYPTION_METHOD_OUTCOMES,
  MCS_OUTCOMES,
  MCS_VIA,
  PMTU_OUTCOMES,
  PMTU_PROBE_RESULTS,
  PROTOCOL_RESULT_OUTCOMES,
  TCP_OUTCOMES,
  TLS_OUTCOMES,
  TLS_STALL_EVIDENCE,
  TLS_VERSION_OUTCOMES,
  UDP_OUTCOMES,
  X224_OUTCOMES,
} from '../../src/observation/vocab.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type EncryptionMethodResult = NonNullable<McsObservation['encryptionMethods']>[keyof NonNullable<McsObservation['encryptionMethods']>] & string;

// Compile-time: each tuple is exactly the union the Observation uses for that field.
const checks = {
  credsspAuth: true as Same<(typeof CREDSSP_AUTH_OUTCOMES)[number], NonNullable<CredsspObservation['auth']>['outcome']>,
  pmtu: true as Same<(typeof PMTU_OUTCOMES)[number], PmtuObservation['outcome']>,
  mcsVia: true as Same<(typeof MCS_VIA)[number], McsObservation['via']>,
  stall: true as Same<(typeof TLS_STALL_EVIDENCE)[number], NonNullable<TlsObservation['stallEvidence']>>,
  encryption: true as Same<(typeof ENCRYPTION_METHOD_OUTCOMES)[number], EncryptionMethodResult>,
} satisfies Record<string, true>;
void checks;

/** One list per phase (plus the few other closed unions a generator picks from). */
export const OUTCOMES = {
  dns: DNS_OUTCOMES,
  tcp: TCP_OUTCOMES,
  x224: X224_OUTCOMES,
  protocol: PROTOCOL_RESULT_OUTCOMES,
  tls: TLS_OUTCOMES,
  tlsVersion: TLS_VERSION_OUTCOMES,
  credssp: CREDSSP_OUTCOMES,
  credsspAuth: CREDSSP_AUTH_OUTCOMES,
  mcs: MCS_OUTCOMES,
  udp: UDP_OUTCOMES,
  pmtu: PMTU_OUTCOMES,
  pmtuProbe: PMTU_PROBE_RESULTS,
  mcsVia: MCS_VIA,
  mcsEncryptionMethod: ENCRYPTION_METHOD_OUTCOMES,
  stallEvidence: TLS_STALL_EVIDENCE,
} as const;
