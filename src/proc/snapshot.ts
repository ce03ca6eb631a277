// One live snapshot: walk /proc while lsof runs alongside, and store it all in one transaction (a
// killed run leaves no half snapshot: an unfinished transaction is rolled back when the case is next
// opened). On a big host the transaction lives in a worker thread that stores the walk's rows while
// the walk goes on (src/store/snapshotStore.ts says when).
import fs from 'node:fs';
import path from 'node:path';
import { UnlinkedError, controlsEscaped, oneLine } from '../errors.js';
import { deletedLoopBackings } from '../util/blockDevices.js';
import { displayBytes, displayText } from '../util/bytes.js';
import { tryOr } from '../util/tryOr.js';
import type { Case } from '../store/db.js';
import { nowIso } from '../store/db.js';
import type { CrossCheck } from '../store/lsof.js';
import { hostMeta } from '../store/snapshots.js';
import { openSnapshotStore, type StoreMode } from '../store/snapshotStore.js';
import { lsofInstalled, startLsof, type LsofScope } from '../tools/lsof.js';
import { TOOL_VERSION } from '../version.js';
import { processOf } from './tasks.js';
import { describeUnanswered, mayWait, probeMounts, type ProbeResult, type UnansweredMount } from './mountProbe.js';
import { deletedBindMounts, type DeletedBindMount } from './mounts.js';
import { sweepCaptureLeftovers } from '../lsof/captures.js';
import { coveredWarning, foreignPidNsWarning, hidepidWarning, readProcView, type ProcView } from './procView.js';
import { listPids, walkPids } from './walk.js';
import { workerFits } from '../util/addressSpace.js';
import { readExactTimes } from './exactTimes.js';
import { startWalkWatchdog } from './walkWatchdog.js';
import type { ItemKind, UnreadableProcess, WalkCounts } from './types.js';
import { caseFolder } from '../util/caseFolder.js';
import { beginStep, commitStep, onSignalExit } from '../util/interrupt.js';

export interface SnapshotOptions {
  pids?: readonly number[];
  /** Run lsof +L1 alongside the walk (when installed); its raw output is kept in the case. */
  lsof?: boolean;
  /** Where rows are stored while the walk runs (default: by the host's size and free cores). */
  store?: StoreMode;
  /** /proc as checked before the case was opened (readProcView); read here when not given. */
  view?: ProcView;
  /** Nothing but printing is left after the snapshot's commit: a signal then no longer stops the run (util/interrupt.ts). */
  lastStep?: boolean;
}

export interface SnapshotSummary {
  snapshotId: number;
  counts: WalkCounts;
  items: number;
  itemsByKind: Partial<Record<ItemKind, number>>;
  lsofStatus: string;
  crossCheck: CrossCheck | null;
  warnings: string[];
  /** Network or FUSE mounts that did not answer: their files were not examined (exit 3). */
  unanswered: UnansweredMount[];
  /** The processes that could not be fully read (the first UNREADABLE_LISTED; counts.processesUnreadable says how many). */
  unreadable: UnreadableProcess[];
  /** Processes left out by /proc itself (a mount over a /proc/PID, a PID namespace not the host's): said in the warnings (exit 3). */
  viewLimited: boolean;
  /** Items whose times (2^53 s or more, which node rounds) could not be read again: stored null, said (exit 3). */
  timesUnread: number;
}

