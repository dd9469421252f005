#!/usr/bin/env node
/**
 * Side-by-side check of `rdprobe probe` against nmap's rdp-enum-encryption + rdp-ntlm-info on the real lab servers
 * (lab/README.md). For each host it runs, one tool at a time and inside rdplab-client:
 *
 *   nmap -n -Pn -d -p3389 --script rdp-enum-encryption,rdp-ntlm-info ADDR      (-d so FAILED lines show)
 *   node bin/rdprobe.js probe ADDR --json [--phase-timeout 3000 on the black hole]
 *
 * maps both onto the same facts (scripts/lib/facts.mjs explains the security-protocol mapping), checks each answer
 * against what was measured on these servers (LAB_FACTS below, from /work/shared/LAB-NOTES.md and lab/README.md
 * "Measured facts"), and prints fact | nmap | rdprobe | verdict:
 *
 *   same          both give the lab's answer
 *   nmap wrong    nmap answers, but not what the server did (e.g. SUCCESS for SSL on xrdp RDP-only, whose CC selected
 *                 PROTOCOL_RDP); rdprobe gives the lab's answer
 *   nmap failed   nmap could not answer (Script execution failed, …); rdprobe gives the lab's answer
 *   rdprobe only  a fact the two nmap scripts do not report at all
 *   nmap only     a fact rdprobe does not report (listed, not an error)
 *   RDPROBE WRONG / RDPROBE FAILED   rdprobe disagrees with / fails on a CORRECT nmap answer  → exit 1
 *   rdprobe wrong rdprobe differs from the lab facts where nmap had no correct answer either (exit 1 only with --strict)
 *
 * Also counts the TCP connections each tool opened: SYNs from the tool's own sockets, matched by a dedicated gid in a
 * temporary nft table in rdplab-client (scripts/lib/conn-count.mjs), so concurrent lab traffic is not counted.
 *
 * Usage: node scripts/compare-nmap.mjs [--hosts tls,rdp,…] [--up] [--strict] [--verbose]
 * Exit: 0 ok · 1 rdprobe disagrees with a correct nmap answer · 2 usage · 3 lab down/unusable · 130 interrupted
 */
import { join } from 'node:path';
import {
  EXIT,
  LAB_HOSTS,
  withLab,
  REPO,
  killAllChildren,
  onInterrupt,
  parseArgs,
  requireLab,
  selectHosts,
  table,
} from './lib/lab-guard.mjs';
import { nmapOutcome, parseNmap } from './lib/nmap-parse.mjs';
import { FACT_LABELS, PROTOCOL_ROWS, nmapFacts, rdprobeExtras, rdprobeFacts, rdprobeOutcome, showValue } from './lib/facts.mjs';
import { FAILING, FAILING_STRICT, LAB_FACTS, verdict } from './lib/lab-facts.mjs';
import { measureInClient, showConns, sweepStaleCounters } from './lib/conn-count.mjs';

const SCRIPT = 'compare-nmap';
const USAGE = `usage: node scripts/compare-nmap.mjs [--hosts ${Object.keys(LAB_HOSTS).join(',')}] [--up] [--strict] [--verbose]
  --hosts    lab hosts to compare (default tls,rdp,nla,closed,filtered,blackhole)
  --up       bring the lab up if it is down (and down again at the end)
  --strict   also fail when rdprobe differs from the lab facts where nmap was wrong/failed, or misses a fact nmap has
  --verbose  print nmap's script output and rdprobe's stderr for each host
`;
const DEFAULT_HOSTS = ['tls', 'rdp', 'nla', 'closed', 'filtered', 'blackhole'];
const NMAP_TIMEOUT_MS = 90_000;
const RDPROBE_TIMEOUT_MS = 60_000;
/** The black hole stalls every TLS handshake; a shorter phase deadline keeps rdprobe's run short (brief). */
const RDPROBE_EXTRA_ARGS = { blackhole: ['--phase-timeout', '3000'] };

// ---------------------------------------------------------------------------------------------------------------


