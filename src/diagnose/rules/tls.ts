/**
 * TLS (MS-RDPBCGR 5.4.5.1): versions in common, handshake failures, the PMTU black-hole stall, the certificate.
 * Only for profiles whose negotiation leads to TLS (or when the negotiation outcome for the profile is unknown).
 */
import { TLS_VERSIONS, type CertificateInfo, type TlsVersionName } from '../../observation/types.js';
import { ev, reachesTls, type Hit, type Rule, type RuleContext } from './context.js';

const OLD: readonly TlsVersionName[] = ['TLSv1', 'TLSv1.1'];
const VERSION_ALERT = /protocol.?version|unsupported protocol|wrong version|no protocols available|alert 70\b/i;

function outdatedHit(ctx: RuleContext, serverVersions: TlsVersionName[] | null, basis: string, evidence: Hit['evidence'], confidence: Hit['confidence']): Hit | null {
  const client = ctx.profile.tlsVersions;
  // null: the server's versions are unknown but below TLS 1.2.
  const assumed = serverVersions ?? [...OLD];
  const overlap = assumed.filter((v) => client.includes(v));
  const allOld = assumed.every((v) => OLD.includes(v));
  if (!allOld && overlap.length > 0) return null;
  const fails = overlap.length === 0;
  const serverText = serverVersions ? `server accepts only ${serverVersions.join(', ')}` : 'server speaks no TLS ≥ 1.2';
  return {
    cause: 'tls-outdated',
    severity: fails ? 'error' : 'warning',
    summary: fails
      ? `${serverText}, ${ctx.profile.base} offers ${client.join(', ')}: no version in common`
      : `${serverText}: ${ctx.profile.base} still connects (it offers ${overlap.join('/')}), clients with TLS < 1.2 disabled fail`,
    confidence,
    confidenceWhy: basis,
    evidence: [...evidence, { field: 'profile.tlsVersions', value: client.join(', ') }],
    ...(confidence === 'high' ? { nextProbe: null } : { nextProbe: 'rdprobe probe {target}   (TLS version enumeration, on by default)' }),
  };
}

export const tlsVersionRule: Rule = (ctx) => {
  const t = ctx.obs.tls;
  if (!t || !reachesTls(ctx)) return null;
  const v = t.versions;
  if (v) {
    const accepted = TLS_VERSIONS.filter((x) => v[x]?.outcome === 'accepted');
    if (accepted.length > 0) {
      const evidence = TLS_VERSIONS.filter((x) => v[x]).map((x) => ev(`tls.versions.${x}`, v[x]!.outcome, v[x]!.detail));
      // An alert, a FIN or an RST to a version-pinned ClientHello refuses that version; a stall, a timeout, an abort
      // or a local limitation leaves it untested.
      const decisive = (['TLSv1.2', 'TLSv1.3'] as const).every((x) => {
        const o = v[x]?.outcome;
        return o === 'rejected' || o === 'closed' || o === 'reset' || o === 'accepted';
      });
      return outdatedHit(
        ctx,
        accepted,
        decisive ? 'one connection per TLS version, each pinned to that version' : 'some versions could not be tested (stalled/timeout/aborted/error/unsupported locally)',
        evidence,
        decisive ? 'high' : 'medium',
      );
    }
  }
  if (t.outcome === 'ok' && (t.version === 'TLSv1' || t.version === 'TLSv1.1')) {
    return outdatedHit(ctx, [t.version], 'the probe offered up to TLS 1.3 and the server chose this version', [ev('tls.version', t.version)], 'medium');
  }
  if (t.outcome === 'alert' && VERSION_ALERT.test(`${t.alert ?? ''} ${t.error ?? ''}`)) {
    return outdatedHit(
      ctx,
      null,
      'the handshake failed on a version alert; the exact versions the server speaks were not enumerated',
      [ev('tls.outcome', t.outcome), ev('tls.alert', t.alert ?? t.error)],
      'medium',
    );
  }
  return null;
};

