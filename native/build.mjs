#!/usr/bin/env node
// Install-time builder for rdprobe's optional native addon (native/rdprobe_net.c → build/Release/rdprobe_net.node).
//
// Runs `node-gyp rebuild` in native/. It never fails the install: on any problem it prints ONE line
//   rdprobe: native addon not built (<reason>); path-MTU falls back to ping -M do
// and exits 0, because everything except DF path-MTU probes and MSS clamping works without the addon.
// Options: --verbose (show node-gyp output). Environment: RDPROBE_SKIP_NATIVE=1 skips the build.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const verbose = process.argv.includes('--verbose');
const logFile = join(here, 'build', 'rdprobe-build.log');
const output = join(here, 'build', 'Release', 'rdprobe_net.node');
const BUILD_TIMEOUT_MS = 180_000;

function giveUp(reason, log) {
  if (log) {
    try {
      mkdirSync(dirname(logFile), { recursive: true });
      writeFileSync(logFile, log);
      reason += `; log: ${relative(process.cwd(), logFile) || logFile}`;
    } catch {
      /* the log is a convenience only */
    }
  }
  console.log(`rdprobe: native addon not built (${reason}); path-MTU falls back to ping -M do`);
  process.exit(0);
}

function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp); // set by npm in lifecycle scripts
  try {
    candidates.push(createRequire(join(here, '..', 'package.json')).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    /* not a dependency: fine */
  }
  const prefix = dirname(dirname(process.execPath));
  candidates.push(join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  for (const c of candidates) if (c && existsSync(c)) return { cmd: process.execPath, args: [c] };
  const onPath = spawnSync('node-gyp', ['--version'], { stdio: 'ignore' });
  if (onPath.status === 0) return { cmd: 'node-gyp', args: [] };
  return null;
}

// Node's own headers: use the installed ones (no download) when they are there.
function findNodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) return prefix;
  return null;
}

function main() {
  if (process.env.RDPROBE_SKIP_NATIVE === '1') giveUp('RDPROBE_SKIP_NATIVE=1');
  if (process.platform === 'win32') giveUp('not supported on Windows');
  const gyp = findNodeGyp();
  if (!gyp) giveUp('node-gyp not found');
  const nodedir = findNodeDir();
  const args = [...gyp.args, 'rebuild'];
  if (nodedir) args.push(`--nodedir=${nodedir}`);
  const r = spawnSync(gyp.cmd, args, {
    cwd: here,
    encoding: 'utf8',
    timeout: BUILD_TIMEOUT_MS,
    stdio: verbose ? 'inherit' : 'pipe',
    env: { ...process.env },
  });
  const log = `${gyp.cmd} ${args.join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.error) giveUp(r.error.code === 'ETIMEDOUT' ? `node-gyp timed out after ${BUILD_TIMEOUT_MS / 1000} s` : `node-gyp: ${r.error.message}`, log);
  if (r.status !== 0) {
    const firstError = `${r.stdout ?? ''}\n${r.stderr ?? ''}`
      .split('\n')
      .find((l) => /\berror\b/i.test(l) && !/^gyp (ERR|info)/.test(l));
    const why = firstError ? firstError.trim().slice(0, 160) : `node-gyp exited with ${r.status ?? r.signal}`;
    giveUp(why, log);
  }
  if (!existsSync(output)) giveUp('node-gyp finished but build/Release/rdprobe_net.node is missing', log);
  try {
    const addon = createRequire(import.meta.url)(output);
    if (typeof addon.probe !== 'function' || addon.abi !== 1) giveUp('built addon has an unexpected interface', log);
  } catch (e) {
    giveUp(`built addon does not load: ${e instanceof Error ? e.message : String(e)}`, log);
  }
  console.log(`rdprobe: native addon built (${relative(process.cwd(), output) || output})`);
}

try {
  main();
} catch (e) {
  giveUp(`unexpected: ${e instanceof Error ? e.message : String(e)}`);
}
