// Shared pieces of the `ha manager` e2e scenarios (manager*.test.ts): the manager run as a user
// runs it (the real bin/ha, detached, stdout and stderr to a log file in the lab directory, as
// `nohup ha manager --conf app1.cnf > manager.log 2>&1 &`), a write load that follows the new
// master once the manager's log names it, and the checks every failover scenario makes: nothing
// acknowledged lost, every slave equal to the new master, the manager's files and status.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Lab, type LabHost, type LabUpOptions, type Row, type WriteConfigOptions, type WriteLoad, type WriteLoadResult } from '../lab/lab.js';
import { StopWaiting, waitFor } from '../lab/proc.js';
import { HA_BIN, runHa, type HaRun } from './ha.js';

export interface ManagerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

const live = new Set<ManagerProcess>();
process.on('exit', () => {
  for (const m of live) m.kill();
});

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** A `ha manager` child process whose output goes to a log file, as the README starts it. */
export class ManagerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<ManagerExit>;
  exit: ManagerExit | undefined;
  readonly startedAt = Date.now();

  private constructor(
    readonly conf: string,
    readonly logFile: string,
    readonly args: string[],
    /** The config's manager_log, when it sets one: then the log is there, not on stdout. */
    readonly managerLog?: string,
  ) {
    const fd = fs.openSync(logFile, 'a');
    this.child = spawn(HA_BIN, ['manager', '--conf', conf, ...args], {
      detached: true, // its own process group, like nohup … &: the test's signals are not its
      stdio: ['ignore', fd, fd],
      env: { ...process.env, NO_COLOR: '1' },
    });
    fs.closeSync(fd);
    live.add(this);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exit = { code, signal, at: Date.now() };
        live.delete(this);
        resolve(this.exit);
      });
      this.child.on('error', (err) => {
        this.exit = { code: -1, signal: null, at: Date.now() };
        fs.appendFileSync(logFile, `\n[test] spawn error: ${err.message}\n`);
        live.delete(this);
        resolve(this.exit);
      });
    });
  }

  static start(conf: string, logFile: string, args: string[] = [], managerLog?: string): ManagerProcess {
    return new ManagerProcess(conf, logFile, args, managerLog);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** The manager's log: manager_log when the config sets it, else what it wrote to stdout. */
  text(): string {
    return this.managerLog ? readOrEmpty(this.managerLog) : this.stdout();
  }

  /** What the process wrote to stdout and stderr. */
  stdout(): string {
    return readOrEmpty(this.logFile);
  }

  tail(lines = 40): string {
    return this.text().trimEnd().split('\n').slice(-lines).join('\n');
  }

  /** Waits for a line matching `re` (not global); fails at once if the manager exits first. */
  async waitForLog(re: RegExp, what: string, timeoutMs: number): Promise<RegExpExecArray> {
    return waitFor(
      `the manager's log (${this.logFile}) to show ${what} ${re}`,
      () => {
        const m = re.exec(this.text());
        if (m) return m;
        if (this.exit) throw new StopWaiting(`the manager exited (${describeExit(this.exit)}) before its log showed ${what} ${re}:\n${this.tail()}`);
        return false;
      },
      timeoutMs,
      50,
    ).catch((e: unknown) => {
      if (e instanceof Error && !e.message.includes('--- manager log')) e.message += `\n--- manager log (last lines) ---\n${this.tail()}`;
      throw e;
    });
  }

  /** Waits for the process to exit; a timeout says what was waited for and shows the log. */
  async waitExit(what: string, timeoutMs: number): Promise<ManagerExit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for the manager to exit (${what}):\n${this.tail()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL if it still runs (teardown). */
  kill(): void {
    if (!this.exit && this.child.pid) {
      try {
        process.kill(this.child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

export function describeExit(e: ManagerExit): string {
  return e.signal ? `signal ${e.signal}` : `exit code ${e.code}`;
}

/** "serverN" (the lab config's block names) → N. */
export function hostIndexOf(serverId: string): number {
  const m = /^server(\d+)$/.exec(serverId);
  if (!m) throw new Error(`not a lab server id: ${serverId}`);
  return Number(m[1]);
}

/** The manager's "read_only=0 on serverN" line (human or JSON log): the host now taking writes. */
export function newMasterInLog(text: string): number | undefined {
  let last: number | undefined;
  for (const m of text.matchAll(/read_only=0 on (server\d+)/g)) last = hostIndexOf(m[1]!);
  return last;
}

/** Log timestamps ("2025-01-01 05:08:05.123", UTC, or ISO in JSON) → epoch ms. */
function logTime(s: string): number {
  return Date.parse(s.includes('T') ? s : `${s.replace(' ', 'T')}Z`);
}

export interface PhaseTime {
  name: string;
  ok: boolean;
  ms: number;
}

/** Phase durations from a human log ("Phase 3 Master recovery completed (412 ms)") or a JSON one. */
export function phaseTimes(text: string): PhaseTime[] {
  const out: PhaseTime[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('{')) {
      try {
        const e = JSON.parse(line) as { code?: string; phase?: string; durationMs?: number };
        if ((e.code === 'PHASE_END' || e.code === 'PHASE_FAILED') && e.phase) out.push({ name: e.phase, ok: e.code === 'PHASE_END', ms: e.durationMs ?? NaN });
      } catch {
        /* not JSON */
      }
      continue;
    }
    const m = /Phase (\d [^(]*?) (completed|FAILED) \(([\d.]+) (ms|s)\)/.exec(line);
    if (m) out.push({ name: m[1]!, ok: m[2] === 'completed', ms: Number(m[3]) * (m[4] === 's' ? 1000 : 1) });
  }
  return out;
}

/** When the manager declared the master dead (its log line's timestamp). */
export function declaredDeadAt(text: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('{')) {
      try {
        const e = JSON.parse(line) as { code?: string; time?: string; phase?: string };
        if (e.code === 'MASTER_DEAD' && !e.phase && e.time) return logTime(e.time);
      } catch {
        /* not JSON */
      }
    } else if (/is dead: starting the failover/.test(line)) {
      const m = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)/.exec(line);
      if (m) return logTime(m[1]!);
    }
  }
  return undefined;
}

/** The timestamp of the manager's last log line. */
export function lastLogTime(text: string): number | undefined {
  let last: number | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('{')) {
      const m = /"time":"([^"]+)"/.exec(line);
      if (m) last = logTime(m[1]!);
    } else {
      const m = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)/.exec(line);
      if (m) last = logTime(m[1]!);
    }
  }
  return last;
}

