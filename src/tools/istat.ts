// istat adapter: `istat [-o SECTORS] IMAGE INODE`, one inode's metadata and block list, parsed by
// parsers/istat.ts. One process per inode: for many inodes use debugfsStatMany instead.
import { run, type CommandRecorder } from '../exec/run.js';
import { parseIstat, type IstatInfo } from '../../parsers/istat.js';
import { SHORT_TIMEOUT_MS, offsetArgs } from './limits.js';

export async function istat(image: string, offsetSectors: number, inode: number, recorder: CommandRecorder): Promise<IstatInfo> {
  // istat prints times in the local zone, "(CET)" say; the parser reads "Deleted:" only as "(UTC)".
  const result = await run('istat', [...offsetArgs(offsetSectors), image, String(inode)], { timeoutMs: SHORT_TIMEOUT_MS, recorder, maxBufferBytes: 64 << 20, env: { TZ: 'UTC' } });
  return parseIstat(result.stdout.toString('latin1'));
}
