/** Server data blocks (MS-RDPBCGR 2.2.1.4.2 – 2.2.1.4.6): decode the Connect-Response, encode for fake test peers. */
import { nameOf } from '../names.js';
import type { Reader } from '../reader.js';
import { concatBytes } from '../writer.js';
import type { Coded, Flags } from '../../observation/vocab.js';
import { blockWriter, finishBlock, flagsOf, walkBlocks, type UnknownBlock } from './blocks.js';
import { decodeServerCertificate, type ServerCertificate } from './certificate.js';
import {
  BLOCK_TYPE_NAMES,
  ENCRYPTION_LEVEL_NAMES,
  ENCRYPTION_METHOD_NAMES,
  SC_CORE,
  SC_MCS_MSGCHANNEL,
  SC_MULTITRANSPORT,
  SC_NET,
  SC_SECURITY,
  SERVER_EARLY_CAPABILITY_NAMES,
  multitransportFlags,
  rdpVersion,
} from './constants.js';

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
  /** Everything decoded from the certificate (modulus, issuers, temporary flag, parse errors); record/gcc.ts
   * reduces it to the Observation's ServerCertificateInfo. */
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
  }
  return out;
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
