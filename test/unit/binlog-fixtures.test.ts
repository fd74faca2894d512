// The parser against binlogs written by real MySQL and MariaDB servers (test/fixtures/binlog,
// with their MANIFEST): event counts by type, positions, closing events, checksums, and the
// failures of the negative files; positions also agree with mariadb-binlog where it can read them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EventType, isControlEvent } from '../../src/binlog/event-types.js';
import { BinlogCorruptError, BinlogParser, type BinlogEvent, type ParseSummary } from '../../src/binlog/parser.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'binlog');

interface ManifestEntry {
  path: string;
  kind: string;
  events?: number;
  byType: Map<number, number>;
  lastEventAt?: number;
  parsedTo?: number;
  size?: number;
  checksum?: string;
  mariadbBinlogDecodes: boolean;
}

/** Manifest type names (MySQL's enum names) to codes. */
function typeCode(name: string): number {
  const aurora = /^AURORA_(\d+)/.exec(name);
  if (aurora) return Number(aurora[1]);
  const key = name.replace(/^MARIA_/, 'MARIADB_').replace(/_V2$/, '') as keyof typeof EventType;
  const code = EventType[key];
  if (code === undefined) throw new Error(`manifest names an unknown event type ${name}`);
  return code;
}

function readManifest(): ManifestEntry[] {
  const text = readFileSync(join(FIXTURES, 'MANIFEST.md'), 'utf8');
  const entries: ManifestEntry[] = [];
  for (const section of text.split(/^### /m).slice(1)) {
    const path = /^`([^`]+)`/.exec(section)?.[1];
    if (!path) continue;
    const e: ManifestEntry = { path, kind: /- kind: \*\*([^*]+)\*\*/.exec(section)?.[1] ?? '', byType: new Map(), mariadbBinlogDecodes: false };
    const ev = /- events \((\d+)\): (.*)/.exec(section);
    if (ev) {
      e.events = Number(ev[1]);
      for (const part of ev[2]!.split(',')) {
        const [name, n] = part.trim().split('=');
        if (name && n && name !== 'none') e.byType.set(typeCode(name), Number(n));
      }
    }
    const pos = /last event starts at (\d+); parsed up to offset (\d+) of (\d+)/.exec(section);
    if (pos) {
      e.lastEventAt = Number(pos[1]);
      e.parsedTo = Number(pos[2]);
      e.size = Number(pos[3]);
    }
    e.checksum = /checksum: (CRC32|OFF|none)/.exec(section)?.[1];
    e.mariadbBinlogDecodes = /- mariadb-binlog \(no options[^:]*: decodes fully/.test(section);
    entries.push(e);
  }
  return entries;
}

function parseAll(bytes: Buffer, chunkSizes: number[] = [bytes.length], file = 'f'): { events: BinlogEvent[]; summary: ParseSummary } {
  const p = new BinlogParser({ file });
  const events: BinlogEvent[] = [];
  let at = 0;
  let i = 0;
  while (at < bytes.length) {
    const n = Math.max(1, chunkSizes[i++ % chunkSizes.length]!);
    events.push(...p.push(bytes.subarray(at, at + n)));
    at += n;
  }
  return { events, summary: p.finish() };
}

const manifest = readManifest();

describe('binlog fixtures from real servers (MANIFEST)', () => {
  it('the manifest lists every fixture file', () => {
    assert.equal(manifest.length, 30);
  });

  for (const m of manifest) {
    const bytes = readFileSync(join(FIXTURES, m.path));
    if (/NEGATIVE/.test(m.kind) && !m.kind.startsWith('FRAGMENT')) {
      it(`${m.path}: rejected with the offset of the damage`, () => {
        assert.throws(
          () => parseAll(bytes, [bytes.length], m.path),
          (err: unknown) => {
            assert.ok(err instanceof BinlogCorruptError, String(err));
            if (m.path.includes('tsdb-mysql-bin')) {
              assert.equal(err.position, 0);
              assert.match(err.message, /not a binlog file/);
            } else {
              // mariadb-binlog fails at the same event: "Found invalid event in binary log" at 91204
              assert.equal(err.position, 91204);
            }
            return true;
          },
        );
      });
      continue;
    }
    it(`${m.path}: ${m.events} events, types and positions as recorded`, () => {
      const { events, summary } = parseAll(bytes, [bytes.length], m.path);
      assert.equal(events.length, m.events);
      const byType = new Map<number, number>();
      for (const e of events) byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
      assert.deepEqual(
        [...byType].sort((a, b) => a[0] - b[0]),
        [...m.byType].sort((a, b) => a[0] - b[0]),
      );
      if (m.kind.startsWith('FRAGMENT')) {
        assert.ok(summary.truncated, 'a fragment ends inside an event');
        assert.equal(summary.endPosition, events.at(-1)?.end ?? 4);
      } else {
        assert.equal(summary.truncated, undefined);
        assert.equal(events.at(-1)!.position, m.lastEventAt);
        assert.equal(summary.endPosition, m.parsedTo);
      }
      if (m.checksum && events.length) {
        const expected = m.checksum === 'CRC32' ? 'crc32' : 'none';
        assert.equal(summary.format?.checksum, expected);
      }
      // Transactions never overlap and every event that belongs to one points at its start.
      let openStart: number | undefined;
      for (const e of events) {
        if (isControlEvent(e.type)) continue;
        assert.ok(e.transactionStart !== undefined && e.transactionStart <= e.position, `event at ${e.position} has no transaction start`);
        if (openStart !== undefined && e.transactionStart !== openStart) {
          assert.equal(e.transactionStart, e.position, `a transaction at ${openStart} was left open when ${e.position} started another`);
        }
        openStart = e.endsTransaction ? undefined : e.transactionStart;
      }
    });

    if (m.mariadbBinlogDecodes) {
      it(`${m.path}: event positions equal mariadb-binlog's`, () => {
        const out = execFileSync('mariadb-binlog', [join(FIXTURES, m.path)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
        const theirs = [...out.matchAll(/^# at (\d+)$/gm)].map((x) => Number(x[1]));
        const ours = parseAll(bytes).events.map((e) => e.position);
        assert.deepEqual(ours, theirs);
      });
    }
  }

  it('decodes what failover needs from real files', () => {
    const rotate = parseAll(readFileSync(join(FIXTURES, 'canal-mysql-5.1/mysql-bin.000001'))).events.at(-1)!;
    assert.deepEqual(rotate.info, { kind: 'rotate', nextFile: 'mysql-bin.000002', position: 4 });

    const maria = parseAll(readFileSync(join(FIXTURES, 'rust_mysql_common-mariadb-10.5/mariadb-bin.000001'))).events;
    const gtids = maria.filter((e) => e.info?.kind === 'gtid').map((e) => (e.info as { gtid: string }).gtid);
    assert.deepEqual(gtids, ['0-1-1', '0-1-2']);
    assert.equal(maria.filter((e) => e.endsTransaction).length, 2);

    const mysql57 = parseAll(readFileSync(join(FIXTURES, 'apecloud-mysql-5.7/mysql-bin.000080'))).events;
    const g = mysql57.find((e) => e.type === EventType.GTID)!;
    assert.match((g.info as { gtid: string }).gtid, /^[0-9a-f-]{36}:\d+$/);
    const prev = mysql57.find((e) => e.type === EventType.PREVIOUS_GTIDS)!;
    assert.equal(prev.info?.kind, 'previous-gtids');

    const payload = parseAll(readFileSync(join(FIXTURES, 'apecloud-mysql-8.0/mysql-bin.000057'))).events.filter((e) => e.type === EventType.TRANSACTION_PAYLOAD);
    assert.deepEqual(
      payload.map((e) => e.info),
      [
        { kind: 'payload', payloadSize: 161, compression: 'zstd', uncompressedSize: 214 },
        { kind: 'payload', payloadSize: 516, compression: 'zstd', uncompressedSize: 1255 },
      ],
    );
    assert.ok(
      payload.every((e) => e.endsTransaction),
      'a compressed payload is a whole transaction',
    );
  });

  it('follows a relay log back to its master file and positions', () => {
    const relay = parseAll(readFileSync(join(FIXTURES, 'rust_mysql_common-mysql-8.0/rpl_unfiltered_hidden_gcol.000001')));
    assert.equal(relay.summary.isRelayLog, true);
    const fromMaster = relay.events.filter((e) => e.masterFile !== undefined);
    assert.ok(fromMaster.length >= 8);
    for (const e of fromMaster) {
      assert.equal(e.masterFile, 'master-bin.000001');
      assert.equal(e.masterEnd, e.logPos, 'below 4 GiB the master end position is end_log_pos');
    }
    assert.equal(relay.events.at(-1)!.type, EventType.STOP);
    assert.equal(relay.events.at(-1)!.own, true, "the relay log's own closing event is the slave's");
  });
});

