// The SQL the fake servers understand: every statement the failover and the switch send, matched
// on its normalised text (whitespace collapsed), each form accepted only by the versions whose
// grammar has it (MySQL 8.4 has no SHOW SLAVE STATUS, 5.7 no SHOW REPLICA STATUS, MariaDB no
// super_read_only...). Anything else is an UnknownStatement: the code under test changed, and
// the fake must learn the statement (see README.md) before a test can pass.
import { atLeast, FakeSqlError, type FakeServer, type FakeVersion, type Repl, type World } from './server.js';

export type Row = Record<string, unknown>;

export class UnknownStatement extends Error {
  constructor(server: string, text: string) {
    super(`fake cluster: unknown statement on ${server}: ${text}`);
    this.name = 'UnknownStatement';
  }
}

export interface SessionState {
  id: number;
  user: string;
  lockWaitTimeout: number;
}

export interface SqlWorld extends World {
  /** Alive servers whose IO thread is connected to `server`. */
  slavesOf(server: FakeServer): FakeServer[];
  killThread(server: FakeServer, threadId: number): boolean;
}

export interface ExecContext {
  server: FakeServer;
  session: SessionState;
  params: unknown[];
  world: SqlWorld;
}

/** Whitespace collapsed, no trailing semicolon: the text statements are matched on. */
export function normalize(sql: string): string {
  return sql.replace(/\s+/g, ' ').trim().replace(/;$/, '');
}

/** The statement with its ? placeholders filled in, for the event log. */
export function interpolate(text: string, params: unknown[] = []): string {
  let i = 0;
  return text.replace(/\?/g, () => {
    const p = params[i++];
    return typeof p === 'number' ? String(p) : `'${String(p).replace(/'/g, "''")}'`;
  });
}

function syntaxError(v: FakeVersion, near: string): FakeSqlError {
  const product = v.flavor === 'mariadb' ? 'MariaDB' : 'MySQL';
  return new FakeSqlError(
    1064,
    'ER_PARSE_ERROR',
    '42000',
    `You have an error in your SQL syntax; check the manual that corresponds to your ${product} server version for the right syntax to use near '${near}' at line 1`,
  );
}

const onOff = (b: boolean) => (b ? 'ON' : 'OFF');

// ---------------------------------------------------------------------------------------------
// Grammar: which version accepts which form

const mysql = (v: FakeVersion) => v.flavor === 'mysql';
const mariadb = (v: FakeVersion) => v.flavor === 'mariadb';
export const grammar = {
  /** SLAVE in START/STOP/RESET/SHOW … STATUS; MySQL 8.4 removed it. */
  slaveWord: (v: FakeVersion) => mariadb(v) || !atLeast(v, 8, 4),
  /** REPLICA: MySQL 8.0.22, MariaDB 10.5.1. */
  replicaWord: (v: FakeVersion) => (mysql(v) ? atLeast(v, 8, 0, 22) : atLeast(v, 10, 5, 1)),
  showMasterStatus: (v: FakeVersion) => mariadb(v) || !atLeast(v, 8, 4),
  showBinaryLogStatus: (v: FakeVersion) => mysql(v) && atLeast(v, 8, 2),
  showBinlogStatus: (v: FakeVersion) => mariadb(v) && atLeast(v, 10, 5, 2),
  changeMaster: (v: FakeVersion) => mariadb(v) || !atLeast(v, 8, 4),
  changeReplicationSource: (v: FakeVersion) => mysql(v) && atLeast(v, 8, 0, 23),
  sourcePosWait: (v: FakeVersion) => mysql(v) && atLeast(v, 8, 0, 26),
  superReadOnly: (v: FakeVersion) => mysql(v) && atLeast(v, 5, 7, 8),
};

function slaveWordOk(v: FakeVersion, word: string): boolean {
  return word === 'SLAVE' ? grammar.slaveWord(v) : grammar.replicaWord(v);
}

// ---------------------------------------------------------------------------------------------
// Variables

