/**
 * ALIGNED PER (X.691) pieces used by the T.124 GCC Conference Create Request / Response that RDP carries inside the
 * MCS connect PDUs (MS-RDPBCGR 2.2.1.3 / 2.2.1.4, T.124 §8.7 ConnectData / ConnectGCCPDU).
 *
 * RDP only ever uses a fixed shape of these PDUs, so this is not a general PER codec: it offers the octet-aligned
 * building blocks (length determinant, object identifier, constrained 16-bit integer, unconstrained integer,
 * octet string with a minimum size, numeric string) and leaves the few bit-packed preamble octets (CHOICE index,
 * SEQUENCE optional-field bitmaps) to the caller, which documents what each bit means.
 */
import { DecodeError } from './errors.js';
import { Reader } from './reader.js';

// ------------------------------------------------------------------------------------------------------------------
// Length determinant (X.691 §10.9.3.6–10.9.3.8, aligned variant)

/** Unconstrained length: `0xxxxxxx` (0..127) or `10xxxxxx xxxxxxxx` (0..16383). Fragmented form (`11…`) is rejected. */
export function readPerLength(r: Reader, field: string): number {
  const b = r.u8(`${field}.length`);
  if (!(b & 0x80)) return b;
  if ((b & 0xc0) === 0xc0) r.fail(`${field}.length`, 'fragmented PER length (0xC0 form) is not used by GCC');
  return ((b & 0x3f) << 8) | r.u8(`${field}.length`);
}

/** The aligned-PER length determinant for n (1 octet below 128, else 2 octets with the 0x80 marker). */
export function perLength(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0x3fff) throw new RangeError(`PER length ${n} out of range (0..16383)`);
  return n < 0x80 ? Uint8Array.of(n) : Uint8Array.of(0x80 | (n >> 8), n & 0xff);
}

/** A PER length followed by exactly that many octets: returns a sub-reader (checks the length against the input). */
export function readPerLengthPrefixed(r: Reader, field: string): Reader {
  const at = r.offset;
  const len = readPerLength(r, field);
  if (len > r.remaining) {
    throw new DecodeError(r.layer, `${field}.length`, at, `length ${len} runs past the end (${r.remaining} left)`, len, r.remaining);
  }
  return r.sub(len, field);
}

// ------------------------------------------------------------------------------------------------------------------
// OBJECT IDENTIFIER (X.691 §24: a length octet followed by the X.690 §8.19 contents octets)

export function readPerObjectIdentifier(r: Reader, field: string): number[] {
  const c = readPerLengthPrefixed(r, field);
  if (c.remaining === 0) c.fail(field, 'empty OBJECT IDENTIFIER');
  const arcs: number[] = [];
  let v = 0;
  let octets = 0;
  while (c.remaining) {
    const b = c.u8(field);
    if (++octets > 4) c.fail(field, 'OBJECT IDENTIFIER arc longer than 4 octets');
    v = v * 128 + (b & 0x7f);
    if (b & 0x80) continue;
    if (arcs.length === 0) {
      // X.690 §8.19.4: the first subidentifier packs the first two arcs as X*40 + Y
      const x = v < 80 ? Math.floor(v / 40) : 2;
      arcs.push(x, v - x * 40);
    } else {
      arcs.push(v);
    }
    v = 0;
    octets = 0;
  }
  if (octets) c.fail(field, 'OBJECT IDENTIFIER ends inside an arc');
  return arcs;
}

export function perObjectIdentifier(arcs: readonly number[]): Uint8Array {
  if (arcs.length < 2) throw new RangeError('an OBJECT IDENTIFIER has at least two arcs');
  const subs = [arcs[0] * 40 + arcs[1], ...arcs.slice(2)];
  const body: number[] = [];
  for (const s of subs) {
    const chunk: number[] = [s & 0x7f];
    let x = Math.floor(s / 128);
    while (x > 0) {
      chunk.unshift(0x80 | (x & 0x7f));
      x = Math.floor(x / 128);
    }
    body.push(...chunk);
  }
  return Uint8Array.from([...perLength(body.length), ...body]);
}

