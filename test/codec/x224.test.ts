import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/codec/errors.js';
import { hex, toHex } from '../../src/codec/writer.js';
import { CORRELATION_INFO_PRESENT, RESTRICTED_ADMIN_MODE_REQUIRED, negFailureCoded, negFailureName } from '../../src/observation/vocab.js';
import {
  PROTOCOL_HYBRID,
  PROTOCOL_HYBRID_EX,
  PROTOCOL_RDP,
  PROTOCOL_RDSAAD,
  PROTOCOL_RDSTLS,
  PROTOCOL_SSL,
  decodeConnectionConfirm,
  decodeConnectionRequest,
  decodeX224Disconnect,
  encodeConnectionConfirm,
  encodeConnectionRequest,
  isX224Disconnect,
  negRequestFlags,
  negResponseFlags,
  protocolMask,
  protocolNames,
  selectedProtocolName,
  unknownProtocolBits,
} from '../../src/codec/x224.js';

// MS-RDPBCGR 2.2.1.1 / PROTOCOL-NOTES §1.2: the minimal CR mstsc sends without a cookie (also in ndpi-rdp.pcap).
const CR_MINIMAL = hex(`
  03 00 00 13            // TPKT v3, length 19
  0e e0 00 00 00 00 00   // X.224 CR: LI 14, CR|CDT 0, DST-REF 0, SRC-REF 0, class 0
  01 00 08 00 0b 00 00 00 // RDP_NEG_REQ: type 1, flags 0, length 8, requestedProtocols SSL|HYBRID|HYBRID_EX
`);

// MS-RDPBCGR 2.2.1.2 / PROTOCOL-NOTES §1.4 (GoSecure/pyrdp#490): CC selecting HYBRID_EX with every flag set.
const CC_HYBRID_EX = hex(`
  03 00 00 13            // TPKT v3, length 19
  0e d0 00 00 12 34 00   // X.224 CC: LI 14, CC, DST-REF 0, SRC-REF 0x1234, class 0
  02 1f 08 00 08 00 00 00 // RDP_NEG_RSP: type 2, flags 0x1F, length 8, selectedProtocol HYBRID_EX
`);

/** RDP_NEG_FAILURE with failureCode `code` (MS-RDPBCGR 2.2.1.2.2). */
function failureCc(code: number): Uint8Array {
  return hex(`
    03 00 00 13            // TPKT v3, length 19
    0e d0 00 00 12 34 00   // X.224 CC
    03 00 08 00            // RDP_NEG_FAILURE: type 3, flags 0, length 8
    ${code.toString(16).padStart(2, '0')} 00 00 00 // failureCode (LE)
  `);
}

describe('protocol names (MS-RDPBCGR 2.2.1.1.1)', () => {
  it('maps names to masks and back', () => {
    expect([PROTOCOL_RDP, PROTOCOL_SSL, PROTOCOL_HYBRID, PROTOCOL_RDSTLS, PROTOCOL_HYBRID_EX, PROTOCOL_RDSAAD]).toEqual([0, 1, 2, 4, 8, 0x10]);
    expect(protocolMask(['SSL', 'HYBRID', 'HYBRID_EX'])).toBe(0x0b);
    expect(protocolMask(['RDP'])).toBe(0);
    expect(protocolMask([])).toBe(0);
    expect(protocolNames(0)).toEqual(['RDP']);
    expect(protocolNames(0x0b)).toEqual(['SSL', 'HYBRID', 'HYBRID_EX']);
    expect(protocolNames(0x1f)).toEqual(['SSL', 'HYBRID', 'RDSTLS', 'HYBRID_EX', 'RDSAAD']);
    expect(protocolNames(0x41)).toEqual(['SSL']);
    expect(unknownProtocolBits(0x41)).toBe(0x40);
  });

  it('names a selected protocol and keeps unknown values', () => {
    expect(selectedProtocolName(0)).toBe('RDP');
    expect(selectedProtocolName(8)).toBe('HYBRID_EX');
    expect(selectedProtocolName(0x10)).toBe('RDSAAD');
    expect(selectedProtocolName(3)).toBe('unknown(0x00000003)'); // a mask is not a selection
  });

  it('names request and response flags', () => {
    expect(negRequestFlags(0x09).names).toEqual(['RESTRICTED_ADMIN_MODE_REQUIRED', 'CORRELATION_INFO_PRESENT']);
    expect(negResponseFlags(0x1f)).toEqual({
      value: 0x1f,
      names: [
        'EXTENDED_CLIENT_DATA_SUPPORTED',
        'DYNVC_GFX_PROTOCOL_SUPPORTED',
        'NEGRSP_FLAG_RESERVED',
        'RESTRICTED_ADMIN_MODE_SUPPORTED',
        'REDIRECTED_AUTHENTICATION_MODE_SUPPORTED',
      ],
    });
    expect(negResponseFlags(0x21).names).toEqual(['EXTENDED_CLIENT_DATA_SUPPORTED', 'unknown(0x20)']);
  });
});

