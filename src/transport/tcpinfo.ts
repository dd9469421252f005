import type net from 'node:net';
import type { TcpInfoSnapshot } from '../observation/types.js';
import { loadNative } from './native.js';

/**
 * The kernel's view of one TCP connection (Linux TCP_INFO, struct tcp_info in linux/tcp.h). Offsets are the kernel's
 * ABI, which only ever appends fields; a field beyond what this kernel returned is left out. What it adds to a stall
 * at the application layer: whether data arrived *beyond a hole* (out-of-order packets held by the kernel) — the tail
 * of a server flight whose full-size segments were dropped on the way, the PMTU black-hole signature.
 */
const OFF = {
  state: 0,
  retransmits: 2,
  rto: 8,
  sndMss: 16,
  rcvMss: 20,
  lastDataRecv: 52,
  pmtu: 60,
  rtt: 68,
  rttvar: 72,
  totalRetrans: 100,
  bytesReceived: 128, // u64
  segsIn: 140,
  dataSegsIn: 152,
  rcvOoopack: 224,
} as const;

const TCP_INFO_LINUX = 11; // linux/tcp.h
const MAX_LEN = 256;

export function tcpInfo(socket: net.Socket): TcpInfoSnapshot | undefined {
  const load = loadNative();
  if (!load.addon || load.addon.platform !== 'linux' || typeof load.addon.getsockoptBytes !== 'function') return undefined;
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return undefined;
  let b: Buffer;
  try {
    b = load.addon.getsockoptBytes(fd, load.addon.constants.IPPROTO_TCP ?? 6, load.addon.constants.TCP_INFO ?? TCP_INFO_LINUX, MAX_LEN);
  } catch {
    return undefined;
  }
  return parseTcpInfo(b);
}

/** Parse the bytes of struct tcp_info (little-endian on every platform Linux runs rdprobe on here: x86_64, arm64). */
export function parseTcpInfo(b: Uint8Array): TcpInfoSnapshot | undefined {
  if (b.length < 104) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u32 = (o: number) => (o + 4 <= b.length ? dv.getUint32(o, true) : undefined);
  const snap: TcpInfoSnapshot = {
    state: b[OFF.state],
    retransmits: b[OFF.retransmits],
    rttMs: u32(OFF.rtt)! / 1000,
    rttVarMs: u32(OFF.rttvar)! / 1000,
    rtoMs: u32(OFF.rto)! / 1000,
    sndMss: u32(OFF.sndMss)!,
    rcvMss: u32(OFF.rcvMss)!,
    pmtu: u32(OFF.pmtu)!,
    msSinceLastDataRecv: u32(OFF.lastDataRecv)!,
    totalRetrans: u32(OFF.totalRetrans)!,
  };
  if (b.length >= OFF.bytesReceived + 8) snap.bytesInOrder = Number(dv.getBigUint64(OFF.bytesReceived, true));
  const segsIn = u32(OFF.segsIn);
  if (segsIn !== undefined) snap.segmentsIn = segsIn;
  const dataSegsIn = u32(OFF.dataSegsIn);
  if (dataSegsIn !== undefined) snap.dataSegmentsIn = dataSegsIn;
  const ooo = u32(OFF.rcvOoopack);
  if (ooo !== undefined) snap.outOfOrderPackets = ooo;
  return snap;
}
