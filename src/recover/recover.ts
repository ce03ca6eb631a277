// Recover live items: custody checks, the same-file-system rule, one read pass with sha256,
// follow a growing file, record every attempt (and its reason when incomplete).
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { errnoCode, oneLine, UnlinkedError } from '../errors.js';
import { devString } from '../../parsers/procfs.js';
import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import { beforeWrite } from '../store/lockWait.js';
import { currentBootId } from '../store/snapshots.js';
import { itemLoader, ofMemfd, type ItemRow } from '../store/items.js';
import { checkOpenedFile, checkProcess, custodyOf, processState, holderFdPath, kernelName, sameBirth, sameFile, sourcePath, type Custody, type SeenFile } from './custody.js';
import { procDirOf } from '../proc/tasks.js';
import { CopyBounded, CopyStopped, GROWTH_ALLOWANCE_BYTES, boundedByTime, HOLE_BLOCK, copyRange, readAllowance, newCopyState, streamInto, type CopyProgress, type CopyState } from './copy.js';
import { SpaceGuard, keepFreeFor } from '../util/caseSpace.js';
import { startHash } from '../image/source.js';
import { displayBytes, displayText } from '../util/bytes.js';
import { devicesUnderDir, mountDevices, mountedHere, mountSourceOf, overlayLayers, ownMountOfDevice, storedOnChain } from '../util/blockDevices.js';
import { tryOr } from '../util/tryOr.js';
import { birthTimeNs } from '../util/statx.js';
import { createUnique } from '../util/createUnique.js';
import { tryAppendSha256Sums } from '../util/sha256sums.js';
import { commandRecorder } from '../store/commands.js';
import type { CommandRecorder } from '../exec/run.js';
import { mayWait, PROBE_TIMEOUT_MS } from '../proc/mountProbe.js';
import { exactText, readU64, sqlU64, type U64 } from '../util/u64.js';
import { parseU64, u64 } from '../../parsers/types.js';
import { MQUEUE_MAGIC } from '../proc/types.js';
import { run } from '../exec/run.js';
import { copiesStopRequested, followPause, letSignalsIn, onSignalExit, startCopyPhase, startFollowPhase } from '../util/interrupt.js';
import { caseFolder } from '../util/caseFolder.js';
import { openFilesLimit, openFilesNow, outOfFiles, suggestedLimit } from '../util/openFiles.js';
import { LeaseTable, isBreaking, leaseHeld, leaseHolder, openEffect, type Lease } from '../proc/leases.js';

export interface RecoverOptions {
  outputDir: string;
  follow: boolean;
  /** Seconds; default 600 with --follow. */
  followTimeoutS: number | null;
  /**
   * Items on the output's file system: 'refuse' the whole run (recover), 'skip' them with the reason
   * recorded and copy the rest (triage: the most fragile items must not wait), or 'force'.
   */
  sameFs: 'refuse' | 'skip' | 'force';
  /**
   * A file with a write lease on it (or a lease being broken), seen in /proc/locks right before it
   * would be opened: 'refuse' to open it (the open would signal the lease's holder, which can change
   * the file before it is read), or 'break' the lease (--force-lease-break: copied, the note says so).
   */
  leases?: 'refuse' | 'break';
  /**
   * Seconds a copy from a network or FUSE file system may go without receiving a byte before it is
   * given up as a server that stopped answering (default 30).
   */
  stallTimeoutS?: number | null;
  onProgress?: (item: ItemRow, bytes: number) => void;
  /** A warning line for the user (the case folder's writes could not be followed to their disk). */
  warn?: (message: string) => void;
}

/** A recovered file as CONTRACT.md names its JSON keys. */
export interface RecoveredJson {
  item_id: number;
  pid: number;
  fd: number | null;
  kind: string;
  inode: U64 | null;
  output: string | null;
  bytes: number;
  sha256: string | null;
  complete: boolean;
  note: string | null;
  size_at_start: number | null;
  size_at_end: number | null;
}

const O_NOATIME = fs.constants.O_NOATIME ?? 0;
const FOLLOW_POLL_MS = 200;
/** Each poll of a file on a network or FUSE file system is a `stat` child process. */
const FOLLOW_POLL_REMOTE_MS = 1000;
const DEFAULT_FOLLOW_TIMEOUT_S = 600;
/**
 * How often at most the row of a followed copy is brought up to date with what it holds (after its
 * first pass, which is recorded at once): one short write of the case database per growing file.
 */
const FOLLOW_RECORD_MS = 5000;
const DEFAULT_STALL_TIMEOUT_S = 30;
/** How long a killed child stuck in an uninterruptible wait is waited for before it is left behind. */
const ABANDON_AFTER_MS = 500;
/** The children's error messages are matched (ENOENT, EPERM): in English whatever the user's locale. */
const C_LOCALE = { LC_ALL: 'C' };

/**
 * Refuse to write copies onto the file system that holds an item: its free blocks are the
 * deleted file's blocks (and other deleted files'), and our writes could land on them. An item's
 * file systems: its own device, for a file on overlayfs (a container's root) the file system of the
 * overlay's upper and work directories, where its bytes really are (often the host's disk), and for
 * a file on btrfs (whose files carry their subvolume's anonymous device number) the mount's source
 * device. The output's: its own device and every device that one is stored on (a loop device's
 * backing file, a partition's disk, a device-mapper or md volume's devices, an overlay's upper
 * layer, a btrfs file system's device), where its writes really land.
 */
export function sameFsRefusal<T extends Pick<ItemRow, 'id' | 'dev' | 'pid' | 'path'>>(
  outputDir: string, items: Iterable<T>, devsOf: (item: Pick<ItemRow, 'id' | 'dev' | 'pid'>) => readonly ItemDevice[],
  advice = 'whose freed blocks a copy could overwrite; put the case on another disk (--case /mnt/usb/case) or pass --force-same-fs',
  /** Asked of a clashing item only: false when it cannot be copied anyway (no refusal, no --force-same-fs, for it). */
  copyable: (item: T) => boolean = () => true,
): string | null {
  const clash = sameFsClash(outputDir, items, devsOf, copyable);
  return clash === null ? null : `refusing to write into ${outputDir}: ${clash}, ${advice}`;
}

/** "it is on device 254:0, the same file system as item 3 (/var/log/x)": the first item on a file system the writes into `dir` land on; else null. */
function sameFsClash<T extends Pick<ItemRow, 'id' | 'dev' | 'pid' | 'path'>>(
  dir: string, items: Iterable<T>, devsOf: (item: Pick<ItemRow, 'id' | 'dev' | 'pid'>) => readonly ItemDevice[], copyable: (item: T) => boolean = () => true,
): string | null {
  const output = outputDevices(dir);
  for (const item of items) {
    const hit = output.clash(devsOf(item));
    if (hit === null || !copyable(item)) continue;
    return `it is on device ${output.chain(hit.dev)}, the same file system as item ${item.id} (${displayBytes(item.path)}${hit.how === null ? '' : `, ${hit.how}`})`;
  }
  return null;
}

/**
 * Why a file written into `dir` (a report's --out) could overwrite evidence, or null: the live items
 * of this host in this boot that the case holds are on the file system it is on (see sameFsRefusal).
 */
export function liveItemsRefusal(db: Db, dir: string, advice: string): string | null {
  const origin = liveOrigin(db);
  // One item per snapshot, device and mount (what decides an item's devices): a case of 100,000
  // items on a few file systems is a few rows, not 100,000 paths in memory.
  const rows = db.prepare(`SELECT id, snapshot_id, pid, dev, path FROM items WHERE id IN
    (SELECT min(id) FROM items WHERE dev IS NOT NULL GROUP BY snapshot_id, dev, mnt_ns, mnt_id) ORDER BY id`).all() as Array<Pick<ItemRow, 'id' | 'snapshot_id' | 'pid' | 'dev' | 'path'>>;
  const live = rows.filter((item) => origin(item.snapshot_id) === null);
  return live.length === 0 ? null : sameFsRefusal(dir, live, itemDevices(itemMount(db)), advice);
}

/** A device an item's bytes live on, and how when it is not the item's own (st_dev). */
export interface ItemDevice {
  dev: string;
  how: string | null;
}

/** The devices an output folder's writes land on: its own, and those it is stored on. */
interface OutputDevices {
  device: string;
  /** Where the walk down from the output could not follow (see devicesUnderDir). */
  unseen: string[];
  /** The first of an item's devices the output's writes land on, or null. */
  clash(itemDevs: readonly ItemDevice[]): ItemDevice | null;
  /** "7:0, a loop device whose backing file /var/tmp/c.img is on 254:0": how the output reaches `device`. */
  chain(device: string): string;
}

function outputDevices(outputDir: string): OutputDevices {
  const { device, under, unseen } = devicesUnderDir(outputDir);
  return {
    device,
    unseen,
    clash: (itemDevs) => itemDevs.find(({ dev }) => dev === device) ?? itemDevs.find(({ dev }) => under.has(dev)) ?? null,
    chain: (reached) => storedOnChain(device, reached, under),
  };
}

/**
 * An item's mount as its snapshot recorded it: by the mnt_id fdinfo gave, or, for a mapping or an
 * executable (no fdinfo, no mnt_id), by its device among the mounts of its mount namespace; and as
 * the walk did (src/proc/mounts.ts, find) for an fd whose mnt_id no mountinfo lists (a kernel-internal
 * mount of a file system also mounted, as mqueue): by its device and the mount point the item names.
 */
const ITEM_MOUNT = `FROM items i JOIN mounts m ON m.snapshot_id = i.snapshot_id AND m.mnt_ns = i.mnt_ns
  AND (m.mnt_id = i.mnt_id OR (i.mnt_id IS NULL AND m.dev = i.dev) OR (m.dev = i.dev AND m.mount_point = i.mount_point)) WHERE i.id = ?
  ORDER BY m.mnt_id IS i.mnt_id DESC, m.mount_point IS i.mount_point DESC`;

interface MountRow {
  /** mountinfo's device: the super block's, which /proc/locks names (st_dev differs on btrfs and overlayfs). */
  dev: string | null;
  fs_type: string | null;
  source: string | null;
  super_options: string | null;
}

/** An item's mount (see ITEM_MOUNT), or undefined when neither its snapshot nor unlinked's namespace knows one. */
export type ItemMount = (item: Pick<ItemRow, 'id' | 'dev'>) => MountRow | undefined;

/**
 * An item's mount as its snapshot recorded it or, when it knows none (a process chrooted below its
 * mount's root sees no mount of it in its mountinfo), a mount of the item's device in unlinked's own
 * mount namespace (read once per device).
 */
export function itemMount(db: Db): ItemMount {
  const recorded = db.prepare(`SELECT m.dev, m.fs_type, m.source, m.super_options ${ITEM_MOUNT} LIMIT 1`);
  const own = new Map<string, MountRow | undefined>();
  const ownMountRow = (dev: string): MountRow | undefined => {
    if (!own.has(dev)) {
      const mount = ownMountOfDevice(dev);
      own.set(dev, mount === null ? undefined : { dev: mount.dev, fs_type: mount.fsType, source: mount.source, super_options: mount.superOptions });
    }
    return own.get(dev);
  };
  return (item) => (recorded.get(item.id) as MountRow | undefined) ?? (item.dev === null ? undefined : ownMountRow(item.dev));
}

