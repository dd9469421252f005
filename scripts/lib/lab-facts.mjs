/**
 * The reference for "who is right": what the lab servers were measured to do, and the verdict for one fact given
 * nmap's value, rdprobe's value and this reference. Used by compare-nmap.mjs (table, exit code) and bench.mjs
 * (how many facts nmap gets wrong or cannot give).
 *
 * Verdicts:
 *   same           both give the lab's answer (or agree where the lab reference has no entry)
 *   nmap wrong     nmap answers, but not what the server did; rdprobe gives the lab's answer
 *   nmap failed    nmap could not answer (Script execution failed, …); rdprobe gives the lab's answer
 *   rdprobe only   a fact the two nmap scripts do not report at all
 *   nmap only      a fact rdprobe does not report
 *   RDPROBE WRONG  rdprobe differs from a correct nmap answer (lab reference present)
 *   DIFFERENT      rdprobe differs from nmap where the lab reference has no entry (nmap taken as correct)
 *   RDPROBE FAILED rdprobe could not answer where nmap answered correctly
 *   rdprobe wrong  rdprobe differs from the lab reference where nmap had no correct answer either
 *   both wrong / both failed / rdprobe failed / —
 */
import { isFailed, sameValue } from './facts.mjs';

// What the lab servers actually do (the reference that decides which tool is right).
// Sources: LAB-NOTES.md (xrdp/FreeRDP behaviour, nmap anchors) and lab/README.md "X.224 Connection Confirm for each
// requestedProtocols value" (raw CC bytes per request: 0, 1, 2, 3, 8, 0xB). A fact that was not measured there is
// left out (undefined), and then a correct-looking nmap answer is taken as the reference.
const accepted = { cmp: 'accepted' };
const refused = (code) => ({ cmp: 'not accepted', ...(code ? { code } : {}) });
/** xrdp 0.9.21 security_layer=tls: RDP/HYBRID/HYBRID_EX requests → FAILURE 1 SSL_REQUIRED_BY_SERVER, SSL → selected. */
const XRDP_TLS = {
  port: { cmp: 'open' },
  'proto:RDP': refused('SSL_REQUIRED_BY_SERVER'),
  'proto:SSL': accepted,
  'proto:HYBRID': refused(), // request 2 → FAILURE 1; nmap's request 3 → selected SSL (not CredSSP)
  'proto:RDSTLS': refused(), // request 4 not in the measured table; xrdp implements no RDSTLS
  'proto:HYBRID_EX': refused('SSL_REQUIRED_BY_SERVER'),
  encLevel: { cmp: 'n/a' }, // Standard RDP Security is refused, so there is no Standard-RDP encryption level
  encMethods: { cmp: 'none' },
  rdpVersion: { cmp: '0x00080004' }, // same xrdp 0.9.21 binary as the rdp host, where nmap measured "RDP 5.x … 8.x"
  'ntlm:any': { cmp: 'none' }, // xrdp implements no CredSSP
};
export const LAB_FACTS = {
  tls: XRDP_TLS,
  // blackhole: the same xrdp TLS-only config; its CCs are small and pass the MTU-1400 link untouched
  blackhole: XRDP_TLS,
  rdp: {
    // xrdp security_layer=rdp: "rdp mode always selects PROTOCOL_RDP" (LAB-NOTES) — so SSL/CredSSP/… are NOT accepted
    port: { cmp: 'open' },
    'proto:RDP': accepted,
    'proto:SSL': refused(),
    'proto:HYBRID': refused(),
    'proto:RDSTLS': refused(),
    'proto:HYBRID_EX': refused(),
    encLevel: { cmp: '3' }, // crypt_level=high: "always answers 128-bit RC4 at high" (LAB-NOTES)
    encMethods: { cmp: '128BIT' }, // whatever method is offered alone, the answer is 128BIT
    rdpVersion: { cmp: '0x00080004' },
    'ntlm:any': { cmp: 'none' },
  },
  nla: {
    // freerdp-shadow-cli /sec:nla: "HYBRID only: RDP or SSL-only requests get NEG_FAILURE HYBRID_REQUIRED_BY_SERVER",
    // request 8 (HYBRID_EX alone) → FAILURE 5 (lab/README.md table)
    port: { cmp: 'open' },
    'proto:RDP': refused('HYBRID_REQUIRED_BY_SERVER'),
    'proto:SSL': refused('HYBRID_REQUIRED_BY_SERVER'),
    'proto:HYBRID': accepted,
    'proto:RDSTLS': refused(),
    'proto:HYBRID_EX': refused('HYBRID_REQUIRED_BY_SERVER'),
    encLevel: { cmp: 'n/a' },
    encMethods: { cmp: 'none' },
    // rdpVersion: not measured (reaching MCS needs CredSSP first); see the report
    'ntlm:any': { cmp: 'challenge' },
    'ntlm:Target_Name': { cmp: 'RDPLAB-NLA' },
    'ntlm:NetBIOS_Domain_Name': { cmp: 'RDPLAB-NLA' },
    'ntlm:NetBIOS_Computer_Name': { cmp: 'RDPLAB-NLA' },
    'ntlm:DNS_Domain_Name': { cmp: 'RDPLAB-NLA' },
    'ntlm:DNS_Computer_Name': { cmp: 'RDPLAB-NLA' },
    'ntlm:DNS_Tree_Name': { cmp: '(absent)' },
    'ntlm:Product_Version': { cmp: '6.1.7601' }, // hard-coded by FreeRDP
    'ntlm:clock': { cmp: 'in sync' }, // every namespace shares the kernel clock
  },
  closed: { port: { cmp: 'closed' } },
  filtered: { port: { cmp: 'filtered' } },
  mtu1400: { ...XRDP_TLS },
};

/** Verdicts that make the script fail (always / only with --strict). */
export const FAILING = new Set(['RDPROBE WRONG', 'RDPROBE FAILED', 'DIFFERENT']);
export const FAILING_STRICT = new Set(['rdprobe wrong', 'rdprobe failed', 'both wrong', 'nmap only', 'both failed']);

export function verdict(n, r, t, { noCodeCompare = false } = {}) {
  const opt = { noCodeCompare };
  const nAns = !!n && !isFailed(n);
  const rAns = !!r && !isFailed(r);
  const nRight = nAns && (t === undefined || sameValue(n, t, opt));
  const rRight = rAns && (t === undefined ? null : sameValue(r, t, opt));
  if (nAns && rAns) {
    if (sameValue(n, r, opt)) return t !== undefined && !rRight ? 'both wrong' : 'same';
    if (nRight) return t === undefined ? 'DIFFERENT' : 'RDPROBE WRONG';
    return rRight === false ? 'both wrong' : 'nmap wrong';
  }
  if (nAns) {
    if (isFailed(r)) return nRight ? 'RDPROBE FAILED' : 'rdprobe failed';
    return 'nmap only';
  }
  if (rAns) {
    if (rRight === false) return 'rdprobe wrong';
    return isFailed(n) ? 'nmap failed' : 'rdprobe only';
  }
  if (isFailed(n) && isFailed(r)) return 'both failed';
  if (isFailed(n)) return 'nmap failed';
  if (isFailed(r)) return t === undefined ? 'rdprobe failed' : 'rdprobe wrong';
  return '—';
}

