// Giving one server (the new master, or a slave) exactly the events it is missing. The same steps
// serve phase 3.5 and phase 4 (MHA's "diff log generation" and "log apply"):
//   1. let its SQL thread execute what it can of its own relay logs, then stop replication;
//   2. build the chain of ranges, in master-coordinate order:
//        its own relay logs from its exec position (mapped, not Relay_Log_Pos: after a restart
//        MariaDB in GTID mode reports relay-bin.000001:4 there), to their end;
//        the latest slave's relay logs from this server's read position, to their end;
//        the dead master's saved binlog from the latest slave's read position, to its end;
//      a transaction cut at one seam continues in the next (the diff writer checks they join);
//   3. write that diff on the manager, upload it, apply it with mysqlbinlog | mysql.
import { join } from 'node:path';
import { compareCoordinates, formatCoordinate } from '../binlog/coordinates.js';
import { rangesAcross, writeDiffFile, type DiffRange, type DiffResult } from '../binlog/diff.js';
import { mapRelayPosition, readRelayLogIndex, type RelayMapResult } from '../binlog/relay-map.js';
import { dialectFor } from '../mysql/dialect.js';
import { readServerState } from '../mysql/inspect.js';
import type { BinlogCoordinate, ServerState } from '../mysql/types.js';
import type { SshHost } from '../core/clients.js';
import { sshRangeSource, sshRelaySource } from '../ssh/byte-sources.js';
import { shellQuote } from '../ssh/quote.js';
import { FailoverError, type FailoverContext, type ServerView } from './context.js';
import { withDeadline, type ServerSession } from '../core/clients.js';
import { applyDiffOnHost, findClientTools, savedBinlogSource, uploadDiff, type SavedBinlogFile } from './remote.js';

/** The slave with the most events received from the dead master: the source of others' diffs. */
export interface LatestSlave {
  view: ServerView;
  read: BinlogCoordinate;
  /** Its relay logs, in index order, as paths on its host. */
  relayFiles: string[];
}

export interface RecoveryResult {
  server: string;
  /** How long the SQL thread was given to finish its own relay logs. */
  sqlThreadWaitMs: number;
  /** Where the SQL thread stood when replication was stopped. */
  exec: BinlogCoordinate;
  read: BinlogCoordinate;
  diff?: Pick<DiffResult, 'events' | 'bytes' | 'transactions' | 'dropped' | 'gtidSet' | 'endsAt' | 'firstGtid' | 'lastGtid'> & {
    ranges: { label: string; events: number; bytes: number }[];
  };
  applyMs: number;
  /** The state after the apply (positions, GTIDs). */
  after: ServerState;
  durationMs: number;
}

/** The relay-log files of a server, from its index over SSH. */
export async function relayFilesOf(conn: SshHost, view: ServerView): Promise<string[]> {
  const index = view.state.relayLogIndex;
  if (!index) throw new Error(`${view.server.id} reports no relay_log_index`);
  return readRelayLogIndex(sshRelaySource(conn), index, { datadir: view.state.datadir });
}

/** Let the SQL thread execute its relay logs: until Exec = Read, or it stops making progress. */
export async function waitForSqlThread(session: ServerSession, timeoutMs: number): Promise<{ waitedMs: number; caughtUp: boolean }> {
  const t0 = Date.now();
  let lastExec = '';
  let still = 0;
  for (;;) {
    const state = await readServerState(session);
    const ss = state.slaveStatus;
    if (!ss) return { waitedMs: Date.now() - t0, caughtUp: true };
    if (!ss.sqlRunning) return { waitedMs: Date.now() - t0, caughtUp: false };
    const exec = formatCoordinate(ss.execPosition);
    if (compareCoordinates(ss.execPosition, ss.readPosition) >= 0) return { waitedMs: Date.now() - t0, caughtUp: true };
    // An IO thread stopped inside a transaction leaves a tail the SQL thread never executes:
    // once Exec has not moved for a second, the rest goes into the diff.
    still = exec === lastExec ? still + 1 : 0;
    lastExec = exec;
    if (still >= 10) return { waitedMs: Date.now() - t0, caughtUp: false };
    if (Date.now() - t0 > timeoutMs) return { waitedMs: Date.now() - t0, caughtUp: false };
    await new Promise((r) => setTimeout(r, 100));
  }
}

