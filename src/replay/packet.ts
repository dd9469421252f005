/**
 * One captured frame → link layer → IPv4 (with bounded fragment reassembly) / IPv6 → TCP / UDP / ICMP / ICMPv6.
 * Pure and synchronous; everything is bounds-checked through Reader, so a malformed frame is a DecodeError the
 * caller counts and skips, never a crash.
 *
 * Link types (tcpdump.org LINKTYPE_* registry, https://www.tcpdump.org/linktypes.html):
 *   0 NULL (4-byte address family in the capturing host's byte order), 108 LOOP (address family in network order),
 *   1 ETHERNET (with 802.1Q / 802.1ad VLAN tags), 12/101 RAW, 228 IPV4, 229 IPV6, 113 LINUX_SLL, 276 LINUX_SLL2.
 */
import { DecodeError } from '../codec/errors.js';
import { ipv6Text } from '../codec/ip-text.js';
import { Reader } from '../codec/reader.js';

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW_OLD = 12; // OpenBSD's DLT_RAW value, seen in old pcap files
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

export const SUPPORTED_LINK_TYPES: ReadonlySet<number> = new Set([
  LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_RAW_OLD, LINKTYPE_RAW, LINKTYPE_LOOP, LINKTYPE_LINUX_SLL, LINKTYPE_IPV4, LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL2,
]);

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100; // IEEE 802.1Q
const ETHERTYPE_QINQ = 0x88a8; // IEEE 802.1ad
const ETHERTYPE_QINQ_OLD = 0x9100;

const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ICMPV6 = 58;
// IPv6 extension headers we walk (RFC 8200 §4): hop-by-hop 0, routing 43, fragment 44, destination options 60
const IPV6_HOPOPTS = 0;
const IPV6_ROUTING = 43;
const IPV6_FRAGMENT = 44;
const IPV6_DSTOPTS = 60;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export interface TcpHeader {
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** MSS option (RFC 9293 §3.2, kind 2), on SYNs. */
  mss?: number;
  /** SACK blocks (RFC 2018, kind 5) as [left, right) sequence numbers. */
  sack?: [number, number][];
}

export interface QuotedPacket {
  src: string;
  dst: string;
  proto: number;
  srcPort?: number;
  dstPort?: number;
  /** IP total length of the packet the ICMP message is about. */
  ipLength: number;
}

export interface IcmpMessage {
  /** ICMP (RFC 792) or ICMPv6 (RFC 4443) type and code. */
  version: 4 | 6;
  type: number;
  code: number;
  /** Next-hop MTU: RFC 1191 §4 (type 3 code 4) / RFC 4443 §3.2 Packet Too Big. */
  mtu?: number;
  echo?: { id: number; seq: number };
  quoted?: QuotedPacket;
}

export interface Packet {
  frame: number;
  time: number;
  ipVersion: 4 | 6;
  src: string;
  dst: string;
  /** IPv4 DF bit; IPv6 never fragments on path (true). */
  df: boolean;
  /** IP total length (header + payload) as sent. */
  ipLength: number;
  proto: 'tcp' | 'udp' | 'icmp' | 'other';
  srcPort: number;
  dstPort: number;
  tcp?: TcpHeader;
  icmp?: IcmpMessage;
  /** Transport payload (TCP/UDP data, or the ICMP body after the 8-byte header). */
  payload: Uint8Array;
  /** Set when the IPv4 datagram was rebuilt from fragments. */
  reassembled?: boolean;
}

export function ip4(b: Uint8Array, o = 0): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** RFC 5952 text of the 16 address bytes at o. */
export function ip6(b: Uint8Array, o = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[o + i] << 8) | b[o + i + 1]);
  return ipv6Text(g);
}

/**
 * Bounded IPv4 fragment reassembly (RFC 791 §3.2, keyed by src, dst, protocol, id). At most `maxDatagrams` pending
 * datagrams of at most 65535 bytes each; a datagram not completed within `timeoutS` capture seconds is dropped
 * and counted. Overlapping fragments: the first copy of each byte wins.
 */
