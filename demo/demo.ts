// The demo (npm run demo [-- --keep], after demo/demo.sh has installed and built): a 3-host lab,
// the checks a DBA runs first, `ha manager` started exactly as users are told to start it (nohup,
// through a shell, its log in a file), a write load on the master, the master's mysqld killed, the
// manager's phases shown live from its log, the failover report, and what the application saw:
// how long writes stopped, whether an acknowledged write was lost, whether the slaves are equal.
// Every step has a heading and a duration; a failed step ends the demo with exit 1 and says what
// failed. Ctrl-C tears the lab down. See docs/demo.md.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Chalk } from 'chalk';
import { CLEAR_LINE, isLiveTerminal, LiveLine } from '../src/core/live-line.js';
import { formatDuration } from '../src/core/report.js';
import { Lab, type WriteLoad, type WriteLoadResult } from '../test/lab/lab.js';
import { LogFollower } from '../test/lab/follow.js';
import { sleep, StopWaiting, waitFor } from '../test/lab/proc.js';
import { checksums, declaredDeadAt, newMasterInLog, rowsOn, waitReplicatingFrom } from '../test/e2e/manager-harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tty = isLiveTerminal(process.stdout);
const c = new Chalk({ level: process.stdout.isTTY && !process.env.NO_COLOR ? 1 : 0 });
const keep = process.argv.includes('--keep');

/** A step that cannot go on: the demo stops, tears down and exits 1 with this message. */
class StepFailed extends Error {}

interface StepResult {
  title: string;
  ok: boolean;
  ms: number;
  note?: string;
}
const results: StepResult[] = [];
const problems: string[] = [];
let stepNo = 0;
const STEPS = 11;

/** title: the heading; short: its line in the summary. */
async function step<T>(title: string, short: string, fn: () => Promise<T>): Promise<T> {
  stepNo++;
  process.stdout.write(`\n${c.bold.cyan(`━━ ${stepNo}/${STEPS}  ${title}`)}\n`);
  const t0 = Date.now();
  try {
    const out = await fn();
    const ms = Date.now() - t0;
    results.push({ title: short, ok: true, ms });
    process.stdout.write(`${c.green('✔')} ${title} ${c.dim(`(${formatDuration(ms)})`)}\n`);
    return out;
  } catch (e) {
    const ms = Date.now() - t0;
    const msg = e instanceof Error ? e.message : String(e);
    results.push({ title: short, ok: false, ms, note: msg });
    process.stdout.write(`${c.red('✖')} ${title} ${c.red('FAILED')}: ${msg} ${c.dim(`(${formatDuration(ms)})`)}\n`);
    throw new StepFailed(`step ${stepNo} (${title}): ${msg}`);
  }
}

/** A check whose failure is reported but does not stop the demo (the figures are still shown). */
function check(ok: boolean, what: string, detail: string): void {
  process.stdout.write(`  ${ok ? c.green('✔') : c.red('✖')} ${what}: ${ok ? detail : c.red(detail)}\n`);
  if (!ok) problems.push(`${what}: ${detail}`);
}

