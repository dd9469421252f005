import type { ObservationError, Phase, TimelineEntry } from '../observation/types.js';

/** What every step needs: where, how long, and where to record. One per probe. */
export interface StepContext {
  address: string;
  port: number;
  host: string;
  cookie: string | null;
  correlationId?: Uint8Array;
  connectTimeoutMs: number;
  phaseTimeoutMs: number;
  signal: AbortSignal;
  /** Counts TCP connections opened. */
  connections: number;
  startedAt: number;
  timeline: TimelineEntry[];
  errors: ObservationError[];
  /** Runs connection-opening work with the per-host concurrency bound. */
  limit: <T>(fn: () => Promise<T>) => Promise<T>;
}

export function mark(ctx: StepContext, phase: Phase, started: number, outcome?: string, note?: string, ms?: number): void {
  const e: TimelineEntry = {
    phase,
    at: Math.round(started - ctx.startedAt),
    ms: ms ?? Math.round((performance.now() - started) * 10) / 10,
  };
  if (outcome) e.outcome = outcome;
  if (note) e.note = note;
  ctx.timeline.push(e);
}
