// Loads an MHA 0.58 application config (app1.cnf) plus the global defaults file into one typed,
// validated AppConfig. Resolution order for a server's parameter: its [serverN] block, then the
// output of init_conf_load_script, then the app file's [server default], then the global file's
// [server default], then MHA's built-in default (MHA/Config.pm, parse_server).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parse as parsePath, resolve as resolvePath } from 'node:path';
import { parseIni, stripQuotes, type IniBlock, type IniDocument } from './ini.js';
import { COMMAND_PARAMS, HOOK_PARAMS, PARAM_BY_NAME, suggestParam, type ParamSpec } from './params.js';
import { SshOptionsError, expandHome, parseSshOptions, splitWords, type ParsedSshOptions } from './ssh-options.js';
import {
  ConfigError,
  type AppConfig,
  type ConfigWarning,
  type LoadConfigOptions,
  type LoadedConfig,
  type LogLevel,
  type ManagerSettings,
  type PingType,
  type ServerConfig,
  type SshSettings,
} from './types.js';

export const DEFAULT_GLOBAL_CONFIG_FILE = '/etc/masterha_default.cnf';
export const INIT_CONF_LOAD_SCRIPT_TIMEOUT_MS = 10_000;

/** Built-in defaults: MHA 0.58's (Config.pm parse_server; last_failover_minute from
 * MasterFailover.pm) and ha's for its new parameters. */
export const DEFAULTS = {
  port: 3306,
  ssh_port: 22,
  ssh_connection_timeout: 5,
  user: 'root',
  manager_workdir: '/var/tmp',
  remote_workdir: '/var/tmp',
  log_level: 'info' as LogLevel,
  ping_interval: 3,
  ping_type: 'SELECT' as PingType,
  candidate_master: false,
  no_master: false,
  ignore_fail: false,
  skip_init_ssh_check: false,
  skip_reset_slave: false,
  latest_priority: true,
  check_repl_delay: true,
  check_repl_filter: true,
  multi_tier_slave: false,
  use_gtid_auto_pos: true,
  disable_log_bin: false,
  handle_raw_binlog: true,
  ssh_strict_host_key_checking: true,
  last_failover_minute: 480,
  // MHA's seconds_behind_master for masterha_check_repl and online switch (MasterMonitor.pm:44,
  // MasterRotate.pm:50); MHA has no config parameter for it.
  max_repl_delay_seconds: 30,
} as const;

/** One value as written, after MHA's unquoting. */
interface Setting {
  value: string;
  line?: number;
}

/** A place values come from: a block of a file, or the output of init_conf_load_script. */
interface Level {
  file: string;
  block?: string;
  isDefault: boolean;
  values: Map<string, Setting>;
  /** Appended to messages about this level (the script's output has no block to name). */
  note?: string;
}

type Warn = (level: Level, parameter: string | undefined, message: string) => void;

const SECRET = '(value hidden)';

function fail(level: Level, parameter: string | undefined, message: string): ConfigError {
  return new ConfigError(level.file, level.note ? `${message} ${level.note}` : message, {
    block: level.block,
    parameter,
  });
}

/** A value quoted for a message, unless it is a password. */
function shown(name: string, value: string): string {
  return PARAM_BY_NAME.get(name)?.kind === 'secret' ? SECRET : JSON.stringify(value);
}

// ---------------------------------------------------------------- value checks

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off']);

function toBool(level: Level, name: string, s: Setting): boolean {
  const v = s.value.trim().toLowerCase();
  if (TRUE_WORDS.has(v)) return true;
  if (FALSE_WORDS.has(v)) return false;
  throw fail(level, name, `must be 0 or 1 (yes/no, true/false, on/off also accepted), got ${shown(name, s.value)}`);
}

function toInt(level: Level, name: string, s: Setting, min: number, max: number, expected: string): number {
  const v = s.value.trim();
  if (!/^\d{1,15}$/.test(v) || Number(v) < min || Number(v) > max) {
    throw fail(level, name, `must be ${expected}, got ${shown(name, s.value)}`);
  }
  return Number(v);
}

