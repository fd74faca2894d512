// The failover (runFailover, phases 1-6) driven through its branches on the fake cluster
// (test/fake): which slave MHA's rules promote, what each server is given, where every slave is
// repointed, in what order, what the report says, and what a failure leaves behind. The same
// scenarios run for real in the lab (test/e2e/manager*.test.ts, switch-dead.test.ts); here they
// need no root, no network and no package, and each takes milliseconds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_ANALYZE_OPTIONS } from '../../src/core/topology.js';
import { runFailover, type FailoverHooks } from '../../src/phases/run.js';
import { cluster, failoverContext, VERSIONS, type FakeCluster, type VersionName } from '../fake/index.js';

type Report = Awaited<ReturnType<typeof runFailover>>;

async function failover(
  c: FakeCluster,
  o: Parameters<typeof failoverContext>[1] & { hooks?: FailoverHooks; abortOn?: string } = {},
): Promise<{ report: Report; ctx: ReturnType<typeof failoverContext> }> {
  const ctx = failoverContext(c, o);
  const hooks: FailoverHooks = {
    ...o.hooks,
    onPhase: (p) => {
      o.hooks?.onPhase?.(p);
      if (o.abortOn && p.startsWith(o.abortOn)) Object.assign(ctx.abort, { requested: true, reason: 'SIGTERM' });
    },
  };
  try {
    return { report: await runFailover(ctx, hooks), ctx };
  } finally {
    ctx.cleanup();
  }
}

const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** Everything a successful failover must leave: one writable master with every event, every slave replicating from it with every event, once. */
function assertPromoted(c: FakeCluster, report: Report, newMaster: string, transactions: number, slaves: string[]): void {
  assert.equal(report.error, undefined, `failover error: ${JSON.stringify(report.error)}`);
  assert.deepEqual(
    report.slaves.filter((s) => !s.ok),
    [],
  );
  assert.equal(report.ok, true);
  assert.equal(report.masterMoved, true);
  assert.equal(report.newMaster, newMaster);
  assert.deepEqual(c.writable(), [newMaster], 'exactly one writable server: the new master');
  assert.equal(c.server(newMaster).repl, undefined, 'the new master no longer replicates (RESET SLAVE ALL)');
  assert.deepEqual(c.executed(newMaster), upTo(transactions), 'the new master has every transaction, once, in order');
  for (const s of slaves) {
    const r = c.replicationOf(s);
    assert.equal(r.from, newMaster, `${s} replicates from the new master`);
    assert.ok(r.running, `${s}: both replication threads run (${r.io}/${r.sql}: ${r.error})`);
    assert.deepEqual(c.executed(s), upTo(transactions), `${s} has every transaction, once, in order`);
  }
  assert.deepEqual(report.slaves.map((s) => s.server).sort(), [...slaves].sort());
  // The new master takes writes only once it has every event, and no slave follows it before.
  const writableAt = c.indexOf('sql', newMaster, 'SET GLOBAL read_only = 0');
  const lastApply = Math.max(-1, ...c.events.filter((e) => e.kind === 'apply' && e.target === newMaster).map((e) => e.seq));
  assert.ok(writableAt > lastApply, 'read_only=0 on the new master after its diff was applied');
  assert.ok(writableAt > c.indexOf('sql', newMaster, /^STOP (SLAVE|REPLICA)$/), 'read_only=0 after its replication was stopped');
  for (const s of slaves) assert.ok(c.indexOf('sql', s, /^CHANGE (MASTER|REPLICATION SOURCE) TO/) > writableAt, `${s} is repointed after the new master takes writes`);
  assert.deepEqual(c.openSessions(), [], 'every MySQL session was closed');
  c.assertClean();
}

/** The transactions a server got through a diff (mysqlbinlog | mysql), as the fake saw them applied. */
function applied(c: FakeCluster, server: string): string[] {
  return c.log('apply', server).map((l) => l.replace(/^.*transactions /, ''));
}

