// A fake database host over SSH: files in memory (binlogs, relay logs and their index, uploads)
// and the command lines the failover builds, matched on their text. Each command the code under
// test sends is one entry of COMMANDS below; an unknown one answers exit 127 and is recorded, so
// a test that did not expect it fails (FakeCluster.assertClean).
import { PassThrough, type Readable } from 'node:stream';
import type { SshSettings } from '../../src/config/types.js';
import type { ExecOptions, ExecResult } from '../../src/ssh/client.js';
import { SshCommandTimeoutError } from '../../src/ssh/errors.js';
import { shellQuote } from '../../src/ssh/quote.js';
import type { SshHost } from '../../src/core/clients.js';
import type { FakeServer } from './server.js';

/** What a host needs from the cluster. */
export interface HostWorld {
  record(kind: 'ssh', target: string, text: string): void;
  unknown(text: string): void;
  /** A fault for this command, if one is due: what to do instead of running it. */
  sshFault(host: string, command: string): { action: 'fail' | 'hang'; code?: number; stderr?: string } | undefined;
  /** mysqlbinlog DIFF | mysql --defaults-file=CNF: applies the diff to the server the defaults file names. */
  applyDiff(host: FakeSshHost, diff: Buffer, cnf: string, opts: { disableLogBin: boolean }): { code: number; stderr: string };
}

/** One shell word: quoted parts and plain characters, e.g. 'a'\''b' or /var/lib/mysql. */
const WORD = String.raw`(?:'[^']*'|\\.|[^\s'\\;|&<>()])+`;

/** The words of a shell command line (single quotes and backslashes, as shellQuote writes them). */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  for (const m of text.matchAll(new RegExp(WORD, 'g'))) words.push(unquote(m[0]));
  return words;
}

export function unquote(word: string): string {
  let out = '';
  for (const m of word.matchAll(/'([^']*)'|\\(.)|([^'\\]+)/g)) out += m[1] ?? m[2] ?? m[3] ?? '';
  return out;
}

function ok(stdout = ''): Omit<ExecResult, 'durationMs'> {
  return { code: 0, stdout, stderr: '', truncated: false };
}
function fail(code: number, stderr: string): Omit<ExecResult, 'durationMs'> {
  return { code, stdout: '', stderr, truncated: false };
}

interface Command {
  re: RegExp;
  run(host: FakeSshHost, m: RegExpExecArray): Omit<ExecResult, 'durationMs'>;
}

