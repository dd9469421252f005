#!/usr/bin/env node
/**
 * Benchmark: a full `rdprobe probe` of each lab host against nmap's two RDP scripts on the same host, in one run.
 *
 *   nmap:    ip netns exec rdplab-client nmap -n -Pn -p3389 --script rdp-enum-encryption,rdp-ntlm-info ADDR
 *   rdprobe: ip netns exec rdplab-client node bin/rdprobe.js probe ADDR --json   (+ --phase-timeout 3000 on blackhole)
 *
 * `-p3389`: rdprobe probes one port, so nmap is held to the same port (without it nmap would first scan its top
 * 1000 ports). Each tool runs N times per host (--runs, default 3), alternating nmap/rdprobe, one process at a time;
 * the medians are reported. Measured per run: process wall time (spawn to exit, so Node's start-up is included),
 * rdprobe's own `durationMs`, and the TCP connections each tool opened (SYNs from the tool's own sockets, counted by a
 * temporary nft table in rdplab-client keyed on a dedicated gid, scripts/lib/conn-count.mjs).
 * Before every run on a host behind the MTU-1400 link the lab's learned path MTUs are flushed, so both tools meet the
 * same cold path.
 *
 * Prints a table (ratio = nmap median / rdprobe median; the target is ≥ 4, i.e. rdprobe in at most a quarter of
 * nmap's time) and writes everything, raw runs included, to bench-results/bench-<time>.json (git-ignored).
 *
 * Usage: node scripts/bench.mjs [--runs N] [--hosts tls,rdp,…] [--up] [--out DIR]
 * Exit: 0 measured · 2 usage · 3 lab down/unusable · 130 interrupted (a missed target does not fail the run)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { release as osRelease } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  EXIT,
  LAB_HOSTS,
  LAB_PATH,
  withLab,
  REPO,
  killAllChildren,
  median,
  onInterrupt,
  parseArgs,
  requireLab,
  selectHosts,
  table,
} from './lib/lab-guard.mjs';
import { nmapOutcome, parseNmap } from './lib/nmap-parse.mjs';
import { FACT_LABELS, PROTOCOL_ROWS, isFailed, nmapFacts, rdprobeExtras, rdprobeFacts, rdprobeOutcome } from './lib/facts.mjs';
import { LAB_FACTS, verdict } from './lib/lab-facts.mjs';
import { measureInClient, showConns, sweepStaleCounters } from './lib/conn-count.mjs';

const SCRIPT = 'bench';
const USAGE = `usage: node scripts/bench.mjs [--runs N] [--hosts ${Object.keys(LAB_HOSTS).join(',')}] [--up] [--out DIR]
  --runs   repetitions per tool and host (default 3, max 50); medians are reported
  --hosts  lab hosts (default: all of them)
  --up     bring the lab up if it is down (and down again at the end)
  --out    directory for the JSON results (default bench-results/)
`;
const NMAP_TIMEOUT_MS = 90_000;
const RDPROBE_TIMEOUT_MS = 60_000;
const RDPROBE_EXTRA_ARGS = { blackhole: ['--phase-timeout', '3000'] };
const TARGET_RATIO = 4;

function nmapCmd(address) {
  return ['nmap', '-n', '-Pn', '-p3389', '--script', 'rdp-enum-encryption,rdp-ntlm-info', address];
}
function rdprobeCmd(host) {
  return [process.execPath, join(REPO, 'bin', 'rdprobe.js'), 'probe', LAB_HOSTS[host].address, '--json', ...(RDPROBE_EXTRA_ARGS[host] ?? [])];
}


/**
 * Per comparable fact, the verdict against the lab reference (lib/lab-facts.mjs): how many nmap gets wrong or cannot
 * give while rdprobe is right, and which facts nmap has that rdprobe lacks.
 */
function coverage(host, nf, rf) {
  const truth = LAB_FACTS[host] ?? {};
  const count = {};
  const less = [];
  for (const k of Object.keys(FACT_LABELS)) {
    if (nf[k] === undefined && rf[k] === undefined) continue;
    const noCodeCompare = PROTOCOL_ROWS.find((r) => r.key === k)?.noCodeCompare;
    const v = verdict(nf[k], rf[k], truth[k], { noCodeCompare });
    count[v] = (count[v] ?? 0) + 1;
    if (nf[k] && !isFailed(nf[k]) && (!rf[k] || isFailed(rf[k]))) less.push(FACT_LABELS[k]);
  }
  const more = [];
  if (count['nmap wrong']) more.push(`${count['nmap wrong']} facts nmap gets wrong`);
  if (count['nmap failed']) more.push(`${count['nmap failed']} facts nmap fails on`);
  return { more, less, verdicts: count };
}

