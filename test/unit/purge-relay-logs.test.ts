// The decisions of `ha purge-relay-logs` (which slave may be purged, which other slave still needs
// its relay logs) on recorded-looking states, and its remote shell scripts run for real with bash
// on a scratch directory standing in for a slave's relay-log directory.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { linkSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ServerConfig } from '../../src/config/types.js';
import type { SlaveStatus } from '../../src/mysql/types.js';
import { Observer, describeFiles, formatBytes, purgeHost, purgeableBefore, type PurgeDeps } from '../../src/purge/purge.js';
import { LINK_PREFIX, cleanupScript, linkScript, listScript, parseCleanup, parseLink, parseList } from '../../src/purge/remote.js';
import { judgePeer, judgePeers, judgeTarget, masterOf, selectServers, sqlCaughtUp, streamKey, type Observed } from '../../src/purge/rules.js';
import { fakeServer, fakeSlaveStatus, fakeState } from './fakes.js';

const pos = (file: number, position: number) => ({ file: `mysql-bin.${String(file).padStart(6, '0')}`, position });

function slaveObs(n: number, over: Partial<SlaveStatus> = {}): Observed {
  return {
    server: fakeServer(n),
    state: fakeState(n, { relayLogIndex: '/var/lib/mysql/relay-bin.index', slaveStatus: fakeSlaveStatus(1, over) }),
  };
}
const masterObs = (): Observed => ({ server: fakeServer(1), state: fakeState(1) });

