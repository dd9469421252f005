/**
 * Parse and validate an Observation JSON document (a saved `rdprobe probe --json`). Pure: text in, Observation out,
 * or an ObservationInputError that names the file and every problem found ("observation.json: schema 2 is newer
 * than this rdprobe understands (1)", `missing field "source.port"`, `field "tcp.outcome" must be one of …`).
 *
 * Checked: the schema number first (a newer schema stops there), then required fields, types and the closed sets
 * of outcome values (the vocab.ts tuples the types are derived from, so the validator accepts exactly the type's values). Unknown extra fields are allowed (additions within schema 1 stay readable).
 */
import type { Observation } from './types.js';
import { SCHEMA_VERSION } from './types.js';
import {
  CREDSSP_AUTH_OUTCOMES,
  CREDSSP_OUTCOMES,
  DNS_OUTCOMES,
  ENCRYPTION_METHODS,
  ENCRYPTION_METHOD_OUTCOMES,
  ERROR_CODES,
  MCS_OUTCOMES,
  MCS_VIA,
  PHASES,
  PMTU_OUTCOMES,
  PMTU_PROBE_RESULTS,
  PROTOCOL_NAMES,
  PROTOCOL_RESULT_OUTCOMES,
  SERVER_CERTIFICATE_TYPES,
  SOURCE_KINDS,
  TCP_OUTCOMES,
  TLS_OUTCOMES,
  TLS_STALL_EVIDENCE,
  TLS_VERSIONS,
  TLS_VERSION_OUTCOMES,
  UDP_OUTCOMES,
  UDP_UNREACHABLE_KINDS,
  X224_DISCONNECT_KINDS,
  X224_OUTCOMES,
  isUnknownName,
} from './vocab.js';

export class ObservationInputError extends Error {
  readonly code = 'RDPROBE_BAD_OBSERVATION';
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    const shown = problems.slice(0, 12);
    super(
      problems.length === 1
        ? `${file}: ${problems[0]}`
        : `${file}: ${problems.length} problems:\n  - ${shown.join('\n  - ')}${problems.length > shown.length ? `\n  - … ${problems.length - shown.length} more` : ''}`,
    );
    this.name = 'ObservationInputError';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// A small path-aware checker

type Check = (v: unknown, path: string, out: string[]) => void;
type Shape = Record<string, [required: boolean, check: Check]>;

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return `a ${typeof v}`;
}

const str: Check = (v, p, out) => {
  if (typeof v !== 'string') out.push(`field "${p}" must be a string (got ${kind(v)})`);
};
const num: Check = (v, p, out) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) out.push(`field "${p}" must be a number (got ${kind(v)})`);
};
const int: Check = (v, p, out) => {
  if (typeof v !== 'number' || !Number.isInteger(v)) out.push(`field "${p}" must be a whole number (got ${kind(v)})`);
};
const bool: Check = (v, p, out) => {
  if (typeof v !== 'boolean') out.push(`field "${p}" must be true or false (got ${kind(v)})`);
};
const nullable =
  (c: Check): Check =>
  (v, p, out) => {
    if (v !== null) c(v, p, out);
  };
const oneOf =
  (values: readonly (string | number)[]): Check =>
  (v, p, out) => {
    if (!values.includes(v as string | number)) out.push(`field "${p}" must be one of ${values.join(', ')} (got ${kind(v)})`);
  };
const arr =
  (c: Check): Check =>
  (v, p, out) => {
    if (!Array.isArray(v)) return void out.push(`field "${p}" must be an array (got ${kind(v)})`);
    v.forEach((x, i) => c(x, `${p}[${i}]`, out));
  };
const obj =
  (shape: Shape): Check =>
  (v, p, out) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return void out.push(`field "${p}" must be an object (got ${kind(v)})`);
    const o = v as Record<string, unknown>;
    for (const [k, [required, c]] of Object.entries(shape)) {
      const path = p ? `${p}.${k}` : k;
      if (o[k] === undefined) {
        if (required) out.push(`missing field "${path}"`);
      } else c(o[k], path, out);
    }
  };
/** One of a closed set, or a kept unknown (`unknown(0x…)`, DESIGN.md). */
const oneOfOrUnknown =
  (values: readonly string[]): Check =>
  (v, p, out) => {
    if (typeof v === 'string' && (values.includes(v) || isUnknownName(v))) return;
    out.push(`field "${p}" must be one of ${values.join(', ')} or unknown(0x…) (got ${kind(v)})`);
  };
