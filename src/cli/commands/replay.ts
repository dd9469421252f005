import type { Command } from 'commander';
import { Option } from 'commander';
import { diagnose, PROFILE_NAMES, REQUIRE_MODES, type ProfileName, type RequireMode } from '../../diagnose/index.js';
import type { Observation } from '../../observation/types.js';
import { replayStream, type ReplaySummary } from '../../replay/replay.js';
import { CaptureFormatError, openCapture } from '../../replay/stream.js';
import { diagnosisJson, renderDiagnosis } from '../../report/findings.js';
import { UsageError } from '../util.js';

/** Exit code when a capture was damaged (truncated / corrupt) but everything before the damage was replayed. */
export const EXIT_DAMAGED = 4;

export interface ReplayCliOptions {
  format?: string;
  client?: string;
  require?: string;
}

const FORMATS = ['table', 'json', 'ndjson'] as const;

/**
 * `rdprobe replay FILE… [-f table|json|ndjson] [--client P] [--require nla|tls|rdp]`: every RDP connection attempt
 * in the captures (pcap, pcapng, gzip-compressed; '-' reads stdin) becomes an Observation (`source.kind: 'replay'`)
 * and is diagnosed by the same engine as live probing. Exit codes: 0 done, 2 unreadable input (not a capture, no such
 * file), 4 a capture was damaged and only the part before the damage was replayed.
 */
export function register(program: Command): void {
  program
    .command('replay')
    .description('diagnose every RDP connection attempt in pcap/pcapng captures (streaming; gzip and stdin accepted)')
    .argument('<files...>', "capture files ('-' reads stdin)")
    .addOption(new Option('-f, --format <format>', 'output format').choices([...FORMATS]).default('table'))
    .addOption(new Option('--client <profile>', 'judge for this client profile').choices([...PROFILE_NAMES]).default('mstsc'))
    .addOption(new Option('--require <layer>', 'the client insists on this security layer only').choices([...REQUIRE_MODES]))
    .action(async (files: string[], o: ReplayCliOptions) => runReplay(files, o));
}

export async function runReplay(files: string[], o: ReplayCliOptions): Promise<void> {
  const profile = (o.client ?? 'mstsc') as ProfileName;
  const dopts = o.require ? { profile, require: o.require as RequireMode } : { profile };
  const format = o.format ?? 'table';
  if (files.filter((f) => f === '-').length > 1) throw new UsageError("'-' (stdin) can be given once");
  const out = (s: string) => process.stdout.write(s);
  const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
  const jsonDocs: unknown[] = [];
  let damaged = false;
  let unreadable = false;
  let first = true;
  for (const file of files) {
    const name = file === '-' ? 'stdin' : file;
    let summary: ReplaySummary;
    try {
      const cap = await openCapture(file);
      const onAttempt = (obs: Observation) => {
        const d = diagnose(obs, dopts);
        if (format === 'ndjson') out(`${JSON.stringify({ type: 'attempt', ...diagnosisJson(d, obs) })}\n`);
        else if (format === 'json') jsonDocs.push(diagnosisJson(d, obs));
        else {
          out(`${first ? '' : '\n'}${attemptHeader(obs)}\n${renderDiagnosis(d, { color })}\n`);
          first = false;
        }
      };
      summary = await replayStream(cap, { file: name, onAttempt, collect: false });
    } catch (e) {
      if (!(e instanceof CaptureFormatError)) throw e;
      process.stderr.write(`rdprobe: ${name}: ${e.message.startsWith(`${name}:`) ? e.message.slice(name.length + 2) : e.message}\n`);
      unreadable = true;
      continue;
    }
    if (summary.damage) damaged = true;
    for (const w of summary.warnings) process.stderr.write(`rdprobe: ${name}: ${w}\n`);
    const s = summaryRecord(summary);
    if (format === 'ndjson') out(`${JSON.stringify({ type: 'file', ...s })}\n`);
    else if (format === 'json') jsonDocs.push({ format: 'rdprobe-replay-file/1', ...s });
    else {
      out(
        `${first ? '' : '\n'}${name}: ${summary.capture.records} frame(s), ${summary.attempts} attempt(s)${summary.attempts === 0 ? ' (no X.224 Connection Request, SYN to an RDP port or RDPEUDP SYN found)' : ''}${summary.damage ? `; DAMAGED at record ${summary.damage.record}, byte offset ${summary.damage.offset}` : ''}\n`,
      );
      first = false;
    }
  }
  if (format === 'json') out(`${JSON.stringify(jsonDocs, null, 2)}\n`);
  if (unreadable) process.exitCode = 2;
  else if (damaged) process.exitCode = EXIT_DAMAGED;
}

function attemptHeader(o: Observation): string {
  const r = o.replay;
  const frames = o.source.frames ? `frames ${o.source.frames[0]}–${o.source.frames[1]}` : '';
  const client = r ? `${r.client.address.includes(':') ? `[${r.client.address}]` : r.client.address}:${r.client.port} → ` : '';
  return `── ${o.source.file} · ${client}${o.source.target} · ${frames} · ${o.source.startedAt}`;
}

function summaryRecord(s: ReplaySummary): Record<string, unknown> {
  return {
    file: s.file,
    capture: s.capture,
    attempts: s.attempts,
    malformed: s.malformed,
    ...(s.damage ? { damage: s.damage } : {}),
    warnings: s.warnings,
    flows: s.flows,
    fragments: s.fragments,
  };
}
