import { describe, expect, it } from 'vitest';
import { serverCertificateInfo } from '../../src/record/gcc.js';
import {
  berApplication,
  berBoolean,
  berInteger,
  berLength,
  berOctetString,
  readApplicationTag,
  readBerLength,
  readBoolean,
  readInteger,
  readOctetString,
} from '../../src/codec/ber.js';
import { DecodeError } from '../../src/codec/errors.js';
import {
  decodeClientDataBlocks,
  decodeConferenceCreateRequest,
  decodeConferenceCreateResponse,
  decodeServerCertificate,
  decodeServerDataBlocks,
  encodeClientCoreData,
  encodeConferenceCreateRequest,
  encodeConferenceCreateResponse,
  encodeProprietaryCertificate,
  rdpVersion,
} from '../../src/codec/gcc/index.js';
import {
  perInteger,
  perInteger16,
  perLength,
  perNumericString,
  perObjectIdentifier,
  perOctetString,
  readPerInteger,
  readPerInteger16,
  readPerLength,
  readPerNumericString,
  readPerObjectIdentifier,
  readPerOctetString,
} from '../../src/codec/per.js';
import { Reader } from '../../src/codec/reader.js';
import { hex, toHex } from '../../src/codec/writer.js';

const R = (h: string) => new Reader(hex(h), 'test');

describe('BER pieces (X.690, as T.125 uses them)', () => {
  it('reads short and long definite lengths and rejects indefinite / oversized ones', () => {
    expect(readBerLength(R('5a' + ' 00'.repeat(0x5a)), 'x')).toBe(0x5a);
    expect(readBerLength(R('81 80' + ' 00'.repeat(0x80)), 'x')).toBe(0x80);
    expect(readBerLength(R('82 01 45' + ' 00'.repeat(0x145)), 'x')).toBe(0x145);
    expect(() => readBerLength(R('80 00'), 'x')).toThrowError(/indefinite/);
    expect(() => readBerLength(R('85 00 00 00 00 01'), 'x')).toThrowError(/length of length/);
    expect(() => readBerLength(R('82 01 00 00'), 'x')).toThrowError(/runs past the end/);
    expect(() => readBerLength(R('84 00 01 00 00'), 'x')).toThrowError(/exceeds/);
  });

  it('reads INTEGER as unsigned, so mstsc\'s 02 02 FF FF is 65535', () => {
    expect(readInteger(R('02 02 ff ff'), 'x')).toBe(65535);
    expect(readInteger(R('02 03 00 ff f8'), 'x')).toBe(65528);
    expect(readInteger(R('02 01 22'), 'x')).toBe(34);
    expect(() => readInteger(R('02 00'), 'x')).toThrowError(/empty/);
    expect(() => readInteger(R('02 05 01 00 00 00 00'), 'x')).toThrowError(/too large/);
    expect(() => readInteger(R('04 01 00'), 'x')).toThrowError(/expected tag 0x02/);
  });

  it('encodes minimal DER-style values', () => {
    expect(toHex(berInteger(65535), ' ')).toBe('02 03 00 ff ff');
    expect(toHex(berInteger(34), ' ')).toBe('02 01 22');
    expect(toHex(berInteger(0x80), ' ')).toBe('02 02 00 80');
    expect(toHex(berBoolean(true), ' ')).toBe('01 01 ff');
    expect(toHex(berLength(0x7f))).toBe('7f');
    expect(toHex(berLength(0x80))).toBe('8180');
    expect(toHex(berLength(0x1a0))).toBe('8201a0');
    expect(toHex(berApplication(101, berOctetString(hex('01'))), ' ')).toBe('7f 65 03 04 01 01');
    expect(() => berInteger(-1)).toThrowError(RangeError);
  });

  it('checks application tags, booleans and octet strings', () => {
    const r = R('7f 65 06 01 01 ff 04 01 01');
    const c = readApplicationTag(r, 101, 'ci');
    expect(readBoolean(c, 'b')).toBe(true);
    expect(toHex(readOctetString(c, 's'))).toBe('01');
    expect(() => readApplicationTag(R('7f 66 00'), 101, 'ci')).toThrowError(/APPLICATION 101.*APPLICATION 102/);
    expect(() => readApplicationTag(R('30 00'), 101, 'ci')).toThrowError(DecodeError);
    expect(() => readBoolean(R('01 02 00 00'), 'b')).toThrowError(/must be 1/);
  });
});

