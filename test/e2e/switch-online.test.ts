// `ha switch --online` on the lab, under write load: an unprivileged writer (the lab's load) and a
// privileged one (ALL PRIVILEGES, which read_only does not stop on MariaDB) write through the
// switch; no acknowledged write may be missing on the new master, and none may land on the old
// master afterwards. Refusals change nothing; a failure after the block rolls back.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createConnection } from 'mysql2/promise';
import { ADMIN_PASSWORD, ADMIN_USER, Lab, startPrivilegedWriter, type LabHost } from '../lab/lab.js';
import { runHa } from './ha.js';

/** The host that takes writes now (read_only=0): what a VIP or proxy would point at. */
async function writable(lab: Lab): Promise<LabHost> {
  for (const h of lab.hosts) {
    const [r] = await lab.sql(h, 'SELECT @@read_only AS ro').catch(() => [{ ro: 1 }]);
    if (Number(r!.ro) === 0) return h;
  }
  throw new Error('no writable host');
}

/** The privileged writer, following the writable host. */
function privilegedWriter(lab: Lab) {
  return startPrivilegedWriter({ target: () => writable(lab), connectTimeoutMs: 1000, pauseMs: 3, maxDurationMs: 60_000 });
}

async function ids(lab: Lab, h: number, table: string): Promise<Set<number>> {
  return new Set((await lab.sql(h, `SELECT id FROM hatest.${table}`)).map((r) => Number(r.id)));
}

async function checksum(lab: Lab, h: number): Promise<string> {
  const rows = await lab.sql(h, 'CHECKSUM TABLE hatest.load, hatest.priv');
  return rows.map((r) => `${r.Table}=${r.Checksum}`).join(',');
}

