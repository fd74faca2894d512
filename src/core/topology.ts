// From what every configured server says about itself, work out the replication topology and
// everything that would make a failover unsafe. A pure function of its input, so every rule is
// unit-tested with recorded states; check-repl and the manager's start-up check both use it.
import { bytesBetween, compareCoordinates, formatCoordinate } from '../binlog/coordinates.js';
import type { AppConfig, ServerConfig } from '../config/types.js';
import type { ReplicationFilters, ServerState } from '../mysql/types.js';
import type { Finding } from './reporter.js';
import { Code, type MessageCode } from './codes.js';
import { MysqlGtidSet, formatMariadbGtid, parseMariadbGtidList } from './gtid.js';
import type { Clients } from './clients.js';
import { failoverMode, masterOf, observeServer, surveyServers, useGtidAutoPos, type FailoverMode, type ServerObservation, type SurveyOptions } from './survey.js';

export type { FailoverMode, ServerObservation };

export interface AnalyzeOptions {
  /** Seconds_Behind_Master above which a slave gets a warning (MHA's --seconds_behind_master, 30). */
  secondsBehindMasterLimit: number;
  /** A slave whose SQL thread is further behind the latest read position than this is not promoted (MHA: 100 MB). */
  maxCandidateLagBytes: number;
}

export const DEFAULT_ANALYZE_OPTIONS: AnalyzeOptions = { secondsBehindMasterLimit: 30, maxCandidateLagBytes: 100_000_000 };

export interface SlaveSummary {
  id: string;
  /** The configured server this slave replicates from (the master, or another slave when multi-tier). */
  masterId?: string;
  io: string;
  sql: boolean;
  readPosition?: string;
  execPosition?: string;
  secondsBehindMaster: number | null;
  usesGtid: boolean;
}

export interface CandidateChoice {
  id: string;
  reason: string;
}

export interface Topology {
  masterId?: string;
  slaves: SlaveSummary[];
  deadIds: string[];
  mode?: FailoverMode;
  candidate?: CandidateChoice;
  /** Why each slave could not be promoted (no_master, log_bin off, too far behind, …). */
  notCandidates: { id: string; reason: string }[];
  latestIds: string[];
  findings: Finding[];
}

const FILTER_FIELDS: (keyof ReplicationFilters)[] = ['doDb', 'ignoreDb', 'doTable', 'ignoreTable', 'wildDoTable', 'wildIgnoreTable'];

function hostPort(s: ServerConfig): string {
  return `${s.hostname}:${s.port}`;
}

