// ha's command line: each command lives in its own file, parses its flags into an options
// object and hands it to a run function (the cli/cli model), so commands are testable alone.
import { Command, CommanderError } from 'commander';
import { registerBinlog } from './binlog.js';
import { registerCheckRepl } from './check-repl.js';
import { registerCheckSsh } from './check-ssh.js';
import { CommandExit } from './common.js';
import { ExitCode } from '../core/exit-codes.js';
import { registerManager } from './manager.js';
import { registerPurgeRelayLogs } from './purge-relay-logs.js';
import { registerReport } from './report.js';
import { registerStatus } from './status.js';
import { registerSwitch } from './switch.js';

export function buildProgram(): Command {
  const program = new Command('ha')
    .description('Keeps a MySQL/MariaDB replication cluster writable when its master dies (MHA-compatible, agentless).')
    .version(process.env.npm_package_version ?? '0.1.0', '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    // Before the subcommands are added, so they inherit it: usage errors must exit 2, not 1.
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  $ ha check-ssh --conf /etc/app1.cnf        can the manager reach every host over SSH?
  $ ha check-repl --conf /etc/app1.cnf       is replication healthy and ready for a failover?
  $ nohup ha manager --conf /etc/app1.cnf > /var/log/ha/app1.log 2>&1 &
  $ ha report --conf /etc/app1.cnf --json   the last failover's report, for scripts

Exit codes: 0 ok, 1 check or operation failed, 2 usage error or not implemented,
            3 configuration error, 70 internal error.`,
    );
  registerCheckSsh(program);
  registerCheckRepl(program);
  registerManager(program);
  registerStatus(program);
  registerReport(program);
  registerSwitch(program);
  registerBinlog(program);
  registerPurgeRelayLogs(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // `ha binlog events … | head`: a closed pipe ends the output, it is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    process.exitCode = process.exitCode ?? ExitCode.OK;
  } catch (err) {
    if (err instanceof CommandExit) {
      process.exitCode = err.exitCode;
    } else if (err instanceof CommanderError) {
      // --help and --version "fail" with exit code 0 in commander; real usage errors exit 2.
      process.exitCode = err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    } else {
      process.stderr.write(`ha: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = ExitCode.INTERNAL;
    }
  }
}
