/**
 * cli-table3, loaded on first use (~20 ms of start-up): a closed port's report, JSON/NDJSON output and `--version`
 * draw no table.
 */
import { createRequire } from 'node:module';
import type Table from 'cli-table3';

let loaded: typeof Table | undefined;

export function loadTable(): typeof Table {
  return (loaded ??= createRequire(import.meta.url)('cli-table3') as typeof Table);
}
