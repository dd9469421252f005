/**
 * TCP and UDP flow tracking for replay. Per TCP direction: reassembly by sequence number that keeps a hole as a
 * hole (bytes after a gap are held aside and appended only when the gap fills; a gap never filled stays a gap and
 * the stream ends at it), retransmissions, dup ACKs with SACK blocks (RFC 2018), keep-alives, SYN / SYN-ACK / FIN /
 * RST with frame and time. A new SYN on a reused 4-tuple starts a new connection.
 *
 * Bounded state: a flow is kept only while it is or may become RDP — the client's first bytes must be an X.224
 * Connection Request (TPKT, T.123 §8 + X.224 §13.3 code 0xE0), on any port, optionally after a SOCKS4/SOCKS5
 * proxy handshake (RFC 1928). Other flows are dropped at their first payload. A flow ends on RST, on FIN in both
 * directions, when idle, or at the end of the capture; its facts go to `onEnd` and its state is released.
 */
import { classifyRdpeudp } from '../codec/rdpeudp.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type IcmpMessage, type Packet } from './packet.js';

/** Bytes of each direction's stream kept for decoding (the handshake is a few KB; the rest is only counted). */
export const RETAIN_BYTES = 96 * 1024;
/** Out-of-order segments held beyond a hole, per direction. */
const MAX_PENDING = 512;
/** In-order segment positions kept per direction (maps a stream offset back to its frame). */
const MAX_SEGMENTS = 2048;
/** Live flows; beyond this the oldest are ended early (counted in `stats.evicted`). */
export const MAX_FLOWS = 50_000;
/** A flow idle this long (capture seconds) is ended; a closed one lingers this long for its last packets. */
const IDLE_S = 600;
const LINGER_S = 5;

export type Side = 'a' | 'b';

export interface At {
  frame: number;
  time: number;
}

export interface Gap {
  /** Stream offset where bytes are missing, and how many. */
  at: number;
  missing: number;
  /** First frame that arrived beyond the hole. */
  frame: number;
  time: number;
  /** Frame whose bytes filled the hole (absent: never filled). */
  filled?: At;
}

export interface SegmentPos {
  offset: number;
  length: number;
  frame: number;
  time: number;
}

export interface DirState {
  /** Sequence number of stream offset 0 (ISN + 1 when the SYN was seen, else the first segment's seq). */
  base?: number;
  /** Contiguous stream length (offset of the first missing byte). */
  next: number;
  /** Retained contiguous bytes (first RETAIN_BYTES). */
  chunks: Uint8Array[];
  retained: number;
  /** Segments beyond a hole, waiting for it to fill. */
  pending: { offset: number; bytes: Uint8Array; length: number; frame: number; time: number }[];
  pendingDropped: number;
  gaps: Gap[];
  segments: SegmentPos[];
  packets: number;
  payloadBytes: number;
  /** Largest payload seen (the sender's effective MSS). */
  maxSegment: number;
  retransmits: number;
  /** Retransmitted segments of maxSegment size, with the frames of the first ones. */
  fullRetransmits: number;
  retransmitFrames: number[];
  dupAcks: number;
  sackBlocks: number;
  keepAlives: number;
  lastAck?: number;
  lastWindow?: number;
  highestAck?: number;
  syn?: At & { count: number; mss?: number };
  fin?: At;
  rst?: At;
  firstData?: At;
  lastData?: At;
}

export interface TcpFlow {
  key: string;
  a: { addr: string; port: number };
  b: { addr: string; port: number };
  ipVersion: 4 | 6;
  dirs: Record<Side, DirState>;
  /** The side that opened (SYN without ACK) or sent the Connection Request. */
  client?: Side;
  synAck?: At & { from: Side; mss?: number };
  first: At;
  last: At;
  /** 'yes' once the client's first bytes are a Connection Request; 'maybe' until a payload decides. */
  rdp: 'maybe' | 'yes' | 'no';
  /** Bytes of proxy handshake before the Connection Request, per side (SOCKS). */
  prefix?: { kind: 'socks5' | 'socks4'; client: number; server?: number };
  icmp: (IcmpMessage & At & { from: string })[];
  closed?: At;
  /** The client's first bytes were not a Connection Request (waiting for the server to tell). */
  clientNotCr?: boolean;
  /** RDP only because the server answered with a Connection Confirm. */
  malformedRequest?: boolean;
  /** Ended early because of the flow limit or idleness. */
  endReason?: 'closed' | 'idle' | 'evicted' | 'capture-end' | 'new-syn';
}

