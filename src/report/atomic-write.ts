/**
 * `-o FILE`: write to a temporary file next to FILE, then fsync and rename it over FILE, so FILE is always either
 * the previous complete file or the new complete one — never half a JSON document. The temporary file is
 * `FILE.<pid>.partial`; after a hard crash (SIGKILL, power loss) it holds the records written so far and can be
 * given to `rdprobe scan --resume`.
 */
import { createWriteStream } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';

export class AtomicFile {
  private settled = false;

  private constructor(
    readonly path: string,
    readonly tempPath: string,
    readonly stream: Writable,
  ) {}

  static async create(path: string): Promise<AtomicFile> {
    const tempPath = join(dirname(path), `${basename(path)}.${process.pid}.partial`);
    const stream = createWriteStream(tempPath, { flags: 'w', mode: 0o644, highWaterMark: 1 << 20 });
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
    stream.setMaxListeners(0);
    return new AtomicFile(path, tempPath, stream);
  }

  /** Flush, fsync, rename over the destination, fsync the directory (best effort). */
  async commit(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    await endStream(this.stream);
    // fsync is per file, not per descriptor: a fresh descriptor flushes what the stream wrote
    const fh = await open(this.tempPath, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(this.tempPath, this.path);
    try {
      const d = await open(dirname(this.path), 'r');
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    } catch {
      /* some filesystems refuse fsync on a directory */
    }
  }

  /** Give up: close and remove the temporary file; the destination is untouched. */
  async discard(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    try {
      await endStream(this.stream);
    } catch {
      /* already broken */
    }
    await unlink(this.tempPath).catch(() => undefined);
  }
}

/** end() and wait until the descriptor is closed (an fs.WriteStream closes itself after 'finish'). */
function endStream(s: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    if (s.closed || s.destroyed) return resolve();
    s.once('error', reject);
    s.once('close', () => resolve());
    s.end();
  });
}

const drains = new WeakMap<Writable, Promise<void>>();

/**
 * write() honouring backpressure: undefined when the stream took the chunk, a promise when it asked us to wait
 * (one shared promise per stream until 'drain', however many writers wait on it).
 */
export function writeChunk(out: Writable, chunk: string | Uint8Array): Promise<void> | undefined {
  if (out.write(chunk)) return undefined;
  let p = drains.get(out);
  if (!p) {
    p = new Promise<void>((resolve, reject) => {
      const done = (e?: Error) => {
        drains.delete(out);
        out.removeListener('drain', ok);
        out.removeListener('error', done);
        out.removeListener('close', ok);
        if (e) reject(e);
        else resolve();
      };
      const ok = () => done();
      out.once('drain', ok);
      out.once('error', done);
      out.once('close', ok);
    });
    drains.set(out, p);
  }
  return p;
}

/**
 * Coalesces many small writes (one line per host) into large ones: flushed at `flushAt` bytes or on the next turn
 * of the event loop, whichever comes first. At tens of thousands of hosts per second a write() per line costs more
 * than the scan itself. Each line is UTF-8-encoded into one buffer as it comes: joining the lines into one string
 * first costs three times as much once a line holds a non-Latin-1 character (the whole chunk becomes a two-byte
 * string, then is encoded anyway). Backpressure: push() returns a promise while the stream wants draining.
 */
export class ChunkedSink {
  private buf: Buffer | undefined;
  private off = 0;
  private scheduled = false;
  private readonly capacity: number;

  constructor(
    readonly out: Writable,
    private readonly flushAt = 1 << 17,
  ) {
    this.capacity = Math.max(2 * flushAt, 1 << 16);
  }

  push(s: string): Promise<void> | undefined {
    const most = s.length * 3; // UTF-8 bytes per UTF-16 code unit, at most
    if (this.buf && this.off + most > this.buf.length) void this.flush()?.catch(() => undefined);
    if (most > this.capacity) {
      // larger than a chunk: write it as it is (after what was buffered, so the order holds)
      if (this.off) void this.flush()?.catch(() => undefined);
      return writeChunk(this.out, s);
    }
    this.buf ??= Buffer.allocUnsafe(this.capacity);
    this.off += this.buf.write(s, this.off, 'utf8');
    if (this.off >= this.flushAt) return this.flush();
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.flush()?.catch(() => undefined);
      });
    }
    return this.out.writableNeedDrain ? writeChunk(this.out, '') : undefined;
  }

  /** Write what is buffered now. */
  flush(): Promise<void> | undefined {
    if (!this.off || !this.buf) return this.out.writableNeedDrain ? writeChunk(this.out, '') : undefined;
    // the stream may hold on to the chunk until it is written: the next lines go into a new buffer
    const chunk = this.buf.subarray(0, this.off);
    this.buf = undefined;
    this.off = 0;
    return writeChunk(this.out, chunk);
  }
}
