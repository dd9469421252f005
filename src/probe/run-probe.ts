import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import { deriveSecurity } from '../observation/derive.js';
import type {
  BurstObservation,
  McsObservation,
  Observation,
  ProtocolEnumeration,
  ProtocolName,
  ProtocolResult,
  StabilityObservation,
} from '../observation/types.js';
import { PROTOCOL_NAMES } from '../observation/types.js';
import { probeAbortedReason, probeDeadlineReason } from '../transport/deadline.js';
import { resolveTarget } from '../transport/dns.js';
import { createReachConnector, type ReachConnector } from '../transport/reach.js';
import { connectTcp } from '../transport/tcp.js';
import { probeReach } from './reach.js';
import { beginObservation, DEFAULT_REQUESTED, endObservation, internalError } from './record.js';
import { mark, type StepContext } from './context.js';
import { credsspStep, type Credentials } from './steps/credssp.js';
import { encryptionMethods, mcsExchange } from './steps/mcs.js';
import { negotiate, type Negotiated } from './steps/negotiate.js';
import { assertNever, extendedClientDataSupported, usesTls } from '../observation/vocab.js';
import { tlsStep, tlsVersions } from './steps/tls.js';
import { parseHostPort } from './target.js';

export type Depth = 'reach' | 'negotiate' | 'full';

export interface ProbeOptions {
  /** Port when the target names none (default 3389). */
  port?: number;
  /** Probe this address instead of resolving the host (scan uses it). */
  address?: string;
  /** reach: DNS + TCP; negotiate: + one X.224 exchange; full: everything (default). */
  depth?: Depth;
  /** Deadline for the whole probe (default 30 s). */
  timeoutMs?: number;
  /** Deadline for each phase: one read, one handshake (default 5 s). */
  phaseTimeoutMs?: number;
  /** TCP connect deadline (default: the phase deadline, at most 3 s — three SYNs on Linux' 1 s retransmission schedule). */
  connectTimeoutMs?: number;
  /** `Cookie: mstshash=<cookie>` in the Connection Request; null/undefined = omitted (default). */
  cookie?: string | null;
  /** Send rdpCorrelationInfo (MS-RDPBCGR 2.2.1.1.2) with a random id, as mstsc does (default off). */
  correlationId?: boolean;
  /** What the main connection offers (default SSL|HYBRID|HYBRID_EX, what a current Windows client offers). */
  requested?: ProtocolName[];
  /** Per-protocol enumeration, TLS version enumeration, CredSSP, MCS, encryption-method enumeration (default on). */
  enumerate?: boolean;
  tlsVersions?: boolean;
  credssp?: boolean;
  mcs?: boolean;
  encryptionMethods?: boolean;
  /** Credentials for a full NTLM authentication over CredSSP. The password never leaves this process unsent. */
  credentials?: Credentials;
  /** Repeated TCP handshakes to measure loss and jitter (0 = off). */
  stability?: number;
  /** Concurrent connections for the opt-in burst test (0 = off). */
  burst?: number;
  /** Concurrent connections to one host (default 3; xrdp's listen backlog is 2). */
  parallel?: number;
  family?: 0 | 4 | 6;
  signal?: AbortSignal;
  /** Hooks for phases that live elsewhere (path MTU, UDP): called with the context after the TCP phases. */
  extraPhases?: ((obs: Observation, ctx: StepContext) => Promise<void>)[];
}

export { DEFAULT_REQUESTED };

let sharedNet: ReachConnector | undefined;
/** runProbe's reach connector: net.Socket (one probe needs no connect thread). */
const netConnector = () => (sharedNet ??= createReachConnector({ engine: 'net' }));

/**
 * Probe one RDP endpoint, phase by phase: dns → tcp → x224 → (protocol enumeration) → tls → credssp | mcs →
 * (TLS versions, encryption methods) → extra phases. Every phase has a deadline and the whole probe has one; every
 * refusal is recorded in the Observation. Never throws for anything the network does.
 */
