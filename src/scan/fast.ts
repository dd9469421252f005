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

export function createReachProber(opts: ReachOptions): ReachProber {
  const b = opts.portable ? null : tcpWrap();
  const inflight = new Set<() => void>();
  let count = 0;
  opts.signal?.addEventListener(
    'abort',
    () => {
      for (const cancel of [...inflight]) cancel();
    },
    { once: true },
  );

  const observation = (t: ScanTarget, started: number, startedAt: string, tcp: TcpObservation): Observation => {
    const entry = { phase: 'tcp', at: 0, ms: tcp.ms, outcome: tcp.outcome } as Observation['timeline'][number];
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
    const startedAt = new Date().toISOString();
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

  const viaHandle = (t: ScanTarget, timeoutMs: number): Promise<Observation> => {
    const B = b!;
    const started = performance.now();
    const startedAt = new Date().toISOString();
    const address = t.address ?? t.host;
    return new Promise((resolve) => {
      let done = false;
      const handle = new B.TCP(B.constants.SOCKET);
      const req = new B.TCPConnectWrap();
      count++;
      const finish = (tcp: Omit<TcpObservation, 'ms' | 'address' | 'port'>) => {
        if (done) return;
        done = true;
        count--;
        clearTimeout(timer);
        inflight.delete(cancel);
        // A plain close: FIN after a completed handshake, like connectTcp's destroy() (no RST, no half-open peers).
        handle.close();
        resolve(observation(t, started, startedAt, { ...tcp, ms: round1(performance.now() - started), address, port: t.port } as TcpObservation));
      };
      const cancel = () => finish({ outcome: 'error', errno: 'ABORTED', message: 'probe aborted' });
      req.oncomplete = (status: number) => {
        if (status === 0) return finish({ outcome: 'open' });
        const errno = safeErrName(status);
        finish({ outcome: classifyConnectError(errno), errno, message: `connect ${errno} ${address}:${t.port}` });
      };
      req.address = address;
      req.port = t.port;
      // Same rule as connectTcp: a socket error landing in the same tick as the deadline wins over it.
      const timer = setTimeout(
        () => setImmediate(() => finish({ outcome: 'filtered', errno: 'ETIMEDOUT', message: `no answer to SYN within ${timeoutMs} ms` })),
        timeoutMs,
      );
      inflight.add(cancel);
      if (opts.signal?.aborted) return cancel();
      const err = t.family === 6 || address.includes(':') ? handle.connect6(req, address, t.port) : handle.connect(req, address, t.port);
      if (err) {
        // Synchronous failure: EMFILE/ENFILE (no descriptor), EADDRNOTAVAIL, EINVAL …
        const errno = safeErrName(err);
        finish({ outcome: classifyConnectError(errno), errno, message: `connect ${errno} ${address}:${t.port}` });
      }
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
