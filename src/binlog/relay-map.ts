// Relay-log position mapping: where, in a slave's relay logs, does the first master event after a
// master coordinate (file F, position P) start? A failover without GTID needs it to give a lagging
// slave what it has not received: the lagging slave's (Master_Log_File, Read_Master_Log_Pos) is
// mapped into the latest slave's relay logs, and the diff starts there.
//
// What the relay logs hold, and how it is read (MariaDB 10.x and MySQL 5.x–8.x alike):
//   - The slave's own events (its FDE, MySQL's Previous_gtids, the Rotate to the next relay file,
//     Stop) carry LOG_EVENT_RELAY_LOG_F (older servers: the slave's server_id); they are skipped.
//   - Master events are copied verbatim: end_log_pos is the event's END in the master's binlog, so
//     its master START is end_log_pos - size. (Not "the previous event's end": events the IO thread
//     or the master leaves out — an unrequested Annotate_rows, ignored server ids — leave gaps, and
//     end - size stays right across them.)
//   - An artificial Rotate (LOG_EVENT_ARTIFICIAL_F, end_log_pos 0) starts a "segment": the dump
//     thread sends one at every (re)connect and at every new master binlog. File/position
//     replication resumes exactly at the read position (even inside a transaction); MySQL GTID
//     auto-positioning goes back to the start of a partly received transaction and sends it again
//     (the earlier partial copy is dead: a data event BEHIND the stream's position supersedes
//     everything from it on); MariaDB GTID resends the file's header events, then skips what it
//     already has and writes a Rotate of its own (master's server_id, no flags, same file name) to
//     the read position.
//   - The master's real Rotate (end_log_pos != 0, a new file name) ends its binlog; its FDE with
//     end_log_pos != 0 is the master's own event at position 4.
//   - The IO thread rotates its relay log before writing any Rotate it receives, so the master file
//     changes only at the head of a relay file. A relay file rotated by size (or FLUSH RELAY LOGS)
//     starts with no Rotate at all and continues the previous file — even inside a transaction.
//
// Decisions (what the answer means):
//   - The answer is the first master event whose master START is at or after P — data or control
//     (the master's FDE at 4, its Rotate at the end of a binlog) — in the copy the SQL thread uses
//     (the complete copy of a re-sent transaction, never the dead partial one).
//   - P inside a transaction (the lagging slave's IO thread stopped in it): the answer is still the
//     event that starts at P, so that the lagging slave's own relay-log tail plus this diff make
//     the whole transaction (what MHA applies); `transactionStart` also names the transaction's
//     first event, for a failover that drops the lagging slave's partial copy and applies the
//     transaction whole from here. Both are returned; the caller chooses.
//   - exactBoundary: P is where the answer starts (or the end of the binlog the master rotated
//     away from) and nothing is missing from there to the next transaction. Otherwise the master
//     bytes missing are reported (`gap`), and when nothing of the master's data comes before the
//     answer, the result is `older`: what P needs was purged (or never fetched).
//   - P inside an event is `not-boundary`; P at the end of everything received is `at-end` (with
//     the open transaction if the IO thread stopped inside one); past it, `newer`.
//
// How the mapper stays cheap on gigabytes of relay logs: it reads only the first few KiB of every
// relay file (one round trip over SSH) to learn which master file and position each one starts
// at, then streams only the file(s) that can contain the coordinate, stopping at the event found.
// It reads back one more file only when that event is inside a transaction that started earlier.
// Events are decoded (not just classified) because transactions are tracked across relay files,
// which the parser, one file at a time, cannot do: a relay log rotated by size can start in the
// middle of a transaction.
import { open, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { compareBinlogFiles, parseBinlogName } from './coordinates.js';
import type { FormatDescription } from './decode.js';
import { EventType, LOG_EVENT_ARTIFICIAL_F, LOG_EVENT_RELAY_LOG_F, eventTypeName, isControlEvent } from './event-types.js';
import { BinlogCorruptError, BinlogParser, type BinlogEvent } from './parser.js';
import { reusedBufferSource } from './reader.js';

// ---------------------------------------------------------------------------------------------
// Sources: local files here; a host's over SSH in src/ssh/byte-sources.ts

/** Where relay logs are read from. Paths are the host's own. */
export interface RelayLogSource {
  /** For messages: "local" or the SSH host. */
  readonly label: string;
  /** Size of a file in bytes. */
  size(file: string): Promise<number>;
  /**
   * Bytes [start, end) of a file (to its end when end is omitted), in chunks. Stopping early is
   * cheap. A chunk may be overwritten once the next one is asked for: copy what you keep.
   */
  read(file: string, start: number, end?: number): AsyncIterable<Buffer>;
  /** Optional: size and first `headBytes` bytes of many files in one round trip (size -1: missing). */
  probe?(files: string[], headBytes: number): Promise<{ size: number; head: Buffer }[]>;
}

/** Relay logs on this machine. */
export function localRelaySource(): RelayLogSource {
  return {
    label: 'local',
    async size(file) {
      return (await stat(file)).size;
    },
    read(file, start, end) {
      if (end !== undefined && end <= start) return emptyIterable();
      // Two reused buffers, a read in flight while the parser works: flat memory however far the scan goes.
      return reusedBufferSource(file, start, end);
    },
    async probe(files, headBytes) {
      return Promise.all(
        files.map(async (file) => {
          let fh;
          try {
            fh = await open(file, 'r');
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { size: -1, head: Buffer.alloc(0) };
            throw err;
          }
          try {
            const size = (await fh.stat()).size;
            const head = Buffer.alloc(Math.min(size, headBytes));
            const { bytesRead } = await fh.read(head, 0, head.length, 0);
            return { size, head: head.subarray(0, bytesRead) };
          } finally {
            await fh.close();
          }
        }),
      );
    },
  };
}

async function* emptyIterable(): AsyncGenerator<Buffer> {
  /* nothing */
}

/** Bytes [0, end) of a file (all of it without `end`), copied: a source may reuse its chunks. */
async function readBytes(source: RelayLogSource, file: string, end?: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of source.read(file, 0, end)) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------
// The relay-log index

/**
 * Where an index entry points. The server writes the path it opened: absolute when relay_log is
 * absolute, otherwise relative to its datadir ("./relay-bin.000002"). Relative entries resolve
 * against `datadir` when given, else (like src/ssh/probe.ts) to the file of that name beside the
 * index, where relay logs live unless relay_log_index was moved apart from relay_log.
 */
export function resolveIndexEntry(indexPath: string, entry: string, datadir?: string): string {
  if (posix.isAbsolute(entry)) return posix.normalize(entry);
  if (datadir) return posix.normalize(posix.join(datadir, entry));
  return posix.join(posix.dirname(indexPath), posix.basename(entry));
}

/** The relay logs an index lists, oldest first, as paths on the source's host. */
export async function readRelayLogIndex(source: RelayLogSource, indexPath: string, opts: { datadir?: string } = {}): Promise<string[]> {
  const text = (await readBytes(source, indexPath)).toString('utf8');
  const files = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((l) => resolveIndexEntry(indexPath, l, opts.datadir));
  if (files.length === 0) throw new RelayMapError(`${indexPath} lists no relay log`);
  return files;
}

// ---------------------------------------------------------------------------------------------
// Results

export interface MasterCoordinate {
  file: string;
  position: number;
}

/** An event's place in the relay logs and in the master's binlog. */
export interface RelayLocation {
  relayFile: string;
  offset: number;
  masterFile: string;
  /** Where the event starts in the master's binlog. */
  masterPosition: number;
}

export interface RelayEventRef extends RelayLocation {
  type: string;
  typeCode: number;
  size: number;
  /** Where the event ends in the master's binlog. */
  masterEnd: number;
}

/** What a parser needs to start reading the relay file at `startPosition` (ParserOptions). */
export interface ResumeState {
  startPosition: number;
  format: FormatDescription;
  masterFile: string;
  masterEnd: number;
  ownServerId?: number;
}

export interface RelayMapStats {
  /** Relay files in the set. */
  files: number;
  /** Relay files read past their head. */
  filesScanned: number;
  /** Bytes read, heads included. */
  bytesRead: number;
  durationMs: number;
}

interface ResultCommon {
  stats: RelayMapStats;
  /** Things worth knowing that do not change the answer (e.g. the slave's read position disagrees). */
  notes: string[];
}

/** The first event after the coordinate: where a diff of these relay logs starts. */
export interface RelayFound extends ResultCommon {
  kind: 'found';
  relayFile: string;
  offset: number;
  masterFile: string;
  /** Where that event starts in the master's binlog. */
  masterPosition: number;
  /** The coordinate is exactly where that event starts (or the end of the binlog before it). */
  exactBoundary: boolean;
  event: RelayEventRef;
  /**
   * The coordinate is inside a transaction (the lagging slave's IO thread stopped in its middle):
   * `offset` is the event after it; `transactionStart` is the transaction's first event.
   */
  insideTransaction: boolean;
  /** Undefined when the transaction started in a relay log no longer kept. */
  transactionStart?: RelayLocation;
  /** Not an exact boundary: master bytes from `from` to `to` (which hold the coordinate) are not in these relay logs. */
  gap?: { from: MasterCoordinate; to: MasterCoordinate };
  /** Parser options to read the relay file from `offset`. */
  resume: ResumeState;
}

/** The coordinate is the end of everything this slave received: nothing to apply. */
export interface RelayAtEnd extends ResultCommon {
  kind: 'at-end';
  relayFile: string;
  /** End of the last complete event in the last relay log. */
  offset: number;
  masterFile: string;
  masterPosition: number;
  exactBoundary: boolean;
  /** The relay logs end inside a transaction that starts here (the IO thread stopped in it). */
  openTransaction?: RelayLocation;
}

/** The coordinate is before the oldest event the relay logs still have (purged, or never fetched). */
export interface RelayOlder extends ResultCommon {
  kind: 'older';
  oldest: RelayLocation;
}

/** The coordinate is beyond what this slave received. */
export interface RelayNewer extends ResultCommon {
  kind: 'newer';
  received: MasterCoordinate;
  relayFile: string;
  offset: number;
}

/** The coordinate falls inside an event. */
export interface RelayNotBoundary extends ResultCommon {
  kind: 'not-boundary';
  event: RelayEventRef;
}

export type RelayMapResult = RelayFound | RelayAtEnd | RelayOlder | RelayNewer | RelayNotBoundary;

export class RelayMapError extends Error {
  override name = 'RelayMapError';
}

export interface RelayMapOptions {
  /**
   * This slave's own IO-thread position (Master_Log_File, Read_Master_Log_Pos). Used to name the
   * master binlog of relay logs that do not say it (no Rotate anywhere in them: written after
   * FLUSH RELAY LOGS or a size rotation whose predecessors were purged).
   */
  readPosition?: MasterCoordinate;
  /** Read every relay log from the oldest (slow; for checking the fast path). */
  scanAll?: boolean;
  /** Check CRC32 checksums of the events read (default true). */
  verifyChecksums?: boolean;
  /** Bytes read from the head of each relay log (default 4096; more is read when needed). */
  headBytes?: number;
}

// ---------------------------------------------------------------------------------------------
// The relay stream: the master events a sequence of relay-log events stands for

type Coord = { file: string | undefined; position: number };

/** A master event as the relay logs hold it. */
interface MasterEv {
  fileIndex: number;
  offset: number;
  size: number;
  type: number;
  masterFile: string | undefined;
  start: number;
  end: number;
  kind: 'data' | 'control';
  /** Real master Rotate: where the master went on. */
  rotateTo?: { file: string; position: number };
  /** Starts exactly where the previous master event read ended (undefined: nothing read before it). */
  contiguous?: boolean;
  /** Data events: the first event of its transaction. */
  startsGroup: boolean;
  /** Data events: inside a transaction that started before it. */
  inside: boolean;
  /** A BEGIN query: it starts the transaction unless a GTID event came just before it. */
  isBegin?: boolean;
  /** The transaction's first event, when known. */
  groupStart?: MasterEv;
  /** Format in force (for resuming a parser here). */
  format?: FormatDescription;
  ownServerId?: number;
}

type Step = { kind: 'event'; ev: MasterEv; superseded?: Coord } | { kind: 'skip' };

const TWO32 = 2 ** 32;
const BEGIN_RE = /^\s*(BEGIN|START\s+TRANSACTION|XA\s+(START|BEGIN))\b/i;
const END_RE = /^\s*(COMMIT|ROLLBACK|XA\s+(COMMIT|ROLLBACK|PREPARE))\b/i;
const XA_END_RE = /^\s*XA\s+END\b/i;

function isGtidEvent(type: number): boolean {
  return type === EventType.GTID || type === EventType.ANONYMOUS_GTID || type === EventType.GTID_TAGGED || type === EventType.MARIADB_GTID;
}

/**
 * Reads relay-log events in order and says which master event each stands for. State crosses
 * relay files (a file rotated by size continues the previous one).
 */
class RelayStream {
  masterFile: string | undefined;
  /** Master position the stream has reached (end of the last event, or where a marker moved it). */
  cursor: number | undefined;
  private hint = 0;
  /**
   * Where the master events read so far end: the next event is contiguous if it starts here.
   * Unlike `cursor`, only events and the IO thread's record of events it ignored move it.
   */
  private flowEnd: Coord | undefined;
  /** flowEnd when the last transaction (or a control event outside one) ended. */
  private lastBoundary: Coord | undefined;
  private inHeader = false;
  private headerCounts: boolean | undefined;
  private segmentJustStarted = false;
  private group: 'closed' | 'open' | 'unknown';
  private groupStart: MasterEv | undefined;
  private inTrx = false;
  private ownServerId: number | undefined;
  private format: FormatDescription | undefined;
  private fileIndex = -1;

  /** `masterFile`: the binlog in force where reading starts, when known; `hint`: a position near it. */
  constructor(start: { masterFile?: string; hint?: number }) {
    this.masterFile = start.masterFile;
    this.hint = start.hint ?? 0;
    // Reading may start inside a transaction (a relay log rotated by size continues one).
    this.group = 'unknown';
  }

  beginFile(index: number): void {
    this.fileIndex = index;
    this.ownServerId = undefined;
  }

  get groupState(): { state: 'closed' | 'open' | 'unknown'; start?: MasterEv } {
    return { state: this.group, start: this.groupStart };
  }

  /** The full 64-bit master position of a 32-bit end_log_pos, nearest the stream's position. */
  private full(logPos: number): number {
    const base = this.cursor ?? this.hint;
    let end = Math.floor(base / TWO32) * TWO32 + logPos;
    if (end < base - TWO32 / 2) end += TWO32;
    return end;
  }

  /** The next relay-log event: the master event it stands for, or nothing (the slave's own, a marker, a re-sent header). */
  process(e: BinlogEvent): Step {
    if (e.type === EventType.FORMAT_DESCRIPTION && e.info?.kind === 'format') {
      this.format = e.info.format;
      if (this.ownServerId === undefined) {
        this.ownServerId = e.serverId;
        return { kind: 'skip' };
      }
    }
    const artificial = (e.flags & LOG_EVENT_ARTIFICIAL_F) !== 0;
    const own = (e.flags & LOG_EVENT_RELAY_LOG_F) !== 0 || (e.serverId === this.ownServerId && !artificial);
    if (own) return { kind: 'skip' };
    const afterSegmentStart = this.segmentJustStarted;
    this.segmentJustStarted = false;

    if (e.type === EventType.ROTATE && e.info?.kind === 'rotate') return this.rotate(e, e.info, artificial);
    if (e.type === EventType.FORMAT_DESCRIPTION) return this.formatDescription(e, artificial, afterSegmentStart);
    if (artificial) {
      // MariaDB's fake Gtid_list on a GTID connect: its end_log_pos is where the stream resumes.
      if (e.logPos !== 0) {
        const at = this.full(e.logPos);
        this.cursor = this.cursor === undefined ? at : Math.max(this.cursor, at);
      }
      return { kind: 'skip' };
    }
    if (e.logPos === 0) return { kind: 'skip' };
    return isControlEvent(e.type) ? this.controlEvent(e) : this.dataEvent(e);
  }

  /** A Rotate: a new segment (artificial), a position marker, or the master's own (the end of its binlog). */
  private rotate(e: BinlogEvent, r: { nextFile: string; position: number }, artificial: boolean): Step {
    if (artificial) {
      // A (re)connect or a new master binlog: a new segment. A GTID connect names position 4
      // of a file already being read: the stream's position stays where it was.
      if (r.nextFile !== this.masterFile || this.cursor === undefined) this.cursor = r.position;
      else this.cursor = Math.max(this.cursor, r.position);
      this.masterFile = r.nextFile;
      this.hint = this.cursor;
      this.inHeader = true;
      this.headerCounts = undefined;
      this.segmentJustStarted = true;
      return { kind: 'skip' };
    }
    if (e.logPos === 0 || r.nextFile === this.masterFile) {
      // A position marker in the same file: MySQL's record of events its IO thread ignored
      // (server_id 0, end_log_pos 0), or MariaDB's Rotate after skipping events it already had
      // on a GTID reconnect. Only the first says nothing is missing before its position.
      if (e.logPos === 0 && this.flowEnd?.file === r.nextFile && this.flowEnd.position <= r.position) this.flowEnd = { file: r.nextFile, position: r.position };
      this.masterFile = r.nextFile;
      this.cursor = r.position;
      this.hint = r.position;
      return { kind: 'skip' };
    }
    // The master's own Rotate: the last event of its binlog.
    const end = this.full(e.logPos);
    const ev = this.master(e, 'control', end);
    ev.rotateTo = { file: r.nextFile, position: r.position };
    this.flowEnd = { file: r.nextFile, position: r.position };
    this.masterFile = r.nextFile;
    this.cursor = r.position;
    this.hint = r.position;
    this.inHeader = false;
    // A transaction never spans binlogs.
    this.closeGroup();
    this.lastBoundary = this.flowEnd;
    return { kind: 'event', ev };
  }

  /** A Format_description: the master's own at position 4 of its binlog, or a description only. */
  private formatDescription(e: BinlogEvent, artificial: boolean, afterSegmentStart: boolean): Step {
    if (e.logPos !== 0 && !artificial) {
      // The master's own FDE, at position 4 of its binlog.
      if (this.inHeader) this.headerCounts = true;
      const end = this.full(e.logPos);
      if (this.cursor !== undefined && end - e.size < this.cursor) return { kind: 'skip' }; // received before
      // A new binlog (the master restarted): whatever transaction was open is rolled back.
      this.closeGroup();
      const ev = this.master(e, 'control', end);
      this.cursor = end;
      this.lastBoundary = this.flowEnd;
      return { kind: 'event', ev };
    }
    // A description only. After a file/position connect mid-file (no flags) what follows is the
    // stream itself; after a MariaDB GTID connect (artificial) the master first re-sends the
    // file's header events, which are not. (A relay log rotated by size starts with one too,
    // artificial, but not right after a segment's Rotate.)
    if (afterSegmentStart) this.headerCounts = !artificial;
    return { kind: 'skip' };
  }

  /** The master's other control events (Gtid_list, Binlog_checkpoint, Stop …) unless received before. */
  private controlEvent(e: BinlogEvent): Step {
    const end = this.full(e.logPos);
    const start = end - e.size;
    // Header events re-sent after a GTID connect (no real FDE before them) are not the stream.
    if (this.inHeader && this.headerCounts === false) return { kind: 'skip' };
    if (this.cursor !== undefined && start < this.cursor) return { kind: 'skip' };
    const ev = this.master(e, 'control', end);
    this.cursor = end;
    if (this.group === 'closed') this.lastBoundary = this.flowEnd;
    return { kind: 'event', ev };
  }

  /** A data event; one behind the stream's position starts a re-sent transaction. */
  private dataEvent(e: BinlogEvent): Step {
    const end = this.full(e.logPos);
    const start = end - e.size;
    let superseded: Coord | undefined;
    if (this.cursor !== undefined && start < this.cursor) {
      // Behind the stream: the master re-sends a transaction (GTID auto-positioning after a
      // reconnect); the partial copy before is dead from here on.
      superseded = { file: this.masterFile, position: start };
      // What survives ends where the last complete transaction (or control event) before it ended.
      const b = this.lastBoundary;
      this.flowEnd = b && b.file === this.masterFile && b.position <= start ? b : undefined;
      this.closeGroup();
    }
    this.inHeader = false;
    const ev = this.master(e, 'data', end);
    this.trackGroup(e, ev);
    this.cursor = end;
    if (this.group === 'closed') this.lastBoundary = this.flowEnd;
    return { kind: 'event', ev, superseded };
  }

  private master(e: BinlogEvent, kind: 'data' | 'control', end: number): MasterEv {
    const start = end - e.size;
    const flow = this.flowEnd;
    if (kind === 'data' || e.type !== EventType.ROTATE) this.flowEnd = { file: this.masterFile, position: end };
    return {
      contiguous: flow === undefined ? undefined : flow.file === this.masterFile && flow.position === start,
      fileIndex: this.fileIndex,
      offset: e.position,
      size: e.size,
      type: e.type,
      masterFile: this.masterFile,
      start,
      end,
      kind,
      startsGroup: false,
      inside: false,
      format: this.format,
      ownServerId: this.ownServerId,
    };
  }

  private closeGroup(): void {
    this.group = 'closed';
    this.groupStart = undefined;
    this.inTrx = false;
  }

  private trackGroup(e: BinlogEvent, ev: MasterEv): void {
    const info = e.info;
    const before = this.group;
    if (isGtidEvent(e.type)) {
      ev.startsGroup = true;
      this.group = 'open';
      this.groupStart = ev;
      this.inTrx = info?.kind === 'gtid' && info.flavor === 'mariadb' ? !info.standalone : false;
    } else {
      ev.isBegin = info?.kind === 'query' && !info.compressed && BEGIN_RE.test(info.sql);
      if (before === 'closed') {
        // No GTID before it (old servers): it starts the group.
        ev.startsGroup = true;
        this.group = 'open';
        this.groupStart = ev;
        this.inTrx = false;
      } else {
        ev.inside = true;
        ev.groupStart = this.group === 'open' ? this.groupStart : undefined;
      }
    }
    if (ev.startsGroup) ev.groupStart = ev;
    let ends = false;
    if (info?.kind === 'query') {
      if (info.compressed) ends = !this.inTrx && this.group !== 'unknown';
      else if (BEGIN_RE.test(info.sql)) this.inTrx = true;
      else if (END_RE.test(info.sql)) ends = true;
      else if (XA_END_RE.test(info.sql)) this.inTrx = true;
      // A statement outside BEGIN … COMMIT is a transaction by itself — unless the window started
      // inside a transaction we know nothing about.
      else if (!this.inTrx && this.group !== 'unknown') ends = true;
    } else if (e.type === EventType.XID || e.type === EventType.XA_PREPARE || e.type === EventType.TRANSACTION_PAYLOAD || e.type === EventType.INCIDENT) {
      ends = true;
    }
    if (ends) this.closeGroup();
  }
}

// ---------------------------------------------------------------------------------------------
// Heads: which master file and position each relay file starts at

interface FileHead {
  index: number;
  path: string;
  size: number;
  /** The head walk reached the end of the file. */
  complete: boolean;
  /** Master file named by a Rotate in the head before the first data event. */
  named?: string;
  /** How the first Rotate in the head names it (for naming the relay logs before it). */
  firstRotate?: { kind: 'segment' | 'real' | 'marker'; file: string; position: number };
  /** First data event: raw end_log_pos and size. */
  firstData?: { offset: number; logPos: number; size: number };
  /** No data event before it: the master's own Rotate in the head, where it starts (its file is the one before the Rotate). */
  rotateStart?: number;
  /** Master file at the end of a complete file. */
  endFile?: string;
  /** Filled by the chain: master file in force at the file's start, and where its data starts. */
  startFile?: string;
  start?: Coord;
}

function walkHead(index: number, path: string, size: number, head: Buffer, verify: boolean): FileHead | 'need-more' {
  const h: FileHead = { index, path, size, complete: head.length >= size };
  const parser = new BinlogParser({ file: posix.basename(path), verifyChecksums: verify, decode: true });
  const events = parser.push(head);
  const summary = parser.finish();
  const stream = new RelayStream({});
  stream.beginFile(index);
  for (const e of events) {
    if (e.type === EventType.ROTATE && e.info?.kind === 'rotate' && h.firstRotate === undefined && h.firstData === undefined) {
      if ((e.flags & LOG_EVENT_RELAY_LOG_F) === 0) {
        const kind = (e.flags & LOG_EVENT_ARTIFICIAL_F) !== 0 ? 'segment' : e.logPos === 0 ? 'marker' : 'real';
        h.firstRotate = { kind, file: e.info.nextFile, position: e.info.position };
      }
    }
    const step = stream.process(e);
    if (h.firstData === undefined) {
      if (step.kind === 'event' && step.ev.rotateTo && h.rotateStart === undefined) h.rotateStart = step.ev.start;
      if (step.kind === 'event' && step.ev.kind === 'data') {
        h.firstData = { offset: e.position, logPos: e.logPos, size: e.size };
        h.named = stream.masterFile;
      }
    }
  }
  if (h.firstData === undefined && !h.complete && summary.truncated && summary.truncated.have >= 19) {
    // The first data event is larger than the head: its header is enough.
    const at = summary.truncated.position;
    const hdr = head.subarray(at, at + 19);
    const type = hdr[4]!;
    const flags = hdr.readUInt16LE(17);
    const logPos = hdr.readUInt32LE(13);
    const evSize = hdr.readUInt32LE(9);
    const ownish = (flags & LOG_EVENT_RELAY_LOG_F) !== 0;
    if (type === EventType.ROTATE || type === EventType.FORMAT_DESCRIPTION) return 'need-more';
    if (!ownish && !isControlEvent(type) && (flags & LOG_EVENT_ARTIFICIAL_F) === 0 && logPos !== 0) {
      h.firstData = { offset: at, logPos, size: evSize };
      h.named = stream.masterFile;
    }
  }
  if (h.firstData === undefined && !h.complete) return 'need-more';
  if (h.firstData === undefined) h.named = stream.masterFile;
  if (h.complete) h.endFile = stream.masterFile;
  return h;
}

/** The binlog before `file` in its series (mysql-bin.000010 → mysql-bin.000009), if there is one. */
function previousBinlog(file: string): string | undefined {
  try {
    const { basename, sequence } = parseBinlogName(file);
    if (sequence <= 1n) return undefined;
    const digits = file.length - basename.length - 1;
    return `${basename}.${String(sequence - 1n).padStart(digits, '0')}`;
  } catch {
    return undefined;
  }
}

function fullPosition(logPos: number, hint: number): number {
  let end = Math.floor(hint / TWO32) * TWO32 + logPos;
  if (end < hint - TWO32 / 2) end += TWO32;
  return end;
}

/** Names every relay file's master binlog and start position from the heads. */
function chainHeads(heads: FileHead[], readPosition: MasterCoordinate | undefined): string[] {
  const notes: string[] = [];
  let cur: string | undefined;
  let hint = 0;
  for (const h of heads) {
    h.startFile = cur;
    const at = h.named ?? cur;
    if (h.firstData) {
      if (at !== cur) hint = 0;
      const end = fullPosition(h.firstData.logPos, hint);
      h.start = { file: at, position: end - h.firstData.size };
      hint = end;
    } else if (h.rotateStart !== undefined) {
      // A relay log holding only the master's Rotate (the IO thread rotates its relay log on
      // every Rotate it receives): the Rotate is the last event of the binlog before.
      h.start = { file: cur, position: h.rotateStart };
    }
    // Other relay logs without data (only re-sent header events, a reconnect) say nothing
    // reliable about where the stream is: they are never where the reading starts.
    cur = h.complete ? (h.endFile ?? at) : at;
  }
  // Relay logs before the first one that names its master file (their predecessors were purged).
  const firstNamed = heads.findIndex((h) => h.firstRotate !== undefined);
  let name: string | undefined;
  if (firstNamed < 0) name = readPosition?.file;
  else {
    const r = heads[firstNamed]!.firstRotate!;
    // A real Rotate is the last event of the binlog before it; a reconnect resumes in its file.
    name = r.kind === 'real' ? previousBinlog(r.file) : r.file;
  }
  if (name !== undefined) {
    for (const h of heads.slice(0, firstNamed < 0 ? heads.length : firstNamed + 1)) {
      h.startFile ??= name;
      if (h.start && h.start.file === undefined) h.start.file = name;
    }
  }
  if (readPosition && cur !== undefined && cur !== readPosition.file && firstNamed >= 0) {
    notes.push(`the relay logs end in ${cur}, but the slave says it reads ${readPosition.file}`);
  }
  return notes;
}

// ---------------------------------------------------------------------------------------------
// The mapper

function cmpCoord(a: Coord, b: Coord): number {
  if (a.file === undefined || b.file === undefined) throw new NeedName();
  let f: number;
  try {
    f = compareBinlogFiles(a.file, b.file);
  } catch {
    throw new RelayMapError(`${b.file} and ${a.file} are not binlogs of the same series: these relay logs come from another master (or another log_bin name)`);
  }
  return f !== 0 ? f : a.position - b.position;
}

/** A relay log's master binlog is unknown where it is needed (see namingRelayLogs). */
class NeedName extends Error {}

type GroupState = { state: 'closed' | 'open' | 'unknown'; start?: MasterEv };

/** What reading a window of relay logs (from one file to the end, or to the answer) found. */
interface ScanOutcome {
  /** The window's first relay file. */
  windowStart: number;
  /** End of the last complete event of the last relay log. */
  endOffset: number;
  /** The first master event at or after the coordinate. */
  answer?: MasterEv;
  /** From the answer to the next data event: done once that event is read; gap if one is missing. */
  chain?: { done: boolean; gap?: { from: MasterCoordinate; to: MasterCoordinate } };
  /** The master event before the answer (the last one read, when there is no answer). */
  previous?: MasterEv;
  lastRead?: MasterEv;
  /** Some of the master's data comes before the answer (in the window, or in the heads before it). */
  dataBeforeAnswer: boolean;
  /** Where the master stream stands after the last relay log. */
  endCursor?: Coord;
  /** The window's first event was the answer and the coordinate is not its start: read one file more before. */
  needEarlier: boolean;
  /** Group state when the scan ended (for the relay logs' end). */
  endGroup?: GroupState;
}

/**
 * Maps a master coordinate into a slave's relay logs (`relayFiles` in index order, as paths the
 * source can read). See the file comment for the algorithm and docs/binlog.md for the results.
 */
export async function mapRelayPosition(source: RelayLogSource, relayFiles: string[], target: MasterCoordinate, opts: RelayMapOptions = {}): Promise<RelayMapResult> {
  const t0 = Date.now();
  checkRequest(relayFiles, target);
  const verify = opts.verifyChecksums ?? true;
  const stats: RelayMapStats = { files: relayFiles.length, filesScanned: 0, bytesRead: 0, durationMs: 0 };

  // 1. Which master file and position every relay log starts at, from their heads.
  const heads = await readHeads(source, relayFiles, opts.headBytes ?? 4096, verify, stats);
  const notes = chainHeads(heads, opts.readPosition);
  // 2. Read the relay logs that can hold the answer.
  const relays = new RelayLogSet(source, heads, verify, stats);
  const outcome = await namingRelayLogs(relayFiles, () => (opts.scanAll ? relays.scan(0, target, false) : readWhereTheAnswerIs(relays, target)));
  // 3. What the events around the coordinate say.
  const common = (): ResultCommon => {
    stats.durationMs = Date.now() - t0;
    return { stats, notes };
  };
  return judge(outcome, relays, target, common);
}

function checkRequest(relayFiles: string[], target: MasterCoordinate): void {
  if (relayFiles.length === 0) throw new RelayMapError('no relay log to read');
  if (!Number.isSafeInteger(target.position) || target.position < 4)
    throw new RelayMapError(`master position ${target.position} cannot be an event boundary (binlog events start at 4)`);
  try {
    parseBinlogName(target.file);
  } catch (err) {
    throw new RelayMapError((err as Error).message);
  }
}

/**
 * The head of every relay log, in one round trip when the source can probe: what it takes to
 * reach a file's first master event (more is read when the first `headBytes` do not hold it).
 */
async function readHeads(source: RelayLogSource, relayFiles: string[], headBytes: number, verify: boolean, stats: RelayMapStats): Promise<FileHead[]> {
  const probe = source.probe
    ? await source.probe(relayFiles, headBytes)
    : await Promise.all(
        relayFiles.map(async (f) => {
          const size = await source.size(f);
          return { size, head: await readBytes(source, f, Math.min(size, headBytes)) };
        }),
      );
  const heads: FileHead[] = [];
  for (const [i, file] of relayFiles.entries()) {
    const pr = probe[i]!;
    if (pr.size < 0) throw new RelayMapError(`${file} (listed in the relay-log index) is missing on ${source.label}`);
    stats.bytesRead += pr.head.length;
    let h = walkHead(i, file, pr.size, pr.head, verify);
    for (let more = headBytes * 8; h === 'need-more'; more *= 8) {
      // A large first event or a long Previous_gtids: read further, then give up on the head.
      if (more > 64 * 1024 * 1024) throw new RelayMapError(`${file}: no master event in its first ${more / 8} bytes`);
      const head = await readBytes(source, file, Math.min(pr.size, more));
      stats.bytesRead += head.length;
      h = walkHead(i, file, pr.size, head, verify);
    }
    heads.push(h);
  }
  return heads;
}

/**
 * The fast path: read from the last relay log whose data starts at or before the coordinate (one
 * file further back while the answer is the window's first event), and stop at the answer —
 * unless a later relay log re-sends it: then read on to the end, following the re-send.
 */
async function readWhereTheAnswerIs(relays: RelayLogSet, target: MasterCoordinate): Promise<ScanOutcome> {
  let k = relays.lastStartingAtOrBefore(target);
  let outcome = await relays.scan(k, target, true);
  while (outcome.needEarlier && k > 0) outcome = await relays.scan(--k, target, true);
  const answer = outcome.answer;
  if (answer && relays.resentLater(answer)) outcome = await relays.scan(k, target, false);
  return outcome;
}

/** A relay log whose master binlog nothing names makes the answer unknowable: say what would name it. */
async function namingRelayLogs<T>(relayFiles: string[], read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof NeedName) {
      throw new RelayMapError(
        `cannot tell which master binlog ${posix.basename(relayFiles[0]!)} holds: it has no Rotate event and the relay logs before it are gone; ` +
          `give the slave's Master_Log_File and Read_Master_Log_Pos (readPosition, or --read-master-log-file and --read-master-log-pos)`,
      );
    }
    throw err;
  }
}

