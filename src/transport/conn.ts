import type { Duplex } from 'node:stream';
import { DecodeError } from '../codec/errors.js';
import { decodeTpktHeader } from '../codec/tpkt.js';
import { deadline } from './deadline.js';

/**
 * A deadline-bound reader over a socket (plain or TLS). Bytes are buffered up to `maxBuffer`; `read(frame, ms)`
 * waits until `frame(buffered)` says how many bytes make one unit (or throws), or until the peer closes, resets or
 * the deadline passes, or the caller's signal aborts. Each of those is a distinct result: EOF mid-PDU is never turned
 * into a timeout, and an abort of the whole probe is never a phase timeout.
 */
export type ReadResult =
  | { kind: 'data'; bytes: Uint8Array }
  | { kind: 'closed'; buffered: number }
  | { kind: 'reset'; errno: string; buffered: number }
  | { kind: 'timeout'; buffered: number }
  /** The caller's signal (the whole probe) was aborted: not a phase timeout. `code` and `detail` say why. */
  | { kind: 'aborted'; buffered: number; code: 'RDPROBE_PROBE_DEADLINE' | 'RDPROBE_ABORTED'; detail: string }
  | { kind: 'overflow'; buffered: number }
  | { kind: 'malformed'; error: Error; buffered: number };

/** Returns the byte length of one complete unit at the start of buf, or null when more bytes are needed. */
export type Framer = (buf: Uint8Array) => number | null;

export class Conn {
  private chunks: Buffer[] = [];
  private size = 0;
  private ended = false;
  private errno: string | undefined;
  private waiter: (() => void) | null = null;
  /** Total bytes received on this stream (application bytes for TLS). */
  bytesIn = 0;
  firstByteAt: number | undefined;

  constructor(
    readonly stream: Duplex,
    private readonly maxBuffer = 1 << 16,
  ) {
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('close', this.onEnd);
    stream.on('error', this.onError);
  }

  private onData = (d: Buffer) => {
    if (this.firstByteAt === undefined) this.firstByteAt = performance.now();
    this.bytesIn += d.length;
    this.chunks.push(d);
    this.size += d.length;
    if (this.size > this.maxBuffer) this.stream.pause();
    this.wake();
  };
  private onEnd = () => {
    this.ended = true;
    this.wake();
  };
  private onError = (e: NodeJS.ErrnoException) => {
    this.errno = e.code ?? 'EIO';
    this.ended = true;
    this.wake();
  };
  private wake() {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  get buffered(): number {
    return this.size;
  }

  private peekAll(): Uint8Array {
    if (this.chunks.length > 1) {
      const all = Buffer.concat(this.chunks, this.size);
      this.chunks = [all];
    }
    return this.chunks[0] ?? new Uint8Array(0);
  }

  private take(n: number): Uint8Array {
    const all = this.peekAll();
    const out = Uint8Array.prototype.slice.call(all, 0, n) as Uint8Array;
    const rest = all.subarray(n) as Buffer;
    this.chunks = rest.length ? [rest] : [];
    this.size = rest.length;
    if (this.size <= this.maxBuffer) this.stream.resume();
    return out;
  }

  async read(frame: Framer, timeoutMs: number, signal?: AbortSignal): Promise<ReadResult> {
    // One deadline (one timer, at most one subscription to the signal) for the whole read, however many waits.
    const d = deadline({ timeoutMs, signal });
    d.onExpire(() => this.wake());
    try {
      for (;;) {
        if (this.size > 0) {
          let n: number | null;
          try {
            n = frame(this.peekAll());
          } catch (e) {
            return { kind: 'malformed', error: e as Error, buffered: this.size };
          }
          if (n !== null && n <= this.size) return { kind: 'data', bytes: this.take(n) };
          if (n !== null && n > this.maxBuffer) return { kind: 'overflow', buffered: this.size };
        }
        if (this.errno) return { kind: 'reset', errno: this.errno, buffered: this.size };
        if (this.ended) return { kind: 'closed', buffered: this.size };
        if (d.reason === 'aborted') return { kind: 'aborted', buffered: this.size, code: d.abortCode(), detail: d.abortDetail() };
        if (d.reason === 'timeout') return { kind: 'timeout', buffered: this.size };
        await new Promise<void>((resolve) => {
          // let a racing error/close land before we look again
          this.waiter = () => setImmediate(resolve);
        });
      }
    } finally {
      this.waiter = null;
      d.dispose();
    }
  }

  write(bytes: Uint8Array): void {
    if (!this.stream.destroyed) this.stream.write(bytes);
  }

  /** Stop listening (before handing the socket to TLS). Buffered bytes are returned. */
  detach(): Uint8Array {
    this.stream.removeListener('data', this.onData);
    this.stream.removeListener('end', this.onEnd);
    this.stream.removeListener('close', this.onEnd);
    this.stream.removeListener('error', this.onError);
    const rest = this.size ? this.take(this.size) : new Uint8Array(0);
    return rest;
  }

  destroy(): void {
    this.stream.removeListener('data', this.onData);
    this.stream.destroy();
  }
}

/** TPKT framing (T.123 §8): the length is checked against `maxPdu` before anything is buffered for it. */
export function tpktFrame(maxPdu = 16384): Framer {
  return (buf) => {
    if (buf.length < 4) return null;
    const { length } = decodeTpktHeader(buf);
    if (length > maxPdu) throw new DecodeError('tpkt', 'TPKT.length', 2, `length ${length} exceeds the ${maxPdu}-byte limit for this phase`);
    return length;
  };
}
