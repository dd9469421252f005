/** TS_UD_HEADER framing (MS-RDPBCGR 2.2.1.3.1) and the small string helpers the GCC block codecs share. */
import { DecodeError } from '../errors.js';
import { flagNames, nameOf } from '../names.js';
import { Reader } from '../reader.js';
import { Writer } from '../writer.js';
import type { Flags } from '../../observation/vocab.js';
import { BLOCK_TYPE_NAMES } from './constants.js';

export interface UnknownBlock {
  type: number;
  name: string;
  length: number;
}

export function* walkBlocks(bytes: Uint8Array, what: string): Generator<{ type: number; length: number; body: Reader }> {
  const r = new Reader(bytes, 'gcc');
  while (r.remaining > 0) {
    const at = r.offset;
    const type = r.u16le(`${what} TS_UD_HEADER.type`);
    const length = r.u16le(`${what} TS_UD_HEADER.length`);
    const name = BLOCK_TYPE_NAMES[type] ?? nameOf({}, type, 4);
    if (length < 4) throw new DecodeError('gcc', `${name}.length`, at + 2, `block length ${length} is below the 4-byte header`);
    if (length - 4 > r.remaining) {
      throw new DecodeError('gcc', `${name}.length`, at + 2, `block length ${length} runs past the end (${r.remaining + 4} left)`, length, r.remaining + 4);
    }
    yield { type, length, body: r.sub(length - 4, name) };
  }
}

export function blockWriter(type: number): Writer {
  return new Writer(256).u16le(type).u16le(0);
}

export function finishBlock(w: Writer): Uint8Array {
  const b = w.finish();
  if (b.length > 0xffff) throw new RangeError('data block too long');
  b[2] = b.length & 0xff;
  b[3] = b.length >> 8;
  return b;
}

export function flagsOf(table: Readonly<Record<number, string>>, value: number): Flags {
  return { value, names: flagNames(table, value) };
}

/** A fixed-size UTF-16LE field, NUL-terminated (the string is truncated so the terminator always fits). */
export function utf16Field(s: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  const max = size / 2 - 1;
  for (let i = 0; i < Math.min(s.length, max); i++) {
    const c = s.charCodeAt(i);
    out[i * 2] = c & 0xff;
    out[i * 2 + 1] = c >> 8;
  }
  return out;
}

const UTF16LE = new TextDecoder('utf-16le');

/** UTF-16LE up to the first NUL code unit. */
export function utf16String(b: Uint8Array): string {
  let end = 0;
  while (end + 1 < b.length && (b[end] | b[end + 1]) !== 0) end += 2;
  return UTF16LE.decode(b.subarray(0, end));
}

export function cString(b: Uint8Array): string {
  const end = b.indexOf(0);
  return latin1(end < 0 ? b : b.subarray(0, end));
}

export function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

export function latin1(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return s;
}
