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
 * Client data goes under the H.221 key "Duca", server data under "McDn" (MS-RDPBCGR 2.2.1.3 / 2.2.1.4).
 *
 * Quirk seen in every Windows capture here (and FreeRDP ignores it too): the server writes the connectPDU length
 * after the T.124 OID as 0x2A whatever the real size is. The decoder reads that length but does not trust it; the
 * server data is found by walking the structure up to the "McDn" key and its own length.
 */
import forge from 'node-forge';
import { DecodeError } from './errors.js';
import { flagNames, nameOf } from './names.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import { concatBytes } from './ber.js';
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
} from './per.js';
import type { Coded, Flags, ServerCertificateInfo } from '../observation/types.js';

// ------------------------------------------------------------------------------------------------------------------
// Constants

/** T.124 version 1 object identifier {itu-t(0) recommendation(0) t(20) t124(124) version(0) 1} (MS-RDPBCGR 2.2.1.3). */
export const T124_OID = [0, 0, 20, 124, 0, 1] as const;
export const H221_CLIENT_KEY = 'Duca'; // MS-RDPBCGR 2.2.1.3: client-to-server H.221 key
export const H221_SERVER_KEY = 'McDn'; // MS-RDPBCGR 2.2.1.4: server-to-client H.221 key

// TS_UD_HEADER types (MS-RDPBCGR 2.2.1.3.1)
export const CS_CORE = 0xc001;
export const CS_SECURITY = 0xc002;
export const CS_NET = 0xc003;
export const CS_CLUSTER = 0xc004;
export const CS_MONITOR = 0xc005;
export const CS_MCS_MSGCHANNEL = 0xc006;
export const CS_MONITOR_EX = 0xc008;
export const CS_UNUSED1 = 0xc00c;
export const CS_MULTITRANSPORT = 0xc00a;
export const SC_CORE = 0x0c01;
export const SC_SECURITY = 0x0c02;
export const SC_NET = 0x0c03;
export const SC_MCS_MSGCHANNEL = 0x0c04;
export const SC_MULTITRANSPORT = 0x0c08;
export const BLOCK_TYPE_NAMES: Readonly<Record<number, string>> = {
  [CS_CORE]: 'CS_CORE',
  [CS_SECURITY]: 'CS_SECURITY',
  [CS_NET]: 'CS_NET',
  [CS_CLUSTER]: 'CS_CLUSTER',
  [CS_MONITOR]: 'CS_MONITOR',
  [CS_MCS_MSGCHANNEL]: 'CS_MCS_MSGCHANNEL',
  [CS_MONITOR_EX]: 'CS_MONITOR_EX',
  [CS_UNUSED1]: 'CS_UNUSED1',
  [CS_MULTITRANSPORT]: 'CS_MULTITRANSPORT',
  [SC_CORE]: 'SC_CORE',
  [SC_SECURITY]: 'SC_SECURITY',
  [SC_NET]: 'SC_NET',
  [SC_MCS_MSGCHANNEL]: 'SC_MCS_MSGCHANNEL',
  [SC_MULTITRANSPORT]: 'SC_MULTITRANSPORT',
};

/** Client/server core version (MS-RDPBCGR 2.2.1.3.2 / 2.2.1.4.2). */
export const RDP_VERSION_NAMES: Readonly<Record<number, string>> = {
  0x00080001: 'RDP 4.0',
  0x00080004: 'RDP 5.0–8.1',
  0x00080005: 'RDP 10.0',
  0x00080006: 'RDP 10.1',
  0x00080007: 'RDP 10.2',
  0x00080008: 'RDP 10.3',
  0x00080009: 'RDP 10.4',
  0x0008000a: 'RDP 10.5',
  0x0008000b: 'RDP 10.6',
  0x0008000c: 'RDP 10.7',
  0x0008000d: 'RDP 10.8',
  0x0008000e: 'RDP 10.9',
  0x0008000f: 'RDP 10.10',
  0x00080010: 'RDP 10.11',
  0x00080011: 'RDP 10.12',
};
export const RDP_VERSION_4 = 0x00080001;
export const RDP_VERSION_5_PLUS = 0x00080004;

export function rdpVersion(value: number): Coded {
  return { value, name: nameOf(RDP_VERSION_NAMES, value) };
}

// CS_CORE fields (MS-RDPBCGR 2.2.1.3.2)
export const RNS_UD_COLOR_4BPP = 0xca00;
export const RNS_UD_COLOR_8BPP = 0xca01;
export const RNS_UD_SAS_DEL = 0xaa03;
export const HIGH_COLOR_16BPP = 0x0010;
export const HIGH_COLOR_24BPP = 0x0018;
export const RNS_UD_24BPP_SUPPORT = 0x0001;
export const RNS_UD_16BPP_SUPPORT = 0x0002;
export const RNS_UD_15BPP_SUPPORT = 0x0004;
export const RNS_UD_32BPP_SUPPORT = 0x0008;
export const RNS_UD_CS_SUPPORT_ERRINFO_PDU = 0x0001;
export const RNS_UD_CS_VALID_CONNECTION_TYPE = 0x0020;
export const CLIENT_EARLY_CAPABILITY_NAMES: Readonly<Record<number, string>> = {
  0x0001: 'RNS_UD_CS_SUPPORT_ERRINFO_PDU',
  0x0002: 'RNS_UD_CS_WANT_32BPP_SESSION',
  0x0004: 'RNS_UD_CS_SUPPORT_STATUSINFO_PDU',
  0x0008: 'RNS_UD_CS_STRONG_ASYMMETRIC_KEYS',
  0x0010: 'RNS_UD_CS_RELATIVE_MOUSE_INPUT',
  0x0020: 'RNS_UD_CS_VALID_CONNECTION_TYPE',
  0x0040: 'RNS_UD_CS_SUPPORT_MONITOR_LAYOUT_PDU',
  0x0080: 'RNS_UD_CS_SUPPORT_NETCHAR_AUTODETECT',
  0x0100: 'RNS_UD_CS_SUPPORT_DYNVC_GFX_PROTOCOL',
  0x0200: 'RNS_UD_CS_SUPPORT_DYNAMIC_TIME_ZONE',
  0x0400: 'RNS_UD_CS_SUPPORT_HEARTBEAT_PDU',
  0x0800: 'RNS_UD_CS_SUPPORT_SKIP_CHANNELJOIN',
};
export const CONNECTION_TYPE_LAN = 0x06;
export const CONNECTION_TYPE_NAMES: Readonly<Record<number, string>> = {
  0x01: 'MODEM',
  0x02: 'BROADBAND_LOW',
  0x03: 'SATELLITE',
  0x04: 'BROADBAND_HIGH',
  0x05: 'WAN',
  0x06: 'LAN',
  0x07: 'AUTODETECT',
};

