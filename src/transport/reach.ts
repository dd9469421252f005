/**
 * The fast TCP connector for reach scans: many connects in flight, each one only a connect() and a close.
 *
 * Two engines behind one typed interface:
 *   - 'native': the batch connect engine of rdprobe's own addon (native/rdprobe_net.c, reachOpen …): non-blocking
 *     connect() on a background thread with epoll, per-connection deadlines in one heap, RST close on success
 *     (SO_LINGER {1,0}, as nmap -sT does: no TIME_WAIT), results handed to this thread in batches. The connects
 *     (on loopback the whole handshake runs inside the system call) leave the JS thread free for records,
 *     diagnosis and output.
 *   - 'net': transport/tcp.ts connectTcp (one net.Socket per connect) when the addon is not built, is an older
 *     build, is disabled (RDPROBE_NATIVE=0), or for addresses the engine does not take (IPv6 scope ids).
 * Both classify errno → outcome with classifyConnectError and word messages like connectTcp does, so a record
 * built from either is the same. EMFILE/ENFILE come back as errno (the scan's descriptor governor backs off on
 * them); an abort is outcome 'aborted' with errno 'ABORTED', apart from a deadline ('filtered', 'ETIMEDOUT').
 */
import net from 'node:net';
import os from 'node:os';
import type { TcpOutcome } from '../observation/types.js';
import { loadNative, type NativeReachBindings, type ReachEngine } from './native.js';
import { classifyConnectError, connectTcp } from './tcp.js';

export interface ReachResult {
  outcome: TcpOutcome;
  /** Connect time, 0.1 ms resolution. */
  ms: number;
  errno?: string;
  /** Set for every outcome but 'open'. */
  message?: string;
}

export interface ReachConnector {
  /** One TCP handshake to address:port, closed at once; never rejects for anything the network does. */
  connect(address: string, port: number, family: 0 | 4 | 6, timeoutMs: number, signal?: AbortSignal): Promise<ReachResult>;
  readonly impl: 'native' | 'net';
  /** Connects started and not yet settled. */
  readonly inFlight: number;
  /** Stop the engine; connects still in flight settle as aborted. */
  close(): Promise<void>;
}

export interface ReachConnectorOptions {
  /** 'auto' (default): the native engine when available, else net. */
  engine?: 'auto' | 'native' | 'net';
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** The result for a connect cancelled by its signal (or by close()). */
export const abortedResult = (): ReachResult => ({ outcome: 'aborted', ms: 0, errno: 'ABORTED', message: 'probe aborted' });

/** The result for a connect with that errno ('' = open), worded as connectTcp words it. */
export function reachResult(errno: string, ms: number, address: string, port: number, timeoutMs: number): ReachResult {
  if (errno === '') return { outcome: 'open', ms };
  if (errno === 'ABORTED') return { ...abortedResult(), ms };
  const message = errno === 'ETIMEDOUT' ? `no answer to SYN within ${timeoutMs} ms` : `connect ${errno} ${address}:${port}`;
  return { outcome: classifyConnectError(errno), ms, errno, message };
}

let errnoNames: Map<number, string> | undefined;
function errnoName(n: number): string {
  if (!errnoNames) {
    errnoNames = new Map();
    for (const [name, v] of Object.entries(os.constants.errno)) if (!errnoNames.has(v)) errnoNames.set(v, name);
    // Linux: EAGAIN and EWOULDBLOCK share a number; EWOULDBLOCK comes first in os.constants
    if (os.constants.errno.EAGAIN !== undefined) errnoNames.set(os.constants.errno.EAGAIN, 'EAGAIN');
  }
  return errnoNames.get(n) ?? `E${n}`;
}

/** Whether this runtime has the native engine (and why not). */
export function nativeReachAvailable(): { ok: true; addon: NativeReachBindings } | { ok: false; reason: string } {
  if (process.env.RDPROBE_NATIVE_REACH === '0') return { ok: false, reason: 'disabled by RDPROBE_NATIVE_REACH=0' };
  const l = loadNative();
  if (!l.addon) return { ok: false, reason: l.reason };
  const a = l.addon;
  if (a.reach !== true || !a.reachOpen || !a.reachConnect || !a.reachCancel || !a.reachRef || !a.reachClose) {
    return { ok: false, reason: 'the native addon has no batch connect engine on this platform or build (rebuild: node native/build.mjs)' };
  }
  return { ok: true, addon: { reachOpen: a.reachOpen, reachConnect: a.reachConnect, reachCancel: a.reachCancel, reachRef: a.reachRef, reachClose: a.reachClose } };
}

export function createReachConnector(opts: ReachConnectorOptions = {}): ReachConnector {
  const want = opts.engine ?? 'auto';
  if (want !== 'net') {
    const n = nativeReachAvailable();
    if (n.ok) {
      try {
        return new NativeReachConnector(n.addon);
      } catch (e) {
        if (want === 'native') throw e;
      }
    } else if (want === 'native') throw new Error(`native reach engine unavailable: ${n.reason}`);
  }
  return new NetReachConnector();
}

interface Pending {
  id: number;
  address: string;
  port: number;
  timeoutMs: number;
  signal?: AbortSignal;
  resolve: (r: ReachResult) => void;
}

/**
 * Abort bookkeeping shared by both engines: one listener per signal, however many connects use it (a scan hands
 * the same signal to every host).
 */
class SignalRegistry<T> {
  private readonly bySignal = new Map<AbortSignal, { set: Set<T>; off: () => void }>();
  constructor(private readonly onAbort: (item: T) => void) {}

