// npm run bench: ha against MHA 0.58 on the same lab, scenario by scenario, alternating the tools,
// each run on a fresh lab. Measures, from the lab's write load and each tool's log, how long writes
// were unavailable, whether acknowledged writes survived, whether the slaves ended equal, and how
// long detection and failover took; prints medians/min/max with the ha/MHA ratio, writes the raw
// runs as JSON and one timeline chart (SVG) per scenario. See docs/benchmarks.md.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { createConnection, type Connection } from 'mysql2/promise';
import { ADMIN_PASSWORD, ADMIN_USER, Lab, mariadbVersion, startPrivilegedWriter, type LabHost, type WriteLoad, type WriteLoadResult } from '../test/lab/lab.js';
import { LogFollower, type LogLine } from '../test/lab/follow.js';
import { timelineSvg, type TimelineSeries } from './lib/chart.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const HA_BIN = path.join(ROOT, 'bin', 'ha');
const SHIM_DIR = path.join(ROOT, 'bench', 'mha');
/** Loaded into every MHA process (manager side by env, node tools on the hosts by sshd SetEnv). */
const SHIM_ENV = { PERL5LIB: SHIM_DIR, PERL5OPT: '-MHaBenchMhaShim' };

type ToolName = 'ha' | 'MHA';
type ScenarioId = 'a' | 'b' | 'c' | 'd' | 'e';

const SCENARIOS: Record<ScenarioId, string> = {
  a: 'master mysqld killed, slaves in sync',
  b: 'master killed, one slave lagging (relay-log diff)',
  c: "master killed, candidate also behind (dead master's binlog saved and applied)",
  d: 'master host cut off the network',
  e: 'online switch under load (unprivileged + privileged writer)',
};

interface Options {
  runs: number;
  scenarios: ScenarioId[];
  tools: ToolName[];
  out: string;
  charts: string;
  stock: boolean;
  doc: boolean;
}

function parseArgs(argv: string[]): Options {
  const date = new Date().toISOString().slice(0, 10);
  const o: Options = {
    runs: 3,
    scenarios: ['a', 'b', 'c', 'd', 'e'],
    tools: ['MHA', 'ha'],
    out: path.join(ROOT, 'bench', 'results', `failover-${date}.json`),
    charts: path.join(ROOT, 'docs', 'bench'),
    stock: true,
    doc: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === '--runs') {
      o.runs = Number(val());
      if (!Number.isInteger(o.runs) || o.runs < 1) usage('--runs: a whole number ≥ 1');
    } else if (a === '--scenarios') {
      const s = val()
        .split(',')
        .map((x) => x.trim());
      for (const x of s) if (!(x in SCENARIOS)) usage(`--scenarios: unknown scenario ${x} (a, b, c, d, e)`);
      o.scenarios = s as ScenarioId[];
    } else if (a === '--tools') {
      const t = val()
        .split(',')
        .map((x) => (x.toLowerCase() === 'mha' ? 'MHA' : x.toLowerCase() === 'ha' ? 'ha' : usage(`--tools: ha, mha (got ${x})`)));
      o.tools = t;
    } else if (a === '--out') o.out = path.resolve(val());
    else if (a === '--charts') o.charts = path.resolve(val());
    else if (a === '--no-stock') o.stock = false;
    else if (a === '--no-doc') o.doc = false;
    else if (a === '--help' || a === '-h') {
      process.stdout.write(HELP);
      process.exit(0);
    } else usage(`unknown option ${a}`);
  }
  return o;
}

const HELP = `Usage: npm run bench [-- options]

ha against MHA 0.58 on the same lab (see docs/benchmarks.md).
  --runs N            runs per scenario and tool (default 3)
  --scenarios a,b,..  which scenarios (default a,b,c,d,e):
${Object.entries(SCENARIOS)
  .map(([k, v]) => `                        ${k}  ${v}`)
  .join('\n')}
  --tools ha,mha      which tools (default both, alternating)
  --out FILE          raw results as JSON (default bench/results/failover-DATE.json)
  --charts DIR        timeline SVGs (default docs/bench/)
  --no-stock          skip running stock MHA (without the shim) first
  --no-doc            do not rewrite the failover section of docs/benchmarks.md

Exit codes: 0 every run completed (whatever the figures), 1 a run failed or MHA could not be set up, 2 usage.
`;

function usage(msg: string): never {
  process.stderr.write(`bench/failover: ${msg}\n\n${HELP}`);
  process.exit(2);
}

function log(s: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 23)} ${s}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// How the application finds the master: the host with read_only=0 (what a VIP or proxy would point
// at). Identical for both tools; probes all hosts at once with short timeouts, so a host cut off
// the network costs one connect timeout, not one per host.

async function probeReadOnly(h: LabHost): Promise<number | undefined> {
  let c: Connection | undefined;
  try {
    c = await createConnection({ host: h.ip, port: h.mysqlPort, user: ADMIN_USER, password: ADMIN_PASSWORD, connectTimeout: 300 });
    const [rows] = await c.query({ sql: 'SELECT @@GLOBAL.read_only AS ro', timeout: 300 });
    return Number((rows as Array<{ ro: unknown }>)[0]?.ro);
  } catch {
    return undefined;
  } finally {
    c?.destroy();
  }
}

