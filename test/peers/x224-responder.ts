/**
 * A large-backlog X.224 test peer for scan tests and the scan benchmark.
 *
 * It answers every Client X.224 Connection Request (MS-RDPBCGR 2.2.1.1) with a Server Connection Confirm
 * (MS-RDPBCGR 2.2.1.2) — by default an RDP_NEG_RSP selecting PROTOCOL_SSL — and then closes the connection. Unlike
 * xrdp (listen backlog 2, which drops SYNs under a scan) it listens with a large backlog, so a fast scanner measures
 * itself and not the peer's accept queue.
 *
 *   npx tsx test/peers/x224-responder.ts [--host 0.0.0.0] [--port 3389] [--backlog 65535]
 *        [--select SSL|HYBRID|HYBRID_EX|RDP|RDSTLS|failure:<code>|legacy|silent|close|reset|accept-close] [--delay ms]
 *
 * Prints `listening <host> <port>` on stdout once bound; prints its counters as JSON on stderr when it exits
 * (SIGTERM / SIGINT).
 */
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import { PROTOCOL_HYBRID, PROTOCOL_HYBRID_EX, PROTOCOL_RDP, PROTOCOL_RDSTLS, PROTOCOL_SSL, encodeConnectionConfirm } from '../../src/codec/x224.js';

export type ResponderMode =
  | { kind: 'select'; protocol: number }
  | { kind: 'failure'; code: number }
  | { kind: 'legacy' }
  /** Accept and never answer. */
  | { kind: 'silent' }
  /** Read the request, then close (FIN) without answering. */
  | { kind: 'close' }
  /** Read the request, then reset (RST). */
  | { kind: 'reset' }
  /**
   * Accept and close at once, reading nothing: the cheapest possible listener, for TCP-reach benchmarks (a scanner
   * and nmap -sT only need the handshake). Uses Node's TCP handle directly when available.
   */
  | { kind: 'accept-close' };

export interface ResponderOptions {
  host?: string;
  port?: number;
  backlog?: number;
  mode?: ResponderMode;
  /** Per-connection mode override, by the remote/local address the client connected to (tests vary it per host). */
  modeFor?: (localAddress: string) => ResponderMode;
  /** Delay before answering (ms). */
  delayMs?: number;
}

export interface ResponderStats {
  connections: number;
  requests: number;
  answered: number;
  malformed: number;
}

export interface Responder {
  port: number;
  host: string;
  stats: ResponderStats;
  close(): Promise<void>;
}

const SELECT: Record<string, number> = {
  RDP: PROTOCOL_RDP,
  SSL: PROTOCOL_SSL,
  HYBRID: PROTOCOL_HYBRID,
  RDSTLS: PROTOCOL_RDSTLS,
  HYBRID_EX: PROTOCOL_HYBRID_EX,
};

/** `SSL`, `failure:5`, `legacy`, `silent`, `close`, `reset` → mode. */
export function parseMode(s: string): ResponderMode {
  const u = s.trim();
  if (u.toUpperCase() in SELECT) return { kind: 'select', protocol: SELECT[u.toUpperCase()] };
  const m = /^failure:(0x[0-9a-f]+|\d+)$/i.exec(u);
  if (m) return { kind: 'failure', code: Number(m[1]) };
  if (u === 'legacy' || u === 'silent' || u === 'close' || u === 'reset' || u === 'accept-close') return { kind: u };
  throw new TypeError(`unknown responder mode '${s}' (SSL|HYBRID|HYBRID_EX|RDP|RDSTLS|failure:<code>|legacy|silent|close|reset|accept-close)`);
}

function confirmFor(mode: ResponderMode): Uint8Array | null {
  switch (mode.kind) {
    case 'select':
      // MS-RDPBCGR 2.2.1.2.1 RDP_NEG_RSP, flags EXTENDED_CLIENT_DATA_SUPPORTED (0x01)
      return encodeConnectionConfirm({ neg: { kind: 'response', flags: 0x01, selectedProtocol: mode.protocol } });
    case 'failure':
      // MS-RDPBCGR 2.2.1.2.2 RDP_NEG_FAILURE
      return encodeConnectionConfirm({ neg: { kind: 'failure', code: mode.code } });
    case 'legacy':
      // MS-RDPBCGR 3.3.5.3.2: a CC without rdpNegData (pre-Vista servers)
      return encodeConnectionConfirm({ neg: { kind: 'absent' } });
    default:
      return null;
  }
}

