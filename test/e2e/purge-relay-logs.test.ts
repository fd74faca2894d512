// `ha purge-relay-logs` against real lab slaves: relay logs are made for real (writes, FLUSH LOGS
// on the master, FLUSH RELAY LOGS on the slaves), purged by the real bin/ha, and the result is read
// back from the hosts' disks and servers. Then the point of the safety rule: a slave that lags
// keeps the other's relay logs from being purged, and the failover that follows loses nothing.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { managerFiles, removeStatus, writeStatus } from '../../src/manager/state.js';
import { Lab, type Row } from '../lab/lab.js';
import { runHa, runHaJson } from './ha.js';
import { Scenario, assertAllEqual, eventsFromRelayOf, expectCompletedFailover, lagSlave } from './manager-harness.js';

interface HostJson {
  server: string;
  outcome: string;
  failed: boolean;
  message: string;
  files: { file: string; bytes: number }[];
  bytesFreed: number;
  kept: string[];
  neededBy?: { server: string; exec?: string; read?: string; reason: string }[];
  relayLogPurge?: { before: boolean; restored: boolean };
  ioPausedMs?: number;
  workdir?: string;
}
interface PurgeJson {
  ok: boolean;
  exitCode: number;
  dryRun: boolean;
  bytesFreed: number;
  hosts: HostJson[];
}

const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);

function purge(conf: string, extra: string[] = []) {
  return runHaJson<PurgeJson>(['purge-relay-logs', '--conf', conf, ...extra], { timeoutMs: 90_000 });
}

function hostResult(r: { json: PurgeJson; stdout: string }, server: string): HostJson {
  const h = r.json.hosts.find((x) => x.server === server);
  assert.ok(h, `no result for ${server}: ${r.stdout}`);
  return h;
}

/** The relay logs the host's index lists, as file names. */
function relayIndex(lab: Lab, h: number): string[] {
  const text = readFileSync(join(lab.host(h).relayDir, 'relay-bin.index'), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map(base);
}

/** Relay log files on the host's disk, with their sizes. */
/**
 * Asserts no relay log was removed or shrunk. The newest one may grow meanwhile: the IO thread
 * keeps writing it (e.g. the master's Binlog_checkpoint event, written a moment after a rotation).
 */
function assertUntouched(now: Map<string, number>, before: Map<string, number>, what: string): void {
  const newest = [...before.keys()].sort().at(-1);
  assert.deepEqual([...now.keys()].sort(), [...before.keys()].sort(), `${what}: relay log files`);
  for (const [f, size] of before) {
    if (f === newest) assert.ok(now.get(f)! >= size, `${what}: ${f} shrank from ${size} to ${now.get(f)} bytes`);
    else assert.equal(now.get(f), size, `${what}: ${f} changed size`);
  }
}

function relayOnDisk(lab: Lab, h: number): Map<string, number> {
  const dir = lab.host(h).relayDir;
  return new Map(
    readdirSync(dir)
      .filter((f) => /^relay-bin\.\d+$/.test(f))
      .map((f) => [f, statSync(join(dir, f)).size]),
  );
}

/** Purge hard links left anywhere they could be: remote_workdir and the relay-log directory. */
function leftovers(lab: Lab, h: number): string[] {
  const host = lab.host(h);
  return [host.remoteWorkdir, host.relayDir].flatMap((d) => (existsSync(d) ? readdirSync(d).filter((f) => f.startsWith('ha-purged-relay-log.')) : []));
}

async function slave(lab: Lab, h: number): Promise<Row> {
  const [row] = await lab.sql(h, 'SHOW SLAVE STATUS');
  assert.ok(row, `host ${h} is not a slave`);
  return row;
}

async function relayLogPurge(lab: Lab, h: number): Promise<number> {
  const [row] = await lab.sql(h, 'SELECT @@GLOBAL.relay_log_purge AS v');
  return Number(row!.v);
}

/** Several relay logs on every slave: rows written and logs flushed on the master and the slaves. */
async function makeRelayLogs(lab: Lab, rounds: number, slaves = [2, 3], sync = slaves): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await lab.sql(1, `INSERT INTO hatest.purge_t (v) VALUES (REPEAT('r', 500)), (REPEAT('s', 500))`);
    await lab.sql(1, 'FLUSH LOGS');
    for (const h of slaves) await lab.sql(h, 'FLUSH RELAY LOGS');
  }
  await lab.waitForSlaveSync(sync, 20_000);
}

