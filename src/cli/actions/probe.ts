import type { Observation } from '../../observation/types.js';
import { runProbe } from '../../probe/run-probe.js';
import { renderProbe } from '../../report/probe-text.js';
import type { ProbeCommandOptions } from '../commands/probe.js';
import { probeDiagnoseAll } from '../diagnosis-output.js';
import { EXIT } from '../exit-codes.js';
import { probeOptionsFrom, validateTargets } from '../options/probe.js';
import { UsageError } from '../util.js';

export async function runProbeCommand(targets: string[], o: ProbeCommandOptions): Promise<void> {
  validateTargets(targets);
  if ((o.client || o.require) && !o.diagnose) throw new UsageError('--client and --require go with --diagnose (or use `rdprobe diagnose`)');
  if (o.diagnose) {
    await probeDiagnoseAll(targets, o);
    return;
  }
  const opts = await probeOptionsFrom(o);
  const color = process.stdout.isTTY && !process.env.NO_COLOR;
  const results: Observation[] = [];
  for (const t of targets) {
    const obs = await runProbe(t, opts);
    results.push(obs);
    if (!o.json) process.stdout.write(`${renderProbe(obs, { color })}\n\n`);
  }
  if (o.json) process.stdout.write(`${JSON.stringify(results.length === 1 ? results[0] : results, null, 2)}\n`);
  if (results.some((r) => r.errors.some((e) => e.code === 'RDPROBE_INTERNAL'))) process.exitCode = EXIT.internal;
}
