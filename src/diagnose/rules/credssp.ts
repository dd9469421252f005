/**
 * NLA / CredSSP (MS-CSSP 2.2.1): TSRequest errorCode (NTSTATUS) → the 0x807 family, the server closing after the
 * AUTHENTICATE, CredSSP refused before authentication, an unpatched CredSSP version.
 */
import { hexCode, ntstatusToClient } from '../codes.js';
import type { ClientErrorRef } from '../types.js';
import { ev, reachesCredssp, type Hit, type Rule } from './context.js';

/** CredSSP versions with the CVE-2018-0886 fix (clientNonce binding) are 5 and 6 (MS-CSSP 2.2.1). */
export const CREDSSP_PATCHED_VERSION = 5;

function ntstatusErrors(status: { value: number; name: string }): { clientErrors: ClientErrorRef[]; freerdp: string } | undefined {
  const m = ntstatusToClient(status);
  if (!m) return undefined;
  return {
    clientErrors: [{ code: hexCode(m.code), documented: false, note: `${m.name} → ${hexCode(m.code)}: the code is documented, the pairing is inferred from the names` }],
    freerdp: m.freerdp,
  };
}

export const credsspAuthRule: Rule = (ctx) => {
  const c = ctx.obs.credssp;
  const a = c?.auth;
  if (!c || !a || !reachesCredssp(ctx)) return null;
  const who = `${a.domain ? `${a.domain}\\` : ''}${a.user}`;
  const base = [ev('credssp.auth.user', who), ev('credssp.auth.outcome', a.outcome), ...(a.detail ? [ev('credssp.auth.detail', a.detail)] : [])];
  if (a.outcome === 'error-code' && a.errorCode) {
    const m = ntstatusErrors(a.errorCode);
    return {
      cause: 'credssp-logon-failure',
      severity: 'error',
      summary: `the server rejected ${who}: ${a.errorCode.name} (0x${(a.errorCode.value >>> 0).toString(16).toUpperCase()})`,
      confidence: 'high',
      confidenceWhy: 'the server named the reason in the TSRequest errorCode',
      evidence: [...base, ev('credssp.auth.errorCode', a.errorCode)],
      ...(m ?? {}),
    };
  }
  if (a.outcome === 'failed' && a.earlyUserAuth && a.earlyUserAuth.value !== 0) {
    return {
      cause: 'credssp-logon-failure',
      severity: 'error',
      summary: `${who} authenticated, but the server denied the session (Early User Authorization ${a.earlyUserAuth.name})`,
      confidence: 'high',
      confidenceWhy: 'the server sent an Early User Authorization Result other than AUTHZ_SUCCESS (MS-RDPBCGR 2.2.10.2)',
      evidence: [...base, ev('credssp.auth.earlyUserAuth', a.earlyUserAuth)],
      note: 'The account is valid but may not log on remotely: add it to "Remote Desktop Users" / the "Allow log on through Remote Desktop Services" right.',
      clientErrors: [{ code: '0x807', documented: false, note: 'inferred; mstsc may show "the user account is not authorized for remote login"' }],
      freerdp: 'ERRCONNECT_ACCESS_DENIED',
    };
  }
  if (a.outcome === 'closed' || a.outcome === 'alert') {
    return {
      cause: 'credssp-logon-failure',
      severity: 'error',
      summary: `the server ${a.outcome === 'closed' ? 'closed the session' : 'sent a TLS alert'} right after the NTLM AUTHENTICATE for ${who}, without an errorCode`,
      confidence: 'medium',
      confidenceWhy:
        'FreeRDP-based servers (measured) and Windows 2008 R2 answer a rejected AUTHENTICATE this way; a CredSSP/NTLM policy refusal looks the same',
      evidence: base,
      freerdp: 'ERRCONNECT_CONNECT_TRANSPORT_FAILED',
    };
  }
  if (a.outcome === 'failed') {
    return {
      cause: 'credssp-logon-failure',
      severity: 'error',
      summary: `CredSSP authentication of ${who} failed: ${a.detail ?? 'the server\'s answer did not verify'}`,
      confidence: 'low',
      confidenceWhy: 'the exchange failed on our side of the protocol (e.g. the server\'s public-key echo did not verify); a TLS-intercepting middlebox can cause this',
      evidence: base,
      nextProbe: 'rdprobe probe {target} --user <DOMAIN\\user>   (repeat; compare with a client on the server\'s LAN)',
    };
  }
  return null;
};

export const credsspNegotiateRule: Rule = (ctx) => {
  const c = ctx.obs.credssp;
  if (!c || !reachesCredssp(ctx)) return null;
  if (c.outcome === 'error' && c.errorCode) {
    const m = ntstatusErrors(c.errorCode);
    const hit: Hit = {
      cause: m ? 'credssp-logon-failure' : 'credssp-rejected',
      severity: 'error',
      summary: `the server answered the NTLM NEGOTIATE with errorCode ${c.errorCode.name}`,
      confidence: 'high',
      confidenceWhy: 'the server named the reason in the TSRequest errorCode',
      evidence: [ev('credssp.outcome', c.outcome), ev('credssp.errorCode', c.errorCode), ...(c.version !== undefined ? [ev('credssp.version', c.version)] : [])],
    };
    return m ? { ...hit, ...m } : hit;
  }
  if (c.outcome === 'closed' || c.outcome === 'reset' || c.outcome === 'alert') {
    return {
      cause: 'credssp-rejected',
      severity: 'error',
      summary: `the server ${c.outcome === 'alert' ? 'sent a TLS alert' : c.outcome === 'reset' ? 'reset the connection' : 'closed the TLS session'} instead of answering the NTLM NEGOTIATE`,
      confidence: 'medium',
      confidenceWhy: 'no credentials were involved yet; NTLM restrictions and CredSSP policy are the usual reasons, the server does not say which',
      evidence: [ev('credssp.outcome', c.outcome), ...(c.detail ? [ev('credssp.detail', c.detail)] : [])],
      nextProbe: 'rdprobe probe {target} --user <DOMAIN\\user>   (does a full authentication behave the same?)',
    };
  }
  return null;
};

export const credsspVersionRule: Rule = (ctx) => {
  const c = ctx.obs.credssp;
  if (!c || c.version === undefined || !reachesCredssp(ctx)) return null;
  if (c.version >= CREDSSP_PATCHED_VERSION) return null;
  const enforced = ctx.profile.enforcesCredsspOracle;
  return {
    cause: 'credssp-outdated',
    severity: enforced ? 'error' : 'info',
    summary: `the server speaks CredSSP version ${c.version} (< ${CREDSSP_PATCHED_VERSION}: no CVE-2018-0886 fix)${
      enforced ? `; ${ctx.profile.base} refuses it by default` : `; ${ctx.profile.base} does not enforce the remediation`
    }`,
    confidence: 'medium',
    confidenceWhy: 'the probe offered version 6 and the server answered with a lower one; patched servers answer 6',
    evidence: [ev('credssp.version', c.version), ev('profile.enforcesCredsspOracle', enforced)],
    nextProbe: null,
  };
};

export const CREDSSP_RULES: Rule[] = [credsspNegotiateRule, credsspAuthRule, credsspVersionRule];