const toPort = (level: Level, name: string, s: Setting): number => toInt(level, name, s, 1, 65535, 'an integer from 1 to 65535');
const toPositiveInt = (level: Level, name: string, s: Setting): number => toInt(level, name, s, 1, Number.MAX_SAFE_INTEGER, 'a positive integer');
const toCount = (level: Level, name: string, s: Setting): number => toInt(level, name, s, 0, Number.MAX_SAFE_INTEGER, 'a whole number, 0 or more');

function toPingType(level: Level, name: string, s: Setting): PingType {
  const v = s.value.trim().toUpperCase();
  if (v === 'CONNECT' || v === 'SELECT' || v === 'INSERT') return v;
  throw fail(level, name, `must be CONNECT, SELECT or INSERT, got ${shown(name, s.value)}`);
}

const LOG_LEVELS: Record<string, LogLevel> = {
  debug: 'debug',
  info: 'info',
  notice: 'notice',
  warning: 'warning',
  warn: 'warning', // Log::Dispatch, which MHA logs through, takes these short forms too
  error: 'error',
  err: 'error',
};

function toLogLevel(level: Level, name: string, s: Setting): LogLevel {
  const v = LOG_LEVELS[s.value.trim().toLowerCase()];
  if (v) return v;
  throw fail(level, name, `must be debug, info, notice, warning or error, got ${shown(name, s.value)}`);
}

/** MHA removes all whitespace, then splits on commas. Empty means "ask the server". */
function toDirList(level: Level, name: string, s: Setting): string[] | undefined {
  const dirs = s.value
    .replace(/\s/g, '')
    .split(',')
    .filter((d) => d !== '');
  for (const d of dirs) {
    if (!d.startsWith('/')) throw fail(level, name, `directories must be absolute paths, got ${shown(name, d)}`);
  }
  return dirs.length > 0 ? dirs : undefined;
}

function toSshOptions(level: Level, name: string, s: Setting): ParsedSshOptions {
  try {
    return parseSshOptions(s.value);
  } catch (err) {
    if (err instanceof SshOptionsError) throw fail(level, name, err.message);
    throw err;
  }
}

const ADDRESS_PARAMS = new Set(['hostname', 'ip', 'ssh_host', 'ssh_ip']);

/** Checks one value against its parameter's kind; returns it normalised, for comparisons. */
function checkValue(level: Level, spec: ParamSpec, s: Setting): string {
  const name = spec.name;
  switch (spec.kind) {
    case 'bool':
      return String(toBool(level, name, s));
    case 'port':
      return String(toPort(level, name, s));
    case 'positiveInt':
      return String(toPositiveInt(level, name, s));
    case 'count':
      return String(toCount(level, name, s));
    case 'pingType':
      return toPingType(level, name, s);
    case 'logLevel':
      return toLogLevel(level, name, s);
    case 'dirList':
      return (toDirList(level, name, s) ?? []).join(',');
    case 'sshOptions':
      toSshOptions(level, name, s);
      return s.value;
    case 'string':
    case 'secret':
      if (ADDRESS_PARAMS.has(name) && /\s/.test(s.value)) throw fail(level, name, `must not contain spaces, got ${shown(name, s.value)}`);
      return s.value;
  }
}

// ---------------------------------------------------------------- levels

/** A command line (a hook, ssh_options) loses only a pair of quotes around the whole value.
 * (For ssh_options MHA deletes every quote; ha keeps inner ones so a path with spaces survives.) */
