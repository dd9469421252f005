import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnose/index.js';
import type { Observation } from '../../src/observation/types.js';
import { validateObservation } from '../../src/observation/validate.js';
import { replayStream } from '../../src/replay/replay.js';
import { captureFromBytes } from '../../src/replay/stream.js';

// Golden files: fixtures/pcap/X.pcap ↔ X.replay.json (Observations + findings per attempt, tool.version removed).
// Regenerate with UPDATE_GOLDEN=1 and check the diff by hand against SOURCES.md / TSHARK-OUTPUT.md.
const DIR = join(__dirname, '../../fixtures/pcap');
const captures = readdirSync(DIR).filter((f) => /\.(pcap|pcapng)(\.gz)?$/.test(f)).sort();

export async function replayFixture(file: string) {
  const bytes = readFileSync(join(DIR, file));
  const r = await replayStream(captureFromBytes(bytes, 4096), { file });
  const attempts = r.observations.map((o) => {
    validateObservation(JSON.parse(JSON.stringify(o)));
    const d = diagnose(o, { profile: 'mstsc' });
    const obs = structuredClone(o) as Partial<Observation>;
    delete (obs as { tool?: unknown }).tool;
    return {
      observation: obs,
      verdict: d.verdict,
      findings: d.findings.map((f) => ({ id: f.id, severity: f.severity, summary: f.summary, clientErrors: f.clientErrors.map((c) => c.code) })),
    };
  });
  return { frames: r.capture.records, malformed: r.malformed, damage: r.damage ?? null, warnings: r.warnings, attempts, raw: r };
}

describe('replay golden files', () => {
  for (const file of captures) {
    it(file, async () => {
      const { raw, ...got } = await replayFixture(file);
      void raw;
      const golden = join(DIR, `${basename(file).replace(/\.(pcap|pcapng)(\.gz)?$/, '')}.replay.json`);
      const text = `${JSON.stringify(got, null, 2)}\n`;
      if (process.env.UPDATE_GOLDEN === '1' || !existsSync(golden)) {
        if (process.env.UPDATE_GOLDEN !== '1') throw new Error(`${golden} missing: run with UPDATE_GOLDEN=1 and check it by hand`);
        writeFileSync(golden, text);
      }
      expect(JSON.parse(text)).toEqual(JSON.parse(readFileSync(golden, 'utf8')));
    });
  }
});

