// Stable finding codes of `ha purge-relay-logs` (kept apart from src/report/codes.ts so the
// command is self-contained); --json consumers match on them: never rename one.
export const PurgeCode = {
  PURGED: 'RELAY_LOGS_PURGED',
  WOULD_PURGE: 'RELAY_LOGS_WOULD_PURGE',
  CLEAN: 'RELAY_LOGS_CLEAN',
  NOT_A_SLAVE: 'PURGE_NOT_A_SLAVE',
  SELF_PURGING: 'RELAY_LOG_PURGE_ON',
  STILL_NEEDED: 'RELAY_LOGS_STILL_NEEDED',
  SKIPPED: 'PURGE_SKIPPED',
  FAILED: 'PURGE_FAILED',
  USAGE: 'USAGE',
} as const;
