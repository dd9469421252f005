/**
 * T.125 MCS connect PDUs (BER) carrying GCC (PER), as RDP uses them (MS-RDPBCGR 2.2.1.3 Client MCS Connect Initial
 * PDU with GCC Conference Create Request, 2.2.1.4 Server MCS Connect Response PDU with GCC Conference Create
 * Response), plus the MCS Disconnect Provider Ultimatum domain PDU (T.125 §11.15, PER) that servers such as xrdp
 * send before closing.
 *
 * ```asn1
 * Connect-Initial ::= [APPLICATION 101] IMPLICIT SEQUENCE {
 *   callingDomainSelector OCTET STRING, calledDomainSelector OCTET STRING, upwardFlag BOOLEAN,
 *   targetParameters DomainParameters, minimumParameters DomainParameters, maximumParameters DomainParameters,
 *   userData OCTET STRING }
 * Connect-Response ::= [APPLICATION 102] IMPLICIT SEQUENCE {
 *   result Result, calledConnectId INTEGER (0..MAX), domainParameters DomainParameters, userData OCTET STRING }
 * DomainParameters ::= SEQUENCE { maxChannelIds, maxUserIds, maxTokenIds, numPriorities, minThroughput, maxHeight,
 *   maxMCSPDUsize, protocolVersion  -- all INTEGER (0..MAX) }
 * ```
 */
import { DecodeError } from './errors.js';
import { nameOf } from './names.js';
import { Reader } from './reader.js';
import {
  berApplication,
  berBoolean,
  concatBytes,
  berEnumerated,
  berInteger,
  berOctetString,
  berSequence,
  readApplicationTag,
  readBoolean,
  readEnumerated,
  readInteger,
  readOctetString,
  readSequence,
} from './ber.js';
import {
  type ClientData,
  type ConferenceCreateResponse,
  type ServerData,
  type ServerDataOptions,
  decodeClientDataBlocks,
  decodeConferenceCreateRequest,
  decodeConferenceCreateResponse,
  decodeServerDataBlocks,
  encodeClientClusterData,
  encodeClientCoreData,
  encodeClientMessageChannelData,
  encodeClientMultitransportData,
  encodeClientNetworkData,
  encodeClientSecurityData,
  encodeConferenceCreateRequest,
  encodeConferenceCreateResponse,
  encodeServerDataBlocks,
  TRANSPORTTYPE_UDPFECR,
  TRANSPORTTYPE_UDP_PREFERRED,
} from './gcc/index.js';
import { TPKT_HEADER_LENGTH, decodeTpkt, decodeX224Data, wrapX224Data } from './tpkt.js';
import type { Coded } from '../observation/vocab.js';

export const MCS_TYPE_CONNECT_INITIAL = 101; // T.125 §7 part 2 [APPLICATION 101]
export const MCS_TYPE_CONNECT_RESPONSE = 102; // [APPLICATION 102]

/** T.125 §7 part 2: Result. */
export const MCS_RESULT_NAMES: Readonly<Record<number, string>> = {
  0: 'rt-successful',
  1: 'rt-domain-merging',
  2: 'rt-domain-not-hierarchical',
  3: 'rt-no-such-channel',
  4: 'rt-no-such-domain',
  5: 'rt-no-such-user',
  6: 'rt-not-admitted',
  7: 'rt-other-user-id',
  8: 'rt-parameters-unacceptable',
  9: 'rt-token-not-available',
  10: 'rt-token-not-possessed',
  11: 'rt-too-many-channels',
  12: 'rt-too-many-tokens',
  13: 'rt-too-many-users',
  14: 'rt-unspecified-failure',
  15: 'rt-user-rejected',
};

/** T.125 §7 part 3: Reason (Disconnect Provider Ultimatum). */
export const MCS_REASON_NAMES: Readonly<Record<number, string>> = {
  0: 'rn-domain-disconnected',
  1: 'rn-provider-initiated',
  2: 'rn-token-purged',
  3: 'rn-user-requested',
  4: 'rn-channel-purged',
};

export interface DomainParameters {
  maxChannelIds: number;
  maxUserIds: number;
  maxTokenIds: number;
  numPriorities: number;
  minThroughput: number;
  maxHeight: number;
  maxMCSPDUsize: number;
  protocolVersion: number;
}

