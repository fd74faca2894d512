// Write load for failover tests: inserts numbered rows (1, 2, 3, ...) into hatest.<table> through
// whatever host target() names, as the unprivileged `app` user (so read_only stops it), and
// records every acknowledged (committed) number with the time of the ack. After a failover,
// verifyOn(newMaster) lists acknowledged numbers that are missing: lost writes.
import { createConnection, type Connection } from 'mysql2/promise';
import type { Lab, LabHost } from './lab.js';
import { ADMIN_PASSWORD, ADMIN_USER, APP_PASSWORD, APP_USER } from './template.js';
import { StopWaiting, sleep, waitFor } from './proc.js';

/** Where the load connects: a lab host, or any address and port (a VIP, a proxy in front of the hosts). */
export type WriteTarget = Pick<LabHost, 'ip' | 'mysqlPort'>;

export interface WriteLoadOptions {
  /** The host to write to; asked again after every error (so a test can follow a failover). */
  target: () => WriteTarget | Promise<WriteTarget>;
  /** Pause between inserts (default 0: back to back, capped at 200 inserts/s). */
  intervalMs?: number;
  /** Table in schema hatest (default "load"; created if missing). */
  table?: string;
  /** The load stops by itself after this long (default 120 s). */
  maxDurationMs?: number;
  /** TCP connect timeout (default 1000 ms). */
  connectTimeoutMs?: number;
  /** An insert that has not been acknowledged after this long counts as failed (default 2000 ms). */
  queryTimeoutMs?: number;
  /** Pause after an error before trying again (default 50 ms). */
  retryDelayMs?: number;
}

export interface WriteAck {
  /** The row's id. */
  n: number;
  /** Date.now() when the commit was acknowledged. */
  at: number;
}

export interface WriteLoadResult {
  table: string;
  startedAt: number;
  stoppedAt: number;
  /** Acknowledged rows, in order. Numbers whose insert failed are skipped, never retried. */
  acked: WriteAck[];
  attempts: number;
  errors: number;
  /** The first distinct error messages (up to 20). */
  errorSamples: string[];
  /** Longest time without an ack: between consecutive acks, from start to the first, from the last to stop. */
  longestGapMs: number;
  longestGap: { from: number; to: number };
  /** The first ack at or after ts (Date.now() scale). */
  firstAckAfter(ts: number): WriteAck | undefined;
  /** Acknowledged numbers missing from rowsPresent. */
  lostWrites(rowsPresent: Set<number>): number[];
  /** Reads hatest.<table> on a host and returns the acknowledged numbers missing there. */
  verifyOn(host: number | LabHost): Promise<number[]>;
}

const MIN_SPACING_MS = 5; // 200 inserts/s

export class WriteLoad {
  readonly table: string;
  /** Resolves when the load has stopped (stop(), abort(), max duration). */
  readonly done: Promise<WriteLoadResult>;
  private readonly ackList: WriteAck[] = [];
  private attempts = 0;
  private errorCount = 0;
  private readonly samples: string[] = [];
  private stopping = false;
  private startedAt = Date.now();
  private stoppedAt = 0;
  private wake: (() => void) | undefined;

  static createTableSql(table: string): string {
    return `CREATE TABLE IF NOT EXISTS hatest.\`${table}\` (` + 'id BIGINT NOT NULL PRIMARY KEY, at BIGINT NOT NULL, server_id INT UNSIGNED NOT NULL) ENGINE=InnoDB';
  }

  constructor(
    private readonly lab: Lab,
    private readonly opts: WriteLoadOptions,
  ) {
    this.table = opts.table ?? 'load';
    if (!/^[A-Za-z0-9_]+$/.test(this.table)) throw new Error(`bad table name ${this.table}`);
    this.done = this.run().then(() => this.result());
  }

  get ackedCount(): number {
    return this.ackList.length;
  }
  get errors(): number {
    return this.errorCount;
  }
  /** A copy of the acknowledged rows so far. */
  get acked(): WriteAck[] {
    return [...this.ackList];
  }
  get lastAck(): WriteAck | undefined {
    return this.ackList[this.ackList.length - 1];
  }

  /** Waits until at least `count` rows in total have been acknowledged. */
  async waitForAcks(count: number, timeoutMs = 10_000): Promise<void> {
    await waitFor(
      `${count} acknowledged writes (have ${this.ackList.length}, ${this.errorCount} errors${this.samples.length ? `, last: ${this.samples[this.samples.length - 1]}` : ''})`,
      () => {
        if (this.ackList.length >= count) return true;
        if (this.stoppedAt) throw new StopWaiting(`the load stopped with ${this.ackList.length} acks`);
        return false;
      },
      timeoutMs,
      10,
    );
  }

  /** Stops the load and returns what it did. */
  async stop(): Promise<WriteLoadResult> {
    this.stopping = true;
    this.wake?.();
    return this.done;
  }

  /** Stops without waiting (used by lab.down()). */
  abort(): void {
    this.stopping = true;
    this.wake?.();
  }

  /** Acknowledged numbers (so far) missing from hatest.<table> on a host. */
  async verifyOn(host: number | LabHost): Promise<number[]> {
    const rows = await this.lab.sql(host, `SELECT id FROM hatest.\`${this.table}\``);
    const present = new Set(rows.map((r) => Number(r.id)));
    return this.ackList.filter((a) => !present.has(a.n)).map((a) => a.n);
  }

  private async pause(ms: number): Promise<void> {
    if (ms <= 0 || this.stopping) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.wake = undefined;
  }

