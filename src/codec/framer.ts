/**
 * Incremental framer for a TCP byte stream carrying TPKT PDUs (T.123 §8) and, optionally, RDP fast-path PDUs
 * (MS-RDPBCGR 2.2.9.1.2 server output / 2.2.8.1.2 client input).
 *
 * push(chunk) returns every PDU completed by that chunk, as independent copies. The result does not depend on how
 * the stream was split. Headers are validated as soon as they are complete, before any payload byte is buffered:
 * a version byte other than 3 or a length outside [min, maxPdu] is a DecodeError right away, so a hostile peer
 * announcing 65535 bytes never makes us hold more than `maxPdu` bytes.
 *
 * Errors: when a chunk holds good PDUs followed by bad bytes, push() returns the good PDUs and the error is thrown by
 * the next push() (it is also readable at once from `error`). When no PDU was completed the error is thrown at once.
 * After an error the framer stays failed: the stream cannot be re-synchronised, every later push rethrows it.
 */
import { DecodeError } from './errors.js';
import { MAX_TPKT_LENGTH, MIN_TPKT_LENGTH, TPKT_VERSION } from './tpkt.js';

export interface TpktFramerOptions {
  /** Largest PDU accepted, in bytes including headers. Default 16384 (plenty for any handshake PDU). */
  maxPdu?: number;
  /** Also accept fast-path PDUs (first byte's low two bits = 0, FASTPATH_*_ACTION_FASTPATH). Default false. */
  fastPath?: boolean;
}

export interface Frame {
  kind: 'tpkt' | 'fastpath';
  bytes: Uint8Array;
}

/** Fast-path header action field (MS-RDPBCGR 2.2.9.1.2 fpOutputHeader bits 0-1). */
const FASTPATH_ACTION_FASTPATH = 0x0;
const FASTPATH_ACTION_X224 = 0x3;
/** Smallest fast-path PDU: fpHeader + one length octet. */
const MIN_FASTPATH_LENGTH = 2;

export class TpktFramer {
  readonly maxPdu: number;
  readonly fastPath: boolean;
  /** Bytes of the PDU being assembled (never more than maxPdu). */
  private buf: Uint8Array;
  private have = 0;
  /** Total length of the PDU being assembled, once its header is complete. */
  private need = 0;
  private kind: Frame['kind'] = 'tpkt';
  private failed: DecodeError | null = null;
  /** Stream offset of the PDU being assembled (for error messages). */
  private streamOffset = 0;

  constructor(opts: TpktFramerOptions = {}) {
    const maxPdu = opts.maxPdu ?? 16384;
    if (!Number.isInteger(maxPdu) || maxPdu < MIN_TPKT_LENGTH || maxPdu > MAX_TPKT_LENGTH) {
      throw new RangeError(`maxPdu must be an integer in ${MIN_TPKT_LENGTH}..${MAX_TPKT_LENGTH}, got ${maxPdu}`);
    }
    this.maxPdu = maxPdu;
    this.fastPath = opts.fastPath ?? false;
    this.buf = new Uint8Array(Math.min(maxPdu, 4096));
  }

  /** Bytes held for an incomplete PDU. */
  get buffered(): number {
    return this.have;
  }

  /** The error that stopped this framer, if any. */
  get error(): DecodeError | null {
    return this.failed;
  }

  /** Feed bytes; returns the PDUs they completed (each a fresh copy). */
  push(chunk: Uint8Array): Uint8Array[] {
    return this.pushFrames(chunk).map((f) => f.bytes);
  }

  /** Like push(), but says whether each PDU is TPKT or fast-path. */
  pushFrames(chunk: Uint8Array): Frame[] {
    if (this.failed) throw this.failed;
    const out: Frame[] = [];
    let i = 0;
    try {
      while (i < chunk.length) {
        if (this.need === 0) {
          // still reading a header: take one byte at a time until the length is known
          this.append(chunk.subarray(i, i + 1));
          i++;
          this.tryHeader();
        } else {
          const take = Math.min(this.need - this.have, chunk.length - i);
          this.append(chunk.subarray(i, i + take));
          i += take;
        }
        if (this.need !== 0 && this.have === this.need) {
          out.push({ kind: this.kind, bytes: this.buf.slice(0, this.have) });
          this.streamOffset += this.have;
          this.have = 0;
          this.need = 0;
        }
      }
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.failed = e;
      this.have = 0; // nothing more will be assembled; drop the partial PDU
      if (out.length === 0) throw e;
    }
    return out;
  }

  private append(b: Uint8Array): void {
    if (this.have + b.length > this.buf.length) {
      let size = this.buf.length;
      while (size < this.have + b.length) size *= 2;
      const next = new Uint8Array(Math.min(size, this.maxPdu));
      next.set(this.buf.subarray(0, this.have));
      this.buf = next;
    }
    this.buf.set(b, this.have);
    this.have += b.length;
  }

  /** Decide the PDU length once enough header bytes are here; throws before any payload is buffered. */
  private tryHeader(): void {
    const b0 = this.buf[0];
    if (b0 === TPKT_VERSION) {
      if (this.have < 4) return;
      this.kind = 'tpkt';
      const len = (this.buf[2] << 8) | this.buf[3];
      this.check(len, MIN_TPKT_LENGTH, 'TPKT.length', 2);
      this.need = len;
      return;
    }
    if (!this.fastPath || (b0 & 0x03) !== FASTPATH_ACTION_FASTPATH) {
      const what = this.fastPath && (b0 & 0x03) === FASTPATH_ACTION_X224 ? 'slow-path action with a TPKT version' : 'TPKT version';
      throw new DecodeError(
        'tpkt',
        'TPKT.version',
        this.streamOffset,
        `expected 3, got 0x${b0.toString(16).padStart(2, '0')} (${what} invalid${this.fastPath ? '; not a fast-path header either' : ''})`,
      );
    }
    // MS-RDPBCGR 2.2.9.1.2: length1; if its high bit is set the length is 15 bits over length1 & 0x7F and length2
    if (this.have < 2) return;
    this.kind = 'fastpath';
    const l1 = this.buf[1];
    if (!(l1 & 0x80)) {
      this.check(l1, MIN_FASTPATH_LENGTH, 'fastpath.length', 1);
      this.need = l1;
      return;
    }
    if (this.have < 3) return;
    const len = ((l1 & 0x7f) << 8) | this.buf[2];
    this.check(len, 3, 'fastpath.length', 1);
    this.need = len;
  }

  private check(len: number, min: number, field: string, at: number): void {
    if (len < min) {
      throw new DecodeError(this.kind, field, this.streamOffset + at, `length ${len} is below the minimum ${min}`);
    }
    if (len > this.maxPdu) {
      throw new DecodeError(this.kind, field, this.streamOffset + at, `length ${len} exceeds the limit of ${this.maxPdu} bytes`, len, this.maxPdu);
    }
    if (len < this.have) {
      throw new DecodeError(this.kind, field, this.streamOffset + at, `length ${len} is shorter than its own header`);
    }
  }
}

/**
 * Encode a fast-path length (MS-RDPBCGR 2.2.9.1.2): one octet below 0x80, else two with the high bit set.
 * `total` includes the header itself.
 */
export function fastPathLengthBytes(total: number): Uint8Array {
  if (total < 0x80) return Uint8Array.of(total);
  if (total > 0x7fff) throw new RangeError(`fast-path length ${total} exceeds 0x7fff`);
  return Uint8Array.of(0x80 | (total >> 8), total & 0xff);
}
