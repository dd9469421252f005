/**
 * Types of the diagnosis engine: catalogue rows (causes), findings, the diagnosis, and the explanation of a client
 * error code. Pure data, JSON-serialisable.
 */

export type Category =
  | 'name-resolution'
  | 'reachability'
  | 'security-negotiation'
  | 'tls'
  | 'nla-credentials'
  | 'path-mtu'
  | 'udp-transport'
  | 'server-load'
  | 'server-policy';

/** Where a fix is applied. */
export type FixPlace = 'windows-server' | 'windows-client' | 'linux-macos-client' | 'network';
export const FIX_PLACES: readonly FixPlace[] = ['windows-server', 'windows-client', 'linux-macos-client', 'network'];

/**
 * error: the profile's client fails to connect (the verdict is not healthy).
 * warning: it connects, but something degrades or fails intermittently / for some configurations.
 * info: worth knowing, no effect on the verdict.
 */
export type Severity = 'error' | 'warning' | 'info';
export type Confidence = 'high' | 'medium' | 'low';

/** A client error code a cause produces. `documented`: whether the cause → code mapping is documented (else inferred). */
export interface ClientErrorRef {
  /** Microsoft client disconnect reason, hex as the client shows it ("0x904"). */
  code: string;
  /** Extended disconnect reason, hex ("0x7"), when the mapping names one. */
  extended?: string;
  documented: boolean;
  note?: string;
}

export interface Fix {
  place: FixPlace;
  text: string;
  /** Weakens security or only hides the symptom: offered after the secure fix, and labelled. */
  workaround?: boolean;
}

export interface Evidence {
  /** Observation field path, e.g. "protocols.SSL.failure.name". */
  field: string;
  value: unknown;
  note?: string;
}

export interface Finding {
  id: string;
  title: string;
  /** One line, specific to this observation ("server requires NLA, client has NLA off"). */
  summary: string;
  category: Category;
  severity: Severity;
  clientErrors: ClientErrorRef[];
  /** The FreeRDP equivalent (ERRCONNECT_* name), where one exists. */
  freerdp?: string;
  confidence: Confidence;
  confidenceWhy: string;
  evidence: Evidence[];
  explanation: string;
  fixes: Fix[];
  /** When the evidence is not conclusive: the rdprobe command that would decide it. */
  nextProbe?: string;
}

export type VerdictStatus = 'healthy' | 'degraded' | 'failing' | 'inconclusive';

export interface Verdict {
  /** True for healthy and degraded (warnings only): the profile's client is expected to connect. */
  healthy: boolean;
  status: VerdictStatus;
  /** ONE line: "healthy for mstsc" or "0x4 (extended 0x0) — security layer mismatch: …". */
  line: string;
  /** The code the profile's client shows: "0x4/0x0" (Microsoft clients) or an ERRCONNECT_* name (FreeRDP). */
  clientError?: string;
  causeId?: string;
}

export interface Diagnosis {
  /** Effective profile name ("mstsc", "freerdp --require nla"). */
  profile: string;
  /** What that profile offers, for the report header. */
  profileDescription: string;
  target: string;
  verdict: Verdict;
  findings: Finding[];
  /** The same observation judged for every built-in profile. */
  perProfile?: Record<string, { healthy: boolean; status: VerdictStatus; line: string }>;
}

/** `rdprobe explain` result. */
export interface CodeMeaning {
  hex: string;
  dec: number;
  name: string;
  meaning: string;
  /** Documented by Microsoft (learn.microsoft.com) vs inferred by us. */
  documented: boolean;
  note?: string;
  sources: { id: string; title: string; url: string }[];
}

export interface ExplainedCause {
  id: string;
  title: string;
  category: Category;
  /** Is the mapping from this cause to the code documented? */
  documented: boolean;
  mappingNote?: string;
  freerdp?: string;
  /** Which observation tells this cause apart from the others. */
  tellApart: string;
  nextProbe?: string;
}

export interface Explanation {
  input: { code: string; extended?: string };
  /** How the input was read ("0x904", or "2308 read as decimal = 0x904"). */
  readAs: string[];
  code: CodeMeaning;
  extended?: CodeMeaning;
  /** Text about the pair (e.g. "no Microsoft page defines the pair 0x904/0x7 [inferred]"). */
  pairNote?: string;
  causes: ExplainedCause[];
}
