// One reporter drives both outputs (the Yarn Berry model): every finding has a stable code, a
// severity and a message; human mode prints coloured lines as they happen, --json collects them
// into one document printed at the end, so scripts never parse prose.
import { Chalk, type ChalkInstance } from 'chalk';
import type { MessageCode } from './codes.js';

export type Severity = 'ok' | 'info' | 'warning' | 'error';

export interface Finding {
  /** Stable identifier scripts can match on (see src/report/codes.ts). */
  code: MessageCode;
  severity: Severity;
  message: string;
  /** The server block (server1…) the finding is about, when it is about one. */
  server?: string;
  durationMs?: number;
  data?: Record<string, unknown>;
}

export interface ReporterOptions {
  json: boolean;
  out?: NodeJS.WritableStream;
  /** undefined: colour when the output is a terminal and NO_COLOR is unset. */
  color?: boolean;
}

const MARK: Record<Severity, string> = { ok: '✔', info: '•', warning: '!', error: '✖' };

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export class Reporter {
  readonly json: boolean;
  readonly findings: Finding[] = [];
  private readonly out: NodeJS.WritableStream;
  readonly c: ChalkInstance;

  constructor(opts: ReporterOptions) {
    this.json = opts.json;
    this.out = opts.out ?? process.stdout;
    const isTty = (this.out as NodeJS.WriteStream).isTTY === true;
    const color = opts.color ?? (isTty && !process.env.NO_COLOR);
    this.c = new Chalk({ level: color ? 1 : 0 });
  }

  report(f: Finding): void {
    this.findings.push(f);
    if (this.json) return;
    const paint = { ok: this.c.green, info: this.c.cyan, warning: this.c.yellow, error: this.c.red }[f.severity];
    const server = f.server ? `${this.c.bold(f.server)} ` : '';
    const took = f.durationMs !== undefined ? this.c.dim(` (${formatDuration(f.durationMs)})`) : '';
    const code = f.severity === 'ok' || f.severity === 'info' ? '' : this.c.dim(` [${f.code}]`);
    this.out.write(`  ${paint(MARK[f.severity])} ${server}${f.message}${took}${code}\n`);
  }

  ok(code: MessageCode, message: string, extra: Partial<Finding> = {}): void {
    this.report({ code, severity: 'ok', message, ...extra });
  }
  info(code: MessageCode, message: string, extra: Partial<Finding> = {}): void {
    this.report({ code, severity: 'info', message, ...extra });
  }
  warn(code: MessageCode, message: string, extra: Partial<Finding> = {}): void {
    this.report({ code, severity: 'warning', message, ...extra });
  }
  error(code: MessageCode, message: string, extra: Partial<Finding> = {}): void {
    this.report({ code, severity: 'error', message, ...extra });
  }

  /** Human-only text (headings, the topology tree); --json carries the same facts as data. */
  heading(text: string): void {
    if (!this.json) this.out.write(`\n${this.c.bold(text)}\n`);
  }
  text(text: string): void {
    if (!this.json) this.out.write(`${text}\n`);
  }

  count(severity: Severity): number {
    return this.findings.filter((f) => f.severity === severity).length;
  }

  /** Print the summary line (human) or the whole document (json). */
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
}