const DOMAIN_PARAMETER_FIELDS: readonly (keyof DomainParameters)[] = [
  'maxChannelIds',
  'maxUserIds',
  'maxTokenIds',
  'numPriorities',
  'minThroughput',
  'maxHeight',
  'maxMCSPDUsize',
  'protocolVersion',
];

// The three parameter sets every Microsoft client sends (seen byte for byte in all captures here; nmap and FreeRDP
// send the same values). protocolVersion 2 = MCS version 2 (T.125 §7).
export const TARGET_PARAMETERS: DomainParameters = {
  maxChannelIds: 34,
  maxUserIds: 2,
  maxTokenIds: 0,
  numPriorities: 1,
  minThroughput: 0,
  maxHeight: 1,
  maxMCSPDUsize: 65535,
  protocolVersion: 2,
};
export const MINIMUM_PARAMETERS: DomainParameters = {
  maxChannelIds: 1,
  maxUserIds: 1,
  maxTokenIds: 1,
  numPriorities: 1,
  minThroughput: 0,
  maxHeight: 1,
  maxMCSPDUsize: 1056,
  protocolVersion: 2,
};
export const MAXIMUM_PARAMETERS: DomainParameters = {
  maxChannelIds: 65535,
  maxUserIds: 64535,
  maxTokenIds: 65535,
  numPriorities: 1,
  minThroughput: 0,
  maxHeight: 1,
  maxMCSPDUsize: 65535,
  protocolVersion: 2,
};

function encodeDomainParameters(p: DomainParameters): Uint8Array {
  return berSequence(...DOMAIN_PARAMETER_FIELDS.map((k) => berInteger(p[k])));
}

function readDomainParameters(r: Reader, field: string): DomainParameters {
  const s = readSequence(r, field);
  const out = {} as DomainParameters;
  for (const k of DOMAIN_PARAMETER_FIELDS) out[k] = readInteger(s, `${field}.${k}`);
  // later MCS versions could extend the sequence; ignore what we do not know
  return out;
}

// ------------------------------------------------------------------------------------------------------------------
// Connect-Initial

export interface ConnectInitialOptions {
  /** RDP_NEG_RSP.selectedProtocol, echoed in CS_CORE.serverSelectedProtocol (0 after a legacy CC). */
  selectedProtocol: number;
  /** CS_SECURITY.encryptionMethods (ENCRYPTION_METHOD_* bits; MUST have at least one for Standard RDP Security). */
  encryptionMethods: number;
  /** Add CS_MCS_MSGCHANNEL + CS_MULTITRANSPORT: only when RDP_NEG_RSP had EXTENDED_CLIENT_DATA_SUPPORTED (2.2.1.3.8). */
  extendedClientData: boolean;
  clientName?: string;
  /** CS_MULTITRANSPORT.flags (default TRANSPORTTYPE_UDPFECR | TRANSPORTTYPE_UDP_PREFERRED = 0x101). */
  multitransportFlags?: number;
  /** Static virtual channel names (CS_NET; default none, channelCount 0). */
  channels?: string[];
  desktop?: { width: number; height: number };
  /** CS_CORE.version (default 0x00080004, what nmap and older mstsc send). */
  clientVersion?: number;
  clientBuild?: number;
  keyboardLayout?: number;
  earlyCapabilityFlags?: number;
}

/**
 * The complete Client MCS Connect Initial PDU (TPKT + X.224 DT + BER + GCC): blocks CS_CORE, CS_CLUSTER,
 * CS_SECURITY, CS_NET, and when allowed CS_MCS_MSGCHANNEL + CS_MULTITRANSPORT (the order mstsc uses).
 */
export function encodeConnectInitial(opts: ConnectInitialOptions): Uint8Array {
  const blocks: Uint8Array[] = [
    encodeClientCoreData({
      serverSelectedProtocol: opts.selectedProtocol,
      clientName: opts.clientName,
      desktopWidth: opts.desktop?.width,
      desktopHeight: opts.desktop?.height,
      version: opts.clientVersion,
      clientBuild: opts.clientBuild,
      keyboardLayout: opts.keyboardLayout,
      earlyCapabilityFlags: opts.earlyCapabilityFlags,
    }),
    encodeClientClusterData(),
    encodeClientSecurityData(opts.encryptionMethods),
    encodeClientNetworkData(opts.channels ?? []),
  ];
  if (opts.extendedClientData) {
    blocks.push(encodeClientMessageChannelData(0));
    blocks.push(encodeClientMultitransportData(opts.multitransportFlags ?? TRANSPORTTYPE_UDPFECR | TRANSPORTTYPE_UDP_PREFERRED));
  }
  return encodeConnectInitialPdu(concatBytes(blocks));
}

