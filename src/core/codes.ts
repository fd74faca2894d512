// The registry of message codes: every line ha logs and every finding it reports carries one of
// these, in human and JSON output alike (ManagerLog and Reporter accept only a MessageCode, so a
// code cannot drift or be misspelt: the compiler refuses it). --json consumers match on codes:
// never rename one; add new ones. The meaning is for docs and for readers of a JSON log.
const REGISTRY = {
  // Configuration
  CONFIG_NOTICE: 'a note about the configuration (a default applied, a parameter MHA ignores)',
  CONFIG_WARNING: 'a configuration value that works but is probably not what was meant',
  CONFIG_INVALID: 'the configuration cannot be used (file, block and parameter named)',
  CONF_UPDATED: '--remove-dead-master-conf: the dead master block was removed from the config',
  CONF_NOT_UPDATED: '--remove-dead-master-conf: the block was kept, and why',
  USAGE: 'a command-line usage error',

  // SSH and the hosts
  SSH_OK: 'SSH to a host works',
  SSH_FAILED: 'SSH to a host failed',
  SSH_SKIPPED: 'SSH not checked (skip_init_ssh_check=1)',
  SSH_COMMAND_FAILED: 'a command over SSH failed',
  BINLOG_TOOL_MISSING: 'neither mysqlbinlog nor mariadb-binlog on a host',
  REMOTE_WORKDIR_NOT_WRITABLE: 'remote_workdir is not writable on a host',
  BINLOG_READ_OK: 'binlogs or relay logs readable over SSH',
  BINLOG_READ_FAILED: 'binlogs or relay logs not readable over SSH',
  BINLOG_READ_SKIPPED: 'binlog read check skipped',

  // The topology (check-repl, the manager's start-up check)
  MYSQL_OK: 'a server answers over MySQL',
  SERVER_DOWN: 'a server does not answer',
  NO_MASTER: 'no writable master found',
  SEVERAL_MASTERS: 'more than one writable master',
  MASTER_READ_ONLY: 'the master has read_only=1',
  MASTER_FOUND: 'the master',
  SLAVE_OK: 'a slave replicating with both threads running',
  SLAVE_OF_UNKNOWN_MASTER: 'a slave replicating from a server not in the config',
  MULTI_TIER_SLAVE: 'a slave of a slave (needs multi_tier_slave=1)',
  IO_THREAD_STOPPED: "a slave's IO thread is not running",
  SQL_THREAD_STOPPED: "a slave's SQL thread is not running",
  DUPLICATE_SERVER_ID: 'two servers share a server_id',
  LOG_BIN_OFF: 'log_bin is off on a server that could be promoted',
  FILTERS_DIFFER: 'replication filters differ between slaves',
  MASTER_BINLOG_NOT_FOUND: "the master's binlog is not readable over SSH",
  MASTER_BINLOG_OK: "the master's binlog is readable over SSH",
  GTID_MIXED: 'slaves mix GTID auto-position and file/position replication',
  GTID_ERRANT: 'a slave has transactions the master does not',
  GTID_MODE_DIFFERS: 'gtid_mode differs between servers',
  GTID_MASTER_LACKS_GTID: 'slaves use auto-position but the master has no GTIDs',
  SLAVE_READ_WRITE: 'a slave has read_only=0',
  RELAY_LOG_PURGE_ON: 'relay_log_purge=1 on a slave (relay logs a failover needs may be deleted)',
  REPL_DELAY: 'a slave is further behind than the limit',
  BINLOG_FORMAT_DIFFERS: 'binlog_format differs between servers',
  FAILOVER_MODE: 'the failover mode: GTID or file/position',
  CANDIDATE: 'the slave a failover would promote; also: the failover completed',
  NO_CANDIDATE: 'no slave can be promoted',
  NOT_CANDIDATE: 'a slave that cannot be promoted, and why',

  // Hooks
  HOOK_MISSING: 'a configured hook script does not exist',
  HOOK_NOT_EXECUTABLE: 'a configured hook script is not executable',
  HOOK_OK: 'a hook script is usable, or ran with exit 0',
  HOOK_STATUS_OK: 'master_ip_failover_script --command=status succeeded',
  HOOK_STATUS_FAILED: 'master_ip_failover_script --command=status failed',
  HOOK_RUN: 'a hook script is run (its arguments, never a password)',
  HOOK_OUTPUT: "a hook script's output",
  HOOK_PROCEED: 'a hook script exited 10: going on, as MHA does',
  HOOK_FAILED: 'a hook script failed',
  HOOK_NOT_SET: 'a hook that is not configured is skipped',
  REPORT_SCRIPT: 'report_script ran',
  REPORT_SCRIPT_FAILED: 'report_script failed (never fatal)',

  // The manager
  START: 'the manager starts',
  LOG_FILE: 'the manager logs to manager_log',
  EXIT: 'the manager exits (with its exit code)',
  ALREADY_RUNNING: 'another manager runs for this application',
  STARTUP_CHECK_FAILED: 'the start-up check found errors: not monitoring',
  STARTUP_SSH_FAILED: 'a host is unreachable over SSH at start-up: not monitoring',
  MONITORING: 'monitoring the master',
  PING_OK: 'the master answers pings again',
  PING_FAILED: 'a ping of the master failed',
  PING_ALIVE_ERROR: 'the master answered with an error that proves it is up',
  PING_SESSION_LOST: "the monitor's session to the master was closed",
  EVIDENCE: 'evidence gathered to confirm or refute the master death',
  NOT_DEAD: 'the master is not dead after all: monitoring goes on',
  MASTER_DEAD: 'the master is dead',
  SIGNAL: 'a stop was requested (SIGTERM, SIGINT)',
  STOPPED: 'monitoring stopped on request',
  FAILOVER_REFUSED: 'a failover was refused (an earlier failover error, last_failover_minute)',
  FAILOVER_REPORT: 'the whole failover report, as data',

  // The failover (phases 1-6)
  PHASE_START: 'a failover phase starts',
  PHASE_END: 'a failover phase completed',
  PHASE_FAILED: 'a failover phase failed',
  PHASE_3_1: 'phase 3.1: getting the latest slaves',
  PHASE_3_2: "phase 3.2: saving the dead master's binlog",
  PHASE_3_3: 'phase 3.3: determining the new master',
  PHASE_3_4: 'phase 3.4/3.5: new master diff generation and apply',
  UNKNOWN_MASTER: 'the dead master is not a server in the config',
  MASTER_ALIVE: 'the master answers again: no failover',
  NOT_A_SLAVE_OF_MASTER: 'a server that does not replicate from the dead master is left out',
  NOT_A_SLAVE: 'a server is no longer a slave',
  NO_SLAVES: 'no alive slave of the dead master',
  NO_REPL_PASSWORD: 'repl_password is not set',
  SLAVE_STATE: "a slave's positions once its IO thread stopped",
  DEAD_MASTER_SSH: "whether the dead master's host answers over SSH",
  LATEST: 'the latest slave(s)',
  LATEST_SSH: 'the latest slave is not reachable over SSH',
  BINLOG_SAVED: "the dead master's binlog tail was saved",
  BINLOG_NOT_SAVED: "the dead master's binlog could not be saved, and why",
  BINLOG_NOT_FOUND: "the dead master's binlog was not found",
  NO_BINLOG: 'no binlog to save',
  NEW_MASTER: 'the new master, and why it was chosen',
  NEW_MASTER_UNFIT: 'the chosen new master cannot be promoted',
  NEW_MASTER_UNAVAILABLE: 'the new master does not answer',
  CANDIDATE_SSH: 'the candidate is not reachable over SSH',
  SQL_THREAD_WAIT: "waiting for a slave's SQL thread to execute its relay logs",
  POSITIONS: "a slave's final read and exec positions",
  RELAY_MAPPED: 'a master coordinate mapped into relay logs',
  DIFF_WRITTEN: 'a diff of the events a server lacks was written',
  DIFF_DROPPED: 'events left out of a diff, and why',
  DIFF_APPLIED: 'a diff was applied on a server',
  NOTHING_TO_APPLY: 'a server lacks nothing',
  FINAL_COORDINATES: "the old master's final binlog coordinates once writes are blocked",
  NEW_MASTER_COORDINATES: "the new master's binlog coordinates at promotion",
  NEW_MASTER_WRITABLE: 'read_only=0 on the new master: it takes writes',
  NO_OTHER_SLAVES: 'no other slave to repoint',
  CHANGE_MASTER: 'a slave was pointed at the new master (the statement, password redacted)',
  GTID_SLAVE_POS: 'MariaDB gtid_slave_pos merged before repointing',
  SLAVE_RECOVERED: 'a slave replicates from the new master',
  SLAVE_RECOVERY_FAILED: 'a slave could not be recovered',
  RESET_SLAVE: 'RESET SLAVE ALL on the new master',
  RESET_SLAVE_FAILED: 'RESET SLAVE ALL failed on a new master that already takes writes: it keeps stopped, stale slave settings',
  SKIP_RESET_SLAVE: 'skip_reset_slave=1: the new master keeps its slave settings',
  REPORT: 'a line of the failover report',
  ABORTED: 'the failover stopped on request after the step in progress',
  UNEXPECTED: 'an unexpected error stopped the failover',

  // The online switch
  SWITCH_CHECKS_OK: 'every check before the switch passed',
  SWITCH_CHECK_FAILED: 'a check before the switch failed',
  SWITCH_REFUSED: 'the switch was refused: nothing was changed',
  SWITCH_STEP: 'a step of the switch and how long it took',
  SWITCH_ROLLBACK: 'the switch failed: rolling back',
  SWITCH_ROLLED_BACK: 'rolled back: the old master takes writes again',
  SWITCH_ROLLBACK_FAILED: 'the switch failed and the old master could not be made writable again: no server takes writes',
  SWITCH_FAILED: 'the switch failed',
  SWITCH_DONE: 'the switch completed',

  // purge-relay-logs
  RELAY_LOGS_PURGED: 'relay logs purged',
  RELAY_LOGS_WOULD_PURGE: '--dry-run: relay logs that would be purged',
  RELAY_LOGS_CLEAN: 'nothing to purge',
  PURGE_NOT_A_SLAVE: 'not a slave: nothing to purge',
  RELAY_LOGS_STILL_NEEDED: 'relay logs kept: another slave still needs them',
  PURGE_SKIPPED: 'a slave was skipped',
  PURGE_FAILED: 'a slave could not be purged',
} as const satisfies Record<string, string>;

export type MessageCode = keyof typeof REGISTRY;

/** Code.X is the code "X" (typed), for call sites that prefer a constant to a string literal. */
export const Code = Object.fromEntries(Object.keys(REGISTRY).map((k) => [k, k])) as { readonly [K in MessageCode]: K };
export type CodeValue = MessageCode;

/** What a code means (docs, `--json` readers). */
export function codeMeaning(code: MessageCode): string {
  return REGISTRY[code];
}

export function isMessageCode(code: string): code is MessageCode {
  return Object.hasOwn(REGISTRY, code);
}

export const ALL_CODES = Object.keys(REGISTRY) as MessageCode[];
