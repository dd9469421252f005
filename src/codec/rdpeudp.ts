/**
 * MS-RDPEUDP connection-initialisation datagrams: SYN (3.1.5.1.1) and SYN+ACK (3.1.5.1.3). Pure: bytes in, typed
 * values out, and back. Every v1 header field is big-endian (network byte order; Wireshark's packet-rdpudp.c and
 * Zeek's rdpeudp-protocol.pac read them that way, and the spec's 4.1.2 example shows it).
 *
 * Layout of a SYN / SYN+ACK, in order:
 *   RDPUDP_FEC_HEADER (2.2.2.1)              snSourceAck u32 · uReceiveWindowSize u16 · uFlags u16
 *   RDPUDP_SYNDATA_PAYLOAD (2.2.2.5)         snInitialSequenceNumber u32 · uUpStreamMtu u16 · uDownStreamMtu u16
 *   RDPUDP_CORRELATION_ID_PAYLOAD (2.2.2.8)  uCorrelationId 16 bytes · uReserved 16 zero bytes   (if CORRELATION_ID)
 *   RDPUDP_SYNDATAEX_PAYLOAD (2.2.2.9)       uSynExFlags u16 · uUdpVer u16 · cookieHash 32 bytes  (if SYNEX; the
 *                                            hash only in a client SYN with uUdpVer = RDPUDP_PROTOCOL_VERSION_3)
 *   zero padding to exactly 1232 bytes of UDP payload (3.1.5.1.1: "MUST be zero-padded … to 1232 bytes")
 *
 * Other datagrams (ACK, data, RDPEUDP2 after version 3 was negotiated) are only recognised, not decoded.
 */
import { DecodeError } from './errors.js';
import { flagNames, nameOf } from './names.js';
import { Reader } from './reader.js';
import { toHex, Writer } from './writer.js';
import type { Coded, Flags } from '../observation/vocab.js';

const LAYER = 'rdpeudp';

/** 3.1.5.1.1: a SYN (and, by 3.1.5.1.3, a SYN+ACK) is zero-padded to exactly this many bytes of UDP payload. */
export const RDPEUDP_SYN_DATAGRAM_LENGTH = 1232;
/** 2.2.2.5 / 3.1.1.3: advertised MTUs lie in the closed interval [1132, 1232]. */
export const RDPEUDP_MIN_MTU = 1132;
export const RDPEUDP_MAX_MTU = 1232;
/** 3.1.5.1.1: snSourceAck of a SYN "MUST be set to -1". */
export const SN_SOURCE_ACK_SYN = 0xffffffff;

// 2.2.2.1 RDPUDP_FEC_HEADER uFlags
export const RDPUDP_FLAG_SYN = 0x0001;
export const RDPUDP_FLAG_FIN = 0x0002;
export const RDPUDP_FLAG_ACK = 0x0004;
export const RDPUDP_FLAG_DATA = 0x0008;
export const RDPUDP_FLAG_FEC = 0x0010;
export const RDPUDP_FLAG_CN = 0x0020;
export const RDPUDP_FLAG_CWR = 0x0040;
export const RDPUDP_FLAG_SACK_OPTION = 0x0080;
export const RDPUDP_FLAG_ACK_OF_ACKS = 0x0100;
export const RDPUDP_FLAG_SYNLOSSY = 0x0200;
export const RDPUDP_FLAG_ACKDELAYED = 0x0400;
export const RDPUDP_FLAG_CORRELATION_ID = 0x0800;
export const RDPUDP_FLAG_SYNEX = 0x1000;

export const RDPUDP_FLAG_NAMES: Readonly<Record<number, string>> = {
  [RDPUDP_FLAG_SYN]: 'SYN',
  [RDPUDP_FLAG_FIN]: 'FIN',
  [RDPUDP_FLAG_ACK]: 'ACK',
  [RDPUDP_FLAG_DATA]: 'DATA',
  [RDPUDP_FLAG_FEC]: 'FEC',
  [RDPUDP_FLAG_CN]: 'CN',
  [RDPUDP_FLAG_CWR]: 'CWR',
  [RDPUDP_FLAG_SACK_OPTION]: 'SACK_OPTION',
  [RDPUDP_FLAG_ACK_OF_ACKS]: 'ACK_OF_ACKS',
  [RDPUDP_FLAG_SYNLOSSY]: 'SYNLOSSY',
  [RDPUDP_FLAG_ACKDELAYED]: 'ACKDELAYED',
  [RDPUDP_FLAG_CORRELATION_ID]: 'CORRELATION_ID',
  [RDPUDP_FLAG_SYNEX]: 'SYNEX',
};

