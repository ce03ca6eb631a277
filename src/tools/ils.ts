// ils adapter: `ils -aL` (allocated, no link: open-but-unlinked) and `ils -r` (removed: unallocated,
// once used), pipe-separated rows parsed by parsers/ils.ts. `ils -O` prints no rows in 4.11.1.
import { run, type CommandRecorder } from '../exec/run.js';
import { parseIls, type IlsInode } from '../../parsers/ils.js';
import type { ParseResult } from '../../parsers/types.js';
import { WALK_TIMEOUT_MS, offsetArgs } from './limits.js';

async function ils(image: string, offsetSectors: number, flags: readonly string[], recorder: CommandRecorder): Promise<ParseResult<IlsInode>> {
  const result = await run('ils', [...flags, ...offsetArgs(offsetSectors), image], { timeoutMs: WALK_TIMEOUT_MS, recorder, maxBufferBytes: 1 << 30 });
  return parseIls(result.stdout.toString('latin1'));
}

/** Allocated inodes with link count 0, and reserved inode 1 (the caller drops it). */
export function ilsUnlinkedAllocated(image: string, offsetSectors: number, recorder: CommandRecorder): Promise<ParseResult<IlsInode>> {
  return ils(image, offsetSectors, ['-a', '-L'], recorder);
}

/** Unallocated inodes that were once used: deleted files. */
export function ilsRemoved(image: string, offsetSectors: number, recorder: CommandRecorder): Promise<ParseResult<IlsInode>> {
  return ils(image, offsetSectors, ['-r'], recorder);
}
