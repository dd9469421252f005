/**
 * Client profiles: what a client offers in its X.224 request, what it does when the server refuses, whether it uses
 * UDP, which TLS versions it speaks. A mismatch is a property of the (server, client) pair, so every verdict is per
 * profile. Facts marked [inference] are our reading of the clients' behaviour, not documented by their vendors.
 */
import type { ProtocolName, TlsVersionName } from '../observation/types.js';

export type ProfileName = 'mstsc' | 'mstsc-nla-off' | 'windows-app-mac' | 'freerdp';
export const PROFILE_NAMES: readonly ProfileName[] = ['mstsc', 'mstsc-nla-off', 'windows-app-mac', 'freerdp'];

export type RequireMode = 'nla' | 'tls' | 'rdp';
export const REQUIRE_MODES: readonly RequireMode[] = ['nla', 'tls', 'rdp'];

export interface ClientProfile {
  name: string;
  base: ProfileName;
  description: string;
  /** requestedProtocols of the first RDP_NEG_REQ, highest preference first (RDP = bit 0, never listed). */
  offer: ProtocolName[];
  /** Accepts Standard RDP Security (selectedProtocol RDP, a legacy CC, or a retry with requestedProtocols 0). */
  rdp: boolean;
  /** Speaks CredSSP (NLA). */
  nla: boolean;
  /** Speaks TLS (SSL, and the TLS under CredSSP). */
  tls: boolean;
  /** Tries MS-RDPEUDP when the server offers multitransport. */
  udp: boolean;
  /** TLS versions the client offers by default. */
  tlsVersions: TlsVersionName[];
  /** Rejects RSA server keys under this many bits (OpenSSL security level 2 and Apple's ATS rule: 2048). */
  minRsaBits?: number;
  /** Refuses CredSSP servers older than version 5 (the CVE-2018-0886 "Mitigated" default). */
  enforcesCredsspOracle: boolean;
  /** Reconnect with fewer protocols after an RDP_NEG_FAILURE: failure code → next offer (null = give up). */
  retry: (failureCode: number, offered: ProtocolName[]) => ProtocolName[] | null;
  /** The error namespace the verdict uses. */
  errors: 'microsoft' | 'freerdp';
  require?: RequireMode;
}

/**
 * Microsoft clients: on SSL_NOT_ALLOWED_BY_SERVER they reconnect with Standard RDP Security (they connect to
 * SecurityLayer=RDP servers with an identity warning) [inference]. Other failures are terminal.
 */
function microsoftRetry(this: void, code: number, offered: ProtocolName[]): ProtocolName[] | null {
  return code === 2 && offered.length > 0 ? [] : null;
}

/** FreeRDP nego.c: 1 → TLS only, 2 → Standard RDP only, 5 → NLA only (each a new TCP connection; PROTOCOL-NOTES §1.4). */
function freerdpRetry(p: ClientProfile) {
  return (code: number, offered: ProtocolName[]): ProtocolName[] | null => {
    const same = (a: ProtocolName[]) => a.length === offered.length && a.every((x) => offered.includes(x));
    let next: ProtocolName[] | null = null;
    if (code === 1 && p.tls) next = ['SSL'];
    else if (code === 2 && p.rdp) next = [];
    else if (code === 5 && p.nla) next = ['HYBRID'];
    return next && !same(next) ? next : null;
  };
}

