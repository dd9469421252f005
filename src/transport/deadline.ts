/**
 * One deadline per operation: a timer and the caller's AbortSignal folded into a single cancellable object.
 *
 *   const d = deadline({ timeoutMs, signal });
 *   d.onExpire((reason) => finish(reason === 'timeout' ? … : …));   // 'timeout' | 'aborted'
 *   …
 *   d.dispose();                                                        // on completion, always
 *
 * House rules kept here, once, for every socket operation (TCP connect, TLS handshake, reads, UDP, DNS, PMTU):
 *  - An error or answer landing in the same event-loop turn as the timer (or the abort) wins: expiry is declared
 *    in a setImmediate after the timer fired, so I/O callbacks already queued run first and can dispose the deadline.
 *  - Abort and timeout are different reasons. `reason` says which; `abortDetail()` says why the probe was aborted
 *    (the signal's reason: "probe deadline of N ms reached", "probe aborted after N ms", …).
 *  - The caller's signal gets at most one 'abort' listener per signal, however many operations share it: operations
 *    subscribe to a per-signal fan-out, and the last one to finish removes the listener. A burst of 200 concurrent
 *    connections on one probe signal therefore never trips Node's MaxListenersExceededWarning (limit 10).
 */

export type ExpiryReason = 'timeout' | 'aborted';

