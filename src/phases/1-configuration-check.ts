// Phase 1: Configuration check. Re-read every server, confirm the master is really dead, list the
// dead and alive servers, freeze the slaves' read positions (stop their IO threads), and choose
// the failover mode (GTID or file/position).
import type { ServerConfig } from '../config/types.js';
import { dialectFor } from '../mysql/dialect.js';
import { readServerState } from '../mysql/inspect.js';
import { failoverMode, isSlaveOf, surveyServers, useGtidAutoPos, type FailoverMode, type ServerObservation } from '../core/survey.js';
import { checkAbort, FailoverError, recordChange, type FailoverContext, type ServerView } from './context.js';

export const PHASE_1 = '1 Configuration check';
/** How old the monitor's "SSH to the master host failed" may be to be taken as phase 1's answer. */
const RECENT_SSH_VERDICT_MS = 30_000;

export interface ConfigurationCheckResult {
  deadMaster: ServerConfig;
  /** Alive slaves of the dead master, with their state after their IO threads were stopped. */
  slaves: ServerView[];
  /** Configured servers that did not answer (besides the dead master). */
  down: { server: ServerConfig; error: string }[];
  mode: FailoverMode;
  deadMasterSshReachable: boolean;
}

export async function configurationCheck(ctx: FailoverContext): Promise<ConfigurationCheckResult> {
  const { config, log } = ctx;
  const deadMaster = config.servers.find((s) => s.id === ctx.options.deadMasterId);
  if (!deadMaster) throw new FailoverError(PHASE_1, 'UNKNOWN_MASTER', `${ctx.options.deadMasterId} is not a server in ${config.file}`);

  // SSH to the dead master's host decides whether its binlog can be saved. When the monitor has
  // just timed out on it, asking again costs another 5 s of write unavailability for a host that
  // did not answer a moment ago; otherwise it is asked at once, beside the MySQL probes (one after
  // the other, a cut-off host cost 3 s + 5 s).
  const sshFailedAgoMs = ctx.options.deadMasterSshFailedAt === undefined ? undefined : Date.now() - ctx.options.deadMasterSshFailedAt;
  const deadMasterSsh: Promise<string | undefined> =
    sshFailedAgoMs !== undefined && sshFailedAgoMs < RECENT_SSH_VERDICT_MS
      ? Promise.resolve(`the monitor's SSH check failed ${sshFailedAgoMs} ms ago`)
      : ctx.clients
          .ssh(deadMaster)
          .then((conn) => conn.exec('true', { timeoutMs: 5000, what: 'a no-op on the dead master host' }))
          .then(
            () => undefined,
            (err: unknown) => (err as Error).message,
          );
  // The dead master gets the monitor's reconnect timeout: it has just failed that same test.
  const probes = await surveyServers(config, ctx.clients, { connect: (server) => ({ connectTimeoutMs: server.id === deadMaster.id ? 2000 : 3000 }) });
  const master = probes.find((p) => p.server.id === deadMaster.id)!;
  if (master.state) {
    throw new FailoverError(PHASE_1, 'MASTER_ALIVE', `the master ${deadMaster.hostname}:${deadMaster.port} answers again: not failing over`, deadMaster.id);
  }
  log.info('MASTER_DEAD', `master ${deadMaster.hostname}:${deadMaster.port} does not answer: ${master.error}`, { server: deadMaster.id });

  const down: ConfigurationCheckResult['down'] = [];
  const alive: ServerView[] = [];
  for (const p of probes) {
    if (p.server.id === deadMaster.id) continue;
    if (p.state) alive.push({ server: p.server, state: p.state });
    else {
      down.push({ server: p.server, error: p.error ?? 'unknown' });
      log.warn('SERVER_DOWN', `${p.server.hostname}:${p.server.port} is not reachable: ${p.error}${p.server.ignoreFail ? ' (ignore_fail=1)' : ''}`, { server: p.server.id });
    }
  }
  // The slave-of rule, with the dead master's last known state for the server_id fallback.
  const known: ServerObservation[] = [{ server: deadMaster, state: ctx.options.deadMasterLastState }, ...alive];
  const slaves = alive.filter((v) => isSlaveOf(v, known[0]!, known));
  for (const v of alive.filter((x) => !slaves.includes(x))) {
    log.warn('NOT_A_SLAVE_OF_MASTER', `does not replicate from ${deadMaster.id}: left out of the failover`, { server: v.server.id });
  }
  if (slaves.length === 0) throw new FailoverError(PHASE_1, 'NO_SLAVES', `no alive slave of ${deadMaster.id}: nothing to promote`);
  if (!config.servers.every((s) => s.replPassword)) {
    throw new FailoverError(PHASE_1, 'NO_REPL_PASSWORD', 'repl_password is not set: the slaves cannot be pointed at the new master (CHANGE MASTER needs it)');
  }

  checkAbort(ctx, PHASE_1);
  // The dead master sends nothing more; stopping the IO threads makes every read position final
  // (and stops reconnect attempts racing with the recovery).
  const frozen = await Promise.all(
    slaves.map(async (v) => {
      const session = await ctx.clients.mysql(v.server);
      try {
        await session.query(dialectFor(v.state.version).stopSlaveIoThread());
        recordChange(ctx, v.server.id, 'STOP SLAVE IO_THREAD');
        return { server: v.server, state: await readServerState(session) };
      } finally {
        await session.close();
      }
    }),
  );
  for (const v of frozen) {
    const ss = v.state.slaveStatus!;
    log.info(
      'SLAVE_STATE',
      `slave of ${deadMaster.id}: read ${ss.readPosition.file}:${ss.readPosition.position}, exec ${ss.execPosition.file}:${ss.execPosition.position}, SQL thread ${ss.sqlRunning ? 'running' : 'stopped'}${ss.usesGtid ? ', GTID' : ''}`,
      { server: v.server.id },
    );
  }

  const decision = failoverMode(
    frozen.map((v) => ({ id: v.server.id, usesGtid: v.state.slaveStatus!.usesGtid })),
    useGtidAutoPos(config),
  );
  if (!decision.mode)
    throw new FailoverError(PHASE_1, 'GTID_MIXED', `${decision.reason}: cannot repoint them consistently (set use_gtid_auto_pos=0 to fail over by file and position)`);
  const mode = decision.mode;
  log.info(
    'FAILOVER_MODE',
    mode === 'gtid'
      ? 'GTID mode: slaves will be repointed by GTID after receiving the missing events'
      : "file/position mode: relay-log diffs, then CHANGE MASTER to the new master's coordinates",
  );

  const sshError = await deadMasterSsh;
  const deadMasterSshReachable = sshError === undefined;
  if (sshError !== undefined) log.warn('DEAD_MASTER_SSH', `dead master host is not reachable over SSH: ${sshError}`, { server: deadMaster.id });
  log.info(
    'DEAD_MASTER_SSH',
    `dead master host ${deadMasterSshReachable ? 'is' : 'is NOT'} reachable over SSH${deadMasterSshReachable ? ': its binlog will be saved' : ': events only it had cannot be saved'}`,
    { server: deadMaster.id },
  );
  return { deadMaster, slaves: frozen, down, mode, deadMasterSshReachable };
}
