import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  classifyRdpeudp,
  decodeRdpeudpSyn,
  encodeRdpeudpSyn,
  encodeRdpeudpSynAck,
  negotiatedVersion,
  RDPEUDP_SYN_DATAGRAM_LENGTH,
  RDPUDP_PROTOCOL_VERSION_2,
  RDPUDP_PROTOCOL_VERSION_3,
} from '../../src/codec/rdpeudp.js';
import { DecodeError } from '../../src/codec/errors.js';
import { hex, toHex } from '../../src/codec/writer.js';
import { segmentsOf, type Segment } from '../../src/replay/capture.js';

const udp = (file: string): Segment[] =>
  segmentsOf(readFileSync(new URL(`../../fixtures/pcap/${file}`, import.meta.url))).filter((s) => s.proto === 'udp');
const frame = (segs: Segment[], n: number): Uint8Array => {
  const s = segs.find((x) => x.frame === n);
  if (!s) throw new Error(`frame ${n} not in capture`);
  return s.payload;
};
const padTo1232 = (b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(1232);
  out.set(b);
  return out;
};

describe('MS-RDPEUDP SYN / SYN+ACK from real captures', () => {
  it('zeek rdpeudp-handshake-fail: three identical SYNs, version 2, correlation id (SOURCES §7)', () => {
    const segs = udp('zeek-rdpeudp-handshake-fail.pcap');
    expect(segs).toHaveLength(3);
    const syns = segs.map((s) => decodeRdpeudpSyn(s.payload));
    for (const syn of syns) {
      expect(syn.kind).toBe('syn');
      expect(syn.snSourceAck).toBe(0xffffffff);
      expect(syn.receiveWindowSize).toBe(64);
      expect(syn.flags).toEqual({ value: 0x1801, names: ['SYN', 'CORRELATION_ID', 'SYNEX'] });
      expect(syn.initialSequenceNumber).toBe(0xee4071dc);
      expect(syn.upstreamMtu).toBe(1232);
      expect(syn.downstreamMtu).toBe(1232);
      expect(syn.correlationId).toBe('f8530360ca7f4241a67374e5201a0000');
      expect(syn.synEx).toEqual({ flags: { value: 1, names: ['VERSION_INFO_VALID'] }, version: { value: 2, name: 'RDPUDP_PROTOCOL_VERSION_2' } });
      expect(syn.length).toBe(1232);
      expect(syn.padding).toEqual({ length: 1232 - 52, zero: true });
      expect(syn.deviations).toEqual([]);
    }
    // retransmissions carry the same ISN (1.3.2.1: persistent retransmits of the same SYN)
    expect(new Set(syns.map((s) => s.initialSequenceNumber)).size).toBe(1);
    expect(classifyRdpeudp(segs[0].payload).kind).toBe('syn');
  });

  it('zeek rdpeudp-handshake-success (IPv6): SYN with unknown version 0x0003, SYN+ACK answering version 2 (SOURCES §8)', () => {
    const segs = udp('zeek-rdpeudp-handshake-success.pcap');
    const syn = decodeRdpeudpSyn(frame(segs, 1));
    expect(syn.kind).toBe('syn');
    expect(syn.initialSequenceNumber).toBe(0x0b127f15);
    expect(syn.correlationId).toBe('7855d064fbaf43f0b6e8f8aadfad0000');
    expect(syn.synEx?.version).toEqual({ value: 3, name: 'unknown(0x0003)' });
    expect(syn.synEx?.cookieHash).toBeUndefined();
    expect(syn.deviations).toEqual([]);

    const synAck = decodeRdpeudpSyn(frame(segs, 2));
    expect(synAck.kind).toBe('synack');
    expect(synAck.snSourceAck).toBe(syn.initialSequenceNumber); // 3.1.5.1.3: acknowledges the client's ISN
    expect(synAck.flags).toEqual({ value: 0x1005, names: ['SYN', 'ACK', 'SYNEX'] });
    expect(synAck.initialSequenceNumber).toBe(0x0f94ea0b);
    expect([synAck.upstreamMtu, synAck.downstreamMtu]).toEqual([1232, 1232]);
    expect(synAck.correlationId).toBeUndefined();
    expect(synAck.synEx?.version.value).toBe(RDPUDP_PROTOCOL_VERSION_2);
    expect(synAck.length).toBe(1232);
    expect(synAck.deviations).toEqual([]);
    expect(negotiatedVersion(syn, synAck)).toBe(2);

    // frames 3..10 are v1 ACK+DATA (flags 0x000c): recognised, not decoded
    for (let n = 3; n <= 10; n++) {
      const c = classifyRdpeudp(frame(segs, n));
      expect(c.kind).toBe('data');
      expect(c.flags?.names).toEqual(['ACK', 'DATA']);
    }
    expect(() => decodeRdpeudpSyn(frame(segs, 3))).toThrow(DecodeError);
  });

  it('zeek rdpeudp2-handshake-success: version 0x0101 with cookie hash, SYN+ACK version 0x0101 (SOURCES §9)', () => {
    const segs = udp('zeek-rdpeudp2-handshake-success.pcap');
    const syn = decodeRdpeudpSyn(segs[0].payload);
    expect(syn.kind).toBe('syn');
    expect(syn.correlationId).toBe('a2e2c8186de34f1e8d0f9175e4cd0000');
    expect(syn.synEx?.version).toEqual({ value: 0x0101, name: 'RDPUDP_PROTOCOL_VERSION_3' });
    expect(syn.synEx?.cookieHash).toMatch(/^[0-9a-f]{64}$/);
    expect(syn.padding.length).toBe(1232 - 84);
    const synAck = decodeRdpeudpSyn(segs[1].payload);
    expect(synAck.kind).toBe('synack');
    expect(synAck.snSourceAck).toBe(syn.initialSequenceNumber);
    expect(synAck.synEx?.version.value).toBe(RDPUDP_PROTOCOL_VERSION_3);
    expect(negotiatedVersion(syn, synAck)).toBe(0x0101);
  });

  it('ndpi rdp2: a 0x0101 SYN/SYN+ACK pair, a SYNLOSSY version-2 pair, and a flow without handshake (SOURCES §12)', () => {
    const segs = udp('ndpi-rdp2.pcap');
    const a = decodeRdpeudpSyn(frame(segs, 1));
    expect(a.initialSequenceNumber).toBe(0xbbff5687);
    expect(a.correlationId).toBe('a69040c1df7948b78fa08c4d63630000');
    expect(a.synEx?.version.value).toBe(0x0101);
    expect(a.synEx?.cookieHash).toBe('0'.repeat(64)); // present, but all zero in this capture
    const aAck = decodeRdpeudpSyn(frame(segs, 2));
    expect(aAck.kind).toBe('synack');
    expect(aAck.snSourceAck).toBe(0xbbff5687);
    expect(aAck.initialSequenceNumber).toBe(0x4d677966);
    expect(aAck.synEx?.version.value).toBe(0x0101);

    const lossy = decodeRdpeudpSyn(frame(segs, 33));
    expect(lossy.flags).toEqual({ value: 0x1a01, names: ['SYN', 'SYNLOSSY', 'CORRELATION_ID', 'SYNEX'] });
    expect(lossy.synEx?.version.value).toBe(2);
    // 32 non-zero bytes follow a version-2 SYNDATAEX, where 2.2.2.9 forbids a cookie hash: kept as a deviation
    expect(lossy.synEx?.cookieHash).toBeUndefined();
    expect(lossy.padding.zero).toBe(false);
    expect(lossy.deviations).toEqual(['padding is not all zero (3.1.5.1.1)']);
    const lossyAck = decodeRdpeudpSyn(frame(segs, 34));
    expect(lossyAck.flags.names).toEqual(['SYN', 'ACK', 'SYNEX']);
    expect(lossyAck.snSourceAck).toBe(lossy.initialSequenceNumber);
    expect(negotiatedVersion(lossy, lossyAck)).toBe(2);

    // Frames 3..6 are RDPEUDP2 (byte-swapped little-endian): never mistaken for a SYN.
    for (const n of [3, 4, 5, 6]) expect(['unknown', 'ack', 'data']).toContain(classifyRdpeudp(frame(segs, n)).kind);
    for (const n of [3, 4, 5, 6]) expect(classifyRdpeudp(frame(segs, n)).kind).not.toMatch(/^syn/);
    // Mid-stream v1 flow: data and pure ACKs
    expect(classifyRdpeudp(frame(segs, 7)).kind).toBe('data');
    expect(classifyRdpeudp(frame(segs, 19))).toEqual({ kind: 'ack', snSourceAck: 0xe65f8470, flags: { value: 0x0004, names: ['ACK'] } });
  });
});

