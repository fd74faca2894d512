// One SSH connection per host, reused for the whole run (ssh2). Commands get a timeout, an exit
// code and their output; files are streamed by byte range. Host keys are checked against
// known_hosts unless the configuration explicitly opts out.
import { readFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import ssh2 from 'ssh2';
import type { AgentAuthMethod, ClientChannel, ParsedKey, PublicKeyAuthMethod } from 'ssh2';
import type { SshSettings } from '../config/types.js';
import { SshCommandTimeoutError, SshError, classifySshError } from './errors.js';
import { fingerprint, keyTypeOfBlob, loadKnownHosts, verifyHostKey, type HostKeyVerdict } from './known-hosts.js';
import { shellQuote } from './quote.js';

const { Client, utils } = ssh2;

export interface ExecOptions {
  /** Every remote command has a deadline; there is no default on purpose. */
  timeoutMs: number;
  /** What we are waiting for, for the timeout message ("mysqlbinlog --version"). */
  what?: string;
  stdin?: string | Buffer;
  /** Output beyond this many bytes (per stream) is dropped and flagged; default 16 MiB. */
  maxOutputBytes?: number;
}

export interface ExecResult {
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
  truncated: boolean;
  durationMs: number;
}

interface LoadedKey {
  file: string;
  key: ParsedKey;
}

function defaultIdentityFiles(): string[] {
  const dir = join(homedir(), '.ssh');
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(dir, f)).filter((f) => existsSync(f));
}

function loadKeys(settings: SshSettings): LoadedKey[] {
  const explicit = settings.identityFiles.length > 0;
  const files = explicit ? settings.identityFiles : defaultIdentityFiles();
  const keys: LoadedKey[] = [];
  for (const file of files) {
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch (err) {
      throw new SshError('key-file', settings.host, settings.port, `cannot read ${file}: ${(err as Error).message}`);
    }
    const parsed = utils.parseKey(data);
    if (parsed instanceof Error) {
      // Encrypted keys need a passphrase ha cannot ask for unattended: use ssh-agent instead.
      throw new SshError('key-file', settings.host, settings.port, `cannot use ${file}: ${parsed.message}`);
    }
    // Some key files hold several keys (the types say one): the first is used.
    const key: ParsedKey | undefined = Array.isArray(parsed) ? (parsed as ParsedKey[])[0] : parsed;
    if (key) keys.push({ file, key });
  }
  return keys;
}

export class SshConnection {
  readonly label: string;
  readonly settings: SshSettings;
  /** How the host key was accepted: its fingerprint and where it was found. */
  readonly hostKey: { fingerprint: string; verifiedBy: string };
  private readonly client: InstanceType<typeof Client>;
  private closed = false;

