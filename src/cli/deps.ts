// Production implementations of what commands need from the outside world; tests inject others.
import type { ServerConfig } from '../config/types.js';
import type { Clients, ServerSession } from '../core/clients.js';
import type { SshPool } from '../ssh/client.js';

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

/**
 * The clients a failover or a switch uses for real: MySQL sessions as the admin user, the run's
 * SSH pool, hooks without a shell with passwords in the environment. Used by manager and switch.
 */
export function productionClients(ssh: SshPool): Clients {
  return {
    mysql: async (server, o) => {
      const { connect } = await import('../mysql/connection.js');
      return connect({
        host: server.ip,
        port: server.port,
        user: server.user,
        password: server.password,
        connectTimeoutMs: o?.connectTimeoutMs ?? MYSQL_CONNECT_TIMEOUT_MS,
        queryTimeoutMs: o?.queryTimeoutMs,
        label: server.id,
      });
    },
    ssh: (server) => ssh.get(server.id, server.ssh, server.id),
    // execa is loaded on first use, like ssh2 and mysql2: `ha binlog …` never needs it.
    hook: async (parameter, value, args, env, timeoutMs) => {
      const { runHook } = await import('../core/hook-run.js');
      return runHook(parameter, value, args, { timeoutMs, env: { ...process.env, ...env } as Record<string, string> });
    },
  };
}