describe('relay logs written by the lab (MariaDB 10.11)', () => {
  const dir = join(FIXTURES, '..', 'binlog-lab', 'mariadb-10.11-relay-checksum-switch');
  it('reads a relay set whose master switched binlog_checksum from CRC32 to NONE, and follows the master files', () => {
    const files = readFileSync(join(dir, 'relay-bin.index'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(/^.*\//, ''));
    assert.equal(files.length, 8);
    const seen: string[] = [];
    for (const f of files) {
      const { events, summary } = parseAll(readFileSync(join(dir, f)), [100], f);
      assert.equal(summary.truncated, undefined);
      for (const e of events) if (e.masterFile && !seen.includes(e.masterFile)) seen.push(e.masterFile);
      const own = events.filter((e) => e.own && e.type === EventType.ROTATE);
      assert.ok(own.length <= 1, 'one own rotate, to the next relay file, at most');
    }
    assert.deepEqual(seen, ['mysql-bin.000001', 'mysql-bin.000002', 'mysql-bin.000003', 'mysql-bin.000004']);
    const last = parseAll(readFileSync(join(dir, 'relay-bin.000006'))).events;
    assert.equal(last[0]!.info?.kind === 'format' && last[0]!.info.format.checksum, 'none');
    const xid = last.find((e) => e.type === EventType.XID)!;
    assert.deepEqual([xid.masterFile, xid.masterEnd, xid.endsTransaction], ['mysql-bin.000003', 721, true]);
  });
});
