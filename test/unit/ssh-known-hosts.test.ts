import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { hostMatches, knownHostsName, parseKnownHosts, verifyHostKey } from '../../src/ssh/known-hosts.js';
import { shellQuote } from '../../src/ssh/quote.js';
import { parseProbeOutput, probeScript } from '../../src/ssh/probe.js';
import { classifySshError } from '../../src/ssh/errors.js';

function blob(type: string, body: string): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, Buffer.from(body)]);
}

const ED = blob('ssh-ed25519', 'key-one');
const ED2 = blob('ssh-ed25519', 'key-two');
const RSA = blob('ssh-rsa', 'rsa-key');

describe('known_hosts', () => {
  it('names non-22 ports in brackets, as OpenSSH', () => {
    assert.equal(knownHostsName('10.0.0.1', 22), '10.0.0.1');
    assert.equal(knownHostsName('10.0.0.1', 2222), '[10.0.0.1]:2222');
  });

  it('matches plain, comma lists, wildcards and negations', () => {
    assert.ok(hostMatches('db1,10.0.0.1', '10.0.0.1'));
    assert.ok(hostMatches('10.0.0.*', '10.0.0.7'));
    assert.ok(!hostMatches('10.0.0.*,!10.0.0.7', '10.0.0.7'));
    assert.ok(!hostMatches('db1', 'db10'));
    assert.ok(hostMatches('DB1', 'db1'));
  });

  it('matches hashed host names (HashKnownHosts yes)', () => {
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update('10.0.0.5').digest('base64');
    const pattern = `|1|${salt.toString('base64')}|${hash}`;
    assert.ok(hostMatches(pattern, '10.0.0.5'));
    assert.ok(!hostMatches(pattern, '10.0.0.6'));
  });

  const file = [
    '# comment',
    '',
    `10.0.0.1 ssh-ed25519 ${ED.toString('base64')}`,
    `[10.0.0.2]:2222 ssh-ed25519 ${ED.toString('base64')} root@db2`,
    `@revoked 10.0.0.3 ssh-ed25519 ${ED2.toString('base64')}`,
    'garbage-line-without-key',
  ].join('\n');
  const entries = parseKnownHosts(file, '/x/known_hosts');

  it('parses entries with line numbers and skips malformed lines', () => {
    assert.equal(entries.length, 3);
    assert.equal(entries[0]!.line, 3);
    assert.equal(entries[2]!.marker, '@revoked');
  });

  it('gives match, mismatch, unknown and revoked verdicts', () => {
    assert.equal(verifyHostKey(entries, '10.0.0.1', 22, ED).kind, 'match');
    const mismatch = verifyHostKey(entries, '10.0.0.1', 22, ED2);
    assert.equal(mismatch.kind, 'mismatch');
    if (mismatch.kind === 'mismatch') assert.equal(mismatch.expected[0]!.line, 3);
    // another key type than the one recorded is unknown, not a mismatch (OpenSSH does the same)
    assert.equal(verifyHostKey(entries, '10.0.0.1', 22, RSA).kind, 'unknown');
    assert.equal(verifyHostKey(entries, '10.0.0.9', 22, ED).kind, 'unknown');
    assert.equal(verifyHostKey(entries, '10.0.0.2', 22, ED).kind, 'unknown', 'port 22 must not match a [host]:2222 entry');
    assert.equal(verifyHostKey(entries, '10.0.0.2', 2222, ED).kind, 'match');
    assert.equal(verifyHostKey(entries, '10.0.0.3', 22, ED2).kind, 'revoked');
  });
});

describe('shell quoting', () => {
  it('leaves safe words alone and single-quotes the rest', () => {
    assert.equal(shellQuote('/var/lib/mysql/mysql-bin.000001'), '/var/lib/mysql/mysql-bin.000001');
    assert.equal(shellQuote(''), "''");
    assert.equal(shellQuote('a b'), "'a b'");
    assert.equal(shellQuote("it's; rm -rf /"), `'it'\\''s; rm -rf /'`);
    assert.equal(shellQuote('$(reboot)'), "'$(reboot)'");
  });
});

describe('host probe', () => {
  it('builds one script and parses its tagged output, ignoring rc-file noise', () => {
    const script = probeScript({ remoteWorkdir: '/var/tmp/x y', indexFiles: ['/d/mysql-bin.index'], binlogDirs: ['/logs'], logFiles: ['/d/a.000001'], timeoutMs: 1000 });
    assert.match(script, /'\/var\/tmp\/x y'/);
    const out = [
      'pyenv: noise from .bashrc',
      'HA:user root',
      'HA:tool /usr/bin/mariadb-binlog\tmariadb-binlog Ver 3.5 for debian-linux-gnu',
      'HA:workdir ok',
      'HA:index /d/mysql-bin.index\t/d/mysql-bin.000003\tfe62696e',
      'HA:dir /logs\t\tunreadable',
      'HA:file 0\t0000',
    ].join('\n');
    const p = parseProbeOutput(out, 12, ['/d/a.000001']);
    assert.equal(p.user, 'root');
    assert.deepEqual(p.binlogTool, { path: '/usr/bin/mariadb-binlog', version: 'mariadb-binlog Ver 3.5 for debian-linux-gnu' });
    assert.equal(p.workdirWritable, true);
    assert.equal(p.binlogReads[0]!.magicOk, true);
    assert.equal(p.binlogReads[0]!.file, '/d/mysql-bin.000003');
    assert.equal(p.binlogReads[1]!.magicOk, false);
    assert.match(p.binlogReads[1]!.error!, /directory \/logs is missing or not readable/);
    assert.equal(p.logFiles.get('/d/a.000001'), false);
  });

  it('reports a workdir failure with the shell error', () => {
    const p = parseProbeOutput('HA:user u\nHA:workdir fail mkdir: cannot create directory: Permission denied', 1);
    assert.equal(p.workdirWritable, false);
    assert.match(p.workdirError!, /Permission denied/);
    assert.equal(p.binlogTool, undefined);
  });
});

describe('ssh error classification', () => {
  it('tells apart refused, unreachable, timeout, auth and dns', () => {
    assert.equal(classifySshError({ code: 'ECONNREFUSED' }), 'refused');
    assert.equal(classifySshError({ code: 'EHOSTUNREACH' }), 'unreachable');
    assert.equal(classifySshError({ level: 'client-timeout' }), 'timeout');
    assert.equal(classifySshError({ level: 'client-authentication' }), 'auth');
    assert.equal(classifySshError({ code: 'ENOTFOUND' }), 'dns');
    assert.equal(classifySshError(new Error('x')), 'other');
  });
});
