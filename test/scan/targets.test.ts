import { describe, expect, it } from 'vitest';
import { coalesce, countOf, PointSet, subtract, union, type Interval } from '../../src/scan/intervals.js';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../../src/scan/ip.js';
import { firstInShard, inShard, parseShard, shardSize } from '../../src/scan/shard.js';
import {
  buildTargetSet,
  collectTokens,
  formatTargetError,
  octetIntervals,
  parsePortList,
  parseTargetToken,
  TargetSetBuilder,
  tokensOf,
  type ScanTarget,
  type Token,
} from '../../src/scan/targets.js';
import { prng } from '../helpers/prng.js';

const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const tok = (text: string, line = 1): Token => ({ text, source: 't', line });
const keys = (it: Iterable<ScanTarget>) => [...it].map((t) => t.key);

describe('IP parsing and formatting', () => {
  it('parses strict dotted quads', () => {
    expect(parseIPv4('10.0.0.1')).toBe(0x0a000001);
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff);
    for (const bad of ['10.0.0', '10.0.0.256', '010.0.0.1', '10.0.0.1.', '1.2.3.-4', '', 'a.b.c.d', '1..2.3']) expect(parseIPv4(bad)).toBeNull();
  });

  it('formats IPv6 per RFC 5952 (lower case, longest zero run, first on a tie, no single-group ::)', () => {
    const cases: [string, string][] = [
      ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // tie: the first run
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
      ['::', '::'],
      ['::1', '::1'],
      ['1::', '1::'],
      ['2001:db8::192.0.2.33', '2001:db8::c000:221'],
      ['::ffff:192.0.2.1', '::ffff:192.0.2.1'], // IPv4-mapped: mixed notation (RFC 5952 5)
      ['fe80:0:0:0:0:0:0:0', 'fe80::'],
    ];
    for (const [input, want] of cases) {
      const v = parseIPv6(input);
      expect(v, input).not.toBeNull();
      expect(formatIPv6(v!), input).toBe(want);
    }
    for (const bad of ['1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'fe80::1%eth0', ':1', '1:', 'g::1', '::1.2.3.256']) {
      expect(parseIPv6(bad), bad).toBeNull();
    }
  });

  it('round-trips random IPv6 addresses', () => {
    const r = prng(6);
    for (let i = 0; i < 2000; i++) {
      let v = 0n;
      // sparse groups so that zero runs of every length occur
      for (let g = 0; g < 8; g++) v = (v << 16n) | (r() < 0.4 ? 0n : BigInt(int(r, 0, 0xffff)));
      expect(parseIPv6(formatIPv6(v))).toBe(v);
    }
  });
});

