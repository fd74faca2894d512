// The diff writer on binlogs and relay logs written by real MySQL and MariaDB servers
// (test/fixtures/binlog): ranges from a mid-file transaction boundary to the end and across files,
// checksums on and off, relay logs; the output re-parses to exactly the source's data events (same
// bytes but the rewritten end_log_pos and CRC) and mariadb-binlog reads it as it reads the source.
// Damage: a file cut inside its last transaction ends the diff at the last complete one and says
// what was left out; a start inside a transaction, a bad offset, a checksum error are refused with
// the file and offset named, and nothing is left behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { crc32Range } from '../../src/binlog/crc32.js';
import { DiffError, localDiffSource, rangesAcross, writeDiff, writeDiffFile, type DiffOptions, type DiffRange, type DiffResult, type DiffSource } from '../../src/binlog/diff.js';
import { BINLOG_MAGIC, EventType, LOG_EVENT_BINLOG_IN_USE_F, isControlEvent } from '../../src/binlog/event-types.js';
import { BinlogCorruptError, BinlogParser, type BinlogEvent, type ParseSummary } from '../../src/binlog/parser.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'binlog');
const fx = (rel: string) => join(FIXTURES, rel);
const CANAL1 = fx('canal-mysql-5.1/mysql-bin.000001');
const CANAL2 = fx('canal-mysql-5.1/mysql-bin.000002');
const CRC = fx('osheroff-mysql-5.7/mysql-bin.checksum-crc32');
const NONE = fx('osheroff-mysql-5.7/mysql-bin.checksum-none');
const PERCONA1 = fx('percona-binlog-server-mysql-8.0/binlog.000001');
const PERCONA2 = fx('percona-binlog-server-mysql-8.0/binlog.000002');
const MARIADB = fx('rust_mysql_common-mariadb-10.5/mariadb-bin.000001');
const RELAY80 = fx('rust_mysql_common-mysql-8.0/rpl_unfiltered_hidden_gcol.000001');
const RELAY50 = fx('rust_mysql_common-mysql-5.0/bug33029-slave-relay-bin.000001');

const work = mkdtempSync(join(tmpdir(), 'ha-diff-test-'));
after(() => rmSync(work, { recursive: true, force: true }));
let seq = 0;
const outFile = (name = 'diff') => join(work, `${name}-${++seq}.binlog`);

function parse(buf: Buffer, file = '(buffer)'): { events: BinlogEvent[]; summary: ParseSummary } {
  const p = new BinlogParser({ file, keepRaw: true });
  const events = p.push(buf);
  return { events, summary: p.finish() };
}
const parseFile = (path: string) => parse(readFileSync(path), path);

/** The events a diff copies from a file: its data events from `from` (to `to`). */
function dataEvents(path: string, from = 4, to = Infinity): BinlogEvent[] {
  return parseFile(path).events.filter((e) => !isControlEvent(e.type) && e.position >= from && e.end <= to);
}

/** A transaction boundary near the middle of a file (the start of a transaction that is not the first). */
function middleBoundary(path: string): number {
  const starts = dataEvents(path).filter((e) => e.transactionStart === e.position && !e.endsTransaction);
  const pick = starts[Math.floor(starts.length / 2)];
  assert.ok(pick, `${path} has transactions`);
  return pick.position;
}

async function diff(ranges: DiffRange[], opts: DiffOptions = {}): Promise<DiffResult & { path: string; bytesOut: Buffer }> {
  const r = await writeDiffFile(ranges, outFile(), opts);
  return { ...r, bytesOut: readFileSync(r.path) };
}

/**
 * The output is magic + one FDE (not "in use") + exactly `expected`, byte for byte but for the
 * rewritten end_log_pos (= the event's end in the diff) and the CRC32 recomputed over it.
 */
