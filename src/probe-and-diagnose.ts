/**
 * Probe one target and diagnose what the probe saw: the sequence behind `rdprobe diagnose HOST` and `rdprobe probe
 * --diagnose`, and the library's one-call answer to "which client error will this host produce, and why".
 */
import { diagnose, type DiagnoseOptions } from './diagnose/index.js';
import type { Diagnosis } from './diagnose/types.js';
import type { Observation } from './observation/types.js';
import { runProbe, type ProbeOptions } from './probe/run-probe.js';

export interface ProbeAndDiagnosis {
  observation: Observation;
  diagnosis: Diagnosis;
}

export async function probeAndDiagnose(target: string, probeOpts: ProbeOptions = {}, diagnoseOpts: DiagnoseOptions = {}): Promise<ProbeAndDiagnosis> {
  const observation = await runProbe(target, probeOpts);
  return { observation, diagnosis: diagnose(observation, diagnoseOpts) };
}
