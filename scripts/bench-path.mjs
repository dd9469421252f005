#!/usr/bin/env node
// Benchmark: time to a path-MTU answer, rdprobe against `tracepath -n` and `ping -M do` stepped by hand, on the lab's
// two hosts behind the MTU-1400 core link: mtu1400 (ICMP frag-needed delivered) and blackhole (frag-needed dropped).
// One run = every tool on every host, the kernel's PMTU caches flushed before each measurement. Everything runs
// inside the lab's client namespace (ip netns exec rdplab-client), so nothing can leave the machine.
//
//   node scripts/bench-path.mjs [--runs N] [--json]      (root; the lab must be up: bash lab/lab.sh up)
//
// Output: a table on stdout (or JSON with --json) and bench-results/path-<timestamp>.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const NS = 'rdplab-client';
const HOSTS = [
  { name: 'mtu1400', address: '198.19.7.10', truth: 1400, what: 'ICMP frag-needed delivered' },
  { name: 'blackhole', address: '198.19.6.10', truth: 1400, what: 'ICMP frag-needed dropped' },
];
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] || 0) || 3;
const asJson = args.includes('--json');
const PATH = [process.env.PATH, '/usr/local/sbin', '/usr/sbin', '/sbin'].filter(Boolean).join(':');

function die(msg) {
  process.stderr.write(`bench-path: ${msg}\n`);
  process.exit(1);
}
if (process.getuid?.() !== 0) die('must run as root (ip netns exec)');
if (!existsSync(`/run/netns/${NS}`) || !existsSync('/tmp/rdplab/state')) die('the lab is down: bash lab/lab.sh up');
for (const bin of ['tracepath', 'ping']) {
  if (spawnSync('sh', ['-c', `command -v ${bin}`], { env: { ...process.env, PATH } }).status !== 0) die(`${bin} not installed (iputils)`);
}

function inClient(cmd, timeoutMs = 120_000) {
  const t = performance.now();
  const r = spawnSync('ip', ['netns', 'exec', NS, ...cmd], { cwd: REPO, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, PATH }, maxBuffer: 16 << 20 });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, stdout: r.stdout ?? '', ms: performance.now() - t, timedOut: r.error?.code === 'ETIMEDOUT' };
}

function flush() {
  const r = spawnSync('bash', [join(REPO, 'lab', 'lab.sh'), 'flush-pmtu'], { cwd: REPO, encoding: 'utf8', env: { ...process.env, PATH }, timeout: 30_000 });
  if (r.status !== 0) die(`lab.sh flush-pmtu failed: ${r.stdout}${r.stderr}`);
}

// rdprobe: the measurement itself timed in-process (startup of node + tsx excluded, reported apart).
function rdprobe(address, method) {
  const src = `import { measurePmtu } from ${JSON.stringify(join(REPO, 'src/transport/pmtu.ts'))};
    const t = performance.now(); const o = await measurePmtu(${JSON.stringify(address)}, { method: ${JSON.stringify(method)} });
    console.log(JSON.stringify({ ms: performance.now() - t, o }));`;
  const r = inClient([process.execPath, '--import', 'tsx', '--input-type=module', '-e', src]);
  let j;
  try {
    j = JSON.parse(r.stdout);
  } catch {
    return { answer: null, ms: r.ms, wallMs: r.ms, probes: 0, note: `failed: ${r.out.trim().slice(0, 200)}` };
  }
  const o = j.o;
  const note = o.outcome === 'black-hole' ? `black hole ${o.bounds.passes}/${o.bounds.lost}` : o.outcome;
  return { answer: o.pathMtu ?? null, ms: j.ms, wallMs: r.ms, probes: o.probes.length, note: `${note}, ${o.method}` };
}

function tracepath(address) {
  const r = inClient(['tracepath', '-n', address], 120_000);
  const resume = /Resume: pmtu (\d+)/.exec(r.out);
  const pmtus = [...r.out.matchAll(/pmtu (\d+)/g)].map((m) => Number(m[1]));
  const answer = resume ? Number(resume[1]) : pmtus.length ? pmtus[pmtus.length - 1] : null;
  const hops = [...r.out.matchAll(/^\s*\d+\??:/gm)].length;
  return { answer, ms: r.ms, wallMs: r.ms, probes: hops, note: r.timedOut ? 'timed out' : resume ? 'Resume line' : 'no Resume line' };
}

