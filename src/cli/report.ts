// `ha report`: the last failover's report (what the manager or `ha switch --master-state dead`
// logged at the end of the failover), from APP.failover.report.json in manager_workdir. For the
// DBA the morning after, and, with --json, for scripts (no parsing of the log's prose).
import type { Command } from 'commander';
import { managerFiles, readFailoverReport } from '../manager/state.js';
import { reportText } from '../phases/6-report.js';
import { Reporter } from '../core/reporter.js';
import { CommandExit, addConfigOptions, colorChoice, loadConfigForCommand, type CommonOptions } from './common.js';
import { ExitCode } from '../core/exit-codes.js';

export function registerReport(program: Command): void {
  addConfigOptions(
    program
      .command('report')
      .description("print the last failover's report (kept as JSON in manager_workdir)")
      .addHelpText(
        'after',
        `
Examples:
  $ ha report --conf /etc/app1.cnf
  $ ha report --conf /etc/app1.cnf --json | jq -r .report.newMaster
  $ ha report --conf /etc/app1.cnf --json | jq '.report.phases[] | [.name, .durationMs]'

The manager (and \`ha switch --master-state dead\`) writes the report of every failover it runs,
completed or not, to APP.failover.report.json in manager_workdir, next to APP.failover.complete
and APP.failover.error. --json prints {command, ok, exitCode, app, file, report}; report has
deadMaster, newMaster, ok, masterMoved, detectedAt, finishedAt, totalMs,
newMasterWritableAfterMs, phases [{name, ok, durationMs}], slaves [{server, ok, error, ...}],
downServers, changes (what was changed, in order) and error {phase, code, message, server}.

Exit codes: 0 the last failover completed; 1 it failed or completed with errors, or there is
no failover report (or it cannot be read); 2 usage error; 3 configuration error.`,
      ),
  ).action((opts: CommonOptions) => {
    const started = Date.now();
    const reporter = new Reporter({ json: opts.json, color: colorChoice(opts) });
    const config = loadConfigForCommand('report', opts, reporter, started);
    if (typeof config === 'number') throw new CommandExit(config);
    const file = managerFiles(config).report;
    let report;
    try {
      report = readFailoverReport(managerFiles(config));
    } catch (err) {
      return fail(opts, reporter, config.appName, file, (err as Error).message);
    }
    if (!report)
      return fail(opts, reporter, config.appName, file, `no failover report for ${config.appName}: ${file} does not exist (no failover has run with this manager_workdir)`);
    const exitCode = report.ok ? ExitCode.OK : ExitCode.FAILED;
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ command: 'report', ok: report.ok, exitCode, app: config.appName, file, report }, null, 2)}\n`);
    } else {
      const c = reporter.c;
      const [title, ...rest] = reportText(report).split('\n');
      process.stdout.write(`${c.bold(title ?? '')}\n${rest.join('\n')}\n`);
      const verdict = report.ok ? c.green.bold('completed') : report.masterMoved ? c.yellow.bold('completed with errors') : c.red.bold('FAILED');
      process.stdout.write(`\n${c.dim(`${file}, finished ${report.finishedAt}`)}: ${verdict}\n`);
    }
    if (exitCode !== ExitCode.OK) throw new CommandExit(exitCode);
  });
}

function fail(opts: CommonOptions, reporter: Reporter, app: string, file: string, message: string): never {
  if (opts.json) process.stdout.write(`${JSON.stringify({ command: 'report', ok: false, exitCode: ExitCode.FAILED, app, file, message }, null, 2)}\n`);
  else process.stderr.write(`${reporter.c.red(message)}\n`);
  throw new CommandExit(ExitCode.FAILED);
}