/** The relay logs, with what their heads say: read from one file on, every byte counted in the stats. */
class RelayLogSet {
  constructor(
    private readonly source: RelayLogSource,
    private readonly heads: FileHead[],
    private readonly verify: boolean,
    private readonly stats: RelayMapStats,
  ) {}

  get lastFile(): FileHead {
    return this.heads[this.heads.length - 1]!;
  }

  /** The file to start reading: the last whose data starts at or before the coordinate. */
  lastStartingAtOrBefore(target: MasterCoordinate): number {
    let k = 0;
    for (const h of this.heads) {
      if (!h.start) continue;
      try {
        if (cmpCoord(h.start, target) <= 0) k = h.index;
      } catch (err) {
        if (err instanceof NeedName) continue;
        throw err;
      }
    }
    return k;
  }

  /** A later relay log whose data starts at or before the event holds a re-sent copy of it. */
  resentLater(m: MasterEv): boolean {
    return this.heads.slice(m.fileIndex + 1).some((h) => h.start && h.start.file !== undefined && cmpCoord(h.start, at(m)) <= 0);
  }

  /**
   * Reads relay files from `k` on. With `stopEarly`, stops at the first master event at or after
   * the coordinate (and what it takes to know nothing is missing after it); otherwise reads to
   * the end, following re-sent transactions.
   */
  async scan(k: number, target: MasterCoordinate, stopEarly: boolean): Promise<ScanOutcome> {
    const startHead = this.heads[k]!;
    const stream = new RelayStream({ masterFile: startHead.startFile, hint: startHead.start?.position ?? 0 });
    const search = new AnswerSearch(
      target,
      k,
      this.heads.slice(0, k).some((h) => h.firstData !== undefined),
    );
    for (let i = k; i < this.heads.length; i++) {
      const h = this.heads[i]!;
      stream.beginFile(i);
      const parser = this.parserFor(h);
      const stopped = await this.readFile(h, parser, (e) => {
        const step = stream.process(e);
        if (step.kind !== 'event') return false;
        const found = search.observe(step.ev, step.superseded, stream.groupState.state === 'closed');
        return found && stopEarly;
      });
      if (stopped) return search.outcome;
      const summary = parser.finish();
      if (summary.truncated && i < this.heads.length - 1) {
        throw new BinlogCorruptError(
          h.path,
          summary.truncated.position,
          `ends inside an event (${summary.truncated.have} of its ${summary.truncated.need} bytes) but is not the last relay log`,
        );
      }
      search.outcome.endOffset = summary.endPosition;
    }
    if (stream.cursor !== undefined) search.outcome.endCursor = { file: stream.masterFile, position: stream.cursor };
    search.outcome.endGroup = stream.groupState;
    return search.outcome;
  }