/** The checks every purged slave passes. */
async function assertPurged(lab: Lab, h: number, r: HostJson, indexBefore: string[], sizesBefore: Map<string, number>): Promise<void> {
  assert.equal(r.outcome, 'purged', r.message);
  assert.ok(r.files.length >= 2, `only ${r.files.length} relay logs purged on host ${h}: ${r.message}`);
  const index = relayIndex(lab, h);
  const disk = relayOnDisk(lab, h);
  for (const f of r.files.map((x) => base(x.file))) {
    assert.ok(indexBefore.includes(f), `${f} reported purged but was not in the index before`);
    assert.ok(!index.includes(f), `${f} reported purged but still in host ${h}'s relay-log index`);
    assert.ok(!disk.has(f), `${f} reported purged but still on host ${h}'s disk`);
  }
  // Bytes freed are the purged files' sizes (the hard-linked copies were shrunk and removed).
  const expected = r.files.reduce((n, x) => n + (sizesBefore.get(base(x.file)) ?? NaN), 0);
  assert.equal(r.bytesFreed, expected, `bytes freed on host ${h}`);
  // What is kept: the index is what is on disk, and it holds the SQL thread's relay log.
  assert.deepEqual([...disk.keys()].sort(), [...index].sort(), `host ${h}: relay logs on disk vs index`);
  const st = await slave(lab, h);
  assert.ok(index.includes(String(st.Relay_Log_File)), `host ${h}: the SQL thread's ${st.Relay_Log_File} is not in the index ${index.join(' ')}`);
  assert.ok(index.length < indexBefore.length, `host ${h}: index not shorter (${indexBefore.length} → ${index.length})`);
  assert.equal(await relayLogPurge(lab, h), 0, `relay_log_purge on host ${h}`);
  assert.deepEqual(r.relayLogPurge, { before: false, restored: true });
  assert.equal(st.Slave_IO_Running, 'Yes', `host ${h} IO thread`);
  assert.equal(st.Slave_SQL_Running, 'Yes', `host ${h} SQL thread`);
  assert.deepEqual(leftovers(lab, h), [], `hard links left on host ${h}`);
}

