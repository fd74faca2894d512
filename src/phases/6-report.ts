// Phase 6: Report. What happened, in a form a DBA reads in one minute (MHA's "Failover Report")
// and a script reads as JSON; then report_script with MHA's arguments.
import { reportArgs } from '../core/hook-args.js';
import { describeHookEnd, hookOutcome } from '../core/hook-run.js';
import type { MessageCode } from '../core/codes.js';
import { formatDuration } from '../core/reporter.js';
import type { FailoverContext } from './context.js';
import type { ConfigurationCheckResult } from './1-configuration-check.js';
import type { MasterRecoveryResult } from './3-master-recovery.js';
import type { SlavesRecoveryResult } from './4-slaves-recovery.js';

export const PHASE_6 = '6 Report';

export interface PhaseTiming {
  name: string;
  ok: boolean;
  durationMs: number;
}

export interface FailoverReport {
  app: string;
  ok: boolean;
  /** The master role moved (the new master takes writes), even if a slave could not be recovered. */
  masterMoved: boolean;
  deadMaster: string;
  newMaster?: string;
  newMasterReason?: string;
  mode?: string;
  detectedAt: string;
  finishedAt: string;
  /** From the moment the master was declared dead to the end of the failover. */
  totalMs: number;
  /** From the moment the master was declared dead until the new master took writes. */
  newMasterWritableAfterMs?: number;
  phases: PhaseTiming[];
  savedBinlog?: { bytes: number; files: string[]; from: string };
  savedBinlogSkipped?: string;
  newMasterApplied?: { events: number; transactions: number; bytes: number };
  slaves: { server: string; ok: boolean; error?: string; events?: number; transactions?: number; bytes?: number; durationMs: number }[];
  downServers: string[];
  changes: FailoverContext['changes'];
  error?: { phase: string; code: MessageCode; message: string; server?: string };
}

export function reportText(r: FailoverReport): string {
  const lines = [
    '----- Failover Report -----',
    '',
    `${r.app}: ${r.ok ? 'MySQL master failover' : r.masterMoved ? 'MySQL master failover completed with errors' : 'MySQL master failover FAILED'} ${r.deadMaster}${r.newMaster ? ` to ${r.newMaster}` : ''}`,
    '',
    `Master ${r.deadMaster} is down.`,
  ];
  if (r.newMaster) lines.push(`Selected ${r.newMaster} as a new master (${r.newMasterReason}).`);
  if (r.mode) lines.push(`Mode: ${r.mode === 'gtid' ? 'GTID' : 'file/position'}.`);
  if (r.savedBinlog) lines.push(`Saved ${r.savedBinlog.bytes} bytes of the dead master's binlog from ${r.savedBinlog.from}.`);
  if (r.savedBinlogSkipped) lines.push(`Could not save the dead master's binlog: ${r.savedBinlogSkipped}.`);
  if (r.newMasterApplied)
    lines.push(`${r.newMaster}: OK: applied ${r.newMasterApplied.events} events (${r.newMasterApplied.transactions} transactions, ${r.newMasterApplied.bytes} bytes).`);
  for (const s of r.slaves) {
    lines.push(
      s.ok
        ? `${s.server}: OK: applied ${s.events ?? 0} events (${s.transactions ?? 0} transactions), replicating from ${r.newMaster} (${formatDuration(s.durationMs)}).`
        : `${s.server}: FAILED: ${s.error}`,
    );
  }
  for (const d of r.downServers) lines.push(`${d}: was down, not recovered.`);
  if (r.error) lines.push(`ERROR in phase ${r.error.phase}${r.error.server ? ` on ${r.error.server}` : ''}: ${r.error.message}`);
  lines.push('', 'Phases:');
  for (const p of r.phases) lines.push(`  ${p.ok ? 'ok    ' : 'FAILED'} ${p.name.padEnd(24)} ${formatDuration(p.durationMs)}`);
  lines.push(
    `Total from detection: ${formatDuration(r.totalMs)}${r.newMasterWritableAfterMs !== undefined ? `; new master writable after ${formatDuration(r.newMasterWritableAfterMs)}` : ''}.`,
  );
  if (!r.ok && r.changes.length) {
    lines.push('', 'Changes made before the failure (in order):');
    for (const c of r.changes) lines.push(`  ${c.at} ${c.server}: ${c.change}`);
  }
  return lines.join('\n');
}

