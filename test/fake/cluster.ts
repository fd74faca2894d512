// A fake replication cluster for unit tests of the failover and the online switch: servers
// (server.ts, sql.ts), their hosts over SSH (ssh.ts) and hook scripts (hooks.ts), wired into the
// `Clients` the code under test takes, with faults on demand and an event log of every connection,
// statement, remote command and hook call, in order.
//
//   const c = cluster({ master: 'mariadb-10.11', slaves: 3, gtid: true });
//   c.kill('server1');
//   const report = await runFailover(failoverContext(c, { deadMaster: 'server1' }));
//
// Servers are server1 (the master) and server2… (its slaves), built with test/unit/fakes.ts's
// fakeServer(n): address 10.9.0.(10+n):3306, admin ha/secret, replication repl/replsecret.
import { setImmediate as tick } from 'node:timers/promises';
import type { AppConfig, ServerConfig } from '../../src/config/types.js';
import type { Clients, MysqlConnectOptions, ServerSession } from '../../src/core/clients.js';
import { BinlogParser } from '../../src/binlog/parser.js';
import { MysqlConnectError, MysqlQueryError } from '../../src/mysql/connection.js';
import type { QueryOptions } from '../../src/mysql/types.js';
import { SshError } from '../../src/ssh/errors.js';
import { BinlogFileWriter, buildRelaySet, ev } from '../support/binlog-builder.js';
import { fakeConfig, fakeServer } from '../unit/fakes.js';
import { History, OwnBinlog, type Trx } from './history.js';
import { FakeHooks } from './hooks.js';
import { dumpThreadId, FakeServer, FakeSqlError, VERSIONS, type Repl, type VersionName, type Violation } from './server.js';
import { execute, interpolate, normalize, UnknownStatement, type Row, type SessionState, type SqlWorld } from './sql.js';
import { FakeSshHost, type HostWorld } from './ssh.js';

export interface SlaveSpec {
  version?: VersionName;
  /** Transactions its IO thread received (default: all the master wrote). */
  received?: number;
  /** Events of the next transaction received too: the IO thread stopped inside it. */
  partial?: number;
  /** Transactions its SQL thread executed (default: all received); fewer needs sqlRunning: false or applyPerPoll. */
  executed?: number;
  sqlRunning?: boolean;
  /** A slow SQL thread: executes this many transactions per status read. */
  applyPerPoll?: number;
  io?: Repl['io'];
  secondsBehind?: number | null;
  logBin?: boolean;
  logSlaveUpdates?: boolean;
  /** Rotate its relay log by size (max_relay_log_size). */
  maxRelaySize?: number;
  /** candidate_master, no_master, ignore_fail, … */
  config?: Partial<ServerConfig>;
}

export interface ClusterSpec {
  /** The master's version, and the slaves' unless they say otherwise (default mariadb-10.11). */
  master?: VersionName;
  slaves?: number | SlaveSpec[];
  /** Slaves replicate by GTID (MariaDB MASTER_USE_GTID=slave_pos; MySQL gtid_mode=ON, AUTO_POSITION=1). Default true. */
  gtid?: boolean;
  /** Transactions the master wrote (default 6). */
  transactions?: number;
  /** The master rotated its binlog after these transactions. */
  rotateAfter?: number[];
  masterConfig?: Partial<ServerConfig>;
  /** Hook scripts set in the configuration (they answer through FakeCluster.hooks). */
  hooks?: { masterIpFailover?: boolean; shutdown?: boolean; report?: boolean; onlineChange?: boolean };
}

export interface FakeEvent {
  seq: number;
  kind: 'connect' | 'sql' | 'ssh' | 'hook' | 'fault' | 'apply';
  /** Server or host id; the hook parameter for hooks. */
  target: string;
  text: string;
}

