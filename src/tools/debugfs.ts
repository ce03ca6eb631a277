// debugfs adapter: only ever `debugfs -c` (catastrophic mode: read-only, no bitmaps), never -w.
// A partition inside an image is named "IMAGE?offset=BYTES" (e2fsprogs unix_io option).
import { run, type CommandRecorder } from '../exec/run.js';
import { UnlinkedError } from '../errors.js';
import { parseDebugfsStat, parseLsdel, type DebugfsStat, type LsdelEntry } from '../../parsers/debugfs.js';
import type { ParseResult } from '../../parsers/types.js';

function device(image: string, offsetSectors: number): string {
  if (image.includes('?')) throw new UnlinkedError('BAD_INPUT', `debugfs cannot open a path containing "?": ${image} (link it under another name)`);
  return offsetSectors === 0 ? image : `${image}?offset=${offsetSectors * 512}`;
}

export async function debugfsStat(image: string, offsetSectors: number, inode: number, recorder: CommandRecorder): Promise<DebugfsStat> {
  const result = await run('debugfs', ['-c', '-R', `stat <${inode}>`, device(image, offsetSectors)], { timeoutMs: 60_000, recorder });
  return parseDebugfsStat(result.stdout.toString('latin1'));
}

/** `dump <N> OUT`: debugfs writes OUT itself; the caller checks what it wrote. */
export async function debugfsDump(image: string, offsetSectors: number, inode: number, output: string, recorder: CommandRecorder): Promise<void> {
  if (output.includes('"')) throw new UnlinkedError('BAD_INPUT', `debugfs cannot write to a path containing a double quote: ${output}`);
  await run('debugfs', ['-c', '-R', `dump <${inode}> "${output}"`, device(image, offsetSectors)], { timeoutMs: 30 * 60_000, recorder });
}

/** Deleted inodes that still own data blocks, in one pass over the inode table. */
export async function debugfsLsdel(image: string, offsetSectors: number, recorder: CommandRecorder): Promise<ParseResult<LsdelEntry>> {
  const result = await run('debugfs', ['-c', '-R', 'lsdel', device(image, offsetSectors)], { timeoutMs: 30 * 60_000, recorder, env: { TZ: 'UTC' } });
  return parseLsdel(result.stdout.toString('latin1'));
}
