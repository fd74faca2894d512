// The config loader: MHA 0.58 app/global files in, one validated AppConfig out.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, PARAMS, loadConfig, parseConfigText, type LoadedConfig, type ServerConfig, type SshSettings } from '../../src/config/index.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const FIXTURES = join(REPO, 'test', 'fixtures', 'config');
const SECRET = 'Hunter2-S3cr3t';
const REPL_SECRET = 'R3pl-S3cr3t';
/** Every config below carries both passwords, so every error and warning is checked for leaks. */
const SECRETS = `password=${SECRET}\nrepl_password=${REPL_SECRET}\n`;

let tmp = '';
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'ha-config-test-'));
});
after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function parse(app: string, global?: string): LoadedConfig {
  return parseConfigText(app, 'app1.cnf', global, 'masterha_default.cnf');
}

function server(loaded: LoadedConfig, id: string): ServerConfig {
  const s = loaded.config.servers.find((x) => x.id === id) ?? loaded.config.binlogServers.find((x) => x.id === id);
  assert.ok(s, `no ${id}`);
  return s;
}

function assertNoSecret(text: string): void {
  assert.ok(!text.includes(SECRET), `the password leaked: ${text}`);
  assert.ok(!text.includes(REPL_SECRET), `the replication password leaked: ${text}`);
}

function expectError(fn: () => unknown, expected: RegExp | string): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    if (typeof expected === 'string') assert.ok(err.message.includes(expected), `"${err.message}" lacks "${expected}"`);
    else assert.match(err.message, expected);
    assertNoSecret(err.message);
    return err;
  }
  assert.fail(`expected an error matching ${String(expected)}`);
}

// ------------------------------------------------------------------ bad configurations

interface BadCase {
  name: string;
  app: string;
  global?: string;
  error: RegExp | string;
  /** The file the error must name (default app1.cnf). */
  file?: string;
  block?: string;
  parameter?: string;
}

