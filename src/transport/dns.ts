import dns from 'node:dns';
import net from 'node:net';
import type { DnsObservation, DnsOutcome } from '../observation/types.js';

/**
 * Resolve every address of a name with a deadline. The system resolver (getaddrinfo: /etc/hosts, search domains,
 * nsswitch) decides what the name resolves to, because that is what the RDP client uses. When it fails, a direct
 * DNS query through the configured servers tells NXDOMAIN, SERVFAIL, REFUSED and timeout apart — getaddrinfo folds
 * them into one EAI code.
 */
export async function resolveTarget(host: string, opts: { timeoutMs: number; family?: 0 | 4 | 6 }): Promise<DnsObservation> {
  const started = performance.now();
  const ms = () => Math.round((performance.now() - started) * 10) / 10;
  if (net.isIP(host)) {
    return { outcome: 'skipped', addresses: [{ address: host, family: net.isIP(host) as 4 | 6 }], ms: 0, note: 'literal address' };
  }
  try {
    const res = await withDeadline(
      dns.promises.lookup(host, { all: true, family: opts.family ?? 0, verbatim: true }),
      opts.timeoutMs,
    );
    if (res === 'timeout') {
      const cls = await classify(host, Math.max(500, opts.timeoutMs / 2));
      return { outcome: cls.outcome === 'error' ? 'timeout' : cls.outcome, addresses: [], ms: ms(), code: cls.code ?? 'ETIMEOUT' };
    }
    const seen = new Set<string>();
    const addresses = res
      .filter((a) => (seen.has(a.address) ? false : (seen.add(a.address), true)))
      .map((a) => ({ address: a.address, family: a.family as 4 | 6 }));
    return { outcome: addresses.length ? 'ok' : 'nodata', addresses, ms: ms() };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const cls = await classify(host, opts.timeoutMs);
    return { outcome: cls.outcome, addresses: [], ms: ms(), code: cls.code ?? err.code };
  }
}

async function classify(host: string, timeoutMs: number): Promise<{ outcome: DnsOutcome; code?: string }> {
  const resolver = new dns.promises.Resolver({ timeout: Math.max(200, Math.floor(timeoutMs / 2)), tries: 1 });
  const one = async (fn: () => Promise<unknown>): Promise<{ outcome: DnsOutcome; code?: string }> => {
    try {
      const r = await withDeadline(fn(), timeoutMs);
      if (r === 'timeout') return { outcome: 'timeout', code: 'ETIMEOUT' };
      return { outcome: 'ok' };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      switch (code) {
        case 'ENOTFOUND':
          return { outcome: 'nxdomain', code };
        case 'ENODATA':
          return { outcome: 'nodata', code };
        case 'ESERVFAIL':
          return { outcome: 'servfail', code };
        case 'EREFUSED':
          return { outcome: 'refused', code };
        case 'ETIMEOUT':
        case 'ECONNREFUSED':
          return { outcome: 'timeout', code };
        default:
          return { outcome: 'error', code };
      }
    }
  };
  try {
    const [a, aaaa] = await Promise.all([one(() => resolver.resolve4(host)), one(() => resolver.resolve6(host))]);
    // Worst answer first: a SERVFAIL or timeout on one family explains more than a NODATA on the other.
    const rank: DnsOutcome[] = ['servfail', 'timeout', 'refused', 'nxdomain', 'error', 'nodata', 'ok'];
    const pick = [a, aaaa].sort((x, y) => rank.indexOf(x.outcome) - rank.indexOf(y.outcome))[0];
    // getaddrinfo failed but DNS has the name: the failure is local (nsswitch, search list) — keep it as 'error'.
    if (pick.outcome === 'ok' || (a.outcome === 'nodata' && aaaa.outcome === 'nodata')) return { outcome: pick.outcome === 'ok' ? 'error' : 'nodata', code: pick.code };
    return pick;
  } finally {
    resolver.cancel();
  }
}

export async function withDeadline<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<'timeout'>((r) => (t = setTimeout(() => r('timeout'), ms)))]);
  } finally {
    clearTimeout(t);
  }
}
