// The manager's files in manager_workdir, named as MHA names them so a DBA finds them where MHA
// put them:  APP.master_status.health (what `ha status` reads), APP.failover.complete and
// APP.failover.error (what stops a second failover from running blind), and APP.failover.report.json
// (the last failover's report for scripts: `ha report --json`).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppConfig } from '../config/types.js';
import type { FailoverReport } from '../phases/6-report.js';

/** MHA's status codes (ManagerConst.pm); `ha status` exits with them, as masterha_check_status does. */
export const Status = {
  PING_OK: 0,
  NOT_RUNNING: 2,
  PARTIALLY_RUNNING: 3,
  INITIALIZING_MONITOR: 10,
  PING_FAILING: 20,
  PING_FAILED: 21,
  RETRYING_MONITOR: 30,
  CONFIG_ERROR: 31,
  TIMESTAMP_OLD: 32,
  FAILOVER_RUNNING: 50,
  FAILOVER_ERROR: 51,
} as const;
export type StatusName = keyof typeof Status;

export interface StatusRecord {
  app: string;
  pid: number;
  status: StatusName;
  code: number;
  /** The master being watched (or, during a failover, the dead one). */
  master?: { id: string; host: string; port: number };
  /** The failover phase in progress, e.g. "3.2 Saving dead master's binlog". */
  phase?: string;
  startedAt: string;
  updatedAt: string;
  pingIntervalSeconds: number;
  log?: string;
}

export interface ManagerFiles {
  status: string;
  failoverComplete: string;
  failoverError: string;
  /** The last failover's report (FailoverReport as JSON), whatever its outcome. */
  report: string;
}

export function managerFiles(config: AppConfig): ManagerFiles {
  const dir = config.manager.managerWorkdir;
  return {
    status: join(dir, `${config.appName}.master_status.health`),
    failoverComplete: join(dir, `${config.appName}.failover.complete`),
    failoverError: join(dir, `${config.appName}.failover.error`),
    report: join(dir, `${config.appName}.failover.report.json`),
  };
}

/** Write atomically (tmp + rename): a reader never sees half a file. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, path);
}

export function writeStatus(files: ManagerFiles, record: StatusRecord): void {
  mkdirSync(join(files.status, '..'), { recursive: true });
  writeFileAtomic(files.status, `${JSON.stringify(record)}\n`);
}

export function readStatus(files: ManagerFiles): StatusRecord | undefined {
  try {
    return JSON.parse(readFileSync(files.status, 'utf8')) as StatusRecord;
  } catch {
    return undefined;
  }
}

export function removeStatus(files: ManagerFiles): void {
  rmSync(files.status, { force: true });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface StatusCheck {
  code: number;
  status: StatusName;
  record?: StatusRecord;
  message: string;
}

/** What `ha status` reports, by MHA's rules (ManagerAdmin.pm check_status). */
export function checkStatus(config: AppConfig, now = Date.now()): StatusCheck {
  const files = managerFiles(config);
  const record = readStatus(files);
  const app = config.appName;
  if (!record) return { code: Status.NOT_RUNNING, status: 'NOT_RUNNING', message: `${app} is stopped (2:NOT_RUNNING).` };
  if (!isAlive(record.pid)) {
    return { code: Status.NOT_RUNNING, status: 'NOT_RUNNING', record, message: `${app} is stopped (2:NOT_RUNNING); the status file of pid ${record.pid} was left behind.` };
  }
  const master = record.master ? `master:${record.master.host}:${record.master.port}` : '';
  // A monitor that has not written for several intervals is hung somewhere (MHA: TIMESTAMP_OLD).
  const age = now - Date.parse(record.updatedAt);
  const stale = record.status !== 'FAILOVER_RUNNING' && age > Math.max(30_000, record.pingIntervalSeconds * 1000 * 4);
  if (stale) {
    return {
      code: Status.TIMESTAMP_OLD,
      status: 'TIMESTAMP_OLD',
      record,
      message: `${app} (pid:${record.pid}) is running, but its status was last written ${Math.round(age / 1000)} s ago (32:TIMESTAMP_OLD). ${master}`,
    };
  }
  const text: Record<StatusName, string> = {
    PING_OK: `${app} (pid:${record.pid}) is running (0:PING_OK), ${master}`,
    NOT_RUNNING: `${app} is stopped (2:NOT_RUNNING).`,
    PARTIALLY_RUNNING: `${app} is partially running (3:PARTIALLY_RUNNING).`,
    INITIALIZING_MONITOR: `${app} monitoring is initializing (10:INITIALIZING_MONITOR). Wait for a while and check again.`,
    PING_FAILING: `${app} master maybe down (20:PING_FAILING). ${master}`,
    PING_FAILED: `${app} master maybe down (21:PING_FAILED). ${master}`,
    RETRYING_MONITOR: `${app} monitoring waits to retry (30:RETRYING_MONITOR).`,
    CONFIG_ERROR: `${app} servers are not correctly configured (31:CONFIG_ERROR).`,
    TIMESTAMP_OLD: `${app} status is too old (32:TIMESTAMP_OLD).`,
    FAILOVER_RUNNING: `${app} master is down and failover is running (50:FAILOVER_RUNNING)${record.phase ? `, phase ${record.phase}` : ''}. ${master}`,
    FAILOVER_ERROR: `${app} master is down and failover was not successful (51:FAILOVER_ERROR). ${master}`,
  };
  const log = record.log ? ` Check ${record.log} for details.` : '';
  return { code: record.code, status: record.status, record, message: text[record.status] + (record.code >= 20 ? log : '') };
}

