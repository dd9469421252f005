/**
 * T.124 GCC Conference Create Request / Response (ALIGNED PER) as RDP uses them, and the RDP client/server data
 * blocks they carry (MS-RDPBCGR 2.2.1.3 Client MCS Connect Initial PDU with GCC Conference Create Request,
 * 2.2.1.4 Server MCS Connect Response PDU with GCC Conference Create Response).
 *
 * ```asn1
 * ConnectData ::= SEQUENCE { t124Identifier Key, connectPDU OCTET STRING }          -- T.124 §8.7
 * Key ::= CHOICE { object OBJECT IDENTIFIER, h221NonStandard H221NonStandardIdentifier }
 * ConnectGCCPDU ::= CHOICE { conferenceCreateRequest ConferenceCreateRequest,
 *                            conferenceCreateResponse ConferenceCreateResponse, ... }
 * ConferenceCreateRequest ::= SEQUENCE { conferenceName ConferenceName, convenerPassword … OPTIONAL,
 *   password … OPTIONAL, lockedConference BOOLEAN, listedConference BOOLEAN, conductibleConference BOOLEAN,
 *   terminationMethod TerminationMethod, conductorPrivileges … OPTIONAL, conductedPrivileges … OPTIONAL,
 *   nonConductedPrivileges … OPTIONAL, conferenceDescription … OPTIONAL, callerIdentifier … OPTIONAL,
 *   userData UserData OPTIONAL, ... }
 * ConferenceCreateResponse ::= SEQUENCE { nodeID UserID, tag INTEGER, result ENUMERATED { success,
 *   userRejected, resourcesNotAvailable, rejectedForSymmetryBreaking, lockedConferenceNotSupported, ... },
 *   userData UserData OPTIONAL, ... }
 * UserData ::= SET OF SEQUENCE { key Key, value OCTET STRING OPTIONAL }
 * ```
 *
 * The data blocks themselves are in client.ts / server.ts.
 *
 * Client data goes under the H.221 key "Duca", server data under "McDn" (MS-RDPBCGR 2.2.1.3 / 2.2.1.4).
 *
 * Quirk seen in every Windows capture here (and FreeRDP ignores it too): the server writes the connectPDU length
 * after the T.124 OID as 0x2A whatever the real size is. The decoder reads that length but does not trust it; the
 * server data is found by walking the structure up to the "McDn" key and its own length.
 */
import { nameOf } from '../names.js';
import { Reader } from '../reader.js';
import { concatBytes } from '../writer.js';
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
} from '../per.js';
import type { Coded } from '../../observation/vocab.js';
import { ascii, latin1 } from './blocks.js';

// T.124 §8.7 ConnectData key and the H.221 keys RDP uses
export const T124_OID = [0, 0, 20, 124, 0, 1] as const;
export const H221_CLIENT_KEY = 'Duca'; // MS-RDPBCGR 2.2.1.3: client-to-server H.221 key
export const H221_SERVER_KEY = 'McDn'; // MS-RDPBCGR 2.2.1.4: server-to-client H.221 key

// ------------------------------------------------------------------------------------------------------------------
// GCC Conference Create Request / Response (T.124 §8.7, ALIGNED PER)

/**
 * ConnectData carrying a ConferenceCreateRequest with conferenceName "1" and one UserData set keyed "Duca" whose
 * value is the client data blocks (MS-RDPBCGR 2.2.1.3.1 ff., FreeRDP gcc_write_conference_create_request shape).
 */
