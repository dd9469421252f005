/** The diagnosis options (`--client`, `--require`) of `probe --diagnose`, `diagnose` and `scan`: flags → DiagnoseOptions. */
import { Option } from 'commander';
import { PROFILE_NAMES, REQUIRE_MODES, type ProfileName, type RequireMode } from '../../diagnose/profiles.js';
import { UsageError } from '../util.js';

export interface DiagnoseCliOptions {
  client?: string;
  require?: string;
}

/** `--client <profile>`; `def` is its default (none for `probe`, where it only goes with --diagnose). */
export function clientOption(description: string, def?: ProfileName): Option {
  const opt = new Option('--client <profile>', description).choices([...PROFILE_NAMES]);
  return def ? opt.default(def) : opt;
}

export function requireOption(description: string): Option {
  return new Option('--require <layer>', description).choices([...REQUIRE_MODES]);
}

/** The profile to judge for (default mstsc) and the security layer the client insists on, checked. */
export function diagnoseOptionsFrom(o: DiagnoseCliOptions): { profile: ProfileName; require?: RequireMode } {
  const profile = (o.client ?? 'mstsc') as ProfileName;
  if (!PROFILE_NAMES.includes(profile)) throw new UsageError(`--client: unknown profile '${o.client}' (one of ${PROFILE_NAMES.join(', ')})`);
  if (o.require !== undefined && !REQUIRE_MODES.includes(o.require as RequireMode)) {
    throw new UsageError(`--require: '${o.require}' is not one of ${REQUIRE_MODES.join(', ')}`);
  }
  return o.require ? { profile, require: o.require as RequireMode } : { profile };
}
