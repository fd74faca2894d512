// `ha switch`: move the master role by hand. `--master-state dead` runs the manager's failover
// phases once, without monitoring (MHA: masterha_master_switch --master_state=dead). The planned
// online switch (--online) is not implemented yet.
import { createInterface } from 'node:readline/promises';
import { InvalidArgumentError, type Command } from 'commander';
import type { AppConfig, ServerConfig } from '../config/types.js';
import { ManagerLog } from '../core/log.js';
import { managerFiles, markFailover, refuseRepeatedFailover, writeFailoverReport } from '../manager/state.js';
import { readServerState } from '../mysql/inspect.js';
import { DEFAULT_TIMEOUTS, type FailoverContext } from '../phases/context.js';
import { type Clients } from '../core/clients.js';
import { reportText } from '../phases/6-report.js';
import { runFailover } from '../phases/run.js';
import { Reporter } from '../core/reporter.js';
import { CommandExit, DEFAULT_GLOBAL_CONF, loadConfigForCommand } from './common.js';
import { openServer, productionClients } from './deps.js';
import { ExitCode } from './exit-codes.js';

export interface SwitchOptions {
  conf: string;
  globalConf: string;
  masterState?: 'dead' | 'alive';
  online: boolean;
  deadMaster?: string;
  newMaster?: string;
  yes: boolean;
  dryRun: boolean;
  origMasterIsNewSlave: boolean;
  runningUpdatesLimit: number;
  runningSecondsLimit: number;
  ignoreLastFailover: boolean;
  logFormat: 'human' | 'json';
  color?: boolean;
}

/** HOST[:PORT] → the configured server it names (hostname or ip, and port when given). */
export function seconds(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`expected a whole number of seconds, got "${v}"`);
  return Number(v);
}

export function findServer(config: AppConfig, spec: string, what: string): ServerConfig {
  const m = /^(.*?)(?::(\d+))?$/.exec(spec)!;
  const host = m[1]!.toLowerCase();
  const port = m[2] ? Number(m[2]) : undefined;
  const found = config.servers.filter((s) => (s.hostname.toLowerCase() === host || s.ip.toLowerCase() === host || s.id === spec) && (port === undefined || s.port === port));
  if (found.length === 1) return found[0]!;
  throw new CommandExit(ExitCode.USAGE, `${what} ${spec} ${found.length ? 'matches several servers: add :PORT' : `is not a server in ${config.file}`}`);
}

export function registerSwitch(program: Command): void {
  program
    .command('switch')
    .description('move the master role by hand: --master-state dead fails over a dead master (the manager need not run)')
    .requiredOption('--conf <file>', 'application config (MHA format)')
    .option('--global-conf <file>', 'global defaults file', DEFAULT_GLOBAL_CONF)
    .option('--master-state <state>', 'dead: fail over a dead master; alive: planned switch (same as --online)', (v) => {
      if (v !== 'dead' && v !== 'alive') throw new InvalidArgumentError('dead or alive');
      return v;
    })
    .option('--online', 'planned online switch of a live master', false)
    .option('--orig-master-is-new-slave', 'online: the old master becomes a slave of the new one', false)
    .option('--running-updates-limit <seconds>', 'online: refuse when a slave lags, or a write transaction has been open, longer than this', seconds, 1)
    .option('--running-seconds-limit <seconds>', 'online: refuse when a query has run longer than this on the master', seconds, 10)
    .option('--dry-run', 'online: run the checks and print the plan; change nothing', false)
    .option('--dead-master <host[:port]>', 'the dead master (default: the server every slave replicates from)')
    .option('--new-master <host[:port]>', 'the slave to promote (default: MHA\'s rules choose)')
    .option('--yes', 'do not ask for confirmation', false)
    .option('--ignore-last-failover', 'fail over even after an earlier failover error or within last_failover_minute', false)
    .option('--log-format <format>', 'human or json', (v) => {
      if (v !== 'human' && v !== 'json') throw new InvalidArgumentError('human or json');
      return v;
    }, 'human')
    .option('--no-color', 'plain output even on a terminal')
    .addHelpText(
      'after',
      `
Examples:
  $ ha switch --conf /etc/app1.cnf --online --new-master 10.0.0.12 --orig-master-is-new-slave
  $ ha switch --conf /etc/app1.cnf --online --new-master 10.0.0.12 --dry-run
  $ ha switch --conf /etc/app1.cnf --master-state dead
  $ ha switch --conf /etc/app1.cnf --master-state dead --dead-master 10.0.0.11 --new-master 10.0.0.12 --yes

--master-state dead runs the same phases as the manager (configuration check, dead master
shutdown, master recovery, slaves recovery, new master cleanup, report) once. Without --yes
the plan is shown and must be confirmed on a terminal.

--online checks first and changes nothing when a check fails: every slave replicating from the
master with both threads running and within --running-updates-limit, the new master eligible
(log_bin, not no_master, the same filters), no long write transaction or query on the master.
Writes are then blocked with read_only (super_read_only on MySQL) and FLUSH TABLES WITH READ
LOCK (which also holds writers with SUPER on MariaDB), for as long as the slaves need to reach
the final coordinates; client connections still open on the old master are closed before the
lock is released, so no blocked write can land there afterwards. A failure before the new
master is writable rolls everything back.

Exit codes: 0 done; 1 failed (rolled back when the message says so) or refused; 2 usage
error; 3 configuration error.`,
    )
    .action(async (opts: SwitchOptions) => {
      const code = await runSwitch(opts);
      if (code !== ExitCode.OK) throw new CommandExit(code);
    });
}

