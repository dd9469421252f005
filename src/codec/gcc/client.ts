/** Client data blocks (MS-RDPBCGR 2.2.1.3.2 – 2.2.1.3.8): encode for the Connect-Initial, decode for replay and test peers. */
import { nameOf } from '../names.js';
import type { Reader } from '../reader.js';
import type { Coded, Flags } from '../../observation/vocab.js';
import { blockWriter, cString, finishBlock, flagsOf, utf16Field, utf16String, walkBlocks, type UnknownBlock } from './blocks.js';
import {
  BLOCK_TYPE_NAMES,
  CHANNEL_MAX_COUNT,
  CHANNEL_OPTION_INITIALIZED,
  CLIENT_EARLY_CAPABILITY_NAMES,
  CONNECTION_TYPE_LAN,
  CS_CLUSTER,
  CS_CORE,
  CS_MCS_MSGCHANNEL,
  CS_MULTITRANSPORT,
  CS_NET,
  CS_SECURITY,
  HIGH_COLOR_16BPP,
  RDP_VERSION_5_PLUS,
  REDIRECTION_SUPPORTED,
  REDIRECTION_VERSION4,
  RNS_UD_15BPP_SUPPORT,
  RNS_UD_16BPP_SUPPORT,
  RNS_UD_24BPP_SUPPORT,
  RNS_UD_COLOR_8BPP,
  RNS_UD_CS_SUPPORT_ERRINFO_PDU,
  RNS_UD_CS_VALID_CONNECTION_TYPE,
  RNS_UD_SAS_DEL,
  encryptionMethodFlags,
  multitransportFlags,
  rdpVersion,
} from './constants.js';

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