export interface FaultSpec {
  /** Server (statements) or host (commands) id. */
  server: string;
  /** Statement or command text (normalised; params filled in), or 'CONNECT' for the connection itself. Default: any. */
  match?: RegExp | string;
  /** The n-th matching statement (1-based; default 1). */
  nth?: number;
  /** How many times from the n-th on (default 1). */
  times?: number;
  /**
   * fail: an error (errno/message); hang: no answer until the statement's timeout (or `ms`);
   * die: the server dies at this statement; lost: the statement runs, then the connection is lost;
   * reply: answer `rows` instead.
   */
  action: 'fail' | 'hang' | 'die' | 'lost' | 'reply';
  errno?: number;
  message?: string;
  rows?: Row[];
  ms?: number;
  /** SSH commands: exit code of a 'fail'. */
  code?: number;
}

interface Fault extends FaultSpec {
  seen: number;
  fired: number;
}

export class FakeCluster implements SqlWorld, HostWorld {
  readonly config: AppConfig;
  readonly history: History;
  readonly servers = new Map<string, FakeServer>();
  readonly hosts = new Map<string, FakeSshHost>();
  readonly hooks: FakeHooks;
  readonly events: FakeEvent[] = [];
  readonly violations: Violation[] = [];
  readonly unknowns: string[] = [];
  readonly replAccounts = new Map<string, string>();
  /** The set of writable servers each time it changed (the first entry: as built). */
  readonly writableTimeline: string[][] = [];
  private readonly faults: Fault[] = [];
  private readonly sshFaults: Fault[] = [];
  private threadSeq = 10;