export async function takeSnapshot(kase: Case, options: SnapshotOptions): Promise<SnapshotSummary> {
  const startedAt = nowIso();
  const warnings: string[] = [];
  beginStep('the snapshot under way is not stored (rolled back)');
  // Before anything is stored: a /proc that is no procfs, or another PID namespace's, is refused.
  const view = options.view ?? readProcView();
  // A PID named twice is walked once (its rows are keyed by it). A thread's TID stands for its
  // process: walked whole, with that thread's fd table if it has one of its own.
  const asked = options.pids?.map((pid) => ({ pid, leader: processOf(pid) })) ?? [];
  for (const { pid, leader } of asked) if (leader !== pid) warnings.push(`--pid ${pid} is a thread of process ${leader}: that process was walked (its threads' own fd tables included)`);
  const pids = options.pids === undefined ? listPids() : [...new Set(asked.map(({ leader }) => leader))];
  const withLsof = options.lsof === true && lsofInstalled();
  const meta = hostMeta(TOOL_VERSION, startedAt);
  // A host name that is not UTF-8 comes to node with U+FFFD in place of its bytes: they are kept here.
  const hostBytes = meta.host?.includes('\ufffd') === true ? tryOr(() => fs.readFileSync('/proc/sys/kernel/hostname').subarray(0, -1), null) : null;
  if (hostBytes !== null && meta.host !== null && !hostBytes.equals(Buffer.from(meta.host, 'utf8'))) {
    warnings.push(`the host name is not valid UTF-8: stored as ${displayText(meta.host)}, its bytes are ${displayBytes(hostBytes)} (hex ${hostBytes.toString('hex')})`);
  }
  const store = openSnapshotStore(kase, meta, { mode: options.store, processes: pids.length, busyBeside: withLsof ? 1 : 0 });
  /** Until the snapshot is committed, its lsof capture is removed if the run stops (no row would name it). */
  let uncommittedCapture: { unhook: () => void; remove: () => void } | null = null;
  try {
    // Network and FUSE mounts that do not answer would hang the walk (and lsof): asked first.
    const probe = await probeMounts(pids, '/proc', store.record);
    const unanswered = probe.unanswered;
    let lsofStatus = 'skipped (--no-lsof)';
    let lsofFile: string | null = null;
    let capture: Promise<{ exitCode: number; stderr: string }> | null = null;
    const lsofScope = keepLsofAway(probe, options.pids === undefined ? undefined : pids);
    const unnamed = unnameableToLsof(probe);
    if (options.lsof === true) {
      if (withLsof && lsofScope.pids?.length === 0) {
        lsofStatus = 'skipped (every process asked for is in a mount namespace with a mount that did not answer)';
      } else if (withLsof && unnamed !== null) {
        lsofStatus = 'skipped (a mount that did not answer has a mount point that is not UTF-8, which lsof -e cannot be given)';
        warnings.push(`lsof was not run, the snapshot holds the /proc walk only: ${describeUnanswered(unnamed)} did not answer, and lsof -e cannot be given its mount point (not UTF-8): lsof would wait on it`);
      } else if (withLsof) {
        const dir = path.join(kase.paths.dir, 'lsof');
        caseFolder(dir);
        const capturePath = path.join(dir, `live-${startedAt.replace(/[:.]/g, '')}-${process.pid}.F0.txt`);
        lsofFile = capturePath;
        const remove = (): void => tryOr(() => fs.rmSync(capturePath, { force: true }), undefined);
        uncommittedCapture = { unhook: onSignalExit(remove), remove };
        // Running before the walk starts: the walk keeps this thread busy until it ends.
        capture = (await startLsof(lsofFile, store.record, lsofScope)).done;
      } else {
        lsofStatus = 'not installed (apt-get install lsof)';
        warnings.push('lsof is not installed: the snapshot holds the /proc walk only (apt-get install lsof)');
      }
    }
    // A file system that answered the probe may still stop answering during the walk: watched then.
    // Its thread needs address space a limit (ulimit -v) may not leave: a thread that cannot start aborts the process.
    const watched = probe.answered > 0 && workerFits();
    if (probe.answered > 0 && !watched) warnings.push('the walk is not watched for a network or FUSE file system that stops answering: the address-space limit (ulimit -v) leaves no room for the watchdog thread');
    const watchdog = watched ? startWalkWatchdog() : null;
    /** With --pid: the processes stored, to name those asked for that were not. */
    const stored = new Set<number>();
    /** A process of each mount namespace walked (a deleted bind mount is read from one). */
    const pidOfNamespace = new Map<string, number>();
    let walk;
    try {
      walk = await walkPids(pids, '/proc', (chunk) => {
        if (options.pids !== undefined) for (const row of chunk.processes) stored.add(row.pid);
        for (const row of chunk.processes) if (row.mntNs !== null && !pidOfNamespace.has(row.mntNs)) pidOfNamespace.set(row.mntNs, row.pid);
        store.writeChunk(chunk);
      }, unanswered, undefined, watchdog?.progress ?? null);
    } finally {
      await watchdog?.stop();
    }
    // What /proc itself hides: of the whole host, or of a process asked for.
    const hidden = view.covered.filter((covered) => options.pids === undefined || pids.includes(covered.pid));
    for (const covered of hidden) warnings.push(`${options.pids === undefined ? '' : `--pid ${covered.pid}: `}${coveredWarning(covered)}`);
    if (options.pids === undefined && view.foreignPidNs !== null) warnings.push(foreignPidNsWarning(view.foreignPidNs));
    if (options.pids === undefined && view.hidepid !== null) warnings.push(hidepidWarning(view.hidepid));
    const viewLimited = hidden.length > 0 || (options.pids === undefined && (view.foreignPidNs !== null || view.hidepid !== null));
    // A process asked for by PID and not stored is said by its number, in the snapshot's warnings.
    for (const pid of options.pids === undefined ? [] : pids.filter((leader) => !stored.has(leader) && leader !== process.pid && !hidden.some((covered) => covered.pid === leader))) {
      warnings.push(`--pid ${pid}: no such process, or it exited before the walk read it${view.hidepid === null ? '' : `, or /proc hides it (hidepid=${view.hidepid.mode})`}: not in this snapshot`);
    }
    // Times node's stat rounded (2^53 s or more either way): read again exactly, one stat process per
    // such item (none on an ordinary host), stored over the walk's nulls in the same transaction.
    let timesUnread = 0;
    if (walk.roundedTimes.length > 0) {
      const exact = await readExactTimes(walk.roundedTimes, store.record);
      walk.exactTimes = exact.times;
      timesUnread = exact.warnings.length;
      warnings.push(...exact.warnings);
    }
    store.walked(walk);
    warnings.push(...walk.warnings);
    if (options.pids === undefined) {
      for (const loop of deletedLoopBackings()) {
        warnings.push(
          `loop device ${loop.device} reads from a file the kernel names ${displayBytes(loop.backing)}: a file deleted while the loop device keeps it (by the kernel, ` +
            `not a process: no item); its content${loop.offset === 0 ? '' : ` from byte ${loop.offset}`} can be read from ${loop.device} (image scan ${loop.device}; docs/limits.md)`,
        );
      }
    }
    for (const bound of deletedBindMounts(walk.mounts)) warnings.push(deletedBindWarning(bound, pidOfNamespace));
    let crossCheck: CrossCheck | null = null;
    if (capture !== null && lsofFile !== null) {
      let failed: string | null = null;
      let ran: { exitCode: number; stderr: string } | null = null;
      try {
        ran = await capture;
      } catch (error) {
        // lsof killed by a Ctrl-C or a kill (not ours) is the run interrupted, not lsof failing.
        if (error instanceof UnlinkedError && error.code === 'INTERRUPTED') throw error;
        failed = oneLine(error);
      }
      if (ran !== null) {
        const firstWarning = ran.stderr.split('\n').find((line) => line.startsWith('lsof: WARNING'));
        // lsof's words quote a mount point, whose name is its mounter's: stored as a message is, never raw.
        if (firstWarning !== undefined) warnings.push(controlsEscaped(firstWarning));
        // Rejects only when the store itself failed; a capture it cannot read comes back as `error`.
        const stored = await store.storeLsof(lsofFile);
        if (stored.error === null) {
          crossCheck = stored.crossCheck;
          lsofStatus = `ran: ${stored.records} records, exit ${ran.exitCode}${stored.unreadableLines > 0 ? `, ${stored.unreadableLines} unreadable lines` : ''}`;
        } else {
          failed = stored.error;
        }
      }
      if (failed !== null) {
        lsofStatus = `failed: ${failed}`;
        warnings.push(`lsof failed, the snapshot holds the /proc walk only: ${failed}`);
      }
    }
    // A signal the walk or the store kept node from handling stops the run here, before the commit.
    const committed = await commitStep(() => store.commit(lsofStatus, warnings), ({ snapshotId }) => `snapshot ${snapshotId}`, options.lastStep === true);
    uncommittedCapture?.unhook();
    uncommittedCapture = null;
    // Captures of snapshots killed (SIGKILL) before they were stored: no row names them, their PID is gone.
    sweepCaptureLeftovers(kase.db, path.join(kase.paths.dir, 'lsof'));
    return { snapshotId: committed.snapshotId, counts: walk.counts, items: committed.items, itemsByKind: committed.itemsByKind, lsofStatus, crossCheck, warnings, unanswered, viewLimited, unreadable: walk.unreadable, timesUnread };
  } catch (error) {
    uncommittedCapture?.unhook();
    uncommittedCapture?.remove();
    // A store that failed says why; the step that noticed (the walk) only saw it stop.
    throw (await store.close()) ?? error;
  } finally {
    await store.close();
  }
}

