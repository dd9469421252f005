import { describe, expect, it } from 'vitest';
import { ipv6Text } from '../../src/codec/ip-text.js';
import { ip6 } from '../../src/replay/packet.js';
import { formatIPv6, parseIPv6 } from '../../src/scan/ip.js';

// RFC 5952 §4 and §5 examples
const CASES: [number[], string][] = [
  [[0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], '2001:db8::1'],
  [[0x2001, 0xdb8, 0, 1, 0, 0, 0, 1], '2001:db8:0:1::1'], // the longer run is compressed
  [[0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], '2001:db8::1:0:0:1'], // a tie: the first run
  [[0x2001, 0xdb8, 0, 1, 1, 1, 1, 1], '2001:db8:0:1:1:1:1:1'], // one zero group is not compressed
  [[0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201], '::ffff:192.0.2.1'], // IPv4-mapped in mixed notation
  [[0, 0, 0, 0, 0, 0, 0, 0], '::'],
];

describe('ipv6Text (RFC 5952)', () => {
  it.each(CASES)('%j → %s, the same from capture bytes (replay) and from a bigint (scan)', (g, text) => {
    expect(ipv6Text(g)).toBe(text);
    const bytes = Uint8Array.from(g.flatMap((x) => [x >> 8, x & 0xff]));
    expect(ip6(bytes)).toBe(text);
    expect(formatIPv6(parseIPv6(text)!)).toBe(text);
  });
});
