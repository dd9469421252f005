/**
 * A socket-free CredSSP client (MS-CSSP 3.1.5) with NTLM (MS-NLMP) as the only SPNEGO-free mechanism, the way
 * mstsc/FreeRDP/nmap put raw NTLM messages into TSRequest.negoTokens.
 *
 *   first()            → TSRequest { negoTokens: [NEGOTIATE] }
 *   next(CHALLENGE)    → without credentials: done, with the server's CHALLENGE (host/domain names, OS build, clock).
 *                        with credentials: TSRequest { negoTokens: [AUTHENTICATE], pubKeyAuth, clientNonce (v5+) }
 *   next(pubKeyAuth)   → verifies the server's echo, then TSRequest { authInfo: sealed TSCredentials }, done.
 *
 * The caller moves the bytes (TLS socket, framing with tsRequestLength) and owns every deadline. Outcomes are data:
 * a server errorCode comes back as `errorCode` (NTSTATUS name), a pubKeyAuth that does not verify as `error`.
 * Bytes that are not a valid TSRequest/NTLM message, or a TSRequest missing the field this leg requires, throw
 * DecodeError (→ "malformed"). Misuse (next() before first(), after done) throws Error.
 *
 * The password is held in a private field only until the TSCredentials leg; it never appears in a returned value,
 * an error message or a log line (nothing here logs).
 *
 * The server public key: CredSSP binds to the contents of the subjectPublicKey BIT STRING of the server's TLS
 * certificate (not the whole SubjectPublicKeyInfo). From `tlsSocket.getPeerCertificate().raw` use
 * subjectPublicKeyFromCertificate() in credssp.ts, or node:crypto
 * `new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' })` → subjectPublicKeyFromSpki().
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Coded } from '../observation/vocab.js';
import { decodeTSRequest, encodePasswordCredentials, encodeTSRequest } from './credssp.js';
import { DecodeError } from './errors.js';
import {
  decodeChallenge,
  DEFAULT_NEGOTIATE_FLAGS,
  encodeAuthenticate,
  encodeNegotiate,
  NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY,
  NTLMSSP_NEGOTIATE_UNICODE,
  NtlmSession,
  ntowfv1,
  SIGNATURE_LENGTH,
  type ChallengeMessage,
} from './ntlm/index.js';
import { ntstatusCoded } from './ntstatus.js';
import { concatBytes } from './writer.js';

/** MS-CSSP 3.1.5: the binding-hash magic strings, NUL included. */
const CLIENT_TO_SERVER = 'CredSSP Client-To-Server Binding Hash\0';
const SERVER_TO_CLIENT = 'CredSSP Server-To-Client Binding Hash\0';

/** The TSRequest version rdprobe speaks by default (MS-CSSP 2.2.1: 6 is current). */
export const DEFAULT_CREDSSP_VERSION = 6;

export interface CredsspClientOptions {
  /** "user", "DOMAIN\\user" (split when `domain` is not given) or "user@dns.domain" (sent as is). */
  user?: string;
  domain?: string;
  password?: string;
  /** Sent in AUTHENTICATE.Workstation; default empty. */
  workstation?: string;
  /** SubjectPublicKey of the server's TLS certificate (BIT STRING contents). Required with credentials. */
  serverPublicKey?: Uint8Array;
  /** Our TSRequest version, default 6. nmap/Metasploit send 0x60. */
  version?: number;
  /** NTLM NEGOTIATE flags, default DEFAULT_NEGOTIATE_FLAGS (0xE2888235). */
  negotiateFlags?: number;
  /**
   * After pubKeyAuth verifies, send the real password in TSCredentials (default true, what an RDP client does).
   * false sends TSPasswordCreds with empty domain, user and password: authentication is still proven, nothing is
   * delegated, and the server later prompts or refuses at logon.
   */
  delegate?: boolean;
  /** Injection points for tests: randomness and the clock. */
  random?: (n: number) => Uint8Array;
  now?: () => Date;
}

export type CredsspClientOutcome = 'challenge' | 'authenticated' | 'error-code' | 'failed';

