// `ha binlog find` against relay logs written by real MariaDB slaves, checked against what the
// servers themselves say. Masters rotate their binlogs every 4 KiB and slaves their relay logs
// every 4 KiB, so transactions straddle relay logs; the load has DDL, multi-statement
// transactions, large rows and a transaction of several MB; the IO thread is stopped and started
// again and again (artificial Rotates, header events re-sent on GTID reconnects), once in the
// middle of a transaction. Ground truth: the slave's SQL thread is stepped with
// START SLAVE SQL_THREAD UNTIL MASTER_LOG_FILE/POS, and SHOW SLAVE STATUS then gives the relay
// position (Relay_Log_File, Relay_Log_Pos) of the master position it stopped at
// (Relay_Master_Log_File, Exec_Master_Log_Pos): `ha binlog find` must answer the same place.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { LOG_EVENT_ARTIFICIAL_F, LOG_EVENT_RELAY_LOG_F } from '../../src/binlog/event-types.js';
import { BinlogParser, type BinlogEvent } from '../../src/binlog/parser.js';
import { localRelaySource, mapRelayPosition, readRelayLogIndex, type RelayMapResult } from '../../src/binlog/relay-map.js';
import type { SshSettings } from '../../src/config/types.js';
import { sshRelaySource } from '../../src/ssh/byte-sources.js';
import { SshConnection } from '../../src/ssh/index.js';
import { Lab, type LabHost, type Row } from '../lab/lab.js';
import { runHa } from './ha.js';

const MARIADB_BINLOG = '/usr/bin/mariadb-binlog';

interface Coord {
  file: string;
  position: number;
}

async function until(what: string, f: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await f()) return;
    await sleep(20);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

async function status(lab: Lab, h: number): Promise<Row> {
  const [row] = await lab.sql(h, 'SHOW SLAVE STATUS');
  assert.ok(row, `h${h} is a slave`);
  return row;
}

async function masterStatus(lab: Lab): Promise<Coord> {
  const [ms] = await lab.sql(1, 'SHOW MASTER STATUS');
  return { file: String(ms!.File), position: Number(ms!.Position) };
}

/** Until host h's IO thread has received everything the master has written. */
async function ioCaughtUp(lab: Lab, h: number): Promise<void> {
  const want = await masterStatus(lab);
  await until(`h${h}'s IO thread to read ${want.file}:${want.position}`, async () => {
    const s = await status(lab, h);
    if (s.Last_IO_Error) throw new Error(`h${h}: ${s.Last_IO_Error}`);
    // At or past it: MariaDB writes a Binlog_checkpoint event later on its own, after a rotation.
    const file = String(s.Master_Log_File);
    return file > want.file || (file === want.file && Number(s.Read_Master_Log_Pos) >= want.position);
  });
}

/** Every event of the master's binlogs, as the master lists them. */
async function masterEvents(lab: Lab): Promise<{ file: string; pos: number; end: number; type: string; info: string }[]> {
  const out: { file: string; pos: number; end: number; type: string; info: string }[] = [];
  for (const log of await lab.sql(1, 'SHOW BINARY LOGS')) {
    for (const e of await lab.sql(1, `SHOW BINLOG EVENTS IN '${String(log.Log_name)}'`)) {
      out.push({ file: String(e.Log_name), pos: Number(e.Pos), end: Number(e.End_log_pos), type: String(e.Event_type), info: String(e.Info) });
    }
  }
  return out;
}

/** Transaction ends (Xid, and DDL), sampled: where an SQL thread stopped by UNTIL comes to rest. */
function transactionEnds(events: Awaited<ReturnType<typeof masterEvents>>, count: number): Coord[] {
  const ends = events.filter((e) => e.type === 'Xid' || (e.type === 'Query' && !/^\s*(BEGIN|COMMIT)\b/i.test(e.info))).map((e) => ({ file: e.file, position: e.end }));
  const step = Math.max(1, Math.floor(ends.length / count));
  return ends.filter((_, i) => i % step === 0 || i === ends.length - 1);
}

interface ServerAnswer {
  target: Coord;
  /** Where the SQL thread stopped, in master terms … */
  exec: Coord;
  /** … and in this slave's relay logs. */
  relay: { file: string; offset: number };
}

