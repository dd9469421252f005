import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/codec/errors.js';
import {
  MAX_TPKT_LENGTH,
  decodeTpkt,
  decodeTpktHeader,
  decodeX224Data,
  encodeTpkt,
  encodeX224Data,
  unwrapX224Data,
  wrapX224Data,
} from '../../src/codec/tpkt.js';
import { hex, toHex } from '../../src/codec/writer.js';
import { connection } from './framer-pdus.js';

// MCS Erect Domain Request as mstsc sent it in zeek-rdp-proprietary-encryption.pcap (client PDU #2):
const ERECT_DOMAIN = hex(`
  03 00 00 0c   // TPKT v3, reserved, length 12
  02 f0 80      // X.224 DT: LI 2, DT, EOT
  04 01 00 01 00 // MCS erectDomainRequest (PER): subHeight 0, subInterval 0
`);

describe('TPKT (T.123 §8)', () => {
  it('encodes a header in front of the payload', () => {
    const out = encodeTpkt(hex('02 f0 80 04 01 00 01 00'));
    expect(toHex(out, ' ')).toBe('03 00 00 0c 02 f0 80 04 01 00 01 00');
  });

  it('decodes the header of a real PDU', () => {
    expect(decodeTpktHeader(ERECT_DOMAIN)).toEqual({ version: 3, length: 12 });
    // at an offset (two PDUs back to back)
    const two = new Uint8Array([...ERECT_DOMAIN, ...ERECT_DOMAIN]);
    expect(decodeTpktHeader(two, 12)).toEqual({ version: 3, length: 12 });
  });

  it('the real capture bytes agree', () => {
    const c = connection('zeek-rdp-proprietary-encryption.pcap', 1);
    expect(toHex(c.client[2])).toBe(toHex(ERECT_DOMAIN));
  });

  it('rejects a wrong version, a short length and a short buffer with DecodeError', () => {
    expect(() => decodeTpktHeader(hex('16 03 01 00 a8'))).toThrowError(DecodeError); // a TLS record
    expect(() => decodeTpktHeader(hex('16 03 01 00 a8'))).toThrowError(/TPKT\.version/);
    expect(() => decodeTpktHeader(hex('03 00 00 06'))).toThrowError(/TPKT\.length.*below the minimum 7/);
    expect(() => decodeTpktHeader(hex('03 00 00'))).toThrowError(/need 2 byte/);
    expect(() => decodeTpktHeader(hex(''))).toThrowError(DecodeError);
  });

  it('decodeTpkt insists the buffer is exactly one PDU', () => {
    expect(toHex(decodeTpkt(ERECT_DOMAIN))).toBe('02f0800401000100');
    expect(() => decodeTpkt(ERECT_DOMAIN.subarray(0, 11))).toThrowError(/says 12 bytes but the PDU has 11/);
    expect(() => decodeTpkt(new Uint8Array([...ERECT_DOMAIN, 0]))).toThrowError(DecodeError);
  });

  it('refuses to encode more than the 16-bit length allows', () => {
    expect(MAX_TPKT_LENGTH).toBe(65535);
    expect(encodeTpkt(new Uint8Array(65531)).length).toBe(65535);
    expect(() => encodeTpkt(new Uint8Array(65532))).toThrowError(RangeError);
  });
});

describe('X.224 Data TPDU (X.224 §13.7)', () => {
  it('wraps and unwraps 02 F0 80', () => {
    expect(toHex(encodeX224Data(hex('04 01 00 01 00')), ' ')).toBe('02 f0 80 04 01 00 01 00');
    expect(toHex(decodeX224Data(hex('02 f0 80 04 01 00 01 00')))).toBe('0401000100');
    expect(toHex(wrapX224Data(hex('04 01 00 01 00')))).toBe(toHex(ERECT_DOMAIN));
    expect(toHex(unwrapX224Data(ERECT_DOMAIN))).toBe('0401000100');
  });

  it('rejects other TPDUs and a bad LI / EOT', () => {
    expect(() => decodeX224Data(hex('0e d0 00 00 12 34 00'))).toThrowError(/Data TPDU/); // a CC
    expect(() => decodeX224Data(hex('03 f0 80 00'))).toThrowError(/LI 2/);
    expect(() => decodeX224Data(hex('02 f0 00 00'))).toThrowError(/EOT/);
    expect(() => decodeX224Data(hex('02 f0'))).toThrowError(DecodeError);
  });
});
