// Plumbing every command shares: the common flags, loading the config, and turning
// a ConfigError into a clear message and exit code 3 rather than a stack trace.
import type { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { ConfigError, type LoadedConfig } from '../config/types.js';
import { Code } from '../report/codes.js';
import type { Reporter } from '../report/reporter.js';
import { ExitCode } from './exit-codes.js';

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
