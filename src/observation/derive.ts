import type { ProtocolEnumeration, ProtocolResult, SecurityFacts } from './types.js';

/**
 * Security facts from the per-protocol enumeration (one connection per protocol). Judged by selectedProtocol, never
 * by PDU type: a server that answers an SSL-only request by selecting PROTOCOL_RDP has not accepted TLS.
 *  - NLA required: an SSL-only request fails with HYBRID_REQUIRED_BY_SERVER (MS-RDPBCGR 2.2.1.2.2) — "supported" is
 *    only that HYBRID or HYBRID_EX can be selected.
 *  - TLS required: a PROTOCOL_RDP request fails (SSL_REQUIRED_BY_SERVER or HYBRID_REQUIRED_BY_SERVER).
 *  - Standard RDP Security allowed: PROTOCOL_RDP is selected, or the server answers with a legacy Confirm.
 */
export function deriveSecurity(p: ProtocolEnumeration): SecurityFacts {
  const basis: string[] = [];
  const say = (name: string, r: ProtocolResult | undefined) =>
    r ? `${name}: ${r.outcome}${r.failure ? ` ${r.failure.name}` : ''}${r.outcome === 'not-selected' && r.selected ? ` (selected ${r.selected})` : ''}` : `${name}: not probed`;
  const decided = (r: ProtocolResult | undefined) => r !== undefined && r.outcome !== 'no-answer' && r.outcome !== 'error';
  const ok = (r: ProtocolResult | undefined) => r?.outcome === 'accepted';

  const rdp = p.RDP;
  const ssl = p.SSL;
  const hybrid = p.HYBRID;
  const hybridEx = p.HYBRID_EX;

  let standardRdpAllowed: boolean | null = null;
  if (decided(rdp)) standardRdpAllowed = rdp!.outcome === 'accepted' || rdp!.outcome === 'legacy';
  basis.push(say('RDP', rdp));

  let tlsSupported: boolean | null = null;
  if (decided(ssl)) tlsSupported = ok(ssl);
  basis.push(say('SSL', ssl));

  let tlsRequired: boolean | null = null;
  if (decided(rdp)) tlsRequired = rdp!.outcome === 'failure' && /SSL_REQUIRED|HYBRID_REQUIRED|SSL_WITH_USER_AUTH/.test(rdp!.failure?.name ?? '');
  if (tlsRequired === false && rdp?.outcome === 'not-selected' && rdp.selected !== 'RDP') tlsRequired = true;

  let nlaSupported: boolean | null = null;
  if (decided(hybrid) || decided(hybridEx)) nlaSupported = ok(hybrid) || ok(hybridEx) || (hybridEx?.outcome === 'not-selected' && hybridEx.selected === 'HYBRID');
  basis.push(say('HYBRID', hybrid), say('HYBRID_EX', hybridEx));

  let nlaRequired: boolean | null = null;
  if (decided(ssl)) {
    nlaRequired =
      (ssl!.outcome === 'failure' && ssl!.failure?.name === 'HYBRID_REQUIRED_BY_SERVER') ||
      (ssl!.outcome === 'not-selected' && (ssl!.selected === 'HYBRID' || ssl!.selected === 'HYBRID_EX'));
    if (nlaRequired && standardRdpAllowed) nlaRequired = false;
  }
  return { standardRdpAllowed, tlsSupported, tlsRequired, nlaSupported, nlaRequired, basis };
}
