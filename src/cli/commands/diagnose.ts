import { open } from 'node:fs/promises';
import type { Command } from 'commander';
import { Option } from 'commander';
import { diagnose, PROFILE_NAMES, REQUIRE_MODES, type ProfileName, type RequireMode } from '../../diagnose/index.js';
import type { Diagnosis } from '../../diagnose/types.js';
import type { Observation } from '../../observation/types.js';
import { ObservationInputError, parseObservation } from '../../observation/validate.js';
import { runProbe } from '../../probe/run-probe.js';
import { diagnosisJson, renderDiagnosis } from '../../report/findings.js';
import { UsageError } from '../util.js';
import { addProbeOptions, probeOptionsFrom, validateTargets, type ProbeCliOptions } from './probe.js';

export interface DiagnoseCliOptions extends ProbeCliOptions {
  client?: string;
  require?: string;
  observation?: string;
}

/** A saved Observation is a few KB; refuse anything absurd instead of buffering it. */
const MAX_OBSERVATION_BYTES = 16 * 1024 * 1024;

/**
 * `rdprobe diagnose HOST[:PORT]… [--client P] [--require nla|tls|rdp] [--json]` probes each target (same options
 * as `probe`) and diagnoses it; `--observation FILE` (or `-` for stdin) diagnoses a saved Observation instead of
 * probing. The first line per target is the verdict. Exit codes follow main.ts: 0 whatever the verdict, 2 for bad
 * usage or a bad Observation file.
 */
export function register(program: Command): void {
  addProbeOptions(
    program
      .command('diagnose')
      .description('probe (or read a saved Observation) and say which client error it produces, why, and the fix')
      .argument('[targets...]', 'HOST, HOST:PORT, [IPv6]:PORT (omit with --observation)'),
  )
    .addOption(new Option('--client <profile>', 'judge for this client profile').choices([...PROFILE_NAMES]).default('mstsc'))
    .addOption(new Option('--require <layer>', 'the client insists on this security layer only').choices([...REQUIRE_MODES]))
    .option('--observation <file>', "diagnose a saved Observation JSON ('-' reads stdin) instead of probing")
    .action(async (targets: string[], o: DiagnoseCliOptions) => runDiagnose(targets, o));
}

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

function profileOf(o: DiagnoseCliOptions): { profile: ProfileName; require?: RequireMode } {
  const profile = (o.client ?? 'mstsc') as ProfileName;
  if (!PROFILE_NAMES.includes(profile)) throw new UsageError(`--client: unknown profile '${o.client}' (one of ${PROFILE_NAMES.join(', ')})`);
  if (o.require !== undefined && !REQUIRE_MODES.includes(o.require as RequireMode)) {
    throw new UsageError(`--require: '${o.require}' is not one of ${REQUIRE_MODES.join(', ')}`);
  }
  return o.require ? { profile, require: o.require as RequireMode } : { profile };
}

function emit(results: { obs: Observation; d: Diagnosis }[], o: DiagnoseCliOptions, embed: boolean): void {
  if (o.json) {
    const docs = results.map((r) => diagnosisJson(r.d, embed ? r.obs : undefined));
    process.stdout.write(`${JSON.stringify(docs.length === 1 ? docs[0] : docs, null, 2)}\n`);
    return;
  }
  const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
  process.stdout.write(`${results.map((r) => renderDiagnosis(r.d, { color })).join('\n\n')}\n`);
}

/** Also used by `rdprobe probe --diagnose`. */
export async function runDiagnose(targets: string[], o: DiagnoseCliOptions): Promise<void> {
  const opts = profileOf(o);
  if (o.observation !== undefined) {
    if (targets.length) throw new UsageError('give targets to probe or --observation FILE, not both');
    const name = o.observation === '-' ? 'stdin' : o.observation;
    let obs: Observation;
    try {
      obs = parseObservation(await readInput(o.observation), name);
    } catch (e) {
      if (e instanceof ObservationInputError) throw new UsageError(e.message);
      throw e;
    }
    emit([{ obs, d: diagnose(obs, opts) }], o, false);
    return;
  }
  if (!targets.length) throw new UsageError('diagnose: name a target (HOST[:PORT]) or give --observation FILE');
  validateTargets(targets);
  const probeOpts = await probeOptionsFrom(o);
  const results: { obs: Observation; d: Diagnosis }[] = [];
  for (const t of targets) {
    const obs = await runProbe(t, probeOpts);
    results.push({ obs, d: diagnose(obs, opts) });
  }
  emit(results, o, true);
}
