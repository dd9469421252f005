/**
 * The diagnosis engine: Observation + client profile → findings and a one-line verdict, plus `explainCode` for
 * `rdprobe explain`. Pure: no I/O, no clock (times come from the observation).
 *
 * Verdict policy: any `error` finding makes the profile fail (the top one names the client error); `warning`s leave
 * it healthy but "degraded" and are listed in the line; `info` findings never change the verdict. When the
 * observation cannot tell what this client would get (no negotiation, or the enumeration needed for the client's
 * offer is missing) the verdict is "inconclusive" (healthy: false) and says which probe decides it.
 */
import type { Observation } from '../observation/types.js';
import { CAUSES, cause, type CauseId } from './catalog.js';
import {
  CodeInputError,
  extendedCode,
  hexCode,
  NTSTATUS_TO_CLIENT,
  primaryCode,
  SOURCES,
  parseCode,
  type CodeRow,
} from './codes.js';
import { predictNegotiation } from './negotiation.js';
import { offerText, PROFILE_NAMES, resolveProfile, type ClientProfile, type ProfileName, type RequireMode } from './profiles.js';
import { RULES, type FixVars, type Hit, type RuleContext } from './rules/index.js';
import type { CodeMeaning, Confidence, Diagnosis, Explanation, Finding, Fix, Severity, Verdict } from './types.js';

export interface DiagnoseOptions {
  profile?: ProfileName;
  require?: RequireMode;
  /** Also judge every built-in profile (default true); scans turn it off: one profile per host is what they report. */
  perProfile?: boolean;
}

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
const CONFIDENCE_RANK: Record<Confidence, number> = { high: 0, medium: 1, low: 2 };
const CAUSE_ORDER = new Map<string, number>(CAUSES.map((c, i) => [c.id, i]));

/** Values for the fix templates, from the observation (MTU/MSS only when measured). */
export function fixVars(obs: Observation): FixVars {
  const p = obs.pmtu;
  const address = obs.source.address ?? obs.tcp?.address ?? '';
  const ipver = address.includes(':') ? 'ipv6' : 'ipv4';
  let mtu = p?.recommendedMtu;
  if (mtu === undefined && p?.outcome === 'measured') mtu = p.pathMtu;
  if (mtu === undefined && p?.outcome === 'black-hole') mtu = p.pathMtu ?? p.bounds?.passes;
  if (mtu === undefined && p?.mssClamp?.clampedOk && p.mssClamp.clampedMss) mtu = p.mssClamp.clampedMss + (ipver === 'ipv6' ? 60 : 40);
  const mss = p?.recommendedMss ?? (mtu !== undefined ? mtu - (ipver === 'ipv6' ? 60 : 40) : undefined);
  const vars: FixVars = { host: obs.source.host, port: obs.source.port, target: obs.source.target, ipver };
  if (mtu !== undefined) vars.mtu = mtu;
  if (mss !== undefined) vars.mss = mss;
  if (p?.interface) vars.iface = p.interface;
  return vars;
}

const PLACEHOLDER: Record<string, string> = { mtu: '<N>', mss: '<MSS>', iface: '<if>', host: '<host>', port: '3389', target: '<host>', ipver: 'ipv4' };

/** Fill {host} {port} {target} {mtu} {mss} {iface} {ipver}; unknown values stay as visible placeholders. */
export function fillTemplate(text: string, vars: Partial<FixVars>): string {
  return text.replace(/\{(host|port|target|mtu|mss|iface|ipver)\}/g, (_, k: keyof FixVars) => {
    const v = vars[k];
    return v === undefined || v === '' ? PLACEHOLDER[k] : String(v);
  });
}

function toFinding(hit: Hit, vars: FixVars): Finding {
  const c = cause(hit.cause);
  const fixes: Fix[] = [...(hit.extraFixes ?? []), ...c.fixes].map((f) => ({ ...f, text: fillTemplate(f.text, vars) }));
  // The secure fix comes first; workarounds last (stable within each group).
  fixes.sort((a, b) => Number(!!a.workaround) - Number(!!b.workaround));
  const f: Finding = {
    id: c.id,
    title: c.title,
    summary: hit.summary,
    category: c.category,
    severity: hit.severity,
    clientErrors: hit.clientErrors ?? c.clientErrors,
    confidence: hit.confidence,
    confidenceWhy: hit.confidenceWhy,
    evidence: hit.evidence,
    explanation: hit.note ? `${c.explanation} ${hit.note}` : c.explanation,
    fixes,
  };
  const freerdp = hit.freerdp ?? c.freerdp;
  if (freerdp) f.freerdp = freerdp;
  // A next probe only where the evidence is not conclusive (or the rule asks for one explicitly).
  const next = hit.nextProbe === null ? undefined : hit.nextProbe ?? (hit.confidence !== 'high' ? c.nextProbe : undefined);
  if (next) f.nextProbe = fillTemplate(next, vars);
  return f;
}

function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort(
    (a, b) =>
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      CONFIDENCE_RANK[a.confidence] - CONFIDENCE_RANK[b.confidence] ||
      (CAUSE_ORDER.get(a.id) ?? 99) - (CAUSE_ORDER.get(b.id) ?? 99),
  );
}

