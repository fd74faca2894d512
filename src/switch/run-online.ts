// `ha switch --online` as an operation: check, show the plan, (dry run: stop), confirm, switch.
// The CLI supplies where the plan is printed and how the DBA confirms.
import type { AppConfig, ServerConfig } from '../config/types.js';
import type { Clients } from '../core/clients.js';
import { ExitCode } from '../core/exit-codes.js';
import type { ManagerLog } from '../core/log.js';
import { planSwitch, runOnlineSwitch, SwitchError, type OnlineSwitchOptions, type SwitchPlan } from './online.js';

export interface OnlineRunOptions {
  newMaster: ServerConfig;
  origMasterIsNewSlave: boolean;
  runningUpdatesLimit: number;
  runningSecondsLimit: number;
  dryRun: boolean;
}

export interface OnlineRunIO {
  clients: Clients;
  log: ManagerLog;
  /** The plan and the dry-run notice (standard output). */
  print(text: string): void;
  /** Asks the DBA (or --yes); returns an exit code when the switch must not go on. */
  confirm(): Promise<number | undefined>;
}

export function planText(plan: SwitchPlan, next: ServerConfig, origMasterIsNewSlave: boolean): string {
  const others = plan.slaves.filter((s) => s.server.id !== next.id).map((s) => s.server.id);
  return `Switch the master from ${plan.master.id} (${plan.master.hostname}:${plan.master.port}) to ${next.id} (${next.hostname}:${next.port}); other slaves: ${others.join(', ')}${origMasterIsNewSlave ? `; ${plan.master.id} becomes a slave of ${next.id}` : ''}.`;
}

export async function runOnline(config: AppConfig, opts: OnlineRunOptions, io: OnlineRunIO): Promise<number> {
  const { clients, log } = io;
  const next = opts.newMaster;
  const sw: OnlineSwitchOptions = {
    newMasterId: next.id,
    origMasterIsNewSlave: opts.origMasterIsNewSlave,
    runningUpdatesLimit: opts.runningUpdatesLimit,
    runningSecondsLimit: opts.runningSecondsLimit,
    lockWaitTimeout: 1,
    catchUpTimeout: 10,
  };
  try {
    let plan: SwitchPlan;
    try {
      plan = await planSwitch(config, clients, sw);
    } catch (err) {
      if (err instanceof SwitchError) {
        log.error('SWITCH_REFUSED', `switch refused: ${err.message}; nothing was changed`);
        return ExitCode.FAILED;
      }
      throw err;
    }
    io.print(`${planText(plan, next, opts.origMasterIsNewSlave)}\n`);
    if (plan.problems.length) {
      for (const p of plan.problems) log.error('SWITCH_CHECK_FAILED', p);
      log.error('SWITCH_REFUSED', 'switch refused: nothing was changed');
      return ExitCode.FAILED;
    }
    log.info('SWITCH_CHECKS_OK', 'all checks passed');
    if (opts.dryRun) {
      io.print('Dry run: nothing was changed.\n');
      return ExitCode.OK;
    }
    const refused = await io.confirm();
    if (refused !== undefined) return refused;
    try {
      const r = await runOnlineSwitch(config, clients, log, plan, sw);
      log.info(
        'SWITCH_DONE',
        `switched the master from ${r.oldMaster} to ${r.newMaster}: writes blocked ${r.writeBlockedMs} ms, ${r.closedConnections} client connection(s) closed on the old master, total ${r.totalMs} ms`,
        { data: r as unknown as Record<string, unknown> },
      );
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
  }
}