export function analyzeTopology(config: AppConfig, observations: ServerObservation[], options: AnalyzeOptions = DEFAULT_ANALYZE_OPTIONS): Topology {
  const findings: Finding[] = [];
  const add = (severity: Finding['severity'], code: MessageCode, message: string, server?: string, data?: Record<string, unknown>) =>
    findings.push({ code, severity, message, server, data });

  const alive = observations.filter((o): o is ServerObservation & { state: ServerState } => o.state !== undefined);
  const dead = observations.filter((o) => o.state === undefined);
  for (const d of dead) {
    // ignore_fail lets a DBA say "this slave may be down" (MHA's meaning); the check still says so.
    add(
      d.server.ignoreFail ? 'warning' : 'error',
      Code.SERVER_DOWN,
      `${hostPort(d.server)} is not reachable over MySQL: ${d.error ?? 'unknown error'}${d.server.ignoreFail ? ' (ignore_fail=1)' : ''}`,
      d.server.id,
    );
  }

  // Who replicates from whom, by matching each slave's Master_Host:Master_Port to a configured server.
  const upstream = new Map<string, ServerObservation | undefined>();
  for (const o of alive) {
    const ss = o.state.slaveStatus;
    if (!ss) continue;
    upstream.set(o.server.id, masterOf(ss, observations, o));
  }
  const roots = alive.filter((o) => !o.state.slaveStatus);
  const writableRoots = roots.filter((o) => !o.state.readOnly);

  let master: (ServerObservation & { state: ServerState }) | undefined;
  if (writableRoots.length === 1) {
    master = writableRoots[0];
  } else if (writableRoots.length > 1) {
    add(
      'error',
      Code.SEVERAL_MASTERS,
      `several writable servers replicate from no one: ${writableRoots.map((o) => o.server.id).join(', ')}; exactly one master is expected`,
      undefined,
      {
        servers: writableRoots.map((o) => o.server.id),
      },
    );
  } else if (roots.length === 1) {
    master = roots[0];
    add('error', Code.MASTER_READ_ONLY, `the master ${hostPort(master!.server)} has read_only=1: no writable master`, master!.server.id);
  } else if (roots.length === 0) {
    // Dual-master (MHA supports it): two servers replicate from each other; the writable one is the master.
    const writable = alive.filter((o) => !o.state.readOnly);
    const pair = writable.length === 1 ? writable[0] : undefined;
    const pairUp = pair ? upstream.get(pair.server.id) : undefined;
    if (pair && pairUp && upstream.get(pairUp.server.id) === pair) {
      master = pair;
      add('info', Code.MASTER_FOUND, `dual-master: ${pair.server.id} replicates from read-only ${pairUp.server.id}; treating ${pair.server.id} as the master`, pair.server.id);
    } else {
      add(
        'error',
        Code.NO_MASTER,
        alive.length ? 'no master found: every reachable server is a slave, and none is the single writable end of a dual-master pair' : 'no master found: no server is reachable',
      );
    }
  } else {
    add('error', Code.NO_MASTER, `no writable master: ${roots.map((o) => o.server.id).join(', ')} replicate from no one and all are read_only`, undefined, {
      servers: roots.map((o) => o.server.id),
    });
  }
  if (master) {
    for (const r of roots) {
      if (r !== master && writableRoots.length <= 1) {
        add(
          'error',
          Code.SEVERAL_MASTERS,
          `${hostPort(r.server)} replicates from no one (read_only=${r.state.readOnly ? 1 : 0}) but ${master.server.id} is the master: it would be left out of a failover`,
          r.server.id,
        );
      }
    }
    if (!findings.some((f) => f.code === Code.MASTER_READ_ONLY || f.code === Code.SEVERAL_MASTERS)) {
      add('ok', Code.MASTER_FOUND, `master is ${hostPort(master.server)} (${master.state.version.raw}, server_id ${master.state.serverId})`, master.server.id);
    }
  }

  // Slaves.
  const slaves: SlaveSummary[] = [];
  const slaveObs = alive.filter((o) => o.state.slaveStatus && o !== master);
  for (const o of slaveObs) {
    const ss = o.state.slaveStatus!;
    const up = upstream.get(o.server.id);
    const id = o.server.id;
    slaves.push({
      id,
      masterId: up?.server.id,
      io: ss.ioRunning,
      sql: ss.sqlRunning,
      readPosition: formatCoordinate(ss.readPosition),
      execPosition: formatCoordinate(ss.execPosition),
      secondsBehindMaster: ss.secondsBehindMaster,
      usesGtid: ss.usesGtid,
    });
    if (!up) {
      add('error', Code.SLAVE_OF_UNKNOWN_MASTER, `replicates from ${ss.masterHost}:${ss.masterPort}, which is not a server in ${config.file}`, id, {
        masterHost: ss.masterHost,
        masterPort: ss.masterPort,
      });
    } else if (master && up !== master) {
      if (o.server.multiTierSlave) {
        add('info', Code.MULTI_TIER_SLAVE, `replicates from ${up.server.id}, not from the master (multi_tier_slave=1): it will not be repointed by a failover`, id);
      } else {
        add(
          'error',
          Code.MULTI_TIER_SLAVE,
          `replicates from ${up.server.id} (${ss.masterHost}:${ss.masterPort}), not from the master ${master.server.id}; set multi_tier_slave=1 if this is intended`,
          id,
        );
      }
    }
    if (ss.ioRunning !== 'Yes') {
      add(
        'error',
        Code.IO_THREAD_STOPPED,
        `IO thread is ${ss.ioRunning === 'Connecting' ? 'connecting (not connected)' : 'not running'}${ss.lastIoErrno ? `: error ${ss.lastIoErrno}: ${ss.lastIoError}` : ''}`,
        id,
        { errno: ss.lastIoErrno, error: ss.lastIoError },
      );
    }
    if (!ss.sqlRunning) {
      add('error', Code.SQL_THREAD_STOPPED, `SQL thread is not running${ss.lastSqlErrno ? `: error ${ss.lastSqlErrno}: ${ss.lastSqlError}` : ''}`, id, {
        errno: ss.lastSqlErrno,
        error: ss.lastSqlError,
      });
    }
    if (!o.state.readOnly) add('warning', Code.SLAVE_READ_WRITE, 'read_only=0 on a slave: applications could write to it and make it diverge', id);
    if (o.state.relayLogPurge)
      add('warning', Code.RELAY_LOG_PURGE_ON, 'relay_log_purge=1: relay logs a failover needs may be purged; set relay_log_purge=0 and purge with ha purge-relay-logs', id);
    if (ss.secondsBehindMaster !== null && ss.secondsBehindMaster > options.secondsBehindMasterLimit) {
      add('warning', Code.REPL_DELAY, `${ss.secondsBehindMaster} s behind the master (limit ${options.secondsBehindMasterLimit} s)`, id, {
        secondsBehindMaster: ss.secondsBehindMaster,
      });
    }
    if (master && o.state.binlogFormat && master.state.binlogFormat && o.state.binlogFormat !== master.state.binlogFormat) {
      add('warning', Code.BINLOG_FORMAT_DIFFERS, `binlog_format is ${o.state.binlogFormat}, the master's is ${master.state.binlogFormat}`, id);
    }
    if (!o.state.logBin && !o.server.noMaster) {
      add('error', Code.LOG_BIN_OFF, 'log_bin is off on a slave that may become master (set log_bin, or no_master=1)', id);
    }
    const ok = ss.ioRunning === 'Yes' && ss.sqlRunning;
    if (ok) {
      add(
        'ok',
        Code.SLAVE_OK,
        `slave of ${up?.server.id ?? `${ss.masterHost}:${ss.masterPort}`}, IO and SQL threads running, read ${formatCoordinate(ss.readPosition)}, exec ${formatCoordinate(ss.execPosition)}${ss.secondsBehindMaster !== null ? `, ${ss.secondsBehindMaster} s behind` : ''}`,
        id,
      );
    }
  }
  if (master && !master.state.logBin) {
    add('error', Code.LOG_BIN_OFF, 'log_bin is off on the master: slaves cannot replicate and no binlog can be saved', master.server.id);
  }

  // server_id must be unique or replication silently skips events.
  const byServerId = new Map<number, string[]>();
  for (const o of alive) byServerId.set(o.state.serverId, [...(byServerId.get(o.state.serverId) ?? []), o.server.id]);
  for (const [sid, ids] of byServerId) {
    if (ids.length > 1) add('error', Code.DUPLICATE_SERVER_ID, `server_id ${sid} is used by ${ids.join(' and ')}`, undefined, { serverId: sid, servers: ids });
  }

  // Replication filters must match, or the new master would lack tables some slaves expect.
  const checkFilters = config.servers.every((s) => s.checkReplFilter);
  if (checkFilters && slaveObs.length > 1) {
    const first = slaveObs[0]!;
    for (const o of slaveObs.slice(1)) {
      const a = first.state.slaveStatus!.filters;
      const b = o.state.slaveStatus!.filters;
      const differing = FILTER_FIELDS.filter((f) => normFilter(a[f]) !== normFilter(b[f]));
      if (differing.length) {
        add('error', Code.FILTERS_DIFFER, `replication filters differ from ${first.server.id}'s: ${differing.map((f) => `${f}: "${b[f]}" vs "${a[f]}"`).join('; ')}`, o.server.id);
      }
    }
  }

  // GTID: decide the mode and look for states that make a GTID failover impossible.
  let mode: FailoverMode | undefined;
  const gtidSlaves = slaveObs.filter((o) => o.state.slaveStatus!.usesGtid);
  if (slaveObs.length > 0) {
    const decision = failoverMode(
      slaveObs.map((o) => ({ id: o.server.id, usesGtid: o.state.slaveStatus!.usesGtid })),
      useGtidAutoPos(config),
    );
    if (decision.mode) mode = decision.mode;
    else add('error', Code.GTID_MIXED, `${decision.reason}: use one mode on every slave, or set use_gtid_auto_pos=0 to fail over by file and position`);
  }
  if (master) {
    if (master.state.version.flavor === 'mysql') {
      const modes = new Set(alive.map((o) => o.state.gtid.mode ?? 'OFF'));
      if (modes.size > 1) {
        add('error', Code.GTID_MODE_DIFFERS, `gtid_mode differs between servers: ${alive.map((o) => `${o.server.id}=${o.state.gtid.mode ?? 'OFF'}`).join(', ')}`);
      }
      if (gtidSlaves.length > 0 && !master.state.gtid.enabled) {
        add('error', Code.GTID_MASTER_LACKS_GTID, `slaves use auto-position but gtid_mode=${master.state.gtid.mode ?? 'OFF'} on the master`, master.server.id);
      }
      if (master.state.gtid.enabled) {
        const masterSet = safeParse(() => MysqlGtidSet.parse(master.state.gtid.executed));
        for (const o of slaveObs) {
          const slaveSet = safeParse(() => MysqlGtidSet.parse(o.state.gtid.executed));
          if (!masterSet || !slaveSet) continue;
          const errant = slaveSet.subtract(masterSet);
          if (!errant.isEmpty) {
            add(
              'error',
              Code.GTID_ERRANT,
              `errant transactions ${errant.toString()}: executed on this slave but not on the master; promoting it or repointing it by GTID would break replication`,
              o.server.id,
              { errant: errant.toString() },
            );
          }
        }
      }
    } else {
      const masterPos = safeParse(() => parseMariadbGtidList(master.state.gtid.binlogPos ?? ''));
      for (const o of slaveObs) {
        const binlogPos = safeParse(() => parseMariadbGtidList(o.state.gtid.binlogPos ?? ''));
        const slavePos = safeParse(() => parseMariadbGtidList(o.state.gtid.slavePos ?? ''));
        if (!binlogPos || !slavePos || !masterPos) continue;
        for (const [domain, g] of binlogPos) {
          const fromMaster = slavePos.get(domain);
          const onMaster = masterPos.get(domain);
          // A GTID the slave logged under its own server_id that replication did not bring: a local write.
          const local = g.serverId === o.state.serverId && (!fromMaster || fromMaster.seq !== g.seq || fromMaster.serverId !== g.serverId);
          const ahead = onMaster !== undefined && g.seq > onMaster.seq;
          if (local || ahead) {
            add(
              'error',
              Code.GTID_ERRANT,
              `errant transaction ${formatMariadbGtid(g)} in this slave's binlog (gtid_slave_pos ${fromMaster ? formatMariadbGtid(fromMaster) : 'none'}, master at ${onMaster ? formatMariadbGtid(onMaster) : 'none'} in domain ${domain}): a write was made on the slave`,
              o.server.id,
              { gtid: formatMariadbGtid(g) },
            );
          }
        }
      }
    }
  }
  if (mode) add('info', Code.FAILOVER_MODE, mode === 'gtid' ? 'failover mode: GTID (every slave uses GTID auto-position)' : 'failover mode: file/position (relay-log diffs)');

  // Which slave would be promoted now, by MHA's rules (candidate_master, no_master, latest_priority, delay).
  const directSlaves = slaveObs.filter((o) => !master || upstream.get(o.server.id) === master);
  const { candidate, notCandidates, latestIds } = chooseCandidate(directSlaves, master?.binlogSizes, options);
  if (master) {
    if (candidate) add('ok', Code.CANDIDATE, `new master if the master died now: ${candidate.reason}`, candidate.id);
    else if (directSlaves.length) add('error', Code.NO_CANDIDATE, `no slave can be promoted: ${notCandidates.map((n) => `${n.id} (${n.reason})`).join(', ')}`);
    else add('error', Code.NO_CANDIDATE, 'no configured slave replicates from the master: a failover would have nothing to promote');
  }

  return {
    masterId: master?.server.id,
    slaves,
    deadIds: dead.map((d) => d.server.id),
    mode,
    candidate,
    notCandidates,
    latestIds,
    findings,
  };
}

