// `ha switch --master-state dead` as an operation (MHA: masterha_master_switch --master_state=dead):
// the manager's failover phases once, without monitoring, with the same records afterwards
// (APP.failover.complete/error, the JSON report) so `ha report` and a later manager see them.
import type { AppConfig, ServerConfig } from '../config/types.js';
import type { Clients } from '../core/clients.js';
import { ExitCode } from '../core/exit-codes.js';
import type { ManagerLog } from '../core/log.js';
import type { StopRequest } from '../core/stop.js';
import { managerFiles, markFailover, refuseRepeatedFailover, writeFailoverReport } from '../manager/state.js';
import { masterOf, surveyServers } from '../core/survey.js';
import { reportText } from '../phases/6-report.js';
import { DEFAULT_TIMEOUTS } from '../phases/context.js';
import { runFailover } from '../phases/run.js';

export interface DeadSwitchOptions {
  deadMaster: ServerConfig;
  /** --new-master; undefined: MHA's rules choose. */
  newMaster?: ServerConfig;
  ignoreLastFailover: boolean;
}

export interface SwitchIO {
  clients: Clients;
  log: ManagerLog;
  stop: StopRequest;
}

/** The master the slaves point at, when the dead master was not named. */
export async function masterOfSlaves(config: AppConfig, clients: Clients): Promise<ServerConfig | undefined> {
  // A server that does not answer says nothing about the master.
  const observations = await surveyServers(config, clients);
  const targets = new Set<string>();
  for (const o of observations) {
    const ss = o.state?.slaveStatus;
    if (ss) targets.add(masterOf(ss, observations, o)?.server.id ?? `${ss.masterHost.toLowerCase()}:${ss.masterPort}`);
  }
  if (targets.size !== 1) return undefined;
  const [id] = [...targets];
  return config.servers.find((s) => s.id === id);
}

export async function runDeadMasterSwitch(config: AppConfig, opts: DeadSwitchOptions, io: SwitchIO): Promise<number> {
  const { log } = io;
  const files = managerFiles(config);
  const refusal = refuseRepeatedFailover(files, config.manager.lastFailoverMinute, opts.ignoreLastFailover);
  if (refusal) {
    log.error('FAILOVER_REFUSED', `failover refused: ${refusal}`);
    return ExitCode.FAILED;
  }
  try {
    const report = await runFailover({
      config,
      clients: io.clients,
      log,
      timeouts: DEFAULT_TIMEOUTS,
      options: { deadMasterId: opts.deadMaster.id, newMasterId: opts.newMaster?.id, workdir: config.manager.managerWorkdir },
      abort: io.stop,
      detectedAt: Date.now(),
      changes: [],
    });
    writeFailoverReport(files, report);
    if (report.masterMoved) markFailover(files, 'complete', `${reportText(report)}\n`);
    if (!report.ok) {
      markFailover(files, 'error', `${reportText(report)}\n`);
      return ExitCode.FAILED;
    }
    return ExitCode.OK;
  } finally {
    log.close();
  }
}
