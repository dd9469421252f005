/**
 * NTSTATUS (MS-ERREF 2.3.1) values a CredSSP server puts in TSRequest.errorCode (MS-CSSP 2.2.1) when SPNEGO/NTLM
 * fails, plus the few SSPI HRESULTs (MS-ERREF 2.1.1, SEC_E_*) some servers report there instead.
 *
 * TSRequest.errorCode is a DER INTEGER, i.e. signed: 0xC000006D arrives as the negative number -1073741715. Every
 * function here takes either form and works on the unsigned 32-bit value.
 */
import type { Coded } from '../observation/vocab.js';
import { nameOf } from './names.js';

export const NTSTATUS: Readonly<Record<number, string>> = {
  0x00000000: 'STATUS_SUCCESS',
  0xc000000d: 'STATUS_INVALID_PARAMETER',
  0xc0000016: 'STATUS_MORE_PROCESSING_REQUIRED',
  0xc0000022: 'STATUS_ACCESS_DENIED',
  0xc000005e: 'STATUS_NO_LOGON_SERVERS',
  0xc0000064: 'STATUS_NO_SUCH_USER',
  0xc000006a: 'STATUS_WRONG_PASSWORD',
  0xc000006c: 'STATUS_PASSWORD_RESTRICTION',
  0xc000006d: 'STATUS_LOGON_FAILURE',
  0xc000006e: 'STATUS_ACCOUNT_RESTRICTION',
  0xc000006f: 'STATUS_INVALID_LOGON_HOURS',
  0xc0000070: 'STATUS_INVALID_WORKSTATION',
  0xc0000071: 'STATUS_PASSWORD_EXPIRED',
  0xc0000072: 'STATUS_ACCOUNT_DISABLED',
  0xc00000bb: 'STATUS_NOT_SUPPORTED',
  0xc00000cc: 'STATUS_BAD_NETWORK_NAME',
  0xc00000df: 'STATUS_NO_SUCH_DOMAIN',
  0xc0000133: 'STATUS_TIME_DIFFERENCE_AT_DC',
  0xc000015b: 'STATUS_LOGON_TYPE_NOT_GRANTED',
  0xc000018d: 'STATUS_TRUSTED_RELATIONSHIP_FAILURE',
  0xc0000193: 'STATUS_ACCOUNT_EXPIRED',
  0xc0000203: 'STATUS_USER_SESSION_DELETED',
  0xc0000224: 'STATUS_PASSWORD_MUST_CHANGE',
  0xc0000234: 'STATUS_ACCOUNT_LOCKED_OUT',
  0xc0000388: 'STATUS_DOWNGRADE_DETECTED',
  0xc0000413: 'STATUS_AUTHENTICATION_FIREWALL_FAILED',
  // SSPI HRESULTs (MS-ERREF 2.1.1), seen in place of an NTSTATUS from some CredSSP stacks.
  0x80090302: 'SEC_E_UNSUPPORTED_FUNCTION',
  0x80090308: 'SEC_E_INVALID_TOKEN',
  0x8009030c: 'SEC_E_LOGON_DENIED',
  0x8009030e: 'SEC_E_NO_CREDENTIALS',
  0x8009030f: 'SEC_E_MESSAGE_ALTERED',
  0x80090311: 'SEC_E_NO_AUTHENTICATING_AUTHORITY',
  0x80090322: 'SEC_E_WRONG_PRINCIPAL',
  0x80090324: 'SEC_E_TIME_SKEW',
};

/** A signed or unsigned 32-bit value as unsigned (0xC000006D and -1073741715 both → 3221225581). */
export function toU32(value: number): number {
  return value >>> 0;
}

/** Stable name for an NTSTATUS / SEC_E value; `unknown(0x…)` (8 hex digits) when not in the table. */
export function ntstatusName(value: number): string {
  return nameOf(NTSTATUS, toU32(value), 8);
}

/** `{ value, name }` as a vocab `Coded`, value unsigned. */
export function ntstatusCoded(value: number): Coded {
  const v = toU32(value);
  return { value: v, name: ntstatusName(v) };
}
