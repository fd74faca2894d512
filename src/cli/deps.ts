// Production implementations of what commands need from the outside world; tests inject others.
import type { ServerConfig } from '../config/types.js';
import type { SqlRunner } from '../mysql/types.js';

export interface ServerSession extends SqlRunner {
  close(): Promise<void>;
}

export const MYSQL_CONNECT_TIMEOUT_MS = 5_000;

/** A MySQL session to a configured server as the admin user (user/password of the config). */
export async function openServer(server: ServerConfig): Promise<ServerSession> {
  // mysql2 is loaded on first use, not by every command.
  const { connect } = await import('../mysql/connection.js');
  return connect({
    host: server.ip,
    port: server.port,
    user: server.user,
    password: server.password,
    connectTimeoutMs: MYSQL_CONNECT_TIMEOUT_MS,
    label: server.id,
  });
}
