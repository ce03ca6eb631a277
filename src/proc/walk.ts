// The live walk: every process in /proc, its fd table, fdinfo, maps/map_files, exe, namespaces.
// Synchronous on purpose: ~100k readlink+stat calls are fastest as plain syscalls, and a
// snapshot is a point in time, not something to interleave with other work.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { errnoCode } from '../errors.js';
import { displayBytes } from '../util/bytes.js';
import { O_TMPFILE_BIT, devString, parseFdInfo, parseIoUringFiles, parseMaps, parseProcStat, type MapsEntry } from '../../parsers/procfs.js';
import { u64, type U64 } from '../../parsers/types.js';
import { describeUnanswered, PROBE_TIMEOUT_MS, type UnansweredMount } from './mountProbe.js';
import { MountTable, type Mount, type NamespaceMounts } from './mounts.js';
import { chooseLiveTask } from './tasks.js';
import { tryOr } from '../util/tryOr.js';
import { CAP, hasCapability } from '../util/caps.js';
import { FD, PID, SEQ, WHAT, WHAT_EXE, WHAT_FD, WHAT_MAP, WHAT_NONE } from './walkWatchdog.js';
import { FD_NUMBERS, type FdColumns, type ItemKind, type ItemRevision, type LiveItem, type MapRow, type ProcessRecord, type RawBytes, type WalkResult, MQUEUE_MAGIC, UNREADABLE_LISTED } from './types.js';
import { floorSeconds } from '../util/time.js';
import { birthTimeNs, statxKnownLost, statxLost } from '../util/statx.js';
import { LeaseTable, leaseHeld, openEffect } from './leases.js';

const DELETED_SUFFIX = ' (deleted)';
const MEMFD_PREFIX = '/memfd:';
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

interface StatLite {
  dev: string;
  ino: U64;
  mode: number;
  size: U64;
  nlink: number;
  uid: number;
  gid: number;
  /** Seconds; null where node's stat could not give them exactly (2^53 s or more either way: see RoundedTimes). */
  atime: number | null;
  mtime: number | null;
  ctime: number | null;
  /** The birth time (ns text, null: none kept) when the stat was an exact one; undefined when not read. */
  btimeNs?: string | null;
}

function emptyWalk(): WalkResult {
  return {
    processes: [],
    fds: { count: 0, numbers: new Float64Array(0), exact: [], targets: '', devs: [] },
    maps: [],
    mounts: [],
    items: [],
    revisions: [],
    counts: { processesSeen: 0, processesVanished: 0, processesUnreadable: 0, processesUnreadableOwn: 0, processesUnreadableOwnMaps: 0, fdsSeen: 0, fdsVanished: 0 },
    warnings: [],
    unreadable: [],
    roundedTimes: [],
  };
}

/** A chunk also ends after this many fds, or mappings: the store keeps pace, and the last chunk is small. */
const CHUNK_FDS = 2048;
const CHUNK_MAPS = 8192;
/**
 * ...or once its rows pass about this many bytes (their paths, and ROW_BYTES or ITEM_BYTES each),
 * within a process too: a process is handed on in parts. Bounded by rows alone, 16 processes of
 * 16,000 fds whose paths are near PATH_MAX went as a chunk of 64 MB each (a process at a time), up
 * to 16 of them queued for the store: 717 MB of RSS or more. Measured there with the store thread:
 * chunks of 1 MiB peaked at 186-241 MB (10-100% of the fds deleted), of 256 KiB at 145-152 MB.
 */
export const CHUNK_BYTES = 256 << 10;
/** About what an fd's or a mapping's row takes besides its path, and an item besides its path and exe. */
const ROW_BYTES = 64;
const ITEM_BYTES = 512;

/** What the walk left unexamined on each mount that did not answer (see mountProbe.ts). */
interface NotExamined {
  fds: number;
  maps: number;
  exes: number;
}

/**
 * Records of some processes, handed on before the walk ends so storing overlaps walking. A process's
 * row comes once it is walked whole (it changes to its end: its read errors, its exe named from
 * maps); its fds, mappings and items may come before, in earlier chunks, when it has many, and what
 * changed in those items since is said in `revisions`.
 */
export type WalkChunk = Pick<WalkResult, 'processes' | 'fds' | 'maps' | 'items' | 'revisions'>;

/** The rows walked and not handed on yet (kept in the walk's result), and when they make a chunk. */
class PendingChunk {
  readonly fds = new FdColumnsBuilder();
  /** Of the maps and items. */
  private bytes = 0;

  constructor(
    private readonly result: WalkResult,
    private readonly onChunk: (chunk: WalkChunk) => void,
  ) {}

  addMap(row: MapRow): void {
    this.result.maps.push(row);
    this.bytes += row[6].length + ROW_BYTES;
  }

  /** An item of the process being walked, kept by it in `items` until it is walked whole or the chunk is sent. */
  addItem(items: LiveItem[], item: LiveItem): void {
    items.push(item);
    this.bytes += item.path.length + (item.exe?.length ?? 0) + ITEM_BYTES;
  }

  /** Past a bound in rows or in bytes. */
  get full(): boolean {
    return this.fds.count >= CHUNK_FDS || this.result.maps.length >= CHUNK_MAPS || this.fds.bytes + this.fds.count * ROW_BYTES + this.bytes >= CHUNK_BYTES;
  }

  /**
   * Hand on the processes walked whole, their items, and every fd and mapping read so far; `partial`:
   * the items so far of the process being walked (emptied here).
   */
  send(partial: LiveItem[] = []): void {
    const { result } = this;
    if (result.processes.length === 0 && result.items.length === 0 && partial.length === 0 && result.maps.length === 0 && this.fds.count === 0) return;
    const items = partial.length === 0 ? result.items : result.items.concat(partial.splice(0));
    this.onChunk({ processes: result.processes, fds: this.fds.take(), maps: result.maps, items, revisions: result.revisions });
    result.processes = [];
    result.maps = [];
    result.items = [];
    result.revisions = [];
    this.bytes = 0;
  }
}

/**
 * Walk the given processes in this thread. The records of every `chunkSize` processes (or CHUNK_FDS
 * fds, CHUNK_MAPS mappings, CHUNK_BYTES of their paths, reached within a process too) go to onChunk
 * (and are dropped here) as they are ready, so the store writes them while the walk goes on and the
 * walk holds a bounded part of them; the result holds only mounts, counts and warnings.
 * One walking thread: measured on 2 cores at 100k fds, walking in worker threads saved ~10% without
 * lsof, cost ~30% with lsof running alongside, and ~100 MB of RSS (and workers cannot chdir).
 */