// Encryption methods (MS-RDPBCGR 2.2.1.3.3 flags, 2.2.1.4.3 selected value)
export const ENCRYPTION_METHOD_NONE = 0x00000000;
export const ENCRYPTION_METHOD_40BIT = 0x00000001;
export const ENCRYPTION_METHOD_128BIT = 0x00000002;
export const ENCRYPTION_METHOD_56BIT = 0x00000008;
export const ENCRYPTION_METHOD_FIPS = 0x00000010;
export const ENCRYPTION_METHOD_NAMES: Readonly<Record<number, string>> = {
  [ENCRYPTION_METHOD_NONE]: 'NONE',
  [ENCRYPTION_METHOD_40BIT]: '40BIT',
  [ENCRYPTION_METHOD_128BIT]: '128BIT',
  [ENCRYPTION_METHOD_56BIT]: '56BIT',
  [ENCRYPTION_METHOD_FIPS]: 'FIPS',
};
export const ENCRYPTION_LEVEL_NAMES: Readonly<Record<number, string>> = {
  0: 'NONE',
  1: 'LOW',
  2: 'CLIENT_COMPATIBLE',
  3: 'HIGH',
  4: 'FIPS',
};
export function encryptionMethodFlags(value: number): Flags {
  return { value, names: flagNames(ENCRYPTION_METHOD_NAMES, value) };
}

// CS_NET channel options (MS-RDPBCGR 2.2.1.3.4.1)
export const CHANNEL_OPTION_INITIALIZED = 0x80000000;
export const CHANNEL_OPTION_NAMES: Readonly<Record<number, string>> = {
  0x80000000: 'INITIALIZED',
  0x40000000: 'ENCRYPT_RDP',
  0x20000000: 'ENCRYPT_SC',
  0x10000000: 'ENCRYPT_CS',
  0x08000000: 'PRI_HIGH',
  0x04000000: 'PRI_MED',
  0x02000000: 'PRI_LOW',
  0x00800000: 'COMPRESS_RDP',
  0x00400000: 'COMPRESS',
  0x00200000: 'SHOW_PROTOCOL',
  0x00100000: 'REMOTE_CONTROL_PERSISTENT',
};
/** MS-RDPBCGR 2.2.1.3.4: at most 31 static channels. */
export const CHANNEL_MAX_COUNT = 31;

// CS_CLUSTER flags (MS-RDPBCGR 2.2.1.3.5)
export const REDIRECTION_SUPPORTED = 0x00000001;
export const REDIRECTED_SESSIONID_FIELD_VALID = 0x00000002;
export const REDIRECTED_SMARTCARD = 0x00000040;
export const REDIRECTION_VERSION4 = 0x03; // ServerSessionRedirectionVersionMask (bits 2-5) value

// SC_CORE earlyCapabilityFlags (MS-RDPBCGR 2.2.1.4.2)
export const SERVER_EARLY_CAPABILITY_NAMES: Readonly<Record<number, string>> = {
  0x01: 'RNS_UD_SC_EDGE_ACTIONS_SUPPORTED_V1',
  0x02: 'RNS_UD_SC_DYNAMIC_DST_SUPPORTED',
  0x04: 'RNS_UD_SC_EDGE_ACTIONS_SUPPORTED_V2',
  0x08: 'RNS_UD_SC_SKIP_CHANNELJOIN_SUPPORTED',
};

// Multitransport flags (MS-RDPBCGR 2.2.1.3.8 client / 2.2.1.4.6 server)
export const TRANSPORTTYPE_UDPFECR = 0x01;
export const TRANSPORTTYPE_UDPFECL = 0x04;
export const TRANSPORTTYPE_UDP_PREFERRED = 0x100;
export const SOFTSYNC_TCP_TO_UDP = 0x200;
export const MULTITRANSPORT_FLAG_NAMES: Readonly<Record<number, string>> = {
  [TRANSPORTTYPE_UDPFECR]: 'TRANSPORTTYPE_UDPFECR',
  [TRANSPORTTYPE_UDPFECL]: 'TRANSPORTTYPE_UDPFECL',
  [TRANSPORTTYPE_UDP_PREFERRED]: 'TRANSPORTTYPE_UDP_PREFERRED',
  [SOFTSYNC_TCP_TO_UDP]: 'SOFTSYNC_TCP_TO_UDP',
};
export function multitransportFlags(value: number): Flags {
  return { value, names: flagNames(MULTITRANSPORT_FLAG_NAMES, value) };
}

// Server certificate (MS-RDPBCGR 2.2.1.4.3.1)
export const CERT_CHAIN_VERSION_1 = 0x00000001; // proprietary
export const CERT_CHAIN_VERSION_2 = 0x00000002; // X.509 chain
export const CERT_TEMPORARY = 0x80000000; // t bit: the certificate is temporary (not permanent)
export const SIGNATURE_ALG_RSA = 0x00000001;
export const KEY_EXCHANGE_ALG_RSA = 0x00000001;
export const BB_RSA_KEY_BLOB = 0x0006;
export const BB_RSA_SIGNATURE_BLOB = 0x0008;
export const RSA1_MAGIC = 0x31415352; // 'RSA1' (2.2.1.4.3.1.1.1)
/** MS-RDPELE 2.2.1.4.2: a sane cap on the number of certificates in a chain (real chains have 2). */
const MAX_CHAIN = 16;