function globalVariables(s: FakeServer): Map<string, string> {
  const v = s.version;
  const m = new Map<string, string>([
    ['version', v.raw],
    ['version_comment', v.comment],
    ['server_id', String(s.serverId)],
    ['read_only', onOff(s.readOnly)],
    ['log_bin', onOff(s.logBin)],
    ['log_bin_basename', s.logBin ? s.binlogBasename : ''],
    ['log_slave_updates', onOff(s.logSlaveUpdates)],
    ['binlog_format', 'ROW'],
    ['relay_log_basename', s.relayLogBasename],
    ['relay_log_index', s.relayLogIndex],
    ['relay_log_purge', 'OFF'],
    ['datadir', s.datadir],
    ['max_allowed_packet', String(s.maxAllowedPacket)],
  ]);
  if (mysql(v)) {
    if (atLeast(v, 8, 0, 26)) m.set('log_replica_updates', onOff(s.logSlaveUpdates));
    m.set('server_uuid', s.uuid);
    if (grammar.superReadOnly(v)) m.set('super_read_only', onOff(s.superReadOnly));
    m.set('gtid_mode', s.gtidMode);
    m.set('gtid_executed', s.gtidExecutedText());
    m.set('gtid_purged', '');
  } else {
    m.set('gtid_current_pos', s.gtidCurrentPos());
    m.set('gtid_binlog_pos', s.gtidBinlogPos());
    m.set('gtid_slave_pos', s.gtidSlavePosText());
    m.set('gtid_strict_mode', onOff(s.gtidStrictMode));
  }
  return m;
}

