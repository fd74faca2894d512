import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { masterIpFailoverStartArgs, masterIpFailoverStopArgs, onlineChangeArgs, reportArgs, shutdownArgs } from '../../src/core/hook-args.js';
import { runHook } from '../../src/core/hook-run.js';
import { fakeServer } from './fakes.js';

describe("hook arguments (MHA 0.58's, word for word)", () => {
  const dead = fakeServer(1);
  const next = fakeServer(2);
  it('master_ip_failover_script stop / stopssh', () => {
    assert.deepEqual(masterIpFailoverStopArgs(dead, true), [
      '--orig_master_host=10.9.0.11',
      '--orig_master_ip=10.9.0.11',
      '--orig_master_port=3306',
      '--command=stopssh',
      '--ssh_user=root',
    ]);
    assert.deepEqual(masterIpFailoverStopArgs(dead, false), ['--orig_master_host=10.9.0.11', '--orig_master_ip=10.9.0.11', '--orig_master_port=3306', '--command=stop']);
  });
  it('master_ip_failover_script start, with SSH details only where they differ from MySQL ones', () => {
    const viaBastion = fakeServer(2, { ssh: { ...next.ssh, host: '192.0.2.7', port: 2222 } });
    assert.deepEqual(masterIpFailoverStartArgs(dead, viaBastion), [
      '--command=start',
      '--ssh_user=root',
      '--orig_master_host=10.9.0.11',
      '--orig_master_ip=10.9.0.11',
      '--orig_master_port=3306',
      '--new_master_host=10.9.0.12',
      '--new_master_ip=10.9.0.12',
      '--new_master_port=3306',
      '--new_master_user=ha',
      '--new_master_ssh_host=192.0.2.7',
      '--new_master_ssh_ip=192.0.2.7',
      '--new_master_ssh_port=2222',
    ]);
    assert.ok(!masterIpFailoverStartArgs(dead, next).some((a) => /password/.test(a)), 'no password on the command line');
  });
  it('shutdown_script, with the pid file when configured', () => {
    assert.deepEqual(shutdownArgs(fakeServer(1, { masterPidFile: '/var/run/mysqld/mysqld.pid' }), true), [
      '--command=stopssh',
      '--ssh_user=root',
      '--host=10.9.0.11',
      '--ip=10.9.0.11',
      '--port=3306',
      '--pid_file=/var/run/mysqld/mysqld.pid',
    ]);
  });
  it('report_script and master_ip_online_change_script', () => {
    assert.deepEqual(reportArgs({ dead, next, recoveredSlaves: [fakeServer(3), fakeServer(4)], configFile: '/etc/app1.cnf', subject: 'Failover', body: 'ok' }), [
      '--orig_master_host=10.9.0.11',
      '--new_master_host=10.9.0.12',
      '--new_slave_hosts=10.9.0.13,10.9.0.14',
      '--conf=/etc/app1.cnf',
      '--subject=Failover',
      '--body=ok',
    ]);
    const a = onlineChangeArgs('stop', dead, next, true);
    assert.equal(a[0], '--command=stop');
    assert.equal(a.at(-1), '--orig_master_is_new_slave');
    assert.ok(a.includes('--orig_master_user=ha') && a.includes('--new_master_ssh_user=root'));
  });
});

describe('runHook', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-hooks-'));
  const script = join(dir, 'hook.sh');
  writeFileSync(script, '#!/bin/sh\necho "args: $*"\necho "pw: ${HA_NEW_MASTER_PASSWORD:-none}" >&2\nexit ${HOOK_EXIT:-0}\n');
  chmodSync(script, 0o755);

  it('runs without a shell: a value with arguments, then MHA arguments as separate words', async () => {
    const r = await runHook('report_script', `${script} --fixed "two words"`, ['--x=$(reboot)'], { timeoutMs: 5000, env: { HA_NEW_MASTER_PASSWORD: 's3cret', HOOK_EXIT: '10' } });
    assert.equal(r.exitCode, 10);
    assert.match(r.output, /args: --fixed two words --x=\$\(reboot\)/);
    assert.match(r.output, /pw: s3cret/);
    assert.doesNotMatch(r.commandLine, /s3cret/);
  });
  it('reports a missing script and a timeout', async () => {
    const missing = await runHook('shutdown_script', join(dir, 'nope'), [], { timeoutMs: 5000 });
    assert.equal(missing.exitCode, null);
    assert.match(missing.spawnError!, /ENOENT/);
    const slow = await runHook('shutdown_script', 'sleep 5', [], { timeoutMs: 200 });
    assert.equal(slow.timedOut, true);
  });
});