const SHORT = {
  'NLA required': 'NLA req',
  'TLS required': 'TLS req',
  'RDSAAD (req 0x10)': 'RDSAAD',
  'X.224 CC source ref': 'CC fingerprint',
  'TLS handshake': 'TLS handshake',
  'TLS versions': 'TLS versions',
  'TLS certificate': 'certificate',
  'Std RDP server cert': 'RDP server key',
  CredSSP: 'CredSSP version/flags/skew',
  'TCP outcome detail': 'errno+timing',
};

async function benchHost(host, runs) {
  const h = LAB_HOSTS[host];
  const out = { host, address: h.address, what: h.what, nmap: [], rdprobe: [] };
  for (let i = 0; i < runs; i++) {
    process.stderr.write(`${SCRIPT}: ${host} run ${i + 1}/${runs}: nmap…`);
    const n = await measureInClient(host, nmapCmd(h.address), NMAP_TIMEOUT_MS);
    const parsed = parseNmap(n.res.stdout + n.res.stderr);
    out.nmap.push({
      ms: Math.round(n.res.ms),
      exit: n.res.code,
      timedOut: n.res.timedOut,
      conns: n.conns,
      outcome: n.res.timedOut ? `killed after ${NMAP_TIMEOUT_MS / 1000} s` : nmapOutcome(parsed),
      facts: n.res.timedOut ? {} : nmapFacts(parsed, n.res),
      stdout: i === 0 ? n.res.stdout : undefined,
    });
    await new Promise((r) => setTimeout(r, 300));
    process.stderr.write(' rdprobe…');
    const r = await measureInClient(host, rdprobeCmd(host), RDPROBE_TIMEOUT_MS);
    let obs = null;
    try {
      obs = JSON.parse(r.res.stdout);
    } catch {
      /* reported below */
    }
    out.rdprobe.push({
      ms: Math.round(r.res.ms),
      exit: r.res.code,
      timedOut: r.res.timedOut,
      conns: r.conns,
      durationMs: obs?.durationMs,
      selfReportedConnections: obs?.connections,
      outcome: obs ? rdprobeOutcome(obs) : r.res.timedOut ? `killed after ${RDPROBE_TIMEOUT_MS / 1000} s` : `no JSON (exit ${r.res.code}) ${r.res.stderr.trim().split('\n').pop() ?? ''}`,
      facts: obs ? rdprobeFacts(obs) : {},
      extras: obs ? rdprobeExtras(obs).map(([k]) => k).filter((k) => !k.startsWith('error')) : [],
      observation: i === 0 ? obs : undefined,
    });
    process.stderr.write(` ${(n.res.ms / 1000).toFixed(2)} s / ${(r.res.ms / 1000).toFixed(2)} s\n`);
    await new Promise((r2) => setTimeout(r2, 300));
  }
  const last = out.rdprobe.length - 1;
  const cov = coverage(host, out.nmap[last].facts, out.rdprobe[last].facts);
  const connSummary = (xs) => [...new Set(xs.map((x) => showConns(x.conns)))].join(' / ');
  // wire count ≠ rdprobe's own Observation.connections: one of the two is wrong
  const noisy = out.rdprobe.filter((x) => x.conns && !x.conns.error && x.selfReportedConnections !== undefined && x.conns.attempts !== x.selfReportedConnections).length;
  out.summary = {
    nmapMedianMs: median(out.nmap.map((x) => x.ms)),
    nmapMinMs: Math.min(...out.nmap.map((x) => x.ms)),
    nmapMaxMs: Math.max(...out.nmap.map((x) => x.ms)),
    rdprobeMedianMs: median(out.rdprobe.map((x) => x.ms)),
    rdprobeMinMs: Math.min(...out.rdprobe.map((x) => x.ms)),
    rdprobeMaxMs: Math.max(...out.rdprobe.map((x) => x.ms)),
    rdprobeProbeMedianMs: median(out.rdprobe.map((x) => x.durationMs)),
    nmapConns: connSummary(out.nmap),
    rdprobeConns: `${connSummary(out.rdprobe)}${noisy ? ` (≠ self-reported in ${noisy} run(s))` : ''}`,
    rdprobeSelfReported: [...new Set(out.rdprobe.map((x) => x.selfReportedConnections))].join(' / '),
    nmapOutcome: [...new Set(out.nmap.map((x) => x.outcome))].join(' | '),
    rdprobeOutcome: [...new Set(out.rdprobe.map((x) => x.outcome))].join(' | '),
    reportsMore: [...cov.more, ...out.rdprobe[last].extras.map((k) => SHORT[k] ?? k)],
    reportsLess: cov.less,
    verdicts: cov.verdicts,
  };
  out.summary.ratio = out.summary.nmapMedianMs / out.summary.rdprobeMedianMs;
  out.summary.ratioProbe = out.summary.nmapMedianMs / out.summary.rdprobeProbeMedianMs;
  out.commands = {
    nmap: `ip netns exec rdplab-client ${nmapCmd(h.address).join(' ')}`,
    rdprobe: `ip netns exec rdplab-client node bin/rdprobe.js ${rdprobeCmd(host).slice(3).join(' ')}`,
  };
  return out;
}

