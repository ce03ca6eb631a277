// What one walk of /proc saw: plain records, written to the store in one transaction.
import type { U64 } from '../../parsers/types.js';

export type ItemKind = 'fd' | 'map' | 'exe' | 'memfd' | 'tmpfile';

/**
 * Raw bytes from the kernel (a path, a cmdline) held as a latin1 string: one char per byte, so
 * nothing is lost, and cheap to pass between worker threads. Buffer.from(raw, 'latin1') gives the bytes.
 */
export type RawBytes = string;

export interface ProcessRecord {
  pid: number;
  ppid: number | null;
  startTime: number | null;
  state: string | null;
  uid: number | null;
  comm: string | null;
  cmdline: RawBytes | null;
  exe: RawBytes | null;
  exeDeleted: boolean | null;
  exeDev: string | null;
  exeInode: U64 | null;
  mntNs: string | null;
  pidNs: string | null;
  cgroup: string | null;
  /** Why part of this process could not be read (EACCES as non-root, vanished mid-read). */
  readError: string | null;
  /**
   * Set for a thread with an fd table of its own (`unshare(CLONE_FILES)`, `clone` without
   * CLONE_FILES): the PID of its process. Its row (pid = its TID) holds that table's fds; its maps and
   * exe are the process's, recorded there.
   */
  threadOf: number | null;
}

/**
 * The fds of a chunk, column by column: a walk hands ~100k fds to the storing thread, and one typed
 * array and one string are cloned in a fifth of the time of as many small records.
 */
export interface FdColumns {
  count: number;
  /** FD_NUMBERS per fd: pid, fd, inode, mode, size, nlink, pos, flags, mnt_id; NaN where unknown or in `exact`. */
  numbers: Float64Array;
  /** The few values past 2^53 (inode, size or pos of a file on overlayfs, CIFS...): [fd index, column, value]. */
  exact: Array<[index: number, column: number, value: bigint]>;
  /** The link targets, joined by NUL (a path never holds one). */
  targets: RawBytes;
  devs: Array<string | null>;
}

export const FD_NUMBERS = 9;

/** One file-backed mapping, in the column order of the maps table (a tuple: cloned in half the time of an object). */
export type MapRow = [
  pid: number,
  range: string,
  perms: string,
  offset: U64,
  mapsDev: string,
  inode: U64,
  path: RawBytes,
  dev: string | null,
  size: U64 | null,
  nlink: number | null,
  statError: string | null,
];

export interface MountRecord {
  mntNs: string;
  mntId: number;
  parentId: number;
  dev: string;
  root: RawBytes;
  mountPoint: RawBytes;
  fsType: string;
  source: string;
  fsUuid: string | null;
  options: string;
  superOptions: string;
}

export interface LiveItem {
  pid: number;
  startTime: number | null;
  comm: string | null;
  exe: RawBytes | null;
  kind: ItemKind;
  fd: number | null;
  mapRange: string | null;
  /** The file's last name, without the " (deleted)" the kernel appends. */
  path: RawBytes;
  dev: string;
  inode: U64;
  size: U64;
  nlink: number;
  mode: number;
  uid: number;
  gid: number;
  /**
   * Seconds since the epoch, from the stat of the open file; null where node could not give it
   * exactly (2^53 s or more either way: see RoundedTimes), until the walk's caller reads it again.
   */
  atime: number | null;
  mtime: number | null;
  ctime: number | null;
  /**
   * Birth time (statx btime) in nanoseconds since the epoch, as decimal text; null where the file
   * system keeps none. With dev and inode it tells this file from a later one given the same inode
   * number (ext4 hands a freed number out again at once): recover and relink compare it.
   */
  btimeNs: string | null;
  pos: U64 | null;
  flags: number | null;
  mntId: number | null;
  mntNs: string | null;
  mountPoint: RawBytes | null;
  fsType: string | null;
  fsUuid: string | null;
  /**
   * An item held through an overlay whose files carry its own device number (its layers all on one
   * file system, or xino): the device and UUID of the file system its upper directory is on, whose
   * inode number it shows (docs/images.md: a file copied up shows its lower file's); else null.
   */
  upperDev: string | null;
  upperFsUuid: string | null;
  /**
   * A lease an open of the file would break (see src/proc/leases.ts), as /proc/locks said it when the
   * walk began ("LEASE ACTIVE WRITE"), and the process that set it; null: none.
   */
  lease: string | null;
  leasePid: number | null;
}

