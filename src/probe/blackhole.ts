/**
 * PMTU black-hole confirmation on the RDP connection itself.
 *
 * Signature (PROTOCOL-NOTES §5.5): the TCP handshake and X.224 (small segments) succeed, then the server's TLS flight
 * (certificate: often > 1400 bytes) never arrives because full-size segments are dropped on the way back and no
 * ICMP frag-needed reaches the server. Repeating the same handshake with a clamped MSS (TCP_MAXSEG before connect:
 * the server then sends segments of at most MSS + 40 bytes) proves it: a stall at the default MSS and success when
 * clamped can only be the size of the server→client packets. A binary search between the largest MSS that passed
 * and the smallest that stalled bounds the black hole (path MTU = passing MSS + 40 for IPv4).
 *
 * `confirmBlackhole` is the orchestrator: the handshake is injected (the probe's real TLS handshake, a fake in unit
 * tests). `x224TlsHandshake` is the probe's own X.224 exchange (steps/negotiate.ts, with its connect hook for the
 * clamped connection) followed by a TLS upgrade, for `rdprobe path`, the pmtu phase and the lab. Network outcomes
 * are data (`failure`), never exceptions.
 */
import net from 'node:net';
import { PROTOCOL_SSL, protocolNames } from '../codec/x224.js';
import type { PmtuObservation } from '../observation/types.js';
import { connectWithMss } from '../transport/mss.js';
import { classifyConnectError, type TcpConnectResult } from '../transport/tcp.js';
import { tlsUpgrade } from '../transport/tls.js';
import type { StepContext } from './context.js';
import { usesTls } from '../observation/vocab.js';
import { negotiate } from './steps/negotiate.js';

export interface HandshakeResult {
  /** The server's flight did not arrive before the handshake's own stall deadline. */
  stalled: boolean;
  /** Bytes of the server's flight that did arrive. */
  bytesReceived: number;
  ms: number;
  /** The host did not get as far as TLS (refused, negotiation failure, no TLS selected …): why, as text. */
  failure?: string;
}

/** One complete attempt (fresh TCP connection). `mss` undefined = the system default (no clamp). */
export type Handshake = (mss?: number) => Promise<HandshakeResult>;

export type MssClampResult = NonNullable<PmtuObservation['mssClamp']>;

export interface MssAttempt {
  mss?: number;
  stalled: boolean;
  bytesReceived: number;
  ms: number;
  /** The handshake failed before TLS, or threw (counted as not passing). */
  error?: string;
}

/** The confirmation could not run: the default handshake did not get as far as TLS. */
export interface ClampNotPossible {
  notPossible: string;
}

export interface ConfirmOptions {
  /** MSS a default connection advertises (interface MTU − 40 for IPv4): the upper end of the search. Default 1460. */
  defaultMss?: number;
  /** First clamp to try (default 1360: fits a 1400-byte path, the commonest VPN/tunnel size). */
  firstClamp?: number;
  /** Smaller clamps to try when the first one stalls too (default 1200, 1000, 536). */
  fallbacks?: number[];
  /** Stop the search when stalls − passes ≤ precision (default 16). */
  precision?: number;
  /** Handshakes in total, the default one included (default 8). Each stalled one costs its stall deadline. */
  maxHandshakes?: number;
  signal?: AbortSignal;
  onAttempt?: (a: MssAttempt) => void;
}

/**
 * Default handshake → if it stalls, clamp (1360, then smaller) → binary search. A default handshake that fails
 * (refused, no TLS …: `failure`, or a throw) means the confirmation cannot run: `{ notPossible }`. A clamped one that
 * fails counts as not passing.
 */
