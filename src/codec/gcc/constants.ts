/**
 * GCC user data block constants and name tables (MS-RDPBCGR 2.2.1.3 client data, 2.2.1.4 server data): block types,
 * RDP versions, CS_CORE fields, encryption methods and levels, channel options, cluster and multitransport flags.
 */
import { flagNames, nameOf } from '../names.js';
import { ENCRYPTION_METHOD_NAMES, type Coded, type Flags } from '../../observation/vocab.js';

// Encryption method values and names are vocab (probe and diagnose name them too).
export {
  ENCRYPTION_METHOD_128BIT,
  ENCRYPTION_METHOD_40BIT,
  ENCRYPTION_METHOD_56BIT,
  ENCRYPTION_METHOD_FIPS,
  ENCRYPTION_METHOD_NAMES,
  ENCRYPTION_METHOD_NONE,
} from '../../observation/vocab.js';

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

// Encryption level (MS-RDPBCGR 2.2.1.4.3 encryptionLevel); methods: vocab ENCRYPTION_METHOD_*
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
