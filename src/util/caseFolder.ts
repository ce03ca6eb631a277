// The case's own folders (recovered/, extracted/, lsof/, reports/): made when first needed, and a
// failure said as what is in the way, not as an internal error.
import fs from 'node:fs';
import { UnlinkedError, errnoCode, oneLine } from '../errors.js';

const WHY: Readonly<Record<string, string>> = {
  EEXIST: 'a file of that name is in the way',
  ENOTDIR: 'a file is in the way on its path',
  ENOSPC: 'its file system has no space or no free inodes left',
  EROFS: 'its file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'not permitted (an immutable folder?)',
  EDQUOT: 'the disk quota is used up',
};

/** Make `dir` (and its parents) when missing; one line saying why when it cannot be. */
export function caseFolder(dir: string): string {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (error) {
    const code = errnoCode(error);
    throw new UnlinkedError('CASE', `cannot create the case folder ${dir}: ${(code === undefined ? undefined : WHY[code]) ?? oneLine(error)}`, { cause: error });
  }
  return dir;
}
