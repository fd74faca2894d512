// CRC32 (src/binlog/crc32.ts): the table, zlib's native crc32 and crc32Range agree on any bytes
// and any split; ChecksumRun, which checks many events' checksums in one pass, finds exactly the
// event a one-by-one check finds; and the parser, which uses it, reports damage as it did when it
// checked event by event — the same offset and message, the earliest bad event first.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { ChecksumRun, crc32Range, crc32Table } from '../../src/binlog/crc32.js';
import { BinlogCorruptError, BinlogParser, type BinlogEvent } from '../../src/binlog/parser.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'binlog');
const CRC_FILE = readFileSync(join(FIXTURES, 'osheroff-mysql-5.7/mysql-bin.checksum-crc32'));

/** An event-like record: `body` bytes, then the CRC32 of them. */
function record(body: Uint8Array): Buffer {
  const b = Buffer.alloc(body.length + 4);
  b.set(body);
  b.writeUInt32LE(zlib.crc32(body) >>> 0, body.length);
  return b;
}

/** The first record of `buf` (records at `ends`) whose CRC32 is wrong, checked one by one. */
function firstBad(buf: Buffer, start: number, ends: number[]): number | undefined {
  let s = start;
  for (const e of ends) {
    if (crc32Table(buf, s, e - 4) !== buf.readUInt32LE(e - 4)) return s;
    s = e;
  }
  return undefined;
}

describe('crc32', () => {
  it('the table, zlib.crc32 and crc32Range agree on any range, whole or continued', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 3000 }), fc.nat(), fc.nat(), fc.nat(), (bytes, a, b, c) => {
        const buf = Buffer.from(bytes);
        const start = a % (buf.length + 1);
        const end = start + (b % (buf.length - start + 1));
        const want = zlib.crc32(buf.subarray(start, end)) >>> 0;
        assert.equal(crc32Table(buf, start, end), want);
        assert.equal(crc32Range(buf, start, end), want);
        // Continued from the CRC32 of a first part, as the diff writer does.
        const mid = start + (c % (end - start + 1));
        assert.equal(crc32Range(buf, mid, end, crc32Range(buf, start, mid)), want);
        assert.equal(crc32Table(buf, mid, end, crc32Table(buf, start, mid)), want);
      }),
      { numRuns: 500 },
    );
  });
});

describe('ChecksumRun', () => {
  const runArb = fc.record({
    bodies: fc.array(fc.uint8Array({ minLength: 19, maxLength: 700 }), { minLength: 1, maxLength: 60 }),
    lead: fc.nat({ max: 50 }),
    damage: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 3 }),
  });

  it('finds the first event whose checksum is wrong, as a one-by-one check does', () => {
    fc.assert(
      fc.property(runArb, ({ bodies, lead, damage }) => {
        const records = bodies.map(record);
        const buf = Buffer.concat([Buffer.alloc(lead, 0xaa), ...records]);
        const ends: number[] = [];
        let at = lead;
        for (const r of records) ends.push((at += r.length));
        for (const [which, where, xor] of damage) {
          const i = which % records.length;
          const s = i === 0 ? lead : ends[i - 1]!;
          buf[s + (where % (ends[i]! - s))]! ^= xor;
        }
        const run = new ChecksumRun();
        let s = lead;
        for (const e of ends) {
          assert.ok(run.add(buf, s, e));
          s = e;
        }
        assert.equal(run.size, records.length);
        assert.equal(run.start, lead);
        const bad = run.check();
        const want = firstBad(buf, lead, ends);
        assert.equal(bad?.start, want);
        if (bad) {
          assert.equal(
            bad.end,
            ends.find((e) => e > bad.start),
          );
          assert.equal(bad.stored, buf.readUInt32LE(bad.end - 4));
          assert.equal(bad.computed, zlib.crc32(buf.subarray(bad.start, bad.end - 4)) >>> 0);
        }
        assert.equal(run.size, 0, 'check() empties the run');
        assert.equal(run.check(), undefined);
      }),
      { numRuns: 400 },
    );
  });

  it('takes only the next event of the same buffer, within 256 KiB', () => {
    const a = Buffer.concat([record(new Uint8Array(40)), record(new Uint8Array(40))]);
    const run = new ChecksumRun();
    assert.ok(run.add(a, 0, 44));
    assert.equal(run.add(Buffer.from(a), 44, 88), false, 'another buffer');
    assert.equal(run.add(a, 50, 88), false, 'not the next event');
    assert.ok(run.add(a, 44, 88));
    assert.equal(run.check(), undefined);
    const big = Buffer.concat([record(new Uint8Array(200 * 1024)), record(new Uint8Array(100 * 1024))]);
    assert.ok(run.add(big, 0, 200 * 1024 + 4));
    assert.equal(run.add(big, 200 * 1024 + 4, big.length), false, 'too long');
    assert.equal(run.check(), undefined);
    // One event longer than the run's table is checked as it is.
    const huge = record(new Uint8Array(300 * 1024).fill(7));
    assert.ok(run.add(huge, 0, huge.length));
    assert.equal(run.check(), undefined);
    huge[1000]! ^= 1;
    assert.ok(run.add(huge, 0, huge.length));
    assert.equal(run.check()?.start, 0);
  });
});

