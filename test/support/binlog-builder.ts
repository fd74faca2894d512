// Builds valid binlog and relay-log BYTES for tests: every event with a correct 19-byte header,
// event size, end_log_pos and CRC32, in MariaDB 10.11 or MySQL 8.0 flavour, with or without
// checksums. Three layers:
//
//   1. encodeEvent(body, header, checksum) and the body constructors in `ev` — one event.
//   2. BinlogFileWriter — one file: magic, then events appended with end_log_pos computed
//      (binlog) or given (relay log: the master's), or copied verbatim (appendRaw).
//   3. MasterLog — a master's binlog series (transactions, DDL, rotations) with every event's
//      master file/start/end; buildRelaySet() — the relay logs a slave's IO thread would write
//      from it, with relay-log rotations by size, IO-thread reconnects in the three ways servers
//      do them, a read position, purge and a torn last event, plus the ground truth of every copy.
//
// The relay-log layout follows what MariaDB 10.11 writes (checked on the lab, see
// test/e2e/binlog-find.test.ts): the slave's own events carry LOG_EVENT_RELAY_LOG_F; the IO
// thread rotates its relay log before writing any Rotate it receives; a relay log rotated by size
// starts with the slave's FDE and a copy of the master's FDE (artificial flag, end_log_pos 0).
// For mismatched checksum settings the builder checksums every event as the last FDE in its file
// says, so files stay readable; servers are not that tidy in that corner (see MariaDB's comment on
// the fake Rotate's checksum in slave.cc).
import { crc32 } from 'node:zlib';
import { EventType, LOG_EVENT_ARTIFICIAL_F, LOG_EVENT_BINLOG_IN_USE_F, LOG_EVENT_RELAY_LOG_F } from '../../src/binlog/event-types.js';

export type Flavor = 'mariadb' | 'mysql';

export interface BuildFormat {
  flavor: Flavor;
  /** CRC32 checksums on every event (binlog_checksum=CRC32); false = NONE. */
  checksum: boolean;
  /** Server version string in the FDE (default: a 10.11 MariaDB or an 8.0 MySQL). */
  serverVersion?: string;
}

export const MARIADB_VERSION = '10.11.19-MariaDB-log';
export const MYSQL_VERSION = '8.0.45';

// Post-header lengths copied from real FDEs (index = event type - 1): a MariaDB 10.11.19 binlog
// from the lab and MySQL 8.0.45's test/fixtures/binlog/percona-binlog-server-mysql-8.0/binlog.000001.
const MARIADB_POST_HEADERS = Buffer.from('380d000800120004040404120000e400041a08000000080808020000000a0a0a0000000000000a0a0a' + '00'.repeat(119) + '041304000d0808080a0a0a', 'hex');
const MYSQL_POST_HEADERS = Buffer.from('000d0008000000000400040000006200041a08000000080808020000000a0a0a2a2a001234000a2800', 'hex');

/** An event's type and body: everything after the 19-byte header, before the checksum. */
export interface EventBody {
  type: number;
  body: Buffer;
}

export interface EventHeader {
  serverId: number;
  timestamp?: number;
  flags?: number;
  /** end_log_pos as written (32 bits; larger values wrap, as on a server). */
  logPos: number;
}

const HEADER = 19;
const TWO32 = 2 ** 32;

/**
 * Header + body (+ CRC32): the event's bytes. An FDE always gets its CRC32 (servers that write the
 * checksum-algorithm byte always write it, even with binlog_checksum=NONE), computed with the
 * in-use flag cleared, as servers do.
 */
export function encodeEvent(e: EventBody, h: EventHeader, checksum: boolean): Buffer {
  if (e.type === EventType.FORMAT_DESCRIPTION) checksum = true;
  const size = HEADER + e.body.length + (checksum ? 4 : 0);
  const buf = Buffer.alloc(size);
  buf.writeUInt32LE((h.timestamp ?? 1_700_000_000) >>> 0, 0);
  buf[4] = e.type;
  buf.writeUInt32LE(h.serverId >>> 0, 5);
  buf.writeUInt32LE(size, 9);
  buf.writeUInt32LE(h.logPos % TWO32, 13);
  buf.writeUInt16LE(h.flags ?? 0, 17);
  e.body.copy(buf, HEADER);
  if (checksum) {
    let crcInput = buf.subarray(0, size - 4);
    if (e.type === EventType.FORMAT_DESCRIPTION && (h.flags ?? 0) & LOG_EVENT_BINLOG_IN_USE_F) {
      crcInput = Buffer.from(crcInput);
      crcInput.writeUInt16LE(crcInput.readUInt16LE(17) & ~LOG_EVENT_BINLOG_IN_USE_F, 17);
    }
    buf.writeUInt32LE(crc32(crcInput) >>> 0, size - 4);
  }
  return buf;
}

