// One cluster survey for every operation: read every configured server once, in parallel; the one
// rule for "is this slave replicating from that server"; the one rule for the failover mode.
// check-repl, the manager's start-up check, both switches, the failover's phase 1 and
// purge-relay-logs use these, so they cannot disagree about the same cluster.
import type { AppConfig, ServerConfig } from '../config/types.js';
import { readServerState } from '../mysql/inspect.js';
import type { ServerState, SlaveStatus } from '../mysql/types.js';
import type { Clients, MysqlConnectOptions, ServerSession } from './clients.js';

export interface ServerObservation {
  server: ServerConfig;
  state?: ServerState;
  /** Why the server could not be inspected (connection refused, …). */
  error?: string;
  /** Addresses the server's hostname resolves to (for matching a slave's Master_Host). */
  addresses?: string[];
  /** The server's binlog file sizes (SHOW BINARY LOGS), used to measure bytes behind exactly. */
  binlogSizes?: Map<string, number>;
  /** @@pid_file, for the monitor's "is mysqld running" check over SSH. */
  pidFile?: string;
  /** How long reading this server took. */
  durationMs?: number;
}

/** Something more to read on a server's session after its state (binlog sizes, pid file, …). */
export type ExtraRead = (session: ServerSession, state: ServerState, server: ServerConfig) => Promise<Partial<ServerObservation>>;

export interface SurveyOptions {
  /** Default: every configured server. */
  servers?: ServerConfig[];
  /** Connect options, or a function of the server (the dead master may get a shorter timeout). */
  connect?: MysqlConnectOptions | ((server: ServerConfig) => MysqlConnectOptions);
  extra?: ExtraRead;
  /** Resolves a hostname to its addresses (check-repl: so a Master_Host given as an address matches). */
  resolve?: (hostname: string) => Promise<string[]>;
}

/** Read one server: its state (and the extra reads), or why it could not be read. */
export async function observeServer(clients: Pick<Clients, 'mysql'>, server: ServerConfig, opts: Omit<SurveyOptions, 'servers'> = {}): Promise<ServerObservation> {
  const t0 = Date.now();
  const addressesP = opts.resolve?.(server.hostname).catch(() => []);
  let session: ServerSession | undefined;
  try {
    session = await clients.mysql(server, typeof opts.connect === 'function' ? opts.connect(server) : opts.connect);
    const state = await readServerState(session);
    const more = opts.extra ? await opts.extra(session, state, server) : {};
    return { server, state, ...more, addresses: await addressesP, durationMs: Date.now() - t0 };
  } catch (err) {
    return { server, error: (err as Error).message, addresses: await addressesP, durationMs: Date.now() - t0 };
  } finally {
    await session?.close().catch(() => undefined);
  }
}

/** Read every server once, in parallel; a server that does not answer is an observation with an error. */
export async function surveyServers(config: AppConfig, clients: Pick<Clients, 'mysql'>, opts: SurveyOptions = {}): Promise<ServerObservation[]> {
  return Promise.all((opts.servers ?? config.servers).map((server) => observeServer(clients, server, opts)));
}

/**
 * The slave-of rule: does a slave's Master_Host:Master_Port name this configured server? The port
 * must match and the host must be the server's hostname, its ip or an address its hostname
 * resolves to (case-insensitive).
 */
export function namesServer(ss: Pick<SlaveStatus, 'masterHost' | 'masterPort'>, server: ServerConfig, addresses: string[] = []): boolean {
  if (ss.masterPort !== server.port) return false;
  const h = ss.masterHost.toLowerCase();
  return [server.hostname, server.ip, ...addresses].some((x) => x.toLowerCase() === h);
}

/**
 * Which observed server a slave replicates from: by Master_Host:Master_Port; when that names no
 * configured server (a VIP, a DNS alias), by Master_Server_Id among the servers that answered.
 */
export function masterOf<O extends ServerObservation>(ss: SlaveStatus, observations: O[], self?: O): O | undefined {
  const byAddress = observations.find((o) => o !== self && namesServer(ss, o.server, o.addresses));
  if (byAddress) return byAddress;
  if (ss.masterServerId === null || ss.masterServerId === undefined) return undefined;
  return observations.find((o) => o !== self && o.state?.serverId === ss.masterServerId);
}

/** Does this slave replicate from that server (the slave-of rule, with the server_id fallback)? */
export function isSlaveOf(slave: ServerObservation, master: ServerObservation, observations: ServerObservation[]): boolean {
  const ss = slave.state?.slaveStatus;
  return !!ss && masterOf(ss, observations, slave) === master;
}

export type FailoverMode = 'gtid' | 'file-position';

export type FailoverModeDecision = { mode: FailoverMode; reason: string } | { mode?: undefined; mixed: { gtid: string[]; position: string[] }; reason: string };

/**
 * The failover-mode rule (MHA's): GTID when every slave replicates with GTID auto-position and
 * use_gtid_auto_pos is on for every server; file/position when none does, or when
 * use_gtid_auto_pos=0 (every slave is then repointed by file and position, whatever it uses
 * now). Slaves that mix the two with use_gtid_auto_pos on cannot be repointed consistently.
 */
export function failoverMode(slaves: { id: string; usesGtid: boolean }[], useGtidAutoPos: boolean): FailoverModeDecision {
  const gtid = slaves.filter((s) => s.usesGtid).map((s) => s.id);
  const position = slaves.filter((s) => !s.usesGtid).map((s) => s.id);
  if (!useGtidAutoPos) return { mode: 'file-position', reason: 'use_gtid_auto_pos=0: slaves are repointed by file and position' };
  if (position.length === 0 && gtid.length > 0) return { mode: 'gtid', reason: 'every slave uses GTID auto-position' };
  if (gtid.length === 0) return { mode: 'file-position', reason: 'no slave uses GTID auto-position' };
  return { mixed: { gtid, position }, reason: `some slaves replicate with GTID auto-position (${gtid.join(', ')}) and some by file/position (${position.join(', ')})` };
}

/** use_gtid_auto_pos as the failover applies it: on only when every server block has it on. */
export function useGtidAutoPos(config: AppConfig): boolean {
  return config.servers.every((s) => s.useGtidAutoPos);
}
