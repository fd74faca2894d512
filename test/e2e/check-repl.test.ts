// `ha check-repl` against real lab servers. Every broken condition the check reports is produced
// for real in the lab (a stopped thread, a duplicate key on a slave, a slave moved under another
// slave, a killed mysqld, …), checked, and repaired before the next one.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN_PASSWORD, Lab, REPL_PASSWORD, REPL_USER } from '../lab/lab.js';
import { findingKeys, runHa, runHaJson, type JsonFinding } from './ha.js';

interface CheckReplJson {
  ok: boolean;
  exitCode: number;
  findings: JsonFinding[];
  topology: {
    master: string | null;
    slaves: { id: string; masterId?: string }[];
    dead: string[];
    mode: string | null;
    candidate: { id: string; reason: string } | null;
  };
}

async function checkRepl(conf: string, extra: string[] = []) {
  return runHaJson<CheckReplJson>(['check-repl', '--conf', conf, ...extra]);
}

/** Asserts the exit code and that exactly these errors are reported (warnings: at least these). */
async function expectFindings(conf: string, want: { exit: number; errors: string[]; warnings?: string[] }, extra: string[] = []) {
  const r = await checkRepl(conf, extra);
  const errors = findingKeys(r.json.findings, 'error');
  assert.deepEqual(errors.sort(), [...want.errors].sort(), `errors: ${r.stdout}`);
  for (const w of want.warnings ?? []) assert.ok(findingKeys(r.json.findings, 'warning').includes(w), `warning ${w} missing: ${r.stdout}`);
  assert.equal(r.exitCode, want.exit, r.stdout);
  return r;
}

function message(r: { json: CheckReplJson }, code: string): string {
  const f = r.json.findings.find((x) => x.code === code);
  assert.ok(f, `no ${code} finding`);
  return f.message;
}

async function until(what: string, f: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await f()) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

async function slaveStatus(lab: Lab, h: number): Promise<Record<string, unknown>> {
  const [row] = await lab.sql(h, 'SHOW SLAVE STATUS');
  return row ?? {};
}

/** Re-attach host h under host `to` at `to`'s current binlog position (after all slaves caught up). */
async function repoint(lab: Lab, h: number, to: number): Promise<void> {
  const [ms] = await lab.sql(to, 'SHOW MASTER STATUS');
  await lab.sql(h, 'STOP SLAVE');
  await lab.sql(
    h,
    `CHANGE MASTER TO MASTER_HOST='${lab.hosts[to - 1]!.ip}', MASTER_PORT=3306, MASTER_USER='${REPL_USER}', MASTER_PASSWORD='${REPL_PASSWORD}', MASTER_LOG_FILE='${ms!.File}', MASTER_LOG_POS=${ms!.Position}, MASTER_USE_GTID=no`,
  );
  await lab.sql(h, 'START SLAVE');
  await until(`host ${h} replicating from host ${to}`, async () => (await slaveStatus(lab, h)).Slave_IO_Running === 'Yes');
}

