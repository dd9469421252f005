import { describe, expect, it } from 'vitest';
import { certificateFacts } from '../../src/record/certificate.js';
import { cipherSuiteName, isGrease, tlsVersionName } from '../../src/codec/tls/ciphers.js';
import { decodeAlert, decodeClientHello, readTlsFlight, scanRecords, splitHandshake } from '../../src/codec/tls/handshake.js';
import { hex } from '../../src/codec/writer.js';
import { tlsStreams } from './tls-streams.js';

describe('TLS record + handshake parser (clear part)', () => {
  it('ndpi-rdp: ClientHello offers TLS 1.0–1.2 with SNI; ServerHello TLS 1.2 0xc030; certificate OFFICE-WIN10-VM', () => {
    const { client, server } = tlsStreams('ndpi-rdp.pcap');
    const c = readTlsFlight(client);
    expect(c.clientHello?.versions).toEqual(['TLSv1.2', 'TLSv1.1', 'TLSv1']);
    expect(c.clientHello?.sni).toBe('192.168.2.142');
    expect(c.clientHello?.ciphers.length).toBe(22);
    expect(c.changeCipherSpecEnd).toBeGreaterThan(0);
    const s = readTlsFlight(server);
    expect(s.serverHello).toMatchObject({ version: 'TLSv1.2', cipher: { value: 0xc030, name: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384' }, helloRetryRequest: false });
    expect(s.handshake.map((h) => h.name).slice(0, 4)).toEqual(['server_hello', 'certificate', 'server_key_exchange', 'server_hello_done']);
    expect(s.flightComplete).toBe(true);
    expect(s.certificates).toHaveLength(1);
    const cert = certificateFacts(s.certificates![0], new Date('2023-07-13T00:00:00Z'));
    expect(cert).toMatchObject({ subjectCN: 'OFFICE-WIN10-VM', selfSigned: true, keyType: 'rsa' });
    // application data after the handshake: the sizes SOURCES.md lists (s286 / s83 / s28)
    expect(s.appData.map((a) => a.length)).toEqual([286, 83, 28]);
  });

  it('zeek-rdp-to-ssl: TLS 1.0 TLS_RSA_WITH_AES_128_CBC_SHA (0x002f)', () => {
    const s = readTlsFlight(tlsStreams('zeek-rdp-to-ssl.pcap').server);
    expect(s.serverHello).toMatchObject({ version: 'TLSv1', cipher: { value: 0x2f, name: 'TLS_RSA_WITH_AES_128_CBC_SHA' } });
  });

  it('a server flight cut in the middle of a record: partial with need/have, what came before kept', () => {
    const { server } = tlsStreams('ndpi-rdp.pcap');
    const s = readTlsFlight(server.subarray(0, 700));
    expect(s.serverHello?.cipher.value).toBe(0xc030);
    expect(s.flightComplete).toBe(false);
    expect(s.partial).toMatchObject({ offset: 0, have: 700 });
    expect(s.partial!.need).toBeGreaterThan(700);
  });

  it('alerts in clear, and encrypted alerts after ChangeCipherSpec', () => {
    expect(decodeAlert(hex('02 28'))).toEqual({ level: 'fatal', description: 40, name: 'handshake_failure' });
    const f = readTlsFlight(hex('15 03 03 00 02 02 46'));
    expect(f.alerts).toMatchObject([{ level: 'fatal', name: 'protocol_version' }]);
    const enc = readTlsFlight(hex('14 03 03 00 01 01 15 03 03 00 1a' + ' 00'.repeat(26)));
    expect(enc.alerts).toEqual([]);
    expect(enc.encryptedAlerts).toEqual([{ offset: 6, length: 26 }]);
    // the ndpi-rdp_over_tls server alert (frame 14) is encrypted: 26 bytes
    const s = readTlsFlight(tlsStreams('ndpi-rdp_over_tls.pcap').server);
    expect(s.encryptedAlerts.map((a) => a.length)).toEqual([26]);
  });

  it('not TLS: a clear error, no records', () => {
    const r = scanRecords(hex('03 00 00 13 0e d0'));
    expect(r.records).toEqual([]);
    expect(r.error?.message).toMatch(/not a TLS record/);
    expect(readTlsFlight(hex('48 54 54 50 2f 31')).error).toMatch(/not a TLS record/);
  });

  it('handshake messages spanning records are joined; a message cut short is left', () => {
    // ServerHelloDone split into two handshake records
    const f = readTlsFlight(hex('16 03 03 00 02 0e 00 16 03 03 00 02 00 00'));
    expect(f.flightComplete).toBe(true);
    expect(splitHandshake(hex('0e 00 00 00 0b 00 00 10 01')).messages.map((m) => m.name)).toEqual(['server_hello_done']);
  });

  it('ClientHello with supported_versions (TLS 1.3) and GREASE; names fall back to unknown(0x…)', () => {
    // legacy_version 0x0303, random, empty session id, suites {0x0a0a, 0x1301, 0x1234}, null compression,
    // extensions: supported_versions [0x0a0a, 0x0304, 0x0303]
    const body = hex(
      '03 03' + ' 00'.repeat(32) + ' 00 00 06 0a 0a 13 01 12 34 01 00 00 0b 00 2b 00 07 06 0a 0a 03 04 03 03',
    );
    const ch = decodeClientHello(body);
    expect(ch.versions).toEqual(['TLSv1.3', 'TLSv1.2']);
    expect(ch.ciphers.map((c) => c.name)).toEqual(['GREASE(0x0a0a)', 'TLS_AES_128_GCM_SHA256', 'unknown(0x1234)']);
    expect(isGrease(0x3a3a)).toBe(true);
    expect(cipherSuiteName(0x009d)).toBe('TLS_RSA_WITH_AES_256_GCM_SHA384');
    expect(tlsVersionName(0x0305)).toBe('unknown(0x0305)');
    expect(() => decodeClientHello(body.subarray(0, 40))).toThrow(/tls client_hello/);
  });
});