/** The devices an item's bytes live on (see sameFsRefusal), from its mount (itemMount). */
export function itemDevices(mountOf: ItemMount): (item: Pick<ItemRow, 'id' | 'dev' | 'pid'>) => readonly ItemDevice[] {
  // The devices a mount adds, once per mount and holder's root (a host-wide triage asks for thousands of items on a few mounts).
  const byMount = new Map<string, ItemDevice[]>();
  const rootsOf = overlayRoots();
  const mountAdds = (mount: MountRow, item: Pick<ItemRow, 'dev' | 'pid'>): ItemDevice[] => {
    const roots = mount.fs_type === 'overlay' ? rootsOf(item, mount.super_options ?? '') : [];
    const key = `${mount.fs_type ?? ''}\0${mount.source ?? ''}\0${mount.super_options ?? ''}\0${roots.join('\0')}`;
    const known = byMount.get(key);
    if (known !== undefined) return known;
    const adds: ItemDevice[] = [];
    if (mount.fs_type === 'overlay') {
      for (const { found } of overlayLayers(mount.super_options ?? '', roots)) {
        // Not found from here nor from the holder's root: unknown (see unknownBacking).
        for (const { path: at, device } of found) {
          const seen = at.toString('latin1').startsWith('/proc/') ? ` (${displayBytes(at.subarray(at.indexOf('/root/') + 5))}, as its process sees it)` : '';
          adds.push({ dev: device, how: `on an overlay whose upper layer is there${seen}` });
          // An upper layer in a btrfs subvolume (Docker on btrfs): the file system's devices.
          const below = mountSourceOf(at);
          for (const device of below?.devices ?? []) adds.push({ dev: device, how: `on an overlay whose upper layer is on the ${below?.mount.fsType ?? ''} file system of ${below?.mount.source ?? ''}` });
        }
      }
    } else if (mount.source !== null) {
      // The mount's source names its block device (btrfs, whose files carry a subvolume's anonymous
      // device number; for ext4 and the like it is st_dev itself). Seen from this mount namespace: a
      // source of another one that names no block device here adds nothing.
      for (const device of mountDevices({ source: mount.source, fsType: mount.fs_type ?? '' })) adds.push({ dev: device, how: `on the ${mount.fs_type ?? 'unknown'} file system of ${mount.source}` });
    }
    byMount.set(key, adds);
    return adds;
  };
  return (item) => {
    const mount = mountOf(item);
    // A file in memory (tmpfs, ramfs) has no blocks on a disk that a write could take: /dev/shm is
    // where a payload is dropped, and where the README puts a case.
    if (mount?.fs_type === 'tmpfs' || mount?.fs_type === 'ramfs') return [];
    const devs: ItemDevice[] = item.dev === null ? [] : [{ dev: item.dev, how: null }];
    for (const add of mount === undefined ? [] : mountAdds(mount, item)) if (!devs.some((known) => known.dev === add.dev)) devs.push(add);
    return devs;
  };
}

/** statfs f_type of FILE (stat -f, a child given up on after PROBE_TIMEOUT_MS), or null. */
async function statfsType(file: string, recorder: CommandRecorder): Promise<number | null> {
  try {
    const result = await run('stat', ['-f', '-L', '--format=%t', '--', file], { timeoutMs: PROBE_TIMEOUT_MS, recorder, abandonAfterMs: ABANDON_AFTER_MS, env: C_LOCALE });
    const type = Number.parseInt(result.stdout.toString('latin1').trim(), 16);
    return Number.isSafeInteger(type) ? type : null;
  } catch {
    return null;
  }
}

/** statfs f_type of file systems held in memory: nothing written to a disk can land on them. */
const IN_MEMORY_FS = new Set([0x01021994 /* tmpfs */, 0x858458f6 /* ramfs */]);

/**
 * Said of a POSIX message queue's file (an item of a snapshot made before the walk left them out, or
 * of an lsof import): its read gives the queue's status line, and moves its times.
 */
const MQUEUE_REFUSAL = 'not copied: it is a POSIX message queue (the mqueue file system; removed with mq_unlink): a read of its file gives the queue\'s status line ' +
  '(QSIZE:...), not its messages, which cannot be read without taking them from the queue (docs/limits.md)';

/** A message queue by the mount its snapshot recorded (or found here): never read. */
function mqueueRefusal(item: ItemRow, mountOf: ItemMount): string | null {
  return item.fs_type === 'mqueue' || mountOf(item)?.fs_type === 'mqueue' ? MQUEUE_REFUSAL : null;
}

/**
 * Why a copy of the item cannot be told safe, or null: a file on a device number of no disk (an
 * overlay, a btrfs subvolume, FUSE) whose mount neither its snapshot (a process chrooted below the
 * mount's root sees none) nor unlinked's namespace knows, so where that file system keeps its data,
 * and whether the case's writes land there, is unknown. One in memory (tmpfs, by statfs) is safe.
 */
export function unknownBacking(mountOf: ItemMount, recorder: CommandRecorder): (item: ItemRow) => Promise<string | null> {
  // Once per overlay mount and holder's root (a container holds many items on one).
  const overlays = new Map<string, string | null>();
  const rootsOf = overlayRoots();
  return async (item) => {
    if (item.dev === null || !item.dev.startsWith('0:') || ofMemfd(item)) return null;
    const mount = mountOf(item);
    if (mount?.fs_type === 'overlay') {
      const options = mount.super_options ?? '';
      const roots = rootsOf(item, options);
      const key = `${options}\0${roots.join('\0')}`;
      if (!overlays.has(key)) overlays.set(key, unknownOverlayLayer(options, roots));
      return overlays.get(key) ?? null;
    }
    if (mount !== undefined) return null;
    const source = sourcePath(item);
    // Its file system is unknown: it may be one that does not answer (FUSE, NFS), so statfs is asked by a child.
    const type = source === null ? null : await statfsType(source, recorder);
    if (type !== null && IN_MEMORY_FS.has(type)) return null;
    if (type === MQUEUE_MAGIC) return MQUEUE_REFUSAL;
    // The walk may have named the item's mount (by its device: the fd's mnt_id in no mountinfo) where the snapshot's table holds no such row.
    const unknown = item.fs_type === null
      ? 'whose mount is known neither to its snapshot (its process sees none: chrooted below the mount\'s root?) nor here'
      : `whose mount (${item.fs_type}${item.mount_point === null ? '' : ` at ${JSON.stringify(displayBytes(item.mount_point))}`}, as its snapshot named it) is neither in its snapshot's mount table nor known here`;
    return (
      `not copied: it is on device ${item.dev}, ${unknown}` +
      `${type === null ? '' : ` (a file system of type 0x${type.toString(16)})`}: where that file system keeps its data, and whether the case's writes land there, cannot be told; ` +
      'rerun with --force-same-fs to copy it anyway'
    );
  };
}

/** Another /proc path by which an item's process reached the same file at snapshot time. */
interface OtherPath {
  path: string;
  /** "fd 5", "its mapping 7f...-7f..." */
  what: string;
}

/**
 * The item's process's other fds and mappings of the item's file (device and inode), as its
 * snapshot recorded them: every fd of a deleted file is an item of its own, a mapping one only when
 * no fd of the process holds the file (one for all its mappings); all are rows of fds and maps. Each
 * is checked like the item's own path before use.
 */
function otherPaths(db: Db): (item: ItemRow) => readonly OtherPath[] {
  const fds = db.prepare(`SELECT fd FROM fds WHERE snapshot_id = ? AND pid = ? AND dev = ? AND inode = ? AND fd IS NOT ? ORDER BY fd`).pluck();
  const maps = db.prepare(`SELECT range FROM maps WHERE snapshot_id = ? AND pid = ? AND dev = ? AND inode = ? AND range IS NOT ? ORDER BY range`).pluck();
  return (item) => {
    if (item.dev === null || item.inode === null || item.kind === 'exe') return [];
    const base = procDirOf('/proc', item.pid);
    const inode = sqlU64(item.inode);
    return [
      ...(fds.all(item.snapshot_id, item.pid, item.dev, inode, item.fd) as number[]).map((fd) => ({ path: `${base}/fd/${fd}`, what: `fd ${fd}` })),
      ...(maps.all(item.snapshot_id, item.pid, item.dev, inode, item.map_range) as string[]).map((range) => ({ path: `${base}/map_files/${range}`, what: `its mapping ${range}` })),
    ];
  };
}

/**
 * An overlay whose upper or work directory cannot be found from here (given relative to where it
 * was mounted from, or a path of another mount namespace, or gone): the disk its bytes are on is
 * unknown, so whether the case's writes land there cannot be told.
 */
function unknownOverlayLayer(superOptions: string, roots: readonly string[]): string | null {
  const lost = overlayLayers(superOptions, roots).find(({ found }) => found.length === 0);
  if (lost === undefined) return null;
  return `not copied: it is on an overlay whose ${lost.name} (${displayBytes(lost.dir)}) cannot be found from here (${lost.dir[0] === 0x2f ? 'gone, or a path of another mount namespace' : 'given relative to where the overlay was mounted from'}): ` +
    'the disk its bytes are on, and whether the case\'s writes land there, cannot be told; rerun with --force-same-fs to copy it anyway';
}

/**
 * Where an overlay's upperdir and workdir (paths as its mounter saw them) are looked up: from the
 * holder's root (an overlay mounted inside the holder's namespace: from here the same path can name
 * another directory, even on another disk), and from here too when the overlay is mounted here as
 * well (made here, then reached the holder's namespace, as a container runtime's do). Each
 * directory found counts: a copy is refused on any of them.
 */
function overlayRoots(): (item: Pick<ItemRow, 'pid'>, superOptions: string) => string[] {
  const here = new Map<string, boolean>();
  return (item, superOptions) => {
    const holder = `${procDirOf('/proc', item.pid)}/root`;
    if (!here.has(superOptions)) here.set(superOptions, mountedHere('overlay', superOptions));
    return here.get(superOptions) === true ? ['', holder] : [holder];
  };
}

/** A whole copy of a file another item of the same file may stand on: which item's, and the file as it was during it. */
interface SharedCopy {
  itemId: number;
  outcome: Outcome;
  before: FileState;
}

/** A file's size and change times (ns), from a stat through its holder's link. */
interface FileState {
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

/**
 * The file as an item's holder sees it (a local file only: a network or FUSE one may not answer a
 * stat), or null: compared with the file during a whole copy of it, it says whether that copy holds it.
 */
function fileState(item: ItemRow): FileState | null {
  const source = sourcePath(item);
  if (source === null || mayNotAnswer(item)) return null;
  const stat = tryOr(() => fs.statSync(source, { bigint: true }), null);
  return stat === null ? null : { size: stat.size, mtimeNs: stat.mtimeNs, ctimeNs: stat.ctimeNs };
}

/**
 * Times a file system stamps are coarse (a clock tick of several ms here) and can lag the clock: a
 * file changed less than this before its copy started may have changed during it with the same stamp.
 */
const QUIET_BEFORE_COPY_NS = 1_000_000_000n;

/**
 * A whole copy another item may stand on: one of a file that had not changed for a while before the
 * copy started (see QUIET_BEFORE_COPY_NS), nor during it (its size and change times the same when
 * the copy started and ended: a later change is stamped later), and held as many bytes as the copy; else null.
 */
function sharedCopy(item: ItemRow, outcome: Outcome | null, startedNs: bigint | null): SharedCopy | null {
  const before = outcome?.unchanged;
  if (startedNs === null || outcome === null || !outcome.complete || outcome.output === null || outcome.sha256 === null || before === undefined) return null;
  if (before.size !== BigInt(outcome.bytes) || startedNs - before.mtimeNs < QUIET_BEFORE_COPY_NS || startedNs - before.ctimeNs < QUIET_BEFORE_COPY_NS) return null;
  return { itemId: item.id, outcome, before };
}

/** Whether the file, as this item's holder sees it now, is as it was before the shared copy: same size and change times. */
function stillAsCopied(item: ItemRow, shared: SharedCopy): boolean {
  const now = fileState(item);
  return now !== null && now.size === shared.before.size && now.mtimeNs === shared.before.mtimeNs && now.ctimeNs === shared.before.ctimeNs;
}

export function outputName(item: Pick<ItemRow, 'id' | 'pid' | 'kind' | 'fd' | 'path'>): string {
  const base = path.posix.basename(item.path.toString('latin1'));
  const safe = base.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[-.]+/, '_').slice(0, 80) || 'unnamed';
  return `${item.id}-${item.pid}-${item.kind}${item.fd === null ? '' : String(item.fd)}-${safe}`;
}

/**
 * Copy the items of these ids, in this order. Each item's row is read from the case as its turn
 * comes: 100,000 rows held at once (their paths, executables and mount points as Buffers) took
 * 230 MB before the first copy.
 */
export async function recoverItems(db: Db, itemIds: readonly number[], options: RecoverOptions): Promise<RecoveredJson[]> {
  // A first Ctrl-C from here on stops the copies, not the run (util/interrupt.ts).
  const endCopyPhase = startCopyPhase();
  try {
    return await recoverAll(db, itemIds, options);
  } finally {
    endCopyPhase();
  }
}

