/**
 * Count the TCP connections ONE tool run opens to one lab host, even while other processes (e.g. a concurrent lab
 * test run) talk to the same host from rdplab-client.
 *
 * How: the tool runs with a dedicated group id (`setpriv --regid GID --clear-groups`; the uid stays 0, so nmap keeps
 * its raw-socket SYN scan). A temporary nftables table in rdplab-client matches, on the output hook, SYNs (SYN set,
 * ACK clear) to ADDR:3389 whose socket belongs to that gid (`meta skgid`, which covers nmap's raw socket as well as
 * Node's TCP sockets), counts them and adds each source port to a dynamic set. One connection attempt = one source
 * port (kernel SYN retransmissions reuse the port and count once; nmap's half-open SYN-scan probe counts as one).
 *
 * The table is created right before the run and deleted right after it (and swept at start-up if a crashed run left
 * one behind); the lab's own tables are never touched. Only rdplab-client is modified.
 */
import { spawnSync } from 'node:child_process';
import { CLIENT_NS, LAB_HOSTS, LAB_PATH, RDP_PORT, assertLabStillUp, atCleanup, flushPmtu, runInClient, which } from './lab-guard.mjs';

const TABLE_PREFIX = 'rdprobe_cc_';
/** Group id for counted runs: unlikely to collide with a real group; one per script process. */
export const COUNT_GID = 40_000 + (process.pid % 20_000);

function nft(args, input) {
  const r = spawnSync('ip', ['netns', 'exec', CLIENT_NS, 'nft', ...args], {
    input,
    encoding: 'utf8',
    timeout: 10_000,
    killSignal: 'SIGKILL',
    env: { ...process.env, PATH: LAB_PATH },
  });
  return { ok: !r.error && r.status === 0, out: r.stdout ?? '', err: `${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim() };
}

export function counterAvailable() {
  return which('nft') !== null && which('setpriv') !== null;
}

/** Delete counter tables left behind by runs of ours that no longer exist. */
export function sweepStaleCounters() {
  if (!counterAvailable()) return;
  const r = nft(['list', 'tables', 'inet']);
  if (!r.ok) return;
  for (const m of r.out.matchAll(new RegExp(`table inet (${TABLE_PREFIX}(\\d+)_\\d+)`, 'g'))) {
    const pid = Number(m[2]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive || pid === process.pid) nft(['delete', 'table', 'inet', m[1]]);
  }
}

/** Wrap CMD so that its sockets carry COUNT_GID. */
export function counted(cmd) {
  return counterAvailable() ? ['setpriv', `--regid=${COUNT_GID}`, '--clear-groups', ...cmd] : cmd;
}

let seq = 0;

/** Install the counter for ADDRESS; `stop()` resolves {attempts, synPackets} or {error}. */
export function startConnCounter(address, { port = RDP_PORT } = {}) {
  if (!counterAvailable()) return { stop: async () => ({ error: 'nft or setpriv missing' }) };
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(address)) throw new Error(`startConnCounter: not an IPv4 address: ${address}`);
  const table = `${TABLE_PREFIX}${process.pid}_${++seq}`;
  const ruleset = `table inet ${table} {
  set ports { type inet_service; size 65535; flags dynamic; }
  chain out {
    type filter hook output priority 0; policy accept;
    meta skgid ${COUNT_GID} ip daddr ${address} tcp dport ${port} tcp flags & (syn | ack) == syn counter add @ports { tcp sport }
  }
}
`;
  const add = nft(['-f', '-'], ruleset);
  if (!add.ok) return { stop: async () => ({ error: `nft: ${add.err.split('\n')[0]}` }) };
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    nft(['delete', 'table', 'inet', table]);
  };
  const unregister = atCleanup(remove);
  return {
    async stop() {
      const r = nft(['-j', 'list', 'table', 'inet', table]);
      remove();
      unregister();
      if (!r.ok) return { error: `nft list: ${r.err.split('\n')[0]}` };
      try {
        const items = JSON.parse(r.out).nftables ?? [];
        const set = items.find((o) => o.set?.name === 'ports')?.set;
        const rule = items.find((o) => o.rule)?.rule;
        const counter = rule?.expr?.find((e) => e.counter)?.counter;
        return { attempts: set?.elem?.length ?? 0, synPackets: counter?.packets ?? 0 };
      } catch (e) {
        return { error: `nft JSON: ${e.message}` };
      }
    },
  };
}

/** "11" or "1 (5 SYNs)" or "n/a (reason)". */
export function showConns(c) {
  if (!c) return 'n/a';
  if (c.error) return `n/a (${c.error})`;
  return `${c.attempts}${c.synPackets !== c.attempts ? ` (${c.synPackets} SYNs)` : ''}`;
}

/**
 * Run one tool's command inside rdplab-client against a lab host, counting its TCP connections; flush learned path
 * MTUs first on the path hosts (a PMTU learned by the previous run would hide the black hole, lab/README.md).
 */
export async function measureInClient(host, cmd, timeoutMs) {
  const h = LAB_HOSTS[host];
  if (h.pmtu) flushPmtu();
  const counter = startConnCounter(h.address);
  let res;
  let conns;
  try {
    res = await runInClient(counted(cmd), { timeoutMs });
  } finally {
    conns = await counter.stop();
  }
  assertLabStillUp(`after ${cmd[0] === 'nmap' ? 'nmap' : 'rdprobe'} on ${host}`);
  return { res, conns };
}
