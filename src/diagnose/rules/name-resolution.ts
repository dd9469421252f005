/** Name resolution: the client error 0x104 family (PROTOCOL-NOTES §2.3). */
import { assertNever } from '../../observation/vocab.js';
import type { CauseId } from '../catalog.js';
import { ev, type Hit, type Rule } from './context.js';

export const dnsRule: Rule = ({ obs }) => {
  const d = obs.dns;
  if (!d || d.outcome === 'ok' || d.outcome === 'skipped') return null;
  const host = obs.source.host;
  let cause: CauseId;
  let summary: string;
  switch (d.outcome) {
    case 'nxdomain':
      cause = 'dns-nxdomain';
      summary = `"${host}" does not exist in DNS (NXDOMAIN)`;
      break;
    case 'nodata':
      cause = 'dns-nxdomain';
      summary = `"${host}" exists but has no address record (NODATA)`;
      break;
    case 'timeout':
      cause = 'dns-timeout';
      summary = `no DNS answer for "${host}" within ${Math.round(d.ms)} ms`;
      break;
    case 'servfail':
    case 'refused':
    case 'error':
      cause = 'dns-servfail';
      summary = `the DNS server failed to resolve "${host}" (${d.outcome.toUpperCase()}${d.code ? `, ${d.code}` : ''})`;
      break;
    // the whole probe was aborted during the lookup: nothing measured, not the resolver's fault
    case 'aborted':
      return null;
    default:
      return assertNever(d.outcome, 'dns outcome');
  }
  const evidence = [ev('dns.outcome', d.outcome), ev('source.host', host)];
  if (d.code) evidence.push(ev('dns.code', d.code));
  evidence.push(ev('dns.ms', d.ms));
  // "The name fails while the address answers": the probe reached the host by address anyway.
  const addressAnswers = obs.tcp?.outcome === 'open';
  if (addressAnswers) {
    evidence.push(ev('tcp.outcome', obs.tcp!.outcome, `the address ${obs.tcp!.address} answers on TCP ${obs.tcp!.port}`));
    summary += ' — the address answers, only the name fails';
  }
  const hit: Hit = {
    cause,
    severity: 'error',
    summary,
    confidence: addressAnswers || cause !== 'dns-timeout' ? 'high' : 'medium',
    confidenceWhy: addressAnswers
      ? 'the name failed while the host answered by address: the failure is the name alone'
      : cause === 'dns-timeout'
        ? 'no answer at all can be transient or specific to this machine\'s resolver; the client may use another one'
        : 'the resolver answered with an explicit error; valid as long as the client uses the same resolver as the probe',
    evidence,
  };
  if (addressAnswers) hit.nextProbe = null;
  return hit;
};

export const NAME_RESOLUTION_RULES: Rule[] = [dnsRule];
