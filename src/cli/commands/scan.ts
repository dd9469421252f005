import { Option, type Command } from 'commander';
import { clientOption, requireOption } from '../options/diagnose.js';
import { addFailOnOption, addOutputOptions } from '../options/results.js';
import type { ScanCliOptions } from '../scan/config.js';
import { intOption, protocolList } from '../util.js';

const collect = (v: string, prev: string[]) => [...prev, v];

/** `rdprobe scan TARGETS…`: many endpoints, one record per host (the work is in actions/scan.ts). */
export function register(program: Command): void {
  const cmd = program
    .command('scan')
    .description('scan many RDP endpoints (names, IPv4/IPv6 addresses, CIDR blocks, ranges, @files, - for stdin) and report one record per host')
    .argument('[targets...]', 'HOST, HOST:PORT, [IPv6]:PORT, 10.0.0.0/24, 10.0.0.1-50, 10.0.0-3.1-254, 2001:db8::/120, 2001:db8::1-ff, @FILE, -')
    .option('-p, --port <ports>', 'port(s) for targets that name none: 3389 | 3389,3390 | 3380-3390', '3389')
    .option('--exclude <targets>', 'skip these targets (same syntax; comma-separated; repeatable)', collect, [])
    .option('--exclude-file <file>', 'skip the targets listed in FILE (repeatable)', collect, [])
    .option('--strict', 'stop before scanning when any target is bad (exit 2); default: report it with its line and go on')
    .option('--shard <K/N>', 'scan only shard K of N (0-based K; disjoint, together complete): e.g. $JOB_COMPLETION_INDEX/8')
    .addOption(
      new Option('--depth <depth>', 'reach: TCP connect only; negotiate: one X.224 exchange; full: everything `probe` does')
        .choices(['reach', 'negotiate', 'full'])
        .default('negotiate'),
    )
    .option('-c, --concurrency <n>', 'hosts in flight at once (lowered automatically near the descriptor limit)', intOption('--concurrency', 1, 65_536), 256)
    .option('--rate <n>', 'new connections per second (default: no limit besides --concurrency)', intOption('--rate', 1, 10_000_000))
    .option('--timeout <ms>', 'TCP connect and per-phase deadline', intOption('--timeout', 50, 120_000), 3000)
    .option('--host-timeout <ms>', 'deadline for one host, retries included (default: reach 1 s + timeout, negotiate 1 s + 2×timeout, full 60 s; ×(1+retries))', intOption('--host-timeout', 100, 3_600_000))
    .option('--retries <n>', 'extra attempts for hosts that did not answer at all (SYN unanswered)', intOption('--retries', 0, 10), 0)
    .option('--cookie <id>', 'send "Cookie: mstshash=<id>" in the Connection Request (default: no cookie)')
    .option('--offer <protocols>', 'what the Connection Request offers (default SSL,HYBRID,HYBRID_EX)', protocolList)
    .option('--udp', 'also probe UDP transport (needs --depth full; limited by --path-rate)')
    .option('--pmtu', 'also measure the path MTU (needs --depth full; limited by --path-rate)')
    .option('--path-rate <n>', 'hosts per second that get the UDP / path-MTU probes', intOption('--path-rate', 1, 10_000), 10)
    .addOption(clientOption('judge each host for this client profile (as `rdprobe diagnose`)', 'mstsc'))
    .addOption(requireOption('the client insists on this security layer only'))
    .option('--no-diagnose', 'do not diagnose each host');
  addOutputOptions(cmd, {
    format: 'table (default on a terminal) | json | ndjson (default when piped) | csv',
    output: 'write results to FILE atomically (temporary file, then rename); format from the extension unless -f',
  })
    .option('--resume <file>', 'skip targets FILE already has results for (repeatable; any scan output format)', collect, []);
  addFailOnOption(cmd, { failOn: 'exit 3 when a host matches: cause id, client error (0x204, 0x4/0x0) or outcome (refused …), comma-separated' })
    .option('--open', 'table: list only hosts whose TCP port opened')
    .option('-q, --quiet', 'no progress line and no summary on stderr')
    .option('--no-progress', 'no progress line')
    .action(async (words: string[], o: ScanCliOptions) => {
      const { runScan } = await import('../actions/scan.js');
      process.exitCode = await runScan(words, o);
    });
}
