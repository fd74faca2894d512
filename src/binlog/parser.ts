// The binlog engine's core: a push parser that turns chunks of bytes (from a local file or an SSH
// stream, cut anywhere) into events, without ever holding more than one event's head in memory.
//   - 19-byte v4 headers; Format_description sets the checksum algorithm; CRC32 checked by default
//   - positions are this file's own byte offsets (exact past 4 GiB, where end_log_pos wraps)
//   - transaction boundaries (GTID/BEGIN … XID/COMMIT, DDL), so nothing is cut inside one
//   - relay logs: which master file and master end position each event came from
// Damage never crashes or loops: every event advances by at least 19 bytes, sizes are bounded,
// and decoders read only inside their buffer.
import { ChecksumRun, crc32Range } from './crc32.js';
import { DecodeError, decodeEvent, versionHasChecksumByte, type EventInfo, type FormatDescription } from './decode.js';
import { BINLOG_MAGIC, EventType, HEADER_LENGTH, LOG_EVENT_ARTIFICIAL_F, LOG_EVENT_BINLOG_IN_USE_F, MAX_EVENT_SIZE, isControlEvent } from './event-types.js';

export class BinlogCorruptError extends Error {
  readonly file: string;
  readonly position: number;
  constructor(file: string, position: number, reason: string) {
    super(`${file} at offset ${position}: ${reason}`);
    this.name = 'BinlogCorruptError';
    this.file = file;
    this.position = position;
  }
}

export interface BinlogEvent {
  /** Offset in the file where the event starts. */
  position: number;
  size: number;
  /** Offset just after the event (position + size). */
  end: number;
  type: number;
  timestamp: number;
  serverId: number;
  /** The header's end_log_pos as written (32 bits; in relay logs, the master's position). */
  logPos: number;
  flags: number;
  info?: EventInfo;
  /** This event completes a transaction (XID, COMMIT, a DDL, a compressed payload, …). */
  endsTransaction: boolean;
  /** Offset where the transaction this event belongs to starts (its GTID or BEGIN); undefined for control events. */
  transactionStart?: number;
  /** Relay logs: the master binlog this event was read from. */
  masterFile?: string;
  /** Relay logs: the event's end position in the master's binlog (64-bit, reconstructed). */
  masterEnd?: number;
  /** Relay logs: the event was written by the slave itself (its FDE, its rotates), not copied from the master. */
  own?: boolean;
  /** The whole event, when the parser keeps raw bytes (diff writing). */
  raw?: Buffer;
}

export interface ParserOptions {
  /** Name used in errors and results. */
  file?: string;
  /** Offset of the first byte pushed (default 0, where the magic is expected). */
  startPosition?: number;
  /** Required when starting after the Format_description event. */
  format?: FormatDescription;
  /** Check CRC32 checksums (default true). */
  verifyChecksums?: boolean;
  /** Decode event bodies (default true); false gives headers and transaction boundaries only for the common types. */
  decode?: boolean;
  /** Keep each event's bytes in `raw` (for the diff writer). */
  keepRaw?: boolean;
  /** Relay logs: the slave's own server_id (default: the first Format_description's). */
  ownServerId?: number;
  /** Relay logs starting mid-file: the master file and end position in force at startPosition. */
  masterFile?: string;
  masterEnd?: number;
}

export interface ParseSummary {
  file: string;
  /** Offset after the last complete event. */
  endPosition: number;
  /** Offset after the last event that left no transaction open: the safe place to stop a copy. */
  safeEnd: number;
  events: number;
  format?: FormatDescription;
  /** The input ended inside an event (a master that crashed mid-write, or a copy still being written). */
  truncated?: { position: number; have: number; need: number };
  /** The input ended inside a transaction that started here (its events are not safe to apply). */
  openTransactionStart?: number;
  masterFile?: string;
  masterEnd?: number;
  isRelayLog: boolean;
}

