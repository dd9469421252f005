import { loadTable } from './cli-table.js';
import type { Observation, ProtocolResult } from '../observation/types.js';

/**
 * The human report of one probe: a table per phase and a one-line summary. Formatting only — every word here comes
 * from a field of the Observation.
 */
export function renderProbe(obs: Observation, opts: { color?: boolean } = {}): string {
  const out: string[] = [];
  const bold = (s: string) => (opts.color ? `\x1b[1m${s}\x1b[0m` : s);
  const table = (head?: string[]) =>
    new (loadTable())({
      head: head ?? [],
      style: { head: [], border: [] },
      wordWrap: true,
      ...(head?.length === 2 ? { colWidths: [24, 76] } : {}),
    });
  const kv = (title: string, rows: [string, unknown][]) => {
    const t = table();
    for (const [k, v] of rows) if (v !== undefined && v !== null && v !== '') t.push({ [k]: String(v) });
    out.push(bold(title), t.toString());
  };

  out.push(bold(`rdprobe ${obs.tool.version} — ${obs.source.target} (${obs.source.address ?? 'unresolved'}:${obs.source.port})`));
  out.push(summaryLine(obs));
  out.push('');

  if (obs.dns) {
    kv('DNS', [
      ['outcome', obs.dns.outcome + (obs.dns.note ? ` (${obs.dns.note})` : '')],
      ['addresses', obs.dns.addresses.map((a) => a.address).join(', ') || '—'],
      ['code', obs.dns.code],
      ['time', `${obs.dns.ms} ms`],
    ]);
  }
  if (obs.tcp) {
    kv('TCP', [
      ['outcome', obs.tcp.outcome],
      ['address', `${obs.tcp.address}:${obs.tcp.port}`],
      ['errno', obs.tcp.errno],
      ['detail', obs.tcp.message],
      ['time', `${obs.tcp.ms} ms`],
    ]);
  }
  if (obs.x224) {
    const x = obs.x224;
    kv('X.224 negotiation', [
      ['offered', `${x.requested.join('|') || '(no RDP_NEG_REQ)'} (0x${x.requestedMask.toString(16)})`],
      ['outcome', x.outcome],
      ['selected', x.selected !== undefined ? `${x.selected} (0x${(x.selectedMask ?? 0).toString(16)})` : undefined],
      ['flags', x.flags ? `0x${x.flags.value.toString(16).padStart(2, '0')} ${x.flags.names.join(', ')}` : undefined],
      ['failure', x.failure ? `${x.failure.name} (${x.failure.value})` : undefined],
      ['CC source ref', x.sourceRef !== undefined ? `0x${x.sourceRef.toString(16).padStart(4, '0')}` : undefined],
      ['detail', x.detail],
      ['time', `${x.ms} ms`],
    ]);
  }
  if (obs.protocols) {
    const t = table(['protocol', 'result']);
    for (const [p, r] of Object.entries(obs.protocols)) t.push([p, protocolText(r!)]);
    out.push(bold('Security protocols (one connection each)'), t.toString());
  }
  if (obs.security) {
    const s = obs.security;
    const yn = (v: boolean | null) => (v === null ? 'unknown' : v ? 'yes' : 'no');
    kv('Security facts', [
      ['NLA required', yn(s.nlaRequired)],
      ['NLA supported', yn(s.nlaSupported)],
      ['TLS required', yn(s.tlsRequired)],
      ['TLS (SSL) accepted', yn(s.tlsSupported)],
      ['Standard RDP Security', yn(s.standardRdpAllowed)],
    ]);
  }
  if (obs.tls) {
    const t = obs.tls;
    const c = t.certificate;
    kv(`TLS${t.over ? ` (over ${t.over})` : ''}`, [
      ['outcome', t.outcome],
      ['version', t.version],
      ['cipher', t.cipher ? t.cipher.standardName ?? t.cipher.name : undefined],
      ['server flight', t.bytesReceived !== undefined ? `${t.bytesReceived} bytes${t.firstByteMs !== undefined ? `, first byte after ${t.firstByteMs} ms` : ''}` : undefined],
      ['handshake', t.handshakeMs !== undefined ? `${t.handshakeMs} ms` : undefined],
      ['stalled after', t.stalledAfterMs !== undefined ? `${t.stalledAfterMs} ms` : undefined],
      ['alert', t.alert],
      ['error', t.error],
      ['subject', c?.subject],
      ['issuer', c ? `${c.issuer}${c.selfSigned ? ' (self-signed)' : ''}` : undefined],
      ['SAN', c?.san.join(', ')],
      ['valid', c ? `${c.notBefore} → ${c.notAfter} (${c.expired ? 'EXPIRED' : c.notYetValid ? 'NOT YET VALID' : `${c.daysLeft} days left`})` : undefined],
      ['key', c ? `${c.keyType.toUpperCase()} ${c.keyBits} bits, ${c.signatureAlgorithm}` : undefined],
      ['SHA-256', c?.sha256],
      ['versions', t.versions ? Object.entries(t.versions).map(([v, r]) => `${v} ${r!.outcome}${r!.cipher ? ` (${r!.cipher})` : ''}`).join('\n') : undefined],
    ]);
  }
  if (obs.credssp) {
    const c = obs.credssp;
    const n = c.ntlm;
    kv('CredSSP / NTLM', [
      ['outcome', c.outcome],
      ['TSRequest version', c.version],
      ['errorCode', c.errorCode ? `${c.errorCode.name} (0x${c.errorCode.value.toString(16)})` : undefined],
      ['detail', c.detail],
      ['target name', n?.targetName],
      ['NetBIOS computer', n?.nbComputer],
      ['NetBIOS domain', n?.nbDomain],
      ['DNS computer', n?.dnsComputer],
      ['DNS domain', n?.dnsDomain],
      ['DNS tree', n?.dnsTree],
      ['OS version', n?.osVersion],
      ['server time', n?.timestamp ? `${n.timestamp} (skew ${((n.clockSkewMs ?? 0) / 1000).toFixed(1)} s)` : undefined],
      ['authentication', c.auth ? `${c.auth.domain ? `${c.auth.domain}\\` : ''}${c.auth.user}: ${c.auth.outcome}${c.auth.errorCode ? ` ${c.auth.errorCode.name}` : ''}${c.auth.earlyUserAuth ? ` (${c.auth.earlyUserAuth.name})` : ''}${c.auth.detail ? ` — ${c.auth.detail}` : ''}` : undefined],
    ]);
  }
  if (obs.mcs) {
    const m = obs.mcs;
    kv(`MCS / GCC (${m.via === 'tls' ? 'inside TLS' : 'Standard RDP Security'})`, [
      ['outcome', m.outcome],
      ['result', m.result?.name],
      ['RDP version', m.rdpVersion ? `${m.rdpVersion.name} (0x${m.rdpVersion.value.toString(16).padStart(8, '0')})` : undefined],
      ['encryption', m.encryptionMethod ? `${m.encryptionMethod.name}, level ${m.encryptionLevel?.name}` : undefined],
      ['server certificate', m.serverCertificate ? `${m.serverCertificate.type}${m.serverCertificate.keyBits ? `, RSA ${m.serverCertificate.keyBits} bits` : ''}` : undefined],
      ['methods', m.encryptionMethods ? Object.entries(m.encryptionMethods).map(([k, v]) => `${k} ${v}`).join(', ') : undefined],
      ['multitransport', m.multitransport ? `0x${m.multitransport.value.toString(16)} ${m.multitransport.names.join(', ')}` : m.outcome === 'ok' ? 'not offered' : undefined],
      ['channels', m.ioChannel !== undefined ? `I/O ${m.ioChannel}${m.messageChannel !== undefined ? `, message ${m.messageChannel}` : ''}` : undefined],
      ['detail', m.detail],
      ['time', `${m.ms} ms`],
    ]);
  }
  if (obs.udp) {
    kv('UDP transport (MS-RDPEUDP)', [
      ['outcome', obs.udp.outcome],
      ['version', obs.udp.version !== undefined ? `0x${obs.udp.version.toString(16)}` : undefined],
      ['server MTUs', obs.udp.serverMtu ? `up ${obs.udp.serverMtu.up} / down ${obs.udp.serverMtu.down}` : undefined],
      ['attempts', obs.udp.attempts],
      ['detail', obs.udp.detail],
      ['time', obs.udp.ms !== undefined ? `${obs.udp.ms} ms` : undefined],
    ]);
  }
  if (obs.pmtu) {
    const p = obs.pmtu;
    kv('Path MTU', [
      ['outcome', p.outcome],
      ['path MTU', p.pathMtu],
      ['bounds', p.bounds ? `passes ${p.bounds.passes}, lost ${p.bounds.lost}` : undefined],
      ['local MTU', p.localMtu !== undefined ? `${p.localMtu}${p.interface ? ` (${p.interface})` : ''}` : undefined],
      ['method', p.method],
      ['router', p.reportingRouter],
      ['probes', p.probes.map((x) => `${x.size}:${x.result}${x.mtu ? `(mtu ${x.mtu})` : ''}`).join(' ')],
      ['MSS clamp test', p.mssClamp ? `default ${p.mssClamp.defaultStalled ? 'stalled' : 'ok'}${p.mssClamp.clampedMss ? `, MSS ${p.mssClamp.clampedMss} ${p.mssClamp.clampedOk ? 'ok' : 'stalled'}` : ''}` : undefined],
      ['recommended', p.recommendedMtu ? `client MTU ${p.recommendedMtu}, MSS clamp ${p.recommendedMss}` : undefined],
      ['detail', p.detail],
    ]);
  }
  if (obs.stability) {
    const s = obs.stability;
    kv('Stability (repeated TCP handshakes)', [
      ['answered', `${s.ok}/${s.samples} (${s.lost} lost)`],
      ['RTT', `min ${s.rttMs.min} / avg ${s.rttMs.avg} / max ${s.rttMs.max} ms, jitter ${s.rttMs.jitter} ms`],
    ]);
  }
  if (obs.burst) {
    const b = obs.burst;
    kv('Burst (concurrent connections)', [
      ['connections', b.connections],
      ['TCP accepted', b.accepted],
      ['negotiated', b.negotiated],
      ['reset/closed', b.reset],
      ['refused', b.refused],
      ['timeout', b.timeout],
    ]);
  }
  if (obs.errors.length) {
    kv('Errors', obs.errors.map((e) => [`${e.phase} ${e.code}`, e.message.split('\n')[0]]));
  }
  out.push(`${obs.connections} connection(s), ${obs.durationMs} ms`);
  return out.join('\n');
}

