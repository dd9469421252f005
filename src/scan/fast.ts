/**
 * The lean TCP-reach prober for `scan --depth reach`.
 *
 * Why it exists (measured on loopback inside a network namespace, 2 vCPUs, 127.0.0.0/16, 256 in flight):
 *   - net.Socket per host (what transport/tcp.ts connectTcp does, and so runProbe):   ~25,000 hosts/s
 *   - libuv TCP handle per host, no stream machinery (this file):                     ~46,000–50,000 hosts/s
 *   - nmap -n -Pn -sT -p3389:                                                          ~40,000 hosts/s
 * A net.Socket is a full Duplex stream (buffers, state, event emitter); a reach probe needs a connect() and a
 * close(). So reach uses Node's own TCP handle binding (`process.binding('tcp_wrap')`, the object net.Socket wraps)
 * when it is present, and falls back to connectTcp otherwise (or when RDPROBE_NO_TCP_WRAP=1). Both produce exactly the
 * Observation runProbe produces for depth 'reach' (same fields, outcome classification from transport/tcp.ts).
 *
 * `negotiate` and `full` scans use runProbe itself: its negotiate path does ~10,000 hosts/s here, far above what
 * the scan needs, and sharing the code guarantees `scan` and `probe` report the same thing.
 */
import { getSystemErrorName } from 'node:util';
import type { Observation, TcpObservation } from '../observation/types.js';
import { SCHEMA_VERSION } from '../observation/types.js';
import { DEFAULT_REQUESTED } from '../probe/run-probe.js';
import { classifyConnectError, connectTcp } from '../transport/tcp.js';
import { VERSION } from '../version.js';
import type { ScanTarget } from './targets.js';

export interface ReachOptions {
  /** TCP connect deadline (SYN unanswered → 'filtered'). */
  connectTimeoutMs: number;
  /** Recorded in options like runProbe does. */
  phaseTimeoutMs: number;
  timeoutMs: number;
  /** Aborts every connect in flight (outcome 'error', errno 'ABORTED'). */
  signal?: AbortSignal;
  /** Force the portable net.Socket path. */
  portable?: boolean;
}

export interface ReachProber {
  probe(t: ScanTarget, attemptTimeoutMs?: number): Promise<Observation>;
  readonly impl: 'tcp_wrap' | 'net';
  readonly inFlight: number;
}

interface TcpWrapBinding {
  TCP: new (type: number) => TcpHandle;
  TCPConnectWrap: new () => ConnectReq;
  constants: { SOCKET: number };
}
interface TcpHandle {
  connect(req: ConnectReq, address: string, port: number): number;
  connect6(req: ConnectReq, address: string, port: number): number;
  close(cb?: () => void): void;
}
interface ConnectReq {
  oncomplete: (status: number) => void;
  address: string;
  port: number;
}

let binding: TcpWrapBinding | null | undefined;

