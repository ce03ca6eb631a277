// Birth times come from statx(2), which node (libuv) gives up for the whole process after one statx
// call fails with EPERM, EINVAL, ENOSYS or EOPNOTSUPP (a /proc/PID/map_files entry stat'ed without
// CAP_SYS_ADMIN, a seccomp filter, some FUSE or network file systems): every later stat then comes
// from stat(2), which has no birth time, and libuv fills the ctime in as one. A ctime taken for a
// birth time would make custody call a file written since its birth "another file with a reused
// inode number", so once that happened no birth time is believed. /proc keeps no birth time: under
// statx its birth time is 0, under the fallback its ctime, so one stat of /proc tells which.
import fs from 'node:fs';

let lost = false;

/** Whether stats come without statx now (one stat of /proc until it has happened; then for good). */
export function statxLost(): boolean {
  if (!lost) {
    try {
      lost = fs.statSync('/proc', { bigint: true }).birthtimeNs !== 0n;
    } catch {
      lost = true;
    }
  }
  return lost;
}

/** What statxLost() last found, without asking again. */
export function statxKnownLost(): boolean {
  return lost;
}

/**
 * A stat's birth time as a case keeps it (ns since the epoch, as text), or null: where the file
 * system keeps none (0), or where statx may not have made that stat (checked after it: once lost,
 * never back, so statx alive now means it made the stat before).
 */
export function birthTimeNs(stat: fs.BigIntStats, check: 'probe' | 'known' = 'probe'): string | null {
  if (stat.birthtimeNs === 0n) return null;
  return (check === 'probe' ? statxLost() : lost) ? null : String(stat.birthtimeNs);
}
