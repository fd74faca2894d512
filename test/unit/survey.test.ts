// The rules every operation shares (src/core/survey.ts, src/core/hook-run.ts): the slave-of rule,
// the failover-mode rule, reading every server once, and MHA's hook exit-status rule. Before they
// were one place, check-repl and the failover disagreed on mixed GTID slaves with
// use_gtid_auto_pos=0; the agreement is asserted here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Clients } from '../../src/core/clients.js';
import { describeHookEnd, hookOutcome, type HookResult } from '../../src/core/hook-run.js';
import { failoverMode, masterOf, namesServer, surveyServers, type ServerObservation } from '../../src/core/survey.js';
import { analyzeTopology } from '../../src/core/topology.js';
import { fakeConfig, fakeServer, fakeSlaveStatus, fakeState } from './fakes.js';

describe('the slave-of rule', () => {
  const master = fakeServer(1, { hostname: 'db1.example' });
  it('names a server by hostname, ip or resolved address, case-insensitive, same port only', () => {
    assert.equal(namesServer({ masterHost: 'DB1.example', masterPort: 3306 }, master), true);
    assert.equal(namesServer({ masterHost: '10.9.0.11', masterPort: 3306 }, master), true);
    assert.equal(namesServer({ masterHost: '10.9.0.11', masterPort: 3307 }, master), false);
    assert.equal(namesServer({ masterHost: '192.0.2.5', masterPort: 3306 }, master), false);
    assert.equal(namesServer({ masterHost: '192.0.2.5', masterPort: 3306 }, master, ['192.0.2.5']), true);
  });
  it('falls back to Master_Server_Id only when the address names no configured server, and never the slave itself', () => {
    const obs: ServerObservation[] = [
      { server: master, state: fakeState(1) },
      { server: fakeServer(2), state: fakeState(2, { slaveStatus: fakeSlaveStatus(1) }) },
      { server: fakeServer(3), state: fakeState(3) },
    ];
    assert.equal(masterOf(fakeSlaveStatus(1, { masterServerId: 3 }), obs)?.server.id, 'server1', 'the address wins over the server_id');
    assert.equal(masterOf(fakeSlaveStatus(9, { masterServerId: 3 }), obs)?.server.id, 'server3');
    assert.equal(masterOf(fakeSlaveStatus(9, { masterServerId: 2 }), obs, obs[1])?.server.id, undefined);
    assert.equal(masterOf(fakeSlaveStatus(9, { masterServerId: null as unknown as number }), obs), undefined);
  });
});

describe('the failover-mode rule', () => {
  const slaves = (...gtid: boolean[]) => gtid.map((g, i) => ({ id: `server${i + 2}`, usesGtid: g }));
  it('GTID only when every slave uses auto-position and use_gtid_auto_pos is on', () => {
    assert.equal(failoverMode(slaves(true, true), true).mode, 'gtid');
    assert.equal(failoverMode(slaves(false, false), true).mode, 'file-position');
    assert.equal(failoverMode(slaves(true, true), false).mode, 'file-position');
  });
  it('a mix is refused with use_gtid_auto_pos on, and repointed by file/position with it off', () => {
    const mixed = failoverMode(slaves(true, false), true);
    assert.equal(mixed.mode, undefined);
    assert.match(mixed.reason, /server2.*server3/);
    assert.equal(failoverMode(slaves(true, false), false).mode, 'file-position');
  });
  it('check-repl (analyzeTopology) decides as the failover does, mixed slaves with use_gtid_auto_pos=0 included', () => {
    for (const useGtid of [true, false]) {
      const servers = [1, 2, 3].map((n) => fakeServer(n, { useGtidAutoPos: useGtid }));
      const obs: ServerObservation[] = [
        { server: servers[0]!, state: fakeState(1) },
        { server: servers[1]!, state: fakeState(2, { slaveStatus: fakeSlaveStatus(1, { usesGtid: true }) }) },
        { server: servers[2]!, state: fakeState(3, { slaveStatus: fakeSlaveStatus(1, { usesGtid: false }) }) },
      ];
      const t = analyzeTopology(fakeConfig(servers), obs);
      const rule = failoverMode(slaves(true, false), useGtid);
      assert.equal(t.mode, rule.mode, `use_gtid_auto_pos=${useGtid ? 1 : 0}`);
      assert.equal(
        t.findings.some((f) => f.code === 'GTID_MIXED'),
        rule.mode === undefined,
      );
    }
  });
});

describe('surveyServers: every server read once, in parallel', () => {
  it('reads each server on its own session, closes it, and keeps why a server did not answer', async () => {
    const servers = [1, 2, 3].map((n) => fakeServer(n));
    const opened: string[] = [];
    const closed: string[] = [];
    const clients: Pick<Clients, 'mysql'> = {
      mysql: async (server) => {
        if (server.id === 'server3') throw new Error('connect ECONNREFUSED');
        opened.push(server.id);
        return {
          query: async () => {
            throw new Error('not asked in this test');
          },
          close: async () => void closed.push(server.id),
        };
      },
    };
    const obs = await surveyServers(fakeConfig(servers), clients);
    assert.deepEqual(
      obs.map((o) => o.server.id),
      ['server1', 'server2', 'server3'],
    );
    // readServerState failed on the fake session: an error, never a state, and the session closed.
    assert.ok(obs.every((o) => o.state === undefined && typeof o.error === 'string'));
    assert.match(obs[2]!.error!, /ECONNREFUSED/);
    assert.deepEqual(opened.sort(), ['server1', 'server2']);
    assert.deepEqual(closed.sort(), ['server1', 'server2']);
  });
});

describe("MHA's hook exit-status rule", () => {
  const r = (over: Partial<HookResult>): HookResult => ({ parameter: 'x', commandLine: 'x', exitCode: 0, timedOut: false, durationMs: 5, output: '', ...over });
  it('0 ok, 10 proceed, anything else failed — a timeout, a signal and a script that cannot start included', () => {
    assert.equal(hookOutcome(r({})), 'ok');
    assert.equal(hookOutcome(r({ exitCode: 10 })), 'proceed');
    assert.equal(hookOutcome(r({ exitCode: 1 })), 'failed');
    assert.equal(hookOutcome(r({ exitCode: null, signal: 'SIGKILL' })), 'failed');
    assert.equal(hookOutcome(r({ exitCode: 0, timedOut: true })), 'failed');
    assert.equal(hookOutcome(r({ exitCode: 0, spawnError: 'ENOENT' })), 'failed');
  });
  it('says how the hook ended', () => {
    assert.equal(describeHookEnd(r({ exitCode: 3 })), 'exit 3');
    assert.equal(describeHookEnd(r({ exitCode: null, signal: 'SIGTERM' })), 'killed by SIGTERM');
    assert.equal(describeHookEnd(r({ timedOut: true, durationMs: 5000 })), 'timed out after 5000 ms');
    assert.equal(describeHookEnd(r({ spawnError: 'spawn x ENOENT' })), 'could not start: spawn x ENOENT');
  });
});