function variable(ctx: ExecContext, scope: string, name: string): string | number {
  const { server: s } = ctx;
  if (scope === 'SESSION' && name === 'sql_mode') return s.sqlMode;
  if (scope === 'SESSION' && name === 'lock_wait_timeout') return ctx.session.lockWaitTimeout;
  if (name === 'max_allowed_packet') return s.maxAllowedPacket;
  const value = globalVariables(s).get(name);
  if (value === undefined) throw new FakeSqlError(1193, 'ER_UNKNOWN_SYSTEM_VARIABLE', 'HY000', `Unknown system variable '${name}'`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// SHOW … STATUS rows

function masterStatusRows(s: FakeServer): Row[] {
  if (!s.logBin || !s.binlog) return [];
  const end = s.binlog.end;
  const row: Row = { File: end.file, Position: String(end.position), Binlog_Do_DB: '', Binlog_Ignore_DB: '' };
  if (mysql(s.version)) row.Executed_Gtid_Set = s.gtidExecutedText();
  return [row];
}

/** [old name, new name (MySQL SHOW REPLICA STATUS), value] in the servers' column order. */
function slaveColumns(r: Repl): [string, string, unknown][] {
  const io = r.io === 'Yes' ? 'Waiting for master to send event' : r.io === 'Connecting' ? 'Reconnecting after a failed master event read' : '';
  const sqlState = r.sql ? 'Slave has read all relay log; waiting for more updates' : '';
  const behind = r.io === 'Yes' && r.sql ? r.secondsBehind : null;
  return [
    ['Slave_IO_State', 'Replica_IO_State', io],
    ['Master_Host', 'Source_Host', r.masterHost],
    ['Master_User', 'Source_User', r.masterUser],
    ['Master_Port', 'Source_Port', r.masterPort],
    ['Connect_Retry', 'Connect_Retry', 60],
    ['Master_Log_File', 'Source_Log_File', r.read.file],
    ['Read_Master_Log_Pos', 'Read_Source_Log_Pos', String(r.read.position)],
    ['Relay_Log_File', 'Relay_Log_File', r.relayFile],
    ['Relay_Log_Pos', 'Relay_Log_Pos', String(r.relayPos)],
    ['Relay_Master_Log_File', 'Relay_Source_Log_File', r.exec.file],
    ['Slave_IO_Running', 'Replica_IO_Running', r.io],
    ['Slave_SQL_Running', 'Replica_SQL_Running', r.sql ? 'Yes' : 'No'],
    ['Replicate_Do_DB', 'Replicate_Do_DB', ''],
    ['Replicate_Ignore_DB', 'Replicate_Ignore_DB', ''],
    ['Replicate_Do_Table', 'Replicate_Do_Table', ''],
    ['Replicate_Ignore_Table', 'Replicate_Ignore_Table', ''],
    ['Replicate_Wild_Do_Table', 'Replicate_Wild_Do_Table', ''],
    ['Replicate_Wild_Ignore_Table', 'Replicate_Wild_Ignore_Table', ''],
    ['Last_Errno', 'Last_Errno', r.lastSqlErrno],
    ['Last_Error', 'Last_Error', r.lastSqlError],
    ['Skip_Counter', 'Skip_Counter', 0],
    ['Exec_Master_Log_Pos', 'Exec_Source_Log_Pos', String(r.exec.position)],
    ['Relay_Log_Space', 'Relay_Log_Space', '4096'],
    ['Seconds_Behind_Master', 'Seconds_Behind_Source', behind === null ? null : String(behind)],
    ['Last_IO_Errno', 'Last_IO_Errno', r.lastIoErrno],
    ['Last_IO_Error', 'Last_IO_Error', r.lastIoError],
    ['Last_SQL_Errno', 'Last_SQL_Errno', r.lastSqlErrno],
    ['Last_SQL_Error', 'Last_SQL_Error', r.lastSqlError],
    ['Master_Server_Id', 'Source_Server_Id', r.masterServerId],
    ['SQL_Delay', 'SQL_Delay', r.sqlDelay],
    ['Slave_SQL_Running_State', 'Replica_SQL_Running_State', sqlState],
  ];
}

function slaveStatusRows(s: FakeServer, form: 'old' | 'new', all: boolean): Row[] {
  const r = s.repl;
  if (!r) return [];
  const row: Row = {};
  if (all) row.Connection_name = '';
  for (const [oldName, newName, value] of slaveColumns(r)) row[form === 'new' ? newName : oldName] = value;
  if (mysql(s.version)) {
    row[form === 'new' ? 'Source_UUID' : 'Master_UUID'] = r.masterUuid;
    row.Retrieved_Gtid_Set = r.retrieved.length ? [...new Set(r.retrieved)].join(',') : '';
    row.Executed_Gtid_Set = s.gtidExecutedText();
    row.Auto_Position = r.gtid === 'auto' ? 1 : 0;
    row.Channel_Name = '';
  } else {
    row.Using_Gtid = r.gtid === 'no' ? 'No' : r.gtid === 'slave_pos' ? 'Slave_Pos' : 'Current_Pos';
    row.Gtid_IO_Pos = r.retrieved.at(-1) ?? '';
    if (all) row.Gtid_Slave_Pos = s.gtidSlavePosText();
  }
  return [row];
}

// ---------------------------------------------------------------------------------------------
// CHANGE MASTER options

function parseOptions(v: FakeVersion, text: string): Map<string, string | number> {
  const out = new Map<string, string | number>();
  let i = 0;
  const backslash = true; // the fake's sessions run without NO_BACKSLASH_ESCAPES
  while (i < text.length) {
    const name = /^([A-Z_]+)=/.exec(text.slice(i));
    if (!name) throw syntaxError(v, text.slice(i, i + 40));
    i += name[0].length;
    let value: string | number;
    if (text[i] === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= text.length) throw syntaxError(v, text.slice(-20));
        const c = text[i]!;
        if (c === "'" && text[i + 1] === "'") {
          s += "'";
          i += 2;
        } else if (c === "'") {
          i++;
          break;
        } else if (c === '\\' && backslash) {
          const n = text[i + 1]!;
          s += n === '0' ? '\0' : n;
          i += 2;
        } else {
          s += c;
          i++;
        }
      }
      value = s;
    } else {
      const w = /^[A-Za-z0-9_]+/.exec(text.slice(i));
      if (!w) throw syntaxError(v, text.slice(i, i + 40));
      value = /^\d+$/.test(w[0]) ? Number(w[0]) : w[0];
      i += w[0].length;
    }
    out.set(name[1]!, value);
    if (text.startsWith(', ', i)) i += 2;
    else if (i < text.length) throw syntaxError(v, text.slice(i, i + 40));
  }
  return out;
}

