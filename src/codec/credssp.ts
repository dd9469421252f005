/**
 * CredSSP (MS-CSSP) structures: TSRequest, TSCredentials, TSPasswordCreds, DER through node-forge's asn1, and the
 * SubjectPublicKey that CredSSP binds to (MS-CSSP 3.1.5).
 *
 * TSRequests travel over TLS as raw DER, without TPKT (MS-CSSP 3.1.5: "each TSRequest ... is sent as a single
 * message"), so a reader frames them with {@link tsRequestLength} (the outer SEQUENCE header gives the size).
 *
 * node-forge throws plain `Error`s on bad DER; none of them escapes from here: every failure becomes a DecodeError with
 * layer 'credssp'.
 */
import type forge from 'node-forge';
import { loadForge } from './forge.js';
import { DecodeError } from './errors.js';

/** forge's asn1, loaded on first use (codec/forge.ts). */
const asn1 = (): typeof forge.asn1 => loadForge().asn1;
type Asn1 = forge.asn1.Asn1;

const LAYER = 'credssp';

/** Default cap on one TSRequest. Real ones are < 4 KiB (the largest is a Kerberos AP-REQ inside negoTokens). */
export const TSREQUEST_MAX_BYTES = 64 * 1024;

/**
 * MS-CSSP 2.2.1 TSRequest.
 *
 * ```asn1
 * TSRequest ::= SEQUENCE {
 *         version    [0] INTEGER,
 *         negoTokens [1] NegoData  OPTIONAL,
 *         authInfo   [2] OCTET STRING OPTIONAL,
 *         pubKeyAuth [3] OCTET STRING OPTIONAL,
 *         errorCode  [4] INTEGER OPTIONAL,
 *         clientNonce [5] OCTET STRING OPTIONAL
 * }
 *
 * NegoData ::= SEQUENCE OF SEQUENCE {
 *         negoToken [0] OCTET STRING
 * }
 * ```
 *
 * Versions: 2 (original), 3 (adds errorCode), 4, 5 and 6 (add clientNonce and the SHA-256 public-key binding, the
 * CVE-2018-0886 fix). nmap and Metasploit send 0x60; 2.2.1 says a peer treats an unknown higher version as its own.
 */
export interface TSRequest {
  version: number;
  negoTokens?: Uint8Array[];
  authInfo?: Uint8Array;
  pubKeyAuth?: Uint8Array;
  /** NTSTATUS as an unsigned 32-bit value (the DER INTEGER is signed; see ntstatus.ts). */
  errorCode?: number;
  clientNonce?: Uint8Array;
  /** Context tags of fields this decoder does not know (kept, not an error). */
  unknownTags?: number[];
}

export type TSRequestInput = Omit<TSRequest, 'unknownTags'>;

// ---------------------------------------------------------------------------------------------------------------
// byte <-> forge "binary string" helpers

function toBinary(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

function fromBinary(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'latin1'));
}

function derBytes(node: Asn1): Uint8Array {
  return fromBinary(asn1().toDer(node).getBytes());
}

function explicit(tag: number, inner: Asn1): Asn1 {
  return asn1().create(asn1().Class.CONTEXT_SPECIFIC, tag, true, [inner]);
}

function octetString(b: Uint8Array): Asn1 {
  return asn1().create(asn1().Class.UNIVERSAL, asn1().Type.OCTETSTRING, false, toBinary(b));
}

function integer(n: number, field: string): Asn1 {
  if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) {
    throw new RangeError(`${field}: ${n} is not a signed 32-bit integer`);
  }
  return asn1().create(asn1().Class.UNIVERSAL, asn1().Type.INTEGER, false, asn1().integerToDer(n).getBytes());
}

function sequence(children: Asn1[]): Asn1 {
  return asn1().create(asn1().Class.UNIVERSAL, asn1().Type.SEQUENCE, true, children);
}

// ---------------------------------------------------------------------------------------------------------------
// framing

/**
 * How many bytes the next complete DER TSRequest occupies from the start of `buf`: `null` when more bytes are
 * needed, a DecodeError when the bytes cannot start one (first byte not a SEQUENCE, indefinite or over-long length,
 * or a length above `maxBytes`). Only the outer header is examined.
 */
