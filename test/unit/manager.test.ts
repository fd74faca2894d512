// Logic of the manager with fake clients: how the evidence decides death, the repeated-failover
// guard, the status file, the GTID merge and the config rewrite.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { deadMasterConfDecision, removeServerBlock } from '../../src/manager/run.js';
import { confirmDeath, watchMaster } from '../../src/manager/monitor.js';
import { ManagerLog } from '../../src/core/log.js';
import { Writable } from 'node:stream';
import { checkStatus, managerFiles, markFailover, refuseRepeatedFailover, writeStatus } from '../../src/manager/state.js';
import { unfitAsNewMaster } from '../../src/phases/3-master-recovery.js';
import { mergedGtidSlavePos } from '../../src/phases/4-slaves-recovery.js';
import type { Clients } from '../../src/core/clients.js';
import { fakeConfig, fakeServer, fakeSlaveStatus, fakeState } from './fakes.js';

interface World {
  /** errno of the master connection failure, or undefined when it answers */
  masterErrno?: number;
  masterSsh: boolean;
  mysqld: boolean;
  listening: boolean;
  slaveIo: 'Yes' | 'Connecting' | 'No';
  portFromSlaves: boolean;
  secondaryExit?: number;
}

function deps(w: World): Clients {
  const master = fakeServer(1);
  return {
    async mysql(server) {
      if (server.id === master.id) {
        if (w.masterErrno !== undefined) throw Object.assign(new Error(`errno ${w.masterErrno}`), { errno: w.masterErrno });
        return { query: async () => [], close: async () => undefined };
      }
      return {
        close: async () => undefined,
        query: async (sql: string) => {
          if (/SHOW GLOBAL VARIABLES/.test(sql)) return [{ Variable_name: 'version', Value: '10.11.19-MariaDB' }];
          return [];
        },
      };
    },
    async ssh(server) {
      if (server.id === master.id && !w.masterSsh) throw new Error('connect EHOSTUNREACH');
      return {
        exec: async (cmd: string) => ({
          code: 0,
          stdout: cmd.includes('HA:open') ? (w.portFromSlaves ? 'HA:open' : 'HA:closed') : `${w.listening ? 'HA:listening\n' : ''}${w.mysqld ? 'HA:mysqld\n' : ''}`,
          stderr: '',
          truncated: false,
          durationMs: 1,
        }),
      } as never;
    },
    async hook() {
      return { parameter: 'secondary_check_script', commandLine: 'x', exitCode: w.secondaryExit ?? 0, timedOut: false, durationMs: 1, output: '' };
    },
  };
}

const config = fakeConfig([fakeServer(1), fakeServer(2), fakeServer(3)]);
const REFUSED = 2003;

