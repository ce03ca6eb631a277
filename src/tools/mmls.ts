// mmls adapter: `mmls IMAGE`, the partition table (DOS/MBR, GPT, ...), parsed by parsers/mmls.ts.
import { run, type CommandRecorder } from '../exec/run.js';
import { UnlinkedError } from '../errors.js';
import { parseMmls, type MmlsResult } from '../../parsers/mmls.js';
import { SHORT_TIMEOUT_MS } from './limits.js';

/** null when mmls finds no partition table: a bare file system (mmls exits 1, "Cannot determine partition type"). */
export async function mmls(image: string, recorder: CommandRecorder): Promise<MmlsResult | null> {
  let stdout: Buffer;
  try {
    stdout = (await run('mmls', [image], { timeoutMs: SHORT_TIMEOUT_MS, recorder })).stdout;
  } catch (error) {
    if (error instanceof UnlinkedError && error.code === 'TOOL_FAILED') return null;
    throw error;
  }
  const parsed = parseMmls(stdout.toString('latin1'));
  return parsed.records.length === 0 ? null : parsed;
}
