import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Observation } from '../../src/observation/types.js';
import { healthy } from '../diagnose/fixtures.js';
import { AtomicFile, ChunkedSink } from '../../src/report/atomic-write.js';
import { CSV_COLUMNS, csvCell, csvHeader, csvRow, CsvWriter } from '../../src/report/csv.js';
import { NdjsonWriter } from '../../src/report/ndjson.js';
import { JsonDocumentWriter } from '../../src/report/scan-json.js';
import { TableWriter } from '../../src/report/scan-table.js';
import { renderSummary } from '../../src/report/summary-render.js';
import { formatDuration, renderProgress } from '../../src/scan/progress.js';
import { csvField, DoneSet, loadResume } from '../../src/scan/resume.js';
import {
  hostOutcome,
  hostProtocol,
  matchesFailOn,
  parseFailOn,
  SummaryBuilder,
  toHostRecord,
  type HostRecord,
} from '../../src/scan/summary.js';
import { buildTargetSet, tokensOf } from '../../src/scan/targets.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'rdprobe-scan-test-'));

function base(target = '10.0.0.1:3389'): Observation {
  const host = target.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return {
    schema: 1,
    tool: { name: 'rdprobe', version: 'test' },
    source: { kind: 'live', target, host, port: 3389, address: host, startedAt: '2026-01-01T00:00:00.000Z' },
    connections: 1,
    durationMs: 3,
    timeline: [],
    errors: [],
  };
}

const x224 = (o: Partial<NonNullable<Observation['x224']>>): Observation['x224'] => ({ requested: ['SSL', 'HYBRID'], requestedMask: 3, outcome: 'timeout', ms: 1, ...o });

function rec(o: Observation, extra: Partial<HostRecord> = {}): HostRecord {
  const t = { key: o.source.target, host: o.source.host, address: o.source.address, port: o.source.port };
  return { ...toHostRecord(t, o, { attempts: 1, ms: 5 }), ...extra };
}

