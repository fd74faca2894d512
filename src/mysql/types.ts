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
  showMasterStatus(): string;
  showSlaveStatus(): string;
  showBinaryLogs(): string;
  startSlave(): string;
  stopSlave(): string;
  stopSlaveIoThread(): string;
  resetSlaveAll(): string;
}

/** What the dialect layer needs from a connection: run a statement, get rows as objects. */
export interface SqlRunner {
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
}
