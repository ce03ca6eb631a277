// Custody: the process and the file we copy from are the ones the snapshot saw (PID reuse, fd reuse).
import fs from 'node:fs';
import { birthTimeNs } from '../util/statx.js';
import { errnoCode, oneLine } from '../errors.js';
import { displayBytes } from '../util/bytes.js';
import { stripDeleted } from '../proc/walk.js';
import { parseProcStat } from '../../parsers/procfs.js';
import { devString } from '../../parsers/procfs.js';
import type { ItemRow } from '../store/items.js';
import { liveTaskDir, procDirOf } from '../proc/tasks.js';
import { type U64 } from '../util/u64.js';
import { u64 } from '../../parsers/types.js';
import { floorSeconds } from '../util/time.js';
import { outOfFiles } from '../util/openFiles.js';

/** Where the bytes of a live item can be read through /proc. */
export function sourcePath(item: Pick<ItemRow, 'pid' | 'kind' | 'fd' | 'map_range'>): string | null {
  const base = procBase(item.pid);
  if (item.kind === 'exe') return `${base}/exe`;
  if (item.fd !== null) return `${base}/fd/${item.fd}`;
  if (item.map_range !== null) return `${base}/map_files/${item.map_range}`;
  return null;
}

/** The /proc path of the holder's fd (for `heldSize`). */
export function holderFdPath(item: Pick<ItemRow, 'pid' | 'fd'>): string {
  return `${procBase(item.pid)}/fd/${item.fd ?? -1}`;
}

/**
 * /proc/PID, or /proc/TID of a live thread when the main thread has exited and others run (a zombie
 * leader: its fd, maps and exe read empty, as the walk found; see src/proc/tasks.ts).
 */
function procBase(pid: number): string {
  return procDirOf('/proc', pid);
}

/** null when the process is the one of the snapshot; else why not. */
export function checkProcess(item: Pick<ItemRow, 'pid' | 'start_time'>): string | null {
  return processState(item)?.reason ?? null;
}

/**
 * null when the process is the one of the snapshot; else why not, and whether that says it is gone
 * (exited, a zombie, its PID another process's now: its files are closed) or only that its state
 * could not be read (too many open files, say), which says nothing of its files.
 */
export function processState(item: Pick<ItemRow, 'pid' | 'start_time'>): { reason: string; gone: boolean } | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${item.pid}/stat`, 'latin1');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { reason: `process ${item.pid} has exited`, gone: true };
    return { reason: `cannot read /proc/${item.pid}/stat: ${outOfFiles(error) ?? errnoCode(error) ?? String(error)}`, gone: false };
  }
  const stat = parseProcStat(text);
  if (stat === null) return { reason: `cannot parse /proc/${item.pid}/stat`, gone: false };
  // Seen by lsof alone, of a process the walk did not see: no start time to compare. The file is
  // still checked by device and inode once opened (sameFile refuses an item without them).
  if (item.start_time === null) return null;
  if (stat.startTime !== item.start_time) {
    return { reason: `PID reuse: process ${item.pid} started at tick ${stat.startTime}, the snapshot saw start tick ${item.start_time}`, gone: true };
  }
  // Exited, its parent not having reaped it yet: no fd, no mapping is left (a zombie leader whose
  // threads still run is not that: its files are read through them).
  if ((stat.state === 'Z' || stat.state === 'X') && liveTaskDir(`/proc/${item.pid}`, item.pid) === null) {
    return { reason: `process ${item.pid} has exited (a zombie its parent has not reaped yet): its files were closed when it exited`, gone: true };
  }
  return null;
}

/** A file reached through a /proc link now, as custody compares it with the snapshot's. */
export interface SeenFile {
  dev: string;
  ino: U64;
  /** Birth time (ns text), null where the file system keeps none or it could not be read. */
  btimeNs: string | null;
  size: bigint;
  /** Link count, null when not known. */
  nlink: bigint | null;
  /** The kernel's name of it now (the link's target, one " (deleted)" stripped), or why it could not be read. */
  name: Buffer | string;
}

/** The snapshot's file, and a note when it was told so by less than its birth time; or why it is another file. */
export type Custody = { refusal: string } | { refusal: null; note: string | null };

/** Custody of the file an fd of this process has open (opened through the item's /proc path). */
export function checkOpenedFile(fd: number, item: CustodyItem): Custody {
  const stat = fs.fstatSync(fd, { bigint: true });
  // Our own fd's link names the very dentry the holder's does (opening a /proc link opens its path): no race with the holder.
  return custodyOf(item, { dev: devString(stat.dev), ino: u64(stat.ino), btimeNs: birthTimeNs(stat), size: stat.size, nlink: stat.nlink, name: kernelName(`/proc/self/fd/${fd}`) });
}

type CustodyItem = Pick<ItemRow, 'dev' | 'inode' | 'fd' | 'kind' | 'btime_ns' | 'path' | 'size' | 'in_proc'>;

/**
 * Is `seen` the snapshot's file? Device and inode, then the birth time where both sides have one;
 * where not (ext3, ext4 with 128-byte inodes, FUSE, an item seen by lsof alone, statx lost), what a
 * file keeps while it is deleted and held: its last name (an unlinked dentry cannot be renamed or
 * linked again, short of an O_TMPFILE one), no link count (kind fd), and for a running executable
 * its size (the kernel refuses to write it: ETXTBSY). A file that passes is named in the note as
 * told by device, inode and name only: a later file given the same inode number and name could not
 * be told from it.
 */
export function custodyOf(item: CustodyItem, seen: SeenFile): Custody {
  const moved = sameFile(item, seen.dev, seen.ino);
  if (moved !== null) return { refusal: moved };
  if (item.btime_ns !== null && seen.btimeNs !== null) {
    const born = sameBirth(item, seen.btimeNs);
    return born === null ? { refusal: null, note: null } : { refusal: born };
  }
  const what = item.fd === null ? item.kind : `fd ${item.fd}`;
  const another = `${what} now refers to another file with the same inode number ${item.inode ?? '?'}`;
  const reused = '(the inode number was reused; no birth time to compare)';
  // Only a file opened with O_TMPFILE can be given a name after its last one went (relink).
  if (item.kind === 'fd' && seen.nlink !== null && seen.nlink > 0n) {
    return { refusal: `${another}: it has a name (link count ${seen.nlink}), the snapshot's file had none, and a deleted file never gets one back ${reused}` };
  }
  // The last name is frozen; the folders above it can be renamed (the kernel then names the file by their new names).
  // Not lsof's name (not byte-exact), nor one the snapshot or this check could not read.
  const name = item.in_proc !== 0 && item.path.length > 0 && typeof seen.name !== 'string' ? seen.name : null;
  if (name !== null && !lastName(name).equals(lastName(item.path))) {
    return { refusal: `${another}: named ${displayBytes(name)} now, the snapshot's file was ${displayBytes(item.path)} (a deleted file cannot be renamed: ${reused.slice(1)}` };
  }
  if (item.kind === 'exe' && item.size !== null && BigInt(item.size) !== seen.size) {
    return { refusal: `${another}: ${seen.size} bytes, the snapshot's executable was ${item.size} (a running executable cannot be written: ${reused.slice(1)}` };
  }
  const alike = 'a later file given the same inode number and the same name could not be told from it';
  if (item.in_proc === 0) return { refusal: null, note: `custody by device and inode only (seen by lsof alone: no birth time, and lsof's name is not byte-exact): a later file given the same inode number could not be told from it` };
  if (typeof seen.name === 'string') {
    return { refusal: null, note: `custody by device and inode only (no birth time to compare, and its name cannot be read now: ${seen.name}): a later file given the same inode number could not be told from it` };
  }
  if (name === null) return { refusal: null, note: 'custody by device and inode only (no birth time to compare, and the snapshot could not read its name): a later file given the same inode number could not be told from it' };
  if (name.equals(item.path)) return { refusal: null, note: `custody by device, inode and name only (no birth time to compare): ${alike}` };
  return {
    refusal: null,
    note: `custody by device, inode and last name only (no birth time to compare): the kernel names it ${displayBytes(name)} now, the snapshot saw ${displayBytes(item.path)} ` +
      `(a folder above it renamed or moved since); ${alike}`,
  };
}

