// The diff writer: turns byte ranges of binlogs and relay logs into one binlog file that a slave
// applies with the server's own `mysqlbinlog FILE | mysql`. A failover builds three kinds:
//   (1) the dead master's binlogs from the latest slave's Read_Master_Log_Pos to their end,
//   (2) the latest slave's relay logs from the offset mapped from a lagging slave's read position,
//   (3) a slave's own relay logs from its exec position to the end;
// and may chain them (3 + 1, 2 + 1): a transaction cut at the end of one range continues in the next.
//
// Output: the magic, ONE Format_description (the source's own bytes, the "in use" flag cleared and
// its CRC recomputed), then every data event of the ranges copied byte for byte except its
// end_log_pos, set to the event's end in the diff (and its CRC32 recomputed), so that the diff is
// a well-formed binlog for any reader ('keep' leaves the sources' values, as MHA does). Control
// events (Format_description, Rotate, Stop, Previous_gtids, Gtid_list, Binlog_checkpoint,
// heartbeats, a relay log's own events) are never copied from a source.
// The output always ends at the last complete transaction: a truncated last event or a
// transaction left open is cut off and reported, as is a transaction abandoned in the middle
// (MySQL's GTID auto-positioning sending it again, a master that crashed and restarted).
// Ranges start at transaction boundaries, and consecutive ranges must join in master coordinates.
//
// Memory stays flat: sources are streamed, the output is written through to a file (truncated
// back to the last complete transaction when needed), and an event larger than a chunk is
// forwarded as it arrives (its checksum is still verified before the diff is accepted).
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32Range } from './crc32.js';
import type { EventInfo, FormatDescription } from './decode.js';
import { BINLOG_MAGIC, EventType, HEADER_LENGTH, LOG_EVENT_BINLOG_IN_USE_F, LOG_EVENT_RELAY_LOG_F, eventTypeName, isControlEvent } from './event-types.js';
import { BinlogParser, type BinlogEvent, type ParseSummary } from './parser.js';
import { localSource, type ByteSource } from './reader.js';

// ---------------------------------------------------------------------------------------------
// API types

/** One binlog or relay-log file, readable by byte range (local, or over SSH). */
export interface DiffSource {
  /** Names the file in errors and results, e.g. "server1:/var/lib/mysql/mysql-bin.000012". */
  label: string;
  /** The file's own name (mysql-bin.000012): the master coordinate of a binlog range. */
  name: string;
  /** Bytes [start, end) of the file; to its end when `end` is undefined. */
  open(start: number, end?: number): ByteSource;
  /** The file's size, when it can be asked: a start past the end is then an error, not an empty diff. */
  size?(): Promise<number>;
}

export interface DiffRange {
  source: DiffSource;
  /** Offset of the first event to copy: a transaction boundary (4 = the whole file). */
  start: number;
  /** Offset to stop at (an event boundary); default: the end of the file. */
  end?: number;
  /**
   * Where parsing starts (default 0): the events in [scanFrom, start) are read, not copied, to
   * learn the format, the relay log's master coordinate and whether `start` is a transaction
   * boundary. `scanFrom: start` reads only the file's head (its Format_description) and the
   * range itself — use it when the prefix is large and remote — and then the start is checked
   * from the first event alone (its type; in a binlog, its end_log_pos).
   */
  scanFrom?: number;
  /** Relay logs with scanFrom > 0: the master file and end position in force at scanFrom. */
  masterFile?: string;
  masterEnd?: number;
  /** Starting inside a transaction: skip to the next boundary (reported in `dropped`) instead of failing. */
  skipToBoundary?: boolean;
}

export interface DiffOptions {
  /** Verify CRC32 checksums while copying (default true). */
  verifyChecksums?: boolean;
  /**
   * Fail when consecutive ranges do not join in master coordinates (same master file, different
   * positions: events would be missing or applied twice). Default true.
   */
  checkContinuity?: boolean;
  /**
   * 'rewrite' (default): each copied event's end_log_pos is set to its end offset in the diff and
   * its CRC32 recomputed, so the diff is a well-formed binlog for every reader (ha's parser
   * rejects a binlog whose end_log_pos disagree with the offsets). 'keep': the sources' values
   * (master positions) stay, as in MHA's diff files; mysqlbinlog reads and applies those too.
   */
  endLogPos?: 'rewrite' | 'keep';
}

export interface MasterCoordinate {
  file: string;
  position: number;
}

export interface DiffRangeResult {
  label: string;
  kind: 'binlog' | 'relay';
  /** Offset of the first event copied (after a skip to a boundary); `start` when none was. */
  start: number;
  /** Offset after the last event copied from this file (`start` when none was). */
  end: number;
  events: number;
  bytes: number;
  /** Transactions completed by an event of this range. */
  transactions: number;
  /** Control and own events read in the range and not copied. */
  skippedEvents: number;
  /** The master coordinate where the range starts / where its copied part ends (when known). */
  masterStart?: MasterCoordinate;
  masterEnd?: MasterCoordinate;
}

export type DropReason =
  /** The file ends inside an event (a master that crashed mid-write, a copy cut short). */
  | 'truncated-event'
  /** The last range ends inside a transaction (its end never arrived). */
  | 'incomplete-transaction'
  /** A new transaction started before the open one ended (IO thread reconnect, master restart). */
  | 'abandoned-transaction'
  /** The range started inside a transaction and skipToBoundary skipped to the next one. */
  | 'start-inside-transaction';

export interface DiffDrop {
  reason: DropReason;
  /** Where the dropped bytes start: the file's label and offset. */
  file: string;
  position: number;
  /** Bytes and complete events of the sources left out (a partial event counts in bytes only). */
  bytes: number;
  events: number;
  /** The partial event at the very end, for 'truncated-event'. */
  partialEvent?: { file: string; position: number; have: number; need: number };
  message: string;
}

