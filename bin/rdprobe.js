#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (npm run build).
import { main } from '../dist/cli/main.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (e) => {
    process.stderr.write(`rdprobe: internal error: ${e?.stack ?? e}\n`);
    process.exit(1);
  },
);