export async function runProbe(target: string, opts: ProbeOptions = {}): Promise<Observation> {
  const hp = parseHostPort(target);
  const port = hp.port ?? opts.port ?? 3389;
  const depth = opts.depth ?? 'full';
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const phaseTimeoutMs = opts.phaseTimeoutMs ?? 5_000;
  const requested = opts.requested ?? DEFAULT_REQUESTED;
  if (depth === 'reach') {
    const connectTimeoutMs = opts.connectTimeoutMs ?? Math.min(phaseTimeoutMs, 3000);
    const t = { key: target, host: hp.host, port, address: opts.address, family: opts.family };
    return probeReach(t, { connectTimeoutMs, phaseTimeoutMs, timeoutMs, requested, cookie: opts.cookie ?? null, signal: opts.signal }, netConnector());
  }
  const started = performance.now();
  const abort = new AbortController();
  // The abort reason says which of the two ended the probe; steps report it as outcome 'aborted' (transport/deadline.ts).
  const timer = setTimeout(() => abort.abort(probeDeadlineReason(timeoutMs)), timeoutMs);
  const onOuterAbort = () => abort.abort(probeAbortedReason(started));
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });

  const obs = beginObservation({ target, host: hp.host, port, requested, cookie: opts.cookie ?? null, timeoutMs, phaseTimeoutMs });
  const limit = pLimit(Math.max(1, opts.parallel ?? 3));
  const ctx: StepContext = {
    address: '',
    port,
    host: hp.host,
    cookie: opts.cookie ?? null,
    correlationId: opts.correlationId ? correlationId() : undefined,
    connectTimeoutMs: opts.connectTimeoutMs ?? Math.min(phaseTimeoutMs, 3000),
    phaseTimeoutMs,
    signal: abort.signal,
    connections: 0,
    startedAt: started,
    timeline: obs.timeline,
    errors: obs.errors,
    limit: (fn) => limit(fn),
  };
  const phases = obs.options!.phases;

  try {
    // 1. DNS
    let t0 = performance.now();
    if (opts.address) {
      ctx.address = opts.address;
    } else {
      phases.push('dns');
      obs.dns = await resolveTarget(hp.host, { timeoutMs: phaseTimeoutMs, family: opts.family, signal: abort.signal });
      mark(ctx, 'dns', t0, obs.dns.outcome, obs.dns.addresses.map((a) => a.address).join(' '));
      if (!obs.dns.addresses.length) return obs;
      ctx.address = obs.dns.addresses[0].address;
    }
    obs.source.address = ctx.address;

    // 2. TCP + 3. X.224 on the same connection (depth reach went through probeReach above)
    t0 = performance.now();
    phases.push('tcp');
    phases.push('x224');
    const main = await negotiate(ctx, requested);
    obs.tcp = main.tcp;
    mark(ctx, 'tcp', t0, main.tcp.outcome, main.tcp.errno, main.tcp.ms);
    if (!main.x224) return obs;
    obs.x224 = main.x224;
    mark(ctx, 'x224', t0 + main.tcp.ms, main.x224.outcome, main.x224.selected ?? main.x224.failure?.name ?? main.x224.detail, main.x224.ms);
    if (depth === 'negotiate') {
      main.conn?.destroy();
      return obs;
    }

    // 4. In parallel: the main connection goes on (TLS → CredSSP or MCS), and one connection per protocol.
    //    TLS versions start as soon as the main connection's TLS handshake has shown that TLS works.
    const enumeration = opts.enumerate === false ? Promise.resolve(undefined) : (phases.push('protocols'), enumerate(ctx));
    let versions: Promise<void> | undefined;
    const runVersions = (offer: ProtocolName[]) => {
      phases.push('tls-versions');
      const t = performance.now();
      versions = tlsVersions(ctx, offer).then((v) => {
        obs.tls!.versions = v;
        mark(ctx, 'tls-versions', t, undefined, Object.entries(v).map(([k, r]) => `${k}:${r.outcome}`).join(' '));
      });
    };
    const mainLine = continueMain(ctx, obs, main, opts, () => {
      if (opts.tlsVersions !== false) runVersions(requested);
    });
    const [protocols] = await Promise.all([enumeration, mainLine]);
    if (protocols) {
      obs.protocols = protocols;
      obs.security = deriveSecurity(protocols);
    }

    // 5. Dependent connections: TLS versions, MCS inside TLS when the main line could not, NTLM info when the main
    //    connection selected SSL, encryption methods when Standard RDP Security is allowed.
    const extra: Promise<void>[] = [];
    const tlsOffer = tlsCapableOffer(obs, requested);
    if (!versions && opts.tlsVersions !== false && tlsOffer && obs.tls?.outcome === 'ok') runVersions(tlsOffer);
    if (versions) extra.push(versions);
    // A main TLS handshake that stalled or failed would do the same on another connection: do not repeat it.
    const tlsUsable = !obs.tls || obs.tls.outcome === 'ok';
    if (opts.mcs !== false && !obs.mcs && tlsUsable && protocols?.SSL?.outcome === 'accepted') {
      phases.push('mcs');
      extra.push(ctx.limit(() => mcsOverSsl(ctx, obs)));
    }
    if (opts.credssp !== false && !obs.credssp && tlsUsable && (protocols?.HYBRID?.outcome === 'accepted' || protocols?.HYBRID_EX?.outcome === 'accepted')) {
      phases.push('credssp');
      extra.push(ctx.limit(() => credsspOnOwnConnection(ctx, obs, opts)));
    }
    const rdpAllowed = protocols?.RDP?.outcome === 'accepted' || protocols?.RDP?.outcome === 'legacy' || obs.x224.outcome === 'legacy';
    if (opts.encryptionMethods !== false && opts.mcs !== false && rdpAllowed) {
      phases.push('encryption-methods');
      extra.push(
        (async () => {
          const t = performance.now();
          const legacy = protocols?.RDP?.outcome === 'legacy' || obs.x224!.outcome === 'legacy';
          const methods = await encryptionMethods(ctx, legacy ? [] : ['RDP']);
          if (!obs.mcs) await ctx.limit(() => mcsPlain(ctx, obs, legacy));
          if (obs.mcs) obs.mcs.encryptionMethods = methods;
          mark(ctx, 'encryption-methods', t, undefined, JSON.stringify(methods));
        })(),
      );
    }
    await Promise.all(extra);

    // 6. Measurements that do not depend on RDP: repeated handshakes, burst, path phases.
    if (opts.stability && opts.stability > 0) {
      phases.push('stability');
      const t = performance.now();
      obs.stability = await stability(ctx, opts.stability);
      mark(ctx, 'stability', t, `${obs.stability.ok}/${obs.stability.samples}`);
    }
    if (opts.burst && opts.burst > 0) {
      phases.push('burst');
      const t = performance.now();
      obs.burst = await burst(ctx, Math.min(opts.burst, 200));
      mark(ctx, 'burst', t, `${obs.burst.negotiated}/${obs.burst.connections}`);
    }
    for (const phase of opts.extraPhases ?? []) await phase(obs, ctx);
    return obs;
  } catch (e) {
    internalError(obs, 'probe', e);
    return obs;
  } finally {
    const aborted = opts.signal?.aborted === true;
    endObservation(obs, {
      connections: ctx.connections,
      started,
      aborted,
      abortMessage: aborted ? (abort.signal.reason as Error | undefined)?.message : undefined,
      deadlineMs: abort.signal.aborted && !aborted ? timeoutMs : undefined,
    });
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onOuterAbort);
  }
}

