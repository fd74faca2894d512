// Fake hook scripts (master_ip_failover_script, shutdown_script, report_script,
// master_ip_online_change_script): every call is recorded with its arguments and environment; the
// outcome is scripted per parameter (and optionally per --command=…): an exit code, a timeout, a
// script that cannot be started, and an action to run while "the script runs" (e.g. a SIGTERM
// arriving, the writer address moving).
import type { HookResult } from '../../src/core/hook-run.js';

export type HookOutcome = number | 'timeout' | 'spawn-error';

export interface HookCall {
  parameter: string;
  value: string;
  args: string[];
  env: Record<string, string>;
  timeoutMs: number;
  /** The --command=… argument, when there is one. */
  command?: string;
  result: HookResult;
}

interface Rule {
  parameter: string;
  command?: string;
  outcome: HookOutcome;
  output?: string;
  during?: (call: Omit<HookCall, 'result'>) => void;
}

export class FakeHooks {
  readonly calls: HookCall[] = [];
  private readonly rules: Rule[] = [];

  constructor(private readonly record: (text: string) => void) {}

  /**
   * How `parameter` answers (optionally only for --command=`command`): exit code, 'timeout' or
   * 'spawn-error'. Later rules win. Without a rule a hook exits 0.
   */
  on(parameter: string, outcome: HookOutcome, opts: { command?: string; output?: string; during?: Rule['during'] } = {}): this {
    this.rules.unshift({ parameter, outcome, ...opts });
    return this;
  }

  run(parameter: string, value: string, args: string[], env: Record<string, string>, timeoutMs: number): HookResult {
    const command = args.find((a) => a.startsWith('--command='))?.slice('--command='.length);
    const rule = this.rules.find((r) => r.parameter === parameter && (r.command === undefined || r.command === command));
    const call = { parameter, value, args, env, timeoutMs, command };
    this.record(`${parameter} ${args.join(' ')}`);
    rule?.during?.(call);
    const outcome = rule?.outcome ?? 0;
    const result: HookResult = {
      parameter,
      commandLine: [value, ...args].join(' '),
      exitCode: typeof outcome === 'number' ? outcome : null,
      timedOut: outcome === 'timeout',
      durationMs: outcome === 'timeout' ? timeoutMs : 1,
      output: rule?.output ?? '',
      ...(outcome === 'timeout' ? { signal: 'SIGTERM' } : {}),
      ...(outcome === 'spawn-error' ? { spawnError: `spawn ${value} ENOENT` } : {}),
    };
    this.calls.push({ ...call, result });
    return result;
  }

  /** The calls of one hook (and --command=…), in order. */
  callsOf(parameter: string, command?: string): HookCall[] {
    return this.calls.filter((c) => c.parameter === parameter && (command === undefined || c.command === command));
  }
}
