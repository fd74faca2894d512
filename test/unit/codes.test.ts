// The registry of message codes (src/core/codes.ts) stays honest: docs/codes.md lists every code
// with its meaning, and every registered code is emitted somewhere in src/ (a code nobody emits is
// a promise to scripts that nothing keeps).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ALL_CODES, codeMeaning, isMessageCode } from '../../src/core/codes.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('message codes', () => {
  it('docs/codes.md lists every code with its meaning, and no other', () => {
    const doc = readFileSync(join(root, 'docs', 'codes.md'), 'utf8');
    const rows = new Map([...doc.matchAll(/^\| `([A-Z0-9_]+)` \| (.*) \|$/gm)].map((m) => [m[1]!, m[2]!]));
    assert.deepEqual(
      ALL_CODES.filter((c) => rows.get(c) !== codeMeaning(c)),
      [],
      'missing or stale rows',
    );
    assert.deepEqual(
      [...rows.keys()].filter((c) => !isMessageCode(c)),
      [],
      'rows for codes that do not exist',
    );
  });

  it('every registered code is emitted somewhere in src/', () => {
    const sources = tsFiles(join(root, 'src'))
      .filter((f) => !f.endsWith(join('core', 'codes.ts')))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const unused = ALL_CODES.filter((c) => !new RegExp(`'${c}'|Code\\.${c}\\b`).test(sources));
    assert.deepEqual(unused, []);
  });
});
