/**
 * Sanity tests of the integration lab itself (no rdprobe code): addresses, listeners, firewall behaviour, the MTU-1400
 * core link with and without ICMP, the DNS test peer, and the servers' first answers. Everything is sent from inside
 * rdplab-client with plain Node sockets or ping; see lab/README.md for the map.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CLIENT_NS,
  CORE_MTU,
  LAB_HOSTS,
  LAB_NAMESPACES,
  LAB_PATH,
  ROUTER_ADDRESS,
  RUN_DIR,
  flushPmtu,
  inClient,
  inNamespace,
  labUp,
  nodeJsonInClient,
} from './helpers.js';

// ---- scripts run inside rdplab-client (argv after `--`) -----------------------------------------------------------

/** host port timeoutMs → {outcome: 'connect' | 'error' | 'timeout', code?, ms} */
const TCP_CONNECT = `
import net from 'node:net';
const [host, port, timeoutMs] = process.argv.slice(1);
const t0 = performance.now();
const s = net.connect({ host, port: Number(port) });
const done = (o) => { clearTimeout(timer); s.destroy(); console.log(JSON.stringify({ ...o, ms: Math.round(performance.now() - t0) })); };
const timer = setTimeout(() => done({ outcome: 'timeout' }), Number(timeoutMs));
s.once('connect', () => done({ outcome: 'connect' }));
s.once('error', (e) => done({ outcome: 'error', code: e.code }));
`;

/** host port timeoutMs → {outcome: 'reply' | 'error' | 'silent', code?} after two datagrams on a connected socket */
const UDP_PROBE = `
import dgram from 'node:dgram';
const [host, port, timeoutMs] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
const done = (o) => { clearTimeout(timer); s.close(); console.log(JSON.stringify(o)); };
const timer = setTimeout(() => done({ outcome: 'silent' }), Number(timeoutMs));
s.on('error', (e) => done({ outcome: 'error', code: e.code }));
s.on('message', (m) => done({ outcome: 'reply', bytes: m.length }));
s.connect(Number(port), host, () => {
  s.send(Buffer.alloc(32));
  setTimeout(() => { try { s.send(Buffer.alloc(32)); } catch {} }, 200);
});
`;

/** host requestedProtocols → {outcome: 'reply', hex} | {outcome: 'error'|'closed'|'timeout'} for one X.224 CR */
const X224_EXCHANGE = `
import net from 'node:net';
const [host, requested] = process.argv.slice(1);
// MS-RDPBCGR 2.2.1.1: TPKT(4) + X.224 CR(7) + RDP_NEG_REQ(8), no cookie
const cr = Buffer.from([0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0, 0, 0, 0, 0, 0x01, 0x00, 0x08, 0x00, 0, 0, 0, 0]);
cr.writeUInt32LE(Number(requested), 15);
const s = net.connect({ host, port: 3389 });
let buf = Buffer.alloc(0);
const done = (o) => { clearTimeout(timer); s.destroy(); console.log(JSON.stringify(o)); };
const timer = setTimeout(() => done({ outcome: 'timeout', hex: buf.toString('hex') }), 5000);
s.once('connect', () => s.write(cr));
s.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  if (buf.length >= 4 && buf.length >= buf.readUInt16BE(2)) done({ outcome: 'reply', hex: buf.subarray(0, buf.readUInt16BE(2)).toString('hex') });
});
s.once('error', (e) => done({ outcome: 'error', code: e.code }));
s.once('end', () => done({ outcome: 'closed', hex: buf.toString('hex') }));
`;

/** host requestedProtocols waitMs → CR/CC, then a TLS handshake over the same socket (MS-RDPBCGR 5.4.5.1) */
const TLS_AFTER_CC = `
import net from 'node:net';
import tls from 'node:tls';
const [host, requested, waitMs] = process.argv.slice(1);
const cr = Buffer.from([0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0, 0, 0, 0, 0, 0x01, 0x00, 0x08, 0x00, 0, 0, 0, 0]);
cr.writeUInt32LE(Number(requested), 15);
const t0 = performance.now();
const s = net.connect({ host, port: 3389 });
const out = (o) => { console.log(JSON.stringify({ ...o, bytesRead: s.bytesRead, ms: Math.round(performance.now() - t0) })); };
const guard = setTimeout(() => { out({ outcome: 'no-cc' }); s.destroy(); }, 5000);
s.once('connect', () => s.write(cr));
s.once('error', (e) => { clearTimeout(guard); out({ outcome: 'tcp-error', code: e.code }); });
s.once('data', (cc) => {
  clearTimeout(guard);
  // A CC of 19 bytes arrives in one segment on these links; anything else is reported, not guessed at.
  if (cc.length !== 19 || cc[11] !== 0x02) { out({ outcome: 'not-selected', cc: cc.toString('hex') }); s.destroy(); return; }
  const t = tls.connect({ socket: s, rejectUnauthorized: false });
  const timer = setTimeout(() => { out({ outcome: 'stalled' }); t.destroy(); s.destroy(); }, Number(waitMs));
  t.once('secureConnect', () => {
    clearTimeout(timer);
    const c = t.getPeerCertificate();
    out({ outcome: 'ok', version: t.getProtocol(), cn: c.subject?.CN, bits: c.bits });
    t.destroy();
  });
  t.once('error', (e) => { clearTimeout(timer); out({ outcome: 'tls-error', code: e.code, message: e.message }); });
});
`;

