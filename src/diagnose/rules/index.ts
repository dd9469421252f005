/** Every rule, in phase order (the order breaks ties between findings of equal severity and confidence). */
import type { Rule } from './context.js';
import { CREDSSP_RULES } from './credssp.js';
import { NAME_RESOLUTION_RULES } from './name-resolution.js';
import { REACHABILITY_RULES } from './reachability.js';
import { SECURITY_RULES } from './security.js';
import { SERVER_RULES } from './server.js';
import { TLS_RULES } from './tls.js';
import { UDP_RULES } from './udp.js';

export const RULES: readonly Rule[] = [
  ...NAME_RESOLUTION_RULES,
  ...REACHABILITY_RULES,
  ...SERVER_RULES,
  ...SECURITY_RULES,
  ...TLS_RULES,
  ...CREDSSP_RULES,
  ...UDP_RULES,
];

export type { Rule, RuleContext, Hit, FixVars } from './context.js';