/** TLS on the main connection, then CredSSP (HYBRID/HYBRID_EX) or MCS (SSL / Standard RDP Security). */
async function continueMain(ctx: StepContext, obs: Observation, main: Negotiated, opts: ProbeOptions, onTlsOk: () => void): Promise<void> {
  const x = main.x224!;
  if (!main.conn) return;
  if (x.outcome === 'legacy' || (x.outcome === 'selected' && x.selectedMask === 0)) {
    if (opts.mcs === false) return main.conn.destroy();
    const t = performance.now();
    obs.options!.phases.push('mcs');
    obs.mcs = await mcsExchange(ctx, main.socket!, main.conn, { via: 'plain', selectedProtocol: 0, extendedClientData: extendedClientDataSupported(x.flags) });
    mark(ctx, 'mcs', t, obs.mcs.outcome, obs.mcs.rdpVersion?.name);
    return;
  }
  if (!usesTls(x.selected)) {
    main.conn.destroy();
    return;
  }
  const t = performance.now();
  obs.options!.phases.push('tls');
  const r = await tlsStep(ctx, main);
  obs.tls = r.tls;
  mark(ctx, 'tls', t, r.tls.outcome, r.tls.version ?? r.tls.error);
  if (!r.socket) return;
  onTlsOk();
  if ((x.selected === 'HYBRID' || x.selected === 'HYBRID_EX') && opts.credssp !== false) {
    const t2 = performance.now();
    obs.options!.phases.push('credssp');
    obs.credssp = await credsspStep(ctx, r.socket, r.certificateDer, { credentials: opts.credentials, hybridEx: x.selected === 'HYBRID_EX' });
    mark(ctx, 'credssp', t2, obs.credssp.outcome, obs.credssp.errorCode?.name ?? obs.credssp.auth?.outcome ?? obs.credssp.detail);
    return;
  }
  if (x.selected === 'SSL' && opts.mcs !== false) {
    const t2 = performance.now();
    obs.options!.phases.push('mcs');
    obs.mcs = await mcsExchange(ctx, r.socket, undefined, { via: 'tls', selectedProtocol: x.selectedMask!, extendedClientData: extendedClientDataSupported(x.flags) });
    mark(ctx, 'mcs', t2, obs.mcs.outcome, obs.mcs.rdpVersion?.name);
    return;
  }
  r.socket.destroy();
}

