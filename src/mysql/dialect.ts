// Every statement, column and variable name that differs between MySQL 5.7, 8.0, 8.4+ and
// MariaDB lives here and nowhere else.
//
// MySQL:   8.0.22 renamed SLAVE statements to REPLICA (SHOW REPLICA STATUS, START/STOP REPLICA,
//          RESET REPLICA) and SHOW REPLICA STATUS answers with Source_/Replica_ column names
//          (SHOW SLAVE STATUS keeps the old names while it exists); 8.0.23 added CHANGE REPLICATION
//          SOURCE TO with SOURCE_* options; 8.0.26 SOURCE_POS_WAIT; 8.2.0 SHOW BINARY LOG STATUS and
//          RESET BINARY LOGS AND GTIDS; 8.4.0 removed every old form.
// MariaDB: 10.5.1 added REPLICA aliases (SHOW [ALL] REPLICA[S] STATUS, START/STOP/RESET REPLICA,
//          SHOW REPLICA HOSTS), 10.5.2 SHOW BINLOG STATUS; CHANGE MASTER TO stays, with
//          MASTER_USE_GTID; the old names still work in 11.x, but the new ones are used where they
//          exist so that a future removal does not catch ha out.

import type { BinlogCoordinate, ChangeMasterOptions, ChangeMasterStatement, Dialect, QuotingOptions, ServerVersion, WaitStatement } from './types.js';
import { atLeast, describeVersion } from './version.js';

// ---------------------------------------------------------------------------------------------
// Variables

/** Names of the server variables ha reads; which exist depends on flavor and version. */
export const VARIABLES = {
  version: 'version',
  versionComment: 'version_comment',
  serverId: 'server_id',
  readOnly: 'read_only',
  logBin: 'log_bin',
  logBinBasename: 'log_bin_basename',
  /** 8.0.26 renamed log_slave_updates; the first one the server has wins. */
  logSlaveUpdates: ['log_replica_updates', 'log_slave_updates'],
  binlogFormat: 'binlog_format',
  relayLogBasename: 'relay_log_basename',
  relayLogIndex: 'relay_log_index',
  relayLogPurge: 'relay_log_purge',
  datadir: 'datadir',
  mysql: {
    serverUuid: 'server_uuid',
    superReadOnly: 'super_read_only',
    gtidMode: 'gtid_mode',
    gtidExecuted: 'gtid_executed',
    gtidPurged: 'gtid_purged',
  },
  mariadb: {
    gtidCurrentPos: 'gtid_current_pos',
    gtidBinlogPos: 'gtid_binlog_pos',
    gtidSlavePos: 'gtid_slave_pos',
    gtidStrictMode: 'gtid_strict_mode',
  },
} as const;

/** Every variable of either flavor: the flavor is not known before this first read. */
export const SERVER_VARIABLES: readonly string[] = [
  VARIABLES.version,
  VARIABLES.versionComment,
  VARIABLES.serverId,
  VARIABLES.readOnly,
  VARIABLES.logBin,
  VARIABLES.logBinBasename,
  ...VARIABLES.logSlaveUpdates,
  VARIABLES.binlogFormat,
  VARIABLES.relayLogBasename,
  VARIABLES.relayLogIndex,
  VARIABLES.relayLogPurge,
  VARIABLES.datadir,
  ...Object.values(VARIABLES.mysql),
  ...Object.values(VARIABLES.mariadb),
];

/**
 * SHOW GLOBAL VARIABLES rather than SELECT @@x: a SELECT of a variable the server lacks fails
 * (no @@super_read_only on MariaDB, no @@gtid_current_pos on MySQL), a WHERE ... IN list
 * simply leaves it out. One round trip whatever the flavor.
 */
export function showServerVariables(names: readonly string[] = SERVER_VARIABLES): string {
  for (const n of names) assertVariableName(n);
  return `SHOW GLOBAL VARIABLES WHERE Variable_name IN (${names.map((n) => `'${n}'`).join(', ')})`;
}

/** Columns of SHOW GLOBAL VARIABLES (the same in MySQL and MariaDB). */
export const VARIABLE_COLUMNS = { name: 'Variable_name', value: 'Value' } as const;

