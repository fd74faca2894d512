// One report for every command (the Yarn Berry model): each line has a registered code
// (src/core/codes.ts), a level, a message and optional server, phase, duration and data; the same
// calls produce human and JSON output. Two presentations of the same entries:
//   - 'stream' (the manager, the switches, the failover: a log read at 3 a.m. or followed by a
//     program): one timestamped line per entry as it happens, or one JSON object per line; a
//     phase heading; on a terminal a status line redrawn in place ("Phase 3 Master recovery …
//     0.4 s"); optionally appended to manager_log instead (created 0640, written synchronously so
//     a crash loses no line); log_level drops lines below it, as MHA's min_level.
//   - 'document' (check-ssh, check-repl, purge-relay-logs: a verdict): marked lines (✔ • ! ✖) as
//     they happen, or with --json one document at the end holding every finding.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { Chalk, type ChalkInstance } from 'chalk';
import type { LogLevel as ConfigLogLevel } from '../config/types.js';
import type { MessageCode } from './codes.js';
import { isLiveTerminal, LiveLine } from './live-line.js';

/** ok is a passed check; in a stream it is an info line. */
export type Level = 'debug' | 'ok' | 'info' | 'warning' | 'error';
export type LogLevel = Exclude<Level, 'ok'>;
export type Severity = Exclude<Level, 'debug'>;

/** What a line says, without when. */
export interface Finding {
  /** Stable identifier scripts can match on (src/core/codes.ts). */
  code: MessageCode;
  severity: Severity;
  message: string;
  /** The server block (server1…) the line is about, when it is about one. */
  server?: string;
  phase?: string;
  durationMs?: number;
  data?: Record<string, unknown>;
}

/** A line of a stream, as written in JSON (level, not severity: ok is written as info). */
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

export interface ReportOptions {
  style: 'stream' | 'document';
  format: 'human' | 'json';
  out?: NodeJS.WritableStream;
  /** stream: append to this file (manager_log) instead of `out`; the status line stays on `terminal`. */
  file?: string;
  /** Where the status line goes when `file` is set (default process.stdout). */
  terminal?: NodeJS.WritableStream;
  /** stream: log_level (default info; debug also turns on debug lines). */
  minLevel?: ConfigLogLevel;
  /** undefined: colour when the output is a terminal and NO_COLOR is unset. */
  color?: boolean;
  debug?: boolean;
  /** stream: status line for the step in progress; default: human format on a terminal (not TERM=dumb). */
  live?: boolean;
  /** How often the status line's elapsed time is redrawn (default 100 ms). */
  liveIntervalMs?: number;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/**
 * Which of ha's levels a config log_level (MHA's Log::Dispatch min_level) lets through. ha has no
 * "notice" lines: notice keeps warnings and errors, as it drops MHA's info lines.
 */
export function levelPasses(level: LogLevel, min: ConfigLogLevel): boolean {
  const rank: Record<ConfigLogLevel, number> = { debug: 0, info: 1, notice: 2, warning: 3, error: 4 };
  return rank[level] >= rank[min];
}

const MARK: Record<Severity, string> = { ok: '✔', info: '•', warning: '!', error: '✖' };

export class Report {
  readonly style: 'stream' | 'document';
  readonly json: boolean;
  /** Every finding reported, in order (a document's --json body; counts). */
  readonly findings: Finding[] = [];
  /** Every stream line written (what passed log_level), in order. */
  readonly entries: LogEntry[] = [];
  readonly c: ChalkInstance;
  readonly file: string | undefined;
  /** The phase lines are attributed to (set by phaseStart). */
  currentPhase: string | undefined;
  private readonly out: NodeJS.WritableStream;
  private readonly minLevel: ConfigLogLevel;
  private readonly live: LiveLine | undefined;
  /** manager_log, opened for appending; lines are written synchronously so a crash loses none. */
  private fd: number | undefined;

  constructor(opts: ReportOptions) {
    this.style = opts.style;
    this.json = opts.format === 'json';
    this.out = opts.out ?? process.stdout;
    this.file = opts.style === 'stream' ? opts.file : undefined;
    if (this.file) {
      mkdirSync(dirname(this.file), { recursive: true });
      // 'a': appended to, as MHA (mode => 'append'); 0640 applies only when the file is created.
      this.fd = openSync(this.file, 'a', 0o640);
    }
    // A file is never coloured unless asked; the terminal decides for itself otherwise.
    const tty = !this.file && (this.out as NodeJS.WriteStream).isTTY === true;
    this.c = new Chalk({ level: (opts.color ?? (tty && !process.env.NO_COLOR)) ? 1 : 0 });
    this.minLevel = opts.debug ? 'debug' : (opts.minLevel ?? 'info');
    const screen = this.file ? (opts.terminal ?? process.stdout) : this.out;
    if (this.style === 'stream' && !this.json && (opts.live ?? isLiveTerminal(screen))) {
      const paint = this.file ? new Chalk({ level: opts.color === false || process.env.NO_COLOR ? 0 : 1 }).cyan : this.c.cyan;
      this.live = new LiveLine(screen, { intervalMs: opts.liveIntervalMs, paint });
    }
  }

  /** Finished text: to the log file, else above the status line when there is one. */
  private write(text: string): void {
    if (this.fd !== undefined) writeSync(this.fd, text);
    else if (this.live) this.live.print(text);
    else this.out.write(text);
  }

