import type tls from 'node:tls';
import { CredsspClient } from '../../codec/credssp-client.js';
import { subjectPublicKeyFromCertificate, tsRequestLength } from '../../codec/credssp.js';
import { nameOf } from '../../codec/names.js';
import type { CredsspObservation } from '../../observation/types.js';
import { Conn } from '../../transport/conn.js';
import type { StepContext } from '../context.js';
import { ntlmInfo } from '../../record/ntlm.js';

/** Early User Authorization Result authorizationResult (MS-RDPBCGR 2.2.10.2). */
const AUTHZ_RESULT_NAMES: Readonly<Record<number, string>> = { 0x00000000: 'AUTHZ_SUCCESS', 0x00000005: 'AUTHZ_ACCESS_DENIED' };

export interface Credentials {
  user: string;
  domain?: string;
  password: string;
}

/**
 * CredSSP over the TLS connection (MS-CSSP 3.1.5): a TSRequest carrying an NTLM NEGOTIATE, then the server's
 * CHALLENGE (host and domain names, OS build, clock). Without credentials we stop there; with them the exchange
 * completes (AUTHENTICATE + pubKeyAuth, then TSCredentials) and the result is recorded. What the server does instead
 * of answering (errorCode, close, alert, reset, silence) is the observation.
 */
export async function credsspStep(
  ctx: StepContext,
  socket: tls.TLSSocket,
  certificateDer: Buffer | undefined,
  opts: { credentials?: Credentials; hybridEx: boolean },
): Promise<CredsspObservation> {
  const started = performance.now();
  const conn = new Conn(socket);
  // pubKeyAuth binds the exchange to the TLS certificate's key (MS-CSSP 3.1.5); without one, only the CHALLENGE.
  const creds = certificateDer ? opts.credentials : undefined;
  const client = new CredsspClient({
    user: creds?.user,
    domain: creds?.domain,
    password: creds?.password,
    serverPublicKey: certificateDer ? subjectPublicKeyFromCertificate(certificateDer) : undefined,
  });
  const obs: CredsspObservation = { outcome: 'timeout', ms: 0 };
  const finish = () => {
    obs.ms = Math.round((performance.now() - started) * 10) / 10;
    conn.destroy();
    return obs;
  };
  const frame = (b: Uint8Array) => tsRequestLength(b);
  conn.write(client.first());
  let leg = 0;
  for (;;) {
    const r = await conn.read(frame, ctx.phaseTimeoutMs, ctx.signal);
    const stage = leg === 0 ? 'the NTLM NEGOTIATE' : 'the NTLM AUTHENTICATE';
    if (r.kind !== 'data') {
      const outcome = r.kind === 'overflow' ? 'malformed' : r.kind;
      const detail =
        r.kind === 'closed'
          ? `server closed the TLS session after ${stage}`
          : r.kind === 'reset'
            ? `connection reset (${r.errno}) after ${stage}`
            : r.kind === 'timeout'
              ? `no TSRequest within ${ctx.phaseTimeoutMs} ms after ${stage}`
              : r.kind === 'aborted'
                ? r.detail
                : r.kind === 'malformed'
                  ? `not a TSRequest: ${r.error.message}`
                  : 'TSRequest larger than the read buffer';
      if (leg === 0) {
        obs.outcome = outcome === 'closed' && socket.readableEnded ? 'closed' : outcome;
        obs.detail = detail;
      } else if (obs.auth) {
        obs.auth.outcome = outcome === 'reset' ? 'closed' : outcome;
        obs.auth.detail = detail;
      }
      return finish();
    }
    let step;
    try {
      step = client.next(r.bytes);
    } catch (e) {
      if (leg === 0) (obs.outcome = 'malformed'), (obs.detail = (e as Error).message);
      else if (obs.auth) (obs.auth.outcome = 'malformed'), (obs.auth.detail = (e as Error).message);
      return finish();
    }
    if (step.version !== undefined && obs.version === undefined) obs.version = step.version;
    if (step.errorCode) {
      if (leg === 0) {
        obs.outcome = 'error';
        obs.errorCode = step.errorCode;
      } else if (obs.auth) {
        obs.auth.outcome = 'error-code';
        obs.auth.errorCode = step.errorCode;
      }
      return finish();
    }
    if (step.challenge) {
      obs.outcome = 'challenge';
      obs.ntlm = ntlmInfo(step.challenge.message, step.challenge.receivedAt);
      if (!creds) return finish();
      obs.auth = { user: creds.user, outcome: 'timeout' };
      if (creds.domain) obs.auth.domain = creds.domain;
    }
    if (step.error && obs.auth) {
      obs.auth.outcome = 'failed';
      obs.auth.detail = step.error;
      return finish();
    }
    if (step.send) conn.write(step.send);
    leg++;
    if (step.done) {
      if (obs.auth) {
        obs.auth.outcome = 'success';
        if (opts.hybridEx) {
          // MS-RDPBCGR 2.2.10.2: 4 raw bytes over TLS after CredSSP when HYBRID_EX was selected.
          const eua = await conn.read((b) => (b.length >= 4 ? 4 : null), ctx.phaseTimeoutMs, ctx.signal);
          if (eua.kind === 'data') {
            const v = eua.bytes[0] | (eua.bytes[1] << 8) | (eua.bytes[2] << 16) | (eua.bytes[3] << 24);
            obs.auth.earlyUserAuth = { value: v >>> 0, name: nameOf(AUTHZ_RESULT_NAMES, v >>> 0, 0) };
            if (v !== 0) obs.auth.outcome = 'failed';
          } else {
            obs.auth.detail = `no Early User Authorization Result (${eua.kind})`;
          }
        }
      }
      return finish();
    }
  }
}