/** Said of the items whose turn had not come when a Ctrl-C (or SIGTERM) stopped the copies. */
export const NOT_REACHED = 'not copied: interrupted before its turn (a Ctrl-C, SIGTERM or SIGHUP stopped the copies)';

async function recoverAll(db: Db, itemIds: readonly number[], options: RecoverOptions): Promise<RecoveredJson[]> {
  caseFolder(options.outputDir);
  const loadItem = itemLoader(db);
  const itemOf = (id: number): ItemRow => {
    const item = loadItem(id);
    if (item === undefined) throw new UnlinkedError('NOT_FOUND', `no item ${id} in the case`);
    return item;
  };
  // The columns the checks below need of each item, read in batches as they go (not whole rows).
  const items = itemsForChecks(db, itemIds);
  const mountOf = itemMount(db);
  const devsOf = itemDevices(mountOf);
  const origin = liveOrigin(db);
  // Not for an item that cannot be copied anyway (another host's, an earlier boot's, its process
  // gone or its PID reused): its own note says why, and --force-same-fs would not help it.
  const copyable = (item: CheckedItem): boolean => origin(item.snapshot_id) === null && checkProcess(item) === null;
  // Every copy writes its row into the case database (and its WAL): its folder is held to the same
  // rule as recovered/, which may be elsewhere (a tmpfs mounted in the case, a symbolic link to one).
  const databaseDir = path.dirname(db.name);
  const databaseClash = options.sameFs === 'force' ? null : sameFsClash(databaseDir, items, devsOf, copyable);
  if (options.sameFs === 'refuse') {
    const refusal = sameFsRefusal(options.outputDir, items, devsOf, undefined, copyable);
    if (refusal !== null) throw new UnlinkedError('SAME_FS', refusal);
    if (databaseClash !== null) {
      throw new UnlinkedError('SAME_FS', `refusing to write the case database into ${databaseDir}: ${databaseClash}, whose freed blocks its writes could overwrite (wherever recovered/ is); put the case on another disk (--case /mnt/usb/case) or pass --force-same-fs`);
    }
  } else if (databaseClash !== null) {
    // triage: its snapshot is in that database already, and `npx unlinked triage` in a folder on the host's disk must work.
    options.warn?.(`the case database is written into ${databaseDir}: ${databaseClash}, whose freed blocks its writes could overwrite; put the case on another disk (--case /mnt/usb/case)`);
  }
  const output = outputDevices(options.outputDir);
  if (options.sameFs !== 'force') {
    for (const where of output.unseen) {
      options.warn?.(`cannot tell where the copies written into ${options.outputDir} land: it is on ${where}: they may land on an item's file system; put the case on a disk of its own (--case /mnt/usb/case)`);
    }
    // The case database's folder on another file system than recovered/: where its writes land is said too.
    const database = outputDevices(databaseDir);
    for (const where of database.device === output.device ? [] : database.unseen) {
      options.warn?.(`cannot tell where the case database's writes into ${databaseDir} land: it is on ${where}: they may land on an item's file system; put the case on a disk of its own (--case /mnt/usb/case)`);
    }
  }
  // Room the copies leave on the disk of the case database, when they share it; one guard for all
  // the copies of the run (those followed side by side write at the same time).
  const guard = new SpaceGuard(options.outputDir, keepFreeFor(options.outputDir, db.name));
  // A row before each copy (no output yet), its output named just before the file is created: a run
  // killed (SIGKILL: no hook runs) leaves the row of the very file it was writing, never a guess.
  const insert = db.prepare(`INSERT INTO recoveries (item_id, output, started_at, note) VALUES (?, NULL, ?, 'interrupted: the copy did not finish')`);
  const created = db.prepare(`UPDATE recoveries SET output = ? WHERE id = ?`);
  const update = db.prepare(
    `UPDATE recoveries SET output = ?, bytes = ?, sha256 = ?, complete = ?, note = ?, size_at_start = ?, size_at_end = ?, sparse = ?, followed = ?, finished_at = ? WHERE id = ?`,
  );
  const interrupted = db.prepare(`UPDATE recoveries SET output = ?, bytes = ?, note = ? WHERE id = ? AND finished_at IS NULL`);
  // A copy followed (--follow): what it holds for sure, recorded when its first pass ends and again
  // while it is followed (see FOLLOW_RECORD_MS), never complete, not listed: a run killed before
  // following ends (SIGKILL, the OOM killer) leaves these true statements, not `interrupted`.
  const following = db.prepare(
    `UPDATE recoveries SET output = ?, bytes = ?, sha256 = ?, complete = 0, note = ?, size_at_start = ?, sparse = ?, followed = 1 WHERE id = ? AND finished_at IS NULL`,
  );
  const stoppedAtOnce = db.prepare(`UPDATE recoveries SET bytes = ?, sha256 = ?, complete = 0, note = ?, sparse = ?, followed = 1, finished_at = ? WHERE id = ? AND finished_at IS NULL`);
  const results: RecoveredJson[] = [];
  // What the run needs to know of all its items before the first copy, from a few columns of each.
  const { withFd, repeated } = itemsAtAGlance(db, itemIds);
  const followFiles = options.follow ? followFilesAllowed(withFd, options.warn) : NO_FILES_LIMIT;
  const recorder = commandRecorder(db);
  const silentDevs = new Map<string, string>();
  const unknownFs = unknownBacking(mountOf, recorder);
  const othersOf = otherPaths(db);
  const pidNsOf = db.prepare(`SELECT pid_ns FROM processes WHERE snapshot_id = ? AND pid = ?`).pluck();
  /** "PID reuse" may be PID numbers of another namespace: a snapshot taken inside a container. */
  const namespaceWhy = (item: Pick<ItemRow, 'snapshot_id' | 'pid'>, note: string | null): string | null => {
    if (note?.startsWith('PID reuse: ') !== true) return note;
    const then = pidNsOf.get(item.snapshot_id, item.pid) as string | null | undefined;
    const now = tryOr(() => fs.readlinkSync(`/proc/${item.pid}/ns/pid`), null);
    if (then === null || then === undefined || now === null || then === now) return note;
    return `${note}; process ${item.pid} here is in PID namespace ${now}, the snapshot's was in ${then}: a snapshot taken in another PID namespace (a container), whose PIDs are not this /proc's`;
  };
  /** listed: false for an item whose copy is another item's file, already in SHA256SUMS. */
  const record = (index: number, item: ItemRow, rowId: number, given: Outcome, listed = true): void => {
    const written = { ...given, note: namespaceWhy(item, given.note) };
    const unlisted = written.output === null || written.sha256 === null || !listed ? null : tryAppendSha256Sums(options.outputDir, written.sha256, written.output);
    const outcome = unlisted === null ? written : { ...written, note: written.note === null ? unlisted : `${written.note}; ${unlisted}` };
    beforeWrite(db);
    update.run(
      outcome.output, outcome.bytes, outcome.sha256, outcome.complete ? 1 : 0, outcome.note, outcome.sizeAtStart, outcome.sizeAtEnd,
      outcome.sparse ? 1 : 0, outcome.followed ? 1 : 0, nowIso(), rowId,
    );
    results[index] = recoveredJson(item, outcome);
  };
  /**
   * The items from `from` on, whose turn had not come when the copies were stopped: recorded not
   * copied, in one transaction (a row, a commit and a /proc read each took 11 s for 98,000 items,
   * with the second Ctrl-C waiting). Its process gone is said first, as for any item refused; read
   * once per process.
   */
  const notReachedRow = db.prepare(`INSERT INTO recoveries (item_id, output, bytes, complete, note, started_at, finished_at) VALUES (?, NULL, 0, 0, ?, ?, ?)`);
  const notReachedItems = inBatches(db, `id, snapshot_id, pid, start_time, fd, kind, inode, ${exactText('inode', 'inode_text')}`);
  const notReached = async (from: number): Promise<void> => {
    const processes = new Map<string, string | null>();
    const now = nowIso();
    for (let start = from; start < itemIds.length; start += NOT_REACHED_BATCH) {
      // A second signal stops the run here, between two batches (those recorded stay).
      await letSignalsIn();
      beforeWrite(db);
      db.transaction(() => recordNotReached(start, Math.min(start + NOT_REACHED_BATCH, itemIds.length)))();
    }
    type NotReachedItem = Pick<ItemRow, 'id' | 'snapshot_id' | 'pid' | 'start_time' | 'fd' | 'kind' | 'inode'> & { inode_text: string | null };
    function recordNotReached(from: number, to: number): void {
      let index = from;
      for (const row of inOrder<NotReachedItem>(notReachedItems, itemIds.slice(from, to))) {
        const item = { ...row, inode: readU64(row.inode, row.inode_text) };
        const holder = `${item.pid}/${item.start_time ?? ''}/${item.snapshot_id}`;
        if (!processes.has(holder)) processes.set(holder, origin(item.snapshot_id) === null ? namespaceWhy(item, checkProcess(item)) : null);
        const note = processes.get(holder) ?? NOT_REACHED;
        notReachedRow.run(item.id, note, now, now);
        results[index++] = recoveredJson(item, failed(note));
      }
    }
  };
  // Every item is copied once, in the order given (the most fragile first), before any is followed;
  // then the growing ones are followed all at once, within one --follow-timeout.
  let startFollowing: (deadline: number) => void = () => undefined;
  const followFrom = new Promise<number>((resolve) => {
    startFollowing = resolve;
  });
  const syncs = syncPipeline();
  /** The copies not ended yet (followed, or waiting for another copy of their file): a run of 100,000 small copies holds none of theirs. */
  const followed = new Set<Promise<void>>();
  const pending = (promise: Promise<void>): void => {
    followed.add(promise);
    // A failure stays, for the end of the run to meet.
    promise.then(() => followed.delete(promise), () => undefined);
  };
  /**
   * Per file (snapshot, device, inode) held by more than one item of this run (`repeated`): its latest
   * whole copy once the copies before are done, or null.
   */
  const firstOfFile = new Map<string, Promise<SharedCopy | null>>();
  /**
   * Copy one item: `firstCopy` once it was copied once (it may be followed after), `done` once
   * recorded; `lead`: what its row's note says first (why it was copied itself), not said by the
   * copy when it stands for later items.
   */
  const copyItem = (index: number, item: ItemRow, rowId: number, lead: string | null = null): { firstCopy: Promise<void>; written: Promise<void>; shared: Promise<SharedCopy | null>; done: Promise<void> } => {
    const source = sourcePath(item);
    const stallMs = (options.stallTimeoutS ?? DEFAULT_STALL_TIMEOUT_S) * 1000;
    const lease = new LeaseGate(item, [item.dev, mountOf(item)?.dev ?? null], options.leases ?? 'refuse', options.warn);
    const reader = source !== null && mayNotAnswer(item) ? new ChildReader(item, source, recorder, stallMs, silentDevs, lease) : new LocalReader(item, source, () => othersOf(item), lease);
    let copiedOnce: () => void = () => undefined;
    const firstCopy = new Promise<void>((resolve) => {
      copiedOnce = resolve;
    });
    const live: LiveCopy = { file: null, state: null, fd: null, reading: false, held: null, qualifiers: [] };
    /** What the row says of the followed copy now (its bytes), and when it was written (ms). */
    let recorded = { bytes: -1, at: 0 };
    // Stopped at once by a signal: a copy under way is named with what it held then (never counted a
    // copy); a followed one keeps what was copied and hashed before (listed when no read is under way).
    const unhook = onSignalExit(() => {
      const { file, state, fd, held } = live;
      if (file === null || state === null) return;
      if (held === null) {
        const size = tryOr(() => fs.statSync(file).size, null);
        interrupted.run(file, size ?? 0, `interrupted: the copy did not finish; ${state.bytes} bytes were read (${state.holeBytes} of them holes, not written), ` +
          `${size ?? '?'} bytes were in ${file} then (not hashed, not checked: writes were still in flight)`, rowId);
        return;
      }
      const stopped = 'stopped at once by a second signal (Ctrl-C or SIGTERM) while it was followed';
      // No read under way: every byte of the copy up to held.bytes is written, none after it counts.
      const cut = !live.reading && fd !== null && tryOr(() => {
        fs.ftruncateSync(fd, held.bytes);
        return true;
      }, false);
      const unlisted = cut ? tryAppendSha256Sums(options.outputDir, held.sha256, file) : null;
      const note = cut
        ? `${stopped} or waited to be: the copy holds the first ${held.bytes} bytes of the file, copied and hashed at ${held.at}, and its sha256 is theirs; the file may hold more, written after that`
        : `${stopped}, in a read of what was appended: the first ${held.bytes} bytes of the copy were copied and hashed at ${held.at}, and its sha256 is theirs; ` +
          `more may follow them in ${file} (not hashed, not checked: writes were still in flight); not listed in SHA256SUMS`;
      const notes = [note, ...live.qualifiers, ...(unlisted === null ? [] : [unlisted])];
      stoppedAtOnce.run(held.bytes, held.sha256, notes.join('; '), held.sparse ? 1 : 0, nowIso(), rowId);
    });
    /** After a pass of a followed copy (no read under way): what it holds for sure, and the row updated when due. */
    const hold = (fd: number, state: Readonly<CopyState>, sizeAtStart: number): void => {
      const file = live.file;
      if (file === null) return;
      if (live.held?.bytes !== state.bytes) live.held = { bytes: state.bytes, sha256: state.hash.copy().digest('hex'), at: nowIso(), sparse: state.holeBytes > 0 };
      const { held } = live;
      if (recorded.bytes === held.bytes || (recorded.bytes >= 0 && Date.now() - recorded.at < FOLLOW_RECORD_MS)) return;
      const note = `following was under way: the first ${held.bytes} bytes of the copy were copied and hashed at ${held.at}, and its sha256 is theirs; ` +
        `the file may hold more, written after that, and so may the copy, past them (not hashed, not checked); not listed in SHA256SUMS until following ends ` +
        `(a run killed before that leaves this row as it is)`;
      try {
        // Cut to its size (a copy ending in a hole has it then; what a pass that was taken back wrote goes), and on disk before the row says so.
        fs.ftruncateSync(fd, held.bytes);
        fs.fsyncSync(fd);
        beforeWrite(db);
        following.run(file, held.bytes, held.sha256, [note, ...live.qualifiers].join('; '), sizeAtStart, held.sparse ? 1 : 0, rowId);
        recorded = { bytes: held.bytes, at: Date.now() };
      } catch {
        // Not said now (the case database or the copy's disk failing): the row keeps what it said,
        // this is tried again after the next pass, and the copy's end is recorded (or fails) as ever.
      }
    };
    const startedNs = BigInt(Date.now()) * 1_000_000n;
    let bytesWritten: () => void = () => undefined;
    const written = new Promise<void>((resolve) => {
      bytesWritten = resolve;
    });
    const copied = recoverOne(item, reader, options, {
      copiedOnce, followFrom, guard, followFiles,
      sync: async (fd) => {
        bytesWritten();
        await syncs.sync(fd);
      },
      naming: (file) => {
        beforeWrite(db);
        created.run(file, rowId);
      },
      live,
      hold,
    });
    const led = (outcome: Outcome): Outcome => (lead === null ? outcome : { ...outcome, note: outcome.note === null ? lead : `${lead}; ${outcome.note}` });
    const done = copied.then((outcome) => record(index, item, rowId, led(outcome))).finally(unhook);
    return { firstCopy, written, shared: copied.then((outcome) => sharedCopy(item, outcome, options.follow ? null : startedNs), () => null), done };
  };
  try {
    for (const [index, id] of itemIds.entries()) {
      if (copiesStopRequested()) {
        // The rest at once, not a row and a check each between turns of the loop: a second signal stops the run meanwhile.
        await notReached(index);
        break;
      }
      const item = itemOf(id);
      beforeWrite(db);
      const rowId = Number(insert.run(item.id, nowIso()).lastInsertRowid);
      const silent = item.dev === null ? undefined : silentDevs.get(item.dev);
      const elsewhere = origin(item.snapshot_id);
      const hit = options.sameFs === 'skip' ? output.clash(devsOf(item))?.dev ?? null : null;
      let refusal: string | null = null;
      const mqueue = elsewhere === null ? mqueueRefusal(item, mountOf) : null;
      if (elsewhere !== null) {
        refusal = elsewhere;
      } else if (mqueue !== null) {
        refusal = mqueue;
      } else if (hit !== null) {
        const where = hit === output.device ? 'the file system of the case directory' : `where the case directory's writes land (its device ${output.chain(hit)})`;
        refusal = `not copied: it is on ${hit}, ${where}, whose writes could overwrite its freed blocks; rerun with --case on another disk (e.g. /mnt/usb/case), or --force-same-fs`;
      } else if (silent !== undefined) {
        refusal = silent;
      } else if (options.sameFs !== 'force') {
        refusal = await unknownFs(item);
      }
      // Its process gone (or its PID reused): that is the reason, said first, not where its file was
      // (asked only of an item about to be refused: the copy checks its process anyway).
      if (refusal !== null && elsewhere === null) refusal = checkProcess(item) ?? refusal;
      if (refusal !== null) {
        record(index, item, rowId, failed(refusal));
        continue;
      }
      // The same file held by another fd or process of the snapshot (a log inherited by forked
      // workers, a dup'ed fd, an executable run by many): its whole copy stands for this item too;
      // a copy of it that is not whole leaves this item to be copied itself, after the others.
      // Not when following: each holder may write on, and is followed until it closes the file.
      let key = item.dev === null || item.inode === null || options.follow ? null : fileKey(item);
      if (key !== null && !repeated.has(key)) key = null;
      const earlier = key === null ? undefined : firstOfFile.get(key);
      if (key !== null && earlier !== undefined) {
        // In turn after the copies of the same file before it: the first whole one stands for the rest.
        const after = earlier.then(async (shared): Promise<SharedCopy | null> => {
          if (shared !== null && stillAsCopied(item, shared)) {
            const same = `the same file as item ${shared.itemId} (device ${item.dev ?? '?'}, inode ${String(item.inode)}): its copy ${path.basename(shared.outcome.output ?? '')} holds it, not copied again`;
            record(index, item, rowId, { ...shared.outcome, note: shared.outcome.note === null ? same : `${same}; ${shared.outcome.note}` }, false);
            return shared;
          }
          if (copiesStopRequested()) {
            record(index, item, rowId, failed(NOT_REACHED));
            return shared;
          }
          // A whole copy of the file that it no longer is, as this item's holder sees it: changed after that copy ended.
          const changedSince = shared === null ? null : `the same file as item ${shared.itemId} (device ${item.dev ?? '?'}, inode ${String(item.inode)}), changed since its copy ${path.basename(shared.outcome.output ?? '')} was made (its size or change times differ now): copied again`;
          const copy = copyItem(index, item, rowId, changedSince);
          await copy.done;
          return (await copy.shared) ?? shared;
        });
        firstOfFile.set(key, after);
        pending(after.then(() => undefined));
        continue;
      }
      const copy = copyItem(index, item, rowId);
      if (key !== null) firstOfFile.set(key, copy.shared);
      // On to the next item once this copy's bytes are written (its fsync and its row follow), or once it waits to be followed.
      await Promise.race([copy.firstCopy, copy.written, copy.done]);
      pending(copy.done);
      await syncs.room();
    }
  } finally {
    // Even when the first pass failed (the case database, say): the copies waiting to follow end.
    const endPhase = startFollowPhase();
    try {
      startFollowing(Date.now() + (options.followTimeoutS ?? DEFAULT_FOLLOW_TIMEOUT_S) * 1000);
      await Promise.allSettled(followed);
    } finally {
      endPhase();
    }
  }
  await Promise.all(followed);
  return results;
}