export interface UdpFlow {
  key: string;
  client: { addr: string; port: number };
  server: { addr: string; port: number };
  ipVersion: 4 | 6;
  syns: (At & { bytes: Uint8Array })[];
  synAcks: (At & { bytes: Uint8Array })[];
  /** Datagrams each way after the handshake. */
  toServer: number;
  toClient: number;
  icmp: (IcmpMessage & At & { from: string })[];
  first: At;
  last: At;
}

export interface FlowStats {
  tcpPackets: number;
  udpPackets: number;
  icmpPackets: number;
  otherPackets: number;
  flowsSeen: number;
  flowsDropped: number;
  evicted: number;
  peakFlows: number;
  icmpUnmatched: number;
}

export interface FlowSink {
  onTcpEnd(flow: TcpFlow): void;
  onUdpEnd?(flow: UdpFlow): void;
  /** ICMP not tied to any tracked flow (echo for a PMTU search, errors for other traffic). */
  onIcmp?(p: Packet): void;
}

function newDir(): DirState {
  return {
    next: 0,
    chunks: [],
    retained: 0,
    pending: [],
    pendingDropped: 0,
    gaps: [],
    segments: [],
    packets: 0,
    payloadBytes: 0,
    maxSegment: 0,
    retransmits: 0,
    fullRetransmits: 0,
    retransmitFrames: [],
    dupAcks: 0,
    sackBlocks: 0,
    keepAlives: 0,
  };
}

/** Signed 32-bit distance a - b in sequence space (RFC 9293 §3.4 modular comparison). */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** The contiguous retained bytes of one direction. */
export function streamBytes(d: DirState): Uint8Array {
  if (d.chunks.length === 1) return d.chunks[0];
  const out = new Uint8Array(d.retained);
  let o = 0;
  for (const c of d.chunks) out.set(c, o), (o += c.length);
  d.chunks = [out];
  return out;
}

/** Frame and time at which the byte at `offset` of a direction's stream arrived (undefined beyond the record). */
export function atOffset(d: DirState, offset: number): At | undefined {
  let lo = 0;
  let hi = d.segments.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = d.segments[mid];
    if (offset < s.offset) hi = mid - 1;
    else if (offset >= s.offset + s.length) lo = mid + 1;
    else return { frame: s.frame, time: s.time };
  }
  return undefined;
}

const TPKT_VERSION = 3; // T.123 §8
const X224_CR = 0xe0; // X.224 §13.3.1 CR TPDU code (upper nibble)

/**
 * Is this the start of an RDP client stream? 'yes' with the offset of the Connection Request, 'maybe' when more
 * bytes are needed, 'no' otherwise. Recognises a SOCKS5 (RFC 1928 §3–4) or SOCKS4 CONNECT before the CR.
 */