/** The report lines the manager logged (human format: "... ----- Failover Report -----" onwards). */
export function reportOf(text: string): string {
  const i = text.indexOf('----- Failover Report -----');
  return i < 0 ? '' : text.slice(i);
}

export async function slaveStatus(lab: Lab, h: number): Promise<Row | undefined> {
  const [row] = await lab.sql(h, 'SHOW SLAVE STATUS');
  return row;
}

/** Waits until every slave replicates from `master` with both threads running. */
export async function waitReplicatingFrom(lab: Lab, slaves: number[], master: number, timeoutMs = 20_000): Promise<void> {
  const m = lab.host(master);
  await Promise.all(
    slaves.map((h) =>
      waitFor(
        `host ${h} to replicate from host ${master} (${m.ip}) with IO and SQL threads running`,
        async () => {
          const st = await slaveStatus(lab, h);
          if (!st) throw new StopWaiting(`host ${h} is not a slave`);
          if (st.Master_Host !== m.ip) throw new StopWaiting(`host ${h} replicates from ${st.Master_Host}, not ${m.ip}`);
          if (st.Slave_SQL_Running !== 'Yes' && st.Last_SQL_Error) throw new StopWaiting(`host ${h} SQL thread error: ${st.Last_SQL_Error}`);
          if (st.Slave_IO_Running === 'Yes' && st.Slave_SQL_Running === 'Yes') return true;
          throw new Error(`IO=${st.Slave_IO_Running} SQL=${st.Slave_SQL_Running} ${st.Last_IO_Error ?? ''}`.trim());
        },
        timeoutMs,
        50,
      ),
    ),
  );
}

/** CHECKSUM TABLE of every hatest table, on one host. */
export async function checksums(lab: Lab, h: number, tables: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of tables) {
    const [row] = await lab.sql(h, `CHECKSUM TABLE hatest.\`${t}\``);
    const [cnt] = await lab.sql(h, `SELECT COUNT(*) AS n FROM hatest.\`${t}\``);
    out[t] = `${row?.Checksum} (${cnt?.n} rows)`;
  }
  return out;
}

/**
 * Every slave replicates from the new master, has executed all of its binlog, and holds exactly
 * the same hatest data (CHECKSUM TABLE and row counts of every table).
 */
