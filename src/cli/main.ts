#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { UsageError } from './util.js';

/**
 * rdprobe's command line. Each command lives in src/cli/commands/<name>.ts and registers itself. Exit codes:
 * 0 done (whatever the servers answered), 1 internal error, 2 bad usage, 3 `--fail-on` matched (scan), 130 interrupted.
 */
const COMMANDS = ['probe', 'diagnose', 'explain', 'path', 'scan', 'merge', 'replay'];

export async function main(argv: string[]): Promise<number> {
  const program = new Command();
  program
    .name('rdprobe')
    .description('Probe the RDP connection sequence phase by phase and tell which client error it produces, why, and the fix.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError('(run with --help for usage)');
  for (const name of COMMANDS) {
    let mod: { register?: (p: Command) => void };
    try {
      mod = await import(`./commands/${name}.js`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(`commands/${name}.js`)) continue;
      throw e;
    }
    mod.register?.(program);
  }
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`rdprobe: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`rdprobe: internal error: ${(e as Error).stack ?? e}\n`);
    return 1;
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
      process.exit(1);
    },
  );
}
