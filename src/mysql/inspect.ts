// Reads one server's state in as few round trips as possible:
//   1. SHOW GLOBAL VARIABLES WHERE Variable_name IN (...)   — version, flavor, settings, GTIDs
//  (1b. SELECT @@GLOBAL.gtid_...                             — only if SHOW VARIABLES cut a GTID set)
//   2. SHOW MASTER STATUS / SHOW BINARY LOG STATUS           — skipped when log_bin is off
//   3. SHOW [ALL] SLAVE[S] STATUS / SHOW REPLICA STATUS      — normalized to one SlaveStatus
// Replies are checked, not trusted: a missing column or a position that is not a number is an
// Error naming the column and the statement, never a silent 0.

import {
  LONG_VARIABLES,
  MARIADB_GTID_MODES,
  MASTER_STATUS_COLUMNS,
  SHOW_VARIABLES_VALUE_LIMIT,
  SLAVE_STATUS_COLUMNS,
  VARIABLES,
  VARIABLE_COLUMNS,
  dialectFor,
  selectGlobalVariables,
  showServerVariables,
} from './dialect.js';
import type { Dialect, GtidState, MasterStatus, ServerState, SlaveStatus, SqlRunner } from './types.js';
import { parseVersion } from './version.js';

type Row = Record<string, unknown>;

/** Reads the whole ServerState of the server behind `runner`. */
export async function readServerState(runner: SqlRunner): Promise<ServerState> {
  const vars = await readVariables(runner);
  const version = parseVersion(vars.require(VARIABLES.version), vars.get(VARIABLES.versionComment));
  const dialect = dialectFor(version);
  await rereadTruncated(runner, vars);

  const logBin = vars.bool(VARIABLES.logBin);
  const state: ServerState = {
    version,
    serverId: vars.uint(VARIABLES.serverId),
    readOnly: vars.bool(VARIABLES.readOnly),
    logBin,
    logSlaveUpdates: vars.boolOneOf(VARIABLES.logSlaveUpdates),
    binlogFormat: vars.require(VARIABLES.binlogFormat),
    relayLogPurge: vars.bool(VARIABLES.relayLogPurge),
    datadir: vars.require(VARIABLES.datadir),
    gtid: readGtidState(dialect, vars),
  };
  if (version.flavor === 'mysql') {
    state.serverUuid = vars.require(VARIABLES.mysql.serverUuid);
    if (dialect.supportsSuperReadOnly) state.superReadOnly = vars.bool(VARIABLES.mysql.superReadOnly);
  }
  setIfNotEmpty(state, 'binlogBasename', logBin ? vars.get(VARIABLES.logBinBasename) : undefined);
  setIfNotEmpty(state, 'relayLogBasename', vars.get(VARIABLES.relayLogBasename));
  setIfNotEmpty(state, 'relayLogIndex', vars.get(VARIABLES.relayLogIndex));

  if (logBin) {
    const masterStatus = await readMasterStatus(runner, dialect, vars);
    if (masterStatus) state.masterStatus = masterStatus;
  }
  const slaveStatus = await readSlaveStatus(runner, dialect, vars);
  if (slaveStatus) state.slaveStatus = slaveStatus;
  return state;
}

function setIfNotEmpty<K extends 'binlogBasename' | 'relayLogBasename' | 'relayLogIndex'>(state: ServerState, key: K, value: string | undefined): void {
  if (value !== undefined && value !== '') state[key] = value;
}

// ---------------------------------------------------------------------------------------------
// Variables

class Variables {
  constructor(
    readonly statement: string,
    readonly values: Map<string, string>,
  ) {}

  get(name: string): string | undefined {
    return this.values.get(name);
  }

  require(name: string): string {
    const v = this.values.get(name);
    if (v === undefined) throw new Error(`${this.statement}: the server did not report variable ${name}`);
    return v;
  }

  bool(name: string): boolean {
    return parseBool(this.require(name), `variable ${name}`, this.statement);
  }

  boolOneOf(names: readonly string[]): boolean {
    for (const n of names) if (this.values.has(n)) return this.bool(n);
    throw new Error(`${this.statement}: the server reported none of the variables ${names.join(', ')}`);
  }

  uint(name: string): number {
    return toUint(this.require(name), `variable ${name}`, this.statement);
  }
}

