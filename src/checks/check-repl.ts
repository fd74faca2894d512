// `ha check-repl` as an operation: is the replication topology healthy and ready for a failover?
// A green result must mean a failover would work, so everything a failover depends on is checked
// for real: every server over MySQL (the cluster survey), the master's binlogs over SSH, and the
// hook scripts on this host. The CLI loads the config and builds the dependencies.
import { dirname, join } from 'node:path';
import type { AppConfig } from '../config/types.js';
import type { ServerSession } from '../core/clients.js';
import { Code } from '../core/codes.js';
import { ExitCode } from '../core/exit-codes.js';
import { masterIpFailoverStatusArgs } from '../core/hook-args.js';
import { checkHooks } from '../core/hook-checks.js';
import { hookOutcome, runHook } from '../core/hook-run.js';
import type { Reporter } from '../core/reporter.js';
import { DEFAULT_ANALYZE_OPTIONS, surveyTopology, type ServerObservation, type Topology } from '../core/topology.js';
import { renderTree } from '../core/tree.js';
import type { ServerConfig } from '../config/types.js';
import { dialectFor } from '../mysql/dialect.js';
import type { ServerState } from '../mysql/types.js';
import type { SshPool } from '../ssh/client.js';
import { probeHost } from '../ssh/probe.js';

export interface CheckReplDeps {
  ssh: SshPool;
  openServer: (server: ServerConfig) => Promise<ServerSession>;
  resolve: (hostname: string) => Promise<string[]>;
  reporter: Reporter;
  /** Runs a hook script (default: the real one, src/hooks/run.ts). */
  hook?: typeof runHook;
}

/** The master's binlog sizes (SHOW BINARY LOGS), to measure how far behind each slave is in bytes. */
async function binlogSizes(session: ServerSession, state: ServerState): Promise<Partial<ServerObservation>> {
  if (!state.logBin || state.slaveStatus) return {};
  const rows = await session.query(dialectFor(state.version).showBinaryLogs());
  return { binlogSizes: new Map(rows.map((r) => [String(r.Log_name), Number(r.File_size)])) };
}

/** The master's binlog directory candidates: master_binlog_dir, else where @@log_bin_basename says. */
function binlogDirs(obs: ServerObservation): string[] {
  if (obs.server.masterBinlogDir?.length) return obs.server.masterBinlogDir;
  const base = obs.state?.binlogBasename;
  return base ? [dirname(base)] : [];
}

async function checkMasterBinlogs(master: ServerObservation, deps: CheckReplDeps): Promise<void> {
  const { reporter } = deps;
  const id = master.server.id;
  const current = master.state?.masterStatus?.file;
  const dirs = binlogDirs(master);
  if (!current || dirs.length === 0) {
    reporter.error(Code.MASTER_BINLOG_NOT_FOUND, 'cannot tell where the master writes its binlogs: set master_binlog_dir', { server: id });
    return;
  }
  const files = dirs.map((d) => join(d, current));
  try {
    const conn = await deps.ssh.get(id, master.server.ssh, id);
    const probe = await probeHost(conn, { remoteWorkdir: master.server.remoteWorkdir, indexFiles: [], binlogDirs: [], logFiles: files, timeoutMs: 15_000 });
    const found = files.find((f) => probe.logFiles.get(f));
    if (found) {
      reporter.ok(Code.MASTER_BINLOG_OK, `master binlog ${found} readable over SSH (${master.server.ssh.user}@${master.server.ssh.host})`, { server: id, data: { file: found } });
    } else {
      reporter.error(
        Code.MASTER_BINLOG_NOT_FOUND,
        `the master's current binlog ${current} is not readable over SSH in ${dirs.join(', ')}${master.server.masterBinlogDir ? ' (master_binlog_dir)' : ' (@@log_bin_basename)'}: the dead master's binlog could not be saved in a failover`,
        { server: id, data: { dirs, file: current } },
      );
    }
  } catch (err) {
    reporter.error(Code.MASTER_BINLOG_NOT_FOUND, `cannot check the master's binlogs over SSH: ${(err as Error).message}`, { server: id });
  }
}

