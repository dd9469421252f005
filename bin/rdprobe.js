#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (npm run build). `--version` alone is answered here, before the CLI
// (commander and the command registrations) is loaded: it is what scripts call most and it needs none of it.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const { VERSION } = await import('../dist/version.js');
  process.stdout.write(`${VERSION}\n`);
} else {
  const { main } = await import('../dist/cli/main.js');
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
}
