import { Option, type Command } from 'commander';
import { clientOption, requireOption } from '../options/diagnose.js';

/** Exit code when a capture was damaged (truncated / corrupt) but everything before the damage was replayed. */
export const EXIT_DAMAGED = 4;

export interface ReplayCliOptions {
  format?: string;
  client?: string;
  require?: string;
}

const FORMATS = ['table', 'json', 'ndjson', 'conn'] as const;

/**
 * `rdprobe replay FILE… [-f table|json|ndjson|conn] [--client P] [--require nla|tls|rdp]`: every RDP connection attempt
 * in the captures (pcap, pcapng, gzip-compressed; '-' reads stdin) becomes an Observation (`source.kind: 'replay'`)
 * and is diagnosed by the same engine as live probing. Exit codes: 0 done, 2 unreadable input (not a capture, no such
 * file), 4 a capture was damaged and only the part before the damage was replayed.
 */
export function register(program: Command): void {
  program
    .command('replay')
    .description('diagnose every RDP connection attempt in pcap/pcapng captures (streaming; gzip and stdin accepted)')
    .argument('<files...>', "capture files ('-' reads stdin)")
    .addOption(new Option('-f, --format <format>', 'output format').choices([...FORMATS]).default('table'))
    .addOption(clientOption('judge for this client profile', 'mstsc'))
    .addOption(requireOption('the client insists on this security layer only'))
    .action(async (files: string[], o: ReplayCliOptions) => {
      const { runReplay } = await import('../actions/replay.js');
      await runReplay(files, o);
    });
}