/** MySQL's FDE is ~120 bytes, MariaDB's ~256: anything past this is damage. */
const MAX_FDE_SIZE = 4096;
/** Bytes of a large event's body kept for decoding (a Query's head, a Table_map …). */
const DECODE_KEEP = 64 * 1024;
const TWO32 = 2 ** 32;

const BEGIN_RE = /^\s*(BEGIN|START\s+TRANSACTION|XA\s+(START|BEGIN))\b/i;
const END_RE = /^\s*(COMMIT|ROLLBACK|XA\s+(COMMIT|ROLLBACK|PREPARE))\b/i;
const XA_END_RE = /^\s*XA\s+END\b/i;

interface Pending {
  header: Buffer;
  position: number;
  size: number;
  got: number;
  crc: number;
  checksummed: boolean;
  trailer: Buffer;
  head: Buffer[];
  headLen: number;
  raw?: Buffer[];
}

export class BinlogParser {
  readonly file: string;
  private readonly verify: boolean;
  private readonly decode: boolean;
  private readonly keepRaw: boolean;
  private pos: number;
  private magicLeft: number;
  private magicSeen: number[] = [];
  private headerBuf = Buffer.alloc(HEADER_LENGTH);
  private headerHave = 0;
  private pending: Pending | undefined;
  private format: FormatDescription | undefined;
  private ownServerId: number | undefined;
  private events = 0;
  private safeEnd: number;
  private trxStart: number | undefined;
  private inTrx = false;
  /** The open transaction began with a BEGIN (no GTID event before it). */
  private openedByBegin = false;
  private masterFile: string | undefined;
  private masterEnd: number | undefined;
  private isRelay = false;
  private finished = false;
  /** Checksummed events of the current chunk not checked yet, and the file offset of the first. */
  private readonly unchecked = new ChecksumRun();
  private uncheckedPosition = 0;
  /** each() and count(): where events go as they complete; count() also reuses one event object. */
  private visit: ((event: BinlogEvent) => void) | undefined;
  private reuse = false;
  private readonly reused: BinlogEvent = { position: 0, size: 0, end: 0, type: 0, timestamp: 0, serverId: 0, logPos: 0, flags: 0, endsTransaction: false };

  constructor(opts: ParserOptions = {}) {
    this.file = opts.file ?? '(stream)';
    this.verify = opts.verifyChecksums ?? true;
    this.decode = opts.decode ?? true;
    this.keepRaw = opts.keepRaw ?? false;
    this.pos = opts.startPosition ?? 0;
    this.magicLeft = this.pos === 0 ? 4 : 0;
    this.format = opts.format;
    this.ownServerId = opts.ownServerId;
    this.masterFile = opts.masterFile;
    this.masterEnd = opts.masterEnd;
    this.isRelay = opts.masterFile !== undefined;
    this.safeEnd = this.pos;
  }

  get currentFormat(): FormatDescription | undefined {
    return this.format;
  }

  /** Parse a chunk; returns the events completed in it. */
  push(chunk: Buffer): BinlogEvent[] {
    if (this.finished) throw new Error('BinlogParser: push after finish');
    try {
      const out = this.parse(chunk);
      this.checkChecksums();
      return out;
    } catch (err) {
      // Checked one by one, a wrong checksum before (or in) the event that failed is the error.
      this.checkChecksums();
      throw err;
    }
  }

  /**
   * Parses a chunk exactly as push does (same checks, errors and summary) but hands each event to
   * `visit` as it completes instead of collecting them: when `visit` keeps nothing, what a long
   * scan holds at any moment is one event, not a chunk's worth. Checksums are checked before this
   * returns; when it throws, the events visited in this chunk are void.
   */
  each(chunk: Buffer, visit: (event: BinlogEvent) => void): void {
    this.visit = visit;
    try {
      this.push(chunk);
    } finally {
      this.visit = undefined;
    }
  }

  /** For a summary: parses a chunk as push does, only counting its events by type code into `byType`; no event is built. */
  count(chunk: Buffer, byType: Float64Array): void {
    this.reuse = true;
    try {
      this.each(chunk, (e) => {
        byType[e.type] = (byType[e.type] ?? 0) + 1;
      });
    } finally {
      this.reuse = false;
    }
  }

