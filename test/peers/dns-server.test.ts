/**
 * The lab's DNS test peer, checked on 127.0.0.1 with hand-built queries (RFC 1035 4.1) and with node:dns (c-ares).
 */
import { Resolver } from 'node:dns/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RCODE, loadHosts, respond, startDnsPeer } from './dns-server.js';

const hex = (s: string) => Buffer.from(s.replace(/\/\/.*$/gm, '').replace(/\s+/g, ''), 'hex');

const dir = mkdtempSync(join(tmpdir(), 'dns-peer-'));
const hostsFile = join(dir, 'hosts');
writeFileSync(hostsFile, '127.0.0.1 localhost\n198.19.1.10\ttls.rdplab.test # lab\n198.19.9.10 udp.rdplab.test other.example\n');
const hosts = loadHosts(hostsFile, 'rdplab.test');

// Query for tls.rdplab.test A IN, ID 0xbeef, RD=1.
const QUERY_TLS_A = hex(`
  be ef 01 00 00 01 00 00 00 00 00 00   // header: ID, flags RD, QDCOUNT 1, AN/NS/AR 0 (RFC 1035 4.1.1)
  03 74 6c 73 06 72 64 70 6c 61 62 04 74 65 73 74 00   // QNAME 3"tls" 6"rdplab" 4"test" 0 (4.1.2)
  00 01 00 01                           // QTYPE A, QCLASS IN
`);

function query(name: string, qtype = 1): Buffer {
  const labels = name.split('.').flatMap((l) => [Buffer.from([l.length]), Buffer.from(l, 'latin1')]);
  const tail = Buffer.from([0x00, qtype >> 8, qtype & 0xff, 0x00, 0x01]); // root label, QTYPE, QCLASS IN
  return Buffer.concat([hex('12 34 01 00 00 01 00 00 00 00 00 00'), ...labels, tail]);
}

describe('respond()', () => {
  it('answers a lab name with one A record, the question echoed and a pointer to it', () => {
    const { reply } = respond(QUERY_TLS_A, 'rdplab.test', hosts);
    expect(reply!.toString('hex')).toBe(
      hex(`
        be ef 85 00 00 01 00 01 00 00 00 00   // ID, QR|AA|RD, RCODE 0, QD 1, AN 1
        03 74 6c 73 06 72 64 70 6c 61 62 04 74 65 73 74 00 00 01 00 01
        c0 0c 00 01 00 01 00 00 00 3c 00 04 c6 13 01 0a   // ptr 12, A, IN, TTL 60, RDLENGTH 4, 198.19.1.10
      `).toString('hex'),
    );
  });

  it('maps the zones to RCODEs and drops the timeout zone', () => {
    const rcode = (name: string, qtype = 1) => {
      const r = respond(query(name, qtype), 'rdplab.test', hosts).reply;
      return r === null ? 'drop' : r[3] & 0x0f;
    };
    expect(rcode('x.nx.rdplab.test')).toBe(RCODE.NXDOMAIN);
    expect(rcode('a.b.servfail.rdplab.test')).toBe(RCODE.SERVFAIL);
    expect(rcode('x.timeout.rdplab.test')).toBe('drop');
    expect(rcode('example.invalid')).toBe(RCODE.REFUSED);
    expect(rcode('unknown.rdplab.test')).toBe(RCODE.REFUSED);
    expect(rcode('other.example')).toBe(RCODE.REFUSED); // hosts entries outside the zone are not served
    expect(rcode('TLS.RDPLAB.TEST')).toBe(RCODE.NOERROR);
    const aaaa = respond(query('tls.rdplab.test', 28), 'rdplab.test', hosts).reply!;
    expect([aaaa[3] & 0x0f, aaaa.readUInt16BE(6)]).toEqual([RCODE.NOERROR, 0]); // NODATA
  });

  it('never throws on bad input: FORMERR when the header is readable, silence otherwise', () => {
    expect(respond(hex('be ef 01'), 'rdplab.test', hosts).reply).toBeNull();
    const response = Buffer.from(QUERY_TLS_A);
    response[2] |= 0x80;
    expect(respond(response, 'rdplab.test', hosts).reply).toBeNull(); // QR=1
    const formerr = (b: Buffer) => respond(b, 'rdplab.test', hosts).reply![3] & 0x0f;
    expect(formerr(QUERY_TLS_A.subarray(0, 20))).toBe(RCODE.FORMERR); // truncated label
    expect(formerr(QUERY_TLS_A.subarray(0, QUERY_TLS_A.length - 2))).toBe(RCODE.FORMERR); // no QCLASS
    expect(formerr(Buffer.concat([QUERY_TLS_A.subarray(0, 12), hex('c0 0c 00 01 00 01')]))).toBe(RCODE.FORMERR); // pointer
    const two = Buffer.from(QUERY_TLS_A);
    two[5] = 2;
    expect(formerr(two)).toBe(RCODE.FORMERR); // QDCOUNT 2
    const status = Buffer.from(QUERY_TLS_A);
    status[2] = 0x10; // OPCODE 2 (STATUS)
    expect(respond(status, 'rdplab.test', hosts).reply![3] & 0x0f).toBe(RCODE.NOTIMP);
    for (let i = 0; i < 2000; i++) {
      const junk = Buffer.from(QUERY_TLS_A);
      junk[12 + (i % (junk.length - 12))] = (i * 37) & 0xff;
      expect(() => respond(junk.subarray(0, 12 + ((i * 7) % junk.length)), 'rdplab.test', hosts)).not.toThrow();
    }
  });
});

describe('startDnsPeer() on 127.0.0.1 with node:dns', () => {
  let peer: Awaited<ReturnType<typeof startDnsPeer>>;
  const lines: string[] = [];
  beforeAll(async () => {
    peer = await startDnsPeer({ host: '127.0.0.1', port: 0, hostsFile, log: (l) => lines.push(l) });
  });
  afterAll(async () => {
    await peer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives c-ares the answers the lab tests rely on', async () => {
    const r = new Resolver({ timeout: 300, tries: 1 });
    r.setServers([`127.0.0.1:${peer.port}`]);
    const code = (p: Promise<unknown>) => p.then((v) => v, (e: NodeJS.ErrnoException) => e.code);
    expect(await r.resolve4('tls.rdplab.test')).toEqual(['198.19.1.10']);
    expect(await code(r.resolve4('a.nx.rdplab.test'))).toBe('ENOTFOUND');
    expect(await code(r.resolve4('a.servfail.rdplab.test'))).toBe('ESERVFAIL');
    expect(await code(r.resolve4('a.timeout.rdplab.test'))).toBe('ETIMEOUT');
    expect(await code(r.resolve4('example.invalid'))).toBe('EREFUSED');
    expect(lines.some((l) => l.includes('a.timeout.rdplab.test') && l.includes('no answer'))).toBe(true);
  });
});