// ------------------------------------------------------------------------------------------------------------------
// Types

export interface UnknownBlock {
  type: number;
  name: string;
  length: number;
}

export interface ClientCoreData {
  version: Coded;
  desktopWidth: number;
  desktopHeight: number;
  colorDepth: number;
  sasSequence: number;
  keyboardLayout: number;
  clientBuild: number;
  clientName: string;
  keyboardType: number;
  keyboardSubType: number;
  keyboardFunctionKey: number;
  imeFileName: string;
  postBeta2ColorDepth?: number;
  clientProductId?: number;
  serialNumber?: number;
  highColorDepth?: number;
  supportedColorDepths?: number;
  earlyCapabilityFlags?: Flags;
  clientDigProductId?: string;
  connectionType?: number;
  serverSelectedProtocol?: number;
  desktopPhysicalWidth?: number;
  desktopPhysicalHeight?: number;
  desktopOrientation?: number;
  desktopScaleFactor?: number;
  deviceScaleFactor?: number;
  /** TS_UD_HEADER.length of the block (216 for mstsc 6+, 212 for XP, 234 for FreeRDP …). */
  blockLength: number;
}

export interface ChannelDef {
  name: string;
  options: number;
}

export interface ClientData {
  core?: ClientCoreData;
  security?: { encryptionMethods: Flags; extEncryptionMethods: number };
  net?: { channels: ChannelDef[] };
  cluster?: { flags: number; redirectionVersion: number; redirectedSessionId: number };
  msgChannel?: { flags: number };
  multitransport?: { flags: Flags };
  unknown: UnknownBlock[];
}

export type ServerCertificate =
  | {
      type: 'proprietary';
      /** dwVersion with the t bit removed (1). */
      version: number;
      temporary: boolean;
      sigAlgId: number;
      keyAlgId: number;
      keyBits: number;
      publicExponent: number;
      modulus: Uint8Array;
      signatureLength: number;
    }
  | {
      type: 'x509';
      version: number;
      temporary: boolean;
      chainLength: number;
      /** Subject of each certificate in chain order (the last one is the server's, MS-RDPELE 2.2.1.4.2). */
      subjects: string[];
      issuers: string[];
      /** From the last (leaf) certificate. */
      keyBits?: number;
      publicExponent?: number;
      certLengths: number[];
      /** Set when node-forge could not parse a certificate; what could be read is kept. */
      error?: string;
    }
  | {
      /** dwVersion is unknown, or the certificate bytes are malformed (then `error` says where). */
      type: 'unreadable';
      version: number;
      /** 'proprietary' | 'x509' | 'unknown(0x…)': what dwVersion claimed. */
      versionName: string;
      temporary: boolean;
      length: number;
      error?: string;
    };

export interface ServerCoreData {
  version: Coded;
  /** Only when present (absent in RDP 4/5.0-era SC_CORE, e.g. the suricata capture). */
  clientRequestedProtocols?: number;
  earlyCapabilityFlags?: Flags;
  blockLength: number;
}

export interface ServerSecurityData {
  encryptionMethod: Coded;
  encryptionLevel: Coded;
  /** serverRandomLen as sent (absent when the optional length fields are absent, i.e. Enhanced security). */
  serverRandomLength?: number;
  serverRandom?: Uint8Array;
  /** JSON-friendly summary for the Observation (McsObservation.serverCertificate). */
  certificate?: ServerCertificateInfo;
  /** Everything decoded from the certificate (modulus, issuers, temporary flag, parse errors). */
  certificateDetail?: ServerCertificate;
  /** Raw serverCertificate bytes (absent when serverCertLen is 0 or missing). */
  certificateBytes?: Uint8Array;
}

export interface ServerData {
  core?: ServerCoreData;
  security?: ServerSecurityData;
  net?: { ioChannel: number; channelIds: number[] };
  msgChannel?: { channelId: number };
  multitransport?: { flags: Flags };
  unknown: UnknownBlock[];
}

// ------------------------------------------------------------------------------------------------------------------
// Client data blocks: encode

export interface ClientCoreOptions {
  version?: number;
  desktopWidth?: number;
  desktopHeight?: number;
  keyboardLayout?: number;
  clientBuild?: number;
  /** Up to 15 UTF-16 code units; longer names are truncated as mstsc does (the field is 32 bytes incl. NUL). */
  clientName?: string;
  earlyCapabilityFlags?: number;
  connectionType?: number;
  serverSelectedProtocol: number;
  highColorDepth?: number;
  supportedColorDepths?: number;
}

/** TS_UD_CS_CORE up to and including serverSelectedProtocol (216 bytes, like mstsc 6+ and nmap). */
export function encodeClientCoreData(o: ClientCoreOptions): Uint8Array {
  const w = blockWriter(CS_CORE);
  w.u32le(o.version ?? RDP_VERSION_5_PLUS);
  w.u16le(o.desktopWidth ?? 1024).u16le(o.desktopHeight ?? 768);
  w.u16le(RNS_UD_COLOR_8BPP); // colorDepth: ignored when postBeta2ColorDepth/highColorDepth are present
  w.u16le(RNS_UD_SAS_DEL); // SASSequence
  w.u32le(o.keyboardLayout ?? 0x00000409);
  w.u32le(o.clientBuild ?? 7601);
  w.bytes(utf16Field(o.clientName ?? 'rdprobe', 32));
  w.u32le(4).u32le(0).u32le(12); // keyboardType IBM enhanced (101/102 keys), subType 0, 12 function keys
  w.zeros(64); // imeFileName
  w.u16le(RNS_UD_COLOR_8BPP); // postBeta2ColorDepth
  w.u16le(1); // clientProductId: MUST be 1
  w.u32le(0); // serialNumber
  w.u16le(o.highColorDepth ?? HIGH_COLOR_16BPP);
  w.u16le(o.supportedColorDepths ?? (RNS_UD_24BPP_SUPPORT | RNS_UD_16BPP_SUPPORT | RNS_UD_15BPP_SUPPORT));
  w.u16le(o.earlyCapabilityFlags ?? RNS_UD_CS_SUPPORT_ERRINFO_PDU | RNS_UD_CS_VALID_CONNECTION_TYPE);
  w.zeros(64); // clientDigProductId
  w.u8(o.connectionType ?? CONNECTION_TYPE_LAN);
  w.u8(0); // pad1octet
  w.u32le(o.serverSelectedProtocol >>> 0);
  return finishBlock(w);
}

