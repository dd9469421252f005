/**
 * Replay: capture stream → packets → flows → one Observation per RDP connection attempt. Streaming and bounded:
 * records are decoded batch by batch as the file is read, flows are kept only while they are or may become RDP,
 * and an attempt is handed to `onAttempt` when its flow ends.
 *
 * Attempts: TCP flows whose client sent an X.224 Connection Request (any port, after an optional SOCKS prefix);
 * TCP SYNs that were refused or got no answer, when they went to 3389 or to a port on which this capture shows RDP;
 * MS-RDPEUDP SYN exchanges on UDP.
 */
import { isDecodeError } from '../codec/errors.js';
import { deriveSecurity } from '../observation/derive.js';
import type { Observation, ProtocolEnumeration, ProtocolName } from '../observation/types.js';
import { FlowTracker, type FlowStats, type TcpFlow, type UdpFlow } from './flows.js';
import { decodeFrame, Ipv4Reassembler, SUPPORTED_LINK_TYPES, type Packet } from './packet.js';
import type { CaptureDamage, CaptureStats, CaptureStream } from './stream.js';
import { tcpAttemptObservation, udpAttemptObservation } from './to-observation.js';

export const DEFAULT_RDP_PORT = 3389;
/** SYN-only flows remembered until the end of the capture (to decide whether their port is an RDP port). */
const MAX_SYN_ONLY = 10_000;
/** Attempts to one server held together for the enumeration: idle time (capture seconds) and count. */
const GROUP_IDLE_S = 120;
const GROUP_MAX = 16;

export interface ReplayOptions {
  /** Name for source.file. */
  file: string;
  /** Called with each attempt's Observation as soon as its flow ends (capture order of flow end). */
  onAttempt?: (obs: Observation) => void;
  /** Awaited after each batch of records (e.g. to wait for a slow stdout to drain: output stays bounded too). */
  afterBatch?: () => Promise<void> | void;
  /** Keep every Observation in the result (default true; false for constant memory with onAttempt). */
  collect?: boolean;
}

export interface ReplaySummary {
  file: string;
  capture: CaptureStats;
  damage?: CaptureDamage;
  /** Frames that could not be decoded (malformed), counted and skipped. */
  malformed: number;
  firstMalformed?: { frame: number; message: string };
  /** Frames on link types we do not decode, per interface. */
  unknownLinkTypes: { iface: string; linkType: number; frames: number }[];
  warnings: string[];
  flows: FlowStats;
  attempts: number;
  /** SYN-only flows to other ports that were not reported, and ones beyond the memory bound. */
  synOnlyIgnored: number;
  fragments: { completed: number; dropped: number };
}

export interface ReplayResult extends ReplaySummary {
  observations: Observation[];
}

