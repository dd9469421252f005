import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/codec/errors.js';
import { TpktFramer, fastPathLengthBytes } from '../../src/codec/framer.js';
import { concatBytes } from '../../src/codec/writer.js';
const concat = (parts: Uint8Array[]): Uint8Array => concatBytes(parts);
import { hex, toHex } from '../../src/codec/writer.js';
import { connection, pdusOf, prng, streamsOf } from './framer-pdus.js';

const hexes = (pdus: Uint8Array[]) => pdus.map((p) => toHex(p));

/** Feed `bytes` to a fresh framer in the given pieces and collect every PDU. */
function feed(bytes: Uint8Array, cuts: number[], opts: ConstructorParameters<typeof TpktFramer>[0]): string[] {
  const f = new TpktFramer(opts);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...cuts, bytes.length]) {
    out.push(...f.push(bytes.subarray(prev, c)));
    prev = c;
  }
  expect(f.buffered).toBe(0);
  return hexes(out);
}

describe('TpktFramer: same PDUs whatever the split', () => {
  // slow-path only: the first 17 client PDUs of a full Standard RDP Security session (CR, Connect-Initial,
  // Erect Domain, Attach User, Channel Joins, Security Exchange, Client Info …)
  const c = connection('zeek-rdp-proprietary-encryption.pcap', 1);
  const slowPdus = c.client.slice(0, 17);
  const slow = concat(slowPdus);
  // mixed slow-path and fast-path: the first 21 server PDUs of suricata RDP-003 (CC, Connect-Response, MCS
  // confirms, licensing, then fast-path output interleaved with slow-path PDUs), 2867 bytes
  const mixedPdus = pdusOf(streamsOf('suricata-verify-RDP-003.pcap')[0].toClient).pdus.slice(0, 21);
  const mixed = concat(mixedPdus);

  it('the reference streams are what we think they are', () => {
    expect(slowPdus.every((p) => p[0] === 3)).toBe(true);
    expect(slow.length).toBe(1774);
    expect(mixed.length).toBe(2867);
    expect(mixedPdus.filter((p) => p[0] !== 3).map((p) => p.length)).toEqual([1525, 18, 153]); // fast-path, 2-byte lengths too
  });

  it('every single split offset of a multi-PDU stream gives identical PDUs (slow-path)', () => {
    const ref = hexes(slowPdus);
    expect(feed(slow, [], { maxPdu: 0xffff })).toEqual(ref);
    for (let i = 0; i <= slow.length; i++) expect(feed(slow, [i], { maxPdu: 0xffff })).toEqual(ref);
  });

  it('every single split offset gives identical PDUs (slow-path + fast-path)', () => {
    const ref = hexes(mixedPdus);
    for (let i = 0; i <= mixed.length; i++) expect(feed(mixed, [i], { fastPath: true })).toEqual(ref);
  });

  it('byte by byte and in 500 random three-way splits', () => {
    const ref = hexes(mixedPdus);
    expect(feed(mixed, Array.from({ length: mixed.length }, (_, i) => i), { fastPath: true })).toEqual(ref);
    const rnd = prng(1234);
    for (let k = 0; k < 500; k++) {
      const a = Math.floor(rnd() * (slow.length + 1));
      const b = Math.floor(rnd() * (slow.length + 1));
      expect(feed(slow, [Math.min(a, b), Math.max(a, b)], { maxPdu: 0xffff })).toEqual(hexes(slowPdus));
    }
  });

  it('frames whole real sessions with fast-path on, with no byte left over', () => {
    for (const [file, n] of [
      ['zeek-rdp-proprietary-encryption.pcap', 1],
      ['suricata-verify-RDP-003.pcap', 0],
      ['freerdp-pcap-sample.pcap', 0],
    ] as const) {
      const s = streamsOf(file)[n];
      for (const dir of [s.toServer, s.toClient]) {
        const r = pdusOf(dir);
        expect(r.error, file).toBeUndefined();
        expect(r.consumed, file).toBe(dir.length);
      }
    }
  });

  it('reports how much of an incomplete PDU it holds', () => {
    const f = new TpktFramer();
    expect(f.push(slow.subarray(0, 10))).toEqual([]);
    expect(f.buffered).toBe(10);
    const first = f.push(slow.subarray(10, slowPdus[0].length));
    expect(hexes(first)).toEqual([toHex(slowPdus[0])]);
    expect(f.buffered).toBe(0);
  });
});