export async function assertAllEqual(lab: Lab, master: number, slaves: number[]): Promise<void> {
  await waitReplicatingFrom(lab, slaves, master);
  await lab.waitForSlaveSync(slaves, 30_000);
  const tables = (await lab.sql(master, "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'hatest' ORDER BY 1")).map((r) => String(r.t));
  assert.ok(tables.includes('load'), `hatest.load missing on the new master (tables: ${tables.join(', ')})`);
  const want = await checksums(lab, master, tables);
  for (const h of slaves) {
    const got = (await lab.sql(h, "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'hatest' ORDER BY 1")).map((r) => String(r.t));
    assert.deepEqual(got, tables, `host ${h} has other hatest tables than the new master (host ${master})`);
    assert.deepEqual(await checksums(lab, h, tables), want, `host ${h} differs from the new master (host ${master})`);
  }
}

/** ids (and the server_id that wrote them) of hatest.<table> on a host. */
export async function rowsOn(lab: Lab, h: number, table = 'load'): Promise<Map<number, number>> {
  const rows = await lab.sql(h, `SELECT id, server_id FROM hatest.\`${table}\``);
  return new Map(rows.map((r) => [Number(r.id), Number(r.server_id)]));
}

export interface Unavailability {
  ms: number;
  lastOld?: { n: number; at: number };
  firstNew?: { n: number; at: number };
}

/**
 * Write unavailability as the load saw it: the last acknowledged write that the old master
 * executed → the first acknowledged write that the new master executed (told apart by the
 * server_id each row records).
 */
export async function measureUnavailability(lab: Lab, res: WriteLoadResult, newMaster: number, oldServerId: number): Promise<Unavailability> {
  const rows = await rowsOn(lab, newMaster, res.table);
  const newId = lab.host(newMaster).serverId;
  let lastOld: { n: number; at: number } | undefined;
  let firstNew: { n: number; at: number } | undefined;
  for (const a of res.acked) {
    const sid = rows.get(a.n);
    if (sid === oldServerId) lastOld = a;
    if (sid === newId && !firstNew) firstNew = a;
  }
  return { ms: lastOld && firstNew ? firstNew.at - lastOld.at : NaN, lastOld, firstNew };
}

export function formatPhases(p: PhaseTime[]): string {
  return p.map((x) => `${x.name}${x.ok ? '' : ' FAILED'} ${Math.round(x.ms)} ms`).join(', ');
}

/** The measurement line each scenario prints (not asserted). */
export function printMeasurement(scenario: string, m: { unavailability?: Unavailability; faultAt?: number; log: string; exit?: ManagerExit; extra?: string }): void {
  const dead = declaredDeadAt(m.log);
  const parts = [`[${scenario}]`];
  if (m.unavailability) {
    const u = m.unavailability;
    parts.push(
      `write unavailability ${Number.isFinite(u.ms) ? `${u.ms} ms` : 'n/a'} (last ack on the old master #${u.lastOld?.n ?? '?'}, first on the new master #${u.firstNew?.n ?? '?'})`,
    );
  }
  if (m.faultAt !== undefined && dead !== undefined) parts.push(`fault → declared dead ${dead - m.faultAt} ms`);
  const total = /Total from detection: ([^;.\n]+(?:\.\d+ s)?)(?:; new master writable after ([^.\n]+(?:\.\d+ s)?))?/.exec(m.log);
  if (total) parts.push(`failover ${total[1]}${total[2] ? `, new master writable after ${total[2]} from detection` : ''}`);
  parts.push(`phases: ${formatPhases(phaseTimes(m.log)) || 'none'}`);
  const lastLine = lastLogTime(m.log);
  if (m.exit && lastLine !== undefined) parts.push(`manager ${describeExit(m.exit)} ${m.exit.at - lastLine} ms after its last log line`);
  if (m.extra) parts.push(m.extra);
  console.log(parts.join('; '));
}

export async function haStatus(conf: string): Promise<HaRun> {
  return runHa(['status', '--conf', conf], { timeoutMs: 30_000 });
}

export function appFiles(lab: Lab): { complete: string; error: string; status: string } {
  const dir = path.join(lab.dir, 'manager');
  return { complete: path.join(dir, 'app1.failover.complete'), error: path.join(dir, 'app1.failover.error'), status: path.join(dir, 'app1.master_status.health') };
}

export interface ScenarioOptions extends LabUpOptions {
  name: string;
  config?: WriteConfigOptions;
  managerArgs?: string[];
  /** Acknowledged writes to have before the fault (default 100). */
  warmupAcks?: number;
}

/**
 * One scenario's lab, config, write load and manager. teardown() (in after()) kills a manager
 * left running, stops the load and takes the lab down.
 */
export class Scenario {
  lab!: Lab;
  conf!: string;
  load!: WriteLoad;
  managers: ManagerProcess[] = [];
  /** The host the load writes to until a manager's log names a new master. */
  initialMaster = 1;

