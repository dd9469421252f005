/** Reachability: TCP connect outcomes (0x204 family), a non-RDP listener, path stability. */
import { assertNever } from '../../observation/vocab.js';
import { ev, pct, type Hit, type Rule } from './context.js';

export const tcpRule: Rule = ({ obs }) => {
  const t = obs.tcp;
  if (!t || t.outcome === 'open') return null;
  const where = `${t.address}:${t.port}`;
  const base = [ev('tcp.outcome', t.outcome), ...(t.errno ? [ev('tcp.errno', t.errno)] : []), ev('tcp.ms', t.ms)];
  switch (t.outcome) {
    case 'refused':
      return {
        cause: 'tcp-refused',
        severity: 'error',
        summary: `${where} refused the connection (TCP RST): nothing listens on port ${t.port}`,
        confidence: 'high',
        confidenceWhy: 'a RST to the SYN is a direct answer from the host (or a rejecting firewall) that nothing accepts on the port',
        evidence: base,
      };
    case 'filtered':
    case 'timeout': {
      // Signs of life from the same host: then silence on TCP is a firewall, not a host that is off.
      const alive: string[] = [];
      const evidence = [...base];
      if ((obs.udp?.outcome === 'icmp-unreachable' && (obs.udp.unreachable ?? 'port') === 'port') || obs.udp?.outcome === 'synack') {
        alive.push(`UDP ${t.port} answered (${obs.udp.outcome})`);
        evidence.push(ev('udp.outcome', obs.udp.outcome, 'the host itself answered on UDP'));
      }
      const okProbes = obs.pmtu?.probes.filter((p) => p.result === 'ok' || p.result === 'frag-needed') ?? [];
      if (okProbes.some((p) => p.result === 'ok')) {
        alive.push('path-MTU probes got answers');
        evidence.push(ev('pmtu.probes', okProbes.map((p) => `${p.size}:${p.result}`).join(' '), 'the host answered DF probes'));
      }
      const hit: Hit = {
        cause: 'tcp-filtered',
        severity: 'error',
        summary: alive.length
          ? `no answer to the TCP SYN on ${where} although the host is up (${alive.join('; ')}): a firewall drops TCP ${t.port}`
          : `no answer to the TCP SYN on ${where} within ${Math.round(t.ms)} ms: a firewall drops it, or the host is off`,
        confidence: alive.length ? 'high' : 'medium',
        confidenceWhy: alive.length
          ? 'the host answers other probes, so only TCP to this port is dropped'
          : 'silence fits both a dropping firewall and a host that is off or asleep; nothing else from the host was observed',
        evidence,
      };
      if (alive.length) hit.nextProbe = null;
      else hit.nextProbe = 'rdprobe probe {target} --udp --pmtu   (an ICMP or UDP answer shows the host is up)';
      return hit;
    }
    case 'unreachable':
      return {
        cause: 'host-unreachable',
        severity: 'error',
        summary: `${where} is unreachable (${t.errno ?? 'ICMP unreachable'})${t.errno === 'ENETUNREACH' ? ': no route from this machine' : ''}`,
        confidence: 'high',
        confidenceWhy: 'the local stack or a router reported the destination unreachable',
        evidence: base,
      };
    case 'reset':
      return {
        cause: 'accepted-then-reset',
        severity: 'error',
        summary: `the TCP handshake to ${where} was reset (${t.errno ?? 'RST'}): a middlebox or the host aborts connections`,
        confidence: 'low',
        confidenceWhy: 'a reset during the TCP handshake itself is unusual; an IPS or overloaded host are the usual sources',
        evidence: base,
        clientErrors: [{ code: '0x204', documented: false, note: 'connect fails' }, { code: '0x4', extended: '0x0', documented: false }],
      };
    // the whole probe was aborted while connecting: nothing measured, not the server's fault
    case 'aborted':
      return null;
    case 'error':
      return {
        cause: 'connect-error',
        severity: 'error',
        summary: `TCP connect to ${where} failed locally (${t.errno ?? t.outcome}${t.message ? `: ${t.message}` : ''})`,
        confidence: 'medium',
        confidenceWhy: 'the error came from this machine\'s stack; the client machine may behave differently',
        evidence: [...base, ...(t.message ? [ev('tcp.message', t.message)] : [])],
      };
    default:
      return assertNever(t.outcome, 'tcp outcome');
  }
};

export const notRdpRule: Rule = ({ obs }) => {
  const x = obs.x224;
  if (obs.tcp?.outcome !== 'open' || !x || x.outcome !== 'malformed') return null;
  return {
    cause: 'not-rdp',
    severity: 'error',
    summary: `port ${obs.source.port} answered the X.224 Connection Request with something that is not RDP${x.detail ? ` (${x.detail})` : ''}`,
    confidence: 'high',
    confidenceWhy: 'the bytes that came back do not decode as a TPKT/X.224 Connection Confirm',
    evidence: [
      ev('tcp.outcome', 'open'),
      ev('x224.outcome', x.outcome),
      ...(x.detail ? [ev('x224.detail', x.detail)] : []),
      ...(x.bytesReceived !== undefined ? [ev('x224.bytesReceived', x.bytesReceived)] : []),
    ],
  };
};

/** Loss and jitter thresholds: any loss over ≥ 5 samples, or ≥ 30 ms mean jitter, is worth a warning; ≥ 30 % loss fails. */
export const STABILITY = { minSamples: 5, jitterMs: 30, failLossPct: 30 } as const;

export const stabilityRule: Rule = ({ obs }) => {
  const s = obs.stability;
  if (!s || s.samples === 0) return null;
  const lossPct = pct(s.lost, s.samples);
  const lossy = s.lost > 0 && (s.samples >= STABILITY.minSamples || s.lost >= 2);
  const jittery = s.ok > 1 && s.rttMs.jitter >= STABILITY.jitterMs;
  if (!lossy && !jittery) return null;
  const confidence = s.samples >= 20 ? 'high' : s.samples >= 10 ? 'medium' : 'low';
  const hit: Hit = {
    cause: 'unstable-network',
    severity: lossPct >= STABILITY.failLossPct ? 'error' : 'warning',
    summary:
      `${s.lost} of ${s.samples} TCP handshakes lost (${lossPct} %), rtt min/avg/max ${s.rttMs.min}/${s.rttMs.avg}/${s.rttMs.max} ms, ` +
      `jitter ${s.rttMs.jitter} ms`,
    confidence,
    confidenceWhy: `measured over ${s.samples} repeated TCP handshakes to the RDP port${confidence === 'high' ? '' : '; more samples make the loss and jitter figures reliable'}`,
    evidence: [
      ev('stability.samples', s.samples),
      ev('stability.lost', s.lost),
      ev('stability.rttMs', s.rttMs),
    ],
  };
  if (confidence === 'high') hit.nextProbe = null;
  return hit;
};

export const REACHABILITY_RULES: Rule[] = [tcpRule, notRdpRule, stabilityRule];