async function readVariables(runner: SqlRunner): Promise<Variables> {
  const sql = showServerVariables();
  const statement = 'SHOW GLOBAL VARIABLES';
  const rows = await runner.query(sql);
  const values = new Map<string, string>();
  for (const row of rows) {
    const name = column(row, [VARIABLE_COLUMNS.name], statement);
    const value = column(row, [VARIABLE_COLUMNS.value], statement);
    // NULL values (unset path variables on some builds) read as empty.
    values.set(requiredText(name, VARIABLE_COLUMNS.name, statement).toLowerCase(), value === null ? '' : text(value, VARIABLE_COLUMNS.value, statement));
  }
  return new Variables(statement, values);
}

/** Values SHOW VARIABLES may have cut at 1024 characters are read again, whole. */
async function rereadTruncated(runner: SqlRunner, vars: Variables): Promise<void> {
  const cut = LONG_VARIABLES.filter((n) => (vars.get(n)?.length ?? 0) >= SHOW_VARIABLES_VALUE_LIMIT);
  if (cut.length === 0) return;
  const sql = selectGlobalVariables(cut);
  const rows = await runner.query(sql);
  const row = single(rows, 'SELECT @@GLOBAL');
  for (const n of cut) {
    const v = column(row, [n], 'SELECT @@GLOBAL');
    vars.values.set(n, v === null ? '' : text(v, n, 'SELECT @@GLOBAL'));
  }
}

function readGtidState(dialect: Dialect, vars: Variables): GtidState {
  if (dialect.version.flavor === 'mariadb') {
    const m = VARIABLES.mariadb;
    return {
      // MariaDB always writes GTIDs into its binlogs; whether slaves use them is per slave.
      enabled: true,
      executed: normalizeGtidSet(vars.require(m.gtidCurrentPos)),
      binlogPos: normalizeGtidSet(vars.require(m.gtidBinlogPos)),
      slavePos: normalizeGtidSet(vars.require(m.gtidSlavePos)),
      strictMode: vars.bool(m.gtidStrictMode),
    };
  }
  const m = VARIABLES.mysql;
  const mode = vars.require(m.gtidMode).toUpperCase();
  return {
    enabled: mode === 'ON' || mode === 'ON_PERMISSIVE',
    mode,
    executed: normalizeGtidSet(vars.require(m.gtidExecuted)),
    purged: normalizeGtidSet(vars.require(m.gtidPurged)),
  };
}

// ---------------------------------------------------------------------------------------------
// Master status

async function readMasterStatus(runner: SqlRunner, dialect: Dialect, vars: Variables): Promise<MasterStatus | undefined> {
  const sql = dialect.showMasterStatus();
  const rows = await runner.query(sql);
  // No row: binary logging is off after all (or was turned off since the variables were read).
  if (rows.length === 0) return undefined;
  const row = single(rows, sql);
  const c = MASTER_STATUS_COLUMNS;
  const gtidSet =
    dialect.version.flavor === 'mariadb' ? vars.require(VARIABLES.mariadb.gtidBinlogPos) : nullableText(column(row, [c.executedGtidSet], sql), c.executedGtidSet, sql);
  return {
    file: requiredText(column(row, [c.file], sql), c.file, sql),
    position: toUint(column(row, [c.position], sql), `column ${c.position}`, sql),
    gtidSet: normalizeGtidSet(gtidSet),
  };
}

// ---------------------------------------------------------------------------------------------
// Slave status

async function readSlaveStatus(runner: SqlRunner, dialect: Dialect, vars: Variables): Promise<SlaveStatus | undefined> {
  const sql = dialect.showAllSlavesStatus();
  const rows = await runner.query(sql);
  if (rows.length === 0) return undefined;
  rejectMultiSource(rows, sql);
  return parseSlaveStatusRow(rows[0]!, sql, dialect, vars);
}

/**
 * ha manages one unnamed replication stream per slave, as MHA does: several rows (MySQL channels,
 * MariaDB connections) or a single named one would be half-managed by START/STOP/CHANGE MASTER.
 */