export function tsRequestLength(buf: Uint8Array, maxBytes = TSREQUEST_MAX_BYTES): number | null {
  if (buf.length < 1) return null;
  if (buf[0] !== 0x30) {
    throw new DecodeError(LAYER, 'TSRequest.tag', 0, `expected SEQUENCE (0x30), got 0x${buf[0].toString(16).padStart(2, '0')}`);
  }
  if (buf.length < 2) return null;
  const first = buf[1];
  let header: number;
  let length: number;
  if (first < 0x80) {
    header = 2;
    length = first;
  } else if (first === 0x80) {
    throw new DecodeError(LAYER, 'TSRequest.length', 1, 'indefinite length is not DER');
  } else {
    const n = first & 0x7f;
    if (n > 4) throw new DecodeError(LAYER, 'TSRequest.length', 1, `length of ${n} bytes is not sane`);
    if (buf.length < 2 + n) return null;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[2 + i];
    header = 2 + n;
  }
  const total = header + length;
  if (total > maxBytes) {
    throw new DecodeError(LAYER, 'TSRequest.length', 1, `TSRequest of ${total} bytes exceeds the ${maxBytes}-byte cap`, total, maxBytes);
  }
  return buf.length >= total ? total : null;
}

// ---------------------------------------------------------------------------------------------------------------
// encode

/** DER-encode a TSRequest (MS-CSSP 2.2.1). Fields are written in tag order; absent optionals are omitted. */
export function encodeTSRequest(req: TSRequestInput): Uint8Array {
  const fields: Asn1[] = [explicit(0, integer(req.version, 'TSRequest.version'))];
  if (req.negoTokens !== undefined) {
    // NegoData ::= SEQUENCE OF SEQUENCE { negoToken [0] OCTET STRING }
    fields.push(explicit(1, sequence(req.negoTokens.map((t) => sequence([explicit(0, octetString(t))])))));
  }
  if (req.authInfo !== undefined) fields.push(explicit(2, octetString(req.authInfo)));
  if (req.pubKeyAuth !== undefined) fields.push(explicit(3, octetString(req.pubKeyAuth)));
  if (req.errorCode !== undefined) {
    // NTSTATUS 0xC000006D is written as the signed 32-bit value it is on the wire: 02 04 C0 00 00 6D.
    const v = req.errorCode;
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) throw new RangeError(`TSRequest.errorCode: ${v} is not 32-bit`);
    fields.push(explicit(4, integer(v | 0, 'TSRequest.errorCode')));
  }
  if (req.clientNonce !== undefined) fields.push(explicit(5, octetString(req.clientNonce)));
  return derBytes(sequence(fields));
}

// ---------------------------------------------------------------------------------------------------------------
// decode

function parseDer(bytes: Uint8Array, what: string): Asn1 {
  try {
    // strict: lengths must fit; parseAllBytes: no trailing garbage; decodeBitStrings off: keep BIT STRINGs raw.
    const opts = { strict: true, parseAllBytes: true, decodeBitStrings: false } as unknown as boolean;
    return asn1().fromDer(toBinary(bytes), opts);
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    throw new DecodeError(LAYER, what, 0, `malformed DER: ${(e as Error).message}`);
  }
}

function isUniversal(node: Asn1, type: number, constructed: boolean): boolean {
  return node.tagClass === asn1().Class.UNIVERSAL && node.type === type && node.constructed === constructed;
}

function children(node: Asn1, field: string): Asn1[] {
  if (!Array.isArray(node.value)) throw new DecodeError(LAYER, field, 0, 'expected a constructed value');
  return node.value as Asn1[];
}

/** The single element inside an EXPLICIT [n] tag. */
function unwrapExplicit(node: Asn1, field: string): Asn1 {
  const kids = children(node, field);
  if (kids.length !== 1) throw new DecodeError(LAYER, field, 0, `explicit tag holds ${kids.length} elements, expected 1`);
  return kids[0];
}

function expectOctets(node: Asn1, field: string): Uint8Array {
  if (!isUniversal(node, asn1().Type.OCTETSTRING, false) || typeof node.value !== 'string') {
    throw new DecodeError(LAYER, field, 0, `expected OCTET STRING, got class 0x${node.tagClass.toString(16)} type ${node.type}`);
  }
  return fromBinary(node.value);
}