  private noteError(e: unknown): void {
    this.errorCount++;
    const msg = e instanceof Error ? `${(e as { code?: string }).code ?? ''} ${e.message}`.trim() : String(e);
    if (this.samples.length < 20 && !this.samples.includes(msg)) this.samples.push(msg);
  }

  private async run(): Promise<void> {
    const maxMs = this.opts.maxDurationMs ?? 120_000;
    const spacing = Math.max(this.opts.intervalMs ?? 0, MIN_SPACING_MS);
    const retryDelay = this.opts.retryDelayMs ?? 50;
    this.startedAt = Date.now();
    let conn: Connection | undefined;
    let next = 1;
    let prepared = false;
    let nextAt = Date.now();
    const insert = `INSERT INTO hatest.\`${this.table}\` (id, at, server_id) VALUES (?, ?, @@server_id)`;
    while (!this.stopping && Date.now() - this.startedAt < maxMs) {
      await this.pause(nextAt - Date.now());
      if (this.stopping) break;
      nextAt = Date.now() + spacing;
      try {
        if (!conn) {
          const target = await this.opts.target();
          conn = await createConnection({
            host: target.ip,
            port: target.mysqlPort,
            user: APP_USER,
            password: APP_PASSWORD,
            database: 'hatest',
            connectTimeout: this.opts.connectTimeoutMs ?? 1000,
          });
          conn.on('error', () => undefined); // errors surface through the next query
        }
        if (!prepared) {
          // Create the table if needed (as the app user, so never on a read_only slave) and
          // continue after the highest number already in it.
          const timeout = this.opts.queryTimeoutMs ?? 2000;
          await conn.query({ sql: WriteLoad.createTableSql(this.table), timeout });
          const [rows] = await conn.query({ sql: `SELECT COALESCE(MAX(id), 0) AS m FROM \`${this.table}\``, timeout });
          next = Number((rows as { m: number | string }[])[0]?.m ?? 0) + 1;
          prepared = true;
        }
        const n = next++;
        this.attempts++;
        await conn.query({ sql: insert, timeout: this.opts.queryTimeoutMs ?? 2000 }, [n, Date.now()]);
        this.ackList.push({ n, at: Date.now() });
      } catch (e) {
        this.noteError(e);
        conn?.destroy();
        conn = undefined;
        nextAt = Date.now() + retryDelay;
      }
    }
    conn?.destroy();
    this.stoppedAt = Date.now();
    await sleep(0);
  }

  private result(): WriteLoadResult {
    const acked = [...this.ackList];
    const startedAt = this.startedAt;
    const stoppedAt = this.stoppedAt || Date.now();
    let longestGap = { from: startedAt, to: acked[0]?.at ?? stoppedAt };
    let prev = startedAt;
    for (const a of [...acked, { n: 0, at: stoppedAt }]) {
      if (a.at - prev > longestGap.to - longestGap.from) longestGap = { from: prev, to: a.at };
      prev = a.at;
    }
    const lostWrites = (present: Set<number>) => acked.filter((a) => !present.has(a.n)).map((a) => a.n);
    const lab = this.lab;
    const table = this.table;
    return {
      table,
      startedAt,
      stoppedAt,
      acked,
      attempts: this.attempts,
      errors: this.errorCount,
      errorSamples: [...this.samples],
      longestGapMs: longestGap.to - longestGap.from,
      longestGap,
      firstAckAfter: (ts: number) => acked.find((a) => a.at >= ts),
      lostWrites,
      verifyOn: async (host: number | LabHost) => {
        const rows = await lab.sql(host, `SELECT id FROM hatest.\`${table}\``);
        return lostWrites(new Set(rows.map((r) => Number(r.id))));
      },
    };
  }
}

export interface PrivilegedWriterOptions {
  /** The host to write to; asked again after every error. */
  target: () => Promise<WriteTarget>;
  connectTimeoutMs: number;
  /** Per INSERT (default: none). */
  queryTimeoutMs?: number;
  /** Pause after each acknowledged INSERT. */
  pauseMs: number;
  /** It stops by itself after this long. */
  maxDurationMs: number;
}

/**
 * A second writer, with ALL PRIVILEGES (the lab's admin user): read_only does not stop it on
 * MariaDB, only the global read lock and a closed connection do. Inserts numbered rows into
 * hatest.priv (the caller creates it), reconnecting to target() after any error, and records
 * every acknowledged number: rows written to an old master after a switch show up as missing.
 */
export function startPrivilegedWriter(opts: PrivilegedWriterOptions): { acked: WriteAck[]; stop(): Promise<void> } {
  const acked: WriteAck[] = [];
  let stop = false;
  let n = 0;
  const done = (async () => {
    let conn: Connection | undefined;
    const deadline = Date.now() + opts.maxDurationMs;
    while (!stop && Date.now() < deadline) {
      try {
        if (!conn) {
          const h = await opts.target();
          conn = await createConnection({ host: h.ip, port: h.mysqlPort, user: ADMIN_USER, password: ADMIN_PASSWORD, connectTimeout: opts.connectTimeoutMs });
        }
        const id = ++n;
        await conn.query({ sql: 'INSERT INTO hatest.priv (id) VALUES (?)', ...(opts.queryTimeoutMs ? { timeout: opts.queryTimeoutMs } : {}) }, [id]);
        acked.push({ n: id, at: Date.now() });
        await sleep(opts.pauseMs);
      } catch {
        conn?.destroy();
        conn = undefined;
        await sleep(20);
      }
    }
    await conn?.end().catch(() => undefined);
  })();
  return {
    acked,
    async stop() {
      stop = true;
      await done;
    },
  };
}
