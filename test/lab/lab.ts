// The test lab: real hosts as Linux network namespaces on a private bridge, each with its own sshd
// and MariaDB server, replicating from host 1. The manager under test (this process, in the root
// namespace) reaches them over SSH and MySQL at 10.199.K.11, .12, ... through the bridge (10.199.K.1).
//
//   const lab = await Lab.up({ hosts: 3 });   // ~1 s once the template datadir is cached
//   const cnf = lab.writeConfig();            // an MHA app1.cnf for the lab
//   await lab.killMysqld(1); ...
//   await lab.down();
//
// Every lab has a unique id, namespace/interface names (ha<id>h1, ha<id>v1, ha<id>br) and a free
// /24 (allocated under a lock), and a state file /run/ha-lab/<id>.json listing everything it
// started or created, so a lab left behind by a killed test is reaped by `lab gc` by pid.
// Teardown stops only the lab's own processes (recorded pid + start time, and whatever runs inside
// the lab's own namespaces) and removes only its own namespaces, bridge, veths and directory.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { createConnection, type Connection } from 'mysql2/promise';
import {
  type ProcRef,
  StopWaiting,
  isAlive,
  pidsInNetns,
  procRef,
  runSync,
  signalProc,
  sleepSync,
  tail,
  tcpProbe,
  waitFor,
  waitGone,
  waitGoneSync,
  withFileLock,
  writeFileAtomic,
} from './proc.js';
import { ADMIN_PASSWORD, ADMIN_USER, APP_PASSWORD, APP_USER, INNODB_OPTIONS, MARIADBD, REPL_PASSWORD, REPL_USER, ensureTemplate } from './template.js';
import { WriteLoad, type WriteLoadOptions } from './load.js';

export { ADMIN_PASSWORD, ADMIN_USER, APP_PASSWORD, APP_USER, REPL_PASSWORD, REPL_USER, mariadbVersion } from './template.js';
export { WriteLoad, startPrivilegedWriter } from './load.js';
export type { PrivilegedWriterOptions, WriteAck, WriteLoadOptions, WriteLoadResult } from './load.js';

export const SSHD = '/usr/sbin/sshd';
const SFTP_SERVER = '/usr/lib/openssh/sftp-server';

/** Where state files live (one JSON per lab); `lab gc` scans it. */
export const STATE_DIR = process.env.HA_LAB_STATE_DIR ?? '/run/ha-lab';
const TMPFS_MAGIC = 0x01021994;
/** Lab directory roots this code may use; gc looks in all of them. */
const LAB_ROOTS = [...new Set([process.env.HA_LAB_ROOT, '/dev/shm/ha-lab', '/tmp/ha-lab'].filter((x): x is string => !!x))];

/**
 * Where lab directories (datadirs, binlogs, keys, logs) live: $HA_LAB_ROOT, else /dev/shm/ha-lab
 * when /dev/shm is a tmpfs with at least 1 GiB free (creating a file on this machine's ext4 costs
 * ~0.3 ms, and a datadir has ~200 files), else /tmp/ha-lab.
 */
export const LABS_DIR = ((): string => {
  if (process.env.HA_LAB_ROOT) return process.env.HA_LAB_ROOT;
  try {
    const st = fs.statfsSync('/dev/shm');
    if (st.type === TMPFS_MAGIC && st.bavail * st.bsize >= 2 ** 30) return '/dev/shm/ha-lab';
  } catch {
    /* no /dev/shm */
  }
  return '/tmp/ha-lab';
})();
/** Lab subnets are 10.199.K.0/24. */
const SUBNET_PREFIX = '10.199';

/** A mysqld option value: string/number → key=value, true → key, false → skip-key, null → drop the lab's default. */
export type MysqldOptionValue = string | number | boolean | null;
export type MysqldOptions = Record<string, MysqldOptionValue>;

export interface LabUpOptions {
  /** Number of hosts (default 3). Host 1 is the master, the others replicate from it. */
  hosts?: number;
  /** GTID replication (MASTER_USE_GTID=slave_pos, gtid_strict_mode=ON); default file/position. */
  gtid?: boolean;
  /** A label for `lab list` / `lab down <name>`. */
  name?: string;
  /** Extra or overriding server options for every host's my.cnf (e.g. { slave_net_timeout: '5' }). */
  mysqldOptions?: MysqldOptions;
  /** Per-host overrides, by host index. */
  hostMysqldOptions?: Record<number, MysqldOptions>;
  /**
   * Let hosts SSH to each other with the lab key (MHA needs this; ha does not). Default: the key
   * is accepted only from the manager's address, so a test run of ha proves it needs no SSH mesh.
   */
  sshMesh?: boolean;
  /** Environment for every SSH session on the hosts (sshd_config SetEnv), e.g. a Perl shim for MHA's node tools. */
  sshdEnv?: Record<string, string>;
}

export interface LabHost {
  index: number;
  /** "h1", "h2", ... */
  name: string;
  netns: string;
  /** Root-namespace end of the host's veth pair (on the lab bridge). */
  veth: string;
  ip: string;
  sshPort: number;
  mysqlPort: number;
  serverId: number;
  dir: string;
  datadir: string;
  binlogDir: string;
  relayDir: string;
  tmpDir: string;
  /** Per-host remote_workdir for ha (hosts share one filesystem). */
  remoteWorkdir: string;
  socket: string;
  pidFile: string;
  errorLog: string;
  cnfFile: string;
  hostKeyFile: string;
  sshdConfig: string;
  sshdLog: string;
  /** 0 while mariadbd is not running. */
  mysqldPid: number;
  /** 0 while sshd is not running. */
  sshdPid: number;
  /** Between cutNetwork() and healNetwork(): 'all' (link down) or 'manager' (only the manager cut off); else false. */
  networkCut: false | 'all' | 'manager';
}

interface LabState {
  format: 1;
  id: string;
  name: string;
  createdAt: string;
  /** The process that owns the lab: gc reaps the lab once it is dead, unless detached. */
  owner: ProcRef;
  /** Left up on purpose (CLI `lab up`): gc leaves it alone; `lab down` removes it. */
  detached: boolean;
  subnetIndex: number;
  subnet: string;
  managerIp: string;
  bridge: string;
  dir: string;
  gtid: boolean;
  sshKeyFile: string;
  wrongSshKeyFile: string;
  knownHostsFile: string;
  authorizedKeysFile: string;
  hosts: LabHost[];
  /** Daemons the lab started, by "h1.mysqld" / "h1.sshd". */
  procs: Record<string, ProcRef>;
}

