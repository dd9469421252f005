/**
 * X.224 class 0 Connection Request / Connection Confirm / Disconnect Request with the RDP negotiation structures
 * (MS-RDPBCGR 2.2.1.1 Client X.224 Connection Request PDU, 2.2.1.2 Server X.224 Connection Confirm PDU; X.224 §13).
 *
 * Every function takes or returns complete TPKT bytes. A server refusal (RDP_NEG_FAILURE) is a value, not an
 * exception; only malformed bytes throw, and only DecodeError.
 */
import { DecodeError } from './errors.js';
import { flagNames, nameOf } from './names.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import {
  TPKT_HEADER_LENGTH,
  X224_TPDU_CONNECTION_CONFIRM,
  X224_TPDU_CONNECTION_REQUEST,
  X224_TPDU_DISCONNECT_REQUEST,
  decodeTpkt,
  encodeTpkt,
} from './tpkt.js';
import {
  CORRELATION_INFO_PRESENT,
  NEG_REQUEST_FLAG_NAMES,
  NEG_RESPONSE_FLAG_NAMES,
  PROTOCOL_BITS,
  PROTOCOL_NAMES,
  unknownName,
  type Coded,
  type Flags,
  type ProtocolName,
  type SelectedProtocol,
} from '../observation/vocab.js';

// ------------------------------------------------------------------------------------------------------------------
// Protocols (MS-RDPBCGR 2.2.1.1.1 requestedProtocols, 2.2.1.2.1 selectedProtocol): values and names live in vocab;
// the wire values are re-exported here because every encoder caller (probe, test peers) needs them with the codec.

export { PROTOCOL_HYBRID, PROTOCOL_HYBRID_EX, PROTOCOL_RDP, PROTOCOL_RDSAAD, PROTOCOL_RDSTLS, PROTOCOL_SSL } from '../observation/vocab.js';

/** Every protocol bit but PROTOCOL_RDP (which is 0), in PROTOCOL_NAMES order. */
const PROTOCOL_MASK_BITS: readonly [ProtocolName, number][] = PROTOCOL_NAMES.filter((n) => n !== 'RDP').map((n) => [n, PROTOCOL_BITS[n]]);
const SELECTED_PROTOCOL_NAMES: Readonly<Record<number, ProtocolName>> = Object.fromEntries(PROTOCOL_NAMES.map((n) => [PROTOCOL_BITS[n], n]));

/** Names → requestedProtocols bitmask ('RDP' contributes no bit: PROTOCOL_RDP is the absence of the others). */
export function protocolMask(names: readonly ProtocolName[]): number {
  let m = 0;
  for (const n of names) {
    const v = PROTOCOL_BITS[n];
    if (v === undefined) throw new TypeError(`unknown protocol name ${String(n)}`);
    m |= v;
  }
  return m >>> 0;
}

/** requestedProtocols bitmask → names; 0 is ['RDP']. Unknown bits are dropped (see unknownProtocolBits). */
export function protocolNames(mask: number): ProtocolName[] {
  if ((mask >>> 0) === 0) return ['RDP'];
  return PROTOCOL_MASK_BITS.filter(([, bit]) => (mask & bit) !== 0).map(([n]) => n);
}

/** Bits of a requestedProtocols mask that no protocol defines. */
export function unknownProtocolBits(mask: number): number {
  return (mask & ~0x1f) >>> 0;
}

/** selectedProtocol (a single value, not a mask) → name, or `unknown(0x…)`. */
export function selectedProtocolName(value: number): SelectedProtocol {
  return SELECTED_PROTOCOL_NAMES[value] ?? unknownName(value, 8);
}

// ------------------------------------------------------------------------------------------------------------------
// RDP_NEG_REQ (MS-RDPBCGR 2.2.1.1.1), rdpCorrelationInfo (2.2.1.1.2)

export const TYPE_RDP_NEG_REQ = 0x01;
export const TYPE_RDP_NEG_RSP = 0x02;
export const TYPE_RDP_NEG_FAILURE = 0x03;
export const TYPE_RDP_CORRELATION_INFO = 0x06;
export const RDP_NEG_LENGTH = 8;
export const RDP_CORRELATION_INFO_LENGTH = 36;

// flag values and names: vocab (NEG_REQUEST_FLAG_NAMES, CORRELATION_INFO_PRESENT …)

