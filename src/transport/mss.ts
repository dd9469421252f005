/**
 * TCP connections with a clamped MSS. Node cannot set TCP_MAXSEG, and it must be set before connect() for the SYN
 * to advertise it (tcp(7)), so the native addon creates the socket with the option set and hands the descriptor to
 * net.Socket({ fd }); Node (libuv) then connects that descriptor as usual. The server's segments towards us are
 * then at most mss + 40 bytes (IPv4) — the way to show a server→client PMTU black hole on the RDP connection itself.
 */
import dns from 'node:dns';
import net from 'node:net';
import { withDeadline } from './deadline.js';
import { loadNative } from './native.js';
import { connectTcp } from './tcp.js';

/** TCP_MAXSEG limits on Linux: TCP_MIN_MSS (88) .. MAX_TCP_WINDOW (32767). */
export const MIN_MSS = 88;
export const MAX_MSS = 32767;

export class NativeUnavailableError extends Error {
  readonly code = 'RDPROBE_NATIVE_UNAVAILABLE';
  constructor(reason: string) {
    super(`MSS clamping needs rdprobe's native addon: ${reason}`);
    this.name = 'NativeUnavailableError';
  }
}

function checkMss(mss: number): void {
  if (!Number.isInteger(mss) || mss < MIN_MSS || mss > MAX_MSS) throw new RangeError(`mss ${mss} outside ${MIN_MSS}..${MAX_MSS}`);
}

/**
 * A net.Socket already connecting to address:port (an IP literal) whose SYN advertises `mss`. Returns at once, like
 * net.connect(); listen for 'connect' / 'error'. Throws NativeUnavailableError without the addon, RangeError for a
 * bad mss or address. Fits `connectTcp(…, { socket: () => mssSocket(address, port, mss) })`.
 */
export function mssSocket(address: string, port: number, mss: number): net.Socket {
  checkMss(mss);
  const family = net.isIP(address);
  if (family !== 4 && family !== 6) throw new RangeError(`mssSocket: '${address}' is not an IP address`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`port ${port} outside 1..65535`);
  const native = loadNative();
  if (!native.addon) throw new NativeUnavailableError(native.reason);
  const fd = native.addon.tcpSocket(family, mss);
  let socket: net.Socket;
  try {
    socket = new net.Socket({ fd, readable: true, writable: true });
  } catch (e) {
    native.addon.close(fd);
    throw e;
  }
  // With an fd, Node keeps the handle and connects it (libuv reuses the descriptor rather than creating one).
  socket.connect({ host: address, port });
  return socket;
}

/**
 * Connect with TCP_MAXSEG = mss set before connect. Resolves with the connected socket; rejects with the socket
 * error (code ECONNREFUSED, EHOSTUNREACH …), an ETIMEDOUT error at the deadline, an AbortError when `signal` fires,
 * or NativeUnavailableError. A host name is resolved first (system resolver, within the same deadline).
 */
export async function connectWithMss(
  host: string,
  port: number,
  mss: number,
  opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<net.Socket> {
  checkMss(mss);
  const started = performance.now();
  const left = () => Math.max(1, opts.timeoutMs - (performance.now() - started));
  let address = host;
  if (!net.isIP(host)) {
    // The lookup and the connect share the caller's deadline; each holds the signal's subscription in turn.
    const res = await withDeadline({ timeoutMs: opts.timeoutMs, signal: opts.signal }, (d) => d.race(dns.promises.lookup(host)));
    if (res === 'aborted') throw abortError();
    if (res === 'timeout') throw errorWithCode('ETIMEDOUT', `resolving ${host}: no answer within ${opts.timeoutMs} ms`);
    address = res.address;
  }
  if (opts.signal?.aborted) throw abortError();
  const addr = address;
  const r = await connectTcp(addr, port, { timeoutMs: left(), signal: opts.signal, socket: () => mssSocket(addr, port, mss) });
  if (r.outcome === 'open' && r.socket) return r.socket;
  if (r.outcome === 'aborted') throw abortError();
  throw errorWithCode(r.errno ?? 'EIO', `connect ${address}:${port} (mss ${mss}): ${r.message ?? r.outcome}`);
}

/** The MSS the kernel uses on a connected socket (TCP_MAXSEG read back), or undefined without the addon. */
export function effectiveMss(socket: net.Socket): number | undefined {
  const native = loadNative();
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (!native.addon || typeof fd !== 'number' || fd < 0) return undefined;
  try {
    return native.addon.getsockopt(fd, native.addon.constants.IPPROTO_TCP, native.addon.constants.TCP_MAXSEG);
  } catch {
    return undefined;
  }
}

function errorWithCode(code: string, message: string): NodeJS.ErrnoException {
  const e = new Error(message) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

function abortError(): Error {
  const e = new Error('aborted');
  e.name = 'AbortError';
  (e as NodeJS.ErrnoException).code = 'ABORT_ERR';
  return e;
}