async function writableHost(lab: Lab, exclude?: number): Promise<LabHost> {
  const hosts = lab.hosts.filter((h) => h.index !== exclude);
  const ro = await Promise.all(hosts.map(probeReadOnly));
  const w = hosts.filter((_, i) => ro[i] === 0);
  if (w.length === 0) throw new Error('no writable host');
  return w[0]!;
}

/** The privileged writer of scenario e, following the writable host like the load. */
function privilegedWriter(lab: Lab) {
  return startPrivilegedWriter({ target: () => writableHost(lab), connectTimeoutMs: 500, queryTimeoutMs: 2000, pauseMs: 5, maxDurationMs: 120_000 });
}

/**
 * ms from `since` to the first acknowledged write that the new master itself took (the row's
 * server_id is the new master's): an insert acknowledged by the old master just after the fault
 * does not count as "writes are back".
 */
async function firstAckOn(lab: Lab, res: WriteLoadResult, newMaster: number, since: number): Promise<number> {
  const sid = lab.host(newMaster).serverId;
  const own = new Set((await lab.sql(newMaster, `SELECT id FROM hatest.\`${res.table}\` WHERE server_id = ?`, [sid])).map((r) => Number(r.id)));
  const first = res.acked.find((a) => a.at >= since && own.has(a.n));
  return first ? first.at - since : NaN;
}

async function idsOn(lab: Lab, h: number, table: string): Promise<Set<number>> {
  return new Set((await lab.sql(h, `SELECT id FROM hatest.${table}`)).map((r) => Number(r.id)));
}

/** Waits (up to timeoutMs) until CHECKSUM TABLE agrees on every host; false if it never does. */
async function waitEqual(lab: Lab, hosts: number[], tables: string[], timeoutMs = 20_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const sums = await Promise.all(
        hosts.map(async (h) => (await lab.sql(h, `CHECKSUM TABLE ${tables.map((t) => `hatest.${t}`).join(', ')}`)).map((r) => `${r.Checksum}`).join(',')),
      );
      if (sums.every((s) => s === sums[0])) return true;
    } catch {
      /* a host not ready yet */
    }
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
}

// ---------------------------------------------------------------------------------------------
// The two tools: how each is started, and what its log says at each step.

interface ToolAdapter {
  name: ToolName;
  /** The log line that says the master is watched. */
  monitoring: RegExp;
  /** The master declared dead (the start of the failover). */
  declaredDead: RegExp;
  /** The new master set writable. */
  writable: RegExp;
  /** The failover finished; group 1 names the new master (server name or address). */
  completed: RegExp;
  managerArgv(conf: string): string[];
  switchArgv(conf: string, newMaster: LabHost): string[];
  env: NodeJS.ProcessEnv;
  /** Host index from the completed line's group 1. */
  hostOf(lab: Lab, name: string): number | undefined;
}

const HA: ToolAdapter = {
  name: 'ha',
  monitoring: /monitoring master /,
  declaredDead: /is dead: starting the failover/,
  writable: /read_only=0 on server\d+: the new master takes writes/,
  completed: /failover completed: (server\d+) is the new master/,
  managerArgv: (conf) => [HA_BIN, 'manager', '--conf', conf],
  switchArgv: (conf, nm) => [HA_BIN, 'switch', '--conf', conf, '--online', '--new-master', nm.ip, '--orig-master-is-new-slave', '--yes'],
  env: { NO_COLOR: '1' },
  hostOf: (_lab, name) => Number(/^server(\d+)$/.exec(name)?.[1]) || undefined,
};

const MHA: ToolAdapter = {
  name: 'MHA',
  monitoring: /Ping\(\w+\) succeeded, waiting until MySQL doesn't respond/,
  declaredDead: /Master is not reachable from health checker!|Starting master failover/,
  writable: /Setting read_only=0 on /,
  completed: /Master failover to (\S+?)\(\S+\) completed successfully/,
  managerArgv: (conf) => ['masterha_manager', `--conf=${conf}`],
  switchArgv: (conf, nm) => [
    'masterha_master_switch',
    `--conf=${conf}`,
    '--master_state=alive',
    `--new_master_host=${nm.ip}`,
    `--new_master_port=${nm.mysqlPort}`,
    '--orig_master_is_new_slave',
    '--interactive=0',
  ],
  env: SHIM_ENV,
  hostOf: (lab, name) => lab.hostByIp(name)?.index,
};

const ADAPTERS: Record<ToolName, ToolAdapter> = { ha: HA, MHA };

// ---------------------------------------------------------------------------------------------

