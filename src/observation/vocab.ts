/**
 * The shared vocabulary: names every layer uses (codec, transport, probe, diagnose, report). A leaf module: it
 * imports nothing, so a codec can name a protocol or an outcome without depending on the Observation record.
 *
 * Closed sets are `const` tuples with their type derived from them, so a test (and the validator) can enumerate
 * exactly the values the type allows.
 */

// ---------------------------------------------------------------------------------------------------------------
// Codes with names, flag sets, unknowns

/** A numeric code with its stable name (`unknown(0x…)` when not in our table). */
export interface Coded {
  value: number;
  name: string;
}

export interface Flags {
  value: number;
  names: string[];
}

/** The name of a code no table knows: the raw value in hex, kept (DESIGN.md: keep unknowns). */
export type UnknownName = `unknown(0x${string})`;

/**
 * `unknown(0x…)` for a value no table names. `width` pads the hex digits (8 for a u32 code, 2 for an octet); 0 does
 * not pad (unknown bits left over in a flag set). The value is read as unsigned 32-bit.
 */
export function unknownName(value: number, width = 8): UnknownName {
  return `unknown(0x${(value >>> 0).toString(16).padStart(width, '0')})`;
}

export function isUnknownName(name: string): name is UnknownName {
  return /^unknown\(0x[0-9a-f]+\)$/.test(name);
}

/** Exhaustiveness check for a switch over a closed union: the compiler proves this is unreachable. */
export function assertNever(x: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(x)}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Security protocols (MS-RDPBCGR 2.2.1.1.1 requestedProtocols, 2.2.1.2.1 selectedProtocol)

export const PROTOCOL_NAMES = ['RDP', 'SSL', 'HYBRID', 'RDSTLS', 'HYBRID_EX', 'RDSAAD'] as const;
export type ProtocolName = (typeof PROTOCOL_NAMES)[number];

export const PROTOCOL_RDP = 0x00000000; // Standard RDP Security (5.3)
export const PROTOCOL_SSL = 0x00000001; // TLS (5.4.5.1)
export const PROTOCOL_HYBRID = 0x00000002; // CredSSP (5.4.5.2)
export const PROTOCOL_RDSTLS = 0x00000004; // RDSTLS (5.4.5.3)
export const PROTOCOL_HYBRID_EX = 0x00000008; // CredSSP + Early User Authorization Result PDU (2.2.10.2)
export const PROTOCOL_RDSAAD = 0x00000010; // RDS AAD Auth (5.4.5.4)

/** Name → requestedProtocols bit (PROTOCOL_RDP is 0: the absence of the others). */
export const PROTOCOL_BITS: Readonly<Record<ProtocolName, number>> = {
  RDP: PROTOCOL_RDP,
  SSL: PROTOCOL_SSL,
  HYBRID: PROTOCOL_HYBRID,
  RDSTLS: PROTOCOL_RDSTLS,
  HYBRID_EX: PROTOCOL_HYBRID_EX,
  RDSAAD: PROTOCOL_RDSAAD,
};

export function isProtocolName(s: string): s is ProtocolName {
  return (PROTOCOL_NAMES as readonly string[]).includes(s);
}

/** A selectedProtocol as recorded: its name, or `unknown(0x…)` for a value outside the table (kept, not dropped). */
export type SelectedProtocol = ProtocolName | UnknownName;

/** Protocols that run TLS after the Connection Confirm (MS-RDPBCGR 5.4.5): every one but Standard RDP Security. */
export function usesTls(protocol: string | undefined): boolean {
  return protocol === 'SSL' || protocol === 'HYBRID' || protocol === 'HYBRID_EX' || protocol === 'RDSTLS' || protocol === 'RDSAAD';
}

/** Protocols that run CredSSP inside the TLS (MS-RDPBCGR 5.4.5.2). */
export function usesCredssp(protocol: string | undefined): boolean {
  return protocol === 'HYBRID' || protocol === 'HYBRID_EX';
}

// ---------------------------------------------------------------------------------------------------------------
// RDP_NEG_REQ flags (MS-RDPBCGR 2.2.1.1.1), RDP_NEG_RSP flags (2.2.1.2.1), RDP_NEG_FAILURE codes (2.2.1.2.2)

