// The manager's log: one line per step, with a timestamp, for a DBA reading it at 3 a.m.
// (human, coloured on a terminal), or one JSON object per line for machines (--log-format json).
// Every line has a stable code, like the check commands' findings.
// On a terminal the failover phase in progress is also shown as a status line redrawn in place
// ("Phase 3 Master recovery … 0.4 s"); in a file or a pipe (nohup) the lines are plain, as always.
// With a log file (manager_log) the lines go only there, as MHA's Log::Dispatch::File, while the
// status line stays on the terminal. log_level drops lines below it, as MHA's min_level.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { Chalk, type ChalkInstance } from 'chalk';
import type { LogLevel as ConfigLogLevel } from '../config/types.js';
import { isLiveTerminal, LiveLine } from './live-line.js';
import type { MessageCode } from './codes.js';
import { formatDuration } from './reporter.js';

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

export interface LogEntry {
  time: string;
  level: LogLevel;
  code: MessageCode;
  message: string;
  phase?: string;
  server?: string;
  durationMs?: number;
  data?: Record<string, unknown>;
}

/**
 * Which of ha's levels a config log_level (MHA's Log::Dispatch min_level) lets through. ha has no
 * "notice" lines: notice keeps warnings and errors, as it drops MHA's info lines.
 */
export function levelPasses(level: LogLevel, min: ConfigLogLevel): boolean {
  const rank: Record<ConfigLogLevel, number> = { debug: 0, info: 1, notice: 2, warning: 3, error: 4 };
  return rank[level] >= rank[min];
}

export interface ManagerLogOptions {
  format: 'human' | 'json';
  out?: NodeJS.WritableStream;
  /**
   * Append the log to this file (manager_log; created 0640, its directory if missing) instead of
   * `out`. The status line, if any, is still drawn on `terminal`.
   */
  file?: string;
  /** Where the status line goes when `file` is set (default process.stdout). */
  terminal?: NodeJS.WritableStream;
  /** log_level: lines below it are not written (default info; debug also turns on debug lines). */
  minLevel?: ConfigLogLevel;
  color?: boolean;
  debug?: boolean;
  /** Status line for the phase in progress; default: human format on a terminal (not TERM=dumb). */
  live?: boolean;
  /** How often the status line's elapsed time is redrawn (default 100 ms). */
  liveIntervalMs?: number;
}

export class ManagerLog {
  readonly entries: LogEntry[] = [];
  private readonly out: NodeJS.WritableStream;
  private readonly format: 'human' | 'json';
  private readonly c: ChalkInstance;
  private readonly minLevel: ConfigLogLevel;
  private readonly live: LiveLine | undefined;
  /** manager_log, opened for appending; lines are written synchronously so a crash loses none. */
  private fd: number | undefined;
  readonly file: string | undefined;
  /** The phase lines are attributed to (set by phase()). */
  currentPhase: string | undefined;

  constructor(opts: ManagerLogOptions) {
    this.out = opts.out ?? process.stdout;
    this.format = opts.format;
    this.file = opts.file;
    if (opts.file) {
      mkdirSync(dirname(opts.file), { recursive: true });
      // 'a': appended to, as MHA (mode => 'append'); 0640 applies only when the file is created.
      this.fd = openSync(opts.file, 'a', 0o640);
    }
    // A file is never coloured unless asked; the terminal decides for itself otherwise.
    const tty = !opts.file && (this.out as NodeJS.WriteStream).isTTY === true;
    this.c = new Chalk({ level: (opts.color ?? (tty && !process.env.NO_COLOR)) ? 1 : 0 });
    this.minLevel = opts.debug ? 'debug' : (opts.minLevel ?? 'info');
    const screen = opts.file ? (opts.terminal ?? process.stdout) : this.out;
    if (this.format === 'human' && (opts.live ?? isLiveTerminal(screen))) {
      const paint = opts.file ? new Chalk({ level: opts.color === false || process.env.NO_COLOR ? 0 : 1 }).cyan : this.c.cyan;
      this.live = new LiveLine(screen, { intervalMs: opts.liveIntervalMs, paint });
    }
  }

  /** Finished text: to the log file, else above the status line when there is one. */
  private write(text: string): void {
    if (this.fd !== undefined) writeSync(this.fd, text);
    else if (this.live) this.live.print(text);
    else this.out.write(text);
  }

  /** Shows what is in progress on the status line (terminal only), e.g. "Monitoring master server1". */
  status(label: string): void {
    this.live?.start(label);
  }

  /** Removes the status line (the manager calls it before it exits). */
  close(): void {
    this.live?.stop();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  log(level: LogLevel, code: MessageCode, message: string, extra: Partial<LogEntry> = {}): void {
    if (!levelPasses(level, this.minLevel)) return;
    const entry: LogEntry = { time: new Date().toISOString(), level, code, message, phase: this.currentPhase, ...extra };
    this.entries.push(entry);
    if (this.format === 'json') {
      this.write(`${JSON.stringify(entry)}\n`);
      return;
    }
    const paint = { debug: this.c.dim, info: (s: string) => s, warning: this.c.yellow, error: this.c.red }[level];
    const tag = level === 'info' || level === 'debug' ? '' : `${level.toUpperCase()}: `;
    const server = extra.server ? `${this.c.bold(extra.server)} ` : '';
    const took = extra.durationMs !== undefined ? this.c.dim(` (${formatDuration(extra.durationMs)})`) : '';
    this.write(`${this.c.dim(entry.time.replace('T', ' ').replace('Z', ''))} ${paint(`${tag}${server}${message}`)}${took}\n`);
  }

  info(code: MessageCode, message: string, extra?: Partial<LogEntry>): void {
    this.log('info', code, message, extra);
  }
  warn(code: MessageCode, message: string, extra?: Partial<LogEntry>): void {
    this.log('warning', code, message, extra);
  }
  error(code: MessageCode, message: string, extra?: Partial<LogEntry>): void {
    this.log('error', code, message, extra);
  }
  debug(code: MessageCode, message: string, extra?: Partial<LogEntry>): void {
    this.log('debug', code, message, extra);
  }

  /** A phase heading (human: a bold line, as MHA's "* Phase 3: Master Recovery Phase.."). */
  phaseStart(name: string): void {
    this.currentPhase = name;
    // The status line shows the phase whatever log_level drops from the log.
    if (!levelPasses('info', this.minLevel)) {
      this.live?.start(`Phase ${name}`);
      return;
    }
    if (this.format === 'human') {
      this.live?.stop();
      this.write(`\n${this.c.bold(`* Phase ${name}`)}\n`);
      this.live?.start(`Phase ${name}`);
    }
    this.entries.push({ time: new Date().toISOString(), level: 'info', code: 'PHASE_START', message: `Phase ${name}`, phase: name });
    if (this.format === 'json') this.write(`${JSON.stringify(this.entries.at(-1))}\n`);
  }

  phaseEnd(name: string, ok: boolean, durationMs: number): void {
    this.live?.stop();
    this.log(ok ? 'info' : 'error', ok ? 'PHASE_END' : 'PHASE_FAILED', `Phase ${name} ${ok ? 'completed' : 'FAILED'}`, { durationMs, phase: name });
  }
}
