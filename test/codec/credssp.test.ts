import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import {
  CRED_TYPE_PASSWORD,
  decodeTSCredentials,
  decodeTSPasswordCreds,
  decodeTSRequest,
  encodePasswordCredentials,
  encodeTSPasswordCreds,
  encodeTSRequest,
  subjectPublicKeyFromCertificate,
  subjectPublicKeyFromSpki,
  tsRequestLength,
} from '../../src/codec/credssp.js';
import { DecodeError } from '../../src/codec/errors.js';
import { encodeNegotiate } from '../../src/codec/ntlm/index.js';
import { ntstatusCoded, ntstatusName } from '../../src/codec/ntstatus.js';
import { hex, toHex } from '../../src/codec/writer.js';

function decodeErr(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    expect((e as DecodeError).layer).toBe('credssp');
    return e as DecodeError;
  }
  throw new Error('expected a DecodeError');
}

/** nmap rdp-ntlm-info / Metasploit rdp_scanner first TSRequest (PROTOCOL-NOTES 1.12), 57 bytes. */
const NMAP_TSREQUEST = hex(`
  30 37                     // TSRequest SEQUENCE, 55 bytes
  a0 03 02 01 60            //   [0] version INTEGER 0x60 (96)
  a1 30                     //   [1] negoTokens, 48 bytes
  30 2e                     //     NegoData SEQUENCE OF
  30 2c                     //       SEQUENCE
  a0 2a                     //         [0] negoToken
  04 28                     //           OCTET STRING, 40 bytes: the NTLM NEGOTIATE
  4e 54 4c 4d 53 53 50 00 01 00 00 00 b7 82 08 e2
  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
  0a 00 63 45 00 00 00 0f
`);

describe('TSRequest (MS-CSSP 2.2.1)', () => {
  it('builds the nmap/Metasploit NEGOTIATE wrapper byte for byte (version 0x60)', () => {
    const negotiate = encodeNegotiate({ flags: 0xe20882b7, version: { major: 10, minor: 0, build: 17763, revision: 15 }, emptyFieldOffsets: 'zero' });
    const req = encodeTSRequest({ version: 0x60, negoTokens: [negotiate] });
    expect(toHex(req, ' ')).toBe(toHex(NMAP_TSREQUEST, ' '));
    expect(tsRequestLength(req)).toBe(57);
  });

  it('decodes it back', () => {
    const r = decodeTSRequest(NMAP_TSREQUEST);
    expect(r.version).toBe(0x60);
    expect(r.negoTokens).toHaveLength(1);
    expect(toHex(r.negoTokens![0])).toBe(toHex(NMAP_TSREQUEST.subarray(17)));
    expect(r.errorCode).toBeUndefined();
    expect(r.unknownTags).toBeUndefined();
  });

  it('errorCode 0xC000006D arrives as a negative DER INTEGER and decodes to STATUS_LOGON_FAILURE', () => {
    // A Windows server's answer to a bad AUTHENTICATE (version 6).
    const bytes = hex(`
      30 0d                 // SEQUENCE, 13 bytes
      a0 03 02 01 06        //   [0] version 6
      a4 06 02 04 c0 00 00 6d  // [4] errorCode INTEGER -1073741715 (two's complement of 0xC000006D)
    `);
    const r = decodeTSRequest(bytes);
    expect(r.errorCode).toBe(0xc000006d);
    expect(ntstatusName(r.errorCode!)).toBe('STATUS_LOGON_FAILURE');
    expect(ntstatusCoded(-1073741715)).toEqual({ value: 0xc000006d, name: 'STATUS_LOGON_FAILURE' });
    // and we encode it the same way
    expect(toHex(encodeTSRequest({ version: 6, errorCode: 0xc000006d }))).toBe(toHex(bytes));
  });

  it('tolerates an unsigned 5-byte errorCode encoding (00 C0 00 00 6D)', () => {
    const r = decodeTSRequest(hex('30 0e a0 03 02 01 06 a4 07 02 05 00 c0 00 00 6d'));
    expect(r.errorCode).toBe(0xc000006d);
  });

  it('versions 2..6 round-trip with every field', () => {
    for (let version = 2; version <= 6; version++) {
      const input = {
        version,
        negoTokens: [hex('4e 54 4c 4d'), new Uint8Array(300).fill(version)],
        authInfo: hex('01 02 03'),
        pubKeyAuth: new Uint8Array(0),
        errorCode: 0xc0000234,
        clientNonce: new Uint8Array(32).fill(0xaa),
      };
      const der = encodeTSRequest(input);
      expect(der[0]).toBe(0x30);
      expect(tsRequestLength(der)).toBe(der.length);
      const back = decodeTSRequest(der);
      expect(back.version).toBe(version);
      expect(back.negoTokens!.map((t) => toHex(t))).toEqual(input.negoTokens.map((t) => toHex(t)));
      expect(toHex(back.authInfo!)).toBe('010203');
      expect(back.pubKeyAuth!.length).toBe(0);
      expect(ntstatusName(back.errorCode!)).toBe('STATUS_ACCOUNT_LOCKED_OUT');
      expect(toHex(back.clientNonce!)).toBe('aa'.repeat(32));
    }
  });

  it('version-only TSRequest and a large version', () => {
    expect(toHex(encodeTSRequest({ version: 2 }), ' ')).toBe('30 05 a0 03 02 01 02');
    expect(decodeTSRequest(encodeTSRequest({ version: 0x7fff })).version).toBe(0x7fff);
  });

  it('unknown context tags are tolerated and reported', () => {
    const r = decodeTSRequest(hex('30 0c a0 03 02 01 06 a9 05 04 03 01 02 03'));
    expect(r.version).toBe(6);
    expect(r.unknownTags).toEqual([9]);
  });

  it('fields out of tag order still decode', () => {
    const r = decodeTSRequest(hex('30 0c a3 05 04 03 aa bb cc a0 03 02 01 05'));
    expect(r.version).toBe(5);
    expect(toHex(r.pubKeyAuth!)).toBe('aabbcc');
  });
});