export function classifyClientStart(b: Uint8Array): { verdict: 'yes' | 'maybe' | 'no'; offset?: number; proxy?: 'socks5' | 'socks4' } {
  const cr = (o: number): 'yes' | 'maybe' | 'no' => {
    if (b.length < o + 6) {
      // compare what we have
      if (b.length > o && b[o] !== TPKT_VERSION) return 'no';
      if (b.length > o + 1 && b[o + 1] !== 0) return 'no';
      return 'maybe';
    }
    const len = (b[o + 2] << 8) | b[o + 3];
    if (b[o] !== TPKT_VERSION || b[o + 1] !== 0 || len < 11) return 'no';
    // LI = TPKT length - 5 (X.224 §13.3), code 0xE0 (CDT nibble 0)
    if (b[o + 4] !== len - 5 || (b[o + 5] & 0xf0) !== X224_CR) return 'no';
    return 'yes';
  };
  if (b.length === 0) return { verdict: 'maybe' };
  if (b[0] === TPKT_VERSION) {
    const v = cr(0);
    return v === 'yes' ? { verdict: 'yes', offset: 0 } : { verdict: v };
  }
  if (b[0] === 0x05) {
    // greeting: VER NMETHODS METHODS…; request: VER CMD RSV ATYP DST.ADDR DST.PORT
    if (b.length < 2) return { verdict: 'maybe' };
    const g = 2 + b[1];
    if (b.length < g + 4) return { verdict: 'maybe' };
    if (b[g] !== 0x05 || b[g + 1] !== 0x01 || b[g + 2] !== 0x00) return { verdict: 'no' };
    const atyp = b[g + 3];
    let rl: number;
    if (atyp === 1) rl = 10;
    else if (atyp === 4) rl = 22;
    else if (atyp === 3) {
      if (b.length < g + 5) return { verdict: 'maybe' };
      rl = 7 + b[g + 4];
    } else return { verdict: 'no' };
    const v = cr(g + rl);
    return v === 'yes' ? { verdict: 'yes', offset: g + rl, proxy: 'socks5' } : { verdict: v };
  }
  if (b[0] === 0x04) {
    // SOCKS4: VN=4 CD=1 DSTPORT(2) DSTIP(4) USERID NUL
    if (b.length < 9) return { verdict: 'maybe' };
    if (b[1] !== 0x01) return { verdict: 'no' };
    const nul = b.indexOf(0, 8);
    if (nul < 0) return { verdict: b.length > 264 ? 'no' : 'maybe' };
    let o = nul + 1;
    // SOCKS4a: DSTIP 0.0.0.x, then a host name and NUL
    if (b[4] === 0 && b[5] === 0 && b[6] === 0 && b[7] !== 0) {
      const nul2 = b.indexOf(0, o);
      if (nul2 < 0) return { verdict: b.length > 520 ? 'no' : 'maybe' };
      o = nul2 + 1;
    }
    const v = cr(o);
    return v === 'yes' ? { verdict: 'yes', offset: o, proxy: 'socks4' } : { verdict: v };
  }
  return { verdict: 'no' };
}

/** Length of the proxy's answers before the server side of RDP starts (undefined: need more bytes / not proxy). */
export function proxyServerPrefix(kind: 'socks5' | 'socks4', b: Uint8Array): number | undefined {
  if (kind === 'socks4') return b.length >= 8 ? 8 : undefined;
  // method selection (2) + reply VER REP RSV ATYP BND.ADDR BND.PORT
  if (b.length < 6) return undefined;
  const atyp = b[5];
  const rl = atyp === 1 ? 10 : atyp === 4 ? 22 : atyp === 3 && b.length >= 7 ? 7 + b[6] : undefined;
  return rl === undefined ? undefined : 2 + rl;
}

function looksLikeConfirm(b: Uint8Array): boolean {
  if (b.length < 6 || b[0] !== TPKT_VERSION || b[1] !== 0) return false;
  const len = (b[2] << 8) | b[3];
  return len >= 11 && b[4] === len - 5 && (b[5] & 0xf0) === 0xd0;
}

export class FlowTracker {
  readonly tcp = new Map<string, TcpFlow>();
  readonly udp = new Map<string, UdpFlow>();
  /** Flows known not to be RDP (dropped): their later packets are ignored. Bounded, cleared when full. */
  private ignored = new Set<string>();
  readonly stats: FlowStats = {
    tcpPackets: 0,
    udpPackets: 0,
    icmpPackets: 0,
    otherPackets: 0,
    flowsSeen: 0,
    flowsDropped: 0,
    evicted: 0,
    peakFlows: 0,
    icmpUnmatched: 0,
  };
  private sinceSweep = 0;
  private now = 0;

  constructor(private readonly sink: FlowSink) {}

  add(p: Packet): void {
    this.now = p.time;
    if (++this.sinceSweep >= 4096) this.sweep();
    if (p.proto === 'tcp') this.tcpPacket(p);
    else if (p.proto === 'udp') this.udpPacket(p);
    else if (p.proto === 'icmp') this.icmpPacket(p);
    else this.stats.otherPackets++;
  }

  /** End every flow (end of capture). */
  finish(): void {
    for (const f of [...this.tcp.values()]) this.endTcp(f, f.endReason ?? 'capture-end');
    for (const u of [...this.udp.values()]) this.endUdp(u);
  }

