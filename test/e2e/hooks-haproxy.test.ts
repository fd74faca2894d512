// conf/hooks/master_ip_failover.haproxy and master_ip_online_change.haproxy on the lab, with
// HAProxy run from the sample conf/haproxy.cfg (addresses swapped for the lab's): a client that
// knows only HAProxy's writer frontend keeps writing through `ha switch --online` and through a
// failover by `ha manager` (kill -9 of the master's mysqld), with no acknowledged write lost; the
// old master's server is in maintenance with no session left, the new master's is the only one
// ready, and the state HAProxy reloads from names the new master.
// HAProxy runs inside host 3's namespace (an application host's HAProxy, reached at h3:3307), so
// the lab's teardown stops it even if this process dies; after() stops it by pid first. The
// failover hook talks to the unix stats socket and maps hosts by address; the online-change hook
// talks to the TCP stats socket and maps hosts with --server-map.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { Lab } from '../lab/lab.js';
import { waitFor } from '../lab/proc.js';
import { HOOKS_DIR, failoverByManager, newMasterArgs, origMasterArgs, resumedOn, runScript, startLoadAt, switchOnline } from './hooks-harness.js';

const SAMPLE = join(HOOKS_DIR, '..', 'haproxy.cfg');
const FRONTEND_PORT = 3307;
const ADMIN_PORT = 9999;

/** Replaces `from` in text, failing when the sample no longer has it (the test would drift). */
function swap(text: string, from: string | RegExp, to: string): string {
  assert.ok(typeof from === 'string' ? text.includes(from) : from.test(text), `conf/haproxy.cfg no longer contains ${from}`);
  return text.replaceAll(from, to);
}

