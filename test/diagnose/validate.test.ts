/** Bad input: a malformed Observation file, missing fields, wrong types, a newer schema → clear errors. */
import { describe, expect, it } from 'vitest';
import { ObservationInputError, parseObservation, validateObservation } from '../../src/observation/validate.js';
import { healthy, tlsStalled, windowsNlaRequired, xrdpRdpOnly } from './fixtures.js';

const text = (v: unknown) => JSON.stringify(v);
function errorOf(fn: () => unknown): ObservationInputError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ObservationInputError) return e;
    throw e;
  }
  throw new Error('no error thrown');
}

describe('parseObservation', () => {
  it.each([
    ['healthy', healthy()],
    ['NLA required', windowsNlaRequired()],
    ['xrdp RDP-only', xrdpRdpOnly()],
    ['black hole', tlsStalled(10, { outcome: 'black-hole', probes: [{ size: 1500, result: 'lost' }], bounds: { passes: 1400, lost: 1401 } })],
  ])('accepts a valid observation (%s) unchanged', (_, obs) => {
    expect(parseObservation(text(obs))).toEqual(obs);
  });

  it('accepts a UTF-8 BOM and the {observation} wrapper of `diagnose --json`', () => {
    expect(parseObservation(`\ufeff${text(healthy())}`)).toEqual(healthy());
    expect(parseObservation(text({ format: 'rdprobe-diagnosis/1', verdict: {}, observation: healthy() }))).toEqual(healthy());
  });

  it('malformed JSON', () => {
    const e = errorOf(() => parseObservation('{"schema": 1, "tool": ', 'observation.json'));
    expect(e.message).toMatch(/^observation\.json: not valid JSON: /);
  });

  it('empty file', () => {
    expect(errorOf(() => parseObservation('  \n', 'o.json')).message).toBe('o.json: the file is empty');
  });

  it('schema 2 is newer than this rdprobe understands', () => {
    const e = errorOf(() => parseObservation(text({ ...healthy(), schema: 2 }), 'observation.json'));
    expect(e.message).toBe('observation.json: schema 2 is newer than this rdprobe understands (1); upgrade rdprobe');
    // A newer schema stops before field checks: no noise about fields it may have renamed.
    expect(e.problems).toHaveLength(1);
  });

  it('missing or invalid schema', () => {
    const { schema: _, ...noSchema } = healthy();
    expect(errorOf(() => parseObservation(text(noSchema), 'x.json')).message).toBe('x.json: missing field "schema" (is this an rdprobe Observation?)');
    expect(errorOf(() => parseObservation(text({ ...healthy(), schema: '1' }), 'x.json')).message).toBe('x.json: field "schema" must be a whole number (got "1")');
    expect(errorOf(() => parseObservation(text({ ...healthy(), schema: 0 }), 'x.json')).message).toMatch(/schema 0 is not an Observation schema/);
  });

  it('missing required fields, by path', () => {
    const o = healthy() as unknown as Record<string, Record<string, unknown>>;
    delete o.source.port;
    delete o.timeline;
    const e = errorOf(() => parseObservation(text(o), 'obs.json'));
    expect(e.problems).toEqual(['missing field "source.port"', 'missing field "timeline"']);
    expect(e.message).toBe('obs.json: 2 problems:\n  - missing field "source.port"\n  - missing field "timeline"');
  });

  it('wrong types and values outside the closed sets', () => {
    const o = healthy() as unknown as Record<string, Record<string, unknown>>;
    o.tcp.outcome = 'weird';
    o.connections = 'many' as never;
    (o.protocols as Record<string, unknown>).FOO = { outcome: 'accepted', ms: 1 };
    (o.tls.certificate as Record<string, unknown>).keyBits = '2048';
    const e = errorOf(() => validateObservation(o, 'obs.json'));
    expect(e.problems).toEqual(
      expect.arrayContaining([
        'field "tcp.outcome" must be one of open, refused, filtered, unreachable, reset, timeout, aborted, error (got "weird")',
        'field "connections" must be a whole number (got "many")',
        'field "protocols" has an unknown key "FOO" (one of RDP, SSL, HYBRID, RDSTLS, HYBRID_EX, RDSAAD)',
        'field "tls.certificate.keyBits" must be a number (got "2048")',
      ]),
    );
  });

  it('an array (scan output) or a non-object', () => {
    expect(errorOf(() => parseObservation(text([healthy(), healthy()]), 'scan.json')).message).toMatch(
      /^scan\.json: expected one Observation object, got an array of 2/,
    );
    expect(errorOf(() => parseObservation('42', 'n.json')).message).toBe('n.json: expected an Observation object, got 42');
  });

  it('nested array elements are checked with their index', () => {
    const o = healthy();
    (o.timeline as unknown[]).push({ phase: 'dns', at: 'soon', ms: 1 });
    expect(errorOf(() => validateObservation(o)).problems).toEqual(['field "timeline[0].at" must be a number (got "soon")']);
  });

  it('lists at most 12 problems and counts the rest', () => {
    const o = healthy();
    (o as { errors: unknown[] }).errors = Array.from({ length: 20 }, () => ({ phase: 1 }));
    const e = errorOf(() => validateObservation(o, 'big.json'));
    expect(e.problems.length).toBe(60);
    expect(e.message).toContain('… 48 more');
  });
});