describe('host classification', () => {
  const cases: [string, Partial<Observation>, string, string | undefined][] = [
    ['selected', { tcp: { outcome: 'open', ms: 1, address: 'a', port: 1 }, x224: x224({ outcome: 'selected', selected: 'SSL', selectedMask: 1 }) }, 'rdp', 'SSL'],
    ['neg failure', { tcp: { outcome: 'open', ms: 1, address: 'a', port: 1 }, x224: x224({ outcome: 'failure', failure: { value: 5, name: 'HYBRID_REQUIRED_BY_SERVER' } }) }, 'rdp-failure', 'failure:HYBRID_REQUIRED_BY_SERVER'],
    ['legacy CC', { tcp: { outcome: 'open', ms: 1, address: 'a', port: 1 }, x224: x224({ outcome: 'legacy' }) }, 'rdp-legacy', 'legacy'],
    ['silent after connect', { tcp: { outcome: 'open', ms: 1, address: 'a', port: 1 }, x224: x224({ outcome: 'timeout' }) }, 'no-answer', undefined],
    ['closed after connect', { tcp: { outcome: 'open', ms: 1, address: 'a', port: 1 }, x224: x224({ outcome: 'closed' }) }, 'not-rdp', undefined],
    ['garbage', { tcp: { outcome: 'open', ms: 1, address: 'a', port: 1 }, x224: x224({ outcome: 'malformed' }) }, 'not-rdp', undefined],
    ['reach only', { tcp: { outcome: 'open', ms: 1, address: 'a', port: 1 } }, 'open', undefined],
    ['refused', { tcp: { outcome: 'refused', ms: 1, address: 'a', port: 1 } }, 'refused', undefined],
    ['filtered', { tcp: { outcome: 'filtered', ms: 1, address: 'a', port: 1 } }, 'filtered', undefined],
    ['unreachable', { tcp: { outcome: 'unreachable', ms: 1, address: 'a', port: 1 } }, 'unreachable', undefined],
    ['tcp error', { tcp: { outcome: 'error', ms: 1, address: 'a', port: 1, errno: 'EINVAL' } }, 'tcp-error', undefined],
    ['nxdomain', { dns: { outcome: 'nxdomain', addresses: [], ms: 3 } }, 'dns-failed', undefined],
    ['our bug', { tcp: { outcome: 'open', ms: 1, address: 'a', port: 1 }, errors: [{ phase: 'probe', code: 'RDPROBE_INTERNAL', message: 'x' }] }, 'error', undefined],
  ];
  it.each(cases)('%s', (_n, patch, outcome, protocol) => {
    const o = { ...base(), ...patch } as Observation;
    expect(hostOutcome(o)).toBe(outcome);
    expect(hostProtocol(o)).toBe(protocol);
  });

  it('--fail-on matches causes, client error codes (with or without the extended code) and outcomes', () => {
    const r = rec({ ...base(), tcp: { outcome: 'open', ms: 1, address: 'a', port: 1 }, x224: x224({ outcome: 'failure', failure: { value: 5, name: 'HYBRID_REQUIRED_BY_SERVER' } }) }, {
      diagnosis: { healthy: false, line: 'x', clientError: '0x4/0x0', causeId: 'nla-required', findings: ['nla-required', 'self-signed'] },
    });
    expect(parseFailOn(' NLA-required, 0x904 ,')).toEqual(['nla-required', '0x904']);
    expect(matchesFailOn(r, ['nla-required'])).toBe(true);
    expect(matchesFailOn(r, ['self-signed'])).toBe(true);
    expect(matchesFailOn(r, ['0x4'])).toBe(true);
    expect(matchesFailOn(r, ['0x4/0x0'])).toBe(true);
    expect(matchesFailOn(r, ['rdp-failure'])).toBe(true);
    expect(matchesFailOn(r, ['0x904', 'refused'])).toBe(false);
    expect(matchesFailOn(r, [])).toBe(false);
    const healthy = { ...r, diagnosis: { healthy: true, line: 'ok', clientError: '0x4/0x0', findings: [] } };
    expect(matchesFailOn(healthy, ['0x4'])).toBe(false);
  });

  it('summary counts by outcome, protocol, diagnosis and client error', () => {
    const b = new SummaryBuilder();
    const open = { ...base(), tcp: { outcome: 'open' as const, ms: 1, address: 'a', port: 1 } };
    b.add(rec({ ...open, x224: x224({ outcome: 'selected', selected: 'SSL' }) }, { diagnosis: { healthy: true, line: 'ok', findings: [] } }));
    b.add(rec({ ...open, x224: x224({ outcome: 'selected', selected: 'HYBRID' }) }, { diagnosis: { healthy: true, line: 'ok', findings: [] } }));
    b.add(rec({ ...open, x224: x224({ outcome: 'selected', selected: 'SSL' }) }, { diagnosis: { healthy: false, line: 'no', causeId: 'tls-old', clientError: '0x4/0x0', findings: ['tls-old'] } }), true);
    b.add(rec({ ...base(), tcp: { outcome: 'refused', ms: 1, address: 'a', port: 1 } }));
    const s = b.build({ interrupted: false, targets: { planned: 4 } });
    expect(s).toMatchObject({
      type: 'summary',
      targets: { planned: 4, hosts: 4 },
      byOutcome: { rdp: 3, refused: 1 },
      byProtocol: { SSL: 2, HYBRID: 1 },
      byDiagnosis: { healthy: 2, 'tls-old': 1 },
      byClientError: { '0x4/0x0': 1 },
    });
    expect(Object.keys(s.byOutcome)).toEqual(['rdp', 'refused']); // sorted by count
    expect(b.failMatches).toBe(1);
    const text = renderSummary({ ...s, elapsedMs: 2000, rate: 2, interrupted: true, targets: { ...s.targets, notScanned: 7 } }, { resumeHint: 'out.ndjson' });
    expect(text).toContain('Scan interrupted: 4 hosts, in 2.0 s (2 hosts/s)');
    expect(text).toContain('not scanned: 7 — continue with --resume out.ndjson');
    expect(text).toContain('outcome:   rdp 3 · refused 1');
    expect(text).toContain('protocol:  SSL 2 · HYBRID 1');
  });
});

