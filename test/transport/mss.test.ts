// TCP with TCP_MAXSEG set before connect (native addon), on loopback.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectWithMss, effectiveMss, mssSocket, NativeUnavailableError } from '../../src/transport/mss.js';
import { loadNative, resetNativeCache } from '../../src/transport/native.js';
import { connectTcp } from '../../src/transport/tcp.js';

const hasAddon = loadNative().addon !== null;
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
  delete process.env.RDPROBE_NATIVE;
  resetNativeCache();
});

async function server(onConn: (s: net.Socket) => void): Promise<number> {
  const srv = net.createServer(onConn);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanups.push(() => srv.close());
  return (srv.address() as net.AddressInfo).port;
}

describe.skipIf(!hasAddon)('connectWithMss', () => {
  it('the SYN carries the clamp: the server side of the connection uses the small MSS, data flows', async () => {
    let serverMss: number | undefined;
    const port = await server((s) => {
      serverMss = effectiveMss(s);
      s.on('error', () => {});
      s.once('data', () => s.end(Buffer.alloc(200_000, 0x5a)));
    });
    const sock = await connectWithMss('127.0.0.1', port, 536, { timeoutMs: 2000 });
    cleanups.push(() => sock.destroy());
    const ours = effectiveMss(sock)!;
    expect(ours).toBeLessThanOrEqual(536);
    expect(ours).toBeGreaterThan(500); // 536 minus TCP options (timestamps: 12)
    const got = await new Promise<number>((resolve) => {
      let n = 0;
      sock.on('data', (d) => (n += d.length));
      sock.on('end', () => resolve(n));
      sock.write('go');
    });
    expect(got).toBe(200_000);
    expect(serverMss).toBeLessThanOrEqual(536); // only possible if our SYN advertised 536 (lo's MTU is 65536)
  });

  it('a default connection on lo has a far larger MSS (the clamp is what made the difference)', async () => {
    const port = await server((s) => s.on('error', () => {}));
    const c = await connectTcp('127.0.0.1', port, { timeoutMs: 2000 });
    cleanups.push(() => c.socket?.destroy());
    expect(effectiveMss(c.socket!)).toBeGreaterThan(10_000);
  });

  it('refused: rejects with ECONNREFUSED', async () => {
    const port = await server(() => {});
    cleanups.pop()!(); // close it again: nothing listens
    await new Promise((r) => setTimeout(r, 20));
    await expect(connectWithMss('127.0.0.1', port, 1360, { timeoutMs: 2000 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('an aborted signal rejects with AbortError', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(connectWithMss('127.0.0.1', 9, 1360, { timeoutMs: 1000, signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('works as the socket factory of connectTcp', async () => {
    const port = await server((s) => s.on('error', () => {}));
    const c = await connectTcp('127.0.0.1', port, { timeoutMs: 2000, socket: () => mssSocket('127.0.0.1', port, 1000) });
    cleanups.push(() => c.socket?.destroy());
    expect(c.outcome).toBe('open');
    expect(effectiveMss(c.socket!)).toBeLessThanOrEqual(1000);
  });

  it('rejects an impossible MSS or a non-address', async () => {
    await expect(connectWithMss('127.0.0.1', 1, 40, { timeoutMs: 100 })).rejects.toThrow(RangeError);
    expect(() => mssSocket('example', 3389, 1360)).toThrow(/not an IP address/);
  });
});

describe('without the addon', () => {
  it('says so instead of connecting unclamped', async () => {
    process.env.RDPROBE_NATIVE = '0';
    resetNativeCache();
    await expect(connectWithMss('127.0.0.1', 1, 1360, { timeoutMs: 500 })).rejects.toBeInstanceOf(NativeUnavailableError);
  });
});
