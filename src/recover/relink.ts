// Give an O_TMPFILE file a name again: linkat(AT_SYMLINK_FOLLOW) through /proc/PID/fd/N, as `ln -L`
// does. The one operation of unlinked that writes to the live file system, so it is opt-in and logged.
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode, oneLine, UnlinkedError, usageError } from '../errors.js';
import { devString } from '../../parsers/procfs.js';
import { run, type CommandRecorder } from '../exec/run.js';
import type { ItemRow } from '../store/items.js';
import { checkProcess, holderFdPath, sameBirth, sameFile } from './custody.js';
import { u64 } from '../../parsers/types.js';
import { tryOr } from '../util/tryOr.js';
import { birthTimeNs } from '../util/statx.js';
import { absoluteAsGiven } from '../util/cwd.js';
import { displayBytes, displayText, quotedArg } from '../util/bytes.js';

/** Link the item's file at `to`; the absolute path it was given (as the record of `ln` names it). */
export async function relinkItem(item: ItemRow, to: string, recorder: CommandRecorder, elsewhere: string | null, caseDir: string): Promise<string> {
  if (to === '') throw usageError('--to is empty: give the new file\'s full name, in a folder that exists');
  // "DIR/" names a folder, not the new file: ln would put it at DIR/NAME, or fail with ENOENT when DIR is missing.
  if (to.endsWith('/')) throw usageError(`--to ${to} ends in '/': give the new file's full name (e.g. ${to}rescued.bin), in a folder that exists`);
  // Absolute from here on, not normalised (the kernel resolves '..' after a symbolic link): the
  // checks, ln (which runs in /) and its record name one path.
  const target = absoluteAsGiven(to);
  if (elsewhere !== null) throw new UnlinkedError('FAILED', `cannot relink item ${item.id}: ${elsewhere.replace(/^not copied: /, '').replace('; recover on the host itself', '; relink on the host itself')}`);
  // The kernel decides which file held by an fd takes a name (linkat: I_LINKABLE is on the inode,
  // not on the fd, so an O_TMPFILE file reopened through /proc is an `fd` item and still linkable):
  // only what no fd holds, or what lives on no mount a path reaches, is refused before.
  if (item.fd === null || item.kind === 'memfd') {
    throw new UnlinkedError(
      'BAD_INPUT',
      item.kind === 'memfd'
        ? `item ${item.id} is a memfd: it lives on the kernel's internal mount, which no path reaches, so it can never get a name; use \`unlinked recover --item ${item.id}\` to copy it`
        : `item ${item.id} is a ${item.kind} item, held by no fd: relink names only a file an fd holds; use \`unlinked recover --item ${item.id}\` to copy it`,
    );
  }
  const problem = checkProcess(item);
  if (problem !== null) throw new UnlinkedError('FAILED', `cannot relink item ${item.id}: ${problem}`);
  // The folder the kernel creates the name in: the text before the last '/', as given ("a/../b" is
  // not "b" when a is a symbolic link).
  const directory = path.dirname(target);
  // Never a name in the case folder: recover, report and triage write there by name, and would
  // rewrite the live file through it (a held evidence file renamed SHA256SUMS or items.csv).
  const inCase = insideCase(directory, caseDir);
  if (inCase !== null) throw new UnlinkedError('BAD_INPUT', `cannot relink item ${item.id} as ${target}: ${inCase}; choose a path outside it`);
  // lstat: a symbolic link is a name too, dangling or not (existsSync follows it: ln then failed with EEXIST).
  if (tryOr(() => fs.lstatSync(target, { throwIfNoEntry: false }), undefined) !== undefined) throw new UnlinkedError('EXISTS', `${target} exists already: relink never replaces a file`);
  if (fs.statSync(directory, { throwIfNoEntry: false })?.isDirectory() !== true) throw noDirectory(item, target, directory);
  const source = holderFdPath(item);
  // Exact: inode numbers past 2^53 (overlayfs xino) and the birth time to the nanosecond.
  let stat: fs.BigIntStats;
  try {
    stat = fs.statSync(source, { bigint: true });
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') throw fdClosed(item);
    throw new UnlinkedError('FAILED', `cannot relink item ${item.id}: cannot stat ${source}: ${oneLine(error)}`);
  }
  const moved = sameFile(item, devString(stat.dev), u64(stat.ino)) ?? sameBirth(item, birthTimeNs(stat));
  if (moved !== null) throw new UnlinkedError('FAILED', `cannot relink item ${item.id}: ${moved}`);
  // Relinked before (by unlinked or anyone): another link would be one more name on the live file system.
  if (stat.nlink !== 0n) {
    const where = item.mount_point === null
      ? `its mount point is unknown: search its file system (device ${item.dev ?? '?'}) for inode ${item.inode ?? '?'} with \`find MOUNTPOINT -xdev -inum ${item.inode ?? '?'}\``
      : `find it with \`find ${quotedArg(displayBytes(item.mount_point))} -xdev -inum ${item.inode ?? '?'}\``;
    throw new UnlinkedError('FAILED', `cannot relink item ${item.id}: it has a name again (link count ${stat.nlink}): ${where}`);
  }
  try {
    // -T: PATH is the new name itself. Without it, a directory made at PATH after the check above
    // got the link inside it (PATH/N), and relink said it had linked PATH.
    // In the C locale: its messages are matched below (a German ln says "Datei oder Verzeichnis nicht gefunden").
    await run('ln', ['-L', '-T', '--', source, target], { timeoutMs: 30_000, recorder, env: { LC_ALL: 'C' } });
    return target;
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    if (/File exists/.test(text)) throw new UnlinkedError('EXISTS', `${target} exists already (it was created after relink checked): relink never replaces a file, and nothing was linked`);
    if (/No such file or directory/.test(text)) {
      // ENOENT also means the folder went away (or is a removed one still held open) or the holder
      // closed the fd since the checks above: those are said as they are, before the file is blamed.
      const reason = noEntryReason(item, target, directory, source);
      if (reason !== null) throw reason;
      // The kernel links a file of link count 0 only when it was made by O_TMPFILE without O_EXCL
      // and never named (I_LINKABLE, on the inode): a file deleted from its name, an O_EXCL one, or
      // one given a name and unlinked again is refused, whatever fd holds it. An O_TMPFILE file
      // named once keeps its "#INODE" name, so which of these it is cannot be told here.
      const what = item.kind === 'tmpfile'
        ? 'an O_TMPFILE file opened with O_EXCL (never linkable), or one that had a name once and was unlinked again'
        : 'a file deleted from its name, or an O_TMPFILE file opened with O_EXCL or named once and unlinked again';
      throw new UnlinkedError('FAILED', `the kernel refuses to link item ${item.id} (ENOENT): it is ${what}, which can never get a name again; use \`unlinked recover --item ${item.id}\` to copy it`);
    }
    if (/cross-device/i.test(text)) {
      throw new UnlinkedError('FAILED', `${target} is on another file system than item ${item.id}: a link must stay on the same mount; choose a path on ${item.mount_point === null ? 'the same file system' : displayBytes(item.mount_point)}`);
    }
    throw error;
  }
}

