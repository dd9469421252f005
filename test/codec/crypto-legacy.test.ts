import { describe, expect, it } from 'vitest';
import { md4, Rc4, rc4 } from '../../src/codec/crypto-legacy.js';
import { hex, toHex } from '../../src/codec/writer.js';

const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

describe('MD4 (RFC 1320 appendix A.5 test suite)', () => {
  const suite: [string, string][] = [
    ['', '31d6cfe0d16ae931b73c59d7e0c089c0'],
    ['a', 'bde52cb31de33e46245e05fbdbd6fb24'],
    ['abc', 'a448017aaf21d8525fc10ae87aa6729d'],
    ['message digest', 'd9130a8164549fe818874806e1c7014b'],
    ['abcdefghijklmnopqrstuvwxyz', 'd79e1c308aa5bbcdeea8ed63df412da9'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', '043f8582f241db351ce627e153e7f0e4'],
    ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', 'e33b4ddc9c38f2199c3e7b164fcc0536'],
  ];
  for (const [msg, digest] of suite) {
    it(`MD4("${msg.length > 20 ? msg.slice(0, 20) + '…' : msg}")`, () => {
      expect(toHex(md4(ascii(msg)))).toBe(digest);
    });
  }

  it('pads correctly around the 55/56/64-byte block boundaries', () => {
    // Lengths where the padding spills into a second block; values cross-checked with `openssl dgst -md4 -provider legacy`.
    const a55 = md4(ascii('a'.repeat(55)));
    const a56 = md4(ascii('a'.repeat(56)));
    const a64 = md4(ascii('a'.repeat(64)));
    expect(toHex(a55)).toBe('c889c81dd86c4d2e025778944ea02881');
    expect(toHex(a56)).toBe('d5f9a9e9257077a5f08b0b92f348b0ad');
    expect(toHex(a64)).toBe('52f5076fabd22680234a3fa9f9dc5732');
  });

  it('is the NT hash: MD4(UTF-16LE("Password")) = MS-NLMP 4.2.2.1.2 NTOWFv1', () => {
    expect(toHex(md4(new Uint8Array(Buffer.from('Password', 'utf16le'))))).toBe('a4f49c406510bdcab6824ee7c30fd852');
  });
});

describe('RC4 (RFC 6229 section 2 test vectors)', () => {
  // Keystream = RC4 over zeros. [offset, 16 bytes of keystream]
  const vectors: { key: string; rows: [number, string][] }[] = [
    {
      key: '0102030405', // 40-bit key
      rows: [
        [0, 'b2 39 63 05 f0 3d c0 27 cc c3 52 4a 0a 11 18 a8'],
        [16, '69 82 94 4f 18 fc 82 d5 89 c4 03 a4 7a 0d 09 19'],
        [240, '28 cb 11 32 c9 6c e2 86 42 1d ca ad b8 b6 9e ae'],
        [256, '1c fc f6 2b 03 ed db 64 1d 77 df cf 7f 8d 8c 93'],
        [4080, '06 83 26 a2 11 84 16 d2 1f 9d 04 b2 cd 1c a0 50'],
        [4096, 'ff 25 b5 89 95 99 67 07 e5 1f bd f0 8b 34 d8 75'],
      ],
    },
    {
      key: '0102030405060708090a0b0c0d0e0f10', // 128-bit key
      rows: [
        [0, '9a c7 cc 9a 60 9d 1e f7 b2 93 28 99 cd e4 1b 97'],
        [16, '52 48 c4 95 90 14 12 6a 6e 8a 84 f1 1d 1a 9e 1c'],
        [240, '06 59 02 e4 b6 20 f6 cc 36 c8 58 9f 66 43 2f 2b'],
        [256, 'd3 9d 56 6b c6 bc e3 01 07 68 15 15 49 f3 87 3f'],
        [4080, 'ff 38 26 5c 16 42 c1 ab e8 d3 c2 fe 5e 57 2b f8'],
        [4096, 'a3 6a 4c 30 1a e8 ac 13 61 0c cb c1 22 56 ca cc'],
      ],
    },
  ];

  for (const v of vectors) {
    it(`one-shot keystream, key ${v.key}`, () => {
      const ks = rc4(hex(v.key), new Uint8Array(4112));
      for (const [off, expected] of v.rows) expect(toHex(ks.subarray(off, off + 16), ' ')).toBe(expected);
    });

    it(`streaming in odd-sized chunks keeps the state, key ${v.key}`, () => {
      const r = new Rc4(hex(v.key));
      const parts: Uint8Array[] = [];
      let n = 0;
      for (const size of [1, 7, 13, 255, 256, 1000, 2580]) {
        parts.push(r.update(new Uint8Array(size)));
        n += size;
      }
      expect(n).toBe(4112);
      const ks = Buffer.concat(parts);
      for (const [off, expected] of v.rows) expect(toHex(ks.subarray(off, off + 16), ' ')).toBe(expected);
    });
  }

  it('decrypts what it encrypted (symmetric)', () => {
    const key = hex('55 55 55 55 55 55 55 55 55 55 55 55 55 55 55 55');
    const msg = new Uint8Array(Buffer.from('Plaintext', 'utf16le'));
    expect(Buffer.from(rc4(key, rc4(key, msg)))).toEqual(Buffer.from(msg));
  });

  it('rejects an empty key', () => {
    expect(() => new Rc4(new Uint8Array(0))).toThrow(RangeError);
  });
});
