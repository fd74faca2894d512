// The layering of src/ (docs/ARCHITECTURE.md), checked on the sources: no folder imports a folder
// that imports it back, the binlog engine is a leaf, the building blocks know nothing of the
// operations, and every src/cli file stays a thin shell.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// dist/test/unit → the repository root.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const src = join(root, 'src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** folder → folders it imports (relative imports only, type imports included). */
function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of tsFiles(src)) {
    const from = relative(src, file).split('/')[0]!;
    const deps = graph.get(from) ?? new Set<string>();
    graph.set(from, deps);
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:from\s+|import\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = relative(src, resolve(dirname(file), m[1]!));
      const to = target.split('/')[0]!;
      if (to !== from && !target.startsWith('..')) deps.add(to);
    }
  }
  return graph;
}

describe('architecture: the layers of src/', () => {
  const graph = folderGraph();

  it('no folder imports a folder that imports it back (directly or through others)', () => {
    const cycles: string[] = [];
    const reach = (start: string): Set<string> => {
      const seen = new Set<string>();
      const todo = [...(graph.get(start) ?? [])];
      while (todo.length) {
        const f = todo.pop()!;
        if (seen.has(f)) continue;
        seen.add(f);
        todo.push(...(graph.get(f) ?? []));
      }
      return seen;
    };
    for (const folder of graph.keys())
      if (reach(folder).has(folder)) cycles.push(`${folder} → ${[...graph.get(folder)!].filter((d) => reach(d).has(folder)).join(', ')} → … → ${folder}`);
    assert.deepEqual(cycles, []);
  });

  it('the binlog engine is a leaf: it imports no other folder of src/', () => {
    assert.deepEqual([...(graph.get('binlog') ?? [])], []);
  });

  it('the building blocks (config, mysql, ssh, binlog) and the core import no operation and not the CLI', () => {
    const operations = new Set(['cli', 'manager', 'phases', 'switch', 'purge', 'checks']);
    const wrong: string[] = [];
    for (const block of ['config', 'mysql', 'ssh', 'binlog', 'core']) {
      for (const d of graph.get(block) ?? []) if (operations.has(d)) wrong.push(`${block} → ${d}`);
    }
    assert.deepEqual(wrong, []);
  });

  it('every src/cli file is a thin shell (under 250 lines)', () => {
    const long = tsFiles(join(src, 'cli'))
      .map((f) => ({ f: relative(root, f), lines: readFileSync(f, 'utf8').split('\n').length }))
      .filter((x) => x.lines >= 250)
      .map((x) => `${x.f}: ${x.lines} lines`);
    assert.deepEqual(long, []);
  });
});
