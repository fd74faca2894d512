// The online master switch (planSwitch, runOnlineSwitch) driven through its branches on the fake
// cluster (test/fake): what is checked before anything changes, the order of the write block and
// the promotion, where every server replicates from afterwards, and the rollback. The same
// switch runs for real, under write load, in test/e2e/switch-online.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planSwitch, runOnlineSwitch, SwitchError } from '../../src/switch/online.js';
import { cluster, quietLog, switchOptions, type FakeCluster } from '../fake/index.js';

async function plan(c: FakeCluster, newMaster: string, over: Parameters<typeof switchOptions>[1] = {}) {
  return planSwitch(c.config, c.clients(), switchOptions(newMaster, over));
}

async function switchTo(c: FakeCluster, newMaster: string, over: Parameters<typeof switchOptions>[1] = {}) {
  const opts = switchOptions(newMaster, over);
  const p = await planSwitch(c.config, c.clients(), opts);
  assert.deepEqual(p.problems, [], 'the checks pass');
  const log = quietLog();
  const result = await runOnlineSwitch(c.config, c.clients(), log, p, opts);
  return { result, log };
}

async function switchFails(c: FakeCluster, newMaster: string, over: Parameters<typeof switchOptions>[1] = {}) {
  const opts = switchOptions(newMaster, over);
  const p = await planSwitch(c.config, c.clients(), opts);
  assert.deepEqual(p.problems, []);
  const log = quietLog();
  const err = await runOnlineSwitch(c.config, c.clients(), log, p, opts).then(
    () => assert.fail('the switch should fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof SwitchError, String(err));
  return { err, log };
}

/** Statements that change something (everything but reads). */
function changes(c: FakeCluster): string[] {
  return c.log('sql').filter((l) => !/: (SHOW|SELECT)\b/.test(l));
}

function at(c: FakeCluster, server: string, match: RegExp | string): number {
  const i = c.indexOf('sql', server, match);
  assert.ok(i >= 0, `${server} ran ${match}:\n${c.log('sql', server).join('\n')}`);
  return i;
}

/** After a switch: the new master alone takes writes (and never two at once), the slaves follow it with every transaction. */
function assertSwitched(c: FakeCluster, oldMaster: string, newMaster: string, slaves: string[], transactions = 6): void {
  assert.deepEqual(c.writable(), [newMaster], 'exactly one writable server: the new master');
  assert.equal(c.maxWritableAtOnce(), 1, `never two writable servers at once: ${JSON.stringify(c.writableTimeline)}`);
  assert.equal(c.server(newMaster).repl, undefined, 'the new master replicates from no one');
  assert.equal(c.server(oldMaster).readLockBy, undefined, 'the read lock on the old master is released');
  assert.ok(c.server(oldMaster).readOnly, 'the old master stays read-only');
  for (const s of slaves) {
    const r = c.replicationOf(s);
    assert.equal(r.from, newMaster, `${s} replicates from ${newMaster}`);
    assert.ok(r.running, `${s}: threads running (${r.error})`);
    assert.deepEqual(c.executed(s), c.executed(newMaster), `${s} has the new master's transactions, once`);
  }
  assert.equal(c.executed(newMaster).length, transactions);
  assert.deepEqual(c.openSessions(), [], 'every MySQL session was closed');
  c.assertClean();
}

describe('online switch on the fake cluster: success', () => {
  it('MariaDB 10.11: block, final coordinates, catch-up, promote, repoint, close client connections, unlock — in that order', async () => {
    const c = cluster({ master: 'mariadb-10.11', slaves: 3, gtid: true });
    const idle = c.clientThread('server1');
    const writer = c.clientThread('server1', { info: 'INSERT INTO app.t VALUES (1)' });
    const { result } = await switchTo(c, 'server3');
    assertSwitched(c, 'server1', 'server3', ['server2', 'server4']);
    assert.equal(c.replicationOf('server1').from, undefined, 'without --orig-master-is-new-slave the old master replicates from no one');
    assert.equal(result.oldMaster, 'server1');
    assert.deepEqual(result.finalCoordinates, c.server('server1').binlog!.end);
    assert.deepEqual(result.newMasterCoordinates, c.server('server3').binlog!.end);
    assert.equal(result.closedConnections, 2);
    assert.deepEqual(
      c
        .server('server1')
        .clientThreads.map((t) => t.id)
        .filter((id) => id === idle || id === writer),
      [],
    );

    const readOnly = at(c, 'server1', 'SET GLOBAL read_only = 1');
    const ftwrl = at(c, 'server1', 'FLUSH TABLES WITH READ LOCK');
    const waits = ['server2', 'server3', 'server4'].map((s) => at(c, s, /^SELECT MASTER_POS_WAIT\('mysql-bin\.000001', \d+, 10\) AS result$/));
    const promote = at(c, 'server3', 'STOP REPLICA');
    const writable = at(c, 'server3', 'SET GLOBAL read_only = 0');
    const reset = at(c, 'server3', 'RESET REPLICA ALL');
    const repoints = ['server2', 'server4'].map((s) => at(c, s, /^CHANGE MASTER TO MASTER_HOST='10\.9\.0\.13'.*MASTER_USE_GTID=slave_pos$/));
    const kill = at(c, 'server1', `KILL CONNECTION ${writer}`);
    const unlock = at(c, 'server1', 'UNLOCK TABLES');
    assert.ok(readOnly < ftwrl, 'read_only=1, then the global read lock');
    for (const w of waits) assert.ok(ftwrl < w && w < promote, 'everyone catches up under the lock, before the promotion');
    assert.ok(promote < writable && writable < reset, 'the new master forgets its replication settings only once it takes writes');
    for (const r of repoints) assert.ok(writable < r && r < unlock, 'slaves repointed while the old master is still locked');
    assert.ok(kill < unlock, 'client connections closed before the lock is released (a blocked write would commit on the old master)');
    assert.deepEqual(c.slavesOf(c.server('server1')), [], 'no slave reads from the old master any more');
  });

  it('MariaDB, --orig-master-is-new-slave: the old master follows the new one by GTID from its own binlog position, after the unlock', async () => {
    const c = cluster({ master: 'mariadb-10.11', slaves: 2, gtid: true });
    await switchTo(c, 'server2', { origMasterIsNewSlave: true });
    assertSwitched(c, 'server1', 'server2', ['server3', 'server1']);
    const unlock = at(c, 'server1', 'UNLOCK TABLES');
    const pos = at(c, 'server1', 'SET GLOBAL gtid_slave_pos = @@GLOBAL.gtid_binlog_pos');
    const repoint = at(c, 'server1', /^CHANGE MASTER TO MASTER_HOST='10\.9\.0\.12', .*MASTER_USE_GTID=slave_pos$/);
    assert.ok(unlock < pos && pos < repoint, 'the old master is repointed once its read lock is gone');
  });

  it('MariaDB file/position, --orig-master-is-new-slave: everyone starts at the coordinates the new master had when promoted', async () => {
    const c = cluster({ master: 'mariadb-10.6', slaves: 2, gtid: false });
    const { result } = await switchTo(c, 'server2', { origMasterIsNewSlave: true });
    assertSwitched(c, 'server1', 'server2', ['server3', 'server1']);
    const { file, position } = result.newMasterCoordinates;
    for (const s of ['server1', 'server3']) at(c, s, new RegExp(`^CHANGE MASTER TO .*MASTER_LOG_FILE='${file}', MASTER_LOG_POS=${position}, MASTER_USE_GTID=no$`));
  });

  it('MySQL 8.0: super_read_only blocks the old master, SOURCE_POS_WAIT, CHANGE REPLICATION SOURCE … AUTO_POSITION', async () => {
    const c = cluster({ master: 'mysql-8.0', slaves: 3, gtid: true });
    await switchTo(c, 'server2', { origMasterIsNewSlave: true });
    assertSwitched(c, 'server1', 'server2', ['server3', 'server4', 'server1']);
    assert.ok(c.server('server1').superReadOnly, 'the old master keeps super_read_only');
    at(c, 'server1', 'SET GLOBAL super_read_only = 1');
    at(c, 'server3', /^SELECT SOURCE_POS_WAIT\(/);
    assert.ok(at(c, 'server2', 'SET GLOBAL super_read_only = 0') < at(c, 'server2', 'SET GLOBAL read_only = 0'));
    at(c, 'server1', /^CHANGE REPLICATION SOURCE TO SOURCE_HOST='10\.9\.0\.12'.*SOURCE_AUTO_POSITION=1/);
  });

  it('MySQL 5.7: MASTER_POS_WAIT, SHOW SLAVE STATUS, CHANGE MASTER TO … MASTER_AUTO_POSITION=1', async () => {
    const c = cluster({ master: 'mysql-5.7', slaves: 2, gtid: true });
    await switchTo(c, 'server3');
    assertSwitched(c, 'server1', 'server3', ['server2']);
    at(c, 'server2', /^SELECT MASTER_POS_WAIT\(/);
    at(c, 'server2', /^CHANGE MASTER TO MASTER_HOST='10\.9\.0\.13'.*MASTER_AUTO_POSITION=1$/);
    assert.ok(!c.log('sql').some((l) => /REPLICA|SOURCE/.test(l)), 'no statement MySQL 5.7 lacks');
  });

  it('MySQL 8.4 file/position: SHOW BINARY LOG STATUS, SOURCE_LOG_FILE/POS', async () => {
    const c = cluster({ master: 'mysql-8.4', slaves: 2, gtid: false });
    const { result } = await switchTo(c, 'server2');
    assertSwitched(c, 'server1', 'server2', ['server3']);
    at(c, 'server1', 'SHOW BINARY LOG STATUS');
    at(c, 'server3', new RegExp(`SOURCE_LOG_FILE='${result.newMasterCoordinates.file}', SOURCE_LOG_POS=${result.newMasterCoordinates.position}, SOURCE_AUTO_POSITION=0$`));
  });
});

describe('online switch on the fake cluster: refused before anything changes', () => {
  it('a long-running query on the master', async () => {
    const c = cluster({ slaves: 2 });
    c.clientThread('server1', { info: 'SELECT SLEEP(1000)', time: 120 });
    const p = await plan(c, 'server2', { runningSecondsLimit: 10 });
    assert.deepEqual(
      p.problems.map((x) => x.replace(/thread \d+/, 'thread N')),
      ['a query (thread N) has run 120 s on the master (limit 10 s): SELECT SLEEP(1000)'],
    );
    assert.deepEqual(changes(c), []);
  });

  it('a write transaction open too long on the master', async () => {
    const c = cluster({ slaves: 2 });
    const id = c.clientThread('server1');
    c.server('server1').innodbTrx.push({ threadId: id, ageSeconds: 30, rowsModified: 5, state: 'RUNNING' }, { threadId: 99, ageSeconds: 3600, rowsModified: 0, state: 'RUNNING' });
    const p = await plan(c, 'server2', { runningUpdatesLimit: 10 });
    assert.deepEqual(p.problems, [`a write transaction (thread ${id}) has been open on the master for 30 s (limit 10 s)`], 'a read-only transaction does not count');
  });

  it('a lagging slave, a slave whose IO thread is stopped', async () => {
    const c = cluster({ slaves: [{}, { secondsBehind: 120 }, { io: 'No' }] });
    const p = await plan(c, 'server2', { runningUpdatesLimit: 1 });
    assert.deepEqual(p.problems, [
      'server3 is 120 s behind the master (limit 1 s, --running-updates-limit)',
      'server4: replication threads not running (IO No, SQL Yes)',
      'server4 is an unknown number of s behind the master (limit 1 s, --running-updates-limit)',
    ]);
    assert.deepEqual(changes(c), []);
  });

  it('a server that replicates from another slave, not from the master', async () => {
    const c = cluster({ slaves: 3 });
    Object.assign(c.server('server4').repl!, { masterHost: '10.9.0.13' });
    const p = await plan(c, 'server2');
    assert.deepEqual(p.problems, ['server4 is not a slave of the master server1']);
  });

  it('a new master with no_master=1, or with log_bin off', async () => {
    const c = cluster({ slaves: [{ config: { noMaster: true } }, { logBin: false }] });
    assert.deepEqual((await plan(c, 'server2')).problems, ['the new master server2 has no_master=1']);
    assert.deepEqual((await plan(c, 'server3')).problems, ['the new master server3 has log_bin off']);
  });

  it('the current master as the new master; a dead new master; no writable master', async () => {
    const c = cluster({ slaves: 2 });
    await assert.rejects(plan(c, 'server1'), (e: SwitchError) => e.step === 'check' && /server1 is the current master/.test(e.message));
    c.kill('server3');
    await assert.rejects(plan(c, 'server3'), /the new master server3 does not answer/);
    c.kill('server1');
    await assert.rejects(plan(c, 'server2'), /expected one writable master, found 0/);
    assert.deepEqual(changes(c), []);
  });
});

describe('online switch on the fake cluster: failures and rollback', () => {
  it('a slave does not catch up under the lock: rolled back, the old master takes writes again, one writable server throughout', async () => {
    const c = cluster({ master: 'mysql-8.0', slaves: 3, gtid: true });
    c.fail({ server: 'server4', match: /^SELECT SOURCE_POS_WAIT/, action: 'reply', rows: [{ result: -1 }] });
    const { err } = await switchFails(c, 'server2');
    assert.equal(err.step, 'block');
    assert.equal(err.rolledBack, true);
    assert.match(err.message, /server4 did not reach mysql-bin\.000001:\d+ \(timeout\)/);
    assert.deepEqual(c.writable(), ['server1'], 'the old master takes writes again');
    assert.equal(c.maxWritableAtOnce(), 1);
    assert.equal(c.server('server1').readLockBy, undefined);
    assert.equal(c.server('server1').superReadOnly, false);
    for (const s of ['server2', 'server3', 'server4']) assert.ok(c.replicationOf(s).running && c.replicationOf(s).from === 'server1', `${s} replicates from server1 as before`);
    const unlock = at(c, 'server1', 'UNLOCK TABLES');
    assert.ok(unlock < at(c, 'server1', 'SET GLOBAL read_only = 0'));
    c.assertClean();
  });

  it('FLUSH TABLES WITH READ LOCK times out (a long statement holds tables): rolled back', async () => {
    const c = cluster({ master: 'mariadb-10.11', slaves: 2 });
    c.fail({ server: 'server1', match: 'FLUSH TABLES WITH READ LOCK', action: 'fail', errno: 1205, message: 'Lock wait timeout exceeded; try restarting transaction' });
    const { err } = await switchFails(c, 'server2');
    assert.deepEqual([err.step, err.rolledBack], ['block', true]);
    assert.deepEqual(c.writable(), ['server1']);
    assert.equal(c.maxWritableAtOnce(), 1);
    assert.deepEqual(
      changes(c).filter((l) => /server[23]/.test(l)),
      ['server2: START REPLICA'],
      'nothing changed on the slaves (START SLAVE on a running slave is a no-op)',
    );
  });

  it('the new master fails to become writable: rolled back, and the new master still replicates from the old one (MariaDB)', async () => {
    const c = cluster({ master: 'mariadb-10.11', slaves: 2, gtid: true });
    c.fail({ server: 'server2', match: 'SET GLOBAL read_only = 0', action: 'fail', errno: 2013, message: 'Lost connection to MySQL server during query' });
    const { err } = await switchFails(c, 'server2');
    assert.deepEqual([err.step, err.rolledBack], ['promote', true]);
    assert.deepEqual(c.writable(), ['server1']);
    assert.equal(c.maxWritableAtOnce(), 1);
    for (const s of ['server2', 'server3']) {
      const r = c.replicationOf(s);
      assert.ok(r.running && r.from === 'server1', `"replication as before": ${s} replicates from server1 (${JSON.stringify(r)})`);
    }
    assert.equal(c.indexOf('sql', 'server2', /^RESET (SLAVE|REPLICA) ALL$/), -1, 'the new master keeps its replication settings until it takes writes');
    c.assertClean();
  });

  it('the new master fails to become writable after super_read_only=0: rolled back to super_read_only=1 and replicating (MySQL 8.0)', async () => {
    const c = cluster({ master: 'mysql-8.0', slaves: 2, gtid: true });
    c.fail({ server: 'server2', match: 'SET GLOBAL read_only = 0', action: 'fail', errno: 1290, message: 'fake: read_only cannot change now' });
    const { err } = await switchFails(c, 'server2');
    assert.deepEqual([err.step, err.rolledBack], ['promote', true]);
    assert.deepEqual(c.writable(), ['server1']);
    assert.ok(c.server('server2').superReadOnly, 'no SUPER writer can write to the new master, which is a slave again');
    assert.ok(c.replicationOf('server2').running && c.replicationOf('server2').from === 'server1');
    c.assertClean();
  });

  it('the old master dies under the lock: the switch does not claim it rolled back; nothing takes writes', async () => {
    const c = cluster({ master: 'mariadb-10.11', slaves: 2 });
    c.fail({ server: 'server1', match: 'FLUSH TABLES WITH READ LOCK', action: 'die' });
    const { err, log } = await switchFails(c, 'server2');
    assert.equal(err.step, 'block');
    assert.equal(err.rolledBack, false, 'the old master does not take writes again: the switch must not say it does');
    assert.deepEqual(c.writable(), []);
    assert.ok(log.entries.some((e) => e.code === 'SWITCH_ROLLBACK_FAILED' && /server1/.test(e.message)));
    assert.ok(!log.entries.some((e) => e.code === 'SWITCH_ROLLED_BACK'));
    c.assertClean();
  });

  it('RESET SLAVE ALL fails once the new master takes writes: the switch stands, the failure is logged', async () => {
    const c = cluster({ master: 'mariadb-10.11', slaves: 2, gtid: true });
    c.fail({ server: 'server2', match: 'RESET REPLICA ALL', action: 'fail', errno: 1198, message: 'fake: cannot reset now' });
    const { log } = await switchTo(c, 'server2');
    assert.deepEqual(c.writable(), ['server2']);
    assert.equal(c.maxWritableAtOnce(), 1);
    assert.ok(c.replicationOf('server3').running && c.replicationOf('server3').from === 'server2');
    assert.equal(c.replicationOf('server2').running, false, 'the new master keeps stopped settings, nothing runs');
    assert.ok(log.entries.some((e) => e.code === 'RESET_SLAVE_FAILED'));
    c.assertClean();
  });
});

describe('online switch on the fake cluster: before the block', () => {
  it('a session cannot be opened: nothing changed, not even the hook', async () => {
    const c = cluster({ slaves: 3, hooks: { onlineChange: true } });
    c.fail({ server: 'server4', match: 'CONNECT', nth: 2, action: 'fail' });
    const { err } = await switchFails(c, 'server2');
    assert.deepEqual([err.step, err.rolledBack], ['connect', false]);
    assert.match(err.message, /server4 .*cannot connect.*: nothing was changed/);
    assert.deepEqual(changes(c), []);
    assert.deepEqual(c.hooks.calls, []);
  });
});

describe('online switch on the fake cluster: master_ip_online_change_script', () => {
  it('stop exits 10: proceeds with a warning; start exits 1: the switch stands, the failure is logged', async () => {
    const c = cluster({ slaves: 2, hooks: { onlineChange: true } });
    c.hooks.on('master_ip_online_change_script', 10, { command: 'stop' }).on('master_ip_online_change_script', 1, { command: 'start' });
    const { log } = await switchTo(c, 'server2', { origMasterIsNewSlave: true });
    assertSwitched(c, 'server1', 'server2', ['server3', 'server1']);
    assert.ok(log.entries.some((e) => e.code === 'HOOK_PROCEED'));
    assert.ok(log.entries.some((e) => e.code === 'HOOK_FAILED' && /--command=start failed \(exit 1\)/.test(e.message)));
    const [stop, start] = c.hooks.callsOf('master_ip_online_change_script');
    assert.ok(stop!.args.includes('--orig_master_is_new_slave') && stop!.args.includes('--new_master_host=10.9.0.12'));
    assert.equal(stop!.env.HA_NEW_MASTER_PASSWORD, 'secret');
    assert.ok(
      c.indexOf('hook', 'master_ip_online_change_script', /--command=stop/) < at(c, 'server1', 'SET GLOBAL read_only = 1'),
      'writes are stopped at the proxy before the block',
    );
    assert.equal(start?.command, 'start');
    assert.ok(c.indexOf('hook', 'master_ip_online_change_script', /--command=start/) > at(c, 'server2', 'SET GLOBAL read_only = 0'));
  });

  for (const outcome of [1, 'timeout'] as const) {
    it(`stop ${outcome === 1 ? 'exits 1' : 'times out'}: refused, nothing else changed`, async () => {
      const c = cluster({ slaves: 2, hooks: { onlineChange: true } });
      c.hooks.on('master_ip_online_change_script', outcome, { command: 'stop' });
      const { err } = await switchFails(c, 'server2');
      assert.deepEqual([err.step, err.rolledBack], ['hook stop', false]);
      assert.deepEqual(changes(c), []);
      assert.deepEqual(c.writable(), ['server1']);
      assert.equal(c.hooks.callsOf('master_ip_online_change_script', 'start').length, 0);
    });
  }
});