function relaySources(conn: SshHost, serverId: string, files: string[], fromIndex: number) {
  return files.slice(fromIndex).map((path) => sshRangeSource(conn, path, { label: `${serverId}:${path}` }));
}

function indexOfRelay(files: string[], relayFile: string, serverId: string): number {
  const i = files.findIndex((f) => f === relayFile || f.endsWith(`/${relayFile}`));
  if (i < 0) throw new Error(`${serverId}: relay log ${relayFile} is not in its relay-log index`);
  return i;
}

function rangesFromMapping(conn: SshHost, serverId: string, files: string[], m: RelayMapResult, what: string): DiffRange[] {
  switch (m.kind) {
    case 'found':
      return rangesAcross(relaySources(conn, serverId, files, indexOfRelay(files, m.relayFile, serverId)), m.offset, {
        scanFrom: m.offset,
        masterFile: m.resume.masterFile,
        masterEnd: m.resume.masterEnd,
      });
    case 'at-end':
      return [];
    case 'older':
      throw new Error(
        `${what}: the relay logs of ${serverId} no longer hold that position (purged; the oldest kept starts at ${m.oldest ? `${m.oldest.masterFile}:${m.oldest.masterPosition}` : 'an unknown position'}): set relay_log_purge=0`,
      );
    case 'newer':
      throw new Error(`${what}: ${serverId} has not received that position`);
    case 'not-boundary':
      throw new Error(`${what}: the position falls inside an event of ${serverId}'s relay logs (${m.event.type} at ${m.event.relayFile}:${m.event.offset})`);
  }
}

export interface RecoverOptions {
  /**
   * Log the applied events in the target's binlog whatever disable_log_bin says: a new master in
   * GTID mode must hold in its binlog every GTID its slaves will have, or they are refused (1236).
   */
  keepBinlog?: boolean;
}

