/** Route lookup: which interface and MTU a packet to an address leaves by. Nothing is sent. */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { loadNative, type RouteInfo } from './native.js';

// ---------------------------------------------------------------------------------------------------------------
// Local interface facts

/** The addon's RouteInfo (one route type), plus why no route was found (ENETUNREACH …). */
export interface LocalRoute extends RouteInfo {
  error?: string;
}

/** Which interface a packet to `address` leaves by, and its MTU. Nothing is sent. */
export async function localRoute(address: string, port = 9): Promise<LocalRoute> {
  const family = net.isIP(address) as 4 | 6;
  const native = loadNative();
  if (native.addon) {
    try {
      return native.addon.routeInfo(family, address, port);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code && /^E(NET|HOST)(UNREACH|DOWN)$|^EADDRNOTAVAIL$/.test(code)) return { error: code };
      /* otherwise fall through to the portable way */
    }
  }
  const sock = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
  try {
    let error: string | undefined;
    const local = await new Promise<string | undefined>((resolve) => {
      const fail = (e?: NodeJS.ErrnoException) => {
        error = e?.code ?? 'error';
        resolve(undefined);
      };
      sock.once('error', fail);
      sock.connect(port, address, ((err?: NodeJS.ErrnoException) => (err ? fail(err) : resolve(sock.address().address))) as () => void);
    });
    if (!local) return { error };
    const out: LocalRoute = { localAddress: local };
    for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
      if (addrs?.some((a) => a.address === local)) {
        out.interface = name;
        try {
          out.interfaceMtu = Number(readFileSync(`/sys/class/net/${name}/mtu`, 'utf8').trim()) || undefined;
        } catch {
          /* not Linux */
        }
        break;
      }
    }
    return out;
  } finally {
    sock.close();
  }
}