export interface DiffResult {
  /** The format of the copied events (from the Format_description written at offset 4). */
  format: FormatDescription;
  /** Size of the output file. */
  bytes: number;
  /** Data events copied, and transactions completed. */
  events: number;
  transactions: number;
  firstGtid?: string;
  lastGtid?: string;
  /**
   * The GTIDs of the copied transactions. MariaDB: the last one of each domain ("0-1-56,1-2-9"),
   * what gtid_slave_pos must include once the diff is applied. MySQL: the set ("uuid:3-56").
   */
  gtidSet?: string;
  ranges: DiffRangeResult[];
  /** The master coordinate the diff ends at: a slave that applied it has everything before this. */
  endsAt?: MasterCoordinate;
  /** The source location after the last copied event. */
  lastSource?: { file: string; position: number };
  dropped: DiffDrop[];
  /** Nothing was dropped. */
  complete: boolean;
}

export type DiffErrorCode = 'bad-range' | 'not-event-boundary' | 'start-inside-transaction' | 'format-mismatch' | 'no-format' | 'discontinuous' | 'unsupported';

/** A diff that cannot be made as asked; names the file and offset. Checksum and framing damage is a BinlogCorruptError. */
export class DiffError extends Error {
  readonly code: DiffErrorCode;
  readonly file?: string;
  readonly position?: number;
  constructor(code: DiffErrorCode, message: string, file?: string, position?: number) {
    super(message);
    this.name = 'DiffError';
    this.code = code;
    this.file = file;
    this.position = position;
  }
}

// ---------------------------------------------------------------------------------------------
// Sources (a host's files over SSH: src/ssh/byte-sources.ts)

/** A local binlog or relay log. */
export function localDiffSource(path: string, label = path): DiffSource {
  return {
    label,
    name: basename(path),
    open: (start, end) => (end !== undefined && end <= start ? emptySource() : localSource(path, start, end)),
    size: async () => (await stat(path)).size,
  };
}

async function* emptySource(): AsyncGenerator<Buffer> {
  // nothing
}

/**
 * The ranges of a diff across consecutive files of one series: the first from `start`, the
 * others whole. `first` applies to the first range (scanFrom, masterFile, …); pass the files in
 * order (sortLogFiles for binlogs, the relay-log index order for relay logs).
 */
export function rangesAcross(sources: DiffSource[], start: number, first: Partial<DiffRange> = {}): DiffRange[] {
  return sources.map((source, i) => (i === 0 ? { ...first, source, start } : { source, start: 4 }));
}

// ---------------------------------------------------------------------------------------------
// Output: a file written through a 1 MiB buffer, which can be cut back to an earlier length.

const WRITE_BUFFER = 1 << 20;

class OutputFile {
  length = 0;
  private flushed = 0;
  private buf = Buffer.allocUnsafe(WRITE_BUFFER);
  private used = 0;
  constructor(private readonly fh: FileHandle) {}

  async write(data: Buffer): Promise<void> {
    if (this.used + data.length > this.buf.length) await this.flush();
    if (data.length >= this.buf.length) {
      await this.writeAll(data, this.flushed);
      this.flushed += data.length;
    } else {
      data.copy(this.buf, this.used);
      this.used += data.length;
    }
    this.length += data.length;
  }

  async flush(): Promise<void> {
    if (this.used === 0) return;
    await this.writeAll(this.buf.subarray(0, this.used), this.flushed);
    this.flushed += this.used;
    this.used = 0;
  }

  /** Cut the output back to `length` bytes. */
  async truncate(length: number): Promise<void> {
    if (length >= this.length) return;
    if (length >= this.flushed) {
      this.used = length - this.flushed;
    } else {
      this.used = 0;
      await this.fh.truncate(length);
      this.flushed = length;
    }
    this.length = length;
  }

