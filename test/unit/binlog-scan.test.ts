// The fast scan paths of `ha binlog events` and `ha binlog find`, against what they replaced: the
// parser's each() and count() give what push() gives (events, summary, errors) on every fixture;
// the listing's lines, written as bytes, are the strings the listing used to build; oneLine is the
// regex it used to run; the local reader gives the file's bytes, range by range.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { eventTypeName } from '../../src/binlog/event-types.js';
import type { EventInfo } from '../../src/binlog/decode.js';
import { BinlogParser, type BinlogEvent, type ParseSummary } from '../../src/binlog/parser.js';
import { reusedBufferSource } from '../../src/binlog/reader.js';
import { ListingLines, oneLine } from '../../src/binlog/listing.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'binlog');

function fixtureFiles(dir = FIXTURES): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return fixtureFiles(p);
    return name.endsWith('.md') ? [] : [p];
  });
}
const FILES = fixtureFiles();

type Outcome = { events: string[]; summary?: ParseSummary; error?: string };
const key = (e: BinlogEvent) => JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

/** Parses `bytes` in chunks of `chunk` bytes with push(), or with each(). */
function run(bytes: Buffer, chunk: number, how: 'push' | 'each', decode: boolean): Outcome {
  const p = new BinlogParser({ file: 'f', decode });
  const events: string[] = [];
  try {
    for (let at = 0; at < bytes.length; at += chunk) {
      const piece = bytes.subarray(at, at + chunk);
      if (how === 'push') for (const e of p.push(piece)) events.push(key(e));
      else {
        const mine: string[] = [];
        p.each(piece, (e) => mine.push(key(e)));
        events.push(...mine); // events visited in a chunk that throws are void
      }
    }
    return { events, summary: p.finish() };
  } catch (err) {
    return { events, error: (err as Error).message };
  }
}

/** The listing's line as it was built before, from strings. */
function referenceLine(e: BinlogEvent): string {
  const master = e.masterFile !== undefined ? `  [${e.masterFile}:${e.masterEnd}]` : '';
  return `${String(e.position).padStart(12)}  ${eventTypeName(e.type).padEnd(24)} ${String(e.size).padStart(9)} ${String(e.logPos).padStart(11)} ${String(e.serverId).padStart(10)}  ${referenceInfo(e.info)}${master}\n`;
}

function referenceOneLine(s: string, max: number): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

function referenceInfo(info: EventInfo | undefined): string {
  if (!info) return '';
  switch (info.kind) {
    case 'format':
      return `server ${info.format.serverVersion}, checksum ${info.format.checksum}`;
    case 'rotate':
      return `→ ${info.nextFile}:${info.position}`;
    case 'query':
      return `${info.database ? `${info.database}: ` : ''}${info.compressed ? '(compressed)' : referenceOneLine(info.sql, 120)}`;
    case 'xid':
      return `xid ${info.xid}`;
    case 'gtid':
      return info.flavor === 'mariadb'
        ? `GTID ${info.gtid}${info.standalone ? ' (standalone)' : ''}`
        : `${info.anonymous ? 'anonymous ' : ''}GTID ${info.anonymous ? '' : info.gtid}`.trim();
    case 'previous-gtids':
      return info.gtidSet || '(empty)';
    case 'gtid-list':
      return `[${info.gtids.join(',')}]`;
    case 'checkpoint':
      return info.file;
    case 'annotate':
      return referenceOneLine(info.sql, 120);
    case 'payload':
      return `${info.compression}, ${info.payloadSize} → ${info.uncompressedSize} bytes`;
    case 'incident':
      return `incident ${info.incident}: ${info.message}`;
    case 'table-map':
      return `${info.database}.${info.table} (id ${info.tableId})`;
  }
}

describe('BinlogParser.each and count', () => {
  it('each() gives the events, summary and errors of push(), on every fixture and in any chunking', () => {
    for (const file of FILES) {
      const bytes = readFileSync(file);
      for (const decode of [true, false]) {
        for (const chunk of [bytes.length || 1, 4096, 333]) {
          assert.deepEqual(run(bytes, chunk, 'each', decode), run(bytes, chunk, 'push', decode), `${file}, chunks of ${chunk}, decode ${decode}`);
        }
      }
    }
  });

  it('count() counts what push() returns, by type, with the same summary and errors', () => {
    for (const file of FILES) {
      const bytes = readFileSync(file);
      for (const chunk of [bytes.length || 1, 1000]) {
        const pushed = new BinlogParser({ file: 'f', decode: false });
        const counted = new BinlogParser({ file: 'f', decode: false });
        const want = new Float64Array(256);
        const got = new Float64Array(256);
        let wantError: string | undefined;
        let gotError: string | undefined;
        try {
          for (let at = 0; at < bytes.length; at += chunk) for (const e of pushed.push(bytes.subarray(at, at + chunk))) want[e.type]!++;
        } catch (err) {
          wantError = (err as Error).message;
        }
        try {
          for (let at = 0; at < bytes.length; at += chunk) counted.count(bytes.subarray(at, at + chunk), got);
        } catch (err) {
          gotError = (err as Error).message;
        }
        assert.equal(gotError, wantError, file);
        if (wantError) continue;
        assert.deepEqual([...got], [...want], file);
        assert.deepEqual(counted.finish(), pushed.finish(), file);
      }
    }
  });
});

