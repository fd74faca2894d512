// The manager's log on a terminal and elsewhere: on a TTY the phase in progress is a status line
// redrawn in place, with the finished lines above it; on a file or pipe (nohup) the lines are plain
// and the e2e harness parses them (phase durations, "is dead", the report).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openManagerLog } from '../../src/cli/manager.js';
import { levelPasses, ManagerLog } from '../../src/core/log.js';
import { fakeConfig, fakeServer } from './fakes.js';
import { CLEAR_LINE } from '../../src/core/live-line.js';
import { declaredDeadAt, phaseTimes, reportOf } from '../e2e/manager-harness.js';

/** Collects what is written; with tty, it claims to be an 80-column terminal. */
class FakeStream extends Writable {
  chunks: string[] = [];
  isTTY?: boolean;
  columns?: number;
  constructor(tty: boolean) {
    super();
    if (tty) {
      this.isTTY = true;
      this.columns = 80;
    }
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(String(chunk));
    cb();
  }
  get text(): string {
    return this.chunks.join('');
  }
}

/** What a terminal shows: CLEAR_LINE erases the line being written, "\n" ends it. */
function screen(text: string): { lines: string[]; current: string } {
  const lines: string[] = [];
  let current = '';
  for (let i = 0; i < text.length;) {
    if (text.startsWith(CLEAR_LINE, i)) {
      current = '';
      i += CLEAR_LINE.length;
    } else if (text[i] === '\n') {
      lines.push(current);
      current = '';
      i++;
    } else {
      current += text[i++];
    }
  }
  return { lines, current };
}

const stamp = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} /;
const unstamped = (lines: string[]) => lines.map((l) => l.replace(stamp, ''));

/** The same failover story told to a log. */
async function story(log: ManagerLog, inPhase: (status: () => void) => Promise<void>): Promise<void> {
  log.info('MONITORING', 'monitoring master 10.0.0.11:3306 (server1)', { server: 'server1' });
  log.status('Monitoring master server1');
  log.error('MASTER_DEAD', 'master 10.0.0.11:3306 is dead: starting the failover', { server: 'server1' });
  log.phaseStart('3 Master recovery');
  log.info('DIFF_APPLIED', 'applying the diff to server2');
  await inPhase(() => undefined);
  log.phaseEnd('3 Master recovery', true, 412);
  log.phaseStart('6 Report');
  log.info('REPORT', '----- Failover Report -----');
  log.info('REPORT', 'Total from detection: 2.31 s.');
  log.phaseEnd('6 Report', true, 3);
  log.close();
}