describe('failover on the fake cluster: GTID mode', () => {
  it('MariaDB 10.11: promotes the latest slave, repoints the others by GTID (gtid_slave_pos set first)', async () => {
    const c = cluster({ master: 'mariadb-10.11', slaves: 3, gtid: true, transactions: 6 });
    c.kill('server1');
    const { report } = await failover(c);
    assertPromoted(c, report, 'server2', 6, ['server3', 'server4']);
    assert.equal(report.mode, 'gtid');
    assert.match(report.newMasterReason ?? '', /latest relay log events/);
    for (const s of ['server3', 'server4']) {
      const stmts = c.log('sql', s);
      assert.ok(stmts.includes(`${s}: SET GLOBAL gtid_slave_pos = '0-1-6'`), stmts.join('\n'));
      assert.ok(stmts.includes(`${s}: CHANGE MASTER TO MASTER_HOST='10.9.0.12', MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='********', MASTER_USE_GTID=slave_pos`));
      assert.ok(c.indexOf('sql', s, /^SET GLOBAL gtid_slave_pos/) < c.indexOf('sql', s, /^CHANGE MASTER/));
    }
    // MariaDB >= 10.5.2 statements.
    assert.ok(c.log('sql', 'server2').includes('server2: SHOW ALL REPLICAS STATUS'));
    assert.ok(c.log('sql', 'server2').includes('server2: SHOW BINLOG STATUS'));
    assert.ok(c.log('sql', 'server2').includes('server2: RESET REPLICA ALL'));
  });

  it("MariaDB: a lagging slave gets the latest slave's relay-log diff once, and its GTIDs in gtid_slave_pos", async () => {
    const c = cluster({ master: 'mariadb-10.11', slaves: [{}, { received: 4 }, { received: 5 }], gtid: true, transactions: 6 });
    c.kill('server1');
    const { report } = await failover(c);
    assertPromoted(c, report, 'server2', 6, ['server3', 'server4']);
    assert.deepEqual(applied(c, 'server3'), ['5,6']);
    assert.deepEqual(applied(c, 'server4'), ['6']);
    assert.deepEqual(applied(c, 'server2'), [], 'the latest slave has nothing to apply');
    assert.equal(report.slaves.find((s) => s.server === 'server3')?.transactions, 2);
    // Without the merge, START SLAVE would fetch 5 and 6 again from the new master.
    assert.ok(c.log('sql', 'server3').includes("server3: SET GLOBAL gtid_slave_pos = '0-1-6'"));
  });

  it('MySQL 8.0: CHANGE REPLICATION SOURCE with AUTO_POSITION, super_read_only cleared before read_only', async () => {
    const c = cluster({ master: 'mysql-8.0', slaves: [{}, { received: 3 }], gtid: true, transactions: 5 });
    c.kill('server1');
    const { report } = await failover(c);
    assertPromoted(c, report, 'server2', 5, ['server3']);
    assert.equal(report.mode, 'gtid');
    assert.deepEqual(applied(c, 'server3'), ['4,5']);
    const nm = c.log('sql', 'server2');
    assert.ok(nm.indexOf('server2: SET GLOBAL super_read_only = 0') < nm.indexOf('server2: SET GLOBAL read_only = 0'));
    assert.ok(nm.includes('server2: SHOW REPLICA STATUS') && nm.includes('server2: SHOW MASTER STATUS') && nm.includes('server2: RESET REPLICA ALL'));
    assert.ok(
      c
        .log('sql', 'server3')
        .includes("server3: CHANGE REPLICATION SOURCE TO SOURCE_HOST='10.9.0.12', SOURCE_PORT=3306, SOURCE_USER='repl', SOURCE_PASSWORD='********', SOURCE_AUTO_POSITION=1"),
    );
    assert.equal(c.server('server3').gtidExecutedText(), c.server('server2').gtidExecutedText());
  });

  it('MySQL 5.7: SHOW SLAVE STATUS, CHANGE MASTER TO … MASTER_AUTO_POSITION=1', async () => {
    const c = cluster({ master: 'mysql-5.7', slaves: [{ received: 2 }, {}], gtid: true, transactions: 4 });
    c.kill('server1', { how: 'timeout' });
    const { report } = await failover(c);
    assertPromoted(c, report, 'server3', 4, ['server2']);
    assert.deepEqual(applied(c, 'server2'), ['3,4']);
    assert.ok(c.log('sql', 'server2').some((l) => /^server2: CHANGE MASTER TO MASTER_HOST='10\.9\.0\.13', .*MASTER_AUTO_POSITION=1$/.test(l)));
    assert.ok(c.log('sql', 'server3').includes('server3: SHOW SLAVE STATUS'));
    assert.ok(c.log('sql', 'server3').includes('server3: RESET SLAVE ALL'));
  });
});

