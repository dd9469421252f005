import net from 'node:net';
import type { TcpOutcome } from '../observation/types.js';
import { deadline } from './deadline.js';

export interface TcpConnectResult {
  outcome: TcpOutcome;
  ms: number;
  socket?: net.Socket;
  errno?: string;
  message?: string;
  localAddress?: string;
  localPort?: number;
}

/**
 * errno → outcome. Refused (RST to our SYN), unreachable (ICMP host/net unreachable, or no route), reset and
 * silence (our own deadline: 'filtered') stay apart: each points at a different cause.
 */
export function classifyConnectError(code: string | undefined): TcpOutcome {
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
    case 'EADDRNOTAVAIL':
      return 'unreachable';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    case 'ETIMEDOUT':
      return 'filtered';
    default:
      return 'error';
  }
}

/**
 * Connect with a deadline. On silence the socket is destroyed at the deadline and the outcome is 'filtered'. An
 * error event that arrives in the same turn as the deadline wins (transport/deadline.ts), so an RST racing the
 * timer is reported as refused, not as filtered. An abort of `signal` is 'aborted' (errno ABORTED), never filtered.
 */
export function connectTcp(
  address: string,
  port: number,
  opts: { timeoutMs: number; signal?: AbortSignal; socket?: () => net.Socket },
): Promise<TcpConnectResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const d = deadline({ timeoutMs: opts.timeoutMs, signal: opts.signal });
    const aborted = (): Omit<TcpConnectResult, 'ms'> => ({ outcome: 'aborted', errno: 'ABORTED', message: d.abortDetail() });
    if (d.expired) {
      d.dispose();
      resolve({ ...aborted(), ms: 0 });
      return;
    }
    const socket = opts.socket ? opts.socket() : new net.Socket();
    const finish = (r: Omit<TcpConnectResult, 'ms'>) => {
      if (done) return;
      done = true;
      d.dispose();
      socket.removeListener('error', onError);
      socket.removeListener('connect', onConnect);
      if (r.outcome !== 'open') socket.destroy();
      resolve({ ...r, ms: Math.round((performance.now() - started) * 10) / 10 });
    };
    const onError = (err: NodeJS.ErrnoException) => {
      finish({ outcome: classifyConnectError(err.code), errno: err.code, message: err.message });
    };
    const onConnect = () => {
      finish({ outcome: 'open', socket, localAddress: socket.localAddress, localPort: socket.localPort });
    };
    d.onExpire((reason) =>
      finish(reason === 'aborted' ? aborted() : { outcome: 'filtered', errno: 'ETIMEDOUT', message: `no answer to SYN within ${opts.timeoutMs} ms` }),
    );
    socket.once('error', onError);
    socket.once('connect', onConnect);
    socket.setNoDelay(true);
    if (!opts.socket) socket.connect({ host: address, port });
  });
}
