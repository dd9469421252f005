/**
 * rdprobe's exit codes, in one place. 0: done, whatever the servers answered; 1: an internal error (also a host
 * record whose probe hit one); 2: bad usage or bad input; 3: `--fail-on` matched (scan, merge); 130: interrupted
 * (SIGINT/SIGTERM), as a shell reports 128 + SIGINT.
 */
export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  failOn: 3,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit code of a finished `scan` or `merge`: interrupted beats internal errors beats `--fail-on` matches. */
export function resultsExitCode(r: { interrupted?: boolean; internalErrors: number; failOnMatches: number }): ExitCode {
  if (r.interrupted) return EXIT.interrupted;
  if (r.internalErrors > 0) return EXIT.internal;
  if (r.failOnMatches > 0) return EXIT.failOn;
  return EXIT.ok;
}