export function encodeClientSecurityData(encryptionMethods: number, extEncryptionMethods = 0): Uint8Array {
  return finishBlock(blockWriter(CS_SECURITY).u32le(encryptionMethods >>> 0).u32le(extEncryptionMethods >>> 0));
}

export function encodeClientNetworkData(channels: readonly (string | ChannelDef)[]): Uint8Array {
  if (channels.length > CHANNEL_MAX_COUNT) throw new RangeError(`at most ${CHANNEL_MAX_COUNT} static channels, got ${channels.length}`);
  const w = blockWriter(CS_NET).u32le(channels.length);
  for (const c of channels) {
    const def = typeof c === 'string' ? { name: c, options: CHANNEL_OPTION_INITIALIZED } : c;
    // 2.2.1.3.4.1: 8-byte ANSI name, NUL-terminated, so at most 7 characters
    if (!/^[\x21-\x7e]{1,7}$/.test(def.name)) throw new TypeError(`invalid static channel name ${JSON.stringify(def.name)} (1..7 ASCII chars)`);
    const name = new Uint8Array(8);
    for (let i = 0; i < def.name.length; i++) name[i] = def.name.charCodeAt(i);
    w.bytes(name).u32le(def.options >>> 0);
  }
  return finishBlock(w);
}

export function encodeClientClusterData(flags = REDIRECTION_SUPPORTED | (REDIRECTION_VERSION4 << 2), redirectedSessionId = 0): Uint8Array {
  return finishBlock(blockWriter(CS_CLUSTER).u32le(flags >>> 0).u32le(redirectedSessionId >>> 0));
}

/** TS_UD_CS_MCS_MSGCHANNEL (2.2.1.3.7): flags unused, 0. Extended Client Data Block. */
export function encodeClientMessageChannelData(flags = 0): Uint8Array {
  return finishBlock(blockWriter(CS_MCS_MSGCHANNEL).u32le(flags >>> 0));
}

/** TS_UD_CS_MULTITRANSPORT (2.2.1.3.8). Extended Client Data Block. */
export function encodeClientMultitransportData(flags: number): Uint8Array {
  return finishBlock(blockWriter(CS_MULTITRANSPORT).u32le(flags >>> 0));
}

// ------------------------------------------------------------------------------------------------------------------
// Client data blocks: decode

/** Walk TS_UD_HEADER-framed client blocks (MS-RDPBCGR 2.2.1.3.1). Unknown types are kept as {type, length}. */
export function decodeClientDataBlocks(bytes: Uint8Array): ClientData {
  const out: ClientData = { unknown: [] };
  for (const { type, length, body } of walkBlocks(bytes, 'client data')) {
    const name = BLOCK_TYPE_NAMES[type] ?? nameOf({}, type, 4);
    const seen =
      (type === CS_CORE && out.core) ||
      (type === CS_SECURITY && out.security) ||
      (type === CS_NET && out.net) ||
      (type === CS_CLUSTER && out.cluster) ||
      (type === CS_MCS_MSGCHANNEL && out.msgChannel) ||
      (type === CS_MULTITRANSPORT && out.multitransport);
    if (seen) {
      out.unknown.push({ type, name: `${name} (duplicate)`, length });
      continue;
    }
    switch (type) {
      case CS_CORE:
        out.core = decodeClientCore(body, length);
        break;
      case CS_SECURITY:
        out.security = {
          encryptionMethods: encryptionMethodFlags(body.u32le('CS_SECURITY.encryptionMethods')),
          // 2.2.1.3.3: some old clients send only encryptionMethods
          extEncryptionMethods: body.remaining >= 4 ? body.u32le('CS_SECURITY.extEncryptionMethods') : 0,
        };
        break;
      case CS_NET: {
        const count = body.u32le('CS_NET.channelCount');
        if (count * 12 > body.remaining) body.fail('CS_NET.channelCount', `${count} channels need ${count * 12} bytes, block has ${body.remaining}`);
        const channels: ChannelDef[] = [];
        for (let i = 0; i < count; i++) {
          const name = cString(body.bytes(8, `CS_NET.channelDefArray[${i}].name`));
          channels.push({ name, options: body.u32le(`CS_NET.channelDefArray[${i}].options`) });
        }
        out.net = { channels };
        break;
      }
      case CS_CLUSTER: {
        const flags = body.u32le('CS_CLUSTER.flags');
        out.cluster = { flags, redirectionVersion: ((flags >>> 2) & 0x0f) + 1, redirectedSessionId: body.u32le('CS_CLUSTER.redirectedSessionID') };
        break;
      }
      case CS_MCS_MSGCHANNEL:
        out.msgChannel = { flags: body.u32le('CS_MCS_MSGCHANNEL.flags') };
        break;
      case CS_MULTITRANSPORT:
        out.multitransport = { flags: multitransportFlags(body.u32le('CS_MULTITRANSPORT.flags')) };
        break;
      default:
        out.unknown.push({ type, name, length });
    }
  }
  return out;
}