function normFilter(v: string): string {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .sort()
    .join(',');
}

function safeParse<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/** MHA's select_new_master, with binlog files ordered numerically and lag measured in bytes. */
export function chooseCandidate(
  slaves: (ServerObservation & { state: ServerState })[],
  masterBinlogSizes: Map<string, number> | undefined,
  options: AnalyzeOptions,
): { candidate?: CandidateChoice; notCandidates: { id: string; reason: string }[]; latestIds: string[] } {
  const notCandidates: { id: string; reason: string }[] = [];
  const usable = slaves.filter((o) => o.state.slaveStatus);
  if (usable.length === 0) return { notCandidates, latestIds: [] };
  const sorted = [...usable].sort((a, b) => -compareCoordinates(a.state.slaveStatus!.readPosition, b.state.slaveStatus!.readPosition));
  const latestRead = sorted[0]!.state.slaveStatus!.readPosition;
  const latest = sorted.filter((o) => compareCoordinates(o.state.slaveStatus!.readPosition, latestRead) === 0);
  const latestIds = latest.map((o) => o.server.id);

  const bad = new Map<string, string>();
  for (const o of usable) {
    const ss = o.state.slaveStatus!;
    if (o.server.noMaster) bad.set(o.server.id, 'no_master=1');
    else if (!o.state.logBin) bad.set(o.server.id, 'log_bin is off');
    else if (o.server.checkReplDelay) {
      const lag = bytesBetween(ss.execPosition, latestRead, masterBinlogSizes);
      if (lag.bytes > options.maxCandidateLagBytes) {
        bad.set(
          o.server.id,
          `SQL thread ${lag.exact ? '' : 'at least '}${lag.bytes} bytes behind the latest read position ${formatCoordinate(latestRead)} (limit ${options.maxCandidateLagBytes})`,
        );
      }
    }
  }
  for (const [id, reason] of bad) notCandidates.push({ id, reason });

  const good = (o: ServerObservation) => !bad.has(o.server.id);
  const pref = usable.filter((o) => o.server.candidateMaster);
  const latestPriority = sorted[0]!.server.latestPriority;
  const pick = (o: ServerObservation, reason: string) => ({ candidate: { id: o.server.id, reason }, notCandidates, latestIds });

  if (latestPriority) {
    const p = latest.find((o) => o.server.candidateMaster && good(o));
    if (p) return pick(p, 'candidate_master=1 and has the latest relay log events');
  }
  const anyPref = usable.find((o) => pref.includes(o) && good(o));
  if (anyPref)
    return pick(anyPref, latestPriority ? "candidate_master=1 (not the latest slave; the latest one's relay log will be applied to it)" : 'candidate_master=1 (latest_priority=0)');
  if (latestPriority) {
    const l = latest.find(good);
    if (l)
      return pick(l, pref.length ? 'has the latest relay log events (no candidate_master slave is usable)' : 'has the latest relay log events (no candidate_master configured)');
  }
  const any = usable.find(good);
  if (any) return pick(any, 'first usable slave in configuration order');
  return { notCandidates, latestIds };
}

/**
 * Survey every server and analyze the topology. The servers are read in parallel, so under write
 * load a slave read after the master can be ahead of the master's snapshot, and its newest GTID
 * looked like an errant transaction (seen in the e2e lab: "errant transaction 0-1-152 … master at
 * 0-1-151": the manager refused to start). The master's position only grows: it is read again,
 * after the slaves, and judged on that.
 */
export async function surveyTopology(
  config: AppConfig,
  clients: Pick<Clients, 'mysql'>,
  survey: SurveyOptions = {},
  options: AnalyzeOptions = DEFAULT_ANALYZE_OPTIONS,
): Promise<{ observations: ServerObservation[]; topology: Topology }> {
  const observations = await surveyServers(config, clients, survey);
  let topology = analyzeTopology(config, observations, options);
  const masterIndex = observations.findIndex((o) => o.server.id === topology.masterId);
  if (masterIndex >= 0 && observations[masterIndex]!.state) {
    observations[masterIndex] = await observeServer(clients, observations[masterIndex]!.server, survey);
    topology = analyzeTopology(config, observations, options);
  }
  return { observations, topology };
}
