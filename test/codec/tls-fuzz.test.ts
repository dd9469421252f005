import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/codec/errors.js';
import { certificateFacts } from '../../src/record/certificate.js';
import { decodeAlert, decodeCertificateList, decodeClientHello, decodeServerHello, readTlsFlight, scanRecords, splitHandshake } from '../../src/codec/tls/handshake.js';
import { prng } from '../helpers/prng.js';
import { tlsStreams } from './tls-streams.js';

// Random and mutated TLS bytes through every TLS decoder: readTlsFlight never throws, the message decoders throw
// DecodeError only. Seeded: the seed and the input are in the assertion message.

function corpus(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const f of ['ndpi-rdp.pcap', 'zeek-rdp-to-ssl.pcap', 'ndpi-rdp_over_tls.pcap', 'zeek-rdp-no-cookie-mstshash.pcap']) {
    const s = tlsStreams(f);
    out.push(s.client.slice(0, 4096), s.server.slice(0, 4096));
  }
  return out;
}

function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
  let b = src.slice();
  const int = (n: number) => Math.floor(rnd() * n);
  for (let k = 1 + int(4); k > 0; k--) {
    const op = int(5);
    if (op === 0 && b.length) b[int(b.length)] ^= 1 << int(8);
    else if (op === 1) b = b.slice(0, int(b.length + 1));
    else if (op === 2 && b.length > 1) {
      // corrupt a length field (record 16-bit, handshake 24-bit): random or off by a little
      const i = int(b.length - 1);
      b[i] = rnd() < 0.5 ? int(256) : (b[i] + int(3) - 1) & 255;
      b[i + 1] = int(256);
    } else if (op === 3 && b.length) b[int(b.length)] = [0x00, 0xff, 0x16, 0x03, 0x14, 0x15, 0x17][int(7)];
    else {
      const i = int(b.length + 1);
      b = Uint8Array.from([...b.subarray(0, i), ...Array.from({ length: 1 + int(8) }, () => int(256)), ...b.subarray(i)]);
    }
  }
  return b;
}

const bodyDecoders: [string, (b: Uint8Array) => unknown][] = [
  ['decodeClientHello', decodeClientHello],
  ['decodeServerHello', decodeServerHello],
  ['decodeCertificateList', decodeCertificateList],
  ['decodeAlert', decodeAlert],
  ['certificateFacts', (b) => certificateFacts(b, new Date(0))],
];

describe('TLS parser fuzz', () => {
  it('6,000 mutated flights: readTlsFlight never throws; message decoders throw DecodeError only', () => {
    const seeds = corpus();
    const rnd = prng(0x715);
    for (let i = 0; i < 6000; i++) {
      const seed = seeds[i % seeds.length];
      const input = mutate(seed, rnd);
      let f;
      try {
        f = readTlsFlight(input);
        scanRecords(input);
      } catch (e) {
        throw new Error(`iteration ${i}: readTlsFlight threw ${(e as Error).stack} on ${Buffer.from(input).toString('hex').slice(0, 400)}`);
      }
      expect(f.records.length).toBeLessThanOrEqual(4096);
      // every handshake message body (as mutated) through each decoder
      const hs = new Uint8Array(input.length);
      let n = 0;
      for (const r of scanRecords(input).records) if (r.type === 22) hs.set(r.fragment, n), (n += r.fragment.length);
      for (const m of splitHandshake(hs.subarray(0, n)).messages.slice(0, 4)) {
        for (const [name, dec] of bodyDecoders) {
          try {
            dec(m.body);
          } catch (e) {
            if (!(e instanceof DecodeError)) throw new Error(`iteration ${i}: ${name} threw ${(e as Error).stack}`);
          }
        }
      }
    }
  });

  it('4,000 random byte strings through every decoder', () => {
    const rnd = prng(0xbadc0de);
    for (let i = 0; i < 4000; i++) {
      const b = Uint8Array.from({ length: Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256));
      if (rnd() < 0.5 && b.length > 5) (b[0] = 0x16), (b[1] = 3), (b[2] = 3);
      expect(() => readTlsFlight(b)).not.toThrow();
      for (const [name, dec] of bodyDecoders) {
        try {
          dec(b);
        } catch (e) {
          if (!(e instanceof DecodeError)) throw new Error(`iteration ${i}: ${name} threw ${(e as Error).stack}`);
        }
      }
    }
  });
});
