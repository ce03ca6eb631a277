// The main job: snapshot first, then copy the most fragile items first, then the reports.
import fs from 'node:fs';
import os from 'node:os';
import { EXIT, UnlinkedError, type ExitCode } from '../errors.js';
import type { CommandContext } from '../cli/context.js';
import { openCase, type Db } from '../store/db.js';
import { listItems, ofMemfd, type ItemRow } from '../store/items.js';
import { takeSnapshot } from '../proc/snapshot.js';
import { readProcView } from '../proc/procView.js';
import { recoverItems, type RecoveredJson } from '../recover/recover.js';
import { inMemory, orderByVolatility } from '../triage/order.js';
import { writeReport } from '../report/registry.js';
import { flaggedProcesses } from '../store/processFlags.js';
import { progressPrinter } from '../cli/progress.js';
import { unreadableJson, unreadableWarnings } from './snapshot.js';
import { holderLabel, warnIncomplete } from './recover.js';
import { sourcePath } from '../recover/custody.js';
import { tryOr } from '../util/tryOr.js';
import { beginStep, stepStored } from '../util/interrupt.js';

export interface TriageCommandOptions {
  recover?: boolean;
  lsof?: boolean;
  followTimeout?: number;
  stallTimeout?: number;
  forceSameFs?: boolean;
  forceLeaseBreak?: boolean;
}

export async function triageCommand(ctx: CommandContext, options: TriageCommandOptions): Promise<ExitCode> {
  const started = Date.now();
  // A /proc that is no procfs, or another PID namespace's: refused before the case is touched.
  const view = readProcView();
  const kase = openCase(ctx.caseDir, { create: true, onLockWait: (text) => ctx.info(text) });
  // Every warning of every step, on stderr and in the JSON's `warnings` (ctx.warned): why the exit is 3.
  const warn = (message: string): void => ctx.warn(message);
  try {
    const snapshot = await takeSnapshot(kase, { view, lsof: options.lsof !== false });
    for (const warning of [...snapshot.warnings, ...unreadableWarnings(snapshot.counts, snapshot.unreadable)]) warn(warning);
    const tried = options.recover !== false;
    const ordered = tried ? volatileFirst(kase.db, snapshot.snapshotId) : [];
    let recovered: RecoveredJson[] = [];
    if (tried && ordered.length > 0) {
      // The reports of the snapshot first: a copy that takes very long (a file of holes), or a triage
      // stopped half-way, still leaves them. Written again when the copies are done.
      const stage = 'Written by triage before its copies. A triage that finishes writes this page again after them: if this line is still here, it stopped before ' +
        '(Ctrl-C, a kill): `unlinked report --format html` (and `--format csv`) write the reports from the case as it is now.';
      // One that cannot be written (a reports/ folder this user may not write) stops nothing: the copies come first.
      beginStep('the reports written before the copies are not all in place, nothing is copied');
      for (const format of ['html', 'csv'] as const) {
        const failure = await tryReport(() => writeReport(kase.db, kase.paths, format, undefined, format === 'html' ? stage : undefined));
        if (typeof failure === 'string') warn(`before the copies: ${failure}; the copies go on, the reports are tried again after them`);
      }
      stepStored('the reports written before the copies', false, 'reports');
      beginStep('nothing is copied');
      const progress = progressPrinter(ctx);
      recovered = await recoverItems(kase.db, ordered, {
        outputDir: kase.paths.recovered,
        follow: options.followTimeout !== undefined,
        followTimeoutS: options.followTimeout ?? null,
        stallTimeoutS: options.stallTimeout ?? null,
        sameFs: options.forceSameFs === true ? 'force' : 'skip',
        leases: options.forceLeaseBreak === true ? 'break' : 'refuse',
        onProgress: (item, bytes) => progress(`item ${item.id} (${holderLabel(item)})`, bytes),
        warn,
      });
      progress.done();
      stepStored(`the copies of its items (${recovered.length})`, false);
    }
    beginStep('the reports written after the copies are not all in place');
    // A report that cannot be written is a step that failed, said as such: what was copied stays copied.
    const reportFailures: string[] = [];
    const writeFinal = async (format: 'html' | 'csv'): Promise<string | null> => {
      const written = await tryReport(() => writeReport(kase.db, kase.paths, format, undefined));
      if (typeof written !== 'string') return written.path;
      reportFailures.push(written);
      warn(`${written}: \`unlinked report --format ${format}\` writes it from the case once that is fixed (or --out FILE elsewhere)`);
      return null;
    };
    const html = await writeFinal('html');
    const csv = await writeFinal('csv');
    // Nothing but its result is left to print: a signal from now on does not stop the run.
    stepStored('the reports', true, 'reports');
    const complete = recovered.filter((record) => record.complete);
    const failed = recovered.filter((record) => !record.complete);
    const kinds = Object.entries(snapshot.itemsByKind).map(([kind, count]) => `${count} ${kind}`).join(', ') || 'none';
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    ctx.info(`triage of ${snapshot.counts.processesSeen} processes: ${snapshot.items} deleted-but-open items (${kinds})`);
    // What the report's badges say of the processes holding them (a name dressed as a kernel thread, a
    // fileless payload), said here too: the responder at the console reads these lines first.
    const flagged = flaggedProcesses(kase.db, snapshot.snapshotId);
    for (const { pid, comm, flags } of flagged) ctx.info(`flagged: pid ${pid} (${comm ?? '?'}): ${flags.map((flag) => flag.why).join('; ')}`);
    if (tried) ctx.info(`recovered ${complete.length} of ${recovered.length} completely into ${kase.paths.recovered}`);
    warnIncomplete(failed, warn, (record) => record.note ?? 'incomplete');
    // The refusal for the case's own file system (recover.ts), not the other "it is on ..." reasons (a disk that cannot be told).
    const sameFs = failed.filter((record) => record.note?.includes('whose writes could overwrite its freed blocks') === true).length;
    if (sameFs > 0) {
      warn(`${sameFs} item(s) were not copied because the case directory ${kase.paths.dir} is on their file system: put the case on another disk (--case /mnt/usb/case) and run triage again, or pass --force-same-fs`);
    }
    const reports = [html, csv].filter((written) => written !== null);
    // One call a line: a message is one line (its control bytes are written \xHH).
    if (reports.length === 0) ctx.info('no reports written');
    reports.forEach((report, index) => ctx.info(`${index === 0 ? 'reports:' : '        '} ${report}`));
    ctx.info(`case database: ${kase.paths.database} (${seconds} s)`);
    if (ctx.json) {
      ctx.out(
        JSON.stringify({
          snapshot_id: snapshot.snapshotId,
          processes_seen: snapshot.counts.processesSeen,
          processes_unreadable: snapshot.counts.processesUnreadable,
          processes_unreadable_own: snapshot.counts.processesUnreadableOwn,
          unreadable_processes: unreadableJson(snapshot.unreadable),
          items: snapshot.items,
          items_by_kind: snapshot.itemsByKind,
          // null with --no-recover: no copy was tried, which a 0 would not say.
          recovered_complete: tried ? complete.length : null,
          recovered_incomplete: tried ? failed.length : null,
          // Of those: refused before a byte was written (no file; the reports' "not copied"), and copies that stopped part-way (prefix kept).
          not_copied: tried ? failed.filter((record) => record.output === null).length : null,
          copied_partly: tried ? failed.filter((record) => record.output !== null).length : null,
          failures: failed.map((record) => ({ item_id: record.item_id, pid: record.pid, kind: record.kind, fd: record.fd, note: record.note })),
          reports: { html, csv },
          report_failures: reportFailures,
          case: kase.paths.dir,
          elapsed_s: Number(seconds),
          unanswered_mounts: snapshot.unanswered.length,
          flagged_processes: flagged.map(({ pid, comm, flags }) => ({ pid, comm, flags })),
          warnings: [...ctx.warned],
        }),
      );
    }
    // Files on a mount that did not answer were not examined, nor those of processes that could
    // not be read (not root, a security module) or that /proc hides: a deleted one may be missing.
    return failed.length === 0 && reportFailures.length === 0 && snapshot.unanswered.length === 0 && snapshot.counts.processesUnreadable === 0 && !snapshot.viewLimited && snapshot.timesUnread === 0 ? EXIT.ok : EXIT.partial;
  } finally {
    kase.close();
  }
}

