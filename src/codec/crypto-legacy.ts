/**
 * MD4 (RFC 1320) and RC4, the two legacy primitives NTLM needs (MS-NLMP 3.3.1 NTOWF, 3.4 sealing).
 *
 * Node 20 ships OpenSSL 3, whose default provider refuses `md4` and `rc4` ("digital envelope routines::unsupported")
 * unless the process is started with the legacy provider. Rather than depend on how node was started, both are
 * implemented here; they are small, and tested against the RFC 1320 and RFC 6229 vectors.
 *
 * Neither is used for anything but NTLM compatibility.
 */

function rotl(x: number, s: number): number {
  return ((x << s) | (x >>> (32 - s))) >>> 0;
}

/** MD4 message digest (RFC 1320 §3). Returns 16 bytes. */
export function md4(message: Uint8Array): Uint8Array {
  // §3.1–3.2: append 0x80, pad with zeros to 56 mod 64, append the bit length as a 64-bit little-endian integer.
  const bitLen = message.length * 8;
  const padded = new Uint8Array((((message.length + 8) >>> 6) + 1) << 6);
  padded.set(message);
  padded[message.length] = 0x80;
  const dv = new DataView(padded.buffer);
  dv.setUint32(padded.length - 8, bitLen >>> 0, true);
  dv.setUint32(padded.length - 4, Math.floor(bitLen / 0x100000000), true);

  // §3.3: initial buffer
  let a = 0x67452301;
  let b = 0xefcdab89;
  let c = 0x98badcfe;
  let d = 0x10325476;
  const x = new Uint32Array(16);

  const F = (p: number, q: number, r: number) => (p & q) | (~p & r);
  const G = (p: number, q: number, r: number) => (p & q) | (p & r) | (q & r);
  const H = (p: number, q: number, r: number) => p ^ q ^ r;
  // §3.4 round orders: word index and shift per step
  const R2 = [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15];
  const R3 = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15];
  const S1 = [3, 7, 11, 19];
  const S2 = [3, 5, 9, 13];
  const S3 = [3, 9, 11, 15];

  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) x[i] = dv.getUint32(off + i * 4, true);
    const aa = a;
    const bb = b;
    const cc = c;
    const dd = d;
    // Each round rotates the roles [a b c d] → [d a b c] after every step.
    for (let i = 0; i < 16; i++) {
      const t = rotl((a + F(b, c, d) + x[i]) >>> 0, S1[i & 3]);
      a = d;
      d = c;
      c = b;
      b = t;
    }
    for (let i = 0; i < 16; i++) {
      const t = rotl((a + G(b, c, d) + x[R2[i]] + 0x5a827999) >>> 0, S2[i & 3]);
      a = d;
      d = c;
      c = b;
      b = t;
    }
    for (let i = 0; i < 16; i++) {
      const t = rotl((a + H(b, c, d) + x[R3[i]] + 0x6ed9eba1) >>> 0, S3[i & 3]);
      a = d;
      d = c;
      c = b;
      b = t;
    }
    a = (a + aa) >>> 0;
    b = (b + bb) >>> 0;
    c = (c + cc) >>> 0;
    d = (d + dd) >>> 0;
  }

  const out = new Uint8Array(16);
  const ov = new DataView(out.buffer);
  ov.setUint32(0, a, true);
  ov.setUint32(4, b, true);
  ov.setUint32(8, c, true);
  ov.setUint32(12, d, true);
  return out;
}

/**
 * RC4 keystream generator with state, because NTLM session security keeps one RC4 handle per direction for the
 * whole connection (MS-NLMP 3.4.4.2, "the same handle is used for all messages").
 */
export class Rc4 {
  private readonly s = new Uint8Array(256);
  private i = 0;
  private j = 0;

  constructor(key: Uint8Array) {
    if (key.length < 1 || key.length > 256) throw new RangeError(`RC4 key length ${key.length} outside 1..256`);
    const s = this.s;
    for (let k = 0; k < 256; k++) s[k] = k;
    let j = 0;
    for (let k = 0; k < 256; k++) {
      j = (j + s[k] + key[k % key.length]) & 0xff;
      const t = s[k];
      s[k] = s[j];
      s[j] = t;
    }
  }

  /** XOR the next data.length keystream bytes into a copy of data. */
  update(data: Uint8Array): Uint8Array {
    const s = this.s;
    const out = new Uint8Array(data.length);
    let i = this.i;
    let j = this.j;
    for (let k = 0; k < data.length; k++) {
      i = (i + 1) & 0xff;
      j = (j + s[i]) & 0xff;
      const t = s[i];
      s[i] = s[j];
      s[j] = t;
      out[k] = data[k] ^ s[(s[i] + s[j]) & 0xff];
    }
    this.i = i;
    this.j = j;
    return out;
  }
}

/** One-shot RC4 with a fresh key schedule: RC4K(key, data) in MS-NLMP 6 (Appendix: cryptographic operations). */
export function rc4(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Rc4(key).update(data);
}
