// `ha manager`: watch the master; when it dies, run the failover phases once and exit.
//   nohup ha manager --conf /etc/app1.cnf > /var/log/ha/app1.log 2>&1 &
import { mkdirSync, readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import type { AppConfig, ServerConfig } from '../config/types.js';
import { ManagerLog } from '../core/log.js';
import { watchMaster } from '../manager/monitor.js';
import { checkStatus, managerFiles, markFailover, refuseRepeatedFailover, removeStatus, Status, writeFailoverReport, writeFileAtomic, writeStatus, type StatusName, type StatusRecord } from '../manager/state.js';
import { readServerState } from '../mysql/inspect.js';
import type { ServerState } from '../mysql/types.js';
import { DEFAULT_TIMEOUTS, type FailoverContext } from '../phases/context.js';
import { type Clients } from '../core/clients.js';
import { runFailover } from '../phases/run.js';
import { reportText, type FailoverReport } from '../phases/6-report.js';
import { Code } from '../core/codes.js';
import { Reporter } from '../core/reporter.js';
import { probeHost } from '../ssh/probe.js';
import type { SshPool } from '../ssh/client.js';
import { analyzeTopology, DEFAULT_ANALYZE_OPTIONS, type ServerObservation } from '../core/topology.js';
import { CommandExit, DEFAULT_GLOBAL_CONF, loadConfigForCommand } from './common.js';
import { openServer, productionClients } from './deps.js';
import { ExitCode } from './exit-codes.js';

export interface ManagerOptions {
  conf: string;
  globalConf: string;
  ignoreLastFailover: boolean;
  lastFailoverMinute?: number;
  removeDeadMasterConf: boolean;
  logFormat: 'human' | 'json';
  color?: boolean;
}

function positiveInt(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError(`expected a positive whole number, got "${v}"`);
  return Number(v);
}

export function registerManager(program: Command): void {
  program
    .command('manager')
    .description('watch the master; when it dies, fail over once (MHA phases) and exit')
    .requiredOption('--conf <file>', 'application config (MHA format)')
    .option('--global-conf <file>', 'global defaults file', DEFAULT_GLOBAL_CONF)
    .option('--ignore-last-failover', 'fail over even after an earlier failover error or within last_failover_minute', false)
    .option('--last-failover-minute <minutes>', 'refuse a second failover within this many minutes (default: last_failover_minute, 480)', positiveInt)
    .option('--remove-dead-master-conf', "after a fully successful failover, rewrite the config without the dead master's block (atomically)", false)
    .option('--log-format <format>', 'human or json (one event per line)', (v) => {
      if (v !== 'human' && v !== 'json') throw new InvalidArgumentError('human or json');
      return v;
    }, 'human')
    .option('--no-color', 'plain output even on a terminal')
    .addHelpText(
      'after',
      `
Examples:
  $ nohup ha manager --conf /etc/app1.cnf > /var/log/ha/app1.log 2>&1 &
  $ ha manager --conf /etc/app1.cnf --log-format json | tee /var/log/ha/app1.jsonl
  $ ha status --conf /etc/app1.cnf        # what the running manager is doing
  $ ha stop --conf /etc/app1.cnf          # stop it cleanly

At start the manager runs the same checks as check-repl and refuses to monitor a broken
topology; it then connects over SSH to every server that answered (in parallel) and refuses to
start when one is unreachable, unless that server's block says skip_init_ssh_check=1.
It then pings the master every ping_interval; a failed ping is confirmed at once (reconnect,
mysqld and port over SSH, the slaves' view). On a confirmed death it runs the failover phases
once, writes APP.failover.complete (or APP.failover.error) and the report
as JSON (APP.failover.report.json, printed by \`ha report\`) in manager_workdir, and exits.
On a terminal the step in progress is shown on a status line redrawn in place
("Phase 3 Master recovery … 0.4 s"); in a file or a pipe every line is plain.
With manager_log set in the config, the log is appended to that file (created 0640) instead of
standard output, which then gets only a line naming the file, one with the exit status and, on
a terminal, the status line. log_level (debug, info, notice, warning, error) drops lower lines.

Exit codes: 0 stopped cleanly, or failover completed; 1 failover failed or refused, start-up
checks failed, or a slave could not be recovered; 2 usage error; 3 configuration error.`,
    )
    .action(async (opts: ManagerOptions) => {
      const code = await runManager(opts);
      // The manager's work is done: exit even if a socket to a host cut off the network lingers
      // (a MySQL session's close() half-closes it, and its FIN is never acknowledged: FIN-WAIT-1
      // keeps the event loop alive for minutes; e2e scenario d's manager never exited). unref():
      // a normal exit is not delayed.
      setTimeout(() => process.exit(code), 1000).unref();
      if (code !== ExitCode.OK) throw new CommandExit(code);
    });
}

/** The start-up check: check-repl's observations and rules. */
async function startupCheck(config: AppConfig, log: ManagerLog): Promise<{ ok: boolean; master?: ServerConfig; masterState?: ServerState; pidFile?: string; alive: Set<string> }> {
  const pidFiles = new Map<string, string>();
  const observe = async (server: ServerConfig): Promise<ServerObservation> => {
    try {
      const s = await openServer(server);
      try {
        const state = await readServerState(s);
        const [row] = await s.query('SELECT @@pid_file AS pid_file');
        if (row?.pid_file) pidFiles.set(server.id, String(row.pid_file));
        return { server, state };
      } finally {
        await s.close();
      }
    } catch (err) {
      return { server, error: (err as Error).message };
    }
  };
  const analyzeOptions = { ...DEFAULT_ANALYZE_OPTIONS, secondsBehindMasterLimit: config.manager.maxReplDelaySeconds };
  const observations: ServerObservation[] = await Promise.all(config.servers.map(observe));
  let topology = analyzeTopology(config, observations, analyzeOptions);
  // The servers are read in parallel, so under write load a slave read after the master can be
  // ahead of the master's snapshot, and its newest GTID looked like an errant transaction (seen in
  // the e2e lab: "errant transaction 0-1-152 … master at 0-1-151": the manager refused to start).
  // The master's position only grows: read it again, after the slaves, and judge on that.
  const masterIndex = observations.findIndex((o) => o.server.id === topology.masterId);
  if (masterIndex >= 0 && observations[masterIndex]!.state) {
    observations[masterIndex] = await observe(observations[masterIndex]!.server);
    topology = analyzeTopology(config, observations, analyzeOptions);
  }
  for (const f of topology.findings) {
    const level = f.severity === 'error' ? 'error' : f.severity === 'warning' ? 'warning' : 'info';
    log.log(level, f.code, f.message, { server: f.server });
  }
  const errors = topology.findings.filter((f) => f.severity === 'error');
  const master = config.servers.find((s) => s.id === topology.masterId);
  const alive = new Set(observations.filter((o) => o.state).map((o) => o.server.id));
  return { ok: errors.length === 0 && !!master, master, masterState: observations.find((o) => o.server.id === master?.id)?.state, pidFile: master ? pidFiles.get(master.id) : undefined, alive };
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
          const probe = await probeHost(conn, { remoteWorkdir: server.remoteWorkdir, clientBindir: server.clientBindir, indexFiles: [], binlogDirs: [], timeoutMs: STARTUP_PROBE_TIMEOUT_MS });
          log.info(Code.SSH_OK, `SSH ok: ${where} as ${probe.user || server.ssh.user}`, { server: server.id, durationMs: Date.now() - t0 });
          // Not fatal here (check-ssh and check-repl report them as errors): the failover can
          // still promote and repoint without them.
          if (!probe.binlogTool) log.warn(Code.BINLOG_TOOL_MISSING, 'neither mysqlbinlog nor mariadb-binlog found in PATH or client_bindir: binlog diffs cannot be applied through this host', { server: server.id });
          if (!probe.workdirWritable) log.warn(Code.REMOTE_WORKDIR_NOT_WRITABLE, `remote_workdir ${server.remoteWorkdir} is not writable: ${probe.workdirError}`, { server: server.id });
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

/**
 * --remove-dead-master-conf: MHA (MasterFailover.pm) removes the dead master's block only after a
 * fully successful failover; after a partial one (a slave not recovered) the DBA still has work to
 * do and the file keeps describing the old topology. skipped: why it was asked for but not done.
 */
export function deadMasterConfDecision(report: Pick<FailoverReport, 'ok' | 'masterMoved'>, requested: boolean): { remove: boolean; skipped?: string } {
  if (!requested) return { remove: false };
  if (report.ok) return { remove: true };
  return { remove: false, skipped: report.masterMoved ? 'the failover did not fully succeed (a slave was not recovered), and MHA removes it only after a successful failover' : 'the failover failed' };
}

/** Rewrite the app config without one server block, keeping everything else byte for byte. */
export function removeServerBlock(file: string, id: string): void {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: string[] = [];
  let skipping = false;
  for (const line of lines) {
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (header) skipping = header[1]!.trim() === id;
    if (!skipping) out.push(line);
  }
  writeFileAtomic(file, out.join('\n'));
}

/**
 * The manager's log: manager_log when set (as MHA's masterha_manager: the file only, appended to),
 * else standard output. With a file, standard output gets one line saying where the log is and,
 * at exit, one with the outcome; on a terminal the status line stays there too.
 */
export function openManagerLog(config: AppConfig, opts: Pick<ManagerOptions, 'logFormat' | 'color'>, out: NodeJS.WritableStream = process.stdout): ManagerLog {
  const color = opts.color === false ? false : undefined;
  const file = config.manager.managerLog;
  const log = new ManagerLog({ format: opts.logFormat, color, file, terminal: out, out: file ? undefined : out, minLevel: config.manager.logLevel });
  if (file) notice(out, opts.logFormat, 'LOG_FILE', `ha manager for ${config.appName}: logging to ${file} (manager_log, log_level ${config.manager.logLevel})`, { file });
  return log;
}

/** A line on standard output beside a log file (human, or one JSON object). */
function notice(out: NodeJS.WritableStream, format: 'human' | 'json', code: string, message: string, data: Record<string, unknown>): void {
  const time = new Date().toISOString();
  out.write(format === 'json' ? `${JSON.stringify({ time, level: 'info', code, message, data })}\n` : `${time.replace('T', ' ').replace('Z', '')} ${message}\n`);
}

export async function runManager(opts: ManagerOptions): Promise<number> {
  const reporter = new Reporter({ json: opts.logFormat === 'json', color: opts.color === false ? false : undefined, out: process.stderr });
  const loaded = loadConfigForCommand('manager', { conf: opts.conf, globalConf: opts.globalConf, json: opts.logFormat === 'json', color: opts.color }, reporter, Date.now());
  if (typeof loaded === 'number') return loaded;
  const config: AppConfig = loaded;
  let log: ManagerLog;
  try {
    log = openManagerLog(config, opts);
  } catch (err) {
    process.stderr.write(`ha manager: cannot open manager_log ${config.manager.managerLog} (${config.file}): ${(err as Error).message}\n`);
    return ExitCode.FAILED;
  }
  const code = await manage(opts, config, log);
  if (log.file) notice(process.stdout, opts.logFormat, 'EXIT', `ha manager for ${config.appName} exits ${code}${code === ExitCode.OK ? '' : ' (failed)'}: see ${log.file}`, { exitCode: code, file: log.file });
  return code;
}

async function manage(opts: ManagerOptions, config: AppConfig, log: ManagerLog): Promise<number> {
  const files = managerFiles(config);
  mkdirSync(config.manager.managerWorkdir, { recursive: true });

  const running = checkStatus(config);
  if (running.record && running.status !== 'NOT_RUNNING') {
    log.error('ALREADY_RUNNING', `a manager for ${config.appName} is already running (pid ${running.record.pid}, ${running.status})`);
    return ExitCode.FAILED;
  }

  const startedAt = new Date().toISOString();
  let master: ServerConfig | undefined;
  let phase: string | undefined;
  const setStatus = (status: StatusName, extra: Partial<StatusRecord> = {}) =>
    writeStatus(files, {
      app: config.appName,
      pid: process.pid,
      status,
      code: Status[status],
      master: master && { id: master.id, host: master.hostname, port: master.port },
      phase,
      startedAt,
      updatedAt: new Date().toISOString(),
      pingIntervalSeconds: config.manager.pingInterval,
      log: config.manager.managerLog,
      ...extra,
    });

  // SIGTERM / SIGINT: while monitoring, stop at once; during a failover, after the step in progress.
  let stopResolve!: () => void;
  const stopped = new Promise<void>((r) => (stopResolve = r));
  const abort: FailoverContext['abort'] = { requested: false };
  const onSignal = (sig: string) => {
    log.warn('SIGNAL', `${sig} received: ${phase ? 'stopping after the step in progress' : 'stopping'}`);
    abort.requested = true;
    abort.reason = sig;
    stopResolve();
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));

  const { SshPool } = await import('../ssh/client.js');
  const ssh: SshPool = new SshPool();
  const clients: Clients = productionClients(ssh);

  try {
    setStatus('INITIALIZING_MONITOR');
    log.info('START', `ha manager for ${config.appName} (${config.file}), pid ${process.pid}, ping_type ${config.manager.pingType}, ping_interval ${config.manager.pingInterval} s`);
    const check = await startupCheck(config, log);
    master = check.master;
    if (!check.ok || !master) {
      log.error('STARTUP_CHECK_FAILED', 'the replication topology is not ready for a failover: fix the errors above (ha check-repl shows them), then start the manager again');
      setStatus('CONFIG_ERROR');
      return ExitCode.FAILED;
    }
    // After the MySQL check, as MHA: the servers that answered (a down ignore_fail slave is not).
    const sshCheck = await startupSshCheck(config, log, config.servers.filter((sv) => check.alive.has(sv.id)));
    if (!sshCheck.ok) {
      log.error(
        'STARTUP_SSH_FAILED',
        `cannot reach ${sshCheck.failed.join(', ')} over SSH: a failover needs SSH to every host. Fix it (ha check-ssh shows details) and start the manager again, or set skip_init_ssh_check=1 in the server's block to monitor anyway`,
      );
      setStatus('CONFIG_ERROR');
      return ExitCode.FAILED;
    }
    log.info('MONITORING', `monitoring master ${master.hostname}:${master.port} (${master.id})`, { server: master.id });
    log.status(`Monitoring master ${master.id} (${master.hostname}:${master.port}), ping every ${config.manager.pingInterval} s`);
    setStatus('PING_OK');

    const outcome = await watchMaster(config, master, clients, log, {
      stopped,
      pidFile: master.masterPidFile ?? check.pidFile,
      onPing: (ok) => setStatus(ok ? 'PING_OK' : 'PING_FAILING'),
    });
    if (outcome.kind === 'stopped') {
      log.info('STOPPED', 'monitoring stopped');
      removeStatus(files);
      return ExitCode.OK;
    }
    log.error('MASTER_DEAD', `master ${master.hostname}:${master.port} is dead: starting the failover`, { server: master.id });
    setStatus('PING_FAILED');

    const refusal = refuseRepeatedFailover(files, opts.lastFailoverMinute ?? config.manager.lastFailoverMinute, opts.ignoreLastFailover);
    if (refusal) {
      log.error('FAILOVER_REFUSED', `failover refused: ${refusal}`);
      setStatus('FAILOVER_ERROR');
      return ExitCode.FAILED;
    }

    setStatus('FAILOVER_RUNNING');
    const ctx: FailoverContext = {
      config,
      clients,
      log,
      timeouts: DEFAULT_TIMEOUTS,
      options: {
        deadMasterId: master.id,
        workdir: config.manager.managerWorkdir,
        deadMasterLastState: check.masterState,
        deadMasterSshFailedAt: outcome.hostSshReachable === false ? outcome.detectedAt : undefined,
      },
      abort,
      detectedAt: outcome.detectedAt,
      changes: [],
    };
    const report = await runFailover(ctx, {
      onPhase: (p) => {
        phase = p;
        setStatus('FAILOVER_RUNNING');
      },
    });
    if (opts.logFormat === 'json') log.info('FAILOVER_REPORT', 'failover report', { data: report as unknown as Record<string, unknown> });
    // For scripts: `ha report --conf F --json` prints it.
    writeFailoverReport(files, report);
    if (report.masterMoved) markFailover(files, 'complete', `${reportText(report)}\n`);
    const confDecision = deadMasterConfDecision(report, opts.removeDeadMasterConf);
    if (confDecision.remove) {
      removeServerBlock(config.file, master.id);
      log.info('CONF_UPDATED', `removed [${master.id}] from ${config.file}`);
    } else if (confDecision.skipped) {
      log.warn('CONF_NOT_UPDATED', `--remove-dead-master-conf: [${master.id}] left in ${config.file}: ${confDecision.skipped}`);
    }
    if (!report.ok) {
      markFailover(files, 'error', `${reportText(report)}\n`);
      phase = report.error?.phase ?? phase;
      setStatus('FAILOVER_ERROR');
      return ExitCode.FAILED;
    }
    removeStatus(files);
    log.info(Code.CANDIDATE, `failover completed: ${report.newMaster} is the new master`);
    return ExitCode.OK;
  } finally {
    log.close();
    await ssh.closeAll();
  }
}
