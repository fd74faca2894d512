// The command line as a contract: every registered command (walked from buildProgram(), so a new
// command is covered without editing this file) documents examples and exit codes in --help; the
// exit codes the help documents are the ones the real bin/ha returns (no lab needed: servers on
// closed local ports, a status file naming a live or dead pid, report files); and the --json
// commands print exactly one JSON document whatever the outcome.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import { managerFiles, writeFailoverReport, writeStatus, type StatusName, Status } from '../../src/manager/state.js';
import type { FailoverReport } from '../../src/phases/6-report.js';
import { runHa, type HaRun } from '../e2e/ha.js';
import { fakeConfig } from '../unit/fakes.js';

/** Every command path, the program itself first ("" = `ha`). */
function commandPaths(): string[] {
  const out: string[] = [''];
  const walk = (cmd: Command, prefix: string[]) => {
    for (const sub of cmd.commands) {
      if (sub.name() === 'help') continue;
      out.push([...prefix, sub.name()].join(' '));
      walk(sub, [...prefix, sub.name()]);
    }
  };
  walk(buildProgram(), []);
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'ha-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const workdir = join(dir, 'manager');
const globalConf = join(dir, 'global.cnf');
writeFileSync(globalConf, '');
// Two servers on local ports nothing listens on: every connection is refused at once.
const conf = join(dir, 'app1.cnf');
writeFileSync(
  conf,
  `[server default]
user=ha
password=cli-test-secret
repl_user=repl
repl_password=cli-test-repl-secret
ssh_user=root
ssh_port=1
manager_workdir=${workdir}
remote_workdir=${join(dir, 'remote')}

[server1]
hostname=127.0.0.1
port=1

[server2]
hostname=127.0.0.1
port=2
`,
);
const missingConf = join(dir, 'nope.cnf');
const base = fakeConfig([]);
const files = managerFiles({ ...base, manager: { ...base.manager, managerWorkdir: workdir } });

const ha = (args: string[]): Promise<HaRun> => runHa(args, { timeoutMs: 30_000 });
const withConf = (cmd: string[], c = conf, extra: string[] = []) => ha([...cmd, '--conf', c, '--global-conf', globalConf, ...extra]);

function setStatus(status: StatusName, pid = process.pid): void {
  const now = new Date().toISOString();
  writeStatus(files, {
    app: 'app1',
    pid,
    status,
    code: Status[status],
    master: { id: 'server1', host: '127.0.0.1', port: 1 },
    startedAt: now,
    updatedAt: now,
    pingIntervalSeconds: 3,
  });
}

function report(ok: boolean): FailoverReport {
  const now = '2026-01-02T03:04:05.678Z';
  return {
    app: 'app1',
    ok,
    masterMoved: true,
    deadMaster: 'server1',
    newMaster: 'server2',
    newMasterReason: 'the latest slave',
    mode: 'file',
    detectedAt: now,
    finishedAt: now,
    totalMs: 2310,
    newMasterWritableAfterMs: 1200,
    phases: [{ name: '3 Master recovery', ok: true, durationMs: 412 }],
    slaves: ok ? [] : [{ server: 'server3', ok: false, error: 'cannot connect', durationMs: 5 }],
    downServers: [],
    changes: [],
  };
}

interface Case {
  /** What the case shows, as the help words it. */
  documented: RegExp;
  code: number;
  run: () => Promise<HaRun>;
  setup?: () => void;
}

// Per command: the documented exit codes, each with a run that must return it.
const cases: Record<string, Case[]> = {
  '': [
    { documented: /2 usage error/, code: 2, run: () => ha(['no-such-command']) },
    { documented: /3\s+configuration error/, code: 3, run: () => withConf(['check-ssh'], missingConf) },
  ],
  'check-ssh': [
    { documented: /1 a host failed/, code: 1, run: () => withConf(['check-ssh']) },
    { documented: /2 usage error/, code: 2, run: () => ha(['check-ssh', '--no-such-option']) },
    { documented: /3 configuration error/, code: 3, run: () => withConf(['check-ssh'], missingConf) },
  ],
  'check-repl': [
    { documented: /1 problems found/, code: 1, run: () => withConf(['check-repl']) },
    { documented: /2 usage error/, code: 2, run: () => ha(['check-repl']) },
    { documented: /3 configuration error/, code: 3, run: () => withConf(['check-repl'], missingConf) },
  ],
  manager: [
    { documented: /1 failover failed or refused, start-up\s+checks failed/, code: 1, run: () => withConf(['manager']) },
    { documented: /2 usage error/, code: 2, run: () => withConf(['manager'], conf, ['--log-format', 'xml']) },
    { documented: /3 configuration error/, code: 3, run: () => withConf(['manager'], missingConf) },
  ],
  status: [
    { documented: /0 PING_OK/, code: 0, setup: () => setStatus('PING_OK'), run: () => withConf(['status']) },
    { documented: /2 NOT_RUNNING/, code: 2, setup: () => setStatus('PING_OK', 999_999_9), run: () => withConf(['status']) },
    { documented: /20 PING_FAILING/, code: 20, setup: () => setStatus('PING_FAILING'), run: () => withConf(['status']) },
    { documented: /51\s+FAILOVER_ERROR/, code: 51, setup: () => setStatus('FAILOVER_ERROR'), run: () => withConf(['status']) },
    { documented: /3 for a configuration error/, code: 3, run: () => withConf(['status'], missingConf) },
  ],
  stop: [
    { documented: /0 stopped \(or was not running\)/, code: 0, setup: () => setStatus('PING_OK', 999_999_9), run: () => withConf(['stop']) },
    { documented: /2 usage error/, code: 2, run: () => withConf(['stop'], conf, ['--timeout', 'soon']) },
    { documented: /3 configuration error/, code: 3, run: () => withConf(['stop'], missingConf) },
  ],
  report: [
    { documented: /1 it failed .*or there is\s+no failover report/s, code: 1, setup: () => rmSync(files.report, { force: true }), run: () => withConf(['report']) },
    { documented: /0 the last failover completed/, code: 0, setup: () => writeFailoverReport(files, report(true)), run: () => withConf(['report']) },
    { documented: /1 it failed or completed with errors/, code: 1, setup: () => writeFailoverReport(files, report(false)), run: () => withConf(['report']) },
    { documented: /1 it failed .*\(or it cannot be read\)/s, code: 1, setup: () => writeFileSync(files.report, '{"half":'), run: () => withConf(['report']) },
    { documented: /2 usage error/, code: 2, run: () => ha(['report', '--conf']) },
    { documented: /3 configuration error/, code: 3, run: () => withConf(['report'], missingConf) },
  ],
  switch: [
    { documented: /2 usage\s+error/, code: 2, run: () => withConf(['switch'], conf, ['--master-state', 'sleepy']) },
    { documented: /3 configuration error/, code: 3, run: () => withConf(['switch', '--master-state', 'dead', '--yes'], missingConf) },
  ],
  'purge-relay-logs': [
    { documented: /1 a slave could not be purged/, code: 1, run: () => withConf(['purge-relay-logs']) },
    { documented: /2 usage error \(unknown --host\)/, code: 2, run: () => withConf(['purge-relay-logs'], conf, ['--host', 'no-such-server']) },
    { documented: /3 configuration error/, code: 3, run: () => withConf(['purge-relay-logs'], missingConf) },
  ],
  binlog: [{ documented: /2 usage error,\s+or no subcommand given/, code: 2, run: () => ha(['binlog']) }],
  'binlog events': [
    {
      documented: /1 damaged or truncated input/,
      code: 1,
      setup: () => writeFileSync(join(dir, 'mysql-bin.000001'), 'not a binlog'),
      run: () => ha(['binlog', 'events', join(dir, 'mysql-bin.000001')]),
    },
    { documented: /2 usage error/, code: 2, run: () => ha(['binlog', 'events']) },
  ],
  'binlog find': [{ documented: /2 usage error/, code: 2, run: () => ha(['binlog', 'find', '--master-log-pos', '4']) }],
};

describe('every command documents itself in --help', () => {
  const paths = commandPaths();
  it('finds the commands through buildProgram()', () => {
    for (const p of ['check-ssh', 'check-repl', 'manager', 'status', 'stop', 'report', 'switch', 'binlog events', 'binlog find'])
      assert.ok(paths.includes(p), `${p} is not registered`);
  });
  for (const p of paths) {
    it(`ha ${p || '(no command)'} --help: Examples and exit codes, exit 0`, async () => {
      const r = await ha([...(p ? p.split(' ') : []), '--help']);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.match(r.stdout, /\nExamples:\n(?:.*\n)*?\s+\$ (?:nohup )?ha /, `ha ${p} --help has no "Examples:" section with a command line`);
      assert.match(r.stdout, /\nExit codes?: /, `ha ${p} --help does not document its exit codes`);
    });
  }
});

describe('the exit codes the help documents are the ones returned', () => {
  it('every registered command has exit-code cases here', () => {
    assert.deepEqual(
      commandPaths().filter((p) => !cases[p]),
      [],
      'commands without exit-code cases in this test',
    );
  });
  for (const [p, list] of Object.entries(cases)) {
    it(`ha ${p || '(program)'}: ${list.map((c) => c.code).join(', ')}`, async () => {
      const help = (await ha([...(p ? p.split(' ') : []), '--help'])).stdout;
      for (const c of list) {
        assert.match(help, c.documented, `ha ${p} --help does not document ${c.documented}`);
        c.setup?.();
        const r = await c.run();
        assert.equal(r.exitCode, c.code, `ha ${p}: ${c.documented} should exit ${c.code}:\n${r.stdout}\n${r.stderr}`);
        assert.doesNotMatch(r.stdout + r.stderr, /cli-test(-repl)?-secret/, 'a password was printed');
        if (c.code !== 70) assert.doesNotMatch(r.stderr, /internal error/);
      }
    });
  }
});

/** The fields of the --json documents these tests read. */
interface JsonDoc {
  command: string;
  ok?: boolean;
  exitCode?: number;
  status?: string;
  pid?: number;
  message?: string;
  file?: string;
  report?: unknown;
  findings: { severity: string; code: string; server?: string }[];
  lastFailover: { ok: boolean; deadMaster: string; newMaster: string; file: string } | null;
}

describe('--json prints exactly one JSON document, whatever the outcome', () => {
  const one = async (args: string[], want: { exitCode: number; command: string }): Promise<JsonDoc> => {
    const r = await ha([...args, '--json']);
    assert.equal(r.exitCode, want.exitCode, `${args.join(' ')} --json:\n${r.stdout}\n${r.stderr}`);
    let doc: JsonDoc;
    try {
      doc = JSON.parse(r.stdout) as JsonDoc;
    } catch (e) {
      throw new Error(`ha ${args.join(' ')} --json did not print one JSON document (${(e as Error).message}):\n${r.stdout}`);
    }
    assert.equal(doc.command, want.command);
    return doc;
  };
  const c = ['--conf', conf, '--global-conf', globalConf];
  const bad = ['--conf', missingConf, '--global-conf', globalConf];

  it('check-ssh and check-repl: failed checks (1) and a configuration error (3)', async () => {
    const ssh = await one(['check-ssh', ...c], { exitCode: 1, command: 'check-ssh' });
    assert.equal(ssh.ok, false);
    assert.ok(ssh.findings.some((f) => f.severity === 'error' && f.server === 'server1'));
    const repl = await one(['check-repl', ...c], { exitCode: 1, command: 'check-repl' });
    assert.ok(repl.findings.some((f) => f.code === 'NO_MASTER'));
    for (const cmd of ['check-ssh', 'check-repl']) assert.equal((await one([cmd, ...bad], { exitCode: 3, command: cmd })).findings[0]!.code, 'CONFIG_INVALID');
  });

  it('status: the MHA status, and the last failover in brief', async () => {
    setStatus('PING_OK');
    writeFailoverReport(files, report(true));
    const st = await one(['status', ...c], { exitCode: 0, command: 'status' });
    assert.equal(st.status, 'PING_OK');
    assert.equal(st.pid, process.pid);
    const last = st.lastFailover!;
    assert.deepEqual(
      { ok: last.ok, deadMaster: last.deadMaster, newMaster: last.newMaster, file: last.file },
      { ok: true, deadMaster: 'server1', newMaster: 'server2', file: files.report },
    );
    rmSync(files.report);
    setStatus('PING_OK', 999_999_9);
    const stopped = await one(['status', ...c], { exitCode: 2, command: 'status' });
    assert.equal(stopped.status, 'NOT_RUNNING');
    assert.equal(stopped.lastFailover, null);
    assert.equal((await one(['status', ...bad], { exitCode: 3, command: 'status' })).exitCode, 3);
  });

  it('report: the whole report; none (1); a configuration error (3)', async () => {
    writeFailoverReport(files, report(false));
    const r = await one(['report', ...c], { exitCode: 1, command: 'report' });
    assert.equal(r.ok, false);
    assert.equal(r.file, files.report);
    assert.deepEqual(r.report, report(false), 'the report as the manager wrote it');
    rmSync(files.report);
    assert.match((await one(['report', ...c], { exitCode: 1, command: 'report' })).message ?? '', /no failover report for app1/);
    await one(['report', ...bad], { exitCode: 3, command: 'report' });
  });

  it('report, human: the report text and its verdict', async () => {
    writeFailoverReport(files, report(true));
    const r = await withConf(['report']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^----- Failover Report -----\n/);
    assert.match(r.stdout, /Selected server2 as a new master \(the latest slave\)\./);
    assert.match(r.stdout, /Total from detection: 2\.31 s; new master writable after 1\.20 s\./);
    assert.match(r.stdout, /finished 2026-01-02T03:04:05\.678Z: completed$/);
  });
});

describe('ha switch --master-state dead --new-master', () => {
  it('refuses a server with no_master=1 before touching anything (exit 1), as MHA does', async () => {
    const noMasterConf = join(dir, 'app-no-master.cnf');
    writeFileSync(
      noMasterConf,
      `[server default]\nuser=ha\npassword=cli-test-secret\nmanager_workdir=${workdir}\n\n[server1]\nhostname=127.0.0.1\nport=1\n\n[server2]\nhostname=127.0.0.1\nport=2\nno_master=1\n`,
    );
    const r = await withConf(['switch', '--master-state', 'dead', '--dead-master', 'server1', '--new-master', 'server2', '--yes'], noMasterConf);
    assert.equal(r.exitCode, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /--new-master server2 \(127\.0\.0\.1:2\) has no_master=1 in .*app-no-master\.cnf: it must never become the master/);
    assert.doesNotMatch(r.stdout, /Fail over dead master/, 'the refusal came after the plan was shown');
  });
});
