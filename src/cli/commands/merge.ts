import type { Command } from 'commander';
import { addFailOnOption, addOutputOptions, type ResultCliOptions } from '../options/results.js';

/** `rdprobe merge FILES…`: shards, interrupted runs and their resumes → one result set (the work is in actions/merge.ts). */
export function register(program: Command): void {
  const cmd = program
    .command('merge')
    .description('combine scan results (ndjson or json, e.g. from shards or an interrupted run and its --resume) into one, every host once, with a fresh summary')
    .argument('<files...>', 'results of rdprobe scan (-f ndjson or -f json)');
  addOutputOptions(cmd, { format: 'table | json | ndjson (default when piped) | csv', output: 'write atomically to FILE (format from the extension unless -f)' });
  addFailOnOption(cmd, { failOn: 'exit 3 when a host matches: cause id, client error code or outcome, comma-separated' })
    .option('-q, --quiet', 'no summary on stderr')
    .action(async (files: string[], o: ResultCliOptions) => {
      const { runMerge } = await import('../actions/merge.js');
      process.exitCode = await runMerge(files, o);
    });
}
