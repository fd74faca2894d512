// Production implementations of what commands need from the outside world; tests inject others.
import type { ServerConfig } from '../config/types.js';
import type { SqlRunner } from '../mysql/types.js';
import type { MonitorDeps } from '../manager/monitor.js';
import type { FailoverClients } from '../phases/context.js';
import type { SshPool } from '../ssh/client.js';

export interface ServerSession extends SqlRunner {
  close(): Promise<void>;
  /** Called once if the server or the network closes the session (not after close()). */
  onLost?(listener: (reason: string) => void): void;
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

/**
 * The clients a failover or a switch uses for real: MySQL sessions as the admin user, the run's
 * SSH pool, hooks without a shell with passwords in the environment. Used by manager and switch.
 */
export function productionClients(ssh: SshPool): FailoverClients & MonitorDeps {
  return {
    mysql: async (server, o) => {
      const { connect } = await import('../mysql/connection.js');
      const q = (o as { queryTimeoutMs?: number } | undefined)?.queryTimeoutMs;
      return connect({ host: server.ip, port: server.port, user: server.user, password: server.password, connectTimeoutMs: o?.connectTimeoutMs ?? MYSQL_CONNECT_TIMEOUT_MS, queryTimeoutMs: q, label: server.id });
    },
    ssh: (server) => ssh.get(server.id, server.ssh, server.id),
    // execa is loaded on first use, like ssh2 and mysql2: `ha binlog …` never needs it.
    hook: async (parameter, value, args, env, timeoutMs) => {
      const { runHook } = await import('../hooks/run.js');
      return runHook(parameter, value, args, { timeoutMs, env: { ...process.env, ...env } as Record<string, string> });
    },
  };
}
