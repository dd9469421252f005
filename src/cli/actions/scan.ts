/**
 * `rdprobe scan`: config (scan/config.ts) → output and carried results → the run (scan/run.ts) → summary, commit of
 * the -o file, exit code.
 */
import { unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { renderSummary } from '../../report/summary-render.js';
import type { ProgressBar } from '../../scan/progress.js';
import { loadResume } from '../../scan/resume.js';
import { EXIT, resultsExitCode } from '../exit-codes.js';
import { colorFor, formatFor } from '../options/results.js';
import { createWriter, openOutput, ResultTally, type ResultOutput } from '../output.js';
import { scanConfigFrom, type ScanCliOptions, type ScanConfig } from '../scan/config.js';
import { installInterrupts, runScanLoop, type RunResult } from '../scan/run.js';
import { UsageError } from '../util.js';

/** The scan command; returns the exit code (exit-codes.ts). */
export async function runScan(words: string[], o: ScanCliOptions): Promise<number> {
  const say = (s: string) => {
    if (!o.quiet) process.stderr.write(`${s}\n`);
  };
  const cfg = await scanConfigFrom(words, o, say);

  // Signals are installed before the output file exists, so a Ctrl-C at any point from here on ends in a complete,
  // committed output.
  const progress: { bar?: ProgressBar } = {};
  const interrupts = installInterrupts((sig) => {
    progress.bar?.clear();
    say(`\nrdprobe: ${sig}: stopping — finishing hosts in flight (again to cancel them)`);
  });

  // ---- output
  let output: ResultOutput;
  try {
    if (cfg.carry.length && formatFor(o, false) === 'csv') {
      throw new UsageError('--resume into the same -o file needs ndjson or json output; write to a new file and merge');
    }
    output = await openOutput(o, cfg.outPath);
  } catch (e) {
    interrupts.off();
    throw e;
  }
  const { file, out } = output;
  const showProgress = !o.quiet && o.progress && !!process.stderr.isTTY;
  const around = output.toTerminal && showProgress ? <T>(fn: () => T): T => (progress.bar ? progress.bar.around(fn) : fn()) : undefined;
  const resumeHint = o.output ?? undefined;
  const writer = createWriter(output, {
    table: { openOnly: o.open, around, resumeHint },
    json: { depth: cfg.depth, ports: cfg.ports, shard: o.shard, planned: cfg.planned, startedAt: new Date().toISOString() },
  });
  let outputBroken: Error | undefined;
  const onOutError = (e: Error) => {
    outputBroken ??= e;
    interrupts.stop.abort();
  };
  out.on('error', onOutError);
  const tally = new ResultTally(writer, cfg.failOn);
  await carryInto(cfg, tally, output, interrupts.off, say);

  // ---- the run
  let run: RunResult;
  try {
    run = await runScanLoop(cfg, {
      say,
      interrupts,
      progress,
      showProgress,
      counts: () => tally.summary.byOutcome,
      // a broken output (EPIPE from `| head`, a full disk) stops the scan; it is reported once, below
      onRecord: (rec) => tally.add(rec)?.catch((e: Error) => onOutError(e)),
    });
  } catch (e) {
    if (file) process.stderr.write(`rdprobe: results so far are in ${file.tempPath}\n`);
    throw e;
  }

  // ---- summary, output, exit
  const { result, elapsedMs, reach } = run;
  const { planned, stats } = cfg;
  const s = tally.summary.build({
    startedAt: run.startedAt,
    elapsedMs,
    depth: cfg.depth,
    ports: cfg.ports,
    shard: o.shard,
    interrupted: result.interrupted,
    targets: {
      planned,
      resumed: result.skipped || undefined,
      notScanned: result.interrupted ? Math.max(0, planned - result.completed - result.skipped) : undefined,
      duplicates: stats.duplicates,
      excluded: stats.excluded,
      bad: cfg.bad.length,
    },
    rate: elapsedMs > 0 ? Math.round((result.completed / elapsedMs) * 1000 * 10) / 10 : undefined,
    failOn: tally.failOnSummary(),
  });
  if (outputBroken && !file) {
    // stdout went away: after `| head` that is the reader's choice (exit 0, like a tool killed by SIGPIPE would
    // not complain); anything else is an error worth a line
    if ((outputBroken as NodeJS.ErrnoException).code === 'EPIPE') return EXIT.ok;
    process.stderr.write(`rdprobe: cannot write the results: ${outputBroken.message}\n`);
    return EXIT.internal;
  }
  try {
    if (outputBroken) throw outputBroken;
    await writer.end(s);
    out.off('error', onOutError);
    if (file) {
      await file.commit();
      // the leftovers are now part of the committed file
      for (const r of cfg.carry) if (resolve(r) !== cfg.outPath) await unlink(r).catch(() => undefined);
    }
  } catch (e) {
    if (file) process.stderr.write(`rdprobe: cannot finish ${o.output} (${(e as Error).message}); the results so far are in ${file.tempPath}\n`);
    throw e;
  }
  if (output.format !== 'table' || file) say(renderSummary(s, { color: colorFor(process.stderr), resumeHint }));
  if (reach && !o.quiet && process.env.RDPROBE_DEBUG) say(`reach prober: ${reach.impl}`);

  return resultsExitCode({
    interrupted: result.interrupted && !outputBroken,
    internalErrors: tally.internal,
    failOnMatches: tally.failOn.length ? tally.failHosts : 0,
  });
}

/** The records of the -o file and its leftovers (--resume into the same file) go into the new output first. */
async function carryInto(cfg: ScanConfig, tally: ResultTally, output: ResultOutput, offSignals: () => void, say: (s: string) => void): Promise<void> {
  for (const r of cfg.carry) {
    try {
      const l = await loadResume(r, cfg.done, (rec) => tally.add(rec));
      say(`resume: ${r}: ${l.records.toLocaleString('en-US')} host(s) already done, carried into ${cfg.o.output}`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      await output.file?.discard();
      offSignals();
      throw new UsageError(`--resume ${r}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
}