/** The checks, on a loaded config; returns the exit code. */
export async function checkRepl(config: AppConfig, opts: { secondsBehindMaster?: number }, deps: CheckReplDeps, started = Date.now()): Promise<number> {
  const { reporter } = deps;

  reporter.heading(`Connecting to ${config.servers.length} servers (${config.file})`);
  const analyzeOptions = { ...DEFAULT_ANALYZE_OPTIONS, secondsBehindMasterLimit: opts.secondsBehindMaster ?? config.manager.maxReplDelaySeconds };
  const { observations, topology } = await surveyTopology(config, { mysql: (server) => deps.openServer(server) }, { extra: binlogSizes, resolve: deps.resolve }, analyzeOptions);
  for (const o of observations) {
    if (o.state) {
      reporter.ok(
        Code.MYSQL_OK,
        `${o.server.hostname}:${o.server.port} ${o.state.version.raw}, server_id ${o.state.serverId}, read_only=${o.state.readOnly ? 1 : 0}, log_bin=${o.state.logBin ? 1 : 0}, binlog_format=${o.state.binlogFormat}`,
        {
          server: o.server.id,
          durationMs: o.durationMs,
        },
      );
    }
  }
  reporter.heading('Replication topology');
  reporter.text(renderTree(config, topology, reporter.c));
  reporter.heading('Checks');
  for (const f of topology.findings) reporter.report(f);

  const master = observations.find((o) => o.server.id === topology.masterId);
  if (master) await checkMasterBinlogs(master, deps);

  const hooks = checkHooks(config.manager);
  for (const h of hooks) {
    if (h.problem === 'missing') reporter.error(Code.HOOK_MISSING, `${h.parameter}: ${h.path ?? h.command} does not exist`, { data: { ...h } });
    else if (h.problem === 'not-executable') reporter.error(Code.HOOK_NOT_EXECUTABLE, `${h.parameter}: ${h.path} is not executable (chmod +x)`, { data: { ...h } });
    else reporter.ok(Code.HOOK_OK, `${h.parameter}: ${h.path} is executable`, { data: { ...h } });
  }
  // As MHA's check: the failover script is asked where the writer address is (--command=status),
  // so a script that cannot work here (wrong VIP, no arping, HAProxy socket missing) fails now.
  const failoverScript = config.manager.masterIpFailoverScript;
  const scriptUsable = !hooks.some((h) => h.parameter === 'master_ip_failover_script' && h.problem);
  if (master && failoverScript && scriptUsable) {
    const r = await (deps.hook ?? runHook)('master_ip_failover_script', failoverScript, masterIpFailoverStatusArgs(master.server), { timeoutMs: 30_000 });
    const detail = r.output.trim().split('\n').slice(-3).join(' / ');
    if (hookOutcome(r) === 'ok')
      reporter.ok(Code.HOOK_STATUS_OK, `master_ip_failover_script --command=status: ok (${r.durationMs} ms)${detail ? `: ${detail}` : ''}`, { server: master.server.id });
    else {
      reporter.error(
        Code.HOOK_STATUS_FAILED,
        `master_ip_failover_script --command=status ${r.spawnError ? `could not run: ${r.spawnError}` : r.timedOut ? 'timed out after 30 s' : `exited ${r.exitCode ?? r.signal}`}${detail ? `: ${detail}` : ''}`,
        { server: master.server.id, data: { commandLine: r.commandLine } },
      );
    }
  }

  const errors = reporter.count('error');
  const ok = errors === 0;
  const exitCode = ok ? ExitCode.OK : ExitCode.FAILED;
  reporter.finish({
    command: 'check-repl',
    ok,
    exitCode,
    durationMs: Date.now() - started,
    message: ok ? `Replication is healthy: a failover would promote ${topology.candidate?.id ?? '—'} (${topology.mode ?? 'no mode'})` : 'Replication is NOT ready for a failover',
    topology: topologyJson(topology),
    servers: observations.map((o) => ({ id: o.server.id, hostname: o.server.hostname, port: o.server.port, alive: !!o.state, error: o.error, durationMs: o.durationMs })),
  });
  return exitCode;
}

function topologyJson(t: Topology): Record<string, unknown> {
  return {
    master: t.masterId ?? null,
    slaves: t.slaves,
    dead: t.deadIds,
    mode: t.mode ?? null,
    candidate: t.candidate ?? null,
    notCandidates: t.notCandidates,
    latest: t.latestIds,
  };
}