describe('parseTargetToken', () => {
  const iv = (t: string) => {
    const p = parseTargetToken(t);
    if (!('addr' in p) || p.addr.kind !== 'interval') throw new Error(`${t}: not an interval`);
    const f = p.addr.family === 4 ? (x: bigint) => formatIPv4(Number(x)) : formatIPv6;
    return { family: p.addr.family, lo: f(p.addr.lo), hi: f(p.addr.hi), port: p.port };
  };

  it('accepts every documented form', () => {
    expect(iv('10.0.0.1')).toEqual({ family: 4, lo: '10.0.0.1', hi: '10.0.0.1', port: undefined });
    expect(iv('10.0.0.1:3390')).toEqual({ family: 4, lo: '10.0.0.1', hi: '10.0.0.1', port: 3390 });
    expect(iv('10.0.0.9/24')).toEqual({ family: 4, lo: '10.0.0.0', hi: '10.0.0.255', port: undefined });
    expect(iv('10.0.0.0/24:3390')).toEqual({ family: 4, lo: '10.0.0.0', hi: '10.0.0.255', port: 3390 });
    expect(iv('0.0.0.0/0')).toEqual({ family: 4, lo: '0.0.0.0', hi: '255.255.255.255', port: undefined });
    expect(iv('10.0.0.1-10.0.3.254')).toEqual({ family: 4, lo: '10.0.0.1', hi: '10.0.3.254', port: undefined });
    expect(iv('2001:db8::1')).toEqual({ family: 6, lo: '2001:db8::1', hi: '2001:db8::1', port: undefined });
    expect(iv('[2001:db8::1]:3390')).toEqual({ family: 6, lo: '2001:db8::1', hi: '2001:db8::1', port: 3390 });
    expect(iv('2001:db8::/120')).toEqual({ family: 6, lo: '2001:db8::', hi: '2001:db8::ff', port: undefined });
    expect(iv('[2001:db8::77/120]:3390')).toEqual({ family: 6, lo: '2001:db8::', hi: '2001:db8::ff', port: 3390 });
    expect(iv('2001:db8::1-ff')).toEqual({ family: 6, lo: '2001:db8::1', hi: '2001:db8::ff', port: undefined });
    expect(iv('2001:db8::1-2001:db8::1:0')).toEqual({ family: 6, lo: '2001:db8::1', hi: '2001:db8::1:0', port: undefined });
    expect(iv('2001:db8::/96')).toMatchObject({ lo: '2001:db8::', hi: '2001:db8::ffff:ffff' });
    expect(parseTargetToken('10.0.0.1-50')).toEqual({ addr: { kind: 'octets', family: 4, ranges: [[10, 10], [0, 0], [0, 0], [1, 50]] }, port: undefined });
    expect(parseTargetToken('10.0.0-3.1-254:3390')).toEqual({
      addr: { kind: 'octets', family: 4, ranges: [[10, 10], [0, 0], [0, 3], [1, 254]] },
      port: 3390,
    });
    expect(parseTargetToken('10.*.0.1')).toMatchObject({ addr: { ranges: [[10, 10], [0, 255], [0, 0], [1, 1]] } });
    expect(parseTargetToken('RDP.Example.COM.')).toEqual({ name: 'rdp.example.com', port: undefined });
    expect(parseTargetToken('rdp-1.example.com:3390')).toEqual({ name: 'rdp-1.example.com', port: 3390 });
  });

  it('rejects bad tokens with a message that says what is wrong', () => {
    const cases: [string, RegExp][] = [
      ['10.0.0.256', /octet 256 outside 0..255/],
      ['10.0.0', /expected 4 dot-separated octets/],
      ['10.0.0.010', /leading zero/],
      ['10.0.0.50-10', /reversed/],
      ['10.0.0.5-10.0.0.1', /below its start/],
      ['10.0.0.0/33', /prefix length/],
      ['10.0.0.1:0', /port 0 outside/],
      ['10.0.0.1:70000', /port 70000 outside/],
      ['host:x', /not a port number/],
      ['2001:db8::/64', /2\^64 addresses; the largest IPv6 block .* \/96/],
      ['2001:db8::ff-1', /below its start/],
      ['2001:db8::1-xyz', /neither an IPv6 address nor a last group/],
      ['fe80::1%eth0', /scoped IPv6/],
      ['[2001:db8::1', /missing '\]'/],
      ['[2001:db8::1]3389', /expected ':port'/],
      ['bad..name', /empty label/],
      ['-bad.example', /not a valid host name label/],
      ['a'.repeat(64) + '.example', /not a valid host name label/],
      ['example.123', /numeric top-level label/],
      [':3389', /missing host/],
    ];
    for (const [t, re] of cases) expect(() => parseTargetToken(t), t).toThrow(re);
  });

  it('parses port lists', () => {
    expect(parsePortList('3389')).toEqual([3389]);
    expect(parsePortList('3390,3389,3389')).toEqual([3389, 3390]);
    expect(parsePortList('3380-3382,22')).toEqual([22, 3380, 3381, 3382]);
    expect(() => parsePortList('3389,')).toThrow(/empty entry/);
    expect(() => parsePortList('3390-3380')).toThrow(/reversed/);
    expect(() => parsePortList('0')).toThrow(/outside/);
  });
});

describe('octet ranges', () => {
  it('folds trailing full octets into one interval per prefix', () => {
    const list = (r: [number, number][]) => [...octetIntervals(r)].map((i) => `${formatIPv4(Number(i.lo))}-${formatIPv4(Number(i.hi))}`);
    expect(list([[10, 10], [0, 0], [0, 0], [1, 50]])).toEqual(['10.0.0.1-10.0.0.50']);
    expect(list([[10, 10], [0, 3], [0, 255], [0, 255]])).toEqual(['10.0.0.0-10.3.255.255']);
    expect(list([[10, 10], [0, 1], [5, 5], [1, 2]])).toEqual(['10.0.5.1-10.0.5.2', '10.1.5.1-10.1.5.2']);
    expect(list([[0, 255], [0, 255], [0, 255], [0, 255]])).toEqual(['0.0.0.0-255.255.255.255']);
  });
});