export async function walkPids(
  pids: readonly number[],
  procRoot: string,
  onChunk: (chunk: WalkChunk) => void,
  unanswered: readonly UnansweredMount[] = [],
  chunkSize = 16,
  /** Bumped before every stat, for a watchdog (walkWatchdog.ts); null: none watches. */
  progress: Int32Array | null = null,
): Promise<WalkResult> {
  const result = emptyWalk();
  const mounts = new MountTable(unanswered, pids.map((pid) => `${procRoot}/${pid}`));
  // Read once: the leases an open of an item would break (recover reads it again before each open).
  const leases = LeaseTable.read(procRoot);
  if (leases.unreadable.length > 0) {
    const lines = leases.unreadable;
    result.warnings.push(
      `${procRoot}/locks: ${lines.length} line${lines.length === 1 ? '' : 's'} did not read as a lock or lease (line ${lines.slice(0, 5).join(', ')}${lines.length > 5 ? ', ...' : ''}): ` +
        'a lease there on an item is not known, and recover\'s open of the item could break it (or wait for it) unwarned (docs/limits.md)',
    );
  }
  const notExamined = new Map<UnansweredMount, NotExamined>(unanswered.map((mount) => [mount, { fds: 0, maps: 0, exes: 0 }]));
  const pending = new PendingChunk(result, onChunk);
  // A mapped library is shared by hundreds of processes: stat it once per walk.
  const mapStatCache = new Map<string, StatLite | string>();
  const countedOnly: CountedOnly[] = [];
  let inChunk = 0;
  const flush = (): void => {
    pending.send();
    inChunk = 0;
  };
  // Inside /proc/PID/fd, "N" is looked up from there instead of from "/" on every readlink and
  // stat: measured at 100k fds, 23% less kernel time than "/proc/PID/fd/N". Only the main thread
  // can chdir; between its yields (below) the walk is synchronous, so nothing else runs while the
  // directory is changed.
  let home = isMainThread ? tryOr(() => process.cwd(), null) : null;
  try {
    /** Every row walked (processes, and threads with fd tables of their own): each once. */
    const walked = new Set<number>();
    for (const pid of pids) {
      if (pid === process.pid || walked.has(pid)) continue; // our own process is not evidence
      walked.add(pid);
      const { ownTables, held } = walkProcess(procRoot, pid, result, pending, mounts, leases, mapStatCache, home !== null, notExamined, progress, null, countedOnly);
      // A thread with an fd table of its own can hold a deleted file the process's table does not show.
      for (const tid of ownTables.filter((tid) => !walked.has(tid))) {
        walked.add(tid);
        walkProcess(procRoot, tid, result, pending, mounts, leases, mapStatCache, home !== null, notExamined, progress, { pid, held }, countedOnly);
      }
      if (++inChunk >= chunkSize || pending.full) {
        flush();
        // The event loop gets a turn after each chunk: a Ctrl-C stops a walk of 10,000 processes
        // within a few ms instead of when it ends, and lsof's and the store thread's events are
        // taken meanwhile. Back home first: what runs then may use a relative path.
        if (home !== null) home = returnHome(home, result);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  } finally {
    if (home !== null) returnHome(home, result);
  }
  flush();
  result.fds = pending.fds.take();
  result.mounts = mounts.records();
  if (countedOnly.length > 0) {
    const largest = countedOnly.reduce((a, b) => (b.threads * b.fds > a.threads * a.fds ? b : a));
    result.warnings.push(
      `${countedOnly.length} process${countedOnly.length === 1 ? '' : 'es'} with many threads and fds (the largest: pid ${largest.pid} ${largest.comm ?? '?'}, ` +
        `${largest.threads} threads x ${largest.fds} fds) had their threads' fd tables told apart by their fd counts (or numbers) only, not link by link: ` +
        'a thread keeping a table of its own with exactly as many fds as its process (unshare(CLONE_FILES)) would be missed there (docs/limits.md)',
    );
  }
  for (const [mount, left] of notExamined) {
    result.warnings.push(
      `${describeUnanswered(mount)} (mount namespace ${mount.mntNs}) did not answer a stat within ${PROBE_TIMEOUT_MS / 1000} s: a server or FUSE daemon that stopped ` +
        `answering. Not examined there: ${left.fds} fds, ${left.maps} mappings, ${left.exes} executables; a deleted file on it is not in this snapshot`,
    );
  }
  return result;
}

export function listPids(procRoot = '/proc'): number[] {
  const pids: number[] = [];
  for (const name of fs.readdirSync(procRoot)) {
    const code = name.charCodeAt(0);
    if (code >= 0x30 && code <= 0x39) pids.push(Number(name));
  }
  return pids.sort((a, b) => a - b);
}

/** Back to where the walk started (or "/" when that directory is gone since): where it is now. */
function returnHome(home: string, result: WalkResult): string {
  try {
    process.chdir(home);
    return home;
  } catch (error) {
    process.chdir('/');
    result.warnings.push(`the working directory ${home} went away during the walk (${errnoCode(error) ?? String(error)}): now /`);
    return '/';
  }
}

function walkProcess(
  procRoot: string,
  pid: number,
  result: WalkResult,
  /** Where its fds, mappings and items go; handed on part by part, before the process's row, when they are many. */
  pending: PendingChunk,
  mounts: MountTable,
  leases: LeaseTable,
  mapStatCache: Map<string, StatLite | string>,
  mayChdir: boolean,
  notExamined: Map<UnansweredMount, NotExamined>,
  progress: Int32Array | null,
  /**
   * Walking the fd table of a thread (pid is its TID) of process `of.pid`: its maps and exe are the
   * process's, and so are the deleted files it holds too (`of.held`, dev/inode): listed there.
   */
  of: { pid: number; held: ReadonlySet<string> } | null,
  /** Where a process whose threads were told apart by fd counts only is noted. */
  countedOnly: CountedOnly[],
): { ownTables: number[]; held: Set<string> } {
  const threadOf = of?.pid ?? null;
  const heldInodes = new Set<string>();
  const none = { ownTables: [], held: heldInodes };
  const base = `${procRoot}/${pid}`;
  let statText: string;
  try {
    statText = readSmall(`${base}/stat`, 'latin1');
  } catch (error) {
    // A thread that exited since it was found is no process that vanished.
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ESRCH') result.counts.processesVanished += threadOf === null ? 1 : 0;
    else result.warnings.push(`${threadOf === null ? `pid ${pid}` : `thread ${pid} of pid ${threadOf}`}: cannot read stat: ${errnoCode(error) ?? String(error)}`);
    return none;
  }
  const procStat = parseProcStat(statText);
  if (threadOf === null) result.counts.processesSeen++; // a thread walked for its own fd table is no process more
  const errors: string[] = [];
  // A main thread that has exited while other threads run leaves a zombie leader whose fd, maps,
  // exe, ns links and mountinfo read empty or fail (lsof sees nothing there either): they are read
  // through a live thread instead.
  const live = threadOf === null && procStat?.state === 'Z' ? chooseLiveTask(base, pid) : null;
  const files = live?.dir ?? base;
  if (live !== null && live.tied.length > 0) {
    result.warnings.push(
      `pid ${pid}: its main thread has exited and its threads hold fd tables of different sizes, each shared by as many threads (thread ${live.tid}; ${live.tied.map((tid) => `thread ${tid}`).join(', ')}): ` +
        `which one was the process's cannot be told; its files are listed as the process's through thread ${live.tid}, another table's as a thread's own`,
    );
  }
  const record: ProcessRecord = {
    pid,
    ppid: procStat?.ppid ?? null,
    startTime: procStat?.startTime ?? null,
    state: procStat?.state ?? null,
    uid: tryOr(() => fs.statSync(base).uid, null),
    // Any bytes (prctl PR_SET_NAME): kept in the display form, reversible, with controls, invalid
    // UTF-8 and bidi overrides written \xHH (a decoded name would lose bytes, or disguise itself).
    comm: procStat === null ? null : displayBytes(Buffer.from(procStat.comm, 'latin1')),
    cmdline: tryOr(() => fs.readFileSync(`${base}/cmdline`, 'latin1'), null),
    exe: null,
    exeDeleted: null,
    exeDev: null,
    exeInode: null,
    mntNs: tryOr(() => fs.readlinkSync(`${files}/ns/mnt`), null),
    pidNs: tryOr(() => fs.readlinkSync(`${files}/ns/pid`), null),
    cgroup: tryOr(() => readSmall(`${base}/cgroup`, 'utf8').trim(), null),
    readError: null,
    threadOf,
  };
  const { fds } = pending;
  /** Its items not handed on yet: they may change until its walk ends (a PID reused drops them). */
  const items: LiveItem[] = [];
  /** How many of its items went in chunks before its walk ended: what changes of them is said in a revision. */
  let handedOn = 0;
  /** Its first items (handed on or not), to name them. */
  const firstItems: LiveItem[] = [];
  const addItem = (item: LiveItem): void => {
    if (firstItems.length < 5) firstItems.push(item);
    pending.addItem(items, item);
  };
  const revision: ItemRevision = { pid, dropped: false, exe: null, birthTimesLost: false };
  const spillIfFull = (): void => {
    if (!pending.full) return;
    handedOn += items.length;
    pending.send(items);
  };
  const nsMounts = record.mntNs === null ? null : mounts.forNamespace(record.mntNs, files);
  // Only in a namespace with a mount that did not answer is a path looked up before its stat.
  const waiting: NamespaceMounts | null = nsMounts?.hasUnanswered === true ? nsMounts : null;
  const leftHere = new Map<UnansweredMount, number>();
  const leave = (mount: UnansweredMount, what: keyof NotExamined): void => {
    const counts = notExamined.get(mount);
    if (counts !== undefined) counts[what]++;
    leftHere.set(mount, (leftHere.get(mount) ?? 0) + 1);
  };

  // The process's own view of the mounts, read only when the namespace's table does not know one.
  let own: NamespaceMounts | null | undefined;
  const ownView = (): NamespaceMounts | null => (own ??= record.mntNs === null ? null : mounts.ownView(record.mntNs, files));
  const known = (check: (table: NamespaceMounts) => boolean): boolean => {
    if (nsMounts !== null && check(nsMounts)) return true;
    const view = ownView();
    return view !== null && check(view);
  };
  // An overlay's file shows the overlay's own device only when the inode number it shows is one of a
  // single file system's (its layers all on one, or xino: the upper layer's numbers unchanged); with
  // layers on several file systems and no xino, a device of each layer's own (docs/images.md).
  const upperLayer = (mount: Mount | null, dev: string): Pick<LiveItem, 'upperDev' | 'upperFsUuid'> => {
    const upper = mount !== null && mount.fsType === 'overlay' && mount.dev === dev ? mounts.upperOf(mount, files) : null;
    return { upperDev: upper?.dev ?? null, upperFsUuid: upper?.fsUuid ?? null };
  };
  /** `file`: the /proc link stat'ed (absolute), read again when node could not give its times exactly. */
  const makeItem = (kind: ItemKind, stat: StatLite, itemPath: RawBytes, file: string, extra: Partial<LiveItem>): LiveItem => {
    if (stat.atime === null || stat.mtime === null || stat.ctime === null) {
      result.roundedTimes.push({ pid, kind, fd: extra.fd ?? null, mapRange: extra.mapRange ?? null, file, dev: stat.dev, inode: stat.ino });
    }
    const mntId = extra.mntId ?? null;
    let mount = nsMounts === null ? null : nsMounts.find(mntId, stat.dev, itemPath);
    if ((mount === null || (mntId !== null && mount.mntId !== mntId)) && ownView() !== null) mount = ownView()?.find(mntId, stat.dev, itemPath) ?? mount;
    // /proc/locks names the super block's device: the mount's in mountinfo, st_dev but on btrfs and overlayfs.
    const lease = leases.on([stat.dev, mount?.dev ?? null], stat.ino);
    if (lease !== null) {
      const what = extra.fd !== undefined && extra.fd !== null ? `fd ${extra.fd}` : extra.mapRange !== undefined && extra.mapRange !== null ? `mapping ${extra.mapRange}` : kind;
      result.warnings.push(
        `${threadOf === null ? `pid ${pid}` : `thread ${pid} of pid ${threadOf}`} (${record.comm ?? '?'}) ${what} (${displayBytes(Buffer.from(itemPath, 'latin1'))}): ${leaseHeld(lease)}: ` +
          `${openEffect(lease)}: recover does not open it without --force-lease-break (docs/recovery.md)`,
      );
    }
    return {
      pid,
      startTime: record.startTime,
      comm: record.comm,
      exe: record.exe,
      kind,
      fd: null,
      mapRange: null,
      path: itemPath,
      dev: stat.dev,
      inode: stat.ino,
      size: stat.size,
      nlink: stat.nlink,
      mode: stat.mode,
      uid: stat.uid,
      gid: stat.gid,
      atime: stat.atime,
      mtime: stat.mtime,
      ctime: stat.ctime,
      btimeNs: null,
      pos: null,
      flags: null,
      mntId: null,
      mntNs: record.mntNs,
      mountPoint: mount?.mountPoint ?? null,
      fsType: mount?.fsType ?? null,
      fsUuid: mount === null ? null : mounts.uuidFor(mount),
      ...upperLayer(mount, stat.dev),
      lease: lease?.state ?? null,
      leasePid: lease?.pid ?? null,
      ...extra,
    };
  };

  // exe: the running binary; ENOENT for kernel threads, EACCES for others' processes as non-root.
  // A thread's is its process's, recorded there: only named here.
  let exeStat: StatLite | undefined;
  /** The deleted binary's item when readlink could not give its name (longer than PATH_MAX): named from maps below. */
  let unnamedExe: LiveItem | null = null;
  if (threadOf !== null) record.exe = tryOr(() => fs.readlinkSync(`${files}/exe`, 'latin1'), null);
  else try {
    let exeName: string | null = null;
    try {
      exeName = fs.readlinkSync(`${files}/exe`, 'latin1');
    } catch (error) {
      // A path longer than PATH_MAX (with " (deleted)"): the binary can still be stat'ed, and a deleted
      // one is listed as the exe it is, not as one more mapping.
      if (errnoCode(error) !== 'ENAMETOOLONG') throw error;
      errors.push('exe: readlink ENAMETOOLONG: its name could not be read; a deleted one is named from maps');
    }
    record.exe = exeName;
    const silent = exeName === null ? null : (waiting?.unansweredAt(exeName) ?? null);
    if (silent !== null) leave(silent, 'exes');
    else {
      about(progress, pid, -1, WHAT_EXE);
      try {
        exeStat = statLite(`${files}/exe`, exeName === null || exeName.endsWith(DELETED_SUFFIX));
      } finally {
        done(progress);
      }
    }
    if (exeStat !== undefined) {
      record.exeDeleted = exeStat.nlink === 0;
      record.exeDev = exeStat.dev;
      record.exeInode = exeStat.ino;
      if (exeStat.nlink === 0 && isRegular(exeStat.mode)) {
        const item = makeItem('exe', exeStat, exeName === null ? '' : stripDeleted(exeName), `${files}/exe`, { btimeNs: birthOf(`${files}/exe`, exeStat, progress, pid, -1, WHAT_EXE) });
        addItem(item);
        if (exeName === null) unnamedExe = item;
      }
    }
  } catch (error) {
    const code = errnoCode(error);
    if (code !== 'ENOENT') errors.push(`exe: ${code ?? String(error)}`);
  }

  // fd table
  /** With more than one thread: each fd's link as walked (its linkKey; null for a deleted file), to tell a thread's own table from this one. */
  const walkedLinks = threadOf === null && (procStat?.numThreads ?? 1) > 1 ? new Map<string, string | null>() : null;
  // The names are held whole (~40 bytes an fd): readdirSync sorts them as text, the order the fds'
  // rows and the items' ids have always had (a listing read as walked would come in fd order).
  let fdNames: string[] | null = null;
  /** What could not be read because the process exited during its walk (said, and counted once). */
  const gone: string[] = [];
  try {
    fdNames = fs.readdirSync(`${files}/fd`);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT') gone.push('its fds');
    else errors.push(`fd: ${code ?? String(error)}`);
  }
  // Relative names from inside the fd directory when we could enter it (see walkPids).
  const inside = fdNames !== null && mayChdir && tryOr(() => (process.chdir(`${files}/fd`), true), false);
  const fdDir = inside ? '' : `${files}/fd/`;
  const fdinfoDir = inside ? '../fdinfo/' : `${files}/fdinfo/`;
  let unreadableFds = 0;
  for (const name of fdNames ?? []) {
    spillIfFull();
    const fd = Number(name);
    const fdPath = fdDir + name;
    let target: RawBytes;
    try {
      target = fs.readlinkSync(fdPath, LATIN1);
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT') {
        result.counts.fdsVanished++;
        continue;
      }
      if (code === 'EACCES' || code === 'EPERM') {
        unreadableFds++;
        continue;
      }
      // The name cannot be read (ENAMETOOLONG: a path longer than PATH_MAX with " (deleted)"), but
      // the file can still be stat'ed: a deleted one is listed with no name rather than missed.
      errors.push(`fd ${fd}: readlink ${code ?? String(error)}: its name could not be read, listed with none`);
      target = '';
    }
    result.counts.fdsSeen++;
    walkedLinks?.set(name, target.endsWith(DELETED_SUFFIX) ? null : linkKey(target));
    // socket:[..], pipe:[..], anon_inode:[..] are not files with names.
    if (target !== '' && target.charCodeAt(0) !== 0x2f) {
      fds.add(pid, fd, target, null);
      if (target === IO_URING) ringHeldFiles(fdinfoDir + name, `${of === null ? `pid ${pid}` : `pid ${of.pid} (thread ${pid})`} (${record.comm ?? '?'})`, of?.pid ?? pid, fd, result);
      continue;
    }
    const silent = waiting?.unansweredAt(target) ?? null;
    if (silent !== null) {
      fds.add(pid, fd, target, null);
      leave(silent, 'fds');
      continue;
    }
    about(progress, pid, fd, WHAT_FD);
    const stat = statMapFile(fdPath, target.endsWith(DELETED_SUFFIX));
    done(progress);
    if (typeof stat === 'string') {
      fds.add(pid, fd, target, null);
      if (stat === 'ENOENT') result.counts.fdsVanished++;
      else errors.push(`fd ${fd}: ${stat}`);
      continue;
    }
    if (stat.nlink !== 0 || !isRegular(stat.mode)) {
      fds.add(pid, fd, target, stat);
      continue;
    }
    const info = tryOr(() => parseFdInfo(readSmall(fdinfoDir + name, 'latin1')), null);
    if (info?.ino !== null && info?.ino !== undefined && info.ino !== stat.ino) {
      // Closed and opened again on another file between the stat and the fdinfo: neither is this fd now.
      fds.add(pid, fd, target, null);
      result.counts.fdsVanished++;
      continue;
    }
    const heldKey = `${stat.dev}/${stat.ino}`;
    heldInodes.add(heldKey);
    if (of?.held.has(heldKey) === true) {
      // In the thread's table since before it unshared it, and in the process's: listed there.
      fds.add(pid, fd, target, stat, info?.pos ?? null, info?.flags ?? null, info?.mntId ?? null);
      continue;
    }
    const pos = info?.pos ?? null;
    const flags = info?.flags ?? null;
    const mntId = info?.mntId ?? null;
    fds.add(pid, fd, target, stat, pos, flags, mntId);
    if (messageQueue(result, target, stat.dev, mntId, fdPath, nsMounts, ownView, () => about(progress, pid, fd, WHAT_FD), () => done(progress))) {
      result.warnings.push(
        `${of === null ? `pid ${pid}` : `pid ${of.pid} (thread ${pid})`} (${record.comm ?? '?'}) fd ${fd} holds a POSIX message queue removed with mq_unlink ` +
          `(${displayBytes(Buffer.from(stripDeleted(target), 'latin1'))}, inode ${String(stat.ino)} on ${stat.dev}): not an item: its messages cannot be read without taking them ` +
          'from the queue (a read of its file gives only the queue\'s status line); lsof +L1 lists it as a deleted REG file (docs/limits.md)',
      );
      continue;
    }
    const kind = classifyFd(target, flags, mntId, known);
    addItem(makeItem(kind, stat, stripDeleted(target), `${files}/fd/${fd}`, { fd, pos, flags, mntId, btimeNs: birthOf(fdPath, stat, progress, pid, fd, WHAT_FD) }));
  }

  if (unreadableFds > 0) errors.push(`fd: EACCES on ${unreadableFds} of ${fdNames?.length ?? 0} fds`);

  // maps: deleted files that are mapped but not held by an fd of this process (a thread's
  // mappings are its process's, walked there).
  const mapsEntries = threadOf === null ? readMaps(`${files}/maps`, (error) => {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ESRCH') gone.push('its mappings');
    else errors.push(`maps: ${code ?? String(error)}`);
  }) : [];
  const mapFilesDir = inside ? '../map_files/' : `${files}/map_files/`;
  const seenMapped = new Set<string>();
  /** Mappings whose file could not be stat'ed, by error: said once per process. */
  const unreadableMaps = new Map<string, number>();
  for (const entry of mapsEntries) {
    spillIfFull();
    const mapPath = entry.path.toString('latin1');
    const cacheKey = `${entry.mapsDev}/${entry.inode}`;
    let stat = mapStatCache.get(cacheKey);
    const silent = stat === undefined ? (waiting?.unansweredAt(mapPath) ?? null) : null;
    if (silent !== null) {
      leave(silent, 'maps');
      stat = NOT_EXAMINED;
    } else if (stat === undefined && !mapFilesAllowed()) {
      // Refused by the kernel anyway, and the refusal would cost node its statx (util/statx.ts).
      stat = 'EPERM';
    } else if (stat === undefined) {
      about(progress, pid, -1, WHAT_MAP);
      stat = statMapFile(mapFilesDir + entry.range, mapPath.endsWith(DELETED_SUFFIX));
      done(progress);
      // Only a successful stat describes the file for other processes; errors are per process.
      if (typeof stat !== 'string') mapStatCache.set(cacheKey, stat);
    }
    if (typeof stat === 'string') {
      pending.addMap([pid, entry.range, entry.perms, u64(entry.offset), entry.mapsDev, entry.inode, mapPath, null, null, null, stat]);
      // Refused (map_files needs CAP_SYS_ADMIN; a security module): whether the file is deleted is unknown.
      if (stat !== 'ENOENT') unreadableMaps.set(stat, (unreadableMaps.get(stat) ?? 0) + 1);
      continue;
    }
    pending.addMap([pid, entry.range, entry.perms, u64(entry.offset), entry.mapsDev, entry.inode, mapPath, stat.dev, stat.size, stat.nlink, null]);
    if (stat.nlink !== 0 || !isRegular(stat.mode)) continue;
    const inodeKey = `${stat.dev}/${stat.ino}`;
    if (exeStat !== undefined && exeStat.dev === stat.dev && exeStat.ino === stat.ino) {
      if (unnamedExe !== null) {
        // maps prints the whole name, however long (a newline as "\012"): the process's exe as well.
        record.exe = mapPath;
        for (const item of items) item.exe ??= mapPath;
        unnamedExe.path = stripDeleted(mapPath);
        // The exe item is its first: those handed on are named in the store.
        if (handedOn > 0) revision.exe = { name: mapPath, itemPath: unnamedExe.path };
        unnamedExe = null;
      }
      continue;
    }
    if (heldInodes.has(inodeKey) || seenMapped.has(inodeKey)) continue;
    seenMapped.add(inodeKey);
    // maps writes a newline in a name as the four characters "\012" (and a backslash as itself): the
    // name of a deleted mapping comes from its map_files link instead, byte-exact.
    const itemPath = stripDeleted(tryOr(() => fs.readlinkSync(mapFilesDir + entry.range, LATIN1), mapPath));
    const listedDev = known((table) => table.hasDev(stat.dev));
    // A memfd lives on the kernel's internal shmem mount, which no mountinfo lists; a file someone
    // named "/memfd:x" on a real mount is an ordinary file.
    const isMemfd = itemPath.startsWith(MEMFD_PREFIX) && !listedDev;
    // Shared anonymous memory ("/dev/zero (deleted)"), SysV shm, AIO rings and GPU buffers live on
    // that internal mount (or others like it): not files anyone deleted. Any other name on a device
    // mountinfo does not list is a file: on overlayfs or btrfs (device numbers of their own), or on a
    // file system unmounted lazily (`umount -l`) while the mapping stays.
    if (!isMemfd && !listedDev && KERNEL_OBJECTS.test(itemPath)) continue;
    addItem(makeItem(isMemfd ? 'memfd' : 'map', stat, itemPath, `${files}/map_files/${entry.range}`, { mapRange: entry.range, btimeNs: birthOf(mapFilesDir + entry.range, stat, progress, pid, -1, WHAT_MAP) }));
  }
  for (const [code, count] of unreadableMaps) errors.push(`map_files: ${code} on ${count} mapping${count === 1 ? '' : 's'}`);
  for (const [mount, count] of leftHere) errors.push(`${count} files not examined: ${describeUnanswered(mount)} did not answer a stat`);
  // The PID may have been reused while it was walked: its items could mix two processes.
  const after = tryOr(() => parseProcStat(readSmall(`${base}/stat`, 'latin1'))?.startTime ?? null, null);
  if (after !== null && record.startTime !== null && after !== record.startTime) {
    const dropped = handedOn + items.splice(0).length;
    revision.dropped = handedOn > 0;
    handedOn = 0;
    firstItems.length = 0;
    errors.push(`PID reused during the walk (start tick ${record.startTime}, then ${after}): its ${dropped} items were dropped`);
    result.counts.processesVanished += threadOf === null ? 1 : 0;
  } else if (gone.length > 0 || (after === null && !fs.existsSync(base))) {
    // Gone before the walk was through: what was read is kept, the rest is missing (not "none").
    errors.push(`exited during the walk: ${gone.length > 0 ? gone.join(' and ') : 'part of it'} not read; what was read before is kept`);
    result.counts.processesVanished += threadOf === null ? 1 : 0;
  }
  // Another unlinked run (a recover --follow in another terminal) holds the files it copies: its items
  // are its copies' sources, not a finding of that process; said, never left out (nothing is hidden).
  const itemsHere = handedOn + items.length;
  if (itemsHere > 0 && threadOf === null && runsThisUnlinked(base, record.cmdline)) {
    result.warnings.push(
      `pid ${pid} (${record.comm ?? '?'}) is another run of unlinked (${displayBytes(Buffer.from((record.cmdline ?? '').split('\0').filter((arg) => arg !== '').slice(1).join(' ').slice(0, 200), 'latin1'))}): ` +
        `its ${itemsHere === 1 ? 'item' : `${itemsHere} items`} (${firstItems.map((item) => `${item.fd === null ? item.kind : `fd ${item.fd}`} ${displayBytes(Buffer.from(item.path, 'latin1'))}`).join(', ')}${itemsHere > 5 ? ', ...' : ''}) ` +
        `${itemsHere === 1 ? 'is a file' : 'are files'} it opened to copy, held by the forensic tool, not by a process of the host`,
    );
  }
  // A stat refused here may have cost node its statx: this process's birth times may be ctimes.
  if (!statxKnownLost() && statxLost()) {
    for (const item of items) item.btimeNs = null;
    revision.birthTimesLost = handedOn > 0;
    result.warnings.push(
      `no birth time is recorded from ${threadOf === null ? `pid ${pid}` : `thread ${pid} of pid ${threadOf}`} on: a stat failed there in a way that makes node ` +
        'stat without statx for the rest of the run (EPERM, EINVAL or EOPNOTSUPP: map_files in a user namespace, a security module, a seccomp filter, a FUSE or network file system); ' +
        'recovering these items checks device and inode only, not that the file is the one born then',
    );
  }
  if (errors.length > 0) {
    record.readError = errors.join('; ');
    const refused = errors.filter((text) => text.includes('EACCES') || text.includes('EPERM'));
    if (refused.length > 0) {
      result.counts.processesUnreadable++;
      if (result.unreadable.length < UNREADABLE_LISTED) result.unreadable.push({ pid, comm: record.comm, readError: record.readError });
      if (ownProcess(base, record.uid)) {
        result.counts.processesUnreadableOwn++;
        if (refused.every((text) => text.startsWith('map_files: '))) result.counts.processesUnreadableOwnMaps++;
      }
    }
  }
  // Its row once it no longer changes; its fds, mappings and some items may have gone before (PendingChunk).
  result.processes.push(record);
  for (const item of items) result.items.push(item);
  if (revision.dropped || revision.exe !== null || revision.birthTimesLost) result.revisions.push(revision);
  // Links refused (a process of another user, root without CAP_SYS_PTRACE; a sandbox's init): its
  // threads' links are refused alike, and reading each of them for nothing took 0.1 s a snapshot.
  if (walkedLinks === null || (walkedLinks.size === 0 && unreadableFds > 0)) return none;
  const threads = threadsWithOwnFdTable(base, files, pid, walkedLinks, fdNames?.length ?? 0);
  if (threads.countedOnly) countedOnly.push({ pid, comm: record.comm, threads: procStat?.numThreads ?? 0, fds: walkedLinks.size });
  return { ownTables: threads.own, held: heldInodes };
}

/** Link reads allowed per process to tell its threads' fd tables apart (about 0.1 s); beyond, the fd counts decide. */
const THREAD_LINK_BUDGET = 20_000;

/** A process whose threads' fd tables were told apart by their fd counts only (too many to compare link by link). */
interface CountedOnly {
  pid: number;
  comm: string | null;
  threads: number;
  fds: number;
}

/**
 * The threads of a process (BASE is /proc/PID) with an fd table other than the one just walked at
 * FILES/fd (`walked`: fd number -> linkKey of its link as read then, null for a deleted file; `listed`: how many fds it listed), one thread per such table: a thread that
 * called unshare(CLONE_FILES), or was cloned without CLONE_FILES, holds files of its own there,
 * which /proc/PID/fd does not show (nor lsof without -K). Neither the fd count nor the fd numbers
 * tell (a thread that unshared its table and opened one file has fd 3 as its process has), so each
 * thread's links are compared with the process's, one readlink per fd per thread, while that stays
 * within THREAD_LINK_BUDGET; beyond it (a JVM of 200 threads holding 1,000 fds: 1 s of readlinks)
 * only a thread whose fd count differs (the size of an fd directory, since Linux 6.2; else its fd
 * numbers) is looked at, and `countedOnly` says so. A table counts as another only for an fd it
 * holds that the other has not (or holds as another file), the same way when both are read again:
 * a busy process opens and closes fds all the time (one table would have to change there and back
 * meanwhile), a thread that exits shows none, and a table that only lacks fds holds nothing more.
 * Threads that share a table of their own (one started by the thread that unshared) give one row.
 */
function threadsWithOwnFdTable(base: string, files: string, pid: number, walked: ReadonlyMap<string, string | null>, listed: number): { own: number[]; countedOnly: boolean } {
  const tids = tryOr(() => fs.readdirSync(`${base}/task`), []);
  const own: number[] = [];
  if (tids.length < 2) return { own, countedOnly: false };
  const walkedTid = files.slice(files.lastIndexOf('/') + 1);
  const processTable = `${files}/fd`;
  const count = tryOr(() => fs.statSync(processTable).size, 0);
  // Counted by the fds listed, not the links read: a refused link costs its readlink too.
  const thorough = (tids.length - 1) * Math.max(walked.size, listed) <= THREAD_LINK_BUDGET;
  /** Tables found so far that are neither the process's nor one another's. */
  const tables: string[] = [];
  for (const tid of tids) {
    if (Number(tid) === pid || tid === walkedTid) continue;
    const table = `${base}/task/${tid}/fd`;
    const size = tryOr(() => fs.statSync(table).size, null);
    if (size === null) continue; // exited meanwhile
    if (!thorough && count > 0 && size === count) continue;
    if (!holdsMoreThan(table, processTable, thorough ? walked : 'lacking')) continue;
    if (tables.some((other) => !holdsMoreThan(table, other, thorough ? 'all' : 'lacking'))) continue;
    tables.push(table);
    own.push(Number(tid));
  }
  return { own, countedOnly: !thorough };
}

/**
 * Whether TABLE holds an fd that OTHER does not hold, or holds as another file, the same way when
 * both are read again. `compare`: the fds OTHER lacks only ('lacking'), or every fd too, against
 * OTHER's links as walked (a map) or as read now ('all').
 */
function holdsMoreThan(table: string, other: string, compare: ReadonlyMap<string, string | null> | 'all' | 'lacking'): boolean {
  const names = tryOr(() => fs.readdirSync(table), null);
  if (names === null) return false;
  const theirs = new Set(tryOr(() => fs.readdirSync(other), []));
  const candidates = names.filter((name) => !theirs.has(name));
  if (compare !== 'lacking') {
    for (const name of names) {
      if (!theirs.has(name)) continue;
      if (compare === 'all' || linkKey(fileAt(table, name)) !== identityOf(other, name, compare.get(name) ?? null)) candidates.push(name);
    }
  }
  return candidates.some((name) => {
    const its = fileAt(table, name);
    const theirsNow = fileAt(other, name);
    if (its === null || its === theirsNow) return false;
    // One table churned by busy threads (an fd opened and closed, or reused for another file, all
    // the time) can read differently through two paths at two moments: the difference must hold
    // over several reads in turn, as a table of its own holds its file.
    for (let again = 0; again < CONFIRM_READS; again++) {
      if (fileAt(table, name) !== its || fileAt(other, name) !== theirsNow) return false;
    }
    return true;
  });
}

/** How many times more a difference between two fd tables is read before it counts (see holdsMoreThan). */
const CONFIRM_READS = 4;

/**
 * What fd `name` of an fd directory holds: its link, and for a deleted file its inode too (two
 * tables can hold two different deleted files under one name at one fd number): from fdinfo, or,
 * before Linux 5.14 (whose fdinfo has no ino line: 5.10.13 fs/proc/fd.c seq_show), from a stat of
 * the link. null when there is no such fd (closed, or the thread exited).
 */
function fileAt(table: string, name: string): string | null {
  const link = tryOr(() => fs.readlinkSync(`${table}/${name}`, LATIN1), null);
  if (link === null || !link.endsWith(DELETED_SUFFIX)) return link;
  return deletedFileAt(link, tryOr(() => readSmall(`${table.slice(0, -2)}fdinfo/${name}`, 'latin1'), null), () => fs.statSync(`${table}/${name}`, EXACT_STAT_OPTIONS)?.ino ?? null);
}

/** fileAt's text for a deleted file: its link and inode, from its fdinfo (FDINFO: its text) or else from statIno. */
export function deletedFileAt(link: string, fdinfo: string | null, statIno: () => bigint | null): string {
  const ino = (fdinfo === null ? null : parseFdInfo(fdinfo).ino) ?? tryOr(statIno, null);
  return `${link}\0${String(ino ?? '?')}`;
}

/** linkKey of fileAt, for a link known from the walk by its key (null: a deleted file, whose inode is read now, or not walked). */
function identityOf(table: string, name: string, key: string | null): string | null {
  return key ?? linkKey(fileAt(table, name));
}

/** Links longer than this are remembered by their digest (linkKey). */
const LINK_KEPT = 256;

/**
 * What a link is remembered by while a process's threads are compared: itself, or for a long one
 * its SHA-256 (after a NUL, which no link holds). Kept whole, 16,000 fds on paths near PATH_MAX
 * were 64 MB of links held for one process.
 */
function linkKey(link: string | null): string | null {
  return link === null || link.length <= LINK_KEPT ? link : `\0${createHash('sha256').update(link, 'latin1').digest('base64')}`;
}

/** Collects a chunk's fds as FdColumns. */
class FdColumnsBuilder {
  private numbers = new Float64Array(FD_NUMBERS * 4096);
  private exact: FdColumns['exact'] = [];
  private targets: RawBytes[] = [];
  private devs: Array<string | null> = [];
  /** The bytes of the targets collected. */
  bytes = 0;

  get count(): number {
    return this.targets.length;
  }

  add(pid: number, fd: number, target: RawBytes, stat: StatLite | null, pos: U64 | null = null, flags: number | null = null, mntId: number | null = null): void {
    const at = this.targets.length * FD_NUMBERS;
    if (at + FD_NUMBERS > this.numbers.length) {
      const grown = new Float64Array(this.numbers.length * 2);
      grown.set(this.numbers);
      this.numbers = grown;
    }
    const numbers = this.numbers;
    numbers[at] = pid;
    numbers[at + 1] = fd;
    numbers[at + 2] = this.number(2, stat?.ino);
    numbers[at + 3] = stat?.mode ?? NaN;
    numbers[at + 4] = this.number(4, stat?.size);
    numbers[at + 5] = stat?.nlink ?? NaN;
    numbers[at + 6] = this.number(6, pos);
    numbers[at + 7] = flags ?? NaN;
    numbers[at + 8] = mntId ?? NaN;
    this.targets.push(target);
    this.bytes += target.length;
    this.devs.push(stat?.dev ?? null);
  }

  /** A value for the numbers array: NaN for unknown, and for a bigint, which goes to `exact` instead. */
  private number(column: number, value: U64 | null | undefined): number {
    if (typeof value === 'number') return value;
    if (typeof value === 'bigint') this.exact.push([this.targets.length, column, value]);
    return NaN;
  }

  /** The fds collected so far; the builder starts again empty. */
  take(): FdColumns {
    const columns: FdColumns = { count: this.count, numbers: this.numbers.slice(0, this.count * FD_NUMBERS), exact: this.exact, targets: this.targets.join('\0'), devs: this.devs };
    this.exact = [];
    this.targets = [];
    this.devs = [];
    this.bytes = 0;
    return columns;
  }
}

function classifyFd(target: RawBytes, flags: number | null, mntId: number | null, known: (check: (table: NamespaceMounts) => boolean) => boolean): ItemKind {
  if (flags !== null && (flags & O_TMPFILE_BIT) !== 0) return 'tmpfile';
  // A memfd lives on the kernel's internal shmem mount (mnt_id absent from mountinfo); a file
  // someone named "/memfd:x" on a real mount is an ordinary file.
  if (target.startsWith(MEMFD_PREFIX) && (mntId === null || !known((table) => table.hasMntId(mntId)))) return 'memfd';
  return 'fd';
}

/** Per walk, what statfs said of each device of an fd whose mount no mountinfo lists: a message queue's or not. */
const mqueueDevs = new WeakMap<WalkResult, Map<string, boolean>>();

/**
 * Whether a deleted regular file held by an fd is a POSIX message queue (mq_open, then mq_unlink): a
 * file of the mqueue file system, whose read gives the queue's status, not its messages. mq_open
 * opens it on the IPC namespace's internal mount, which no mountinfo lists (its mnt_id is of no
 * mount there): such an fd on an anonymous device (0:N) is asked statfs, once per device and walk;
 * one opened through a mount of mqueue (/dev/mqueue) is told by that mount's type.
 */
function messageQueue(
  result: WalkResult, target: RawBytes, dev: string, mntId: number | null, fdPath: string,
  nsMounts: NamespaceMounts | null, ownView: () => NamespaceMounts | null, before: () => void, after: () => void,
): boolean {
  const listed = mntId === null ? null : (nsMounts?.mountOf(mntId) ?? ownView()?.mountOf(mntId) ?? null);
  if (listed !== null) return listed.fsType === 'mqueue';
  if (!dev.startsWith('0:') || target.startsWith(MEMFD_PREFIX)) return false;
  let devs = mqueueDevs.get(result);
  if (devs === undefined) mqueueDevs.set(result, (devs = new Map()));
  let mqueue = devs.get(dev);
  if (mqueue === undefined) {
    before();
    try {
      mqueue = tryOr(() => fs.statfsSync(fdPath).type === MQUEUE_MAGIC, false);
    } finally {
      after();
    }
    devs.set(dev, mqueue);
  }
  return mqueue;
}

/**
 * Names the kernel gives objects of its internal mounts (never in mountinfo): shared anonymous
 * memory ("dev/zero", mm/shmem.c shmem_zero_setup; "anon_hugepage", HUGETLB_ANON_FILE of
 * include/linux/hugetlb.h for mmap(MAP_SHARED|MAP_ANONYMOUS|MAP_HUGETLB), as a database's shared
 * memory with huge pages: 4.14 to 6.18, nlink 0, on hugetlbfs' internal mount), SysV shm, AIO rings,
 * GPU and DMA buffers. memfds are told apart before.
 */
const KERNEL_OBJECTS = /^\/(?:dev\/zero|anon_hugepage|SYSV[0-9a-f]{8}|drm mm object|i915|\[aio\])$|^\/dmabuf:/;

/** The kernel appends exactly one " (deleted)" to an unlinked dentry's name; a name may carry its own. */
export function stripDeleted(target: RawBytes): RawBytes {
  return target.endsWith(DELETED_SUFFIX) ? target.slice(0, -DELETED_SUFFIX.length) : target;
}

function isRegular(mode: number): boolean {
  return (mode & S_IFMT) === S_IFREG;
}

const STAT_OPTIONS = { throwIfNoEntry: false } as const;
/** maps.stat_error of a mapping on a mount that did not answer: its stat was not tried. */
const NOT_EXAMINED = 'not examined: no answer';
/** An options object made once: a string encoding is turned into one on every call. */
const LATIN1 = { encoding: 'latin1' } as const;
const EXACT_STAT_OPTIONS = { bigint: true, throwIfNoEntry: false } as const;

/** A walk meets few devices a hundred thousand times: their "MAJOR:MINOR" strings are made once. */
const devStrings = new Map<number, string>();

function devOf(dev: number): string {
  let text = devStrings.get(dev);
  if (text === undefined) {
    text = devString(dev);
    if (devStrings.size < 4096) devStrings.set(dev, text);
  }
  return text;
}

/**
 * A small /proc file (fdinfo, stat, cgroup) read with one open, one read into a shared buffer and
 * one close: readFileSync adds an fstat and a buffer per file, 10,000 times per snapshot. Longer
 * contents fall back to readFileSync.
 */
const smallBuffer = Buffer.allocUnsafe(16 << 10);

const EUID = process.geteuid?.() ?? -1;

/**
 * Whether a process is this (non-root) user's own: its real, effective and saved uid all ours. A
 * refusal there is the kernel's (map_files is root's only; a process that is not dumpable), not
 * that of another user's process. /proc/PID itself belongs to the effective uid even when the
 * process is not dumpable (the files in it are root's then): the status is read only when that is ours.
 */
function ownProcess(base: string, ownerUid: number | null, euid = EUID): boolean {
  if (euid === 0 || ownerUid !== euid) return false;
  const uids = tryOr(() => /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(readSmall(`${base}/status`, 'latin1')), null);
  return uids !== null && [uids[1], uids[2], uids[3]].every((uid) => Number(uid) === euid);
}

/** Where /proc/PID/maps is read, a piece at a time. */
const mapsBuffer = Buffer.allocUnsafe(64 << 10);

/**
 * The entries of a maps file, read and parsed a piece at a time (64 KiB, as readFileSync reads a
 * /proc file) as they are used: 200,000 mappings (20 MB of text) are not held whole. `failed`: why
 * it could not be opened, or read on (the entries read before are kept).
 */
function* readMaps(file: string, failed: (error: unknown) => void): Generator<MapsEntry> {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    failed(error);
    return;
  }
  try {
    /** A line not ended by the last read. */
    let carry: Buffer | null = null;
    for (;;) {
      let read: number;
      try {
        read = fs.readSync(fd, mapsBuffer, 0, mapsBuffer.length, null);
      } catch (error) {
        failed(error);
        return;
      }
      if (read === 0) break;
      const data: Buffer = carry === null ? mapsBuffer.subarray(0, read) : Buffer.concat([carry, mapsBuffer.subarray(0, read)]);
      const end = data.lastIndexOf(0x0a) + 1;
      // Parsed before the buffer is read into again (parseMaps copies what it keeps).
      const entries = parseMaps(data.subarray(0, end));
      carry = end === data.length ? null : Buffer.from(data.subarray(end));
      yield* entries;
    }
    if (carry !== null) yield* parseMaps(carry);
  } finally {
    fs.closeSync(fd);
  }
}

