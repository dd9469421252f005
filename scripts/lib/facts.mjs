/**
 * Map nmap's rdp-enum-encryption / rdp-ntlm-info output (parsed by nmap-parse.mjs) and rdprobe's Observation
 * (src/observation/types.ts) onto the SAME list of facts, so the two can be compared row by row.
 *
 * A fact value is {cmp, show, code?}: `cmp` is what equality looks at, `show` what the table prints, `code` an
 * optional RDP_NEG_FAILURE name compared only when both sides have one. A tool that tried and could not answer gives
 * {failed: reason}. A tool that does not cover the fact gives undefined.
 *
 * Security-protocol mapping (the delicate part):
 *   nmap rdp-enum-encryption opens one connection per "security layer" and sends requestedProtocols =
 *     Native RDP 0, SSL 1, "CredSSP (NLA)" 3 (= SSL|HYBRID), RDSTLS 4, "CredSSP with Early User Auth" 8 (HYBRID_EX).
 *   It prints SUCCESS whenever the answer is an RDP_NEG_RSP (type 2), WITHOUT looking at selectedProtocol; FAILED (code)
 *   for RDP_NEG_FAILURE (only with -d); Unknown for a CC without negotiation data.
 *   rdprobe enumerates each protocol ALONE (RDP 0, SSL 1, HYBRID 2, RDSTLS 4, HYBRID_EX 8, RDSAAD 0x10) and calls it
 *   `accepted` only when selectedProtocol equals the protocol requested (ProtocolResult in types.ts).
 *   So the fact compared is "the server selects protocol P when the client asks for it":
 *     Native RDP ↔ RDP, SSL ↔ SSL, RDSTLS ↔ RDSTLS, Early User Auth ↔ HYBRID_EX (same request on both sides), and
 *     "CredSSP (NLA)" ↔ HYBRID. nmap's request 3 also offers SSL, so a server that answers it with selected SSL (xrdp
 *     TLS-only) or RDP (xrdp RDP-only) makes nmap print SUCCESS although CredSSP was not chosen; for the true fact
 *     "CredSSP is selectable" rdprobe's HYBRID-alone request is the right probe (a server that supports HYBRID selects
 *     it from SSL|HYBRID too, MS-RDPBCGR 3.3.5.3.1). Because the requests differ, failure codes are not compared on
 *     that row.
 */
import { ENUM, NTLM, NMAP_CIPHERS } from './nmap-parse.mjs';

/** Protocol rows: nmap's name, the request nmap sends, rdprobe's ProtocolName and the request rdprobe sends. */
export const PROTOCOL_ROWS = [
  { key: 'proto:RDP', nmap: 'Native RDP', nmapReq: 0, rdprobe: 'RDP', rdprobeReq: 0 },
  { key: 'proto:SSL', nmap: 'SSL', nmapReq: 1, rdprobe: 'SSL', rdprobeReq: 1 },
  { key: 'proto:HYBRID', nmap: 'CredSSP (NLA)', nmapReq: 3, rdprobe: 'HYBRID', rdprobeReq: 2, noCodeCompare: true },
  { key: 'proto:RDSTLS', nmap: 'RDSTLS', nmapReq: 4, rdprobe: 'RDSTLS', rdprobeReq: 4 },
  { key: 'proto:HYBRID_EX', nmap: 'CredSSP with Early User Auth', nmapReq: 8, rdprobe: 'HYBRID_EX', rdprobeReq: 8 },
];

/** rdp-ntlm-info keys ↔ NtlmInfo fields (MS-NLMP 2.2.2.1 AV_PAIRs; Product_Version from 2.2.2.10 VERSION). */
export const NTLM_ROWS = [
  ['Target_Name', 'targetName'],
  ['NetBIOS_Domain_Name', 'nbDomain'],
  ['NetBIOS_Computer_Name', 'nbComputer'],
  ['DNS_Domain_Name', 'dnsDomain'],
  ['DNS_Computer_Name', 'dnsComputer'],
  ['DNS_Tree_Name', 'dnsTree'],
  ['Product_Version', 'osVersion'],
];

