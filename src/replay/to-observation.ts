/**
 * One RDP connection attempt seen in a capture → the same Observation record live probing builds
 * (`source.kind: 'replay'`), decoded with the project's codecs: X.224 Connection Request / Confirm
 * (MS-RDPBCGR 2.2.1.1 / 2.2.1.2), MCS Connect-Initial / Response with the GCC blocks (2.2.1.3 / 2.2.1.4, Standard
 * RDP Security in clear), and the clear part of TLS (codec/tls). What only the record sizes can say about CredSSP
 * is marked as inference in `detail` and in `replay.inferred`.
 */
import { decodeConnectInitial } from '../codec/mcs.js';
import { decodeRdpeudpSyn, negotiatedVersion } from '../codec/rdpeudp.js';
import { certificateFacts } from '../record/certificate.js';
import { readTlsFlight, type TlsFlight } from '../codec/tls/handshake.js';
import { decodeConnectionRequest, protocolNames, selectedProtocolName } from '../codec/x224.js';
import { deriveSecurity } from '../observation/derive.js';
import { usesTls, type SelectedProtocol } from '../observation/vocab.js';
// record/: the pure codec-value → Observation-part mappings shared by live probing and replay
import { applyConnectResponse } from '../record/mcs.js';
import { applyConfirm } from '../record/x224.js';
import type {
  McsObservation,
  Observation,
  ObservationError,
  ProtocolName,
  ProtocolResult,
  TimelineEntry,
  TlsObservation,
  X224Observation,
} from '../observation/types.js';
import { SCHEMA_VERSION } from '../observation/types.js';
import { VERSION } from '../version.js';
import { atOffset, proxyServerPrefix, seqDiff, streamBytes, type At, type DirState, type TcpFlow, type UdpFlow } from './flows.js';

/** Replay evidence kept next to the phases (Observation.replay). */
export interface ReplayEvidence {
  /** Which side is the client and how it was decided. */
  client: { address: string; port: number; decidedBy: 'syn' | 'connection-request' };
  /** The TCP handshake was not in the capture (it started mid-connection). */
  handshakeCaptured: boolean;
  endReason: string;
  proxy?: { kind: string; bytes: number };
  request?: { cookie?: string; routingToken?: string; negReq: boolean; requestedMask?: number; frame?: number };
  clientCore?: { version: string; build: number; name: string; keyboardLayout: number; width: number; height: number; encryptionMethods?: number; channels?: string[] };
  tlsClient?: { versions: string[]; ciphers: number; sni?: string; alpn?: string[] };
  /** What the server chose in its ServerHello (also when tls.version is left out, see tlsPhase). */
  tlsServer?: { version: string; cipher: string };
  /** Application-data record sizes after the TLS handshake, per direction (first 16). */
  records?: { client: number[]; server: number[] };
  decryptedRecording?: boolean;
  tcp: {
    client: DirFacts;
    server: DirFacts;
  };
  icmp?: { frame: number; type: number; code: number; mtu?: number; from: string }[];
  /** Conclusions drawn from sizes and timing only (no decrypted content). */
  inferred?: string[];
}

interface DirFacts {
  packets: number;
  bytes: number;
  gaps: { at: number; missing: number; frame: number; filledFrame?: number }[];
  retransmits: number;
  fullSizeRetransmits: number;
  dupAcks: number;
  sackBlocks: number;
  keepAlives: number;
  maxSegment: number;
  mss?: number;
  fin?: number;
  rst?: number;
}

export interface ReplayContext {
  file: string;
}

const r1 = (x: number) => Math.round(x * 10) / 10;