describe('tokens from files, stdin and arguments', () => {
  it('keeps line numbers through comments, blank lines, commas and CRLF', () => {
    const text = '# header\r\n10.0.0.1, 10.0.0.2\r\n\r\n  rdp.example.com   # a comment\n\t10.0.0.0/30\n';
    expect([...tokensOf(text, 'targets.txt')]).toEqual([
      { text: '10.0.0.1', source: 'targets.txt', line: 2 },
      { text: '10.0.0.2', source: 'targets.txt', line: 2 },
      { text: 'rdp.example.com', source: 'targets.txt', line: 4 },
      { text: '10.0.0.0/30', source: 'targets.txt', line: 5 },
    ]);
  });

  it('expands @file and - (stdin, read once) and reports unreadable files', async () => {
    let stdinReads = 0;
    const io = {
      readFile: async (p: string) => {
        if (p === 'list.txt') return '10.0.0.1\n\n10.0.0.300\n';
        throw Object.assign(new Error('no'), { code: 'ENOENT' });
      },
      readStdin: async () => {
        stdinReads++;
        return 'a.example\n';
      },
    };
    const { tokens, errors } = await collectTokens(['@list.txt', '-', '10.0.0.9,10.0.0.10', '-', '@missing.txt'], io);
    expect(stdinReads).toBe(1);
    expect(tokens).toEqual([
      { text: '10.0.0.1', source: 'list.txt', line: 1 },
      { text: '10.0.0.300', source: 'list.txt', line: 3 },
      { text: 'a.example', source: 'stdin', line: 1 },
      { text: '10.0.0.9', source: 'argument', line: 3 },
      { text: '10.0.0.10', source: 'argument', line: 3 },
    ]);
    expect(errors).toEqual([{ source: 'argument', line: 5, text: '@missing.txt', message: 'cannot read: ENOENT' }]);
  });

  it('reports a bad target with its file and line and keeps the rest', () => {
    const { set, errors } = buildTargetSet(tokensOf('10.0.0.1\n10.0.0.999\n\n# x\nbad..host\n10.0.0.2\n', 'hosts.txt'));
    expect(errors.map(formatTargetError)).toEqual([
      "hosts.txt:2: '10.0.0.999': octet 999 outside 0..255",
      "hosts.txt:5: 'bad..host': empty label in host name",
    ]);
    expect(keys(set.expand())).toEqual(['10.0.0.1:3389', '10.0.0.2:3389']);
    expect(formatTargetError({ source: 'argument', line: 3, text: 'x', message: 'm' })).toBe("argument 3: 'x': m");
  });
});

