/**
 * Lazy, optional loader for rdprobe's native addon (native/rdprobe_net.c, built by native/build.mjs at install).
 * The addon is never required: when the .node file is missing, fails to load, or has another interface version,
 * `loadNative()` returns `{ addon: null, reason }` and callers fall back (ping -M do, or an explicit
 * "unprivileged" outcome). Nothing here throws.
 *
 * RDPROBE_NATIVE=0 disables the addon (to exercise the fallbacks); RDPROBE_NATIVE_PATH points at another build.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

export const NATIVE_ABI = 1;

export type ProbeKind = 'ping' | 'raw' | 'udp';

export interface NativeProbeRequest {
  kind: ProbeKind;
  family: 4 | 6;
  /** Exact IP packet size in bytes (IPv4 header 20, IPv6 40 included). */
  size: number;
  /** 16-bit sequence number used to match replies and quoted errors. */
  seq: number;
  /** Also accept answers carrying seqFrom..seq (earlier attempts at the same size); default seq. */
  seqFrom?: number;
  /** ICMP identifier for raw sockets (ping sockets get theirs from the kernel). */
  ident?: number;
  /** 32-bit tag put in the payload to match quoted UDP payloads. */
  tag?: number;
  /** Deadline of this probe, 1..10000 ms. */
  timeoutMs: number;
}

export interface NativeProbeResult {
  /** reply: echo reply / UDP answer; frag-needed: ICMP type 3 code 4 (or ICMPv6 packet too big); emsgsize: our own
   * stack refused (larger than the interface MTU); lost: nothing before the deadline; icmp-error: another ICMP error
   * (port/host unreachable, prohibited …); error: a system call failed. */
  result: 'reply' | 'frag-needed' | 'emsgsize' | 'lost' | 'icmp-error' | 'error';
  ms: number;
  size: number;
  /** Next-hop MTU (frag-needed) or local MTU (emsgsize). */
  mtu?: number;
  /** The router or host that sent the ICMP message. */
  from?: string;
  icmpType?: number;
  icmpCode?: number;
  errno?: number;
  code?: string;
  message?: string;
  syscall?: string;
  replyBytes?: number;
  /** Stale replies / errors from earlier probes that were skipped. */
  ignored?: number;
  /** The answer was to an earlier attempt (seqFrom..seq-1) and was already queued: nothing was sent, ms is 0. */
  late?: boolean;
}

export interface RouteInfo {
  localAddress?: string;
  interface?: string;
  interfaceMtu?: number;
  /** The kernel's MTU for this route (includes a cached PMTU learned from ICMP). */
  routeMtu?: number;
}

export interface NativeAddon {
  abi: number;
  platform: 'linux' | 'darwin' | 'other';
  /** DF probes with the error queue are available (Linux). */
  probes: boolean;
  constants: Record<string, number>;
  setsockopt(fd: number, level: number, name: number, value: number): void;
  getsockopt(fd: number, level: number, name: number): number;
  /** Structured options (TCP_INFO): the raw bytes the kernel returned, at most maxLen. */
  getsockoptBytes(fd: number, level: number, name: number, maxLen: number): Buffer;
  /** An unconnected TCP socket with TCP_MAXSEG = mss already set (to hand to net.Socket({ fd })). */
  tcpSocket(family: 4 | 6, mss: number): number;
  close(fd: number): void;
  routeInfo(family: 4 | 6, address: string, port?: number): RouteInfo;
  openProbe(kind: ProbeKind, family: 4 | 6, address: string, port?: number): { fd: number; ident: number };
  probe(fd: number, req: NativeProbeRequest): Promise<NativeProbeResult>;
  /** The batch connect engine is there (Linux, built from this source); older builds lack it and its functions. */
  reach?: boolean;
  reachOpen?: NativeReachBindings['reachOpen'];
  reachConnect?: NativeReachBindings['reachConnect'];
  reachCancel?: NativeReachBindings['reachCancel'];
  reachRef?: NativeReachBindings['reachRef'];
  reachClose?: NativeReachBindings['reachClose'];
}

/** Opaque handle of one batch connect engine (its background thread). */
export type ReachEngine = { readonly __reachEngine: unique symbol };

/**
 * The batch connect engine (Linux builds with `reach: true`). Results arrive on the JS thread in batches:
 * `errs[i]` is 0 when ids[i] connected (and was closed with RST), else a positive errno (ETIMEDOUT when its own
 * deadline passed); `ms[i]` is the connect time. A cancelled id is never reported.
 */
export interface NativeReachBindings {
  reachOpen(onResults: (ids: Int32Array, errs: Int32Array, ms: Float64Array) => void): ReachEngine;
  reachConnect(engine: ReachEngine, id: number, family: 4 | 6, address: string, port: number, timeoutMs: number): void;
  reachCancel(engine: ReachEngine, id: number): void;
  /** Whether connects in flight keep the event loop alive (off after reachOpen). */
  reachRef(engine: ReachEngine, keepAlive: boolean): void;
  /** Stop the thread; connects in flight are closed and never reported. Idempotent. */
  reachClose(engine: ReachEngine): void;
}

export type NativeLoad = { addon: NativeAddon; reason?: undefined; path: string } | { addon: null; reason: string; path?: string };

let cached: NativeLoad | undefined;

/** Where the built addon lives: native/build/Release/ next to src/ (tsx) or dist/ (compiled). */
export function nativeAddonPath(): string {
  if (process.env.RDPROBE_NATIVE_PATH) return process.env.RDPROBE_NATIVE_PATH;
  return fileURLToPath(new URL('../../native/build/Release/rdprobe_net.node', import.meta.url));
}

export function loadNative(): NativeLoad {
  if (cached) return cached;
  cached = tryLoad();
  return cached;
}

/** For tests: forget the cached result (e.g. after changing RDPROBE_NATIVE). */
export function resetNativeCache(): void {
  cached = undefined;
}

function tryLoad(): NativeLoad {
  if (process.env.RDPROBE_NATIVE === '0') return { addon: null, reason: 'disabled by RDPROBE_NATIVE=0' };
  if (process.platform === 'win32') return { addon: null, reason: 'the native addon does not support Windows' };
  const path = nativeAddonPath();
  if (!existsSync(path)) return { addon: null, reason: `native addon not built (${path} missing; run: node native/build.mjs)`, path };
  try {
    const addon = createRequire(import.meta.url)(path) as NativeAddon;
    if (addon?.abi !== NATIVE_ABI || typeof addon.probe !== 'function') {
      return { addon: null, reason: `native addon at ${path} has interface ${String(addon?.abi)}, expected ${NATIVE_ABI} (rebuild: node native/build.mjs)`, path };
    }
    return { addon, path };
  } catch (e) {
    return { addon: null, reason: `native addon failed to load: ${(e as Error).message.split('\n')[0]}`, path };
  }
}

/** errno number → name (EACCES …) via os.constants, for errors the addon could only number. */
export function errnoName(n: number | undefined): string | undefined {
  if (n === undefined) return undefined;
  for (const [name, v] of Object.entries(os.constants.errno)) if (v === n) return name;
  return undefined;
}
