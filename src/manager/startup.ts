// The manager's start-up checks: the replication topology (check-repl's rules) and SSH to every
// host that answered, before anything is monitored.
import type { AppConfig, ServerConfig } from '../config/types.js';
import type { Clients, ServerSession } from '../core/clients.js';
import { Code } from '../core/codes.js';
import type { ManagerLog } from '../core/log.js';
import { DEFAULT_ANALYZE_OPTIONS, surveyTopology } from '../core/topology.js';
import type { ServerState } from '../mysql/types.js';
import type { SshPool } from '../ssh/client.js';
import { probeHost } from '../ssh/probe.js';

/** The start-up check: check-repl's observations and rules. */
export async function startupCheck(
  config: AppConfig,
  clients: Clients,
  log: ManagerLog,
): Promise<{ ok: boolean; master?: ServerConfig; masterState?: ServerState; pidFile?: string; alive: Set<string> }> {
  const pidFile = async (session: ServerSession) => {
    const [row] = await session.query('SELECT @@pid_file AS pid_file');
    const value = row?.pid_file;
    return { pidFile: typeof value === 'string' && value ? value : undefined };
  };
  const { observations, topology } = await surveyTopology(
    config,
    clients,
    { extra: pidFile },
    { ...DEFAULT_ANALYZE_OPTIONS, secondsBehindMasterLimit: config.manager.maxReplDelaySeconds },
  );
  // The same findings as check-repl, as log lines (a passed check is an info line).
  for (const f of topology.findings) log.report({ code: f.code, severity: f.severity, message: f.message, server: f.server });
  const errors = topology.findings.filter((f) => f.severity === 'error');
  const master = config.servers.find((s) => s.id === topology.masterId);
  const masterObs = observations.find((o) => o.server.id === master?.id);
  const alive = new Set(observations.filter((o) => o.state).map((o) => o.server.id));
  return { ok: errors.length === 0 && !!master, master, masterState: masterObs?.state, pidFile: masterObs?.pidFile, alive };
}

const STARTUP_PROBE_TIMEOUT_MS = 15_000;

/**
 * MHA's manager checks SSH to every host before it monitors (SSHCheck.pm do_ssh_connection_check,
 * unless --skip_ssh_check; a server with skip_init_ssh_check=1 is not held against it): a
 * failover needs SSH to save the master's binlog and apply relay-log diffs, and a broken key or
 * host key is better found now than at 3 a.m. One connection and one batched command per host
 * (check-ssh's probe), all hosts in parallel, on a pool of its own that is closed afterwards, so
 * the monitor never reuses a connection opened hours before. ok: false when a host is unreachable.
 * Only `servers` are checked: MHA checks the alive ones (a down slave with ignore_fail=1 may be a
 * host that is gone).
 */
export async function startupSshCheck(config: AppConfig, log: ManagerLog, servers: ServerConfig[] = config.servers, pool?: SshPool): Promise<{ ok: boolean; failed: string[] }> {
  const { SshPool: Pool } = await import('../ssh/client.js');
  const ssh = pool ?? new Pool();
  const failed: string[] = [];
  try {
    await Promise.all(
      servers.map(async (server) => {
        const where = `${server.ssh.user}@${server.ssh.host}:${server.ssh.port}`;
        if (server.skipInitSshCheck) {
          log.info(Code.SSH_SKIPPED, `SSH not checked at start (skip_init_ssh_check=1): ${where}`, { server: server.id });
          return;
        }
        const t0 = Date.now();
        try {
          const conn = await ssh.get(server.id, server.ssh, server.id);
          const probe = await probeHost(conn, {
            remoteWorkdir: server.remoteWorkdir,
            clientBindir: server.clientBindir,
            indexFiles: [],
            binlogDirs: [],
            timeoutMs: STARTUP_PROBE_TIMEOUT_MS,
          });
          log.info(Code.SSH_OK, `SSH ok: ${where} as ${probe.user || server.ssh.user}`, { server: server.id, durationMs: Date.now() - t0 });
          // Not fatal here (check-ssh and check-repl report them as errors): the failover can
          // still promote and repoint without them.
          if (!probe.binlogTool)
            log.warn(Code.BINLOG_TOOL_MISSING, 'neither mysqlbinlog nor mariadb-binlog found in PATH or client_bindir: binlog diffs cannot be applied through this host', {
              server: server.id,
            });
          if (!probe.workdirWritable)
            log.warn(Code.REMOTE_WORKDIR_NOT_WRITABLE, `remote_workdir ${server.remoteWorkdir} is not writable: ${probe.workdirError}`, { server: server.id });
        } catch (err) {
          failed.push(server.id);
          log.error(Code.SSH_FAILED, `SSH to ${where} failed: ${(err as Error).message.replace(/^ssh \S+: /, '')}`, { server: server.id, durationMs: Date.now() - t0 });
        }
      }),
    );
  } finally {
    if (!pool) await ssh.closeAll();
  }
  return { ok: failed.length === 0, failed };
}
