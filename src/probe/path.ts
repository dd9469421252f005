import type { Observation } from '../observation/types.js';
import { connectWithMss } from '../transport/mss.js';
import { measurePmtu } from '../transport/pmtu.js';
import { tlsUpgrade } from '../transport/tls.js';
import { probeRdpeudp } from '../transport/udp.js';
import { confirmBlackhole, type Handshake } from './blackhole.js';
import { mark, type StepContext } from './context.js';
import { negotiate, usesTls } from './steps/negotiate.js';

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
        const ipOverhead = ctx.address.includes(':') ? 60 : 40;
        const clamp = await confirmBlackhole(rdpHandshake(ctx, obs), { signal: ctx.signal, defaultMss: (obs.pmtu.localMtu ?? 1500) - ipOverhead });
        obs.pmtu.mssClamp = clamp;
        if (clamp.clampedOk && clamp.bound && obs.pmtu.recommendedMss === undefined) {
          obs.pmtu.recommendedMss = clamp.bound.passes;
          obs.pmtu.recommendedMtu = clamp.bound.passes + ipOverhead;
        }
        mark(ctx, 'mss-clamp', t2, clamp.clampedOk ? 'confirmed' : 'not-confirmed', clamp.bound ? `passes ${clamp.bound.passes}, stalls ${clamp.bound.stalls}` : undefined);
      } catch (e) {
        obs.errors.push({ phase: 'mss-clamp', code: 'RDPROBE_MSS_CLAMP', message: (e as Error).message });
      }
    }
  }
}

/** The probe's own X.224 offer and TLS upgrade on a fresh connection, optionally with TCP_MAXSEG clamped. */
function rdpHandshake(ctx: StepContext, obs: Observation): Handshake {
  const requested = obs.x224!.requested;
  return async (mss?: number) => {
    const started = performance.now();
    const n = await negotiate(ctx, requested, {
      connect:
        mss === undefined
          ? undefined
          : async () => {
              const t = performance.now();
              try {
                const socket = await connectWithMss(ctx.address, ctx.port, mss, { timeoutMs: ctx.connectTimeoutMs, signal: ctx.signal });
                return { outcome: 'open', socket, ms: Math.round(performance.now() - t) };
              } catch (e) {
                return { outcome: 'error', errno: (e as NodeJS.ErrnoException).code, message: (e as Error).message, ms: Math.round(performance.now() - t) };
              }
            },
    });
    if (!n.conn || !usesTls(n.x224?.selected)) {
      n.conn?.destroy();
      throw new Error(`handshake${mss ? ` with MSS ${mss}` : ''} did not reach TLS: ${n.x224?.outcome ?? `tcp ${n.tcp.outcome}`}`);
    }
    n.conn.detach();
    const r = await tlsUpgrade(n.socket!, { timeoutMs: ctx.phaseTimeoutMs, signal: ctx.signal });
    r.socket?.destroy();
    n.socket!.destroy();
    if (r.outcome !== 'ok' && r.outcome !== 'stalled') throw new Error(`TLS ${r.outcome}${r.error ? `: ${r.error}` : ''}`);
    return { stalled: r.outcome === 'stalled', bytesReceived: r.bytesReceived, ms: Math.round(performance.now() - started) };
  };
}
