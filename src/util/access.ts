// Who may do what to a file of the case: a refusal said as the file, its owner and this user,
// instead of "missing" (existsSync is false on EACCES) or SQLite's words after a whole walk.
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../errors.js';
import { tryOr } from './tryOr.js';

/** "root (uid 0)", or "uid 1234" when /etc/passwd does not name it. */
export function userText(uid: number): string {
  const passwd = tryOr(() => fs.readFileSync('/etc/passwd', 'utf8'), '');
  const name = passwd.split('\n').map((line) => line.split(':')).find((fields) => fields[2] === String(uid))?.[0];
  return name === undefined || name === '' ? `uid ${uid}` : `${name} (uid ${uid})`;
}

/** This process's effective user, as userText says it: "qauser (uid 1000)". */
export function currentUser(): string {
  return userText(process.geteuid?.() ?? -1);
}

/** "owned by root (uid 0), mode 0700" */
export function ownerText(file: string): string {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (stat === undefined) return 'its owner unknown';
  return `owned by ${userText(stat.uid)}, mode ${(stat.mode & 0o7777).toString(8).padStart(4, '0')}`;
}

/**
 * The errno of access(2) for `mode` (fs.constants.R_OK, W_OK, X_OK), or null when allowed. EACCES is
 * permissions; EROFS read-only media; EPERM an immutable file.
 */
export function accessError(file: string, mode: number): string | null {
  try {
    fs.accessSync(file, mode);
    return null;
  } catch (error) {
    return errnoCode(error) ?? 'EIO';
  }
}

/** The first folder on the way to `file` (from /) this user may not enter (search permission), or null. */
export function unenterableFolder(file: string): string | null {
  const folders: string[] = [];
  for (let at = path.dirname(path.resolve(file)); ; at = path.dirname(at)) {
    folders.unshift(at);
    if (path.dirname(at) === at) break;
  }
  for (const folder of folders) {
    if (!fs.existsSync(folder)) return null;
    if (accessError(folder, fs.constants.X_OK) === 'EACCES') return folder;
  }
  return null;
}