export class Ipv4Reassembler {
  private pending = new Map<string, { first: number; parts: { off: number; data: Uint8Array }[]; total?: number; header?: Uint8Array; bytes: number }>();
  dropped = 0;
  completed = 0;
  constructor(
    private readonly maxDatagrams = 256,
    private readonly timeoutS = 30,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  /** Returns the whole IP payload (without header) once every fragment is in, else null. */
  add(key: string, time: number, offset: number, more: boolean, data: Uint8Array, header: Uint8Array): Uint8Array | null {
    if (this.pending.size && this.pending.size % 64 === 0) this.expire(time);
    let p = this.pending.get(key);
    if (!p) {
      if (this.pending.size >= this.maxDatagrams) {
        const oldest = this.pending.keys().next().value as string;
        this.pending.delete(oldest);
        this.dropped++;
      }
      p = { first: time, parts: [], bytes: 0 };
      this.pending.set(key, p);
    }
    if (offset + data.length > 65535 || p.bytes > 65535 * 2) {
      this.pending.delete(key);
      this.dropped++;
      return null;
    }
    p.parts.push({ off: offset, data: data.slice() });
    p.bytes += data.length;
    if (offset === 0) p.header = header.slice();
    if (!more) p.total = offset + data.length;
    if (p.total === undefined || !p.header) return null;
    p.parts.sort((a, b) => a.off - b.off);
    let covered = 0;
    for (const part of p.parts) {
      if (part.off > covered) return null;
      covered = Math.max(covered, part.off + part.data.length);
    }
    if (covered < p.total) return null;
    const out = new Uint8Array(p.total);
    const have = new Uint8Array(p.total);
    for (const part of p.parts) {
      for (let i = 0; i < part.data.length && part.off + i < p.total; i++) {
        if (!have[part.off + i]) (out[part.off + i] = part.data[i]), (have[part.off + i] = 1);
      }
    }
    this.pending.delete(key);
    this.completed++;
    return out;
  }

  expire(now: number): void {
    for (const [k, p] of this.pending) {
      if (now - p.first > this.timeoutS) {
        this.pending.delete(k);
        this.dropped++;
      }
    }
  }
}

/** Link layer → the EtherType of the network-layer packet and the Reader positioned at it (null: not IP). */
function linkLayer(linkType: number, data: Uint8Array): { etherType: number; r: Reader } | null {
  const r = new Reader(data, 'link');
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      r.skip(12, 'ethernet addresses');
      let et = r.u16be('ethertype');
      while (et === ETHERTYPE_VLAN || et === ETHERTYPE_QINQ || et === ETHERTYPE_QINQ_OLD) {
        r.skip(2, 'vlan tci');
        et = r.u16be('ethertype');
      }
      return { etherType: et, r };
    }
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      // AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS).
      const b = r.bytes(4, 'loopback family');
      const le = b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24);
      const be = (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
      const fam = linkType === LINKTYPE_LOOP ? be : le >>> 0 < 256 ? le : be;
      if (fam === 2) return { etherType: ETHERTYPE_IPV4, r };
      if (fam === 10 || fam === 24 || fam === 28 || fam === 30) return { etherType: ETHERTYPE_IPV6, r };
      return null;
    }
    case LINKTYPE_LINUX_SLL: {
      // packet type 2, ARPHRD 2, address length 2, address 8, protocol 2
      r.skip(14, 'sll header');
      return { etherType: r.u16be('sll protocol'), r };
    }
    case LINKTYPE_LINUX_SLL2: {
      // protocol 2, reserved 2, interface index 4, ARPHRD 2, packet type 1, address length 1, address 8
      const et = r.u16be('sll2 protocol');
      r.skip(18, 'sll2 header');
      return { etherType: et, r };
    }
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_OLD:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6: {
      const v = r.peekU8('ip version') >> 4;
      return { etherType: v === 6 ? ETHERTYPE_IPV6 : v === 4 ? ETHERTYPE_IPV4 : -1, r };
    }
    default:
      return null;
  }
}

/**
 * Decode one frame. Returns null for frames that are not IP (ARP, LLDP…) or are a non-final IPv4 fragment; throws
 * DecodeError for a malformed one.
 */
export function decodeFrame(frame: number, time: number, linkType: number, data: Uint8Array, frags?: Ipv4Reassembler): Packet | null {
  const l = linkLayer(linkType, data);
  if (!l) return null;
  const { etherType, r } = l;
  if (etherType === ETHERTYPE_IPV4) return ipv4(frame, time, r, frags);
  if (etherType === ETHERTYPE_IPV6) return ipv6(frame, time, r);
  return null;
}

