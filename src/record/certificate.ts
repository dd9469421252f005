/**
 * X.509 certificate facts for the Observation (tls.certificate), from DER (RFC 5280 §4.1) with node:crypto's
 * parser. Pure: validity is judged against a given time (for replay, the capture time, not today), so the same
 * capture always gives the same facts.
 */
import { X509Certificate } from 'node:crypto';
import type { CertificateInfo } from '../observation/types.js';
import { DecodeError } from '../codec/errors.js';

/** Signature algorithm OIDs (RFC 8017 App. C, RFC 5758 §3.2, RFC 8410 §3). */
const SIG_OIDS: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'rsassaPss',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.3.101.112': 'Ed25519',
};

/** DER TLV header at o: [tag, content start, content length]. */
function tlv(b: Uint8Array, o: number): [number, number, number] {
  if (o + 2 > b.length) throw new DecodeError('x509', 'tlv', o, 'truncated');
  const tag = b[o];
  let len = b[o + 1];
  let p = o + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > b.length) throw new DecodeError('x509', 'length', o + 1, 'bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p + i];
    p += n;
  }
  if (p + len > b.length) throw new DecodeError('x509', 'value', p, 'truncated');
  return [tag, p, len];
}

function oidText(b: Uint8Array): string {
  const parts: number[] = [];
  let v = 0;
  for (let i = 0; i < b.length; i++) {
    v = v * 128 + (b[i] & 0x7f);
    if (!(b[i] & 0x80)) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm AlgorithmIdentifier, signatureValue } */
export function signatureAlgorithmOf(der: Uint8Array): string {
  const [, c0] = tlv(der, 0);
  const [, t1, l1] = tlv(der, c0); // tbsCertificate
  const [, a1] = tlv(der, t1 + l1); // signatureAlgorithm
  const [tag, o2, l2] = tlv(der, a1); // algorithm OID
  if (tag !== 0x06) throw new DecodeError('x509', 'signatureAlgorithm', a1, 'not an OID');
  const oid = oidText(der.subarray(o2, o2 + l2));
  return SIG_OIDS[oid] ?? oid;
}

type StaticFacts = Omit<CertificateInfo, 'daysLeft' | 'expired' | 'notYetValid'>;
/** Parsed certificates by DER (the same server certificate repeats across a capture's connections). Bounded. */
const cache = new Map<string, StaticFacts>();
const CACHE_MAX = 256;

/** Certificate facts; validity judged against `at` (for replay: the capture time). Throws DecodeError. */
export function certificateFacts(der: Uint8Array, at: Date): CertificateInfo {
  const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let st = cache.get(key);
  if (!st) {
    st = staticFacts(der);
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(key, st);
  }
  const notBefore = new Date(st.notBefore).getTime();
  const notAfter = new Date(st.notAfter).getTime();
  const { subjectCN, ...rest } = st;
  const out: CertificateInfo = {
    ...rest,
    san: [...rest.san],
    daysLeft: Math.floor((notAfter - at.getTime()) / 86_400_000),
    expired: notAfter < at.getTime(),
    notYetValid: notBefore > at.getTime(),
  };
  if (subjectCN !== undefined) out.subjectCN = subjectCN;
  return out;
}

function staticFacts(der: Uint8Array): StaticFacts {
  let x: X509Certificate;
  try {
    x = new X509Certificate(der);
  } catch (e) {
    throw new DecodeError('x509', 'certificate', 0, `not a readable X.509 certificate (${(e as Error).message})`);
  }
  const notBefore = new Date(x.validFrom);
  const notAfter = new Date(x.validTo);
  if (isNaN(notBefore.getTime()) || isNaN(notAfter.getTime())) {
    throw new DecodeError('x509', 'validity', 0, `unreadable validity dates (${x.validFrom} – ${x.validTo})`);
  }
  const key = x.publicKey;
  const details = (key.asymmetricKeyDetails ?? {}) as { modulusLength?: number; namedCurve?: string };
  const curves: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521 };
  const keyBits = details.modulusLength ?? curves[details.namedCurve ?? ''] ?? (key.asymmetricKeyType === 'ed25519' ? 256 : 0);
  let signatureAlgorithm = 'unknown';
  try {
    signatureAlgorithm = signatureAlgorithmOf(der);
  } catch {
    /* keep 'unknown' */
  }
  let selfSigned = false;
  if (x.subject === x.issuer) {
    try {
      selfSigned = x.verify(key);
    } catch {
      selfSigned = false;
    }
  }
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(x.subject)?.[1];
  const out: StaticFacts = {
    subject: x.subject.replace(/\n/g, ', '),
    issuer: x.issuer.replace(/\n/g, ', '),
    san: (x.subjectAltName ?? '').split(/,\s*/).filter(Boolean),
    serial: x.serialNumber,
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    selfSigned,
    keyType: key.asymmetricKeyType ?? 'unknown',
    keyBits,
    signatureAlgorithm,
    sha256: x.fingerprint256.replace(/:/g, '').toLowerCase(),
    sha1: x.fingerprint.replace(/:/g, '').toLowerCase(),
  };
  if (cn !== undefined) out.subjectCN = cn;
  return out;
}