  private emit(out: BinlogEvent[], event: BinlogEvent): void {
    if (this.visit) this.visit(event);
    else out.push(event);
  }

  private parse(chunk: Buffer): BinlogEvent[] {
    const out: BinlogEvent[] = [];
    let o = 0;
    const n = chunk.length;
    while (this.magicLeft > 0 && o < n) {
      const b = chunk[o++]!;
      this.magicSeen.push(b);
      this.magicLeft--;
      this.pos++;
      if (this.magicLeft === 0) {
        if (!BINLOG_MAGIC.equals(Buffer.from(this.magicSeen))) {
          throw new BinlogCorruptError(this.file, 0, `not a binlog file: starts with ${Buffer.from(this.magicSeen).toString('hex')}, expected fe62696e`);
        }
        this.safeEnd = 4;
      }
    }
    while (o < n) {
      if (this.pending) {
        o = this.feedPending(chunk, o, out);
        continue;
      }
      if (this.headerHave > 0 || n - o < HEADER_LENGTH) {
        const take = Math.min(HEADER_LENGTH - this.headerHave, n - o);
        chunk.copy(this.headerBuf, this.headerHave, o, o + take);
        this.headerHave += take;
        o += take;
        if (this.headerHave < HEADER_LENGTH) break;
        this.headerHave = 0;
        // A header-only event (Stop without checksum) is complete with its header.
        this.checkHeader(this.headerBuf, 0);
        if (this.headerBuf.readUInt32LE(9) === HEADER_LENGTH) {
          this.emit(out, this.completeEvent(Buffer.from(this.headerBuf), 0, HEADER_LENGTH));
        } else {
          this.startPending(Buffer.from(this.headerBuf));
        }
        continue;
      }
      // Fast path: the whole header is in this chunk.
      const size = u32(chunk, o + 9);
      this.checkHeader(chunk, o);
      if (n - o >= size) {
        this.emit(out, this.completeEvent(chunk, o, size));
        o += size;
      } else {
        this.startPending(chunk.subarray(o, o + HEADER_LENGTH));
        o += HEADER_LENGTH;
      }
    }
    return out;
  }

  /** End of input: what was read, and whether it ended cleanly. */
  finish(): ParseSummary {
    this.finished = true;
    const summary: ParseSummary = {
      file: this.file,
      endPosition: this.pos - (this.pending ? this.pending.got : 0),
      safeEnd: this.safeEnd,
      events: this.events,
      format: this.format,
      masterFile: this.masterFile,
      masterEnd: this.masterEnd,
      isRelayLog: this.isRelay,
    };
    if (this.magicLeft > 0 && this.magicSeen.length > 0) {
      summary.truncated = { position: 0, have: this.magicSeen.length, need: 4 };
    } else if (this.pending) {
      summary.truncated = { position: this.pending.position, have: this.pending.got, need: this.pending.size };
    } else if (this.headerHave > 0) {
      // Once the size field is in, say how big the cut event was meant to be.
      const need = this.headerHave >= 13 ? this.headerBuf.readUInt32LE(9) : HEADER_LENGTH;
      summary.truncated = { position: this.pos, have: this.headerHave, need };
    }
    if (this.trxStart !== undefined) summary.openTransactionStart = this.trxStart;
    return summary;
  }

  /**
   * In a binlog (not a relay log) every event's end_log_pos is its own end offset (mod 2^32), or 0
   * for some artificial events: a header that disagrees is damaged. This is what tells a corrupted
   * size field from a file that is merely cut short.
   */
  private checkHeader(header: Buffer, at: number): void {
    const size = u32(header, at + 9);
    const type = header[at + 4]!;
    this.checkSize(size, type);
    if (this.isRelay) return;
    // A master's FDE or Rotate in a relay log (another server_id than the file's own) carries the
    // master's positions; a plain binlog only ever has its own.
    if ((type === EventType.FORMAT_DESCRIPTION || type === EventType.ROTATE) && u32(header, at + 5) !== this.ownServerId) return;
    const logPos = u32(header, at + 13);
    if (logPos !== 0 && logPos !== (this.pos + size) % TWO32 && this.format !== undefined) {
      throw new BinlogCorruptError(this.file, this.pos, `corrupt header: the event is ${size} bytes, so it should end at ${this.pos + size}, but its end_log_pos says ${logPos}`);
    }
  }

