// `ha manager` end to end: its lifecycle rather than the failover itself. A second failover within
// last_failover_minute (scenario h of issue 4), a manager cut off from a live master (i), `ha stop`
// while monitoring, and --log-format json. The write load runs throughout and its acknowledged
// writes are checked.
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  appFiles,
  assertAllEqual,
  assertIsWritableMaster,
  assertNewMaster,
  describeExit,
  expectCompletedFailover,
  haStatus,
  measureUnavailability,
  printMeasurement,
  Scenario,
  slaveStatus,
  waitMoreAcks,
  waitReplicatingFrom,
} from './manager-harness.js';
import { runHa } from './ha.js';

describe('h. a second failover within last_failover_minute', () => {
  const s = new Scenario({ name: 'e2e-mgr-h', hosts: 3, config: { servers: { 2: { candidate_master: 1 } } } });
  before(() => s.up());
  after(() => s.teardown());

  it('is refused with a message naming --ignore-last-failover; with that option it fails over', async () => {
    // First failover: host 1 → host 2.
    await s.startManager();
    await s.lab.waitForSlaveSync([2, 3], 10_000);
    await s.lab.killMysqld(1);
    const first = await s.mgr.waitExit('the first failover', 60_000);
    assert.equal(first.code, 0, `first failover: manager ${describeExit(first)}:\n${s.mgr.tail()}`);
    assertNewMaster(s.mgr.text(), 2);
    assert.ok(existsSync(appFiles(s.lab).complete), 'APP.failover.complete missing after the first failover');
    await waitMoreAcks(s.load, 50);

    // The same application, now host 2 → host 3 (the dead host 1 left out of the config).
    s.conf = s.lab.writeConfig({ serverDefault: { ping_interval: 1 }, omitHosts: [1] });
    await s.startManager();
    await s.lab.waitForSlaveSync([3], 10_000);
    await s.lab.killMysqld(2);
    const refused = await s.mgr.waitExit('the refusal of a second failover', 60_000);
    const log = s.mgr.text();
    assert.equal(refused.code, 1, `second failover: manager ${describeExit(refused)}:\n${log}`);
    assert.match(log, /ERROR: failover refused: the last failover completed at .*within last_failover_minute=480.*--ignore-last-failover/);
    assert.doesNotMatch(log, /\* Phase 1/, 'a refused failover must not start phase 1');
    // Nothing was touched: host 3 is still host 2's read-only slave.
    const st = await slaveStatus(s.lab, 3);
    assert.equal(st?.Master_Host, s.lab.host(2).ip, 'the refused failover repointed host 3');
    assert.equal(st?.Slave_SQL_Running, 'Yes', "the refused failover stopped host 3's SQL thread");
    const [ro] = await s.lab.sql(3, 'SELECT @@GLOBAL.read_only AS ro');
    assert.equal(Number(ro?.ro), 1, 'the refused failover made host 3 writable');
    const status = await haStatus(s.conf);
    assert.equal(status.exitCode, 2, `ha status after the refusal: ${status.stdout}`);

    // The DBA brings host 2 back, then runs the manager with --ignore-last-failover.
    await s.lab.startMysqld(2, { read_only: 0 });
    await s.lab.sql(3, 'STOP SLAVE');
    await s.lab.sql(3, 'START SLAVE');
    await waitReplicatingFrom(s.lab, [3], 2);
    await waitMoreAcks(s.load, 50); // writes to host 2 again
    await s.lab.waitForSlaveSync([3], 10_000);
    // This run logs to manager_log (in a directory that does not exist yet), as MHA users set it.
    const managerLog = path.join(s.lab.dir, 'masterha', 'app1', 'manager.log');
    s.conf = s.lab.writeConfig({ serverDefault: { ping_interval: 1, manager_log: managerLog }, omitHosts: [1] });
    await s.startManager(['--ignore-last-failover'], { managerLog });
    const faultAt = Date.now();
    await s.lab.killMysqld(2);
    const exit = await s.mgr.waitExit('the failover with --ignore-last-failover', 60_000);
    const log3 = s.mgr.text();
    assert.equal(exit.code, 0, `--ignore-last-failover: manager ${describeExit(exit)}:\n${log3.slice(-6000)}\n--- stdout ---\n${s.mgr.stdout()}`);
    assertNewMaster(log3, 3);
    // manager_log has the failover; stdout only says where the log is and how the manager ended.
    assert.equal(statSync(managerLog).mode & 0o777, 0o640, 'manager_log is created 0640');
    for (const p of ['1 Configuration check', '3 Master recovery', '4 Slaves recovery', '6 Report'])
      assert.match(log3, new RegExp(`\\* Phase ${p}\\n`), `manager_log lacks phase ${p}`);
    assert.match(log3, /is dead: starting the failover/);
    // (stdout and stderr share the harness's file: the config loader's notes, "  • …", are stderr.)
    assert.deepEqual(
      s.mgr
        .stdout()
        .trimEnd()
        .split('\n')
        .filter((l) => !l.startsWith('  • '))
        .map((l) => l.replace(/^\S+ \S+ /, '')),
      [`ha manager for app1: logging to ${managerLog} (manager_log, log_level info)`, `ha manager for app1 exits 0: see ${managerLog}`],
      'stdout beside manager_log',
    );
    await assertIsWritableMaster(s.lab, 3);
    await waitMoreAcks(s.load, 50);
    const res = await s.load.stop();
    // Every write acknowledged by host 1, host 2 (twice) and host 3 is on host 3.
    assert.deepEqual(await res.verifyOn(3), [], 'acknowledged writes missing on the last master');
    await assertAllEqual(s.lab, 3, []);
    printMeasurement('h', { unavailability: await measureUnavailability(s.lab, res, 3, s.lab.host(2).serverId), faultAt, log: log3, exit });
  });
});

