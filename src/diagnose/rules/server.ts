/** Server load and server policy: accepted-then-reset (0x4), burst refusals, MCS-stage refusals. */
import type { ProtocolName } from '../../observation/types.js';
import { ev, pct, type Hit, type Rule } from './context.js';

const NO_ANSWER = new Set(['closed', 'reset', 'timeout']);

/** Enumeration connections that got TCP but no negotiation answer (detail "tcp …" means TCP itself failed). */
function enumerationCounts(obs: Parameters<Rule>[0]['obs']) {
  const entries = Object.entries(obs.protocols ?? {}) as [ProtocolName, NonNullable<NonNullable<typeof obs.protocols>[ProtocolName]>][];
  const answered = entries.filter(([, r]) => ['accepted', 'not-selected', 'failure', 'legacy'].includes(r.outcome));
  const dropped = entries.filter(([, r]) => r.outcome === 'no-answer' && !(r.detail ?? '').startsWith('tcp '));
  return { total: entries.length, answered, dropped };
}

export const acceptedThenResetRule: Rule = ({ obs }) => {
  if (obs.tcp?.outcome !== 'open' || !obs.x224) return null;
  const x = obs.x224;
  const { total, answered, dropped } = enumerationCounts(obs);
  const mainDropped = NO_ANSWER.has(x.outcome);
  if (!mainDropped && dropped.length === 0) return null;

  const evidence = [ev('tcp.outcome', 'open'), ev('x224.outcome', x.outcome)];
  if (x.detail) evidence.push(ev('x224.detail', x.detail));
  if (x.bytesReceived !== undefined) evidence.push(ev('x224.bytesReceived', x.bytesReceived));
  for (const [p, r] of dropped) evidence.push(ev(`protocols.${p}.outcome`, r.outcome, r.detail));

  const how =
    x.outcome === 'reset' ? 'reset the connection' : x.outcome === 'closed' ? 'closed the connection (FIN)' : `never answered (${Math.round(x.ms)} ms)`;
  const b = obs.burst;
  if (b) evidence.push(ev('burst', b));

  if (mainDropped && answered.length === 0) {
    const everyBurstFailed = b !== undefined && b.negotiated === 0 && b.connections > 0;
    const hit: Hit = {
      cause: 'accepted-then-reset',
      severity: 'error',
      summary: `the host accepted TCP, then ${how} before answering the X.224 Connection Request${
        dropped.length ? ` — on ${dropped.length} of ${total} connections` : ''
      }`,
      confidence: everyBurstFailed ? 'high' : 'medium',
      confidenceWhy: everyBurstFailed
        ? 'every connection, alone and in the burst, was accepted and then dropped: the listener is hung or refuses everything'
        : 'the drop itself is observed; whether the service is hung, overloaded or an IPS resets it needs the burst/stability probes',
      evidence,
    };
    if (x.outcome === 'closed') {
      hit.clientErrors = [
        { code: '0x4', extended: '0x0', documented: false, note: '0x4 is undocumented; inferred from reports' },
        { code: '0x3', documented: false, note: 'a FIN from the server may surface as "disconnected by server"' },
      ];
    } else if (x.outcome === 'timeout') {
      hit.clientErrors = [
        { code: '0x4', extended: '0x0', documented: false, note: '0x4 is undocumented; inferred from reports' },
        { code: '0x108', documented: false, note: 'when the client gives up waiting' },
      ];
    }
    if (everyBurstFailed) hit.nextProbe = null;
    return hit;
  }
  // Intermittent: some connections negotiated, others were dropped.
  const droppedCount = dropped.length + (mainDropped ? 1 : 0);
  return {
    cause: 'accepted-then-reset',
    severity: 'warning',
    summary: `intermittent: ${droppedCount} of ${total + 1} connections were accepted and then dropped during setup, the others negotiated`,
    confidence: 'medium',
    confidenceWhy: 'a mix of answered and dropped connections to the same port points at load or a rate-limiting middlebox',
    evidence: [...evidence, ev('protocols', `${answered.length} answered: ${answered.map(([p]) => p).join(', ')}`)],
  };
};

export const burstRule: Rule = ({ obs }) => {
  const b = obs.burst;
  if (!b || b.connections === 0) return null;
  const failed = b.connections - b.negotiated;
  if (failed <= 0) return null;
  const singleOk = obs.x224 !== undefined && !NO_ANSWER.has(obs.x224.outcome) && obs.x224.outcome !== 'malformed';
  return {
    cause: 'burst-refusal',
    severity: b.negotiated === 0 && !singleOk ? 'error' : 'warning',
    summary:
      `${b.negotiated} of ${b.connections} concurrent connections negotiated (${pct(failed, b.connections)} % failed: ` +
      `${b.refused} refused, ${b.reset} reset, ${b.timeout} timed out; ${b.accepted} TCP-accepted)`,
    confidence: b.connections >= 10 && failed >= 2 ? 'high' : 'medium',
    confidenceWhy:
      b.connections >= 10 && failed >= 2
        ? `${failed} failures in a burst of ${b.connections}${singleOk ? ' while a single connection negotiates normally' : ''}`
        : 'a small burst or a single failure; repeat with a larger burst',
    evidence: [ev('burst', b), ...(obs.x224 ? [ev('x224.outcome', obs.x224.outcome, 'the single connection')] : [])],
    ...(b.connections >= 10 && failed >= 2 ? { nextProbe: null } : {}),
  };
};

export const mcsRule: Rule = ({ obs, nego }) => {
  const m = obs.mcs;
  if (!m || nego.status !== 'ok') return null;
  if (m.outcome !== 'rejected' && m.outcome !== 'closed' && m.outcome !== 'reset') return null;
  const clientDoesMcsDirectly = nego.protocol === 'SSL' || nego.protocol === 'RDP';
  return {
    cause: 'mcs-rejected',
    severity: 'error',
    summary:
      m.outcome === 'rejected'
        ? `the server rejected MCS Connect-Initial (result ${m.result?.name ?? 'not rt-successful'})`
        : `the server ${m.outcome === 'closed' ? 'closed' : 'reset'} the connection after MCS Connect-Initial (${m.via === 'tls' ? 'inside TLS' : 'plain'})`,
    confidence: clientDoesMcsDirectly ? 'medium' : 'low',
    confidenceWhy: clientDoesMcsDirectly
      ? 'the refusal is observed at the stage this client reaches next; our GCC data differs a little from the client\'s'
      : 'observed on a TLS/Standard-security connection; this client reaches MCS only after NLA',
    evidence: [
      ev('mcs.outcome', m.outcome),
      ev('mcs.via', m.via),
      ...(m.result ? [ev('mcs.result', m.result.name)] : []),
      ...(m.detail ? [ev('mcs.detail', m.detail)] : []),
    ],
  };
};

export const SERVER_RULES: Rule[] = [acceptedThenResetRule, burstRule, mcsRule];