function hostPort(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

function dirFacts(d: DirState, mss?: number): DirFacts {
  const out: DirFacts = {
    packets: d.packets,
    bytes: d.payloadBytes,
    gaps: d.gaps.map((g) => ({ at: g.at, missing: g.missing, frame: g.frame, ...(g.filled ? { filledFrame: g.filled.frame } : {}) })),
    retransmits: d.retransmits,
    fullSizeRetransmits: d.fullRetransmits,
    dupAcks: d.dupAcks,
    sackBlocks: d.sackBlocks,
    keepAlives: d.keepAlives,
    maxSegment: d.maxSegment,
  };
  if (mss !== undefined) out.mss = mss;
  if (d.fin) out.fin = d.fin.frame;
  if (d.rst) out.rst = d.rst.frame;
  // a hole still open when the flow ended: bytes held beyond it were never delivered
  if (d.pending.length && !d.gaps.some((g) => !g.filled && g.at === d.next)) {
    const first = d.pending.reduce((m, q) => (q.offset < m.offset ? q : m));
    out.gaps.push({ at: d.next, missing: first.offset - d.next, frame: first.frame });
  }
  return out;
}

function tpktLength(b: Uint8Array, o: number): number | undefined {
  if (b.length - o < 4 || b[o] !== 3) return undefined;
  const n = (b[o + 2] << 8) | b[o + 3];
  return n >= 4 ? n : undefined;
}


/** Build the Observation of one TCP attempt (a flow whose client sent an X.224 Connection Request, or a bare SYN). */
export function tcpAttemptObservation(f: TcpFlow, ctx: ReplayContext): Observation {
  const cs = f.client ?? 'a';
  const ss = cs === 'a' ? 'b' : 'a';
  const c = f.dirs[cs];
  const s = f.dirs[ss];
  const client = f[cs];
  const server = f[ss];
  const t0 = (c.syn ?? f.first).time;
  const ms = (at: At | undefined, from = t0) => (at ? r1((at.time - from) * 1000) : 0);
  const errors: ObservationError[] = [];
  const timeline: TimelineEntry[] = [];
  const cb = streamBytes(c);
  const sb = streamBytes(s);
  const evidence: ReplayEvidence = {
    client: { address: client.addr, port: client.port, decidedBy: c.syn && !(f.synAck?.from === cs) ? 'syn' : 'connection-request' },
    handshakeCaptured: c.syn !== undefined,
    endReason: f.endReason ?? 'capture-end',
    tcp: { client: dirFacts(c, c.syn?.mss), server: dirFacts(s, f.synAck?.mss) },
  };
  const inferred: string[] = [];
  const obs: Observation = {
    schema: SCHEMA_VERSION,
    tool: { name: 'rdprobe', version: VERSION },
    source: {
      kind: 'replay',
      target: hostPort(server.addr, server.port),
      host: server.addr,
      port: server.port,
      address: server.addr,
      file: ctx.file,
      frames: [f.first.frame, f.last.frame],
      startedAt: new Date(t0 * 1000).toISOString(),
    },
    connections: 1,
    durationMs: r1((f.last.time - t0) * 1000),
    timeline,
    errors,
  };
  if (f.icmp.length) evidence.icmp = f.icmp.map((i) => ({ frame: i.frame, type: i.type, code: i.code, ...(i.mtu !== undefined ? { mtu: i.mtu } : {}), from: i.from }));

  // ICMP fragmentation-needed (RFC 1191) / Packet Too Big (RFC 4443 §3.2) tied to this flow: the path MTU the
  // routers reported, as a measurement (the connection may well have recovered: TCP lowers its segment size)
  const ptb = f.icmp.filter((i) => i.mtu !== undefined && ((i.version === 4 && i.type === 3 && i.code === 4) || (i.version === 6 && i.type === 2)));
  if (ptb.length) {
    const mtu = Math.min(...ptb.map((i) => i.mtu!));
    obs.pmtu = {
      outcome: 'measured',
      pathMtu: mtu,
      ...(c.syn?.mss !== undefined ? { localMtu: c.syn.mss + (f.ipVersion === 4 ? 40 : 60) } : {}),
      method: 'replay: ICMP fragmentation-needed / packet-too-big in the capture',
      reportingRouter: ptb[0].from,
      probes: ptb.slice(0, 16).map((i) => ({ size: i.quoted?.ipLength ?? 0, result: 'frag-needed' as const, mtu: i.mtu!, from: i.from })),
    };
  }

  // --- TCP ---------------------------------------------------------------------------------------------------
  const unreachable = f.icmp.find((i) => (i.version === 4 ? i.type === 3 && i.code !== 4 : i.type === 1));
  if (c.syn) {
    let outcome: NonNullable<Observation['tcp']>['outcome'];
    let at: At | undefined;
    let message: string | undefined;
    if (f.synAck && f.synAck.from === ss) (outcome = 'open'), (at = f.synAck);
    else if (s.rst) (outcome = 'refused'), (at = s.rst), (message = `RST in frame ${s.rst.frame} answered the SYN (frame ${c.syn.frame})`);
    else if (unreachable) (outcome = 'unreachable'), (at = unreachable), (message = `ICMP type ${unreachable.type} code ${unreachable.code} from ${unreachable.from} (frame ${unreachable.frame})`);
    else {
      outcome = 'filtered';
      at = f.last;
      message = `no answer to ${c.syn.count} SYN(s) from frame ${c.syn.frame} to frame ${f.last.frame}`;
    }
    obs.tcp = { outcome, ms: ms(at), address: server.addr, port: server.port, localAddress: client.addr, localPort: client.port, ...(message ? { message } : {}) };
    timeline.push({ phase: 'tcp', at: 0, ms: ms(at), outcome });
    if (outcome !== 'open') return finish(obs, evidence, inferred);
  } else {
    obs.tcp = { outcome: 'open', ms: 0, address: server.addr, port: server.port, localAddress: client.addr, localPort: client.port, message: 'the TCP handshake is not in the capture' };
  }
  if (f.rdp !== 'yes') return finish(obs, evidence, inferred);

  // --- X.224 -------------------------------------------------------------------------------------------------
  let co = f.prefix?.client ?? 0;
  let so = 0;
  if (f.prefix) {
    evidence.proxy = { kind: f.prefix.kind, bytes: co };
    so = proxyServerPrefix(f.prefix.kind, sb) ?? sb.length;
  }
  const crLen = tpktLength(cb, co);
  const crAt = atOffset(c, co);
  const x224: X224Observation = { requested: [], requestedMask: 0, outcome: 'timeout', ms: 0 };
  obs.x224 = x224;
  let selectedMask: number | undefined;
  if (f.malformedRequest) {
    errors.push({ phase: 'x224', code: 'RDPROBE_REPLAY_MALFORMED', message: `the client's first bytes are not an X.224 Connection Request (${hexOf(cb.subarray(0, 8))})` });
    co = cb.length;
  } else if (crLen === undefined || cb.length - co < crLen) {
    x224.outcome = 'malformed';
    x224.detail = `the Connection Request is cut off (${cb.length - co} of ${crLen ?? '?'} bytes in the capture)`;
  } else {
    try {
      const cr = decodeConnectionRequest(cb.subarray(co, co + crLen));
      evidence.request = { negReq: cr.negReq !== undefined, ...(crAt ? { frame: crAt.frame } : {}) };
      if (cr.cookie !== undefined) evidence.request.cookie = cr.cookie;
      if (cr.routingToken) evidence.request.routingToken = latin1(cr.routingToken);
      if (cr.negReq) {
        x224.requestedMask = cr.negReq.requestedProtocols;
        x224.requested = protocolNames(cr.negReq.requestedProtocols);
        evidence.request.requestedMask = cr.negReq.requestedProtocols;
      }
      obs.options = { requested: x224.requested, cookie: cr.cookie ?? null, phases: ['replay'], timeoutMs: 0, phaseTimeoutMs: 0 };
    } catch (e) {
      errors.push({ phase: 'x224', code: 'RDPROBE_REPLAY_MALFORMED', message: (e as Error).message });
    }
    co += crLen;
  }
  const ccLen = tpktLength(sb, so);
  const ccAt = atOffset(s, so);
  if (ccLen !== undefined && sb.length - so >= ccLen) {
    const pdu = sb.subarray(so, so + ccLen);
    x224.ms = ms(ccAt, crAt?.time ?? t0);
    applyConfirm(x224, pdu);
    if (x224.outcome === 'selected') selectedMask = x224.selectedMask;
    else if (x224.outcome === 'legacy') selectedMask = 0;
    so += ccLen;
  } else {
    const got = sb.length - so;
    if (got > 0) x224.bytesReceived = got;
    const end = s.rst ?? s.fin;
    if (s.rst) x224.outcome = 'reset';
    else if (s.fin) x224.outcome = 'closed';
    else x224.outcome = 'timeout';
    x224.ms = ms(end ?? f.last, crAt?.time ?? t0);
    x224.detail =
      got > 0 && ccLen === undefined
        ? `the server's answer is not a TPKT (bytes ${hexOf(sb.subarray(so, so + 8))})`
        : x224.outcome === 'timeout'
          ? `no Connection Confirm in the capture (${x224.ms} ms until the ${f.endReason === 'capture-end' ? 'capture ends' : 'flow ended'})`
          : `the server ${x224.outcome === 'reset' ? 'reset' : 'closed'} the connection without a Connection Confirm`;
    if (got > 0 && ccLen === undefined) x224.outcome = 'malformed';
  }
  timeline.push({ phase: 'x224', at: ms(crAt), ms: x224.ms, outcome: x224.outcome });
  // a single-protocol request is one row of the enumeration
  if (x224.requested.length === 1 && evidence.request?.negReq) {
    const p = x224.requested[0];
    const row = protocolRow(x224, p);
    if (row) {
      obs.protocols = { [p]: row };
      obs.security = deriveSecurity(obs.protocols);
    }
  }
  if (selectedMask === undefined) return finish(obs, evidence, inferred);

  const selected: SelectedProtocol = selectedMask === 0 ? 'RDP' : (x224.selected ?? selectedProtocolName(selectedMask));
  const cRest = cb.subarray(co);
  const sRest = sb.subarray(so);
  if (usesTls(selected) && cRest.length > 0 && cRest[0] === 0x03) {
    // TPKT right after the Confirm although TLS was selected: a recording of the decrypted stream (FreeRDP /pcap)
    evidence.decryptedRecording = true;
    inferred.push('TLS was selected but the stream continues in clear TPKT: a recording made after decryption, not a wire capture');
    obs.mcs = mcsPhase(f, cRest, sRest, c, s, co, so, 'tls', evidence, errors, ms);
  } else if (usesTls(selected)) {
    tlsPhase(obs, f, cRest, sRest, co, so, c, s, selected, evidence, errors, inferred, ms);
  } else {
    if (cRest.length) obs.mcs = mcsPhase(f, cRest, sRest, c, s, co, so, 'plain', evidence, errors, ms);
  }
  if (obs.mcs) timeline.push({ phase: 'mcs', at: 0, ms: obs.mcs.ms, outcome: obs.mcs.outcome });
  return finish(obs, evidence, inferred);
}

function protocolRow(x: X224Observation, p: ProtocolName): ProtocolResult | undefined {
  const base = { ms: x.ms };
  if (x.outcome === 'selected') {
    return x.selected === p ? { outcome: 'accepted', selected: p, ...(x.flags ? { flags: x.flags } : {}), ...base } : { outcome: 'not-selected', selected: x.selected, ...base };
  }
  if (x.outcome === 'failure') return { outcome: 'failure', failure: x.failure, ...base };
  if (x.outcome === 'legacy') return { outcome: 'legacy', ...(x.detail ? { detail: x.detail } : {}), ...base };
  if (x.outcome === 'closed' && x.disconnect) return { outcome: 'refused', detail: x.detail, ...base };
  return undefined;
}

function finish(obs: Observation, evidence: ReplayEvidence, inferred: string[]): Observation {
  if (inferred.length) evidence.inferred = inferred;
  obs.replay = evidence as unknown as Observation['replay'];
  return obs;
}

function mcsPhase(
  f: TcpFlow,
  cRest: Uint8Array,
  sRest: Uint8Array,
  c: DirState,
  s: DirState,
  co: number,
  so: number,
  via: 'plain' | 'tls',
  evidence: ReplayEvidence,
  errors: ObservationError[],
  ms: (at: At | undefined, from?: number) => number,
): McsObservation {
  const obs: McsObservation = { outcome: 'timeout', via, ms: 0 };
  const ciLen = tpktLength(cRest, 0);
  const ciAt = atOffset(c, co);
  if (ciLen === undefined || cRest.length < ciLen) {
    obs.outcome = 'malformed';
    obs.detail = `the client's Connect-Initial is not a complete TPKT in the capture (${cRest.length} bytes)`;
    return obs;
  }
  try {
    const ci = decodeConnectInitial(cRest.subarray(0, ciLen));
    const core = ci.client.core;
    if (core) {
      evidence.clientCore = {
        version: core.version.name,
        build: core.clientBuild,
        name: core.clientName,
        keyboardLayout: core.keyboardLayout,
        width: core.desktopWidth,
        height: core.desktopHeight,
      };
      if (ci.client.security) evidence.clientCore.encryptionMethods = ci.client.security.encryptionMethods.value;
      if (ci.client.net) evidence.clientCore.channels = ci.client.net.channels.map((ch) => ch.name);
    }
  } catch (e) {
    errors.push({ phase: 'mcs', code: 'RDPROBE_REPLAY_MALFORMED', message: (e as Error).message });
  }
  const rLen = tpktLength(sRest, 0);
  const rAt = atOffset(s, so);
  if (rLen === undefined || sRest.length < rLen) {
    obs.outcome = s.rst ? 'reset' : s.fin ? 'closed' : 'timeout';
    obs.ms = ms(s.rst ?? s.fin ?? f.last, ciAt?.time);
    obs.detail =
      sRest.length > 0
        ? `only ${sRest.length} byte(s) of the server's answer to the Connect-Initial in the capture`
        : obs.outcome === 'timeout'
          ? 'no MCS Connect-Response in the capture (the capture ends, or the server stayed silent)'
          : `the server ${obs.outcome === 'reset' ? 'reset' : 'closed'} the connection after MCS Connect-Initial`;
    return obs;
  }
  obs.ms = ms(rAt, ciAt?.time);
  const pdu = sRest.subarray(0, rLen);
  applyConnectResponse(obs, pdu);
  return obs;
}

function tlsPhase(
  obs: Observation,
  f: TcpFlow,
  cRest: Uint8Array,
  sRest: Uint8Array,
  co: number,
  so: number,
  c: DirState,
  s: DirState,
  selected: SelectedProtocol,
  evidence: ReplayEvidence,
  errors: ObservationError[],
  inferred: string[],
  ms: (at: At | undefined, from?: number) => number,
): void {
  const tls: TlsObservation = { outcome: 'timeout', over: selected };
  obs.tls = tls;
  const cf: TlsFlight = readTlsFlight(cRest);
  const sf: TlsFlight = readTlsFlight(sRest);
  const chAt = atOffset(c, co);
  if (cf.clientHello) {
    evidence.tlsClient = { versions: cf.clientHello.versions, ciphers: cf.clientHello.ciphers.length };
    if (cf.clientHello.sni !== undefined) evidence.tlsClient.sni = cf.clientHello.sni;
    if (cf.clientHello.alpn) evidence.tlsClient.alpn = cf.clientHello.alpn;
  }
  if (cf.error) errors.push({ phase: 'tls', code: 'RDPROBE_REPLAY_TLS', message: cf.error });
  if (sf.error) errors.push({ phase: 'tls', code: 'RDPROBE_REPLAY_TLS', message: sf.error });
  if (sf.serverHello) {
    const chosen = sf.serverHello.version;
    evidence.tlsServer = { version: chosen, cipher: sf.serverHello.cipher.name };
    // The diagnosis reads tls.version as "offered up to TLS 1.3, the server chose this" (as the live probe does).
    // A captured client may have offered less: then the choice says nothing about the server's newest version.
    const offered = cf.clientHello?.versions ?? [];
    const rank = (v: string) => ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'].indexOf(v);
    const clientMax = offered.length ? Math.max(...offered.map(rank)) : -1;
    if (rank(chosen) >= rank('TLSv1.2') || clientMax > rank(chosen)) tls.version = chosen;
    else {
      inferred.push(
        `the server chose ${chosen}, but the client offered only up to ${offered.length ? offered[offered.map(rank).indexOf(clientMax)] : 'an unknown version'}: the capture cannot tell whether the server supports newer TLS (tls.version left out; see replay.tlsServer)`,
      );
    }
    tls.cipher = { name: sf.serverHello.cipher.name, standardName: sf.serverHello.cipher.name };
  }
  const at = new Date(((c.syn ?? f.first).time) * 1000);
  if (sf.certificates?.length) {
    try {
      tls.certificate = certificateFacts(sf.certificates[0], at);
      tls.chain = sf.certificates.map((d) => {
        try {
          return certificateFacts(d, at).subject;
        } catch {
          return 'unreadable';
        }
      });
    } catch (e) {
      errors.push({ phase: 'tls', code: 'RDPROBE_REPLAY_CERTIFICATE', message: (e as Error).message });
    }
  }
  const flightBytes = sf.flightEnd ?? (sf.records.length ? sf.records[sf.records.length - 1].offset + 5 + sf.records[sf.records.length - 1].length : 0);
  // bytes of the server's first flight that arrived in order (a stall: what came before the hole)
  tls.bytesReceived = sf.flightComplete ? flightBytes : sRest.length;
  const sFirst = atOffset(s, so);
  if (sFirst) tls.firstByteMs = ms(sFirst, chAt?.time);
  const clientCcs = cf.changeCipherSpecEnd !== undefined;
  const serverCcs = sf.changeCipherSpecEnd !== undefined;
  const alert = sf.alerts.find((a) => a.level === 'fatal') ?? sf.alerts[0];
  // server-side view: the whole flight was sent, but the client never acknowledged its end while the server
  // retransmitted full-size segments (nothing came back, no ICMP): the flight did not arrive
  const ackedFlight = c.highestAck !== undefined && s.base !== undefined ? seqDiff(c.highestAck, s.base) - so : undefined;
  const unacked =
    sf.flightComplete && ackedFlight !== undefined && ackedFlight < flightBytes && s.fullRetransmits > 0 && !clientCcs && cf.appData.length === 0;
  if (unacked) {
    tls.outcome = 'stalled';
    tls.stallEvidence = 'deadline';
    tls.bytesReceived = Math.max(0, ackedFlight!);
    tls.stalledAfterMs = ms(c.rst ?? c.fin ?? s.rst ?? s.fin ?? f.last, chAt?.time);
    inferred.push(
      `server-side view: the ${flightBytes}-byte server flight was sent, the client acknowledged only ${Math.max(0, ackedFlight!)} byte(s) of it, and the server retransmitted ${s.fullRetransmits} full-size (${s.maxSegment}-byte) segment(s) without an ACK or ICMP`,
    );
  } else if (alert && !serverCcs) {
    tls.outcome = 'alert';
    tls.alert = alert.name;
  } else if (sf.flightComplete && (clientCcs || cf.appData.length > 0 || sf.serverHello?.version === 'TLSv1.3')) {
    tls.outcome = 'ok';
    const done = serverCcs ? atOffset(s, so + sf.changeCipherSpecEnd!) ?? atOffset(s, so + sf.changeCipherSpecEnd! - 1) : undefined;
    if (done) tls.handshakeMs = ms(done, chAt?.time);
  } else if (sf.flightComplete) {
    tls.outcome = s.rst ? 'reset' : s.fin ? 'closed' : 'ok';
    if (tls.outcome === 'ok') inferred.push('the server flight is complete; the client did not finish the handshake in the capture');
  } else {
    const sGap = evidence.tcp.server.gaps.find((g) => g.filledFrame === undefined);
    const stalled = sGap !== undefined || s.fullRetransmits > 0 || c.rst !== undefined || c.fin !== undefined;
    if (s.rst && !sGap) tls.outcome = 'reset';
    else if (s.fin && !sGap) tls.outcome = 'closed';
    else if (stalled) {
      tls.outcome = 'stalled';
      tls.stallEvidence = sGap ? 'hole' : 'deadline';
      tls.stalledAfterMs = ms(c.rst ?? c.fin ?? f.last, chAt?.time);
      inferred.push(
        sGap
          ? `server flight incomplete: ${sGap.missing} byte(s) missing at stream offset ${sGap.at} (first frame beyond the hole: ${sGap.frame}) and never filled`
          : `server flight incomplete (${sRest.length} bytes), then ${s.fullRetransmits ? `${s.fullRetransmits} full-size retransmission(s)` : 'the client gave up'}`,
      );
    } else {
      tls.outcome = 'timeout';
      tls.error = `the capture ends during the TLS handshake (${sRest.length} bytes of the server flight)`;
    }
  }
  // CredSSP inside TLS: only sizes are visible without keys
  if (tls.outcome === 'ok' && (selected === 'HYBRID' || selected === 'HYBRID_EX')) {
    const cApp = cf.appData.map((a) => a.length);
    const sApp = sf.appData.map((a) => a.length);
    evidence.records = { client: cApp.slice(0, 16), server: sApp.slice(0, 16) };
    if (cApp.length === 0) {
      inferred.push('no TLS application data from the client: CredSSP never started');
    } else {
      const encAlert = sf.encryptedAlerts.find((a) => cApp.length >= 3 && a.offset > (sf.appData[0]?.offset ?? 0));
      const note = `inferred from TLS record sizes (encrypted, no keys): client ${cApp.slice(0, 6).join('/')} B, server ${sApp.slice(0, 6).join('/')} B`;
      if (sApp.length === 0) {
        obs.credssp = {
          outcome: s.rst ? 'reset' : s.fin ? 'closed' : encAlertOf(sf) ? 'alert' : 'timeout',
          ms: 0,
          detail: `${note}; the server did not answer the client's first CredSSP record`,
        };
      } else {
        obs.credssp = { outcome: 'challenge', ms: ms(atOffset(s, so + sf.appData[0].offset), atOffset(c, co + cf.appData[0].offset)?.time), detail: note };
        if (encAlert || (cApp.length >= 3 && sApp.length <= 1 && (s.fin || s.rst))) {
          obs.credssp.auth = {
            user: '(encrypted)',
            outcome: encAlert ? 'alert' : 'closed',
            detail: `${note}; the server ${encAlert ? 'sent an encrypted TLS alert' : 'closed'} after the client's third record (NTLM AUTHENTICATE-sized) instead of a public-key echo: consistent with rejected credentials (inference)`,
          };
          inferred.push(obs.credssp.auth.detail!);
        } else inferred.push(`CredSSP ran (${note})`);
      }
    }
  }
  obs.timeline.push({ phase: 'tls', at: ms(chAt), ms: tls.handshakeMs ?? tls.stalledAfterMs ?? 0, outcome: tls.outcome });
}

function encAlertOf(sf: TlsFlight): boolean {
  return sf.encryptedAlerts.length > 0;
}

/** An MS-RDPEUDP attempt: SYN(s) from the client, SYN+ACK or not (MS-RDPEUDP 3.1.5.1.1 / 3.1.5.1.2). */
export function udpAttemptObservation(u: UdpFlow, ctx: ReplayContext): Observation {
  const t0 = u.syns[0]?.time ?? u.first.time;
  const errors: ObservationError[] = [];
  const obs: Observation = {
    schema: SCHEMA_VERSION,
    tool: { name: 'rdprobe', version: VERSION },
    source: {
      kind: 'replay',
      target: hostPort(u.server.addr, u.server.port),
      host: u.server.addr,
      port: u.server.port,
      address: u.server.addr,
      file: ctx.file,
      frames: [u.first.frame, u.last.frame],
      startedAt: new Date(t0 * 1000).toISOString(),
    },
    connections: 0,
    durationMs: r1((u.last.time - t0) * 1000),
    timeline: [],
    errors,
  };
  const unreach = u.icmp.find((i) => (i.version === 4 ? i.type === 3 : i.type === 1));
  const udp: NonNullable<Observation['udp']> = { outcome: 'silent', attempts: u.syns.length };
  let syn;
  try {
    syn = u.syns[0] ? decodeRdpeudpSyn(u.syns[0].bytes) : undefined;
  } catch (e) {
    errors.push({ phase: 'udp', code: 'RDPROBE_REPLAY_MALFORMED', message: (e as Error).message });
  }
  if (u.synAcks.length) {
    udp.outcome = 'synack';
    udp.ms = r1((u.synAcks[0].time - t0) * 1000);
    try {
      const sa = decodeRdpeudpSyn(u.synAcks[0].bytes);
      if (syn) udp.version = negotiatedVersion(syn, sa);
      udp.serverMtu = { up: sa.upstreamMtu, down: sa.downstreamMtu };
      udp.serverSequence = sa.initialSequenceNumber;
    } catch (e) {
      errors.push({ phase: 'udp', code: 'RDPROBE_REPLAY_MALFORMED', message: (e as Error).message });
    }
  } else if (unreach) {
    udp.outcome = 'icmp-unreachable';
    udp.ms = r1((unreach.time - t0) * 1000);
    udp.detail = `ICMP type ${unreach.type} code ${unreach.code} from ${unreach.from} (frame ${unreach.frame})`;
  } else {
    udp.detail = `${u.syns.length} SYN datagram(s) over ${r1((u.last.time - t0) * 1000)} ms, no SYN+ACK in the capture`;
  }
  obs.udp = udp;
  obs.timeline.push({ phase: 'udp', at: 0, ms: udp.ms ?? obs.durationMs, outcome: udp.outcome });
  obs.replay = {
    client: { address: u.client.addr, port: u.client.port, decidedBy: 'syn' },
    udp: { syns: u.syns.map((x) => x.frame), synAcks: u.synAcks.map((x) => x.frame), toServer: u.toServer, toClient: u.toClient, ...(syn?.correlationId ? { correlationId: syn.correlationId } : {}) },
  };
  return obs;
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return s;
}

function hexOf(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');
}