function ipv4(frame: number, time: number, r: Reader, frags?: Ipv4Reassembler): Packet | null {
  const start = r.offset;
  const vihl = r.u8('ipv4 version/ihl');
  const ihl = (vihl & 0x0f) * 4;
  if (vihl >> 4 !== 4) r.fail('ipv4 version', `version ${vihl >> 4}`);
  if (ihl < 20) r.fail('ipv4 ihl', `header length ${ihl} < 20`);
  r.skip(1, 'tos');
  const total = r.u16be('ipv4 total length');
  const id = r.u16be('ipv4 id');
  const frag = r.u16be('ipv4 flags/fragment');
  r.skip(1, 'ttl');
  const proto = r.u8('ipv4 protocol');
  r.skip(2, 'checksum');
  const srcB = r.bytes(4, 'ipv4 src');
  const dstB = r.bytes(4, 'ipv4 dst');
  r.skip(ihl - 20, 'ipv4 options');
  const src = ip4(srcB);
  const dst = ip4(dstB);
  // total may be 0 with TSO/GSO captures: trust the captured bytes then
  const avail = r.remaining;
  const l4len = total >= ihl ? Math.min(total - ihl, avail) : avail;
  let body = r.bytes(l4len, 'ipv4 payload');
  const df = (frag & 0x4000) !== 0;
  const more = (frag & 0x2000) !== 0;
  const fragOffset = (frag & 0x1fff) * 8;
  let reassembled = false;
  let ipLength = total || ihl + l4len;
  if (more || fragOffset !== 0) {
    if (!frags) return null;
    const whole = frags.add(`${src}|${dst}|${proto}|${id}`, time, fragOffset, more, body, r.buf.subarray(start, start + ihl));
    if (!whole) return null;
    body = whole;
    reassembled = true;
    ipLength = ihl + whole.length;
  }
  return transport(frame, time, 4, src, dst, df, ipLength, proto, body, reassembled);
}

function ipv6(frame: number, time: number, r: Reader): Packet | null {
  const first = r.u8('ipv6 version');
  if (first >> 4 !== 6) r.fail('ipv6 version', `version ${first >> 4}`);
  r.skip(3, 'ipv6 class/flow');
  const plen = r.u16be('ipv6 payload length');
  let next = r.u8('ipv6 next header');
  r.skip(1, 'hop limit');
  const src = ip6(r.bytes(16, 'ipv6 src'));
  const dst = ip6(r.bytes(16, 'ipv6 dst'));
  let body = r.bytes(plen === 0 ? r.remaining : Math.min(plen, r.remaining), 'ipv6 payload');
  let hops = 0;
  while (next === IPV6_HOPOPTS || next === IPV6_ROUTING || next === IPV6_DSTOPTS || next === IPV6_FRAGMENT) {
    if (++hops > 8) throw new DecodeError('ipv6', 'extension headers', 40, 'more than 8 extension headers');
    const e = new Reader(body, 'ipv6');
    const nh = e.u8('ext next header');
    if (next === IPV6_FRAGMENT) {
      e.skip(1, 'fragment reserved');
      const offFlags = e.u16be('fragment offset');
      // only an unfragmented "atomic" fragment (offset 0, M=0) is decoded; real IPv6 fragments are rare here
      if ((offFlags & 0xfff9) !== 0) return null;
      body = body.subarray(8);
    } else {
      const hl = (e.u8('ext length') + 1) * 8;
      e.skip(hl - 2, 'ext body');
      body = body.subarray(hl);
    }
    next = nh;
  }
  return transport(frame, time, 6, src, dst, true, plen + 40, next, body, false);
}

function transport(
  frame: number,
  time: number,
  ipVersion: 4 | 6,
  src: string,
  dst: string,
  df: boolean,
  ipLength: number,
  proto: number,
  body: Uint8Array,
  reassembled: boolean,
): Packet {
  // one object literal per packet, same shape every time (spreads or a closure here cost more than the decode)
  const l4 = new Reader(body, 'l4');
  if (proto === IPPROTO_TCP) {
    const srcPort = l4.u16be('tcp src port');
    const dstPort = l4.u16be('tcp dst port');
    const seq = l4.u32be('tcp seq');
    const ack = l4.u32be('tcp ack');
    const offFlags = l4.u16be('tcp offset/flags');
    const window = l4.u16be('tcp window');
    l4.skip(4, 'tcp checksum/urgent');
    const hlen = (offFlags >> 12) * 4;
    if (hlen < 20) throw new DecodeError('tcp', 'data offset', 12, `header length ${hlen} < 20`);
    const tcp: TcpHeader = { seq, ack, flags: offFlags & 0xff, window };
    if (hlen > 20) tcpOptions(l4.sub(hlen - 20, 'tcp options', 'tcp'), tcp);
    return packetOf(frame, time, ipVersion, src, dst, df, ipLength, reassembled, 'tcp', srcPort, dstPort, l4.rest(), tcp);
  }
  if (proto === IPPROTO_UDP) {
    const srcPort = l4.u16be('udp src port');
    const dstPort = l4.u16be('udp dst port');
    const len = l4.u16be('udp length');
    l4.skip(2, 'udp checksum');
    const payload = l4.rest();
    return packetOf(frame, time, ipVersion, src, dst, df, ipLength, reassembled, 'udp', srcPort, dstPort, len >= 8 ? payload.subarray(0, Math.min(payload.length, len - 8)) : payload);
  }
  if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
    const v: 4 | 6 = proto === IPPROTO_ICMP ? 4 : 6;
    const type = l4.u8('icmp type');
    const code = l4.u8('icmp code');
    l4.skip(2, 'icmp checksum');
    const rest4 = l4.bytes(4, 'icmp rest of header');
    const icmp: IcmpMessage = { version: v, type, code };
    const body2 = l4.rest();
    const isErr = v === 4 ? type === 3 || type === 11 || type === 12 : type >= 1 && type <= 4;
    const isEcho = v === 4 ? type === 0 || type === 8 : type === 128 || type === 129;
    if (v === 4 && type === 3 && code === 4) icmp.mtu = (rest4[2] << 8) | rest4[3]; // RFC 1191 §4
    if (v === 6 && type === 2) icmp.mtu = ((rest4[0] << 24) | (rest4[1] << 16) | (rest4[2] << 8) | rest4[3]) >>> 0; // RFC 4443 §3.2
    if (isEcho) icmp.echo = { id: (rest4[0] << 8) | rest4[1], seq: (rest4[2] << 8) | rest4[3] };
    if (isErr) {
      try {
        const q = quoted(body2, v);
        if (q) icmp.quoted = q;
      } catch {
        /* a short quote is common (routers may quote only 28 bytes); keep the message without it */
      }
    }
    return packetOf(frame, time, ipVersion, src, dst, df, ipLength, reassembled, 'icmp', 0, 0, body2, undefined, icmp);
  }
  return packetOf(frame, time, ipVersion, src, dst, df, ipLength, reassembled, 'other', 0, 0, body);
}

