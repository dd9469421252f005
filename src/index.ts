/**
 * rdprobe as a library: probe an RDP endpoint, diagnose an Observation, read captures. The CLI (src/cli) is a thin
 * layer over exactly these functions.
 */
export { runProbe, DEFAULT_REQUESTED, type ProbeOptions, type Depth } from './probe/run-probe.js';
export { parseHostPort } from './probe/target.js';
export { deriveSecurity } from './observation/derive.js';
export { parseObservation, validateObservation, ObservationInputError } from './observation/validate.js';
export * from './observation/types.js';
export { probeAndDiagnose, type ProbeAndDiagnosis } from './probe-and-diagnose.js';
export { diagnose, explainCode, PROFILE_NAMES, REQUIRE_MODES, type ProfileName, type RequireMode } from './diagnose/index.js';
export type { Diagnosis, Finding } from './diagnose/types.js';
export { measurePmtu, type PmtuOptions } from './transport/pmtu.js';
export { probeRdpeudp, type RdpeudpProbeOptions } from './transport/udp.js';
export { DecodeError } from './codec/errors.js';
export { readCapture, segmentsOf, tcpStreams } from './replay/capture.js';
export * from './scan/index.js';
export { VERSION } from './version.js';