describe('failover on the fake cluster: file/position mode', () => {
  it('MariaDB: lagging slaves get relay-log diffs, then CHANGE MASTER to the coordinates the new master had when it took writes', async () => {
    const c = cluster({ master: 'mariadb-10.11', slaves: [{}, { received: 2 }, { received: 4 }], gtid: false, transactions: 6, rotateAfter: [3] });
    c.kill('server1');
    const { report } = await failover(c);
    assertPromoted(c, report, 'server2', 6, ['server3', 'server4']);
    assert.equal(report.mode, 'file-position');
    assert.deepEqual(applied(c, 'server3'), ['3,4,5,6'], 'a diff across the master binlog rotation');
    assert.deepEqual(applied(c, 'server4'), ['5,6']);
    const end = c.server('server2').binlog!.end;
    for (const s of ['server3', 'server4']) {
      assert.ok(
        c
          .log('sql', s)
          .includes(
            `${s}: CHANGE MASTER TO MASTER_HOST='10.9.0.12', MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='********', MASTER_LOG_FILE='${end.file}', MASTER_LOG_POS=${end.position}, MASTER_USE_GTID=no`,
          ),
        c.log('sql', s).join('\n'),
      );
    }
  });

  it('MySQL 8.4 (gtid_mode=OFF): SHOW BINARY LOG STATUS, CHANGE REPLICATION SOURCE … SOURCE_LOG_FILE/POS', async () => {
    const c = cluster({ master: 'mysql-8.4', slaves: [{ received: 3 }, {}, { received: 5 }], gtid: false, transactions: 5 });
    c.kill('server1');
    const { report } = await failover(c);
    assertPromoted(c, report, 'server3', 5, ['server2', 'server4']);
    assert.deepEqual(applied(c, 'server2'), ['4,5']);
    assert.deepEqual(applied(c, 'server4'), []);
    const end = c.server('server3').binlog!.end;
    assert.ok(c.log('sql', 'server3').includes('server3: SHOW BINARY LOG STATUS'));
    assert.ok(c.log('sql', 'server2').some((l) => l.includes(`SOURCE_LOG_FILE='${end.file}', SOURCE_LOG_POS=${end.position}, SOURCE_AUTO_POSITION=0`)));
    assert.ok(!c.log('sql').some((l) => /SHOW (SLAVE|MASTER) STATUS|STOP SLAVE|CHANGE MASTER/.test(l)), 'no statement MySQL 8.4 removed');
  });

  it("a slave whose SQL thread stopped behind gets the rest of its own relay logs (not the latest slave's)", async () => {
    const c = cluster({ master: 'mariadb-10.11', slaves: [{}, { received: 6, executed: 3, sqlRunning: false }], gtid: false, transactions: 6 });
    c.kill('server1');
    const { report } = await failover(c);
    assertPromoted(c, report, 'server2', 6, ['server3']);
    assert.deepEqual(applied(c, 'server3'), ['4,5,6']);
    assert.ok(!c.log('ssh', 'server2').some((l) => /relay-bin\.0+\d/.test(l) && !/index/.test(l)), "server2's relay logs were not read");
  });

  it('a SQL thread too slow for sql_thread timeout: the wait ends, the rest of its own relay logs goes into the diff', async () => {
    const c = cluster({ master: 'mariadb-10.11', slaves: [{}, { received: 10, executed: 0, applyPerPoll: 1 }], gtid: false, transactions: 10 });
    c.kill('server1');
    const { report, ctx } = await failover(c, { timeouts: { sqlThreadMs: 20 } });
    assertPromoted(c, report, 'server2', 10, ['server3']);
    assert.ok(ctx.log.entries.some((e) => e.code === 'SQL_THREAD_WAIT' && e.server === 'server3' && /stopped making progress/.test(e.message)));
    // The slow thread executed a few while it was read and waited for (how many depends on the
    // polls); the diff holds exactly the rest, from its own relay logs.
    const [diff] = applied(c, 'server3');
    const first = Number(diff?.split(',')[0]);
    assert.ok(first > 1 && first <= 10, diff);
    assert.equal(
      diff,
      upTo(10)
        .slice(first - 1)
        .join(','),
    );
  });

  it('a slow but running SQL thread is waited for: nothing of its own relay logs goes into a diff', async () => {
    const c = cluster({ master: 'mariadb-10.11', slaves: [{}, { received: 6, executed: 4, applyPerPoll: 1 }], gtid: false, transactions: 6 });
    c.kill('server1');
    const { report } = await failover(c);
    assertPromoted(c, report, 'server2', 6, ['server3']);
    assert.deepEqual(applied(c, 'server3'), []);
  });
});

describe('failover on the fake cluster: choosing the new master', () => {
  it("candidate_master=1 on a lagging slave: it is promoted after applying the latest slave's relay-log diff", async () => {
    const c = cluster({ slaves: [{}, { received: 4, config: { candidateMaster: true } }], gtid: false, transactions: 6 });
    c.kill('server1');
    const { report } = await failover(c);
    assertPromoted(c, report, 'server3', 6, ['server2']);
    assert.match(report.newMasterReason ?? '', /candidate_master=1/);
    assert.deepEqual(applied(c, 'server3'), ['5,6']);
  });

  it('no_master=1 on the latest slave: the next one is promoted and gets the diff', async () => {
    const c = cluster({ slaves: [{ config: { noMaster: true } }, { received: 5 }], gtid: true, transactions: 6 });
    c.kill('server1');
    const { report } = await failover(c);
    assertPromoted(c, report, 'server3', 6, ['server2']);
    assert.deepEqual(applied(c, 'server3'), ['6']);
  });

  it('a candidate_master whose SQL thread is too far behind is skipped (check_repl_delay)', async () => {
    const c = cluster({ slaves: [{}, { received: 6, executed: 1, sqlRunning: false, config: { candidateMaster: true } }], gtid: true, transactions: 6 });
    c.kill('server1');
    // MHA's limit is 100,000,000 bytes; the fake's transactions are ~200 bytes: the same rule with a smaller limit.
    const limit = DEFAULT_ANALYZE_OPTIONS.maxCandidateLagBytes;
    DEFAULT_ANALYZE_OPTIONS.maxCandidateLagBytes = 500;
    try {
      const { report, ctx } = await failover(c);
      assertPromoted(c, report, 'server2', 6, ['server3']);
      assert.ok(ctx.log.entries.some((e) => e.code === 'NOT_CANDIDATE' && e.server === 'server3' && /bytes behind/.test(e.message)));
    } finally {
      DEFAULT_ANALYZE_OPTIONS.maxCandidateLagBytes = limit;
    }
  });

  it('--new-master names a slave: it is promoted even when it is not the latest', async () => {
    const c = cluster({ slaves: [{}, { received: 3 }, {}], gtid: true, transactions: 5 });
    c.kill('server1');
    const { report } = await failover(c, { newMaster: 'server3' });
    assertPromoted(c, report, 'server3', 5, ['server2', 'server4']);
    assert.equal(report.newMasterReason, 'chosen on the command line');
  });

  it('--new-master with no_master=1 is refused in phase 3; nothing was made writable', async () => {
    const c = cluster({ slaves: [{}, { config: { noMaster: true } }], gtid: true });
    c.kill('server1');
    const { report } = await failover(c, { newMaster: 'server3' });
    assert.equal(report.ok, false);
    assert.equal(report.masterMoved, false);
    assert.equal(report.error?.code, 'NEW_MASTER_UNFIT');
    assert.deepEqual(c.writable(), []);
    c.assertClean();
  });

  it('every slave no_master=1: NO_CANDIDATE, no server made writable, no slave repointed', async () => {
    const c = cluster({ slaves: [{ config: { noMaster: true } }, { config: { noMaster: true } }], gtid: true });
    c.kill('server1');
    const { report } = await failover(c);
    assert.equal(report.ok, false);
    assert.equal(report.masterMoved, false);
    assert.equal(report.newMaster, undefined);
    assert.equal(report.error?.code, 'NO_CANDIDATE');
    assert.equal(report.error?.phase, '3 Master recovery');
    assert.deepEqual(c.writable(), [], 'no writable server');
    assert.deepEqual(
      c.log('sql').filter((l) => /read_only = 0|CHANGE MASTER|RESET/.test(l)),
      [],
    );
    assert.deepEqual(
      report.changes.map((x) => x.change),
      ['STOP SLAVE IO_THREAD', 'STOP SLAVE IO_THREAD'],
      'the report lists what was changed: only the IO threads stopped',
    );
    for (const s of ['server2', 'server3']) assert.equal(c.replicationOf(s).from, 'server1');
    c.assertClean();
  });
});