export interface CredsspStep {
  /** Bytes to write to the TLS socket (one DER TSRequest). */
  send?: Uint8Array;
  /** No further server message is expected. */
  done?: boolean;
  /** TSRequest version in the server message just processed. */
  version?: number;
  /** Set on the step that processed the CHALLENGE: the decoded message and our clock when it arrived (the probe
   * maps both to the Observation's NtlmInfo, record/ntlm.ts). */
  challenge?: { message: ChallengeMessage; receivedAt: Date };
  /** TSRequest.errorCode from the server (NTSTATUS, unsigned), with its name. */
  errorCode?: Coded;
  /** Authentication-level failure (pubKeyAuth does not verify, unsupported NTLM flags). Never contains the secret. */
  error?: string;
  /** Set when done. */
  outcome?: CredsspClientOutcome;
}

type State = 'initial' | 'await-challenge' | 'await-pubkey' | 'done';

const concat = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts);

function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

function latin1(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'latin1'));
}

export class CredsspClient {
  readonly #user?: string;
  readonly #domain: string;
  #password?: string;
  readonly #ntHash?: Uint8Array;
  readonly #workstation: string;
  readonly #publicKey?: Uint8Array;
  readonly #version: number;
  readonly #flags: number;
  readonly #delegate: boolean;
  readonly #random: (n: number) => Uint8Array;
  readonly #now: () => Date;

  #state: State = 'initial';
  #negotiate?: Uint8Array;
  #session?: NtlmSession;
  #nonce?: Uint8Array;
  #credsspVersion?: number;

  constructor(opts: CredsspClientOptions = {}) {
    let user = opts.user;
    let domain = opts.domain;
    if (user !== undefined && domain === undefined) {
      const i = user.indexOf('\\');
      if (i >= 0) {
        domain = user.slice(0, i);
        user = user.slice(i + 1);
      }
    }
    if ((user === undefined) !== (opts.password === undefined)) {
      throw new TypeError('CredsspClient: user and password go together (give both or neither)');
    }
    if (opts.password !== undefined && !opts.serverPublicKey) {
      throw new TypeError('CredsspClient: serverPublicKey is required when credentials are given');
    }
    this.#user = user;
    this.#domain = domain ?? '';
    this.#password = opts.password;
    if (opts.password !== undefined) this.#ntHash = ntowfv1(opts.password);
    this.#workstation = opts.workstation ?? '';
    this.#publicKey = opts.serverPublicKey;
    this.#version = opts.version ?? DEFAULT_CREDSSP_VERSION;
    this.#flags = (opts.negotiateFlags ?? DEFAULT_NEGOTIATE_FLAGS) >>> 0;
    this.#delegate = opts.delegate !== false;
    this.#random = opts.random ?? ((n) => new Uint8Array(randomBytes(n)));
    this.#now = opts.now ?? (() => new Date());
  }

  get hasCredentials(): boolean {
    return this.#ntHash !== undefined;
  }

  /** CredSSP version both sides use: min(ours, the server's), known after the CHALLENGE leg. */
  get credsspVersion(): number | undefined {
    return this.#credsspVersion;
  }

