// Production implementations of what commands need from the outside world; tests inject others.
import type { ServerConfig } from '../config/types.js';
import { connect } from '../mysql/connection.js';
import type { SqlRunner } from '../mysql/types.js';

export interface ServerSession extends SqlRunner {
  close(): Promise<void>;
}

export const MYSQL_CONNECT_TIMEOUT_MS = 5_000;

/** A MySQL session to a configured server as the admin user (user/password of the config). */
export function openServer(server: ServerConfig): Promise<ServerSession> {
  return connect({
    host: server.ip,
    port: server.port,
    user: server.user,
    password: server.password,
    connectTimeoutMs: MYSQL_CONNECT_TIMEOUT_MS,
    label: server.id,
  });
}
