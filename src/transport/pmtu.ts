/**
 * Path-MTU measurement with DF-flagged probes, in the spirit of RFC 8899 (DPLPMTUD): confirm a base size first
 * (BASE_PLPMTU; it also gives the RTT that sizes the probe timer), try the largest candidate, follow ICMP
 * "fragmentation needed" hints (RFC 1191 next-hop MTU) when routers send them, and otherwise binary-search between
 * the largest size that passed and the smallest that did not. Every probe has a deadline, a lost size is retried
 * (MAX_PROBES attempts) before it counts as lost, and the whole search is bounded in probe count and time.
 *
 * Methods, in the order `auto` tries them:
 *   icmp    the native addon: ICMP echo on an unprivileged ping socket, else a raw socket (root / CAP_NET_RAW), with
 *           IP_PMTUDISC_PROBE and the error queue (next-hop MTU and reporting router from frag-needed)
 *   ping    iputils `ping -M do` (macOS `ping -D`), one process per probe, output parsed
 *   udp     the native addon: DF UDP datagrams to the RDP port; "passed" = ICMP port unreachable from the host (the
 *           port is closed) or any answer. Needs no privilege; used when ICMP echo is filtered (Windows drops echo
 *           by default) or cannot be sent. Cannot tell anything when the port is open and silent.
 * When nothing can send a DF probe the outcome is `unprivileged`, with what to run instead — never a silent skip.
 *
 * Semantics of the figures: sizes are whole IP packets (IPv4 header included: ping -s N sends N + 28). ICMP echo
 * measures min(forward, return) path MTU (the reply is as large as the request); UDP measures the forward path.
 */
import net from 'node:net';
import type { PmtuObservation } from '../observation/types.js';
import { openNativeIcmp, openNativeUdp, PingCommandProber, ProberUnavailable, type Prober } from './pmtu-probers.js';
import { searchPmtu, type PmtuProbe, type SearchResult } from './pmtu-search.js';
import { localRoute } from './route.js';

// Moved by responsibility; re-exported so importers of transport/pmtu.ts keep working.
export { searchPmtu, type PmtuProbe, type ProbeOutcome, type SearchParams, type SearchResult } from './pmtu-search.js';
export { ProberUnavailable, type Prober } from './pmtu-probers.js';
export { localRoute, type LocalRoute } from './route.js';

export type PmtuMethod = 'auto' | 'icmp' | 'udp' | 'ping';

export interface PmtuOptions {
  method?: PmtuMethod;
  /** Port for UDP probes (default 3389). */
  port?: number;
  /** Largest packet to try (default: the local interface MTU). */
  max?: number;
  /** BASE_PLPMTU: a size expected to pass (default 1200 for IPv4, 1280 for IPv6). */
  base?: number;
  /** Upper bound of one probe's wait (default 1000 ms); the actual timer adapts to the RTT seen. */
  timeoutMs?: number;
  /** Lower bound of the adaptive probe timer (default 100 ms). */
  minTimeoutMs?: number;
  /** Attempts per size before it counts as lost (RFC 8899 MAX_PROBES, default 3). */
  attempts?: number;
  /** Probe budget for the whole search (default 48). */
  maxProbes?: number;
  /** Deadline for the whole measurement (default 30 s). */
  deadlineMs?: number;
  /** Stop a loss-driven search when lost − passed ≤ precision (default 1: exact). */
  precision?: number;
  /** May `auto` fall back to UDP probes to `port` (default true). */
  allowUdp?: boolean;
  signal?: AbortSignal;
  /** Called after every probe (progress output). */
  onProbe?: (probe: PmtuProbe, method: string) => void;
}

// ---------------------------------------------------------------------------------------------------------------
// measurePmtu

const MAX_IP: Record<4 | 6, number> = { 4: 65535, 6: 65575 };
const HEADERS: Record<4 | 6, number> = { 4: 40, 6: 60 }; // IP + TCP, for the MSS