const s = (ms) => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : '—');
const x = (r) => (Number.isFinite(r) ? `${r.toFixed(1)}×` : '—');

function versions() {
  const nm = spawnSync('nmap', ['--version'], { encoding: 'utf8', env: { ...process.env, PATH: LAB_PATH } });
  let rdprobe = '?';
  try {
    rdprobe = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version;
  } catch {
    /* keep ? */
  }
  return { node: process.version, nmap: (nm.stdout ?? '').split('\n')[0].trim(), kernel: osRelease(), rdprobe };
}

async function main() {
  const args = parseArgs(process.argv.slice(2), { runs: 'int', hosts: 'string', up: 'bool', out: 'string' }, USAGE);
  const runs = args.runs ?? 3;
  if (runs < 1 || runs > 50) {
    process.stderr.write(`--runs must be 1..50\n${USAGE}`);
    process.exit(EXIT.USAGE);
  }
  const hosts = selectHosts(args.hosts, Object.keys(LAB_HOSTS));
  let guard = null;
  onInterrupt(() => guard, SCRIPT);
  guard = await requireLab({ up: !!args.up, script: SCRIPT });
  sweepStaleCounters();
  const startedAt = new Date().toISOString();
  const results = [];
  await withLab(guard, SCRIPT, async () => {
    for (const host of hosts) results.push(await benchHost(host, runs));
  });

  const rows = [['host', 'nmap s', 'rdprobe s', 'probe ms', 'ratio', 'ratio(probe)', '≤¼?', 'conns nmap', 'conns rdprobe']];
  for (const r of results) {
    const m = r.summary;
    rows.push([
      r.host,
      `${s(m.nmapMedianMs)} (${s(m.nmapMinMs)}–${s(m.nmapMaxMs)})`,
      `${s(m.rdprobeMedianMs)} (${s(m.rdprobeMinMs)}–${s(m.rdprobeMaxMs)})`,
      Number.isFinite(m.rdprobeProbeMedianMs) ? String(Math.round(m.rdprobeProbeMedianMs)) : '—',
      x(m.ratio),
      x(m.ratioProbe),
      m.ratio >= TARGET_RATIO ? 'yes' : 'no',
      m.nmapConns,
      m.rdprobeConns,
    ]);
  }
  const tot = (k) => results.reduce((a, r) => a + r.summary[k], 0);
  rows.push(['total', s(tot('nmapMedianMs')), s(tot('rdprobeMedianMs')), String(Math.round(tot('rdprobeProbeMedianMs'))), x(tot('nmapMedianMs') / tot('rdprobeMedianMs')), x(tot('nmapMedianMs') / tot('rdprobeProbeMedianMs')), '', '', '']);
  process.stdout.write(`\nbench: ${runs} run(s) per tool and host, medians (min–max); ratio = nmap / rdprobe process wall time; ratio(probe) uses rdprobe's own durationMs\n`);
  process.stdout.write(`${table(rows, { max: 90 })}\n`);

  const ends = [['host', 'nmap ends with', 'rdprobe ends with']];
  for (const r of results) ends.push([r.host, r.summary.nmapOutcome, r.summary.rdprobeOutcome]);
  process.stdout.write(`\n${table(ends, { max: 100 })}\n`);
  const more = [['host', 'rdprobe reports more', 'nmap has, rdprobe not']];
  for (const r of results) more.push([r.host, r.summary.reportsMore.join(', ') || '—', r.summary.reportsLess.join(', ') || '—']);
  process.stdout.write(`\n${table(more, { max: 150 })}\n`);

  const outDir = resolve(REPO, args.out ?? 'bench-results');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `bench-${startedAt.replace(/[:.]/g, '').replace(/\d{3}Z$/, 'Z')}.json`);
  writeFileSync(file, `${JSON.stringify({ startedAt, endedAt: new Date().toISOString(), runs, env: versions(), targetRatio: TARGET_RATIO, hosts: results }, null, 2)}\n`);
  process.stdout.write(`\nresults: ${file}\n`);
}

main().catch((e) => {
  killAllChildren();
  process.stderr.write(`${SCRIPT}: ${e?.stack ?? e}\n`);
  process.exit(EXIT.FAILED);
});
