/**
 * Parse nmap's *normal* output (stdout of `nmap -n -Pn [-d] -p3389 --script rdp-enum-encryption,rdp-ntlm-info ADDR`)
 * into plain data. Written from nmap 7.93's output as measured in the lab (LAB-NOTES.md), not from nmap's code.
 *
 * What it understands:
 *   PORT     STATE SERVICE       [REASON]
 *   3389/tcp open  ms-wbt-server [syn-ack ttl 63]
 *   | rdp-enum-encryption:
 *   |   Security layer
 *   |     CredSSP (NLA): SUCCESS
 *   |     Native RDP: FAILED (HYBRID_REQUIRED_BY_SERVER)      <- FAILED lines only with -d
 *   |   RDP Encryption level: High
 *   |     128-bit RC4: SUCCESS                                <- "FAILURE" lines only with -d
 *   |_  RDP Protocol Version:  RDP 5.x, 6.x, 7.x, or 8.x server
 *   | rdp-ntlm-info:
 *   |   Target_Name: RDPLAB-NLA  …  Product_Version: 6.1.7601
 *   |_  System_Time: 2026-11-21T09:22:24+00:00
 *   |_rdp-enum-encryption: ERROR: Script execution failed (use -d to debug)     <- without -d
 *   NSE: rdp-enum-encryption against 198.19.1.10:3389 threw an error!           <- with -d, then the Lua error line
 *   NSE: [rdp-ntlm-info 198.19.2.10:3389] Unable to establish a TLS connection … <- with -d: the script's own notes
 *   Nmap done: 1 IP address (1 host up) scanned in 2.14 seconds
 */

export const ENUM = 'rdp-enum-encryption';
export const NTLM = 'rdp-ntlm-info';

/** rdp-enum-encryption's security-layer names and the requestedProtocols value each sends (PROTOCOL-NOTES.md §1.10). */
export const NMAP_SECURITY_LAYERS = {
  'Native RDP': 0,
  SSL: 1,
  'CredSSP (NLA)': 3,
  RDSTLS: 4,
  'CredSSP with Early User Auth': 8,
};

/**
 * rdp-enum-encryption's cipher names → the single encryptionMethods bit it offers (MS-RDPBCGR 2.2.1.3.3
 * TS_UD_CS_SEC: 40BIT 0x1, 128BIT 0x2, 56BIT 0x8, FIPS 0x10), named as rdprobe names them.
 */
export const NMAP_CIPHERS = {
  '40-bit RC4': { bit: 0x01, rdprobe: '40BIT' },
  '56-bit RC4': { bit: 0x08, rdprobe: '56BIT' },
  '128-bit RC4': { bit: 0x02, rdprobe: '128BIT' },
  'FIPS 140-1': { bit: 0x10, rdprobe: 'FIPS' },
};

/** "RDP Encryption level" text → encryptionLevel (MS-RDPBCGR 2.2.1.4.3 TS_UD_SC_SEC1). */
export const NMAP_ENCRYPTION_LEVELS = { None: 0, Low: 1, 'Client Compatible': 2, High: 3, 'FIPS Compliant': 4 };

/**
 * "RDP Protocol Version" text → TS_UD_SC_CORE.version (MS-RDPBCGR 2.2.1.4.2: 0x00080001 RDP 4.0, 0x00080004 RDP 5.0
 * to 8.1, 0x00080005 RDP 10.0, … 0x0008000C RDP 10.7). nmap 7.93 prints these phrasings.
 */
export function nmapVersionValue(text) {
  const t = text.trim();
  if (/^RDP 4\.0 server$/.test(t)) return 0x00080001;
  if (/^RDP 5\.x, 6\.x, 7\.x, or 8\.x server$/.test(t)) return 0x00080004;
  const m = /^RDP 10\.(\d+) server$/.exec(t);
  if (m) return 0x00080005 + Number(m[1]);
  return null; // "Unknown" or a phrasing we do not know: keep the text only
}

/**
 * @param {string} text nmap's stdout (stderr may be appended; it is ignored except for NSE debug lines)
 * @param {{port?: number}} [opt]
 */
