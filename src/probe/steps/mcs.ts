import type { Duplex } from 'node:stream';
import { encodeConnectInitial } from '../../codec/mcs.js';
import { TRANSPORTTYPE_UDPFECR, TRANSPORTTYPE_UDP_PREFERRED } from '../../codec/gcc/constants.js';
import type { McsObservation } from '../../observation/types.js';
import {
  ALL_ENCRYPTION_METHODS,
  ENCRYPTION_METHODS,
  ENCRYPTION_METHOD_BITS,
  extendedClientDataSupported,
  type ProtocolName,
} from '../../observation/vocab.js';
import { Conn, tpktFrame } from '../../transport/conn.js';
import type { StepContext } from '../context.js';
import { applyConnectResponse } from '../../record/mcs.js';
import { negotiate } from './negotiate.js';

/** Multitransport flags we advertise in CS_MULTITRANSPORT (MS-RDPBCGR 2.2.1.3.8): UDPFECR | UDP_PREFERRED, like mstsc. */
const CLIENT_MULTITRANSPORT = TRANSPORTTYPE_UDPFECR | TRANSPORTTYPE_UDP_PREFERRED;

/**
 * Basic Settings Exchange (MS-RDPBCGR 1.3.1.1): MCS Connect-Initial with GCC client data, read the Connect-Response
 * and its server data blocks. Runs on a plain socket (Standard RDP Security) or inside TLS (SSL selected).
 */
export async function mcsExchange(
  ctx: StepContext,
  stream: Duplex,
  conn: Conn | undefined,
  opts: { via: 'plain' | 'tls'; selectedProtocol: number; extendedClientData: boolean; encryptionMethods?: number },
): Promise<McsObservation> {
  const started = performance.now();
  const c = conn ?? new Conn(stream);
  const obs: McsObservation = { outcome: 'timeout', via: opts.via, ms: 0 };
  c.write(
    encodeConnectInitial({
      selectedProtocol: opts.selectedProtocol,
      encryptionMethods: opts.encryptionMethods ?? ALL_ENCRYPTION_METHODS,
      extendedClientData: opts.extendedClientData,
      multitransportFlags: CLIENT_MULTITRANSPORT,
      clientName: 'rdprobe',
    }),
  );
  const r = await c.read(tpktFrame(65535), ctx.phaseTimeoutMs, ctx.signal);
  obs.ms = Math.round((performance.now() - started) * 10) / 10;
  if (r.kind !== 'data') {
    obs.outcome = r.kind === 'overflow' ? 'malformed' : r.kind;
    obs.detail =
      r.kind === 'closed'
        ? 'server closed the connection after the MCS Connect-Initial'
        : r.kind === 'reset'
          ? `connection reset (${r.errno}) after the MCS Connect-Initial`
          : r.kind === 'timeout'
            ? `no MCS Connect-Response within ${ctx.phaseTimeoutMs} ms`
            : r.kind === 'aborted'
              ? r.detail
              : r.kind === 'malformed'
                ? r.error.message
                : 'answer larger than the read buffer';
    c.destroy();
    return obs;
  }
  applyConnectResponse(obs, r.bytes);
  c.destroy();
  return obs;
}

/**
 * Which Standard RDP Security encryption methods the server accepts: one connection per method offered alone
 * (as nmap's rdp-enum-encryption and rdp-sec-check do). Accepted only when the server's SC_SECURITY
 * encryptionMethod equals the method offered; xrdp, for one, ignores the offer and always answers 128-bit.
 */
export async function encryptionMethods(ctx: StepContext, requested: ProtocolName[]): Promise<McsObservation['encryptionMethods']> {
  const out: NonNullable<McsObservation['encryptionMethods']> = {};
  await Promise.all(
    ENCRYPTION_METHODS.map((name) =>
      ctx.limit(async () => {
        const n = await negotiate(ctx, requested, { negReq: requested.length > 0 });
        if (!n.conn || (n.x224?.outcome === 'selected' && n.x224.selectedMask !== 0)) {
          n.conn?.destroy();
          out[name] = 'no-answer';
          return;
        }
        const m = await mcsExchange(ctx, n.socket!, n.conn, {
          via: 'plain',
          selectedProtocol: 0,
          extendedClientData: extendedClientDataSupported(n.x224?.flags),
          encryptionMethods: ENCRYPTION_METHOD_BITS[name],
        });
        if (m.outcome !== 'ok') out[name] = m.outcome === 'rejected' ? 'rejected' : 'no-answer';
        else out[name] = m.encryptionMethod?.value === ENCRYPTION_METHOD_BITS[name] ? 'accepted' : 'rejected';
      }),
    ),
  );
  return out;
}