const BAD: BadCase[] = [
  {
    name: 'unknown parameter, with a suggestion',
    app: `[server default]\n${SECRETS}[server1]\nhostnmae=db1\n`,
    error: /^app1\.cnf \[server1\] hostnmae: unknown parameter.*; did you mean hostname\?$/,
    block: 'server1',
    parameter: 'hostnmae',
  },
  {
    name: 'unknown parameter, hyphen for underscore',
    app: `[server default]\n${SECRETS}candidate-master=1\n[server1]\nhostname=db1\n`,
    error: 'did you mean candidate_master?',
  },
  {
    name: 'unknown parameter, wrong case',
    app: `[server1]\nHostname=db1\n`,
    error: /\[server1\] Hostname: unknown parameter.*did you mean hostname\?/,
  },
  {
    name: 'unknown parameter, truncated name',
    app: `[server default]\nmaster_ip_failover=/bin/true\n[server1]\nhostname=db1\n`,
    error: 'did you mean master_ip_failover_script?',
  },
  {
    name: 'unknown parameter, nothing close',
    app: `[server default]\nheartbeat_interval=3\n[server1]\nhostname=db1\n`,
    error: /heartbeat_interval: unknown parameter: MHA 0\.58 and ha have no such parameter$/,
  },
  {
    name: 'misspelt password: the value is not shown',
    app: `[server default]\npasswrd=${SECRET}\n[server1]\nhostname=db1\n`,
    error: 'did you mean password?',
  },
  {
    name: 'wrong boolean',
    app: `[server default]\n${SECRETS}[server1]\nhostname=db1\ncandidate_master=maybe\n`,
    error: 'app1.cnf [server1] candidate_master: must be 0 or 1 (yes/no, true/false, on/off also accepted), got "maybe"',
  },
  { name: 'boolean 2', app: `[server1]\nhostname=db1\nno_master=2\n`, error: 'no_master: must be 0 or 1' },
  { name: 'empty boolean', app: `[server1]\nhostname=db1\nignore_fail=\n`, error: 'ignore_fail: must be 0 or 1' },
  {
    name: 'port 0',
    app: `[server default]\n${SECRETS}[server1]\nhostname=db1\n[server2]\nhostname=db2\nport=0\n`,
    error: 'app1.cnf [server2] port: must be an integer from 1 to 65535, got "0"',
  },
  {
    name: 'port 70000',
    app: `[server1]\nhostname=db1\n[server2]\nhostname=db2\nport=70000\n`,
    error: 'app1.cnf [server2] port: must be an integer from 1 to 65535, got "70000"',
  },
  {
    name: 'port abc',
    app: `[server1]\nhostname=db1\n[server2]\nhostname=db2\nport=abc\n`,
    error: 'app1.cnf [server2] port: must be an integer from 1 to 65535, got "abc"',
  },
  {
    name: 'ssh_port in [server default]',
    app: `[server default]\nssh_port=-22\n[server1]\nhostname=db1\n`,
    error: 'app1.cnf [server default] ssh_port: must be an integer from 1 to 65535, got "-22"',
  },
  {
    name: 'ping_interval 0 (MHA: check_positive_int)',
    app: `[server default]\nping_interval=0\n[server1]\nhostname=db1\n`,
    error: '[server default] ping_interval: must be a positive integer, got "0"',
  },
  {
    name: 'ssh_connection_timeout not a number',
    app: `[server1]\nhostname=db1\nssh_connection_timeout=5s\n`,
    error: '[server1] ssh_connection_timeout: must be a positive integer, got "5s"',
  },
  {
    name: 'last_failover_minute negative',
    app: `[server default]\nlast_failover_minute=-1\n[server1]\nhostname=db1\n`,
    error: 'last_failover_minute: must be a whole number, 0 or more, got "-1"',
  },
  {
    name: 'ping_type',
    app: `[server default]\nping_type=PONG\n[server1]\nhostname=db1\n`,
    error: 'ping_type: must be CONNECT, SELECT or INSERT, got "PONG"',
  },
  {
    name: 'log_level',
    app: `[server default]\nlog_level=verbose\n[server1]\nhostname=db1\n`,
    error: 'log_level: must be debug, info, notice, warning or error, got "verbose"',
  },
  {
    name: 'relative master_binlog_dir',
    app: `[server default]\nmaster_binlog_dir=/var/lib/mysql,binlogs\n[server1]\nhostname=db1\n`,
    error: 'master_binlog_dir: directories must be absolute paths, got "binlogs"',
  },
  {
    name: 'hostname with a space',
    app: `[server1]\nhostname=db 1\n`,
    error: '[server1] hostname: must not contain spaces',
  },
  {
    name: 'duplicate hostname:port',
    app: `[server default]\n${SECRETS}[server1]\nhostname=db1\n[server2]\nhostname=db2\n[server3]\nhostname=DB1\nport=3306\n`,
    error: /^app1\.cnf \[server3\]: \[server1\] \(hostname db1\) and \[server3\] \(hostname DB1\) both point at db1:3306/,
    block: 'server3',
  },
  {
    name: 'duplicate ip:port under different hostnames',
    app: `[server1]\nhostname=db1\nip=10.0.0.1\n[server2]\nhostname=db2\nip=10.0.0.1\n`,
    error: 'both point at 10.0.0.1:3306',
  },
  {
    name: 'duplicate through an inherited port',
    app: `[server default]\nport=3307\n[server1]\nhostname=db1\n[server2]\nhostname=db1\nport=3307\n`,
    error: 'both point at db1:3307',
  },
  {
    name: 'no servers',
    app: `[server default]\n${SECRETS}user=admin\n`,
    error: /^app1\.cnf: no server is defined/,
  },
  {
    name: 'only binlog servers',
    app: `[binlog1]\nhostname=b1\n`,
    error: 'no server is defined',
  },
  {
    name: 'empty file',
    app: `# nothing here\n`,
    error: 'no server is defined',
  },
  {
    name: 'missing hostname',
    app: `[server default]\n${SECRETS}[server1]\nhostname=db1\n[server2]\nport=3307\n`,
    error: 'app1.cnf [server2] hostname: is missing: every [serverN] block needs hostname=',
    block: 'server2',
    parameter: 'hostname',
  },
  {
    name: 'empty hostname',
    app: `[server1]\nhostname=\n`,
    error: '[server1] hostname: is missing',
  },
  {
    name: 'binlog server without hostname',
    app: `[server1]\nhostname=db1\n[binlog1]\nport=3306\n`,
    error: '[binlog1] hostname: is missing: every [binlogN] block needs hostname=',
  },
  {
    name: 'bad block name',
    app: `[server1]\nhostname=db1\n[db2]\nhostname=db2\n`,
    error: 'app1.cnf [db2]: block name "db2" is invalid: it must be "server default", or "server" or "binlog" followed by non-space characters',
  },
  { name: 'block named just "server"', app: `[server]\nhostname=db1\n`, error: 'block name "server" is invalid' },
  { name: 'block "server 1" (space)', app: `[server 1]\nhostname=db1\n`, error: 'block name "server 1" is invalid' },
  {
    name: 'malformed line',
    app: `[server default]\n${SECRETS}this line has no equals sign\n[server1]\nhostname=db1\n`,
    error: 'app1.cnf [server default]: line 4 is not a [block] header, a name=value line or a comment (# or ;)',
  },
  {
    name: 'a password written without "=" is not echoed',
    app: `[server default]\npassword ${SECRET}\n[server1]\nhostname=db1\n`,
    error: 'line 2 is not a [block] header',
  },
  {
    name: 'unclosed block header',
    app: `[server1\nhostname=db1\n`,
    error: /^app1\.cnf: line 1 is not a \[block\] header/,
  },
  {
    name: 'parameter before any block',
    app: `user=root\n[server1]\nhostname=db1\n`,
    error: 'app1.cnf user: line 1 sets a parameter before any [block]',
  },
  {
    name: 'duplicate key',
    app: `[server default]\npassword=${SECRET}\npassword=${SECRET}x\n[server1]\nhostname=db1\n`,
    error: 'app1.cnf [server default] password: set twice in the same block (lines 2 and 3)',
    block: 'server default',
    parameter: 'password',
  },
  {
    name: 'duplicate block',
    app: `[server1]\nhostname=db1\n[server2]\nhostname=db2\n[server1]\nport=3307\n`,
    error: 'app1.cnf [server1]: block appears twice (lines 1 and 5)',
  },
  {
    name: 'bad value in the global file names the global file',
    app: `[server1]\nhostname=db1\n`,
    global: `[server default]\n${SECRETS}port=abc\n`,
    error: 'masterha_default.cnf [server default] port: must be an integer from 1 to 65535, got "abc"',
    file: 'masterha_default.cnf',
  },
  {
    name: 'unknown parameter in the global file',
    app: `[server1]\nhostname=db1\n`,
    global: `[server default]\nssh_usr=root\n`,
    error: 'masterha_default.cnf [server default] ssh_usr: unknown parameter: MHA 0.58 and ha have no such parameter; did you mean ssh_user?',
    file: 'masterha_default.cnf',
  },
  {
    name: 'a hook set per server, different from [server default]',
    app: `[server default]\nmaster_ip_failover_script=/usr/local/bin/vip\n[server1]\nhostname=db1\nmaster_ip_failover_script=/usr/local/bin/other\n`,
    error: '[server1] master_ip_failover_script: is a manager-wide hook',
  },
  {
    name: 'a hook set only per server',
    app: `[server1]\nhostname=db1\nreport_script=/usr/local/bin/report\n`,
    error: '[server1] report_script: is a manager-wide hook',
  },
  {
    name: 'ssh_options: unterminated quote',
    app: `[server default]\nssh_options=-i '/root/key\n[server1]\nhostname=db1\n`,
    error: "[server default] ssh_options: unterminated ' quote at character 4",
  },
  {
    name: 'ssh_options: bad port',
    app: `[server1]\nhostname=db1\nssh_options=-p 99999\n`,
    error: '[server1] ssh_options: -p must be a port from 1 to 65535, got "99999"',
  },
  {
    name: 'ssh_options: not an ssh flag',
    app: `[server1]\nhostname=db1\nssh_options=-Z\n`,
    error: 'ssh_options: -Z is not an ssh option',
  },
  {
    name: 'ssh_options: -i without a value',
    app: `[server1]\nhostname=db1\nssh_options=-o BatchMode=yes -i\n`,
    error: 'ssh_options: -i needs a value',
  },
  {
    name: 'ssh_options: bad StrictHostKeyChecking',
    app: `[server1]\nhostname=db1\nssh_options=-o StrictHostKeyChecking=maybe\n`,
    error: 'StrictHostKeyChecking must be yes, no, ask, accept-new or off, got "maybe"',
  },
  {
    name: 'ssh_options: -o without a value',
    app: `[server1]\nhostname=db1\nssh_options=-o ConnectTimeout\n`,
    error: '"-o ConnectTimeout" is not of the form -o Name=value',
  },
  {
    name: 'ssh_strict_host_key_checking not boolean',
    app: `[server1]\nhostname=db1\nssh_strict_host_key_checking=accept-new\n`,
    error: 'ssh_strict_host_key_checking: must be 0 or 1',
  },
];

