import { open } from 'node:fs/promises';
import { diagnose } from '../../diagnose/index.js';
import type { Observation } from '../../observation/types.js';
import { ObservationInputError, parseObservation } from '../../observation/validate.js';
import type { DiagnoseCommandOptions } from '../commands/diagnose.js';
import { printDiagnoses, probeDiagnoseAll } from '../diagnosis-output.js';
import { diagnoseOptionsFrom } from '../options/diagnose.js';
import { UsageError } from '../util.js';

/** A saved Observation is a few KB; refuse anything absurd instead of buffering it. */
const MAX_OBSERVATION_BYTES = 16 * 1024 * 1024;

async function readInput(file: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  const add = (b: Buffer) => {
    size += b.length;
    if (size > MAX_OBSERVATION_BYTES) throw new UsageError(`${file}: larger than ${MAX_OBSERVATION_BYTES} bytes; not an Observation`);
    chunks.push(b);
  };
  if (file === '-') {
    for await (const chunk of process.stdin) add(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  }
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new UsageError(`${file}: is a directory`);
    for await (const chunk of fh.createReadStream()) add(chunk as Buffer);
  } finally {
    await fh.close().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function runDiagnoseCommand(targets: string[], o: DiagnoseCommandOptions): Promise<void> {
  const opts = diagnoseOptionsFrom(o);
  if (o.observation === undefined) {
    if (!targets.length) throw new UsageError('diagnose: name a target (HOST[:PORT]) or give --observation FILE');
    await probeDiagnoseAll(targets, o);
    return;
  }
  if (targets.length) throw new UsageError('give targets to probe or --observation FILE, not both');
  const name = o.observation === '-' ? 'stdin' : o.observation;
  let obs: Observation;
  try {
    obs = parseObservation(await readInput(o.observation), name);
  } catch (e) {
    if (e instanceof ObservationInputError) throw new UsageError(e.message);
    throw e;
  }
  printDiagnoses([{ obs, d: diagnose(obs, opts) }], o.json, false);
}
