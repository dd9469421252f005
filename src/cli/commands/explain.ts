import type { Command } from 'commander';

/**
 * `rdprobe explain <code> [extended]`: what a Microsoft RDP client error code means (documented or inferred, with
 * sources), which causes produce it, and which observation tells each apart. Offline; no traffic.
 *
 * Code input: "0x904" is hex. Bare digits are read as hex first ("904"), because the client shows codes in hex;
 * when that is not a known code but the decimal reading is ("2308" = 0x904, as the COM API and logs report it),
 * the decimal reading is used and the output says so. "2308d" forces decimal. Unknown code → exit 2.
 */
export function register(program: Command): void {
  program
    .command('explain')
    .description('explain a Microsoft RDP client error code (e.g. 0x904 0x7): meaning, causes, and what tells them apart')
    .argument('<code>', 'error code as the client shows it: 0x904, 904 (hex), 2308d (decimal)')
    .argument('[extended]', 'extended error code, e.g. 0x7')
    .option('--json', 'print the explanation as JSON')
    .action(async (code: string, extended: string | undefined, o: { json?: boolean }) => {
      const { runExplainCommand } = await import('../actions/explain.js');
      runExplainCommand(code, extended, o);
    });
}