// 2.2.2.9 RDPUDP_SYNDATAEX_PAYLOAD
export const RDPUDP_VERSION_INFO_VALID = 0x0001;
export const SYNEX_FLAG_NAMES: Readonly<Record<number, string>> = { [RDPUDP_VERSION_INFO_VALID]: 'VERSION_INFO_VALID' };
export const RDPUDP_PROTOCOL_VERSION_1 = 0x0001;
export const RDPUDP_PROTOCOL_VERSION_2 = 0x0002;
/** Data transfer switches to MS-RDPEUDP2 (its 2.2). */
export const RDPUDP_PROTOCOL_VERSION_3 = 0x0101;
export const RDPUDP_VERSION_NAMES: Readonly<Record<number, string>> = {
  [RDPUDP_PROTOCOL_VERSION_1]: 'RDPUDP_PROTOCOL_VERSION_1',
  [RDPUDP_PROTOCOL_VERSION_2]: 'RDPUDP_PROTOCOL_VERSION_2',
  [RDPUDP_PROTOCOL_VERSION_3]: 'RDPUDP_PROTOCOL_VERSION_3',
};

export function rdpudpFlags(value: number): Flags {
  return { value, names: flagNames(RDPUDP_FLAG_NAMES, value) };
}
export function rdpudpVersion(value: number): Coded {
  return { value, name: nameOf(RDPUDP_VERSION_NAMES, value, 4) };
}

export interface RdpeudpSynEx {
  flags: Flags;
  version: Coded;
  /** Hex of the 32-byte SHA-256 cookie hash (2.2.2.9), when present. */
  cookieHash?: string;
}

/** A decoded SYN or SYN+ACK. */
export interface RdpeudpSyn {
  kind: 'syn' | 'synack';
  /** RDPUDP_FEC_HEADER.snSourceAck: 0xFFFFFFFF in a SYN, the client's snInitialSequenceNumber in a SYN+ACK. */
  snSourceAck: number;
  receiveWindowSize: number;
  flags: Flags;
  /** RDPUDP_SYNDATA_PAYLOAD */
  initialSequenceNumber: number;
  upstreamMtu: number;
  downstreamMtu: number;
  /** Hex of uCorrelationId (16 bytes, big-endian as sent), when RDPUDP_FLAG_CORRELATION_ID is set. */
  correlationId?: string;
  synEx?: RdpeudpSynEx;
  /** Whole UDP payload length (1232 when spec-compliant). */
  length: number;
  /** Bytes after the structures; `zero` false means the padding carries data. */
  padding: { length: number; zero: boolean };
  /** Spec rules this datagram breaks (kept as data: a peer's deviation is an observation, not an error). */
  deviations: string[];
}

/** What a datagram on the RDP UDP port looks like, without decoding more than the v1 header. */
export type RdpeudpDatagramKind = 'syn' | 'synack' | 'ack' | 'data' | 'unknown';

export interface RdpeudpClassification {
  kind: RdpeudpDatagramKind;
  /** Present when the datagram had at least a v1 RDPUDP_FEC_HEADER. */
  snSourceAck?: number;
  flags?: Flags;
}

/**
 * Classify any datagram seen on the RDP UDP port. SYN and SYN+ACK by their v1 header flags; 'ack' / 'data' for v1
 * header flags ACK (with DATA for source packets, 3.1.5.1.4) without SYN; 'unknown' for anything shorter than a
 * header or with no SYN/ACK flag — which includes MS-RDPEUDP2 packets (little-endian, byte 0 and 7 swapped).
 * Never throws.
 */
export function classifyRdpeudp(bytes: Uint8Array): RdpeudpClassification {
  if (bytes.length < 8) return { kind: 'unknown' };
  const r = new Reader(bytes, LAYER);
  const snSourceAck = r.u32be('RDPUDP_FEC_HEADER.snSourceAck');
  r.u16be('RDPUDP_FEC_HEADER.uReceiveWindowSize');
  const value = r.u16be('RDPUDP_FEC_HEADER.uFlags');
  const flags = rdpudpFlags(value);
  const syn = (value & RDPUDP_FLAG_SYN) !== 0;
  const ack = (value & RDPUDP_FLAG_ACK) !== 0;
  if (syn && bytes.length >= 16) return { kind: ack ? 'synack' : 'syn', snSourceAck, flags };
  if (!syn && ack) return { kind: value & RDPUDP_FLAG_DATA ? 'data' : 'ack', snSourceAck, flags };
  return { kind: 'unknown', snSourceAck, flags };
}