export const tlsFailureRule: Rule = (ctx) => {
  const t = ctx.obs.tls;
  if (!t || !reachesTls(ctx)) return null;
  if (t.outcome !== 'alert' && t.outcome !== 'closed' && t.outcome !== 'reset' && t.outcome !== 'error') return null;
  if (t.outcome === 'alert' && VERSION_ALERT.test(`${t.alert ?? ''} ${t.error ?? ''}`)) return null; // tlsVersionRule
  const what = t.outcome === 'alert' ? `a TLS alert (${t.alert ?? 'unnamed'})` : t.outcome === 'closed' ? 'a close (FIN)' : t.outcome === 'reset' ? 'a reset (RST)' : `an error (${t.error ?? 'unknown'})`;
  return {
    cause: 'tls-handshake-failed',
    severity: 'error',
    summary: `the server answered the TLS ClientHello with ${what}${t.bytesReceived ? ` after ${t.bytesReceived} bytes` : ''}`,
    confidence: 'medium',
    confidenceWhy: 'the failure is observed; which server-side reason (certificate/key, cipher suites, outdated TLS that closes silently, middlebox) is not',
    evidence: [
      ev('x224.selected', ctx.obs.x224?.selected),
      ev('tls.outcome', t.outcome),
      ...(t.alert ? [ev('tls.alert', t.alert)] : []),
      ...(t.error ? [ev('tls.error', t.error)] : []),
      ev('tls.bytesReceived', t.bytesReceived ?? 0),
    ],
    note: 'A server that speaks only TLS 1.0/1.1 and closes instead of alerting looks the same; the TLS version enumeration tells them apart.',
    nextProbe: 'rdprobe probe {target}   (TLS version enumeration, on by default)',
  };
};

/** TLS stalled after a successful X.224: the PMTU black-hole signature (PROTOCOL-NOTES §5.5, LAB-NOTES). */
export const tlsStallRule: Rule = (ctx) => {
  const { obs } = ctx;
  const t = obs.tls;
  if (!t || (t.outcome !== 'stalled' && t.outcome !== 'timeout') || !reachesTls(ctx)) return null;
  if (obs.tcp?.outcome !== 'open' || obs.x224?.outcome !== 'selected') return null;
  const p = obs.pmtu;
  const clamp = p?.mssClamp;
  const evidence = [
    ev('tcp.outcome', 'open'),
    ev('x224.selected', obs.x224.selected, 'small packets pass'),
    ev('tls.outcome', t.outcome),
    ev('tls.bytesReceived', t.bytesReceived ?? 0, 'bytes of the server flight that arrived'),
    ...(t.stalledAfterMs !== undefined ? [ev('tls.stalledAfterMs', t.stalledAfterMs)] : []),
  ];
  const hole = t.stallEvidence === 'hole' || (t.kernel?.outOfOrderPackets ?? 0) > 0;
  if (t.kernel?.outOfOrderPackets) {
    evidence.push(
      ev('tls.kernel.outOfOrderPackets', t.kernel.outOfOrderPackets, `the tail of the flight arrived beyond a hole (last segment ${t.kernel.rcvMss} bytes); the segments before it never did`),
    );
  }
  if (p) {
    evidence.push(ev('pmtu.outcome', p.outcome));
    if (p.pathMtu !== undefined) evidence.push(ev('pmtu.pathMtu', p.pathMtu));
    if (p.bounds) evidence.push(ev('pmtu.bounds', p.bounds, `DF packets of ${p.bounds.passes} bytes pass, ${p.bounds.lost} are lost without ICMP`));
    if (clamp) evidence.push(ev('pmtu.mssClamp', clamp));
    if (p.recommendedMtu !== undefined) evidence.push(ev('pmtu.recommendedMtu', p.recommendedMtu));
  }
  const mtuText = ctx.vars.mtu !== undefined ? ` (path MTU ≈ ${ctx.vars.mtu})` : '';
  const stallText = `TCP and X.224 pass, the server's TLS flight stalls after ${t.bytesReceived ?? 0} bytes`;
  const blackHole = (confidence: Hit['confidence'], why: string, extra = ''): Hit => ({
    cause: 'pmtu-black-hole',
    severity: 'error',
    summary: `${stallText}${mtuText}${extra}`,
    confidence,
    confidenceWhy: why,
    evidence,
    ...(confidence === 'high' ? { nextProbe: null } : {}),
  });
  const notMtu = (confidence: Hit['confidence'], why: string): Hit => ({
    cause: 'tls-handshake-failed',
    severity: 'error',
    summary: `the server stops sending mid-handshake (${t.bytesReceived ?? 0} bytes) — ${why}`,
    confidence,
    confidenceWhy: why,
    evidence,
    note: 'A hung TLS stack, a middlebox holding the connection, or a server waiting on a slow certificate key are the usual non-MTU reasons.',
    nextProbe: null,
  });

  if (clamp?.defaultStalled && clamp.clampedOk) {
    return blackHole('high', `the same handshake completed with the MSS clamped to ${clamp.clampedMss ?? '?'}: only packet size differs`);
  }
  if (p?.outcome === 'black-hole') {
    return blackHole('high', 'DF probes above a size are lost without any ICMP while smaller ones pass, and the TLS flight stalls');
  }
  if (clamp && clamp.defaultStalled && clamp.clampedOk === false) {
    return notMtu('medium', `it stalls even with the MSS clamped to ${clamp.clampedMss ?? '?'}, so packet size is not the cause`);
  }
  const localMtu = p?.localMtu ?? 1500;
  if (p?.outcome === 'measured' && p.pathMtu !== undefined) {
    if (p.pathMtu < localMtu) {
      return blackHole('medium', `the path MTU is ${p.pathMtu} (< ${localMtu}); ICMP reached us, but the server→client direction may still drop it`);
    }
    return notMtu('low', `the path carries ${p.pathMtu}-byte packets, so a black hole is unlikely`);
  }
  if (t.outcome === 'stalled' && hole) {
    return blackHole(
      'medium',
      "the kernel holds the tail of the server's flight beyond a sequence gap that no retransmission filled: the large segments are lost on the way; confirm the size with DF probes",
    );
  }
  if (t.outcome === 'stalled' && (t.bytesReceived ?? 0) > 0) {
    return blackHole('medium', 'part of the server\'s flight arrived and then nothing: the classic black-hole signature, not yet confirmed by DF probes');
  }
  return blackHole('low', 'nothing of the server\'s flight arrived; a black hole fits, but so does a hung server — confirm with DF probes');
};

