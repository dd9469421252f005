/** Build small classic pcap files (LINKTYPE_RAW) of scripted TCP conversations for replay tests. */
const be16 = (v: number) => [(v >>> 8) & 255, v & 255];
const be32 = (v: number) => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const le32 = (v: number) => [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24];

export function ipv4Tcp(src: number[], dst: number[], sport: number, dport: number, seq: number, ack: number, flags: number, payload: Uint8Array | number[] = [], mss?: number): number[] {
  const opts = mss !== undefined ? [2, 4, ...be16(mss)] : [];
  const tcpH = [...be16(sport), ...be16(dport), ...be32(seq >>> 0), ...be32(ack >>> 0), ((5 + opts.length / 4) << 4), flags, ...be16(65535), 0, 0, 0, 0, ...opts];
  const total = 20 + tcpH.length + payload.length;
  return [0x45, 0, ...be16(total), 0, 1, 0x40, 0, 64, 6, 0, 0, ...src, ...dst, ...tcpH, ...payload];
}

export function icmpFragNeeded(router: number[], to: number[], mtu: number, quotedPacket: number[]): number[] {
  const icmp = [3, 4, 0, 0, 0, 0, ...be16(mtu), ...quotedPacket.slice(0, 28)];
  return [0x45, 0, ...be16(20 + icmp.length), 0, 2, 0, 0, 64, 1, 0, 0, ...router, ...to, ...icmp];
}

export class PcapWriter {
  private out: number[] = [...le32(0xa1b2c3d4), 2, 0, 4, 0, ...le32(0), ...le32(0), ...le32(65535), ...le32(101)];
  t = 1_700_000_000;
  add(data: number[], dt = 0.001): this {
    this.t += dt;
    const sec = Math.floor(this.t);
    const us = Math.round((this.t - sec) * 1e6);
    this.out.push(...le32(sec), ...le32(us), ...le32(data.length), ...le32(data.length), ...data);
    return this;
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

export const TCP = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 };

/** A TCP conversation with sequence numbers kept for you. */
export class Conversation {
  cseq = 1000;
  sseq = 5000;
  constructor(
    readonly w: PcapWriter,
    readonly c: number[] = [192, 0, 2, 10],
    readonly s: number[] = [198, 51, 100, 20],
    readonly cport = 50000,
    readonly sport = 3389,
  ) {}
  handshake(mss = 1460): this {
    this.w.add(ipv4Tcp(this.c, this.s, this.cport, this.sport, this.cseq, 0, TCP.SYN, [], mss));
    this.w.add(ipv4Tcp(this.s, this.c, this.sport, this.cport, this.sseq, this.cseq + 1, TCP.SYN | TCP.ACK, [], mss));
    this.cseq++;
    this.sseq++;
    this.w.add(ipv4Tcp(this.c, this.s, this.cport, this.sport, this.cseq, this.sseq, TCP.ACK));
    return this;
  }
  client(data: Uint8Array | number[], dt = 0.001): this {
    this.w.add(ipv4Tcp(this.c, this.s, this.cport, this.sport, this.cseq, this.sseq, TCP.PSH | TCP.ACK, data), dt);
    this.cseq += data.length;
    return this;
  }
  /** Server data; `lost` = advance the sequence without writing the packet (a client-side capture of a loss). */
  server(data: Uint8Array | number[], opts: { lost?: boolean; dt?: number; seq?: number } = {}): this {
    const seq = opts.seq ?? this.sseq;
    if (!opts.lost) this.w.add(ipv4Tcp(this.s, this.c, this.sport, this.cport, seq, this.cseq, TCP.PSH | TCP.ACK, data), opts.dt ?? 0.001);
    if (opts.seq === undefined) this.sseq += data.length;
    return this;
  }
  clientAck(ackOffset?: number, dt = 0.001): this {
    this.w.add(ipv4Tcp(this.c, this.s, this.cport, this.sport, this.cseq, ackOffset ?? this.sseq, TCP.ACK), dt);
    return this;
  }
  clientRst(dt = 0.001, ack = this.sseq): this {
    this.w.add(ipv4Tcp(this.c, this.s, this.cport, this.sport, this.cseq, ack, TCP.RST | TCP.ACK), dt);
    return this;
  }
}
