/**
 * End-to-end: the real CLI (src/cli/main.ts under tsx) against X.224 responders on loopback addresses
 * 127.0.x.y — one listener per address, all on the same port. Nothing leaves the host.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Observation } from '../../src/observation/types.js';
import { runProbe } from '../../src/probe/run-probe.js';
import type { HostRecord, ScanSummary } from '../../src/scan/summary.js';
import { startResponder, type Responder, type ResponderMode } from '../peers/x224-responder.js';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const MAIN = join(ROOT, 'src/cli/main.ts');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], o: { stdin?: string; shell?: string; onStdout?: (s: string) => void; timeoutMs?: number } = {}): Promise<Run> & { child: ReturnType<typeof spawn> } {
  const argv = ['--import', 'tsx', MAIN, ...args];
  const child = o.shell
    ? spawn('/bin/sh', ['-c', `${o.shell}; exec "$0" "$@"`, process.execPath, ...argv], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } })
    : spawn(process.execPath, argv, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
    o.onStdout?.(stdout);
  });
  child.stderr!.on('data', (d) => (stderr += d));
  if (o.stdin !== undefined) child.stdin!.end(o.stdin);
  else child.stdin!.end();
  const p = new Promise<Run>((res, rej) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`timeout: rdprobe ${args.join(' ')}\n${stderr}`));
    }, o.timeoutMs ?? 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(t);
      res({ code, signal, stdout, stderr });
    });
  }) as Promise<Run> & { child: ReturnType<typeof spawn> };
  p.child = child;
  return p;
}

const hostLines = (text: string): HostRecord[] =>
  text
    .split('\n')
    .map((l) => l.trim().replace(/,$/, ''))
    .filter((l) => l.startsWith('{"type":"host"'))
    .map((l) => JSON.parse(l) as HostRecord);
const summaryOf = (text: string): ScanSummary => {
  const lines = text.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as ScanSummary;
};
const tmp = () => mkdtempSync(join(tmpdir(), 'rdprobe-cli-test-'));

let port = 0;
let slowPort = 0;
const responders: Responder[] = [];

/** Listeners on 127.0.0.1-12 (SSL), .30 failure 5, .31 legacy, .32 silent, .33 close; .40/.41 have none (refused). */
beforeAll(async () => {
  const modes: [string, ResponderMode][] = [
    ...Array.from({ length: 12 }, (_, i) => [`127.0.0.${i + 1}`, { kind: 'select', protocol: 1 }] as [string, ResponderMode]),
    ['127.0.0.30', { kind: 'failure', code: 5 }],
    ['127.0.0.31', { kind: 'legacy' }],
    ['127.0.0.32', { kind: 'silent' }],
    ['127.0.0.33', { kind: 'close' }],
  ];
  for (const [host, mode] of modes) {
    const r = await startResponder({ host, port, mode, backlog: 512 });
    port = r.port;
    responders.push(r);
  }
  // slow hosts for the interrupt test: 127.0.1.1-40, 150 ms before each answer
  for (let i = 1; i <= 40; i++) {
    const r = await startResponder({ host: `127.0.1.${i}`, port: slowPort, mode: { kind: 'select', protocol: 2 }, delayMs: 150, backlog: 64 });
    slowPort = r.port;
    responders.push(r);
  }
});

afterAll(async () => {
  await Promise.all(responders.map((r) => r.close()));
});

const MIXED = ['127.0.0.1-3', '127.0.0.30-33', '127.0.0.40'];