export function buildReport(
  ctx: FailoverContext,
  phases: PhaseTiming[],
  p1: ConfigurationCheckResult | undefined,
  p3: MasterRecoveryResult | undefined,
  p4: SlavesRecoveryResult | undefined,
  error: FailoverReport['error'] | undefined,
  newMasterWritableAt: number | undefined,
): FailoverReport {
  const slavesOk = (p4?.slaves ?? []).every((s) => s.ok || s.ignoreFail);
  // A configured slave that was down during the failover still points at the dead master: it was
  // not recovered, and without ignore_fail=1 that is a failure to report (exit 1, as the manager's
  // help says: "a slave could not be recovered"), not a success (e2e scenario e exited 0).
  const downOk = (p1?.down ?? []).every((d) => d.server.ignoreFail);
  return {
    app: ctx.config.appName,
    ok: !error && !!p3 && slavesOk && downOk,
    masterMoved: !!p3 && newMasterWritableAt !== undefined,
    deadMaster: ctx.options.deadMasterId,
    newMaster: p3?.newMaster.server.id,
    newMasterReason: p3?.reason,
    mode: p1?.mode,
    detectedAt: new Date(ctx.detectedAt).toISOString(),
    finishedAt: new Date().toISOString(),
    totalMs: Date.now() - ctx.detectedAt,
    newMasterWritableAfterMs: newMasterWritableAt !== undefined ? newMasterWritableAt - ctx.detectedAt : undefined,
    phases,
    savedBinlog: p3?.saved && { bytes: p3.saved.bytes, files: p3.saved.files.map((f) => f.name), from: `${p3.saved.from.file}:${p3.saved.from.position}` },
    savedBinlogSkipped: p3?.savedSkippedReason,
    newMasterApplied: p3?.recovery.diff && { events: p3.recovery.diff.events, transactions: p3.recovery.diff.transactions, bytes: p3.recovery.diff.bytes },
    slaves: (p4?.slaves ?? []).map((s) => ({
      server: s.server,
      ok: s.ok,
      error: s.error,
      events: s.recovery?.diff?.events,
      transactions: s.recovery?.diff?.transactions,
      bytes: s.recovery?.diff?.bytes,
      durationMs: s.durationMs,
    })),
    downServers: (p1?.down ?? []).map((d) => d.server.id),
    changes: ctx.changes,
    error,
  };
}

/** report_script with MHA's arguments; its failure is logged, never fatal (as MHA). */
export async function runReportScript(ctx: FailoverContext, report: FailoverReport): Promise<void> {
  const script = ctx.config.manager.reportScript;
  if (!script) return;
  const dead = ctx.config.servers.find((s) => s.id === report.deadMaster)!;
  const next = report.newMaster && report.masterMoved ? ctx.config.servers.find((s) => s.id === report.newMaster) : undefined;
  const recovered = report.slaves.filter((s) => s.ok).map((s) => ctx.config.servers.find((c) => c.id === s.server)!);
  const subject = `${ctx.config.appName}: MySQL Master failover ${dead.hostname}${next ? ` to ${next.hostname}` : ''}${report.ok ? ' succeeded' : ' failed'}`;
  const args = reportArgs({ dead, next, recoveredSlaves: recovered, configFile: ctx.config.file, subject, body: reportText(report) });
  const r = await ctx.clients.hook('report_script', script, args, {}, ctx.timeouts.hookMs);
  if (hookOutcome(r) === 'ok') ctx.log.info('REPORT_SCRIPT', 'report_script done', { durationMs: r.durationMs });
  else ctx.log.error('REPORT_SCRIPT_FAILED', `report_script failed (${describeHookEnd(r)})`, { durationMs: r.durationMs });
}