/** Node's TCP handle binding, if this runtime still exposes it with the shape we rely on. */
export function tcpWrap(): TcpWrapBinding | null {
  if (binding !== undefined) return binding;
  binding = null;
  if (process.env.RDPROBE_NO_TCP_WRAP === '1') return binding;
  try {
    const b = (process as unknown as { binding(name: string): Partial<TcpWrapBinding> }).binding('tcp_wrap');
    if (typeof b.TCP === 'function' && typeof b.TCPConnectWrap === 'function' && typeof b.constants?.SOCKET === 'number') {
      const h = new b.TCP(b.constants.SOCKET);
      const ok = typeof h.connect === 'function' && typeof h.connect6 === 'function' && typeof h.close === 'function';
      h.close();
      if (ok) binding = b as TcpWrapBinding;
    }
  } catch {
    binding = null;
  }
  return binding;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** One connect in flight (tcp_wrap path). Kept in a FIFO: every connect has the same deadline length. */
interface Pending {
  t: ScanTarget;
  address: string;
  started: number;
  startedAt: string;
  deadline: number;
  timeoutMs: number;
  handle: TcpHandle;
  done: boolean;
  resolve: (o: Observation) => void;
}

export function createReachProber(opts: ReachOptions): ReachProber {
  const b = opts.portable ? null : tcpWrap();
  let count = 0;

  // startedAt: one ISO string per millisecond is plenty (and a Date per host is measurable at 40k hosts/s)
  let isoMs = 0;
  let iso = '';
  const nowIso = () => {
    const ms = Date.now();
    if (ms !== isoMs) {
      isoMs = ms;
      iso = new Date(ms).toISOString();
    }
    return iso;
  };

  const observation = (t: ScanTarget, started: number, startedAt: string, tcp: TcpObservation): Observation => {
    const entry: Observation['timeline'][number] = { phase: 'tcp', at: 0, ms: tcp.ms, outcome: tcp.outcome };
    if (tcp.errno) entry.note = tcp.errno;
    return {
      schema: SCHEMA_VERSION,
      tool: { name: 'rdprobe', version: VERSION },
      source: { kind: 'live', target: t.key, host: t.host, port: t.port, startedAt, address: t.address ?? t.host },
      options: { requested: DEFAULT_REQUESTED, cookie: null, phases: ['tcp'], timeoutMs: opts.timeoutMs, phaseTimeoutMs: opts.phaseTimeoutMs },
      tcp,
      connections: 1,
      durationMs: Math.round(performance.now() - started),
      timeline: [entry],
      errors: [],
    };
  };

  const viaNet = async (t: ScanTarget, timeoutMs: number): Promise<Observation> => {
    const started = performance.now();
    const startedAt = nowIso();
    const address = t.address ?? t.host;
    count++;
    const r = await connectTcp(address, t.port, { timeoutMs, signal: opts.signal });
    count--;
    r.socket?.destroy();
    const tcp: TcpObservation = { outcome: r.outcome, ms: r.ms, address, port: t.port };
    if (r.errno) tcp.errno = r.errno;
    if (r.message && r.outcome !== 'open') tcp.message = r.message;
    return observation(t, started, startedAt, tcp);
  };

  // ---- tcp_wrap path: no per-connection closures or timers. Deadlines live in a FIFO swept by one timer.
  const fifo: Pending[] = [];
  let head = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const finish = (p: Pending, outcome: TcpObservation['outcome'], errno?: string, message?: string) => {
    if (p.done) return;
    p.done = true;
    count--;
    // A plain close: FIN after a completed handshake, like connectTcp's destroy().
    p.handle.close();
    const tcp: TcpObservation = { outcome, ms: round1(performance.now() - p.started), address: p.address, port: p.t.port };
    if (errno) tcp.errno = errno;
    if (message) tcp.message = message;
    p.resolve(observation(p.t, p.started, p.startedAt, tcp));
    // completions arrive roughly in start order: drop finished entries from the front as they come
    while (head < fifo.length && fifo[head].done) head++;
    if (head > 4096 && head * 2 > fifo.length) {
      fifo.splice(0, head);
      head = 0;
    }
  };

  function onComplete(this: ConnectReq & { p: Pending }, status: number) {
    const p = this.p;
    if (status === 0) return finish(p, 'open');
    const errno = safeErrName(status);
    finish(p, classifyConnectError(errno), errno, `connect ${errno} ${p.address}:${p.t.port}`);
  }

  const sweep = () => {
    timer = undefined;
    const now = performance.now();
    while (head < fifo.length) {
      const p = fifo[head];
      if (!p.done && p.deadline > now) break;
      head++;
      // Same rule as connectTcp: a socket error landing in the same tick as the deadline wins over it.
      if (!p.done) setImmediate(() => finish(p, 'filtered', 'ETIMEDOUT', `no answer to SYN within ${p.timeoutMs} ms`));
    }
    arm();
  };
  const arm = () => {
    while (head < fifo.length && fifo[head].done) head++;
    if (timer || head >= fifo.length) return;
    timer = setTimeout(sweep, Math.max(1, fifo[head].deadline - performance.now()));
  };
  opts.signal?.addEventListener(
    'abort',
    () => {
      const live = fifo.slice(head);
      fifo.length = 0;
      head = 0;
      for (const p of live) finish(p, 'error', 'ABORTED', 'probe aborted');
    },
    { once: true },
  );

  const viaHandle = (t: ScanTarget, timeoutMs: number): Promise<Observation> => {
    const B = b!;
    return new Promise((resolve) => {
      const started = performance.now();
      const p: Pending = {
        t,
        address: t.address ?? t.host,
        started,
        startedAt: nowIso(),
        deadline: started + timeoutMs,
        timeoutMs,
        handle: new B.TCP(B.constants.SOCKET),
        done: false,
        resolve,
      };
      count++;
      if (opts.signal?.aborted) return finish(p, 'error', 'ABORTED', 'probe aborted');
      const req = new B.TCPConnectWrap() as ConnectReq & { p: Pending };
      req.oncomplete = onComplete;
      req.address = p.address;
      req.port = t.port;
      req.p = p;
      const err = t.family === 6 || p.address.includes(':') ? p.handle.connect6(req, p.address, t.port) : p.handle.connect(req, p.address, t.port);
      if (err) {
        // Synchronous failure: EMFILE/ENFILE (no descriptor), EADDRNOTAVAIL, EINVAL …
        const errno = safeErrName(err);
        return finish(p, classifyConnectError(errno), errno, `connect ${errno} ${p.address}:${t.port}`);
      }
      // deadlines are non-decreasing only when every probe uses the same timeout; keep the FIFO sorted otherwise
      const last = fifo[fifo.length - 1];
      if (last && last.deadline > p.deadline) {
        let i = fifo.length;
        while (i > head && fifo[i - 1].deadline > p.deadline) i--;
        fifo.splice(i, 0, p);
      } else fifo.push(p);
      arm();
    });
  };

  return {
    impl: b ? 'tcp_wrap' : 'net',
    get inFlight() {
      return count;
    },
    probe(t, attemptTimeoutMs) {
      const timeoutMs = Math.max(1, Math.min(opts.connectTimeoutMs, attemptTimeoutMs ?? opts.timeoutMs, opts.timeoutMs));
      return b ? viaHandle(t, timeoutMs) : viaNet(t, timeoutMs);
    },
  };
}

function safeErrName(status: number): string {
  try {
    return getSystemErrorName(status);
  } catch {
    return `E${-status}`;
  }
}
