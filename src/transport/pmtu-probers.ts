/**
 * DF-probe senders for the path-MTU search (transport/pmtu-search.ts):
 *   icmp    the native addon: ICMP echo on an unprivileged ping socket, else a raw socket (root / CAP_NET_RAW), with
 *           IP_PMTUDISC_PROBE and the error queue (next-hop MTU and reporting router from frag-needed)
 *   ping    iputils `ping -M do` (macOS `ping -D`), one process per probe, output parsed
 *   udp     the native addon: DF UDP datagrams to the RDP port; "passed" = ICMP port unreachable from the host (the
 *           port is closed) or any answer. Needs no privilege.
 * Sizes are whole IP packets (IPv4 header included: ping -s N sends N + 28).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadNative, type NativeAddon, type NativeProbeResult, type ProbeKind } from './native.js';
import type { ProbeOutcome } from './pmtu-search.js';

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
export class PingCommandProber implements Prober {
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

export function openNativeIcmp(family: 4 | 6, address: string, reasons: string[]): Prober | undefined {
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

export function openNativeUdp(family: 4 | 6, address: string, port: number, reasons: string[]): Prober | undefined {
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
