// A status line at the bottom of a terminal ("Phase 3 Master recovery … 0.4 s"), redrawn in place
// while the step runs, with finished lines printed normally above it. Only for a terminal: a log
// file or a pipe must get plain lines (scripts and the e2e tests parse them), so callers create
// one only when the stream is a TTY (see isLiveTerminal).
import { formatDuration } from './report.js';

/** Erase the terminal line the cursor is on and go back to its start. */
export const CLEAR_LINE = '\r\x1b[2K';

export interface LiveLineOptions {
  /** How often the elapsed time is redrawn (default 100 ms). */
  intervalMs?: number;
  /** Styles the status text (e.g. chalk's cyan); identity by default. */
  paint?: (s: string) => string;
  now?: () => number;
}

/** A stream that can take a status line: a terminal (not TERM=dumb, which has no cursor control). */
export function isLiveTerminal(out: NodeJS.WritableStream): boolean {
  return (out as NodeJS.WriteStream).isTTY === true && process.env.TERM !== 'dumb';
}

export class LiveLine {
  private label: string | undefined;
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private drawn = false;
  private readonly now: () => number;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly opts: LiveLineOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  get active(): boolean {
    return this.label !== undefined;
  }

  /** Shows `label … elapsed` until stop() or the next start(). */
  start(label: string): void {
    this.stopTimer();
    this.label = label;
    this.startedAt = this.now();
    this.out.write(`${this.drawn ? CLEAR_LINE : ''}${this.status()}`);
    this.drawn = true;
    // unref: a status line never keeps the process alive.
    this.timer = setInterval(() => this.redraw(), this.opts.intervalMs ?? 100).unref();
  }

  /** Writes finished text (ending in a newline) above the status line. */
  print(text: string): void {
    if (!this.label) {
      this.out.write(text);
      return;
    }
    // One write: the status line is never seen half drawn.
    this.out.write(`${CLEAR_LINE}${text}${this.status()}`);
    this.drawn = true;
  }

  /** Removes the status line; the cursor is left at the start of an empty line. */
  stop(): void {
    this.stopTimer();
    if (this.drawn) this.out.write(CLEAR_LINE);
    this.drawn = false;
    this.label = undefined;
  }

  private redraw(): void {
    if (!this.label) return;
    this.out.write(`${CLEAR_LINE}${this.status()}`);
    this.drawn = true;
  }

  private status(): string {
    const text = `${this.label} … ${formatDuration(this.now() - this.startedAt)}`;
    // A line wider than the terminal wraps, and CLEAR_LINE would then erase only its last row.
    // A pty whose size was never set (script(1) without a terminal) reports 0 columns: assume 80.
    const cols = (this.out as NodeJS.WriteStream).columns;
    const width = (cols && cols >= 20 ? cols : 80) - 1;
    const fitted = text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text;
    return (this.opts.paint ?? ((s: string) => s))(fitted);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
