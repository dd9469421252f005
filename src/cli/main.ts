#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { register as registerDiagnose } from './commands/diagnose.js';
import { register as registerExplain } from './commands/explain.js';
import { register as registerMerge } from './commands/merge.js';
import { register as registerPath } from './commands/path.js';
import { register as registerProbe } from './commands/probe.js';
import { register as registerReplay } from './commands/replay.js';
import { register as registerScan } from './commands/scan.js';
import { EXIT } from './exit-codes.js';
import { UsageError } from './util.js';

/**
 * rdprobe's command line. Each command registers its options in src/cli/commands/<name>.ts (light: commander and
 * the shared option modules only) and imports its work (src/cli/actions/<name>.ts) when it runs, so start-up
 * costs commander and nothing else. Exit codes: exit-codes.ts.
 */
/** Every command, in help order; each registration is light (commander + shared option modules only). */
const REGISTER: [string, (p: Command) => void][] = [
  ['probe', registerProbe],
  ['diagnose', registerDiagnose],
  ['explain', registerExplain],
  ['path', registerPath],
  ['scan', registerScan],
  ['merge', registerMerge],
  ['replay', registerReplay],
];

export async function main(argv: string[]): Promise<number> {
  const program = new Command();
  program
    .name('rdprobe')
    .description('Probe the RDP connection sequence phase by phase and tell which client error it produces, why, and the fix.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError('(run with --help for usage)');
  for (const [, register] of REGISTER) register(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`rdprobe: ${e.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`rdprobe: internal error: ${(e as Error).stack ?? e}\n`);
    return EXIT.internal;
  }
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/(dist|src)\//, '/$1/'));
if (isMain) {
  main(process.argv).then(
    (code) => {
      // Let stdout drain (pipes are asynchronous on macOS); force the exit if a stray handle lingers.
      process.exitCode = code;
      setTimeout(() => process.exit(code), 2000).unref();
    },
    (e) => {
      process.stderr.write(`rdprobe: internal error: ${(e as Error).stack ?? e}\n`);
      process.exit(EXIT.internal);
    },
  );
}
