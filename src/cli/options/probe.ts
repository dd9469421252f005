/** The probe option set shared by `probe` and `diagnose`: flags → ProbeOptions. */
import { Option, type Command } from 'commander';
import type { Depth, ProbeOptions } from '../../probe/run-probe.js';
import { parseHostPort } from '../../probe/target.js';
import { pathPhases } from '../phases.js';
import { intOption, parseUser, protocolList, readPassword, UsageError } from '../util.js';

export interface ProbeCliOptions {
  port?: number;
  json?: boolean;
  timeout: number;
  phaseTimeout: number;
  connectTimeout?: number;
  cookie?: string;
  correlationId?: boolean;
  offer?: ReturnType<typeof protocolList>;
  depth: Depth;
  enumerate: boolean;
  tlsVersions: boolean;
  credssp: boolean;
  mcs: boolean;
  encryptionMethods: boolean;
  user?: string;
  stability?: number;
  burst?: number;
  parallel: number;
  udp?: boolean;
  pmtu?: boolean;
  ipv4?: boolean;
  ipv6?: boolean;
}

/** Options shared by `probe` and `diagnose`. */
export function addProbeOptions(cmd: Command): Command {
  return cmd
    .option('-p, --port <port>', 'port when the target names none', intOption('--port', 1, 65535))
    .option('--json', 'print the Observation record(s) as JSON')
    .option('--timeout <ms>', 'deadline for the whole probe of one host', intOption('--timeout', 100, 600_000), 30_000)
    .option('--phase-timeout <ms>', 'deadline for each phase (one read, one handshake)', intOption('--phase-timeout', 50, 120_000), 5_000)
    .option('--connect-timeout <ms>', 'TCP connect deadline (default: the phase deadline, at most 3000)', intOption('--connect-timeout', 50, 120_000))
    .option('--cookie <id>', 'send "Cookie: mstshash=<id>" in the Connection Request (default: no cookie)')
    .option('--correlation-id', 'send rdpCorrelationInfo with a random id, as mstsc does')
    .option('--offer <protocols>', 'what the main connection offers (default SSL,HYBRID,HYBRID_EX)', protocolList)
    .addOption(new Option('--depth <depth>', 'reach: TCP only; negotiate: one X.224 exchange; full: everything').choices(['reach', 'negotiate', 'full']).default('full'))
    .option('--no-enumerate', 'skip the one-connection-per-protocol enumeration')
    .option('--no-tls-versions', 'skip the TLS 1.0/1.1/1.2/1.3 enumeration')
    .option('--no-credssp', 'skip CredSSP/NTLM')
    .option('--no-mcs', 'skip MCS Connect-Initial (and the encryption-method enumeration)')
    .option('--no-encryption-methods', 'skip the Standard RDP Security encryption-method enumeration')
    .option('--user <[domain\\]user>', 'complete NTLM authentication as this user (password from RDPROBE_PASSWORD or a prompt)')
    .option('--stability <n>', 'measure loss and jitter with N repeated TCP handshakes', intOption('--stability', 1, 1000))
    .option('--burst <n>', 'opt-in: open N connections at once and count how many the server negotiates', intOption('--burst', 1, 200))
    .option('--parallel <n>', 'concurrent connections to one host', intOption('--parallel', 1, 32), 3)
    .option('--udp', 'probe UDP transport (MS-RDPEUDP SYN, 1232 bytes) on the same port')
    .option('--pmtu', 'measure the path MTU with DF-flagged probes (and confirm a black hole by clamping the MSS)')
    .option('-4, --ipv4', 'resolve IPv4 addresses only')
    .option('-6, --ipv6', 'resolve IPv6 addresses only');
}

export async function probeOptionsFrom(o: ProbeCliOptions): Promise<ProbeOptions> {
  const p: ProbeOptions = {
    port: o.port,
    timeoutMs: o.timeout,
    phaseTimeoutMs: o.phaseTimeout,
    connectTimeoutMs: o.connectTimeout,
    cookie: o.cookie ?? null,
    correlationId: o.correlationId,
    requested: o.offer,
    depth: o.depth,
    enumerate: o.enumerate,
    tlsVersions: o.tlsVersions,
    credssp: o.credssp,
    mcs: o.mcs,
    encryptionMethods: o.encryptionMethods,
    stability: o.stability,
    burst: o.burst,
    parallel: o.parallel,
    family: o.ipv4 ? 4 : o.ipv6 ? 6 : 0,
    extraPhases: pathPhases({ udp: !!o.udp, pmtu: !!o.pmtu }),
  };
  if (o.ipv4 && o.ipv6) throw new UsageError('-4 and -6 exclude each other');
  if (o.offer && o.offer.length === 0) throw new UsageError('--offer: name at least one protocol');
  if (o.user) {
    const u = parseUser(o.user);
    p.credentials = { ...u, password: await readPassword(o.user) };
  }
  return p;
}

export function validateTargets(targets: string[]): void {
  for (const t of targets) {
    try {
      parseHostPort(t);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
}
