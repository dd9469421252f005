/**
 * Descriptor budget for scans. A scan must never die with EMFILE: the scheduler sizes its concurrency to the
 * process's soft RLIMIT_NOFILE at start, samples the descriptors actually open while it runs, and backs off when a
 * probe still reports EMFILE/ENFILE (that target is put back and retried later, never reported as a result).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Soft limit on open files: /proc/self/limits on Linux, `ulimit -n` elsewhere, 1024 when neither answers. */
export function readFdLimit(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m) return m[1] === 'unlimited' ? 1 << 20 : Number(m[1]);
  } catch {
    /* not Linux */
  }
  try {
    const out = execFileSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8', timeout: 2000 }).trim();
    if (out === 'unlimited') return 1 << 20;
    if (/^\d+$/.test(out)) return Number(out);
  } catch {
    /* no shell */
  }
  return 1024;
}

/** Descriptors open in this process now (Linux /proc/self/fd, BSD/macOS /dev/fd), or undefined. */
export function countOpenFds(): number | undefined {
  for (const dir of ['/proc/self/fd', '/dev/fd']) {
    try {
      return readdirSync(dir).length;
    } catch {
      /* try the next */
    }
  }
  return undefined;
}

export function isDescriptorExhaustion(errno: string | undefined): boolean {
  return errno === 'EMFILE' || errno === 'ENFILE';
}

export interface FdGovernorOptions {
  /** The concurrency the user asked for. */
  wanted: number;
  /** Descriptors one probe holds at most (1 for reach/negotiate; full depth runs up to `parallel` connections plus UDP). */
  perProbe: number;
  limit?: number;
  openNow?: () => number | undefined;
  /** Descriptors kept free for the process itself (output files, DNS, stdio); default a quarter of the limit, 16..64. */
  reserve?: number;
  now?: () => number;
}

/**
 * Additive-increase / multiplicative-decrease on the concurrency cap: halve on EMFILE or when more than 90 % of the
 * limit is in use; after 2 s without trouble, grow by 1/16 of the wanted concurrency per check.
 */
export class FdGovernor {
  readonly wanted: number;
  readonly limit: number;
  /** Cap implied by the descriptor limit at start. */
  readonly ceiling: number;
  private capValue: number;
  private lastTrouble = -Infinity;
  private readonly openNow: () => number | undefined;
  private readonly now: () => number;
  private readonly perProbe: number;
  backoffs = 0;

  constructor(o: FdGovernorOptions) {
    this.wanted = Math.max(1, o.wanted);
    this.limit = o.limit ?? readFdLimit();
    this.openNow = o.openNow ?? countOpenFds;
    this.now = o.now ?? (() => performance.now());
    this.perProbe = Math.max(1, o.perProbe);
    const base = this.openNow() ?? 16;
    const reserve = o.reserve ?? Math.max(16, Math.min(64, Math.floor(this.limit / 4)));
    this.ceiling = Math.max(1, Math.floor((this.limit - base - reserve) / this.perProbe));
    this.capValue = Math.min(this.wanted, this.ceiling);
  }

  get cap(): number {
    return this.capValue;
  }

  /** The configured concurrency was lowered at start because of the descriptor limit. */
  get limitedAtStart(): boolean {
    return this.ceiling < this.wanted;
  }

  get backingOff(): boolean {
    return this.now() - this.lastTrouble < 2000;
  }

  onExhausted(active: number): void {
    this.lastTrouble = this.now();
    this.backoffs++;
    this.capValue = Math.max(1, Math.floor(Math.min(this.capValue, active) / 2));
  }

  /** Periodic check (about once a second). */
  check(): void {
    const open = this.openNow();
    if (open !== undefined && open > this.limit * 0.9) {
      this.lastTrouble = this.now();
      this.backoffs++;
      this.capValue = Math.max(1, Math.floor(this.capValue / 2));
      return;
    }
    if (this.now() - this.lastTrouble >= 2000 && this.capValue < Math.min(this.wanted, this.ceiling)) {
      this.capValue = Math.min(this.wanted, this.ceiling, this.capValue + Math.max(1, Math.floor(this.wanted / 16)));
    }
  }
}
