/**
 * The three NTLM messages (MS-NLMP 2.2.1): NEGOTIATE, CHALLENGE, AUTHENTICATE — encode and decode. Buffer offsets
 * inside a message are relative to its `NTLMSSP\0` signature and every offset/length pair is bounds-checked.
 */
import { rc4 } from '../crypto-legacy.js';
import { DecodeError } from '../errors.js';
import { Reader } from '../reader.js';
import { Writer } from '../writer.js';
import { decodeAvPairs, encodeAvPairs, filetimeBytes, msToFiletime, MSV_AV_FLAG_MIC_PRESENT, MSV_AV_FLAGS, MSV_AV_TIMESTAMP, type AvPair } from './av-pairs.js';
import { computeMic, computeNtlmv2Response, ntowfv2FromHash } from './crypto.js';
import {
  LAYER,
  MESSAGE_AUTHENTICATE,
  MESSAGE_CHALLENGE,
  MESSAGE_NEGOTIATE,
  negotiateFlagNames,
  NTLMSSP_NEGOTIATE_KEY_EXCH,
  NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED,
  NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED,
  NTLMSSP_NEGOTIATE_UNICODE,
  NTLMSSP_NEGOTIATE_VERSION,
  NTLMSSP_SIGNATURE,
  DEFAULT_NEGOTIATE_FLAGS,
} from './flags.js';
import { checkHeader, DEFAULT_VERSION, fieldBytes, oemDecode, readField, readVersion, utf16Decode, utf16Encode, writeVersion, type BufferField, type NtlmVersion } from './wire.js';

// ---------------------------------------------------------------------------------------------------------------
// NEGOTIATE_MESSAGE (MS-NLMP 2.2.1.1)

export interface NegotiateOptions {
  flags?: number;
  /** null → no Version field (and NEGOTIATE_VERSION is cleared). Default {@link DEFAULT_VERSION}. */
  version?: NtlmVersion | null;
  /** OEM-encoded domain; sets NEGOTIATE_OEM_DOMAIN_SUPPLIED. */
  domain?: string;
  /** OEM-encoded workstation; sets NEGOTIATE_OEM_WORKSTATION_SUPPLIED. */
  workstation?: string;
  /**
   * BufferOffset of an empty DomainName/Workstation: 'payload' (the spec's SHOULD: where the payload would start)
   * or 'zero' (what nmap and Metasploit send; Windows accepts both).
   */
  emptyFieldOffsets?: 'payload' | 'zero';
}

export function encodeNegotiate(opts: NegotiateOptions = {}): Uint8Array {
  const version = opts.version === undefined ? DEFAULT_VERSION : opts.version;
  let flags = (opts.flags ?? DEFAULT_NEGOTIATE_FLAGS) >>> 0;
  if (version) flags = (flags | NTLMSSP_NEGOTIATE_VERSION) >>> 0;
  else flags = (flags & ~NTLMSSP_NEGOTIATE_VERSION) >>> 0;
  const domain = opts.domain ? new Uint8Array(Buffer.from(opts.domain, 'latin1')) : new Uint8Array(0);
  const ws = opts.workstation ? new Uint8Array(Buffer.from(opts.workstation, 'latin1')) : new Uint8Array(0);
  if (domain.length) flags = (flags | NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED) >>> 0;
  if (ws.length) flags = (flags | NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED) >>> 0;
  const zero = opts.emptyFieldOffsets === 'zero';

  const headerLen = 32 + (version ? 8 : 0);
  const w = new Writer(headerLen + domain.length + ws.length);
  w.bytes(NTLMSSP_SIGNATURE).u32le(MESSAGE_NEGOTIATE).u32le(flags);
  // DomainNameFields, WorkstationFields
  const domOff = headerLen;
  const wsOff = headerLen + domain.length;
  w.u16le(domain.length).u16le(domain.length).u32le(domain.length || !zero ? domOff : 0);
  w.u16le(ws.length).u16le(ws.length).u32le(ws.length || !zero ? wsOff : 0);
  if (version) writeVersion(w, version);
  w.bytes(domain).bytes(ws);
  return w.finish();
}

export interface NegotiateMessage {
  flags: number;
  flagNames: string[];
  domain?: string;
  workstation?: string;
  version?: NtlmVersion;
}