describe('ha check-repl (lab, file/position)', () => {
  let lab: Lab;
  let conf: string;

  before(async () => {
    lab = await Lab.up({ hosts: 3, name: 'e2e-check-repl' });
    conf = lab.writeConfig();
    await lab.sql(1, 'CREATE TABLE hatest.dup (id INT PRIMARY KEY)');
    await lab.waitForSlaveSync();
  });
  after(async () => {
    await lab?.down();
  });

  it('passes on a healthy lab, shows the tree, the mode and the candidate', async () => {
    const r = await expectFindings(conf, { exit: 0, errors: [] });
    assert.deepEqual(findingKeys(r.json.findings, 'warning'), []);
    assert.equal(r.json.topology.master, 'server1');
    assert.deepEqual(
      r.json.topology.slaves.map((s) => `${s.id}<${s.masterId}`),
      ['server2<server1', 'server3<server1'],
    );
    assert.equal(r.json.topology.mode, 'file-position');
    assert.equal(r.json.topology.candidate?.id, 'server2');
    assert.ok(r.json.findings.some((f) => f.code === 'MASTER_BINLOG_OK' && f.server === 'server1'));

    const human = await runHa(['check-repl', '--conf', conf]);
    assert.equal(human.exitCode, 0);
    assert.match(
      human.stdout,
      /server1 [\d.]+:3306 \(current master\)\n \+--server2 [\d.]+:3306 \(IO\/SQL running, read mysql-bin\.\d+:\d+, 0 s behind\) \[candidate\]\n \+--server3/,
    );
    assert.match(human.stdout, /Replication is healthy: a failover would promote server2 \(file-position\)/);
    assert.doesNotMatch(human.stdout + human.stderr, new RegExp(`${ADMIN_PASSWORD}|${REPL_PASSWORD}`));
  });

  it('finds the master binlogs through @@log_bin_basename when master_binlog_dir is not set', async () => {
    const c = lab.writeConfig({
      file: join(lab.dir, 'no-binlog-dir.cnf'),
      servers: { 1: { master_binlog_dir: null }, 2: { master_binlog_dir: null }, 3: { master_binlog_dir: null } },
    });
    const r = await expectFindings(c, { exit: 0, errors: [] });
    assert.match(message(r, 'MASTER_BINLOG_OK'), new RegExp(`${lab.hosts[0]!.binlogDir}/mysql-bin\\.\\d+ readable over SSH`));
  });

  it('reports master binlogs that are not where master_binlog_dir says', async () => {
    const c = lab.writeConfig({ file: join(lab.dir, 'bad-binlog-dir.cnf'), servers: { 1: { master_binlog_dir: join(lab.dir, 'no-such-dir') } } });
    const r = await expectFindings(c, { exit: 1, errors: ['MASTER_BINLOG_NOT_FOUND@server1'] });
    assert.match(message(r, 'MASTER_BINLOG_NOT_FOUND'), /not readable over SSH in .*no-such-dir \(master_binlog_dir\)/);
  });

  it('reports a stopped IO thread', async () => {
    await lab.stopSlaveIo(2);
    try {
      await expectFindings(conf, { exit: 1, errors: ['IO_THREAD_STOPPED@server2'] });
    } finally {
      await lab.startSlaveIo(2);
    }
  });

  it('reports a stopped SQL thread with its last error (a duplicate key made on the slave)', async () => {
    await lab.sql(3, 'SET STATEMENT sql_log_bin=0 FOR INSERT INTO hatest.dup VALUES (1)');
    await lab.sql(1, 'INSERT INTO hatest.dup VALUES (1)');
    await until('the SQL thread of host 3 to stop on the duplicate key', async () => (await slaveStatus(lab, 3)).Slave_SQL_Running === 'No');
    try {
      const r = await expectFindings(conf, { exit: 1, errors: ['SQL_THREAD_STOPPED@server3'] });
      assert.match(message(r, 'SQL_THREAD_STOPPED'), /error 1062: .*Duplicate entry '1'/);
    } finally {
      await lab.sql(3, 'SET STATEMENT sql_log_bin=0 FOR DELETE FROM hatest.dup WHERE id = 1');
      await lab.sql(3, 'START SLAVE SQL_THREAD');
      await lab.waitForSlaveSync();
    }
  });

  it('reports a duplicate server_id', async () => {
    await lab.sql(3, 'SET GLOBAL server_id = 2');
    try {
      const r = await expectFindings(conf, { exit: 1, errors: ['DUPLICATE_SERVER_ID'] });
      assert.match(message(r, 'DUPLICATE_SERVER_ID'), /server_id 2 is used by server2 and server3/);
    } finally {
      await lab.sql(3, 'SET GLOBAL server_id = 3');
    }
  });

  it('reports replication filters that differ (unless check_repl_filter=0)', async () => {
    await lab.sql(3, 'STOP SLAVE SQL_THREAD');
    await lab.sql(3, "SET GLOBAL replicate_do_db = 'hatest'");
    await lab.sql(3, 'START SLAVE SQL_THREAD');
    try {
      const r = await expectFindings(conf, { exit: 1, errors: ['FILTERS_DIFFER@server3'] });
      assert.match(message(r, 'FILTERS_DIFFER'), /doDb: "hatest" vs ""/);
      const lax = lab.writeConfig({ file: join(lab.dir, 'no-filter-check.cnf'), serverDefault: { check_repl_filter: 0 } });
      await expectFindings(lax, { exit: 0, errors: [] });
    } finally {
      await lab.sql(3, 'STOP SLAVE SQL_THREAD');
      await lab.sql(3, "SET GLOBAL replicate_do_db = ''");
      await lab.sql(3, 'START SLAVE SQL_THREAD');
    }
  });

  it('warns (exit 0) on read_only=0 on a slave, relay_log_purge=1 and a binlog_format mismatch', async () => {
    await lab.sql(2, 'SET GLOBAL read_only = 0');
    await lab.sql(2, 'SET GLOBAL relay_log_purge = 1');
    await lab.sql(3, 'STOP SLAVE');
    await lab.sql(3, "SET GLOBAL binlog_format = 'STATEMENT'");
    await lab.sql(3, 'START SLAVE');
    try {
      await expectFindings(conf, { exit: 0, errors: [], warnings: ['SLAVE_READ_WRITE@server2', 'RELAY_LOG_PURGE_ON@server2', 'BINLOG_FORMAT_DIFFERS@server3'] });
    } finally {
      await lab.sql(2, 'SET GLOBAL read_only = 1');
      await lab.sql(2, 'SET GLOBAL relay_log_purge = 0');
      await lab.sql(3, 'STOP SLAVE');
      await lab.sql(3, "SET GLOBAL binlog_format = 'ROW'");
      await lab.sql(3, 'START SLAVE');
    }
  });

  it('warns on replication delay above the limit', async () => {
    // A delayed slave (MASTER_DELAY) holding an event stamped 1000 s ago: Seconds_Behind_Master ~1000.
    await lab.sql(3, 'STOP SLAVE');
    await lab.sql(3, 'CHANGE MASTER TO MASTER_DELAY = 3600');
    await lab.sql(3, 'START SLAVE');
    await lab.sql(1, 'SET timestamp = UNIX_TIMESTAMP() - 1000');
    await lab.sql(1, 'INSERT INTO hatest.dup VALUES (2)');
    await lab.sql(1, 'SET timestamp = DEFAULT');
    try {
      await until('host 3 to report a delay', async () => Number((await slaveStatus(lab, 3)).Seconds_Behind_Master ?? 0) > 100);
      const r = await expectFindings(conf, { exit: 0, errors: [], warnings: ['REPL_DELAY@server3'] });
      assert.match(r.json.findings.find((f) => f.code === 'REPL_DELAY')!.message, /\d+ s behind the master \(limit 30 s\)/);
      const r2 = await checkRepl(conf, ['--seconds-behind-master', '5000']);
      assert.ok(!findingKeys(r2.json.findings, 'warning').includes('REPL_DELAY@server3'));
    } finally {
      await lab.sql(3, 'STOP SLAVE');
      await lab.sql(3, 'CHANGE MASTER TO MASTER_DELAY = 0');
      await lab.sql(3, 'START SLAVE');
      await lab.waitForSlaveSync();
    }
  });

  it('reports a read-only master (no writable master)', async () => {
    await lab.sql(1, 'SET GLOBAL read_only = 1');
    try {
      await expectFindings(conf, { exit: 1, errors: ['MASTER_READ_ONLY@server1'] });
    } finally {
      await lab.sql(1, 'SET GLOBAL read_only = 0');
    }
  });

  it('reports log_bin off on a slave that may become master (fine with no_master=1)', async () => {
    await lab.restartMysqld(2, { log_bin: 'OFF' });
    try {
      await until('host 2 replicating again', async () => (await slaveStatus(lab, 2)).Slave_IO_Running === 'Yes');
      await expectFindings(conf, { exit: 1, errors: ['LOG_BIN_OFF@server2'] });
      const noMaster = lab.writeConfig({ file: join(lab.dir, 'no-master.cnf'), servers: { 2: { no_master: 1 } } });
      const r = await expectFindings(noMaster, { exit: 0, errors: [] });
      assert.equal(r.json.topology.candidate?.id, 'server3');
    } finally {
      await lab.restartMysqld(2);
      await until('host 2 replicating again', async () => (await slaveStatus(lab, 2)).Slave_IO_Running === 'Yes');
    }
  });

  it('reports hook scripts that are missing or not executable', async () => {
    const notExec = join(lab.dir, 'report.sh');
    const good = join(lab.dir, 'shutdown.sh');
    writeFileSync(notExec, '#!/bin/sh\nexit 0\n');
    chmodSync(notExec, 0o644);
    writeFileSync(good, '#!/bin/sh\nexit 0\n');
    chmodSync(good, 0o755);
    const c = lab.writeConfig({
      file: join(lab.dir, 'hooks.cnf'),
      serverDefault: { master_ip_failover_script: join(lab.dir, 'no-such-script'), report_script: notExec, shutdown_script: good },
    });
    const r = await expectFindings(c, { exit: 1, errors: ['HOOK_MISSING', 'HOOK_NOT_EXECUTABLE'] });
    assert.match(message(r, 'HOOK_MISSING'), /master_ip_failover_script: .*no-such-script does not exist/);
    assert.match(message(r, 'HOOK_NOT_EXECUTABLE'), /report_script: .*report\.sh is not executable/);
    assert.ok(r.json.findings.some((f) => f.code === 'HOOK_OK' && f.message.startsWith('shutdown_script')));
  });

  it("asks master_ip_failover_script for --command=status with MHA's arguments, and fails when it fails", async () => {
    const args = join(lab.dir, 'status-args.txt');
    const script = join(lab.dir, 'ip-failover.sh');
    // Exit code from a file, so one script serves both cases.
    writeFileSync(script, `#!/bin/sh\necho "$@" > ${args}\necho "VIP 10.0.0.100 is on $(echo "$@" | sed 's/.*--orig_master_host=\\([^ ]*\\).*/\\1/')"\nexit "$(cat ${args}.rc)"\n`);
    chmodSync(script, 0o755);
    const c = lab.writeConfig({ file: join(lab.dir, 'status.cnf'), serverDefault: { master_ip_failover_script: script } });
    writeFileSync(`${args}.rc`, '0');
    const ok = await expectFindings(c, { exit: 0, errors: [] });
    assert.match(message(ok, 'HOOK_STATUS_OK'), /--command=status: ok \(\d+ ms\): VIP 10\.0\.0\.100 is on 10\.199\.\d+\.11/);
    const got = readFileSync(args, 'utf8');
    assert.match(got, /^--command=status --ssh_user=root --orig_master_host=10\.199\.\d+\.11 --orig_master_ip=10\.199\.\d+\.11 --orig_master_port=3306 --ssh_options=-i /);
    writeFileSync(`${args}.rc`, '1');
    const bad = await expectFindings(c, { exit: 1, errors: ['HOOK_STATUS_FAILED@server1'] });
    assert.match(message(bad, 'HOOK_STATUS_FAILED'), /--command=status exited 1: VIP 10\.0\.0\.100 is on/);
  });

  it('reports a slave replicating from another slave, or from a server outside the config', async () => {
    await repoint(lab, 3, 2);
    try {
      const r = await expectFindings(conf, { exit: 1, errors: ['MULTI_TIER_SLAVE@server3'] });
      assert.match(message(r, 'MULTI_TIER_SLAVE'), /replicates from server2 .*not from the master server1/);
      const multi = lab.writeConfig({ file: join(lab.dir, 'multi-tier.cnf'), servers: { 3: { multi_tier_slave: 1 } } });
      await expectFindings(multi, { exit: 0, errors: [] });
      const without2 = lab.writeConfig({ file: join(lab.dir, 'without-2.cnf'), omitHosts: [2] });
      // …and with server2 gone from the config, the master has no slave left to promote.
      const r2 = await expectFindings(without2, { exit: 1, errors: ['SLAVE_OF_UNKNOWN_MASTER@server3', 'NO_CANDIDATE'] });
      assert.match(message(r2, 'NO_CANDIDATE'), /no configured slave replicates from the master/);
      assert.match(message(r2, 'SLAVE_OF_UNKNOWN_MASTER'), new RegExp(`replicates from ${lab.hosts[1]!.ip.replace(/\./g, '\\.')}:3306, which is not a server in`));
    } finally {
      await lab.waitForSlaveSync();
      await repoint(lab, 3, 1);
    }
  });

  it('reports several writable masters, and a server that replicates from no one', async () => {
    await lab.waitForSlaveSync();
    await lab.sql(3, 'STOP SLAVE');
    await lab.sql(3, 'RESET SLAVE ALL');
    await lab.sql(3, 'SET GLOBAL read_only = 0');
    try {
      const r = await expectFindings(conf, { exit: 1, errors: ['SEVERAL_MASTERS'] });
      assert.match(message(r, 'SEVERAL_MASTERS'), /several writable servers replicate from no one: server1, server3/);
      await lab.sql(3, 'SET GLOBAL read_only = 1');
      const r2 = await expectFindings(conf, { exit: 1, errors: ['SEVERAL_MASTERS@server3'] });
      assert.match(message(r2, 'SEVERAL_MASTERS'), /replicates from no one \(read_only=1\) but server1 is the master/);
    } finally {
      await lab.sql(3, 'SET GLOBAL read_only = 1');
      await repoint(lab, 3, 1);
    }
  });

  it('reports a configured server that is down (a warning with ignore_fail=1)', async () => {
    await lab.killMysqld(3);
    try {
      const r = await expectFindings(conf, { exit: 1, errors: ['SERVER_DOWN@server3'] });
      assert.match(message(r, 'SERVER_DOWN'), /is not reachable over MySQL: .*refused/i);
      assert.deepEqual(r.json.topology.dead, ['server3']);
      const tolerant = lab.writeConfig({ file: join(lab.dir, 'ignore-fail.cnf'), servers: { 3: { ignore_fail: 1 } } });
      await expectFindings(tolerant, { exit: 0, errors: [], warnings: ['SERVER_DOWN@server3'] });
    } finally {
      await lab.startMysqld(3);
    }
  });
});

