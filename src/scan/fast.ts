/**
 * The lean TCP-reach prober for `scan --depth reach`.
 *
 * Why it exists (measured on loopback inside a network namespace, 2 vCPUs, 127.0.0.0/16, 256 in flight, connect
 * loops alone, no scan around them):
 *   - net.Socket per host (what transport/tcp.ts connectTcp does, and so runProbe):   ~25,000 hosts/s
 *   - libuv TCP handle per host, no stream machinery:                                 ~46,000–50,000 hosts/s
 *   - nmap -n -Pn -sT -p3389:                                                          ~40,000 hosts/s
 * A net.Socket is a full Duplex stream (buffers, state, event emitter); a reach probe needs a connect() and a
 * close(). So reach uses Node's own TCP handle binding (`process.binding('tcp_wrap')`, the object net.Socket wraps),
 * and runs those connects in a worker thread: on loopback connect() performs the whole handshake inside the system
 * call, and with the records, the diagnosis and the output on the main thread the two halves use two cores. Without
 * the binding (or with RDPROBE_NO_TCP_WRAP=1, or if the worker cannot start) it falls back to connectTcp in-thread.
 * Every engine produces exactly the Observation runProbe produces for depth 'reach' (same fields, outcome
 * classification from transport/tcp.ts). Whole scans, /16 (scripts/bench-scan.mjs, best of 3): nmap -sT 1.65 s,
 * rdprobe --depth reach 1.96 s (records, diagnosis and JSON on the main thread), 1.63 s with --no-diagnose.
 *
 * `negotiate` and `full` scans use runProbe itself: its negotiate path does ~10,000 hosts/s here, far above what
 * the scan needs, and sharing the code guarantees `scan` and `probe` report the same thing.
 */
import { Worker } from 'node:worker_threads';
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
  /** Aborts every connect in flight (outcome 'aborted', errno 'ABORTED'). */
  signal?: AbortSignal;
  /** Force the portable net.Socket path. */
  portable?: boolean;
}

