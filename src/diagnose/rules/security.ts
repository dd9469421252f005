/**
 * Security negotiation, judged for the profile: what the client offers against what the server accepts
 * (RDP_NEG_FAILURE codes, MS-RDPBCGR 2.2.1.2.2; selections the client refuses).
 */
import { assertNever } from '../../observation/vocab.js';
import type { CauseId } from '../catalog.js';
import type { AnswerBasis } from '../negotiation.js';
import { describeOffer, offerText } from '../profiles.js';
import type { Confidence } from '../types.js';
import { ev, type Hit, type Rule, type RuleContext } from './context.js';

function confidenceOf(basis: AnswerBasis | undefined): { confidence: Confidence; why: string } {
  switch (basis) {
    case 'exact':
      return { confidence: 'high', why: 'the server answered exactly this offer' };
    case 'combined':
      return { confidence: 'high', why: 'each protocol of the offer was asked alone and answered; the combination follows MS-RDPBCGR 3.3.5.3.1 selection' };
    case 'facts':
      return { confidence: 'medium', why: 'derived from the security facts of the enumeration, not from this exact offer' };
    case 'implied':
    case undefined:
      return { confidence: 'medium', why: 'implied by the probe\'s own negotiation, which offered something else' };
    default:
      return assertNever(basis, 'answer basis');
  }
}

function requirement(ctx: RuleContext): string {
  const p = ctx.profile;
  if (p.require) return `client requires ${p.require.toUpperCase()}`;
  return p.nla ? 'client requires TLS or NLA' : 'client requires TLS';
}

export const negotiationRule: Rule = (ctx) => {
  const { nego, profile } = ctx;
  const offer = offerText(nego.offered);
  const { confidence, why } = confidenceOf(nego.basis);
  const evidence = [ev('profile.offer', describeOffer(profile), profile.description), ...nego.evidence];

  if (nego.status === 'ok') {
    if (nego.protocol !== 'RDP') return null;
    const how = nego.legacy
      ? 'the server ignored the negotiation (legacy Connection Confirm)'
      : nego.fallback
        ? `after ${nego.fallback.failure.name} the client retries with Standard RDP Security`
        : 'the server selects Standard RDP Security for this offer';
    return {
      cause: 'standard-rdp-security',
      severity: 'warning',
      summary: `${how}: RC4, no server authentication`,
      confidence,
      confidenceWhy: why,
      evidence,
      nextProbe: null,
    };
  }
  if (nego.status !== 'mismatch') return null;

  let cause: CauseId;
  let summary: string;
  const f = nego.failure;
  if (f) {
    switch (f.value) {
      case 5:
        cause = 'nla-required';
        summary = profile.nla
          ? `server requires NLA, the client's offer (${offer}) has no CredSSP`
          : 'server requires NLA, client has NLA off';
        break;
      case 1:
        if (nego.offered.some((p) => p === 'HYBRID' || p === 'HYBRID_EX')) {
          cause = 'nla-unavailable';
          summary = 'server supports TLS but not NLA, client requires NLA';
        } else {
          cause = 'tls-required';
          summary = 'server requires TLS, client offers Standard RDP Security only';
        }
        break;
      case 2:
        cause = 'rdp-security-only';
        summary = `server allows only Standard RDP Security (SSL_NOT_ALLOWED_BY_SERVER), ${requirement(ctx)}`;
        break;
      case 3:
        cause = 'no-certificate';
        summary = 'server has no usable TLS certificate (SSL_CERT_NOT_ON_SERVER)';
        break;
      case 6:
        cause = 'client-cert-required';
        summary = 'server requires TLS with a client certificate (SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER)';
        break;
      default:
        cause = 'negotiation-refused';
        summary = `server refused the offer ${offer} with ${f.name}`;
    }
  } else if (nego.selectedUnacceptable === 'RDP') {
    cause = 'rdp-security-only';
    summary = `server answers ${offer} with Standard RDP Security, ${requirement(ctx)}`;
  } else {
    cause = 'negotiation-refused';
    summary = `server selected ${nego.selectedUnacceptable}, which the client did not offer (${offer})`;
  }
  const hit: Hit = { cause, severity: 'error', summary, confidence, confidenceWhy: why, evidence };
  if (confidence === 'high') hit.nextProbe = null;
  else hit.nextProbe = 'rdprobe probe {target}   (with the per-protocol enumeration, on by default)';
  return hit;
};

export const SECURITY_RULES: Rule[] = [negotiationRule];
