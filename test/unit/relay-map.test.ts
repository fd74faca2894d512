// The relay-log position mapper (src/binlog/relay-map.ts) on relay logs built byte for byte by
// test/support/binlog-builder.ts — one case per result kind and per way an IO thread writes relay
// logs — then property tests: generated master histories, relay-log rotations, IO-thread
// reconnects, purges and torn tails, every interesting coordinate, the mapper (fast path and full
// scan) against a brute-force oracle built from the builder's ground truth.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EventType } from '../../src/binlog/event-types.js';
import { BinlogCorruptError } from '../../src/binlog/parser.js';
import {
  RelayMapError,
  localRelaySource,
  mapRelayPosition,
  readRelayLogIndex,
  resolveIndexEntry,
  type MasterCoordinate,
  type RelayLogSource,
  type RelayMapOptions,
  type RelayMapResult,
} from '../../src/binlog/relay-map.js';
import {
  BinlogFileWriter,
  MasterLog,
  buildRelaySet,
  encodeEvent,
  ev,
  type Flavor,
  type MasterEvent,
  type RelayCopy,
  type RelayPlan,
  type RelaySet,
} from '../support/binlog-builder.js';
import { LOG_EVENT_ARTIFICIAL_F, LOG_EVENT_RELAY_LOG_F } from '../../src/binlog/event-types.js';

const DIR = '/relay';

/** Relay logs in memory, read in odd-sized chunks; with or without the batched probe. */
function memSource(files: { name: string; bytes: Buffer }[], opts: { probe?: boolean; chunk?: number; extra?: Record<string, Buffer> } = {}): RelayLogSource & { reads: number } {
  const map = new Map(files.map((f) => [`${DIR}/${f.name}`, f.bytes]));
  for (const [k, v] of Object.entries(opts.extra ?? {})) map.set(k, v);
  const chunk = opts.chunk ?? 777;
  const get = (f: string) => {
    const b = map.get(f);
    if (!b) throw new Error(`ENOENT ${f}`);
    return b;
  };
  const src: RelayLogSource & { reads: number } = {
    label: 'memory',
    reads: 0,
    async size(f) {
      return get(f).length;
    },
    async *read(f, start, end) {
      src.reads++;
      const b = get(f).subarray(start, end);
      for (let i = 0; i < b.length; i += chunk) yield b.subarray(i, i + chunk);
    },
  };
  if (opts.probe !== false) {
    src.probe = async (names, headBytes) =>
      names.map((n) => (map.has(n) ? { size: map.get(n)!.length, head: map.get(n)!.subarray(0, headBytes) } : { size: -1, head: Buffer.alloc(0) }));
  }
  return src;
}

function paths(rs: { files: { name: string }[] }, from = 0): string[] {
  return rs.files.slice(from).map((f) => `${DIR}/${f.name}`);
}

async function map(rs: RelaySet, target: MasterCoordinate, opts: RelayMapOptions & { purge?: number } = {}): Promise<RelayMapResult> {
  const from = opts.purge ?? 0;
  return mapRelayPosition(memSource(rs.files.slice(from)), paths(rs, from), target, { readPosition: rs.readPosition, ...opts });
}

function copyOf(rs: RelaySet, m: MasterEvent | undefined, effective = true): RelayCopy {
  const c = rs.copies.filter((x) => x.master === m && (!effective || x.effective)).pop();
  assert.ok(c, `a copy of ${m?.file}:${m?.start}`);
  return c;
}

function at(_rs: RelaySet, r: RelayMapResult): string {
  if (r.kind === 'found' || r.kind === 'at-end' || r.kind === 'newer') return `${r.kind} ${r.relayFile.slice(DIR.length + 1)}:${r.offset}`;
  if (r.kind === 'older') return `older ${r.oldest.relayFile.slice(DIR.length + 1)}:${r.oldest.offset}`;
  return `not-boundary ${r.event.relayFile.slice(DIR.length + 1)}:${r.event.offset}`;
}