describe('manager log', () => {
  it('on a terminal: a status line with the phase and its elapsed time, redrawn in place; finished lines above it', async () => {
    const out = new FakeStream(true);
    const log = new ManagerLog({ format: 'human', out, color: false, liveIntervalMs: 20 });
    let statusWhileRunning = '';
    let redraws = 0;
    await story(log, async () => {
      const before = out.chunks.length;
      await sleep(150);
      redraws = out.chunks.slice(before).filter((c) => c.startsWith(CLEAR_LINE) && c.includes('Phase 3 Master recovery …')).length;
      statusWhileRunning = screen(out.text).current;
    });
    assert.match(statusWhileRunning, /^Phase 3 Master recovery … \d+ ms$/, 'the status line names the phase and its elapsed time');
    assert.ok(Number(/(\d+) ms$/.exec(statusWhileRunning)![1]) >= 100, `elapsed time grows while the phase runs: ${statusWhileRunning}`);
    assert.ok(redraws >= 3, `the status line is redrawn while the phase runs (${redraws} redraws in 150 ms at 20 ms)`);
    assert.match(out.text, /Monitoring master server1 … /, 'monitoring has a status line too');

    const shown = screen(out.text);
    assert.equal(shown.current, '', 'after close() no status line is left on the screen');
    assert.deepEqual(unstamped(shown.lines), [
      'server1 monitoring master 10.0.0.11:3306 (server1)',
      'ERROR: server1 master 10.0.0.11:3306 is dead: starting the failover',
      '',
      '* Phase 3 Master recovery',
      'applying the diff to server2',
      'Phase 3 Master recovery completed (412 ms)',
      '',
      '* Phase 6 Report',
      '----- Failover Report -----',
      'Total from detection: 2.31 s.',
      'Phase 6 Report completed (3 ms)',
    ]);
    assert.ok(!/\x1b\[(?!2K)/.test(out.text), 'no colour codes with color: false, only line clearing');
  });

  it('in a file or pipe (nohup): plain lines, no control codes, that the e2e harness parses', async () => {
    const out = new FakeStream(false);
    const log = new ManagerLog({ format: 'human', out, liveIntervalMs: 20 });
    await story(log, () => sleep(60));
    assert.doesNotMatch(out.text, /[\r\x1b]/, 'no carriage returns or escape sequences in a log file');
    const lines = out.text.split('\n');
    assert.equal(lines.at(-1), '', 'ends with a newline');
    assert.ok(
      lines.filter((l) => l !== '' && !l.startsWith('* Phase')).every((l) => stamp.test(l)),
      `every log line starts with a timestamp:\n${out.text}`,
    );
    assert.deepEqual(phaseTimes(out.text), [
      { name: '3 Master recovery', ok: true, ms: 412 },
      { name: '6 Report', ok: true, ms: 3 },
    ]);
    assert.ok(declaredDeadAt(out.text)! <= Date.now(), 'the harness finds when the master was declared dead');
    assert.match(reportOf(out.text), /^----- Failover Report -----\n.*Total from detection: 2\.31 s\./s);
  });

  it('on a terminal with the same story, the lines are the file format (only the status line differs)', async () => {
    const tty = new FakeStream(true);
    const file = new FakeStream(false);
    await story(new ManagerLog({ format: 'human', out: tty, color: false, liveIntervalMs: 20 }), () => sleep(30));
    await story(new ManagerLog({ format: 'human', out: file, liveIntervalMs: 20 }), () => sleep(30));
    assert.deepEqual(unstamped(screen(tty.text).lines), unstamped(file.text.split('\n').slice(0, -1)));
  });

  it('fits the status line to the terminal width; a terminal that reports no width counts as 80 columns', async () => {
    const narrow = new FakeStream(true);
    narrow.columns = 30;
    const log = new ManagerLog({ format: 'human', out: narrow, color: false, liveIntervalMs: 1000 });
    log.phaseStart('4 Slaves recovery with a long name');
    assert.equal(screen(narrow.text).current, 'Phase 4 Slaves recovery with…', 'cut to 29 columns so it never wraps');
    log.close();
    const unsized = new FakeStream(true);
    unsized.columns = 0;
    const log2 = new ManagerLog({ format: 'human', out: unsized, color: false, liveIntervalMs: 1000 });
    log2.phaseStart('3 Master recovery');
    assert.match(screen(unsized.text).current, /^Phase 3 Master recovery … \d+ ms$/);
    log2.close();
  });

  it('--log-format json on a terminal stays one JSON object per line (no status line)', async () => {
    const out = new FakeStream(true);
    await story(new ManagerLog({ format: 'json', out, liveIntervalMs: 20 }), () => sleep(60));
    const lines = out.text.split('\n').filter((l) => l !== '');
    for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), `not JSON: ${JSON.stringify(l)}`);
    assert.ok(lines.some((l) => (JSON.parse(l) as { code: string }).code === 'PHASE_END'));
  });

  it('manager_log: the lines go to the file (created 0640, directory too), the status line stays on the terminal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ha-mlog-'));
    const file = join(dir, 'app1', 'manager.log');
    const terminal = new FakeStream(true);
    const tty = new FakeStream(true);
    await story(new ManagerLog({ format: 'human', file, terminal, color: false, liveIntervalMs: 20 }), () => sleep(60));
    await story(new ManagerLog({ format: 'human', out: tty, color: false, liveIntervalMs: 20 }), () => sleep(30));
    assert.equal(statSync(file).mode & 0o777, 0o640, 'manager_log is created 0640');
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(text, /[\r\x1b]/, 'no control codes or colour in the file');
    assert.deepEqual(unstamped(text.split('\n').slice(0, -1)), unstamped(screen(tty.text).lines), 'the file has every line the terminal would have');
    assert.deepEqual(
      phaseTimes(text).map((p) => p.name),
      ['3 Master recovery', '6 Report'],
      'the harness parses the file as it parses stdout',
    );
    assert.match(terminal.text, /Phase 3 Master recovery … /, 'the status line is on the terminal');
    assert.deepEqual(screen(terminal.text).lines, [], 'no log line on the terminal');

    // Appended to, as MHA (mode => 'append'): an earlier run's lines stay.
    writeFileSync(file, 'earlier run\n');
    const again = new ManagerLog({ format: 'json', file, terminal: new FakeStream(false) });
    again.warn('SIGNAL', 'SIGTERM received: stopping');
    again.close();
    const lines = readFileSync(file, 'utf8').split('\n');
    assert.equal(lines[0], 'earlier run');
    assert.equal((JSON.parse(lines[1]!) as { code: string }).code, 'SIGNAL', '--log-format json goes to the file too');
  });

  it('openManagerLog: manager_log set → one line on stdout naming the file; unset → the log is stdout', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ha-mlog-'));
    const base = fakeConfig([fakeServer(1)]);
    const file = join(dir, 'manager.log');
    const out = new FakeStream(false);
    const log = openManagerLog({ ...base, manager: { ...base.manager, managerLog: file, logLevel: 'info' } }, { logFormat: 'human' }, out);
    log.info('MONITORING', 'monitoring master');
    log.close();
    assert.match(out.text, new RegExp(`^${stamp.source.slice(1)}ha manager for ${base.appName}: logging to ${file.replace(/[.]/g, '\\.')} \\(manager_log, log_level info\\)\n$`));
    assert.match(readFileSync(file, 'utf8'), /monitoring master\n$/);

    const plain = new FakeStream(false);
    const log2 = openManagerLog({ ...base, manager: { ...base.manager, managerLog: undefined, logLevel: 'info' } }, { logFormat: 'human' }, plain);
    log2.info('MONITORING', 'monitoring master');
    log2.close();
    assert.match(plain.text, /^\S+ \S+ monitoring master\n$/, 'without manager_log the log is on stdout, as before');
  });

  it('log_level: lines below it are dropped (MHA min_level; notice keeps warnings and errors)', async () => {
    assert.equal(levelPasses('info', 'info'), true);
    assert.equal(levelPasses('debug', 'info'), false);
    assert.equal(levelPasses('info', 'notice'), false);
    assert.equal(levelPasses('warning', 'notice'), true);
    assert.equal(levelPasses('warning', 'error'), false);
    const out = new FakeStream(false);
    const log = new ManagerLog({ format: 'human', out, minLevel: 'warning' });
    await story(log, () => sleep(1));
    log.warn('PING_FAILED', 'ping 1 failed');
    assert.deepEqual(unstamped(out.text.split('\n').slice(0, -1)), ['ERROR: server1 master 10.0.0.11:3306 is dead: starting the failover', 'WARNING: ping 1 failed']);
    const dbg = new FakeStream(false);
    const debugLog = new ManagerLog({ format: 'human', out: dbg, minLevel: 'debug' });
    debugLog.debug('SQL_THREAD_WAIT', 'SHOW SLAVE STATUS');
    assert.match(dbg.text, /SHOW SLAVE STATUS/, 'log_level=debug writes debug lines');
  });
});
