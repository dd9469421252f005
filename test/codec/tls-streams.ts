import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { segmentsOf, tcpStreams } from '../../src/replay/capture.js';

/** The TLS part of an RDP connection: the bytes after the X.224 CR (client) and CC (server). */
export function tlsStreams(file: string, n = 0): { client: Uint8Array; server: Uint8Array } {
  const st = tcpStreams(segmentsOf(readFileSync(join(__dirname, '../../fixtures/pcap', file))), 3389)[n];
  const tpkt = (b: Uint8Array) => (b[2] << 8) | b[3];
  return { client: st.toServer.subarray(tpkt(st.toServer)), server: st.toClient.subarray(tpkt(st.toClient)) };
}

