// fls adapter: `fls -r -d -p [-o SECTORS] IMAGE`, the deleted names and the inode each last pointed
// at, parsed by parsers/fls.ts as it comes (tools/lines.ts). Names are raw bytes: stdout is read as
// latin1, one char per byte.
import { run, type CommandRecorder } from '../exec/run.js';
import { parseFlsPiece, type FlsEntry } from '../../parsers/fls.js';
import type { ParseResult } from '../../parsers/types.js';
import { WALK_OUTPUT_MAX_BYTES, WALK_TIMEOUT_MS, offsetArgs } from './limits.js';
import { parsedByLines } from './lines.js';

/** With `take`: each entry handed to it as it is read, none kept (`records` empty). */
export async function flsDeletedNames(image: string, offsetSectors: number, inodesCount: number, recorder: CommandRecorder, take?: (entry: FlsEntry) => void): Promise<ParseResult<FlsEntry>> {
  const lines = parsedByLines('fls', WALK_OUTPUT_MAX_BYTES, 0, (text, linesBefore) => parseFlsPiece(text, linesBefore, { inodesCount }), take);
  // Silent while it walks directories without deleted names: only the walk's timeout stops it.
  await run('fls', ['-r', '-d', '-p', ...offsetArgs(offsetSectors), image], { timeoutMs: WALK_TIMEOUT_MS, recorder, streamStdout: { consume: lines.consume, stallMs: WALK_TIMEOUT_MS } });
  return lines.finish();
}