describe('config: bad configurations are refused with the file, block and parameter named', () => {
  for (const c of BAD) {
    it(c.name, () => {
      const err = expectError(() => parse(c.app, c.global), c.error);
      assert.equal(err.file, c.file ?? 'app1.cnf');
      if (c.block !== undefined) assert.equal(err.block, c.block);
      if (c.parameter !== undefined) assert.equal(err.parameter, c.parameter);
    });
  }
});

// ------------------------------------------------------------------ good configurations

describe('config: minimal config and MHA defaults', () => {
  it('fills in every MHA 0.58 default', () => {
    const loaded = parse('[server1]\nhostname=db1\n');
    const { config } = loaded;
    assert.equal(config.appName, 'app1');
    assert.equal(config.globalFile, undefined);
    assert.deepEqual(config.binlogServers, []);
    assert.deepEqual(loaded.warnings, []);
    assert.deepEqual(config.manager, {
      managerWorkdir: '/var/tmp',
      managerLog: undefined,
      logLevel: 'info',
      pingInterval: 3,
      pingType: 'SELECT',
      secondaryCheckScript: undefined,
      masterIpFailoverScript: undefined,
      masterIpOnlineChangeScript: undefined,
      shutdownScript: undefined,
      reportScript: undefined,
      initConfLoadScript: undefined,
      lastFailoverMinute: 480,
      maxReplDelaySeconds: 30,
    });
    const s = server(loaded, 'server1');
    assert.deepEqual(s, {
      id: 'server1',
      hostname: 'db1',
      ip: 'db1',
      port: 3306,
      nodeLabel: undefined,
      user: 'root',
      password: '',
      replUser: '',
      replPassword: '',
      ssh: {
        host: 'db1',
        port: 22,
        user: userInfo().username,
        identityFiles: [],
        knownHostsFiles: [],
        strictHostKeyChecking: true,
        connectTimeoutSeconds: 5,
      },
      sshOptionsRaw: undefined,
      candidateMaster: false,
      noMaster: false,
      ignoreFail: false,
      skipInitSshCheck: false,
      skipResetSlave: false,
      latestPriority: true,
      checkReplDelay: true,
      checkReplFilter: true,
      multiTierSlave: false,
      useGtidAutoPos: true,
      disableLogBin: false,
      handleRawBinlog: true,
      masterBinlogDir: undefined,
      masterPidFile: undefined,
      remoteWorkdir: '/var/tmp',
      clientBindir: undefined,
      clientLibdir: undefined,
    } satisfies ServerConfig);
  });

  it('accepts every parameter in the table (MHA 0.58 and ha)', () => {
    const values: Record<string, string> = {
      bool: '1',
      port: '3306',
      positiveInt: '7',
      count: '0',
      pingType: 'insert',
      logLevel: 'debug',
      dirList: '/var/lib/mysql',
      sshOptions: '-o BatchMode=yes',
      string: 'x',
      secret: SECRET,
    };
    const perServer = PARAMS.filter((p) => p.scope === 'server').map((p) => `${p.name}=${values[p.kind]}`);
    const inherited = PARAMS.filter((p) => p.scope !== 'server').map((p) => `${p.name}=${values[p.kind]}`);
    const app = `[server default]\n${inherited.join('\n').replace('init_conf_load_script=x', 'init_conf_load_script=')}\n[server1]\n${perServer.join('\n')}\n`;
    const loaded = parse(app);
    assert.equal(server(loaded, 'server1').hostname, 'x');
    assert.equal(loaded.config.manager.pingType, 'INSERT');
    assertNoSecret(JSON.stringify(loaded.warnings));
  });

  it('appName is the file name without its extension', () => {
    assert.equal(parseConfigText('[server1]\nhostname=a\n', '/etc/masterha/app1.cnf').config.appName, 'app1');
    assert.equal(parseConfigText('[server1]\nhostname=a\n', 'conf/my.app.cnf').config.appName, 'my.app');
    assert.equal(parseConfigText('[server1]\nhostname=a\n', 'app2').config.appName, 'app2');
  });
});

