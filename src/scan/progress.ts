/**
 * The scan progress line on stderr: done/total, rate, ETA and counts by outcome, redrawn in place a few times a
 * second. Only when stderr is a terminal and not --quiet (the caller decides); colours only without NO_COLOR.
 */

export interface ProgressSnapshot {
  done: number;
  total: number;
  active: number;
  cap: number;
  backingOff: boolean;
  counts: Record<string, number>;
}

export interface ProgressOptions {
  color: boolean;
  intervalMs?: number;
  columns?: () => number;
  now?: () => number;
}

const k = (x: number) => (x >= 10_000 ? `${(x / 1000).toFixed(x >= 100_000 ? 0 : 1)}k` : String(Math.round(x)));

export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '--:--';
  const t = Math.round(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}

/** One progress line (pure; tested). */
export function renderProgress(s: ProgressSnapshot, o: { elapsedMs: number; rate: number; width: number; color: boolean }): string {
  const pct = s.total ? Math.min(1, s.done / s.total) : 1;
  const barW = Math.max(10, Math.min(30, Math.floor(o.width / 5)));
  const filled = Math.round(pct * barW);
  const bar = '█'.repeat(filled) + '░'.repeat(barW - filled);
  const eta = o.rate > 0 ? formatDuration((s.total - s.done) / o.rate) : '--:--';
  const top = Object.entries(s.counts)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([name, v]) => `${name} ${k(v)}`)
    .join(' · ');
  const dim = (t: string) => (o.color ? `\x1b[2m${t}\x1b[0m` : t);
  const warn = (t: string) => (o.color ? `\x1b[33m${t}\x1b[0m` : t);
  let line = `${bar} ${s.done.toLocaleString('en-US')}/${s.total.toLocaleString('en-US')} ${(pct * 100).toFixed(0)}%  ${k(o.rate)}/s  ETA ${eta}`;
  if (s.backingOff) line += `  ${warn(`fd back-off: ${s.cap} in flight`)}`;
  if (top) line += `  ${dim(top)}`;
  // never wrap: a wrapped line cannot be redrawn with \r
  return truncateVisible(line, o.width - 1);
}

function truncateVisible(s: string, width: number): string {
  let visible = 0;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\x1b') {
      const end = s.indexOf('m', i);
      out += s.slice(i, end + 1);
      i = end;
      continue;
    }
    if (visible >= width) break;
    out += s[i];
    visible++;
  }
  return out.includes('\x1b') ? `${out}\x1b[0m` : out;
}

export class ProgressBar {
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly started: number;
  private samples: { t: number; done: number }[] = [];
  private shown = false;
  private last: ProgressSnapshot | undefined;
  private readonly now: () => number;

  constructor(
    private readonly stream: NodeJS.WritableStream & { columns?: number },
    private readonly read: () => ProgressSnapshot,
    private readonly o: ProgressOptions,
  ) {
    this.now = o.now ?? (() => performance.now());
    this.started = this.now();
  }

  start(): this {
    this.timer = setInterval(() => this.draw(), this.o.intervalMs ?? 200);
    this.timer.unref?.();
    return this;
  }

  /** Rate over the last ~5 s (smoother than since-start after a slow beginning). */
  private rate(done: number): number {
    const t = this.now();
    this.samples.push({ t, done });
    while (this.samples.length > 2 && t - this.samples[0].t > 5000) this.samples.shift();
    const first = this.samples[0];
    const dt = (t - first.t) / 1000;
    if (dt > 0.5) return (done - first.done) / dt;
    const all = (t - this.started) / 1000;
    return all > 0 ? done / all : 0;
  }

  draw(): void {
    this.last = this.read();
    const width = this.o.columns?.() ?? this.stream.columns ?? 100;
    const line = renderProgress(this.last, { elapsedMs: this.now() - this.started, rate: this.rate(this.last.done), width, color: this.o.color });
    this.stream.write(`\r${line}\x1b[K`);
    this.shown = true;
  }

  /** Erase the line (before other output goes to the same terminal). */
  clear(): void {
    if (this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }

  /** Run fn with the bar cleared; the next tick draws it again (redrawing per row would cost more than the row). */
  around<T>(fn: () => T): T {
    this.clear();
    return fn();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }
}