  private sweep(): void {
    this.sinceSweep = 0;
    for (const f of this.tcp.values()) {
      if (f.closed ? this.now - f.last.time > LINGER_S : this.now - f.last.time > IDLE_S) this.endTcp(f, f.closed ? 'closed' : 'idle');
    }
    for (const u of this.udp.values()) if (this.now - u.last.time > IDLE_S) this.endUdp(u);
    if (this.ignored.size > 200_000) this.ignored.clear();
  }

  private endTcp(f: TcpFlow, reason: TcpFlow['endReason']): void {
    if (this.tcp.get(f.key) !== f) return;
    this.tcp.delete(f.key);
    f.endReason = reason;
    if (f.rdp !== 'no') this.sink.onTcpEnd(f);
  }

  private endUdp(u: UdpFlow): void {
    if (this.udp.get(u.key) !== u) return;
    this.udp.delete(u.key);
    this.sink.onUdpEnd?.(u);
  }

  private drop(f: TcpFlow): void {
    this.tcp.delete(f.key);
    this.ignored.add(f.key);
    this.stats.flowsDropped++;
  }

  private tcpPacket(p: Packet): void {
    this.stats.tcpPackets++;
    const t = p.tcp!;
    const ka = `${p.src}|${p.srcPort}`;
    const kb = `${p.dst}|${p.dstPort}`;
    const key = ka < kb ? `${ka}-${kb}` : `${kb}-${ka}`;
    const isSyn = (t.flags & TCP_SYN) !== 0 && (t.flags & TCP_ACK) === 0;
    let f = this.tcp.get(key);
    if (f && isSyn) {
      // a new SYN on a reused 4-tuple (not a retransmission of this flow's SYN) starts a new connection
      const side: Side = f.a.addr === p.src && f.a.port === p.srcPort ? 'a' : 'b';
      const d = f.dirs[side];
      const retransmittedSyn = d.syn !== undefined && d.base === ((t.seq + 1) >>> 0);
      if (!retransmittedSyn) {
        this.endTcp(f, f.closed ? 'closed' : 'new-syn');
        f = undefined;
      }
    }
    if (!f) {
      if (!isSyn && this.ignored.has(key)) return;
      if (isSyn) this.ignored.delete(key);
      if (this.tcp.size >= MAX_FLOWS) {
        const oldest = this.tcp.values().next().value as TcpFlow;
        this.stats.evicted++;
        this.endTcp(oldest, 'evicted');
      }
      f = {
        key,
        a: { addr: p.src, port: p.srcPort },
        b: { addr: p.dst, port: p.dstPort },
        ipVersion: p.ipVersion,
        dirs: { a: newDir(), b: newDir() },
        first: { frame: p.frame, time: p.time },
        last: { frame: p.frame, time: p.time },
        rdp: 'maybe',
        icmp: [],
      };
      this.tcp.set(key, f);
      this.stats.flowsSeen++;
      if (this.tcp.size > this.stats.peakFlows) this.stats.peakFlows = this.tcp.size;
    }
    const side: Side = f.a.addr === p.src && f.a.port === p.srcPort ? 'a' : 'b';
    const other: Side = side === 'a' ? 'b' : 'a';
    const d = f.dirs[side];
    f.last = { frame: p.frame, time: p.time };
    d.packets++;
    const at = { frame: p.frame, time: p.time };
    if (t.flags & TCP_SYN) {
      if (d.syn) d.syn.count++;
      else d.syn = { ...at, count: 1, ...(t.mss !== undefined ? { mss: t.mss } : {}) };
      d.base = (t.seq + 1) >>> 0;
      if (t.flags & TCP_ACK) {
        if (!f.synAck) f.synAck = { ...at, from: side, ...(t.mss !== undefined ? { mss: t.mss } : {}) };
      } else if (!f.client) f.client = side;
    }
    if (t.flags & TCP_RST) {
      if (!d.rst) d.rst = at;
      f.closed ??= at;
    }
    if (t.flags & TCP_ACK) this.ackPacket(f, side, p);
    if (p.payload.length) this.data(f, side, d, t.seq, p.payload, at);
    if (t.flags & TCP_FIN) {
      if (!d.fin) d.fin = at;
      if (f.dirs[other].fin) f.closed ??= at;
    }
    if (f.rdp === 'no') this.drop(f);
  }