function rejectMultiSource(rows: Row[], sql: string): void {
  const names = rows.map((row) => {
    const found = findColumn(row, [...SLAVE_STATUS_COLUMNS.channelName, ...SLAVE_STATUS_COLUMNS.connectionName]);
    // A name column: a string, or a Buffer (binary collation) that String() decodes.
    // eslint-disable-next-line @typescript-eslint/no-base-to-string
    return found === undefined || found.value === null ? '' : String(found.value);
  });
  if (rows.length === 1 && names[0] === '') return;
  const list = names.map((n) => (n === '' ? "'' (default)" : `'${n}'`)).join(', ');
  if (rows.length > 1) {
    throw new Error(`${sql}: multi-source replication not supported: ${rows.length} replication channels/connections: ${list}`);
  }
  throw new Error(`${sql}: multi-source replication not supported: the only replication channel/connection is named ${list}; ha manages only the default, unnamed one`);
}

/** Normalizes one SHOW SLAVE/REPLICA STATUS row (any flavor, old or new column names). */
export function parseSlaveStatusRow(row: Row, sql: string, dialect: Dialect, vars?: { get(name: string): string | undefined }): SlaveStatus {
  const C = SLAVE_STATUS_COLUMNS;
  const str = (names: readonly string[]) => requiredText(column(row, names, sql), names.join('/'), sql);
  const optStr = (names: readonly string[]) => {
    const f = findColumn(row, names);
    return f === undefined ? undefined : nullableText(f.value, f.name, sql);
  };
  const uint = (names: readonly string[]) => {
    const f = requireColumn(row, names, sql);
    return toUint(f.value, `column ${f.name}`, sql);
  };
  const nullableUint = (names: readonly string[]) => {
    const f = requireColumn(row, names, sql);
    return f.value === null ? null : toUint(f.value, `column ${f.name}`, sql);
  };

  const ioCol = requireColumn(row, C.ioRunning, sql);
  const ioText = requiredText(ioCol.value, ioCol.name, sql);
  // MariaDB reports "Preparing" for an IO thread that has connected but not started reading yet
  // (seen right after START SLAVE): not running yet, like Connecting.
  const ioRunning = ioText === 'Preparing' ? 'Connecting' : ioText;
  if (ioRunning !== 'Yes' && ioRunning !== 'No' && ioRunning !== 'Connecting') {
    throw new Error(`${sql}: column ${ioCol.name} is ${JSON.stringify(ioText)}, expected Yes, No, Connecting or Preparing`);
  }
  const sqlCol = requireColumn(row, C.sqlRunning, sql);
  const sqlRunning = parseYesNo(requiredText(sqlCol.value, sqlCol.name, sql), sqlCol.name, sql);

  const masterServerId = uint(C.masterServerId);
  const status: SlaveStatus = {
    masterHost: str(C.masterHost),
    masterPort: uint(C.masterPort),
    masterUser: str(C.masterUser),
    ioRunning,
    sqlRunning,
    readPosition: { file: str(C.readFile), position: uint(C.readPos) },
    execPosition: { file: str(C.execFile), position: uint(C.execPos) },
    relayLogPosition: { file: str(C.relayFile), position: uint(C.relayPos) },
    secondsBehindMaster: nullableUint(C.secondsBehind),
    lastIoErrno: uint(C.lastIoErrno),
    lastIoError: str(C.lastIoError),
    lastSqlErrno: uint(C.lastSqlErrno),
    lastSqlError: str(C.lastSqlError),
    usesGtid: false,
    retrievedGtidSet: '',
    executedGtidSet: '',
    // 0 until the IO thread has connected once: no master has server_id 0.
    masterServerId: masterServerId === 0 ? null : masterServerId,
    sqlDelay: uint(C.sqlDelay),
    filters: {
      doDb: str(C.doDb),
      ignoreDb: str(C.ignoreDb),
      doTable: str(C.doTable),
      ignoreTable: str(C.ignoreTable),
      wildDoTable: str(C.wildDoTable),
      wildIgnoreTable: str(C.wildIgnoreTable),
    },
    ioState: optStr(C.ioState) ?? '',
    sqlRunningState: optStr(C.sqlRunningState) ?? '',
  };

  if (dialect.version.flavor === 'mariadb') {
    const usingGtid = str(C.usingGtid);
    status.mariadbUsingGtid = usingGtid;
    status.usesGtid = MARIADB_GTID_MODES.includes(usingGtid);
    status.retrievedGtidSet = normalizeGtidSet(str(C.gtidIoPos));
    status.executedGtidSet = normalizeGtidSet(vars?.get(VARIABLES.mariadb.gtidSlavePos) ?? '');
  } else {
    const auto = uint(C.autoPosition);
    if (auto !== 0 && auto !== 1) throw new Error(`${sql}: column Auto_Position is ${auto}, expected 0 or 1`);
    status.usesGtid = auto === 1;
    status.retrievedGtidSet = normalizeGtidSet(str(C.retrievedGtidSet));
    status.executedGtidSet = normalizeGtidSet(str(C.executedGtidSet));
    status.masterUuid = str(C.masterUuid);
  }
  return status;
}