describe("i. the manager's own connection to a live master is cut", () => {
  const s = new Scenario({ name: 'e2e-mgr-i', hosts: 3 });
  before(() => s.up());
  after(() => s.teardown());

  it('does not fail over: it keeps monitoring (PING_FAILING) until ha stop, which exits 0', async () => {
    await s.startManager();
    await s.lab.cutNetwork(1, { managerOnly: true });
    // Two full rounds of "ping failed → confirm → not dead" (each ~5 s: SSH handshake timeout).
    await s.mgr.waitForLog(/not confirmed dead[^]*not confirmed dead/, 'two failed pings judged "not dead"', 40_000);
    const log = s.mgr.text();
    assert.match(log, /the master's port is reachable from server[23], server[23]: the manager's own path to it is broken/);
    assert.doesNotMatch(log, /is dead: starting the failover|\* Phase 1/);
    const status = await haStatus(s.conf);
    assert.equal(status.exitCode, 20, `ha status while the master is unreachable: ${status.stdout}${status.stderr}`);
    assert.match(status.stdout, /PING_FAILING/);

    const stop = await runHa(['stop', '--conf', s.conf], { timeoutMs: 60_000 });
    assert.equal(stop.exitCode, 0, `ha stop: ${stop.stdout}${stop.stderr}`);
    assert.match(stop.stdout, /Stopped app1/);
    const exit = await s.mgr.waitExit('ha stop', 5_000);
    assert.equal(exit.code, 0, `manager ${describeExit(exit)}:\n${s.mgr.tail()}`);
    assert.match(s.mgr.text(), /SIGTERM received: stopping[^]*monitoring stopped/);
    const after = await haStatus(s.conf);
    assert.equal(after.exitCode, 2, `ha status after ha stop: ${after.stdout}`);
    assert.ok(!existsSync(appFiles(s.lab).complete) && !existsSync(appFiles(s.lab).error), 'failover files written without a failover');

    // The master was never touched: still writable, both slaves replicate from it, nothing lost.
    await s.lab.healNetwork(1);
    await waitMoreAcks(s.load, 50);
    const res = await s.load.stop();
    await assertIsWritableMaster(s.lab, 1);
    assert.deepEqual(await res.verifyOn(1), [], 'acknowledged writes missing on the master');
    await assertAllEqual(s.lab, 1, [2, 3]);
    printMeasurement('i', { log: s.mgr.text(), exit, extra: `ping failures logged: ${(s.mgr.text().match(/WARNING: ping \d+ failed/g) ?? []).length}` });
  });
});