  private constructor(label: string, settings: SshSettings, client: InstanceType<typeof Client>, hostKey: { fingerprint: string; verifiedBy: string }) {
    this.label = label;
    this.settings = settings;
    this.client = client;
    this.hostKey = hostKey;
    client.on('close', () => {
      this.closed = true;
    });
    client.on('error', () => {
      this.closed = true;
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  static connect(settings: SshSettings, label = settings.host): Promise<SshConnection> {
    const { host, port } = settings;
    const keys = loadKeys(settings);
    const agent = settings.identityFiles.length === 0 ? process.env.SSH_AUTH_SOCK : undefined;
    if (keys.length === 0 && !agent) {
      return Promise.reject(new SshError('key-file', host, port, 'no private key configured (ssh_options -i / ssh_identity_file), none in ~/.ssh and no ssh-agent'));
    }
    const known = settings.strictHostKeyChecking ? loadKnownHosts(knownHostsFiles(settings)) : undefined;

    return new Promise((resolve, reject) => {
      const client = new Client();
      let verdict: HostKeyVerdict | undefined;
      let offered: Buffer | undefined;
      let settled = false;
      const fail = (err: SshError) => {
        if (settled) return;
        settled = true;
        client.end();
        reject(err);
      };

      const authList: (PublicKeyAuthMethod | AgentAuthMethod)[] = [
        ...keys.map((k): PublicKeyAuthMethod => ({ type: 'publickey', username: settings.user, key: k.key })),
        ...(agent ? [{ type: 'agent' as const, username: settings.user, agent }] : []),
      ];

      client.on('ready', () => {
        if (settled) return;
        settled = true;
        const fp = offered ? fingerprint(offered) : 'unknown';
        const verifiedBy = verdict?.kind === 'match' ? `${verdict.entry.file}:${verdict.entry.line}` : 'not verified (StrictHostKeyChecking=no)';
        resolve(new SshConnection(label, settings, client, { fingerprint: fp, verifiedBy }));
      });
      client.on('error', (err: Error) => {
        if (verdict && verdict.kind !== 'match' && settings.strictHostKeyChecking && offered) {
          fail(hostKeyError(settings, verdict, offered, known?.missing ?? []));
          return;
        }
        const kind = classifySshError(err);
        const detail = kind === 'auth' ? `user ${settings.user} was refused with ${describeKeys(keys, agent)}` : err.message;
        fail(new SshError(kind, host, port, detail));
      });
      client.on('close', () => fail(new SshError('closed', host, port, 'connection closed during the handshake')));

      client.connect({
        host,
        port,
        username: settings.user,
        readyTimeout: settings.connectTimeoutSeconds * 1000,
        authHandler: authList,
        keepaliveInterval: 10_000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          offered = key;
          if (!known) return true;
          verdict = verifyHostKey(known.entries, host, port, key);
          return verdict.kind === 'match';
        },
      });
    });
  }

  /** Run a command line (already quoted: build it with shellQuote) and collect its output. */
  exec(command: string, opts: ExecOptions): Promise<ExecResult> {
    const started = Date.now();
    const max = opts.maxOutputBytes ?? 16 * 1024 * 1024;
    const what = opts.what ?? command;
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new SshError('closed', this.settings.host, this.settings.port, `connection lost before running ${what}`));
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      this.client.exec(command, (err, channel) => {
        if (err) {
          reject(new SshError(classifySshError(err), this.settings.host, this.settings.port, `cannot run ${what}: ${err.message}`));
          return;
        }
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let outLen = 0;
        let errLen = 0;
        let truncated = false;
        timer = setTimeout(() => {
          channel.close();
          reject(new SshCommandTimeoutError(this.label, what, opts.timeoutMs));
        }, opts.timeoutMs);
        channel.on('data', (chunk: Buffer) => {
          if (outLen + chunk.length > max) truncated = true;
          else out.push(chunk);
          outLen += chunk.length;
        });
        channel.stderr.on('data', (chunk: Buffer) => {
          if (errLen + chunk.length > max) truncated = true;
          else errOut.push(chunk);
          errLen += chunk.length;
        });
        channel.on('close', (code: number | null, signal?: string) => {
          clearTimeout(timer);
          resolve({
            code: code ?? null,
            signal: signal ?? undefined,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(errOut).toString('utf8'),
            truncated,
            durationMs: Date.now() - started,
          });
        });
        if (opts.stdin !== undefined) channel.end(opts.stdin);
        else channel.end();
      });
    });
  }

  /** Run argv as one remote command with every word shell-quoted. */
  run(argv: string[], opts: ExecOptions): Promise<ExecResult> {
    return this.exec(argv.map(shellQuote).join(' '), { what: argv.join(' '), ...opts });
  }

  /**
   * Stream bytes [start, start+length) of a remote file (to its end when length is omitted).
   * Uses tail/head, which every host has, rather than SFTP, which hardened hosts often disable.
   * `done` settles when the remote command exits: rejected on a non-zero exit or on timeout.
   */
  readRange(path: string, start: number, length?: number, timeoutMs = 600_000): { stream: Readable; done: Promise<void> } {
    const tail = `tail -c +${start + 1} -- ${shellQuote(path)}`;
    const command = length === undefined ? tail : `${tail} | head -c ${length}`;
    const stream = new PassThrough();
    const done = new Promise<void>((resolve, reject) => {
      this.client.exec(command, (err, channel: ClientChannel) => {
        if (err) {
          const e = new SshError(classifySshError(err), this.settings.host, this.settings.port, `cannot read ${path}: ${err.message}`);
          stream.destroy(e);
          reject(e);
          return;
        }
        const stderr: Buffer[] = [];
        const timer = setTimeout(() => {
          const e = new SshCommandTimeoutError(this.label, `reading ${path} from offset ${start}`, timeoutMs);
          channel.close();
          stream.destroy(e);
          reject(e);
        }, timeoutMs);
        channel.stderr.on('data', (c: Buffer) => stderr.push(c));
        channel.pipe(stream, { end: false });
        let finished = false;
        // A reader that stops early (it found what it needed) destroys the stream: close the
        // remote command too, and drop the deadline, or both would linger until the timeout.
        stream.once('close', () => {
          if (finished) return;
          clearTimeout(timer);
          channel.close();
          resolve();
        });
        channel.on('close', (code: number | null) => {
          finished = true;
          clearTimeout(timer);
          if (code === 0) {
            stream.end();
            resolve();
          } else {
            const e = new Error(`ssh ${this.label}: reading ${path} failed (exit ${code}): ${Buffer.concat(stderr).toString().trim()}`);
            stream.destroy(e);
            reject(e);
          }
        });
      });
    });
    done.catch(() => undefined); // the stream carries the error too; avoid an unhandled rejection
    return { stream, done };
  }

  /**
   * Stream a local file (or a Buffer) into a new remote file, created 0600 (umask 077: diffs hold
   * row data, defaults files hold passwords). Written to a temporary name and renamed, so a cut
   * connection never leaves a half file under the final name.
   */
  upload(source: Readable | Buffer, remotePath: string, timeoutMs: number): Promise<void> {
    const tmp = `${remotePath}.part`;
    const command = `umask 077; cat > ${shellQuote(tmp)} && mv -f ${shellQuote(tmp)} ${shellQuote(remotePath)}`;
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, channel) => {
        if (err) {
          reject(new SshError(classifySshError(err), this.settings.host, this.settings.port, `cannot write ${remotePath}: ${err.message}`));
          return;
        }
        const stderr: Buffer[] = [];
        const timer = setTimeout(() => {
          channel.close();
          reject(new SshCommandTimeoutError(this.label, `writing ${remotePath}`, timeoutMs));
        }, timeoutMs);
        channel.stderr.on('data', (c: Buffer) => stderr.push(c));
        // The remote side writes nothing, but an unread channel never reports its end: drain it.
        channel.resume();
        channel.on('close', (code: number | null) => {
          clearTimeout(timer);
          if (code === 0) resolve();
          else reject(new Error(`ssh ${this.label}: writing ${remotePath} failed (exit ${code}): ${Buffer.concat(stderr).toString().trim()}`));
        });
        if (Buffer.isBuffer(source)) channel.end(source);
        else {
          source.on('error', (e) => {
            channel.close();
            reject(e);
          });
          source.pipe(channel);
        }
      });
    });
  }

  close(): void {
    this.closed = true;
    this.client.end();
  }
}

