/**
 * Pure, synchronous capture reading: classic pcap (both byte orders, µs and ns) and pcapng (SHB/IDB/EPB/SPB),
 * link types Ethernet (1), BSD null/loopback (0), raw IP (101, 12, 228, 229) and Linux SLL (113); IPv4/IPv6 →
 * TCP/UDP. Everything is bounds-checked through Reader: a truncated or hostile file gives a DecodeError naming the
 * record, never a crash or a huge allocation.
 *
 * pcap-parser (the package chosen for captures) reads only classic pcap through a stream of events; one of the
 * public fixtures is pcapng and the codec tests want the packets synchronously, so this reader does both formats.
 */
import { DecodeError } from '../codec/errors.js';
import { Reader } from '../codec/reader.js';
import { concatBytes } from '../codec/writer.js';

export interface CapturedPacket {
  /** 1-based frame number, as Wireshark counts. */
  frame: number;
  /** seconds since the epoch, fractional */
  time: number;
  linkType: number;
  data: Uint8Array;
}

export interface Segment {
  frame: number;
  time: number;
  proto: 'tcp' | 'udp';
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  /** TCP only */
  seq?: number;
  ack?: number;
  flags?: number;
  payload: Uint8Array;
  /** The IPv4 DF bit (IPv6 never fragments on path) */
  df?: boolean;
  ipLength: number;
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

const MAX_RECORD = 1 << 18; // 256 KiB: larger than any snaplen we honour

export function readCapture(buf: Uint8Array): CapturedPacket[] {
  if (buf.length < 4) throw new DecodeError('pcap', 'magic', 0, 'file shorter than 4 bytes', 4, buf.length);
  const magic = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(0, false);
  if (magic === 0x0a0d0d0a) return readPcapng(buf);
  return readPcap(buf);
}

function readPcap(buf: Uint8Array): CapturedPacket[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const m = dv.getUint32(0, false);
  let le: boolean;
  let nano = false;
  if (m === 0xd4c3b2a1) le = true;
  else if (m === 0xa1b2c3d4) le = false;
  else if (m === 0x4d3cb2a1) (le = true), (nano = true);
  else if (m === 0xa1b23c4d) (le = false), (nano = true);
  else throw new DecodeError('pcap', 'magic', 0, `not a pcap or pcapng file (magic 0x${m.toString(16)})`);
  if (buf.length < 24) throw new DecodeError('pcap', 'global header', 0, 'truncated', 24, buf.length);
  const linkType = dv.getUint32(20, le) & 0x0fffffff;
  const out: CapturedPacket[] = [];
  let off = 24;
  let frame = 0;
  while (off < buf.length) {
    if (off + 16 > buf.length) throw new DecodeError('pcap', `record ${frame + 1} header`, off, 'truncated capture', 16, buf.length - off);
    const sec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    const incl = dv.getUint32(off + 8, le);
    if (incl > MAX_RECORD) throw new DecodeError('pcap', `record ${frame + 1} length`, off + 8, `captured length ${incl} exceeds ${MAX_RECORD}`);
    if (off + 16 + incl > buf.length) throw new DecodeError('pcap', `record ${frame + 1} data`, off + 16, 'truncated capture', incl, buf.length - off - 16);
    frame++;
    out.push({ frame, time: sec + frac / (nano ? 1e9 : 1e6), linkType, data: buf.subarray(off + 16, off + 16 + incl) });
    off += 16 + incl;
  }
  return out;
}

function readPcapng(buf: Uint8Array): CapturedPacket[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: CapturedPacket[] = [];
  let le = true;
  let off = 0;
  let frame = 0;
  let ifaces: { linkType: number; tsres: number }[] = [];
  while (off < buf.length) {
    if (off + 12 > buf.length) throw new DecodeError('pcapng', 'block header', off, 'truncated capture', 12, buf.length - off);
    const type = dv.getUint32(off, le);
    if (type === 0x0a0d0d0a) {
      const bom = dv.getUint32(off + 8, true);
      if (bom === 0x1a2b3c4d) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else throw new DecodeError('pcapng', 'byte-order magic', off + 8, `bad value 0x${bom.toString(16)}`);
      ifaces = [];
    }
    const len = dv.getUint32(off + 4, le);
    if (len < 12 || len % 4 !== 0 || off + len > buf.length) {
      throw new DecodeError('pcapng', 'block length', off + 4, `invalid block length ${len}`, len, buf.length - off);
    }
    const body = off + 8;
    if (type === 0x00000001) {
      const linkType = dv.getUint16(body, le);
      let tsres = 1e6;
      // options: if_tsresol (code 9)
      let o = body + 8;
      while (o + 4 <= off + len - 4) {
        const code = dv.getUint16(o, le);
        const olen = dv.getUint16(o + 2, le);
        if (code === 0) break;
        if (code === 9 && olen >= 1) {
          const v = buf[o + 4];
          tsres = v & 0x80 ? 2 ** (v & 0x7f) : 10 ** (v & 0x7f);
        }
        o += 4 + ((olen + 3) & ~3);
      }
      ifaces.push({ linkType, tsres });
    } else if (type === 0x00000006) {
      const ifid = dv.getUint32(body, le);
      const iface = ifaces[ifid];
      if (!iface) throw new DecodeError('pcapng', 'EPB interface id', body, `unknown interface ${ifid}`);
      const tsHigh = dv.getUint32(body + 4, le);
      const tsLow = dv.getUint32(body + 8, le);
      const capLen = dv.getUint32(body + 12, le);
      if (capLen > MAX_RECORD || body + 20 + capLen > off + len) throw new DecodeError('pcapng', 'EPB captured length', body + 12, `invalid ${capLen}`);
      frame++;
      out.push({
        frame,
        time: (tsHigh * 2 ** 32 + tsLow) / iface.tsres,
        linkType: iface.linkType,
        data: buf.subarray(body + 20, body + 20 + capLen),
      });
    } else if (type === 0x00000003) {
      const iface = ifaces[0];
      if (!iface) throw new DecodeError('pcapng', 'SPB interface', body, 'no interface described');
      frame++;
      out.push({ frame, time: 0, linkType: iface.linkType, data: buf.subarray(body + 4, off + len - 4) });
    }
    off += len;
  }
  return out;
}

function ip4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}
function ip6(b: Uint8Array): string {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(((b[i] << 8) | b[i + 1]).toString(16));
  // compress the longest run of zeros
  const s = parts.join(':');
  const runs = s.match(/(^|:)0(:0)+(:|$)/g);
  if (!runs) return s;
  const longest = runs.reduce((a, c) => (c.length > a.length ? c : a));
  return s.replace(longest, '::').replace(/:::+/, '::');
}

