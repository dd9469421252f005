/**
 * `rdprobe path HOST`: the network path to an RDP host — path MTU with DF-flagged probes (black holes included),
 * optionally the MS-RDPEUDP transport (--udp), and, when a black hole shows, its confirmation on the RDP connection
 * itself by clamping the MSS.
 */
import { Option, type Command } from 'commander';
import type { PathCliOptions } from '../actions/path.js';
import { intOption } from '../util.js';

export function register(program: Command): void {
  program
    .command('path')
    .description('path MTU to an RDP host with DF-flagged probes (finds PMTU black holes), MSS-clamp confirmation, RDP-UDP reachability')
    .argument('<host>', 'HOST, HOST:PORT or [IPv6]:PORT')
    .option('-p, --port <port>', 'RDP port (TCP for the MSS check, UDP for --udp and UDP probes)', intOption('--port', 1, 65535))
    .option('--json', 'print the result as JSON')
    .option('--max <bytes>', 'largest packet to try (default: the outgoing interface MTU)', intOption('--max', 68, 65575))
    .option('--udp', 'also send one MS-RDPEUDP SYN (1232 bytes) to the UDP port and report the answer')
    .addOption(new Option('--method <method>', 'how to send DF probes').choices(['auto', 'icmp', 'udp', 'ping']).default('auto'))
    .option('--confirm', 'always run the MSS-clamp handshake check (default: only when a black hole is found)')
    .option('--no-confirm', 'never run the MSS-clamp handshake check')
    .option('--timeout <ms>', 'longest wait for one probe (the timer adapts to the RTT below it)', intOption('--timeout', 50, 10_000), 1000)
    .option('--attempts <n>', 'tries per size before it counts as lost', intOption('--attempts', 1, 10), 3)
    .option('--precision <bytes>', 'stop a black-hole search when the bounds are this close', intOption('--precision', 1, 512), 1)
    .option('--stall <ms>', 'TLS stall deadline of each MSS-clamp handshake', intOption('--stall', 500, 60_000), 3000)
    .option('-4, --ipv4', 'IPv4 only')
    .option('-6, --ipv6', 'IPv6 only')
    .action(async (target: string, o: PathCliOptions) => {
      const { runPathCommand } = await import('../actions/path.js');
      await runPathCommand(target, o);
    });
}

