/**
 * The Observation record: what rdprobe saw of one RDP endpoint, phase by phase. Live probing and (later) pcap replay
 * both produce it; the diagnosis engine reads only it. JSON-serialisable, versioned by `schema`.
 *
 * Rules (DESIGN.md): a refusal is data, not an exception; unknown codes keep their raw number next to an
 * `unknown(0x…)` name; an optional structure the peer did not send is absent, never defaulted; refused, filtered,
 * reset, unreachable, EOF mid-PDU and timeout stay distinct.
 */

export const SCHEMA_VERSION = 1 as const;

/** MS-RDPBCGR 2.2.1.1.1 requestedProtocols / 2.2.1.2.1 selectedProtocol names. */
export type ProtocolName = 'RDP' | 'SSL' | 'HYBRID' | 'RDSTLS' | 'HYBRID_EX' | 'RDSAAD';
export const PROTOCOL_NAMES: readonly ProtocolName[] = ['RDP', 'SSL', 'HYBRID', 'RDSTLS', 'HYBRID_EX', 'RDSAAD'];

export type TlsVersionName = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
export const TLS_VERSIONS: readonly TlsVersionName[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** A numeric code with its stable name (`unknown(0x…)` when not in our table). */
export interface Coded {
  value: number;
  name: string;
}

export interface Flags {
  value: number;
  names: string[];
}

export interface Observation {
  schema: typeof SCHEMA_VERSION;
  tool: { name: 'rdprobe'; version: string };
  source: {
    kind: 'live' | 'replay';
    /** What the user typed (host, host:port, [v6]:port). */
    target: string;
    host: string;
    port: number;
    /** The address actually probed. */
    address?: string;
    file?: string;
    frames?: [number, number];
    startedAt: string;
  };
  /** Options that shape what was observed (what was offered, which phases were asked for). */
  options?: ProbeOptionsRecord;
  dns?: DnsObservation;
  tcp?: TcpObservation;
  x224?: X224Observation;
  protocols?: ProtocolEnumeration;
  security?: SecurityFacts;
  tls?: TlsObservation;
  credssp?: CredsspObservation;
  mcs?: McsObservation;
  udp?: UdpObservation;
  pmtu?: PmtuObservation;
  /** Extra measurements the diagnosis may use (repeated handshakes, burst test). */
  stability?: StabilityObservation;
  burst?: BurstObservation;
  /** Connections the probe opened in total (TCP + TLS upgrades count once per TCP connection). */
  connections: number;
  durationMs: number;
  timeline: TimelineEntry[];
  errors: ObservationError[];
}

export interface ProbeOptionsRecord {
  requested: ProtocolName[];
  cookie?: string | null;
  phases: string[];
  timeoutMs: number;
  phaseTimeoutMs: number;
}

export interface TimelineEntry {
  phase: string;
  /** ms since the probe started */
  at: number;
  ms: number;
  outcome?: string;
  note?: string;
}

export interface ObservationError {
  phase: string;
  code: string;
  message: string;
}

// ---------------------------------------------------------------------------------------------------------------
// DNS, TCP

export type DnsOutcome = 'ok' | 'nxdomain' | 'nodata' | 'servfail' | 'refused' | 'timeout' | 'aborted' | 'error' | 'skipped';
export interface DnsObservation {
  outcome: DnsOutcome;
  /** Every address the name resolved to, in resolver order. */
  addresses: { address: string; family: 4 | 6 }[];
  ms: number;
  /** The resolver's error code (ENOTFOUND, ESERVFAIL, ETIMEOUT …). */
  code?: string;
  /** 'literal' when the target was an IP address and no lookup was made. */
  note?: string;
}

export type TcpOutcome = 'open' | 'refused' | 'filtered' | 'unreachable' | 'reset' | 'timeout' | 'aborted' | 'error';
export interface TcpObservation {
  outcome: TcpOutcome;
  ms: number;
  address: string;
  port: number;
  errno?: string;
  localAddress?: string;
  localPort?: number;
  message?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// X.224 negotiation (MS-RDPBCGR 2.2.1.1 / 2.2.1.2)

export type X224Outcome = 'selected' | 'failure' | 'legacy' | 'closed' | 'reset' | 'timeout' | 'aborted' | 'malformed' | 'error';
export interface X224Observation {
  requested: ProtocolName[];
  requestedMask: number;
  outcome: X224Outcome;
  selected?: ProtocolName | string;
  selectedMask?: number;
  flags?: Flags;
  failure?: Coded;
  /** X.224 CC source reference (Windows and xrdp send 0x1234, FreeRDP 0). */
  sourceRef?: number;
  ms: number;
  /** The server disconnected on purpose instead of confirming (outcome 'closed'). */
  disconnect?: { kind: 'x224-disconnect-request' | 'mcs-disconnect-provider-ultimatum'; reason: Coded };
  /** Bytes received before the outcome (for closed/reset/malformed). */
  bytesReceived?: number;
  detail?: string;
}

export type ProtocolResultOutcome = 'accepted' | 'not-selected' | 'failure' | 'refused' | 'legacy' | 'no-answer' | 'error';
export interface ProtocolResult {
  /**
   * accepted: selectedProtocol equals the one requested. not-selected: the server answered with a different
   * selectedProtocol (e.g. PROTOCOL_RDP to everything). failure: RDP_NEG_FAILURE. legacy: a CC without negotiation
   * data (pre-Vista, or a server ignoring the request; nmap's "Unknown"). refused: the server disconnected on
   * purpose instead of answering (X.224 Disconnect Request or MCS Disconnect Provider Ultimatum; xrdp does this to
   * an RDSAAD request). no-answer: closed/reset/timeout.
   */
  outcome: ProtocolResultOutcome;
  selected?: ProtocolName | string;
  failure?: Coded;
  flags?: Flags;
  detail?: string;
  ms: number;
}
export type ProtocolEnumeration = Partial<Record<ProtocolName, ProtocolResult>>;

/** Facts derived from the enumeration (null when the enumeration could not decide). */
export interface SecurityFacts {
  standardRdpAllowed: boolean | null;
  tlsSupported: boolean | null;
  tlsRequired: boolean | null;
  nlaSupported: boolean | null;
  nlaRequired: boolean | null;
  /** The failure code that made each decision, for evidence. */
  basis: string[];
}

// ---------------------------------------------------------------------------------------------------------------
// TLS

export type TlsOutcome = 'ok' | 'alert' | 'closed' | 'reset' | 'stalled' | 'timeout' | 'aborted' | 'error' | 'skipped';
export interface CertificateInfo {
  subject: string;
  subjectCN?: string;
  issuer: string;
  san: string[];
  serial: string;
  notBefore: string;
  notAfter: string;
  /** Whole days until notAfter at probe time (negative when expired). */
  daysLeft: number;
  expired: boolean;
  notYetValid: boolean;
  selfSigned: boolean;
  keyType: string;
  keyBits: number;
  signatureAlgorithm: string;
  sha256: string;
  sha1: string;
}

/** rejected: a TLS alert; closed (FIN) / reset (RST): no alert, the connection ended; stalled: open, no answer. */
export type TlsVersionOutcome = 'accepted' | 'rejected' | 'closed' | 'reset' | 'stalled' | 'timeout' | 'aborted' | 'error' | 'unsupported-locally';
export interface TlsVersionResult {
  outcome: TlsVersionOutcome;
  cipher?: string;
  detail?: string;
}

/** Linux TCP_INFO fields that matter for a stall (linux/tcp.h struct tcp_info). */
export interface TcpInfoSnapshot {
  state: number;
  retransmits: number;
  rttMs: number;
  rttVarMs: number;
  rtoMs: number;
  sndMss: number;
  rcvMss: number;
  pmtu: number;
  msSinceLastDataRecv: number;
  totalRetrans: number;
  /** In-order payload bytes received (tcpi_bytes_received). */
  bytesInOrder?: number;
  segmentsIn?: number;
  dataSegmentsIn?: number;
  /** Packets received out of order (tcpi_rcv_ooopack, Linux ≥ 5.4): data that arrived beyond a hole. */
  outOfOrderPackets?: number;
}

export interface TlsObservation {
  outcome: TlsOutcome;
  /** Which negotiation the TLS ran on (the selected protocol of the main connection). */
  over?: ProtocolName | string;
  version?: string;
  cipher?: { name: string; standardName?: string };
  certificate?: CertificateInfo;
  /** Certificate chain as sent (leaf first), subjects only. */
  chain?: string[];
  versions?: Partial<Record<TlsVersionName, TlsVersionResult>>;
  /** Bytes of the server's handshake flight received (TLS records from the server before we finished). */
  bytesReceived?: number;
  /** ms from ClientHello to the first server byte, and to the end of the handshake. */
  firstByteMs?: number;
  handshakeMs?: number;
  /** When stalled: ms from ClientHello until we gave up, with bytes that did arrive. */
  stalledAfterMs?: number;
  /**
   * Why the stall was declared: 'deadline' (the phase deadline passed), or 'hole' (the kernel held data beyond a
   * sequence gap with no in-order progress for many RTTs: the tail of the flight arrived, the segments before it
   * never did — declared early, before the deadline).
   */
  stallEvidence?: 'deadline' | 'hole';
  /** The kernel's view of the TCP connection when the handshake ended (Linux TCP_INFO; needs the native addon). */
  kernel?: TcpInfoSnapshot;
  alert?: string;
  error?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// CredSSP / NTLM (MS-CSSP 2.2.1, MS-NLMP 2.2.1.2)

export interface NtlmInfo {
  targetName?: string;
  nbComputer?: string;
  nbDomain?: string;
  dnsComputer?: string;
  dnsDomain?: string;
  dnsTree?: string;
  /** "10.0.17763" from the CHALLENGE Version field. */
  osVersion?: string;
  osBuild?: number;
  ntlmRevision?: number;
  /** MsvAvTimestamp as ISO time, and server clock minus our clock at receipt. */
  timestamp?: string;
  clockSkewMs?: number;
  negotiateFlags?: Flags;
  avPairs?: { id: number; name: string; value: string }[];
}

export type CredsspOutcome = 'challenge' | 'error' | 'closed' | 'alert' | 'reset' | 'timeout' | 'aborted' | 'malformed' | 'skipped';
export interface CredsspObservation {
  outcome: CredsspOutcome;
  /** TSRequest version the server answered with. */
  version?: number;
  errorCode?: Coded;
  ntlm?: NtlmInfo;
  ms: number;
  detail?: string;
  /** Present when credentials were supplied (--user). Never contains the secret. */
  auth?: {
    user: string;
    domain?: string;
    outcome: 'success' | 'failed' | 'error-code' | 'closed' | 'alert' | 'timeout' | 'aborted' | 'malformed';
    errorCode?: Coded;
    /** HYBRID_EX Early User Authorization Result (MS-RDPBCGR 2.2.10.2). */
    earlyUserAuth?: Coded;
    detail?: string;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// MCS / GCC (MS-RDPBCGR 2.2.1.3 / 2.2.1.4)

export type McsOutcome = 'ok' | 'rejected' | 'closed' | 'reset' | 'timeout' | 'aborted' | 'malformed' | 'skipped';
export type EncryptionMethodName = '40BIT' | '56BIT' | '128BIT' | 'FIPS';
export interface ServerCertificateInfo {
  type: 'proprietary' | 'x509' | string;
  keyBits?: number;
  publicExponent?: number;
  chainLength?: number;
  subjects?: string[];
}
export interface McsObservation {
  outcome: McsOutcome;
  /** plain TCP (Standard RDP Security) or inside TLS (SSL selected). */
  via: 'plain' | 'tls';
  result?: Coded;
  rdpVersion?: Coded;
  clientRequestedProtocols?: number;
  earlyCapabilityFlags?: Flags;
  encryptionMethod?: Coded;
  encryptionLevel?: Coded;
  serverRandomLength?: number;
  serverCertificate?: ServerCertificateInfo;
  /** One connection per method offered alone (as nmap and rdp-sec-check do). */
  encryptionMethods?: Partial<Record<EncryptionMethodName, 'accepted' | 'rejected' | 'no-answer'>>;
  ioChannel?: number;
  channelIds?: number[];
  messageChannel?: number;
  multitransport?: Flags;
  ms: number;
  detail?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Path: UDP transport (MS-RDPEUDP) and path MTU

export type UdpOutcome = 'synack' | 'icmp-unreachable' | 'silent' | 'local-error' | 'aborted' | 'skipped' | 'error';
export interface UdpObservation {
  outcome: UdpOutcome;
  ms?: number;
  attempts?: number;
  /** Negotiated RDPEUDP version from SYNEX (1, 2 or 0x101). */
  version?: number;
  serverMtu?: { up: number; down: number };
  serverSequence?: number;
  /** icmp-unreachable: which ICMP destination-unreachable came back (port: host up, no listener; host/net: the
   *  host or its network is not reachable; prohibited: a filter on the path rejects it). */
  unreachable?: 'port' | 'host' | 'net' | 'prohibited';
  /** local-error / error: the errno of the failed socket call (EPERM: a local firewall rule, EACCES: no privilege). */
  errno?: string;
  detail?: string;
}

export type PmtuProbeResult = 'ok' | 'frag-needed' | 'lost' | 'emsgsize' | 'error';
export interface PmtuObservation {
  outcome: 'measured' | 'black-hole' | 'unprivileged' | 'unreachable' | 'skipped' | 'error';
  pathMtu?: number;
  /** For a black hole: largest size known to pass and smallest known to be lost. */
  bounds?: { passes: number; lost: number };
  localMtu?: number;
  interface?: string;
  method?: string;
  reportingRouter?: string;
  probes: { size: number; result: PmtuProbeResult; mtu?: number; from?: string; ms?: number }[];
  /** Black hole confirmed on the RDP connection itself by clamping the MSS. */
  mssClamp?: { defaultStalled: boolean; clampedMss?: number; clampedOk?: boolean; bound?: { passes: number; stalls: number } };
  recommendedMtu?: number;
  recommendedMss?: number;
  detail?: string;
}

export interface StabilityObservation {
  samples: number;
  ok: number;
  lost: number;
  rttMs: { min: number; avg: number; max: number; jitter: number };
}

export interface BurstObservation {
  connections: number;
  accepted: number;
  refused: number;
  reset: number;
  timeout: number;
  negotiated: number;
}