describe('ha stop while monitoring', () => {
  const s = new Scenario({ name: 'e2e-mgr-stop', hosts: 3 });
  before(() => s.up());
  after(() => s.teardown());

  it('refuses to start when a host is unreachable over SSH, unless its block says skip_init_ssh_check=1', async () => {
    await s.lab.stopSshd(3);
    try {
      const refused = await s.startManager([], { waitMonitoring: false });
      const exit = await refused.waitExit('the refusal to start without SSH to server3', 30_000);
      const log = refused.text();
      assert.equal(exit.code, 1, `manager ${describeExit(exit)}:\n${log}`);
      assert.match(log, /ERROR: server3 SSH to root@\S+:\d+ failed: /);
      assert.match(log, /ERROR: cannot reach server3 over SSH: a failover needs SSH to every host.*skip_init_ssh_check=1/);
      assert.match(log, /SSH ok: \S+ as root/, 'the reachable hosts are reported too');
      assert.doesNotMatch(log, /monitoring master /);
      const st = await haStatus(s.conf);
      assert.match(st.stdout, /CONFIG_ERROR|NOT_RUNNING/, `ha status after the refusal: ${st.stdout}`);

      s.conf = s.lab.writeConfig({ serverDefault: { ping_interval: 1 }, servers: { 3: { skip_init_ssh_check: 1 } } });
      const skipping = await s.startManager();
      assert.match(skipping.text(), /server3 SSH not checked at start \(skip_init_ssh_check=1\)/);
      const stop = await runHa(['stop', '--conf', s.conf], { timeoutMs: 30_000 });
      assert.equal(stop.exitCode, 0, `ha stop: ${stop.stdout}${stop.stderr}`);
      const stopped = await skipping.waitExit('ha stop', 5_000);
      assert.equal(stopped.code, 0, `manager ${describeExit(stopped)}:\n${skipping.tail()}`);
    } finally {
      await s.lab.startSshd(3);
      s.conf = s.lab.writeConfig({ serverDefault: { ping_interval: 1 } });
    }
  });

  it('stops the manager cleanly: exit 0, NOT_RUNNING, nothing changed', async () => {
    const mgr = await s.startManager();
    const st = await haStatus(s.conf);
    assert.equal(st.exitCode, 0, `ha status: ${st.stdout}${st.stderr}`);
    assert.match(st.stdout, new RegExp(`app1 \\(pid:${mgr.pid}\\) is running \\(0:PING_OK\\), master:${s.lab.host(1).ip.replace(/\./g, '\\.')}:3306`));
    await new Promise((r) => setTimeout(r, 1500)); // a ping or two
    const stop = await runHa(['stop', '--conf', s.conf], { timeoutMs: 30_000 });
    assert.equal(stop.exitCode, 0, `ha stop: ${stop.stdout}${stop.stderr}`);
    assert.match(stop.stdout, new RegExp(`Stopped app1 \\(pid ${mgr.pid}\\)`));
    const exit = await mgr.waitExit('ha stop', 5_000);
    assert.equal(exit.code, 0, `manager ${describeExit(exit)}:\n${mgr.tail()}`);
    const after = await haStatus(s.conf);
    assert.equal(after.exitCode, 2, `ha status after ha stop: ${after.stdout}`);
    assert.match(after.stdout, /NOT_RUNNING/);
    assert.ok(!existsSync(appFiles(s.lab).status), 'the status file is left behind after a clean stop');
    assert.ok(!existsSync(appFiles(s.lab).complete) && !existsSync(appFiles(s.lab).error), 'failover files written without a failover');
    const again = await runHa(['stop', '--conf', s.conf]);
    assert.equal(again.exitCode, 0, 'ha stop of a stopped manager');
    assert.match(again.stdout, /app1 is not running/);
    await waitMoreAcks(s.load, 20);
    const res = await s.load.stop();
    await assertIsWritableMaster(s.lab, 1);
    assert.deepEqual(await res.verifyOn(1), []);
    await assertAllEqual(s.lab, 1, [2, 3]);
    printMeasurement('stop', { log: mgr.text(), exit });
  });
});

describe('--log-format json', () => {
  const s = new Scenario({ name: 'e2e-mgr-json', hosts: 3, managerArgs: ['--log-format', 'json'] });
  before(() => s.up());
  after(() => s.teardown());

  it('logs one JSON object per line, with phase start and end events, through a failover', async () => {
    await s.startManager([], { pattern: /"code":"MONITORING"/ });
    await s.lab.waitForSlaveSync([2, 3], 10_000);
    const faultAt = Date.now();
    await s.lab.killMysqld(1);
    const log = await expectCompletedFailover(s, 2, [3], faultAt, 'json');
    const lines = log.split('\n').filter((l) => l.trim() !== '');
    const events = lines.map((l, i) => {
      try {
        return JSON.parse(l) as { time: string; level: string; code: string; message: string; phase?: string; durationMs?: number; data?: Record<string, unknown> };
      } catch {
        throw new assert.AssertionError({ message: `log line ${i + 1} is not JSON: ${l}` });
      }
    });
    for (const e of events) {
      assert.equal(typeof e.code, 'string', `an event without a code: ${JSON.stringify(e)}`);
      assert.equal(typeof e.message, 'string', `an event without a message: ${JSON.stringify(e)}`);
      assert.ok(!Number.isNaN(Date.parse(e.time)), `an event without a valid time: ${JSON.stringify(e)}`);
    }
    const phases = ['1 Configuration check', '2 Dead master shutdown', '3 Master recovery', '4 Slaves recovery', '5 New master cleanup', '6 Report'];
    const marks = events.filter((e) => e.code === 'PHASE_START' || e.code === 'PHASE_END' || e.code === 'PHASE_FAILED').map((e) => `${e.code} ${e.phase}`);
    assert.deepEqual(
      marks,
      phases.flatMap((p) => [`PHASE_START ${p}`, `PHASE_END ${p}`]),
    );
    for (const e of events.filter((x) => x.code === 'PHASE_END')) assert.equal(typeof e.durationMs, 'number', `PHASE_END without durationMs: ${JSON.stringify(e)}`);
    const report = events.find((e) => e.code === 'FAILOVER_REPORT');
    assert.ok(report?.data, 'no FAILOVER_REPORT event');
    assert.equal(report.data.ok, true);
    assert.equal(report.data.newMaster, 'server2');
    assert.equal(report.data.deadMaster, 'server1');
  });
});
