/** `explainCode` and the code tables: meanings, documented/inferred flags, causes, input parsing. */
import { describe, expect, it } from 'vitest';
import {
  CAUSES,
  CodeInputError,
  EXTENDED_CODES,
  explainCode,
  parseCode,
  PRIMARY_CODES,
  SOURCES,
} from '../../src/diagnose/index.js';
import { extendedCode, primaryCode } from '../../src/diagnose/codes.js';
import { renderExplanation } from '../../src/report/findings.js';

const ids = (code: string, ext?: string) => explainCode(code, ext).causes.map((c) => c.id);

describe('explain: the required codes', () => {
  it('0x104: DNS lookup failure, documented, three DNS causes', () => {
    const e = explainCode('0x104');
    expect(e.code).toMatchObject({ hex: '0x104', dec: 260, name: 'disconnectReasonDNSLookupFailed', documented: true });
    expect(ids('0x104')).toEqual(['dns-nxdomain', 'dns-servfail', 'dns-timeout']);
    expect(e.causes.every((c) => c.documented)).toBe(true);
    expect(e.causes[0].tellApart).toContain('dns.outcome');
  });

  it('0x204: Winsock connect failed → refused / filtered / unreachable', () => {
    const e = explainCode('0x204');
    expect(e.code).toMatchObject({ name: 'disconnectReasonSocketConnectFailed', documented: true });
    expect(ids('0x204')).toEqual(expect.arrayContaining(['tcp-refused', 'tcp-filtered', 'host-unreachable', 'burst-refusal']));
    expect(e.causes.find((c) => c.id === 'burst-refusal')!.documented).toBe(false);
  });

  it('0x4 0x0: undocumented, flagged inferred, with the setup-reset and mismatch causes', () => {
    const e = explainCode('0x4', '0x0');
    expect(e.code.documented).toBe(false);
    expect(e.code.sources.map((s) => s.id)).toContain('rdpwrap-0x4');
    expect(e.extended).toMatchObject({ hex: '0x0', name: 'exDiscReasonNoInfo', documented: true });
    expect(e.pairNote).toContain('not in the documented');
    expect(ids('0x4', '0x0')).toEqual(expect.arrayContaining(['accepted-then-reset', 'nla-required', 'tls-required', 'rdp-security-only', 'no-certificate', 'tls-outdated', 'pmtu-black-hole']));
    expect(e.causes.every((c) => !c.documented)).toBe(true);
  });

  it('0x904 0x7: both halves documented, the pair inferred; PMTU, UDP, network, TLS, server-denied causes', () => {
    const e = explainCode('0x904', '0x7');
    expect(e.code).toMatchObject({ name: 'disconnectReasonAtClientWinsockFDCLOSE', documented: true });
    expect(e.extended).toMatchObject({ name: 'exDiscReasonServerDeniedConnection', documented: true });
    expect(e.pairNote).toContain('no Microsoft page defines the pair');
    expect(ids('0x904', '0x7')).toEqual(
      expect.arrayContaining(['pmtu-black-hole', 'udp-blocked', 'unstable-network', 'tls-handshake-failed', 'cert-expired', 'mcs-rejected', 'accepted-then-reset']),
    );
    expect(e.causes.every((c) => !c.documented)).toBe(true);
    const pmtu = e.causes.find((c) => c.id === 'pmtu-black-hole')!;
    expect(pmtu.tellApart).toContain('tls.outcome = stalled');
    expect(pmtu.nextProbe).toBe('rdprobe probe HOST --pmtu');
    // A mapping to plain 0x904 (no extended code) matches any extended code; other codes' causes do not appear.
    expect(ids('0x904', '0x7')).toContain('not-rdp');
    expect(ids('0x904', '0x7')).not.toContain('dns-nxdomain');
    // A mapping that names extended 0x7 does not match another extended code.
    expect(ids('0x904', '0x5')).not.toContain('pmtu-black-hole');
    expect(ids('0x904', '0x5')).toContain('not-rdp');
  });

  it('0x108: connection timed out (documented), mapping from a filtered port inferred', () => {
    const e = explainCode('0x108');
    expect(e.code).toMatchObject({ name: 'disconnectReasonConnectionTimedOut', documented: true });
    expect(e.causes.find((c) => c.id === 'tcp-filtered')).toMatchObject({ documented: false });
  });

  it('0x3: by server (documented "not an error"), used for drops during negotiation', () => {
    const e = explainCode('0x3');
    expect(e.code.documented).toBe(true);
    expect(ids('0x3')).toEqual(expect.arrayContaining(['accepted-then-reset', 'mcs-rejected']));
    expect(e.pairNote).toContain('not an error');
  });

  it.each([
    ['0x807', 'SSL_ERR_LOGON_FAILURE', 'STATUS_LOGON_FAILURE'],
    ['0xA07', 'SSL_ERR_NO_SUCH_USER', 'STATUS_NO_SUCH_USER'],
    ['0xB07', 'SSL_ERR_ACCOUNT_DISABLED', 'STATUS_ACCOUNT_DISABLED'],
    ['0xD07', 'SSL_ERR_ACCOUNT_LOCKED_OUT', 'STATUS_ACCOUNT_LOCKED_OUT'],
    ['0xE07', 'SSL_ERR_ACCOUNT_EXPIRED', 'STATUS_ACCOUNT_EXPIRED'],
    ['0xF07', 'SSL_ERR_PASSWORD_EXPIRED', 'STATUS_PASSWORD_EXPIRED'],
    ['0x1207', 'SSL_ERR_PASSWORD_MUST_CHANGE', 'STATUS_PASSWORD_MUST_CHANGE'],
  ])('%s: %s, documented; from CredSSP errorCode %s (pairing inferred)', (code, name, status) => {
    const e = explainCode(code);
    expect(e.code).toMatchObject({ name, documented: true });
    const c = e.causes.find((x) => x.id === 'credssp-logon-failure')!;
    expect(c).toBeDefined();
    expect(c.documented).toBe(false);
    expect(c.mappingNote).toContain(status);
    expect(c.nextProbe).toContain('--user');
  });

  it('0x1607 (delegation policy): known code, no cause rdprobe can observe', () => {
    const e = explainCode('0x1607');
    expect(e.code.documented).toBe(true);
    expect(e.causes).toEqual([]);
    expect(renderExplanation(e)).toContain('No cause in rdprobe');
  });
});

