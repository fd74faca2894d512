// ha's config reader against MHA's own Config.pm (Debian's mha4mysql-manager, installed by
// test/lab/prereqs.sh): an integration test, run by `npm test`, not by the package-free `npm run test:unit`.
// The config loader: MHA 0.58 app/global files in, one validated AppConfig out.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, type LoadedConfig } from '../../src/config/index.js';

let tmp = '';
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'ha-config-test-'));
});
after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

// ------------------------------------------------------------------ MHA itself (test/lab/prereqs.sh installs it)

/** A missing MHA is a missing prerequisite: fail saying so, never skip. */
function requireMha(): void {
  try {
    execFileSync('perl', ['-MMHA::Config', '-MJSON::PP', '-e', '1'], { stdio: 'ignore' });
  } catch {
    throw new Error("MHA's Config.pm is not installed: run `bash test/lab/prereqs.sh` (as root) or `apt-get install mha4mysql-manager`");
  }
}

const MHA_DUMP = `
use strict; use warnings;
use MHA::Config; use JSON::PP;
my ($s, $b) = eval { MHA::Config->new(file => $ARGV[0], globalfile => $ARGV[1])->read_config() };
if ($@) { print encode_json({ error => "$@" }); exit 0; }
my @k = qw/id hostname ip port user password repl_user repl_password candidate_master no_master master_binlog_dir
  manager_workdir manager_log remote_workdir ping_type ping_interval log_level secondary_check_script ssh_user ssh_port/;
print JSON::PP->new->canonical->encode({ servers => [ map { my $x = $_; +{ map { ($_ => $x->{$_}) } @k } } @$s ] });
`;

describe("config: agrees with MHA's own Config.pm (Debian's mha4mysql-manager)", () => {
  before(requireMha);
  // IP addresses as host names: MHA resolves every hostname while reading the file.
  const cases: { name: string; app: string; global?: string }[] = [
    {
      name: 'quoting, inline comments, inheritance, numeric order',
      app: `[server default]\nuser = "admin"\npassword = 'p@ss"w0rd' ; comment\nrepl_password = ab#c;d\nping_type = connect\nmaster_binlog_dir = /data/a , /data/b\nsecondary_check_script = "masterha_secondary_check -s 127.0.0.9"\n[server10]\nhostname=127.0.0.1\nport=3307\n[server2]\nhostname=127.0.0.2\npassword=\n[serverB3]\nhostname=127.0.0.3\ncandidate_master=1\nno_master=0\n`,
      global: `[server default]\nrepl_user=repl\nmanager_workdir=/var/log/masterha\nping_interval=5\nssh_user=mha\nssh_port=2222\nlog_level=debug\n`,
    },
    {
      name: 'name order when a block has no number',
      app: `[server default]\nmanager_log=/var/log/x.log\nremote_workdir=/data/tmp\n[server_b]\nhostname=127.0.0.1\n[server10]\nhostname=127.0.0.2\n[server2]\nhostname=127.0.0.3\nuser='root'\n`,
    },
    { name: 'unknown parameter', app: `[server1]\nhostname=127.0.0.1\nhostnmae=x\n` },
    { name: 'bad block name', app: `[server1]\nhostname=127.0.0.1\n[db2]\nhostname=127.0.0.2\n` },
    { name: 'no servers', app: `[server default]\nuser=root\n` },
    { name: 'missing hostname', app: `[server1]\nhostname=127.0.0.1\n[server2]\nport=3307\n` },
    { name: 'duplicate ip:port', app: `[server1]\nhostname=127.0.0.1\n[server2]\nhostname=127.0.0.1\n` },
    { name: 'ping_interval 0', app: `[server default]\nping_interval=0\n[server1]\nhostname=127.0.0.1\n` },
    { name: 'ping_type', app: `[server default]\nping_type=pong\n[server1]\nhostname=127.0.0.1\n` },
    { name: 'syntax error', app: `[server1]\nhostname=127.0.0.1\nnot a pair\n` },
  ];
  const dir = (): string => {
    const d = join(tmp, 'mha');
    mkdirSync(d, { recursive: true });
    return d;
  };

  for (const c of cases) {
    it(c.name, () => {
      const d = dir();
      const dump = join(d, 'dump.pl');
      writeFileSync(dump, MHA_DUMP);
      const app = join(d, `${c.name.replace(/\W+/g, '_')}.cnf`);
      writeFileSync(app, c.app);
      const global = join(d, `${c.name.replace(/\W+/g, '_')}.default.cnf`);
      if (c.global) writeFileSync(global, c.global);
      else rmSync(global, { force: true });
      const mha = JSON.parse(execFileSync('perl', [dump, app, global], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as {
        error?: string;
        servers?: Record<string, string | number | null>[];
      };
      let ours: LoadedConfig | undefined;
      let ourError: unknown;
      try {
        ours = loadConfig({ file: app, globalFile: global });
      } catch (err) {
        ourError = err;
      }
      if (mha.error !== undefined) {
        assert.ok(ourError instanceof ConfigError, `MHA refused it (${mha.error.trim()}), ha did not`);
        return;
      }
      assert.ifError(ourError);
      const theirs = mha.servers!.map((x) => ({
        id: x.id,
        hostname: x.hostname,
        ip: x.ip,
        port: Number(x.port),
        user: x.user,
        password: x.password,
        replUser: x.repl_user ?? '',
        replPassword: x.repl_password ?? '',
        candidateMaster: Number(x.candidate_master) >= 1,
        noMaster: Number(x.no_master) >= 1,
        binlogDir: x.master_binlog_dir,
        remoteWorkdir: x.remote_workdir,
        sshUser: x.ssh_user,
        sshPort: Number(x.ssh_port),
        managerWorkdir: x.manager_workdir,
        managerLog: x.manager_log ?? undefined,
        pingType: x.ping_type,
        pingInterval: Number(x.ping_interval),
        logLevel: x.log_level,
        secondaryCheckScript: x.secondary_check_script ?? undefined,
      }));
      const m = ours!.config.manager;
      const mine = ours!.config.servers.map((s) => ({
        id: s.id,
        hostname: s.hostname,
        ip: s.ip,
        port: s.port,
        user: s.user,
        password: s.password,
        replUser: s.replUser,
        replPassword: s.replPassword,
        candidateMaster: s.candidateMaster,
        noMaster: s.noMaster,
        // ha leaves it unset (ask the server); MHA's fallback list is what it would guess.
        binlogDir: (s.masterBinlogDir ?? ['/var/lib/mysql', '/var/log/mysql']).join(','),
        remoteWorkdir: s.remoteWorkdir,
        sshUser: s.ssh.user,
        sshPort: s.ssh.port,
        managerWorkdir: m.managerWorkdir,
        managerLog: m.managerLog,
        pingType: m.pingType,
        pingInterval: m.pingInterval,
        logLevel: m.logLevel,
        secondaryCheckScript: m.secondaryCheckScript,
      }));
      assert.deepEqual(mine, theirs);
    });
  }
});
