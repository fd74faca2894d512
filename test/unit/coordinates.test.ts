import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesBetween, compareBinlogFiles, compareCoordinates, parseBinlogName } from '../../src/binlog/coordinates.js';
import { MysqlGtidSet, parseMariadbGtidList } from '../../src/core/gtid.js';

describe('binlog coordinates', () => {
  it('orders files by numeric suffix (mysql-bin.999999 before mysql-bin.1000000)', () => {
    assert.ok(compareBinlogFiles('mysql-bin.999999', 'mysql-bin.1000000') < 0);
    assert.ok('mysql-bin.999999' > 'mysql-bin.1000000', 'string order (MHA) gets this wrong');
    assert.equal(compareBinlogFiles('a.000002', 'a.000002'), 0);
    assert.throws(() => compareBinlogFiles('a.000001', 'b.000001'), /different series/);
    assert.throws(() => parseBinlogName('nonumber'), /not a binlog file name/);
  });

  it('compares coordinates by file then position', () => {
    assert.ok(compareCoordinates({ file: 'm.000002', position: 4 }, { file: 'm.000001', position: 999999 }) > 0);
    assert.ok(compareCoordinates({ file: 'm.000002', position: 10 }, { file: 'm.000002', position: 20 }) < 0);
  });

  it('measures bytes behind, exactly when file sizes are known', () => {
    assert.deepEqual(bytesBetween({ file: 'm.000001', position: 100 }, { file: 'm.000001', position: 350 }), { bytes: 250, exact: true });
    assert.deepEqual(bytesBetween({ file: 'm.000002', position: 100 }, { file: 'm.000001', position: 350 }), { bytes: 0, exact: true });
    const sizes = new Map([
      ['m.000001', 1000],
      ['m.000002', 2000],
      ['m.000003', 500],
    ]);
    assert.deepEqual(bytesBetween({ file: 'm.000001', position: 400 }, { file: 'm.000003', position: 300 }, sizes), { bytes: 600 + 2000 + 300, exact: true });
    assert.equal(bytesBetween({ file: 'm.000001', position: 400 }, { file: 'm.000003', position: 300 }).exact, false);
  });
});

describe('GTID sets', () => {
  const U1 = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
  const U2 = '4e11fa47-71ca-11e1-9e33-c80aa9429562';
  it('subtracts MySQL GTID sets (errant transactions)', () => {
    const master = MysqlGtidSet.parse(`${U1}:1-100`);
    const slave = MysqlGtidSet.parse(`${U1}:1-90,\n${U2}:1-2`);
    assert.equal(slave.subtract(master).toString(), `${U2}:1-2`);
    assert.ok(MysqlGtidSet.parse(`${U1}:1-50:52-60`).subtract(master).isEmpty);
    assert.equal(MysqlGtidSet.parse(`${U1}:1-120`).subtract(master).toString(), `${U1}:101-120`);
    assert.equal(
      MysqlGtidSet.parse(`${U1}:5-10`)
        .subtract(MysqlGtidSet.parse(`${U1}:7`))
        .toString(),
      `${U1}:5-6:8-10`,
    );
  });
  it('keeps MySQL 8.4 tagged GTIDs apart from untagged ones', () => {
    const s = MysqlGtidSet.parse(`${U1}:1-5:audit:1-3`);
    assert.equal(s.subtract(MysqlGtidSet.parse(`${U1}:1-5`)).toString(), `${U1}:audit:1-3`);
  });
  it('rejects malformed sets', () => {
    assert.throws(() => MysqlGtidSet.parse('not-a-uuid:1-3'), /not a server UUID/);
    assert.throws(() => MysqlGtidSet.parse(`${U1}:1-x`), /bad interval/);
  });
  it('parses MariaDB GTID positions per domain', () => {
    const m = parseMariadbGtidList('0-1-100,1-2-5');
    assert.equal(m.get(0)!.seq, 100n);
    assert.equal(m.get(1)!.serverId, 2);
    assert.equal(parseMariadbGtidList('').size, 0);
    assert.throws(() => parseMariadbGtidList('0-1'), /domain-server-seq/);
  });
});