export function decodeNegotiate(msg: Uint8Array): NegotiateMessage {
  const r = new Reader(msg, LAYER);
  checkHeader(r, MESSAGE_NEGOTIATE);
  const flags = r.u32le('NegotiateFlags');
  const dom = readField(r, 'DomainName');
  const ws = readField(r, 'Workstation');
  const out: NegotiateMessage = { flags, flagNames: negotiateFlagNames(flags) };
  if (flags & NTLMSSP_NEGOTIATE_VERSION && payloadStart([dom, ws], msg.length) >= 40) out.version = readVersion(r);
  if (dom.len) out.domain = oemDecode(fieldBytes(msg, dom, 'DomainName'));
  if (ws.len) out.workstation = oemDecode(fieldBytes(msg, ws, 'Workstation'));
  return out;
}

/** Lowest offset of a non-empty payload buffer (the end of the header), or the message length if none. */
export function payloadStart(fields: BufferField[], msgLen: number): number {
  let m = msgLen;
  for (const f of fields) if (f.len && f.offset < m) m = f.offset;
  return m;
}

// ---------------------------------------------------------------------------------------------------------------
// CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2)

export interface ChallengeMessage {
  flags: number;
  flagNames: string[];
  serverChallenge: Uint8Array;
  targetName?: string;
  /** The AV pairs (without the terminating MsvAvEOL). Absent when TargetInfoLen is 0. */
  targetInfo?: AvPair[];
  /** TargetInfo exactly as sent (including MsvAvEOL): the NTLMv2 blob reuses the server's pairs. */
  targetInfoBytes?: Uint8Array;
  version?: NtlmVersion;
  /** The whole message as received (the MIC covers it byte for byte). */
  raw: Uint8Array;
}

/**
 * Decode a CHALLENGE_MESSAGE. `msg` must start at the signature (take it from TSRequest.negoTokens[0]; never search
 * a buffer for "NTLMSSP"). Layout: 0 Signature · 8 MessageType · 12 TargetNameFields · 20 NegotiateFlags ·
 * 24 ServerChallenge · 32 Reserved · 40 TargetInfoFields · 48 Version (if NEGOTIATE_VERSION) · payload.
 */
export function decodeChallenge(msg: Uint8Array): ChallengeMessage {
  const r = new Reader(msg, LAYER);
  checkHeader(r, MESSAGE_CHALLENGE);
  const tn = readField(r, 'TargetName');
  const flags = r.u32le('NegotiateFlags');
  const serverChallenge = r.bytes(8, 'ServerChallenge');
  r.skip(8, 'Reserved');
  const ti = readField(r, 'TargetInfo');
  const out: ChallengeMessage = { flags, flagNames: negotiateFlagNames(flags), serverChallenge, raw: msg };
  // Version is there when NEGOTIATE_VERSION is set and the payload does not start right after TargetInfoFields.
  if (flags & NTLMSSP_NEGOTIATE_VERSION && payloadStart([tn, ti], msg.length) >= 56) out.version = readVersion(r);

  if (tn.len) {
    const b = fieldBytes(msg, tn, 'TargetName');
    out.targetName = flags & NTLMSSP_NEGOTIATE_UNICODE ? utf16Decode(b, 'TargetName', tn.offset) : oemDecode(b);
  }
  if (ti.len) {
    const b = fieldBytes(msg, ti, 'TargetInfo');
    out.targetInfoBytes = b;
    out.targetInfo = decodeAvPairs(msg, ti.offset, ti.offset + ti.len);
  }
  return out;
}

export interface ChallengeInput {
  flags: number;
  serverChallenge: Uint8Array;
  targetName?: string;
  /** AV pairs (EOL appended automatically). */
  targetInfo?: readonly { id: number; raw: Uint8Array }[];
  version?: NtlmVersion | null;
}

/** Build a CHALLENGE_MESSAGE (server side; used by test peers). Payload: TargetName then TargetInfo. */
export function encodeChallenge(c: ChallengeInput): Uint8Array {
  const version = c.version === undefined ? DEFAULT_VERSION : c.version;
  const name = c.targetName !== undefined ? utf16Encode(c.targetName) : new Uint8Array(0);
  const info = c.targetInfo !== undefined ? encodeAvPairs(c.targetInfo) : new Uint8Array(0);
  const header = 48 + (version ? 8 : 0);
  const w = new Writer(header + name.length + info.length);
  w.bytes(NTLMSSP_SIGNATURE).u32le(MESSAGE_CHALLENGE);
  w.u16le(name.length).u16le(name.length).u32le(header);
  w.u32le(c.flags >>> 0).bytes(c.serverChallenge).zeros(8);
  w.u16le(info.length).u16le(info.length).u32le(header + name.length);
  if (version) writeVersion(w, version);
  w.bytes(name).bytes(info);
  return w.finish();
}