/** Items recorded not reached per transaction: a few ms each, a second signal handled between two. */
const NOT_REACHED_BATCH = 2000;
const fsync = promisify(fs.fsync);
/** fsyncs that may be under way at once while the next copies go on. */
const SYNCS_IN_FLIGHT = 16;

/**
 * A copy's row says what it holds only once its bytes are on disk (an fsync), but the next copy need
 * not wait for that: fsyncs of many small copies, one after another on the main thread, were half of a
 * run of 100,000 10-byte files (103 s of 200), each a commit of the disk's journal. Under way side by
 * side (node's thread pool), the file system commits them together. `room` waits while
 * SYNCS_IN_FLIGHT are under way, so the copies left open to be synced stay few.
 */
function syncPipeline(): { sync(fd: number): Promise<void>; room(): Promise<void> } {
  let inFlight = 0;
  const waiting: Array<() => void> = [];
  return {
    async sync(fd) {
      inFlight++;
      try {
        await fsync(fd);
      } finally {
        inFlight--;
        waiting.shift()?.();
      }
    },
    async room() {
      while (inFlight >= SYNCS_IN_FLIGHT) await new Promise<void>((resolve) => waiting.push(resolve));
    },
  };
}

/** What the checks before the copies read of each item. */
type CheckedItem = Pick<ItemRow, 'id' | 'snapshot_id' | 'pid' | 'start_time' | 'dev' | 'path'>;

/** The items of these ids (CheckedItem), in their order, read IN_BATCH at a time. */
function itemsForChecks(db: Db, itemIds: readonly number[]): Iterable<CheckedItem> {
  const select = inBatches(db, 'id, snapshot_id, pid, start_time, dev, path');
  return { [Symbol.iterator]: () => inOrder<CheckedItem>(select, itemIds) };
}

/** The rows `select` gives for these ids, in the ids' order, read IN_BATCH at a time; a missing id is NOT_FOUND. */
function* inOrder<T extends { id: number }>(select: (ids: readonly number[]) => unknown[], itemIds: readonly number[]): Generator<T> {
  for (let start = 0; start < itemIds.length; start += IN_BATCH) {
    const ids = itemIds.slice(start, start + IN_BATCH);
    const byId = new Map((select(ids) as T[]).map((row) => [row.id, row]));
    for (const id of ids) {
      const row = byId.get(id);
      if (row === undefined) throw new UnlinkedError('NOT_FOUND', `no item ${id} in the case`);
      yield row;
    }
  }
}

const IN_BATCH = 500;

/** Rows of `items` (these columns) whose ids are given, IN_BATCH at most, in no particular order. */
function inBatches(db: Db, columns: string): (ids: readonly number[]) => unknown[] {
  const sql = (count: number): string => `SELECT ${columns} FROM items WHERE id IN (${Array(count).fill('?').join(',')})`;
  const full = db.prepare(sql(IN_BATCH));
  return (ids) => (ids.length === IN_BATCH ? full : db.prepare(sql(ids.length))).all(...ids);
}

/** A file of a snapshot, as items of it held by several fds or processes share it. */
function fileKey(item: Pick<ItemRow, 'snapshot_id' | 'dev' | 'inode'>): string {
  return `${item.snapshot_id}/${item.dev ?? ''}/${String(item.inode)}`;
}

/**
 * What a run needs to know of all its items before its first copy: how many are held by an fd (each
 * may be followed), and the files (fileKey) that more than one of them holds. From three columns of
 * each, read by id in batches: the first file's key is kept for each item only while the scan runs.
 */
function itemsAtAGlance(db: Db, itemIds: readonly number[]): { withFd: number; repeated: Set<string> } {
  const select = inBatches(db, `snapshot_id, dev, ${exactText('inode', 'inode_text')}, inode, fd`);
  const seen = new Set<string>();
  const repeated = new Set<string>();
  let withFd = 0;
  for (let start = 0; start < itemIds.length; start += IN_BATCH) {
    const rows = select(itemIds.slice(start, start + IN_BATCH)) as Array<{ snapshot_id: number; dev: string | null; inode: U64 | null; inode_text: string | null; fd: number | null }>;
    for (const row of rows) {
      if (row.fd !== null) withFd++;
      if (row.dev === null || row.inode === null) continue;
      const key = fileKey({ snapshot_id: row.snapshot_id, dev: row.dev, inode: readU64(row.inode, row.inode_text) });
      if (seen.has(key)) repeated.add(key);
      else seen.add(key);
    }
  }
  return { withFd, repeated };
}

