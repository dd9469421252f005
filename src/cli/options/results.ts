/** The result-output options that `scan` and `merge` share: -f/--format, -o/--output, --fail-on, -q/--quiet. */
import { Option, type Command } from 'commander';

export type ResultFormat = 'table' | 'json' | 'ndjson' | 'csv';
export const RESULT_FORMATS: readonly ResultFormat[] = ['table', 'json', 'ndjson', 'csv'];

export interface ResultCliOptions {
  format?: ResultFormat;
  output?: string;
  failOn?: string;
  quiet?: boolean;
}

/** The help texts differ per command (scan writes as it goes, merge rewrites); the options do not. */
export interface ResultOptionHelp {
  format: string;
  output: string;
  failOn: string;
}

/** -f and -o (in that order). */
export function addOutputOptions(cmd: Command, help: Pick<ResultOptionHelp, 'format' | 'output'>): Command {
  return cmd.addOption(new Option('-f, --format <format>', help.format).choices([...RESULT_FORMATS])).option('-o, --output <file>', help.output);
}

export function addFailOnOption(cmd: Command, help: Pick<ResultOptionHelp, 'failOn'>): Command {
  return cmd.option('--fail-on <list>', help.failOn);
}

/** Whether colour is allowed on a stream (https://no-color.org: NO_COLOR set and non-empty disables it). */
export function colorFor(stream: { isTTY?: boolean }): boolean {
  return !!stream.isTTY && !process.env.NO_COLOR;
}

/** -f when given; else from the -o extension (.json, .csv, anything else ndjson); else table on a terminal, ndjson piped. */
export function formatFor(o: { format?: ResultFormat; output?: string }, stdoutIsTty: boolean): ResultFormat {
  if (o.format) return o.format;
  if (o.output) {
    if (/\.json$/i.test(o.output)) return 'json';
    if (/\.csv$/i.test(o.output)) return 'csv';
    return 'ndjson';
  }
  return stdoutIsTty ? 'table' : 'ndjson';
}
