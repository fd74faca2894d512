import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code } from '../../src/core/codes.js';
import { analyzeTopology, type ServerObservation } from '../../src/core/topology.js';
import { fakeConfig, fakeServer, fakeSlaveStatus, fakeState } from './fakes.js';

function healthy(): ServerObservation[] {
  return [
    { server: fakeServer(1), state: fakeState(1) },
    { server: fakeServer(2), state: fakeState(2, { slaveStatus: fakeSlaveStatus(1) }) },
    { server: fakeServer(3), state: fakeState(3, { slaveStatus: fakeSlaveStatus(1) }) },
  ];
}

function analyze(obs: ServerObservation[]) {
  return analyzeTopology(fakeConfig(obs.map((o) => o.server)), obs);
}

function codes(t: ReturnType<typeof analyze>, severity: string): string[] {
  return t.findings.filter((f) => f.severity === severity).map((f) => `${f.code}${f.server ? `@${f.server}` : ''}`);
}

describe('topology analysis', () => {
  it('finds the master, the slaves and a candidate on a healthy cluster', () => {
    const t = analyze(healthy());
    assert.equal(t.masterId, 'server1');
    assert.deepEqual(
      t.slaves.map((s) => s.masterId),
      ['server1', 'server1'],
    );
    assert.deepEqual(codes(t, 'error'), []);
    assert.deepEqual(codes(t, 'warning'), []);
    assert.equal(t.mode, 'file-position');
    assert.equal(t.candidate?.id, 'server2');
    assert.match(t.candidate.reason, /latest relay log events/);
  });

  it('reports a server that is down (a warning with ignore_fail)', () => {
    const obs = healthy();
    obs[2] = { server: fakeServer(3), error: 'connect ECONNREFUSED 10.9.0.13:3306' };
    assert.deepEqual(codes(analyze(obs), 'error'), ['SERVER_DOWN@server3']);
    obs[2] = { server: fakeServer(3, { ignoreFail: true }), error: 'refused' };
    const t = analyze(obs);
    assert.deepEqual(codes(t, 'error'), []);
    assert.deepEqual(codes(t, 'warning'), ['SERVER_DOWN@server3']);
  });

  it('rejects several writable masters and a read-only master', () => {
    const obs = healthy();
    obs[2] = { server: fakeServer(3), state: fakeState(3, { readOnly: false }) };
    assert.ok(codes(analyze(obs), 'error').includes(Code.SEVERAL_MASTERS));
    const ro = healthy();
    ro[0] = { server: fakeServer(1), state: fakeState(1, { readOnly: true }) };
    const t = analyze(ro);
    assert.deepEqual(codes(t, 'error'), ['MASTER_READ_ONLY@server1']);
    assert.equal(t.masterId, 'server1', 'the analysis goes on with the read-only master');
  });

  it('accepts a dual-master pair with one writable end', () => {
    const obs = healthy();
    obs[0] = { server: fakeServer(1), state: fakeState(1, { slaveStatus: fakeSlaveStatus(2) }) };
    const t = analyze(obs);
    assert.equal(t.masterId, 'server1');
    assert.deepEqual(codes(t, 'error'), []);
  });

  it('reports a slave of an unknown master and a multi-tier slave', () => {
    const obs = healthy();
    obs[2]!.state!.slaveStatus = fakeSlaveStatus(7, { masterServerId: 7 });
    assert.deepEqual(codes(analyze(obs), 'error'), ['SLAVE_OF_UNKNOWN_MASTER@server3']);
    obs[2]!.state!.slaveStatus = fakeSlaveStatus(2);
    assert.deepEqual(codes(analyze(obs), 'error'), ['MULTI_TIER_SLAVE@server3']);
    obs[2] = { ...obs[2]!, server: fakeServer(3, { multiTierSlave: true }) };
    assert.deepEqual(codes(analyze(obs), 'error'), []);
  });

  it('a slave reaching the master through an address no server block names (a VIP) is matched by Master_Server_Id', () => {
    const obs = healthy();
    obs[2]!.state!.slaveStatus = fakeSlaveStatus(7, { masterServerId: 1 });
    assert.deepEqual(codes(analyze(obs), 'error'), []);
  });

  it('matches Master_Host by resolved address too', () => {
    const obs = healthy();
    obs[0] = { server: fakeServer(1, { hostname: 'db1.example', ip: 'db1.example' }), state: fakeState(1), addresses: ['10.9.0.11'] };
    assert.deepEqual(codes(analyze(obs), 'error'), []);
  });

  it('reports stopped threads with their last error', () => {
    const obs = healthy();
    obs[1]!.state!.slaveStatus = fakeSlaveStatus(1, { ioRunning: 'No', lastIoErrno: 2003, lastIoError: "Can't connect" });
    obs[2]!.state!.slaveStatus = fakeSlaveStatus(1, { sqlRunning: false, lastSqlErrno: 1062, lastSqlError: 'Duplicate entry' });
    const t = analyze(obs);
    assert.deepEqual(codes(t, 'error'), ['IO_THREAD_STOPPED@server2', 'SQL_THREAD_STOPPED@server3']);
    assert.match(t.findings.find((f) => f.code === 'SQL_THREAD_STOPPED')!.message, /1062: Duplicate entry/);
  });

  it('reports duplicate server_id, log_bin off and differing filters', () => {
    const obs = healthy();
    obs[2] = { server: fakeServer(3), state: fakeState(2, { slaveStatus: fakeSlaveStatus(1) }) };
    assert.ok(codes(analyze(obs), 'error').includes(Code.DUPLICATE_SERVER_ID));

    const nolog = healthy();
    nolog[1]!.state!.logBin = false;
    assert.deepEqual(codes(analyze(nolog), 'error'), ['LOG_BIN_OFF@server2']);
    nolog[1] = { ...nolog[1]!, server: fakeServer(2, { noMaster: true }) };
    assert.deepEqual(codes(analyze(nolog), 'error'), [], 'log_bin off is fine on a no_master slave');

    const filt = healthy();
    filt[2]!.state!.slaveStatus = fakeSlaveStatus(1, { filters: { doDb: 'app', ignoreDb: '', doTable: '', ignoreTable: '', wildDoTable: '', wildIgnoreTable: '' } });
    assert.deepEqual(codes(analyze(filt), 'error'), ['FILTERS_DIFFER@server3']);
  });

  it('warns on read_only=0 slaves, relay_log_purge=1, delay and binlog_format mismatch', () => {
    const obs = healthy();
    obs[1]!.state!.readOnly = false;
    obs[1]!.state!.relayLogPurge = true;
    obs[2]!.state!.binlogFormat = 'STATEMENT';
    obs[2]!.state!.slaveStatus!.secondsBehindMaster = 500;
    const t = analyze(obs);
    assert.deepEqual(codes(t, 'error'), []);
    assert.deepEqual(codes(t, 'warning').sort(), ['BINLOG_FORMAT_DIFFERS@server3', 'RELAY_LOG_PURGE_ON@server2', 'REPL_DELAY@server3', 'SLAVE_READ_WRITE@server2']);
  });

  it('chooses GTID mode only when every slave uses it, and rejects a mix', () => {
    const obs = healthy();
    for (const o of obs.slice(1)) o.state!.slaveStatus!.usesGtid = true;
    assert.equal(analyze(obs).mode, 'gtid');
    obs[2]!.state!.slaveStatus!.usesGtid = false;
    const t = analyze(obs);
    assert.equal(t.mode, undefined);
    assert.deepEqual(codes(t, 'error'), ['GTID_MIXED']);
  });

  it('finds a MariaDB errant transaction (a write on a slave)', () => {
    const obs = healthy();
    obs[0]!.state!.gtid = { enabled: true, executed: '0-1-100', binlogPos: '0-1-100', slavePos: '' };
    obs[1]!.state!.gtid = { enabled: true, executed: '0-1-100', binlogPos: '0-1-100', slavePos: '0-1-100' };
    obs[2]!.state!.gtid = { enabled: true, executed: '0-3-101', binlogPos: '0-3-101', slavePos: '0-1-100' };
    const t = analyze(obs);
    assert.deepEqual(codes(t, 'error'), ['GTID_ERRANT@server3']);
    assert.match(t.findings.find((f) => f.code === 'GTID_ERRANT')!.message, /0-3-101/);
  });

  it('finds MySQL errant GTIDs and gtid_mode differences', () => {
    const U1 = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
    const U3 = '5e11fa47-71ca-11e1-9e33-c80aa9429562';
    const mysql = { flavor: 'mysql' as const, major: 8, minor: 0, patch: 36, raw: '8.0.36' };
    const obs = healthy();
    obs[0]!.state = fakeState(1, { version: mysql, gtid: { enabled: true, mode: 'ON', executed: `${U1}:1-100` } });
    obs[1]!.state = fakeState(2, { version: mysql, gtid: { enabled: true, mode: 'ON', executed: `${U1}:1-100` }, slaveStatus: fakeSlaveStatus(1, { usesGtid: true }) });
    obs[2]!.state = fakeState(3, { version: mysql, gtid: { enabled: true, mode: 'ON', executed: `${U1}:1-99,${U3}:1` }, slaveStatus: fakeSlaveStatus(1, { usesGtid: true }) });
    assert.deepEqual(codes(analyze(obs), 'error'), ['GTID_ERRANT@server3']);
    obs[2]!.state.gtid = { enabled: false, mode: 'OFF', executed: '' };
    assert.ok(codes(analyze(obs), 'error').includes('GTID_MODE_DIFFERS'));
  });
});