/** The files the copies followed side by side may hold open: `take` them for one more (null) or say why not; `give` them back. */
interface FollowFiles {
  take(files: number): string | null;
  give(files: number): void;
}

const NO_FILES_LIMIT: FollowFiles = { take: () => null, give: () => undefined };

/**
 * What the run holds open besides the copies it follows: the copy under way in the first pass, the
 * pipes of a `dd` or `stat` child, a /proc file read, SHA256SUMS, the hash worker, SQLite's temporary files.
 */
const FILES_BESIDES_FOLLOWED = 32;

/**
 * A followed copy keeps its source and its copy open until following ends, and every item still held
 * is followed at once: under the open files limit (`ulimit -n`) that many cannot all be. A copy that
 * would pass it is not followed (recorded incomplete, with why), rather than fail on EMFILE, or take
 * a holder's state it then cannot read for a close. The first time, one warning says so.
 */
function followFilesAllowed(followable: number, warn: RecoverOptions['warn']): FollowFiles {
  const limit = openFilesLimit();
  if (limit === null) return NO_FILES_LIMIT;
  const inUse = openFilesNow() ?? FILES_BESIDES_FOLLOWED;
  let left = limit - inUse - FILES_BESIDES_FOLLOWED;
  let followed = 0;
  let warned = false;
  // The source and the copy of each one that may be followed, beside what is open now.
  const raise = `raise it, e.g. \`ulimit -n ${suggestedLimit(inUse + FILES_BESIDES_FOLLOWED + 2 * followable)}\``;
  return {
    take(files) {
      if (files <= left) {
        left -= files;
        followed += 1;
        return null;
      }
      if (!warned) {
        warned = true;
        warn?.(`--follow: the open files limit (ulimit -n ${limit}) lets only ${followed} copies be followed at once (each holds its source and its copy open): the other items still held are copied once, not followed, and recorded incomplete; ${raise}`);
      }
      return `not followed: too many open files (ulimit -n ${limit}): the ${followed} copies followed at once hold what it allows; this copy is of the file as it was when it was copied, and its holder may still write to it; ${raise}, and recover it again with --follow`;
    },
    give(files) {
      left += files;
    },
  };
}

/**
 * Why a snapshot's items cannot be read through this machine's /proc (null when they can): an
 * lsof import describes another host (or an earlier time), a snapshot of an earlier boot describes
 * processes that are gone; the PIDs may now be other processes here, whose files a copy would
 * present as the evidence.
 */
export function liveOrigin(db: Db): (snapshotId: number) => string | null {
  const bootNow = currentBootId();
  const lookup = db.prepare(`SELECT source, host, boot_id FROM snapshots WHERE id = ?`);
  const cache = new Map<number, string | null>();
  return (snapshotId) => {
    let reason = cache.get(snapshotId);
    if (reason === undefined) {
      const row = lookup.get(snapshotId) as { source: string; host: string | null; boot_id: string | null } | undefined;
      if (row === undefined) reason = `snapshot ${snapshotId} is not in the case`;
      else if (row.source !== 'proc') reason = `not copied: the item comes from imported lsof output${row.host === null ? '' : ` of host ${displayText(row.host)}`}, not from this machine's /proc: its PID names no process of it here; recover on the host itself`;
      else if (row.boot_id === null || bootNow === null || row.boot_id !== bootNow) reason = `not copied: the snapshot was taken ${row.boot_id === null || bootNow === null ? 'in a boot that cannot be told from this one' : `in another boot (${row.boot_id}; now ${bootNow})`}: its processes are gone, their PIDs may be others now`;
      else reason = null;
      cache.set(snapshotId, reason);
    }
    return reason;
  };
}

/**
 * Is the item on a network or FUSE file system (or, seen by lsof alone, on an anonymous device,
 * major 0, which may be one)? Such a file system that stopped answering (a dead NFS server, a hung
 * sshfs) makes open, fstat and read of its files wait for ever, and a thread of this process stuck
 * in such a call keeps it from ever exiting. Its files are read by child processes instead.
 */
function mayNotAnswer(item: ItemRow): boolean {
  if (item.dev === null || ofMemfd(item)) return false;
  return item.fs_type === null ? item.dev.startsWith('0:') : mayWait(item.fs_type);
}

/**
 * A source opened: its size then, the bytes its blocks take (null: not known), and for the record how
 * it was reached when not by the item's own path, and how little custody rests on without a birth time.
 */
interface Opened {
  size: number;
  allocated: number | null;
  blockSize: number | null;
  via?: string;
  custody?: string;
}

/** What recoverOne needs of a source: custody, size, bytes from state.bytes to EOF, whether it is still held. */
interface ItemReader {
  /**
   * Open the source and check it is the snapshot's file: its size then and the bytes its blocks
   * take (null: not known), or why it is not copied.
   */
  open(): Promise<Opened | string>;
  /** The source's size now; a string says why it cannot be known. */
  size(): Promise<number | string>;
  /** What the last size() found, exact (a number past 2^53 is rounded), or null. */
  readonly exactSize: bigint | null;
  copy(output: number, state: CopyState, onProgress?: CopyProgress): Promise<void>;
  /**
   * The file's size while its holder still holds it (a writer that may still append); null when it
   * closed it (the fd is gone or names another file, the process exited or its PID was reused); a
   * string says why that could not be told (never taken for closed: the writer may still append).
   */
  heldSize(): Promise<number | null | string>;
  /**
   * The opened file's size and change times now (an fstat), or null where this reader cannot ask
   * without a child process (a network or FUSE file system): taken before and after a copy, they
   * tell a file only appended to from one cut, written in place or punched with holes meanwhile.
   */
  stamp(): Promise<FileState | null>;
  /**
   * Do the bytes that ended at `end` (a copy's tail) still read the same? false: the file was
   * rewritten, or cut and written again, since they were copied; null: this reader cannot tell.
   */
  matches(tail: Buffer, end: number): Promise<boolean | null>;
  /** Can the file still be read once its holder closed it (this process holds an fd of its own)? */
  readonly readsAfterClose: boolean;
  /** Asked right before each open of the file: a lease the open would break (and, broken, said in the note). */
  readonly lease: LeaseGate | null;
  readonly pollMs: number;
  /** How many files a copy of it holds open while it is followed (the copy's own included). */
  readonly filesWhileFollowed: number;
  close(): void;
}

/** How long an open that breaks a lease may wait for its holder to give it up (/proc/sys/fs/lease-break-time), in seconds. */
function leaseBreakTime(): string {
  return tryOr(() => fs.readFileSync('/proc/sys/fs/lease-break-time', 'latin1').trim(), '?');
}

/**
 * Right before each open of an item's file, /proc/locks read again: an open of a file with a write
 * lease on it (or a lease being broken) breaks it, O_NONBLOCK or not: the kernel signals the holder,
 * which may change or cut the file, and give the lease up, before the open returns. Refused, unless
 * leases are to be broken (--force-lease-break): then `broken` is the lease this copy broke. A lease
 * taken between the check and the open is not seen (docs/limits.md: only pidfd_getfd would close it).
 */
class LeaseGate {
  broken: Lease | null = null;

  constructor(
    private readonly item: ItemRow,
    /** st_dev and the mount's device (the super block's, which /proc/locks names). */
    private readonly devs: ReadonlyArray<string | null>,
    private readonly mode: 'refuse' | 'break',
    private readonly warn: RecoverOptions['warn'],
  ) {}

  /** Why the file is not opened now, or null. */
  beforeOpen(): string | null {
    const lease = LeaseTable.read().on(this.devs, this.item.inode);
    if (lease === null) return null;
    if (this.mode === 'refuse') {
      const effect = isBreaking(lease) ? openEffect(lease) : 'opening the file would signal the holder, which can change it before the copy';
      return `not copied: ${leaseHeld(lease)}: ${effect}; rerun with --force-lease-break to copy anyway`;
    }
    if (this.broken === null) {
      const effect = isBreaking(lease) ? 'opening it (--force-lease-break) may wait' : 'opening it (--force-lease-break) signals the holder and waits';
      this.warn?.(`item ${this.item.id}: ${leaseHeld(lease)}: ${effect} up to ${leaseBreakTime()} s (/proc/sys/fs/lease-break-time) for it to give the lease up`);
    }
    this.broken ??= lease;
    return null;
  }

  /** Said in the note of a copy that broke a lease. */
  brokenNote(): string | null {
    const lease = this.broken;
    if (lease === null) return null;
    const holder = leaseHolder(lease);
    const opened = isBreaking(lease)
      ? `a lease of ${holder} on it was being broken by another open when this copy opened it (/proc/locks: ${lease.state}); the open may have waited for it (--force-lease-break: a write lease being broken makes a read wait, a read lease does not)`
      : `${holder} held a ${lease.state.startsWith('DELEG ') ? 'delegation' : 'write lease'} on it (/proc/locks: ${lease.state}): this copy's open broke it (--force-lease-break), which signalled the holder`;
    return `${opened}: what the file held may have been changed or cut by the holder before or while it was copied`;
  }

  /** A change seen during or before the copy, said as what may have caused it when this copy broke a lease. */
  cause(note: string): string {
    return this.broken === null ? note : `after this copy's open broke the lease of ${this.broken.pid > 0 ? leaseHolder(this.broken) : 'its holder'}: ${note}`;
  }
}

/** A file on a local file system: read by this process through its /proc path. */
class LocalReader implements ItemReader {
  readonly pollMs = FOLLOW_POLL_MS;
  readonly readsAfterClose = true;
  /** The source, opened by this process, and the copy. */
  readonly filesWhileFollowed = 2;
  private input: number | null = null;
  /** The other fd or mapping the copy was made through (see open), or null: the item's own. */
  private heldPath: string | null = null;

  constructor(
    private readonly item: ItemRow,
    private readonly source: string | null,
    /** The process's other fds and mappings of the same file, as its snapshot recorded them (see otherPaths). */
    private readonly others: () => readonly OtherPath[] = () => [],
    readonly lease: LeaseGate | null = null,
  ) {}

  async open(): Promise<Opened | string> {
    const { item, source } = this;
    if (source === null) return `no /proc path reaches this ${item.kind} item (no fd and no mapping range)`;
    const processProblem = checkProcess(item);
    if (processProblem !== null) return processProblem;
    let problem: string;
    let custodyNote: string | null = null;
    // Right before the open: an open breaks a write lease (the kernel signals its holder).
    const leased = this.lease?.beforeOpen() ?? null;
    if (leased !== null) return leased;
    try {
      this.input = openSource(source);
    } catch (error) {
      problem = openFailure(item, source, error);
    }
    if (this.input !== null) {
      const custody = tryOr((): Custody => checkOpenedFile(this.input ?? -1, item), { refusal: 'the opened file could not be stat\'ed' });
      problem = custody.refusal ?? '';
      if (custody.refusal === null) custodyNote = custody.note;
    }
    problem ??= '';
    if (problem !== '' && this.input !== null) {
      fs.closeSync(this.input);
      this.input = null;
    }
    // Closed or reused since: the process may still reach the file by another fd or mapping of it
    // (open, mmap, close: the mapping holds it), checked as the item's own path would be, and
    // still deleted (a path that names a linked file now is another file, whatever its inode).
    let via: string | undefined;
    for (const other of problem === '' ? [] : this.others()) {
      const leasedNow = this.lease?.beforeOpen() ?? null;
      if (leasedNow !== null) return `${problem}; ${leasedNow}`;
      const input = tryOr(() => openSource(other.path), null);
      if (input === null) continue;
      const stat = tryOr(() => fs.fstatSync(input, { bigint: true }), null);
      const custody = stat === null || stat.nlink !== 0n ? null : tryOr((): Custody | null => checkOpenedFile(input, item), null);
      if (custody !== null && custody.refusal === null) {
        this.input = input;
        this.heldPath = other.path;
        custodyNote = custody.note;
        via = `${problem}; copied through ${other.what} of the same process instead (${other.path})${custody.note === null ? ', the same file by device, inode and birth time' : ''}`;
        break;
      }
      fs.closeSync(input);
    }
    if (this.input === null) return problem;
    // Check again after opening: the PID or fd could have been reused between check and open.
    const opened = fs.fstatSync(this.input);
    return checkProcess(item) ?? {
      size: opened.size, allocated: opened.blocks * 512, blockSize: opened.blksize, ...(via === undefined ? {} : { via }), ...(custodyNote === null ? {} : { custody: custodyNote }),
    };
  }