describe('TSRequest malformed DER → DecodeError (layer credssp)', () => {
  it('wrong outer tag', () => {
    const e = decodeErr(() => decodeTSRequest(hex('31 05 a0 03 02 01 02')));
    expect(e.field).toBe('TSRequest.tag');
    expect(decodeErr(() => decodeTSRequest(hex('16 03 01 00 05'))).field).toBe('TSRequest.tag'); // a TLS record
  });

  it('length beyond the data', () => {
    const e = decodeErr(() => decodeTSRequest(hex('30 10 a0 03 02 01 02')));
    expect(e.message).toContain('truncated');
  });

  it('inner length beyond its parent', () => {
    const e = decodeErr(() => decodeTSRequest(hex('30 05 a0 07 02 01 02')));
    expect(e.message).toMatch(/malformed DER/);
  });

  it('huge length', () => {
    const e = decodeErr(() => decodeTSRequest(hex('30 84 7f ff ff ff a0 03 02 01 02')));
    expect(e.field).toBe('TSRequest.length');
    expect(e.message).toContain('cap');
    expect(decodeErr(() => decodeTSRequest(hex('30 89 01 00 00 00 00 00 00 00 00'))).field).toBe('TSRequest.length');
  });

  it('indefinite length (BER, not DER)', () => {
    expect(decodeErr(() => decodeTSRequest(hex('30 80 a0 03 02 01 02 00 00'))).field).toBe('TSRequest.length');
  });

  it('trailing bytes after the TSRequest', () => {
    const e = decodeErr(() => decodeTSRequest(hex('30 05 a0 03 02 01 02 ff')));
    expect(e.offset).toBe(7);
    expect(e.message).toContain('1 trailing');
  });

  it('missing version, wrong inner types, empty INTEGER, duplicate field', () => {
    expect(decodeErr(() => decodeTSRequest(hex('30 05 a2 03 04 01 00'))).field).toBe('TSRequest.version');
    expect(decodeErr(() => decodeTSRequest(hex('30 05 a0 03 04 01 02'))).field).toBe('TSRequest.version'); // OCTET STRING
    expect(decodeErr(() => decodeTSRequest(hex('30 04 a0 02 02 00'))).field).toBe('TSRequest.version');
    expect(decodeErr(() => decodeTSRequest(hex('30 0c a0 03 02 01 02 a2 05 02 03 01 02 03'))).field).toBe('TSRequest.authInfo');
    expect(decodeErr(() => decodeTSRequest(hex('30 0a a0 03 02 01 02 a0 03 02 01 03'))).field).toBe('TSRequest.[0]');
    expect(decodeErr(() => decodeTSRequest(hex('30 05 a0 03 02 01 ff'))).message).toContain('negative');
  });

  it('negoTokens that are not SEQUENCE OF SEQUENCE { [0] OCTET STRING }', () => {
    expect(decodeErr(() => decodeTSRequest(hex('30 0a a0 03 02 01 02 a1 03 04 01 00'))).field).toBe('TSRequest.negoTokens');
    expect(decodeErr(() => decodeTSRequest(hex('30 0c a0 03 02 01 02 a1 05 30 03 04 01 00'))).field).toBe('TSRequest.negoTokens[0]');
    expect(decodeErr(() => decodeTSRequest(hex('30 0f a0 03 02 01 02 a1 08 30 06 30 04 a1 02 04 00'))).field).toBe('TSRequest.negoTokens[0].negoToken');
  });

  it('a CHALLENGE after garbage is not found by searching: the bytes must start with the TSRequest', () => {
    const garbage = hex('de ad be ef 4e 54 4c 4d 53 53 50 00 02 00 00 00');
    expect(decodeErr(() => decodeTSRequest(garbage)).field).toBe('TSRequest.tag');
  });
});