function readSmall(file: string, encoding: 'latin1' | 'utf8'): string {
  const fd = fs.openSync(file, 'r');
  let length = 0;
  try {
    // To the end of file, as readFileSync does: a /proc file may come in more than one read.
    for (let read = -1; read !== 0; length += read) {
      if (length === smallBuffer.length) {
        // Longer than the buffer: read it whole (from the start again: /proc files generate on read).
        return fs.readFileSync(file, encoding);
      }
      read = fs.readSync(fd, smallBuffer, length, smallBuffer.length - length, null);
    }
  } finally {
    fs.closeSync(fd);
  }
  return smallBuffer.toString(encoding, 0, length);
}

const IO_URING = 'anon_inode:[io_uring]';

/**
 * Whether this kernel's io_uring fdinfo names registered files by path (Linux 6.14 and later, by its
 * release). A distribution kernel that took the change earlier is told by the paths it lists.
 */
const NAMES_BY_PATH = kernelAtLeast(os.release(), 6, 14);

/** Whether a kernel release ("6.18.44-fc-v1272", "5.14.0-427.el9.x86_64") is MAJOR.MINOR or later. */
export function kernelAtLeast(release: string, major: number, minor: number): boolean {
  const match = /^(\d+)\.(\d+)/.exec(release);
  return match !== null && (Number(match[1]) > major || (Number(match[1]) === major && Number(match[2]) >= minor));
}

