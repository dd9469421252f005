import { describe, expect, it } from 'vitest';
import { ntlmInfo } from '../../src/record/ntlm.js';
import { DecodeError } from '../../src/codec/errors.js';
import {
  AV_ID_NAMES,
  computeMic,
  computeNtlmv2Response,
  decodeAuthenticate,
  decodeAvPairs,
  decodeChallenge,
  decodeNegotiate,
  DEFAULT_NEGOTIATE_FLAGS,
  encodeAuthenticate,
  encodeChallenge,
  encodeNegotiate,
  filetimeToIso,
  msToFiletime,
  negotiateFlagNames,
  NtlmSession,
  ntowfv1,
  ntowfv2,
  sealKey,
  signKey,
} from '../../src/codec/ntlm/index.js';
import { rc4 } from '../../src/codec/crypto-legacy.js';
import { hex, toHex } from '../../src/codec/writer.js';

const u16 = (s: string) => new Uint8Array(Buffer.from(s, 'utf16le'));

function decodeErr(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    return e as DecodeError;
  }
  throw new Error('expected a DecodeError');
}

// -------------------------------------------------------------------------------------------------------------
// MS-NLMP 4.2.1 common values and 4.2.4 (NTLMv2 authentication) vectors

const USER = 'User';
const DOMAIN = 'Domain';
const PASSWORD = 'Password';
const SERVER_CHALLENGE = hex('01 23 45 67 89 ab cd ef');
const CLIENT_CHALLENGE = hex('aa aa aa aa aa aa aa aa');
const RANDOM_SESSION_KEY = hex('55 55 55 55 55 55 55 55 55 55 55 55 55 55 55 55');
const TIME_ZERO = new Uint8Array(8);

/** MS-NLMP 4.2.4.3 CHALLENGE_MESSAGE. */
const SPEC_CHALLENGE = hex(`
  4e 54 4c 4d 53 53 50 00    // Signature "NTLMSSP\\0"
  02 00 00 00                // MessageType = 2 (CHALLENGE)
  0c 00 0c 00 38 00 00 00    // TargetNameFields: Len 12, MaxLen 12, Offset 0x38
  33 82 8a e2                // NegotiateFlags 0xE28A8233
  01 23 45 67 89 ab cd ef    // ServerChallenge
  00 00 00 00 00 00 00 00    // Reserved
  24 00 24 00 44 00 00 00    // TargetInfoFields: Len 36, MaxLen 36, Offset 0x44
  06 00 70 17 00 00 00 0f    // Version 6.0 build 6000 (0x1770), NTLMRevisionCurrent 15
  53 00 65 00 72 00 76 00 65 00 72 00            // @0x38 TargetName "Server"
  02 00 0c 00 44 00 6f 00 6d 00 61 00 69 00 6e 00 // @0x44 MsvAvNbDomainName "Domain"
  01 00 0c 00 53 00 65 00 72 00 76 00 65 00 72 00 //       MsvAvNbComputerName "Server"
  00 00 00 00                                     //       MsvAvEOL
`);

