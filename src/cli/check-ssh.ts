// `ha check-ssh` (the checks: src/checks/check-ssh.ts): can the manager reach every host over SSH, run commands there, find
// mysqlbinlog, write remote_workdir and read the binlogs? Unlike masterha_check_ssh it needs no
// SSH trust between database hosts: the manager itself carries every file a failover moves.
import type { Command } from 'commander';
import { checkSsh, type CheckSshDeps } from '../checks/check-ssh.js';
import { addConfigOptions, loadConfigForCommand, runWithSsh, type CommonOptions } from './common.js';
import { openServer } from './deps.js';

export type { CheckSshDeps, HostSshResult } from '../checks/check-ssh.js';
export type CheckSshOptions = CommonOptions;

export function registerCheckSsh(program: Command): void {
  addConfigOptions(
    program
      .command('check-ssh')
      .description('check that the manager reaches every host over SSH, runs commands, finds mysqlbinlog and reads binlogs')
      .addHelpText(
        'after',
        `
Examples:
  $ ha check-ssh --conf /etc/app1.cnf
  $ ha check-ssh --conf /etc/app1.cnf --json | jq '.hosts[] | select(.ok == false)'

Only the manager needs SSH access to each host (key login, host key in known_hosts);
database hosts need no SSH trust between each other.

Exit codes: 0 every host passed, 1 a host failed, 2 usage error, 3 configuration error.`,
      ),
  ).action((opts: CheckSshOptions) => runWithSsh(opts, (o, reporter, ssh) => runCheckSsh(o, { ssh, openServer, reporter })));
}

export async function runCheckSsh(opts: CheckSshOptions, deps: CheckSshDeps): Promise<number> {
  const started = Date.now();
  const config = loadConfigForCommand('check-ssh', opts, deps.reporter, started);
  if (typeof config === 'number') return config;
  return checkSsh(config, deps, started);
}