/** Steps host h's SQL thread to each target with START SLAVE SQL_THREAD UNTIL and records where it stopped. */
async function stepSqlThread(lab: Lab, h: number, targets: Coord[]): Promise<ServerAnswer[]> {
  const host = lab.host(h);
  const out: ServerAnswer[] = [];
  for (const t of targets) {
    await lab.sql(h, `START SLAVE SQL_THREAD UNTIL MASTER_LOG_FILE='${t.file}', MASTER_LOG_POS=${t.position}`);
    await until(`h${h}'s SQL thread to stop at ${t.file}:${t.position}`, async () => {
      const s = await status(lab, h);
      if (s.Last_SQL_Error) throw new Error(`h${h}: ${s.Last_SQL_Error}`);
      return s.Slave_SQL_Running === 'No';
    });
    const s = await status(lab, h);
    out.push({
      target: t,
      exec: { file: String(s.Relay_Master_Log_File), position: Number(s.Exec_Master_Log_Pos) },
      relay: { file: join(host.relayDir, String(s.Relay_Log_File).split('/').pop()!), offset: Number(s.Relay_Log_Pos) },
    });
  }
  return out;
}

const fileCache = new Map<string, BinlogEvent[]>();
/** A relay log's events (they no longer change once the steps are recorded: IO threads idle, relay_log_purge=0). */
function parseFile(path: string): BinlogEvent[] {
  let events = fileCache.get(path);
  if (!events) {
    events = new BinlogParser({ file: path }).push(readFileSync(path));
    fileCache.set(path, events);
  }
  return events;
}

/**
 * The server reports the relay position after the last event it executed, which may be a Rotate
 * of its own at the end of a relay log, or events that are no master events (an artificial
 * Rotate, a description, header events re-sent on a GTID reconnect). In GTID mode a restarted SQL
 * thread may even report a relay position before events it has already executed (it re-reads
 * them and skips them by GTID). The first master event after the executed position, from the
 * server's relay position on, is the place a diff starts: what `ha binlog find` answers.
 */
function normalize(relayFiles: string[], at: { file: string; offset: number }, exec: Coord): { file: string; offset: number; skippedBehind: number } {
  let i = relayFiles.indexOf(at.file);
  assert.ok(i >= 0, `${at.file} is in the index`);
  let start = at.offset;
  let masterFile = exec.file;
  let skippedBehind = 0;
  for (; i < relayFiles.length; i++, start = 4) {
    const events = parseFile(relayFiles[i]!);
    const ownId = events[0]!.serverId;
    for (const e of events) {
      if (e.position < start) continue;
      const artificial = (e.flags & LOG_EVENT_ARTIFICIAL_F) !== 0;
      const own = (e.flags & LOG_EVENT_RELAY_LOG_F) !== 0 || (e.serverId === ownId && !artificial);
      if (own) continue;
      const rotateTo = e.info?.kind === 'rotate' ? e.info.nextFile : undefined;
      if (artificial || e.logPos === 0) {
        if (rotateTo) masterFile = rotateTo;
        continue;
      }
      // Behind the executed position: already executed (a GTID-mode re-read), or re-sent headers.
      const behind = masterFile < exec.file || (masterFile === exec.file && e.logPos <= exec.position);
      if (rotateTo) masterFile = rotateTo;
      if (behind) {
        skippedBehind++;
        continue;
      }
      return { file: relayFiles[i]!, offset: e.position, skippedBehind };
    }
  }
  const last = relayFiles[relayFiles.length - 1]!;
  return { file: last, offset: statSync(last).size, skippedBehind };
}

async function haFind(index: string, c: Coord, extra: string[] = []): Promise<{ exitCode: number; json: RelayMapResult & { kind: string }; ms: number }> {
  const r = await runHa(['binlog', 'find', '--json', '--relay-log-index', index, '--master-log-file', c.file, '--master-log-pos', String(c.position), ...extra]);
  let json: RelayMapResult;
  try {
    json = JSON.parse(r.stdout) as RelayMapResult;
  } catch {
    throw new Error(`ha binlog find ${c.file}:${c.position}: exit ${r.exitCode}\n${r.stdout}\n${r.stderr}`);
  }
  return { exitCode: r.exitCode, json, ms: r.durationMs };
}

