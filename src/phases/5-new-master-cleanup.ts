// Phase 5: New master cleanup. The new master forgets it was a slave (RESET SLAVE ALL), unless
// skip_reset_slave=1 (MHA's option, for DBAs who want to keep the old settings to inspect).
import { dialectFor } from '../mysql/dialect.js';
import { recordChange, type FailoverContext } from './context.js';
import type { MasterRecoveryResult } from './3-master-recovery.js';

export const PHASE_5 = '5 New master cleanup';

export async function newMasterCleanup(ctx: FailoverContext, p3: MasterRecoveryResult): Promise<{ resetSlave: boolean }> {
  const server = p3.newMaster.server;
  if (server.skipResetSlave) {
    ctx.log.info('SKIP_RESET_SLAVE', 'skip_reset_slave=1: the new master keeps its replication settings (stopped)', { server: server.id });
    return { resetSlave: false };
  }
  const session = await ctx.clients.mysql(server);
  try {
    const dialect = dialectFor(p3.recovery.after.version);
    await session.query(dialect.stopSlave());
    await session.query(dialect.resetSlaveAll());
    recordChange(ctx, server.id, 'RESET SLAVE ALL');
    ctx.log.info('RESET_SLAVE', 'RESET SLAVE ALL: the new master no longer replicates from anyone', { server: server.id });
    return { resetSlave: true };
  } finally {
    await session.close().catch(() => undefined);
  }
}
