import fs from 'node:fs';
import { EXIT, UnlinkedError, type ExitCode } from '../errors.js';
import type { CommandContext } from '../cli/context.js';
import { openCase } from '../store/db.js';
import { takeSnapshot } from '../proc/snapshot.js';
import type { UnreadableProcess, WalkCounts } from '../proc/types.js';
import { readProcView } from '../proc/procView.js';

export interface SnapshotCommandOptions {
  pid?: number[];
  lsof?: boolean;
}

export async function snapshotCommand(ctx: CommandContext, options: SnapshotCommandOptions): Promise<ExitCode> {
  // A /proc that is no procfs, or another PID namespace's: refused before the case is touched.
  const view = readProcView();
  if (options.pid !== undefined) {
    // None of them there: an empty snapshot would only hide the case's last real one (list and recover take the newest).
    const asked = [...new Set(options.pid)];
    if (asked.every((pid) => !fs.existsSync(`/proc/${pid}`))) {
      const hiding = view.hidepid === null ? '' : `, or /proc, mounted with hidepid=${view.hidepid.mode}, hides it from this user: run as root`;
      throw new UnlinkedError('NOT_FOUND', `no process ${asked.join(', ')} on this host (not in /proc: exited, or never was${hiding}): nothing stored`);
    }
  }
  const kase = openCase(ctx.caseDir, { create: true, onLockWait: (text) => ctx.info(text) });
  try {
    const summary = await takeSnapshot(kase, { view, lsof: options.lsof !== false, lastStep: true, ...(options.pid === undefined ? {} : { pids: options.pid }) });
    // Said on stderr and in the JSON alike: why the exit is 3, and which processes.
    const warnings = [...summary.warnings, ...unreadableWarnings(summary.counts, summary.unreadable)];
    for (const warning of warnings) ctx.warn(warning);
    const kinds = Object.entries(summary.itemsByKind).map(([kind, count]) => `${count} ${kind}`).join(', ');
    if (summary.crossCheck !== null) {
      const { both, procOnly, lsofOnly, notItems } = summary.crossCheck;
      const others = notItems === 0 ? '' : `; ${notItems} of its records of deleted files are no items (a FIFO, directory, symbolic link, device, socket or message queue: nothing to copy; docs/limits.md)`;
      ctx.info(`lsof: ${both} items seen by both, ${procOnly} by /proc only, ${lsofOnly} by lsof only${others}`);
    }
    ctx.info(`snapshot ${summary.snapshotId}: ${summary.counts.processesSeen} processes, ${summary.counts.fdsSeen} fds, ${summary.items} deleted-but-open items${kinds === '' ? '' : ` (${kinds})`}; case ${kase.paths.dir}`);
    if (ctx.json) {
      const { counts } = summary;
      ctx.out(
        JSON.stringify({
          snapshot_id: summary.snapshotId,
          processes_seen: counts.processesSeen,
          processes_vanished: counts.processesVanished,
          processes_unreadable: counts.processesUnreadable,
          processes_unreadable_own: counts.processesUnreadableOwn,
          unreadable_processes: unreadableJson(summary.unreadable),
          fds_seen: counts.fdsSeen,
          fds_vanished: counts.fdsVanished,
          items: summary.items,
          items_by_kind: summary.itemsByKind,
          lsof: summary.lsofStatus,
          cross_check: summary.crossCheck === null ? null : { both: summary.crossCheck.both, proc_only: summary.crossCheck.procOnly, lsof_only: summary.crossCheck.lsofOnly, not_items: summary.crossCheck.notItems },
          // Each line said on stderr: the snapshot's, and those said before it (a program taken from outside PATH).
          warnings: [...ctx.warned],
          unanswered_mounts: summary.unanswered.length,
        }),
      );
    }
    // Processes asked for by PID that were not there (or exited before the walk read them): each
    // named in the warnings (printed above, in the JSON and the database).
    const missing = options.pid === undefined ? 0 : summary.counts.processesVanished;
    // Files on a mount that did not answer were not examined, nor those of processes that could
    // not be read (not root, a security module) or that /proc hides: a deleted one may be missing.
    return summary.unanswered.length === 0 && missing === 0 && summary.counts.processesUnreadable === 0 && !summary.viewLimited && summary.timesUnread === 0 ? EXIT.ok : EXIT.partial;
  } finally {
    kase.close();
  }
}

/**
 * Not root: say how to see everything, as what was refused: other users' processes, and this user's
 * own that the kernel shows to root only in part. Root and still refused (LSM, sandbox): say that
 * instead, naming the first of them. The lines go to stderr and into the JSON's `warnings`.
 */
export function unreadableWarnings(counts: Pick<WalkCounts, 'processesUnreadable' | 'processesUnreadableOwn' | 'processesUnreadableOwnMaps' | 'processesSeen'>, listed: readonly UnreadableProcess[]): string[] {
  const { processesUnreadable: unreadable, processesUnreadableOwn: own, processesUnreadableOwnMaps: ownMaps, processesSeen: seen } = counts;
  if (unreadable === 0) return [];
  if (process.geteuid?.() === 0) {
    const named = listed.slice(0, NAMED_AS_ROOT).map(({ pid, comm }) => `pid ${pid}${comm === null ? '' : ` (${comm})`}`).join(', ');
    const more = unreadable - Math.min(listed.length, NAMED_AS_ROOT);
    return [`${unreadable} of ${seen} processes could not be fully read even as root (a security module or sandbox refused; see processes.read_error): ${named}${more > 0 ? ` and ${more} more` : ''}`];
  }
  const said: string[] = [];
  const others = unreadable - own;
  if (others > 0) said.push(`run as root to read other users' processes: ${others} of ${seen} processes could not be fully read (see processes.read_error)`);
  if (ownMaps > 0) {
    said.push(`${ownMaps} of this user's own processes could not be fully read: the kernel shows the files a process maps (map_files) to root only, so a deleted file one of them maps without holding it open is missed; run as root to see those (see processes.read_error)`);
  }
  if (own > ownMaps) {
    said.push(`${own - ownMaps} of this user's own processes could not be fully read: the kernel refused (a process that is not dumpable: set-uid, or PR_SET_DUMPABLE 0; or a security module); run as root to read them (see processes.read_error)`);
  }
  return said;
}

/** Processes root could not read named in its warning line (all of them, up to UNREADABLE_LISTED, in the JSON). */
const NAMED_AS_ROOT = 5;

/** The JSON's `unreadable_processes`: which processes could not be fully read and why, as processes.read_error has it. */
export function unreadableJson(listed: readonly UnreadableProcess[]): Array<{ pid: number; comm: string | null; read_error: string }> {
  return listed.map(({ pid, comm, readError }) => ({ pid, comm, read_error: readError }));
}
