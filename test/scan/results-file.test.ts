import { describe, expect, it } from 'vitest';
import { parseResultLine } from '../../src/scan/results-file.js';

describe('parseResultLine: one classifier for merge and --resume', () => {
  it('host records, with or without the json document trailing comma', () => {
    const rec = { type: 'host', target: '127.0.0.1:3389', observation: {} };
    for (const raw of [JSON.stringify(rec), `${JSON.stringify(rec)},`, `  ${JSON.stringify(rec)}  `]) {
      const l = parseResultLine(raw);
      expect(l.kind).toBe('host');
      if (l.kind === 'host') expect(l.record.target).toBe('127.0.0.1:3389');
    }
  });

  it('a torn host line and a host line without a string target are torn-host, not host', () => {
    expect(parseResultLine('{"type":"host","target":"127.0.0.1:3389","obs').kind).toBe('torn-host');
    expect(parseResultLine('{"type":"host","target":7}').kind).toBe('torn-host');
  });

  it('summaries (ndjson line and json document tail), torn ones keep the kind without a summary', () => {
    const s = parseResultLine('{"type":"summary","interrupted":true}');
    expect(s).toEqual({ kind: 'summary', summary: { type: 'summary', interrupted: true } });
    const tail = parseResultLine('],"summary":{"type":"summary","interrupted":false}}');
    expect(tail).toEqual({ kind: 'summary', summary: { type: 'summary', interrupted: false } });
    expect(parseResultLine('],"summary":{"type":"summ')).toEqual({ kind: 'summary', summary: undefined });
  });

  it('the json head and closing brackets are frame; anything else is other', () => {
    expect(parseResultLine('{"type":"scan","schema":1,"hosts":[').kind).toBe('frame');
    expect(parseResultLine(']').kind).toBe('frame');
    expect(parseResultLine('target,host,address').kind).toBe('other');
    expect(parseResultLine('{"foo":1}').kind).toBe('other');
  });
});
