// The test binlog builder (test/support/binlog-builder.ts) makes files that ha's parser and the
// server's own tool (mariadb-binlog) read without error, with the sizes, positions, checksums and
// relay-log layout it claims.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EventType, LOG_EVENT_ARTIFICIAL_F, LOG_EVENT_BINLOG_IN_USE_F, LOG_EVENT_RELAY_LOG_F } from '../../src/binlog/event-types.js';
import { BinlogCorruptError, BinlogParser, type BinlogEvent } from '../../src/binlog/parser.js';
import { BinlogFileWriter, MasterLog, buildRelaySet, encodeEvent, ev, type Flavor } from '../support/binlog-builder.js';

const MARIADB_BINLOG = ['/usr/bin/mariadb-binlog', '/usr/bin/mysqlbinlog'].find((p) => existsSync(p));

function parseAll(bytes: Buffer, file = 'f'): BinlogEvent[] {
  const p = new BinlogParser({ file });
  // Odd chunk sizes: the parser must not care where chunks are cut.
  const out: BinlogEvent[] = [];
  for (let i = 0; i < bytes.length; i += 97) out.push(...p.push(bytes.subarray(i, i + 97)));
  const s = p.finish();
  assert.equal(s.truncated, undefined, `${file} parses to its end`);
  return out;
}

function sampleMaster(flavor: Flavor, checksum: boolean): MasterLog {
  const m = new MasterLog({ flavor, checksum });
  m.ddl();
  m.transaction({ statements: 3, payload: 700, rows: 2 });
  m.transaction();
  m.rotate();
  m.ddl('ALTER TABLE hatest.t ADD COLUMN c INT');
  m.transaction({ statements: 2, payload: 5000 });
  return m;
}