  /**
   * Whether a transaction is open at the end of the relay logs before `fileIndex`, and its first
   * event; 'unknown' when it opened before the oldest relay log kept.
   */
  async transactionOpenAtEndOf(fileIndex: number): Promise<GroupState> {
    for (let i = fileIndex - 1; i >= 0; i--) {
      const h = this.heads[i]!;
      const stream = new RelayStream({ masterFile: h.startFile, hint: h.start?.position ?? 0 });
      stream.beginFile(i);
      const parser = this.parserFor(h);
      await this.readFile(h, parser, (e) => {
        stream.process(e);
        return false;
      });
      const g = stream.groupState;
      if (g.state !== 'unknown') return g;
      // Open since before this file too: a transaction larger than a relay log.
    }
    return { state: 'unknown' };
  }

  location(m: MasterEv): RelayLocation {
    return { relayFile: this.heads[m.fileIndex]!.path, offset: m.offset, masterFile: m.masterFile!, masterPosition: m.start };
  }

  eventRef(m: MasterEv): RelayEventRef {
    return { ...this.location(m), type: eventTypeName(m.type), typeCode: m.type, size: m.size, masterEnd: m.end };
  }

  private parserFor(h: FileHead): BinlogParser {
    return new BinlogParser({ file: posix.basename(h.path), verifyChecksums: this.verify, decode: true });
  }

