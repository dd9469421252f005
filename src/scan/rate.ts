/**
 * `--rate`: new connections per second, as a token bucket in GCRA form (one "theoretical arrival time" instead of a
 * token counter). Each take() reserves the next slot; at most `burst` slots can be banked while idle, so over any
 * window W at most rate·W + burst connections start. Concurrent takers get distinct slots.
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

export class RateLimiter {
  private tat: number;
  private readonly interval: number;
  private readonly burstMs: number;

  /**
   * @param perSecond slots per second (> 0)
   * @param burst slots that may start back to back after an idle period (default: 20 ms worth, at least 1)
   */
  constructor(
    readonly perSecond: number,
    burst?: number,
    private readonly clock: Clock = realClock,
  ) {
    if (!(perSecond > 0)) throw new RangeError('rate must be > 0');
    this.interval = 1000 / perSecond;
    const b = Math.max(1, Math.floor(burst ?? perSecond / 50));
    this.burstMs = (b - 1) * this.interval;
    this.tat = clock.now() - this.burstMs;
  }

  /** Resolves when the caller may start one connection; returns undefined when it may start right away. */
  take(): Promise<void> | undefined {
    const now = this.clock.now();
    if (this.tat < now - this.burstMs) this.tat = now - this.burstMs;
    const slot = this.tat;
    this.tat += this.interval;
    return slot > now ? this.until(slot) : undefined;
  }

  /** Timers may fire up to a millisecond early (libuv's cached loop time): never let a start run ahead of its slot. */
  private async until(slot: number): Promise<void> {
    for (let d = slot - this.clock.now(); d > 0; d = slot - this.clock.now()) await this.clock.sleep(Math.max(1, Math.ceil(d)));
  }
}