// What a person does with ping: start at 1472 (+28 = 1500); when ping prints "Frag needed … (mtu = N)", retry at N;
// otherwise halve the interval between what answered and what did not, one ping of 1 s each, down to 1 byte.
function pingByHand(address) {
  let lo = 0; // largest IP size that answered
  let hi = 1501; // smallest that did not
  let next = 1500;
  let n = 0;
  let total = 0;
  let hint = false;
  while (n < 30) {
    const r = inClient(['ping', '-n', '-c', '1', '-W', '1', '-M', 'do', '-s', String(next - 28), address], 10_000);
    n++;
    total += r.ms;
    const frag = /mtu ?= ?(\d+)/i.exec(r.out);
    if (/bytes from/.test(r.out)) lo = next;
    else {
      hi = next;
      if (frag && Number(frag[1]) < next) {
        next = Number(frag[1]);
        hint = true;
        continue;
      }
    }
    if (hint && lo) break; // the router told the MTU and it answered
    if (lo === 0 && hi <= 1200) next = Math.floor(hi / 2);
    else if (lo === 0) next = 1200;
    else next = Math.floor((lo + hi) / 2);
    if (hi - lo <= 1 || next === lo || next === hi) break;
  }
  return { answer: lo || null, ms: total, wallMs: total, probes: n, note: hint ? 'read the mtu from "Frag needed"' : 'bisected, 1 s per lost ping' };
}

const tools = [
  ['rdprobe (icmp)', (h) => rdprobe(h.address, 'icmp')],
  ['rdprobe (udp)', (h) => rdprobe(h.address, 'udp')],
  ['tracepath -n', (h) => tracepath(h.address)],
  ['ping -M do by hand', (h) => pingByHand(h.address)],
];

const results = [];
for (let run = 1; run <= runs; run++) {
  for (const h of HOSTS) {
    for (const [tool, fn] of tools) {
      flush();
      const r = fn(h);
      results.push({ run, host: h.name, tool, ...r, correct: r.answer === h.truth });
      if (!asJson) process.stderr.write(`run ${run} ${h.name.padEnd(9)} ${tool.padEnd(20)} ${String(r.answer).padEnd(5)} ${r.ms.toFixed(1).padStart(8)} ms  ${r.note}\n`);
    }
  }
}
flush();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const summary = [];
for (const h of HOSTS) {
  for (const [tool] of tools) {
    const rs = results.filter((r) => r.host === h.name && r.tool === tool);
    summary.push({
      host: h.name,
      tool,
      answers: [...new Set(rs.map((r) => r.answer))].join('/'),
      truth: h.truth,
      correct: rs.every((r) => r.correct),
      medianMs: Math.round(median(rs.map((r) => r.ms)) * 100) / 100,
      medianWallMs: Math.round(median(rs.map((r) => r.wallMs))),
      probes: median(rs.map((r) => r.probes)),
      note: rs[0].note,
    });
  }
}

const doc = { when: new Date().toISOString(), runs, hosts: HOSTS, summary, results };
mkdirSync(join(REPO, 'bench-results'), { recursive: true });
const file = join(REPO, 'bench-results', `path-${doc.when.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(doc, null, 2));
if (asJson) process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
else {
  const head = ['host', 'tool', 'answer', 'right', 'median time', 'wall (incl. start)', 'probes', 'note'];
  const rows = summary.map((s) => [
    s.host,
    s.tool,
    s.answers,
    s.correct ? 'yes' : `NO (${s.truth})`,
    `${s.medianMs < 10 ? s.medianMs.toFixed(2) : Math.round(s.medianMs)} ms`,
    `${s.medianWallMs} ms`,
    String(s.probes),
    s.note,
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd();
  process.stdout.write(`path-MTU benchmark, ${runs} run(s), median per host and tool (PMTU caches flushed before each)\n`);
  process.stdout.write(`${line(head)}\n${line(w.map((n) => '-'.repeat(n)))}\n${rows.map(line).join('\n')}\n`);
  process.stdout.write(`results: ${file}\n`);
}
