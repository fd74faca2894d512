// `ha purge-relay-logs`: relay-log housekeeping for slaves that keep relay_log_purge=0 (a failover
// reads their relay logs), run from the manager over SSH + MySQL, safe for cron. Like MHA's
// purge_relay_logs, but it never deletes relay-log events another slave has not executed yet.
// How and why: docs/purge-relay-logs.md, src/purge/.
import type { Command } from 'commander';
import type { ServerConfig } from '../config/types.js';
import { ExitCode } from '../core/exit-codes.js';
import type { Reporter } from '../core/reporter.js';
import { StopRequest, stopOnSignals } from '../core/stop.js';
import { PurgeCode } from '../purge/codes.js';
import type { PurgeDeps } from '../purge/purge.js';
import { selectServers } from '../purge/rules.js';
import { runPurge } from '../purge/run.js';
import { addConfigOptions, loadConfigForCommand, runWithSsh, type CommonOptions } from './common.js';
import { openServer } from './deps.js';

export { managerBusy } from '../purge/run.js';

export interface PurgeRelayLogsOptions extends CommonOptions {
  host?: string;
  dryRun: boolean;
  wait: string;
  workdir?: string;
}

export function registerPurgeRelayLogs(program: Command): void {
  addConfigOptions(
    program
      .command('purge-relay-logs')
      .description("delete slaves' old relay logs without a disk stall, keeping every event another slave still needs for a failover")
      .option('--host <name>', 'only this slave: a [serverN] block name or its hostname')
      .option('--dry-run', 'say what would be purged; change nothing', false)
      .option('--wait <seconds>', 'how long to wait for the other slaves to execute what would be purged', '10')
      .option('--workdir <dir>', "where the hard links go on each slave (must be on the relay logs' filesystem; default: remote_workdir if it is, else the relay-log directory)")
      .addHelpText(
        'after',
        `
How: for each slave, its IO thread is paused (a moment), the other slaves must have executed
everything it read, its relay logs are hard-linked into a work directory, then
SET GLOBAL relay_log_purge=1; FLUSH NO_WRITE_TO_BINLOG RELAY LOGS lets the server drop them,
relay_log_purge goes back to its previous value (always), the IO thread restarts, and the
hard-linked copies are shrunk step by step and removed. See docs/purge-relay-logs.md.

A slave is skipped, with the name of the slave that needs them, when purging would delete
relay-log events another slave has not executed (its SQL thread stopped, MASTER_DELAY, lag).

Examples:
  $ ha purge-relay-logs --conf /etc/app1.cnf --dry-run
  $ ha purge-relay-logs --conf /etc/app1.cnf --host server2
  $ ha purge-relay-logs --conf /etc/app1.cnf --json | jq '.hosts[] | {server, outcome, bytesFreed}'
  /etc/cron.d/ha-purge-relay-logs (every 4 hours, never two runs at once):
  0 */4 * * * root flock -n /run/ha-purge.lock ha purge-relay-logs --conf /etc/app1.cnf --no-color >> /var/log/ha/purge.log 2>&1

Exit codes: 0 every slave purged or already clean (the master and servers without replication
              are listed, not counted),
            1 a slave could not be purged (still needed by another slave, SQL thread stopped,
              IO thread not connected, an error) or --host named a server that is not a slave,
            2 usage error (unknown --host), 3 configuration error.`,
      ),
  ).action((opts: PurgeRelayLogsOptions) =>
    runWithSsh(opts, (o, reporter, ssh) =>
      runPurgeRelayLogs(o, reporter, {
        openServer,
        ssh: (server: ServerConfig) => ssh.get(server.id, server.ssh, server.id),
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      }),
    ),
  );
}

export async function runPurgeRelayLogs(opts: PurgeRelayLogsOptions, reporter: Reporter, deps: PurgeDeps): Promise<number> {
  const started = Date.now();
  const command = 'purge-relay-logs';
  const wait = Number(opts.wait);
  if (!Number.isFinite(wait) || wait < 0) {
    reporter.error(PurgeCode.USAGE, `--wait ${opts.wait}: expected a number of seconds (0 or more)`);
    reporter.finish({ command, ok: false, exitCode: ExitCode.USAGE, durationMs: Date.now() - started, message: 'usage error' });
    return ExitCode.USAGE;
  }
  const config = loadConfigForCommand(command, opts, reporter, started);
  if (typeof config === 'number') return config;
  const selected = selectServers(config.servers, opts.host);
  if ('error' in selected) {
    reporter.error(PurgeCode.USAGE, selected.error);
    reporter.finish({ command, ok: false, exitCode: ExitCode.USAGE, durationMs: Date.now() - started, message: 'usage error' });
    return ExitCode.USAGE;
  }
  const stop = new StopRequest();
  const unlink = stopOnSignals(stop);
  try {
    return await runPurge(
      config,
      { servers: selected.servers, hostNamed: opts.host !== undefined, dryRun: opts.dryRun, waitSeconds: wait, workdir: opts.workdir },
      reporter,
      deps,
      stop,
      started,
    );
  } finally {
    unlink();
  }
}