function changeMaster(ctx: ExecContext, form: string, optionText: string): Row[] {
  const { server: s } = ctx;
  const v = s.version;
  const source = form === 'REPLICATION SOURCE';
  if (source ? !grammar.changeReplicationSource(v) : !grammar.changeMaster(v)) throw syntaxError(v, `${form} TO`);
  const opts = parseOptions(v, optionText);
  const p = source ? 'SOURCE_' : 'MASTER_';
  const known = new Set([`${p}HOST`, `${p}PORT`, `${p}USER`, `${p}PASSWORD`, `${p}LOG_FILE`, `${p}LOG_POS`, `${p}CONNECT_RETRY`]);
  if (mysql(v)) known.add(`${p}AUTO_POSITION`);
  else known.add('MASTER_USE_GTID');
  if (mysql(v) && atLeast(v, 8)) known.add(source ? 'GET_SOURCE_PUBLIC_KEY' : 'GET_MASTER_PUBLIC_KEY');
  for (const k of opts.keys()) if (!known.has(k)) throw syntaxError(v, `${k}=`);
  if (s.readLockBy !== undefined && s.readLockBy !== ctx.session.id) {
    throw new FakeSqlError(
      1205,
      'ER_LOCK_WAIT_TIMEOUT',
      'HY000',
      `Lock wait timeout exceeded; try restarting transaction (fake cluster: CHANGE MASTER waits for the global read lock held by connection ${s.readLockBy})`,
    );
  }
  const str = (k: string) => (opts.has(k) ? String(opts.get(k)) : undefined);
  const num = (k: string) => (opts.has(k) ? Number(opts.get(k)) : undefined);
  let gtid: Repl['gtid'] | undefined;
  if (mysql(v) && opts.has(`${p}AUTO_POSITION`)) {
    gtid = num(`${p}AUTO_POSITION`) === 1 ? 'auto' : 'no';
    if (gtid === 'auto' && s.gtidMode !== 'ON')
      throw new FakeSqlError(
        1777,
        'ER_AUTO_POSITION_REQUIRES_GTID_MODE_NOT_OFF',
        'HY000',
        'CHANGE MASTER TO MASTER_AUTO_POSITION = 1 cannot be executed because @@GLOBAL.GTID_MODE = OFF.',
      );
  }
  if (mariadb(v) && opts.has('MASTER_USE_GTID')) {
    const g = String(opts.get('MASTER_USE_GTID')).toLowerCase();
    if (g !== 'no' && g !== 'slave_pos' && g !== 'current_pos') throw syntaxError(v, `MASTER_USE_GTID=${g}`);
    gtid = g;
  }
  const file = str(`${p}LOG_FILE`);
  if (file !== undefined && gtid !== undefined && gtid !== 'no') {
    throw new FakeSqlError(
      1776,
      'ER_BAD_SLAVE_AUTO_POSITION',
      'HY000',
      'Parameters MASTER_LOG_FILE, MASTER_LOG_POS, RELAY_LOG_FILE and RELAY_LOG_POS cannot be set when MASTER_AUTO_POSITION is active.',
    );
  }
  s.changeMaster({ host: str(`${p}HOST`), port: num(`${p}PORT`), user: str(`${p}USER`), password: str(`${p}PASSWORD`), file, position: num(`${p}LOG_POS`), gtid });
  return [];
}

// ---------------------------------------------------------------------------------------------
// The statements

interface Statement {
  re: RegExp;
  run(ctx: ExecContext, m: RegExpExecArray): Row[];
}

const PROCESSLIST_LONG_QUERIES =
  "SELECT ID AS id, TIME AS t, LEFT(INFO, 80) AS q FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query' AND ID <> CONNECTION_ID() AND USER <> 'system user' AND INFO IS NOT NULL";
const PROCESSLIST_CLIENTS =
  "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER NOT IN ('system user', 'event_scheduler') AND COMMAND NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Daemon')";
const INNODB_WRITE_TRX =
  "SELECT trx_mysql_thread_id AS id, TIMESTAMPDIFF(SECOND, trx_started, NOW()) AS age FROM information_schema.innodb_trx WHERE trx_rows_modified > 0 OR trx_state <> 'RUNNING'";

const exact = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);