  /** The first TSRequest: version + negoTokens [NTLM NEGOTIATE]. */
  first(): Uint8Array {
    if (this.#state !== 'initial') throw new Error('CredsspClient.first() called twice');
    this.#negotiate = encodeNegotiate({ flags: this.#flags });
    this.#state = 'await-challenge';
    return encodeTSRequest({ version: this.#version, negoTokens: [this.#negotiate] });
  }

  /** Feed one complete server TSRequest (framed with tsRequestLength). */
  next(serverTsRequest: Uint8Array): CredsspStep {
    if (this.#state === 'initial') throw new Error('CredsspClient.next() before first()');
    if (this.#state === 'done') throw new Error('CredsspClient.next() after the exchange finished');
    const req = decodeTSRequest(serverTsRequest);
    const step: CredsspStep = { version: req.version };
    // MS-CSSP 2.2.1: errorCode (v3+) reports the NTSTATUS of a failed SPNEGO/NTLM step. 0 would be STATUS_SUCCESS.
    if (req.errorCode !== undefined && req.errorCode !== 0) {
      step.errorCode = ntstatusCoded(req.errorCode);
      return this.#finish(step, 'error-code');
    }
    if (this.#state === 'await-challenge') return this.#onChallenge(req.version, req.negoTokens, step);
    return this.#onPubKeyAuth(req.pubKeyAuth, step);
  }

  #finish(step: CredsspStep, outcome: CredsspClientOutcome, error?: string): CredsspStep {
    this.#state = 'done';
    this.#password = undefined;
    step.done = true;
    step.outcome = outcome;
    if (error !== undefined) step.error = error;
    return step;
  }

  #onChallenge(serverVersion: number, tokens: Uint8Array[] | undefined, step: CredsspStep): CredsspStep {
    const token = tokens?.[0];
    if (!token) {
      throw new DecodeError('credssp', 'TSRequest.negoTokens', 0, 'the reply to NEGOTIATE carries neither an NTLM token nor an errorCode');
    }
    const raw = token.slice(); // the MIC covers these exact bytes
    const ch = decodeChallenge(raw);
    step.challenge = { message: ch, receivedAt: this.#now() };
    if (this.#ntHash === undefined || this.#user === undefined || this.#publicKey === undefined || !this.#negotiate) {
      return this.#finish(step, 'challenge');
    }
    for (const [bit, name] of [
      [NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY, 'NEGOTIATE_EXTENDED_SESSIONSECURITY'],
      [NTLMSSP_NEGOTIATE_UNICODE, 'NEGOTIATE_UNICODE'],
    ] as const) {
      if (!(ch.flags & bit)) return this.#finish(step, 'failed', `server CHALLENGE does not offer ${name}; rdprobe only speaks NTLMv2 with it`);
    }

    const auth = encodeAuthenticate({
      negotiate: this.#negotiate,
      challenge: ch,
      user: this.#user,
      domain: this.#domain,
      workstation: this.#workstation,
      ntHash: this.#ntHash,
      clientChallenge: this.#random(8),
      randomSessionKey: this.#random(16),
      now: this.#now(),
    });
    this.#session = new NtlmSession(auth.flags, auth.exportedSessionKey, 'client');

    // MS-CSSP 3.1.5: v5+ binds SHA-256(magic || ClientNonce || SubjectPublicKey); v2–4 seal the key itself.
    const v = Math.min(this.#version, serverVersion);
    this.#credsspVersion = v;
    let plain: Uint8Array;
    if (v >= 5) {
      this.#nonce = this.#random(32);
      plain = sha256(latin1(CLIENT_TO_SERVER), this.#nonce, this.#publicKey);
    } else {
      plain = this.#publicKey;
    }
    const { signature, sealed } = this.#session.seal(plain);
    step.send = encodeTSRequest({
      version: this.#version,
      negoTokens: [auth.message],
      pubKeyAuth: concat(signature, sealed),
      ...(this.#nonce ? { clientNonce: this.#nonce } : {}),
    });
    this.#state = 'await-pubkey';
    return step;
  }

  #onPubKeyAuth(pubKeyAuth: Uint8Array | undefined, step: CredsspStep): CredsspStep {
    if (!pubKeyAuth) {
      throw new DecodeError('credssp', 'TSRequest.pubKeyAuth', 0, 'the reply to AUTHENTICATE carries neither pubKeyAuth nor an errorCode');
    }
    if (pubKeyAuth.length < SIGNATURE_LENGTH) {
      throw new DecodeError('credssp', 'TSRequest.pubKeyAuth', 0, `pubKeyAuth of ${pubKeyAuth.length} bytes is shorter than an NTLM signature`, SIGNATURE_LENGTH, pubKeyAuth.length);
    }
    const session = this.#session!;
    const publicKey = this.#publicKey!;
    // For NTLM the sealed token is signature (16 bytes) followed by the encrypted data.
    const { data, signatureValid } = session.unseal(pubKeyAuth.subarray(0, SIGNATURE_LENGTH), pubKeyAuth.subarray(SIGNATURE_LENGTH));
    if (!signatureValid) {
      return this.#finish(step, 'failed', 'server pubKeyAuth: NTLM signature does not verify (server does not hold the same session key)');
    }
    let expected: Uint8Array;
    if (this.#credsspVersion! >= 5) {
      expected = sha256(latin1(SERVER_TO_CLIENT), this.#nonce!, publicKey);
    } else {
      // v2–4: the server echoes the public key with its first byte incremented by one.
      expected = publicKey.slice();
      if (expected.length) expected[0] = (expected[0] + 1) & 0xff;
    }
    if (!equalBytes(data, expected)) {
      return this.#finish(step, 'failed', 'server pubKeyAuth does not match our TLS public key binding (different key: TLS interception?)');
    }
    const creds = this.#delegate
      ? encodePasswordCredentials({ domainName: this.#domain, userName: this.#user!, password: this.#password ?? '' })
      : encodePasswordCredentials({ domainName: '', userName: '', password: '' });
    const { signature, sealed } = session.seal(creds);
    step.send = encodeTSRequest({ version: this.#version, authInfo: concat(signature, sealed) });
    return this.#finish(step, 'authenticated');
  }
}
