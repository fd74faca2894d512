// `ha binlog find` as a DBA runs it (bin/ha as a child process) on relay logs built by the test
// builder and written to disk with a relative index, as servers write it: one line per result
// kind, --json, and the exit codes (0 found/at-end, 1 older/newer/not-boundary/errors, 2 usage).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MasterLog, buildRelaySet, type RelaySet } from '../support/binlog-builder.js';
import { runHa } from './ha.js';

describe('ha binlog find (command line)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-binlog-find-'));
  const index = join(dir, 'relay-bin.index');
  const m = new MasterLog({ flavor: 'mariadb' });
  let rs: RelaySet;
  let t2: ReturnType<MasterLog['transaction']>;

  before(() => {
    m.ddl();
    m.transaction({ statements: 2, payload: 500 });
    t2 = m.transaction({ statements: 3, payload: 800 });
    m.rotate();
    m.transaction();
    rs = buildRelaySet({ master: m, maxRelaySize: 1000 });
    for (const f of rs.files) writeFileSync(join(dir, f.name), f.bytes);
    writeFileSync(index, rs.indexText());
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const find = (file: string, pos: number, extra: string[] = []) =>
    runHa(['binlog', 'find', '--relay-log-index', index, '--master-log-file', file, '--master-log-pos', String(pos), ...extra]);
  const copy = (i: number) => rs.copies.filter((c) => c.master === m.events[i] && c.effective).pop()!;

  it('found at a transaction boundary: one line, exit 0; --json gives the result object', async () => {
    const r = await find(t2[0]!.file, t2[0]!.start);
    assert.equal(r.exitCode, 0, r.stderr);
    const c = copy(t2[0]!.index);
    assert.equal(r.stdout, `found ${join(dir, c.relayFile)} ${c.offset}  (${t2[0]!.file}:${t2[0]!.start} is a transaction boundary: MariaDB_Gtid starts there)`);
    const j = await find(t2[0]!.file, t2[0]!.start, ['--json']);
    const o = JSON.parse(j.stdout) as { kind: string; relayFile: string; offset: number; exactBoundary: boolean; stats: { filesScanned: number } };
    assert.deepEqual([o.kind, o.relayFile, o.offset, o.exactBoundary], ['found', join(dir, c.relayFile), c.offset, true]);
  });

  it('inside a transaction: names where it starts; --scan-all agrees', async () => {
    const e = t2[5]!;
    for (const extra of [[], ['--scan-all'], ['--no-verify-checksum']]) {
      const r = await find(e.file, e.start, extra);
      assert.equal(r.exitCode, 0, r.stderr);
      const s = copy(t2[0]!.index);
      assert.match(r.stdout, new RegExp(`is inside a transaction: .* it starts at ${join(dir, s.relayFile)} ${s.offset} \\(${t2[0]!.file}:${t2[0]!.start}\\)`));
    }
  });

  it('at-end exits 0; older, newer and not-boundary exit 1 with a line saying why', async () => {
    const end = await find(rs.readPosition.file, rs.readPosition.position);
    assert.equal(end.exitCode, 0);
    assert.match(end.stdout, /^at-end .* is the end of what this slave received: nothing to apply\)$/m);
    const newer = await find('mysql-bin.000003', 4);
    assert.equal(newer.exitCode, 1);
    assert.match(newer.stdout, /^newer .* it has read up to mysql-bin\.000002:/);
    const inside = await find(t2[3]!.file, t2[3]!.start + 7);
    assert.equal(inside.exitCode, 1);
    assert.match(inside.stdout, /^not-boundary .* is inside WriteRows_v1 at /);
    // Purge the first relay logs: the start of the first binlog is gone.
    const kept = rs.files.slice(3);
    writeFileSync(join(dir, 'purged.index'), kept.map((f) => `./${f.name}\n`).join(''));
    const older = await runHa(['binlog', 'find', '--relay-log-index', join(dir, 'purged.index'), '--master-log-file', 'mysql-bin.000001', '--master-log-pos', '4']);
    assert.equal(older.exitCode, 1, older.stdout + older.stderr);
    assert.match(older.stdout, /^older .* is before the oldest event these relay logs still have/);
  });

  it('errors exit 1 (missing index, damaged relay log), usage errors exit 2', async () => {
    const missing = await runHa(['binlog', 'find', '--relay-log-index', join(dir, 'nope.index'), '--master-log-file', 'mysql-bin.000001', '--master-log-pos', '4']);
    assert.equal(missing.exitCode, 1);
    assert.match(missing.stderr, /nope\.index/);
    const json = await runHa(['binlog', 'find', '--json', '--relay-log-index', join(dir, 'nope.index'), '--master-log-file', 'mysql-bin.000001', '--master-log-pos', '4']);
    assert.equal((JSON.parse(json.stdout) as { kind: string }).kind, 'error');
    for (const args of [
      ['--master-log-file', 'mysql-bin.000001', '--master-log-pos', '4'],
      ['--relay-log-index', index, '--master-log-file', 'no-number', '--master-log-pos', '4'],
      ['--relay-log-index', index, '--master-log-file', 'mysql-bin.000001', '--master-log-pos', '-3'],
      ['--relay-log-index', index, '--master-log-file', 'mysql-bin.000001', '--master-log-pos', '4', '--read-master-log-file', 'mysql-bin.000002'],
    ]) {
      const r = await runHa(['binlog', 'find', ...args]);
      assert.equal(r.exitCode, 2, `${args.join(' ')}: ${r.stderr}`);
    }
    const help = await runHa(['binlog', 'find', '--help']);
    assert.equal(help.exitCode, 0);
    assert.match(help.stdout, /Exit codes: 0 found at an exact event boundary, or at-end/);
  });
});
