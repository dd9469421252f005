/** The diagnosis engine's public API (pure: Observation in, findings out). */
export { diagnose, explainCode, fillTemplate, fixVars, clientErrorLabel, type DiagnoseOptions } from './engine.js';
export { CAUSES, cause, findCause, type Cause, type CauseId } from './catalog.js';
export {
  SOURCES,
  PRIMARY_CODES,
  EXTENDED_CODES,
  FREERDP_ERRORS,
  NTSTATUS_TO_CLIENT,
  CodeInputError,
  parseCode,
  hexCode,
  type SourceId,
  type CodeRow,
} from './codes.js';
export { PROFILE_NAMES, REQUIRE_MODES, resolveProfile, describeOffer, type ProfileName, type RequireMode, type ClientProfile } from './profiles.js';
export { predictNegotiation, type Prediction } from './negotiation.js';
export type * from './types.js';