const STATEMENTS: Statement[] = [
  {
    re: /^SHOW GLOBAL VARIABLES WHERE Variable_name IN \(((?:'\w+'(?:, )?)+)\)$/,
    run({ server }, m) {
      const wanted = m[1]!.split(', ').map((x) => x.slice(1, -1));
      const vars = globalVariables(server);
      return wanted.filter((n) => vars.has(n)).map((n) => ({ Variable_name: n, Value: vars.get(n)! }));
    },
  },
  {
    re: /^SELECT (@@(?:GLOBAL|SESSION)\.\w+ AS `?\w+`?(?:, @@(?:GLOBAL|SESSION)\.\w+ AS `?\w+`?)*)$/,
    run(ctx, m) {
      const row: Row = {};
      for (const part of m[1]!.split(', ')) {
        const p = /^@@(GLOBAL|SESSION)\.(\w+) AS `?(\w+)`?$/.exec(part)!;
        row[p[3]!] = variable(ctx, p[1]!, p[2]!);
      }
      return [row];
    },
  },
  {
    re: /^SHOW (MASTER|BINARY LOG|BINLOG) STATUS$/,
    run({ server }, m) {
      const v = server.version;
      const ok = m[1] === 'MASTER' ? grammar.showMasterStatus(v) : m[1] === 'BINARY LOG' ? grammar.showBinaryLogStatus(v) : grammar.showBinlogStatus(v);
      if (!ok) throw syntaxError(v, `${m[1]} STATUS`);
      return masterStatusRows(server);
    },
  },
  {
    re: /^SHOW (ALL )?(SLAVE|REPLICA)(S?) STATUS$/,
    run({ server }, m) {
      const v = server.version;
      const all = m[1] !== undefined;
      if (!slaveWordOk(v, m[2]!) || all !== (m[3] === 'S') || (all && !mariadb(v))) throw syntaxError(v, `${m[1] ?? ''}${m[2]}${m[3]} STATUS`);
      server.runSqlThread();
      return slaveStatusRows(server, mysql(v) && m[2] === 'REPLICA' ? 'new' : 'old', all);
    },
  },
  {
    re: /^(START|STOP) (SLAVE|REPLICA)(?: (IO_THREAD|SQL_THREAD))?$/,
    run({ server }, m) {
      if (!slaveWordOk(server.version, m[2]!)) throw syntaxError(server.version, `${m[2]}`);
      const which = m[3] === 'IO_THREAD' ? 'io' : m[3] === 'SQL_THREAD' ? 'sql' : 'both';
      if (m[1] === 'START') server.startSlave(which);
      else server.stopSlave(which);
      return [];
    },
  },
  {
    re: /^RESET (SLAVE|REPLICA) ALL$/,
    run({ server }, m) {
      if (!slaveWordOk(server.version, m[1]!)) throw syntaxError(server.version, `${m[1]} ALL`);
      server.resetSlaveAll();
      return [];
    },
  },
  { re: /^CHANGE (MASTER|REPLICATION SOURCE) TO (.+)$/, run: (ctx, m) => changeMaster(ctx, m[1]!, m[2]!) },
  {
    re: /^SET GLOBAL (read_only|super_read_only) = (0|1)$/,
    run({ server }, m) {
      const on = m[2] === '1';
      if (m[1] === 'super_read_only') {
        if (!grammar.superReadOnly(server.version)) throw new FakeSqlError(1193, 'ER_UNKNOWN_SYSTEM_VARIABLE', 'HY000', "Unknown system variable 'super_read_only'");
        server.superReadOnly = on;
        if (on) server.readOnly = true;
      } else {
        server.readOnly = on;
        if (!on) server.superReadOnly = false;
      }
      return [];
    },
  },
  {
    re: /^SET GLOBAL max_allowed_packet = (\d+)$/,
    run({ server }, m) {
      server.maxAllowedPacket = Math.min(Number(m[1]), 1_073_741_824);
      return [];
    },
  },
  {
    re: /^SET GLOBAL gtid_slave_pos = (\?|@@GLOBAL\.gtid_binlog_pos)$/,
    run({ server, params }, m) {
      if (!mariadb(server.version)) throw new FakeSqlError(1193, 'ER_UNKNOWN_SYSTEM_VARIABLE', 'HY000', "Unknown system variable 'gtid_slave_pos'");
      const r = server.repl;
      if (r && (r.io !== 'No' || r.sql))
        throw new FakeSqlError(1198, 'ER_SLAVE_MUST_STOP', 'HY000', "This operation cannot be performed as you have a running slave ''; run STOP SLAVE '' first");
      const value = m[1] === '?' ? String(params[0]) : server.gtidBinlogPos();
      if (value !== '' && !/^\d+-\d+-\d+(,\d+-\d+-\d+)*$/.test(value)) throw new FakeSqlError(1942, 'ER_INCORRECT_GTID_STATE', 'HY000', `Could not parse GTID list '${value}'`);
      server.gtidSlavePos = new Map(
        value
          .split(',')
          .filter(Boolean)
          .map((g) => [Number(g.split('-')[0]), g]),
      );
      return [];
    },
  },
  {
    re: /^SET SESSION lock_wait_timeout = (\d+)$/,
    run({ session }, m) {
      session.lockWaitTimeout = Number(m[1]);
      return [];
    },
  },
  {
    re: /^FLUSH TABLES WITH READ LOCK$/,
    run({ server, session }) {
      if (server.readLockBy !== undefined && server.readLockBy !== session.id) {
        throw new FakeSqlError(1205, 'ER_LOCK_WAIT_TIMEOUT', 'HY000', 'Lock wait timeout exceeded; try restarting transaction');
      }
      server.readLockBy = session.id;
      return [];
    },
  },
  {
    re: /^UNLOCK TABLES$/,
    run({ server, session }) {
      if (server.readLockBy === session.id) server.readLockBy = undefined;
      return [];
    },
  },
  { re: /^SELECT CONNECTION_ID\(\) AS id$/, run: ({ session }) => [{ id: session.id }] },
  {
    re: /^KILL (?:CONNECTION )?(\d+)$/,
    run({ server, world }, m) {
      if (!world.killThread(server, Number(m[1]))) throw new FakeSqlError(1094, 'ER_NO_SUCH_THREAD', 'HY000', `Unknown thread id: ${m[1]}`);
      return [];
    },
  },
  {
    re: /^SELECT (MASTER_POS_WAIT|SOURCE_POS_WAIT)\(\?, \?, \?\) AS result$/,
    run({ server, params }, m) {
      if (m[1] === 'SOURCE_POS_WAIT' && !grammar.sourcePosWait(server.version))
        throw new FakeSqlError(1305, 'ER_SP_DOES_NOT_EXIST', '42000', 'FUNCTION SOURCE_POS_WAIT does not exist');
      const [file, position, timeout] = params as [string, number, number];
      if (!(Number(timeout) > 0)) throw new Error(`fake cluster: ${m[1]} without a positive timeout would wait forever`);
      return [{ result: server.waitForPos({ file, position: Number(position) }) }];
    },
  },
  {
    re: exact(INNODB_WRITE_TRX),
    run: ({ server }) => server.innodbTrx.filter((t) => t.rowsModified > 0 || t.state !== 'RUNNING').map((t) => ({ id: String(t.threadId), age: String(t.ageSeconds) })),
  },
  {
    re: exact(PROCESSLIST_LONG_QUERIES),
    run: ({ server, session, world }) =>
      server
        .processlist(world.slavesOf(server))
        .filter((t) => t.command === 'Query' && t.id !== session.id && t.user !== 'system user' && t.info !== null)
        .map((t) => ({ id: String(t.id), t: t.time, q: t.info!.slice(0, 80) })),
  },
  {
    re: exact(PROCESSLIST_CLIENTS),
    run: ({ server, world }) =>
      server
        .processlist(world.slavesOf(server))
        .filter((t) => !['system user', 'event_scheduler'].includes(t.user) && !['Binlog Dump', 'Binlog Dump GTID', 'Daemon'].includes(t.command))
        .map((t) => ({ id: String(t.id) })),
  },
];

/** Runs one statement; UnknownStatement when the fake does not know its text. */
export function execute(ctx: ExecContext, text: string): Row[] {
  for (const st of STATEMENTS) {
    const m = st.re.exec(text);
    if (m) return st.run(ctx, m);
  }
  throw new UnknownStatement(ctx.server.id, text);
}