function knownHostsFiles(settings: SshSettings): string[] {
  return settings.knownHostsFiles.length > 0 ? settings.knownHostsFiles : [join(homedir(), '.ssh', 'known_hosts')];
}

function describeKeys(keys: LoadedKey[], agent: string | undefined): string {
  const parts = keys.map((k) => k.file);
  if (agent) parts.push('ssh-agent keys');
  return parts.length ? parts.join(', ') : 'no keys';
}

function hostKeyError(settings: SshSettings, verdict: HostKeyVerdict, offered: Buffer, missingFiles: string[]): SshError {
  const fp = `${keyTypeOfBlob(offered)} ${fingerprint(offered)}`;
  const files = knownHostsFiles(settings).join(', ');
  switch (verdict.kind) {
    case 'mismatch': {
      const where = verdict.expected.map((e) => `${e.file}:${e.line}`).join(', ');
      return new SshError(
        'host-key-mismatch',
        settings.host,
        settings.port,
        `the host offered ${fp}, which differs from the key recorded at ${where}; someone may be intercepting the connection, or the host was reinstalled`,
      );
    }
    case 'revoked':
      return new SshError('host-key-revoked', settings.host, settings.port, `the host offered ${fp}, marked @revoked at ${verdict.entry.file}:${verdict.entry.line}`);
    default: {
      const missing = missingFiles.length ? ` (${missingFiles.join(', ')} not readable)` : '';
      return new SshError(
        'host-key-unknown',
        settings.host,
        settings.port,
        `no entry for this host in ${files}${missing}; it offered ${fp}. Verify it and add it (ssh-keyscan), or opt out with ssh_strict_host_key_checking=0`,
      );
    }
  }
}

/** One connection per server for the whole run; reconnects once a connection has dropped. */
/**
 * What operations use of an SSH connection to a database host: commands, byte ranges of files,
 * uploads. SshConnection implements it; a fake host in the unit tests serves files from memory.
 */
export type SshHost = Pick<SshConnection, 'label' | 'settings' | 'exec' | 'run' | 'readRange' | 'upload'>;

export class SshPool {
  private readonly conns = new Map<string, Promise<SshConnection>>();

  get(key: string, settings: SshSettings, label = key): Promise<SshConnection> {
    const existing = this.conns.get(key);
    if (existing) {
      return existing.then(
        (c) => (c.isOpen ? c : this.open(key, settings, label)),
        () => this.open(key, settings, label),
      );
    }
    return this.open(key, settings, label);
  }

  private open(key: string, settings: SshSettings, label: string): Promise<SshConnection> {
    const p = SshConnection.connect(settings, label);
    this.conns.set(key, p);
    return p;
  }

  async closeAll(): Promise<void> {
    const all = [...this.conns.values()];
    this.conns.clear();
    await Promise.all(
      all.map((p) =>
        p.then(
          (c) => c.close(),
          () => undefined,
        ),
      ),
    );
  }
}