  /** The one entry point: every line of every command comes through here. */
  report(f: Finding): void {
    this.findings.push(f);
    if (this.style === 'document') {
      if (this.json) return;
      const paint = { ok: this.c.green, info: this.c.cyan, warning: this.c.yellow, error: this.c.red }[f.severity];
      const server = f.server ? `${this.c.bold(f.server)} ` : '';
      const took = f.durationMs !== undefined ? this.c.dim(` (${formatDuration(f.durationMs)})`) : '';
      const code = f.severity === 'ok' || f.severity === 'info' ? '' : this.c.dim(` [${f.code}]`);
      this.out.write(`  ${paint(MARK[f.severity])} ${server}${f.message}${took}${code}\n`);
      return;
    }
    this.line(f.severity === 'ok' ? 'info' : f.severity, f);
  }

  private line(level: LogLevel, f: Omit<Finding, 'severity'>): void {
    if (!levelPasses(level, this.minLevel)) return;
    const entry: LogEntry = {
      time: new Date().toISOString(),
      level,
      code: f.code,
      message: f.message,
      phase: f.phase ?? this.currentPhase,
      server: f.server,
      durationMs: f.durationMs,
      data: f.data,
    };
    for (const k of ['phase', 'server', 'durationMs', 'data'] as const) if (entry[k] === undefined) delete entry[k];
    this.entries.push(entry);
    if (this.json) {
      this.write(`${JSON.stringify(entry)}\n`);
      return;
    }
    const paint = { debug: this.c.dim, info: (s: string) => s, warning: this.c.yellow, error: this.c.red }[level];
    const tag = level === 'info' || level === 'debug' ? '' : `${level.toUpperCase()}: `;
    const server = f.server ? `${this.c.bold(f.server)} ` : '';
    const took = f.durationMs !== undefined ? this.c.dim(` (${formatDuration(f.durationMs)})`) : '';
    this.write(`${this.c.dim(entry.time.replace('T', ' ').replace('Z', ''))} ${paint(`${tag}${server}${f.message}`)}${took}\n`);
  }

  log(level: Level, code: MessageCode, message: string, extra: Partial<Omit<Finding, 'code' | 'message' | 'severity'>> = {}): void {
    if (level === 'debug') {
      // A debug line is never a finding of a document.
      if (this.style === 'stream') this.line('debug', { code, message, ...extra });
      return;
    }
    this.report({ code, severity: level, message, ...extra });
  }
  ok(code: MessageCode, message: string, extra?: Partial<Finding>): void {
    this.log('ok', code, message, extra);
  }
  info(code: MessageCode, message: string, extra?: Partial<Finding>): void {
    this.log('info', code, message, extra);
  }
  warn(code: MessageCode, message: string, extra?: Partial<Finding>): void {
    this.log('warning', code, message, extra);
  }
  error(code: MessageCode, message: string, extra?: Partial<Finding>): void {
    this.log('error', code, message, extra);
  }
  debug(code: MessageCode, message: string, extra?: Partial<Finding>): void {
    this.log('debug', code, message, extra);
  }

  /** Human-only text (headings, the topology tree); --json carries the same facts as data. */
  heading(text: string): void {
    if (!this.json) this.write(`\n${this.c.bold(text)}\n`);
  }
  text(text: string): void {
    if (!this.json) this.write(`${text}\n`);
  }

  count(severity: Severity): number {
    return this.findings.filter((f) => f.severity === severity).length;
  }

  /** Shows what is in progress on the status line (terminal only), e.g. "Monitoring master server1". */
  status(label: string): void {
    this.live?.start(label);
  }

  /** A phase heading (human: a bold line, as MHA's "* Phase 3: Master Recovery Phase.."). */
  phaseStart(name: string): void {
    this.currentPhase = name;
    // The status line shows the phase whatever log_level drops from the log.
    if (!levelPasses('info', this.minLevel)) {
      this.live?.start(`Phase ${name}`);
      return;
    }
    if (!this.json) {
      this.live?.stop();
      this.write(`\n${this.c.bold(`* Phase ${name}`)}\n`);
      this.live?.start(`Phase ${name}`);
    }
    const entry: LogEntry = { time: new Date().toISOString(), level: 'info', code: 'PHASE_START', message: `Phase ${name}`, phase: name };
    this.entries.push(entry);
    if (this.json) this.write(`${JSON.stringify(entry)}\n`);
  }

  phaseEnd(name: string, ok: boolean, durationMs: number): void {
    this.live?.stop();
    this.log(ok ? 'info' : 'error', ok ? 'PHASE_END' : 'PHASE_FAILED', `Phase ${name} ${ok ? 'completed' : 'FAILED'}`, { durationMs, phase: name });
  }

  /** A document's closing: the summary line (human) or the whole document (json). */
  finish(summary: { command: string; ok: boolean; exitCode: number; durationMs: number; message: string; [k: string]: unknown }): void {
    if (this.json) {
      this.out.write(`${JSON.stringify({ ...summary, findings: this.findings }, null, 2)}\n`);
      return;
    }
    const errors = this.count('error');
    const warnings = this.count('warning');
    const counts = `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
    const line = `${summary.message} — ${counts}, ${formatDuration(summary.durationMs)}`;
    this.out.write(`\n${summary.ok ? this.c.green.bold(line) : this.c.red.bold(line)}\n`);
  }

  /** Removes the status line and closes manager_log (idempotent). */
  close(): void {
    this.live?.stop();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
