// `ha manager`: watch the master; when it dies, run the failover phases once and exit.
//   nohup ha manager --conf /etc/app1.cnf > /var/log/ha/app1.log 2>&1 &
import { InvalidArgumentError, type Command } from 'commander';
import type { AppConfig } from '../config/types.js';
import type { MessageCode } from '../core/codes.js';
import { ExitCode } from '../core/exit-codes.js';
import { ManagerLog } from '../core/log.js';
import { Reporter } from '../core/reporter.js';
import { StopRequest, stopOnSignals } from '../core/stop.js';
import { runManager as runManagerOperation } from '../manager/run.js';
import { CommandExit, DEFAULT_GLOBAL_CONF, loadConfigForCommand } from './common.js';
import { productionClients } from './deps.js';

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
    .option(
      '--log-format <format>',
      'human or json (one event per line)',
      (v) => {
        if (v !== 'human' && v !== 'json') throw new InvalidArgumentError('human or json');
        return v;
      },
      'human',
    )
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
function notice(out: NodeJS.WritableStream, format: 'human' | 'json', code: MessageCode, message: string, data: Record<string, unknown>): void {
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
  const { SshPool } = await import('../ssh/client.js');
  const ssh = new SshPool();
  const stop = new StopRequest();
  const unlink = stopOnSignals(stop);
  let code: number;
  try {
    code = await runManagerOperation(
      config,
      {
        ignoreLastFailover: opts.ignoreLastFailover,
        lastFailoverMinute: opts.lastFailoverMinute,
        removeDeadMasterConf: opts.removeDeadMasterConf,
        reportInLog: opts.logFormat === 'json',
      },
      { clients: productionClients(ssh), log, stop },
    );
  } finally {
    unlink();
    await ssh.closeAll();
  }
  if (log.file)
    notice(process.stdout, opts.logFormat, 'EXIT', `ha manager for ${config.appName} exits ${code}${code === ExitCode.OK ? '' : ' (failed)'}: see ${log.file}`, {
      exitCode: code,
      file: log.file,
    });
  return code;
}
