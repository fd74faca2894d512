// The shipped hook scripts (conf/hooks) against the arguments ha actually builds (src/hooks/mha-args.ts)
// and MHA's extra ones, run the way ha runs them (runHook), with fake `ssh` and `socat` first in
// PATH that record what they were asked: the SSH target, port, user and options, the remote
// commands, and a small HAProxy runtime API (show servers state / set server / shutdown sessions).
// The lab tests (test/e2e/hooks-*.test.ts) check the real effects; these check the wiring.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { masterIpFailoverStartArgs, masterIpFailoverStopArgs, onlineChangeArgs } from '../../src/core/hook-args.js';
import { runHook } from '../../src/core/hook-run.js';
import { fakeServer } from './fakes.js';

const HOOKS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'conf', 'hooks');
const bin = mkdtempSync(join(tmpdir(), 'ha-hook-scripts-'));
const sshLog = join(bin, 'ssh.log');
const haproxyState = join(bin, 'haproxy.state');

// ssh: one line per call, the arguments separated by \x1f; FAKE_SSH_EXIT fails it.
writeFileSync(
  join(bin, 'ssh'),
  `#!/bin/bash
(IFS=$'\\x1f'; echo "$*") >> ${sshLog}
[ -z "\${FAKE_SSH_EXIT:-}" ] || { echo "ssh: connect to host: Connection timed out" >&2; exit "$FAKE_SSH_EXIT"; }
case "\${@: -1}" in *'echo yes || echo no'*) echo yes ;; esac
exit 0
`,
);
// socat: a one-backend HAProxy whose servers are lines "name addr port op_state admin_state".
writeFileSync(
  join(bin, 'socat'),
  `#!/bin/bash
read -r cmd
echo "$cmd" >> ${haproxyState}.log
st=${haproxyState}
case "$cmd" in
  "show servers state mysql_writer")
    echo 1
    echo "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord"
    i=0; while read -r n a p op adm; do i=$((i + 1)); echo "3 mysql_writer $i $n $a $op $adm 1 1 0 6 3 4 6 0 0 0 - $p -"; done < "$st" ;;
  "show servers state"*) echo "Can't find backend." ;;
  "set server mysql_writer/"*" state maint") s=\${cmd#set server mysql_writer/}; s=\${s%% *}; sed -i "s/^$s \\(.*\\) [0-9]*$/$s \\1 1/" "$st" ;;
  "set server mysql_writer/"*" state ready") s=\${cmd#set server mysql_writer/}; s=\${s%% *}; sed -i "s/^$s \\(.*\\) [0-9]*$/$s \\1 0/" "$st" ;;
  "shutdown sessions server mysql_writer/"*) ;;
  *) echo "Unknown command." ;;
esac
`,
);
chmodSync(join(bin, 'ssh'), 0o755);
chmodSync(join(bin, 'socat'), 0o755);

const env = (extra: Record<string, string> = {}) =>
  ({ ...process.env, PATH: `${bin}:${process.env.PATH}`, HA_NEW_MASTER_PASSWORD: 's3cret-new', HA_ORIG_MASTER_PASSWORD: 's3cret-orig', ...extra }) as Record<string, string>;
const sshCalls = (): string[][] => {
  try {
    return readFileSync(sshLog, 'utf8')
      .trimEnd()
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\x1f'));
  } catch {
    return [];
  }
};
const clearSsh = () => writeFileSync(sshLog, '');
after(() => rmSync(bin, { recursive: true, force: true }));

const VIP = `${join(HOOKS, 'master_ip_failover.vip')} --vip=10.9.0.100/24 --dev=eth0`;
const VIP_ONLINE = `${join(HOOKS, 'master_ip_online_change.vip')} --vip=10.9.0.100/24 --dev=eth0`;
const sshOptionsRaw = '-i /etc/ha/id_ed25519 -o UserKnownHostsFile=/etc/ha/known_hosts';
const dead = fakeServer(1, { sshOptionsRaw });
const next = fakeServer(2, { sshOptionsRaw });

