// Path MTU on loopback with the real methods: the native addon (ICMP over a raw or ping socket, UDP DF), the
// `ping -M do` fallback, and the explicit `unprivileged` outcome. Loopback only.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNative, resetNativeCache } from '../../src/transport/native.js';
import { localRoute, measurePmtu } from '../../src/transport/pmtu.js';

const LO_MTU = Number(readFileSync('/sys/class/net/lo/mtu', 'utf8').trim());
const native = loadNative();
const hasAddon = native.addon !== null && native.addon.probes;
const isRoot = process.getuid?.() === 0;
// an ICMP socket is possible: root (raw) or our gid inside ping_group_range (ping socket)
const canIcmp = (() => {
  if (isRoot) return true;
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ping_group_range', 'utf8').trim().split(/\s+/).map(Number);
    const gid = process.getgid?.() ?? -1;
    return gid >= lo && gid <= hi;
  } catch {
    return false;
  }
})();
const hasPing = (() => {
  try {
    execFileSync('ping', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

afterEach(() => {
  delete process.env.RDPROBE_NATIVE;
  resetNativeCache();
});

describe('native addon', () => {
  it('is built and loads (node native/build.mjs)', () => {
    expect(native.reason).toBeUndefined();
    expect(native.addon?.abi).toBe(1);
  });

  it.skipIf(!hasAddon)('routeInfo: 127.0.0.1 leaves by lo with its MTU', () => {
    const r = native.addon!.routeInfo(4, '127.0.0.1');
    expect(r).toMatchObject({ localAddress: '127.0.0.1', interface: 'lo', interfaceMtu: LO_MTU });
  });

  it.skipIf(!hasAddon)('rejects bad arguments with clear errors instead of crashing', async () => {
    const a = native.addon!;
    expect(() => a.openProbe('bogus' as never, 4, '127.0.0.1')).toThrow(/kind/);
    expect(() => a.openProbe('udp', 4, 'not-an-ip', 9)).toThrow(/IPv4 address/);
    expect(() => a.openProbe('udp', 4, '127.0.0.1', 0)).toThrow(/port/);
    expect(() => a.tcpSocket(4, 10)).toThrow(/mss/);
    expect(() => a.setsockopt(-1, 0, 0, 0)).toThrow(/fd/);
    const { fd } = a.openProbe('udp', 4, '127.0.0.1', 9);
    try {
      expect(() => a.probe(fd, { kind: 'udp', family: 4, size: 20, seq: 1, timeoutMs: 10 })).toThrow(/size/);
      expect(() => a.probe(fd, { kind: 'udp', family: 4, size: 100, seq: 1, timeoutMs: 0 })).toThrow(/timeoutMs/);
      expect(() => a.probe(fd, { kind: 'udp', family: 4, size: 100 } as never)).toThrow(/seq/);
    } finally {
      a.close(fd);
    }
    await expect(a.probe(99_999, { kind: 'udp', family: 4, size: 100, seq: 1, timeoutMs: 50 })).resolves.toMatchObject({ result: 'error' });
  });
});

describe('measurePmtu on loopback', () => {
  it('localRoute finds lo', async () => {
    expect(await localRoute('127.0.0.1')).toMatchObject({ interface: 'lo', interfaceMtu: LO_MTU });
  });

  it.skipIf(!hasAddon || !canIcmp)('ICMP: 127.0.0.1 gives the lo MTU quickly, in two probes', async () => {
    const t = performance.now();
    const o = await measurePmtu('127.0.0.1', { method: 'icmp' });
    // no probe waited out its timer: the probe list below has no loss; the bound only catches a hang and leaves
    // room for a loaded machine (the whole measurement's deadline is 30 s)
    expect(performance.now() - t).toBeLessThan(5000);
    expect(o).toMatchObject({ outcome: 'measured', pathMtu: LO_MTU, localMtu: LO_MTU, interface: 'lo' });
    expect(o.method).toMatch(/^icmp-echo/);
    expect(o.probes.map((p) => `${p.size}:${p.result}`)).toEqual(['1200:ok', `${Math.min(LO_MTU, 65535)}:ok`]);
  });

  it.skipIf(!hasAddon || !canIcmp)('ICMPv6 on ::1', async () => {
    if (!existsSync('/proc/net/if_inet6') || !readFileSync('/proc/net/if_inet6', 'utf8').includes(' lo')) return;
    const o = await measurePmtu('::1', { method: 'icmp' });
    expect(o).toMatchObject({ outcome: 'measured', pathMtu: LO_MTU, recommendedMss: LO_MTU - 60 });
  });

  it.skipIf(!hasAddon || !canIcmp)('--max caps the search and says the answer is a lower bound', async () => {
    const o = await measurePmtu('127.0.0.1', { method: 'icmp', max: 9000 });
    expect(o).toMatchObject({ outcome: 'measured', pathMtu: 9000 });
    expect(o.recommendedMtu).toBeUndefined();
    expect(o.detail).toMatch(/at least 9000/);
  });

  it.skipIf(!hasAddon)('UDP DF to a closed port: port unreachable proves each size arrived', async () => {
    const o = await measurePmtu('127.0.0.1', { method: 'udp', port: 9 });
    expect(o).toMatchObject({ outcome: 'measured', pathMtu: LO_MTU, method: 'udp-df:9' });
  });

  it.skipIf(!hasPing || !canIcmp)('ping -M do fallback (addon disabled) gives the same answer', async () => {
    process.env.RDPROBE_NATIVE = '0';
    resetNativeCache();
    const o = await measurePmtu('127.0.0.1', { method: 'auto', max: 4000 });
    expect(o).toMatchObject({ outcome: 'measured', pathMtu: 4000, method: 'ping -M do' });
    expect(o.detail).toMatch(/fallback after: disabled by RDPROBE_NATIVE=0/);
  });

  it('no addon and no ping: an explicit unprivileged outcome that says what to run', async () => {
    process.env.RDPROBE_NATIVE = '0';
    resetNativeCache();
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const o = await measurePmtu('127.0.0.1');
      expect(o.outcome).toBe('unprivileged');
      expect(o.probes).toEqual([]);
      expect(o.detail).toMatch(/RDPROBE_NATIVE=0/);
      expect(o.detail).toMatch(/ping not installed/);
      expect(o.detail).toMatch(/ping -M do -s 1472 -c 1 127\.0\.0\.1/);
      expect(o.detail).toMatch(/ping_group_range/);
    } finally {
      process.env.PATH = path;
    }
  });

  it('rejects a host name and an impossible --max', async () => {
    await expect(measurePmtu('localhost')).rejects.toThrow(RangeError);
    await expect(measurePmtu('127.0.0.1', { max: 70_000 })).rejects.toThrow(/max/);
  });
});

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

describe.skipIf(!isRoot || !hasAddon || !SETPRIV)('as an unprivileged user (setpriv to nobody)', () => {
  const run = (env: Record<string, string> = {}) =>
    JSON.parse(
      execFileSync(
        SETPRIV!,
        ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', '--input-type=module', '-e',
          `import { measurePmtu } from ${JSON.stringify(new URL('../../src/transport/pmtu.ts', import.meta.url).pathname)};
           console.log(JSON.stringify(await measurePmtu('127.0.0.1', { max: 3000 })));`],
        { encoding: 'utf8', env: { ...process.env, ...env, HOME: '/tmp' }, timeout: 20_000 },
      ),
    );
  const pingGroupClosed = (() => {
    try {
      const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ping_group_range', 'utf8').trim().split(/\s+/).map(Number);
      return !(65534 >= lo && 65534 <= hi);
    } catch {
      return false;
    }
  })();

  it.skipIf(!pingGroupClosed)('no ping socket, no raw socket: falls back to the ping binary (or UDP), never a crash', () => {
    const o = run();
    expect(['measured']).toContain(o.outcome);
    expect(o.pathMtu).toBe(3000);
    expect(o.detail).toMatch(/ICMP ping socket: EACCES.*ping_group_range/);
    expect(o.detail).toMatch(/raw ICMP socket: EPERM/);
  });

  it.skipIf(!pingGroupClosed)('and without a usable ping binary: UDP DF probes to the closed RDP port still measure', () => {
    const o = run({ PATH: '/nonexistent' });
    expect(o).toMatchObject({ outcome: 'measured', pathMtu: 3000, method: 'udp-df:3389' });
    expect(o.detail).toMatch(/ICMP echo unavailable/);
  });
});

const UNSHARE = ['/usr/bin/unshare', '/bin/unshare'].find((p) => existsSync(p));

describe.skipIf(!isRoot || !UNSHARE)('in an empty network namespace (unshare -n: only lo, no routes)', () => {
  it('no route: unreachable at once, no probe sent, and the UDP probe says ENETUNREACH', () => {
    const src = `import { measurePmtu } from ${JSON.stringify(new URL('../../src/transport/pmtu.ts', import.meta.url).pathname)};
      import { probeRdpeudp } from ${JSON.stringify(new URL('../../src/transport/udp.ts', import.meta.url).pathname)};
      console.log(JSON.stringify([await measurePmtu('192.0.2.1'), await probeRdpeudp('192.0.2.1', 3389, { timeoutMs: 200 })]));`;
    // 192.0.2.1 (TEST-NET-1) has no route in the new namespace: nothing can leave it.
    const out = execFileSync(UNSHARE!, ['-n', process.execPath, '--import', 'tsx', '--input-type=module', '-e', src], { encoding: 'utf8', timeout: 20_000 });
    const [pm, udp] = JSON.parse(out);
    expect(pm).toEqual({ outcome: 'unreachable', probes: [], detail: 'no route to 192.0.2.1 (ENETUNREACH)' });
    // no route is this host's own condition, not an ICMP answer from the path
    expect(udp).toMatchObject({ outcome: 'local-error', errno: 'ENETUNREACH', attempts: 0 });
    expect(udp.detail).toMatch(/^ENETUNREACH/);
  });
});
