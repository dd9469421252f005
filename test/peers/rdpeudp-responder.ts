/**
 * TEST PEER — not part of rdprobe. A minimal MS-RDPEUDP responder, written from the spec, because no Debian RDP
 * server speaks RDP-UDP (xrdp 0.9 and FreeRDP 2 open no UDP socket). It answers a client SYN with a SYN+ACK
 * (MS-RDPEUDP 3.1.5.1.3) and nothing else: no data phase, no TLS/DTLS.
 *
 *   SYN+ACK: snSourceAck = the client's snInitialSequenceNumber; flags SYN|ACK (+SYNEX when the SYN had SYNDATAEX);
 *   our own random ISN; MTUs per 3.1.1.3 (min of what the client advertised and 1232, kept in 1132..1232);
 *   SYNDATAEX uUdpVer = highest version both support; zero-padded to 1232 bytes like the SYN.
 *   A retransmitted SYN (same peer, same ISN) gets the same SYN+ACK (1.3.2.1: persistent retransmits).
 *   Anything that is not a decodable SYN is logged and ignored (never answered: no reflection).
 *
 * Usage:  npx tsx test/peers/rdpeudp-responder.ts [--host 0.0.0.0] [--port 3389] [--max-version 2] [--quiet]
 * Also importable: startResponder({ host, port }) → { port, close() } for unit tests.
 * Logs one line per event to stderr; exits 0 on SIGTERM / SIGINT.
 */
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import {
  classifyRdpeudp,
  decodeRdpeudpSyn,
  encodeRdpeudpSynAck,
  RDPEUDP_MAX_MTU,
  RDPEUDP_MIN_MTU,
  RDPUDP_PROTOCOL_VERSION_1,
  RDPUDP_PROTOCOL_VERSION_2,
  RDPUDP_PROTOCOL_VERSION_3,
} from '../../src/codec/rdpeudp.js';

export interface ResponderOptions {
  host?: string;
  port?: number;
  /** Highest RDP-UDP version we claim (1, 2 or 0x101); default 2. */
  maxVersion?: number;
  log?: (line: string) => void;
}

export interface Responder {
  address: string;
  port: number;
  /** Datagrams seen / SYN+ACKs sent, for tests. */
  stats: { datagrams: number; syns: number; synAcks: number; ignored: number };
  close(): Promise<void>;
}

const VERSION_ORDER = [RDPUDP_PROTOCOL_VERSION_1, RDPUDP_PROTOCOL_VERSION_2, RDPUDP_PROTOCOL_VERSION_3];
const MAX_PEERS = 4096;

/** 3.1.5.1.3: the highest version supported by both ends. An unknown client version counts as its known floor. */
function commonVersion(client: number, ours: number): number {
  const ci = VERSION_ORDER.indexOf(client);
  const oi = VERSION_ORDER.indexOf(ours);
  if (ci < 0) {
    // e.g. 0x0003 in the Zeek capture: not a defined version; fall back to the highest defined one below it
    const known = VERSION_ORDER.filter((v) => v <= client);
    return known.length ? Math.min(known[known.length - 1], ours) : RDPUDP_PROTOCOL_VERSION_1;
  }
  return VERSION_ORDER[Math.min(ci, oi < 0 ? 1 : oi)];
}

const clampMtu = (v: number) => Math.max(RDPEUDP_MIN_MTU, Math.min(RDPEUDP_MAX_MTU, v));

