// src/ssh against a real lab sshd: exit codes and output, deadlines, byte-range streaming of a
// remote binlog (compared with the bytes on disk), and connection reuse through the pool.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Readable } from 'node:stream';
import type { SshSettings } from '../../src/config/types.js';
import { SshCommandTimeoutError, SshConnection, SshPool } from '../../src/ssh/index.js';
import { Lab } from '../lab/lab.js';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('src/ssh (lab)', () => {
  let lab: Lab;
  let settings: SshSettings;
  let conn: SshConnection;

  before(async () => {
    lab = await Lab.up({ hosts: 2, name: 'e2e-ssh' });
    settings = {
      host: lab.hosts[0]!.ip,
      port: 22,
      user: 'root',
      identityFiles: [lab.sshKeyFile],
      knownHostsFiles: [lab.knownHostsFile],
      strictHostKeyChecking: true,
      connectTimeoutSeconds: 5,
    };
    conn = await SshConnection.connect(settings, 'server1');
    // Enough binlog to stream: a few hundred rows on the master.
    await lab.sql(1, 'CREATE TABLE hatest.blob_rows (id INT PRIMARY KEY, b TEXT)');
    for (let i = 0; i < 20; i++) {
      await lab.sql(1, `INSERT INTO hatest.blob_rows VALUES (${i}, REPEAT('x', 4000))`);
    }
  });
  after(async () => {
    conn?.close();
    await lab?.down();
  });

  it('runs a command and returns its exit code, stdout and stderr', async () => {
    const r = await conn.exec('echo out; echo err >&2; exit 3', { timeoutMs: 5000 });
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    const argv = await conn.run(['printf', '%s|', "it's", 'a b', '$(id)'], { timeoutMs: 5000 });
    assert.equal(argv.stdout, "it's|a b|$(id)|", 'arguments arrive as words, never as shell syntax');
  });

  it('gives up on a command at its deadline and says what it waited for', async () => {
    const t0 = Date.now();
    await assert.rejects(conn.exec('sleep 10', { timeoutMs: 300, what: 'a sleeping command' }), (e: unknown) => {
      assert.ok(e instanceof SshCommandTimeoutError);
      assert.match((e as Error).message, /timed out after 300 ms waiting for a sleeping command/);
      return true;
    });
    assert.ok(Date.now() - t0 < 5000);
    const again = await conn.exec('echo still usable', { timeoutMs: 5000 });
    assert.equal(again.stdout, 'still usable\n', 'the connection survives a timed-out command');
  });

  it('streams byte ranges of a remote binlog exactly', async () => {
    const [ms] = await lab.sql(1, 'SHOW MASTER STATUS');
    const file = join(lab.hosts[0]!.binlogDir, String(ms!.File));
    const local = readFileSync(file); // the lab shares one filesystem: the test may compare locally
    assert.ok(local.length > 60_000, `binlog is ${local.length} bytes`);

    const whole = conn.readRange(file, 0);
    assert.deepEqual(await collect(whole.stream), local);
    await whole.done;

    const mid = conn.readRange(file, 4, 1000);
    assert.deepEqual(await collect(mid.stream), local.subarray(4, 1004));

    const tail = conn.readRange(file, local.length - 123);
    assert.deepEqual(await collect(tail.stream), local.subarray(local.length - 123));

    const missing = conn.readRange(join(lab.hosts[0]!.binlogDir, 'no-such.000001'), 0);
    await assert.rejects(collect(missing.stream), /reading .*no-such\.000001 failed \(exit 1\)/);
  });

  it('keeps one connection per host for the run and reconnects after it drops', async () => {
    const pool = new SshPool();
    try {
      const a = await pool.get('server1', settings);
      const b = await pool.get('server1', settings);
      assert.equal(a, b, 'the same connection is reused');
      a.close();
      const c = await pool.get('server1', settings);
      assert.notEqual(c, a, 'a closed connection is replaced');
      assert.equal((await c.exec('echo ok', { timeoutMs: 5000 })).stdout, 'ok\n');
    } finally {
      await pool.closeAll();
    }
  });
});
