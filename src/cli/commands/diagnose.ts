import type { Command } from 'commander';
import { clientOption, requireOption, type DiagnoseCliOptions } from '../options/diagnose.js';
import { addProbeOptions, type ProbeCliOptions } from '../options/probe.js';

export type DiagnoseCommandOptions = ProbeCliOptions & DiagnoseCliOptions & { observation?: string };

/**
 * `rdprobe diagnose HOST[:PORT]… [--client P] [--require nla|tls|rdp] [--json]` probes each target (same options
 * as `probe`) and diagnoses it; `--observation FILE` (or `-` for stdin) diagnoses a saved Observation instead of
 * probing. The first line per target is the verdict. Exit codes (exit-codes.ts): 0 whatever the verdict, 2 for bad
 * usage or a bad Observation file.
 */
export function register(program: Command): void {
  addProbeOptions(
    program
      .command('diagnose')
      .description('probe (or read a saved Observation) and say which client error it produces, why, and the fix')
      .argument('[targets...]', 'HOST, HOST:PORT, [IPv6]:PORT (omit with --observation)'),
  )
    .addOption(clientOption('judge for this client profile', 'mstsc'))
    .addOption(requireOption('the client insists on this security layer only'))
    .option('--observation <file>', "diagnose a saved Observation JSON ('-' reads stdin) instead of probing")
    .action(async (targets: string[], o: DiagnoseCommandOptions) => {
      const { runDiagnoseCommand } = await import('../actions/diagnose.js');
      await runDiagnoseCommand(targets, o);
    });
}