// ---------------------------------------------------------------------------------------------------------------
// AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3)

/** Header size with Version and MIC: 0 Signature … 64 Version(8) · 72 MIC(16) · 88 payload. */
const AUTH_HEADER = 88;
const AUTH_MIC_OFFSET = 72;

export interface AuthenticateInput {
  /** The NEGOTIATE bytes we sent and the CHALLENGE we received (MIC input). */
  negotiate: Uint8Array;
  challenge: ChallengeMessage;
  user: string;
  domain: string;
  workstation?: string;
  /** NTOWFv1 of the password (see {@link ntowfv1}); the password itself is not needed here. */
  ntHash: Uint8Array;
  /** 8 random bytes. */
  clientChallenge: Uint8Array;
  /** 16 random bytes, used when KEY_EXCH is negotiated. */
  randomSessionKey: Uint8Array;
  /** Our clock, used for the blob's Time when the server sent no MsvAvTimestamp. */
  now: Date;
  version?: NtlmVersion;
  /** Add MsvAvFlags MIC_PRESENT and the MIC (default true). */
  mic?: boolean;
}

export interface AuthenticateResult {
  message: Uint8Array;
  /** NegotiateFlags written in the message; session security is derived from these. */
  flags: number;
  exportedSessionKey: Uint8Array;
}

/**
 * Build the NTLMv2 AUTHENTICATE_MESSAGE for a CHALLENGE (MS-NLMP 3.1.5.1.2). Flags: the CHALLENGE's, as
 * FreeRDP/winpr do (the server derives the session keys from the flags it finds here). The blob carries the server's
 * AV pairs plus MsvAvFlags MIC_PRESENT; Time is the server's MsvAvTimestamp if it sent one, else `now`, and the
 * LM response is then Z(24). Payload order: DomainName, UserName, Workstation, LM, NT, EncryptedRandomSessionKey.
 */
export function encodeAuthenticate(a: AuthenticateInput): AuthenticateResult {
  const ch = a.challenge;
  const flags = ch.flags >>> 0;
  const withMic = a.mic !== false;

  const serverPairs = ch.targetInfo ?? [];
  const ts = serverPairs.find((p) => p.id === MSV_AV_TIMESTAMP);
  const time = ts ? ts.raw : filetimeBytes(msToFiletime(a.now.getTime()));
  const pairs: { id: number; raw: Uint8Array }[] = serverPairs.map((p) => ({ id: p.id, raw: p.raw }));
  if (withMic) {
    const f = pairs.find((p) => p.id === MSV_AV_FLAGS);
    if (f) {
      const v = (f.raw[0] | (f.raw[1] << 8) | (f.raw[2] << 16) | (f.raw[3] << 24) | MSV_AV_FLAG_MIC_PRESENT) >>> 0;
      f.raw = new Uint8Array([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]);
    } else {
      pairs.push({ id: MSV_AV_FLAGS, raw: new Uint8Array([MSV_AV_FLAG_MIC_PRESENT, 0, 0, 0]) });
    }
  }
  const blob = encodeAvPairs(pairs);

  const responseKeyNT = ntowfv2FromHash(a.ntHash, a.user, a.domain);
  const resp = computeNtlmv2Response(responseKeyNT, ch.serverChallenge, a.clientChallenge, time, blob);
  // 3.1.5.1.2: with MsvAvTimestamp present the client SHOULD send Z(24) instead of the LMv2 response.
  const lm = ts ? new Uint8Array(24) : resp.lmChallengeResponse;
  // 3.4.5.1 KXKEY for NTLMv2 is the SessionBaseKey; with KEY_EXCH the exported key is random and sent RC4-encrypted.
  const keyExchangeKey = resp.sessionBaseKey;
  let exportedSessionKey: Uint8Array = keyExchangeKey;
  let encryptedKey: Uint8Array = new Uint8Array(0);
  if (flags & NTLMSSP_NEGOTIATE_KEY_EXCH) {
    if (a.randomSessionKey.length !== 16) throw new RangeError('randomSessionKey must be 16 bytes');
    exportedSessionKey = a.randomSessionKey;
    encryptedKey = rc4(keyExchangeKey, a.randomSessionKey);
  }

  const dom = utf16Encode(a.domain);
  const user = utf16Encode(a.user);
  const ws = utf16Encode(a.workstation ?? '');
  const payload = [dom, user, ws, lm, resp.ntChallengeResponse, encryptedKey];
  const offsets: number[] = [];
  let off = AUTH_HEADER;
  for (const p of payload) {
    if (p.length > 0xffff) throw new RangeError(`AUTHENTICATE payload field of ${p.length} bytes`);
    offsets.push(off);
    off += p.length;
  }
  const field = (w: Writer, i: number) => w.u16le(payload[i].length).u16le(payload[i].length).u32le(offsets[i]);

  const w = new Writer(off);
  w.bytes(NTLMSSP_SIGNATURE).u32le(MESSAGE_AUTHENTICATE);
  field(w, 3); // LmChallengeResponseFields
  field(w, 4); // NtChallengeResponseFields
  field(w, 0); // DomainNameFields
  field(w, 1); // UserNameFields
  field(w, 2); // WorkstationFields
  field(w, 5); // EncryptedRandomSessionKeyFields
  w.u32le(flags);
  // Version: populated when NEGOTIATE_VERSION is set, else all zero (2.2.1.3).
  if (flags & NTLMSSP_NEGOTIATE_VERSION) writeVersion(w, a.version ?? DEFAULT_VERSION);
  else w.zeros(8);
  w.zeros(16); // MIC, filled in below
  for (const p of payload) w.bytes(p);
  const message = w.finish();
  if (withMic) message.set(computeMic(exportedSessionKey, a.negotiate, ch.raw, message), AUTH_MIC_OFFSET);
  return { message, flags, exportedSessionKey };
}