  /**
   * Gives the events of one relay file to `each` until it says stop; true when it did. The chunk
   * it stops in is still parsed (and its checksums checked) to its end, as a batch would be; its
   * events are handed over one at a time so that no chunk's worth of them is alive at once.
   */
  private async readFile(h: FileHead, parser: BinlogParser, each: (e: BinlogEvent) => boolean): Promise<boolean> {
    this.stats.filesScanned++;
    let stopped = false;
    const visit = (e: BinlogEvent) => {
      if (!stopped) stopped = each(e);
    };
    for await (const chunk of this.source.read(h.path, 0)) {
      this.stats.bytesRead += chunk.length;
      parser.each(chunk, visit);
      if (stopped) return true;
    }
    return false;
  }
}

/**
 * Follows the master events of a window, in order, looking for the answer (the first master event
 * at or after the coordinate), the event before it, and whether anything is missing from the
 * answer to the next transaction. A re-sent transaction makes what was read of its first copy dead.
 */
class AnswerSearch {
  readonly outcome: ScanOutcome;
  private lastClosed: MasterEv | undefined;
  private first = true;

  constructor(
    private readonly target: MasterCoordinate,
    windowStart: number,
    dataBefore: boolean,
  ) {
    this.outcome = { windowStart, dataBeforeAnswer: dataBefore, needEarlier: false, endOffset: 4 };
  }