export interface LabSummary {
  id: string;
  name: string;
  subnet: string;
  hosts: number;
  gtid: boolean;
  dir: string;
  ownerPid: number;
  ownerAlive: boolean;
  detached: boolean;
  createdAt: string;
}

/** A result row as mysql2 returns it (column name → value). */
// `any`: the lab, the e2e tests and the bench read columns of every kind from SHOW ... replies;
// `unknown` would need a conversion at each of hundreds of reads that only compare or print them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Row = Record<string, any>;

export interface WriteConfigOptions {
  /** Merged into [server default]; null removes a default. */
  serverDefault?: Record<string, string | number | null>;
  /** Merged into [serverN], by host index; null removes a default. */
  servers?: Record<number, Record<string, string | number | null>>;
  /** Default: <lab dir>/app1.cnf. */
  file?: string;
  /** Hosts left out of the file. */
  omitHosts?: number[];
}

export class LabError extends Error {
  override name = 'LabError';
}

// ---------------------------------------------------------------------------------------------
// Safety net: labs owned by this process are torn down when it exits, even after a failed test.

const ownedLabs = new Set<Lab>();
let safetyNetInstalled = false;

function installSafetyNet(): void {
  if (safetyNetInstalled) return;
  safetyNetInstalled = true;
  const teardownAll = () => {
    for (const lab of [...ownedLabs]) {
      try {
        lab.teardownSync();
      } catch (e) {
        process.stderr.write(`${errMessage(e)}\n`);
      }
    }
  };
  process.on('exit', teardownAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = () => {
      teardownAll();
      if (process.listenerCount(sig) === 1) {
        // We were the only handler: die of the signal as we would have without it.
        process.removeListener(sig, handler);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, handler);
  }
}

// ---------------------------------------------------------------------------------------------

function stateFile(id: string): string {
  return path.join(STATE_DIR, `${id}.json`);
}

function readState(file: string): LabState | undefined {
  try {
    const s = JSON.parse(fs.readFileSync(file, 'utf8')) as LabState;
    return s.format === 1 && typeof s.id === 'string' ? s : undefined;
  } catch {
    return undefined;
  }
}

function readAllStates(): LabState[] {
  let names: string[];
  try {
    names = fs.readdirSync(STATE_DIR);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.json'))
    .map((n) => readState(path.join(STATE_DIR, n)))
    .filter((s): s is LabState => !!s);
}

function errMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** Subnet indexes K of 10.199.K.0/24 that some interface address or route of this machine uses. */
async function subnetsInUse(): Promise<Set<number>> {
  const used = new Set<number>();
  const [addrs, routes] = await Promise.all([execa('ip', ['-j', '-4', 'addr', 'show']), execa('ip', ['-j', '-4', 'route', 'show', 'table', 'all'])]);
  const mark = (cidr: string) => {
    const [addr, lenText] = cidr.split('/');
    const len = lenText === undefined ? 32 : Number(lenText);
    const o = (addr ?? '').split('.').map(Number);
    if (o.length !== 4 || o.some((x) => !Number.isInteger(x))) return;
    if (len < 16) return; // default and very wide routes: a /24 is more specific anyway
    if (o[0] !== 10 || o[1] !== 199) return;
    if (len >= 24) used.add(o[2]!);
    else {
      const span = 1 << (24 - len);
      const base = o[2]! & ~(span - 1);
      for (let k = base; k < base + span; k++) used.add(k);
    }
  };
  for (const link of JSON.parse(addrs.stdout || '[]') as { addr_info?: { local?: string; prefixlen?: number }[] }[]) {
    for (const a of link.addr_info ?? []) if (a.local) mark(`${a.local}/24`);
  }
  for (const r of JSON.parse(routes.stdout || '[]') as { dst?: string }[]) {
    if (r.dst && r.dst !== 'default') mark(r.dst.includes('/') ? r.dst : `${r.dst}/32`);
  }
  return used;
}

function randomId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(5);
  let id = '';
  for (const b of bytes) id += alphabet[b % alphabet.length];
  return /^[a-z]/.test(id) ? id : `x${id.slice(1)}`;
}

/** Picks a free id and subnet and writes the state file, under the allocation lock. */
async function allocate(hostCount: number, opts: LabUpOptions): Promise<LabState> {
  fs.mkdirSync(STATE_DIR, { recursive: true });
  fs.mkdirSync(LABS_DIR, { recursive: true });
  return withFileLock(path.join(STATE_DIR, '.alloc.lock'), async () => {
    const states = readAllStates();
    const used = await subnetsInUse();
    for (const s of states) used.add(s.subnetIndex);
    let k = -1;
    for (let i = 1; i <= 254; i++) {
      if (!used.has(i)) {
        k = i;
        break;
      }
    }
    if (k < 0) throw new LabError(`no free lab subnet ${SUBNET_PREFIX}.K.0/24 (all 254 in use)`);
    let id = '';
    for (let tries = 0; ; tries++) {
      id = randomId();
      const taken =
        states.some((s) => s.id === id) ||
        LAB_ROOTS.some((root) => fs.existsSync(path.join(root, id))) ||
        fs.existsSync(`/sys/class/net/ha${id}br`) ||
        (fs.existsSync('/run/netns') && fs.readdirSync('/run/netns').some((n) => n.startsWith(`ha${id}`)));
      if (!taken) break;
      if (tries > 100) throw new LabError('cannot find a free lab id');
    }
    const dir = path.join(LABS_DIR, id);
    const subnet = `${SUBNET_PREFIX}.${k}`;
    const hosts: LabHost[] = [];
    for (let i = 1; i <= hostCount; i++) {
      const hdir = path.join(dir, `h${i}`);
      hosts.push({
        index: i,
        name: `h${i}`,
        netns: `ha${id}h${i}`,
        veth: `ha${id}v${i}`,
        ip: `${subnet}.${10 + i}`,
        sshPort: 22,
        mysqlPort: 3306,
        serverId: i,
        dir: hdir,
        datadir: path.join(hdir, 'data'),
        binlogDir: path.join(hdir, 'binlog'),
        relayDir: path.join(hdir, 'relay'),
        tmpDir: path.join(hdir, 'tmp'),
        remoteWorkdir: path.join(hdir, 'remote'),
        socket: path.join(hdir, 'mysqld.sock'),
        pidFile: path.join(hdir, 'mysqld.pid'),
        errorLog: path.join(hdir, 'mysqld.err'),
        cnfFile: path.join(hdir, 'my.cnf'),
        hostKeyFile: path.join(hdir, 'ssh_host_ed25519_key'),
        sshdConfig: path.join(hdir, 'sshd_config'),
        sshdLog: path.join(hdir, 'sshd.log'),
        mysqldPid: 0,
        sshdPid: 0,
        networkCut: false,
      });
    }
    const state: LabState = {
      format: 1,
      id,
      name: opts.name ?? id,
      createdAt: new Date().toISOString(),
      owner: procRef(process.pid) ?? { pid: process.pid, start: 0 },
      detached: false,
      subnetIndex: k,
      subnet: `${subnet}.0/24`,
      managerIp: `${subnet}.1`,
      bridge: `ha${id}br`,
      dir,
      gtid: !!opts.gtid,
      sshKeyFile: path.join(dir, 'keys', 'id_ed25519'),
      wrongSshKeyFile: path.join(dir, 'keys', 'wrong_ed25519'),
      knownHostsFile: path.join(dir, 'keys', 'known_hosts'),
      authorizedKeysFile: path.join(dir, 'keys', 'authorized_keys'),
      hosts,
      procs: {},
    };
    writeFileAtomic(stateFile(id), JSON.stringify(state, null, 2));
    return state;
  });
}

/** Command-line form of mysqld options. */
function optionArgs(opts: MysqldOptions | undefined): string[] {
  const args: string[] = [];
  for (const [rawKey, v] of Object.entries(opts ?? {})) {
    const key = rawKey.replace(/^--/, '');
    const norm = key.replace(/-/g, '_');
    if (v === null) continue;
    if (norm === 'log_bin' && (v === false || /^(off|0|false)$/i.test(String(v)))) args.push('--skip-log-bin');
    else if (v === true) args.push(`--${key}`);
    else if (v === false) args.push(`--skip-${key}`);
    else args.push(`--${key}=${v}`);
  }
  return args;
}

/** Manager-side identity of a host: a key pair (ssh-keygen, ed25519, no passphrase). */
async function keygen(file: string, comment: string): Promise<void> {
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
}

// ---------------------------------------------------------------------------------------------

export class Lab {
  private state: LabState;
  private conns = new Map<number, Promise<Connection>>();
  private loads = new Set<WriteLoad>();
  private isDown = false;
  /** Milliseconds spent in each phase of up(). */
  readonly timings: Record<string, number> = {};

  private constructor(state: LabState) {
    this.state = state;
  }

  get id(): string {
    return this.state.id;
  }
  get name(): string {
    return this.state.name;
  }
  get dir(): string {
    return this.state.dir;
  }
  /** "10.199.K.0/24" */
  get subnet(): string {
    return this.state.subnet;
  }
  /** The root namespace's address on the lab bridge (10.199.K.1): where the manager's traffic comes from. */
  get managerIp(): string {
    return this.state.managerIp;
  }
  get bridge(): string {
    return this.state.bridge;
  }
  get gtid(): boolean {
    return this.state.gtid;
  }
  get hosts(): LabHost[] {
    return this.state.hosts;
  }
  /** The manager's private key (its public half is in every host's authorized keys). */
  get sshKeyFile(): string {
    return this.state.sshKeyFile;
  }
  /** A key no host accepts. */
  get wrongSshKeyFile(): string {
    return this.state.wrongSshKeyFile;
  }
  /** "IP ssh-ed25519 AAAA..." for every host. */
  get knownHostsFile(): string {
    return this.state.knownHostsFile;
  }
  get authorizedKeysFile(): string {
    return this.state.authorizedKeysFile;
  }
  get stateFile(): string {
    return stateFile(this.state.id);
  }
  get detached(): boolean {
    return this.state.detached;
  }
  /** The pid of the process that owns the lab (for a detached lab: the `lab up` that built it). */
  get ownerPid(): number {
    return this.state.owner.pid;
  }
  /** True when the owning process still runs: the lab is in use by it (a test run, typically). */
  get ownerAlive(): boolean {
    return isAlive(this.state.owner);
  }

  /** The host with this index (1-based) or this object. */
  host(h: number | LabHost): LabHost {
    const index = typeof h === 'number' ? h : h.index;
    const host = this.state.hosts[index - 1];
    if (!host) throw new LabError(`lab ${this.id} has no host ${index} (hosts 1..${this.state.hosts.length})`);
    return host;
  }

  /** The host with this IP address, if any. */
  hostByIp(ip: string): LabHost | undefined {
    return this.state.hosts.find((h) => h.ip === ip);
  }

  toJSON(): object {
    const s = this.state;
    return {
      id: s.id,
      name: s.name,
      dir: s.dir,
      subnet: s.subnet,
      managerIp: s.managerIp,
      bridge: s.bridge,
      gtid: s.gtid,
      detached: s.detached,
      stateFile: this.stateFile,
      sshKeyFile: s.sshKeyFile,
      wrongSshKeyFile: s.wrongSshKeyFile,
      knownHostsFile: s.knownHostsFile,
      credentials: {
        user: ADMIN_USER,
        password: ADMIN_PASSWORD,
        replUser: REPL_USER,
        replPassword: REPL_PASSWORD,
        appUser: APP_USER,
        appPassword: APP_PASSWORD,
      },
      hosts: s.hosts,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Lifecycle

  /** Builds a lab: bridge, namespaces, sshd and MariaDB per host, replication from host 1. */
  static async up(opts: LabUpOptions = {}): Promise<Lab> {
    const n = opts.hosts ?? 3;
    if (!Number.isInteger(n) || n < 1 || n > 40) throw new LabError(`hosts must be 1..40, got ${n}`);
    if (process.getuid?.() !== 0) throw new LabError('the lab needs root (see test/lab/prereqs.sh)');
    const t0 = Date.now();
    const [tpl, alloc] = await Promise.allSettled([ensureTemplate(), allocate(n, opts)]);
    if (alloc.status === 'rejected') throw alloc.reason;
    const lab = new Lab(alloc.value);
    ownedLabs.add(lab);
    installSafetyNet();
    if (tpl.status === 'rejected') {
      await lab.down();
      throw tpl.reason;
    }
    lab.timings.prepare = Date.now() - t0;
    try {
      await lab.build(tpl.value, opts);
    } catch (e) {
      await lab.down().catch(() => undefined);
      throw e;
    }
    lab.timings.total = Date.now() - t0;
    return lab;
  }

  /** A handle on a lab that exists already (e.g. one left up by `lab up`); it is not owned by this process. */
  static attach(idOrName: string): Lab {
    const s = readState(stateFile(idOrName)) ?? readAllStates().find((x) => x.name === idOrName);
    if (!s) throw new LabError(`no lab ${idOrName} (state files in ${STATE_DIR})`);
    return new Lab(s);
  }

  /** Every lab with a state file on this machine. */
  static list(): LabSummary[] {
    return readAllStates().map((s) => ({
      id: s.id,
      name: s.name,
      subnet: s.subnet,
      hosts: s.hosts.length,
      gtid: s.gtid,
      dir: s.dir,
      ownerPid: s.owner.pid,
      ownerAlive: isAlive(s.owner),
      detached: s.detached,
      createdAt: s.createdAt,
    }));
  }

  /**
   * Tears down labs whose owning process is dead and that were not left up on purpose (detached),
   * and removes lab directories without a state file. Returns the ids of the labs removed.
   */
  static gc(): string[] {
    const reaped: string[] = [];
    for (const s of readAllStates()) {
      if (s.detached || isAlive(s.owner)) continue;
      try {
        new Lab(s).teardownSync();
        reaped.push(s.id);
      } catch (e) {
        process.stderr.write(`lab gc: ${errMessage(e)}\n`);
      }
    }
    // Directories without a state file (the state file is written before and removed after the directory).
    const known = new Set(readAllStates().map((s) => s.id));
    for (const root of LAB_ROOTS) {
      let dirs: string[] = [];
      try {
        dirs = fs.readdirSync(root);
      } catch {
        continue;
      }
      for (const d of dirs) {
        if (/^[a-z0-9]{5}$/.test(d) && !known.has(d) && !fs.existsSync(stateFile(d))) {
          fs.rmSync(path.join(root, d), { recursive: true, force: true });
          reaped.push(d);
        }
      }
    }
    return reaped;
  }

  /** Marks the lab as left up on purpose: gc will not reap it, and this process's exit does not tear it down. */
  detach(): void {
    this.state.detached = true;
    this.saveState();
    ownedLabs.delete(this);
  }

  /** Stops everything the lab started and removes what it created. Idempotent. */
  async down(): Promise<void> {
    if (this.isDown) return;
    for (const load of this.loads) load.abort();
    await Promise.allSettled([...this.loads].map((l) => l.done));
    this.loads.clear();
    await this.closeConnections();
    this.teardownSync();
  }

  /** Synchronous teardown (also used by the exit safety net and gc). */
  teardownSync(): void {
    if (this.isDown) return;
    this.isDown = true;
    ownedLabs.delete(this);
    const s = this.state;
    for (const c of this.conns.values()) c.then((x) => x.destroy()).catch(() => undefined);
    this.conns.clear();
    const netns = s.hosts.map((h) => h.netns);
    // 1. The daemons, by recorded pid (only if the pid still belongs to the process we started).
    const refs: ProcRef[] = Object.values(s.procs);
    for (const r of refs) signalProc(r, 'SIGKILL');
    // 2. Whatever else runs inside the lab's namespaces (sshd sessions and their commands).
    for (let round = 0; round < 20; round++) {
      const inside = pidsInNetns(netns);
      for (const r of inside) signalProc(r, 'SIGKILL');
      const all = [...refs, ...inside];
      if (waitGoneSync(all, 250) && pidsInNetns(netns).length === 0) break;
    }
    // 3. Network: namespaces (the kernel then destroys their veth pairs, in one batch), bridge.
    //    Only names recorded in our state.
    const batch = [...s.hosts.map((h) => `netns del ${h.netns}`), `link del ${s.bridge}`].join('\n');
    runSync('ip', ['-force', '-batch', '-'], `${batch}\n`);
    const vethLeft = () => s.hosts.filter((h) => fs.existsSync(`/sys/class/net/${h.veth}`));
    const deadline = Date.now() + 3000;
    while (vethLeft().length && Date.now() < deadline) sleepSync(5);
    for (const h of vethLeft()) runSync('ip', ['link', 'del', h.veth]);
    // 4. The lab directory (only our own: <lab root>/<id>). The state file goes last, so a
    //    failure here leaves it for `lab gc` to finish the job.
    if (s.id.length > 0 && LAB_ROOTS.some((root) => s.dir === path.join(root, s.id))) {
      try {
        fs.rmSync(s.dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
      } catch (e) {
        throw new LabError(`lab ${s.id}: removing ${s.dir} failed (${errMessage(e)}); \`lab gc\` retries it`);
      }
    }
    fs.rmSync(stateFile(s.id), { force: true });
  }

  private saveState(): void {
    if (this.isDown) return;
    writeFileAtomic(this.stateFile, JSON.stringify(this.state, null, 2));
  }

  private async step<T>(what: string, h: LabHost | undefined, log: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof LabError) throw e;
      const where = h ? ` on ${h.name} (${h.ip}, netns ${h.netns})` : '';
      let msg = `lab ${this.id} up: step '${what}'${where} failed: ${errMessage(e)}`;
      if (log) msg += `\n--- ${log} (last lines) ---\n${tail(log, 20)}`;
      throw new LabError(msg);
    }
  }

  private async build(templateData: string, opts: LabUpOptions): Promise<void> {
    const s = this.state;
    const t = Date.now();
    for (const d of [s.dir, path.join(s.dir, 'keys'), path.join(s.dir, 'manager')]) fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(s.dir, 'empty'), '');
    for (const h of s.hosts) {
      for (const d of [h.dir, h.binlogDir, h.relayDir, h.tmpDir, h.remoteWorkdir]) fs.mkdirSync(d, { recursive: true });
    }
    fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege separation directory

    await settleAll<unknown>([
      this.step('network setup', undefined, undefined, () => this.setupNetwork()),
      this.step('generate ssh keys', undefined, undefined, () =>
        settleAll([
          keygen(s.sshKeyFile, `ha-lab-${s.id}-manager`),
          keygen(s.wrongSshKeyFile, `ha-lab-${s.id}-wrong`),
          ...s.hosts.map((h) => keygen(h.hostKeyFile, `ha-lab-${s.id}-${h.name}`)),
        ]),
      ),
      ...s.hosts.map((h) => this.step('copy template datadir', h, undefined, () => execa('cp', ['-a', '--reflink=auto', templateData, h.datadir]))),
    ]);
    this.timings.prepareFiles = Date.now() - t;

    const pub = fs.readFileSync(`${s.sshKeyFile}.pub`, 'utf8').trim();
    fs.writeFileSync(s.authorizedKeysFile, `${opts.sshMesh ? '' : `from="${s.managerIp}" `}${pub}\n`);
    fs.writeFileSync(
      s.knownHostsFile,
      s.hosts
        .map((h) => {
          const [type, key] = fs.readFileSync(`${h.hostKeyFile}.pub`, 'utf8').trim().split(/\s+/);
          return `${h.ip} ${type} ${key}\n`;
        })
        .join(''),
    );
    for (const h of s.hosts) {
      fs.writeFileSync(h.sshdConfig, this.sshdConfig(h, opts.sshdEnv));
      fs.writeFileSync(h.cnfFile, this.mycnf(h, { ...opts.mysqldOptions, ...opts.hostMysqldOptions?.[h.index] }));
    }

    const t2 = Date.now();
    await settleAll(s.hosts.flatMap((h) => [this.step('start mariadbd', h, undefined, () => this.spawnMysqld(h)), this.step('start sshd', h, h.sshdLog, () => this.spawnSshd(h))]));
    this.timings.startDaemons = Date.now() - t2;

    const t3 = Date.now();
    await this.setupReplication();
    this.timings.replication = Date.now() - t3;
  }

  private async setupNetwork(): Promise<void> {
    const s = this.state;
    const lines = [
      'set -eE',
      'cur=bridge',
      `trap 'echo "failed at: $cur" >&2' ERR`,
      `ip link add ${s.bridge} type bridge forward_delay 0 stp_state 0`,
      `ip addr add ${s.managerIp}/24 dev ${s.bridge}`,
      `ip link set ${s.bridge} up`,
    ];
    for (const h of s.hosts) {
      lines.push(
        `cur="${h.name} namespace ${h.netns}"`,
        `ip netns add ${h.netns}`,
        `cur="${h.name} veth ${h.veth}"`,
        `ip link add ${h.veth} type veth peer name eth0 netns ${h.netns}`,
        `ip link set ${h.veth} master ${s.bridge} up`,
        `cur="${h.name} addresses"`,
        `ip -n ${h.netns} link set lo up`,
        `ip -n ${h.netns} addr add ${h.ip}/24 dev eth0`,
        `ip -n ${h.netns} link set eth0 up`,
      );
    }
    try {
      await execa('bash', ['-c', lines.join('\n')]);
    } catch (e) {
      throw new Error((e as { stderr?: string }).stderr?.trim() || errMessage(e));
    }
  }

  private sshdConfig(h: LabHost, env: Record<string, string> = {}): string {
    const s = this.state;
    const setEnv = Object.entries(env).map(([k, v]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || /[\s"]/.test(v)) throw new LabError(`sshdEnv ${k}=${v}: names are identifiers, values without spaces or quotes`);
      return `${k}=${v}`;
    });
    return [
      `# lab ${s.id} ${h.name}`,
      `ListenAddress ${h.ip}:${h.sshPort}`,
      `HostKey ${h.hostKeyFile}`,
      `PidFile ${path.join(h.dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${s.authorizedKeysFile}`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'HostbasedAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PrintMotd no',
      'PrintLastLog no',
      'UseDNS no',
      'MaxStartups 100:30:200',
      'MaxSessions 64',
      'LoginGraceTime 30',
      'LogLevel INFO',
      `Subsystem sftp ${SFTP_SERVER}`,
      // One line: like most sshd options, only the first SetEnv counts.
      ...(setEnv.length ? [`SetEnv ${setEnv.join(' ')}`] : []),
      '',
    ].join('\n');
  }

  private mycnf(h: LabHost, user: MysqldOptions): string {
    const s = this.state;
    const isSlave = h.index !== 1;
    const o = new Map<string, string | true>();
    const set = (k: string, v: string | true) => o.set(k, v);
    set('user', 'root');
    set('datadir', h.datadir);
    set('socket', h.socket);
    set('pid-file', h.pidFile);
    set('log-error', h.errorLog);
    set('tmpdir', h.tmpDir);
    set('port', String(h.mysqlPort));
    set('bind-address', h.ip);
    set('skip-name-resolve', true);
    set('skip-external-locking', true);
    set('server_id', String(h.serverId));
    set('report_host', h.ip);
    set('report_port', String(h.mysqlPort));
    set('log_bin', path.join(h.binlogDir, 'mysql-bin'));
    set('relay_log', path.join(h.relayDir, 'relay-bin'));
    set('log_slave_updates', '1');
    set('binlog_format', 'ROW');
    set('gtid_strict_mode', s.gtid ? 'ON' : 'OFF');
    if (isSlave) {
      set('read_only', '1');
      set('relay_log_purge', '0');
    }
    // Survives kill -9 of mysqld (the OS keeps what was written); only an OS crash could lose commits.
    set('innodb_flush_log_at_trx_commit', '2');
    set('sync_binlog', '0');
    set('max_connections', '200');
    set('performance_schema', 'OFF');
    set('character_set_server', 'utf8mb4');
    set('collation_server', 'utf8mb4_general_ci');
    for (const [k, v] of Object.entries(INNODB_OPTIONS)) set(k, v);
    const extra: string[] = [];
    for (const [rawKey, v] of Object.entries(user)) {
      const key = rawKey.replace(/^--/, '');
      const norm = key.replace(/-/g, '_');
      const existing = [...o.keys()].find((k) => k.replace(/-/g, '_') === norm);
      if (existing) o.delete(existing);
      if (v === null) continue;
      if (norm === 'log_bin' && (v === false || /^(off|0|false)$/i.test(String(v)))) extra.push('skip-log-bin');
      else if (v === true) o.set(key, true);
      else if (v === false) extra.push(`skip-${key}`);
      else o.set(key, String(v));
    }
    const lines = [`# lab ${s.id} ${h.name} (${h.ip})`, '[client]', `socket=${h.socket}`, 'user=root', '', '[mysqld]'];
    for (const [k, v] of o) lines.push(v === true ? k : `${k}=${v}`);
    lines.push(...extra, '');
    return lines.join('\n');
  }

  /** Starts mariadbd inside the host's namespace and waits until it accepts connections. */
  private async spawnMysqld(h: LabHost, extra?: MysqldOptions): Promise<void> {
    fs.rmSync(h.pidFile, { force: true }); // a killed server's; the new one writes its own
    const out = fs.openSync(path.join(h.dir, 'mysqld.out'), 'a');
    const child = spawn('ip', ['netns', 'exec', h.netns, MARIADBD, `--defaults-file=${h.cnfFile}`, ...optionArgs(extra)], {
      detached: true,
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    child.unref();
    let exitInfo: string | undefined;
    child.on('exit', (code, sig) => (exitInfo = sig ? `signal ${sig}` : `exit code ${code}`));
    child.on('error', (e) => (exitInfo = `spawn error ${e.message}`));
    // `ip netns exec` execs the command, so the child pid is mariadbd's (verified below with its pid-file).
    const ref = child.pid ? procRef(child.pid) : undefined;
    if (ref) this.setProc(h, 'mysqld', ref);
    await waitFor(
      `mariadbd on ${h.name} to accept connections on ${h.socket}`,
      async () => {
        if (exitInfo) {
          throw new StopWaiting(`mariadbd exited (${exitInfo}); ${h.errorLog}:\n${tail(h.errorLog, 20)}`);
        }
        if (!fs.existsSync(h.socket) || !fs.existsSync(h.pidFile)) return false;
        this.dropConnection(h.index);
        await this.conn(h);
        return true;
      },
      60_000,
      20,
    ).catch((e: unknown) => {
      if (e instanceof StopWaiting) throw e;
      throw new Error(`${errMessage(e)}\n--- ${h.errorLog} (last lines) ---\n${tail(h.errorLog, 20)}`);
    });
    const pid = Number(fs.readFileSync(h.pidFile, 'utf8').trim());
    const real = procRef(pid);
    if (!real) throw new Error(`mariadbd pid-file ${h.pidFile} names pid ${pid}, which is not running`);
    if (pid !== child.pid) this.setProc(h, 'mysqld', real);
  }

  /** Starts sshd inside the host's namespace, with root's shell startup files hidden, and waits for its banner. */
  private async spawnSshd(h: LabHost): Promise<void> {
    const empty = path.join(this.state.dir, 'empty');
    const home = os.userInfo().homedir || '/root';
    // A private mount (ip netns exec unshares the mount namespace, made a slave of /) hides
    // ~/.bashrc etc. from the host's shells: root's .bashrc runs `pyenv init`, 0.2 s per command.
    const hide = ['.bashrc', '.profile', '.bash_profile', '.bash_login']
      .map((f) => path.join(home, f))
      .filter((f) => fs.existsSync(f))
      .map((f) => `mount --bind ${empty} ${f} && `)
      .join('');
    const pidFile = path.join(h.dir, 'sshd.pid');
    fs.rmSync(pidFile, { force: true });
    const out = fs.openSync(h.sshdLog, 'a');
    const child = spawn('ip', ['netns', 'exec', h.netns, 'sh', '-c', `${hide}exec ${SSHD} -D -f ${h.sshdConfig} -E ${h.sshdLog}`], { detached: true, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    child.unref();
    let exitInfo: string | undefined;
    child.on('exit', (code, sig) => (exitInfo = sig ? `signal ${sig}` : `exit code ${code}`));
    child.on('error', (e) => (exitInfo = `spawn error ${e.message}`));
    const ref = child.pid ? procRef(child.pid) : undefined;
    if (ref) this.setProc(h, 'sshd', ref);
    await waitFor(
      `sshd on ${h.name} to listen on ${h.ip}:${h.sshPort}`,
      async () => {
        if (exitInfo) throw new StopWaiting(`sshd exited (${exitInfo})`);
        if (!fs.existsSync(pidFile)) return false;
        return tcpProbe(h.ip, h.sshPort, 1000, true);
      },
      30_000,
      20,
    );
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    const real = procRef(pid);
    if (!real) throw new Error(`sshd pid-file ${pidFile} names pid ${pid}, which is not running`);
    if (pid !== child.pid) this.setProc(h, 'sshd', real);
  }

  private setProc(h: LabHost, what: 'mysqld' | 'sshd', ref: ProcRef | undefined): void {
    const key = `${h.name}.${what}`;
    if (ref) this.state.procs[key] = ref;
    else delete this.state.procs[key];
    if (what === 'mysqld') h.mysqldPid = ref?.pid ?? 0;
    else h.sshdPid = ref?.pid ?? 0;
    this.saveState();
  }

  private proc(h: LabHost, what: 'mysqld' | 'sshd'): ProcRef | undefined {
    return this.state.procs[`${h.name}.${what}`];
  }

  private async setupReplication(): Promise<void> {
    const s = this.state;
    const master = s.hosts[0]!;
    const [ms] = await this.step('read master status', master, master.errorLog, () => this.sql(master, 'SHOW MASTER STATUS'));
    if (!ms) throw new LabError(`lab ${s.id}: ${master.name} has no binary log (SHOW MASTER STATUS is empty)`);
    await settleAll(
      s.hosts.slice(1).map((h) =>
        this.step('start replication', h, h.errorLog, async () => {
          const where = s.gtid ? 'MASTER_USE_GTID=slave_pos' : `MASTER_LOG_FILE='${ms.File}', MASTER_LOG_POS=${ms.Position}, MASTER_USE_GTID=no`;
          await this.sql(
            h,
            `CHANGE MASTER TO MASTER_HOST='${master.ip}', MASTER_PORT=${master.mysqlPort}, ` +
              `MASTER_USER='${REPL_USER}', MASTER_PASSWORD='${REPL_PASSWORD}', MASTER_CONNECT_RETRY=1, ${where}`,
          );
          await this.sql(h, 'START SLAVE');
          await waitFor(
            `both replication threads on ${h.name} to run`,
            async () => {
              const [st] = await this.sql(h, 'SHOW SLAVE STATUS');
              if (!st) return false;
              if (st.Slave_IO_Running === 'Yes' && st.Slave_SQL_Running === 'Yes') return true;
              if (st.Last_SQL_Error) throw new StopWaiting(`SQL thread error: ${st.Last_SQL_Error}`);
              throw new Error(`Slave_IO_Running=${st.Slave_IO_Running} Slave_SQL_Running=${st.Slave_SQL_Running} ${st.Last_IO_Error ?? ''}`);
            },
            20_000,
            20,
          );
        }),
      ),
    );
    await this.step('create schema hatest', master, master.errorLog, async () => {
      await this.sql(master, 'CREATE DATABASE IF NOT EXISTS hatest');
      await this.sql(master, WriteLoad.createTableSql('load'));
    });
    if (s.hosts.length > 1) {
      await this.step('first replication round trip', undefined, undefined, () => this.waitForSlaveSync(undefined, 20_000));
    }
  }

  // -------------------------------------------------------------------------------------------
  // SQL

  private conn(h: LabHost): Promise<Connection> {
    let p = this.conns.get(h.index);
    if (!p) {
      p = createConnection({
        socketPath: h.socket,
        user: 'root',
        password: '',
        connectTimeout: 5000,
        supportBigNumbers: true,
        dateStrings: true,
      }).then((c) => {
        const drop = () => {
          if (this.conns.get(h.index) === p) this.conns.delete(h.index);
        };
        c.on('error', drop);
        c.on('end', drop);
        return c;
      });
      p.catch(() => {
        if (this.conns.get(h.index) === p) this.conns.delete(h.index);
      });
      this.conns.set(h.index, p);
    }
    return p;
  }

  private dropConnection(index: number): void {
    const p = this.conns.get(index);
    if (p) {
      this.conns.delete(index);
      p.then((c) => c.destroy()).catch(() => undefined);
    }
  }

  private async closeConnections(): Promise<void> {
    const all = [...this.conns.values()];
    this.conns.clear();
    await Promise.allSettled(all.map((p) => p.then((c) => c.destroy())));
  }

  /**
   * Runs one statement on a host as root over its unix socket (works while its network is cut).
   * Returns the rows of a result set, or a one-element array with the OK packet (affectedRows, insertId).
   * Errors keep mysql2's code/errno; their message starts with "[hN]".
   */
  async sql(host: number | LabHost, statement: string, params?: unknown[]): Promise<Row[]> {
    const h = this.host(host);
    if (this.isDown) throw new LabError(`lab ${this.id} is down`);
    try {
      const c = await this.conn(h);
      const [rows] = await c.query(statement, params);
      return Array.isArray(rows) ? rows : [rows];
    } catch (e) {
      if (e instanceof Error) e.message = `[${h.name}] ${e.message} (SQL: ${statement.slice(0, 200)})`;
      const fatal = (e as { fatal?: boolean }).fatal;
      if (fatal) this.dropConnection(h.index);
      throw e;
    }
  }

  // -------------------------------------------------------------------------------------------
  // SSH (for tests): the system ssh client with the lab's key and known_hosts.

  /** Runs a command on a host over SSH as root; never throws for a non-zero exit. */
  async ssh(
    host: number | LabHost,
    command: string,
    opts: { keyFile?: string; timeoutMs?: number; connectTimeoutSeconds?: number } = {},
  ): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const h = this.host(host);
    const r = await execa(
      'ssh',
      [
        '-i',
        opts.keyFile ?? this.sshKeyFile,
        '-o',
        `UserKnownHostsFile=${this.knownHostsFile}`,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'BatchMode=yes',
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        `ConnectTimeout=${opts.connectTimeoutSeconds ?? 5}`,
        '-p',
        String(h.sshPort),
        `root@${h.ip}`,
        command,
      ],
      { reject: false, timeout: opts.timeoutMs ?? 30_000 },
    );
    return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  /** Runs a command directly inside a host's namespace (no SSH); never throws for a non-zero exit. */
  async exec(host: number | LabHost, argv: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const h = this.host(host);
    const r = await execa('ip', ['netns', 'exec', h.netns, ...argv], { reject: false, timeout: 60_000 });
    return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  // -------------------------------------------------------------------------------------------
  // Faults and control

  /** kill -9 the host's mariadbd and wait until it is gone. */
  async killMysqld(host: number | LabHost): Promise<void> {
    const h = this.host(host);
    const ref = this.proc(h, 'mysqld');
    this.dropConnection(h.index);
    if (!isAlive(ref)) throw new LabError(`${h.name}: mariadbd is not running`);
    signalProc(ref, 'SIGKILL');
    if (!(await waitGone([ref], 10_000))) throw new LabError(`${h.name}: mariadbd pid ${ref!.pid} survived SIGKILL`);
    this.setProc(h, 'mysqld', undefined);
  }

  /** Clean shutdown (SIGTERM) of the host's mariadbd; waits until it has exited. */
  async stopMysqld(host: number | LabHost, timeoutMs = 60_000): Promise<void> {
    const h = this.host(host);
    const ref = this.proc(h, 'mysqld');
    this.dropConnection(h.index);
    if (!isAlive(ref)) throw new LabError(`${h.name}: mariadbd is not running`);
    signalProc(ref, 'SIGTERM');
    if (!(await waitGone([ref], timeoutMs))) {
      throw new LabError(`${h.name}: mariadbd did not shut down in ${timeoutMs} ms:\n${tail(h.errorLog)}`);
    }
    this.setProc(h, 'mysqld', undefined);
  }

  /**
   * Starts the host's mariadbd (after kill/stop). extraOptions apply to this run only, e.g.
   * { log_bin: 'OFF' } (→ --skip-log-bin), { read_only: 0 }, { 'skip-slave-start': true }.
   */
  async startMysqld(host: number | LabHost, extraOptions?: MysqldOptions): Promise<void> {
    const h = this.host(host);
    if (isAlive(this.proc(h, 'mysqld'))) throw new LabError(`${h.name}: mariadbd is already running`);
    try {
      await this.spawnMysqld(h, extraOptions);
    } catch (e) {
      signalProc(this.proc(h, 'mysqld'), 'SIGKILL');
      throw new LabError(`${h.name}: starting mariadbd failed: ${errMessage(e)}`);
    }
  }

  async restartMysqld(host: number | LabHost, extraOptions?: MysqldOptions): Promise<void> {
    const h = this.host(host);
    if (isAlive(this.proc(h, 'mysqld'))) await this.stopMysqld(h);
    await this.startMysqld(h, extraOptions);
  }

  /** Stops the host's sshd (SSH refused; MySQL still up). Open sessions keep running. */
  async stopSshd(host: number | LabHost): Promise<void> {
    const h = this.host(host);
    const ref = this.proc(h, 'sshd');
    if (!isAlive(ref)) throw new LabError(`${h.name}: sshd is not running`);
    signalProc(ref, 'SIGTERM');
    if (!(await waitGone([ref], 10_000))) throw new LabError(`${h.name}: sshd did not stop`);
    this.setProc(h, 'sshd', undefined);
  }

  async startSshd(host: number | LabHost): Promise<void> {
    const h = this.host(host);
    if (isAlive(this.proc(h, 'sshd'))) throw new LabError(`${h.name}: sshd is already running`);
    await this.spawnSshd(h);
  }

  /**
   * Cuts a host off the network. Default: takes its link down (its veth end on the bridge), so
   * nothing reaches it or leaves it, neither SSH nor MySQL, from the manager or the other hosts.
   * { managerOnly: true }: only the manager (the root namespace, managerIp) is cut off (the
   * host's replies to it are blackholed), while the hosts still reach each other, e.g. a master
   * that the manager cannot see but its slaves can. Either way open TCP connections hang rather
   * than reset, and lab.sql() still works (unix socket).
   */
  async cutNetwork(host: number | LabHost, opts: { managerOnly?: boolean } = {}): Promise<void> {
    const h = this.host(host);
    if (h.networkCut) throw new LabError(`${h.name}: network already cut (${h.networkCut})`);
    if (opts.managerOnly) {
      await execa('ip', ['-n', h.netns, 'route', 'add', 'blackhole', `${this.managerIp}/32`]);
      h.networkCut = 'manager';
    } else {
      await execa('ip', ['link', 'set', h.veth, 'down']);
      h.networkCut = 'all';
    }
    this.saveState();
  }

  /** Undoes cutNetwork() and waits until the host's sshd answers the manager again (if it runs). */
  async healNetwork(host: number | LabHost, timeoutMs = 10_000): Promise<void> {
    const h = this.host(host);
    if (h.networkCut === 'manager') {
      await execa('ip', ['-n', h.netns, 'route', 'del', 'blackhole', `${this.managerIp}/32`]);
    } else {
      await execa('ip', ['link', 'set', h.veth, 'up']);
    }
    h.networkCut = false;
    this.saveState();
    if (isAlive(this.proc(h, 'sshd'))) {
      await waitFor(`${h.name} (${h.ip}) to be reachable again`, () => tcpProbe(h.ip, h.sshPort, 500, true), timeoutMs, 20);
    }
  }

  async stopSlaveIo(host: number | LabHost): Promise<void> {
    await this.sql(host, 'STOP SLAVE IO_THREAD');
  }

  /** START SLAVE IO_THREAD, then waits until the IO thread is connected (Slave_IO_Running=Yes). */
  async startSlaveIo(host: number | LabHost, timeoutMs = 10_000): Promise<void> {
    const h = this.host(host);
    await this.sql(h, 'START SLAVE IO_THREAD');
    await waitFor(
      `${h.name}'s replication IO thread to connect`,
      async () => {
        const [st] = await this.sql(h, 'SHOW SLAVE STATUS');
        if (st?.Slave_IO_Running === 'Yes') return true;
        throw new Error(`Slave_IO_Running=${st?.Slave_IO_Running} ${st?.Last_IO_Error ?? ''}`.trim());
      },
      timeoutMs,
      20,
    );
  }

  /**
   * Waits until each slave (default: every host with a replication configuration) has executed
   * everything its master had binlogged when this was called (the master is found from
   * Master_Host). Fails early on a replication SQL error.
   */
  async waitForSlaveSync(hosts?: number[], timeoutMs = 20_000): Promise<void> {
    let slaves: LabHost[];
    if (hosts) slaves = hosts.map((i) => this.host(i));
    else {
      const st = await Promise.all(this.hosts.map(async (h) => ((await this.sql(h, 'SHOW SLAVE STATUS')).length ? h : undefined)));
      slaves = st.filter((h): h is LabHost => !!h);
    }
    const targets = new Map<string, { file: string; pos: number }>();
    await Promise.all(
      slaves.map(async (h) => {
        const [st] = await this.sql(h, 'SHOW SLAVE STATUS');
        if (!st) throw new LabError(`${h.name} is not a slave`);
        const master = this.hostByIp(String(st.Master_Host));
        if (!master) throw new LabError(`${h.name} replicates from ${st.Master_Host}, not a lab host`);
        let target = targets.get(master.ip);
        if (!target) {
          const [ms] = await this.sql(master, 'SHOW MASTER STATUS');
          if (!ms) throw new LabError(`${master.name} (master of ${h.name}) has no binary log`);
          target = { file: String(ms.File), pos: Number(ms.Position) };
          targets.set(master.ip, target);
        }
        const want = target;
        await waitFor(
          `${h.name} to execute ${master.name}'s binlog up to ${want.file}:${want.pos}`,
          async () => {
            const [s] = await this.sql(h, 'SHOW SLAVE STATUS');
            if (!s) throw new StopWaiting(`${h.name} is no longer a slave`);
            const file = String(s.Relay_Master_Log_File);
            const pos = Number(s.Exec_Master_Log_Pos);
            if (file > want.file || (file === want.file && pos >= want.pos)) return true;
            if (s.Slave_SQL_Running !== 'Yes' && s.Last_SQL_Error) {
              throw new StopWaiting(`${h.name} SQL thread stopped: ${s.Last_SQL_Error}`);
            }
            throw new Error(`at ${file}:${pos}, IO=${s.Slave_IO_Running} SQL=${s.Slave_SQL_Running} ${s.Last_IO_Error || ''}`.trim());
          },
          timeoutMs,
          20,
        );
      }),
    );
  }

  // -------------------------------------------------------------------------------------------
  // Write load and config

  /** Starts inserting numbered rows into hatest.<table> through target(); see WriteLoad. */
  startWriteLoad(opts: WriteLoadOptions): WriteLoad {
    if (this.isDown) throw new LabError(`lab ${this.id} is down`);
    const load = new WriteLoad(this, opts);
    this.loads.add(load);
    void load.done.finally(() => this.loads.delete(load));
    return load;
  }

  /**
   * Writes an MHA-format application config (default <lab>/app1.cnf) for the lab and returns its path:
   * [server default] with the admin/repl credentials, ssh_user=root, ssh_options with the lab's key
   * and known_hosts, manager_workdir; [serverN] with hostname, port, master_binlog_dir and a
   * per-host remote_workdir. Overrides merge in (null removes a key).
   */
  writeConfig(opts: WriteConfigOptions = {}): string {
    const s = this.state;
    const file = opts.file ?? path.join(s.dir, 'app1.cnf');
    const merge = (base: Record<string, string>, over?: Record<string, string | number | null>) => {
      const out: Record<string, string> = { ...base };
      for (const [k, v] of Object.entries(over ?? {})) {
        if (v === null) delete out[k];
        else out[k] = String(v);
      }
      return out;
    };
    const section = (name: string, kv: Record<string, string>) => [`[${name}]`, ...Object.entries(kv).map(([k, v]) => `${k}=${v}`), ''].join('\n');
    const def = merge(
      {
        user: ADMIN_USER,
        password: ADMIN_PASSWORD,
        repl_user: REPL_USER,
        repl_password: REPL_PASSWORD,
        ssh_user: 'root',
        ssh_options: `-i ${s.sshKeyFile} -o UserKnownHostsFile=${s.knownHostsFile}`,
        manager_workdir: path.join(s.dir, 'manager'),
      },
      opts.serverDefault,
    );
    const parts = [`# ha test lab ${s.id} (${s.subnet})`, section('server default', def)];
    for (const h of s.hosts) {
      if (opts.omitHosts?.includes(h.index)) continue;
      parts.push(
        section(
          `server${h.index}`,
          merge(
            {
              hostname: h.ip,
              port: String(h.mysqlPort),
              master_binlog_dir: h.binlogDir,
              remote_workdir: h.remoteWorkdir,
            },
            opts.servers?.[h.index],
          ),
        ),
      );
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, parts.join('\n'));
    return file;
  }
}
