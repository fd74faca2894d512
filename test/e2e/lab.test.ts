// The test lab itself, for real: namespaces, sshd, MariaDB replication, faults, write load, teardown.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { execa } from 'execa';
import { Client } from 'ssh2';
import { Lab, type LabHost } from '../lab/lab.js';

/** Resolves to the error code of a TCP connect (undefined when it connects). */
function connectError(ip: string, port: number, timeoutMs = 1500): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = net.connect({ host: ip, port });
    const t = setTimeout(() => {
      s.destroy();
      resolve('TIMEOUT');
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve(undefined);
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(t);
      resolve(e.code ?? 'ERROR');
    });
  });
}

async function netnsNames(): Promise<string[]> {
  const { stdout } = await execa('ip', ['netns', 'list']);
  return stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);
}

async function linkNames(): Promise<string[]> {
  const { stdout } = await execa('ip', ['-o', 'link', 'show']);
  return stdout
    .split('\n')
    .map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '')
    .filter(Boolean);
}

/** Live (non-zombie) process? */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function sshArgs(h: LabHost, key: string, knownHosts: string, command: string): string[] {
  return [
    '-i',
    key,
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'ConnectTimeout=5',
    `root@${h.ip}`,
    command,
  ];
}

describe('lab: 3 hosts, file/position replication', { timeout: 120_000 }, () => {
  let lab: Lab;

  before(async () => {
    const t = Date.now();
    lab = await Lab.up({ hosts: 3, name: 'e2e-lab' });
    console.log(`# lab ${lab.id} up in ${Date.now() - t} ms: ${JSON.stringify(lab.timings)}`);
  });
  after(async () => {
    await lab?.down();
  });

  it('gives every host its own namespace, address and daemons', async () => {
    assert.equal(lab.hosts.length, 3);
    assert.match(lab.subnet, /^10\.199\.\d+\.0\/24$/);
    const names = await netnsNames();
    for (const h of lab.hosts) {
      assert.ok(names.includes(h.netns), `${h.netns} exists`);
      assert.ok(h.netns.length <= 15 && h.veth.length <= 15);
      assert.ok(running(h.mysqldPid), `${h.name} mariadbd runs`);
      assert.ok(running(h.sshdPid), `${h.name} sshd runs`);
      const [row] = await lab.sql(h, 'SELECT @@server_id AS id, @@bind_address AS bind, @@port AS port, @@log_bin AS log_bin');
      assert.equal(Number(row!.id), h.index);
      assert.equal(row!.bind, h.ip);
      assert.equal(Number(row!.port), 3306);
      assert.equal(Number(row!.log_bin), 1);
      const ip = await lab.exec(h, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
      assert.match(ip.stdout, new RegExp(`inet ${h.ip.replace(/\./g, '\\.')}/24`));
    }
  });

  it('replicates from host 1 to the others (file/position), slaves read_only', async () => {
    for (const h of lab.hosts.slice(1)) {
      const [st] = await lab.sql(h, 'SHOW SLAVE STATUS');
      assert.equal(st!.Master_Host, lab.hosts[0]!.ip);
      assert.equal(st!.Slave_IO_Running, 'Yes');
      assert.equal(st!.Slave_SQL_Running, 'Yes');
      assert.equal(st!.Using_Gtid, 'No');
      const [ro] = await lab.sql(h, 'SELECT @@read_only AS ro, @@relay_log_purge AS rlp');
      assert.equal(Number(ro!.ro), 1);
      assert.equal(Number(ro!.rlp), 0);
    }
    await lab.sql(1, 'CREATE TABLE hatest.t1 (id INT PRIMARY KEY, v VARCHAR(20))');
    await lab.sql(1, "INSERT INTO hatest.t1 VALUES (1, 'one'), (2, 'two')");
    await lab.waitForSlaveSync(undefined, 10_000);
    for (const h of lab.hosts.slice(1)) {
      const rows = await lab.sql(h, 'SELECT id, v FROM hatest.t1 ORDER BY id');
      assert.deepEqual(
        rows.map((r): unknown[] => [r.id, r.v]),
        [
          [1, 'one'],
          [2, 'two'],
        ],
      );
    }
  });

  it('each sshd accepts the lab key, is verified by known_hosts, and rejects a wrong key', async () => {
    const known = fs.readFileSync(lab.knownHostsFile, 'utf8').trim().split('\n');
    assert.equal(known.length, 3);
    const emptyKnown = `${lab.dir}/empty-known-hosts`;
    fs.writeFileSync(emptyKnown, '');
    for (const h of lab.hosts) {
      assert.ok(
        known.some((l) => l.startsWith(`${h.ip} ssh-ed25519 AAAA`)),
        `known_hosts has ${h.ip}`,
      );
      const ok = await execa('ssh', sshArgs(h, lab.sshKeyFile, lab.knownHostsFile, 'true'), { reject: false });
      assert.equal(ok.exitCode, 0, `ssh to ${h.name}: ${ok.stderr}`);
      const wrong = await execa('ssh', sshArgs(h, lab.wrongSshKeyFile, lab.knownHostsFile, 'true'), { reject: false });
      assert.notEqual(wrong.exitCode, 0);
      assert.match(wrong.stderr, /Permission denied/);
      const unknown = await execa('ssh', sshArgs(h, lab.sshKeyFile, emptyKnown, 'true'), { reject: false });
      assert.notEqual(unknown.exitCode, 0);
      assert.match(unknown.stderr, /Host key verification failed/);
    }
  });

  it('the ssh2 library (what ha uses) logs in with the lab key and verifies the host key', async () => {
    const h = lab.hosts[1]!;
    const knownLine = fs
      .readFileSync(lab.knownHostsFile, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${h.ip} `))!;
    const expected = Buffer.from(knownLine.split(' ')[2]!, 'base64');
    const out = await new Promise<string>((resolve, reject) => {
      const c = new Client();
      c.on('ready', () => {
        c.exec('echo hello-from-$(cat /proc/sys/kernel/hostname)', (err, stream) => {
          if (err) return reject(err);
          let data = '';
          stream.on('data', (d: Buffer) => (data += d.toString()));
          stream.on('close', () => {
            c.end();
            resolve(data.trim());
          });
        });
      });
      c.on('error', reject);
      c.connect({
        host: h.ip,
        port: h.sshPort,
        username: 'root',
        privateKey: fs.readFileSync(lab.sshKeyFile),
        hostVerifier: (key: Buffer) => key.equals(expected),
        readyTimeout: 5000,
      });
    });
    assert.match(out, /^hello-from-/);
  });

  it("SSH commands do not run root's .bashrc (pyenv), and the hiding mount does not leak", async () => {
    const r = await lab.ssh(2, 'echo "PYENV_ROOT=${PYENV_ROOT:-unset}"; wc -c < ~/.bashrc');
    assert.equal(r.exitCode, 0, r.stderr);
    const [env, size] = r.stdout.trim().split('\n');
    assert.equal(env, 'PYENV_ROOT=unset');
    assert.equal(size!.trim(), '0');
    // The root namespace has no bind mount of the lab's empty file (the mount is private to sshd).
    assert.ok(!fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(lab.dir), 'no lab mount in the root namespace');
    assert.ok(!fs.readFileSync('/proc/1/mountinfo', 'utf8').includes(lab.dir), 'no lab mount in pid 1 namespace');
    const t = Date.now();
    for (let i = 0; i < 5; i++) assert.equal((await lab.ssh(1, 'true')).exitCode, 0);
    const per = (Date.now() - t) / 5;
    console.log(`# ssh round trip (new connection each): ${per.toFixed(0)} ms`);
    assert.ok(per < 1000, `ssh too slow: ${per} ms per command`);
  });

  it('the write load acks rows and none are missing on the master or the slaves', async () => {
    const load = lab.startWriteLoad({ target: () => lab.host(1) });
    await load.waitForAcks(100, 15_000);
    const res = await load.stop();
    assert.ok(res.acked.length >= 100);
    assert.equal(res.errors, 0, res.errorSamples.join('; '));
    assert.deepEqual(
      res.acked.map((a) => a.n),
      res.acked.map((_, i) => i + 1),
      'numbers 1, 2, 3, ...',
    );
    assert.ok(res.longestGapMs < 2000, `longest gap ${res.longestGapMs} ms`);
    assert.ok(res.firstAckAfter(res.acked[10]!.at)!.n <= 11);
    assert.deepEqual(await load.verifyOn(1), []);
    await lab.waitForSlaveSync(undefined, 10_000);
    assert.deepEqual(await res.verifyOn(2), []);
    assert.deepEqual(await res.verifyOn(3), []);
    const rate = res.acked.length / ((res.stoppedAt - res.startedAt) / 1000);
    console.log(`# write load: ${res.acked.length} acks at ${rate.toFixed(0)}/s`);
    // A deleted row is reported as lost.
    await lab.sql(1, 'DELETE FROM hatest.load WHERE id = 7');
    assert.deepEqual(await res.verifyOn(1), [7]);
    assert.deepEqual(res.lostWrites(new Set([1, 2, 3])).slice(0, 2), [4, 5]);
  });

  it('the write load (app user) is refused by a read_only slave and follows target() after errors', async () => {
    let target = 3;
    const load = lab.startWriteLoad({ target: () => lab.host(target), table: 'load2' });
    const deadline = Date.now() + 5000;
    while (load.errors < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(load.errors >= 3, 'inserts on a read_only slave fail');
    assert.equal(load.ackedCount, 0);
    assert.equal((await lab.sql(3, "SHOW TABLES FROM hatest LIKE 'load2'")).length, 0, 'nothing created on the slave');
    target = 1;
    await load.waitForAcks(20, 10_000);
    const res = await load.stop();
    assert.ok(
      res.errorSamples.some((m) => /read-only/i.test(m)),
      res.errorSamples.join('; '),
    );
    assert.deepEqual(await res.verifyOn(1), []);
    await lab.waitForSlaveSync(undefined, 10_000);
    assert.deepEqual(await res.verifyOn(3), []);
  });

  it('killMysqld makes the port refuse; startMysqld brings the server back and it replicates again', async () => {
    const h = lab.host(3);
    const pid = h.mysqldPid;
    await lab.killMysqld(3);
    assert.equal(running(pid), false);
    assert.equal(h.mysqldPid, 0);
    assert.equal(await connectError(h.ip, 3306), 'ECONNREFUSED');
    assert.equal(await connectError(h.ip, 22), undefined, 'sshd still up');
    await lab.sql(1, "INSERT INTO hatest.t1 VALUES (3, 'three')");
    await lab.startMysqld(3);
    assert.notEqual(h.mysqldPid, pid);
    assert.equal(await connectError(h.ip, 3306), undefined);
    await lab.waitForSlaveSync([3], 15_000);
    const rows = await lab.sql(3, 'SELECT v FROM hatest.t1 WHERE id = 3');
    assert.equal(rows[0]?.v, 'three');
  });

  it('restartMysqld can run a host without binary log for one run', async () => {
    await lab.restartMysqld(3, { log_bin: 'OFF' });
    let [r] = await lab.sql(3, 'SELECT @@log_bin AS b');
    assert.equal(Number(r!.b), 0);
    await lab.restartMysqld(3);
    [r] = await lab.sql(3, 'SELECT @@log_bin AS b');
    assert.equal(Number(r!.b), 1);
    await lab.waitForSlaveSync([3], 15_000);
  });

  it('cutNetwork makes a host unreachable (SSH and MySQL); healNetwork restores it', async () => {
    const h = lab.host(2);
    await lab.cutNetwork(2);
    const [sshErr, myErr] = await Promise.all([connectError(h.ip, 22, 1500), connectError(h.ip, 3306, 1500)]);
    assert.ok(sshErr, 'ssh port unreachable');
    assert.ok(myErr, 'mysql port unreachable');
    const r = await lab.ssh(2, 'true', { connectTimeoutSeconds: 1 });
    assert.notEqual(r.exitCode, 0);
    // Other hosts are unaffected, and the lab's own socket access still works.
    assert.equal(await connectError(lab.host(3).ip, 22), undefined);
    assert.equal((await lab.sql(2, 'SELECT 1 AS one'))[0]!.one, 1);
    await lab.healNetwork(2);
    assert.equal(await connectError(h.ip, 3306), undefined);
    assert.equal((await lab.ssh(2, 'true')).exitCode, 0);
  });

  it('cutNetwork managerOnly cuts the manager off but the hosts still reach each other', async () => {
    const h = lab.host(2);
    await lab.cutNetwork(2, { managerOnly: true });
    assert.ok(await connectError(h.ip, 3306, 1000), 'manager cannot reach h2');
    assert.equal(await connectError(lab.host(3).ip, 3306), undefined, 'manager still reaches h3');
    // h3 reaches h2 (bash's /dev/tcp inside h3's namespace), and h2 still replicates from h1.
    const probe = await lab.exec(3, ['bash', '-c', `exec 3<>/dev/tcp/${h.ip}/3306 && echo connected`]);
    assert.equal(probe.stdout.trim(), 'connected', probe.stderr);
    await lab.sql(1, "INSERT INTO hatest.t1 VALUES (4, 'four')");
    await lab.waitForSlaveSync([2], 10_000);
    assert.equal((await lab.sql(2, 'SELECT v FROM hatest.t1 WHERE id = 4'))[0]?.v, 'four');
    await lab.healNetwork(2);
    assert.equal(h.networkCut, false);
    assert.equal(await connectError(h.ip, 3306), undefined);
  });

  it('stopSlaveIo / startSlaveIo control the IO thread', async () => {
    await lab.stopSlaveIo(3);
    let [st] = await lab.sql(3, 'SHOW SLAVE STATUS');
    assert.equal(st!.Slave_IO_Running, 'No');
    assert.equal(st!.Slave_SQL_Running, 'Yes');
    await lab.startSlaveIo(3);
    await lab.waitForSlaveSync([3], 10_000);
    [st] = await lab.sql(3, 'SHOW SLAVE STATUS');
    assert.equal(st!.Slave_IO_Running, 'Yes');
  });

  it('writeConfig writes an MHA app config for the lab', () => {
    const file = lab.writeConfig({
      serverDefault: { ping_interval: 1 },
      servers: { 2: { candidate_master: 1 } },
      omitHosts: [3],
    });
    const text = fs.readFileSync(file, 'utf8');
    assert.match(text, /^\[server default\]$/m);
    assert.match(text, /^user=ha$/m);
    assert.match(text, /^repl_user=repl$/m);
    assert.match(text, /^ssh_user=root$/m);
    assert.match(text, new RegExp(`^ssh_options=-i ${lab.sshKeyFile} -o UserKnownHostsFile=${lab.knownHostsFile}$`, 'm'));
    assert.match(text, /^ping_interval=1$/m);
    assert.match(text, new RegExp(`^\\[server1\\]\\nhostname=${lab.host(1).ip.replace(/\./g, '\\.')}\\nport=3306$`, 'm'));
    assert.match(text, new RegExp(`^master_binlog_dir=${lab.host(2).binlogDir}$`, 'm'));
    assert.match(text, new RegExp(`^remote_workdir=${lab.host(2).remoteWorkdir}$`, 'm'));
    assert.match(text, /^candidate_master=1$/m);
    assert.doesNotMatch(text, /^\[server3\]$/m);
  });

  it('a second lab up at the same time gets its own subnet, names and processes', async () => {
    const other = await Lab.up({ hosts: 2 });
    try {
      assert.notEqual(other.id, lab.id);
      assert.notEqual(other.subnet, lab.subnet);
      assert.notEqual(other.bridge, lab.bridge);
      const mine = new Set(lab.hosts.flatMap((h) => [h.netns, h.veth, h.ip]));
      for (const h of other.hosts) {
        assert.ok(!mine.has(h.netns) && !mine.has(h.veth) && !mine.has(h.ip));
      }
      await other.sql(1, 'INSERT INTO hatest.load VALUES (1, 1, @@server_id)');
      await other.waitForSlaveSync(undefined, 10_000);
      assert.equal((await other.sql(2, 'SELECT COUNT(*) AS c FROM hatest.load'))[0]!.c, 1);
      assert.ok(Lab.list().some((l) => l.id === other.id && l.ownerAlive));
    } finally {
      await other.down();
    }
    assert.ok(!Lab.list().some((l) => l.id === other.id));
    assert.ok(!(await linkNames()).includes(other.bridge));
  });

  it('down() leaves no namespace, process, interface or directory behind', async () => {
    // An open SSH session: its sshd child and shell run inside the namespace and must go too.
    const session = execa('ssh', sshArgs(lab.host(1), lab.sshKeyFile, lab.knownHostsFile, 'sleep 60'), { reject: false });
    await new Promise((r) => setTimeout(r, 500));
    const pids = lab.hosts.flatMap((h) => [h.mysqldPid, h.sshdPid]);
    const netns = lab.hosts.map((h) => h.netns);
    const links = [lab.bridge, ...lab.hosts.map((h) => h.veth)];
    const { dir, stateFile } = lab;
    const t = Date.now();
    await lab.down();
    console.log(`# lab down in ${Date.now() - t} ms`);
    await lab.down(); // idempotent
    for (const pid of pids) assert.equal(running(pid), false, `pid ${pid} gone`);
    const nsNow = await netnsNames();
    for (const n of netns) assert.ok(!nsNow.includes(n), `${n} removed`);
    const linksNow = await linkNames();
    for (const l of links) assert.ok(!linksNow.includes(l), `${l} removed`);
    assert.equal(fs.existsSync(dir), false);
    assert.equal(fs.existsSync(stateFile), false);
    const { stdout } = await execa('ip', ['-4', '-o', 'addr', 'show']);
    assert.ok(!stdout.includes(`${lab.managerIp}/`), 'bridge address gone');
    const s = await session;
    assert.notEqual(s.exitCode, 0, 'the open ssh session was ended');
  });
});

describe('lab: GTID replication', { timeout: 60_000 }, () => {
  let lab: Lab;
  before(async () => {
    const t = Date.now();
    lab = await Lab.up({ hosts: 3, gtid: true });
    console.log(`# gtid lab ${lab.id} up in ${Date.now() - t} ms`);
  });
  after(async () => {
    await lab?.down();
  });

  it('slaves use Slave_Pos and end up at the same GTID position', async () => {
    for (const h of lab.hosts.slice(1)) {
      const [st] = await lab.sql(h, 'SHOW SLAVE STATUS');
      assert.equal(st!.Using_Gtid, 'Slave_Pos');
      assert.equal(st!.Slave_IO_Running, 'Yes');
      assert.equal(st!.Slave_SQL_Running, 'Yes');
    }
    for (const h of lab.hosts) {
      const [r] = await lab.sql(h, 'SELECT @@gtid_strict_mode AS s');
      assert.equal(Number(r!.s), 1);
    }
    const load = lab.startWriteLoad({ target: () => lab.host(1) });
    await load.waitForAcks(30);
    const res = await load.stop();
    await lab.waitForSlaveSync(undefined, 10_000);
    const [m] = await lab.sql(1, 'SELECT @@gtid_binlog_pos AS p');
    assert.match(String(m!.p), /^0-1-\d+$/);
    for (const h of lab.hosts.slice(1)) {
      const [r] = await lab.sql(h, 'SELECT @@gtid_slave_pos AS p');
      assert.equal(r!.p, m!.p);
      assert.deepEqual(await res.verifyOn(h), []);
    }
  });
});