/** Two's-complement DER INTEGER content → number (at most 48 significant bits). */
function expectInteger(node: Asn1, field: string): number {
  if (!isUniversal(node, asn1().Type.INTEGER, false) || typeof node.value !== 'string') {
    throw new DecodeError(LAYER, field, 0, `expected INTEGER, got class 0x${node.tagClass.toString(16)} type ${node.type}`);
  }
  const b = fromBinary(node.value);
  if (b.length === 0) throw new DecodeError(LAYER, field, 0, 'INTEGER with no content octets', 1, 0);
  // Strip redundant sign-extension octets (00 / FF) so a lenient 5-byte "00 C0 00 00 6D" still fits.
  let start = 0;
  while (start < b.length - 1 && ((b[start] === 0x00 && (b[start + 1] & 0x80) === 0) || (b[start] === 0xff && (b[start + 1] & 0x80) !== 0))) start++;
  const significant = b.length - start;
  if (significant > 6) throw new DecodeError(LAYER, field, 0, `INTEGER of ${significant} octets is too large`);
  let v = 0;
  for (let i = start; i < b.length; i++) v = v * 256 + b[i];
  if (b[start] & 0x80) v -= 2 ** (8 * significant);
  return v;
}

/**
 * Decode exactly one DER TSRequest (MS-CSSP 2.2.1). Unknown context tags are tolerated and listed in `unknownTags`;
 * anything malformed (wrong tags, bad lengths, trailing bytes, missing version) is a DecodeError with layer 'credssp'.
 */
export function decodeTSRequest(bytes: Uint8Array, maxBytes = TSREQUEST_MAX_BYTES): TSRequest {
  const total = tsRequestLength(bytes, maxBytes);
  if (total === null) {
    throw new DecodeError(LAYER, 'TSRequest', 0, `truncated: ${bytes.length} byte(s) do not hold a complete TSRequest`);
  }
  if (total !== bytes.length) {
    throw new DecodeError(LAYER, 'TSRequest', total, `${bytes.length - total} trailing byte(s) after the TSRequest`);
  }
  const root = parseDer(bytes, 'TSRequest');
  if (!isUniversal(root, asn1().Type.SEQUENCE, true)) throw new DecodeError(LAYER, 'TSRequest', 0, 'expected SEQUENCE');

  const out: Partial<TSRequest> = {};
  const seen = new Set<number>();
  for (const el of children(root, 'TSRequest')) {
    if (el.tagClass !== asn1().Class.CONTEXT_SPECIFIC || !el.constructed) {
      throw new DecodeError(LAYER, 'TSRequest', 0, `unexpected element class 0x${el.tagClass.toString(16)} type ${el.type} (expected [n] EXPLICIT)`);
    }
    const tag = el.type;
    if (seen.has(tag)) throw new DecodeError(LAYER, `TSRequest.[${tag}]`, 0, 'duplicate field');
    seen.add(tag);
    switch (tag) {
      case 0:
        out.version = expectInteger(unwrapExplicit(el, 'TSRequest.version'), 'TSRequest.version');
        if (out.version < 0) throw new DecodeError(LAYER, 'TSRequest.version', 0, `negative version ${out.version}`);
        break;
      case 1: {
        const negoData = unwrapExplicit(el, 'TSRequest.negoTokens');
        if (!isUniversal(negoData, asn1().Type.SEQUENCE, true)) throw new DecodeError(LAYER, 'TSRequest.negoTokens', 0, 'expected SEQUENCE OF');
        out.negoTokens = children(negoData, 'TSRequest.negoTokens').map((item, i) => {
          const f = `TSRequest.negoTokens[${i}]`;
          if (!isUniversal(item, asn1().Type.SEQUENCE, true)) throw new DecodeError(LAYER, f, 0, 'expected SEQUENCE');
          const inner = children(item, f);
          const tok = inner.find((x) => x.tagClass === asn1().Class.CONTEXT_SPECIFIC && x.type === 0 && x.constructed);
          if (!tok) throw new DecodeError(LAYER, `${f}.negoToken`, 0, 'missing [0] negoToken');
          return expectOctets(unwrapExplicit(tok, `${f}.negoToken`), `${f}.negoToken`);
        });
        break;
      }
      case 2:
        out.authInfo = expectOctets(unwrapExplicit(el, 'TSRequest.authInfo'), 'TSRequest.authInfo');
        break;
      case 3:
        out.pubKeyAuth = expectOctets(unwrapExplicit(el, 'TSRequest.pubKeyAuth'), 'TSRequest.pubKeyAuth');
        break;
      case 4: {
        const v = expectInteger(unwrapExplicit(el, 'TSRequest.errorCode'), 'TSRequest.errorCode');
        if (v < -0x80000000 || v > 0xffffffff) throw new DecodeError(LAYER, 'TSRequest.errorCode', 0, `errorCode ${v} is not 32-bit`);
        out.errorCode = v >>> 0;
        break;
      }
      case 5:
        out.clientNonce = expectOctets(unwrapExplicit(el, 'TSRequest.clientNonce'), 'TSRequest.clientNonce');
        break;
      default:
        (out.unknownTags ??= []).push(tag);
    }
  }
  if (out.version === undefined) throw new DecodeError(LAYER, 'TSRequest.version', 0, 'missing [0] version');
  return out as TSRequest;
}

