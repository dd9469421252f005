/**
 * Standard RDP Security server certificates (MS-RDPBCGR 2.2.1.4.3.1): the proprietary certificate with its RSA key,
 * and X.509 chains (MS-RDPELE 2.2.1.4.2) read with node-forge.
 */
import type forge from 'node-forge';
import { loadForge } from '../forge.js';
import { DecodeError } from '../errors.js';
import { Reader } from '../reader.js';
import { Writer } from '../writer.js';
import { unknownName, type ServerCertificateType } from '../../observation/vocab.js';

// Server certificate (MS-RDPBCGR 2.2.1.4.3.1)
export const CERT_CHAIN_VERSION_1 = 0x00000001; // proprietary
export const CERT_CHAIN_VERSION_2 = 0x00000002; // X.509 chain
export const CERT_TEMPORARY = 0x80000000; // t bit: the certificate is temporary (not permanent)
export const SIGNATURE_ALG_RSA = 0x00000001;
export const KEY_EXCHANGE_ALG_RSA = 0x00000001;
export const BB_RSA_KEY_BLOB = 0x0006;
export const BB_RSA_SIGNATURE_BLOB = 0x0008;
export const RSA1_MAGIC = 0x31415352; // 'RSA1' (2.2.1.4.3.1.1.1)
/** MS-RDPELE 2.2.1.4.2: a sane cap on the number of certificates in a chain (real chains have 2). */
const MAX_CHAIN = 16;

export type ServerCertificate =
  | {
      type: 'proprietary';
      /** dwVersion with the t bit removed (1). */
      version: number;
      temporary: boolean;
      sigAlgId: number;
      keyAlgId: number;
      keyBits: number;
      publicExponent: number;
      modulus: Uint8Array;
      signatureLength: number;
    }
  | {
      type: 'x509';
      version: number;
      temporary: boolean;
      chainLength: number;
      /** Subject of each certificate in chain order (the last one is the server's, MS-RDPELE 2.2.1.4.2). */
      subjects: string[];
      issuers: string[];
      /** From the last (leaf) certificate. */
      keyBits?: number;
      publicExponent?: number;
      certLengths: number[];
      /** Set when node-forge could not parse a certificate; what could be read is kept. */
      error?: string;
    }
  | {
      /** dwVersion is unknown, or the certificate bytes are malformed (then `error` says where). */
      type: 'unreadable';
      version: number;
      /** 'proprietary' | 'x509' | 'unknown(0x…)': what dwVersion claimed. */
      versionName: ServerCertificateType;
      temporary: boolean;
      length: number;
      error?: string;
    };

/**
 * SERVER_CERTIFICATE (MS-RDPBCGR 2.2.1.4.3.1): dwVersion (low 31 bits: 1 proprietary, 2 X.509 chain; high bit t =
 * temporary) then the certificate. Malformed certificate bytes are recorded in `error`, never thrown, so one bad
 * certificate does not hide the rest of the server's data.
 */
export function decodeServerCertificate(bytes: Uint8Array): ServerCertificate {
  const r = new Reader(bytes, 'gcc');
  const dw = r.u32le('serverCertificate.dwVersion');
  const version = dw & 0x7fffffff;
  const temporary = (dw & CERT_TEMPORARY) !== 0;
  const versionName: ServerCertificateType =
    version === CERT_CHAIN_VERSION_1 ? 'proprietary' : version === CERT_CHAIN_VERSION_2 ? 'x509' : unknownName(version, 8);
  try {
    if (version === CERT_CHAIN_VERSION_1) return decodeProprietaryCertificate(r, temporary);
    if (version === CERT_CHAIN_VERSION_2) return decodeX509Chain(r, temporary);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return { type: 'unreadable', version, versionName, temporary, length: bytes.length, error: e.message };
  }
  return { type: 'unreadable', version, versionName, temporary, length: bytes.length };
}

