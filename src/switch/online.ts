// The planned online master switch (MHA: masterha_master_switch --master_state=alive), with the
// write block as short as it can be and no way for a privileged writer to slip through:
//   checks (nothing changed) → master_ip_online_change_script stop → block writes on the old
//   master (read_only, then FLUSH TABLES WITH READ LOCK bounded by lock_wait_timeout, which also
//   stops SUPER writers that read_only lets through on MariaDB) → final coordinates → every slave
//   and the new master execute up to them → promote the new master → repoint the slaves (and,
//   with --orig-master-is-new-slave, the old master) → close the old master's client connections
//   and release the lock → master_ip_online_change_script start → verify.
// Any failure before the new master is writable rolls back: the old master is writable again and
// replication is as before.
import { asError, messageOf } from '../core/errors.js';
import { formatCoordinate } from '../binlog/coordinates.js';
import type { AppConfig, ServerConfig } from '../config/types.js';
import { onlineChangeArgs } from '../core/hook-args.js';
import { describeHookEnd, hookOutcome } from '../core/hook-run.js';
import type { ManagerLog } from '../core/log.js';
import { runChangeMaster, waitForMasterPos } from '../mysql/commands.js';
import { dialectFor } from '../mysql/dialect.js';
import { readServerState } from '../mysql/inspect.js';
import type { BinlogCoordinate, ServerState } from '../mysql/types.js';
import { type Clients, type ServerSession } from '../core/clients.js';
import { masterOf, surveyServers } from '../core/survey.js';

export interface OnlineSwitchOptions {
  newMasterId: string;
  origMasterIsNewSlave: boolean;
  /** Slaves may be at most this many seconds behind, and no write transaction may be older (MHA: running_updates_limit). */
  runningUpdatesLimit: number;
  /** No query on the master may have run longer than this (MHA: running_seconds_limit). */
  runningSecondsLimit: number;
  /** FLUSH TABLES WITH READ LOCK waits at most this long for running statements (lock_wait_timeout). */
  lockWaitTimeout: number;
  /** Seconds the new master and slaves get to execute up to the final coordinates. */
  catchUpTimeout: number;
}

export class SwitchError extends Error {
  constructor(
    readonly step: string,
    message: string,
    readonly rolledBack: boolean,
  ) {
    super(message);
    this.name = 'SwitchError';
  }
}

export interface SwitchPlan {
  master: ServerConfig;
  masterState: ServerState;
  newMaster: ServerConfig;
  slaves: { server: ServerConfig; state: ServerState }[];
  problems: string[];
}

export interface SwitchResult {
  oldMaster: string;
  newMaster: string;
  finalCoordinates: BinlogCoordinate;
  newMasterCoordinates: BinlogCoordinate;
  /** From read_only=1 on the old master to read_only=0 on the new one. */
  writeBlockedMs: number;
  totalMs: number;
  closedConnections: number;
  steps: { name: string; durationMs: number }[];
}

