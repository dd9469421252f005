/**
 * NTLM (MS-NLMP): NEGOTIATE / CHALLENGE / AUTHENTICATE messages, AV pairs, NTLMv2 response computation and NTLM
 * session security (sealing/signing with extended session security), as CredSSP over RDP uses them.
 *
 * Everything here is pure: bytes in, values out. Randomness and the clock come in as arguments, so the spec's test
 * vectors (MS-NLMP 4.2.4) can be reproduced exactly. Buffer offsets inside a message are relative to the start of
 * the message (its `NTLMSSP\0` signature) and every offset/length pair is bounds-checked before it is read.
 *
 * By responsibility: flags.ts (signature, message types, NegotiateFlags), wire.ts (VERSION, buffer fields, strings),
 * av-pairs.ts (AV_PAIR, FILETIME), messages.ts (NEGOTIATE / CHALLENGE / AUTHENTICATE), crypto.ts (NTOWFv2, NTLMv2
 * response, key derivation, MIC), session.ts (sealing and signing). The Observation's NtlmInfo is built in
 * record/ntlm.ts, not here.
 */
export * from './flags.js';
export { DEFAULT_VERSION, versionText, type NtlmVersion } from './wire.js';
export * from './av-pairs.js';
export * from './messages.js';
export * from './crypto.js';
export * from './session.js';
