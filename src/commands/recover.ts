import { EXIT, UnlinkedError, type ExitCode } from '../errors.js';
import type { CommandContext } from '../cli/context.js';
import { openCase } from '../store/db.js';
import { getItems, latestSnapshotId, listItems, snapshotExists, type ItemRow } from '../store/items.js';
import { recoverItems, type RecoveredJson } from '../recover/recover.js';
import { progressPrinter } from '../cli/progress.js';
import { jsonText } from '../util/u64.js';
import { orderBySize } from '../triage/order.js';

export interface RecoverCommandOptions {
  snapshot?: number;
  item?: number[];
  follow?: boolean;
  followTimeout?: number;
  stallTimeout?: number;
  forceSameFs?: boolean;
}

export async function recoverCommand(ctx: CommandContext, options: RecoverCommandOptions): Promise<ExitCode> {
  const kase = openCase(ctx.caseDir, { create: false, onLockWait: (text) => ctx.info(text) });
  try {
    let items: ItemRow[];
    if (options.item !== undefined) {
      items = getItems(kase.db, [...new Set(options.item)]);
      const missing = options.item.filter((id) => !items.some((item) => item.id === id));
      if (missing.length > 0) throw new UnlinkedError('NOT_FOUND', `no item ${missing.join(', ')} in ${kase.paths.dir} (see \`unlinked list\`)`);
      // Both given: the items must be of that snapshot (an id from another one is a mistake, not a wish).
      const elsewhere = options.snapshot === undefined ? [] : items.filter((item) => item.snapshot_id !== options.snapshot);
      if (elsewhere.length > 0) {
        const which = elsewhere.map((item) => `item ${item.id} is of snapshot ${item.snapshot_id}`).join(', ');
        throw new UnlinkedError('USAGE', `--snapshot ${options.snapshot} --item: ${which}, not of snapshot ${options.snapshot} (see \`unlinked list --all\`)`);
      }
    } else {
      const snapshotId = options.snapshot ?? latestSnapshotId(kase.db);
      if (snapshotId === null) throw new UnlinkedError('NOT_FOUND', `the case ${kase.paths.dir} holds no snapshot yet: run \`unlinked snapshot\``);
      if (!snapshotExists(kase.db, snapshotId)) throw new UnlinkedError('NOT_FOUND', `no finished snapshot ${snapshotId} in ${kase.paths.dir}`);
      // Smallest first: a huge file of holes (a memfd of 1 PiB) does not keep the others waiting. --item keeps its order.
      items = orderBySize(listItems(kase.db, snapshotId));
    }
    const progress = progressPrinter(ctx);
    const results = await recoverItems(kase.db, items, {
      outputDir: kase.paths.recovered,
      follow: options.follow === true || options.followTimeout !== undefined,
      followTimeoutS: options.followTimeout ?? null,
      stallTimeoutS: options.stallTimeout ?? null,
      sameFs: options.forceSameFs === true ? 'force' : 'refuse',
      onProgress: (item, bytes) => progress(`item ${item.id} (${holderLabel(item)})`, bytes),
      warn: (message) => ctx.warn(message),
    });
    progress.done();
    const complete = results.filter((result) => result.complete).length;
    for (const result of results) {
      // "not copied: ..." notes say so themselves; a copy made in part is said incomplete.
      if (!result.complete) {
        const note = result.note ?? 'unknown reason';
        const said = result.output !== null ? 'incomplete: ' : note.startsWith('not copied') ? '' : 'not copied: ';
        ctx.warn(`item ${result.item_id} (${holderLabel(result)}): ${said}${note}`);
      }
    }
    ctx.info(`recovered ${complete} of ${results.length} items completely into ${kase.paths.recovered}`);
    if (ctx.json) ctx.out(jsonText(results.map(({ size_at_start: _start, size_at_end: _end, ...contract }) => contract)));
    return complete === results.length ? EXIT.ok : EXIT.partial;
  } finally {
    kase.close();
  }
}

/** "pid 7 fd 3", "pid 7 tmpfile fd 4", "pid 7 exe" */
export function holderLabel(result: Pick<RecoveredJson, 'pid' | 'kind' | 'fd'>): string {
  return [`pid ${result.pid}`, result.kind === 'fd' ? null : result.kind, result.fd === null ? null : `fd ${result.fd}`].filter((part) => part !== null).join(' ');
}