/** A Connection Request is one TPKT (T.123 §8); we only need its length, and cap it at 1 KiB. */
const MAX_REQUEST = 1024;

interface RawServer {
  bind(host: string, port: number): number;
  bind6(host: string, port: number, flags: number): number;
  listen(backlog: number): number;
  getsockname(out: Record<string, unknown>): number;
  close(cb?: () => void): void;
  onconnection: (status: number, client?: { close(): void }) => void;
}

/** accept-close on Node's raw TCP handle: no net.Socket per connection (half the CPU of net.Server here). */
function startRawAcceptClose(opts: ResponderOptions, stats: ResponderStats): Responder | null {
  let b: { TCP: new (t: number) => RawServer; constants: { SERVER: number } };
  try {
    b = (process as unknown as { binding(n: string): typeof b }).binding('tcp_wrap');
    if (typeof b.TCP !== 'function' || typeof b.constants?.SERVER !== 'number') return null;
  } catch {
    return null;
  }
  const host = opts.host ?? '127.0.0.1';
  const h = new b.TCP(b.constants.SERVER);
  const v6 = host.includes(':');
  let err = v6 ? h.bind6(host, opts.port ?? 0, 0) : h.bind(host, opts.port ?? 0);
  if (!err) err = h.listen(opts.backlog ?? 65535);
  if (err) {
    h.close();
    throw new Error(`listen ${host}:${opts.port}: errno ${err}`);
  }
  h.onconnection = (status, client) => {
    if (!client) return;
    stats.connections++;
    client.close();
  };
  const addr: Record<string, unknown> = {};
  h.getsockname(addr);
  return { port: Number(addr.port), host: String(addr.address), stats, close: () => new Promise<void>((r) => h.close(() => r())) };
}

export function startResponder(opts: ResponderOptions = {}): Promise<Responder> {
  const mode = opts.mode ?? { kind: 'select', protocol: PROTOCOL_SSL };
  if (mode.kind === 'accept-close' && !opts.modeFor) {
    const raw = startRawAcceptClose(opts, { connections: 0, requests: 0, answered: 0, malformed: 0 });
    if (raw) return Promise.resolve(raw);
  }
  const cache = new Map<ResponderMode, Uint8Array | null>();
  const answerFor = (m: ResponderMode) => {
    if (!cache.has(m)) cache.set(m, confirmFor(m));
    return cache.get(m)!;
  };
  const stats: ResponderStats = { connections: 0, requests: 0, answered: 0, malformed: 0 };
  const sockets = new Set<net.Socket>();

  const server = net.createServer((socket) => {
    stats.connections++;
    sockets.add(socket);
    const m = opts.modeFor ? opts.modeFor(socket.localAddress ?? '') : mode;
    if (m.kind === 'accept-close') return void socket.destroy();
    let buf: Buffer | null = null;
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
    socket.on('end', () => socket.end());
    socket.on('data', (d: Buffer) => {
      buf = buf ? Buffer.concat([buf, d]) : d;
      if (buf.length < 4) return;
      // T.123 §8: version 3; the length includes the header.
      const len = buf[0] === 3 ? buf.readUInt16BE(2) : 0;
      if (len < 11 || len > MAX_REQUEST) {
        stats.malformed++;
        socket.destroy();
        return;
      }
      if (buf.length < len) return;
      stats.requests++;
      socket.removeAllListeners('data');
      const reply = () => {
        if (socket.destroyed) return;
        if (m.kind === 'silent') return;
        if (m.kind === 'reset') return socket.resetAndDestroy();
        const cc = answerFor(m);
        if (cc) stats.answered++;
        socket.end(cc ?? undefined);
      };
      if (opts.delayMs) setTimeout(reply, opts.delayMs);
      else reply();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0, backlog: opts.backlog ?? 65535 }, () => {
      server.removeListener('error', reject);
      const a = server.address() as net.AddressInfo;
      resolve({
        port: a.port,
        host: a.address,
        stats,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function main(argv: string[]): Promise<void> {
  const r = await startResponder({
    host: arg(argv, '--host') ?? '0.0.0.0',
    port: Number(arg(argv, '--port') ?? 3389),
    backlog: Number(arg(argv, '--backlog') ?? 65535),
    mode: parseMode(arg(argv, '--select') ?? 'SSL'),
    delayMs: Number(arg(argv, '--delay') ?? 0),
  });
  process.stdout.write(`listening ${r.host} ${r.port}\n`);
  const stop = () => {
    process.stderr.write(JSON.stringify(r.stats) + '\n');
    void r.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`x224-responder: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
