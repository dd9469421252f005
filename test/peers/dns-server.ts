/**
 * DNS test peer for the integration lab: a tiny authoritative-only responder over UDP that gives each failure mode
 * its own name, so the prober's DNS phase can be tested against real resolver behaviour (glibc getaddrinfo via
 * /etc/resolv.conf, and c-ares via node:dns Resolver) without touching any real DNS server.
 *
 *   <anything>.nx.rdplab.test        → NXDOMAIN (RCODE 3)
 *   <anything>.servfail.rdplab.test  → SERVFAIL (RCODE 2)
 *   <anything>.timeout.rdplab.test   → never answered (the query is read and dropped)
 *   <host>.rdplab.test listed in the hosts file (default /etc/hosts, which inside rdplab-client is the lab's own
 *                                     /etc/netns/rdplab-client/hosts) → NOERROR, one A record for QTYPE A/ANY,
 *                                     no records (NODATA) for other types
 *   everything else                  → REFUSED (RCODE 5)
 *
 * Malformed queries get FORMERR when the header is readable, and are dropped otherwise; responses (QR=1) are
 * ignored; opcodes other than QUERY get NOTIMP. Every query is logged as one line on stdout.
 *
 * Run (the lab does this inside rdplab-client):
 *   npx tsx test/peers/dns-server.ts --host 127.0.0.1 --port 53 [--hosts /etc/hosts] [--zone rdplab.test]
 * A port of 0 picks a free port; the bound address is printed as `dns-peer listening on HOST:PORT`.
 *
 * Message layout from RFC 1035 section 4.1; name rules from RFC 1035 sections 2.3.4 and 3.1.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { pathToFileURL } from 'node:url';

// RFC 1035 4.1.1: RCODE values.
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
// RFC 1035 3.2.2 / 3.2.3 / 3.2.4: the TYPE, QTYPE and CLASS values used here.
const TYPE_A = 1;
const QTYPE_ANY = 255;
const CLASS_IN = 1;
const QCLASS_ANY = 255;
const HEADER_LEN = 12; // RFC 1035 4.1.1: six 16-bit fields
const MAX_NAME = 255; // RFC 1035 2.3.4: names are at most 255 octets on the wire
const MAX_LABEL = 63; // RFC 1035 2.3.4: labels are at most 63 octets
const MAX_UDP = 512; // RFC 1035 2.3.4 / 4.2.1: plain UDP messages are at most 512 octets
const TTL_SECONDS = 60;

export interface Question {
  /** lower-cased, dot-separated, without the trailing dot */
  name: string;
  qtype: number;
  qclass: number;
  /** offset just past QCLASS: the question section, echoed back verbatim */
  end: number;
}

export type Decision =
  | { kind: 'answer'; rcode: number; authoritative: boolean; address?: string }
  | { kind: 'drop' };

export class MalformedQuery extends Error {}

/** RFC 1035 4.1.2: QNAME as length-prefixed labels ending in a zero octet, then QTYPE and QCLASS. */
export function readQuestion(msg: Uint8Array, start: number): Question {
  let pos = start;
  const labels: string[] = [];
  let wireLen = 0;
  for (;;) {
    if (pos >= msg.length) throw new MalformedQuery('QNAME runs past the end of the message');
    const len = msg[pos];
    // RFC 1035 4.1.4: the two high bits set mark a compression pointer; 01/10 are reserved. A query's only name is
    // the question itself, so there is nothing earlier to point at: treat both as malformed.
    if ((len & 0xc0) !== 0) throw new MalformedQuery(`label length octet 0x${len.toString(16)} (pointer or reserved)`);
    wireLen += len + 1;
    if (wireLen > MAX_NAME) throw new MalformedQuery(`QNAME longer than ${MAX_NAME} octets`);
    pos += 1;
    if (len === 0) break;
    if (len > MAX_LABEL) throw new MalformedQuery(`label longer than ${MAX_LABEL} octets`);
    if (pos + len > msg.length) throw new MalformedQuery('label runs past the end of the message');
    labels.push(Buffer.from(msg.subarray(pos, pos + len)).toString('latin1').toLowerCase());
    pos += len;
  }
  if (pos + 4 > msg.length) throw new MalformedQuery('QTYPE/QCLASS missing');
  const qtype = (msg[pos] << 8) | msg[pos + 1];
  const qclass = (msg[pos + 2] << 8) | msg[pos + 3];
  return { name: labels.join('.'), qtype, qclass, end: pos + 4 };
}