/**
 * Write one report: `{ path }` when written, else why not (the report's own one line: a folder that
 * cannot be written, no space). Anything else (the case database failing) is thrown as it is.
 */
async function tryReport(write: () => Promise<string>): Promise<{ path: string } | string> {
  try {
    return { path: await write() };
  } catch (error) {
    if (error instanceof UnlinkedError && (error.code === 'BAD_INPUT' || error.code === 'CASE')) return error.message;
    throw error;
  }
}

/** The ids of the snapshot's items, the most fragile first (their rows are read again, one at a time, as the copies come to them). */
function volatileFirst(db: Db, snapshotId: number): number[] {
  const states = new Map(
    (db.prepare(`SELECT pid, state FROM processes WHERE snapshot_id = ?`).all(snapshotId) as Array<{ pid: number; state: string | null }>).map((row) => [row.pid, row.state]),
  );
  const orderable = listItems(db, snapshotId).map((item) => ({
    id: item.id, kind: item.kind, memfd: ofMemfd(item), size: item.size, fsType: item.fs_type, processState: states.get(item.pid) ?? null, allocated: allocatedBytes(item),
  }));
  return orderByVolatility(orderable, memoryBytes()).map((item) => item.id);
}

/** The data a file in memory holds now (st_blocks x 512) through its /proc link; null for any other file, or when it cannot be told. */
function allocatedBytes(item: ItemRow): number | null {
  if (!inMemory({ kind: item.kind, memfd: ofMemfd(item), fsType: item.fs_type })) return null;
  const source = sourcePath(item);
  return source === null ? null : tryOr(() => fs.statSync(source).blocks * 512, null);
}

/** RAM and swap: no file kept in memory holds more data than that. */
function memoryBytes(): number {
  const swapKb = tryOr(() => Number(/^SwapTotal:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'latin1'))?.[1] ?? 0), 0);
  return os.totalmem() + swapKb * 1024;
}
