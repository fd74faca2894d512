// `ha purge-relay-logs` as an operation: one slave at a time, each judged and purged by
// purgeHost (src/purge/purge.ts), then one finding per slave and the closing summary. The CLI
// validates the flags, loads the config, selects the servers and links signals to `stop`.
import type { AppConfig, ServerConfig } from '../config/types.js';
import type { MessageCode } from '../core/codes.js';
import { ExitCode } from '../core/exit-codes.js';
import { formatDuration, type Reporter } from '../core/reporter.js';
import type { StopRequest } from '../core/stop.js';
import { isAlive, managerFiles, readStatus } from '../manager/state.js';
import { PurgeCode } from './codes.js';
import { Observer, formatBytes, purgeHost, type HostResult, type PurgeDeps } from './purge.js';

export interface PurgeRunOptions {
  /** The slaves to purge (all, or the one --host names). */
  servers: ServerConfig[];
  /** --host was given: a named server that is not a slave is a failure. */
  hostNamed: boolean;
  dryRun: boolean;
  waitSeconds: number;
  workdir?: string;
}

export async function runPurge(config: AppConfig, opts: PurgeRunOptions, reporter: Reporter, deps: PurgeDeps, stop: StopRequest, started = Date.now()): Promise<number> {
  const command = 'purge-relay-logs';
  reporter.heading(`${opts.dryRun ? 'Dry run: relay logs that would be purged' : 'Purging relay logs'} on ${opts.servers.map((s) => s.id).join(', ')} (${config.file})`);

  // A cron job stopped mid-way must still put relay_log_purge back: finish the slave in progress, skip the rest.
  const observer = new Observer(config.servers, deps);
  const results: HostResult[] = [];
  try {
    // One slave at a time: each pauses an IO thread and frees disk space; never several at once.
    for (const server of opts.servers) {
      if (stop.requested) {
        results.push({
          server: server.id,
          host: server.hostname,
          outcome: 'skipped',
          failed: true,
          message: 'not attempted: stopped by a signal',
          files: [],
          bytesFreed: 0,
          kept: [],
          durationMs: 0,
        });
        continue;
      }
      const r = await purgeHost(server, observer, deps, { dryRun: opts.dryRun, waitSeconds: opts.waitSeconds, workdir: opts.workdir, managerBusy: () => managerBusy(config) });
      // A server named by --host that is not a slave is a mistake; in a full run it is just listed.
      if (opts.hostNamed && (r.outcome === 'master' || r.outcome === 'not-a-slave')) r.failed = true;
      results.push(r);
    }
  } finally {
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
