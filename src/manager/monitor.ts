// Watching the master. Every ping_interval the manager checks it (ping_type CONNECT, SELECT or
// INSERT). A failed check is confirmed at once, not after three more intervals, and from several
// sides: a reconnect; over SSH, whether mysqld runs and its port listens on the host itself; the
// slaves' IO threads; the master's port probed from the slave hosts; secondary_check_script when
// configured (MHA's arguments; exit 0 = dead, as masterha_secondary_check). The master is declared
// dead only on that evidence, and the evidence is logged.
import type { AppConfig, ServerConfig } from '../config/types.js';
import { secondaryCheckArgs } from '../core/hook-args.js';
import { describeHookEnd, hookOutcome } from '../core/hook-run.js';
import { readServerState } from '../mysql/inspect.js';
import type { Clients, ServerSession } from '../core/clients.js';
import { shellQuote } from '../ssh/quote.js';
import type { ManagerLog } from '../core/log.js';

/** MySQL errors that prove the server is up (MHA's ALIVE_ERROR_CODES), plus lock waits for INSERT pings. */
export const ALIVE_ERROR_CODES = new Set([1040, 1042, 1043, 1044, 1045, 1129, 1130, 1203, 1205, 1226, 1251, 1275]);

export interface Verdict {
  dead: boolean;
  /** Whether the master's host answered over SSH during the check (undefined: not decided by SSH). */
  hostSshReachable?: boolean;
  /** One line per piece of evidence, for the log. */
  evidence: string[];
}

export type MonitorOutcome = { kind: 'dead'; detectedAt: number; evidence: string[]; hostSshReachable?: boolean } | { kind: 'stopped' };

function errnoOf(err: unknown): number | undefined {
  const e = err as { errno?: number; cause?: { errno?: number } };
  return e.errno ?? e.cause?.errno;
}

/** A ping according to ping_type. Throws on failure. */
export async function ping(config: AppConfig, master: ServerConfig, deps: Clients, held: { session?: ServerSession }): Promise<void> {
  const timeoutMs = Math.max(1000, config.manager.pingInterval * 1000);
  const type = config.manager.pingType;
  if (type === 'CONNECT') {
    const s = await deps.mysql(master, { connectTimeoutMs: timeoutMs, queryTimeoutMs: timeoutMs });
    await s.close();
    return;
  }
  if (!held.session) held.session = await deps.mysql(master, { connectTimeoutMs: timeoutMs, queryTimeoutMs: timeoutMs });
  try {
    if (type === 'SELECT') await held.session.query('SELECT 1 AS Value');
    else {
      await held.session.query('CREATE DATABASE IF NOT EXISTS infra');
      await held.session.query('CREATE TABLE IF NOT EXISTS infra.chk_masterha (`key` tinyint NOT NULL PRIMARY KEY, `val` int unsigned NOT NULL DEFAULT 0)');
      await held.session.query('INSERT INTO infra.chk_masterha VALUES (1, UNIX_TIMESTAMP()) ON DUPLICATE KEY UPDATE val = UNIX_TIMESTAMP()');
    }
  } catch (err) {
    // The held session is suspect after any failure: the next ping opens a new one.
    const s = held.session;
    held.session = undefined;
    await s?.close().catch(() => undefined);
    throw err;
  }
}

/** What the master's own host says: is a mysqld running, does its port accept a connection there. */
async function hostView(master: ServerConfig, deps: Clients, pidFile: string | undefined): Promise<{ reachable: boolean; mysqld?: boolean; listening?: boolean; detail: string }> {
  try {
    const conn = await deps.ssh(master);
    // The server's own pid file names its process exactly; pgrep is the fallback when it is not
    // known (and may be fooled by another mysqld on the same host).
    const proc = pidFile
      ? // A killed mysqld can linger as a zombie until its parent reaps it: that is not a running server.
        `p=$(cat ${shellQuote(pidFile)} 2>/dev/null) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null && { [ ! -r /proc/$p/stat ] || [ "$(sed 's/.*) //' /proc/$p/stat | cut -c1)" != Z ]; } && echo HA:mysqld`
      : '(pgrep -x mariadbd || pgrep -x mysqld) >/dev/null && echo HA:mysqld';
    const probe = `timeout 2 bash -c ${shellQuote(`</dev/tcp/${master.ip}/${master.port}`)} 2>/dev/null && echo HA:listening; ${proc}; true`;
    const r = await conn.exec(probe, { timeoutMs: 4000, what: 'the mysqld process and port check' });
    const mysqld = /HA:mysqld/.test(r.stdout);
    const listening = /HA:listening/.test(r.stdout);
    return {
      reachable: true,
      mysqld,
      listening,
      detail: `SSH: mysqld ${mysqld ? 'running' : 'NOT running'}, port ${master.port} ${listening ? 'listening' : 'NOT listening'} on the host`,
    };
  } catch (err) {
    return { reachable: false, detail: `SSH to the master host failed: ${(err as Error).message}` };
  }
}