describe('ALIGNED PER pieces (X.691, as T.124 GCC uses them)', () => {
  it('length determinant: one octet below 128, two with the 0x80 marker, fragments rejected', () => {
    expect(toHex(perLength(0x2a))).toBe('2a');
    expect(toHex(perLength(0x136))).toBe('8136');
    expect(toHex(perLength(0x534))).toBe('8534');
    expect(readPerLength(R('81 36'), 'x')).toBe(0x136);
    expect(readPerLength(R('85 34'), 'x')).toBe(0x534);
    expect(() => readPerLength(R('c1'), 'x')).toThrowError(/fragmented/);
    expect(() => perLength(0x4000)).toThrowError(RangeError);
  });

  it('T.124 object identifier 0.0.20.124.0.1 = 05 00 14 7c 00 01', () => {
    expect(toHex(perObjectIdentifier([0, 0, 20, 124, 0, 1]), ' ')).toBe('05 00 14 7c 00 01');
    expect(readPerObjectIdentifier(R('05 00 14 7c 00 01'), 'oid')).toEqual([0, 0, 20, 124, 0, 1]);
    expect(readPerObjectIdentifier(R('06 2a 86 48 86 f7 0d'), 'oid')).toEqual([1, 2, 840, 113549]);
    expect(toHex(perObjectIdentifier([1, 2, 840, 113549]))).toBe('062a864886f70d');
    expect(() => readPerObjectIdentifier(R('02 2a 86'), 'oid')).toThrowError(/ends inside an arc/);
  });

  it('numeric string "1" (SIZE 1..255) = 00 10, integers and octet strings with a minimum size', () => {
    expect(toHex(perNumericString('1', 1), ' ')).toBe('00 10');
    expect(readPerNumericString(R('00 10'), 1, 'n')).toBe('1');
    expect(readPerNumericString(R('02 12 30'), 1, 'n')).toBe('123');
    expect(() => readPerNumericString(R('00 a0'), 1, 'n')).toThrowError(/digit/);
    expect(toHex(perInteger16(31219, 1001), ' ')).toBe('76 0a'); // nodeID in every Windows Connect-Response here
    expect(readPerInteger16(R('76 0a'), 1001, 'n')).toBe(31219);
    expect(toHex(perInteger(1), ' ')).toBe('01 01');
    expect(toHex(perInteger(0x1234), ' ')).toBe('02 12 34');
    expect(readPerInteger(R('01 01'), 'n')).toBe(1);
    expect(() => readPerInteger(R('05 01 02 03 04 05'), 'n')).toThrowError(/1\.\.4/);
    expect(toHex(perOctetString(hex('44 75 63 61'), 4), ' ')).toBe('00 44 75 63 61'); // "Duca", SIZE(4..255)
    expect(toHex(readPerOctetString(R('00 4d 63 44 6e'), 4, 'k'))).toBe('4d63446e');
    expect(() => readPerOctetString(R('05 4d 63'), 4, 'k')).toThrowError(/runs past the end/);
  });
});

