/**
 * Helpers for the integration lab (lab/lab.sh). Every command runs INSIDE a lab network namespace: the lab's
 * 198.19.0.0/16 addresses have no route from the root namespace, so nothing here can send lab traffic anywhere else.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const LAB_SH = join(REPO, 'lab', 'lab.sh');
/** Run dir written by lab.sh up: logs/, conf/, certs/, pids, state. */
export const RUN_DIR = '/tmp/rdplab';
export const CLIENT_NS = 'rdplab-client';
export const RDP_PORT = 3389;
export const DNS_ZONE = 'rdplab.test';

export interface LabHost {
  ns: string;
  address: string;
  name: string;
  /** what listens on 3389 (TCP), or null */
  tcp: 'xrdp-tls' | 'xrdp-rdp' | 'shadow-nla' | null;
  what: string;
}

/** The lab map; the single source of truth is the table at the top of lab/lab.sh. */
export const LAB_HOSTS = {
  tls: { ns: 'rdplab-tls', address: '198.19.1.10', name: 'tls.rdplab.test', tcp: 'xrdp-tls', what: 'xrdp 0.9.21, security_layer=tls, RSA-2048' },
  rdp: { ns: 'rdplab-rdp', address: '198.19.2.10', name: 'rdp.rdplab.test', tcp: 'xrdp-rdp', what: 'xrdp 0.9.21, security_layer=rdp, crypt_level=high' },
  nla: { ns: 'rdplab-nla', address: '198.19.3.10', name: 'nla.rdplab.test', tcp: 'shadow-nla', what: 'freerdp-shadow-cli /sec:nla, SAM labuser / LabPass123!, hostname RDPLAB-NLA' },
  closed: { ns: 'rdplab-closed', address: '198.19.4.10', name: 'closed.rdplab.test', tcp: null, what: 'nothing listening: TCP RST, UDP port unreachable' },
  filtered: { ns: 'rdplab-filtered', address: '198.19.5.10', name: 'filtered.rdplab.test', tcp: null, what: 'nft drops TCP and UDP 3389 silently' },
  blackhole: { ns: 'rdplab-blackhole', address: '198.19.6.10', name: 'blackhole.rdplab.test', tcp: 'xrdp-tls', what: 'xrdp TLS RSA-4096 behind the MTU-1400 core link, frag-needed dropped' },
  mtu1400: { ns: 'rdplab-mtu1400', address: '198.19.7.10', name: 'mtu1400.rdplab.test', tcp: 'xrdp-tls', what: 'xrdp TLS RSA-4096 behind the MTU-1400 core link, ICMP delivered' },
  udpdrop: { ns: 'rdplab-udpdrop', address: '198.19.8.10', name: 'udpdrop.rdplab.test', tcp: 'xrdp-tls', what: 'xrdp TLS; the router drops UDP 3389' },
  udp: { ns: 'rdplab-udp', address: '198.19.9.10', name: 'udp.rdplab.test', tcp: 'xrdp-tls', what: 'xrdp TLS + RDPEUDP responder test peer on UDP 3389' },
} as const satisfies Record<string, LabHost>;
export type LabHostName = keyof typeof LAB_HOSTS;

export const LAB_NAMESPACES = [CLIENT_NS, 'rdplab-router', 'rdplab-wan', ...Object.values(LAB_HOSTS).map((h) => h.ns)];
export const ROUTER_ADDRESS = '198.19.0.1';
export const CORE_MTU = 1400;
export const NLA_USER = 'labuser';
export const NLA_PASSWORD = 'LabPass123!';

