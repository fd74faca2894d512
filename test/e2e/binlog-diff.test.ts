// The diff writer on a real MariaDB cluster: what a failover would apply. Slaves are made to lag
// (IO threads stopped while the master writes small transactions, DDL, a 20 MB transaction, a
// 3 MB row), and each lagging slave gets its diff, built by src/binlog/diff.ts from bytes read
// over real SSH connections:
//   (1) the master's binlogs from the slave's Read_Master_Log_Pos,
//   (2) another slave's relay logs from the offset src/binlog/relay-map.ts maps that position to,
//   (3)+(1) the slave's own relay logs from its exec position (its IO thread was stopped inside
//       the big transaction) followed by the master's binlogs from its read position: one
//       transaction spans both ranges.
// Each diff is applied with `mysqlbinlog FILE | mariadb` on the slave, whose tables must then equal
// the master's; replication restarted from the coordinate the diff reports must go on cleanly.
// Then a copy of the master's binlog cut inside the big transaction: the diff stops at the last
// complete transaction and says what it left out. File/position and GTID replication both.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { localDiffSource, rangesAcross, writeDiffFile, type DiffRange, type DiffResult } from '../../src/binlog/diff.js';
import { EventType, isControlEvent } from '../../src/binlog/event-types.js';
import { sortLogFiles } from '../../src/binlog/files.js';
import { BinlogParser } from '../../src/binlog/parser.js';
import { mapRelayPosition, readRelayLogIndex } from '../../src/binlog/relay-map.js';
import { sshRangeSource, sshRelaySource } from '../../src/ssh/byte-sources.js';
import { SshConnection } from '../../src/ssh/index.js';
import { Lab, type LabHost, type Row } from '../lab/lab.js';

const OPTIONS = { max_binlog_size: 262144, max_relay_log_size: 262144, max_allowed_packet: '64M' };
const BIG_ROWS = 5000; // × 4000 bytes: a 20 MB transaction

interface Status {
  readFile: string;
  readPos: number;
  relayFile: string;
  relayPos: number;
  execFile: string;
  execPos: number;
}

async function slaveStatus(lab: Lab, h: number): Promise<Status> {
  const [s] = await lab.sql(h, 'SHOW SLAVE STATUS');
  assert.ok(s, `h${h} is a slave`);
  return {
    readFile: String(s.Master_Log_File),
    readPos: Number(s.Read_Master_Log_Pos),
    relayFile: String(s.Relay_Log_File),
    relayPos: Number(s.Relay_Log_Pos),
    execFile: String(s.Relay_Master_Log_File),
    execPos: Number(s.Exec_Master_Log_Pos),
  };
}

async function connect(lab: Lab, h: LabHost): Promise<SshConnection> {
  return SshConnection.connect(
    {
      host: h.ip,
      port: 22,
      user: 'root',
      identityFiles: [lab.sshKeyFile],
      knownHostsFiles: [lab.knownHostsFile],
      strictHostKeyChecking: true,
      connectTimeoutSeconds: 5,
    },
    h.name,
  );
}

/** The files an index lists, read over SSH (the failover cannot ask a dead master). */
async function indexOver(conn: SshConnection, index: string): Promise<string[]> {
  const r = await conn.run(['cat', '--', index], { timeoutMs: 10_000 });
  assert.equal(r.code, 0, r.stderr);
  const dir = index.slice(0, index.lastIndexOf('/'));
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => (l.startsWith('/') ? l : `${dir}/${basename(l)}`));
}

/** The master's binlogs from a coordinate to the end, read over SSH from the coordinate only. */
async function masterRanges(conn: SshConnection, master: LabHost, from: { file: string; position: number }): Promise<DiffRange[]> {
  const files = sortLogFiles(await indexOver(conn, `${master.binlogDir}/mysql-bin.index`));
  const i = files.findIndex((f) => basename(f) === from.file);
  assert.ok(i >= 0, `${from.file} is in the master's index`);
  return rangesAcross(
    files.slice(i).map((f) => sshRangeSource(conn, f)),
    from.position,
    { scanFrom: from.position },
  );
}

