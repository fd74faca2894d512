// One MySQL/MariaDB session on mysql2/promise, as a SqlRunner.
//   - rows come back as plain objects; multipleStatements is off (one statement per call);
//   - BIGINT columns (binlog positions, relay log space) come back as decimal strings
//     (supportBigNumbers + bigNumberStrings) so that inspect.ts can refuse, rather than round,
//     anything past 2^53;
//   - errors are typed, carry host:port and the server's message, and never the password:
//     the options object is never put into a message, and mysql2's own error (whose `sql`
//     holds the statement text, CHANGE MASTER's password included) is not kept as a cause.

import mysql from 'mysql2/promise';

import type { QueryOptions, SqlRunner } from './types.js';

export interface ConnectOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  /** TCP connect plus handshake. */
  connectTimeoutMs: number;
  /** Names the server in messages, e.g. the config block "server1". */
  label: string;
  /** Default per-statement inactivity timeout; none when undefined. */
  queryTimeoutMs?: number;
}

export type MysqlConnectErrorKind = 'refused' | 'unreachable' | 'timeout' | 'access-denied' | 'too-many-connections' | 'other';

/** The server could not be reached or refused the session. */
export class MysqlConnectError extends Error {
  override readonly name = 'MysqlConnectError';
  constructor(
    readonly kind: MysqlConnectErrorKind,
    readonly label: string,
    readonly host: string,
    readonly port: number,
    /** The server's or the OS's message, e.g. "Access denied for user 'ha'@'10.0.0.5' (using password: YES)". */
    readonly detail: string,
    /** mysql2/Node code, e.g. ECONNREFUSED, ER_ACCESS_DENIED_ERROR. */
    readonly code?: string,
    readonly errno?: number,
  ) {
    super(`${label} (${hostPort(host, port)}): cannot connect to MySQL: ${KIND_TEXT[kind]}: ${detail}`);
  }
}

export type MysqlQueryErrorKind = 'server' | 'timeout' | 'connection-lost';

/** A statement failed: the server said no, it timed out, or the session died under it. */
export class MysqlQueryError extends Error {
  override readonly name = 'MysqlQueryError';
  constructor(
    readonly kind: MysqlQueryErrorKind,
    readonly label: string,
    readonly host: string,
    readonly port: number,
    /** The statement as it may be logged (QueryOptions.logAs when given). */
    readonly statement: string,
    /** The server's message with QueryOptions.secrets scrubbed. */
    readonly detail: string,
    readonly code?: string,
    readonly errno?: number,
    readonly sqlState?: string,
  ) {
    super(`${label} (${hostPort(host, port)}): ${statement}: ${detail}`);
  }
}

export interface MysqlConnection extends SqlRunner {
  readonly label: string;
  readonly host: string;
  readonly port: number;
  /** Server thread id (CONNECTION_ID()), e.g. to KILL a statement from another session. */
  readonly threadId: number | undefined;
  query(sql: string, params?: unknown[], options?: QueryOptions): Promise<Record<string, unknown>[]>;
  /** Ends the session politely (COM_QUIT); never throws. */
  close(): Promise<void>;
  /** Drops the socket at once; for a server that no longer answers. */
  destroy(): void;
}

const KIND_TEXT: Record<MysqlConnectErrorKind, string> = {
  refused: 'connection refused (is mysqld running and listening on that port?)',
  unreachable: 'host unreachable',
  timeout: 'timed out',
  'access-denied': 'access denied',
  'too-many-connections': 'too many connections',
  other: 'error',
};

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

interface DriverError {
  code?: unknown;
  errno?: unknown;
  sqlState?: unknown;
  sqlMessage?: unknown;
  message?: unknown;
  fatal?: unknown;
}

function asDriverError(e: unknown): DriverError {
  return typeof e === 'object' && e !== null ? e : { message: String(e) };
}

/** Maps a mysql2/Node error from connecting to a kind. */
export function classifyConnectError(e: unknown): MysqlConnectErrorKind {
  const err = asDriverError(e);
  const code = typeof err.code === 'string' ? err.code : '';
  const errno = typeof err.errno === 'number' ? err.errno : undefined;
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EADDRNOTAVAIL':
      return 'unreachable';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'ER_ACCESS_DENIED_ERROR': // 1045
    case 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR': // 1698
    case 'ER_HOST_NOT_PRIVILEGED': // 1130: no account for the manager's address
    case 'ER_DBACCESS_DENIED_ERROR': // 1044
      return 'access-denied';
    case 'ER_CON_COUNT_ERROR': // 1040: max_connections
    case 'ER_TOO_MANY_USER_CONNECTIONS': // 1203: max_user_connections
    case 'ER_USER_LIMIT_REACHED': // 1226
      return 'too-many-connections';
  }
  switch (errno) {
    case 1045:
    case 1698:
    case 1130:
    case 1044:
      return 'access-denied';
    case 1040:
    case 1203:
      return 'too-many-connections';
    default:
      return 'other';
  }
}

function errorDetail(e: unknown): string {
  const err = asDriverError(e);
  const msg = typeof err.sqlMessage === 'string' ? err.sqlMessage : typeof err.message === 'string' ? err.message : String(e);
  return msg || (typeof err.code === 'string' ? err.code : 'unknown error');
}