/** Keep one finding per cause: the most severe / most confident. */
function dedupe(findings: Finding[]): Finding[] {
  const out: Finding[] = [];
  for (const f of sortFindings(findings)) if (!out.some((o) => o.id === f.id)) out.push(f);
  return out;
}

/** "0x4 (extended 0x0)" for Microsoft clients, the ERRCONNECT_* name for FreeRDP. */
export function clientErrorLabel(f: Finding, profile: ClientProfile): { label?: string; short?: string } {
  if (profile.errors === 'freerdp' && f.freerdp) return { label: f.freerdp, short: f.freerdp };
  const ce = f.clientErrors[0];
  if (!ce) return {};
  return {
    label: ce.extended !== undefined ? `${ce.code} (extended ${ce.extended})` : ce.code,
    short: ce.extended !== undefined ? `${ce.code}/${ce.extended}` : ce.code,
  };
}

function verdictFor(obs: Observation, profile: ClientProfile, findings: Finding[], nego: RuleContext['nego']): Verdict {
  const errors = findings.filter((f) => f.severity === 'error');
  if (errors.length) {
    const top = errors[0];
    const { label, short } = clientErrorLabel(top, profile);
    const v: Verdict = {
      healthy: false,
      status: 'failing',
      line: `${label ?? cause(top.id as CauseId).title} — ${cause(top.id as CauseId).short}: ${top.summary}`,
      causeId: top.id,
    };
    if (short) v.clientError = short;
    return v;
  }
  const target = obs.source.target;
  if (nego.status === 'not-reached' || nego.status === 'unknown' || nego.status === 'no-negotiation') {
    const why =
      nego.status === 'not-reached'
        ? obs.tcp
          ? 'the probe did not negotiate'
          : 'the observation has no TCP result'
        : nego.status === 'no-negotiation'
          ? `the ${offerText(nego.offered)} connection got no answer (${nego.noAnswer})`
          : `the observation does not show how the server answers ${offerText(nego.offered)}`;
    return {
      healthy: false,
      status: 'inconclusive',
      line: `inconclusive for ${profile.name}: ${why} — run \`rdprobe probe ${target}\` (full depth, enumeration on)`,
    };
  }
  const warnings = findings.filter((f) => f.severity === 'warning');
  if (warnings.length) {
    const list = warnings.slice(0, 2).map((w) => cause(w.id as CauseId).short).join('; ');
    return {
      healthy: true,
      status: 'degraded',
      line: `healthy for ${profile.name}, with ${warnings.length} warning${warnings.length > 1 ? 's' : ''}: ${list}${warnings.length > 2 ? '; …' : ''}`,
    };
  }
  return { healthy: true, status: 'healthy', line: `healthy for ${profile.name}` };
}

function diagnoseFor(obs: Observation, profile: ClientProfile): { verdict: Verdict; findings: Finding[] } {
  const ctx: RuleContext = { obs, profile, nego: predictNegotiation(obs, profile), vars: fixVars(obs) };
  const findings: Finding[] = [];
  for (const rule of RULES) {
    const r = rule(ctx);
    if (!r) continue;
    for (const hit of Array.isArray(r) ? r : [r]) findings.push(toFinding(hit, ctx.vars));
  }
  const sorted = dedupe(findings);
  return { verdict: verdictFor(obs, profile, sorted, ctx.nego), findings: sorted };
}

/**
 * Diagnose one observation for a client profile (default mstsc), optionally with an explicit security requirement.
 * `perProfile` judges the same observation for every built-in profile.
 */
export function diagnose(obs: Observation, opts: DiagnoseOptions = {}): Diagnosis {
  const profile = resolveProfile(opts.profile ?? 'mstsc', opts.require);
  const main = diagnoseFor(obs, profile);
  const d: Diagnosis = {
    profile: profile.name,
    profileDescription: profile.description,
    target: obs.source.target,
    verdict: main.verdict,
    findings: main.findings,
  };
  if (opts.perProfile === false) return d;
  const perProfile: NonNullable<Diagnosis['perProfile']> = {};
  for (const name of PROFILE_NAMES) {
    const v = name === profile.name ? main.verdict : diagnoseFor(obs, resolveProfile(name)).verdict;
    perProfile[name] = { healthy: v.healthy, status: v.status, line: v.line };
  }
  d.perProfile = perProfile;
  return d;
}

// ---------------------------------------------------------------------------------------------------------------
// explain

function meaning(row: CodeRow): CodeMeaning {
  const m: CodeMeaning = {
    hex: hexCode(row.value),
    dec: row.value,
    name: row.name,
    meaning: row.meaning,
    documented: row.documented,
    sources: row.sources.map((id) => ({ id, ...SOURCES[id] })),
  };
  if (row.note) m.note = row.note;
  return m;
}

export { CodeInputError };

/** The default probe covers DNS, TCP, negotiation, enumeration, TLS (+ versions), CredSSP and MCS. */
const DEFAULT_PROBE = 'rdprobe diagnose {target}';