  /** The next master event (`groupClosed`: no transaction open after it). True once the answer and its chain are read. */
  observe(ev: MasterEv, superseded: Coord | undefined, groupClosed: boolean): boolean {
    const out = this.outcome;
    if (ev.masterFile === undefined) throw new NeedName();
    if (superseded) this.forgetDeadCopy(superseded);
    if (!out.answer) this.considerAsAnswer(ev);
    else if (out.chain && !out.chain.done) this.followChain(ev);
    this.first = false;
    out.lastRead = ev;
    if (groupClosed) this.lastClosed = ev;
    return out.answer !== undefined && out.chain?.done === true;
  }

  /** A re-sent transaction: what was read from its first event (`from`) on is dead. */
  private forgetDeadCopy(from: Coord): void {
    const out = this.outcome;
    const x = { file: from.file!, position: from.position };
    const dead = (m: MasterEv | undefined) => m !== undefined && cmpCoord(at(m), x) >= 0;
    if (dead(out.answer)) {
      out.answer = undefined;
      out.chain = undefined;
    }
    if (dead(out.previous)) out.previous = this.lastClosed && !dead(this.lastClosed) ? this.lastClosed : undefined;
    if (dead(out.lastRead)) out.lastRead = out.previous;
  }

  private considerAsAnswer(ev: MasterEv): void {
    const out = this.outcome;
    const target = this.target;
    if (cmpCoord(at(ev), target) >= 0) {
      out.answer = ev;
      out.chain = { done: ev.kind === 'data' };
      // Nothing read before it: the event that ends at the coordinate is in an earlier file.
      if (this.first && !(ev.masterFile === target.file && ev.start === target.position)) out.needEarlier = out.windowStart > 0;
    } else {
      out.previous = ev;
      if (ev.kind === 'data') out.dataBeforeAnswer = true;
    }
  }

