// The fake cluster for unit tests of the failover and the online switch: see README.md.
export { cluster, FakeCluster, type ClusterSpec, type FakeEvent, type FaultSpec, type SlaveSpec } from './cluster.js';
export { failoverContext, FAST_TIMEOUTS, quietLog, switchOptions, type FakeFailoverContext } from './context.js';
export { FakeHooks, type HookCall, type HookOutcome } from './hooks.js';
export { History, OwnBinlog, type Coord, type Trx } from './history.js';
export { FakeServer, VERSIONS, type VersionName } from './server.js';
export { FakeSshHost, shellWords } from './ssh.js';
