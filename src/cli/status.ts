// `ha status` and `ha stop`: masterha_check_status and masterha_stop for ha's manager.
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { checkStatus, isAlive, managerFiles, readFailoverReport, readStatus } from '../manager/state.js';
import { Reporter } from '../core/reporter.js';
import { CommandExit, addConfigOptions, colorChoice, loadConfigForCommand, type CommonOptions } from './common.js';
import { ExitCode } from '../core/exit-codes.js';

export interface StopOptions extends CommonOptions {
  timeout: number;
}

function seconds(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`expected a whole number of seconds, got "${value}"`);
  return Number(value);
}

export function registerStatus(program: Command): void {
  addConfigOptions(
    program
      .command('status')
      .description('is a manager running for this config, and in which state (MHA status codes)?')
      .addHelpText(
        'after',
        `
Examples:
  $ ha status --conf /etc/app1.cnf
  app1 (pid:4242) is running (0:PING_OK), master:10.0.0.11:3306
  $ ha status --conf /etc/app1.cnf --json | jq .lastFailover

--json adds lastFailover: a summary of the last failover's report (ok, deadMaster, newMaster,
finishedAt, totalMs, file), or null; \`ha report\` prints the whole report.

Exit code: the status code, as masterha_check_status: 0 PING_OK, 2 NOT_RUNNING,
10 INITIALIZING_MONITOR, 20 PING_FAILING, 21 PING_FAILED, 31 CONFIG_ERROR,
32 TIMESTAMP_OLD (the manager stopped writing its status), 50 FAILOVER_RUNNING,
51 FAILOVER_ERROR; 3 for a configuration error (2 NOT_RUNNING also for a usage error).`,
      ),
  ).action((opts: CommonOptions) => {
    const reporter = new Reporter({ json: opts.json, color: colorChoice(opts) });
    const config = loadConfigForCommand('status', opts, reporter, Date.now());
    if (typeof config === 'number') throw new CommandExit(config);
    const s = checkStatus(config);
    // The status file's own status/code come first and are overridden: a dead manager's file
    // still says PING_OK, but the answer is NOT_RUNNING.
    if (opts.json)
      process.stdout.write(
        `${JSON.stringify({ command: 'status', app: config.appName, ...s.record, code: s.code, status: s.status, message: s.message, lastFailover: lastFailoverSummary(config) }, null, 2)}\n`,
      );
    else process.stdout.write(`${s.message}\n`);
    if (s.code !== 0) throw new CommandExit(s.code);
  });

  addConfigOptions(
    program
      .command('stop')
      .description('stop a running manager cleanly (during a failover it finishes the step in progress first)')
      .option('--timeout <seconds>', 'how long to wait for the manager to exit', seconds, 120)
      .addHelpText(
        'after',
        `
Examples:
  $ ha stop --conf /etc/app1.cnf

Sends SIGTERM to the manager recorded in manager_workdir and waits for it to exit. While
monitoring, it exits at once; during a failover it finishes the step in progress, records a
precise error state (APP.failover.error) and exits.

Exit codes: 0 stopped (or was not running), 1 still running after --timeout, 2 usage error,
3 configuration error.`,
      ),
  ).action(async (opts: StopOptions) => {
    const reporter = new Reporter({ json: opts.json, color: colorChoice(opts) });
    const config = loadConfigForCommand('stop', opts, reporter, Date.now());
    if (typeof config === 'number') throw new CommandExit(config);
    const record = readStatus(managerFiles(config));
    if (!record || !isAlive(record.pid)) {
      process.stdout.write(`${config.appName} is not running.\n`);
      return;
    }
    process.kill(record.pid, 'SIGTERM');
    const deadline = Date.now() + opts.timeout * 1000;
    while (Date.now() < deadline) {
      if (!isAlive(record.pid)) {
        process.stdout.write(`Stopped ${config.appName} (pid ${record.pid}).\n`);
        return;
      }
      await sleep(100);
    }
    process.stderr.write(
      `${config.appName} (pid ${record.pid}) is still running after ${opts.timeout} s${record.status === 'FAILOVER_RUNNING' ? ` (failover phase ${record.phase ?? '?'})` : ''}.\n`,
    );
    throw new CommandExit(ExitCode.FAILED);
  });
}

/** The last failover in a line of JSON for `status --json`; the whole report is `ha report --json`. */
function lastFailoverSummary(config: Parameters<typeof managerFiles>[0]): Record<string, unknown> | null {
  const files = managerFiles(config);
  try {
    const r = readFailoverReport(files);
    if (!r) return null;
    return {
      ok: r.ok,
      masterMoved: r.masterMoved,
      deadMaster: r.deadMaster,
      newMaster: r.newMaster ?? null,
      finishedAt: r.finishedAt,
      totalMs: r.totalMs,
      error: r.error ?? null,
      file: files.report,
    };
  } catch (err) {
    return { error: (err as Error).message, file: files.report };
  }
}
