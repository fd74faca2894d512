// Low-level helpers of the test lab: processes identified by pid + start time (so a recycled pid is
// never killed), a kernel file lock (flock(1)) for allocations, and small fs/async utilities.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

/** A process the lab started: its pid and its start time (clock ticks since boot, /proc/PID/stat field 22). */
export interface ProcRef {
  pid: number;
  start: number;
}

/** State letter and start time of a pid, or undefined when there is no such process. */
export function procStat(pid: number): { state: string; start: number } | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) S ppid ..."; comm may contain spaces and parentheses: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = rest[0] ?? '?';
  const start = Number(rest[19]);
  return { state, start };
}

/**
 * Whether any thread of the process still runs. A zombie whose threads have all exited counts as
 * gone (it holds no ports or files any more); but a thread-group leader shows "Z" as soon as it
 * exits itself while its other threads (and the file table with the listening sockets) live on,
 * so those are checked too.
 */
function anyThreadRunning(pid: number, leaderState: string): boolean {
  if (leaderState !== 'Z' && leaderState !== 'X') return true;
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return false;
  }
  for (const tid of tids) {
    if (tid === String(pid)) continue;
    try {
      const t = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const state = t.slice(t.lastIndexOf(')') + 2).split(' ')[0];
      if (state !== 'Z' && state !== 'X') return true;
    } catch {
      /* thread gone */
    }
  }
  return false;
}

/** The ProcRef of a live pid (undefined when it is gone). */
export function procRef(pid: number): ProcRef | undefined {
  const st = procStat(pid);
  if (!st || !anyThreadRunning(pid, st.state)) return undefined;
  return { pid, start: st.start };
}

/** True while the process (any of its threads) runs; a finished zombie counts as gone. */
export function isAlive(ref: ProcRef | undefined): boolean {
  if (!ref || !ref.pid) return false;
  const st = procStat(ref.pid);
  if (!st || !anyThreadRunning(ref.pid, st.state)) return false;
  return ref.start === 0 || st.start === ref.start;
}

/** Sends a signal to the process only when pid and start time still match; true when sent. */
export function signalProc(ref: ProcRef | undefined, signal: NodeJS.Signals): boolean {
  if (!isAlive(ref)) return false;
  try {
    process.kill(ref!.pid, signal);
    return true;
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
export function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

export async function waitGone(refs: (ProcRef | undefined)[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!refs.some(isAlive)) return true;
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
}

export function waitGoneSync(refs: (ProcRef | undefined)[], timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!refs.some(isAlive)) return true;
    if (Date.now() > deadline) return false;
    sleepSync(10);
  }
}

/** Inode of a network namespace: of a named one (/run/netns/NAME) or of a process's. */
function netnsInode(file: string): string | undefined {
  try {
    const st = fs.statSync(file);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * Every live process inside the named network namespaces (what `ip netns pids` reports, for several
 * namespaces in one /proc scan). Only lab-started processes live in a lab's namespaces: its daemons
 * and what they forked (sshd sessions and the commands run through them).
 */
export function pidsInNetns(names: string[]): ProcRef[] {
  const wanted = new Set<string>();
  for (const name of names) {
    const ino = netnsInode(`/run/netns/${name}`);
    if (ino) wanted.add(ino);
  }
  if (wanted.size === 0) return [];
  const found: ProcRef[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ino = netnsInode(`/proc/${entry}/ns/net`);
    if (!ino || !wanted.has(ino)) continue;
    const ref = procRef(Number(entry));
    if (ref) found.push(ref);
  }
  return found;
}

/** Last lines of a log file (for error messages). */
export function tail(file: string, lines = 15): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Writes a file atomically (temp file + rename). */
export function writeFileAtomic(file: string, data: string, mode = 0o644): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data, { mode });
  fs.renameSync(tmp, file);
}

/**
 * Runs fn while holding an exclusive flock(2) on lockFile. The lock is held by a `flock` child
 * process that exits when our stdin pipe closes, so it is released even if this process is killed.
 */
export async function withFileLock<T>(lockFile: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  const child = spawn('flock', ['-x', '-w', String(Math.ceil(timeoutMs / 1000)), lockFile, 'sh', '-c', 'echo locked; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  child.on('error', () => undefined);
  const locked = await new Promise<boolean>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('locked')) resolve(true);
    });
    child.on('close', () => resolve(false));
    child.on('error', () => resolve(false));
  });
  if (!locked) {
    throw new Error(`could not lock ${lockFile} within ${timeoutMs} ms (flock: ${stderr.trim() || 'exited'})`);
  }
  try {
    return await fn();
  } finally {
    child.stdin.end();
    await exited;
  }
}

/** Runs a command synchronously; returns its status and output, never throws. */
export function runSync(cmd: string, args: string[], input?: string): { status: number; out: string } {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000 });
  return { status: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** Resolves when a TCP connect to ip:port succeeds (and the server sent something, if expectBanner). */
export function tcpProbe(ip: string, port: number, timeoutMs: number, expectBanner = false): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: ip, port });
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.once('connect', () => {
      if (!expectBanner) finish(true);
    });
    sock.once('data', () => finish(true));
    sock.once('error', () => finish(false));
    sock.once('close', () => finish(false));
  });
}

/** Thrown by a waitFor() check to stop waiting at once (e.g. the daemon being waited for exited). */
export class StopWaiting extends Error {}

/** Polls check() every intervalMs until it returns a truthy value or throws; fails after timeoutMs. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
      lastErr = undefined;
    } catch (e) {
      if (e instanceof StopWaiting) throw e;
      lastErr = e;
    }
    if (Date.now() > deadline) {
      // lastErr is whatever check() threw; for a non-Error (a string, in practice) String() is the description.
      // eslint-disable-next-line @typescript-eslint/no-base-to-string
      const why = lastErr instanceof Error ? `: ${lastErr.message}` : lastErr ? `: ${String(lastErr)}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}
