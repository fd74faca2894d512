// What the failover does on database hosts, over the manager's SSH connection: list and save the
// dead master's binlogs, upload a diff, and apply it with the server's own mysqlbinlog piped to the
// mysql client. Passwords reach the remote client through a 0600 defaults file that is removed in
// the same command, never through argv.
import { createReadStream } from 'node:fs';
import { open, mkdir, type FileHandle } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { ServerConfig } from '../config/types.js';
import type { SshHost } from '../core/clients.js';
import { shellQuote } from '../ssh/quote.js';
import { compareBinlogFiles, parseBinlogName } from '../binlog/coordinates.js';
import type { BinlogCoordinate } from '../mysql/types.js';
import type { DiffSource } from '../binlog/diff.js';
import { BinlogParser } from '../binlog/parser.js';
import { localSource } from '../binlog/reader.js';

export interface RemoteLogFile {
  name: string;
  path: string;
  size: number;
}

/** The binlog files of a series in a directory on a host, with sizes, in numeric order. */
export async function listBinlogs(conn: SshHost, dir: string, basename: string, timeoutMs: number): Promise<RemoteLogFile[]> {
  const script = `cd ${shellQuote(dir)} || exit 3; for f in ${shellQuote(basename)}.[0-9]*; do [ -f "$f" ] && printf 'HA:%s\\t%s\\n' "$(stat -c %s -- "$f")" "$f"; done; exit 0`;
  const r = await conn.exec(script, { timeoutMs, what: `listing ${dir}/${basename}.*` });
  if (r.code === 3) throw new Error(`${dir} does not exist or is not readable on ${conn.label}`);
  if (r.code !== 0) throw new Error(`listing ${dir} on ${conn.label} failed (exit ${r.code}): ${r.stderr.trim()}`);
  const files: RemoteLogFile[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^HA:(\d+)\t(.+)$/.exec(line);
    if (!m || !/\.\d+$/.test(m[2]!)) continue;
    files.push({ name: m[2]!, path: posix.join(dir, m[2]!), size: Number(m[1]) });
  }
  return files.sort((a, b) => compareBinlogFiles(a.name, b.name));
}

export interface SavedBinlogFile {
  name: string;
  /** Local copy: the file's head (magic + Format_description) followed by its bytes from `start` on. */
  localPath: string;
  /** Bytes of the head in the local copy (the FDE's end offset). */
  headLength: number;
  start: number;
  size: number;
}

const HEAD_BYTES = 4096;

/**
 * Save the dead master's binlogs from a coordinate to their end, while its host is reachable:
 * every file from `from.file` on, each as its Format_description plus the bytes from the start
 * position (only what a diff needs). `savedBinlogSource` reads a copy back at the original offsets.
 */
export async function saveBinlogTail(conn: SshHost, files: RemoteLogFile[], from: BinlogCoordinate, localDir: string, timeoutMs: number): Promise<SavedBinlogFile[]> {
  await mkdir(localDir, { recursive: true });
  const wanted = files.filter((f) => compareBinlogFiles(f.name, from.file) >= 0);
  if (!wanted.length || wanted[0]!.name !== from.file) {
    throw new Error(`the latest slave's read position is in ${from.file}, which is not among the master's binlogs (${files.map((f) => f.name).join(', ') || 'none'})`);
  }
  const saved: SavedBinlogFile[] = [];
  for (const [i, f] of wanted.entries()) {
    const start = i === 0 ? from.position : 4;
    if (start > f.size) throw new Error(`${f.path} is ${f.size} bytes, shorter than the read position ${start}`);
    const head = await readAll(conn, f.path, 0, Math.min(HEAD_BYTES, f.size), timeoutMs);
    const fde = new BinlogParser({ file: f.name, verifyChecksums: true }).push(head)[0];
    if (!fde || fde.info?.kind !== 'format') throw new Error(`${f.path} on ${conn.label}: no Format_description at its start`);
    if (start < fde.end) throw new Error(`${f.path}: position ${start} is inside its Format_description`);
    const localPath = join(localDir, f.name);
    const fh = await open(localPath, 'w', 0o600);
    try {
      await fh.write(head, 0, fde.end, 0);
      if (f.size > start) await copyRange(conn, f.path, start, f.size - start, fh, fde.end, timeoutMs);
      await fh.sync();
    } finally {
      await fh.close();
    }
    saved.push({ name: f.name, localPath, headLength: fde.end, start, size: f.size });
  }
  return saved;
}

async function readAll(conn: SshHost, path: string, start: number, length: number, timeoutMs: number): Promise<Buffer> {
  const { stream, done } = conn.readRange(path, start, length, timeoutMs);
  const parts: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) parts.push(c);
  await done;
  return Buffer.concat(parts);
}

async function copyRange(conn: SshHost, path: string, start: number, length: number, fh: FileHandle, at0: number, timeoutMs: number): Promise<void> {
  const { stream, done } = conn.readRange(path, start, length, timeoutMs);
  let at = at0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    await fh.write(chunk, 0, chunk.length, at);
    at += chunk.length;
  }
  await done;
  if (at - at0 !== length) throw new Error(`reading ${path} on ${conn.label}: got ${at - at0} of ${length} bytes`);
}

