/**
 * `-o FILE`: write to a temporary file next to FILE, then fsync and rename it over FILE, so FILE is always either
 * the previous complete file or the new complete one — never half a JSON document. The temporary file is
 * `FILE.<pid>.partial`; after a hard crash (SIGKILL, power loss) it holds the records written so far and can be
 * given to `rdprobe scan --resume`.
 */
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';

export class AtomicFile {
  private settled = false;

  private constructor(
    readonly path: string,
    readonly tempPath: string,
    private readonly fh: FileHandle,
    readonly stream: Writable,
  ) {}

  static async create(path: string): Promise<AtomicFile> {
    const tempPath = join(dirname(path), `${basename(path)}.${process.pid}.partial`);
    const fh = await open(tempPath, 'w', 0o644);
    const stream = fh.createWriteStream({ autoClose: false, highWaterMark: 1 << 16 });
    return new AtomicFile(path, tempPath, fh, stream);
  }

  /** Flush, fsync, rename over the destination, fsync the directory (best effort). */
  async commit(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    await endStream(this.stream);
    await this.fh.sync();
    await this.fh.close();
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
    await this.fh.close().catch(() => undefined);
    await unlink(this.tempPath).catch(() => undefined);
  }
}

function endStream(s: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    if (s.writableFinished) return resolve();
    s.once('error', reject);
    s.end(() => resolve());
  });
}

/** write() honouring backpressure: undefined when the stream took the chunk, a promise when it asked us to wait. */
export function writeChunk(out: Writable, chunk: string): Promise<void> | undefined {
  if (out.write(chunk)) return undefined;
  return new Promise((resolve, reject) => {
    const done = (e?: Error) => {
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
}