describe('conf/hooks/master_ip_failover.vip with the arguments ha passes', () => {
  it('stopssh: SSH to the old master as ssh_user, the config ssh_options first, then BatchMode and the connect timeout', async () => {
    clearSsh();
    const r = await runHook('master_ip_failover_script', VIP, masterIpFailoverStopArgs(dead, true), { timeoutMs: 10_000, env: env() });
    assert.equal(r.exitCode, 0, r.output);
    const [call, ...more] = sshCalls();
    assert.equal(more.length, 0);
    assert.deepEqual(call!.slice(0, 4), ['-i', '/etc/ha/id_ed25519', '-o', 'UserKnownHostsFile=/etc/ha/known_hosts']);
    assert.ok(call!.includes('BatchMode=yes') && call!.includes('ConnectTimeout=5'), call!.join(' '));
    assert.deepEqual(call!.slice(-3, -1), ['22', 'root@10.9.0.11']);
    assert.match(call!.at(-1)!, /ip -o -4 addr show to 10\.9\.0\.100 .*ip addr del/);
    assert.doesNotMatch(r.output, /s3cret/);
  });

  it('start via a different SSH address and port: ip addr add on the new master, then arping', async () => {
    clearSsh();
    const viaBastion = fakeServer(2, { ssh: { ...next.ssh, host: '192.0.2.7', port: 2222 } });
    const r = await runHook('master_ip_failover_script', VIP, masterIpFailoverStartArgs(dead, viaBastion), { timeoutMs: 10_000, env: env() });
    assert.equal(r.exitCode, 0, r.output);
    const [call] = sshCalls();
    assert.deepEqual(call!.slice(-3, -1), ['2222', 'root@192.0.2.7']);
    assert.match(call!.at(-1)!, /ip addr add 10\.9\.0\.100\/24 dev "\$d"/);
    assert.match(call!.at(-1)!, /arping -q -U -c 1 -I "\$d" 10\.9\.0\.100/);
    assert.doesNotMatch(r.output, /s3cret/);
  });

  it("stop with SSH unreachable: exit 10 (MHA's go on); --unreachable=fail and the online-change form: exit 1", async () => {
    const args = masterIpFailoverStopArgs(dead, false);
    const proceed = await runHook('master_ip_failover_script', VIP, args, { timeoutMs: 10_000, env: env({ FAKE_SSH_EXIT: '255' }) });
    assert.equal(proceed.exitCode, 10, proceed.output);
    assert.match(proceed.output, /cannot reach 10\.9\.0\.11 over SSH .*proceeding \(exit 10\)/);
    const strict = await runHook('master_ip_failover_script', `${VIP} --unreachable=fail`, args, { timeoutMs: 10_000, env: env({ FAKE_SSH_EXIT: '255' }) });
    assert.equal(strict.exitCode, 1, strict.output);
    const online = await runHook('master_ip_online_change_script', VIP_ONLINE, onlineChangeArgs('stop', dead, next, true), {
      timeoutMs: 10_000,
      env: env({ FAKE_SSH_EXIT: '255' }),
    });
    assert.equal(online.exitCode, 1, online.output);
  });

  it("online change: ha's stop/start arguments, and MHA's (passwords on the command line) accepted without echoing them", async () => {
    clearSsh();
    const other = fakeServer(2, { ssh: { ...next.ssh, user: 'dba' } });
    const stop = await runHook('master_ip_online_change_script', VIP_ONLINE, onlineChangeArgs('stop', dead, other, true), { timeoutMs: 10_000, env: env() });
    assert.equal(stop.exitCode, 0, stop.output);
    const mha = [...onlineChangeArgs('start', dead, other, true), '--orig_master_password=s3cret-orig', '--new_master_password=s3cret-new'];
    const start = await runHook('master_ip_online_change_script', VIP_ONLINE, mha, { timeoutMs: 10_000, env: env() });
    assert.equal(start.exitCode, 0, start.output);
    const calls = sshCalls();
    assert.equal(calls[0]!.at(-2), 'root@10.9.0.11', 'stop goes to the old master as --orig_master_ssh_user');
    assert.equal(calls[1]!.at(-2), 'dba@10.9.0.12', 'start goes to the new master as --new_master_ssh_user');
    assert.doesNotMatch(stop.output + start.output + readFileSync(sshLog, 'utf8'), /s3cret/);
  });

  it('usage errors exit 2 and name the problem, never an argument value', async () => {
    const noVip = await runHook('master_ip_failover_script', join(HOOKS, 'master_ip_failover.vip'), masterIpFailoverStopArgs(dead, true), { timeoutMs: 10_000, env: env() });
    assert.equal(noVip.exitCode, 2);
    assert.match(noVip.output, /no VIP: give --vip/);
    const bad = await runHook('master_ip_failover_script', `${VIP} --vip=10.9.0.300`, masterIpFailoverStopArgs(dead, true), { timeoutMs: 10_000, env: env() });
    assert.equal(bad.exitCode, 2);
    assert.match(bad.output, /--vip=10\.9\.0\.300\/32 is not an IPv4 address/);
    const unknown = await runHook('master_ip_failover_script', `${VIP} --passwd=s3cret-typo`, masterIpFailoverStopArgs(dead, true), { timeoutMs: 10_000, env: env() });
    assert.equal(unknown.exitCode, 2);
    assert.match(unknown.output, /unknown argument '--passwd'/);
    assert.doesNotMatch(unknown.output, /s3cret/);
  });
});

