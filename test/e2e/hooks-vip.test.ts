// conf/hooks/master_ip_failover.vip and master_ip_online_change.vip on the lab: a client that
// knows only the writer VIP (10.199.K.100, a spare address of the lab's /24) keeps writing through
// `ha switch --online` and through a failover by `ha manager` (kill -9 of the master's mysqld),
// with no acknowledged write lost; the old master no longer holds the VIP; and the client's
// neighbour entry for the VIP (the root namespace, across the lab bridge) names the new master's
// MAC as soon as ha is done, which only the gratuitous ARP does: without it the entry keeps the
// old MAC for 15-45 s (REACHABLE, then the kernel's own probes), and writes stall meanwhile.
// Negative control: HOOKS_TEST_ARPING_COUNT=0 runs the scripts with --arping-count=0 (no
// gratuitous ARP); then the neighbour checks below fail.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { Lab } from '../lab/lab.js';
import { HA_BIN } from './ha.js';
import { HOOKS_DIR, failoverByManager, newMasterArgs, origMasterArgs, resumedOn, runScript, sshOptionsArg, startLoadAt, switchOnline } from './hooks-harness.js';

describe('writer VIP hook scripts (lab)', () => {
  let lab: Lab;
  let conf: string;
  let vip: string;
  let site: string;
  let master = 1;
  /** The master killed by the failover test. */
  let dead = 0;

  /** Hosts whose eth0 holds the VIP (ip addr inside each host's namespace). */
  const holders = async (): Promise<number[]> => {
    const out: number[] = [];
    for (const h of lab.hosts) {
      const r = await lab.exec(h, ['ip', '-o', '-4', 'addr', 'show', 'to', vip]);
      assert.equal(r.exitCode, 0, r.stderr);
      if (r.stdout.trim()) out.push(h.index);
    }
    return out;
  };
  const macOf = async (h: number): Promise<string> => (await lab.exec(h, ['cat', '/sys/class/net/eth0/address'])).stdout.trim();
  /** The MAC the client side (root namespace) sends VIP packets to. */
  const neighbourMac = async (): Promise<string | undefined> => {
    const r = await execa('ip', ['-j', 'neigh', 'show', 'to', vip, 'dev', lab.bridge]);
    return (JSON.parse(r.stdout || '[]') as { lladdr?: string }[])[0]?.lladdr;
  };
  const assertVipOn = async (h: number, when: string) => {
    assert.deepEqual(await holders(), [h], `${when}: the hosts holding ${vip}`);
    assert.equal(await neighbourMac(), await macOf(h), `${when}: the client's neighbour entry for ${vip} is not host ${h}'s MAC (no gratuitous ARP?)`);
  };

  before(async () => {
    // mysqld listens on every address of its host, so also on the VIP once it is there.
    lab = await Lab.up({ hosts: 3, name: 'e2e-hooks-vip', mysqldOptions: { 'bind-address': '0.0.0.0' } });
    vip = lab.subnet.replace(/\.0\/24$/, '.100');
    const arping = process.env.HOOKS_TEST_ARPING_COUNT ? ` --arping-count=${process.env.HOOKS_TEST_ARPING_COUNT}` : '';
    site = `--vip=${vip}/24 --dev=eth0${arping}`;
    conf = lab.writeConfig({
      serverDefault: {
        ping_interval: 1,
        master_ip_failover_script: `${HOOKS_DIR}/master_ip_failover.vip ${site}`,
        master_ip_online_change_script: `${HOOKS_DIR}/master_ip_online_change.vip ${site}`,
      },
    });
    // The VIP starts on the master, put there as a site would: the script's start, by hand.
    const r = await runScript('master_ip_failover.vip', [...site.split(' '), sshOptionsArg(lab), '--command=start', ...newMasterArgs(lab, 1)]);
    assert.equal(r.exitCode, 0, r.output);
  });
  after(async () => {
    await lab?.down();
  });

  it('status: exit 0 when the VIP is on the master, 1 (saying so) when it is not', async () => {
    const ok = await runScript('master_ip_failover.vip', [...site.split(' '), sshOptionsArg(lab), '--command=status', ...origMasterArgs(lab, 1)]);
    assert.equal(ok.exitCode, 0, ok.output);
    assert.match(ok.output, new RegExp(`OK: the VIP ${vip.replace(/\./g, '\\.')} is on the master`));
    const wrong = await runScript('master_ip_failover.vip', [...site.split(' '), sshOptionsArg(lab), '--command=status', ...origMasterArgs(lab, 2)]);
    assert.equal(wrong.exitCode, 1, wrong.output);
    assert.match(wrong.output, /is not on the master/);
    const noVip = await runScript('master_ip_failover.vip', ['--command=status', ...origMasterArgs(lab, 1)]);
    assert.equal(noVip.exitCode, 2, noVip.output);
    assert.match(noVip.output, /no VIP: give --vip/);
  });

  it('ha check-repl asks the script for --command=status, as MHA does: ok while the VIP is on the master', async () => {
    const r = await execa('node', [HA_BIN, 'check-repl', '--conf', conf, '--json'], { reject: false });
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const f = (JSON.parse(r.stdout) as { findings: { code: string; message: string }[] }).findings.find((x) => x.code === 'HOOK_STATUS_OK');
    assert.ok(f, `no HOOK_STATUS_OK finding: ${r.stdout}`);
    assert.match(f.message, /is on the master/);
  });

  it('ha switch --online: the VIP moves, the client writing to it follows, nothing acknowledged lost', async () => {
    const load = startLoadAt(lab, { ip: vip, mysqlPort: 3306 });
    await load.waitForAcks(100, 20_000);
    await assertVipOn(1, 'before the switch');
    const t0 = Date.now();
    const out = await switchOnline(conf, lab, 2);
    const switchMs = Date.now() - t0;
    master = 2; // whatever the checks below say, the failover test starts from here
    await assertVipOn(2, 'right after ha switch --online');
    assert.equal(await resumedOn(lab, load, 50, 10_000), 2, 'writes through the VIP after the switch land on the new master');
    const res = await load.stop();
    assert.deepEqual(await res.verifyOn(2), [], 'acknowledged writes missing on the new master');
    console.log(
      `# VIP online switch: ha switch ${switchMs} ms, longest gap seen by the VIP client ${res.longestGapMs} ms, ${res.acked.length} acknowledged writes (${/writes blocked \d+ ms/.exec(out)?.[0] ?? ''})`,
    );
  });

  it('ha manager failover (kill -9 of mysqld): stopssh removes the VIP, start adds and announces it on the new master', async () => {
    const load = startLoadAt(lab, { ip: vip, mysqlPort: 3306 });
    await load.waitForAcks(100, 20_000);
    const { newMaster, log, faultAt } = await failoverByManager(conf, lab, master, 'manager-vip.log');
    dead = master;
    const doneAt = Date.now();
    assert.match(log, /master_ip_failover_script --orig_master_host=\S+ .*--command=stopssh/);
    assert.match(log, new RegExp(`removed ${vip.replace(/\./g, '\\.')}/24 from eth0`));
    assert.match(log, /gratuitous ARP sent on eth0/);
    await assertVipOn(newMaster, 'right after the failover');
    assert.equal(await resumedOn(lab, load, 50, 10_000), newMaster, 'writes through the VIP after the failover land on the new master');
    const res = await load.stop();
    assert.deepEqual(await res.verifyOn(newMaster), [], 'acknowledged writes missing on the new master');
    console.log(
      `# VIP failover: server${master} -> server${newMaster}, manager done ${doneAt - faultAt} ms after the kill, longest gap without an acknowledged write through the VIP ${res.longestGapMs} ms, ${res.acked.length} acknowledged writes`,
    );
    master = newMaster;
  });

  it('an old master unreachable over SSH: stop gives up after the connect timeout, exit 10 (failover) or 1 (online change)', async () => {
    assert.ok(dead, 'the failover test ran');
    const old = lab.host(dead);
    await lab.cutNetwork(old.index);
    try {
      const args = [...site.split(' '), sshOptionsArg(lab), '--ssh-timeout=2', '--command=stop', ...origMasterArgs(lab, old.index)];
      const t0 = Date.now();
      const failover = await runScript('master_ip_failover.vip', args);
      const ms = Date.now() - t0;
      assert.equal(failover.exitCode, 10, failover.output);
      assert.match(failover.output, /cannot reach \S+ over SSH to remove the VIP .*proceeding \(exit 10\)/s);
      assert.ok(ms < 5000, `stop took ${ms} ms with --ssh-timeout=2`);
      const strict = await runScript('master_ip_failover.vip', ['--unreachable=fail', ...args]);
      assert.equal(strict.exitCode, 1, strict.output);
      const online = await runScript('master_ip_online_change.vip', args);
      assert.equal(online.exitCode, 1, online.output);
    } finally {
      await lab.healNetwork(old.index);
    }
  });
});