function decodeClientCore(r: Reader, blockLength: number): ClientCoreData {
  const f = (n: string) => `CS_CORE.${n}`;
  const core: ClientCoreData = {
    version: rdpVersion(r.u32le(f('version'))),
    desktopWidth: r.u16le(f('desktopWidth')),
    desktopHeight: r.u16le(f('desktopHeight')),
    colorDepth: r.u16le(f('colorDepth')),
    sasSequence: r.u16le(f('SASSequence')),
    keyboardLayout: r.u32le(f('keyboardLayout')),
    clientBuild: r.u32le(f('clientBuild')),
    clientName: utf16String(r.bytes(32, f('clientName'))),
    keyboardType: r.u32le(f('keyboardType')),
    keyboardSubType: r.u32le(f('keyboardSubType')),
    keyboardFunctionKey: r.u32le(f('keyboardFunctionKey')),
    imeFileName: utf16String(r.bytes(64, f('imeFileName'))),
    blockLength,
  };
  // 2.2.1.3.2: every later field is optional, but one may only be present if all before it are. Older clients stop
  // early (XP: after clientDigProductId/connectionType, 212 bytes); stop at the first field that does not fit.
  if (r.remaining < 2) return core;
  core.postBeta2ColorDepth = r.u16le(f('postBeta2ColorDepth'));
  if (r.remaining < 2) return core;
  core.clientProductId = r.u16le(f('clientProductId'));
  if (r.remaining < 4) return core;
  core.serialNumber = r.u32le(f('serialNumber'));
  if (r.remaining < 2) return core;
  core.highColorDepth = r.u16le(f('highColorDepth'));
  if (r.remaining < 2) return core;
  core.supportedColorDepths = r.u16le(f('supportedColorDepths'));
  if (r.remaining < 2) return core;
  core.earlyCapabilityFlags = { ...flagsOf(CLIENT_EARLY_CAPABILITY_NAMES, r.u16le(f('earlyCapabilityFlags'))) };
  if (r.remaining < 64) return core;
  core.clientDigProductId = utf16String(r.bytes(64, f('clientDigProductId')));
  if (r.remaining < 1) return core;
  core.connectionType = r.u8(f('connectionType'));
  if (r.remaining < 1) return core;
  r.skip(1, f('pad1octet'));
  if (r.remaining < 4) return core;
  core.serverSelectedProtocol = r.u32le(f('serverSelectedProtocol'));
  if (r.remaining < 4) return core;
  core.desktopPhysicalWidth = r.u32le(f('desktopPhysicalWidth'));
  if (r.remaining < 4) return core;
  core.desktopPhysicalHeight = r.u32le(f('desktopPhysicalHeight'));
  if (r.remaining < 2) return core;
  core.desktopOrientation = r.u16le(f('desktopOrientation'));
  if (r.remaining < 4) return core;
  core.desktopScaleFactor = r.u32le(f('desktopScaleFactor'));
  if (r.remaining < 4) return core;
  core.deviceScaleFactor = r.u32le(f('deviceScaleFactor'));
  return core;
}

// ------------------------------------------------------------------------------------------------------------------
// Server data blocks: decode

/** Walk TS_UD_HEADER-framed server blocks (MS-RDPBCGR 2.2.1.4). Unknown types are kept as {type, length}. */
export function decodeServerDataBlocks(bytes: Uint8Array): ServerData {
  const out: ServerData = { unknown: [] };
  for (const { type, length, body } of walkBlocks(bytes, 'server data')) {
    const name = BLOCK_TYPE_NAMES[type] ?? nameOf({}, type, 4);
    const seen =
      (type === SC_CORE && out.core) ||
      (type === SC_SECURITY && out.security) ||
      (type === SC_NET && out.net) ||
      (type === SC_MCS_MSGCHANNEL && out.msgChannel) ||
      (type === SC_MULTITRANSPORT && out.multitransport);
    if (seen) {
      out.unknown.push({ type, name: `${name} (duplicate)`, length });
      continue;
    }
    switch (type) {
      case SC_CORE: {
        // 2.2.1.4.2: clientRequestedProtocols and earlyCapabilityFlags are optional (RDP 5.x servers send 8 bytes)
        const core: ServerCoreData = { version: rdpVersion(body.u32le('SC_CORE.version')), blockLength: length };
        if (body.remaining >= 4) core.clientRequestedProtocols = body.u32le('SC_CORE.clientRequestedProtocols');
        if (body.remaining >= 4) core.earlyCapabilityFlags = flagsOf(SERVER_EARLY_CAPABILITY_NAMES, body.u32le('SC_CORE.earlyCapabilityFlags'));
        out.core = core;
        break;
      }
      case SC_SECURITY:
        out.security = decodeServerSecurity(body);
        break;
      case SC_NET: {
        const ioChannel = body.u16le('SC_NET.MCSChannelId');
        const count = body.u16le('SC_NET.channelCount');
        if (count * 2 > body.remaining) body.fail('SC_NET.channelCount', `${count} channel ids need ${count * 2} bytes, block has ${body.remaining}`);
        const channelIds: number[] = [];
        for (let i = 0; i < count; i++) channelIds.push(body.u16le(`SC_NET.channelIdArray[${i}]`));
        // 2.2.1.4.4: a 2-byte Pad follows when channelCount is odd; tolerate servers that omit it
        out.net = { ioChannel, channelIds };
        break;
      }
      case SC_MCS_MSGCHANNEL:
        out.msgChannel = { channelId: body.u16le('SC_MCS_MSGCHANNEL.MCSChannelID') };
        break;
      case SC_MULTITRANSPORT:
        out.multitransport = { flags: multitransportFlags(body.u32le('SC_MULTITRANSPORT.flags')) };
        break;
      default:
        out.unknown.push({ type, name, length });
    }
  }
  return out;
}