describe('conf/hooks/master_ip_failover.haproxy with the arguments ha passes', () => {
  const HAPROXY = `${join(HOOKS, 'master_ip_failover.haproxy')} --haproxy=/run/haproxy/admin.sock --wait-up=1`;
  const reset = () => {
    writeFileSync(haproxyState, ['db1 10.9.0.11 3306 2 0', 'db2 10.9.0.12 3306 2 1', 'db3 10.9.0.13 3306 2 1', ''].join('\n'));
    writeFileSync(`${haproxyState}.log`, '');
  };
  const commands = () =>
    readFileSync(`${haproxyState}.log`, 'utf8')
      .trimEnd()
      .split('\n')
      .filter((c) => !c.startsWith('show'));
  const admin = (): Record<string, number> =>
    Object.fromEntries(
      readFileSync(haproxyState, 'utf8')
        .trimEnd()
        .split('\n')
        .map((l): [string, number] => [l.split(' ')[0]!, Number(l.split(' ')[4])]),
    );

  it('stopssh then start: the old master in maintenance with its sessions cut, the new master the only ready server', async () => {
    reset();
    const stop = await runHook('master_ip_failover_script', HAPROXY, masterIpFailoverStopArgs(dead, true), { timeoutMs: 10_000, env: env() });
    assert.equal(stop.exitCode, 0, stop.output);
    assert.deepEqual(commands(), ['set server mysql_writer/db1 state maint', 'shutdown sessions server mysql_writer/db1']);
    const start = await runHook('master_ip_failover_script', HAPROXY, masterIpFailoverStartArgs(dead, next), { timeoutMs: 10_000, env: env() });
    assert.equal(start.exitCode, 0, start.output);
    assert.deepEqual(admin(), { db1: 1, db2: 0, db3: 1 });
    assert.match(start.output, /mysql_writer\/db2 \(10\.9\.0\.12 10\.9\.0\.12:3306\) ready and up: the writer/);
    assert.doesNotMatch(stop.output + start.output, /s3cret/);
  });

  it('--server-map instead of addresses; a host it does not list is an error naming it', async () => {
    reset();
    const byName = fakeServer(2, { hostname: 'db2.example.com' });
    const mapped = await runHook('master_ip_failover_script', `${HAPROXY} --server-map=db1.example.com=db1,db2.example.com=db2`, masterIpFailoverStartArgs(dead, byName), {
      timeoutMs: 10_000,
      env: env(),
    });
    assert.equal(mapped.exitCode, 0, mapped.output);
    assert.deepEqual(admin(), { db1: 1, db2: 0, db3: 1 });
    const missing = await runHook('master_ip_failover_script', `${HAPROXY} --server-map=db1.example.com=db1`, masterIpFailoverStartArgs(dead, byName), {
      timeoutMs: 10_000,
      env: env(),
    });
    assert.equal(missing.exitCode, 1);
    assert.match(missing.output, /db2\.example\.com is not in --server-map/);
  });

  it('online change stop/start with --orig_master_is_new_slave; a host HAProxy does not know is an error', async () => {
    reset();
    const online = `${join(HOOKS, 'master_ip_online_change.haproxy')} --haproxy=/run/haproxy/admin.sock --wait-up=0`;
    assert.equal((await runHook('master_ip_online_change_script', online, onlineChangeArgs('stop', dead, next, true), { timeoutMs: 10_000, env: env() })).exitCode, 0);
    assert.equal((await runHook('master_ip_online_change_script', online, onlineChangeArgs('start', dead, next, true), { timeoutMs: 10_000, env: env() })).exitCode, 0);
    assert.deepEqual(admin(), { db1: 1, db2: 0, db3: 1 });
    const unknown = await runHook('master_ip_online_change_script', online, onlineChangeArgs('start', dead, fakeServer(7), true), { timeoutMs: 10_000, env: env() });
    assert.equal(unknown.exitCode, 1);
    assert.match(unknown.output, /backend mysql_writer has no server with address 10\.9\.0\.17:3306/);
  });
});