export function negRequestFlags(value: number): Flags {
  return { value, names: flagNames(NEG_REQUEST_FLAG_NAMES, value) };
}

// ------------------------------------------------------------------------------------------------------------------
// RDP_NEG_RSP flags (MS-RDPBCGR 2.2.1.2.1)

// flag values and names: vocab (NEG_RESPONSE_FLAG_NAMES, EXTENDED_CLIENT_DATA_SUPPORTED …)

export function negResponseFlags(value: number): Flags {
  return { value, names: flagNames(NEG_RESPONSE_FLAG_NAMES, value) };
}

// ------------------------------------------------------------------------------------------------------------------
// RDP_NEG_FAILURE failureCode (MS-RDPBCGR 2.2.1.2.2)

// failureCode names: vocab NEG_FAILURE_NAMES / negFailureName (one table, shared with diagnose).

// ------------------------------------------------------------------------------------------------------------------
// Connection Request (MS-RDPBCGR 2.2.1.1, 3.2.5.3.1)

const COOKIE_PREFIX = 'Cookie: mstshash=';
const CR = 0x0d;
const LF = 0x0a;
/** X.224 LI is one octet and 0xFF is reserved (X.224 §13.2.1), so a CR/CC TPDU is at most 255 octets. */
const MAX_LI = 254;

export interface ConnectionRequestOptions {
  /** IDENTIFIER of `Cookie: mstshash=IDENTIFIER\r\n`; null/undefined = no cookie. */
  cookie?: string | null;
  /** Opaque load-balancing token (CRLF appended). Mutually exclusive with cookie (2.2.1.1). */
  routingToken?: Uint8Array;
  /** Append RDP_NEG_REQ (default true). false = legacy CR as sent by pre-RDP-5.2 clients. */
  negReq?: boolean;
  requestedProtocols: number;
  /** RDP_NEG_REQ.flags (CORRELATION_INFO_PRESENT is added when correlationId is given). */
  negFlags?: number;
  /** 16 bytes: appends rdpCorrelationInfo (2.2.1.1.2) and sets CORRELATION_INFO_PRESENT. */
  correlationId?: Uint8Array;
}

export interface ConnectionRequest {
  dstRef: number;
  srcRef: number;
  classOption: number;
  /** IDENTIFIER from `Cookie: mstshash=IDENTIFIER`. */
  cookie?: string;
  /** Routing token without its CRLF. */
  routingToken?: Uint8Array;
  negReq?: { flags: number; requestedProtocols: number };
  correlationId?: Uint8Array;
}

/** Build the complete Client X.224 Connection Request PDU (TPKT included). */
export function encodeConnectionRequest(opts: ConnectionRequestOptions): Uint8Array {
  const { cookie, routingToken, correlationId } = opts;
  const negReq = opts.negReq ?? true;
  if (cookie != null && routingToken !== undefined) {
    throw new TypeError('cookie and routingToken are mutually exclusive (MS-RDPBCGR 2.2.1.1)');
  }
  if (!negReq && correlationId !== undefined) {
    throw new TypeError('rdpCorrelationInfo needs an RDP_NEG_REQ (its presence is flagged there)');
  }
  const w = new Writer(64);
  // x224Crq (X.224 §13.3): LI patched below, CR|CDT 0, DST-REF 0, SRC-REF 0, class 0
  w.u8(0).u8(X224_TPDU_CONNECTION_REQUEST).u16be(0).u16be(0).u8(0);
  if (cookie != null) {
    if (!/^[\x20-\x7e]*$/.test(cookie)) throw new TypeError('cookie must be printable ASCII without CR/LF');
    w.bytes(ascii(COOKIE_PREFIX + cookie)).u8(CR).u8(LF);
  } else if (routingToken !== undefined) {
    for (let i = 0; i + 1 < routingToken.length; i++) {
      if (routingToken[i] === CR && routingToken[i + 1] === LF) throw new TypeError('routingToken must not contain CRLF');
    }
    w.bytes(routingToken).u8(CR).u8(LF);
  }
  if (negReq) {
    const rp = opts.requestedProtocols >>> 0;
    if (rp !== opts.requestedProtocols) throw new TypeError(`requestedProtocols ${opts.requestedProtocols} is not a 32-bit value`);
    let flags = opts.negFlags ?? 0;
    if (correlationId !== undefined) flags |= CORRELATION_INFO_PRESENT;
    w.u8(TYPE_RDP_NEG_REQ).u8(flags).u16le(RDP_NEG_LENGTH).u32le(rp);
    if (correlationId !== undefined) {
      if (correlationId.length !== 16) throw new TypeError(`correlationId must be 16 bytes, got ${correlationId.length}`);
      // 2.2.1.1.2: first byte SHOULD NOT be 0x00 or 0xF4, and no byte SHOULD be 0x0D (it could be read as a cookie CR)
      if (correlationId[0] === 0x00 || correlationId[0] === 0xf4) throw new TypeError('correlationId must not start with 0x00 or 0xF4');
      if (correlationId.includes(CR)) throw new TypeError('correlationId must not contain 0x0D');
      w.u8(TYPE_RDP_CORRELATION_INFO).u8(0).u16le(RDP_CORRELATION_INFO_LENGTH).bytes(correlationId).zeros(16);
    }
  }
  const tpdu = w.finish();
  const li = tpdu.length - 1;
  if (li > MAX_LI) throw new RangeError(`Connection Request TPDU too long (LI ${li} > ${MAX_LI}); shorten the cookie/token`);
  tpdu[0] = li;
  return encodeTpkt(tpdu);
}