export async function confirmBlackhole(handshake: Handshake, opts: ConfirmOptions = {}): Promise<MssClampResult | ClampNotPossible> {
  const defaultMss = opts.defaultMss ?? 1460;
  const precision = Math.max(1, opts.precision ?? 16);
  const maxHandshakes = Math.max(2, opts.maxHandshakes ?? 8);
  const clamps = [opts.firstClamp ?? 1360, ...(opts.fallbacks ?? [1200, 1000, 536])];
  let count = 0;

  let firstFailure: string | undefined;
  const attempt = async (mss: number | undefined): Promise<boolean> => {
    count++;
    let a: MssAttempt;
    try {
      const r = await handshake(mss);
      a = r.failure !== undefined ? { mss, stalled: true, bytesReceived: r.bytesReceived, ms: r.ms, error: r.failure } : { mss, stalled: r.stalled, bytesReceived: r.bytesReceived, ms: r.ms };
    } catch (e) {
      a = { mss, stalled: true, bytesReceived: 0, ms: 0, error: (e as Error).message };
    }
    if (mss === undefined && a.error !== undefined) {
      firstFailure = a.error;
      return false;
    }
    opts.onAttempt?.(a);
    return !a.stalled;
  };
  const budgetLeft = () => count < maxHandshakes && !opts.signal?.aborted;

  if (await attempt(undefined)) return { defaultStalled: false };
  if (firstFailure !== undefined) return { notPossible: firstFailure };

  let stalls = defaultMss;
  let passes: number | undefined;
  let lastTried: number | undefined;
  for (const c of clamps) {
    if (c >= stalls || !budgetLeft()) continue;
    lastTried = c;
    if (await attempt(c)) {
      passes = c;
      break;
    }
    stalls = c;
  }
  if (passes === undefined) {
    // Even small segments stall: not a PMTU problem (or not one this can bound).
    const r: MssClampResult = { defaultStalled: true, clampedOk: false };
    if (lastTried !== undefined) r.clampedMss = lastTried;
    return r;
  }
  while (stalls - passes > precision && budgetLeft()) {
    const mid = Math.floor((passes + stalls) / 2);
    if (await attempt(mid)) passes = mid;
    else stalls = mid;
  }
  return { defaultStalled: true, clampedMss: passes, clampedOk: true, bound: { passes, stalls } };
}

export interface X224TlsHandshakeOptions {
  /** requestedProtocols of the Connection Request (default PROTOCOL_SSL); any protocol that runs TLS is accepted. */
  requested?: number;
  /** Called once per TCP connection opened (the probe counts its connections). */
  onConnect?: () => void;
  /** TCP connect deadline (default 3000 ms). */
  connectTimeoutMs?: number;
  /** Deadline for the X.224 Connection Confirm (default 3000 ms). */
  x224TimeoutMs?: number;
  /** The TLS server flight must complete within this (default 3000 ms), else `stalled`. A function is asked
   * before every attempt (callers shorten it once a clamped handshake showed how long a good one takes). */
  stallMs?: number | (() => number);
  signal?: AbortSignal;
}

/**
 * The RDP handshake for the confirmation: TCP connect (with TCP_MAXSEG before connect when mss is given: the connect
 * hook of negotiate()), the probe's own X.224 exchange asking for TLS (PROTOCOL_SSL by default, MS-RDPBCGR
 * 2.2.1.1.1), then the TLS handshake with node:tls (any certificate, TLS 1.0+). A host that cannot get as far as
 * TLS (refused, negotiation failure, no TLS selected) gives `failure`: then the stall question does not arise.
 */
