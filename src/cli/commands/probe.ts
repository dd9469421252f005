import type { Command } from 'commander';
import { clientOption, requireOption, type DiagnoseCliOptions } from '../options/diagnose.js';
import { addProbeOptions, type ProbeCliOptions } from '../options/probe.js';

export type ProbeCommandOptions = ProbeCliOptions & DiagnoseCliOptions & { diagnose?: boolean };

/** `rdprobe probe HOST…`: the phase-by-phase probe; `--diagnose` adds the diagnosis (as `rdprobe diagnose`). */
export function register(program: Command): void {
  addProbeOptions(
    program
      .command('probe')
      .description('probe RDP hosts phase by phase: DNS, TCP, X.224, protocols, TLS, CredSSP/NTLM, MCS/GCC')
      .argument('<targets...>', 'HOST, HOST:PORT, [IPv6]:PORT'),
  )
    .option('--diagnose', 'also diagnose (same as `rdprobe diagnose`)')
    .addOption(clientOption('with --diagnose: judge for this client profile'))
    .addOption(requireOption('with --diagnose: the client insists on this security layer only'))
    .action(async (targets: string[], o: ProbeCommandOptions) => {
      const { runProbeCommand } = await import('../actions/probe.js');
      await runProbeCommand(targets, o);
    });
}