/** Decode a Client X.224 Connection Request (for replay and for testing fake peers). */
export function decodeConnectionRequest(tpktBytes: Uint8Array): ConnectionRequest {
  const tpdu = decodeTpkt(tpktBytes);
  const r = new Reader(tpktBytes, 'x224', TPKT_HEADER_LENGTH);
  readLi(r, tpdu.length);
  const code = r.u8('X224 CR.code');
  if (code !== X224_TPDU_CONNECTION_REQUEST) {
    r.fail('X224 CR.code', `expected Connection Request 0xE0, got 0x${hex2(code)}`);
  }
  const dstRef = r.u16be('X224 CR.DST-REF');
  const srcRef = r.u16be('X224 CR.SRC-REF');
  const classOption = r.u8('X224 CR.class');
  const out: ConnectionRequest = { dstRef, srcRef, classOption };
  // variable part: [cookie | routingToken] [RDP_NEG_REQ [rdpCorrelationInfo]]
  if (r.remaining > 0 && !looksLikeNegReq(r)) {
    const start = r.offset;
    const end = findCrlf(tpktBytes, start);
    if (end < 0) r.fail('X224 CR.cookie', 'variable data is neither RDP_NEG_REQ nor a CRLF-terminated cookie/routingToken');
    const line = tpktBytes.subarray(start, end);
    const text = latin1(line);
    if (text.startsWith(COOKIE_PREFIX)) out.cookie = text.slice(COOKIE_PREFIX.length);
    else out.routingToken = line.slice();
    r.skip(end + 2 - start, 'X224 CR.cookie');
  }
  if (r.remaining > 0) {
    const type = r.u8('RDP_NEG_REQ.type');
    if (type !== TYPE_RDP_NEG_REQ) r.fail('RDP_NEG_REQ.type', `expected 0x01, got 0x${hex2(type)}`);
    const flags = r.u8('RDP_NEG_REQ.flags');
    const length = r.u16le('RDP_NEG_REQ.length');
    if (length !== RDP_NEG_LENGTH) r.fail('RDP_NEG_REQ.length', `must be 8, got ${length}`);
    const requestedProtocols = r.u32le('RDP_NEG_REQ.requestedProtocols');
    out.negReq = { flags, requestedProtocols };
    // 2.2.1.1.2: rdpCorrelationInfo follows when flagged. Some clients may append it unflagged; accept type 0x06 too.
    if (r.remaining > 0 && ((flags & CORRELATION_INFO_PRESENT) !== 0 || r.peekU8('rdpCorrelationInfo.type') === TYPE_RDP_CORRELATION_INFO)) {
      const ctype = r.u8('rdpCorrelationInfo.type');
      if (ctype !== TYPE_RDP_CORRELATION_INFO) r.fail('rdpCorrelationInfo.type', `expected 0x06, got 0x${hex2(ctype)}`);
      r.skip(1, 'rdpCorrelationInfo.flags');
      const clen = r.u16le('rdpCorrelationInfo.length');
      if (clen !== RDP_CORRELATION_INFO_LENGTH) r.fail('rdpCorrelationInfo.length', `must be 36, got ${clen}`);
      out.correlationId = r.bytes(16, 'rdpCorrelationInfo.correlationId').slice();
      r.skip(16, 'rdpCorrelationInfo.reserved');
    } else if ((flags & CORRELATION_INFO_PRESENT) !== 0) {
      r.fail('rdpCorrelationInfo', 'CORRELATION_INFO_PRESENT is set but the structure is missing');
    }
  }
  if (r.remaining > 0) r.fail('X224 CR', `${r.remaining} unexpected trailing byte(s)`);
  return out;
}