/** names… → {[name]: addresses | error code} via c-ares (straight to the DNS peer) and getaddrinfo (hosts file first) */
const DNS_QUERIES = `
import dns from 'node:dns';
const names = process.argv.slice(1);
const r = new dns.promises.Resolver({ timeout: 800, tries: 1 });
const resolved = {};
const looked = {};
await Promise.all(names.map(async (n) => {
  resolved[n] = await r.resolve4(n).catch((e) => e.code);
  looked[n] = await dns.promises.lookup(n, { family: 4 }).then((a) => [a.address], (e) => e.code);
}));
console.log(JSON.stringify({ servers: r.getServers(), resolved, looked }));
`;

interface TcpResult {
  outcome: 'connect' | 'error' | 'timeout';
  code?: string;
  ms: number;
}
interface X224Result {
  outcome: 'reply' | 'error' | 'closed' | 'timeout';
  hex?: string;
  code?: string;
}
interface TlsResult {
  outcome: 'ok' | 'stalled' | 'no-cc' | 'tcp-error' | 'tls-error' | 'not-selected';
  version?: string;
  cn?: string;
  bits?: number;
  bytesRead: number;
  ms: number;
}

const tcpConnect = (host: string, timeoutMs = 3000) =>
  nodeJsonInClient<TcpResult>(TCP_CONNECT, [host, '3389', String(timeoutMs)], { timeoutMs: timeoutMs + 10_000 });
const udpProbe = (host: string, timeoutMs = 1500) =>
  nodeJsonInClient<{ outcome: string; code?: string }>(UDP_PROBE, [host, '3389', String(timeoutMs)], { timeoutMs: timeoutMs + 10_000 });
const x224 = (host: string, requested: number) => nodeJsonInClient<X224Result>(X224_EXCHANGE, [host, String(requested)], { timeoutMs: 15_000 });
const tlsAfterCc = (host: string, requested: number, waitMs: number) =>
  nodeJsonInClient<TlsResult>(TLS_AFTER_CC, [host, String(requested), String(waitMs)], { timeoutMs: waitMs + 15_000 });
const ping = (host: string, payload: number) =>
  inClient(['ping', '-n', '-M', 'do', '-c', '1', '-W', '2', '-s', String(payload), host], { timeoutMs: 10_000 });
const spaced = (hex: string) => hex.replace(/(..)(?!$)/g, '$1 ');

/** packets counted by the nft rule whose comment starts with PREFIX in namespace NS */
async function nftCounter(ns: string, prefix: string): Promise<number> {
  const r = await inNamespace(ns, ['nft', 'list', 'table', 'inet', 'rdplab'], { timeoutMs: 10_000 });
  const line = r.stdout.split('\n').find((l) => l.includes(`comment "${prefix}`));
  const m = line?.match(/counter packets (\d+)/);
  if (!m) throw new Error(`no counter "${prefix}" in ${ns}:\n${r.stdout}${r.stderr}`);
  return Number(m[1]);
}

beforeAll(() => {
  if (!labUp()) throw new Error('lab is not up (the lab project global setup should have started it)');
});

