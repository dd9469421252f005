/**
 * Observation factory for the diagnosis tables. `healthy()` is a Windows host with SecurityLayer=Negotiate and NLA
 * optional, valid certificate, CredSSP v6, UDP transport answering: every built-in profile connects and no rule fires.
 * Scenario builders change what a real server of that kind answers (xrdp facts from LAB-NOTES). `make(base, patch)`
 * deep-merges a patch: objects merge, arrays replace, `undefined` removes a key.
 */
import { deriveSecurity } from '../../src/observation/derive.js';
import type { Coded, Observation, ProtocolEnumeration, ProtocolName, ProtocolResult } from '../../src/observation/types.js';

export type Patch<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: Patch<T[K]> | undefined } : T;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: unknown, patch: unknown): unknown {
  if (!isObject(base) || !isObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = structuredClone(base);
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete out[k];
    else out[k] = k in out ? merge(out[k], v) : structuredClone(v);
  }
  return out;
}

export function make(base: Observation, patch: Patch<Observation>): Observation {
  return merge(base, patch) as Observation;
}

export const NEG: Record<string, Coded> = {
  SSL_REQUIRED: { value: 1, name: 'SSL_REQUIRED_BY_SERVER' },
  SSL_NOT_ALLOWED: { value: 2, name: 'SSL_NOT_ALLOWED_BY_SERVER' },
  SSL_CERT_NOT_ON_SERVER: { value: 3, name: 'SSL_CERT_NOT_ON_SERVER' },
  INCONSISTENT_FLAGS: { value: 4, name: 'INCONSISTENT_FLAGS' },
  HYBRID_REQUIRED: { value: 5, name: 'HYBRID_REQUIRED_BY_SERVER' },
  SSL_WITH_USER_AUTH: { value: 6, name: 'SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER' },
};

export const accepted = (p: ProtocolName): ProtocolResult => ({ outcome: 'accepted', selected: p, ms: 3 });
export const failed = (f: Coded): ProtocolResult => ({ outcome: 'failure', failure: f, ms: 3 });
export const notSelected = (selected: ProtocolName): ProtocolResult => ({ outcome: 'not-selected', selected, ms: 3 });

/** protocols + the security facts the probe derives from them (the real deriveSecurity). */
export function withProtocols(obs: Observation, protocols: ProtocolEnumeration): Observation {
  const o = structuredClone(obs);
  o.protocols = protocols;
  o.security = deriveSecurity(protocols);
  return o;
}

const REQUESTED: ProtocolName[] = ['SSL', 'HYBRID', 'HYBRID_EX'];

export function healthy(): Observation {
  const o: Observation = {
    schema: 1,
    tool: { name: 'rdprobe', version: '0.1.0' },
    source: {
      kind: 'live',
      target: 'rdp.example.test',
      host: 'rdp.example.test',
      port: 3389,
      address: '192.0.2.10',
      startedAt: '2026-01-15T10:00:00.000Z',
    },
    options: { requested: REQUESTED, cookie: null, phases: ['dns', 'tcp', 'x224', 'protocols', 'tls', 'credssp'], timeoutMs: 30000, phaseTimeoutMs: 5000 },
    dns: { outcome: 'ok', addresses: [{ address: '192.0.2.10', family: 4 }], ms: 3 },
    tcp: { outcome: 'open', ms: 2, address: '192.0.2.10', port: 3389 },
    x224: {
      requested: REQUESTED,
      requestedMask: 0x0b,
      outcome: 'selected',
      selected: 'HYBRID_EX',
      selectedMask: 0x08,
      flags: { value: 0x1f, names: ['EXTENDED_CLIENT_DATA_SUPPORTED', 'DYNVC_GFX_PROTOCOL_SUPPORTED'] },
      sourceRef: 0x1234,
      ms: 3,
    },
    tls: {
      outcome: 'ok',
      over: 'HYBRID_EX',
      version: 'TLSv1.2',
      cipher: { name: 'ECDHE-RSA-AES256-GCM-SHA384' },
      certificate: {
        subject: 'CN=rdp.example.test',
        subjectCN: 'rdp.example.test',
        issuer: 'CN=rdp.example.test',
        san: [],
        serial: '1f2e3d',
        notBefore: '2025-10-01T00:00:00.000Z',
        notAfter: '2026-04-01T00:00:00.000Z',
        daysLeft: 76,
        expired: false,
        notYetValid: false,
        selfSigned: true,
        keyType: 'RSA',
        keyBits: 2048,
        signatureAlgorithm: 'sha256WithRSAEncryption',
        sha256: 'aa'.repeat(32),
        sha1: 'bb'.repeat(20),
      },
      versions: {
        TLSv1: { outcome: 'accepted' },
        'TLSv1.1': { outcome: 'accepted' },
        'TLSv1.2': { outcome: 'accepted' },
        'TLSv1.3': { outcome: 'rejected', detail: 'closed' },
      },
      bytesReceived: 1354,
      firstByteMs: 4,
      handshakeMs: 9,
    },
    credssp: {
      outcome: 'challenge',
      version: 6,
      ntlm: { nbComputer: 'RDP01', nbDomain: 'EXAMPLE', dnsComputer: 'rdp.example.test', osVersion: '10.0.20348', clockSkewMs: 40 },
      ms: 8,
    },
    mcs: {
      outcome: 'ok',
      via: 'tls',
      multitransport: { value: 0x105, names: ['TRANSPORTTYPE_UDPFECR', 'TRANSPORTTYPE_UDPFECL', 'TRANSPORTTYPE_UDP_PREFERRED'] },
      ms: 6,
    },
    udp: { outcome: 'synack', ms: 4, attempts: 1, version: 0x101 },
    connections: 12,
    durationMs: 850,
    timeline: [],
    errors: [],
  };
  return withProtocols(o, {
    RDP: accepted('RDP'),
    SSL: accepted('SSL'),
    HYBRID: accepted('HYBRID'),
    HYBRID_EX: accepted('HYBRID_EX'),
  });
}