describe('the target set', () => {
  it('drops duplicates, applies excludes (with and without port) and expands in canonical order', () => {
    const b = new TargetSetBuilder([3389, 3390]);
    for (const t of ['b.example', '10.0.0.3', '10.0.0.1-4', '10.0.0.2:3390', 'A.example', 'b.example', '[2001:db8::2]:3389', '2001:db8::1-2'])
      b.add(tok(t));
    b.exclude(tok('10.0.0.4'));
    b.exclude(tok('10.0.0.1:3390'));
    b.exclude(tok('a.example:3390'));
    const set = b.build();
    expect(keys(set.expand())).toEqual([
      '10.0.0.1:3389',
      '10.0.0.2:3389',
      '10.0.0.3:3389',
      '[2001:db8::1]:3389',
      '[2001:db8::2]:3389',
      'b.example:3389',
      'a.example:3389',
      '10.0.0.2:3390',
      '10.0.0.3:3390',
      '[2001:db8::1]:3390',
      '[2001:db8::2]:3390',
      'b.example:3390',
    ]);
    // given: b 2 + 10.0.0.3 2 + range 4×2 + 10.0.0.2:3390 1 + a 2 + b 2 + [v6]:3389 1 + v6 range 2×2 = 22
    // duplicates: second b 2, 10.0.0.3 2, 10.0.0.2:3390 1, [2001:db8::2]:3389 1 = 6
    // excluded: 10.0.0.4 on both ports 2, 10.0.0.1:3390 1, a.example:3390 1 = 4
    expect(set.stats()).toEqual({ specs: 8, given: 22, duplicates: 6, excluded: 4, total: 12 });
  });

  it('matches a naive reference on random specs, excludes and duplicates (property)', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const r = prng(seed);
      const gen = (): string => {
        const k = int(r, 0, 6);
        const o3 = int(r, 0, 7);
        if (k === 0) return `10.0.${o3}.${int(r, 0, 255)}`;
        if (k === 1) return `10.0.${o3}.${int(r, 0, 255)}/${int(r, 26, 32)}`;
        if (k === 2) {
          const a = int(r, 0, 250);
          return `10.0.${o3}.${a}-${int(r, a, 255)}`;
        }
        if (k === 3) {
          const a = int(r, 0, 6);
          const c = int(r, 0, 200);
          return `10.0.${a}-${int(r, a, 7)}.${c}-${int(r, c, 255)}`;
        }
        if (k === 4) {
          const a = int(r, 0, 2000);
          const b2 = a + int(r, 0, 300);
          return `10.0.${a >> 8}.${a & 255}-10.0.${b2 >> 8}.${b2 & 255}`;
        }
        if (k === 5) {
          const a = int(r, 0, 0xff00);
          return `2001:db8::${a.toString(16)}-${int(r, a, a + 0xff).toString(16)}`;
        }
        return `2001:db8::${int(r, 0, 0xffff).toString(16)}/${int(r, 122, 128)}`;
      };
      const specs = Array.from({ length: int(r, 1, 12) }, gen);
      // duplicate some specs verbatim
      for (let i = 0; i < 3; i++) if (r() < 0.5) specs.push(specs[int(r, 0, specs.length - 1)]);
      const excludes = Array.from({ length: int(r, 0, 4) }, gen);

      const ref = (list: string[]) => {
        const out = new Set<string>();
        for (const s of list) for (const k of naiveExpand(s)) out.add(k);
        return out;
      };
      const want = ref(specs);
      for (const k of ref(excludes)) want.delete(k);
      const { set, errors } = buildTargetSet(specs.map((s) => tok(s)), { excludes: excludes.map((s) => tok(s)) });
      expect(errors, `seed ${seed}`).toEqual([]);
      const got = keys(set.expand());
      expect(new Set(got).size, `seed ${seed}: duplicates in the expansion`).toBe(got.length);
      expect(new Set(got), `seed ${seed}: ${specs.join(' ')} minus ${excludes.join(' ')}`).toEqual(want);
      // canonical order: v4 ascending, then v6 ascending
      const order = [...set.expand()].map((t) => (t.family === 4 ? BigInt(parseIPv4(t.host)!) : (1n << 40n) + parseIPv6(t.host)!));
      expect(order.every((v, i) => i === 0 || v > order[i - 1]), `seed ${seed}: order`).toBe(true);
      expect(set.stats().total).toBe(want.size);
      const given = specs.reduce((n, s) => n + naiveExpand(s).length, 0);
      expect(set.stats().given).toBe(given);
      expect(set.stats().duplicates).toBe(given - ref(specs).size);
      expect(set.stats().excluded).toBe(ref(specs).size - want.size);
    }
  });

  it('splits into shards that are disjoint and together complete, for any N (property)', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const r = prng(1000 + seed);
      const b = new TargetSetBuilder(r() < 0.5 ? [3389] : [3389, 3390]);
      b.add(tok(`10.0.${int(r, 0, 3)}.0/${int(r, 23, 28)}`));
      b.add(tok(`10.1.0-${int(r, 0, 2)}.${int(r, 1, 9)}-${int(r, 10, 60)}`));
      b.add(tok(`2001:db8::1-${int(r, 1, 300).toString(16)}`));
      b.add(tok('one.example'));
      b.add(tok('two.example:3390'));
      if (r() < 0.5) b.exclude(tok(`10.0.0.${int(r, 0, 255)}`));
      const set = b.build();
      const all = keys(set.expand());
      for (const n of [1, 2, 3, int(r, 4, 17), all.length + 3]) {
        const seen = new Map<string, number>();
        let sizes = 0;
        for (let k = 0; k < n; k++) {
          const part = [...set.expand({ index: k, count: n })];
          expect(part.length, `seed ${seed} shard ${k}/${n} size`).toBe(set.shardSize({ index: k, count: n }));
          sizes += part.length;
          for (const t of part) {
            expect(seen.has(t.key), `seed ${seed}: ${t.key} in shards ${seen.get(t.key)} and ${k} of ${n}`).toBe(false);
            seen.set(t.key, k);
            expect(t.index % n).toBe(k);
          }
          // a shard keeps the canonical order
          const idx = part.map((t) => t.index);
          expect(idx.every((v, i) => i === 0 || v > idx[i - 1])).toBe(true);
        }
        expect(sizes).toBe(all.length);
        expect(new Set(seen.keys())).toEqual(new Set(all));
      }
    }
  });

  it('parses --shard K/N (0-based K, like JOB_COMPLETION_INDEX) and computes shard sizes', () => {
    expect(parseShard('0/4')).toEqual({ index: 0, count: 4 });
    expect(parseShard(' 3/4 ')).toEqual({ index: 3, count: 4 });
    expect(() => parseShard('4/4')).toThrow(/0-based/);
    expect(() => parseShard('1/0')).toThrow(/at least 1/);
    expect(() => parseShard('1-4')).toThrow(/expects K\/N/);
    for (let total = 0; total < 40; total++)
      for (let n = 1; n < 9; n++)
        for (let k = 0; k < n; k++) {
          let c = 0;
          for (let i = 0; i < total; i++) if (inShard(i, { index: k, count: n })) c++;
          expect(shardSize(total, { index: k, count: n })).toBe(c);
          for (let base = 0; base < 12; base++) expect((base + firstInShard(base, { index: k, count: n })) % n).toBe(k);
        }
  });

  it('expands a /8 lazily: counted, never stored (heap growth bounded)', () => {
    const { set } = buildTargetSet([tok('10.0.0.0/8')], { excludes: [tok('10.128.0.0/9')] });
    const before = process.memoryUsage().heapUsed;
    let n = 0;
    let maxGrowth = 0;
    let last = '';
    for (const t of set.expand()) {
      n++;
      last = t.key;
      if ((n & 0xfffff) === 0) maxGrowth = Math.max(maxGrowth, process.memoryUsage().heapUsed - before);
    }
    expect(n).toBe(1 << 23);
    expect(last).toBe('10.127.255.255:3389');
    expect(set.stats().total).toBe(1 << 23);
    // 8 million ScanTarget objects with their strings would take well over a gigabyte; garbage between
    // collections stays far below this bound
    expect(maxGrowth).toBeLessThan(96 * 1024 * 1024);
  }, 60_000);
});

