// Give an O_TMPFILE file a name again: linkat(AT_SYMLINK_FOLLOW) through /proc/PID/fd/N, as `ln -L`
// does. The one operation of unlinked that writes to the live file system, so it is opt-in and logged.
import fs from 'node:fs';
import { UnlinkedError } from '../errors.js';
import { run, type CommandRecorder } from '../exec/run.js';
import type { ItemRow } from '../store/items.js';
import { checkProcess } from './custody.js';
import { exactIno } from '../util/u64.js';

export async function relinkItem(item: ItemRow, target: string, recorder: CommandRecorder): Promise<void> {
  if (item.fd === null) {
    throw new UnlinkedError('BAD_INPUT', `item ${item.id} is a ${item.kind} with no fd: only a file held by an fd can be relinked; use \`unlinked recover --item ${item.id}\``);
  }
  const problem = checkProcess(item);
  if (problem !== null) throw new UnlinkedError('FAILED', `cannot relink item ${item.id}: ${problem}`);
  if (fs.existsSync(target)) throw new UnlinkedError('EXISTS', `${target} exists already: relink never replaces a file`);
  const source = `/proc/${item.pid}/fd/${item.fd}`;
  const ino = exactIno(fs.statSync(source), () => fs.statSync(source, { bigint: true }));
  if (ino !== item.inode) throw new UnlinkedError('FAILED', `cannot relink item ${item.id}: fd ${item.fd} of process ${item.pid} now refers to inode ${ino}, not ${item.inode}`);
  try {
    await run('ln', ['-L', '--', source, target], { timeoutMs: 30_000, recorder });
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    if (/No such file or directory/.test(text)) {
      // An O_TMPFILE file that was given a name (linkat) and unlinked again lost I_LINKABLE for good;
      // its fd still shows the "#INODE" name, so the walk cannot tell it from one never named.
      const what = item.kind === 'tmpfile'
        ? 'an O_TMPFILE file that had a name once and was unlinked again (the kernel allows one link only to a file never named)'
        : 'an ordinary deleted file (link count 0, not opened with O_TMPFILE)';
      throw new UnlinkedError('FAILED', `the kernel refuses to link item ${item.id}: it is ${what}, which can never get a name again; use \`unlinked recover --item ${item.id}\` to copy it`);
    }
    if (/cross-device/i.test(text)) {
      throw new UnlinkedError('FAILED', `${target} is on another file system than item ${item.id}: a link must stay on the same mount; choose a path on ${item.mount_point === null ? 'the same file system' : item.mount_point.toString()}`);
    }
    throw error;
  }
}
