// The typed, validated configuration that every command works from.
// MHA's INI parameters (snake_case in the file) become camelCase fields here; every server block
// is fully resolved (its own value, else [server default] of the app file, else the global file,
// else MHA 0.58's default), so nothing downstream needs to know where a value came from.

export type PingType = 'CONNECT' | 'SELECT' | 'INSERT';
export type LogLevel = 'debug' | 'info' | 'notice' | 'warning' | 'error';

/** Parsed from MHA's ssh_options (an ssh(1) option string) plus ha's own ssh_* parameters. */
export interface SshSettings {
  /** Address the manager connects to: ssh_host, else ssh_ip, else ip. */
  host: string;
  port: number;
  user: string;
  /** Private keys to try, in order (-i / IdentityFile / ssh_identity_file); empty: ~/.ssh defaults and ssh-agent. */
  identityFiles: string[];
  /** known_hosts files to verify host keys against (UserKnownHostsFile / ssh_known_hosts_file); empty: ~/.ssh/known_hosts. */
  knownHostsFiles: string[];
  /** false only when explicitly opted out (StrictHostKeyChecking=no or ssh_strict_host_key_checking=0). */
  strictHostKeyChecking: boolean;
  /** Seconds to wait for the TCP connect and SSH handshake (ssh_connection_timeout / ConnectTimeout). */
  connectTimeoutSeconds: number;
}

export interface ServerConfig {
  /** Block name, e.g. "server1". */
  id: string;
  hostname: string;
  /** Resolved address for MySQL connections: ip, else hostname. */
  ip: string;
  port: number;
  nodeLabel?: string;

  user: string;
  password: string;
  /** '' when not configured: like MHA, take Master_User from SHOW SLAVE STATUS. */
  replUser: string;
  /** '' when not configured. */
  replPassword: string;

  ssh: SshSettings;
  /** Raw ssh_options string as written, kept for hook scripts that receive it (MHA passes --ssh_options). */
  sshOptionsRaw?: string;

  candidateMaster: boolean;
  noMaster: boolean;
  ignoreFail: boolean;
  skipInitSshCheck: boolean;
  skipResetSlave: boolean;
  latestPriority: boolean;
  checkReplDelay: boolean;
  checkReplFilter: boolean;
  multiTierSlave: boolean;
  useGtidAutoPos: boolean;
  disableLogBin: boolean;
  handleRawBinlog: boolean;

  /** Directories where the master's binlogs live; undefined: ask the server (@@log_bin_basename). */
  masterBinlogDir?: string[];
  masterPidFile?: string;
  remoteWorkdir: string;
  clientBindir?: string;
  clientLibdir?: string;
}

/** Manager-wide settings: taken from [server default] (MHA reads them per server, but uses the defaults). */
export interface ManagerSettings {
  managerWorkdir: string;
  managerLog?: string;
  logLevel: LogLevel;
  pingInterval: number;
  pingType: PingType;
  secondaryCheckScript?: string;
  masterIpFailoverScript?: string;
  masterIpOnlineChangeScript?: string;
  shutdownScript?: string;
  reportScript?: string;
  initConfLoadScript?: string;
  /** Minutes within which a second failover is refused (MHA: last_failover_minute, a command-line flag). */
  lastFailoverMinute: number;
  /** ha: Seconds_Behind_Master above which check-repl warns and a candidate is skipped. Default 30: MHA's
   * --seconds_behind_master for masterha_check_repl / online switch (MasterMonitor.pm:44, MasterRotate.pm:50);
   * MHA's failover itself skips a candidate by bytes instead (100,000,000 behind, ServerManager.pm:1125). */
  maxReplDelaySeconds: number;
}

export interface AppConfig {
  /** The app config file, absolute path. */
  file: string;
  /** Application name: the file's basename without extension (MHA: app1 for app1.cnf). */
  appName: string;
  /** The global defaults file that was read, if it existed. */
  globalFile?: string;
  manager: ManagerSettings;
  /** Servers in MHA's order (numeric block suffix when every block has one, else name order). */
  servers: ServerConfig[];
  /** [binlogN] blocks (MHA's binlog servers); parsed and validated, not used for failover yet. */
  binlogServers: ServerConfig[];
}

export interface ConfigWarning {
  file: string;
  block?: string;
  parameter?: string;
  message: string;
}

/** Bad configuration: always names the file, and the block and parameter when there is one. */
export class ConfigError extends Error {
  readonly file: string;
  readonly block?: string;
  readonly parameter?: string;
  constructor(file: string, message: string, where: { block?: string; parameter?: string } = {}) {
    const at = [file, where.block ? `[${where.block}]` : undefined, where.parameter].filter(Boolean).join(' ');
    super(`${at}: ${message}`);
    this.name = 'ConfigError';
    this.file = file;
    this.block = where.block;
    this.parameter = where.parameter;
  }
}

export interface LoadConfigOptions {
  file: string;
  /** Global defaults file; default /etc/masterha_default.cnf. Missing is fine (a notice, as MHA). */
  globalFile?: string;
}

export interface LoadedConfig {
  config: AppConfig;
  warnings: ConfigWarning[];
  /** Informational notices (e.g. "global file not found, skipping"). */
  notices: string[];
}
