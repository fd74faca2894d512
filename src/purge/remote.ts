// The shell commands `ha purge-relay-logs` runs on a slave's host, one round trip each, and the
// parsers of what they print. Every path is shell-quoted; lines are "TAG field… path" so a path
// with spaces still parses (it is always the last field).
//
//   list     the relay-log index with each file's size (for --dry-run and "already clean")
//   link     hard-link every relay log in the index into the work directory, just before the
//            server is allowed to purge: the server's unlink then only drops a link count, and
//            the data blocks are freed later, gradually, by `cleanup`
//   cleanup  for every hard link in the work directory: if it is the last link (the server
//            purged the file), shrink it step by step, then remove it; otherwise just remove the
//            link. Then print the index as it is now.
import { shellQuote } from '../ssh/quote.js';

/** Hard links are named LINK_PREFIX + run id + "." + the relay log's file name. */
export const LINK_PREFIX = 'ha-purged-relay-log.';
/** Bytes freed per truncate step, and the pause between steps: a big delete never stalls the disk. */
export const TRUNCATE_STEP_BYTES = 32 * 1024 * 1024;
export const TRUNCATE_PAUSE_SECONDS = 0.05;

export interface RelayFile {
  /** As the index lists it (absolute, or relative to the datadir). */
  entry: string;
  /** Size in bytes; -1 when the file is missing. */
  bytes: number;
}

// Index entries relative to the datadir ("./relay-bin.000002") resolve like the server's own,
// from the datadir: every script starts there.
function prologue(datadir: string, index: string): string {
  return [`cd ${shellQuote(datadir)} || exit 2`, `idx=${shellQuote(index)}`, `[ -r "$idx" ] || { echo "X cannot read the relay-log index $idx"; exit 2; }`].join('\n');
}

export function listScript(datadir: string, index: string): string {
  return `${prologue(datadir, index)}
while IFS= read -r f; do
  [ -n "$f" ] || continue
  printf 'R %s %s\\n' "$(stat -c %s -- "$f" 2>/dev/null || echo -1)" "$f"
done < "$idx"`;
}

export function parseList(stdout: string): RelayFile[] {
  const files: RelayFile[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^R (-?\d+) (.+)$/.exec(line);
    if (m) files.push({ entry: m[2]!, bytes: Number(m[1]) });
  }
  return files;
}

/**
 * `workdir` given: the links go there (created if missing; it must be on the relay logs'
 * filesystem or `ln` fails). Otherwise in `fallback` (remote_workdir) when it is on the same
 * filesystem as the relay logs, else beside the relay logs themselves.
 */
export function linkScript(datadir: string, index: string, runId: string, workdir: string | undefined, fallback: string): string {
  const tag = `${LINK_PREFIX}${runId}.`;
  return `${prologue(datadir, index)}
tag=${shellQuote(tag)}
first=$(head -n 1 -- "$idx")
rdir=$(dirname -- "$first")
want=${shellQuote(workdir ?? '')}
if [ -n "$want" ]; then
  wd=$want; mkdir -p -- "$wd" || exit 2
else
  fb=${shellQuote(fallback)}
  mkdir -p -- "$fb" 2>/dev/null
  if [ "$(stat -c %d -- "$fb" 2>/dev/null)" = "$(stat -c %d -- "$rdir")" ]; then wd=$fb; else wd=$rdir; fi
fi
wd=$(cd -- "$wd" && pwd) || exit 2
echo "W $wd"
while IFS= read -r f; do
  [ -n "$f" ] || continue
  l="$wd/$tag$(basename -- "$f")"
  if err=$(ln -- "$f" "$l" 2>&1); then
    printf 'L %s %s\\n' "$(stat -c %s -- "$l")" "$f"
  else
    printf 'E %s\\n' "$err"
    rm -f -- "$wd/$tag"*
    exit 1
  fi
done < "$idx"`;
}

export interface LinkResult {
  workdir?: string;
  linked: RelayFile[];
  error?: string;
}

export function parseLink(stdout: string): LinkResult {
  const r: LinkResult = { linked: [] };
  for (const line of stdout.split('\n')) {
    if (line.startsWith('W ')) r.workdir = line.slice(2);
    else if (line.startsWith('E ') || line.startsWith('X ')) r.error = line.slice(2);
    else {
      const m = /^L (\d+) (.+)$/.exec(line);
      if (m) r.linked.push({ entry: m[2]!, bytes: Number(m[1]) });
    }
  }
  return r;
}

/** Removes every purge link in `workdir` (this run's, and any an interrupted run left). */
export function cleanupScript(datadir: string, index: string, workdir: string, stepBytes = TRUNCATE_STEP_BYTES, pauseSeconds = TRUNCATE_PAUSE_SECONDS): string {
  return `${prologue(datadir, index)}
wd=${shellQuote(workdir)}
for l in "$wd"/${shellQuote(LINK_PREFIX)}*; do
  [ -f "$l" ] || continue
  s=$(stat -c %s -- "$l"); n=$(stat -c %h -- "$l")
  if [ "$n" -eq 1 ]; then
    while [ "$(stat -c %s -- "$l")" -gt ${stepBytes} ]; do truncate -s -${stepBytes} -- "$l" || break; sleep ${pauseSeconds}; done
    rm -f -- "$l" && printf 'F %s %s\\n' "$s" "$l"
  else
    rm -f -- "$l" && printf 'K %s %s\\n' "$s" "$l"
  fi
done
while IFS= read -r f; do [ -n "$f" ] && printf 'I %s\\n' "$f"; done < "$idx"
exit 0`;
}

export interface RemovedLink {
  /** The relay log's file name (basename). */
  file: string;
  runId: string;
  bytes: number;
  /** true: it was the last link, the server had purged the file, its space is now free. */
  freed: boolean;
}

export interface CleanupResult {
  removed: RemovedLink[];
  /** The relay-log index after the purge. */
  index: string[];
}

export function parseCleanup(stdout: string): CleanupResult {
  const r: CleanupResult = { removed: [], index: [] };
  for (const line of stdout.split('\n')) {
    if (line.startsWith('I ')) {
      r.index.push(line.slice(2));
      continue;
    }
    const m = /^([FK]) (\d+) (.+)$/.exec(line);
    if (!m) continue;
    const name = m[3]!.slice(m[3]!.lastIndexOf('/') + 1);
    const rest = name.startsWith(LINK_PREFIX) ? name.slice(LINK_PREFIX.length) : name;
    const dot = rest.indexOf('.');
    r.removed.push({ runId: dot < 0 ? '' : rest.slice(0, dot), file: dot < 0 ? rest : rest.slice(dot + 1), bytes: Number(m[2]), freed: m[1] === 'F' });
  }
  return r;
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