  private checkSize(size: number, type: number): void {
    const position = this.pos;
    if (type === EventType.FORMAT_DESCRIPTION && size > MAX_FDE_SIZE) {
      throw new BinlogCorruptError(this.file, position, `Format_description of ${size} bytes: servers write a few hundred (corrupt header)`);
    }
    const min = HEADER_LENGTH + (this.format?.checksum === 'crc32' && type !== EventType.FORMAT_DESCRIPTION ? 4 : 0);
    if (size < min) throw new BinlogCorruptError(this.file, position, `event size ${size} is smaller than the ${min}-byte minimum (corrupt header)`);
    if (size > MAX_EVENT_SIZE) throw new BinlogCorruptError(this.file, position, `event size ${size} is larger than any server writes (corrupt header)`);
  }

  private startPending(header: Buffer): void {
    const size = header.readUInt32LE(9);
    const type = header[4]!;
    const checksummed = this.format?.checksum === 'crc32' && type !== EventType.FORMAT_DESCRIPTION;
    const p: Pending = {
      header: Buffer.from(header),
      position: this.pos,
      size,
      got: HEADER_LENGTH,
      crc: 0,
      checksummed,
      trailer: Buffer.alloc(4),
      head: [],
      headLen: 0,
      raw: this.keepRaw ? [Buffer.from(header)] : undefined,
    };
    if (checksummed) p.crc = crc32Range(p.header, 0, HEADER_LENGTH);
    this.pending = p;
    this.pos += HEADER_LENGTH;
  }

  private feedPending(chunk: Buffer, o: number, out: BinlogEvent[]): number {
    const p = this.pending!;
    const take = Math.min(p.size - p.got, chunk.length - o);
    const piece = chunk.subarray(o, o + take);
    const bodyOffset = p.got - HEADER_LENGTH;
    const bodyEnd = p.size - HEADER_LENGTH;
    // bytes before the 4-byte trailer feed the CRC; the trailer itself is kept aside
    const crcLimit = p.checksummed ? bodyEnd - 4 : bodyEnd;
    const crcPart = Math.max(0, Math.min(take, crcLimit - bodyOffset));
    if (p.checksummed && crcPart > 0) p.crc = crc32Range(piece, 0, crcPart, p.crc);
    if (p.checksummed && crcPart < take) {
      const trailerFrom = bodyOffset + crcPart - crcLimit;
      piece.copy(p.trailer, trailerFrom, crcPart, take);
    }
    if (p.headLen < DECODE_KEEP) {
      const keep = piece.subarray(0, Math.min(take, DECODE_KEEP - p.headLen));
      p.head.push(Buffer.from(keep));
      p.headLen += keep.length;
    }
    if (p.raw) p.raw.push(Buffer.from(piece));
    p.got += take;
    this.pos += take;
    if (p.got === p.size) {
      this.pending = undefined;
      // Rewind the position: completeEvent accounts for the whole event itself.
      this.pos -= p.size;
      const small = p.size <= DECODE_KEEP + HEADER_LENGTH;
      if (small) {
        this.emit(out, this.completeEvent(Buffer.concat([p.header, ...p.head]), 0, p.size));
      } else {
        this.emit(out, this.completeLarge(p));
      }
    }
    return o + take;
  }

