/** The human and JSON renderings of a diagnosis, and the `explain` / `diagnose --observation` commands. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { register as registerDiagnose } from '../../src/cli/commands/diagnose.js';
import { register as registerExplain } from '../../src/cli/commands/explain.js';
import { UsageError } from '../../src/cli/util.js';
import { diagnose } from '../../src/diagnose/index.js';
import { parseObservation } from '../../src/observation/validate.js';
import { diagnosisJson, groupFixes, renderDiagnosis } from '../../src/report/findings.js';
import { healthy, tlsStalled, windowsNlaRequired } from './fixtures.js';

describe('renderDiagnosis', () => {
  it('puts the verdict first, as one line', () => {
    const d = diagnose(windowsNlaRequired(), { profile: 'mstsc-nla-off' });
    const lines = renderDiagnosis(d).split('\n');
    expect(lines[0]).toBe('0x4 (extended 0x0) — security layer mismatch: server requires NLA, client has NLA off');
    expect(lines[1]).toContain('client mstsc-nla-off');
  });

  it('groups fixes per place, the secure fix\'s place first, workarounds labelled', () => {
    const text = renderDiagnosis(diagnose(windowsNlaRequired(), { profile: 'mstsc-nla-off' }));
    const client = text.indexOf('fix on the Windows client:');
    const mac = text.indexOf('fix on the Linux/macOS client:');
    const server = text.indexOf('fix on the Windows server (workaround only):');
    expect(client).toBeGreaterThan(0);
    expect(mac).toBeGreaterThan(client);
    expect(server).toBeGreaterThan(mac);
    expect(text.slice(server)).toContain('[workaround, weakens security or hides the symptom]');
    expect(text).toContain('protocols.SSL.failure.name = HYBRID_REQUIRED_BY_SERVER');
    expect(text).toContain('0x4/0x0 (inferred)');
    expect(text).toContain('FreeRDP: ERRCONNECT_HYBRID_REQUIRED_BY_SERVER');
  });

  it('shows the next probe when the evidence is not conclusive', () => {
    const text = renderDiagnosis(diagnose(tlsStalled(0)));
    expect(text).toContain('to decide: rdprobe probe rdp.example.test --pmtu');
  });

  it('says "No findings." for a clean host, and colours only when asked', () => {
    const d = diagnose(healthy());
    expect(renderDiagnosis(d)).toMatch(/^healthy for mstsc\n[\s\S]*No findings\.$/);
    expect(renderDiagnosis(d)).not.toContain('\x1b[');
    expect(renderDiagnosis(d, { color: true })).toContain('\x1b[32mhealthy for mstsc\x1b[0m');
  });

  it('groupFixes keeps places in first-appearance order and puts workarounds last', () => {
    const g = groupFixes([
      { place: 'network', text: 'a' },
      { place: 'windows-client', text: 'w', workaround: true },
      { place: 'windows-client', text: 'b' },
    ]);
    expect(g.map((x) => x.place)).toEqual(['network', 'windows-client']);
    expect(g[1].fixes.map((x) => x.text)).toEqual(['b', 'w']);
  });
});

describe('diagnosisJson', () => {
  it('has a stable shape and embeds the observation so it can be diagnosed again', () => {
    const obs = windowsNlaRequired();
    const d = diagnose(obs, { profile: 'mstsc-nla-off' });
    const j = JSON.parse(JSON.stringify(diagnosisJson(d, obs)));
    expect(Object.keys(j)).toEqual(['format', 'target', 'profile', 'profileDescription', 'verdict', 'perProfile', 'findings', 'observation']);
    expect(j.format).toBe('rdprobe-diagnosis/1');
    expect(j.verdict).toMatchObject({ healthy: false, clientError: '0x4/0x0', causeId: 'nla-required' });
    expect(j.findings[0]).toMatchObject({
      id: 'nla-required',
      category: 'security-negotiation',
      confidence: 'high',
      clientErrors: [{ code: '0x4', extended: '0x0', documented: false }],
      freerdp: 'ERRCONNECT_HYBRID_REQUIRED_BY_SERVER',
    });
    expect(parseObservation(JSON.stringify(j))).toEqual(obs);
    expect(diagnose(parseObservation(JSON.stringify(j)), { profile: 'mstsc-nla-off' })).toEqual(d);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Commands

async function run(args: string[]): Promise<string> {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  registerExplain(program);
  registerDiagnose(program);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'rdprobe', ...args]);
  } finally {
    spy.mockRestore();
  }
  return out;
}

describe('rdprobe explain', () => {
  it('prints the meaning, the flag, the causes', async () => {
    const out = await run(['explain', '0x904', '0x7']);
    expect(out.split('\n')[0]).toMatch(/^0x904 \(2308\) disconnectReasonAtClientWinsockFDCLOSE — .* \[documented\]$/);
    expect(out).toContain('extended 0x7 (7) exDiscReasonServerDeniedConnection');
    expect(out).toContain('pmtu-black-hole');
    expect(out).toContain('tells it apart:');
  });

  it('accepts decimal and prints JSON', async () => {
    const j = JSON.parse(await run(['explain', '2308', '--json']));
    expect(j.code.hex).toBe('0x904');
    expect(j.readAs[0]).toContain('decimal');
  });

  it('an unknown code is a usage error (exit 2 in main)', async () => {
    await expect(run(['explain', '0x999'])).rejects.toThrow(UsageError);
    await expect(run(['explain', '0x999'])).rejects.toThrow(/0x999 \(2457\) is not a Microsoft RDP client disconnect code/);
  });
});

describe('rdprobe diagnose --observation', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rdprobe-diag-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('diagnoses a saved Observation for the chosen client, verdict first', async () => {
    const f = join(dir, 'nla.json');
    await writeFile(f, JSON.stringify(windowsNlaRequired()));
    const out = await run(['diagnose', '--observation', f, '--client', 'mstsc-nla-off']);
    expect(out.split('\n')[0]).toBe('0x4 (extended 0x0) — security layer mismatch: server requires NLA, client has NLA off');
    const def = await run(['diagnose', '--observation', f]);
    expect(def.split('\n')[0]).toBe('healthy for mstsc');
    const req = JSON.parse(await run(['diagnose', '--observation', f, '--client', 'freerdp', '--require', 'tls', '--json']));
    expect(req.profile).toBe('freerdp --require tls');
    expect(req.verdict.clientError).toBe('ERRCONNECT_HYBRID_REQUIRED_BY_SERVER');
    expect(req.observation).toBeUndefined();
  });

  it('a newer schema, a malformed file, a missing file: clear usage errors', async () => {
    const newer = join(dir, 'observation.json');
    await writeFile(newer, JSON.stringify({ ...healthy(), schema: 2 }));
    await expect(run(['diagnose', '--observation', newer])).rejects.toThrow(`${newer}: schema 2 is newer than this rdprobe understands (1)`);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"schema":1,');
    await expect(run(['diagnose', '--observation', bad])).rejects.toThrow(/bad\.json: not valid JSON/);
    await expect(run(['diagnose', '--observation', join(dir, 'nope.json')])).rejects.toThrow(/nope\.json: no such file/);
    await expect(run(['diagnose', '--observation', dir])).rejects.toThrow(/is a directory/);
  });

  it('targets and --observation exclude each other; no target at all is an error', async () => {
    const f = join(dir, 'h.json');
    await writeFile(f, JSON.stringify(healthy()));
    await expect(run(['diagnose', 'host.example', '--observation', f])).rejects.toThrow(/not both/);
    await expect(run(['diagnose'])).rejects.toThrow(/name a target/);
  });

  it('rejects an unknown client profile', async () => {
    await expect(run(['diagnose', '--observation', 'x.json', '--client', 'rdesktop'])).rejects.toThrow(/Allowed choices are mstsc, mstsc-nla-off, windows-app-mac, freerdp/);
  });
});
