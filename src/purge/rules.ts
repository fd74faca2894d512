// The decisions of `ha purge-relay-logs`, as pure functions of what the servers report, so every
// rule is unit-tested without a server.
//
// The safety rule. In a failover a lagging slave gets what it lacks from the latest slave's relay
// logs, from its own read position (and, from its own relay logs, what lies between its exec and
// read positions). Any slave may be the latest one when the master dies, so a slave may only drop
// relay-log events that every other slave of the same master has already EXECUTED: exec, not
// read, because a slave's own unexecuted relay logs are one crash-recovery (relay_log_recovery)
// away from being thrown away and refetched from a master that may be dead by then.
//
// The server decides what it purges: with relay_log_purge=1, the SQL thread deletes every relay
// log before the one it moves into. So the purge is made exact by pausing the target's IO thread:
// its read position R is then frozen, FLUSH RELAY LOGS starts a new relay log at R, and the
// server can delete nothing at or after R. The purge goes ahead only once every other slave has
// executed up to R.
import { compareCoordinates, formatCoordinate } from '../binlog/coordinates.js';
import type { ServerConfig } from '../config/types.js';
import type { BinlogCoordinate, ServerState, SlaveStatus } from '../mysql/types.js';
import { masterOf as slaveOfRule } from '../core/survey.js';

/** What one configured server looks like to the purge. */
export interface Observed {
  server: ServerConfig;
  state?: ServerState;
  /** Why it could not be read. */
  error?: string;
}

/** Which configured server a slave replicates from (the slave-of rule of src/core/survey.ts). */
export function masterOf(slave: SlaveStatus, servers: Observed[]): string | undefined {
  return slaveOfRule(slave, servers)?.server.id;
}

/** A key naming the replication stream a slave reads: the same key means the same master binlog coordinates. */
export function streamKey(slave: SlaveStatus, servers: Observed[]): string {
  return masterOf(slave, servers) ?? `${slave.masterHost}:${slave.masterPort}`;
}

export type TargetVerdict =
  | { kind: 'purge'; slave: SlaveStatus }
  /** Nothing to do, and nothing wrong (the master, a server purging by itself). */
  | { kind: 'nothing'; reason: string; role: 'master' | 'not-a-slave' | 'self-purging' }
  /** Cannot be purged now: counts as a failure. */
  | { kind: 'refuse'; reason: string };

/** May this server's relay logs be purged at all, whatever the other slaves need? */
export function judgeTarget(target: Observed, all: Observed[]): TargetVerdict {
  if (!target.state) return { kind: 'refuse', reason: `cannot read its state: ${target.error ?? 'unknown error'}` };
  const st = target.state;
  const s = st.slaveStatus;
  if (!s) {
    const isMaster = all.some((o) => o.state?.slaveStatus && masterOf(o.state.slaveStatus, all) === target.server.id);
    return isMaster
      ? { kind: 'nothing', role: 'master', reason: 'the master: it has no relay logs to purge' }
      : { kind: 'nothing', role: 'not-a-slave', reason: 'replication is not configured on it: no relay logs to purge' };
  }
  if (st.relayLogPurge) {
    return {
      kind: 'nothing',
      role: 'self-purging',
      reason: 'relay_log_purge=1: the server deletes its relay logs by itself (a failover may then lack the relay logs it needs; set relay_log_purge=0)',
    };
  }
  if (s.lastSqlErrno !== 0) return { kind: 'refuse', reason: `its SQL thread stopped on error ${s.lastSqlErrno}: ${s.lastSqlError}` };
  if (!s.sqlRunning) return { kind: 'refuse', reason: 'its SQL thread is stopped: the server deletes relay logs only as its SQL thread moves on' };
  if (s.ioRunning === 'Connecting') {
    return {
      kind: 'refuse',
      reason: `its IO thread is not connected to the master (${s.lastIoErrno ? `error ${s.lastIoErrno}: ${s.lastIoError}` : 'Connecting'}): not purging while the master may be down`,
    };
  }
  if (!st.relayLogIndex) return { kind: 'refuse', reason: 'the server reports no relay_log_index' };
  return { kind: 'purge', slave: s };
}

/** Another slave that still needs relay-log events the target would delete. */
export interface Need {
  server: string;
  /** Its exec position, when known. */
  exec?: string;
  read?: string;
  /** Why it needs them and whether waiting can help. */
  reason: string;
}