describe('MS-NLMP 4.2.4 NTLMv2 vectors', () => {
  it('4.2.2.1.2 NTOWFv1 and 4.2.4.1.1 NTOWFv2', () => {
    expect(toHex(ntowfv1(PASSWORD))).toBe('a4f49c406510bdcab6824ee7c30fd852');
    expect(toHex(ntowfv2(PASSWORD, USER, DOMAIN))).toBe('0c868a403bfd7a93a3001ef22ef02e3f');
  });

  it('4.2.4.3 CHALLENGE decodes', () => {
    const ch = decodeChallenge(SPEC_CHALLENGE);
    expect(ch.flags).toBe(0xe28a8233);
    expect(ch.flagNames).toEqual([
      'NEGOTIATE_UNICODE',
      'NEGOTIATE_OEM',
      'NEGOTIATE_SIGN',
      'NEGOTIATE_SEAL',
      'NEGOTIATE_NTLM',
      'NEGOTIATE_ALWAYS_SIGN',
      'TARGET_TYPE_SERVER',
      'NEGOTIATE_EXTENDED_SESSIONSECURITY',
      'NEGOTIATE_TARGET_INFO',
      'NEGOTIATE_VERSION',
      'NEGOTIATE_128',
      'NEGOTIATE_KEY_EXCH',
      'NEGOTIATE_56',
    ]);
    expect(toHex(ch.serverChallenge)).toBe('0123456789abcdef');
    expect(ch.targetName).toBe('Server');
    expect(ch.version).toEqual({ major: 6, minor: 0, build: 6000, revision: 15 });
    expect(ch.targetInfo?.map((p) => [p.name, p.value])).toEqual([
      ['MsvAvNbDomainName', 'Domain'],
      ['MsvAvNbComputerName', 'Server'],
    ]);
    expect(toHex(ch.targetInfoBytes!)).toBe(toHex(SPEC_CHALLENGE.subarray(0x44)));
  });

  it('4.2.4.1.2 session base key, 4.2.4.2.1 LMv2 and 4.2.4.2.2 NTLMv2 responses', () => {
    const ch = decodeChallenge(SPEC_CHALLENGE);
    const r = computeNtlmv2Response(ntowfv2(PASSWORD, USER, DOMAIN), SERVER_CHALLENGE, CLIENT_CHALLENGE, TIME_ZERO, ch.targetInfoBytes!);
    expect(toHex(r.ntProofStr)).toBe('68cd0ab851e51c96aabc927bebef6a1c');
    // NTLMv2_RESPONSE = NTProofStr || temp, temp = 01 01 Z(6) Time ClientChallenge Z(4) ServerName Z(4)   (4.2.4.1.3)
    expect(toHex(r.ntChallengeResponse, ' ')).toBe(
      toHex(
        hex(`
        68 cd 0a b8 51 e5 1c 96 aa bc 92 7b eb ef 6a 1c  // NTProofStr
        01 01 00 00 00 00 00 00                          // RespType, HiRespType, Z(6)
        00 00 00 00 00 00 00 00                          // Time = 0
        aa aa aa aa aa aa aa aa                          // ClientChallenge
        00 00 00 00                                      // Z(4)
        02 00 0c 00 44 00 6f 00 6d 00 61 00 69 00 6e 00  // MsvAvNbDomainName "Domain"
        01 00 0c 00 53 00 65 00 72 00 76 00 65 00 72 00  // MsvAvNbComputerName "Server"
        00 00 00 00                                      // MsvAvEOL
        00 00 00 00                                      // Z(4)
      `),
        ' ',
      ),
    );
    expect(toHex(r.lmChallengeResponse)).toBe('86c35097ac9cec102554764a57cccc19' + 'aaaaaaaaaaaaaaaa');
    expect(toHex(r.sessionBaseKey)).toBe('8de40ccadbc14a82f15cb0ad0de95ca3');
  });

  it('4.2.4.2.3 encrypted session key = RC4K(KeyExchangeKey = SessionBaseKey, RandomSessionKey)', () => {
    expect(toHex(rc4(hex('8de40ccadbc14a82f15cb0ad0de95ca3'), RANDOM_SESSION_KEY))).toBe('c5dad2544fc9799094ce1ce90bc9d03e');
  });

  it('4.2.4.4 sealing and signing keys (client-to-server; server-to-client for the other direction)', () => {
    expect(toHex(sealKey(0xe28a8233, RANDOM_SESSION_KEY, 'client'))).toBe('59f600973cc4960a25480a7c196e4c58');
    expect(toHex(signKey(RANDOM_SESSION_KEY, 'client'))).toBe('4788dc861b4782f35d43fd98fe1a2d39');
    expect(toHex(sealKey(0xe28a8233, RANDOM_SESSION_KEY, 'server'))).toBe('9355f3a957c1583d25c4c2f11e40390e');
    expect(toHex(signKey(RANDOM_SESSION_KEY, 'server'))).toBe('d04d6f10741041d1d246d64188d7a8ad');
  });

  it('4.2.4.4 GSS_WrapEx: "Plaintext" sealed with sequence number 0', () => {
    const s = new NtlmSession(0xe28a8233, RANDOM_SESSION_KEY, 'client');
    const { signature, sealed } = s.seal(u16('Plaintext'));
    expect(toHex(sealed, ' ')).toBe('54 e5 01 65 bf 19 36 dc 99 60 20 c1 81 1b 0f 06 fb 5f');
    // Version 1 · Checksum (RC4-encrypted under KEY_EXCH) · SeqNum 0
    expect(toHex(signature, ' ')).toBe('01 00 00 00 7f b3 8e c5 c5 5d 49 76 00 00 00 00');
  });

  it('encodeAuthenticate reproduces the 4.2.4 responses and key from the 4.2.4.3 CHALLENGE', () => {
    const ch = decodeChallenge(SPEC_CHALLENGE);
    const auth = encodeAuthenticate({
      negotiate: encodeNegotiate(),
      challenge: ch,
      user: USER,
      domain: DOMAIN,
      workstation: 'COMPUTER',
      ntHash: ntowfv1(PASSWORD),
      clientChallenge: CLIENT_CHALLENGE,
      randomSessionKey: RANDOM_SESSION_KEY,
      now: new Date(-11644473600000), // FILETIME 0, the spec's Time
      mic: false, // 4.2.4 has no MIC and no MsvAvFlags
    });
    expect(auth.flags).toBe(0xe28a8233);
    expect(toHex(auth.exportedSessionKey)).toBe(toHex(RANDOM_SESSION_KEY));
    const m = decodeAuthenticate(auth.message);
    expect(m.user).toBe('User');
    expect(m.domain).toBe('Domain');
    expect(m.workstation).toBe('COMPUTER');
    expect(toHex(m.ntProofStr!)).toBe('68cd0ab851e51c96aabc927bebef6a1c');
    expect(toHex(m.lmChallengeResponse)).toBe('86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa');
    expect(toHex(m.encryptedRandomSessionKey)).toBe('c5dad2544fc9799094ce1ce90bc9d03e');
    expect(m.version).toEqual({ major: 10, minor: 0, build: 17763, revision: 15 });
    expect(toHex(m.mic!)).toBe('00'.repeat(16));
    expect(m.clientTargetInfo?.map((p) => p.name)).toEqual(['MsvAvNbDomainName', 'MsvAvNbComputerName']);
  });
});