describe('ha switch --online (lab)', () => {
  let lab: Lab;
  let conf: string;

  before(async () => {
    lab = await Lab.up({ hosts: 3, name: 'e2e-switch-online' });
    conf = lab.writeConfig();
    await lab.sql(1, 'CREATE TABLE hatest.priv (id INT PRIMARY KEY)');
    await lab.waitForSlaveSync();
  });
  after(async () => {
    await lab?.down();
  });

  it('refuses, changing nothing, when a slave lags, the new master is not a slave, or a long write is open', async () => {
    const notSlave = await runHa(['switch', '--conf', conf, '--online', '--new-master', lab.hosts[0]!.ip, '--yes']);
    assert.equal(notSlave.exitCode, 1);
    assert.match(notSlave.stdout, /switch refused: server1 is the current master; nothing was changed/);

    await lab.stopSlaveIo(3);
    const stopped = await runHa(['switch', '--conf', conf, '--online', '--new-master', lab.hosts[1]!.ip, '--yes']);
    assert.equal(stopped.exitCode, 1);
    assert.match(stopped.stdout, /server3: replication threads not running/);
    await lab.startSlaveIo(3);

    // A real lag: a delayed slave holding an event stamped 100 s ago (Seconds_Behind_Master ~100).
    await lab.sql(3, 'STOP SLAVE');
    await lab.sql(3, 'CHANGE MASTER TO MASTER_DELAY = 3600');
    await lab.sql(3, 'START SLAVE');
    await lab.sql(1, 'SET timestamp = UNIX_TIMESTAMP() - 100');
    await lab.sql(1, 'INSERT INTO hatest.priv VALUES (777777)');
    await lab.sql(1, 'SET timestamp = DEFAULT');
    const deadline = Date.now() + 20_000;
    while (Number((await lab.sql(3, 'SHOW SLAVE STATUS'))[0]!.Seconds_Behind_Master ?? 0) < 50) {
      if (Date.now() > deadline) throw new Error('timed out waiting for server3 to report a delay');
      await new Promise((r) => setTimeout(r, 100));
    }
    const lag = await runHa(['switch', '--conf', conf, '--online', '--new-master', lab.hosts[1]!.ip, '--yes']);
    assert.equal(lag.exitCode, 1);
    assert.match(lag.stdout, /server3 is \d+ s behind the master \(limit 1 s, --running-updates-limit\)/);
    await lab.sql(3, 'STOP SLAVE');
    await lab.sql(3, 'CHANGE MASTER TO MASTER_DELAY = 0');
    await lab.sql(3, 'START SLAVE');
    await lab.sql(1, 'DELETE FROM hatest.priv WHERE id = 777777');
    await lab.waitForSlaveSync();

    const c = await createConnection({ host: lab.hosts[0]!.ip, port: 3306, user: ADMIN_USER, password: ADMIN_PASSWORD });
    await c.query('BEGIN');
    await c.query('INSERT INTO hatest.priv VALUES (999999)');
    await new Promise((r) => setTimeout(r, 2200));
    const long = await runHa(['switch', '--conf', conf, '--online', '--new-master', lab.hosts[1]!.ip, '--yes']);
    await c.query('ROLLBACK');
    await c.end();
    assert.equal(long.exitCode, 1);
    assert.match(long.stdout, /a write transaction \(thread \d+\) has been open on the master for \d+ s/);
    const [ro] = await lab.sql(1, 'SELECT @@read_only AS ro');
    assert.equal(Number(ro!.ro), 0, 'the master still takes writes');
    const dry = await runHa(['switch', '--conf', conf, '--online', '--new-master', lab.hosts[1]!.ip, '--dry-run']);
    assert.equal(dry.exitCode, 0, dry.stdout + dry.stderr);
    assert.match(dry.stdout, /Dry run: nothing was changed/);
  });

  it('rolls back when the new master dies after writes were blocked', async () => {
    // The online-change hook stands in for a failure: its stop step kills the new master's mysqld.
    const hook = join(lab.dir, 'online-change.sh');
    writeFileSync(hook, `#!/bin/sh\ncase "$*" in *--command=stop*) kill -9 "$(cat ${lab.hosts[1]!.pidFile})" ;; esac\nexit 0\n`);
    chmodSync(hook, 0o755);
    const c = lab.writeConfig({ file: join(lab.dir, 'inject.cnf'), serverDefault: { master_ip_online_change_script: hook } });
    const r = await runHa(['switch', '--conf', c, '--online', '--new-master', lab.hosts[1]!.ip, '--yes'], { timeoutMs: 60_000 });
    assert.equal(r.exitCode, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /rolled back: the old master takes writes again/);
    const [ro] = await lab.sql(1, 'SELECT @@read_only AS ro');
    assert.equal(Number(ro!.ro), 0);
    await lab.sql(1, 'INSERT INTO hatest.priv VALUES (888888)');
    await lab.sql(1, 'DELETE FROM hatest.priv WHERE id = 888888');
    await lab.startMysqld(2);
    await lab.waitForSlaveSync();
  });

  it('switches under load with no acknowledged write lost, and nothing landing on the old master afterwards', async () => {
    const load = lab.startWriteLoad({ target: () => writable(lab) });
    const priv = privilegedWriter(lab);
    await load.waitForAcks(100, 20_000);
    const t0 = Date.now();
    const r = await runHa(['switch', '--conf', conf, '--online', '--new-master', lab.hosts[1]!.ip, '--orig-master-is-new-slave', '--yes'], { timeoutMs: 60_000 });
    const commandMs = Date.now() - t0;
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const blocked = /writes blocked (\d+) ms/.exec(r.stdout)?.[1];
    await new Promise((res) => setTimeout(res, 1000));
    const res = await load.stop();
    await priv.stop();
    assert.ok(res.firstAckAfter(t0 + commandMs) !== undefined, 'the load resumed on the new master');
    // Every acknowledged write is on the new master.
    const onNew = await ids(lab, 2, 'load');
    assert.deepEqual(
      res.acked.filter((a) => !onNew.has(a.n)).map((a) => a.n),
      [],
      'unprivileged writes lost',
    );
    const privOnNew = await ids(lab, 2, 'priv');
    assert.deepEqual(
      priv.acked.filter((a) => !privOnNew.has(a.n)).map((a) => a.n),
      [],
      'privileged writes lost',
    );
    // The old master is a slave of the new one and equal to it: nothing landed there on its own.
    await lab.waitForSlaveSync([1, 3]);
    const [ss] = await lab.sql(1, 'SHOW SLAVE STATUS');
    assert.equal(ss!.Master_Host, lab.hosts[1]!.ip);
    const sum = await checksum(lab, 2);
    assert.equal(await checksum(lab, 1), sum);
    assert.equal(await checksum(lab, 3), sum);
    console.log(
      `# online switch: command ${commandMs} ms, writes blocked ${blocked} ms (ha), longest gap seen by the load ${res.longestGapMs} ms, ${res.acked.length} + ${priv.acked.length} acknowledged writes`,
    );
  });

  it('goes on when master_ip_online_change_script exits 10, as MHA 0.58 does ("Proceeding.")', async () => {
    // After the previous test host 2 is the master; switch back to host 1 with a hook that exits
    // 10 for both stop and start. MHA's reject_update / switch_master warn and proceed on 10.
    const calls = join(lab.dir, 'online-change-10.calls');
    const hook = join(lab.dir, 'online-change-10.sh');
    writeFileSync(hook, `#!/bin/sh\necho "$1" >> ${calls}\nexit 10\n`);
    chmodSync(hook, 0o755);
    const c = lab.writeConfig({ file: join(lab.dir, 'exit10.cnf'), serverDefault: { master_ip_online_change_script: hook } });
    const r = await runHa(['switch', '--conf', c, '--online', '--new-master', lab.hosts[0]!.ip, '--orig-master-is-new-slave', '--yes'], { timeoutMs: 60_000 });
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /WARNING: master_ip_online_change_script --command=stop exited 10: proceeding/);
    assert.match(r.stdout, /WARNING: master_ip_online_change_script --command=start exited 10: proceeding/);
    assert.deepEqual(readFileSync(calls, 'utf8').trim().split('\n'), ['--command=stop', '--command=start']);
    const [ro] = await lab.sql(1, 'SELECT @@read_only AS ro');
    assert.equal(Number(ro!.ro), 0, 'host 1 is the master again and takes writes');
    await lab.waitForSlaveSync([2, 3]);
    const [ss] = await lab.sql(2, 'SHOW SLAVE STATUS');
    assert.equal(ss!.Master_Host, lab.hosts[0]!.ip, 'the old master (host 2) replicates from host 1');
  });
});

