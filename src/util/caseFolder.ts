// The case's own folders (recovered/, extracted/, lsof/, reports/): made when first needed, and a
// failure said as what is in the way, not as an internal error.
import fs from 'node:fs';
import path from 'node:path';
import { UnlinkedError, errnoCode, oneLine } from '../errors.js';

const WHY: Readonly<Record<string, string>> = {
  EEXIST: 'a file of that name is in the way',
  ENOTDIR: 'a file is in the way on its path',
  ENOSPC: 'its file system has no space or no free inodes left',
  EROFS: 'its file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'not permitted (an immutable folder, or a kernel file system such as /sys)',
  ENOENT: 'no folder can be made there (a kernel file system such as /proc)',
  EDQUOT: 'the disk quota is used up',
  EDANGLING: 'a symbolic link to nowhere is in the way',
};

/** Make `dir` (and its parents) when missing; one line saying why when it cannot be. */
export function caseFolder(dir: string, what = 'the case folder'): string {
  try {
    makeDirs(dir);
  } catch (error) {
    throw new UnlinkedError('CASE', `cannot create ${what} ${dir}: ${cannotWriteWhy(error)}`, { cause: error });
  }
  return dir;
}

/** Why a file or folder of the case could not be made or written, in words (its file system read-only, full, ...). */
export function cannotWriteWhy(error: unknown): string {
  const code = errnoCode(error);
  return (code === undefined ? undefined : WHY[code]) ?? oneLine(error);
}

/**
 * mkdir -p, one level at a time from the nearest folder that exists: node's recursive mkdir loops
 * for ever under /proc (mkdir says ENOENT, the parent exists), synchronously, deaf to signals.
 */
function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let at = path.resolve(dir); fs.lstatSync(at, { throwIfNoEntry: false }) === undefined; at = path.dirname(at)) {
    missing.unshift(at);
    if (path.dirname(at) === at) break;
  }
  // A symbolic link to nowhere on the way: mkdir would say EEXIST, stat ENOENT.
  const first = path.dirname(missing[0] ?? path.resolve(dir));
  if (missing.length > 0 && !fs.existsSync(first)) throw Object.assign(new Error(`${first} is a symbolic link to nowhere`), { code: 'EDANGLING' });
  for (const level of missing) {
    try {
      // 0755 at most whatever the umask (000 made every folder of the case writable by anyone on the
      // host: a copy's 0400 protects nothing in a folder where anyone can rename it and put another).
      fs.mkdirSync(level, 0o755);
    } catch (error) {
      // Made meanwhile by another run of the same case: fine when it is a folder.
      if (errnoCode(error) !== 'EEXIST' || !fs.statSync(level).isDirectory()) throw error;
    }
  }
  const made = fs.statSync(dir, { throwIfNoEntry: false });
  if (made === undefined) throw Object.assign(new Error(`${dir} is a symbolic link to nowhere`), { code: 'EDANGLING' });
  if (!made.isDirectory()) throw Object.assign(new Error(`${dir} is not a folder`), { code: 'EEXIST' });
}