// -------------------------------------------------------------------------------------------------------------
// MIC: Chromium's NTLM test data (net/ntlm/ntlm_test_data.h) extends the 4.2.4 inputs with a client timestamp,
// MsvAvFlags MIC_PRESENT, channel bindings and an SPN, and publishes the resulting AUTHENTICATE and its MIC.

/** NEGOTIATE without Version, flags 0x00088207 (Chromium kExpectedNegotiateMsg). */
const CR_NEGOTIATE = hex(`
  4e 54 4c 4d 53 53 50 00  01 00 00 00  07 82 08 00   // sig, type 1, flags 0x00088207
  00 00 00 00 20 00 00 00  00 00 00 00 20 00 00 00   // empty DomainName / Workstation, offset 32
`);

/** Chromium kExpectedAuthenticateMsgSpecResponseV2 (answer to the 4.2.4.3 CHALLENGE). */
const CR_AUTHENTICATE = hex(`
  4e 54 4c 4d 53 53 50 00  03 00 00 00             // sig, type 3
  18 00 18 00 58 00 00 00                          // LmChallengeResponseFields: 24 @ 0x58
  8a 00 8a 00 70 00 00 00                          // NtChallengeResponseFields: 138 @ 0x70
  0c 00 0c 00 fa 00 00 00                          // DomainNameFields: 12 @ 0xfa
  08 00 08 00 06 01 00 00                          // UserNameFields: 8 @ 0x106
  10 00 10 00 0e 01 00 00                          // WorkstationFields: 16 @ 0x10e
  00 00 00 00 58 00 00 00                          // EncryptedRandomSessionKeyFields: empty
  03 82 08 00                                      // NegotiateFlags 0x00088203
  00 00 00 00 00 00 00 00                          // Version (zero)
  f7 36 16 33 f0 ad 9b df 4a 7c 42 1b c6 b8 24 a3  // MIC
  00 00 00 00 00 00 00 00 00 00 00 00              // @0x58 LmChallengeResponse Z(24)
  00 00 00 00 00 00 00 00 00 00 00 00
  8c 02 60 db ef 69 06 62 af 9c 42 d5 07 82 d2 ed  // @0x70 NTProofStr
  01 01 00 00 00 00 00 00                          // RespType, HiRespType, Z(6)
  80 0b c8 fd 00 d4 d2 01                          // Time: FILETIME 131400439870000000 (2017-05-23T20:13:07Z)
  aa aa aa aa aa aa aa aa  00 00 00 00             // ClientChallenge, Z(4)
  02 00 0c 00 44 00 6f 00 6d 00 61 00 69 00 6e 00  // MsvAvNbDomainName "Domain"
  01 00 0c 00 53 00 65 00 72 00 76 00 65 00 72 00  // MsvAvNbComputerName "Server"
  06 00 04 00 02 00 00 00                          // MsvAvFlags MIC_PRESENT
  0a 00 10 00 65 86 e9 9d 81 c2 fc 98 4e 47 17 2f  // MsvAvChannelBindings
  d4 dd 03 10
  09 00 16 00 48 00 54 00 54 00 50 00 2f 00 53 00  // MsvAvTargetName "HTTP/Server"
  65 00 72 00 76 00 65 00 72 00
  00 00 00 00  00 00 00 00                         // MsvAvEOL, Z(4)
  44 00 6f 00 6d 00 61 00 69 00 6e 00              // @0xfa "Domain"
  55 00 73 00 65 00 72 00                          // @0x106 "User"
  43 00 4f 00 4d 00 50 00 55 00 54 00 45 00 52 00  // @0x10e "COMPUTER"
`);

