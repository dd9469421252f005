import { createHash, generateKeyPairSync } from 'node:crypto';
import { ntlmInfo } from '../../src/record/ntlm.js';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { thrownBy } from '../helpers/throws.js';
import { CredsspClient, type CredsspStep } from '../../src/codec/credssp-client.js';
import { decodeTSCredentials, decodeTSPasswordCreds, decodeTSRequest, encodeTSRequest, type TSPasswordCreds } from '../../src/codec/credssp.js';
import { rc4 } from '../../src/codec/crypto-legacy.js';
import { DecodeError } from '../../src/codec/errors.js';
import {
  computeMic,
  decodeAuthenticate,
  decodeChallenge,
  decodeNegotiate,
  encodeChallenge,
  hmacMd5,
  msToFiletime,
  NTLMSSP_NEGOTIATE_KEY_EXCH,
  NtlmSession,
  ntowfv2,
} from '../../src/codec/ntlm/index.js';
import { toHex } from '../../src/codec/writer.js';

const PASSWORD = 'LabPass123!';
const u16 = (s: string) => new Uint8Array(Buffer.from(s, 'utf16le'));
const sha256 = (...p: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const x of p) h.update(x);
  return new Uint8Array(h.digest());
};
const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const concat = (a: Uint8Array, b: Uint8Array) => new Uint8Array([...a, ...b]);

/** SubjectPublicKey of a throwaway RSA key (PKCS#1 RSAPublicKey = BIT STRING contents). */
const PUBLIC_KEY = new Uint8Array(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'pkcs1', format: 'der' }));

function seeded(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      out[i] = (t ^ (t >>> 14)) & 0xff;
    }
    return out;
  };
}

function filetime(d: Date): Uint8Array {
  let v = msToFiletime(d.getTime());
  const b = new Uint8Array(8);
  for (let i = 0; i < 8; i++) (b[i] = Number(v & 0xffn)), (v >>= 8n);
  return b;
}

/**
 * A CredSSP/NTLM acceptor written from MS-CSSP 3.1.5 / MS-NLMP 3.2.5 with the codec's primitives: it checks the
 * NTLMv2 proof and the MIC, unseals and checks pubKeyAuth, echoes the binding, and unseals the credentials.
 */
