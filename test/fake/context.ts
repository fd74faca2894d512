// The FailoverContext and the switch options a unit test runs the code under test with: the fake
// cluster's clients, a log that keeps its entries (log.entries) and prints nothing, a temporary
// workdir for saved binlogs and diffs, and deadlines short enough that a fault costs milliseconds.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ManagerLog } from '../../src/core/log.js';
import type { FailoverContext, FailoverTimeouts } from '../../src/phases/context.js';
import type { OnlineSwitchOptions } from '../../src/switch/online.js';
import type { FakeCluster } from './cluster.js';

export const FAST_TIMEOUTS: FailoverTimeouts = {
  remoteCommandMs: 5_000,
  hookMs: 1_000,
  sqlThreadMs: 5_000,
  slaveStartMs: 300,
  applyMs: 5_000,
};

/** A log that keeps its entries and writes nowhere. */
export function quietLog(): ManagerLog {
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  return new ManagerLog({ format: 'json', out: sink, live: false });
}

export interface FakeFailoverContext extends FailoverContext {
  /** Removes the workdir. */
  cleanup(): void;
}

export function failoverContext(
  c: FakeCluster,
  o: { deadMaster?: string; newMaster?: string; timeouts?: Partial<FailoverTimeouts>; options?: Partial<FailoverContext['options']> } = {},
): FakeFailoverContext {
  // tmpfs when there is one: saved binlogs and diffs are fsynced, which a disk makes slow.
  const workdir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'ha-fake-'));
  return {
    config: c.config,
    clients: c.clients(),
    log: quietLog(),
    timeouts: { ...FAST_TIMEOUTS, ...o.timeouts },
    options: { deadMasterId: o.deadMaster ?? 'server1', newMasterId: o.newMaster, workdir, ...o.options },
    abort: { requested: false },
    detectedAt: Date.now(),
    changes: [],
    cleanup: () => rmSync(workdir, { recursive: true, force: true }),
  };
}

export function switchOptions(newMasterId: string, over: Partial<OnlineSwitchOptions> = {}): OnlineSwitchOptions {
  return { newMasterId, origMasterIsNewSlave: false, runningUpdatesLimit: 1, runningSecondsLimit: 1, lockWaitTimeout: 1, catchUpTimeout: 10, ...over };
}
