import { unknownName } from '../observation/vocab.js';

/** Code → stable name with an `unknown(0x…)` fallback (vocab unknownName) that keeps the raw number. */
export function nameOf(table: Readonly<Record<number, string>>, code: number, width = 8): string {
  return table[code] ?? unknownName(code, width);
}

/** Bit flags → names of the set bits; unknown bits appear as `unknown(0x…)` (not padded). */
export function flagNames(table: Readonly<Record<number, string>>, value: number): string[] {
  const out: string[] = [];
  let rest = value >>> 0;
  for (const [bit, name] of Object.entries(table)) {
    const b = Number(bit);
    if (b !== 0 && ((value & b) >>> 0) === b) {
      out.push(name);
      rest = (rest & ~b) >>> 0;
    }
  }
  if (rest) out.push(unknownName(rest, 0));
  return out;
}
