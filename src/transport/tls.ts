import type net from 'node:net';
import tls from 'node:tls';
import type { TcpInfoSnapshot, TlsOutcome, TlsVersionName } from '../observation/types.js';
import { deadline } from './deadline.js';
import { tcpInfo } from './tcpinfo.js';

export interface TlsUpgradeResult {
  outcome: TlsOutcome;
  socket?: tls.TLSSocket;
  version?: string;
  cipher?: { name: string; standardName?: string };
  certificateDer?: Buffer;
  chainDer?: Buffer[];
  /** Raw bytes the server sent during the handshake (TLS records, counted on the TCP socket). */
  bytesReceived: number;
  firstByteMs?: number;
  handshakeMs?: number;
  alert?: string;
  error?: string;
  errno?: string;
  stallEvidence?: 'deadline' | 'hole';
  kernel?: TcpInfoSnapshot;
}

/** Never declare a stall from a hole in less than this, whatever the RTT: Linux's minimum RTO is 200 ms, and a normal
 *  loss is repaired by the first or second retransmission. */
const MIN_HOLE_STALL_MS = 1000;

/** Ciphers at OpenSSL security level 0 so old servers (TLS 1.0, RSA-512 certificates, SHA-1) can be observed. */
const PERMISSIVE_CIPHERS = 'ALL:@SECLEVEL=0';

/**
 * Upgrade an established TCP socket (after X.224 selected an enhanced-security protocol) to TLS. The handshake has
 * its own deadline. If the deadline passes with the connection still open, the outcome is 'stalled' — the server's
 * flight did not arrive (a PMTU black hole shows exactly this). A fatal alert, a FIN and an RST are told apart, and
 * an abort of `signal` is 'aborted', not a stall.
 */
export function tlsUpgrade(
  socket: net.Socket,
  opts: { timeoutMs: number; minVersion?: TlsVersionName; maxVersion?: TlsVersionName; signal?: AbortSignal; servername?: string },
): Promise<TlsUpgradeResult> {
  const started = performance.now();
  const rawStart = socket.bytesRead;
  let firstByteAt: number | undefined;
  // The TLS wrap reads the handle directly; watch the byte counter to learn when the first server bytes came in, and
  // the kernel's counters to see data held beyond a hole (the black-hole signature) with no in-order progress.
  let lastBytes = socket.bytesRead;
  let lastProgressAt = performance.now();
  let tick = 0;
  let onHole: (() => void) | undefined;
  const poll = setInterval(() => {
    const now = performance.now();
    if (socket.bytesRead !== lastBytes) {
      lastBytes = socket.bytesRead;
      lastProgressAt = now;
    }
    if (firstByteAt === undefined && socket.bytesRead > rawStart) firstByteAt = now;
    if (++tick % 10 !== 0 || !onHole || now - lastProgressAt < MIN_HOLE_STALL_MS) return;
    const k = tcpInfo(socket);
    if (k?.outOfOrderPackets && now - lastProgressAt >= Math.max(MIN_HOLE_STALL_MS, 10 * (k.rttMs + 4 * k.rttVarMs))) onHole();
  }, 5);
  return new Promise((resolve) => {
    let done = false;
    const d = deadline({ timeoutMs: opts.timeoutMs, signal: opts.signal });
    const t = tls.connect({
      socket,
      rejectUnauthorized: false,
      minVersion: opts.minVersion ?? 'TLSv1',
      maxVersion: opts.maxVersion ?? 'TLSv1.3',
      ciphers: PERMISSIVE_CIPHERS,
      servername: opts.servername,
    });
    const ms = (x: number) => Math.round((x - started) * 10) / 10;
    const finish = (r: Omit<TlsUpgradeResult, 'bytesReceived'>) => {
      if (done) return;
      done = true;
      clearInterval(poll);
      d.dispose();
      if (firstByteAt === undefined && socket.bytesRead > rawStart) firstByteAt = performance.now();
      const kernel = tcpInfo(socket);
      const out: TlsUpgradeResult = {
        ...r,
        ...(kernel ? { kernel } : {}),
        bytesReceived: socket.bytesRead - rawStart,
        firstByteMs: firstByteAt !== undefined ? ms(firstByteAt) : undefined,
      };
      if (r.outcome !== 'ok') {
        t.destroy();
        socket.destroy();
      }
      resolve(out);
    };
    t.once('secureConnect', () => {
      const peer = t.getPeerCertificate(true) as tls.DetailedPeerCertificate | undefined;
      const chainDer: Buffer[] = [];
      const seen = new Set<string>();
      for (let c: tls.DetailedPeerCertificate | undefined = peer; c && c.raw && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
        seen.add(c.fingerprint256);
        chainDer.push(c.raw);
      }
      const cipher = t.getCipher();
      finish({
        outcome: 'ok',
        socket: t,
        version: t.getProtocol() ?? undefined,
        cipher: cipher ? { name: cipher.name, standardName: (cipher as { standardName?: string }).standardName } : undefined,
        certificateDer: chainDer[0],
        chainDer,
        handshakeMs: ms(performance.now()),
      });
    });
    t.once('error', (e: NodeJS.ErrnoException) => {
      const msg = e.message ?? String(e);
      const alert = /alert ([a-z ]+)/i.exec(msg)?.[1] ?? (/SSL alert number (\d+)/.exec(msg)?.[1] ? `alert ${/SSL alert number (\d+)/.exec(msg)![1]}` : undefined);
      // Node reports a FIN before the handshake finished as ECONNRESET with this message; a real RST says "read ECONNRESET".
      if (/socket disconnected before secure TLS connection/i.test(msg)) return finish({ outcome: 'closed', error: msg, errno: e.code });
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') return finish({ outcome: 'reset', error: msg, errno: e.code });
      if (alert || /SSL routines|wrong version|unsupported protocol|no protocols available|handshake failure/i.test(msg)) {
        return finish({ outcome: 'alert', alert: alert ?? msg.replace(/^.*SSL routines:/, '').trim(), error: msg, errno: e.code });
      }
      finish({ outcome: 'error', error: msg, errno: e.code });
    });
    t.once('close', () => finish({ outcome: 'closed', error: 'connection closed during the TLS handshake' }));
    // A handshake still open at the deadline is a stall; an abort of the whole probe is not (transport/deadline.ts).
    d.onExpire((reason) =>
      finish(
        reason === 'aborted'
          ? { outcome: 'aborted', error: d.abortDetail() }
          : { outcome: 'stalled', stallEvidence: 'deadline', error: `TLS handshake not complete after ${opts.timeoutMs} ms` },
      ),
    );
    onHole = () =>
      finish({
        outcome: 'stalled',
        stallEvidence: 'hole',
        error: `TLS handshake stalled: data beyond a sequence gap held by the kernel, no in-order progress for ${Math.round(performance.now() - lastProgressAt)} ms`,
      });
    if (d.expired) finish({ outcome: 'aborted', error: d.abortDetail() });
  });
}

