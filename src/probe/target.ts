import net from 'node:net';

export interface HostPort {
  host: string;
  port?: number;
}

/**
 * Parse `host`, `host:port`, `[v6]`, `[v6]:port`, a bare IPv6 address, or `ipv4:port`. Throws a TypeError that
 * says what was wrong (a bad target is a usage error, exit 2).
 */
export function parseHostPort(input: string): HostPort {
  const s = input.trim();
  if (!s) throw new TypeError('empty target');
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) throw new TypeError(`${input}: missing ']'`);
    const host = s.slice(1, end);
    if (net.isIPv6(host) === false) throw new TypeError(`${input}: '${host}' is not an IPv6 address`);
    const rest = s.slice(end + 1);
    if (!rest) return { host };
    if (!rest.startsWith(':')) throw new TypeError(`${input}: expected ':port' after ']'`);
    return { host, port: parsePort(rest.slice(1), input) };
  }
  if (net.isIPv6(s)) return { host: s };
  const colon = s.lastIndexOf(':');
  if (colon >= 0) {
    if (s.indexOf(':') !== colon) throw new TypeError(`${input}: IPv6 addresses with a port need brackets: [addr]:port`);
    const host = s.slice(0, colon);
    validateHost(host, input);
    return { host, port: parsePort(s.slice(colon + 1), input) };
  }
  validateHost(s, input);
  return { host: s };
}

export function parsePort(p: string, ctx = p): number {
  if (!/^\d{1,5}$/.test(p)) throw new TypeError(`${ctx}: '${p}' is not a port number`);
  const n = Number(p);
  if (n < 1 || n > 65535) throw new TypeError(`${ctx}: port ${n} outside 1..65535`);
  return n;
}

function validateHost(h: string, ctx: string): void {
  if (net.isIP(h)) return;
  // RFC 1123 host names: labels of letters, digits and hyphens, not starting or ending with a hyphen; a trailing dot allowed.
  const name = h.endsWith('.') ? h.slice(0, -1) : h;
  if (name.length === 0 || name.length > 253) throw new TypeError(`${ctx}: '${h}' is not a valid host name`);
  for (const label of name.split('.')) {
    if (!/^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(label)) {
      throw new TypeError(`${ctx}: '${h}' is not a valid host name or address`);
    }
  }
}
