/** The human form of a scan summary (stderr for ndjson/json/csv, after the rows for the table). Formatting only. */
import type { ScanSummary } from '../scan/summary.js';

const n = (x: number) => x.toLocaleString('en-US');

function counts(m: Record<string, number>): string {
  const e = Object.entries(m);
  return e.length ? e.map(([k, v]) => `${k} ${n(v)}`).join(' · ') : '—';
}

export function renderSummary(s: ScanSummary, opts: { color?: boolean; resumeHint?: string } = {}): string {
  const bold = (t: string) => (opts.color ? `\x1b[1m${t}\x1b[0m` : t);
  const out: string[] = [];
  const secs = s.elapsedMs !== undefined ? `${(s.elapsedMs / 1000).toFixed(1)} s` : undefined;
  const rate = s.rate !== undefined ? `${n(Math.round(s.rate))} hosts/s` : undefined;
  const head = [`${n(s.targets.hosts)} host${s.targets.hosts === 1 ? '' : 's'}`];
  if (secs) head.push(`in ${secs}${rate ? ` (${rate})` : ''}`);
  if (s.depth) head.push(`depth ${s.depth}`);
  if (s.shard) head.push(`shard ${s.shard}`);
  out.push(bold(`Scan ${s.interrupted ? 'interrupted' : 'done'}: ${head.join(', ')}`));
  if (s.interrupted && s.targets.notScanned) {
    out.push(`  not scanned: ${n(s.targets.notScanned)}${opts.resumeHint ? ` — continue with --resume ${opts.resumeHint}` : ' — continue with --resume <results>'}`);
  }
  out.push(`  outcome:   ${counts(s.byOutcome)}`);
  if (Object.keys(s.byProtocol).length) out.push(`  protocol:  ${counts(s.byProtocol)}`);
  if (Object.keys(s.byDiagnosis).length) out.push(`  diagnosis: ${counts(s.byDiagnosis)}`);
  if (Object.keys(s.byClientError).length) out.push(`  client errors: ${counts(s.byClientError)}`);
  const t = s.targets;
  const extra: string[] = [];
  if (t.planned !== undefined) extra.push(`${n(t.planned)} planned`);
  if (t.resumed) extra.push(`${n(t.resumed)} already done (--resume)`);
  if (t.duplicates) extra.push(`${n(t.duplicates)} duplicate${t.duplicates === 1 ? '' : 's'} dropped`);
  if (t.excluded) extra.push(`${n(t.excluded)} excluded`);
  if (t.bad) extra.push(`${n(t.bad)} bad target${t.bad === 1 ? '' : 's'} skipped`);
  if (extra.length) out.push(`  targets:   ${extra.join(', ')}`);
  if (s.merged) out.push(`  merged:    ${s.merged.files.length} file(s), ${n(s.merged.duplicates)} duplicate host record(s) dropped`);
  if (s.failOn) out.push(`  --fail-on ${s.failOn.patterns.join(',')}: ${n(s.failOn.hosts)} host(s) matched`);
  return out.join('\n');
}
