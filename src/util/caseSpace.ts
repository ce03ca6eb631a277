// Room on the case's disk. A copy that fills it takes the case database with it: SQLite cannot
// write the row that says what happened (SQLITE_FULL), and every later command of the case fails.
// So a copy that cannot fit is refused before it starts, and one that grows past the room (a file
// followed while its writer appends, a size that was not known) stops with KEEP_FREE_BYTES left.
import fs from 'node:fs';

/** Left free on the case's disk for the case database's rows and its write-ahead log. */
export const KEEP_FREE_BYTES = 4 << 20;

/** Free space is read again after this many bytes written at most (other writers use it too). */
const RECHECK_BYTES = 64 << 20;

/** Bytes an unprivileged writer may still use on the file system of `dir` (null: unknown). */
export function freeBytes(dir: string): number | null {
  try {
    const stats = fs.statfsSync(dir);
    return stats.bavail * stats.bsize;
  } catch {
    return null;
  }
}

/**
 * Why a copy of `needs` bytes (`what` says them, e.g. "41943040 bytes") is not started in `dir`,
 * or null: it fits, or either number is unknown.
 */
export function spaceRefusal(dir: string, needs: number | null, what: string): string | null {
  const free = freeBytes(dir);
  if (needs === null || free === null || needs + KEEP_FREE_BYTES <= free) return null;
  return `the copy needs ${what} and the case's file system has ${free} bytes free (${KEEP_FREE_BYTES >> 20} MiB are kept for the case database): make room, or use a case on a larger disk`;
}

/** Counts a copy's writes against the free space of its disk, and stops the copy before the last KEEP_FREE_BYTES. */
export class SpaceGuard {
  /** Bytes that may still be written before free space is read again. */
  private budget = 0;
  private sinceCheck = 0;

  constructor(private readonly dir: string) {}

  /** Call before writing `bytes`: throws (the copy stops) when that would leave less than KEEP_FREE_BYTES free. */
  claim(bytes: number): void {
    if (bytes > this.budget || this.sinceCheck + bytes > RECHECK_BYTES) {
      const free = freeBytes(this.dir);
      if (free === null) return; // not known: the write itself will say ENOSPC
      this.budget = free - KEEP_FREE_BYTES;
      this.sinceCheck = 0;
      if (bytes > this.budget) {
        throw new Error(`the case's disk is full: ${free} bytes free, and ${KEEP_FREE_BYTES >> 20} MiB are kept for the case database (make room, or use a case on a larger disk)`);
      }
    }
    this.budget -= bytes;
    this.sinceCheck += bytes;
  }
}