export async function recoverServer(
  ctx: FailoverContext,
  phase: string,
  target: ServerView,
  latest: LatestSlave,
  saved: SavedBinlogFile[] | undefined,
  opts: RecoverOptions = {},
): Promise<RecoveryResult> {
  const t0 = Date.now();
  const id = target.server.id;
  const log = ctx.log;
  const session = await ctx.clients.mysql(target.server);
  try {
    const dialect = dialectFor(target.state.version);
    const wait = await waitForSqlThread(session, ctx.timeouts.sqlThreadMs);
    log.info('SQL_THREAD_WAIT', wait.caughtUp ? 'SQL thread executed all of its relay logs' : 'SQL thread stopped making progress: the rest of its relay logs goes into the diff', {
      server: id,
      durationMs: wait.waitedMs,
    });
    await session.query(dialect.stopSlave());
    const stopped = await readServerState(session);
    const ss = stopped.slaveStatus;
    if (!ss) throw new FailoverError(phase, 'NOT_A_SLAVE', `${id} is no longer a slave`, id);
    const exec = ss.execPosition;
    const read = ss.readPosition;
    log.info('POSITIONS', `stopped replication: exec ${formatCoordinate(exec)}, read ${formatCoordinate(read)}, latest slave read ${formatCoordinate(latest.read)}`, {
      server: id,
    });

    const conn = await ctx.clients.ssh(target.server);
    const ranges: DiffRange[] = [];
    // 1. its own relay logs, from where its SQL thread stopped
    if (compareCoordinates(exec, read) < 0) {
      const own = await relayFilesOf(conn, { server: target.server, state: stopped });
      const m = await withDeadline(
        `mapping ${id}'s exec position into its relay logs`,
        ctx.timeouts.remoteCommandMs,
        mapRelayPosition(sshRelaySource(conn), own, exec, { readPosition: read }),
      );
      ranges.push(...rangesFromMapping(conn, id, own, m, `${id}'s own relay logs from its exec position ${formatCoordinate(exec)}`));
    }
    // 2. the latest slave's relay logs, from this server's read position
    if (target.server.id !== latest.view.server.id && compareCoordinates(read, latest.read) < 0) {
      const lconn = await ctx.clients.ssh(latest.view.server);
      // The latest slave's own read position names the master binlog of relay logs that start
      // without a Rotate (FLUSH RELAY LOGS, size rotations) once the ones before were purged.
      const m = await withDeadline(
        `mapping ${id}'s read position into ${latest.view.server.id}'s relay logs`,
        ctx.timeouts.remoteCommandMs,
        mapRelayPosition(sshRelaySource(lconn), latest.relayFiles, read, { readPosition: latest.read }),
      );
      log.info(
        'RELAY_MAPPED',
        m.kind === 'found'
          ? `${formatCoordinate(read)} is at ${m.relayFile}:${m.offset} in ${latest.view.server.id}'s relay logs${m.insideTransaction ? ' (inside a transaction)' : ''}`
          : `${formatCoordinate(read)}: ${m.kind} in ${latest.view.server.id}'s relay logs`,
        { server: id },
      );
      ranges.push(...rangesFromMapping(lconn, latest.view.server.id, latest.relayFiles, m, `the latest slave's relay logs from ${id}'s read position ${formatCoordinate(read)}`));
    }
    // 3. the dead master's binlog, saved from the latest slave's read position
    for (const f of saved ?? []) ranges.push({ source: savedBinlogSource(f), start: f.start, scanFrom: f.start });

    let diff: DiffResult | undefined;
    let applyMs = 0;
    if (ranges.length) {
      const local = join(ctx.options.workdir, `diff-${id}-${Date.now()}.binlog`);
      diff = await writeDiffFile(ranges, local);
      for (const d of diff.dropped) log.warn('DIFF_DROPPED', d.message, { server: id });
      log.info(
        'DIFF_WRITTEN',
        `diff for ${id}: ${diff.events} events, ${diff.transactions} transactions, ${diff.bytes} bytes (${diff.ranges.map((r) => `${r.label}: ${r.events}`).join('; ')})`,
        { server: id },
      );
      if (diff.events > 0) {
        const tools = await findClientTools(conn, target.server, ctx.timeouts.remoteCommandMs);
        const remote = await uploadDiff(conn, target.server, local, `ha-diff-${ctx.config.appName}-${Date.now()}.binlog`, ctx.timeouts.applyMs);
        const [pkt] = await session.query('SELECT @@GLOBAL.max_allowed_packet AS v');
        // mysqlbinlog turns a statement's row events into one BINLOG '…' statement: allow big ones.
        await session.query('SET GLOBAL max_allowed_packet = 1073741824');
        try {
          const applied = await applyDiffOnHost(conn, target.server, remote, {
            ...tools,
            timeoutMs: ctx.timeouts.applyMs,
            disableLogBin: target.server.disableLogBin && !opts.keepBinlog,
          });
          applyMs = applied.durationMs;
        } finally {
          await session.query(`SET GLOBAL max_allowed_packet = ${Number(pkt?.v) || 16777216}`).catch(() => undefined);
          await conn.exec(`rm -f ${shellQuote(remote)}`, { timeoutMs: ctx.timeouts.remoteCommandMs }).catch(() => undefined);
        }
        log.info('DIFF_APPLIED', `applied ${diff.events} events (${diff.transactions} transactions) with mysqlbinlog`, { server: id, durationMs: applyMs });
      }
    } else {
      log.info('NOTHING_TO_APPLY', 'has every event the latest slave and the dead master had', { server: id });
    }
    const after = await readServerState(session);
    return {
      server: id,
      sqlThreadWaitMs: wait.waitedMs,
      exec,
      read,
      diff: diff && {
        events: diff.events,
        bytes: diff.bytes,
        transactions: diff.transactions,
        dropped: diff.dropped,
        gtidSet: diff.gtidSet,
        endsAt: diff.endsAt,
        firstGtid: diff.firstGtid,
        lastGtid: diff.lastGtid,
        ranges: diff.ranges.map((r) => ({ label: r.label, events: r.events, bytes: r.bytes })),
      },
      applyMs,
      after,
      durationMs: Date.now() - t0,
    };
  } finally {
    await session.close().catch(() => undefined);
  }
}
