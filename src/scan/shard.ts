/**
 * `--shard K/N`: a deterministic, disjoint split of the expanded targets. Target number i (0-based, in the canonical
 * expansion order of targets.ts) belongs to shard i mod N. Every target is in exactly one shard and the union of
 * the N shards is the whole set, whatever the machine, the run or the input order, as long as every shard is given
 * the same targets, ports and excludes. K is 0-based so a Kubernetes Indexed Job can pass JOB_COMPLETION_INDEX as is.
 */

export interface Shard {
  /** 0 … count-1 */
  index: number;
  count: number;
}

export class ShardSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShardSyntaxError';
  }
}

/** `K/N` with 0 ≤ K < N. */
export function parseShard(s: string): Shard {
  const m = /^(\d{1,9})\/(\d{1,9})$/.exec(s.trim());
  if (!m) throw new ShardSyntaxError(`--shard expects K/N (e.g. 0/4), got '${s}'`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new ShardSyntaxError('--shard: N must be at least 1');
  if (index >= count) throw new ShardSyntaxError(`--shard: K is 0-based (0..${count - 1}, like JOB_COMPLETION_INDEX), got ${index}`);
  return { index, count };
}

export function inShard(index: number, shard: Shard | undefined): boolean {
  return !shard || index % shard.count === shard.index;
}

/** Number of indices i in [0, total) with i ≡ K (mod N). */
export function shardSize(total: number, shard: Shard | undefined): number {
  if (!shard) return total;
  return total > shard.index ? Math.floor((total - shard.index - 1) / shard.count) + 1 : 0;
}

/** Offset j ≥ 0 of the first member of the shard in a run of indices starting at `base`. */
export function firstInShard(base: number, shard: Shard | undefined): number {
  if (!shard) return 0;
  return (((shard.index - base) % shard.count) + shard.count) % shard.count;
}