// ---------------------------------------------------------------------------------------------------------------
// TSCredentials (final leg)

/**
 * MS-CSSP 2.2.1.2 TSCredentials and 2.2.1.2.1 TSPasswordCreds. Strings are UTF-16LE in the OCTET STRINGs.
 *
 * ```asn1
 * TSCredentials ::= SEQUENCE {
 *         credType    [0] INTEGER,
 *         credentials [1] OCTET STRING
 * }
 *
 * TSPasswordCreds ::= SEQUENCE {
 *         domainName  [0] OCTET STRING,
 *         userName    [1] OCTET STRING,
 *         password    [2] OCTET STRING
 * }
 * ```
 * credType 1 = TSPasswordCreds, 2 = TSSmartCardCreds, 6 = TSRemoteGuardCreds.
 */
export const CRED_TYPE_PASSWORD = 1;

export interface TSCredentials {
  credType: number;
  credentials: Uint8Array;
}

export interface TSPasswordCreds {
  domainName: string;
  userName: string;
  password: string;
}

function utf16(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'utf16le'));
}

export function encodeTSCredentials(c: TSCredentials): Uint8Array {
  return derBytes(sequence([explicit(0, integer(c.credType, 'TSCredentials.credType')), explicit(1, octetString(c.credentials))]));
}

export function encodeTSPasswordCreds(c: TSPasswordCreds): Uint8Array {
  return derBytes(
    sequence([explicit(0, octetString(utf16(c.domainName))), explicit(1, octetString(utf16(c.userName))), explicit(2, octetString(utf16(c.password)))]),
  );
}

/** TSCredentials wrapping TSPasswordCreds: what the client seals into authInfo in the last leg (MS-CSSP 3.1.5). */
export function encodePasswordCredentials(c: TSPasswordCreds): Uint8Array {
  return encodeTSCredentials({ credType: CRED_TYPE_PASSWORD, credentials: encodeTSPasswordCreds(c) });
}

function explicitFields(root: Asn1, what: string): Map<number, Asn1> {
  if (!isUniversal(root, asn1().Type.SEQUENCE, true)) throw new DecodeError(LAYER, what, 0, 'expected SEQUENCE');
  const m = new Map<number, Asn1>();
  for (const el of children(root, what)) {
    if (el.tagClass === asn1().Class.CONTEXT_SPECIFIC && el.constructed && !m.has(el.type)) m.set(el.type, unwrapExplicit(el, `${what}.[${el.type}]`));
  }
  return m;
}

export function decodeTSCredentials(bytes: Uint8Array): TSCredentials {
  const f = explicitFields(parseDer(bytes, 'TSCredentials'), 'TSCredentials');
  const t = f.get(0);
  const c = f.get(1);
  if (!t) throw new DecodeError(LAYER, 'TSCredentials.credType', 0, 'missing [0] credType');
  if (!c) throw new DecodeError(LAYER, 'TSCredentials.credentials', 0, 'missing [1] credentials');
  return { credType: expectInteger(t, 'TSCredentials.credType'), credentials: expectOctets(c, 'TSCredentials.credentials') };
}