/** TS_UD_SC_SEC1 (MS-RDPBCGR 2.2.1.4.3). serverRandomLen/serverCertLen are optional (absent under Enhanced security). */
function decodeServerSecurity(r: Reader): ServerSecurityData {
  const method = r.u32le('SC_SECURITY.encryptionMethod');
  const level = r.u32le('SC_SECURITY.encryptionLevel');
  const out: ServerSecurityData = {
    encryptionMethod: { value: method, name: nameOf(ENCRYPTION_METHOD_NAMES, method) },
    encryptionLevel: { value: level, name: nameOf(ENCRYPTION_LEVEL_NAMES, level) },
  };
  if (r.remaining < 8) return out;
  const randomLen = r.u32le('SC_SECURITY.serverRandomLen');
  const certLen = r.u32le('SC_SECURITY.serverCertLen');
  out.serverRandomLength = randomLen;
  if (randomLen > r.remaining) r.fail('SC_SECURITY.serverRandomLen', `${randomLen} bytes announced, ${r.remaining} left`);
  if (randomLen) out.serverRandom = r.bytes(randomLen, 'SC_SECURITY.serverRandom').slice();
  if (certLen > r.remaining) r.fail('SC_SECURITY.serverCertLen', `${certLen} bytes announced, ${r.remaining} left`);
  if (certLen) {
    const cert = r.bytes(certLen, 'SC_SECURITY.serverCertificate');
    out.certificateBytes = cert.slice();
    out.certificateDetail = decodeServerCertificate(cert);
    out.certificate = certificateSummary(out.certificateDetail);
  }
  return out;
}

/**
 * SERVER_CERTIFICATE (MS-RDPBCGR 2.2.1.4.3.1): dwVersion (low 31 bits: 1 proprietary, 2 X.509 chain; high bit t =
 * temporary) then the certificate. Malformed certificate bytes are recorded in `error`, never thrown, so one bad
 * certificate does not hide the rest of the server's data.
 */
export function decodeServerCertificate(bytes: Uint8Array): ServerCertificate {
  const r = new Reader(bytes, 'gcc');
  const dw = r.u32le('serverCertificate.dwVersion');
  const version = dw & 0x7fffffff;
  const temporary = (dw & CERT_TEMPORARY) !== 0;
  const versionName = nameOf({ [CERT_CHAIN_VERSION_1]: 'proprietary', [CERT_CHAIN_VERSION_2]: 'x509' }, version);
  try {
    if (version === CERT_CHAIN_VERSION_1) return decodeProprietaryCertificate(r, temporary);
    if (version === CERT_CHAIN_VERSION_2) return decodeX509Chain(r, temporary);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return { type: 'unreadable', version, versionName, temporary, length: bytes.length, error: e.message };
  }
  return { type: 'unreadable', version, versionName, temporary, length: bytes.length };
}

/** The Observation's view of a server certificate: type, key size, exponent, chain subjects (leaf last). */
export function certificateSummary(c: ServerCertificate): ServerCertificateInfo {
  const out: ServerCertificateInfo = { type: c.type === 'unreadable' ? c.versionName : c.type };
  if ('keyBits' in c && c.keyBits !== undefined) out.keyBits = c.keyBits;
  if ('publicExponent' in c && c.publicExponent !== undefined) out.publicExponent = c.publicExponent;
  if ('chainLength' in c) out.chainLength = c.chainLength;
  if ('subjects' in c) out.subjects = [...c.subjects];
  return out;
}

/** PROPRIETARYSERVERCERTIFICATE (2.2.1.4.3.1.1) with its RSA_PUBLIC_KEY (2.2.1.4.3.1.1.1). */
function decodeProprietaryCertificate(r: Reader, temporary: boolean): ServerCertificate {
  const sigAlgId = r.u32le('proprietaryCert.dwSigAlgId');
  const keyAlgId = r.u32le('proprietaryCert.dwKeyAlgId');
  const blobType = r.u16le('proprietaryCert.wPublicKeyBlobType');
  if (blobType !== BB_RSA_KEY_BLOB) r.fail('proprietaryCert.wPublicKeyBlobType', `expected BB_RSA_KEY_BLOB (6), got ${blobType}`);
  const blobLen = r.u16le('proprietaryCert.wPublicKeyBlobLen');
  const key = r.sub(blobLen, 'proprietaryCert.PublicKeyBlob');
  const magic = key.u32le('RSA_PUBLIC_KEY.magic');
  if (magic !== RSA1_MAGIC) key.fail('RSA_PUBLIC_KEY.magic', `expected 'RSA1' (0x31415352), got 0x${magic.toString(16)}`);
  const keylen = key.u32le('RSA_PUBLIC_KEY.keylen');
  const bitlen = key.u32le('RSA_PUBLIC_KEY.bitlen');
  key.u32le('RSA_PUBLIC_KEY.datalen');
  const publicExponent = key.u32le('RSA_PUBLIC_KEY.pubExp');
  // keylen = modulus bytes + 8 bytes of zero padding
  if (keylen > key.remaining) key.fail('RSA_PUBLIC_KEY.keylen', `${keylen} bytes announced, ${key.remaining} left`);
  const modulus = key.bytes(keylen, 'RSA_PUBLIC_KEY.modulus').slice();
  const sigType = r.u16le('proprietaryCert.wSignatureBlobType');
  if (sigType !== BB_RSA_SIGNATURE_BLOB) r.fail('proprietaryCert.wSignatureBlobType', `expected BB_RSA_SIGNATURE_BLOB (8), got ${sigType}`);
  const sigLen = r.u16le('proprietaryCert.wSignatureBlobLen');
  r.skip(sigLen, 'proprietaryCert.SignatureBlob');
  return { type: 'proprietary', version: CERT_CHAIN_VERSION_1, temporary, sigAlgId, keyAlgId, keyBits: bitlen, publicExponent, modulus, signatureLength: sigLen };
}