function within(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

/** The policy: which answer a question gets. Pure, so it can be unit-tested. */
export function decide(q: Question, zone: string, hosts: ReadonlyMap<string, string>): Decision {
  if (within(q.name, `timeout.${zone}`)) return { kind: 'drop' };
  if (within(q.name, `nx.${zone}`)) return { kind: 'answer', rcode: RCODE.NXDOMAIN, authoritative: true };
  if (within(q.name, `servfail.${zone}`)) return { kind: 'answer', rcode: RCODE.SERVFAIL, authoritative: false };
  const address = hosts.get(q.name);
  if (address !== undefined && (q.qclass === CLASS_IN || q.qclass === QCLASS_ANY)) {
    const wantsA = q.qtype === TYPE_A || q.qtype === QTYPE_ANY;
    return { kind: 'answer', rcode: RCODE.NOERROR, authoritative: true, address: wantsA ? address : undefined };
  }
  return { kind: 'answer', rcode: RCODE.REFUSED, authoritative: false };
}

/**
 * Build a response (RFC 1035 4.1.1 header, 4.1.2 question echoed, 4.1.3 one A record). The header keeps ID, OPCODE
 * and RD from the query; RA stays 0 because this peer never recurses.
 */
export function buildResponse(query: Uint8Array, questionEnd: number, rcode: number, authoritative: boolean, address?: string): Buffer {
  const question = questionEnd > HEADER_LEN ? query.subarray(HEADER_LEN, questionEnd) : new Uint8Array(0);
  const answer = address !== undefined ? 16 : 0;
  const out = Buffer.alloc(HEADER_LEN + question.length + answer);
  out[0] = query[0]; // ID
  out[1] = query[1];
  const opcode = (query[2] >> 3) & 0x0f;
  const rd = query[2] & 0x01;
  out[2] = 0x80 | (opcode << 3) | (authoritative ? 0x04 : 0) | rd; // QR=1, OPCODE, AA, TC=0, RD
  out[3] = rcode & 0x0f; // RA=0, Z=0, RCODE
  out.writeUInt16BE(question.length > 0 ? 1 : 0, 4); // QDCOUNT
  out.writeUInt16BE(address !== undefined ? 1 : 0, 6); // ANCOUNT
  out.writeUInt16BE(0, 8); // NSCOUNT
  out.writeUInt16BE(0, 10); // ARCOUNT
  Buffer.from(question).copy(out, HEADER_LEN);
  if (address !== undefined) {
    let p = HEADER_LEN + question.length;
    out.writeUInt16BE(0xc000 | HEADER_LEN, p); // NAME: pointer to the QNAME at offset 12 (RFC 1035 4.1.4)
    out.writeUInt16BE(TYPE_A, p + 2);
    out.writeUInt16BE(CLASS_IN, p + 4);
    out.writeUInt32BE(TTL_SECONDS, p + 6);
    out.writeUInt16BE(4, p + 10); // RDLENGTH
    p += 12;
    for (const octet of address.split('.')) out[p++] = Number(octet); // RDATA: RFC 1035 3.4.1
  }
  return out;
}

/** Handle one datagram: the bytes to send back, or null to stay silent. Never throws on bad input. */
export function respond(
  msg: Uint8Array,
  zone: string,
  hosts: ReadonlyMap<string, string>,
): { reply: Buffer | null; summary: string } {
  if (msg.length < HEADER_LEN) return { reply: null, summary: `drop: ${msg.length}-byte datagram (no header)` };
  if (msg[2] & 0x80) return { reply: null, summary: 'drop: QR=1 (a response, not a query)' };
  const opcode = (msg[2] >> 3) & 0x0f;
  if (opcode !== 0) return { reply: buildResponse(msg, 0, RCODE.NOTIMP, false), summary: `NOTIMP: opcode ${opcode}` };
  const qdcount = (msg[4] << 8) | msg[5];
  if (qdcount !== 1) return { reply: buildResponse(msg, 0, RCODE.FORMERR, false), summary: `FORMERR: QDCOUNT ${qdcount}` };
  let q: Question;
  try {
    q = readQuestion(msg, HEADER_LEN);
  } catch (err) {
    if (!(err instanceof MalformedQuery)) throw err;
    return { reply: buildResponse(msg, 0, RCODE.FORMERR, false), summary: `FORMERR: ${err.message}` };
  }
  const what = `${q.name || '.'} type ${q.qtype} class ${q.qclass}`;
  const d = decide(q, zone, hosts);
  if (d.kind === 'drop') return { reply: null, summary: `${what} -> no answer (timeout zone)` };
  const reply = buildResponse(msg, q.end, d.rcode, d.authoritative, d.address);
  if (reply.length > MAX_UDP) return { reply: null, summary: `${what} -> drop (reply over ${MAX_UDP} bytes)` };
  const name = Object.entries(RCODE).find(([, v]) => v === d.rcode)?.[0] ?? String(d.rcode);
  return { reply, summary: `${what} -> ${name}${d.address ? ` A ${d.address}` : ''}` };
}

/** Names in ZONE from an /etc/hosts style file (IPv4 entries only). */
export function loadHosts(file: string, zone: string): Map<string, string> {
  const map = new Map<string, string>();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return map;
  }
  for (const raw of text.split('\n')) {
    const [address, ...names] = raw.replace(/#.*/, '').trim().split(/\s+/);
    if (!address || !isIPv4(address)) continue;
    for (const n of names) {
      const name = n.toLowerCase().replace(/\.$/, '');
      if (within(name, zone) && !map.has(name)) map.set(name, address);
    }
  }
  return map;
}

export interface DnsPeerOptions {
  host?: string;
  port?: number;
  zone?: string;
  hostsFile?: string;
  log?: (line: string) => void;
}

/** Start the peer; resolves once bound. */
export async function startDnsPeer(opts: DnsPeerOptions = {}): Promise<{ socket: Socket; port: number; close(): Promise<void> }> {
  const host = opts.host ?? '127.0.0.1';
  const zone = (opts.zone ?? 'rdplab.test').toLowerCase();
  const hosts = loadHosts(opts.hostsFile ?? '/etc/hosts', zone);
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const socket = createSocket(isIPv4(host) ? 'udp4' : 'udp6');
  socket.on('message', (msg: Buffer, from: RemoteInfo) => {
    const id = msg.length >= 2 ? msg.readUInt16BE(0) : -1;
    const { reply, summary } = respond(msg, zone, hosts);
    log(`dns-peer ${from.address}:${from.port} id ${id}: ${summary}`);
    if (reply) socket.send(reply, from.port, from.address);
  });
  socket.on('error', (err) => log(`dns-peer socket error: ${err.message}`));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(opts.port ?? 53, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const port = socket.address().port;
  return { socket, port, close: () => new Promise<void>((r) => socket.close(() => r())) };
}

function parseArgs(argv: string[]): DnsPeerOptions {
  const opts: DnsPeerOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    i++;
    switch (flag) {
      case '--host':
        opts.host = value;
        break;
      case '--port': {
        const port = Number(value);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad --port ${value}`);
        opts.port = port;
        break;
      }
      case '--zone':
        opts.zone = value;
        break;
      case '--hosts':
        opts.hostsFile = value;
        break;
      default:
        throw new Error(`unknown option ${flag} (use --host, --port, --zone, --hosts)`);
    }
  }
  return opts;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let opts: DnsPeerOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`dns-peer: ${(err as Error).message}\n`);
    process.exit(2);
  }
  startDnsPeer(opts).then(
    (peer) => {
      const hostCount = loadHosts(opts.hostsFile ?? '/etc/hosts', opts.zone ?? 'rdplab.test').size;
      process.stdout.write(`dns-peer listening on ${opts.host ?? '127.0.0.1'}:${peer.port} (${hostCount} lab names)\n`);
      const stop = () => void peer.close().then(() => process.exit(0));
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    },
    (err: Error) => {
      process.stderr.write(`dns-peer: cannot bind: ${err.message}\n`);
      process.exit(1);
    },
  );
}