/** Without --yes, ask on a terminal; returns the exit code when the switch must not go on. */
async function confirm(yes: boolean): Promise<number | undefined> {
  if (yes) return undefined;
  if (!process.stdin.isTTY) {
    process.stderr.write('ha switch: not on a terminal: confirm with --yes\n');
    return ExitCode.USAGE;
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const answer = await rl.question('Proceed? (yes/NO): ');
  rl.close();
  if (/^y(es)?$/i.test(answer.trim())) return undefined;
  process.stdout.write('Not confirmed: nothing was changed.\n');
  return ExitCode.FAILED;
}

/** The master the slaves point at, when the dead master was not named. */
async function masterOfSlaves(config: AppConfig): Promise<ServerConfig | undefined> {
  const targets = new Map<string, number>();
  await Promise.all(
    config.servers.map(async (s) => {
      try {
        const session = await openServer(s);
        try {
          const ss = (await readServerState(session)).slaveStatus;
          if (ss) {
            const key = `${ss.masterHost.toLowerCase()}:${ss.masterPort}`;
            targets.set(key, (targets.get(key) ?? 0) + 1);
          }
        } finally {
          await session.close();
        }
      } catch {
        /* a server that does not answer says nothing about the master */
      }
    }),
  );
  if (targets.size !== 1) return undefined;
  const [key] = [...targets.keys()];
  return config.servers.find((s) => `${s.hostname.toLowerCase()}:${s.port}` === key || `${s.ip.toLowerCase()}:${s.port}` === key);
}

export async function runSwitch(opts: SwitchOptions): Promise<number> {
  if (opts.online || opts.masterState === 'alive') return runOnline(opts);
  if (opts.masterState !== 'dead') {
    process.stderr.write('ha switch: say --master-state dead (failover of a dead master) or --online\n');
    return ExitCode.USAGE;
  }
  const reporter = new Reporter({ json: opts.logFormat === 'json', out: process.stderr, color: opts.color === false ? false : undefined });
  const loaded = loadConfigForCommand('switch', { conf: opts.conf, globalConf: opts.globalConf, json: opts.logFormat === 'json', color: opts.color }, reporter, Date.now());
  if (typeof loaded === 'number') return loaded;
  const config = loaded;
  // On the terminal, as MHA's masterha_master_switch (manager_log is the manager's); log_level applies.
  const log = new ManagerLog({ format: opts.logFormat, color: opts.color === false ? false : undefined, minLevel: config.manager.logLevel });

  let dead: ServerConfig | undefined;
  let next: ServerConfig | undefined;
  try {
    dead = opts.deadMaster ? findServer(config, opts.deadMaster, '--dead-master') : await masterOfSlaves(config);
    next = opts.newMaster ? findServer(config, opts.newMaster, '--new-master') : undefined;
  } catch (err) {
    if (err instanceof CommandExit) {
      process.stderr.write(`ha switch: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
  // Refused before anything is touched (MHA refuses it too, though only in its phase 3).
  if (next?.noMaster) {
    process.stderr.write(`ha switch: --new-master ${next.id} (${next.hostname}:${next.port}) has no_master=1 in ${config.file}: it must never become the master\n`);
    return ExitCode.FAILED;
  }
  if (!dead) {
    process.stderr.write('ha switch: cannot tell which server is the dead master (the slaves do not agree, or none answers): name it with --dead-master\n');
    return ExitCode.USAGE;
  }
  const plan = `Fail over dead master ${dead.id} (${dead.hostname}:${dead.port}) to ${next ? `${next.id} (${next.hostname}:${next.port})` : 'the slave MHA\'s rules choose'}.`;
  process.stdout.write(`${plan}\n`);
  const refused = await confirm(opts.yes);
  if (refused !== undefined) return refused;

  const files = managerFiles(config);
  const refusal = refuseRepeatedFailover(files, config.manager.lastFailoverMinute, opts.ignoreLastFailover);
  if (refusal) {
    log.error('FAILOVER_REFUSED', `failover refused: ${refusal}`);
    return ExitCode.FAILED;
  }

  const { SshPool } = await import('../ssh/client.js');
  const ssh = new SshPool();
  const clients: Clients = productionClients(ssh);
  const abort: FailoverContext['abort'] = { requested: false };
  process.on('SIGTERM', () => Object.assign(abort, { requested: true, reason: 'SIGTERM' }));
  process.on('SIGINT', () => Object.assign(abort, { requested: true, reason: 'SIGINT' }));
  try {
    const report = await runFailover({
      config,
      clients,
      log,
      timeouts: DEFAULT_TIMEOUTS,
      options: { deadMasterId: dead.id, newMasterId: next?.id, workdir: config.manager.managerWorkdir },
      abort,
      detectedAt: Date.now(),
      changes: [],
    });
    writeFailoverReport(files, report);
    if (report.masterMoved) markFailover(files, 'complete', `${reportText(report)}\n`);
    if (!report.ok) {
      markFailover(files, 'error', `${reportText(report)}\n`);
      return ExitCode.FAILED;
    }
    return ExitCode.OK;
  } finally {
    log.close();
    await ssh.closeAll();
  }
}

async function runOnline(opts: SwitchOptions): Promise<number> {
  const reporter = new Reporter({ json: opts.logFormat === 'json', out: process.stderr, color: opts.color === false ? false : undefined });
  const loaded = loadConfigForCommand('switch', { conf: opts.conf, globalConf: opts.globalConf, json: opts.logFormat === 'json', color: opts.color }, reporter, Date.now());
  if (typeof loaded === 'number') return loaded;
  const config = loaded;
  // On the terminal, as MHA's masterha_master_switch (manager_log is the manager's); log_level applies.
  const log = new ManagerLog({ format: opts.logFormat, color: opts.color === false ? false : undefined, minLevel: config.manager.logLevel });
  if (!opts.newMaster) {
    process.stderr.write('ha switch --online: name the new master with --new-master HOST[:PORT]\n');
    return ExitCode.USAGE;
  }
  let next: ServerConfig;
  try {
    next = findServer(config, opts.newMaster, '--new-master');
  } catch (err) {
    if (err instanceof CommandExit) {
      process.stderr.write(`ha switch: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
  const { SshPool } = await import('../ssh/client.js');
  const ssh = new SshPool();
  const clients: Clients = productionClients(ssh);
  const sw = {
    newMasterId: next.id,
    origMasterIsNewSlave: opts.origMasterIsNewSlave,
    runningUpdatesLimit: opts.runningUpdatesLimit,
    runningSecondsLimit: opts.runningSecondsLimit,
    lockWaitTimeout: 1,
    catchUpTimeout: 10,
  };
  try {
    const { planSwitch, runOnlineSwitch, SwitchError } = await import('../switch/online.js');
    let plan;
    try {
      plan = await planSwitch(config, clients, sw);
    } catch (err) {
      if (err instanceof SwitchError) {
        log.error('SWITCH_REFUSED', `switch refused: ${err.message}; nothing was changed`);
        return ExitCode.FAILED;
      }
      throw err;
    }
    process.stdout.write(`Switch the master from ${plan.master.id} (${plan.master.hostname}:${plan.master.port}) to ${next.id} (${next.hostname}:${next.port}); other slaves: ${plan.slaves.filter((s) => s.server.id !== next.id).map((s) => s.server.id).join(', ')}${opts.origMasterIsNewSlave ? `; ${plan.master.id} becomes a slave of ${next.id}` : ''}.\n`);
    if (plan.problems.length) {
      for (const p of plan.problems) log.error('SWITCH_CHECK_FAILED', p);
      log.error('SWITCH_REFUSED', 'switch refused: nothing was changed');
      return ExitCode.FAILED;
    }
    log.info('SWITCH_CHECKS_OK', 'all checks passed');
    if (opts.dryRun) {
      process.stdout.write('Dry run: nothing was changed.\n');
      return ExitCode.OK;
    }
    const refused = await confirm(opts.yes);
    if (refused !== undefined) return refused;
    try {
      const r = await runOnlineSwitch(config, clients, log, plan, sw);
      log.info('SWITCH_DONE', `switched the master from ${r.oldMaster} to ${r.newMaster}: writes blocked ${r.writeBlockedMs} ms, ${r.closedConnections} client connection(s) closed on the old master, total ${r.totalMs} ms`, { data: r as unknown as Record<string, unknown> });
      return ExitCode.OK;
    } catch (err) {
      if (err instanceof SwitchError) {
        log.error('SWITCH_FAILED', `switch failed at "${err.step}": ${err.message}${err.rolledBack ? ' — rolled back: the old master takes writes again' : ''}`);
        return ExitCode.FAILED;
      }
      throw err;
    }
  } finally {
    log.close();
    await ssh.closeAll();
  }
}