function packetOf(
  frame: number,
  time: number,
  ipVersion: 4 | 6,
  src: string,
  dst: string,
  df: boolean,
  ipLength: number,
  reassembled: boolean,
  proto: Packet['proto'],
  srcPort: number,
  dstPort: number,
  payload: Uint8Array,
  tcp?: TcpHeader,
  icmp?: IcmpMessage,
): Packet {
  const p: Packet = { frame, time, ipVersion, src, dst, df, ipLength, proto, srcPort, dstPort, tcp, icmp, payload };
  if (reassembled) p.reassembled = true;
  return p;
}

function tcpOptions(r: Reader, tcp: TcpHeader): void {
  // RFC 9293 §3.1: kind 0 end, 1 NOP, else kind/length/value
  while (r.remaining > 0) {
    const kind = r.u8('tcp option kind');
    if (kind === 0) return;
    if (kind === 1) continue;
    const len = r.u8('tcp option length');
    if (len < 2) r.fail('tcp option length', `length ${len} < 2`);
    const v = r.sub(len - 2, 'tcp option value', 'tcp');
    if (kind === 2 && len === 4) tcp.mss = v.u16be('mss');
    else if (kind === 5 && (len - 2) % 8 === 0) {
      tcp.sack = [];
      while (v.remaining >= 8) tcp.sack.push([v.u32be('sack left'), v.u32be('sack right')]);
    }
  }
}

/** The IP header + first 8 bytes an ICMP error quotes (RFC 792, RFC 4443 §2.4 c). */
function quoted(b: Uint8Array, v: 4 | 6): QuotedPacket | null {
  const r = new Reader(b, 'icmp quote');
  if (v === 4) {
    const vihl = r.u8('quoted version/ihl');
    if (vihl >> 4 !== 4) return null;
    const ihl = (vihl & 0x0f) * 4;
    r.skip(1, 'tos');
    const total = r.u16be('quoted total length');
    r.skip(5, 'quoted id/frag/ttl');
    const proto = r.u8('quoted protocol');
    r.skip(2, 'checksum');
    const src = ip4(r.bytes(4, 'src'));
    const dst = ip4(r.bytes(4, 'dst'));
    r.skip(Math.max(0, ihl - 20), 'options');
    const q: QuotedPacket = { src, dst, proto, ipLength: total };
    if ((proto === IPPROTO_TCP || proto === IPPROTO_UDP) && r.remaining >= 4) (q.srcPort = r.u16be('sport')), (q.dstPort = r.u16be('dport'));
    return q;
  }
  const first = r.u8('quoted version');
  if (first >> 4 !== 6) return null;
  r.skip(3, 'class/flow');
  const plen = r.u16be('quoted payload length');
  const proto = r.u8('quoted next header');
  r.skip(1, 'hop limit');
  const src = ip6(r.bytes(16, 'src'));
  const dst = ip6(r.bytes(16, 'dst'));
  const q: QuotedPacket = { src, dst, proto, ipLength: plen + 40 };
  if ((proto === IPPROTO_TCP || proto === IPPROTO_UDP) && r.remaining >= 4) (q.srcPort = r.u16be('sport')), (q.dstPort = r.u16be('dport'));
  return q;
}