describe('purge-relay-logs: which server may be purged', () => {
  it('a running slave of the master may be purged', () => {
    const all = [masterObs(), slaveObs(2), slaveObs(3)];
    assert.equal(judgeTarget(all[1]!, all).kind, 'purge');
  });

  it('the master and a server without replication have nothing to purge (not a failure)', () => {
    const lone: Observed = { server: fakeServer(4), state: fakeState(4) };
    const all = [masterObs(), slaveObs(2), lone];
    assert.deepEqual(judgeTarget(all[0]!, all), { kind: 'nothing', role: 'master', reason: 'the master: it has no relay logs to purge' });
    const v = judgeTarget(lone, all);
    assert.equal(v.kind === 'nothing' && v.role, 'not-a-slave');
  });

  it('refuses a stopped or failed SQL thread, an IO thread that cannot reach the master, an unreadable server', () => {
    const cases: [Partial<SlaveStatus>, RegExp][] = [
      [{ sqlRunning: false }, /SQL thread is stopped/],
      [{ sqlRunning: false, lastSqlErrno: 1062, lastSqlError: 'Duplicate entry' }, /SQL thread stopped on error 1062: Duplicate entry/],
      [{ ioRunning: 'Connecting', lastIoErrno: 2003, lastIoError: "Can't connect" }, /not connected to the master \(error 2003/],
    ];
    for (const [over, re] of cases) {
      const t = slaveObs(2, over);
      const v = judgeTarget(t, [masterObs(), t]);
      assert.equal(v.kind, 'refuse', JSON.stringify(over));
      assert.match((v as { reason: string }).reason, re);
    }
    const down: Observed = { server: fakeServer(2), error: 'connection refused' };
    assert.match((judgeTarget(down, [masterObs(), down]) as { reason: string }).reason, /cannot read its state: connection refused/);
  });

  it('a slave with relay_log_purge=1 purges by itself: a warning, nothing to do', () => {
    const t = slaveObs(2);
    t.state!.relayLogPurge = true;
    const v = judgeTarget(t, [masterObs(), t]);
    assert.equal(v.kind === 'nothing' && v.role, 'self-purging');
  });
});

describe('purge-relay-logs: the safety rule (other slaves must have executed up to the cut)', () => {
  const cut = pos(5, 1000);
  const stream = 'server1';

  it('a peer that executed up to the cut or beyond is fine; before it, the target waits for it', () => {
    const all = [masterObs()];
    assert.equal(judgePeer(slaveObs(3, { execPosition: pos(5, 1000) }), stream, cut, all, 10).kind, 'ok');
    assert.equal(judgePeer(slaveObs(3, { execPosition: pos(6, 4) }), stream, cut, all, 10).kind, 'ok');
    const w = judgePeer(slaveObs(3, { execPosition: pos(5, 999), readPosition: pos(5, 1000) }), stream, cut, all, 10);
    assert.equal(w.kind, 'wait');
    assert.match(
      (w as { need: { reason: string } }).need.reason,
      /server3 has executed only up to mysql-bin\.000005:999 \(read mysql-bin\.000005:1000\), not the events up to mysql-bin\.000005:1000/,
    );
  });

  it('binlog files compare by number, not as strings', () => {
    const v = judgePeer(slaveObs(3, { execPosition: { file: 'mysql-bin.1000000', position: 4 } }), stream, { file: 'mysql-bin.999999', position: 500 }, [masterObs()], 10);
    assert.equal(v.kind, 'ok');
  });

  it('a peer that cannot get there by itself blocks at once: SQL thread stopped, IO thread stopped short, MASTER_DELAY, no answer', () => {
    const behind = { execPosition: pos(4, 200), readPosition: pos(4, 900) };
    const cases: [Observed, RegExp][] = [
      [slaveObs(3, { ...behind, sqlRunning: false }), /its SQL thread is stopped/],
      [slaveObs(3, { ...behind, sqlRunning: false, lastSqlErrno: 1032 }), /SQL thread is stopped \(error 1032\)/],
      [slaveObs(3, { ...behind, ioRunning: 'No' }), /IO thread is not running, so it cannot get them/],
      [slaveObs(3, { ...behind, sqlDelay: 3600 }), /MASTER_DELAY=3600 s/],
      [{ server: fakeServer(3), error: 'connect ETIMEDOUT' }, /server3 does not answer \(connect ETIMEDOUT\): cannot tell which relay-log events it still needs/],
    ];
    for (const [peer, re] of cases) {
      const v = judgePeer(peer, stream, cut, [masterObs()], 10);
      assert.equal(v.kind, 'blocked', re.source);
      assert.match((v as { need: { reason: string } }).need.reason, re);
    }
  });

  it('a delay shorter than the wait, or an IO thread stopped after the cut, is only waited for', () => {
    assert.equal(judgePeer(slaveObs(3, { execPosition: pos(4, 200), sqlDelay: 5 }), stream, cut, [masterObs()], 10).kind, 'wait');
    assert.equal(judgePeer(slaveObs(3, { execPosition: pos(4, 200), readPosition: pos(6, 4), ioRunning: 'No' }), stream, cut, [masterObs()], 10).kind, 'wait');
  });

  it('slaves of another master are not judged against this stream', () => {
    const other = slaveObs(3, { masterHost: '10.9.0.99', masterServerId: 99, execPosition: pos(1, 4) });
    assert.equal(judgePeer(other, stream, cut, [masterObs()], 10).kind, 'ok');
    assert.equal(judgePeer(masterObs(), stream, cut, [masterObs()], 10).kind, 'ok');
  });

  it('judgePeers: any blocked peer blocks; otherwise any lagging one means wait', () => {
    const me = slaveObs(2);
    const s = me.state!.slaveStatus!;
    const lag = slaveObs(3, { execPosition: pos(4, 1) });
    const stopped = slaveObs(4, { execPosition: pos(4, 1), sqlRunning: false });
    assert.equal(judgePeers(me, s, cut, [masterObs(), me, slaveObs(3, { execPosition: cut })], 10).kind, 'ok');
    const w = judgePeers(me, s, cut, [masterObs(), me, lag], 10);
    assert.equal(w.kind, 'wait');
    const b = judgePeers(me, s, cut, [masterObs(), me, lag, stopped], 10);
    assert.equal(b.kind, 'blocked');
    assert.deepEqual(
      (b as { needs: { server: string }[] }).needs.map((n) => n.server),
      ['server4'],
    );
    // The target itself is never its own peer, however far behind it is.
    const selfLag = slaveObs(2, { execPosition: pos(1, 4), sqlRunning: true });
    assert.equal(judgePeers(selfLag, selfLag.state!.slaveStatus!, cut, [masterObs(), selfLag], 10).kind, 'ok');
  });

  it('masterOf/streamKey: by address and port, else by server_id, else the raw address', () => {
    const all = [masterObs(), slaveObs(2)];
    assert.equal(masterOf(fakeSlaveStatus(1), all), 'server1');
    assert.equal(masterOf(fakeSlaveStatus(1, { masterHost: 'db1.example', masterServerId: 1 }), all), 'server1');
    assert.equal(streamKey(fakeSlaveStatus(1, { masterHost: 'elsewhere', masterServerId: 77 }), all), 'elsewhere:3306');
  });

  it('sqlCaughtUp: exec reached read, or the SQL thread says it has read all relay log', () => {
    assert.equal(sqlCaughtUp(fakeSlaveStatus(1, { execPosition: pos(3, 10), readPosition: pos(3, 10) })), true);
    assert.equal(sqlCaughtUp(fakeSlaveStatus(1, { execPosition: pos(3, 5), readPosition: pos(3, 10), sqlRunningState: 'Reading event from the relay log' })), false);
    assert.equal(
      sqlCaughtUp(fakeSlaveStatus(1, { execPosition: pos(3, 5), readPosition: pos(3, 10), sqlRunningState: 'Slave has read all relay log; waiting for more updates' })),
      true,
    );
  });
});

describe('purge-relay-logs: --host and what the server would purge', () => {
  const servers = [fakeServer(1), fakeServer(2), fakeServer(3, { hostname: 'db3.example' })];
  it('selects by block name, hostname or address; an unknown name is an error listing the known ones', () => {
    assert.deepEqual(selectServers(servers, undefined), { servers });
    assert.deepEqual(
      (selectServers(servers, 'server2') as { servers: { id: string }[] }).servers.map((s) => s.id),
      ['server2'],
    );
    assert.deepEqual(
      (selectServers(servers, 'db3.example') as { servers: { id: string }[] }).servers.map((s) => s.id),
      ['server3'],
    );
    assert.deepEqual(
      (selectServers(servers, '10.9.0.12') as { servers: { id: string }[] }).servers.map((s) => s.id),
      ['server2'],
    );
    const bad = selectServers(servers, 'server9') as { error: string };
    assert.match(bad.error, /--host server9: no \[serverN\] block or hostname server9 in the configuration \(known: server1 \(10\.9\.0\.11\), server2/);
  });

  it("purgeableBefore: the files before the SQL thread's relay log; all but the last when it is not listed", () => {
    const files = [1, 2, 3, 4].map((n) => ({ entry: `./relay-bin.00000${n}`, bytes: 100 * n }));
    assert.deepEqual(
      purgeableBefore(files, 'relay-bin.000003').map((f) => f.entry),
      ['./relay-bin.000001', './relay-bin.000002'],
    );
    assert.deepEqual(purgeableBefore(files, 'relay-bin.000001'), []);
    assert.deepEqual(
      purgeableBefore(files, 'relay-bin.000099').map((f) => f.entry),
      ['./relay-bin.000001', './relay-bin.000002', './relay-bin.000003'],
    );
  });

  it('describes files and sizes for people', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(3 * 1024 ** 3), '3.0 GiB');
    const f = (n: number) => ({ file: `/r/relay-bin.00000${n}`, bytes: 1024 });
    assert.equal(describeFiles([f(1)]), '1 relay log (relay-bin.000001), 1.0 KiB');
    assert.equal(describeFiles([f(1), f(2), f(3), f(4)]), '4 relay logs (relay-bin.000001 … relay-bin.000004), 4.0 KiB');
  });
});

