// `ha manager` end to end with MariaDB GTID replication (scenario g of issue 4: a and b again).
// The slaves replicate with MASTER_USE_GTID=slave_pos; after the failover they must again, from the
// new master, with gtid_slave_pos covering what the diffs applied.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { appliedInReport, diffLine, eventsFromRelayOf, expectCompletedFailover, expectDeadMastersRowsOn, lagSlave, reportOf, Scenario, slaveStatus } from './manager-harness.js';

/** The slave replicates by GTID (Using_Gtid=Slave_Pos) and its gtid_slave_pos is the new master's position. */
async function expectGtidSlave(s: Scenario, slave: number, master: number): Promise<void> {
  const st = await slaveStatus(s.lab, slave);
  assert.equal(st?.Using_Gtid, 'Slave_Pos', `host ${slave} does not replicate by GTID after the failover`);
  const [m] = await s.lab.sql(master, 'SELECT @@GLOBAL.gtid_binlog_pos AS p');
  const [sl] = await s.lab.sql(slave, 'SELECT @@GLOBAL.gtid_slave_pos AS p');
  assert.equal(sl?.p, m?.p, `gtid_slave_pos of host ${slave} vs the new master's gtid_binlog_pos`);
}

describe('g/a. GTID: kill -9 of the master, slaves in sync', () => {
  const s = new Scenario({ name: 'e2e-mgr-ga', hosts: 3, gtid: true, config: { servers: { 2: { candidate_master: 1 } } } });
  before(() => s.up());
  after(() => s.teardown());

  it('promotes the candidate in GTID mode; nothing acknowledged lost; all equal; exit 0', async () => {
    await s.startManager();
    await s.lab.waitForSlaveSync([2, 3], 10_000);
    const faultAt = Date.now();
    await s.lab.killMysqld(1);
    const log = await expectCompletedFailover(s, 2, [3], faultAt, 'g/a');
    assert.match(log, /GTID mode: slaves will be repointed by GTID/);
    assert.match(reportOf(log), /Mode: GTID\./);
    assert.match(log, /server3 CHANGE MASTER TO .*MASTER_USE_GTID=slave_pos/i);
    await expectGtidSlave(s, 3, 2);
    await expectDeadMastersRowsOn(s, 2);
  });
});

describe('g/b. GTID: a slave lagging when the master dies', () => {
  const s = new Scenario({ name: 'e2e-mgr-gb', hosts: 3, gtid: true });
  before(() => s.up());
  after(() => s.teardown());

  it("the lagging slave gets the latest slave's relay-log diff and its GTIDs; nothing lost; all equal", async () => {
    await s.startManager();
    await lagSlave(s, 3);
    await s.lab.waitForSlaveSync([2], 10_000);
    const faultAt = Date.now();
    await s.lab.killMysqld(1);
    const log = await expectCompletedFailover(s, 2, [3], faultAt, 'g/b');
    const fromRelay = eventsFromRelayOf(log, 'server3', 'server2');
    assert.ok(fromRelay > 0, `server3's diff has no events from server2's relay logs: ${diffLine(log, 'server3')}`);
    assert.ok(appliedInReport(log, 'server3') >= fromRelay, reportOf(log));
    assert.match(log, /server3 gtid_slave_pos = 0-1-\d+/);
    await expectGtidSlave(s, 3, 2);
    await expectDeadMastersRowsOn(s, 2);
  });
});