describe('ha switch --online (lab, MariaDB GTID)', () => {
  let lab: Lab;
  let conf: string;
  before(async () => {
    lab = await Lab.up({ hosts: 3, gtid: true, name: 'e2e-switch-online-gtid' });
    // No repl_user: the old master and the slaves are repointed with the slaves' own account (MHA's rule).
    conf = lab.writeConfig({ serverDefault: { repl_user: null } });
    await lab.sql(1, 'CREATE TABLE hatest.priv (id INT PRIMARY KEY)');
    await lab.waitForSlaveSync();
  });
  after(async () => {
    await lab?.down();
  });

  it('switches under load; the slaves and the old master follow the new master by GTID', async () => {
    const load = lab.startWriteLoad({ target: () => writable(lab) });
    await load.waitForAcks(100, 20_000);
    const r = await runHa(['switch', '--conf', conf, '--online', '--new-master', lab.hosts[2]!.ip, '--orig-master-is-new-slave', '--yes'], { timeoutMs: 60_000 });
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    await new Promise((res) => setTimeout(res, 500));
    const res = await load.stop();
    const onNew = await ids(lab, 3, 'load');
    assert.deepEqual(
      res.acked.filter((a) => !onNew.has(a.n)).map((a) => a.n),
      [],
    );
    await lab.waitForSlaveSync([1, 2]);
    for (const h of [1, 2]) {
      const [ss] = await lab.sql(h, 'SHOW SLAVE STATUS');
      assert.equal(ss!.Master_Host, lab.hosts[2]!.ip);
      assert.equal(ss!.Using_Gtid, 'Slave_Pos', `server${h} replicates by GTID`);
    }
    const sum = await checksum(lab, 3);
    assert.equal(await checksum(lab, 1), sum);
    assert.equal(await checksum(lab, 2), sum);
  });
});
