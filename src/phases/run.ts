// The failover, phase by phase: each phase logs its start, end and duration; an error stops the
// failover with the phase, the server and every change already made, so the DBA knows exactly
// what state the cluster is in. Used by `ha manager` and `ha switch --master-state dead`.
import { messageOf } from '../core/errors.js';
import { configurationCheck, PHASE_1, type ConfigurationCheckResult } from './1-configuration-check.js';
import { deadMasterShutdown, PHASE_2 } from './2-dead-master-shutdown.js';
import { masterRecovery, PHASE_3, type MasterRecoveryResult } from './3-master-recovery.js';
import { PHASE_4, slavesRecovery, type SlavesRecoveryResult } from './4-slaves-recovery.js';
import { newMasterCleanup, PHASE_5 } from './5-new-master-cleanup.js';
import { buildReport, PHASE_6, reportText, runReportScript, type FailoverReport, type PhaseTiming } from './6-report.js';
import { FailoverError, type FailoverContext } from './context.js';

export interface FailoverHooks {
  /** Called when a phase starts (the manager writes it to its status file). */
  onPhase?: (phase: string) => void;
}

export async function runFailover(ctx: FailoverContext, hooks: FailoverHooks = {}): Promise<FailoverReport> {
  const phases: PhaseTiming[] = [];
  let p1: ConfigurationCheckResult | undefined;
  let p3: MasterRecoveryResult | undefined;
  let p4: SlavesRecoveryResult | undefined;
  let writableAt: number | undefined;
  let error: FailoverReport['error'];

  async function phase<T>(name: string, work: () => Promise<T>): Promise<T> {
    hooks.onPhase?.(name);
    ctx.log.phaseStart(name);
    const t0 = Date.now();
    try {
      const result = await work();
      phases.push({ name, ok: true, durationMs: Date.now() - t0 });
      ctx.log.phaseEnd(name, true, Date.now() - t0);
      return result;
    } catch (err) {
      phases.push({ name, ok: false, durationMs: Date.now() - t0 });
      ctx.log.phaseEnd(name, false, Date.now() - t0);
      throw err instanceof FailoverError ? err : new FailoverError(name, 'UNEXPECTED', (err as Error).message);
    }
  }

  try {
    p1 = await phase(PHASE_1, () => configurationCheck(ctx));
    const p2 = await phase(PHASE_2, () => deadMasterShutdown(ctx, p1!));
    p3 = await phase(PHASE_3, () => masterRecovery(ctx, p1!, p2));
    writableAt = Date.now();
    p4 = await phase(PHASE_4, () => slavesRecovery(ctx, p1!, p3!));
    await phase(PHASE_5, () => newMasterCleanup(ctx, p3!));
  } catch (err) {
    const e = err as FailoverError;
    error = { phase: e.phase, code: e.code, message: e.message, server: e.server };
    ctx.log.error(e.code, e.message, { server: e.server, phase: e.phase });
  }

  ctx.log.phaseStart(PHASE_6);
  const t6 = Date.now();
  const report = buildReport(ctx, phases, p1, p3, p4, error, writableAt);
  for (const line of reportText(report).split('\n')) ctx.log.info('REPORT', line);
  await runReportScript(ctx, report).catch((err: unknown) => ctx.log.error('REPORT_SCRIPT_FAILED', messageOf(err)));
  phases.push({ name: PHASE_6, ok: true, durationMs: Date.now() - t6 });
  ctx.log.phaseEnd(PHASE_6, true, Date.now() - t6);
  return { ...report, phases };
}
