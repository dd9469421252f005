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
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import type { PmtuObservation, PmtuProbeResult } from '../observation/types.js';
import { loadNative, type NativeAddon, type NativeProbeResult, type ProbeKind } from './native.js';

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

export type PmtuProbe = PmtuObservation['probes'][number];

/** What one probe of one size found out. */
export interface ProbeOutcome {
  result: PmtuProbeResult;
  /** next-hop MTU (frag-needed) or local MTU (emsgsize) */
  mtu?: number;
  /** who sent the ICMP message */
  from?: string;
  ms: number;
  /** for 'error': what happened (ICMP type/code, errno) */
  detail?: string;
  /** for 'error': the destination answered that it is unreachable; nothing bigger or smaller will pass either */
  fatal?: boolean;
}

/** A way of sending DF probes of exact sizes to one destination. */
export interface Prober {
  method: string;
  /** When a passing probe is proven by an ICMP error from the target (UDP: port unreachable), the target's ICMP
   * rate limit (a token bucket: Linux allows a burst of 6, then one per icmp_ratelimit = 1 s) must not turn passes
   * into losses: the search paces probes to stay inside it. */
  icmpRateLimit?: { burst: number; intervalMs: number };
  send(size: number, timeoutMs: number): Promise<ProbeOutcome>;
  close(): void;
}