/** Everything that must hold before anything is changed. */
export async function planSwitch(config: AppConfig, clients: Clients, opts: OnlineSwitchOptions): Promise<SwitchPlan> {
  const states = await surveyServers(config, clients, { connect: { connectTimeoutMs: 3000 } });
  const problems: string[] = [];
  for (const s of states) if (!s.state) problems.push(`${s.server.id} does not answer: ${s.error}`);
  const roots = states.filter((s) => s.state && !s.state.slaveStatus && !s.state.readOnly);
  if (roots.length !== 1) throw new SwitchError('check', `expected one writable master, found ${roots.length}: ${roots.map((r) => r.server.id).join(', ') || 'none'}`, false);
  const master = roots[0]!;
  const newMaster = states.find((s) => s.server.id === opts.newMasterId);
  if (!newMaster?.state) throw new SwitchError('check', `the new master ${opts.newMasterId} does not answer`, false);
  const slaves = states.filter((s): s is { server: ServerConfig; state: ServerState } => !!s.state && s !== master);
  if (newMaster === master) throw new SwitchError('check', `${opts.newMasterId} is the current master`, false);
  for (const s of slaves) {
    const ss = s.state.slaveStatus;
    if (!ss || masterOf(ss, states, s) !== master) {
      problems.push(`${s.server.id} is not a slave of the master ${master.server.id}`);
      continue;
    }
    if (ss.ioRunning !== 'Yes' || !ss.sqlRunning) problems.push(`${s.server.id}: replication threads not running (IO ${ss.ioRunning}, SQL ${ss.sqlRunning ? 'Yes' : 'No'})`);
    if (ss.secondsBehindMaster === null || ss.secondsBehindMaster > opts.runningUpdatesLimit) {
      problems.push(`${s.server.id} is ${ss.secondsBehindMaster ?? 'an unknown number of'} s behind the master (limit ${opts.runningUpdatesLimit} s, --running-updates-limit)`);
    }
  }
  const nm = newMaster.state;
  if (!nm.logBin) problems.push(`the new master ${opts.newMasterId} has log_bin off`);
  if (newMaster.server.noMaster) problems.push(`the new master ${opts.newMasterId} has no_master=1`);
  const mf = nm.slaveStatus?.filters;
  for (const s of slaves) {
    const f = s.state.slaveStatus?.filters;
    if (mf && f && JSON.stringify(mf) !== JSON.stringify(f)) problems.push(`replication filters of ${s.server.id} differ from the new master's`);
  }
  // Long writes on the master would hold the write block open: refuse rather than wait.
  const session = await clients.mysql(master.server);
  try {
    const trx = await session.query(
      "SELECT trx_mysql_thread_id AS id, TIMESTAMPDIFF(SECOND, trx_started, NOW()) AS age FROM information_schema.innodb_trx WHERE trx_rows_modified > 0 OR trx_state <> 'RUNNING'",
    );
    for (const t of trx)
      if (Number(t.age) > opts.runningUpdatesLimit)
        problems.push(`a write transaction (thread ${String(t.id)}) has been open on the master for ${Number(t.age)} s (limit ${opts.runningUpdatesLimit} s)`);
    const long = await session.query(
      "SELECT ID AS id, TIME AS t, LEFT(INFO, 80) AS q FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query' AND ID <> CONNECTION_ID() AND USER <> 'system user' AND INFO IS NOT NULL",
    );
    for (const q of long)
      if (Number(q.t) > opts.runningSecondsLimit)
        problems.push(`a query (thread ${String(q.id)}) has run ${Number(q.t)} s on the master (limit ${opts.runningSecondsLimit} s): ${String(q.q)}`);
  } finally {
    await session.close();
  }
  return { master: master.server, masterState: master.state!, newMaster: newMaster.server, slaves, problems };
}

