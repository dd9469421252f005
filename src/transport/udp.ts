/**
 * UDP transport reachability (MS-RDPEUDP): send the spec-compliant 1232-byte SYN to the RDP port and classify what
 * comes back.
 *   synack            a datagram whose snSourceAck equals our snInitialSequenceNumber with SYN and ACK set
 *                     (3.1.5.1.3); server MTUs, ISN and the negotiated version are recorded
 *   icmp-unreachable  an ICMP destination unreachable, its kind kept in `unreachable` (classifyUdpError):
 *                     port: host up, nothing listening on UDP. On a connected UDP socket Linux turns it into
 *                     ECONNREFUSED, which Node emits as an 'error' on the dgram socket (syscall recvmsg) — checked
 *                     against 127.0.0.1 in test/transport/udp.test.ts; host / net: EHOSTUNREACH / ENETUNREACH (an
 *                     ICMP host/net unreachable, or this host has no route / no ARP answer): the target or its network,
 *                     not the UDP port; prohibited: ICMP administratively prohibited (EACCES on receive)
 *   silent            nothing after every attempt: filtered, dropped, or a listener that ignores us
 *   local-error       this host refused to send: EPERM (a local firewall rule, e.g. an OUTPUT drop), EACCES (no
 *                     privilege, broadcast), EADDRNOTAVAIL; errno kept — nothing is known about the path
 *   aborted           the caller's signal (the whole probe) ended it
 *   error             anything else, with errno and a detail
 *
 * Reflection safety (CERT-EU 2021-005: Windows answered small spoofable probes with 1260-byte replies): we only ever
 * send the full 1232-byte SYN (never a short probe), retransmit it a bounded number of times, and space SYNs across
 * the whole process (`minGapMs`). Probing more than one host over UDP is for the caller to make opt-in.
 */
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import type { UdpObservation } from '../observation/types.js';
import {
  classifyRdpeudp,
  decodeRdpeudpSyn,
  encodeRdpeudpSyn,
  negotiatedVersion,
  RDPUDP_PROTOCOL_VERSION_2,
  type RdpeudpSyn,
} from '../codec/rdpeudp.js';
import { deadline } from './deadline.js';

export interface RdpeudpProbeOptions {
  /** Wait per attempt before retransmitting the SYN (default 1000 ms, 100..10000). */
  timeoutMs?: number;
  /** SYNs to send in total (default 3, 1..10). */
  attempts?: number;
  /** RDPUDP_CORRELATION_ID_PAYLOAD: 16 bytes / 32 hex digits, or true for a random spec-conforming id. */
  correlationId?: Uint8Array | string | boolean;
  /** uUdpVer offered in SYNDATAEX (default RDPUDP_PROTOCOL_VERSION_2; null: no SYNDATAEX). Version 3 needs a
   * cookie hash from the TCP-side Initiate Multitransport Request, which a standalone probe does not have. */
  version?: number | null;
  cookieHash?: Uint8Array | string;
  lossy?: boolean;
  /** Minimum spacing between any two SYNs sent by this process (default 20 ms). */
  minGapMs?: number;
  signal?: AbortSignal;
  /** Receives the decoded SYN+ACK (for callers that want more than the Observation fields). */
  onSynAck?: (synAck: RdpeudpSyn, from: { address: string; port: number }) => void;
}

let nextSendAt = 0;
async function paced(minGapMs: number): Promise<void> {
  const now = performance.now();
  const at = Math.max(now, nextSendAt);
  nextSendAt = at + minGapMs;
  if (at > now) await new Promise((r) => setTimeout(r, at - now));
}

/** 16 random bytes obeying 3.1.5.1.1 step 3: first byte not 0x00 / 0xF4, no byte 0x0D. */
export function randomCorrelationId(): Uint8Array {
  const b = crypto.randomBytes(16);
  for (let i = 0; i < 16; i++) {
    while (b[i] === 0x0d || (i === 0 && (b[i] === 0x00 || b[i] === 0xf4))) b[i] = crypto.randomBytes(1)[0];
  }
  return new Uint8Array(b);
}

function clampInt(v: number | undefined, dflt: number, min: number, max: number, what: string): number {
  const x = v ?? dflt;
  if (!Number.isFinite(x) || x < min || x > max) throw new RangeError(`${what} ${x} outside ${min}..${max}`);
  return Math.round(x);
}