/** Decode link → IP → TCP/UDP; returns null for anything else (ARP, ICMP, fragments after the first). */
export function decodePacket(p: CapturedPacket): Segment | null {
  const r = new Reader(p.data, 'link');
  let etherType: number;
  switch (p.linkType) {
    case 1: {
      r.skip(12, 'ethernet addresses');
      etherType = r.u16be('ethertype');
      while (etherType === 0x8100 || etherType === 0x88a8) {
        r.skip(2, 'vlan tci');
        etherType = r.u16be('ethertype');
      }
      break;
    }
    case 0: {
      const fam = r.u32le('null family');
      etherType = fam === 2 ? 0x0800 : fam === 24 || fam === 28 || fam === 30 ? 0x86dd : fam === 0x02000000 ? 0x0800 : -1;
      break;
    }
    case 113: {
      r.skip(14, 'sll header');
      etherType = r.u16be('sll protocol');
      break;
    }
    case 101:
    case 12:
    case 228:
    case 229: {
      etherType = (r.peekU8('ip version') >> 4) === 6 ? 0x86dd : 0x0800;
      break;
    }
    default:
      return null;
  }
  let proto: number;
  let src: string;
  let dst: string;
  let l4: Reader;
  let df: boolean | undefined;
  let ipLength: number;
  if (etherType === 0x0800) {
    const start = r.offset;
    const vihl = r.u8('ipv4 version/ihl');
    const ihl = (vihl & 0x0f) * 4;
    if (vihl >> 4 !== 4 || ihl < 20) return null;
    r.skip(1, 'tos');
    const total = r.u16be('ipv4 total length');
    r.skip(2, 'id');
    const frag = r.u16be('ipv4 flags/fragment');
    df = (frag & 0x4000) !== 0;
    if ((frag & 0x1fff) !== 0) return null;
    r.skip(1, 'ttl');
    proto = r.u8('ipv4 protocol');
    r.skip(2, 'checksum');
    src = ip4(r.bytes(4, 'ipv4 src'));
    dst = ip4(r.bytes(4, 'ipv4 dst'));
    r.skip(ihl - 20, 'ipv4 options');
    ipLength = total;
    // total may be 0 with TSO captures; trust the captured bytes then
    const avail = p.data.length - (start + ihl);
    const l4len = total >= ihl ? Math.min(total - ihl, avail) : avail;
    l4 = r.sub(l4len, 'ipv4 payload', 'l4');
  } else if (etherType === 0x86dd) {
    r.skip(4, 'ipv6 version/class/flow');
    const plen = r.u16be('ipv6 payload length');
    let next = r.u8('ipv6 next header');
    r.skip(1, 'hop limit');
    src = ip6(r.bytes(16, 'ipv6 src'));
    dst = ip6(r.bytes(16, 'ipv6 dst'));
    ipLength = plen + 40;
    let rest = Math.min(plen, r.remaining);
    // skip extension headers we know
    while (next === 0 || next === 43 || next === 60) {
      const nh = r.u8('ext next');
      const hl = (r.u8('ext len') + 1) * 8;
      r.skip(hl - 2, 'ext body');
      rest -= hl;
      next = nh;
    }
    if (next === 44) return null;
    proto = next;
    l4 = r.sub(Math.max(0, rest), 'ipv6 payload', 'l4');
  } else {
    return null;
  }
  if (proto === 6) {
    const srcPort = l4.u16be('tcp src port');
    const dstPort = l4.u16be('tcp dst port');
    const seq = l4.u32be('tcp seq');
    const ack = l4.u32be('tcp ack');
    const offFlags = l4.u16be('tcp offset/flags');
    const hlen = (offFlags >> 12) * 4;
    if (hlen < 20) throw new DecodeError('tcp', 'data offset', 12, `header length ${hlen} < 20`);
    l4.skip(hlen - 14, 'tcp rest of header');
    return { frame: p.frame, time: p.time, proto: 'tcp', src, dst, srcPort, dstPort, seq, ack, flags: offFlags & 0x3f, payload: l4.rest(), df, ipLength };
  }
  if (proto === 17) {
    const srcPort = l4.u16be('udp src port');
    const dstPort = l4.u16be('udp dst port');
    const len = l4.u16be('udp length');
    l4.skip(2, 'udp checksum');
    const payload = l4.rest();
    return { frame: p.frame, time: p.time, proto: 'udp', src, dst, srcPort, dstPort, payload: payload.subarray(0, Math.max(0, Math.min(payload.length, len - 8))), df, ipLength };
  }
  return null;
}

