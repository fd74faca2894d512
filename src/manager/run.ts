// The manager's lifecycle (MHA's masterha_manager): refuse a second manager, check the topology
// and SSH, monitor the master, and when it dies run the failover once, record the outcome
// (status file, APP.failover.complete/error, the JSON report) and return the exit code.
// The CLI builds the clients, the log and the stop request; tests inject their own.
import { mkdirSync, readFileSync } from 'node:fs';
import type { AppConfig, ServerConfig } from '../config/types.js';
import type { Clients } from '../core/clients.js';
import { Code } from '../core/codes.js';
import { ExitCode } from '../core/exit-codes.js';
import type { ManagerLog } from '../core/log.js';
import type { StopRequest } from '../core/stop.js';
import { DEFAULT_TIMEOUTS, type FailoverContext } from '../phases/context.js';
import { reportText, type FailoverReport } from '../phases/6-report.js';
import { runFailover } from '../phases/run.js';
import type { SshPool } from '../ssh/client.js';
import { watchMaster } from './monitor.js';
import { startupCheck, startupSshCheck } from './startup.js';
import {
  checkStatus,
  managerFiles,
  markFailover,
  refuseRepeatedFailover,
  removeStatus,
  Status,
  writeFailoverReport,
  writeFileAtomic,
  writeStatus,
  type StatusName,
  type StatusRecord,
} from './state.js';

export interface ManagerRunOptions {
  ignoreLastFailover: boolean;
  /** --last-failover-minute; undefined: the config's last_failover_minute. */
  lastFailoverMinute?: number;
  removeDeadMasterConf: boolean;
  /** Put the whole failover report in the log as data (JSON log format). */
  reportInLog: boolean;
}

export interface ManagerIO {
  clients: Clients;
  log: ManagerLog;
  stop: StopRequest;
  /** The pool the start-up SSH check uses (default: a new one, closed after the check). */
  startupSshPool?: () => SshPool;
}

/**
 * --remove-dead-master-conf: MHA (MasterFailover.pm) removes the dead master's block only after a
 * fully successful failover; after a partial one (a slave not recovered) the DBA still has work to
 * do and the file keeps describing the old topology. skipped: why it was asked for but not done.
 */
export function deadMasterConfDecision(report: Pick<FailoverReport, 'ok' | 'masterMoved'>, requested: boolean): { remove: boolean; skipped?: string } {
  if (!requested) return { remove: false };
  if (report.ok) return { remove: true };
  return {
    remove: false,
    skipped: report.masterMoved ? 'the failover did not fully succeed (a slave was not recovered), and MHA removes it only after a successful failover' : 'the failover failed',
  };
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

export async function runManager(config: AppConfig, opts: ManagerRunOptions, io: ManagerIO): Promise<number> {
  const { clients, log, stop } = io;
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

  // A stop request (SIGTERM, SIGINT, ha stop): while monitoring, stop at once; during a failover,
  // after the step in progress (the failover reads stop.requested between steps).
  stop.onRequest((reason) => log.warn('SIGNAL', `${reason} received: ${phase ? 'stopping after the step in progress' : 'stopping'}`));

  try {
    setStatus('INITIALIZING_MONITOR');
    log.info(
      'START',
      `ha manager for ${config.appName} (${config.file}), pid ${process.pid}, ping_type ${config.manager.pingType}, ping_interval ${config.manager.pingInterval} s`,
    );
    const check = await startupCheck(config, clients, log);
    master = check.master;
    if (!check.ok || !master) {
      log.error('STARTUP_CHECK_FAILED', 'the replication topology is not ready for a failover: fix the errors above (ha check-repl shows them), then start the manager again');
      setStatus('CONFIG_ERROR');
      return ExitCode.FAILED;
    }
    // After the MySQL check, as MHA: the servers that answered (a down ignore_fail slave is not).
    const sshCheck = await startupSshCheck(
      config,
      log,
      config.servers.filter((sv) => check.alive.has(sv.id)),
      io.startupSshPool?.(),
    );
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
      stopped: stop.promise,
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
      abort: stop,
      detectedAt: outcome.detectedAt,
      changes: [],
    };
    const report = await runFailover(ctx, {
      onPhase: (p) => {
        phase = p;
        setStatus('FAILOVER_RUNNING');
      },
    });
    if (opts.reportInLog) log.info('FAILOVER_REPORT', 'failover report', { data: report as unknown as Record<string, unknown> });
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
  }
}
