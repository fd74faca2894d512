// Phase 2: Dead master shutdown. Make sure applications can no longer write to the old master:
// master_ip_failover_script --command=stop|stopssh moves the writer address away, then
// shutdown_script powers the host off. Arguments and exit-code rules are MHA 0.58's: exit 0 is
// success, exit 10 means "go on anyway" (for shutdown_script: the host is reachable, mysqld was
// stopped over SSH), any other exit aborts the failover.
import { masterIpFailoverStopArgs, shutdownArgs } from '../core/hook-args.js';
import { describeHookEnd, hookOutcome } from '../core/hook-run.js';
import { FailoverError, recordChange, type FailoverContext } from './context.js';
import type { ConfigurationCheckResult } from './1-configuration-check.js';

export const PHASE_2 = '2 Dead master shutdown';

export interface DeadMasterShutdownResult {
  ipDeactivated: 'done' | 'failed-proceeding' | 'not-configured';
  shutdown: 'powered-off' | 'mysqld-stopped' | 'not-configured';
  /** After shutdown_script: a powered-off host is no longer reachable over SSH. */
  sshReachable: boolean;
}

export async function deadMasterShutdown(ctx: FailoverContext, p1: ConfigurationCheckResult): Promise<DeadMasterShutdownResult> {
  const { log } = ctx;
  const dead = p1.deadMaster;
  const mgr = ctx.config.manager;
  let sshReachable = p1.deadMasterSshReachable;
  let ipDeactivated: DeadMasterShutdownResult['ipDeactivated'] = 'not-configured';
  let shutdown: DeadMasterShutdownResult['shutdown'] = 'not-configured';

  if (mgr.masterIpFailoverScript) {
    const args = masterIpFailoverStopArgs(dead, sshReachable);
    log.info('HOOK_RUN', `master_ip_failover_script ${args.join(' ')}`);
    const r = await ctx.clients.hook('master_ip_failover_script', mgr.masterIpFailoverScript, args, { HA_ORIG_MASTER_PASSWORD: dead.password }, ctx.timeouts.hookMs);
    if (r.output.trim()) log.info('HOOK_OUTPUT', r.output.trim());
    if (hookOutcome(r) === 'ok') {
      ipDeactivated = 'done';
      recordChange(ctx, dead.id, 'master_ip_failover_script --command=stop: writer address removed');
      log.info('HOOK_OK', 'master IP deactivated', { durationMs: r.durationMs });
    } else if (hookOutcome(r) === 'proceed') {
      ipDeactivated = 'failed-proceeding';
      log.warn('HOOK_PROCEED', 'master_ip_failover_script exited 10: proceeding (MHA semantics)', { durationMs: r.durationMs });
    } else {
      throw new FailoverError(
        PHASE_2,
        'HOOK_FAILED',
        `master_ip_failover_script --command=${sshReachable ? 'stopssh' : 'stop'} failed (${describeHookEnd(r)}): applications might still write to the dead master; fix the script and fail over by hand (ha switch --master-state dead)`,
      );
    }
  } else {
    log.warn('HOOK_NOT_SET', 'master_ip_failover_script is not set: skipping the writer address move (applications must find the new master themselves)');
  }

  if (mgr.shutdownScript) {
    const args = shutdownArgs(dead, sshReachable);
    log.info('HOOK_RUN', `shutdown_script ${args.join(' ')}`);
    const r = await ctx.clients.hook('shutdown_script', mgr.shutdownScript, args, {}, ctx.timeouts.hookMs);
    if (r.output.trim()) log.info('HOOK_OUTPUT', r.output.trim());
    if (hookOutcome(r) === 'ok') {
      shutdown = 'powered-off';
      sshReachable = false;
      recordChange(ctx, dead.id, 'shutdown_script: powered off');
      log.info('HOOK_OK', 'dead master powered off', { durationMs: r.durationMs });
    } else if (hookOutcome(r) === 'proceed') {
      shutdown = 'mysqld-stopped';
      sshReachable = true;
      recordChange(ctx, dead.id, 'shutdown_script: mysqld stopped over SSH');
      log.info('HOOK_OK', 'SSH reachable: mysqld on the dead master was stopped', { durationMs: r.durationMs });
    } else {
      throw new FailoverError(PHASE_2, 'HOOK_FAILED', `shutdown_script failed (${describeHookEnd(r)})`);
    }
  } else {
    log.warn('HOOK_NOT_SET', "shutdown_script is not set: skipping the dead master's power-off");
  }
  return { ipDeactivated, shutdown, sshReachable };
}
