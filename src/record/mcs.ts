/** The server's answer to MCS Connect-Initial (MS-RDPBCGR 2.2.1.4) → the Observation's McsObservation fields. */
import { decodeConnectResponse, isDisconnectProviderUltimatum } from '../codec/mcs.js';
import type { McsObservation } from '../observation/types.js';
import { serverCertificateInfo } from './gcc.js';

/**
 * Fill `obs` from one complete TPKT PDU the server sent after the Connect-Initial: an MCS Disconnect Provider
 * Ultimatum is outcome 'closed', a Connect-Response 'ok' or 'rejected' (its result) with the GCC server data, bytes
 * that do not decode 'malformed'. The same mapping serves the live probe and replay.
 */
export function applyConnectResponse(obs: McsObservation, pdu: Uint8Array): void {
  try {
    if (isDisconnectProviderUltimatum(pdu)) {
      obs.outcome = 'closed';
      obs.detail = 'server answered the Connect-Initial with an MCS Disconnect Provider Ultimatum';
      return;
    }
    const resp = decodeConnectResponse(pdu);
    obs.result = resp.result;
    obs.outcome = resp.result.value === 0 ? 'ok' : 'rejected';
    const s = resp.server;
    if (s.core) {
      obs.rdpVersion = s.core.version;
      if (s.core.clientRequestedProtocols !== undefined) obs.clientRequestedProtocols = s.core.clientRequestedProtocols;
      if (s.core.earlyCapabilityFlags) obs.earlyCapabilityFlags = s.core.earlyCapabilityFlags;
    }
    if (s.security) {
      obs.encryptionMethod = s.security.encryptionMethod;
      obs.encryptionLevel = s.security.encryptionLevel;
      if (s.security.serverRandomLength !== undefined) obs.serverRandomLength = s.security.serverRandomLength;
      if (s.security.certificateDetail) obs.serverCertificate = serverCertificateInfo(s.security.certificateDetail);
    }
    if (s.net) {
      obs.ioChannel = s.net.ioChannel;
      obs.channelIds = s.net.channelIds;
    }
    if (s.msgChannel) obs.messageChannel = s.msgChannel.channelId;
    if (s.multitransport) obs.multitransport = s.multitransport.flags;
  } catch (e) {
    obs.outcome = 'malformed';
    obs.detail = (e as Error).message;
  }
}
