/**
 * Streaming capture reader: classic pcap (µs and ns magic, both byte orders) and pcapng (SHB, IDB, EPB, SPB, OPB;
 * several sections, per-interface link type and if_tsresol / if_tsoffset), optionally gzip-compressed (sniffed by
 * the 1f 8b magic, RFC 1952 §2.3.1). Pull-based: records are parsed from the bytes already read, and the next chunk
 * is read only when a record needs it, so memory stays at one read chunk plus one record whatever the file size.
 *
 * Formats: pcap — https://www.tcpdump.org/manpages/pcap-savefile.5.html (draft-ietf-opsawg-pcap);
 * pcapng — draft-ietf-opsawg-pcapng (SHB §4.1, IDB §4.2, EPB §4.3, SPB §4.4, OPB Appendix A).
 *
 * A damaged file (truncated record, impossible length) ends the stream with `damage` set (record number and byte
 * offset); everything before it has been delivered. A file that is not a capture at all is a CaptureFormatError.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

export interface CaptureRecord {
  /** 1-based frame number, as Wireshark counts. */
  frame: number;
  /** Seconds since the epoch (fractional). */
  time: number;
  linkType: number;
  /** Interface key: "section:interface" for pcapng, "0:0" for pcap. */
  iface: string;
  data: Uint8Array;
  /** Original length on the wire (≥ data.length when the snaplen cut it). */
  origLength: number;
  /** Byte offset of the record in the (decompressed) capture. */
  offset: number;
}

export interface CaptureDamage {
  /** The record that could not be read (1-based; the frame number it would have had). */
  record: number;
  /** Byte offset of that record in the (decompressed) capture. */
  offset: number;
  message: string;
}

export class CaptureFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaptureFormatError';
  }
}

const MAGIC_PCAP_US = 0xa1b2c3d4;
const MAGIC_PCAP_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_IDB = 0x00000001;
const PCAPNG_OPB = 0x00000002; // obsolete Packet Block
const PCAPNG_SPB = 0x00000003;
const PCAPNG_EPB = 0x00000006;
const PCAPNG_BOM = 0x1a2b3c4d;
const IF_TSRESOL = 9; // IDB option if_tsresol
const IF_TSOFFSET = 14; // IDB option if_tsoffset (seconds added to every timestamp)

/** Largest record/block accepted: far above any real snaplen (262144), small enough to bound memory. */
export const MAX_RECORD_BYTES = 1 << 20;
const MAX_BLOCK_BYTES = 1 << 24;

interface Iface {
  linkType: number;
  snaplen: number;
  /** timestamp units per second */
  tsres: number;
  tsoffset: number;
}

/** Pull-based byte window over an async chunk source. */
class ByteSource {
  buf: Uint8Array = new Uint8Array(0);
  pos = 0;
  /** File offset of buf[0]. */
  base = 0;
  eof = false;
  error: Error | null = null;
  constructor(private readonly it: AsyncIterator<Uint8Array>) {}
  get avail(): number {
    return this.buf.length - this.pos;
  }
  get offset(): number {
    return this.base + this.pos;
  }
  /** Make at least n bytes available; false at end of input (or on a read error, kept in `error`). */
  async fill(n: number): Promise<boolean> {
    while (this.avail < n && !this.eof) {
      let r: IteratorResult<Uint8Array>;
      try {
        r = await this.it.next();
      } catch (e) {
        this.error = e as Error;
        this.eof = true;
        break;
      }
      if (r.done) {
        this.eof = true;
        break;
      }
      const chunk = r.value;
      if (!chunk.length) continue;
      if (this.avail === 0) {
        this.base += this.buf.length;
        this.buf = chunk;
      } else {
        const rest = this.buf.subarray(this.pos);
        const nb = new Uint8Array(rest.length + chunk.length);
        nb.set(rest, 0);
        nb.set(chunk, rest.length);
        this.base += this.pos;
        this.buf = nb;
      }
      this.pos = 0;
    }
    return this.avail >= n;
  }
}

async function* chunksOf(first: Uint8Array[], it: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  for (const c of first) yield c;
  for (;;) {
    const r = await it.next();
    if (r.done) return;
    yield r.value;
  }
}