/**
 * Decode a SYN or SYN+ACK datagram (the whole UDP payload). Throws DecodeError when the bytes are not one (too short
 * for the flagged structures, or no SYN flag). Spec deviations that still leave the datagram readable — wrong length,
 * MTUs outside 1132..1232, snSourceAck ≠ −1 in a SYN, non-zero padding — are listed in `deviations`.
 */
export function decodeRdpeudpSyn(bytes: Uint8Array): RdpeudpSyn {
  const r = new Reader(bytes, LAYER);
  const snSourceAck = r.u32be('RDPUDP_FEC_HEADER.snSourceAck');
  const receiveWindowSize = r.u16be('RDPUDP_FEC_HEADER.uReceiveWindowSize');
  const flagValue = r.u16be('RDPUDP_FEC_HEADER.uFlags');
  if (!(flagValue & RDPUDP_FLAG_SYN)) {
    throw new DecodeError(LAYER, 'RDPUDP_FEC_HEADER.uFlags', 6, `no SYN flag (0x${flagValue.toString(16).padStart(4, '0')}): not a SYN or SYN+ACK`);
  }
  const kind = flagValue & RDPUDP_FLAG_ACK ? 'synack' : 'syn';
  const initialSequenceNumber = r.u32be('RDPUDP_SYNDATA_PAYLOAD.snInitialSequenceNumber');
  const upstreamMtu = r.u16be('RDPUDP_SYNDATA_PAYLOAD.uUpStreamMtu');
  const downstreamMtu = r.u16be('RDPUDP_SYNDATA_PAYLOAD.uDownStreamMtu');
  const out: RdpeudpSyn = {
    kind,
    snSourceAck,
    receiveWindowSize,
    flags: rdpudpFlags(flagValue),
    initialSequenceNumber,
    upstreamMtu,
    downstreamMtu,
    length: bytes.length,
    padding: { length: 0, zero: true },
    deviations: [],
  };
  if (flagValue & RDPUDP_FLAG_CORRELATION_ID) {
    out.correlationId = toHex(r.bytes(16, 'RDPUDP_CORRELATION_ID_PAYLOAD.uCorrelationId'));
    const reserved = r.bytes(16, 'RDPUDP_CORRELATION_ID_PAYLOAD.uReserved');
    if (reserved.some((b) => b !== 0)) out.deviations.push('RDPUDP_CORRELATION_ID_PAYLOAD.uReserved is not zero (2.2.2.8)');
  }
  if (flagValue & RDPUDP_FLAG_SYNEX) {
    const synExFlags = r.u16be('RDPUDP_SYNDATAEX_PAYLOAD.uSynExFlags');
    const version = r.u16be('RDPUDP_SYNDATAEX_PAYLOAD.uUdpVer');
    const synEx: RdpeudpSynEx = { flags: { value: synExFlags, names: flagNames(SYNEX_FLAG_NAMES, synExFlags) }, version: rdpudpVersion(version) };
    // 2.2.2.9: the cookie hash is present in a client SYN exactly when uUdpVer is RDPUDP_PROTOCOL_VERSION_3.
    if (kind === 'syn' && version === RDPUDP_PROTOCOL_VERSION_3) {
      if (r.remaining >= 32) synEx.cookieHash = toHex(r.bytes(32, 'RDPUDP_SYNDATAEX_PAYLOAD.cookieHash'));
      else out.deviations.push('RDPUDP_SYNDATAEX_PAYLOAD.cookieHash missing for RDPUDP_PROTOCOL_VERSION_3 (2.2.2.9)');
    }
    if (!(synExFlags & RDPUDP_VERSION_INFO_VALID)) out.deviations.push('SYNEX without RDPUDP_VERSION_INFO_VALID: uUdpVer is not meaningful (2.2.2.9)');
    out.synEx = synEx;
  }
  const rest = r.rest();
  out.padding = { length: rest.length, zero: rest.every((b) => b === 0) };
  if (!out.padding.zero) out.deviations.push('padding is not all zero (3.1.5.1.1)');
  if (bytes.length !== RDPEUDP_SYN_DATAGRAM_LENGTH) out.deviations.push(`datagram is ${bytes.length} bytes, not ${RDPEUDP_SYN_DATAGRAM_LENGTH} (3.1.5.1.1)`);
  if (kind === 'syn' && snSourceAck !== SN_SOURCE_ACK_SYN) out.deviations.push('SYN snSourceAck is not -1 (3.1.5.1.1)');
  for (const [name, v] of [['uUpStreamMtu', upstreamMtu], ['uDownStreamMtu', downstreamMtu]] as const) {
    if (v < RDPEUDP_MIN_MTU || v > RDPEUDP_MAX_MTU) out.deviations.push(`${name} ${v} outside ${RDPEUDP_MIN_MTU}..${RDPEUDP_MAX_MTU} (2.2.2.5)`);
  }
  if (receiveWindowSize === 0) out.deviations.push('uReceiveWindowSize is 0 (2.2.2.1)');
  return out;
}