export type PeerVerdict =
  /** It has executed everything before the cut. */
  | { kind: 'ok' }
  /** It is replicating and may get there soon: wait and ask again. */
  | { kind: 'wait'; need: Need }
  /** It will not get there by itself (thread stopped, delayed, unreachable): do not wait. */
  | { kind: 'blocked'; need: Need };

/**
 * Has `peer` executed everything before `cut` (a coordinate in the target's master's binlog)?
 * Peers of another master (multi-tier, another cluster) are not judged: `ok`.
 */
export function judgePeer(peer: Observed, targetStream: string, cut: BinlogCoordinate, all: Observed[], waitSeconds: number): PeerVerdict {
  const id = peer.server.id;
  if (!peer.state) {
    return { kind: 'blocked', need: { server: id, reason: `${id} does not answer (${peer.error ?? 'unknown error'}): cannot tell which relay-log events it still needs` } };
  }
  const s = peer.state.slaveStatus;
  if (!s || streamKey(s, all) !== targetStream) return { kind: 'ok' };
  const exec = formatCoordinate(s.execPosition);
  const read = formatCoordinate(s.readPosition);
  let order: number;
  try {
    order = compareCoordinates(s.execPosition, cut);
  } catch (err) {
    return { kind: 'blocked', need: { server: id, exec, read, reason: `cannot compare ${id}'s exec position ${exec} with ${formatCoordinate(cut)}: ${(err as Error).message}` } };
  }
  if (order >= 0) return { kind: 'ok' };
  const lacks = `${id} has executed only up to ${exec} (read ${read}), not the events up to ${formatCoordinate(cut)} the purge would delete`;
  if (s.lastSqlErrno !== 0 || !s.sqlRunning) {
    return { kind: 'blocked', need: { server: id, exec, read, reason: `${lacks}; its SQL thread is stopped${s.lastSqlErrno ? ` (error ${s.lastSqlErrno})` : ''}` } };
  }
  if (s.ioRunning !== 'Yes' && compareCoordinates(s.readPosition, cut) < 0) {
    return { kind: 'blocked', need: { server: id, exec, read, reason: `${lacks}; its IO thread is not running, so it cannot get them` } };
  }
  if (s.sqlDelay > waitSeconds) {
    return { kind: 'blocked', need: { server: id, exec, read, reason: `${lacks}; it is delayed by MASTER_DELAY=${s.sqlDelay} s` } };
  }
  return { kind: 'wait', need: { server: id, exec, read, reason: lacks } };
}

/** Every peer judged: ok when all are, blocked when one is, else wait. */
export function judgePeers(
  target: Observed,
  targetSlave: SlaveStatus,
  cut: BinlogCoordinate,
  all: Observed[],
  waitSeconds: number,
): { kind: 'ok' } | { kind: 'wait' | 'blocked'; needs: Need[] } {
  const stream = streamKey(targetSlave, all);
  const verdicts = all.filter((o) => o.server.id !== target.server.id).map((o) => judgePeer(o, stream, cut, all, waitSeconds));
  const blocked = verdicts.filter((v) => v.kind === 'blocked').map((v) => (v as { need: Need }).need);
  if (blocked.length > 0) return { kind: 'blocked', needs: blocked };
  const waiting = verdicts.filter((v) => v.kind === 'wait').map((v) => (v as { need: Need }).need);
  return waiting.length > 0 ? { kind: 'wait', needs: waiting } : { kind: 'ok' };
}

/** Has the target's SQL thread executed everything its (paused) IO thread read? */
export function sqlCaughtUp(s: SlaveStatus): boolean {
  return compareCoordinates(s.execPosition, s.readPosition) >= 0 || /has read all relay log/i.test(s.sqlRunningState ?? '');
}

/** The servers --host names: a [serverN] block name or a hostname/address. */
export function selectServers(servers: ServerConfig[], host: string | undefined): { servers: ServerConfig[] } | { error: string } {
  if (host === undefined) return { servers };
  const found = servers.filter((s) => s.id === host || s.hostname === host || s.ip === host);
  if (found.length === 0) {
    return { error: `--host ${host}: no [serverN] block or hostname ${host} in the configuration (known: ${servers.map((s) => `${s.id} (${s.hostname})`).join(', ')})` };
  }
  return { servers: found };
}