export function parseNmap(text, { port = 3389 } = {}) {
  const lines = text.split(/\r?\n/);
  const out = {
    debug: /^NSE: (Starting|Finished|Script scanning)/m.test(text) || /^-+ Timing report -+$/m.test(text),
    hostUp: null,
    /** {proto, port, state, service, reason} for the requested port, or null when nmap printed none */
    port: null,
    scripts: {},
    elapsedS: null,
    /** "Nmap done" seen: nmap finished normally */
    done: false,
    /** nmap-level errors (not script errors), e.g. "Failed to resolve", "QUITTING!" */
    errors: [],
  };

  let current = null; // the script whose output block we are in
  const script = (name) =>
    (out.scripts[name] ??= { name, status: 'absent', lines: [], notes: [], error: undefined });

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    let m;
    if ((m = /^Host is up\b/.exec(line))) out.hostUp = true;
    else if (/^Note: Host seems down/.test(line)) out.hostUp = false;
    else if ((m = /^Nmap done: .*? scanned in ([\d.]+) seconds/.exec(line))) {
      out.done = true;
      out.elapsedS = Number(m[1]);
    } else if ((m = /^(\d+)\/(tcp|udp)\s+(\S+)\s+(\S+)(?:\s+(.*?))?\s*$/.exec(line)) && Number(m[1]) === port) {
      out.port = { port: Number(m[1]), proto: m[2], state: m[3], service: m[4], reason: m[5] ?? undefined };
    } else if ((m = /^NSE: (\S+) against \S+ threw an error!$/.exec(line))) {
      const s = script(m[1]);
      s.status = 'error';
      // the next line is the Lua error message ("…/asn1.lua:153: bad argument #2 to 'unpack' (data string too short)")
      s.error = (lines[i + 1] ?? '').trim() || 'threw an error';
    } else if ((m = /^NSE: (\S+) against \S+ timed out\b/.exec(line))) {
      const s = script(m[1]);
      s.status = 'error';
      s.error = 'timed out';
    } else if ((m = /^NSE: \[(\S+) [^\]]*\] (.*)$/.exec(line))) {
      script(m[1]).notes.push(m[2].trim());
    } else if (/^(QUITTING!|Failed to resolve|WARNING: No targets were specified)/.test(line)) {
      out.errors.push(line.trim());
    } else if (line.startsWith('|')) {
      // script output block (the NSE table): "| name: [value]" or "|_name: value" opens a script; deeper lines belong to it
      const body = line.replace(/^\|_?/, '');
      const head = /^ ?([a-z0-9][a-z0-9._-]*):(?: (.*?))?\s*$/i.exec(body);
      if (head && !/^ {2}/.test(body)) {
        const s = script(head[1]);
        const value = (head[2] ?? '').trim();
        const err = /^ERROR: (.*)$/.exec(value);
        if (err) {
          s.status = 'error';
          s.error ??= err[1];
        } else if (s.status !== 'error') s.status = 'ok';
        if (value && !err) s.lines.push(value);
        current = s;
      } else if (current) {
        current.lines.push(body.replace(/\s+$/, ''));
      }
    } else {
      current = null;
    }
  }

  const enc = out.scripts[ENUM];
  if (enc) Object.assign(enc, parseEnumEncryption(enc.lines));
  const ntlm = out.scripts[NTLM];
  if (ntlm) ntlm.info = parseNtlmInfo(ntlm.lines);
  return out;
}

/** The body lines of rdp-enum-encryption (indentation kept) → structured facts. */
export function parseEnumEncryption(lines) {
  const res = { securityLayer: {}, encryptionLevel: undefined, ciphers: {}, protocolVersion: undefined, unparsed: [] };
  for (const raw of lines) {
    const l = raw.trim();
    if (!l || l === 'Security layer') continue;
    let m;
    if ((m = /^RDP Encryption level: (.+)$/.exec(l))) {
      const name = m[1].trim();
      res.encryptionLevel = { name, value: NMAP_ENCRYPTION_LEVELS[name] ?? null };
    } else if ((m = /^RDP Protocol Version:\s+(.+)$/.exec(l))) {
      const t = m[1].trim();
      res.protocolVersion = { text: t, value: nmapVersionValue(t) };
    } else if ((m = /^(.+?): (SUCCESS|FAILURE|FAILED|Unknown)(?: \((.*)\))?$/.exec(l))) {
      const [, name, result, code] = m;
      if (name in NMAP_CIPHERS) res.ciphers[name] = result;
      else res.securityLayer[name] = { result, ...(code ? { code } : {}) };
    } else res.unparsed.push(l);
  }
  return res;
}

/** rdp-ntlm-info body → {Target_Name: …, Product_Version: …, System_Time: …}. */
export function parseNtlmInfo(lines) {
  const info = {};
  for (const raw of lines) {
    const m = /^\s*([A-Za-z_]+): (.*)$/.exec(raw);
    if (m) info[m[1]] = m[2].trim();
  }
  return info;
}

/** One short phrase: what nmap ended with on this host (for tables). */
export function nmapOutcome(p) {
  if (!p.done && p.errors.length) return `nmap error: ${p.errors[0]}`;
  if (!p.port) return p.done ? 'no port line' : 'did not finish';
  if (p.port.state !== 'open') return p.port.state;
  const parts = ['open'];
  const enc = p.scripts[ENUM];
  const ntlm = p.scripts[NTLM];
  if (!enc || enc.status === 'absent') parts.push('enum-encryption: no output');
  else if (enc.status === 'error') {
    const detail = enc.error && !/^Script execution failed/.test(enc.error) ? ` (${shortErr(enc.error)})` : '';
    parts.push(`enum-encryption: Script execution failed${detail}`);
  }
  else {
    const ok = Object.entries(enc.securityLayer).filter(([, v]) => v.result === 'SUCCESS').map(([k]) => k);
    parts.push(`SUCCESS: ${ok.join(', ') || 'none'}`);
  }
  if (ntlm?.status === 'ok') parts.push(`ntlm: ${ntlm.info?.NetBIOS_Computer_Name ?? ntlm.info?.Target_Name ?? '?'}`);
  else if (ntlm?.status === 'error') parts.push('ntlm-info: Script execution failed');
  return parts.join('; ');
}

function shortErr(e) {
  return e.replace(/^.*\/(nselib|scripts)\//, '').slice(0, 80);
}