describe('Connection Request (MS-RDPBCGR 2.2.1.1)', () => {
  it('encodes the 19-byte spec vector exactly (cookie omitted)', () => {
    expect(toHex(encodeConnectionRequest({ requestedProtocols: 0x0b }))).toBe(toHex(CR_MINIMAL));
    expect(toHex(encodeConnectionRequest({ cookie: null, requestedProtocols: 0x0b }))).toBe(toHex(CR_MINIMAL));
  });

  it('decodes the spec vector', () => {
    expect(decodeConnectionRequest(CR_MINIMAL)).toEqual({ dstRef: 0, srcRef: 0, classOption: 0, negReq: { flags: 0, requestedProtocols: 0x0b } });
  });

  it('writes the cookie line and a legacy CR without RDP_NEG_REQ', () => {
    const withCookie = encodeConnectionRequest({ cookie: 'nmap', requestedProtocols: 1 });
    const expected = hex(`
      03 00 00 2a            // TPKT v3, length 42
      25 e0 00 00 00 00 00   // X.224 CR, LI 37
      43 6f 6f 6b 69 65 3a 20 6d 73 74 73 68 61 73 68 3d 6e 6d 61 70 0d 0a // Cookie: mstshash=nmap CR LF
      01 00 08 00 01 00 00 00 // RDP_NEG_REQ, requestedProtocols SSL
    `);
    expect(toHex(withCookie, ' ')).toBe(toHex(expected, ' '));
    const legacy = encodeConnectionRequest({ cookie: 'nmap', negReq: false, requestedProtocols: 0 });
    expect(legacy.length).toBe(4 + 7 + 23);
    expect(decodeConnectionRequest(legacy)).toEqual({ dstRef: 0, srcRef: 0, classOption: 0, cookie: 'nmap' });
    expect(encodeConnectionRequest({ negReq: false, requestedProtocols: 0 }).length).toBe(11);
  });

  it('adds rdpCorrelationInfo and its flag, and the decoder skips it correctly', () => {
    const id = hex('11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 01');
    const cr = encodeConnectionRequest({ cookie: 'x', requestedProtocols: 3, negFlags: RESTRICTED_ADMIN_MODE_REQUIRED, correlationId: id });
    expect(cr.length).toBe(4 + 7 + 20 + 8 + 36);
    // RDP_NEG_REQ.flags has CORRELATION_INFO_PRESENT; the structure is type 6, flags 0, length 36, id, 16 zero bytes
    expect(toHex(cr.subarray(31, 31 + 8))).toBe('0109080003000000');
    expect(toHex(cr.subarray(39, 43))).toBe('06002400');
    expect(toHex(cr.subarray(59))).toBe('00'.repeat(16));
    const d = decodeConnectionRequest(cr);
    expect(d.cookie).toBe('x');
    expect(d.negReq).toEqual({ flags: RESTRICTED_ADMIN_MODE_REQUIRED | CORRELATION_INFO_PRESENT, requestedProtocols: 3 });
    expect(toHex(d.correlationId!)).toBe(toHex(id));
  });

  it('round-trips a routing token', () => {
    const token = new TextEncoder().encode('Cookie: msts=3640205228.15629.0000');
    const cr = encodeConnectionRequest({ routingToken: token, requestedProtocols: 1 });
    const d = decodeConnectionRequest(cr);
    expect(d.cookie).toBeUndefined();
    expect(new TextDecoder().decode(d.routingToken)).toBe('Cookie: msts=3640205228.15629.0000');
    expect(d.negReq?.requestedProtocols).toBe(1);
  });

  it('refuses contradictory or invalid options with TypeError/RangeError', () => {
    expect(() => encodeConnectionRequest({ cookie: 'a', routingToken: hex('41'), requestedProtocols: 0 })).toThrowError(TypeError);
    expect(() => encodeConnectionRequest({ cookie: 'a\r\nb', requestedProtocols: 0 })).toThrowError(TypeError);
    expect(() => encodeConnectionRequest({ negReq: false, correlationId: new Uint8Array(16).fill(1), requestedProtocols: 0 })).toThrowError(TypeError);
    expect(() => encodeConnectionRequest({ correlationId: new Uint8Array(15).fill(1), requestedProtocols: 0 })).toThrowError(TypeError);
    expect(() => encodeConnectionRequest({ correlationId: new Uint8Array(16), requestedProtocols: 0 })).toThrowError(/0x00 or 0xF4/);
    expect(() => encodeConnectionRequest({ correlationId: new Uint8Array(16).fill(0x0d), requestedProtocols: 0 })).toThrowError(TypeError);
    expect(() => encodeConnectionRequest({ cookie: 'u'.repeat(250), requestedProtocols: 0 })).toThrowError(RangeError);
  });

  it('rejects malformed requests with DecodeError', () => {
    // LI says 15 but the TPDU has 15 bytes after the TPKT header (LI must be 14)
    expect(() => decodeConnectionRequest(hex('03 00 00 13 0f e0 00 00 00 00 00 01 00 08 00 0b 00 00 00'))).toThrowError(/X224\.LI/);
    // a CC where a CR was expected
    expect(() => decodeConnectionRequest(CC_HYBRID_EX)).toThrowError(/Connection Request 0xE0/);
    // RDP_NEG_REQ.length 9
    expect(() => decodeConnectionRequest(hex('03 00 00 13 0e e0 00 00 00 00 00 01 00 09 00 0b 00 00 00'))).toThrowError(DecodeError);
    // CORRELATION_INFO_PRESENT without the structure
    expect(() => decodeConnectionRequest(hex('03 00 00 13 0e e0 00 00 00 00 00 01 08 08 00 0b 00 00 00'))).toThrowError(/rdpCorrelationInfo/);
    // text without CRLF
    expect(() => decodeConnectionRequest(hex('03 00 00 0e 09 e0 00 00 00 00 00 41 42 43'))).toThrowError(/CRLF/);
  });
});

