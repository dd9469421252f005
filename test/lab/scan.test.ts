/**
 * Lab integration for `rdprobe scan` (belongs with the `lab` project: move to test/lab/scan.test.ts, or add this file
 * to the lab project's include). A scan over the lab's hosts, run from rdplab-client, gives the same per-host results
 * as `rdprobe probe` on each host.
 */
import { describe, expect, it } from 'vitest';
import type { Observation } from '../../src/observation/types.js';
import type { HostRecord, ScanSummary } from '../../src/scan/summary.js';
import { LAB_HOSTS, rdprobe } from './helpers.js';

const HOSTS = ['tls', 'rdp', 'nla', 'closed', 'filtered'] as const;

/** What a probe says about one endpoint, without timings, ports, addresses in use or timestamps. */
function essence(o: Observation) {
  return {
    tcp: o.tcp?.outcome,
    x224: o.x224 && { outcome: o.x224.outcome, selected: o.x224.selected, failure: o.x224.failure?.name, sourceRef: o.x224.sourceRef, flags: o.x224.flags?.names },
    protocols: o.protocols && Object.fromEntries(Object.entries(o.protocols).map(([p, r]) => [p, { outcome: r!.outcome, selected: r!.selected, failure: r!.failure?.name }])),
    security: o.security && { ...o.security, basis: undefined },
    tls: o.tls && { outcome: o.tls.outcome, version: o.tls.version, subjectCN: o.tls.certificate?.subjectCN, keyBits: o.tls.certificate?.keyBits, sha256: o.tls.certificate?.sha256 },
    credssp: o.credssp && { outcome: o.credssp.outcome, version: o.credssp.version, nbComputer: o.credssp.ntlm?.nbComputer },
    mcs: o.mcs && { outcome: o.mcs.outcome, via: o.mcs.via, rdpVersion: o.mcs.rdpVersion?.value, encryptionMethod: o.mcs.encryptionMethod?.name },
  };
}

async function scan(args: string[]): Promise<{ hosts: Map<string, HostRecord>; summary: ScanSummary }> {
  const targets = HOSTS.map((h) => LAB_HOSTS[h].address);
  const r = await rdprobe(['scan', ...targets, '-f', 'ndjson', '-q', '--timeout', '3000', ...args], { timeoutMs: 180_000 });
  expect(r.code, r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as HostRecord | ScanSummary);
  const hosts = new Map<string, HostRecord>();
  for (const l of lines) if (l.type === 'host') hosts.set(l.host, l);
  return { hosts, summary: lines[lines.length - 1] as ScanSummary };
}

async function probe(address: string, depth: string): Promise<Observation> {
  const r = await rdprobe(['probe', address, '--json', '--depth', depth, '--phase-timeout', '3000'], { timeoutMs: 120_000 });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Observation;
}

describe('rdprobe scan in the lab', () => {
  it.each(['negotiate', 'full'])('--depth %s: every host as `rdprobe probe` sees it', async (depth) => {
    const { hosts, summary } = await scan(['--depth', depth]);
    expect(hosts.size).toBe(HOSTS.length);
    for (const name of HOSTS) {
      const address = LAB_HOSTS[name].address;
      const rec = hosts.get(address)!;
      const direct = await probe(address, depth);
      expect(essence(rec.observation), `${name} (${address})`).toEqual(essence(direct));
    }
    expect(hosts.get(LAB_HOSTS.closed.address)!.outcome).toBe('refused');
    expect(hosts.get(LAB_HOSTS.filtered.address)!.outcome).toBe('filtered');
    expect(hosts.get(LAB_HOSTS.tls.address)!.protocol).toBe('SSL');
    expect(hosts.get(LAB_HOSTS.rdp.address)!.protocol).toBe('RDP');
    expect(summary.byOutcome).toMatchObject({ rdp: 3, refused: 1, filtered: 1 });
  }, 300_000);

  it('--depth reach: TCP outcomes as runProbe classifies them (RST refused, silence filtered)', async () => {
    const { hosts } = await scan(['--depth', 'reach']);
    expect(Object.fromEntries([...hosts].map(([a, r]) => [a, r.outcome]))).toEqual({
      [LAB_HOSTS.tls.address]: 'open',
      [LAB_HOSTS.rdp.address]: 'open',
      [LAB_HOSTS.nla.address]: 'open',
      [LAB_HOSTS.closed.address]: 'refused',
      [LAB_HOSTS.filtered.address]: 'filtered',
    });
  }, 120_000);
});
