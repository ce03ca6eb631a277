import { EXIT, UnlinkedError, type ExitCode } from '../errors.js';
import type { CommandContext } from '../cli/context.js';
import { openCase } from '../store/db.js';
import { getItems } from '../store/items.js';
import { commandRecorder } from '../store/commands.js';
import { relinkItem } from '../recover/relink.js';
import { liveOrigin } from '../recover/recover.js';
import { displayText } from '../util/bytes.js';

export interface RelinkCommandOptions {
  item: number;
  to: string;
}

export async function relinkCommand(ctx: CommandContext, options: RelinkCommandOptions): Promise<ExitCode> {
  const kase = openCase(ctx.caseDir, { create: false, onLockWait: (text) => ctx.info(text) });
  try {
    const [item] = getItems(kase.db, [options.item]);
    if (item === undefined) throw new UnlinkedError('NOT_FOUND', `no item ${options.item} in ${kase.paths.dir} (see \`unlinked list\`)`);
    const linked = await relinkItem(item, options.to, commandRecorder(kase.db), liveOrigin(kase.db)(item.snapshot_id), kase.paths.dir);
    ctx.info(`linked item ${item.id} (pid ${item.pid} fd ${item.fd}) as ${displayText(linked)}`);
    if (ctx.json) ctx.out(JSON.stringify({ item_id: item.id, path: linked }));
    return EXIT.ok;
  } finally {
    kase.close();
  }
}
