// The manager's log: one line per step, with a timestamp, for a DBA reading it at 3 a.m.
// (human, coloured on a terminal), or one JSON object per line for machines (--log-format json).
// Every line has a stable code, like the check commands' findings.
// On a terminal the failover phase in progress is also shown as a status line redrawn in place
// ("Phase 3 Master recovery … 0.4 s"); in a file or a pipe (nohup) the lines are plain, as always.
import { Chalk, type ChalkInstance } from 'chalk';
import { isLiveTerminal, LiveLine } from '../report/live-line.js';
import { formatDuration } from '../report/reporter.js';

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

export interface LogEntry {
  time: string;
  level: LogLevel;
  code: string;
  message: string;
  phase?: string;
  server?: string;
  durationMs?: number;
  data?: Record<string, unknown>;
}

export interface ManagerLogOptions {
  format: 'human' | 'json';
  out?: NodeJS.WritableStream;
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
  private readonly debugOn: boolean;
  private readonly live: LiveLine | undefined;
  /** The phase lines are attributed to (set by phase()). */
  currentPhase: string | undefined;

  constructor(opts: ManagerLogOptions) {
    this.out = opts.out ?? process.stdout;
    this.format = opts.format;
    const tty = (this.out as NodeJS.WriteStream).isTTY === true;
    this.c = new Chalk({ level: (opts.color ?? (tty && !process.env.NO_COLOR)) ? 1 : 0 });
    this.debugOn = opts.debug ?? false;
    if (this.format === 'human' && (opts.live ?? isLiveTerminal(this.out))) {
      this.live = new LiveLine(this.out, { intervalMs: opts.liveIntervalMs, paint: this.c.cyan });
    }
  }

  /** Human lines go above the status line when there is one. */
  private write(text: string): void {
    if (this.live) this.live.print(text);
    else this.out.write(text);
  }

  /** Shows what is in progress on the status line (terminal only), e.g. "Monitoring master server1". */
  status(label: string): void {
    this.live?.start(label);
  }

  /** Removes the status line (the manager calls it before it exits). */
  close(): void {
    this.live?.stop();
  }

  log(level: LogLevel, code: string, message: string, extra: Partial<LogEntry> = {}): void {
    if (level === 'debug' && !this.debugOn) return;
    const entry: LogEntry = { time: new Date().toISOString(), level, code, message, phase: this.currentPhase, ...extra };
    this.entries.push(entry);
    if (this.format === 'json') {
      this.out.write(`${JSON.stringify(entry)}\n`);
      return;
    }
    const paint = { debug: this.c.dim, info: (s: string) => s, warning: this.c.yellow, error: this.c.red }[level];
    const tag = level === 'info' || level === 'debug' ? '' : `${level.toUpperCase()}: `;
    const server = extra.server ? `${this.c.bold(extra.server)} ` : '';
    const took = extra.durationMs !== undefined ? this.c.dim(` (${formatDuration(extra.durationMs)})`) : '';
    this.write(`${this.c.dim(entry.time.replace('T', ' ').replace('Z', ''))} ${paint(`${tag}${server}${message}`)}${took}\n`);
  }

  info(code: string, message: string, extra?: Partial<LogEntry>): void {
    this.log('info', code, message, extra);
  }
  warn(code: string, message: string, extra?: Partial<LogEntry>): void {
    this.log('warning', code, message, extra);
  }
  error(code: string, message: string, extra?: Partial<LogEntry>): void {
    this.log('error', code, message, extra);
  }
  debug(code: string, message: string, extra?: Partial<LogEntry>): void {
    this.log('debug', code, message, extra);
  }

  /** A phase heading (human: a bold line, as MHA's "* Phase 3: Master Recovery Phase.."). */
  phaseStart(name: string): void {
    this.currentPhase = name;
    if (this.format === 'human') {
      this.live?.stop();
      this.out.write(`\n${this.c.bold(`* Phase ${name}`)}\n`);
      this.live?.start(`Phase ${name}`);
    }
    this.entries.push({ time: new Date().toISOString(), level: 'info', code: 'PHASE_START', message: `Phase ${name}`, phase: name });
    if (this.format === 'json') this.out.write(`${JSON.stringify(this.entries.at(-1))}\n`);
  }

  phaseEnd(name: string, ok: boolean, durationMs: number): void {
    this.live?.stop();
    this.log(ok ? 'info' : 'error', ok ? 'PHASE_END' : 'PHASE_FAILED', `Phase ${name} ${ok ? 'completed' : 'FAILED'}`, { durationMs, phase: name });
  }
}