export interface LastFailover {
  kind: 'complete' | 'error';
  file: string;
  at: Date;
}

/** The marker a previous failover left, if any (complete: when; error: it must be looked at first). */
export function lastFailover(files: ManagerFiles): LastFailover | undefined {
  for (const [kind, file] of [
    ['error', files.failoverError],
    ['complete', files.failoverComplete],
  ] as const) {
    if (existsSync(file)) return { kind, file, at: statSync(file).mtime };
  }
  return undefined;
}

/**
 * MHA's guard against failing over twice in a row: after an error, or within last_failover_minute
 * of a completed failover, refuse unless the DBA says --ignore-last-failover. Returns the refusal
 * message, or undefined when the failover may proceed.
 */
export function refuseRepeatedFailover(files: ManagerFiles, lastFailoverMinute: number, ignore: boolean, now = Date.now()): string | undefined {
  if (ignore) return undefined;
  const last = lastFailover(files);
  if (!last) return undefined;
  if (last.kind === 'error') {
    return `the previous failover failed (${last.file}, ${last.at.toISOString()}): check its log and the servers, then remove that file or run with --ignore-last-failover`;
  }
  const ageMin = (now - last.at.getTime()) / 60_000;
  if (ageMin < lastFailoverMinute) {
    return `the last failover completed at ${last.at.toISOString()}, ${ageMin.toFixed(1)} min ago, within last_failover_minute=${lastFailoverMinute}: a second failover so soon usually means the first did not fix the cause. Remove ${last.file} or run with --ignore-last-failover to fail over anyway`;
  }
  return undefined;
}

export function markFailover(files: ManagerFiles, kind: 'complete' | 'error', text: string): void {
  mkdirSync(join(files.failoverComplete, '..'), { recursive: true });
  writeFileAtomic(kind === 'complete' ? files.failoverComplete : files.failoverError, text);
}

/** Keeps the failover's report as JSON in manager_workdir (replacing an older one). */
export function writeFailoverReport(files: ManagerFiles, report: FailoverReport): void {
  mkdirSync(join(files.report, '..'), { recursive: true });
  writeFileAtomic(files.report, `${JSON.stringify(report, null, 2)}\n`);
}

/** The last failover's report; undefined when none was written. A damaged file is an error naming it. */
export function readFailoverReport(files: ManagerFiles): FailoverReport | undefined {
  let text: string;
  try {
    text = readFileSync(files.report, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read the failover report ${files.report}: ${(err as Error).message}`);
  }
  try {
    const r = JSON.parse(text) as FailoverReport;
    if (typeof r !== 'object' || r === null || typeof r.deadMaster !== 'string' || !Array.isArray(r.phases)) throw new Error('not a failover report');
    return r;
  } catch (err) {
    throw new Error(`the failover report ${files.report} is damaged: ${(err as Error).message}`);
  }
}