describe('relay-log position mapper: one case per result', () => {
  // A MariaDB history: DDL, transactions of several statements, a master rotation.
  const m = new MasterLog({ flavor: 'mariadb' });
  m.ddl();
  const t1 = m.transaction({ statements: 2, payload: 400 });
  const t2 = m.transaction({ statements: 3, payload: 900 });
  m.transaction();
  const rot = m.rotate();
  const t4 = m.transaction({ statements: 2, payload: 300 });
  const t5 = m.transaction();
  const rs = buildRelaySet({ master: m, maxRelaySize: 1200 });
  void t5;

  it("found: a transaction boundary maps to the next transaction's GTID event", async () => {
    const r = await map(rs, { file: 'mysql-bin.000001', position: t1[t1.length - 1]!.end });
    assert.equal(r.kind, 'found');
    const c = copyOf(rs, t2[0]);
    assert.equal(at(rs, r), `found ${c.relayFile}:${c.offset}`);
    assert.ok(r.kind === 'found' && r.exactBoundary && !r.insideTransaction);
    assert.equal(r.kind === 'found' && r.event.type, 'MariaDB_Gtid');
    assert.equal(r.kind === 'found' && r.masterPosition, t2[0]!.start);
    assert.equal(r.stats.filesScanned, 1, 'only the relay log holding it is read');
  });

  it('found inside a transaction: the next event, and where the transaction starts (in an earlier relay log)', async () => {
    // t2 is split over relay logs by max_relay_log_size.
    const mid = t2[t2.length - 2]!;
    const r = await map(rs, { file: mid.file, position: mid.start });
    assert.ok(r.kind === 'found', at(rs, r));
    assert.equal(r.insideTransaction, true);
    assert.equal(r.offset, copyOf(rs, mid).offset);
    const start = copyOf(rs, t2[0]);
    assert.equal(r.transactionStart?.relayFile, `${DIR}/${start.relayFile}`);
    assert.equal(r.transactionStart?.offset, start.offset);
    assert.notEqual(start.relayFile, copyOf(rs, mid).relayFile, 'the test needs a transaction split over relay logs');
  });

  it('found at a master rotation: the end of a binlog and position 4 of the next one both map to its FDE', async () => {
    const fde = copyOf(rs, m.fdeOf('mysql-bin.000002'));
    for (const target of [
      { file: 'mysql-bin.000001', position: rot.end },
      { file: 'mysql-bin.000002', position: 4 },
    ]) {
      const r = await map(rs, target);
      assert.equal(at(rs, r), `found ${fde.relayFile}:${fde.offset}`, JSON.stringify(target));
      assert.ok(r.kind === 'found' && r.exactBoundary);
    }
    const before = await map(rs, { file: 'mysql-bin.000001', position: rot.start });
    const rc = copyOf(rs, rot);
    assert.equal(at(rs, before), `found ${rc.relayFile}:${rc.offset}`, 'the Rotate itself is the first event after the last transaction');
  });

  it('at-end: the read position itself, and the end of a binlog when nothing follows', async () => {
    const r = await map(rs, rs.readPosition);
    assert.equal(r.kind, 'at-end');
    assert.ok(r.kind === 'at-end' && r.exactBoundary && r.openTransaction === undefined);
    assert.equal(r.kind === 'at-end' && r.relayFile, paths(rs).pop());
    const last = t5[t5.length - 1]!;
    assert.deepEqual(rs.readPosition, { file: 'mysql-bin.000002', position: last.end });
  });

  it('at-end with the IO thread stopped inside a transaction: says where that transaction starts', async () => {
    const cut = buildRelaySet({ master: m, maxRelaySize: 1200, upTo: t4[2]!.index });
    const r = await map(cut, cut.readPosition);
    assert.ok(r.kind === 'at-end', at(cut, r));
    const s = copyOf(cut, t4[0]);
    assert.equal(r.openTransaction?.offset, s.offset);
    assert.equal(r.openTransaction?.masterPosition, t4[0]!.start);
  });

  it('newer: beyond what the slave received, in the same binlog or a later one', async () => {
    for (const target of [
      { file: 'mysql-bin.000002', position: rs.readPosition.position + 100 },
      { file: 'mysql-bin.000003', position: 4 },
    ]) {
      const r = await map(rs, target);
      assert.equal(r.kind, 'newer');
      assert.deepEqual(r.kind === 'newer' && r.received, rs.readPosition);
    }
  });

  it('not-boundary: inside an event, naming it', async () => {
    const rows = t2[3]!;
    const r = await map(rs, { file: rows.file, position: rows.start + 10 });
    assert.ok(r.kind === 'not-boundary', at(rs, r));
    assert.equal(r.event.offset, copyOf(rs, rows).offset);
    assert.equal(r.event.type, 'WriteRows_v1');
    assert.equal(r.event.masterPosition, rows.start);
    assert.equal(r.event.masterEnd, rows.end);
  });

  it('older: before the oldest relay log kept (relay_log_purge), naming where it starts', async () => {
    // Purge so that the oldest kept relay log starts inside the first binlog.
    const purge = rs.files.findIndex((f) => rs.copies.some((c) => c.relayFile === f.name && c.master === t2[0]));
    assert.ok(purge > 1);
    const r = await map(rs, { file: 'mysql-bin.000001', position: t1[0]!.start }, { purge });
    assert.ok(r.kind === 'older', at(rs, r));
    const kept = await map(rs, { file: 'mysql-bin.000001', position: t2[0]!.start }, { purge });
    assert.equal(kept.kind, 'found', 'what the oldest kept relay log holds is still found');
    const prev = await map(rs, { file: 'mysql-bin.000000', position: 4 }, { purge }).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
    assert.ok(!(prev instanceof Error) && prev.kind === 'older', 'a binlog before everything');
  });

  it('rejects positions that cannot be boundaries and binlogs of another series', async () => {
    await assert.rejects(map(rs, { file: 'mysql-bin.000001', position: 3 }), RelayMapError);
    await assert.rejects(map(rs, { file: 'other-bin.000001', position: 4 }), /not binlogs of the same series/);
    await assert.rejects(map(rs, { file: 'nonumber', position: 4 }), RelayMapError);
  });
});

