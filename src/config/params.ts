// Every parameter ha understands: MHA 0.58's @PARAM_ARRAY (MHA/Config.pm) plus ha's new ones.
// The table drives validation (which keys exist, what a value must look like), inheritance
// (which keys a [serverN] block takes from [server default]) and the ignored-parameter warnings.

/** How a value is checked and converted. */
export type ParamKind =
  | 'string'
  | 'secret' // a password: checked like a string, never echoed in an error or warning
  | 'bool'
  | 'port' // 1..65535
  | 'positiveInt' // MHA's check_positive_int: 1 and up
  | 'count' // 0 and up
  | 'pingType'
  | 'logLevel'
  | 'dirList' // comma-separated absolute directories
  | 'sshOptions';

/**
 * Where a parameter takes effect.
 * - server: read from the [serverN] block only. MHA does not inherit these from [server default]
 *   (Config.pm reads them from $param_arg alone), so neither does ha.
 * - inherited: per server, falling back to [server default] (app file, then global file).
 * - manager: one value for the whole application, read from [server default].
 */
export type ParamScope = 'server' | 'inherited' | 'manager';

export interface ParamSpec {
  name: string;
  kind: ParamKind;
  scope: ParamScope;
  /** 'mha': in MHA 0.58's @PARAM_ARRAY; 'ha': new in ha (MHA would reject it). */
  origin: 'mha' | 'ha';
  /** Set when ha accepts the parameter for MHA compatibility but does not act on it. */
  ignoredBecause?: string;
}

const P = (name: string, kind: ParamKind, scope: ParamScope, origin: 'mha' | 'ha' = 'mha', ignoredBecause?: string): ParamSpec => ({ name, kind, scope, origin, ignoredBecause });

export const PARAMS: readonly ParamSpec[] = [
  // Where the server is
  P('hostname', 'string', 'server'),
  P('ip', 'string', 'server'),
  P('port', 'port', 'inherited'),
  P('node_label', 'string', 'server'),
  // Role in failover
  P('candidate_master', 'bool', 'server'),
  P('no_master', 'bool', 'server'),
  P('ignore_fail', 'bool', 'server'),
  P('skip_init_ssh_check', 'bool', 'server'),
  P('skip_reset_slave', 'bool', 'inherited'),
  P('latest_priority', 'bool', 'inherited'),
  P('check_repl_delay', 'bool', 'inherited'),
  P('check_repl_filter', 'bool', 'inherited'),
  P('multi_tier_slave', 'bool', 'inherited'),
  P('use_gtid_auto_pos', 'bool', 'inherited'),
  // MySQL accounts
  P('user', 'string', 'inherited'),
  P('password', 'secret', 'inherited'),
  P('repl_user', 'string', 'inherited'),
  P('repl_password', 'secret', 'inherited'),
  // SSH
  P('ssh_host', 'string', 'server'),
  P('ssh_ip', 'string', 'server'),
  P('ssh_port', 'port', 'inherited'),
  P('ssh_user', 'string', 'inherited'),
  P('ssh_connection_timeout', 'positiveInt', 'inherited'),
  P('ssh_options', 'sshOptions', 'inherited'),
  P('ssh_identity_file', 'string', 'inherited', 'ha'),
  P('ssh_known_hosts_file', 'string', 'inherited', 'ha'),
  P('ssh_strict_host_key_checking', 'bool', 'inherited', 'ha'),
  // Binary logs and files on the database hosts
  P('master_binlog_dir', 'dirList', 'inherited'),
  P('master_pid_file', 'string', 'inherited'),
  P('remote_workdir', 'string', 'inherited'),
  P('disable_log_bin', 'bool', 'inherited'),
  P(
    'handle_raw_binlog',
    'bool',
    'inherited',
    'mha',
    "it chose how MHA's node tools (save_binary_logs, apply_diff_relay_logs) stored binlog copies; ha reads the binlogs over SSH itself and has no such choice",
  ),
  P('client_bindir', 'string', 'inherited'),
  P('client_libdir', 'string', 'inherited', 'mha', "it was the library path for MHA's node tools on the database hosts; ha installs nothing there and sets no library path"),
  // The manager itself
  P('manager_workdir', 'string', 'manager'),
  P('manager_log', 'string', 'manager'),
  P('log_level', 'logLevel', 'manager'),
  P('ping_interval', 'positiveInt', 'manager'),
  P('ping_type', 'pingType', 'manager'),
  P('secondary_check_script', 'string', 'manager'),
  P('master_ip_failover_script', 'string', 'manager'),
  P('master_ip_online_change_script', 'string', 'manager'),
  P('shutdown_script', 'string', 'manager'),
  P('report_script', 'string', 'manager'),
  P('init_conf_load_script', 'string', 'manager'),
  P('last_failover_minute', 'count', 'manager', 'ha'),
  P('max_repl_delay_seconds', 'count', 'manager', 'ha'),
];

export const PARAM_BY_NAME: ReadonlyMap<string, ParamSpec> = new Map(PARAMS.map((p) => [p.name, p]));

/** Hook scripts: a per-server value that differs from [server default] is an error, not a warning,
 * because silently not running a VIP-moving hook on failover is how split brains start. */
export const HOOK_PARAMS: ReadonlySet<string> = new Set([
  'secondary_check_script',
  'master_ip_failover_script',
  'master_ip_online_change_script',
  'shutdown_script',
  'report_script',
]);

/** Values that are command lines: only a pair of quotes around the whole value is removed, so
 * quoted arguments inside survive (MHA's regex would eat a closing quote at the end). */
export const COMMAND_PARAMS: ReadonlySet<string> = new Set([...HOOK_PARAMS, 'init_conf_load_script', 'ssh_options']);

/** Optimal-string-alignment distance (Levenshtein plus adjacent swaps: "hostnmae"). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
  const at = (i: number, j: number): number => d[i]![j]!;
  for (let i = 0; i < rows; i++) d[i]![0] = i;
  for (let j = 0; j < cols; j++) d[0]![j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      d[i]![j] = v;
    }
  }
  return at(a.length, b.length);
}

/** The known parameter a mistyped name most likely meant, if any is close enough. */
export function suggestParam(name: string): string | undefined {
  const wanted = name
    .toLowerCase()
    .trim()
    .replace(/[-\s.]+/g, '_');
  let best: { name: string; distance: number } | undefined;
  for (const p of PARAMS) {
    const distance = editDistance(wanted, p.name);
    if (!best || distance < best.distance) best = { name: p.name, distance };
  }
  if (!best) return undefined;
  // Short names need a tighter limit, or "ip" would "suggest" every two-letter typo.
  const limit = wanted.length <= 4 ? 1 : wanted.length < 10 ? 2 : 3;
  if (best.distance <= limit) return best.name;
  // A truncated or extended name: "master_ip_failover" for master_ip_failover_script.
  if (wanted.length >= 6) {
    const prefixed = PARAMS.find((p) => p.name.startsWith(wanted) || (p.name.length >= 4 && wanted.startsWith(p.name)));
    if (prefixed) return prefixed.name;
  }
  return undefined;
}