function assertCopies(out: Buffer, expected: BinlogEvent[], checksummed: boolean): BinlogEvent[] {
  assert.ok(out.subarray(0, 4).equals(BINLOG_MAGIC));
  const { events, summary } = parse(out, 'diff');
  assert.equal(summary.truncated, undefined);
  assert.equal(summary.endPosition, out.length);
  assert.equal(summary.safeEnd, out.length, 'the diff ends at a transaction boundary');
  const [fde, ...rest] = events;
  assert.equal(fde!.type, EventType.FORMAT_DESCRIPTION);
  assert.equal(fde!.flags & LOG_EVENT_BINLOG_IN_USE_F, 0, 'the FDE is not "in use"');
  assert.equal(fde!.logPos, fde!.end);
  assert.equal(rest.length, expected.length, 'event count');
  for (const [i, got] of rest.entries()) {
    const want = expected[i]!;
    const where = `event ${i} (source offset ${want.position}, diff offset ${got.position})`;
    assert.equal(got.type, want.type, where);
    assert.equal(got.size, want.size, where);
    assert.equal(got.logPos, got.end, `${where}: end_log_pos is the event's end in the diff`);
    const a = Buffer.from(got.raw!);
    const b = Buffer.from(want.raw!);
    a.writeUInt32LE(0, 13);
    b.writeUInt32LE(0, 13);
    if (checksummed) {
      assert.equal(got.raw!.readUInt32LE(got.size - 4), crc32Range(got.raw!, 0, got.size - 4), `${where}: CRC32`);
      a.writeUInt32LE(0, a.length - 4);
      b.writeUInt32LE(0, b.length - 4);
    }
    assert.ok(a.equals(b), `${where}: same bytes`);
  }
  return rest;
}