/** How many times more the fdinfo of a ring that listed none of its registered files is read. */
const RING_REREADS = 3;

/** Per walk, the rings (fdinfo ino) and slots already said: a ring shared by forked workers or threads is said once. */
const ringsSaid = new WeakMap<WalkResult, Set<string>>();

/**
 * Files registered with an io_uring (IORING_REGISTER_FILES) stay open in the kernel after their fd
 * is closed: no fd, no mapping, so no item (lsof does not see them either). The ring's fdinfo names
 * them (see parseIoUringFiles): since Linux 6.14 by path, so one the kernel names "... (deleted)" is
 * said in a warning (a hint: no stat reaches it); before, by last name only, so that files are
 * registered is all there is to say; on 5.4 not at all.
 */
function ringHeldFiles(fdinfo: string, holder: string, owner: number, fd: number, result: WalkResult): void {
  let text = tryOr(() => readSmall(fdinfo, 'latin1'), null);
  if (text === null) return;
  let parsed = parseIoUringFiles(text);
  // Linux 5.10 to 6.14 list the files only when they take the ring's lock at once (all or none): a
  // ring listing none of its slots may be busy, and is read again.
  for (let again = 0; again < RING_REREADS && (parsed.registered ?? 0) > 0 && parsed.files.length === 0; again++) {
    const more = tryOr(() => readSmall(fdinfo, 'latin1'), null);
    const reparsed = more === null ? null : parseIoUringFiles(more);
    if (more !== null && reparsed !== null && reparsed.files.length > 0) [text, parsed] = [more, reparsed];
  }
  const { registered, files } = parsed;
  // Keyed by the ring's inode and what it holds: before Linux 5.12 or so every ring shared one anon
  // inode, and before 5.14 fdinfo has no ino: such a ring is said once per process and fd (a
  // thread's own fd table has its process's ring at the fd number it had when it unshared).
  const ring = `${parseFdInfo(text).ino ?? `${owner}/${fd}`}\n${files.map(({ path }) => path.toString('latin1')).join('\n')}`;
  let said = ringsSaid.get(result);
  if (said === undefined) ringsSaid.set(result, (said = new Set()));
  const once = (key: string): boolean => {
    if (said.has(key)) return false;
    said.add(key);
    return true;
  };
  const where = `${holder} has registered with its io_uring (fd ${fd}`;
  const unseen = 'a registered file needs no fd or mapping (no item; lsof does not list it), and its content cannot be read through /proc (docs/limits.md)';
  if (registered === null) {
    if (once(`${ring}\nunlisted`)) {
      result.warnings.push(
        `${holder} holds an io_uring (fd ${fd}) whose fdinfo does not list the files registered with it (no UserFiles line: Linux 5.4 has none, 5.10 has), ` +
          `so whether it keeps a deleted file cannot be told; ${unseen}`,
      );
    }
    return;
  }
  if (registered > 0 && files.length === 0) {
    if (once(`${ring}\nnone of ${registered}`)) {
      result.warnings.push(
        `${holder} holds an io_uring (fd ${fd}) with ${registered} slots for registered files, of which its fdinfo listed none in ${RING_REREADS + 1} reads: ` +
          'either all are empty (Linux 6.14 and later list only the filled slots) or the ring was busy each time (5.10 to 6.14 list them only when they take its lock at once), ' +
          `so whether it keeps a deleted file cannot be told; ${unseen}`,
      );
    }
    return;
  }
  // Before 6.14 a bare last name, and "<none>" for an empty slot; since, a path or what a socket,
  // pipe or anon inode is named ("socket:[N]"). A bare name can look like the latter (a file named
  // "socket:[1]"), and a root dentry's is "/": the kernel's release tells, or a longer path listed.
  const named = files.filter(({ path }) => path.toString('latin1') !== '<none>');
  const byPath = NAMES_BY_PATH || named.some(({ path }) => path.length > 1 && path[0] === 0x2f);
  if (!byPath) {
    if (named.length > 0 && once(ring)) {
      const names = named.slice(0, 5).map(({ path }) => displayBytes(path)).join(', ');
      result.warnings.push(
        `${where}) ${named.length} files (${names}${named.length > 5 ? ', ...' : ''}): this kernel names them by their last name only (before Linux 6.14), not whether ` +
          `they are deleted, and a name longer than the kernel keeps with the file's entry (31 bytes in 6.1, 39 in 6.8) as left-over bytes of another; ${unseen}`,
      );
    }
    return;
  }
  for (const { slot, path } of files) {
    if (!path.toString('latin1').endsWith(DELETED_SUFFIX) || !once(`${ring}/${slot}`)) continue;
    result.warnings.push(`${where}, slot ${slot}) a file the kernel names ${displayBytes(path)}: ${unseen}`);
  }
}

