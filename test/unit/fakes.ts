// Builders for unit tests of logic: configured servers and recorded-looking server states.
import type { AppConfig, ServerConfig } from '../../src/config/types.js';
import type { ServerState, SlaveStatus } from '../../src/mysql/types.js';

export function fakeServer(n: number, over: Partial<ServerConfig> = {}): ServerConfig {
  const ip = `10.9.0.${10 + n}`;
  return {
    id: `server${n}`,
    hostname: ip,
    ip,
    port: 3306,
    user: 'ha',
    password: 'secret',
    replUser: 'repl',
    replPassword: 'replsecret',
    ssh: { host: ip, port: 22, user: 'root', identityFiles: [], knownHostsFiles: [], strictHostKeyChecking: true, connectTimeoutSeconds: 5 },
    candidateMaster: false,
    noMaster: false,
    ignoreFail: false,
    skipInitSshCheck: false,
    skipResetSlave: false,
    latestPriority: true,
    checkReplDelay: true,
    checkReplFilter: true,
    multiTierSlave: false,
    useGtidAutoPos: true,
    disableLogBin: false,
    handleRawBinlog: true,
    remoteWorkdir: '/var/tmp',
    ...over,
  };
}

export function fakeConfig(servers: ServerConfig[]): AppConfig {
  return {
    file: '/etc/app1.cnf',
    appName: 'app1',
    manager: { managerWorkdir: '/var/tmp', logLevel: 'info', pingInterval: 3, pingType: 'SELECT', lastFailoverMinute: 480, maxReplDelaySeconds: 100 },
    servers,
    binlogServers: [],
  };
}

export function fakeSlaveStatus(masterN: number, over: Partial<SlaveStatus> = {}): SlaveStatus {
  return {
    masterHost: `10.9.0.${10 + masterN}`,
    masterPort: 3306,
    masterUser: 'repl',
    ioRunning: 'Yes',
    sqlRunning: true,
    readPosition: { file: 'mysql-bin.000003', position: 1000 },
    execPosition: { file: 'mysql-bin.000003', position: 1000 },
    relayLogPosition: { file: 'relay-bin.000002', position: 1200 },
    secondsBehindMaster: 0,
    lastIoErrno: 0,
    lastIoError: '',
    lastSqlErrno: 0,
    lastSqlError: '',
    usesGtid: false,
    retrievedGtidSet: '',
    executedGtidSet: '',
    masterServerId: 1,
    sqlDelay: 0,
    filters: { doDb: '', ignoreDb: '', doTable: '', ignoreTable: '', wildDoTable: '', wildIgnoreTable: '' },
    ...over,
  };
}

export function fakeState(serverId: number, over: Partial<ServerState> = {}): ServerState {
  return {
    version: { flavor: 'mariadb', major: 10, minor: 11, patch: 19, raw: '10.11.19-MariaDB-log' },
    serverId,
    readOnly: serverId !== 1,
    logBin: true,
    logSlaveUpdates: true,
    binlogFormat: 'ROW',
    binlogBasename: '/var/lib/mysql/mysql-bin',
    relayLogPurge: false,
    datadir: '/var/lib/mysql/',
    gtid: { enabled: true, executed: '', binlogPos: '', slavePos: '' },
    masterStatus: serverId === 1 ? { file: 'mysql-bin.000003', position: 1000, gtidSet: '' } : undefined,
    ...over,
  };
}