/** PROPRIETARYSERVERCERTIFICATE (2.2.1.4.3.1.1) with its RSA_PUBLIC_KEY (2.2.1.4.3.1.1.1). */
function decodeProprietaryCertificate(r: Reader, temporary: boolean): ServerCertificate {
  const sigAlgId = r.u32le('proprietaryCert.dwSigAlgId');
  const keyAlgId = r.u32le('proprietaryCert.dwKeyAlgId');
  const blobType = r.u16le('proprietaryCert.wPublicKeyBlobType');
  if (blobType !== BB_RSA_KEY_BLOB) r.fail('proprietaryCert.wPublicKeyBlobType', `expected BB_RSA_KEY_BLOB (6), got ${blobType}`);
  const blobLen = r.u16le('proprietaryCert.wPublicKeyBlobLen');
  const key = r.sub(blobLen, 'proprietaryCert.PublicKeyBlob');
  const magic = key.u32le('RSA_PUBLIC_KEY.magic');
  if (magic !== RSA1_MAGIC) key.fail('RSA_PUBLIC_KEY.magic', `expected 'RSA1' (0x31415352), got 0x${magic.toString(16)}`);
  const keylen = key.u32le('RSA_PUBLIC_KEY.keylen');
  const bitlen = key.u32le('RSA_PUBLIC_KEY.bitlen');
  key.u32le('RSA_PUBLIC_KEY.datalen');
  const publicExponent = key.u32le('RSA_PUBLIC_KEY.pubExp');
  // keylen = modulus bytes + 8 bytes of zero padding
  if (keylen > key.remaining) key.fail('RSA_PUBLIC_KEY.keylen', `${keylen} bytes announced, ${key.remaining} left`);
  const modulus = key.bytes(keylen, 'RSA_PUBLIC_KEY.modulus').slice();
  const sigType = r.u16le('proprietaryCert.wSignatureBlobType');
  if (sigType !== BB_RSA_SIGNATURE_BLOB) r.fail('proprietaryCert.wSignatureBlobType', `expected BB_RSA_SIGNATURE_BLOB (8), got ${sigType}`);
  const sigLen = r.u16le('proprietaryCert.wSignatureBlobLen');
  r.skip(sigLen, 'proprietaryCert.SignatureBlob');
  return { type: 'proprietary', version: CERT_CHAIN_VERSION_1, temporary, sigAlgId, keyAlgId, keyBits: bitlen, publicExponent, modulus, signatureLength: sigLen };
}

/** X.509 certificate chain (2.2.1.4.3.1.2, MS-RDPELE 2.2.1.4.2): NumCertBlobs then {cbCert u32, abCert DER}… */
function decodeX509Chain(r: Reader, temporary: boolean): ServerCertificate {
  const n = r.u32le('X509 chain.NumCertBlobs');
  if (n === 0 || n > MAX_CHAIN) r.fail('X509 chain.NumCertBlobs', `${n} certificates (expected 1..${MAX_CHAIN})`);
  const ders: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const len = r.u32le(`X509 chain.cert[${i}].cbCert`);
    if (len > r.remaining) r.fail(`X509 chain.cert[${i}].cbCert`, `${len} bytes announced, ${r.remaining} left`);
    ders.push(r.bytes(len, `X509 chain.cert[${i}].abCert`));
  }
  // the trailing Padding (8 + 4 * NumCertBlobs bytes, MS-RDPELE 2.2.1.4.2) carries nothing and is not checked
  const out: Extract<ServerCertificate, { type: 'x509' }> = {
    type: 'x509',
    version: CERT_CHAIN_VERSION_2,
    temporary,
    chainLength: n,
    subjects: [],
    issuers: [],
    certLengths: ders.map((d) => d.length),
  };
  const errors: string[] = [];
  ders.forEach((der, i) => {
    const info = parseCertificate(der);
    out.subjects.push(info.subject ?? '');
    out.issuers.push(info.issuer ?? '');
    if (info.error) errors.push(`cert[${i}]: ${info.error}`);
    if (i === ders.length - 1) {
      if (info.keyBits !== undefined) out.keyBits = info.keyBits;
      if (info.publicExponent !== undefined) out.publicExponent = info.publicExponent;
    }
  });
  if (errors.length) out.error = errors.join('; ');
  return out;
}

interface CertInfo {
  subject?: string;
  issuer?: string;
  keyBits?: number;
  publicExponent?: number;
  error?: string;
}

/**
 * Subject, issuer and RSA key size of one DER certificate, via node-forge. Terminal-server licensing certificates
 * are odd: in zeek-rdp-x509 both are signed with the OIW sha1WithRSA OID 1.3.14.3.2.29, the leaf's
 * subjectPublicKeyInfo names md5WithRSAEncryption (1.2.840.113549.1.1.4) instead of rsaEncryption (node-forge:
 * "OID is not RSA"), and its names are tagged BMPString but hold 8-bit text ("ncalrpc:SERVR", 13 octets). When
 * node-forge's certificate parser gives up we walk its ASN.1 tree ourselves; if even DER parsing fails we record why.
 */