/** A time relative to the kill, in words. */
function relative(ms: number): string {
  return ms < 0 ? `${formatDuration(-ms)} before the kill` : `${formatDuration(ms)} after the kill`;
}

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Runs a command through the shell in `cwd`, its output straight to this terminal. */
function run(cmdline: string, cwd: string): Promise<number> {
  say(c.bold(`$ ${cmdline}`));
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', cmdline], { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/** A manager log line for the screen: the time of day only, phase headings bold, errors red. */
function showLogLine(line: string): string {
  const m = /^\d{4}-\d\d-\d\d (\d\d:\d\d:\d\d\.\d{3}) (.*)$/.exec(line);
  const bar = c.dim('  manager.log │ ');
  if (!m) return `${bar}${line.startsWith('* Phase') ? c.bold(line) : line}`;
  const body = m[2]!;
  const paint = body.startsWith('ERROR:') ? c.red : body.startsWith('WARNING:') ? c.yellow : (s: string) => s;
  return `${bar}${c.dim(m[1]!)} ${paint(body)}`;
}

interface Manager {
  pid: number;
  exited: Promise<number>;
  exitCode?: number;
  shell: ChildProcess;
}

async function main(): Promise<number> {
  const started = Date.now();
  let lab: Lab | undefined;
  let manager: Manager | undefined;
  let load: WriteLoad | undefined;
  let follower: LogFollower | undefined;
  const live = tty ? new LiveLine(process.stdout, { paint: c.cyan }) : undefined;
  // Lines from the manager's log go above the status line, if there is one.
  const print = (line: string) => (live ? live.print(`${line}\n`) : say(line));

  // Ctrl-C: stop the manager (not our child: it runs in its own session, as after nohup … &), then
  // the lab's exit handler tears the lab down (registered before Lab.up, so this runs first).
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    live?.stop();
    process.stdout.write(`\n${c.yellow(`${sig}: stopping the manager and tearing the lab down…`)}\n`);
    if (manager && manager.exitCode === undefined) {
      try {
        process.kill(manager.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    if (lab && keep) process.stdout.write(`${c.yellow('(--keep is ignored after an interruption)')}\n`);
    process.exit(130); // the lab's 'exit' handler removes it (synchronously)
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let ok = false;
  let failure: string | undefined;
  const figures: string[] = [];
  try {
    // 1. The lab.
    lab = await step('Lab: 3 hosts (network namespaces, each with sshd and MariaDB; host 1 the master)', 'lab up (3 hosts)', async () => {
      const l = await Lab.up({ hosts: 3, name: 'demo' });
      l.writeConfig({ serverDefault: { ping_interval: 1 } });
      // bin/ha as users type it, from the lab directory: bin → this checkout's bin (a symlink:
      // the lab's teardown removes the link, never what it points to).
      fs.symlinkSync(path.join(ROOT, 'bin'), path.join(l.dir, 'bin'));
      for (const h of l.hosts) say(`  server${h.index}  ${h.ip}:${h.mysqlPort}  ${h.index === 1 ? c.bold('master') : `slave of server1`}`);
      say(`  lab ${l.id} in ${l.dir}; config ${path.join(l.dir, 'app1.cnf')} (ping_interval=1)`);
      return l;
    });
    const L = lab;
    const dir = L.dir;
    say(c.dim(`\n(the commands below run in ${dir}, where bin → ${path.join(ROOT, 'bin')})`));

    // 2–3. The checks a DBA runs before starting the manager: their real output.
    await step('ha check-ssh: can the manager reach every host over SSH?', 'ha check-ssh', async () => {
      const code = await run('bin/ha check-ssh --conf app1.cnf', dir);
      if (code !== 0) throw new Error(`exit ${code}`);
    });
    await step('ha check-repl: is replication ready for a failover?', 'ha check-repl', async () => {
      const code = await run('bin/ha check-repl --conf app1.cnf', dir);
      if (code !== 0) throw new Error(`exit ${code}`);
    });

    // 4. The manager, as the README starts it. The shell also waits for it, to learn its exit code.
    const logFile = path.join(dir, 'manager.log');
    let fol!: LogFollower; // starts once the manager's pid is shown
    const mgr = await step('ha manager, started in the background as users start it', 'ha manager started, monitoring', async () => {
      say(c.bold('$ nohup bin/ha manager --conf app1.cnf > manager.log 2>&1 &'));
      const shell = spawn('sh', ['-c', 'nohup bin/ha manager --conf app1.cnf > manager.log 2>&1 & echo $!; wait $!'], {
        cwd: dir,
        detached: true, // its own session, like a job started from an interactive shell
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const m: Manager = {
        pid: 0,
        shell,
        exited: new Promise((resolve) => shell.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)))),
      };
      void m.exited.then((code) => (m.exitCode = code));
      manager = m;
      let out = '';
      shell.stdout.on('data', (d: Buffer) => (out += String(d)));
      m.pid = await waitFor('the shell to print the manager pid', () => (/^\d+\n/.test(out) ? Number.parseInt(out, 10) : false), 5000, 10);
      say(c.dim(`  manager pid ${m.pid}; following manager.log:`));
      fol = new LogFollower(logFile, { intervalMs: 50, onLine: (line) => print(showLogLine(line)) });
      follower = fol;
      await waitFor(
        'the manager to monitor the master ("monitoring master" in manager.log)',
        () => {
          if (/monitoring master /.test(fol.text())) return true;
          if (m.exitCode !== undefined) throw new StopWaiting(`the manager exited with code ${m.exitCode} before monitoring`);
          return false;
        },
        30_000,
        50,
      );
      fol.poll();
      return m;
    });

    // 5. The application: numbered inserts as an unprivileged user, following the new master once
    // the manager's log names it (read_only=0 on serverN), as test/e2e's Scenario does.
    const currentMaster = () => newMasterInLog(fol.text()) ?? 1;
    const w = await step('Write load on the master (numbered INSERTs, every acknowledged one recorded)', 'write load on the master', async () => {
      const wl = L.startWriteLoad({ target: () => L.host(currentMaster()), connectTimeoutMs: 500, queryTimeoutMs: 2000, retryDelayMs: 20, maxDurationMs: 120_000 });
      load = wl;
      await wl.waitForAcks(300, 15_000);
      say(`  ${wl.ackedCount} writes acknowledged by server1 so far (about 200/s, table hatest.${wl.table})`);
      return wl;
    });

    // 6–7. The fault, then the failover as the manager logs it.
    let faultAt = 0;
    await step('Kill the master: kill -9 of mysqld on server1', 'kill -9 mysqld on server1', async () => {
      faultAt = Date.now();
      await L.killMysqld(1);
      say(`  mysqld on server1 (${L.host(1).ip}) killed; last acknowledged write before it: #${w.lastAck?.n ?? '?'}`);
    });
    const exitCode = await step('Failover, live from manager.log', 'failover (kill → manager exit)', async () => {
      live?.start('Waiting for the manager to declare the master dead');
      let shownPhase = '';
      const phaseTicker = setInterval(() => {
        const phases = [...fol.text().matchAll(/^\* Phase (.*)$/gm)];
        const last = phases.at(-1)?.[1];
        if (last && last !== shownPhase) {
          shownPhase = last;
          live?.start(`Phase ${last}`);
        }
      }, 50);
      try {
        const code = await Promise.race([mgr.exited, sleep(60_000).then(() => -1)]);
        fol.stop();
        if (code === -1) throw new Error('the manager did not finish the failover within 60 s');
        return code;
      } finally {
        clearInterval(phaseTicker);
        live?.stop();
      }
    }).then((code) => {
      const detected = declaredDeadAt(fol.text());
      say(`  manager exited with code ${code}${detected ? `; master declared dead ${formatDuration(detected - faultAt)} after the kill` : ''}`);
      if (detected) figures.push(`master declared dead ${formatDuration(detected - faultAt)} after the kill`);
      return code;
    });
    if (exitCode !== 0) problems.push(`ha manager exited with code ${exitCode} (0 = failover completed)`);

    // 8. The report, as a DBA reads it the next morning.
    await step('The failover report: bin/ha report', 'ha report', async () => {
      const code = await run('bin/ha report --conf app1.cnf', dir);
      const json = JSON.parse(fs.readFileSync(path.join(dir, 'manager', 'app1.failover.report.json'), 'utf8')) as {
        totalMs: number;
        newMasterWritableAfterMs?: number;
        newMaster?: string;
      };
      figures.push(
        `failover ${formatDuration(json.totalMs)} from detection (new master writable after ${json.newMasterWritableAfterMs !== undefined ? formatDuration(json.newMasterWritableAfterMs) : 'n/a'})`,
      );
      if (code !== 0) throw new Error(`exit ${code} (the report says the failover did not complete)`);
    });

    // 9–10. What the application saw, and the data.
    const newMaster = newMasterInLog(fol.text());
    if (!newMaster) throw new StepFailed('the manager log names no new master ("read_only=0 on serverN")');
    const slaves = L.hosts.map((h) => h.index).filter((h) => h !== 1 && h !== newMaster);
    let res!: WriteLoadResult;
    await step(`The application's view: writes through the failover (new master server${newMaster})`, 'writes through the failover', async () => {
      await w.waitForAcks(w.ackedCount + 100, 15_000);
      res = await w.stop();
      const rows = await rowsOn(L, newMaster, res.table);
      const newId = L.host(newMaster).serverId;
      const firstNew = res.acked.find((a) => a.at >= faultAt && rows.get(a.n) === newId);
      const lost = await res.verifyOn(newMaster);
      const gap = res.longestGap;
      say(`  ${res.acked.length} writes acknowledged in ${formatDuration(res.stoppedAt - res.startedAt)}; ${res.errors} failed attempts (refused or cut off during the failover)`);
      check(!!firstNew, 'kill → first acknowledged write on the new master', firstNew ? `${formatDuration(firstNew.at - faultAt)} (write #${firstNew.n})` : 'none');
      check(true, 'longest time without an acknowledged write', `${formatDuration(res.longestGapMs)} (${relative(gap.from - faultAt)} to ${relative(gap.to - faultAt)})`);
      check(
        lost.length === 0,
        `acknowledged writes missing on the new master (of ${res.acked.length})`,
        lost.length === 0 ? '0 lost' : `${lost.length} lost: #${lost.slice(0, 20).join(', #')}${lost.length > 20 ? ' …' : ''}`,
      );
      if (firstNew) figures.push(`writes resumed ${formatDuration(firstNew.at - faultAt)} after the kill`);
      figures.push(`longest write gap ${formatDuration(res.longestGapMs)}`, `${lost.length} of ${res.acked.length} acknowledged writes lost`);
    });
    await step(
      `Slaves equal to the new master (CHECKSUM TABLE on server${newMaster}, ${slaves.map((s) => `server${s}`).join(', ')})`,
      'slaves equal to the new master',
      async () => {
        await waitReplicatingFrom(L, slaves, newMaster);
        await L.waitForSlaveSync(slaves, 30_000);
        const tables = (await L.sql(newMaster, "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'hatest' ORDER BY 1")).map((r) => String(r.t));
        const want = await checksums(L, newMaster, tables);
        say(`  server${newMaster} (new master): ${JSON.stringify(want)}`);
        let equal = true;
        for (const h of slaves) {
          const got = await checksums(L, h, tables);
          const same = JSON.stringify(got) === JSON.stringify(want);
          equal &&= same;
          check(same, `server${h} replicates from server${newMaster}`, same ? 'same checksums and row counts' : `differs: ${JSON.stringify(got)}`);
        }
        figures.push(equal ? 'slaves equal to the new master' : 'slaves DIFFER from the new master');
      },
    );

    // 11. The manager's state afterwards: it exits after a failover, as MHA's does.
    await step('ha status', 'ha status', async () => {
      const code = await run('bin/ha status --conf app1.cnf', dir);
      if (code !== 2) throw new Error(`exit ${code}; after a completed failover the manager has exited: 2 (NOT_RUNNING) expected`);
      say(c.dim('  exit 2 = NOT_RUNNING: the manager exits after a failover (as MHA does); start it again for the new topology'));
    });
    ok = problems.length === 0;
  } catch (e) {
    failure = e instanceof StepFailed ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e);
  } finally {
    live?.stop();
    follower?.stop();
  }

  // Summary, then the lab: torn down, or left up with directions.
  say(`\n${c.bold.cyan('━━ Summary')}`);
  for (const r of results) say(`  ${r.ok ? c.green('✔') : c.red('✖')} ${r.title.padEnd(34)} ${c.dim(formatDuration(r.ms).padStart(8))}`);
  if (figures.length) say(`\n  ${c.bold('Key figures:')} ${figures.join('; ')}.`);
  for (const p of problems) say(`  ${c.red('✖')} ${p}`);
  if (failure) say(`  ${c.red('✖')} ${failure}`);

  load?.abort();
  if (manager && manager.exitCode === undefined) {
    // Still running (a step failed before the failover): stop it as `ha stop` does.
    try {
      process.kill(manager.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    await Promise.race([manager.exited, sleep(5000)]);
  }
  if (lab && keep) {
    lab.detach();
    const nm = newMasterInLog(follower?.text() ?? '');
    const h = lab.host(nm ?? 1);
    say(`\n${c.bold('The lab is left up (--keep).')} lab ${lab.id} "${lab.name}", ${lab.subnet}; server1's mysqld is dead${nm ? `, server${nm} is the master` : ''}.`);
    say(`  cd ${lab.dir}                          # app1.cnf, manager.log, manager/ (the manager's files)`);
    say(`  config:     ${path.join(lab.dir, 'app1.cnf')}`);
    say(`  ha:         bin/ha check-repl --conf app1.cnf      (from ${lab.dir}; it reports server1 down until`);
    say(`              you remove [server1] from app1.cnf, as after a real failover)`);
    say(`  ssh:        ssh -i ${lab.sshKeyFile} -o UserKnownHostsFile=${lab.knownHostsFile} root@${h.ip}`);
    say(`  mysql:      mariadb --defaults-file=${h.cnfFile}      (root on server${h.index} over its socket)`);
    say(`              mariadb -h ${h.ip} -P ${h.mysqlPort} -u ha -p       (over TCP; the password is in app1.cnf)`);
    say(`  tear down:  cd ${ROOT} && node dist/test/lab/cli.js down ${lab.id}`);
  } else if (lab) {
    const t = Date.now();
    await lab.down();
    say(`\nLab ${lab.id} torn down ${c.dim(`(${formatDuration(Date.now() - t)})`)}.`);
  }
  const total = formatDuration(Date.now() - started);
  if (ok) say(`\n${c.green.bold(`Demo completed in ${total}: the master died, ha failed over, nothing acknowledged was lost.`)}`);
  else say(`\n${c.red.bold(`Demo FAILED after ${total}:`)} ${[...problems, ...(failure ? [failure] : [])].join('; ')}`);
  return ok ? 0 : 1;
}

// If the demo is killed between a status line's draw and its clear, leave the terminal tidy.
process.on('exit', () => {
  if (tty) process.stdout.write(CLEAR_LINE);
});

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`demo: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(70);
  },
);