export const RESTRICTED_ADMIN_MODE_REQUIRED = 0x01;
export const REDIRECTED_AUTHENTICATION_MODE_REQUIRED = 0x02;
export const CORRELATION_INFO_PRESENT = 0x08;
export const NEG_REQUEST_FLAG_NAMES: Readonly<Record<number, string>> = {
  [RESTRICTED_ADMIN_MODE_REQUIRED]: 'RESTRICTED_ADMIN_MODE_REQUIRED',
  [REDIRECTED_AUTHENTICATION_MODE_REQUIRED]: 'REDIRECTED_AUTHENTICATION_MODE_REQUIRED',
  [CORRELATION_INFO_PRESENT]: 'CORRELATION_INFO_PRESENT',
};

export const EXTENDED_CLIENT_DATA_SUPPORTED = 0x01;
export const DYNVC_GFX_PROTOCOL_SUPPORTED = 0x02;
export const NEGRSP_FLAG_RESERVED = 0x04;
export const RESTRICTED_ADMIN_MODE_SUPPORTED = 0x08;
export const REDIRECTED_AUTHENTICATION_MODE_SUPPORTED = 0x10;
export const NEG_RESPONSE_FLAG_NAMES: Readonly<Record<number, string>> = {
  [EXTENDED_CLIENT_DATA_SUPPORTED]: 'EXTENDED_CLIENT_DATA_SUPPORTED',
  [DYNVC_GFX_PROTOCOL_SUPPORTED]: 'DYNVC_GFX_PROTOCOL_SUPPORTED',
  [NEGRSP_FLAG_RESERVED]: 'NEGRSP_FLAG_RESERVED',
  [RESTRICTED_ADMIN_MODE_SUPPORTED]: 'RESTRICTED_ADMIN_MODE_SUPPORTED',
  [REDIRECTED_AUTHENTICATION_MODE_SUPPORTED]: 'REDIRECTED_AUTHENTICATION_MODE_SUPPORTED',
};

/** RDP_NEG_RSP.flags says the server accepts Extended Client Data Blocks (MS-RDPBCGR 2.2.1.2.1). */
export function extendedClientDataSupported(flags: Flags | undefined): boolean {
  return ((flags?.value ?? 0) & EXTENDED_CLIENT_DATA_SUPPORTED) !== 0;
}

export const SSL_REQUIRED_BY_SERVER = 0x00000001;
export const SSL_NOT_ALLOWED_BY_SERVER = 0x00000002;
export const SSL_CERT_NOT_ON_SERVER = 0x00000003;
export const INCONSISTENT_FLAGS = 0x00000004;
export const HYBRID_REQUIRED_BY_SERVER = 0x00000005;
export const SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER = 0x00000006;
/** RDP_NEG_FAILURE failureCode → name (MS-RDPBCGR 2.2.1.2.2). The one table codec and diagnose both read. */
export const NEG_FAILURE_NAMES: Readonly<Record<number, string>> = {
  [SSL_REQUIRED_BY_SERVER]: 'SSL_REQUIRED_BY_SERVER',
  [SSL_NOT_ALLOWED_BY_SERVER]: 'SSL_NOT_ALLOWED_BY_SERVER',
  [SSL_CERT_NOT_ON_SERVER]: 'SSL_CERT_NOT_ON_SERVER',
  [INCONSISTENT_FLAGS]: 'INCONSISTENT_FLAGS',
  [HYBRID_REQUIRED_BY_SERVER]: 'HYBRID_REQUIRED_BY_SERVER',
  [SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER]: 'SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER',
};

/** failureCode → its spec name, or `unknown(0x0000000n)`. */
export function negFailureName(code: number): string {
  return NEG_FAILURE_NAMES[code] ?? unknownName(code, 8);
}

export function negFailureCoded(code: number): Coded {
  return { value: code, name: negFailureName(code) };
}

// ---------------------------------------------------------------------------------------------------------------
// Standard RDP Security encryption methods (MS-RDPBCGR 2.2.1.3.3 encryptionMethods flags, 2.2.1.4.3 selected value)

export const ENCRYPTION_METHOD_NONE = 0x00000000;
export const ENCRYPTION_METHOD_40BIT = 0x00000001;
export const ENCRYPTION_METHOD_128BIT = 0x00000002;
export const ENCRYPTION_METHOD_56BIT = 0x00000008;
export const ENCRYPTION_METHOD_FIPS = 0x00000010;