describe('config: resolution order (block > [server default] > global > MHA default)', () => {
  const global = `[server default]\nuser=global_user\n${SECRETS}ssh_user=global_ssh\nport=3301\nremote_workdir=/g\nmanager_workdir=/gm\nping_interval=9\n[server9]\nhostname=ignored\n`;
  const app = `[server default]\nuser=app_user\nport=3302\nmanager_workdir=/am\n[server1]\nhostname=db1\nuser=block_user\nport=3303\n[server2]\nhostname=db2\n`;

  it('takes each value from the most specific place', () => {
    const loaded = parse(app, global);
    const s1 = server(loaded, 'server1');
    const s2 = server(loaded, 'server2');
    assert.equal(s1.user, 'block_user');
    assert.equal(s1.port, 3303);
    assert.equal(s2.user, 'app_user');
    assert.equal(s2.port, 3302);
    assert.equal(s2.password, SECRET); // global only
    assert.equal(s2.replPassword, REPL_SECRET);
    assert.equal(s2.ssh.user, 'global_ssh');
    assert.equal(s2.remoteWorkdir, '/g');
    assert.equal(loaded.config.manager.managerWorkdir, '/am');
    assert.equal(loaded.config.manager.pingInterval, 9);
    assert.equal(loaded.config.globalFile, join(process.cwd(), 'masterha_default.cnf'));
  });

  it('reads only [server default] from the global file, and says so', () => {
    const loaded = parse(app, global);
    assert.deepEqual(
      loaded.config.servers.map((s) => s.id),
      ['server1', 'server2'],
    );
    assert.deepEqual(loaded.warnings, [
      {
        file: 'masterha_default.cnf',
        block: 'server9',
        message: 'block ignored: only [server default] is read from the global configuration file (as MHA)',
      },
    ]);
  });

  it('does not inherit per-server parameters from [server default] (as MHA), and warns', () => {
    const loaded = parse(`[server default]\ncandidate_master=1\nno_master=1\nhostname=dbx\n[server1]\nhostname=db1\n[server2]\nhostname=db2\ncandidate_master=1\n`);
    assert.equal(server(loaded, 'server1').candidateMaster, false);
    assert.equal(server(loaded, 'server1').noMaster, false);
    assert.equal(server(loaded, 'server1').hostname, 'db1');
    assert.equal(server(loaded, 'server2').candidateMaster, true);
    assert.deepEqual(
      loaded.warnings.map((w) => `${w.block} ${w.parameter}: ${w.message}`),
      ['candidate_master', 'no_master', 'hostname'].map((p) => `server default ${p}: has no effect in [server default]: MHA and ha read it from each [serverN] block only`),
    );
  });

  it('an empty value stops inheritance (as MHA) and means the built-in default', () => {
    const loaded = parse(
      `[server default]\nuser=admin\n${SECRETS}manager_log=/var/log/ha.log\nmaster_binlog_dir=/data/binlog\n[server1]\nhostname=db1\nuser=\npassword=\nmaster_binlog_dir=\n`,
    );
    const s = server(loaded, 'server1');
    assert.equal(s.user, 'root');
    assert.equal(s.password, '');
    assert.equal(s.masterBinlogDir, undefined);
    assert.equal(loaded.config.manager.managerLog, '/var/log/ha.log');
  });

  it('master_binlog_dir: comma-separated, spaces removed (as MHA); absent means ask the server', () => {
    const loaded = parse(`[server1]\nhostname=db1\nmaster_binlog_dir= /var/lib/mysql , /var/log/mysql\n[server2]\nhostname=db2\n`);
    assert.deepEqual(server(loaded, 'server1').masterBinlogDir, ['/var/lib/mysql', '/var/log/mysql']);
    assert.equal(server(loaded, 'server2').masterBinlogDir, undefined);
  });

  it('booleans accept 0/1 and yes/no, true/false, on/off in any case', () => {
    const loaded = parse(
      `[server default]\ncheck_repl_delay=no\nlatest_priority=OFF\nuse_gtid_auto_pos=False\nmulti_tier_slave=yes\n[server1]\nhostname=db1\ncandidate_master=TRUE\nno_master=0\nignore_fail=On\nskip_init_ssh_check=1\n`,
    );
    const s = server(loaded, 'server1');
    assert.deepEqual(
      [s.checkReplDelay, s.latestPriority, s.useGtidAutoPos, s.multiTierSlave, s.candidateMaster, s.noMaster, s.ignoreFail, s.skipInitSshCheck],
      [false, false, false, true, true, false, true, true],
    );
  });

  it('normalises ping_type and log_level', () => {
    const m = parse(`[server default]\nping_type=connect\nlog_level=WARN\n[server1]\nhostname=db1\n`).config.manager;
    assert.equal(m.pingType, 'CONNECT');
    assert.equal(m.logLevel, 'warning');
  });

  it('ip defaults to hostname; hostname is kept for the connection to resolve', () => {
    const loaded = parse(`[server1]\nhostname=db1.example.com\n[server2]\nhostname=db2\nip=10.0.0.2\nnode_label=dc2\n`);
    assert.equal(server(loaded, 'server1').ip, 'db1.example.com');
    assert.equal(server(loaded, 'server2').ip, '10.0.0.2');
    assert.equal(server(loaded, 'server2').nodeLabel, 'dc2');
  });

  it('same host on different ports is two servers', () => {
    const loaded = parse(`[server1]\nhostname=db1\n[server2]\nhostname=db1\nport=3307\n`);
    assert.deepEqual(
      loaded.config.servers.map((s) => `${s.ip}:${s.port}`),
      ['db1:3306', 'db1:3307'],
    );
  });
});

describe('config: manager-wide settings', () => {
  it('come from [server default]', () => {
    const m = parse(
      `[server default]\nmanager_workdir=/var/log/masterha/app1\nmanager_log=/var/log/masterha/app1/manager.log\nping_interval=1\nsecondary_check_script=masterha_secondary_check -s r1 -s r2\nmaster_ip_failover_script=/usr/local/bin/master_ip_failover\nmaster_ip_online_change_script=/usr/local/bin/online\nshutdown_script=/usr/local/bin/power_manager\nreport_script=/usr/local/bin/send_report\nlast_failover_minute=60\nmax_repl_delay_seconds=0\n[server1]\nhostname=db1\n`,
    ).config.manager;
    assert.equal(m.managerWorkdir, '/var/log/masterha/app1');
    assert.equal(m.managerLog, '/var/log/masterha/app1/manager.log');
    assert.equal(m.pingInterval, 1);
    assert.equal(m.secondaryCheckScript, 'masterha_secondary_check -s r1 -s r2');
    assert.equal(m.masterIpFailoverScript, '/usr/local/bin/master_ip_failover');
    assert.equal(m.masterIpOnlineChangeScript, '/usr/local/bin/online');
    assert.equal(m.shutdownScript, '/usr/local/bin/power_manager');
    assert.equal(m.reportScript, '/usr/local/bin/send_report');
    assert.equal(m.lastFailoverMinute, 60);
    assert.equal(m.maxReplDelaySeconds, 0);
  });

  it('set in a server block: ignored with a warning, or silently when equal', () => {
    const loaded = parse(
      `[server default]\nping_interval=3\nreport_script=/r\n[server1]\nhostname=db1\nping_interval=10\nreport_script=/r\n[server2]\nhostname=db2\nping_type=select\n`,
    );
    assert.equal(loaded.config.manager.pingInterval, 3);
    assert.deepEqual(
      loaded.warnings.map((w) => `${w.block} ${w.parameter}: ${w.message}`),
      ['server1 ping_interval: is manager-wide: ha reads it from [server default] only, so the value in [server1] is ignored'],
    );
  });
});

