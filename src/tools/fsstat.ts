// fsstat adapter: `fsstat [-o SECTORS] IMAGE`, file system facts, parsed by parsers/fsstat.ts.
import { run, type CommandRecorder } from '../exec/run.js';
import { parseFsstat, type FsstatInfo } from '../../parsers/fsstat.js';
import { SHORT_TIMEOUT_MS, offsetArgs } from './limits.js';

/** fsstat 4.11.1 walks the orphan chain itself and prints a looping one forever: cap its output. */
const FSSTAT_MAX_BYTES = 16 * 1024 * 1024;

export async function fsstat(image: string, offsetSectors: number, recorder: CommandRecorder): Promise<FsstatInfo> {
  const result = await run('fsstat', [...offsetArgs(offsetSectors), image], { timeoutMs: SHORT_TIMEOUT_MS, recorder, maxBufferBytes: FSSTAT_MAX_BYTES });
  return parseFsstat(result.stdout.toString('latin1'));
}