describe('tsRequestLength (framing over TLS, no TPKT)', () => {
  const req = encodeTSRequest({ version: 6, negoTokens: [new Uint8Array(200).fill(7)], clientNonce: new Uint8Array(32) });

  it('null for every proper prefix, the length for the whole and for whole + more', () => {
    expect(req[1]).toBe(0x82); // long-form length, 2 octets
    for (let i = 0; i < req.length; i++) expect(tsRequestLength(req.subarray(0, i))).toBeNull();
    expect(tsRequestLength(req)).toBe(req.length);
    const two = new Uint8Array([...req, ...req]);
    expect(tsRequestLength(two)).toBe(req.length);
  });

  it('short and long forms, 1–4 length octets', () => {
    expect(tsRequestLength(hex('30 00'))).toBe(2);
    expect(tsRequestLength(hex('30 7f'))).toBeNull();
    expect(tsRequestLength(hex('30 81 80'))).toBeNull();
    expect(tsRequestLength(new Uint8Array([0x30, 0x82, 0x01, 0x00, ...new Uint8Array(256)]))).toBe(260);
    expect(tsRequestLength(hex('30 83 00 01 00'))).toBeNull();
  });

  it('rejects at the first byte and past the cap', () => {
    expect(() => tsRequestLength(hex('17 03 03'))).toThrow(DecodeError);
    expect(() => tsRequestLength(hex('30 83 01 00 00'))).toThrow(/cap/); // 65541 bytes > 64 KiB
    expect(tsRequestLength(hex('30 82 ff f0'), 0x20000)).toBeNull(); // a higher cap is a parameter
    expect(() => tsRequestLength(hex('30 82 01 00'), 100)).toThrow(DecodeError);
  });
});

describe('TSCredentials / TSPasswordCreds (MS-CSSP 2.2.1.2)', () => {
  it('encodes UTF-16LE strings in the documented shape', () => {
    const der = encodeTSPasswordCreds({ domainName: 'D', userName: 'u', password: 'p' });
    expect(toHex(der, ' ')).toBe(
      toHex(
        hex(`
        30 12                  // TSPasswordCreds SEQUENCE
        a0 04 04 02 44 00      //   [0] domainName "D"
        a1 04 04 02 75 00      //   [1] userName "u"
        a2 04 04 02 70 00      //   [2] password "p"
      `),
        ' ',
      ),
    );
    const outer = encodePasswordCredentials({ domainName: 'D', userName: 'u', password: 'p' });
    expect(toHex(outer.subarray(0, 11), ' ')).toBe('30 1d a0 03 02 01 01 a1 16 04 14'); // credType 1, [1] OCTET STRING
    const back = decodeTSCredentials(outer);
    expect(back.credType).toBe(CRED_TYPE_PASSWORD);
    expect(decodeTSPasswordCreds(back.credentials)).toEqual({ domainName: 'D', userName: 'u', password: 'p' });
  });

  it('empty strings and non-ASCII', () => {
    const c = { domainName: '', userName: 'jörg', password: 'pässwörd€' };
    expect(decodeTSPasswordCreds(decodeTSCredentials(encodePasswordCredentials(c)).credentials)).toEqual(c);
  });

  it('malformed credentials → DecodeError', () => {
    expect(decodeErr(() => decodeTSCredentials(hex('30 05 a0 03 02 01 01'))).field).toBe('TSCredentials.credentials');
    expect(decodeErr(() => decodeTSPasswordCreds(hex('30 03 04 01 00'))).field).toBe('TSPasswordCreds.domainName');
  });
});

