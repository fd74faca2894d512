// Everything check-ssh (and later the manager's start-up check) wants to know about a host, asked
// in ONE remote command: each SSH round trip costs a process start on the host (and, on hosts
// whose shell rc files are heavy, much more), so probes are batched.
import type { SshConnection } from './client.js';
import { shellQuote } from './quote.js';

export interface ProbeRequest {
  remoteWorkdir: string;
  clientBindir?: string;
  /** Binlog index files to read the newest entry of (from @@log_bin_index / @@relay_log_index). */
  indexFiles: string[];
  /** Directories to look for binlogs in when no index is known (master_binlog_dir). */
  binlogDirs: string[];
  /** Specific log files to check (e.g. the master's current binlog in each candidate directory). */
  logFiles?: string[];
  timeoutMs: number;
}

export interface BinlogReadCheck {
  /** The index file or directory that was looked at. */
  source: string;
  /** The newest log file found, when found. */
  file?: string;
  /** True when its first four bytes are the binlog magic \xfe b i n. */
  magicOk: boolean;
  error?: string;
}

export interface HostProbe {
  user: string;
  binlogTool?: { path: string; version: string };
  workdirWritable: boolean;
  workdirError?: string;
  binlogReads: BinlogReadCheck[];
  /** Result per requested log file: true when readable and starting with the binlog magic. */
  logFiles: Map<string, boolean>;
  durationMs: number;
}

const MARK = 'HA:';

/** The POSIX sh script; every line of its output starts with HA:<tag> so stray rc-file output is ignored. */
export function probeScript(req: ProbeRequest): string {
  const q = shellQuote;
  const tools = [req.clientBindir ? `${req.clientBindir}/mysqlbinlog` : '', req.clientBindir ? `${req.clientBindir}/mariadb-binlog` : '', 'mysqlbinlog', 'mariadb-binlog']
    .filter(Boolean)
    .map(q)
    .join(' ');
  const lines = [
    `echo "${MARK}user $(id -un)"`,
    `for t in ${tools}; do p=$(command -v "$t" 2>/dev/null) || continue; v=$("$p" --version 2>&1 | head -n 1); echo "${MARK}tool $p	$v"; break; done`,
    `d=${q(req.remoteWorkdir)}; if e=$(mkdir -p -- "$d" 2>&1) && t=$(mktemp "$d/.ha-check.XXXXXX" 2>&1); then rm -f -- "$t"; echo "${MARK}workdir ok"; else echo "${MARK}workdir fail $e$t"; fi`,
    // An index lists logs oldest first; entries may be relative to the datadir ("./mysql-bin.000001"),
    // and the logs live beside the index unless log_bin names another directory.
    `magic() { head -c 4 -- "$1" 2>/dev/null | od -An -tx1 | tr -d ' \\n'; }`,
    ...req.indexFiles.map(
      (idx) =>
        `i=${q(idx)}; if [ -r "$i" ]; then f=$(grep -v '^$' "$i" | tail -n 1); case "$f" in /*) ;; *) f="$(dirname -- "$i")/$(basename -- "$f")";; esac; echo "${MARK}index $i	$f	$(magic "$f")"; else echo "${MARK}index $i		unreadable"; fi`,
    ),
    ...req.binlogDirs.map(
      (dir) =>
        `b=${q(dir)}; if [ -d "$b" ] && [ -r "$b" ]; then f=$(ls -1 -- "$b" 2>/dev/null | grep -E '\\.[0-9]{6,}$' | awk -F. '{print $NF"\t"$0}' | sort -n | tail -n 1 | cut -f2); if [ -n "$f" ]; then echo "${MARK}dir $b	$b/$f	$(magic "$b/$f")"; else echo "${MARK}dir $b		nologs"; fi; else echo "${MARK}dir $b		unreadable"; fi`,
    ),
    // Files are echoed by index so no path ever needs escaping on the way back.
    ...(req.logFiles ?? []).map((f, i) => `echo "${MARK}file ${i}	$(magic ${q(f)})"`),
  ];
  return lines.join('\n');
}

export function parseProbeOutput(stdout: string, durationMs: number, logFiles: string[] = []): HostProbe {
  const probe: HostProbe = { user: '', workdirWritable: false, binlogReads: [], logFiles: new Map(), durationMs };
  for (const raw of stdout.split('\n')) {
    if (!raw.startsWith(MARK)) continue;
    const line = raw.slice(MARK.length);
    const sp = line.indexOf(' ');
    const tag = sp < 0 ? line : line.slice(0, sp);
    const rest = sp < 0 ? '' : line.slice(sp + 1);
    if (tag === 'user') probe.user = rest.trim();
    else if (tag === 'tool') {
      const [path = '', version = ''] = rest.split('\t');
      probe.binlogTool = { path, version: version.trim() };
    } else if (tag === 'workdir') {
      probe.workdirWritable = rest.startsWith('ok');
      if (!probe.workdirWritable) probe.workdirError = rest.replace(/^fail\s*/, '').trim() || 'not writable';
    } else if (tag === 'file') {
      const [index = '', magic = ''] = rest.split('\t');
      const path = logFiles[Number(index)];
      if (path !== undefined) probe.logFiles.set(path, magic === 'fe62696e');
    } else if (tag === 'index' || tag === 'dir') {
      const [source = '', file = '', result = ''] = rest.split('\t');
      const check: BinlogReadCheck = { source, file: file || undefined, magicOk: result === 'fe62696e' };
      if (!check.magicOk) {
        check.error =
          result === 'unreadable'
            ? `${tag === 'index' ? 'index file' : 'directory'} ${source} is missing or not readable`
            : result === 'nologs'
              ? `no binlog files (name.NNNNNN) in ${source}`
              : result === ''
                ? `cannot read ${file}`
                : `${file} does not start with the binlog magic bytes (got ${result})`;
      }
      probe.binlogReads.push(check);
    }
  }
  return probe;
}

export async function probeHost(conn: SshConnection, req: ProbeRequest): Promise<HostProbe> {
  const res = await conn.exec(probeScript(req), { timeoutMs: req.timeoutMs, what: 'the host probe (id, mysqlbinlog --version, remote_workdir, binlog magic)' });
  if (res.code !== 0 && !res.stdout.includes(MARK)) {
    throw new Error(`probe script exited ${res.code}: ${res.stderr.trim() || 'no output'}`);
  }
  return parseProbeOutput(res.stdout, res.durationMs, req.logFiles);
}