describe('config: parameters ha accepts but ignores', () => {
  it('warn only when set', () => {
    const loaded = parse(`[server default]\nhandle_raw_binlog=0\n[server1]\nhostname=db1\nclient_libdir=/opt/mysql/lib\n[server2]\nhostname=db2\n`);
    assert.deepEqual(
      loaded.warnings.map((w) => `${w.block} ${w.parameter}`),
      ['server default handle_raw_binlog', 'server1 client_libdir'],
    );
    for (const w of loaded.warnings) assert.match(w.message, /^accepted for MHA compatibility; ha ignores it because /);
    assert.equal(server(loaded, 'server2').handleRawBinlog, false); // kept all the same
    assert.equal(server(loaded, 'server1').clientLibdir, '/opt/mysql/lib');
    assert.deepEqual(parse('[server1]\nhostname=db1\n').warnings, []);
  });

  it('supported MHA parameters are kept without a warning', () => {
    const loaded = parse(
      `[server default]\ndisable_log_bin=1\nmaster_pid_file=/var/run/mysqld/mysqld.pid\nclient_bindir=/usr/local/mysql/bin\nskip_reset_slave=1\ncheck_repl_filter=0\nrepl_user=repl\n${SECRETS}[server1]\nhostname=db1\n`,
    );
    const s = server(loaded, 'server1');
    assert.equal(s.disableLogBin, true);
    assert.equal(s.masterPidFile, '/var/run/mysqld/mysqld.pid');
    assert.equal(s.clientBindir, '/usr/local/mysql/bin');
    assert.equal(s.skipResetSlave, true);
    assert.equal(s.checkReplFilter, false);
    assert.equal(s.replUser, 'repl');
    assert.deepEqual(loaded.warnings, []);
  });
});

describe('config: INI syntax as MHA (Config::Tiny) reads it', () => {
  const cases: { name: string; line: string; value: string }[] = [
    { name: 'double quotes', line: 'user="admin"', value: 'admin' },
    { name: 'single quotes', line: "user='admin'", value: 'admin' },
    { name: 'spaces around =', line: 'user   =   admin  ', value: 'admin' },
    { name: 'quotes keep inner spaces', line: 'user=" ad min "', value: ' ad min ' },
    { name: 'only a trailing quote is dropped (MHA regex)', line: 'user=admin"', value: 'admin' },
    { name: 'a lone leading quote stays (MHA regex)', line: 'user="admin', value: '"admin' },
    { name: 'one pair only', line: `user=""admin""`, value: '"admin"' },
    { name: '= inside a value', line: 'user=a=b', value: 'a=b' },
    { name: '" ; " starts an inline comment', line: 'user=admin ; the DBA account', value: 'admin' },
    { name: '";" without spaces does not', line: 'user=ad;min', value: 'ad;min' },
    { name: '"#" inside a value is kept', line: 'user=ad#min # not a comment', value: 'ad#min # not a comment' },
    { name: 'quoted value then a comment', line: `user='admin' ; comment`, value: 'admin' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(server(parse(`[server default]\n${c.line}\n[server1]\nhostname=db1\n`), 'server1').user, c.value);
    });
  }

  it('command lines (hooks, ssh_options) lose only a pair of quotes around the whole value', () => {
    const m = parse(
      `[server default]\nmaster_ip_failover_script="/usr/local/bin/vip --dev=eth0"\nshutdown_script=/usr/local/bin/power --opt='a b'\nreport_script='/r'"\n[server1]\nhostname=db1\n`,
    ).config.manager;
    assert.equal(m.masterIpFailoverScript, '/usr/local/bin/vip --dev=eth0');
    assert.equal(m.shutdownScript, "/usr/local/bin/power --opt='a b'");
    assert.equal(m.reportScript, `'/r'"`);
  });

  it('warns when " ; " cut a quoted value short, without showing it', () => {
    const loaded = parse(`[server default]\npassword="${SECRET} ; x"\n[server1]\nhostname=db1\n`);
    assert.equal(server(loaded, 'server1').password, `"${SECRET}`);
    assert.equal(loaded.warnings.length, 1);
    assert.match(loaded.warnings[0]!.message, /^line 2: the value starts with a quote, but " ; " inside it starts a comment/);
    assertNoSecret(JSON.stringify(loaded.warnings));
  });

  it('passwords keep #, ; and = characters', () => {
    const loaded = parse(`[server default]\npassword=p#ss;w=rd\nrepl_password="a b;c"\n[server1]\nhostname=db1\n`);
    assert.equal(server(loaded, 'server1').password, 'p#ss;w=rd');
    assert.equal(server(loaded, 'server1').replPassword, 'a b;c');
  });

  it('comments, blank lines, CRLF and a BOM', () => {
    const text = '\uFEFF# app1\r\n; another comment\r\n\r\n  [ server1 ]  \r\n  hostname = db1  \r\n\tport=3307\r\n';
    const s = server(parse(text), 'server1');
    assert.equal(s.hostname, 'db1');
    assert.equal(s.port, 3307);
  });
});

describe('config: server order (as MHA)', () => {
  const order = (app: string): string[] => parse(app).config.servers.map((s) => s.id);

  it('by number when every block has one: server10 after server2', () => {
    assert.deepEqual(order('[server10]\nhostname=a\n[server2]\nhostname=b\n[server1]\nhostname=c\n'), ['server1', 'server2', 'server10']);
  });
  it('non-digits before the number still count (server\\D*(\\d+))', () => {
    assert.deepEqual(order('[server_b10]\nhostname=a\n[server_a2]\nhostname=b\n[serverX3]\nhostname=c\n'), ['server_a2', 'serverX3', 'server_b10']);
  });
  it('by name when one block has no number', () => {
    assert.deepEqual(order('[server10]\nhostname=a\n[server2]\nhostname=b\n[server_db]\nhostname=c\n'), ['server10', 'server2', 'server_db']);
  });
  it('equal numbers keep name order', () => {
    assert.deepEqual(order('[server01]\nhostname=a\n[server1]\nhostname=b\n[server0]\nhostname=c\n'), ['server0', 'server01', 'server1']);
  });
  it('binlog blocks are listed apart, by name', () => {
    const loaded = parse('[server1]\nhostname=db1\n[binlog2]\nhostname=b2\n[binlog1]\nhostname=b1\nport=3310\n');
    assert.deepEqual(
      loaded.config.binlogServers.map((s) => `${s.id} ${s.hostname}:${s.port}`),
      ['binlog1 b1:3310', 'binlog2 b2:3306'],
    );
    assert.deepEqual(
      loaded.config.servers.map((s) => s.id),
      ['server1'],
    );
  });
});