export class ProberUnavailable extends Error {
  constructor(
    message: string,
    readonly kind: 'unprivileged' | 'missing' | 'unsupported',
  ) {
    super(message);
    this.name = 'ProberUnavailable';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The search (pure apart from the injected send and the clock; unit-tested with fake paths)

export interface SearchParams {
  family: 4 | 6;
  /** Largest size to try. */
  top: number;
  base: number;
  attempts: number;
  maxProbes: number;
  timeoutMs: number;
  minTimeoutMs: number;
  precision: number;
  deadlineAt: number;
  icmpRateLimit?: { burst: number; intervalMs: number };
  signal?: AbortSignal;
  onProbe?: (p: PmtuProbe) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface SearchResult {
  outcome: 'measured' | 'black-hole' | 'unreachable' | 'error';
  pathMtu?: number;
  bounds?: { passes: number; lost: number };
  reportingRouter?: string;
  probes: PmtuProbe[];
  /** Why the search stopped early, ICMP errors seen … */
  notes: string[];
  /** The largest size tried passed (nothing on the path is smaller than `top`). */
  topPassed: boolean;
  /** How the smallest failing size failed. */
  failedBy?: 'lost' | 'frag-needed' | 'emsgsize' | 'error';
}

class Budget extends Error {}

/** Smaller sizes to fall back to when BASE_PLPMTU gets no answer: RFC 791's 576, then a plain ping (84). */
function floors(family: 4 | 6): number[] {
  return family === 4 ? [576, 84] : []; // IPv6 links carry at least 1280 (RFC 8200 §5)
}

export async function searchPmtu(send: (size: number, timeoutMs: number) => Promise<ProbeOutcome>, p: SearchParams): Promise<SearchResult> {
  const now = p.now ?? (() => performance.now());
  const sleep = p.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const probes: PmtuProbe[] = [];
  const notes: string[] = [];
  let maxRtt = 0;
  let lo: number | undefined;
  let hi: number | undefined;
  let failedBy: SearchResult['failedBy'];
  let router: string | undefined;
  let fatal: ProbeOutcome | undefined;

  // Probe timer: the full timeoutMs until an answer gave an RTT, then 4 × the largest RTT + 50 ms (at least
  // minTimeoutMs). A late answer to an earlier attempt at the same size still counts (the probers match it), so
  // retries need no back-off.
  let rttKnown = false;
  const timer = () => Math.min(p.timeoutMs, rttKnown ? Math.max(p.minTimeoutMs, Math.ceil(4 * maxRtt + 50)) : p.timeoutMs);
  // Token bucket mirroring the target's ICMP error rate limit (only for probers that need it).
  const rl = p.icmpRateLimit;
  let tokens = rl?.burst ?? 0;
  let tokensAt = now();
  const pace = async () => {
    if (!rl) return;
    tokens = Math.min(rl.burst, tokens + (now() - tokensAt) / rl.intervalMs);
    tokensAt = now();
    if (tokens >= 1) return;
    const wait = Math.min((1 - tokens) * rl.intervalMs, p.deadlineAt - now());
    if (wait > 0) await sleep(wait);
    tokens = Math.min(rl.burst, tokens + wait / rl.intervalMs);
    tokensAt = now();
  };

  /** One size, retried while lost (up to `attempts`, or `maxAttempts` when given). */
  const probe = async (size: number, maxAttempts = p.attempts): Promise<ProbeOutcome> => {
    let last: ProbeOutcome | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (p.signal?.aborted) throw new Budget('aborted');
      if (probes.length >= p.maxProbes) throw new Budget(`probe budget of ${p.maxProbes} used up`);
      if (now() >= p.deadlineAt) throw new Budget('deadline reached');
      await pace();
      const r = await send(size, timer());
      const entry: PmtuProbe = { size, result: r.result, ms: Math.round(r.ms * 100) / 100 };
      if (r.mtu !== undefined) entry.mtu = r.mtu;
      if (r.from !== undefined) entry.from = r.from;
      probes.push(entry);
      p.onProbe?.(entry);
      if (r.result === 'ok') {
        maxRtt = Math.max(maxRtt, r.ms);
        rttKnown = true;
        if (rl) tokens -= 1;
      }
      if (r.result !== 'lost') return r;
      last = r;
    }
    return last!;
  };

  /** Record a failure of `size`; returns a size hint worth trying next (ICMP next-hop MTU), if any. */
  const failed = (size: number, r: ProbeOutcome): number | undefined => {
    if (hi === undefined || size <= hi) {
      hi = size;
      failedBy = r.result === 'ok' ? undefined : (r.result as SearchResult['failedBy']);
    }
    if (r.result === 'frag-needed' && r.from) router = r.from;
    if (r.result === 'error') {
      if (r.detail && !notes.includes(r.detail)) notes.push(r.detail);
      if (r.fatal) fatal = r;
    }
    if ((r.result === 'frag-needed' || r.result === 'emsgsize') && r.mtu !== undefined && r.mtu > 0 && r.mtu < size) return r.mtu;
    return undefined;
  };

  /** Follow next-hop-MTU hints: a hinted size that passes is exact (the hop said sizes above it do not fit). */
  const followHints = async (hint: number | undefined): Promise<void> => {
    for (let chain = 0; hint !== undefined && chain < 8; chain++) {
      if (lo !== undefined && hint <= lo) return;
      const r = await probe(hint);
      if (r.result === 'ok') {
        lo = hint;
        if (hi !== undefined && hi > hint + 1 && (failedBy === 'frag-needed' || failedBy === 'emsgsize')) hi = hint + 1;
        return;
      }
      hint = failed(hint, r);
      if (fatal) return;
    }
  };

  let stopped: string | undefined;
  try {
    // 1. Something that passes: BASE_PLPMTU (also measures the RTT), then smaller sizes.
    const starts = [Math.min(p.base, p.top), ...floors(p.family).filter((s) => s < Math.min(p.base, p.top))];
    for (const [i, s] of starts.entries()) {
      if (hi !== undefined && s >= hi) continue;
      // the smaller fallbacks only tell "black hole below BASE" from "nothing answers": two tries each do
      const r = await probe(s, i === 0 ? p.attempts : Math.min(2, p.attempts));
      if (r.result === 'ok') {
        lo = s;
        break;
      }
      await followHints(failed(s, r));
      if (fatal || lo !== undefined) break;
    }
    if (fatal) return finish('unreachable');
    if (lo === undefined) {
      notes.push(`no DF probe was answered at any size down to ${starts[starts.length - 1]} bytes`);
      return finish('unreachable');
    }
    // 2. The largest candidate, then ICMP hints.
    if (lo < p.top && (hi === undefined || p.top < hi)) {
      const r = await probe(p.top);
      if (r.result === 'ok') lo = p.top;
      else await followHints(failed(p.top, r));
    }
    // 3. Binary search between what passed and what did not.
    while (!fatal && hi !== undefined && lo !== undefined && hi - lo > (failedBy === 'lost' ? p.precision : 1)) {
      const mid = Math.floor((lo + hi) / 2);
      const r = await probe(mid);
      if (r.result === 'ok') lo = mid;
      else await followHints(failed(mid, r));
    }
  } catch (e) {
    if (!(e instanceof Budget)) throw e;
    stopped = e.message;
    notes.push(`search stopped early: ${e.message}`);
  }
  if (lo === undefined) return finish(stopped || !fatal ? 'error' : 'unreachable');
  if (fatal) {
    notes.push(`the search was interrupted by ${fatal.detail ?? 'an ICMP error'}`);
    return finish('error');
  }
  return finish(hi !== undefined && failedBy === 'lost' ? 'black-hole' : 'measured');

  function finish(outcome: SearchResult['outcome']): SearchResult {
    const res: SearchResult = { outcome, probes, notes, topPassed: lo === p.top && hi === undefined, failedBy };
    if (lo !== undefined && (outcome === 'measured' || outcome === 'black-hole')) res.pathMtu = lo;
    if (outcome === 'black-hole' && lo !== undefined && hi !== undefined) res.bounds = { passes: lo, lost: hi };
    if (router) res.reportingRouter = router;
    if (fatal?.detail && outcome === 'unreachable' && !res.notes.includes(fatal.detail)) res.notes.push(fatal.detail);
    return res;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Probers

const ICMP_UNREACH_NAMES: Record<number, string> = {
  0: 'net unreachable',
  1: 'host unreachable',
  2: 'protocol unreachable',
  3: 'port unreachable',
  9: 'net administratively prohibited',
  10: 'host administratively prohibited',
  13: 'communication administratively prohibited',
};
const ICMP6_UNREACH_NAMES: Record<number, string> = {
  0: 'no route',
  1: 'administratively prohibited',
  3: 'address unreachable',
  4: 'port unreachable',
};

function icmpText(family: 4 | 6, type?: number, code?: number): string {
  if (type === undefined) return 'ICMP error';
  if (family === 4 && type === 3) return `ICMP ${ICMP_UNREACH_NAMES[code ?? -1] ?? `destination unreachable code ${code}`}`;
  if (family === 4 && type === 11) return 'ICMP time exceeded';
  if (family === 6 && type === 1) return `ICMPv6 ${ICMP6_UNREACH_NAMES[code ?? -1] ?? `destination unreachable code ${code}`}`;
  if (family === 6 && type === 3) return 'ICMPv6 time exceeded';
  return `ICMP${family === 6 ? 'v6' : ''} type ${type} code ${code}`;
}

function isPortUnreachable(family: 4 | 6, r: NativeProbeResult): boolean {
  return family === 4 ? r.icmpType === 3 && r.icmpCode === 3 : r.icmpType === 1 && r.icmpCode === 4;
}

let seqCounter = Math.floor(Math.random() * 0x10000);
const nextSeq = () => (seqCounter = (seqCounter + 1) & 0xffff);

class NativeProber implements Prober {
  readonly icmpRateLimit?: { burst: number; intervalMs: number };
  private closed = false;
  private last?: { size: number; seqFrom: number; lost: boolean };
  private constructor(
    private readonly addon: NativeAddon,
    private readonly kind: ProbeKind,
    private readonly family: 4 | 6,
    private readonly address: string,
    private readonly fd: number,
    private readonly ident: number,
    readonly method: string,
  ) {
    // ICMP errors (port unreachable) are rate-limited per destination by most stacks (Linux: a burst of 6, then
    // one per icmp_ratelimit = 1 s); stay a little inside that. Echo replies are not rate-limited.
    if (kind === 'udp') this.icmpRateLimit = { burst: 4, intervalMs: 1000 };
  }

  static open(addon: NativeAddon, kind: ProbeKind, family: 4 | 6, address: string, port: number): NativeProber {
    const { fd, ident } = addon.openProbe(kind, family, address, kind === 'udp' ? port : 0);
    const method = kind === 'udp' ? `udp-df:${port}` : kind === 'ping' ? 'icmp-echo (ping socket)' : 'icmp-echo (raw socket)';
    return new NativeProber(addon, kind, family, address, fd, kind === 'raw' ? (process.pid ^ 0x5250) & 0xffff : ident, method);
  }

  async send(size: number, timeoutMs: number): Promise<ProbeOutcome> {
    if (this.closed) throw new Error('prober closed');
    const seq = nextSeq();
    // A retry of a size that was just lost also accepts a late answer to the earlier attempts.
    const seqFrom = this.last && this.last.size === size && this.last.lost ? this.last.seqFrom : seq;
    const r = await this.addon.probe(this.fd, {
      kind: this.kind,
      family: this.family,
      size,
      seq,
      seqFrom,
      ident: this.ident,
      timeoutMs: Math.max(1, Math.min(10_000, Math.round(timeoutMs))),
    });
    this.last = { size, seqFrom, lost: r.result === 'lost' };
    switch (r.result) {
      case 'reply':
        return { result: 'ok', ms: r.ms };
      case 'frag-needed':
        return { result: 'frag-needed', mtu: r.mtu, from: r.from, ms: r.ms };
      case 'emsgsize':
        return { result: 'emsgsize', mtu: r.mtu, ms: r.ms };
      case 'lost':
        return { result: 'lost', ms: r.ms };
      case 'icmp-error': {
        // UDP to a closed port: the port-unreachable from the destination itself proves the datagram arrived.
        if (this.kind === 'udp' && isPortUnreachable(this.family, r) && r.from === this.address) return { result: 'ok', ms: r.ms, from: r.from };
        const what = `${icmpText(this.family, r.icmpType, r.icmpCode)}${r.from ? ` from ${r.from}` : ''}`;
        return { result: 'error', ms: r.ms, from: r.from, detail: what, fatal: true };
      }
      default:
        return { result: 'error', ms: r.ms, detail: `${r.syscall ?? 'probe'}: ${r.code ?? ''} ${r.message ?? ''}`.trim() };
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.addon.close(this.fd);
    } catch {
      /* already closed */
    }
  }
}

/** One `ping` process per probe: iputils `ping -M do` on Linux, `ping -D` on macOS. */
class PingCommandProber implements Prober {
  readonly method: string;
  private fractionalW = true;
  constructor(
    private readonly family: 4 | 6,
    private readonly address: string,
  ) {
    this.method = process.platform === 'darwin' ? 'ping -D' : 'ping -M do';
    if (process.platform === 'darwin' && family === 6) throw new ProberUnavailable('macOS ping6 cannot set DF', 'unsupported');
    if (process.platform === 'win32') throw new ProberUnavailable('ping fallback not implemented on Windows', 'unsupported');
  }

  private args(size: number, timeoutMs: number): string[] {
    const payload = size - (this.family === 4 ? 28 : 48);
    if (process.platform === 'darwin') return ['-n', '-D', '-c', '1', '-s', String(payload), '-W', String(Math.max(1, Math.round(timeoutMs))), this.address];
    const w = this.fractionalW ? (Math.max(1, timeoutMs) / 1000).toFixed(3) : String(Math.max(1, Math.ceil(timeoutMs / 1000)));
    return [this.family === 6 ? '-6' : '-4', '-n', '-c', '1', '-W', w, '-M', 'do', '-s', String(payload), this.address];
  }

  async send(size: number, timeoutMs: number): Promise<ProbeOutcome> {
    const started = performance.now();
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string; err?: NodeJS.ErrnoException }>((resolve) => {
        execFile('ping', args, { timeout: timeoutMs + 2000, killSignal: 'SIGKILL', maxBuffer: 64 * 1024, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
          const e = err as (NodeJS.ErrnoException & { code?: string | number }) | null;
          const code = e ? (typeof e.code === 'number' ? e.code : null) : 0;
          resolve({ code, out: `${stdout}\n${stderr}`, err: e && typeof e.code === 'string' ? e : undefined });
        });
      });
    let r = await run(this.args(size, timeoutMs));
    if (this.fractionalW && /invalid .*-W|bad linger|bad timeout|invalid argument.*W/i.test(r.out)) {
      this.fractionalW = false;
      r = await run(this.args(size, timeoutMs));
    }
    const ms = performance.now() - started;
    if (r.err?.code === 'ENOENT') throw new ProberUnavailable('ping not installed (Debian: apt-get install iputils-ping)', 'missing');
    const out = r.out;
    if (/operation not permitted|permission denied|missing cap_net_raw|must be root/i.test(out) && !/bytes from/i.test(out)) {
      throw new ProberUnavailable(`ping cannot open an ICMP socket: ${out.trim().split('\n').filter(Boolean).slice(-1)[0]}`, 'unprivileged');
    }
    const rtt = /time[=<]([\d.]+) ?ms/.exec(out);
    if (/\bbytes from\b/i.test(out)) return { result: 'ok', ms: rtt ? Number(rtt[1]) : ms };
    const from = /From ([0-9a-fA-F:.%a-z]+)/.exec(out)?.[1];
    const frag = /frag(?:mentation)? needed[^\n]*?\(?mtu\s*=?\s*(\d+)/i.exec(out) ?? /packet too big:?\s*mtu\s*=?\s*(\d+)/i.exec(out);
    if (frag) return { result: 'frag-needed', mtu: Number(frag[1]), from, ms };
    const local = /local error: message too long, mtu=(\d+)/i.exec(out);
    if (local) return { result: 'emsgsize', mtu: Number(local[1]), ms };
    if (/message too long/i.test(out)) return { result: 'emsgsize', ms };
    const unreach = /(Destination (?:Host|Net|Port|Protocol) Unreachable|Packet filtered|Communication prohibited[^\n]*|Destination unreachable[^\n]*)/i.exec(out);
    if (unreach) return { result: 'error', ms, from, detail: `${unreach[1]}${from ? ` from ${from}` : ''}`, fatal: true };
    if (r.code === 2 && !/0 received/.test(out)) return { result: 'error', ms, detail: `ping: ${out.trim().split('\n').filter(Boolean).slice(-1)[0] ?? 'exit 2'}` };
    return { result: 'lost', ms };
  }

  close(): void {}
}

// ---------------------------------------------------------------------------------------------------------------
// Local interface facts

export interface LocalRoute {
  localAddress?: string;
  interface?: string;
  /** MTU of the outgoing interface. */
  interfaceMtu?: number;
  /** The kernel's MTU for this destination (a cached PMTU when lower than the interface MTU). */
  routeMtu?: number;
  /** Why no route was found (ENETUNREACH …). */
  error?: string;
}

/** Which interface a packet to `address` leaves by, and its MTU. Nothing is sent. */
export async function localRoute(address: string, port = 9): Promise<LocalRoute> {
  const family = net.isIP(address) as 4 | 6;
  const native = loadNative();
  if (native.addon) {
    try {
      return native.addon.routeInfo(family, address, port);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code && /^E(NET|HOST)(UNREACH|DOWN)$|^EADDRNOTAVAIL$/.test(code)) return { error: code };
      /* otherwise fall through to the portable way */
    }
  }
  const sock = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
  try {
    let error: string | undefined;
    const local = await new Promise<string | undefined>((resolve) => {
      const fail = (e?: NodeJS.ErrnoException) => {
        error = e?.code ?? 'error';
        resolve(undefined);
      };
      sock.once('error', fail);
      sock.connect(port, address, ((err?: NodeJS.ErrnoException) => (err ? fail(err) : resolve(sock.address().address))) as () => void);
    });
    if (!local) return { error };
    const out: LocalRoute = { localAddress: local };
    for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
      if (addrs?.some((a) => a.address === local)) {
        out.interface = name;
        try {
          out.interfaceMtu = Number(readFileSync(`/sys/class/net/${name}/mtu`, 'utf8').trim()) || undefined;
        } catch {
          /* not Linux */
        }
        break;
      }
    }
    return out;
  } finally {
    sock.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// measurePmtu

const MAX_IP: Record<4 | 6, number> = { 4: 65535, 6: 65575 };
const HEADERS: Record<4 | 6, number> = { 4: 40, 6: 60 }; // IP + TCP, for the MSS

function openNativeIcmp(family: 4 | 6, address: string, reasons: string[]): Prober | undefined {
  const native = loadNative();
  if (!native.addon) {
    reasons.push(native.reason);
    return undefined;
  }
  if (!native.addon.probes) {
    reasons.push(`native DF probes are unsupported on ${process.platform}`);
    return undefined;
  }
  try {
    return NativeProber.open(native.addon, 'ping', family, address, 0);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    let why = `ICMP ping socket: ${err.code ?? err.message}`;
    if (err.code === 'EACCES' && family === 4) {
      try {
        const range = readFileSync('/proc/sys/net/ipv4/ping_group_range', 'utf8').trim().replace(/\s+/g, ' ');
        why += ` (gid ${process.getgid?.() ?? '?'} outside net.ipv4.ping_group_range '${range}')`;
      } catch {
        /* not Linux */
      }
    }
    reasons.push(why);
  }
  try {
    return NativeProber.open(native.addon, 'raw', family, address, 0);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    reasons.push(`raw ICMP socket: ${err.code ?? err.message}${err.code === 'EPERM' ? ' (needs root or CAP_NET_RAW)' : ''}`);
    return undefined;
  }
}

function openNativeUdp(family: 4 | 6, address: string, port: number, reasons: string[]): Prober | undefined {
  const native = loadNative();
  if (!native.addon) {
    reasons.push(`UDP DF probes: ${native.reason}`);
    return undefined;
  }
  if (!native.addon.probes) {
    reasons.push(`UDP DF probes unsupported on ${process.platform}`);
    return undefined;
  }
  try {
    return NativeProber.open(native.addon, 'udp', family, address, port);
  } catch (e) {
    reasons.push(`UDP DF probes: ${(e as Error).message}`);
    return undefined;
  }
}

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