/** The methods a client can offer (NONE is only a server's answer), in the order the probe enumerates them. */
export const ENCRYPTION_METHODS = ['40BIT', '128BIT', '56BIT', 'FIPS'] as const;
export type EncryptionMethodName = (typeof ENCRYPTION_METHODS)[number];
export const ENCRYPTION_METHOD_BITS: Readonly<Record<EncryptionMethodName, number>> = {
  '40BIT': ENCRYPTION_METHOD_40BIT,
  '128BIT': ENCRYPTION_METHOD_128BIT,
  '56BIT': ENCRYPTION_METHOD_56BIT,
  FIPS: ENCRYPTION_METHOD_FIPS,
};
/** Every method bit (what rdprobe offers by default). */
export const ALL_ENCRYPTION_METHODS = ENCRYPTION_METHOD_40BIT | ENCRYPTION_METHOD_128BIT | ENCRYPTION_METHOD_56BIT | ENCRYPTION_METHOD_FIPS;
/** Value → name, NONE included (for the server's selected encryptionMethod). */
export const ENCRYPTION_METHOD_NAMES: Readonly<Record<number, string>> = {
  [ENCRYPTION_METHOD_NONE]: 'NONE',
  [ENCRYPTION_METHOD_40BIT]: '40BIT',
  [ENCRYPTION_METHOD_128BIT]: '128BIT',
  [ENCRYPTION_METHOD_56BIT]: '56BIT',
  [ENCRYPTION_METHOD_FIPS]: 'FIPS',
};

// ---------------------------------------------------------------------------------------------------------------
// TLS versions

export const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export type TlsVersionName = (typeof TLS_VERSIONS)[number];

// ---------------------------------------------------------------------------------------------------------------
// Phase outcomes. 'aborted': the whole probe was aborted (caller's signal or probe deadline) while this phase ran —
// not the server's doing, and not a timeout of this phase; diagnose treats it as "not measured".

export const DNS_OUTCOMES = ['ok', 'nxdomain', 'nodata', 'servfail', 'refused', 'timeout', 'aborted', 'error', 'skipped'] as const;
export type DnsOutcome = (typeof DNS_OUTCOMES)[number];

export const TCP_OUTCOMES = ['open', 'refused', 'filtered', 'unreachable', 'reset', 'timeout', 'aborted', 'error'] as const;
export type TcpOutcome = (typeof TCP_OUTCOMES)[number];

export const X224_OUTCOMES = ['selected', 'failure', 'legacy', 'closed', 'reset', 'timeout', 'aborted', 'malformed', 'error'] as const;
export type X224Outcome = (typeof X224_OUTCOMES)[number];

export const PROTOCOL_RESULT_OUTCOMES = ['accepted', 'not-selected', 'failure', 'refused', 'legacy', 'no-answer', 'error'] as const;
export type ProtocolResultOutcome = (typeof PROTOCOL_RESULT_OUTCOMES)[number];

export const TLS_OUTCOMES = ['ok', 'alert', 'closed', 'reset', 'stalled', 'timeout', 'aborted', 'error', 'skipped'] as const;
export type TlsOutcome = (typeof TLS_OUTCOMES)[number];

export const TLS_VERSION_OUTCOMES = ['accepted', 'rejected', 'closed', 'reset', 'stalled', 'timeout', 'aborted', 'error', 'unsupported-locally'] as const;
export type TlsVersionOutcome = (typeof TLS_VERSION_OUTCOMES)[number];

export const TLS_STALL_EVIDENCE = ['deadline', 'hole'] as const;
export type TlsStallEvidence = (typeof TLS_STALL_EVIDENCE)[number];

export const CREDSSP_OUTCOMES = ['challenge', 'error', 'closed', 'alert', 'reset', 'timeout', 'aborted', 'malformed', 'skipped'] as const;
export type CredsspOutcome = (typeof CREDSSP_OUTCOMES)[number];

export const CREDSSP_AUTH_OUTCOMES = ['success', 'failed', 'error-code', 'closed', 'alert', 'timeout', 'aborted', 'malformed'] as const;
export type CredsspAuthOutcome = (typeof CREDSSP_AUTH_OUTCOMES)[number];

