/** `rdprobe replay`: the work behind the command (commands/replay.ts registers the options and imports this when it runs). */
import { diagnose, type ProfileName, type RequireMode } from '../../diagnose/index.js';
import type { Observation } from '../../observation/types.js';
import { replayStream, type ReplaySummary } from '../../replay/replay.js';
import { CaptureFormatError, openCapture } from '../../replay/stream.js';
import { diagnosisJson, renderDiagnosis } from '../../report/findings.js';
import { UsageError } from '../util.js';
import { EXIT_DAMAGED, type ReplayCliOptions } from '../commands/replay.js';

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
        else if (format === 'conn') out(`${JSON.stringify(connRecord(obs, d.verdict.status))}\n`);
        else if (format === 'json') jsonDocs.push(diagnosisJson(d, obs));
        else {
          out(`${first ? '' : '\n'}${attemptHeader(obs)}\n${renderDiagnosis(d, { color })}\n`);
          first = false;
        }
      };
      // wait for a slow reader of stdout (a pipe) before reading on, so output never piles up in memory
      const afterBatch = () =>
        process.stdout.writableNeedDrain ? new Promise<void>((res) => process.stdout.once('drain', () => res())) : undefined;
      summary = await replayStream(cap, { file: name, onAttempt, collect: false, afterBatch });
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
    else if (format === 'conn') continue;
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

/**
 * `-f conn`: one flat line per connection, in the spirit of Zeek's rdp.log (ts, uid-like id, endpoints, cookie,
 * result, security_protocol, client name/build/keyboard, encryption method/level, certificate), for people who
 * already pipe rdp.log into their tools. Field names are ours (snake_case like Zeek's); absent facts are omitted.
 */
export function connRecord(o: Observation, verdict: string): Record<string, unknown> {
  const r = (o.replay ?? {}) as {
    client?: { address: string; port: number };
    request?: { cookie?: string; requestedMask?: number; negReq?: boolean };
    clientCore?: { name: string; build: number; keyboardLayout: number; version: string; width: number; height: number };
    udp?: unknown;
  };
  const x = o.x224;
  const result =
    x === undefined
      ? o.udp ? `udp-${o.udp.outcome}` : `tcp-${o.tcp?.outcome ?? 'unknown'}`
      : x.outcome === 'failure'
        ? x.failure!.name
        : x.outcome === 'selected' || x.outcome === 'legacy'
          ? o.tls?.outcome && o.tls.outcome !== 'ok' ? `tls-${o.tls.outcome}` : o.credssp?.auth ? `credssp-${o.credssp.auth.outcome}` : 'negotiated'
          : `x224-${x.outcome}`;
  const rec: Record<string, unknown> = {
    ts: o.source.startedAt,
    file: o.source.file,
    frames: o.source.frames,
    proto: o.udp && !o.tcp ? 'udp' : 'tcp',
    orig_h: r.client?.address,
    orig_p: r.client?.port,
    resp_h: o.source.host,
    resp_p: o.source.port,
    cookie: r.request?.cookie,
    requested_protocols: x ? (r.request?.negReq === false ? 'legacy' : x.requested.join('|')) : undefined,
    security_protocol: x?.outcome === 'legacy' ? 'RDP' : x?.selected,
    result,
    client_name: r.clientCore?.name,
    client_build: r.clientCore?.build,
    keyboard_layout: r.clientCore ? `0x${r.clientCore.keyboardLayout.toString(16).padStart(8, '0')}` : undefined,
    desktop: r.clientCore ? `${r.clientCore.width}x${r.clientCore.height}` : undefined,
    server_rdp_version: o.mcs?.rdpVersion?.name,
    encryption_method: o.mcs?.encryptionMethod?.name,
    encryption_level: o.mcs?.encryptionLevel?.name,
    cert_type: o.mcs?.serverCertificate?.type ?? (o.tls?.certificate ? 'x509-tls' : undefined),
    tls_version: o.tls?.version,
    tls_cipher: o.tls?.cipher?.name,
    cert_subject: o.tls?.certificate?.subject,
    udp_version: o.udp?.version,
    verdict,
  };
  for (const k of Object.keys(rec)) if (rec[k] === undefined) delete rec[k];
  return rec;
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