function looksLikeNegReq(r: Reader): boolean {
  // RDP_NEG_REQ: type 0x01, flags, length 0x0008 LE. A cookie/token is text and never starts with 0x01.
  return r.remaining >= 8 && r.buf[r.offset] === TYPE_RDP_NEG_REQ && r.buf[r.offset + 2] === RDP_NEG_LENGTH && r.buf[r.offset + 3] === 0;
}

function findCrlf(b: Uint8Array, from: number): number {
  for (let i = from; i + 1 < b.length; i++) if (b[i] === CR && b[i + 1] === LF) return i;
  return -1;
}

// ------------------------------------------------------------------------------------------------------------------
// Connection Confirm (MS-RDPBCGR 2.2.1.2, 3.3.5.3.2)

export type NegotiationResult =
  | { kind: 'response'; flags: number; selectedProtocol: number }
  | { kind: 'failure'; flags: number; code: number }
  | { kind: 'absent' };

export interface ConnectionConfirm {
  /** X.224 SRC-REF: Windows and xrdp send 0x1234, FreeRDP 0. */
  sourceRef: number;
  dstRef: number;
  classOption: number;
  neg: NegotiationResult;
}

/**
 * Decode a Server X.224 Connection Confirm. Validates: TPKT length = bytes given, LI = TPKT length - 5, code 0xD0,
 * rdpNegData exactly 8 octets with length field 8 and type 2 (RDP_NEG_RSP) or 3 (RDP_NEG_FAILURE). LI 6 means the
 * server sent no rdpNegData (pre-Vista server or legacy CR; 3.3.5.3.2).
 */
export function decodeConnectionConfirm(tpktBytes: Uint8Array): ConnectionConfirm {
  const tpdu = decodeTpkt(tpktBytes);
  const r = new Reader(tpktBytes, 'x224', TPKT_HEADER_LENGTH);
  readLi(r, tpdu.length);
  const code = r.u8('X224 CC.code');
  if (code !== X224_TPDU_CONNECTION_CONFIRM) {
    r.fail('X224 CC.code', `expected Connection Confirm 0xD0, got 0x${hex2(code)}${(code & 0xf0) === X224_TPDU_DISCONNECT_REQUEST ? ' (Disconnect Request)' : ''}`);
  }
  const dstRef = r.u16be('X224 CC.DST-REF');
  const sourceRef = r.u16be('X224 CC.SRC-REF');
  const classOption = r.u8('X224 CC.class');
  if (r.remaining === 0) return { sourceRef, dstRef, classOption, neg: { kind: 'absent' } };
  const type = r.u8('rdpNegData.type');
  let name: string;
  if (type === TYPE_RDP_NEG_RSP) name = 'RDP_NEG_RSP';
  else if (type === TYPE_RDP_NEG_FAILURE) name = 'RDP_NEG_FAILURE';
  else return r.fail('rdpNegData.type', `expected 0x02 (RDP_NEG_RSP) or 0x03 (RDP_NEG_FAILURE), got 0x${hex2(type)}`);
  const flags = r.u8(`${name}.flags`);
  const length = r.u16le(`${name}.length`);
  if (length !== RDP_NEG_LENGTH) {
    throw new DecodeError('x224', `${name}.length`, r.offset - 2, `must be 8, got ${length}`);
  }
  const value = r.u32le(type === TYPE_RDP_NEG_RSP ? 'RDP_NEG_RSP.selectedProtocol' : 'RDP_NEG_FAILURE.failureCode');
  if (r.remaining > 0) r.fail('X224 CC', `${r.remaining} unexpected byte(s) after ${name}`);
  const neg: NegotiationResult =
    type === TYPE_RDP_NEG_RSP ? { kind: 'response', flags, selectedProtocol: value } : { kind: 'failure', flags, code: value };
  return { sourceRef, dstRef, classOption, neg };
}

