import { EXIT, UnlinkedError, type ExitCode } from '../errors.js';
import type { CommandContext } from '../cli/context.js';
import { openCase } from '../store/db.js';
import { getItems, itemSizes, latestSnapshotId, snapshotExists } from '../store/items.js';
import { NOT_REACHED, recoverItems, type RecoveredJson } from '../recover/recover.js';
import { progressPrinter } from '../cli/progress.js';
import { jsonArrayLine } from '../report/stream.js';
import { orderBySize } from '../triage/order.js';

export interface RecoverCommandOptions {
  snapshot?: number;
  item?: number[];
  follow?: boolean;
  followTimeout?: number;
  stallTimeout?: number;
  forceSameFs?: boolean;
  forceLeaseBreak?: boolean;
}

export async function recoverCommand(ctx: CommandContext, options: RecoverCommandOptions): Promise<ExitCode> {
  const kase = openCase(ctx.caseDir, { create: false, onLockWait: (text) => ctx.info(text) });
  try {
    let itemIds: number[];
    if (options.item !== undefined) {
      const wanted = [...new Set(options.item)];
      const items = getItems(kase.db, wanted);
      const found = new Set(items.map((item) => item.id));
      const missing = options.item.filter((id) => !found.has(id));
      if (missing.length > 0) throw new UnlinkedError('NOT_FOUND', `no item ${missing.join(', ')} in ${kase.paths.dir} (see \`unlinked list\`)`);
      // Both given: the items must be of that snapshot (an id from another one is a mistake, not a wish).
      const elsewhere = options.snapshot === undefined ? [] : items.filter((item) => item.snapshot_id !== options.snapshot);
      if (elsewhere.length > 0) {
        const which = elsewhere.map((item) => `item ${item.id} is of snapshot ${item.snapshot_id}`).join(', ');
        throw new UnlinkedError('USAGE', `--snapshot ${options.snapshot} --item: ${which}, not of snapshot ${options.snapshot} (see \`unlinked list --all\`)`);
      }
      itemIds = items.map((item) => item.id);
    } else {
      const snapshotId = options.snapshot ?? latestSnapshotId(kase.db);
      if (snapshotId === null) throw new UnlinkedError('NOT_FOUND', `the case ${kase.paths.dir} holds no snapshot yet: run \`unlinked snapshot\``);
      if (!snapshotExists(kase.db, snapshotId)) throw new UnlinkedError('NOT_FOUND', `no finished snapshot ${snapshotId} in ${kase.paths.dir}`);
      // Smallest first: a huge file of holes (a memfd of 1 PiB) does not keep the others waiting. --item keeps its order.
      // By id and size alone: each item's row is read when its turn comes.
      itemIds = orderBySize(itemSizes(kase.db, snapshotId)).map((item) => item.id);
    }
    const progress = progressPrinter(ctx);
    const results = await recoverItems(kase.db, itemIds, {
      outputDir: kase.paths.recovered,
      follow: options.follow === true || options.followTimeout !== undefined,
      followTimeoutS: options.followTimeout ?? null,
      stallTimeoutS: options.stallTimeout ?? null,
      sameFs: options.forceSameFs === true ? 'force' : 'refuse',
      leases: options.forceLeaseBreak === true ? 'break' : 'refuse',
      onProgress: (item, bytes) => progress(`item ${item.id} (${holderLabel(item)})`, bytes),
      warn: (message) => ctx.warn(message),
    });
    progress.done();
    const complete = results.filter((result) => result.complete).length;
    warnIncomplete(results, (message) => ctx.warn(message), (result) => {
      // "not copied: ..." notes say so themselves; a copy made in part is said incomplete.
      const note = result.note ?? 'unknown reason';
      const said = result.output !== null ? 'incomplete: ' : note.startsWith('not copied') ? '' : 'not copied: ';
      return `${said}${note}`;
    });
    ctx.info(`recovered ${complete} of ${results.length} items completely into ${kase.paths.recovered}`);
    // A record at a time: 100,000 of them are no single string.
    if (ctx.json) await ctx.outPieces(jsonArrayLine((function* () {
      for (const { size_at_start: _start, size_at_end: _end, ...contract } of results) yield contract;
    })()));
    return complete === results.length ? EXIT.ok : EXIT.partial;
  } finally {
    kase.close();
  }
}

/** "pid 7 fd 3", "pid 7 tmpfile fd 4", "pid 7 exe" */
export function holderLabel(result: Pick<RecoveredJson, 'pid' | 'kind' | 'fd'>): string {
  return [`pid ${result.pid}`, result.kind === 'fd' ? null : result.kind, result.fd === null ? null : `fd ${result.fd}`].filter((part) => part !== null).join(' ');
}

/**
 * A warning for each item not copied completely, `said` saying why; those whose turn had not come
 * when the copies were stopped (NOT_REACHED) in one line with their count and ids: one line each was
 * 87,270 identical lines after a Ctrl-C (each is in the case database, and in the JSON).
 */
export function warnIncomplete(results: readonly RecoveredJson[], warn: (message: string) => void, said: (result: RecoveredJson) => string): void {
  const notReached: number[] = [];
  for (const result of results) {
    if (result.complete) continue;
    if (result.note === NOT_REACHED && result.output === null) notReached.push(result.item_id);
    else warn(`item ${result.item_id} (${holderLabel(result)}): ${said(result)}`);
  }
  if (notReached.length === 1) warn(`item ${notReached[0]}: ${NOT_REACHED}`);
  else if (notReached.length > 1) {
    warn(`${notReached.length.toLocaleString('en-US')} items ${NOT_REACHED.replace('its turn', 'their turn')} (items ${idRanges(notReached)}: each is recorded in the case)`);
  }
}

const RANGES_SAID = 10;

/** "3-7, 9, 12-40" (sorted), the first RANGES_SAID ranges and "and N more". */
export function idRanges(ids: readonly number[]): string {
  const sorted = [...ids].sort((a, b) => a - b);
  const ranges: string[] = [];
  let more = 0;
  for (let index = 0; index < sorted.length;) {
    const start = index;
    const first = sorted[index] as number;
    let last = first;
    while (index + 1 < sorted.length && (sorted[index + 1] as number) <= last + 1) last = sorted[++index] as number;
    index++;
    if (ranges.length < RANGES_SAID) ranges.push(first === last ? String(first) : `${first}-${last}`);
    else more += index - start;
  }
  return more === 0 ? ranges.join(', ') : `${ranges.join(', ')} and ${more.toLocaleString('en-US')} more`;
}