/** The comparable facts, in table order. `label` is what the table prints. */
export const FACT_LABELS = {
  port: 'TCP 3389',
  'proto:RDP': 'Native RDP (req 0)',
  'proto:SSL': 'SSL (req 1)',
  'proto:HYBRID': 'CredSSP/NLA (nmap 3, rdprobe 2)',
  'proto:RDSTLS': 'RDSTLS (req 4)',
  'proto:HYBRID_EX': 'CredSSP+Early User Auth (req 8)',
  encLevel: 'Std RDP encryption level',
  encMethods: 'Std RDP methods accepted',
  rdpVersion: 'RDP version (SC_CORE)',
  ...Object.fromEntries(NTLM_ROWS.map(([k]) => [`ntlm:${k}`, `NTLM ${k}`])),
  'ntlm:any': 'NTLM CHALLENGE',
  'ntlm:clock': 'NTLM System_Time vs our clock',
};

const hex8 = (v) => `0x${v.toString(16).padStart(8, '0')}`;
const CLOCK_SYNC_MS = 2_000; // MsvAvTimestamp as printed by nmap has 1 s resolution; lab servers share our kernel clock

// ---------------------------------------------------------------------------------------------------------------
// nmap → facts

/**
 * @param p parseNmap() result
 * @param run the nmap process run ({ startedAt, endedAt } in epoch ms), for System_Time
 */
