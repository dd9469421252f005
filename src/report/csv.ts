/**
 * `--format csv`: one row per host, RFC 4180 quoting, a header row, and columns that never change order or
 * meaning (new columns are only ever appended). Empty cell = not observed. The summary goes to stderr.
 *
 * Text that came from the remote side (certificate subject, NTLM names, verdict) is neutralised against spreadsheet
 * formula injection: a leading = + - @ TAB or CR gets a ' prefix (OWASP "CSV Injection").
 */
import type { Writable } from 'node:stream';
import type { HostRecord, ScanSummary } from '../scan/summary.js';
import { ChunkedSink } from './atomic-write.js';
import type { ScanWriter } from './ndjson.js';

type Cell = string | number | boolean | undefined | null;
interface Column {
  name: string;
  get(r: HostRecord): Cell;
  /** Free text from the network: neutralise formula prefixes. */
  text?: boolean;
}

const o = (r: HostRecord) => r.observation;

/** The stable column list (append only). */
export const CSV_COLUMNS: readonly Column[] = [
  { name: 'target', get: (r) => r.target },
  { name: 'host', get: (r) => r.host, text: true },
  { name: 'address', get: (r) => r.address },
  { name: 'port', get: (r) => r.port },
  { name: 'outcome', get: (r) => r.outcome },
  { name: 'protocol', get: (r) => r.protocol, text: true },
  { name: 'dns', get: (r) => o(r).dns?.outcome },
  { name: 'tcp', get: (r) => o(r).tcp?.outcome },
  { name: 'tcp_ms', get: (r) => o(r).tcp?.ms },
  { name: 'tcp_errno', get: (r) => o(r).tcp?.errno },
  { name: 'x224', get: (r) => o(r).x224?.outcome },
  { name: 'x224_ms', get: (r) => o(r).x224?.ms },
  { name: 'requested', get: (r) => o(r).x224?.requested.join('|') },
  { name: 'selected', get: (r) => o(r).x224?.selected, text: true },
  { name: 'failure', get: (r) => o(r).x224?.failure?.name, text: true },
  { name: 'neg_flags', get: (r) => o(r).x224?.flags?.names.join('|'), text: true },
  { name: 'source_ref', get: (r) => (o(r).x224?.sourceRef !== undefined ? `0x${o(r).x224!.sourceRef!.toString(16).padStart(4, '0')}` : undefined) },
  { name: 'standard_rdp_allowed', get: (r) => o(r).security?.standardRdpAllowed },
  { name: 'tls_required', get: (r) => o(r).security?.tlsRequired },
  { name: 'nla_supported', get: (r) => o(r).security?.nlaSupported },
  { name: 'nla_required', get: (r) => o(r).security?.nlaRequired },
  { name: 'tls', get: (r) => o(r).tls?.outcome },
  { name: 'tls_version', get: (r) => o(r).tls?.version, text: true },
  { name: 'tls_cipher', get: (r) => o(r).tls?.cipher?.name, text: true },
  { name: 'cert_subject', get: (r) => o(r).tls?.certificate?.subject, text: true },
  { name: 'cert_days_left', get: (r) => o(r).tls?.certificate?.daysLeft },
  { name: 'cert_self_signed', get: (r) => o(r).tls?.certificate?.selfSigned },
  { name: 'cert_key_bits', get: (r) => o(r).tls?.certificate?.keyBits },
  { name: 'credssp', get: (r) => o(r).credssp?.outcome },
  { name: 'credssp_version', get: (r) => o(r).credssp?.version },
  { name: 'ntlm_computer', get: (r) => o(r).credssp?.ntlm?.dnsComputer ?? o(r).credssp?.ntlm?.nbComputer, text: true },
  { name: 'ntlm_domain', get: (r) => o(r).credssp?.ntlm?.dnsDomain ?? o(r).credssp?.ntlm?.nbDomain, text: true },
  { name: 'os_version', get: (r) => o(r).credssp?.ntlm?.osVersion, text: true },
  { name: 'mcs', get: (r) => o(r).mcs?.outcome },
  { name: 'rdp_version', get: (r) => o(r).mcs?.rdpVersion?.name, text: true },
  { name: 'udp', get: (r) => o(r).udp?.outcome },
  { name: 'path_mtu', get: (r) => o(r).pmtu?.pathMtu },
  { name: 'healthy', get: (r) => r.diagnosis?.healthy },
  { name: 'client_error', get: (r) => r.diagnosis?.clientError, text: true },
  { name: 'cause', get: (r) => r.diagnosis?.causeId },
  { name: 'findings', get: (r) => r.diagnosis?.findings.join('|') },
  { name: 'verdict', get: (r) => r.diagnosis?.line, text: true },
  { name: 'attempts', get: (r) => r.attempts },
  { name: 'ms', get: (r) => r.ms },
  { name: 'connections', get: (r) => o(r).connections },
  { name: 'started_at', get: (r) => o(r).source.startedAt },
  { name: 'errors', get: (r) => o(r).errors.map((e) => `${e.phase}:${e.code}`).join('|'), text: true },
];

export function csvCell(v: Cell, text = false): string {
  if (v === undefined || v === null) return '';
  let s = typeof v === 'string' ? v : String(v);
  if (text && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvHeader(): string {
  return CSV_COLUMNS.map((c) => c.name).join(',');
}

export function csvRow(r: HostRecord): string {
  return CSV_COLUMNS.map((c) => csvCell(c.get(r), c.text)).join(',');
}

export class CsvWriter implements ScanWriter {
  private started = false;

  private readonly sink: ChunkedSink;

  constructor(out: Writable) {
    this.sink = new ChunkedSink(out);
  }

  host(r: HostRecord): Promise<void> | undefined {
    const head = this.started ? '' : `${csvHeader()}\r\n`;
    this.started = true;
    return this.sink.push(`${head}${csvRow(r)}\r\n`);
  }

  async end(_summary: ScanSummary): Promise<void> {
    if (!this.started) this.sink.push(`${csvHeader()}\r\n`);
    await this.sink.flush();
    this.started = true;
  }
}
