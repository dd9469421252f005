/**
 * IP address arithmetic for target expansion: IPv4 as a number (0 … 2^32-1), IPv6 as a bigint (0 … 2^128-1).
 * Parsing is strict (no octal-looking leading zeros, no zone ids, no shorthand like `10.1`), formatting follows
 * RFC 5952 for IPv6 (lower case, longest zero run compressed, IPv4-mapped addresses in mixed notation).
 */
import { ipv6Text } from '../codec/ip-text.js';

export const V4_MAX = 0xffffffff;
export const V6_MAX = (1n << 128n) - 1n;

/** Dotted quad → number, or null. Rejects leading zeros ("010" is octal to inet_aton, decimal to others). */
export function parseIPv4(s: string): number | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    const o = parseOctet(p);
    if (o === null) return null;
    n = n * 256 + o;
  }
  return n;
}

/** One decimal octet 0..255 without a leading zero, or null. */
export function parseOctet(p: string): number | null {
  if (!/^(0|[1-9]\d{0,2})$/.test(p)) return null;
  const v = Number(p);
  return v <= 255 ? v : null;
}

export function formatIPv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/**
 * IPv6 text (RFC 4291 2.2: full, `::`-compressed, or with a dotted IPv4 tail) → bigint, or null. Zone ids
 * (`%eth0`) are not accepted here: a scoped address is not a network-wide target.
 */
export function parseIPv6(s: string): bigint | null {
  if (s.length < 2 || s.length > 45 || s.includes('%')) return null;
  let head = s;
  let v4tail: number | null = null;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) > lastColon) {
    v4tail = parseIPv4(s.slice(lastColon + 1));
    if (v4tail === null) return null;
    head = s.slice(0, lastColon + 1) + '0:0'; // two placeholder groups, replaced below
  }
  const dbl = head.indexOf('::');
  if (dbl !== head.lastIndexOf('::')) return null;
  let groups: string[];
  if (dbl >= 0) {
    const left = head.slice(0, dbl);
    const right = head.slice(dbl + 2);
    const l = left ? left.split(':') : [];
    const r = right ? right.split(':') : [];
    const missing = 8 - l.length - r.length;
    if (missing < 1) return null;
    groups = [...l, ...Array<string>(missing).fill('0'), ...r];
  } else {
    groups = head.split(':');
    if (groups.length !== 8) return null;
  }
  let v = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  if (v4tail !== null) v = (v & ~0xffffffffn) | BigInt(v4tail);
  return v;
}

/** bigint → RFC 5952 text. */
export function formatIPv6(v: bigint): string {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  return ipv6Text(g);
}

/** Canonical text of an address given in any accepted form (for keys and dedupe). */
export function canonicalAddress(s: string): string | null {
  const v4 = parseIPv4(s);
  if (v4 !== null) return formatIPv4(v4);
  const v6 = parseIPv6(s);
  return v6 === null ? null : formatIPv6(v6);
}
