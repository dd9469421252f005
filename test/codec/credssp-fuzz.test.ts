import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CredsspClient } from '../../src/codec/credssp-client.js';
import { decodeTSCredentials, decodeTSRequest, encodePasswordCredentials, encodeTSRequest, tsRequestLength } from '../../src/codec/credssp.js';
import { DecodeError } from '../../src/codec/errors.js';
import { decodeAuthenticate, decodeAvPairs, decodeChallenge, decodeNegotiate, encodeAuthenticate, encodeChallenge, encodeNegotiate, ntowfv1 } from '../../src/codec/ntlm/index.js';
import { hex } from '../../src/codec/writer.js';
import { prng } from '../helpers/prng.js';


const INTERESTING = [0x00, 0x01, 0x02, 0x04, 0x30, 0x7f, 0x80, 0x81, 0x82, 0x84, 0x89, 0xa0, 0xa1, 0xfe, 0xff];

function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
  let b = Array.from(src);
  const n = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < n; k++) {
    const pos = Math.floor(rnd() * Math.max(1, b.length));
    switch (Math.floor(rnd() * 7)) {
      case 0: // bit flip
        if (b.length) b[pos] ^= 1 << Math.floor(rnd() * 8);
        break;
      case 1: // interesting byte (DER tags and length forms)
        if (b.length) b[pos] = INTERESTING[Math.floor(rnd() * INTERESTING.length)];
        break;
      case 2: // random byte
        if (b.length) b[pos] = Math.floor(rnd() * 256);
        break;
      case 3: // truncate
        b = b.slice(0, pos);
        break;
      case 4: // delete a run
        b.splice(pos, 1 + Math.floor(rnd() * 8));
        break;
      case 5: // insert a run
        b.splice(pos, 0, ...Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => Math.floor(rnd() * 256)));
        break;
      case 6: // little-endian u16/u32 length/offset fields: big or off-by-one values
        if (b.length > pos + 1) {
          const v = [0xffff, 0x8000, b.length, b.length + 1, 0][Math.floor(rnd() * 5)];
          b[pos] = v & 0xff;
          b[pos + 1] = (v >> 8) & 0xff;
        }
        break;
    }
  }
  return new Uint8Array(b);
}

function onlyDecodeErrors(fn: () => unknown): 'ok' | 'decode-error' {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return 'decode-error';
  }
}

// Seeds: real message shapes (spec vectors and what our encoders produce for the lab server).
const SPEC_CHALLENGE = hex(`
  4e 54 4c 4d 53 53 50 00 02 00 00 00 0c 00 0c 00 38 00 00 00 33 82 8a e2 01 23 45 67 89 ab cd ef
  00 00 00 00 00 00 00 00 24 00 24 00 44 00 00 00 06 00 70 17 00 00 00 0f 53 00 65 00 72 00 76 00
  65 00 72 00 02 00 0c 00 44 00 6f 00 6d 00 61 00 69 00 6e 00 01 00 0c 00 53 00 65 00 72 00 76 00
  65 00 72 00 00 00 00 00
`);
const u16 = (s: string) => new Uint8Array(Buffer.from(s, 'utf16le'));
const FULL_CHALLENGE = encodeChallenge({
  flags: 0xe28a8235,
  serverChallenge: hex('01 23 45 67 89 ab cd ef'),
  targetName: 'LABS',
  targetInfo: [
    { id: 2, raw: u16('LABS') },
    { id: 1, raw: u16('HOST1') },
    { id: 4, raw: u16('labs.test') },
    { id: 3, raw: u16('host1.labs.test') },
    { id: 5, raw: u16('labs.test') },
    { id: 6, raw: hex('02 00 00 00') },
    { id: 7, raw: hex('e0 34 b0 58 28 3d da 01') },
    { id: 8, raw: new Uint8Array(48) },
    { id: 9, raw: u16('TERMSRV/host1') },
    { id: 10, raw: new Uint8Array(16) },
  ],
  version: { major: 10, minor: 0, build: 20348, revision: 15 },
});
const NEGOTIATE = encodeNegotiate();
const AUTHENTICATE = encodeAuthenticate({
  negotiate: NEGOTIATE,
  challenge: decodeChallenge(FULL_CHALLENGE),
  user: 'labuser',
  domain: 'LAB',
  workstation: 'WS',
  ntHash: ntowfv1('x'),
  clientChallenge: new Uint8Array(8),
  randomSessionKey: new Uint8Array(16).fill(0x55),
  now: new Date(0),
}).message;

