// One fake MySQL/MariaDB server: its version, variables, binlog, executed transactions and GTID
// state, its replication (threads, positions, errors) and its processlist. Replication is
// instantaneous: a running IO thread has everything its master has, a running SQL thread executes
// everything received (unless `applyPerPoll` makes it slow). What the SQL text looks like lives
// in sql.ts; this file is the state and what the statements do to it.
import type { ServerConfig } from '../../src/config/types.js';
import { compareBinlogFiles, parseBinlogName } from '../../src/binlog/coordinates.js';
import type { Coord, OwnBinlog, Trx } from './history.js';

export type VersionName = 'mariadb-10.4' | 'mariadb-10.6' | 'mariadb-10.11' | 'mariadb-11.4' | 'mysql-5.7' | 'mysql-8.0.21' | 'mysql-8.0' | 'mysql-8.4';

export interface FakeVersion {
  name: VersionName;
  flavor: 'mariadb' | 'mysql';
  major: number;
  minor: number;
  patch: number;
  raw: string;
  comment: string;
}

function v(name: VersionName, raw: string, comment: string): FakeVersion {
  const [major, minor, patch] = /^(\d+)\.(\d+)\.(\d+)/.exec(raw)!.slice(1).map(Number) as [number, number, number];
  return { name, flavor: name.startsWith('mariadb') ? 'mariadb' : 'mysql', major, minor, patch, raw, comment };
}

/** @@version / @@version_comment as such servers report them. */
export const VERSIONS: Record<VersionName, FakeVersion> = {
  'mariadb-10.4': v('mariadb-10.4', '10.4.34-MariaDB-log', 'MariaDB Server'),
  'mariadb-10.6': v('mariadb-10.6', '10.6.18-MariaDB-log', 'MariaDB Server'),
  'mariadb-10.11': v('mariadb-10.11', '10.11.9-MariaDB-0+deb12u1-log', 'Debian 12'),
  'mariadb-11.4': v('mariadb-11.4', '11.4.3-MariaDB-log', 'MariaDB Server'),
  'mysql-5.7': v('mysql-5.7', '5.7.44-log', 'MySQL Community Server (GPL)'),
  'mysql-8.0.21': v('mysql-8.0.21', '8.0.21', 'MySQL Community Server - GPL'),
  'mysql-8.0': v('mysql-8.0', '8.0.36', 'MySQL Community Server - GPL'),
  'mysql-8.4': v('mysql-8.4', '8.4.3', 'MySQL Community Server - GPL'),
};

export function atLeast(ver: FakeVersion, major: number, minor = 0, patch = 0): boolean {
  if (ver.major !== major) return ver.major > major;
  if (ver.minor !== minor) return ver.minor > minor;
  return ver.patch >= patch;
}

export function compareCoord(a: Coord, b: Coord): number {
  const f = compareBinlogFiles(a.file, b.file);
  return f !== 0 ? f : a.position - b.position;
}