class FakeServer {
  negotiate?: Uint8Array;
  challenge?: Uint8Array;
  session?: NtlmSession;
  clientVersion = 0;
  nonce?: Uint8Array;
  creds?: TSPasswordCreds;
  seenUser?: string;
  seenDomain?: string;
  readonly serverChallenge = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);

  constructor(
    readonly opts: {
      version: number;
      password?: string;
      flags?: number;
      publicKey?: Uint8Array;
      echo?: 'ok' | 'wrong-key' | 'bad-signature';
      rejectNegotiate?: number;
    },
  ) {}

  onNegotiate(bytes: Uint8Array): Uint8Array {
    const req = decodeTSRequest(bytes);
    if (this.opts.rejectNegotiate !== undefined) return encodeTSRequest({ version: this.opts.version, errorCode: this.opts.rejectNegotiate });
    this.clientVersion = req.version;
    this.negotiate = req.negoTokens![0];
    const neg = decodeNegotiate(this.negotiate);
    this.challenge = encodeChallenge({
      flags: this.opts.flags ?? ((neg.flags | 0x00820000) >>> 0), // + TARGET_INFO, TARGET_TYPE_SERVER
      serverChallenge: this.serverChallenge,
      targetName: 'RDPLAB-NLA',
      targetInfo: [
        { id: 2, raw: u16('RDPLAB-NLA') },
        { id: 1, raw: u16('RDPLAB-NLA') },
        { id: 4, raw: u16('rdplab-nla') },
        { id: 3, raw: u16('rdplab-nla') },
        { id: 7, raw: filetime(new Date('2025-03-04T05:06:07.000Z')) },
      ],
      version: { major: 6, minor: 1, build: 7601, revision: 15 },
    });
    return encodeTSRequest({ version: this.opts.version, negoTokens: [this.challenge] });
  }

  onAuthenticate(bytes: Uint8Array): Uint8Array {
    const req = decodeTSRequest(bytes);
    const auth = decodeAuthenticate(req.negoTokens![0]);
    this.seenUser = auth.user;
    this.seenDomain = auth.domain;
    const key = ntowfv2(this.opts.password ?? PASSWORD, auth.user, auth.domain);
    const temp = auth.ntChallengeResponse.subarray(16);
    const proof = hmacMd5(key, this.serverChallenge, temp);
    if (toHex(proof) !== toHex(auth.ntProofStr!)) {
      return encodeTSRequest({ version: this.opts.version, errorCode: 0xc000006d }); // what Windows answers
    }
    const sbk = hmacMd5(key, proof);
    const exported = auth.flags & NTLMSSP_NEGOTIATE_KEY_EXCH ? rc4(sbk, auth.encryptedRandomSessionKey) : sbk;
    const zeroed = req.negoTokens![0].slice();
    zeroed.fill(0, 72, 88);
    expect(toHex(computeMic(exported, this.negotiate!, this.challenge!, zeroed))).toBe(toHex(auth.mic!));

    this.session = new NtlmSession(auth.flags, exported, 'server');
    const pka = req.pubKeyAuth!;
    const { data, signatureValid } = this.session.unseal(pka.subarray(0, 16), pka.subarray(16));
    expect(signatureValid).toBe(true);
    const pub = this.opts.publicKey ?? PUBLIC_KEY;
    const v = Math.min(this.opts.version, req.version);
    let echo: Uint8Array;
    if (v >= 5) {
      this.nonce = req.clientNonce;
      expect(this.nonce?.length).toBe(32);
      expect(toHex(data)).toBe(toHex(sha256(ascii('CredSSP Client-To-Server Binding Hash\0'), this.nonce!, pub)));
      echo = sha256(ascii('CredSSP Server-To-Client Binding Hash\0'), this.nonce!, pub);
    } else {
      expect(req.clientNonce).toBeUndefined();
      expect(toHex(data)).toBe(toHex(pub));
      echo = pub.slice();
      echo[0] = (echo[0] + 1) & 0xff;
    }
    if (this.opts.echo === 'wrong-key') echo = sha256(ascii('some other key'));
    const sealed = this.session.seal(echo);
    if (this.opts.echo === 'bad-signature') sealed.signature[5] ^= 0xff;
    return encodeTSRequest({ version: this.opts.version, pubKeyAuth: concat(sealed.signature, sealed.sealed) });
  }

  onCredentials(bytes: Uint8Array): void {
    const req = decodeTSRequest(bytes);
    const a = req.authInfo!;
    const { data, signatureValid } = this.session!.unseal(a.subarray(0, 16), a.subarray(16));
    expect(signatureValid).toBe(true);
    const c = decodeTSCredentials(data);
    expect(c.credType).toBe(1);
    this.creds = decodeTSPasswordCreds(c.credentials);
  }
}

const NOW = () => new Date('2025-03-04T05:06:00.000Z');

function run(client: CredsspClient, server: FakeServer): CredsspStep[] {
  const steps: CredsspStep[] = [];
  const s1 = client.next(server.onNegotiate(client.first()));
  steps.push(s1);
  if (!s1.send) return steps;
  const s2 = client.next(server.onAuthenticate(s1.send));
  steps.push(s2);
  if (s2.send) server.onCredentials(s2.send);
  return steps;
}