const ALL_TLS: TlsVersionName[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
const MODERN_TLS: TlsVersionName[] = ['TLSv1.2', 'TLSv1.3'];

function builtIn(name: ProfileName): ClientProfile {
  switch (name) {
    case 'mstsc':
      return {
        name,
        base: name,
        description: 'Windows Remote Desktop Connection (mstsc), defaults: offers SSL|HYBRID|HYBRID_EX, NLA on, UDP on',
        offer: ['HYBRID_EX', 'HYBRID', 'SSL'],
        rdp: true,
        nla: true,
        tls: true,
        udp: true,
        // SChannel defaults; Windows 11 builds that disable TLS 1.0/1.1 by default are handled as a warning [inference].
        tlsVersions: ALL_TLS,
        enforcesCredsspOracle: true,
        retry: microsoftRetry,
        errors: 'microsoft',
      };
    case 'mstsc-nla-off':
      return {
        name,
        base: name,
        description: 'mstsc with NLA off (enablecredsspsupport:i:0): offers SSL only, UDP on',
        offer: ['SSL'],
        rdp: true,
        nla: false,
        tls: true,
        udp: true,
        tlsVersions: ALL_TLS,
        enforcesCredsspOracle: true,
        retry: microsoftRetry,
        errors: 'microsoft',
      };
    case 'windows-app-mac':
      return {
        name,
        base: name,
        description: 'Windows App / Microsoft Remote Desktop on macOS: like mstsc (SSL|HYBRID|HYBRID_EX, NLA on) but no RDP-UDP to a plain host',
        offer: ['HYBRID_EX', 'HYBRID', 'SSL'],
        rdp: true,
        nla: true,
        tls: true,
        // UDP only via AVD/W365 Shortpath (PROTOCOL-NOTES §1.16, clintcan/macrdp PR#73).
        udp: false,
        // Apple deprecated TLS 1.0/1.1 and requires RSA ≥ 2048 for TLS server keys [inference for this app].
        tlsVersions: MODERN_TLS,
        minRsaBits: 2048,
        enforcesCredsspOracle: true,
        retry: microsoftRetry,
        errors: 'microsoft',
      };
    case 'freerdp': {
      const p: ClientProfile = {
        name,
        base: name,
        description: 'FreeRDP (xfreerdp/wlfreerdp) defaults: offers RDP|SSL|HYBRID, no RDP-UDP',
        offer: ['HYBRID', 'SSL'],
        rdp: true,
        nla: true,
        tls: true,
        udp: false,
        // OpenSSL 3 at the distributions' default security level refuses TLS < 1.2 and RSA < 2048.
        tlsVersions: MODERN_TLS,
        minRsaBits: 2048,
        enforcesCredsspOracle: false,
        retry: () => null,
        errors: 'freerdp',
      };
      p.retry = freerdpRetry(p);
      return p;
    }
  }
}

/**
 * The effective profile: a built-in one, optionally narrowed by `--require` (the client insists on one security
 * layer, like FreeRDP /sec:nla|tls|rdp or an mstsc policy).
 */
export function resolveProfile(name: ProfileName = 'mstsc', require?: RequireMode): ClientProfile {
  if (!PROFILE_NAMES.includes(name)) {
    throw new Error(`unknown client profile "${name}" (one of ${PROFILE_NAMES.join(', ')})`);
  }
  const p = builtIn(name);
  if (!require) return p;
  if (!REQUIRE_MODES.includes(require)) {
    throw new Error(`unknown --require value "${require}" (one of ${REQUIRE_MODES.join(', ')})`);
  }
  const narrowed: ClientProfile = { ...p, name: `${name} --require ${require}`, require };
  if (require === 'nla') {
    const offer = p.offer.filter((x) => x === 'HYBRID' || x === 'HYBRID_EX');
    Object.assign(narrowed, { offer: offer.length ? offer : ['HYBRID'], rdp: false, nla: true, tls: true });
  } else if (require === 'tls') {
    Object.assign(narrowed, { offer: ['SSL'], rdp: false, nla: false, tls: true });
  } else {
    Object.assign(narrowed, { offer: [], rdp: true, nla: false, tls: false });
  }
  narrowed.description = `${p.description}; requires ${require.toUpperCase()} only (offers ${describeOffer(narrowed)})`;
  narrowed.retry = () => null;
  return narrowed;
}

/** The profile's offer for humans: "HYBRID_EX|HYBRID|SSL (falls back to RDP)", or "RDP" for requestedProtocols 0. */
export function describeOffer(p: Pick<ClientProfile, 'offer' | 'rdp'>): string {
  if (p.offer.length === 0) return p.rdp ? 'RDP' : 'nothing';
  return `${[...p.offer].reverse().join('|')}${p.rdp ? ' (falls back to RDP)' : ''}`;
}

/** An X.224 offer as a list: "SSL|HYBRID", or "RDP" for requestedProtocols 0. */
export function offerText(offer: readonly string[]): string {
  return offer.length ? [...offer].reverse().join('|') : 'RDP';
}
