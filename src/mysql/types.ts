// One normalized view of a MySQL or MariaDB server, whatever its flavor and version.
// Everything that differs between MySQL 5.7, 8.0, 8.4+ and MariaDB (statement names, column
// names, GTID variables) is resolved by the dialect layer; the rest of ha reads only these types.

export type Flavor = 'mysql' | 'mariadb';

export interface ServerVersion {
  flavor: Flavor;
  major: number;
  minor: number;
  patch: number;
  /** @@version as the server reports it, e.g. "10.11.19-MariaDB-0+deb12u1-log". */
  raw: string;
  /** @@version_comment when known, e.g. "MySQL Community Server - GPL", "Percona Server (GPL), Release 27". */
  comment?: string;
}

/** A binlog coordinate: file name and byte offset in it. */
export interface BinlogCoordinate {
  file: string;
  position: number;
}

export interface MasterStatus extends BinlogCoordinate {
  /** MySQL: Executed_Gtid_Set; MariaDB: @@gtid_binlog_pos. Empty string when none. */
  gtidSet: string;
}

export interface SlaveStatus {
  /** Master_Host / Source_Host as configured on the slave. */
  masterHost: string;
  masterPort: number;
  masterUser: string;
  ioRunning: 'Yes' | 'No' | 'Connecting';
  sqlRunning: boolean;
  /** Master_Log_File:Read_Master_Log_Pos — how far the IO thread has read from the master. */
  readPosition: BinlogCoordinate;
  /** Relay_Master_Log_File:Exec_Master_Log_Pos — how far the SQL thread has executed, in master coordinates. */
  execPosition: BinlogCoordinate;
  /** Relay_Log_File:Relay_Log_Pos — where the SQL thread is in the slave's own relay logs. */
  relayLogPosition: BinlogCoordinate;
  secondsBehindMaster: number | null;
  lastIoErrno: number;
  lastIoError: string;
  lastSqlErrno: number;
  lastSqlError: string;
  /** MySQL: Auto_Position=1; MariaDB: Using_Gtid is Slave_Pos or Current_Pos. */
  usesGtid: boolean;
  /** MariaDB only: 'No' | 'Slave_Pos' | 'Current_Pos'. */
  mariadbUsingGtid?: string;
  /** MySQL: Retrieved_Gtid_Set; MariaDB: Gtid_IO_Pos. */
  retrievedGtidSet: string;
  /** MySQL: Executed_Gtid_Set (from the status row); MariaDB: @@gtid_slave_pos. */
  executedGtidSet: string;
  masterServerId: number | null;
  sqlDelay: number;
  /** Filters as the slave reports them in its status. */
  filters: ReplicationFilters;
  /** Slave_IO_State / Replica_IO_State, e.g. "Waiting for master to send event". */
  ioState?: string;
  /** Slave_SQL_Running_State / Replica_SQL_Running_State, e.g. "Slave has read all relay log; waiting for more updates". */
  sqlRunningState?: string;
  /** MySQL: Master_UUID / Source_UUID (empty until the IO thread has connected once); MariaDB: undefined. */
  masterUuid?: string;
}

export interface ReplicationFilters {
  doDb: string;
  ignoreDb: string;
  doTable: string;
  ignoreTable: string;
  wildDoTable: string;
  wildIgnoreTable: string;
}

export interface GtidState {
  /** MySQL: @@gtid_mode is ON (or ON_PERMISSIVE); MariaDB: always true (GTIDs are always written). */
  enabled: boolean;
  /** MySQL: @@gtid_mode raw value; MariaDB: undefined. */
  mode?: string;
  /** MySQL: @@gtid_executed; MariaDB: @@gtid_current_pos. */
  executed: string;
  /** MariaDB: @@gtid_binlog_pos. */
  binlogPos?: string;
  /** MariaDB: @@gtid_slave_pos. */
  slavePos?: string;
  /** MariaDB: @@gtid_strict_mode. */
  strictMode?: boolean;
  /** MySQL: @@gtid_purged. */
  purged?: string;
}

/** Everything ha needs to know about one server, read in one go. */
export interface ServerState {
  version: ServerVersion;
  serverId: number;
  /** @@server_uuid (MySQL) — undefined on MariaDB. */
  serverUuid?: string;
  readOnly: boolean;
  /** @@super_read_only; undefined where the server has none (MariaDB). */
  superReadOnly?: boolean;
  logBin: boolean;
  logSlaveUpdates: boolean;
  binlogFormat: string;
  /** @@log_bin_basename, e.g. /var/lib/mysql/mysql-bin; undefined when log_bin is off. */
  binlogBasename?: string;
  /** @@relay_log_basename (MySQL 5.6+, MariaDB 10.2+). */
  relayLogBasename?: string;
  /** @@relay_log_index. */
  relayLogIndex?: string;
  relayLogPurge: boolean;
  datadir: string;
  gtid: GtidState;
  /** SHOW MASTER STATUS / SHOW BINARY LOG STATUS; undefined when log_bin is off. */
  masterStatus?: MasterStatus;
  /** SHOW SLAVE STATUS / SHOW REPLICA STATUS; undefined when the server is not a slave. */
  slaveStatus?: SlaveStatus;
}