describe('MS-RDPEUDP spec vector', () => {
  // MS-RDPEUDP 4.1.2 "SYN and ACK Packet" (the example's hex line; its field table misprints the header as
  // "04 00 02 01", the hex itself reads window 0x0400, flags 0x0005), zero-padded to 1232 bytes.
  const spec412 = padTo1232(
    hex(`
      00 00 00 42  // snSourceAck = the client's ISN 0x42
      04 00        // uReceiveWindowSize 1024
      00 05        // uFlags SYN | ACK
      00 00 00 42  // snInitialSequenceNumber 0x42
      04 d0        // uUpStreamMtu 1232
      04 d0        // uDownStreamMtu 1232
    `),
  );
  it('decodes 4.1.2', () => {
    const d = decodeRdpeudpSyn(spec412);
    expect(d).toMatchObject({
      kind: 'synack',
      snSourceAck: 0x42,
      receiveWindowSize: 1024,
      flags: { value: 5, names: ['SYN', 'ACK'] },
      initialSequenceNumber: 0x42,
      upstreamMtu: 1232,
      downstreamMtu: 1232,
      deviations: [],
    });
    expect(d.synEx).toBeUndefined();
    expect(negotiatedVersion({ synEx: undefined }, d)).toBe(1);
  });
  it('encodes 4.1.2 byte for byte', () => {
    const e = encodeRdpeudpSynAck({ acknowledges: 0x42, initialSequenceNumber: 0x42, receiveWindowSize: 1024 });
    expect(toHex(e)).toBe(toHex(spec412));
  });
});