  constructor(spec: ClusterSpec = {}) {
    const masterVersion = VERSIONS[spec.master ?? 'mariadb-10.11'];
    const gtid = spec.gtid ?? true;
    const slaveSpecs: SlaveSpec[] = typeof spec.slaves === 'number' || spec.slaves === undefined ? Array.from({ length: spec.slaves ?? 2 }, () => ({})) : spec.slaves;
    const transactions = spec.transactions ?? 6;
    const hookPaths = {
      masterIpFailoverScript: spec.hooks?.masterIpFailover ? '/usr/local/bin/master_ip_failover' : undefined,
      shutdownScript: spec.hooks?.shutdown ? '/usr/local/bin/power_manager' : undefined,
      reportScript: spec.hooks?.report ? '/usr/local/bin/send_report' : undefined,
      masterIpOnlineChangeScript: spec.hooks?.onlineChange ? '/usr/local/bin/master_ip_online_change' : undefined,
    };
    const configs = [fakeServer(1, spec.masterConfig), ...slaveSpecs.map((s, i) => fakeServer(i + 2, s.config))];
    this.config = fakeConfig(configs);
    for (const [k, val] of Object.entries(hookPaths)) if (val) (this.config.manager as unknown as Record<string, string>)[k] = val;
    this.hooks = new FakeHooks((text) => this.record('hook', text.split(' ')[0]!, text));
    // The replication account exists on every server (grants replicate): as the master's block says.
    this.replAccounts.set(configs[0]!.replUser || 'repl', configs[0]!.replPassword);

    // The master and what it wrote.
    this.history = new History({ flavor: masterVersion.flavor, serverId: 1, gtid, transactions, rotateAfter: spec.rotateAfter });
    const master = this.addServer(configs[0]!, masterVersion, 1, this.history.uuid, gtid);
    master.readOnly = false;
    master.superReadOnly = false;
    master.binlog = OwnBinlog.ofHistory(this.history);
    for (const t of this.history.trxs) master.apply(t, 'client', { logBin: false });
    const mhost = this.hosts.get(master.id)!;
    for (const f of this.history.files()) mhost.files.set(`/var/lib/mysql/${f.name}`, f.bytes);
    mhost.files.set(
      '/var/lib/mysql/mysql-bin.index',
      Buffer.from(
        this.history
          .files()
          .map((f) => `./${f.name}\n`)
          .join(''),
      ),
    );

    // The slaves, each with the relay logs its IO thread wrote.
    slaveSpecs.forEach((sp, i) => {
      const version = VERSIONS[sp.version ?? masterVersion.name];
      if (version.flavor !== masterVersion.flavor) throw new Error(`fake cluster: a ${version.flavor} slave of a ${masterVersion.flavor} master`);
      const serverId = i + 2;
      const s = this.addServer(configs[i + 1]!, version, serverId, `00000000-0000-0000-0000-0000000000${String(serverId).padStart(2, '0')}`, gtid);
      s.logBin = sp.logBin ?? true;
      s.logSlaveUpdates = sp.logSlaveUpdates ?? true;
      s.binlog = s.logBin ? new OwnBinlog('mysql-bin', this.history.headerEnd(this.history.log.fileNames[0]!)) : undefined;
      const received = sp.received ?? transactions;
      const executed = sp.executed ?? received;
      const sqlRunning = sp.sqlRunning ?? true;
      if (executed > received || received > transactions) throw new Error(`fake cluster: ${s.id} executed ${executed} of ${received} received of ${transactions} written`);
      if (executed < received && sqlRunning && sp.applyPerPoll === undefined) {
        throw new Error(`fake cluster: ${s.id}'s running SQL thread would execute all it received: say sqlRunning: false or applyPerPoll`);
      }
      for (const t of this.history.trxs.slice(0, executed)) s.apply(t, 'replication');
      const relay = buildRelaySet({
        master: this.history.log,
        slaveServerId: serverId,
        upTo: this.history.eventsAfter(received) + (sp.partial ?? 0),
        maxRelaySize: sp.maxRelaySize,
      });
      const host = this.hosts.get(s.id)!;
      for (const f of relay.files) host.files.set(`/var/lib/mysql/${f.name}`, f.bytes);
      host.files.set(s.relayLogIndex, Buffer.from(relay.indexText('.')));
      const last = relay.files.at(-1)!;
      s.repl = {
        masterHost: master.config.hostname,
        masterPort: master.config.port,
        masterUser: s.config.replUser || 'repl',
        masterPassword: s.config.replPassword,
        gtid: gtid ? (version.flavor === 'mariadb' ? 'slave_pos' : 'auto') : 'no',
        io: sp.io ?? 'Yes',
        sql: sqlRunning,
        read: relay.readPosition,
        exec: this.history.coordAfter(executed),
        relayFile: last.name,
        relayPos: last.bytes.length,
        pending: this.history.trxs.slice(executed, received).map((t) => ({ trx: t, end: { file: t.file, position: t.end } })),
        partial: (sp.partial ?? 0) > 0,
        lastIoErrno: 0,
        lastIoError: '',
        lastSqlErrno: 0,
        lastSqlError: '',
        secondsBehind: sp.secondsBehind === undefined ? 0 : sp.secondsBehind,
        sqlDelay: 0,
        masterServerId: 1,
        masterUuid: masterVersion.flavor === 'mysql' ? this.history.uuid : '',
        retrieved: this.history.trxs
          .slice(0, received)
          .map((t) => t.gtid)
          .filter(Boolean),
        applyPerPoll: sp.applyPerPoll,
        connectedTo: (sp.io ?? 'Yes') === 'Yes' ? master : undefined,
      };
      if (sqlRunning && executed === received && !s.repl.partial) s.repl.exec = { ...s.repl.read };
    });
    this.noteWritable();
  }

  /** Records the writable set when it changed (after every statement and every death). */
  noteWritable(): void {
    const now = this.writable();
    const last = this.writableTimeline.at(-1);
    if (!last || last.join() !== now.join()) this.writableTimeline.push(now);
  }

  /** The most servers that took writes at the same moment, over the whole run. */
  maxWritableAtOnce(): number {
    return Math.max(0, ...this.writableTimeline.map((w) => w.length));
  }