/**
 * SHOW VARIABLES cuts values at 1024 characters in MySQL 5.7+ (performance_schema's
 * VARIABLE_VALUE is VARCHAR(1024)); a gtid_executed that long (many failovers, many server
 * UUIDs) must be read again with SELECT @@GLOBAL.
 */
export const SHOW_VARIABLES_VALUE_LIMIT = 1024;

/** Variables whose values can outgrow SHOW_VARIABLES_VALUE_LIMIT. */
export const LONG_VARIABLES: readonly string[] = [
  VARIABLES.mysql.gtidExecuted,
  VARIABLES.mysql.gtidPurged,
  VARIABLES.mariadb.gtidCurrentPos,
  VARIABLES.mariadb.gtidBinlogPos,
  VARIABLES.mariadb.gtidSlavePos,
];

/** SELECT @@GLOBAL.a AS `a`, ... — only for variables the server is known to have. */
export function selectGlobalVariables(names: readonly string[]): string {
  if (names.length === 0) throw new Error('selectGlobalVariables: no variable names');
  for (const n of names) assertVariableName(n);
  return `SELECT ${names.map((n) => `@@GLOBAL.${n} AS \`${n}\``).join(', ')}`;
}

function assertVariableName(name: string): void {
  // Names are ours, never user input; the check keeps it that way.
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad server variable name ${JSON.stringify(name)}`);
}

// ---------------------------------------------------------------------------------------------
// Columns

/** SHOW MASTER STATUS / SHOW BINARY LOG STATUS / SHOW BINLOG STATUS. */
export const MASTER_STATUS_COLUMNS = {
  file: 'File',
  position: 'Position',
  /** MySQL only; MariaDB has @@gtid_binlog_pos instead. */
  executedGtidSet: 'Executed_Gtid_Set',
} as const;

/**
 * SHOW SLAVE STATUS vs SHOW REPLICA STATUS column names: each field lists the names it may
 * have, newest first. Reading accepts any of them, whatever statement was sent: MySQL 8.0.22+
 * answers SHOW SLAVE STATUS with the old names, SHOW REPLICA STATUS with the new ones.
 */
export const SLAVE_STATUS_COLUMNS = {
  ioState: ['Replica_IO_State', 'Slave_IO_State'],
  masterHost: ['Source_Host', 'Master_Host'],
  masterUser: ['Source_User', 'Master_User'],
  masterPort: ['Source_Port', 'Master_Port'],
  readFile: ['Source_Log_File', 'Master_Log_File'],
  readPos: ['Read_Source_Log_Pos', 'Read_Master_Log_Pos'],
  relayFile: ['Relay_Log_File'],
  relayPos: ['Relay_Log_Pos'],
  execFile: ['Relay_Source_Log_File', 'Relay_Master_Log_File'],
  ioRunning: ['Replica_IO_Running', 'Slave_IO_Running'],
  sqlRunning: ['Replica_SQL_Running', 'Slave_SQL_Running'],
  doDb: ['Replicate_Do_DB'],
  ignoreDb: ['Replicate_Ignore_DB'],
  doTable: ['Replicate_Do_Table'],
  ignoreTable: ['Replicate_Ignore_Table'],
  wildDoTable: ['Replicate_Wild_Do_Table'],
  wildIgnoreTable: ['Replicate_Wild_Ignore_Table'],
  execPos: ['Exec_Source_Log_Pos', 'Exec_Master_Log_Pos'],
  secondsBehind: ['Seconds_Behind_Source', 'Seconds_Behind_Master'],
  lastIoErrno: ['Last_IO_Errno'],
  lastIoError: ['Last_IO_Error'],
  lastSqlErrno: ['Last_SQL_Errno'],
  lastSqlError: ['Last_SQL_Error'],
  masterServerId: ['Source_Server_Id', 'Master_Server_Id'],
  sqlDelay: ['SQL_Delay'],
  sqlRunningState: ['Replica_SQL_Running_State', 'Slave_SQL_Running_State'],
  // MySQL only
  masterUuid: ['Source_UUID', 'Master_UUID'],
  retrievedGtidSet: ['Retrieved_Gtid_Set'],
  executedGtidSet: ['Executed_Gtid_Set'],
  autoPosition: ['Auto_Position'],
  channelName: ['Channel_Name'],
  // MariaDB only
  connectionName: ['Connection_name'],
  usingGtid: ['Using_Gtid'],
  gtidIoPos: ['Gtid_IO_Pos'],
} as const satisfies Record<string, readonly string[]>;