/** Applies a diff on a slave as a failover does: the server's own mysqlbinlog piped into its client. */
async function apply(lab: Lab, h: LabHost, file: string): Promise<void> {
  const r = await lab.exec(h, ['sh', '-c', `mysqlbinlog ${file} | mariadb --defaults-file=${h.cnfFile} --max-allowed-packet=1G`]);
  assert.equal(r.exitCode, 0, `applying ${file} on ${h.name}: ${r.stderr}`);
  assert.equal(r.stderr, '');
}

/** Every table of hatest: same definition, same rows. */
async function assertSameData(lab: Lab, a: number, b: number): Promise<void> {
  const tables = async (h: number) =>
    (await lab.sql(h, "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'hatest' ORDER BY 1")).map((r: Row) => String(r.t));
  const names = await tables(a);
  assert.deepEqual(await tables(b), names, `h${b} has the tables of h${a}`);
  for (const t of names) {
    const def = async (h: number) => String((await lab.sql(h, `SHOW CREATE TABLE hatest.\`${t}\``))[0]!['Create Table']);
    assert.equal(await def(b), await def(a), `hatest.${t} definition on h${b}`);
    const sum = async (h: number): Promise<unknown> => (await lab.sql(h, `CHECKSUM TABLE hatest.\`${t}\` EXTENDED`))[0]!.Checksum;
    const count = async (h: number) => Number((await lab.sql(h, `SELECT COUNT(*) AS n FROM hatest.\`${t}\``))[0]!.n);
    assert.equal(await count(b), await count(a), `hatest.${t} rows on h${b}`);
    assert.equal(await sum(b), await sum(a), `hatest.${t} checksum on h${b}`);
  }
}

/** mariadb-binlog and ha's parser both read the whole diff. */
function assertReadable(r: DiffResult & { path: string }): void {
  const out = execFileSync('mariadb-binlog', [r.path], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
  assert.ok(out.length > 0);
  const p = new BinlogParser({ file: r.path });
  const events = p.push(readFileSync(r.path));
  const summary = p.finish();
  assert.equal(summary.truncated, undefined);
  assert.equal(summary.safeEnd, r.bytes);
  assert.equal(events.length, r.events + 1);
}

/** Slows what a host receives (its veth on the lab bridge), so that a 20 MB transaction takes seconds to arrive. */
function shape(h: LabHost, rate: string | undefined): void {
  if (rate) execFileSync('tc', ['qdisc', 'add', 'dev', h.veth, 'root', 'tbf', 'rate', rate, 'burst', '64kb', 'latency', '2s']);
  else execFileSync('tc', ['qdisc', 'del', 'dev', h.veth, 'root']);
}

/** Waits until a slave's IO thread is inside [from, to) of the master's binlog `file`, then stops it there. */
async function stopIoInside(lab: Lab, h: number, file: string, from: number, to: number): Promise<Status> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const s = await slaveStatus(lab, h);
    if (s.readFile === file && s.readPos > from + (1 << 20)) break;
    assert.ok(Date.now() < deadline, `h${h} did not start receiving the big transaction (read ${s.readFile}:${s.readPos})`);
    await sleep(20);
  }
  await lab.stopSlaveIo(h);
  const s = await slaveStatus(lab, h);
  assert.ok(s.readFile === file && s.readPos > from && s.readPos < to, `h${h} stopped inside the big transaction: read ${s.readFile}:${s.readPos}, transaction ${from}..${to}`);
  return s;
}

async function masterStatus(lab: Lab): Promise<{ file: string; position: number }> {
  const [m] = await lab.sql(1, 'SHOW MASTER STATUS');
  return { file: String(m!.File), position: Number(m!.Position) };
}

/**
 * Where the master's last transaction ends. Not SHOW MASTER STATUS: MariaDB appends a
 * Binlog_checkpoint on its own some time after a rotation, which moves the position with no
 * transaction (a diff rightly ends before such trailing control events). The test reads the
 * master's current binlog from the lab's shared filesystem to find it.
 */
