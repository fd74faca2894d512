// Phase 3: Master recovery (MHA's 3.1–3.5).
//   3.1 find the latest slaves (read positions, binlog files ordered numerically)
//   3.2 save the dead master's binlog from the latest read position, while its host is reachable
//   3.3 choose the new master (candidate_master, no_master, latest_priority, check_repl_delay)
//   3.4 + 3.5 give it every missing event (its own relay logs, the latest slave's, the saved
//       binlog), record its binlog coordinates, run master_ip_failover_script start, make it writable
import { messageOf } from '../core/errors.js';
import { dirname, join } from 'node:path';
import { compareCoordinates, formatCoordinate } from '../binlog/coordinates.js';
import { masterIpFailoverStartArgs } from '../core/hook-args.js';
import { describeHookEnd, hookOutcome } from '../core/hook-run.js';
import { readServerState } from '../mysql/inspect.js';
import type { BinlogCoordinate } from '../mysql/types.js';
import { chooseCandidate, DEFAULT_ANALYZE_OPTIONS } from '../core/topology.js';
import type { ConfigurationCheckResult } from './1-configuration-check.js';
import type { DeadMasterShutdownResult } from './2-dead-master-shutdown.js';
import { checkAbort, FailoverError, recordChange, type FailoverContext, type ServerView } from './context.js';
import { recoverServer, relayFilesOf, type LatestSlave, type RecoveryResult } from './recover-server.js';
import { binlogBasename, listBinlogs, saveBinlogTail, type SavedBinlogFile } from './remote.js';

export const PHASE_3 = '3 Master recovery';

export interface MasterRecoveryResult {
  latest: LatestSlave;
  latestIds: string[];
  saved?: { files: SavedBinlogFile[]; bytes: number; from: BinlogCoordinate };
  savedSkippedReason?: string;
  newMaster: ServerView;
  reason: string;
  recovery: RecoveryResult;
  /** Where the other slaves start replicating from the new master. */
  coordinates: BinlogCoordinate & { gtid: string };
  ipActivated: 'done' | 'failed-proceeding' | 'not-configured';
}

/**
 * Why a slave named as the new master (--new-master) must not be promoted, or undefined. MHA
 * refuses the same (ServerManager::is_target_bad_for_new_master): no_master=1 marks a DR or backup
 * replica that must never take writes, whoever names it; without log_bin the other slaves have
 * nothing to replicate from.
 */
export function unfitAsNewMaster(view: Pick<ServerView, 'server' | 'state'>): string | undefined {
  if (view.server.noMaster) return 'no_master=1 in the config (it must never become the master)';
  if (!view.state.logBin) return 'log_bin is off';
  return undefined;
}