function mariadbBinlog(files: string[], args: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('mariadb-binlog', ['-v', '--base64-output=decode-rows', ...args, ...files], { encoding: 'utf8', maxBuffer: 256 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * What mariadb-binlog says the events do: statements and decoded rows, without positions and
 * comments, and without the session settings it prints only when they change (a source's
 * Format_description of each file makes it print them again).
 */
function statements(text: string): string[] {
  const noise = /^(#|\/\*!|DELIMITER|ROLLBACK|SET @@session\.|SET TIMESTAMP=|use `|$)/;
  return text.split('\n').filter((l) => l.startsWith('###') || !noise.test(l));
}

/** mariadb-binlog reads the diff without error, and finds in it what it finds in the sources. */
function assertMariadbBinlogAgrees(diffPath: string, sources: string[], start: number): void {
  const d = mariadbBinlog([diffPath]);
  assert.equal(d.status, 0, `mariadb-binlog ${diffPath}: ${d.stderr}`);
  assert.doesNotMatch(d.stderr, /ERROR/, d.stderr);
  const s = mariadbBinlog(sources, start > 4 ? [`--start-position=${start}`] : []);
  assert.equal(s.status, 0, s.stderr);
  const want = statements(s.stdout);
  assert.ok(want.length > 0);
  assert.deepEqual(statements(d.stdout), want);
}

/** A binlog with every end_log_pos and CRC32 recomputed for the events in this order. */
function relayout(events: Buffer[], checksummed: boolean): Buffer {
  const out: Buffer[] = [BINLOG_MAGIC];
  let pos = 4;
  for (const e0 of events) {
    const e = Buffer.from(e0);
    e.writeUInt32LE(e.length, 9);
    e.writeUInt32LE(pos + e.length, 13);
    if (checksummed && e[4] !== EventType.FORMAT_DESCRIPTION) e.writeUInt32LE(crc32Range(e, 0, e.length - 4), e.length - 4);
    out.push(e);
    pos += e.length;
  }
  return Buffer.concat(out);
}

/** A copy of a fixture (or of bytes) under `work`, with the file name a diff uses for coordinates. */
function copyAs(bytes: Buffer, name: string): string {
  const dir = join(work, `copy-${++seq}`);
  mkdirSync(dir);
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** A seeded PRNG (mulberry32): the same cut points on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

describe('diff writer: copies ranges of real binlogs and relay logs', () => {
  it('MySQL 5.1 (no checksums): from a mid-file transaction boundary across mysql-bin.000001 → .000002', async () => {
    const start = middleBoundary(CANAL1);
    const r = await diff(rangesAcross([localDiffSource(CANAL1), localDiffSource(CANAL2)], start));
    const expected = [...dataEvents(CANAL1, start), ...dataEvents(CANAL2)];
    assertCopies(r.bytesOut, expected, false);
    assert.equal(r.events, expected.length);
    assert.equal(r.transactions, expected.filter((e) => e.endsTransaction).length);
    assert.equal(r.bytes, r.bytesOut.length);
    assert.equal(r.format.serverVersion, '5.1.34sp1-enterprise-gpl-advanced-log');
    assert.deepEqual(r.dropped, []);
    assert.equal(r.complete, true);
    assert.deepEqual(
      r.ranges.map((x) => [x.kind, x.start, x.end, x.events, x.masterStart, x.masterEnd, x.skippedEvents]),
      [
        ['binlog', start, 22877, dataEvents(CANAL1, start).length, { file: 'mysql-bin.000001', position: start }, { file: 'mysql-bin.000001', position: 22877 }, 1],
        ['binlog', 4, 302, 4, { file: 'mysql-bin.000002', position: 106 }, { file: 'mysql-bin.000002', position: 302 }, 1],
      ],
      'the Rotate closing .000001 and the FDE of .000002 are not copied',
    );
    assert.deepEqual(r.endsAt, { file: 'mysql-bin.000002', position: 302 });
    assert.deepEqual(r.lastSource, { file: CANAL2, position: 302 });
    assertMariadbBinlogAgrees(r.path, [CANAL1, CANAL2], start);
  });

  for (const [name, path, checksummed] of [
    ['MySQL 5.7, binlog_checksum=NONE', NONE, false],
    ['MySQL 5.7, CRC32', CRC, true],
  ] as const) {
    it(`${name}: from a mid-file transaction boundary to the end`, async () => {
      const start = middleBoundary(path);
      const r = await diff([{ source: localDiffSource(path), start }]);
      const expected = dataEvents(path, start);
      assertCopies(r.bytesOut, expected, checksummed);
      assert.equal(r.format.checksum, checksummed ? 'crc32' : 'none');
      assert.equal(r.transactions, expected.filter((e) => e.endsTransaction).length);
      assert.equal(r.firstGtid, undefined, 'anonymous GTIDs are not GTIDs');
      assertMariadbBinlogAgrees(r.path, [path], start);
      // The same range read without its prefix (scanFrom: start) gives the same diff.
      const again = await diff([{ source: localDiffSource(path), start, scanFrom: start }]);
      assert.ok(again.bytesOut.equals(r.bytesOut));
    });
  }

  it('MySQL 8.0 with GTIDs across two files: the GTID range and set of what was copied', async () => {
    const r = await diff(rangesAcross([localDiffSource(PERCONA1), localDiffSource(PERCONA2)], 4));
    assertCopies(r.bytesOut, [...dataEvents(PERCONA1), ...dataEvents(PERCONA2)], true);
    assert.equal(r.firstGtid, '396e294c-1ca4-11f1-9ae7-00155da79c6b:1');
    assert.equal(r.lastGtid, '396e294c-1ca4-11f1-9ae7-00155da79c6b:6');
    assert.equal(r.gtidSet, '396e294c-1ca4-11f1-9ae7-00155da79c6b:1-6');
    assert.equal(r.transactions, 6);
    assertMariadbBinlogAgrees(r.path, [PERCONA1, PERCONA2], 4);
  });

  it('MariaDB 10.5: GTID_LIST and Binlog_checkpoint are not copied; the GTIDs are reported', async () => {
    const r = await diff([{ source: localDiffSource(MARIADB), start: 4 }]);
    const copied = assertCopies(r.bytesOut, dataEvents(MARIADB), true);
    assert.equal(copied[0]!.type, EventType.MARIADB_GTID);
    assert.deepEqual([r.firstGtid, r.lastGtid, r.gtidSet, r.transactions], ['0-1-1', '0-1-2', '0-1-2', 2]);
    assert.equal(r.ranges[0]!.skippedEvents, 3, 'FDE, Gtid_list, Binlog_checkpoint');
    assertMariadbBinlogAgrees(r.path, [MARIADB], 4);
  });

  it('a MySQL 8.0 relay log: the master FDE describes the copy, master coordinates are reported', async () => {
    const r = await diff([{ source: localDiffSource(RELAY80), start: 4 }]);
    const expected = dataEvents(RELAY80);
    assertCopies(r.bytesOut, expected, true);
    const { events } = parse(r.bytesOut);
    assert.equal(events[0]!.serverId, 1, "the master's Format_description, not the slave's own");
    assert.equal(r.ranges[0]!.kind, 'relay');
    assert.equal(r.ranges[0]!.skippedEvents, 6, 'own FDE, Previous_gtids, two Rotates, master FDE, Stop');
    assert.deepEqual(r.ranges[0]!.masterStart, { file: 'master-bin.000001', position: 155 });
    assert.deepEqual(r.endsAt, { file: 'master-bin.000001', position: 837 });
    assertMariadbBinlogAgrees(r.path, [RELAY80], 4);

    // From the second transaction, with the prefix read (scanFrom 0) or given (scanFrom = start).
    const start = 574;
    const a = await diff([{ source: localDiffSource(RELAY80), start }]);
    assertCopies(a.bytesOut, dataEvents(RELAY80, start), true);
    assert.deepEqual(a.ranges[0]!.masterStart, { file: 'master-bin.000001', position: 358 });
    const b = await diff([{ source: localDiffSource(RELAY80), start, scanFrom: start, masterFile: 'master-bin.000001', masterEnd: 358 }]);
    assert.ok(b.bytesOut.equals(a.bytesOut));
    assert.deepEqual(b.endsAt, a.endsAt);
    await assert.rejects(writeDiffFile([{ source: localDiffSource(RELAY80), start, scanFrom: start }], outFile()), (e: unknown) => {
      assert.ok(e instanceof DiffError && e.code === 'bad-range');
      assert.match(e.message, /relay log.*needs the master file and position/);
      return true;
    });
  });

  it('a MySQL 5.0 relay log without checksums', async () => {
    const r = await diff([{ source: localDiffSource(RELAY50), start: 4 }]);
    assertCopies(r.bytesOut, dataEvents(RELAY50), false);
    assert.equal(r.ranges[0]!.kind, 'relay');
    assert.equal(r.endsAt?.file, 'master-bin.000001');
    assertMariadbBinlogAgrees(r.path, [RELAY50], 4);
  });

  it("endLogPos 'keep' copies end_log_pos as they are (MHA's way): mariadb-binlog reads it, ha's parser does not", async () => {
    const start = middleBoundary(CANAL1);
    const r = await diff(rangesAcross([localDiffSource(CANAL1), localDiffSource(CANAL2)], start), { endLogPos: 'keep' });
    const expected = [...dataEvents(CANAL1, start), ...dataEvents(CANAL2)];
    const fdeSize = r.bytesOut.readUInt32LE(4 + 9);
    assert.ok(r.bytesOut.subarray(4 + fdeSize).equals(Buffer.concat(expected.map((e) => e.raw!))), 'the events byte for byte');
    assertMariadbBinlogAgrees(r.path, [CANAL1, CANAL2], start);
    assert.throws(() => parse(r.bytesOut), /end_log_pos/);
  });

  it('an empty range (only a Rotate) still makes a valid diff (magic and FDE) and a master coordinate', async () => {
    const r = await diff([{ source: localDiffSource(CANAL1), start: 22877 }]);
    assert.equal(r.bytesOut.length, 4 + r.bytesOut.readUInt32LE(4 + 9));
    assert.equal(r.transactions, 0);
    assert.deepEqual(r.endsAt, { file: 'mysql-bin.000001', position: 22920 }, 'after the Rotate passed over');
    assert.equal(mariadbBinlog([r.path]).status, 0);
  });

  it('streams to a Writable the same bytes, staged until the end is known', async () => {
    const start = middleBoundary(CRC);
    const file = await diff([{ source: localDiffSource(CRC), start }]);
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (c: Buffer) => chunks.push(c));
    const r = await writeDiff([{ source: localDiffSource(CRC), start }], sink, { tmpDir: work });
    assert.ok(Buffer.concat(chunks).equals(file.bytesOut));
    assert.equal(r.transactions, file.transactions);
    assert.equal(readdirSync(work).filter((f) => f.startsWith('ha-diff-')).length, 0, 'the staging directory is removed');
  });
});

describe('diff writer: sources that fail', () => {
  /** A source whose stream fails after `okBytes` bytes (an SSH connection lost while reading). */
  function failingSource(path: string, okBytes: number): DiffSource {
    const local = localDiffSource(path);
    return {
      label: `flaky:${path}`,
      name: basename(path),
      open: (start, end) => {
        const out = new PassThrough();
        (async () => {
          let sent = 0;
          for await (const c of local.open(start, end) as AsyncIterable<Buffer>) {
            const take = Math.min(c.length, okBytes - sent);
            if (take > 0) out.write(c.subarray(0, take));
            sent += take;
            if (sent >= okBytes) break;
          }
          out.destroy(new Error(`connection lost after ${okBytes} bytes`));
        })().catch((e: unknown) => out.destroy(e instanceof Error ? e : new Error(String(e))));
        return out;
      },
    };
  }

  it('a read error fails the diff with that error and leaves nothing, whichever range (opened ahead or not) fails', async () => {
    const files = [CANAL1, CANAL2, CRC, NONE];
    for (let bad = 0; bad < 2; bad++) {
      const dir = join(work, `out-${++seq}`);
      mkdirSync(dir);
      const ranges: DiffRange[] = [
        { source: bad === 0 ? failingSource(files[0]!, 5000) : localDiffSource(files[0]!), start: 4 },
        { source: bad === 1 ? failingSource(files[1]!, 150) : localDiffSource(files[1]!), start: 4 },
      ];
      await assert.rejects(writeDiffFile(ranges, join(dir, 'diff')), /connection lost after/);
      assert.deepEqual(readdirSync(dir), []);
    }
  });
});

describe('diff writer: damage ends the diff at the last complete transaction, and says so', () => {
  const cases: [string, string, boolean][] = [
    ['MySQL 5.1', CANAL2, false],
    ['MySQL 5.7 NONE', NONE, false],
    ['MySQL 5.7 CRC32', CRC, true],
    ['MySQL 8.0 GTID', PERCONA2, true],
    ['MariaDB 10.5', MARIADB, true],
    ['MySQL 8.0 relay log', RELAY80, true],
  ];
  for (const [name, path, checksummed] of cases) {
    it(`${name}: a copy cut at random offsets inside its last transaction`, async () => {
      const bytes = readFileSync(path);
      const data = dataEvents(path);
      const last = data[data.length - 1]!;
      assert.ok(last.endsTransaction);
      const trxStart = last.transactionStart!;
      const inTrx = data.filter((e) => e.position >= trxStart);
      // The diff of the whole file up to the last transaction is what every cut copy must give.
      const whole = await diff([{ source: localDiffSource(path), start: 4, end: trxStart }]);
      assertCopies(
        whole.bytesOut,
        data.filter((e) => e.end <= trxStart),
        checksummed,
      );
      const rnd = prng(0x5eed + trxStart);
      const cuts = new Set<number>([trxStart + 1, inTrx[1]!.position, last.end - 1]);
      while (cuts.size < 12) cuts.add(trxStart + 1 + Math.floor(rnd() * (last.end - trxStart - 1)));
      for (const cut of cuts) {
        const copy = copyAs(bytes.subarray(0, cut), basename(path));
        const r = await diff([{ source: localDiffSource(copy), start: 4 }]);
        const at = `cut at ${cut}`;
        assert.ok(r.bytesOut.equals(whole.bytesOut), `${at}: the diff ends at the last complete transaction`);
        assert.equal(r.complete, false, at);
        assert.equal(r.dropped.length, 1, at);
        const d = r.dropped[0]!;
        const complete = inTrx.filter((e) => e.end <= cut);
        const atBoundary = complete.length > 0 && complete[complete.length - 1]!.end === cut;
        assert.equal(d.reason, atBoundary ? 'incomplete-transaction' : 'truncated-event', at);
        assert.equal(d.file, copy, at);
        assert.equal(d.position, trxStart, at);
        assert.equal(d.bytes, cut - trxStart, at);
        assert.equal(d.events, complete.length, at);
        if (!atBoundary) {
          const partialAt = complete.length ? complete[complete.length - 1]!.end : trxStart;
          const have = cut - partialAt;
          assert.deepEqual(d.partialEvent, { file: copy, position: partialAt, have, need: have >= 13 ? inTrx[complete.length]!.size : 19 }, at);
        }
        assert.match(d.message, new RegExp(complete.length ? `the transaction at .*:${trxStart} \\(${complete.length} events` : `inside the event at offset ${trxStart}`), at);
        if (whole.transactions > 0) assert.deepEqual(r.endsAt, whole.endsAt, at);
        else assert.deepEqual(r.endsAt, { file: basename(path), position: trxStart }, `${at}: nothing copied, the diff ends where it starts`);
        assert.equal(mariadbBinlog([r.path]).status, 0, at);
      }
    });
  }

  it('a transaction abandoned in the middle of a relay log (sent again after a reconnect) is left out', async () => {
    // The last transaction of the relay log cut before its XID, then sent again whole.
    const bytes = readFileSync(RELAY80);
    const spliced = Buffer.concat([bytes.subarray(0, 1022), bytes.subarray(770)]);
    const copy = copyAs(spliced, basename(RELAY80));
    const r = await diff([{ source: localDiffSource(copy), start: 4 }]);
    const clean = await diff([{ source: localDiffSource(RELAY80), start: 4 }]);
    assert.ok(r.bytesOut.equals(clean.bytesOut));
    assert.deepEqual(
      r.dropped.map((d) => [d.reason, d.file, d.position, d.events, d.bytes]),
      [['abandoned-transaction', copy, 770, 4, 1022 - 770]],
    );
    assert.match(r.dropped[0]!.message, /a new transaction starts at .*:1022 before it ended/);
  });

  it('without GTIDs (MySQL 5.1): a BEGIN while a transaction is open abandons it', async () => {
    const [fde, begin, tableMap, rows, xid] = parseFile(CANAL2).events.map((e) => e.raw!);
    const path = copyAs(relayout([fde!, begin!, tableMap!, rows!, begin!, tableMap!, rows!, xid!], false), 'mysql-bin.000002');
    const r = await diff([{ source: localDiffSource(path), start: 4 }]);
    assertCopies(r.bytesOut, dataEvents(CANAL2), false);
    assert.deepEqual(
      r.dropped.map((d) => [d.reason, d.position, d.events, d.bytes]),
      [['abandoned-transaction', 106, 3, 169]],
    );
  });

  it('a binlog that ends inside a transaction, then a new binlog (a master that crashed and restarted)', async () => {
    const data = dataEvents(MARIADB);
    const last = data[data.length - 1]!;
    const crashed = copyAs(readFileSync(MARIADB).subarray(0, last.position), 'mariadb-bin.000001');
    const restarted = copyAs(readFileSync(MARIADB), 'mariadb-bin.000002');
    const r = await diff(rangesAcross([localDiffSource(crashed), localDiffSource(restarted)], 4));
    assert.deepEqual(
      r.dropped.map((d) => [d.reason, d.position]),
      [['abandoned-transaction', last.transactionStart]],
    );
    assert.equal(r.transactions, 1 + 2);
    assert.deepEqual(r.endsAt, { file: 'mariadb-bin.000002', position: 1074 });
  });

  it('a checksum error is an error naming the file and offset, and leaves nothing behind', async () => {
    const start = middleBoundary(CRC);
    const victim = dataEvents(CRC, start)[7]!;
    const bytes = Buffer.from(readFileSync(CRC));
    bytes[victim.position + 20]! ^= 0x40;
    const copy = copyAs(bytes, basename(CRC));
    const dir = join(work, `out-${++seq}`);
    mkdirSync(dir);
    await assert.rejects(writeDiffFile([{ source: localDiffSource(copy), start }], join(dir, 'diff')), (e: unknown) => {
      assert.ok(e instanceof BinlogCorruptError);
      assert.equal(e.file, copy);
      assert.equal(e.position, victim.position);
      assert.match(e.message, /checksum mismatch/);
      return true;
    });
    assert.deepEqual(readdirSync(dir), [], 'no diff and no temporary file');
  });
});

describe('diff writer: ranges must start at transaction boundaries and join', () => {
  it('refuses to start inside a transaction, naming file and offset (or skips to the next boundary when asked)', async () => {
    const inside = dataEvents(CANAL1).find((e) => e.type === EventType.TABLE_MAP && e.position > 10_000)!;
    const dir = join(work, `out-${++seq}`);
    mkdirSync(dir);
    await assert.rejects(writeDiffFile([{ source: localDiffSource(CANAL1), start: inside.position }], join(dir, 'diff')), (e: unknown) => {
      assert.ok(e instanceof DiffError);
      assert.equal(e.code, 'start-inside-transaction');
      assert.equal(e.file, CANAL1);
      assert.equal(e.position, inside.position);
      assert.ok(e.message.includes(`${CANAL1}: offset ${inside.position} is inside a transaction, which starts at offset ${inside.transactionStart}`), e.message);
      return true;
    });
    assert.deepEqual(readdirSync(dir), []);

    const r = await diff([{ source: localDiffSource(CANAL1), start: inside.position, skipToBoundary: true }]);
    const next = dataEvents(CANAL1, inside.position).find((e) => e.transactionStart === e.position)!.position;
    assertCopies(r.bytesOut, dataEvents(CANAL1, next), false);
    assert.equal(r.ranges[0]!.start, next);
    assert.deepEqual(
      r.dropped.map((d) => [d.reason, d.position, d.bytes]),
      [['start-inside-transaction', inside.position, next - inside.position]],
    );
  });

  it('without the prefix read (scanFrom = start), a GTID log refuses any first event but a GTID event', async () => {
    const begin = dataEvents(CRC).find((e) => e.type === EventType.QUERY && e.position > 10_000)!; // the BEGIN after an Anonymous_gtid
    for (const start of [begin.position, begin.end]) {
      await assert.rejects(writeDiffFile([{ source: localDiffSource(CRC), start, scanFrom: start }], outFile()), (e: unknown) => {
        assert.ok(e instanceof DiffError && e.code === 'start-inside-transaction', String(e));
        assert.ok(e.message.startsWith(`${CRC}: offset ${start} is inside a transaction`), e.message);
        return true;
      });
    }
  });

  it('refuses a start or end offset that is not an event boundary, or a start past the end of the file', async () => {
    const b = middleBoundary(NONE);
    await assert.rejects(writeDiffFile([{ source: localDiffSource(NONE), start: b + 1 }], outFile()), (e: unknown) => {
      assert.ok(e instanceof DiffError && e.code === 'not-event-boundary' && e.file === NONE && e.position === b + 1, String(e));
      return true;
    });
    // Without the prefix: the header read at a wrong offset does not hold up (size, CRC or end_log_pos).
    for (const [path, at] of [
      [NONE, b + 1],
      [CRC, middleBoundary(CRC) + 3],
    ] as const) {
      await assert.rejects(writeDiffFile([{ source: localDiffSource(path), start: at, scanFrom: at }], outFile()), (e: unknown) => {
        assert.ok(e instanceof DiffError || e instanceof BinlogCorruptError, String(e));
        assert.equal((e as DiffError).file, path);
        return true;
      });
    }
    await assert.rejects(writeDiffFile([{ source: localDiffSource(NONE), start: b, end: b + 5 }], outFile()), (e: unknown) => {
      assert.ok(e instanceof DiffError && e.code === 'not-event-boundary' && e.position === b + 5, String(e));
      return true;
    });
    await assert.rejects(writeDiffFile([{ source: localDiffSource(CANAL2), start: 5000 }], outFile()), (e: unknown) => {
      assert.ok(e instanceof DiffError && e.code === 'bad-range' && /past the end of the file \(302 bytes\)/.test(e.message), String(e));
      return true;
    });
  });

  it('a transaction cut at the end of one range goes on in the next when the coordinates join', async () => {
    const data = dataEvents(CRC);
    const cutEvent = data.find((e) => e.position > 14_000 && e.transactionStart !== e.position && !e.endsTransaction)!;
    const x = cutEvent.position; // inside a transaction, at an event boundary
    const whole = await diff([{ source: localDiffSource(CRC), start: 4 }]);
    for (const scanFrom of [0, x]) {
      const r = await diff([
        { source: localDiffSource(CRC), start: 4, end: x },
        { source: localDiffSource(CRC), start: x, scanFrom },
      ]);
      assert.ok(r.bytesOut.equals(whole.bytesOut), `scanFrom ${scanFrom}`);
      assert.equal(r.complete, true);
      assert.equal(r.transactions, whole.transactions);
    }
  });

  it('ranges that do not join are refused: events would be missing or applied twice', async () => {
    const starts = dataEvents(CRC)
      .filter((e) => e.transactionStart === e.position && !e.endsTransaction)
      .map((e) => e.position);
    const [t1, t2] = [starts[10]!, starts[20]!];
    for (const [a, b, why] of [
      [t1, t2, 'missing'],
      [t2, t1, 'applied twice'],
    ] as const) {
      await assert.rejects(
        writeDiffFile(
          [
            { source: localDiffSource(CRC), start: 4, end: a },
            { source: localDiffSource(CRC), start: b },
          ],
          outFile(),
        ),
        (e: unknown) => {
          assert.ok(e instanceof DiffError && e.code === 'discontinuous', String(e));
          assert.match(
            e.message,
            new RegExp(`starts at master mysql-bin.checksum-crc32:${b}, but the diff so far ends at master mysql-bin.checksum-crc32:${a}: events would be ${why}`),
          );
          return true;
        },
      );
    }
    // A range cut inside a transaction, followed by one that starts later: the partial one is left out, then the gap is refused.
    const inside = dataEvents(CRC).find((e) => e.position > t1 && e.transactionStart !== e.position)!.position;
    await assert.rejects(
      writeDiffFile(
        [
          { source: localDiffSource(CRC), start: 4, end: inside },
          { source: localDiffSource(CRC), start: t2 },
        ],
        outFile(),
      ),
      (e: unknown) => e instanceof DiffError && e.code === 'discontinuous',
    );
  });

  it('refuses ranges whose formats differ (one diff, one Format_description)', async () => {
    await assert.rejects(
      writeDiffFile(
        [
          { source: localDiffSource(CANAL2), start: 4 },
          { source: localDiffSource(CRC), start: 4 },
        ],
        outFile(),
      ),
      (e: unknown) => {
        assert.ok(e instanceof DiffError && e.code === 'format-mismatch', String(e));
        assert.match(e.message, /5\.7\.21-log, checksum crc32\), which differs from the diff's .*5\.1\.34sp1.*checksum none/);
        return true;
      },
    );
  });
});

describe('diff writer: an event larger than a read chunk', () => {
  // A MySQL 5.7 CRC32 binlog with a 3 MiB statement in the middle: more than the 1 MiB chunks a
  // local file is read in, so the writer forwards it as it arrives and checks its CRC at the end.
  const src = parseFile(CRC).events;
  const mid = Math.floor(src.length / 2);
  const template = src.find((e, i) => i >= mid && e.type === EventType.QUERY)!; // a BEGIN
  const gtid = src[src.indexOf(template) - 1]!;
  const body = template.raw!;
  const statusLen = body.readUInt16LE(19 + 11);
  const dbLen = body[19 + 8]!;
  const sqlAt = 19 + 13 + statusLen + dbLen + 1;
  const bigSql = Buffer.from(`CREATE TABLE big_one (a INT) /* ${'x'.repeat(3 << 20)} */`);
  const big = Buffer.concat([body.subarray(0, sqlAt), bigSql, Buffer.alloc(4)]);
  const before = src.slice(0, src.indexOf(gtid)).filter((e) => e.type !== EventType.ROTATE);
  const afterEvents = src.slice(src.indexOf(gtid)).filter((e) => e.type !== EventType.ROTATE);
  const file = relayout([...before.map((e) => e.raw!), gtid.raw!, big, ...afterEvents.map((e) => e.raw!)], true);
  const path = copyAs(file, 'mysql-bin.000042');
  const layout = parseFile(path).events;
  const bigEvent = layout.find((e) => e.size === big.length)!;

  it('copies it whole, its CRC recomputed, and mariadb-binlog reads it', async () => {
    const r = await diff([{ source: localDiffSource(path), start: 4 }]);
    const copied = assertCopies(r.bytesOut, dataEvents(path), true);
    assert.ok(copied.some((e) => e.size === big.length));
    const m = mariadbBinlog([r.path]);
    assert.equal(m.status, 0, m.stderr);
    assert.ok(m.stdout.includes('CREATE TABLE big_one (a INT) /* xxxx'));
  });

  it('cut inside the big event: the partial bytes already forwarded are taken back', async () => {
    for (const into of [1 << 20, (5 << 20) / 2, big.length - 2]) {
      const copy = copyAs(file.subarray(0, bigEvent.position + into), 'mysql-bin.000042');
      const r = await diff([{ source: localDiffSource(copy), start: 4 }]);
      const upTo = await diff([{ source: localDiffSource(path), start: 4, end: bigEvent.transactionStart! }]);
      assert.ok(r.bytesOut.equals(upTo.bytesOut), `cut ${into} bytes into the event`);
      assert.deepEqual(
        r.dropped.map((d) => [d.reason, d.position, d.events, d.bytes, d.partialEvent?.have]),
        [['truncated-event', bigEvent.transactionStart, 1, bigEvent.position + into - bigEvent.transactionStart!, into]],
      );
    }
  });

  it('a checksum error inside it fails the diff and leaves nothing', async () => {
    const bad = Buffer.from(file);
    bad[bigEvent.position + (2 << 20)]! ^= 1;
    const copy = copyAs(bad, 'mysql-bin.000042');
    const dir = join(work, `out-${++seq}`);
    mkdirSync(dir);
    await assert.rejects(writeDiffFile([{ source: localDiffSource(copy), start: 4 }], join(dir, 'diff')), (e: unknown) => {
      assert.ok(e instanceof BinlogCorruptError && e.position === bigEvent.position, String(e));
      return true;
    });
    assert.deepEqual(readdirSync(dir), []);
    assert.equal(existsSync(join(dir, 'diff')), false);
  });
});

describe('parser: transaction starts without GTIDs', () => {
  // In a log without GTIDs, a BEGIN that comes while a transaction is still open (the earlier one
  // was abandoned: a master that crashed and restarted) starts a new transaction.
  it('a BEGIN after an unfinished transaction starts a new one', () => {
    const [fde, begin, tableMap, rows, xid] = parseFile(CANAL2).events.map((e) => e.raw!);
    const { events } = parse(relayout([fde!, begin!, tableMap!, rows!, begin!, tableMap!, rows!, xid!], false));
    const second = events[4]!;
    assert.equal(second.type, EventType.QUERY);
    assert.equal(second.transactionStart, second.position);
    assert.equal(events[7]!.transactionStart, second.position);
  });
});
