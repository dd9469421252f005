import dns from 'node:dns';
import net from 'node:net';
import type { DnsObservation, DnsOutcome } from '../observation/types.js';
import { deadline, type Deadline } from './deadline.js';

export interface ResolveOptions {
  /** Phase deadline: the whole resolution (lookup and classification) ends by then. */
  timeoutMs: number;
  family?: 0 | 4 | 6;
  /** The whole probe's signal: an abort ends the phase at once with outcome 'aborted'. */
  signal?: AbortSignal;
  /** Query these DNS servers directly (`ip` or `ip:port`) instead of the system resolver (getaddrinfo). */
  servers?: string[];
}

type Lookup = { address: string; family: number }[];
type Classified = { outcome: DnsOutcome; code?: string };

/**
 * Resolve every address of a name with a deadline. The system resolver (getaddrinfo: /etc/hosts, search domains,
 * nsswitch) decides what the name resolves to, because that is what the RDP client uses. When it fails, a direct
 * DNS query through the configured servers tells NXDOMAIN, SERVFAIL, REFUSED and timeout apart — getaddrinfo folds
 * them into one EAI code. A lookup still unanswered at half the deadline starts that classification alongside, so
 * that a resolver that never answers ends at the phase deadline (getaddrinfo itself cannot be cancelled) with the
 * best explanation found by then; an abort ends it at once as 'aborted'.
 */
export async function resolveTarget(host: string, opts: ResolveOptions): Promise<DnsObservation> {
  const started = performance.now();
  const ms = () => Math.round((performance.now() - started) * 10) / 10;
  if (net.isIP(host)) {
    return { outcome: 'skipped', addresses: [{ address: host, family: net.isIP(host) as 4 | 6 }], ms: 0, note: 'literal address' };
  }
  const d = deadline({ timeoutMs: opts.timeoutMs, signal: opts.signal });
  const aborted = (): DnsObservation => ({ outcome: 'aborted', addresses: [], ms: ms(), code: 'ABORTED', note: d.abortDetail() });
  try {
    if (d.expired) return aborted();
    const lookup: Promise<Lookup> = opts.servers
      ? resolverLookup(host, opts.servers, opts.family ?? 0, d)
      : dns.promises.lookup(host, { all: true, family: opts.family ?? 0, verbatim: true });
    let early: Promise<Classified> | undefined;
    const half = setTimeout(() => (early = classify(host, d, opts.servers)), opts.timeoutMs / 2);
    let res: Lookup | 'timeout' | 'aborted';
    try {
      res = await d.race(lookup);
    } catch (e) {
      clearTimeout(half);
      if (d.reason === 'aborted') return aborted();
      const err = e as NodeJS.ErrnoException;
      const cls = await (early ?? classify(host, d, opts.servers));
      if (cls.outcome === 'aborted') return aborted();
      return { outcome: cls.outcome, addresses: [], ms: ms(), code: cls.code ?? err.code };
    }
    clearTimeout(half);
    if (res === 'aborted') return aborted();
    if (res === 'timeout') {
      // The classification started at half time has been cancelled at the deadline if it had no answer by then.
      const cls: Classified = early ? await early : { outcome: 'timeout' };
      if (cls.outcome === 'aborted') return aborted();
      return { outcome: cls.outcome === 'error' ? 'timeout' : cls.outcome, addresses: [], ms: ms(), code: cls.code ?? 'ETIMEOUT' };
    }
    const seen = new Set<string>();
    const addresses = res
      .filter((a) => (seen.has(a.address) ? false : (seen.add(a.address), true)))
      .map((a) => ({ address: a.address, family: a.family as 4 | 6 }));
    return { outcome: addresses.length ? 'ok' : 'nodata', addresses, ms: ms() };
  } finally {
    d.dispose();
    for (const r of live.get(d) ?? []) r.cancel();
  }
}

/** resolve4 + resolve6 on the given servers, shaped like lookup({ all: true }). */
async function resolverLookup(host: string, servers: string[], family: 0 | 4 | 6, d: Deadline): Promise<Lookup> {
  const resolver = newResolver(servers, d);
  try {
    const get = (fn: () => Promise<string[]>, fam: 4 | 6) =>
      fn().then(
        (a) => a.map((address) => ({ address, family: fam })),
        (e: NodeJS.ErrnoException) => (e.code === 'ENODATA' ? [] : Promise.reject(e)),
      );
    const parts = await Promise.allSettled([
      family === 6 ? Promise.resolve([]) : get(() => resolver.resolve4(host), 4),
      family === 4 ? Promise.resolve([]) : get(() => resolver.resolve6(host), 6),
    ]);
    const ok = parts.flatMap((p) => (p.status === 'fulfilled' ? p.value : []));
    if (ok.length) return ok;
    const failed = parts.find((p) => p.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const e = new Error(`${host}: no A/AAAA records`) as NodeJS.ErrnoException;
    e.code = 'ENODATA';
    throw e;
  } finally {
    resolver.cancel();
  }
}

/** A c-ares resolver whose queries are cancelled when the deadline expires (one subscription, through `d`). */
/** Resolvers still running per deadline: cancelled when resolveTarget returns (an unneeded classification). */
const live = new WeakMap<Deadline, dns.promises.Resolver[]>();

function newResolver(servers: string[] | undefined, d: Deadline): dns.promises.Resolver {
  const left = d.remainingMs();
  const resolver = new dns.promises.Resolver({ timeout: Math.max(100, Math.floor(Number.isFinite(left) ? left : 5000)), tries: 1 });
  if (servers) resolver.setServers(servers);
  d.onExpire(() => resolver.cancel());
  live.set(d, [...(live.get(d) ?? []), resolver]);
  return resolver;
}

async function classify(host: string, d: Deadline, servers?: string[]): Promise<Classified> {
  const resolver = newResolver(servers, d);
  const one = async (fn: () => Promise<unknown>): Promise<Classified> => {
    try {
      await fn();
      return { outcome: 'ok' };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ECANCELLED') return d.reason === 'aborted' ? { outcome: 'aborted', code } : { outcome: 'timeout', code: 'ETIMEOUT' };
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
    if (a.outcome === 'aborted' || aaaa.outcome === 'aborted') return { outcome: 'aborted' };
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
