import { EXIT, type ExitCode } from '../errors.js';
import type { CommandContext } from '../cli/context.js';
import { openCase } from '../store/db.js';
import { takeSnapshot } from '../proc/snapshot.js';

export interface SnapshotCommandOptions {
  pid?: number[];
  lsof?: boolean;
}

export async function snapshotCommand(ctx: CommandContext, options: SnapshotCommandOptions): Promise<ExitCode> {
  const kase = openCase(ctx.caseDir, { create: true });
  try {
    const summary = takeSnapshot(kase.db, options.pid === undefined ? {} : { pids: options.pid });
    for (const warning of summary.warnings) ctx.warn(warning);
    if (summary.counts.processesUnreadable > 0) {
      ctx.warn(`run as root to read other users' processes: ${summary.counts.processesUnreadable} of ${summary.counts.processesSeen} processes could not be read`);
    }
    const kinds = Object.entries(summary.itemsByKind).map(([kind, count]) => `${count} ${kind}`).join(', ');
    ctx.info(`snapshot ${summary.snapshotId}: ${summary.counts.processesSeen} processes, ${summary.counts.fdsSeen} fds, ${summary.items} deleted-but-open items${kinds === '' ? '' : ` (${kinds})`}; case ${kase.paths.dir}`);
    if (ctx.json) ctx.out(JSON.stringify({ snapshot_id: summary.snapshotId, ...summary.counts, items: summary.items, items_by_kind: summary.itemsByKind }));
    return EXIT.ok;
  } finally {
    kase.close();
  }
}
