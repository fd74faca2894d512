// `ha purge-relay-logs`, one slave at a time (see rules.ts for the safety rule):
//
//   1. read every configured server; judge the target (a running, error-free slave of a live
//      master, relay_log_purge=0); list its relay logs over SSH (one round trip)
//   2. pause its IO thread (STOP SLAVE IO_THREAD), so its read position R is final
//   3. wait (bounded) until every other slave of the same master has executed up to R and the
//      target's own SQL thread has executed what it read; a slave that cannot get there (SQL
//      thread stopped, IO thread stopped, MASTER_DELAY) skips the target at once
//   4. hard-link its relay logs into the work directory (one round trip)
//   5. SET GLOBAL relay_log_purge=1; FLUSH NO_WRITE_TO_BINLOG RELAY LOGS: the SQL thread moves to
//      the new relay log (which starts at R) and deletes every older one; wait until it has moved
//   6. ALWAYS, also on error: relay_log_purge back to its previous value, START SLAVE IO_THREAD
//   7. remove the hard links, shrinking the last copies step by step (one round trip)
// A session-level GET_LOCK on the target keeps two runs (cron overlap) from interleaving, which
// would make the second one "restore" relay_log_purge=1.
import { randomBytes } from 'node:crypto';
import { formatCoordinate } from '../binlog/coordinates.js';
import { resolveIndexEntry } from '../binlog/relay-map.js';
import type { ServerConfig } from '../config/types.js';
import { dialectFor } from '../mysql/dialect.js';
import { readServerState } from '../mysql/inspect.js';
import type { BinlogCoordinate, ServerState, SlaveStatus, SqlRunner } from '../mysql/types.js';
import type { ExecOptions, ExecResult } from '../ssh/client.js';
import { baseName, cleanupScript, linkScript, listScript, parseCleanup, parseLink, parseList, type RelayFile } from './remote.js';
import { judgePeers, judgeTarget, sqlCaughtUp, type Need, type Observed } from './rules.js';

export interface Session extends SqlRunner {
  close(): Promise<void>;
}

export interface RemoteShell {
  exec(command: string, opts: ExecOptions): Promise<ExecResult>;
}

export interface PurgeDeps {
  openServer(server: ServerConfig): Promise<Session>;
  ssh(server: ServerConfig): Promise<RemoteShell>;
  sleep(ms: number): Promise<void>;
  /** How a server's state is read; readServerState unless a test fakes it. */
  readState?: (session: Session) => Promise<ServerState>;
}

export interface PurgeOptions {
  dryRun: boolean;
  /** How long to wait for the other slaves (and the target's SQL thread) to reach the cut. */
  waitSeconds: number;
  /** Where the hard links go; undefined: remote_workdir if on the relay logs' filesystem, else beside them. */
  workdir?: string;
  /** Why not to touch replication now (a manager on this host is failing over), or undefined. */
  managerBusy?: () => string | undefined;
}

export type Outcome = 'purged' | 'would-purge' | 'clean' | 'master' | 'not-a-slave' | 'self-purging' | 'skipped' | 'failed';

export interface PurgedFile {
  file: string;
  bytes: number;
}

export interface HostResult {
  server: string;
  host: string;
  outcome: Outcome;
  /** Counts as a failure (exit 1). */
  failed: boolean;
  message: string;
  /** Relay logs purged (or, with --dry-run, that would be). */
  files: PurgedFile[];
  bytesFreed: number;
  /** Relay logs left in the index. */
  kept: string[];
  /** The target's read position when purged: every other slave had executed up to it, nothing after it was purged. */
  cut?: string;
  /** Other slaves that still need the relay logs (skipped for safety). */
  neededBy?: Need[];
  relayLogPurge?: { before: boolean; restored: boolean };
  /** How long the IO thread was paused. */
  ioPausedMs?: number;
  workdir?: string;
  durationMs: number;
}

const LOCK_NAME = 'ha-purge-relay-logs';
const POLL_MS = 200;
/** After the FLUSH, how long the SQL thread gets to move to the new relay log. */
const ROTATE_WAIT_MS = 10_000;
const SSH_TIMEOUT_MS = 60_000;
/** Shrinking gigabytes step by step takes a while; it is bounded anyway. */
const CLEANUP_TIMEOUT_MS = 30 * 60_000;

class Skip extends Error {
  constructor(
    message: string,
    readonly outcome: Outcome,
    readonly neededBy?: Need[],
  ) {
    super(message);
  }
}

/** Sessions to every configured server for the run, reopened when one dies. */
export class Observer {
  private readonly sessions = new Map<string, Session>();
  constructor(
    private readonly servers: ServerConfig[],
    private readonly deps: PurgeDeps,
  ) {}