/** Windows with "Require NLA" (the default): everything but CredSSP fails with HYBRID_REQUIRED_BY_SERVER. */
export function windowsNlaRequired(): Observation {
  const o = make(healthy(), { mcs: undefined });
  return withProtocols(o, {
    RDP: failed(NEG.HYBRID_REQUIRED),
    SSL: failed(NEG.HYBRID_REQUIRED),
    HYBRID: accepted('HYBRID'),
    HYBRID_EX: accepted('HYBRID_EX'),
  });
}

/** xrdp security_layer=tls (LAB-NOTES): SSL only; HYBRID-only requests fail with SSL_REQUIRED_BY_SERVER; no UDP. */
export function xrdpTlsOnly(): Observation {
  const o = make(healthy(), {
    x224: { selected: 'SSL', selectedMask: 0x01, flags: { value: 0x00, names: [] } },
    tls: { over: 'SSL' },
    credssp: undefined,
    mcs: { outcome: 'ok', via: 'tls', multitransport: undefined, ms: 5 },
    udp: { outcome: 'icmp-unreachable', ms: 1, attempts: 1 },
  });
  return withProtocols(o, {
    RDP: failed(NEG.SSL_REQUIRED),
    SSL: accepted('SSL'),
    HYBRID: failed(NEG.SSL_REQUIRED),
    HYBRID_EX: failed(NEG.SSL_REQUIRED),
  });
}

/** xrdp security_layer=rdp (LAB-NOTES): every request selects PROTOCOL_RDP. */
export function xrdpRdpOnly(): Observation {
  const o = make(healthy(), {
    x224: { selected: 'RDP', selectedMask: 0, flags: { value: 0, names: [] } },
    tls: undefined,
    credssp: undefined,
    mcs: { outcome: 'ok', via: 'plain', multitransport: undefined, ms: 5 },
    udp: { outcome: 'icmp-unreachable', ms: 1, attempts: 1 },
  });
  return withProtocols(o, {
    RDP: accepted('RDP'),
    SSL: notSelected('RDP'),
    HYBRID: notSelected('RDP'),
    HYBRID_EX: notSelected('RDP'),
  });
}

/** Windows with SecurityLayer=0 that refuses TLS with SSL_NOT_ALLOWED_BY_SERVER (MS-RDPBCGR 2.2.1.2.2). */
export function windowsRdpOnly(): Observation {
  const o = make(healthy(), {
    x224: { outcome: 'failure', selected: undefined, selectedMask: undefined, flags: undefined, failure: NEG.SSL_NOT_ALLOWED },
    tls: undefined,
    credssp: undefined,
    mcs: { outcome: 'ok', via: 'plain', multitransport: undefined, ms: 5 },
  });
  return withProtocols(o, {
    RDP: accepted('RDP'),
    SSL: failed(NEG.SSL_NOT_ALLOWED),
    HYBRID: failed(NEG.SSL_NOT_ALLOWED),
    HYBRID_EX: failed(NEG.SSL_NOT_ALLOWED),
  });
}

/** Nothing past DNS/TCP: for reachability cases. */
export function tcpOnly(tcp: Observation['tcp']): Observation {
  return make(healthy(), {
    tcp,
    x224: undefined,
    protocols: undefined,
    security: undefined,
    tls: undefined,
    credssp: undefined,
    mcs: undefined,
    udp: undefined,
  });
}

/** The server's TLS flight stalls after X.224 (PMTU black-hole signature from LAB-NOTES). */
export function tlsStalled(bytesReceived: number, pmtu?: Observation['pmtu']): Observation {
  const o = make(healthy(), {
    tls: {
      outcome: 'stalled',
      version: undefined,
      cipher: undefined,
      certificate: undefined,
      versions: undefined,
      bytesReceived,
      firstByteMs: undefined,
      handshakeMs: undefined,
      stalledAfterMs: 5000,
      error: 'TLS handshake not complete after 5000 ms',
    },
    credssp: undefined,
    mcs: undefined,
  });
  if (pmtu) o.pmtu = pmtu;
  return o;
}
