import type net from 'node:net';
import { encodeConnectionRequest, protocolMask } from '../../codec/x224.js';
import type { TcpObservation, X224Observation } from '../../observation/types.js';
import { assertNever, type ProtocolName } from '../../observation/vocab.js';
import { Conn, tpktFrame } from '../../transport/conn.js';
import { connectTcp, type TcpConnectResult } from '../../transport/tcp.js';
import { applyConfirm } from '../../record/x224.js';
import type { StepContext } from '../context.js';

export interface Negotiated {
  tcp: TcpObservation;
  x224?: X224Observation;
  /** Open connection when X.224 selected a protocol or answered with a legacy CC; the caller owns it. */
  conn?: Conn;
  socket?: net.Socket;
}

/**
 * One TCP connection and one X.224 exchange (MS-RDPBCGR 1.3.1.1 Connection Initiation): send a Connection Request
 * offering `requested`, read one TPKT, decode the Confirm. The server's answer is the observation; nothing here
 * throws on a refusal.
 */
export async function negotiate(
  ctx: StepContext,
  requested: ProtocolName[],
  opts: { negReq?: boolean; connect?: () => Promise<TcpConnectResult> } = {},
): Promise<Negotiated> {
  const { address, port } = ctx;
  ctx.connections++;
  const t = opts.connect ? await opts.connect() : await connectTcp(address, port, { timeoutMs: ctx.connectTimeoutMs, signal: ctx.signal });
  const tcp: TcpObservation = { outcome: t.outcome, ms: t.ms, address, port };
  if (t.errno) tcp.errno = t.errno;
  if (t.message && t.outcome !== 'open') tcp.message = t.message;
  if (t.localAddress) (tcp.localAddress = t.localAddress), (tcp.localPort = t.localPort);
  if (t.outcome !== 'open' || !t.socket) return { tcp };

  const socket = t.socket;
  const conn = new Conn(socket);
  const mask = protocolMask(requested);
  const started = performance.now();
  const x224: X224Observation = { requested, requestedMask: mask, outcome: 'timeout', ms: 0 };
  conn.write(
    encodeConnectionRequest({
      cookie: ctx.cookie ?? null,
      negReq: opts.negReq ?? true,
      requestedProtocols: mask,
      correlationId: ctx.correlationId,
    }),
  );
  const r = await conn.read(tpktFrame(), ctx.phaseTimeoutMs, ctx.signal);
  x224.ms = Math.round((performance.now() - started) * 10) / 10;
  switch (r.kind) {
    case 'data':
      applyConfirm(x224, r.bytes);
      break;
    case 'closed':
      x224.outcome = 'closed';
      x224.bytesReceived = r.buffered;
      x224.detail = r.buffered ? `connection closed after ${r.buffered} byte(s) of a partial PDU` : 'connection closed (FIN) without an answer';
      break;
    case 'reset':
      x224.outcome = 'reset';
      x224.bytesReceived = r.buffered;
      x224.detail = `connection reset (${r.errno}) after the Connection Request`;
      break;
    case 'timeout':
      x224.outcome = 'timeout';
      x224.bytesReceived = r.buffered;
      x224.detail = r.buffered
        ? `only ${r.buffered} byte(s) of the Connection Confirm within ${ctx.phaseTimeoutMs} ms`
        : `no answer to the Connection Request within ${ctx.phaseTimeoutMs} ms`;
      break;
    case 'aborted':
      x224.outcome = 'aborted';
      x224.bytesReceived = r.buffered;
      x224.detail = r.detail;
      break;
    case 'malformed':
    case 'overflow':
      x224.outcome = 'malformed';
      x224.bytesReceived = r.buffered;
      x224.detail = r.kind === 'malformed' ? r.error.message : 'answer larger than the read buffer';
      break;
    default:
      assertNever(r, 'read result');
  }
  if (x224.outcome === 'selected' || x224.outcome === 'legacy') return { tcp, x224, conn, socket };
  conn.destroy();
  return { tcp, x224 };
}
