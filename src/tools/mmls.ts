// mmls adapter: `mmls IMAGE`, the partition table (DOS/MBR, GPT, ...), parsed by parsers/mmls.ts.
import { run, type CommandRecorder } from '../exec/run.js';
import { UnlinkedError } from '../errors.js';
import { mmlsComplaint, parseMmls, type MmlsResult } from '../../parsers/mmls.js';
import { SHORT_TIMEOUT_MS } from './limits.js';

/** A table read from mmls' output: its header said the sector size. */
export type MmlsTable = MmlsResult & { sectorSize: number };

/**
 * null when mmls finds no partition table: a bare file system (mmls exits 1 and prints nothing). A
 * table mmls finds but cannot read (an entry past the end of a truncated image, two table types at
 * one offset: see mmlsComplaint) is `{ unreadable: its message }`: not the same as no table at all;
 * so is an output whose header gives no sector size (no offset could be read from it).
 */
export async function mmls(image: string, recorder: CommandRecorder): Promise<MmlsTable | { unreadable: string } | null> {
  let result: Awaited<ReturnType<typeof run>>;
  try {
    result = await run('mmls', [image], { timeoutMs: SHORT_TIMEOUT_MS, recorder, okExitCodes: [0, 1] });
  } catch (error) {
    if (error instanceof UnlinkedError && error.code === 'TOOL_FAILED') return { unreadable: error.message };
    throw error;
  }
  if (result.exitCode !== 0) {
    const complaint = mmlsComplaint(result.stderr);
    return complaint === null ? null : { unreadable: complaint };
  }
  const parsed = parseMmls(result.stdout.toString('latin1'));
  if (parsed.records.length === 0 && parsed.warnings.length === 0) return null;
  const { sectorSize } = parsed;
  if (sectorSize === null) return { unreadable: 'its output has no "Units are in N-byte sectors" line in its header' };
  return { ...parsed, sectorSize };
}