  /**
   * The answer is a control event (an FDE, a Rotate …): nothing may be missing between it and
   * the next transaction.
   */
  private followChain(ev: MasterEv): void {
    const out = this.outcome;
    const chain = out.chain!;
    if (ev.contiguous !== true && !chain.gap) chain.gap = { from: { file: out.lastRead!.masterFile!, position: out.lastRead!.end }, to: at(ev) as MasterCoordinate };
    if (ev.kind === 'data') chain.done = true;
  }
}

/** The result, from the events around the coordinate. */
async function judge(outcome: ScanOutcome, relays: RelayLogSet, target: MasterCoordinate, common: () => ResultCommon): Promise<RelayMapResult> {
  const { answer, previous } = outcome;
  const contains = (m: MasterEv | undefined): boolean => m !== undefined && m.masterFile === target.file && m.start < target.position && target.position < m.end;
  if (previous && contains(previous)) return { kind: 'not-boundary', event: relays.eventRef(previous), ...common() };
  if (!answer) return judgeEndOfRelayLogs(outcome, relays, target, common);

  // Exactly at the event, or at the end of the event before it when nothing lies between (the
  // master's Rotate and the first event of its next binlog); and nothing missing from there to
  // the next transaction.
  const chainGap = outcome.chain?.gap;
  const exact =
    ((answer.masterFile === target.file && answer.start === target.position) ||
      (previous !== undefined && previous.masterFile === target.file && previous.end === target.position && answer.contiguous === true)) &&
    chainGap === undefined;
  // Nothing of this master's data before the event, and a gap before it: the past is gone.
  if (!exact && !outcome.dataBeforeAnswer) return { kind: 'older', oldest: relays.location(answer), ...common() };

  const { insideTransaction, transactionStart } = await transactionAround(answer, outcome.windowStart, relays);
  const found: RelayFound = {
    kind: 'found',
    relayFile: relays.location(answer).relayFile,
    offset: answer.offset,
    masterFile: answer.masterFile!,
    masterPosition: answer.start,
    exactBoundary: exact,
    event: relays.eventRef(answer),
    insideTransaction,
    transactionStart,
    resume: { startPosition: answer.offset, format: answer.format!, masterFile: answer.masterFile!, masterEnd: answer.start, ownServerId: answer.ownServerId },
    ...common(),
  };
  if (!exact) found.gap = chainGap ?? { from: previous ? { file: previous.masterFile!, position: previous.end } : { ...target }, to: at(answer) as MasterCoordinate };
  return found;
}

