/**
 * Minimal, bounds-checked BER for the T.125 MCS connect PDUs (Connect-Initial / Connect-Response, T.125 §7 part 2,
 * encoded with the basic encoding rules per T.125 §7 "ConnectMCSPDU": X.690 BER).
 *
 * Only what MCS uses: APPLICATION tags 101/102 (two-octet high-tag form `7F 65` / `7F 66`), definite lengths (short
 * form and long form up to 4 length octets), INTEGER, ENUMERATED, OCTET STRING, BOOLEAN and SEQUENCE. Every read goes
 * through Reader, so short or hostile input becomes a DecodeError naming the field. Indefinite lengths (0x80) are not
 * allowed for MCS and are rejected.
 *
 * Quirk seen in real captures (ndpi-rdp3, suricata RDP-003): mstsc writes maxMCSPDUsize 65535 as `02 02 FF FF`, which
 * is -1 in two's complement. Every MCS INTEGER is constrained to non-negative values (T.125 DomainParameters,
 * calledConnectId INTEGER (0..MAX)), so INTEGERs are read as unsigned, as Windows and FreeRDP do.
 */
import { DecodeError } from './errors.js';
import { Reader } from './reader.js';
import { concatBytes } from './writer.js';

// X.690 §8.1.2 identifier octets
export const BER_CLASS_UNIVERSAL = 0x00;
export const BER_CLASS_APPLICATION = 0x40;
export const BER_CLASS_CONTEXT = 0x80;
export const BER_CONSTRUCTED = 0x20;

// X.690 universal tag numbers
export const BER_TAG_BOOLEAN = 0x01;
export const BER_TAG_INTEGER = 0x02;
export const BER_TAG_OCTET_STRING = 0x04;
export const BER_TAG_ENUMERATED = 0x0a;
export const BER_TAG_SEQUENCE = 0x10 | BER_CONSTRUCTED; // 0x30

/** Largest length we accept: a TPKT carries at most 65535 bytes, so anything bigger is malformed on its face. */
const MAX_BER_LENGTH = 0xffff;

// ------------------------------------------------------------------------------------------------------------------
// Decoding

/** X.690 §8.1.3 definite length: short form (< 0x80) or long form `8n` + n octets (n ≤ 4). */
export function readBerLength(r: Reader, field: string): number {
  const first = r.u8(`${field}.length`);
  if (first < 0x80) return first;
  const n = first & 0x7f;
  if (n === 0) r.fail(`${field}.length`, 'indefinite length (0x80) is not allowed in MCS');
  if (n > 4) r.fail(`${field}.length`, `length of length ${n} > 4`);
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + r.u8(`${field}.length`);
  if (len > MAX_BER_LENGTH) r.fail(`${field}.length`, `length ${len} exceeds ${MAX_BER_LENGTH}`);
  if (len > r.remaining) {
    throw new DecodeError(r.layer, `${field}.length`, r.offset, `length ${len} runs past the end (${r.remaining} left)`, len, r.remaining);
  }
  return len;
}

/**
 * X.690 §8.1.2.4 identifier for an APPLICATION-class constructed tag. Numbers ≥ 31 use the high-tag-number form:
 * 0x7F followed by base-128 octets (MCS Connect-Initial = [APPLICATION 101] → `7F 65`).
 * Returns a sub-reader over the contents.
 */
export function readApplicationTag(r: Reader, tagNumber: number, field: string): Reader {
  const id = r.u8(`${field}.tag`);
  if (tagNumber >= 31) {
    if (id !== (BER_CLASS_APPLICATION | BER_CONSTRUCTED | 0x1f)) {
      r.fail(`${field}.tag`, `expected [APPLICATION ${tagNumber}] (0x7f), got 0x${hex2(id)}`);
    }
    const n = readHighTagNumber(r, `${field}.tag`);
    if (n !== tagNumber) r.fail(`${field}.tag`, `expected [APPLICATION ${tagNumber}], got [APPLICATION ${n}]`);
  } else if (id !== (BER_CLASS_APPLICATION | BER_CONSTRUCTED | tagNumber)) {
    r.fail(`${field}.tag`, `expected [APPLICATION ${tagNumber}], got 0x${hex2(id)}`);
  }
  const len = readBerLength(r, field);
  return r.sub(len, field);
}

/** Peek the APPLICATION tag number without consuming (null if the next byte is not an APPLICATION tag). */
export function peekApplicationTag(buf: Uint8Array, offset: number): number | null {
  const id = buf[offset];
  if (id === undefined || (id & 0xc0) !== BER_CLASS_APPLICATION) return null;
  if ((id & 0x1f) !== 0x1f) return id & 0x1f;
  let n = 0;
  for (let i = offset + 1; i < Math.min(buf.length, offset + 5); i++) {
    n = n * 128 + (buf[i] & 0x7f);
    if (!(buf[i] & 0x80)) return n;
  }
  return null;
}