describe('HAProxy hook scripts (lab)', () => {
  let lab: Lab;
  let conf: string;
  let haproxy: ChildProcess | undefined;
  let sock: string;
  let stateFile: string;
  let master = 1;
  let failoverSite: string[];

  const api = async (cmd: string): Promise<string> => (await execa('socat', ['-', `UNIX-CONNECT:${sock}`], { input: `${cmd}\n`, timeout: 5000 })).stdout;
  /** db1..dbN → [admin_state, op_state], from `show servers state`. */
  const serverStates = async (): Promise<Record<string, { admin: number; op: number }>> => {
    const out: Record<string, { admin: number; op: number }> = {};
    for (const line of (await api('show servers state mysql_writer')).split('\n')) {
      const f = line.split(' ');
      if (/^\d+$/.test(f[0] ?? '') && f[1] === 'mysql_writer') out[f[3]!] = { op: Number(f[5]), admin: Number(f[6]) };
    }
    return out;
  };
  /** Current sessions per server (show stat's scur). */
  const sessions = async (): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    for (const line of (await api('show stat')).split('\n')) {
      const f = line.split(',');
      if (f[0] === 'mysql_writer' && /^db\d+$/.test(f[1] ?? '')) out[f[1]!] = Number(f[4]);
    }
    return out;
  };
  const assertOnlyWriter = async (h: number, when: string) => {
    const st = await serverStates();
    assert.deepEqual(
      Object.keys(st).sort(),
      lab.hosts.map((x) => `db${x.index}`),
      `${when}: servers of mysql_writer`,
    );
    for (const [name, s] of Object.entries(st)) {
      if (name === `db${h}`) assert.ok((s.admin & 7) === 0 && s.op === 2, `${when}: ${name} (the master) is not ready and up: ${JSON.stringify(s)}`);
      else assert.ok((s.admin & 1) !== 0, `${when}: ${name} is not in maintenance: ${JSON.stringify(s)}`);
    }
  };

  before(async () => {
    lab = await Lab.up({ hosts: 3, name: 'e2e-hooks-haproxy' });
    const h3 = lab.host(3);
    sock = join(lab.dir, 'haproxy', 'admin.sock');
    stateFile = join(lab.dir, 'haproxy', 'server-state');
    fs.mkdirSync(dirname(sock), { recursive: true });
    let cfg = fs.readFileSync(SAMPLE, 'utf8');
    cfg = swap(cfg, '/run/haproxy/admin.sock', sock);
    cfg = swap(cfg, '/var/lib/haproxy/server-state', stateFile);
    cfg = swap(cfg, '    #stats socket ipv4@10.0.0.5:9999 level admin', `    stats socket ipv4@${h3.ip}:${ADMIN_PORT} level admin`);
    cfg = swap(cfg, '    log /dev/log local0\n', ''); // no syslog in the lab
    cfg = swap(cfg, 'bind 127.0.0.1:3306', `bind ${h3.ip}:${FRONTEND_PORT}`);
    for (const h of lab.hosts) cfg = swap(cfg, `10.0.0.1${h.index}:3306`, `${h.ip}:${h.mysqlPort}`);
    // Checks every 300 ms rather than 1 s: the lab's failovers take a few seconds.
    cfg = swap(cfg, 'inter 1s', 'inter 300ms');
    fs.writeFileSync(join(lab.dir, 'haproxy', 'haproxy.cfg'), cfg);
    const log = fs.openSync(join(lab.dir, 'haproxy', 'haproxy.log'), 'a');
    // `ip netns exec` execs haproxy: the child's pid is HAProxy's (-db: foreground, no fork).
    haproxy = spawn('ip', ['netns', 'exec', h3.netns, 'haproxy', '-db', '-f', join(lab.dir, 'haproxy', 'haproxy.cfg')], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    await waitFor('HAProxy to answer on its stats socket', async () => (await api('show info').catch(() => '')).includes('Name: HAProxy'), 10_000, 100);

    failoverSite = [`--haproxy=${sock}`, '--backend=mysql_writer', `--state-file=${stateFile}`];
    const map = lab.hosts.map((h) => `${h.ip}=db${h.index}`).join(',');
    const onlineSite = [`--haproxy=tcp:${h3.ip}:${ADMIN_PORT}`, '--backend=mysql_writer', `--server-map=${map}`];
    conf = lab.writeConfig({
      serverDefault: {
        ping_interval: 1,
        master_ip_failover_script: `${HOOKS_DIR}/master_ip_failover.haproxy ${failoverSite.join(' ')}`,
        master_ip_online_change_script: `${HOOKS_DIR}/master_ip_online_change.haproxy ${onlineSite.join(' ')}`,
      },
    });
    // A fresh HAProxy has every server ready; docs/hooks.md: run start once for the master.
    const st = await serverStates();
    assert.ok(
      Object.values(st).every((s) => s.admin === 0),
      `a fresh HAProxy from the sample has every server ready: ${JSON.stringify(st)}`,
    );
    const init = await runScript('master_ip_failover.haproxy', [...failoverSite, '--command=start', ...newMasterArgs(lab, 1)]);
    assert.equal(init.exitCode, 0, init.output);
    await assertOnlyWriter(1, 'after the initial start');
  });
  after(async () => {
    if (haproxy?.pid && haproxy.exitCode === null) {
      const gone = new Promise((r) => haproxy!.once('exit', r));
      haproxy.kill('SIGTERM');
      await gone;
    }
    await lab?.down();
  });

  it('status: exit 0 when the master is the only ready server, 1 (saying why) otherwise; an HAProxy that does not answer', async () => {
    const ok = await runScript('master_ip_failover.haproxy', [...failoverSite, '--command=status', ...origMasterArgs(lab, 1)]);
    assert.equal(ok.exitCode, 0, ok.output);
    assert.match(ok.output, /mysql_writer\/db1 .* is the only ready server/);
    const wrong = await runScript('master_ip_failover.haproxy', [...failoverSite, '--command=status', ...origMasterArgs(lab, 2)]);
    assert.equal(wrong.exitCode, 1, wrong.output);
    assert.match(wrong.output, /the master \S+ \(mysql_writer\/db2\) is in maintenance/);
    const unknown = await runScript('master_ip_failover.haproxy', [...failoverSite, '--backend=nosuch', '--command=status', ...origMasterArgs(lab, 1)]);
    assert.equal(unknown.exitCode, 1, unknown.output);
    assert.match(unknown.output, /no backend 'nosuch'/);
    const down = await runScript('master_ip_failover.haproxy', [`--haproxy=${sock}.missing`, '--command=stop', ...origMasterArgs(lab, 1)]);
    assert.equal(down.exitCode, 1, down.output);
    assert.match(down.output, /did not answer 'show servers state'/);
    // Two HAProxy instances, one of them gone: start switches the other; exit 10 only if told to proceed.
    const two = [`--haproxy=${sock}`, `--haproxy=${sock}.missing`, '--command=start', ...newMasterArgs(lab, 1)];
    const proceed = await runScript('master_ip_failover.haproxy', ['--unreachable=proceed', ...two]);
    assert.equal(proceed.exitCode, 10, proceed.output);
    assert.match(proceed.output, /mysql_writer\/db1 .* ready and up: the writer/);
    assert.match(proceed.output, /1 of 2 HAProxy instance\(s\) did not answer/);
    const strict = await runScript('master_ip_failover.haproxy', two);
    assert.equal(strict.exitCode, 1, strict.output);
    const online = await runScript('master_ip_online_change.haproxy', ['--unreachable=proceed', ...two]);
    assert.equal(online.exitCode, 1, `the online-change form never proceeds: ${online.output}`);
    await assertOnlyWriter(1, 'after the status checks');
  });

  it('ha switch --online: HAProxy sends the client to the new master, nothing acknowledged lost', async () => {
    const load = startLoadAt(lab, { ip: lab.host(3).ip, mysqlPort: FRONTEND_PORT });
    await load.waitForAcks(100, 20_000);
    const t0 = Date.now();
    const out = await switchOnline(conf, lab, 2);
    const switchMs = Date.now() - t0;
    master = 2; // whatever the checks below say, the failover test starts from here
    await assertOnlyWriter(2, 'right after ha switch --online');
    assert.equal((await sessions()).db1, 0, 'sessions left to the old master');
    assert.equal(await resumedOn(lab, load, 50, 10_000), 2, 'writes through HAProxy after the switch land on the new master');
    const res = await load.stop();
    assert.deepEqual(await res.verifyOn(2), [], 'acknowledged writes missing on the new master');
    console.log(
      `# HAProxy online switch: ha switch ${switchMs} ms, longest gap seen by the client ${res.longestGapMs} ms, ${res.acked.length} acknowledged writes (${/writes blocked \d+ ms/.exec(out)?.[0] ?? ''})`,
    );
  });

  it('ha manager failover (kill -9 of mysqld): the dead master in maintenance, the new master ready, the state saved', async () => {
    const load = startLoadAt(lab, { ip: lab.host(3).ip, mysqlPort: FRONTEND_PORT });
    await load.waitForAcks(100, 20_000);
    const { newMaster, log, faultAt } = await failoverByManager(conf, lab, master, 'manager-haproxy.log');
    const doneAt = Date.now();
    assert.match(log, /master_ip_failover_script --orig_master_host=\S+ .*--command=stopssh/);
    assert.match(log, new RegExp(`mysql_writer/db${master} \\(\\S+\\) in maintenance, its sessions shut down`));
    assert.match(log, new RegExp(`mysql_writer/db${newMaster} \\(.*\\) ready and up: the writer`));
    await assertOnlyWriter(newMaster, 'right after the failover');
    assert.equal((await sessions())[`db${master}`], 0, 'sessions left to the dead master');
    assert.equal(await resumedOn(lab, load, 50, 10_000), newMaster, 'writes through HAProxy after the failover land on the new master');
    const res = await load.stop();
    assert.deepEqual(await res.verifyOn(newMaster), [], 'acknowledged writes missing on the new master');
    // What a reload would restore (server-state-file): the new master ready, the others in maintenance.
    const admin: Record<string, number> = {};
    for (const f of fs
      .readFileSync(stateFile, 'utf8')
      .split('\n')
      .map((l) => l.split(' '))) {
      if (f[1] === 'mysql_writer' && f[3]) admin[f[3]] = Number(f[6]); // be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state
    }
    assert.equal(admin[`db${newMaster}`], 0, `saved state: ${JSON.stringify(admin)}`);
    assert.ok((admin[`db${master}`]! & 1) !== 0, `saved state: ${JSON.stringify(admin)}`);
    console.log(
      `# HAProxy failover: server${master} -> server${newMaster}, manager done ${doneAt - faultAt} ms after the kill, longest gap without an acknowledged write through HAProxy ${res.longestGapMs} ms, ${res.acked.length} acknowledged writes`,
    );
  });
});
