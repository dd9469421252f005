/** Printing diagnoses (`diagnose`, `probe --diagnose`): the text verdicts or the JSON documents, one per target. */
import type { Diagnosis } from '../diagnose/types.js';
import type { Observation } from '../observation/types.js';
import { probeAndDiagnose } from '../probe-and-diagnose.js';
import { diagnosisJson, renderDiagnosis } from '../report/findings.js';
import { diagnoseOptionsFrom, type DiagnoseCliOptions } from './options/diagnose.js';
import { probeOptionsFrom, validateTargets, type ProbeCliOptions } from './options/probe.js';
import { colorFor } from './options/results.js';

/** JSON embeds the Observation when `embed` (a live probe; a saved Observation is not repeated). */
export function printDiagnoses(results: { obs: Observation; d: Diagnosis }[], json: boolean | undefined, embed: boolean): void {
  if (json) {
    const docs = results.map((r) => diagnosisJson(r.d, embed ? r.obs : undefined));
    process.stdout.write(`${JSON.stringify(docs.length === 1 ? docs[0] : docs, null, 2)}\n`);
    return;
  }
  const color = colorFor(process.stdout);
  process.stdout.write(`${results.map((r) => renderDiagnosis(r.d, { color })).join('\n\n')}\n`);
}

/** Probe every target in turn, diagnose each, print them all. */
export async function probeDiagnoseAll(targets: string[], o: ProbeCliOptions & DiagnoseCliOptions): Promise<void> {
  const diagnoseOpts = diagnoseOptionsFrom(o);
  validateTargets(targets);
  const probeOpts = await probeOptionsFrom(o);
  const results: { obs: Observation; d: Diagnosis }[] = [];
  for (const t of targets) {
    const r = await probeAndDiagnose(t, probeOpts, diagnoseOpts);
    results.push({ obs: r.observation, d: r.diagnosis });
  }
  printDiagnoses(results, o.json, true);
}
