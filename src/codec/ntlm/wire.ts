/** Pieces every NTLM message shares: the VERSION structure (MS-NLMP 2.2.2.10), payload buffer fields, strings, the header. */
import { DecodeError } from '../errors.js';
import type { Reader } from '../reader.js';
import { toHex, type Writer } from '../writer.js';
import { LAYER, NTLMSSP_SIGNATURE } from './flags.js';

// ---------------------------------------------------------------------------------------------------------------
// VERSION (MS-NLMP 2.2.2.10)

export interface NtlmVersion {
  major: number;
  minor: number;
  build: number;
  /** NTLMRevisionCurrent: 0x0F = NTLMSSP_REVISION_W2K3. */
  revision: number;
}

/** Version we put in our messages: 10.0.17763, revision 15, the same as nmap/Metasploit (PROTOCOL-NOTES 1.12). */
export const DEFAULT_VERSION: NtlmVersion = { major: 10, minor: 0, build: 17763, revision: 0x0f };

export function writeVersion(w: Writer, v: NtlmVersion): void {
  // ProductMajorVersion u8, ProductMinorVersion u8, ProductBuild u16le, Reserved 3, NTLMRevisionCurrent u8
  w.u8(v.major).u8(v.minor).u16le(v.build).zeros(3).u8(v.revision);
}

export function readVersion(r: Reader): NtlmVersion {
  const major = r.u8('Version.ProductMajorVersion');
  const minor = r.u8('Version.ProductMinorVersion');
  const build = r.u16le('Version.ProductBuild');
  r.skip(3, 'Version.Reserved');
  const revision = r.u8('Version.NTLMRevisionCurrent');
  return { major, minor, build, revision };
}

export function versionText(v: NtlmVersion): string {
  return `${v.major}.${v.minor}.${v.build}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Payload buffer fields (Len u16, MaxLen u16, BufferOffset u32), shared by all three messages

export interface BufferField {
  len: number;
  maxLen: number;
  offset: number;
  /** where the 8-byte field itself sits in the message (for error offsets) */
  at: number;
}

export function readField(r: Reader, name: string): BufferField {
  const at = r.offset;
  const len = r.u16le(`${name}Len`);
  const maxLen = r.u16le(`${name}MaxLen`);
  const offset = r.u32le(`${name}BufferOffset`);
  return { len, maxLen, offset, at };
}

/** The bytes a field points at; offsets are relative to the message start, and must stay inside the message. */
export function fieldBytes(msg: Uint8Array, f: BufferField, name: string): Uint8Array {
  if (f.len === 0) return msg.subarray(0, 0);
  if (f.offset + f.len > msg.length) {
    throw new DecodeError(
      LAYER,
      name,
      f.at,
      `buffer [${f.offset}, ${f.offset + f.len}) lies outside the ${msg.length}-byte message`,
      f.offset + f.len,
      msg.length,
    );
  }
  return msg.subarray(f.offset, f.offset + f.len);
}

export function utf16Decode(b: Uint8Array, field: string, at: number): string {
  if (b.length % 2) throw new DecodeError(LAYER, field, at, `odd length ${b.length} for a UTF-16LE string`);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf16le');
}

export function utf16Encode(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'utf16le'));
}

export function oemDecode(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

export function checkHeader(r: Reader, expectType: number): void {
  const sig = r.bytes(8, 'Signature');
  for (let i = 0; i < 8; i++) {
    if (sig[i] !== NTLMSSP_SIGNATURE[i]) r.fail('Signature', `not "NTLMSSP\\0" (${toHex(sig, ' ')})`);
  }
  const t = r.u32le('MessageType');
  if (t !== expectType) throw new DecodeError(LAYER, 'MessageType', 8, `expected ${expectType}, got ${t}`);
}
