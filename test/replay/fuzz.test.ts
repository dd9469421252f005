import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnose/index.js';
import { validateObservation } from '../../src/observation/validate.js';
import { replayStream } from '../../src/replay/replay.js';
import { CaptureFormatError, captureFromBytes } from '../../src/replay/stream.js';
import { prng } from '../helpers/prng.js';

// Mutated captures through the whole replay (stream → packets → flows → Observations → diagnose). Acceptable:
// a CaptureFormatError (not a capture at all), `damage` (the rest replayed), malformed frames counted. Anything
// else thrown is a bug; the seed, the iteration and the mutated file's hex are in the message. Seeded.

const SMALL = [
  'arkime-socks5-rdp.pcap',
  'zeek-rdp-no-cookie-mstshash.pcap',
  'zeek-rdp-x509.pcap',
  'zeek-rdp-unknown-keyboard.pcap',
  'zeek-rdp-invalid-length.pcap',
  'zeek-rdpeudp-handshake-fail.pcap',
  'ndpi-rdp.pcap',
  'ndpi-rdp_over_tls.pcap',
  'ndpi-rdp3.pcap',
  'ndpi-rdp2.pcap', // pcapng
];
const seeds = SMALL.map((f) => new Uint8Array(readFileSync(join(__dirname, '../../fixtures/pcap', f))));

/** Offsets of the record headers of a classic pcap (for length-field corruption). */
function pcapRecordOffsets(b: Uint8Array): number[] {
  const out: number[] = [];
  if (b.length < 24 || b[0] !== 0xd4) return out;
  for (let o = 24; o + 16 <= b.length; ) {
    out.push(o);
    const n = b[o + 8] | (b[o + 9] << 8) | (b[o + 10] << 16) | (b[o + 11] << 24);
    if (n < 0 || n > 1 << 18) break;
    o += 16 + n;
  }
  return out;
}

function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
  let b = src.slice();
  const int = (n: number) => Math.floor(rnd() * n);
  const recs = pcapRecordOffsets(src);
  for (let k = 1 + int(3); k > 0; k--) {
    switch (int(6)) {
      case 0: // bit flips (anywhere: headers, IP, TCP, payload)
        for (let j = 1 + int(8); j > 0; j--) if (b.length) b[int(b.length)] ^= 1 << int(8);
        break;
      case 1: // truncation
        b = b.slice(0, int(b.length + 1));
        break;
      case 2: // a record's captured length (pcap) or a block length (pcapng) corrupted
        if (recs.length && b.length > 24) {
          const o = recs[int(recs.length)] + 8;
          if (o + 4 <= b.length) {
            const v = [0, 1, 0xffffffff, 0x7fffffff, 65536, int(5000)][int(6)];
            b[o] = v & 255; b[o + 1] = (v >>> 8) & 255; b[o + 2] = (v >>> 16) & 255; b[o + 3] = v >>> 24;
          }
        } else if (b.length > 8) {
          const o = 4 * int(b.length / 4);
          if (o + 4 <= b.length) b[o] = int(256), (b[o + 1] = int(256));
        }
        break;
      case 3: // an IP / TCP / TPKT / TLS length field (16-bit big-endian window) set to a random or extreme value
        if (b.length > 40) {
          const i = 24 + int(b.length - 26);
          const v = [0, 0xffff, int(65536), (((b[i] << 8) | b[i + 1]) + int(9) - 4) & 0xffff][int(4)];
          b[i] = v >> 8;
          b[i + 1] = v & 255;
        }
        break;
      case 4: // a random run of bytes
        if (b.length) {
          const i = int(b.length);
          for (let j = 0; j < 1 + int(32) && i + j < b.length; j++) b[i + j] = int(256);
        }
        break;
      default: // duplicate a slice (repeated records, overlapping TCP data)
        if (b.length > 24) {
          const i = 24 + int(b.length - 24);
          const n = int(200);
          b = Uint8Array.from([...b.subarray(0, i), ...b.subarray(i, i + n), ...b.subarray(i)]);
        }
    }
  }
  return b;
}

describe('replay fuzz', () => {
  it('10,000 mutated captures: no crash, no hang (only CaptureFormatError, damage or malformed counts)', { timeout: 300_000 }, async () => {
    const rnd = prng(Number(process.env.FUZZ_SEED ?? 0x5eed9));
    let damaged = 0;
    let malformed = 0;
    let notCapture = 0;
    let attempts = 0;
    for (let i = 0; i < 10_000; i++) {
      let input = mutate(seeds[i % seeds.length], rnd);
      if (i % 50 === 0) input = new Uint8Array(gzipSync(input).subarray(0, rnd() < 0.5 ? undefined : Math.floor(rnd() * 400)));
      try {
        const r = await replayStream(captureFromBytes(input, 512 + (i % 7) * 300), { file: `fuzz-${i}` });
        if (r.damage) damaged++;
        malformed += r.malformed;
        attempts += r.attempts;
        for (const o of r.observations) {
          validateObservation(JSON.parse(JSON.stringify(o)));
          diagnose(o, { profile: 'mstsc' });
        }
      } catch (e) {
        if (e instanceof CaptureFormatError) {
          notCapture++;
          continue;
        }
        throw new Error(`iteration ${i}: ${(e as Error).stack}\ninput: ${Buffer.from(input).toString('hex').slice(0, 2000)}`);
      }
    }
    // the mutations must actually reach every outcome, or the test proves nothing
    expect(damaged).toBeGreaterThan(500);
    expect(malformed).toBeGreaterThan(500);
    expect(notCapture).toBeGreaterThan(10);
    expect(attempts).toBeGreaterThan(2000);
  });
});
