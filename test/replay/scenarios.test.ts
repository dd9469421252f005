import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnose/index.js';
import { replayStream } from '../../src/replay/replay.js';
import { captureFromBytes } from '../../src/replay/stream.js';
import { tlsStreams } from '../codec/tls-streams.js';
import { Conversation, icmpFragNeeded, ipv4Tcp, PcapWriter } from './pcap-builder.js';

// Scripted conversations with a real TLS flight (ndpi-rdp.pcap's ClientHello and 1179-byte server flight) cut the
// way a PMTU black hole cuts it, seen from either end; and a path that recovered through ICMP.
const { client: clientTls, server: serverTls } = tlsStreams('ndpi-rdp.pcap');
const clientHello = clientTls.subarray(0, 5 + ((clientTls[3] << 8) | clientTls[4]));
const flight = serverTls.subarray(0, 5 + ((serverTls[3] << 8) | serverTls[4])); // ServerHello…ServerHelloDone
const CR = [3, 0, 0, 19, 14, 0xe0, 0, 0, 0, 0, 0, 1, 0, 8, 0, 3, 0, 0, 0];
const CC = [3, 0, 0, 19, 14, 0xd0, 0, 0, 0x12, 0x34, 0, 2, 0, 8, 0, 2, 0, 0, 0];

async function replay(bytes: Uint8Array) {
  const r = await replayStream(captureFromBytes(bytes), { file: 'scripted.pcap' });
  expect(r.attempts).toBe(1);
  const o = r.observations[0];
  const d = diagnose(o, { profile: 'mstsc' });
  if (process.env.SHOW) console.log(d.verdict.line);
  return { o, d };
}

describe('replay scenarios (scripted captures)', () => {
  it('client-side capture of a black hole: the flight has a hole never filled → TLS stalled (hole) → PMTU black hole', async () => {
    const w = new PcapWriter();
    const c = new Conversation(w).handshake(536);
    c.client(CR).server(CC).client(clientHello);
    c.server(flight.subarray(0, 536)).server(flight.subarray(536, 1072), { lost: true }).server(flight.subarray(1072));
    const acked = c.sseq - flight.length + 536;
    c.clientAck(acked).clientAck(acked, 0.2);
    c.clientRst(10, acked);
    const { o, d } = await replay(w.bytes());
    expect(o.tls).toMatchObject({ outcome: 'stalled', stallEvidence: 'hole', bytesReceived: 536, version: 'TLSv1.2' });
    const gaps = (o.replay as unknown as { tcp: { server: { gaps: { missing: number; filledFrame?: number }[] } } }).tcp.server.gaps;
    expect(gaps).toEqual([{ at: 19 + 536, missing: 536, frame: 8 }]); // frame 8: the first segment beyond the hole
    expect(d.findings[0].id).toBe('pmtu-black-hole');
    expect(d.verdict.line).toMatch(/^0x904/);
  });

  it('server-side capture of the same connection: full-size retransmissions never acknowledged → stalled → PMTU black hole', async () => {
    const w = new PcapWriter();
    const c = new Conversation(w).handshake(536);
    c.client(CR).server(CC).client(clientHello);
    const base = c.sseq;
    c.server(flight.subarray(0, 536)).server(flight.subarray(536, 1072)).server(flight.subarray(1072));
    c.clientAck(base + 536);
    for (const dt of [0.3, 0.6, 1.2]) c.server(flight.subarray(536, 1072), { seq: base + 536, dt }); // RTO retransmissions
    c.clientRst(8, base + 536);
    const { o, d } = await replay(w.bytes());
    expect(o.tls).toMatchObject({ outcome: 'stalled', stallEvidence: 'deadline', bytesReceived: 536 });
    expect((o.replay as unknown as { tcp: { server: { fullSizeRetransmits: number } } }).tcp.server.fullSizeRetransmits).toBe(3);
    expect(d.findings[0].id).toBe('pmtu-black-hole');
  });

  it('a path that recovered through ICMP fragmentation-needed: healthy, with the reduced MTU as information', async () => {
    const w = new PcapWriter();
    const c = new Conversation(w).handshake(1460);
    c.client(CR).server(CC).client(clientHello);
    const big = ipv4Tcp(c.s, c.c, c.sport, c.cport, c.sseq, c.cseq, 0x18, flight);
    w.add(big); // 1219-byte packet, too big for the 1000-byte link
    w.add(icmpFragNeeded([203, 0, 113, 1], c.s, 1000, big));
    c.server(flight.subarray(0, 900), { dt: 0.002 }).server(flight.subarray(900));
    c.clientAck();
    c.client([0x14, 3, 3, 0, 1, 1]); // client ChangeCipherSpec
    const { o, d } = await replay(w.bytes());
    expect(o.tls?.outcome).toBe('ok');
    expect(o.pmtu).toMatchObject({ outcome: 'measured', pathMtu: 1000, reportingRouter: '203.0.113.1', localMtu: 1500 });
    expect(d.verdict.healthy).toBe(true);
    expect(d.findings.map((f) => f.id)).toContain('pmtu-reduced');
  });
});

describe('replay scenarios: UDP', () => {
  it('an RDPEUDP SYN answered by ICMP port unreachable: udp icmp-unreachable, tied by the quoted header', async () => {
    const { encodeRdpeudpSyn } = await import('../../src/codec/rdpeudp.js');
    const syn = [...encodeRdpeudpSyn({ initialSequenceNumber: 7, version: 2 })];
    const c = [192, 0, 2, 10];
    const s = [198, 51, 100, 20];
    const udpLen = 8 + syn.length;
    const dgram = [0x45, 0, (20 + udpLen) >> 8, (20 + udpLen) & 255, 0, 1, 0x40, 0, 64, 17, 0, 0, ...c, ...s, 0xc3, 0x50, 0x0d, 0x3d, udpLen >> 8, udpLen & 255, 0, 0, ...syn];
    const icmpBody = [3, 3, 0, 0, 0, 0, 0, 0, ...dgram.slice(0, 28)];
    const icmp = [0x45, 0, 0, 20 + icmpBody.length, 0, 2, 0, 0, 64, 1, 0, 0, ...s, ...c, ...icmpBody];
    const w = new PcapWriter().add(dgram).add(icmp, 0.002);
    const r = await replayStream(captureFromBytes(w.bytes()), { file: 'udp.pcap' });
    expect(r.observations).toHaveLength(1);
    expect(r.observations[0].udp).toMatchObject({ outcome: 'icmp-unreachable', attempts: 1 });
    expect(r.observations[0].udp?.detail).toMatch(/ICMP type 3 code 3 from 198\.51\.100\.20 \(frame 2\)/);
  });
});