export function nmapFacts(p, run) {
  const f = {};
  if (!p.port) {
    f.port = { failed: p.done ? 'no port line' : 'nmap did not finish' };
    return f;
  }
  f.port = { cmp: p.port.state, show: `${p.port.state}${p.port.reason ? ` (${p.port.reason})` : ''}` };
  if (p.port.state !== 'open') return f;

  const enc = p.scripts[ENUM];
  if (!enc || enc.status !== 'ok') {
    const why = enc?.status === 'error' ? `Script execution failed${enc.error ? `: ${enc.error.replace(/^.*\/(nselib|scripts)\//, '')}` : ''}` : 'no script output';
    for (const r of PROTOCOL_ROWS) f[r.key] = { failed: why };
    f.encLevel = { failed: why };
    f.encMethods = { failed: why };
    f.rdpVersion = { failed: why };
  } else {
    for (const r of PROTOCOL_ROWS) {
      const s = enc.securityLayer[r.nmap];
      if (!s) {
        // Without -d nmap hides FAILED lines, so a missing line means "not SUCCESS"; with -d every line is printed.
        f[r.key] = p.debug ? undefined : { cmp: 'not accepted', show: 'not listed (FAILED hidden without -d)' };
      } else if (s.result === 'SUCCESS') f[r.key] = { cmp: 'accepted', show: 'SUCCESS' };
      else if (s.result === 'Unknown') f[r.key] = { cmp: 'legacy', show: 'Unknown (CC without negotiation data)' };
      else {
        const code = s.code && s.code !== 'Unknown' ? s.code : undefined;
        f[r.key] = { cmp: 'not accepted', code, show: `FAILED${s.code ? ` (${s.code})` : ''}` };
      }
    }
    if (enc.encryptionLevel) {
      const lv = enc.encryptionLevel;
      f.encLevel = lv.value === null ? { cmp: `?${lv.name}`, show: lv.name } : { cmp: String(lv.value), show: `${lv.name} (${lv.value})` };
    } else {
      const failures = Object.values(enc.ciphers).filter((c) => c === 'FAILURE').length;
      f.encLevel = { cmp: 'n/a', show: failures ? `none (${failures} cipher probes FAILURE)` : 'none reported' };
    }
    const ok = Object.entries(enc.ciphers).filter(([, v]) => v === 'SUCCESS').map(([k]) => NMAP_CIPHERS[k].rdprobe).sort();
    f.encMethods = { cmp: ok.join(',') || 'none', show: ok.length ? ok.join(', ') : 'none' };
    if (enc.protocolVersion) {
      const v = enc.protocolVersion;
      f.rdpVersion = { cmp: v.value === null ? `?${v.text}` : hex8(v.value), show: `${v.value === null ? '' : `${hex8(v.value)} `}${v.text}` };
    }
  }

  const ntlm = p.scripts[NTLM];
  if (ntlm?.status === 'error') {
    f['ntlm:any'] = { failed: `Script execution failed${ntlm.error ? `: ${ntlm.error}` : ''}` };
  } else if (ntlm?.status === 'ok' && Object.keys(ntlm.info ?? {}).length) {
    f['ntlm:any'] = { cmp: 'challenge', show: 'challenge received' };
    for (const [k] of NTLM_ROWS) f[`ntlm:${k}`] = ntlm.info[k] !== undefined ? { cmp: ntlm.info[k], show: ntlm.info[k] } : { cmp: '(absent)', show: '(absent)' };
    if (ntlm.info.System_Time) {
      const t = Date.parse(ntlm.info.System_Time);
      if (Number.isFinite(t) && run) {
        // the exchange happened somewhere inside the nmap run: in sync if the server time falls inside it (±2 s)
        const inSync = t >= run.startedAt - CLOCK_SYNC_MS && t <= run.endedAt + CLOCK_SYNC_MS;
        f['ntlm:clock'] = { cmp: inSync ? 'in sync' : 'skewed', show: `${ntlm.info.System_Time} (${inSync ? 'within the run' : 'outside the run window'})` };
      } else f['ntlm:clock'] = { cmp: '?', show: ntlm.info.System_Time };
    }
  } else {
    // rdp-ntlm-info prints nothing when CredSSP is not possible; -d notes say why
    const why = ntlm?.notes?.find((n) => !/^Sending NTLM NEGOTIATE/.test(n));
    f['ntlm:any'] = { cmp: 'none', show: `none${why ? ` (${why.slice(0, 60)})` : ''}` };
  }
  return f;
}

// ---------------------------------------------------------------------------------------------------------------
// rdprobe Observation → facts

const PORT_STATE = { open: 'open', refused: 'closed', filtered: 'filtered', timeout: 'filtered', unreachable: 'filtered' };

export function rdprobeFacts(obs) {
  const f = {};
  if (!obs?.tcp) {
    f.port = { failed: obs?.errors?.[0]?.message ?? 'no tcp result' };
    return f;
  }
  const st = PORT_STATE[obs.tcp.outcome];
  f.port = st ? { cmp: st, show: `${st} (${obs.tcp.outcome}${obs.tcp.errno ? ` ${obs.tcp.errno}` : ''})` } : { failed: `tcp ${obs.tcp.outcome}` };
  if (obs.tcp.outcome !== 'open') return f;

  const protocols = obs.protocols;
  for (const r of PROTOCOL_ROWS) {
    const pr = protocols?.[r.rdprobe];
    if (!pr) {
      f[r.key] = { failed: protocols ? 'not enumerated' : `no enumeration (x224 ${obs.x224?.outcome ?? 'missing'})` };
      continue;
    }
    switch (pr.outcome) {
      case 'accepted':
        f[r.key] = { cmp: 'accepted', show: `accepted (selected ${pr.selected})` };
        break;
      case 'not-selected':
        f[r.key] = { cmp: 'not accepted', show: `not selected (server chose ${pr.selected})` };
        break;
      case 'failure':
        f[r.key] = { cmp: 'not accepted', code: pr.failure?.name, show: `refused ${pr.failure?.name ?? ''}`.trim() };
        break;
      case 'refused':
        // the server disconnected on purpose (X.224 DR / MCS DPUM) instead of confirming: not accepted, no code
        f[r.key] = { cmp: 'not accepted', show: `refused by disconnect${pr.detail ? ` (${pr.detail})` : ''}` };
        break;
      case 'legacy':
        f[r.key] = { cmp: 'legacy', show: 'legacy CC (no negotiation data)' };
        break;
      default:
        f[r.key] = { failed: `${pr.outcome}${pr.detail ? `: ${pr.detail}` : ''}` };
    }
  }

  const sec = obs.security;
  const mcs = obs.mcs;
  const stdRefused = sec?.standardRdpAllowed === false;
  if (mcs?.via === 'plain' && mcs.outcome === 'ok' && mcs.encryptionLevel) {
    f.encLevel = { cmp: String(mcs.encryptionLevel.value), show: `${mcs.encryptionLevel.name} (${mcs.encryptionLevel.value})` };
  } else if (mcs?.via === 'plain') {
    f.encLevel = { failed: `MCS ${mcs.outcome}${mcs.detail ? `: ${mcs.detail}` : ''}` };
  } else if (stdRefused) {
    f.encLevel = { cmp: 'n/a', show: 'n/a (Standard RDP Security refused)' };
  }
  if (mcs?.encryptionMethods) {
    const ok = Object.entries(mcs.encryptionMethods).filter(([, v]) => v === 'accepted').map(([k]) => k).sort();
    f.encMethods = { cmp: ok.join(',') || 'none', show: ok.length ? ok.join(', ') : 'none' };
  } else if (stdRefused) {
    f.encMethods = { cmp: 'none', show: 'none (Standard RDP Security refused)' };
  }
  if (mcs?.rdpVersion) {
    f.rdpVersion = { cmp: hex8(mcs.rdpVersion.value), show: `${hex8(mcs.rdpVersion.value)} ${mcs.rdpVersion.name} (MCS via ${mcs.via})` };
  } else if (mcs && mcs.outcome !== 'ok') {
    f.rdpVersion = { failed: `MCS ${mcs.outcome}${mcs.detail ? `: ${mcs.detail}` : ''}` };
  }

  const c = obs.credssp;
  if (c?.outcome === 'challenge' && c.ntlm) {
    f['ntlm:any'] = { cmp: 'challenge', show: `challenge received (TSRequest v${c.version ?? '?'})` };
    for (const [k, field] of NTLM_ROWS) f[`ntlm:${k}`] = c.ntlm[field] !== undefined ? { cmp: c.ntlm[field], show: c.ntlm[field] } : { cmp: '(absent)', show: '(absent)' };
    if (c.ntlm.clockSkewMs !== undefined) {
      const inSync = Math.abs(c.ntlm.clockSkewMs) <= CLOCK_SYNC_MS;
      f['ntlm:clock'] = { cmp: inSync ? 'in sync' : 'skewed', show: `${c.ntlm.timestamp} (skew ${c.ntlm.clockSkewMs} ms)` };
    }
  } else if (c) {
    f['ntlm:any'] = { failed: `CredSSP ${c.outcome}${c.detail ? `: ${c.detail}` : ''}` };
  } else if (sec && sec.nlaSupported === false) {
    f['ntlm:any'] = { cmp: 'none', show: 'none (CredSSP not selectable)' };
  }
  return f;
}

// ---------------------------------------------------------------------------------------------------------------
// What rdprobe reports that the two nmap scripts do not

/** [label, value] pairs of facts only rdprobe gives (for the compare table and the bench "reports more" column). */
export function rdprobeExtras(obs) {
  const x = [];
  if (!obs?.tcp) return x;
  if (obs.tcp.outcome !== 'open') {
    x.push(['TCP outcome detail', `${obs.tcp.outcome}${obs.tcp.errno ? ` ${obs.tcp.errno}` : ''} in ${Math.round(obs.tcp.ms)} ms`]);
    return x;
  }
  const sec = obs.security;
  if (sec) {
    const yn = (b) => (b === null || b === undefined ? '?' : b ? 'yes' : 'no');
    x.push(['NLA required', yn(sec.nlaRequired)]);
    x.push(['TLS required', yn(sec.tlsRequired)]);
  }
  const rdsaad = obs.protocols?.RDSAAD;
  if (rdsaad) {
    const how = rdsaad.outcome === 'refused' && /Disconnect Provider Ultimatum/.test(rdsaad.detail ?? '') ? ' (MCS DPUM instead of a CC)' : '';
    x.push(['RDSAAD (req 0x10)', `${rdsaad.outcome}${how}${rdsaad.failure ? ` ${rdsaad.failure.name}` : ''}${rdsaad.selected && rdsaad.outcome !== 'accepted' ? ` (chose ${rdsaad.selected})` : ''}`]);
  }
  if (obs.x224?.sourceRef !== undefined) x.push(['X.224 CC source ref', `0x${obs.x224.sourceRef.toString(16)}${obs.x224.flags ? `, flags ${obs.x224.flags.names.join('|') || obs.x224.flags.value}` : ''}`]);
  const tls = obs.tls;
  if (tls) {
    if (tls.outcome === 'ok') x.push(['TLS handshake', `${tls.version} ${tls.cipher?.name ?? ''} over ${tls.over} in ${Math.round(tls.handshakeMs ?? 0)} ms`.trim()]);
    else x.push(['TLS handshake', `${tls.outcome}${tls.stalledAfterMs !== undefined ? ` after ${Math.round(tls.stalledAfterMs)} ms` : ''}${tls.bytesReceived !== undefined ? `, ${tls.bytesReceived} bytes of the server flight` : ''}${tls.error ? ` (${tls.error})` : ''}`]);
    if (tls.versions) {
      const acc = Object.entries(tls.versions).filter(([, r]) => r.outcome === 'accepted').map(([v]) => v);
      const rej = Object.entries(tls.versions).filter(([, r]) => r.outcome !== 'accepted').map(([v, r]) => `${v} ${r.outcome}`);
      x.push(['TLS versions', `${acc.join(', ') || 'none'}${rej.length ? ` (${rej.join(', ')})` : ''}`]);
    }
    const cert = tls.certificate;
    if (cert) x.push(['TLS certificate', `${cert.subjectCN ?? cert.subject}, ${cert.keyType.toUpperCase()}-${cert.keyBits}, ${cert.selfSigned ? 'self-signed' : `issuer ${cert.issuer}`}, ${cert.daysLeft} days left`]);
  }
  if (obs.mcs?.serverCertificate) {
    const sc = obs.mcs.serverCertificate;
    x.push(['Std RDP server cert', `${sc.type}${sc.keyBits ? ` RSA-${sc.keyBits}` : ''}`]);
  }
  if (obs.credssp?.outcome === 'challenge') {
    const n = obs.credssp.ntlm;
    x.push(['CredSSP', `TSRequest v${obs.credssp.version ?? '?'}; NTLM flags ${n?.negotiateFlags ? `0x${n.negotiateFlags.value.toString(16)}` : '?'}; clock skew ${n?.clockSkewMs ?? '?'} ms`]);
  }
  if (obs.pmtu) x.push(['Path MTU', `${obs.pmtu.outcome}${obs.pmtu.pathMtu ? ` ${obs.pmtu.pathMtu}` : ''}`]);
  for (const e of obs.errors ?? []) x.push([`error (${e.phase})`, `${e.code}: ${e.message.split('\n')[0].slice(0, 80)}`]);
  return x;
}

/** One short phrase: what rdprobe ended with on this host. */
export function rdprobeOutcome(obs) {
  if (!obs?.tcp) return obs?.errors?.[0]?.code ?? 'no result';
  if (obs.tcp.outcome !== 'open') return `tcp ${obs.tcp.outcome}`;
  const parts = [];
  const acc = Object.entries(obs.protocols ?? {}).filter(([, r]) => r.outcome === 'accepted').map(([p]) => p);
  parts.push(`accepts ${acc.join(', ') || 'none'}`);
  if (obs.tls && obs.tls.outcome !== 'ok') parts.push(`TLS ${obs.tls.outcome}${obs.tls.bytesReceived !== undefined ? ` (${obs.tls.bytesReceived} B)` : ''}`);
  if (obs.credssp?.outcome === 'challenge') parts.push(`ntlm ${obs.credssp.ntlm?.nbComputer ?? obs.credssp.ntlm?.targetName ?? '?'}`);
  if (obs.mcs && obs.mcs.outcome !== 'ok') parts.push(`MCS ${obs.mcs.outcome}`);
  const errs = (obs.errors ?? []).map((e) => e.code);
  if (errs.length) parts.push(errs.join(','));
  return parts.join('; ');
}

// ---------------------------------------------------------------------------------------------------------------
// Equality and verdicts

export function isFailed(v) {
  return v !== undefined && v !== null && 'failed' in v;
}

/** Same fact value? Codes count only when both sides carry one and the row sends identical requests. */
export function sameValue(a, b, { noCodeCompare = false } = {}) {
  if (!a || !b || isFailed(a) || isFailed(b)) return false;
  if (a.cmp !== b.cmp) return false;
  if (!noCodeCompare && a.code && b.code && a.code !== b.code) return false;
  return true;
}

export function showValue(v) {
  if (v === undefined || v === null) return '—';
  if (isFailed(v)) return `FAILED: ${v.failed}`;
  return v.show ?? v.cmp;
}