/**
 * Connect-Initial around ready-made client data blocks (TPKT + X.224 DT + BER + GCC). Domain selectors are `01`,
 * upwardFlag TRUE and the parameter sets those of every Microsoft client (MS-RDPBCGR 2.2.1.3, 4.1.3).
 */
export function encodeConnectInitialPdu(clientBlocks: Uint8Array): Uint8Array {
  const ber = berApplication(
    MCS_TYPE_CONNECT_INITIAL,
    berOctetString(Uint8Array.of(0x01)), // callingDomainSelector
    berOctetString(Uint8Array.of(0x01)), // calledDomainSelector
    berBoolean(true), // upwardFlag
    encodeDomainParameters(TARGET_PARAMETERS),
    encodeDomainParameters(MINIMUM_PARAMETERS),
    encodeDomainParameters(MAXIMUM_PARAMETERS),
    berOctetString(encodeConferenceCreateRequest(clientBlocks)),
  );
  return wrapX224Data(ber);
}

export interface ConnectInitial {
  callingDomainSelector: Uint8Array;
  calledDomainSelector: Uint8Array;
  upwardFlag: boolean;
  targetParameters: DomainParameters;
  minimumParameters: DomainParameters;
  maximumParameters: DomainParameters;
  conferenceName: string;
  client: ClientData;
}

/** Decode a Client MCS Connect Initial PDU (complete TPKT bytes). */
export function decodeConnectInitial(tpktBytes: Uint8Array): ConnectInitial {
  const r = mcsReader(tpktBytes);
  const ci = readApplicationTag(r, MCS_TYPE_CONNECT_INITIAL, 'Connect-Initial');
  const out = {
    callingDomainSelector: readOctetString(ci, 'Connect-Initial.callingDomainSelector').slice(),
    calledDomainSelector: readOctetString(ci, 'Connect-Initial.calledDomainSelector').slice(),
    upwardFlag: readBoolean(ci, 'Connect-Initial.upwardFlag'),
    targetParameters: readDomainParameters(ci, 'Connect-Initial.targetParameters'),
    minimumParameters: readDomainParameters(ci, 'Connect-Initial.minimumParameters'),
    maximumParameters: readDomainParameters(ci, 'Connect-Initial.maximumParameters'),
  };
  const userData = readOctetString(ci, 'Connect-Initial.userData');
  const gcc = decodeConferenceCreateRequest(userData);
  return { ...out, conferenceName: gcc.conferenceName, client: decodeClientDataBlocks(gcc.clientBlocks) };
}

// ------------------------------------------------------------------------------------------------------------------
// Connect-Response

export interface ConnectResponse {
  result: Coded;
  calledConnectId: number;
  domainParameters: DomainParameters;
  /** GCC ConferenceCreateResponse header facts (absent when userData is empty, e.g. a rejection). */
  gcc?: Omit<ConferenceCreateResponse, 'serverBlocks'>;
  server: ServerData;
}

/**
 * Decode a Server MCS Connect Response PDU (complete TPKT bytes). A result other than rt-successful is returned as
 * data; the server blocks are found by walking the GCC structure to the "McDn" key (no fixed offsets).
 */
export function decodeConnectResponse(tpktBytes: Uint8Array): ConnectResponse {
  const r = mcsReader(tpktBytes);
  const cr = readApplicationTag(r, MCS_TYPE_CONNECT_RESPONSE, 'Connect-Response');
  const rv = readEnumerated(cr, 'Connect-Response.result');
  const result: Coded = { value: rv, name: nameOf(MCS_RESULT_NAMES, rv, 2) };
  const calledConnectId = readInteger(cr, 'Connect-Response.calledConnectId');
  const domainParameters = readDomainParameters(cr, 'Connect-Response.domainParameters');
  const userData = readOctetString(cr, 'Connect-Response.userData');
  if (userData.length === 0) return { result, calledConnectId, domainParameters, server: { unknown: [] } };
  const gcc = decodeConferenceCreateResponse(userData);
  const { serverBlocks, ...gccFacts } = gcc;
  return { result, calledConnectId, domainParameters, gcc: gccFacts, server: decodeServerDataBlocks(serverBlocks) };
}