  constructor(readonly opts: ScenarioOptions) {}

  get mgr(): ManagerProcess {
    const m = this.managers.at(-1);
    if (!m) throw new Error('no manager started');
    return m;
  }

  /** The host writes go to: the latest "read_only=0 on serverN" of this scenario's managers. */
  currentMaster(): number {
    let cur = this.initialMaster;
    for (const m of this.managers) cur = newMasterInLog(m.text()) ?? cur;
    return cur;
  }

  async up(): Promise<void> {
    const { name, config, hosts, gtid, mysqldOptions, hostMysqldOptions } = this.opts;
    this.lab = await Lab.up({ name, hosts, gtid, mysqldOptions, hostMysqldOptions });
    this.conf = this.lab.writeConfig({
      ...config,
      serverDefault: { ping_interval: 1, ...config?.serverDefault },
    });
    this.load = this.lab.startWriteLoad({
      target: () => this.lab.host(this.currentMaster()),
      connectTimeoutMs: 500,
      queryTimeoutMs: 2000,
      retryDelayMs: 20,
      maxDurationMs: 170_000,
    });
    await this.load.waitForAcks(this.opts.warmupAcks ?? 100, 15_000);
  }

  /** Starts a manager (log: <lab>/manager-N.log) and waits until it monitors the master. */
  async startManager(extraArgs: string[] = [], opts: { waitMonitoring?: boolean; pattern?: RegExp; managerLog?: string } = {}): Promise<ManagerProcess> {
    const file = path.join(this.lab.dir, `manager-${this.managers.length + 1}.log`);
    const m = ManagerProcess.start(this.conf, file, [...(this.opts.managerArgs ?? []), ...extraArgs], opts.managerLog);
    this.managers.push(m);
    if (opts.waitMonitoring !== false) await m.waitForLog(opts.pattern ?? /monitoring master /, 'that it monitors the master', 30_000);
    return m;
  }

  async teardown(): Promise<void> {
    for (const m of this.managers) m.kill();
    // The lab directory goes away with the lab: keep the manager logs for a post-mortem.
    const keep = path.join(os.tmpdir(), 'ha-e2e-logs');
    fs.mkdirSync(keep, { recursive: true });
    for (const m of this.managers) {
      try {
        fs.copyFileSync(m.logFile, path.join(keep, `${this.opts.name}-${path.basename(m.logFile)}`));
        if (m.managerLog) fs.copyFileSync(m.managerLog, path.join(keep, `${this.opts.name}-${path.basename(m.logFile, '.log')}-manager_log.log`));
      } catch {
        /* no log written */
      }
    }
    this.load?.abort();
    // Connections to a host whose network a scenario cut are only half-closed by mysql2's
    // destroy() (end(): a FIN that waits for an ACK): healing first lets them close, rather than
    // keeping this test process alive for minutes after a failed scenario.
    for (const h of this.lab?.hosts ?? []) if (h.networkCut) await this.lab.healNetwork(h.index).catch(() => undefined);
    await this.lab?.down();
  }
}

/** The host a manager log says became the new master, asserting it is the expected one. */
export function assertNewMaster(log: string, want: number): void {
  const got = newMasterInLog(log);
  assert.equal(got, want, `the manager promoted ${got === undefined ? 'nothing' : `server${got}`}, expected server${want}:\n${log.slice(-4000)}`);
}

/** The new master takes writes and no longer replicates (RESET SLAVE ALL). */
export async function assertIsWritableMaster(lab: Lab, h: number): Promise<void> {
  const [ro] = await lab.sql(h, 'SELECT @@GLOBAL.read_only AS ro');
  assert.equal(Number(ro?.ro), 0, `read_only on the new master (host ${h})`);
  assert.equal(await slaveStatus(lab, h), undefined, `the new master (host ${h}) still has a replication configuration`);
}

/** Waits until the load has `more` acknowledged writes beyond now (writes resumed on the new master). */
export async function waitMoreAcks(load: WriteLoad, more: number, timeoutMs = 15_000): Promise<void> {
  await load.waitForAcks(load.ackedCount + more, timeoutMs);
}