/** MariaDB's Using_Gtid values that mean the slave replicates by GTID. */
export const MARIADB_GTID_MODES: readonly string[] = ['Slave_Pos', 'Current_Pos'];

// ---------------------------------------------------------------------------------------------
// Quoting (for CHANGE MASTER, which cannot take bound parameters)

/**
 * Quotes a value as an SQL string literal. Why not a `?` placeholder: CHANGE MASTER TO is not
 * preparable (MySQL and MariaDB answer ER_UNSUPPORTED_PS), so with the binary protocol there is
 * no placeholder, and mysql2's client-side `?` substitution escapes with backslashes regardless
 * of the session's sql_mode. Here a quote is doubled (right in every sql_mode) and a backslash
 * is doubled only when backslash escapes are on, which the caller learns from @@SESSION.sql_mode.
 * Line breaks are refused: CHANGE MASTER rejects them in host, user and password, and a value
 * with one is a configuration mistake. `what` names the value in the error; the value itself
 * never appears in it.
 */
export function quoteString(value: string, what: string, quoting: QuotingOptions = {}): string {
  if (typeof value !== 'string') throw new Error(`${what} must be a string`);
  if (/[\r\n]/.test(value)) throw new Error(`${what} contains a line break, which CHANGE MASTER does not accept`);
  let body = value.replace(/'/g, "''");
  if (!quoting.noBackslashEscapes) body = body.replace(/\\/g, '\\\\').replace(/\0/g, '\\0');
  return `'${body}'`;
}

/** What replaces the password in ChangeMasterStatement.redacted. */
export const REDACTED = "'********'";

interface ChangeMasterWords {
  statement: 'CHANGE MASTER TO' | 'CHANGE REPLICATION SOURCE TO';
  /** Option prefix: MASTER_HOST... or SOURCE_HOST... */
  prefix: 'MASTER_' | 'SOURCE_';
  gtid: 'auto-position' | 'use-gtid';
  /** GET_MASTER_PUBLIC_KEY / GET_SOURCE_PUBLIC_KEY, or none (MySQL < 8.0, MariaDB). */
  publicKeyOption?: string;
}

function buildChangeMaster(words: ChangeMasterWords, opts: ChangeMasterOptions, quoting: QuotingOptions): ChangeMasterStatement {
  const p = words.prefix;
  if (typeof opts.host !== 'string' || opts.host === '') throw new Error('CHANGE MASTER: master host is empty');
  if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) {
    throw new Error(`CHANGE MASTER: master port ${String(opts.port)} is not a TCP port`);
  }
  if (typeof opts.user !== 'string' || opts.user === '') throw new Error('CHANGE MASTER: replication user is empty');
  if (typeof opts.password !== 'string') throw new Error('CHANGE MASTER: replication password must be a string');

  const head = [`${p}HOST=${quoteString(opts.host, 'master host', quoting)}`, `${p}PORT=${opts.port}`, `${p}USER=${quoteString(opts.user, 'replication user', quoting)}`];
  const tail: string[] = [];
  if (opts.connectRetry !== undefined) {
    if (!Number.isInteger(opts.connectRetry) || opts.connectRetry < 1) {
      throw new Error(`CHANGE MASTER: connect retry ${String(opts.connectRetry)} is not a positive number of seconds`);
    }
    tail.push(`${p}CONNECT_RETRY=${opts.connectRetry}`);
  }
  const start = opts.start;
  if (start.kind === 'position') {
    if (typeof start.file !== 'string' || start.file === '') throw new Error('CHANGE MASTER: binlog file is empty');
    if (!Number.isSafeInteger(start.position) || start.position < 0) {
      throw new Error(`CHANGE MASTER: binlog position ${String(start.position)} is not a non-negative integer`);
    }
    tail.push(`${p}LOG_FILE=${quoteString(start.file, 'binlog file', quoting)}`, `${p}LOG_POS=${start.position}`);
    // Said explicitly: a slave that used GTID before would otherwise keep doing so (MySQL even
    // refuses LOG_FILE/LOG_POS while AUTO_POSITION=1 is in effect).
    tail.push(words.gtid === 'auto-position' ? `${p}AUTO_POSITION=0` : 'MASTER_USE_GTID=no');
  } else if (start.kind === 'gtid') {
    tail.push(words.gtid === 'auto-position' ? `${p}AUTO_POSITION=1` : 'MASTER_USE_GTID=slave_pos');
  } else {
    throw new Error(`CHANGE MASTER: unknown start ${JSON.stringify(start)}`);
  }
  if (opts.getMasterPublicKey && words.publicKeyOption) tail.push(`${words.publicKeyOption}=1`);

  const password = quoteString(opts.password, 'replication password', quoting);
  const render = (pw: string) => `${words.statement} ${[...head, `${p}PASSWORD=${pw}`, ...tail].join(', ')}`;
  const secrets = [...new Set([opts.password, password.slice(1, -1)])].filter((s) => s !== '');
  return { sql: render(password), redacted: render(REDACTED), secrets };
}

