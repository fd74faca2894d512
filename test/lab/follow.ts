// Following a log file as it is written (tail -f), stamping every line with the time it appeared.
// The bench compares tools by these stamps (MHA's own timestamps have one-second resolution, ha's
// one millisecond: stamped on arrival, both are measured the same way, to within the polling
// interval); the demo prints the manager's lines as they come.
import * as fs from 'node:fs';

export interface LogLine {
  /** Date.now() when the line was first seen in the file. */
  at: number;
  text: string;
}

export class LogFollower {
  readonly lines: LogLine[] = [];
  private offset = 0;
  private partial = '';
  private timer: NodeJS.Timeout | undefined;

  /** Starts polling at once (every intervalMs, default 10); onLine sees each complete line. */
  constructor(
    readonly file: string,
    private readonly opts: { intervalMs?: number; onLine?: (line: string) => void } = {},
  ) {
    this.timer = setInterval(() => this.poll(), opts.intervalMs ?? 10);
  }

  poll(): void {
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'r');
    } catch {
      return; // not created yet
    }
    try {
      const buf = Buffer.alloc(1 << 16);
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, this.offset);
        if (n <= 0) break;
        this.offset += n;
        const chunk = this.partial + buf.subarray(0, n).toString('utf8');
        const parts = chunk.split('\n');
        this.partial = parts.pop() ?? '';
        const at = Date.now();
        for (const text of parts) this.add({ at, text });
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  /** The first line matching re, if any. */
  find(re: RegExp): LogLine | undefined {
    return this.lines.find((l) => re.test(l.text));
  }

  /** The first line matching re at or after ts. */
  findAfter(re: RegExp, ts: number): LogLine | undefined {
    return this.lines.find((l) => l.at >= ts && re.test(l.text));
  }

  text(): string {
    return this.lines.map((l) => l.text).join('\n');
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.poll();
    if (this.partial) this.add({ at: Date.now(), text: this.partial });
    this.partial = '';
  }

  private add(line: LogLine): void {
    this.lines.push(line);
    this.opts.onLine?.(line.text);
  }
}