function noDirectory(item: ItemRow, target: string, directory: string): UnlinkedError {
  return new UnlinkedError('BAD_INPUT', `cannot relink item ${item.id} as ${target}: the directory ${directory} does not exist`);
}

/** Why ln found no entry when it is not the file's fault: the folder or the holder's fd; null when both are still there. */
function noEntryReason(item: ItemRow, target: string, directory: string, source: string): UnlinkedError | null {
  const folder = fs.statSync(directory, { throwIfNoEntry: false });
  if (folder?.isDirectory() !== true) return noDirectory(item, target, directory);
  // A folder removed while something still holds it open (a process's cwd, /proc/PID/fd/N) takes no new name.
  if (folder.nlink === 0) return new UnlinkedError('BAD_INPUT', `cannot relink item ${item.id} as ${target}: the directory ${directory} was removed (it has no name, nothing can be created in it)`);
  const held = fs.statSync(source, { throwIfNoEntry: false });
  return held === undefined ? fdClosed(item) : null;
}

function fdClosed(item: ItemRow): UnlinkedError {
  return new UnlinkedError('FAILED', `cannot relink item ${item.id}: fd ${item.fd ?? '?'} of process ${item.pid} was closed after the snapshot`);
}

/**
 * Why DIRECTORY is the case folder or inside it, resolved as the kernel resolves it (symbolic links,
 * then '..'; realpath(3), not node's, which drops 'x/..' as text first); null when it is not, or
 * when it does not resolve (the name then cannot be created: said later).
 */
function insideCase(directory: string, caseDir: string): string | null {
  const real = tryOr(() => fs.realpathSync.native(directory), null);
  const realCase = tryOr(() => fs.realpathSync.native(caseDir), null);
  if (real === null || realCase === null) return null;
  const relative = path.relative(realCase, real);
  if (relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) return null;
  return `its folder ${relative === '' ? 'is the case directory' : `${displayText(real)} is inside the case directory`} ${displayText(realCase)}, whose files unlinked writes by name`;
}
