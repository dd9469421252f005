/** NTLMv2 (MS-NLMP 3.3.2) and key derivation (3.4.5): NTOWF, the NTLMv2 response, SIGNKEY/SEALKEY, the MIC. */
import { createHash, createHmac } from 'node:crypto';
import { md4 } from '../crypto-legacy.js';
import { concatBytes } from '../writer.js';
import { NTLMSSP_NEGOTIATE_128, NTLMSSP_NEGOTIATE_56, NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY } from './flags.js';
import { utf16Encode } from './wire.js';

function md5(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

export function hmacMd5(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = createHmac('md5', key);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** Uppercase per UTF-16 code unit, never changing the length (Windows upcases 'ß' to itself, JS to "SS"). */
function upcase(s: string): string {
  let out = '';
  for (const ch of s) {
    const u = ch.toUpperCase();
    out += u.length === ch.length ? u : ch;
  }
  return out;
}

/** NTOWFv1 = MD4(UNICODE(Passwd)), the "NT hash" (MS-NLMP 3.3.1). */
export function ntowfv1(password: string): Uint8Array {
  return md4(utf16Encode(password));
}

/** NTOWFv2 = HMAC_MD5(MD4(UNICODE(Passwd)), UNICODE(Uppercase(User) + UserDom)) (MS-NLMP 3.3.2). */
export function ntowfv2FromHash(ntHash: Uint8Array, user: string, domain: string): Uint8Array {
  return hmacMd5(ntHash, utf16Encode(upcase(user) + domain));
}

export function ntowfv2(password: string, user: string, domain: string): Uint8Array {
  return ntowfv2FromHash(ntowfv1(password), user, domain);
}

export interface Ntlmv2Response {
  ntProofStr: Uint8Array;
  /** NTProofStr || temp: the NtChallengeResponse (NTLMv2_RESPONSE, 2.2.2.8). */
  ntChallengeResponse: Uint8Array;
  /** LMv2: HMAC_MD5(ResponseKeyLM, ServerChallenge || ClientChallenge) || ClientChallenge. */
  lmChallengeResponse: Uint8Array;
  sessionBaseKey: Uint8Array;
}

/**
 * ComputeResponse for NTLMv2 (MS-NLMP 3.3.2):
 *   temp = 0x01 0x01 Z(6) Time ClientChallenge Z(4) ServerName Z(4)
 *   NTProofStr = HMAC_MD5(ResponseKeyNT, ServerChallenge || temp)
 *   SessionBaseKey = HMAC_MD5(ResponseKeyNT, NTProofStr)
 * `targetInfo` is the ServerName blob: the AV pair list the client sends (with its MsvAvEOL).
 */
export function computeNtlmv2Response(
  responseKeyNT: Uint8Array,
  serverChallenge: Uint8Array,
  clientChallenge: Uint8Array,
  time: Uint8Array,
  targetInfo: Uint8Array,
): Ntlmv2Response {
  if (serverChallenge.length !== 8 || clientChallenge.length !== 8 || time.length !== 8) {
    throw new RangeError('challenges and time must be 8 bytes each');
  }
  const temp = concatBytes([new Uint8Array([0x01, 0x01, 0, 0, 0, 0, 0, 0]), time, clientChallenge, new Uint8Array(4), targetInfo, new Uint8Array(4)]);
  const ntProofStr = hmacMd5(responseKeyNT, serverChallenge, temp);
  const lm = concatBytes([hmacMd5(responseKeyNT, serverChallenge, clientChallenge), clientChallenge]);
  return {
    ntProofStr,
    ntChallengeResponse: concatBytes([ntProofStr, temp]),
    lmChallengeResponse: lm,
    sessionBaseKey: hmacMd5(responseKeyNT, ntProofStr),
  };
}

const MAGIC = {
  clientSign: 'session key to client-to-server signing key magic constant\0',
  serverSign: 'session key to server-to-client signing key magic constant\0',
  clientSeal: 'session key to client-to-server sealing key magic constant\0',
  serverSeal: 'session key to server-to-client sealing key magic constant\0',
} as const;

function ascii(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'latin1'));
}

/** SIGNKEY (MS-NLMP 3.4.5.2), extended session security: MD5(ExportedSessionKey || magic). */
export function signKey(exportedSessionKey: Uint8Array, mode: 'client' | 'server'): Uint8Array {
  return md5(exportedSessionKey, ascii(mode === 'client' ? MAGIC.clientSign : MAGIC.serverSign));
}

/**
 * SEALKEY (MS-NLMP 3.4.5.3), extended session security: the key is cut to 16/7/5 bytes by NEGOTIATE_128/56/neither,
 * then MD5(key || magic). Without extended session security NTLM uses other (weaker) rules that rdprobe does not
 * implement.
 */
export function sealKey(flags: number, exportedSessionKey: Uint8Array, mode: 'client' | 'server'): Uint8Array {
  if (!(flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY)) throw new RangeError('sealKey without extended session security is not implemented');
  const k = flags & NTLMSSP_NEGOTIATE_128 ? exportedSessionKey : exportedSessionKey.subarray(0, flags & NTLMSSP_NEGOTIATE_56 ? 7 : 5);
  return md5(k, ascii(mode === 'client' ? MAGIC.clientSeal : MAGIC.serverSeal));
}

/** MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE || AUTHENTICATE-with-MIC-zeroed) (MS-NLMP 3.1.5.1.2). */
export function computeMic(exportedSessionKey: Uint8Array, negotiate: Uint8Array, challenge: Uint8Array, authenticate: Uint8Array): Uint8Array {
  return hmacMd5(exportedSessionKey, negotiate, challenge, authenticate);
}