export interface RdpeudpSynOptions {
  /** snInitialSequenceNumber: "generated by using a truly random function" (3.1.5.1.1) — the caller supplies it. */
  initialSequenceNumber: number;
  /** uReceiveWindowSize in packets; default 64 (what mstsc sends in the captures). */
  receiveWindowSize?: number;
  upstreamMtu?: number;
  downstreamMtu?: number;
  /** 16 bytes (Uint8Array or 32 hex digits), sent as RDPUDP_CORRELATION_ID_PAYLOAD (2.2.2.8). */
  correlationId?: Uint8Array | string;
  /** Adds RDPUDP_SYNDATAEX_PAYLOAD with RDPUDP_VERSION_INFO_VALID. */
  version?: number;
  /** 32 bytes (or 64 hex digits); required with RDPUDP_PROTOCOL_VERSION_3 in a SYN (2.2.2.9). */
  cookieHash?: Uint8Array | string;
  /** RDPUDP_FLAG_SYNLOSSY (client only, when no endpoint needs retransmission). */
  lossy?: boolean;
}

export interface RdpeudpSynAckOptions {
  /** The client's snInitialSequenceNumber, echoed in snSourceAck (3.1.5.1.3). */
  acknowledges: number;
  initialSequenceNumber: number;
  receiveWindowSize?: number;
  upstreamMtu?: number;
  downstreamMtu?: number;
  /** Include RDPUDP_SYNDATAEX_PAYLOAD (only when the SYN had one, 3.1.5.1.3) with this version. */
  version?: number;
}

function bytesOf(v: Uint8Array | string, n: number, what: string): Uint8Array {
  let b: Uint8Array;
  if (typeof v === 'string') {
    const clean = v.replace(/[\s:-]/g, '');
    if (!/^[0-9a-fA-F]*$/.test(clean) || clean.length !== n * 2) throw new RangeError(`${what}: expected ${n * 2} hex digits`);
    b = Uint8Array.from(clean.match(/../g) ?? [], (h) => parseInt(h, 16));
  } else b = v;
  if (b.length !== n) throw new RangeError(`${what}: expected ${n} bytes, got ${b.length}`);
  return b;
}