describe('relay-log position mapper: how IO threads write relay logs', () => {
  for (const flavor of ['mariadb', 'mysql'] as const) {
    it(`${flavor}: a file/position reconnect inside a transaction continues it (no duplicate)`, async () => {
      const m = new MasterLog({ flavor });
      m.ddl();
      const t = m.transaction({ statements: 3, payload: 200 });
      m.transaction();
      const rs = buildRelaySet({ master: m, reconnects: [{ before: t[4]!.index, mode: 'file-pos' }] });
      const r = await map(rs, { file: t[4]!.file, position: t[4]!.start });
      assert.ok(r.kind === 'found' && r.exactBoundary && r.insideTransaction, at(rs, r));
      assert.equal(r.offset, copyOf(rs, t[4]).offset);
      assert.equal(r.transactionStart?.offset, copyOf(rs, t[0]).offset);
      assert.notEqual(copyOf(rs, t[4]).relayFile, copyOf(rs, t[0]).relayFile);
    });
  }

  it('mysql GTID auto-positioning: a re-sent transaction maps to its complete copy, never the partial one', async () => {
    const m = new MasterLog({ flavor: 'mysql' });
    m.ddl();
    const t1 = m.transaction({ statements: 2 });
    const t2 = m.transaction({ statements: 3, payload: 300 });
    const t3 = m.transaction();
    const rs = buildRelaySet({ master: m, reconnects: [{ before: t2[4]!.index, mode: 'mysql-auto-position' }] });
    assert.ok(
      rs.copies.some((c) => c.master === t2[0] && !c.effective),
      'a partial copy',
    );
    for (const scanAll of [false, true]) {
      const atStart = await map(rs, { file: t1[0]!.file, position: t1[t1.length - 1]!.end }, { scanAll });
      assert.equal(at(rs, atStart), `found ${copyOf(rs, t2[0]).relayFile}:${copyOf(rs, t2[0]).offset}`, `scanAll=${scanAll}`);
      const inside = await map(rs, { file: t2[2]!.file, position: t2[2]!.start }, { scanAll });
      assert.ok(inside.kind === 'found' && inside.insideTransaction);
      assert.equal(inside.offset, copyOf(rs, t2[2]).offset);
      assert.equal(inside.transactionStart?.offset, copyOf(rs, t2[0]).offset);
      assert.equal(inside.transactionStart?.relayFile, `${DIR}/${copyOf(rs, t2[0]).relayFile}`);
    }
    const after = await map(rs, { file: t3[0]!.file, position: t3[0]!.start });
    assert.equal(after.kind, 'found');
  });

  it("mariadb GTID reconnect inside a transaction: re-sent header events and the IO thread's own Rotate are not the stream", async () => {
    const m = new MasterLog({ flavor: 'mariadb' });
    m.ddl();
    const t1 = m.transaction({ statements: 3, payload: 300 });
    m.transaction();
    const rs = buildRelaySet({ master: m, reconnects: [{ before: t1[5]!.index, mode: 'mariadb-gtid' }] });
    assert.ok(rs.markers.some((x) => x.kind === 'skip'));
    const r = await map(rs, { file: t1[5]!.file, position: t1[5]!.start });
    assert.ok(r.kind === 'found' && r.exactBoundary && r.insideTransaction, at(rs, r));
    assert.equal(r.offset, copyOf(rs, t1[5]).offset);
    assert.equal(r.transactionStart?.offset, copyOf(rs, t1[0]).offset);
    // A header position maps to the original header events, not to their re-sent copies.
    const gl = m.headerOf('mysql-bin.000001')[0]!;
    const h = await map(rs, { file: gl.file, position: gl.start });
    assert.equal(at(rs, h), `found ${copyOf(rs, gl).relayFile}:${copyOf(rs, gl).offset}`);
    // With the first relay logs purged, the re-sent header is all that is left before the data: older.
    const purge = rs.files.findIndex((f) => f.name === copyOf(rs, t1[5]).relayFile);
    const o = await map(rs, { file: gl.file, position: gl.start }, { purge });
    assert.equal(o.kind, 'older');
  });

  it("a real MySQL 8.0 relay log (test/fixtures): artificial Rotate, master FDE, the IO thread's server_id 0 Rotate over ignored events", async () => {
    const bytes = readFileSync(new URL('../../../test/fixtures/binlog/rust_mysql_common-mysql-8.0/rpl_unfiltered_hidden_gcol.000001', import.meta.url));
    const src = memSource([{ name: 'relay.000001', bytes }]);
    const files = [`${DIR}/relay.000001`];
    const q = async (position: number) => mapRelayPosition(src, files, { file: 'master-bin.000001', position });
    // 155 is where the Rotate with server_id 0 says the IO thread resumed after ignoring events.
    for (const [pos, offset] of [
      [155, 371],
      [124, 371],
      [232, 448],
      [554, 770],
      [4, 203],
    ] as const) {
      const r = await q(pos);
      assert.ok(r.kind === 'found' && r.exactBoundary, `${pos}: ${JSON.stringify(r)}`);
      assert.equal(r.offset, offset, `master-bin.000001:${pos}`);
    }
    const end = await q(837);
    assert.equal(end.kind, 'at-end');
    for (const [pos, offset] of [
      [633, 849],
      [708, 924],
    ] as const) {
      const mid = await q(pos);
      assert.ok(
        mid.kind === 'found' && mid.offset === offset && mid.insideTransaction && mid.transactionStart?.offset === 770,
        `${pos}: inside, the transaction starts at the Anonymous_GTID`,
      );
    }
    assert.equal((await q(300)).kind, 'not-boundary');
  });

  it('positions past 4 GiB: end_log_pos wraps at 32 bits and is rebuilt', async () => {
    const fmt = { flavor: 'mariadb' as const, checksum: true };
    const w = new BinlogFileWriter('relay-bin.000002');
    const own = { serverId: 2, flags: LOG_EVENT_RELAY_LOG_F };
    w.append(ev.formatDescription(fmt), own, true);
    const base = 2 ** 32 - 200;
    w.append(ev.rotate('mysql-bin.000007', base), { serverId: 1, flags: LOG_EVENT_ARTIFICIAL_F, logPos: 0, timestamp: 0 }, true);
    w.append(ev.formatDescription(fmt), { serverId: 1, logPos: 0 }, true);
    let pos = base;
    const starts: number[] = [];
    for (let i = 0; i < 6; i++) {
      const body = i % 2 === 0 ? ev.mariadbGtid(0, i + 1, true) : ev.query(`CREATE TABLE t${i} (a INT)`);
      const bytes = encodeEvent(body, { serverId: 1, logPos: pos + 19 + body.body.length + 4 }, true);
      starts.push(pos);
      w.appendRaw(bytes);
      pos += bytes.length;
    }
    const files = [{ name: 'relay-bin.000002', bytes: w.toBuffer() }];
    for (const [i, s] of starts.entries()) {
      const r = await mapRelayPosition(memSource(files), paths({ files }), { file: 'mysql-bin.000007', position: s });
      assert.ok(r.kind === 'found' && r.exactBoundary, `${s}: ${JSON.stringify(r.kind)}`);
      assert.equal(r.masterPosition, s, `event ${i} starts at ${s}`);
    }
    assert.ok(starts[5]! > 2 ** 32);
    const end = await mapRelayPosition(memSource(files), paths({ files }), { file: 'mysql-bin.000007', position: pos });
    assert.equal(end.kind, 'at-end');
  });
});

