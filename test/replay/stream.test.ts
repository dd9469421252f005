import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readCapture } from '../../src/replay/capture.js';
import { FlowTracker, type TcpFlow } from '../../src/replay/flows.js';
import { decodeFrame, Ipv4Reassembler, type Packet } from '../../src/replay/packet.js';
import { replayStream } from '../../src/replay/replay.js';
import { CaptureFormatError, captureFromBytes, type CaptureRecord } from '../../src/replay/stream.js';

const fixture = (f: string) => readFileSync(join(__dirname, '../../fixtures/pcap', f));

async function records(buf: Uint8Array, chunk = 1000): Promise<{ recs: CaptureRecord[]; damage?: unknown }> {
  const cap = captureFromBytes(buf, chunk);
  const recs: CaptureRecord[] = [];
  for await (const r of cap.records()) recs.push({ ...r, data: r.data.slice() });
  return { recs, damage: cap.damage };
}

// --- builders for synthetic captures ------------------------------------------------------------------------
function u32(v: number, le: boolean): number[] {
  return le ? [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24] : [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}
function u16(v: number, le: boolean): number[] {
  return le ? [v & 255, v >>> 8] : [v >>> 8, v & 255];
}
function pcap(frames: { t: number; data: number[] }[], opts: { le?: boolean; nano?: boolean; link?: number } = {}): Uint8Array {
  const le = opts.le ?? true;
  const out = [...u32(opts.nano ? 0xa1b23c4d : 0xa1b2c3d4, le), ...u16(2, le), ...u16(4, le), ...u32(0, le), ...u32(0, le), ...u32(65535, le), ...u32(opts.link ?? 101, le)];
  for (const f of frames) {
    const sec = Math.floor(f.t);
    const frac = Math.round((f.t - sec) * (opts.nano ? 1e9 : 1e6));
    out.push(...u32(sec, le), ...u32(frac, le), ...u32(f.data.length, le), ...u32(f.data.length, le), ...f.data);
  }
  return Uint8Array.from(out);
}
function block(type: number, body: number[], le: boolean): number[] {
  while (body.length % 4) body.push(0);
  const len = body.length + 12;
  return [...u32(type, le), ...u32(len, le), ...body, ...u32(len, le)];
}
function shb(le: boolean): number[] {
  return block(0x0a0d0d0a, [...u32(0x1a2b3c4d, le), ...u16(1, le), ...u16(0, le), ...u32(0xffffffff, le), ...u32(0xffffffff, le)], le).map((b, i) =>
    i < 4 ? [0x0a, 0x0d, 0x0d, 0x0a][i] : b,
  );
}
function idb(link: number, le: boolean, tsresol?: number): number[] {
  const opts = tsresol === undefined ? [] : [...u16(9, le), ...u16(1, le), tsresol, 0, 0, 0, ...u16(0, le), ...u16(0, le)];
  return block(1, [...u16(link, le), ...u16(0, le), ...u32(65535, le), ...opts], le);
}
function epb(ifid: number, ticks: number, data: number[], le: boolean): number[] {
  const hi = Math.floor(ticks / 2 ** 32);
  const lo = ticks >>> 0;
  return block(6, [...u32(ifid, le), ...u32(hi, le), ...u32(lo, le), ...u32(data.length, le), ...u32(data.length, le), ...data], le);
}

/** IPv4 + TCP header (no options) around a payload. */
function tcp4(src: number[], dst: number[], sport: number, dport: number, seq: number, ack: number, flags: number, payload: number[] = [], id = 1, frag = 0x4000): number[] {
  const tcpH = [...u16(sport, false), ...u16(dport, false), ...u32(seq, false), ...u32(ack, false), 0x50, flags, ...u16(65535, false), 0, 0, 0, 0];
  const total = 20 + tcpH.length + payload.length;
  return [0x45, 0, ...u16(total, false), ...u16(id, false), ...u16(frag, false), 64, 6, 0, 0, ...src, ...dst, ...tcpH, ...payload];
}
const C = [10, 0, 0, 1];
const S = [10, 0, 0, 2];
const CR = [3, 0, 0, 19, 14, 0xe0, 0, 0, 0, 0, 0, 1, 0, 8, 0, 3, 0, 0, 0]; // RDP_NEG_REQ SSL|HYBRID
const CC = [3, 0, 0, 19, 14, 0xd0, 0, 0, 0x12, 0x34, 0, 2, 0, 8, 0, 2, 0, 0, 0]; // RDP_NEG_RSP HYBRID

describe('streaming reader', () => {
  it('reads pcap µs/ns in both byte orders with the same frames and times', async () => {
    const frames = [{ t: 1000.25, data: tcp4(C, S, 5000, 3389, 1, 0, 2) }, { t: 1001.5, data: tcp4(S, C, 3389, 5000, 9, 2, 0x12) }];
    for (const le of [true, false]) {
      for (const nano of [true, false]) {
        const { recs, damage } = await records(pcap(frames, { le, nano }), 7);
        expect(damage).toBeUndefined();
        expect(recs.map((r) => [r.frame, r.time, r.linkType, r.data.length])).toEqual([
          [1, 1000.25, 101, frames[0].data.length],
          [2, 1001.5, 101, frames[1].data.length],
        ]);
      }
    }
  });

  it('reads pcapng: several sections, both byte orders, per-interface link type and if_tsresol', async () => {
    const d = tcp4(C, S, 5000, 3389, 1, 0, 2);
    const le = [...shb(true), ...idb(101, true), ...idb(228, true, 9), ...epb(0, 1_500_000, d, true), ...epb(1, 2_000_000_000, d, true)];
    const be = [...shb(false), ...idb(101, false, 3), ...epb(0, 7_000, d, false)];
    const { recs, damage } = await records(Uint8Array.from([...le, ...be]), 33);
    expect(damage).toBeUndefined();
    expect(recs.map((r) => [r.frame, r.time, r.linkType, r.iface])).toEqual([
      [1, 1.5, 101, '0:0'],
      [2, 2, 228, '0:1'],
      [3, 7, 101, '1:0'],
    ]);
  });

  it('reads a gzip-compressed capture', async () => {
    const buf = fixture('arkime-socks5-rdp.pcap');
    const plain = await records(buf);
    const gz = await records(gzipSync(buf), 100);
    expect(gz.recs.map((r) => r.time)).toEqual(plain.recs.map((r) => r.time));
    expect(gz.recs.length).toBe(10);
  });

  it('agrees with the whole-buffer reader on every fixture, split into odd chunks', async () => {
    for (const f of ['zeek-rdp-to-ssl.pcap', 'ndpi-rdp2.pcap', 'freerdp-pcap-sample.pcap']) {
      const buf = fixture(f);
      const whole = readCapture(buf);
      const { recs } = await records(buf, 997);
      expect(recs.length).toBe(whole.length);
      expect(recs.map((r) => r.time)).toEqual(whole.map((p) => p.time));
      expect(recs.every((r, i) => Buffer.from(r.data).equals(Buffer.from(whole[i].data)))).toBe(true);
    }
  });

  it('a truncated file: clear damage with record number and byte offset, everything before replayed', async () => {
    const buf = fixture('zeek-rdp-to-ssl.pcap').subarray(0, 3000);
    const { recs, damage } = await records(buf);
    expect(recs.length).toBe(13);
    expect(damage).toMatchObject({ record: 14, offset: 2821 });
    expect((damage as { message: string }).message).toMatch(/record 14 at byte offset 2821: truncated/);
    const r = await replayStream(captureFromBytes(buf), { file: 't' });
    expect(r.attempts).toBe(1);
    expect(r.observations[0].x224?.selected).toBe('HYBRID');
    expect(r.warnings.join('\n')).toMatch(/damaged/);
  });

  it('not a capture / empty input is a CaptureFormatError', async () => {
    await expect(records(new Uint8Array(0))).rejects.toBeInstanceOf(CaptureFormatError);
    await expect(records(Buffer.from('hello world, not a pcap'))).rejects.toThrow(/not a pcap or pcapng/);
  });

  it('an unknown link type gives one warning per interface, never silence', async () => {
    const d = tcp4(C, S, 5000, 3389, 1, 0, 2);
    const buf = pcap([{ t: 1, data: d }, { t: 2, data: d }], { link: 147 });
    const r = await replayStream(captureFromBytes(buf), { file: 'x' });
    expect(r.warnings).toEqual(['interface 0:0: link type 147 is not decoded; its 2 frame(s) were skipped']);
  });
});

describe('link layers and IP', () => {
  const ip = tcp4(C, S, 5000, 3389, 1, 0, 2);
  const cases: [string, number, number[]][] = [
    ['NULL (host order AF_INET)', 0, [2, 0, 0, 0, ...ip]],
    ['LOOP (network order AF_INET)', 108, [0, 0, 0, 2, ...ip]],
    ['Ethernet + 802.1Q', 1, [...Array(12).fill(0), 0x81, 0, 0, 5, 0x08, 0, ...ip]],
    ['Linux SLL', 113, [0, 0, 0, 1, 0, 6, ...Array(8).fill(0), 0x08, 0, ...ip]],
    ['Linux SLL2', 276, [0x08, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, ...Array(8).fill(0), ...ip]],
    ['RAW', 101, ip],
    ['IPV4', 228, ip],
  ];
  for (const [name, link, data] of cases) {
    it(name, () => {
      const p = decodeFrame(1, 0, link, Uint8Array.from(data));
      expect(p).toMatchObject({ src: '10.0.0.1', dst: '10.0.0.2', proto: 'tcp', srcPort: 5000, dstPort: 3389, df: true });
    });
  }

  it('reassembles IPv4 fragments (any order) and bounds the pending set', () => {
    const payload = Array.from({ length: 40 }, (_, i) => i);
    const whole = tcp4(C, S, 5000, 3389, 1, 0, 0x18, payload, 77, 0);
    const l4 = whole.slice(20);
    const hdr = (off: number, more: boolean, len: number) => [0x45, 0, ...u16(20 + len, false), ...u16(77, false), ...u16((more ? 0x2000 : 0) | (off / 8), false), 64, 6, 0, 0, ...C, ...S];
    const f1 = [...hdr(0, true, 32), ...l4.slice(0, 32)];
    const f2 = [...hdr(32, false, l4.length - 32), ...l4.slice(32)];
    const r = new Ipv4Reassembler(4);
    expect(decodeFrame(1, 0, 101, Uint8Array.from(f2), r)).toBeNull();
    const p = decodeFrame(2, 0, 101, Uint8Array.from(f1), r)!;
    expect(p.reassembled).toBe(true);
    expect([...p.payload]).toEqual(payload);
    for (let i = 0; i < 10; i++) decodeFrame(3, 0, 101, Uint8Array.from([...hdr(0, true, 32).slice(0, 4), ...u16(100 + i, false), ...hdr(0, true, 32).slice(6), ...l4.slice(0, 32)]), r);
    expect(r.size).toBeLessThanOrEqual(4);
    expect(r.dropped).toBeGreaterThan(0);
  });

  it('ICMP fragmentation-needed: next-hop MTU and the quoted TCP flow', () => {
    const quoted = tcp4(S, C, 3389, 5000, 100, 1, 0x10, []).slice(0, 28);
    const icmp = [3, 4, 0, 0, 0, 0, ...u16(1400, false), ...quoted];
    const data = [0x45, 0, ...u16(20 + icmp.length, false), 0, 1, 0, 0, 64, 1, 0, 0, 192, 0, 2, 1, ...S, ...icmp];
    const p = decodeFrame(1, 0, 101, Uint8Array.from(data))!;
    expect(p.icmp).toMatchObject({ type: 3, code: 4, mtu: 1400, quoted: { src: '10.0.0.2', dst: '10.0.0.1', proto: 6, srcPort: 3389, dstPort: 5000 } });
  });
});

describe('flows', () => {
  function run(pkts: number[][]): TcpFlow[] {
    const ended: TcpFlow[] = [];
    const ft = new FlowTracker({ onTcpEnd: (f) => ended.push(f) });
    pkts.forEach((d, i) => {
      const p = decodeFrame(i + 1, i, 101, Uint8Array.from(d)) as Packet;
      ft.add(p);
    });
    ft.finish();
    return ended;
  }

  it('keeps a hole as a hole: bytes after a gap that is never filled are not spliced on', () => {
    const flows = run([
      tcp4(C, S, 5000, 3389, 100, 0, 2),
      tcp4(S, C, 3389, 5000, 900, 101, 0x12),
      tcp4(C, S, 5000, 3389, 101, 901, 0x18, CR),
      tcp4(S, C, 3389, 5000, 901, 120, 0x18, CC),
      tcp4(S, C, 3389, 5000, 920 + 100, 120, 0x18, [0x16, 3, 3, 0, 4, 1, 2, 3, 4]), // 100 bytes missing before it
    ]);
    expect(flows).toHaveLength(1);
    const s = flows[0].dirs.b;
    expect(s.next).toBe(19);
    expect(s.retained).toBe(19);
    expect(s.pending).toHaveLength(1);
    expect(s.gaps).toEqual([{ at: 19, missing: 100, frame: 5, time: 4 }]);
  });

  it('a gap filled later is recorded as filled and the stream is whole', () => {
    const flows = run([
      tcp4(C, S, 5000, 3389, 100, 0, 2),
      tcp4(C, S, 5000, 3389, 101 + 10, 0, 0x18, CR.slice(10)),
      tcp4(C, S, 5000, 3389, 101, 0, 0x18, CR.slice(0, 10)),
    ]);
    const d = flows[0].dirs.a;
    expect(d.next).toBe(19);
    expect(d.gaps[0]).toMatchObject({ at: 0, missing: 10, frame: 2, filled: { frame: 3 } });
    expect(flows[0].rdp).toBe('yes');
  });

  it('a new SYN on a reused 4-tuple starts a new connection; retransmitted SYNs do not', () => {
    const flows = run([
      tcp4(C, S, 5000, 3389, 100, 0, 2),
      tcp4(C, S, 5000, 3389, 100, 0, 2),
      tcp4(S, C, 3389, 5000, 0, 101, 0x14),
      tcp4(C, S, 5000, 3389, 7000, 0, 2),
      tcp4(S, C, 3389, 5000, 50, 7001, 0x12),
    ]);
    expect(flows).toHaveLength(2);
    expect(flows[0].dirs.a.syn?.count).toBe(2);
    expect(flows[0].dirs.b.rst?.frame).toBe(3);
    expect(flows[1].first.frame).toBe(4);
    expect(flows[1].synAck?.frame).toBe(5);
  });

  it('the client is the side that sends the CR, whatever the ports (no SYN in the capture)', () => {
    const flows = run([tcp4(S, C, 3389, 3389, 901, 120, 0x18, CC.slice(0, 0).concat([])), tcp4(C, S, 3389, 3389, 101, 901, 0x18, CR), tcp4(S, C, 3389, 3389, 901, 120, 0x18, CC)]);
    expect(flows).toHaveLength(1);
    expect(flows[0].client).toBe('b');
    expect(flows[0].rdp).toBe('yes');
  });

  it('drops flows that are not RDP at their first payload (bounded state)', () => {
    const ended: TcpFlow[] = [];
    const ft = new FlowTracker({ onTcpEnd: (f) => ended.push(f) });
    for (let i = 0; i < 1000; i++) {
      ft.add(decodeFrame(1, 0, 101, Uint8Array.from(tcp4(C, S, 10000 + i, 80, 1, 0, 2)))!);
      ft.add(decodeFrame(2, 0, 101, Uint8Array.from(tcp4(C, S, 10000 + i, 80, 2, 0, 0x18, [...Buffer.from('GET / HTTP/1.1\r\n')])))!);
      // kept until the server's first bytes say whether it answers with an X.224 Confirm (a malformed request)
      expect(ft.tcp.size).toBe(1);
      ft.add(decodeFrame(3, 0, 101, Uint8Array.from(tcp4(S, C, 80, 10000 + i, 1, 18, 0x18, [...Buffer.from('HTTP/1.1 200 OK\r\n')])))!);
    }
    expect(ft.tcp.size).toBe(0);
    expect(ft.stats.flowsDropped).toBe(1000);
    ft.finish();
    expect(ended).toHaveLength(0);
  });
});

describe('replay attempts', () => {
  it('SYN refused → tcp refused; SYN unanswered → filtered (RDP port only)', async () => {
    const buf = pcap([
      { t: 1, data: tcp4(C, S, 5000, 3389, 1, 0, 2) },
      { t: 1.1, data: tcp4(S, C, 3389, 5000, 0, 2, 0x14) },
      { t: 2, data: tcp4(C, S, 5001, 3389, 1, 0, 2) },
      { t: 5, data: tcp4(C, S, 5001, 3389, 1, 0, 2) },
      { t: 6, data: tcp4(C, S, 5002, 8080, 1, 0, 2) },
    ]);
    const r = await replayStream(captureFromBytes(buf), { file: 'x' });
    expect(r.observations.map((o) => [o.tcp?.outcome, o.source.frames])).toEqual([
      ['refused', [1, 2]],
      ['filtered', [3, 4]],
    ]);
    expect(r.synOnlyIgnored).toBe(1);
  });
});

describe('capture.ts (whole-buffer helper used by the codec tests)', () => {
  it('tcpStreams: a new SYN on a reused 4-tuple starts a new connection, and a hole is not spliced over', async () => {
    const { segmentsOf, tcpStreams } = await import('../../src/replay/capture.js');
    const buf = pcap([
      { t: 1, data: tcp4(C, S, 5000, 3389, 100, 0, 2) },
      { t: 2, data: tcp4(C, S, 5000, 3389, 101, 0, 0x18, CR) },
      { t: 3, data: tcp4(C, S, 5000, 3389, 101 + 19 + 50, 0, 0x18, [1, 2, 3]) }, // 50 bytes missing before it
      { t: 4, data: tcp4(C, S, 5000, 3389, 9000, 0, 2) },
      { t: 5, data: tcp4(C, S, 5000, 3389, 9001, 0, 0x18, CR) },
    ]);
    const st = tcpStreams(segmentsOf(buf));
    expect(st).toHaveLength(2);
    expect(st[0].toServer.length).toBe(19);
    expect(st[0].gaps).toEqual([{ dir: 'c2s', at: 19, missing: 50 }]);
    expect([st[1].firstFrame, st[1].toServer.length]).toEqual([4, 19]);
  });
});