describe('SubjectPublicKey (what pubKeyAuth binds to)', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const pkcs1 = new Uint8Array(publicKey.export({ type: 'pkcs1', format: 'der' }));

  it('from SubjectPublicKeyInfo: the BIT STRING contents = PKCS#1 RSAPublicKey', () => {
    const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
    expect(toHex(subjectPublicKeyFromSpki(spki))).toBe(toHex(pkcs1));
  });

  it('from a DER X.509 certificate (v3 with the [0] version, as TLS servers send)', () => {
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }) as string);
    cert.serialNumber = '01';
    cert.validity.notBefore = new Date('2024-01-01T00:00:00Z');
    cert.validity.notAfter = new Date('2034-01-01T00:00:00Z');
    cert.setSubject([{ name: 'commonName', value: 'RDPLAB-NLA' }]);
    cert.setIssuer([{ name: 'commonName', value: 'RDPLAB-NLA' }]);
    cert.sign(forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }) as string), forge.md.sha256.create());
    const der = new Uint8Array(Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'latin1'));
    expect(new X509Certificate(der).subject).toBe('CN=RDPLAB-NLA');
    expect(toHex(subjectPublicKeyFromCertificate(der))).toBe(toHex(pkcs1));
  });

  it('garbage is a DecodeError', () => {
    expect(() => subjectPublicKeyFromCertificate(hex('30 03 02 01 01'))).toThrow(DecodeError);
    expect(() => subjectPublicKeyFromSpki(hex('04 00'))).toThrow(DecodeError);
  });
});

describe('ntstatus names', () => {
  it('covers the PROTOCOL-NOTES 1.11 table and the brief', () => {
    const expected: [number, string][] = [
      [0xc000006d, 'STATUS_LOGON_FAILURE'],
      [0xc000006a, 'STATUS_WRONG_PASSWORD'],
      [0xc000006e, 'STATUS_ACCOUNT_RESTRICTION'],
      [0xc0000071, 'STATUS_PASSWORD_EXPIRED'],
      [0xc0000072, 'STATUS_ACCOUNT_DISABLED'],
      [0xc000015b, 'STATUS_LOGON_TYPE_NOT_GRANTED'],
      [0xc0000193, 'STATUS_ACCOUNT_EXPIRED'],
      [0xc0000224, 'STATUS_PASSWORD_MUST_CHANGE'],
      [0xc0000234, 'STATUS_ACCOUNT_LOCKED_OUT'],
      [0xc0000022, 'STATUS_ACCESS_DENIED'],
      [0xc0000064, 'STATUS_NO_SUCH_USER'],
      [0xc000006f, 'STATUS_INVALID_LOGON_HOURS'],
      [0xc0000070, 'STATUS_INVALID_WORKSTATION'],
      [0xc0000133, 'STATUS_TIME_DIFFERENCE_AT_DC'],
      [0xc00000bb, 'STATUS_NOT_SUPPORTED'],
      [0xc00000cc, 'STATUS_BAD_NETWORK_NAME'],
      [0xc000018d, 'STATUS_TRUSTED_RELATIONSHIP_FAILURE'],
      [0xc000005e, 'STATUS_NO_LOGON_SERVERS'],
      [0xc0000203, 'STATUS_USER_SESSION_DELETED'],
    ];
    for (const [v, n] of expected) {
      expect(ntstatusName(v)).toBe(n);
      expect(ntstatusName(v | 0)).toBe(n); // signed form
    }
  });

  it('unknown values keep the number', () => {
    expect(ntstatusName(0xc0000999)).toBe('unknown(0xc0000999)');
    expect(ntstatusCoded(-1)).toEqual({ value: 0xffffffff, name: 'unknown(0xffffffff)' });
  });
});
