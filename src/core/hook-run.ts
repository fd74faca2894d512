// Running a hook script: no shell (the value is split into words, then MHA's arguments are
// appended as separate words), a deadline, the output kept for the log, and the exit code
// returned for the caller to judge with MHA's rules (0 ok, 10 "go on", anything else fails).
import { execa } from 'execa';
import { splitWords } from '../config/ssh-options.js';

export interface HookResult {
  parameter: string;
  /** What was run, for the log: program and arguments (never a password). */
  commandLine: string;
  exitCode: number | null;
  signal?: string;
  timedOut: boolean;
  durationMs: number;
  /** stdout and stderr interleaved, at most 64 KiB. */
  output: string;
  /** The script could not be started at all (not found, not executable). */
  spawnError?: string;
}

export interface HookOptions {
  timeoutMs: number;
  /** Extra environment (passwords go here, never in argv). */
  env?: Record<string, string>;
}

const OUTPUT_LIMIT = 64 * 1024;

export async function runHook(parameter: string, value: string, args: string[], opts: HookOptions): Promise<HookResult> {
  const [program, ...preArgs] = splitWords(value);
  if (!program) throw new Error(`${parameter} is empty`);
  const argv = [...preArgs, ...args];
  const started = Date.now();
  const r = await execa(program, argv, {
    reject: false,
    all: true,
    timeout: opts.timeoutMs,
    env: opts.env,
    stdin: 'ignore',
    maxBuffer: OUTPUT_LIMIT,
  });
  const all = typeof r.all === 'string' ? r.all : '';
  return {
    parameter,
    commandLine: [program, ...argv].join(' '),
    exitCode: typeof r.exitCode === 'number' ? r.exitCode : null,
    signal: r.signal ?? undefined,
    timedOut: r.timedOut === true,
    durationMs: Date.now() - started,
    output: all.length > OUTPUT_LIMIT ? `${all.slice(0, OUTPUT_LIMIT)}…` : all,
    spawnError: typeof r.exitCode !== 'number' && !r.timedOut && !r.signal ? (r.cause instanceof Error ? r.cause.message : r.shortMessage) : undefined,
  };
}

/**
 * MHA's rule for a hook's exit status, in one place: 0 is ok; 10 means "go on" (MHA 0.58: the
 * failover and online-change scripts proceed with a warning; shutdown_script: the host answered
 * over SSH and mysqld was stopped, the power was not cut); anything else — another exit code, a
 * timeout, a signal, a script that could not start — is a failure.
 */
export type HookOutcome = 'ok' | 'proceed' | 'failed';

export function hookOutcome(r: HookResult): HookOutcome {
  if (r.spawnError || r.timedOut || r.exitCode === null) return 'failed';
  if (r.exitCode === 0) return 'ok';
  return r.exitCode === 10 ? 'proceed' : 'failed';
}

/** How a hook ended, for messages: "exit 1", "timed out after 5000 ms", "could not start: …". */
export function describeHookEnd(r: HookResult): string {
  if (r.spawnError) return `could not start: ${r.spawnError}`;
  if (r.timedOut) return `timed out after ${r.durationMs} ms`;
  return r.exitCode !== null ? `exit ${r.exitCode}` : `killed by ${r.signal ?? 'a signal'}`;
}