/** PATH with the sbin directories (ip, nft, xrdp live there) even when the caller's PATH lacks them. */
export const LAB_PATH = [...new Set([...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'])]
  .filter(Boolean)
  .join(delimiter);

export interface RunOptions {
  /** kill the whole process group after this many ms (default 30 s) */
  timeoutMs?: number;
  input?: string | Uint8Array;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** cap for stdout and stderr each (default 8 MiB); beyond it output is dropped and `truncated` set */
  maxBytes?: number;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  truncated: boolean;
  ms: number;
}

/** Spawn CMD in namespace NS (via `ip netns exec`, which also bind-mounts /etc/netns/NS/{hosts,resolv.conf}). */
export function inNamespace(ns: string, cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
  if (cmd.length === 0) throw new Error('inNamespace: empty command');
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const maxBytes = opts.maxBytes ?? 8 * 1024 * 1024;
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, ...cmd], {
      cwd: opts.cwd ?? REPO,
      env: { ...process.env, PATH: LAB_PATH, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // own process group, so a timeout kills the command and everything it started
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    let truncated = false;
    let timedOut = false;
    child.stdout.on('data', (b: Buffer) => {
      if (outLen + b.length > maxBytes) {
        truncated = true;
        return;
      }
      out.push(b);
      outLen += b.length;
    });
    child.stderr.on('data', (b: Buffer) => {
      if (errLen + b.length > maxBytes) {
        truncated = true;
        return;
      }
      err.push(b);
      errLen += b.length;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
        truncated,
        ms: Math.round(performance.now() - started),
      });
    });
    child.stdin.on('error', () => {}); // the command may exit before reading its input
    child.stdin.end(opts.input ?? '');
  });
}

/** Spawn CMD inside rdplab-client, where the prober always runs. */
export function inClient(cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
  return inNamespace(CLIENT_NS, cmd, opts);
}

/** Run the rdprobe CLI inside rdplab-client. */
export function rdprobe(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return inClient([process.execPath, join(REPO, 'bin', 'rdprobe.js'), ...args], opts);
}

/** Run an ES-module Node script (source text) inside rdplab-client. */
export function nodeInClient(source: string, args: string[] = [], opts: RunOptions = {}): Promise<RunResult> {
  return inClient([process.execPath, '--input-type=module', '-e', source, '--', ...args], opts);
}

/** Run a Node script that prints one JSON document on stdout, and parse it. Throws with stderr if it did not. */
export async function nodeJsonInClient<T = unknown>(source: string, args: string[] = [], opts: RunOptions = {}): Promise<T> {
  const r = await nodeInClient(source, args, opts);
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`script gave no JSON (code ${r.code}, timedOut ${r.timedOut}):\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

/** True when every lab namespace exists and lab.sh up has written its run dir (cheap; no traffic). */
export function labUp(): boolean {
  return LAB_NAMESPACES.every((ns) => existsSync(`/run/netns/${ns}`)) && existsSync(join(RUN_DIR, 'state'));
}

/** Run lab/lab.sh synchronously (up takes ~3-10 s, down < 2 s). */
export function labSh(args: string[], timeoutMs = 180_000, env: NodeJS.ProcessEnv = {}): { code: number | null; output: string } {
  const r = spawnSync('bash', [LAB_SH, ...args], {
    cwd: REPO,
    env: { ...process.env, PATH: LAB_PATH, ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.error) return { code: null, output: `${r.error.message}\n${r.stdout ?? ''}${r.stderr ?? ''}` };
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Forget learned path MTUs (route cache exceptions and TCP metrics) in every lab namespace. */
export function flushPmtu(): void {
  const r = labSh(['flush-pmtu'], 20_000);
  if (r.code !== 0) throw new Error(`lab.sh flush-pmtu failed (${r.code}): ${r.output}`);
}

/** key=value pairs from the run dir's state file (started, repo, display_nla, display_client), or {} when down. */
export function labState(): Record<string, string> {
  const file = join(RUN_DIR, 'state');
  if (!existsSync(file)) return {};
  const state: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) state[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return state;
}

/** Absolute path of an executable found on LAB_PATH, or null. */
export function which(bin: string): string | null {
  for (const dir of LAB_PATH.split(delimiter)) {
    const file = join(dir, bin);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // keep looking
    }
  }
  return null;
}