export async function probeRdpeudp(address: string, port: number, opts: RdpeudpProbeOptions = {}): Promise<UdpObservation> {
  const family = net.isIP(address);
  if (family === 0) throw new RangeError(`probeRdpeudp: '${address}' is not an IP address`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`port ${port} outside 1..65535`);
  const timeoutMs = clampInt(opts.timeoutMs, 1000, 100, 10_000, 'timeoutMs');
  const attempts = clampInt(opts.attempts, 3, 1, 10, 'attempts');
  const minGapMs = clampInt(opts.minGapMs, 20, 0, 10_000, 'minGapMs');
  const isn = crypto.randomBytes(4).readUInt32BE(0);
  const correlationId = opts.correlationId === true ? randomCorrelationId() : opts.correlationId || undefined;
  const version = opts.version === null ? undefined : (opts.version ?? RDPUDP_PROTOCOL_VERSION_2);
  const syn = encodeRdpeudpSyn({ initialSequenceNumber: isn, correlationId, version, cookieHash: opts.cookieHash, lossy: opts.lossy });
  const sent = decodeRdpeudpSyn(syn);

  const socket = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
  const started = performance.now();
  const ms = () => Math.round((performance.now() - started) * 10) / 10;
  let sentCount = 0;
  let ignored = 0;
  const notes: string[] = [];

  try {
    return await new Promise<UdpObservation>((resolve) => {
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      // No overall timer: the attempts and their spacing bound the probe; the deadline carries the abort.
      const d = deadline({ signal: opts.signal });
      const finish = (o: UdpObservation) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        d.dispose();
        const extra = [...notes];
        if (ignored) extra.push(`${ignored} unrelated datagram(s) ignored`);
        if (extra.length) o.detail = [o.detail, ...extra].filter(Boolean).join('; ');
        resolve(o);
      };
      const onAbort = () => finish({ outcome: 'aborted', ms: ms(), attempts: sentCount, detail: d.abortDetail() });

      socket.on('message', (msg, rinfo) => {
        const c = classifyRdpeudp(msg);
        if (c.kind !== 'synack' || c.snSourceAck !== isn) {
          ignored++;
          return;
        }
        let synAck: RdpeudpSyn;
        try {
          synAck = decodeRdpeudpSyn(msg);
        } catch (e) {
          notes.push(`malformed SYN+ACK: ${(e as Error).message}`);
          ignored++;
          return;
        }
        opts.onSynAck?.(synAck, { address: rinfo.address, port: rinfo.port });
        const detail = [
          `SYN+ACK ${synAck.flags.names.join('|')}, server ISN 0x${synAck.initialSequenceNumber.toString(16).padStart(8, '0')}, ${msg.length} bytes`,
          ...synAck.deviations,
        ].join('; ');
        finish({
          outcome: 'synack',
          ms: ms(),
          attempts: sentCount,
          version: negotiatedVersion(sent, synAck),
          serverMtu: { up: synAck.upstreamMtu, down: synAck.downstreamMtu },
          serverSequence: synAck.initialSequenceNumber,
          detail,
        });
      });

      const onError = (e: NodeJS.ErrnoException) => {
        if (e.code === 'EMSGSIZE') {
          // ICMP frag-needed for the 1260-byte datagram (IP_PMTUDISC_WANT default): the next attempt is sent
          // fragmented by the kernel. Worth reporting: RDP-UDP itself never fragments its 1232-byte payloads.
          notes.push('frag-needed for the 1232-byte SYN: the path MTU is below 1260 bytes');
          return;
        }
        finish({ ...classifyUdpError(e), ms: ms(), attempts: sentCount });
      };
      socket.on('error', onError);

      const attempt = async () => {
        if (done) return;
        if (sentCount >= attempts) {
          return finish({ outcome: 'silent', ms: ms(), attempts: sentCount, detail: `no answer to ${sentCount} SYN(s) of 1232 bytes, ${timeoutMs} ms apart` });
        }
        await paced(minGapMs);
        if (done) return;
        sentCount++;
        try {
          socket.send(syn, (err) => {
            if (err) onError(err as NodeJS.ErrnoException);
          });
        } catch (e) {
          return onError(e as NodeJS.ErrnoException);
        }
        timer = setTimeout(() => void attempt(), timeoutMs);
      };

      if (d.expired) return onAbort();
      d.onExpire(onAbort);
      // A failed connect (no route …) is passed to the callback, not emitted as 'error'.
      socket.connect(port, address, ((err?: NodeJS.ErrnoException) => (err ? onError(err) : void attempt())) as () => void);
    });
  } finally {
    try {
      socket.close();
    } catch {
      /* already closed */
    }
  }
}

/**
 * errno of a connected UDP socket → outcome. Errors reported on receive (syscall recvmsg) are ICMP errors the
 * kernel queued for this socket (Linux icmp_err_convert: port unreachable → ECONNREFUSED, host/net unreachable →
 * EHOSTUNREACH/ENETUNREACH, net/host administratively prohibited → EACCES); errors on connect/send are this host's
 * own refusal (EPERM: a netfilter OUTPUT rule, EACCES: no privilege, e.g. broadcast) or its routing table.
 */
export function classifyUdpError(e: NodeJS.ErrnoException): Pick<UdpObservation, 'outcome' | 'unreachable' | 'errno' | 'detail'> {
  const code = e.code;
  const fromIcmp = e.syscall === 'recvmsg' || e.syscall === 'recv';
  switch (code) {
    case 'ECONNREFUSED':
      return { outcome: 'icmp-unreachable', unreachable: 'port', detail: 'ICMP port unreachable: host up, no UDP listener on this port' };
    case 'EHOSTUNREACH':
    case 'EHOSTDOWN':
      return {
        outcome: 'icmp-unreachable',
        unreachable: 'host',
        errno: code,
        detail: `host unreachable (${code}: ${fromIcmp ? 'ICMP host unreachable' : 'no route, or no ARP/ND answer on the local link'})`,
      };
    case 'ENETUNREACH':
    case 'ENETDOWN':
      if (!fromIcmp) return { outcome: 'local-error', errno: code, detail: `${code}: this host has no route to the target: ${e.message}` };
      return { outcome: 'icmp-unreachable', unreachable: 'net', errno: code, detail: `network unreachable (${code}: ICMP net unreachable)` };
    case 'EACCES':
      if (fromIcmp) return { outcome: 'icmp-unreachable', unreachable: 'prohibited', errno: code, detail: 'ICMP administratively prohibited: a filter on the path rejects UDP to this port' };
      return { outcome: 'local-error', errno: code, detail: `this host refused to send the UDP SYN (EACCES: no privilege): ${e.message}` };
    case 'EPERM':
      return { outcome: 'local-error', errno: code, detail: `this host refused to send the UDP SYN (EPERM: a local firewall rule): ${e.message}` };
    case 'EADDRNOTAVAIL':
      return { outcome: 'local-error', errno: code, detail: `no usable local address for the target (EADDRNOTAVAIL): ${e.message}` };
    default:
      return { outcome: 'error', ...(code ? { errno: code } : {}), detail: `${code ?? 'error'}: ${e.message}` };
  }
}