function checkU32(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${what}: ${v} is not a 32-bit unsigned integer`);
}
function checkMtu(v: number, what: string): void {
  if (!Number.isInteger(v) || v < RDPEUDP_MIN_MTU || v > RDPEUDP_MAX_MTU) throw new RangeError(`${what}: ${v} outside ${RDPEUDP_MIN_MTU}..${RDPEUDP_MAX_MTU} (2.2.2.5)`);
}
function checkU16(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`${what}: ${v} is not a 16-bit unsigned integer`);
}

function pad(w: Writer): Uint8Array {
  if (w.length > RDPEUDP_SYN_DATAGRAM_LENGTH) throw new RangeError(`SYN structures take ${w.length} bytes, more than ${RDPEUDP_SYN_DATAGRAM_LENGTH}`);
  w.zeros(RDPEUDP_SYN_DATAGRAM_LENGTH - w.length);
  return w.finish();
}

/** Encode a client SYN (3.1.5.1.1), zero-padded to exactly 1232 bytes. Throws RangeError on impossible options. */
export function encodeRdpeudpSyn(o: RdpeudpSynOptions): Uint8Array {
  checkU32(o.initialSequenceNumber, 'initialSequenceNumber');
  const window = o.receiveWindowSize ?? 64;
  checkU16(window, 'receiveWindowSize');
  if (window === 0) throw new RangeError('receiveWindowSize must be > 0');
  const up = o.upstreamMtu ?? RDPEUDP_MAX_MTU;
  const down = o.downstreamMtu ?? RDPEUDP_MAX_MTU;
  checkMtu(up, 'upstreamMtu');
  checkMtu(down, 'downstreamMtu');
  let flags = RDPUDP_FLAG_SYN;
  if (o.lossy) flags |= RDPUDP_FLAG_SYNLOSSY;
  const correlation = o.correlationId !== undefined ? bytesOf(o.correlationId, 16, 'correlationId') : undefined;
  if (correlation) {
    // 3.1.5.1.1 step 3: the most significant byte is neither 0x00 nor 0xF4, and no byte is 0x0D.
    if (correlation[0] === 0x00 || correlation[0] === 0xf4) throw new RangeError('correlationId: first byte must not be 0x00 or 0xF4 (3.1.5.1.1)');
    if (correlation.includes(0x0d)) throw new RangeError('correlationId: no byte may be 0x0D (3.1.5.1.1)');
    flags |= RDPUDP_FLAG_CORRELATION_ID;
  }
  let cookie: Uint8Array | undefined;
  if (o.version !== undefined) {
    checkU16(o.version, 'version');
    flags |= RDPUDP_FLAG_SYNEX;
    if (o.version === RDPUDP_PROTOCOL_VERSION_3) {
      if (o.cookieHash === undefined) throw new RangeError('cookieHash is required with RDPUDP_PROTOCOL_VERSION_3 (2.2.2.9)');
      cookie = bytesOf(o.cookieHash, 32, 'cookieHash');
    } else if (o.cookieHash !== undefined) {
      throw new RangeError('cookieHash is only sent with RDPUDP_PROTOCOL_VERSION_3 (2.2.2.9)');
    }
  } else if (o.cookieHash !== undefined) {
    throw new RangeError('cookieHash needs version RDPUDP_PROTOCOL_VERSION_3');
  }
  const w = new Writer(RDPEUDP_SYN_DATAGRAM_LENGTH);
  w.u32be(SN_SOURCE_ACK_SYN).u16be(window).u16be(flags); // 2.2.2.1
  w.u32be(o.initialSequenceNumber).u16be(up).u16be(down); // 2.2.2.5
  if (correlation) w.bytes(correlation).zeros(16); // 2.2.2.8: uCorrelationId + 16 zero bytes uReserved
  if (o.version !== undefined) {
    w.u16be(RDPUDP_VERSION_INFO_VALID).u16be(o.version); // 2.2.2.9
    if (cookie) w.bytes(cookie);
  }
  return pad(w);
}

/** Encode a server SYN+ACK (3.1.5.1.3), zero-padded to 1232 bytes like the SYN it answers. */
export function encodeRdpeudpSynAck(o: RdpeudpSynAckOptions): Uint8Array {
  checkU32(o.acknowledges, 'acknowledges');
  checkU32(o.initialSequenceNumber, 'initialSequenceNumber');
  const window = o.receiveWindowSize ?? 64;
  checkU16(window, 'receiveWindowSize');
  const up = o.upstreamMtu ?? RDPEUDP_MAX_MTU;
  const down = o.downstreamMtu ?? RDPEUDP_MAX_MTU;
  checkMtu(up, 'upstreamMtu');
  checkMtu(down, 'downstreamMtu');
  let flags = RDPUDP_FLAG_SYN | RDPUDP_FLAG_ACK;
  if (o.version !== undefined) {
    checkU16(o.version, 'version');
    flags |= RDPUDP_FLAG_SYNEX;
  }
  const w = new Writer(RDPEUDP_SYN_DATAGRAM_LENGTH);
  w.u32be(o.acknowledges).u16be(window).u16be(flags);
  w.u32be(o.initialSequenceNumber).u16be(up).u16be(down);
  if (o.version !== undefined) w.u16be(RDPUDP_VERSION_INFO_VALID).u16be(o.version); // never a cookie hash (2.2.2.9)
  return pad(w);
}

/**
 * The version both ends use after a SYN / SYN+ACK pair (3.1.5.1.3): the SYN+ACK's uUdpVer, or
 * RDPUDP_PROTOCOL_VERSION_1 when either datagram carried no SYNDATAEX.
 */
export function negotiatedVersion(syn: Pick<RdpeudpSyn, 'synEx'>, synAck: Pick<RdpeudpSyn, 'synEx'>): number {
  if (!syn.synEx || !synAck.synEx) return RDPUDP_PROTOCOL_VERSION_1;
  return synAck.synEx.version.value;
}
