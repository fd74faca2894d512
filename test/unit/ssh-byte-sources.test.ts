// The binlog engine's SSH byte sources (src/ssh/byte-sources.ts) on a fake connection: commands
// run by the local shell (so the quoting and the head-probing script are really executed), byte
// ranges served from the local file. What is checked: the answers, and the commands asked for
// (one probe per 400 files, byte ranges that start at 1 MiB and double, no command for an empty range).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import type { ExecOptions, ExecResult } from '../../src/ssh/client.js';
import { RELAY_HEADS_PER_COMMAND, parseRelayHeads, relayHeadsCommand, sshRangeSource, sshRelaySource, type ByteSourceConnection } from '../../src/ssh/byte-sources.js';
import { shellQuote } from '../../src/ssh/quote.js';

const dir = mkdtempSync(join(tmpdir(), 'ha-byte-sources-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

function file(name: string, content: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

interface FakeConnection extends ByteSourceConnection {
  commands: string[];
  ranges: { path: string; start: number; length?: number }[];
}

/** A connection whose commands run in the local shell and whose byte ranges are read locally. */
function fakeConnection(): FakeConnection {
  const commands: string[] = [];
  const ranges: { path: string; start: number; length?: number }[] = [];
  const exec = async (command: string, _opts: ExecOptions): Promise<ExecResult> => {
    commands.push(command);
    const r = spawnSync('sh', ['-c', command], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, truncated: false, durationMs: 0 };
  };
  return {
    label: 'db1',
    settings: { user: 'ha', host: 'db1.example' },
    commands,
    ranges,
    exec,
    run: (argv: string[], opts: ExecOptions) => exec(argv.map(shellQuote).join(' '), opts),
    readRange(path: string, start: number, length?: number) {
      ranges.push({ path, start, length });
      const all = readFileSync(path);
      const slice = all.subarray(start, length === undefined ? undefined : start + length);
      // In pieces of 64 KiB, as a channel delivers them.
      const pieces: Buffer[] = [];
      for (let o = 0; o < slice.length; o += 65536) pieces.push(Buffer.from(slice.subarray(o, o + 65536)));
      return { stream: Readable.from(pieces), done: Promise.resolve() };
    },
  };
}

async function collect(it: AsyncIterable<Buffer> | Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it as AsyncIterable<Buffer>) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

describe('relayHeadsCommand / parseRelayHeads', () => {
  it('gives the size and head of every file, -1 for a missing one, whatever the file names hold', () => {
    const names = ['relay-bin.000001', "it's a $(relay) log.000002", 'spaces  and\ttab.000003', 'empty.000004'];
    const contents = [bytes(5000, 1), bytes(100, 2), bytes(4096, 3), Buffer.alloc(0)];
    const paths = names.map((n, i) => file(n, contents[i]!));
    const missing = join(dir, 'gone.000005');
    const r = spawnSync('sh', ['-c', relayHeadsCommand([...paths, missing], 1024)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const heads = parseRelayHeads(r.stdout, 5);
    assert.ok(heads);
    assert.deepEqual(
      heads.map((h) => h.size),
      [5000, 100, 4096, 0, -1],
    );
    for (const [i, c] of contents.entries()) assert.deepEqual(heads[i]!.head, c.subarray(0, 1024));
    assert.equal(heads[4]!.head.length, 0);
  });

  it('reports a missing answer as undefined, and junk sizes as -1', () => {
    assert.equal(parseRelayHeads('5 AAAA\n', 2), undefined);
    assert.equal(parseRelayHeads('', 1), undefined);
    assert.deepEqual(parseRelayHeads('x AAAA\n-1\n', 2), [
      { size: -1, head: Buffer.from([0, 0, 0]) },
      { size: -1, head: Buffer.alloc(0) },
    ]);
  });

  it('refuses a head size that is not a byte count (it goes into the command line)', () => {
    assert.throws(() => relayHeadsCommand(['a'], Number.NaN), /byte count/);
    assert.throws(() => relayHeadsCommand(['a'], -1), /byte count/);
  });
});

describe('sshRelaySource', () => {
  it('probes the heads of many relay logs in one command per 400 files', async () => {
    const conn = fakeConnection();
    // Answered here, not by the shell: 401 files would cost over a thousand processes.
    conn.exec = async (command) => {
      conn.commands.push(command);
      const asked = command.match(/relay-bin\.\d+/g) ?? [];
      return { code: 0, stdout: asked.map((f) => `300 ${Buffer.from(f).toString('base64')}\n`).join(''), stderr: '', truncated: false, durationMs: 0 };
    };
    const files = Array.from({ length: RELAY_HEADS_PER_COMMAND + 1 }, (_, i) => `/var/lib/mysql/relay-bin.${String(i + 1).padStart(6, '0')}`);
    const heads = await sshRelaySource(conn).probe!(files, 64);
    assert.equal(conn.commands.length, 2);
    assert.deepEqual(
      heads.map((h) => h.head.toString()),
      files.map((f) => f.slice(f.lastIndexOf('/') + 1)),
    );
  });

  it('fails naming the host when the probe does not answer for every file', async () => {
    const conn = fakeConnection();
    conn.exec = async () => ({ code: 0, stdout: '12 AAAA\n', stderr: '', truncated: false, durationMs: 0 });
    await assert.rejects(sshRelaySource(conn).probe!(['x', 'y'], 64), /ssh ha@db1\.example: reading the heads of the relay logs failed \(exit 0, 1 of 2 answers\)/);
  });

  it('reads a file in byte ranges that start at 1 MiB and double up to the largest chunk', async () => {
    const conn = fakeConnection();
    const content = bytes(7 * 2 ** 20 + 123, 5);
    const path = file('big.000001', content);
    const got = await collect(sshRelaySource(conn, { maxChunkBytes: 2 ** 22 }).read(path, 0));
    assert.ok(got.equals(content));
    assert.deepEqual(
      conn.ranges.map((r) => [r.start, r.length]),
      [
        [0, 2 ** 20],
        [2 ** 20, 2 ** 21],
        [3 * 2 ** 20, 2 ** 22],
        [7 * 2 ** 20, 2 ** 22],
      ],
    );
  });

  it('reads [start, end) without asking past end, and nothing for an empty range', async () => {
    const conn = fakeConnection();
    const content = bytes(3 * 2 ** 20, 6);
    const path = file('mid.000001', content);
    const src = sshRelaySource(conn);
    const got = await collect(src.read(path, 1000, 1000 + 2 ** 20 + 10));
    assert.ok(got.equals(content.subarray(1000, 1000 + 2 ** 20 + 10)));
    assert.deepEqual(
      conn.ranges.map((r) => [r.start, r.length]),
      [
        [1000, 2 ** 20],
        [1000 + 2 ** 20, 10],
      ],
    );
    conn.ranges.length = 0;
    assert.equal((await collect(src.read(path, 50, 50))).length, 0);
    assert.equal(conn.ranges.length, 0);
  });

  it('asks the size with wc, quoting the path', async () => {
    const conn = fakeConnection();
    const path = file("size 'quoted'.000001", bytes(777, 7));
    assert.equal(await sshRelaySource(conn).size(path), 777);
    assert.equal(conn.commands[0], `wc -c < ${shellQuote(path)}`);
    await assert.rejects(sshRelaySource(conn).size(join(dir, 'nope.000001')), /ssh ha@db1\.example: cannot read the size of/);
  });
});

describe('sshRangeSource', () => {
  it('names the file, reads [start, end) as one range, and nothing for an empty range', async () => {
    const conn = fakeConnection();
    const content = bytes(10_000, 8);
    const path = file('mysql-bin.000012', content);
    const src = sshRangeSource(conn, path);
    assert.equal(src.label, `db1:${path}`);
    assert.equal(src.name, 'mysql-bin.000012');
    assert.equal(sshRangeSource(conn, path, { label: 'server1:x' }).label, 'server1:x');
    assert.ok((await collect(src.open(4, 5000))).equals(content.subarray(4, 5000)));
    assert.ok((await collect(src.open(9000))).equals(content.subarray(9000)));
    assert.deepEqual(
      conn.ranges.map((r) => [r.start, r.length]),
      [
        [4, 4996],
        [9000, undefined],
      ],
    );
    assert.equal((await collect(src.open(300, 300))).length, 0);
    assert.equal(conn.ranges.length, 2);
  });

  it('asks the size with stat -L, and says which file it could not stat', async () => {
    const conn = fakeConnection();
    const path = file('mysql-bin.000013', bytes(4242, 9));
    assert.equal(await sshRangeSource(conn, path).size!(), 4242);
    assert.equal(conn.commands[0], `stat -L -c %s -- ${shellQuote(path)}`);
    await assert.rejects(sshRangeSource(conn, join(dir, 'mysql-bin.000099')).size!(), /ssh db1: cannot stat .*mysql-bin\.000099/);
  });
});