describe('failover on the fake cluster: the latest slave is not the new master', () => {
  for (const gtid of [false, true]) {
    it(`${gtid ? 'GTID' : 'file/position'}: a lagging slave's diff is read from the latest slave's relay logs before CHANGE MASTER deletes them`, async () => {
      // server2 has everything, server3 (candidate_master) is promoted, server4 lags behind both.
      // In phase 4 server2 is repointed (CHANGE MASTER deletes its relay logs, as real servers do)
      // while server4 needs those relay logs for its own diff.
      const c = cluster({ slaves: [{}, { received: 4, config: { candidateMaster: true } }, { received: 2 }], gtid, transactions: 6 });
      c.kill('server1', { host: false });
      const { report } = await failover(c);
      assertPromoted(c, report, 'server3', 6, ['server2', 'server4']);
      assert.deepEqual(applied(c, 'server3'), ['5,6']);
      assert.deepEqual(applied(c, 'server4'), ['3,4,5,6']);
      const lastRead = Math.max(...c.events.filter((e) => e.kind === 'ssh' && e.target === 'server2' && /relay-bin\.\d+/.test(e.text)).map((e) => e.seq));
      assert.ok(lastRead < c.indexOf('sql', 'server2', /^CHANGE MASTER/), "server2's relay logs are read before it is repointed");
    });
  }
});

describe("failover on the fake cluster: the dead master's binlog", () => {
  it('events only the dead master had are saved over SSH and reach the new master and every slave, once', async () => {
    const c = cluster({ slaves: [{ received: 4 }, { received: 3 }], gtid: false, transactions: 6 });
    c.kill('server1');
    const { report } = await failover(c);
    assertPromoted(c, report, 'server2', 6, ['server3']);
    assert.ok(report.savedBinlog && report.savedBinlog.bytes > 0);
    assert.equal(report.savedBinlog.from, `${c.history.coordAfter(4).file}:${c.history.coordAfter(4).position}`);
    assert.deepEqual(applied(c, 'server2'), ['5,6']);
    assert.deepEqual(applied(c, 'server3'), ['4,5,6']);
    assert.ok(c.log('ssh', 'server1').some((l) => /^server1: tail -c \+\d+ -- \/var\/lib\/mysql\/mysql-bin\.000001/.test(l)));
  });

  it('the latest slave stopped inside a transaction: the saved binlog completes it', async () => {
    const c = cluster({ slaves: [{ received: 4, partial: 2, sqlRunning: false }, { received: 4 }], gtid: true, transactions: 6 });
    c.kill('server1');
    const { report } = await failover(c);
    assertPromoted(c, report, 'server2', 6, ['server3']);
    assert.deepEqual(applied(c, 'server2'), ['5,6']);
    assert.deepEqual(applied(c, 'server3'), ['5,6']);
  });

  it("the dead master's host is unreachable: its last events are lost, the survivors agree, the report says why", async () => {
    const c = cluster({ slaves: [{ received: 4 }, { received: 3 }], gtid: true, transactions: 6 });
    c.kill('server1', { host: false });
    const { report, ctx } = await failover(c);
    assertPromoted(c, report, 'server2', 4, ['server3']);
    assert.equal(report.savedBinlog, undefined);
    assert.match(report.savedBinlogSkipped ?? '', /not reachable over SSH/);
    assert.ok(ctx.log.entries.some((e) => e.code === 'BINLOG_NOT_SAVED'));
    assert.deepEqual(c.log('ssh', 'server1'), []);
  });

  it('shutdown_script powered the host off (exit 0): the binlog is not read; exit 10 (mysqld stopped over SSH): it is', async () => {
    for (const [exit, saved] of [
      [0, false],
      [10, true],
    ] as const) {
      const c = cluster({ slaves: [{ received: 4 }, {}], gtid: true, transactions: 5, hooks: { shutdown: true } });
      c.hooks.on('shutdown_script', exit);
      c.kill('server1');
      const { report } = await failover(c);
      assertPromoted(c, report, 'server3', saved ? 5 : 5, ['server2']);
      assert.equal(report.savedBinlog !== undefined, saved, `exit ${exit}`);
      assert.equal(c.hooks.callsOf('shutdown_script')[0]?.command, 'stopssh');
    }
  });
});