/**
 * What lsof must not touch: the mount points, as lsof sees them in this process's mount namespace,
 * of the mounts here that did not answer (lsof -e); and every process of another mount namespace
 * with such a mount (left out of `pids`, or lsof -p ^PID), since -e can only name paths of lsof's
 * own namespace. `pids` comes back empty when every process asked for is left out.
 */
function keepLsofAway(probe: ProbeResult, pids: readonly number[] | undefined): LsofScope {
  const asked = pids !== undefined && pids.length > 0 ? pids : undefined;
  if (probe.unanswered.length === 0) return { pids: asked, exempt: [], skipPids: [] };
  let own: string | null = null;
  try {
    own = fs.readlinkSync('/proc/self/ns/mnt');
  } catch {
    // unknown: every namespace counts as another one
  }
  // Kernel bytes are kept as latin1 text; an argument travels as UTF-8 (one that is not: unnameableToLsof).
  const exempt = probe.unanswered.filter((mount) => mount.mntNs === own).map((mount) => Buffer.from(mount.mountPoint, 'latin1').toString('utf8'));
  const foreign = new Set(probe.unanswered.filter((mount) => mount.mntNs !== own).map((mount) => mount.mntNs));
  const skipPids = [...foreign].flatMap((mntNs) => probe.pidsByNamespace.get(mntNs) ?? []);
  if (asked === undefined) return { exempt, skipPids };
  const skip = new Set(skipPids);
  return { pids: asked.filter((pid) => !skip.has(pid)), exempt, skipPids: [] };
}