/** X.509 certificate chain (2.2.1.4.3.1.2, MS-RDPELE 2.2.1.4.2): NumCertBlobs then {cbCert u32, abCert DER}… */
function decodeX509Chain(r: Reader, temporary: boolean): ServerCertificate {
  const n = r.u32le('X509 chain.NumCertBlobs');
  if (n === 0 || n > MAX_CHAIN) r.fail('X509 chain.NumCertBlobs', `${n} certificates (expected 1..${MAX_CHAIN})`);
  const ders: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const len = r.u32le(`X509 chain.cert[${i}].cbCert`);
    if (len > r.remaining) r.fail(`X509 chain.cert[${i}].cbCert`, `${len} bytes announced, ${r.remaining} left`);
    ders.push(r.bytes(len, `X509 chain.cert[${i}].abCert`));
  }
  // the trailing Padding (8 + 4 * NumCertBlobs bytes, MS-RDPELE 2.2.1.4.2) carries nothing and is not checked
  const out: Extract<ServerCertificate, { type: 'x509' }> = {
    type: 'x509',
    version: CERT_CHAIN_VERSION_2,
    temporary,
    chainLength: n,
    subjects: [],
    issuers: [],
    certLengths: ders.map((d) => d.length),
  };
  const errors: string[] = [];
  ders.forEach((der, i) => {
    const info = parseCertificate(der);
    out.subjects.push(info.subject ?? '');
    out.issuers.push(info.issuer ?? '');
    if (info.error) errors.push(`cert[${i}]: ${info.error}`);
    if (i === ders.length - 1) {
      if (info.keyBits !== undefined) out.keyBits = info.keyBits;
      if (info.publicExponent !== undefined) out.publicExponent = info.publicExponent;
    }
  });
  if (errors.length) out.error = errors.join('; ');
  return out;
}

interface CertInfo {
  subject?: string;
  issuer?: string;
  keyBits?: number;
  publicExponent?: number;
  error?: string;
}

/**
 * Subject, issuer and RSA key size of one DER certificate, via node-forge. Terminal-server licensing certificates
 * are odd: in zeek-rdp-x509 both are signed with the OIW sha1WithRSA OID 1.3.14.3.2.29, the leaf's
 * subjectPublicKeyInfo names md5WithRSAEncryption (1.2.840.113549.1.1.4) instead of rsaEncryption (node-forge:
 * "OID is not RSA"), and its names are tagged BMPString but hold 8-bit text ("ncalrpc:SERVR", 13 octets). When
 * node-forge's certificate parser gives up we walk its ASN.1 tree ourselves; if even DER parsing fails we record why.
 */
function parseCertificate(der: Uint8Array): CertInfo {
  let tree: forge.asn1.Asn1;
  try {
    tree = forge.asn1.fromDer(forge.util.createBuffer(binaryString(der)));
  } catch (e) {
    return { error: `DER: ${errorText(e)}` };
  }
  try {
    const cert = forge.pki.certificateFromAsn1(tree);
    const info: CertInfo = { subject: dnString(cert.subject.attributes), issuer: dnString(cert.issuer.attributes) };
    const key = cert.publicKey as forge.pki.rsa.PublicKey;
    if (key && key.n && key.e) {
      info.keyBits = key.n.bitLength();
      info.publicExponent = key.e.bitLength() <= 32 ? parseInt(key.e.toString(16), 16) : undefined;
    }
    return info;
  } catch (e) {
    const info = walkCertificate(tree);
    info.error = `node-forge: ${errorText(e)} (fields read from the ASN.1 tree instead)`;
    return info;
  }
}

function walkCertificate(tree: forge.asn1.Asn1): CertInfo {
  const info: CertInfo = {};
  try {
    const tbs = (tree.value as forge.asn1.Asn1[])[0];
    const fields = tbs.value as forge.asn1.Asn1[];
    const base = fields[0].tagClass === forge.asn1.Class.CONTEXT_SPECIFIC ? 1 : 0;
    const rdn = (forge.pki as unknown as { RDNAttributesAsArray(rdn: forge.asn1.Asn1): DnAttr[] }).RDNAttributesAsArray;
    info.issuer = dnString(rdn(fields[base + 2]));
    info.subject = dnString(rdn(fields[base + 4]));
    const spki = fields[base + 5].value as forge.asn1.Asn1[];
    const bits = spki[1].value;
    const rsa = Array.isArray(bits) ? bits[0] : forge.asn1.fromDer(forge.util.createBuffer((bits as string).slice(1)));
    const ints = rsa.value as forge.asn1.Asn1[];
    info.keyBits = bitLength(ints[0].value as string);
    const e = ints[1].value as string;
    if (e.length <= 4) info.publicExponent = Array.from(e, (c) => c.charCodeAt(0)).reduce((a, b) => a * 256 + b, 0);
  } catch {
    // partial information is fine
  }
  return info;
}

interface DnAttr {
  type?: string;
  shortName?: string;
  name?: string;
  value?: unknown;
  valueTagClass?: number;
}

function dnString(attrs: readonly DnAttr[]): string {
  return attrs
    .map((a) => {
      const key = a.shortName ?? a.name ?? a.type ?? '?';
      // node-forge already turns BMPString into a JS string; UTF8String stays as UTF-8 bytes
      let v = typeof a.value === 'string' ? a.value : '';
      if (a.valueTagClass === forge.asn1.Type.UTF8) {
        try {
          v = forge.util.decodeUtf8(v);
        } catch {
          // keep raw
        }
      }
      return `${key}=${v}`;
    })
    .join(', ');
}

// ------------------------------------------------------------------------------------------------------------------
// Server data blocks: encode (for fake test peers)

export interface ServerDataOptions {
  core?: { version: number; clientRequestedProtocols?: number; earlyCapabilityFlags?: number };
  security?: { encryptionMethod: number; encryptionLevel: number; serverRandom?: Uint8Array; serverCertificate?: Uint8Array };
  net?: { ioChannel: number; channelIds: number[] };
  msgChannel?: number;
  multitransport?: number;
  /** Extra raw blocks appended as-is. */
  extra?: Uint8Array[];
}