/** What the slaves say: has their IO thread lost the master, and can their hosts reach its port? */
async function slavesView(
  config: AppConfig,
  master: ServerConfig,
  deps: Clients,
): Promise<{ asked: number; lost: number; portProbed: number; portReachableFrom: string[]; detail: string[] }> {
  const slaves = config.servers.filter((s) => s.id !== master.id);
  const detail: string[] = [];
  let asked = 0;
  let lost = 0;
  let portProbed = 0;
  const portReachableFrom: string[] = [];
  await Promise.all(
    slaves.map(async (s) => {
      const [io, port] = await Promise.all([
        (async () => {
          const session = await deps.mysql(s, { connectTimeoutMs: 2000, queryTimeoutMs: 2000 });
          try {
            return (await readServerState(session)).slaveStatus;
          } finally {
            await session.close().catch(() => undefined);
          }
        })().catch(() => undefined),
        (async () => {
          const conn = await deps.ssh(s);
          const r = await conn.exec(`timeout 2 bash -c ${shellQuote(`</dev/tcp/${master.ip}/${master.port}`)} 2>/dev/null && echo HA:open || echo HA:closed`, {
            timeoutMs: 4000,
            what: 'probing the master port',
          });
          return /HA:open/.test(r.stdout);
        })().catch(() => undefined),
      ]);
      if (io) {
        asked++;
        const ioLost = io.ioRunning !== 'Yes' || [2003, 2013].includes(io.lastIoErrno);
        if (ioLost) lost++;
        detail.push(`${s.id}: IO thread ${io.ioRunning}${io.lastIoErrno ? ` (${io.lastIoErrno})` : ''}`);
      }
      if (port !== undefined) portProbed++;
      if (port === true) portReachableFrom.push(s.id);
      if (port !== undefined) detail.push(`${s.id}: master port ${port ? 'OPEN' : 'closed'} from its host`);
    }),
  );
  return { asked, lost, portProbed, portReachableFrom, detail };
}

/**
 * Is the master dead? Called after a failed ping. Decisive evidence: a refused reconnect plus
 * SSH showing no mysqld. Without SSH (host down or cut off), the master is dead only if no slave
 * host can reach its port. With mysqld running but unreachable, it is dead only after
 * `failedPings` consecutive failures and if no slave host reaches it either.
 */
export async function confirmDeath(config: AppConfig, master: ServerConfig, deps: Clients, failedPings: number, firstError: string, pidFile?: string): Promise<Verdict> {
  const evidence = [`ping failed: ${firstError}`];
  const reconnect = deps
    .mysql(master, { connectTimeoutMs: 2000, queryTimeoutMs: 2000 })
    .then(async (s) => {
      await s.query('SELECT 1');
      await s.close();
      return undefined;
    })
    .catch((err: unknown) => err);
  const [recErr, host, slaves] = await Promise.all([reconnect, hostView(master, deps, pidFile ?? master.masterPidFile), slavesView(config, master, deps)]);
  if (recErr === undefined) return { dead: false, evidence: [...evidence, 'reconnect succeeded: the master is alive'] };
  const errno = errnoOf(recErr);
  if (errno !== undefined && ALIVE_ERROR_CODES.has(errno)) {
    return { dead: false, evidence: [...evidence, `reconnect answered with error ${errno}: the server is up`] };
  }
  evidence.push(`reconnect failed: ${(recErr as Error).message}`, host.detail, ...slaves.detail);
  const someSlaveReaches = slaves.portReachableFrom.length > 0;

  let dead: boolean;
  if (host.reachable && host.mysqld === false) dead = true;
  else if (someSlaveReaches) dead = false;
  // Host unreachable over SSH and no slave host reaches the port: unreachable from every side,
  // as this function's doc comment says. (Requiring the slaves' IO threads to have lost the
  // master as well waited for slave_net_timeout, 60 s by default: e2e scenario d failed over a
  // minute late.) Only when no slave host could be asked does the IO threads' view decide.
  else if (!host.reachable) dead = slaves.portProbed > 0 || slaves.asked === 0 || slaves.lost === slaves.asked;
  else dead = failedPings >= 3 && host.listening === false;

  if (dead && config.manager.secondaryCheckScript) {
    const r = await deps.hook(
      'secondary_check_script',
      config.manager.secondaryCheckScript,
      secondaryCheckArgs(master, config.manager.pingType),
      { HA_MASTER_PASSWORD: master.password },
      30_000,
    );
    evidence.push(`secondary_check_script: ${describeHookEnd(r)}`);
    // secondary_check_script confirms the death only with exit 0 (masterha_secondary_check); any other end vetoes it.
    if (hookOutcome(r) !== 'ok') dead = false;
  }
  if (!dead && someSlaveReaches)
    evidence.push(`the master's port is reachable from ${slaves.portReachableFrom.join(', ')}: the manager's own path to it is broken, not the master`);
  return { dead, evidence, hostSshReachable: host.reachable };
}