describe('ha purge-relay-logs (lab, file/position)', () => {
  let lab: Lab;
  let conf: string;

  before(async () => {
    lab = await Lab.up({ hosts: 3, name: 'e2e-purge' });
    conf = lab.writeConfig();
    await lab.sql(1, 'CREATE TABLE hatest.purge_t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(600))');
    await lab.waitForSlaveSync();
  });
  after(() => lab?.down());

  it('--dry-run says what would be purged and changes nothing', async () => {
    await makeRelayLogs(lab, 3);
    const before2 = relayIndex(lab, 2);
    const disk3 = relayOnDisk(lab, 3);
    const r = await purge(conf, ['--dry-run']);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.equal(r.json.dryRun, true);
    assert.equal(hostResult(r, 'server1').outcome, 'master');
    for (const h of [2, 3]) {
      const hr = hostResult(r, `server${h}`);
      assert.equal(hr.outcome, 'would-purge', hr.message);
      const st = await slave(lab, h);
      // Everything before the SQL thread's relay log, which itself is kept.
      const index = relayIndex(lab, h);
      assert.deepEqual(
        hr.files.map((f) => base(f.file)),
        index.slice(0, index.indexOf(String(st.Relay_Log_File))),
      );
      assert.ok(hr.files.length >= 3, hr.message);
    }
    assert.deepEqual(relayIndex(lab, 2), before2, 'dry run changed the index');
    assertUntouched(relayOnDisk(lab, 3), disk3, 'dry run');
    assert.equal(await relayLogPurge(lab, 2), 0);
  });

  it('purges the old relay logs of every slave under a write load, keeps what replication needs, loses nothing', async () => {
    const load = lab.startWriteLoad({ target: () => lab.host(1), table: 'purge_load', maxDurationMs: 60_000 });
    await load.waitForAcks(50, 15_000);
    await makeRelayLogs(lab, 4);
    const before = { 2: relayIndex(lab, 2), 3: relayIndex(lab, 3) } as Record<number, string[]>;
    const sizes = { 2: relayOnDisk(lab, 2), 3: relayOnDisk(lab, 3) } as Record<number, Map<string, number>>;
    const r = await purge(conf);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.equal(r.json.ok, true);
    for (const h of [2, 3]) {
      const hr = hostResult(r, `server${h}`);
      await assertPurged(lab, h, hr, before[h]!, sizes[h]!);
      assert.ok((hr.ioPausedMs ?? Infinity) < 5_000, `IO thread paused ${hr.ioPausedMs} ms on host ${h}`);
    }
    assert.equal(r.json.bytesFreed, hostResult(r, 'server2').bytesFreed + hostResult(r, 'server3').bytesFreed);
    await load.waitForAcks(load.ackedCount + 50, 15_000);
    const res = await load.stop();
    await lab.waitForSlaveSync([2, 3], 20_000);
    for (const h of [2, 3]) assert.deepEqual(await res.verifyOn(h), [], `acknowledged writes missing on host ${h}`);
    await assertAllEqual(lab, 1, [2, 3]);
  });

  it('--host purges only that slave; human output names files, bytes and durations', async () => {
    await makeRelayLogs(lab, 2);
    const before2 = relayIndex(lab, 2);
    const before3 = relayIndex(lab, 3);
    const r = await runHa(['purge-relay-logs', '--conf', conf, '--host', 'server3'], { timeoutMs: 60_000 });
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /✔ server3 purged \d+ relay logs \(relay-bin\.\d+.*\), [\d.]+ (B|KiB|MiB); kept relay-bin\.\d+.*relay_log_purge back to 0; IO thread paused [\d.]+ m?s \([\d.]+ m?s\)/,
    );
    assert.doesNotMatch(r.stdout, /server2/);
    assert.match(r.stdout, /Freed [\d.]+ (B|KiB|MiB) on 1 slave — 0 errors, 0 warnings, [\d.]+ m?s/);
    assert.deepEqual(relayIndex(lab, 2), before2, '--host server3 touched server2');
    assert.ok(relayIndex(lab, 3).length < before3.length, 'server3 not purged');
    // By hostname too.
    await makeRelayLogs(lab, 2);
    const byName = await purge(conf, ['--host', lab.host(2).ip]);
    assert.equal(byName.exitCode, 0, byName.stdout);
    assert.deepEqual(
      byName.json.hosts.map((h) => [h.server, h.outcome]),
      [['server2', 'purged']],
    );
  });

  it('a slave whose SQL thread is stopped keeps the other from purging what it still needs', async () => {
    await lab.sql(3, 'STOP SLAVE SQL_THREAD');
    await makeRelayLogs(lab, 3, [2, 3], [2]);
    const index2 = relayIndex(lab, 2);
    const disk2 = relayOnDisk(lab, 2);
    const index3 = relayIndex(lab, 3);
    const r = await purge(conf);
    assert.equal(r.exitCode, 1, r.stdout + r.stderr);
    const s2 = hostResult(r, 'server2');
    assert.equal(s2.outcome, 'skipped', s2.message);
    assert.deepEqual(
      s2.neededBy?.map((n) => n.server),
      ['server3'],
    );
    assert.match(s2.message, /server3 still needs these relay logs for a failover — server3 has executed only up to mysql-bin\.\d+:\d+ .*SQL thread is stopped/);
    const s3 = hostResult(r, 'server3');
    assert.equal(s3.outcome, 'skipped');
    assert.match(s3.message, /SQL thread is stopped/);
    // Nothing touched: same files, same sizes, replication and relay_log_purge as they were.
    assert.deepEqual(relayIndex(lab, 2), index2);
    assertUntouched(relayOnDisk(lab, 2), disk2, 'skipped server2');
    assert.deepEqual(relayIndex(lab, 3), index3);
    assert.equal((await slave(lab, 2)).Slave_IO_Running, 'Yes');
    assert.equal(await relayLogPurge(lab, 2), 0);
    assert.equal(await relayLogPurge(lab, 3), 0);
    assert.deepEqual(leftovers(lab, 2), []);

    // Once server3 has executed them, server2 may purge.
    await lab.sql(3, 'START SLAVE SQL_THREAD');
    await lab.waitForSlaveSync([2, 3], 20_000);
    const sizes = relayOnDisk(lab, 2);
    const ok = await purge(conf, ['--host', 'server2']);
    assert.equal(ok.exitCode, 0, ok.stdout);
    await assertPurged(lab, 2, hostResult(ok, 'server2'), index2, sizes);
  });

  it('a slave delayed by MASTER_DELAY keeps the other from purging, without waiting', async () => {
    await lab.sql(3, 'STOP SLAVE');
    await lab.sql(3, 'CHANGE MASTER TO MASTER_DELAY=120');
    await lab.sql(3, 'START SLAVE');
    try {
      await makeRelayLogs(lab, 2, [2], [2]);
      const index2 = relayIndex(lab, 2);
      const r = await purge(conf, ['--host', 'server2']);
      assert.equal(r.exitCode, 1, r.stdout);
      const s2 = hostResult(r, 'server2');
      assert.deepEqual(
        s2.neededBy?.map((n) => n.server),
        ['server3'],
      );
      assert.match(s2.message, /MASTER_DELAY=120 s/);
      assert.ok(r.durationMs < 8_000, `took ${r.durationMs} ms: it waited for a slave that cannot catch up`);
      assert.deepEqual(relayIndex(lab, 2), index2);
    } finally {
      await lab.sql(3, 'STOP SLAVE');
      await lab.sql(3, 'CHANGE MASTER TO MASTER_DELAY=0');
      await lab.sql(3, 'START SLAVE');
      await lab.waitForSlaveSync([2, 3], 20_000);
    }
  });

  it('usage: an unknown --host exits 2, the master exits 1, a bad --wait exits 2; a failing-over manager is left alone', async () => {
    const unknown = await purge(conf, ['--host', 'server9']);
    assert.equal(unknown.exitCode, 2, unknown.stdout);
    assert.match(JSON.stringify(unknown.json), /--host server9: no \[serverN\] block or hostname server9/);
    const master = await purge(conf, ['--host', 'server1']);
    assert.equal(master.exitCode, 1, master.stdout);
    assert.equal(hostResult(master, 'server1').outcome, 'master');
    const wait = await runHa(['purge-relay-logs', '--conf', conf, '--wait', 'soon']);
    assert.equal(wait.exitCode, 2, wait.stdout);
    // A manager on this host in the middle of a failover: hands off.
    const files = managerFiles(loadConfig({ file: conf, globalFile: '/nonexistent' }).config);
    writeStatus(files, {
      app: 'app1',
      pid: process.pid,
      status: 'FAILOVER_RUNNING',
      code: 50,
      phase: "3.2 Saving dead master's binlog",
      startedAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      pingIntervalSeconds: 3,
    });
    try {
      const busy = await purge(conf, ['--host', 'server2']);
      assert.equal(busy.exitCode, 1, busy.stdout);
      assert.match(hostResult(busy, 'server2').message, /the manager \(pid \d+\) reports 50:FAILOVER_RUNNING \(3\.2 Saving dead master's binlog\): not touching replication/);
    } finally {
      removeStatus(files);
    }
    const help = await runHa(['purge-relay-logs', '--help']);
    assert.equal(help.exitCode, 0);
    assert.match(help.stdout, /Exit codes: 0 every slave purged[\s\S]*1 a slave could not be purged[\s\S]*2 usage error/);
    assert.match(help.stdout, /\d+ \S+ \* \* \* .*ha purge-relay-logs --conf/, 'no cron line in --help');
  });
});

describe('after a purge, a failover with a lagging slave loses nothing', () => {
  const s = new Scenario({ name: 'e2e-purge-failover', hosts: 3 });
  before(async () => {
    await s.up();
    await s.lab.sql(1, 'CREATE TABLE hatest.purge_t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(600))');
    await s.lab.waitForSlaveSync();
  });
  after(() => s.teardown());

  it("server2's relay logs are purged, then kept while server3 lags; the failover gives server3 what it lacks", async () => {
    await makeRelayLogs(s.lab, 3);
    const first = await purge(s.conf);
    assert.equal(first.exitCode, 0, first.stdout);
    assert.deepEqual(
      first.json.hosts.map((h) => h.outcome),
      ['master', 'purged', 'purged'],
    );

    await s.startManager();
    await lagSlave(s, 3); // server3's IO thread stopped while the load writes on
    await s.lab.waitForSlaveSync([2], 10_000);
    const index2 = relayIndex(s.lab, 2);
    const refused = await purge(s.conf, ['--host', 'server2']);
    assert.equal(refused.exitCode, 1, refused.stdout);
    assert.deepEqual(
      hostResult(refused, 'server2').neededBy?.map((n) => n.server),
      ['server3'],
    );
    assert.match(hostResult(refused, 'server2').message, /IO thread is not running/);
    assert.deepEqual(relayIndex(s.lab, 2), index2, 'server2 purged relay logs server3 needs');

    const faultAt = Date.now();
    await s.lab.killMysqld(1);
    const log = await expectCompletedFailover(s, 2, [3], faultAt, 'purge-then-failover');
    assert.ok(eventsFromRelayOf(log, 'server3', 'server2') > 0, "server3 got nothing from server2's relay logs");
  });
});

// The control experiment: the same lag, but server2's relay logs purged the way MHA's
// purge_relay_logs does it (relay_log_purge=1 + FLUSH, no look at the other slaves). The failover
// then cannot give server3 what it lacks: this is what the safety rule prevents.
describe('control: purging without the rule loses what a lagging slave needs', () => {
  const s = new Scenario({ name: 'e2e-purge-control', hosts: 3 });
  before(() => s.up());
  after(() => s.teardown());

  it("an unconditional purge on server2 while server3 lags breaks server3's recovery", async () => {
    await s.startManager();
    await lagSlave(s, 3);
    // server3's read position is now in a relay log of server2 that later ones follow.
    for (let i = 0; i < 3; i++) {
      await s.lab.sql(2, 'FLUSH RELAY LOGS');
      await new Promise((r) => setTimeout(r, 200));
    }
    await s.lab.waitForSlaveSync([2], 10_000);
    await s.lab.sql(2, 'SET GLOBAL relay_log_purge = 1');
    await s.lab.sql(2, 'FLUSH NO_WRITE_TO_BINLOG RELAY LOGS');
    await new Promise((r) => setTimeout(r, 1500)); // MHA sleeps 3 s here
    await s.lab.sql(2, 'SET GLOBAL relay_log_purge = 0');
    await s.lab.killMysqld(1);
    const exit = await s.mgr.waitExit('the failover to end', 60_000);
    const log = s.mgr.text();
    assert.notEqual(exit.code, 0, `the failover succeeded although server2's relay logs were purged:\n${log.slice(-3000)}`);
    // Either way of saying it: the relay logs server3's recovery starts in are gone from server2.
    assert.match(log, /server3: FAILED: .*(relay logs before it are gone|no longer hold that position \(purged)/);
  });
});

describe('ha purge-relay-logs (lab, MariaDB GTID replication)', () => {
  let lab: Lab;
  let conf: string;
  before(async () => {
    lab = await Lab.up({ hosts: 3, gtid: true, name: 'e2e-purge-gtid' });
    conf = lab.writeConfig();
    await lab.sql(1, 'CREATE TABLE hatest.purge_t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(600))');
    await lab.waitForSlaveSync();
  });
  after(() => lab?.down());

  it('purges both slaves; replication by GTID goes on, every server equal', async () => {
    await makeRelayLogs(lab, 3);
    const before = { 2: relayIndex(lab, 2), 3: relayIndex(lab, 3) } as Record<number, string[]>;
    const sizes = { 2: relayOnDisk(lab, 2), 3: relayOnDisk(lab, 3) } as Record<number, Map<string, number>>;
    const r = await purge(conf);
    assert.equal(r.exitCode, 0, r.stdout);
    for (const h of [2, 3]) {
      await assertPurged(lab, h, hostResult(r, `server${h}`), before[h]!, sizes[h]!);
      assert.equal((await slave(lab, h)).Using_Gtid, 'Slave_Pos');
    }
    await lab.sql(1, `INSERT INTO hatest.purge_t (v) VALUES ('after the purge')`);
    await lab.waitForSlaveSync([2, 3], 20_000);
    const pos = await Promise.all([1, 2, 3].map(async (h): Promise<unknown> => (await lab.sql(h, 'SELECT @@GLOBAL.gtid_current_pos AS p'))[0]!.p));
    assert.deepEqual(new Set(pos).size, 1, `GTID positions differ: ${pos.join(' ')}`);
    await assertAllEqual(lab, 1, [2, 3]);
  });
});
