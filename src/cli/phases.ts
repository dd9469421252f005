import type { Observation } from '../observation/types.js';
import type { StepContext } from '../probe/context.js';

/**
 * The path phases (UDP transport, path MTU) as extra probe phases. They load lazily: the native addon behind the
 * path-MTU probes is optional and must never stop the rest of the tool from working.
 */
export function pathPhases(want: { udp: boolean; pmtu: boolean }): ((obs: Observation, ctx: StepContext) => Promise<void>)[] {
  const phases: ((obs: Observation, ctx: StepContext) => Promise<void>)[] = [];
  if (want.udp || want.pmtu) {
    phases.push(async (obs, ctx) => {
      const { runPathPhases } = await import('../probe/path.js');
      await runPathPhases(obs, ctx, want);
    });
  }
  return phases;
}
