import { readFile, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { Option } from 'commander';
import { diagnose, PROFILE_NAMES, REQUIRE_MODES, type ProfileName, type RequireMode } from '../../diagnose/index.js';
import type { ProtocolName } from '../../observation/types.js';
import { runProbe, type Depth, type ProbeOptions } from '../../probe/run-probe.js';
import { AtomicFile } from '../../report/atomic-write.js';
import { CsvWriter } from '../../report/csv.js';
import { NdjsonWriter, type ScanWriter } from '../../report/ndjson.js';
import { JsonDocumentWriter } from '../../report/scan-json.js';
import { TableWriter } from '../../report/scan-table.js';
import { renderSummary } from '../../report/summary-render.js';
import { createReachProber } from '../../probe/reach.js';
import { FdGovernor } from '../../scan/fdlimit.js';
import { capYoungGeneration } from '../../scan/memory.js';
import { ProgressBar } from '../../scan/progress.js';
import { RateLimiter } from '../../scan/rate.js';
import { DoneSet, loadResume } from '../../scan/resume.js';
import { Scheduler, type ProbeFn } from '../../scan/scheduler.js';
import { parseShard, ShardSyntaxError } from '../../scan/shard.js';
import {
  matchesFailOn,
  parseFailOn,
  SummaryBuilder,
  toHostRecord,
  toRecordDiagnosis,
  type HostRecord,
  type RecordDiagnosis,
} from '../../scan/summary.js';
import { collectTokens, formatTargetError, parsePortList, TargetSetBuilder, tokensOf, type Token } from '../../scan/targets.js';
import { pathPhases } from '../phases.js';
import { intOption, protocolList, UsageError } from '../util.js';

export type ScanFormat = 'table' | 'json' | 'ndjson' | 'csv';

export interface ScanCliOptions {
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
  format?: ScanFormat;
  output?: string;
  resume: string[];
  failOn?: string;
  open?: boolean;
  quiet?: boolean;
  progress: boolean;
}

const collect = (v: string, prev: string[]) => [...prev, v];

/** Whether colour is allowed on a stream (https://no-color.org: NO_COLOR set and non-empty disables it). */
export function colorFor(stream: { isTTY?: boolean }): boolean {
  return !!stream.isTTY && !process.env.NO_COLOR;
}

export function formatFor(o: { format?: ScanFormat; output?: string }, stdoutIsTty: boolean): ScanFormat {
  if (o.format) return o.format;
  if (o.output) {
    if (/\.json$/i.test(o.output)) return 'json';
    if (/\.csv$/i.test(o.output)) return 'csv';
    return 'ndjson';
  }
  return stdoutIsTty ? 'table' : 'ndjson';
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError("'-' reads targets from stdin, but stdin is a terminal");
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function register(program: Command): void {
  program
    .command('scan')
    .description('scan many RDP endpoints (names, IPv4/IPv6 addresses, CIDR blocks, ranges, @files, - for stdin) and report one record per host')
    .argument('[targets...]', 'HOST, HOST:PORT, [IPv6]:PORT, 10.0.0.0/24, 10.0.0.1-50, 10.0.0-3.1-254, 2001:db8::/120, 2001:db8::1-ff, @FILE, -')
    .option('-p, --port <ports>', 'port(s) for targets that name none: 3389 | 3389,3390 | 3380-3390', '3389')
    .option('--exclude <targets>', 'skip these targets (same syntax; comma-separated; repeatable)', collect, [])
    .option('--exclude-file <file>', 'skip the targets listed in FILE (repeatable)', collect, [])
    .option('--strict', 'stop before scanning when any target is bad (exit 2); default: report it with its line and go on')
    .option('--shard <K/N>', 'scan only shard K of N (0-based K; disjoint, together complete): e.g. $JOB_COMPLETION_INDEX/8')
    .addOption(
      new Option('--depth <depth>', 'reach: TCP connect only; negotiate: one X.224 exchange; full: everything `probe` does')
        .choices(['reach', 'negotiate', 'full'])
        .default('negotiate'),
    )
    .option('-c, --concurrency <n>', 'hosts in flight at once (lowered automatically near the descriptor limit)', intOption('--concurrency', 1, 65_536), 256)
    .option('--rate <n>', 'new connections per second (default: no limit besides --concurrency)', intOption('--rate', 1, 10_000_000))
    .option('--timeout <ms>', 'TCP connect and per-phase deadline', intOption('--timeout', 50, 120_000), 3000)
    .option('--host-timeout <ms>', 'deadline for one host, retries included (default: reach 1 s + timeout, negotiate 1 s + 2×timeout, full 60 s; ×(1+retries))', intOption('--host-timeout', 100, 3_600_000))
    .option('--retries <n>', 'extra attempts for hosts that did not answer at all (SYN unanswered)', intOption('--retries', 0, 10), 0)
    .option('--cookie <id>', 'send "Cookie: mstshash=<id>" in the Connection Request (default: no cookie)')
    .option('--offer <protocols>', 'what the Connection Request offers (default SSL,HYBRID,HYBRID_EX)', protocolList)
    .option('--udp', 'also probe UDP transport (needs --depth full; limited by --path-rate)')
    .option('--pmtu', 'also measure the path MTU (needs --depth full; limited by --path-rate)')
    .option('--path-rate <n>', 'hosts per second that get the UDP / path-MTU probes', intOption('--path-rate', 1, 10_000), 10)
    .addOption(new Option('--client <profile>', 'judge each host for this client profile (as `rdprobe diagnose`)').choices([...PROFILE_NAMES]).default('mstsc'))
    .addOption(new Option('--require <layer>', 'the client insists on this security layer only').choices([...REQUIRE_MODES]))
    .option('--no-diagnose', 'do not diagnose each host')
    .addOption(new Option('-f, --format <format>', 'table (default on a terminal) | json | ndjson (default when piped) | csv').choices(['table', 'json', 'ndjson', 'csv']))
    .option('-o, --output <file>', 'write results to FILE atomically (temporary file, then rename); format from the extension unless -f')
    .option('--resume <file>', 'skip targets FILE already has results for (repeatable; any scan output format)', collect, [])
    .option('--fail-on <list>', 'exit 3 when a host matches: cause id, client error (0x204, 0x4/0x0) or outcome (refused …), comma-separated')
    .option('--open', 'table: list only hosts whose TCP port opened')
    .option('-q, --quiet', 'no progress line and no summary on stderr')
    .option('--no-progress', 'no progress line')
    .action(async (words: string[], o: ScanCliOptions) => {
      process.exitCode = await runScan(words, o);
    });
}

/** The scan command; returns the exit code (0 done, 1 internal error, 2 usage, 3 --fail-on matched, 130 interrupted). */
export async function runScan(words: string[], o: ScanCliOptions): Promise<number> {
  const stderr = process.stderr;
  const say = (s: string) => {
    if (!o.quiet) stderr.write(`${s}\n`);
  };

  // ---- options
  let ports: number[];
  try {
    ports = parsePortList(o.port);
  } catch (e) {
    throw new UsageError(`--port: ${(e as Error).message}`);
  }
  let shard;
  try {
    shard = o.shard !== undefined ? parseShard(o.shard) : undefined;
  } catch (e) {
    throw e instanceof ShardSyntaxError ? new UsageError(e.message) : e;
  }
  if ((o.udp || o.pmtu) && o.depth !== 'full') throw new UsageError('--udp and --pmtu run after the RDP handshake: use them with --depth full');
  if (o.offer && o.offer.length === 0) throw new UsageError('--offer: name at least one protocol');
  const failOn = o.failOn ? parseFailOn(o.failOn) : [];
  const depth = o.depth;
  const hostTimeoutMs =
    o.hostTimeout ?? (depth === 'reach' ? 1000 + o.timeout : depth === 'negotiate' ? 1000 + 2 * o.timeout : 60_000) * (1 + o.retries);

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
  for (const e of bad) stderr.write(`rdprobe: bad target: ${formatTargetError(e)}\n`);
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

  // ---- signals: first = stop sending and let in-flight hosts finish; second = cancel them. Installed before the
  // output file exists, so a Ctrl-C at any point from here on ends in a complete, committed output.
  const stop = new AbortController();
  const kill = new AbortController();
  const progressRef: { bar?: ProgressBar } = {};
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      progressRef.bar?.clear();
      say(`\nrdprobe: ${sig}: stopping — finishing hosts in flight (again to cancel them)`);
      stop.abort();
    } else kill.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const offSignals = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };

  // ---- output
  const format = formatFor(o, !!process.stdout.isTTY && !o.output);
  if (carry.length && format === 'csv') {
    offSignals();
    throw new UsageError('--resume into the same -o file needs ndjson or json output; write to a new file and merge');
  }
  let file: AtomicFile | undefined;
  try {
    file = outPath ? await AtomicFile.create(outPath) : undefined;
  } catch (e) {
    offSignals();
    throw new UsageError(`-o ${o.output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const out: Writable = file ? file.stream : process.stdout;
  const toTerminal = !file && !!process.stdout.isTTY;
  const showProgress = !o.quiet && o.progress && !!stderr.isTTY;
  const around = toTerminal && showProgress ? <T>(fn: () => T): T => (progressRef.bar ? progressRef.bar.around(fn) : fn()) : undefined;
  const resumeHint = o.output ?? undefined;
  const scanInfo = { depth, ports, shard: o.shard, planned, startedAt: new Date().toISOString() };
  let writer: ScanWriter;
  switch (format) {
    case 'table':
      writer = new TableWriter(out, { color: toTerminal && colorFor(process.stdout), columns: process.stdout.columns, openOnly: o.open, around, resumeHint });
      break;
    case 'json':
      writer = new JsonDocumentWriter(out, scanInfo);
      break;
    case 'csv':
      writer = new CsvWriter(out);
      break;
    default:
      writer = new NdjsonWriter(out);
  }
  let outputBroken: Error | undefined;
  const onOutError = (e: Error) => {
    outputBroken ??= e;
    stop.abort();
  };
  out.on('error', onOutError);

  const summary = new SummaryBuilder();
  let failHosts = 0;
  let internal = 0;
  const addRecord = (rec: HostRecord) => {
    const failed = matchesFailOn(rec, failOn);
    if (failed) failHosts++;
    if (rec.outcome === 'error') internal++;
    summary.add(rec, failed);
    return writer.host(rec);
  };
  for (const r of carry) {
    try {
      const l = await loadResume(r, done, (rec) => addRecord(rec));
      say(`resume: ${r}: ${l.records.toLocaleString('en-US')} host(s) already done, carried into ${o.output}`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      await file?.discard();
      offSignals();
      throw new UsageError(`--resume ${r}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }

  // ---- probe
  const judge = o.diagnose ? (obs: Parameters<typeof diagnose>[0]) => diagnose(obs, { profile: o.client, require: o.require, perProfile: false }) : undefined;
  const wantedConcurrency = o.concurrency;
  const perProbe = depth === 'full' ? 4 : 1;
  const governor = new FdGovernor({ wanted: wantedConcurrency, perProbe });
  if (governor.limitedAtStart) {
    say(`rdprobe: --concurrency ${wantedConcurrency} lowered to ${governor.cap}: the open-file limit is ${governor.limit} (raise it with ulimit -n)`);
  }
  let probeFn: ProbeFn | undefined;
  const sched = new Scheduler({
    probe: (t, ctx) => probeFn!(t, ctx),
    concurrency: wantedConcurrency,
    rate: o.rate,
    hostTimeoutMs,
    retries: o.retries,
    stop: stop.signal,
    kill: kill.signal,
    graceMs: Math.min(2000, o.timeout),
    skip: done.size ? (t) => done.has(t) : undefined,
    governor,
    onResult: (r) => {
      let diagnosis: RecordDiagnosis | undefined;
      if (judge) {
        try {
          diagnosis = toRecordDiagnosis(judge(r.observation));
        } catch (e) {
          r.observation.errors.push({ phase: 'diagnose', code: 'RDPROBE_INTERNAL', message: (e as Error).stack ?? String(e) });
        }
      }
      const w = addRecord(toHostRecord(r.target, r.observation, { attempts: r.attempts, ms: r.ms, diagnosis }));
      // a broken output (EPIPE from `| head`, a full disk) stops the scan; it is reported once, below
      return w?.catch((e: Error) => onOutError(e));
    },
  });
  const reach = depth === 'reach' ? createReachProber({ connectTimeoutMs: o.timeout, phaseTimeoutMs: o.timeout, timeoutMs: hostTimeoutMs, signal: sched.signal }) : undefined;
  const pathLimiter = o.udp || o.pmtu ? new RateLimiter(o.pathRate, 1) : undefined;
  const extraPhases = pathLimiter
    ? pathPhases({ udp: !!o.udp, pmtu: !!o.pmtu }).map(
        (phase): NonNullable<ProbeOptions['extraPhases']>[number] =>
          async (obs, ctx) => {
            await pathLimiter.take();
            return phase(obs, ctx);
          },
      )
    : undefined;
  probeFn = (t, ctx) => {
    if (reach && t.address) return reach.probe(t, ctx.timeoutMs);
    const opts: ProbeOptions = {
      address: t.address,
      port: t.port,
      depth,
      timeoutMs: ctx.timeoutMs,
      phaseTimeoutMs: o.timeout,
      connectTimeoutMs: o.timeout,
      cookie: o.cookie ?? null,
      requested: o.offer,
      signal: ctx.signal,
      extraPhases,
    };
    return runProbe(t.key, opts);
  };

  if (showProgress) {
    progressRef.bar = new ProgressBar(
      stderr,
      () => ({
        done: sched.live.completed + sched.live.skipped,
        total: planned,
        active: sched.live.active,
        cap: sched.live.cap,
        backingOff: sched.live.backingOff,
        counts: summary.byOutcome,
      }),
      { color: colorFor(stderr) },
    ).start();
  }

  if (depth !== 'reach') capYoungGeneration();
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  let result;
  try {
    result = await sched.run(set.expand(shard));
  } catch (e) {
    progressRef.bar?.stop();
    await reach?.close();
    offSignals();
    if (file) stderr.write(`rdprobe: results so far are in ${file.tempPath}\n`);
    throw e;
  }
  progressRef.bar?.stop();
  offSignals();
  await reach?.close();

  const elapsedMs = Math.round(performance.now() - t0);
  const interrupted = result.interrupted && !outputBroken;
  const s = summary.build({
    startedAt,
    elapsedMs,
    depth,
    ports,
    shard: o.shard,
    interrupted: result.interrupted,
    targets: {
      planned,
      resumed: result.skipped || undefined,
      notScanned: result.interrupted ? Math.max(0, planned - result.completed - result.skipped) : undefined,
      duplicates: stats.duplicates,
      excluded: stats.excluded,
      bad: bad.length,
    },
    rate: elapsedMs > 0 ? Math.round((result.completed / elapsedMs) * 1000 * 10) / 10 : undefined,
    failOn: failOn.length ? { patterns: failOn, hosts: failHosts } : undefined,
  });
  if (outputBroken && !file) {
    // stdout went away: after `| head` that is the reader's choice (exit 0, like a tool killed by SIGPIPE would
    // not complain); anything else is an error worth a line
    if ((outputBroken as NodeJS.ErrnoException).code === 'EPIPE') return 0;
    stderr.write(`rdprobe: cannot write the results: ${outputBroken.message}\n`);
    return 1;
  }
  try {
    if (outputBroken) throw outputBroken;
    await writer.end(s);
    out.off('error', onOutError);
    if (file) {
      await file.commit();
      // the leftovers are now part of the committed file
      for (const r of carry) if (resolve(r) !== outPath) await unlink(r).catch(() => undefined);
    }
  } catch (e) {
    if (file) stderr.write(`rdprobe: cannot finish ${o.output} (${(e as Error).message}); the results so far are in ${file.tempPath}\n`);
    throw e;
  }
  if (format !== 'table' || file) say(renderSummary(s, { color: colorFor(stderr), resumeHint }));
  if (reach && !o.quiet && process.env.RDPROBE_DEBUG) say(`reach prober: ${reach.impl}`);

  if (interrupted) return 130;
  if (internal > 0) return 1;
  if (failOn.length && failHosts > 0) return 3;
  return 0;
}