  async session(server: ServerConfig): Promise<Session> {
    const s = this.sessions.get(server.id);
    if (s) return s;
    const n = await this.deps.openServer(server);
    this.sessions.set(server.id, n);
    return n;
  }

  async observe(server: ServerConfig): Promise<Observed> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        return { server, state: await (this.deps.readState ?? readServerState)(await this.session(server)) };
      } catch (err) {
        await this.drop(server);
        if (attempt === 1) return { server, error: (err as Error).message };
      }
    }
    return { server, error: 'unreachable' };
  }

  observeAll(): Promise<Observed[]> {
    return Promise.all(this.servers.map((s) => this.observe(s)));
  }

  async drop(server: ServerConfig): Promise<void> {
    const s = this.sessions.get(server.id);
    this.sessions.delete(server.id);
    await s?.close().catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.servers.map((s) => this.drop(s)));
  }
}

async function remote(deps: PurgeDeps, server: ServerConfig, script: string, what: string, timeoutMs = SSH_TIMEOUT_MS): Promise<string> {
  const conn = await deps.ssh(server);
  const r = await conn.exec(script, { timeoutMs, what });
  if (r.code !== 0) {
    const said =
      (r.stdout
        .split('\n')
        .find((l) => /^[EX] /.test(l))
        ?.slice(2) ??
        r.stderr.trim()) ||
      `exit ${r.code}`;
    throw new Error(`${what} failed on ${server.ssh.host}: ${said}`);
  }
  return r.stdout;
}

function slaveOf(o: Observed): SlaveStatus {
  if (!o.state) throw new Error(`cannot read ${o.server.id}'s replication status: ${o.error ?? 'unknown error'}`);
  const s = o.state.slaveStatus;
  if (!s) throw new Skip('replication is no longer configured on it', 'failed');
  return s;
}

/** Purges one slave's relay logs (or says what it would purge). Never throws. */
export async function purgeHost(target: ServerConfig, observer: Observer, deps: PurgeDeps, opts: PurgeOptions): Promise<HostResult> {
  const t0 = Date.now();
  const result: HostResult = {
    server: target.id,
    host: target.hostname,
    outcome: 'failed',
    failed: true,
    message: '',
    files: [],
    bytesFreed: 0,
    kept: [],
    durationMs: 0,
  };
  const done = (outcome: Outcome, message: string, failed: boolean) => {
    Object.assign(result, { outcome, message, failed, durationMs: Date.now() - t0 });
    return result;
  };
  let session: Session | undefined;
  let locked = false;
  try {
    const busy = opts.managerBusy?.();
    if (busy) return done('skipped', busy, true);
    const all = await observer.observeAll();
    const me = all.find((o) => o.server.id === target.id)!;
    const verdict = judgeTarget(me, all);
    if (verdict.kind === 'nothing') return done(verdict.role, verdict.reason, false);
    if (verdict.kind === 'refuse') return done('skipped', verdict.reason, true);
    const state = me.state!;
    const datadir = state.datadir;
    const index = state.relayLogIndex!;
    const resolve = (entry: string) => resolveIndexEntry(index, entry, datadir);

    session = await observer.session(target);
    if (!opts.dryRun) {
      const [row] = await session.query(`SELECT GET_LOCK(?, 0) AS got`, [LOCK_NAME]);
      if (Number(row?.got) !== 1) return done('skipped', 'another ha purge-relay-logs is working on this server (GET_LOCK)', true);
      locked = true;
    }

    const files = parseList(await remote(deps, target, listScript(datadir, index), 'listing the relay logs'));
    const purgeable = purgeableBefore(files, verdict.slave.relayLogPosition.file);
    if (purgeable.length === 0) {
      result.kept = files.map((f) => resolve(f.entry));
      return done('clean', `already clean: the index starts at ${files[0] ? baseName(files[0].entry) : '(nothing)'}, where the SQL thread is`, false);
    }

    // What the purge would cut at if it started now: everything the target has read.
    const readNow = verdict.slave.readPosition;
    const pre = judgePeers(me, verdict.slave, readNow, all, opts.waitSeconds);
    if (pre.kind === 'blocked') throw stillNeeded(pre.needs);

    if (opts.dryRun) {
      const waited = await waitForPeers(observer, target, readNow, opts.waitSeconds, deps);
      if (waited.kind !== 'ok') throw stillNeeded(waited.needs);
      result.files = purgeable.map((f) => ({ file: resolve(f.entry), bytes: Math.max(f.bytes, 0) }));
      result.kept = files.filter((f) => !purgeable.includes(f)).map((f) => resolve(f.entry));
      result.bytesFreed = result.files.reduce((n, f) => n + f.bytes, 0);
      return done('would-purge', `would purge ${describeFiles(result.files)} (every other slave has executed up to ${formatCoordinate(readNow)})`, false);
    }

    return await purgeForReal(target, me, session, observer, deps, opts, result, done, resolve);
  } catch (err) {
    if (err instanceof Skip) {
      if (err.neededBy) result.neededBy = err.neededBy;
      return done(err.outcome, err.message, err.outcome !== 'clean');
    }
    return done('failed', (err as Error).message, true);
  } finally {
    if (locked && session) await session.query(`SELECT RELEASE_LOCK(?)`, [LOCK_NAME]).catch(() => undefined);
  }
}

