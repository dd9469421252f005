/**
 * Rendering of a Diagnosis: the verdict first as ONE line, then the other client profiles, then each finding with
 * its client error (documented or inferred), evidence, confidence and fixes grouped per place (secure fix first,
 * workarounds labelled). Formatting only: every word comes from the Diagnosis.
 */
import type { Diagnosis, Explanation, Finding, Fix, FixPlace } from '../diagnose/types.js';

const PLACE_LABEL: Record<FixPlace, string> = {
  'windows-server': 'on the Windows server',
  'windows-client': 'on the Windows client',
  'linux-macos-client': 'on the Linux/macOS client',
  network: 'in the network',
};

export interface RenderOptions {
  color?: boolean;
  /** Wrap prose at this width (default 110). Commands and fix lines are never wrapped. */
  width?: number;
}

function styler(color: boolean | undefined) {
  const wrap = (code: string) => (s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { bold: wrap('1'), red: wrap('31'), yellow: wrap('33'), green: wrap('32'), dim: wrap('2') };
}

function wrapText(text: string, width: number, indent: string): string {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && indent.length + line.length + 1 + w.length > width) {
      lines.push(indent + line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(indent + line);
  return lines.join('\n');
}

export function formatValue(v: unknown): string {
  if (v === undefined) return '(absent)';
  if (v === null) return 'null';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Fixes grouped per place, places in order of first appearance (the secure fix's place first). */
export function groupFixes(fixes: Fix[]): { place: FixPlace; fixes: Fix[] }[] {
  const groups: { place: FixPlace; fixes: Fix[] }[] = [];
  for (const f of fixes) {
    let g = groups.find((x) => x.place === f.place);
    if (!g) groups.push((g = { place: f.place, fixes: [] }));
    g.fixes.push(f);
  }
  for (const g of groups) g.fixes.sort((a, b) => Number(!!a.workaround) - Number(!!b.workaround));
  return groups;
}

function clientErrorText(f: Finding): string {
  const parts = f.clientErrors.map((ce) => {
    const code = ce.extended !== undefined ? `${ce.code}/${ce.extended}` : ce.code;
    return `${code} ${ce.documented ? '(documented)' : '(inferred)'}${ce.note ? ` — ${ce.note}` : ''}`;
  });
  if (f.freerdp) parts.push(`FreeRDP: ${f.freerdp}`);
  return parts.length ? parts.join('; ') : 'no client error code';
}

export function renderFinding(f: Finding, n: number, opts: RenderOptions = {}): string {
  const s = styler(opts.color);
  const width = opts.width ?? 110;
  const sev = f.severity === 'error' ? s.red('error') : f.severity === 'warning' ? s.yellow('warning') : s.dim('info');
  const out: string[] = [];
  out.push(`${n}. [${sev} · ${f.confidence} confidence] ${s.bold(f.title)}  (${f.id}, ${f.category})`);
  out.push(`   ${f.summary}`);
  out.push(`   client error: ${clientErrorText(f)}`);
  out.push(wrapText(`why: ${f.explanation}`, width, '   '));
  if (f.evidence.length) {
    out.push('   evidence:');
    for (const e of f.evidence) out.push(`     ${e.field} = ${formatValue(e.value)}${e.note ? s.dim(`  (${e.note})`) : ''}`);
  }
  out.push(wrapText(`confidence ${f.confidence}: ${f.confidenceWhy}`, width, '   '));
  for (const g of groupFixes(f.fixes)) {
    const onlyWorkarounds = g.fixes.every((x) => x.workaround);
    out.push(`   fix ${PLACE_LABEL[g.place]}${onlyWorkarounds ? ' (workaround only)' : ''}:`);
    for (const x of g.fixes) out.push(`     - ${x.workaround ? s.yellow('[workaround, weakens security or hides the symptom] ') : ''}${x.text}`);
  }
  if (f.nextProbe) out.push(`   to decide: ${f.nextProbe}`);
  return out.join('\n');
}

/** The human report. The first line is the verdict. */
export function renderDiagnosis(d: Diagnosis, opts: RenderOptions = {}): string {
  const s = styler(opts.color);
  const v = d.verdict;
  const out: string[] = [];
  const line = v.status === 'failing' ? s.red(v.line) : v.status === 'healthy' ? s.green(v.line) : s.yellow(v.line);
  out.push(s.bold(line));
  out.push(`  target ${d.target} · client ${d.profile}: ${d.profileDescription}`);
  if (d.perProfile) {
    const others = Object.entries(d.perProfile).filter(([name]) => name !== d.profile);
    const differs = others.some(([, p]) => p.status !== v.status);
    if (others.length) {
      out.push(`  other clients${differs ? ' (the verdict depends on the client)' : ''}:`);
      for (const [name, p] of others) out.push(`    ${name}: ${p.line}`);
    }
  }
  if (d.findings.length === 0) {
    out.push('', 'No findings.');
    return out.join('\n');
  }
  d.findings.forEach((f, i) => out.push('', renderFinding(f, i + 1, opts)));
  return out.join('\n');
}

/**
 * The JSON shape of a diagnosis (stable field names; `format` versions this shape). With `observation`, the record
 * is embedded, so the file can be diagnosed again later (`rdprobe diagnose --observation FILE` reads the wrapper).
 */
export function diagnosisJson(d: Diagnosis, observation?: unknown): Record<string, unknown> {
  return {
    format: 'rdprobe-diagnosis/1',
    target: d.target,
    profile: d.profile,
    profileDescription: d.profileDescription,
    verdict: d.verdict,
    perProfile: d.perProfile,
    findings: d.findings,
    ...(observation !== undefined ? { observation } : {}),
  };
}

/** Human rendering of `rdprobe explain`. */
export function renderExplanation(e: Explanation, opts: RenderOptions = {}): string {
  const s = styler(opts.color);
  const width = opts.width ?? 110;
  const flag = (documented: boolean) => (documented ? 'documented' : s.yellow('inferred'));
  const out: string[] = [];
  const c = e.code;
  out.push(s.bold(`${c.hex} (${c.dec}) ${c.name} — ${c.meaning} [${flag(c.documented)}]`));
  if (c.note) out.push(wrapText(c.note, width, '  '));
  if (e.extended) {
    const x = e.extended;
    out.push(s.bold(`extended ${x.hex} (${x.dec}) ${x.name} — ${x.meaning} [${flag(x.documented)}]`));
    if (x.note) out.push(wrapText(x.note, width, '  '));
  }
  if (e.pairNote) out.push(wrapText(e.pairNote, width, '  '));
  out.push(s.dim(`  read as: ${e.readAs.join('; ')}`));
  out.push('  sources:');
  const seen = new Set<string>();
  for (const src of [...c.sources, ...(e.extended?.sources ?? [])]) {
    if (seen.has(src.id)) continue;
    seen.add(src.id);
    out.push(`    - ${src.title}: ${src.url}`);
  }
  out.push('');
  if (e.causes.length === 0) {
    out.push('No cause in rdprobe\'s catalogue produces this code: it arises in a phase rdprobe does not observe (after logon, licensing or policy checks).');
    return out.join('\n');
  }
  out.push(`Causes that produce it (${e.causes.length}), and the observation that tells each apart:`);
  e.causes.forEach((cause, i) => {
    out.push(`  ${i + 1}. ${s.bold(cause.title)}  (${cause.id}, ${cause.category}) — mapping ${flag(cause.documented)}`);
    if (cause.mappingNote) out.push(wrapText(cause.mappingNote, width, '     '));
    out.push(wrapText(`tells it apart: ${cause.tellApart}`, width, '     '));
    if (cause.freerdp) out.push(`     FreeRDP: ${cause.freerdp}`);
    if (cause.nextProbe) out.push(`     probe: ${cause.nextProbe}`);
  });
  return out.join('\n');
}