/** After the manager exited: the common end state of a successful failover. */
export async function expectCompletedFailover(s: Scenario, newMaster: number, slaves: number[], faultAt: number, label: string): Promise<string> {
  const exit = await s.mgr.waitExit('the failover to complete', 60_000);
  const log = s.mgr.text();
  assert.equal(exit.code, 0, `manager ${describeExit(exit)}:\n${log.slice(-6000)}`);
  assertNewMaster(log, newMaster);
  await assertIsWritableMaster(s.lab, newMaster);
  await waitMoreAcks(s.load, 50); // the load found the new master and writes again
  const res = await s.load.stop();
  assert.deepEqual(await res.verifyOn(newMaster), [], 'acknowledged writes missing on the new master');
  await assertAllEqual(s.lab, newMaster, slaves);
  const st = await haStatus(s.conf);
  assert.equal(st.exitCode, 2, `ha status: ${st.stdout}${st.stderr}`);
  assert.match(st.stdout, /NOT_RUNNING/);
  assert.ok(fs.existsSync(appFiles(s.lab).complete), 'APP.failover.complete missing in manager_workdir');
  assert.ok(!fs.existsSync(appFiles(s.lab).error), 'APP.failover.error written by a successful failover');
  // The report kept for scripts: `ha report --json` (exit 0) names the new master.
  const rep = await runHa(['report', '--conf', s.conf, '--json'], { timeoutMs: 30_000 });
  assert.equal(rep.exitCode, 0, `ha report: ${rep.stdout}${rep.stderr}`);
  const doc = JSON.parse(rep.stdout) as { report: { ok: boolean; deadMaster: string; newMaster?: string } };
  assert.deepEqual([doc.report.ok, doc.report.deadMaster, doc.report.newMaster], [true, 'server1', `server${newMaster}`], 'ha report --json');
  printMeasurement(label, { unavailability: await measureUnavailability(s.lab, res, newMaster, 1), faultAt, log, exit });
  return log;
}

/**
 * The dead master (host 1, restarted after the failover) and the new master hold exactly the same
 * rows written through the old master: every event of the dead master reached the new one.
 */
export async function expectDeadMastersRowsOn(s: Scenario, newMaster: number): Promise<void> {
  await s.lab.startMysqld(1, { 'skip-slave-start': true });
  const old = await rowsOn(s.lab, 1);
  const moved = await rowsOn(s.lab, newMaster);
  const missing = [...old.keys()].filter((n) => !moved.has(n));
  const extra = [...moved].filter(([n, sid]) => sid === 1 && !old.has(n)).map(([n]) => n);
  assert.deepEqual(missing, [], 'rows committed on the dead master that the new master does not have');
  assert.deepEqual(extra, [], 'rows on the new master, written through the old master, that the old master does not have');
}

/** The DIFF_WRITTEN line for a server: "diff for serverN: E events, … (label: n; …)". */
export function diffLine(log: string, server: string): string {
  const m = new RegExp(`diff for ${server}: .*`).exec(log);
  assert.ok(m, `no diff written for ${server}:\n${log.slice(-5000)}`);
  return m[0];
}

/** Events a server got from another server's relay logs, per its diff line. */
export function eventsFromRelayOf(log: string, target: string, source: string): number {
  const line = diffLine(log, target);
  let n = 0;
  for (const m of line.matchAll(new RegExp(`${source}:\\S*relay-bin\\.\\d+: (\\d+)`, 'g'))) n += Number(m[1]);
  return n;
}

/** "serverN: OK: applied E events" from the report. */
export function appliedInReport(log: string, server: string): number {
  const m = new RegExp(`^.*${server}: OK: applied (\\d+) events`, 'm').exec(reportOf(log));
  assert.ok(m, `the report does not say ${server} was recovered:\n${reportOf(log)}`);
  return Number(m[1]);
}

/** Stop a slave's IO thread once the manager monitors, and let the load run on for a while. */
export async function lagSlave(s: Scenario, h: number, ms = 1500): Promise<void> {
  await s.lab.stopSlaveIo(h);
  const before = s.load.ackedCount;
  await new Promise((r) => setTimeout(r, ms));
  assert.ok(s.load.ackedCount - before >= 50, `the load wrote only ${s.load.ackedCount - before} rows while host ${h} lagged`);
}

/** Slave h's SQL thread has executed everything its IO thread received. */
export async function waitForExecEqualsRead(s: Scenario, h: number): Promise<void> {
  await waitFor(
    `host ${h}'s SQL thread to execute all it received`,
    async () => {
      const [st] = await s.lab.sql(h, 'SHOW SLAVE STATUS');
      if (!st) return true; // already promoted / repointed by the manager: it waited for this itself
      return st.Relay_Master_Log_File === st.Master_Log_File && Number(st.Exec_Master_Log_Pos) >= Number(st.Read_Master_Log_Pos);
    },
    10_000,
    20,
  );
}

export type { LabHost };