export interface ReachProber {
  probe(t: ScanTarget, attemptTimeoutMs?: number): Promise<Observation>;
  readonly impl: 'tcp_wrap-worker' | 'net';
  readonly inFlight: number;
  /** Stop the connect worker (idle workers never keep the process alive; this just frees the thread). */
  close(): Promise<void>;
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

/**
 * The connect engine that runs in the worker thread, as plain JavaScript (a worker started from source text runs
 * the same under tsx, vitest and the compiled build). Requests arrive in batches
 * `{ids, addrs, ports, v6, timeouts}`; results leave in batches `{ids, errs, ms}` once per event-loop turn (errs[i]
 * is '' for an open port, else the errno name). Deadlines sit in one FIFO swept by one timer: no closure or timer
 * per connection. A connection that completes is reset at once (see report()).
 */
const ENGINE = String.raw`
'use strict';
const { parentPort } = require('node:worker_threads');
const { getSystemErrorName } = require('node:util');
const { TCP, TCPConnectWrap, constants } = process.binding('tcp_wrap');
const BATCH = Number(process.env.RDPROBE_REACH_BATCH) || 64;
const fifo = [];
let head = 0;
let timer = null;
let out = { ids: [], errs: [], ms: [] };
let flushing = false;
function errName(s) { try { return getSystemErrorName(s); } catch { return 'E' + (-s); } }
function flush() {
  flushing = false;
  if (!out.ids.length) return;
  parentPort.postMessage(out);
  out = { ids: [], errs: [], ms: [] };
}
function report(p, err) {
  if (p.done) return;
  p.done = true;
  // An established connection is closed with RST (SO_LINGER 0), as nmap -sT does: no FIN exchange, and no TIME_WAIT
  // left on either side (hundreds of thousands of them slow connect() down for the rest of a large scan).
  if (err === '' && typeof p.handle.reset === 'function') p.handle.reset();
  else p.handle.close();
  out.ids.push(p.id);
  out.errs.push(err);
  out.ms.push(Math.round((performance.now() - p.started) * 10) / 10);
  // small batches keep both threads busy at once (large ones make them take turns)
  if (out.ids.length >= BATCH) flush();
  else if (!flushing) { flushing = true; setImmediate(flush); }
  while (head < fifo.length && fifo[head].done) head++;
  if (head > 4096 && head * 2 > fifo.length) { fifo.splice(0, head); head = 0; }
}
function onComplete(status) { report(this.p, status === 0 ? '' : errName(status)); }
function sweep() {
  timer = null;
  const now = performance.now();
  while (head < fifo.length) {
    const p = fifo[head];
    if (!p.done && p.deadline > now) break;
    head++;
    // an error landing in the same turn as the deadline wins over it (as in transport/tcp.ts)
    if (!p.done) setImmediate(() => report(p, 'ETIMEDOUT'));
  }
  arm();
}
function arm() {
  while (head < fifo.length && fifo[head].done) head++;
  if (timer || head >= fifo.length) return;
  timer = setTimeout(sweep, Math.max(1, fifo[head].deadline - performance.now()));
}
parentPort.on('message', (m) => {
  if (m.type === 'abort') {
    const live = fifo.slice(head);
    fifo.length = 0;
    head = 0;
    for (const p of live) report(p, 'ABORTED');
    flush();
    return;
  }
  for (let i = 0; i < m.ids.length; i++) {
    const started = performance.now();
    const p = { id: m.ids[i], handle: new TCP(constants.SOCKET), started, deadline: started + m.timeouts[i], done: false };
    const req = new TCPConnectWrap();
    req.oncomplete = onComplete;
    req.p = p;
    req.address = m.addrs[i];
    req.port = m.ports[i];
    const err = m.v6[i] ? p.handle.connect6(req, m.addrs[i], m.ports[i]) : p.handle.connect(req, m.addrs[i], m.ports[i]);
    if (err) { report(p, errName(err)); continue; } // EMFILE/ENFILE, EADDRNOTAVAIL, EINVAL …
    const last = fifo[fifo.length - 1];
    if (last && last.deadline > p.deadline) {
      let j = fifo.length;
      while (j > head && fifo[j - 1].deadline > p.deadline) j--;
      fifo.splice(j, 0, p);
    } else fifo.push(p);
  }
  arm();
});
`;

const BATCH = Number(process.env.RDPROBE_REACH_BATCH) || 64;

interface MainPending {
  t: ScanTarget;
  address: string;
  timeoutMs: number;
  started: number;
  startedAt: string;
  resolve: (o: Observation) => void;
}

export function createReachProber(opts: ReachOptions): ReachProber {
  let count = 0;

  // startedAt: one ISO string per millisecond is plenty (a Date per host is measurable at 40k hosts/s)
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

  // ---- the worker engine
  let worker: Worker | undefined;
  let broken = opts.portable === true || tcpWrap() === null;
  const pending = new Map<number, MainPending>();
  let nextId = 1;
  let batch = { ids: [] as number[], addrs: [] as string[], ports: [] as number[], v6: [] as boolean[], timeouts: [] as number[] };
  let posting = false;

  const settle = (id: number, err: string, ms: number) => {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    count--;
    if (pending.size === 0) worker?.unref();
    const tcp: TcpObservation = { outcome: err === '' ? 'open' : err === 'ABORTED' ? 'aborted' : classifyConnectError(err), ms, address: p.address, port: p.t.port };
    if (err) {
      tcp.errno = err;
      tcp.message =
        err === 'ETIMEDOUT' ? `no answer to SYN within ${p.timeoutMs} ms` : err === 'ABORTED' ? 'probe aborted' : `connect ${err} ${p.address}:${p.t.port}`;
    }
    p.resolve(observation(p.t, p.started, p.startedAt, tcp));
  };

  const failAll = (why: string) => {
    broken = true;
    for (const [id, p] of [...pending]) {
      pending.delete(id);
      count--;
      const tcp: TcpObservation = { outcome: 'error', ms: 0, address: p.address, port: p.t.port, errno: 'EWORKER', message: why };
      const o = observation(p.t, p.started, p.startedAt, tcp);
      o.errors.push({ phase: 'tcp', code: 'RDPROBE_INTERNAL', message: why });
      p.resolve(o);
    }
  };

  const startWorker = (): Worker | undefined => {
    if (worker || broken) return worker;
    try {
      worker = new Worker(ENGINE, { eval: true });
    } catch (e) {
      broken = true;
      return undefined;
    }
    worker.on('message', (m: { ids: number[]; errs: string[]; ms: number[] }) => {
      for (let i = 0; i < m.ids.length; i++) settle(m.ids[i], m.errs[i], m.ms[i]);
    });
    worker.on('error', (e) => failAll(`reach worker failed: ${e.message}`));
    worker.on('exit', (code) => {
      worker = undefined;
      if (pending.size) failAll(`reach worker exited (${code})`);
    });
    worker.unref();
    return worker;
  };

  const post = () => {
    posting = false;
    if (!batch.ids.length || !worker) return;
    worker.postMessage(batch);
    batch = { ids: [], addrs: [], ports: [], v6: [], timeouts: [] };
  };

  opts.signal?.addEventListener('abort', () => worker?.postMessage({ type: 'abort' }), { once: true });

  const viaWorker = (t: ScanTarget, timeoutMs: number): Promise<Observation> =>
    new Promise((resolve) => {
      const address = t.address ?? t.host;
      const p: MainPending = { t, address, timeoutMs, started: performance.now(), startedAt: nowIso(), resolve };
      const id = nextId++;
      pending.set(id, p);
      count++;
      if (opts.signal?.aborted) return settle(id, 'ABORTED', 0);
      if (pending.size === 1) worker!.ref();
      batch.ids.push(id);
      batch.addrs.push(address);
      batch.ports.push(t.port);
      batch.v6.push(t.family === 6 || address.includes(':'));
      batch.timeouts.push(timeoutMs);
      // one message per event-loop turn, or per BATCH requests: small batches keep both threads busy at once
      if (batch.ids.length >= BATCH) post();
      else if (!posting) {
        posting = true;
        setImmediate(post);
      }
    });

  return {
    get impl() {
      return broken ? 'net' : 'tcp_wrap-worker';
    },
    get inFlight() {
      return count;
    },
    probe(t, attemptTimeoutMs) {
      const timeoutMs = Math.max(1, Math.min(opts.connectTimeoutMs, attemptTimeoutMs ?? opts.timeoutMs, opts.timeoutMs));
      return startWorker() ? viaWorker(t, timeoutMs) : viaNet(t, timeoutMs);
    },
    async close() {
      const w = worker;
      worker = undefined;
      if (w) await w.terminate();
    },
  };
}