export interface CaptureStats {
  format?: 'pcap' | 'pcapng';
  gzip: boolean;
  records: number;
  /** Bytes of capture read (after decompression). */
  bytes: number;
  sections: number;
  interfaces: { iface: string; linkType: number; tsresol: number }[];
}

/**
 * One capture as an async sequence of record batches. Usage: `for await (const batch of cap.batches())`, then
 * look at `cap.damage` and `cap.stats`. Records in a batch share the read chunk: copy what you keep.
 */
export class CaptureStream {
  damage?: CaptureDamage;
  readonly stats: CaptureStats = { gzip: false, records: 0, bytes: 0, sections: 0, interfaces: [] };
  private started = false;
  constructor(private readonly input: AsyncIterable<Uint8Array>) {}

  async *records(): AsyncGenerator<CaptureRecord> {
    for await (const b of this.batches()) yield* b;
  }

  async *batches(): AsyncGenerator<CaptureRecord[]> {
    if (this.started) throw new Error('a CaptureStream can be read once');
    this.started = true;
    const it0 = this.input[Symbol.asyncIterator]();
    // Sniff: gather at least 4 bytes.
    const head: Uint8Array[] = [];
    let have = 0;
    while (have < 4) {
      const r = await it0.next();
      if (r.done) break;
      head.push(r.value);
      have += r.value.length;
    }
    const all = chunksOf(head, it0);
    let it: AsyncIterator<Uint8Array> = all;
    const h0 = head[0];
    if (h0 && h0.length >= 2 && h0[0] === 0x1f && h0[1] === 0x8b) {
      this.stats.gzip = true;
      const src = Readable.from(all, { objectMode: false });
      const gz = createGunzip();
      src.on('error', (e) => gz.destroy(e));
      src.pipe(gz);
      it = (gz as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    }
    const s = new ByteSource(it);
    if (!(await s.fill(4))) {
      if (s.error) throw new CaptureFormatError(`cannot read the capture: ${s.error.message}`);
      throw new CaptureFormatError(s.avail === 0 ? 'the file is empty' : `file shorter than 4 bytes (${s.avail})`);
    }
    const m = be32(s.buf, s.pos);
    if (m === PCAPNG_SHB) yield* this.pcapng(s);
    else if (m === MAGIC_PCAP_US || m === MAGIC_PCAP_NS || swap32(m) === MAGIC_PCAP_US || swap32(m) === MAGIC_PCAP_NS) yield* this.pcap(s, m);
    else {
      throw new CaptureFormatError(
        `not a pcap or pcapng capture (magic 0x${m.toString(16).padStart(8, '0')}${this.stats.gzip ? ' after gunzip' : ''})`,
      );
    }
  }

  private damaged(s: ByteSource, record: number, offset: number, message: string): void {
    const why = s.error ? `${message} (${s.error.message})` : message;
    this.damage = { record, offset, message: why };
  }

  private async *pcap(s: ByteSource, m: number): AsyncGenerator<CaptureRecord[]> {
    this.stats.format = 'pcap';
    this.stats.sections = 1;
    const le = m !== MAGIC_PCAP_US && m !== MAGIC_PCAP_NS;
    const nano = (le ? swap32(m) : m) === MAGIC_PCAP_NS;
    if (!(await s.fill(24))) {
      if (s.error) throw new CaptureFormatError(`cannot read the capture: ${s.error.message}`);
      throw new CaptureFormatError(`pcap global header truncated (${s.avail} of 24 bytes)`);
    }
    const u32 = le ? le32 : be32;
    const snaplen = u32(s.buf, s.pos + 16);
    // LinkType and additional information: the link type is the low 16 bits (pcap-savefile: FCS bits above)
    const linkType = u32(s.buf, s.pos + 20) & 0xffff;
    const div = nano ? 1e9 : 1e6;
    this.stats.interfaces.push({ iface: '0:0', linkType, tsresol: div });
    s.pos += 24;
    let frame = 0;
    for (;;) {
      const batch: CaptureRecord[] = [];
      let need = 16;
      while (s.avail >= 16) {
        const p = s.pos;
        const incl = u32(s.buf, p + 8);
        if (incl > MAX_RECORD_BYTES || (snaplen >= 64 && incl > Math.max(snaplen, 262144))) {
          this.damaged(s, frame + 1, s.offset, `record ${frame + 1} at byte offset ${s.offset}: captured length ${incl} is impossible (snaplen ${snaplen})`);
          if (batch.length) yield batch;
          this.stats.bytes = s.offset;
          return;
        }
        if (s.avail < 16 + incl) {
          need = 16 + incl;
          break;
        }
        frame++;
        const sec = u32(s.buf, p);
        const frac = u32(s.buf, p + 4);
        batch.push({
          frame,
          time: sec + frac / div,
          linkType,
          iface: '0:0',
          data: s.buf.subarray(p + 16, p + 16 + incl),
          origLength: u32(s.buf, p + 12),
          offset: s.base + p,
        });
        s.pos += 16 + incl;
      }
      this.stats.records = frame;
      if (batch.length) yield batch;
      if (!(await s.fill(need))) {
        this.stats.bytes = s.offset + s.avail;
        if (s.avail > 0 || s.error) {
          this.damaged(
            s,
            frame + 1,
            s.offset,
            `record ${frame + 1} at byte offset ${s.offset}: truncated (${s.avail} of ${s.avail >= 16 ? need : 16} bytes${s.avail >= 16 ? '' : ' of the record header'})`,
          );
        }
        return;
      }
    }
  }

  private async *pcapng(s: ByteSource): AsyncGenerator<CaptureRecord[]> {
    this.stats.format = 'pcapng';
    let le = true;
    let frame = 0;
    let section = -1;
    let ifaces: Iface[] = [];
    let lastTime = 0;
    for (;;) {
      const batch: CaptureRecord[] = [];
      let need = 12;
      while (s.avail >= 12) {
        const p = s.pos;
        const b = s.buf;
        const blockOffset = s.offset;
        let type = le ? le32(b, p) : be32(b, p);
        if (be32(b, p) === PCAPNG_SHB) {
          type = PCAPNG_SHB;
          const bom = le32(b, p + 8);
          if (bom === PCAPNG_BOM) le = true;
          else if (swap32(bom) === PCAPNG_BOM) le = false;
          else {
            this.damaged(s, frame + 1, blockOffset, `section header at byte offset ${blockOffset}: bad byte-order magic 0x${bom.toString(16)}`);
            if (section < 0) throw new CaptureFormatError(this.damage!.message);
            if (batch.length) yield batch;
            return;
          }
        }
        const u32 = le ? le32 : be32;
        const u16 = le ? le16 : be16;
        const len = u32(b, p + 4);
        if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK_BYTES) {
          const msg = `block at byte offset ${blockOffset} (before record ${frame + 1}): invalid block length ${len}`;
          if (section < 0) throw new CaptureFormatError(msg);
          this.damaged(s, frame + 1, blockOffset, msg);
          if (batch.length) yield batch;
          return;
        }
        if (s.avail < len) {
          need = len;
          break;
        }
        if (u32(b, p + len - 4) !== len) {
          const msg = `block at byte offset ${blockOffset} (before record ${frame + 1}): trailing length ${u32(b, p + len - 4)} ≠ ${len}`;
          if (section < 0) throw new CaptureFormatError(msg);
          this.damaged(s, frame + 1, blockOffset, msg);
          if (batch.length) yield batch;
          return;
        }
        const body = p + 8;
        const end = p + len - 4;
        const bad = (what: string) => {
          this.damaged(s, frame + 1, blockOffset, `record ${frame + 1} at byte offset ${blockOffset}: ${what}`);
        };
        if (type === PCAPNG_SHB) {
          section++;
          this.stats.sections++;
          ifaces = [];
        } else if (section < 0) {
          throw new CaptureFormatError('pcapng: the first block is not a Section Header Block');
        } else if (type === PCAPNG_IDB) {
          if (end - body < 8) {
            bad('interface description block too short');
            if (batch.length) yield batch;
            return;
          }
          const iface: Iface = { linkType: u16(b, body), snaplen: u32(b, body + 4), tsres: 1e6, tsoffset: 0 };
          let o = body + 8;
          while (o + 4 <= end) {
            const code = u16(b, o);
            const olen = u16(b, o + 2);
            if (code === 0 || o + 4 + olen > end) break;
            if (code === IF_TSRESOL && olen >= 1) {
              const v = b[o + 4];
              iface.tsres = v & 0x80 ? 2 ** (v & 0x7f) : 10 ** (v & 0x7f);
            } else if (code === IF_TSOFFSET && olen >= 8) {
              const lo = u32(b, o + 4 + (le ? 0 : 4));
              const hi = u32(b, o + 4 + (le ? 4 : 0));
              iface.tsoffset = hi * 2 ** 32 + lo;
            }
            o += 4 + ((olen + 3) & ~3);
          }
          this.stats.interfaces.push({ iface: `${section}:${ifaces.length}`, linkType: iface.linkType, tsresol: iface.tsres });
          ifaces.push(iface);
        } else if (type === PCAPNG_EPB || type === PCAPNG_OPB) {
          const epb = type === PCAPNG_EPB;
          const hdr = 20;
          if (end - body < hdr) {
            bad('packet block too short');
            if (batch.length) yield batch;
            return;
          }
          const ifid = epb ? u32(b, body) : u16(b, body);
          const iface = ifaces[ifid];
          const capLen = u32(b, body + 12);
          if (!iface) {
            bad(`packet block names interface ${ifid}, but the section describes ${ifaces.length}`);
            if (batch.length) yield batch;
            return;
          }
          if (capLen > MAX_RECORD_BYTES || body + hdr + capLen > end) {
            bad(`captured length ${capLen} exceeds the block (${end - body - hdr} bytes)`);
            if (batch.length) yield batch;
            return;
          }
          frame++;
          const ticks = u32(b, body + 4) * 2 ** 32 + u32(b, body + 8);
          lastTime = ticks / iface.tsres + iface.tsoffset;
          batch.push({
            frame,
            time: lastTime,
            linkType: iface.linkType,
            iface: `${section}:${ifid}`,
            data: b.subarray(body + hdr, body + hdr + capLen),
            origLength: u32(b, body + 16),
            offset: blockOffset,
          });
        } else if (type === PCAPNG_SPB) {
          const iface = ifaces[0];
          if (!iface || end - body < 4) {
            bad(iface ? 'simple packet block too short' : 'simple packet block before any interface description');
            if (batch.length) yield batch;
            return;
          }
          const orig = u32(b, body);
          // SPB §4.4: captured length = min(original length, snaplen, what the block holds); no timestamp, so
          // the previous packet's time is used (the order of blocks is the order of capture).
          const cap = Math.min(orig, iface.snaplen || orig, end - body - 4);
          frame++;
          batch.push({
            frame,
            time: lastTime,
            linkType: iface.linkType,
            iface: `${section}:0`,
            data: b.subarray(body + 4, body + 4 + cap),
            origLength: orig,
            offset: blockOffset,
          });
        }
        // other blocks (NRB, ISB, DSB, custom) carry no packets: skipped
        s.pos += len;
      }
      this.stats.records = frame;
      if (batch.length) yield batch;
      if (!(await s.fill(need))) {
        this.stats.bytes = s.offset + s.avail;
        if (s.avail > 0 || s.error) {
          this.damaged(s, frame + 1, s.offset, `block at byte offset ${s.offset} (record ${frame + 1}): truncated (${s.avail} of ${need} bytes)`);
        }
        return;
      }
    }
  }
}

