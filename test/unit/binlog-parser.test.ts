// Properties of the push parser on real files: the result does not depend on how the bytes are
// cut into chunks; damage is reported as BinlogCorruptError naming an offset, never a crash or a
// hang; a truncated file yields a prefix of the events and says where the last safe end is.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { BinlogCorruptError, BinlogParser, type BinlogEvent, type ParseSummary } from '../../src/binlog/parser.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'binlog');
const fixture = (p: string) => readFileSync(join(FIXTURES, p));

const CRC_FILE = fixture('osheroff-mysql-5.7/mysql-bin.checksum-crc32');
const NO_CRC_FILE = fixture('osheroff-mysql-5.7/mysql-bin.checksum-none');
const MARIADB_FILE = fixture('rust_mysql_common-mariadb-10.5/mariadb-bin.000001');
const RELAY_FILE = fixture('rust_mysql_common-mysql-8.0/rpl_unfiltered_hidden_gcol.000001');
const BIG_FILE = fixture('osheroff-mysql-5.5/mysql-bin.sakila');

function parse(bytes: Buffer, chunkSizes: number[] = [bytes.length]): { events: BinlogEvent[]; summary: ParseSummary } {
  const p = new BinlogParser({ file: 'test.000001' });
  const events: BinlogEvent[] = [];
  let at = 0;
  let i = 0;
  while (at < bytes.length) {
    const n = Math.max(1, chunkSizes[i++ % chunkSizes.length] ?? 1);
    events.push(...p.push(bytes.subarray(at, at + n)));
    at += n;
  }
  return { events, summary: p.finish() };
}

/** What must not depend on chunking (raw buffers are views, so compare by value). */
function key(e: BinlogEvent): string {
  return JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

describe('binlog parser properties', () => {
  for (const [name, bytes] of [
    ['MySQL 5.7 CRC32', CRC_FILE],
    ['MySQL 5.7 checksum off', NO_CRC_FILE],
    ['MariaDB 10.5', MARIADB_FILE],
    ['MySQL 8.0 relay log', RELAY_FILE],
  ] as const) {
    it(`${name}: the same events however the input is chunked`, () => {
      const whole = parse(bytes).events.map(key);
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 20 }), (sizes) => {
          assert.deepEqual(parse(bytes, sizes).events.map(key), whole);
        }),
        { numRuns: 60 },
      );
      assert.deepEqual(parse(bytes, [1]).events.map(key), whole, 'one byte at a time');
    });
  }

  it('a 1.4 MB file in 1 MiB, 64 KiB and 4 KiB chunks', () => {
    const whole = parse(BIG_FILE).events.map(key);
    for (const size of [1 << 20, 1 << 16, 4096, 4093]) assert.deepEqual(parse(BIG_FILE, [size]).events.map(key), whole);
  });

  it('every single-byte flip in a CRC32 file is caught (or is the FDE in-use flag, which the CRC excludes)', () => {
    const good = parse(CRC_FILE).events.map(key);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: CRC_FILE.length - 1 }), fc.integer({ min: 0, max: 7 }), (at, bit) => {
        const bad = Buffer.from(CRC_FILE);
        bad[at] = bad[at]! ^ (1 << bit);
        try {
          const r = parse(bad, [997]);
          assert.equal(at, 4 + 17, `a flip at ${at} went unnoticed`);
          assert.equal(bit, 0);
          assert.equal(r.events.length, good.length);
        } catch (err) {
          assert.ok(err instanceof BinlogCorruptError, `flip at ${at}: ${String(err)}`);
          assert.ok(err.position >= 0 && err.position <= at, `error at ${err.position} for a flip at ${at}`);
          assert.match(err.message, /^test\.000001 at offset \d+: /);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('random damage in a file without checksums never crashes or loops', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 4, max: NO_CRC_FILE.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (flips) => {
        const bad = Buffer.from(NO_CRC_FILE);
        for (const [at, v] of flips) bad[at] = v;
        try {
          const r = parse(bad, [4096]);
          assert.ok(r.summary.endPosition <= bad.length);
          // every event advanced by at least a header: no loop is possible
          for (const e of r.events) assert.ok(e.size >= 19);
        } catch (err) {
          assert.ok(err instanceof BinlogCorruptError, String(err));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes after a valid header are an error or a truncation, never a crash', () => {
    const fdeEnd = parse(CRC_FILE).events[0]!.end;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 4000 }), (garbage) => {
        const bytes = Buffer.concat([CRC_FILE.subarray(0, fdeEnd), Buffer.from(garbage)]);
        try {
          parse(bytes, [512]);
        } catch (err) {
          assert.ok(err instanceof BinlogCorruptError, String(err));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a file cut anywhere gives a prefix of the events, the truncation, and the last safe end', () => {
    const full = parse(MARIADB_FILE).events;
    const ends = new Set(full.map((e) => e.end));
    // safe ends: after events that leave no transaction open
    const safeEnds = new Set([4, ...full.filter((e) => e.endsTransaction || e.transactionStart === undefined).map((e) => e.end)]);
    for (let cut = 0; cut <= MARIADB_FILE.length; cut++) {
      const { events, summary } = parse(MARIADB_FILE.subarray(0, cut), [256]);
      assert.deepEqual(events.map(key), full.slice(0, events.length).map(key));
      const boundary = cut === 4 || ends.has(cut);
      if (cut === 0) assert.equal(summary.truncated, undefined);
      else if (boundary) assert.equal(summary.truncated, undefined, `cut at ${cut} is an event boundary`);
      else assert.ok(summary.truncated, `cut at ${cut} must be reported`);
      assert.ok(summary.safeEnd <= summary.endPosition);
      if (cut >= 4) assert.ok(safeEnds.has(summary.safeEnd), `safe end ${summary.safeEnd} for a cut at ${cut}`);
    }
  });

  it('bad magic is rejected at offset 0', () => {
    const bad = Buffer.from(CRC_FILE);
    bad[1] = 0x42;
    assert.throws(() => parse(bad), /test\.000001 at offset 0: not a binlog file: starts with fe42696e/);
  });

  it('an impossible event size is reported as a corrupt header at its offset', () => {
    const first = parse(CRC_FILE).events[1]!;
    const bad = Buffer.from(CRC_FILE);
    bad.writeUInt32LE(7, first.position + 9);
    assert.throws(
      () => parse(bad),
      (err: unknown) => err instanceof BinlogCorruptError && err.position === first.position && /event size 7 is smaller/.test(err.message),
    );
    bad.writeUInt32LE(0xfffffff0, first.position + 9);
    assert.throws(() => parse(bad), /larger than any server writes/);
  });
});