// ---------------------------------------------------------------------------------------------
// Value checks

/**
 * GTID sets without the line breaks MySQL puts after each comma ("uuid:1-5,\nuuid:1-3") and in
 * lower case (MySQL compares UUIDs and tags case-insensitively; MariaDB's are digits).
 */
export function normalizeGtidSet(value: string): string {
  return value.replace(/\s+/g, '').toLowerCase();
}

function single(rows: Row[], sql: string): Row {
  if (rows.length !== 1) throw new Error(`${sql}: expected one row, got ${rows.length}`);
  return rows[0]!;
}

function findColumn(row: Row, names: readonly string[]): { name: string; value: unknown } | undefined {
  for (const name of names) if (Object.prototype.hasOwnProperty.call(row, name)) return { name, value: row[name] };
  return undefined;
}

function requireColumn(row: Row, names: readonly string[], sql: string): { name: string; value: unknown } {
  const f = findColumn(row, names);
  if (f === undefined) throw new Error(`${sql}: the reply has no column ${names.join(' or ')}`);
  return f;
}

function column(row: Row, names: readonly string[], sql: string): unknown {
  return requireColumn(row, names, sql).value;
}

function text(value: unknown, name: string, sql: string): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  throw new Error(`${sql}: column ${name} is ${describe(value)}, expected text`);
}

function requiredText(value: unknown, name: string, sql: string): string {
  if (value === null || value === undefined) throw new Error(`${sql}: column ${name} is NULL, expected text`);
  return text(value, name, sql);
}

function nullableText(value: unknown, name: string, sql: string): string {
  return value === null || value === undefined ? '' : text(value, name, sql);
}

/**
 * A non-negative integer from whatever mysql2 hands back (number, decimal string with
 * bigNumberStrings, BigInt). Positions beyond 2^53 are refused rather than rounded.
 */
export function toUint(value: unknown, what: string, sql: string): number {
  let n: number | undefined;
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0) n = value;
  } else if (typeof value === 'bigint') {
    if (value >= 0n) {
      if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${sql}: ${what} is ${value}, beyond 2^53: cannot be held exactly`);
      n = Number(value);
    }
  } else if (typeof value === 'string' || Buffer.isBuffer(value)) {
    const s = String(value).trim();
    if (/^\d+$/.test(s)) {
      const big = BigInt(s);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${sql}: ${what} is ${s}, beyond 2^53: cannot be held exactly`);
      n = Number(big);
    }
  }
  if (n === undefined) throw new Error(`${sql}: ${what} is ${describe(value)}, expected a non-negative integer`);
  return n;
}

function parseBool(value: string, what: string, sql: string): boolean {
  const v = value.trim().toUpperCase();
  if (v === 'ON' || v === '1' || v === 'YES' || v === 'TRUE') return true;
  if (v === 'OFF' || v === '0' || v === 'NO' || v === 'FALSE') return false;
  throw new Error(`${sql}: ${what} is ${JSON.stringify(value)}, expected ON or OFF`);
}

function parseYesNo(value: string, name: string, sql: string): boolean {
  if (value === 'Yes') return true;
  if (value === 'No') return false;
  throw new Error(`${sql}: column ${name} is ${JSON.stringify(value)}, expected Yes or No`);
}

function describe(value: unknown): string {
  if (value === null) return 'NULL';
  if (value === undefined) return 'missing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'object') return Buffer.isBuffer(value) ? `a ${value.length}-byte buffer` : `an object`;
  // Objects are handled above: what is left (a number, a boolean) has a useful String().
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  return String(value);
}
