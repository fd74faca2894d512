// The benchmark's data set: a ≥ 1 GiB relay-log set written by a real MariaDB slave of the test lab,
// copied out of the lab to <data dir>/<mariadb version>/ (outside the repository) and reused by
// later runs while its manifest says it is complete and every file still has its recorded size.
//
// Load on the master (binlog_format=ROW, binlog_checksum=CRC32, annotate rows on; the lab's defaults),
// written by two sessions at once so transactions interleave as on a busy server:
//   - lane "oltp": many small autocommit transactions (stored procedure loops: one-row INSERTs of
//     40-240 bytes, one-row UPDATEs and DELETEs), a FLUSH BINARY LOGS, a few DDL statements;
//   - lane "batch": multi-row transactions of 2-41 rows of 200 B-3.9 KB (INSERT … SELECT from the
//     sequence engine, plus UPDATEs of earlier rows), and big single-statement transactions: bulk
//     INSERT … SELECT of 50 000 rows (~100 MB), an UPDATE of a quarter of the table (before and
//     after images, ~150 MB), a DELETE of a seventh of it.
// The slave's SQL thread is stopped for the whole load (it would only compete for the 2 CPUs; the IO
// thread writes the same relay logs either way) and its IO thread is restarted once halfway, so the
// set holds the artificial rotate / Format_description events of a reconnect too.
// SHOW MASTER STATUS is sampled every second and after every step: those coordinates are
// transaction boundaries in the master's binlog, the positions a lagging slave could have read,
// and the lookups are chosen among them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execa } from 'execa';
import { createConnection, type Connection } from 'mysql2/promise';
import { Lab } from '../../test/lab/lab.js';
import { mariadbVersion } from '../../test/lab/template.js';

/** Bump when the load or the layout changes: older data sets are then regenerated. */
export const GENERATOR_VERSION = 1;

export interface Coordinate {
  file: string;
  pos: number;
  /** Offset of the coordinate in the master's binlog stream (sizes of the earlier files + pos). */
  globalOffset: number;
  /** Seconds since the load started. */
  t: number;
}

export interface DataSetManifest {
  generatorVersion: number;
  complete: true;
  createdAt: string;
  mariadbVersion: string;
  /** Relay-log files in index order, as copied out of the lab. */
  files: { name: string; size: number }[];
  totalBytes: number;
  /** The relay-log index with paths rewritten to this directory (the server's own is kept as relay-bin.index.lab). */
  index: string;
  /** The slave's relay-log.info with the relay-log path rewritten (for MHA); original kept as relay-log.info.lab. */
  relayLogInfo: string;
  slaveServerId: number;
  /** The slave's SHOW SLAVE STATUS when the IO thread had read everything. */
  slaveStatus: { masterLogFile: string; readMasterLogPos: number; relayLogFile: string; relayLogPos: number; relayMasterLogFile: string; execMasterLogPos: number };
  /** The master's SHOW BINARY LOGS at the end. */
  masterBinlogs: { name: string; size: number }[];
  /** SHOW MASTER STATUS samples during the load (transaction boundaries). */
  coordinates: Coordinate[];
  /** Events counted independently: lines "# at N" in `mariadb-binlog --skip-gtid-strict-mode FILES`. */
  eventsByMariadbBinlog: number;
  /** steps[].bytes: how much the master's binlog grew while the step ran (both lanes write at once). */
  generation: { seconds: number; loadSeconds: number; masterBytes: number; steps: { lane: string; step: string; seconds: number; bytes: number }[] };
}

export interface DataSet extends DataSetManifest {
  dir: string;
  /** Absolute paths of the relay-log files, in index order. */
  paths: string[];
}

type Log = (line: string) => void;

function manifestPath(dir: string): string {
  return path.join(dir, 'manifest.json');
}