describe('confirming a dead master', () => {
  it('refused connection and no mysqld on the host: dead at the first failed ping', async () => {
    const v = await confirmDeath(
      config,
      config.servers[0]!,
      deps({ masterErrno: REFUSED, masterSsh: true, mysqld: false, listening: false, slaveIo: 'Connecting', portFromSlaves: false }),
      1,
      'refused',
    );
    assert.equal(v.dead, true);
    assert.ok(v.evidence.some((e) => /mysqld NOT running/.test(e)));
  });
  it('a reconnect that works, or an "alive" error (too many connections), is not death', async () => {
    assert.equal(
      (await confirmDeath(config, config.servers[0]!, deps({ masterSsh: true, mysqld: true, listening: true, slaveIo: 'Yes', portFromSlaves: true }), 1, 'x')).dead,
      false,
    );
    const busy = await confirmDeath(
      config,
      config.servers[0]!,
      deps({ masterErrno: 1040, masterSsh: true, mysqld: true, listening: true, slaveIo: 'Yes', portFromSlaves: true }),
      1,
      'x',
    );
    assert.equal(busy.dead, false);
    assert.match(busy.evidence.at(-1)!, /error 1040: the server is up/);
  });
  it('host unreachable: dead only when no slave host reaches the port (else the manager is cut off)', async () => {
    const cut = await confirmDeath(
      config,
      config.servers[0]!,
      deps({ masterErrno: REFUSED, masterSsh: false, mysqld: false, listening: false, slaveIo: 'Yes', portFromSlaves: true }),
      1,
      'x',
    );
    assert.equal(cut.dead, false);
    assert.ok(cut.evidence.some((e) => /manager's own path to it is broken/.test(e)));
    const down = await confirmDeath(
      config,
      config.servers[0]!,
      deps({ masterErrno: REFUSED, masterSsh: false, mysqld: false, listening: false, slaveIo: 'Connecting', portFromSlaves: false }),
      1,
      'x',
    );
    assert.equal(down.dead, true);
  });
  it('mysqld running but not answering: dead only after three failed pings', async () => {
    const w: World = { masterErrno: REFUSED, masterSsh: true, mysqld: true, listening: false, slaveIo: 'Connecting', portFromSlaves: false };
    assert.equal((await confirmDeath(config, config.servers[0]!, deps(w), 1, 'x')).dead, false);
    assert.equal((await confirmDeath(config, config.servers[0]!, deps(w), 3, 'x')).dead, true);
  });
  it('secondary_check_script has the last word (exit 0 = dead, as masterha_secondary_check)', async () => {
    const withScript = { ...config, manager: { ...config.manager, secondaryCheckScript: '/usr/bin/masterha_secondary_check -s h2' } };
    const w: World = { masterErrno: REFUSED, masterSsh: true, mysqld: false, listening: false, slaveIo: 'Connecting', portFromSlaves: false, secondaryExit: 2 };
    assert.equal((await confirmDeath(withScript, config.servers[0]!, deps(w), 1, 'x')).dead, false);
    assert.equal((await confirmDeath(withScript, config.servers[0]!, deps({ ...w, secondaryExit: 0 }), 1, 'x')).dead, true);
  });
});

describe('watching the master', () => {
  /** A master whose held session the test can close, as a dying mysqld or wait_timeout would. */
  function closableMaster(w: World) {
    const d = deps(w);
    const sessions: { lose: (reason: string) => void; watched: () => boolean }[] = [];
    let connects = 0;
    return {
      sessions,
      connects: () => connects,
      deps: {
        ...d,
        async mysql(server, o) {
          if (server.id !== 'server1') return d.mysql(server, o);
          connects++;
          if (w.masterErrno !== undefined) throw Object.assign(new Error(`errno ${w.masterErrno}`), { errno: w.masterErrno });
          let listener: ((r: string) => void) | undefined;
          sessions.push({ lose: (r) => listener?.(r), watched: () => listener !== undefined });
          return { query: async () => [], close: async () => undefined, onLost: (l: (r: string) => void) => (listener = l) };
        },
      } satisfies Clients,
    };
  }
  const quietLog = () => new ManagerLog({ format: 'json', out: new Writable({ write: (_c, _e, cb) => cb() }) });
  const slowPing = fakeConfig([fakeServer(1), fakeServer(2), fakeServer(3)]);
  slowPing.manager.pingInterval = 30;

  it('a closed ping session (mysqld killed) is noticed at once, not at the next ping_interval', async () => {
    const w: World = { masterSsh: true, mysqld: false, listening: false, slaveIo: 'Connecting', portFromSlaves: false };
    const m = closableMaster(w);
    let stopRequested!: () => void;
    const stopped = new Promise<void>((r) => (stopRequested = r));
    const t0 = Date.now();
    const outcome = watchMaster(slowPing, slowPing.servers[0]!, m.deps, quietLog(), { stopped });
    while (!m.sessions[0]?.watched()) await new Promise((r) => setTimeout(r, 5));
    w.masterErrno = REFUSED; // mysqld is gone: its socket closes and reconnects are refused
    m.sessions[0].lose('Connection lost: The server closed the connection.');
    const o = await outcome;
    stopRequested();
    assert.equal(o.kind, 'dead');
    assert.ok(Date.now() - t0 < 10_000, 'declared dead long before the 30 s ping_interval');
  });

  it('a session closed while the master is fine (wait_timeout) reconnects without a failed ping', async () => {
    const w: World = { masterSsh: true, mysqld: true, listening: true, slaveIo: 'Yes', portFromSlaves: true };
    const m = closableMaster(w);
    const log = quietLog();
    let stopRequested!: () => void;
    const stopped = new Promise<void>((r) => (stopRequested = r));
    const outcome = watchMaster(slowPing, slowPing.servers[0]!, m.deps, log, { stopped });
    while (!m.sessions[0]?.watched()) await new Promise((r) => setTimeout(r, 5));
    m.sessions[0].lose('the server closed the connection');
    while (m.connects() < 2) await new Promise((r) => setTimeout(r, 5));
    stopRequested();
    assert.equal((await outcome).kind, 'stopped');
    assert.deepEqual(
      log.entries.map((e) => e.code).filter((c) => c !== 'EVIDENCE'),
      ['PING_SESSION_LOST'],
    );
  });
});

describe('manager state files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-mgr-'));
  const cfg = { ...config, manager: { ...config.manager, managerWorkdir: dir } };
  const files = managerFiles(cfg);

  it('names files as MHA does', () => {
    assert.equal(files.status, join(dir, 'app1.master_status.health'));
    assert.equal(files.failoverComplete, join(dir, 'app1.failover.complete'));
  });

  it('reports NOT_RUNNING, PING_OK, a stale status and a dead pid with MHA codes', () => {
    assert.equal(checkStatus(cfg).code, 2);
    const now = new Date().toISOString();
    writeStatus(files, {
      app: 'app1',
      pid: process.pid,
      status: 'PING_OK',
      code: 0,
      master: { id: 'server1', host: 'db1', port: 3306 },
      startedAt: now,
      updatedAt: now,
      pingIntervalSeconds: 3,
    });
    const ok = checkStatus(cfg);
    assert.equal(ok.code, 0);
    assert.match(ok.message, new RegExp(`app1 \\(pid:${process.pid}\\) is running \\(0:PING_OK\\), master:db1:3306`));
    assert.equal(checkStatus(cfg, Date.now() + 120_000).code, 32, 'a status not written for two minutes is TIMESTAMP_OLD');
    writeStatus(files, { app: 'app1', pid: 999_999_9, status: 'PING_OK', code: 0, startedAt: now, updatedAt: now, pingIntervalSeconds: 3 });
    assert.equal(checkStatus(cfg).code, 2);
  });

  it('refuses a failover after an error, or within last_failover_minute, unless told to ignore it', () => {
    assert.equal(refuseRepeatedFailover(files, 480, false), undefined);
    markFailover(files, 'complete', 'done');
    assert.match(refuseRepeatedFailover(files, 480, false)!, /within last_failover_minute=480.*--ignore-last-failover/);
    assert.equal(refuseRepeatedFailover(files, 480, true), undefined);
    const old = new Date(Date.now() - 10 * 3600_000);
    utimesSync(files.failoverComplete, old, old);
    assert.equal(refuseRepeatedFailover(files, 480, false), undefined, 'older than 480 minutes');
    markFailover(files, 'error', 'failed');
    assert.match(refuseRepeatedFailover(files, 480, false)!, /the previous failover failed/);
  });
});

