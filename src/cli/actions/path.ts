/**
 * `rdprobe path`: the work behind the command (commands/path.ts registers the options and imports this when it runs).
 * The report is a view of the Observation that probe/path.ts probePath() builds; its advice is the diagnosis' fixes.
 */
import { diagnose } from '../../diagnose/index.js';
import type { Observation, PmtuObservation, UdpObservation } from '../../observation/types.js';
import type { MssAttempt } from '../../probe/blackhole.js';
import { probePath } from '../../probe/path.js';
import { parseHostPort } from '../../probe/target.js';
import type { PmtuMethod, PmtuProbe } from '../../transport/pmtu.js';
import { UsageError } from '../util.js';

export interface PathCliOptions {
  port?: number;
  json?: boolean;
  max?: number;
  udp?: boolean;
  method: PmtuMethod;
  confirm?: boolean;
  timeout: number;
  attempts: number;
  precision: number;
  stall: number;
  ipv4?: boolean;
  ipv6?: boolean;
}

export interface PathReport {
  target: string;
  host: string;
  address?: string;
  port: number;
  dns?: { outcome: string; code?: string; ms: number };
  pmtu?: PmtuObservation;
  udp?: UdpObservation;
  /** MSS-clamp handshakes, in order (when the confirmation ran). */
  mssAttempts?: MssAttempt[];
  /** The fixes of the diagnosis' path-MTU findings. */
  advice?: { place: string; text: string }[];
  notes: string[];
}