describe('candidate choice (MHA select_new_master)', () => {
  it('prefers a candidate_master that is latest, else any candidate_master', () => {
    const obs = healthy();
    obs[2] = { ...obs[2]!, server: fakeServer(3, { candidateMaster: true }) };
    assert.equal(analyze(obs).candidate?.id, 'server3');
    obs[1]!.state!.slaveStatus!.readPosition = { file: 'mysql-bin.000003', position: 2000 };
    const t = analyze(obs);
    assert.equal(t.candidate?.id, 'server3');
    assert.match(t.candidate.reason, /not the latest slave/);
    assert.deepEqual(t.latestIds, ['server2']);
  });

  it('never promotes no_master, and skips a slave whose SQL thread is far behind', () => {
    const obs = healthy();
    obs[1] = { ...obs[1]!, server: fakeServer(2, { noMaster: true }) };
    let t = analyze(obs);
    assert.equal(t.candidate?.id, 'server3');
    assert.deepEqual(t.notCandidates, [{ id: 'server2', reason: 'no_master=1' }]);
    obs[2]!.state!.slaveStatus!.execPosition = { file: 'mysql-bin.000001', position: 4 };
    obs[0]!.binlogSizes = new Map([
      ['mysql-bin.000001', 60_000_000],
      ['mysql-bin.000002', 60_000_000],
      ['mysql-bin.000003', 5_000],
    ]);
    t = analyze(obs);
    assert.equal(t.candidate, undefined);
    assert.ok(codes(t, 'error').includes('NO_CANDIDATE'));
    assert.match(t.notCandidates.find((n) => n.id === 'server3')!.reason, /120000996 bytes behind/);
  });

  it('orders read positions numerically across the 999999 -> 1000000 boundary', () => {
    const obs = healthy();
    obs[1]!.state!.slaveStatus!.readPosition = { file: 'mysql-bin.999999', position: 9_000 };
    obs[1]!.state!.slaveStatus!.execPosition = { file: 'mysql-bin.999999', position: 9_000 };
    obs[2]!.state!.slaveStatus!.readPosition = { file: 'mysql-bin.1000000', position: 200 };
    obs[2]!.state!.slaveStatus!.execPosition = { file: 'mysql-bin.1000000', position: 200 };
    const t = analyze(obs);
    assert.deepEqual(t.latestIds, ['server3']);
    assert.equal(t.candidate?.id, 'server3');
  });
});