export async function masterRecovery(ctx: FailoverContext, p1: ConfigurationCheckResult, p2: DeadMasterShutdownResult): Promise<MasterRecoveryResult> {
  const { log } = ctx;
  const dead = p1.deadMaster;

  // 3.1 latest slaves
  log.info('PHASE_3_1', '3.1 Getting latest slaves');
  const byRead = [...p1.slaves].sort((a, b) => -compareCoordinates(a.state.slaveStatus!.readPosition, b.state.slaveStatus!.readPosition));
  const latestRead = byRead[0]!.state.slaveStatus!.readPosition;
  const latestViews = byRead.filter((v) => compareCoordinates(v.state.slaveStatus!.readPosition, latestRead) === 0);
  const oldestRead = byRead.at(-1)!.state.slaveStatus!.readPosition;
  log.info(
    'LATEST',
    `latest read position ${formatCoordinate(latestRead)} on ${latestViews.map((v) => v.server.id).join(', ')}; oldest ${formatCoordinate(oldestRead)} on ${byRead.at(-1)!.server.id}`,
  );
  // Among equally latest slaves, prefer one whose relay logs the others will read over SSH.
  const latestView = latestViews[0]!;
  const latestConn = await ctx.clients.ssh(latestView.server).catch((err: unknown) => {
    throw new FailoverError(
      PHASE_3,
      'LATEST_SSH',
      `the latest slave ${latestView.server.id} is not reachable over SSH (${messageOf(err)}): its relay logs are needed`,
      latestView.server.id,
    );
  });
  const latest: LatestSlave = { view: latestView, read: latestRead, relayFiles: await relayFilesOf(latestConn, latestView) };
  checkAbort(ctx, PHASE_3);

  // 3.2 save the dead master's binlog
  log.info('PHASE_3_2', "3.2 Saving dead master's binlog");
  let saved: MasterRecoveryResult['saved'];
  let savedSkippedReason: string | undefined;
  if (!p2.sshReachable) {
    savedSkippedReason = 'the dead master host is not reachable over SSH';
    log.warn('BINLOG_NOT_SAVED', `cannot save the dead master's binlog: ${savedSkippedReason}. Transactions it wrote after ${formatCoordinate(latestRead)} (if any) are lost`, {
      server: dead.id,
    });
  } else {
    const base = ctx.options.deadMasterLastState?.binlogBasename;
    // master_binlog_dir, else where the master said it writes them, else MHA's default places.
    const dirs = dead.masterBinlogDir?.length ? dead.masterBinlogDir : base ? [dirname(base)] : ['/var/lib/mysql', '/var/log/mysql'];
    const conn = await ctx.clients.ssh(dead);
    const t0 = Date.now();
    let files: Awaited<ReturnType<typeof listBinlogs>> = [];
    let dir = '';
    for (const d of dirs) {
      files = await listBinlogs(conn, d, binlogBasename(latestRead.file), ctx.timeouts.remoteCommandMs).catch(() => []);
      if (files.length) {
        dir = d;
        break;
      }
    }
    if (!files.length) throw new FailoverError(PHASE_3, 'BINLOG_NOT_FOUND', `no ${binlogBasename(latestRead.file)}.* binlog in ${dirs.join(', ')} on the dead master`, dead.id);
    const savedFiles = await saveBinlogTail(conn, files, latestRead, join(ctx.options.workdir, `saved-binlog-${dead.id}-${Date.now()}`), ctx.timeouts.applyMs);
    const bytes = savedFiles.reduce((n, f) => n + (f.size - f.start), 0);
    saved = { files: savedFiles, bytes, from: latestRead };
    log.info('BINLOG_SAVED', `saved ${bytes} bytes of the dead master's binlog from ${formatCoordinate(latestRead)} (${savedFiles.map((f) => f.name).join(', ')}, from ${dir})`, {
      server: dead.id,
      durationMs: Date.now() - t0,
    });
  }
  checkAbort(ctx, PHASE_3);

  // 3.3 the new master
  log.info('PHASE_3_3', '3.3 Determining new master');
  const observations = p1.slaves.map((v) => ({ server: v.server, state: v.state }));
  let newMaster: ServerView | undefined;
  let reason: string;
  if (ctx.options.newMasterId) {
    newMaster = p1.slaves.find((v) => v.server.id === ctx.options.newMasterId);
    if (!newMaster) throw new FailoverError(PHASE_3, 'NEW_MASTER_UNAVAILABLE', `${ctx.options.newMasterId} is not an alive slave of ${dead.id}`);
    const unfit = unfitAsNewMaster(newMaster);
    if (unfit) throw new FailoverError(PHASE_3, 'NEW_MASTER_UNFIT', `${ctx.options.newMasterId} cannot be the new master: ${unfit}`, newMaster.server.id);
    reason = 'chosen on the command line';
  } else {
    // A new master must be reachable over SSH too: its diff is applied through it.
    const reachable = await Promise.all(
      p1.slaves.map((v) =>
        ctx.clients
          .ssh(v.server)
          .then(() => true)
          .catch((err: unknown) => {
            log.warn('CANDIDATE_SSH', `not reachable over SSH (${messageOf(err)}): cannot be the new master`, { server: v.server.id });
            return false;
          }),
      ),
    );
    const usable = observations.filter((_, i) => reachable[i]);
    const choice = chooseCandidate(usable, undefined, DEFAULT_ANALYZE_OPTIONS);
    for (const n of choice.notCandidates) log.info('NOT_CANDIDATE', `not a candidate: ${n.reason}`, { server: n.id });
    if (!choice.candidate) throw new FailoverError(PHASE_3, 'NO_CANDIDATE', `no slave can become master: ${choice.notCandidates.map((n) => `${n.id} (${n.reason})`).join(', ')}`);
    newMaster = p1.slaves.find((v) => v.server.id === choice.candidate!.id)!;
    reason = choice.candidate.reason;
  }
  log.info('NEW_MASTER', `new master: ${newMaster.server.hostname}:${newMaster.server.port} (${reason})`, { server: newMaster.server.id });
  checkAbort(ctx, PHASE_3);

  // 3.4 + 3.5 give it every missing event
  log.info('PHASE_3_4', '3.4/3.5 New master diff generation and log apply');
  if (p1.mode === 'gtid' && newMaster.server.disableLogBin) {
    log.warn(
      'CONFIG_WARNING',
      'disable_log_bin=1 is not applied to the new master in GTID mode: its binlog must hold every GTID its slaves will have, or they are refused (1236)',
      {
        server: newMaster.server.id,
      },
    );
  }
  const recovery = await recoverServer(ctx, PHASE_3, newMaster, latest, saved?.files, { keepBinlog: p1.mode === 'gtid' });
  recordChange(ctx, newMaster.server.id, `replication stopped; ${recovery.diff ? `diff of ${recovery.diff.events} events applied` : 'nothing to apply'}`);

  const session = await ctx.clients.mysql(newMaster.server);
  let coordinates: MasterRecoveryResult['coordinates'];
  let ipActivated: MasterRecoveryResult['ipActivated'] = 'not-configured';
  try {
    const after = await readServerState(session);
    if (!after.masterStatus) throw new FailoverError(PHASE_3, 'NO_BINLOG', `${newMaster.server.id} has no binlog coordinates (log_bin off?)`, newMaster.server.id);
    coordinates = { file: after.masterStatus.file, position: after.masterStatus.position, gtid: after.gtid.binlogPos ?? after.gtid.executed };
    log.info('NEW_MASTER_COORDINATES', `new master binlog coordinates: ${formatCoordinate(coordinates)}${coordinates.gtid ? `, GTID ${coordinates.gtid}` : ''}`, {
      server: newMaster.server.id,
    });

    const mgr = ctx.config.manager;
    if (mgr.masterIpFailoverScript) {
      const args = masterIpFailoverStartArgs(dead, newMaster.server);
      log.info('HOOK_RUN', `master_ip_failover_script ${args.join(' ')}`);
      const r = await ctx.clients.hook('master_ip_failover_script', mgr.masterIpFailoverScript, args, { HA_NEW_MASTER_PASSWORD: newMaster.server.password }, ctx.timeouts.hookMs);
      if (r.output.trim()) log.info('HOOK_OUTPUT', r.output.trim());
      if (hookOutcome(r) === 'ok') {
        ipActivated = 'done';
        recordChange(ctx, newMaster.server.id, 'master_ip_failover_script --command=start: writer address added');
      } else if (hookOutcome(r) === 'proceed') {
        ipActivated = 'failed-proceeding';
        log.warn('HOOK_PROCEED', 'master_ip_failover_script start exited 10: proceeding (MHA semantics)');
      } else {
        throw new FailoverError(
          PHASE_3,
          'HOOK_FAILED',
          `master_ip_failover_script --command=start failed (${describeHookEnd(r)}): ${newMaster.server.id} has every event but is not announced as the master`,
          newMaster.server.id,
        );
      }
    }
    if (after.superReadOnly) await session.query('SET GLOBAL super_read_only = 0');
    await session.query('SET GLOBAL read_only = 0');
    recordChange(ctx, newMaster.server.id, 'read_only=0: the new master takes writes');
    log.info('NEW_MASTER_WRITABLE', `read_only=0 on ${newMaster.server.id}: the new master takes writes`, { server: newMaster.server.id });
  } finally {
    await session.close().catch(() => undefined);
  }
  return { latest, latestIds: latestViews.map((v) => v.server.id), saved, savedSkippedReason, newMaster, reason, recovery, coordinates, ipActivated };
}
