/**
 * GCC as RDP uses it (MS-RDPBCGR 2.2.1.3 / 2.2.1.4), by responsibility:
 *   constants.ts    block types, name tables, flag helpers
 *   blocks.ts       TS_UD_HEADER framing and string helpers
 *   client.ts       client data blocks (encode, decode)
 *   server.ts       server data blocks (decode, encode for test peers)
 *   certificate.ts  Standard RDP Security server certificates (proprietary, X.509 chain)
 *   t124.ts         the T.124 Conference Create Request / Response wrapper (ALIGNED PER)
 */
export * from './constants.js';
export type { UnknownBlock } from './blocks.js';
export * from './client.js';
export * from './server.js';
export * from './certificate.js';
export * from './t124.js';
