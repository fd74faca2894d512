// Statements that need more than the dialect's text: CHANGE MASTER (quoting depends on the
// session's sql_mode, the password must stay out of logs and errors) and the wait functions.

import type { BinlogCoordinate, ChangeMasterOptions, Dialect, SqlRunner, WaitStatement } from './types.js';

/**
 * Points a slave at a master. Returns the redacted statement, the only form to log.
 * One extra round trip reads @@SESSION.sql_mode first: with NO_BACKSLASH_ESCAPES a backslash
 * in the password must not be doubled, without it it must.
 */
export async function runChangeMaster(runner: SqlRunner, dialect: Dialect, opts: ChangeMasterOptions): Promise<string> {
  const rows = await runner.query('SELECT @@SESSION.sql_mode AS sql_mode');
  const mode = rows[0]?.['sql_mode'];
  const noBackslashEscapes = typeof mode === 'string' && mode.toUpperCase().split(',').includes('NO_BACKSLASH_ESCAPES');
  const stmt = dialect.changeMaster(opts, { noBackslashEscapes });
  await runner.query(stmt.sql, undefined, { logAs: stmt.redacted, secrets: stmt.secrets });
  return stmt.redacted;
}

/** Runs a wait statement from the dialect and reads its outcome. */
export async function runWait(runner: SqlRunner, wait: WaitStatement, timeoutMs?: number): Promise<'reached' | 'timeout' | 'not-replicating'> {
  // The client-side timeout must outlast the server-side one, or the session dies first.
  const rows = await runner.query(wait.sql, wait.params, timeoutMs !== undefined ? { timeoutMs } : {});
  const row = rows[0];
  if (!row || !Object.prototype.hasOwnProperty.call(row, 'result')) {
    throw new Error(`${wait.sql}: the reply has no column result`);
  }
  return wait.interpret(row['result']);
}

/** Waits (on a slave) until its SQL thread has executed up to `coordinate` of its master. */
export function waitForMasterPos(runner: SqlRunner, dialect: Dialect, coordinate: BinlogCoordinate, timeoutSeconds: number): Promise<'reached' | 'timeout' | 'not-replicating'> {
  return runWait(runner, dialect.waitForMasterPos(coordinate, timeoutSeconds), timeoutSeconds * 1000 + 5_000);
}