describe('failover on the fake cluster: hooks', () => {
  it('master_ip_failover_script: stop (phase 2) before any change to the slaves, start (phase 3) before read_only=0', async () => {
    const c = cluster({ slaves: 2, gtid: true, hooks: { masterIpFailover: true, report: true } });
    c.kill('server1');
    const { report } = await failover(c);
    assertPromoted(c, report, 'server2', 6, ['server3']);
    const [stop, start] = c.hooks.callsOf('master_ip_failover_script');
    assert.equal(stop?.command, 'stopssh');
    assert.ok(stop.args.includes('--orig_master_host=10.9.0.11'));
    assert.equal(start?.command, 'start');
    assert.ok(start.args.includes('--new_master_host=10.9.0.12'));
    assert.equal(start.env.HA_NEW_MASTER_PASSWORD, 'secret');
    const startAt = c.indexOf('hook', 'master_ip_failover_script', /--command=start/);
    assert.ok(c.indexOf('hook', 'master_ip_failover_script', /--command=stopssh/) < c.indexOf('sql', 'server2', /^STOP (SLAVE|REPLICA)$/));
    assert.ok(startAt < c.indexOf('sql', 'server2', 'SET GLOBAL read_only = 0'));
    const reported = c.hooks.callsOf('report_script')[0];
    assert.ok(reported?.args.some((a) => /succeeded$/.test(a)));
    assert.ok(reported?.args.includes('--new_slave_hosts=10.9.0.13'));
  });

  for (const [outcome, proceeds] of [
    [10, true],
    [1, false],
    ['timeout', false],
    ['spawn-error', false],
  ] as const) {
    it(`master_ip_failover_script --command=stop ${typeof outcome === 'number' ? `exits ${outcome}` : outcome}: ${proceeds ? 'the failover proceeds' : 'it stops in phase 2, nothing changed but the IO threads'}`, async () => {
      const c = cluster({ slaves: 2, gtid: true, hooks: { masterIpFailover: true } });
      c.hooks.on('master_ip_failover_script', outcome, { command: 'stopssh' });
      c.kill('server1');
      const { report } = await failover(c);
      if (proceeds) {
        assertPromoted(c, report, 'server2', 6, ['server3']);
        return;
      }
      assert.equal(report.ok, false);
      assert.equal(report.masterMoved, false);
      assert.deepEqual(report.error && [report.error.phase, report.error.code], ['2 Dead master shutdown', 'HOOK_FAILED']);
      assert.deepEqual(c.writable(), []);
      assert.deepEqual(
        c.log('sql').filter((l) => !/SHOW|STOP (SLAVE|REPLICA) IO_THREAD/.test(l)),
        [],
        'no change but the IO threads stopped',
      );
      assert.equal(c.hooks.callsOf('master_ip_failover_script', 'start').length, 0);
      c.assertClean();
    });
  }

  it('shutdown_script exits 1: the failover stops in phase 2', async () => {
    const c = cluster({ slaves: 2, gtid: true, hooks: { shutdown: true } });
    c.hooks.on('shutdown_script', 1);
    c.kill('server1');
    const { report } = await failover(c);
    assert.deepEqual(report.error && [report.error.phase, report.error.code], ['2 Dead master shutdown', 'HOOK_FAILED']);
    assert.deepEqual(c.writable(), []);
  });

  it('master_ip_failover_script --command=start exits 10: proceeds; exits 1: the new master has every event but stays read-only', async () => {
    const ok = cluster({ slaves: 2, gtid: true, hooks: { masterIpFailover: true } });
    ok.hooks.on('master_ip_failover_script', 10, { command: 'start' });
    ok.kill('server1');
    assertPromoted(ok, (await failover(ok)).report, 'server2', 6, ['server3']);

    const c = cluster({ slaves: [{}, { received: 4 }], gtid: true, hooks: { masterIpFailover: true } });
    c.hooks.on('master_ip_failover_script', 1, { command: 'start' });
    c.kill('server1');
    const { report } = await failover(c);
    assert.equal(report.ok, false);
    assert.equal(report.masterMoved, false, 'not writable: the master role did not move');
    assert.deepEqual(report.error && [report.error.phase, report.error.code, report.error.server], ['3 Master recovery', 'HOOK_FAILED', 'server2']);
    assert.deepEqual(c.writable(), [], 'no writable server');
    assert.deepEqual(c.executed('server2'), upTo(6));
    assert.deepEqual(
      c.log('sql').filter((l) => /CHANGE MASTER/.test(l)),
      [],
      'no slave repointed',
    );
    c.assertClean();
  });
});