export function encodeServerDataBlocks(o: ServerDataOptions): Uint8Array {
  const parts: Uint8Array[] = [];
  if (o.core) {
    const w = blockWriter(SC_CORE).u32le(o.core.version >>> 0);
    if (o.core.clientRequestedProtocols !== undefined) w.u32le(o.core.clientRequestedProtocols >>> 0);
    if (o.core.earlyCapabilityFlags !== undefined) {
      if (o.core.clientRequestedProtocols === undefined) throw new TypeError('SC_CORE.earlyCapabilityFlags needs clientRequestedProtocols');
      w.u32le(o.core.earlyCapabilityFlags >>> 0);
    }
    parts.push(finishBlock(w));
  }
  if (o.net) {
    const w = blockWriter(SC_NET).u16le(o.net.ioChannel).u16le(o.net.channelIds.length);
    for (const id of o.net.channelIds) w.u16le(id);
    if (o.net.channelIds.length % 2) w.u16le(0);
    parts.push(finishBlock(w));
  }
  if (o.security) {
    const s = o.security;
    const w = blockWriter(SC_SECURITY).u32le(s.encryptionMethod >>> 0).u32le(s.encryptionLevel >>> 0);
    if (s.serverRandom || s.serverCertificate) {
      const rnd = s.serverRandom ?? new Uint8Array(0);
      const cert = s.serverCertificate ?? new Uint8Array(0);
      w.u32le(rnd.length).u32le(cert.length).bytes(rnd).bytes(cert);
    }
    parts.push(finishBlock(w));
  }
  if (o.msgChannel !== undefined) parts.push(finishBlock(blockWriter(SC_MCS_MSGCHANNEL).u16le(o.msgChannel)));
  if (o.multitransport !== undefined) parts.push(finishBlock(blockWriter(SC_MULTITRANSPORT).u32le(o.multitransport >>> 0)));
  parts.push(...(o.extra ?? []));
  return concatBytes(parts);
}

/** A proprietary server certificate (2.2.1.4.3.1.1) around an RSA public key; the signature is zeros (test peers). */
export function encodeProprietaryCertificate(modulus: Uint8Array, publicExponent = 0x10001, temporary = false): Uint8Array {
  const keylen = modulus.length + 8;
  const key = new Writer(keylen + 20)
    .u32le(RSA1_MAGIC)
    .u32le(keylen)
    .u32le(modulus.length * 8)
    .u32le(modulus.length - 1)
    .u32le(publicExponent >>> 0)
    .bytes(modulus)
    .zeros(8)
    .finish();
  return new Writer(keylen + 100)
    .u32le((CERT_CHAIN_VERSION_1 | (temporary ? CERT_TEMPORARY : 0)) >>> 0)
    .u32le(SIGNATURE_ALG_RSA)
    .u32le(KEY_EXCHANGE_ALG_RSA)
    .u16le(BB_RSA_KEY_BLOB)
    .u16le(key.length)
    .bytes(key)
    .u16le(BB_RSA_SIGNATURE_BLOB)
    .u16le(72)
    .zeros(72)
    .finish();
}

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

// ------------------------------------------------------------------------------------------------------------------
// Helpers

function* walkBlocks(bytes: Uint8Array, what: string): Generator<{ type: number; length: number; body: Reader }> {
  const r = new Reader(bytes, 'gcc');
  while (r.remaining > 0) {
    const at = r.offset;
    const type = r.u16le(`${what} TS_UD_HEADER.type`);
    const length = r.u16le(`${what} TS_UD_HEADER.length`);
    const name = BLOCK_TYPE_NAMES[type] ?? nameOf({}, type, 4);
    if (length < 4) throw new DecodeError('gcc', `${name}.length`, at + 2, `block length ${length} is below the 4-byte header`);
    if (length - 4 > r.remaining) {
      throw new DecodeError('gcc', `${name}.length`, at + 2, `block length ${length} runs past the end (${r.remaining + 4} left)`, length, r.remaining + 4);
    }
    yield { type, length, body: r.sub(length - 4, name) };
  }
}

function blockWriter(type: number): Writer {
  return new Writer(256).u16le(type).u16le(0);
}

function finishBlock(w: Writer): Uint8Array {
  const b = w.finish();
  if (b.length > 0xffff) throw new RangeError('data block too long');
  b[2] = b.length & 0xff;
  b[3] = b.length >> 8;
  return b;
}

function flagsOf(table: Readonly<Record<number, string>>, value: number): Flags {
  return { value, names: flagNames(table, value) };
}

/** A fixed-size UTF-16LE field, NUL-terminated (the string is truncated so the terminator always fits). */
function utf16Field(s: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  const max = size / 2 - 1;
  for (let i = 0; i < Math.min(s.length, max); i++) {
    const c = s.charCodeAt(i);
    out[i * 2] = c & 0xff;
    out[i * 2 + 1] = c >> 8;
  }
  return out;
}

const UTF16LE = new TextDecoder('utf-16le');

/** UTF-16LE up to the first NUL code unit. */
function utf16String(b: Uint8Array): string {
  let end = 0;
  while (end + 1 < b.length && (b[end] | b[end + 1]) !== 0) end += 2;
  return UTF16LE.decode(b.subarray(0, end));
}

function cString(b: Uint8Array): string {
  const end = b.indexOf(0);
  return latin1(end < 0 ? b : b.subarray(0, end));
}

function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return s;
}

function binaryString(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return s;
}

function bitLength(bigEndian: string): number {
  let i = 0;
  while (i < bigEndian.length && bigEndian.charCodeAt(i) === 0) i++;
  if (i === bigEndian.length) return 0;
  return (bigEndian.length - i - 1) * 8 + (32 - Math.clz32(bigEndian.charCodeAt(i)));
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