async function purgeForReal(
  target: ServerConfig,
  me: Observed,
  session: Session,
  observer: Observer,
  deps: PurgeDeps,
  opts: PurgeOptions,
  result: HostResult,
  done: (o: Outcome, m: string, failed: boolean) => HostResult,
  resolve: (entry: string) => string,
): Promise<HostResult> {
  const state = me.state!;
  const dialect = dialectFor(state.version);
  const datadir = state.datadir;
  const index = state.relayLogIndex!;
  const ioWasRunning = slaveOf(me).ioRunning === 'Yes';
  const purgeBefore = state.relayLogPurge;
  let linked: RelayFile[] = [];
  let workdir: string | undefined;
  let cut: BinlogCoordinate | undefined;
  const errors: string[] = [];
  let skip: Skip | undefined;
  const pauseStart = Date.now();
  try {
    const busy = opts.managerBusy?.();
    if (busy) throw new Skip(busy, 'skipped');
    if (ioWasRunning) await session.query(dialect.stopSlaveIoThread());
    // The IO thread is stopped: the read position is final, the relay logs end there.
    cut = slaveOf(await observer.observe(target)).readPosition;
    const waited = await waitForPeers(observer, target, cut, opts.waitSeconds, deps, true);
    if (waited.kind !== 'ok') throw stillNeeded(waited.needs);

    const runId = randomBytes(4).toString('hex');
    const link = parseLink(await remote(deps, target, linkScript(datadir, index, runId, opts.workdir, target.remoteWorkdir), 'hard-linking the relay logs'));
    linked = link.linked;
    workdir = link.workdir;
    result.workdir = workdir;
    try {
      await session.query('SET GLOBAL relay_log_purge = 1');
      // NO_WRITE_TO_BINLOG: a FLUSH in this slave's binlog would replicate (and on MySQL make an errant GTID).
      await session.query('FLUSH NO_WRITE_TO_BINLOG RELAY LOGS');
      // The SQL thread deletes the relay logs before the one it is in as it moves on. Its
      // Relay_Log_File stays where its last transaction ended (the IO thread is paused, no new
      // event comes), so that file is kept: done when the index starts at it.
      const end = Date.now() + ROTATE_WAIT_MS;
      for (;;) {
        const s = slaveOf(await observer.observe(target));
        const now = parseList(await remote(deps, target, listScript(datadir, index), 'listing the relay logs'));
        if (purgeableBefore(now, s.relayLogPosition.file).length === 0) break;
        if (Date.now() > end) {
          errors.push(`${ROTATE_WAIT_MS / 1000} s after FLUSH RELAY LOGS the server still listed relay logs before ${s.relayLogPosition.file}, where its SQL thread is`);
          break;
        }
        await deps.sleep(POLL_MS);
      }
    } finally {
      const failed = await restore(observer, target, `SET GLOBAL relay_log_purge = ${purgeBefore ? 1 : 0}`);
      result.relayLogPurge = { before: purgeBefore, restored: failed === undefined };
      if (failed) errors.push(`relay_log_purge could NOT be set back to ${purgeBefore ? 1 : 0}: ${failed} — set it by hand: SET GLOBAL relay_log_purge=${purgeBefore ? 1 : 0}`);
    }
  } catch (err) {
    if (err instanceof Skip) skip = err;
    else errors.push((err as Error).message);
  } finally {
    if (ioWasRunning) {
      const failed = await restore(observer, target, dialect.startSlaveIoThread());
      result.ioPausedMs = Date.now() - pauseStart;
      if (failed) errors.push(`START SLAVE IO_THREAD failed: ${failed} — start it by hand`);
    }
  }

  let after: string[] | undefined;
  if (workdir) {
    try {
      const c = await cleanupLinks(target, deps, datadir, index, workdir);
      after = c.index;
      const freed = c.removed.filter((r) => r.freed);
      result.files = freed.map((r) => ({ file: resolve(linked.find((l) => baseName(l.entry) === r.file)?.entry ?? r.file), bytes: r.bytes }));
      result.bytesFreed = freed.reduce((n, r) => n + r.bytes, 0);
    } catch (err) {
      errors.push(`removing the hard links in ${workdir}: ${(err as Error).message}`);
    }
  }
  if (after) {
    result.kept = after.map(resolve);
    const stillListed = linked.filter((l) => after.includes(l.entry)).map((l) => baseName(l.entry));
    const purgedFromIndex = linked.length - stillListed.length;
    if (purgedFromIndex > result.files.length) errors.push(`${purgedFromIndex} relay logs left the index but only ${result.files.length} were deleted from disk`);
  }
  if (skip) {
    if (skip.neededBy) result.neededBy = skip.neededBy;
    return done(skip.outcome, [skip.message, ...errors].join('; '), true);
  }
  if (cut && result.files.length > 0) result.cut = formatCoordinate(cut);
  if (errors.length > 0) return done('failed', errors.join('; '), true);
  if (result.files.length === 0) return done('clean', 'nothing was purged (the server kept every relay log)', false);
  return done('purged', `purged ${describeFiles(result.files)}; kept ${result.kept.map(baseName).join(', ')} (every other slave had executed up to ${result.cut})`, false);
}