export interface DeadlineOptions {
  /** Milliseconds until 'timeout'; Infinity (or undefined) for none: only the signal can end the operation. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Why a probe signal was aborted, with the code the Observation's error list uses. Pass it to `abort()`. */
export class ProbeAbortReason extends Error {
  constructor(
    readonly code: 'RDPROBE_PROBE_DEADLINE' | 'RDPROBE_ABORTED',
    message: string,
  ) {
    super(message);
    this.name = 'ProbeAbortReason';
  }
}

/** The reason for the whole-probe deadline: "probe deadline of N ms reached". */
export function probeDeadlineReason(timeoutMs: number): ProbeAbortReason {
  return new ProbeAbortReason('RDPROBE_PROBE_DEADLINE', `probe deadline of ${timeoutMs} ms reached`);
}

/** The reason for a caller's abort: "probe aborted after N ms" (N since `startedAt`, a performance.now() value). */
export function probeAbortedReason(startedAt: number): ProbeAbortReason {
  return new ProbeAbortReason('RDPROBE_ABORTED', `probe aborted after ${Math.round(performance.now() - startedAt)} ms`);
}

// ---------------------------------------------------------------------------------------------------------------
// One 'abort' listener per signal, fanned out to the operations that wait on it.

interface Hub {
  subscribers: Set<() => void>;
  listener: () => void;
}
const hubs = new WeakMap<AbortSignal, Hub>();

function subscribe(signal: AbortSignal, cb: () => void): () => void {
  let hub = hubs.get(signal);
  if (!hub) {
    const subscribers = new Set<() => void>();
    const listener = () => {
      hubs.delete(signal);
      for (const f of [...subscribers]) f();
      subscribers.clear();
    };
    hub = { subscribers, listener };
    hubs.set(signal, hub);
    signal.addEventListener('abort', listener, { once: true });
  }
  const h = hub;
  h.subscribers.add(cb);
  return () => {
    if (!h.subscribers.delete(cb) || h.subscribers.size > 0) return;
    if (hubs.get(signal) === h) hubs.delete(signal);
    signal.removeEventListener('abort', h.listener);
  };
}

// ---------------------------------------------------------------------------------------------------------------

export class Deadline {
  readonly startedAt = performance.now();
  /** performance.now() value at which the timer fires (Infinity: none). */
  readonly at: number;
  /** Set once the deadline expired; undefined while running or after a clean dispose. */
  reason: ExpiryReason | undefined;
  private callbacks: ((reason: ExpiryReason) => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private pending: NodeJS.Immediate | undefined;
  private disposed = false;
  private controller: AbortController | undefined;

  constructor(private readonly opts: DeadlineOptions) {
    const ms = opts.timeoutMs ?? Infinity;
    if (Number.isNaN(ms) || ms < 0) throw new RangeError(`timeoutMs ${ms} must be ≥ 0`);
    this.at = this.startedAt + ms;
    if (opts.signal?.aborted) {
      // Already aborted: expired from the start (callers check `reason` before starting work).
      this.reason = 'aborted';
      return;
    }
    if (Number.isFinite(ms)) this.timer = setTimeout(() => this.expire('timeout'), ms);
    if (opts.signal) this.unsubscribe = subscribe(opts.signal, () => this.expire('aborted'));
  }

  get timeoutMs(): number {
    return this.opts.timeoutMs ?? Infinity;
  }

  get expired(): boolean {
    return this.reason !== undefined;
  }

  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  /** Milliseconds left until the timer (0 when expired; Infinity without a timer). */
  remainingMs(): number {
    if (this.reason) return 0;
    return Math.max(0, this.at - performance.now());
  }

  /** Called once with the reason when the deadline expires (never after dispose). Registering on an expired
   *  deadline calls back in a setImmediate. */
  onExpire(cb: (reason: ExpiryReason) => void): void {
    if (this.disposed) return;
    if (this.reason) {
      const r = this.reason;
      setImmediate(() => {
        if (!this.disposed) cb(r);
      });
      return;
    }
    this.callbacks.push(cb);
  }

  /** An AbortSignal of this deadline alone (aborted on expiry, either reason), for APIs that take a signal. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reasonValue());
    }
    return this.controller.signal;
  }

  /** Race a promise against the deadline: its value, or the expiry reason. The promise's rejection is passed on. */
  race<T>(p: Promise<T>): Promise<T | ExpiryReason> {
    if (this.reason) {
      p.catch(() => {});
      return Promise.resolve(this.reason);
    }
    return new Promise<T | ExpiryReason>((resolve, reject) => {
      this.onExpire(resolve);
      p.then(resolve, reject);
    });
  }

  /** Human text for an 'aborted' expiry: the signal's reason when it says one, else how long the operation ran. */
  abortDetail(): string {
    const r: unknown = this.opts.signal?.reason;
    if (r instanceof ProbeAbortReason) return r.message;
    if (r instanceof Error && r.name === 'TimeoutError') return `deadline reached after ${Math.round(this.elapsedMs())} ms`;
    if (typeof r === 'string' && r) return r;
    if (r instanceof Error && r.name !== 'AbortError' && r.message) return r.message;
    return `aborted after ${Math.round(this.elapsedMs())} ms`;
  }

  /** The ObservationError code for an 'aborted' expiry. */
  abortCode(): 'RDPROBE_PROBE_DEADLINE' | 'RDPROBE_ABORTED' {
    const r: unknown = this.opts.signal?.reason;
    return r instanceof ProbeAbortReason ? r.code : 'RDPROBE_ABORTED';
  }

  /** Stop the timer and remove the signal subscription. Idempotent; call it on every completion path. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.timer);
    if (this.pending) clearImmediate(this.pending);
    this.pending = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.callbacks = [];
  }

  private reasonValue(): unknown {
    return this.reason === 'aborted' ? (this.opts.signal?.reason ?? new Error('aborted')) : new Error(`deadline of ${this.timeoutMs} ms reached`);
  }

  private expire(reason: ExpiryReason): void {
    if (this.disposed || this.reason || this.pending) return;
    // Let I/O that landed in the same turn (an RST, a FIN, the answer) settle the operation first.
    this.pending = setImmediate(() => {
      this.pending = undefined;
      if (this.disposed || this.reason) return;
      this.reason = reason;
      clearTimeout(this.timer);
      this.unsubscribe?.();
      this.unsubscribe = undefined;
      this.controller?.abort(this.reasonValue());
      const cbs = this.callbacks;
      this.callbacks = [];
      for (const cb of cbs) cb(reason);
    });
  }
}

/** A deadline for one operation; dispose it when the operation ends. */
export function deadline(opts: DeadlineOptions): Deadline {
  return new Deadline(opts);
}

/** Run `fn` with a deadline that is disposed when `fn` settles. */
export async function withDeadline<T>(opts: DeadlineOptions, fn: (d: Deadline) => Promise<T>): Promise<T> {
  const d = new Deadline(opts);
  try {
    return await fn(d);
  } finally {
    d.dispose();
  }
}