export interface AuthenticateMessage {
  flags: number;
  flagNames: string[];
  lmChallengeResponse: Uint8Array;
  ntChallengeResponse: Uint8Array;
  domain: string;
  user: string;
  workstation: string;
  encryptedRandomSessionKey: Uint8Array;
  version?: NtlmVersion;
  /** Present when the payload starts at 88 or later (Version + MIC in the header). */
  mic?: Uint8Array;
  /** For NTLMv2 responses (length > 24): NTProofStr and the blob's AV pairs. */
  ntProofStr?: Uint8Array;
  clientTargetInfo?: AvPair[];
}

/** Decode an AUTHENTICATE_MESSAGE (server side / replay). Strings are taken as UTF-16LE when UNICODE is set. */
export function decodeAuthenticate(msg: Uint8Array): AuthenticateMessage {
  const r = new Reader(msg, LAYER);
  checkHeader(r, MESSAGE_AUTHENTICATE);
  const lmF = readField(r, 'LmChallengeResponse');
  const ntF = readField(r, 'NtChallengeResponse');
  const domF = readField(r, 'DomainName');
  const userF = readField(r, 'UserName');
  const wsF = readField(r, 'Workstation');
  const keyF = readField(r, 'EncryptedRandomSessionKey');
  const flags = r.u32le('NegotiateFlags');
  const start = payloadStart([lmF, ntF, domF, userF, wsF, keyF], msg.length);
  const out: Partial<AuthenticateMessage> = { flags, flagNames: negotiateFlagNames(flags) };
  if (start >= 72) {
    const v = readVersion(r);
    if (flags & NTLMSSP_NEGOTIATE_VERSION) out.version = v;
  }
  if (start >= AUTH_HEADER) out.mic = r.bytes(16, 'MIC');
  const str = (f: BufferField, name: string) => {
    const b = fieldBytes(msg, f, name);
    return flags & NTLMSSP_NEGOTIATE_UNICODE ? utf16Decode(b, name, f.offset) : oemDecode(b);
  };
  out.lmChallengeResponse = fieldBytes(msg, lmF, 'LmChallengeResponse');
  out.ntChallengeResponse = fieldBytes(msg, ntF, 'NtChallengeResponse');
  out.domain = str(domF, 'DomainName');
  out.user = str(userF, 'UserName');
  out.workstation = str(wsF, 'Workstation');
  out.encryptedRandomSessionKey = fieldBytes(msg, keyF, 'EncryptedRandomSessionKey');
  if (ntF.len > 24) {
    // NTLMv2_RESPONSE: NTProofStr(16) then NTLMv2_CLIENT_CHALLENGE: 0x01 0x01 Z(6) Time(8) Challenge(8) Z(4) AvPairs
    if (ntF.len < 16 + 28 + 4) throw new DecodeError(LAYER, 'NtChallengeResponse', ntF.at, `NTLMv2 response of ${ntF.len} bytes is too short`);
    out.ntProofStr = out.ntChallengeResponse.subarray(0, 16);
    out.clientTargetInfo = decodeAvPairs(msg, ntF.offset + 16 + 28, ntF.offset + ntF.len);
  }
  return out as AuthenticateMessage;
}
