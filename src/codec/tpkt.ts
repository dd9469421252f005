/**
 * TPKT (T.123 §8 / RFC 1006 §6; MS-RDPBCGR 2.2.1.1 tpktHeader) and the X.224 class 0 Data TPDU that carries every
 * slow-path RDP PDU after the connection request (X.224 §13.7; MS-RDPBCGR 2.2.1.3 x224Data).
 *
 * ```
 * TPKT:  version (1) = 3 | reserved (1) = 0 | length (2, big-endian, includes these 4 octets)
 * X.224 DT: LI (1) = 2 | code (1) = 0xF0 (DT) | EOT/NR (1) = 0x80 (last data unit, class 0 never fragments)
 * ```
 */
import { DecodeError } from './errors.js';
import { Reader } from './reader.js';

export const TPKT_VERSION = 3; // T.123 §8: version number 3
export const TPKT_HEADER_LENGTH = 4;
/** The length field is 16 bits wide (T.123 §8), so no TPKT can claim more. */
export const MAX_TPKT_LENGTH = 0xffff;
/** The smallest useful TPKT: header + the 3-octet X.224 Data TPDU header (FreeRDP tpkt_read_header rejects < 7 too). */
export const MIN_TPKT_LENGTH = 7;

export const X224_TPDU_CONNECTION_REQUEST = 0xe0; // X.224 §13.3 CR
export const X224_TPDU_CONNECTION_CONFIRM = 0xd0; // X.224 §13.4 CC
export const X224_TPDU_DISCONNECT_REQUEST = 0x80; // X.224 §13.5 DR
export const X224_TPDU_DATA = 0xf0; // X.224 §13.7 DT
export const X224_TPDU_ERROR = 0x70; // X.224 §13.12 ER
/** DT header: LI 2, DT code, EOT (MS-RDPBCGR 2.2.1.3: "x224Data (3 bytes)"). */
export const X224_DATA_HEADER = Uint8Array.of(0x02, X224_TPDU_DATA, 0x80);

export interface TpktHeader {
  version: number;
  length: number;
}

/** Wrap a payload (X.224 TPDU) in a TPKT header. */
export function encodeTpkt(payload: Uint8Array): Uint8Array {
  const length = payload.length + TPKT_HEADER_LENGTH;
  if (length > MAX_TPKT_LENGTH) throw new RangeError(`TPKT payload of ${payload.length} bytes exceeds the 16-bit length field`);
  const out = new Uint8Array(length);
  out[0] = TPKT_VERSION;
  out[1] = 0;
  out[2] = length >> 8;
  out[3] = length & 0xff;
  out.set(payload, TPKT_HEADER_LENGTH);
  return out;
}

/** Read and validate a TPKT header at `offset` (version 3, length ≥ 7). Does not require the payload to be present. */
export function decodeTpktHeader(buf: Uint8Array, offset = 0): TpktHeader {
  const r = new Reader(buf, 'tpkt', offset);
  const version = r.u8('TPKT.version');
  if (version !== TPKT_VERSION) {
    throw new DecodeError('tpkt', 'TPKT.version', offset, `expected 3, got 0x${version.toString(16).padStart(2, '0')} (not a TPKT)`);
  }
  r.skip(1, 'TPKT.reserved'); // T.123: reserved, senders use 0; receivers do not check (FreeRDP, Windows)
  const length = r.u16be('TPKT.length');
  if (length < MIN_TPKT_LENGTH) {
    throw new DecodeError('tpkt', 'TPKT.length', offset + 2, `length ${length} is below the minimum ${MIN_TPKT_LENGTH}`);
  }
  return { version, length };
}

/**
 * Validate a complete TPKT (header + exactly `length` bytes) and return its payload (a view, not a copy).
 * The buffer must hold exactly one TPKT: extra or missing bytes are a DecodeError (MS-RDPBCGR 3.3.5.3.1: embedded
 * lengths are checked against the data received).
 */
export function decodeTpkt(buf: Uint8Array): Uint8Array {
  const h = decodeTpktHeader(buf);
  if (h.length !== buf.length) {
    throw new DecodeError('tpkt', 'TPKT.length', 2, `length field says ${h.length} bytes but the PDU has ${buf.length}`, h.length, buf.length);
  }
  return buf.subarray(TPKT_HEADER_LENGTH);
}

/** Prefix a payload with the X.224 Data TPDU header `02 F0 80` (returns the TPKT payload, not the TPKT). */
export function encodeX224Data(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(X224_DATA_HEADER.length + payload.length);
  out.set(X224_DATA_HEADER, 0);
  out.set(payload, X224_DATA_HEADER.length);
  return out;
}

/** Strip and check the X.224 Data TPDU header from a TPKT payload; returns the user data (a view). */
export function decodeX224Data(tpktPayload: Uint8Array): Uint8Array {
  const r = new Reader(tpktPayload, 'x224');
  const li = r.u8('X224 DT.LI');
  const code = r.u8('X224 DT.code');
  if ((code & 0xf0) !== X224_TPDU_DATA) {
    r.fail('X224 DT.code', `expected a Data TPDU (0xF0), got 0x${code.toString(16).padStart(2, '0')}`);
  }
  if (li !== 2) r.fail('X224 DT.LI', `class 0 Data TPDU has LI 2, got ${li}`);
  const eot = r.u8('X224 DT.EOT');
  if (!(eot & 0x80)) r.fail('X224 DT.EOT', 'EOT bit clear: segmented TPDUs do not exist in class 0');
  return r.rest();
}

/** encodeTpkt(encodeX224Data(payload)): the complete bytes to send for a slow-path PDU. */
export function wrapX224Data(payload: Uint8Array): Uint8Array {
  return encodeTpkt(encodeX224Data(payload));
}

/** decodeX224Data(decodeTpkt(pdu)): the user data of one complete TPKT + X.224 DT. */
export function unwrapX224Data(tpktBytes: Uint8Array): Uint8Array {
  return decodeX224Data(decodeTpkt(tpktBytes));
}