describe('AUTHENTICATE decode and MIC (Chromium vectors built on MS-NLMP 4.2.4)', () => {
  it('decodes every field', () => {
    const m = decodeAuthenticate(CR_AUTHENTICATE);
    expect(m.flags).toBe(0x00088203);
    expect([m.domain, m.user, m.workstation]).toEqual(['Domain', 'User', 'COMPUTER']);
    expect(m.version).toBeUndefined(); // NEGOTIATE_VERSION not set
    expect(toHex(m.mic!)).toBe('f7361633f0ad9bdf4a7c421bc6b824a3');
    expect(toHex(m.ntProofStr!)).toBe('8c0260dbef690662af9c42d50782d2ed');
    expect(m.clientTargetInfo?.map((p) => [p.name, p.value])).toEqual([
      ['MsvAvNbDomainName', 'Domain'],
      ['MsvAvNbComputerName', 'Server'],
      ['MsvAvFlags', '0x00000002 (MIC_PRESENT)'],
      ['MsvAvChannelBindings', '6586e99d81c2fc984e47172fd4dd0310'],
      ['MsvAvTargetName', 'HTTP/Server'],
    ]);
    expect(m.encryptedRandomSessionKey.length).toBe(0);
  });

  it('NTProofStr and SessionBaseKey from the blob, MIC over NEGOTIATE || CHALLENGE || AUTHENTICATE(MIC = 0)', () => {
    const nt = CR_AUTHENTICATE.subarray(0x70, 0x70 + 138);
    const time = nt.subarray(24, 32);
    expect(filetimeToIso(131400439870000000n)).toBe('2017-05-23T20:13:07.000Z');
    const blob = nt.subarray(16 + 28, 138 - 4);
    const r = computeNtlmv2Response(ntowfv2(PASSWORD, USER, DOMAIN), SERVER_CHALLENGE, CLIENT_CHALLENGE, time, blob);
    expect(toHex(r.ntProofStr)).toBe('8c0260dbef690662af9c42d50782d2ed');
    expect(toHex(r.sessionBaseKey)).toBe('623dbd071be7a530b6a95c2eb4982470');
    // No KEY_EXCH: ExportedSessionKey = KeyExchangeKey = SessionBaseKey.
    const zeroed = CR_AUTHENTICATE.slice();
    zeroed.fill(0, 72, 88);
    expect(toHex(computeMic(r.sessionBaseKey, CR_NEGOTIATE, SPEC_CHALLENGE, zeroed))).toBe('f7361633f0ad9bdf4a7c421bc6b824a3');
  });
});

// -------------------------------------------------------------------------------------------------------------
// NEGOTIATE

describe('NEGOTIATE_MESSAGE (2.2.1.1)', () => {
  /** The 40-byte NEGOTIATE of nmap rdp-ntlm-info / Metasploit rdp_scanner (PROTOCOL-NOTES 1.12). */
  const NMAP_NEGOTIATE = hex(`
    4e 54 4c 4d 53 53 50 00   // Signature "NTLMSSP\\0"
    01 00 00 00               // MessageType 1
    b7 82 08 e2               // NegotiateFlags 0xE20882B7
    00 00 00 00 00 00 00 00   // DomainNameFields: empty, offset 0
    00 00 00 00 00 00 00 00   // WorkstationFields: empty, offset 0
    0a 00 63 45 00 00 00 0f   // Version 10.0 build 17763 (0x4563), revision 15
  `);

  it('reproduces the nmap/Metasploit bytes', () => {
    const m = encodeNegotiate({ flags: 0xe20882b7, version: { major: 10, minor: 0, build: 17763, revision: 15 }, emptyFieldOffsets: 'zero' });
    expect(toHex(m, ' ')).toBe(toHex(NMAP_NEGOTIATE, ' '));
  });

  it('decodes it', () => {
    const n = decodeNegotiate(NMAP_NEGOTIATE);
    expect(n.flags).toBe(0xe20882b7);
    expect(n.flagNames).toContain('NEGOTIATE_56');
    expect(n.flagNames).toContain('NEGOTIATE_LM_KEY');
    expect(n.flagNames).not.toContain('NEGOTIATE_TARGET_INFO');
    expect(n.version).toEqual({ major: 10, minor: 0, build: 17763, revision: 15 });
    expect(n.domain).toBeUndefined();
  });

  it('default: the documented flags, Version, empty fields pointing at the payload (spec SHOULD)', () => {
    const m = encodeNegotiate();
    expect(DEFAULT_NEGOTIATE_FLAGS).toBe(0xe2888235);
    expect(toHex(m, ' ')).toBe(
      toHex(
        hex(`
        4e 54 4c 4d 53 53 50 00  01 00 00 00  35 82 88 e2
        00 00 00 00 28 00 00 00  00 00 00 00 28 00 00 00   // empty fields, offset 40
        0a 00 63 45 00 00 00 0f
      `),
        ' ',
      ),
    );
    expect(negotiateFlagNames(DEFAULT_NEGOTIATE_FLAGS)).toEqual([
      'NEGOTIATE_UNICODE',
      'REQUEST_TARGET',
      'NEGOTIATE_SIGN',
      'NEGOTIATE_SEAL',
      'NEGOTIATE_NTLM',
      'NEGOTIATE_ALWAYS_SIGN',
      'NEGOTIATE_EXTENDED_SESSIONSECURITY',
      'NEGOTIATE_TARGET_INFO',
      'NEGOTIATE_VERSION',
      'NEGOTIATE_128',
      'NEGOTIATE_KEY_EXCH',
      'NEGOTIATE_56',
    ]);
  });

  it('OEM domain/workstation set their flags and round-trip; no Version when version is null', () => {
    const m = encodeNegotiate({ flags: 0x00000207, version: null, domain: 'LAB', workstation: 'WS1' });
    const n = decodeNegotiate(m);
    expect(n.flags & 0x3000).toBe(0x3000);
    expect(n.flags & 0x02000000).toBe(0);
    expect(n.domain).toBe('LAB');
    expect(n.workstation).toBe('WS1');
    expect(n.version).toBeUndefined();
    expect(m.length).toBe(32 + 6);
  });

  it('unknown (reserved) flag bits are named unknown(0x…)', () => {
    expect(negotiateFlagNames(0x00000008 | 0x00000001)).toEqual(['NEGOTIATE_UNICODE', 'unknown(0x8)']);
  });
});

