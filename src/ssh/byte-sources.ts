// The binlog engine's byte sources over SSH: a database host's binlogs and relay logs, read with
// the shell tools every host has (tail, head, wc, stat, base64). The engine (src/binlog) only
// knows the source interfaces; these adapters live here so that it needs nothing from SSH.
import { basename } from 'node:path';
import type { DiffSource } from '../binlog/diff.js';
import type { RelayLogSource } from '../binlog/relay-map.js';
import type { SshConnection } from './client.js';
import { shellQuote } from './quote.js';

/** What the sources use of a connection (a fake one in unit tests). */
export type ByteSourceConnection = Pick<SshConnection, 'label' | 'exec' | 'run' | 'readRange'> & {
  readonly settings: Pick<SshConnection['settings'], 'user' | 'host'>;
};

export interface SshRelaySourceOptions {
  /** Deadline of each remote command (default 10 min: a chunk of a big file on a slow link). */
  timeoutMs?: number;
  /** Largest byte range asked for in one command (default 16 MiB); ranges start at 1 MiB and double. */
  maxChunkBytes?: number;
}

/** Files per head-probing command: keeps the command line and its output bounded. */
export const RELAY_HEADS_PER_COMMAND = 400;

/**
 * One shell command printing, per file, "SIZE BASE64-OF-ITS-FIRST-headBytes" on a line, or "-1"
 * when the file is missing or unreadable.
 */
export function relayHeadsCommand(files: string[], headBytes: number): string {
  if (!Number.isSafeInteger(headBytes) || headBytes < 0) throw new Error(`head size must be a byte count, got ${headBytes}`);
  return (
    `for f in ${files.map(shellQuote).join(' ')}; do ` +
    `if [ -r "$f" ] && s=$(wc -c < "$f" 2>/dev/null); then printf '%s ' "$s"; head -c ${headBytes} -- "$f" | base64 | tr -d '\\n'; echo; ` +
    `else echo -1; fi; done`
  );
}

/** The lines of relayHeadsCommand's output, one per file asked; undefined when some are missing. */
export function parseRelayHeads(stdout: string, count: number): { size: number; head: Buffer }[] | undefined {
  const lines = stdout.split('\n').filter((l) => l !== '');
  if (lines.length !== count) return undefined;
  return lines.map((line) => {
    const sp = line.indexOf(' ');
    const size = Number(sp < 0 ? line : line.slice(0, sp));
    return { size: Number.isSafeInteger(size) ? size : -1, head: sp < 0 ? Buffer.alloc(0) : Buffer.from(line.slice(sp + 1), 'base64') };
  });
}

/**
 * Relay logs on a database host, read over an SSH connection: sizes and heads of all files in one
 * command, file bodies as byte ranges (tail/head) of growing size, so that stopping at the event
 * found never costs more than one chunk.
 */
export function sshRelaySource(conn: ByteSourceConnection, opts: SshRelaySourceOptions = {}): RelayLogSource {
  const timeoutMs = opts.timeoutMs ?? 600_000;
  const maxChunk = opts.maxChunkBytes ?? 16 * 1024 * 1024;
  const label = `${conn.settings.user}@${conn.settings.host}`;
  return {
    label,
    async size(file) {
      const r = await conn.exec(`wc -c < ${shellQuote(file)}`, { timeoutMs, what: `size of ${file}` });
      const n = Number(r.stdout.trim());
      if (r.code !== 0 || !Number.isSafeInteger(n)) throw new Error(`ssh ${label}: cannot read the size of ${file}: ${r.stderr.trim() || `exit ${r.code}`}`);
      return n;
    },
    async *read(file, start, end) {
      let pos = start;
      let chunk = Math.min(1 << 20, maxChunk);
      for (;;) {
        const want = end === undefined ? chunk : Math.min(chunk, end - pos);
        if (want <= 0) return;
        const { stream, done } = conn.readRange(file, pos, want, timeoutMs);
        let got = 0;
        let finished = false;
        try {
          for await (const c of stream as AsyncIterable<Buffer>) {
            got += c.length;
            yield c;
          }
          finished = true;
        } finally {
          // The caller stopped early: let the rest of this range drain into nothing rather than
          // leave the remote command blocked on a full channel until its deadline.
          if (!finished) stream.resume();
        }
        await done;
        pos += got;
        if (got < want) return; // end of file
        chunk = Math.min(chunk * 2, maxChunk);
      }
    },
    async probe(files, headBytes) {
      const out: { size: number; head: Buffer }[] = [];
      for (let i = 0; i < files.length; i += RELAY_HEADS_PER_COMMAND) {
        const batch = files.slice(i, i + RELAY_HEADS_PER_COMMAND);
        const r = await conn.exec(relayHeadsCommand(batch, headBytes), {
          timeoutMs,
          what: `reading the heads of ${batch.length} relay logs`,
          maxOutputBytes: 64 * 1024 * 1024,
        });
        const heads = r.code === 0 ? parseRelayHeads(r.stdout, batch.length) : undefined;
        if (!heads) {
          const answers = r.stdout.split('\n').filter((l) => l !== '').length;
          throw new Error(`ssh ${label}: reading the heads of the relay logs failed (exit ${r.code}, ${answers} of ${batch.length} answers): ${r.stderr.trim()}`);
        }
        out.push(...heads);
      }
      return out;
    },
  };
}

/** A remote binlog or relay log read over SSH with `tail -c +N | head -c L` (SshConnection.readRange). */
export function sshRangeSource(conn: ByteSourceConnection, path: string, opts: { label?: string; timeoutMs?: number } = {}): DiffSource {
  return {
    label: opts.label ?? `${conn.label}:${path}`,
    name: basename(path),
    open: (start, end) => {
      if (end !== undefined && end <= start) return nothing();
      return conn.readRange(path, start, end === undefined ? undefined : end - start, opts.timeoutMs).stream;
    },
    size: async () => {
      const r = await conn.run(['stat', '-L', '-c', '%s', '--', path], { timeoutMs: opts.timeoutMs ?? 30_000, what: `stat ${path}` });
      const n = Number(r.stdout.trim());
      if (r.code !== 0 || !Number.isSafeInteger(n)) throw new Error(`ssh ${conn.label}: cannot stat ${path} (exit ${r.code}): ${r.stderr.trim()}`);
      return n;
    },
  };
}

async function* nothing(): AsyncGenerator<Buffer> {
  // an empty range
}
