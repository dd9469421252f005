/**
 * Test helper (not a test file): the public captures in fixtures/pcap cut into PDUs with our own framer, so every
 * codec test starts from real bytes. Facts asserted in the tests come from fixtures/pcap/SOURCES.md.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { segmentsOf, tcpStreams, type TcpStream } from '../../src/replay/capture.js';
import { TpktFramer } from '../../src/codec/framer.js';
export { prng } from '../helpers/prng.js';

export const PCAP_DIR = fileURLToPath(new URL('../../fixtures/pcap/', import.meta.url));

export function streamsOf(file: string): TcpStream[] {
  return tcpStreams(segmentsOf(readFileSync(PCAP_DIR + file)), 3389);
}

/**
 * Frame a byte stream into TPKT / fast-path PDUs, stopping quietly where framing stops making sense (TLS records
 * after the negotiation, garbage). Returns the PDUs and the offset where framing stopped.
 */
export function pdusOf(bytes: Uint8Array, fastPath = true): { pdus: Uint8Array[]; consumed: number; error?: string } {
  const f = new TpktFramer({ maxPdu: 0xffff, fastPath });
  let pdus: Uint8Array[] = [];
  try {
    pdus = f.push(bytes);
  } catch {
    // the very first bytes were not a PDU; f.error says why
  }
  const consumed = pdus.reduce((n, p) => n + p.length, 0);
  return { pdus, consumed, error: f.error?.message };
}

export interface RdpConnection {
  /** PDUs the client sent, then those the server sent. */
  client: Uint8Array[];
  server: Uint8Array[];
  stream: TcpStream;
}

/**
 * The n-th TCP connection of a capture as client/server PDUs. The client is the side whose first PDU is an X.224
 * Connection Request (0xE0): in freerdp-pcap-sample.pcap both ports are 3389 and there is no SYN, so the port
 * heuristic of tcpStreams() picks the wrong side; only the content tells.
 */
export function connection(file: string, n = 0, skip: { c2s?: number; s2c?: number } = {}): RdpConnection {
  const stream = streamsOf(file)[n];
  if (!stream) throw new Error(`${file} has no TCP connection #${n}`);
  const a = pdusOf(stream.toServer.subarray(skip.c2s ?? 0)).pdus;
  const b = pdusOf(stream.toClient.subarray(skip.s2c ?? 0)).pdus;
  const isCr = (p: Uint8Array | undefined) => p !== undefined && p[0] === 3 && p[5] === 0xe0;
  if (isCr(a[0])) return { client: a, server: b, stream };
  if (isCr(b[0])) return { client: b, server: a, stream };
  throw new Error(`${file} #${n}: neither direction starts with an X.224 Connection Request`);
}