describe('lab topology', () => {
  it('has every namespace, and the root namespace holds no lab address or route', () => {
    const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', env: { ...process.env, PATH: LAB_PATH } }).stdout;
    for (const ns of LAB_NAMESPACES) expect(list).toMatch(new RegExp(`^${ns}( |$)`, 'm'));
    const addrs = spawnSync('ip', ['-4', '-o', 'addr'], { encoding: 'utf8', env: { ...process.env, PATH: LAB_PATH } }).stdout;
    const routes = spawnSync('ip', ['-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8', env: { ...process.env, PATH: LAB_PATH } }).stdout;
    expect(addrs).not.toContain('198.19.');
    expect(routes).not.toContain('198.19.');
  });

  it('client: IPv6 off, offloads off, default route via the router', async () => {
    const r = await inClient(['sh', '-c', 'cat /proc/sys/net/ipv6/conf/all/disable_ipv6 /proc/sys/net/ipv6/conf/eth0/disable_ipv6; ip -4 route; ethtool -k eth0'], { timeoutMs: 10_000 });
    const [all, eth0] = r.stdout.split('\n');
    expect([all, eth0]).toEqual(['1', '1']);
    expect(r.stdout).toContain(`default via ${ROUTER_ADDRESS} dev eth0`);
    for (const feature of ['tcp-segmentation-offload', 'generic-segmentation-offload', 'generic-receive-offload', 'tx-checksumming']) {
      expect(r.stdout).toMatch(new RegExp(`^${feature}: off`, 'm'));
    }
  });

  it(`core link has MTU ${CORE_MTU} on both ends; servers keep 1500 and tcp_mtu_probing=0`, async () => {
    const router = await inNamespace('rdplab-router', ['ip', '-o', 'link', 'show', 'core'], { timeoutMs: 10_000 });
    const wan = await inNamespace('rdplab-wan', ['ip', '-o', 'link', 'show', 'core'], { timeoutMs: 10_000 });
    expect(router.stdout).toContain(`mtu ${CORE_MTU} `);
    expect(wan.stdout).toContain(`mtu ${CORE_MTU} `);
    for (const host of [LAB_HOSTS.blackhole, LAB_HOSTS.mtu1400]) {
      const r = await inNamespace(host.ns, ['sh', '-c', 'cat /proc/sys/net/ipv4/tcp_mtu_probing; ip -o link show eth0'], { timeoutMs: 10_000 });
      expect(r.stdout.split('\n')[0]).toBe('0');
      expect(r.stdout).toContain('mtu 1500 ');
    }
  });

  it('xrdp listens with backlog 2 (Send-Q of the listening socket)', async () => {
    const r = await inNamespace(LAB_HOSTS.tls.ns, ['ss', '-Hlnt', 'sport = :3389'], { timeoutMs: 10_000 });
    expect(r.stdout.trim().split(/\s+/).slice(0, 3)).toEqual(['LISTEN', '0', '2']);
  });
});

describe('TCP and UDP 3389 from rdplab-client', () => {
  it.each(Object.entries(LAB_HOSTS).filter(([, h]) => h.tcp !== null))('%s accepts TCP 3389', async (_name, host) => {
    const r = await tcpConnect(host.address);
    expect(r.outcome).toBe('connect');
  });

  it('closed refuses at once (RST)', async () => {
    const r = await tcpConnect(LAB_HOSTS.closed.address);
    expect(r).toMatchObject({ outcome: 'error', code: 'ECONNREFUSED' });
    expect(r.ms).toBeLessThan(1000);
  });

  it('filtered stays silent (no RST, no ICMP) for 3 s', async () => {
    const r = await tcpConnect(LAB_HOSTS.filtered.address, 3000);
    expect(r.outcome).toBe('timeout');
  });

  it('UDP 3389: port unreachable from tls and closed; silence from udpdrop and filtered', async () => {
    const before = await nftCounter('rdplab-router', 'udpdrop');
    expect(await udpProbe(LAB_HOSTS.tls.address)).toMatchObject({ outcome: 'error', code: 'ECONNREFUSED' });
    expect(await udpProbe(LAB_HOSTS.closed.address)).toMatchObject({ outcome: 'error', code: 'ECONNREFUSED' });
    expect(await udpProbe(LAB_HOSTS.udpdrop.address)).toMatchObject({ outcome: 'silent' });
    expect(await udpProbe(LAB_HOSTS.filtered.address)).toMatchObject({ outcome: 'silent' });
    expect(await nftCounter('rdplab-router', 'udpdrop')).toBeGreaterThanOrEqual(before + 2);
    // TCP to udpdrop is untouched by the UDP rule
    expect((await tcpConnect(LAB_HOSTS.udpdrop.address)).outcome).toBe('connect');
  });

  it('udp: UDP 3389 reaches the RDPEUDP responder (no port unreachable; non-SYN datagrams are ignored)', async (ctx) => {
    if (!readFileSync(join(RUN_DIR, 'pids'), 'utf8').includes(' rdpeudp-responder ')) ctx.skip();
    expect(await udpProbe(LAB_HOSTS.udp.address)).toMatchObject({ outcome: 'silent' });
  });
});

