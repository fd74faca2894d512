// Phase 4: Slaves recovery, in parallel. Each remaining slave gets exactly the events it is
// missing (the same recovery as the new master's); once every slave has them, each is pointed at
// the new master with CHANGE MASTER — at the binlog coordinates recorded in phase 3.5
// (file/position), or by GTID after its gtid_slave_pos was set to include what the diff applied —
// START SLAVE, and both threads must run.
import { formatCoordinate } from '../binlog/coordinates.js';
import { runChangeMaster } from '../mysql/commands.js';
import { dialectFor } from '../mysql/dialect.js';
import { readServerState } from '../mysql/inspect.js';
import { formatMariadbGtid, parseMariadbGtidList } from '../core/gtid.js';
import type { ConfigurationCheckResult } from './1-configuration-check.js';
import type { MasterRecoveryResult } from './3-master-recovery.js';
import { recordChange, type FailoverContext, type ServerView } from './context.js';
import { withDeadline } from '../core/clients.js';
import { recoverServer, type RecoveryResult } from './recover-server.js';

export const PHASE_4 = '4 Slaves recovery';

export interface SlaveOutcome {
  server: string;
  ok: boolean;
  ignoreFail: boolean;
  error?: string;
  recovery?: RecoveryResult;
  durationMs: number;
}

export interface SlavesRecoveryResult {
  slaves: SlaveOutcome[];
}

/** MariaDB: gtid_slave_pos plus, per domain, the last GTID the diff applied. */
export function mergedGtidSlavePos(current: string, applied: string | undefined): string {
  const pos = parseMariadbGtidList(current);
  for (const [domain, g] of parseMariadbGtidList(applied ?? '')) pos.set(domain, g);
  return [...pos.values()]
    .sort((a, b) => a.domain - b.domain)
    .map(formatMariadbGtid)
    .join(',');
}