describe('relay-log position mapper: naming, sources and damage', () => {
  const m = new MasterLog({ flavor: 'mariadb' });
  m.ddl();
  for (let i = 0; i < 6; i++) m.transaction({ statements: 2, payload: 300 });
  const rs = buildRelaySet({ master: m, maxRelaySize: 900 });
  const late = m.events[m.events.length - 3]!;

  it("relay logs with no Rotate left (older ones purged) need the slave's read position to name their binlog", async () => {
    const purge = rs.files.length - 2;
    const files = rs.files.slice(purge);
    assert.ok(
      files.every((f) => !rs.markers.some((x) => x.relayFile === f.name)),
      'headless relay logs',
    );
    await assert.rejects(mapRelayPosition(memSource(files), paths({ files }), { file: late.file, position: late.start }), /Master_Log_File/);
    const r = await mapRelayPosition(memSource(files), paths({ files }), { file: late.file, position: late.start }, { readPosition: rs.readPosition });
    assert.equal(at(rs, r), `found ${copyOf(rs, late).relayFile}:${copyOf(rs, late).offset}`);
  });

  it('reads only heads and the file that holds the answer; a source without probe gives the same answer', async () => {
    const big = new MasterLog({ flavor: 'mariadb' });
    for (let i = 0; i < 40; i++) big.transaction({ statements: 2, payload: 6000 });
    const brs = buildRelaySet({ master: big, maxRelaySize: 30_000 });
    const target = big.events[big.events.length - 20]!;
    const src = memSource(brs.files);
    const r1 = await mapRelayPosition(src, paths(brs), { file: target.file, position: target.start });
    assert.equal(at(brs, r1), `found ${copyOf(brs, target).relayFile}:${copyOf(brs, target).offset}`);
    assert.ok(r1.stats.filesScanned <= 2, `${r1.stats.filesScanned} files read`);
    const total = brs.files.reduce((n, f) => n + f.bytes.length, 0);
    assert.ok(r1.stats.bytesRead < total / 3, `${r1.stats.bytesRead} of ${total} bytes read`);
    const r2 = await mapRelayPosition(memSource(brs.files, { probe: false, chunk: 5 }), paths(brs), { file: target.file, position: target.start });
    assert.equal(at(brs, r2), at(brs, r1));
  });

  it('reads the relay-log index: relative entries beside the index or under the datadir, absolute ones as they are', async () => {
    assert.equal(resolveIndexEntry('/var/lib/mysql/relay-bin.index', './relay-bin.000002'), '/var/lib/mysql/relay-bin.000002');
    assert.equal(resolveIndexEntry('/srv/relay/relay-bin.index', '../relay/relay-bin.000002'), '/srv/relay/relay-bin.000002');
    assert.equal(resolveIndexEntry('/srv/relay/relay-bin.index', 'relay-bin.000002', '/var/lib/mysql'), '/var/lib/mysql/relay-bin.000002');
    assert.equal(resolveIndexEntry('/x/relay-bin.index', '/data/relay/relay-bin.000009'), '/data/relay/relay-bin.000009');
    const src = memSource(rs.files, { extra: { [`${DIR}/relay-bin.index`]: Buffer.from(rs.indexText() + '\n') } });
    assert.deepEqual(await readRelayLogIndex(src, `${DIR}/relay-bin.index`), paths(rs));
    await assert.rejects(readRelayLogIndex(memSource([], { extra: { '/e.index': Buffer.alloc(0) } }), '/e.index'), /lists no relay log/);
  });

  it('a relay log listed but missing is an error naming it', async () => {
    const src = memSource(rs.files.slice(1));
    await assert.rejects(mapRelayPosition(src, paths(rs), { file: late.file, position: late.start }), /relay-bin\.000001.*missing/);
  });

  it('a damaged event in the relay log read is an error naming file and offset', async () => {
    const target = copyOf(rs, late);
    const files = rs.files.map((f) => ({ name: f.name, bytes: Buffer.from(f.bytes) }));
    const f = files.find((x) => x.name === target.relayFile)!;
    f.bytes[target.offset - 8]! ^= 0x55; // inside the event before it
    await assert.rejects(mapRelayPosition(memSource(files), paths({ files }), { file: late.file, position: late.start }), (e: unknown) => {
      assert.ok(e instanceof BinlogCorruptError);
      assert.match(e.message, new RegExp(`${target.relayFile}.*checksum`));
      return true;
    });
  });

  it('reads local files through localRelaySource', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/ha-relay-map-');
    try {
      for (const f of rs.files) writeFileSync(`${dir}/${f.name}`, f.bytes);
      writeFileSync(`${dir}/relay-bin.index`, rs.indexText());
      const src = localRelaySource();
      const files = await readRelayLogIndex(src, `${dir}/relay-bin.index`);
      const r = await mapRelayPosition(src, files, { file: late.file, position: late.start });
      assert.ok(r.kind === 'found' && r.relayFile === `${dir}/${copyOf(rs, late).relayFile}` && r.offset === copyOf(rs, late).offset);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Property tests against a brute-force oracle

interface Expected {
  kind: RelayMapResult['kind'];
  relayFile?: string;
  offset?: number;
  exact?: boolean;
  inside?: boolean;
  txStart?: { relayFile: string; offset: number } | null;
}

function cmp(a: MasterCoordinate, b: MasterCoordinate): number {
  const na = Number(a.file.slice(a.file.lastIndexOf('.') + 1));
  const nb = Number(b.file.slice(b.file.lastIndexOf('.') + 1));
  return na !== nb ? na - nb : a.position - b.position;
}

/**
 * What the relay logs mean, from the builder's ground truth: the copies the SQL thread would use
 * (plus control events whose first copy is purged, which the slave cannot tell from originals),
 * in relay order; the first at or after the coordinate; exact when nothing of the master's binlog
 * is missing between the coordinate and the next transaction.
 */
function oracle(m: MasterLog, rs: RelaySet, purge: number, T: MasterCoordinate): Expected {
  const order = new Map(rs.files.map((f, i) => [f.name, i]));
  const keptFile = (name: string) => order.get(name)! >= purge;
  // Copies and the IO thread's markers in relay order; `reach` is how far the stream has been
  // seen to go in the relay logs kept: a control copy behind it (already received, or skipped
  // by a connect mid-file) is not the stream; one whose original is purged is all there is.
  type Item = { file: number; offset: number; copy?: RelayCopy; marker?: RelaySet['markers'][number] };
  const items: Item[] = [
    ...rs.copies.filter((c) => keptFile(c.relayFile)).map((c) => ({ file: order.get(c.relayFile)!, offset: c.offset, copy: c })),
    ...rs.markers.filter((x) => keptFile(x.relayFile)).map((x) => ({ file: order.get(x.relayFile)!, offset: x.offset, marker: x })),
  ].sort((a, b) => a.file - b.file || a.offset - b.offset);
  let reach: MasterCoordinate | undefined;
  const kept: RelayCopy[] = [];
  for (const it of items) {
    const x = it.marker;
    if (x) {
      if (x.kind === 'skip' || !reach || reach.file !== x.masterFile) reach = { file: x.masterFile, position: x.masterPosition };
      else reach = { file: reach.file, position: Math.max(reach.position, x.masterPosition) };
      continue;
    }
    const c = it.copy!;
    if (c.master.kind === 'data') {
      // Any data copy moves the stream (a later re-send moves it back).
      reach = { file: c.master.file, position: c.master.end };
      if (c.effective) kept.push(c);
      continue;
    }
    const behind = reach !== undefined && reach.file === c.master.file && c.master.start < reach.position;
    if (!(c.effective || (!c.resentHeader && !behind))) continue;
    kept.push(c);
    if (c.master.type === EventType.ROTATE) reach = { file: m.events[c.master.index + 1]?.file ?? c.master.file, position: 4 };
    else reach = { file: c.master.file, position: reach && reach.file === c.master.file ? Math.max(reach.position, c.master.end) : c.master.end };
  }
  const key = (c: RelayCopy) => ({ file: c.master.file, position: c.master.start });
  const ci = kept.findIndex((c) => cmp(key(c), T) >= 0);
  const p = ci > 0 ? kept[ci - 1] : ci < 0 ? kept[kept.length - 1] : undefined;
  if (p && p.master.file === T.file && p.master.start < T.position && T.position < p.master.end) return { kind: 'not-boundary', relayFile: p.relayFile, offset: p.offset };
  const nextFile = (e: MasterEvent) => m.events[e.index + 1]?.file;
  const contiguous = (a: RelayCopy, b: RelayCopy) =>
    (a.master.file === b.master.file && b.master.start === a.master.end) || (a.master.type === EventType.ROTATE && b.master.file === nextFile(a.master) && b.master.start === 4);
  if (ci < 0) {
    const end = rs.readPosition;
    const exact = cmp(end, T) === 0 || (p !== undefined && p.master.file === T.file && p.master.end === T.position);
    if (!exact && cmp(end, T) < 0) return { kind: 'newer' };
    return { kind: 'at-end', exact };
  }
  const c = kept[ci]!;
  let exact = cmp(key(c), T) === 0 || (p !== undefined && p.master.file === T.file && p.master.end === T.position && contiguous(p, c));
  for (let j = ci + 1; exact && j < kept.length && kept[j - 1]!.master.kind !== 'data'; j++) exact = contiguous(kept[j - 1]!, kept[j]!);
  const dataBefore = kept.slice(0, ci).some((x) => x.master.kind === 'data');
  if (!exact && !dataBefore) return { kind: 'older' };
  const inside = c.master.kind === 'data' && !c.master.groupStart;
  let txStart: Expected['txStart'];
  if (inside) {
    const g = m.events.find((e) => e.group === c.master.group && e.groupStart)!;
    const gc = kept
      .slice(0, ci)
      .filter((x) => x.master === g)
      .pop();
    txStart = gc ? { relayFile: gc.relayFile, offset: gc.offset } : null;
  }
  return { kind: 'found', relayFile: c.relayFile, offset: c.offset, exact, inside, txStart };
}

function actual(r: RelayMapResult): Expected {
  const name = (p: string) => p.slice(DIR.length + 1);
  switch (r.kind) {
    case 'found':
      return {
        kind: 'found',
        relayFile: name(r.relayFile),
        offset: r.offset,
        exact: r.exactBoundary,
        inside: r.insideTransaction,
        txStart: r.insideTransaction ? (r.transactionStart ? { relayFile: name(r.transactionStart.relayFile), offset: r.transactionStart.offset } : null) : undefined,
      };
    case 'not-boundary':
      return { kind: 'not-boundary', relayFile: name(r.event.relayFile), offset: r.event.offset };
    case 'at-end':
      return { kind: 'at-end', exact: r.exactBoundary };
    default:
      return { kind: r.kind };
  }
}

type Op = { t: 'trx'; statements: number; payload: number } | { t: 'ddl' } | { t: 'rotate' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('trx' as const), statements: fc.integer({ min: 1, max: 3 }), payload: fc.integer({ min: 1, max: 600 }) }) },
  { weight: 2, arbitrary: fc.constant({ t: 'ddl' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'rotate' as const }) },
);

const caseArb = fc.record({
  flavor: fc.constantFrom<Flavor>('mariadb', 'mysql'),
  checksum: fc.boolean(),
  ops: fc.array(opArb, { minLength: 2, maxLength: 14 }),
  maxRelaySize: fc.option(fc.integer({ min: 500, max: 4000 }), { nil: undefined }),
  rotateBefore: fc.array(fc.nat(), { maxLength: 3 }),
  reconnects: fc.array(fc.record({ at: fc.nat(), gtid: fc.boolean() }), { maxLength: 3 }),
  startAtGroup: fc.option(fc.nat(), { nil: undefined }),
  upTo: fc.option(fc.nat(), { nil: undefined }),
  torn: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }),
  purge: fc.nat({ max: 4 }),
  seed: fc.nat(),
});