interface Run {
  scenario: ScenarioId;
  tool: ToolName;
  run: number;
  ok: boolean;
  error?: string;
  /** ms from the fault to the tool's "master is dead" line. */
  detectMs?: number;
  /** ms from "master is dead" to the tool's "completed" line. */
  failoverMs?: number;
  /** ms from the fault to the new master's read_only=0 line. */
  writableMs?: number;
  /** ms from the fault (switch command start in e) to the first acknowledged write after it. */
  firstAckMs?: number;
  /** Longest gap between acknowledged writes of the unprivileged load (whole run). */
  longestGapMs: number;
  /** Duration of the switch command (e). */
  commandMs?: number;
  acked: number;
  lost: number;
  /** The lost rows' numbers. */
  lostIds?: number[];
  /** d: lost rows that the cut-off old master has (it still runs): acknowledged, never replicated. */
  lostOnOldMasterOnly?: number;
  privAcked?: number;
  privLost?: number;
  /** Rows on the old master that the new master does not have (e). */
  diverged?: number;
  slavesEqual: boolean;
  newMaster?: number;
  /** Acks per 100 ms from -2 s around the fault. */
  timeline: number[];
  log: string;
}

const BIN_MS = 100;
const BEFORE_MS = 2000;

function timeline(res: WriteLoadResult, faultAt: number, afterMs: number): number[] {
  const bins = new Array<number>(Math.ceil((BEFORE_MS + afterMs) / BIN_MS)).fill(0);
  for (const a of res.acked) {
    const i = Math.floor((a.at - (faultAt - BEFORE_MS)) / BIN_MS);
    if (i >= 0 && i < bins.length) bins[i]!++;
  }
  return bins;
}

/** The ha app1.cnf and MHA's app.cnf for one lab: the same file, as an MHA user would reuse it. */
function writeConf(lab: Lab): string {
  return lab.writeConfig({ serverDefault: { ping_interval: 1 }, servers: { 2: { candidate_master: 1 } } });
}

class Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  code: number | null | undefined;
  constructor(argv: string[], logFile: string, env: NodeJS.ProcessEnv) {
    const fd = fs.openSync(logFile, 'a');
    this.child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
    fs.closeSync(fd);
    live.add(this);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, sig) => {
        this.code = sig ? -1 : code;
        live.delete(this);
        resolve(this.code);
      });
      this.child.on('error', () => {
        this.code = -1;
        live.delete(this);
        resolve(-1);
      });
    });
  }
  kill(): void {
    if (this.code === undefined && this.child.pid) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  async wait(ms: number): Promise<number | null | 'timeout'> {
    return Promise.race([this.exited, sleep(ms).then(() => 'timeout' as const)]);
  }
}
const live = new Set<Proc>();
process.on('exit', () => {
  for (const p of live) p.kill();
});

async function waitLine(f: LogFollower, re: RegExp, p: Proc | undefined, what: string, timeoutMs: number): Promise<LogLine> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    f.poll();
    const l = f.find(re);
    if (l) return l;
    if (p && p.code !== undefined)
      throw new Error(
        `exited (code ${p.code}) before its log showed ${what}; last lines:\n${f.lines
          .slice(-15)
          .map((x) => x.text)
          .join('\n')}`,
      );
    if (Date.now() > deadline)
      throw new Error(
        `no ${what} within ${timeoutMs / 1000} s; last lines:\n${f.lines
          .slice(-15)
          .map((x) => x.text)
          .join('\n')}`,
      );
    await sleep(10);
  }
}

/** Stops a slave's IO thread and lets the load run on, so the slave lags. */
async function lag(lab: Lab, load: WriteLoad, h: number, ms: number): Promise<void> {
  await lab.stopSlaveIo(h);
  const before = load.ackedCount;
  await sleep(ms);
  if (load.ackedCount - before < 50) throw new Error(`the load wrote only ${load.ackedCount - before} rows while server${h} lagged`);
}

