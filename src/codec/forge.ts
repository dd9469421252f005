/**
 * node-forge, loaded on first use. It is the largest module rdprobe loads (~45 ms on these machines), and most runs
 * never touch a certificate or DER: `--version`, `explain`, a closed or filtered port, a reach scan. Loading it with a
 * synchronous require at the first call keeps every caller synchronous and start-up free of it.
 */
import { createRequire } from 'node:module';
import type Forge from 'node-forge';

let loaded: typeof Forge | undefined;

export function loadForge(): typeof Forge {
  return (loaded ??= createRequire(import.meta.url)('node-forge') as typeof Forge);
}