/** One connection per protocol (MS-RDPBCGR 2.2.1.1.1), each requesting exactly that one. */
async function enumerate(ctx: StepContext): Promise<ProtocolEnumeration> {
  const t = performance.now();
  const out: ProtocolEnumeration = {};
  await Promise.all(
    PROTOCOL_NAMES.map((p) =>
      ctx.limit(async () => {
        const n = await negotiate(ctx, [p]);
        n.conn?.destroy();
        out[p] = toProtocolResult(p, n);
      }),
    ),
  );
  mark(ctx, 'protocols', t, undefined, PROTOCOL_NAMES.map((p) => `${p}:${out[p]?.outcome}`).join(' '));
  // keep the canonical order in JSON
  return Object.fromEntries(PROTOCOL_NAMES.filter((p) => out[p]).map((p) => [p, out[p]])) as ProtocolEnumeration;
}

function toProtocolResult(p: ProtocolName, n: Negotiated): ProtocolResult {
  const x = n.x224;
  if (!x) return { outcome: 'no-answer', detail: `tcp ${n.tcp.outcome}${n.tcp.errno ? ` (${n.tcp.errno})` : ''}`, ms: n.tcp.ms };
  const base = { ms: x.ms };
  switch (x.outcome) {
    case 'selected':
      return x.selected === p
        ? { outcome: 'accepted', selected: x.selected, flags: x.flags, ...base }
        : { outcome: 'not-selected', selected: x.selected, flags: x.flags, ...base };
    case 'failure':
      return { outcome: 'failure', failure: x.failure, ...base };
    case 'legacy':
      return { outcome: 'legacy', detail: x.detail, ...base };
    case 'malformed':
      return { outcome: 'error', detail: x.detail, ...base };
    case 'closed':
      if (x.disconnect) return { outcome: 'refused', detail: x.detail, ...base };
      return { outcome: 'no-answer', detail: x.detail ?? x.outcome, ...base };
    case 'reset':
    case 'timeout':
    case 'aborted':
    case 'error':
      return { outcome: 'no-answer', detail: x.detail ?? x.outcome, ...base };
    default:
      return assertNever(x.outcome);
  }
}

/** The smallest offer that got TLS: the main offer if it did, otherwise the first enumerated protocol that did. */
function tlsCapableOffer(obs: Observation, requested: ProtocolName[]): ProtocolName[] | undefined {
  if (obs.x224?.outcome === 'selected' && usesTls(obs.x224.selected)) return requested;
  for (const p of ['SSL', 'HYBRID', 'HYBRID_EX'] as const) if (obs.protocols?.[p]?.outcome === 'accepted') return [p];
  return undefined;
}

async function mcsOverSsl(ctx: StepContext, obs: Observation): Promise<void> {
  const t = performance.now();
  const n = await negotiate(ctx, ['SSL']);
  if (!n.conn || n.x224?.selected !== 'SSL') return n.conn?.destroy();
  const r = await tlsStep(ctx, n);
  if (!r.socket) {
    obs.mcs = { outcome: 'skipped', via: 'tls', ms: 0, detail: `TLS on the SSL connection: ${r.tls.outcome}` };
    return;
  }
  obs.mcs = await mcsExchange(ctx, r.socket, undefined, { via: 'tls', selectedProtocol: 1, extendedClientData: extendedClientDataSupported(n.x224.flags) });
  mark(ctx, 'mcs', t, obs.mcs.outcome, obs.mcs.rdpVersion?.name);
}