/** The data set in dir if it is complete and intact; otherwise undefined, with the reason logged. */
export function loadDataSet(dir: string, log: Log): DataSet | undefined {
  let m: DataSetManifest;
  try {
    m = JSON.parse(fs.readFileSync(manifestPath(dir), 'utf8')) as DataSetManifest;
  } catch {
    return undefined;
  }
  if (m.generatorVersion !== GENERATOR_VERSION || m.complete !== true) {
    log(`data set in ${dir} was made by generator v${m.generatorVersion} (now v${GENERATOR_VERSION}) or is incomplete: regenerating`);
    return undefined;
  }
  for (const f of m.files) {
    let size = -1;
    try {
      size = fs.statSync(path.join(dir, f.name)).size;
    } catch {
      /* missing */
    }
    if (size !== f.size) {
      log(`data set in ${dir}: ${f.name} is ${size < 0 ? 'missing' : `${size} bytes, not ${f.size}`}: regenerating`);
      return undefined;
    }
  }
  return { ...m, dir, paths: m.files.map((f) => path.join(dir, f.name)) };
}

/** Numeric order of binlog file names (mysql-bin.999999 < mysql-bin.1000000). */
function logNumber(name: string): number {
  const m = /\.(\d+)$/.exec(name);
  return m ? Number(m[1]) : -1;
}

const SCHEMA = [
  'CREATE DATABASE IF NOT EXISTS bench',
  `CREATE TABLE bench.small (
     id BIGINT AUTO_INCREMENT PRIMARY KEY,
     k INT NOT NULL,
     v VARCHAR(255) NOT NULL,
     ts TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
     KEY (k)
   ) ENGINE=InnoDB`,
  `CREATE TABLE bench.doc (
     id BIGINT AUTO_INCREMENT PRIMARY KEY,
     a INT NOT NULL,
     b VARCHAR(64) NOT NULL,
     payload BLOB NOT NULL,
     ts TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
   ) ENGINE=InnoDB`,
  // Small OLTP transactions: every statement autocommits. Per iteration ~0.6 KB of binlog.
  `CREATE PROCEDURE bench.small_tx(first INT, n INT)
   BEGIN
     DECLARE i INT DEFAULT first;
     DECLARE lid BIGINT;
     WHILE i < first + n DO
       INSERT INTO bench.small (k, v) VALUES (i, REPEAT(SHA1(i), 1 + i % 6));
       SET lid = LAST_INSERT_ID();
       IF i % 5 = 4 THEN UPDATE bench.small SET k = k + 1, v = LEFT(v, 40) WHERE id = lid - 2; END IF;
       IF i % 10 = 9 THEN DELETE FROM bench.small WHERE id = lid - 7; END IF;
       SET i = i + 1;
     END WHILE;
   END`,
  // Multi-row transactions: 2-41 rows of 192 B-3.8 KB payload, every third one also updates earlier rows.
  `CREATE PROCEDURE bench.medium_tx(first INT, n INT)
   BEGIN
     DECLARE i INT DEFAULT first;
     DECLARE r INT;
     DECLARE lid BIGINT;
     WHILE i < first + n DO
       START TRANSACTION;
       SET r = 2 + (i * 7919) % 40;
       INSERT INTO bench.doc (a, b, payload)
         SELECT seq, CONCAT('order-', i, '-', seq), REPEAT(MD5(seq + i), 6 + (seq * 31 + i) % 120)
         FROM seq_1_to_100 WHERE seq <= r;
       SET lid = LAST_INSERT_ID();
       IF i % 3 = 0 THEN UPDATE bench.doc SET a = a + 1 WHERE id BETWEEN lid - 2 * r AND lid - r; END IF;
       COMMIT;
       SET i = i + 1;
     END WHILE;
   END`,
];

interface Step {
  name: string;
  sql: string[];
}

