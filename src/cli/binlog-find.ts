// `ha binlog find`: placeholder until the relay-log position mapper lands (issue 3).
import type { Command } from 'commander';
import { CommandExit } from './common.js';
import { ExitCode } from './exit-codes.js';

export function registerBinlogFind(binlog: Command): void {
  binlog
    .command('find')
    .description('map a master coordinate into a slave\'s relay logs (not implemented yet)')
    .allowUnknownOption(true)
    .action(() => {
      process.stderr.write('ha binlog find: not implemented yet\n');
      throw new CommandExit(ExitCode.USAGE);
    });
}