describe('purge-relay-logs: the remote scripts, run with bash on a scratch relay-log directory', () => {
  function scratch() {
    const dir = mkdtempSync(join(tmpdir(), 'ha-purge-unit-'));
    const datadir = join(dir, 'data');
    const relay = join(dir, 'relay dir'); // a space: every path must be quoted
    const work = join(dir, 'work');
    execFileSync('mkdir', ['-p', datadir, relay]);
    const names = ['relay-bin.000001', 'relay-bin.000002', 'relay-bin.000003'];
    names.forEach((n, i) => writeFileSync(join(relay, n), Buffer.alloc(1000 * (i + 1), i)));
    // One absolute entry, and relative ones resolved from the datadir, as the server writes them.
    writeFileSync(join(relay, 'relay-bin.index'), [join(relay, names[0]!), `../relay dir/${names[1]}`, `../relay dir/${names[2]}`, ''].join('\n'));
    return { dir, datadir, relay, work, index: join(relay, 'relay-bin.index'), names };
  }
  const bash = (script: string) => {
    try {
      return { code: 0, stdout: execFileSync('bash', ['-c', script], { encoding: 'utf8' }) };
    } catch (err) {
      const e = err as { status: number; stdout: string };
      return { code: e.status, stdout: e.stdout };
    }
  };

  it('list: every index entry with its size', () => {
    const s = scratch();
    try {
      const files = parseList(bash(listScript(s.datadir, s.index)).stdout);
      assert.deepEqual(
        files.map((f) => f.bytes),
        [1000, 2000, 3000],
      );
      assert.equal(files[1]!.entry, '../relay dir/relay-bin.000002');
    } finally {
      rmSync(s.dir, { recursive: true, force: true });
    }
  });

  it('link then cleanup: purged files are freed step by step, kept ones only unlinked, nothing left behind', () => {
    const s = scratch();
    try {
      const linked = bash(linkScript(s.datadir, s.index, 'abc123', s.work, '/nonexistent'));
      assert.equal(linked.code, 0, linked.stdout);
      const l = parseLink(linked.stdout);
      assert.equal(l.workdir, s.work);
      assert.deepEqual(
        l.linked.map((f) => f.bytes),
        [1000, 2000, 3000],
      );
      assert.equal(statSync(join(s.relay, s.names[0]!)).nlink, 2, 'not a hard link');
      // The "server" purges the first two (unlinks them and rewrites its index).
      for (const n of s.names.slice(0, 2)) unlinkSync(join(s.relay, n));
      writeFileSync(s.index, `../relay dir/${s.names[2]}\n`);
      // A link an interrupted earlier run left behind is removed too.
      writeFileSync(join(s.dir, 'orphan'), Buffer.alloc(700));
      linkSync(join(s.dir, 'orphan'), join(s.work, `${LINK_PREFIX}dead00.relay-bin.000000`));
      unlinkSync(join(s.dir, 'orphan'));
      const c = parseCleanup(bash(cleanupScript(s.datadir, s.index, s.work, 256, 0)).stdout);
      const byFile = new Map(c.removed.map((r) => [r.file, r]));
      assert.deepEqual(byFile.get('relay-bin.000001'), { file: 'relay-bin.000001', runId: 'abc123', bytes: 1000, freed: true });
      assert.deepEqual(byFile.get('relay-bin.000002'), { file: 'relay-bin.000002', runId: 'abc123', bytes: 2000, freed: true });
      assert.deepEqual(byFile.get('relay-bin.000003'), { file: 'relay-bin.000003', runId: 'abc123', bytes: 3000, freed: false });
      assert.deepEqual(byFile.get('relay-bin.000000'), { file: 'relay-bin.000000', runId: 'dead00', bytes: 700, freed: true });
      assert.deepEqual(c.index, ['../relay dir/relay-bin.000003']);
      assert.deepEqual(readdirSync(s.work), [], 'links left in the work directory');
      // The kept relay log is whole: its link was removed, never truncated.
      assert.equal(statSync(join(s.relay, s.names[2]!)).size, 3000);
      assert.deepEqual(readFileSync(join(s.relay, s.names[2]!)), Buffer.alloc(3000, 2));
    } finally {
      rmSync(s.dir, { recursive: true, force: true });
    }
  });

  it('link: without --workdir, remote_workdir on the same filesystem, else beside the relay logs', () => {
    const s = scratch();
    try {
      const same = parseLink(bash(linkScript(s.datadir, s.index, 'r1', undefined, s.work)).stdout);
      assert.equal(same.workdir, s.work);
      bash(cleanupScript(s.datadir, s.index, s.work));
      // /dev/shm is tmpfs, a filesystem of its own where the scratch directory is not (or the reverse).
      const devOf = (p: string) => statSync(p).dev;
      assert.notEqual(devOf('/dev/shm'), devOf(s.dir), `this test needs ${tmpdir()} and /dev/shm on different filesystems`);
      const beside = parseLink(bash(linkScript(s.datadir, s.index, 'r2', undefined, '/dev/shm')).stdout);
      assert.equal(beside.workdir, s.relay);
      bash(cleanupScript(s.datadir, s.index, s.relay));
      assert.deepEqual(
        readdirSync(s.relay).filter((f) => f.startsWith(LINK_PREFIX)),
        [],
      );
    } finally {
      rmSync(s.dir, { recursive: true, force: true });
    }
  });

  it('link: a failure (another filesystem, a missing file) removes the links already made and says why', () => {
    const s = scratch();
    try {
      unlinkSync(join(s.relay, s.names[1]!));
      const r = bash(linkScript(s.datadir, s.index, 'r3', s.work, '/nonexistent'));
      assert.equal(r.code, 1);
      const l = parseLink(r.stdout);
      assert.match(l.error ?? '', /relay-bin\.000002/);
      assert.deepEqual(readdirSync(s.work), []);
    } finally {
      rmSync(s.dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The whole per-slave sequence on fake servers and a fake SSH host: statements in order, and the
// restore that must happen whatever fails.

interface FakeWorld {
  log: string[];
  deps: PurgeDeps;
  observer: Observer;
  servers: ServerConfig[];
}

function fakeWorld(opts: { failOn?: RegExp; peer?: Partial<SlaveStatus> } = {}): FakeWorld {
  const log: string[] = [];
  const servers = [fakeServer(1), fakeServer(2), fakeServer(3)];
  const slaveState = (n: number, over: Partial<SlaveStatus> = {}) =>
    fakeState(n, { relayLogIndex: '/var/lib/mysql/relay-bin.index', slaveStatus: fakeSlaveStatus(1, { relayLogPosition: { file: 'relay-bin.000003', position: 400 }, ...over }) });
  const states = new Map([
    ['server1', fakeState(1)],
    ['server2', slaveState(2)],
    ['server3', slaveState(3, opts.peer)],
  ]);
  let flushed = false;
  const deps: PurgeDeps = {
    openServer: async (server) => {
      const session = {
        id: server.id,
        async query(sql: string) {
          log.push(`${server.id}: ${sql}`);
          if (opts.failOn?.test(sql)) throw new Error(`fake failure of ${sql}`);
          if (/^FLUSH/.test(sql)) flushed = true;
          if (/STOP (SLAVE|REPLICA) IO_THREAD/.test(sql)) states.get(server.id)!.slaveStatus!.ioRunning = 'No';
          if (/START (SLAVE|REPLICA) IO_THREAD/.test(sql)) states.get(server.id)!.slaveStatus!.ioRunning = 'Yes';
          return /GET_LOCK/.test(sql) ? [{ got: 1 }] : [];
        },
        async close() {},
      };
      return session;
    },
    readState: async (session) => structuredClone(states.get((session as unknown as { id: string }).id)!),
    ssh: async (server) => ({
      async exec(command: string) {
        const kind = command.includes('ln -- ') ? 'link' : command.includes('truncate') ? 'cleanup' : 'list';
        log.push(`${server.id}$ ${kind}`);
        const files = flushed ? ['./relay-bin.000003', './relay-bin.000004'] : ['./relay-bin.000001', './relay-bin.000002', './relay-bin.000003'];
        const stdout =
          kind === 'list'
            ? files.map((f) => `R 100 ${f}\n`).join('')
            : kind === 'link'
              ? `W /var/tmp\n${files.map((f) => `L 100 ${f}\n`).join('')}`
              : `F 100 /var/tmp/${LINK_PREFIX}ab12.relay-bin.000001\nF 100 /var/tmp/${LINK_PREFIX}ab12.relay-bin.000002\nK 100 /var/tmp/${LINK_PREFIX}ab12.relay-bin.000003\n${files.map((f) => `I ${f}\n`).join('')}`;
        return { code: 0, stdout, stderr: '', truncated: false, durationMs: 1 };
      },
    }),
    sleep: async () => undefined,
  };
  return { log, deps, observer: new Observer(servers, deps), servers };
}

const statements = (w: FakeWorld) => w.log.filter((l) => l.startsWith('server2') && !/SHOW|GET_LOCK|RELEASE_LOCK/.test(l));

describe('purge-relay-logs: one slave, start to end, on fakes', () => {
  it('pauses the IO thread, links, purges, restores relay_log_purge and the IO thread, then frees the copies', async () => {
    const w = fakeWorld();
    const r = await purgeHost(w.servers[1]!, w.observer, w.deps, { dryRun: false, waitSeconds: 5 });
    assert.equal(r.outcome, 'purged', r.message);
    assert.deepEqual(
      statements(w).map((l) => l.replace(/REPLICA/, 'SLAVE')),
      [
        'server2$ list',
        'server2: STOP SLAVE IO_THREAD',
        'server2$ link',
        'server2: SET GLOBAL relay_log_purge = 1',
        'server2: FLUSH NO_WRITE_TO_BINLOG RELAY LOGS',
        'server2$ list',
        'server2: SET GLOBAL relay_log_purge = 0',
        'server2: START SLAVE IO_THREAD',
        'server2$ cleanup',
      ],
    );
    assert.deepEqual(
      r.files.map((f) => f.file),
      ['/var/lib/mysql/relay-bin.000001', '/var/lib/mysql/relay-bin.000002'],
    );
    assert.equal(r.bytesFreed, 200);
    assert.deepEqual(r.relayLogPurge, { before: false, restored: true });
    assert.ok(
      w.log.some((l) => /RELEASE_LOCK/.test(l)),
      'lock not released',
    );
  });

  it('a failed FLUSH still puts relay_log_purge back, restarts the IO thread and removes the links', async () => {
    const w = fakeWorld({ failOn: /^FLUSH/ });
    const r = await purgeHost(w.servers[1]!, w.observer, w.deps, { dryRun: false, waitSeconds: 5 });
    assert.equal(r.outcome, 'failed');
    assert.match(r.message, /fake failure of FLUSH/);
    const s = statements(w).map((l) => l.replace(/REPLICA/, 'SLAVE'));
    assert.deepEqual(s.slice(s.indexOf('server2: FLUSH NO_WRITE_TO_BINLOG RELAY LOGS')), [
      'server2: FLUSH NO_WRITE_TO_BINLOG RELAY LOGS',
      'server2: SET GLOBAL relay_log_purge = 0',
      'server2: START SLAVE IO_THREAD',
      'server2$ cleanup',
    ]);
    assert.deepEqual(r.relayLogPurge, { before: false, restored: true });
  });

  it('a restore that fails is an error naming the statement to run by hand', async () => {
    const w = fakeWorld({ failOn: /relay_log_purge = 0/ });
    const r = await purgeHost(w.servers[1]!, w.observer, w.deps, { dryRun: false, waitSeconds: 5 });
    assert.equal(r.outcome, 'failed');
    assert.match(r.message, /relay_log_purge could NOT be set back to 0: .* set it by hand: SET GLOBAL relay_log_purge=0/);
    assert.equal(w.log.filter((l) => /relay_log_purge = 0/.test(l)).length, 3, 'tried on fresh sessions');
  });

  it('a slave that cannot catch up skips the purge before the IO thread is touched', async () => {
    const w = fakeWorld({ peer: { sqlRunning: false, execPosition: { file: 'mysql-bin.000003', position: 10 } } });
    const r = await purgeHost(w.servers[1]!, w.observer, w.deps, { dryRun: false, waitSeconds: 5 });
    assert.equal(r.outcome, 'skipped');
    assert.deepEqual(
      r.neededBy?.map((n) => n.server),
      ['server3'],
    );
    assert.deepEqual(statements(w), ['server2$ list']);
  });

  it('a slave still behind when the wait ends: the IO thread is started again, nothing purged', async () => {
    const w = fakeWorld({ peer: { execPosition: { file: 'mysql-bin.000003', position: 10 } } });
    const r = await purgeHost(w.servers[1]!, w.observer, w.deps, { dryRun: false, waitSeconds: 0 });
    assert.equal(r.outcome, 'skipped');
    assert.match(r.message, /server3 still needs these relay logs/);
    assert.deepEqual(
      statements(w).map((l) => l.replace(/REPLICA/, 'SLAVE')),
      ['server2$ list', 'server2: STOP SLAVE IO_THREAD', 'server2: START SLAVE IO_THREAD'],
    );
  });

  it('--dry-run and a busy manager change nothing', async () => {
    const w = fakeWorld();
    const r = await purgeHost(w.servers[1]!, w.observer, w.deps, { dryRun: true, waitSeconds: 5 });
    assert.equal(r.outcome, 'would-purge');
    assert.deepEqual(
      r.files.map((f) => f.file),
      ['/var/lib/mysql/relay-bin.000001', '/var/lib/mysql/relay-bin.000002'],
    );
    assert.deepEqual(statements(w), ['server2$ list']);
    const b = fakeWorld();
    const busy = await purgeHost(b.servers[1]!, b.observer, b.deps, { dryRun: false, waitSeconds: 5, managerBusy: () => 'the manager is failing over' });
    assert.equal(busy.outcome, 'skipped');
    assert.deepEqual(statements(b), []);
  });
});