/** An error the server answers with (errno, SQLSTATE, message), as mysql2 reports it. */
export class FakeSqlError extends Error {
  constructor(
    readonly errno: number,
    readonly code: string,
    readonly sqlState: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Received {
  trx: Trx;
  /** Where it ends in the master's binlog. */
  end: Coord;
}

/** A slave's replication: SHOW SLAVE STATUS, the default (unnamed) connection. */
export interface Repl {
  masterHost: string;
  masterPort: number;
  masterUser: string;
  masterPassword: string;
  /** MariaDB MASTER_USE_GTID; MySQL 'auto' is AUTO_POSITION=1. */
  gtid: 'no' | 'slave_pos' | 'current_pos' | 'auto';
  io: 'Yes' | 'No' | 'Connecting';
  sql: boolean;
  read: Coord;
  exec: Coord;
  relayFile: string;
  relayPos: number;
  /** Received, not executed yet (complete transactions only). */
  pending: Received[];
  /** The IO thread stopped inside a transaction: its relay logs end with part of one. */
  partial: boolean;
  lastIoErrno: number;
  lastIoError: string;
  lastSqlErrno: number;
  lastSqlError: string;
  secondsBehind: number | null;
  sqlDelay: number;
  masterServerId: number;
  masterUuid: string;
  /** MySQL Retrieved_Gtid_Set / MariaDB Gtid_IO_Pos source: the GTIDs received. */
  retrieved: string[];
  /** Transactions the SQL thread executes per status read (undefined: all at once). */
  applyPerPoll?: number;
  /** The server it is connected to (after a START SLAVE in the fake), for Binlog Dump threads. */
  connectedTo?: FakeServer;
}

export interface Thread {
  id: number;
  user: string;
  host: string;
  command: string;
  time: number;
  state: string;
  info: string | null;
}

export interface Violation {
  server: string;
  kind: 'applied-twice' | 'gap';
  trx: number;
  via: 'replication' | 'client';
}

/** What a server needs from the rest of the cluster. */
export interface World {
  serverAt(host: string, port: number): FakeServer | undefined;
  violation(v: Violation): void;
  /** Replication accounts the masters accept: user → password. */
  replAccounts: Map<string, string>;
  /** CHANGE MASTER / RESET SLAVE delete the relay logs and start a new one (on the server's host). */
  purgeRelayLogs(server: FakeServer): string;
  nextThreadId(): number;
}

export class FakeServer {
  alive = true;
  deadHow: 'refused' | 'timeout' = 'refused';
  readOnly: boolean;
  superReadOnly: boolean;
  logBin = true;
  logSlaveUpdates = true;
  /** MySQL gtid_mode. */
  gtidMode: 'ON' | 'OFF' = 'ON';
  gtidStrictMode = false;
  readonly datadir = '/var/lib/mysql/';
  readonly binlogBasename = '/var/lib/mysql/mysql-bin';
  readonly relayLogBasename = '/var/lib/mysql/relay-bin';
  readonly relayLogIndex = '/var/lib/mysql/relay-bin.index';
  binlog?: OwnBinlog;
  readonly executed: Trx[] = [];
  /** MariaDB gtid_slave_pos, per domain. */
  gtidSlavePos = new Map<number, string>();
  /** MySQL gtid_executed. */
  readonly gtidExecuted = new Set<string>();
  repl?: Repl;
  maxAllowedPacket = 16_777_216;
  sqlMode = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';
  /** Client threads a test put there (long queries, idle applications). */
  readonly clientThreads: Thread[] = [];
  /** information_schema.innodb_trx rows a test put there. */
  readonly innodbTrx: { threadId: number; ageSeconds: number; rowsModified: number; state: string }[] = [];
  /** The session holding FLUSH TABLES WITH READ LOCK. */
  readLockBy?: number;
  /** Open sessions (ha's), by connection id. */
  readonly sessions = new Map<number, { id: number; user: string; running?: string; killed: boolean }>();
  private readonly executedXids = new Set<bigint>();

  constructor(
    readonly id: string,
    readonly config: ServerConfig,
    readonly version: FakeVersion,
    readonly serverId: number,
    readonly uuid: string,
    private readonly world: World,
  ) {
    this.readOnly = true;
    this.superReadOnly = version.flavor === 'mysql';
  }

  get mariadb(): boolean {
    return this.version.flavor === 'mariadb';
  }

  hasExecuted(t: Trx): boolean {
    return this.executedXids.has(t.xid);
  }

  /**
   * Executes a transaction: by the SQL thread ('replication') or by a client (a diff piped into
   * mysql). Twice is refused (the rows exist: duplicate key), and recorded as a violation; a
   * transaction after a gap is executed but recorded.
   */
  apply(t: Trx, via: 'replication' | 'client', opts: { logBin?: boolean } = {}): void {
    if (this.executedXids.has(t.xid)) {
      this.world.violation({ server: this.id, kind: 'applied-twice', trx: t.n, via });
      throw new FakeSqlError(
        1062,
        'ER_DUP_ENTRY',
        '23000',
        `Duplicate entry '${t.n}' for key 'PRIMARY' (fake cluster: transaction ${t.n}, ${t.gtid || `xid ${t.xid}`}, applied twice)`,
      );
    }
    const last = this.executed.at(-1)?.n ?? 0;
    if (t.n !== last + 1) this.world.violation({ server: this.id, kind: 'gap', trx: t.n, via });
    this.executed.push(t);
    this.executedXids.add(t.xid);
    const logged = this.logBin && this.binlog && (via === 'client' ? opts.logBin !== false : this.logSlaveUpdates);
    if (logged) this.binlog!.append(t);
    if (this.mariadb) {
      if (via === 'replication') this.gtidSlavePos.set(t.domain, t.gtid);
    } else if (t.gtid && this.gtidMode === 'ON') {
      this.gtidExecuted.add(t.gtid);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // GTID variables

  /** MariaDB gtid_binlog_pos: the last GTID of each domain in its binlog. */
  gtidBinlogPos(): string {
    const m = new Map<number, string>();
    for (const e of this.binlog?.entries ?? []) if (e.trx.gtid) m.set(e.trx.domain, e.trx.gtid);
    return formatDomains(m);
  }

  gtidSlavePosText(): string {
    return formatDomains(this.gtidSlavePos);
  }

  /** MariaDB gtid_current_pos: per domain, the later of gtid_binlog_pos and gtid_slave_pos. */
  gtidCurrentPos(): string {
    const m = new Map(this.gtidSlavePos);
    for (const e of this.binlog?.entries ?? []) {
      const mine = m.get(e.trx.domain);
      if (!mine || seqOf(mine) < e.trx.seq) m.set(e.trx.domain, e.trx.gtid);
    }
    return formatDomains(m);
  }

  /** MySQL gtid_executed as the server prints it: uuid:1-5:7. */
  gtidExecutedText(): string {
    return formatMysqlGtids(this.gtidExecuted);
  }

  // ---------------------------------------------------------------------------------------------
  // Replication

  private needStopped(what: string): void {
    const r = this.repl;
    if (r && (r.io !== 'No' || r.sql)) {
      throw new FakeSqlError(1198, 'ER_SLAVE_MUST_STOP', 'HY000', `This operation cannot be performed with a running slave; run STOP SLAVE first (${what})`);
    }
  }

  stopSlave(which: 'io' | 'sql' | 'both'): void {
    const r = this.repl;
    if (!r) return; // a warning on a server that is no slave, not an error
    if (which !== 'sql') {
      r.io = 'No';
      r.connectedTo = undefined;
    }
    if (which !== 'io') r.sql = false;
  }

  startSlave(which: 'io' | 'sql' | 'both'): void {
    const r = this.repl;
    if (!r || !r.masterHost) throw new FakeSqlError(1200, 'ER_BAD_SLAVE', 'HY000', 'The server is not configured as slave; fix in config file or with CHANGE MASTER TO');
    if (which !== 'io') {
      r.sql = true;
      r.lastSqlErrno = 0;
      r.lastSqlError = '';
    }
    if (which !== 'sql' && r.io !== 'Yes') this.connectIo(r);
    this.runSqlThread();
  }

  /** The IO thread connects to its master and receives everything it lacks. */
  private connectIo(r: Repl): void {
    r.lastIoErrno = 0;
    r.lastIoError = '';
    const master = this.world.serverAt(r.masterHost, r.masterPort);
    const fail = (errno: number, message: string, state: 'Connecting' | 'No') => {
      r.io = state;
      r.lastIoErrno = errno;
      r.lastIoError = message;
    };
    if (!master || !master.alive)
      return fail(
        2003,
        `error connecting to master '${r.masterUser}@${r.masterHost}:${r.masterPort}' - retry-time: 60  maximum-retries: 86400  message: Can't connect to MySQL server on '${r.masterHost}' (111 "Connection refused")`,
        'Connecting',
      );
    if (this.world.replAccounts.get(r.masterUser) !== r.masterPassword)
      return fail(
        1045,
        `error connecting to master '${r.masterUser}@${r.masterHost}:${r.masterPort}' - message: Access denied for user '${r.masterUser}'@'${this.config.ip}' (using password: YES)`,
        'Connecting',
      );
    if (master === this) return fail(1593, 'Fatal error: The slave I/O thread stops because master and slave have equal server ids', 'No');
    if (!master.logBin || !master.binlog) return fail(1236, "Got fatal error 1236 from master when reading data from binary log: 'Binary log is not open'", 'No');
    const log = master.binlog;
    let send;
    if (r.gtid === 'no') {
      if (!log.hasFile(r.read.file))
        return fail(
          1236,
          `Got fatal error 1236 from master when reading data from binary log: 'Could not find first log file name in binary log index file' (${r.read.file})`,
          'No',
        );
      if (!log.isBoundary(r.read))
        return fail(
          1236,
          `Got fatal error 1236 from master when reading data from binary log: 'Client requested master to start replication from impossible position' (${r.read.file}:${r.read.position})`,
          'No',
        );
      send = log.from(r.read);
    } else if (this.mariadb) {
      const pos = parseDomains(r.gtid === 'current_pos' ? this.gtidCurrentPos() : this.gtidSlavePosText());
      const theirs = parseDomains(master.gtidBinlogPos());
      for (const [domain, g] of pos) {
        const m = theirs.get(domain);
        if (!m || seqOf(m) < seqOf(g))
          return fail(
            1236,
            `Got fatal error 1236 from master when reading data from binary log: 'Error: connecting slave requested to start from GTID ${g}, which is not in the master's binlog'`,
            'No',
          );
      }
      send = log.entries.filter((e) => !pos.has(e.trx.domain) || e.trx.seq > seqOf(pos.get(e.trx.domain)!));
    } else {
      const extra = [...this.gtidExecuted].filter((g) => !master.gtidExecuted.has(g));
      if (extra.length)
        return fail(
          1236,
          `Got fatal error 1236 from master when reading data from binary log: 'Slave has more GTIDs than the master has, using the master's SERVER_UUID' (${formatMysqlGtids(new Set(extra))})`,
          'No',
        );
      send = log.entries.filter((e) => !this.gtidExecuted.has(e.trx.gtid));
    }
    r.io = 'Yes';
    r.partial = false;
    r.connectedTo = master;
    r.masterServerId = master.serverId;
    r.masterUuid = master.mariadb ? '' : master.uuid;
    for (const e of send) {
      r.pending.push({ trx: e.trx, end: { file: e.file, position: e.end } });
      if (e.trx.gtid) r.retrieved.push(e.trx.gtid);
    }
    r.read = log.end;
  }

  /** The SQL thread executes what it received: all of it, or `applyPerPoll` transactions per call. */
  runSqlThread(): void {
    const r = this.repl;
    if (!r || !r.sql) return;
    let budget = r.applyPerPoll ?? Infinity;
    while (r.pending.length && budget-- > 0) {
      const next = r.pending[0]!;
      try {
        this.apply(next.trx, 'replication');
      } catch (err) {
        const e = err as FakeSqlError;
        r.sql = false;
        r.lastSqlErrno = e.errno;
        r.lastSqlError = `Could not execute Write_rows_v1 event on table hatest.t; ${e.message}, Error_code: ${e.errno}; handler error HA_ERR_FOUND_DUPP_KEY; the event's master log ${next.end.file}, end_log_pos ${next.end.position}`;
        return;
      }
      r.pending.shift();
      r.exec = next.end;
    }
    // Caught up: Exec_Master_Log_Pos follows Read_Master_Log_Pos over what is no transaction
    // (a Rotate, the next file's header), unless the IO thread stopped inside a transaction.
    if (!r.pending.length && !r.partial) r.exec = { ...r.read };
  }

  changeMaster(o: { host?: string; port?: number; user?: string; password?: string; file?: string; position?: number; gtid?: Repl['gtid'] }): void {
    this.needStopped('CHANGE MASTER');
    const old = this.repl;
    const sameMaster = old && (o.host === undefined || o.host === old.masterHost) && (o.port === undefined || o.port === old.masterPort);
    const r: Repl = old ?? {
      masterHost: '',
      masterPort: 3306,
      masterUser: '',
      masterPassword: '',
      gtid: 'no',
      io: 'No',
      sql: false,
      read: { file: '', position: 4 },
      exec: { file: '', position: 4 },
      relayFile: '',
      relayPos: 4,
      pending: [],
      partial: false,
      lastIoErrno: 0,
      lastIoError: '',
      lastSqlErrno: 0,
      lastSqlError: '',
      secondsBehind: null,
      sqlDelay: 0,
      masterServerId: 0,
      masterUuid: '',
      retrieved: [],
    };
    if (o.host !== undefined) r.masterHost = o.host;
    if (o.port !== undefined) r.masterPort = o.port;
    if (o.user !== undefined) r.masterUser = o.user;
    if (o.password !== undefined) r.masterPassword = o.password;
    if (o.gtid !== undefined) r.gtid = o.gtid;
    if (o.file !== undefined || o.position !== undefined) {
      r.read = { file: o.file ?? r.read.file, position: o.position ?? 4 };
      r.exec = { ...r.read };
    } else if (!sameMaster) {
      r.read = { file: '', position: 4 };
      r.exec = { ...r.read };
    }
    // Without RELAY_LOG_FILE/RELAY_LOG_POS, CHANGE MASTER deletes every relay log.
    r.pending = [];
    r.partial = false;
    r.retrieved = [];
    r.relayFile = this.world.purgeRelayLogs(this);
    r.relayPos = 4;
    r.secondsBehind = null;
    this.repl = r;
  }

  resetSlaveAll(): void {
    this.needStopped('RESET SLAVE ALL');
    if (this.repl) this.world.purgeRelayLogs(this);
    this.repl = undefined;
  }

  /** MASTER_POS_WAIT: 0 reached, -1 timeout (the fake never waits), null not replicating. */
  waitForPos(target: Coord): number | null {
    const r = this.repl;
    if (!r || !r.sql || !r.masterHost) return null;
    this.runSqlThread();
    try {
      if (parseBinlogName(r.exec.file).basename !== parseBinlogName(target.file).basename) return null;
    } catch {
      return null;
    }
    return compareCoord(r.exec, target) >= 0 ? 0 : -1;
  }

  /** The master this slave replicates from died: its IO thread retries. */
  masterDied(): void {
    const r = this.repl;
    if (!r || r.io === 'No') return;
    r.io = 'Connecting';
    r.connectedTo = undefined;
    r.lastIoErrno = 2003;
    r.lastIoError = `error reconnecting to master '${r.masterUser}@${r.masterHost}:${r.masterPort}' - retry-time: 60  maximum-retries: 86400  message: Can't connect to MySQL server on '${r.masterHost}' (111 "Connection refused")`;
    r.secondsBehind = null;
  }

  // ---------------------------------------------------------------------------------------------
  // Processlist

  processlist(slavesOfMe: FakeServer[]): Thread[] {
    const out: Thread[] = [];
    for (const s of this.sessions.values()) {
      out.push({ id: s.id, user: s.user, host: '10.9.0.1:40000', command: s.running ? 'Query' : 'Sleep', time: 0, state: s.running ? 'executing' : '', info: s.running ?? null });
    }
    out.push(...this.clientThreads);
    for (const s of slavesOfMe) {
      out.push({
        id: dumpThreadId(s),
        user: s.repl!.masterUser,
        host: `${s.config.ip}:50000`,
        command: s.repl!.gtid === 'auto' ? 'Binlog Dump GTID' : 'Binlog Dump',
        time: 100,
        state: 'Master has sent all binlog to slave; waiting for more updates',
        info: null,
      });
    }
    if (this.repl?.io === 'Yes' || this.repl?.io === 'Connecting')
      out.push({ id: 900_000 + 2 * this.serverId, user: 'system user', host: '', command: 'Slave_IO', time: 100, state: 'Waiting for master to send event', info: null });
    if (this.repl?.sql)
      out.push({
        id: 900_001 + 2 * this.serverId,
        user: 'system user',
        host: '',
        command: 'Slave_SQL',
        time: 100,
        state: 'Slave has read all relay log; waiting for more updates',
        info: null,
      });
    return out;
  }
}

/** The Binlog Dump thread serving slave `s` on its master (ids apart from sessions'). */
export function dumpThreadId(s: FakeServer): number {
  return 800_000 + s.serverId;
}

function seqOf(gtid: string): number {
  return Number(gtid.split('-')[2]);
}

function parseDomains(text: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const g of text.split(',').filter(Boolean)) m.set(Number(g.split('-')[0]), g);
  return m;
}

function formatDomains(m: Map<number, string>): string {
  return [...m.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, g]) => g)
    .join(',');
}

/** uuid:1-3:5 from a set of "uuid:n". */
export function formatMysqlGtids(set: Set<string>): string {
  const byUuid = new Map<string, number[]>();
  for (const g of set) {
    const i = g.lastIndexOf(':');
    const list = byUuid.get(g.slice(0, i)) ?? [];
    list.push(Number(g.slice(i + 1)));
    byUuid.set(g.slice(0, i), list);
  }
  return [...byUuid.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([uuid, ns]) => {
      ns.sort((a, b) => a - b);
      const parts: string[] = [];
      let from = ns[0]!;
      let to = from;
      for (const n of ns.slice(1)) {
        if (n === to + 1) to = n;
        else {
          parts.push(from === to ? `${from}` : `${from}-${to}`);
          from = to = n;
        }
      }
      parts.push(from === to ? `${from}` : `${from}-${to}`);
      return `${uuid}:${parts.join(':')}`;
    })
    .join(',\n');
}
