/** What every rule receives and returns. Rules are pure: (context) → hits; the engine turns hits into findings. */
import type { Observation } from '../../observation/types.js';
import { usesCredssp, usesTls } from '../../observation/vocab.js';
import type { CauseId } from '../catalog.js';
import type { Prediction } from '../negotiation.js';
import type { ClientProfile } from '../profiles.js';
import type { ClientErrorRef, Confidence, Evidence, Fix, Severity } from '../types.js';

/** Values substituted into fix and next-probe templates. */
export interface FixVars {
  host: string;
  port: number;
  target: string;
  mtu?: number;
  mss?: number;
  iface?: string;
  ipver: 'ipv4' | 'ipv6';
}

export interface RuleContext {
  obs: Observation;
  profile: ClientProfile;
  nego: Prediction;
  vars: FixVars;
}

export interface Hit {
  cause: CauseId;
  severity: Severity;
  summary: string;
  confidence: Confidence;
  confidenceWhy: string;
  evidence: Evidence[];
  /** Replaces the catalogue's client errors (e.g. the exact SSL_ERR_* code for an NTSTATUS). */
  clientErrors?: ClientErrorRef[];
  freerdp?: string;
  /** Replaces the catalogue's next probe; null suppresses it. */
  nextProbe?: string | null;
  /** Appended to the catalogue explanation. */
  note?: string;
  /** Put before the catalogue's fixes (observation-specific advice). */
  extraFixes?: Fix[];
}

export type Rule = (ctx: RuleContext) => Hit | Hit[] | null;

export function ev(field: string, value: unknown, note?: string): Evidence {
  return note === undefined ? { field, value } : { field, value, note };
}

/** Does this profile reach the TLS phase (or can we not tell, in which case the server's TLS still matters)? */
export function reachesTls(ctx: RuleContext): boolean {
  const n = ctx.nego;
  if (n.status === 'ok') return usesTls(n.protocol);
  return n.status === 'unknown' && ctx.profile.tls;
}

export function reachesCredssp(ctx: RuleContext): boolean {
  const n = ctx.nego;
  if (n.status === 'ok') return usesCredssp(n.protocol);
  return n.status === 'unknown' && ctx.profile.nla;
}

export function pct(n: number, d: number): number {
  return d > 0 ? Math.round((n / d) * 1000) / 10 : 0;
}
