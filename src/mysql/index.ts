// The one normalized view of a MySQL/MariaDB server: types, version parsing, dialects, inspection,
// connections and the few statements whose text needs care (CHANGE MASTER).
export * from './types.js';
export { atLeast, describeVersion, parseVersion } from './version.js';
export {
  LONG_VARIABLES,
  MARIADB_GTID_MODES,
  MASTER_STATUS_COLUMNS,
  REDACTED,
  SERVER_VARIABLES,
  SHOW_VARIABLES_VALUE_LIMIT,
  SLAVE_STATUS_COLUMNS,
  VARIABLES,
  VARIABLE_COLUMNS,
  dialectFor,
  quoteString,
  selectGlobalVariables,
  showServerVariables,
} from './dialect.js';
export { normalizeGtidSet, parseSlaveStatusRow, readServerState, toUint } from './inspect.js';
export {
  MysqlConnectError,
  MysqlQueryError,
  classifyConnectError,
  connect,
  type ConnectOptions,
  type MysqlConnectErrorKind,
  type MysqlConnection,
  type MysqlQueryErrorKind,
} from './connection.js';
export { runChangeMaster, runWait, waitForMasterPos } from './commands.js';