function be32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}
function le32(b: Uint8Array, o: number): number {
  return ((b[o + 3] << 24) | (b[o + 2] << 16) | (b[o + 1] << 8) | b[o]) >>> 0;
}
function be16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}
function le16(b: Uint8Array, o: number): number {
  return (b[o + 1] << 8) | b[o];
}
function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/** Open a capture file ('-' = stdin) as a stream. Throws CaptureFormatError for a missing or unreadable file. */
export async function openCapture(file: string): Promise<CaptureStream> {
  if (file === '-') return new CaptureStream(process.stdin as AsyncIterable<Uint8Array>);
  try {
    const st = await stat(file);
    if (st.isDirectory()) throw new CaptureFormatError(`${file}: is a directory`);
  } catch (e) {
    if (e instanceof CaptureFormatError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new CaptureFormatError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`);
  }
  return new CaptureStream(createReadStream(file, { highWaterMark: 256 * 1024 }) as AsyncIterable<Uint8Array>);
}

/** A capture already in memory (tests, the library API). */
export function captureFromBytes(buf: Uint8Array, chunkSize = 64 * 1024): CaptureStream {
  async function* gen(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < buf.length; i += chunkSize) yield buf.subarray(i, Math.min(buf.length, i + chunkSize));
  }
  return new CaptureStream(gen());
}