/**
 * `exact`: one bigint stat, with the birth time, for a file the kernel names "... (deleted)" (a hint
 * only: deleted or not is still its link count): what an item needs, in one call instead of two.
 */
function statLite(file: string, exact = false): StatLite | undefined {
  const stat = exact ? undefined : fs.statSync(file, STAT_OPTIONS);
  if (!exact && stat === undefined) return undefined;
  // Overlayfs (xino) and some network file systems hand out inode numbers past 2^53; a time whose
  // milliseconds pass 2^53 (past year 287,000) is no longer exact as a number of them.
  if (stat === undefined || !Number.isSafeInteger(stat.ino) || !Number.isSafeInteger(stat.size) || !exactAsMs(stat.atimeMs) || !exactAsMs(stat.mtimeMs) || !exactAsMs(stat.ctimeMs)) {
    const exact = fs.statSync(file, EXACT_STAT_OPTIONS);
    if (exact === undefined) return undefined;
    return {
      dev: devString(exact.dev), ino: u64(exact.ino), mode: Number(exact.mode), size: u64(exact.size), nlink: Number(exact.nlink),
      uid: Number(exact.uid), gid: Number(exact.gid), atime: exactSeconds(exact.atimeNs), mtime: exactSeconds(exact.mtimeNs), ctime: exactSeconds(exact.ctimeNs),
      btimeNs: birthTimeNs(exact, 'known'),
    };
  }
  return {
    dev: devOf(stat.dev), ino: stat.ino, mode: stat.mode, size: stat.size, nlink: stat.nlink,
    uid: stat.uid, gid: stat.gid, atime: Math.floor(stat.atimeMs / 1000), mtime: Math.floor(stat.mtimeMs / 1000), ctime: Math.floor(stat.ctimeMs / 1000),
  };
}

