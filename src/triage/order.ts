// Order of volatility: copy first what is most likely to vanish before we get to it.
import type { ItemKind } from '../proc/types.js';
import type { U64 } from '../util/u64.js';
import { SLOW_HOLE_BYTES } from '../recover/copy.js';

export interface OrderableItem {
  id: number;
  kind: ItemKind;
  size: U64 | null;
  fsType: string | null;
  /** Process state letter from /proc/PID/stat (Z, X: exiting). */
  processState: string | null;
  /** A memfd, or the executable run from one (see ofMemfd): in memory only, as fragile as kind memfd. */
  memfd?: boolean;
  /** Bytes of data the file holds (st_blocks x 512, as its /proc link showed them just before); null or absent: not known. */
  allocated?: number | null;
}

/** A file kept in memory only (a memfd, a tmpfs file): gone the moment its last holder exits. */
export function inMemory(item: Pick<OrderableItem, 'kind' | 'fsType' | 'memfd'>): boolean {
  return item.kind === 'memfd' || item.memfd === true || item.fsType === 'tmpfs' || item.fsType === 'ramfs' || item.fsType === 'devtmpfs';
}

/**
 * Lower rank is copied first. `memoryBytes` (RAM and swap): a file in memory that claims more than
 * that is mostly holes (a memfd truncated to 4 EiB around a few KB of data), and reading its holes
 * could take longer than the rest together, or for ever: it goes last, not first. So does one whose
 * holes (its size beyond the data it holds) reach SLOW_HOLE_BYTES, whatever RAM says: a few memfds
 * each truncated to just under RAM held every other copy back for a minute, long enough for a
 * short-lived process's file to go.
 */
export function volatilityRank(item: OrderableItem, memoryBytes: number = Number.POSITIVE_INFINITY): number {
  const memory = inMemory(item);
  if (memory && item.size !== null && item.size > memoryBytes) return 4;
  if (memory && item.size !== null && item.allocated !== undefined && item.allocated !== null && Number(item.size) - item.allocated >= SLOW_HOLE_BYTES) return 4;
  // memfd and tmpfs live only in memory: gone the moment the last holder exits. A payload run from a
  // memfd (fexecve: /proc/PID/exe is "/memfd:NAME (deleted)") is a memfd too, gone with its process.
  if (item.kind === 'memfd' || item.memfd === true) return 0;
  if (memory) return 1;
  // An exiting process closes its files any moment now.
  if (item.processState === 'X' || item.processState === 'Z') return 2;
  return 3;
}

/** Most fragile first; within a rank, small files before huge ones (more files saved per second). */
export function orderByVolatility<T extends OrderableItem>(items: readonly T[], memoryBytes?: number): T[] {
  return [...items].sort((a, b) => volatilityRank(a, memoryBytes) - volatilityRank(b, memoryBytes) || compare(a.size ?? 0, b.size ?? 0) || a.id - b.id);
}

/**
 * Smallest first (recover's order): a file of holes claiming petabytes, whose reading may never end,
 * comes after every file that can be finished; a size not known goes last.
 */
export function orderBySize<T extends Pick<OrderableItem, 'id' | 'size'>>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (a.size === null ? 1 : 0) - (b.size === null ? 1 : 0) || compare(a.size ?? 0, b.size ?? 0) || a.id - b.id);
}

/** Sizes past 2^53 are bigints: < and > compare a number with a bigint exactly, - cannot. */
function compare(a: U64, b: U64): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