describe('failover on the fake cluster: partial success and failures', () => {
  it('a slave that cannot be repointed: the master moved, the report is not ok and names it; the others are fine', async () => {
    const c = cluster({ slaves: 3, gtid: true });
    c.fail({ server: 'server4', match: /^CHANGE MASTER/, action: 'fail', errno: 1201, message: 'Could not initialize master info structure' });
    c.kill('server1');
    const { report } = await failover(c);
    assert.equal(report.ok, false);
    assert.equal(report.masterMoved, true);
    assert.equal(report.error, undefined, 'no phase failed');
    assert.deepEqual(c.writable(), ['server2']);
    const s4 = report.slaves.find((s) => s.server === 'server4')!;
    assert.equal(s4.ok, false);
    assert.match(s4.error ?? '', /Could not initialize master info structure/);
    assert.ok(report.slaves.find((s) => s.server === 'server3')!.ok);
    assert.ok(c.replicationOf('server3').running && c.replicationOf('server3').from === 'server2');
    assert.notEqual(c.replicationOf('server4').from, 'server2');
    c.assertClean();
  });

  it('the same slave with ignore_fail=1: the failover is ok', async () => {
    const c = cluster({ slaves: [{}, {}, { config: { ignoreFail: true } }], gtid: true });
    c.host('server4').reachable = false;
    c.kill('server1');
    const { report } = await failover(c);
    assert.equal(report.ok, true);
    assert.equal(report.slaves.find((s) => s.server === 'server4')?.ok, false);
    assert.deepEqual(c.writable(), ['server2']);
  });

  it('a slave whose new master refuses its replication account: START SLAVE connects, then retries; reported failed after slaveStartMs', async () => {
    const c = cluster({ slaves: [{}, { config: { replPassword: 'stale' } }], gtid: true });
    c.kill('server1');
    const { report } = await failover(c, { timeouts: { slaveStartMs: 150 } });
    assert.equal(report.ok, false);
    assert.equal(report.masterMoved, true);
    assert.match(report.slaves[0]?.error ?? '', /timed out .* waiting for both replication threads/);
    assert.deepEqual(c.writable(), ['server2']);
  });

  it('a slave that is down: the failover goes on without it and says it was not recovered', async () => {
    const c = cluster({ slaves: 3, gtid: true });
    c.kill('server1');
    c.kill('server4');
    const { report } = await failover(c);
    assert.equal(report.ok, false, 'a configured slave was not recovered');
    assert.equal(report.masterMoved, true);
    assert.deepEqual(report.downServers, ['server4']);
    assert.deepEqual(c.writable(), ['server2']);
    assert.ok(c.replicationOf('server3').running);
  });

  it('the master answers: MASTER_ALIVE, nothing changed', async () => {
    const c = cluster({ slaves: 2, gtid: true });
    const { report } = await failover(c);
    assert.deepEqual(report.error && [report.error.phase, report.error.code], ['1 Configuration check', 'MASTER_ALIVE']);
    assert.deepEqual(c.writable(), ['server1']);
    assert.deepEqual(
      c.log('sql').filter((l) => !/^server\d: SHOW /.test(l)),
      [],
    );
  });

  it('the new master dies while its diff is applied: the failover stops in phase 3, nothing writable', async () => {
    const c = cluster({ slaves: [{}, { received: 3, config: { candidateMaster: true } }], gtid: true });
    c.fail({ server: 'server3', match: /^SET GLOBAL max_allowed_packet = 1073741824$/, action: 'die' });
    c.kill('server1');
    const { report } = await failover(c);
    assert.equal(report.ok, false);
    assert.equal(report.masterMoved, false);
    assert.equal(report.error?.phase, '3 Master recovery');
    assert.deepEqual(c.writable(), []);
  });
});

describe('failover on the fake cluster: every server version', () => {
  for (const version of Object.keys(VERSIONS) as VersionName[]) {
    it(`${version}: GTID and file/position, a lagging slave, a master binlog rotation; only statements this version has`, async () => {
      for (const gtid of [true, false]) {
        const c = cluster({ master: version, slaves: [{}, { received: 2 }], gtid, transactions: 4, rotateAfter: [3] });
        c.kill('server1');
        const { report } = await failover(c);
        assertPromoted(c, report, 'server2', 4, ['server3']);
        assert.equal(report.mode, gtid ? 'gtid' : 'file-position');
        assert.deepEqual(applied(c, 'server3'), ['3,4']);
      }
    });
  }
});