/** Milliseconds a double holds exactly (and the seconds floored from them with them). */
function exactAsMs(ms: number): boolean {
  return Math.abs(ms) < 2 ** 53;
}

/**
 * The seconds of a time from node's bigint stat, or null from 2^53 s on (either way): node 20 hands
 * tv_sec through a double before it makes the bigint (2^53 + 1 s comes out as 2^53, 2^63 - 1 as
 * -2^63), so those seconds are not the kernel's. The caller reads them again (RoundedTimes).
 */
function exactSeconds(ns: bigint): number | null {
  const seconds = Number(floorSeconds(ns));
  return Math.abs(seconds) < 2 ** 53 ? seconds : null;
}

/**
 * The birth time of an item's file: from its stat when that was exact, else one more stat (a
 * deleted file the kernel did not name "... (deleted)"); null where the file system keeps none or
 * the path names another file since the first stat.
 */
function birthOf(file: string, stat: StatLite, progress: Int32Array | null, pid: number, fd: number, what: number): string | null {
  if (stat.btimeNs !== undefined) return stat.btimeNs;
  about(progress, pid, fd, what);
  try {
    const exact = fs.statSync(file, EXACT_STAT_OPTIONS);
    if (exact === undefined || devString(exact.dev) !== stat.dev || u64(exact.ino) !== stat.ino) return null;
    return birthTimeNs(exact, 'known');
  } catch {
    return null;
  } finally {
    done(progress);
  }
}