export function startResponder(opts: ResponderOptions = {}): Promise<Responder> {
  const host = opts.host ?? '127.0.0.1';
  const maxVersion = opts.maxVersion ?? RDPUDP_PROTOCOL_VERSION_2;
  const log = opts.log ?? ((l: string) => process.stderr.write(`${new Date().toISOString()} rdpeudp-responder: ${l}\n`));
  const socket = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4' });
  const stats = { datagrams: 0, syns: 0, synAcks: 0, ignored: 0 };
  // peer "addr|port|clientIsn" → our ISN, so retransmitted SYNs get an identical SYN+ACK (bounded map)
  const peers = new Map<string, number>();

  socket.on('message', (msg, rinfo) => {
    stats.datagrams++;
    const who = `${rinfo.address}:${rinfo.port}`;
    const c = classifyRdpeudp(msg);
    if (c.kind !== 'syn') {
      stats.ignored++;
      log(`${who}: ${msg.length} bytes, ${c.kind}${c.flags ? ` flags ${c.flags.names.join('|') || '0'}` : ''}: ignored`);
      return;
    }
    let syn;
    try {
      syn = decodeRdpeudpSyn(msg);
    } catch (e) {
      stats.ignored++;
      log(`${who}: undecodable SYN (${(e as Error).message}): ignored`);
      return;
    }
    stats.syns++;
    const key = `${who}|${syn.initialSequenceNumber}`;
    let ourIsn = peers.get(key);
    const retransmit = ourIsn !== undefined;
    if (ourIsn === undefined) {
      ourIsn = crypto.randomBytes(4).readUInt32BE(0);
      if (peers.size >= MAX_PEERS) peers.delete(peers.keys().next().value as string);
      peers.set(key, ourIsn);
    }
    const version = syn.synEx ? commonVersion(syn.synEx.version.value, maxVersion) : undefined;
    // 3.1.1.3: what we may send is bounded by what the client can receive, and the other way round
    const reply = encodeRdpeudpSynAck({
      acknowledges: syn.initialSequenceNumber,
      initialSequenceNumber: ourIsn,
      receiveWindowSize: 64,
      upstreamMtu: clampMtu(Math.min(RDPEUDP_MAX_MTU, syn.downstreamMtu)),
      downstreamMtu: clampMtu(Math.min(RDPEUDP_MAX_MTU, syn.upstreamMtu)),
      version,
    });
    socket.send(reply, rinfo.port, rinfo.address, (err) => {
      if (err) return log(`${who}: send failed: ${err.message}`);
      stats.synAcks++;
      log(
        `${who}: SYN isn=0x${syn.initialSequenceNumber.toString(16)} ${syn.flags.names.join('|')} ${msg.length} bytes` +
          `${syn.synEx ? ` ver=0x${syn.synEx.version.value.toString(16)}` : ''}${syn.deviations.length ? ` (${syn.deviations.join('; ')})` : ''}` +
          ` → SYN+ACK isn=0x${ourIsn!.toString(16)}${version !== undefined ? ` ver=0x${version.toString(16)}` : ''}${retransmit ? ' (retransmit)' : ''}`,
      );
    });
  });

  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(opts.port ?? 3389, host, () => {
      socket.removeListener('error', reject);
      socket.on('error', (e) => log(`socket error: ${e.message}`));
      const a = socket.address();
      log(`listening on ${a.address}:${a.port} (max version 0x${maxVersion.toString(16)})`);
      resolve({
        address: a.address,
        port: a.port,
        stats,
        close: () => new Promise<void>((r) => socket.close(() => r())),
      });
    });
  });
}

function parseArgs(argv: string[]): ResponderOptions & { quiet?: boolean } {
  const o: ResponderOptions & { quiet?: boolean } = { host: '0.0.0.0', port: 3389 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--host') o.host = next();
    else if (a === '--port') o.port = Number(next());
    else if (a === '--max-version') o.maxVersion = Number(next());
    else if (a === '--quiet') o.quiet = true;
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: rdpeudp-responder [--host ADDR] [--port N] [--max-version 1|2|257] [--quiet]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(o.port) || o.port! < 0 || o.port! > 65535) throw new Error('--port: 0..65535');
  if (o.maxVersion !== undefined && !VERSION_ORDER.includes(o.maxVersion)) throw new Error('--max-version: 1, 2 or 257 (0x101)');
  return o;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let o: ReturnType<typeof parseArgs>;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`rdpeudp-responder: ${(e as Error).message}\n`);
    process.exit(2);
  }
  const log = o.quiet ? () => {} : undefined;
  startResponder({ ...o, log }).then(
    (r) => {
      const stop = (sig: string) => {
        process.stderr.write(`rdpeudp-responder: ${sig}, ${r.stats.synAcks} SYN+ACK(s) sent, exiting\n`);
        void r.close().then(() => process.exit(0));
        setTimeout(() => process.exit(0), 1000).unref();
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    },
    (e: Error) => {
      process.stderr.write(`rdpeudp-responder: cannot listen: ${e.message}\n`);
      process.exit(1);
    },
  );
}
