// The manager's log (also the switches' and the failover's): the stream presentation of the one
// report (src/core/report.ts) — timestamped lines for a DBA at 3 a.m. or one JSON object per line
// (--log-format json), a phase heading, a status line on a terminal, manager_log and log_level.
import { Report } from './report.js';

export { levelPasses, type LogEntry, type LogLevel } from './report.js';

export interface ManagerLogOptions {
  format: 'human' | 'json';
  out?: NodeJS.WritableStream;
  /** Append the log to this file (manager_log; created 0640, its directory if missing) instead of `out`. */
  file?: string;
  /** Where the status line goes when `file` is set (default process.stdout). */
  terminal?: NodeJS.WritableStream;
  /** log_level: lines below it are not written (default info; debug also turns on debug lines). */
  minLevel?: import('../config/types.js').LogLevel;
  color?: boolean;
  debug?: boolean;
  /** Status line for the phase in progress; default: human format on a terminal (not TERM=dumb). */
  live?: boolean;
  /** How often the status line's elapsed time is redrawn (default 100 ms). */
  liveIntervalMs?: number;
}

export class ManagerLog extends Report {
  constructor(opts: ManagerLogOptions) {
    super({ ...opts, style: 'stream' });
  }
}