describe('the parser checks checksums as it did event by event', () => {
  const events = (bytes: Buffer): BinlogEvent[] => new BinlogParser({ file: 'test.000001' }).push(bytes);
  const good = events(CRC_FILE);
  const errorOf = (bytes: Buffer, chunk: number): BinlogCorruptError => {
    const p = new BinlogParser({ file: 'test.000001' });
    try {
      for (let at = 0; at < bytes.length; at += chunk) p.push(bytes.subarray(at, at + chunk));
      p.finish();
    } catch (err) {
      assert.ok(err instanceof BinlogCorruptError, String(err));
      return err;
    }
    assert.fail('the damage went unnoticed');
  };

  it('a damaged event body is a checksum mismatch at that event, with the stored and computed CRC32', () => {
    const bodies = good.filter((e) => e.type !== 15 && e.size > 23);
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.constantFrom(97, 1000, 4096, CRC_FILE.length), (which, where, xor, chunk) => {
        const e = bodies[which % bodies.length]!;
        const bad = Buffer.from(CRC_FILE);
        const at = e.position + 19 + (where % (e.size - 23));
        bad[at]! ^= xor;
        const err = errorOf(bad, chunk);
        const stored = bad.readUInt32LE(e.end - 4);
        const computed = zlib.crc32(bad.subarray(e.position, e.end - 4)) >>> 0;
        const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
        assert.equal(err.message, `test.000001 at offset ${e.position}: checksum mismatch (stored ${hex(stored)}, computed ${hex(computed)})`);
        assert.equal(err.position, e.position);
      }),
      { numRuns: 200 },
    );
  });

  it('the earliest damage is the error, even when a later event in the chunk fails otherwise', () => {
    const plain = good.filter((e) => e.type !== 15 && e.size > 23);
    const first = plain[2]!;
    const later = plain[plain.length - 2]!;
    const bad = Buffer.from(CRC_FILE);
    bad[first.position + 20]! ^= 0xff;
    // A size that disagrees with end_log_pos: a corrupt header, found before its checksum.
    bad.writeUInt32LE(later.size + 8, later.position + 9);
    assert.match(errorOf(bad, CRC_FILE.length).message, new RegExp(`^test\\.000001 at offset ${first.position}: checksum mismatch`));
    const onlyLater = Buffer.from(CRC_FILE);
    onlyLater.writeUInt32LE(later.size + 8, later.position + 9);
    assert.match(errorOf(onlyLater, CRC_FILE.length).message, new RegExp(`^test\\.000001 at offset ${later.position}: corrupt header`));
  });
});