/** The name the kernel gives the file a /proc link (fd, exe, map_files) leads to, one " (deleted)" stripped, byte-exact; or why it cannot be read. */
export function kernelName(link: string): Buffer | string {
  try {
    return Buffer.from(stripDeleted(fs.readlinkSync(link, 'latin1')), 'latin1');
  } catch (error) {
    return errnoCode(error) ?? oneLine(error);
  }
}

function lastName(name: Buffer): Buffer {
  return name.subarray(name.lastIndexOf(0x2f) + 1);
}


/**
 * null unless both birth times are known and differ: then the inode number was handed to a later
 * file (ext4 reuses a freed number at once: a log closed and a new one opened on the same fd number
 * can get it), and the file is not the snapshot's. Unknown on either side: dev and inode decide.
 */
export function sameBirth(item: Pick<ItemRow, 'fd' | 'kind' | 'inode' | 'btime_ns'>, btimeNs: string | null): string | null {
  if (item.btime_ns === null || btimeNs === null || item.btime_ns === btimeNs) return null;
  return `${item.fd === null ? item.kind : `fd ${item.fd}`} now refers to another file with the same inode number ${item.inode ?? '?'}: born ${birthText(btimeNs)}, ` +
    `the snapshot's file was born ${birthText(item.btime_ns)} (the inode number was reused)`;
}

function birthText(ns: string): string {
  const value = BigInt(ns);
  const seconds = floorSeconds(value);
  const fraction = String(value - seconds * 1_000_000_000n).padStart(9, '0');
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
}

/**
 * null when (dev, ino) is the snapshot's file; else why not (the fd or mapping now names another,
 * or the snapshot did not record which file it was: nothing to check a copy against).
 */
export function sameFile(item: Pick<ItemRow, 'dev' | 'inode' | 'fd' | 'kind'>, dev: string, ino: U64): string | null {
  if (item.inode === null || item.dev === null) {
    return `the snapshot recorded no ${item.inode === null ? 'inode' : 'device'} for this ${item.fd === null ? item.kind : `fd ${item.fd}`}: whether it still names the same file cannot be checked, not copied`;
  }
  if (ino !== item.inode) {
    return `${item.fd === null ? item.kind : `fd ${item.fd}`} now refers to inode ${ino} on ${dev}, the snapshot saw inode ${item.inode} on ${item.dev ?? '?'} (reused)`;
  }
  if (dev !== item.dev) {
    return `${item.fd === null ? item.kind : `fd ${item.fd}`} now refers to device ${dev}, the snapshot saw ${item.dev} (reused)`;
  }
  return null;
}
