// `ha purge-relay-logs`: relay-log housekeeping for slaves that keep relay_log_purge=0 (a failover
// reads their relay logs), run from the manager over SSH + MySQL, safe for cron. Like MHA's
// purge_relay_logs, but it never deletes relay-log events another slave has not executed yet.
// How and why: docs/purge-relay-logs.md, src/purge/.
import type { Command } from 'commander';
import type { AppConfig, ServerConfig } from '../config/types.js';
import { isAlive, managerFiles, readStatus } from '../manager/state.js';
import { formatDuration, type Reporter } from '../core/reporter.js';
import type { MessageCode } from '../core/codes.js';
import { PurgeCode } from '../purge/codes.js';
import { Observer, formatBytes, purgeHost, type HostResult, type PurgeDeps } from '../purge/purge.js';
import { selectServers } from '../purge/rules.js';
import { openServer } from './deps.js';
import { addConfigOptions, loadConfigForCommand, runWithSsh, type CommonOptions } from './common.js';
import { ExitCode } from '../core/exit-codes.js';

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
  reporter.heading(`${opts.dryRun ? 'Dry run: relay logs that would be purged' : 'Purging relay logs'} on ${selected.servers.map((s) => s.id).join(', ')} (${config.file})`);

  // A cron job stopped mid-way must still put relay_log_purge back: finish the slave in progress, skip the rest.
  let stopping = false;
  const onSignal = () => {
    stopping = true;
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const observer = new Observer(config.servers, deps);
  const results: HostResult[] = [];
  try {
    // One slave at a time: each pauses an IO thread and frees disk space; never several at once.
    for (const server of selected.servers) {
      if (stopping) {
        results.push({ server: server.id, host: server.hostname, outcome: 'skipped', failed: true, message: 'not attempted: stopped by a signal', files: [], bytesFreed: 0, kept: [], durationMs: 0 });
        continue;
      }
      const r = await purgeHost(server, observer, deps, { dryRun: opts.dryRun, waitSeconds: wait, workdir: opts.workdir, managerBusy: () => managerBusy(config) });
      // A server named by --host that is not a slave is a mistake; in a full run it is just listed.
      if (opts.host !== undefined && (r.outcome === 'master' || r.outcome === 'not-a-slave')) r.failed = true;
      results.push(r);
    }
  } finally {
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
    await observer.closeAll();
  }
  for (const r of results) report(reporter, r);

  const failed = results.filter((r) => r.failed);
  const ok = failed.length === 0;
  const exitCode = ok ? ExitCode.OK : ExitCode.FAILED;
  const freed = results.reduce((n, r) => n + r.bytesFreed, 0);
  const purged = results.filter((r) => r.outcome === 'purged' || r.outcome === 'would-purge');
  const message = ok
    ? `${opts.dryRun ? 'Would free' : 'Freed'} ${formatBytes(freed)} on ${purged.length} slave${purged.length === 1 ? '' : 's'}`
    : `Not purged: ${failed.map((r) => r.server).join(', ')}${purged.length ? `; ${opts.dryRun ? 'would free' : 'freed'} ${formatBytes(freed)} on ${purged.map((r) => r.server).join(', ')}` : ''}`;
  reporter.finish({ command, ok, exitCode, durationMs: Date.now() - started, message, dryRun: opts.dryRun, bytesFreed: freed, hosts: results });
  return exitCode;
}

/**
 * A manager for this application on this host that is failing over (or confirming a failed ping)
 * is about to stop and repoint the slaves: pausing and restarting an IO thread then would race it.
 */
export function managerBusy(config: AppConfig): string | undefined {
  const st = readStatus(managerFiles(config));
  if (!st || !isAlive(st.pid)) return undefined;
  if (st.status !== 'FAILOVER_RUNNING' && st.status !== 'PING_FAILING' && st.status !== 'PING_FAILED') return undefined;
  return `the manager (pid ${st.pid}) reports ${st.code}:${st.status}${st.phase ? ` (${st.phase})` : ''}: not touching replication while the master may be failing over`;
}

const CODE_OF: Record<HostResult['outcome'], MessageCode> = {
  purged: PurgeCode.PURGED,
  'would-purge': PurgeCode.WOULD_PURGE,
  clean: PurgeCode.CLEAN,
  master: PurgeCode.NOT_A_SLAVE,
  'not-a-slave': PurgeCode.NOT_A_SLAVE,
  'self-purging': PurgeCode.SELF_PURGING,
  skipped: PurgeCode.SKIPPED,
  failed: PurgeCode.FAILED,
};

function report(reporter: Reporter, r: HostResult): void {
  const code = r.neededBy ? PurgeCode.STILL_NEEDED : CODE_OF[r.outcome];
  const extra = {
    server: r.server,
    durationMs: r.durationMs,
    data: { outcome: r.outcome, files: r.files, bytesFreed: r.bytesFreed, kept: r.kept, neededBy: r.neededBy, relayLogPurge: r.relayLogPurge, ioPausedMs: r.ioPausedMs },
  };
  const paused = r.ioPausedMs !== undefined ? `; IO thread paused ${formatDuration(r.ioPausedMs)}` : '';
  const purge = r.relayLogPurge ? `; relay_log_purge ${r.relayLogPurge.restored ? `back to ${r.relayLogPurge.before ? 1 : 0}` : 'NOT restored'}` : '';
  const message = `${r.message}${purge}${paused}`;
  if (r.failed) reporter.error(code, message, extra);
  else if (r.outcome === 'self-purging') reporter.warn(code, message, extra);
  else if (r.outcome === 'purged' || r.outcome === 'would-purge') reporter.ok(code, message, extra);
  else reporter.info(code, message, extra);
}