  exactSize: bigint | null = null;

  async size(): Promise<number> {
    this.exactSize = fs.fstatSync(this.opened(), { bigint: true }).size;
    return Number(this.exactSize);
  }

  copy(output: number, state: CopyState, onProgress?: CopyProgress): Promise<void> {
    return copyRange(this.opened(), output, state, onProgress);
  }

  async stamp(): Promise<FileState> {
    const stat = fs.fstatSync(this.opened(), { bigint: true });
    return { size: stat.size, mtimeNs: stat.mtimeNs, ctimeNs: stat.ctimeNs };
  }

  async heldSize(): Promise<number | null | string> {
    // Through what the copy was made by: the item's fd, or another fd or mapping of the file when that one was gone.
    const holderPath = this.heldPath ?? holderFdPath(this.item);
    const holder = processState(this.item);
    if (holder !== null) return holder.gone ? null : holder.reason;
    try {
      // The snapshot's file, by the same custody as the copy (a new file on a reused inode number is not).
      const stat = fs.statSync(holderPath, { bigint: true });
      return (sameFile(this.item, devString(stat.dev), u64(stat.ino)) ?? sameBirth(this.item, birthTimeNs(stat))) === null ? Number(stat.size) : null;
    } catch (error) {
      // Gone: the fd was closed (or the process exited since).
      return errnoCode(error) === 'ENOENT' ? null : `cannot stat ${holderPath}: ${outOfFiles(error) ?? oneLine(error)}`;
    }
  }

  async matches(tail: Buffer, end: number): Promise<boolean> {
    const now = Buffer.alloc(tail.length);
    let filled = 0;
    while (filled < now.length) {
      const read = fs.readSync(this.opened(), now, filled, now.length - filled, end - tail.length + filled);
      if (read === 0) break;
      filled += read;
    }
    return filled === now.length && now.equals(tail);
  }

  close(): void {
    if (this.input !== null) fs.closeSync(this.input);
    this.input = null;
  }

  private opened(): number {
    if (this.input === null) throw new Error('the source is not open');
    return this.input;
  }
}

/**
 * A file on a network or FUSE file system: this process never calls the kernel on it. `stat -L`
 * children (PROBE_TIMEOUT_MS each) check custody and size, a `dd` child reads the bytes into a pipe
 * that this process hashes and writes; a dd that sends nothing for `stallMs` is killed, and one
 * stuck in the kernel is left behind. A file system that did not answer is not asked again in
 * this run: its other items are reported with the reason (`silentDevs`).
 * Custody without an fd of our own: the /proc path names the snapshot's inode before dd opens it
 * and again after dd read it, and the process is the snapshot's. A deleted file cannot be opened
 * again by name, so the fd did not point elsewhere in between (short of a dup of another fd holding
 * the same inode, which is the same file).
 */
class ChildReader implements ItemReader {
  readonly pollMs = FOLLOW_POLL_REMOTE_MS;
  readonly readsAfterClose = false;
  /** The copy, and the pipes of a `stat` or `dd` child at each poll. */
  readonly filesWhileFollowed = 4;
  exactSize: bigint | null = null;
  private noatime = true;

  constructor(
    private readonly item: ItemRow,
    private readonly source: string,
    private readonly recorder: CommandRecorder,
    private readonly stallMs: number,
    private readonly silentDevs: Map<string, string>,
    readonly lease: LeaseGate | null = null,
  ) {}

  private where(): string {
    const { item } = this;
    return item.mount_point === null ? `device ${item.dev ?? '?'}` : `${item.fs_type ?? 'the file system'} at ${JSON.stringify(displayBytes(item.mount_point))}`;
  }

  async open(): Promise<Opened | string> {
    const processProblem = checkProcess(this.item);
    if (processProblem !== null) return processProblem;
    const seen = await this.statSource(this.source);
    if (typeof seen === 'string') return seen;
    const custody = this.custody(seen);
    if (custody.refusal !== null) return custody.refusal;
    // Before dd opens it (asked again before each dd: one per pass of a followed copy).
    const leased = this.lease?.beforeOpen() ?? null;
    if (leased !== null) return leased;
    return checkProcess(this.item) ?? { size: Number(seen.size), allocated: null, blockSize: null, ...(custody.note === null ? {} : { custody: custody.note }) };
  }

  async size(): Promise<number | string> {
    const seen = await this.statSource(this.source);
    if (typeof seen === 'string') return seen;
    // dd read the snapshot's file only if the path still names it.
    const moved = this.custody(seen).refusal;
    if (moved !== null) throw new Error(`after the copy: ${moved}`);
    this.exactSize = seen.size;
    return Number(seen.size);
  }

  async copy(output: number, state: CopyState, onProgress?: CopyProgress): Promise<void> {
    const from = state.bytes;
    try {
      try {
        await this.read(output, state, onProgress);
      } catch (error) {
        // O_NOATIME is allowed only to the file's owner (or CAP_FOWNER): dd could not open it so.
        if (!this.noatime || state.bytes !== from || !(error instanceof UnlinkedError && /Operation not permitted/.test(error.message))) throw error;
        this.noatime = false;
        await this.read(output, state, onProgress);
      }
    } catch (error) {
      // dd could not open it at all (a FUSE daemon that refuses the open: EACCES): nothing read, no copy begun.
      const refused = error instanceof UnlinkedError && error.code === 'TOOL_FAILED' ? /: failed to open '.*': (.*)$/.exec(error.message) : null;
      if (from === 0 && state.bytes === 0 && refused !== null) throw new SourceNotOpened(`dd could not open ${this.source}: ${refused[1] ?? '?'}`);
      throw error;
    }
  }

  private async read(output: number, state: CopyState, onProgress?: CopyProgress): Promise<void> {
    const from = state.bytes;
    const leased = this.lease?.beforeOpen() ?? null;
    if (leased !== null) throw from === 0 ? new SourceNotOpened(leased) : new Error(leased);
    // At its bound already (state.readLimit, state.readUntil): no dd; else dd reads no further than the limit.
    state.bounded = null;
    const allowed = readAllowance(state, state.bytes, Number.MAX_SAFE_INTEGER);
    if (allowed === 0) return;
    const count = state.readLimit === null ? [] : [`count=${allowed}`];
    const sink = streamInto(output, state, onProgress);
    const { readUntil } = state;
    const flags = ['skip_bytes', ...(count.length === 0 ? [] : ['count_bytes']), ...(this.noatime ? ['noatime'] : [])];
    try {
      await run('dd', [`if=${this.source}`, 'bs=1M', `iflag=${flags.join(',')}`, `skip=${state.bytes}`, ...count, 'status=none'], {
        timeoutMs: 0, // no limit on a large file: the stall timeout is the guard
        recorder: this.recorder,
        env: C_LOCALE,
        abandonAfterMs: ABANDON_AFTER_MS,
        streamStdout: {
          consume: (chunk) => sink.consume(chunk),
          stallMs: this.stallMs,
          // At its --follow-timeout dd is killed, also in a read that has not answered yet: the copy is what arrived.
          ...(readUntil === null ? {} : { deadline: { at: readUntil, reached: () => boundedByTime(state) } }),
        },
        recordFromStart: true,
      });
    } catch (error) {
      await sink.end().catch(() => undefined); // what arrived before the failure is kept, as far as it can be
      // Stopped by a Ctrl-C (dd was killed): the copy is what arrived before (state.interrupted).
      if (error instanceof CopyStopped) return;
      // At its --follow-timeout (state.bounded): the copy is what arrived before, dd was killed.
      if (error instanceof CopyBounded) return;
      // The terminal's Ctrl-C reached dd too, and stopped the copies: the same stop.
      if (error instanceof UnlinkedError && error.code === 'INTERRUPTED' && state.stopWanted?.() === true) {
        state.interrupted = true;
        return;
      }
      if (error instanceof UnlinkedError && error.code === 'TOOL_FAILED' && /No such file or directory/.test(error.message) && state.bytes === from) {
        // The holder closed the fd (or exited) before dd could open it.
        throw new UnlinkedError('NOT_FOUND', `${this.source} is gone: the ${this.item.fd === null ? this.item.kind : `fd ${this.item.fd}`} was closed`);
      }
      if (error instanceof UnlinkedError && error.code === 'TOOL_STALLED') {
        const where = this.where();
        if (this.item.dev !== null) this.silentDevs.set(this.item.dev, `not copied: ${where} stopped answering during the copy of item ${this.item.id}`);
        throw new UnlinkedError('TOOL_STALLED', `${where} sent nothing for ${this.stallMs / 1000} s (a server or FUSE daemon that stopped answering; the reading dd was killed)`);
      }
      throw error;
    }
    await sink.end();
    if (state.readLimit !== null && state.bytes >= state.readLimit) state.bounded = 'limit';
  }

  async heldSize(): Promise<number | null | string> {
    const holder = processState(this.item);
    if (holder !== null) return holder.gone ? null : holder.reason;
    const holderPath = holderFdPath(this.item);
    const seen = await this.statSource(holderPath);
    if (typeof seen === 'string' && this.item.dev !== null && this.silentDevs.has(this.item.dev)) {
      throw new UnlinkedError('TOOL_STALLED', `${this.where()} did not answer a stat within ${PROBE_TIMEOUT_MS / 1000} s while the file was followed`);
    }
    // The fd gone, or naming another file now: closed. A stat that failed otherwise tells nothing.
    if (typeof seen === 'string') return seen.startsWith(`${holderPath} is gone: `) ? null : seen;
    return this.custody(seen).refusal === null ? Number(seen.size) : null;
  }

  async stamp(): Promise<null> {
    return null; // a stat child per copy and per poll: the sizes before and after are what is compared (docs/recovery.md)
  }

  async matches(): Promise<null> {
    return null; // reading back would be another dd through the holder's fd: not done (docs/recovery.md)
  }

  close(): void {
    // nothing of this process is open on the source
  }

  private custody(seen: SeenFile): Custody {
    return custodyOf(this.item, seen);
  }

  /** dev, inode, size, birth time and link count through the link, and the kernel's name of it; a string says why not (and marks a silent file system). */
  private async statSource(file: string): Promise<SeenFile | string> {
    let text: string;
    // Read before the stat: a readlink of a /proc link asks the kernel's dentry, never the file system.
    const name = kernelName(file);
    try {
      // %d: st_dev in decimal (%Hd:%Ld, major:minor, needs coreutils 9); %.9W: the birth time to the
      // nanosecond (0 where the file system keeps none).
      const result = await run('stat', ['-L', '--format=%d %i %s %.9W %h', '--', file], {
        timeoutMs: PROBE_TIMEOUT_MS, recorder: this.recorder, abandonAfterMs: ABANDON_AFTER_MS, okExitCodes: [0, 1], env: C_LOCALE,
      });
      text = result.stdout.toString('utf8').trim();
      if (result.exitCode !== 0) {
        if (/No such file/i.test(result.stderr)) return `${file} is gone: the ${this.item.fd === null ? this.item.kind : `fd ${this.item.fd}`} was closed after the snapshot`;
        return `cannot stat ${file}: ${result.stderr.trim().split('\n')[0] ?? `exit code ${result.exitCode}`}`;
      }
    } catch (error) {
      if (!(error instanceof UnlinkedError && error.code === 'TOOL_TIMEOUT')) return `cannot stat ${file}: ${outOfFiles(error) ?? oneLine(error)}`;
      const reason = `not copied: ${this.where()} did not answer a stat within ${PROBE_TIMEOUT_MS / 1000} s (a server or FUSE daemon that stopped answering); reading it would wait for ever`;
      if (this.item.dev !== null) this.silentDevs.set(this.item.dev, reason);
      return reason;
    }
    const match = /^(\d+) (\d+) (\d+) (-?)(\d+)\.(\d{9}) (\d+)$/.exec(text);
    const ino = match === null ? null : parseU64(match[2] ?? '');
    if (match === null || ino === null) return `cannot read what stat printed for ${file}: ${JSON.stringify(text)}`;
    const btime = (BigInt(match[5] ?? '0') * 1_000_000_000n + BigInt(match[6] ?? '0')) * (match[4] === '-' ? -1n : 1n);
    return { dev: devString(BigInt(match[1] ?? '0')), ino, size: BigInt(match[3] ?? '0'), btimeNs: btime === 0n ? null : String(btime), nlink: BigInt(match[7] ?? '0'), name };
  }
}

