import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/codec/errors.js';
import { TpktFramer } from '../../src/codec/framer.js';
import {
  decodeClientDataBlocks,
  decodeConferenceCreateRequest,
  decodeConferenceCreateResponse,
  decodeServerCertificate,
  decodeServerDataBlocks,
} from '../../src/codec/gcc/index.js';
import {
  decodeConnectInitial,
  decodeConnectResponse,
  decodeDisconnectProviderUltimatum,
  encodeConnectInitial,
  encodeDisconnectProviderUltimatum,
  isDisconnectProviderUltimatum,
} from '../../src/codec/mcs.js';
import { decodeTpkt, decodeTpktHeader, decodeX224Data, unwrapX224Data } from '../../src/codec/tpkt.js';
import { hex } from '../../src/codec/writer.js';
import {
  decodeConnectionConfirm,
  decodeConnectionRequest,
  decodeX224Disconnect,
  encodeConnectionRequest,
  isX224Disconnect,
} from '../../src/codec/x224.js';
import { concatBytes } from '../../src/codec/writer.js';
const concat = (parts: Uint8Array[]): Uint8Array => concatBytes(parts);
import { connection, prng, streamsOf } from './framer-pdus.js';

// Random and mutated input through every decoder: the only acceptable failure is a DecodeError. Seeded, so a
// failure reproduces; the seed and the input are in the assertion message.

/** Real PDUs (and a few encoder outputs) to mutate. */
function corpus(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const take = (file: string, n: number, count: number) => {
    const c = connection(file, n);
    out.push(...c.client.slice(0, count), ...c.server.slice(0, count));
  };
  take('zeek-rdp-proprietary-encryption.pcap', 0, 1);
  take('zeek-rdp-proprietary-encryption.pcap', 1, 4);
  take('zeek-rdp-x509.pcap', 0, 2);
  take('ndpi-rdp3.pcap', 0, 2);
  take('suricata-verify-RDP-003.pcap', 0, 2);
  take('freerdp-pcap-sample.pcap', 0, 2);
  take('ndpi-rdp.pcap', 0, 1);
  take('zeek-rdp-to-ssl.pcap', 0, 1);
  out.push(streamsOf('zeek-rdp-invalid-length.pcap')[0].toClient.slice(0, 19));
  out.push(encodeConnectionRequest({ cookie: 'fuzz', requestedProtocols: 3, correlationId: hex('11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 01') }));
  out.push(encodeConnectInitial({ selectedProtocol: 1, encryptionMethods: 0x1b, extendedClientData: true, channels: ['rdpdr'] }));
  out.push(encodeDisconnectProviderUltimatum(3));
  out.push(hex('03 00 00 0b 06 80 00 00 12 34 80'));
  return out;
}

/** Decoders over a whole PDU, and over the layers inside it (so deep code sees mutated bytes too). */
const decoders: [string, (b: Uint8Array) => unknown][] = [
  ['decodeTpktHeader', (b) => decodeTpktHeader(b)],
  ['decodeTpkt', decodeTpkt],
  ['decodeX224Data', (b) => decodeX224Data(b.subarray(4))],
  ['decodeConnectionRequest', decodeConnectionRequest],
  ['decodeConnectionConfirm', decodeConnectionConfirm],
  ['decodeX224Disconnect', decodeX224Disconnect],
  ['isX224Disconnect', isX224Disconnect],
  ['decodeConnectInitial', decodeConnectInitial],
  ['decodeConnectResponse', decodeConnectResponse],
  ['isDisconnectProviderUltimatum', isDisconnectProviderUltimatum],
  ['decodeDisconnectProviderUltimatum', decodeDisconnectProviderUltimatum],
  ['decodeConferenceCreateRequest', (b) => decodeConferenceCreateRequest(b.subarray(Math.min(b.length, 15)))],
  ['decodeConferenceCreateResponse', (b) => decodeConferenceCreateResponse(b.subarray(Math.min(b.length, 15)))],
  ['decodeClientDataBlocks', (b) => decodeClientDataBlocks(b.subarray(Math.min(b.length, 7)))],
  ['decodeServerDataBlocks', (b) => decodeServerDataBlocks(b.subarray(Math.min(b.length, 7)))],
  ['decodeServerCertificate', (b) => decodeServerCertificate(b)],
  ['framer', (b) => new TpktFramer({ fastPath: true, maxPdu: 4096 }).push(b)],
];