describe('CredsspClient against an MS-CSSP/MS-NLMP acceptor', () => {
  for (const version of [6, 5, 4, 3, 2]) {
    it(`server version ${version}: NEGOTIATE → CHALLENGE → AUTHENTICATE+pubKeyAuth → echo → TSCredentials`, () => {
      const client = new CredsspClient({ user: 'labuser', domain: 'LAB', password: PASSWORD, serverPublicKey: PUBLIC_KEY, random: seeded(version), now: NOW });
      const server = new FakeServer({ version });
      const [s1, s2] = run(client, server);
      expect(s1.version).toBe(version);
      expect(s1.done).toBeFalsy();
      expect(s1.challenge!.receivedAt).toEqual(NOW());
      expect(ntlmInfo(s1.challenge!.message, s1.challenge!.receivedAt)).toMatchObject({
        targetName: 'RDPLAB-NLA',
        nbComputer: 'RDPLAB-NLA',
        dnsComputer: 'rdplab-nla',
        osVersion: '6.1.7601',
        timestamp: '2025-03-04T05:06:07.000Z',
        clockSkewMs: 7000,
      });
      expect(client.credsspVersion).toBe(version);
      expect(s2).toMatchObject({ done: true, outcome: 'authenticated', version });
      expect(s2.error).toBeUndefined();
      expect(server.creds).toEqual({ domainName: 'LAB', userName: 'labuser', password: PASSWORD });
    });
  }

  it('client version 0x60 (nmap style) against a v6 server uses the SHA-256 binding', () => {
    const client = new CredsspClient({ user: 'u', password: PASSWORD, serverPublicKey: PUBLIC_KEY, version: 0x60, random: seeded(9), now: NOW });
    const server = new FakeServer({ version: 6 });
    const [, s2] = run(client, server);
    expect(client.credsspVersion).toBe(6);
    expect(server.clientVersion).toBe(0x60);
    expect(s2.outcome).toBe('authenticated');
  });

  it('DOMAIN\\user is split; an empty domain is sent as empty', () => {
    const client = new CredsspClient({ user: 'LAB\\labuser', password: PASSWORD, serverPublicKey: PUBLIC_KEY, now: NOW });
    const server = new FakeServer({ version: 6 });
    run(client, server);
    expect([server.seenDomain, server.seenUser]).toEqual(['LAB', 'labuser']);
    const c2 = new CredsspClient({ user: 'labuser', password: PASSWORD, serverPublicKey: PUBLIC_KEY, now: NOW });
    const s2 = new FakeServer({ version: 6 });
    run(c2, s2);
    expect([s2.seenDomain, s2.seenUser]).toEqual(['', 'labuser']);
  });

  it('without credentials: stops after the CHALLENGE with the server info', () => {
    const client = new CredsspClient();
    const server = new FakeServer({ version: 6 });
    const [s1] = run(client, server);
    expect(s1).toMatchObject({ done: true, outcome: 'challenge', version: 6 });
    expect(s1.send).toBeUndefined();
    expect(ntlmInfo(s1.challenge!.message, s1.challenge!.receivedAt).nbDomain).toBe('RDPLAB-NLA');
    expect(() => client.next(new Uint8Array(0))).toThrow(/finished/);
  });

  it('wrong password: the server errorCode comes back as data (STATUS_LOGON_FAILURE)', () => {
    const client = new CredsspClient({ user: 'labuser', password: 'wrong', serverPublicKey: PUBLIC_KEY, now: NOW });
    const [, s2] = run(client, new FakeServer({ version: 6 }));
    expect(s2).toMatchObject({ done: true, outcome: 'error-code', errorCode: { value: 0xc000006d, name: 'STATUS_LOGON_FAILURE' } });
    expect(s2.send).toBeUndefined();
  });

  it('errorCode in reply to the NEGOTIATE', () => {
    const client = new CredsspClient();
    const [s1] = run(client, new FakeServer({ version: 6, rejectNegotiate: 0xc00000bb }));
    expect(s1).toMatchObject({ done: true, outcome: 'error-code', errorCode: { name: 'STATUS_NOT_SUPPORTED' } });
    expect(s1.challenge).toBeUndefined();
  });

  it('server echoes a different key binding: failed, no credentials sent', () => {
    const client = new CredsspClient({ user: 'u', password: PASSWORD, serverPublicKey: PUBLIC_KEY, now: NOW });
    const server = new FakeServer({ version: 6, echo: 'wrong-key' });
    const [, s2] = run(client, server);
    expect(s2).toMatchObject({ done: true, outcome: 'failed' });
    expect(s2.error).toMatch(/does not match/);
    expect(s2.send).toBeUndefined();
    expect(server.creds).toBeUndefined();
  });

  it('a server that bound a different TLS key (interception) is caught by the server-side check too', () => {
    const client = new CredsspClient({ user: 'u', password: PASSWORD, serverPublicKey: PUBLIC_KEY, now: NOW });
    const other = new Uint8Array(PUBLIC_KEY);
    other[20] ^= 1;
    const server = new FakeServer({ version: 6, publicKey: other });
    expect(() => run(client, server)).toThrow(); // the acceptor's own assertion fails: it sees another key
  });

  it('bad NTLM signature on the echo: failed', () => {
    const client = new CredsspClient({ user: 'u', password: PASSWORD, serverPublicKey: PUBLIC_KEY, now: NOW });
    const [, s2] = run(client, new FakeServer({ version: 6, echo: 'bad-signature' }));
    expect(s2.outcome).toBe('failed');
    expect(s2.error).toMatch(/signature/);
  });

  it('a CHALLENGE without extended session security is reported, not attempted', () => {
    const client = new CredsspClient({ user: 'u', password: PASSWORD, serverPublicKey: PUBLIC_KEY, now: NOW });
    const [s1] = run(client, new FakeServer({ version: 6, flags: 0x62808235 }));
    expect(s1).toMatchObject({ done: true, outcome: 'failed' });
    expect(s1.error).toContain('NEGOTIATE_EXTENDED_SESSIONSECURITY');
    expect(s1.challenge).toBeDefined();
  });

  it('delegate: false sends empty credentials after a verified binding', () => {
    const client = new CredsspClient({ user: 'u', password: PASSWORD, serverPublicKey: PUBLIC_KEY, delegate: false, now: NOW });
    const server = new FakeServer({ version: 6 });
    const [, s2] = run(client, server);
    expect(s2.outcome).toBe('authenticated');
    expect(server.creds).toEqual({ domainName: '', userName: '', password: '' });
  });

  it('malformed server messages throw DecodeError; misuse throws Error', () => {
    const c1 = new CredsspClient();
    expect(() => c1.next(encodeTSRequest({ version: 6 }))).toThrow(/before first/);
    c1.first();
    expect(() => c1.next(new Uint8Array([0x16, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]))).toThrow(DecodeError); // a TLS alert record
    const c2 = new CredsspClient();
    c2.first();
    const e = thrownBy(() => c2.next(encodeTSRequest({ version: 6 })), DecodeError);
    expect(e.field).toBe('TSRequest.negoTokens');
    const c3 = new CredsspClient();
    c3.first();
    expect(() => c3.next(encodeTSRequest({ version: 6, negoTokens: [new Uint8Array(10)] }))).toThrow(DecodeError);
    expect(() => c3.first()).toThrow(/twice/);

    const c4 = new CredsspClient({ user: 'u', password: PASSWORD, serverPublicKey: PUBLIC_KEY, now: NOW });
    const s = new FakeServer({ version: 6 });
    const s1 = c4.next(s.onNegotiate(c4.first()));
    s.onAuthenticate(s1.send!);
    expect(() => c4.next(encodeTSRequest({ version: 6 }))).toThrow(/pubKeyAuth/);
  });

  it('constructor checks', () => {
    expect(() => new CredsspClient({ user: 'u', password: PASSWORD })).toThrow(/serverPublicKey/);
    expect(() => new CredsspClient({ password: PASSWORD })).toThrow(TypeError);
    const e = thrownBy(() => new CredsspClient({ user: 'u', password: PASSWORD }), Error);
    expect(e.message).toMatch(/serverPublicKey/);
    expect(e.message).not.toContain(PASSWORD);
  });

  it('the password never appears in a returned value, the client object, or in clear in any bytes sent', () => {
    const outputs: unknown[] = [];
    const sent: Uint8Array[] = [];
    for (const server of [new FakeServer({ version: 6 }), new FakeServer({ version: 3 }), new FakeServer({ version: 6, echo: 'wrong-key' })]) {
      const client = new CredsspClient({ user: 'labuser', domain: 'LAB', password: PASSWORD, serverPublicKey: PUBLIC_KEY, now: NOW });
      const first = client.first();
      sent.push(first);
      const s1 = client.next(server.onNegotiate(first));
      outputs.push(s1, inspect(client, { showHidden: true, depth: 10 }));
      if (s1.send) sent.push(s1.send);
      const s2 = client.next(server.onAuthenticate(s1.send!));
      outputs.push(s2, inspect(client, { showHidden: true, depth: 10 }), JSON.stringify(client));
      if (s2.send) sent.push(s2.send);
    }
    const wrong = new CredsspClient({ user: 'labuser', password: PASSWORD, serverPublicKey: PUBLIC_KEY, now: NOW });
    const w1 = wrong.next(new FakeServer({ version: 6, password: 'other' }).onNegotiate(wrong.first()));
    outputs.push(w1);
    const text = JSON.stringify(outputs, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v));
    expect(text).not.toContain(PASSWORD);
    for (const b of sent) {
      const s = Buffer.from(b);
      expect(s.includes(Buffer.from(PASSWORD, 'utf16le'))).toBe(false);
      expect(s.includes(Buffer.from(PASSWORD, 'latin1'))).toBe(false);
    }
  });

  it('the AUTHENTICATE sent carries the server CHALLENGE timestamp and a MIC', () => {
    const client = new CredsspClient({ user: 'u', password: PASSWORD, serverPublicKey: PUBLIC_KEY, now: NOW, random: seeded(1) });
    const server = new FakeServer({ version: 6 });
    const s1 = client.next(server.onNegotiate(client.first()));
    const auth = decodeAuthenticate(decodeTSRequest(s1.send!).negoTokens![0]);
    expect(toHex(auth.ntChallengeResponse.subarray(24, 32))).toBe(toHex(filetime(new Date('2025-03-04T05:06:07.000Z'))));
    expect(auth.mic && toHex(auth.mic)).not.toBe('00'.repeat(16));
    expect(auth.flags).toBe(decodeChallenge(server.challenge!).flags); // the CHALLENGE's flags, as winpr does
  });
});