describe('encoder', () => {
  it('re-encodes the captured handshake-fail SYN byte for byte', () => {
    const captured = udp('zeek-rdpeudp-handshake-fail.pcap')[0].payload;
    const e = encodeRdpeudpSyn({
      initialSequenceNumber: 0xee4071dc,
      receiveWindowSize: 64,
      correlationId: 'f8530360ca7f4241a67374e5201a0000',
      version: RDPUDP_PROTOCOL_VERSION_2,
    });
    expect(e.length).toBe(RDPEUDP_SYN_DATAGRAM_LENGTH);
    expect(toHex(e)).toBe(toHex(captured));
  });

  it('re-encodes the captured SYN+ACK of the IPv6 handshake byte for byte', () => {
    const captured = udp('zeek-rdpeudp-handshake-success.pcap')[1].payload;
    const e = encodeRdpeudpSynAck({ acknowledges: 0x0b127f15, initialSequenceNumber: 0x0f94ea0b, receiveWindowSize: 64, version: 2 });
    expect(toHex(e)).toBe(toHex(captured));
  });

  it('a minimal SYN is 1232 bytes with snSourceAck -1 and only the SYN flag', () => {
    const e = encodeRdpeudpSyn({ initialSequenceNumber: 0x01020304 });
    expect(e.length).toBe(1232);
    expect(toHex(e.subarray(0, 16))).toBe('ffffffff' + '0040' + '0001' + '01020304' + '04d0' + '04d0');
    expect(e.subarray(16).every((b) => b === 0)).toBe(true);
    expect(decodeRdpeudpSyn(e).deviations).toEqual([]);
  });

  it('version 3 carries the cookie hash; round trip', () => {
    const hash = new Uint8Array(32).map((_, i) => i + 1);
    const e = encodeRdpeudpSyn({ initialSequenceNumber: 7, version: RDPUDP_PROTOCOL_VERSION_3, cookieHash: hash, correlationId: '11'.repeat(16) });
    const d = decodeRdpeudpSyn(e);
    expect(d.flags.names).toEqual(['SYN', 'CORRELATION_ID', 'SYNEX']);
    expect(d.synEx?.cookieHash).toBe(toHex(hash));
    expect(d.correlationId).toBe('11'.repeat(16));
    expect(d.padding).toEqual({ length: 1232 - 16 - 32 - 4 - 32, zero: true });
  });

  it('refuses what the spec forbids', () => {
    expect(() => encodeRdpeudpSyn({ initialSequenceNumber: 1, upstreamMtu: 1500 })).toThrow(RangeError);
    expect(() => encodeRdpeudpSyn({ initialSequenceNumber: 1, downstreamMtu: 1131 })).toThrow(/1132..1232/);
    expect(() => encodeRdpeudpSyn({ initialSequenceNumber: -1 })).toThrow(RangeError);
    expect(() => encodeRdpeudpSyn({ initialSequenceNumber: 1, version: RDPUDP_PROTOCOL_VERSION_3 })).toThrow(/cookieHash/);
    expect(() => encodeRdpeudpSyn({ initialSequenceNumber: 1, version: 2, cookieHash: new Uint8Array(32) })).toThrow(/only/);
    expect(() => encodeRdpeudpSyn({ initialSequenceNumber: 1, correlationId: '00' + '11'.repeat(15) })).toThrow(/0x00 or 0xF4/);
    expect(() => encodeRdpeudpSyn({ initialSequenceNumber: 1, correlationId: '11'.repeat(15) + '0d' })).toThrow(/0x0D/);
    expect(() => encodeRdpeudpSyn({ initialSequenceNumber: 1, correlationId: '11'.repeat(15) })).toThrow(/32 hex/);
    expect(() => encodeRdpeudpSyn({ initialSequenceNumber: 1, receiveWindowSize: 0 })).toThrow(/> 0/);
  });
});