function cleanupLinks(target: ServerConfig, deps: PurgeDeps, datadir: string, index: string, workdir: string | undefined) {
  if (!workdir) return Promise.resolve({ removed: [], index: [] });
  return remote(deps, target, cleanupScript(datadir, index, workdir), 'removing the hard-linked relay logs', CLEANUP_TIMEOUT_MS).then(parseCleanup);
}

/** Runs a statement that must happen (restoring state), on a fresh session if the first one fails. Returns the error, if any. */
async function restore(observer: Observer, server: ServerConfig, sql: string): Promise<string | undefined> {
  let last = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await (await observer.session(server)).query(sql);
      return undefined;
    } catch (err) {
      last = (err as Error).message;
      await observer.drop(server);
    }
  }
  return last;
}

/**
 * Polls until every other slave has executed up to `cut` (and, when `selfToo`, the target's SQL
 * thread has executed everything it read), or `waitSeconds` pass, or a slave turns out blocked.
 */
async function waitForPeers(
  observer: Observer,
  target: ServerConfig,
  cut: BinlogCoordinate,
  waitSeconds: number,
  deps: PurgeDeps,
  selfToo = false,
): Promise<{ kind: 'ok' } | { kind: 'wait' | 'blocked'; needs: Need[] }> {
  const end = Date.now() + waitSeconds * 1000;
  for (;;) {
    const all = await observer.observeAll();
    const me = all.find((o) => o.server.id === target.id)!;
    const verdict = judgePeers(me, slaveOf(me), cut, all, waitSeconds);
    const selfReady = !selfToo || sqlCaughtUp(slaveOf(me));
    if (verdict.kind === 'ok' && selfReady) return verdict;
    if (verdict.kind === 'blocked') return verdict;
    if (Date.now() >= end) {
      if (verdict.kind === 'ok') {
        const s = slaveOf(me);
        throw new Skip(
          `its SQL thread did not execute its relay logs within ${waitSeconds} s (exec ${formatCoordinate(s.execPosition)}, read ${formatCoordinate(s.readPosition)}): try again later or with a longer --wait`,
          'skipped',
        );
      }
      return verdict;
    }
    await deps.sleep(POLL_MS);
  }
}

function stillNeeded(needs: Need[]): Skip {
  const who = needs.map((n) => n.server).join(', ');
  return new Skip(`not purged: ${who} still need${needs.length === 1 ? 's' : ''} these relay logs for a failover — ${needs.map((n) => n.reason).join('; ')}`, 'skipped', needs);
}

/**
 * The relay logs the server deletes once relay_log_purge=1 and its SQL thread moves on: those
 * listed before the one its SQL thread is in. When that file is not in the index (MariaDB may
 * report relay-bin.000001 after a restart in GTID mode), every file but the last, to be safe.
 */
export function purgeableBefore(files: RelayFile[], sqlRelayFile: string): RelayFile[] {
  const at = files.findIndex((f) => baseName(f.entry) === baseName(sqlRelayFile));
  return files.slice(0, at >= 0 ? at : Math.max(files.length - 1, 0));
}

export function describeFiles(files: PurgedFile[]): string {
  const bytes = files.reduce((n, f) => n + f.bytes, 0);
  const names = files.map((f) => baseName(f.file));
  const list = names.length <= 3 ? names.join(', ') : `${names[0]} … ${names[names.length - 1]}`;
  return `${files.length} relay log${files.length === 1 ? '' : 's'} (${list}), ${formatBytes(bytes)}`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