describe('TpktFramer: bad headers fail fast', () => {
  it('a 65535 length with maxPdu 16384 throws on the header, before any payload is buffered', () => {
    const f = new TpktFramer();
    expect(f.maxPdu).toBe(16384);
    expect(f.push(hex('03 00 ff'))).toEqual([]);
    let err: unknown;
    try {
      f.push(hex('ff'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DecodeError);
    expect((err as DecodeError).field).toBe('TPKT.length');
    expect((err as DecodeError).message).toMatch(/65535 exceeds the limit of 16384/);
    expect(f.buffered).toBe(0);
    // and with the header and a big chunk of payload in one push
    expect(() => new TpktFramer().push(concat([hex('03 00 ff ff'), new Uint8Array(20000)]))).toThrowError(/exceeds the limit/);
  });

  it('rejects a version other than 3 and a length below 7', () => {
    expect(() => new TpktFramer().push(hex('16 03 01 00 a8'))).toThrowError(/TPKT\.version.*0x16/);
    expect(() => new TpktFramer().push(hex('03 00 00 06 02 f0'))).toThrowError(/below the minimum 7/);
    expect(() => new TpktFramer({ fastPath: true }).push(hex('01 05 00 00 00'))).toThrowError(DecodeError); // action 1 is neither
    expect(() => new TpktFramer({ fastPath: true }).push(hex('00 01'))).toThrowError(/fastpath\.length/);
    expect(() => new TpktFramer({ fastPath: true, maxPdu: 1000 }).push(hex('00 84 00'))).toThrowError(/1024 exceeds/);
  });

  it('returns the good PDUs before bad bytes, then stays failed', () => {
    const f = new TpktFramer();
    const good = hex('03 00 00 0b 06 d0 00 00 12 34 00');
    const out = f.push(concat([good, hex('16 03 01')]));
    expect(hexes(out)).toEqual([toHex(good)]);
    expect(f.error).toBeInstanceOf(DecodeError);
    expect(() => f.push(good)).toThrowError(/TPKT\.version/);
    expect(() => f.push(new Uint8Array(0))).toThrowError(DecodeError);
  });

  it('checks its options', () => {
    expect(() => new TpktFramer({ maxPdu: 6 })).toThrowError(RangeError);
    expect(() => new TpktFramer({ maxPdu: 70000 })).toThrowError(RangeError);
  });
});

describe('fast-path length (MS-RDPBCGR 2.2.9.1.2)', () => {
  it('frames one-byte and two-byte lengths', () => {
    const short = hex('00 05 aa bb cc'); // fpOutputHeader, length 5
    const long = concat([hex('00 80 85'), new Uint8Array(130)]); // length1 high bit: (0x00 << 8) | 0x85 = 133
    const f = new TpktFramer({ fastPath: true });
    const frames = f.pushFrames(concat([short, long, hex('03 00 00 07 02 f0 80')]));
    expect(frames.map((x) => [x.kind, x.bytes.length])).toEqual([
      ['fastpath', 5],
      ['fastpath', 133],
      ['tpkt', 7],
    ]);
    expect(toHex(fastPathLengthBytes(5))).toBe('05');
    expect(toHex(fastPathLengthBytes(133))).toBe('8085');
    expect(toHex(fastPathLengthBytes(0x7fff))).toBe('ffff');
    expect(() => fastPathLengthBytes(0x8000)).toThrowError(RangeError);
  });

  it('without fastPath a fast-path header is an error', () => {
    expect(() => new TpktFramer().push(hex('00 05 aa bb cc'))).toThrowError(/TPKT\.version/);
  });
});
