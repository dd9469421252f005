/**
 * Sets of addresses as sorted lists of inclusive intervals [lo, hi] over bigint (IPv4 and IPv6 alike). Everything
 * here streams: union and difference consume sorted interval iterators and yield sorted, coalesced intervals, so a
 * /8 or a fragmented octet range never exists as a list of addresses in memory.
 */

export interface Interval {
  lo: bigint;
  hi: bigint;
}

export function intervalSize(iv: Interval): bigint {
  return iv.hi - iv.lo + 1n;
}

/** Sort and merge overlapping or adjacent intervals (array in, new array out). */
export function coalesce(list: readonly Interval[]): Interval[] {
  const sorted = [...list].sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
  const out: Interval[] = [];
  for (const iv of sorted) {
    const last = out[out.length - 1];
    if (last && iv.lo <= last.hi + 1n) {
      if (iv.hi > last.hi) last.hi = iv.hi;
    } else out.push({ lo: iv.lo, hi: iv.hi });
  }
  return out;
}

/**
 * Union of sorted interval streams (each sorted by lo; intervals within one stream may touch or overlap), coalesced.
 * A k-way merge over a small binary heap: memory is O(k), not O(addresses).
 */
export function* union(streams: Iterable<Interval>[]): Generator<Interval> {
  type Head = { iv: Interval; it: Iterator<Interval> };
  const heap: Head[] = [];
  const less = (a: Head, b: Head) => a.iv.lo < b.iv.lo;
  const push = (h: Head) => {
    heap.push(h);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(heap[i], heap[p])) break;
      [heap[i], heap[p]] = [heap[p], heap[i]];
      i = p;
    }
  };
  const pop = (): Head => {
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[l], heap[m])) m = l;
        if (r < heap.length && less(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  };
  for (const s of streams) {
    const it = s[Symbol.iterator]();
    const n = it.next();
    if (!n.done) push({ iv: n.value, it });
  }
  let cur: Interval | null = null;
  while (heap.length) {
    const h = pop();
    const iv = h.iv;
    const n = h.it.next();
    if (!n.done) {
      if (n.value.lo < iv.lo) throw new Error('interval stream not sorted');
      push({ iv: n.value, it: h.it });
    }
    if (cur && iv.lo <= cur.hi + 1n) {
      if (iv.hi > cur.hi) cur = { lo: cur.lo, hi: iv.hi };
    } else {
      if (cur) yield cur;
      cur = { lo: iv.lo, hi: iv.hi };
    }
  }
  if (cur) yield cur;
}

/** a \ b, both sorted and coalesced streams. */
export function* subtract(a: Iterable<Interval>, b: Iterable<Interval>): Generator<Interval> {
  const bIt = b[Symbol.iterator]();
  let cur = bIt.next();
  for (const iv of a) {
    let lo = iv.lo;
    const hi = iv.hi;
    while (!cur.done && cur.value.hi < lo) cur = bIt.next();
    while (lo <= hi) {
      if (cur.done || cur.value.lo > hi) {
        yield { lo, hi };
        break;
      }
      const e = cur.value;
      if (e.lo > lo) yield { lo, hi: e.lo - 1n };
      if (e.hi >= hi) break; // the rest of iv is excluded; e may still cover the next interval of a
      lo = e.hi + 1n;
      cur = bIt.next();
    }
  }
}

/** Total addresses in a stream (consumes it). */
export function countOf(s: Iterable<Interval>): bigint {
  let n = 0n;
  for (const iv of s) n += iv.hi - iv.lo + 1n;
  return n;
}

/**
 * A growing set of single values with membership tests, stored as coalesced intervals. Values are buffered and
 * folded in batches (sort, coalesce, merge), so marking the hosts of a /8 as done costs a few intervals, not
 * 16 million entries.
 */
export class PointSet {
  private los: bigint[] = [];
  private his: bigint[] = [];
  private pending: bigint[] = [];

  constructor(private readonly batch = 65536) {}

  add(v: bigint): void {
    this.pending.push(v);
    if (this.pending.length >= this.batch) this.fold();
  }

  has(v: bigint): boolean {
    if (this.pending.length) this.fold();
    let lo = 0;
    let hi = this.los.length - 1;
    while (lo <= hi) {
      const m = (lo + hi) >> 1;
      if (v < this.los[m]) hi = m - 1;
      else if (v > this.his[m]) lo = m + 1;
      else return true;
    }
    return false;
  }

  /** Number of stored intervals (for tests and memory reasoning). */
  get intervals(): number {
    if (this.pending.length) this.fold();
    return this.los.length;
  }

  private fold(): void {
    const pts = this.pending.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    this.pending = [];
    const merged: Interval[] = [];
    for (const p of pts) {
      const last = merged[merged.length - 1];
      if (last && p <= last.hi + 1n) {
        if (p > last.hi) last.hi = p;
      } else merged.push({ lo: p, hi: p });
    }
    const existing: Interval[] = this.los.map((lo, i) => ({ lo, hi: this.his[i] }));
    const all = [...union([existing, merged])];
    this.los = all.map((i) => i.lo);
    this.his = all.map((i) => i.hi);
  }
}
