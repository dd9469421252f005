/** The server's first PDU after the X.224 Connection Request (MS-RDPBCGR 2.2.1.2) → the Observation's X224Observation. */
import { decodeDisconnectProviderUltimatum, isDisconnectProviderUltimatum } from '../codec/mcs.js';
import { decodeConnectionConfirm, decodeX224Disconnect, isX224Disconnect, negResponseFlags, selectedProtocolName } from '../codec/x224.js';
import type { X224Observation } from '../observation/types.js';
import { negFailureCoded } from '../observation/vocab.js';

/**
 * Fill `x224` from one complete TPKT PDU: a Connection Confirm with RDP_NEG_RSP ('selected'), RDP_NEG_FAILURE
 * ('failure') or no negotiation data ('legacy'); a refusal that comes as an X.224 Disconnect Request or an MCS
 * Disconnect Provider Ultimatum (xrdp answers an RDSAAD request with a DPUM and closes) is a close with a reason, not a
 * malformed Confirm; bytes that do not decode are 'malformed'. The same mapping serves the live probe and replay.
 */
export function applyConfirm(x224: X224Observation, pdu: Uint8Array): void {
  try {
    if (isX224Disconnect(pdu)) {
      const reason = decodeX224Disconnect(pdu).reason;
      x224.outcome = 'closed';
      x224.disconnect = { kind: 'x224-disconnect-request', reason };
      x224.detail = `X.224 Disconnect Request (${reason.name}) instead of a Connection Confirm`;
      return;
    }
    if (isDisconnectProviderUltimatum(pdu)) {
      const reason = decodeDisconnectProviderUltimatum(pdu).reason;
      x224.outcome = 'closed';
      x224.disconnect = { kind: 'mcs-disconnect-provider-ultimatum', reason };
      x224.detail = `MCS Disconnect Provider Ultimatum (${reason.name}) instead of a Connection Confirm`;
      return;
    }
    const cc = decodeConnectionConfirm(pdu);
    x224.sourceRef = cc.sourceRef;
    if (cc.neg.kind === 'response') {
      x224.outcome = 'selected';
      x224.selectedMask = cc.neg.selectedProtocol;
      x224.selected = selectedProtocolName(cc.neg.selectedProtocol);
      x224.flags = negResponseFlags(cc.neg.flags);
    } else if (cc.neg.kind === 'failure') {
      x224.outcome = 'failure';
      x224.failure = negFailureCoded(cc.neg.code);
    } else {
      x224.outcome = 'legacy';
      x224.detail = 'Connection Confirm without negotiation data (RDP_NEG_RSP absent): Standard RDP Security';
    }
  } catch (e) {
    x224.outcome = 'malformed';
    x224.detail = (e as Error).message;
    x224.bytesReceived = pdu.length;
  }
}