/** A saved copy as a diff source at the original file's offsets (head, then [start, size)). */
export function savedBinlogSource(f: SavedBinlogFile): DiffSource {
  const local = (from: number, to: number | undefined) => localSource(f.localPath, from, to);
  return {
    label: `saved ${f.name}`,
    name: f.name,
    size: async () => f.size,
    open(start: number, end?: number) {
      if (start < f.headLength) {
        // The diff writer reads the head for the format: it ends with the Format_description.
        return local(start, Math.min(end ?? f.headLength, f.headLength));
      }
      if (start < f.start) throw new Error(`${f.name}: bytes before ${f.start} were not saved (asked for ${start})`);
      const shift = f.headLength - f.start;
      return local(start + shift, end === undefined ? undefined : end + shift);
    },
  };
}

export function binlogBasename(file: string): string {
  return parseBinlogName(file).basename;
}

/** A [client] section: values double-quoted with \\ and " escaped, as the MySQL option-file parser reads them. */
function clientDefaults(server: ServerConfig): string {
  const q = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  if (/[\r\n]/.test(server.user + server.password)) throw new Error(`${server.id}: user or password contains a line break`);
  return `[client]\nuser=${q(server.user)}\npassword=${q(server.password)}\nhost=${q(server.ip)}\nport=${server.port}\n`;
}

export interface ApplyResult {
  durationMs: number;
  output: string;
}

export interface ApplyOptions {
  binlogTool: string;
  mysqlClient: string;
  timeoutMs: number;
  /** disable_log_bin=1: apply without writing the events to the target's binlog (MHA's option). */
  disableLogBin: boolean;
}

/**
 * Apply a diff that is already on the target host: `mysqlbinlog FILE | mysql`, with the
 * credentials in a 0600 defaults file created and removed by the same command.
 */
export async function applyDiffOnHost(conn: SshHost, server: ServerConfig, remoteDiff: string, opts: ApplyOptions): Promise<ApplyResult> {
  const cnf = posix.join(server.remoteWorkdir, `.ha-client-${process.pid}-${Date.now()}.cnf`);
  await conn.upload(Buffer.from(clientDefaults(server)), cnf, opts.timeoutMs);
  const binlogArgs = ['--no-defaults', ...(opts.disableLogBin ? ['--disable-log-bin'] : []), remoteDiff];
  const clientArgs = [`--defaults-file=${cnf}`, '--binary-mode', '--max-allowed-packet=1G'];
  const script = [
    `trap 'rm -f ${shellQuote(cnf)}' EXIT`,
    'set -o pipefail',
    `${shellQuote(opts.binlogTool)} ${binlogArgs.map(shellQuote).join(' ')} | ${shellQuote(opts.mysqlClient)} ${clientArgs.map(shellQuote).join(' ')}`,
  ].join('; ');
  const r = await conn.exec(`bash -c ${shellQuote(script)}`, { timeoutMs: opts.timeoutMs, what: `applying ${remoteDiff} on ${server.id}` });
  if (r.code !== 0) {
    throw new Error(`applying ${remoteDiff} on ${server.id} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 2000)}`);
  }
  return { durationMs: r.durationMs, output: r.stdout };
}

/** Find the binlog tool and the mysql client on a host (client_bindir first), in one round trip. */
export async function findClientTools(conn: SshHost, server: ServerConfig, timeoutMs: number): Promise<{ binlogTool: string; mysqlClient: string }> {
  const dirs = server.clientBindir ? [server.clientBindir] : [];
  const cands = (names: string[]) => [...dirs.flatMap((d) => names.map((n) => posix.join(d, n))), ...names].map(shellQuote).join(' ');
  const script = [
    `for t in ${cands(['mysqlbinlog', 'mariadb-binlog'])}; do p=$(command -v "$t" 2>/dev/null) && { echo "HA:binlog $p"; break; }; done`,
    `for t in ${cands(['mysql', 'mariadb'])}; do p=$(command -v "$t" 2>/dev/null) && { echo "HA:client $p"; break; }; done`,
    'command -v bash >/dev/null && echo HA:bash',
  ].join('\n');
  const r = await conn.exec(script, { timeoutMs, what: 'finding mysqlbinlog and mysql' });
  const binlogTool = /^HA:binlog (.+)$/m.exec(r.stdout)?.[1];
  const mysqlClient = /^HA:client (.+)$/m.exec(r.stdout)?.[1];
  if (!binlogTool) throw new Error(`${server.id}: neither mysqlbinlog nor mariadb-binlog found (PATH, client_bindir)`);
  if (!mysqlClient) throw new Error(`${server.id}: neither mysql nor mariadb client found (PATH, client_bindir)`);
  if (!/^HA:bash$/m.test(r.stdout)) throw new Error(`${server.id}: bash is needed to apply diffs (set -o pipefail)`);
  return { binlogTool, mysqlClient };
}

/** Upload a local diff into the target's remote_workdir. */
export async function uploadDiff(conn: SshHost, server: ServerConfig, localPath: string, name: string, timeoutMs: number): Promise<string> {
  const remote = posix.join(server.remoteWorkdir, name);
  await conn.exec(`mkdir -p ${shellQuote(server.remoteWorkdir)}`, { timeoutMs, what: 'creating remote_workdir' });
  await conn.upload(createReadStream(localPath), remote, timeoutMs);
  return remote;
}