  private async writeAll(data: Buffer, position: number): Promise<void> {
    let off = 0;
    while (off < data.length) {
      const { bytesWritten } = await this.fh.write(data, off, data.length - off, position + off);
      off += bytesWritten;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Public writers

/**
 * Writes the diff of `ranges` to `path` atomically: a temporary file in the same directory,
 * fsync, rename. On any error (damage, a range that cannot be copied) nothing is left behind.
 */
export async function writeDiffFile(ranges: DiffRange[], path: string, opts: DiffOptions = {}): Promise<DiffResult & { path: string }> {
  return { ...(await writeAtomically(ranges, path, opts)), path };
}

/**
 * Writes the diff of `ranges` to a stream, with its backpressure. Where the diff ends is known
 * only at the end (the last transaction may be incomplete), and bytes given to a stream cannot be
 * taken back, so the diff is staged in a temporary file (opts.tmpDir, default the OS's) and
 * streamed once it is final. `out` is ended unless `end: false`.
 */
export async function writeDiff(ranges: DiffRange[], out: Writable, opts: DiffOptions & { tmpDir?: string; end?: boolean } = {}): Promise<DiffResult> {
  const dir = await mkdtemp(join(opts.tmpDir ?? tmpdir(), 'ha-diff-'));
  try {
    const file = join(dir, 'diff.binlog');
    const result = await writeAtomically(ranges, file, opts);
    await pipeline(createReadStream(file, { highWaterMark: WRITE_BUFFER }), out, { end: opts.end ?? true });
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function writeAtomically(ranges: DiffRange[], path: string, opts: DiffOptions): Promise<DiffResult> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  const fh = await open(tmp, 'wx', 0o600);
  let ok = false;
  try {
    const out = new OutputFile(fh);
    const result = await new DiffWriter(ranges, out, opts).run();
    await out.flush();
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
    ok = true;
    return result;
  } finally {
    if (!ok) {
      await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The engine

/** The head of a file read on its own (scanFrom > 0): bytes of the file's first events. */
const HEAD_BYTES = 64 * 1024;
/**
 * Ranges whose streams are opened while an earlier one is copied (over SSH, a file costs a
 * command's round trip). Few: OpenSSH allows 10 sessions per connection by default.
 */
const PREFETCH = 3;
/** A data event still arriving is forwarded to the output once this much of it is buffered. */
const FORWARD_PARTIAL = 1 << 20;
const TWO32 = 2 ** 32;

interface Fde {
  raw: Buffer;
  format: FormatDescription;
  label: string;
  position: number;
}

interface Coord {
  file: string;
  start: number;
  end: number;
}

/** The transaction being copied: its bytes are in the output but not yet final. */
interface OpenTrx {
  /** Where it starts. */
  file: string;
  position: number;
  gtid?: string;
  /** The last event copied is a GTID event (MySQL's BEGIN that follows belongs to it). */
  afterGtid: boolean;
  gtidInfo?: EventInfo;
}

/** The GTIDs of the copied transactions: per MariaDB domain the last one; per MySQL source the intervals. */
class GtidSet {
  private readonly domains = new Map<number, string>();
  private readonly sources = new Map<string, [bigint, bigint][]>();

  add(info: EventInfo): void {
    if (info.kind !== 'gtid') return;
    if (info.flavor === 'mariadb') {
      this.domains.set(info.domain, info.gtid);
      return;
    }
    if (info.anonymous) return;
    const at = info.gtid.lastIndexOf(':');
    const uuid = info.gtid.slice(0, at);
    const gno = BigInt(info.gtid.slice(at + 1));
    const list = this.sources.get(uuid) ?? [];
    const last = list[list.length - 1];
    if (last && gno === last[1] + 1n) last[1] = gno;
    else list.push([gno, gno]);
    this.sources.set(uuid, list);
  }

  toString(): string | undefined {
    if (this.domains.size)
      return [...this.domains.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([, g]) => g)
        .join(',');
    if (!this.sources.size) return undefined;
    const parts: string[] = [];
    for (const [uuid, list] of this.sources) {
      const merged: [bigint, bigint][] = [];
      for (const iv of [...list].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
        const m = merged[merged.length - 1];
        if (m && iv[0] <= m[1] + 1n) m[1] = iv[1] > m[1] ? iv[1] : m[1];
        else merged.push([iv[0], iv[1]]);
      }
      parts.push(`${uuid}:${merged.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(':')}`);
    }
    return parts.join(',');
  }
}

const GTID_TYPES = new Set<number>([EventType.GTID, EventType.ANONYMOUS_GTID, EventType.MARIADB_GTID, EventType.GTID_TAGGED]);
const BEGIN_RE = /^\s*(BEGIN|START\s+TRANSACTION|XA\s+(START|BEGIN))\b/i;
const INSIDE_RE = /^\s*(COMMIT|ROLLBACK|XA\s+(END|PREPARE|COMMIT|ROLLBACK))\b/i;
/** Events that can open an event group when the log has no GTID events (statement preludes, LOAD DATA). */
const MAY_START = new Set<number>([
  EventType.QUERY,
  EventType.INTVAR,
  EventType.RAND,
  EventType.USER_VAR,
  EventType.BEGIN_LOAD_QUERY,
  EventType.LOAD,
  EventType.NEW_LOAD,
  EventType.CREATE_FILE,
  EventType.INCIDENT,
  EventType.MARIADB_QUERY_COMPRESSED,
]);

/** Whether an event can be the first of a transaction: 'yes' (GTID, BEGIN), 'maybe', or 'no' (rows, XID, COMMIT…). */
function startKind(ev: BinlogEvent): 'yes' | 'maybe' | 'no' {
  if (GTID_TYPES.has(ev.type)) return 'yes';
  const info = ev.info;
  if (info?.kind === 'query' && !info.compressed) {
    if (BEGIN_RE.test(info.sql)) return 'yes';
    if (INSIDE_RE.test(info.sql)) return 'no';
    return 'maybe';
  }
  return MAY_START.has(ev.type) ? 'maybe' : 'no';
}

/** Servers whose every event group starts with a GTID event: MariaDB ≥ 10.0, MySQL ≥ 5.7.6 (Anonymous_gtid). */
function alwaysGtid(format: FormatDescription): boolean {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(format.serverVersion);
  if (!m) return false;
  const [maj, min, pat] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (format.flavor === 'mariadb') return maj >= 10;
  return maj > 5 || (maj === 5 && (min > 7 || (min === 7 && pat >= 6)));
}

function sameFormat(a: FormatDescription, b: FormatDescription): string | undefined {
  if (a.flavor !== b.flavor) return `flavor ${a.flavor} vs ${b.flavor}`;
  if (a.serverVersion !== b.serverVersion) return `server version ${a.serverVersion} vs ${b.serverVersion}`;
  if (a.checksum !== b.checksum) return `checksum ${a.checksum} vs ${b.checksum}`;
  if (a.binlogVersion !== b.binlogVersion) return `binlog version ${a.binlogVersion} vs ${b.binlogVersion}`;
  const pa = a.postHeaderLengths;
  const pb = b.postHeaderLengths;
  if (pa.length !== pb.length || pa.some((v, i) => v !== pb[i])) return 'post-header lengths differ';
  return undefined;
}

/**
 * The Format_description written at offset 4: the source's own bytes, with the "in use" and
 * "relay log" flags cleared, end_log_pos set to its end in the diff, and its CRC recomputed.
 */
function outputFde(raw: Buffer, format: FormatDescription): Buffer {
  const fde = Buffer.from(raw);
  const flags = fde.readUInt16LE(17) & ~LOG_EVENT_BINLOG_IN_USE_F & ~LOG_EVENT_RELAY_LOG_F;
  fde.writeUInt16LE(flags, 17);
  fde.writeUInt32LE(BINLOG_MAGIC.length + fde.length, 13);
  // Checksum-aware servers end every FDE with the algorithm byte and a CRC32 (even with checksums off).
  if (format.hasChecksumField && fde.length >= HEADER_LENGTH + 57 + 5) {
    fde.writeUInt32LE(crc32Range(fde, 0, fde.length - 4), fde.length - 4);
  }
  return fde;
}

interface Head {
  fde?: Fde;
  ownServerId?: number;
  isRelay: boolean;
}

/** Reads a file's first events (up to HEAD_BYTES, and before `before`) for its format and kind. */
async function readHead(source: DiffSource, before: number, verify: boolean): Promise<Head> {
  const parser = new BinlogParser({ file: source.label, keepRaw: true, decode: false, verifyChecksums: verify });
  let first: BinlogEvent | undefined;
  let fde: Fde | undefined;
  for await (const chunk of source.open(0, HEAD_BYTES) as AsyncIterable<Buffer>) {
    for (const ev of parser.push(chunk)) {
      if (ev.type !== EventType.FORMAT_DESCRIPTION || ev.position >= before || ev.info?.kind !== 'format') continue;
      first ??= ev;
      fde = { raw: ev.raw!, format: ev.info.format, label: source.label, position: ev.position };
    }
  }
  const summary = parser.finish();
  return { fde, ownServerId: first?.serverId, isRelay: summary.isRelayLog };
}

interface RangePart {
  events: number;
  bytes: number;
  /** Offset after the last event copied from the range, and its master coordinate. */
  end: number;
  masterEnd?: MasterCoordinate;
}

/** A range being copied: what has been read of it and where the copy stands. */
interface RangeReading {
  readonly index: number;
  readonly range: DiffRange;
  readonly label: string;
  /** Offset of the first event to copy. */
  readonly start: number;
  /** The events before `start` are read (scanFrom < start): the parser knows whether `start` is inside a transaction. */
  readonly context: boolean;
  /** The master file the previous relay file ended in (a relay log rotated by size names none). */
  readonly inherited: string | undefined;
  readonly parser: BinlogParser;
  readonly result: DiffRangeResult;
  readonly bytes: ByteWindow;
  readonly copier: EventCopier;
  isRelay: boolean;
  /** The Format_description in force. */
  fde: Fde | undefined;
  /** The range's first data event has been checked. */
  started: boolean;
  /** Skipping to the next transaction boundary (skipToBoundary): what is left out so far. */
  skipping: DiffDrop | undefined;
  /** End of the last complete event. */
  lastEnd: number;
  /** The first event's header has been checked (or needs no check). */
  headerChecked: boolean;
}

/** Bytes read from a range and not yet copied or passed over, in the chunks they came in. */
class ByteWindow {
  private readonly chunks: Buffer[] = [];
  /** Offset of the first byte held. */
  private first: number;
  /** Offset after the last byte read. */
  end: number;
  /** Bytes before it are copied or passed over. */
  cursor: number;

  constructor(from: number) {
    this.first = this.end = this.cursor = from;
  }

  add(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.end += chunk.length;
  }

  /** Done with the bytes before `upTo`. */
  release(upTo: number): void {
    while (this.chunks.length && this.first + this.chunks[0]!.length <= upTo) this.first += this.chunks.shift()!.length;
    if (upTo > this.cursor) this.cursor = upTo;
  }

  /** Bytes [from, to), as views of the chunks that hold them. */
  slices(from: number, to: number): Buffer[] {
    const parts: Buffer[] = [];
    let at = this.first;
    for (const c of this.chunks) {
      const cEnd = at + c.length;
      if (cEnd > from && at < to) parts.push(c.subarray(Math.max(0, from - at), Math.min(c.length, to - at)));
      at = cEnd;
      if (at >= to) break;
    }
    return parts;
  }
}

/**
 * Copies bytes [from, to) of the event that starts at evPos to the output, as they come; with
 * 'rewrite', its end_log_pos is patched on the way and its CRC32 recomputed (the trailer is
 * written when the event ends).
 */
class EventCopier {
  private emitting: { pos: number; end: number; logPos: Buffer; crcEnd: number; crc: number } | undefined;

  constructor(
    private readonly out: OutputFile,
    private readonly bytes: ByteWindow,
    private readonly rewrite: boolean,
    private readonly checksummed: () => boolean,
  ) {}

  async copy(evPos: number, from: number, to: number): Promise<void> {
    if (!this.rewrite) {
      for (const p of this.bytes.slices(from, to)) await this.out.write(p);
      return this.bytes.release(to);
    }
    if (this.emitting?.pos !== evPos) {
      const header = Buffer.concat(this.bytes.slices(evPos, evPos + HEADER_LENGTH));
      const size = header.readUInt32LE(9);
      const logPos = Buffer.alloc(4);
      logPos.writeUInt32LE((this.out.length + size) % TWO32);
      this.emitting = { pos: evPos, end: evPos + size, logPos, crcEnd: evPos + size - (this.checksummed() ? 4 : 0), crc: 0 };
    }
    const e = this.emitting;
    let at = from;
    for (const p of this.bytes.slices(from, to)) {
      let piece = p.subarray(0, Math.max(0, Math.min(p.length, e.crcEnd - at)));
      const patchFrom = e.pos + 13;
      if (at < patchFrom + 4 && at + piece.length > patchFrom) {
        piece = Buffer.from(piece);
        for (let k = 0; k < 4; k++) {
          const i = patchFrom + k - at;
          if (i >= 0 && i < piece.length) piece[i] = e.logPos[k]!;
        }
      }
      if (piece.length) {
        if (e.crcEnd < e.end) e.crc = crc32Range(piece, 0, piece.length, e.crc);
        await this.out.write(piece);
      }
      at += p.length;
    }
    if (to === e.end) {
      if (e.crcEnd < e.end) {
        const trailer = Buffer.alloc(4);
        trailer.writeUInt32LE(e.crc >>> 0);
        await this.out.write(trailer);
      }
      this.emitting = undefined;
    }
    this.bytes.release(to);
  }
}

/** An event's place in the master's binlog: its own offsets in a binlog, the master's in a relay log (when known). */
function masterCoordinateOf(r: RangeReading, ev: BinlogEvent): Coord | undefined {
  if (!r.isRelay) return { file: r.range.source.name, start: ev.position, end: ev.end };
  const file = ev.masterFile ?? r.inherited;
  if (file === undefined || ev.masterEnd === undefined) return undefined;
  return { file, start: ev.masterEnd - ev.size, end: ev.masterEnd };
}

/**
 * Without the events before `start`, its header must hold up: in a server's own binlog an event's
 * end_log_pos is its end offset. Checked as soon as the header is in, so that a wrong offset is
 * not read as a huge event cut by the end of the file.
 */
function checkStartHeader(r: RangeReading): void {
  const { label, start } = r;
  r.headerChecked = true;
  const header = Buffer.concat(r.bytes.slices(start, start + HEADER_LENGTH));
  const type = header[4]!;
  const size = header.readUInt32LE(9);
  const logPos = header.readUInt32LE(13);
  if (eventTypeName(type).startsWith('Unknown') || logPos !== (start + size) % TWO32) {
    throw new DiffError(
      'not-event-boundary',
      `${label}: offset ${start} does not look like the start of an event (type ${type}, size ${size}, end_log_pos ${logPos}; ` +
        `a binlog event there would end at ${(start + size) % TWO32})`,
      label,
      start,
    );
  }
}

/** Skipping to the next transaction boundary: true while the event is left out (a new transaction ends the skip). */
function skippedToBoundary(r: RangeReading, ev: BinlogEvent, kind: 'yes' | 'maybe' | 'no'): boolean {
  const skipping = r.skipping!;
  if (kind === 'yes') {
    r.skipping = undefined;
    r.result.start = ev.position;
    return false;
  }
  skipping.bytes += ev.size;
  skipping.events++;
  if (ev.endsTransaction) {
    r.skipping = undefined;
    r.result.start = ev.end;
  }
  r.bytes.release(ev.end);
  return true;
}

class DiffWriter {
  private readonly verify: boolean;
  private readonly checkContinuity: boolean;
  private readonly rewrite: boolean;
  private format: Fde | undefined;
  private checkedFde: Fde | undefined;
  /** Output length after the last complete transaction (the header at first). */
  private safeLength = 0;
  private open: (OpenTrx & { parts: Map<number, RangePart> }) | undefined;
  private events = 0;
  private transactions = 0;
  private firstGtid: string | undefined;
  private lastGtid: string | undefined;
  private readonly gtids = new GtidSet();
  private readonly results: DiffRangeResult[] = [];
  private readonly dropped: DiffDrop[] = [];
  /** Master coordinate after the last event copied (open transaction included) / after the last complete transaction. */
  private lastCoord: MasterCoordinate | undefined;
  private safeCoord: MasterCoordinate | undefined;
  private safeSource: { file: string; position: number } | undefined;
  /** The master coordinate a relay range ended at, for the next relay file. */
  private carry: { masterFile?: string; masterEnd?: number } | undefined;
  /** Streams of the next ranges, opened ahead: over SSH each file costs a command's round trip. */
  private readonly prefetched = new Map<number, ByteSource>();

  private prefetch(from: number): void {
    for (let j = from; j < Math.min(this.ranges.length, from + PREFETCH); j++) {
      if (this.prefetched.has(j)) continue;
      const r = this.ranges[j]!;
      const stream = r.source.open(r.scanFrom ?? 0, r.end);
      // Its error, if any, is thrown when it is read; until then it must not go unhandled.
      if (stream instanceof Readable) stream.on('error', () => undefined);
      this.prefetched.set(j, stream);
    }
  }

  constructor(
    private readonly ranges: DiffRange[],
    private readonly out: OutputFile,
    opts: DiffOptions,
  ) {
    this.verify = opts.verifyChecksums ?? true;
    this.checkContinuity = opts.checkContinuity ?? true;
    this.rewrite = (opts.endLogPos ?? 'rewrite') === 'rewrite';
  }

  async run(): Promise<DiffResult> {
    if (this.ranges.length === 0) throw new DiffError('bad-range', 'a diff needs at least one range');
    for (const [i, r] of this.ranges.entries()) {
      const scanFrom = r.scanFrom ?? 0;
      const bad = (why: string) => new DiffError('bad-range', `range ${i + 1} (${r.source.label}): ${why}`, r.source.label, r.start);
      if (!Number.isSafeInteger(r.start) || r.start < 4) throw bad(`start ${r.start} is before the first event (offset 4)`);
      if (r.end !== undefined && (!Number.isSafeInteger(r.end) || r.end < r.start)) throw bad(`end ${r.end} is before start ${r.start}`);
      if (!Number.isSafeInteger(scanFrom) || scanFrom < 0 || scanFrom > r.start || (scanFrom > 0 && scanFrom < 4)) {
        throw bad(`scanFrom ${scanFrom} must be 0 or an event boundary between 4 and start ${r.start}`);
      }
    }
    try {
      for (const [i, r] of this.ranges.entries()) await this.copyRange(i, r);
    } finally {
      for (const s of this.prefetched.values()) if (s instanceof Readable) s.destroy();
      this.prefetched.clear();
    }
    if (this.open) await this.drop('incomplete-transaction', 'the diff ends inside it: its end never arrived');
    if (!this.format) {
      const label = this.ranges[0]!.source.label;
      throw new DiffError('no-format', `${label}: no Format_description found`, label);
    }
    return {
      format: this.format.format,
      bytes: this.out.length,
      events: this.events,
      transactions: this.transactions,
      firstGtid: this.firstGtid,
      lastGtid: this.lastGtid,
      gtidSet: this.gtids.toString(),
      ranges: this.results,
      endsAt: this.safeCoord ?? this.results[0]?.masterStart, // nothing complete copied: it ends where it starts
      lastSource: this.safeSource,
      dropped: this.dropped,
      complete: this.dropped.length === 0,
    };
  }

  /** The first format met becomes the diff's: the magic and its Format_description start the output. */
  private async setFormat(fde: Fde): Promise<void> {
    this.format = this.checkedFde = fde;
    await this.out.write(BINLOG_MAGIC);
    await this.out.write(outputFde(fde.raw, fde.format));
    this.safeLength = this.out.length;
  }

  /** Every copied event must be described by the diff's one Format_description. */
  private async checkFormat(fde: Fde | undefined, label: string, position: number): Promise<void> {
    if (fde === this.checkedFde && fde) return;
    if (!fde) throw new DiffError('no-format', `${label}: no Format_description before the event at offset ${position}`, label, position);
    if (!this.format) return this.setFormat(fde);
    const diff = sameFormat(this.format.format, fde.format);
    if (diff) {
      throw new DiffError(
        'format-mismatch',
        `${label} at offset ${position}: the events are described by the Format_description at ${fde.label}:${fde.position} ` +
          `(${fde.format.serverVersion}, checksum ${fde.format.checksum}), which differs from the diff's ` +
          `(${this.format.label}:${this.format.position}, ${this.format.format.serverVersion}, checksum ${this.format.format.checksum}): ${diff}. ` +
          'One diff file has one format: write separate diffs.',
        label,
        position,
      );
    }
    this.checkedFde = fde;
  }

  /** Copies one range: its data events go to the output, transaction by transaction. */
  private async copyRange(index: number, range: DiffRange): Promise<void> {
    const r = await this.openRange(index, range);
    const stream = this.prefetched.get(index) ?? range.source.open(range.scanFrom ?? 0, range.end);
    this.prefetched.delete(index);
    this.prefetch(index + 1);
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      r.bytes.add(chunk);
      if (!r.headerChecked && r.bytes.end - r.start >= HEADER_LENGTH) checkStartHeader(r);
      const events = r.parser.push(chunk);
      for (const ev of events) await this.readEvent(r, ev);
      await this.passArrivingEvent(r);
    }
    await this.endRange(r, r.parser.finish());
  }

  /**
   * Before reading a range: its start is inside the file, and the parser knows the format and, for
   * a relay log read from the middle, the master coordinate in force there.
   */
  private async openRange(index: number, range: DiffRange): Promise<RangeReading> {
    const { source, start } = range;
    const label = source.label;
    const scanFrom = range.scanFrom ?? 0;
    if (source.size && start > 4) {
      const size = await source.size();
      if (start > size) throw new DiffError('bad-range', `${label}: start ${start} is past the end of the file (${size} bytes)`, label, start);
    }
    // A relay log rotated by max_relay_log_size starts without a Rotate naming the master file:
    // its events come from the master file the previous relay file ended in.
    const inherited = range.masterFile === undefined ? this.carry?.masterFile : undefined;
    let head: Head = { isRelay: false };
    let masterFile = range.masterFile;
    let masterEnd = range.masterEnd ?? this.carry?.masterEnd; // also the base for 64-bit master positions
    if (scanFrom > 0) {
      head = await readHead(source, scanFrom, this.verify);
      if (!head.fde) throw new DiffError('no-format', `${label}: no Format_description in the head of the file`, label, 0);
      if (head.isRelay && masterFile === undefined) {
        if (inherited === undefined || this.carry?.masterEnd === undefined) {
          throw new DiffError(
            'bad-range',
            `${label} is a relay log: a range that starts reading at offset ${scanFrom} needs the master file and position in force there ` +
              "(masterFile/masterEnd: Relay_Master_Log_File/Exec_Master_Log_Pos at the exec position, or the mapper's), or scanFrom 0",
            label,
            scanFrom,
          );
        }
        masterFile = inherited;
        masterEnd = this.carry.masterEnd;
      }
    }
    const parser = new BinlogParser({
      file: label,
      startPosition: scanFrom,
      format: head.fde?.format,
      verifyChecksums: this.verify,
      ownServerId: head.ownServerId,
      masterFile,
      masterEnd,
    });
    const isRelay = head.isRelay || masterFile !== undefined;
    const result: DiffRangeResult = { label, kind: isRelay ? 'relay' : 'binlog', start, end: start, events: 0, bytes: 0, transactions: 0, skippedEvents: 0 };
    this.results.push(result);
    const bytes = new ByteWindow(scanFrom);
    // Parsing from an earlier boundary tells whether `start` is inside a transaction.
    const context = scanFrom < start;
    return {
      index,
      range,
      label,
      start,
      context,
      inherited,
      parser,
      result,
      bytes,
      copier: new EventCopier(this.out, bytes, this.rewrite, () => this.format!.format.checksum === 'crc32'),
      isRelay,
      fde: head.fde,
      started: false,
      skipping: undefined,
      lastEnd: scanFrom === 0 ? 4 : scanFrom,
      // Without the events before `start` (and in a binlog), the first event's header must hold up.
      headerChecked: context || isRelay,
    };
  }

  /** One complete event of the range: read past, skipped, or copied into the open transaction. */
  private async readEvent(r: RangeReading, ev: BinlogEvent): Promise<void> {
    const { label, start } = r;
    r.lastEnd = ev.end;
    // (the parser marks every Rotate own or not; other events only once it knows the file is a relay log)
    if (ev.masterFile !== undefined || (ev.own !== undefined && ev.type !== EventType.ROTATE)) r.isRelay = true;
    if (ev.type === EventType.MARIADB_START_ENCRYPTION) {
      throw new DiffError('unsupported', `${label} at offset ${ev.position}: the log is encrypted (Start_encryption event); ha cannot copy encrypted binlogs`, label, ev.position);
    }
    if (ev.type === EventType.FORMAT_DESCRIPTION && ev.info?.kind === 'format') {
      r.fde = { raw: Buffer.concat(r.bytes.slices(ev.position, ev.end)), format: ev.info.format, label, position: ev.position };
    }
    if (ev.end <= start) return r.bytes.release(ev.end); // the prefix: read, not copied
    if (ev.position < start) {
      throw new DiffError('not-event-boundary', `${label}: offset ${start} is not an event boundary (an event runs from ${ev.position} to ${ev.end})`, label, start);
    }
    if (isControlEvent(ev.type)) {
      r.result.skippedEvents++;
      return r.bytes.release(ev.end);
    }
    await this.checkFormat(r.fde, label, ev.position);
    // MySQL writes GTID then BEGIN: that BEGIN does not start another transaction.
    const kind = this.open?.afterGtid && !GTID_TYPES.has(ev.type) ? 'no' : startKind(ev);
    const coord = masterCoordinateOf(r, ev);
    if (!r.started) {
      r.started = true;
      r.result.kind = r.isRelay ? 'relay' : 'binlog';
      if (coord) r.result.masterStart = { file: coord.file, position: coord.start };
      r.skipping = await this.beginRange(r.range, ev, kind, coord, r.context, r.fde!.format);
      if (r.skipping) this.dropped.push(r.skipping);
    }
    if (r.skipping && skippedToBoundary(r, ev, kind)) return;
    await this.copyEvent(r, ev, kind, coord);
  }

  /** A data event goes into the open transaction (a new one when it starts one); a last event commits it. */
  private async copyEvent(r: RangeReading, ev: BinlogEvent, kind: 'yes' | 'maybe' | 'no', coord: Coord | undefined): Promise<void> {
    if (this.open && kind === 'yes') {
      // A transaction sent again (MySQL GTID auto-positioning after a reconnect) or a master that restarted after a crash.
      await this.drop('abandoned-transaction', `a new transaction starts at ${r.label}:${ev.position} before it ended`);
    }
    this.open ??= { file: r.label, position: ev.position, parts: new Map(), afterGtid: false };
    const t = this.open;
    const part = t.parts.get(r.index) ?? { events: 0, bytes: 0, end: r.start };
    part.events++;
    part.bytes += ev.size;
    part.end = ev.end;
    t.parts.set(r.index, part);
    if (ev.info?.kind === 'gtid' && !(ev.info.flavor === 'mysql' && ev.info.anonymous)) {
      t.gtid = ev.info.gtid;
      t.gtidInfo = ev.info;
    }
    t.afterGtid = GTID_TYPES.has(ev.type);
    await r.copier.copy(ev.position, Math.max(r.bytes.cursor, ev.position), ev.end);
    if (coord) {
      this.lastCoord = { file: coord.file, position: coord.end };
      part.masterEnd = this.lastCoord;
    }
    if (ev.endsTransaction) {
      this.commit(t);
      this.safeSource = { file: r.label, position: ev.end };
    }
  }

  /**
   * The event still arriving, once more than FORWARD_PARTIAL of it is buffered. A big data event
   * of the copied part is forwarded as it comes (its checksum is checked when it completes, and a
   * cut one is taken back); one of the prefix is passed over; anything else waits, small, in the window.
   */
  private async passArrivingEvent(r: RangeReading): Promise<void> {
    const { bytes, lastEnd, start } = r;
    if (bytes.end - lastEnd <= FORWARD_PARTIAL) return;
    if (bytes.cursor > lastEnd) {
      // Already being forwarded (or passed over): go on.
      if (lastEnd >= start) await r.copier.copy(lastEnd, bytes.cursor, bytes.end);
      else bytes.release(bytes.end);
      return;
    }
    const type = bytes.slices(lastEnd + 4, lastEnd + 5)[0]?.[0];
    if (type === undefined || isControlEvent(type)) return;
    if (lastEnd < start) bytes.release(bytes.end);
    else if (r.started && !r.skipping && this.open && !GTID_TYPES.has(type)) await r.copier.copy(lastEnd, lastEnd, bytes.end);
  }

  /** The range read to its end: a cut last event, a start past the end, and what the next range inherits. */
  private async endRange(r: RangeReading, summary: ParseSummary): Promise<void> {
    const { range, label, start, result } = r;
    if (summary.isRelayLog) r.isRelay = true;
    if (summary.truncated) {
      await this.cutTruncatedEvent(r, summary.truncated);
    } else if (summary.endPosition < start) {
      throw new DiffError('bad-range', `${label}: start ${start} is past the end of the file (${summary.endPosition} bytes)`, label, start);
    }
    const isRelay = r.isRelay;
    if (!r.started) {
      // Nothing copied from this range: it still has a format and a master coordinate (where it starts).
      if (!this.format && r.fde) await this.setFormat(r.fde);
      result.kind = isRelay ? 'relay' : 'binlog';
      const file = summary.masterFile ?? r.inherited;
      if (isRelay && file !== undefined && summary.masterEnd !== undefined) {
        result.masterStart = { file, position: summary.masterEnd };
      } else if (!isRelay) {
        result.masterStart = { file: range.source.name, position: Math.max(start, summary.endPosition) }; // after the control events passed over
      }
    }
    // Nothing complete copied yet: the diff "ends" where it starts.
    if (!this.open && !this.safeCoord && result.masterStart) this.safeCoord = this.lastCoord = result.masterStart;
    this.carry = isRelay ? { masterFile: summary.masterFile ?? r.inherited, masterEnd: summary.masterEnd } : undefined;
  }

  /** The range ends inside an event: an error where the range was asked to end, else the event (and its transaction) left out. */
  private async cutTruncatedEvent(r: RangeReading, tr: NonNullable<ParseSummary['truncated']>): Promise<void> {
    const { range, label, start } = r;
    if (range.end !== undefined && tr.position + tr.have === range.end) {
      throw new DiffError('not-event-boundary', `${label}: end ${range.end} is not an event boundary (the event at offset ${tr.position} is ${tr.need} bytes)`, label, range.end);
    }
    if (tr.position < start) {
      throw new DiffError(
        'not-event-boundary',
        `${label}: the file ends at offset ${tr.position + tr.have}, inside the event at ${tr.position}, before start ${start}`,
        label,
        start,
      );
    }
    const partial = { file: label, position: tr.position, have: tr.have, need: tr.need };
    const cut = `${label} ends inside the event at offset ${tr.position} (${tr.have} of its ${tr.need} bytes)`;
    if (this.open) {
      await this.drop('truncated-event', cut, partial);
    } else {
      await this.out.truncate(this.safeLength); // bytes of the partial event forwarded as they came
      this.dropped.push({ reason: 'truncated-event', file: label, position: tr.position, bytes: tr.have, events: 0, partialEvent: partial, message: `${cut}; left out` });
    }
  }

  /**
   * The range's first data event: is it the start of a transaction, or the rest of the one the
   * previous range left open? Checks that ranges join. Returns the skip record when the range
   * starts inside a transaction and may skip to the next boundary.
   */
  private async beginRange(
    range: DiffRange,
    ev: BinlogEvent,
    kind: 'yes' | 'maybe' | 'no',
    coord: Coord | undefined,
    context: boolean,
    format: FormatDescription,
  ): Promise<DiffDrop | undefined> {
    const label = range.source.label;
    const at = (c: { file: string; position: number }) => `master ${c.file}:${c.position}`;
    if (this.open) {
      const last = this.lastCoord;
      const known = coord !== undefined && last !== undefined;
      const joins = known && coord.file === last.file && coord.start === last.position;
      if (kind === 'no' || (kind === 'maybe' && (joins || (!known && alwaysGtid(format))))) {
        if (known && !joins && this.checkContinuity) {
          throw new DiffError(
            'discontinuous',
            `${label} at offset ${ev.position}: the range goes on with a transaction at master ${coord.file}:${coord.start}, ` +
              `but the previous range stopped inside a transaction at ${at(last)}`,
            label,
            ev.position,
          );
        }
        return undefined; // the open transaction goes on here
      }
      if (kind === 'maybe' && !known) {
        throw new DiffError(
          'discontinuous',
          `${label} at offset ${ev.position}: cannot tell whether the range goes on with the transaction the previous range left open ` +
            '(no master coordinates to compare, and the log has no GTID events)',
          label,
          ev.position,
        );
      }
      await this.drop('abandoned-transaction', `the next range (${label}) starts with a new transaction at offset ${ev.position}`);
    } else {
      // With the events before `start` read, the parser knows; without, the event's type tells:
      // where every group starts with a GTID event, anything else is inside one.
      const inside = context
        ? kind === 'no' || (!GTID_TYPES.has(ev.type) && ev.transactionStart !== undefined && ev.transactionStart < ev.position)
        : alwaysGtid(format)
          ? !GTID_TYPES.has(ev.type)
          : kind === 'no';
      if (inside) {
        const where = context && ev.transactionStart !== undefined && ev.transactionStart < ev.position ? `, which starts at offset ${ev.transactionStart}` : '';
        if (!range.skipToBoundary) {
          throw new DiffError(
            'start-inside-transaction',
            `${label}: offset ${range.start} is inside a transaction${where} (the event there is ${eventName(ev)}): ` +
              'a diff must start at a transaction boundary (or be asked to skip to the next one)',
            label,
            range.start,
          );
        }
        return {
          reason: 'start-inside-transaction',
          file: label,
          position: ev.position,
          bytes: 0,
          events: 0,
          message: `${label}: offset ${range.start} is inside a transaction${where}; skipped to the next transaction boundary`,
        };
      }
    }
    const prev = this.safeCoord;
    if (coord && prev && this.checkContinuity && coord.file === prev.file && coord.start !== prev.position) {
      throw new DiffError(
        'discontinuous',
        `${label} at offset ${ev.position}: the range starts at master ${coord.file}:${coord.start}, but the diff so far ends at ${at(prev)}: ` +
          `events would be ${coord.start > prev.position ? 'missing' : 'applied twice'}`,
        label,
        ev.position,
      );
    }
    return undefined;
  }

  /** A transaction completed: its bytes become final. */
  private commit(t: OpenTrx & { parts: Map<number, RangePart> }): void {
    for (const [i, part] of t.parts) {
      const r = this.results[i]!;
      r.events += part.events;
      r.bytes += part.bytes;
      r.end = part.end;
      if (part.masterEnd) r.masterEnd = part.masterEnd;
      this.events += part.events;
    }
    this.results[[...t.parts.keys()].pop()!]!.transactions++;
    this.transactions++;
    if (t.gtid) {
      this.firstGtid ??= t.gtid;
      this.lastGtid = t.gtid;
    }
    if (t.gtidInfo) this.gtids.add(t.gtidInfo);
    this.safeLength = this.out.length;
    this.safeCoord = this.lastCoord;
    this.open = undefined;
  }

  /** Leaves the open transaction out: the output is cut back to the last complete transaction. */
  private async drop(reason: DropReason, why: string, partial?: { file: string; position: number; have: number; need: number }): Promise<void> {
    const t = this.open;
    await this.out.truncate(this.safeLength);
    this.lastCoord = this.safeCoord;
    this.open = undefined;
    let bytes = partial?.have ?? 0;
    let events = 0;
    for (const n of t?.parts.values() ?? []) {
      bytes += n.bytes;
      events += n.events;
    }
    this.dropped.push({
      reason,
      file: t?.file ?? partial?.file ?? '',
      position: t?.position ?? partial?.position ?? 0,
      bytes,
      events,
      partialEvent: partial,
      message: t ? `the transaction at ${t.file}:${t.position} (${events} events, ${bytes} bytes${t.gtid ? `, GTID ${t.gtid}` : ''}) is left out: ${why}` : why,
    });
  }
}

function eventName(ev: BinlogEvent): string {
  const info = ev.info;
  const name = eventTypeName(ev.type);
  return info?.kind === 'query' ? `${name} "${info.sql.slice(0, 40)}"` : name;
}
