// The codes of `ha purge-relay-logs`, by outcome (the codes themselves are in src/core/codes.ts).
import { Code } from '../core/codes.js';

export const PurgeCode = {
  PURGED: Code.RELAY_LOGS_PURGED,
  WOULD_PURGE: Code.RELAY_LOGS_WOULD_PURGE,
  CLEAN: Code.RELAY_LOGS_CLEAN,
  NOT_A_SLAVE: Code.PURGE_NOT_A_SLAVE,
  SELF_PURGING: Code.RELAY_LOG_PURGE_ON,
  STILL_NEEDED: Code.RELAY_LOGS_STILL_NEEDED,
  SKIPPED: Code.PURGE_SKIPPED,
  FAILED: Code.PURGE_FAILED,
  USAGE: Code.USAGE,
} as const;
