/**
 * `rdprobe scan`, step 1: the command line → a checked ScanConfig (options, the target set, what --resume already
 * has). Everything here happens before the first packet; every mistake is a UsageError (exit 2).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ProfileName, RequireMode } from '../../diagnose/profiles.js';
import type { ProtocolName } from '../../observation/types.js';
import type { Depth } from '../../probe/run-probe.js';
import { DoneSet, loadResume } from '../../scan/resume.js';
import { parseShard, ShardSyntaxError, type Shard } from '../../scan/shard.js';
import { parseFailOn } from '../../scan/summary.js';
import {
  collectTokens,
  formatTargetError,
  parsePortList,
  TargetSetBuilder,
  tokensOf,
  type TargetError,
  type TargetSet,
  type Token,
} from '../../scan/targets.js';
import type { ResultCliOptions } from '../options/results.js';
import { UsageError } from '../util.js';

export interface ScanCliOptions extends ResultCliOptions {
  port: string;
  exclude: string[];
  excludeFile: string[];
  strict?: boolean;
  shard?: string;
  depth: Depth;
  concurrency: number;
  rate?: number;
  timeout: number;
  hostTimeout?: number;
  retries: number;
  cookie?: string;
  offer?: ProtocolName[];
  udp?: boolean;
  pmtu?: boolean;
  pathRate: number;
  client: ProfileName;
  require?: RequireMode;
  diagnose: boolean;
  resume: string[];
  open?: boolean;
  progress: boolean;
}

export interface ScanConfig {
  o: ScanCliOptions;
  depth: Depth;
  ports: number[];
  shard?: Shard;
  failOn: string[];
  /** Deadline for one host, retries included. */
  hostTimeoutMs: number;
  set: TargetSet;
  stats: ReturnType<TargetSet['stats']>;
  /** Targets of this run (after dedupe, excludes, the shard). */
  planned: number;
  /** Targets that did not parse (already reported on stderr). */
  bad: TargetError[];
  /** Targets the --resume files already hold. */
  done: DoneSet;
  /** The -o file, absolute. */
  outPath?: string;
  /** --resume files that are the -o file itself or its `.partial` leftovers: their records are carried into the new output. */
  carry: string[];
}

/** A line on stderr unless -q. */
export type Say = (s: string) => void;

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError("'-' reads targets from stdin, but stdin is a terminal");
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The default per-host deadline: reach 1 s + timeout, negotiate 1 s + 2×timeout, full 60 s; ×(1+retries). */
export function defaultHostTimeout(depth: Depth, timeoutMs: number, retries: number): number {
  return (depth === 'reach' ? 1000 + timeoutMs : depth === 'negotiate' ? 1000 + 2 * timeoutMs : 60_000) * (1 + retries);
}

export async function scanConfigFrom(words: string[], o: ScanCliOptions, say: Say): Promise<ScanConfig> {
  // ---- options
  let ports: number[];
  try {
    ports = parsePortList(o.port);
  } catch (e) {
    throw new UsageError(`--port: ${(e as Error).message}`);
  }
  let shard: Shard | undefined;
  try {
    shard = o.shard !== undefined ? parseShard(o.shard) : undefined;
  } catch (e) {
    throw e instanceof ShardSyntaxError ? new UsageError(e.message) : e;
  }
  if ((o.udp || o.pmtu) && o.depth !== 'full') throw new UsageError('--udp and --pmtu run after the RDP handshake: use them with --depth full');
  if (o.offer && o.offer.length === 0) throw new UsageError('--offer: name at least one protocol');
  const failOn = o.failOn ? parseFailOn(o.failOn) : [];
  const depth = o.depth;
  const hostTimeoutMs = o.hostTimeout ?? defaultHostTimeout(depth, o.timeout, o.retries);

  // ---- targets
  if (!words.length) throw new UsageError('no targets (give addresses, names, CIDR blocks, ranges, @FILE or - for stdin)');
  const io = { readFile: (p: string) => readFile(p, 'utf8'), readStdin };
  const { tokens, errors: readErrors } = await collectTokens(words, io);
  const excludeTokens: Token[] = [];
  for (const e of o.exclude) for (const text of e.split(',')) if (text.trim()) excludeTokens.push({ text: text.trim(), source: '--exclude', line: 1 });
  for (const f of o.excludeFile) {
    try {
      excludeTokens.push(...tokensOf(await readFile(f, 'utf8'), f));
    } catch (e) {
      throw new UsageError(`--exclude-file ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const builder = new TargetSetBuilder(ports);
  for (const t of tokens) builder.add(t);
  for (const t of excludeTokens) builder.exclude(t);
  const bad = [...readErrors, ...builder.errors];
  for (const e of bad) process.stderr.write(`rdprobe: bad target: ${formatTargetError(e)}\n`);
  if (bad.length && o.strict) throw new UsageError(`${bad.length} bad target(s); nothing scanned (--strict)`);
  const set = builder.build();
  const stats = set.stats();
  if (stats.total === 0 && bad.length === tokens.length + readErrors.length && bad.length > 0) throw new UsageError('no valid targets');
  const planned = set.shardSize(shard);

  // ---- resume
  const done = new DoneSet();
  const outPath = o.output ? resolve(o.output) : undefined;
  // Results carried into the new output: the -o file itself, and the `<-o>.<pid>.partial` leftovers of an earlier
  // attempt at it that was killed before it could rename (the temporary file of atomic-write.ts).
  const isCarry = (r: string) => !!outPath && (resolve(r) === outPath || (resolve(r).startsWith(`${outPath}.`) && /\.\d+\.partial$/.test(r)));
  const carry = o.resume.filter(isCarry);
  for (const r of o.resume) {
    if (carry.includes(r)) continue;
    try {
      const l = await loadResume(r, done);
      say(`resume: ${r}: ${l.records.toLocaleString('en-US')} host(s) already done${l.skippedLines ? `, ${l.skippedLines} unreadable line(s) ignored` : ''}`);
    } catch (e) {
      throw new UsageError(`--resume ${r}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  return { o, depth, ports, shard, failOn, hostTimeoutMs, set, stats, planned, bad, done, outPath, carry };
}
