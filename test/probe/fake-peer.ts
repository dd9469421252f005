import { readdirSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Scripted fake RDP servers on 127.0.0.1:0 (undici-style raw-byte peers). Each connection runs `script(socket)`;
 * the peer tracks its open sockets so a test can close everything and check nothing leaked.
 */
export interface FakePeer {
  port: number;
  connections: number;
  close(): Promise<void>;
}

export async function fakePeer(script: (s: net.Socket, index: number) => void | Promise<void>): Promise<FakePeer> {
  const sockets = new Set<net.Socket>();
  let index = 0;
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    void script(s, index++);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const peer: FakePeer = {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return index;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return peer;
}

/** Read until `n` bytes arrived (or the socket ends). */
export function readBytes(s: net.Socket, n: number): Promise<Buffer> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= n) done();
    };
    const done = () => {
      s.removeListener('data', onData);
      s.removeListener('end', done);
      s.pause();
      resolve(buf);
    };
    s.on('data', onData);
    s.once('end', done);
  });
}

/** Read one TPKT (the Connection Request). */
export async function readTpkt(s: net.Socket): Promise<Buffer> {
  const head = await readBytes(s, 4);
  if (head.length < 4) return head;
  const len = head.readUInt16BE(2);
  if (head.length >= len) return head;
  const rest = await readBytes(s, len - head.length);
  return Buffer.concat([head, rest]);
}

/** Open file descriptors of this process (Linux): the leak check. */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

let cached: { key: Buffer; cert: Buffer } | undefined;
/** A throwaway self-signed RSA-2048 certificate made with openssl (cached per test run). */
export function testCertificate(): { key: Buffer; cert: Buffer } {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'rdprobe-cert-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '30', '-subj', '/CN=fake-rdp.test'], { stdio: 'ignore' });
  cached = { key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) };
  return cached;
}

/** Upgrade the peer side of a fake connection to TLS (after it sent its Connection Confirm). */
export function serverTls(s: net.Socket, opts: tls.TlsOptions = {}): tls.TLSSocket {
  const { key, cert } = testCertificate();
  const t = new tls.TLSSocket(s, { isServer: true, key, cert, minVersion: 'TLSv1', ciphers: 'ALL:@SECLEVEL=0', ...opts });
  t.on('error', () => {});
  return t;
}
