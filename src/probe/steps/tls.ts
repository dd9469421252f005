import type tls from 'node:tls';
import type { ProtocolName, TlsObservation, TlsVersionName, TlsVersionResult } from '../../observation/types.js';
import { TLS_VERSIONS } from '../../observation/types.js';
import { certificateFacts } from '../../record/certificate.js';
import { tlsUpgrade, type TlsUpgradeResult } from '../../transport/tls.js';
import type { StepContext } from '../context.js';
import { usesTls, type SelectedProtocol } from '../../observation/vocab.js';
import { negotiate, type Negotiated } from './negotiate.js';

export interface TlsStepResult {
  tls: TlsObservation;
  socket?: tls.TLSSocket;
  certificateDer?: Buffer;
}

/** TLS upgrade of the negotiated connection (MS-RDPBCGR 5.4.5.1): version, cipher, certificate, flight timing. */
export async function tlsStep(ctx: StepContext, n: Negotiated): Promise<TlsStepResult> {
  const over = n.x224?.selected;
  const leftover = n.conn!.detach();
  if (leftover.length) {
    // Bytes after the Confirm, before our ClientHello: not RDP. Record and stop.
    n.socket!.destroy();
    return { tls: { outcome: 'error', over, error: `server sent ${leftover.length} unexpected byte(s) after the Connection Confirm` } };
  }
  const started = performance.now();
  const r = await tlsUpgrade(n.socket!, { timeoutMs: ctx.phaseTimeoutMs, signal: ctx.signal });
  const obs = toObservation(r, over);
  if (r.outcome === 'stalled') obs.stalledAfterMs = r.stallEvidence === 'hole' ? Math.round(performance.now() - started) : ctx.phaseTimeoutMs;
  return { tls: obs, socket: r.socket, certificateDer: r.certificateDer };
}

export function toObservation(r: TlsUpgradeResult, over?: SelectedProtocol): TlsObservation {
  const o: TlsObservation = { outcome: r.outcome, bytesReceived: r.bytesReceived };
  if (over) o.over = over;
  if (r.version) o.version = r.version;
  if (r.cipher) o.cipher = r.cipher;
  if (r.firstByteMs !== undefined) o.firstByteMs = r.firstByteMs;
  if (r.handshakeMs !== undefined) o.handshakeMs = r.handshakeMs;
  if (r.alert) o.alert = r.alert;
  if (r.error && r.outcome !== 'ok') o.error = r.error;
  if (r.stallEvidence) o.stallEvidence = r.stallEvidence;
  if (r.kernel) o.kernel = r.kernel;
  if (r.certificateDer) {
    try {
      o.certificate = certificateFacts(r.certificateDer, new Date());
    } catch (e) {
      o.error = `certificate could not be parsed: ${(e as Error).message}`;
    }
    if (r.chainDer && r.chainDer.length > 1) {
      o.chain = r.chainDer.map((d) => {
        try {
          return certificateFacts(d, new Date()).subject;
        } catch {
          return '(unparsable)';
        }
      });
    }
  }
  return o;
}

/**
 * Which TLS versions the server accepts: one connection per version, each pinned with min = max = that version and
 * a security level that lets OpenSSL speak TLS 1.0/1.1. The X.224 offer is the one that selected TLS.
 */
export async function tlsVersions(ctx: StepContext, requested: ProtocolName[]): Promise<Partial<Record<TlsVersionName, TlsVersionResult>>> {
  const out: Partial<Record<TlsVersionName, TlsVersionResult>> = {};
  await Promise.all(
    TLS_VERSIONS.map((v) =>
      ctx.limit(async () => {
        const n = await negotiate(ctx, requested);
        if (!n.conn || !usesTls(n.x224?.selected)) {
          n.conn?.destroy();
          out[v] = { outcome: 'error', detail: `negotiation did not select TLS (${n.x224?.outcome ?? n.tcp.outcome})` };
          return;
        }
        n.conn.detach();
        const r = await tlsUpgrade(n.socket!, { timeoutMs: ctx.phaseTimeoutMs, minVersion: v, maxVersion: v, signal: ctx.signal });
        if (r.outcome === 'ok') {
          out[v] = { outcome: 'accepted', cipher: r.cipher?.standardName ?? r.cipher?.name };
          r.socket!.destroy();
        } else if (r.outcome === 'alert') {
          const local = /no protocols available|unsupported protocol.*(?:client)?/i.test(r.error ?? '') && r.bytesReceived === 0;
          out[v] = local ? { outcome: 'unsupported-locally', detail: r.error } : { outcome: 'rejected', detail: r.alert ?? r.error };
        } else if (r.outcome === 'closed' || r.outcome === 'reset' || r.outcome === 'stalled' || r.outcome === 'timeout' || r.outcome === 'aborted') {
          // Kept apart: many servers (xrdp among them) just close (FIN) or reset when no version matches; a stall
          // (open, no answer) or an abort of the probe says nothing about the version.
          out[v] = { outcome: r.outcome, detail: r.error };
        } else {
          out[v] = { outcome: 'error', detail: r.error };
        }
      }),
    ),
  );
  return Object.fromEntries(TLS_VERSIONS.filter((v) => out[v]).map((v) => [v, out[v]]));
}