// The facts SOURCES.md lists per capture (from tshark and the source projects' baselines), asserted explicitly.
describe('replay facts from SOURCES.md', () => {
  const run = async (f: string) => (await replayFixture(f)).raw.observations;
  const sum = (f: string) => f;

  it('zeek-rdp-proprietary-encryption: SSL refused with SSL_NOT_ALLOWED_BY_SERVER, then Standard RDP Security 128-bit High', async () => {
    const [c1, c2] = await run(sum('zeek-rdp-proprietary-encryption.pcap'));
    expect(c1.x224).toMatchObject({ requested: ['SSL'], outcome: 'failure', failure: { value: 2, name: 'SSL_NOT_ALLOWED_BY_SERVER' } });
    expect(c1.source.frames![0]).toBe(1);
    expect(c1.tls).toBeUndefined();
    // the two connections together are an enumeration: SSL refused, RDP accepted → mstsc falls back to Standard
    // RDP Security, as this client did (Zeek: conn1 SSL_NOT_ALLOWED_BY_SERVER, conn2 Success / RDP)
    expect(c1.protocols).toMatchObject({ SSL: { outcome: 'failure' }, RDP: { outcome: 'accepted' } });
    expect(c1.replay?.protocolsFromAttempts).toEqual([1, 9]);
    const d1 = diagnose(c1, { profile: 'mstsc' });
    expect(d1.verdict.line).toBe('healthy for mstsc, with 1 warning: Standard RDP Security');
    expect(c2.x224).toMatchObject({ requested: ['RDP'], outcome: 'selected', selected: 'RDP' });
    expect(c2.mcs).toMatchObject({ outcome: 'ok', via: 'plain', rdpVersion: { value: 0x00080004 }, encryptionMethod: { value: 2 }, encryptionLevel: { value: 3 } });
    expect(c2.mcs!.serverCertificate?.type).toBe('proprietary');
    expect(c2.replay).toMatchObject({ clientCore: { build: 6000, name: 'FROG-POND', keyboardLayout: 0x409, encryptionMethods: 0x1b } });
    // tshark: 9 "previous segment not captured" in the server direction, each filled by the next out-of-order frame
    const gaps = (c2.replay as unknown as { tcp: { server: { gaps: { filledFrame?: number }[] } } }).tcp.server.gaps;
    expect(gaps).toHaveLength(9);
    expect(gaps.every((g) => g.filledFrame !== undefined)).toBe(true);
  });

  it('zeek-rdp-to-ssl: two HYBRID connections, ServerHello TLS 1.0 AES128-SHA, self-signed WIN2K8R2 certificate, CredSSP inferred', async () => {
    const obs = await run('zeek-rdp-to-ssl.pcap');
    expect(obs).toHaveLength(2);
    for (const o of obs) {
      expect(o.x224).toMatchObject({ requestedMask: 3, selected: 'HYBRID', flags: { value: 1 } });
      expect(o.tls).toMatchObject({ outcome: 'ok', cipher: { name: 'TLS_RSA_WITH_AES_128_CBC_SHA' } });
      // the Win7 client offered only TLS 1.0: the server's choice does not show its newest version, so no
      // "outdated TLS" claim is made from this capture; the ServerHello facts stay in the replay evidence
      expect(o.tls!.version).toBeUndefined();
      expect(o.replay).toMatchObject({ tlsClient: { versions: ['TLSv1'] }, tlsServer: { version: 'TLSv1', cipher: 'TLS_RSA_WITH_AES_128_CBC_SHA' } });
      expect(diagnose(o, { profile: 'mstsc' }).findings.map((f) => f.id)).not.toContain('tls-outdated');
      expect(o.tls!.certificate).toMatchObject({ subjectCN: 'WIN2K8R2.awakecoding.ath.cx', selfSigned: true });
      expect(o.credssp?.outcome).toBe('challenge');
      expect(o.credssp?.detail).toMatch(/inferred/);
    }
    expect((obs[0].replay as unknown as { records: { client: number[]; server: number[] } }).records).toEqual({ client: [80, 928], server: [336, 336] });
    expect(obs[1].source.frames![0]).toBe(20);
  });

  it('zeek-rdp-no-cookie-mstshash: HYBRID_EX, TLS 1.2 AES256-GCM, no CredSSP, client reset', async () => {
    const [o] = await run('zeek-rdp-no-cookie-mstshash.pcap');
    expect(o.x224).toMatchObject({ requestedMask: 0x0b, selected: 'HYBRID_EX', flags: { value: 0x1f } });
    expect((o.replay as unknown as { request: { cookie?: string } }).request.cookie).toBeUndefined();
    expect(o.tls).toMatchObject({ outcome: 'ok', version: 'TLSv1.2', cipher: { name: 'TLS_RSA_WITH_AES_256_GCM_SHA384' } });
    expect(o.tls!.certificate?.subjectCN).toBe('CLK-456040-D.one.phoenix.gov');
    expect(o.credssp).toBeUndefined();
    expect((o.replay as unknown as { tcp: { client: { rst?: number } } }).tcp.client.rst).toBe(19);
  });

  it('zeek-rdp-x509: RDP selected, 128-bit, Client Compatible, X.509 chain of 2', async () => {
    const [o] = await run('zeek-rdp-x509.pcap');
    expect(o.x224).toMatchObject({ requested: ['RDP'], selected: 'RDP' });
    expect((o.replay as unknown as { request: { cookie: string } }).request.cookie).toBe('JOHN-PC  ');
    expect(o.mcs).toMatchObject({ outcome: 'ok', rdpVersion: { value: 0x00080004 }, encryptionMethod: { value: 2 }, encryptionLevel: { value: 2 } });
    expect(o.mcs!.serverCertificate).toMatchObject({ type: 'x509', chainLength: 2, keyBits: 512 });
    expect(o.replay).toMatchObject({ clientCore: { build: 9600, name: 'JOHN-PC-LAPTOP', width: 1920, height: 1080 } });
  });

  it('zeek-rdp-unknown-keyboard: no Connect-Response in the capture; keyboard 0x0004041E', async () => {
    const [o] = await run('zeek-rdp-unknown-keyboard.pcap');
    expect(o.mcs?.outcome).toBe('timeout');
    expect(o.mcs?.detail).toMatch(/no MCS Connect-Response/);
    expect(o.replay).toMatchObject({ clientCore: { keyboardLayout: 263198, build: 9600 } });
  });

  it('zeek-rdp-invalid-length: no crash, malformed negotiation (RDP_NEG_RSP length 0)', async () => {
    const [o] = await run('zeek-rdp-invalid-length.pcap');
    expect(o.x224?.outcome).toBe('malformed');
    expect(o.x224?.detail).toMatch(/RDP_NEG_RSP\.length.*must be 8, got 0/);
  });

  it('RDPEUDP: handshake-fail = 3 SYNs silent; success (IPv6) and RDPEUDP2 answered', async () => {
    const [fail] = await run('zeek-rdpeudp-handshake-fail.pcap');
    expect(fail.udp).toMatchObject({ outcome: 'silent', attempts: 3 });
    const [v6] = await run('zeek-rdpeudp-handshake-success.pcap');
    expect(v6.source.host).toBe('::1');
    expect(v6.udp?.outcome).toBe('synack');
    const [v3] = await run('zeek-rdpeudp2-handshake-success.pcap');
    expect(v3.udp).toMatchObject({ outcome: 'synack', version: 0x0101 });
    const two = await run('ndpi-rdp2.pcap');
    expect(two.map((o) => o.udp?.version)).toEqual([0x0101, 0x0002]);
  });

  it('ndpi-rdp: HYBRID_EX, TLS 1.2 ECDHE-RSA-AES256-GCM, OFFICE-WIN10-VM; last server record 28 bytes', async () => {
    const [o] = await run('ndpi-rdp.pcap');
    expect(o.x224).toMatchObject({ requestedMask: 0x0b, selected: 'HYBRID_EX' });
    expect(o.tls).toMatchObject({ version: 'TLSv1.2', cipher: { name: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384' } });
    expect(o.tls!.certificate?.subjectCN).toBe('OFFICE-WIN10-VM');
    expect((o.replay as unknown as { records: { client: number[]; server: number[] } }).records).toEqual({ client: [81, 567, 100], server: [286, 83, 28] });
  });

  it('ndpi-rdp_over_tls: HYBRID, TLS 1.2, topsalon; encrypted alert after AUTHENTICATE → logon failure (inferred)', async () => {
    const [o] = await run('ndpi-rdp_over_tls.pcap');
    expect(o.x224).toMatchObject({ requestedMask: 3, selected: 'HYBRID' });
    expect(o.tls).toMatchObject({ version: 'TLSv1.2', cipher: { name: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384' } });
    expect(o.tls!.certificate?.subjectCN).toBe('topsalon');
    expect(o.credssp?.auth).toMatchObject({ outcome: 'alert' });
    expect(o.credssp?.auth?.detail).toMatch(/inference/);
    const d = diagnose(o, { profile: 'mstsc' });
    expect(d.findings[0].id).toMatch(/credssp-logon-failure/);
  });

  it('ndpi-rdp3 and suricata RDP-003: legacy request and Confirm; 128-bit vs 56-bit RC4, Client Compatible', async () => {
    const [a] = await run('ndpi-rdp3.pcap');
    expect(a.x224).toMatchObject({ outcome: 'legacy', requested: [] });
    expect(a.mcs).toMatchObject({ rdpVersion: { value: 0x00080004 }, encryptionMethod: { value: 2 }, encryptionLevel: { value: 2 }, serverRandomLength: 32 });
    expect(a.replay).toMatchObject({ clientCore: { build: 2600, name: 'SEPTU', encryptionMethods: 0x0b } });
    const obs = await run('suricata-verify-RDP-003.pcap');
    // the refused flow 10.226.29.74:3955 → :2998 is not RDP (port 2998, no Connection Request): not an attempt
    expect(obs).toHaveLength(1);
    expect(obs[0].x224?.outcome).toBe('legacy');
    expect(obs[0].mcs).toMatchObject({ encryptionMethod: { value: 8 }, encryptionLevel: { value: 2 } });
    expect(obs[0].mcs!.clientRequestedProtocols).toBeUndefined();
    expect(obs[0].replay).toMatchObject({ clientCore: { build: 2600, name: 'ISD2-KM84178' } });
  });

  it('arkime-socks5-rdp: found after the SOCKS5 handshake on port 42356', async () => {
    const [o] = await run('arkime-socks5-rdp.pcap');
    expect(o.source.port).toBe(42356);
    expect(o.x224).toMatchObject({ requested: ['RDP'], outcome: 'selected', selected: 'RDP' });
    expect((o.replay as unknown as { proxy: { kind: string } }).proxy.kind).toBe('socks5');
    expect((o.replay as unknown as { request: { cookie: string; frame: number } }).request).toMatchObject({ cookie: 'XXX', frame: 8 });
    expect(o.mcs).toBeUndefined();
  });

  it('freerdp-pcap-sample: both ports 3389, the client is the side that sends the CR; decrypted recording flagged', async () => {
    const [o] = await run('freerdp-pcap-sample.pcap');
    expect(o.replay!.client).toMatchObject({ address: '192.168.1.150', decidedBy: 'connection-request' });
    expect(o.source.host).toBe('74.125.100.200');
    expect(o.x224).toMatchObject({ requested: ['SSL'], selected: 'SSL' });
    expect(o.tls).toBeUndefined();
    expect(o.replay).toMatchObject({ decryptedRecording: true, clientCore: { build: 2600, name: 'GEFORCE' } });
    expect(o.mcs).toMatchObject({ via: 'tls', encryptionMethod: { value: 0 }, encryptionLevel: { value: 0 }, clientRequestedProtocols: 1 });
  });
});