/**
 * A mount of this process's namespace that did not answer and whose mount point is not UTF-8, or
 * null: lsof -e cannot name it (an argument travels as UTF-8), and lsof would stat it and wait.
 */
function unnameableToLsof(probe: ProbeResult): UnansweredMount | null {
  const own = tryOr(() => fs.readlinkSync('/proc/self/ns/mnt'), null);
  return probe.unanswered.find((mount) => {
    const bytes = Buffer.from(mount.mountPoint, 'latin1');
    return mount.mntNs === own && !Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes);
  }) ?? null;
}

/** A bind-mounted file deleted since: where it was, where it is mounted, and a process of that mount namespace to read it from. */
function deletedBindWarning(bound: DeletedBindMount, pidOfNamespace: ReadonlyMap<string, number>): string {
  const what = bound.path === null ? `${displayBytes(bound.root)} (its path within the file system)` : displayBytes(bound.path);
  let directory = false;
  const shown = bound.mountPoints.slice(0, 3).map(({ mountPoint, mntNs }) => {
    const pid = pidOfNamespace.get(mntNs);
    // Seen from a process of that namespace: a directory removed while bind-mounted is empty, nothing to read.
    // Not on a network or FUSE file system, whose stat may never come back (this thread would hang).
    if (pid !== undefined && !mayWait(bound.fsType)) directory ||= tryOr(() => fs.statSync(Buffer.concat([Buffer.from(`/proc/${pid}/root`), mountPoint])).isDirectory(), false);
    return `${displayBytes(mountPoint)} (mount namespace ${mntNs}${pid === undefined ? '' : `, pid ${pid}`})`;
  });
  const where = `${bound.dev} (${bound.fsType}) was deleted while bind-mounted on ${shown.join(', ')}${bound.mountPoints.length > 3 ? ` and ${bound.mountPoints.length - 3} more` : ''}`;
  if (directory) return `the directory ${what} on ${where}: the mount keeps it, empty (a removed directory holds no entries): a trace, nothing to copy`;
  return `${what} on ${where}: the mount keeps it, even when no process holds it open; ` +
    'its content can be read at that mount point, from a process of its mount namespace (nsenter -m -t PID; docs/limits.md)';
}
