/**
 * vitest globalSetup for the `lab` project: make sure the integration lab is up, wait until every server answers from
 * rdplab-client, and take it down afterwards when a test run started it.
 *
 *   RDPROBE_LAB_KEEP=1   leave the lab up after the run (inspect it with `lab/lab.sh status`, stop with `lab/lab.sh down`)
 *   RDPROBE_LAB_FRESH=1  rebuild the lab even if a healthy one is already up
 *
 * Sharing: while the run lasts it holds a shared flock on /run/lock/rdplab-users.lock (through a `flock -s … cat` child
 * that dies with us). `lab.sh ensure` reuses a healthy lab instead of restarting its servers, `lab.sh up`/`down` wait
 * for the exclusive lock, and the teardown downs the lab only when no other test run holds the lock and the lab was
 * started by a test run (state `started_by=vitest`). A lab someone started by hand (`lab.sh up`) is always left up.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENT_NS, LAB_HOSTS, LAB_PATH, LAB_SH, RDP_PORT, REPO, flushPmtu, labSh, labState, nodeInClient, which } from './helpers.js';

const USERS_LOCK = existsSync('/run/lock') ? '/run/lock/rdplab-users.lock' : '/tmp/rdplab-users.lock';
const EXIT_LOCK_BUSY = 75;

/** binary → Debian package (see lab/packages.txt) */
const REQUIRED: Record<string, string> = {
  bash: 'bash',
  ip: 'iproute2',
  ss: 'iproute2',
  nft: 'nftables',
  ethtool: 'ethtool',
  sysctl: 'procps',
  ping: 'iputils-ping',
  openssl: 'openssl',
  xrdp: 'xrdp',
  'xrdp-keygen': 'xrdp',
  'freerdp-shadow-cli': 'freerdp2-shadow-x11',
  'winpr-hash': 'winpr-utils',
  Xvfb: 'xvfb',
  unshare: 'util-linux',
  setsid: 'util-linux',
  flock: 'util-linux',
};

function log(line: string): void {
  process.stderr.write(`[lab] ${line}\n`);
}

function preflight(): void {
  if (process.platform !== 'linux') throw new Error('lab: the integration lab needs Linux network namespaces');
  if (process.getuid?.() !== 0) {
    throw new Error('lab: must run as root (network namespaces, nft, ports 53/3389). Unit tests only: npx vitest run --project unit');
  }
  const missing = Object.entries(REQUIRED).filter(([bin]) => which(bin) === null);
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map(([, pkg]) => pkg))].join(' ');
    throw new Error(
      `lab: missing binaries: ${missing.map(([bin]) => bin).join(', ')}\n` +
        `     install: apt-get install -y ${pkgs}   (full list: lab/packages.txt; .ci/run installs it)`,
    );
  }
  if (!existsSync(join(REPO, 'node_modules', '.bin', 'tsx'))) throw new Error('lab: node_modules/.bin/tsx missing (run npm ci)');
}

// From rdplab-client: connect to every TCP listener and ask the DNS peer one question, retrying until the deadline.
const READY_SCRIPT = `
import net from 'node:net';
import dns from 'node:dns';
const [deadlineMs, port, ...targets] = process.argv.slice(1);
const deadline = Date.now() + Number(deadlineMs);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function tcp(host) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port: Number(port) });
    const t = setTimeout(() => { s.destroy(); resolve('timeout'); }, 1000);
    s.once('connect', () => { clearTimeout(t); s.destroy(); resolve('ok'); });
    s.once('error', (e) => { clearTimeout(t); resolve(e.code ?? String(e)); });
  });
}
async function dnsPeer() {
  const r = new dns.promises.Resolver({ timeout: 500, tries: 1 });
  r.setServers(['127.0.0.1']);
  try { const a = await r.resolve4('tls.rdplab.test'); return a[0] === '198.19.1.10' ? 'ok' : 'wrong answer ' + a; }
  catch (e) { return e.code ?? String(e); }
}
async function retry(check) {
  let last;
  do { last = await check(); if (last === 'ok') break; await sleep(200); } while (Date.now() < deadline);
  return last;
}
const result = {};
await Promise.all([
  ...targets.map(async (t) => { result[t + ':' + port] = await retry(() => tcp(t)); }),
  (async () => { result['dns 127.0.0.1:53'] = await retry(dnsPeer); })(),
]);
console.log(JSON.stringify(result));
`;