// -------------------------------------------------------------------------------------------------------------
// CHALLENGE with every AV pair, built from the 2.2.1.2 / 2.2.2.1 layouts

/** Server "HOST1" in domain LABS, Windows 10.0.20348, every AvId 1..10 once. */
const FULL_CHALLENGE = hex(`
  4e 54 4c 4d 53 53 50 00   // Signature
  02 00 00 00               // MessageType 2
  08 00 08 00 38 00 00 00   // TargetNameFields: 8 @ 0x38
  35 82 8a e2               // NegotiateFlags 0xE28A8235
  01 23 45 67 89 ab cd ef   // ServerChallenge
  00 00 00 00 00 00 00 00   // Reserved
  e6 00 e6 00 40 00 00 00   // TargetInfoFields: 230 @ 0x40
  0a 00 7c 4f 00 00 00 0f   // Version 10.0 build 20348 (0x4f7c), revision 15
  4c 00 41 00 42 00 53 00   // @0x38 TargetName "LABS"
  02 00 08 00 4c 00 41 00 42 00 53 00                       // MsvAvNbDomainName "LABS"
  01 00 0a 00 48 00 4f 00 53 00 54 00 31 00                 // MsvAvNbComputerName "HOST1"
  04 00 12 00 6c 00 61 00 62 00 73 00 2e 00 74 00 65 00 73 00 74 00   // MsvAvDnsDomainName "labs.test"
  03 00 1e 00 68 00 6f 00 73 00 74 00 31 00 2e 00 6c 00 61 00 62 00 73 00 2e 00 74 00 65 00 73 00 74 00 // MsvAvDnsComputerName "host1.labs.test"
  05 00 12 00 6c 00 61 00 62 00 73 00 2e 00 74 00 65 00 73 00 74 00   // MsvAvDnsTreeName "labs.test"
  06 00 04 00 02 00 00 00                                   // MsvAvFlags MIC_PRESENT
  07 00 08 00 e0 34 b0 58 28 3d da 01                       // MsvAvTimestamp 0x01DA3D2858B034E0 = 2024-01-02T03:04:05.678Z
  08 00 30 00                                               // MsvAvSingleHost, 48 bytes:
    30 00 00 00  00 00 00 00                                //   Size 48, Z4
    00 00 00 00 00 00 00 00                                 //   CustomData
    10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f         //   MachineID (32)
    20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f
  09 00 1a 00 54 00 45 00 52 00 4d 00 53 00 52 00 56 00 2f 00 68 00 6f 00 73 00 74 00 31 00 // MsvAvTargetName "TERMSRV/host1"
  0a 00 10 00 cb cb cb cb cb cb cb cb cb cb cb cb cb cb cb cb   // MsvAvChannelBindings
  00 00 00 00                                               // MsvAvEOL
`);

