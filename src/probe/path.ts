import type { Observation } from '../observation/types.js';
import { resolveTarget } from '../transport/dns.js';
import { measurePmtu, type PmtuOptions } from '../transport/pmtu.js';
import { probeRdpeudp, type RdpeudpProbeOptions } from '../transport/udp.js';
import { confirmOnRdp, type MssAttempt } from './blackhole.js';
import { mark, type StepContext } from './context.js';
import { usesTls } from '../observation/vocab.js';
import { beginObservation, DEFAULT_REQUESTED, endObservation, internalError } from './record.js';
import { parseHostPort } from './target.js';

export interface PathPhases {
  udp: boolean;
  pmtu: boolean;
  /** DF-probe settings (default: measurePmtu's). */
  pmtuOptions?: Omit<PmtuOptions, 'port' | 'signal'>;
  udpOptions?: Omit<RdpeudpProbeOptions, 'signal'>;
  /** Run the MSS-clamp confirmation? Default: when the main connection's TLS flight stalled after X.224 selected TLS. */
  confirm?: (obs: Observation) => boolean;
  /** TLS stall deadline of each clamp handshake (default: the phase deadline). */
  stallMs?: number;
  onAttempt?: (a: MssAttempt) => void;
  /** UDP before or after the path MTU (default before, as the probe runs it). */
  udpLast?: boolean;
}

/**
 * The path phases of a probe: UDP transport (MS-RDPEUDP SYN → SYN+ACK) and the path MTU (DF-flagged probes). When
 * the main connection's TLS flight stalled, the black hole is confirmed on the RDP connection itself: the same
 * handshake with a clamped MSS passes where the default one stalls (PROTOCOL-NOTES §5.5).
 */
export async function runPathPhases(obs: Observation, ctx: StepContext, want: PathPhases): Promise<void> {
  const udp = async () => {
    obs.options?.phases.push('udp');
    const t = performance.now();
    obs.udp = await probeRdpeudp(ctx.address, ctx.port, { ...want.udpOptions, signal: ctx.signal });
    mark(ctx, 'udp', t, obs.udp.outcome, obs.udp.detail);
  };
  if (want.udp && !want.udpLast) await udp();
  if (want.pmtu) {
    obs.options?.phases.push('pmtu');
    const t = performance.now();
    obs.pmtu = await measurePmtu(ctx.address, { ...want.pmtuOptions, port: ctx.port, signal: ctx.signal });
    mark(ctx, 'pmtu', t, obs.pmtu.outcome, obs.pmtu.pathMtu !== undefined ? String(obs.pmtu.pathMtu) : obs.pmtu.detail);
    const stalledOnTls = obs.tls?.outcome === 'stalled' && obs.x224?.outcome === 'selected' && usesTls(obs.x224.selected);
    if (want.confirm ? want.confirm(obs) : stalledOnTls) {
      const t2 = performance.now();
      try {
        const clamp = await confirmOnRdp(ctx.address, ctx.port, obs.pmtu, {
          requested: obs.x224?.requestedMask,
          stallMs: want.stallMs ?? ctx.phaseTimeoutMs,
          connectTimeoutMs: ctx.connectTimeoutMs,
          signal: ctx.signal,
          onConnect: () => ctx.connections++,
          onAttempt: want.onAttempt,
        });
        if ('notPossible' in clamp) obs.errors.push({ phase: 'mss-clamp', code: 'RDPROBE_MSS_CLAMP', message: clamp.notPossible });
        else mark(ctx, 'mss-clamp', t2, clamp.clampedOk ? 'confirmed' : 'not-confirmed', clamp.bound ? `passes ${clamp.bound.passes}, stalls ${clamp.bound.stalls}` : undefined);
      } catch (e) {
        // our own bug (or a programming error such as a non-IP address): kept in the record, not thrown
        obs.errors.push({ phase: 'mss-clamp', code: 'RDPROBE_INTERNAL', message: (e as Error).stack ?? String(e) });
      }
    }
  }
  if (want.udp && want.udpLast) await udp();
}

export interface PathProbeOptions extends Omit<PathPhases, 'udp' | 'pmtu' | 'confirm' | 'udpLast'> {
  /** Also send one MS-RDPEUDP SYN (default off). */
  udp?: boolean;
  /** Port when the target names none (default 3389). */
  port?: number;
  family?: 0 | 4 | 6;
  /** MSS-clamp check: true = always, false = never, undefined = when the DF probes find a black hole. */
  confirm?: boolean;
  /** DNS deadline and the default stall deadline (default 5000 ms). */
  phaseTimeoutMs?: number;
  /** TCP connect deadline of the clamp handshakes (default 3000 ms). */
  connectTimeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * `rdprobe path` as an Observation: DNS, the path MTU with DF probes, the MSS-clamp confirmation on the RDP
 * connection (when a black hole shows, or always/never), and optionally the MS-RDPEUDP SYN. The record goes to
 * diagnose() like any probe's. Never throws for anything the network does.
 */
export async function probePath(target: string, opts: PathProbeOptions = {}): Promise<Observation> {
  const hp = parseHostPort(target);
  const port = hp.port ?? opts.port ?? 3389;
  const phaseTimeoutMs = opts.phaseTimeoutMs ?? 5000;
  const started = performance.now();
  const timeoutMs = 0; // no whole-probe deadline: each phase has its own
  const obs = beginObservation({ target, host: hp.host, port, requested: DEFAULT_REQUESTED, cookie: null, timeoutMs, phaseTimeoutMs });
  const ctx: StepContext = {
    address: '',
    port,
    host: hp.host,
    cookie: null,
    connectTimeoutMs: opts.connectTimeoutMs ?? 3000,
    phaseTimeoutMs,
    signal: opts.signal ?? new AbortController().signal,
    connections: 0,
    startedAt: started,
    timeline: obs.timeline,
    errors: obs.errors,
    limit: (fn) => fn(),
  };
  try {
    obs.options!.phases.push('dns');
    const t0 = performance.now();
    obs.dns = await resolveTarget(hp.host, { timeoutMs: phaseTimeoutMs, family: opts.family });
    mark(ctx, 'dns', t0, obs.dns.outcome, obs.dns.addresses.map((a) => a.address).join(' '));
    if (!obs.dns.addresses.length) return obs;
    ctx.address = obs.dns.addresses[0].address;
    obs.source.address = ctx.address;
    const confirm = opts.confirm;
    await runPathPhases(obs, ctx, {
      ...opts,
      udp: opts.udp === true,
      pmtu: true,
      udpLast: true,
      confirm: (o) => confirm === true || (confirm !== false && o.pmtu?.outcome === 'black-hole'),
    });
    return obs;
  } catch (e) {
    internalError(obs, 'probe', e);
    return obs;
  } finally {
    endObservation(obs, { connections: ctx.connections, started, aborted: opts.signal?.aborted });
  }
}