describe('decoder robustness', () => {
  it('names what is missing in short input', () => {
    const syn = encodeRdpeudpSyn({ initialSequenceNumber: 9, correlationId: '22'.repeat(16), version: 2 });
    expect(() => decodeRdpeudpSyn(syn.subarray(0, 10))).toThrow(/snInitialSequenceNumber/);
    expect(() => decodeRdpeudpSyn(syn.subarray(0, 30))).toThrow(/uCorrelationId/);
    expect(() => decodeRdpeudpSyn(syn.subarray(0, 49))).toThrow(/uSynExFlags/);
    // a truncated but structurally complete SYN decodes, with the length deviation recorded
    const short = decodeRdpeudpSyn(syn.subarray(0, 52));
    expect(short.deviations).toEqual(['datagram is 52 bytes, not 1232 (3.1.5.1.1)']);
  });

  it('records deviations instead of failing', () => {
    const b = encodeRdpeudpSyn({ initialSequenceNumber: 9 });
    b.set([0, 0, 0, 1], 0); // snSourceAck not -1
    b.set([0x05, 0xdc], 12); // uUpStreamMtu 1500
    const d = decodeRdpeudpSyn(b);
    expect(d.deviations).toEqual(['SYN snSourceAck is not -1 (3.1.5.1.1)', 'uUpStreamMtu 1500 outside 1132..1232 (2.2.2.5)']);
  });

  it('random and mutated input: only DecodeError, never another exception; classify never throws', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) & 0xff;
    const base = encodeRdpeudpSyn({ initialSequenceNumber: 0xdeadbeef, correlationId: '33'.repeat(16), version: 0x0101, cookieHash: 'ab'.repeat(32) });
    const tally = { decoded: 0, decodeError: 0 };
    for (let i = 0; i < 3000; i++) {
      let b: Uint8Array;
      if (i % 2) {
        b = Uint8Array.from({ length: rnd() % 80 }, rnd);
      } else {
        b = base.slice(0, rnd() * 5);
        for (let k = 0; k < 4 && b.length; k++) b[rnd() % b.length] = rnd();
      }
      expect(() => classifyRdpeudp(b)).not.toThrow();
      try {
        decodeRdpeudpSyn(b);
        tally.decoded++;
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
        tally.decodeError++;
      }
    }
    // both paths were taken: the inputs are neither all valid nor all rejected
    expect(tally.decoded).toBeGreaterThan(0);
    expect(tally.decodeError).toBeGreaterThan(0);
  });
});