type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

function buildCase(k: Case) {
  const m = new MasterLog({ flavor: k.flavor, checksum: k.checksum });
  for (const op of k.ops) {
    if (op.t === 'trx') m.transaction({ statements: op.statements, payload: op.payload });
    else if (op.t === 'ddl') m.ddl();
    else m.rotate();
  }
  const n = m.events.length;
  const groupStarts = m.events.filter((e) => e.groupStart);
  const plan: RelayPlan = {
    master: m,
    maxRelaySize: k.maxRelaySize,
    rotateBefore: k.rotateBefore.map((x) => 1 + (x % (n - 1))),
    reconnects: k.reconnects.map((r) => ({
      before: 1 + (r.at % (n - 1)),
      mode: r.gtid ? (k.flavor === 'mysql' ? 'mysql-auto-position' : 'mariadb-gtid') : 'file-pos',
    })),
    startAt: k.startAtGroup !== undefined && groupStarts.length ? groupStarts[k.startAtGroup % groupStarts.length]!.index : 0,
    upTo: k.upTo !== undefined ? 1 + (k.upTo % n) : undefined,
    tornBytes: k.torn,
  };
  const rs = buildRelaySet(plan);
  const purge = Math.min(k.purge, rs.files.length - 1);
  return { m, rs, purge };
}