/** A copy as the exit hook of a signal that stops the run at once finds it (recoverAll's copyItem). */
interface LiveCopy {
  /** The copy's file, once created, and its state; its fd while it is open. */
  file: string | null;
  state: Readonly<CopyState> | null;
  fd: number | null;
  /** A pass of reads and writes is under way (a followed copy: writes of it may be in flight). */
  reading: boolean;
  /** A followed copy, after its first pass: the bytes it holds for sure (written and hashed), their sha256, and when. */
  held: { bytes: number; sha256: string; at: string; sparse: boolean } | null;
  /** What its row's note says of the copy besides (how it was reached, custody by less than the birth time). */
  qualifiers: string[];
}

interface Outcome {
  output: string | null;
  bytes: number;
  sha256: string | null;
  complete: boolean;
  note: string | null;
  sizeAtStart: number | null;
  sizeAtEnd: number | null;
  sparse: boolean;
  followed: boolean;
  /** The file's size and change times, the same when the copy started and when it ended (a local file only); absent when they moved. */
  unchanged?: FileState;
}

/** An item's line of `recover --json`: what its row in recoveries says. */
function recoveredJson(item: Pick<ItemRow, 'id' | 'pid' | 'fd' | 'kind' | 'inode'>, outcome: Outcome): RecoveredJson {
  return {
    item_id: item.id, pid: item.pid, fd: item.fd, kind: item.kind, inode: item.inode, output: outcome.output, bytes: outcome.bytes,
    sha256: outcome.sha256, complete: outcome.complete, note: outcome.note, size_at_start: outcome.sizeAtStart, size_at_end: outcome.sizeAtEnd,
  };
}

const failed = (note: string): Outcome => ({ output: null, bytes: 0, sha256: null, complete: false, note, sizeAtStart: null, sizeAtEnd: null, sparse: false, followed: false });

/**
 * Copy one item; with --follow (an item held by an fd) say `copiedOnce` after the first copy and
 * follow it from when `followFrom` gives the deadline (once every item was copied once).
 */
async function recoverOne(
  item: ItemRow, reader: ItemReader, options: RecoverOptions,
  pass: {
    copiedOnce: () => void; followFrom: Promise<number>; guard: SpaceGuard;
    /** The copy's bytes are all written: on disk once this returns (its row may say so then). */
    sync: (fd: number) => Promise<void>;
    /** Each name the copy's file is about to be created under (the row names it first). */
    naming: (file: string) => void;
    /** Filled in as the copy goes (for the exit hook). */
    live: LiveCopy;
    /** Called after each pass of a followed copy, no read under way: what it holds is recorded (when due). */
    hold: (fd: number, state: Readonly<CopyState>, sizeAtStart: number) => void;
    /** Whether a copy that holds this many files open may be followed (null: yes, they are taken), else why not. */
    followFiles: FollowFiles;
  },
): Promise<Outcome> {
  let outputFd: number | null = null;
  let output = '';
  let state: CopyState | null = null;
  /** What a copy that fails keeps of its record: the size at its start, whether it was followed, how custody was told. */
  let started: { sizeAtStart: number; custody: string | null } | null = null;
  let followed = false;
  try {
    const opened = await reader.open();
    if (typeof opened === 'string') return failed(opened);
    const sizeAtStart = opened.size;
    started = { sizeAtStart, custody: opened.custody ?? null };
    const tooBig = pass.guard.refusal(...copyNeeds(opened));
    if (tooBig !== null) return failed(`not copied: ${tooBig}`);
    // A copy made before (an earlier run, a retry with --follow) stays as it is: NAME.2, NAME.3, ...
    ({ file: output, fd: outputFd } = createUnique(options.outputDir, outputName(item), 0o400, pass.naming));
    // Guarded: a file that grows while it is followed stops its copy before the case's disk is full.
    // Stopped by a first Ctrl-C: it ends with what it holds (state.interrupted).
    state = newCopyState(pass.guard, copiesStopRequested);
    const { live } = pass;
    Object.assign(live, { file: output, state, fd: outputFd, reading: true });
    const onProgress = (bytes: number): void => options.onProgress?.(item, bytes);
    // The file's size and change times before the first byte is read, and after the last.
    const stampAtStart = await reader.stamp();
    // Point in time: no further than its size now and GROWTH_ALLOWANCE_BYTES more (a file that grows without end is never read to its end).
    state.readLimit = sizeAtStart + GROWTH_ALLOWANCE_BYTES;
    try {
      await reader.copy(outputFd, state, onProgress);
    } finally {
      live.reading = false;
    }
    const stampAfter = await settledStamp(reader, stampAtStart);
    // Cut, written in place or punched with holes during the copy: no one state of the file, never followed on.
    const changed = await changedWhileCopied(reader, stampAtStart, stampAfter, state, sizeAtStart);
    let followNote: string | null = null;
    let closedUnderUs = false;
    // Stopped before its end (a Ctrl-C): a prefix of the file, never followed.
    const stoppedAt = state.interrupted ? state.bytes : null;
    const notFollowed = options.follow && item.fd !== null && stoppedAt === null && changed === null ? pass.followFiles.take(reader.filesWhileFollowed) : null;
    if (notFollowed !== null) {
      // Closed by its holder already: a copy of the file as it was left, complete if it holds it all; else of one moment only.
      if ((await reader.heldSize()) !== null) followNote = notFollowed;
    } else if (options.follow && item.fd !== null && stoppedAt === null && changed === null) {
      followed = true;
      live.qualifiers = [opened.via, opened.custody].filter((note) => note !== undefined);
      // Its first pass is recorded now: a run killed while it waits, or while it is followed, keeps it.
      const [fd, copy] = [outputFd, state];
      const hold = (): void => pass.hold(fd, copy, sizeAtStart);
      hold();
      pass.copiedOnce();
      const deadline = await pass.followFrom;
      // Followed: as far as the file grows, until --follow-timeout ends (a pass of a file that grows without end too).
      state.readLimit = null;
      state.readUntil = deadline;
      try {
        ({ note: followNote, closedUnderUs } = await follow(item, reader, outputFd, state, options, deadline, live, hold, stampAfter));
      } finally {
        pass.followFiles.give(reader.filesWhileFollowed);
      }
    }
    // Through a holder's fd that is closed now nothing can be asked any more (the number may name another file).
    const endSize = closedUnderUs ? 'its holder closed it' : await reader.size();
    // A file that ends in a hole: the output must still have the logical size.
    fs.ftruncateSync(outputFd, state.bytes);
    await pass.sync(outputFd);
    const notes: string[] = [];
    if (opened.via !== undefined) notes.push(opened.via);
    // A lease this copy's open broke (--force-lease-break): its holder was told, and may have acted.
    const leaseNote = reader.lease?.brokenNote() ?? null;
    if (leaseNote !== null) notes.push(leaseNote);
    const caused = (note: string): string => reader.lease?.cause(note) ?? note;
    // Smaller than the snapshot saw it: cut since (what was cut is not in the copy, which may still be whole).
    const snapshotSize = item.size === null ? null : BigInt(String(item.size));
    if (snapshotSize !== null && snapshotSize > BigInt(sizeAtStart)) {
      notes.push(leaseNote === null
        ? `the file was ${snapshotSize} bytes at the snapshot and ${sizeAtStart} when the copy started: truncated since`
        : `the file was ${snapshotSize} bytes at the snapshot and ${sizeAtStart} when the copy started: cut since, perhaps by the lease's holder when this copy's open broke its lease`);
    }
    if (followNote !== null) notes.push(followNote);
    let complete = followNote === null;
    const sizeAtEnd: number | null = typeof endSize === 'number' ? endSize : null;
    if (typeof endSize === 'string') {
      if (closedUnderUs) {
        complete = false; // the follow note says why
      } else if (endSize.includes(' is gone: ')) {
        // The holder closed it during the copy: dd read to the end the file had then, but whether
        // the holder wrote more before it closed the file cannot be known without an fd of ours.
        notes.push(`its holder closed it during the copy: dd read ${state.bytes} bytes to the end the file had then; whether more was written before the close cannot be known (no fd of unlinked's own on a network or FUSE file system)`);
        complete = false;
      } else {
        notes.push(`the size the file ended with is unknown (${endSize}; ${state.bytes} bytes copied)`);
        complete = false;
      }
    } else if (stoppedAt !== null) {
      notes.push(`interrupted (a Ctrl-C, SIGTERM or SIGHUP stopped the copies) after ${stoppedAt} of its ${reader.exactSize ?? endSize} bytes: the copy holds the first ${stoppedAt} bytes of the file, and its sha256 is theirs`);
      if (changed !== null) notes.push(caused(changed));
      complete = false;
    } else if (changed !== null) {
      notes.push(caused(changed));
      complete = false;
    } else if (followNote !== null) {
      // the follow note says why the copy is not complete; the sizes are in size_at_start/_end
    } else if (endSize < sizeAtStart || state.bytes > endSize) {
      // Seen by the sizes alone (a network or FUSE file system: no fstat of our own between): --follow cannot help.
      notes.push(caused(changedNote([cutReason(sizeAtStart, endSize, state.bytes)])));
      complete = false;
    } else if (state.bytes < endSize && endSize === sizeAtStart) {
      // Its reads ended before the size it kept said (a special file system's file): nothing grew.
      notes.push(`its reads ended after ${state.bytes} bytes, though its size was ${endSize} bytes when the copy started and when it ended: a file whose content is not what its size says (a special file system's?); the copy holds what the reads gave`);
      complete = false;
    } else if (state.bytes < endSize && (state.bounded === 'limit' || state.bounded === 'outrun')) {
      // Read up to its bound while it grew on past it: a file that grows without end (or faster than it is read) is not read for ever.
      const why = state.bounded === 'outrun'
        ? `faster than it was read (by at least as many bytes as the last ${GROWTH_ALLOWANCE_BYTES} read): the copy stopped at ${state.bytes} bytes rather than read for ever`
        : `the copy stopped at ${state.bytes} bytes, ${followed ? 'its size when its last pass started (its holder had closed it)' : 'its size when the copy started'} and ${GROWTH_ALLOWANCE_BYTES} more (a point-in-time copy reads no further: a file that grows without end would be read for ever)`;
      notes.push(caused(`point-in-time copy: the file grew from ${sizeAtStart} to ${sizeAtEnd} bytes (by ${endSize - sizeAtStart}) while it was copied, ${why}; ` +
        `the copy holds the file's first ${state.bytes} bytes, and its sha256 is theirs${options.follow ? '' : '; recover it again with --follow (bounded by --follow-timeout) for more'}`));
      complete = false;
    } else if (state.bytes < endSize) {
      notes.push(caused(`point-in-time copy: the file grew from ${sizeAtStart} to ${sizeAtEnd} bytes while it was copied; ${state.bytes} bytes copied${options.follow ? '' : ' (use --follow)'}`));
      complete = false;
    }
    // Last: how the file was told the snapshot's, when not by its birth time.
    if (opened.custody !== undefined) notes.push(opened.custody);
    return {
      output,
      bytes: state.bytes,
      sha256: state.hash.digest('hex'),
      complete,
      note: notes.length === 0 ? null : notes.join('; '),
      sizeAtStart,
      sizeAtEnd,
      sparse: state.holeBytes > 0,
      followed,
      ...(stampAtStart !== null && stampAfter !== null && stampAtStart.size === stampAfter.size && !stampsMoved(stampAtStart, stampAfter) ? { unchanged: stampAtStart } : {}),
    };
  } catch (error) {
    const known = { sizeAtStart: started?.sizeAtStart ?? null, followed };
    if (outputFd === null) return { ...failed(`copy failed: ${oneLine(error)}`), ...known };
    if (error instanceof SourceNotOpened && state !== null && state.bytes === 0) {
      // Nothing was opened, so nothing was read: the empty file made for the copy is no copy (ours, just made: removed).
      fs.closeSync(outputFd);
      outputFd = null;
      fs.unlinkSync(output);
      return { ...failed(`copy failed: ${error.message}; nothing was read, so no copy was made`), ...known };
    }
    // A copy that stopped half-way (ENOSPC on the case disk, EIO, a server that stopped answering):
    // what was written stays and is named, never counted complete. Its sha256 is read back from the
    // file (what was hashed on the way may not all have landed): that of the bytes kept, not of the file.
    let partial = 0;
    let sha256: string | null = null;
    let sparse = false;
    try {
      // A write that failed (or the guard refused) may have writes after it in flight that landed:
      // cut back to it, what is kept is then an exact prefix of the file.
      if (state?.stoppedAt !== null && state?.stoppedAt !== undefined) fs.ftruncateSync(outputFd, state.stoppedAt);
      const kept = fs.fstatSync(outputFd);
      partial = kept.size;
      // Holes were left (not written) and some are in what is kept (those counted past the cut are not).
      sparse = (state?.holeBytes ?? 0) > 0 && kept.blocks * 512 < kept.size;
      // Read back in a worker (the output is open write-only here), as a scan hashes its image.
      sha256 = (await startHash(output).done).sha256;
    } catch {
      // the size and hash of what is there are details: the note still says where it is
    }
    const kept = sha256 === null ? 'kept, not hashed' : 'kept; its sha256 is that of those bytes';
    // Through an fd of our own the size now is one fstat; a network or FUSE file is not asked again (it may not answer).
    const sizeAtEnd = reader.readsAfterClose ? await reader.size().then((size) => (typeof size === 'number' ? size : null), () => null) : null;
    const notes = [`copy failed: ${oneLine(error)}; ${partial} bytes of it were written to ${output} before that (${kept})`, ...(started?.custody === null || started === null ? [] : [started.custody])];
    return { ...failed(notes.join('; ')), ...known, output, bytes: partial, sha256, sizeAtEnd, sparse };
  } finally {
    reader.close();
    pass.live.fd = null;
    if (outputFd !== null) fs.closeSync(outputFd);
  }
}

