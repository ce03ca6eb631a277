// ils adapter: `ils -aL` (allocated, no link: open-but-unlinked) and `ils -r` (removed: unallocated,
// once used), pipe-separated rows parsed by parsers/ils.ts. `ils -O` prints no rows in 4.11.1.
import { run, type CommandRecorder } from '../exec/run.js';
import { UnlinkedError } from '../errors.js';
import { ILS_START, parseIlsPiece, type IlsInode } from '../../parsers/ils.js';
import type { ParseResult } from '../../parsers/types.js';
import { WALK_OUTPUT_MAX_BYTES, WALK_TIMEOUT_MS, offsetArgs } from './limits.js';
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
  const complaint = result.stderr.split('\n').map((line) => line.trim()).find((line) => line !== '') ?? 'no message';
  if (rows === 0) throw new UnlinkedError('TOOL_FAILED', `ils exited with code 1: ${complaint}`);
  return { ...parsed, stoppedEarly: complaint, rows };
}

/** Allocated inodes with link count 0, and reserved inode 1 (the caller drops it). With `take`: each row handed to it, none kept. */
export function ilsUnlinkedAllocated(image: string, offsetSectors: number, recorder: CommandRecorder, take?: (record: IlsInode) => void): Promise<IlsList> {
  return ils(image, offsetSectors, ['-a', '-L'], recorder, take);
}

/** Unallocated inodes that were once used: deleted files. With `take`: each row handed to it, none kept (millions on a big disk). */
export function ilsRemoved(image: string, offsetSectors: number, recorder: CommandRecorder, take?: (record: IlsInode) => void): Promise<IlsList> {
  return ils(image, offsetSectors, ['-r'], recorder, take);
}