  private addServer(config: ServerConfig, version: (typeof VERSIONS)[VersionName], serverId: number, uuid: string, gtid: boolean): FakeServer {
    const s = new FakeServer(config.id, config, version, serverId, uuid, this);
    s.gtidMode = gtid ? 'ON' : 'OFF';
    this.servers.set(s.id, s);
    this.hosts.set(s.id, new FakeSshHost(this, s));
    return s;
  }

  server(id: string): FakeServer {
    const s = this.servers.get(id);
    if (!s) throw new Error(`fake cluster: no server ${id}`);
    return s;
  }

  host(id: string): FakeSshHost {
    const h = this.hosts.get(id);
    if (!h) throw new Error(`fake cluster: no host ${id}`);
    return h;
  }

  /** mysqld dies (its host stays up unless `host: false`): connections are refused (or time out); its slaves' IO threads retry. */
  kill(id: string, opts: { how?: 'refused' | 'timeout'; host?: boolean } = {}): void {
    const s = this.server(id);
    s.alive = false;
    s.deadHow = opts.how ?? 'refused';
    s.readLockBy = undefined;
    s.sessions.clear();
    if (opts.host === false) this.host(id).reachable = false;
    for (const other of this.servers.values())
      if (other.repl?.connectedTo === s || (other.repl && this.serverAt(other.repl.masterHost, other.repl.masterPort) === s)) other.masterDied();
    this.record('fault', id, `mysqld on ${id} died${opts.host === false ? ', and its host' : ''}`);
    this.noteWritable();
  }

  /** An application's connection on a server (idle unless `info` says what it runs); returns its thread id. */
  clientThread(server: string, o: { user?: string; command?: 'Sleep' | 'Query'; time?: number; info?: string } = {}): number {
    const id = this.nextThreadId();
    this.server(server).clientThreads.push({
      id,
      user: o.user ?? 'app',
      host: `10.9.0.50:${40000 + id}`,
      command: o.command ?? (o.info ? 'Query' : 'Sleep'),
      time: o.time ?? 0,
      state: o.info ? 'executing' : '',
      info: o.info ?? null,
    });
    return id;
  }

  /** The oldest `count` relay logs of a slave were purged (relay_log_purge=1, or by hand). */
  dropOldRelayLogs(id: string, count: number): void {
    const s = this.server(id);
    const host = this.host(id);
    const lines = (host.files.get(s.relayLogIndex)?.toString() ?? '').split('\n').filter(Boolean);
    for (const line of lines.slice(0, count)) host.files.delete(`/var/lib/mysql/${line.replace(/^.*\//, '')}`);
    host.files.set(
      s.relayLogIndex,
      Buffer.from(
        lines
          .slice(count)
          .map((l) => `${l}\n`)
          .join(''),
      ),
    );
  }

  /** A fault on a statement (or on connecting: match 'CONNECT'). */
  fail(spec: FaultSpec): this {
    this.faults.push({ ...spec, seen: 0, fired: 0 });
    return this;
  }

  /** A fault on a remote command of a host (readRange and upload included, by their command text). */
  failSsh(spec: Omit<FaultSpec, 'action'> & { action: 'fail' | 'hang' }): this {
    this.sshFaults.push({ ...spec, seen: 0, fired: 0 });
    return this;
  }