const COMMANDS: Command[] = [
  // Phase 1: is the dead master's host reachable?
  { re: /^true$/, run: () => ok() },
  // sshRelaySource.size
  {
    re: new RegExp(`^wc -c < (${WORD})$`),
    run(h, m) {
      const f = h.files.get(unquote(m[1]!));
      return f ? ok(`${f.length}\n`) : fail(1, `bash: ${unquote(m[1]!)}: No such file or directory`);
    },
  },
  // sshRangeSource.size
  {
    re: new RegExp(`^stat -L -c %s -- (${WORD})$`),
    run(h, m) {
      const f = h.files.get(unquote(m[1]!));
      return f ? ok(`${f.length}\n`) : fail(1, `stat: cannot statx '${unquote(m[1]!)}': No such file or directory`);
    },
  },
  // sshRelaySource.probe: sizes and base64 heads of many files in one command
  {
    re: new RegExp(
      String.raw`^for f in ((?:${WORD} ?)+); do if \[ -r "\$f" \] && s=\$\(wc -c < "\$f" 2>/dev/null\); then printf '%s ' "\$s"; head -c (\d+) -- "\$f" \| base64 \| tr -d '\\n'; echo; else echo -1; fi; done$`,
    ),
    run(h, m) {
      const head = Number(m[2]);
      const lines = shellWords(m[1]!).map((path) => {
        const f = h.files.get(path);
        return f ? `${f.length} ${f.subarray(0, head).toString('base64')}` : '-1';
      });
      return ok(`${lines.join('\n')}\n`);
    },
  },
  // listBinlogs
  {
    re: new RegExp(
      String.raw`^cd (${WORD}) \|\| exit 3; for f in (${WORD})\.\[0-9\]\*; do \[ -f "\$f" \] && printf 'HA:%s\\t%s\\n' "\$\(stat -c %s -- "\$f"\)" "\$f"; done; exit 0$`,
    ),
    run(h, m) {
      const dir = unquote(m[1]!).replace(/\/$/, '');
      const base = unquote(m[2]!);
      if (![...h.files.keys()].some((p) => p.startsWith(`${dir}/`))) return fail(3, `bash: line 1: cd: ${dir}: No such file or directory`);
      const lines = [...h.files.entries()]
        .filter(([p]) => p.startsWith(`${dir}/${base}.`) && /^\d+$/.test(p.slice(dir.length + base.length + 2)))
        .map(([p, b]) => `HA:${b.length}\t${p.slice(dir.length + 1)}`);
      return ok(lines.map((l) => `${l}\n`).join(''));
    },
  },
  // findClientTools
  {
    re: /^for t in (.+); do p=\$\(command -v "\$t" 2>\/dev\/null\) && \{ echo "HA:binlog \$p"; break; \}; done\nfor t in (.+); do p=\$\(command -v "\$t" 2>\/dev\/null\) && \{ echo "HA:client \$p"; break; \}; done\ncommand -v bash >\/dev\/null && echo HA:bash$/,
    run(h, m) {
      const find = (names: string[]) => names.map((n) => h.which(n)).find((p) => p !== undefined);
      const binlog = find(shellWords(m[1]!));
      const client = find(shellWords(m[2]!));
      return ok(`${binlog ? `HA:binlog ${binlog}\n` : ''}${client ? `HA:client ${client}\n` : ''}${h.which('bash') ? 'HA:bash\n' : ''}`);
    },
  },
  {
    re: new RegExp(`^mkdir -p (${WORD})$`),
    run: () => ok(),
  },
  {
    re: new RegExp(`^rm -f (${WORD})$`),
    run(h, m) {
      h.files.delete(unquote(m[1]!));
      return ok();
    },
  },
  // applyDiffOnHost: bash -c 'trap … EXIT; set -o pipefail; mysqlbinlog … DIFF | mysql --defaults-file=CNF …'
  {
    re: new RegExp(`^bash -c (${WORD})$`),
    run(h, m) {
      const script = unquote(m[1]!);
      const s = new RegExp(`^trap (${WORD}) EXIT; set -o pipefail; (.+) \\| (.+)$`).exec(script);
      if (!s) return h.unknownCommand(`bash -c ${m[1]}`);
      const trap = shellWords(unquote(s[1]!));
      const left = shellWords(s[2]!);
      const right = shellWords(s[3]!);
      const cnf = /^--defaults-file=(.+)$/.exec(right[1] ?? '')?.[1];
      const okShape =
        trap[0] === 'rm' && trap[1] === '-f' && trap[2] === cnf && left[1] === '--no-defaults' && right.slice(2).join(' ') === '--binary-mode --max-allowed-packet=1G';
      if (!okShape || !cnf) return h.unknownCommand(`bash -c ${m[1]}`);
      if (h.which(left[0]!.split('/').pop()!) !== left[0]) return fail(127, `bash: ${left[0]}: command not found`);
      if (h.which(right[0]!.split('/').pop()!) !== right[0]) return fail(127, `bash: ${right[0]}: command not found`);
      const disableLogBin = left.includes('--disable-log-bin');
      const diffPath = left.at(-1)!;
      const diff = h.files.get(diffPath);
      try {
        if (!diff) return fail(1, `${left[0]}: File '${diffPath}' not found (Errcode: 2 "No such file or directory")`);
        const r = h.world.applyDiff(h, diff, cnf, { disableLogBin });
        return r.code === 0 ? ok() : fail(r.code, r.stderr);
      } finally {
        h.files.delete(cnf); // the trap
      }
    },
  },
];

export class FakeSshHost implements SshHost {
  readonly label: string;
  readonly settings: SshSettings;
  readonly files = new Map<string, Buffer>();
  /** ssh(server) is refused (host down, network cut). */
  reachable = true;
  /** Programs on the PATH: name → path. */
  readonly programs = new Map<string, string>([['bash', '/usr/bin/bash']]);

