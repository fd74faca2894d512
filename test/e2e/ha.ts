// Runs the real `bin/ha` as a user would (a child process), for e2e tests.
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const HA_BIN = join(ROOT, 'bin', 'ha');

export interface HaRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export async function runHa(args: string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<HaRun> {
  const t0 = Date.now();
  const r = await execa(HA_BIN, args, { reject: false, timeout: opts.timeoutMs ?? 60_000, env: { NO_COLOR: '1', ...opts.env } });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), durationMs: Date.now() - t0 };
}

export async function runHaJson<T = Record<string, unknown>>(args: string[], opts: { timeoutMs?: number } = {}): Promise<HaRun & { json: T }> {
  const r = await runHa([...args, '--json'], opts);
  let json: T;
  try {
    json = JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`ha ${args.join(' ')} --json did not print JSON (exit ${r.exitCode}):\n${r.stdout}\n${r.stderr}`);
  }
  return { ...r, json };
}

export interface JsonFinding {
  code: string;
  severity: 'ok' | 'info' | 'warning' | 'error';
  message: string;
  server?: string;
  data?: Record<string, unknown>;
}

/** "CODE@server" for every finding of a severity, for compact assertions. */
export function findingKeys(findings: JsonFinding[], severity: JsonFinding['severity']): string[] {
  return findings.filter((f) => f.severity === severity).map((f) => (f.server ? `${f.code}@${f.server}` : f.code));
}