/** Statements that differ by flavor/version; every caller gets them from the dialect. */
export interface Dialect {
  readonly name: string;
  readonly version: ServerVersion;
  /** @@super_read_only exists: MySQL >= 5.7.8; never on MariaDB. */
  readonly supportsSuperReadOnly: boolean;
  /** The variable holding every GTID this server has applied: gtid_executed (MySQL) / gtid_current_pos (MariaDB). */
  readonly gtidExecutedVariable: string;
  showMasterStatus(): string;
  /** The default channel/connection only (MariaDB) or every channel (MySQL). */
  showSlaveStatus(): string;
  /** Every replication channel/connection: MySQL's status already lists all channels; MariaDB needs SHOW ALL SLAVES STATUS. */
  showAllSlavesStatus(): string;
  showBinaryLogs(): string;
  /** SHOW SLAVE HOSTS / SHOW REPLICAS, run on a master. */
  showSlaveHosts(): string;
  startSlave(): string;
  stopSlave(): string;
  startSlaveIoThread(): string;
  stopSlaveIoThread(): string;
  startSlaveSqlThread(): string;
  stopSlaveSqlThread(): string;
  resetSlaveAll(): string;
  /** RESET MASTER / RESET BINARY LOGS AND GTIDS (MySQL >= 8.2). */
  resetMaster(): string;
  /**
   * CHANGE MASTER TO / CHANGE REPLICATION SOURCE TO with every value quoted in the text: the server
   * does not take CHANGE MASTER as a prepared statement, so the password cannot be a bound parameter.
   * Run `sql`, log only `redacted`, and pass `secrets` to the runner so errors are scrubbed.
   */
  changeMaster(opts: ChangeMasterOptions, quoting?: QuotingOptions): ChangeMasterStatement;
  /** Wait (on a slave) until the SQL thread has executed up to a master coordinate. */
  waitForMasterPos(coordinate: BinlogCoordinate, timeoutSeconds: number): WaitStatement;
  /** Wait (on a slave) until a GTID set (MySQL) / GTID position (MariaDB) has been executed. */
  waitForGtid(gtids: string, timeoutSeconds: number): WaitStatement;
}

export interface ChangeMasterOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Where the slave starts: a master binlog coordinate, or GTID auto-position (MySQL AUTO_POSITION=1, MariaDB MASTER_USE_GTID=slave_pos). */
  start: { kind: 'position'; file: string; position: number } | { kind: 'gtid' };
  /** MASTER_CONNECT_RETRY seconds; server default when undefined. */
  connectRetry?: number;
  /** GET_MASTER_PUBLIC_KEY=1 (GET_SOURCE_PUBLIC_KEY from 8.0.23), needed for caching_sha2_password without TLS; MySQL >= 8.0 only, ignored elsewhere. */
  getMasterPublicKey?: boolean;
}

export interface QuotingOptions {
  /** The session runs with sql_mode NO_BACKSLASH_ESCAPES: a backslash is then an ordinary character. */
  noBackslashEscapes?: boolean;
}

export interface ChangeMasterStatement {
  /** The statement to send; it contains the password. Never log it. */
  sql: string;
  /** The same statement with the password replaced by '********': safe for logs and reports. */
  redacted: string;
  /** Texts that must not appear in any message (the password, raw and quoted). */
  secrets: string[];
}

export interface WaitStatement {
  sql: string;
  params: unknown[];
  /** Reads the single value the SELECT returns. */
  interpret(value: unknown): 'reached' | 'timeout' | 'not-replicating';
}

export interface QueryOptions {
  /** Per-statement inactivity timeout; the connection's default when undefined. */
  timeoutMs?: number;
  /** Text to name the statement by in errors instead of `sql` (e.g. ChangeMasterStatement.redacted). */
  logAs?: string;
  /** Texts to scrub from error messages (e.g. ChangeMasterStatement.secrets). */
  secrets?: string[];
}

/** What the dialect layer needs from a connection: run a statement, get rows as objects. */
export interface SqlRunner {
  query(sql: string, params?: unknown[], options?: QueryOptions): Promise<Record<string, unknown>[]>;
}