describe('CHALLENGE_MESSAGE (2.2.1.2) with every AV pair', () => {
  it('decodes all fields and pairs', () => {
    expect(FULL_CHALLENGE.length).toBe(294);
    const ch = decodeChallenge(FULL_CHALLENGE);
    expect(ch.flags).toBe(0xe28a8235);
    expect(ch.targetName).toBe('LABS');
    expect(ch.version).toEqual({ major: 10, minor: 0, build: 20348, revision: 15 });
    expect(ch.targetInfo?.map((p) => [p.id, p.name, p.value])).toEqual([
      [2, 'MsvAvNbDomainName', 'LABS'],
      [1, 'MsvAvNbComputerName', 'HOST1'],
      [4, 'MsvAvDnsDomainName', 'labs.test'],
      [3, 'MsvAvDnsComputerName', 'host1.labs.test'],
      [5, 'MsvAvDnsTreeName', 'labs.test'],
      [6, 'MsvAvFlags', '0x00000002 (MIC_PRESENT)'],
      [7, 'MsvAvTimestamp', '2024-01-02T03:04:05.678Z'],
      [8, 'MsvAvSingleHost', '30000000' + '00'.repeat(12) + toHex(Uint8Array.from({ length: 32 }, (_, i) => 16 + i))],
      [9, 'MsvAvTargetName', 'TERMSRV/host1'],
      [10, 'MsvAvChannelBindings', 'cb'.repeat(16)],
    ]);
    expect(Object.keys(AV_ID_NAMES).length).toBe(11);
  });

  it('record/ ntlmInfo gives the Observation NtlmInfo with clock skew', () => {
    const ch = decodeChallenge(FULL_CHALLENGE);
    const info = ntlmInfo(ch, new Date('2024-01-02T03:04:00.000Z'));
    expect(info).toMatchObject({
      targetName: 'LABS',
      nbComputer: 'HOST1',
      nbDomain: 'LABS',
      dnsComputer: 'host1.labs.test',
      dnsDomain: 'labs.test',
      dnsTree: 'labs.test',
      osVersion: '10.0.20348',
      osBuild: 20348,
      ntlmRevision: 15,
      timestamp: '2024-01-02T03:04:05.678Z',
      clockSkewMs: 5678,
    });
    expect(info.negotiateFlags?.value).toBe(0xe28a8235);
    expect(info.avPairs).toHaveLength(10);
    expect(info.avPairs?.[6]).toEqual({ id: 7, name: 'MsvAvTimestamp', value: '2024-01-02T03:04:05.678Z' });
    expect(JSON.parse(JSON.stringify(info))).toEqual(info); // JSON-serialisable (no bytes, no bigint)
  });

  it('encodeChallenge produces the same bytes from the values', () => {
    const ch = decodeChallenge(FULL_CHALLENGE);
    const again = encodeChallenge({
      flags: ch.flags,
      serverChallenge: ch.serverChallenge,
      targetName: ch.targetName,
      targetInfo: ch.targetInfo,
      version: ch.version,
    });
    expect(toHex(again)).toBe(toHex(FULL_CHALLENGE));
  });

  it('a CHALLENGE without NEGOTIATE_VERSION whose payload starts at 48 has no Version', () => {
    const m = encodeChallenge({ flags: 0x00008201, serverChallenge: SERVER_CHALLENGE, targetName: 'X', version: null });
    const ch = decodeChallenge(m);
    expect(ch.version).toBeUndefined();
    expect(ch.targetName).toBe('X');
    expect(ch.targetInfo).toBeUndefined();
    expect(ntlmInfo(ch, new Date()).osVersion).toBeUndefined();
  });

  it('NEGOTIATE_VERSION set but payload at 48 (no room for Version): Version absent, not misread', () => {
    const m = encodeChallenge({ flags: 0x02008201, serverChallenge: SERVER_CHALLENGE, targetName: 'X', version: null });
    expect(decodeChallenge(m).version).toBeUndefined();
  });

  it('OEM target name when NEGOTIATE_UNICODE is clear', () => {
    const m = hex(`
      4e 54 4c 4d 53 53 50 00 02 00 00 00
      03 00 03 00 30 00 00 00   // TargetName 3 @ 48
      02 02 00 00               // flags: OEM | NTLM
      01 23 45 67 89 ab cd ef 00 00 00 00 00 00 00 00
      00 00 00 00 00 00 00 00   // no TargetInfo
      4c 41 42                  // "LAB"
    `);
    expect(decodeChallenge(m).targetName).toBe('LAB');
  });
});

