// Room on the case's disk. A copy that fills it takes the case database with it: SQLite cannot
// write the row that says what happened (SQLITE_FULL), and every later command of the case fails.
// So a copy that cannot fit is refused before it starts, and one that grows past the room (a file
// followed while its writer appends, a size that was not known) stops with KEEP_FREE_BYTES left
// when the case database shares the disk.
import fs from 'node:fs';

/** Left free for the case database's rows and its write-ahead log, on the disk it shares with the copies. */
export const KEEP_FREE_BYTES = 4 << 20;

/**
 * Bytes an unprivileged writer may still use on the file system of `dir`; null when unknown, or
 * when it has no limit (ramfs, tmpfs with size=0: 0 blocks in all).
 */
export function freeBytes(dir: string): number | null {
  try {
    const stats = fs.statfsSync(dir);
    return stats.blocks === 0 ? null : stats.bavail * stats.bsize;
  } catch {
    return null;
  }
}

/** Left free on a disk of the copies alone (recovered/ mounted from another disk): the SHA256SUMS lines. */
export const KEEP_FREE_SUMS_BYTES = 64 << 10;

/**
 * What a copy into `outputDir` must leave free: KEEP_FREE_BYTES when the case database (`dbPath`)
 * is on the same file system, KEEP_FREE_SUMS_BYTES when it is elsewhere.
 */
export function keepFreeFor(outputDir: string, dbPath: string): number {
  try {
    return fs.statSync(outputDir).dev === fs.statSync(dbPath).dev ? KEEP_FREE_BYTES : KEEP_FREE_SUMS_BYTES;
  } catch {
    return KEEP_FREE_BYTES;
  }
}

const kept = (keep: number): string =>
  keep >= KEEP_FREE_BYTES ? ` (${keep >> 20} MiB are kept for the case database)` : keep === 0 ? '' : ` (${keep >> 10} KiB are kept for SHA256SUMS)`;

/**
 * Counts the writes of every copy of a run (one guard for all: copies followed side by side share
 * the disk) against the free space of its disk, and stops them before the last `keep` bytes. Free
 * space is read at each claim (other writers use the disk too); bytes claimed but not yet written
 * (writes in flight) are counted as used until released.
 */
export class SpaceGuard {
  private pending = 0;

  constructor(
    private readonly dir: string,
    private readonly keep: number,
  ) {}

  /**
   * Why a copy of `needs` bytes (`what` says them, e.g. "41943040 bytes") is not to be started, or
   * null: it fits with `keep` bytes left, or either number is unknown.
   */
  refusal(needs: number | null, what: string): string | null {
    const free = freeBytes(this.dir);
    if (needs === null || free === null || needs + this.pending + this.keep <= free) return null;
    return `the copy needs ${what} and the case's file system has ${free} bytes free${kept(this.keep)}: make room, or use a case on a larger disk`;
  }

  /** Call before writing `bytes`, and release(bytes) once that write is done (or failed): throws when it would leave less than `keep` free. */
  claim(bytes: number): void {
    const free = freeBytes(this.dir);
    if (free !== null && free - this.pending - bytes < this.keep) {
      throw new Error(`the case's disk is full: ${free} bytes free${kept(this.keep)}: make room, or use a case on a larger disk`);
    }
    this.pending += bytes;
  }

  release(bytes: number): void {
    this.pending -= bytes;
  }
}