export async function runOnlineSwitch(config: AppConfig, clients: Clients, log: ManagerLog, plan: SwitchPlan, opts: OnlineSwitchOptions): Promise<SwitchResult> {
  const t0 = Date.now();
  const steps: SwitchResult['steps'] = [];
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const s = Date.now();
    const r = await work();
    steps.push({ name, durationMs: Date.now() - s });
    log.info('SWITCH_STEP', name, { durationMs: Date.now() - s });
    return r;
  };
  const { master, newMaster } = plan;
  const others = plan.slaves.filter((s) => s.server.id !== newMaster.id);
  const hook = config.manager.masterIpOnlineChangeScript;
  const hookEnv = { HA_ORIG_MASTER_PASSWORD: master.password, HA_NEW_MASTER_PASSWORD: newMaster.password };

  // Sessions opened before the block: connecting during it must not be what takes time.
  const opened: ServerSession[] = [];
  const open = async (server: ServerConfig) => {
    const s = await clients.mysql(server);
    opened.push(s);
    return s;
  };
  let lock: ServerSession, masterAdmin: ServerSession, nmSession: ServerSession;
  let otherSessions: { server: ServerConfig; state: ServerState; session: ServerSession }[];
  try {
    [lock, masterAdmin, nmSession] = [await open(master), await open(master), await open(newMaster)];
    otherSessions = await Promise.all(others.map(async (s) => ({ ...s, session: await open(s.server) })));
  } catch (err) {
    await Promise.all(opened.map((s) => s.close().catch(() => undefined)));
    throw new SwitchError('connect', `${(err as Error).message}: nothing was changed`, false);
  }
  const superRo = plan.masterState.superReadOnly !== undefined;
  let blockedAt = 0;
  let writable = false;
  /** Undoes the block; true when the old master takes writes again. */
  const rollback = async (why: string): Promise<boolean> => {
    log.error('SWITCH_ROLLBACK', `rolling back: ${why}`);
    await lock.query('UNLOCK TABLES').catch(() => undefined);
    let notWritable: Error | undefined;
    if (superRo) await masterAdmin.query('SET GLOBAL super_read_only = 0').catch((e: unknown) => void (notWritable ??= asError(e)));
    await masterAdmin.query('SET GLOBAL read_only = 0').catch((e: unknown) => void (notWritable ??= asError(e)));
    // The new master is a slave again: read-only for SUPER writers too, its replication restarted
    // (its settings are kept until it takes writes, so START SLAVE resumes where it stopped).
    if (plan.slaves.find((s) => s.server.id === newMaster.id)!.state.superReadOnly) await nmSession.query('SET GLOBAL super_read_only = 1').catch(() => undefined);
    await nmSession.query(dialectFor(plan.slaves.find((s) => s.server.id === newMaster.id)!.state.version).startSlave()).catch(() => undefined);
    if (notWritable) {
      log.error(
        'SWITCH_ROLLBACK_FAILED',
        `${master.id} could not be made writable again (${notWritable.message}): no server takes writes; if it is dead, fail over (ha switch --master-state dead)`,
      );
      return false;
    }
    log.info('SWITCH_ROLLED_BACK', `${master.id} takes writes again; replication as before`);
    return true;
  };
  if (hook) {
    try {
      await step('master_ip_online_change_script --command=stop', async () => {
        const r = await clients.hook('master_ip_online_change_script', hook, onlineChangeArgs('stop', master, newMaster, opts.origMasterIsNewSlave), hookEnv, 60_000);
        // MHA 0.58 (MasterRotate.pm reject_update): 0 ok, 10 "Proceeding." with a warning, other: abort.
        const outcome = hookOutcome(r);
        if (outcome === 'proceed')
          log.warn('HOOK_PROCEED', 'master_ip_online_change_script --command=stop exited 10: proceeding, as MHA does (the script says writes may not be fully disabled)');
        else if (outcome === 'failed') throw new Error(`master_ip_online_change_script --command=stop failed (${describeHookEnd(r)})`);
      });
    } catch (err) {
      await Promise.all([lock, masterAdmin, nmSession, ...otherSessions.map((x) => x.session)].map((x: ServerSession) => x.close().catch(() => undefined)));
      throw new SwitchError('hook stop', `${(err as Error).message}: nothing else was changed`, false);
    }
  }
  try {
    let final: BinlogCoordinate;
    try {
      await step('block writes on the old master', async () => {
        blockedAt = Date.now();
        await masterAdmin.query(superRo ? 'SET GLOBAL super_read_only = 1' : 'SET GLOBAL read_only = 1');
        // SUPER/READ_ONLY ADMIN writers pass read_only on MariaDB: the global read lock stops them too.
        await lock.query(`SET SESSION lock_wait_timeout = ${Math.max(1, Math.floor(opts.lockWaitTimeout))}`);
        await lock.query('FLUSH TABLES WITH READ LOCK');
      });
      final = await step('read the final binlog coordinates', async () => {
        const st = await readServerState(masterAdmin);
        if (!st.masterStatus) throw new Error('the master has no binlog coordinates');
        return { file: st.masterStatus.file, position: st.masterStatus.position };
      });
      log.info('FINAL_COORDINATES', `old master's final coordinates: ${formatCoordinate(final)}`);
      await step('new master and slaves execute up to them', async () => {
        await Promise.all(
          [{ server: newMaster, session: nmSession, state: plan.slaves.find((s) => s.server.id === newMaster.id)!.state }, ...otherSessions].map(async (s) => {
            const r = await waitForMasterPos(s.session, dialectFor(s.state.version), final, opts.catchUpTimeout);
            if (r !== 'reached') throw new Error(`${s.server.id} did not reach ${formatCoordinate(final)} (${r})`);
          }),
        );
      });
    } catch (err) {
      const back = await rollback((err as Error).message);
      throw new SwitchError('block', (err as Error).message, back);
    }

    let nmCoord: BinlogCoordinate;
    const nmDialect = dialectFor(plan.slaves.find((s) => s.server.id === newMaster.id)!.state.version);
    try {
      nmCoord = await step('promote the new master', async () => {
        await nmSession.query(nmDialect.stopSlave());
        const st = await readServerState(nmSession);
        if (!st.masterStatus) throw new Error('the new master has no binlog coordinates');
        if (st.superReadOnly) await nmSession.query('SET GLOBAL super_read_only = 0');
        await nmSession.query('SET GLOBAL read_only = 0');
        writable = true;
        return { file: st.masterStatus.file, position: st.masterStatus.position };
      });
    } catch (err) {
      const back = await rollback((err as Error).message);
      throw new SwitchError('promote', (err as Error).message, back);
    }
    const writeBlockedMs = Date.now() - blockedAt;
    log.info('NEW_MASTER_WRITABLE', `${newMaster.id} takes writes at ${formatCoordinate(nmCoord)}: writes were blocked ${writeBlockedMs} ms`);
    // RESET SLAVE ALL cannot be undone: run once the new master takes writes, so that a rollback
    // before can restart its replication. Its failure leaves only stopped, stale settings.
    await nmSession
      .query(nmDialect.resetSlaveAll())
      .catch((err: unknown) =>
        log.error('RESET_SLAVE_FAILED', `${newMaster.id}: ${nmDialect.resetSlaveAll()} failed (${messageOf(err)}): it keeps its old, stopped replication settings; run it by hand`),
      );

    // From here the new master is the master: failures are reported, not rolled back.
    const clusterUsesGtid = plan.slaves.length > 0 && plan.slaves.every((x) => x.state.slaveStatus?.usesGtid === true);
    const newMasterReplUser = plan.slaves.find((x) => x.server.id === newMaster.id)?.state.slaveStatus?.masterUser ?? '';
    const repoint = async (targets: { server: ServerConfig; session: ServerSession; state: ServerState }[]) =>
      Promise.all(
        targets.map(async (s) => {
          const d = dialectFor(s.state.version);
          if (s.server.id !== master.id) await s.session.query(d.stopSlave());
          // The old master follows the cluster's mode; on MariaDB its own binlog is what it has
          // executed, so its GTID slave position starts there.
          const useGtid = s.server.id === master.id ? clusterUsesGtid : s.state.slaveStatus?.usesGtid === true;
          if (useGtid && s.server.id === master.id && s.state.version.flavor === 'mariadb') {
            await s.session.query('SET GLOBAL gtid_slave_pos = @@GLOBAL.gtid_binlog_pos');
          }
          const redacted = await runChangeMaster(s.session, d, {
            host: newMaster.hostname,
            port: newMaster.port,
            // repl_user unset: the account the slaves already replicate with (MHA's rule); the old
            // master has none of its own, so it takes the new master's.
            user: s.server.replUser || s.state.slaveStatus?.masterUser || newMasterReplUser,
            password: s.server.replPassword,
            start: useGtid ? { kind: 'gtid' } : { kind: 'position', file: nmCoord.file, position: nmCoord.position },
          });
          log.info('CHANGE_MASTER', redacted, { server: s.server.id });
          await s.session.query(d.startSlave());
        }),
      );
    await step('repoint the slaves', () => repoint(otherSessions));
    const closed = await step('close client connections on the old master and release the lock', async () => {
      // Sessions blocked on the read lock would commit on the old master once it is released:
      // they are closed first (their clients reconnect to the new master).
      const own = new Set([Number((await lock.query('SELECT CONNECTION_ID() AS id'))[0]!.id), Number((await masterAdmin.query('SELECT CONNECTION_ID() AS id'))[0]!.id)]);
      const rows = await masterAdmin.query(
        "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER NOT IN ('system user', 'event_scheduler') AND COMMAND NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Daemon')",
      );
      let n = 0;
      for (const r of rows) {
        const id = Number(r.id);
        if (own.has(id)) continue;
        await masterAdmin.query(`KILL CONNECTION ${id}`).catch(() => undefined);
        n++;
      }
      await lock.query('UNLOCK TABLES');
      return n;
    });
    // The old master is repointed once its read lock is gone (replication statements wait on it).
    if (opts.origMasterIsNewSlave) await step('make the old master a slave of the new one', () => repoint([{ server: master, session: masterAdmin, state: plan.masterState }]));
    if (hook) {
      await step('master_ip_online_change_script --command=start', async () => {
        const r = await clients.hook('master_ip_online_change_script', hook, onlineChangeArgs('start', master, newMaster, opts.origMasterIsNewSlave), hookEnv, 60_000);
        // MHA: 10 is "Proceeding." with a warning; any other failure aborted MHA's switch after the
        // master had moved. ha logs it and the switch stands (the new master already has every write).
        const outcome = hookOutcome(r);
        if (outcome === 'proceed') log.warn('HOOK_PROCEED', 'master_ip_online_change_script --command=start exited 10: proceeding, as MHA does');
        else if (outcome === 'failed')
          log.error('HOOK_FAILED', `master_ip_online_change_script --command=start failed (${describeHookEnd(r)}): ${newMaster.id} is the master but may not be announced`);
      });
    }
    await step('verify replication', async () => {
      const targets = [...otherSessions, ...(opts.origMasterIsNewSlave ? [{ server: master, session: masterAdmin, state: plan.masterState }] : [])];
      const deadline = Date.now() + 30_000;
      for (const t of targets) {
        for (;;) {
          const ss = (await readServerState(t.session)).slaveStatus;
          if (ss?.ioRunning === 'Yes' && ss.sqlRunning) break;
          if (Date.now() > deadline)
            throw new SwitchError(
              'verify',
              `${t.server.id}: replication from ${newMaster.id} is not running (IO ${ss?.ioRunning}, SQL ${ss?.sqlRunning}; ${ss?.lastIoError || ss?.lastSqlError || ''})`,
              false,
            );
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    });
    return {
      oldMaster: master.id,
      newMaster: newMaster.id,
      finalCoordinates: final,
      newMasterCoordinates: nmCoord,
      writeBlockedMs,
      totalMs: Date.now() - t0,
      closedConnections: closed,
      steps,
    };
  } finally {
    if (!writable) await lock.query('UNLOCK TABLES').catch(() => undefined);
    await Promise.all([lock, masterAdmin, nmSession, ...otherSessions.map((s) => s.session)].map((s: ServerSession) => s.close().catch(() => undefined)));
  }
}