export function encodeConferenceCreateRequest(clientBlocks: Uint8Array): Uint8Array {
  const connectPdu = concatBytes([
    // ConnectGCCPDU: ext 0, CHOICE index 0 (conferenceCreateRequest) in 3 bits; ConferenceCreateRequest ext 0;
    // optional-field bitmap: convenerPassword 0, password 0, conductorPrivileges 0 | conductedPrivileges 0,
    // nonConductedPrivileges 0, conferenceDescription 0, callerIdentifier 0, userData 1; ConferenceName ext 0,
    // text absent 0, 1 pad bit
    Uint8Array.of(0x00, 0x08),
    perNumericString('1', 1), // conferenceName.numeric "1" (SIZE 1..255) → 00 10
    // lockedConference F, listedConference F, conductibleConference F, terminationMethod ext 0 + automatic (0), pad
    Uint8Array.of(0x00),
    perLength(1), // userData: SET OF, 1 element
    // UserData element: value present 1, key CHOICE index 1 (h221NonStandard), pad
    Uint8Array.of(0xc0),
    perOctetString(ascii(H221_CLIENT_KEY), 4), // H221NonStandardIdentifier ::= OCTET STRING (SIZE (4..255))
    perOctetString(clientBlocks, 0),
  ]);
  return concatBytes([Uint8Array.of(0x00) /* Key CHOICE index 0: object */, perObjectIdentifier(T124_OID), perLength(connectPdu.length), connectPdu]);
}

export interface ConferenceCreateRequest {
  conferenceName: string;
  /** H.221 key of the user data set that carried the client blocks (must be "Duca"). */
  h221Key: string;
  clientBlocks: Uint8Array;
}

export function decodeConferenceCreateRequest(bytes: Uint8Array): ConferenceCreateRequest {
  const r = new Reader(bytes, 'gcc');
  readT124Header(r);
  const b0 = r.u8('ConnectGCCPDU.choice');
  if (b0 & 0x80) r.fail('ConnectGCCPDU.choice', 'extension alternative not supported');
  const index = (b0 >> 4) & 0x07;
  if (index !== 0) r.fail('ConnectGCCPDU.choice', `expected conferenceCreateRequest (0), got alternative ${index}`);
  if (b0 & 0x08) r.fail('ConferenceCreateRequest', 'extension additions not supported');
  const b1 = r.u8('ConferenceCreateRequest.optionals');
  // only userData (bit 3 of the second octet) is used by RDP; convenerPassword/password/privileges/description/
  // callerIdentifier would need decoders nobody needs
  if (b0 & 0x07 || b1 & 0xf0) r.fail('ConferenceCreateRequest.optionals', 'optional fields other than userData are not supported');
  if (b1 & 0x04) r.fail('ConferenceName', 'extension additions not supported');
  if (b1 & 0x02) r.fail('ConferenceName.text', 'text conference names are not supported');
  const hasUserData = (b1 & 0x08) !== 0;
  const conferenceName = readPerNumericString(r, 1, 'ConferenceCreateRequest.conferenceName');
  r.skip(1, 'ConferenceCreateRequest.flags'); // locked/listed/conductible/terminationMethod bits
  if (!hasUserData) r.fail('ConferenceCreateRequest.userData', 'absent: no client data');
  const sets = readUserDataSets(r);
  const found = sets.find((s) => s.key === H221_CLIENT_KEY);
  if (!found) return r.fail('ConferenceCreateRequest.userData', `no H.221 key "${H221_CLIENT_KEY}" (keys: ${sets.map((s) => s.key).join(', ') || 'none'})`);
  return { conferenceName, h221Key: found.key, clientBlocks: found.value };
}

export const CONFERENCE_RESULT_NAMES: Readonly<Record<number, string>> = {
  0: 'success',
  1: 'userRejected',
  2: 'resourcesNotAvailable',
  3: 'rejectedForSymmetryBreaking',
  4: 'lockedConferenceNotSupported',
};

export interface ConferenceCreateResponse {
  nodeId: number;
  tag: number;
  result: Coded;
  /** Server data blocks under the "McDn" key; empty when the response carries no userData. */
  serverBlocks: Uint8Array;
  /** The connectPDU length as written (Windows always writes 0x2A, see file comment). */
  declaredLength: number;
}

