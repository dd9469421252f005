/** Codec values of the GCC server data → the Observation's McsObservation parts. */
import type { ServerCertificate } from '../codec/gcc/index.js';
import type { ServerCertificateInfo } from '../observation/types.js';

/** The Observation's view of a Standard RDP Security server certificate: type, key size, exponent, chain subjects (leaf last). */
export function serverCertificateInfo(c: ServerCertificate): ServerCertificateInfo {
  const out: ServerCertificateInfo = { type: c.type === 'unreadable' ? c.versionName : c.type };
  if ('keyBits' in c && c.keyBits !== undefined) out.keyBits = c.keyBits;
  if ('publicExponent' in c && c.publicExponent !== undefined) out.publicExponent = c.publicExponent;
  if ('chainLength' in c) out.chainLength = c.chainLength;
  if ('subjects' in c) out.subjects = [...c.subjects];
  return out;
}