export const MCS_OUTCOMES = ['ok', 'rejected', 'closed', 'reset', 'timeout', 'aborted', 'malformed', 'skipped'] as const;
export type McsOutcome = (typeof MCS_OUTCOMES)[number];

export const MCS_VIA = ['plain', 'tls'] as const;
export type McsVia = (typeof MCS_VIA)[number];

export const ENCRYPTION_METHOD_OUTCOMES = ['accepted', 'rejected', 'no-answer'] as const;
export type EncryptionMethodOutcome = (typeof ENCRYPTION_METHOD_OUTCOMES)[number];

/** What dwVersion of a Standard RDP Security server certificate claimed (MS-RDPBCGR 2.2.1.4.3.1). */
export const SERVER_CERTIFICATE_TYPES = ['proprietary', 'x509'] as const;
export type ServerCertificateType = (typeof SERVER_CERTIFICATE_TYPES)[number] | UnknownName;

/** Which ICMP destination-unreachable answered a UDP datagram (RFC 792 codes 3, 1, 0; 13 / ICMPv6 1 code 1: prohibited). */
export const UDP_UNREACHABLE_KINDS = ['port', 'host', 'net', 'prohibited'] as const;
export type UdpUnreachableKind = (typeof UDP_UNREACHABLE_KINDS)[number];

export const UDP_OUTCOMES = ['synack', 'icmp-unreachable', 'silent', 'local-error', 'aborted', 'skipped', 'error'] as const;
export type UdpOutcome = (typeof UDP_OUTCOMES)[number];

export const PMTU_OUTCOMES = ['measured', 'black-hole', 'unprivileged', 'unreachable', 'skipped', 'error'] as const;
export type PmtuOutcome = (typeof PMTU_OUTCOMES)[number];

export const PMTU_PROBE_RESULTS = ['ok', 'frag-needed', 'lost', 'emsgsize', 'error'] as const;
export type PmtuProbeResult = (typeof PMTU_PROBE_RESULTS)[number];

export const SOURCE_KINDS = ['live', 'replay'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export const X224_DISCONNECT_KINDS = ['x224-disconnect-request', 'mcs-disconnect-provider-ultimatum'] as const;
export type X224DisconnectKind = (typeof X224_DISCONNECT_KINDS)[number];

// ---------------------------------------------------------------------------------------------------------------
// Phases (timeline entries, errors, options.phases) and error codes

export const PHASES = [
  'dns',
  'tcp',
  'x224',
  'protocols',
  'tls',
  'tls-versions',
  'credssp',
  'mcs',
  'encryption-methods',
  'stability',
  'burst',
  'udp',
  'pmtu',
  'mss-clamp',
  /** The probe as a whole (deadline, abort, our own bugs). */
  'probe',
  /** The diagnosis run on a probed host (scan). */
  'diagnose',
  /** Reading a capture (replay): the attempt as a whole. */
  'replay',
] as const;
export type Phase = (typeof PHASES)[number];

/** Stable error codes (Observation.errors[].code, and the `code` of rdprobe's own Error classes). */
export const ERROR_CODES = [
  /** rdprobe's own bug: a phase threw. */
  'RDPROBE_INTERNAL',
  /** The whole-probe deadline passed. */
  'RDPROBE_PROBE_DEADLINE',
  /** The caller aborted the probe. */
  'RDPROBE_ABORTED',
  /** The MSS-clamp confirmation could not run. */
  'RDPROBE_MSS_CLAMP',
  /** Malformed bytes (codec DecodeError). */
  'RDPROBE_DECODE',
  /** An Observation document that does not validate. */
  'RDPROBE_BAD_OBSERVATION',
  /** A client error code that is not in the catalogue. */
  'RDPROBE_BAD_CODE',
  /** The native addon is not available. */
  'RDPROBE_NATIVE_UNAVAILABLE',
  /** Replay: a captured PDU (Connection Request, Connect-Initial, RDPEUDP SYN …) does not decode. */
  'RDPROBE_REPLAY_MALFORMED',
  /** Replay: the clear-text part of a captured TLS flight does not parse. */
  'RDPROBE_REPLAY_TLS',
  /** Replay: a captured certificate does not parse. */
  'RDPROBE_REPLAY_CERTIFICATE',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];