async function inParallel<T, R>(items: T[], n: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await f(items[i]!);
      }
    }),
  );
  return out;
}

/** The master's load: DDL, autocommit rows of many sizes, multi-statement transactions; IO-thread restarts on `restartOn`. */
async function load(lab: Lab, rounds: number, restartOn: number[], seed: number): Promise<void> {
  let x = seed;
  const rnd = (n: number) => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x % n;
  };
  await lab.sql(1, 'CREATE TABLE IF NOT EXISTS hatest.bf (id INT AUTO_INCREMENT PRIMARY KEY, k INT, b LONGTEXT)');
  for (let i = 0; i < rounds; i++) {
    await lab.sql(1, `INSERT INTO hatest.bf (k, b) VALUES (${i}, REPEAT('a', ${50 + rnd(3000)}))`);
    await lab.sql(1, 'BEGIN');
    await lab.sql(1, `INSERT INTO hatest.bf (k, b) VALUES (${i}, REPEAT('b', ${10 + rnd(1500)}))`);
    await lab.sql(1, `INSERT INTO hatest.bf (k, b) VALUES (${i}, 'c')`);
    await lab.sql(1, `UPDATE hatest.bf SET k = k + 1 WHERE id = LAST_INSERT_ID()`);
    await lab.sql(1, 'COMMIT');
    if (i % 9 === 4) await lab.sql(1, `CREATE TABLE hatest.ddl_${seed}_${i} (a INT)`);
    if (i % 13 === 7) {
      for (const h of restartOn) await lab.stopSlaveIo(h);
      await lab.sql(1, `INSERT INTO hatest.bf (k, b) VALUES (${i}, 'while the IO thread was stopped')`);
      for (const h of restartOn) await lab.startSlaveIo(h);
    }
  }
}

/**
 * A transaction of `rows` rows of `bytes` each, sent to slaves through a slow link so that `stopAt`
 * stops its IO thread in the middle of it (and `restartAt` stops and starts again). Returns the
 * transaction's first event and where the stopped slave's IO thread is.
 */
async function midTransactionStop(lab: Lab, opts: { stopAt: number; restartAt?: number; rows: number; bytes: number }): Promise<{ start: Coord; read: Coord }> {
  const m = lab.host(1);
  const before = await masterStatus(lab);
  await execa('ip', ['netns', 'exec', m.netns, 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'tbf', 'rate', '40mbit', 'burst', '64kb', 'latency', '3s']);
  try {
    await lab.sql(1, 'BEGIN');
    for (let r = 0; r < opts.rows; r++) await lab.sql(1, `INSERT INTO hatest.bf (k, b) VALUES (-1, REPEAT('${String.fromCharCode(100 + r)}', ${opts.bytes}))`);
    await lab.sql(1, 'COMMIT');
    const after = await masterStatus(lab);
    // The transaction is in `before.file` unless the master rotated just before it.
    const events = await masterEvents(lab);
    const gtid = events.find((e) => (e.file > before.file || (e.file === before.file && e.pos >= before.position)) && e.type === 'Gtid')!;
    const firstRows = events.find((e) => e.file === gtid.file && e.pos > gtid.pos && e.type.startsWith('Write_rows'))!;
    const xid = events.find((e) => e.file === gtid.file && e.pos > gtid.pos && e.type === 'Xid')!;
    const stopInside = async (h: number) => {
      await until(`h${h} to be inside the transaction`, async () => {
        const s = await status(lab, h);
        return s.Master_Log_File === gtid.file && Number(s.Read_Master_Log_Pos) >= firstRows.end && Number(s.Read_Master_Log_Pos) < xid.pos;
      });
      await lab.stopSlaveIo(h);
    };
    await stopInside(opts.stopAt);
    const s = await status(lab, opts.stopAt);
    if (opts.restartAt !== undefined) {
      await stopInside(opts.restartAt);
      await lab.startSlaveIo(opts.restartAt);
    }
    const read = { file: String(s.Master_Log_File), position: Number(s.Read_Master_Log_Pos) };
    assert.ok(
      read.file === gtid.file && read.position < xid.end,
      `stopped inside the transaction (${read.file}:${read.position}, it ends at ${xid.end}; the master is at ${after.file}:${after.position})`,
    );
    return { start: { file: gtid.file, position: gtid.pos }, read };
  } finally {
    await execa('ip', ['netns', 'exec', m.netns, 'tc', 'qdisc', 'del', 'dev', 'eth0', 'root']);
  }
}

