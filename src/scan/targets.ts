/**
 * Scan targets: parsing and lazy expansion.
 *
 * Accepted forms (one token each; files and stdin may hold several per line, separated by blanks or commas, with
 * `#` comments and blank lines):
 *   host names            rdp.example.com   rdp.example.com:3390
 *   IPv4                  10.0.0.1          10.0.0.1:3390
 *   IPv4 CIDR             10.0.0.0/24       10.0.0.0/24:3390   (host bits are ignored: 10.0.0.9/24 = 10.0.0.0/24)
 *   IPv4 ranges           10.0.0.1-50       10.0.0-3.1-254     10.0.*.1     10.0.0.1-10.0.3.254
 *   IPv6                  2001:db8::1       [2001:db8::1]:3390
 *   IPv6 CIDR             2001:db8::/120    [2001:db8::/120]:3390   (at most 2^32 addresses: /96 or longer)
 *   IPv6 ranges           2001:db8::1-ff    2001:db8::1-2001:db8::1:0   [2001:db8::1-ff]:3390
 *
 * Nothing is materialised: a spec is an interval (or, for octet ranges, a generator of intervals in ascending
 * order); the set of targets per port is the streamed union of the specs minus the streamed union of the excludes.
 * Expansion order is canonical and independent of input order — for each port ascending: IPv4 ascending, IPv6
 * ascending, then host names in first-seen order — so `--shard K/N` splits the same set the same way everywhere.
 */
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6, parseOctet, V4_MAX } from './ip.js';
import { coalesce, countOf, intervalSize, subtract, union, type Interval } from './intervals.js';
import { firstInShard, shardSize, type Shard } from './shard.js';

export { parseShard, type Shard } from './shard.js';

export const DEFAULT_PORT = 3389;
/** The largest single IPv6 block or range we expand (2^32 addresses, a /96). */
export const MAX_V6_SPAN = 1n << 32n;

export class TargetSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetSyntaxError';
  }
}

export type AddrSpec =
  | { kind: 'interval'; family: 4 | 6; lo: bigint; hi: bigint }
  /** IPv4 with a range per octet (nmap style), e.g. 10.0-3.1-254: a product, not one interval. */
  | { kind: 'octets'; family: 4; ranges: [number, number][] };

export type ParsedTarget = { addr: AddrSpec; port?: number } | { name: string; port?: number };

/** Where a token came from, for error messages: `targets.txt:12`, `stdin:3`, `argument 2`. */
export interface Token {
  text: string;
  source: string;
  line: number;
}

export interface TargetError {
  source: string;
  line: number;
  text: string;
  message: string;
}

