import type { Observation } from '../observation/types.js';
import { measurePmtu } from '../transport/pmtu.js';
import { probeRdpeudp } from '../transport/udp.js';
import { confirmOnRdp } from './blackhole.js';
import { mark, type StepContext } from './context.js';
import { usesTls } from './steps/negotiate.js';

/**
 * The path phases of a probe: UDP transport (MS-RDPEUDP SYN → SYN+ACK) and the path MTU (DF-flagged probes). When
 * the main connection's TLS flight stalled, the black hole is confirmed on the RDP connection itself: the same
 * handshake with a clamped MSS passes where the default one stalls (PROTOCOL-NOTES §5.5).
 */
export async function runPathPhases(obs: Observation, ctx: StepContext, want: { udp: boolean; pmtu: boolean }): Promise<void> {
  if (want.udp) {
    obs.options?.phases.push('udp');
    const t = performance.now();
    obs.udp = await probeRdpeudp(ctx.address, ctx.port, { signal: ctx.signal });
    mark(ctx, 'udp', t, obs.udp.outcome, obs.udp.detail);
  }
  if (want.pmtu) {
    obs.options?.phases.push('pmtu');
    const t = performance.now();
    obs.pmtu = await measurePmtu(ctx.address, { port: ctx.port, signal: ctx.signal });
    mark(ctx, 'pmtu', t, obs.pmtu.outcome, obs.pmtu.pathMtu !== undefined ? String(obs.pmtu.pathMtu) : obs.pmtu.detail);
    if (obs.tls?.outcome === 'stalled' && obs.x224?.outcome === 'selected' && usesTls(obs.x224.selected)) {
      const t2 = performance.now();
      try {
        const clamp = await confirmOnRdp(ctx.address, ctx.port, obs.pmtu, {
          requested: obs.x224.requestedMask,
          stallMs: ctx.phaseTimeoutMs,
          connectTimeoutMs: ctx.connectTimeoutMs,
          signal: ctx.signal,
          onConnect: () => ctx.connections++,
        });
        if ('notPossible' in clamp) obs.errors.push({ phase: 'mss-clamp', code: 'RDPROBE_MSS_CLAMP', message: clamp.notPossible });
        else mark(ctx, 'mss-clamp', t2, clamp.clampedOk ? 'confirmed' : 'not-confirmed', clamp.bound ? `passes ${clamp.bound.passes}, stalls ${clamp.bound.stalls}` : undefined);
      } catch (e) {
        // our own bug (or a programming error such as a non-IP address): kept in the record, not thrown
        obs.errors.push({ phase: 'mss-clamp', code: 'RDPROBE_INTERNAL', message: (e as Error).stack ?? String(e) });
      }
    }
  }
}