async function waitForServers(deadlineMs: number): Promise<void> {
  const targets = Object.values(LAB_HOSTS)
    .filter((h) => h.tcp !== null)
    .map((h) => h.address);
  const r = await nodeInClient(READY_SCRIPT, [String(deadlineMs), String(RDP_PORT), ...targets], { timeoutMs: deadlineMs + 10_000 });
  let result: Record<string, string>;
  try {
    result = JSON.parse(r.stdout) as Record<string, string>;
  } catch {
    throw new Error(`lab: readiness check in ${CLIENT_NS} failed (code ${r.code}, signal ${r.signal}):\n${r.stdout}${r.stderr}`);
  }
  const bad = Object.entries(result).filter(([, v]) => v !== 'ok');
  if (bad.length > 0) {
    const status = labSh(['status'], 30_000).output;
    throw new Error(`lab: servers not answering from ${CLIENT_NS}: ${bad.map(([k, v]) => `${k} ${v}`).join(', ')}\n${status}`);
  }
}

/** Hold a shared lock on USERS_LOCK until release(); a `flock -s` child keeps it and exits when its stdin closes. */
async function holdSharedLock(timeoutS: number): Promise<{ release(): Promise<void> }> {
  const child = spawn('flock', ['-s', '-w', String(timeoutS), USERS_LOCK, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    env: { ...process.env, PATH: LAB_PATH },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`lab: could not take the shared lock ${USERS_LOCK} (flock exit ${code}) ${stderr}`));
    child.once('exit', onExit);
    child.once('error', reject);
    child.stdout.once('data', () => {
      child.off('exit', onExit);
      resolve();
    });
  });
  return {
    release: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin.end();
      }),
  };
}

/** `lab.sh down`, but only if no other test run holds the shared lock (flock -n gives up at once). */
function tryDown(): void {
  const t0 = Date.now();
  const down = spawnSync('flock', ['-n', '-E', String(EXIT_LOCK_BUSY), '-x', USERS_LOCK, 'bash', LAB_SH, 'down'], {
    cwd: REPO,
    env: { ...process.env, PATH: LAB_PATH, RDPLAB_SKIP_USERS_LOCK: '1' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (down.status === EXIT_LOCK_BUSY) log('lab left up: another test run is still using it');
  else log(`lab down in ${((Date.now() - t0) / 1000).toFixed(1)} s${down.status === 0 ? '' : ` (exit ${down.status}: ${down.stdout}${down.stderr})`}`);
}

export default async function setup(): Promise<() => Promise<void>> {
  preflight();
  const keep = process.env.RDPROBE_LAB_KEEP === '1';
  const fresh = process.env.RDPROBE_LAB_FRESH === '1';
  const users = await holdSharedLock(300);

  const t0 = Date.now();
  const command = fresh ? 'up' : 'ensure';
  const r = labSh([command], 240_000, { RDPLAB_SKIP_USERS_LOCK: '1', RDPLAB_STARTED_BY: 'vitest' });
  if (r.code !== 0) {
    await users.release();
    if (!keep) tryDown();
    throw new Error(`lab: \`${LAB_SH} ${command}\` failed (exit ${r.code}):\n${r.output}`);
  }
  if (/^lab: reused$/m.test(r.output)) log(`reusing the lab that is already up (started_by=${labState().started_by ?? '?'})`);
  else log(`lab up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  try {
    await waitForServers(30_000);
    flushPmtu();
  } catch (err) {
    await users.release();
    if (!keep && labState().started_by === 'vitest') tryDown();
    throw err;
  }

  return async () => {
    await users.release();
    if (keep) {
      log(`RDPROBE_LAB_KEEP=1: lab left up (\`${LAB_SH} status\`, \`${LAB_SH} down\`)`);
      return;
    }
    const startedBy = labState().started_by;
    if (startedBy === 'vitest') tryDown();
    else if (startedBy) log(`lab left up: it was started by hand (started_by=${startedBy})`);
  };
}