describe('interval streams', () => {
  const toSet = (ivs: Iterable<Interval>) => {
    const s = new Set<number>();
    for (const i of ivs) for (let v = Number(i.lo); v <= Number(i.hi); v++) s.add(v);
    return s;
  };
  const randomList = (r: () => number) =>
    Array.from({ length: int(r, 0, 8) }, () => {
      const lo = int(r, 0, 200);
      return { lo: BigInt(lo), hi: BigInt(lo + int(r, 0, 20)) };
    });

  it('union and subtract agree with sets (property)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = prng(seed);
      const a = coalesce(randomList(r));
      const b = coalesce(randomList(r));
      const c = randomList(r).sort((x, y) => Number(x.lo - y.lo));
      const u = [...union([a, b, c])];
      const want = new Set([...toSet(a), ...toSet(b), ...toSet(c)]);
      expect(toSet(u)).toEqual(want);
      // coalesced: sorted, non-overlapping, non-adjacent
      for (let i = 1; i < u.length; i++) expect(u[i].lo > u[i - 1].hi + 1n).toBe(true);
      const d = [...subtract(a, b)];
      expect(toSet(d)).toEqual(new Set([...toSet(a)].filter((v) => !toSet(b).has(v))));
      expect(Number(countOf(d))).toBe(toSet(d).size);
    }
  });

  it('PointSet answers membership like a Set, stored as few intervals', () => {
    const r = prng(42);
    const ps = new PointSet(64);
    const ref = new Set<number>();
    for (let i = 0; i < 3000; i++) {
      const v = int(r, 0, 5000);
      ps.add(BigInt(v));
      ref.add(v);
      if (i % 97 === 0) for (let q = 0; q < 20; q++) {
        const x = int(r, 0, 5100);
        expect(ps.has(BigInt(x))).toBe(ref.has(x));
      }
    }
    for (let x = 0; x <= 5100; x++) expect(ps.has(BigInt(x))).toBe(ref.has(x));
    const dense = new PointSet();
    for (let v = 0; v < 100_000; v++) dense.add(BigInt(v));
    expect(dense.intervals).toBe(1);
  });
});

/** Reference expansion by brute force (small specs only). */
function naiveExpand(spec: string): string[] {
  const p = parseTargetToken(spec);
  if ('name' in p) return [`${p.name}:3389`];
  const out: string[] = [];
  if (p.addr.kind === 'octets') {
    const [a, b, c, d] = p.addr.ranges;
    for (let w = a[0]; w <= a[1]; w++)
      for (let x = b[0]; x <= b[1]; x++) for (let y = c[0]; y <= c[1]; y++) for (let z = d[0]; z <= d[1]; z++) out.push(`${w}.${x}.${y}.${z}:3389`);
    return out;
  }
  for (let v = p.addr.lo; v <= p.addr.hi; v++) out.push(p.addr.family === 4 ? `${formatIPv4(Number(v))}:3389` : `[${formatIPv6(v)}]:3389`);
  return out;
}