export interface ConnectionConfirmOptions {
  sourceRef?: number;
  dstRef?: number;
  neg:
    | { kind: 'response'; flags?: number; selectedProtocol: number }
    | { kind: 'failure'; flags?: number; code: number }
    | { kind: 'absent' };
  /** For fake peers that lie: override the rdpNegData length field (spec: 8). */
  negLength?: number;
}

/** Build a Server X.224 Connection Confirm (TPKT included), for fake test peers. */
export function encodeConnectionConfirm(opts: ConnectionConfirmOptions): Uint8Array {
  const w = new Writer(32);
  w.u8(0).u8(X224_TPDU_CONNECTION_CONFIRM).u16be(opts.dstRef ?? 0).u16be(opts.sourceRef ?? 0x1234).u8(0);
  const n = opts.neg;
  if (n.kind === 'response') w.u8(TYPE_RDP_NEG_RSP).u8(n.flags ?? 0).u16le(opts.negLength ?? RDP_NEG_LENGTH).u32le(n.selectedProtocol);
  else if (n.kind === 'failure') w.u8(TYPE_RDP_NEG_FAILURE).u8(n.flags ?? 0).u16le(opts.negLength ?? RDP_NEG_LENGTH).u32le(n.code);
  const tpdu = w.finish();
  tpdu[0] = tpdu.length - 1;
  return encodeTpkt(tpdu);
}

// ------------------------------------------------------------------------------------------------------------------
// Disconnect Request (X.224 §13.5)

/** X.224 §13.5.3 reason codes. */
export const X224_DISCONNECT_REASON_NAMES: Readonly<Record<number, string>> = {
  0x00: 'reason-not-specified',
  0x01: 'congestion-at-tsap',
  0x02: 'session-entity-not-attached-to-tsap',
  0x03: 'address-unknown',
  0x80: 'normal-disconnect',
  0x81: 'remote-transport-entity-congestion',
  0x82: 'connection-negotiation-failed',
  0x83: 'duplicate-source-reference',
  0x84: 'mismatched-references',
  0x85: 'protocol-error',
  0x87: 'reference-overflow',
  0x88: 'connection-request-refused',
  0x8a: 'header-or-parameter-length-invalid',
};

export interface X224Disconnect {
  dstRef: number;
  srcRef: number;
  reason: Coded;
}

/** True when the bytes are a TPKT carrying an X.224 Disconnect Request TPDU (code 0x80). Never throws. */
export function isX224Disconnect(tpktBytes: Uint8Array): boolean {
  return tpktBytes.length >= 6 && tpktBytes[0] === 3 && (tpktBytes[5] & 0xf0) === X224_TPDU_DISCONNECT_REQUEST;
}

export function decodeX224Disconnect(tpktBytes: Uint8Array): X224Disconnect {
  const tpdu = decodeTpkt(tpktBytes);
  const r = new Reader(tpktBytes, 'x224', TPKT_HEADER_LENGTH);
  const li = readLi(r, tpdu.length);
  const code = r.u8('X224 DR.code');
  if ((code & 0xf0) !== X224_TPDU_DISCONNECT_REQUEST) r.fail('X224 DR.code', `expected Disconnect Request 0x80, got 0x${hex2(code)}`);
  if (li < 6) r.fail('X224 DR.LI', `fixed part needs LI ≥ 6, got ${li}`);
  const dstRef = r.u16be('X224 DR.DST-REF');
  const srcRef = r.u16be('X224 DR.SRC-REF');
  const reason = r.u8('X224 DR.reason');
  // variable part (additional information parameter) is ignored
  return { dstRef, srcRef, reason: { value: reason, name: nameOf(X224_DISCONNECT_REASON_NAMES, reason, 2) } };
}

// ------------------------------------------------------------------------------------------------------------------

/** LI = octets after LI in this TPDU (X.224 §13.2.1), so LI + 1 must equal the TPKT payload length. */
function readLi(r: Reader, tpduLength: number): number {
  const li = r.u8('X224.LI');
  if (li === 0xff) r.fail('X224.LI', 'LI 255 is reserved');
  if (li + 1 !== tpduLength) {
    throw new DecodeError('x224', 'X224.LI', r.offset - 1, `LI ${li} disagrees with the TPKT length (expected ${tpduLength - 1})`, tpduLength - 1, li);
  }
  if (li < 6) r.fail('X224.LI', `LI ${li} is shorter than the fixed part (6)`);
  return li;
}

function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

function latin1(b: Uint8Array): string {
  return String.fromCharCode(...b);
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