function unquoteCommand(value: string): string {
  const m = /^(['"])(.*)\1$/.exec(value);
  return m && !m[2]!.includes(m[1]!) ? m[2]! : value;
}

function levelFromBlock(doc: IniDocument, block: IniBlock, isDefault: boolean): Level {
  const values = new Map<string, Setting>();
  for (const [key, entry] of block.entries) {
    const value = COMMAND_PARAMS.has(key) ? unquoteCommand(entry.value) : stripQuotes(entry.value);
    values.set(key, { value, line: entry.line });
  }
  return { file: doc.file, block: block.name, isDefault, values };
}

function checkKnownParameters(level: Level): void {
  for (const name of level.values.keys()) {
    if (PARAM_BY_NAME.has(name)) continue;
    const hint = suggestParam(name);
    throw fail(level, name, `unknown parameter: MHA 0.58 and ha have no such parameter${hint ? `; did you mean ${hint}?` : ''}`);
  }
}

/** Validates every value of a level and reports what ha will not act on. */
function checkLevel(level: Level, warn: Warn): void {
  for (const [name, s] of level.values) {
    const spec = PARAM_BY_NAME.get(name)!;
    checkValue(level, spec, s);
    if (spec.ignoredBecause && s.value !== '') {
      warn(level, name, `accepted for MHA compatibility; ha ignores it because ${spec.ignoredBecause}`);
    }
    if (level.isDefault && spec.scope === 'server') {
      warn(level, name, 'has no effect in [server default]: MHA and ha read it from each [serverN] block only');
    }
    if (spec.kind === 'sshOptions' && s.value !== '') {
      const parsed = toSshOptions(level, name, s);
      if (parsed.ignored.length > 0) {
        warn(level, name, `ha's SSH client cannot honour ${parsed.ignored.join(', ')}; ignored`);
      }
      if (parsed.strictHostKeyChecking === 'accept-new') {
        warn(level, name, 'StrictHostKeyChecking=accept-new: ha checks host keys but never adds new ones to known_hosts; add them yourself (ssh-keyscan)');
      } else if (parsed.strictHostKeyChecking === 'ask') {
        warn(level, name, 'StrictHostKeyChecking=ask is treated as yes: ha never prompts');
      }
    }
  }
}

// ---------------------------------------------------------------- init_conf_load_script

function runInitConfLoadScript(command: string, from: Level, warn: Warn): Level | undefined {
  const name = 'init_conf_load_script';
  let argv: string[];
  try {
    argv = splitWords(command);
  } catch (err) {
    throw fail(from, name, `cannot be split into a command and its arguments: ${(err as Error).message}`);
  }
  const program = argv[0];
  if (program === undefined) return undefined;
  let output: string;
  try {
    // No shell, unlike MHA's backticks: the value is a program and its arguments. stderr goes to
    // ours, as with MHA; stdout is read and never shown, since it carries passwords.
    output = execFileSync(program, argv.slice(1), {
      encoding: 'utf8',
      timeout: INIT_CONF_LOAD_SCRIPT_TIMEOUT_MS,
      killSignal: 'SIGKILL',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1024 * 1024,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { status?: number | null; signal?: string | null };
    let why: string;
    if (e.code === 'ENOENT') why = 'no such program';
    else if (e.code === 'EACCES') why = 'permission denied (is it executable?)';
    else if (e.code === 'ETIMEDOUT') why = `it did not finish within ${INIT_CONF_LOAD_SCRIPT_TIMEOUT_MS / 1000} s`;
    else if (e.code === 'ENOBUFS') why = 'it printed more than 1 MiB';
    else if (typeof e.status === 'number') why = `it exited with status ${e.status}`;
    else if (e.signal) why = `it was killed by ${e.signal}`;
    else why = e.code ?? 'unknown error';
    throw fail(from, name, `running ${program} failed: ${why}`);
  }

  const level: Level = {
    file: program,
    isDefault: true,
    values: new Map(),
    note: '(in the output of init_conf_load_script)',
  };
  output.split(/\r?\n/).forEach((row, index) => {
    const lineNo = index + 1;
    if (row.trim() === '' || row.trimStart().startsWith('#')) return;
    const eq = row.indexOf('=');
    const key = eq > 0 ? row.slice(0, eq).trim() : '';
    if (key === '') {
      throw fail(level, undefined, `line ${lineNo} is not name=value (the line is not shown: it may hold a password)`);
    }
    if (level.values.has(key)) throw fail(level, key, `printed twice (lines ${level.values.get(key)!.line} and ${lineNo})`);
    // Everything after the first '=' is the value (MHA's split(/=/) would cut a password at a second '=').
    const value = row.slice(eq + 1);
    level.values.set(key, { value: COMMAND_PARAMS.has(key) ? unquoteCommand(value) : stripQuotes(value), line: lineNo });
  });
  checkKnownParameters(level);
  if (level.values.delete(name)) warn(level, name, 'ignored: the script is run once, its output cannot name another one');
  checkLevel(level, warn);
  return level;
}

// ---------------------------------------------------------------- resolution

interface Found {
  level: Level;
  setting: Setting;
}

function find(levels: Level[], name: string): Found | undefined {
  for (const level of levels) {
    const setting = level.values.get(name);
    if (setting) return { level, setting };
  }
  return undefined;
}

/** Reads resolved values from a chain of levels, most specific first. Like MHA, an empty value
 * stops the lookup and means the built-in default ("" is defined in Perl). */
class Resolver {
  constructor(
    private readonly chain: Level[],
    private readonly own?: Level,
  ) {}

  find(name: string): Found | undefined {
    const spec = PARAM_BY_NAME.get(name)!;
    if (spec.scope === 'server') return this.own ? find([this.own], name) : undefined;
    return find(this.chain, name);
  }
  str(name: string): string | undefined {
    const f = this.find(name);
    return f && f.setting.value !== '' ? f.setting.value : undefined;
  }
  secret(name: string): string {
    return this.find(name)?.setting.value ?? '';
  }
  bool(name: keyof typeof DEFAULTS): boolean {
    const f = this.find(name);
    return f ? toBool(f.level, name, f.setting) : (DEFAULTS[name] as boolean);
  }
  int(name: string, convert: (l: Level, n: string, s: Setting) => number, fallback: number): number {
    const f = this.find(name);
    return f ? convert(f.level, name, f.setting) : fallback;
  }
}

function resolveManager(defaults: Level[]): ManagerSettings {
  const r = new Resolver(defaults);
  const ping = r.find('ping_type');
  const log = r.find('log_level');
  return {
    managerWorkdir: r.str('manager_workdir') ?? DEFAULTS.manager_workdir,
    managerLog: r.str('manager_log'),
    logLevel: log ? toLogLevel(log.level, 'log_level', log.setting) : DEFAULTS.log_level,
    pingInterval: r.int('ping_interval', toPositiveInt, DEFAULTS.ping_interval),
    pingType: ping ? toPingType(ping.level, 'ping_type', ping.setting) : DEFAULTS.ping_type,
    secondaryCheckScript: r.str('secondary_check_script'),
    masterIpFailoverScript: r.str('master_ip_failover_script'),
    masterIpOnlineChangeScript: r.str('master_ip_online_change_script'),
    shutdownScript: r.str('shutdown_script'),
    reportScript: r.str('report_script'),
    initConfLoadScript: r.str('init_conf_load_script'),
    lastFailoverMinute: r.int('last_failover_minute', toCount, DEFAULTS.last_failover_minute),
    maxReplDelaySeconds: r.int('max_repl_delay_seconds', toCount, DEFAULTS.max_repl_delay_seconds),
  };
}

/** The manager's value of a manager-wide parameter, normalised like checkValue's result. */
function managerValue(m: ManagerSettings, name: string): string {
  const values: Record<string, string | number | undefined> = {
    manager_workdir: m.managerWorkdir,
    manager_log: m.managerLog,
    log_level: m.logLevel,
    ping_interval: m.pingInterval,
    ping_type: m.pingType,
    secondary_check_script: m.secondaryCheckScript,
    master_ip_failover_script: m.masterIpFailoverScript,
    master_ip_online_change_script: m.masterIpOnlineChangeScript,
    shutdown_script: m.shutdownScript,
    report_script: m.reportScript,
    init_conf_load_script: m.initConfLoadScript,
    last_failover_minute: m.lastFailoverMinute,
    max_repl_delay_seconds: m.maxReplDelaySeconds,
  };
  return String(values[name] ?? '');
}

/** MHA reads manager-wide parameters per server; ha has one value per application. */
function checkManagerParamsInBlock(level: Level, manager: ManagerSettings, warn: Warn): void {
  for (const [name, s] of level.values) {
    const spec = PARAM_BY_NAME.get(name)!;
    if (spec.scope !== 'manager') continue;
    if (checkValue(level, spec, s) === managerValue(manager, name)) continue;
    if (HOOK_PARAMS.has(name)) {
      throw fail(
        level,
        name,
        'is a manager-wide hook: ha runs one for the whole application, taken from [server default], and this block sets a different one; move it to [server default]',
      );
    }
    warn(level, name, `is manager-wide: ha reads it from [server default] only, so the value in [${level.block}] is ignored`);
  }
}

let cachedUser: string | undefined;
function currentUser(level: Level): string {
  if (cachedUser) return cachedUser;
  try {
    cachedUser = userInfo().username; // the effective user, as MHA's getpwuid($>)
  } catch {
    cachedUser = process.env.USER || process.env.LOGNAME;
  }
  if (!cachedUser) throw fail(level, 'ssh_user', 'is not set and the user running ha has no name (no passwd entry); set ssh_user');
  return cachedUser;
}

const unique = (list: string[]): string[] => [...new Set(list)];

function resolveSsh(own: Level, r: Resolver, ip: string, chain: Level[], warn: Warn): { ssh: SshSettings; raw?: string } {
  const opts = r.find('ssh_options');
  const raw = opts && opts.setting.value !== '' ? opts.setting.value : undefined;
  const parsed: ParsedSshOptions = raw ? toSshOptions(opts!.level, 'ssh_options', opts!.setting) : { identityFiles: [], knownHostsFiles: [], ignored: [] };
  // Report a conflict once, at the more specific of the two places it comes from.
  const where = (a: Found): Level => (chain.indexOf(a.level) <= chain.indexOf(opts!.level) ? a.level : opts!.level);

  const portF = r.find('ssh_port');
  const port = portF ? toPort(portF.level, 'ssh_port', portF.setting) : (parsed.port ?? DEFAULTS.ssh_port);
  if (portF && parsed.port !== undefined && parsed.port !== port) {
    warn(where(portF), 'ssh_port', `ssh_port=${port} is used; the port ${parsed.port} given in ssh_options is ignored`);
  }

  const timeoutF = r.find('ssh_connection_timeout');
  const timeout = timeoutF ? toPositiveInt(timeoutF.level, 'ssh_connection_timeout', timeoutF.setting) : (parsed.connectTimeoutSeconds ?? DEFAULTS.ssh_connection_timeout);
  if (timeoutF && parsed.connectTimeoutSeconds !== undefined && parsed.connectTimeoutSeconds !== timeout) {
    warn(where(timeoutF), 'ssh_connection_timeout', `ssh_connection_timeout=${timeout} is used; ConnectTimeout=${parsed.connectTimeoutSeconds} in ssh_options is ignored`);
  }

  const strictF = r.find('ssh_strict_host_key_checking');
  const fromOptions = parsed.strictHostKeyChecking === undefined ? undefined : !['no', 'off'].includes(parsed.strictHostKeyChecking);
  const strict = strictF ? toBool(strictF.level, 'ssh_strict_host_key_checking', strictF.setting) : (fromOptions ?? DEFAULTS.ssh_strict_host_key_checking);
  if (strictF && fromOptions !== undefined && fromOptions !== strict) {
    warn(
      where(strictF),
      'ssh_strict_host_key_checking',
      `ssh_strict_host_key_checking=${strict ? 1 : 0} is used; StrictHostKeyChecking=${parsed.strictHostKeyChecking} in ssh_options is ignored`,
    );
  }

  const identity = r.str('ssh_identity_file');
  const knownHosts = r.str('ssh_known_hosts_file');
  const knownHostsFiles = unique([...(knownHosts ? [expandHome(knownHosts)] : []), ...parsed.knownHostsFiles]);
  if (strict && knownHostsFiles.includes('/dev/null')) {
    const at = opts && parsed.knownHostsFiles.includes('/dev/null') ? opts.level : (r.find('ssh_known_hosts_file')?.level ?? own);
    warn(
      at,
      parsed.knownHostsFiles.includes('/dev/null') ? 'ssh_options' : 'ssh_known_hosts_file',
      'host keys would be checked against /dev/null, so every SSH connection will be refused; name a real known_hosts file, or opt out with ssh_strict_host_key_checking=0',
    );
  }

  const ssh: SshSettings = {
    host: r.str('ssh_host') ?? r.str('ssh_ip') ?? ip,
    port,
    user: r.str('ssh_user') ?? currentUser(own),
    identityFiles: unique([...(identity ? [expandHome(identity)] : []), ...parsed.identityFiles]),
    knownHostsFiles,
    strictHostKeyChecking: strict,
    connectTimeoutSeconds: timeout,
  };
  return { ssh, raw };
}

function resolveServer(own: Level, defaults: Level[], warn: Warn): ServerConfig {
  const chain = [own, ...defaults];
  const r = new Resolver(chain, own);
  const id = own.block!;
  const hostname = r.str('hostname');
  if (!hostname) {
    throw fail(own, 'hostname', `is missing: every [${id.startsWith('binlog') ? 'binlogN' : 'serverN'}] block needs hostname=`);
  }
  const ip = r.str('ip') ?? hostname; // MHA resolves hostname here; ha lets the connection resolve it
  const { ssh, raw } = resolveSsh(own, r, ip, chain, warn);
  const binlogDir = r.find('master_binlog_dir');
  return {
    id,
    hostname,
    ip,
    port: r.int('port', toPort, DEFAULTS.port),
    nodeLabel: r.str('node_label'),
    user: r.str('user') ?? DEFAULTS.user,
    password: r.secret('password'),
    replUser: r.str('repl_user') ?? '',
    replPassword: r.secret('repl_password'),
    ssh,
    sshOptionsRaw: raw,
    candidateMaster: r.bool('candidate_master'),
    noMaster: r.bool('no_master'),
    ignoreFail: r.bool('ignore_fail'),
    skipInitSshCheck: r.bool('skip_init_ssh_check'),
    skipResetSlave: r.bool('skip_reset_slave'),
    latestPriority: r.bool('latest_priority'),
    checkReplDelay: r.bool('check_repl_delay'),
    checkReplFilter: r.bool('check_repl_filter'),
    multiTierSlave: r.bool('multi_tier_slave'),
    useGtidAutoPos: r.bool('use_gtid_auto_pos'),
    disableLogBin: r.bool('disable_log_bin'),
    handleRawBinlog: r.bool('handle_raw_binlog'),
    masterBinlogDir: binlogDir ? toDirList(binlogDir.level, 'master_binlog_dir', binlogDir.setting) : undefined,
    masterPidFile: r.str('master_pid_file'),
    remoteWorkdir: r.str('remote_workdir') ?? DEFAULTS.remote_workdir,
    clientBindir: r.str('client_bindir'),
    clientLibdir: r.str('client_libdir'),
  };
}

/** MHA's order: by the number in "server<non-digits><number>" when every block has one, else by name. */
function mhaServerOrder(levels: Level[]): Level[] {
  const byName = [...levels].sort((a, b) => (a.block! < b.block! ? -1 : a.block! > b.block! ? 1 : 0));
  const numbers = byName.map((l) => /^server\D*(\d+)/.exec(l.block!)?.[1]);
  if (numbers.some((n) => n === undefined)) return byName;
  const order = byName.map((level, i) => ({ level, n: Number(numbers[i]) }));
  return order.sort((a, b) => a.n - b.n).map((o) => o.level); // stable: equal numbers keep name order
}

// ---------------------------------------------------------------- entry points

interface SourceText {
  text: string;
  file: string;
}

function build(app: SourceText, global: SourceText | undefined, notices: string[]): LoadedConfig {
  const warnings: ConfigWarning[] = [];
  const seen = new Set<string>();
  const warn: Warn = (level, parameter, message) => {
    const full = level.note ? `${message} ${level.note}` : message;
    const key = JSON.stringify([level.file, level.block, parameter, full]);
    if (seen.has(key)) return;
    seen.add(key);
    warnings.push({ file: level.file, block: level.block, parameter, message: full });
  };

  const appDoc = parseIni(app.text, app.file);
  const globalDoc = global ? parseIni(global.text, global.file) : undefined;

  let globalDefault: Level | undefined;
  if (globalDoc) {
    for (const block of globalDoc.blocks) {
      if (block.name === 'server default') globalDefault = levelFromBlock(globalDoc, block, true);
      else {
        warnings.push({
          file: globalDoc.file,
          block: block.name,
          message: 'block ignored: only [server default] is read from the global configuration file (as MHA)',
        });
      }
    }
  }

  let appDefault: Level | undefined;
  const serverLevels: Level[] = [];
  const binlogLevels: Level[] = [];
  for (const block of appDoc.blocks) {
    if (block.name === 'server default') appDefault = levelFromBlock(appDoc, block, true);
    else if (/^server\S+/.test(block.name)) serverLevels.push(levelFromBlock(appDoc, block, false));
    else if (/^binlog\S+/.test(block.name)) binlogLevels.push(levelFromBlock(appDoc, block, false));
    else {
      throw new ConfigError(
        appDoc.file,
        `block name "${block.name}" is invalid: it must be "server default", or "server" or "binlog" followed by non-space characters, e.g. [server1] or [binlog1]`,
        { block: block.name },
      );
    }
  }

  for (const doc of globalDoc ? [globalDoc, appDoc] : [appDoc]) {
    for (const cut of doc.cutQuotedValues) {
      if (doc === globalDoc && cut.block !== 'server default') continue;
      warnings.push({
        file: doc.file,
        block: cut.block,
        parameter: cut.key,
        message: `line ${cut.line}: the value starts with a quote, but " ; " inside it starts a comment (as in MHA), so the rest of the line was dropped`,
      });
    }
  }

  // Every name and value is checked before init_conf_load_script runs: a bad file runs nothing.
  const written = [globalDefault, appDefault, ...serverLevels, ...binlogLevels].filter((l): l is Level => !!l);
  for (const level of written) checkKnownParameters(level);
  for (const level of written) checkLevel(level, warn);

  const fileDefaults = [appDefault, globalDefault].filter((l): l is Level => !!l);
  const script = find(fileDefaults, 'init_conf_load_script');
  const scriptLevel = script && script.setting.value !== '' ? runInitConfLoadScript(script.setting.value, script.level, warn) : undefined;
  const defaults = scriptLevel ? [scriptLevel, ...fileDefaults] : fileDefaults;

  const manager = resolveManager(defaults);

  if (serverLevels.length === 0) {
    throw new ConfigError(appDoc.file, 'no server is defined: add a [server1] block (and one per MySQL server) with hostname=');
  }
  for (const level of [...serverLevels, ...binlogLevels]) checkManagerParamsInBlock(level, manager, warn);

  const servers = mhaServerOrder(serverLevels).map((level) => resolveServer(level, defaults, warn));
  const binlogServers = [...binlogLevels].sort((a, b) => (a.block! < b.block! ? -1 : a.block! > b.block! ? 1 : 0)).map((level) => resolveServer(level, defaults, warn));

  // Two blocks for the same MySQL instance would make failover treat one server as two.
  for (let i = 0; i < servers.length; i++) {
    for (let j = i + 1; j < servers.length; j++) {
      const a = servers[i]!;
      const b = servers[j]!;
      if (a.ip.toLowerCase() === b.ip.toLowerCase() && a.port === b.port) {
        throw new ConfigError(
          appDoc.file,
          `[${a.id}] (hostname ${a.hostname}) and [${b.id}] (hostname ${b.hostname}) both point at ${a.ip}:${a.port}; each block must be a different MySQL server`,
          { block: b.id },
        );
      }
    }
  }

  const config: AppConfig = {
    file: resolvePath(app.file),
    appName: parsePath(app.file).name,
    globalFile: global ? resolvePath(global.file) : undefined,
    manager,
    servers,
    binlogServers,
  };
  return { config, warnings, notices };
}

/**
 * Parses config text without touching the file system (init_conf_load_script, if set, still runs).
 * With no globalText, no global file is used and no notice is given.
 */
export function parseConfigText(appText: string, appFile: string, globalText?: string, globalFile?: string): LoadedConfig {
  const global = globalText === undefined ? undefined : { text: globalText, file: globalFile ?? DEFAULT_GLOBAL_CONFIG_FILE };
  return build({ text: appText, file: appFile }, global, []);
}

/** Reads a config file; undefined when it does not exist and that is allowed. */
function readConfigFile(file: string, missingIsFine: boolean): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if ((code === 'ENOENT' || code === 'ENOTDIR') && missingIsFine) return undefined;
    const why: Record<string, string> = {
      ENOENT: 'no such file',
      ENOTDIR: 'no such file (a parent is not a directory)',
      EACCES: 'permission denied',
      EPERM: 'permission denied',
      EISDIR: 'it is a directory, not a file',
    };
    throw new ConfigError(file, `cannot read the configuration file: ${(code && why[code]) ?? code ?? String(err)}`);
  }
}

export function loadConfig(opts: LoadConfigOptions): LoadedConfig {
  const appText = readConfigFile(opts.file, false)!;
  const globalFile = opts.globalFile ?? DEFAULT_GLOBAL_CONFIG_FILE;
  const globalText = readConfigFile(globalFile, true);
  const notices: string[] = [];
  if (globalText === undefined) notices.push(`Global configuration file ${globalFile} not found. Skipping.`);
  return build({ text: appText, file: opts.file }, globalText === undefined ? undefined : { text: globalText, file: globalFile }, notices);
}
