// Commands whose issues are not done yet: listed in --help so the CLI's shape is visible, and
// honest about it (exit 2) rather than pretending to work.
import type { Command } from 'commander';
import { ExitCode } from './exit-codes.js';
import { CommandExit } from './common.js';

const LATER: { name: string; description: string; example: string }[] = [
  { name: 'switch', description: 'planned online master switch, or manual failover of a dead master', example: 'ha switch --conf /etc/app1.cnf --online --new-master 10.0.0.12' },
];

export function registerNotYet(program: Command): void {
  for (const c of LATER) {
    program
      .command(c.name)
      .description(`${c.description} (not implemented yet)`)
      .allowUnknownOption(true)
      .allowExcessArguments(true)
      .addHelpText('after', `\nExample:\n  $ ${c.example}\n\nNot implemented yet: exits with code 2.`)
      .action(() => {
        process.stderr.write(`ha ${c.name}: not implemented yet\n`);
        throw new CommandExit(ExitCode.USAGE);
      });
  }
}
