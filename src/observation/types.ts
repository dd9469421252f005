/**
 * The Observation record: what rdprobe saw of one RDP endpoint, phase by phase. Live probing and (later) pcap replay
 * both produce it; the diagnosis engine reads only it. JSON-serialisable, versioned by `schema`.
 *
 * Rules (DESIGN.md): a refusal is data, not an exception; unknown codes keep their raw number next to an
 * `unknown(0x…)` name; an optional structure the peer did not send is absent, never defaulted; refused, filtered,
 * reset, unreachable, EOF mid-PDU and timeout stay distinct.
 */

export const SCHEMA_VERSION = 1 as const;

// The shared vocabulary (names, outcome unions, phases, error codes) lives in the leaf module vocab.ts; it is
// re-exported here so `import … from 'observation/types'` keeps working.
export * from './vocab.js';
import type {
  Coded,
  CredsspAuthOutcome,
  CredsspOutcome,
  DnsOutcome,
  EncryptionMethodName,
  EncryptionMethodOutcome,
  ErrorCode,
  Flags,
  McsOutcome,
  McsVia,
  Phase,
  PmtuOutcome,
  PmtuProbeResult,
  ProtocolName,
  ProtocolResultOutcome,
  SelectedProtocol,
  ServerCertificateType,
  SourceKind,
  TcpOutcome,
  TlsOutcome,
  TlsStallEvidence,
  TlsVersionName,
  TlsVersionOutcome,
  UdpOutcome,
  UdpUnreachableKind,
  X224DisconnectKind,
  X224Outcome,
} from './vocab.js';

export interface Observation {
  schema: typeof SCHEMA_VERSION;
  tool: { name: 'rdprobe'; version: string };
  source: {
    kind: SourceKind;
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
  /** Replay only: packet-level evidence of the attempt (TCP per direction, ICMP, proxy, inferences); see src/replay/to-observation.ts. */
  replay?: ReplayEvidenceRecord;
  /** Connections the probe opened in total (TCP + TLS upgrades count once per TCP connection). */
  connections: number;
  durationMs: number;
  timeline: TimelineEntry[];
  errors: ObservationError[];
}

export interface ReplayEvidenceRecord {
  client: { address: string; port: number; decidedBy: string };
  [field: string]: unknown;
}

export interface ProbeOptionsRecord {
  requested: ProtocolName[];
  cookie?: string | null;
  phases: Phase[];
  timeoutMs: number;
  phaseTimeoutMs: number;
}

export interface TimelineEntry {
  phase: Phase;
  /** ms since the probe started */
  at: number;
  ms: number;
  outcome?: string;
  note?: string;
}

export interface ObservationError {
  phase: Phase;
  code: ErrorCode;
  message: string;
}

// ---------------------------------------------------------------------------------------------------------------
// DNS, TCP

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

export interface X224Observation {
  requested: ProtocolName[];
  requestedMask: number;
  outcome: X224Outcome;
  /** The selectedProtocol's name; `unknown(0x…)` for a value no protocol defines (the raw value is selectedMask). */
  selected?: SelectedProtocol;
  selectedMask?: number;
  flags?: Flags;
  failure?: Coded;
  /** X.224 CC source reference (Windows and xrdp send 0x1234, FreeRDP 0). */
  sourceRef?: number;
  ms: number;
  /** The server disconnected on purpose instead of confirming (outcome 'closed'). */
  disconnect?: { kind: X224DisconnectKind; reason: Coded };
  /** Bytes received before the outcome (for closed/reset/malformed). */
  bytesReceived?: number;
  detail?: string;
}

export interface ProtocolResult {
  /**
   * accepted: selectedProtocol equals the one requested. not-selected: the server answered with a different
   * selectedProtocol (e.g. PROTOCOL_RDP to everything). failure: RDP_NEG_FAILURE. legacy: a CC without negotiation
   * data (pre-Vista, or a server ignoring the request; nmap's "Unknown"). refused: the server disconnected on
   * purpose instead of answering (X.224 Disconnect Request or MCS Disconnect Provider Ultimatum; xrdp does this to
   * an RDSAAD request). no-answer: closed/reset/timeout.
   */
  outcome: ProtocolResultOutcome;
  selected?: SelectedProtocol;
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
  over?: SelectedProtocol;
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
  stallEvidence?: TlsStallEvidence;
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
    outcome: CredsspAuthOutcome;
    errorCode?: Coded;
    /** HYBRID_EX Early User Authorization Result (MS-RDPBCGR 2.2.10.2). */
    earlyUserAuth?: Coded;
    detail?: string;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// MCS / GCC (MS-RDPBCGR 2.2.1.3 / 2.2.1.4)

export interface ServerCertificateInfo {
  /** What dwVersion claimed; `unknown(0x…)` for a version no spec defines. */
  type: ServerCertificateType;
  keyBits?: number;
  publicExponent?: number;
  chainLength?: number;
  subjects?: string[];
}
export interface McsObservation {
  outcome: McsOutcome;
  /** plain TCP (Standard RDP Security) or inside TLS (SSL selected). */
  via: McsVia;
  result?: Coded;
  rdpVersion?: Coded;
  clientRequestedProtocols?: number;
  earlyCapabilityFlags?: Flags;
  encryptionMethod?: Coded;
  encryptionLevel?: Coded;
  serverRandomLength?: number;
  serverCertificate?: ServerCertificateInfo;
  /** One connection per method offered alone (as nmap and rdp-sec-check do). */
  encryptionMethods?: Partial<Record<EncryptionMethodName, EncryptionMethodOutcome>>;
  ioChannel?: number;
  channelIds?: number[];
  messageChannel?: number;
  multitransport?: Flags;
  ms: number;
  detail?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Path: UDP transport (MS-RDPEUDP) and path MTU

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
  unreachable?: UdpUnreachableKind;
  /** local-error / error: the errno of the failed socket call (EPERM: a local firewall rule, EACCES: no privilege). */
  errno?: string;
  detail?: string;
}

export interface PmtuObservation {
  outcome: PmtuOutcome;
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