async function runFailover(scenario: ScenarioId, tool: ToolAdapter, run: number, keepDir: string): Promise<Run> {
  const lab = await Lab.up({ name: `bench-${scenario}-${tool.name}-${run}`, hosts: 3, sshMesh: tool.name === 'MHA', sshdEnv: tool.name === 'MHA' ? SHIM_ENV : undefined });
  const logFile = path.join(keepDir, `${scenario}-${tool.name}-${run}.log`);
  fs.rmSync(logFile, { force: true });
  const follower = new LogFollower(logFile);
  let mgr: Proc | undefined;
  let load: WriteLoad | undefined;
  const r: Run = { scenario, tool: tool.name, run, ok: false, longestGapMs: NaN, acked: 0, lost: 0, slavesEqual: false, timeline: [], log: path.relative(ROOT, logFile) };
  try {
    const conf = writeConf(lab);
    load = lab.startWriteLoad({ target: () => writableHost(lab), connectTimeoutMs: 500, queryTimeoutMs: 2000, retryDelayMs: 20, maxDurationMs: 170_000 });
    await load.waitForAcks(100, 15_000);
    mgr = new Proc(tool.managerArgv(conf), logFile, tool.env);
    await waitLine(follower, tool.monitoring, mgr, 'that it monitors the master', 60_000);
    if (scenario === 'b') await lag(lab, load, 3, 1500);
    if (scenario === 'c') {
      await lag(lab, load, 3, 700);
      await lag(lab, load, 2, 1000); // server3 behind server2 (the candidate), server2 behind the master
    }
    const faultAt = Date.now();
    if (scenario === 'd') await lab.cutNetwork(1);
    else await lab.killMysqld(1);
    const code = await mgr.wait(120_000);
    if (code === 'timeout') throw new Error(`${tool.name} did not finish within 120 s`);
    follower.stop();
    const dead = follower.findAfter(tool.declaredDead, faultAt);
    const writable = follower.findAfter(tool.writable, faultAt);
    const done = follower.findAfter(tool.completed, faultAt);
    if (dead) r.detectMs = dead.at - faultAt;
    if (writable) r.writableMs = writable.at - faultAt;
    if (dead && done) r.failoverMs = done.at - dead.at;
    const nmName = done ? tool.completed.exec(done.text)?.[1] : undefined;
    r.newMaster = nmName ? tool.hostOf(lab, nmName) : undefined;
    if (code !== 0 || !r.newMaster) throw new Error(`${tool.name} exited with code ${code}${r.newMaster ? '' : ' without naming a new master'}`);
    await load.waitForAcks(load.ackedCount + 50, 20_000);
    const res = await load.stop();
    load = undefined;
    r.acked = res.acked.length;
    const lostIds = await res.verifyOn(r.newMaster);
    r.lost = lostIds.length;
    r.lostIds = lostIds;
    if (scenario === 'd' && lostIds.length) {
      // The cut-off master still runs; lab.sql reaches it over its unix socket.
      const onOld = await idsOn(lab, 1, 'load');
      r.lostOnOldMasterOnly = lostIds.filter((n) => onOld.has(n)).length;
    }
    r.firstAckMs = await firstAckOn(lab, res, r.newMaster, faultAt);
    r.longestGapMs = res.longestGapMs;
    r.timeline = timeline(res, faultAt, scenario === 'd' ? 30_000 : 15_000);
    r.slavesEqual = await waitEqual(lab, [2, 3], ['load']);
    r.ok = true;
  } catch (e) {
    r.error = e instanceof Error ? e.message : String(e);
  } finally {
    follower.stop();
    mgr?.kill();
    load?.abort();
    for (const h of lab.hosts) if (h.networkCut) await lab.healNetwork(h.index).catch(() => undefined);
    await lab.down();
  }
  return r;
}

