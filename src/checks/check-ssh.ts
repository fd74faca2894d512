// `ha check-ssh` as an operation: can the manager reach every host over SSH, run commands there,
// find mysqlbinlog, write remote_workdir and read the binlogs? The CLI loads the config and
// builds the dependencies (src/cli/check-ssh.ts).
import type { AppConfig, ServerConfig } from '../config/types.js';
import type { ServerSession } from '../core/clients.js';
import { Code, type MessageCode } from '../core/codes.js';
import { ExitCode } from '../core/exit-codes.js';
import { formatDuration, type Finding, type Reporter } from '../core/reporter.js';
import { readServerState } from '../mysql/inspect.js';
import type { SshPool } from '../ssh/client.js';
import { SshError } from '../ssh/errors.js';
import { probeHost, type HostProbe } from '../ssh/probe.js';

export interface CheckSshDeps {
  ssh: SshPool;
  /** Opens a MySQL session to learn the log paths; failures are tolerated (SSH is what is checked). */
  openServer: (server: ServerConfig) => Promise<ServerSession>;
  reporter: Reporter;
}

export interface HostSshResult {
  server: string;
  ok: boolean;
  sshMs?: number;
  probe?: HostProbe;
  error?: { kind: string; message: string };
}

const PROBE_TIMEOUT_MS = 15_000;

/** Every host checked in parallel; findings printed in configuration order; returns the exit code. */
export async function checkSsh(config: AppConfig, deps: CheckSshDeps, started = Date.now()): Promise<number> {
  const { reporter } = deps;
  reporter.heading(`Checking SSH from the manager to ${config.servers.length} hosts (${config.file})`);
  // Hosts are checked in parallel; their lines are printed in configuration order.
  const checked = await Promise.all(config.servers.map((s) => checkHost(s, deps)));
  for (const c of checked) for (const f of c.findings) reporter.report(f);
  const results = checked.map((c) => c.result);
  const ok = results.every((r) => r.ok);
  const exitCode = ok ? ExitCode.OK : ExitCode.FAILED;
  reporter.finish({
    command: 'check-ssh',
    ok,
    exitCode,
    durationMs: Date.now() - started,
    message: ok
      ? 'All SSH checks passed'
      : `SSH checks failed on ${results
          .filter((r) => !r.ok)
          .map((r) => r.server)
          .join(', ')}`,
    hosts: results,
  });
  return exitCode;
}

/**
 * The index files of the logs a failover reads on this host, from the server itself: its binlog
 * index, and its relay-log index when it is a slave. undefined when MySQL does not answer (then
 * master_binlog_dir is looked at instead).
 */
async function logIndexFiles(server: ServerConfig, deps: CheckSshDeps): Promise<string[] | undefined> {
  let session: ServerSession | undefined;
  try {
    session = await deps.openServer(server);
    const state = await readServerState(session);
    const files: string[] = [];
    if (state.logBin && state.binlogBasename) files.push(`${state.binlogBasename}.index`);
    if (state.slaveStatus && state.relayLogIndex) files.push(state.relayLogIndex);
    return files;
  } catch {
    return undefined;
  } finally {
    await session?.close();
  }
}

async function checkHost(server: ServerConfig, deps: CheckSshDeps): Promise<{ result: HostSshResult; findings: Finding[] }> {
  const findings: Finding[] = [];
  const result = await checkHostInto(server, deps, findings);
  return { result, findings };
}

async function checkHostInto(server: ServerConfig, deps: CheckSshDeps, findings: Finding[]): Promise<HostSshResult> {
  const at =
    (severity: Finding['severity']) =>
    (code: MessageCode, message: string, extra: Partial<Finding> = {}) =>
      findings.push({ code, severity, message, ...extra });
  const reporter = { ok: at('ok'), info: at('info'), error: at('error') };
  const where = `${server.ssh.user}@${server.ssh.host}:${server.ssh.port}`;
  const t0 = Date.now();
  // The MySQL lookup runs beside the SSH handshake so it costs no extra wall time.
  const indexesP = logIndexFiles(server, deps);
  let conn;
  try {
    conn = await deps.ssh.get(server.id, server.ssh, server.id);
  } catch (err) {
    await indexesP;
    const e = err instanceof SshError ? err : new SshError('other', server.ssh.host, server.ssh.port, String(err));
    reporter.error(Code.SSH_FAILED, `${where}: ${e.message.replace(/^ssh \S+: /, '')}`, {
      server: server.id,
      durationMs: Date.now() - t0,
      data: { kind: e.kind },
    });
    return { server: server.id, ok: false, error: { kind: e.kind, message: e.message } };
  }
  const sshMs = Date.now() - t0;
  const indexes = await indexesP;
  let probe: HostProbe;
  try {
    probe = await probeHost(conn, {
      remoteWorkdir: server.remoteWorkdir,
      clientBindir: server.clientBindir,
      indexFiles: indexes ?? [],
      binlogDirs: indexes === undefined ? (server.masterBinlogDir ?? []) : [],
      timeoutMs: PROBE_TIMEOUT_MS,
    });
  } catch (err) {
    reporter.error(Code.SSH_COMMAND_FAILED, `${where}: connected, but running a command failed: ${(err as Error).message}`, {
      server: server.id,
      durationMs: Date.now() - t0,
    });
    return { server: server.id, ok: false, sshMs, error: { kind: 'command', message: (err as Error).message } };
  }

  let ok = true;
  const tool = probe.binlogTool ? `${probe.binlogTool.version || probe.binlogTool.path}` : undefined;
  reporter.ok(
    Code.SSH_OK,
    `${where} ssh ok as ${probe.user || server.ssh.user}, host key ${conn.hostKey.fingerprint} (${conn.hostKey.verifiedBy}), handshake ${formatDuration(sshMs)}`,
    {
      server: server.id,
      durationMs: Date.now() - t0,
      data: { hostKeyFingerprint: conn.hostKey.fingerprint, hostKeyVerifiedBy: conn.hostKey.verifiedBy, handshakeMs: sshMs, probeMs: probe.durationMs },
    },
  );
  if (tool) {
    reporter.ok(Code.SSH_OK, `binlog tool: ${probe.binlogTool!.path} (${tool})`, { server: server.id });
  } else {
    ok = false;
    reporter.error(Code.BINLOG_TOOL_MISSING, 'neither mysqlbinlog nor mariadb-binlog found in PATH or client_bindir: failover applies binlog diffs with it', {
      server: server.id,
    });
  }
  if (probe.workdirWritable) {
    reporter.ok(Code.SSH_OK, `remote_workdir ${server.remoteWorkdir} writable`, { server: server.id });
  } else {
    ok = false;
    reporter.error(Code.REMOTE_WORKDIR_NOT_WRITABLE, `remote_workdir ${server.remoteWorkdir} is not writable: ${probe.workdirError}`, { server: server.id });
  }
  if (probe.binlogReads.length === 0) {
    reporter.info(Code.BINLOG_READ_SKIPPED, 'binlog read not checked: MySQL did not answer and master_binlog_dir is not set', { server: server.id });
  }
  for (const r of probe.binlogReads) {
    if (r.magicOk) reporter.ok(Code.BINLOG_READ_OK, `reads ${r.file}`, { server: server.id, data: { ...r } });
    else {
      ok = false;
      reporter.error(Code.BINLOG_READ_FAILED, `cannot read logs: ${r.error}`, { server: server.id, data: { ...r } });
    }
  }
  return { server: server.id, ok, sshMs, probe };
}