/** The domain parameters Windows answers with (every Connect-Response in the captures here). */
export const WINDOWS_RESPONSE_PARAMETERS: DomainParameters = { ...TARGET_PARAMETERS, maxUserIds: 3, maxMCSPDUsize: 65528 };

export interface ConnectResponseOptions extends ServerDataOptions {
  result?: number;
  calledConnectId?: number;
  domainParameters?: DomainParameters;
  /** Omit the GCC user data entirely (what a rejecting server may do). */
  noUserData?: boolean;
  /** Ready-made server data blocks (replaces core/security/net/… when given). */
  serverBlocks?: Uint8Array;
  /** Write the connectPDU length as 0x2A like Windows does (see gcc/t124.ts), instead of the true length. */
  windowsLengthQuirk?: boolean;
}

/** Build a Server MCS Connect Response PDU (TPKT included), for fake test peers. */
export function encodeConnectResponse(opts: ConnectResponseOptions): Uint8Array {
  const userData = opts.noUserData
    ? new Uint8Array(0)
    : encodeConferenceCreateResponse(opts.serverBlocks ?? encodeServerDataBlocks(opts), {
        declaredLength: opts.windowsLengthQuirk ? 0x2a : undefined,
      });
  const ber = berApplication(
    MCS_TYPE_CONNECT_RESPONSE,
    berEnumerated(opts.result ?? 0),
    berInteger(opts.calledConnectId ?? 0),
    encodeDomainParameters(opts.domainParameters ?? WINDOWS_RESPONSE_PARAMETERS),
    berOctetString(userData),
  );
  return wrapX224Data(ber);
}

// ------------------------------------------------------------------------------------------------------------------
// Disconnect Provider Ultimatum (T.125 §7 part 3 / §11.15; DomainMCSPDU is ALIGNED PER)

/** DomainMCSPDU CHOICE index of disconnectProviderUltimatum. */
export const MCS_DPUM = 8;

/**
 * True when the bytes are a TPKT + X.224 DT whose MCS PDU is a Disconnect Provider Ultimatum. Never throws.
 * DomainMCSPDU starts with a 6-bit CHOICE index (T.125 §7, 43 alternatives), so the first octet is index << 2.
 */
export function isDisconnectProviderUltimatum(tpktBytes: Uint8Array): boolean {
  return (
    tpktBytes.length >= 9 &&
    tpktBytes[0] === 3 &&
    tpktBytes[4] === 2 &&
    tpktBytes[5] === 0xf0 &&
    tpktBytes[7] >> 2 === MCS_DPUM
  );
}

/**
 * Decode a DPUM: `21 80` = index 8, reason rn-user-requested (3). Reason is ENUMERATED (0..4) → 3 bits: the last
 * two bits of the first octet and the top bit of the second.
 */
export function decodeDisconnectProviderUltimatum(tpktBytes: Uint8Array): { reason: Coded } {
  const r = mcsReader(tpktBytes);
  const b0 = r.u8('DomainMCSPDU.choice');
  if (b0 >> 2 !== MCS_DPUM) r.fail('DomainMCSPDU.choice', `expected disconnectProviderUltimatum (8), got ${b0 >> 2}`);
  const b1 = r.u8('DisconnectProviderUltimatum.reason');
  const reason = ((b0 & 0x03) << 1) | (b1 >> 7);
  return { reason: { value: reason, name: nameOf(MCS_REASON_NAMES, reason, 2) } };
}

/** Build a DPUM (TPKT included), for fake test peers. */
export function encodeDisconnectProviderUltimatum(reason: number): Uint8Array {
  if (!Number.isInteger(reason) || reason < 0 || reason > 7) throw new RangeError(`reason ${reason} out of range`);
  return wrapX224Data(Uint8Array.of((MCS_DPUM << 2) | (reason >> 1), (reason & 1) << 7));
}

// ------------------------------------------------------------------------------------------------------------------

/** A reader over the MCS PDU inside one complete TPKT + X.224 DT. */
function mcsReader(tpktBytes: Uint8Array): Reader {
  const payload = decodeTpkt(tpktBytes);
  const data = decodeX224Data(payload);
  const start = tpktBytes.length - data.length;
  if (start < TPKT_HEADER_LENGTH) throw new DecodeError('mcs', 'MCS PDU', 0, 'internal: bad X.224 offset');
  return new Reader(tpktBytes, 'mcs', start);
}
