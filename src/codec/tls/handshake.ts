/**
 * TLS records and the handshake messages that travel in clear (TLS ≤ 1.2 whole handshake up to ChangeCipherSpec;
 * TLS 1.3 up to ServerHello). Pure: bytes in, values out; every read is bounds-checked through Reader, so short or
 * hostile input is a DecodeError, never a crash.
 *
 * Layouts: record layer RFC 5246 §6.2.1 / RFC 8446 §5.1; Handshake RFC 5246 §7.4 / RFC 8446 §4; ClientHello
 * RFC 5246 §7.4.1.2; ServerHello §7.4.1.3; Certificate §7.4.2; Alert §7.2; extensions: server_name RFC 6066 §3,
 * ALPN RFC 7301 §3.1, supported_versions RFC 8446 §4.2.1.
 */
import { DecodeError } from '../errors.js';
import { Reader } from '../reader.js';
import { alertName, cipherSuiteName, tlsVersionName } from './ciphers.js';

export const CT_CHANGE_CIPHER_SPEC = 20;
export const CT_ALERT = 21;
export const CT_HANDSHAKE = 22;
export const CT_APPLICATION_DATA = 23;
export const CT_HEARTBEAT = 24;

export const HT_CLIENT_HELLO = 1;
export const HT_SERVER_HELLO = 2;
export const HT_NEW_SESSION_TICKET = 4;
export const HT_CERTIFICATE = 11;
export const HT_SERVER_KEY_EXCHANGE = 12;
export const HT_CERTIFICATE_REQUEST = 13;
export const HT_SERVER_HELLO_DONE = 14;
export const HT_CLIENT_KEY_EXCHANGE = 16;
export const HT_FINISHED = 20;

export const EXT_SERVER_NAME = 0;
export const EXT_ALPN = 16;
export const EXT_SUPPORTED_VERSIONS = 43;

/** RFC 8446 §5.1: a TLSPlaintext fragment is at most 2^14 bytes; TLSCiphertext adds at most 256 (2048 in 1.2). */
export const MAX_RECORD_FRAGMENT = (1 << 14) + 2048;
const RECORD_HEADER = 5;

/** RFC 8446 §4.1.3: the ServerHello.random of a HelloRetryRequest. */
const HRR_RANDOM = 'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c';

export const HANDSHAKE_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'hello_request',
  1: 'client_hello',
  2: 'server_hello',
  4: 'new_session_ticket',
  8: 'encrypted_extensions',
  11: 'certificate',
  12: 'server_key_exchange',
  13: 'certificate_request',
  14: 'server_hello_done',
  15: 'certificate_verify',
  16: 'client_key_exchange',
  20: 'finished',
};

export interface TlsRecord {
  type: number;
  version: number;
  /** Offset of the record header in the input. */
  offset: number;
  length: number;
  fragment: Uint8Array;
}

export interface RecordScan {
  records: TlsRecord[];
  /** Offset after the last complete record. */
  end: number;
  /** Bytes of a record header/body that the input ends inside. */
  partial?: { offset: number; need: number; have: number };
  /** The bytes at `end` are not a TLS record. */
  error?: DecodeError;
}

/** Split bytes into TLS records. Stops at the first byte that is not a plausible record header. */
export function scanRecords(b: Uint8Array, start = 0, maxRecords = 4096): RecordScan {
  const records: TlsRecord[] = [];
  let o = start;
  while (o < b.length && records.length < maxRecords) {
    if (b.length - o < RECORD_HEADER) return { records, end: o, partial: { offset: o, need: RECORD_HEADER, have: b.length - o } };
    const type = b[o];
    const version = (b[o + 1] << 8) | b[o + 2];
    const length = (b[o + 3] << 8) | b[o + 4];
    if (type < CT_CHANGE_CIPHER_SPEC || type > CT_HEARTBEAT || b[o + 1] !== 0x03 || b[o + 2] > 0x04) {
      return { records, end: o, error: new DecodeError('tls', 'record header', o, `not a TLS record (bytes ${hex(b.subarray(o, o + 5))})`) };
    }
    if (length > MAX_RECORD_FRAGMENT) {
      return { records, end: o, error: new DecodeError('tls', 'record length', o + 3, `length ${length} exceeds ${MAX_RECORD_FRAGMENT}`) };
    }
    if (b.length - o < RECORD_HEADER + length) {
      return { records, end: o, partial: { offset: o, need: RECORD_HEADER + length, have: b.length - o } };
    }
    records.push({ type, version, offset: o, length, fragment: b.subarray(o + RECORD_HEADER, o + RECORD_HEADER + length) });
    o += RECORD_HEADER + length;
  }
  return { records, end: o };
}