describe('explain: input', () => {
  const known = (v: number) => primaryCode(v) !== undefined;
  it('reads 0x-prefixed and bare digits as hex, as the client displays them', () => {
    expect(parseCode('0x904', known).value).toBe(0x904);
    expect(parseCode('0X904', known).value).toBe(0x904);
    expect(parseCode('904', known).value).toBe(0x904);
    expect(parseCode(' 0x104 ', known).value).toBe(0x104);
    expect(parseCode('A07', known).value).toBe(0xa07);
  });

  it('falls back to decimal when only the decimal reading is a code, and says so', () => {
    const r = parseCode('2308', known);
    expect(r.value).toBe(0x904);
    expect(r.readAs).toContain('read as decimal 2308 = 0x904');
    expect(parseCode('260', known).value).toBe(0x104);
    expect(parseCode('516', known).value).toBe(0x204);
    expect(parseCode('2308d', known).value).toBe(0x904);
  });

  it('prefers hex when both readings are codes, and mentions the other', () => {
    // 0x208 (HostNotFound) and decimal 208 (not a code): hex. 3 is both 0x3 and decimal 3: same value.
    expect(parseCode('208', known).value).toBe(0x208);
    expect(parseCode('3', known).value).toBe(3);
    for (const row of PRIMARY_CODES) {
      const bare = row.value.toString(16);
      if (!/^[0-9]+$/.test(bare)) continue;
      const dec = Number.parseInt(bare, 10);
      const r = parseCode(bare, known);
      expect(r.value).toBe(row.value);
      if (dec !== row.value && known(dec)) expect(r.readAs).toContain(`${dec}d`);
    }
  });

  it('explainCode reports how the input was read', () => {
    expect(explainCode('2308', '7').readAs).toEqual(['2308 read as decimal 2308 = 0x904 (no code 0x2308)', 'extended 7 read as hex = 0x7']);
  });

  it('unknown or malformed codes throw a clear CodeInputError', () => {
    expect(() => explainCode('0x999')).toThrow(CodeInputError);
    expect(() => explainCode('0x999')).toThrow(/0x999 \(2457\) is not a Microsoft RDP client disconnect code/);
    expect(() => explainCode('hello')).toThrow(/"hello" is not a code/);
    expect(() => explainCode('')).toThrow(CodeInputError);
    expect(() => explainCode('0x904', '0x99')).toThrow(/not an extended disconnect reason/);
    expect(explainCode('0x904', '0x10C9').extended).toMatchObject({ name: 'exDiscReasonProtocolRange', documented: true });
  });
});

describe('code tables are consistent', () => {
  it('every primary and extended row has sources that exist', () => {
    for (const r of [...PRIMARY_CODES, ...EXTENDED_CODES]) {
      expect(r.sources.length, r.name).toBeGreaterThan(0);
      for (const s of r.sources) expect(SOURCES[s], s).toBeDefined();
    }
    expect(PRIMARY_CODES.filter((r) => !r.documented).map((r) => r.value)).toEqual([0x4]);
  });

  it('every client error in the catalogue is a code in the tables, and every cause cites sources', () => {
    for (const c of CAUSES) {
      expect(c.sources.length, c.id).toBeGreaterThan(0);
      for (const s of c.sources) expect(SOURCES[s], `${c.id}: ${s}`).toBeDefined();
      for (const ce of c.clientErrors) {
        expect(primaryCode(Number.parseInt(ce.code, 16)), `${c.id}: ${ce.code}`).toBeDefined();
        if (ce.extended) expect(extendedCode(Number.parseInt(ce.extended, 16)), `${c.id}: ${ce.extended}`).toBeDefined();
      }
      expect(c.tellApart.length, c.id).toBeGreaterThan(10);
    }
  });

  it('renders the documented/inferred flag per code and per mapping', () => {
    const text = renderExplanation(explainCode('0x904', '0x7'));
    expect(text.split('\n')[0]).toBe('0x904 (2308) disconnectReasonAtClientWinsockFDCLOSE — Socket closed (the peer or something on the path closed/reset the TCP connection). [documented]');
    expect(text).toContain('mapping inferred');
    expect(text).toContain('https://learn.microsoft.com/en-us/windows/win32/termserv/extendeddisconnectreasoncode');
    expect(renderExplanation(explainCode('0x4')).split('\n')[0]).toContain('[inferred]');
  });
});