  add(signal: AbortSignal, item: T): void {
    let e = this.bySignal.get(signal);
    if (!e) {
      const set = new Set<T>();
      const fire = () => {
        this.bySignal.delete(signal);
        for (const it of [...set]) this.onAbort(it);
      };
      signal.addEventListener('abort', fire, { once: true });
      e = { set, off: () => signal.removeEventListener('abort', fire) };
      this.bySignal.set(signal, e);
    }
    e.set.add(item);
  }

  delete(signal: AbortSignal, item: T): void {
    const e = this.bySignal.get(signal);
    if (!e) return;
    e.set.delete(item);
    if (e.set.size === 0) {
      e.off();
      this.bySignal.delete(signal);
    }
  }
}

class NativeReachConnector implements ReachConnector {
  readonly impl = 'native' as const;
  private readonly engine: ReachEngine;
  private readonly pending = new Map<number, Pending>();
  private readonly signals = new SignalRegistry<Pending>((p) => this.abort(p));
  private readonly fallback = new NetReachConnector();
  private nextId = 1;
  private closed = false;
  private referenced = false;

  constructor(private readonly addon: NativeReachBindings) {
    this.engine = addon.reachOpen((ids, errs, ms) => this.onResults(ids, errs, ms));
  }

  get inFlight(): number {
    return this.pending.size + this.fallback.inFlight;
  }

  connect(address: string, port: number, family: 0 | 4 | 6, timeoutMs: number, signal?: AbortSignal): Promise<ReachResult> {
    if (this.closed || signal?.aborted) return Promise.resolve(abortedResult());
    const fam = family || net.isIP(address);
    // the engine takes IP literals without scope ids; anything else goes through net.Socket
    if ((fam !== 4 && fam !== 6) || address.includes('%')) return this.fallback.connect(address, port, family, timeoutMs, signal);
    return new Promise((resolve) => {
      const id = this.nextId;
      this.nextId = this.nextId >= 0x7fffffff ? 1 : this.nextId + 1;
      const p: Pending = { id, address, port, timeoutMs: Math.max(1, Math.ceil(timeoutMs)), signal, resolve };
      try {
        this.addon.reachConnect(this.engine, id, fam, address, port, p.timeoutMs);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        resolve({ outcome: 'error', ms: 0, errno: err.code ?? 'EINVAL', message: err.message });
        return;
      }
      this.pending.set(id, p);
      if (signal) this.signals.add(signal, p);
      this.keepAlive();
    });
  }

  private keepAlive(): void {
    const want = this.pending.size > 0;
    if (want === this.referenced || this.closed) return;
    this.referenced = want;
    this.addon.reachRef(this.engine, want);
  }

  private settle(p: Pending, r: ReachResult): void {
    this.pending.delete(p.id);
    if (p.signal) this.signals.delete(p.signal, p);
    p.resolve(r);
  }

  private onResults(ids: Int32Array, errs: Int32Array, ms: Float64Array): void {
    for (let i = 0; i < ids.length; i++) {
      const p = this.pending.get(ids[i]);
      if (!p) continue; // settled by an abort already
      this.settle(p, reachResult(errs[i] === 0 ? '' : errnoName(errs[i]), round1(ms[i]), p.address, p.port, p.timeoutMs));
    }
    this.keepAlive();
  }

  private abort(p: Pending): void {
    if (!this.pending.has(p.id)) return;
    if (!this.closed) this.addon.reachCancel(this.engine, p.id);
    this.settle(p, abortedResult());
    this.keepAlive();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const p of [...this.pending.values()]) this.settle(p, abortedResult());
    this.closed = true;
    this.addon.reachClose(this.engine);
    await this.fallback.close();
  }
}

class NetReachConnector implements ReachConnector {
  readonly impl = 'net' as const;
  private count = 0;
  private readonly live = new Set<AbortController>();
  private closed = false;

  get inFlight(): number {
    return this.count;
  }

  async connect(address: string, port: number, _family: 0 | 4 | 6, timeoutMs: number, signal?: AbortSignal): Promise<ReachResult> {
    if (this.closed || signal?.aborted) return abortedResult();
    // close() must reach connects in flight: each one listens to its own controller, chained to the caller's signal
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    this.live.add(ac);
    this.count++;
    try {
      const r = await connectTcp(address, port, { timeoutMs, signal: ac.signal });
      if (r.socket) {
        // RST instead of FIN, like the native engine: no TIME_WAIT left behind
        if (typeof r.socket.resetAndDestroy === 'function') r.socket.resetAndDestroy();
        else r.socket.destroy();
      }
      if (r.outcome === 'open') return { outcome: 'open', ms: r.ms };
      if (r.errno === 'ABORTED') return { ...abortedResult(), ms: r.ms };
      return reachResult(r.errno ?? 'EUNKNOWN', r.ms, address, port, timeoutMs);
    } finally {
      this.count--;
      this.live.delete(ac);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const ac of [...this.live]) ac.abort();
  }
}