export function decodeTSPasswordCreds(bytes: Uint8Array): TSPasswordCreds {
  const f = explicitFields(parseDer(bytes, 'TSPasswordCreds'), 'TSPasswordCreds');
  const str = (tag: number, name: string): string => {
    const n = f.get(tag);
    if (!n) throw new DecodeError(LAYER, `TSPasswordCreds.${name}`, 0, `missing [${tag}] ${name}`);
    const b = expectOctets(n, `TSPasswordCreds.${name}`);
    if (b.length % 2) throw new DecodeError(LAYER, `TSPasswordCreds.${name}`, 0, `odd UTF-16 length ${b.length}`);
    return Buffer.from(b).toString('utf16le');
  };
  return { domainName: str(0, 'domainName'), userName: str(1, 'userName'), password: str(2, 'password') };
}

// ---------------------------------------------------------------------------------------------------------------
// SubjectPublicKey

/**
 * The key CredSSP binds to (MS-CSSP 3.1.5, pubKeyAuth): the *contents* of the subjectPublicKey BIT STRING of the
 * server's TLS certificate, i.e. without the SubjectPublicKeyInfo header and without the BIT STRING's leading
 * unused-bits octet. For RSA that is the PKCS#1 RSAPublicKey DER (`30 82 01 0A 02 82 01 01 00 …`).
 *
 * From a live TLS socket: `socket.getPeerCertificate().raw` (DER) → {@link subjectPublicKeyFromCertificate}; or
 * `new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' })` → {@link subjectPublicKeyFromSpki}.
 */
export function subjectPublicKeyFromSpki(spki: Uint8Array): Uint8Array {
  return bitStringContents(parseDer(spki, 'SubjectPublicKeyInfo'), 'SubjectPublicKeyInfo');
}

function bitStringContents(spki: Asn1, what: string): Uint8Array {
  if (!isUniversal(spki, asn1().Type.SEQUENCE, true)) throw new DecodeError(LAYER, what, 0, 'expected SEQUENCE');
  const kids = children(spki, what);
  const bits = kids[1];
  if (kids.length !== 2 || !bits || !isUniversal(bits, asn1().Type.BITSTRING, false) || typeof bits.value !== 'string') {
    throw new DecodeError(LAYER, `${what}.subjectPublicKey`, 0, 'expected SEQUENCE { AlgorithmIdentifier, BIT STRING }');
  }
  const b = fromBinary(bits.value);
  if (b.length < 1 || b[0] !== 0) throw new DecodeError(LAYER, `${what}.subjectPublicKey`, 0, 'BIT STRING with unused bits');
  return b.subarray(1);
}

/** SubjectPublicKey (see above) from a DER X.509 certificate (RFC 5280 4.1). */
export function subjectPublicKeyFromCertificate(certDer: Uint8Array): Uint8Array {
  const cert = parseDer(certDer, 'Certificate');
  if (!isUniversal(cert, asn1().Type.SEQUENCE, true)) throw new DecodeError(LAYER, 'Certificate', 0, 'expected SEQUENCE');
  const tbs = children(cert, 'Certificate')[0];
  if (!tbs || !isUniversal(tbs, asn1().Type.SEQUENCE, true)) throw new DecodeError(LAYER, 'Certificate.tbsCertificate', 0, 'expected SEQUENCE');
  const fields = children(tbs, 'Certificate.tbsCertificate');
  // version [0] EXPLICIT is optional; then serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo.
  const hasVersion = fields[0] !== undefined && fields[0].tagClass === asn1().Class.CONTEXT_SPECIFIC && fields[0].type === 0;
  const spki = fields[hasVersion ? 6 : 5];
  if (!spki) throw new DecodeError(LAYER, 'Certificate.tbsCertificate.subjectPublicKeyInfo', 0, 'missing');
  return bitStringContents(spki, 'Certificate.tbsCertificate.subjectPublicKeyInfo');
}