// PMTU state is per kernel namespace, shared with any other test run using the lab at the same time (its pings and
// flushes land in between ours), hence the retries.
describe('path MTU: the MTU-1400 core link', { retry: 2 }, () => {
  it('mtu1400: DF 1400-byte packets pass, 1500 get frag-needed (mtu = 1400) from the router', async () => {
    flushPmtu();
    const small = await ping(LAB_HOSTS.mtu1400.address, CORE_MTU - 28);
    expect(small.code).toBe(0);
    expect(small.stdout).toContain('1 received');
    const big = await ping(LAB_HOSTS.mtu1400.address, 1472);
    expect(big.code).not.toBe(0);
    expect(big.stdout).toContain(`From ${ROUTER_ADDRESS} icmp_seq=1 Frag needed and DF set (mtu = ${CORE_MTU})`);
  });

  it('the kernel caches the learned MTU until lab.sh flush-pmtu', async () => {
    flushPmtu();
    await ping(LAB_HOSTS.mtu1400.address, 1472); // learns 1400
    const cached = await inClient(['ip', '-4', 'route', 'get', LAB_HOSTS.mtu1400.address], { timeoutMs: 10_000 });
    expect(cached.stdout).toMatch(new RegExp(`cache expires \\d+sec mtu ${CORE_MTU}`));
    const local = await ping(LAB_HOSTS.mtu1400.address, 1472);
    expect(local.stdout + local.stderr).toContain(`message too long, mtu=${CORE_MTU}`); // EMSGSIZE, never on the wire
    flushPmtu();
    const flushed = await inClient(['ip', '-4', 'route', 'get', LAB_HOSTS.mtu1400.address], { timeoutMs: 10_000 });
    expect(flushed.stdout).not.toContain('mtu');
    const again = await ping(LAB_HOSTS.mtu1400.address, 1472);
    expect(again.stdout).toContain(`Frag needed and DF set (mtu = ${CORE_MTU})`);
    flushPmtu();
  });

  it('blackhole: DF 1400 passes, DF 1500 vanishes without any ICMP', async () => {
    flushPmtu();
    const before = await nftCounter('rdplab-router', 'blackhole');
    const small = await ping(LAB_HOSTS.blackhole.address, CORE_MTU - 28);
    expect(small.code).toBe(0);
    const big = await ping(LAB_HOSTS.blackhole.address, 1472);
    expect(big.code).toBe(1);
    expect(big.stdout).toContain('1 packets transmitted, 0 received, 100% packet loss');
    expect(big.stdout).not.toMatch(/Frag needed|errors/);
    expect(await nftCounter('rdplab-router', 'blackhole')).toBeGreaterThanOrEqual(before + 1);
    const route = await inClient(['ip', '-4', 'route', 'get', LAB_HOSTS.blackhole.address], { timeoutMs: 10_000 });
    expect(route.stdout).not.toContain('mtu'); // nothing learned
  });
});

describe('DNS test peer on 127.0.0.1:53 in rdplab-client', () => {
  it('answers per zone: lab names, NXDOMAIN, SERVFAIL, silence, REFUSED', async () => {
    const names = ['tls.rdplab.test', 'NLA.rdplab.test', 'a.nx.rdplab.test', 'a.servfail.rdplab.test', 'a.timeout.rdplab.test', 'example.invalid'];
    const r = await nodeJsonInClient<{ servers: string[]; resolved: Record<string, unknown>; looked: Record<string, unknown> }>(
      DNS_QUERIES,
      names,
      { timeoutMs: 20_000 },
    );
    expect(r.servers).toEqual(['127.0.0.1']); // from /etc/netns/rdplab-client/resolv.conf
    expect(r.resolved).toEqual({
      'tls.rdplab.test': ['198.19.1.10'],
      'NLA.rdplab.test': ['198.19.3.10'],
      'a.nx.rdplab.test': 'ENOTFOUND',
      'a.servfail.rdplab.test': 'ESERVFAIL',
      'a.timeout.rdplab.test': 'ETIMEOUT',
      'example.invalid': 'EREFUSED',
    });
    // getaddrinfo reads /etc/netns/rdplab-client/hosts first, then asks the peer; glibc folds SERVFAIL, REFUSED and
    // silence into EAI_AGAIN.
    expect(r.looked).toMatchObject({
      'tls.rdplab.test': ['198.19.1.10'],
      'a.nx.rdplab.test': 'ENOTFOUND',
      'a.servfail.rdplab.test': 'EAI_AGAIN',
      'a.timeout.rdplab.test': 'EAI_AGAIN',
    });
  });
});