/** An object keyed by a closed set of names (protocols, TLS versions). */
const keyed =
  (keys: readonly string[], c: Check): Check =>
  (v, p, out) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return void out.push(`field "${p}" must be an object (got ${kind(v)})`);
    for (const [k, x] of Object.entries(v)) {
      if (!keys.includes(k)) out.push(`field "${p}" has an unknown key "${k}" (one of ${keys.join(', ')})`);
      else if (x !== undefined) c(x, `${p}.${k}`, out);
    }
  };

const R = (c: Check): [boolean, Check] => [true, c];
const O = (c: Check): [boolean, Check] => [false, c];

const coded = obj({ value: R(num), name: R(str) });
const flags = obj({ value: R(num), names: R(arr(str)) });
const proto = oneOf(PROTOCOL_NAMES);
const selected = oneOfOrUnknown(PROTOCOL_NAMES);
const phase = oneOf(PHASES);

const certificate = obj({
  subject: R(str), subjectCN: O(str), issuer: R(str), san: R(arr(str)), serial: R(str), notBefore: R(str), notAfter: R(str),
  daysLeft: R(num), expired: R(bool), notYetValid: R(bool), selfSigned: R(bool), keyType: R(str), keyBits: R(num),
  signatureAlgorithm: R(str), sha256: R(str), sha1: R(str),
});

const OBSERVATION: Shape = {
  tool: R(obj({ name: R(str), version: R(str) })),
  source: R(obj({
    kind: R(oneOf(SOURCE_KINDS)), target: R(str), host: R(str), port: R(int), address: O(str), file: O(str),
    frames: O(arr(int)), startedAt: R(str),
  })),
  options: O(obj({ requested: R(arr(proto)), cookie: O(nullable(str)), phases: R(arr(phase)), timeoutMs: R(num), phaseTimeoutMs: R(num) })),
  dns: O(obj({
    outcome: R(oneOf(DNS_OUTCOMES)), addresses: R(arr(obj({ address: R(str), family: R(oneOf([4, 6])) }))), ms: R(num), code: O(str), note: O(str),
  })),
  tcp: O(obj({
    outcome: R(oneOf(TCP_OUTCOMES)), ms: R(num), address: R(str), port: R(int), errno: O(str), localAddress: O(str), localPort: O(int), message: O(str),
  })),
  x224: O(obj({
    requested: R(arr(proto)), requestedMask: R(int), outcome: R(oneOf(X224_OUTCOMES)), selected: O(selected), selectedMask: O(int), flags: O(flags),
    failure: O(coded), sourceRef: O(int), ms: R(num), disconnect: O(obj({ kind: R(oneOf(X224_DISCONNECT_KINDS)), reason: R(coded) })),
    bytesReceived: O(int), detail: O(str),
  })),
  protocols: O(keyed(PROTOCOL_NAMES, obj({
    outcome: R(oneOf(PROTOCOL_RESULT_OUTCOMES)), selected: O(selected), failure: O(coded), flags: O(flags), detail: O(str), ms: R(num),
  }))),
  security: O(obj({
    standardRdpAllowed: R(nullable(bool)), tlsSupported: R(nullable(bool)), tlsRequired: R(nullable(bool)),
    nlaSupported: R(nullable(bool)), nlaRequired: R(nullable(bool)), basis: R(arr(str)),
  })),
  tls: O(obj({
    outcome: R(oneOf(TLS_OUTCOMES)), over: O(selected), version: O(str), cipher: O(obj({ name: R(str), standardName: O(str) })), certificate: O(certificate),
    chain: O(arr(str)), versions: O(keyed(TLS_VERSIONS, obj({ outcome: R(oneOf(TLS_VERSION_OUTCOMES)), cipher: O(str), detail: O(str) }))),
    bytesReceived: O(num), firstByteMs: O(num), handshakeMs: O(num), stalledAfterMs: O(num), stallEvidence: O(oneOf(TLS_STALL_EVIDENCE)), alert: O(str), error: O(str),
  })),
  credssp: O(obj({
    outcome: R(oneOf(CREDSSP_OUTCOMES)), version: O(int), errorCode: O(coded),
    ntlm: O(obj({
      targetName: O(str), nbComputer: O(str), nbDomain: O(str), dnsComputer: O(str), dnsDomain: O(str), dnsTree: O(str),
      osVersion: O(str), osBuild: O(num), ntlmRevision: O(num), timestamp: O(str), clockSkewMs: O(num), negotiateFlags: O(flags),
    })),
    ms: R(num), detail: O(str),
    auth: O(obj({ user: R(str), domain: O(str), outcome: R(oneOf(CREDSSP_AUTH_OUTCOMES)), errorCode: O(coded), earlyUserAuth: O(coded), detail: O(str) })),
  })),
  mcs: O(obj({
    outcome: R(oneOf(MCS_OUTCOMES)), via: R(oneOf(MCS_VIA)), result: O(coded), rdpVersion: O(coded), encryptionMethod: O(coded),
    encryptionLevel: O(coded),
    serverCertificate: O(obj({ type: R(oneOfOrUnknown(SERVER_CERTIFICATE_TYPES)), keyBits: O(num), publicExponent: O(num), chainLength: O(int), subjects: O(arr(str)) })),
    encryptionMethods: O(keyed(ENCRYPTION_METHODS, oneOf(ENCRYPTION_METHOD_OUTCOMES))), multitransport: O(flags), ms: R(num), detail: O(str),
  })),
  udp: O(obj({
    outcome: R(oneOf(UDP_OUTCOMES)), ms: O(num), attempts: O(int), version: O(int), serverMtu: O(obj({ up: R(num), down: R(num) })),
    serverSequence: O(num), unreachable: O(oneOf(UDP_UNREACHABLE_KINDS)), errno: O(str), detail: O(str),
  })),
  pmtu: O(obj({
    outcome: R(oneOf(PMTU_OUTCOMES)), pathMtu: O(num), bounds: O(obj({ passes: R(num), lost: R(num) })), localMtu: O(num), interface: O(str),
    method: O(str), reportingRouter: O(str),
    probes: R(arr(obj({ size: R(num), result: R(oneOf(PMTU_PROBE_RESULTS)), mtu: O(num), from: O(str), ms: O(num) }))),
    mssClamp: O(obj({ defaultStalled: R(bool), clampedMss: O(num), clampedOk: O(bool), bound: O(obj({ passes: R(num), stalls: R(num) })) })),
    recommendedMtu: O(num), recommendedMss: O(num), detail: O(str),
  })),
  stability: O(obj({
    samples: R(int), ok: R(int), lost: R(int), rttMs: R(obj({ min: R(num), avg: R(num), max: R(num), jitter: R(num) })),
  })),
  burst: O(obj({ connections: R(int), accepted: R(int), refused: R(int), reset: R(int), timeout: R(int), negotiated: R(int) })),
  replay: O(obj({ client: R(obj({ address: R(str), port: R(int), decidedBy: R(str) })) })),
  connections: R(int),
  durationMs: R(num),
  timeline: R(arr(obj({ phase: R(phase), at: R(num), ms: R(num), outcome: O(str), note: O(str) }))),
  errors: R(arr(obj({ phase: R(phase), code: R(oneOf(ERROR_CODES)), message: R(str) }))),
};