describe('CHALLENGE_MESSAGE malformed input → DecodeError naming the field', () => {
  it('truncated inside the fixed header', () => {
    const e = decodeErr(() => decodeChallenge(FULL_CHALLENGE.subarray(0, 30)));
    expect(e.layer).toBe('ntlm');
    expect(e.field).toBe('ServerChallenge');
    expect(e.offset).toBe(24);
    expect([e.need, e.have]).toEqual([8, 6]);
    expect(decodeErr(() => decodeChallenge(FULL_CHALLENGE.subarray(0, 46))).field).toBe('TargetInfoBufferOffset');
    expect(decodeErr(() => decodeChallenge(FULL_CHALLENGE.subarray(0, 5))).field).toBe('Signature');
  });

  it('truncated inside the payload: TargetInfo points past the end', () => {
    const e = decodeErr(() => decodeChallenge(FULL_CHALLENGE.subarray(0, 200)));
    expect(e.field).toBe('TargetInfo');
    expect(e.message).toContain('[64, 294)');
    expect(e.message).toContain('200-byte message');
  });

  it('offsets pointing outside the message', () => {
    const m = FULL_CHALLENGE.slice();
    m.set([0x00, 0x00, 0x00, 0xf0], 16); // TargetName offset 0xF0000000
    const e = decodeErr(() => decodeChallenge(m));
    expect(e.field).toBe('TargetName');
    expect(e.offset).toBe(12);
    const m2 = FULL_CHALLENGE.slice();
    m2.set([0xff, 0xff], 40); // TargetInfoLen 65535
    expect(decodeErr(() => decodeChallenge(m2)).field).toBe('TargetInfo');
  });

  it('an AvLen running past the TargetInfo buffer names the pair', () => {
    const m = FULL_CHALLENGE.slice();
    m.set([0x00, 0x01], 64 + 2); // first pair (MsvAvNbDomainName) AvLen = 256
    const e = decodeErr(() => decodeChallenge(m));
    expect(e.field).toBe('TargetInfo.MsvAvNbDomainName');
    expect(e.need).toBe(256);
  });

  it('missing MsvAvEOL', () => {
    const m = FULL_CHALLENGE.slice();
    m.set([0xe2, 0x00, 0xe2, 0x00], 40); // TargetInfo ends before the EOL
    expect(decodeErr(() => decodeChallenge(m.subarray(0, 290))).field).toBe('TargetInfo.AvId');
  });

  it('bad value sizes: MsvAvTimestamp not 8 bytes, odd UTF-16 name, MsvAvFlags not 4 bytes', () => {
    const pairs = (hexPairs: string) => {
      const ti = hex(hexPairs);
      return decodeErr(() => decodeAvPairs(ti));
    };
    expect(pairs('07 00 04 00 00 00 00 00 00 00 00 00').field).toBe('TargetInfo.MsvAvTimestamp');
    expect(pairs('01 00 03 00 41 00 42 00 00 00 00').field).toBe('TargetInfo.MsvAvNbComputerName');
    expect(pairs('06 00 02 00 00 00 00 00 00 00').field).toBe('TargetInfo.MsvAvFlags');
  });

  it('wrong signature or message type', () => {
    const m = FULL_CHALLENGE.slice();
    m[0] = 0x4f;
    expect(decodeErr(() => decodeChallenge(m)).field).toBe('Signature');
    const t = FULL_CHALLENGE.slice();
    t[8] = 3;
    const e = decodeErr(() => decodeChallenge(t));
    expect(e.field).toBe('MessageType');
    expect(e.message).toContain('expected 2, got 3');
  });

  it('unknown AvIds are kept as hex with an unknown(0x…) name', () => {
    const p = decodeAvPairs(hex('34 12 02 00 be ef 00 00 00 00'));
    expect(p).toEqual([{ id: 0x1234, name: 'unknown(0x1234)', value: 'beef', raw: hex('be ef') }]);
  });
});

// -------------------------------------------------------------------------------------------------------------
// AUTHENTICATE built by us against a CHALLENGE with a timestamp (the CredSSP case)

