/** The real CLI (src/cli/main.ts under tsx): `rdprobe replay` formats, stdin, gzip, exit codes 2 and 4. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const MAIN = join(ROOT, 'src/cli/main.ts');
const FIX = join(ROOT, 'fixtures/pcap');

function run(args: string[], stdin?: Uint8Array): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, ['--import', 'tsx', MAIN, 'replay', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => res({ code, stdout, stderr }));
    if (stdin) p.stdin.end(stdin);
    else p.stdin.end();
  });
}

describe('rdprobe replay (CLI)', { timeout: 60_000 }, () => {
  it('table: one header and verdict per attempt, a summary line per file, exit 0', async () => {
    const r = await run([join(FIX, 'zeek-rdp-proprietary-encryption.pcap'), join(FIX, 'ndpi-rdp_over_tls.pcap')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/── .*zeek-rdp-proprietary-encryption\.pcap · 172\.21\.128\.16:1311 → 10\.226\.24\.52:3389 · frames 1–8/);
    expect(r.stdout).toMatch(/zeek-rdp-proprietary-encryption\.pcap: 542 frame\(s\), 2 attempt\(s\)/);
    expect(r.stdout).toMatch(/0x807 — NLA logon failed/);
  });

  it('ndjson from gzip on stdin: attempt lines with the Observation, then a file line', async () => {
    const r = await run(['-', '-f', 'ndjson'], gzipSync(readFileSync(join(FIX, 'arkime-socks5-rdp.pcap'))));
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(['attempt', 'file']);
    expect(lines[0].observation.source).toMatchObject({ kind: 'replay', file: 'stdin', port: 42356, frames: [1, 10] });
    expect(lines[1]).toMatchObject({ file: 'stdin', attempts: 1, capture: { gzip: true, records: 10 } });
  });

  it('conn: one flat rdp.log-style line per connection', async () => {
    const r = await run([join(FIX, 'zeek-rdp-proprietary-encryption.pcap'), '-f', 'conn']);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ orig_p: 1311, resp_p: 3389, cookie: 'FTBCO\\A70', requested_protocols: 'SSL', result: 'SSL_NOT_ALLOWED_BY_SERVER' });
    expect(lines[1]).toMatchObject({
      security_protocol: 'RDP',
      result: 'negotiated',
      client_name: 'FROG-POND',
      client_build: 6000,
      keyboard_layout: '0x00000409',
      encryption_method: '128BIT',
      encryption_level: 'HIGH',
      cert_type: 'proprietary',
    });
  });

  it('json: an array of diagnoses (with observations) and file summaries', async () => {
    const r = await run([join(FIX, 'zeek-rdpeudp-handshake-fail.pcap'), '-f', 'json']);
    const docs = JSON.parse(r.stdout);
    expect(docs.map((d: { format: string }) => d.format)).toEqual(['rdprobe-diagnosis/1', 'rdprobe-replay-file/1']);
    expect(docs[0].observation.udp).toMatchObject({ outcome: 'silent', attempts: 3 });
  });

  it('a damaged (truncated) capture: what came before is reported, the damage is named, exit 4', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rdprobe-replay-'));
    const f = join(dir, 'cut.pcap');
    writeFileSync(f, readFileSync(join(FIX, 'zeek-rdp-to-ssl.pcap')).subarray(0, 3000));
    const r = await run([f]);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/1 attempt\(s\); DAMAGED at record 14, byte offset 2821/);
    expect(r.stderr).toMatch(/record 14 at byte offset 2821: truncated/);
  });

  it('unreadable input (missing file, not a capture): exit 2, other files still replayed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rdprobe-replay-'));
    const junk = join(dir, 'junk.pcap');
    writeFileSync(junk, 'this is not a capture');
    const r = await run([join(dir, 'missing.pcap'), junk, join(FIX, 'ndpi-rdp.pcap')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing\.pcap: no such file/);
    expect(r.stderr).toMatch(/junk\.pcap: not a pcap or pcapng capture/);
    expect(r.stdout).toMatch(/ndpi-rdp\.pcap: 20 frame\(s\), 1 attempt\(s\)/);
  });
});
