import { EXIT, UnlinkedError, type ExitCode } from '../errors.js';
import type { CommandContext } from '../cli/context.js';
import { openCase } from '../store/db.js';
import { itemJson, latestSnapshotId, listItems, snapshotExists } from '../store/items.js';
import { displayBytes } from '../util/bytes.js';
import { jsonText } from '../util/u64.js';

export interface ListCommandOptions {
  snapshot?: number;
  all?: boolean;
}

export async function listCommand(ctx: CommandContext, options: ListCommandOptions): Promise<ExitCode> {
  const kase = openCase(ctx.caseDir, { create: false, readsOnly: true });
  try {
    let snapshotId: number | null = null;
    if (options.all !== true) {
      snapshotId = options.snapshot ?? latestSnapshotId(kase.db);
      if (snapshotId === null) throw new UnlinkedError('NOT_FOUND', `the case ${kase.paths.dir} holds no snapshot yet: run \`unlinked snapshot\``);
      if (!snapshotExists(kase.db, snapshotId)) throw new UnlinkedError('NOT_FOUND', `no finished snapshot ${snapshotId} in ${kase.paths.dir}`);
    }
    const rows = listItems(kase.db, snapshotId);
    if (ctx.json) {
      ctx.out(jsonText(rows.map(itemJson)));
      return EXIT.ok;
    }
    if (rows.length === 0) ctx.info('no deleted-but-open items');
    for (const row of rows) {
      const where = row.fd === null ? row.kind : `${row.kind} ${row.fd}`;
      ctx.out(`${row.id}\t${row.pid}\t${row.comm ?? ''}\t${where}\t${row.inode ?? ''}\t${row.size ?? ''}\t${displayBytes(row.path)}`);
    }
    return EXIT.ok;
  } finally {
    kase.close();
  }
}