describe('failover on the fake cluster: refused or stopped before the master moves', () => {
  function assertNothingMoved(c: FakeCluster, report: Report, phase: string, code: string): void {
    assert.deepEqual(report.error && [report.error.phase, report.error.code], [phase, code], JSON.stringify(report.error));
    assert.equal(report.ok, false);
    assert.equal(report.masterMoved, false);
    assert.deepEqual(c.writable(), [], 'no server takes writes');
    assert.deepEqual(
      c.log('sql').filter((l) => /read_only = 0|CHANGE (MASTER|REPLICATION)|RESET/.test(l)),
      [],
    );
    c.assertClean();
  }

  it('slaves mixing GTID and file/position: GTID_MIXED', async () => {
    const c = cluster({ slaves: 2, gtid: true });
    c.server('server3').repl!.gtid = 'no';
    c.kill('server1');
    assertNothingMoved(c, (await failover(c)).report, '1 Configuration check', 'GTID_MIXED');
  });

  it('no slave answers: NO_SLAVES', async () => {
    const c = cluster({ slaves: 2, gtid: true });
    for (const id of ['server1', 'server2', 'server3']) c.kill(id);
    assertNothingMoved(c, (await failover(c)).report, '1 Configuration check', 'NO_SLAVES');
  });

  it('repl_password unset: NO_REPL_PASSWORD, before any IO thread is stopped', async () => {
    const c = cluster({ slaves: [{}, { config: { replPassword: '' } }], gtid: true });
    c.kill('server1');
    const { report } = await failover(c);
    assertNothingMoved(c, report, '1 Configuration check', 'NO_REPL_PASSWORD');
    assert.deepEqual(report.changes, []);
  });

  it("the latest slave's host is unreachable over SSH: LATEST_SSH (its relay logs are needed)", async () => {
    const c = cluster({ slaves: [{ received: 4 }, {}], gtid: false });
    c.host('server3').reachable = false;
    c.kill('server1');
    assertNothingMoved(c, (await failover(c)).report, '3 Master recovery', 'LATEST_SSH');
  });

  it('master_binlog_dir names a directory without the binlogs: BINLOG_NOT_FOUND', async () => {
    const c = cluster({ slaves: 2, gtid: true, masterConfig: { masterBinlogDir: ['/srv/binlog'] } });
    c.kill('server1');
    const { report } = await failover(c);
    assertNothingMoved(c, report, '3 Master recovery', 'BINLOG_NOT_FOUND');
    assert.match(report.error!.message, /no mysql-bin\.\* binlog in \/srv\/binlog on the dead master/);
  });

  it("the monitor's SSH check of the dead master failed moments ago: no second attempt, the binlog is not saved", async () => {
    const c = cluster({ slaves: [{}, { received: 5 }], gtid: true });
    c.kill('server1');
    const { report } = await failover(c, { options: { deadMasterSshFailedAt: Date.now() } });
    assertPromoted(c, report, 'server2', 6, ['server3']);
    assert.match(report.savedBinlogSkipped ?? '', /not reachable over SSH/);
    assert.deepEqual(
      c.log('connect', 'server1').filter((l) => /ssh/.test(l)),
      [],
    );
  });
});

