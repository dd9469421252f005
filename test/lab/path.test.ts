import { beforeEach, describe, expect, it } from 'vitest';
import type { PmtuObservation, UdpObservation } from '../../src/observation/types.js';
import type { MssClampResult } from '../../src/probe/blackhole.js';
import type { PathReport } from '../../src/cli/actions/path.js';
import { CORE_MTU, LAB_HOSTS, REPO, ROUTER_ADDRESS, flushPmtu, inClient } from './helpers.js';

// The path phases against the lab: path MTU behind the MTU-1400 core link with ICMP frag-needed delivered
// (mtu1400) and dropped (blackhole), the MSS-clamp confirmation on the RDP connection itself, and RDP-UDP
// reachability (responder test peer, closed port, dropped path). Everything runs inside rdplab-client, and the
// kernel's PMTU caches are flushed before every test so a frag-needed learned earlier cannot leak into the next.

const SRC = `${REPO}/src`;

/** Run TypeScript (via tsx) in rdplab-client; the script prints one JSON document. */
async function tsJson<T>(source: string, timeoutMs = 60_000): Promise<T> {
  const r = await inClient([process.execPath, '--import', 'tsx', '--input-type=module', '-e', source], { timeoutMs });
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`no JSON (code ${r.code}, timedOut ${r.timedOut}):\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

const pmtu = (address: string, opts: object = {}) =>
  tsJson<PmtuObservation & { elapsedMs: number }>(`
    import { measurePmtu } from '${SRC}/transport/pmtu.ts';
    const t = performance.now();
    const o = await measurePmtu(${JSON.stringify(address)}, ${JSON.stringify(opts)});
    console.log(JSON.stringify({ ...o, elapsedMs: performance.now() - t }));`);

const clamp = (address: string) =>
  tsJson<MssClampResult>(`
    import { confirmBlackhole, x224TlsHandshake } from '${SRC}/probe/blackhole.ts';
    const r = await confirmBlackhole(x224TlsHandshake(${JSON.stringify(address)}, 3389, { stallMs: 2000 }), { defaultMss: 1460 });
    console.log(JSON.stringify(r));`, 90_000);

const udp = (address: string) =>
  tsJson<UdpObservation>(`
    import { probeRdpeudp } from '${SRC}/transport/udp.ts';
    console.log(JSON.stringify(await probeRdpeudp(${JSON.stringify(address)}, 3389, { timeoutMs: 500, attempts: 3 })));`);

beforeEach(() => flushPmtu());

describe('path MTU behind the 1400-byte core link', () => {
  for (const method of ['icmp', 'udp', 'ping'] as const) {
    it(`mtu1400 (ICMP delivered), ${method}: exactly ${CORE_MTU}, reported by the router, in a few probes`, async () => {
      const o = await pmtu(LAB_HOSTS.mtu1400.address, { method });
      expect(o.outcome).toBe('measured');
      expect(o.pathMtu).toBe(CORE_MTU);
      expect(o.localMtu).toBe(1500);
      expect(o.recommendedMss).toBe(CORE_MTU - 40);
      expect(o.probes.length).toBeLessThanOrEqual(4);
      expect(o.probes).toContainEqual(expect.objectContaining({ size: 1500, result: 'frag-needed', mtu: CORE_MTU }));
      if (method !== 'ping') expect(o.reportingRouter).toBe(ROUTER_ADDRESS); // iputils prints it; the addon reads SO_EE_OFFENDER
      expect(o.elapsedMs).toBeLessThan(method === 'ping' ? 3000 : 1000);
    });
  }

  for (const method of ['icmp', 'udp'] as const) {
    it(`blackhole (frag-needed dropped), ${method}: a black hole, bounded within 16 bytes around ${CORE_MTU}`, async () => {
      const o = await pmtu(LAB_HOSTS.blackhole.address, { method });
      expect(o.outcome).toBe('black-hole');
      expect(o.bounds).toBeDefined();
      expect(o.bounds!.passes).toBeLessThanOrEqual(CORE_MTU);
      expect(o.bounds!.lost).toBeGreaterThan(CORE_MTU);
      expect(o.bounds!.lost - o.bounds!.passes).toBeLessThanOrEqual(16);
      expect(o.bounds).toEqual({ passes: CORE_MTU, lost: CORE_MTU + 1 }); // default precision: exact
      expect(o.pathMtu).toBe(CORE_MTU);
      expect(o.reportingRouter).toBeUndefined();
      expect(o.probes.some((p) => p.result === 'frag-needed')).toBe(false);
      expect(o.elapsedMs).toBeLessThan(method === 'icmp' ? 3000 : 10_000);
    });
  }

  it('blackhole with precision 16: still bounded within 16 bytes, fewer probes', async () => {
    const o = await pmtu(LAB_HOSTS.blackhole.address, { method: 'icmp', precision: 16 });
    expect(o.outcome).toBe('black-hole');
    expect(o.bounds!.passes).toBeLessThanOrEqual(CORE_MTU);
    expect(o.bounds!.lost).toBeGreaterThan(CORE_MTU);
    expect(o.bounds!.lost - o.bounds!.passes).toBeLessThanOrEqual(16);
  });

  it('a host on a clean path measures the full 1500', async () => {
    const o = await pmtu(LAB_HOSTS.tls.address);
    expect(o).toMatchObject({ outcome: 'measured', pathMtu: 1500 });
  });
});

describe('MSS-clamp confirmation on the RDP connection', () => {
  it('blackhole: the TLS flight stalls at the default MSS and arrives when clamped; bound within 16 bytes', async () => {
    const r = await clamp(LAB_HOSTS.blackhole.address);
    expect(r.defaultStalled).toBe(true);
    expect(r.clampedOk).toBe(true);
    expect(r.bound!.passes).toBeLessThanOrEqual(CORE_MTU - 40);
    expect(r.bound!.stalls).toBeGreaterThan(CORE_MTU - 40);
    expect(r.bound!.stalls - r.bound!.passes).toBeLessThanOrEqual(16);
  });

  it('mtu1400 (ICMP delivered): the server adapts, no stall, nothing to confirm', async () => {
    expect(await clamp(LAB_HOSTS.mtu1400.address)).toEqual({ defaultStalled: false });
  });

  it('a clean host: no stall', async () => {
    expect(await clamp(LAB_HOSTS.tls.address)).toEqual({ defaultStalled: false });
  });
});

describe('RDP-UDP reachability', () => {
  it('the responder test peer: SYN+ACK, version 2, server MTUs', async () => {
    const o = await udp(LAB_HOSTS.udp.address);
    expect(o).toMatchObject({ outcome: 'synack', attempts: 1, version: 2, serverMtu: { up: 1232, down: 1232 } });
  });

  it('closed host: ICMP port unreachable', async () => {
    expect(await udp(LAB_HOSTS.closed.address)).toMatchObject({ outcome: 'icmp-unreachable', attempts: 1 });
  });

  it('xrdp host (TCP only): ICMP port unreachable on UDP 3389', async () => {
    expect((await udp(LAB_HOSTS.tls.address)).outcome).toBe('icmp-unreachable');
  });

  it('udpdrop (router drops UDP 3389): silent after every attempt', async () => {
    expect(await udp(LAB_HOSTS.udpdrop.address)).toMatchObject({ outcome: 'silent', attempts: 3 });
  });

  it('filtered (host drops UDP 3389): silent', async () => {
    expect((await udp(LAB_HOSTS.filtered.address)).outcome).toBe('silent');
  });
});

describe('rdprobe path (CLI)', () => {
  const cli = async (args: string[]): Promise<PathReport> => {
    const r = await inClient([process.execPath, '--import', 'tsx', `${SRC}/cli/main.ts`, 'path', ...args, '--json'], { timeoutMs: 90_000 });
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as PathReport;
  };

  it('blackhole by name: black hole, confirmed by the MSS clamp, advice 1400 / 1360', async () => {
    const r = await cli([LAB_HOSTS.blackhole.name, '--udp']);
    expect(r.address).toBe(LAB_HOSTS.blackhole.address);
    expect(r.pmtu).toMatchObject({ outcome: 'black-hole', pathMtu: CORE_MTU, recommendedMtu: CORE_MTU, recommendedMss: CORE_MTU - 40 });
    expect(r.pmtu!.mssClamp).toMatchObject({ defaultStalled: true, clampedOk: true });
    expect(r.udp?.outcome).toBe('icmp-unreachable');
  });

  it('udp host: clean path, SYN+ACK from the responder, no MSS check', async () => {
    const r = await cli([LAB_HOSTS.udp.name, '--udp']);
    expect(r.pmtu).toMatchObject({ outcome: 'measured', pathMtu: 1500 });
    expect(r.pmtu!.mssClamp).toBeUndefined();
    expect(r.udp).toMatchObject({ outcome: 'synack', version: 2 });
  });
});