export function x224TlsHandshake(address: string, port: number, opts: X224TlsHandshakeOptions = {}): Handshake {
  const connectTimeoutMs = opts.connectTimeoutMs ?? 3000;
  const x224TimeoutMs = opts.x224TimeoutMs ?? 3000;
  const stallMs = typeof opts.stallMs === 'function' ? opts.stallMs : () => (opts.stallMs as number | undefined) ?? 3000;
  if (!net.isIP(address)) throw new RangeError(`x224TlsHandshake: '${address}' is not an IP address`);
  const requested = protocolNames(opts.requested ?? PROTOCOL_SSL);
  const signal = opts.signal ?? new AbortController().signal;
  return async (mss?: number) => {
    const started = performance.now();
    const ms = () => Math.round((performance.now() - started) * 10) / 10;
    opts.onConnect?.();
    const ctx: StepContext = {
      address,
      port,
      host: address,
      cookie: null,
      connectTimeoutMs,
      phaseTimeoutMs: x224TimeoutMs,
      signal,
      connections: 0,
      startedAt: started,
      timeline: [],
      errors: [],
      limit: (fn) => fn(),
    };
    const connect = mss === undefined ? undefined : () => clampedConnect(address, port, mss, connectTimeoutMs, signal);
    const n = await negotiate(ctx, requested, { connect });
    if (n.tcp.outcome !== 'open') return { stalled: false, bytesReceived: 0, ms: ms(), failure: `TCP ${n.tcp.outcome}${n.tcp.errno ? ` (${n.tcp.errno})` : ''}` };
    const x = n.x224;
    // MS-RDPBCGR 5.4.5: SSL, HYBRID, HYBRID_EX, RDSTLS and RDSAAD all start TLS after the Confirm
    if (!x || x.outcome !== 'selected' || !usesTls(x.selected) || !n.conn || !n.socket) {
      n.conn?.destroy();
      const why =
        x?.outcome === 'failure'
          ? `RDP_NEG_FAILURE ${x.failure?.value}`
          : x?.outcome === 'selected'
            ? `selected ${x.selected}`
            : x?.outcome === 'legacy'
              ? 'legacy Connection Confirm'
              : `${x?.outcome ?? 'no answer'}${x?.detail ? `: ${x.detail}` : ''}`;
      return { stalled: false, bytesReceived: x?.bytesReceived ?? 0, ms: ms(), failure: `X.224: the server did not select TLS (${why})` };
    }
    const socket = n.socket;
    try {
      n.conn.detach();
      const t = await tlsUpgrade(socket, { timeoutMs: stallMs(), signal });
      t.socket?.destroy();
      return { stalled: t.outcome === 'stalled', bytesReceived: t.bytesReceived, ms: ms() };
    } finally {
      socket.destroy();
    }
  };
}

/** A connect with TCP_MAXSEG set before it (transport/mss.ts), as a connect result: failures are data. */
async function clampedConnect(address: string, port: number, mss: number, timeoutMs: number, signal: AbortSignal): Promise<TcpConnectResult> {
  const started = performance.now();
  const ms = () => Math.round((performance.now() - started) * 10) / 10;
  try {
    const socket = await connectWithMss(address, port, mss, { timeoutMs, signal });
    return { outcome: 'open', ms: ms(), socket, localAddress: socket.localAddress, localPort: socket.localPort };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const errno = err.code === 'ABORT_ERR' ? 'ABORTED' : err.code;
    return { outcome: classifyConnectError(errno), ms: ms(), errno, message: err.message };
  }
}

export interface ConfirmOnRdpOptions {
  requested?: number;
  /** Upper bound of a stall (ms). Once a clamped handshake completed, a stall is anything 10× slower than it. */
  stallMs: number;
  connectTimeoutMs?: number;
  signal?: AbortSignal;
  onAttempt?: (a: MssAttempt) => void;
  onConnect?: () => void;
}

/**
 * The confirmation as `rdprobe path` and the probe's pmtu phase run it: the real X.224 + TLS handshake at the default
 * MSS and clamped, with an adaptive stall deadline, recording the result in `pmtu.mssClamp` and keeping the smaller of
 * the DF-probe and handshake answers as the recommendation (the handshake measures the server→client direction).
 */
export async function confirmOnRdp(address: string, port: number, pmtu: PmtuObservation, opts: ConfirmOnRdpOptions): Promise<MssClampResult | ClampNotPossible> {
  const overhead = address.includes(':') ? 60 : 40;
  let stall = opts.stallMs;
  const clamp = await confirmBlackhole(
    x224TlsHandshake(address, port, { requested: opts.requested, stallMs: () => stall, connectTimeoutMs: opts.connectTimeoutMs, signal: opts.signal, onConnect: opts.onConnect }),
    {
      defaultMss: (pmtu.localMtu ?? 1500) - overhead,
      signal: opts.signal,
      onAttempt: (a) => {
        if (a.mss !== undefined && !a.stalled && !a.error) stall = Math.min(opts.stallMs, Math.max(1000, Math.round(10 * a.ms)));
        opts.onAttempt?.(a);
      },
    },
  );
  if ('notPossible' in clamp) return clamp;
  pmtu.mssClamp = clamp;
  if (clamp.defaultStalled && clamp.clampedOk && clamp.bound) {
    const fromMss = clamp.bound.passes + overhead;
    if (pmtu.recommendedMtu === undefined || fromMss < pmtu.recommendedMtu) {
      pmtu.recommendedMtu = fromMss;
      pmtu.recommendedMss = clamp.bound.passes;
    }
  }
  return clamp;
}
