// Plumbing every command shares: the common flags, loading the config, and turning
// a ConfigError into a clear message and exit code 3 rather than a stack trace.
import type { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { ConfigError, type AppConfig, type LoadedConfig } from '../config/types.js';
import { Code } from '../core/codes.js';
import { Reporter } from '../core/reporter.js';
import type { SshPool } from '../ssh/client.js';
import { ExitCode } from '../core/exit-codes.js';

export const DEFAULT_GLOBAL_CONF = '/etc/masterha_default.cnf';

export interface CommonOptions {
  conf: string;
  globalConf: string;
  json: boolean;
  /** commander sets true unless --no-color; true means "auto" (colour on a terminal only). */
  color?: boolean;
}

/** --no-color forces plain output; otherwise colour follows the terminal (and NO_COLOR). */
export function colorChoice(opts: { color?: boolean }): boolean | undefined {
  return opts.color === false ? false : undefined;
}

export function addConfigOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--conf <file>', 'application config (MHA format, e.g. /etc/app1.cnf)')
    .option('--global-conf <file>', 'global defaults file', DEFAULT_GLOBAL_CONF)
    .option('--json', 'print one JSON document instead of human output', false)
    .option('--no-color', 'plain output even on a terminal');
}

/** Thrown by a command's run function to end with a given exit code after reporting. */
export class CommandExit extends Error {
  readonly exitCode: number;
  constructor(exitCode: number, message = `exit ${exitCode}`) {
    super(message);
    this.exitCode = exitCode;
  }
}

/**
 * Load the config for a check command; on a config error, report it, print the closing summary
 * (so --json still gets one document) and return the exit code instead of a config.
 */
export function loadConfigForCommand(command: string, opts: CommonOptions, reporter: Reporter, started: number): AppConfig | number {
  try {
    return loadConfigReported(opts, reporter).config;
  } catch (err) {
    if (err instanceof CommandExit) {
      reporter.finish({ command, ok: false, exitCode: err.exitCode, durationMs: Date.now() - started, message: 'configuration error' });
      return err.exitCode;
    }
    throw err;
  }
}

/** The action shared by commands that need SSH: build the reporter and pool, run, always close. */
export async function runWithSsh<O extends CommonOptions>(opts: O, run: (opts: O, reporter: Reporter, ssh: SshPool) => Promise<number>): Promise<void> {
  const reporter = new Reporter({ json: opts.json, color: colorChoice(opts) });
  // ssh2 is loaded only by commands that use it: `ha binlog …` and --help start faster and smaller.
  const { SshPool } = await import('../ssh/client.js');
  const ssh = new SshPool();
  try {
    const code = await run(opts, reporter, ssh);
    if (code !== ExitCode.OK) throw new CommandExit(code);
  } finally {
    await ssh.closeAll();
  }
}

export function loadConfigReported(opts: CommonOptions, reporter: Reporter): LoadedConfig {
  try {
    const loaded = loadConfig({ file: opts.conf, globalFile: opts.globalConf });
    for (const n of loaded.notices) reporter.info(Code.CONFIG_NOTICE, n);
    for (const w of loaded.warnings) {
      reporter.warn(Code.CONFIG_WARNING, w.message, { data: { file: w.file, block: w.block, parameter: w.parameter } });
    }
    return loaded;
  } catch (err) {
    if (err instanceof ConfigError) {
      reporter.error(Code.CONFIG_INVALID, err.message, { data: { file: err.file, block: err.block, parameter: err.parameter } });
      throw new CommandExit(ExitCode.CONFIG, err.message);
    }
    throw err;
  }
}
