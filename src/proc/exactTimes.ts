// The times of the few items whose file has a time of 2^53 s or more (see RoundedTimes): node 20's
// stat hands tv_sec through a double, so coreutils stat reads them again through the /proc link
// the walk stat'ed, one process per such item and none for any other.
//   stat -L --format='%d %i %X %Y %Z' -- /proc/4242/fd/3
//   27 402909 1796450410 9223372036854775807 1796450410
import { oneLine } from '../errors.js';
import { run, type CommandRecorder } from '../exec/run.js';
import { devString } from '../../parsers/procfs.js';
import { u64 } from '../../parsers/types.js';
import type { ExactTimes, RoundedTimes } from './types.js';

/** One stat of a file the walk has just stat'ed: a file system that stopped answering since is given up on. */
const STAT_TIMEOUT_MS = 10_000;
const ABANDON_AFTER_MS = 500;
/** stat's messages in English, whatever the responder's locale. */
const C_LOCALE = { LC_ALL: 'C' };

const LINE = /^(\d+) (\d+) (-?\d+) (-?\d+) (-?\d+)$/;

/** Seconds as the one form they are kept in: a number while exact, a bigint past 2^53. */
function seconds(text: string): number | bigint {
  const value = BigInt(text);
  return value >= -BigInt(Number.MAX_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/**
 * Each item's atime, mtime and ctime, exact, read again from the file it is (the same device and
 * inode as the walk saw); null, with a warning naming the item, where that could not be done: never
 * node's rounded value.
 */
export async function readExactTimes(rounded: readonly RoundedTimes[], recorder: CommandRecorder): Promise<{ times: ExactTimes[]; warnings: string[] }> {
  const times: ExactTimes[] = [];
  const warnings: string[] = [];
  for (const item of rounded) {
    const { pid, kind, fd, mapRange } = item;
    const what = `pid ${pid} ${fd === null ? (mapRange === null ? kind : `${kind} ${mapRange}`) : `fd ${fd}`}`;
    const unread = (why: string): void => {
      times.push({ pid, kind, fd, mapRange, atime: null, mtime: null, ctime: null });
      warnings.push(`${what}: its file has a time of 2^53 s or more, which node's stat rounds, and ${why}: its times are stored null`);
    };
    let text: string;
    try {
      const result = await run('stat', ['-L', '--format=%d %i %X %Y %Z', '--', item.file], {
        timeoutMs: STAT_TIMEOUT_MS, recorder, okExitCodes: [0, 1], abandonAfterMs: ABANDON_AFTER_MS, env: C_LOCALE,
      });
      if (result.exitCode !== 0) {
        unread(`stat of ${item.file} failed: ${result.stderr.trim().split('\n')[0] ?? `exit code ${result.exitCode}`}`);
        continue;
      }
      text = result.stdout.toString('utf8').trim();
    } catch (error) {
      unread(`stat of ${item.file} failed: ${oneLine(error)}`);
      continue;
    }
    const match = LINE.exec(text);
    if (match === null) {
      unread(`stat printed ${JSON.stringify(text)} for ${item.file}, not what was asked`);
      continue;
    }
    // The fd closed and its number reused since the walk: another file's times are not this item's.
    if (devString(BigInt(match[1] ?? '0')) !== item.dev || u64(BigInt(match[2] ?? '0')) !== item.inode) {
      unread(`${item.file} is another file now (closed since the walk)`);
      continue;
    }
    times.push({ pid, kind, fd, mapRange, atime: seconds(match[3] ?? ''), mtime: seconds(match[4] ?? ''), ctime: seconds(match[5] ?? '') });
  }
  return { times, warnings };
}
