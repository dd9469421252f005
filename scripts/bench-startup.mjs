#!/usr/bin/env node
/**
 * Start-up cost, side by side in one run: `rdprobe --version` against bare `node -e 0`, and a probe of a closed
 * loopback port against `nmap -n -Pn -p<port> 127.0.0.1` (loopback only). Runs each command N times interleaved
 * (so a load spike hits both sides alike) and prints medians, the difference and the ratio.
 * Needs `npm run build` first (it runs dist/ through bin/rdprobe.js, as an installed rdprobe runs).
 *
 *   node scripts/bench-startup.mjs [--runs 20]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const BIN = join(ROOT, 'bin/rdprobe.js');
const argRuns = process.argv.indexOf('--runs');
const RUNS = argRuns > 0 ? Number(process.argv[argRuns + 1]) : 20;

if (!existsSync(join(ROOT, 'dist/cli/main.js'))) {
  console.error('bench-startup: run `npm run build` first');
  process.exit(2);
}

/** A loopback port nothing listens on: bind one, note it, close it. */
async function closedPort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

function timeOnce(cmd, args) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.error) throw r.error;
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function compare(label, a, b) {
  const ta = [];
  const tb = [];
  timeOnce(...a.cmd); // warm the page cache for both
  timeOnce(...b.cmd);
  for (let i = 0; i < RUNS; i++) {
    ta.push(timeOnce(...a.cmd));
    tb.push(timeOnce(...b.cmd));
  }
  const ma = median(ta);
  const mb = median(tb);
  console.log(`${label}`);
  console.log(`  ${a.name.padEnd(44)} median ${ma.toFixed(1).padStart(6)} ms  (min ${Math.min(...ta).toFixed(1)})`);
  console.log(`  ${b.name.padEnd(44)} median ${mb.toFixed(1).padStart(6)} ms  (min ${Math.min(...tb).toFixed(1)})`);
  console.log(`  difference ${(ma - mb).toFixed(1)} ms, ratio ${(ma / mb).toFixed(2)}×`);
  return { a: ma, b: mb };
}

const port = await closedPort();
console.log(`node ${process.version}, ${RUNS} runs each, interleaved; closed port 127.0.0.1:${port}\n`);
compare('start-up (target: within 30 ms of bare node)', { name: 'rdprobe --version', cmd: [process.execPath, [BIN, '--version']] }, { name: 'node -e 0', cmd: [process.execPath, ['-e', '0']] });
const nmap = spawnSync('nmap', ['--version'], { stdio: 'ignore' });
if (nmap.error) console.log('\nclosed-port probe: nmap not installed, skipped');
else {
  console.log('');
  compare(
    'closed-port probe (target: within 1.5× nmap)',
    { name: `rdprobe probe 127.0.0.1:${port}`, cmd: [process.execPath, [BIN, 'probe', `127.0.0.1:${port}`]] },
    { name: `nmap -n -Pn -p${port} 127.0.0.1`, cmd: ['nmap', ['-n', '-Pn', `-p${port}`, '127.0.0.1']] },
  );
}