function parseCertificate(der: Uint8Array): CertInfo {
  const forge = loadForge();
  let tree: forge.asn1.Asn1;
  try {
    tree = forge.asn1.fromDer(forge.util.createBuffer(binaryString(der)));
  } catch (e) {
    return { error: `DER: ${errorText(e)}` };
  }
  try {
    const cert = forge.pki.certificateFromAsn1(tree);
    const info: CertInfo = { subject: dnString(cert.subject.attributes), issuer: dnString(cert.issuer.attributes) };
    const key = cert.publicKey as forge.pki.rsa.PublicKey;
    if (key && key.n && key.e) {
      info.keyBits = key.n.bitLength();
      info.publicExponent = key.e.bitLength() <= 32 ? parseInt(key.e.toString(16), 16) : undefined;
    }
    return info;
  } catch (e) {
    const info = walkCertificate(tree);
    info.error = `node-forge: ${errorText(e)} (fields read from the ASN.1 tree instead)`;
    return info;
  }
}

function walkCertificate(tree: forge.asn1.Asn1): CertInfo {
  const forge = loadForge();
  const info: CertInfo = {};
  try {
    const tbs = (tree.value as forge.asn1.Asn1[])[0];
    const fields = tbs.value as forge.asn1.Asn1[];
    const base = fields[0].tagClass === forge.asn1.Class.CONTEXT_SPECIFIC ? 1 : 0;
    const rdn = (forge.pki as unknown as { RDNAttributesAsArray(rdn: forge.asn1.Asn1): DnAttr[] }).RDNAttributesAsArray;
    info.issuer = dnString(rdn(fields[base + 2]));
    info.subject = dnString(rdn(fields[base + 4]));
    const spki = fields[base + 5].value as forge.asn1.Asn1[];
    const bits = spki[1].value;
    const rsa = Array.isArray(bits) ? bits[0] : forge.asn1.fromDer(forge.util.createBuffer((bits as string).slice(1)));
    const ints = rsa.value as forge.asn1.Asn1[];
    info.keyBits = bitLength(ints[0].value as string);
    const e = ints[1].value as string;
    if (e.length <= 4) info.publicExponent = Array.from(e, (c) => c.charCodeAt(0)).reduce((a, b) => a * 256 + b, 0);
  } catch {
    // partial information is fine
  }
  return info;
}

interface DnAttr {
  type?: string;
  shortName?: string;
  name?: string;
  value?: unknown;
  valueTagClass?: number;
}

function dnString(attrs: readonly DnAttr[]): string {
  const forge = loadForge();
  return attrs
    .map((a) => {
      const key = a.shortName ?? a.name ?? a.type ?? '?';
      // node-forge already turns BMPString into a JS string; UTF8String stays as UTF-8 bytes
      let v = typeof a.value === 'string' ? a.value : '';
      if (a.valueTagClass === forge.asn1.Type.UTF8) {
        try {
          v = forge.util.decodeUtf8(v);
        } catch {
          // keep raw
        }
      }
      return `${key}=${v}`;
    })
    .join(', ');
}

/** A proprietary server certificate (2.2.1.4.3.1.1) around an RSA public key; the signature is zeros (test peers). */
export function encodeProprietaryCertificate(modulus: Uint8Array, publicExponent = 0x10001, temporary = false): Uint8Array {
  const keylen = modulus.length + 8;
  const key = new Writer(keylen + 20)
    .u32le(RSA1_MAGIC)
    .u32le(keylen)
    .u32le(modulus.length * 8)
    .u32le(modulus.length - 1)
    .u32le(publicExponent >>> 0)
    .bytes(modulus)
    .zeros(8)
    .finish();
  return new Writer(keylen + 100)
    .u32le((CERT_CHAIN_VERSION_1 | (temporary ? CERT_TEMPORARY : 0)) >>> 0)
    .u32le(SIGNATURE_ALG_RSA)
    .u32le(KEY_EXCHANGE_ALG_RSA)
    .u16le(BB_RSA_KEY_BLOB)
    .u16le(key.length)
    .bytes(key)
    .u16le(BB_RSA_SIGNATURE_BLOB)
    .u16le(72)
    .zeros(72)
    .finish();
}

function binaryString(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return s;
}

function bitLength(bigEndian: string): number {
  let i = 0;
  while (i < bigEndian.length && bigEndian.charCodeAt(i) === 0) i++;
  if (i === bigEndian.length) return 0;
  return (bigEndian.length - i - 1) * 8 + (32 - Math.clz32(bigEndian.charCodeAt(i)));
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