function oltpLane(): Step[] {
  const steps: Step[] = [];
  const chunk = 40_000;
  for (let k = 0; k < 8; k++) {
    steps.push({ name: `small_tx x${chunk}`, sql: [`CALL bench.small_tx(${k * chunk}, ${chunk})`] });
    if (k === 1) steps.push({ name: 'FLUSH BINARY LOGS', sql: ['FLUSH BINARY LOGS'] });
    if (k === 3) {
      steps.push({
        name: 'DDL',
        sql: [
          'CREATE TABLE bench.audit (id INT PRIMARY KEY, note VARCHAR(100)) ENGINE=InnoDB',
          "INSERT INTO bench.audit VALUES (1, 'ddl in the middle of the load')",
          'ALTER TABLE bench.small ADD COLUMN note VARCHAR(32) NULL',
          'DROP TABLE bench.audit',
        ],
      });
    }
  }
  return steps;
}

function batchLane(): Step[] {
  const medium = (k: number, n = 1500): Step => ({ name: `medium_tx x${n}`, sql: [`CALL bench.medium_tx(${k * 1500}, ${n})`] });
  const bulk = (k: number): Step => ({
    name: 'bulk INSERT … SELECT 50000 rows',
    sql: [`INSERT INTO bench.doc (a, b, payload) SELECT seq, CONCAT('bulk-${k}-', seq), REPEAT(SHA2(seq + ${k}, 256), 4 + seq % 60) FROM seq_1_to_50000`],
  });
  return [
    medium(0),
    bulk(1),
    medium(1),
    { name: 'UPDATE a quarter of doc', sql: ["UPDATE bench.doc SET a = a + 1, b = CONCAT(LEFT(b, 60), '-u') WHERE id % 4 = 0"] },
    medium(2),
    bulk(2),
    { name: 'DELETE a seventh of doc', sql: ['DELETE FROM bench.doc WHERE id % 7 = 0'] },
    medium(3),
  ];
}

async function connect(lab: Lab, host: number, database?: string): Promise<Connection> {
  return createConnection({ socketPath: lab.host(host).socket, user: 'root', password: '', database, supportBigNumbers: true });
}

async function query(c: Connection, sql: string): Promise<Record<string, unknown>[]> {
  const [rows] = await c.query(sql);
  return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
}