  private ackPacket(f: TcpFlow, side: Side, p: Packet): void {
    const d = f.dirs[side];
    const t = p.tcp!;
    if (p.payload.length === 0 && !(t.flags & (TCP_SYN | TCP_FIN | TCP_RST))) {
      if (d.lastAck === t.ack && d.lastWindow === t.window) {
        d.dupAcks++;
        if (t.sack?.length) d.sackBlocks += t.sack.length;
      }
    }
    d.lastAck = t.ack;
    d.lastWindow = t.window;
    if (d.highestAck === undefined || seqDiff(t.ack, d.highestAck) > 0) d.highestAck = t.ack;
  }

  private data(f: TcpFlow, side: Side, d: DirState, seq: number, payload: Uint8Array, at: At): void {
    if (d.base === undefined) d.base = seq;
    let off = seqDiff(seq, d.base);
    let bytes = payload;
    d.payloadBytes += bytes.length;
    if (bytes.length > d.maxSegment) d.maxSegment = bytes.length;
    // keep-alive: one byte (or none) just below the next expected byte (RFC 9293 §3.8.4)
    if (bytes.length <= 1 && off === d.next - 1) {
      d.keepAlives++;
      return;
    }
    if (off + bytes.length <= d.next) {
      d.retransmits++;
      if (bytes.length >= d.maxSegment) {
        d.fullRetransmits++;
        if (d.retransmitFrames.length < 16) d.retransmitFrames.push(at.frame);
      }
      return;
    }
    if (off < d.next) {
      bytes = bytes.subarray(d.next - off);
      off = d.next;
    }
    if (off > d.next) {
      // beyond a hole: hold it aside, never splice it on
      if (!d.gaps.some((g) => g.at === d.next && !g.filled)) {
        d.gaps.push({ at: d.next, missing: off - d.next, frame: at.frame, time: at.time });
      }
      if (d.pending.some((q) => q.offset === off && q.length >= bytes.length)) {
        d.retransmits++;
        return;
      }
      if (d.pending.length >= MAX_PENDING) {
        d.pendingDropped++;
        return;
      }
      const keep = off < RETAIN_BYTES ? bytes.slice(0, Math.min(bytes.length, RETAIN_BYTES - off)) : new Uint8Array(0);
      d.pending.push({ offset: off, bytes: keep, length: bytes.length, frame: at.frame, time: at.time });
      return;
    }
    this.append(f, side, d, bytes, at);
    // drain what the hole was holding
    while (d.pending.length) {
      let progressed = false;
      for (let i = 0; i < d.pending.length; i++) {
        const q = d.pending[i];
        if (q.offset + q.length <= d.next) {
          d.pending.splice(i--, 1);
          continue;
        }
        if (q.offset <= d.next) {
          d.pending.splice(i, 1);
          const skip = d.next - q.offset;
          const part = q.bytes.length > skip ? q.bytes.subarray(skip) : new Uint8Array(0);
          this.appendLen(f, side, d, part, q.length - skip, { frame: q.frame, time: q.time }, at);
          progressed = true;
          break;
        }
      }
      if (!progressed) break;
    }
  }

  private append(f: TcpFlow, side: Side, d: DirState, bytes: Uint8Array, at: At): void {
    this.appendLen(f, side, d, bytes, bytes.length, at, at);
  }

  /** Append `length` stream bytes at d.next (of which `bytes` are known); `filler` is the frame that made it in order. */
  private appendLen(f: TcpFlow, side: Side, d: DirState, bytes: Uint8Array, length: number, at: At, filler: At): void {
    const start = d.next;
    if (d.retained < RETAIN_BYTES && bytes.length) {
      const keep = bytes.subarray(0, Math.min(bytes.length, RETAIN_BYTES - d.retained));
      d.chunks.push(keep.slice());
      d.retained += keep.length;
    }
    if (d.segments.length < MAX_SEGMENTS) d.segments.push({ offset: start, length, frame: at.frame, time: at.time });
    d.next += length;
    d.firstData ??= at;
    d.lastData = at;
    for (const g of d.gaps) if (!g.filled && g.at + g.missing <= d.next) g.filled = filler;
    if (f.rdp === 'maybe') this.classify(f, side);
  }