/** ConnectData carrying a ConferenceCreateResponse keyed "McDn" (as Windows writes it, for fake peers). */
export function encodeConferenceCreateResponse(
  serverBlocks: Uint8Array,
  opts: { nodeId?: number; tag?: number; result?: number; declaredLength?: number } = {},
): Uint8Array {
  const connectPdu = concatBytes([
    // ConnectGCCPDU: ext 0, CHOICE index 1 (conferenceCreateResponse); ConferenceCreateResponse ext 0, userData 1, pad
    Uint8Array.of(0x14),
    perInteger16(opts.nodeId ?? 0x79f3, 1001), // nodeID UserID ::= DynamicChannelID (1001..65535)
    perInteger(opts.tag ?? 1),
    Uint8Array.of(((opts.result ?? 0) & 0x07) << 4), // result: ext 0 + 3-bit index, pad
    perLength(1),
    Uint8Array.of(0xc0),
    perOctetString(ascii(H221_SERVER_KEY), 4),
    perOctetString(serverBlocks, 0),
  ]);
  return concatBytes([Uint8Array.of(0x00), perObjectIdentifier(T124_OID), perLength(opts.declaredLength ?? connectPdu.length), connectPdu]);
}

export function decodeConferenceCreateResponse(bytes: Uint8Array): ConferenceCreateResponse {
  const r = new Reader(bytes, 'gcc');
  const declaredLength = readT124Header(r);
  const b0 = r.u8('ConnectGCCPDU.choice');
  if (b0 & 0x80) r.fail('ConnectGCCPDU.choice', 'extension alternative not supported');
  const index = (b0 >> 4) & 0x07;
  if (index !== 1) r.fail('ConnectGCCPDU.choice', `expected conferenceCreateResponse (1), got alternative ${index}`);
  if (b0 & 0x08) r.fail('ConferenceCreateResponse', 'extension additions not supported');
  const hasUserData = (b0 & 0x04) !== 0;
  const nodeId = readPerInteger16(r, 1001, 'ConferenceCreateResponse.nodeID');
  const tag = readPerInteger(r, 'ConferenceCreateResponse.tag');
  const rb = r.u8('ConferenceCreateResponse.result');
  // ENUMERATED with an extension marker: 1 ext bit + 3-bit index, then padding to the SET OF length
  const rv = rb & 0x80 ? 0x80 | (rb & 0x7f) : (rb >> 4) & 0x07;
  const result: Coded = { value: rv, name: nameOf(CONFERENCE_RESULT_NAMES, rv, 2) };
  if (!hasUserData) return { nodeId, tag, result, serverBlocks: new Uint8Array(0), declaredLength };
  const sets = readUserDataSets(r);
  const found = sets.find((s) => s.key === H221_SERVER_KEY);
  if (!found) return r.fail('ConferenceCreateResponse.userData', `no H.221 key "${H221_SERVER_KEY}" (keys: ${sets.map((s) => s.key).join(', ') || 'none'})`);
  return { nodeId, tag, result, serverBlocks: found.value, declaredLength };
}

/** ConnectData header: Key CHOICE object + T.124 OID, then the connectPDU length (returned, not trusted). */
function readT124Header(r: Reader): number {
  const key = r.u8('ConnectData.t124Identifier');
  if (key !== 0x00) r.fail('ConnectData.t124Identifier', `expected Key CHOICE object (0x00), got 0x${key.toString(16)}`);
  const oid = readPerObjectIdentifier(r, 'ConnectData.t124Identifier.object');
  if (oid.join('.') !== T124_OID.join('.')) r.fail('ConnectData.t124Identifier.object', `expected T.124 OID 0.0.20.124.0.1, got ${oid.join('.')}`);
  return readPerLength(r, 'ConnectData.connectPDU');
}

function readUserDataSets(r: Reader): { key: string; value: Uint8Array }[] {
  const count = readPerLength(r, 'UserData.count');
  if (count === 0) r.fail('UserData.count', 'empty UserData set');
  const sets: { key: string; value: Uint8Array }[] = [];
  for (let i = 0; i < count; i++) {
    const f = `UserData[${i}]`;
    const b = r.u8(`${f}.preamble`);
    const hasValue = (b & 0x80) !== 0;
    let key: string;
    if (b & 0x40) key = latin1(readPerOctetString(r, 4, `${f}.key.h221NonStandard`));
    else key = readPerObjectIdentifier(r, `${f}.key.object`).join('.');
    const value = hasValue ? readPerOctetString(r, 0, `${f}.value`) : new Uint8Array(0);
    sets.push({ key, value });
  }
  return sets;
}
