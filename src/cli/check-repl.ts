// `ha check-repl`: is the replication topology healthy and ready for a failover? The checks are
// in src/checks/check-repl.ts; this file parses the flags and builds the real dependencies.
import { lookup } from 'node:dns/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { checkRepl, type CheckReplDeps } from '../checks/check-repl.js';
import { addConfigOptions, loadConfigForCommand, runWithSsh, type CommonOptions } from './common.js';
import { openServer } from './deps.js';

export type { CheckReplDeps } from '../checks/check-repl.js';

export interface CheckReplOptions extends CommonOptions {
  /** Overrides max_repl_delay_seconds from the config (MHA: --seconds_behind_master). */
  secondsBehindMaster?: number;
}

async function resolveAll(hostname: string): Promise<string[]> {
  try {
    return (await lookup(hostname, { all: true })).map((a) => a.address);
  } catch {
    return [];
  }
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected a whole number of seconds, got "${value}"`);
  return n;
}

export function registerCheckRepl(program: Command): void {
  addConfigOptions(
    program
      .command('check-repl')
      .description('check that replication is healthy and ready for a failover; shows the topology and who would be promoted')
      .option('--seconds-behind-master <seconds>', 'warn when a slave is further behind than this (default: max_repl_delay_seconds, 30)', parsePositiveInt)
      .addHelpText(
        'after',
        `
Examples:
  $ ha check-repl --conf /etc/app1.cnf
  $ ha check-repl --conf /etc/app1.cnf --json | jq '.findings[] | select(.severity == "error")'

Errors (exit 1): no or several writable masters, a server down, a slave replicating from
elsewhere, IO/SQL thread stopped, duplicate server_id, log_bin off on a possible master,
differing replication filters, master binlogs not readable over SSH, hook scripts missing
or not executable, errant or mixed GTID state.
Warnings (exit 0): read_only=0 on a slave, relay_log_purge=1, delay above the limit,
binlog_format mismatch.

Exit codes: 0 ready for failover, 1 problems found, 2 usage error, 3 configuration error.`,
      ),
  ).action((opts: CheckReplOptions) => runWithSsh(opts, (o, reporter, ssh) => runCheckRepl(o, { ssh, openServer, resolve: resolveAll, reporter })));
}

export async function runCheckRepl(opts: CheckReplOptions, deps: CheckReplDeps): Promise<number> {
  const started = Date.now();
  const config = loadConfigForCommand('check-repl', opts, deps.reporter, started);
  if (typeof config === 'number') return config;
  return checkRepl(config, opts, deps, started);
}