/** Why a copy cannot be shown to be one state of the file, as its note says it. */
function changedNote(reasons: readonly string[]): string {
  return `the file changed while it was copied (${reasons.join('; ')}): the copy cannot be shown to be one state of the file (it may hold earlier and later bytes mixed); recover it again for what it holds now`;
}

function cutReason(sizeAtStart: number, sizeNow: number | bigint, copied: number): string {
  return BigInt(sizeNow) < BigInt(sizeAtStart)
    ? `it was cut: ${sizeAtStart} bytes when the copy started, ${sizeNow} after it, ${copied} copied`
    : `it was cut to ${sizeNow} bytes, fewer than the ${copied} copied`;
}

/**
 * A write that extends a file stamps its times first and grows its size a moment later (once its
 * first page is in the page cache: microseconds, a disk read at most): a stamp between the two
 * would take an append for a change in place.
 */
const WRITE_IN_FLIGHT_MS = [50, 100, 150, 200];

/**
 * The file's stamp now; when its times moved since `before` and it did not grow, taken again a
 * moment later, and again, for up to half a second (an append under way has grown it by then, even
 * with its writer preempted between the two on a loaded host).
 */
async function settledStamp(reader: ItemReader, before: FileState | null): Promise<FileState | null> {
  let now = await reader.stamp();
  for (const waitMs of WRITE_IN_FLIGHT_MS) {
    if (before === null || now === null || now.size > before.size || !stampsMoved(before, now)) return now;
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    now = await reader.stamp();
  }
  return now;
}

/** Whether a file's change times moved between two stamps (ctime moves on every write, truncate, fallocate, chmod). */
function stampsMoved(before: FileState, after: FileState): boolean {
  return before.ctimeNs !== after.ctimeNs || before.mtimeNs !== after.mtimeNs;
}

/**
 * After a pass that read to the end of the file: why what was copied cannot be shown to be one state
 * of it, or null. A file only appended to (a log) grows, and its bytes copied read the same again;
 * one cut (smaller than when the copy started, or than what was copied), changed with its size the
 * same (its change times moved: written in place, holes punched, or only its mode changed), or whose
 * first or last bytes copied read differently now, is not. A write in place in the middle of a file
 * that also grew is not seen (its times move as an append's do), nor one that carries the stamp
 * the file already had (a coarse clock, within one tick).
 */
async function changedWhileCopied(reader: ItemReader, start: FileState | null, now: FileState | null, state: Readonly<CopyState>, sizeAtStart: number): Promise<string | null> {
  const reasons: string[] = [];
  const cut = now !== null && (now.size < BigInt(sizeAtStart) || now.size < BigInt(state.bytes));
  if (now !== null && cut) reasons.push(cutReason(sizeAtStart, now.size, state.bytes));
  else if (start !== null && now !== null && now.size === start.size && stampsMoved(start, now)) {
    reasons.push(`its change time moved while its size stayed ${now.size} bytes: written in place, holes punched, or its attributes changed`);
  }
  // Bytes no longer in the file (cut below them) are gone, not read differently.
  const readable = (end: number): boolean => now === null || now.size >= BigInt(end);
  if (state.head.length > 0 && readable(state.head.length) && (await reader.matches(state.head, state.head.length)) === false) {
    reasons.push(`its first ${state.head.length} bytes copied read differently now`);
  }
  if (state.bytes > state.head.length && readable(state.bytes) && (await reader.matches(state.tail, state.bytes)) === false) {
    reasons.push(`its last ${state.tail.length} bytes copied read differently now`);
  }
  return reasons.length === 0 ? null : changedNote(reasons);
}

/**
 * What a copy writes at most, and how to say it: all-zero runs are left as holes, so a sparse file
 * (a memfd or tmpfs file truncated far past its data) needs only the bytes its blocks take.
 */
function copyNeeds({ size, allocated, blockSize }: { size: number; allocated: number | null; blockSize: number | null }): [number, string] {
  // A data block smaller than HOLE_BLOCK is written as a whole HOLE_BLOCK.
  const writes = allocated === null ? null : allocated * Math.max(1, Math.ceil(HOLE_BLOCK / Math.max(1, blockSize ?? HOLE_BLOCK)));
  if (writes === null || writes >= size) return [size, `${size} bytes`];
  return [writes, `${writes} bytes (the blocks of its ${size} bytes: holes are not written)`];
}

/** The source could not be opened at all (dd said so before it sent a byte): no copy was begun. */
class SourceNotOpened extends Error {}

/** Why a /proc path could not be opened, as the record says it. */
function openFailure(item: ItemRow, source: string, error: unknown): string {
  const code = errnoCode(error);
  if (code === 'ENOENT') return `${source} is gone: the ${item.fd === null ? item.kind : `fd ${item.fd}`} was closed after the snapshot`;
  if (code === 'EPERM' || code === 'EACCES') {
    return `${code} opening ${source}${item.kind === 'map' ? ' (map_files needs CAP_SYS_ADMIN: run as root)' : ''}`;
  }
  return `cannot open ${source}: ${outOfFiles(error) ?? oneLine(error)}`;
}

function openSource(source: string): number {
  try {
    return fs.openSync(source, fs.constants.O_RDONLY | O_NOATIME);
  } catch (error) {
    // O_NOATIME is allowed only to the file's owner (or CAP_FOWNER).
    if (errnoCode(error) === 'EPERM' && O_NOATIME !== 0) return fs.openSync(source, fs.constants.O_RDONLY);
    throw error;
  }
}

/**
 * Keep copying while the holder keeps the file open, like `tail -c +0 -f`. Returns null when the
 * writer closed it (or exited) and every byte was copied; else why the copy may be short.
 */
async function follow(
  item: ItemRow, reader: ItemReader, output: number, state: CopyState, options: RecoverOptions, deadline: number,
  /** `reading` is set while a pass reads; `hold` is called after each pass that ended well. */
  live: LiveCopy, hold: () => void,
  /** The file's size and change times when the first pass ended (null: this reader has none). */
  stampAfterFirst: FileState | null,
): Promise<{ note: string | null; closedUnderUs: boolean }> {
  const timeoutS = options.followTimeoutS ?? DEFAULT_FOLLOW_TIMEOUT_S;
  const onProgress = (bytes: number): void => options.onProgress?.(item, bytes);
  const rewritten = (bytes: number): { note: string; closedUnderUs: boolean } => ({
    note: `the writer cut it from ${bytes} bytes, or wrote over bytes already copied, while it was followed: the copy holds what it held before that (${state.bytes} bytes); recover it again for what it holds now`,
    closedUnderUs: false,
  });
  let last = stampAfterFirst;
  /**
   * Copy what was appended, then read again the bytes copied first and last before it: changed, or
   * the file's change times moved since the last pass while it did not grow (written in place, holes
   * punched, cut), the file was not only appended to before or during this copy, and what it appended
   * is not the continuation of the copy: it is taken back, and the copy ends with what it held.
   */
  const appendChecked = async (): Promise<boolean> => {
    const before = { hash: state.hash.copy(), bytes: state.bytes, holeBytes: state.holeBytes, tail: state.tail, head: state.head };
    live.reading = true;
    try {
      await reader.copy(output, state, onProgress);
      const now = await settledStamp(reader, last);
      const inPlace = last !== null && now !== null && now.size <= last.size && stampsMoved(last, now);
      last = now;
      const sameTail = before.tail.length === 0 || (await reader.matches(before.tail, before.bytes)) !== false;
      const sameHead = before.head.length === 0 || (await reader.matches(before.head, before.head.length)) !== false;
      if (!inPlace && sameTail && sameHead) return true;
      Object.assign(state, before); // the output is cut back to state.bytes when the copy ends
      return false;
    } finally {
      live.reading = false;
    }
  };
  const checked = async (): Promise<boolean> => {
    const appended = await appendChecked();
    hold();
    return appended;
  };
  const closed = async (): Promise<{ note: string | null; closedUnderUs: boolean }> => {
    if (!reader.readsAfterClose) {
      // Read through the holder's fd, which is closed now (or another file's): never read again.
      const note = `its holder closed it while it was followed; on a network or FUSE file system unlinked holds no fd of its own, so what was written in the last ${reader.pollMs / 1000} s before that may be missing`;
      return { note, closedUnderUs: true };
    }
    // The writer is done: whatever it wrote last is in the file now. Read to the size it has now and
    // GROWTH_ALLOWANCE_BYTES more, whatever the time (another holder may still grow it without end).
    const sizeNow = await reader.size();
    state.readUntil = null;
    state.readLimit = Math.max(state.bytes, typeof sizeNow === 'number' ? sizeNow : 0) + GROWTH_ALLOWANCE_BYTES;
    const copied = state.bytes;
    return (await checked()) ? { note: null, closedUnderUs: false } : rewritten(copied);
  };
  for (;;) {
    const held = await reader.heldSize();
    if (held === null) return closed();
    // Whether it is still held could not be told this time (never taken for closed): followed on, and said so if it ends so.
    const unknown = typeof held === 'string' ? held : null;
    // A writer that cut the file: copying on from where the copy is would add new content to old.
    if (typeof held === 'number' && held < state.bytes) return rewritten(state.bytes);
    const holding = unknown === null ? `still held open by process ${item.pid}` : `perhaps still held open by process ${item.pid} (whether it is could not be told: ${unknown})`;
    if (Date.now() >= deadline) return { note: `${holding} after following for ${timeoutS} s: the file may still grow`, closedUnderUs: false };
    if (copiesStopRequested()) return { note: `${holding} when following was stopped (interrupted): the file may still grow`, closedUnderUs: false };
    await followPause(reader.pollMs);
    const copied = state.bytes;
    try {
      if (!(await checked())) return rewritten(copied);
    } catch (error) {
      // Closed between the check and the read (a reader without an fd of its own).
      if (error instanceof UnlinkedError && error.code === 'NOT_FOUND') return closed();
      throw error;
    }
  }
}
