// The cached template datadir every lab host starts from: mariadb-install-db runs once per MariaDB
// version (under a lock), the lab's users are created by starting it once without networking, and
// each lab host then gets a copy (cp --reflink=auto).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execa } from 'execa';
import { StopWaiting, procRef, sleep, tail, waitFor, waitGone, withFileLock } from './proc.js';

export const MARIADBD = '/usr/sbin/mariadbd';

/** Lab credentials (fixed lab secrets; the servers only listen on lab addresses). */
export const ADMIN_USER = 'ha';
export const ADMIN_PASSWORD = 'ha-lab-secret';
export const REPL_USER = 'repl';
export const REPL_PASSWORD = 'repl-lab-secret';
/** An application user without SUPER / READ ONLY ADMIN: read_only=1 stops its writes (used by the write load). */
export const APP_USER = 'app';
export const APP_PASSWORD = 'app-lab-secret';

/** Bump when the template's content changes: a new cache directory is built. */
const TEMPLATE_FORMAT = 1;

/** InnoDB sizes shared by the template and every host (the system tablespace must match its creation). */
export const INNODB_OPTIONS: Record<string, string> = {
  innodb_buffer_pool_size: '32M',
  innodb_log_file_size: '8M',
  innodb_log_buffer_size: '2M',
  innodb_data_file_path: 'ibdata1:10M:autoextend',
  innodb_temp_data_file_path: 'ibtmp1:1M:autoextend',
  innodb_buffer_pool_load_at_startup: 'OFF',
  innodb_buffer_pool_dump_at_shutdown: 'OFF',
};

function innodbArgs(): string[] {
  return Object.entries(INNODB_OPTIONS).map(([k, v]) => `--${k}=${v}`);
}

const TEMPLATE_SQL = `
DELETE FROM mysql.global_priv WHERE User = '' OR (User = 'root' AND Host <> 'localhost');
FLUSH PRIVILEGES;
CREATE USER '${ADMIN_USER}'@'%' IDENTIFIED BY '${ADMIN_PASSWORD}';
GRANT ALL PRIVILEGES ON *.* TO '${ADMIN_USER}'@'%' WITH GRANT OPTION;
CREATE USER '${REPL_USER}'@'%' IDENTIFIED BY '${REPL_PASSWORD}';
GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '${REPL_USER}'@'%';
CREATE USER '${APP_USER}'@'%' IDENTIFIED BY '${APP_PASSWORD}';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX ON \`hatest\`.* TO '${APP_USER}'@'%';
`;

let versionCache: string | undefined;

/** The installed server's version, e.g. "10.11.19-MariaDB-0+deb12u1". */
export async function mariadbVersion(): Promise<string> {
  if (!versionCache) {
    const { stdout } = await execa(MARIADBD, ['--version']);
    const m = /Ver\s+(\S+)/.exec(stdout);
    if (!m?.[1]) throw new Error(`cannot parse '${MARIADBD} --version': ${stdout}`);
    versionCache = m[1];
  }
  return versionCache;
}

export function templateRoot(): string {
  return process.env.HA_LAB_TEMPLATE_ROOT ?? '/var/tmp';
}

/** Returns the template datadir, building it first when it is not cached yet. */
export async function ensureTemplate(): Promise<string> {
  const version = (await mariadbVersion()).replace(/[^A-Za-z0-9.+_-]/g, '_');
  const root = templateRoot();
  const dir = path.join(root, `ha-lab-template-${version}-f${TEMPLATE_FORMAT}`);
  const ready = () => fs.existsSync(path.join(dir, 'READY'));
  if (ready()) return path.join(dir, 'data');
  await withFileLock(path.join(root, 'ha-lab-template.lock'), async () => {
    if (ready()) return;
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    try {
      await buildTemplate(tmp);
      fs.rmSync(dir, { recursive: true, force: true });
      fs.renameSync(tmp, dir);
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
  });
  return path.join(dir, 'data');
}

async function buildTemplate(tmp: string): Promise<void> {
  const data = path.join(tmp, 'data');
  const log = path.join(tmp, 'build.log');
  try {
    await execa(
      'mariadb-install-db',
      ['--no-defaults', '--user=root', `--datadir=${data}`, '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve', ...innodbArgs()],
      { all: true },
    );
  } catch (e) {
    const out = (e as { all?: string }).all ?? String(e);
    throw new Error(`lab template: mariadb-install-db failed:\n${out.split('\n').slice(-20).join('\n')}`);
  }

  // Start it once without networking (and without binary log, so the template holds no binlog
  // or GTID) to create the lab's users.
  const sock = path.join(tmp, 'bootstrap.sock');
  const errLog = path.join(tmp, 'bootstrap.err');
  const out = fs.openSync(log, 'a');
  const child = spawn(
    MARIADBD,
    [
      '--no-defaults',
      '--user=root',
      `--datadir=${data}`,
      `--socket=${sock}`,
      `--pid-file=${path.join(tmp, 'bootstrap.pid')}`,
      `--log-error=${errLog}`,
      '--skip-networking',
      '--skip-log-bin',
      '--skip-name-resolve',
      ...innodbArgs(),
    ],
    { stdio: ['ignore', out, out] },
  );
  fs.closeSync(out);
  let exited = false;
  child.on('exit', () => (exited = true));
  const ref = await waitFor(
    'the template bootstrap server',
    async () => {
      if (exited) throw new StopWaiting(`mariadbd exited:\n${tail(errLog)}`);
      if (!fs.existsSync(sock)) return undefined;
      await execa('mariadb', ['--no-defaults', '-S', sock, '-uroot', '-e', 'SELECT 1']);
      return procRef(child.pid!);
    },
    60_000,
    50,
  );
  try {
    await execa('mariadb', ['--no-defaults', '-S', sock, '-uroot'], { input: TEMPLATE_SQL });
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`lab template: creating users failed: ${(e as Error).message}`);
  }
  child.kill('SIGTERM');
  if (!(await waitGone([ref], 60_000))) {
    child.kill('SIGKILL');
    throw new Error(`lab template: bootstrap server did not shut down:\n${tail(errLog)}`);
  }
  await sleep(0);
  for (const f of ['bootstrap.sock', 'bootstrap.pid']) fs.rmSync(path.join(tmp, f), { force: true });
  fs.writeFileSync(path.join(tmp, 'READY'), `${new Date().toISOString()}\n`);
}