describe('failover on the fake cluster: options and slow hosts', () => {
  it("the latest slave's oldest relay logs were purged (ha purge-relay-logs): a lagging slave's read position is still found in the rest", async () => {
    // FLUSH RELAY LOGS and size rotations start relay logs without a Rotate event: once the ones
    // before are purged, only the latest slave's own read position names their master binlog.
    const c = cluster({ slaves: [{ maxRelaySize: 600 }, { received: 4 }], gtid: false });
    c.dropOldRelayLogs('server2', 2);
    c.kill('server1');
    const { report } = await failover(c);
    assertPromoted(c, report, 'server2', 6, ['server3']);
    assert.deepEqual(applied(c, 'server3'), ['5,6']);
  });

  it("the latest slave's relay logs no longer hold a lagging slave's position (purged): that slave fails, saying relay_log_purge=0", async () => {
    const c = cluster({ slaves: [{ maxRelaySize: 600 }, { received: 1 }, {}], gtid: false });
    c.dropOldRelayLogs('server2', 5);
    c.kill('server1');
    const { report } = await failover(c);
    assert.equal(report.ok, false);
    assert.equal(report.masterMoved, true);
    assert.match(report.slaves.find((s) => s.server === 'server3')?.error ?? '', /no longer hold that position \(purged.*set relay_log_purge=0/);
    assert.deepEqual(c.writable(), ['server2']);
    assert.ok(c.replicationOf('server4').running);
    c.assertClean();
  });

  it('a relay-log read that hangs is given up after remote_command timeout: that slave fails, the others are recovered', async () => {
    const c = cluster({ slaves: [{}, { received: 3 }, {}], gtid: true });
    c.failSsh({ server: 'server2', match: /^for f in /, action: 'hang' });
    c.kill('server1');
    const { report } = await failover(c, { timeouts: { remoteCommandMs: 50 } });
    assert.equal(report.ok, false);
    assert.equal(report.masterMoved, true);
    assert.match(report.slaves.find((s) => s.server === 'server3')?.error ?? '', /timed out after 50 ms waiting for mapping server3's read position/);
    assert.ok(c.replicationOf('server4').running && c.replicationOf('server4').from === 'server2');
    assert.deepEqual(c.writable(), ['server2']);
    c.assertClean();
  });

  it('disable_log_bin=1 (file/position): the diff is applied without being logged, the slaves start after it', async () => {
    const c = cluster({ slaves: [{ received: 4, config: { candidateMaster: true, disableLogBin: true } }, {}, { received: 3 }], gtid: false });
    c.kill('server1');
    const { report } = await failover(c);
    assertPromoted(c, report, 'server2', 6, ['server3', 'server4']);
    assert.deepEqual(c.log('apply', 'server2'), ['server2: mysqlbinlog | mysql on server2: transactions 5,6 (--disable-log-bin)']);
    assert.deepEqual(
      c.server('server2').binlog!.entries.map((e) => e.trx.n),
      [1, 2, 3, 4],
      'not in its binlog',
    );
  });

  it('disable_log_bin=1 in GTID mode: the new master still logs its diff, so its slaves find every GTID they have', async () => {
    const c = cluster({ slaves: [{ received: 4, config: { candidateMaster: true, disableLogBin: true } }, {}], gtid: true });
    c.kill('server1');
    const { report, ctx } = await failover(c);
    assertPromoted(c, report, 'server2', 6, ['server3']);
    assert.ok(ctx.log.entries.some((e) => e.code === 'CONFIG_WARNING' && e.server === 'server2' && /disable_log_bin=1 is not applied/.test(e.message)));
  });

  it(
    'a statement that hangs on a slave (STOP SLAVE behind a long transaction) is given up after a deadline',
    {
      todo: 'known gap, issue 14 (one deadline discipline): no statement of the failover has a deadline (Clients.mysql is called without queryTimeoutMs), so a hung STOP SLAVE stalls it for ever; the fake refuses to hang without a deadline and says so',
    },
    async () => {
      const c = cluster({ slaves: 3, gtid: true });
      c.fail({ server: 'server4', match: /^STOP (SLAVE|REPLICA)$/, action: 'hang' });
      c.kill('server1');
      const { report } = await failover(c);
      assert.match(report.slaves.find((s) => s.server === 'server4')?.error ?? '', /timed out/);
    },
  );

  it('skip_reset_slave=1: the new master keeps its (stopped) replication settings and takes writes', async () => {
    const c = cluster({ slaves: [{ config: { skipResetSlave: true } }, {}], gtid: true });
    c.kill('server1');
    const { report } = await failover(c);
    assert.equal(report.ok, true);
    assert.deepEqual(c.writable(), ['server2']);
    const nm = c.replicationOf('server2');
    assert.equal(nm.running, false);
    assert.equal(nm.from, 'server1');
    assert.equal(c.indexOf('sql', 'server2', /^RESET/), -1);
    assert.ok(c.replicationOf('server3').running && c.replicationOf('server3').from === 'server2');
  });

  it('log_bin off on the latest slave: it is not a candidate; the other one is promoted and gets the diff', async () => {
    const c = cluster({ slaves: [{ logBin: false }, { received: 4 }], gtid: false });
    c.kill('server1');
    const { report, ctx } = await failover(c);
    assertPromoted(c, report, 'server3', 6, ['server2']);
    assert.ok(ctx.log.entries.some((e) => e.code === 'NOT_CANDIDATE' && e.server === 'server2' && /log_bin is off/.test(e.message)));
    assert.deepEqual(applied(c, 'server3'), ['5,6']);
  });
});

describe('failover on the fake cluster: SIGTERM', () => {
  it('SIGTERM while the shutdown hook runs: stops in phase 3 before any server changed but the IO threads', async () => {
    const c = cluster({ slaves: 2, gtid: true, hooks: { shutdown: true } });
    c.kill('server1');
    const ctx = failoverContext(c);
    c.hooks.on('shutdown_script', 0, { during: () => Object.assign(ctx.abort, { requested: true, reason: 'SIGTERM' }) });
    const report = await runFailover(ctx).finally(() => ctx.cleanup());
    assert.equal(report.ok, false);
    assert.equal(report.masterMoved, false);
    assert.deepEqual(report.error && [report.error.phase, report.error.code], ['3 Master recovery', 'ABORTED']);
    assert.deepEqual(c.writable(), []);
    assert.deepEqual(
      c.log('sql').filter((l) => !/SHOW|STOP (SLAVE|REPLICA) IO_THREAD/.test(l)),
      [],
    );
    assert.deepEqual(
      report.changes.map((x) => `${x.server}: ${x.change}`),
      ['server2: STOP SLAVE IO_THREAD', 'server3: STOP SLAVE IO_THREAD', 'server1: shutdown_script: powered off'],
    );
  });

  it('SIGTERM before phase 1 stops the IO threads: nothing at all is changed', async () => {
    const c = cluster({ slaves: 2, gtid: true });
    c.kill('server1');
    const { report } = await failover(c, { abortOn: '1 ' });
    assert.equal(report.error?.code, 'ABORTED');
    assert.deepEqual(report.changes, []);
    assert.deepEqual(
      c.log('sql').filter((l) => !/SHOW/.test(l)),
      [],
    );
  });

  it('SIGTERM once the new master takes writes does not stop the failover halfway', async () => {
    const c = cluster({ slaves: 3, gtid: true });
    c.kill('server1');
    const { report } = await failover(c, { abortOn: '4 ' });
    assertPromoted(c, report, 'server2', 6, ['server3', 'server4']);
  });
});