async function waitForThreads(ctx: FailoverContext, view: ServerView): Promise<void> {
  const session = await ctx.clients.mysql(view.server);
  try {
    const deadline = Date.now() + ctx.timeouts.slaveStartMs;
    for (;;) {
      // A status read can fail on a transient state: right after START SLAVE, MariaDB reports
      // Slave_IO_Running "Preparing" (IO thread connected, not yet reading), which readServerState
      // rejects; the slave was then reported FAILED although it replicated a moment later (e2e
      // scenarios b, c, e, f). Keep polling until the deadline; the last error is reported then.
      let ss: Awaited<ReturnType<typeof readServerState>>['slaveStatus'];
      let readError: string | undefined;
      try {
        ss = (await readServerState(session)).slaveStatus;
      } catch (err) {
        readError = (err as Error).message;
      }
      if (ss && ss.ioRunning === 'Yes' && ss.sqlRunning) return;
      if (ss && !ss.sqlRunning && ss.lastSqlErrno) throw new Error(`SQL thread stopped: error ${ss.lastSqlErrno}: ${ss.lastSqlError}`);
      if (ss && ss.ioRunning === 'No' && ss.lastIoErrno) throw new Error(`IO thread stopped: error ${ss.lastIoErrno}: ${ss.lastIoError}`);
      if (Date.now() > deadline)
        throw new Error(
          `timed out after ${ctx.timeouts.slaveStartMs} ms waiting for both replication threads to run (${readError ? `last status read failed: ${readError}` : `IO ${ss?.ioRunning ?? '?'}, SQL ${ss?.sqlRunning ? 'Yes' : 'No'}`})`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await session.close().catch(() => undefined);
  }
}

/** repl_user, or (unset, as MHA) the account the slave already replicates with. */
function replUserOf(view: ServerView): string {
  return view.server.replUser || view.state.slaveStatus?.masterUser || '';
}

function failed(ctx: FailoverContext, view: ServerView, t0: number, err: unknown): SlaveOutcome {
  const id = view.server.id;
  const message = (err as Error).message;
  ctx.log.error('SLAVE_RECOVERY_FAILED', `recovery failed: ${message}${view.server.ignoreFail ? ' (ignore_fail=1)' : ''}`, { server: id, durationMs: Date.now() - t0 });
  return { server: id, ok: false, ignoreFail: view.server.ignoreFail, error: message, durationMs: Date.now() - t0 };
}

/** The events the slave is missing: its own relay logs, the latest slave's, the saved binlog. */
async function recoverEvents(ctx: FailoverContext, p3: MasterRecoveryResult, view: ServerView): Promise<RecoveryResult> {
  const recovery = await recoverServer(ctx, PHASE_4, view, p3.latest, p3.saved?.files);
  recordChange(ctx, view.server.id, `replication stopped; ${recovery.diff ? `diff of ${recovery.diff.events} events applied` : 'nothing to apply'}`);
  return recovery;
}

/** CHANGE MASTER to the new master, START SLAVE, and both threads must run. */
async function repointSlave(
  ctx: FailoverContext,
  p1: ConfigurationCheckResult,
  p3: MasterRecoveryResult,
  view: ServerView,
  recovery: RecoveryResult,
  t0: number,
): Promise<SlaveOutcome> {
  const id = view.server.id;
  const next = p3.newMaster.server;
  try {
    const session = await ctx.clients.mysql(view.server);
    try {
      const dialect = dialectFor(recovery.after.version);
      let redacted: string;
      if (p1.mode === 'gtid') {
        if (recovery.after.version.flavor === 'mariadb') {
          const pos = mergedGtidSlavePos(recovery.after.gtid.slavePos ?? '', recovery.diff?.gtidSet);
          await session.query('SET GLOBAL gtid_slave_pos = ?', [pos]);
          ctx.log.info('GTID_SLAVE_POS', `gtid_slave_pos = ${pos}`, { server: id });
        }
        redacted = await runChangeMaster(session, dialect, {
          host: next.hostname,
          port: next.port,
          user: replUserOf(view),
          password: view.server.replPassword,
          start: { kind: 'gtid' },
        });
      } else {
        redacted = await runChangeMaster(session, dialect, {
          host: next.hostname,
          port: next.port,
          user: replUserOf(view),
          password: view.server.replPassword,
          start: { kind: 'position', file: p3.coordinates.file, position: p3.coordinates.position },
        });
      }
      ctx.log.info('CHANGE_MASTER', redacted, { server: id });
      recordChange(ctx, id, `repointed to ${next.id}: ${redacted}`);
      await session.query(dialect.startSlave());
    } finally {
      await session.close().catch(() => undefined);
    }
    await withDeadline(`${id}'s replication threads`, ctx.timeouts.slaveStartMs + 5_000, waitForThreads(ctx, view));
    ctx.log.info('SLAVE_RECOVERED', `replicating from ${next.id} (${p1.mode === 'gtid' ? 'GTID' : formatCoordinate(p3.coordinates)}), IO and SQL threads running`, {
      server: id,
      durationMs: Date.now() - t0,
    });
    return { server: id, ok: true, ignoreFail: view.server.ignoreFail, recovery, durationMs: Date.now() - t0 };
  } catch (err) {
    return failed(ctx, view, t0, err);
  }
}

export async function slavesRecovery(ctx: FailoverContext, p1: ConfigurationCheckResult, p3: MasterRecoveryResult): Promise<SlavesRecoveryResult> {
  const others = p1.slaves.filter((v) => v.server.id !== p3.newMaster.server.id);
  if (others.length === 0) ctx.log.info('NO_OTHER_SLAVES', 'no other slave to recover');
  const t0 = Date.now();
  // Every slave gets its missing events before any is repointed: CHANGE MASTER deletes a slave's
  // relay logs, and when the latest slave is not the new master it is one of these slaves while
  // the lagging ones still read their diffs from its relay logs (MHA too generates every diff
  // before it applies any).
  const recovered = await Promise.all(
    others.map((v) =>
      recoverEvents(ctx, p3, v).then(
        (recovery) => ({ recovery }),
        (err: unknown) => ({ failure: failed(ctx, v, t0, err) }),
      ),
    ),
  );
  const slaves = await Promise.all(
    others.map(async (v, i) => {
      const r = recovered[i]!;
      return 'failure' in r ? r.failure : repointSlave(ctx, p1, p3, v, r.recovery, t0);
    }),
  );
  return { slaves };
}
