/** AV_PAIR lists (MS-NLMP 2.2.2.1) and FILETIME conversions. */
import { DecodeError } from '../errors.js';
import { flagNames, nameOf } from '../names.js';
import { Reader } from '../reader.js';
import { toHex, Writer } from '../writer.js';
import { LAYER } from './flags.js';
import { utf16Decode } from './wire.js';

// ---------------------------------------------------------------------------------------------------------------
// AV_PAIR (MS-NLMP 2.2.2.1)

export const MSV_AV_EOL = 0x0000;
export const MSV_AV_NB_COMPUTER_NAME = 0x0001;
export const MSV_AV_NB_DOMAIN_NAME = 0x0002;
export const MSV_AV_DNS_COMPUTER_NAME = 0x0003;
export const MSV_AV_DNS_DOMAIN_NAME = 0x0004;
export const MSV_AV_DNS_TREE_NAME = 0x0005;
export const MSV_AV_FLAGS = 0x0006;
export const MSV_AV_TIMESTAMP = 0x0007;
export const MSV_AV_SINGLE_HOST = 0x0008;
export const MSV_AV_TARGET_NAME = 0x0009;
export const MSV_AV_CHANNEL_BINDINGS = 0x000a;

export const AV_ID_NAMES: Readonly<Record<number, string>> = {
  [MSV_AV_EOL]: 'MsvAvEOL',
  [MSV_AV_NB_COMPUTER_NAME]: 'MsvAvNbComputerName',
  [MSV_AV_NB_DOMAIN_NAME]: 'MsvAvNbDomainName',
  [MSV_AV_DNS_COMPUTER_NAME]: 'MsvAvDnsComputerName',
  [MSV_AV_DNS_DOMAIN_NAME]: 'MsvAvDnsDomainName',
  [MSV_AV_DNS_TREE_NAME]: 'MsvAvDnsTreeName',
  [MSV_AV_FLAGS]: 'MsvAvFlags',
  [MSV_AV_TIMESTAMP]: 'MsvAvTimestamp',
  [MSV_AV_SINGLE_HOST]: 'MsvAvSingleHost',
  [MSV_AV_TARGET_NAME]: 'MsvAvTargetName',
  [MSV_AV_CHANNEL_BINDINGS]: 'MsvAvChannelBindings',
};

/** MsvAvFlags bits (MS-NLMP 2.2.2.1). */
export const MSV_AV_FLAG_CONSTRAINED = 0x00000001;
export const MSV_AV_FLAG_MIC_PRESENT = 0x00000002;
export const MSV_AV_FLAG_SPN_UNTRUSTED = 0x00000004;
export const MSV_AV_FLAG_NAMES: Readonly<Record<number, string>> = {
  [MSV_AV_FLAG_CONSTRAINED]: 'ACCOUNT_AUTHENTICATION_CONSTRAINED',
  [MSV_AV_FLAG_MIC_PRESENT]: 'MIC_PRESENT',
  [MSV_AV_FLAG_SPN_UNTRUSTED]: 'SPN_FROM_UNTRUSTED_SOURCE',
};

export interface AvPair {
  id: number;
  name: string;
  /** Printable value: the string for name pairs, ISO time for MsvAvTimestamp, flag names, or hex. */
  value: string;
  raw: Uint8Array;
}

/** FILETIME (100 ns ticks since 1601-01-01 UTC) → milliseconds since the Unix epoch. */
export function filetimeToMs(ft: bigint): number {
  return Number(ft / 10000n) - 11644473600000;
}

export function filetimeToIso(ft: bigint): string {
  return new Date(filetimeToMs(ft)).toISOString();
}

export function msToFiletime(ms: number): bigint {
  return (BigInt(Math.floor(ms)) + 11644473600000n) * 10000n;
}

export function u64le(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v;
}

function avValue(id: number, raw: Uint8Array, name: string, at: number): string {
  switch (id) {
    case MSV_AV_NB_COMPUTER_NAME:
    case MSV_AV_NB_DOMAIN_NAME:
    case MSV_AV_DNS_COMPUTER_NAME:
    case MSV_AV_DNS_DOMAIN_NAME:
    case MSV_AV_DNS_TREE_NAME:
    case MSV_AV_TARGET_NAME:
      return utf16Decode(raw, `TargetInfo.${name}`, at);
    case MSV_AV_FLAGS: {
      if (raw.length !== 4) throw new DecodeError(LAYER, `TargetInfo.${name}`, at, `AvLen ${raw.length}, expected 4`, 4, raw.length);
      const v = (raw[0] | (raw[1] << 8) | (raw[2] << 16) | (raw[3] << 24)) >>> 0;
      const names = flagNames(MSV_AV_FLAG_NAMES, v);
      return `0x${v.toString(16).padStart(8, '0')}${names.length ? ` (${names.join('|')})` : ''}`;
    }
    case MSV_AV_TIMESTAMP:
      if (raw.length !== 8) throw new DecodeError(LAYER, `TargetInfo.${name}`, at, `AvLen ${raw.length}, expected 8`, 8, raw.length);
      return filetimeToIso(u64le(raw));
    default:
      // MsvAvSingleHost (Single_Host_Data), MsvAvChannelBindings (MD5 of gss_channel_bindings), unknown ids
      return toHex(raw);
  }
}

/**
 * Parse an AV_PAIR list (MS-NLMP 2.2.2.1) up to MsvAvEOL. `start`/`end` delimit it inside `msg`, so error offsets
 * are message offsets. A list without MsvAvEOL is malformed. Bytes after MsvAvEOL are ignored, as the spec says.
 */
export function decodeAvPairs(msg: Uint8Array, start = 0, end = msg.length): AvPair[] {
  const r = new Reader(msg, LAYER, start, end);
  const out: AvPair[] = [];
  for (;;) {
    const at = r.offset;
    const id = r.u16le('TargetInfo.AvId');
    const len = r.u16le('TargetInfo.AvLen');
    const name = nameOf(AV_ID_NAMES, id, 4);
    const raw = r.bytes(len, `TargetInfo.${name}`);
    if (id === MSV_AV_EOL) break;
    out.push({ id, name, value: avValue(id, raw, name, at), raw });
  }
  return out;
}

/** Serialise AV pairs (without any EOL in the input) and terminate the list with MsvAvEOL. */
export function encodeAvPairs(pairs: readonly { id: number; raw: Uint8Array }[]): Uint8Array {
  const w = new Writer(64);
  for (const p of pairs) {
    if (p.id === MSV_AV_EOL) continue;
    if (p.raw.length > 0xffff) throw new RangeError(`AV pair ${p.id} value of ${p.raw.length} bytes`);
    w.u16le(p.id).u16le(p.raw.length).bytes(p.raw);
  }
  w.u16le(MSV_AV_EOL).u16le(0);
  return w.finish();
}

export function filetimeBytes(ft: bigint): Uint8Array {
  const out = new Uint8Array(8);
  let v = ft;
  for (let i = 0; i < 8; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}
