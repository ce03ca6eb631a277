// ils adapter: `ils -aL` (allocated, no link: open-but-unlinked), `ils -r` (removed: unallocated,
// once used) and `ils -e` over a range (every inode: whether one is allocated), pipe-separated rows
// parsed by parsers/ils.ts. `ils -O` prints no rows in 4.11.1.
import { run, type CommandRecorder } from '../exec/run.js';
import { UnlinkedError } from '../errors.js';
import { ILS_START, parseIls, parseIlsPiece, type IlsInode } from '../../parsers/ils.js';
import type { ParseResult } from '../../parsers/types.js';
import { SHORT_TIMEOUT_MS, WALK_OUTPUT_MAX_BYTES, WALK_TIMEOUT_MS, offsetArgs } from './limits.js';
import { parsedByLines } from './lines.js';

export interface IlsList extends ParseResult<IlsInode> {
  /** ils stopped part-way (exit 1 after these rows: a truncated image, say): what it said; null when it finished. */
  stoppedEarly: string | null;
  /** How many rows were read (in `records`, or handed to `take`). */
  rows: number;
}

/**
 * ils walks the inodes group by group and prints each row as it goes: on a truncated image it lists
 * the groups that are there, then exits 1 (`Inode bitmap 1 at 8259` missing in partial image). Those
 * rows are kept; with none, exit 1 is a failure.
 */
async function ils(image: string, offsetSectors: number, flags: readonly string[], recorder: CommandRecorder, take?: (record: IlsInode) => void): Promise<IlsList> {
  let rows = 0;
  const lines = parsedByLines('ils', WALK_OUTPUT_MAX_BYTES, ILS_START, parseIlsPiece, take === undefined ? undefined : (record) => {
    rows++;
    take(record);
  });
  // Silent while it walks groups without such inodes: only the walk's timeout stops it.
  const result = await run('ils', [...flags, ...offsetArgs(offsetSectors), image], { timeoutMs: WALK_TIMEOUT_MS, recorder, okExitCodes: [0, 1], streamStdout: { consume: lines.consume, stallMs: WALK_TIMEOUT_MS } });
  const parsed = lines.finish();
  if (take === undefined) rows = parsed.records.length;
  if (result.exitCode === 0) return { ...parsed, stoppedEarly: null, rows };
  const complaint = result.stderr.split('\n').map((line) => line.trim()).find((line) => line !== '') ?? null;
  if (rows === 0) throw new UnlinkedError('TOOL_FAILED', `ils exited with code 1${complaint === null ? ' (nothing on stderr)' : `: ${complaint}`}`);
  return { ...parsed, stoppedEarly: complaint ?? 'exited with code 1, nothing on stderr', rows };
}

/** Allocated inodes with link count 0, and reserved inode 1 (the caller drops it). With `take`: each row handed to it, none kept. */
export function ilsUnlinkedAllocated(image: string, offsetSectors: number, recorder: CommandRecorder, take?: (record: IlsInode) => void): Promise<IlsList> {
  return ils(image, offsetSectors, ['-a', '-L'], recorder, take);
}

/** Unallocated inodes that were once used: deleted files. With `take`: each row handed to it, none kept (millions on a big disk). */
export function ilsRemoved(image: string, offsetSectors: number, recorder: CommandRecorder, take?: (record: IlsInode) => void): Promise<IlsList> {
  return ils(image, offsetSectors, ['-r'], recorder, take);
}

/** Inodes this close together are asked in one `ils -e` range (the ones between printed and let go). */
const RANGE_GAP = 64;

/**
 * Whether each inode is allocated, as The Sleuth Kit reads its inode bitmap bit: `ils -e` of the
 * inodes' ranges (one run per range of near inodes). Not istat: to print an inode istat walks every
 * block its size spans, which on a crafted i_size (2^54 on a block-mapped file system) is 13 s and
 * 36 MB of output for one inode; ils reads the inode alone. null: ils did not say (it failed, or did
 * not print the inode).
 */
export async function ilsAllocation(image: string, offsetSectors: number, inodes: readonly number[], recorder: CommandRecorder): Promise<Map<number, boolean | null>> {
  const wanted = [...new Set(inodes)].sort((a, b) => a - b);
  const allocation = new Map<number, boolean | null>(wanted.map((inode) => [inode, null]));
  const ranges: Array<[number, number]> = [];
  for (const inode of wanted) {
    const last = ranges.at(-1);
    if (last !== undefined && inode - last[1] <= RANGE_GAP) last[1] = inode;
    else ranges.push([inode, inode]);
  }
  for (const [first, last] of ranges) {
    const range = first === last ? String(first) : `${first}-${last}`;
    const result = await run('ils', ['-e', ...offsetArgs(offsetSectors), image, range], { timeoutMs: SHORT_TIMEOUT_MS, recorder, okExitCodes: [0, 1] }).catch(() => null);
    if (result === null) continue;
    // Exit 1 after some rows (a truncated image): those rows are what ils read.
    for (const record of parseIls(result.stdout.toString('latin1')).records) {
      if (allocation.has(record.inode)) allocation.set(record.inode, record.allocated);
    }
  }
  return allocation;
}