/** Validate an already-parsed value. `file` names the input in messages. */
export function validateObservation(value: unknown, file = 'observation'): Observation {
  if (Array.isArray(value)) {
    throw new ObservationInputError(file, [
      `expected one Observation object, got an array of ${value.length} (diagnose one element at a time, e.g. with jq '.[0]')`,
    ]);
  }
  if (typeof value !== 'object' || value === null) {
    throw new ObservationInputError(file, [`expected an Observation object, got ${kind(value)}`]);
  }
  let o = value as Record<string, unknown>;
  // Accept a wrapper { observation: {...} } (e.g. a report that embeds the record).
  if (o.schema === undefined && typeof o.observation === 'object' && o.observation !== null && !Array.isArray(o.observation)) {
    o = o.observation as Record<string, unknown>;
  }
  const schema = o.schema;
  if (schema === undefined) throw new ObservationInputError(file, ['missing field "schema" (is this an rdprobe Observation?)']);
  if (typeof schema !== 'number' || !Number.isInteger(schema)) {
    throw new ObservationInputError(file, [`field "schema" must be a whole number (got ${kind(schema)})`]);
  }
  if (schema > SCHEMA_VERSION) {
    throw new ObservationInputError(file, [`schema ${schema} is newer than this rdprobe understands (${SCHEMA_VERSION}); upgrade rdprobe`]);
  }
  if (schema < 1 || schema !== SCHEMA_VERSION) {
    throw new ObservationInputError(file, [`schema ${schema} is not an Observation schema this rdprobe reads (${SCHEMA_VERSION})`]);
  }
  const problems: string[] = [];
  obj(OBSERVATION)(o, '', problems);
  if (problems.length) throw new ObservationInputError(file, problems);
  return o as unknown as Observation;
}

/** Parse JSON text (a UTF-8 BOM is allowed) and validate it. */
export function parseObservation(text: string, file = 'observation.json'): Observation {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '') throw new ObservationInputError(file, ['the file is empty']);
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (e) {
    throw new ObservationInputError(file, [`not valid JSON: ${(e as Error).message}`]);
  }
  return validateObservation(value, file);
}
