// Shared pieces of the hook-script tests (hooks-vip.test.ts, hooks-haproxy.test.ts): the scripts
// in conf/hooks run as ha runs them, a write load that knows only one address (the VIP or
// HAProxy's frontend), and the manager started as the README starts it.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { Lab, WriteLoad } from '../lab/lab.js';
import type { WriteTarget } from '../lab/load.js';
import { ManagerProcess, describeExit, newMasterInLog } from './manager-harness.js';
import { runHa } from './ha.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const HOOKS_DIR = join(ROOT, 'conf', 'hooks');

/** The lab's ssh_options as a hook script gets them from ha (--ssh_options=...). */
export function sshOptionsArg(lab: Lab): string {
  return `--ssh_options=-i ${lab.sshKeyFile} -o UserKnownHostsFile=${lab.knownHostsFile}`;
}

/** Runs a hook script by hand (as an operator would, or ha with MHA's arguments). */
export async function runScript(script: string, args: string[]): Promise<{ exitCode: number; output: string }> {
  const r = await execa(join(HOOKS_DIR, script), args, { reject: false, all: true, timeout: 60_000 });
  return { exitCode: r.exitCode ?? -1, output: String(r.all) };
}

/** MHA's arguments naming one host as the new master (what --command=start gets). */
export function newMasterArgs(lab: Lab, h: number): string[] {
  const host = lab.host(h);
  return [`--new_master_host=${host.ip}`, `--new_master_ip=${host.ip}`, `--new_master_port=${host.mysqlPort}`, '--ssh_user=root'];
}

/** MHA's arguments naming one host as the (current or old) master. */
export function origMasterArgs(lab: Lab, h: number): string[] {
  const host = lab.host(h);
  return [`--orig_master_host=${host.ip}`, `--orig_master_ip=${host.ip}`, `--orig_master_port=${host.mysqlPort}`, '--ssh_user=root'];
}

/** A load whose only address is `target` (it never learns which host is the master). */
export function startLoadAt(lab: Lab, target: WriteTarget, table = 'load'): WriteLoad {
  return lab.startWriteLoad({ target: () => target, table, connectTimeoutMs: 500, queryTimeoutMs: 2000, retryDelayMs: 20, maxDurationMs: 150_000 });
}

/** Waits until `more` writes beyond now were acknowledged, and says where the last one landed. */
export async function resumedOn(lab: Lab, load: WriteLoad, more: number, timeoutMs: number): Promise<number> {
  await load.waitForAcks(load.ackedCount + more, timeoutMs);
  const last = load.lastAck!;
  for (const h of lab.hosts) {
    const rows = await lab.sql(h, `SELECT server_id FROM hatest.\`${load.table}\` WHERE id = ?`, [last.n]).catch(() => []);
    if (rows.length && Number(rows[0]!.server_id) === h.serverId) return h.index;
  }
  throw new Error(`acknowledged write ${last.n} is on no host`);
}

/** `ha switch --online` to host h (the old master becomes its slave). */
export async function switchOnline(conf: string, lab: Lab, h: number): Promise<string> {
  const r = await runHa(['switch', '--conf', conf, '--online', '--new-master', lab.host(h).ip, '--orig-master-is-new-slave', '--yes'], { timeoutMs: 90_000 });
  assert.equal(r.exitCode, 0, `ha switch --online: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/**
 * `ha manager` until it has failed over after `kill -9` of the master's mysqld; returns the new
 * master and the manager's log.
 */
export async function failoverByManager(conf: string, lab: Lab, master: number, logName: string): Promise<{ newMaster: number; log: string; faultAt: number }> {
  const m = ManagerProcess.start(conf, join(lab.dir, logName));
  try {
    await m.waitForLog(/monitoring master /, 'that it monitors the master', 30_000);
    const faultAt = Date.now();
    await lab.killMysqld(master);
    const exit = await m.waitExit('the failover to complete', 90_000);
    const log = m.text();
    assert.equal(exit.code, 0, `manager ${describeExit(exit)}:\n${log.slice(-6000)}`);
    const newMaster = newMasterInLog(log);
    assert.ok(newMaster !== undefined && newMaster !== master, `the manager promoted no new master:\n${log.slice(-4000)}`);
    return { newMaster, log, faultAt };
  } finally {
    m.kill();
  }
}
