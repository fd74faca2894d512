// What every failover phase receives: the configuration, injected clients (so phases are tested
// with fakes and run for real against the lab), the log, and the deadlines. Phases are plain
// functions of this context and of the previous phases' typed results (the Vitess
// emergency-reparenter model); nothing is kept in globals.
import type { AppConfig, ServerConfig } from '../config/types.js';
import type { ManagerLog } from '../core/log.js';
import type { ServerState } from '../mysql/types.js';
import type { Clients } from '../core/clients.js';
import type { MessageCode } from '../core/codes.js';

export interface FailoverTimeouts {
  /** A remote command (reading an index, applying a diff, …). */
  remoteCommandMs: number;
  /** A hook script. */
  hookMs: number;
  /** Waiting for a slave's SQL thread to execute its relay logs. */
  sqlThreadMs: number;
  /** Waiting for a repointed slave's threads to run. */
  slaveStartMs: number;
  /** Applying one diff on one server. */
  applyMs: number;
}

export const DEFAULT_TIMEOUTS: FailoverTimeouts = {
  remoteCommandMs: 30_000,
  hookMs: 60_000,
  sqlThreadMs: 60_000,
  slaveStartMs: 30_000,
  applyMs: 600_000,
};

export interface FailoverOptions {
  /** Candidate chosen by the DBA (ha switch --new-master); undefined: MHA's rules decide. */
  newMasterId?: string;
  /** The master the monitor declared dead (or the DBA named). */
  deadMasterId: string;
  /** Where the manager keeps its files (saved binlogs, diffs). */
  workdir: string;
  /** The dead master's last state seen by the monitor (its binlog basename, version, GTIDs). */
  deadMasterLastState?: import('../mysql/types.js').ServerState;
  /**
   * The monitor found the dead master's host unreachable over SSH at this time (Date.now()).
   * Phase 1 then does not wait for another SSH timeout (MHA does the same): the host was asked
   * moments ago, with the same timeout.
   */
  deadMasterSshFailedAt?: number;
}

export interface FailoverContext {
  config: AppConfig;
  clients: Clients;
  log: ManagerLog;
  timeouts: FailoverTimeouts;
  options: FailoverOptions;
  /** Set by SIGTERM: phases finish the step in progress, then stop with a precise error. */
  abort: { requested: boolean; reason?: string };
  /** When the master was found dead (for the report's "total time from detection"). */
  detectedAt: number;
  /** Every change made to a server, in order: what a failed failover leaves behind is exactly this. */
  changes: { at: string; server: string; change: string }[];
}

export function recordChange(ctx: FailoverContext, server: string, change: string): void {
  ctx.changes.push({ at: new Date().toISOString(), server, change });
}

export type FailoverPhaseName = '1 Configuration check' | '2 Dead master shutdown' | '3 Master recovery' | '4 Slaves recovery' | '5 New master cleanup' | '6 Report';

/** A failover that cannot go on: which phase, which server, what, and what was already changed. */
export class FailoverError extends Error {
  readonly phase: string;
  readonly code: MessageCode;
  readonly server?: string;
  constructor(phase: string, code: MessageCode, message: string, server?: string) {
    super(message);
    this.name = 'FailoverError';
    this.phase = phase;
    this.code = code;
    this.server = server;
  }
}

/** A server as phases see it: its configuration and the state read in phase 1. */
export interface ServerView {
  server: ServerConfig;
  state: ServerState;
}

export function checkAbort(ctx: FailoverContext, phase: string): void {
  if (ctx.abort.requested) {
    throw new FailoverError(phase, 'ABORTED', `stopped on request (${ctx.abort.reason ?? 'SIGTERM'}) after the step in progress; nothing further was changed`);
  }
}
