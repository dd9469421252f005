import { DecodeError } from './errors.js';

/**
 * Bounds-checked cursor over a byte array. Every read names the field it reads, so a short or malformed input
 * turns into a DecodeError that says exactly what was missing (layer, field, offset, need, have).
 */
export class Reader {
  private pos: number;
  constructor(
    readonly buf: Uint8Array,
    readonly layer: string,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get offset(): number {
    return this.pos;
  }
  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, field: string): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new DecodeError(this.layer, field, this.pos, `need ${n} byte(s), have ${this.end - this.pos}`, n, this.end - this.pos);
    }
  }

  fail(field: string, message: string): never {
    throw new DecodeError(this.layer, field, this.pos, message);
  }

  u8(field: string): number {
    this.need(1, field);
    return this.buf[this.pos++];
  }
  u16le(field: string): number {
    this.need(2, field);
    const v = this.buf[this.pos] | (this.buf[this.pos + 1] << 8);
    this.pos += 2;
    return v;
  }
  u16be(field: string): number {
    this.need(2, field);
    const v = (this.buf[this.pos] << 8) | this.buf[this.pos + 1];
    this.pos += 2;
    return v;
  }
  u32le(field: string): number {
    this.need(4, field);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16)) + b[p + 3] * 0x1000000;
  }
  u32be(field: string): number {
    this.need(4, field);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return b[p] * 0x1000000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
  }
  /** Unsigned 64-bit little-endian as bigint (FILETIME and friends). */
  u64le(field: string): bigint {
    const lo = this.u32le(field);
    const hi = this.u32le(field);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }
  bytes(n: number, field: string): Uint8Array {
    this.need(n, field);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  skip(n: number, field: string): void {
    this.need(n, field);
    this.pos += n;
  }
  peekU8(field: string): number {
    this.need(1, field);
    return this.buf[this.pos];
  }
  /** A sub-reader over the next n bytes; this reader advances past them. */
  sub(n: number, field: string, layer = this.layer): Reader {
    this.need(n, field);
    const r = new Reader(this.buf, layer, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }
  rest(): Uint8Array {
    const v = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return v;
  }
}