  private due(list: Fault[], target: string, text: string): Fault | undefined {
    for (const f of list) {
      if (f.server !== target) continue;
      const m = f.match === undefined || (typeof f.match === 'string' ? text === f.match || text.startsWith(f.match) : f.match.test(text));
      if (!m) continue;
      f.seen++;
      if (f.seen >= (f.nth ?? 1) && f.fired < (f.times ?? 1)) {
        f.fired++;
        this.record('fault', target, `${f.action}${f.errno ? ` ${f.errno}` : ''}: ${text}`);
        return f;
      }
    }
    return undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // The Clients port

  clients(): Clients {
    return {
      mysql: (server, opts) => this.connect(server, opts),
      ssh: async (server) => {
        await tick();
        const h = this.host(server.id);
        this.record('connect', server.id, 'ssh');
        if (!h.reachable) throw new SshError('unreachable', server.ssh.host, server.ssh.port, `connect EHOSTUNREACH ${server.ssh.host}:${server.ssh.port}`);
        return h;
      },
      hook: async (parameter, value, args, env, timeoutMs) => {
        await tick();
        return this.hooks.run(parameter, value, args, env, timeoutMs);
      },
    };
  }

  private async connect(config: ServerConfig, opts: MysqlConnectOptions = {}): Promise<ServerSession> {
    await tick();
    const s = this.server(config.id);
    this.record('connect', s.id, 'mysql');
    const fault = this.due(this.faults, s.id, 'CONNECT');
    if (fault?.action === 'die') this.kill(s.id);
    if (!s.alive || fault) {
      const refused = fault ? fault.action !== 'hang' : s.deadHow === 'refused';
      throw new MysqlConnectError(
        refused ? 'refused' : 'timeout',
        s.id,
        config.ip,
        config.port,
        refused ? `connect ECONNREFUSED ${config.ip}:${config.port}` : `connect ETIMEDOUT (after ${opts.connectTimeoutMs ?? 5000} ms)`,
        refused ? 'ECONNREFUSED' : 'ETIMEDOUT',
      );
    }
    const state: SessionState = { id: this.nextThreadId(), user: config.user, lockWaitTimeout: 86400 };
    const entry = { id: state.id, user: config.user, killed: false, running: undefined as string | undefined };
    s.sessions.set(state.id, entry);
    let closed = false;
    // The session's methods have their own `this`; they reach the cluster through this name.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const cluster = this;
    return {
      async query(sql: string, params: unknown[] = [], options: QueryOptions = {}): Promise<Row[]> {
        const statement = options.logAs ?? sql;
        const error = (kind: 'server' | 'timeout' | 'connection-lost', detail: string, code?: string, errno?: number, sqlState?: string) => {
          let d = detail;
          for (const secret of options.secrets ?? []) d = d.split(secret).join('********');
          return new MysqlQueryError(kind, s.id, config.ip, config.port, statement, d, code, errno, sqlState);
        };
        if (closed) throw error('connection-lost', 'the session was closed');
        await tick();
        const text = normalize(sql);
        cluster.record('sql', s.id, options.logAs ? normalize(options.logAs) : interpolate(text, params));
        if (entry.killed || !s.alive) throw error('connection-lost', 'Lost connection to MySQL server during query', 'PROTOCOL_CONNECTION_LOST', 2013);
        const f = cluster.due(cluster.faults, s.id, interpolate(text, params));
        if (f?.action === 'fail') throw error('server', f.message ?? 'fake cluster: injected failure', 'ER_FAKE', f.errno ?? 1105, 'HY000');
        if (f?.action === 'reply') return structuredClone(f.rows ?? []);
        if (f?.action === 'die') {
          cluster.kill(s.id);
          throw error('connection-lost', 'Lost connection to MySQL server during query', 'PROTOCOL_CONNECTION_LOST', 2013);
        }
        if (f?.action === 'hang') {
          const ms = f.ms ?? options.timeoutMs ?? opts.queryTimeoutMs;
          if (ms === undefined) throw new Error(`fake cluster: a hang on "${text}" without a timeout would never end: give the fault ms`);
          // unref: code that gave up on the statement (a deadline) must not keep the test alive.
          await new Promise((r) => setTimeout(r, ms).unref());
          throw error('timeout', `Query inactivity timeout after ${ms} ms`, 'PROTOCOL_SEQUENCE_TIMEOUT');
        }
        entry.running = text;
        try {
          const rows = execute({ server: s, session: state, params, world: cluster }, text);
          if (f?.action === 'lost') throw error('connection-lost', 'Lost connection to MySQL server during query', 'PROTOCOL_CONNECTION_LOST', 2013);
          return structuredClone(rows);
        } catch (err) {
          if (err instanceof FakeSqlError) throw error('server', err.message, err.code, err.errno, err.sqlState);
          if (err instanceof UnknownStatement) cluster.unknown(err.message);
          throw err;
        } finally {
          entry.running = undefined;
          cluster.noteWritable();
        }
      },
      async close() {
        closed = true;
        s.sessions.delete(state.id);
        if (s.readLockBy === state.id) s.readLockBy = undefined;
      },
    };
  }

  // ---------------------------------------------------------------------------------------------
  // World (what servers and hosts ask of the cluster)

  serverAt(host: string, port: number): FakeServer | undefined {
    const h = host.toLowerCase();
    return [...this.servers.values()].find((s) => s.config.port === port && (s.config.hostname.toLowerCase() === h || s.config.ip.toLowerCase() === h));
  }

  violation(v: Violation): void {
    this.violations.push(v);
  }

  nextThreadId(): number {
    return this.threadSeq++;
  }

  slavesOf(server: FakeServer): FakeServer[] {
    return [...this.servers.values()].filter((s) => s.alive && s.repl?.io === 'Yes' && s.repl.connectedTo === server);
  }

  killThread(server: FakeServer, id: number): boolean {
    const session = server.sessions.get(id);
    if (session) {
      session.killed = true;
      server.sessions.delete(id);
      if (server.readLockBy === id) server.readLockBy = undefined;
      return true;
    }
    const i = server.clientThreads.findIndex((t) => t.id === id);
    if (i >= 0) {
      server.clientThreads.splice(i, 1);
      return true;
    }
    const dump = this.slavesOf(server).find((s) => dumpThreadId(s) === id);
    if (dump) {
      dump.masterDied();
      return true;
    }
    return false;
  }

  purgeRelayLogs(server: FakeServer): string {
    const host = this.host(server.id);
    const index = host.files.get(server.relayLogIndex)?.toString() ?? '';
    let last = 0;
    for (const line of index.split('\n').filter(Boolean)) {
      const name = line.replace(/^.*\//, '');
      host.files.delete(`/var/lib/mysql/${name}`);
      last = Math.max(last, Number(name.split('.').pop()));
    }
    const name = `relay-bin.${String(last + 1).padStart(6, '0')}`;
    const w = new BinlogFileWriter(name);
    w.append(ev.formatDescription({ flavor: server.version.flavor, checksum: true }), { serverId: server.serverId }, true);
    host.files.set(`/var/lib/mysql/${name}`, w.toBuffer());
    host.files.set(server.relayLogIndex, Buffer.from(`./${name}\n`));
    return name;
  }

  record(kind: FakeEvent['kind'], target: string, text: string): void {
    this.events.push({ seq: this.events.length, kind, target, text });
  }

  unknown(text: string): void {
    this.unknowns.push(text);
  }

  sshFault(host: string, command: string): { action: 'fail' | 'hang'; code?: number; stderr?: string } | undefined {
    const f = this.due(this.sshFaults, host, command);
    return f && { action: f.action as 'fail' | 'hang', code: f.code, stderr: f.message };
  }

  /** mysqlbinlog DIFF | mysql: the transactions in the diff, executed by the server the defaults file names. */
  applyDiff(host: FakeSshHost, diff: Buffer, cnfPath: string, opts: { disableLogBin: boolean }): { code: number; stderr: string } {
    const cnf = host.files.get(cnfPath)?.toString();
    if (!cnf) return { code: 1, stderr: `mysql: [ERROR] Could not open required defaults file: ${cnfPath}` };
    // [client] values as remote.ts writes them: key="value" with \\ and \" escaped, or key=number.
    const value = (k: string) => {
      const raw = new RegExp(`^${k}=(.*)$`, 'm').exec(cnf)?.[1];
      const quoted = raw === undefined ? undefined : /^"(.*)"$/.exec(raw);
      return quoted ? quoted[1]!.replace(/\\(.)/g, '$1') : raw;
    };
    const ip = value('host') ?? '';
    const port = Number(value('port'));
    const target = this.serverAt(ip, port);
    if (!target || !target.alive) return { code: 1, stderr: `ERROR 2003 (HY000): Can't connect to MySQL server on '${ip}:${port}' (111)` };
    if (value('user') !== target.config.user || value('password') !== target.config.password)
      return { code: 1, stderr: `ERROR 1045 (28000): Access denied for user '${value('user')}'@'${host.server.config.ip}' (using password: YES)` };
    const parser = new BinlogParser({ file: 'diff', verifyChecksums: true });
    const trxs: Trx[] = [];
    for (const e of [...parser.push(diff)]) {
      if (e.info?.kind !== 'xid') continue;
      const t = this.history.trxByXid(e.info.xid);
      if (!t) return { code: 1, stderr: `fake cluster: the diff holds a transaction (xid ${e.info.xid}) the history does not know` };
      trxs.push(t);
    }
    parser.finish();
    this.record(
      'apply',
      target.id,
      `mysqlbinlog | mysql on ${host.label}: transactions ${trxs.map((t) => t.n).join(',') || 'none'}${opts.disableLogBin ? ' (--disable-log-bin)' : ''}`,
    );
    for (const [i, t] of trxs.entries()) {
      try {
        target.apply(t, 'client', { logBin: !opts.disableLogBin });
      } catch (err) {
        const e = err as FakeSqlError;
        return { code: 1, stderr: `ERROR ${e.errno} (${e.sqlState}) at line ${20 * (i + 1)}: ${e.message}` };
      }
    }
    return { code: 0, stderr: '' };
  }

  // ---------------------------------------------------------------------------------------------
  // What tests look at

  /** Alive servers that take writes (read_only=0). */
  writable(): string[] {
    return [...this.servers.values()].filter((s) => s.alive && !s.readOnly).map((s) => s.id);
  }

  /** The server `id` replicates from, and whether both its threads run. */
  replicationOf(id: string): { from?: string; running: boolean; io: string; sql: boolean; error: string } {
    const r = this.server(id).repl;
    if (!r) return { running: false, io: 'none', sql: false, error: '' };
    return { from: this.serverAt(r.masterHost, r.masterPort)?.id, running: r.io === 'Yes' && r.sql, io: r.io, sql: r.sql, error: r.lastIoError || r.lastSqlError };
  }

  /** MySQL sessions still open ("server#id"): the code under test must close every one it opens. */
  openSessions(): string[] {
    return [...this.servers.values()].flatMap((s) => [...s.sessions.values()].map((x) => `${s.id}#${x.id}`));
  }

  /** Transaction numbers a server executed, in order. */
  executed(id: string): number[] {
    return this.server(id).executed.map((t) => t.n);
  }

  /** Events of a kind (and target), as "target: text". */
  log(kind?: FakeEvent['kind'], target?: string): string[] {
    return this.events.filter((e) => (!kind || e.kind === kind) && (!target || e.target === target)).map((e) => `${e.target}: ${e.text}`);
  }

  /** Position in the event log of the first event matching, or -1. */
  indexOf(kind: FakeEvent['kind'], target: string, match: RegExp | string): number {
    return this.events.findIndex((e) => e.kind === kind && e.target === target && (typeof match === 'string' ? e.text === match : match.test(e.text)));
  }

  /** Throws when the code under test sent something the fake does not know, or a transaction was applied twice or skipped. */
  assertClean(): void {
    const problems = [
      ...this.unknowns,
      ...this.violations.map((v) => `fake cluster: transaction ${v.trx} ${v.kind === 'gap' ? 'executed after a gap' : 'applied twice'} on ${v.server} (${v.via})`),
    ];
    if (problems.length) throw new Error(problems.join('\n'));
  }
}

export function cluster(spec: ClusterSpec = {}): FakeCluster {
  return new FakeCluster(spec);
}
