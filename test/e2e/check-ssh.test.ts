// `ha check-ssh` against real lab hosts: each failure kind is produced for real (a cut network,
// a refused port, a key the host does not accept, a host key that is unknown or has changed).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN_PASSWORD, REPL_PASSWORD, Lab } from '../lab/lab.js';
import { runHa, runHaJson, type JsonFinding } from './ha.js';

interface HostResult {
  server: string;
  ok: boolean;
  error?: { kind: string; message: string };
  probe?: { binlogTool?: { path: string }; workdirWritable: boolean; binlogReads: { magicOk: boolean; file?: string }[] };
}
interface CheckSshJson {
  command: string;
  ok: boolean;
  exitCode: number;
  hosts: HostResult[];
  findings: JsonFinding[];
}

function host(json: CheckSshJson, id: string): HostResult {
  const h = json.hosts.find((x) => x.server === id);
  assert.ok(h, `no result for ${id} in ${JSON.stringify(json.hosts)}`);
  return h;
}

describe('ha check-ssh (lab)', () => {
  let lab: Lab;
  let conf: string;

  before(async () => {
    lab = await Lab.up({ hosts: 3, name: 'e2e-check-ssh' });
    conf = lab.writeConfig();
  });
  after(async () => {
    await lab?.down();
  });

  it('passes on a healthy lab: SSH, mysqlbinlog, remote_workdir and binlog reads on every host', async () => {
    const r = await runHaJson<CheckSshJson>(['check-ssh', '--conf', conf]);
    assert.equal(r.exitCode, 0, r.stdout);
    assert.equal(r.json.ok, true);
    assert.deepEqual(
      r.json.hosts.map((h) => h.server),
      ['server1', 'server2', 'server3'],
    );
    for (const h of r.json.hosts) {
      assert.equal(h.ok, true, JSON.stringify(h));
      assert.match(h.probe!.binlogTool!.path, /(mysqlbinlog|mariadb-binlog)$/);
      assert.equal(h.probe!.workdirWritable, true);
      // master: its binlog; slaves: binlog and relay log, each found through the index the server reports
      assert.equal(h.probe!.binlogReads.length, h.server === 'server1' ? 1 : 2, JSON.stringify(h.probe));
      assert.ok(h.probe!.binlogReads.every((b) => b.magicOk));
    }
    assert.ok(r.json.hosts.find((h) => h.server === 'server2')!.probe!.binlogReads.some((b) => /relay-bin\.\d+$/.test(b.file ?? '')));
  });

  it('prints a human report with per-host lines and a summary, and never a password', async () => {
    const r = await runHa(['check-ssh', '--conf', conf]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /server1 root@[\d.]+:22 ssh ok as root, host key SHA256:\S+ \(.*known_hosts:\d+\)/);
    assert.match(r.stdout, /All SSH checks passed — 0 errors, 0 warnings/);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(`${ADMIN_PASSWORD}|${REPL_PASSWORD}`));
  });

  it('fails clearly on an unreachable host (network cut)', async () => {
    await lab.cutNetwork(2);
    try {
      const short = lab.writeConfig({ file: join(lab.dir, 'short-timeout.cnf'), serverDefault: { ssh_connection_timeout: 2 } });
      const r = await runHaJson<CheckSshJson>(['check-ssh', '--conf', short]);
      assert.equal(r.exitCode, 1);
      assert.equal(r.json.ok, false);
      const h = host(r.json, 'server2');
      assert.equal(h.ok, false);
      assert.ok(['unreachable', 'timeout'].includes(h.error!.kind), h.error!.kind);
      assert.equal(host(r.json, 'server1').ok, true, 'other hosts are still checked');
      assert.equal(host(r.json, 'server3').ok, true);
      const human = await runHa(['check-ssh', '--conf', short]);
      assert.match(human.stdout, /server2 root@[\d.]+:22: (host unreachable|connection timed out)/);
      assert.match(human.stdout, /SSH checks failed on server2/);
    } finally {
      await lab.healNetwork(2);
    }
  });

  it('tells a refused port apart', async () => {
    const c = lab.writeConfig({ file: join(lab.dir, 'refused.cnf'), servers: { 3: { ssh_port: 2222 } } });
    const r = await runHaJson<CheckSshJson>(['check-ssh', '--conf', c]);
    assert.equal(r.exitCode, 1);
    assert.equal(host(r.json, 'server3').error!.kind, 'refused');
    assert.equal(host(r.json, 'server1').ok, true);
  });

  it('tells a handshake that never completes apart as a timeout', async () => {
    // A listener on the lab bridge that accepts TCP and never speaks SSH.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, lab.managerIp, resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const c = lab.writeConfig({ file: join(lab.dir, 'silent.cnf'), servers: { 2: { ssh_host: lab.managerIp, ssh_port: port, ssh_connection_timeout: 1 } } });
      const r = await runHaJson<CheckSshJson>(['check-ssh', '--conf', c]);
      assert.equal(r.exitCode, 1);
      const h = host(r.json, 'server2');
      assert.equal(h.error!.kind, 'timeout', JSON.stringify(h.error));
      assert.match(h.error!.message, /connection timed out/);
    } finally {
      silent.close();
    }
  });

  it('fails with an authentication error on a key the hosts do not accept', async () => {
    const c = lab.writeConfig({
      file: join(lab.dir, 'wrong-key.cnf'),
      serverDefault: { ssh_options: `-i ${lab.wrongSshKeyFile} -o UserKnownHostsFile=${lab.knownHostsFile}` },
    });
    const r = await runHaJson<CheckSshJson>(['check-ssh', '--conf', c]);
    assert.equal(r.exitCode, 1);
    for (const h of r.json.hosts) {
      assert.equal(h.error?.kind, 'auth', JSON.stringify(h));
      assert.match(h.error.message, new RegExp(`authentication failed: user root was refused with ${lab.wrongSshKeyFile.replace(/[.]/g, '\\.')}`));
    }
  });

  it('refuses an unknown host key, and accepts it only with the explicit opt-out', async () => {
    const lines = readFileSync(lab.knownHostsFile, 'utf8').split('\n').filter(Boolean);
    const ip2 = lab.hosts[1]!.ip;
    const partial = join(lab.dir, 'known_hosts.partial');
    writeFileSync(partial, lines.filter((l) => !l.startsWith(`${ip2} `)).join('\n') + '\n');
    const c = lab.writeConfig({ file: join(lab.dir, 'unknown-key.cnf'), serverDefault: { ssh_options: `-i ${lab.sshKeyFile} -o UserKnownHostsFile=${partial}` } });
    const r = await runHaJson<CheckSshJson>(['check-ssh', '--conf', c]);
    assert.equal(r.exitCode, 1);
    const h = host(r.json, 'server2');
    assert.equal(h.error!.kind, 'host-key-unknown');
    assert.match(h.error!.message, /no entry for this host in .*known_hosts\.partial; it offered ssh-ed25519 SHA256:/);
    assert.equal(host(r.json, 'server1').ok, true);

    const optOut = lab.writeConfig({
      file: join(lab.dir, 'opt-out.cnf'),
      serverDefault: { ssh_options: `-i ${lab.sshKeyFile} -o UserKnownHostsFile=${partial} -o StrictHostKeyChecking=no` },
    });
    const r2 = await runHaJson<CheckSshJson>(['check-ssh', '--conf', optOut]);
    assert.equal(r2.exitCode, 0, r2.stdout);
    assert.ok(r2.json.findings.some((f) => f.server === 'server2' && /not verified \(StrictHostKeyChecking=no\)/.test(f.message)));
  });

  it('reports a changed host key as a mismatch naming the known_hosts line', async () => {
    const lines = readFileSync(lab.knownHostsFile, 'utf8').split('\n').filter(Boolean);
    const [ip1, ip2] = [lab.hosts[0]!.ip, lab.hosts[1]!.ip];
    const key1 = lines.find((l) => l.startsWith(`${ip1} `))!.slice(ip1.length + 1);
    const swapped = join(lab.dir, 'known_hosts.swapped');
    writeFileSync(swapped, lines.map((l) => (l.startsWith(`${ip2} `) ? `${ip2} ${key1}` : l)).join('\n') + '\n');
    const c = lab.writeConfig({ file: join(lab.dir, 'mismatch.cnf'), serverDefault: { ssh_options: `-i ${lab.sshKeyFile} -o UserKnownHostsFile=${swapped}` } });
    const r = await runHaJson<CheckSshJson>(['check-ssh', '--conf', c]);
    assert.equal(r.exitCode, 1);
    const h = host(r.json, 'server2');
    assert.equal(h.error!.kind, 'host-key-mismatch');
    assert.match(h.error!.message, /differs from the key recorded at .*known_hosts\.swapped:2/);
  });

  it('fails when remote_workdir cannot be written', async () => {
    const blocker = join(lab.hosts[2]!.dir, 'not-a-dir');
    writeFileSync(blocker, 'a file where a directory should be\n');
    const c = lab.writeConfig({ file: join(lab.dir, 'workdir.cnf'), servers: { 3: { remote_workdir: join(blocker, 'sub') } } });
    const r = await runHaJson<CheckSshJson>(['check-ssh', '--conf', c]);
    assert.equal(r.exitCode, 1);
    assert.ok(r.json.findings.some((f) => f.code === 'REMOTE_WORKDIR_NOT_WRITABLE' && f.server === 'server3'));
    assert.equal(host(r.json, 'server3').ok, false);
  });

  it('exits 3 with the file named on a bad configuration, and 2 on bad usage', async () => {
    const bad = join(lab.dir, 'bad.cnf');
    writeFileSync(bad, '[server default]\nuser=ha\n[server1]\nhostname=10.0.0.1\nport=70000\n');
    const r = await runHa(['check-ssh', '--conf', bad]);
    assert.equal(r.exitCode, 3);
    assert.match(r.stdout, /bad\.cnf \[server1\] port: .*70000/);
    assert.equal((await runHa(['check-ssh'])).exitCode, 2);
    assert.equal((await runHa(['check-ssh', '--conf', conf, '--no-such-flag'])).exitCode, 2);
  });
});