describe('failover helpers', () => {
  it('merges the GTIDs a diff applied into gtid_slave_pos, per domain', () => {
    assert.equal(mergedGtidSlavePos('0-1-100,1-2-5', '0-1-140'), '0-1-140,1-2-5');
    assert.equal(mergedGtidSlavePos('', '0-1-3'), '0-1-3');
    assert.equal(mergedGtidSlavePos('0-1-9', undefined), '0-1-9');
  });

  it("removes the dead master's block from the config, keeping everything else", () => {
    const dir = mkdtempSync(join(tmpdir(), 'ha-conf-'));
    const file = join(dir, 'app1.cnf');
    writeFileSync(file, '# comment\n[server default]\nuser=ha\n\n[server1]\nhostname=db1\n\n[server2]\nhostname=db2\n# keep me\n');
    removeServerBlock(file, 'server1');
    assert.equal(readFileSync(file, 'utf8'), '# comment\n[server default]\nuser=ha\n\n[server2]\nhostname=db2\n# keep me\n');
  });

  it('refuses a --new-master with no_master=1 or log_bin off (MHA is_target_bad_for_new_master)', () => {
    const state = fakeState(2, { slaveStatus: fakeSlaveStatus(1) });
    assert.equal(state.logBin, true, 'guard: the fake slave has log_bin on');
    assert.equal(unfitAsNewMaster({ server: fakeServer(2), state }), undefined);
    assert.match(unfitAsNewMaster({ server: fakeServer(2, { noMaster: true }), state }) ?? '', /no_master=1/);
    assert.match(unfitAsNewMaster({ server: fakeServer(2), state: { ...state, logBin: false } }) ?? '', /log_bin is off/);
  });

  it('--remove-dead-master-conf: the block goes only after a fully successful failover (MHA)', () => {
    assert.deepEqual(deadMasterConfDecision({ ok: true, masterMoved: true }, true), { remove: true });
    const partial = deadMasterConfDecision({ ok: false, masterMoved: true }, true);
    assert.equal(partial.remove, false, 'removed after a failover where a slave failed');
    assert.match(partial.skipped ?? '', /did not fully succeed.*MHA removes it only after a successful failover/);
    const failed = deadMasterConfDecision({ ok: false, masterMoved: false }, true);
    assert.equal(failed.remove, false);
    assert.match(failed.skipped ?? '', /the failover failed/);
    assert.deepEqual(deadMasterConfDecision({ ok: true, masterMoved: true }, false), { remove: false }, 'not asked for: nothing, no warning');
  });

  it('fakes build valid states (guard for the helpers above)', () => {
    assert.equal(fakeState(2, { slaveStatus: fakeSlaveStatus(1) }).slaveStatus?.masterHost, '10.9.0.11');
  });
});
