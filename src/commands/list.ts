import { EXIT, UnlinkedError, type ExitCode } from '../errors.js';
import type { CommandContext } from '../cli/context.js';
import { openCase } from '../store/db.js';
import { eachItem, itemJson, latestSnapshotId, snapshotExists } from '../store/items.js';
import { processFlagReader } from '../store/processFlags.js';
import { unreadSaid, type UnreadCounts } from '../store/snapshots.js';
import { displayBytes, displayText } from '../util/bytes.js';
import { jsonArrayLine } from '../report/stream.js';
import { beginStep } from '../util/interrupt.js';

export interface ListCommandOptions {
  snapshot?: number;
  all?: boolean;
}

export async function listCommand(ctx: CommandContext, options: ListCommandOptions): Promise<ExitCode> {
  const kase = openCase(ctx.caseDir, { create: false, readsOnly: true, onLockWait: (text) => ctx.info(text) });
  try {
    let snapshotId: number | null = null;
    if (options.all !== true) {
      snapshotId = options.snapshot ?? latestSnapshotId(kase.db);
      if (snapshotId === null) throw new UnlinkedError('NOT_FOUND', `the case ${kase.paths.dir} holds no snapshot yet: run \`unlinked snapshot\``);
      if (!snapshotExists(kase.db, snapshotId)) throw new UnlinkedError('NOT_FOUND', `no finished snapshot ${snapshotId} in ${kase.paths.dir}`);
    }
    // Several snapshots: each line starts with its snapshot, and stderr says what each one is (an
    // lsof import of another host has PIDs of that host) and what it could not read (either way,
    // and with --json too: a list that may miss items says so on stderr however it is printed).
    const snapshots = kase.db.prepare(`SELECT id, source, host, started_at, processes_seen, processes_unreadable, processes_vanished FROM snapshots
      WHERE finished_at IS NOT NULL AND (? IS NULL OR id = ?) ORDER BY id`).all(snapshotId, snapshotId) as Array<UnreadCounts & { id: number; host: string | null; started_at: string }>;
    for (const snapshot of snapshots) {
      if (options.all === true) ctx.info(`snapshot ${snapshot.id}: ${snapshot.source === 'proc' ? 'live /proc walk' : 'lsof import'} of ${displayText(snapshot.host) ?? '?'} at ${snapshot.started_at}`);
      for (const said of unreadSaid(snapshot)) ctx.warn(`snapshot ${snapshot.id}: ${said}`);
    }
    // Printed as SQLite reads the rows, a piece at a time: a million items are no single string. A
    // signal meanwhile stops it (between two pieces) and says so.
    beginStep('the list on stdout is cut short');
    const flagsOf = processFlagReader(kase.db);
    if (ctx.json) {
      await ctx.outPieces(jsonArrayLine((function* () {
        for (const row of eachItem(kase.db, snapshotId)) yield itemJson(row, flagsOf(row.snapshot_id, row.pid, row.comm));
      })()));
      return EXIT.ok;
    }
    let listed = 0;
    // Each flagged process once, on stderr after the list: its lines keep their columns.
    const flagged: string[] = [];
    let lastProcess = '';
    await ctx.outPieces((function* () {
      for (const row of eachItem(kase.db, snapshotId)) {
        listed++;
        const process = `${row.snapshot_id}/${row.pid}`;
        if (process !== lastProcess) {
          for (const { flag, why } of flagsOf(row.snapshot_id, row.pid, row.comm)) flagged.push(`snapshot ${row.snapshot_id} pid ${row.pid} (${row.comm ?? '?'}): ${flag}: ${why}`);
          lastProcess = process;
        }
        const where = row.fd === null ? row.kind : `${row.kind} ${row.fd}`;
        const line = `${row.id}\t${row.pid}\t${row.comm ?? ''}\t${where}\t${row.inode ?? ''}\t${row.size ?? ''}\t${displayBytes(row.path)}\n`;
        yield options.all === true ? `${row.snapshot_id}\t${line}` : line;
      }
    })());
    if (listed === 0) ctx.info('no deleted-but-open items');
    for (const line of flagged) ctx.warn(line);
    return EXIT.ok;
  } finally {
    kase.close();
  }
}