describe('Connection Confirm (MS-RDPBCGR 2.2.1.2)', () => {
  it('decodes the spec vector', () => {
    expect(decodeConnectionConfirm(CC_HYBRID_EX)).toEqual({
      sourceRef: 0x1234,
      dstRef: 0,
      classOption: 0,
      neg: { kind: 'response', flags: 0x1f, selectedProtocol: PROTOCOL_HYBRID_EX },
    });
  });

  it('encodes the spec vector exactly', () => {
    expect(toHex(encodeConnectionConfirm({ neg: { kind: 'response', flags: 0x1f, selectedProtocol: 8 } }))).toBe(toHex(CC_HYBRID_EX));
  });

  const expected: [number, string][] = [
    [1, 'SSL_REQUIRED_BY_SERVER'],
    [2, 'SSL_NOT_ALLOWED_BY_SERVER'],
    [3, 'SSL_CERT_NOT_ON_SERVER'],
    [4, 'INCONSISTENT_FLAGS'],
    [5, 'HYBRID_REQUIRED_BY_SERVER'],
    [6, 'SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER'],
    [7, 'unknown(0x00000007)'],
  ];
  for (const [code, name] of expected) {
    it(`decodes RDP_NEG_FAILURE ${name} (${code})`, () => {
      const cc = decodeConnectionConfirm(failureCc(code));
      expect(cc.neg).toEqual({ kind: 'failure', flags: 0, code });
      expect(negFailureName(code)).toBe(name);
      expect(negFailureCoded(code)).toEqual({ value: code, name });
      expect(toHex(encodeConnectionConfirm({ neg: { kind: 'failure', code } }))).toBe(toHex(failureCc(code)));
    });
  }

  it('decodes a legacy CC without rdpNegData (LI 6, 11 bytes)', () => {
    const legacy = hex('03 00 00 0b 06 d0 00 00 12 34 00');
    expect(decodeConnectionConfirm(legacy)).toEqual({ sourceRef: 0x1234, dstRef: 0, classOption: 0, neg: { kind: 'absent' } });
    expect(toHex(encodeConnectionConfirm({ neg: { kind: 'absent' } }))).toBe(toHex(legacy));
  });

  it('validates per spec and throws DecodeError naming the field', () => {
    const bad = (h: string) => () => decodeConnectionConfirm(hex(h));
    // LI 15 disagrees with the TPKT length 19
    expect(bad('03 00 00 13 0f d0 00 00 12 34 00 02 00 08 00 00 00 00 00')).toThrowError(/X224\.LI/);
    // TPKT length 20 but 19 bytes given
    expect(bad('03 00 00 14 0e d0 00 00 12 34 00 02 00 08 00 00 00 00 00')).toThrowError(/TPKT\.length/);
    // not a CC (0xE0)
    expect(bad('03 00 00 13 0e e0 00 00 12 34 00 02 00 08 00 00 00 00 00')).toThrowError(/X224 CC\.code/);
    // unknown neg type 0x05
    expect(bad('03 00 00 13 0e d0 00 00 12 34 00 05 00 08 00 00 00 00 00')).toThrowError(/rdpNegData\.type/);
    // RDP_NEG_RSP.length 0 (the zeek-rdp-invalid-length shape) and RDP_NEG_FAILURE.length 9
    expect(bad('03 00 00 13 0e d0 00 00 12 34 00 02 03 00 00 01 00 00 02')).toThrowError(/RDP_NEG_RSP\.length/);
    expect(bad('03 00 00 13 0e d0 00 00 12 34 00 03 00 09 00 05 00 00 00')).toThrowError(/RDP_NEG_FAILURE\.length/);
    // rdpNegData cut short (LI 10)
    expect(bad('03 00 00 0f 0a d0 00 00 12 34 00 02 00 08 00')).toThrowError(DecodeError);
    // trailing byte after RDP_NEG_RSP
    expect(bad('03 00 00 14 0f d0 00 00 12 34 00 02 00 08 00 00 00 00 00 00')).toThrowError(/unexpected byte/);
  });

  it('lets a fake peer lie about the negotiation length', () => {
    const lie = encodeConnectionConfirm({ neg: { kind: 'response', flags: 3, selectedProtocol: 1 }, negLength: 0 });
    expect(toHex(lie, ' ')).toBe('03 00 00 13 0e d0 00 00 12 34 00 02 03 00 00 01 00 00 00');
    expect(() => decodeConnectionConfirm(lie)).toThrowError(/RDP_NEG_RSP\.length/);
  });
});

describe('X.224 Disconnect Request (X.224 §13.5)', () => {
  const DR = hex(`
    03 00 00 0b          // TPKT v3, length 11
    06 80 00 00 12 34 80 // LI 6, DR, DST-REF 0, SRC-REF 0x1234, reason 128 (normal disconnect)
  `);
  it('is recognised and decoded', () => {
    expect(isX224Disconnect(DR)).toBe(true);
    expect(isX224Disconnect(CC_HYBRID_EX)).toBe(false);
    expect(isX224Disconnect(hex('03 00'))).toBe(false);
    expect(decodeX224Disconnect(DR)).toEqual({ dstRef: 0, srcRef: 0x1234, reason: { value: 0x80, name: 'normal-disconnect' } });
  });
  it('a CC decoder says when it got a DR instead', () => {
    expect(() => decodeConnectionConfirm(DR)).toThrowError(/Disconnect Request/);
  });
});