// ---------------------------------------------------------------------------------------------
// Waits

function toWaitInteger(value: unknown, fn: string): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number(value.trim());
  // Whatever else the driver returned (a fraction, a Buffer, a Date): String() shows it as well as anything.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  throw new Error(`${fn} returned ${JSON.stringify(String(value))}, expected an integer or NULL`);
}

function positionWait(fn: 'MASTER_POS_WAIT' | 'SOURCE_POS_WAIT', c: BinlogCoordinate, timeoutSeconds: number): WaitStatement {
  assertTimeout(timeoutSeconds);
  return {
    sql: `SELECT ${fn}(?, ?, ?) AS result`,
    params: [c.file, c.position, timeoutSeconds],
    interpret(value) {
      // >= 0: events waited for; -1: timeout; NULL: SQL thread not running or not a slave.
      const n = toWaitInteger(value, fn);
      if (n === null) return 'not-replicating';
      return n === -1 ? 'timeout' : 'reached';
    },
  };
}

function assertTimeout(timeoutSeconds: number): void {
  // 0 or a negative timeout means "wait forever" to some of these functions: never wanted here.
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    throw new Error(`wait timeout ${String(timeoutSeconds)} is not a positive number of seconds`);
  }
}

// ---------------------------------------------------------------------------------------------
// Dialects

/** The dialect of a server version. Throws for versions ha does not support. */
export function dialectFor(version: ServerVersion): Dialect {
  return version.flavor === 'mariadb' ? mariadbDialect(version) : mysqlDialect(version);
}