async function runSwitch(tool: ToolAdapter, run: number, keepDir: string): Promise<Run> {
  const lab = await Lab.up({ name: `bench-e-${tool.name}-${run}`, hosts: 3, sshMesh: tool.name === 'MHA', sshdEnv: tool.name === 'MHA' ? SHIM_ENV : undefined });
  const logFile = path.join(keepDir, `e-${tool.name}-${run}.log`);
  fs.rmSync(logFile, { force: true });
  let load: WriteLoad | undefined;
  let priv: ReturnType<typeof privilegedWriter> | undefined;
  const r: Run = { scenario: 'e', tool: tool.name, run, ok: false, longestGapMs: NaN, acked: 0, lost: 0, slavesEqual: false, timeline: [], log: path.relative(ROOT, logFile) };
  try {
    const conf = writeConf(lab);
    await lab.sql(1, 'CREATE TABLE hatest.priv (id INT PRIMARY KEY)');
    await lab.waitForSlaveSync();
    load = lab.startWriteLoad({ target: () => writableHost(lab), connectTimeoutMs: 500, queryTimeoutMs: 2000, retryDelayMs: 20, maxDurationMs: 170_000 });
    priv = privilegedWriter(lab);
    await load.waitForAcks(200, 15_000);
    const nm = lab.host(2);
    const t0 = Date.now();
    const p = new Proc(tool.switchArgv(conf, nm), logFile, tool.env);
    const code = await p.wait(120_000);
    r.commandMs = Date.now() - t0;
    if (code !== 0) throw new Error(`${tool.name} switch exited with ${code === 'timeout' ? 'no exit after 120 s' : `code ${code}`}; log ${logFile}`);
    r.newMaster = 2;
    await sleep(1000);
    await load.waitForAcks(load.ackedCount + 50, 20_000);
    const res = await load.stop();
    load = undefined;
    await priv.stop();
    r.acked = res.acked.length;
    r.lost = (await res.verifyOn(2)).length;
    const privOnNew = await idsOn(lab, 2, 'priv');
    r.privAcked = priv.acked.length;
    r.privLost = priv.acked.filter((a) => !privOnNew.has(a.n)).length;
    // Rows that landed on the old master and never reached the new one: the two have diverged.
    const loadOnNew = await idsOn(lab, 2, 'load');
    r.diverged = [...(await idsOn(lab, 1, 'load'))].filter((n) => !loadOnNew.has(n)).length + [...(await idsOn(lab, 1, 'priv'))].filter((n) => !privOnNew.has(n)).length;
    r.firstAckMs = await firstAckOn(lab, res, 2, t0);
    r.longestGapMs = res.longestGapMs;
    r.timeline = timeline(res, t0, 5000);
    r.slavesEqual = await waitEqual(lab, [1, 2, 3], ['load', 'priv']);
    r.ok = true;
  } catch (e) {
    r.error = e instanceof Error ? e.message : String(e);
  } finally {
    load?.abort();
    await priv?.stop();
    await lab.down();
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Stock MHA: what happens without the shim (reported as the stock result).

interface StockResult {
  command: string;
  shim: string;
  exitCode: number | undefined;
  error: string;
}

async function stockMha(keepDir: string): Promise<StockResult[]> {
  const out: StockResult[] = [];
  const lab = await Lab.up({ name: 'bench-stock-MHA', hosts: 3, sshMesh: true });
  try {
    const conf = writeConf(lab);
    const runs: Array<{ argv: string[]; shim: string; env: NodeJS.ProcessEnv }> = [
      { argv: ['masterha_check_repl', `--conf=${conf}`], shim: 'none', env: {} },
      { argv: ['masterha_manager', `--conf=${conf}`], shim: 'none', env: {} },
      { argv: MHA.switchArgv(conf, lab.host(2)), shim: 'none', env: {} },
      // With only the sprintf half of the shim (and none on the hosts): the next thing that breaks.
      { argv: ['masterha_check_repl', `--conf=${conf}`], shim: 'HaBenchNoRedundantWarning only', env: { PERL5LIB: SHIM_DIR, PERL5OPT: '-MHaBenchNoRedundantWarning' } },
    ];
    for (const [i, x] of runs.entries()) {
      const r = await execa(x.argv[0]!, x.argv.slice(1), { reject: false, all: true, timeout: 60_000, env: { ...process.env, ...x.env } });
      const all = typeof r.all === 'string' ? r.all : '';
      fs.writeFileSync(path.join(keepDir, `stock-${i + 1}.log`), all);
      const err = all.split('\n').find((l) => /Redundant argument|Unknown system variable|\[error\]/.test(l)) ?? all.trim().split('\n').at(-1) ?? '';
      out.push({ command: x.argv[0]!, shim: x.shim, exitCode: r.exitCode, error: err.replace(/^\w{3} \w{3} +\d+ [\d:]+ \d{4} - /, '').trim() });
    }
  } finally {
    await lab.down();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Summary

interface Stat {
  median: number;
  min: number;
  max: number;
  n: number;
}
function stat(values: Array<number | undefined>): Stat | undefined {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return undefined;
  const mid = v.length >> 1;
  return { median: v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2, min: v[0]!, max: v.at(-1)!, n: v.length };
}

const FIGURES: Array<{ key: keyof Run; label: string; unit: 'ms' | 'rows' | 'bool'; scenarios: ScenarioId[] }> = [
  { key: 'detectMs', label: 'fault → master declared dead', unit: 'ms', scenarios: ['a', 'b', 'c', 'd'] },
  { key: 'failoverMs', label: 'declared dead → failover complete', unit: 'ms', scenarios: ['a', 'b', 'c', 'd'] },
  { key: 'writableMs', label: 'fault → new master writable (log)', unit: 'ms', scenarios: ['a', 'b', 'c', 'd'] },
  { key: 'firstAckMs', label: 'fault → first write acknowledged by the new master', unit: 'ms', scenarios: ['a', 'b', 'c', 'd', 'e'] },
  { key: 'commandMs', label: 'switch command duration', unit: 'ms', scenarios: ['e'] },
  { key: 'longestGapMs', label: 'longest write gap (load)', unit: 'ms', scenarios: ['a', 'b', 'c', 'd', 'e'] },
  { key: 'lost', label: 'acknowledged writes lost (load)', unit: 'rows', scenarios: ['a', 'b', 'c', 'd', 'e'] },
  { key: 'privLost', label: 'acknowledged writes lost (privileged)', unit: 'rows', scenarios: ['e'] },
  { key: 'diverged', label: 'rows only on the old master', unit: 'rows', scenarios: ['e'] },
  { key: 'slavesEqual', label: 'servers equal afterwards', unit: 'bool', scenarios: ['a', 'b', 'c', 'd', 'e'] },
];

function fmtStat(s: Stat | undefined, unit: string): string {
  if (!s) return 'n/a';
  const f = (x: number) => (unit === 'ms' ? (x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`) : `${x}`);
  return s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

function summaryTable(runs: Run[], scenarios: ScenarioId[]): { markdown: string; data: Record<string, unknown>[] } {
  const rows: string[] = ['| scenario | figure | MHA median (min–max) | ha median (min–max) | ha/MHA |', '|---|---|---|---|---|'];
  const data: Record<string, unknown>[] = [];
  for (const sc of scenarios) {
    const okRuns = (tool: ToolName) => runs.filter((r) => r.scenario === sc && r.tool === tool && r.ok);
    const failed = (tool: ToolName) => runs.filter((r) => r.scenario === sc && r.tool === tool && !r.ok).length;
    for (const f of FIGURES.filter((x) => x.scenarios.includes(sc))) {
      const cell = (tool: ToolName) => {
        const rs = okRuns(tool);
        if (f.unit === 'bool') return { text: rs.length ? `${rs.filter((r) => r[f.key] === true).length}/${rs.length} yes` : 'n/a', stat: undefined };
        const s = stat(rs.map((r) => r[f.key] as number | undefined));
        return { text: fmtStat(s, f.unit), stat: s };
      };
      const m = cell('MHA');
      const h = cell('ha');
      const ratio = m.stat && h.stat && f.unit === 'ms' && m.stat.median > 0 ? (h.stat.median / m.stat.median).toFixed(2) : '';
      rows.push(`| ${sc} | ${f.label} | ${m.text} | ${h.text} | ${ratio} |`);
      data.push({ scenario: sc, figure: f.key, label: f.label, MHA: m.stat ?? m.text, ha: h.stat ?? h.text, ratio: ratio ? Number(ratio) : null });
    }
    for (const tool of ['MHA', 'ha'] as const) {
      const n = failed(tool);
      if (n) rows.push(`| ${sc} | **${tool} runs failed** | ${n} | | |`);
    }
  }
  return { markdown: rows.join('\n'), data };
}

/** The run whose firstAckMs is the median of its tool's runs (the one a chart shows). */
function medianRun(runs: Run[]): Run | undefined {
  const ok = runs.filter((r) => r.ok && Number.isFinite(r.firstAckMs)).sort((a, b) => a.firstAckMs! - b.firstAckMs!);
  return ok[(ok.length - 1) >> 1];
}

// ---------------------------------------------------------------------------------------------
// docs/benchmarks.md: the section between the markers is rewritten by every run.

const DOC = path.join(ROOT, 'docs', 'benchmarks.md');
const BEGIN_MARK = '<!-- bench:failover:begin (generated by npm run bench; edits inside are overwritten) -->';
const END_MARK = '<!-- bench:failover:end -->';

async function gitState(): Promise<{ commit: string; dirty: string[] }> {
  const head = await execa('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, reject: false });
  const st = await execa('git', ['status', '--porcelain', '--', 'src', 'bench', 'test/lab'], { cwd: ROOT, reject: false });
  return {
    commit: head.stdout.trim() || '?',
    dirty: st.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3)),
  };
}

interface DocInput {
  date: string;
  command: string;
  durationS: number;
  machine: Machine;
  git: { commit: string; dirty: string[] };
  stock: StockResult[];
  summaryMarkdown: string;
  charts: Record<string, string>;
  runs: Run[];
  runsPerScenario: number;
  resultsFile: string;
  logsDir: string;
}

function renderDoc(d: DocInput): string {
  const m = d.machine;
  const ms = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`);
  const lines = [
    BEGIN_MARK,
    '## Failover: ha against MHA 0.58',
    '',
    `Measured ${d.date.slice(0, 16).replace('T', ' ')} UTC with \`${d.command}\` (bench/failover.ts; ha ${d.git.commit}${d.git.dirty.length ? ` with uncommitted changes in ${d.git.dirty.join(', ')}` : ''}), ${d.runsPerScenario} runs per scenario and tool, ${Math.round(d.durationS / 60)} min in all.`,
    '',
    `**Machine:** ${m.cpu} CPUs, ${m.memoryGiB} GiB RAM, Linux ${m.kernel}, Node ${m.node}, MariaDB ${m.mariadb}, ${m.mha}, Perl ${m.perl}. Lab hosts are network namespaces on one machine (see test/lab), so network latency is near zero; both tools share the machine with the lab's servers and the write load.`,
    '',
    '### Stock MHA 0.58 on this machine',
    '',
    d.stock.length
      ? [
          'Run first, on a fresh lab, exactly as Debian ships it:',
          '',
          "| command | shim | exit | MHA's error |",
          '|---|---|---:|---|',
          ...d.stock.map((s) => `| ${s.command} | ${s.shim} | ${s.exitCode ?? '–'} | ${s.error.replace(/\|/g, '\\|')} |`),
          '',
          'Stock MHA 0.58 cannot monitor, fail over or switch here at all. Every figure below for MHA is therefore MHA **with the runtime shim** described next.',
        ].join('\n')
      : '(not run this time: `--no-stock`)',
    '',
    '### The shim (bench/mha/)',
    '',
    "Loaded into every MHA process, MHA's files untouched: on the manager with `PERL5LIB=bench/mha PERL5OPT=-MHaBenchMhaShim`, and into the node tools MHA runs on the hosts over SSH by the lab's sshd (`SetEnv` of the same two variables, for MHA's labs only).",
    '',
    '- `HaBenchMhaShim.pm` loads the two modules below, in this order.',
    "- `HaBenchNoRedundantWarning.pm`: every MHA file says `use warnings FATAL => 'all'`; Perl 5.22 added the category `redundant` to `all`, so `MHA::NodeUtil::parse_mysql_version`, which calls `sprintf('%03d%03d%03d', @all_numbers_of_the_version)`, dies on a version with more than three numbers (\"10.11.19-MariaDB-0+deb12u1-log\"). The shim clears the `redundant` bit in `$warnings::Bits{all}` and its fatal bit in `$warnings::DeadBits{all}` before MHA is compiled: the same as `no warnings 'redundant'` after each `use warnings FATAL => 'all'`. sprintf then ignores the extra arguments, as it always did.",
    '- `HaBenchNoSuperReadOnly.pm`: wraps `MHA::SlaveUtil::check_if_super_read_only`, which runs `SELECT @@global.super_read_only` with RaiseError; MariaDB has no such variable. The wrapper returns the sub\'s own "not on" answer `(0, 0)` for exactly that error ("Unknown system variable \'super_read_only\'") and passes every other error and answer through.',
    '',
    '### Method',
    '',
    "- **Same lab, same config.** Each run gets a fresh 3-host lab (MariaDB 10.11, file/position replication) and one app1.cnf used by both tools: `ping_interval=1`, `candidate_master=1` on server2, no hook scripts for either tool (so nothing moves a VIP; see below how the application finds the master). MHA's labs also get SSH between the hosts (MHA needs it; ha's labs accept the manager's key from the manager only, and ha never uses host-to-host SSH).",
    '- **Alternating.** For each round, every scenario runs with both tools; which tool goes first alternates from round to round.',
    "- **The application** is the lab's write load: numbered INSERTs as an unprivileged user, back to back (about 200/s), each acknowledged commit recorded with its time. After any error it looks for the host with `read_only=0` (probing all hosts at once, 300 ms timeouts) — what a VIP or proxy would point at. In scenario e a second writer with ALL PRIVILEGES writes too (MariaDB's read_only does not stop it).",
    "- **Scenarios.** a: `kill -9` of the master's mysqld, slaves in sync. b: server3's IO thread stopped for 1.5 s of load before the kill (server3 must get a relay-log diff). c: server3 stopped, then 0.7 s later server2 (the candidate) too, 1 s more load, then the kill: the candidate is behind and the dead master's binlog must be saved over SSH and applied. d: the master's network link cut (no SSH, no MySQL). e: online switch to server2 with `--orig-master-is-new-slave` (`ha switch --online` / `masterha_master_switch --master_state=alive --interactive=0`).",
    '- **Figures.** From the load: *first write* = time from the fault (or the switch command\'s start) to the first INSERT acknowledged by the new master itself (its rows carry its server_id); *longest write gap* = longest time between two acknowledged INSERTs in the run; *lost* = acknowledged numbers missing on the new master; *servers equal* = CHECKSUM TABLE equal on the new master and every other surviving server within 20 s; in e, *rows only on the old master* = rows the old master has and the new master does not. From each tool\'s log, every line stamped when it appeared in the log file (polled every 10 ms; MHA\'s own timestamps have 1 s resolution): *declared dead* = MHA "Master is not reachable from health checker!", ha "is dead: starting the failover"; *failover* = from there to MHA "Master failover to … completed successfully" / ha "failover completed"; *writable* = the line setting read_only=0 on the new master.',
    `- Raw runs: \`${d.resultsFile}\`; each tool's log of each run: \`${d.logsDir}/\`.`,
    '',
    '### Results (median, min–max)',
    '',
    d.summaryMarkdown,
    '',
    '### Timelines',
    '',
    'Acknowledged writes of the unprivileged load per 100 ms, from 2 s before the fault; for each tool the run with the median *first write*.',
    '',
    ...Object.entries(d.charts).map(([sc, file]) => `![${sc}. ${SCENARIOS[sc as ScenarioId]}](${path.relative(path.dirname(DOC), path.join(ROOT, file))})\n`),
    '### Every run',
    '',
    '| scenario | tool | run | declared dead | failover | writable | first write | longest gap | lost | servers equal | note |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|',
    ...d.runs.map(
      (r) =>
        `| ${r.scenario} | ${r.tool} | ${r.run} | ${ms(r.detectMs)} | ${ms(r.failoverMs ?? r.commandMs)} | ${ms(r.writableMs)} | ${ms(r.firstAckMs)} | ${ms(r.longestGapMs)} | ${r.ok ? `${r.lost}${r.privLost !== undefined ? ` + ${r.privLost} privileged` : ''} of ${r.acked}${r.privAcked !== undefined ? ` + ${r.privAcked}` : ''}` : '–'} | ${r.ok ? (r.slavesEqual ? 'yes' : '**no**') : '–'} | ${r.ok ? [r.diverged ? `${r.diverged} rows only on the old master` : '', r.lostIds?.length ? `lost #${r.lostIds.join(', #')}${r.lostOnOldMasterOnly !== undefined ? `; ${r.lostOnOldMasterOnly} of them on the cut-off old master (acknowledged, never replicated)` : ''}` : ''].filter(Boolean).join('; ') : `FAILED: ${(r.error ?? '').split('\n')[0]!.replace(/\|/g, '\\|').slice(0, 200)}`} |`,
    ),
    '',
    'In e, the "failover" column is the switch command\'s duration.',
    END_MARK,
  ];
  return lines.join('\n');
}

function writeDoc(section: string): void {
  let doc = fs.existsSync(DOC) ? fs.readFileSync(DOC, 'utf8') : '# Benchmarks\n';
  const b = doc.indexOf(BEGIN_MARK.slice(0, 30));
  const e = doc.indexOf(END_MARK);
  if (b >= 0 && e > b) doc = doc.slice(0, b) + section + doc.slice(e + END_MARK.length);
  else {
    // First time: before the binlog engine's section, after the file's introduction.
    const at = doc.indexOf('<!-- bench:binlog:begin');
    doc = at >= 0 ? `${doc.slice(0, at)}${section}\n\n${doc.slice(at)}` : `${doc.trimEnd()}\n\n${section}\n`;
  }
  fs.writeFileSync(DOC, doc);
}

// ---------------------------------------------------------------------------------------------

interface Machine {
  cpu: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  mariadb: string;
  mha: string;
  perl: string;
}

async function machine(): Promise<Machine> {
  const cpus = os.cpus();
  const mha = await execa('dpkg-query', ['-W', '-f=${Version}', 'mha4mysql-manager'], { reject: false });
  return {
    cpu: `${cpus.length} × ${cpus[0]?.model ?? '?'}`,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: os.release(),
    node: process.version,
    mariadb: await mariadbVersion().catch(() => '?'),
    mha: `mha4mysql-manager ${mha.stdout || '?'}`,
    perl: (await execa('perl', ['-e', 'print $^V'], { reject: false })).stdout,
  };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const keepDir = path.join(path.dirname(o.out), `failover-logs-${path.basename(o.out, '.json')}`);
  fs.rmSync(keepDir, { recursive: true, force: true });
  fs.mkdirSync(keepDir, { recursive: true });
  fs.mkdirSync(o.charts, { recursive: true });
  const started = new Date();
  const git = await gitState();
  const mach = await machine();
  log(`machine: ${JSON.stringify(mach)}`);
  let stock: StockResult[] = [];
  if (o.stock && o.tools.includes('MHA')) {
    log('stock MHA 0.58 (no shim) on a fresh lab:');
    stock = await stockMha(keepDir);
    for (const s of stock) log(`  ${s.command} [shim: ${s.shim}] → exit ${s.exitCode}: ${s.error}`);
  }
  const runs: Run[] = [];
  for (let i = 1; i <= o.runs; i++) {
    for (const sc of o.scenarios) {
      // Alternate which tool goes first, so a drift in the machine's state does not favour one.
      const order = i % 2 ? o.tools : [...o.tools].reverse();
      for (const t of order) {
        const tool = ADAPTERS[t];
        log(`run ${i}/${o.runs} scenario ${sc} (${SCENARIOS[sc]}) with ${t} …`);
        const r = sc === 'e' ? await runSwitch(tool, i, keepDir) : await runFailover(sc, tool, i, keepDir);
        runs.push(r);
        if (r.ok) {
          log(
            `  ${t}: ${[
              r.detectMs !== undefined ? `detected ${r.detectMs} ms` : '',
              r.failoverMs !== undefined ? `failover ${r.failoverMs} ms` : '',
              r.commandMs !== undefined ? `command ${r.commandMs} ms` : '',
              `first write after ${r.firstAckMs} ms`,
              `longest gap ${r.longestGapMs} ms`,
              `lost ${r.lost}/${r.acked}`,
              r.privLost !== undefined ? `privileged lost ${r.privLost}/${r.privAcked}` : '',
              r.diverged !== undefined ? `diverged ${r.diverged}` : '',
              `servers equal: ${r.slavesEqual ? 'yes' : 'NO'}`,
            ]
              .filter(Boolean)
              .join(', ')}`,
          );
        } else log(`  ${t}: FAILED: ${r.error?.split('\n')[0]} (log: ${r.log})`);
      }
    }
  }
  const table = summaryTable(runs, o.scenarios);
  process.stdout.write(`\n${table.markdown}\n\n`);

  const charts: Record<string, string> = {};
  for (const sc of o.scenarios) {
    const series: TimelineSeries[] = [];
    for (const t of o.tools) {
      const r = medianRun(runs.filter((x) => x.scenario === sc && x.tool === t));
      if (r) series.push({ label: `${t} (run ${r.run})`, bins: r.timeline, startMs: -BEFORE_MS, binMs: BIN_MS });
    }
    if (!series.length) continue;
    const file = path.join(o.charts, `failover-${sc}.svg`);
    fs.writeFileSync(file, await timelineSvg(`${sc}. ${SCENARIOS[sc]}: acknowledged writes per 100 ms (median run of each tool)`, series));
    charts[sc] = path.relative(ROOT, file);
    log(`chart: ${charts[sc]}`);
  }
  const doc = {
    date: started.toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: mach,
    durationS: Math.round((Date.now() - started.getTime()) / 1000),
    stock,
    summary: table.data,
    summaryMarkdown: table.markdown,
    charts,
    runs,
  };
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  fs.writeFileSync(o.out, `${JSON.stringify(doc, null, 2)}\n`);
  if (o.doc) {
    writeDoc(renderDoc({ ...doc, git, runsPerScenario: o.runs, resultsFile: path.relative(ROOT, o.out), logsDir: path.relative(ROOT, keepDir) }));
    log(`docs/benchmarks.md: failover section rewritten`);
  }
  log(`results: ${path.relative(ROOT, o.out)}; tool logs: ${path.relative(ROOT, keepDir)}/ (${doc.durationS} s in all)`);
  const failed = runs.filter((r) => !r.ok);
  if (failed.length) {
    log(`${failed.length} run(s) failed: ${failed.map((r) => `${r.scenario}/${r.tool}/${r.run}`).join(', ')}`);
    process.exitCode = 1;
  }
}

main().then(
  // Exit explicitly: connections to a host whose network a scenario cut are only half-closed by
  // mysql2 (a FIN waiting for an ACK) and would keep the process alive for minutes after the end.
  () => process.exit(process.exitCode ?? 0),
  (e: unknown) => {
    process.stderr.write(`bench/failover: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
