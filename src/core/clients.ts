// The ports every operation talks to the world through: MySQL sessions, SSH hosts, hook scripts.
// Production implementations are built by the CLI (src/cli/deps.ts); unit tests inject a fake
// cluster (test/fake), e2e tests run the real thing against the lab. Nothing here knows what a
// failover is.
import type { ServerConfig } from '../config/types.js';
import type { SqlRunner } from '../mysql/types.js';
import type { SshHost } from '../ssh/client.js';
import type { HookResult } from './hook-run.js';

export interface ServerSession extends SqlRunner {
  close(): Promise<void>;
  /** Called once if the server or the network closes the session (not after close()). */
  onLost?(listener: (reason: string) => void): void;
}

export type { SshHost };

export interface MysqlConnectOptions {
  connectTimeoutMs?: number;
  /** Bound on every statement of the session (the server is asked to stop, the promise rejects). */
  queryTimeoutMs?: number;
}

export interface Clients {
  /** A MySQL session to a server as the admin user; rejects when it cannot connect. */
  mysql(server: ServerConfig, opts?: MysqlConnectOptions): Promise<ServerSession>;
  /** The run's SSH connection to a host (one per host, reused). */
  ssh(server: ServerConfig): Promise<SshHost>;
  /** Runs a hook script with MHA's arguments; passwords in env. */
  hook(parameter: string, value: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<HookResult>;
}

/** Run with a deadline that says what it waited for when it expires. */
export async function withDeadline<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