/** A black hole found by the DF probes while the TLS handshake itself passed (small server flight). */
export const pmtuRule: Rule = (ctx) => {
  const p = ctx.obs.pmtu;
  if (!p) return null;
  const t = ctx.obs.tls;
  if (t && (t.outcome === 'stalled' || t.outcome === 'timeout') && reachesTls(ctx)) return null; // tlsStallRule
  const localMtu = p.localMtu ?? 1500;
  const evidence = [
    ev('pmtu.outcome', p.outcome),
    ...(p.bounds ? [ev('pmtu.bounds', p.bounds)] : []),
    ...(p.pathMtu !== undefined ? [ev('pmtu.pathMtu', p.pathMtu)] : []),
    ev('pmtu.localMtu', localMtu),
    ...(p.method ? [ev('pmtu.method', p.method)] : []),
  ];
  if (p.outcome === 'black-hole') {
    // A TLS flight larger than one full-size segment got through: TCP is already protected (MSS clamping on the path).
    const fullSegmentPassed = t?.outcome === 'ok' && (t.bytesReceived ?? 0) > localMtu - 40;
    if (t) evidence.push(ev('tls.outcome', t.outcome), ev('tls.bytesReceived', t.bytesReceived ?? 0));
    return {
      cause: 'pmtu-black-hole',
      severity: fullSegmentPassed ? 'warning' : 'error',
      summary: fullSegmentPassed
        ? `DF probes above ${p.bounds?.passes ?? ctx.vars.mtu ?? '?'} bytes vanish without ICMP, yet the ${t!.bytesReceived}-byte TLS flight passed: TCP looks clamped, other traffic may still stall`
        : `DF probes above ${p.bounds?.passes ?? ctx.vars.mtu ?? '?'} bytes vanish without ICMP: the handshake passed (small server flight), full-size session packets will stall`,
      confidence: fullSegmentPassed ? 'low' : 'medium',
      confidenceWhy: fullSegmentPassed
        ? 'the probes say black hole, but a full-size TCP flight arrived'
        : 'the black hole is measured (client→server DF probes); that the server→client direction drops the same sizes is inferred',
      evidence,
      nextProbe: null,
    };
  }
  if (p.outcome === 'measured' && p.pathMtu !== undefined && p.pathMtu < localMtu) {
    return {
      cause: 'pmtu-reduced',
      severity: 'info',
      summary: `path MTU ${p.pathMtu} < local MTU ${localMtu}; routers report it with ICMP, so TCP adapts`,
      confidence: 'high',
      confidenceWhy: 'measured with DF probes and ICMP fragmentation-needed answers',
      evidence: [...evidence, ...(p.reportingRouter ? [ev('pmtu.reportingRouter', p.reportingRouter)] : [])],
      nextProbe: null,
    };
  }
  return null;
};

// ---------------------------------------------------------------------------------------------------------------
// Certificate

/** IPv4 dotted quad or anything with a colon (host names never contain one): enough to pick SAN entry types. */
function isIP(s: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(s) || s.includes(':');
}