const tmp = mkdtempSync(join(tmpdir(), 'ha-builder-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('binlog builder', () => {
  for (const flavor of ['mariadb', 'mysql'] as const) {
    for (const checksum of [true, false]) {
      it(`writes ${flavor} binlogs ${checksum ? 'with' : 'without'} CRC32 that the parser reads event for event`, () => {
        const m = sampleMaster(flavor, checksum);
        assert.deepEqual(m.fileNames, ['mysql-bin.000001', 'mysql-bin.000002']);
        for (const f of m.fileNames) {
          const events = parseAll(m.fileBytes(f), f);
          const truth = m.events.filter((e) => e.file === f);
          assert.equal(events.length, truth.length);
          for (const [i, e] of events.entries()) {
            const t = truth[i]!;
            assert.equal(e.position, t.start);
            assert.equal(e.end, t.end);
            assert.equal(e.logPos, t.end, 'a binlog event ends where its end_log_pos says');
            assert.equal(e.type, t.type);
            if (t.kind === 'data') {
              assert.equal(e.transactionStart !== undefined, true);
              assert.equal(e.endsTransaction, !!t.groupEnd, `${f}:${e.position} ends its transaction`);
            }
          }
          assert.equal(events[0]!.info?.kind === 'format' && events[0]!.info.format.checksum, checksum ? 'crc32' : 'none');
          assert.equal(events[0]!.info?.kind === 'format' && events[0]!.info.format.flavor, flavor);
        }
        const rotate = m.events.find((e) => e.type === EventType.ROTATE)!;
        assert.equal(rotate.end, m.fileSize('mysql-bin.000001'), 'the Rotate ends the file');
      });
    }
  }

  it('checksums the FDE with the in-use flag cleared, and a flipped byte is caught', () => {
    const w = new BinlogFileWriter('x.000001');
    w.append(ev.formatDescription({ flavor: 'mariadb', checksum: true }), { serverId: 1, flags: LOG_EVENT_BINLOG_IN_USE_F }, true);
    w.append(ev.query('CREATE TABLE t (a INT)'), { serverId: 1 }, true);
    const bytes = w.toBuffer();
    assert.equal(parseAll(bytes).length, 2);
    const bad = Buffer.from(bytes);
    bad[bad.length - 10]! ^= 0xff;
    assert.throws(() => new BinlogParser({ file: 'x' }).push(bad), BinlogCorruptError);
  });

  it('wraps end_log_pos at 32 bits as servers do', () => {
    const b = encodeEvent(ev.xid(1), { serverId: 1, logPos: 2 ** 32 + 500 }, false);
    assert.equal(b.readUInt32LE(13), 500);
  });

  for (const flavor of ['mariadb', 'mysql'] as const) {
    it(`builds ${flavor} relay logs the parser reads, with master positions, own events and the IO thread's marks`, () => {
      const m = sampleMaster(flavor, true);
      const rs = buildRelaySet({
        master: m,
        maxRelaySize: 1500,
        reconnects: [
          { before: 8, mode: 'file-pos' },
          { before: 11, mode: flavor === 'mysql' ? 'mysql-auto-position' : 'mariadb-gtid' },
        ],
      });
      assert.ok(rs.files.length >= 6, `${rs.files.length} relay logs`);
      const byName = new Map(rs.files.map((f) => [f.name, parseAll(f.bytes, f.name)]));
      for (const c of rs.copies) {
        const e = byName.get(c.relayFile)!.find((x) => x.position === c.offset);
        assert.ok(e, `copy of ${c.master.file}:${c.master.start} at ${c.relayFile}:${c.offset}`);
        assert.equal(e.size, c.size);
        assert.equal(e.logPos, c.master.end, 'copied verbatim: end_log_pos is the master position');
        assert.equal(e.serverId, m.serverId);
      }
      for (const [name, events] of byName) {
        assert.equal(events[0]!.type, EventType.FORMAT_DESCRIPTION);
        assert.equal(events[0]!.flags & LOG_EVENT_RELAY_LOG_F, LOG_EVENT_RELAY_LOG_F, `${name} starts with the slave's own FDE`);
        assert.equal(events[0]!.serverId, rs.ownServerId);
        const last = events[events.length - 1]!;
        if (name !== rs.files[rs.files.length - 1]!.name) {
          assert.equal(last.type, EventType.ROTATE, `${name} ends with the slave's Rotate`);
          assert.equal(last.flags & LOG_EVENT_RELAY_LOG_F, LOG_EVENT_RELAY_LOG_F);
        }
      }
      // Every segment starts with an artificial Rotate right after the own FDE (or Previous_gtids).
      for (const mk of rs.markers.filter((x) => x.kind === 'segment')) {
        const e = byName.get(mk.relayFile)!.find((x) => x.position === mk.offset)!;
        assert.equal(e.type, EventType.ROTATE);
        assert.equal(e.flags & LOG_EVENT_ARTIFICIAL_F, LOG_EVENT_ARTIFICIAL_F);
        assert.equal(e.logPos, 0);
        assert.ok(e.info?.kind === 'rotate' && e.info.nextFile === mk.masterFile && e.info.position === mk.masterPosition);
      }
      assert.ok(
        rs.copies.some((c) => !c.effective),
        'the reconnects left superseded or re-sent copies',
      );
      assert.deepEqual(rs.readPosition, { file: 'mysql-bin.000002', position: m.fileSize('mysql-bin.000002') });
      assert.match(rs.indexText(), /^\.\/relay-bin\.000001\n\.\/relay-bin\.000002\n/);
    });
  }

  it('leaves a torn last event when asked (a relay log still being written)', () => {
    const m = sampleMaster('mariadb', true);
    const rs = buildRelaySet({ master: m, upTo: 9, tornBytes: 30 });
    const last = rs.files[rs.files.length - 1]!;
    const p = new BinlogParser({ file: last.name });
    p.push(last.bytes);
    const s = p.finish();
    assert.ok(s.truncated, 'the last event is incomplete');
    assert.equal(s.truncated.have, 30);
  });

  it('writes files mariadb-binlog reads without error', { skip: MARIADB_BINLOG ? false : 'mariadb-binlog is not installed' }, () => {
    for (const flavor of ['mariadb', 'mysql'] as const) {
      for (const checksum of [true, false]) {
        const m = sampleMaster(flavor, checksum);
        const rs = buildRelaySet({ master: m, maxRelaySize: 1500, reconnects: [{ before: 8, mode: 'file-pos' }] });
        const files = [...m.fileNames.map((f) => ({ name: f, bytes: m.fileBytes(f) })), ...rs.files];
        for (const f of files) {
          const path = join(tmp, `${flavor}-${checksum}-${f.name}`);
          writeFileSync(path, f.bytes);
          // -vv decodes the row images too (Table_map + Write_rows must agree).
          const out = execFileSync(MARIADB_BINLOG!, ['-vv', '--base64-output=decode-rows', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
          assert.match(out, /End of log file/, `${f.name} (${flavor}, checksum ${checksum}) read to its end`);
          if (f.name.startsWith('mysql-bin') && flavor === 'mariadb') assert.match(out, /### INSERT INTO `hatest`\.`t`/);
        }
      }
    }
  });
});