async function mcsPlain(ctx: StepContext, obs: Observation, legacy: boolean): Promise<void> {
  const t = performance.now();
  const n = await negotiate(ctx, legacy ? [] : ['RDP'], { negReq: !legacy });
  if (!n.conn) return;
  const m: McsObservation = await mcsExchange(ctx, n.socket!, n.conn, {
    via: 'plain',
    selectedProtocol: 0,
    extendedClientData: extendedClientDataSupported(n.x224?.flags),
  });
  obs.mcs = m;
  mark(ctx, 'mcs', t, m.outcome, m.rdpVersion?.name);
}

async function credsspOnOwnConnection(ctx: StepContext, obs: Observation, opts: ProbeOptions): Promise<void> {
  const t = performance.now();
  const offer: ProtocolName[] = obs.protocols?.HYBRID_EX?.outcome === 'accepted' ? ['HYBRID', 'HYBRID_EX'] : ['HYBRID'];
  const n = await negotiate(ctx, offer);
  if (!n.conn || !(n.x224?.selected === 'HYBRID' || n.x224?.selected === 'HYBRID_EX')) return n.conn?.destroy();
  const r = await tlsStep(ctx, n);
  if (!r.socket) return;
  obs.credssp = await credsspStep(ctx, r.socket, r.certificateDer, { credentials: opts.credentials, hybridEx: n.x224.selected === 'HYBRID_EX' });
  mark(ctx, 'credssp', t, obs.credssp.outcome);
}

/** Repeated TCP handshakes, 100 ms apart: loss and RTT spread of the path to the RDP port. */
async function stability(ctx: StepContext, samples: number): Promise<StabilityObservation> {
  const rtts: number[] = [];
  let lost = 0;
  for (let i = 0; i < samples && !ctx.signal.aborted; i++) {
    ctx.connections++;
    const t = await connectTcp(ctx.address, ctx.port, { timeoutMs: Math.min(ctx.connectTimeoutMs, 3000), signal: ctx.signal });
    t.socket?.destroy();
    if (t.outcome === 'open') rtts.push(t.ms);
    else lost++;
    if (i + 1 < samples) await new Promise((r) => setTimeout(r, 100));
  }
  const n = rtts.length || 1;
  const avg = rtts.reduce((a, b) => a + b, 0) / n;
  let jitter = 0;
  for (let i = 1; i < rtts.length; i++) jitter += Math.abs(rtts[i] - rtts[i - 1]);
  const r1 = (x: number) => Math.round(x * 10) / 10;
  return {
    samples,
    ok: rtts.length,
    lost,
    rttMs: { min: r1(rtts.length ? Math.min(...rtts) : 0), avg: r1(avg), max: r1(rtts.length ? Math.max(...rtts) : 0), jitter: r1(rtts.length > 1 ? jitter / (rtts.length - 1) : 0) },
  };
}

/**
 * Opt-in burst: N connections at once, each doing one X.224 exchange. A server that accepts the first few and then
 * resets or ignores the rest is near its pending-connection limit (MaxOutstandingConnections) or listen backlog.
 */
async function burst(ctx: StepContext, n: number): Promise<BurstObservation> {
  const out: BurstObservation = { connections: n, accepted: 0, refused: 0, reset: 0, timeout: 0, negotiated: 0 };
  const shortCtx: StepContext = { ...ctx, connectTimeoutMs: Math.min(ctx.connectTimeoutMs, 3000) };
  const results = await Promise.all(Array.from({ length: n }, () => negotiate(shortCtx, ['SSL', 'HYBRID'])));
  ctx.connections = shortCtx.connections;
  for (const r of results) {
    r.conn?.destroy();
    if (r.tcp.outcome === 'open') out.accepted++;
    else if (r.tcp.outcome === 'refused') out.refused++;
    else if (r.tcp.outcome === 'filtered') out.timeout++;
    if (r.x224?.outcome === 'selected' || r.x224?.outcome === 'failure' || r.x224?.outcome === 'legacy') out.negotiated++;
    else if (r.x224?.outcome === 'reset' || r.x224?.outcome === 'closed') out.reset++;
    else if (r.x224?.outcome === 'timeout') out.timeout++;
  }
  return out;
}

/** A correlation id for rdpCorrelationInfo (MS-RDPBCGR 2.2.1.1.2): first byte not 0x00/0xF4, no byte 0x0D. */
function correlationId(): Uint8Array {
  const b = randomBytes(16);
  if (b[0] === 0x00 || b[0] === 0xf4) b[0] = 0x42;
  for (let i = 0; i < 16; i++) if (b[i] === 0x0d) b[i] = 0x0e;
  return b;
}
