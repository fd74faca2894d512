// Hook scripts run on the manager host with MHA's arguments. A configured script that is missing
// or not executable would only be discovered in the middle of a failover, so check-repl fails on it.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { ManagerSettings } from '../config/types.js';

export interface HookCheck {
  parameter: string;
  command: string;
  path?: string;
  problem?: 'missing' | 'not-executable';
}

const HOOK_PARAMETERS: [keyof ManagerSettings, string][] = [
  ['masterIpFailoverScript', 'master_ip_failover_script'],
  ['masterIpOnlineChangeScript', 'master_ip_online_change_script'],
  ['shutdownScript', 'shutdown_script'],
  ['reportScript', 'report_script'],
  ['secondaryCheckScript', 'secondary_check_script'],
  ['initConfLoadScript', 'init_conf_load_script'],
];

/** The program a hook value runs: its first word (MHA values may carry arguments, e.g. masterha_secondary_check -s host). */
export function hookProgram(command: string): string {
  return command.trim().split(/\s+/)[0] ?? '';
}

function resolveProgram(program: string, pathEnv: string): string | undefined {
  if (program.includes('/')) return program;
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, program);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      /* not in this dir */
    }
  }
  return undefined;
}

export function checkHooks(manager: ManagerSettings, pathEnv = process.env.PATH ?? ''): HookCheck[] {
  const out: HookCheck[] = [];
  for (const [field, parameter] of HOOK_PARAMETERS) {
    const command = manager[field];
    if (typeof command !== 'string' || !command.trim()) continue;
    const path = resolveProgram(hookProgram(command), pathEnv);
    if (!path) {
      out.push({ parameter, command, problem: 'missing' });
      continue;
    }
    let isFile = false;
    try {
      isFile = statSync(path).isFile();
    } catch {
      isFile = false;
    }
    if (!isFile) {
      out.push({ parameter, command, path, problem: 'missing' });
      continue;
    }
    try {
      accessSync(path, constants.X_OK);
      out.push({ parameter, command, path });
    } catch {
      out.push({ parameter, command, path, problem: 'not-executable' });
    }
  }
  return out;
}