describe('csv', () => {
  it('has a stable header (append-only column list)', () => {
    expect(csvHeader()).toBe(
      'target,host,address,port,outcome,protocol,dns,tcp,tcp_ms,tcp_errno,x224,x224_ms,requested,selected,failure,neg_flags,source_ref,' +
        'standard_rdp_allowed,tls_required,nla_supported,nla_required,tls,tls_version,tls_cipher,cert_subject,cert_days_left,' +
        'cert_self_signed,cert_key_bits,credssp,credssp_version,ntlm_computer,ntlm_domain,os_version,mcs,rdp_version,udp,path_mtu,' +
        'healthy,client_error,cause,findings,verdict,attempts,ms,connections,started_at,errors',
    );
  });

  it('quotes per RFC 4180 and neutralises formulas in text from the network', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('=HYPERLINK("x")', true)).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('@SUM(1)', true)).toBe("'@SUM(1)");
    expect(csvCell(-5)).toBe('-5'); // numbers are never touched
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(false)).toBe('false');
  });

  it('one row per host with as many cells as columns, fields in place', () => {
    const o: Observation = {
      ...base('[2001:db8::1]:3389'),
      tcp: { outcome: 'open', ms: 0.4, address: '2001:db8::1', port: 3389 },
      x224: x224({ outcome: 'selected', selected: 'SSL', selectedMask: 1, sourceRef: 0x1234, flags: { value: 1, names: ['EXTENDED_CLIENT_DATA_SUPPORTED'] } }),
      tls: { outcome: 'ok', version: 'TLSv1.2', certificate: { ...healthy().tls!.certificate!, subject: 'CN=evil,O=x', daysLeft: -3 } },
    };
    const row = csvRow(rec(o, { diagnosis: { healthy: false, line: '=1+1, oops', findings: ['a', 'b'] } }));
    const cells: string[] = [];
    for (let i = 0; i < CSV_COLUMNS.length; i++) cells.push(csvField(row, i)!);
    expect(csvField(row, CSV_COLUMNS.length)).toBeUndefined();
    const col = (n: string) => cells[CSV_COLUMNS.findIndex((c) => c.name === n)];
    expect(col('target')).toBe('[2001:db8::1]:3389');
    expect(col('outcome')).toBe('rdp');
    expect(col('selected')).toBe('SSL');
    expect(col('source_ref')).toBe('0x1234');
    expect(col('neg_flags')).toBe('EXTENDED_CLIENT_DATA_SUPPORTED');
    expect(col('cert_subject')).toBe('CN=evil,O=x');
    expect(col('cert_days_left')).toBe('-3');
    expect(col('findings')).toBe('a|b');
    expect(col('verdict')).toBe("'=1+1, oops");
    expect(col('tls_version')).toBe('TLSv1.2');
  });

  it('writes a header even when there are no hosts', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (d) => chunks.push(d));
    const w = new CsvWriter(out);
    await w.end(new SummaryBuilder().build({ interrupted: false }));
    expect(Buffer.concat(chunks).toString()).toBe(`${csvHeader()}\r\n`);
  });
});