export interface TcpStream {
  client: { addr: string; port: number };
  server: { addr: string; port: number };
  /** In-order bytes client→server and server→client (retransmits dropped, gaps recorded). */
  toServer: Uint8Array;
  toClient: Uint8Array;
  /** Per direction: payload chunks in arrival order with their frame numbers (after de-duplication). */
  chunks: { dir: 'c2s' | 's2c'; frame: number; time: number; offset: number; length: number }[];
  gaps: { dir: 'c2s' | 's2c'; at: number; missing: number }[];
  firstFrame: number;
  lastFrame: number;
  sawFin: { c2s: boolean; s2c: boolean };
  sawRst: { c2s: boolean; s2c: boolean };
}

/**
 * Group TCP segments into connections and reassemble each direction by sequence number (out of order accepted,
 * retransmitted bytes kept once; a hole is recorded as a gap and the direction's bytes end there). A new SYN on a
 * reused 4-tuple starts a new connection. The client is the side that sent the SYN or, when the capture starts
 * mid-connection, the side that sent the X.224 Connection Request, else the side whose port is not `serverPort`.
 * (Whole-buffer helper for the codec tests; replay itself streams through flows.ts.)
 */
export function tcpStreams(segments: Segment[], serverPort?: number): TcpStream[] {
  type Dir = { segs: Segment[]; isn?: number };
  type Conn = { a: string; ap: number; b: string; bp: number; dirs: Map<string, Dir>; clientKey?: string; first: number; last: number };
  const conns = new Map<string, Conn>();
  const done: Conn[] = [];
  for (const s of segments) {
    if (s.proto !== 'tcp') continue;
    const ka = `${s.src}|${s.srcPort}`;
    const kb = `${s.dst}|${s.dstPort}`;
    const key = ka < kb ? `${ka}-${kb}` : `${kb}-${ka}`;
    let c = conns.get(key);
    // a new SYN (not a retransmission of this connection's SYN) on a reused 4-tuple starts a new connection
    if (c && s.flags! & TCP_SYN && !(s.flags! & TCP_ACK)) {
      const d0 = c.dirs.get(ka);
      if (!d0 || d0.isn !== s.seq) {
        done.push(c);
        c = undefined;
      }
    }
    if (!c) {
      c = { a: s.src, ap: s.srcPort, b: s.dst, bp: s.dstPort, dirs: new Map(), first: s.frame, last: s.frame };
      conns.set(key, c);
    }
    c.last = s.frame;
    let d = c.dirs.get(ka);
    if (!d) c.dirs.set(ka, (d = { segs: [] }));
    d.segs.push(s);
    if (s.flags! & TCP_SYN && !(s.flags! & TCP_ACK)) c.clientKey = ka;
    if (s.flags! & TCP_SYN) d.isn = s.seq;
  }
  const out: TcpStream[] = [];
  for (const c of [...done, ...conns.values()]) {
    const ka = `${c.a}|${c.ap}`;
    const kb = `${c.b}|${c.bp}`;
    let clientKey = c.clientKey;
    if (!clientKey) clientKey = serverPort !== undefined && c.ap === serverPort ? kb : serverPort !== undefined && c.bp === serverPort ? ka : c.ap > c.bp ? ka : kb;
    const serverKey = clientKey === ka ? kb : ka;
    let [caddr, cport] = clientKey.split('|');
    let [saddr, sport] = serverKey.split('|');
    const chunks: TcpStream['chunks'] = [];
    const gaps: TcpStream['gaps'] = [];
    const fin = { c2s: false, s2c: false };
    const rst = { c2s: false, s2c: false };
    const assemble = (d: Dir | undefined, dir: 'c2s' | 's2c'): Uint8Array => {
      if (!d) return new Uint8Array(0);
      for (const s of d.segs) {
        if (s.flags! & TCP_FIN) fin[dir] = true;
        if (s.flags! & TCP_RST) rst[dir] = true;
      }
      const data = d.segs.filter((s) => s.payload.length > 0);
      if (!data.length) return new Uint8Array(0);
      const base = d.isn !== undefined ? (d.isn + 1) >>> 0 : data.reduce((m, s) => (rel(s.seq!, m) < 0 ? s.seq! : m), data[0].seq!);
      const sorted = data.map((s) => ({ s, o: rel(s.seq!, base) })).filter((x) => x.o >= 0 || x.o + x.s.payload.length > 0);
      // arrival order for chunks; sorted order for bytes
      const parts: Uint8Array[] = [];
      let next = 0;
      const byOffset = [...sorted].sort((x, y) => x.o - y.o);
      for (const { s, o } of byOffset) {
        const end = o + s.payload.length;
        if (end <= next) continue; // pure retransmission
        if (o > next) {
          // a hole: record it and end the stream there (bytes after it are never spliced on: offsets would lie)
          gaps.push({ dir, at: next, missing: o - next });
          break;
        }
        parts.push(s.payload.subarray(next - o));
        next = end;
      }
      for (const { s, o } of sorted) chunks.push({ dir, frame: s.frame, time: s.time, offset: o, length: s.payload.length });
      return concatBytes(parts);
    };
    let toServer = assemble(c.dirs.get(clientKey), 'c2s');
    let toClient = assemble(c.dirs.get(serverKey), 's2c');
    // no SYN in the capture: the client is the side that sends the X.224 Connection Request (TPKT, code 0xE0)
    if (!c.clientKey && isConnectionRequest(toClient) && !isConnectionRequest(toServer)) {
      [toServer, toClient] = [toClient, toServer];
      [caddr, cport, saddr, sport] = [saddr, sport, caddr, cport];
      for (const ch of chunks) ch.dir = ch.dir === 'c2s' ? 's2c' : 'c2s';
      for (const g of gaps) g.dir = g.dir === 'c2s' ? 's2c' : 'c2s';
      const f = fin.c2s;
      fin.c2s = fin.s2c;
      fin.s2c = f;
      const r = rst.c2s;
      rst.c2s = rst.s2c;
      rst.s2c = r;
    }
    chunks.sort((x, y) => x.frame - y.frame);
    out.push({
      client: { addr: caddr, port: Number(cport) },
      server: { addr: saddr, port: Number(sport) },
      toServer,
      toClient,
      chunks,
      gaps,
      firstFrame: c.first,
      lastFrame: c.last,
      sawFin: fin,
      sawRst: rst,
    });
  }
  return out.sort((x, y) => x.firstFrame - y.firstFrame);
}

function isConnectionRequest(b: Uint8Array): boolean {
  return b.length >= 6 && b[0] === 3 && b[1] === 0 && b[4] === ((b[2] << 8) | b[3]) - 5 && (b[5] & 0xf0) === 0xe0;
}

function rel(seq: number, base: number): number {
  // signed 32-bit distance
  return ((seq - base) | 0);
}


/** Convenience: every decodable TCP/UDP segment of a capture. */
export function segmentsOf(buf: Uint8Array): Segment[] {
  const out: Segment[] = [];
  for (const p of readCapture(buf)) {
    const s = decodePacket(p);
    if (s) out.push(s);
  }
  return out;
}
