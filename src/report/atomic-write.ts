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
export function writeChunk(out: Writable, chunk: string): Promise<void> | undefined {
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
 * Coalesces many small writes (one line per host) into large ones: flushed at `flushAt` characters or on the next
 * turn of the event loop, whichever comes first. At tens of thousands of hosts per second a write() per line costs
 * more than the scan itself. Backpressure: push() returns a promise while the stream wants draining.
 */
export class ChunkedSink {
  private parts: string[] = [];
  private size = 0;
  private scheduled = false;

  constructor(
    readonly out: Writable,
    private readonly flushAt = 1 << 17,
  ) {}

  push(s: string): Promise<void> | undefined {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= this.flushAt) return this.flush();
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
    if (!this.size) return this.out.writableNeedDrain ? writeChunk(this.out, '') : undefined;
    const chunk = this.parts.length === 1 ? this.parts[0] : this.parts.join('');
    this.parts = [];
    this.size = 0;
    return writeChunk(this.out, chunk);
  }
}