/** end_log_pos of the event mariadb-binlog reads at `offset` of a relay log (the server's own tool as a witness). */
async function endLogPosAt(file: string, offset: number): Promise<number> {
  const r = await execa('sh', ['-c', `${MARIADB_BINLOG} --start-position=${offset} --stop-position=${offset + 1} '${file}' | head -c 65536`]);
  const m = new RegExp(`# at ${offset}\\n#[^\\n]*end_log_pos (\\d+)`).exec(r.stdout);
  assert.ok(m, `mariadb-binlog shows an event at ${file}:${offset}`);
  return Number(m[1]);
}

function sshSettings(lab: Lab, h: LabHost): SshSettings {
  return {
    host: h.ip,
    port: h.sshPort,
    user: 'root',
    identityFiles: [lab.sshKeyFile],
    knownHostsFiles: [lab.knownHostsFile],
    strictHostKeyChecking: true,
    connectTimeoutSeconds: 5,
  };
}

function place(r: RelayMapResult): string {
  if (r.kind === 'found' || r.kind === 'at-end') return `${r.relayFile}:${r.offset}`;
  return r.kind;
}

for (const gtid of [false, true]) {
  describe(`ha binlog find on MariaDB relay logs (${gtid ? 'GTID' : 'file/position'} replication)`, () => {
    let lab: Lab;
    let index: string;
    let answers: ServerAnswer[];
    let mid: { start: Coord; read: Coord };
    const timings: { label: string; ms: number; files: number; bytes: number }[] = [];

    before(async () => {
      lab = await Lab.up({
        hosts: 3,
        gtid,
        name: gtid ? 'e2e-binlog-find-gtid' : 'e2e-binlog-find',
        mysqldOptions: { max_binlog_size: 4096, max_relay_log_size: 4096, max_allowed_packet: '64M', slave_max_allowed_packet: '64M' },
        // h3 purges the relay logs its SQL thread is done with, as slaves do by default.
        hostMysqldOptions: { 3: { relay_log_purge: 1 } },
      });
      index = join(lab.host(2).relayDir, 'relay-bin.index');
      // h2's SQL thread waits: its relay logs keep everything, and it is stepped with UNTIL later.
      await lab.sql(2, 'STOP SLAVE SQL_THREAD');
      await load(lab, 40, [2], gtid ? 7 : 3);
      // h3 lags: its IO thread stops inside a large transaction, which h2 receives after an IO
      // restart of its own in the middle of it (a relay log that continues the transaction).
      mid = await midTransactionStop(lab, { stopAt: 3, restartAt: 2, rows: 4, bytes: 1_500_000 });
      await load(lab, 15, [2], gtid ? 8 : 4);
      await ioCaughtUp(lab, 2);
      const events = await masterEvents(lab);
      const targets = transactionEnds(events, 45);
      // The start of the large transaction is a step too (its relay position, from the server).
      targets.push({ file: mid.start.file, position: mid.start.position });
      targets.sort((a, b) => (a.file === b.file ? a.position - b.position : a.file < b.file ? -1 : 1));
      answers = await stepSqlThread(lab, 2, targets);
      const files = await readRelayLogIndex(localRelaySource(), index);
      assert.ok(files.length > 60, `${files.length} relay logs`);
    });
    after(async () => {
      if (timings.length)
        process.stdout.write(
          `# binlog find timings (${gtid ? 'gtid' : 'file/pos'}): ${timings.map((t) => `${t.label} ${t.ms} ms (${t.files} relay logs, ${t.bytes} bytes read)`).join('; ')}\n`,
        );
      await lab?.down();
    });

    it('answers where the server itself says, at every transaction boundary its SQL thread stopped at', async () => {
      const files = await readRelayLogIndex(localRelaySource(), index);
      const results = await inParallel(answers, 4, (a) => haFind(index, a.exec));
      let normalized = 0;
      let rewound = 0;
      for (const [i, a] of answers.entries()) {
        const { json, exitCode } = results[i]!;
        const want = normalize(files, a.relay, a.exec);
        if (want.file !== a.relay.file || want.offset !== a.relay.offset) normalized++;
        if (want.skippedBehind) {
          rewound++;
          process.stdout.write(
            `# the server reported ${a.relay.file}:${a.relay.offset} for ${a.exec.file}:${a.exec.position}, before ${want.skippedBehind} events it had executed; the next event is at ${want.file}:${want.offset}\n`,
          );
        }
        const label = `${a.exec.file}:${a.exec.position} (server: ${a.relay.file}:${a.relay.offset}, target ${a.target.file}:${a.target.position})`;
        assert.equal(exitCode, 0, `${label}: ${JSON.stringify(json)}`);
        if (json.kind === 'at-end') {
          assert.equal(i, answers.length - 1, `${label}: only the last step is at the end`);
          assert.equal(`${json.relayFile}:${json.offset}`, `${want.file}:${want.offset}`, label);
          continue;
        }
        assert.equal(json.kind, 'found', label);
        assert.equal(place(json), `${want.file}:${want.offset}`, label);
        assert.ok(json.kind === 'found' && json.exactBoundary && !json.insideTransaction, label);
      }
      assert.ok(answers.length >= 40, `${answers.length} server answers`);
      process.stdout.write(
        `# ${answers.length} server answers matched, ${normalized} after skipping events that are not the master's (${rewound} reported before events already executed)\n`,
      );
    });

    it("maps a lagging slave's read position inside a transaction to the next event and names the transaction's start", async () => {
      const r = await haFind(index, mid.read);
      assert.equal(r.exitCode, 0, JSON.stringify(r.json));
      assert.ok(r.json.kind === 'found' && r.json.exactBoundary && r.json.insideTransaction, JSON.stringify(r.json));
      // The server's own tool reads, at that offset, the master event that starts at the position.
      const [next] = await lab.sql(1, `SHOW BINLOG EVENTS IN '${mid.read.file}' FROM ${mid.read.position} LIMIT 1`);
      assert.equal(await endLogPosAt(r.json.relayFile, r.json.offset), Number(next!.End_log_pos));
      // The transaction's start is where the server's SQL thread stopped before it.
      const atStart = answers.find((a) => a.exec.file === mid.start.file && a.exec.position === mid.start.position);
      assert.ok(atStart, 'the SQL thread stopped at the transaction start');
      const files = await readRelayLogIndex(localRelaySource(), index);
      const want = normalize(files, atStart.relay, atStart.exec);
      assert.equal(`${r.json.transactionStart?.relayFile}:${r.json.transactionStart?.offset}`, `${want.file}:${want.offset}`);
      assert.deepEqual({ file: r.json.transactionStart?.masterFile, position: r.json.transactionStart?.masterPosition }, mid.start);
      assert.notEqual(r.json.transactionStart?.relayFile, r.json.relayFile, 'the transaction straddles relay logs');
    });

    it('gives the same answers reading the relay logs over SSH', async () => {
      const conn = await SshConnection.connect(sshSettings(lab, lab.host(2)), 'server2');
      try {
        const src = sshRelaySource(conn);
        const files = await readRelayLogIndex(src, index);
        const localFiles = await readRelayLogIndex(localRelaySource(), index);
        assert.deepEqual(files, localFiles);
        const sample = [...answers.filter((_, i) => i % 6 === 0), { exec: mid.read } as ServerAnswer];
        for (const a of sample) {
          const t0 = Date.now();
          const remote = await mapRelayPosition(src, files, a.exec);
          const ms = Date.now() - t0;
          const local = await mapRelayPosition(localRelaySource(), localFiles, a.exec);
          assert.equal(place(remote), place(local), `${a.exec.file}:${a.exec.position}`);
          assert.equal(remote.kind, local.kind);
          if (remote.kind === 'found' && local.kind === 'found') assert.deepEqual(remote.transactionStart, local.transactionStart);
          if (a === sample[sample.length - 1]) timings.push({ label: 'over SSH', ms, files: remote.stats.files, bytes: remote.stats.bytesRead });
        }
      } finally {
        conn.close();
      }
    });

    it('older after relay_log_purge removed the relay logs, at-end at the read position, newer beyond it', async () => {
      // h3 (relay_log_purge=1) catches up on a fresh master binlog and goes on in a relay log with
      // no Rotate in it; the relay logs before it are purged once its SQL thread leaves them.
      await lab.sql(1, 'FLUSH BINARY LOGS');
      await lab.sql(3, 'START SLAVE');
      await lab.waitForSlaveSync([3], 30_000);
      // MariaDB purges a relay log one rotation after its SQL thread left it: flush twice.
      for (const n of [1, 2]) {
        await lab.sql(3, 'FLUSH RELAY LOGS');
        await lab.sql(1, `INSERT INTO hatest.bf (k, b) VALUES (-2, 'after flush ${n}')`);
        await lab.waitForSlaveSync([3], 30_000);
      }
      const index3 = join(lab.host(3).relayDir, 'relay-bin.index');
      await until('h3 to purge its old relay logs', async () => (await readRelayLogIndex(localRelaySource(), index3)).length <= 2, 10_000);
      const s = await status(lab, 3);
      const read = ['--read-master-log-file', String(s.Master_Log_File), '--read-master-log-pos', String(s.Read_Master_Log_Pos)];
      const early = answers[0]!.exec;

      // No Rotate left to say which binlog the relay log holds: the slave's read position does.
      const blind = await runHa(['binlog', 'find', '--relay-log-index', index3, '--master-log-file', early.file, '--master-log-pos', String(early.position)]);
      assert.equal(blind.exitCode, 1);
      assert.match(blind.stderr, /cannot tell which master binlog .* --read-master-log-file/);
      const older = await haFind(index3, early, read);
      assert.equal(older.json.kind, 'older', JSON.stringify(older.json));
      assert.equal(older.exitCode, 1);
      const human = await runHa(['binlog', 'find', '--relay-log-index', index3, '--master-log-file', early.file, '--master-log-pos', String(early.position), ...read]);
      assert.match(human.stdout, /^older .*is before the oldest event these relay logs still have/);

      const atEnd = await haFind(index3, { file: String(s.Master_Log_File), position: Number(s.Read_Master_Log_Pos) }, read);
      assert.equal(atEnd.json.kind, 'at-end', JSON.stringify(atEnd.json));
      assert.equal(atEnd.exitCode, 0);

      const ms = await masterStatus(lab);
      const next = ms.file.replace(/\d+$/, (d) => String(Number(d) + 1).padStart(d.length, '0'));
      for (const c of [
        { file: ms.file, position: ms.position + 1000 },
        { file: next, position: 4 },
      ]) {
        const r = await haFind(index3, c, read);
        assert.equal(r.json.kind, 'newer', JSON.stringify(r.json));
        assert.equal(r.exitCode, 1);
      }
      // On h2 (nothing purged), a position inside an event is named.
      const inside = await haFind(index, { file: mid.start.file, position: mid.start.position + 5 });
      assert.equal(inside.json.kind, 'not-boundary');
      assert.equal(inside.exitCode, 1);
    });

    it('is fast on the whole relay-log set (a lookup near the end and near the start)', async () => {
      const files = await readRelayLogIndex(localRelaySource(), index);
      const total = files.reduce((n, f) => n + statSync(f).size, 0);
      for (const [label, a] of [
        ['near the start', answers[1]!],
        ['near the end', answers[answers.length - 2]!],
      ] as const) {
        const r = await haFind(index, a.exec);
        assert.equal(r.json.kind, 'found');
        assert.ok(r.json.stats.filesScanned <= 3, `${label}: read ${r.json.stats.filesScanned} relay logs`);
        assert.ok(r.json.stats.bytesRead < total / 2, `${label}: read ${r.json.stats.bytesRead} of ${total} bytes`);
        timings.push({
          label: `bin/ha ${label} of ${files.length} relay logs / ${total} bytes (process ${r.ms} ms, lookup`,
          ms: r.json.stats.durationMs,
          files: r.json.stats.files,
          bytes: r.json.stats.bytesRead,
        });
      }
    });
  });
}