describe('AUTHENTICATE_MESSAGE (2.2.1.3) with MIC', () => {
  const negotiate = encodeNegotiate();
  const ch = decodeChallenge(FULL_CHALLENGE);
  const auth = encodeAuthenticate({
    negotiate,
    challenge: ch,
    user: 'labuser',
    domain: 'LABS',
    ntHash: ntowfv1('LabPass123!'),
    clientChallenge: CLIENT_CHALLENGE,
    randomSessionKey: RANDOM_SESSION_KEY,
    now: new Date('2030-01-01T00:00:00Z'),
  });

  it('layout: header 88 bytes (Version + MIC), payload Domain, User, Workstation, LM, NT, key', () => {
    const m = decodeAuthenticate(auth.message);
    expect(m.flags).toBe(0xe28a8235);
    expect([m.domain, m.user, m.workstation]).toEqual(['LABS', 'labuser', '']);
    const dv = new DataView(auth.message.buffer);
    expect(dv.getUint32(28 + 4, true)).toBe(88); // DomainNameBufferOffset: payload right after the MIC
    expect(m.version).toEqual({ major: 10, minor: 0, build: 17763, revision: 15 });
    expect(m.encryptedRandomSessionKey.length).toBe(16);
  });

  it('server timestamp present: LM response is Z(24) and the blob reuses the server time', () => {
    const m = decodeAuthenticate(auth.message);
    expect(toHex(m.lmChallengeResponse)).toBe('00'.repeat(24));
    expect(toHex(m.ntChallengeResponse.subarray(24, 32))).toBe('e034b058283dda01');
  });

  it('the blob carries the server AV pairs with MsvAvFlags MIC_PRESENT OR-ed in', () => {
    const m = decodeAuthenticate(auth.message);
    expect(m.clientTargetInfo?.map((p) => p.id)).toEqual([2, 1, 4, 3, 5, 6, 7, 8, 9, 10]);
    expect(m.clientTargetInfo?.[5].value).toBe('0x00000002 (MIC_PRESENT)');
    const bare = decodeChallenge(SPEC_CHALLENGE);
    const a2 = encodeAuthenticate({ ...authInput(), challenge: bare });
    expect(decodeAuthenticate(a2.message).clientTargetInfo?.map((p) => [p.id, p.value])).toEqual([
      [2, 'Domain'],
      [1, 'Server'],
      [6, '0x00000002 (MIC_PRESENT)'],
    ]);
  });

  it('a server holding the password verifies NTProofStr, recovers the exported key and the MIC', () => {
    const m = decodeAuthenticate(auth.message);
    const key = ntowfv2('LabPass123!', 'labuser', 'LABS');
    const blob = m.ntChallengeResponse.subarray(16);
    const r = computeNtlmv2Response(key, ch.serverChallenge, blob.subarray(16, 24), blob.subarray(8, 16), blob.subarray(28, blob.length - 4));
    expect(toHex(r.ntProofStr)).toBe(toHex(m.ntProofStr!));
    const exported = rc4(r.sessionBaseKey, m.encryptedRandomSessionKey);
    expect(toHex(exported)).toBe(toHex(RANDOM_SESSION_KEY));
    const zeroed = auth.message.slice();
    zeroed.fill(0, 72, 88);
    expect(toHex(computeMic(exported, negotiate, FULL_CHALLENGE, zeroed))).toBe(toHex(m.mic!));
  });

  it('without KEY_EXCH the exported key is the session base key and no key is sent', () => {
    const noKx = decodeChallenge(encodeChallenge({ flags: 0xa28a8235, serverChallenge: SERVER_CHALLENGE, targetInfo: [] }));
    const a = encodeAuthenticate({ ...authInput(), challenge: noKx });
    const m = decodeAuthenticate(a.message);
    expect(m.encryptedRandomSessionKey.length).toBe(0);
    expect(toHex(a.exportedSessionKey)).not.toBe(toHex(RANDOM_SESSION_KEY));
  });

  it('usernames are upper-cased per code unit for NTOWFv2 (no length change)', () => {
    expect(toHex(ntowfv2('x', 'straße', 'D'))).toBe(toHex(ntowfv2('x', 'STRAßE', 'D')));
    expect(toHex(ntowfv2('x', 'user', 'D'))).toBe(toHex(ntowfv2('x', 'USER', 'D')));
    expect(toHex(ntowfv2('x', 'user', 'D'))).not.toBe(toHex(ntowfv2('x', 'user', 'd'))); // domain is not upper-cased
  });

  function authInput() {
    return {
      negotiate,
      challenge: ch,
      user: 'u',
      domain: 'd',
      ntHash: ntowfv1('p'),
      clientChallenge: CLIENT_CHALLENGE,
      randomSessionKey: RANDOM_SESSION_KEY,
      now: new Date(0),
    };
  }
});

describe('NTLM session security (3.4) both directions', () => {
  it('client seals, server unseals; sequence numbers advance; tampering is detected', () => {
    const flags = 0xe28a8235;
    const client = new NtlmSession(flags, RANDOM_SESSION_KEY, 'client');
    const server = new NtlmSession(flags, RANDOM_SESSION_KEY, 'server');
    for (let i = 0; i < 3; i++) {
      const msg = u16(`message ${i}`);
      const { signature, sealed } = client.seal(msg);
      expect(new DataView(signature.buffer).getUint32(12, true)).toBe(i);
      const out = server.unseal(signature, sealed);
      expect(out.signatureValid).toBe(true);
      expect(Buffer.from(out.data).toString('utf16le')).toBe(`message ${i}`);
    }
    const back = server.seal(u16('reply'));
    expect(client.unseal(back.signature, back.sealed).signatureValid).toBe(true);

    const { signature, sealed } = client.seal(u16('tamper'));
    sealed[0] ^= 1;
    expect(server.unseal(signature, sealed).signatureValid).toBe(false);
  });

  it('56-bit and 40-bit sealing keys cut the exported key before hashing (3.4.5.3)', () => {
    const k128 = toHex(sealKey(0x20080000, RANDOM_SESSION_KEY, 'client'));
    const k56 = toHex(sealKey(0x80080000, RANDOM_SESSION_KEY, 'client'));
    const k40 = toHex(sealKey(0x00080000, RANDOM_SESSION_KEY, 'client'));
    expect(k128).toBe('59f600973cc4960a25480a7c196e4c58');
    expect(new Set([k128, k56, k40]).size).toBe(3);
  });

  it('refuses to build session security without extended session security', () => {
    expect(() => new NtlmSession(0x00000235, RANDOM_SESSION_KEY, 'client')).toThrow(RangeError);
  });

  it('FILETIME helpers', () => {
    expect(msToFiletime(Date.UTC(2024, 0, 2, 3, 4, 5, 678))).toBe(0x01da3d2858b034e0n);
    expect(filetimeToIso(0n)).toBe('1601-01-01T00:00:00.000Z');
    expect(filetimeToIso(0xffffffffffffffffn)).toMatch(/^\+0?\d+-/); // far future, still a valid ISO string
  });
});