describe('ndjson and json document writers', () => {
  const records = () => [
    rec({ ...base('10.0.0.1:3389'), tcp: { outcome: 'refused', ms: 1, address: '10.0.0.1', port: 3389 } }),
    rec({ ...base('10.0.0.2:3389'), tcp: { outcome: 'open', ms: 1, address: '10.0.0.2', port: 3389 }, x224: x224({ outcome: 'selected', selected: 'SSL' }) }),
  ];
  const collect = () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (d) => chunks.push(d));
    return { out, text: () => Buffer.concat(chunks).toString() };
  };

  it('ndjson: one host per line, summary last', async () => {
    const { out, text } = collect();
    const w = new NdjsonWriter(out);
    for (const r of records()) await w.host(r);
    await w.end(new SummaryBuilder().build({ interrupted: false }));
    const lines = text().trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(['host', 'host', 'summary']);
    expect(lines[1].observation.x224.selected).toBe('SSL');
  });

  it('json: one valid document (also with no hosts), one host record per line', async () => {
    for (const rs of [records(), []]) {
      const { out, text } = collect();
      const w = new JsonDocumentWriter(out, { depth: 'negotiate' });
      for (const r of rs) await w.host(r);
      await w.end(new SummaryBuilder().build({ interrupted: false }));
      const doc = JSON.parse(text());
      expect(doc.type).toBe('scan');
      expect(doc.scan).toEqual({ depth: 'negotiate' });
      expect(doc.hosts).toHaveLength(rs.length);
      expect(doc.summary.type).toBe('summary');
      if (rs.length) expect(text().split('\n').filter((l) => l.startsWith('{"type":"host"')).length).toBe(2);
    }
  });

  it('ChunkedSink coalesces writes and signals backpressure', async () => {
    let writes = 0;
    const out = new PassThrough({ highWaterMark: 1024 });
    const orig = out.write.bind(out);
    out.write = ((c: never, ...a: never[]) => (writes++, orig(c, ...a))) as typeof out.write;
    const sink = new ChunkedSink(out, 4096);
    let wait: Promise<void> | undefined;
    for (let i = 0; i < 200 && !wait; i++) wait = sink.push('x'.repeat(100));
    expect(writes).toBeLessThanOrEqual(2);
    expect(wait).toBeInstanceOf(Promise);
    out.resume();
    await wait;
  });

  it('table: rows line up with the header and the summary follows', async () => {
    const { out, text } = collect();
    const w = new TableWriter(out, { columns: 100 });
    for (const r of records()) await w.host(r);
    await w.end(new SummaryBuilder().build({ interrupted: false }));
    const lines = text().split('\n');
    const widths = new Set(lines.filter((l) => /^[│┌├└]/.test(l)).map((l) => l.length));
    expect(widths.size).toBe(1);
    expect(text()).toContain('10.0.0.2:3389');
    expect(text()).toMatch(/refused/);
    expect(text()).toContain('Scan done');
    const openOnly = collect();
    const w2 = new TableWriter(openOnly.out, { columns: 100, openOnly: true });
    for (const r of records()) await w2.host(r);
    await w2.end(new SummaryBuilder().build({ interrupted: false }));
    expect(openOnly.text()).not.toContain('10.0.0.1:3389');
    expect(openOnly.text()).toContain('10.0.0.2:3389');
  });
});

