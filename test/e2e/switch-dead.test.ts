// `ha switch --master-state dead` on the lab: a manual failover after kill -9, the manager not
// running, to a chosen new master that is BEHIND the latest slave — it must still get everything.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Lab } from '../lab/lab.js';
import { runHa } from './ha.js';

async function tableSums(lab: Lab, h: number): Promise<string> {
  const rows = await lab.sql(h, 'SELECT COUNT(*) AS n, COALESCE(SUM(id), 0) AS s FROM hatest.t');
  return `${rows[0]!.n}/${rows[0]!.s}`;
}

describe('ha switch --master-state dead (lab)', () => {
  let lab: Lab;
  let conf: string;

  before(async () => {
    lab = await Lab.up({ hosts: 3, name: 'e2e-switch-dead' });
    conf = lab.writeConfig();
    await lab.sql(1, 'CREATE TABLE hatest.t (id INT PRIMARY KEY, pad VARCHAR(200))');
    await lab.sql(1, "INSERT INTO hatest.t SELECT seq, REPEAT('a', 100) FROM hatest.seq_1_to_1000");
    await lab.waitForSlaveSync();
    await lab.stopSlaveIo(3); // server3 falls behind; it will be the chosen new master
    await lab.sql(1, "INSERT INTO hatest.t SELECT seq, REPEAT('b', 150) FROM hatest.seq_1001_to_4000");
    await lab.sql(1, 'CREATE TABLE hatest.after_lag (a INT)');
    await lab.sql(1, 'INSERT INTO hatest.after_lag VALUES (42)');
    await lab.waitForSlaveSync([2]);
  });
  after(async () => {
    await lab?.down();
  });

  it('refuses without --yes when not on a terminal, and names an unknown server', async () => {
    const r = await runHa(['switch', '--conf', conf, '--master-state', 'dead']);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /not on a terminal: confirm with --yes/);
    const bad = await runHa(['switch', '--conf', conf, '--master-state', 'dead', '--new-master', '192.0.2.99', '--yes']);
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /--new-master 192\.0\.2\.99 is not a server in/);
    // An online switch is refused here: server3's IO thread is stopped (nothing is changed).
    const online = await runHa(['switch', '--conf', conf, '--online', '--new-master', lab.hosts[1]!.ip]);
    assert.equal(online.exitCode, 1);
    assert.match(online.stdout, /server3: replication threads not running/);
  });

  it('fails over to a lagging slave that still gets every event the latest slave had', async () => {
    const expected = await tableSums(lab, 1);
    await lab.killMysqld(1);
    const r = await runHa(['switch', '--conf', conf, '--master-state', 'dead', '--dead-master', lab.hosts[0]!.ip, '--new-master', `${lab.hosts[2]!.ip}:3306`, '--yes'], {
      timeoutMs: 120_000,
    });
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /new master: [\d.]+:3306 \(chosen on the command line\)/);
    assert.match(r.stdout, /app1: MySQL master failover server1 to server3/);
    assert.equal(await tableSums(lab, 3), expected, 'the new master has every row the master committed');
    assert.deepEqual(await lab.sql(3, 'SELECT a FROM hatest.after_lag'), [{ a: 42 }]);
    const [ro] = await lab.sql(3, 'SELECT @@read_only AS ro');
    assert.equal(Number(ro!.ro), 0);
    assert.deepEqual(await lab.sql(3, 'SHOW SLAVE STATUS'), [], 'RESET SLAVE ALL on the new master');
    // server2 now replicates from server3 and has the same data
    await lab.sql(3, "INSERT INTO hatest.t VALUES (5000, 'after failover')");
    await lab.waitForSlaveSync([2]);
    const [ss] = await lab.sql(2, 'SHOW SLAVE STATUS');
    assert.equal(ss!.Master_Host, lab.hosts[2]!.ip);
    assert.equal(await tableSums(lab, 2), await tableSums(lab, 3));
    assert.ok(existsSync(join(lab.dir, 'manager', 'app1.failover.complete')));
  });

  it('refuses a second failover within last_failover_minute, saying how to proceed', async () => {
    const r = await runHa(['switch', '--conf', conf, '--master-state', 'dead', '--dead-master', lab.hosts[2]!.ip, '--yes']);
    assert.equal(r.exitCode, 1);
    assert.match(r.stdout, /failover refused: the last failover completed at .* within last_failover_minute=480.*--ignore-last-failover/);
  });
});