export async function runPathCommand(target: string, o: PathCliOptions): Promise<void> {
  if (o.ipv4 && o.ipv6) throw new UsageError('-4 and -6 exclude each other');
  let hp;
  try {
    hp = parseHostPort(target);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const report = await runPath(target, hp.host, o.port ?? hp.port ?? 3389, o, !o.json);
  if (o.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(`${renderPath(report)}\n`);
}

async function runPath(target: string, host: string, port: number, o: PathCliOptions, progress: boolean): Promise<PathReport> {
  const say = (s: string) => {
    if (progress && process.stderr.isTTY) process.stderr.write(`\r\x1b[K${s}`);
  };
  const attempts: MssAttempt[] = [];
  let confirmRan = false;
  const obs = await probePath(target, {
    port,
    family: o.ipv4 ? 4 : o.ipv6 ? 6 : 0,
    confirm: o.confirm,
    stallMs: o.stall,
    udp: o.udp === true,
    udpOptions: { timeoutMs: 1000, attempts: 3 },
    pmtuOptions: { method: o.method, max: o.max, timeoutMs: o.timeout, attempts: o.attempts, precision: o.precision, onProbe: (p: PmtuProbe, m: string) => say(`${m}: ${probeText(p)}`) },
    onAttempt: (a) => {
      if (!confirmRan) say('');
      confirmRan = true;
      attempts.push(a);
      say(`MSS ${a.mss ?? 'default'}: ${a.stalled ? 'stalled' : 'ok'} (${a.bytesReceived} bytes)`);
    },
  });
  say('');
  return pathReport(obs, host, attempts);
}

/** The path command's view of the Observation (its JSON shape), with the diagnosis' path-MTU fixes as advice. */
export function pathReport(obs: Observation, host: string, attempts: MssAttempt[]): PathReport {
  const report: PathReport = { target: obs.source.target, host, port: obs.source.port, notes: [] };
  const dns = obs.dns;
  if (dns && dns.outcome !== 'skipped') report.dns = { outcome: dns.outcome, code: dns.code, ms: dns.ms };
  if (!obs.source.address) {
    report.notes.push(`${host} does not resolve (${dns?.outcome}${dns?.code ? `, ${dns.code}` : ''})`);
    return report;
  }
  report.address = obs.source.address;
  if (obs.pmtu) report.pmtu = obs.pmtu;
  const clampNote = obs.errors.find((e) => e.phase === 'mss-clamp');
  if (attempts.length || obs.pmtu?.mssClamp || clampNote) report.mssAttempts = attempts;
  if (clampNote) report.notes.push(`MSS-clamp check not possible: ${clampNote.message}`);
  if (obs.udp) report.udp = obs.udp;
  const advice = diagnose(obs, { perProfile: false }).findings.filter((f) => f.category === 'path-mtu').flatMap((f) => f.fixes);
  if (advice.length) report.advice = advice.map((f) => ({ place: f.place, text: f.text }));
  return report;
}

function probeText(p: PmtuProbe): string {
  let s = `${p.size} ${p.result}`;
  if (p.mtu !== undefined) s += ` mtu ${p.mtu}`;
  if (p.from) s += ` from ${p.from}`;
  if (p.ms !== undefined && p.result === 'ok') s += ` ${p.ms < 1 ? p.ms.toFixed(2) : Math.round(p.ms)} ms`;
  return s;
}

/** Collapse consecutive identical probes ("1500 lost ×3"). */
function probeList(probes: PmtuProbe[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < probes.length; ) {
    let j = i + 1;
    while (j < probes.length && probes[j].size === probes[i].size && probes[j].result === probes[i].result && probes[i].result !== 'ok') j++;
    out.push(`${probeText(probes[i])}${j - i > 1 ? ` ×${j - i}` : ''}`);
    i = j;
  }
  return out;
}

export function renderPath(r: PathReport): string {
  const lines: string[] = [];
  const p = r.pmtu;
  lines.push(`rdprobe path ${r.target}${r.address && r.address !== r.host ? ` (${r.address})` : ''}${p?.interface ? `, via ${p.interface}${p.localMtu ? ` (MTU ${p.localMtu})` : ''}` : ''}`);
  const row = (k: string, v: string) => lines.push(`  ${k.padEnd(11)}${v}`);
  if (p) {
    row('method', p.method ?? '-');
    const list = probeList(p.probes);
    if (list.length === 0) row('probes', 'none sent');
    for (let i = 0; i < list.length; i += 6) row(i === 0 ? 'probes' : '', `${i === 0 ? `${p.probes.length}: ` : ''}${list.slice(i, i + 6).join(' · ')}`);
    switch (p.outcome) {
      case 'measured':
        row('path MTU', `${p.pathMtu}${p.reportingRouter ? ` (ICMP frag-needed from ${p.reportingRouter})` : ''}`);
        break;
      case 'black-hole':
        row('path MTU', `${p.pathMtu} — PMTU BLACK HOLE: ${p.bounds ? `${p.bounds.passes} passes, ${p.bounds.lost} is lost without ICMP` : 'large DF packets vanish without ICMP'}`);
        break;
      case 'unprivileged':
        row('path MTU', 'not measured: unprivileged');
        break;
      default:
        row('path MTU', `not measured: ${p.outcome}`);
    }
    if (p.detail) row('detail', p.detail);
    if (p.mssClamp) {
      const c = p.mssClamp;
      if (!c.defaultStalled) row('TLS check', 'the TLS handshake completes at the default MSS: no server→client black hole on this connection');
      else if (c.clampedOk && c.bound) {
        row('TLS check', `stalls at the default MSS, completes with MSS ${c.bound.passes} (stalls at ${c.bound.stalls}): server→client black hole confirmed`);
      } else row('TLS check', `stalls at the default MSS and still at MSS ${c.clampedMss ?? '?'}: not explained by the path MTU`);
    }
    let label = 'advice';
    if ((p.outcome === 'measured' || p.outcome === 'black-hole') && p.recommendedMtu !== undefined && p.localMtu !== undefined && p.recommendedMtu < p.localMtu) {
      row(label, `client MTU ${p.recommendedMtu}, MSS clamp ${p.recommendedMss}`);
      label = '';
    }
    // the fixes of the diagnosis' path-MTU findings (catalogue text, with the measured MTU/MSS filled in)
    for (const f of r.advice ?? []) {
      row(label, `${f.place}: ${f.text}`);
      label = '';
    }
  }
  if (r.udp) {
    const u = r.udp;
    const what =
      u.outcome === 'synack'
        ? `SYN+ACK in ${u.ms} ms, version ${u.version === 0x101 ? '3 (0x101, RDPEUDP2)' : u.version}, server MTU ${u.serverMtu?.up}/${u.serverMtu?.down}`
        : u.outcome === 'icmp-unreachable'
          ? 'ICMP port unreachable: host up, no RDP-UDP listener'
          : u.outcome === 'silent'
            ? `no answer after ${u.attempts} SYN(s): UDP filtered or dropped`
            : `${u.outcome}${u.detail ? `: ${u.detail}` : ''}`;
    row(`UDP ${r.port}`, what);
  }
  for (const n of r.notes) row('note', n);
  return lines.join('\n');
}