/** Every event boundary, file ends, inside-event positions, before everything, past the end. */
function coordinates(m: MasterLog, rs: RelaySet, seed: number): MasterCoordinate[] {
  const out: MasterCoordinate[] = [];
  for (const e of m.events) {
    out.push({ file: e.file, position: e.start }, { file: e.file, position: e.end });
    if (e.end - e.start > 2) out.push({ file: e.file, position: e.start + 1 + ((seed + e.index * 7) % (e.end - e.start - 1)) });
  }
  const last = m.fileNames[m.fileNames.length - 1]!;
  const seq = Number(last.slice(-6));
  out.push({ file: last.replace(/\d{6}$/, String(seq + 1).padStart(6, '0')), position: 4 });
  out.push({ file: 'mysql-bin.000000', position: 4 });
  out.push({ file: rs.readPosition.file, position: rs.readPosition.position + 1 + (seed % 50) });
  const seen = new Set<string>();
  return out.filter((c) => c.position >= 4 && !seen.has(`${c.file}:${c.position}`) && seen.add(`${c.file}:${c.position}`));
}

/** The relay logs of a failing case, event by event, for the failure message. */
function layout(rs: RelaySet, purge: number): string {
  const lines: string[] = [];
  for (const [i, f] of rs.files.entries()) {
    lines.push(`${f.name}${i < purge ? ' (purged)' : ''}`);
    const items = [
      ...rs.copies
        .filter((c) => c.relayFile === f.name)
        .map((c) => ({
          o: c.offset,
          t: `${c.master.file}:${c.master.start}-${c.master.end} type ${c.master.type}${c.effective ? '' : ' (not effective)'}${c.resentHeader ? ' (re-sent header)' : ''}${c.master.groupStart ? ' [trx start]' : ''}`,
        })),
      ...rs.markers.filter((x) => x.relayFile === f.name).map((x) => ({ o: x.offset, t: `marker ${x.kind} -> ${x.masterFile}:${x.masterPosition}` })),
    ].sort((a, b) => a.o - b.o);
    for (const it of items) lines.push(`  ${it.o}: ${it.t}`);
  }
  lines.push(`read position ${rs.readPosition.file}:${rs.readPosition.position}`);
  return lines.join('\n');
}