export async function replayStream(cap: CaptureStream, opts: ReplayOptions): Promise<ReplayResult> {
  const observations: Observation[] = [];
  let count = 0;
  const emit = (o: Observation) => {
    count++;
    if (opts.collect !== false) observations.push(o);
    opts.onAttempt?.(o);
  };
  // Attempts to the same server are held briefly (capture time) so that single-protocol answers from several
  // connections — a client falling back from SSL to RDP, say — form one enumeration, as the live probe's one
  // connection per protocol does. Bounded: a group is flushed GROUP_IDLE_S after its last attempt, or when full.
  const groups = new Map<string, { last: number; items: Observation[] }>();
  const flushGroup = (key: string) => {
    const g = groups.get(key);
    if (!g) return;
    groups.delete(key);
    const merged: ProtocolEnumeration = {};
    const from: number[] = [];
    for (const o of g.items) {
      for (const [p, row] of Object.entries(o.protocols ?? {})) {
        if (merged[p as ProtocolName] === undefined) {
          merged[p as ProtocolName] = row;
          from.push(o.source.frames![0]);
        }
      }
    }
    for (const o of g.items) {
      if (Object.keys(merged).length > Object.keys(o.protocols ?? {}).length) {
        o.protocols = structuredClone(merged);
        o.security = deriveSecurity(o.protocols);
        if (o.replay) o.replay.protocolsFromAttempts = from;
      }
      emit(o);
    }
  };
  const hold = (o: Observation, end: number) => {
    const key = o.source.target;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { last: end, items: [] }));
    g.items.push(o);
    g.last = Math.max(g.last, end);
    if (g.items.length >= GROUP_MAX) flushGroup(key);
  };
  const rdpPorts = new Set<number>([DEFAULT_RDP_PORT]);
  const synOnly: TcpFlow[] = [];
  let synOnlyIgnored = 0;
  const ctx = { file: opts.file };
  const tracker = new FlowTracker({
    onTcpEnd(f: TcpFlow) {
      if (f.rdp === 'yes') {
        const server = f.client === 'b' ? f.a : f.b;
        rdpPorts.add(server.port);
        hold(tcpAttemptObservation(f, ctx), f.last.time);
        return;
      }
      // a SYN that was refused or never answered (no payload either way): decided at the end, by port
      if (f.client && f.dirs[f.client].syn && f.dirs.a.next === 0 && f.dirs.b.next === 0 && !(f.synAck && f.synAck.from !== f.client)) {
        if (synOnly.length < MAX_SYN_ONLY) synOnly.push(f);
        else synOnlyIgnored++;
      }
    },
    onUdpEnd(u: UdpFlow) {
      emit(udpAttemptObservation(u, ctx));
    },
  });
  const frags = new Ipv4Reassembler();
  const unknown = new Map<string, { linkType: number; frames: number }>();
  let malformed = 0;
  let firstMalformed: ReplaySummary['firstMalformed'];
  let now = 0;
  for await (const batch of cap.batches()) {
    if (batch.length) now = batch[batch.length - 1].time;
    if (groups.size) for (const [k, g] of groups) if (now - g.last > GROUP_IDLE_S) flushGroup(k);
    for (const rec of batch) {
      if (!SUPPORTED_LINK_TYPES.has(rec.linkType)) {
        const u = unknown.get(rec.iface);
        if (u) u.frames++;
        else unknown.set(rec.iface, { linkType: rec.linkType, frames: 1 });
        continue;
      }
      let p: Packet | null;
      try {
        p = decodeFrame(rec.frame, rec.time, rec.linkType, rec.data, frags);
      } catch (e) {
        if (!isDecodeError(e)) throw e;
        malformed++;
        firstMalformed ??= { frame: rec.frame, message: e.message };
        continue;
      }
      if (!p) continue;
      try {
        tracker.add(p);
      } catch (e) {
        if (!isDecodeError(e)) throw e;
        malformed++;
        firstMalformed ??= { frame: rec.frame, message: e.message };
      }
    }
    if (opts.afterBatch) await opts.afterBatch();
  }
  tracker.finish();
  for (const k of [...groups.keys()]) flushGroup(k);
  for (const f of synOnly) {
    const server = f.client === 'b' ? f.a : f.b;
    if (rdpPorts.has(server.port)) emit(tcpAttemptObservation(f, ctx));
    else synOnlyIgnored++;
  }
  observations.sort((x, y) => x.source.frames![0] - y.source.frames![0]);
  const warnings: string[] = [];
  const unknownLinkTypes = [...unknown].map(([iface, u]) => ({ iface, ...u }));
  for (const u of unknownLinkTypes) {
    warnings.push(`interface ${u.iface}: link type ${u.linkType} is not decoded; its ${u.frames} frame(s) were skipped`);
  }
  if (malformed) warnings.push(`${malformed} malformed frame(s) skipped (first: frame ${firstMalformed!.frame}: ${firstMalformed!.message})`);
  if (tracker.stats.evicted) warnings.push(`${tracker.stats.evicted} flow(s) ended early: more than the flow limit were open at once`);
  if (frags.dropped) warnings.push(`${frags.dropped} IPv4 datagram(s) could not be reassembled from their fragments`);
  if (cap.damage) warnings.push(`the capture is damaged: ${cap.damage.message}; everything before it was replayed`);
  return {
    file: opts.file,
    capture: cap.stats,
    ...(cap.damage ? { damage: cap.damage } : {}),
    malformed,
    ...(firstMalformed ? { firstMalformed } : {}),
    unknownLinkTypes,
    warnings,
    flows: tracker.stats,
    attempts: count,
    synOnlyIgnored,
    fragments: { completed: frags.completed, dropped: frags.dropped },
    observations,
  };
}