async function masterLastTransactionEnd(lab: Lab): Promise<{ file: string; position: number }> {
  const { file } = await masterStatus(lab);
  const bytes = readFileSync(join(lab.host(1).binlogDir, file));
  const p = new BinlogParser({ file });
  const ends = p
    .push(bytes)
    .filter((e) => e.endsTransaction)
    .map((e) => e.end);
  p.finish();
  return { file, position: ends.at(-1) ?? 4 };
}

/** The big transaction: 5000 rows of 4000 bytes in one INSERT … SELECT; where it is in the master's binlog. */
async function bigTransaction(lab: Lab, firstId: number): Promise<{ file: string; start: number; end: number }> {
  const before = await masterStatus(lab);
  await lab.sql(1, 'BEGIN');
  await lab.sql(1, `INSERT INTO hatest.big (id, pad) SELECT seq, REPEAT(CHAR(65 + seq % 26), 4000) FROM hatest.seq_${firstId}_to_${firstId + BIG_ROWS - 1}`);
  await lab.sql(1, 'COMMIT');
  // The server rotates only after a transaction: it is whole in `before.file` (then maybe a Rotate).
  const path = join(lab.host(1).binlogDir, before.file);
  const last = new BinlogParser({ file: path }).push(readFileSync(path)).find((e) => e.endsTransaction && e.transactionStart === before.position);
  assert.ok(last, `the big transaction at ${before.file}:${before.position}`);
  return { file: before.file, start: before.position, end: last.end };
}

async function smallWrites(lab: Lab, n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    await lab.sql(1, 'BEGIN');
    await lab.sql(1, `INSERT INTO hatest.t (v) VALUES ('${tag}-${i}')`);
    await lab.sql(1, `UPDATE hatest.t SET v = CONCAT(v, '+') WHERE id % 7 = ${i % 7}`);
    await lab.sql(1, 'COMMIT');
  }
}