function mysqlDialect(v: ServerVersion): Dialect {
  if (!atLeast(v, 5, 7)) {
    throw new Error(`${describeVersion(v)} is not supported: ha needs MySQL 5.7 or later, or MariaDB 10.0 or later`);
  }
  const replica = atLeast(v, 8, 0, 22);
  const source = atLeast(v, 8, 0, 23);
  const binaryLogStatus = atLeast(v, 8, 2, 0);
  const words: ChangeMasterWords = source
    ? { statement: 'CHANGE REPLICATION SOURCE TO', prefix: 'SOURCE_', gtid: 'auto-position', publicKeyOption: 'GET_SOURCE_PUBLIC_KEY' }
    : {
        statement: 'CHANGE MASTER TO',
        prefix: 'MASTER_',
        gtid: 'auto-position',
        ...(atLeast(v, 8, 0) ? { publicKeyOption: 'GET_MASTER_PUBLIC_KEY' } : {}),
      };
  const slave = replica ? 'REPLICA' : 'SLAVE';
  return {
    name: describeVersion(v),
    version: v,
    supportsSuperReadOnly: atLeast(v, 5, 7, 8),
    gtidExecutedVariable: VARIABLES.mysql.gtidExecuted,
    showMasterStatus: () => (binaryLogStatus ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS'),
    showSlaveStatus: () => `SHOW ${slave} STATUS`,
    showAllSlavesStatus: () => `SHOW ${slave} STATUS`,
    showBinaryLogs: () => 'SHOW BINARY LOGS',
    showSlaveHosts: () => (replica ? 'SHOW REPLICAS' : 'SHOW SLAVE HOSTS'),
    startSlave: () => `START ${slave}`,
    stopSlave: () => `STOP ${slave}`,
    startSlaveIoThread: () => `START ${slave} IO_THREAD`,
    stopSlaveIoThread: () => `STOP ${slave} IO_THREAD`,
    startSlaveSqlThread: () => `START ${slave} SQL_THREAD`,
    stopSlaveSqlThread: () => `STOP ${slave} SQL_THREAD`,
    resetSlaveAll: () => `RESET ${slave} ALL`,
    resetMaster: () => (binaryLogStatus ? 'RESET BINARY LOGS AND GTIDS' : 'RESET MASTER'),
    changeMaster: (opts, quoting = {}) => buildChangeMaster(words, opts, quoting),
    waitForMasterPos: (c, t) => positionWait(atLeast(v, 8, 0, 26) ? 'SOURCE_POS_WAIT' : 'MASTER_POS_WAIT', c, t),
    waitForGtid: (gtids, t) => {
      assertTimeout(t);
      return {
        sql: 'SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) AS result',
        params: [gtids, t],
        interpret(value) {
          // 0: executed; 1: timeout.
          const n = toWaitInteger(value, 'WAIT_FOR_EXECUTED_GTID_SET');
          if (n === null) return 'not-replicating';
          return n === 0 ? 'reached' : 'timeout';
        },
      };
    },
  };
}

function mariadbDialect(v: ServerVersion): Dialect {
  if (!atLeast(v, 10, 0)) {
    throw new Error(`${describeVersion(v)} is not supported: ha needs MariaDB 10.0 or later (GTID), or MySQL 5.7 or later`);
  }
  const replica = atLeast(v, 10, 5, 1);
  const slave = replica ? 'REPLICA' : 'SLAVE';
  const words: ChangeMasterWords = { statement: 'CHANGE MASTER TO', prefix: 'MASTER_', gtid: 'use-gtid' };
  return {
    name: describeVersion(v),
    version: v,
    supportsSuperReadOnly: false,
    gtidExecutedVariable: VARIABLES.mariadb.gtidCurrentPos,
    showMasterStatus: () => (atLeast(v, 10, 5, 2) ? 'SHOW BINLOG STATUS' : 'SHOW MASTER STATUS'),
    showSlaveStatus: () => `SHOW ${slave} STATUS`,
    // SHOW SLAVE STATUS shows only the default connection: a second, named one would go unseen.
    showAllSlavesStatus: () => (replica ? 'SHOW ALL REPLICAS STATUS' : 'SHOW ALL SLAVES STATUS'),
    showBinaryLogs: () => 'SHOW BINARY LOGS',
    showSlaveHosts: () => `SHOW ${slave} HOSTS`,
    startSlave: () => `START ${slave}`,
    stopSlave: () => `STOP ${slave}`,
    startSlaveIoThread: () => `START ${slave} IO_THREAD`,
    stopSlaveIoThread: () => `STOP ${slave} IO_THREAD`,
    startSlaveSqlThread: () => `START ${slave} SQL_THREAD`,
    stopSlaveSqlThread: () => `STOP ${slave} SQL_THREAD`,
    resetSlaveAll: () => `RESET ${slave} ALL`,
    resetMaster: () => 'RESET MASTER',
    changeMaster: (opts, quoting = {}) => buildChangeMaster(words, opts, quoting),
    waitForMasterPos: (c, t) => positionWait('MASTER_POS_WAIT', c, t),
    waitForGtid: (gtids, t) => {
      assertTimeout(t);
      return {
        sql: 'SELECT MASTER_GTID_WAIT(?, ?) AS result',
        params: [gtids, t],
        interpret(value) {
          // 0: reached; -1: timeout.
          const n = toWaitInteger(value, 'MASTER_GTID_WAIT');
          if (n === null) return 'not-replicating';
          return n === -1 ? 'timeout' : 'reached';
        },
      };
    },
  };
}