function protocolText(r: ProtocolResult): string {
  switch (r.outcome) {
    case 'accepted':
      return `accepted${r.flags ? ` (flags 0x${r.flags.value.toString(16)})` : ''}`;
    case 'not-selected':
      return `not accepted: server selected ${r.selected}`;
    case 'failure':
      return `refused: ${r.failure?.name}`;
    case 'legacy':
      return 'unknown: legacy Confirm without negotiation data';
    case 'refused':
      return `refused without a code: ${r.detail}`;
    default:
      return `${r.outcome}${r.detail ? `: ${r.detail}` : ''}`;
  }
}

/** One line that says what the endpoint is, from the observation alone (no diagnosis). */
export function summaryLine(obs: Observation): string {
  const where = `${obs.source.target}`;
  if (obs.dns && !obs.dns.addresses.length) return `${where}: name does not resolve (${obs.dns.outcome}${obs.dns.code ? ` ${obs.dns.code}` : ''})`;
  if (!obs.tcp) return `${where}: not probed`;
  if (obs.tcp.outcome !== 'open') return `${where}: TCP ${obs.source.port} ${obs.tcp.outcome}${obs.tcp.errno ? ` (${obs.tcp.errno})` : ''}`;
  const x = obs.x224;
  if (!x) return `${where}: TCP ${obs.source.port} open`;
  const parts: string[] = [];
  if (x.outcome === 'selected') parts.push(`selected ${x.selected}`);
  else if (x.outcome === 'failure') parts.push(`negotiation refused: ${x.failure?.name}`);
  else if (x.outcome === 'legacy') parts.push('legacy Confirm (Standard RDP Security)');
  else parts.push(`X.224 ${x.outcome}`);
  const s = obs.security;
  if (s) {
    if (s.nlaRequired) parts.push('NLA required');
    else if (s.nlaSupported) parts.push('NLA supported, not required');
    else if (s.nlaSupported === false) parts.push('no NLA');
    if (s.tlsRequired === false && s.standardRdpAllowed) parts.push('Standard RDP Security allowed');
  }
  if (obs.tls?.outcome === 'ok') parts.push(`${obs.tls.version} ${obs.tls.certificate?.subjectCN ? `CN=${obs.tls.certificate.subjectCN}` : ''}`.trim());
  else if (obs.tls) parts.push(`TLS ${obs.tls.outcome}`);
  if (obs.credssp?.ntlm?.nbComputer) parts.push(`NTLM ${obs.credssp.ntlm.nbDomain ? `${obs.credssp.ntlm.nbDomain}\\` : ''}${obs.credssp.ntlm.nbComputer}${obs.credssp.ntlm.osVersion ? ` ${obs.credssp.ntlm.osVersion}` : ''}`);
  if (obs.mcs?.rdpVersion) parts.push(obs.mcs.rdpVersion.name);
  return `${where}: ${parts.join(', ')}`;
}
