// Summarizes a V8 .cpuprofile (node --cpu-prof): self and total time per function.
import * as fs from 'node:fs';
import * as path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileRow {
  /** "functionName file:line" (line 1-based, in the compiled .js). */
  fn: string;
  selfMs: number;
  selfPct: number;
  totalMs: number;
  totalPct: number;
}

export interface ProfileSummary {
  totalMs: number;
  rows: ProfileRow[];
}

function key(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const name = functionName || '(anonymous)';
  if (!url) return name;
  const file = url.includes('/dist/') ? url.slice(url.indexOf('/dist/') + 1) : path.basename(url);
  return `${name} ${file.replace(/^file:\/\//, '')}:${lineNumber + 1}`;
}

/** Top functions by self time; totals include callees (each function counted once per sample). */
export function summarizeCpuProfile(file: string, top = 20): ProfileSummary {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let all = 0;
  for (let i = 0; i < p.samples.length; i++) {
    // timeDeltas[i] is the time from sample i-1 to sample i; charge it to the sample that ends it.
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    all += dt;
    const id = p.samples[i]!;
    const node = byId.get(id);
    if (!node) continue;
    const k = key(node);
    self.set(k, (self.get(k) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (!n) break;
      const kk = key(n);
      if (seen.has(kk)) continue;
      seen.add(kk);
      total.set(kk, (total.get(kk) ?? 0) + dt);
    }
  }
  const rows = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, ms]) => ({ fn, selfMs: ms, selfPct: (100 * ms) / all, totalMs: total.get(fn) ?? ms, totalPct: (100 * (total.get(fn) ?? ms)) / all }));
  return { totalMs: all, rows };
}