export interface MonitorOptions {
  onPing?: (ok: boolean) => void;
  /** The master's @@pid_file, read at start-up: how SSH tells whether its mysqld still runs. */
  pidFile?: string;
  /** Resolves when the manager is asked to stop. */
  stopped: Promise<void>;
}

/** Watch until the master is confirmed dead or the manager is stopped. */
export async function watchMaster(config: AppConfig, master: ServerConfig, deps: Clients, log: ManagerLog, opts: MonitorOptions): Promise<MonitorOutcome> {
  const held: { session?: ServerSession } = {};
  let stop = false;
  void opts.stopped.then(() => {
    stop = true;
  });
  let failures = 0;
  const interval = config.manager.pingInterval * 1000;
  // A killed mysqld (or a crashed host that still sends RST) closes the held ping session at once:
  // that wakes the loop to ping now instead of at the next interval. The session is dropped first,
  // so the ping reconnects: a session closed by wait_timeout or a proxy is not a failed ping.
  let wake: (() => void) | undefined;
  let lostReason: string | undefined;
  let watched: ServerSession | undefined;
  const watch = () => {
    const s = held.session;
    if (!s || s === watched || !s.onLost) return;
    watched = s;
    s.onLost((reason) => {
      if (held.session !== s) return;
      lostReason = reason;
      wake?.();
    });
  };
  try {
    while (!stop) {
      const started = Date.now();
      if (lostReason !== undefined) {
        log.info('PING_SESSION_LOST', `the connection to the master closed (${lostReason}): pinging now`);
        const s = held.session;
        held.session = undefined;
        lostReason = undefined;
        await s?.close().catch(() => undefined);
      }
      try {
        await ping(config, master, deps, held);
        watch();
        if (failures) log.info('PING_OK', 'master answers again');
        failures = 0;
        opts.onPing?.(true);
      } catch (err) {
        lostReason = undefined; // this failure is being judged; a close seen meanwhile adds nothing
        const errno = errnoOf(err);
        if (errno !== undefined && ALIVE_ERROR_CODES.has(errno)) {
          log.warn('PING_ALIVE_ERROR', `ping answered with error ${errno} (${(err as Error).message}): the master is up; not counted`);
        } else {
          failures++;
          opts.onPing?.(false);
          log.warn('PING_FAILED', `ping ${failures} failed: ${(err as Error).message}; confirming…`);
          const verdict = await confirmDeath(config, master, deps, failures, (err as Error).message, opts.pidFile);
          for (const e of verdict.evidence) log.info('EVIDENCE', e);
          if (verdict.dead) return { kind: 'dead', detectedAt: Date.now(), evidence: verdict.evidence, hostSshReachable: verdict.hostSshReachable };
          log.warn('NOT_DEAD', 'the master is not confirmed dead: monitoring goes on');
        }
      }
      const wait = Math.max(0, interval - (Date.now() - started));
      if (lostReason === undefined) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((r) => {
            timer = setTimeout(r, wait);
            wake = r;
          }),
          opts.stopped,
        ]);
        clearTimeout(timer);
        wake = undefined;
      }
    }
    return { kind: 'stopped' };
  } finally {
    await held.session?.close().catch(() => undefined);
  }
}
