// fls adapter: `fls -r -d -p [-o SECTORS] IMAGE`, the deleted names and the inode each last pointed
// at, parsed by parsers/fls.ts. Names are raw bytes: stdout is read as latin1, one char per byte.
import { run, type CommandRecorder } from '../exec/run.js';
import { parseFls, type FlsEntry } from '../../parsers/fls.js';
import type { ParseResult } from '../../parsers/types.js';
import { WALK_TIMEOUT_MS, offsetArgs } from './limits.js';

export async function flsDeletedNames(image: string, offsetSectors: number, inodesCount: number, recorder: CommandRecorder): Promise<ParseResult<FlsEntry>> {
  const result = await run('fls', ['-r', '-d', '-p', ...offsetArgs(offsetSectors), image], { timeoutMs: WALK_TIMEOUT_MS, recorder, maxBufferBytes: 1 << 30 });
  return parseFls(result.stdout.toString('latin1'), { inodesCount });
}
