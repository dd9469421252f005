/** NTLM session security (MS-NLMP 3.4) with extended session security: sealing, signing, sequence numbers. */
import { timingSafeEqual } from 'node:crypto';
import { Rc4 } from '../crypto-legacy.js';
import { concatBytes } from '../writer.js';
import { hmacMd5, sealKey, signKey } from './crypto.js';
import { NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY, NTLMSSP_NEGOTIATE_KEY_EXCH } from './flags.js';

/** NTLMSSP_MESSAGE_SIGNATURE with extended session security (2.2.2.9.1): Version=1, Checksum(8), SeqNum. */
export const SIGNATURE_LENGTH = 16;

function u32leBytes(n: number): Uint8Array {
  return new Uint8Array([n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff]);
}

/**
 * One NTLM security context's message protection, connection-oriented: one RC4 handle and one sequence number per
 * direction for the life of the context (3.4.4.2, 3.4.3). `role` is ours: a client seals with the client-to-server
 * keys and unseals with the server-to-client keys.
 */
export class NtlmSession {
  readonly #keyExch: boolean;
  readonly #sendSign: Uint8Array;
  readonly #recvSign: Uint8Array;
  readonly #sendRc4: Rc4;
  readonly #recvRc4: Rc4;
  #sendSeq = 0;
  #recvSeq = 0;

  constructor(flags: number, exportedSessionKey: Uint8Array, role: 'client' | 'server') {
    if (!(flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY)) {
      throw new RangeError('NTLM session security without NEGOTIATE_EXTENDED_SESSIONSECURITY is not implemented');
    }
    const peer = role === 'client' ? 'server' : 'client';
    this.#keyExch = (flags & NTLMSSP_NEGOTIATE_KEY_EXCH) !== 0;
    this.#sendSign = signKey(exportedSessionKey, role);
    this.#recvSign = signKey(exportedSessionKey, peer);
    this.#sendRc4 = new Rc4(sealKey(flags, exportedSessionKey, role));
    this.#recvRc4 = new Rc4(sealKey(flags, exportedSessionKey, peer));
  }

  /** MAC (3.4.4.2): HMAC_MD5(SigningKey, SeqNum || Message)[0..7], RC4'd with the sealing handle under KEY_EXCH. */
  #mac(rc: Rc4, key: Uint8Array, seq: number, message: Uint8Array): Uint8Array {
    const seqBytes = u32leBytes(seq);
    let checksum = hmacMd5(key, seqBytes, message).subarray(0, 8);
    if (this.#keyExch) checksum = rc.update(checksum);
    return concatBytes([u32leBytes(1), checksum, seqBytes]);
  }

  /** SEAL (3.4.3): encrypt with this direction's RC4 handle, then sign; the sequence number advances. */
  seal(message: Uint8Array): { signature: Uint8Array; sealed: Uint8Array } {
    const sealed = this.#sendRc4.update(message);
    const signature = this.#mac(this.#sendRc4, this.#sendSign, this.#sendSeq, message);
    this.#sendSeq = (this.#sendSeq + 1) >>> 0;
    return { signature, sealed };
  }

  /** UNSEAL: decrypt, recompute the signature with the expected sequence number, compare in constant time. */
  unseal(signature: Uint8Array, sealed: Uint8Array): { data: Uint8Array; signatureValid: boolean } {
    const data = this.#recvRc4.update(sealed);
    const expected = this.#mac(this.#recvRc4, this.#recvSign, this.#recvSeq, data);
    this.#recvSeq = (this.#recvSeq + 1) >>> 0;
    const signatureValid = signature.length === SIGNATURE_LENGTH && timingSafeEqual(expected, signature);
    return { data, signatureValid };
  }
}
