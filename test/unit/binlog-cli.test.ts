// `ha binlog events` as a DBA runs it, on real server-written files: human and JSON-lines output,
// --start-position, numeric file order, and exit codes for damaged or truncated input.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sortLogFiles } from '../../src/binlog/files.js';
import { runHa } from '../e2e/ha.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'binlog');
const CANAL1 = join(FIXTURES, 'canal-mysql-5.1/mysql-bin.000001');
const CANAL2 = join(FIXTURES, 'canal-mysql-5.1/mysql-bin.000002');
const MARIADB = join(FIXTURES, 'rust_mysql_common-mariadb-10.5/mariadb-bin.000001');

describe('sortLogFiles', () => {
  it('orders by numeric suffix, per series, and keeps other names last', () => {
    assert.deepEqual(sortLogFiles(['/d/mysql-bin.1000000', '/d/mysql-bin.999999', '/d/a.000002', 'x.log', '/d/a.000001']), [
      '/d/a.000001',
      '/d/a.000002',
      '/d/mysql-bin.999999',
      '/d/mysql-bin.1000000',
      'x.log',
    ]);
  });
});

describe('ha binlog events', () => {
  it('lists events with position, type, size, end_log_pos, server_id and info', async () => {
    const r = await runHa(['binlog', 'events', MARIADB]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^\s+4\s+FormatDescription\s+252\s+256\s+1\s+server 10\.5\.15-MariaDB/m);
    assert.match(r.stdout, /^\s+330\s+MariaDB_Gtid\s+42\s+372\s+1\s+GTID 0-1-1$/m);
    assert.match(r.stdout, /^\s+671\s+Xid\s+31\s+702\s+1\s+xid 800$/m);
    assert.match(r.stdout, /# 13 events, read to offset 1074/);
  });

  it('prints JSON lines and follows files in numeric order whatever the argument order', async () => {
    const r = await runHa(['binlog', 'events', '--json', CANAL2, CANAL1]);
    assert.equal(r.exitCode, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const files = [...new Set(lines.map((l) => l.file))];
    assert.deepEqual(files, ['mysql-bin.000001', 'mysql-bin.000002']);
    const rotate = lines.find((l) => l.type === 'Rotate')!;
    assert.equal(rotate.info, '→ mysql-bin.000002:4');
    const summaries = lines.filter((l) => l.summary);
    assert.deepEqual(
      summaries.map((s) => (s.summary as { events: number }).events),
      [380, 5],
    );
  });

  it('starts at --start-position (reading the Format_description first)', async () => {
    const r = await runHa(['binlog', 'events', '--json', '--start-position', '672', MARIADB]);
    assert.equal(r.exitCode, 1, 'an offset inside an event is damage from the reader’s point of view');
    const ok = await runHa(['binlog', 'events', '--json', '--start-position', '702', MARIADB]);
    assert.equal(ok.exitCode, 0, ok.stderr);
    const events = ok.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.type);
    assert.deepEqual(
      events.map((e) => e.position),
      [702, 744, 848, 984, 1043],
    );
    const inside = await runHa(['binlog', 'events', '--start-position', '100', MARIADB]);
    assert.equal(inside.exitCode, 1);
    assert.match(inside.stderr, /inside the Format_description event/);
  });

  it('exits 1 on a truncated file, saying where the last complete transaction ends', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ha-binlog-cli-'));
    const cut = join(dir, 'mariadb-bin.000001');
    writeFileSync(cut, readFileSync(MARIADB).subarray(0, 1000));
    const r = await runHa(['binlog', 'events', cut]);
    assert.equal(r.exitCode, 1);
    assert.match(r.stdout, /# TRUNCATED: the last event at offset 984 has 16 of its 59 bytes; the last complete transaction ends at 702/);
  });

  it('exits 1 naming the file and offset of damage, and goes on with the next file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ha-binlog-cli-'));
    const bad = join(dir, 'mysql-bin.000001');
    const bytes = Buffer.from(readFileSync(join(FIXTURES, 'osheroff-mysql-5.7/mysql-bin.checksum-crc32')));
    bytes[5000] = bytes[5000]! ^ 0xff;
    writeFileSync(bad, bytes);
    copyFileSync(CANAL2, join(dir, 'mysql-bin.000002'));
    const r = await runHa(['binlog', 'events', '--summary', bad, join(dir, 'mysql-bin.000002')]);
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /mysql-bin\.000001 at offset \d+: checksum mismatch/);
    assert.match(r.stdout, /# 5 events, read to offset 302/, 'the second file is still read');
  });

  it('rejects bad usage with exit 2', async () => {
    assert.equal((await runHa(['binlog', 'events'])).exitCode, 2);
    assert.equal((await runHa(['binlog', 'events', '--start-position', 'abc', MARIADB])).exitCode, 2);
  });
});