describe('ha check-repl (lab, MariaDB GTID)', () => {
  let lab: Lab;
  let conf: string;

  before(async () => {
    lab = await Lab.up({ hosts: 3, gtid: true, name: 'e2e-check-repl-gtid' });
    conf = lab.writeConfig();
  });
  after(async () => {
    await lab?.down();
  });

  it('passes and chooses GTID mode when every slave uses GTID (file/position with use_gtid_auto_pos=0)', async () => {
    const r = await expectFindings(conf, { exit: 0, errors: [] });
    assert.equal(r.json.topology.mode, 'gtid');
    assert.match(message(r, 'FAILOVER_MODE'), /GTID/);
    const filePos = lab.writeConfig({ file: join(lab.dir, 'no-gtid.cnf'), serverDefault: { use_gtid_auto_pos: 0 } });
    const r2 = await expectFindings(filePos, { exit: 0, errors: [] });
    assert.equal(r2.json.topology.mode, 'file-position');
  });

  it('reports slaves mixing GTID and file/position replication', async () => {
    await lab.sql(2, 'STOP SLAVE');
    await lab.sql(2, 'CHANGE MASTER TO MASTER_USE_GTID = no');
    await lab.sql(2, 'START SLAVE');
    try {
      const r = await expectFindings(conf, { exit: 1, errors: ['GTID_MIXED'] });
      assert.match(message(r, 'GTID_MIXED'), /GTID auto-position \(server3\) and some by file\/position \(server2\)/);
    } finally {
      await lab.sql(2, 'STOP SLAVE');
      await lab.sql(2, 'CHANGE MASTER TO MASTER_USE_GTID = slave_pos');
      await lab.sql(2, 'START SLAVE');
    }
  });

  it('reports an errant transaction written on a slave', async () => {
    await lab.sql(3, 'CREATE TABLE hatest.errant (id INT PRIMARY KEY)');
    const r = await expectFindings(conf, { exit: 1, errors: ['GTID_ERRANT@server3'] });
    assert.match(message(r, 'GTID_ERRANT'), /errant transaction 0-3-\d+ in this slave's binlog/);
  });
});