// ------------------------------------------------------------------ SSH

interface SshCase {
  name: string;
  /** Lines for [server1] (hostname=db1 is added). */
  lines: string;
  defaults?: string;
  ssh: Partial<SshSettings>;
  warnings?: RegExp[];
}

const SSH: SshCase[] = [
  {
    name: 'the common MHA form',
    lines: 'ssh_options=-i /root/.ssh/id_rsa -o StrictHostKeyChecking=no -o UserKnownHostsFile=/x -p 2222 -o ConnectTimeout=3',
    ssh: { identityFiles: ['/root/.ssh/id_rsa'], knownHostsFiles: ['/x'], strictHostKeyChecking: false, port: 2222, connectTimeoutSeconds: 3 },
  },
  {
    name: 'attached arguments',
    lines: 'ssh_options=-i/k1 -p2200 -oConnectTimeout=7 -oStrictHostKeyChecking=yes -oIdentityFile=/k2',
    ssh: { identityFiles: ['/k1', '/k2'], port: 2200, connectTimeoutSeconds: 7, strictHostKeyChecking: true },
  },
  {
    name: 'the whole value quoted, with a quoted path inside, and ~',
    lines: `ssh_options="-i '/etc/ha/my key' -o 'UserKnownHostsFile=/etc/ha/known_hosts' -i ~/.ssh/ha_key"`,
    ssh: { knownHostsFiles: ['/etc/ha/known_hosts'], identityFiles: ['/etc/ha/my key', join(homedir(), '.ssh', 'ha_key')] },
  },
  {
    name: '-o "Name value" and -o Port',
    lines: 'ssh_options=-o "ConnectTimeout 9" -o Port=2022 -o "UserKnownHostsFile /a /b none"',
    ssh: { connectTimeoutSeconds: 9, port: 2022, knownHostsFiles: ['/a', '/b'] },
  },
  {
    name: 'the first value wins, as in ssh',
    lines: 'ssh_options=-p 2201 -p 2202 -o StrictHostKeyChecking=no -o StrictHostKeyChecking=yes',
    ssh: { port: 2201, strictHostKeyChecking: false },
  },
  {
    name: 'options ha cannot honour are named in a warning; harmless ones are not',
    lines: 'ssh_options=-q -o ProxyJump=bastion -F /etc/ssh/ha_config -o ServerAliveInterval=60 -o BatchMode=yes -A',
    ssh: { identityFiles: [], port: 22 },
    warnings: [/^ha's SSH client cannot honour -o ProxyJump=bastion, -F \/etc\/ssh\/ha_config, -A; ignored$/],
  },
  {
    name: 'MHA idiom: no host key checking at all',
    lines: 'ssh_options=-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null',
    ssh: { strictHostKeyChecking: false, knownHostsFiles: ['/dev/null'] },
  },
  {
    name: 'known_hosts /dev/null while checking host keys',
    lines: 'ssh_options=-o UserKnownHostsFile=/dev/null',
    ssh: { strictHostKeyChecking: true },
    warnings: [/every SSH connection will be refused/],
  },
  {
    name: 'accept-new: checked, with a warning that ha adds no keys',
    lines: 'ssh_options=-o StrictHostKeyChecking=accept-new',
    ssh: { strictHostKeyChecking: true },
    warnings: [/accept-new: ha checks host keys but never adds new ones/],
  },
  {
    name: 'ssh_port and ssh_connection_timeout win over ssh_options, with a warning',
    lines: 'ssh_port=2022\nssh_connection_timeout=10\nssh_options=-p 2222 -o ConnectTimeout=3',
    ssh: { port: 2022, connectTimeoutSeconds: 10 },
    warnings: [/ssh_port=2022 is used; the port 2222 given in ssh_options is ignored/, /ssh_connection_timeout=10 is used; ConnectTimeout=3/],
  },
  {
    name: 'ha parameters: identity, known_hosts, strict opt-out',
    lines: 'ssh_identity_file=/etc/ha/id_ed25519\nssh_known_hosts_file=/etc/ha/known_hosts\nssh_strict_host_key_checking=0\nssh_options=-i /root/.ssh/id_rsa',
    ssh: { identityFiles: ['/etc/ha/id_ed25519', '/root/.ssh/id_rsa'], knownHostsFiles: ['/etc/ha/known_hosts'], strictHostKeyChecking: false },
  },
  {
    name: 'ssh_strict_host_key_checking wins over StrictHostKeyChecking, with a warning',
    lines: 'ssh_strict_host_key_checking=1\nssh_options=-o StrictHostKeyChecking=no',
    ssh: { strictHostKeyChecking: true },
    warnings: [/ssh_strict_host_key_checking=1 is used; StrictHostKeyChecking=no in ssh_options is ignored/],
  },
  {
    name: 'address: ssh_host first',
    lines: 'ip=10.0.0.1\nssh_host=admin-db1\nssh_ip=10.9.0.1',
    ssh: { host: 'admin-db1' },
  },
  { name: 'address: then ssh_ip', lines: 'ip=10.0.0.1\nssh_ip=10.9.0.1', ssh: { host: '10.9.0.1' } },
  { name: 'address: then ip', lines: 'ip=10.0.0.1', ssh: { host: '10.0.0.1' } },
  { name: 'address: then hostname', lines: '', ssh: { host: 'db1', user: userInfo().username } },
  {
    name: 'inherited from [server default] and overridden per server',
    defaults: 'ssh_options=-i /default_key -p 2200\nssh_user=mha',
    lines: 'ssh_options=-i /own_key',
    ssh: { identityFiles: ['/own_key'], port: 22, user: 'mha' },
  },
  {
    name: 'inherited from [server default]',
    defaults: 'ssh_options="-i /default_key -p 2200"',
    lines: '',
    ssh: { identityFiles: ['/default_key'], port: 2200 },
  },
];

describe('config: ssh settings', () => {
  for (const c of SSH) {
    it(c.name, () => {
      const loaded = parse(`[server default]\n${SECRETS}${c.defaults ?? ''}\n[server1]\nhostname=db1\n${c.lines}\n`);
      const s = server(loaded, 'server1');
      for (const [k, v] of Object.entries(c.ssh)) assert.deepEqual(s.ssh[k as keyof SshSettings], v, k);
      const messages = loaded.warnings.map((w) => w.message);
      assert.equal(messages.length, (c.warnings ?? []).length, `warnings: ${JSON.stringify(messages)}`);
      for (const re of c.warnings ?? [])
        assert.ok(
          messages.some((m) => re.test(m)),
          `no warning ${String(re)} in ${JSON.stringify(messages)}`,
        );
      assertNoSecret(JSON.stringify(loaded.warnings));
    });
  }

  it('keeps the ssh_options string for hooks', () => {
    const s = server(parse(`[server1]\nhostname=db1\nssh_options="-p 2222 -i /k"\n`), 'server1');
    assert.equal(s.sshOptionsRaw, '-p 2222 -i /k');
  });

  it('warns once for options written once in [server default]', () => {
    const loaded = parse(`[server default]\nssh_options=-o ProxyJump=b\n[server1]\nhostname=db1\n[server2]\nhostname=db2\n`);
    assert.equal(loaded.warnings.length, 1);
    assert.equal(loaded.warnings[0]!.block, 'server default');
    assert.equal(loaded.warnings[0]!.parameter, 'ssh_options');
  });
});

// ------------------------------------------------------------------ files

describe('config: files', () => {
  const write = (name: string, text: string): string => {
    const file = join(tmp, name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  };

  it('a missing global file is a notice, as MHA', () => {
    const app = write('files/app1.cnf', '[server1]\nhostname=db1\n');
    const missing = join(tmp, 'files', 'no_such_default.cnf');
    const loaded = loadConfig({ file: app, globalFile: missing });
    assert.deepEqual(loaded.notices, [`Global configuration file ${missing} not found. Skipping.`]);
    assert.equal(loaded.config.globalFile, undefined);
    assert.equal(loaded.config.file, app);
    assert.equal(loaded.config.appName, 'app1');
  });

  it('reads the global file when it exists', () => {
    const app = write('files2/app1.cnf', '[server1]\nhostname=db1\n');
    const global = write('files2/masterha_default.cnf', `[server default]\n${SECRETS}ssh_user=mha\n`);
    const loaded = loadConfig({ file: app, globalFile: global });
    assert.deepEqual(loaded.notices, []);
    assert.equal(loaded.config.globalFile, global);
    assert.equal(server(loaded, 'server1').ssh.user, 'mha');
    assert.equal(server(loaded, 'server1').password, SECRET);
  });

  it('a missing app file is an error', () => {
    const missing = join(tmp, 'nope', 'app1.cnf');
    const err = expectError(() => loadConfig({ file: missing, globalFile: missing }), `${missing}: cannot read the configuration file: no such file`);
    assert.equal(err.file, missing);
  });

  it('a directory is an error, for the app file and the global file', () => {
    const app = write('files3/app1.cnf', '[server1]\nhostname=db1\n');
    expectError(() => loadConfig({ file: tmp, globalFile: '/nonexistent' }), `${tmp}: cannot read the configuration file: it is a directory`);
    expectError(() => loadConfig({ file: app, globalFile: tmp }), `${tmp}: cannot read the configuration file: it is a directory`);
  });

  it('an unreadable global file is an error, not a skipped file', () => {
    // Root reads any file, so as root the loader runs in a child process as nobody.
    const dir = join(tmp, 'files4');
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    chmodSync(tmp, 0o755);
    const app = write('files4/app1.cnf', '[server1]\nhostname=db1\n');
    const global = write('files4/masterha_default.cnf', `[server default]\n${SECRETS}`);
    chmodSync(app, 0o644);
    chmodSync(global, 0o000);
    const expected = `${global}: cannot read the configuration file: permission denied`;
    if (process.getuid?.() !== 0) {
      expectError(() => loadConfig({ file: app, globalFile: global }), expected);
      return;
    }
    const loader = new URL('../../src/config/index.js', import.meta.url).href;
    const child = `import(${JSON.stringify(loader)}).then((m) => {
      try { m.loadConfig({ file: ${JSON.stringify(app)}, globalFile: ${JSON.stringify(global)} }); console.log('loaded'); }
      catch (e) { console.log(e.message); }
    });`;
    const out = execFileSync(process.execPath, ['-e', child], { encoding: 'utf8', uid: 65534, gid: 65534, cwd: '/' });
    assert.equal(out.trim(), expected);
  });

  it("MHA's own sample app1.cnf and masterha_default.cnf load unchanged", () => {
    // test/fixtures/config: samples/conf/app1.cnf and masterha_default.cnf from yoshinorim/mha4mysql-manager.
    const loaded = loadConfig({ file: join(FIXTURES, 'app1.cnf'), globalFile: join(FIXTURES, 'masterha_default.cnf') });
    const { config } = loaded;
    assert.deepEqual(loaded.warnings, []);
    assert.deepEqual(loaded.notices, []);
    assert.equal(config.appName, 'app1');
    assert.equal(config.manager.managerWorkdir, '/var/log/masterha/app1');
    assert.equal(config.manager.managerLog, '/var/log/masterha/app1/manager.log');
    assert.equal(config.manager.secondaryCheckScript, 'masterha_secondary_check -s remote_host1 -s remote_host2');
    assert.equal(config.manager.pingInterval, 3);
    assert.deepEqual(
      config.servers.map((s) => [s.id, s.hostname, s.candidateMaster, s.noMaster]),
      [
        ['server1', 'host1', true, false],
        ['server2', 'host2', true, false],
        ['server3', 'host3', false, false],
        ['server4', 'host4', false, true],
      ],
    );
    for (const s of config.servers) {
      assert.equal(s.user, 'root');
      assert.equal(s.password, 'rootpass');
      assert.equal(s.ssh.user, 'root');
      assert.deepEqual(s.masterBinlogDir, ['/var/lib/mysql', '/var/log/mysql']);
      assert.equal(s.remoteWorkdir, '/data/log/masterha');
    }
  });
});

// ------------------------------------------------------------------ init_conf_load_script

describe('config: init_conf_load_script', () => {
  const script = (name: string, body: string): string => {
    const file = join(tmp, 'scripts', name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return file;
  };

  it('its name=value lines sit between the server blocks and [server default]', () => {
    const s = script('creds.sh', `echo "user=from_script"\necho "password=${SECRET}=x"\necho ""\necho "# a comment"\necho "repl_user='repl'"`);
    const loaded = parse(`[server default]\nuser=app_user\npassword=old\ninit_conf_load_script=${s}\n[server1]\nhostname=db1\n[server2]\nhostname=db2\nuser=own_user\n`);
    assert.equal(server(loaded, 'server1').user, 'from_script');
    assert.equal(server(loaded, 'server1').password, `${SECRET}=x`); // all after the first '='
    assert.equal(server(loaded, 'server1').replUser, 'repl');
    assert.equal(server(loaded, 'server2').user, 'own_user');
    assert.equal(loaded.config.manager.initConfLoadScript, s);
  });

  it('runs without a shell, with its arguments split like a command line', () => {
    const s = script('args.sh', 'echo "repl_user=$1"\necho "user=$2"');
    const loaded = parse(`[server default]\ninit_conf_load_script=${s} "a b" '$HOME'\n[server1]\nhostname=db1\n`);
    assert.equal(server(loaded, 'server1').replUser, 'a b');
    assert.equal(server(loaded, 'server1').user, '$HOME');
  });

  it('can come from the global file', () => {
    const s = script('global.sh', 'echo user=g');
    const loaded = parse('[server1]\nhostname=db1\n', `[server default]\ninit_conf_load_script=${s}\n`);
    assert.equal(server(loaded, 'server1').user, 'g');
  });

  it('a failing script is an error', () => {
    const s = script('fails.sh', `echo password=${SECRET}\nexit 3`);
    const err = expectError(
      () => parse(`[server default]\ninit_conf_load_script=${s}\n[server1]\nhostname=db1\n`),
      `app1.cnf [server default] init_conf_load_script: running ${s} failed: it exited with status 3`,
    );
    assert.equal(err.parameter, 'init_conf_load_script');
  });

  it('a missing script is an error', () => {
    expectError(() => parse(`[server default]\ninit_conf_load_script=${join(tmp, 'no_such_script')}\n[server1]\nhostname=db1\n`), 'failed: no such program');
  });

  it('a script that is not executable is an error', () => {
    const s = script('noexec.sh', 'echo user=x');
    chmodSync(s, 0o644);
    expectError(() => parse(`[server default]\ninit_conf_load_script=${s}\n[server1]\nhostname=db1\n`), 'failed: permission denied');
  });

  it('output that is not name=value is an error that does not show the line', () => {
    const s = script('garbage.sh', `echo "${SECRET}"`);
    const err = expectError(
      () => parse(`[server default]\ninit_conf_load_script=${s}\n[server1]\nhostname=db1\n`),
      `${s}: line 1 is not name=value (the line is not shown: it may hold a password) (in the output of init_conf_load_script)`,
    );
    assert.equal(err.file, s);
  });

  it('an unknown name in its output is an error with a suggestion', () => {
    const s = script('typo.sh', `echo "passwd=${SECRET}"`);
    expectError(
      () => parse(`[server default]\ninit_conf_load_script=${s}\n[server1]\nhostname=db1\n`),
      /passwd: unknown parameter.*did you mean password\? \(in the output of init_conf_load_script\)$/,
    );
  });

  it('a bad value in its output names the script', () => {
    const s = script('badport.sh', 'echo port=none');
    expectError(
      () => parse(`[server default]\ninit_conf_load_script=${s}\n[server1]\nhostname=db1\n`),
      `${s} port: must be an integer from 1 to 65535, got "none" (in the output of init_conf_load_script)`,
    );
  });

  it('does not run when the file itself is bad', () => {
    const marker = join(tmp, 'scripts', 'ran');
    const s = script('marker.sh', `touch ${marker}`);
    expectError(() => parse(`[server default]\ninit_conf_load_script=${s}\n[server1]\nhostname=db1\nport=x\n`), 'port: must be');
    assert.equal(existsSync(marker), false);
  });
});

// ------------------------------------------------------------------ secrets

describe('config: passwords never appear in errors or warnings', () => {
  it('for every bad case above (checked in expectError) and in a config full of warnings', () => {
    const loaded = parse(
      `[server default]\n${SECRETS}candidate_master=1\nhandle_raw_binlog=1\nclient_libdir=/x\nssh_options=-o ProxyJump=${SECRET}x\n[server1]\nhostname=db1\nping_interval=10\npassword=${SECRET}\n`,
    );
    assert.ok(loaded.warnings.length >= 4);
    // ProxyJump's value is echoed (it is not a password); the passwords themselves are not.
    assert.ok(JSON.stringify(loaded.warnings).includes(`${SECRET}x`));
    const withoutOption = JSON.stringify(loaded.warnings).replaceAll(`ProxyJump=${SECRET}x`, '');
    assertNoSecret(withoutOption);
  });

  it('a repeated repl_password is reported without its value', () => {
    const err = expectError(() => parse(`[server1]\nhostname=db1\nrepl_password=${REPL_SECRET}\nrepl_password=${REPL_SECRET}\n`), 'set twice');
    assert.equal(err.parameter, 'repl_password');
  });
});

// ------------------------------------------------------------------ docs

describe('config: docs/config.md', () => {
  it('documents every parameter', () => {
    const doc = readFileSync(join(REPO, 'docs', 'config.md'), 'utf8');
    const missing = PARAMS.filter((p) => !doc.includes(`| \`${p.name}\``)).map((p) => p.name);
    assert.deepEqual(missing, []);
  });
});

describe('the sample configs in conf/', () => {
  it('load without errors or warnings', () => {
    const loaded = loadConfig({ file: join(REPO, 'conf', 'app1.cnf'), globalFile: join(REPO, 'conf', 'masterha_default.cnf') });
    assert.deepEqual(loaded.warnings, []);
    assert.deepEqual(
      loaded.config.servers.map((s) => s.id),
      ['server1', 'server2', 'server3'],
    );
    assert.equal(loaded.config.servers[1]!.candidateMaster, true);
    assert.equal(loaded.config.servers[2]!.noMaster, true);
    assert.equal(loaded.config.manager.lastFailoverMinute, 480);
  });
});