function readHighTagNumber(r: Reader, field: string): number {
  let n = 0;
  for (let i = 0; i < 4; i++) {
    const b = r.u8(field);
    n = n * 128 + (b & 0x7f);
    if (!(b & 0x80)) return n;
  }
  return r.fail(field, 'tag number longer than 4 octets');
}

/** A universal tag with its definite length; returns a sub-reader over the contents. */
export function readUniversal(r: Reader, tag: number, field: string): Reader {
  const id = r.u8(`${field}.tag`);
  if (id !== tag) r.fail(`${field}.tag`, `expected tag 0x${hex2(tag)}, got 0x${hex2(id)}`);
  const len = readBerLength(r, field);
  return r.sub(len, field);
}

/** SEQUENCE (0x30): sub-reader over its contents. */
export function readSequence(r: Reader, field: string): Reader {
  return readUniversal(r, BER_TAG_SEQUENCE, field);
}

/** INTEGER, read as unsigned (see the file comment); 1..4 content octets plus an optional leading 0x00. */
export function readInteger(r: Reader, field: string): number {
  const c = readUniversal(r, BER_TAG_INTEGER, field);
  return readUnsignedContents(c, field);
}

/** ENUMERATED (0x0a), same content rules as INTEGER. */
export function readEnumerated(r: Reader, field: string): number {
  const c = readUniversal(r, BER_TAG_ENUMERATED, field);
  return readUnsignedContents(c, field);
}

function readUnsignedContents(c: Reader, field: string): number {
  const n = c.remaining;
  if (n === 0) c.fail(field, 'empty INTEGER');
  if (n > 5 || (n === 5 && c.buf[c.offset] !== 0)) c.fail(field, `INTEGER of ${n} octets is too large`);
  let v = 0;
  while (c.remaining) v = v * 256 + c.u8(field);
  return v;
}

/** BOOLEAN (0x01): exactly one content octet; any non-zero value is TRUE (X.690 §8.2.2). */
export function readBoolean(r: Reader, field: string): boolean {
  const c = readUniversal(r, BER_TAG_BOOLEAN, field);
  if (c.remaining !== 1) c.fail(field, `BOOLEAN with ${c.remaining} content octets (must be 1)`);
  return c.u8(field) !== 0;
}

/** OCTET STRING (0x04), primitive form only. */
export function readOctetString(r: Reader, field: string): Uint8Array {
  const c = readUniversal(r, BER_TAG_OCTET_STRING, field);
  return c.rest();
}

// ------------------------------------------------------------------------------------------------------------------
// Encoding (values are built bottom-up: each function returns the complete TLV)

export function berLength(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > MAX_BER_LENGTH) throw new RangeError(`BER length ${n} out of range`);
  if (n < 0x80) return Uint8Array.of(n);
  if (n < 0x100) return Uint8Array.of(0x81, n);
  return Uint8Array.of(0x82, n >> 8, n & 0xff);
}

function tlv(id: Uint8Array, content: Uint8Array): Uint8Array {
  const len = berLength(content.length);
  const out = new Uint8Array(id.length + len.length + content.length);
  out.set(id, 0);
  out.set(len, id.length);
  out.set(content, id.length + len.length);
  return out;
}

export { concatBytes };

/** [APPLICATION n] constructed (MCS: 101 Connect-Initial, 102 Connect-Response). */
export function berApplication(tagNumber: number, ...contents: Uint8Array[]): Uint8Array {
  let id: Uint8Array;
  if (tagNumber < 31) id = Uint8Array.of(BER_CLASS_APPLICATION | BER_CONSTRUCTED | tagNumber);
  else if (tagNumber < 128) id = Uint8Array.of(BER_CLASS_APPLICATION | BER_CONSTRUCTED | 0x1f, tagNumber);
  else throw new RangeError(`APPLICATION tag ${tagNumber} not supported`);
  return tlv(id, concatBytes(contents));
}

export function berSequence(...contents: Uint8Array[]): Uint8Array {
  return tlv(Uint8Array.of(BER_TAG_SEQUENCE), concatBytes(contents));
}

/** Minimal two's-complement encoding of a non-negative integer (a leading 0x00 keeps the sign bit clear). */
function unsignedContents(v: number): Uint8Array {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`BER INTEGER ${v} out of range`);
  const bytes: number[] = [];
  let x = v;
  do {
    bytes.unshift(x % 256);
    x = Math.floor(x / 256);
  } while (x > 0);
  if (bytes[0] & 0x80) bytes.unshift(0);
  return Uint8Array.from(bytes);
}

export function berInteger(v: number): Uint8Array {
  return tlv(Uint8Array.of(BER_TAG_INTEGER), unsignedContents(v));
}

export function berEnumerated(v: number): Uint8Array {
  return tlv(Uint8Array.of(BER_TAG_ENUMERATED), unsignedContents(v));
}

export function berBoolean(v: boolean): Uint8Array {
  return tlv(Uint8Array.of(BER_TAG_BOOLEAN), Uint8Array.of(v ? 0xff : 0x00));
}

export function berOctetString(b: Uint8Array): Uint8Array {
  return tlv(Uint8Array.of(BER_TAG_OCTET_STRING), b);
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
