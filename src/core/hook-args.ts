// The arguments MHA 0.58 passes to each hook script, word for word (MasterFailover.pm,
// MasterRotate.pm, HealthCheck.pm, Server.pm get_ssh_args_if), so existing MHA scripts work
// unchanged. One deliberate difference: passwords never go on a command line (where `ps` and
// MHA's own log show them). They are in the environment instead: HA_NEW_MASTER_PASSWORD,
// HA_ORIG_MASTER_PASSWORD, HA_MASTER_PASSWORD (docs/compat.md).
import type { ServerConfig } from '../config/types.js';

/** MHA's get_ssh_args_if: where the SSH address or port differs from the MySQL one, say so. */
function sshArgs(s: ServerConfig, head: '--orig_master_' | '--new_master_' | '--'): string[] {
  const out: string[] = [];
  if (s.hostname !== s.ssh.host || s.ip !== s.ssh.host) {
    out.push(`${head}ssh_host=${s.ssh.host}`, `${head}ssh_ip=${s.ssh.host}`);
  }
  if (s.ssh.port !== 22) out.push(`${head}ssh_port=${s.ssh.port}`);
  if (s.sshOptionsRaw && head !== '--new_master_') out.push(`--ssh_options=${s.sshOptionsRaw}`);
  return out;
}

/** master_ip_failover_script, phase 2: take the writer address away from the dead master. */
export function masterIpFailoverStopArgs(dead: ServerConfig, sshReachable: boolean): string[] {
  return [
    `--orig_master_host=${dead.hostname}`,
    `--orig_master_ip=${dead.ip}`,
    `--orig_master_port=${dead.port}`,
    ...(sshReachable ? ['--command=stopssh', `--ssh_user=${dead.ssh.user}`] : ['--command=stop']),
    ...sshArgs(dead, '--orig_master_'),
  ];
}

/** master_ip_failover_script --command=status (check-repl, as MHA's MasterMonitor): is the writer address where it should be? */
export function masterIpFailoverStatusArgs(master: ServerConfig): string[] {
  return [
    '--command=status',
    `--ssh_user=${master.ssh.user}`,
    `--orig_master_host=${master.hostname}`,
    `--orig_master_ip=${master.ip}`,
    `--orig_master_port=${master.port}`,
    ...sshArgs(master, '--orig_master_'),
  ];
}

/** shutdown_script, phase 2: power the dead master off (or, exit 10, stop its mysqld over SSH). */
export function shutdownArgs(dead: ServerConfig, sshReachable: boolean): string[] {
  return [
    ...(sshReachable ? ['--command=stopssh', `--ssh_user=${dead.ssh.user}`] : ['--command=stop']),
    `--host=${dead.hostname}`,
    `--ip=${dead.ip}`,
    `--port=${dead.port}`,
    ...(dead.masterPidFile ? [`--pid_file=${dead.masterPidFile}`] : []),
    ...sshArgs(dead, '--'),
  ];
}

/** master_ip_failover_script, phase 3.5: give the writer address to the new master. */
export function masterIpFailoverStartArgs(dead: ServerConfig, next: ServerConfig): string[] {
  return [
    '--command=start',
    `--ssh_user=${next.ssh.user}`,
    `--orig_master_host=${dead.hostname}`,
    `--orig_master_ip=${dead.ip}`,
    `--orig_master_port=${dead.port}`,
    `--new_master_host=${next.hostname}`,
    `--new_master_ip=${next.ip}`,
    `--new_master_port=${next.port}`,
    `--new_master_user=${next.user}`,
    ...sshArgs(dead, '--orig_master_'),
    ...sshArgs(next, '--new_master_'),
  ];
}

/** report_script, at the end: who was master, who is now, which slaves were recovered. */
export function reportArgs(o: { dead: ServerConfig; next?: ServerConfig; recoveredSlaves: ServerConfig[]; configFile: string; subject: string; body: string }): string[] {
  return [
    `--orig_master_host=${o.dead.hostname}`,
    ...(o.next ? [`--new_master_host=${o.next.hostname}`, `--new_slave_hosts=${o.recoveredSlaves.map((s) => s.hostname).join(',')}`] : []),
    `--conf=${o.configFile}`,
    `--subject=${o.subject}`,
    `--body=${o.body}`,
  ];
}

/** secondary_check_script: MHA's masterha_secondary_check arguments (the password goes in the environment). */
export function secondaryCheckArgs(master: ServerConfig, pingType: string): string[] {
  return [
    `--user=${master.ssh.user}`,
    `--master_host=${master.hostname}`,
    `--master_ip=${master.ip}`,
    `--master_port=${master.port}`,
    `--master_user=${master.user}`,
    `--ping_type=${pingType}`,
  ];
}

/** master_ip_online_change_script (ha switch): --command=stop|start with both masters. */
export function onlineChangeArgs(command: 'stop' | 'start' | 'status', orig: ServerConfig, next: ServerConfig, origIsNewSlave: boolean): string[] {
  return [
    `--command=${command}`,
    `--orig_master_host=${orig.hostname}`,
    `--orig_master_ip=${orig.ip}`,
    `--orig_master_port=${orig.port}`,
    `--orig_master_user=${orig.user}`,
    `--new_master_host=${next.hostname}`,
    `--new_master_ip=${next.ip}`,
    `--new_master_port=${next.port}`,
    `--new_master_user=${next.user}`,
    `--orig_master_ssh_user=${orig.ssh.user}`,
    `--new_master_ssh_user=${next.ssh.user}`,
    ...sshArgs(orig, '--orig_master_'),
    ...sshArgs(next, '--new_master_'),
    ...(origIsNewSlave ? ['--orig_master_is_new_slave'] : []),
  ];
}