export function formatTargetError(e: TargetError): string {
  const where = e.source === 'argument' ? `argument ${e.line}` : `${e.source}:${e.line}`;
  return `${where}: '${e.text}': ${e.message}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing one token

export function parsePort(p: string): number {
  if (!/^\d{1,5}$/.test(p)) throw new TargetSyntaxError(`'${p}' is not a port number`);
  const n = Number(p);
  if (n < 1 || n > 65535) throw new TargetSyntaxError(`port ${n} outside 1..65535`);
  return n;
}

/** `3389`, `3389,3390`, `3380-3390` → sorted unique ports. */
export function parsePortList(s: string): number[] {
  const out = new Set<number>();
  for (const part of s.split(',').map((x) => x.trim())) {
    if (!part) throw new TargetSyntaxError(`empty entry in port list '${s}'`);
    const m = /^(\d+)-(\d+)$/.exec(part);
    if (m) {
      const a = parsePort(m[1]);
      const b = parsePort(m[2]);
      if (a > b) throw new TargetSyntaxError(`port range ${part} is reversed`);
      for (let p = a; p <= b; p++) out.add(p);
    } else out.add(parsePort(part));
  }
  return [...out].sort((a, b) => a - b);
}

export function parseTargetToken(text: string): ParsedTarget {
  const t = text.trim();
  if (!t) throw new TargetSyntaxError('empty target');
  if (t.startsWith('[')) {
    const end = t.indexOf(']');
    if (end < 0) throw new TargetSyntaxError("missing ']'");
    const inner = t.slice(1, end);
    const rest = t.slice(end + 1);
    let port: number | undefined;
    if (rest) {
      if (!rest.startsWith(':')) throw new TargetSyntaxError("expected ':port' after ']'");
      port = parsePort(rest.slice(1));
    }
    return { addr: parseV6Spec(inner), port };
  }
  const colons = t.split(':').length - 1;
  if (colons >= 2) return { addr: parseV6Spec(t) };
  let host = t;
  let port: number | undefined;
  if (colons === 1) {
    const i = t.indexOf(':');
    host = t.slice(0, i);
    port = parsePort(t.slice(i + 1));
    if (!host) throw new TargetSyntaxError('missing host before the port');
  }
  if (/^[0-9.*/-]+$/.test(host)) return { addr: parseV4Spec(host), port };
  return { name: parseHostName(host), port };
}

function parseV4Spec(s: string): AddrSpec {
  const slash = s.indexOf('/');
  if (slash >= 0) {
    const a = parseIPv4(s.slice(0, slash));
    if (a === null) throw new TargetSyntaxError(`'${s.slice(0, slash)}' is not an IPv4 address`);
    const p = s.slice(slash + 1);
    if (!/^\d{1,2}$/.test(p) || Number(p) > 32) throw new TargetSyntaxError(`prefix length '/${p}' outside /0../32`);
    const bits = 32 - Number(p);
    const lo = (BigInt(a) >> BigInt(bits)) << BigInt(bits);
    return { kind: 'interval', family: 4, lo, hi: lo + (1n << BigInt(bits)) - 1n };
  }
  const full = /^([^-]+\.[^-]+\.[^-]+\.[^-]+)-([^-]+\.[^-]+\.[^-]+\.[^-]+)$/.exec(s);
  if (full) {
    // full range a.b.c.d-e.f.g.h
    const a = parseIPv4(full[1]);
    const b = parseIPv4(full[2]);
    if (a === null) throw new TargetSyntaxError(`'${full[1]}' is not an IPv4 address`);
    if (b === null) throw new TargetSyntaxError(`'${full[2]}' is not an IPv4 address`);
    if (b < a) throw new TargetSyntaxError('range end is below its start');
    return { kind: 'interval', family: 4, lo: BigInt(a), hi: BigInt(b) };
  }
  const parts = s.split('.');
  if (parts.length !== 4) throw new TargetSyntaxError(`expected 4 dot-separated octets, got ${parts.length}`);
  const ranges: [number, number][] = parts.map((p) => {
    if (p === '*') return [0, 255];
    const m = /^([^-]*)-([^-]*)$/.exec(p);
    if (m) {
      const a = octet(m[1]);
      const b = octet(m[2]);
      if (a > b) throw new TargetSyntaxError(`octet range ${p} is reversed`);
      return [a, b];
    }
    const v = octet(p);
    return [v, v];
  });
  if (ranges.every(([a, b]) => a === b)) {
    const v = BigInt(ranges.reduce((n, [a]) => n * 256 + a, 0));
    return { kind: 'interval', family: 4, lo: v, hi: v };
  }
  return { kind: 'octets', family: 4, ranges };
}

function octet(p: string): number {
  const v = parseOctet(p);
  if (v === null) {
    if (/^\d+$/.test(p) && Number(p) > 255) throw new TargetSyntaxError(`octet ${p} outside 0..255`);
    if (/^0\d+$/.test(p)) throw new TargetSyntaxError(`octet '${p}' has a leading zero (octal or decimal?)`);
    throw new TargetSyntaxError(`'${p}' is not an octet`);
  }
  return v;
}

function parseV6Spec(s: string): AddrSpec {
  if (s.includes('%')) throw new TargetSyntaxError('scoped IPv6 addresses (%zone) cannot be scan targets');
  const slash = s.indexOf('/');
  if (slash >= 0) {
    const a = parseIPv6(s.slice(0, slash));
    if (a === null) throw new TargetSyntaxError(`'${s.slice(0, slash)}' is not an IPv6 address`);
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > 128) throw new TargetSyntaxError(`prefix length '/${p}' outside /0../128`);
    const bits = BigInt(128 - Number(p));
    if (1n << bits > MAX_V6_SPAN) {
      throw new TargetSyntaxError(`/${p} holds 2^${bits} addresses; the largest IPv6 block rdprobe expands is a /96 (2^32)`);
    }
    const lo = (a >> bits) << bits;
    return { kind: 'interval', family: 6, lo, hi: lo + (1n << bits) - 1n };
  }
  const dash = s.indexOf('-');
  if (dash >= 0) {
    const lo = parseIPv6(s.slice(0, dash));
    if (lo === null) throw new TargetSyntaxError(`'${s.slice(0, dash)}' is not an IPv6 address`);
    const right = s.slice(dash + 1);
    let hi = parseIPv6(right);
    if (hi === null) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(right)) throw new TargetSyntaxError(`'${right}' is neither an IPv6 address nor a last group (1-4 hex digits)`);
      hi = (lo & ~0xffffn) | BigInt(parseInt(right, 16));
    }
    if (hi < lo) throw new TargetSyntaxError('range end is below its start');
    if (hi - lo + 1n > MAX_V6_SPAN) throw new TargetSyntaxError('IPv6 range holds more than 2^32 addresses');
    return { kind: 'interval', family: 6, lo, hi };
  }
  const v = parseIPv6(s);
  if (v === null) throw new TargetSyntaxError(`'${s}' is not an IPv6 address`);
  return { kind: 'interval', family: 6, lo: v, hi: v };
}

/** RFC 1123 2.1 host names (letters, digits, hyphens; underscores tolerated), last label not all-numeric (RFC 3696 2). */
function parseHostName(h: string): string {
  const name = (h.endsWith('.') ? h.slice(0, -1) : h).toLowerCase();
  if (!name || name.length > 253) throw new TargetSyntaxError('not a valid host name (1..253 characters)');
  const labels = name.split('.');
  for (const label of labels) {
    if (!/^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/.test(label)) {
      throw new TargetSyntaxError(label ? `label '${label}' is not a valid host name label` : 'empty label in host name');
    }
  }
  if (/^\d+$/.test(labels[labels.length - 1])) throw new TargetSyntaxError('not an IPv4 address, and not a host name (numeric top-level label)');
  return name;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading tokens from text (files, stdin, arguments)

/** Tokens of a targets file: `#` starts a comment, blanks and commas separate, line numbers are 1-based. */
export function* tokensOf(content: string, source: string): Generator<Token> {
  let line = 0;
  for (const raw of content.split(/\r?\n/)) {
    line++;
    const hash = raw.indexOf('#');
    const body = hash >= 0 ? raw.slice(0, hash) : raw;
    for (const text of body.split(/[\s,]+/)) if (text) yield { text, source, line };
  }
}

export interface TargetIo {
  readFile(path: string): Promise<string>;
  readStdin(): Promise<string>;
}

/**
 * Command-line words → tokens: `@file` reads a file, `-` reads stdin (once), anything else is itself a token (commas
 * separate several). A file that cannot be read is reported like a bad target.
 */
export async function collectTokens(words: readonly string[], io: TargetIo): Promise<{ tokens: Token[]; errors: TargetError[] }> {
  const tokens: Token[] = [];
  const errors: TargetError[] = [];
  let stdinRead = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w === '-') {
      if (stdinRead) continue;
      stdinRead = true;
      tokens.push(...tokensOf(await io.readStdin(), 'stdin'));
    } else if (w.startsWith('@')) {
      const path = w.slice(1);
      try {
        tokens.push(...tokensOf(await io.readFile(path), path));
      } catch (e) {
        errors.push({ source: 'argument', line: i + 1, text: w, message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      }
    } else {
      for (const text of w.split(',')) if (text.trim()) tokens.push({ text: text.trim(), source: 'argument', line: i + 1 });
    }
  }
  return { tokens, errors };
}

// ---------------------------------------------------------------------------------------------------------------
// The set

export interface ScanTarget {
  /** Canonical `address:port`, `[v6]:port` or `name:port`: the identity used for dedupe, resume and merge. */
  key: string;
  /** The address (canonical text) or the host name. */
  host: string;
  /** Set when the target is an address (no DNS needed). */
  address?: string;
  family?: 4 | 6;
  port: number;
  /** Position in the full expanded order (before sharding). */
  index: number;
}

export function targetKey(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

interface Group {
  ports: number[];
  v4: Interval[];
  v6: Interval[];
  octets: [number, number][][];
  names: string[];
}

interface ExcludeBucket {
  v4: Interval[];
  v6: Interval[];
  octets: [number, number][][];
  names: Set<string>;
}

const emptyBucket = (): ExcludeBucket => ({ v4: [], v6: [], octets: [], names: new Set() });

export interface TargetStats {
  /** Tokens accepted. */
  specs: number;
  /** Targets as written (sum over specs of addresses × ports). */
  given: number;
  /** Dropped because another spec already named them. */
  duplicates: number;
  /** Removed by --exclude / --exclude-file. */
  excluded: number;
  /** What will be scanned (before sharding and resume). */
  total: number;
}

export class TargetSetBuilder {
  private groups = new Map<string, Group>();
  private excludeAll = emptyBucket();
  private excludeByPort = new Map<number, ExcludeBucket>();
  private specs = 0;
  private given = 0n;
  readonly errors: TargetError[] = [];

  constructor(private readonly defaultPorts: number[] = [DEFAULT_PORT]) {
    if (!defaultPorts.length) throw new TargetSyntaxError('no ports');
  }

  /** Add a target token; a bad one is recorded in `errors` (with its line) and skipped. */
  add(tok: Token): boolean {
    let p: ParsedTarget;
    try {
      p = parseTargetToken(tok.text);
    } catch (e) {
      this.errors.push({ ...tok, message: (e as Error).message });
      return false;
    }
    const ports = p.port !== undefined ? [p.port] : this.defaultPorts;
    const key = ports.join(',');
    let g = this.groups.get(key);
    if (!g) this.groups.set(key, (g = { ports, v4: [], v6: [], octets: [], names: [] }));
    this.specs++;
    if ('name' in p) {
      g.names.push(p.name);
      this.given += BigInt(ports.length);
    } else {
      this.given += specSize(p.addr) * BigInt(ports.length);
      if (p.addr.kind === 'octets') g.octets.push(p.addr.ranges);
      else (p.addr.family === 4 ? g.v4 : g.v6).push({ lo: p.addr.lo, hi: p.addr.hi });
    }
    return true;
  }

  /** Add an exclude token: with a port it excludes that port only, without one every port. */
  exclude(tok: Token): boolean {
    let p: ParsedTarget;
    try {
      p = parseTargetToken(tok.text);
    } catch (e) {
      this.errors.push({ ...tok, message: `exclude: ${(e as Error).message}` });
      return false;
    }
    let b = this.excludeAll;
    if (p.port !== undefined) {
      b = this.excludeByPort.get(p.port) ?? emptyBucket();
      this.excludeByPort.set(p.port, b);
    }
    if ('name' in p) b.names.add(p.name);
    else if (p.addr.kind === 'octets') b.octets.push(p.addr.ranges);
    else (p.addr.family === 4 ? b.v4 : b.v6).push({ lo: p.addr.lo, hi: p.addr.hi });
    return true;
  }

  build(): TargetSet {
    const groups = [...this.groups.values()].map((g) => ({ ...g, v4: coalesce(g.v4), v6: coalesce(g.v6) }));
    const norm = (b: ExcludeBucket): ExcludeBucket => ({ ...b, v4: coalesce(b.v4), v6: coalesce(b.v6) });
    const byPort = new Map([...this.excludeByPort].map(([p, b]) => [p, norm(b)] as const));
    return new TargetSet(groups, norm(this.excludeAll), byPort, this.specs, this.given);
  }
}

function specSize(a: AddrSpec): bigint {
  if (a.kind === 'interval') return a.hi - a.lo + 1n;
  return a.ranges.reduce((n, [lo, hi]) => n * BigInt(hi - lo + 1), 1n);
}

/**
 * Intervals of an octet product in ascending order. Trailing full octets (0-255) fold into the last ranged octet,
 * so 10.0-3.*.* yields 4 intervals and 10.0.0.1-50 one.
 */
export function* octetIntervals(ranges: readonly [number, number][]): Generator<Interval> {
  let k = 3;
  while (k >= 0 && ranges[k][0] === 0 && ranges[k][1] === 255) k--;
  if (k < 0) {
    yield { lo: 0n, hi: BigInt(V4_MAX) };
    return;
  }
  const tail = 2 ** (8 * (3 - k)); // addresses per step of octet k
  const idx = ranges.slice(0, k).map(([a]) => a);
  for (;;) {
    let prefix = 0;
    for (let i = 0; i < k; i++) prefix = prefix * 256 + idx[i];
    const base = prefix * 256 * tail;
    yield { lo: BigInt(base + ranges[k][0] * tail), hi: BigInt(base + (ranges[k][1] + 1) * tail - 1) };
    // odometer over octets 0..k-1
    let i = k - 1;
    while (i >= 0 && idx[i] === ranges[i][1]) {
      idx[i] = ranges[i][0];
      i--;
    }
    if (i < 0) return;
    idx[i]++;
  }
}

export class TargetSet {
  readonly ports: number[];
  private statsCache: TargetStats | undefined;

  constructor(
    private readonly groups: readonly Group[],
    private readonly excludeAll: ExcludeBucket,
    private readonly excludeByPort: ReadonlyMap<number, ExcludeBucket>,
    private readonly specCount: number,
    private readonly givenCount: bigint,
  ) {
    const ports = new Set<number>();
    for (const g of groups) for (const p of g.ports) ports.add(p);
    this.ports = [...ports].sort((a, b) => a - b);
  }

  /** Address intervals for one port and family, before excludes (union of every spec naming that port). */
  private included(port: number, family: 4 | 6): Generator<Interval> {
    const streams: Iterable<Interval>[] = [];
    for (const g of this.groups) {
      if (!g.ports.includes(port)) continue;
      streams.push(family === 4 ? g.v4 : g.v6);
      if (family === 4) for (const o of g.octets) streams.push(octetIntervals(o));
    }
    return union(streams);
  }

  private excluded(port: number, family: 4 | 6): Generator<Interval> {
    const streams: Iterable<Interval>[] = [];
    for (const b of [this.excludeAll, this.excludeByPort.get(port)]) {
      if (!b) continue;
      streams.push(family === 4 ? b.v4 : b.v6);
      if (family === 4) for (const o of b.octets) streams.push(octetIntervals(o));
    }
    return union(streams);
  }

  /** Sorted, coalesced intervals of what is scanned on `port` (streamed). */
  intervals(port: number, family: 4 | 6): Generator<Interval> {
    return subtract(this.included(port, family), this.excluded(port, family));
  }

  /** Host names for `port`, deduplicated, in first-seen order, minus excluded names. */
  names(port: number): string[] {
    const seen = new Set<string>();
    const ex = this.excludeByPort.get(port)?.names;
    for (const g of this.groups) {
      if (!g.ports.includes(port)) continue;
      for (const n of g.names) if (!this.excludeAll.names.has(n) && !ex?.has(n)) seen.add(n);
    }
    return [...seen];
  }

  private uniqueNames(port: number): number {
    const seen = new Set<string>();
    for (const g of this.groups) if (g.ports.includes(port)) for (const n of g.names) seen.add(n);
    return seen.size;
  }

  /** Counts (one streaming pass over the intervals; nothing stored). */
  stats(): TargetStats {
    if (this.statsCache) return this.statsCache;
    let unique = 0n;
    let total = 0n;
    for (const port of this.ports) {
      for (const f of [4, 6] as const) {
        unique += countOf(this.included(port, f));
        total += countOf(this.intervals(port, f));
      }
      unique += BigInt(this.uniqueNames(port));
      total += BigInt(this.names(port).length);
    }
    this.statsCache = {
      specs: this.specCount,
      given: Number(this.givenCount),
      duplicates: Number(this.givenCount - unique),
      excluded: Number(unique - total),
      total: Number(total),
    };
    return this.statsCache;
  }

  /** Targets in this shard (size without enumerating: ⌈(total − K) / N⌉). */
  shardSize(shard?: Shard): number {
    return shardSize(this.stats().total, shard);
  }

  /**
   * Every target (or those of one shard: index ≡ K mod N over the canonical order), lazily. Striding over the
   * order interleaves shards across the whole address space, so each shard touches every subnet lightly instead
   * of one shard hammering one subnet.
   */
  *expand(shard?: Shard): Generator<ScanTarget> {
    const n = shard?.count ?? 1;
    let base = 0; // global index of the first address of the current interval
    const firstAt = (b: number) => firstInShard(b, shard);
    for (const port of this.ports) {
      for (const iv of this.intervals(port, 4)) {
        const size = Number(intervalSize(iv));
        const lo = Number(iv.lo);
        for (let j = firstAt(base); j < size; j += n) {
          const host = formatIPv4(lo + j);
          yield { key: `${host}:${port}`, host, address: host, family: 4, port, index: base + j };
        }
        base += size;
      }
      for (const iv of this.intervals(port, 6)) {
        const size = Number(intervalSize(iv));
        for (let j = firstAt(base); j < size; j += n) {
          const host = formatIPv6(iv.lo + BigInt(j));
          yield { key: `[${host}]:${port}`, host, address: host, family: 6, port, index: base + j };
        }
        base += size;
      }
      for (const name of this.names(port)) {
        if (firstAt(base) === 0) yield { key: `${name}:${port}`, host: name, port, index: base };
        base++;
      }
    }
  }
}

/** Parse tokens and excludes into a set; bad tokens are collected in `errors`. */
export function buildTargetSet(
  tokens: Iterable<Token>,
  opts: { ports?: number[]; excludes?: Iterable<Token> } = {},
): { set: TargetSet; errors: TargetError[] } {
  const b = new TargetSetBuilder(opts.ports ?? [DEFAULT_PORT]);
  for (const t of tokens) b.add(t);
  for (const t of opts.excludes ?? []) b.exclude(t);
  return { set: b.build(), errors: b.errors };
}