describe('GCC Conference Create Request / Response (T.124 §8.7)', () => {
  it('encodes the request header exactly as mstsc does', () => {
    const gcc = encodeConferenceCreateRequest(hex('aa bb'));
    expect(toHex(gcc, ' ')).toBe(
      toHex(
        hex(`
          00 05 00 14 7c 00 01   // Key object + T.124 OID
          0f                     // connectPDU length 15
          00 08 00 10 00 01 c0 00 44 75 63 61 // ConferenceCreateRequest, name "1", 1 user data set, h221 "Duca"
          02 aa bb               // client data blocks
        `),
        ' ',
      ),
    );
    expect(decodeConferenceCreateRequest(gcc)).toEqual({ conferenceName: '1', h221Key: 'Duca', clientBlocks: hex('aa bb') });
  });

  it('decodes a response whatever its (Windows: bogus) connectPDU length says', () => {
    const resp = encodeConferenceCreateResponse(hex('01 02 03'), { declaredLength: 0x2a, result: 1 });
    expect(toHex(resp, ' ')).toBe('00 05 00 14 7c 00 01 2a 14 76 0a 01 01 10 01 c0 00 4d 63 44 6e 03 01 02 03');
    expect(decodeConferenceCreateResponse(resp)).toEqual({
      nodeId: 31219,
      tag: 1,
      result: { value: 1, name: 'userRejected' },
      serverBlocks: hex('01 02 03'),
      declaredLength: 0x2a,
    });
  });

  it('rejects the wrong OID, the wrong CHOICE and unsupported optional fields', () => {
    expect(() => decodeConferenceCreateRequest(hex('00 05 00 14 7c 00 02 0e'))).toThrowError(/T\.124 OID/);
    expect(() => decodeConferenceCreateRequest(hex('01 05 00 14 7c 00 01 0e'))).toThrowError(/t124Identifier/);
    const resp = encodeConferenceCreateResponse(hex('01 02'));
    expect(() => decodeConferenceCreateRequest(resp)).toThrowError(/conferenceCreateRequest/);
    expect(() => decodeConferenceCreateResponse(encodeConferenceCreateRequest(hex('01')))).toThrowError(/conferenceCreateResponse/);
    // password present (bit 1 of the first octet)
    expect(() => decodeConferenceCreateRequest(hex('00 05 00 14 7c 00 01 0e 02 08 00 10 00 01 c0 00 44 75 63 61 00'))).toThrowError(/optional fields/);
  });
});

describe('client data blocks (MS-RDPBCGR 2.2.1.3)', () => {
  it('keeps unknown blocks as {type, length} and reports duplicates', () => {
    const blocks = hex(`
      05 c0 0c 00 00 00 00 00 00 00 00 00   // CS_MONITOR (not decoded), 12 bytes
      06 c0 08 00 00 00 00 00               // CS_MCS_MSGCHANNEL
      06 c0 08 00 00 00 00 00               // … twice
      34 12 04 00                           // an unknown type with an empty body
    `);
    const d = decodeClientDataBlocks(blocks);
    expect(d.msgChannel).toEqual({ flags: 0 });
    expect(d.unknown).toEqual([
      { type: 0xc005, name: 'CS_MONITOR', length: 12 },
      { type: 0xc006, name: 'CS_MCS_MSGCHANNEL (duplicate)', length: 8 },
      { type: 0x1234, name: 'unknown(0x1234)', length: 4 },
    ]);
  });

  it('rejects a block length below 4 or past the end', () => {
    expect(() => decodeClientDataBlocks(hex('01 c0 03 00'))).toThrowError(/below the 4-byte header/);
    expect(() => decodeClientDataBlocks(hex('02 c0 0c 00 01 00 00 00'))).toThrowError(/CS_SECURITY\.length.*runs past the end/);
    expect(() => decodeClientDataBlocks(hex('03 c0 0c 00 05 00 00 00 00 00 00 00'))).toThrowError(/CS_NET\.channelCount/);
  });

  it('accepts the shortest CS_CORE (RDP 4 clients stop after imeFileName, 132 bytes)', () => {
    const full = encodeClientCoreData({ serverSelectedProtocol: 0, clientName: 'OLD' });
    const short = full.slice(0, 132);
    short[2] = 132;
    const d = decodeClientDataBlocks(short);
    expect(d.core!.clientName).toBe('OLD');
    expect(d.core!.blockLength).toBe(132);
    expect(d.core!.postBeta2ColorDepth).toBeUndefined();
    expect(d.core!.earlyCapabilityFlags).toBeUndefined();
  });
});

