/**
 * UDP transport (MS-RDPEUDP SYN → SYN+ACK, PROTOCOL-NOTES §1.16). Only profiles that use RDP-UDP against a plain
 * host (mstsc) are affected; the server's multitransport offer (SC_MULTITRANSPORT, MS-RDPBCGR 2.2.1.4.6) decides
 * whether the client tries UDP at all.
 */
import { ev, type Hit, type Rule } from './context.js';

function assertNever(x: never): never {
  throw new Error(`unhandled UDP outcome ${String(x)}`);
}

/** TRANSPORTTYPE_UDPFECR | TRANSPORTTYPE_UDPFECL (MS-RDPBCGR 2.2.1.4.6). */
const UDP_TRANSPORTS = 0x01 | 0x04;

/** true: the server offers UDP; false: it does not; undefined: not observed. */
function serverOffersUdp(obs: Parameters<Rule>[0]['obs']): boolean | undefined {
  const m = obs.mcs;
  if (!m || m.outcome !== 'ok') return undefined;
  if (!m.multitransport) return false;
  return (m.multitransport.value & UDP_TRANSPORTS) !== 0;
}

export const udpRule: Rule = ({ obs, profile }) => {
  const u = obs.udp;
  if (!u || !profile.udp || obs.tcp?.outcome !== 'open') return null;
  switch (u.outcome) {
    case 'silent':
      break;
    case 'icmp-unreachable':
      // host/net unreachable while TCP to the same host works says nothing about the UDP port (reachability rules)
      if ((u.unreachable ?? 'port') === 'port' || u.unreachable === 'prohibited') break;
      return null;
    case 'local-error': // this host refused to send (EPERM: its own firewall; EACCES: no privilege): not the path
    case 'aborted':
    case 'error':
    case 'synack':
    case 'skipped':
      return null;
    default:
      return assertNever(u.outcome);
  }
  const offered = serverOffersUdp(obs);
  const evidence = [
    ev('tcp.outcome', 'open'),
    ev('udp.outcome', u.outcome),
    ...(u.unreachable ? [ev('udp.unreachable', u.unreachable)] : []),
    ...(u.attempts !== undefined ? [ev('udp.attempts', u.attempts)] : []),
    ev('mcs.multitransport', obs.mcs?.multitransport?.names ?? (obs.mcs?.outcome === 'ok' ? 'absent' : 'not observed')),
  ];
  if (u.outcome === 'icmp-unreachable' && u.unreachable === 'prohibited') {
    return {
      cause: 'udp-blocked',
      severity: offered ? 'warning' : 'info',
      summary: offered
        ? `a filter rejects UDP ${obs.source.port} (ICMP administratively prohibited) while TCP works and the server offers UDP transport: mstsc stays on TCP`
        : `a filter rejects UDP ${obs.source.port} (ICMP administratively prohibited): mstsc uses TCP only`,
      confidence: 'high',
      confidenceWhy: 'an ICMP administratively-prohibited error came back for the UDP SYN',
      evidence,
      nextProbe: null,
    };
  }
  if (u.outcome === 'icmp-unreachable') {
    return {
      cause: 'udp-not-listening',
      severity: offered ? 'warning' : 'info',
      summary: offered
        ? 'the server offers UDP transport but UDP port is closed (ICMP port unreachable): mstsc stays on TCP'
        : 'nothing listens on UDP (ICMP port unreachable): mstsc uses TCP only, no error',
      confidence: 'high',
      confidenceWhy: 'the host answered the UDP SYN with ICMP port unreachable',
      evidence,
      nextProbe: null,
    };
  }
  if (offered === false) {
    return {
      cause: 'udp-blocked',
      severity: 'info',
      summary: 'UDP to the port gets no answer, but the server does not offer UDP transport: no effect',
      confidence: 'high',
      confidenceWhy: 'the server\'s MCS answer carries no UDP multitransport flag, so clients never try UDP',
      evidence,
      nextProbe: null,
    };
  }
  const hit: Hit = {
    cause: 'udp-blocked',
    severity: 'warning',
    summary: `UDP ${obs.source.port} is silent while TCP works${offered ? ' and the server offers UDP transport' : ''}: mstsc's UDP handshake times out`,
    confidence: offered ? 'medium' : 'low',
    confidenceWhy: offered
      ? 'the server offers UDP and the MS-RDPEUDP SYN went unanswered; that this shows as 0x904/0x7 rather than a silent TCP fallback is inferred'
      : 'the server\'s multitransport offer was not observed (MCS not reached); a silent UDP port may be irrelevant',
    evidence,
    nextProbe: offered ? null : 'rdprobe probe {target} --udp   (with MCS: shows whether the server offers UDP)',
  };
  return hit;
};

export const UDP_RULES: Rule[] = [udpRule];