async function compareHost(host, opts) {
  const h = LAB_HOSTS[host];
  const nmapCmd = ['nmap', '-n', '-Pn', '-d', '-p3389', '--script', 'rdp-enum-encryption,rdp-ntlm-info', h.address];
  const rdCmd = [process.execPath, join(REPO, 'bin', 'rdprobe.js'), 'probe', h.address, '--json', ...(RDPROBE_EXTRA_ARGS[host] ?? [])];

  const nm = await measureInClient(host, nmapCmd, NMAP_TIMEOUT_MS);
  await new Promise((r) => setTimeout(r, 300)); // let the server reap the last connection (xrdp backlog is 2)
  const rd = await measureInClient(host, rdCmd, RDPROBE_TIMEOUT_MS);

  const parsed = parseNmap(nm.res.stdout + nm.res.stderr);
  const nf = nm.res.timedOut ? { port: { failed: `nmap killed after ${NMAP_TIMEOUT_MS} ms` } } : nmapFacts(parsed, nm.res);
  let obs = null;
  let obsError = null;
  try {
    obs = JSON.parse(rd.res.stdout);
  } catch {
    obsError = rd.res.timedOut ? `rdprobe killed after ${RDPROBE_TIMEOUT_MS} ms` : `no JSON from rdprobe (exit ${rd.res.code}): ${rd.res.stderr.trim().split('\n').slice(-1)[0] ?? ''}`;
  }
  const rf = obs ? rdprobeFacts(obs) : { port: { failed: obsError } };
  const truth = LAB_FACTS[host] ?? {};

  const rows = [];
  for (const k of Object.keys(FACT_LABELS)) {
    const detail = k.startsWith('ntlm:') && k !== 'ntlm:any'; // NTLM detail rows only when a tool got a CHALLENGE
    if (nf[k] === undefined && rf[k] === undefined && (detail || truth[k] === undefined)) continue;
    const noCodeCompare = PROTOCOL_ROWS.find((r) => r.key === k)?.noCodeCompare;
    rows.push({ key: k, label: FACT_LABELS[k], nmap: nf[k], rdprobe: rf[k], truth: truth[k], verdict: verdict(nf[k], rf[k], truth[k], { noCodeCompare }) });
  }
  if (obs) for (const [label, value] of rdprobeExtras(obs)) rows.push({ key: `extra:${label}`, label, nmap: undefined, rdprobe: { cmp: value, show: value }, verdict: 'rdprobe only' });

  if (opts.verbose) {
    const block = (nm.res.stdout.split('\n').filter((l) => /^(\d+\/tcp|\|)/.test(l) || /threw an error|^NSE: \[/.test(l))).join('\n');
    process.stdout.write(`\n--- nmap (${host}) ---\n${block}\n--- rdprobe stderr (${host}) ---\n${rd.res.stderr.trim() || '(empty)'}\n`);
  }
  return {
    host,
    address: h.address,
    what: h.what,
    rows,
    nmap: { ms: nm.res.ms, exit: nm.res.code, timedOut: nm.res.timedOut, conns: nm.conns, outcome: nm.res.timedOut ? 'killed (timeout)' : nmapOutcome(parsed) },
    rdprobe: {
      ms: rd.res.ms,
      exit: rd.res.code,
      timedOut: rd.res.timedOut,
      conns: rd.conns,
      selfReportedConnections: obs?.connections,
      durationMs: obs?.durationMs,
      outcome: obs ? rdprobeOutcome(obs) : obsError,
    },
    commands: { nmap: `ip netns exec rdplab-client ${nmapCmd.join(' ')}`, rdprobe: `ip netns exec rdplab-client node bin/rdprobe.js ${rdCmd.slice(3).join(' ')}` },
  };
}

/** The wire count differs from what rdprobe says it opened (Observation.connections): one of the two is wrong. */
function mismatch(r) {
  const c = r.rdprobe.conns;
  return c && !c.error && r.rdprobe.selfReportedConnections !== undefined && c.attempts !== r.rdprobe.selfReportedConnections;
}

function printHost(r) {
  const rows = [['fact', 'nmap', 'rdprobe', 'verdict']];
  for (const row of r.rows) rows.push([row.label, showValue(row.nmap), showValue(row.rdprobe), row.verdict]);
  rows.push([
    'TCP connections',
    showConns(r.nmap.conns),
    `${showConns(r.rdprobe.conns)}${r.rdprobe.selfReportedConnections !== undefined ? ` (self-reported ${r.rdprobe.selfReportedConnections})` : ''}${mismatch(r) ? ' ⚠ differs from rdprobe\'s own count' : ''}`,
    '',
  ]);
  rows.push(['wall time', `${(r.nmap.ms / 1000).toFixed(2)} s`, `${(r.rdprobe.ms / 1000).toFixed(2)} s${r.rdprobe.durationMs !== undefined ? ` (probe ${r.rdprobe.durationMs} ms)` : ''}`, '']);
  process.stdout.write(`\n== ${r.host} ${r.address} — ${r.what}\n${table(rows, { max: 64 })}\n`);
}

async function main() {
  const args = parseArgs(process.argv.slice(2), { hosts: 'string', up: 'bool', strict: 'bool', verbose: 'bool' }, USAGE);
  const hosts = selectHosts(args.hosts, DEFAULT_HOSTS);
  let guard = null;
  onInterrupt(() => guard, SCRIPT);
  guard = await requireLab({ up: !!args.up, script: SCRIPT });
  sweepStaleCounters();
  const results = [];
  await withLab(guard, SCRIPT, async () => {
    for (const host of hosts) {
      process.stderr.write(`${SCRIPT}: ${host} …\n`);
      const r = await compareHost(host, args);
      results.push(r);
      printHost(r);
    }
  });

  // summary
  const names = ['same', 'nmap wrong', 'nmap failed', 'rdprobe only', 'nmap only', 'rdprobe wrong', 'RDPROBE WRONG', 'RDPROBE FAILED', 'DIFFERENT', 'both wrong', 'both failed'];
  const sum = [['host', ...names.filter((n) => results.some((r) => r.rows.some((x) => x.verdict === n))), 'conns nmap', 'conns rdprobe']];
  for (const r of results) {
    const counts = sum[0].slice(1, -2).map((n) => String(r.rows.filter((x) => x.verdict === n).length || ''));
    sum.push([r.host, ...counts, showConns(r.nmap.conns), showConns(r.rdprobe.conns)]);
  }
  process.stdout.write(`\n== summary\n${table(sum)}\n`);
  const bad = results.flatMap((r) => r.rows.filter((x) => FAILING.has(x.verdict) || (args.strict && FAILING_STRICT.has(x.verdict))).map((x) => `${r.host}: ${x.label}: nmap ${showValue(x.nmap)} / rdprobe ${showValue(x.rdprobe)} → ${x.verdict}`));
  const notes = results.flatMap((r) => r.rows.filter((x) => ['nmap only', 'rdprobe wrong', 'both wrong'].includes(x.verdict) && !bad.some((b) => b.startsWith(`${r.host}: ${x.label}:`))).map((x) => `${r.host}: ${x.label}: nmap ${showValue(x.nmap)} / rdprobe ${showValue(x.rdprobe)} → ${x.verdict}`));
  if (notes.length) process.stdout.write(`\nnotes (not failing${args.strict ? '' : '; --strict makes them fail'}):\n${notes.map((n) => `  ${n}`).join('\n')}\n`);
  if (bad.length) {
    process.stdout.write(`\nFAIL: rdprobe disagrees with a correct nmap answer${args.strict ? ' (or with the lab facts)' : ''}:\n${bad.map((b) => `  ${b}`).join('\n')}\n`);
    process.exitCode = EXIT.FAILED;
  } else {
    process.stdout.write('\nOK: wherever nmap answered correctly rdprobe reports the same; see the verdict column for the rest.\n');
  }
}

main().catch((e) => {
  killAllChildren();
  process.stderr.write(`${SCRIPT}: ${e?.stack ?? e}\n`);
  process.exit(EXIT.FAILED);
});