describe('server data blocks (MS-RDPBCGR 2.2.1.4)', () => {
  it('names RDP versions and keeps unknown ones', () => {
    expect(rdpVersion(0x00080001).name).toBe('RDP 4.0');
    expect(rdpVersion(0x00080004).name).toBe('RDP 5.0–8.1');
    expect(rdpVersion(0x00080005).name).toBe('RDP 10.0');
    expect(rdpVersion(0x0008000c).name).toBe('RDP 10.7');
    expect(rdpVersion(0x00080011).name).toBe('RDP 10.12');
    expect(rdpVersion(0x00080012)).toEqual({ value: 0x00080012, name: 'unknown(0x00080012)' });
  });

  it('decodes SC_CORE with all fields, SC_MULTITRANSPORT and SC_MCS_MSGCHANNEL', () => {
    const s = decodeServerDataBlocks(
      hex(`
        01 0c 10 00 0c 00 08 00 0b 00 00 00 0f 00 00 00 // SC_CORE: RDP 10.7, requested 0x0b, early flags 0x0f
        04 0c 06 00 f0 03                               // SC_MCS_MSGCHANNEL: channel 1008
        08 0c 08 00 01 03 00 00                         // SC_MULTITRANSPORT: 0x301
      `),
    );
    expect(s.core!.version.name).toBe('RDP 10.7');
    expect(s.core!.clientRequestedProtocols).toBe(0x0b);
    expect(s.core!.earlyCapabilityFlags!.value).toBe(0x0f);
    expect(s.msgChannel).toEqual({ channelId: 1008 });
    expect(s.multitransport!.flags).toEqual({ value: 0x301, names: ['TRANSPORTTYPE_UDPFECR', 'TRANSPORTTYPE_UDP_PREFERRED', 'SOFTSYNC_TCP_TO_UDP'] });
  });

  it('a broken certificate is recorded, not thrown, so the rest of SC_SECURITY survives', () => {
    const badMagic = encodeProprietaryCertificate(new Uint8Array(64).fill(7));
    badMagic[16] = 0x58; // after dwVersion, dwSigAlgId, dwKeyAlgId, blob type and length: 'RSA1' → 'XSA1'
    const d = decodeServerCertificate(badMagic);
    expect(d).toMatchObject({ type: 'unreadable', versionName: 'proprietary', temporary: false, length: badMagic.length });
    expect('error' in d && d.error).toMatch(/RSA_PUBLIC_KEY\.magic/);
    expect(serverCertificateInfo(d)).toEqual({ type: 'proprietary' });

    const junkX509 = hex(`
      02 00 00 80    // dwVersion: X.509 chain, temporary
      01 00 00 00    // NumCertBlobs 1
      05 00 00 00 30 03 02 01 05 // cbCert 5: a DER SEQUENCE that is no certificate
      00 00 00 00 00 00 00 00 00 00 00 00 // padding
    `);
    const x = decodeServerCertificate(junkX509);
    expect(x.type).toBe('x509');
    if (x.type === 'x509') {
      expect(x.chainLength).toBe(1);
      expect(x.certLengths).toEqual([5]);
      expect(x.error).toMatch(/^cert\[0\]: /);
      expect(x.keyBits).toBeUndefined();
    }
    expect(decodeServerCertificate(hex('03 00 00 00 00'))).toEqual({ type: 'unreadable', version: 3, versionName: 'unknown(0x00000003)', temporary: false, length: 5 });
    expect(() => decodeServerCertificate(hex('01 00'))).toThrowError(DecodeError);
  });

  it('rejects random/cert lengths that run past the block', () => {
    expect(() => decodeServerDataBlocks(hex('02 0c 14 00 02 00 00 00 03 00 00 00 ff 00 00 00 00 00 00 00'))).toThrowError(/serverRandomLen/);
    expect(() => decodeServerDataBlocks(hex('03 0c 0a 00 eb 03 05 00 ec 03'))).toThrowError(/SC_NET\.channelCount/);
  });
});
