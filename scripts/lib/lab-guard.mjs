/**
 * Shared guard for the scripts that talk to the integration lab (compare-nmap.mjs, bench.mjs).
 *
 * Safety rule (LAB-NOTES.md "Safety first", lab/README.md): the lab addresses 198.19.0.0/16 have no route in the root
 * namespace, so a packet sent there from the root namespace would follow the default route off the machine. Every
 * command these scripts run that sends lab traffic therefore runs INSIDE `rdplab-client` (`ip netns exec`), and only
 * against the fixed addresses in LAB_HOSTS below — never an address from the command line. When the client namespace
 * does not exist, `ip netns exec` fails and nothing is sent; `requireLab()` refuses to start before that.
 *
 * While a script runs it holds a shared flock on the lab's users lock (as test/lab/global-setup.ts does), so a
 * concurrent test run's teardown or `lab.sh up` waits instead of pulling the servers away mid-measurement.
 *
 * `--up`: when the lab is down, bring it up (`lab.sh ensure`) and take it down again at exit — only if this script
 * started it and no one else holds the users lock.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const LAB_SH = join(REPO, 'lab', 'lab.sh');
export const CLIENT_NS = 'rdplab-client';
export const RUN_DIR = '/tmp/rdplab';
export const RDP_PORT = 3389;
const USERS_LOCK = existsSync('/run/lock') ? '/run/lock/rdplab-users.lock' : '/tmp/rdplab-users.lock';
const STARTED_BY = 'rdprobe-scripts';
const EXIT_LOCK_BUSY = 75;

/** PATH with the sbin directories (ip, nft) even when the caller's PATH lacks them. */
export const LAB_PATH = [...new Set([...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'])]
  .filter(Boolean)
  .join(delimiter);

/**
 * The lab hosts these scripts may probe (lab/README.md "Map"; the source of truth is the table in lab/lab.sh).
 * `pmtu: true` marks the hosts behind the MTU-1400 core link, whose learned path MTU is flushed before each run.
 */
export const LAB_HOSTS = {
  tls: { address: '198.19.1.10', name: 'tls.rdplab.test', what: 'xrdp 0.9.21 security_layer=tls (TLS only)' },
  rdp: { address: '198.19.2.10', name: 'rdp.rdplab.test', what: 'xrdp 0.9.21 security_layer=rdp (Standard RDP Security only)' },
  nla: { address: '198.19.3.10', name: 'nla.rdplab.test', what: 'freerdp-shadow-cli 2.11 /sec:nla (HYBRID only)' },
  closed: { address: '198.19.4.10', name: 'closed.rdplab.test', what: 'nothing listening (RST)' },
  filtered: { address: '198.19.5.10', name: 'filtered.rdplab.test', what: 'nft drops TCP 3389 silently' },
  blackhole: { address: '198.19.6.10', name: 'blackhole.rdplab.test', what: 'xrdp TLS behind an MTU-1400 link, frag-needed dropped', pmtu: true },
  mtu1400: { address: '198.19.7.10', name: 'mtu1400.rdplab.test', what: 'xrdp TLS behind an MTU-1400 link, ICMP delivered (control)', pmtu: true },
};

/** Exit codes shared by the scripts. */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, LAB: 3, INTERRUPTED: 130 };

export class LabError extends Error {}

/** Cheap check, no traffic: the client namespace exists (and lab.sh up wrote its run dir). */
export function labIsUp() {
  return existsSync(`/run/netns/${CLIENT_NS}`) && existsSync(join(RUN_DIR, 'state'));
}

/** Throw LabError when the lab went away (e.g. someone ran `lab.sh down` mid-run). */
export function assertLabStillUp(what = '') {
  if (!labIsUp()) {
    throw new LabError(
      `the lab went down during the run${what ? ` (${what})` : ''}: namespace ${CLIENT_NS} no longer exists. ` +
        'The results so far are incomplete; start the lab again and re-run.',
    );
  }
}

export function labState() {
  const file = join(RUN_DIR, 'state');
  if (!existsSync(file)) return {};
  const out = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

function labSh(args, timeoutMs, env = {}) {
  const r = spawnSync('bash', [LAB_SH, ...args], {
    cwd: REPO,
    env: { ...process.env, PATH: LAB_PATH, ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 16 * 1024 * 1024,
  });
  return { code: r.error ? null : r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}` };
}

/** Forget learned path MTUs in every lab namespace (lab.sh flush-pmtu). Returns false on failure. */
export function flushPmtu() {
  return labSh(['flush-pmtu'], 20_000).code === 0;
}

/** Binaries the scripts need, with their Debian package. */
export function which(bin) {
  for (const dir of LAB_PATH.split(delimiter)) {
    const f = join(dir, bin);
    if (existsSync(f)) return f;
  }
  return null;
}

function sharedLock(timeoutS = 30) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('flock', ['-s', '-w', String(timeoutS), USERS_LOCK, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PATH: LAB_PATH },
    });
    let err = '';
    child.stderr.on('data', (b) => (err += b));
    const onExit = (code) => reject(new LabError(`could not take the shared lab lock ${USERS_LOCK} (flock exit ${code}) ${err}`));
    child.once('exit', onExit);
    child.once('error', (e) => reject(new LabError(`flock: ${e.message}`)));
    child.stdout.once('data', () => {
      child.off('exit', onExit);
      child.unref();
      resolvePromise(() => {
        try {
          child.stdin.end();
        } catch {
          /* already gone */
        }
        child.kill('SIGTERM');
      });
    });
  });
}

/**
 * Make sure the lab can be used, or exit with a clear message. Returns an async release() that drops the shared
 * lock and, when we brought the lab up ourselves (--up), takes it down again.
 */
export async function requireLab({ up = false, script = 'script' } = {}) {
  if (process.platform !== 'linux') fatal(EXIT.LAB, `${script}: the lab needs Linux network namespaces`);
  if (process.getuid?.() !== 0) fatal(EXIT.LAB, `${script}: must run as root (ip netns exec, nft, nmap raw SYN scan)`);
  for (const [bin, pkg] of [['ip', 'iproute2'], ['nmap', 'nmap'], ['flock', 'util-linux'], ['setpriv', 'util-linux'], ['nft', 'nftables']]) {
    if (!which(bin)) fatal(EXIT.LAB, `${script}: ${bin} not found (apt-get install -y ${pkg})`);
  }
  if (!existsSync(join(REPO, 'dist', 'cli', 'main.js'))) fatal(EXIT.LAB, `${script}: dist/ is missing; build first: npx tsc -p tsconfig.json`);

  let broughtUp = false;
  if (!labIsUp()) {
    if (!up) {
      fatal(
        EXIT.LAB,
        `${script}: the integration lab is down (network namespace ${CLIENT_NS} does not exist), so there is nothing to ` +
          'measure and no safe place to send lab traffic from. Refusing to run.\n' +
          `  start it:  sudo bash lab/lab.sh up      (or pass --up to start it now and stop it at the end)`,
      );
    }
    process.stderr.write(`${script}: lab is down; bringing it up (lab/lab.sh ensure)…\n`);
    const r = labSh(['ensure'], 400_000, { RDPLAB_STARTED_BY: STARTED_BY });
    if (r.code !== 0 || !labIsUp()) fatal(EXIT.LAB, `${script}: lab.sh ensure failed (exit ${r.code}):\n${r.output.trim()}`);
    broughtUp = /lab: started/.test(r.output) || labState().started_by === STARTED_BY;
  }
  let unlock;
  try {
    unlock = await sharedLock();
  } catch (e) {
    fatal(EXIT.LAB, `${script}: ${e.message}`);
  }
  // health check: `lab.sh status` exits 0 only when every listener and process is there (no traffic)
  const st = labSh(['status'], 20_000);
  if (st.code !== 0) {
    process.stderr.write(`${script}: warning: lab.sh status is not healthy (exit ${st.code}); results may show it:\n` +
      st.output.split('\n').filter((l) => /down|missing|not|dead|ERROR/i.test(l)).slice(0, 10).map((l) => `  ${l}`).join('\n') + '\n');
  }
  let released = false;
  return {
    broughtUp,
    async release() {
      if (released) return;
      released = true;
      unlock?.();
      if (broughtUp && labState().started_by === STARTED_BY) {
        // down only if no test run holds the users lock now (flock -n gives up at once)
        await new Promise((r) => setTimeout(r, 100));
        const d = spawnSync('flock', ['-n', '-E', String(EXIT_LOCK_BUSY), '-x', USERS_LOCK, 'bash', LAB_SH, 'down'], {
          env: { ...process.env, PATH: LAB_PATH, RDPLAB_SKIP_USERS_LOCK: '1' },
          encoding: 'utf8',
          timeout: 120_000,
        });
        if (d.status === EXIT_LOCK_BUSY) process.stderr.write(`${script}: lab left up: another run is using it\n`);
        else process.stderr.write(`${script}: lab taken down again (we had brought it up)\n`);
      }
    },
  };
}

export function fatal(code, message) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

// ---------------------------------------------------------------------------------------------------------------
// Bounded child processes inside rdplab-client

const live = new Set();
const cleanups = new Set();

/** Register FN to run on interrupt/fatal error (e.g. removing a temporary nft table); returns an unregister function. */
export function atCleanup(fn) {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/** Kill every child we started that is still running (its whole process group), then run the cleanups. */
export function killAllChildren() {
  for (const child of live) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const fn of [...cleanups]) {
    try {
      fn();
    } catch {
      /* best effort */
    }
  }
  cleanups.clear();
}

/**
 * Run CMD inside rdplab-client in its own process group; at `timeoutMs` the whole group is killed. stdout/stderr are
 * capped at `maxBytes` each. Resolves {code, signal, stdout, stderr, timedOut, ms, startedAt, endedAt}.
 */
export function runInClient(cmd, { timeoutMs = 60_000, maxBytes = 16 * 1024 * 1024, env = {} } = {}) {
  return new Promise((resolvePromise, reject) => {
    const startedAt = Date.now();
    const t0 = performance.now();
    const child = spawn('ip', ['netns', 'exec', CLIENT_NS, ...cmd], {
      cwd: REPO,
      env: { ...process.env, PATH: LAB_PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    live.add(child);
    const out = [];
    const err = [];
    let outLen = 0;
    let errLen = 0;
    let truncated = false;
    let timedOut = false;
    child.stdout.on('data', (b) => {
      if (outLen + b.length > maxBytes) return void (truncated = true);
      out.push(b);
      outLen += b.length;
    });
    child.stderr.on('data', (b) => {
      if (errLen + b.length > maxBytes) return void (truncated = true);
      err.push(b);
      errLen += b.length;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      live.delete(child);
      reject(e);
    });
    child.once('close', (code, signal) => {
      const ms = performance.now() - t0;
      clearTimeout(timer);
      live.delete(child);
      resolvePromise({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
        truncated,
        ms,
        startedAt,
        endedAt: Date.now(),
      });
    });
  });
}

/**
 * Install SIGINT/SIGTERM handlers: kill our children, release the lab, exit 130. Returns a function to call with the
 * guard once it exists.
 */
export function onInterrupt(getGuard, script) {
  let stopping = false;
  const handler = async (sig) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n${script}: ${sig}: stopping children\n`);
    killAllChildren();
    await getGuard()?.release();
    process.exit(EXIT.INTERRUPTED);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

// ---------------------------------------------------------------------------------------------------------------
// small shared helpers

/** Parse --flag value / --flag=value / boolean --flag from argv against a spec {name: 'bool'|'int'|'string'}. */
export function parseArgs(argv, spec, usage) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    if (a === '-h' || a === '--help') {
      process.stdout.write(usage);
      process.exit(0);
    }
    if (!a.startsWith('--')) fatal(EXIT.USAGE, `unexpected argument ${JSON.stringify(a)}\n${usage}`);
    let value;
    const eq = a.indexOf('=');
    if (eq > 0) {
      value = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const name = a.slice(2);
    const kind = spec[name];
    if (!kind) fatal(EXIT.USAGE, `unknown option ${a}\n${usage}`);
    if (kind === 'bool') {
      if (value !== undefined) fatal(EXIT.USAGE, `${a} takes no value`);
      out[name] = true;
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) fatal(EXIT.USAGE, `${a} needs a value`);
      value = argv[++i];
    }
    if (kind === 'int') {
      if (!/^\d+$/.test(value)) fatal(EXIT.USAGE, `${a}: not a whole number: ${JSON.stringify(value)}`);
      out[name] = Number(value);
    } else out[name] = value;
  }
  return out;
}

/** --hosts tls,rdp → validated list of lab host names (never addresses). */
export function selectHosts(list, defaults) {
  if (!list) return defaults;
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = names.filter((n) => !(n in LAB_HOSTS));
  if (bad.length || names.length === 0) {
    fatal(EXIT.USAGE, `--hosts: unknown lab host(s) ${bad.join(', ') || '(none given)'}; choose from ${Object.keys(LAB_HOSTS).join(', ')}`);
  }
  return [...new Set(names)];
}

/** Plain-text table: rows of strings, first row is the header. Cells longer than `max` are cut with "…". */
export function table(rows, { max = 60 } = {}) {
  const cut = (s) => {
    s = String(s ?? '');
    return s.length > max ? `${s.slice(0, max - 1)}…` : s;
  };
  const cells = rows.map((r) => r.map(cut));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r) => r.map((c, i) => (c ?? '').padEnd(widths[i])).join(' | ').trimEnd();
  const sep = widths.map((w) => '-'.repeat(w)).join('-+-');
  return [line(cells[0]), sep, ...cells.slice(1).map(line)].join('\n');
}

export function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Run `work` while holding the lab guard: on a lab error, kill our children, release, print one line and exit with
 * EXIT.LAB; any other error is rethrown after the same clean-up. Releases the guard in every case.
 */
export async function withLab(guard, script, work) {
  try {
    return await work();
  } catch (e) {
    killAllChildren();
    await guard.release();
    if (e instanceof LabError) {
      process.stderr.write(`${script}: ${e.message}\n`);
      process.exit(EXIT.LAB);
    }
    throw e;
  } finally {
    await guard.release();
  }
}