/** fc.assert, with the failed assertion's own message in the error (the test reporter drops `cause`). */
async function fcAssert<T>(prop: fc.IAsyncProperty<T>, params: fc.Parameters<T>): Promise<void> {
  try {
    await fc.assert(prop, params);
  } catch (err) {
    const cause = (err as { cause?: Error }).cause;
    throw new Error(`${(err as Error).message}${cause ? `\n${cause.message}` : ''}`);
  }
}

describe('relay-log position mapper: property tests against a brute-force oracle', () => {
  it('maps every coordinate as the oracle does, on the fast path and with a full scan', async () => {
    let checked = 0;
    const kinds = new Map<string, number>();
    await fcAssert(
      fc.asyncProperty(caseArb, async (k) => {
        const { m, rs, purge } = buildCase(k);
        // At least one transaction must be left in the kept relay logs.
        fc.pre(rs.copies.some((c) => c.effective && c.master.kind === 'data' && rs.files.slice(purge).some((f) => f.name === c.relayFile)));
        const files = rs.files.slice(purge);
        const src = memSource(files, { chunk: 64 + (k.seed % 2000) });
        const coords = coordinates(m, rs, k.seed);
        for (const [i, T] of coords.entries()) {
          const want = oracle(m, rs, purge, T);
          const got = actual(await mapRelayPosition(src, paths(rs, purge), T, { readPosition: rs.readPosition }));
          assert.deepEqual(got, want, `fast path, ${T.file}:${T.position}\n${layout(rs, purge)}`);
          // The full scan on a sample (it reads everything, so it is the slow one).
          if (i % 5 === k.seed % 5) {
            const all = actual(await mapRelayPosition(src, paths(rs, purge), T, { readPosition: rs.readPosition, scanAll: true }));
            assert.deepEqual(all, want, `full scan, ${T.file}:${T.position}\n${layout(rs, purge)}`);
          }
          kinds.set(want.kind + (want.inside ? '/inside' : '') + (want.exact === false ? '/inexact' : ''), (kinds.get(want.kind) ?? 0) + 1);
          checked++;
        }
      }),
      { numRuns: Number(process.env.HA_FC_RUNS ?? 300), seed: Number(process.env.HA_FC_SEED ?? 20240611) },
    );
    for (const kind of ['found', 'found/inside', 'at-end', 'older', 'newer', 'not-boundary'])
      assert.ok(kinds.has(kind), `some coordinates are ${kind}: ${[...kinds.keys()].join(', ')}`);
    assert.ok(checked > 2000, `${checked} coordinates`);
  });
});

void MasterLog;
void encodeEvent;