describe('-o: atomic write', () => {
  it('the destination changes only at commit; discard leaves it untouched', async () => {
    const dir = tmp();
    const dest = join(dir, 'out.json');
    writeFileSync(dest, '{"old":true}');
    const f = await AtomicFile.create(dest);
    f.stream.write('{"new":');
    expect(readFileSync(dest, 'utf8')).toBe('{"old":true}');
    expect(existsSync(f.tempPath)).toBe(true);
    f.stream.write('true}');
    await f.commit();
    expect(readFileSync(dest, 'utf8')).toBe('{"new":true}');
    expect(existsSync(f.tempPath)).toBe(false);

    const g = await AtomicFile.create(dest);
    g.stream.write('half a docu');
    await g.discard();
    expect(readFileSync(dest, 'utf8')).toBe('{"new":true}');
    expect(readdirSync(dir)).toEqual(['out.json']);
  });

  it('a process killed mid-write never leaves half a document at the destination', async () => {
    const dir = tmp();
    const dest = join(dir, 'results.json');
    writeFileSync(dest, '{"previous":"complete"}');
    const mod = new URL('../../src/report/atomic-write.ts', import.meta.url).pathname;
    const script = `
      const { AtomicFile } = await import(${JSON.stringify(mod)});
      const f = await AtomicFile.create(${JSON.stringify(dest)});
      f.stream.write('{"hosts":[');
      for (let i = 0; i < 1000; i++) f.stream.write(JSON.stringify({ i }) + ',');
      f.stream.once('drain', () => {});
      setTimeout(() => process.stdout.write('written\\n'), 50);
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((r) => child.stdout.on('data', (d) => String(d).includes('written') && r()));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(readFileSync(dest, 'utf8')).toBe('{"previous":"complete"}');
    const partial = readdirSync(dir).find((n) => n.endsWith('.partial'))!;
    expect(partial).toMatch(/^results\.json\.\d+\.partial$/);
    expect(readFileSync(join(dir, partial), 'utf8')).toMatch(/^\{"hosts":\[\{"i":0\},/);
  }, 20_000);
});

describe('--resume', () => {
  const targetsOf = (spec: string) => [...buildTargetSet(tokensOf(spec, 't'), { ports: [3389, 3390] }).set.expand()];

  it('DoneSet: v4, v6 and names per port', () => {
    const d = new DoneSet();
    expect(d.addKey('10.0.0.1:3389')).toBe(true);
    expect(d.addKey('[2001:db8::1]:3390')).toBe(true);
    expect(d.addKey('rdp.example:3389')).toBe(true);
    expect(d.addKey('not a key')).toBe(false);
    const has = (spec: string) => targetsOf(spec).filter((t) => d.has(t)).map((t) => t.key);
    expect(has('10.0.0.1-2')).toEqual(['10.0.0.1:3389']);
    expect(has('2001:db8::1')).toEqual(['[2001:db8::1]:3390']);
    expect(has('RDP.example')).toEqual(['rdp.example:3389']);
  });

  it('reads ndjson, json documents, csv, and files cut short', async () => {
    const dir = tmp();
    const r1 = rec({ ...base('10.0.0.1:3389'), tcp: { outcome: 'refused', ms: 1, address: '10.0.0.1', port: 3389 } });
    const r2 = rec({ ...base('10.0.0.2:3389'), tcp: { outcome: 'open', ms: 1, address: '10.0.0.2', port: 3389 } });
    const summary = JSON.stringify(new SummaryBuilder().build({ interrupted: true }));
    const files: Record<string, string> = {
      'a.ndjson': `${JSON.stringify(r1)}\n${JSON.stringify(r2)}\n${summary}\n`,
      'torn.ndjson': `${JSON.stringify(r1)}\n${JSON.stringify(r2).slice(0, 80)}`,
      'doc.json': `{"type":"scan","schema":1,"hosts":[\n${JSON.stringify(r1)},\n${JSON.stringify(r2)}\n],"summary":${summary}}\n`,
      'rows.csv': `${csvHeader()}\r\n${csvRow(r1)}\r\n${csvRow(r2)}\r\n`,
    };
    const want: Record<string, [number, number]> = { 'a.ndjson': [2, 0], 'torn.ndjson': [1, 1], 'doc.json': [2, 0], 'rows.csv': [2, 0] };
    for (const [name, content] of Object.entries(files)) {
      writeFileSync(join(dir, name), content);
      const carried: string[] = [];
      const l = await loadResume(join(dir, name), undefined, (r) => void carried.push(r.target));
      expect([l.records, l.skippedLines], name).toEqual(want[name]);
      const done = targetsOf('10.0.0.1-3').filter((t) => l.done.has(t)).map((t) => t.key);
      expect(done, name).toEqual(l.records === 2 ? ['10.0.0.1:3389', '10.0.0.2:3389'] : ['10.0.0.1:3389']);
      if (!name.endsWith('.csv')) expect(carried, name).toEqual(done);
    }
  });
});

describe('progress line', () => {
  it('shows done/total, percent, rate, ETA and the largest outcome counts, within the terminal width', () => {
    const line = renderProgress(
      { done: 5000, total: 20000, active: 256, cap: 256, backingOff: false, counts: { refused: 100, open: 4800, filtered: 100 } },
      { elapsedMs: 1000, rate: 5000, width: 120, color: false },
    );
    expect(line).toContain('5,000/20,000 25%');
    expect(line).toContain('5000/s');
    expect(line).toContain('ETA 0:03');
    expect(line).toMatch(/open 4800 · (refused|filtered) 100/);
    expect(line.length).toBeLessThanOrEqual(119);
    const narrow = renderProgress({ done: 1, total: 2, active: 1, cap: 1, backingOff: true, counts: { open: 1 } }, { elapsedMs: 1, rate: 0, width: 40, color: true });
    expect(narrow.replace(/\x1b\[[0-9;]*m/g, '').length).toBeLessThanOrEqual(39);
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(Infinity)).toBe('--:--');
  });
});
