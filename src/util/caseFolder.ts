// The case's own folders (recovered/, extracted/, lsof/, reports/): made when first needed, and a
// failure said as what is in the way, not as an internal error.
import fs from 'node:fs';
import path from 'node:path';
import { UnlinkedError, errnoCode, oneLine } from '../errors.js';
import { userText } from './access.js';
import { tryOr } from './tryOr.js';

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
  // Before a folder is made there, and again after: one another user made meanwhile in a shared folder (/tmp).
  refuseChangeable(dir, what);
  try {
    makeDirs(dir);
  } catch (error) {
    throw new UnlinkedError('CASE', `cannot create ${what} ${dir}: ${cannotWriteWhy(error)}`, { cause: error });
  }
  refuseChangeable(dir, what);
  return dir;
}

function refuseChangeable(dir: string, what: string): void {
  const why = changeableBy(dir);
  if (why === null) return;
  throw new UnlinkedError('CASE', `refusing ${what} ${dir}: ${why}: another user could swap a folder or file of the case for a symbolic link and have this run write through it (onto /etc/shadow, say); ` +
    'put the case in a folder only root (or this user) can change, e.g. --case /root/case-42 or media mounted by root; nothing was written there');
}

/**
 * Root, this user, and the user sudo runs unlinked for (who could change what sudo runs anyway): the
 * owners whose folders the case may be in.
 */
function trustedIds(): { uids: Set<number>; gids: Set<number> } {
  const uids = new Set([0, process.geteuid?.() ?? 0]);
  const gids = new Set([0, process.getegid?.() ?? 0]);
  if (process.geteuid?.() === 0) {
    for (const [ids, name] of [[uids, 'SUDO_UID'], [gids, 'SUDO_GID']] as const) {
      const id = process.env[name];
      if (id !== undefined && /^\d+$/.test(id)) ids.add(Number(id));
    }
  }
  return { uids, gids };
}

/**
 * Why another user could change what `dir` leads to, or null: a folder on its way (symbolic links
 * followed, each as the folder holding it names it) that user owns, or may write in (its group or
 * others) without the sticky bit, or a shared sticky folder (/tmp) whose next step that user owns. A
 * case there could have its recovered/ or case.sqlite swapped for a link to a file of the host
 * between any check and the write; in folders only trusted owners can change, nothing can be swapped.
 * `file`: `dir` names a file made beside and renamed over (a report), never written through: its
 * folder may be a shared sticky one (/tmp), as long as what is at its name there is no other user's.
 */
export function changeableBy(dir: string, file = false): string | null {
  const { uids, gids } = trustedIds();
  const mode = (stat: fs.Stats): string => `mode ${(stat.mode & 0o7777).toString(8).padStart(4, '0')}`;
  const writableByOthers = (stat: fs.Stats): boolean => (stat.mode & 0o002) !== 0 || ((stat.mode & 0o020) !== 0 && !gids.has(stat.gid));
  const steps = path.resolve(dir).split('/').filter((step) => step !== '');
  let folder = '/';
  let folderStat = fs.statSync('/');
  for (let links = 0; ;) {
    if (!uids.has(folderStat.uid)) return `${folder} is owned by ${userText(folderStat.uid)}`;
    const step = steps.shift();
    if (step === undefined) break;
    if (step === '.') continue;
    if (step === '..') {
      // The folder above one reached through checked folders was checked on the way.
      folder = path.dirname(folder);
      folderStat = fs.statSync(folder);
      continue;
    }
    const next = path.join(folder, step);
    // A file on the way, a folder this user may not enter: makeDirs says what is wrong with such a path.
    const nextStat = tryOr(() => fs.lstatSync(next, { throwIfNoEntry: false }), null);
    if (nextStat === null) return null;
    // Not there: made by this run, in a folder checked above (and the made one checked again after).
    if (nextStat === undefined) return writableByOthers(folderStat) && (folderStat.mode & 0o1000) === 0 ? `${folder} may be written by others (${mode(folderStat)})` : null;
    if (writableByOthers(folderStat)) {
      if ((folderStat.mode & 0o1000) === 0) return `${folder} may be written by others (${mode(folderStat)})`;
      // Sticky: only its owner may rename or remove what is in it.
      if (!uids.has(nextStat.uid)) return `${next}, in the shared folder ${folder} (${mode(folderStat)}), is owned by ${userText(nextStat.uid)}`;
    }
    if (nextStat.isSymbolicLink()) {
      // As the kernel: at most 40 links on the way (ELOOP); makeDirs says what is wrong with such a path.
      if (++links > 40) return null;
      const target = tryOr(() => fs.readlinkSync(next), null);
      if (target === null) return null;
      steps.unshift(...target.split('/').filter((part) => part !== ''));
      if (target.startsWith('/')) {
        folder = '/';
        folderStat = fs.statSync('/');
      }
      continue;
    }
    if (file && steps.length === 0) return null;
    folder = next;
    folderStat = nextStat;
  }
  // The folder itself: what is made in it (case.sqlite, recovered/) must not be anyone else's to replace.
  return writableByOthers(folderStat) ? `${folder} may be written by others (${mode(folderStat)})` : null;
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