  /** A large event assembled from pieces: its CRC was computed on the way in. */
  private completeLarge(p: Pending): BinlogEvent {
    const type = p.header[4]!;
    if (p.checksummed && this.verify) {
      const stored = p.trailer.readUInt32LE(0);
      if (stored !== p.crc >>> 0) {
        throw new BinlogCorruptError(this.file, p.position, `checksum mismatch in a ${p.size}-byte event (stored ${hex(stored)}, computed ${hex(p.crc >>> 0)})`);
      }
    }
    const buf = Buffer.concat([p.header, ...p.head]);
    const bodyEnd = Math.min(buf.length, p.size - (p.checksummed ? 4 : 0));
    return this.finishEvent(buf, 0, p.position, p.size, type, HEADER_LENGTH, bodyEnd, false, p.raw ? Buffer.concat(p.raw) : undefined);
  }

  /** An event whose bytes are all in buf[off, off+size): no copy, and no Buffer view unless decoded. */
  private completeEvent(buf: Buffer, off: number, size: number): BinlogEvent {
    const position = this.pos;
    const type = buf[off + 4]!;
    let bodyEnd = off + size;
    if (type === EventType.FORMAT_DESCRIPTION) {
      if (this.verify) this.verifyFdeChecksum(buf, off, size, position);
    } else if (this.format?.checksum === 'crc32') {
      bodyEnd -= 4;
      // Checked with the other events of the chunk, before push returns (checkChecksums).
      if (this.verify) this.queueChecksum(buf, off, size, position);
    }
    return this.finishEvent(buf, off, position, size, type, off + HEADER_LENGTH, bodyEnd, true, this.keepRaw ? Buffer.from(buf.subarray(off, off + size)) : undefined);
  }

  private queueChecksum(buf: Buffer, off: number, size: number, position: number): void {
    if (!this.unchecked.add(buf, off, off + size)) {
      this.checkChecksums();
      this.unchecked.add(buf, off, off + size);
    }
    if (this.unchecked.size === 1) this.uncheckedPosition = position;
  }

  /** Checks the queued checksums: a wrong one is an error at its event. */
  private checkChecksums(): void {
    const first = this.unchecked.start;
    const bad = this.unchecked.check();
    if (bad) {
      throw new BinlogCorruptError(this.file, this.uncheckedPosition + (bad.start - first), `checksum mismatch (stored ${hex(bad.stored)}, computed ${hex(bad.computed)})`);
    }
  }

  /**
   * The FDE always carries a CRC32 when it has a checksum-algorithm byte (even with
   * binlog_checksum=NONE, where it then covers only the FDE), computed with the "in use" flag
   * cleared: the server sets that flag while the file is open.
   */
  private verifyFdeChecksum(buf: Buffer, off: number, size: number, position: number): void {
    const serverVersion = buf.toString('latin1', off + HEADER_LENGTH + 2, off + HEADER_LENGTH + 52).replace(/\0.*$/s, '');
    if (!versionHasChecksumByte(serverVersion) || size < HEADER_LENGTH + 57 + 5) return;
    const alg = buf[off + size - 5];
    if (alg !== 0 && alg !== 1) return; // decodeFormatDescription reports an unknown algorithm
    const copy = Buffer.from(buf.subarray(off, off + size - 4));
    copy.writeUInt16LE(copy.readUInt16LE(17) & ~LOG_EVENT_BINLOG_IN_USE_F, 17);
    const stored = buf.readUInt32LE(off + size - 4);
    const computed = crc32Range(copy, 0, copy.length);
    if (stored !== computed) {
      throw new BinlogCorruptError(this.file, position, `checksum mismatch in Format_description (stored ${hex(stored)}, computed ${hex(computed)})`);
    }
  }

