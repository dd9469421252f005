import { resolve } from 'node:path';
import { renderSummary } from '../../report/summary-render.js';
import { resultLines, type ResultLine } from '../../scan/results-file.js';
import { parseFailOn, type HostRecord } from '../../scan/summary.js';
import { resultsExitCode } from '../exit-codes.js';
import { colorFor, type ResultCliOptions } from '../options/results.js';
import { createWriter, openOutput, ResultTally } from '../output.js';
import { UsageError } from '../util.js';

/** A host line merge can use: it carries the observation (a record without one is foreign). */
function mergeable(line: ResultLine): HostRecord | undefined {
  return line.kind === 'host' && line.record.observation ? line.record : undefined;
}

/**
 * Two passes over the inputs: the first finds, for every target, the last file and line holding it (a later file
 * wins: a resumed or re-run shard replaces older results); the second streams those records out. Memory: one map
 * entry per distinct target, never the records.
 */
export async function runMerge(files: string[], o: ResultCliOptions): Promise<number> {
  const say = (s: string) => {
    if (!o.quiet) process.stderr.write(`${s}\n`);
  };
  const failOn = o.failOn ? parseFailOn(o.failOn) : [];
  const outPath = o.output ? resolve(o.output) : undefined;
  if (outPath && files.some((f) => resolve(f) === outPath)) throw new UsageError('-o must not be one of the inputs (write to a new file)');

  // pass 1
  const last = new Map<string, number>(); // target → file index * 2^32 + line
  let hostLines = 0;
  let interruptedInputs = 0;
  const unreadable: string[] = [];
  for (let fi = 0; fi < files.length; fi++) {
    let hosts = 0;
    let other = 0;
    try {
      for await (const { n, line } of resultLines(files[fi])) {
        const r = mergeable(line);
        if (r) {
          hosts++;
          last.set(r.target, fi * 2 ** 32 + n);
        } else if (line.kind === 'summary' && line.summary) {
          if (line.summary.interrupted) interruptedInputs++;
        } else other++;
      }
    } catch (e) {
      throw new UsageError(`${files[fi]}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (!hosts && other) unreadable.push(files[fi]);
    hostLines += hosts;
  }
  if (unreadable.length) {
    throw new UsageError(`no host records in ${unreadable.join(', ')} (merge reads the ndjson or json output of rdprobe scan; csv rows do not carry the observation)`);
  }
  const duplicates = hostLines - last.size;

  // pass 2
  const output = await openOutput(o, outPath);
  const writer = createWriter(output, { json: { merged: files } });
  const tally = new ResultTally(writer, failOn);
  try {
    for (let fi = 0; fi < files.length; fi++) {
      for await (const { n, line } of resultLines(files[fi])) {
        const r = mergeable(line);
        if (!r || last.get(r.target) !== fi * 2 ** 32 + n) continue;
        const w = tally.add(r);
        if (w) await w;
      }
    }
    const s = tally.summary.build({
      interrupted: false,
      merged: { files, duplicates, interruptedInputs },
      failOn: tally.failOnSummary(),
    });
    await writer.end(s);
    if (output.file) await output.file.commit();
    if (interruptedInputs) say(`rdprobe merge: ${interruptedInputs} input(s) are interrupted scans; unless their --resume runs are among the inputs, some targets have no result`);
    if (output.format !== 'table' || output.file) say(renderSummary(s, { color: colorFor(process.stderr) }));
  } catch (e) {
    await output.file?.discard();
    throw e;
  }
  return resultsExitCode({ internalErrors: tally.internal, failOnMatches: failOn.length ? tally.failHosts : 0 });
}