/**
 * What a client error code means, which causes in the catalogue produce it, and which observation tells each apart.
 * Throws CodeInputError for input that is not a code or a code not in the tables.
 */
export function explainCode(code: string, extended?: string): Explanation {
  const p = parseCode(code, (v) => primaryCode(v) !== undefined);
  const row = primaryCode(p.value);
  if (!row) {
    throw new CodeInputError(
      `${hexCode(p.value)} (${p.value}) is not a Microsoft RDP client disconnect code rdprobe knows; known: ` +
        ['0x3', '0x4', '0x104', '0x108', '0x204', '0x904', '0x807 …'].join(', ') +
        ' (full list: learn.microsoft.com/windows/win32/termserv/imstscaxevents-ondisconnected)',
    );
  }
  const readAs = [p.readAs];
  let ext: CodeRow | undefined;
  if (extended !== undefined) {
    const e = parseCode(extended, (v) => extendedCode(v) !== undefined);
    ext = extendedCode(e.value);
    if (!ext) {
      throw new CodeInputError(
        `${hexCode(e.value)} (${e.value}) is not an extended disconnect reason rdprobe knows (0x0–0xC, 0x100–0x10B, 0x300, 0x1000–0x7FFF)`,
      );
    }
    readAs.push(`extended ${e.readAs}`);
  }
  const hex = hexCode(row.value);
  const extHex = ext ? hexCode(ext.value) : undefined;
  const ranked: { item: Explanation['causes'][number]; exact: boolean; index: number; order: number }[] = [];
  CAUSES.forEach((c, order) => {
    const refs = c.clientErrors.filter((ce) => ce.code === hex && (extHex === undefined || ce.extended === undefined || ce.extended === extHex));
    if (refs.length === 0) return;
    const ce = refs.find((r) => r.extended === extHex) ?? refs[0];
    const item: Explanation['causes'][number] = {
      id: c.id,
      title: c.title,
      category: c.category,
      documented: ce.documented,
      tellApart: c.tellApart,
    };
    if (ce.note) item.mappingNote = ce.note;
    if (c.freerdp) item.freerdp = c.freerdp;
    item.nextProbe = fillTemplate(c.nextProbe ?? DEFAULT_PROBE, { target: 'HOST' });
    ranked.push({ item, exact: extHex !== undefined && ce.extended === extHex, index: c.clientErrors.indexOf(ce), order });
  });
  // Causes whose mapping names this exact pair first, then those for which this code is the most likely symptom.
  ranked.sort((a, b) => Number(b.exact) - Number(a.exact) || a.index - b.index || a.order - b.order);
  const causes = ranked.map((r) => r.item);
  // The SSL_ERR_* family: each code comes from a TSRequest errorCode (NTSTATUS) by name.
  const statuses = NTSTATUS_TO_CLIENT.filter((s) => s.code === row.value);
  if (statuses.length && !causes.some((c) => c.id === 'credssp-logon-failure')) {
    const c = cause('credssp-logon-failure');
    causes.push({
      id: c.id,
      title: c.title,
      category: c.category,
      documented: false,
      mappingNote: `from the CredSSP errorCode ${statuses.map((s) => s.name).join(' / ')} (pairing inferred from the names)`,
      tellApart: c.tellApart,
      freerdp: statuses[0].freerdp,
      nextProbe: fillTemplate(c.nextProbe ?? DEFAULT_PROBE, { target: 'HOST' }),
    });
  } else if (statuses.length) {
    const item = causes.find((c) => c.id === 'credssp-logon-failure')!;
    item.mappingNote = `from the CredSSP errorCode ${statuses.map((s) => s.name).join(' / ')} (pairing inferred from the names)`;
  }
  const out: Explanation = { input: { code }, readAs, code: meaning(row), causes };
  if (extended !== undefined) out.input.extended = extended;
  if (ext) out.extended = meaning(ext);
  const pair = pairNote(row.value, ext?.value);
  if (pair) out.pairNote = pair;
  return out;
}

function pairNote(code: number, ext: number | undefined): string | undefined {
  if (code === 0x904 && ext === 7) {
    return (
      'Both halves are documented (0x904 "Socket closed", extended 0x7 "server denied the connection"), but no Microsoft ' +
      'page defines the pair or its causes [inferred]. An extended 0x7 normally needs a Set Error Info PDU, i.e. the ' +
      'connection got past MCS; community reports also tie the pair to lossy/VPN paths, certificate problems and ' +
      'blocked UDP, which rdprobe checks below.'
    );
  }
  if (code === 0x4) {
    return (
      '0x4 is not in the documented DisconnectReasonCode list [inferred meaning]: the low byte 0x04 is the network ' +
      'layer in the documented codes and there is no detail byte; reports show it when the host accepts TCP and then ' +
      'drops the connection during setup, and for security-layer mismatches.'
    );
  }
  if (code === 0x3) return '0x3 is documented as "not an error code"; servers dropping the connection during negotiation also surface as 0x3 [inferred].';
  return undefined;
}