function unprivilegedAdvice(address: string, family: 4 | 6): string {
  const payload = 1500 - (family === 4 ? 28 : 48);
  return (
    `run as root (or give node CAP_NET_RAW), or allow unprivileged ICMP sockets: sudo sysctl -w net.ipv4.ping_group_range='0 2147483647'; ` +
    `by hand: ping -M do -s ${payload} -c 1 ${address} (lower -s until it answers: path MTU = s + ${family === 4 ? 28 : 48}), or tracepath -n ${address}`
  );
}

/**
 * Measure the path MTU towards `address` (an IP literal). Never throws for network conditions: the outcome says
 * what happened (measured, black-hole, unreachable, unprivileged, error). Throws RangeError for bad arguments.
 */
export async function measurePmtu(address: string, opts: PmtuOptions = {}): Promise<PmtuObservation> {
  const family = net.isIP(address) as 0 | 4 | 6;
  if (family === 0) throw new RangeError(`measurePmtu: '${address}' is not an IP address`);
  const method = opts.method ?? 'auto';
  const port = opts.port ?? 3389;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`port ${port} outside 1..65535`);
  const minSize = family === 4 ? 68 : 1280;
  if (opts.max !== undefined && (!Number.isInteger(opts.max) || opts.max < minSize || opts.max > MAX_IP[family])) {
    throw new RangeError(`max ${opts.max} outside ${minSize}..${MAX_IP[family]}`);
  }
  const started = performance.now();
  const deadlineAt = started + (opts.deadlineMs ?? 30_000);

  const route = await localRoute(address, port);
  if (route.error && /UNREACH|DOWN|EADDRNOTAVAIL/.test(route.error)) {
    return { outcome: 'unreachable', probes: [], detail: `no route to ${address} (${route.error})` };
  }
  const localMtu = route.interfaceMtu;
  const notes: string[] = [];
  if (route.routeMtu && localMtu && route.routeMtu < Math.min(localMtu, MAX_IP[family])) {
    notes.push(`the kernel has a PMTU of ${route.routeMtu} cached for this destination (ip route get ${address}; flush: ip route flush cache)`);
  }
  const limit = Math.min(localMtu ?? 1500, MAX_IP[family]);
  const top = Math.min(opts.max ?? limit, limit);
  if (opts.max !== undefined && localMtu !== undefined && opts.max > localMtu) notes.push(`--max ${opts.max} is above the interface MTU ${localMtu}`);
  const base = Math.min(opts.base ?? (family === 4 ? 1200 : 1280), top);

  const obsBase = (): PmtuObservation => {
    const o: PmtuObservation = { outcome: 'skipped', probes: [] };
    if (localMtu !== undefined) o.localMtu = localMtu;
    if (route.interface) o.interface = route.interface;
    return o;
  };

  const run = async (prober: Prober): Promise<{ obs: PmtuObservation; res: SearchResult }> => {
    try {
      const res = await searchPmtu((size, t) => prober.send(size, t), {
        family,
        top,
        base,
        attempts: opts.attempts ?? 3,
        maxProbes: opts.maxProbes ?? 48,
        timeoutMs: opts.timeoutMs ?? 1000,
        minTimeoutMs: opts.minTimeoutMs ?? 100,
        precision: opts.precision ?? 1,
        deadlineAt,
        icmpRateLimit: prober.icmpRateLimit,
        signal: opts.signal,
        onProbe: opts.onProbe ? (p) => opts.onProbe!(p, prober.method) : undefined,
      });
      return { obs: toObservation(res, prober.method), res };
    } finally {
      prober.close();
    }
  };

  const toObservation = (res: SearchResult, m: string): PmtuObservation => {
    const o = obsBase();
    o.outcome = res.outcome;
    o.method = m;
    o.probes = res.probes;
    if (res.reportingRouter) o.reportingRouter = res.reportingRouter;
    let pathMtu = res.pathMtu;
    const extra: string[] = [...notes, ...res.notes];
    let capped = false;
    if (pathMtu !== undefined && res.topPassed) {
      if (localMtu !== undefined && pathMtu < localMtu && top === MAX_IP[family]) {
        extra.push(`${pathMtu} is the largest IPv${family} packet; the path MTU is the interface MTU`);
        pathMtu = localMtu;
      } else if (opts.max !== undefined && localMtu !== undefined && opts.max < localMtu) {
        extra.push(`at least ${pathMtu}: capped by --max (interface MTU ${localMtu})`);
        capped = true;
      }
    }
    if (pathMtu !== undefined) o.pathMtu = pathMtu;
    if (pathMtu !== undefined && !capped) {
      o.recommendedMtu = Math.min(pathMtu, localMtu ?? pathMtu);
      o.recommendedMss = o.recommendedMtu - HEADERS[family];
    }
    if (res.bounds) o.bounds = res.bounds;
    if (res.outcome === 'black-hole' && res.bounds) {
      extra.unshift(
        `DF packets of ${res.bounds.lost} bytes and more vanish without an ICMP frag-needed; ${res.bounds.passes} passes` +
          (res.bounds.lost - res.bounds.passes > 1 ? ` (path MTU between ${res.bounds.passes} and ${res.bounds.lost - 1})` : ''),
      );
    } else if (res.outcome === 'measured' && res.failedBy === 'frag-needed') {
      extra.unshift(`ICMP frag-needed${res.reportingRouter ? ` from ${res.reportingRouter}` : ''} reports next-hop MTU ${res.pathMtu}`);
    }
    if (extra.length) o.detail = extra.join('; ');
    return o;
  };

  const unprivileged = (reasons: string[]): PmtuObservation => {
    const o = obsBase();
    o.outcome = 'unprivileged';
    o.method = 'none';
    o.detail = `no way to send DF probes (${reasons.join('; ')}); ${unprivilegedAdvice(address, family)}`;
    return o;
  };

  const reasons: string[] = [];
  if (method === 'icmp') {
    const p = openNativeIcmp(family, address, reasons);
    return p ? (await run(p)).obs : unprivileged(reasons);
  }
  if (method === 'udp') {
    const p = openNativeUdp(family, address, port, reasons);
    return p ? (await run(p)).obs : unprivileged(reasons);
  }
  if (method === 'ping') {
    try {
      return (await run(new PingCommandProber(family, address))).obs;
    } catch (e) {
      if (e instanceof ProberUnavailable) return unprivileged([e.message]);
      throw e;
    }
  }

  // auto: native ICMP → ping command → native UDP → unprivileged
  let icmpUnreachable: PmtuObservation | undefined;
  const icmp = openNativeIcmp(family, address, reasons);
  if (icmp) {
    const { obs } = await run(icmp);
    if (obs.outcome !== 'unreachable') return obs;
    icmpUnreachable = obs;
  } else {
    try {
      const { obs } = await run(new PingCommandProber(family, address));
      if (obs.outcome !== 'unreachable') {
        obs.detail = [`fallback after: ${reasons.join('; ')}`, obs.detail].filter(Boolean).join('; ');
        return obs;
      }
      icmpUnreachable = obs;
    } catch (e) {
      if (!(e instanceof ProberUnavailable)) throw e;
      reasons.push(e.message);
    }
  }
  if (opts.allowUdp !== false && performance.now() < deadlineAt) {
    const udp = openNativeUdp(family, address, port, reasons);
    if (udp) {
      const { obs } = await run(udp);
      const why = icmpUnreachable ? 'ICMP echo got no answer' : `ICMP echo unavailable (${reasons.join('; ')})`;
      if (obs.outcome === 'measured' || obs.outcome === 'black-hole') {
        obs.detail = [`${why}; measured with UDP to port ${port}`, obs.detail].filter(Boolean).join('; ');
        obs.probes = [...(icmpUnreachable?.probes ?? []), ...obs.probes];
        return obs;
      }
      const udpWhy = `UDP to port ${port}: ${obs.detail ?? obs.outcome}${obs.outcome === 'unreachable' ? ' (an open or filtered UDP port answers nothing, so UDP probes cannot measure)' : ''}`;
      if (icmpUnreachable) {
        icmpUnreachable.detail = [icmpUnreachable.detail, udpWhy].filter(Boolean).join('; ');
        icmpUnreachable.probes = [...icmpUnreachable.probes, ...obs.probes];
        return icmpUnreachable;
      }
      reasons.push(udpWhy);
    }
  }
  return icmpUnreachable ?? unprivileged(reasons);
}