const TS_SEEDS: Uint8Array[] = [
  encodeTSRequest({ version: 0x60, negoTokens: [encodeNegotiate({ flags: 0xe20882b7, emptyFieldOffsets: 'zero' })] }), // nmap's first TSRequest
  encodeTSRequest({ version: 6, negoTokens: [FULL_CHALLENGE] }),
  encodeTSRequest({ version: 2, negoTokens: [SPEC_CHALLENGE] }),
  encodeTSRequest({ version: 6, negoTokens: [AUTHENTICATE], pubKeyAuth: new Uint8Array(48).fill(1), clientNonce: new Uint8Array(32).fill(2) }),
  encodeTSRequest({ version: 6, errorCode: 0xc000006d }),
  encodeTSRequest({ version: 6, authInfo: encodePasswordCredentials({ domainName: 'LAB', userName: 'u', password: 'p' }) }),
];
const NTLM_SEEDS: Uint8Array[] = [SPEC_CHALLENGE, FULL_CHALLENGE, AUTHENTICATE, NEGOTIATE];

const ROUNDS = 2500;

describe('fuzz: mutated CredSSP / NTLM messages only ever raise DecodeError', () => {
  it(`decodeTSRequest + tsRequestLength + decodeChallenge of the token (${ROUNDS} × ${TS_SEEDS.length} seeds)`, () => {
    const rnd = prng(0xc5e55);
    const tally = { ok: 0, 'decode-error': 0 };
    for (const seed of TS_SEEDS) {
      for (let i = 0; i < ROUNDS; i++) {
        const m = mutate(seed, rnd);
        onlyDecodeErrors(() => {
          const n = tsRequestLength(m);
          if (n !== null) expect(n).toBeLessThanOrEqual(64 * 1024);
        });
        tally[
          onlyDecodeErrors(() => {
            const r = decodeTSRequest(m);
            for (const t of r.negoTokens ?? []) onlyDecodeErrors(() => decodeChallenge(t));
            if (r.authInfo) onlyDecodeErrors(() => decodeTSCredentials(r.authInfo!));
          })
        ]++;
      }
    }
    // Both paths were exercised (the mutator is not so destructive that nothing decodes).
    expect(tally.ok).toBeGreaterThan(100);
    expect(tally['decode-error']).toBeGreaterThan(1000);
  });

  it(`decodeChallenge / decodeAuthenticate / decodeNegotiate / decodeAvPairs (${ROUNDS} × ${NTLM_SEEDS.length} seeds)`, () => {
    const rnd = prng(0x4e544c4d);
    const tally = { ok: 0, 'decode-error': 0 };
    for (const seed of NTLM_SEEDS) {
      for (let i = 0; i < ROUNDS; i++) {
        const m = mutate(seed, rnd);
        for (const dec of [decodeChallenge, decodeAuthenticate, decodeNegotiate, decodeAvPairs]) tally[onlyDecodeErrors(() => dec(m))]++;
      }
    }
    expect(tally.ok).toBeGreaterThan(500);
    expect(tally['decode-error']).toBeGreaterThan(1000);
  });

  it('CredsspClient.next() on mutated server replies: DecodeError or a step, never anything else', () => {
    const publicKey = new Uint8Array(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'pkcs1', format: 'der' }));
    const rnd = prng(7);
    const reply = encodeTSRequest({ version: 6, negoTokens: [FULL_CHALLENGE] });
    for (let i = 0; i < 1500; i++) {
      const withCreds = i % 2 === 0;
      const c = new CredsspClient(withCreds ? { user: 'u', password: 'p', serverPublicKey: publicKey } : {});
      c.first();
      onlyDecodeErrors(() => {
        const step = c.next(mutate(reply, rnd));
        expect(step.done || step.send).toBeTruthy();
      });
    }
  });

  it('pure random bytes', () => {
    const rnd = prng(99);
    for (let i = 0; i < 3000; i++) {
      const m = new Uint8Array(Math.floor(rnd() * 80)).map(() => Math.floor(rnd() * 256));
      if (i % 3 === 0 && m.length) m[0] = 0x30;
      onlyDecodeErrors(() => decodeTSRequest(m));
      onlyDecodeErrors(() => tsRequestLength(m));
      onlyDecodeErrors(() => decodeChallenge(m));
    }
  });
});
