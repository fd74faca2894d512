// What the fake cluster replicates: the transactions the original master wrote (real binlog bytes,
// built with test/support/binlog-builder.ts, so that relay logs, saved binlogs and diffs are the
// real formats the code under test parses), and each server's own binlog as a list of
// transactions with positions.
//
// A transaction is known everywhere by its Xid (unique in the history): that is how a diff
// applied with "mysqlbinlog | mysql" is traced back to the transactions it holds, and how the
// fake notices one applied twice or skipped.
import { EventType } from '../../src/binlog/event-types.js';
import { MasterLog, MYSQL_TEST_UUID, type Flavor, type MasterEvent } from '../support/binlog-builder.js';

export interface Coord {
  file: string;
  position: number;
}

export interface Trx {
  /** 1-based order in the original master's history. */
  n: number;
  xid: bigint;
  /** MariaDB "domain-server-seq", MySQL "uuid:gno", '' for an anonymous (gtid_mode=OFF) one. */
  gtid: string;
  domain: number;
  seq: number;
  /** Bytes in a binlog (all its events). */
  bytes: number;
  /** Where it is in the original master's binlog. */
  file: string;
  start: number;
  end: number;
  /** Index after its last event in MasterLog.events (an IO thread that received it whole stops here). */
  eventsEnd: number;
}

export interface HistoryOptions {
  flavor: Flavor;
  serverId: number;
  /** MySQL: GTIDs (gtid_mode=ON) or anonymous ones. MariaDB always writes GTIDs. */
  gtid: boolean;
  transactions: number;
  /** The master rotates its binlog after these transaction numbers (FLUSH BINARY LOGS). */
  rotateAfter?: number[];
  /** Blob bytes per transaction (default 60). */
  payload?: number;
  domain?: number;
}

/** The original master's binlog: real bytes, and the transactions in it. */
export class History {
  readonly log: MasterLog;
  readonly trxs: Trx[] = [];
  readonly flavor: Flavor;
  /** MySQL: the server_uuid the GTIDs carry. */
  readonly uuid = MYSQL_TEST_UUID;
  private readonly byXid = new Map<bigint, Trx>();

  constructor(opts: HistoryOptions) {
    this.flavor = opts.flavor;
    this.log = new MasterLog({
      flavor: opts.flavor,
      serverId: opts.serverId,
      anonymous: opts.flavor === 'mysql' && !opts.gtid,
      domain: opts.domain ?? 0,
      basename: 'mysql-bin',
    });
    // The Format_description says the builder's version (10.11 / 8.0) whatever the master's is:
    // nothing in a failover depends on it beyond the checksum byte, which every version has.
    const rotate = new Set(opts.rotateAfter ?? []);
    for (let n = 1; n <= opts.transactions; n++) {
      const events = this.log.transaction({ payload: opts.payload ?? 60 });
      this.add(n, events, opts);
      if (rotate.has(n)) this.log.rotate();
    }
  }

  private add(n: number, events: MasterEvent[], opts: HistoryOptions): void {
    const first = events[0]!;
    const last = events.at(-1)!;
    if (last.type !== EventType.XID) throw new Error('fake history: a transaction must end with an Xid event');
    const xid = last.bytes.readBigUInt64LE(19);
    const seq = n;
    const domain = opts.domain ?? 0;
    const gtid = this.flavor === 'mariadb' ? `${domain}-${opts.serverId}-${seq}` : opts.gtid ? `${this.uuid}:${seq}` : '';
    const trx: Trx = {
      n,
      xid,
      gtid,
      domain,
      seq,
      bytes: last.end - first.start,
      file: first.file,
      start: first.start,
      end: last.end,
      eventsEnd: last.index + 1,
    };
    this.trxs.push(trx);
    this.byXid.set(xid, trx);
  }

  trxByXid(xid: bigint): Trx | undefined {
    return this.byXid.get(xid);
  }

  /** After the header events (FDE, Gtid_list/Checkpoint or Previous_gtids) of a file. */
  headerEnd(file: string): number {
    const header = this.log.headerOf(file);
    return header.length ? header.at(-1)!.end : this.log.fdeOf(file).end;
  }

  /** The master coordinate after the first `k` transactions. */
  coordAfter(k: number): Coord {
    if (k === 0) {
      const file = this.log.fileNames[0] ?? this.log.currentFile;
      return { file, position: this.headerEnd(file) };
    }
    const t = this.trxs[k - 1]!;
    return { file: t.file, position: t.end };
  }

  /** MasterLog event index after the first `k` transactions (what an IO thread that got them stopped at). */
  eventsAfter(k: number): number {
    if (k === 0) {
      const file = this.log.fileNames[0] ?? this.log.currentFile;
      const header = this.log.headerOf(file);
      return (header.length ? header.at(-1)!.index : this.log.fdeOf(file).index) + 1;
    }
    return this.trxs[k - 1]!.eventsEnd;
  }

  files(): { name: string; size: number; bytes: Buffer }[] {
    const names = this.log.fileNames.length ? this.log.fileNames : [this.log.currentFile];
    return [...new Set([...names, this.log.currentFile])].map((name) => ({ name, size: this.log.fileSize(name), bytes: this.log.fileBytes(name) }));
  }
}

export interface BinlogEntry {
  trx: Trx;
  file: string;
  start: number;
  end: number;
}

/**
 * A server's own binlog as positions: the original master's mirrors the history's real bytes; a
 * slave's (log_slave_updates) or a promoted master's grows by each transaction it writes. Only
 * the original master's bytes are ever read (saved over SSH), so the others need no bytes.
 */
export class OwnBinlog {
  readonly files: { name: string; size: number }[] = [];
  readonly entries: BinlogEntry[] = [];

  constructor(
    readonly basename: string,
    private readonly headerSize: number,
  ) {
    this.files.push({ name: `${basename}.000001`, size: headerSize });
  }

  static ofHistory(h: History): OwnBinlog {
    const b = new OwnBinlog('mysql-bin', 0);
    b.files.length = 0;
    for (const f of h.files()) b.files.push({ name: f.name, size: f.size });
    for (const t of h.trxs) b.entries.push({ trx: t, file: t.file, start: t.start, end: t.end });
    return b;
  }

  get end(): Coord {
    const f = this.files.at(-1)!;
    return { file: f.name, position: f.size };
  }

  hasFile(file: string): boolean {
    return this.files.some((x) => x.name === file);
  }

  /** Can a slave start reading at `c`: a file's start (4), a transaction's start or end, a file's end? */
  isBoundary(c: Coord): boolean {
    const f = this.files.find((x) => x.name === c.file);
    if (!f) return false;
    if (c.position === 4 || c.position === f.size || c.position === this.headerSize) return true;
    return this.entries.some((e) => e.file === c.file && (e.start === c.position || e.end === c.position));
  }

  append(trx: Trx): BinlogEntry {
    const f = this.files.at(-1)!;
    const e: BinlogEntry = { trx, file: f.name, start: f.size, end: f.size + trx.bytes };
    f.size = e.end;
    this.entries.push(e);
    return e;
  }

  /** Entries from a coordinate on (file order, then position). */
  from(c: Coord): BinlogEntry[] {
    const fi = this.files.findIndex((x) => x.name === c.file);
    return this.entries.filter((e) => {
      const ei = this.files.findIndex((x) => x.name === e.file);
      return ei > fi || (ei === fi && e.start >= c.position);
    });
  }
}
