// Shared by the image adapters: how long each kind of run may take, and TSK's offset argument.
import { MAX_TIMER_MS } from '../util/time.js';

/** A walk of every inode or directory (ils, fls, a debugfs batch): large file systems take a while. */
export const WALK_TIMEOUT_MS = 2 * 60 * 60_000;

/** The most of a walk's output read (ils, fls; parsed as it comes): a runaway tool on a damaged image is stopped there. */
export const WALK_OUTPUT_MAX_BYTES = 1 << 30;

/** One inode or one table (mmls, fsstat, istat, a short debugfs stat). */
export const SHORT_TIMEOUT_MS = 5 * 60_000;


/** Copying one inode out: ten minutes, plus a minute per GiB at a slow 17 MB/s (at most MAX_TIMER_MS). */
export function copyTimeoutMs(sizeBytes: number | null): number {
  return Math.min(MAX_TIMER_MS, 10 * 60_000 + Math.ceil((sizeBytes ?? 0) / (1 << 30)) * 60_000);
}

/** A copy streamed through unlinked whose program sends nothing this long (a device that stopped answering) is killed: holes come out as zeros, never as silence. */
export const STREAM_STALL_MS = 5 * 60_000;

/** TSK's `-o SECTORS` (512-byte units, the same unit mmls prints). */
export function offsetArgs(offsetSectors: number): string[] {
  return offsetSectors === 0 ? [] : ['-o', String(offsetSectors)];
}