function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
  let b: Uint8Array = src.slice();
  const int = (n: number) => Math.floor(rnd() * n);
  const ops = 1 + int(4);
  for (let k = 0; k < ops; k++) {
    switch (int(7)) {
      case 0: // flip bits
        if (b.length) b[int(b.length)] ^= 1 << int(8);
        break;
      case 1: // interesting values
        if (b.length) b[int(b.length)] = [0x00, 0xff, 0x7f, 0x80, 0x81, 0x82, 0x03, 0x01][int(8)];
        break;
      case 2: // truncate
        b = b.slice(0, int(b.length + 1));
        break;
      case 3: // append random bytes
        b = concat([b, Uint8Array.from({ length: 1 + int(16) }, () => int(256))]);
        break;
      case 4: {
        // delete a byte
        const i = int(b.length + 1);
        b = concat([b.subarray(0, i), b.subarray(i + 1)]);
        break;
      }
      case 5: {
        // insert a byte
        const i = int(b.length + 1);
        b = concat([b.subarray(0, i), Uint8Array.of(int(256)), b.subarray(i)]);
        break;
      }
      default: // overwrite a 16-bit window (length fields) with a random value
        if (b.length > 1) {
          const i = int(b.length - 1);
          b[i] = int(256);
          b[i + 1] = int(256);
        }
    }
  }
  // half the time make the TPKT header honest again so the mutation reaches the layers below it
  if (rnd() < 0.5 && b.length >= 4 && b.length <= 0xffff) {
    b[0] = 3;
    b[2] = b.length >> 8;
    b[3] = b.length & 0xff;
  }
  return b;
}

function run(name: string, fn: (b: Uint8Array) => unknown, input: Uint8Array, where: string, tally: { ok: number; decodeError: number }) {
  try {
    fn(input);
    tally.ok++;
  } catch (e) {
    if (!(e instanceof DecodeError)) {
      const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      throw new Error(`${name} threw a non-DecodeError (${msg}) on ${where}: ${Buffer.from(input).toString('hex')}`);
    }
    tally.decodeError++;
  }
}

describe('fuzz: mutated real PDUs and random bytes throw only DecodeError', () => {
  const pdus = corpus();

  it('the corpus decodes cleanly before mutation (so the mutations start from valid PDUs)', () => {
    expect(pdus.length).toBeGreaterThan(25);
    // every PDU except the deliberately malformed invalid-length CC is accepted by at least one PDU decoder
    const pduDecoders = [decodeConnectionRequest, decodeConnectionConfirm, decodeConnectInitial, decodeConnectResponse, decodeX224Disconnect, decodeDisconnectProviderUltimatum, unwrapX224Data];
    const accepted = pdus.filter((p) =>
      pduDecoders.some((d) => {
        try {
          d(p);
          return true;
        } catch {
          return false;
        }
      }),
    );
    expect(accepted.length).toBe(pdus.length - 1);
  });

  it('4000 seeded mutations through every decoder', () => {
    const seed = 20261121;
    const rnd = prng(seed);
    const tally = { ok: 0, decodeError: 0 };
    for (let i = 0; i < 4000; i++) {
      const src = pdus[i % pdus.length];
      const m = mutate(src, rnd);
      for (const [name, fn] of decoders) run(name, fn, m, `seed ${seed} mutation ${i}`, tally);
    }
    // both outcomes happen: the fuzzer neither only breaks headers nor only leaves PDUs intact
    expect(tally.ok).toBeGreaterThan(4000);
    expect(tally.decodeError).toBeGreaterThan(20000);
  });

  it('1000 random buffers, half of them starting like a TPKT', () => {
    const seed = 7;
    const rnd = prng(seed);
    const tally = { ok: 0, decodeError: 0 };
    for (let i = 0; i < 1000; i++) {
      const len = Math.floor(rnd() * 400);
      const b = Uint8Array.from({ length: len }, () => Math.floor(rnd() * 256));
      if (i % 2 && len >= 4) {
        b[0] = 3;
        b[2] = len >> 8;
        b[3] = len & 0xff;
        if (len > 7 && i % 4 === 1) b.set([2, 0xf0, 0x80], 4);
      }
      for (const [name, fn] of decoders) run(name, fn, b, `seed ${seed} buffer ${i}`, tally);
    }
    expect(tally.decodeError).toBeGreaterThan(1000);
  });

  it('a mutated stream through the framer in random chunks', () => {
    const rnd = prng(99);
    const stream = concat(pdus);
    for (let i = 0; i < 300; i++) {
      const m = mutate(stream, rnd);
      const f = new TpktFramer({ fastPath: rnd() < 0.5, maxPdu: 0xffff });
      let off = 0;
      try {
        while (off < m.length) {
          const n = 1 + Math.floor(rnd() * 700);
          for (const pdu of f.push(m.subarray(off, off + n))) {
            expect(pdu.length).toBeLessThanOrEqual(0xffff);
            for (const [name, fn] of decoders) run(name, fn, pdu, `stream mutation ${i}`, { ok: 0, decodeError: 0 });
          }
          off += n;
        }
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
      }
      expect(f.buffered).toBeLessThanOrEqual(0xffff);
    }
  });
});