function certNames(c: CertificateInfo): { dns: string[]; ips: string[] } {
  const dns: string[] = [];
  const ips: string[] = [];
  for (const raw of c.san) {
    const m = /^\s*(DNS|IP Address|IP)\s*:\s*(.+?)\s*$/i.exec(raw);
    const value = m ? m[2] : raw.trim();
    const kind = m ? (m[1].toUpperCase() === 'DNS' ? 'dns' : 'ip') : isIP(value) ? 'ip' : 'dns';
    (kind === 'dns' ? dns : ips).push(value.toLowerCase().replace(/\.$/, ''));
  }
  if (c.subjectCN) (isIP(c.subjectCN) ? ips : dns).push(c.subjectCN.toLowerCase().replace(/\.$/, ''));
  return { dns, ips };
}

function nameMatches(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  if (!pattern.startsWith('*.')) return false;
  const rest = pattern.slice(2);
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === rest;
}

export function certificateMatchesHost(c: CertificateInfo, hostRaw: string): boolean {
  const host = hostRaw.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  const { dns, ips } = certNames(c);
  if (isIP(host)) return ips.includes(host);
  return dns.some((d) => nameMatches(d, host));
}

export const certificateRule: Rule = (ctx) => {
  const t = ctx.obs.tls;
  const c = t?.certificate;
  if (!c || !reachesTls(ctx)) return null;
  const hits: Hit[] = [];
  const subject = c.subjectCN ?? c.subject;
  if (c.expired) {
    hits.push({
      cause: 'cert-expired',
      severity: 'warning',
      summary: `the certificate for ${subject} expired ${Math.abs(c.daysLeft)} day(s) ago (notAfter ${c.notAfter})${c.selfSigned ? ', self-signed' : ''}`,
      confidence: 'high',
      confidenceWhy: 'read from the certificate the server presented, against the probe\'s clock',
      evidence: [ev('tls.certificate.notAfter', c.notAfter), ev('tls.certificate.daysLeft', c.daysLeft), ev('tls.certificate.selfSigned', c.selfSigned)],
    });
  }
  if (c.notYetValid) {
    const skew = ctx.obs.credssp?.ntlm?.clockSkewMs;
    const evidence = [ev('tls.certificate.notBefore', c.notBefore), ev('source.startedAt', ctx.obs.source.startedAt)];
    if (skew !== undefined) evidence.push(ev('credssp.ntlm.clockSkewMs', skew, 'server clock minus ours'));
    hits.push({
      cause: 'cert-not-yet-valid',
      severity: 'warning',
      summary: `the certificate for ${subject} is valid only from ${c.notBefore}${skew !== undefined && Math.abs(skew) > 300_000 ? ` (server clock differs by ${Math.round(skew / 60_000)} min)` : ''}`,
      confidence: 'high',
      confidenceWhy: 'read from the certificate the server presented, against the probe\'s clock',
      evidence,
    });
  }
  if (/rsa/i.test(c.keyType) && c.keyBits > 0 && c.keyBits < 2048) {
    const min = ctx.profile.minRsaBits;
    const fails = min !== undefined && c.keyBits < min;
    hits.push({
      cause: 'cert-weak-key',
      severity: fails ? 'error' : 'warning',
      summary: fails
        ? `the certificate has a ${c.keyBits}-bit RSA key; ${ctx.profile.base} refuses keys under ${min} bits`
        : `the certificate has a ${c.keyBits}-bit RSA key; ${ctx.profile.base} accepts it, FreeRDP/macOS clients refuse it`,
      confidence: fails ? 'medium' : 'high',
      confidenceWhy: fails
        ? 'the key size is read from the certificate; the client\'s refusal depends on its TLS library security level'
        : 'the key size is read from the certificate',
      evidence: [ev('tls.certificate.keyType', c.keyType), ev('tls.certificate.keyBits', c.keyBits), ...(min ? [ev('profile.minRsaBits', min)] : [])],
    });
  }
  const host = ctx.obs.source.host;
  if (!certificateMatchesHost(c, host)) {
    const names = [...new Set([...(c.subjectCN ? [c.subjectCN] : []), ...c.san])];
    hits.push({
      cause: 'cert-name-mismatch',
      severity: c.selfSigned ? 'info' : 'warning',
      summary: `the certificate names ${names.join(', ') || '(nothing)'}, not "${host}"${c.selfSigned ? ' (self-signed: the client warns anyway)' : ''}`,
      confidence: 'high',
      confidenceWhy: 'compared the subject CN and subjectAltName entries with the name used to connect',
      evidence: [ev('source.host', host), ev('tls.certificate.subjectCN', c.subjectCN), ev('tls.certificate.san', c.san), ev('tls.certificate.selfSigned', c.selfSigned)],
    });
  }
  return hits;
};

export const TLS_RULES: Rule[] = [tlsVersionRule, tlsFailureRule, tlsStallRule, pmtuRule, certificateRule];
