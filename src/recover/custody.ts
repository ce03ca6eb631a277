// Custody: the process and the file we copy from are the ones the snapshot saw (PID reuse, fd reuse).
import fs from 'node:fs';
import { birthTimeNs } from '../util/statx.js';
import { errnoCode } from '../errors.js';
import { parseProcStat } from '../../parsers/procfs.js';
import { devString } from '../../parsers/procfs.js';
import type { ItemRow } from '../store/items.js';
import { liveTaskDir, procDirOf } from '../proc/tasks.js';
import { type U64 } from '../util/u64.js';
import { u64 } from '../../parsers/types.js';
import { floorSeconds } from '../util/time.js';

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
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${item.pid}/stat`, 'latin1');
  } catch (error) {
    return errnoCode(error) === 'ENOENT' ? `process ${item.pid} has exited` : `cannot read /proc/${item.pid}/stat: ${errnoCode(error) ?? String(error)}`;
  }
  const stat = parseProcStat(text);
  if (stat === null) return `cannot parse /proc/${item.pid}/stat`;
  // Seen by lsof alone, of a process the walk did not see: no start time to compare. The file is
  // still checked by device and inode once opened (sameFile refuses an item without them).
  if (item.start_time === null) return null;
  if (stat.startTime !== item.start_time) {
    return `PID reuse: process ${item.pid} started at tick ${stat.startTime}, the snapshot saw start tick ${item.start_time}`;
  }
  // Exited, its parent not having reaped it yet: no fd, no mapping is left (a zombie leader whose
  // threads still run is not that: its files are read through them).
  if ((stat.state === 'Z' || stat.state === 'X') && liveTaskDir(`/proc/${item.pid}`, item.pid) === null) {
    return `process ${item.pid} has exited (a zombie its parent has not reaped yet): its files were closed when it exited`;
  }
  return null;
}

/** null when the opened file is the snapshot's (dev, inode and birth time); else why not. */
export function checkOpenedFile(fd: number, item: Pick<ItemRow, 'dev' | 'inode' | 'fd' | 'kind' | 'btime_ns'>): string | null {
  const stat = fs.fstatSync(fd, { bigint: true });
  return sameFile(item, devString(stat.dev), u64(stat.ino)) ?? sameBirth(item, birthNs(stat));
}

/**
 * A stat's birth time as the snapshot keeps it (ns text), or null where the file system keeps none
 * or this process stats without statx now (util/statx.ts).
 */
export function birthNs(stat: fs.BigIntStats): string | null {
  return birthTimeNs(stat);
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