/** No master event at or after the coordinate: it is the end of what the slave received, or beyond it. */
function judgeEndOfRelayLogs(outcome: ScanOutcome, relays: RelayLogSet, target: MasterCoordinate, common: () => ResultCommon): RelayAtEnd | RelayNewer {
  const end = outcome.endCursor;
  if (!end || end.file === undefined) throw new RelayMapError('the relay logs hold no event from a master');
  const lastFile = relays.lastFile;
  const openTransaction = outcome.endGroup?.state === 'open' && outcome.endGroup.start ? relays.location(outcome.endGroup.start) : undefined;
  const last = outcome.lastRead;
  const exactEnd = cmpCoord(end, target) === 0 || (last !== undefined && last.masterFile === target.file && last.end === target.position);
  if (!exactEnd && cmpCoord(end, target) < 0) {
    return { kind: 'newer', received: { file: end.file, position: end.position }, relayFile: lastFile.path, offset: outcome.endOffset, ...common() };
  }
  return {
    kind: 'at-end',
    relayFile: lastFile.path,
    offset: outcome.endOffset,
    masterFile: target.file,
    masterPosition: target.position,
    exactBoundary: exactEnd,
    openTransaction,
    ...common(),
  };
}

/**
 * Whether the answer is inside a transaction, and where that transaction starts (undefined when it
 * started in a relay log no longer kept). When it was already open where the reading started,
 * the relay logs before are read for its start.
 */
async function transactionAround(answer: MasterEv, windowStart: number, relays: RelayLogSet): Promise<{ insideTransaction: boolean; transactionStart?: RelayLocation }> {
  if (!answer.inside) return { insideTransaction: false, transactionStart: undefined };
  let insideTransaction = true;
  let start = answer.groupStart;
  if (!start) {
    const before = await relays.transactionOpenAtEndOf(windowStart);
    if (before.state === 'open') start = before.start;
    // Nothing open before a BEGIN: it starts the transaction itself (a server without GTIDs).
    else if (before.state === 'closed' && answer.isBegin) insideTransaction = false;
  }
  return { insideTransaction, transactionStart: insideTransaction && start ? relays.location(start) : undefined };
}

function at(m: MasterEv): Coord {
  return { file: m.masterFile, position: m.start };
}

/** For tests. */
export const _internal = { RelayStream, walkHead, chainHeads, previousBinlog };