// ------------------------------------------------------------------------------------------------------------------
// Integers

/** Constrained whole number with a range of 65536 or less (X.691 §10.5.7.3: two aligned octets, value - min). */
export function readPerInteger16(r: Reader, min: number, field: string): number {
  return r.u16be(field) + min;
}

export function perInteger16(v: number, min: number): Uint8Array {
  const d = v - min;
  if (!Number.isInteger(d) || d < 0 || d > 0xffff) throw new RangeError(`PER integer16 ${v} out of range (${min}..${min + 0xffff})`);
  return Uint8Array.of(d >> 8, d & 0xff);
}

/** Unconstrained (semi-constrained ≥ 0) whole number: a length octet then 1, 2 or 4 octets (X.691 §10.8). */
export function readPerInteger(r: Reader, field: string): number {
  const c = readPerLengthPrefixed(r, field);
  const n = c.remaining;
  if (n === 0 || n > 4) c.fail(field, `integer of ${n} octets (expected 1..4)`);
  let v = 0;
  while (c.remaining) v = v * 256 + c.u8(field);
  return v;
}

export function perInteger(v: number): Uint8Array {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`PER integer ${v} out of range`);
  if (v < 0x100) return Uint8Array.of(1, v);
  if (v < 0x10000) return Uint8Array.of(2, v >> 8, v & 0xff);
  return Uint8Array.of(4, v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

// ------------------------------------------------------------------------------------------------------------------
// Strings

/** OCTET STRING (SIZE (minSize..MAX)): length determinant carries size - minSize (X.691 §17). */
export function readPerOctetString(r: Reader, minSize: number, field: string): Uint8Array {
  const at = r.offset;
  const len = readPerLength(r, field) + minSize;
  if (len > r.remaining) {
    throw new DecodeError(r.layer, `${field}.length`, at, `length ${len} runs past the end (${r.remaining} left)`, len, r.remaining);
  }
  return r.bytes(len, field);
}

export function perOctetString(b: Uint8Array, minSize: number): Uint8Array {
  if (b.length < minSize) throw new RangeError(`PER OCTET STRING of ${b.length} octets is below its minimum size ${minSize}`);
  const len = perLength(b.length - minSize);
  const out = new Uint8Array(len.length + b.length);
  out.set(len, 0);
  out.set(b, len.length);
  return out;
}

/**
 * T.124 SimpleNumericString ::= NumericString (SIZE (1..255)) (FROM ("0123456789")): the permitted alphabet has 10
 * characters, so each digit takes 4 bits (its value 0..9), two per octet, high nibble first (X.691 §27.5.4).
 */
export function readPerNumericString(r: Reader, minSize: number, field: string): string {
  const len = readPerLength(r, field) + minSize;
  const packed = r.bytes(Math.ceil(len / 2), field);
  let s = '';
  for (let i = 0; i < len; i++) {
    const nib = i % 2 === 0 ? packed[i >> 1] >> 4 : packed[i >> 1] & 0x0f;
    if (nib > 9) r.fail(field, `numeric string digit value ${nib} is not 0..9`);
    s += String(nib);
  }
  return s;
}

export function perNumericString(s: string, minSize: number): Uint8Array {
  if (!/^[0-9]*$/.test(s) || s.length < minSize) throw new RangeError(`invalid numeric string ${JSON.stringify(s)}`);
  const packed = new Uint8Array(Math.ceil(s.length / 2));
  for (let i = 0; i < s.length; i++) {
    const d = s.charCodeAt(i) - 0x30;
    packed[i >> 1] |= i % 2 === 0 ? d << 4 : d;
  }
  const len = perLength(s.length - minSize);
  const out = new Uint8Array(len.length + packed.length);
  out.set(len, 0);
  out.set(packed, len.length);
  return out;
}
