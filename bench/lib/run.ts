// Running one measured command: wall time (hrtime), peak RSS and CPU time (GNU time's %M %U %S,
// from wait4's rusage), and how much CPU everything else on the machine used meanwhile
// (/proc/stat), so a noisy run can be told apart from a slow one.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const GNU_TIME = '/usr/bin/time';
/** Jiffies per second in /proc/stat (USER_HZ; 100 on every Linux this runs on). */
const USER_HZ = 100;

export interface RunResult {
  argv: string[];
  wallMs: number;
  /** Peak resident set size of the command (GNU time %M), in KiB. */
  maxRssKb: number;
  userS: number;
  sysS: number;
  exitCode: number;
  signal?: string;
  /** Captured stdout (only with stdout: 'capture'), cut at maxCapture bytes. */
  stdout: string;
  stderr: string;
  /** CPU cores used by other processes during the run (machine busy time minus the command's own). */
  otherCpuCores: number;
}

export interface RunOptions {
  /** 'null' (default): stdout goes to /dev/null; 'capture': kept in the result. */
  stdout?: 'null' | 'capture';
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  maxCapture?: number;
}

/** Busy and total jiffies over all CPUs (the "cpu" line of /proc/stat). */
export function cpuJiffies(): { busy: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

/** Runs argv under GNU time and returns what it measured. Never throws for a non-zero exit. */
export async function timedRun(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeFile = path.join(os.tmpdir(), `ha-bench-time-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const maxCapture = opts.maxCapture ?? 16 << 20;
  const nullFd = opts.stdout === 'capture' ? undefined : fs.openSync('/dev/null', 'w');
  const before = cpuJiffies();
  const t0 = process.hrtime.bigint();
  const child = spawn(GNU_TIME, ['-f', 'HA_BENCH_TIME %e %M %U %S', '-o', timeFile, '--', ...argv], {
    stdio: ['ignore', nullFd ?? 'pipe', 'pipe'],
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  });
  if (nullFd !== undefined) fs.closeSync(nullFd);
  const out: Buffer[] = [];
  let outLen = 0;
  child.stdout?.on('data', (b: Buffer) => {
    if (outLen < maxCapture) out.push(b);
    outLen += b.length;
  });
  const err: Buffer[] = [];
  let errLen = 0;
  child.stderr!.on('data', (b: Buffer) => {
    if (errLen < 1 << 20) err.push(b);
    errLen += b.length;
  });
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, s) => resolve({ code: c, signal: s }));
  });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const after = cpuJiffies();
  let timeText = '';
  try {
    timeText = fs.readFileSync(timeFile, 'utf8');
  } finally {
    fs.rmSync(timeFile, { force: true });
  }
  const m = /HA_BENCH_TIME (\S+) (\d+) (\S+) (\S+)/.exec(timeText);
  if (!m) throw new Error(`GNU time gave no measurement for ${argv.join(' ')}: ${timeText.trim() || '(empty)'}`);
  // GNU time reports the command's status in its own exit code (127/126 when it could not run it).
  const stderr = Buffer.concat(err).toString('utf8');
  const userS = Number(m[3]);
  const sysS = Number(m[4]);
  const busyS = (after.busy - before.busy) / USER_HZ;
  return {
    argv,
    wallMs,
    maxRssKb: Number(m[2]),
    userS,
    sysS,
    exitCode: code ?? -1,
    signal: signal ?? undefined,
    stdout: Buffer.concat(out).toString('utf8'),
    stderr,
    otherCpuCores: Math.max(0, (busyS - userS - sysS) / (wallMs / 1000)),
  };
}

export interface Stat {
  median: number;
  min: number;
  max: number;
}

export function stat(values: number[]): Stat {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return { median: NaN, min: NaN, max: NaN };
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]! };
}

/**
 * Waits until the machine is quiet: the CPU busy time of a window (default 2 s) is below
 * `thresholdCores`. Gives up after maxSeconds and returns what it saw last (the bench then
 * records the load with the figures).
 */
export async function waitQuiet(
  maxSeconds: number,
  thresholdCores: number,
  log: (s: string) => void,
  windowMs = 2000,
): Promise<{ quiet: boolean; busyCores: number; waitedS: number }> {
  const t0 = Date.now();
  let said = false;
  for (;;) {
    const a = cpuJiffies();
    await new Promise((r) => setTimeout(r, windowMs));
    const b = cpuJiffies();
    const busyCores = (b.busy - a.busy) / USER_HZ / (windowMs / 1000);
    const waitedS = (Date.now() - t0) / 1000;
    if (busyCores < thresholdCores) return { quiet: true, busyCores, waitedS };
    if (waitedS >= maxSeconds) return { quiet: false, busyCores, waitedS };
    if (!said) {
      log(`machine busy (${busyCores.toFixed(2)} cores in use by other processes): waiting up to ${maxSeconds} s for it to be quiet (< ${thresholdCores} cores)…`);
      said = true;
    }
  }
}

export function loadavg(): string {
  return fs.readFileSync('/proc/loadavg', 'utf8').trim();
}