describe('servers: X.224 negotiation (MS-RDPBCGR 2.2.1.2)', () => {
  it('xrdp tls: a CR requesting PROTOCOL_RDP gets NEG_FAILURE SSL_REQUIRED_BY_SERVER', async () => {
    const r = await x224(LAB_HOSTS.tls.address, 0);
    expect(r.outcome).toBe('reply');
    // TPKT len 19 | X.224 CC, DST-REF 0, SRC-REF 0x1234 (xrdp's constant) | TYPE_RDP_NEG_FAILURE, len 8, code 1
    expect(spaced(r.hex!)).toBe('03 00 00 13 0e d0 00 00 12 34 00 03 00 08 00 01 00 00 00');
  });

  it('xrdp tls: SSL|HYBRID gets PROTOCOL_SSL (xrdp has no CredSSP)', async () => {
    const r = await x224(LAB_HOSTS.tls.address, 0x3);
    expect(spaced(r.hex!)).toBe('03 00 00 13 0e d0 00 00 12 34 00 02 01 08 00 01 00 00 00');
  });

  it('xrdp rdp: every request gets PROTOCOL_RDP', async () => {
    for (const requested of [0x0, 0x1, 0x3]) {
      const r = await x224(LAB_HOSTS.rdp.address, requested);
      expect(spaced(r.hex!)).toBe('03 00 00 13 0e d0 00 00 12 34 00 02 01 08 00 00 00 00 00');
    }
  });

  it('FreeRDP shadow /sec:nla: SSL-only gets HYBRID_REQUIRED_BY_SERVER, SSL|HYBRID gets HYBRID (flags 0x03)', async () => {
    const ssl = await x224(LAB_HOSTS.nla.address, 0x1);
    expect(spaced(ssl.hex!)).toBe('03 00 00 13 0e d0 00 00 00 00 00 03 00 08 00 05 00 00 00');
    const hybrid = await x224(LAB_HOSTS.nla.address, 0x3);
    expect(spaced(hybrid.hex!)).toBe('03 00 00 13 0e d0 00 00 00 00 00 02 03 08 00 02 00 00 00');
  });
});

describe('servers: TLS after the CC', { retry: 2 }, () => {
  it('tls: TLS 1.3 with the lab certificate (RSA-2048, CN tls.rdplab.test)', async () => {
    const r = await tlsAfterCc(LAB_HOSTS.tls.address, 0x1, 5000);
    expect(r).toMatchObject({ outcome: 'ok', version: 'TLSv1.3', cn: 'tls.rdplab.test', bits: 2048 });
  });

  it('nla: TLS after HYBRID with the shadow certificate (CN RDPLAB-NLA)', async () => {
    const r = await tlsAfterCc(LAB_HOSTS.nla.address, 0x3, 5000);
    expect(r).toMatchObject({ outcome: 'ok', cn: 'RDPLAB-NLA' });
  });

  it('mtu1400: the >1400-byte server flight (RSA-4096) gets through because frag-needed reaches the server', async () => {
    flushPmtu();
    const r = await tlsAfterCc(LAB_HOSTS.mtu1400.address, 0x1, 5000);
    expect(r).toMatchObject({ outcome: 'ok', cn: 'mtu1400.rdplab.test', bits: 4096 });
    expect(r.bytesRead - 19).toBeGreaterThan(CORE_MTU); // flight after the 19-byte CC
  });

  it('blackhole: CR/CC fine, then the TLS server flight never arrives', async () => {
    flushPmtu();
    const before = await nftCounter('rdplab-wan', 'blackhole');
    const r = await tlsAfterCc(LAB_HOSTS.blackhole.address, 0x1, 4000);
    expect(r.outcome).toBe('stalled');
    expect(r.bytesRead).toBe(19); // only the CC reached the application
    expect(await nftCounter('rdplab-wan', 'blackhole')).toBeGreaterThan(before); // frag-needed to the server dropped
    const server = await inNamespace(LAB_HOSTS.blackhole.ns, ['ip', '-4', 'route', 'get', '198.19.0.10'], { timeoutMs: 10_000 });
    expect(server.stdout).not.toContain('mtu'); // the server never learned the path MTU
  });
});

describe('client namespace basics', () => {
  it(`runs commands in ${CLIENT_NS} with a deadline`, async () => {
    const r = await inClient(['sleep', '5'], { timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGKILL');
  });
});