/** Generates the data set into dir (created; must not exist). */
export async function generateDataSet(dir: string, targetBytes: number, log: Log): Promise<DataSet> {
  const t0 = Date.now();
  const version = await mariadbVersion();
  log(`generating a relay-log set of ≥ ${(targetBytes / 2 ** 30).toFixed(2)} GiB with MariaDB ${version} (lab: master + slave)…`);
  const lab = await Lab.up({
    hosts: 2,
    name: 'bench-binlog',
    mysqldOptions: {
      max_binlog_size: '256M',
      max_relay_log_size: '256M',
      // Room for the load: the lab's defaults are sized for tiny test tables.
      innodb_buffer_pool_size: '1G',
      innodb_log_file_size: '256M',
      innodb_log_buffer_size: '64M',
    },
  });
  const conns: Connection[] = [];
  try {
    log(`lab ${lab.id} up in ${lab.timings.total} ms (${lab.dir})`);
    await lab.sql(2, 'STOP SLAVE SQL_THREAD');
    const master = await connect(lab, 1);
    conns.push(master);
    for (const s of SCHEMA) await query(master, s);

    const binlogSizes = async () => (await lab.sql(1, 'SHOW BINARY LOGS')).map((r) => ({ name: String(r.Log_name), size: Number(r.File_size) }));
    const coordinates: Coordinate[] = [];
    const tLoad = Date.now();
    const sample = async (): Promise<number> => {
      // Sizes then status, so the status's file is in the list; global offset = earlier files + pos.
      const logs = await binlogSizes();
      const [ms] = await lab.sql(1, 'SHOW MASTER STATUS');
      const file = String(ms!.File);
      const pos = Number(ms!.Position);
      let before = 0;
      for (const l of logs) if (logNumber(l.name) < logNumber(file)) before += l.size;
      const last = coordinates[coordinates.length - 1];
      if (!last || last.file !== file || last.pos !== pos) coordinates.push({ file, pos, globalOffset: before + pos, t: (Date.now() - tLoad) / 1000 });
      return before + pos;
    };
    const stepLog: DataSetManifest['generation']['steps'] = [];
    const runLane = async (lane: string, steps: Step[]) => {
      const c = await connect(lab, 1, 'bench');
      conns.push(c);
      for (const step of steps) {
        const a = Date.now();
        const b0 = await sample();
        for (const s of step.sql) await query(c, s);
        const b1 = await sample();
        stepLog.push({ lane, step: step.name, seconds: (Date.now() - a) / 1000, bytes: b1 - b0 });
      }
    };

    // Progress, coordinate samples, and the IO thread restart halfway.
    let restarted = false;
    let stop = false;
    let lastLine = '';
    const monitor = (async () => {
      while (!stop) {
        await new Promise((r) => setTimeout(r, 1000));
        if (stop) break;
        const total = await sample();
        const [st] = await lab.sql(2, 'SHOW SLAVE STATUS');
        const el = (Date.now() - tLoad) / 1000;
        const line = `  ${el.toFixed(0).padStart(4)} s  master binlog ${(total / 1e6).toFixed(0).padStart(5)} MB of ${(targetBytes / 1e6).toFixed(0)} (${(total / 1e6 / el).toFixed(0)} MB/s)  slave read ${st?.Master_Log_File}:${st?.Read_Master_Log_Pos}`;
        if (line !== lastLine) log(line);
        lastLine = line;
        if (!restarted && total >= targetBytes / 2) {
          restarted = true;
          log('  restarting the slave IO thread (a reconnect in the middle of the relay logs)');
          await lab.stopSlaveIo(2);
          await lab.startSlaveIo(2);
        }
      }
    })();
    try {
      await Promise.all([runLane('oltp', oltpLane()), runLane('batch', batchLane())]);
      // Top up to the target with more multi-row transactions.
      let k = 4;
      while ((await sample()) < targetBytes) {
        await runLane('batch', [{ name: 'medium_tx x500 (top-up)', sql: [`CALL bench.medium_tx(${k * 1500}, 500)`] }]);
        k++;
      }
    } finally {
      stop = true;
      await monitor;
    }
    const loadSeconds = (Date.now() - tLoad) / 1000;
    const masterBinlogs = await binlogSizes();
    const [ms] = await lab.sql(1, 'SHOW MASTER STATUS');
    const endFile = String(ms!.File);
    const endPos = Number(ms!.Position);
    log(`load done in ${loadSeconds.toFixed(1)} s: master at ${endFile}:${endPos}; waiting for the slave's IO thread to read it all…`);
    if (!restarted) {
      await lab.stopSlaveIo(2);
      await lab.startSlaveIo(2);
    }
    const deadline = Date.now() + 600_000;
    let st: Record<string, unknown> | undefined;
    for (;;) {
      [st] = await lab.sql(2, 'SHOW SLAVE STATUS');
      if (st && String(st.Master_Log_File) === endFile && Number(st.Read_Master_Log_Pos) === endPos) break;
      if (st?.Slave_IO_Running !== 'Yes') throw new Error(`slave IO thread stopped: ${(st?.Last_IO_Error as string | undefined) ?? ''}`);
      if (Date.now() > deadline) throw new Error(`slave IO thread did not catch up in 10 min (at ${String(st?.Master_Log_File)}:${String(st?.Read_Master_Log_Pos)})`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await lab.sql(2, 'STOP SLAVE');
    [st] = await lab.sql(2, 'SHOW SLAVE STATUS');
    const slaveStatus = {
      masterLogFile: String(st!.Master_Log_File),
      readMasterLogPos: Number(st!.Read_Master_Log_Pos),
      relayLogFile: String(st!.Relay_Log_File),
      relayLogPos: Number(st!.Relay_Log_Pos),
      relayMasterLogFile: String(st!.Relay_Master_Log_File),
      execMasterLogPos: Number(st!.Exec_Master_Log_Pos),
    };
    const [idx] = await lab.sql(2, 'SELECT @@relay_log_index AS idx, @@relay_log_info_file AS info, @@datadir AS datadir, @@server_id AS sid');
    const slaveIndex = String(idx!.idx);
    const infoFile = path.resolve(String(idx!.datadir), String(idx!.info));
    const slaveServerId = Number(idx!.sid);

    // Copy out of the lab: relay logs in index order, the index and relay-log.info with paths
    // rewritten to the copy (the originals are kept next to them as *.lab).
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    const lines = fs
      .readFileSync(slaveIndex, 'utf8')
      .split('\n')
      .filter((l) => l.trim());
    const relayDir = path.dirname(slaveIndex);
    const files: { name: string; size: number }[] = [];
    log(`copying ${lines.length} relay logs to ${dir}…`);
    for (const l of lines) {
      const src = path.isAbsolute(l) ? l : path.resolve(relayDir, l);
      const name = path.basename(src);
      fs.copyFileSync(src, path.join(tmp, name));
      files.push({ name, size: fs.statSync(path.join(tmp, name)).size });
    }
    fs.copyFileSync(slaveIndex, path.join(tmp, `${path.basename(slaveIndex)}.lab`));
    const indexName = path.basename(slaveIndex);
    fs.writeFileSync(path.join(tmp, indexName), files.map((f) => `${path.join(dir, f.name)}\n`).join(''));
    const info = fs.readFileSync(infoFile, 'utf8').split('\n');
    fs.writeFileSync(path.join(tmp, 'relay-log.info.lab'), info.join('\n'));
    // MariaDB's relay-log.info: line count, then the relay log being executed, its position, …
    const fileLine = /^\d+$/.test(info[0] ?? '') ? 1 : 0;
    info[fileLine] = path.join(dir, path.basename(info[fileLine]!));
    fs.writeFileSync(path.join(tmp, 'relay-log.info'), info.join('\n'));
    await lab.down();
    log('lab down');

    const totalBytes = files.reduce((a, f) => a + f.size, 0);
    if (totalBytes < 2 ** 30) throw new Error(`the relay logs total ${totalBytes} bytes, less than 1 GiB: raise --target-mib`);
    log('counting events with mariadb-binlog (an independent count for the manifest)…');
    const count = await execa('bash', [
      '-c',
      'set -o pipefail; mariadb-binlog --skip-gtid-strict-mode "$@" | grep -c "^# at "',
      'count',
      ...files.map((f) => path.join(tmp, f.name)),
    ]);
    const manifest: DataSetManifest = {
      generatorVersion: GENERATOR_VERSION,
      complete: true,
      createdAt: new Date().toISOString(),
      mariadbVersion: version,
      files,
      totalBytes,
      index: path.join(dir, indexName),
      relayLogInfo: path.join(dir, 'relay-log.info'),
      slaveServerId,
      slaveStatus,
      masterBinlogs,
      coordinates,
      eventsByMariadbBinlog: Number(count.stdout.trim()),
      generation: {
        seconds: (Date.now() - t0) / 1000,
        loadSeconds,
        masterBytes: masterBinlogs.reduce((a, b) => a + b.size, 0),
        steps: stepLog,
      },
    };
    fs.writeFileSync(manifestPath(tmp), `${JSON.stringify(manifest, null, 2)}\n`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
    log(
      `data set ready in ${manifest.generation.seconds.toFixed(0)} s: ${files.length} relay logs, ${(totalBytes / 2 ** 20).toFixed(0)} MiB, ${manifest.eventsByMariadbBinlog} events`,
    );
    return { ...manifest, dir, paths: files.map((f) => path.join(dir, f.name)) };
  } finally {
    await Promise.allSettled(conns.map((c) => c.end()));
    await lab.down().catch(() => undefined);
  }
}

export async function dataSetDir(root: string): Promise<string> {
  const version = (await mariadbVersion()).replace(/[^A-Za-z0-9.+_-]/g, '_');
  return path.join(root, version);
}