  private finishEvent(
    buf: Buffer,
    off: number,
    position: number,
    size: number,
    type: number,
    bodyStart: number,
    bodyEnd: number,
    complete: boolean,
    raw: Buffer | undefined,
  ): BinlogEvent {
    if (!this.format && type !== EventType.FORMAT_DESCRIPTION) {
      // Without the FDE nothing says whether events carry checksums: reading on would be guessing.
      throw new BinlogCorruptError(
        this.file,
        position,
        `${position === 4 ? 'the first event' : 'an event before any Format_description'} is of type ${type}, not a Format_description (start_v3 and older formats are not supported)`,
      );
    }
    const event: BinlogEvent = this.reuse
      ? this.reuseEvent(buf, off, position, size, type)
      : {
          position,
          size,
          end: position + size,
          type,
          timestamp: u32(buf, off),
          serverId: u32(buf, off + 5),
          logPos: u32(buf, off + 13),
          flags: u16(buf, off + 17),
          endsTransaction: false,
        };
    if (raw) event.raw = raw;
    this.pos = position + size;
    this.events++;

    // Without full decoding, only what the reader itself needs is read: the FDE, rotates, and the
    // few bytes that classify a Query (BEGIN/COMMIT/other) or a MariaDB GTID (standalone or not).
    let queryKind: QueryKind | undefined;
    let mariadbStandalone: boolean | undefined;
    try {
      if (this.decode || type === EventType.FORMAT_DESCRIPTION || type === EventType.ROTATE) {
        event.info = decodeEvent(type, buf.subarray(bodyStart, bodyEnd), this.format ?? FALLBACK_FORMAT, complete);
      } else if (type === EventType.QUERY) {
        queryKind = this.classifyQuery(buf, bodyStart, bodyEnd);
      } else if (type === EventType.MARIADB_GTID) {
        if (bodyEnd - bodyStart < 13) throw new DecodeError('MariaDB Gtid: body too short');
        mariadbStandalone = (buf[bodyStart + 12]! & 1) !== 0;
      }
    } catch (err) {
      if (err instanceof DecodeError) throw new BinlogCorruptError(this.file, position, `${err.message} (corrupt event)`);
      throw err;
    }
    const info = event.info;
    if (info?.kind === 'format') {
      if (this.ownServerId === undefined) this.ownServerId = event.serverId;
      else if (event.serverId !== this.ownServerId) this.isRelay = true;
      // The master's FDE copied into a relay log describes the events that follow it.
      this.format = info.format;
    } else if (info?.kind === 'gtid' && info.flavor === 'mariadb') {
      info.serverId = event.serverId;
      info.gtid = `${info.domain}-${event.serverId}-${info.seq}`;
      mariadbStandalone = info.standalone;
    } else if (info?.kind === 'query') {
      queryKind = info.compressed ? 'compressed' : classifySql(info.sql);
    }

    this.trackRelay(event);
    this.trackTransaction(event, queryKind, mariadbStandalone);
    if (this.trxStart === undefined) this.safeEnd = event.end;
    return event;
  }

  /** count(): events are counted, never kept, so one object serves them all (no garbage per event). */
  private reuseEvent(buf: Buffer, off: number, position: number, size: number, type: number): BinlogEvent {
    const e = this.reused;
    e.position = position;
    e.size = size;
    e.end = position + size;
    e.type = type;
    e.timestamp = u32(buf, off);
    e.serverId = u32(buf, off + 5);
    e.logPos = u32(buf, off + 13);
    e.flags = u16(buf, off + 17);
    e.endsTransaction = false;
    e.info = e.own = e.masterFile = e.masterEnd = e.transactionStart = e.raw = undefined;
    return e;
  }

  /** BEGIN / COMMIT / other from a Query event's bytes, without decoding the whole statement. */
  private classifyQuery(buf: Buffer, bodyStart: number, bodyEnd: number): QueryKind {
    if (bodyEnd - bodyStart < 13) throw new DecodeError('Query: body too short');
    const ph = this.format?.postHeaderLengths[EventType.QUERY - 1] || 13;
    const dbLen = buf[bodyStart + 8]!;
    const statusLen = buf.readUInt16LE(bodyStart + 11);
    const sqlStart = bodyStart + ph + statusLen + dbLen + 1;
    if (sqlStart > bodyEnd) throw new DecodeError(`Query (status variables and database): needs ${sqlStart - bodyStart} bytes, event body has ${bodyEnd - bodyStart}`);
    return classifySql(buf.toString('latin1', sqlStart, Math.min(bodyEnd, sqlStart + 32)));
  }

