import type { Observation } from '../observation/types.js';
import type { StepContext } from '../probe/context.js';

export type ExtraPhase = (obs: Observation, ctx: StepContext) => Promise<void>;

type PathModule = typeof import('../probe/path.js');

/**
 * The path phases (UDP transport, path MTU) as extra probe phases. Their module (and the optional native addon behind
 * the path-MTU probes) loads only when a command asks for them: it must never slow or stop the rest of the tool.
 * The load starts here, when the phases are built, not when the first host reaches them, so no host pays for it
 * inside its phase (and `gate`, when given, is passed only after the module is there: a rate limit then measures the
 * phases, not the import).
 */
export function pathPhases(want: { udp: boolean; pmtu: boolean }, gate?: () => Promise<void> | undefined): ExtraPhase[] {
  if (!want.udp && !want.pmtu) return [];
  let loading: Promise<PathModule> | undefined = import('../probe/path.js');
  // a failed load is reported by the phase that needs it (as an internal error of that probe), never as an
  // unhandled rejection of a command that never got that far
  loading.catch(() => undefined);
  return [
    async (obs, ctx) => {
      loading ??= import('../probe/path.js');
      const { runPathPhases } = await loading;
      await gate?.();
      await runPathPhases(obs, ctx, want);
    },
  ];
}
