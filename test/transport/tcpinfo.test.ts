import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { parseTcpInfo, tcpInfo } from '../../src/transport/tcpinfo.js';
import { loadNative } from '../../src/transport/native.js';

// struct tcp_info layout (linux/tcp.h): u8 fields at 0..7, then u32 tcpi_rto at 8, …, tcpi_pmtu at 60, tcpi_rtt at 68,
// u64 tcpi_bytes_received at 128, tcpi_data_segs_in at 152, tcpi_rcv_ooopack at 224.
function layout(len: number): Uint8Array {
  const b = new Uint8Array(len);
  const dv = new DataView(b.buffer);
  b[0] = 1; // TCP_ESTABLISHED
  b[2] = 0;
  dv.setUint32(8, 204_000, true); // rto µs
  dv.setUint32(16, 1448, true); // snd_mss
  dv.setUint32(20, 721, true); // rcv_mss: the size of the tail segment that arrived
  dv.setUint32(52, 1028, true); // last_data_recv ms
  dv.setUint32(60, 1500, true); // pmtu
  dv.setUint32(68, 751, true); // rtt µs
  dv.setUint32(72, 1396, true); // rttvar µs
  dv.setUint32(100, 0, true); // total_retrans
  if (len >= 136) dv.setBigUint64(128, 19n, true); // bytes_received: the 19-byte Connection Confirm only
  if (len >= 156) dv.setUint32(152, 2, true); // data_segs_in
  if (len >= 228) dv.setUint32(224, 1, true); // rcv_ooopack
  return b;
}

describe('TCP_INFO', () => {
  it('parses the fields a stall needs, from the kernel ABI offsets', () => {
    expect(parseTcpInfo(layout(232))).toEqual({
      state: 1,
      retransmits: 0,
      rttMs: 0.751,
      rttVarMs: 1.396,
      rtoMs: 204,
      sndMss: 1448,
      rcvMss: 721,
      pmtu: 1500,
      msSinceLastDataRecv: 1028,
      totalRetrans: 0,
      bytesInOrder: 19,
      segmentsIn: 0,
      dataSegmentsIn: 2,
      outOfOrderPackets: 1,
    });
  });

  it('an older kernel returns a shorter struct: later fields are left out, not invented', () => {
    const s = parseTcpInfo(layout(104))!;
    expect(s.rcvMss).toBe(721);
    expect(s.bytesInOrder).toBeUndefined();
    expect(s.outOfOrderPackets).toBeUndefined();
    expect(parseTcpInfo(new Uint8Array(50))).toBeUndefined();
  });

  it.runIf(loadNative().addon?.platform === 'linux')('reads a live loopback connection through the addon', async () => {
    // no FIN: tcpi_bytes_received counts sequence space, and a FIN would add one
    const server = net.createServer((s) => s.write(Buffer.alloc(3000, 0x41)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const sock = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    let got = 0;
    await new Promise<void>((r) => sock.on('data', (d: Buffer) => (got += d.length) >= 3000 && r()));
    const k = tcpInfo(sock);
    sock.destroy();
    server.close();
    expect(k).toBeDefined();
    expect(k!.bytesInOrder).toBe(3000);
    expect(k!.outOfOrderPackets).toBe(0);
  });
});