  private trackRelay(event: BinlogEvent): void {
    const own = this.ownServerId !== undefined && event.serverId === this.ownServerId && (event.flags & LOG_EVENT_ARTIFICIAL_F) === 0;
    if (event.type === EventType.ROTATE && event.info?.kind === 'rotate') {
      if (!own) {
        // A rotate from the master (or the IO thread's artificial one): the next events come from this master file.
        this.isRelay = true;
        this.masterFile = event.info.nextFile;
        this.masterEnd = event.info.position;
      }
      event.own = own;
      return;
    }
    if (!this.isRelay) return;
    event.own = own;
    if (own || event.type === EventType.FORMAT_DESCRIPTION || event.logPos === 0) return;
    // end_log_pos is 32 bits: rebuild the full master position from the last one seen.
    const last = this.masterEnd ?? 0;
    let end = Math.floor(last / TWO32) * TWO32 + event.logPos;
    if (end < last - TWO32 / 2) end += TWO32;
    this.masterEnd = end;
    event.masterFile = this.masterFile;
    event.masterEnd = end;
  }

  private trackTransaction(event: BinlogEvent, queryKind: QueryKind | undefined, mariadbStandalone: boolean | undefined): void {
    const type = event.type;
    if (isControlEvent(type)) return;
    if (type === EventType.GTID || type === EventType.ANONYMOUS_GTID || type === EventType.GTID_TAGGED || type === EventType.MARIADB_GTID) {
      // A new group starts here; an open one before it was abandoned (e.g. an IO thread reconnect).
      // A MariaDB GTID implies BEGIN unless it is standalone (a DDL); MySQL's is followed by BEGIN or a DDL.
      this.trxStart = event.position;
      this.openedByBegin = false;
      this.inTrx = type === EventType.MARIADB_GTID ? mariadbStandalone === false : false;
      event.transactionStart = event.position;
      return;
    }
    // A BEGIN while a BEGIN-opened transaction is still open: that one was abandoned (a master
    // that crashed and restarted, without GTIDs); the new transaction starts here.
    if (queryKind === 'begin' && this.inTrx && this.openedByBegin) this.trxStart = undefined;
    if (this.trxStart === undefined) {
      this.trxStart = event.position;
      this.openedByBegin = queryKind === 'begin';
    }
    event.transactionStart = this.trxStart;
    let ends = false;
    if (queryKind !== undefined) {
      if (queryKind === 'begin' || queryKind === 'xa-end') this.inTrx = true;
      else if (queryKind === 'end') ends = true;
      else if (!this.inTrx) ends = true;
    } else if (type === EventType.XID || type === EventType.XA_PREPARE || type === EventType.TRANSACTION_PAYLOAD || type === EventType.INCIDENT) {
      ends = true;
    }
    if (ends) {
      event.endsTransaction = true;
      this.trxStart = undefined;
      this.inTrx = false;
    }
  }
}

type QueryKind = 'begin' | 'end' | 'xa-end' | 'other' | 'compressed';

function classifySql(sql: string): QueryKind {
  if (BEGIN_RE.test(sql)) return 'begin';
  if (END_RE.test(sql)) return 'end';
  if (XA_END_RE.test(sql)) return 'xa-end';
  return 'other';
}

const FALLBACK_FORMAT: FormatDescription = {
  binlogVersion: 4,
  serverVersion: '',
  flavor: 'mysql',
  createTimestamp: 0,
  headerLength: 19,
  postHeaderLengths: [],
  checksum: 'none',
  hasChecksumField: false,
};

/** buf.readUInt32LE(at) without the argument checks, which cost more than the read: the hot path reads inside the event only. */
function u32(buf: Buffer, at: number): number {
  return (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16)) + buf[at + 3]! * 0x1000000;
}

function u16(buf: Buffer, at: number): number {
  return buf[at]! | (buf[at + 1]! << 8);
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
