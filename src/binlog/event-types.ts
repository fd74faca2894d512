// Binlog event type codes (MySQL's Log_event_type and MariaDB's additions, 160+).
export const EventType = {
  UNKNOWN: 0,
  START_V3: 1,
  QUERY: 2,
  STOP: 3,
  ROTATE: 4,
  INTVAR: 5,
  LOAD: 6,
  SLAVE: 7,
  CREATE_FILE: 8,
  APPEND_BLOCK: 9,
  EXEC_LOAD: 10,
  DELETE_FILE: 11,
  NEW_LOAD: 12,
  RAND: 13,
  USER_VAR: 14,
  FORMAT_DESCRIPTION: 15,
  XID: 16,
  BEGIN_LOAD_QUERY: 17,
  EXECUTE_LOAD_QUERY: 18,
  TABLE_MAP: 19,
  PRE_GA_WRITE_ROWS: 20,
  PRE_GA_UPDATE_ROWS: 21,
  PRE_GA_DELETE_ROWS: 22,
  WRITE_ROWS_V1: 23,
  UPDATE_ROWS_V1: 24,
  DELETE_ROWS_V1: 25,
  INCIDENT: 26,
  HEARTBEAT: 27,
  IGNORABLE: 28,
  ROWS_QUERY: 29,
  WRITE_ROWS: 30,
  UPDATE_ROWS: 31,
  DELETE_ROWS: 32,
  GTID: 33,
  ANONYMOUS_GTID: 34,
  PREVIOUS_GTIDS: 35,
  TRANSACTION_CONTEXT: 36,
  VIEW_CHANGE: 37,
  XA_PREPARE: 38,
  PARTIAL_UPDATE_ROWS: 39,
  TRANSACTION_PAYLOAD: 40,
  HEARTBEAT_V2: 41,
  GTID_TAGGED: 42,
  MARIADB_ANNOTATE_ROWS: 160,
  MARIADB_BINLOG_CHECKPOINT: 161,
  MARIADB_GTID: 162,
  MARIADB_GTID_LIST: 163,
  MARIADB_START_ENCRYPTION: 164,
  MARIADB_QUERY_COMPRESSED: 165,
  MARIADB_WRITE_ROWS_COMPRESSED_V1: 166,
  MARIADB_UPDATE_ROWS_COMPRESSED_V1: 167,
  MARIADB_DELETE_ROWS_COMPRESSED_V1: 168,
  MARIADB_WRITE_ROWS_COMPRESSED: 169,
  MARIADB_UPDATE_ROWS_COMPRESSED: 170,
  MARIADB_DELETE_ROWS_COMPRESSED: 171,
  MARIADB_PARTIAL_ROW_DATA: 172,
} as const;

const NAMES: Record<number, string> = {};
for (const [name, code] of Object.entries(EventType)) {
  NAMES[code] = name
    .toLowerCase()
    .replace(/(^|_)([a-z0-9])/g, (_m, _s: string, c: string) => c.toUpperCase())
    .replace(/^Mariadb/, 'MariaDB_')
    .replace(/V1$/, '_v1');
}

/** A readable name, e.g. "FormatDescription", "WriteRows", "MariaDB_Gtid"; "Unknown(N)" otherwise. */
export function eventTypeName(type: number): string {
  return NAMES[type] ?? `Unknown(${type})`;
}

/** Row-image events: they belong inside a transaction. */
export function isRowsEvent(type: number): boolean {
  return (
    (type >= EventType.PRE_GA_WRITE_ROWS && type <= EventType.DELETE_ROWS_V1) ||
    (type >= EventType.WRITE_ROWS && type <= EventType.DELETE_ROWS) ||
    type === EventType.PARTIAL_UPDATE_ROWS ||
    (type >= EventType.MARIADB_WRITE_ROWS_COMPRESSED_V1 && type <= EventType.MARIADB_DELETE_ROWS_COMPRESSED)
  );
}

/**
 * Events that describe the log itself rather than a change: they are never part of a
 * transaction and a diff never copies them from the middle of a source.
 */
export function isControlEvent(type: number): boolean {
  return (
    type === EventType.FORMAT_DESCRIPTION ||
    type === EventType.ROTATE ||
    type === EventType.STOP ||
    type === EventType.START_V3 ||
    type === EventType.PREVIOUS_GTIDS ||
    type === EventType.HEARTBEAT ||
    type === EventType.HEARTBEAT_V2 ||
    type === EventType.MARIADB_GTID_LIST ||
    type === EventType.MARIADB_BINLOG_CHECKPOINT ||
    type === EventType.MARIADB_START_ENCRYPTION
  );
}

export const LOG_EVENT_BINLOG_IN_USE_F = 0x1;
export const LOG_EVENT_ARTIFICIAL_F = 0x20;
export const LOG_EVENT_RELAY_LOG_F = 0x40;

export const BINLOG_MAGIC = Buffer.from([0xfe, 0x62, 0x69, 0x6e]);
export const HEADER_LENGTH = 19;
/** MySQL and MariaDB cap an event at max_allowed_packet, at most 1 GiB; anything larger is damage. */
export const MAX_EVENT_SIZE = 1024 * 1024 * 1024 + 64 * 1024;