/** Size of the event `encodeEvent` makes from this body. */
export function encodedSize(e: EventBody, checksum: boolean): number {
  return HEADER + e.body.length + (checksum || e.type === EventType.FORMAT_DESCRIPTION ? 4 : 0);
}

function u8(n: number): Buffer {
  return Buffer.from([n & 0xff]);
}
function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}
function u48(n: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntLE(n, 0, 6);
  return b;
}
function u64(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}
/** MySQL's packed integer. */
function packed(n: number): Buffer {
  if (n < 251) return u8(n);
  if (n < 0x10000) return Buffer.concat([u8(252), u16(n)]);
  if (n < 0x1000000) {
    const b = Buffer.alloc(4);
    b[0] = 253;
    b.writeUIntLE(n, 1, 3);
    return b;
  }
  return Buffer.concat([u8(254), u64(n)]);
}
function uuidBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a UUID: ${uuid}`);
  return Buffer.from(hex, 'hex');
}

export const MYSQL_TEST_UUID = '3e11fa47-71ca-11e1-9e33-c80aa9429562';

/** Body constructors. Rows events describe a table of two columns: INT and LONGBLOB. */
export const ev = {
  formatDescription(fmt: BuildFormat, createTimestamp = 0): EventBody {
    const version = Buffer.alloc(50);
    version.write(fmt.serverVersion ?? (fmt.flavor === 'mariadb' ? MARIADB_VERSION : MYSQL_VERSION), 'latin1');
    const post = fmt.flavor === 'mariadb' ? MARIADB_POST_HEADERS : MYSQL_POST_HEADERS;
    // Versions with checksums end the FDE with the algorithm byte (1 = CRC32, 0 = none); encodeEvent
    // adds the FDE's own CRC after it.
    const tail = u8(fmt.checksum ? 1 : 0);
    return { type: EventType.FORMAT_DESCRIPTION, body: Buffer.concat([u16(4), version, u32(createTimestamp), u8(19), post, tail]) };
  },
  rotate(nextFile: string, position = 4): EventBody {
    return { type: EventType.ROTATE, body: Buffer.concat([u64(position), Buffer.from(nextFile, 'latin1')]) };
  },
  query(sql: string, opts: { database?: string; threadId?: number; execTime?: number; errorCode?: number } = {}): EventBody {
    const db = Buffer.from(opts.database ?? '', 'utf8');
    // Status variables: flags2 and sql_mode, which every server writes and mariadb-binlog prints.
    const status = Buffer.concat([u8(0), u32(0), u8(1), u64(0)]);
    return {
      type: EventType.QUERY,
      body: Buffer.concat([
        u32(opts.threadId ?? 1),
        u32(opts.execTime ?? 0),
        u8(db.length),
        u16(opts.errorCode ?? 0),
        u16(status.length),
        status,
        db,
        u8(0),
        Buffer.from(sql, 'utf8'),
      ]),
    };
  },
  xid(xid: number | bigint): EventBody {
    return { type: EventType.XID, body: u64(xid) };
  },
  tableMap(tableId: number, database: string, table: string): EventBody {
    const db = Buffer.from(database, 'utf8');
    const tb = Buffer.from(table, 'utf8');
    // columns: INT (3), LONGBLOB (252, metadata 4 = length bytes); both nullable
    return {
      type: EventType.TABLE_MAP,
      body: Buffer.concat([u48(tableId), u16(1), u8(db.length), db, u8(0), u8(tb.length), tb, u8(0), packed(2), Buffer.from([3, 252]), packed(1), u8(4), u8(0b11)]),
    };
  },
  /** `rows` rows whose blobs hold `payload` bytes in all (v1: MariaDB's Write_rows_v1; v2: MySQL's). */
  writeRows(tableId: number, rows: number, payload: number, version: 1 | 2 = 2): EventBody {
    const head = Buffer.concat([u48(tableId), u16(1), version === 2 ? u16(2) : Buffer.alloc(0), packed(2), u8(0b11)]);
    const parts: Buffer[] = [head];
    for (let r = 0; r < rows; r++) {
      const len = Math.floor(payload / rows) + (r < payload % rows ? 1 : 0);
      parts.push(u8(0), u32(r + 1), u32(len), Buffer.alloc(len, 0x61 + (r % 26)));
    }
    return { type: version === 2 ? EventType.WRITE_ROWS : EventType.WRITE_ROWS_V1, body: Buffer.concat(parts) };
  },
  mysqlGtid(uuid: string, gno: number, lastCommitted = 0, sequenceNumber = 1): EventBody {
    return { type: EventType.GTID, body: Buffer.concat([u8(1), uuidBytes(uuid), u64(gno), u8(2), u64(lastCommitted), u64(sequenceNumber)]) };
  },
  anonymousGtid(lastCommitted = 0, sequenceNumber = 1): EventBody {
    return { type: EventType.ANONYMOUS_GTID, body: Buffer.concat([u8(1), Buffer.alloc(16), u64(0), u8(2), u64(lastCommitted), u64(sequenceNumber)]) };
  },
  /** An empty GTID set. */
  previousGtids(): EventBody {
    return { type: EventType.PREVIOUS_GTIDS, body: u64(0) };
  },
  /** MariaDB GTID: FL_STANDALONE (1) for DDL and other statements outside a transaction. */
  mariadbGtid(domain: number, seq: number | bigint, standalone: boolean): EventBody {
    const flags = standalone ? 1 : 0x04 | 0x08; // transactional, allow parallel
    return { type: EventType.MARIADB_GTID, body: Buffer.concat([u64(seq), u32(domain), u8(flags), Buffer.alloc(6)]) };
  },
  gtidList(gtids: { domain: number; serverId: number; seq: number | bigint }[]): EventBody {
    return {
      type: EventType.MARIADB_GTID_LIST,
      body: Buffer.concat([u32(gtids.length), ...gtids.map((g) => Buffer.concat([u32(g.domain), u32(g.serverId), u64(g.seq)]))]),
    };
  },
  binlogCheckpoint(file: string): EventBody {
    const name = Buffer.from(file, 'latin1');
    return { type: EventType.MARIADB_BINLOG_CHECKPOINT, body: Buffer.concat([u32(name.length), name]) };
  },
  annotateRows(sql: string): EventBody {
    return { type: EventType.MARIADB_ANNOTATE_ROWS, body: Buffer.from(sql, 'utf8') };
  },
  stop(): EventBody {
    return { type: EventType.STOP, body: Buffer.alloc(0) };
  },
};

export interface WrittenEvent {
  position: number;
  size: number;
  end: number;
  bytes: Buffer;
}

/** One binlog or relay-log file being written: the magic, then events. */
export class BinlogFileWriter {
  readonly name: string;
  private readonly chunks: Buffer[] = [Buffer.from([0xfe, 0x62, 0x69, 0x6e])];
  private pos = 4;

  constructor(name: string) {
    this.name = name;
  }

  get position(): number {
    return this.pos;
  }

  /** Appends an event; end_log_pos defaults to this file's offset after it (a binlog's own events). */
  append(e: EventBody, h: Omit<EventHeader, 'logPos'> & { logPos?: number }, checksum: boolean): WrittenEvent {
    const size = encodedSize(e, checksum);
    const bytes = encodeEvent(e, { ...h, logPos: h.logPos ?? this.pos + size }, checksum);
    return this.appendRaw(bytes);
  }

  /** Appends bytes verbatim (an event copied from another log). */
  appendRaw(bytes: Buffer): WrittenEvent {
    const position = this.pos;
    this.chunks.push(bytes);
    this.pos += bytes.length;
    return { position, size: bytes.length, end: this.pos, bytes };
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

// ---------------------------------------------------------------------------------------------
// A master's binlog series

export interface MasterEvent {
  /** Index in MasterLog.events. */
  index: number;
  file: string;
  start: number;
  end: number;
  type: number;
  /** The event as the master wrote it (its checksum included). */
  bytes: Buffer;
  /** 'control': FDE, Previous_gtids, Gtid_list, Binlog_checkpoint, Rotate, Stop — never part of a transaction. */
  kind: 'data' | 'control';
  /** Transaction number (data events only). */
  group?: number;
  /** The first event of its transaction. */
  groupStart?: boolean;
  /** The last event of its transaction. */
  groupEnd?: boolean;
}

export interface MasterLogOptions {
  flavor: Flavor;
  checksum?: boolean;
  serverId?: number;
  basename?: string;
  firstSeq?: number;
  /** MySQL: write anonymous GTIDs (gtid_mode=OFF) instead of real ones. */
  anonymous?: boolean;
  domain?: number;
  /** Annotate_rows before each row event (MariaDB; default true). */
  annotate?: boolean;
  timestamp?: number;
}

export interface TransactionOptions {
  /** Row statements (Table_map + Write_rows each); default 1. */
  statements?: number;
  /** Blob bytes per statement (default 100). */
  payload?: number;
  rows?: number;
}

/**
 * A master's binlog files, written event by event with their real positions. Each file starts
 * like the server's: FDE, then Previous_gtids (MySQL) or Gtid_list + Binlog_checkpoint (MariaDB).
 */
export class MasterLog {
  readonly format: BuildFormat;
  readonly serverId: number;
  readonly basename: string;
  readonly events: MasterEvent[] = [];
  readonly fileNames: string[] = [];
  private readonly writers = new Map<string, BinlogFileWriter>();
  private writer!: BinlogFileWriter;
  private seq: number;
  private gtidSeq = 0;
  private xidSeq = 100;
  private groups = 0;
  private readonly opts: MasterLogOptions;
  private readonly fde: EventBody;

  constructor(opts: MasterLogOptions) {
    this.opts = opts;
    this.format = { flavor: opts.flavor, checksum: opts.checksum ?? true };
    this.serverId = opts.serverId ?? 1;
    this.basename = opts.basename ?? 'mysql-bin';
    this.seq = opts.firstSeq ?? 1;
    this.fde = ev.formatDescription(this.format, opts.timestamp ?? 1_700_000_000);
    this.openFile();
  }

  get currentFile(): string {
    return this.writer.name;
  }
  get position(): number {
    return this.writer.position;
  }
  /** The master's FDE bytes as written at offset 4 of `file`. */
  fdeOf(file: string): MasterEvent {
    const e = this.events.find((x) => x.file === file && x.type === EventType.FORMAT_DESCRIPTION);
    if (!e) throw new Error(`no FDE for ${file}`);
    return e;
  }
  /** The header control events after the FDE of `file` (Gtid_list, Binlog_checkpoint / Previous_gtids). */
  headerOf(file: string): MasterEvent[] {
    const out: MasterEvent[] = [];
    for (const e of this.events) {
      if (e.file !== file || e.type === EventType.FORMAT_DESCRIPTION) continue;
      if (e.kind !== 'control' || e.type === EventType.ROTATE) break;
      out.push(e);
    }
    return out;
  }

  fileBytes(name: string): Buffer {
    const w = this.writers.get(name);
    if (!w) throw new Error(`no master file ${name}`);
    return w.toBuffer();
  }
  fileSize(name: string): number {
    return this.writers.get(name)!.position;
  }

  private name(seq: number): string {
    return `${this.basename}.${String(seq).padStart(6, '0')}`;
  }

  private put(body: EventBody, kind: MasterEvent['kind'], group?: { n: number; start: boolean; end: boolean }, flags = 0): MasterEvent {
    const w = this.writer.append(body, { serverId: this.serverId, flags, timestamp: this.opts.timestamp }, this.format.checksum);
    const e: MasterEvent = { index: this.events.length, file: this.writer.name, start: w.position, end: w.end, type: body.type, bytes: w.bytes, kind };
    if (group) {
      e.group = group.n;
      e.groupStart = group.start;
      e.groupEnd = group.end;
    }
    this.events.push(e);
    return e;
  }

  private openFile(): void {
    this.writer = new BinlogFileWriter(this.name(this.seq));
    this.writers.set(this.writer.name, this.writer);
    this.fileNames.push(this.writer.name);
    this.put(this.fde, 'control');
    if (this.format.flavor === 'mysql') {
      this.put(ev.previousGtids(), 'control');
    } else {
      const d = this.opts.domain ?? 0;
      this.put(ev.gtidList(this.gtidSeq ? [{ domain: d, serverId: this.serverId, seq: this.gtidSeq }] : []), 'control');
      this.put(ev.binlogCheckpoint(this.writer.name), 'control');
    }
  }

  private gtid(standalone: boolean): EventBody {
    this.gtidSeq++;
    if (this.format.flavor === 'mariadb') return ev.mariadbGtid(this.opts.domain ?? 0, this.gtidSeq, standalone);
    return this.opts.anonymous ? ev.anonymousGtid(this.gtidSeq - 1, this.gtidSeq) : ev.mysqlGtid(MYSQL_TEST_UUID, this.gtidSeq, this.gtidSeq - 1, this.gtidSeq);
  }

  /** A transaction: GTID, (BEGIN), per statement (Annotate_rows) Table_map Write_rows, Xid. */
  transaction(opts: TransactionOptions = {}): MasterEvent[] {
    const n = this.groups++;
    const bodies: EventBody[] = [this.gtid(false)];
    if (this.format.flavor === 'mysql') bodies.push(ev.query('BEGIN'));
    const statements = opts.statements ?? 1;
    for (let s = 0; s < statements; s++) {
      if (this.format.flavor === 'mariadb' && this.opts.annotate !== false) bodies.push(ev.annotateRows(`INSERT INTO hatest.t VALUES (${s})`));
      bodies.push(ev.tableMap(70 + (s % 3), 'hatest', 't'));
      bodies.push(ev.writeRows(70 + (s % 3), opts.rows ?? 1, opts.payload ?? 100, this.format.flavor === 'mariadb' ? 1 : 2));
    }
    bodies.push(ev.xid(this.xidSeq++));
    return bodies.map((b, i) => this.put(b, 'data', { n, start: i === 0, end: i === bodies.length - 1 }));
  }

  /** A DDL statement: a standalone GTID and the Query. */
  ddl(sql = 'CREATE TABLE hatest.t (a INT, b LONGBLOB)'): MasterEvent[] {
    const n = this.groups++;
    return [this.put(this.gtid(true), 'data', { n, start: true, end: false }), this.put(ev.query(sql, { database: 'hatest' }), 'data', { n, start: false, end: true })];
  }

  /** Closes the current file with a Rotate and opens the next one (FLUSH BINARY LOGS or max_binlog_size). */
  rotate(): MasterEvent {
    const next = this.name(this.seq + 1);
    const r = this.put(ev.rotate(next, 4), 'control');
    this.seq++;
    this.openFile();
    return r;
  }

  /** The master event that starts at (file, position), if any. */
  eventAt(file: string, position: number): MasterEvent | undefined {
    return this.events.find((e) => e.file === file && e.start === position);
  }
}

// ---------------------------------------------------------------------------------------------
// A slave's relay logs, written as its IO thread would

/**
 * How the IO thread reconnects (STOP/START SLAVE IO_THREAD, a network error):
 *  - 'file-pos': MariaDB/MySQL file/position replication. The new relay log has an artificial
 *    Rotate to the read position and a fake master FDE (end_log_pos 0); events continue from
 *    there, even in the middle of a transaction.
 *  - 'mysql-auto-position': MySQL GTID auto-positioning. Artificial Rotate to the file at 4, the
 *    master's real FDE (already received: a duplicate), then the master re-sends from the start of
 *    the partly received transaction: the earlier partial copy is superseded.
 *  - 'mariadb-gtid': MariaDB MASTER_USE_GTID. Artificial Rotate to the file at 4, a fake FDE, the
 *    file's header events again, a fake Gtid_list whose end_log_pos is the GTID position, and — in
 *    the middle of a transaction — a Rotate written by the IO thread itself (master's server_id,
 *    no flags, end_log_pos = its own relay-log offset) to the read position, after skipping the
 *    events it already has.
 */
export type ReconnectMode = 'file-pos' | 'mysql-auto-position' | 'mariadb-gtid';

export interface RelayPlan {
  master: MasterLog;
  slaveServerId?: number;
  relayBasename?: string;
  /** Relay-log format (the slave's own FDE); default the master's. */
  relayFormat?: BuildFormat;
  /** Index of the master event the IO thread starts at (default 0: the first file at 4). */
  startAt?: number;
  /** Rotate the relay log once it reaches this size (max_relay_log_size), checked after each event. */
  maxRelaySize?: number;
  /** Also rotate the relay log (size rotation) before these master event indexes. */
  rotateBefore?: number[];
  /** IO-thread reconnects before these master event indexes. */
  reconnects?: { before: number; mode: ReconnectMode }[];
  /** Master events received (default all): the IO thread stops after event upTo-1. */
  upTo?: number;
  /** Drop this many bytes from the end of the last relay log (an event still being written). */
  tornBytes?: number;
}

export interface RelayCopy {
  relayFile: string;
  offset: number;
  size: number;
  /** The master event copied. */
  master: MasterEvent;
  /**
   * The copy the slave's SQL thread uses: false for the partial copy of a transaction the master
   * re-sent (auto-position), for a header re-sent on a GTID reconnect, and for a second copy of an
   * event already received.
   */
  effective: boolean;
  /** A header event the master re-sent on a MariaDB GTID reconnect (never part of the stream). */
  resentHeader?: boolean;
}

export interface RelayMarker {
  relayFile: string;
  offset: number;
  kind: 'segment' | 'skip' | 'gtid-list';
  /** Where the stream goes on in the master's binlog. */
  masterFile: string;
  masterPosition: number;
}

export interface RelaySet {
  /** Relay files in index order, with their bytes. */
  files: { name: string; bytes: Buffer }[];
  copies: RelayCopy[];
  markers: RelayMarker[];
  /** The IO thread's read position (Master_Log_File, Read_Master_Log_Pos) at the end. */
  readPosition: { file: string; position: number };
  ownServerId: number;
  /** The index file's text (one name per line, relative like the server's "./relay-bin.000001"). */
  indexText(dir?: string): string;
}

/** Builds the relay logs a slave's IO thread writes while receiving `plan.master`'s events. */
export function buildRelaySet(plan: RelayPlan): RelaySet {
  const m = plan.master;
  const slaveId = plan.slaveServerId ?? 2;
  const base = plan.relayBasename ?? 'relay-bin';
  const relayFmt = plan.relayFormat ?? m.format;
  const ownFde = ev.formatDescription(relayFmt);
  const files: BinlogFileWriter[] = [];
  const copies: RelayCopy[] = [];
  const markers: RelayMarker[] = [];
  // Master events whose effective copy is in the relay logs.
  const received = new Set<number>();
  // max_relay_log_size reached: the relay log rotates before the next event.
  let pendingSizeRotate = false;
  // The IO thread's read position (Master_Log_File, Read_Master_Log_Pos).
  let readPos: { file: string; position: number } | undefined;
  // The checksum of what the parser will expect: the last FDE written to the current file.
  let curChecksum = relayFmt.checksum;
  let w!: BinlogFileWriter;

  const own = (body: EventBody) => w.append(body, { serverId: slaveId, flags: LOG_EVENT_RELAY_LOG_F }, curChecksum);
  const newRelayFile = (masterFdeCopy: boolean) => {
    pendingSizeRotate = false;
    if (w) own(ev.rotate(`${base}.${String(files.length + 1).padStart(6, '0')}`, 4));
    w = new BinlogFileWriter(`${base}.${String(files.length + 1).padStart(6, '0')}`);
    files.push(w);
    curChecksum = relayFmt.checksum;
    own(ownFde);
    if (relayFmt.flavor === 'mysql') w.append(ev.previousGtids(), { serverId: slaveId, flags: LOG_EVENT_RELAY_LOG_F | 0x80 }, curChecksum);
    if (masterFdeCopy) {
      // The description of the events that follow, for readers of this file alone.
      w.append(ev.formatDescription(m.format), { serverId: m.serverId, flags: LOG_EVENT_ARTIFICIAL_F, logPos: 0 }, m.format.checksum);
      curChecksum = m.format.checksum;
    }
  };
  const copy = (e: MasterEvent, effective = true) => {
    // A verbatim copy keeps the master's checksum; re-encode only if this file expects another.
    const bytes = curChecksum === m.format.checksum ? e.bytes : reencode(e.bytes, m.format.checksum, curChecksum);
    const wr = w.appendRaw(bytes);
    copies.push({ relayFile: w.name, offset: wr.position, size: wr.size, master: e, effective });
    if (effective) received.add(e.index);
    if (plan.maxRelaySize !== undefined && w.position >= plan.maxRelaySize) pendingSizeRotate = true;
  };
  const markLastCopies = (pred: (c: RelayCopy) => boolean) => {
    for (const c of copies) {
      if (c.effective && pred(c)) {
        c.effective = false;
        received.delete(c.master.index);
      }
    }
  };
  const fdeCopy = (file: string, real: boolean, artificial: boolean) => {
    // The FDE describes itself and what follows: switch first, so it is never re-encoded.
    curChecksum = m.format.checksum;
    const fde = m.fdeOf(file);
    // Already received, or the stream was already past it (a connect mid-file sent a fake one).
    const behind = readPos !== undefined && readPos.file === file && readPos.position > fde.start;
    if (real) copy(fde, !received.has(fde.index) && !behind);
    else w.append(ev.formatDescription(m.format), { serverId: m.serverId, flags: artificial ? LOG_EVENT_ARTIFICIAL_F : 0, logPos: 0 }, m.format.checksum);
  };
  const connect = (at: MasterEvent, mode: ReconnectMode | 'first') => {
    let e = at;
    // Every Rotate the IO thread receives makes it rotate its relay log first (process_io_rotate).
    newRelayFile(false);
    const atFileStart = e.start === 4;
    const artRotate = (pos: number) => {
      const wr = w.append(ev.rotate(e.file, pos), { serverId: m.serverId, flags: LOG_EVENT_ARTIFICIAL_F, logPos: 0, timestamp: 0 }, curChecksum);
      markers.push({ relayFile: w.name, offset: wr.position, kind: 'segment', masterFile: e.file, masterPosition: pos });
    };
    if (mode === 'first' || mode === 'file-pos') {
      artRotate(e.start);
      if (atFileStart) fdeCopy(e.file, true, false);
      else fdeCopy(e.file, false, false);
      return e.index;
    }
    if (mode === 'mysql-auto-position') {
      artRotate(4);
      fdeCopy(e.file, true, false);
      // Resend from the start of the transaction `e` is in (or `e` when it starts one).
      let from = e.index;
      if (e.kind === 'data' && !e.groupStart) {
        while (from > 0 && !m.events[from]!.groupStart) from--;
      }
      const resentFrom = m.events[from]!;
      markLastCopies((c) => c.master.file === resentFrom.file && c.master.start >= resentFrom.start);
      // The master's header events after the FDE are skipped (the IO thread ignores them).
      return from;
    }
    // mariadb-gtid
    artRotate(4);
    fdeCopy(e.file, false, true);
    const header = m.headerOf(e.file);
    for (const h of header) {
      copy(h, false);
      copies[copies.length - 1]!.resentHeader = true;
    }
    // Reconnected inside the file's header: the master goes on after it (to the GTID position).
    const afterHeader = (header[header.length - 1]?.index ?? m.fdeOf(e.file).index) + 1;
    if (e.index < afterHeader) {
      const next = m.events[afterHeader];
      if (!next) return m.events.length; // nothing written after the header yet
      e = next;
    }
    let groupStart = e;
    if (e.kind === 'data' && !e.groupStart) {
      let i = e.index;
      while (i > 0 && !m.events[i]!.groupStart) i--;
      groupStart = m.events[i]!;
    }
    const gl = w.append(
      ev.gtidList([{ domain: 0, serverId: m.serverId, seq: 1 }]),
      { serverId: m.serverId, flags: LOG_EVENT_ARTIFICIAL_F, logPos: groupStart.start, timestamp: 0 },
      curChecksum,
    );
    markers.push({ relayFile: w.name, offset: gl.position, kind: 'gtid-list', masterFile: e.file, masterPosition: groupStart.start });
    // The IO thread takes the position the fake Gtid_list gives.
    if (!readPos || readPos.file !== e.file || readPos.position < groupStart.start) readPos = { file: e.file, position: groupStart.start };
    if (groupStart !== e) {
      // Skipped the events already queued; tell the SQL thread the old-style position.
      const skip = w.append(ev.rotate(e.file, e.start), { serverId: m.serverId, flags: 0, logPos: w.position + encodedSize(ev.rotate(e.file, e.start), curChecksum) }, curChecksum);
      markers.push({ relayFile: w.name, offset: skip.position, kind: 'skip', masterFile: e.file, masterPosition: e.start });
    }
    return e.index;
  };

  const sizeRotate = () => {
    newRelayFile(true);
    pendingSizeRotate = false;
  };
  // relay-bin.000001: created by CHANGE MASTER, closed at the first connect (as MariaDB does).
  newRelayFile(false);
  const upTo = Math.min(plan.upTo ?? m.events.length, m.events.length);
  const rotateBefore = new Set(plan.rotateBefore ?? []);
  const reconnects = new Map((plan.reconnects ?? []).map((r) => [r.before, r.mode] as const));
  let i = connect(m.events[plan.startAt ?? 0]!, 'first');
  readPos = { file: m.events[i]!.file, position: m.events[i]!.start };
  let guard = 0;
  while (i < upTo) {
    if (guard++ > m.events.length * 4) throw new Error('buildRelaySet: plan loops');
    const mode = reconnects.get(i);
    if (mode) {
      reconnects.delete(i);
      i = connect(m.events[i]!, mode);
      continue;
    }
    if (rotateBefore.has(i) || pendingSizeRotate) {
      rotateBefore.delete(i);
      sizeRotate();
    }
    const e = m.events[i]!;
    if (e.type === EventType.ROTATE) {
      newRelayFile(false);
      copy(e);
      pendingSizeRotate = false;
      readPos = { file: m.events[i + 1]?.file ?? e.file, position: 4 };
      i++;
      // The master goes on with the next file: an artificial Rotate and its real FDE.
      if (i < upTo) {
        newRelayFile(false);
        const next = m.events[i]!;
        const wr = w.append(ev.rotate(next.file, 4), { serverId: m.serverId, flags: LOG_EVENT_ARTIFICIAL_F, logPos: 0, timestamp: 0 }, curChecksum);
        markers.push({ relayFile: w.name, offset: wr.position, kind: 'segment', masterFile: next.file, masterPosition: 4 });
        fdeCopy(next.file, true, false);
        i++; // the FDE
        readPos = { file: next.file, position: next.end };
      }
      continue;
    }
    if (e.type === EventType.FORMAT_DESCRIPTION) {
      // Reached only when the IO thread starts exactly at a file's FDE: already copied by connect().
      readPos = { file: e.file, position: e.end };
      i++;
      continue;
    }
    copy(e, !received.has(e.index));
    readPos = { file: e.file, position: e.end };
    i++;
  }
  if (plan.tornBytes) {
    // Appended as a partial copy of the next master event (or of the last one).
    const next = m.events[Math.min(upTo, m.events.length - 1)]!;
    w.appendRaw(next.bytes.subarray(0, Math.min(plan.tornBytes, next.bytes.length - 1)));
  }
  return {
    files: files.map((f) => ({ name: f.name, bytes: f.toBuffer() })),
    copies,
    markers,
    readPosition: readPos,
    ownServerId: slaveId,
    indexText: (dir?: string) => files.map((f) => `${dir ?? '.'}/${f.name}\n`).join(''),
  };
}

/** The same event with another checksum setting (adds, drops or recomputes the CRC). */
export function reencode(bytes: Buffer, from: boolean, to: boolean): Buffer {
  if (bytes[4] === EventType.FORMAT_DESCRIPTION) return bytes;
  const body = bytes.subarray(19, bytes.length - (from ? 4 : 0));
  return encodeEvent(
    { type: bytes[4]!, body },
    { timestamp: bytes.readUInt32LE(0), serverId: bytes.readUInt32LE(5), logPos: bytes.readUInt32LE(13), flags: bytes.readUInt16LE(17) },
    to,
  );
}