for (const gtid of [false, true]) {
  describe(`binlog diffs applied to lagging slaves (MariaDB, ${gtid ? 'GTID' : 'file/position'})`, () => {
    let lab: Lab;
    const conns: SshConnection[] = [];
    let big: { file: string; start: number; end: number };
    let work: string;
    // Where each lagging slave stood when its diff was cut.
    let lag3: Status;
    let lag4: Status;
    let lag5: Status;
    let gtidSlavePos: string;

    before(async () => {
      work = mkdtempSync(join(tmpdir(), 'ha-e2e-diff-'));
      lab = await Lab.up({ hosts: gtid ? 4 : 5, gtid, name: `e2e-binlog-diff${gtid ? '-gtid' : ''}`, mysqldOptions: OPTIONS });
      await lab.sql(1, 'CREATE TABLE hatest.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(200))');
      await lab.sql(1, 'CREATE TABLE hatest.big (id INT PRIMARY KEY, pad VARCHAR(4000))');
      await lab.sql(1, 'CREATE TABLE hatest.blobs (id INT PRIMARY KEY, b LONGBLOB)');
      await smallWrites(lab, 5, 'warmup');
      await lab.waitForSlaveSync();

      // The lag: h3 and h4 stop receiving; h5 keeps receiving but stops executing.
      await lab.stopSlaveIo(3);
      await lab.stopSlaveIo(4);
      if (!gtid) await lab.sql(5, 'STOP SLAVE SQL_THREAD');
      [lag3, lag4] = [await slaveStatus(lab, 3), await slaveStatus(lab, 4)];
      gtidSlavePos = String((await lab.sql(3, 'SELECT @@gtid_slave_pos AS p'))[0]!.p);

      await smallWrites(lab, 30, 'a');
      await lab.sql(1, 'ALTER TABLE hatest.t ADD COLUMN w INT NOT NULL DEFAULT 7');
      await lab.sql(1, 'CREATE TABLE hatest.t2 (k VARCHAR(20) PRIMARY KEY, n INT) ENGINE=InnoDB');
      await lab.sql(1, "INSERT INTO hatest.t2 VALUES ('x', 1), ('y', 2)");
      // h2's IO thread stopped and started: a new relay file that begins with the dump's fake Rotate.
      await lab.stopSlaveIo(2);
      await smallWrites(lab, 10, 'b');
      await lab.startSlaveIo(2);

      // The big transaction, arriving slowly at h5 (file/position) or h2 (GTID), whose IO thread
      // is stopped in its middle: h5 keeps half of it in its relay logs; h2 reconnects and
      // MariaDB resumes the transaction where it stopped.
      const slow = gtid ? 2 : 5;
      shape(lab.host(slow), '40mbit');
      try {
        big = await bigTransaction(lab, 1000);
        const s = await stopIoInside(lab, slow, big.file, big.start, big.end);
        if (!gtid) lag5 = s;
      } finally {
        shape(lab.host(slow), undefined);
      }
      if (gtid) await lab.startSlaveIo(2);

      await lab.sql(1, `INSERT INTO hatest.blobs VALUES (1, REPEAT('z', ${3 << 20}))`); // one 3 MB row event
      await lab.sql(1, 'ALTER TABLE hatest.big ADD COLUMN note VARCHAR(20) DEFAULT NULL');
      await lab.sql(1, "UPDATE hatest.big SET note = 'even' WHERE id % 2 = 0");
      await lab.sql(1, 'DELETE FROM hatest.big WHERE id % 5 = 0');
      await lab.sql(1, 'DROP TABLE hatest.t2');
      await smallWrites(lab, 10, 'c');
      await lab.waitForSlaveSync([2], 60_000);
      for (const h of lab.hosts) conns[h.index] = await connect(lab, h);
    });

    after(async () => {
      for (const c of conns) c?.close();
      await lab?.down();
      rmSync(work, { recursive: true, force: true });
    });

    it('(1) the master binlog from a lagging slave read position, over SSH, applied with mysqlbinlog', async () => {
      const h3 = lab.host(3);
      const end = await masterLastTransactionEnd(lab);
      const ranges = await masterRanges(conns[1]!, lab.host(1), { file: lag3.readFile, position: lag3.readPos });
      assert.ok(ranges.length > 3, 'the master rotated its binlog several times');
      const r = await writeDiffFile(ranges, join(h3.remoteWorkdir, 'diff-master.binlog'));
      assert.deepEqual(r.dropped, []);
      assert.equal(r.ranges[0]!.kind, 'binlog');
      assert.deepEqual(r.ranges[0]!.masterStart, { file: lag3.readFile, position: lag3.readPos });
      assert.deepEqual(r.endsAt, end, "the diff ends at the master's last transaction");
      assert.ok(r.bytes > 23 << 20, `${r.bytes} bytes: the big transaction and the 3 MB row`);
      assert.equal(r.format.flavor, 'mariadb');
      assert.equal(r.gtidSet, String((await lab.sql(1, 'SELECT @@gtid_binlog_pos AS p'))[0]!.p), 'MariaDB GTIDs of the copied transactions');
      assertReadable(r);

      await lab.sql(3, 'STOP SLAVE');
      await apply(lab, h3, r.path);
      await assertSameData(lab, 1, 3);

      // The GTIDs came along: the slave binlogged them as the master's (server_id 1), so its
      // gtid_binlog_pos is the master's, while gtid_slave_pos is still where replication stopped.
      const [g] = await lab.sql(3, 'SELECT @@gtid_binlog_pos AS b, @@gtid_slave_pos AS s, @@gtid_current_pos AS c');
      assert.equal(g!.b, r.gtidSet);
      assert.equal(g!.s, gtidSlavePos);
      assert.equal(g!.c, gtidSlavePos, 'gtid_current_pos ignores GTIDs of other server_ids in the binlog');

      // Replication restarts where the diff ends.
      if (gtid) await lab.sql(3, 'SET GLOBAL gtid_slave_pos = @@gtid_binlog_pos');
      else await lab.sql(3, `CHANGE MASTER TO MASTER_LOG_FILE='${r.endsAt.file}', MASTER_LOG_POS=${r.endsAt.position}`);
      await lab.sql(3, 'START SLAVE');
      await lab.sql(1, "INSERT INTO hatest.t (v) VALUES ('after-1')");
      await lab.waitForSlaveSync([3], 30_000);
      await assertSameData(lab, 1, 3);
    });

    it('(2) the latest slave relay logs from the mapped position, over SSH: the same events as (1)', async () => {
      const h2 = lab.host(2);
      const h4 = lab.host(4);
      await lab.waitForSlaveSync([2], 30_000);
      // (a short deadline: the mapper stops reading early, and a remote read it leaves open would
      // keep this process alive until that deadline — see the report to the lead)
      const source = sshRelaySource(conns[2]!, { timeoutMs: 15_000 });
      const relays = await readRelayLogIndex(source, `${h2.relayDir}/relay-bin.index`);
      const found = await mapRelayPosition(source, relays, { file: lag4.readFile, position: lag4.readPos });
      assert.equal(found.kind, 'found', JSON.stringify(found));
      if (found.kind !== 'found') return;
      assert.equal(found.insideTransaction, false);
      const first = relays.indexOf(found.relayFile);
      const ranges = rangesAcross(
        relays.slice(first).map((f) => sshRangeSource(conns[2]!, f)),
        found.offset,
        { scanFrom: found.offset, masterFile: found.resume.masterFile, masterEnd: found.resume.masterEnd },
      );
      const r = await writeDiffFile(ranges, join(h4.remoteWorkdir, 'diff-relay.binlog'));
      assert.deepEqual(r.dropped, []);
      assert.ok(r.ranges.every((x) => x.kind === 'relay'));
      assert.deepEqual(r.ranges[0]!.masterStart, { file: lag4.readFile, position: lag4.readPos });
      assert.deepEqual(r.endsAt, await masterLastTransactionEnd(lab), 'the relay logs end where the master does');
      assertReadable(r);
      // Read from the relay logs or from the master, a diff has the same events, byte for byte
      // (end_log_pos and CRC included): diff (1), cut before (1)'s test wrote one more row, is a
      // prefix of this one. Only the FDEs differ: the master's own has its creation time, the
      // relay log's copy does not.
      const fromMaster = readFileSync(join(lab.host(3).remoteWorkdir, 'diff-master.binlog'));
      const fromRelay = readFileSync(r.path);
      const fde = fromRelay.readUInt32LE(4 + 9);
      assert.ok(fromRelay.length > fromMaster.length);
      assert.ok(fromRelay.subarray(4 + fde, fromMaster.length).equals(fromMaster.subarray(4 + fde)), 'same events, byte for byte');

      await lab.sql(4, 'STOP SLAVE');
      await apply(lab, h4, r.path);
      await assertSameData(lab, 1, 4);
      if (gtid) {
        // Restarting GTID replication without first moving gtid_slave_pos refetches what the
        // diff applied; with gtid_strict_mode the SQL thread refuses it.
        await lab.sql(4, 'START SLAVE');
        const deadline = Date.now() + 20_000;
        let err = '';
        while (!err && Date.now() < deadline) {
          err = String((await lab.sql(4, 'SHOW SLAVE STATUS'))[0]!.Last_SQL_Error ?? '');
          if (!err) await sleep(50);
        }
        assert.match(err, /out-of-order sequence number/);
        await lab.sql(4, 'STOP SLAVE');
        await lab.sql(4, 'SET GLOBAL gtid_slave_pos = @@gtid_binlog_pos');
      } else {
        await lab.sql(4, `CHANGE MASTER TO MASTER_LOG_FILE='${r.endsAt.file}', MASTER_LOG_POS=${r.endsAt.position}`);
      }
      await lab.sql(4, 'START SLAVE');
      await lab.sql(1, "INSERT INTO hatest.t (v) VALUES ('after-2')");
      await lab.waitForSlaveSync([4], 30_000);
      await assertSameData(lab, 1, 4);
    });

    if (!gtid) {
      it('(3)+(1) own relay logs from the exec position, then the master from the read position: a transaction spans both', async () => {
        const h5 = lab.host(5);
        await lab.sql(5, 'STOP SLAVE');
        const s = await slaveStatus(lab, 5);
        assert.deepEqual([s.readFile, s.readPos], [lag5.readFile, lag5.readPos]);
        const relays = await indexOver(conns[5]!, `${h5.relayDir}/relay-bin.index`);
        const own = rangesAcross(
          relays.slice(relays.findIndex((f) => basename(f) === s.relayFile)).map((f) => sshRangeSource(conns[5]!, f)),
          s.relayPos,
          { scanFrom: s.relayPos, masterFile: s.execFile, masterEnd: s.execPos },
        );
        const master = await masterRanges(conns[1]!, lab.host(1), { file: s.readFile, position: s.readPos });
        const r = await writeDiffFile([...own, ...master], join(h5.remoteWorkdir, 'diff-own-and-master.binlog'));
        assert.deepEqual(r.dropped, []);
        const lastOwn = r.ranges[own.length - 1]!;
        assert.deepEqual(lastOwn.masterEnd, { file: s.readFile, position: s.readPos }, 'the relay logs end inside the big transaction…');
        assert.equal(lastOwn.transactions, 0);
        assert.deepEqual(r.ranges[own.length]!.masterStart, lastOwn.masterEnd, '…which the master binlog goes on with');
        assert.ok(r.ranges[own.length]!.transactions > 0);
        assert.deepEqual(r.endsAt, await masterLastTransactionEnd(lab));
        assertReadable(r);

        await apply(lab, h5, r.path);
        await assertSameData(lab, 1, 5);
        await lab.sql(5, `CHANGE MASTER TO MASTER_LOG_FILE='${r.endsAt.file}', MASTER_LOG_POS=${r.endsAt.position}`);
        await lab.sql(5, 'START SLAVE');
        await lab.sql(1, "INSERT INTO hatest.t (v) VALUES ('after-3')");
        await lab.waitForSlaveSync([5], 30_000);
        await assertSameData(lab, 1, 5);
      });
    }

    it("a copy of the master's binlog cut inside the big transaction: the diff stops before it and says so", async () => {
      const path = join(work, big.file);
      copyFileSync(join(lab.host(1).binlogDir, big.file), path);
      const events = new BinlogParser({ file: path }).push(readFileSync(path));
      const inBig = events.filter((e) => e.position >= big.start && e.end <= big.end && !isControlEvent(e.type));
      assert.equal(inBig[0]!.type, EventType.MARIADB_GTID);
      assert.ok(inBig.length > 2000, `${inBig.length} events in the big transaction`);
      const whole = await writeDiffFile([{ source: localDiffSource(path), start: 4, end: big.start }], join(work, 'upto.binlog'));
      const wholeBytes = readFileSync(whole.path);
      for (const cut of [big.start + 20, inBig[1000]!.position, inBig[1500]!.position + 1234, big.end - 3]) {
        copyFileSync(join(lab.host(1).binlogDir, big.file), path);
        truncateSync(path, cut);
        const r = await writeDiffFile([{ source: localDiffSource(path), start: 4 }], join(work, `cut-${cut}.binlog`));
        assert.ok(readFileSync(r.path).equals(wholeBytes), `cut at ${cut}: the diff ends before the big transaction`);
        assert.equal(r.dropped.length, 1);
        const d = r.dropped[0]!;
        assert.equal(d.file, path);
        assert.equal(d.position, big.start);
        assert.equal(d.bytes, cut - big.start);
        assert.equal(d.reason, inBig.some((e) => e.end === cut) ? 'incomplete-transaction' : 'truncated-event');
        assert.deepEqual(r.endsAt, { file: big.file, position: big.start });
        assertReadable(r);
      }
    });
  });
}