/** Tell the watchdog what is stat'ed next. */
function about(progress: Int32Array | null, pid: number, fd: number, what: number): void {
  if (progress === null) return;
  progress[PID] = pid;
  progress[FD] = fd;
  progress[WHAT] = what;
  Atomics.add(progress, SEQ, 1);
}

/** The stat returned. */
function done(progress: Int32Array | null): void {
  if (progress !== null) Atomics.store(progress, WHAT, WHAT_NONE);
}

let mapFilesCapable: boolean | undefined;

/**
 * Whether /proc/PID/map_files can be stat'ed: the kernel asks for CAP_SYS_ADMIN or (since 5.9)
 * CAP_CHECKPOINT_RESTORE, bits 21 and 40 of CapEff. Unknown: tried (a refusal is recorded as such).
 */
function mapFilesAllowed(): boolean {
  if (mapFilesCapable === undefined) {
    const admin = hasCapability(CAP.SYS_ADMIN);
    mapFilesCapable = admin === null || admin || hasCapability(CAP.CHECKPOINT_RESTORE) === true;
  }
  return mapFilesCapable;
}

function statMapFile(file: string, exact = false): StatLite | string {
  try {
    return statLite(file, exact) ?? 'ENOENT';
  } catch (error) {
    return errnoCode(error) ?? String(error);
  }
}

/** This unlinked's own entry point (its main.js, links resolved), to tell another run of it; null when unknown. */
let ownEntry: string | null | undefined;

/** Whether the process at base runs this very unlinked (node with its main.js as an argument), as a command line says it. */
function runsThisUnlinked(base: string, cmdline: string | null): boolean {
  ownEntry ??= process.argv[1] === undefined ? null : tryOr(() => fs.realpathSync(process.argv[1] ?? ''), null);
  if (ownEntry === null || cmdline === null) return false;
  const entry = ownEntry;
  // An argument relative to its working directory is resolved there, as that process saw it.
  return cmdline.split('\0').slice(1, 4).some((arg) => arg !== '' && tryOr(() => fs.realpathSync(arg.startsWith('/') ? arg : `${base}/cwd/${arg}`) === entry, false));
}