describe('rdprobe scan (CLI, loopback responders)', () => {
  it('negotiate: the same per-host results as runProbe on each host', async () => {
    const r = await cli(['scan', ...MIXED, '-p', String(port), '-f', 'ndjson', '--timeout', '800', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const hosts = hostLines(r.stdout);
    const by = new Map(hosts.map((h) => [h.host, h]));
    expect(Object.fromEntries(hosts.map((h) => [h.host, h.outcome]))).toEqual({
      '127.0.0.1': 'rdp',
      '127.0.0.2': 'rdp',
      '127.0.0.3': 'rdp',
      '127.0.0.30': 'rdp-failure',
      '127.0.0.31': 'rdp-legacy',
      '127.0.0.32': 'no-answer',
      '127.0.0.33': 'not-rdp',
      '127.0.0.40': 'refused',
    });
    expect(by.get('127.0.0.30')!.protocol).toBe('failure:HYBRID_REQUIRED_BY_SERVER');
    for (const h of hosts) {
      const direct = await runProbe(`${h.host}:${port}`, { depth: 'negotiate', phaseTimeoutMs: 800, timeoutMs: 3000 });
      const pick = (o: Observation) => ({
        tcp: o.tcp?.outcome,
        x224: o.x224 && { outcome: o.x224.outcome, selected: o.x224.selected, failure: o.x224.failure, sourceRef: o.x224.sourceRef, flags: o.x224.flags, requested: o.x224.requested },
      });
      expect(pick(h.observation), h.host).toEqual(pick(direct));
    }
    const s = summaryOf(r.stdout);
    expect(s.byOutcome).toMatchObject({ rdp: 3, 'rdp-failure': 1, 'rdp-legacy': 1, 'no-answer': 1, 'not-rdp': 1, refused: 1 });
    expect(s.byProtocol).toMatchObject({ SSL: 3, 'failure:HYBRID_REQUIRED_BY_SERVER': 1, legacy: 1 });
    expect(Object.keys(s.byDiagnosis).length).toBeGreaterThan(0);
  });

  it('reach: the fast path produces the Observation runProbe produces (same fields, same outcomes)', async () => {
    const r = await cli(['scan', '127.0.0.1-3', '127.0.0.40-41', '-p', String(port), '--depth', 'reach', '-f', 'ndjson', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const hosts = hostLines(r.stdout);
    expect(hosts.map((h) => h.outcome).sort()).toEqual(['open', 'open', 'open', 'refused', 'refused']);
    const shape = (o: unknown): unknown =>
      o && typeof o === 'object' && !Array.isArray(o)
        ? Object.fromEntries(Object.keys(o).sort().map((k) => [k, shape((o as Record<string, unknown>)[k])]))
        : Array.isArray(o) ? o.map(shape) : typeof o;
    for (const h of hosts) {
      const direct = await runProbe(`${h.host}:${port}`, { depth: 'reach', address: h.host, phaseTimeoutMs: 3000, timeoutMs: 4000 });
      expect(h.observation.tcp!.outcome).toBe(direct.tcp!.outcome);
      expect(h.observation.tcp!.errno).toBe(direct.tcp!.errno);
      const { tool: _t1, ...a } = h.observation;
      const { tool: _t2, ...b } = direct;
      expect(shape(a), h.host).toEqual(shape(b));
    }
  });

  it('interrupt (SIGINT) flushes results + summary and exits 130; --resume does the rest; merge has every host once', async () => {
    const dir = tmp();
    const first = join(dir, 'first.ndjson');
    const second = join(dir, 'second.ndjson');
    const targets = ['127.0.1.1-40', '-p', String(slowPort), '-c', '2', '--timeout', '2000'];
    const run = cli(['scan', ...targets, '-o', first, '-q'], { timeoutMs: 60_000 });
    // wait until some hosts are done (the temporary file of -o holds them), then Ctrl-C
    await new Promise<void>((res) => {
      const poll = setInterval(() => {
        const partial = readdirSync(dir).find((n) => n.endsWith('.partial'));
        if (partial && hostLines(readFileSync(join(dir, partial), 'utf8')).length >= 6) {
          clearInterval(poll);
          run.child.kill('SIGINT');
          res();
        }
      }, 20);
    });
    const r1 = await run;
    expect(r1.code, r1.stderr).toBe(130);
    const done1 = hostLines(readFileSync(first, 'utf8'));
    const s1 = summaryOf(readFileSync(first, 'utf8'));
    expect(s1.interrupted).toBe(true);
    expect(done1.length).toBeGreaterThanOrEqual(6);
    expect(done1.length).toBeLessThan(40);
    expect(s1.targets.hosts).toBe(done1.length);
    expect(s1.targets.notScanned).toBe(40 - done1.length);
    expect(readdirSync(dir).filter((n) => n.endsWith('.partial'))).toEqual([]);

    const r2 = await cli(['scan', ...targets, '-c', '8', '--resume', first, '-o', second]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stderr).toContain(`${done1.length} host(s) already done`);
    const done2 = hostLines(readFileSync(second, 'utf8'));
    expect(done2.length).toBe(40 - done1.length);
    expect(summaryOf(readFileSync(second, 'utf8')).targets.resumed).toBe(done1.length);

    const m = await cli(['merge', first, second, '-f', 'ndjson', '-q']);
    expect(m.code, m.stderr).toBe(0);
    const merged = hostLines(m.stdout);
    expect(merged).toHaveLength(40);
    expect(new Set(merged.map((h) => h.target)).size).toBe(40);
    expect(merged.every((h) => h.outcome === 'rdp' && h.protocol === 'HYBRID')).toBe(true);
    const ms = summaryOf(m.stdout);
    expect(ms.targets.hosts).toBe(40);
    expect(ms.merged).toMatchObject({ duplicates: 0, interruptedInputs: 1 });

    // merging overlapping files keeps one record per host (the later file wins)
    const m2 = await cli(['merge', first, second, first, '-f', 'ndjson', '-q']);
    expect(hostLines(m2.stdout)).toHaveLength(40);
    expect(summaryOf(m2.stdout).merged!.duplicates).toBe(done1.length);
  }, 90_000);

  it('--resume into the same -o file keeps what it had and adds the rest', async () => {
    const dir = tmp();
    const file = join(dir, 'all.json');
    const targets = ['127.0.1.1-12', '-p', String(slowPort), '-c', '2'];
    const run = cli(['scan', ...targets, '-o', file, '-q']);
    await new Promise<void>((res) => {
      const poll = setInterval(() => {
        const partial = readdirSync(dir).find((n) => n.endsWith('.partial'));
        if (partial && hostLines(readFileSync(join(dir, partial), 'utf8')).length >= 3) {
          clearInterval(poll);
          run.child.kill('SIGTERM');
          res();
        }
      }, 20);
    });
    expect((await run).code).toBe(130);
    const before = JSON.parse(readFileSync(file, 'utf8'));
    expect(before.summary.interrupted).toBe(true);
    const r = await cli(['scan', ...targets, '--resume', file, '-o', file, '-q']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    expect(doc.hosts).toHaveLength(12);
    expect(new Set(doc.hosts.map((h: HostRecord) => h.target)).size).toBe(12);
    expect(doc.summary.interrupted).toBe(false);
  }, 60_000);

  it('after a hard kill (SIGKILL) the .partial file resumes into the same -o and is then removed', async () => {
    const dir = tmp();
    const file = join(dir, 'out.ndjson');
    const targets = ['127.0.1.1-16', '-p', String(slowPort), '-c', '2'];
    const run = cli(['scan', ...targets, '-o', file, '-q']);
    let partial = '';
    await new Promise<void>((res) => {
      const poll = setInterval(() => {
        partial = readdirSync(dir).find((n) => n.endsWith('.partial')) ?? '';
        if (partial && hostLines(readFileSync(join(dir, partial), 'utf8')).length >= 4) {
          clearInterval(poll);
          run.child.kill('SIGKILL');
          res();
        }
      }, 20);
    });
    expect((await run).signal).toBe('SIGKILL');
    expect(existsSync(file)).toBe(false); // never half a file at the destination
    const before = hostLines(readFileSync(join(dir, partial), 'utf8')).length;
    const r = await cli(['scan', ...targets, '-c', '8', '--resume', join(dir, partial), '--resume', file, '-o', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`${before} host(s) already done, carried into`);
    const all = hostLines(readFileSync(file, 'utf8'));
    expect(all).toHaveLength(16);
    expect(new Set(all.map((h) => h.target)).size).toBe(16);
    expect(readdirSync(dir)).toEqual(['out.ndjson']);
  }, 60_000);

  it('a low descriptor limit lowers the concurrency instead of crashing with EMFILE', async () => {
    const r = await cli(['scan', '127.0.0.1-12', '127.0.0.40', '127.0.1.1-40', '-p', String(port), '-c', '500', '-f', 'ndjson', '--timeout', '3000'], {
      shell: 'ulimit -n 64',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/--concurrency 500 lowered to \d+: the open-file limit is 64/);
    const hosts = hostLines(r.stdout);
    expect(hosts).toHaveLength(53);
    expect(hosts.filter((h) => h.outcome === 'tcp-error' || h.outcome === 'error')).toEqual([]);
  });

  it('--udp only with --depth full, and at most --path-rate hosts per second get it', async () => {
    const r = await cli(['scan', '127.0.0.1-4', '-p', String(port), '--depth', 'full', '--udp', '--path-rate', '2', '--timeout', '1000', '-f', 'ndjson', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const hosts = hostLines(r.stdout);
    expect(hosts).toHaveLength(4);
    // the UDP phase ran on every host, nothing listens on UDP there: ICMP port unreachable (or silence)
    const starts: number[] = [];
    for (const h of hosts) {
      expect(h.observation.udp?.outcome, h.host).toMatch(/^(icmp-unreachable|silent)$/);
      const udp = h.observation.timeline.find((e) => e.phase === 'udp')!;
      starts.push(Date.parse(h.observation.source.startedAt) + udp.at);
    }
    starts.sort((a, b) => a - b);
    // 2 per second, no burst: the 4th slot is 1.5 s after the first. The phase module loads before the token is
    // taken (cli/phases.ts), so the first host no longer starts late; the slack covers ms rounding of startedAt + at
    // and the first host being descheduled between its token and its clock read on a loaded machine. A limiter that
    // let a burst of 2 through, or ran at 3/s, would put the 4th start at ≤ 1000 ms; none at all, within a few ms.
    expect(starts[3] - starts[0]).toBeGreaterThanOrEqual(1400);
  });

  it('targets from stdin with comments; bad targets reported with their line, the rest still runs', async () => {
    const stdin = `# lab hosts\n127.0.0.1\n\n127.0.0.999   # typo\n127.0.0.2:${port}, 127.0.0.3\nbad..name\n`;
    const r = await cli(['scan', '-', '-p', String(port), '-f', 'csv', '-q'], { stdin });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("stdin:4: '127.0.0.999': octet 999 outside 0..255");
    expect(r.stderr).toContain("stdin:6: 'bad..name': empty label in host name");
    const rows = r.stdout.trim().split('\r\n');
    expect(rows[0]).toMatch(/^target,host,address,port,outcome,/);
    expect(rows.slice(1).map((l) => l.split(',')[0]).sort()).toEqual([`127.0.0.1:${port}`, `127.0.0.2:${port}`, `127.0.0.3:${port}`]);
  });

  it('exit codes: 2 for usage (no targets, --strict with a bad target, bad option), 3 for --fail-on', async () => {
    expect((await cli(['scan'])).code).toBe(2);
    const strict = await cli(['scan', '127.0.0.1', '10.0.0.300', '--strict', '-p', String(port)]);
    expect(strict.code).toBe(2);
    expect(strict.stdout).toBe('');
    expect(strict.stderr).toMatch(/argument 2: '10\.0\.0\.300'/);
    expect((await cli(['scan', '127.0.0.1', '--depth', 'deep'])).code).toBe(2);
    expect((await cli(['scan', '127.0.0.1', '--shard', '4/4'])).code).toBe(2);
    expect((await cli(['scan', '127.0.0.1', '--udp'])).code).toBe(2);
    const fail = await cli(['scan', '127.0.0.1', '127.0.0.40', '-p', String(port), '--fail-on', 'refused', '-f', 'ndjson', '-q']);
    expect(fail.code).toBe(3);
    expect(summaryOf(fail.stdout).failOn).toEqual({ patterns: ['refused'], hosts: 1 });
    const pass = await cli(['scan', '127.0.0.1', '-p', String(port), '--fail-on', 'refused,0x204', '-f', 'ndjson', '-q']);
    expect(pass.code).toBe(0);
  });

  it('-o FILE.json: one complete JSON document, shards split the set', async () => {
    const dir = tmp();
    const parts: HostRecord[][] = [];
    for (let k = 0; k < 3; k++) {
      const file = join(dir, `shard-${k}.json`);
      const r = await cli(['scan', '127.0.0.1-12', '-p', String(port), '--shard', `${k}/3`, '-o', file, '-q']);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(readFileSync(file, 'utf8'));
      expect(doc.scan).toMatchObject({ depth: 'negotiate', shard: `${k}/3`, planned: 4 });
      parts.push(doc.hosts);
    }
    const all = parts.flat().map((h) => h.host);
    expect(all).toHaveLength(12);
    expect(new Set(all).size).toBe(12);
    const m = await cli(['merge', ...[0, 1, 2].map((k) => join(dir, `shard-${k}.json`)), '-o', join(dir, 'all.csv'), '-q']);
    expect(m.code, m.stderr).toBe(0);
    expect(readFileSync(join(dir, 'all.csv'), 'utf8').trim().split('\r\n')).toHaveLength(13);
    expect(existsSync(join(dir, 'all.csv'))).toBe(true);
    writeFileSync(join(dir, 'rows.csv'), 'target\r\nx:1\r\n');
    const bad = await cli(['merge', join(dir, 'rows.csv')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/csv rows do not carry the observation/);
  });
});