function scrub(text: string, secrets: readonly string[] | undefined): string {
  if (!secrets) return text;
  let out = text;
  // Longest first, so that a quoted form is not left half-replaced by its shorter raw form.
  for (const s of [...secrets].filter((x) => x !== '').sort((a, b) => b.length - a.length)) {
    out = out.split(s).join('********');
  }
  return out;
}

/** Opens a session. Rejects with MysqlConnectError only. */
export async function connect(opts: ConnectOptions): Promise<MysqlConnection> {
  const { host, port, label } = opts;
  let conn: mysql.Connection;
  try {
    conn = await mysql.createConnection({
      host,
      port,
      user: opts.user,
      password: opts.password,
      connectTimeout: opts.connectTimeoutMs,
      multipleStatements: false,
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
      rowsAsArray: false,
    });
  } catch (e) {
    const err = asDriverError(e);
    throw new MysqlConnectError(
      classifyConnectError(e),
      label,
      host,
      port,
      errorDetail(e),
      typeof err.code === 'string' ? err.code : undefined,
      typeof err.errno === 'number' ? err.errno : undefined,
    );
  }
  return new Session(conn, opts);
}

class Session implements MysqlConnection {
  readonly label: string;
  readonly host: string;
  readonly port: number;
  /** Set once the session is unusable (server gone, timeout): later calls fail at once. */
  private dead: { kind: MysqlQueryErrorKind; detail: string; code?: string } | undefined;
  private closed = false;

  constructor(
    private readonly conn: mysql.Connection,
    private readonly opts: ConnectOptions,
  ) {
    this.label = opts.label;
    this.host = opts.host;
    this.port = opts.port;
    // Without a listener, an idle session's socket error (the master just died) would be an
    // unhandled 'error' event and take the whole process down.
    conn.on('error', (e: unknown) => {
      const err = asDriverError(e);
      this.dead ??= { kind: 'connection-lost', detail: errorDetail(e), ...(typeof err.code === 'string' ? { code: err.code } : {}) };
      this.lost(errorDetail(e));
    });
    conn.on('end', () => this.lost('the server closed the connection'));
  }

  private lostListeners: ((reason: string) => void)[] = [];
  private lostReported = false;

  /** The manager's held ping session: a master whose mysqld dies closes it at once. */
  onLost(listener: (reason: string) => void): void {
    this.lostListeners.push(listener);
  }

  private lost(reason: string): void {
    if (this.closed || this.lostReported) return;
    this.lostReported = true;
    for (const l of this.lostListeners) l(reason);
  }

  get threadId(): number | undefined {
    return this.conn.threadId ?? undefined;
  }

  async query(sql: string, params?: unknown[], options: QueryOptions = {}): Promise<Record<string, unknown>[]> {
    const statement = options.logAs ?? sql;
    const fail = (kind: MysqlQueryErrorKind, detail: string, code?: string, errno?: number, sqlState?: string) =>
      new MysqlQueryError(kind, this.label, this.host, this.port, statement, scrub(detail, options.secrets), code, errno, sqlState);
    if (this.closed) throw fail('connection-lost', 'the session was closed');
    if (this.dead) throw fail(this.dead.kind, `the session is unusable: ${this.dead.detail}`, this.dead.code);

    const timeout = options.timeoutMs ?? this.opts.queryTimeoutMs;
    try {
      const [result] = await this.conn.query({ sql, ...(timeout !== undefined ? { timeout } : {}) }, params);
      // Statements without a result set (SET, CHANGE MASTER...) give an OkPacket: no rows.
      if (!Array.isArray(result)) return [];
      return result.map((row) => ({ ...(row as Record<string, unknown>) }));
    } catch (e) {
      const err = asDriverError(e);
      const code = typeof err.code === 'string' ? err.code : undefined;
      const errno = typeof err.errno === 'number' ? err.errno : undefined;
      const sqlState = typeof err.sqlState === 'string' ? err.sqlState : undefined;
      const detail = errorDetail(e);
      if (code === 'PROTOCOL_SEQUENCE_TIMEOUT') {
        // The statement may still be running server-side and its reply would arrive later,
        // out of step with the next statement: the session is not reusable.
        this.dead = { kind: 'timeout', detail: `a statement timed out after ${timeout} ms`, code };
        this.hardDestroy();
        throw fail('timeout', `no reply within ${timeout} ms`, code);
      }
      if (err.fatal === true) {
        this.dead ??= { kind: 'connection-lost', detail, ...(code !== undefined ? { code } : {}) };
        throw fail('connection-lost', detail, code, errno, sqlState);
      }
      throw fail('server', detail, code, errno, sqlState);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.dead) {
      this.hardDestroy();
      return;
    }
    // COM_QUIT waits for the server; one that stopped answering must not hold ha up.
    let timer: NodeJS.Timeout | undefined;
    const patience = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), Math.min(this.opts.connectTimeoutMs, 2_000));
    });
    try {
      const outcome = await Promise.race([this.conn.end().then(() => 'ended' as const), patience]);
      if (outcome === 'late') this.hardDestroy();
    } catch {
      this.hardDestroy();
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * mysql2's destroy() only half-closes the socket; to a host that no longer answers, the socket
   * then lingers in FIN-WAIT-1 and keeps the process alive for minutes. Destroy the socket too.
   */
  private hardDestroy(): void {
    this.conn.destroy();
    const stream = (this.conn as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream;
    stream?.destroy?.();
  }

  destroy(): void {
    this.closed = true;
    this.hardDestroy();
  }
}
