// The topology as a tree, like MHA's check_repl prints it, with each slave's state on its line.
import type { ChalkInstance } from 'chalk';
import type { AppConfig } from '../config/types.js';
import type { Topology } from './topology.js';

export function renderTree(config: AppConfig, t: Topology, c: ChalkInstance): string {
  const byId = new Map(config.servers.map((s) => [s.id, s]));
  const label = (id: string) => {
    const s = byId.get(id);
    return s ? `${id} ${s.hostname}:${s.port}` : id;
  };
  const lines: string[] = [];
  const children = (parent: string | undefined) => t.slaves.filter((s) => s.masterId === parent);
  const walk = (id: string, indent: string) => {
    for (const s of children(id)) {
      const threads = s.io === 'Yes' && s.sql ? c.green('IO/SQL running') : c.red(`IO ${s.io}, SQL ${s.sql ? 'Yes' : 'No'}`);
      const lag = s.secondsBehindMaster === null ? '' : `, ${s.secondsBehindMaster} s behind`;
      const tags = [t.candidate?.id === s.id ? c.green('candidate') : '', byId.get(s.id)?.noMaster ? 'no_master' : ''].filter(Boolean).join(', ');
      lines.push(`${indent} +--${label(s.id)} (${threads}, read ${s.readPosition}${lag})${tags ? ` [${tags}]` : ''}`);
      walk(s.id, `${indent}    `);
    }
  };
  if (t.masterId) {
    lines.push(`${c.bold(label(t.masterId))} (current master)`);
    walk(t.masterId, '');
  }
  const orphans = t.slaves.filter((s) => !s.masterId || !byId.has(s.masterId) || (s.masterId !== t.masterId && !t.slaves.some((x) => x.id === s.masterId)));
  for (const s of orphans) if (s.masterId !== t.masterId) lines.push(`${c.red(label(s.id))} (replicates from a server outside the configuration)`);
  for (const id of t.deadIds) lines.push(`${c.red(label(id))} (${c.red('not reachable')})`);
  return lines.join('\n');
}