export interface WalkCounts {
  processesSeen: number;
  processesVanished: number;
  processesUnreadable: number;
  /** Of those, this (non-root) user's own: refused by the kernel (map_files, not dumpable), not as another user's. */
  processesUnreadableOwn: number;
  /** Of those, the ones refused their map_files alone (shown to root only), the rest of them read. */
  processesUnreadableOwnMaps: number;
  fdsSeen: number;
  fdsVanished: number;
}

/**
 * An item whose file has a time of 2^53 s or more (either way: set with touch -d @9223372036854775807,
 * or by a file system's garbage): node 20's stat hands tv_sec through a double, so its seconds are not
 * the kernel's (2^63 - 1 comes out as -2^63). Its times are stored null by the walk, and read again
 * exactly by coreutils stat of `file` (exactTimes.ts), once per such item, before the snapshot is stored.
 */
export interface RoundedTimes {
  pid: number;
  kind: ItemKind;
  fd: number | null;
  mapRange: string | null;
  /** The /proc link the walk stat'ed: /proc/PID/fd/N, /proc/PID/map_files/RANGE, /proc/PID/exe. */
  file: string;
  dev: string;
  inode: U64;
}

/** The exact times of a RoundedTimes item (seconds: a bigint past 2^53), or null each where they could not be read. */
export interface ExactTimes {
  pid: number;
  kind: ItemKind;
  fd: number | null;
  mapRange: string | null;
  atime: number | bigint | null;
  mtime: number | bigint | null;
  ctime: number | bigint | null;
}

export interface WalkResult {
  processes: ProcessRecord[];
  fds: FdColumns;
  maps: MapRow[];
  mounts: MountRecord[];
  items: LiveItem[];
  /** What changed in items handed on before their process's walk ended (a process walked in parts). */
  revisions: ItemRevision[];
  counts: WalkCounts;
  warnings: string[];
  /** The processes counted in processesUnreadable, in walk order: the first UNREADABLE_LISTED of them (the count says how many in all). */
  unreadable: UnreadableProcess[];
  /** Items whose times node rounded: read again by the caller (the walk runs no program). */
  roundedTimes: RoundedTimes[];
  /** What that reading found, set by the caller before the walk is stored: written over the nulls. */
  exactTimes?: ExactTimes[];
}

/**
 * Items of a process (or thread: its TID) handed on to the store before its walk ended (walk.ts,
 * a process with many of them), changed at its end as the items still held were: its PID found reused
 * (dropped), its exe named from maps (where none was named: exe, and the exe item's path), or node's
 * statx lost there (no birth times).
 */
export interface ItemRevision {
  pid: number;
  dropped: boolean;
  /** The exe named from maps, and the exe item's path (the name without " (deleted)"). */
  exe: { name: RawBytes; itemPath: RawBytes } | null;
  birthTimesLost: boolean;
}

/** A process (or a thread with an fd table of its own: its TID) that could not be fully read, and why (processes.read_error). */
export interface UnreadableProcess {
  pid: number;
  /** Display form, as processes.comm; null when its stat could not be parsed. */
  comm: string | null;
  readError: string;
}

/** How many unreadable processes a walk names (the JSON's unreadable_processes): as non-root, thousands may be. */
export const UNREADABLE_LISTED = 100;

/**
 * statfs f_type of the POSIX message queue file system (MQUEUE_MAGIC): a queue's file reads as its
 * status line, not its messages. The walk leaves such fds out; recover refuses an older item of one.
 */
export const MQUEUE_MAGIC = 0x19800202;
