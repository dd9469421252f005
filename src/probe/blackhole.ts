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
 * tests). `x224TlsHandshake` is a minimal stand-alone handshake for `rdprobe path` and the lab.
 */
import net from 'node:net';
import { encodeConnectionRequest, decodeConnectionConfirm, PROTOCOL_RDP, PROTOCOL_SSL } from '../codec/x224.js';
import type { PmtuObservation } from '../observation/types.js';
import { Conn, tpktFrame } from '../transport/conn.js';
import { connectWithMss } from '../transport/mss.js';
import { connectTcp } from '../transport/tcp.js';
import { tlsUpgrade } from '../transport/tls.js';

export interface HandshakeResult {
  /** The server's flight did not arrive before the handshake's own stall deadline. */
  stalled: boolean;
  /** Bytes of the server's flight that did arrive. */
  bytesReceived: number;
  ms: number;
}

/** One complete attempt (fresh TCP connection). `mss` undefined = the system default (no clamp). */
export type Handshake = (mss?: number) => Promise<HandshakeResult>;

export type MssClampResult = NonNullable<PmtuObservation['mssClamp']>;

export interface MssAttempt {
  mss?: number;
  stalled: boolean;
  bytesReceived: number;
  ms: number;
  /** The handshake threw (counted as not passing). */
  error?: string;
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
 * Default handshake → if it stalls, clamp (1360, then smaller) → binary search. A default handshake that throws
 * (refused, no TLS …) propagates: the confirmation cannot run. A clamped one that throws counts as not passing.
 */
export async function confirmBlackhole(handshake: Handshake, opts: ConfirmOptions = {}): Promise<MssClampResult> {
  const defaultMss = opts.defaultMss ?? 1460;
  const precision = Math.max(1, opts.precision ?? 16);
  const maxHandshakes = Math.max(2, opts.maxHandshakes ?? 8);
  const clamps = [opts.firstClamp ?? 1360, ...(opts.fallbacks ?? [1200, 1000, 536])];
  let count = 0;

  const attempt = async (mss: number | undefined): Promise<boolean> => {
    count++;
    let a: MssAttempt;
    try {
      const r = await handshake(mss);
      a = { mss, stalled: r.stalled, bytesReceived: r.bytesReceived, ms: r.ms };
    } catch (e) {
      if (mss === undefined) throw e;
      a = { mss, stalled: true, bytesReceived: 0, ms: 0, error: (e as Error).message };
    }
    opts.onAttempt?.(a);
    return !a.stalled;
  };
  const budgetLeft = () => count < maxHandshakes && !opts.signal?.aborted;

  if (await attempt(undefined)) return { defaultStalled: false };

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
 * A minimal RDP handshake for the confirmation: TCP connect (with TCP_MAXSEG when mss is given), X.224 Connection
 * Request asking for TLS only (PROTOCOL_SSL, MS-RDPBCGR 2.2.1.1.1), Connection Confirm, then the TLS handshake with
 * node:tls (any certificate, TLS 1.0+). Throws when the host cannot get as far as TLS (refused, negotiation failure,
 * no TLS selected): then the stall question does not arise.
 */
export function x224TlsHandshake(address: string, port: number, opts: X224TlsHandshakeOptions = {}): Handshake {
  const connectTimeoutMs = opts.connectTimeoutMs ?? 3000;
  const x224TimeoutMs = opts.x224TimeoutMs ?? 3000;
  const stallMs = typeof opts.stallMs === 'function' ? opts.stallMs : () => (opts.stallMs as number | undefined) ?? 3000;
  if (!net.isIP(address)) throw new RangeError(`x224TlsHandshake: '${address}' is not an IP address`);
  // default 03 00 00 13 0e e0 00 00 00 00 00 01 00 08 00 01 00 00 00: TPKT + X.224 CR + RDP_NEG_REQ(PROTOCOL_SSL)
  const cr = encodeConnectionRequest({ requestedProtocols: opts.requested ?? PROTOCOL_SSL });
  return async (mss?: number) => {
    const started = performance.now();
    opts.onConnect?.();
    let socket: net.Socket;
    if (mss !== undefined) {
      socket = await connectWithMss(address, port, mss, { timeoutMs: connectTimeoutMs, signal: opts.signal });
    } else {
      const c = await connectTcp(address, port, { timeoutMs: connectTimeoutMs, signal: opts.signal });
      if (c.outcome !== 'open' || !c.socket) throw new Error(`TCP ${c.outcome}${c.errno ? ` (${c.errno})` : ''}`);
      socket = c.socket;
    }
    try {
      const conn = new Conn(socket, 4096);
      conn.write(cr);
      const r = await conn.read(tpktFrame(1024), x224TimeoutMs, opts.signal);
      if (r.kind !== 'data') throw new Error(`X.224: ${r.kind} before the Connection Confirm`);
      const cc = decodeConnectionConfirm(r.bytes);
      // MS-RDPBCGR 5.4.5: SSL, HYBRID, HYBRID_EX, RDSTLS and RDSAAD all start TLS after the Confirm
      if (cc.neg.kind !== 'response' || cc.neg.selectedProtocol === PROTOCOL_RDP) {
        throw new Error(`X.224: the server did not select TLS (${cc.neg.kind === 'failure' ? `RDP_NEG_FAILURE ${cc.neg.code}` : cc.neg.kind})`);
      }
      conn.detach();
      const t = await tlsUpgrade(socket, { timeoutMs: stallMs(), signal: opts.signal });
      t.socket?.destroy();
      return { stalled: t.outcome === 'stalled', bytesReceived: t.bytesReceived, ms: Math.round((performance.now() - started) * 10) / 10 };
    } finally {
      socket.destroy();
    }
  };
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
export async function confirmOnRdp(address: string, port: number, pmtu: PmtuObservation, opts: ConfirmOnRdpOptions): Promise<MssClampResult> {
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