  private classify(f: TcpFlow, side: Side): void {
    const d = f.dirs[side];
    if (f.client && f.client !== side) {
      // the server speaks: an X.224 Connection Confirm (X.224 §13.4, code 0xD0) answering a client stream that was
      // not a well-formed Connection Request is still an RDP attempt (a malformed request); anything else is not RDP
      if (!f.clientNotCr) return; // the client has not decided yet (a SOCKS reply comes before the request ends)
      f.rdp = looksLikeConfirm(streamBytes(d)) ? 'yes' : 'no';
      if (f.rdp === 'yes') f.malformedRequest = true;
      return;
    }
    const c = classifyClientStart(streamBytes(d));
    if (c.verdict === 'maybe' && d.retained < 1024) return;
    if (c.verdict === 'yes') {
      f.rdp = 'yes';
      f.client = side;
      if (c.proxy) f.prefix = { kind: c.proxy, client: c.offset! };
      return;
    }
    if (f.client === side) {
      // wait for the server's first bytes (bounded): a Confirm makes it a malformed RDP attempt
      f.clientNotCr = true;
      if (d.retained > 4096 || f.dirs[side === 'a' ? 'b' : 'a'].next > 0) f.rdp = 'no';
      return;
    }
    // no SYN seen: the other side may be the client (it has not spoken yet)
    const o = f.dirs[side === 'a' ? 'b' : 'a'];
    if (o.next > 0 && classifyClientStart(streamBytes(o)).verdict === 'no') f.rdp = 'no';
    if (d.packets > 32) f.rdp = 'no';
  }

  private udpPacket(p: Packet): void {
    this.stats.udpPackets++;
    const ka = `${p.src}|${p.srcPort}`;
    const kb = `${p.dst}|${p.dstPort}`;
    const key = ka < kb ? `${ka}-${kb}` : `${kb}-${ka}`;
    let u = this.udp.get(key);
    const at = { frame: p.frame, time: p.time };
    if (!u) {
      const c = classifyRdpeudp(p.payload);
      if (c.kind !== 'syn') return; // only flows that start with an MS-RDPEUDP SYN (3.1.5.1.1) are followed
      if (this.udp.size >= MAX_FLOWS) {
        const oldest = this.udp.values().next().value as UdpFlow;
        this.stats.evicted++;
        this.endUdp(oldest);
      }
      u = {
        key,
        client: { addr: p.src, port: p.srcPort },
        server: { addr: p.dst, port: p.dstPort },
        ipVersion: p.ipVersion,
        syns: [],
        synAcks: [],
        toServer: 0,
        toClient: 0,
        icmp: [],
        first: at,
        last: at,
      };
      this.udp.set(key, u);
    }
    u.last = at;
    const fromClient = u.client.addr === p.src && u.client.port === p.srcPort;
    const c = classifyRdpeudp(p.payload);
    const keep = (x: At[] & { bytes: Uint8Array }[]) => x.length < 8;
    if (fromClient && c.kind === 'syn') {
      if (keep(u.syns as never)) u.syns.push({ ...at, bytes: p.payload.slice(0, 1232) });
    } else if (!fromClient && c.kind === 'synack') {
      if (keep(u.synAcks as never)) u.synAcks.push({ ...at, bytes: p.payload.slice(0, 1232) });
    } else if (fromClient) u.toServer++;
    else u.toClient++;
  }

  private icmpPacket(p: Packet): void {
    this.stats.icmpPackets++;
    const q = p.icmp?.quoted;
    if (q && q.srcPort !== undefined && q.dstPort !== undefined) {
      const ka = `${q.src}|${q.srcPort}`;
      const kb = `${q.dst}|${q.dstPort}`;
      const key = ka < kb ? `${ka}-${kb}` : `${kb}-${ka}`;
      const entry = { ...p.icmp!, frame: p.frame, time: p.time, from: p.src };
      if (q.proto === 6) {
        const f = this.tcp.get(key);
        if (f) {
          if (f.icmp.length < 64) f.icmp.push(entry);
          f.last = { frame: p.frame, time: p.time };
          return;
        }
      } else if (q.proto === 17) {
        const u = this.udp.get(key);
        if (u) {
          if (u.icmp.length < 64) u.icmp.push(entry);
          u.last = { frame: p.frame, time: p.time };
          return;
        }
      }
    }
    this.stats.icmpUnmatched++;
    this.sink.onIcmp?.(p);
  }
}