describe('the listing', () => {
  it('writes, as bytes, the lines it used to build as strings', () => {
    for (const file of FILES) {
      let events: BinlogEvent[] = [];
      try {
        events = new BinlogParser({ file: 'f' }).push(readFileSync(file));
      } catch {
        // a damaged file: nothing to list
      }
      const lines = new ListingLines();
      for (const e of events) lines.add(e);
      assert.equal(lines.take().toString('utf8'), events.map(referenceLine).join(''), file);
    }
  });

  it('pads numbers as String(n).padStart does, and writes text as UTF-8', () => {
    const base: BinlogEvent = { position: 0, size: 0, end: 0, type: 2, timestamp: 0, serverId: 0, logPos: 0, flags: 0, endsTransaction: false };
    fc.assert(
      fc.property(
        fc.record({
          position: fc.oneof(fc.nat(), fc.maxSafeNat()),
          size: fc.nat({ max: 2 ** 31 }),
          logPos: fc.nat({ max: 2 ** 32 - 1 }),
          serverId: fc.nat({ max: 2 ** 32 - 1 }),
          type: fc.nat({ max: 255 }),
          sql: fc.string({ unit: 'binary', maxLength: 300 }),
          masterFile: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
          masterEnd: fc.maxSafeNat(),
        }),
        (r) => {
          const e: BinlogEvent = {
            ...base,
            ...r,
            info: { kind: 'query', database: 'd', sql: r.sql, sqlTruncated: false, errorCode: 0, threadId: 1, execTime: 0 },
            masterFile: r.masterFile,
            masterEnd: r.masterFile === undefined ? undefined : r.masterEnd,
          };
          const lines = new ListingLines();
          lines.add(e);
          lines.add(e);
          assert.deepEqual(lines.take(), Buffer.from(referenceLine(e).repeat(2), 'utf8'));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reuses its buffer only once the stream holds none of it', () => {
    const e: BinlogEvent = { position: 4, size: 19, end: 23, type: 2, timestamp: 0, serverId: 1, logPos: 23, flags: 0, endsTransaction: false };
    const lines = new ListingLines();
    lines.add(e);
    const first = lines.take();
    lines.keptBy(new Writable({ write: (_c, _e, cb) => cb() })); // written through: writableLength 0
    lines.add(e);
    const second = lines.take();
    assert.equal(second.buffer, first.buffer, 'same buffer');
    const slow = new Writable({ highWaterMark: 1, write: () => undefined }); // never completes
    slow.write(second);
    lines.keptBy(slow);
    lines.add(e);
    assert.notEqual(lines.take().buffer, second.buffer, 'a new buffer while the stream holds the last one');
    lines.keptBy({ write: () => true } as unknown as NodeJS.WritableStream); // unknown: not reused
    lines.add(e);
    const third = lines.take();
    lines.keptBy({ write: () => true } as unknown as NodeJS.WritableStream);
    lines.add(e);
    assert.notEqual(lines.take().buffer, third.buffer);
  });

  it('oneLine is replace(/\\s+/g, " ").trim() cut to max characters with …', () => {
    const ws = ' \t\n\v\f\r\u00a0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\u0085\u180e';
    const text = fc.string({
      unit: fc.oneof(fc.constantFrom(...ws.split('')), fc.constantFrom('a', 'é', '😀', 'x'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
      maxLength: 400,
    });
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 150 }), (s, max) => {
        assert.equal(oneLine(s, max), referenceOneLine(s, max));
      }),
      { numRuns: 2000 },
    );
    assert.equal(oneLine(`  ${'a '.repeat(3000)}`, 120), referenceOneLine(`  ${'a '.repeat(3000)}`, 120));
  });
});

describe('reusedBufferSource', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-reader-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives bytes [start, end) of a file in chunks of at most chunkSize', async () => {
    const bytes = Buffer.alloc(100_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 13) & 0xff;
    const file = join(dir, 'f');
    writeFileSync(file, bytes);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 110_000 }), fc.option(fc.nat({ max: 110_000 }), { nil: undefined }), fc.integer({ min: 1, max: 40_000 }), async (start, end, chunk) => {
        const parts: Buffer[] = [];
        for await (const c of reusedBufferSource(file, start, end, chunk)) {
          assert.ok(c.length > 0 && c.length <= chunk);
          parts.push(Buffer.from(c)); // the buffer is reused: copy
        }
        assert.deepEqual(Buffer.concat(parts), bytes.subarray(start, end === undefined ? undefined : Math.max(start, end)));
      }),
      { numRuns: 200 },
    );
  });

  it('rejects a missing file when read', async () => {
    await assert.rejects(async () => {
      for await (const _ of reusedBufferSource(join(dir, 'missing'))) void _;
    }, /ENOENT/);
  });
});