export interface HandshakeMessage {
  type: number;
  name: string;
  length: number;
  body: Uint8Array;
}

/** Split a handshake byte stream (concatenated handshake record fragments) into messages; a cut last one is left. */
export function splitHandshake(b: Uint8Array): { messages: HandshakeMessage[]; rest: number } {
  const messages: HandshakeMessage[] = [];
  let o = 0;
  while (b.length - o >= 4) {
    const type = b[o];
    const length = (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
    if (b.length - o - 4 < length) break;
    messages.push({ type, name: HANDSHAKE_TYPE_NAMES[type] ?? `unknown(${type})`, length, body: b.subarray(o + 4, o + 4 + length) });
    o += 4 + length;
  }
  return { messages, rest: b.length - o };
}

export interface ClientHello {
  legacyVersion: number;
  /** Versions offered: supported_versions when present, else legacyVersion (and everything below it down to TLS 1.0). */
  versions: string[];
  ciphers: { value: number; name: string }[];
  compression: number[];
  sessionIdLength: number;
  extensions: number[];
  sni?: string;
  alpn?: string[];
}

export interface ServerHello {
  legacyVersion: number;
  /** The negotiated version (supported_versions when present). */
  version: string;
  cipher: { value: number; name: string };
  compression: number;
  extensions: number[];
  helloRetryRequest: boolean;
}

function vector(r: Reader, lenBytes: 1 | 2 | 3, field: string): Reader {
  const n = lenBytes === 1 ? r.u8(field) : lenBytes === 2 ? r.u16be(field) : (r.u8(field) << 16) | r.u16be(field);
  return r.sub(n, field);
}

function extensions(r: Reader, each: (type: number, body: Reader) => void): number[] {
  const out: number[] = [];
  if (r.remaining === 0) return out; // extensions are optional before TLS 1.3
  const all = vector(r, 2, 'extensions');
  while (all.remaining > 0) {
    const type = all.u16be('extension type');
    const body = vector(all, 2, 'extension data');
    out.push(type);
    each(type, body);
  }
  return out;
}

export function decodeClientHello(body: Uint8Array): ClientHello {
  const r = new Reader(body, 'tls client_hello');
  const legacyVersion = r.u16be('client_version');
  r.skip(32, 'random');
  const sessionIdLength = vector(r, 1, 'session_id').remaining;
  const cs = vector(r, 2, 'cipher_suites');
  if (cs.remaining % 2) cs.fail('cipher_suites', 'odd length');
  const ciphers: ClientHello['ciphers'] = [];
  while (cs.remaining > 0) {
    const v = cs.u16be('cipher_suite');
    ciphers.push({ value: v, name: cipherSuiteName(v) });
  }
  const comp = vector(r, 1, 'compression_methods');
  const compression = [...comp.rest()];
  const out: ClientHello = { legacyVersion, versions: [], ciphers, compression, sessionIdLength, extensions: [] };
  let supported: number[] | undefined;
  out.extensions = extensions(r, (type, e) => {
    if (type === EXT_SERVER_NAME) {
      const list = vector(e, 2, 'server_name_list');
      while (list.remaining > 0) {
        const nameType = list.u8('name_type');
        const name = vector(list, 2, 'host_name').rest();
        if (nameType === 0 && out.sni === undefined) out.sni = latin1(name);
      }
    } else if (type === EXT_ALPN) {
      const list = vector(e, 2, 'protocol_name_list');
      out.alpn = [];
      while (list.remaining > 0) out.alpn.push(latin1(vector(list, 1, 'protocol_name').rest()));
    } else if (type === EXT_SUPPORTED_VERSIONS) {
      const list = vector(e, 1, 'supported_versions');
      supported = [];
      while (list.remaining >= 2) supported.push(list.u16be('version'));
    }
  });
  if (r.remaining > 0) r.fail('client_hello', `${r.remaining} trailing byte(s)`);
  if (supported) out.versions = supported.filter((v) => !((v & 0x0f0f) === 0x0a0a)).map(tlsVersionName);
  else {
    // without supported_versions the client offers legacyVersion and (implicitly) the versions below it
    const vs: string[] = [];
    for (let v = Math.min(legacyVersion, 0x0303); v >= 0x0301; v--) vs.push(tlsVersionName(v));
    out.versions = vs.length ? vs : [tlsVersionName(legacyVersion)];
  }
  return out;
}

export function decodeServerHello(body: Uint8Array): ServerHello {
  const r = new Reader(body, 'tls server_hello');
  const legacyVersion = r.u16be('server_version');
  const random = r.bytes(32, 'random');
  vector(r, 1, 'session_id');
  const cipher = r.u16be('cipher_suite');
  const compression = r.u8('compression_method');
  let selected: number | undefined;
  const ext = extensions(r, (type, e) => {
    if (type === EXT_SUPPORTED_VERSIONS) selected = e.u16be('selected_version');
  });
  if (r.remaining > 0) r.fail('server_hello', `${r.remaining} trailing byte(s)`);
  return {
    legacyVersion,
    version: tlsVersionName(selected ?? legacyVersion),
    cipher: { value: cipher, name: cipherSuiteName(cipher) },
    compression,
    extensions: ext,
    helloRetryRequest: hex(random) === HRR_RANDOM,
  };
}

/** TLS ≤ 1.2 Certificate message: certificate_list of DER certificates, leaf first (RFC 5246 §7.4.2). */
export function decodeCertificateList(body: Uint8Array): Uint8Array[] {
  const r = new Reader(body, 'tls certificate');
  const list = vector(r, 3, 'certificate_list');
  const out: Uint8Array[] = [];
  while (list.remaining > 0) {
    const der = vector(list, 3, 'ASN.1Cert').rest();
    if (der.length === 0) list.fail('ASN.1Cert', 'empty certificate');
    out.push(der);
  }
  if (r.remaining > 0) r.fail('certificate', `${r.remaining} trailing byte(s)`);
  return out;
}

export interface TlsAlert {
  level: 'warning' | 'fatal' | string;
  description: number;
  name: string;
}

export function decodeAlert(fragment: Uint8Array): TlsAlert {
  const r = new Reader(fragment, 'tls alert');
  const level = r.u8('level');
  const description = r.u8('description');
  if (r.remaining > 0) r.fail('alert', `${r.remaining} trailing byte(s)`);
  return { level: level === 1 ? 'warning' : level === 2 ? 'fatal' : `unknown(${level})`, description, name: alertName(description) };
}

/** What one direction of a TLS connection shows without keys. */
export interface TlsFlight {
  /** Every record seen: type and length (offsets relative to the input). */
  records: { type: number; length: number; offset: number; encrypted: boolean }[];
  handshake: { type: number; name: string; length: number; offset: number }[];
  clientHello?: ClientHello;
  serverHello?: ServerHello;
  /** DER certificates of the (clear) Certificate message, leaf first. */
  certificates?: Uint8Array[];
  /** Alerts in clear; encrypted alert records (after ChangeCipherSpec) are listed with `encrypted: true`. */
  alerts: (TlsAlert & { offset: number })[];
  encryptedAlerts: { offset: number; length: number }[];
  /** Offset of the end of the ChangeCipherSpec record (after it everything is encrypted). */
  changeCipherSpecEnd?: number;
  /** ServerHelloDone (TLS ≤ 1.2) or, for TLS 1.3, the first encrypted record after the ServerHello. */
  flightComplete: boolean;
  /** Offset just after the last handshake record of this side's first flight (clear part). */
  flightEnd?: number;
  /** Application-data records (lengths), in order. */
  appData: { offset: number; length: number }[];
  /** Bytes of a record the input ends inside. */
  partial?: { offset: number; need: number; have: number };
  error?: string;
}

/**
 * Read one direction of a TLS stream from its first byte. `limit` bounds the records decoded. Never throws: a
 * decode problem is `error`, and what came before it is kept.
 */
export function readTlsFlight(b: Uint8Array, maxRecords = 4096): TlsFlight {
  const out: TlsFlight = { records: [], handshake: [], alerts: [], encryptedAlerts: [], flightComplete: false, appData: [] };
  const scan = scanRecords(b, 0, maxRecords);
  if (scan.partial) out.partial = scan.partial;
  if (scan.error) out.error = scan.error.message;
  let encrypted = false;
  let tls13 = false;
  const hs: Uint8Array[] = [];
  let hsLen = 0;
  let hsBase: number[] = [];
  /** Feed one handshake fragment; false when the message stream is beyond reason (stop). */
  const handshakeFragment = (fragment: Uint8Array, offset: number): boolean => {
    hs.push(fragment);
    hsBase.push(offset);
    hsLen += fragment.length;
    const all = hs.length === 1 ? hs[0] : concat(hs, hsLen);
    const { messages, rest } = splitHandshake(all);
    let consumed = 0;
    for (const m of messages) {
      out.handshake.push({ type: m.type, name: m.name, length: m.length, offset: hsBase[0] });
      consumed += 4 + m.length;
      try {
        if (m.type === HT_CLIENT_HELLO && !out.clientHello) out.clientHello = decodeClientHello(m.body);
        else if (m.type === HT_SERVER_HELLO && !out.serverHello) {
          out.serverHello = decodeServerHello(m.body);
          if (out.serverHello.version === 'TLSv1.3') tls13 = true;
        } else if (m.type === HT_CERTIFICATE && !out.certificates && !tls13) out.certificates = decodeCertificateList(m.body);
        else if (m.type === HT_SERVER_HELLO_DONE) out.flightComplete = true;
      } catch (e) {
        out.error ??= (e as Error).message;
      }
    }
    // keep only the unfinished message's bytes
    if (rest === 0) {
      hs.length = 0;
      hsBase = [];
      hsLen = 0;
    } else if (consumed > 0) {
      const left = all.subarray(consumed);
      hs.length = 0;
      hs.push(left);
      hsBase = [offset];
      hsLen = left.length;
    }
    if (hsLen > 1 << 20) {
      out.error ??= 'handshake message larger than 1 MiB';
      return false;
    }
    return true;
  };
  for (const rec of scan.records) {
    out.records.push({ type: rec.type, length: rec.length, offset: rec.offset, encrypted });
    if (rec.type === CT_CHANGE_CIPHER_SPEC) {
      if (!tls13) {
        encrypted = true;
        out.changeCipherSpecEnd = rec.offset + 5 + rec.length;
      }
      continue;
    }
    if (rec.type === CT_ALERT) {
      if (encrypted || rec.length !== 2) out.encryptedAlerts.push({ offset: rec.offset, length: rec.length });
      else {
        try {
          out.alerts.push({ ...decodeAlert(rec.fragment), offset: rec.offset });
        } catch (e) {
          out.error ??= (e as Error).message;
        }
      }
      continue;
    }
    if (rec.type === CT_APPLICATION_DATA) {
      if (tls13 && !encrypted) {
        // TLS 1.3: everything after the ServerHello is encrypted (RFC 8446 §2); the flight is there
        encrypted = true;
        out.flightComplete = true;
      }
      out.appData.push({ offset: rec.offset, length: rec.length });
      continue;
    }
    if (rec.type === CT_HANDSHAKE && !encrypted) {
      if (!handshakeFragment(rec.fragment, rec.offset)) break;
      out.flightEnd = rec.offset + 5 + rec.length;
    }
  }
  // a record the input ends inside: its complete handshake messages are still readable (a stalled flight shows
  // its ServerHello even when the Certificate never arrived)
  if (scan.partial && !encrypted && scan.partial.have > RECORD_HEADER && b[scan.partial.offset] === CT_HANDSHAKE) {
    const complete = out.flightComplete;
    handshakeFragment(b.subarray(scan.partial.offset + RECORD_HEADER), scan.partial.offset);
    out.flightComplete = complete; // the record itself is not complete
  }
  return out;
}

function concat(parts: Uint8Array[], n: number): Uint8Array {
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) out.set(p, o), (o += p.length);
  return out;
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (const c of b) s += String.fromCharCode(c);
  return s;
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const c of b) s += c.toString(16).padStart(2, '0');
  return s;
}