  constructor(
    readonly world: HostWorld,
    readonly server: FakeServer,
  ) {
    this.label = server.id;
    this.settings = server.config.ssh;
    const mariadb = server.version.flavor === 'mariadb';
    this.programs.set(mariadb ? 'mariadb-binlog' : 'mysqlbinlog', mariadb ? '/usr/bin/mariadb-binlog' : '/usr/bin/mysqlbinlog');
    this.programs.set(mariadb ? 'mariadb' : 'mysql', mariadb ? '/usr/bin/mariadb' : '/usr/bin/mysql');
  }

  which(name: string): string | undefined {
    if (name.includes('/')) return [...this.programs.values()].includes(name) ? name : undefined;
    return this.programs.get(name);
  }

  unknownCommand(command: string): Omit<ExecResult, 'durationMs'> {
    const msg = `fake cluster: unknown command on ${this.label}: ${command}`;
    this.world.unknown(msg);
    return fail(127, msg);
  }

  private async fault(command: string, timeoutMs: number, what: string): Promise<Omit<ExecResult, 'durationMs'> | undefined> {
    const f = this.world.sshFault(this.label, command);
    if (!f) return undefined;
    if (f.action === 'hang') {
      // unref: a command the code abandoned (withDeadline) must not keep the test process alive.
      await new Promise((r) => setTimeout(r, timeoutMs).unref());
      throw new SshCommandTimeoutError(this.label, what, timeoutMs);
    }
    return fail(f.code ?? 1, f.stderr ?? 'fake cluster: injected failure');
  }

  async exec(command: string, opts: ExecOptions): Promise<ExecResult> {
    await new Promise((r) => setImmediate(r));
    this.world.record('ssh', this.label, command);
    const started = Date.now();
    const faulted = await this.fault(command, opts.timeoutMs, opts.what ?? command);
    const done = (r: Omit<ExecResult, 'durationMs'>): ExecResult => ({ ...r, durationMs: Date.now() - started });
    if (faulted) return done(faulted);
    for (const c of COMMANDS) {
      const m = c.re.exec(command);
      if (m) return done(c.run(this, m));
    }
    return done(this.unknownCommand(command));
  }

  run(argv: string[], opts: ExecOptions): Promise<ExecResult> {
    return this.exec(argv.map(shellQuote).join(' '), { what: argv.join(' '), ...opts });
  }

  /** `tail -c +N -- FILE | head -c L`, as SshConnection.readRange runs it. */
  readRange(path: string, start: number, length?: number, timeoutMs = 600_000): { stream: Readable; done: Promise<void> } {
    const tail = `tail -c +${start + 1} -- ${shellQuote(path)}`;
    const command = length === undefined ? tail : `${tail} | head -c ${length}`;
    this.world.record('ssh', this.label, command);
    const stream = new PassThrough();
    const done = (async () => {
      await new Promise((r) => setImmediate(r));
      const faulted = await this.fault(command, timeoutMs, `reading ${path} from offset ${start}`).catch((e: unknown) => {
        const err = e instanceof Error ? e : new Error(String(e));
        stream.destroy(err);
        throw err;
      });
      const f = this.files.get(path);
      if (faulted || !f) {
        const e = new Error(`ssh ${this.label}: reading ${path} failed (exit 1): ${faulted?.stderr ?? `tail: cannot open '${path}' for reading: No such file or directory`}`);
        stream.destroy(e);
        throw e;
      }
      const end = length === undefined ? f.length : Math.min(f.length, start + length);
      stream.end(f.subarray(Math.min(start, f.length), end));
    })();
    done.catch(() => undefined);
    return { stream, done };
  }

  /** `umask 077; cat > TMP && mv -f TMP PATH`, as SshConnection.upload runs it. */
  async upload(source: Readable | Buffer, remotePath: string, timeoutMs: number): Promise<void> {
    const command = `umask 077; cat > ${shellQuote(`${remotePath}.part`)} && mv -f ${shellQuote(`${remotePath}.part`)} ${shellQuote(remotePath)}`;
    this.world.record('ssh', this.label, command);
    const parts: Buffer[] = [];
    if (Buffer.isBuffer(source)) parts.push(source);
    else for await (const c of source as AsyncIterable<Buffer>) parts.push(Buffer.from(c));
    const faulted = await this.fault(command, timeoutMs, `writing ${remotePath}`);
    if (faulted) throw new Error(`ssh ${this.label}: writing ${remotePath} failed (exit ${faulted.code}): ${faulted.stderr}`);
    this.files.set(remotePath, Buffer.concat(parts));
  }
}
