// `ha switch`: move the master role by hand. `--master-state dead` runs the manager's failover
// phases once, without monitoring (MHA: masterha_master_switch --master_state=dead; the operation
// is src/switch/dead.ts); `--online` is the planned switch of a live master (src/switch/run-online.ts).
import { createInterface } from 'node:readline/promises';
import { InvalidArgumentError, type Command } from 'commander';
import type { AppConfig, ServerConfig } from '../config/types.js';
import type { Clients } from '../core/clients.js';
import { ExitCode } from '../core/exit-codes.js';
import { ManagerLog } from '../core/log.js';
import { Reporter } from '../core/reporter.js';
import { StopRequest, stopOnSignals } from '../core/stop.js';
import { masterOfSlaves, runDeadMasterSwitch } from '../switch/dead.js';
import { runOnline } from '../switch/run-online.js';
import { colorChoice, CommandExit, DEFAULT_GLOBAL_CONF, loadConfigForCommand } from './common.js';
import { productionClients } from './deps.js';

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
    .option('--new-master <host[:port]>', "the slave to promote (default: MHA's rules choose)")
    .option('--yes', 'do not ask for confirmation', false)
    .option('--ignore-last-failover', 'fail over even after an earlier failover error or within last_failover_minute', false)
    .option(
      '--log-format <format>',
      'human or json',
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

export async function runSwitch(opts: SwitchOptions): Promise<number> {
  if (opts.online || opts.masterState === 'alive') return runOnlineCommand(opts);
  if (opts.masterState !== 'dead') {
    process.stderr.write('ha switch: say --master-state dead (failover of a dead master) or --online\n');
    return ExitCode.USAGE;
  }
  const setup = await setUp(opts);
  if (typeof setup === 'number') return setup;
  const { config, log, clients, close } = setup;
  try {
    let dead: ServerConfig | undefined;
    let next: ServerConfig | undefined;
    try {
      dead = opts.deadMaster ? findServer(config, opts.deadMaster, '--dead-master') : await masterOfSlaves(config, clients);
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
    process.stdout.write(
      `Fail over dead master ${dead.id} (${dead.hostname}:${dead.port}) to ${next ? `${next.id} (${next.hostname}:${next.port})` : "the slave MHA's rules choose"}.\n`,
    );
    const refused = await confirm(opts.yes);
    if (refused !== undefined) return refused;
    const stop = new StopRequest();
    const unlink = stopOnSignals(stop);
    try {
      return await runDeadMasterSwitch(config, { deadMaster: dead, newMaster: next, ignoreLastFailover: opts.ignoreLastFailover }, { clients, log, stop });
    } finally {
      unlink();
    }
  } finally {
    log.close();
    await close();
  }
}

/** Config, log (on the terminal, as MHA's masterha_master_switch; log_level applies) and clients. */
async function setUp(opts: SwitchOptions): Promise<number | { config: AppConfig; log: ManagerLog; clients: Clients; close: () => Promise<void> }> {
  const reporter = new Reporter({ json: opts.logFormat === 'json', out: process.stderr, color: colorChoice(opts) });
  const loaded = loadConfigForCommand('switch', { conf: opts.conf, globalConf: opts.globalConf, json: opts.logFormat === 'json', color: opts.color }, reporter, Date.now());
  if (typeof loaded === 'number') return loaded;
  const log = new ManagerLog({ format: opts.logFormat, color: colorChoice(opts), minLevel: loaded.manager.logLevel });
  const { SshPool } = await import('../ssh/client.js');
  const ssh = new SshPool();
  return { config: loaded, log, clients: productionClients(ssh), close: () => ssh.closeAll() };
}

async function runOnlineCommand(opts: SwitchOptions): Promise<number> {
  if (!opts.newMaster) {
    process.stderr.write('ha switch --online: name the new master with --new-master HOST[:PORT]\n');
    return ExitCode.USAGE;
  }
  const setup = await setUp(opts);
  if (typeof setup === 'number') return setup;
  const { config, log, clients, close } = setup;
  try {
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
    return await runOnline(
      config,
      {
        newMaster: next,
        origMasterIsNewSlave: opts.origMasterIsNewSlave,
        runningUpdatesLimit: opts.runningUpdatesLimit,
        runningSecondsLimit: opts.runningSecondsLimit,
        dryRun: opts.dryRun,
      },
      { clients, log, print: (t) => process.stdout.write(t), confirm: () => confirm(opts.yes) },
    );
  } finally {
    log.close();
    await close();
  }
}
