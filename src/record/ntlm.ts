/** Codec values of an NTLM CHALLENGE (MS-NLMP 2.2.1.2) → the Observation's NtlmInfo. */
import {
  filetimeToMs,
  MSV_AV_DNS_COMPUTER_NAME,
  MSV_AV_DNS_DOMAIN_NAME,
  MSV_AV_DNS_TREE_NAME,
  MSV_AV_NB_COMPUTER_NAME,
  MSV_AV_NB_DOMAIN_NAME,
  MSV_AV_TIMESTAMP,
  u64le,
  versionText,
  type ChallengeMessage,
} from '../codec/ntlm/index.js';
import type { NtlmInfo } from '../observation/types.js';

/** Reduce a CHALLENGE to the Observation's NtlmInfo; clock skew = server timestamp − our clock at receipt. */
export function ntlmInfo(ch: ChallengeMessage, receivedAt: Date): NtlmInfo {
  const info: NtlmInfo = {};
  if (ch.targetName !== undefined) info.targetName = ch.targetName;
  for (const p of ch.targetInfo ?? []) {
    switch (p.id) {
      case MSV_AV_NB_COMPUTER_NAME:
        info.nbComputer ??= p.value;
        break;
      case MSV_AV_NB_DOMAIN_NAME:
        info.nbDomain ??= p.value;
        break;
      case MSV_AV_DNS_COMPUTER_NAME:
        info.dnsComputer ??= p.value;
        break;
      case MSV_AV_DNS_DOMAIN_NAME:
        info.dnsDomain ??= p.value;
        break;
      case MSV_AV_DNS_TREE_NAME:
        info.dnsTree ??= p.value;
        break;
      case MSV_AV_TIMESTAMP:
        if (info.timestamp === undefined) {
          const ms = filetimeToMs(u64le(p.raw));
          info.timestamp = p.value;
          info.clockSkewMs = ms - receivedAt.getTime();
        }
        break;
    }
  }
  if (ch.version) {
    info.osVersion = versionText(ch.version);
    info.osBuild = ch.version.build;
    info.ntlmRevision = ch.version.revision;
  }
  info.negotiateFlags = { value: ch.flags, names: ch.flagNames };
  if (ch.targetInfo) info.avPairs = ch.targetInfo.map((p) => ({ id: p.id, name: p.name, value: p.value }));
  return info;
}
