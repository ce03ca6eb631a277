// A responder's shell may sit in a directory deleted meanwhile (by an attacker, by a cleanup): no
// worker thread or program could start from there, and no relative path can name a file in it.
import path from 'node:path';
import { UnlinkedError } from '../errors.js';

let cwdGone = false;

/** At start: a deleted working directory is left for `/`; relative paths are refused from then on. */
export function leaveDeletedCwd(): void {
  try {
    process.cwd();
  } catch {
    cwdGone = true;
    process.chdir('/');
  }
}

/** FILE as an absolute path (path.resolve), refused when it is relative to a deleted directory. */
export function absolutePath(file: string): string {
  if (cwdGone && !path.isAbsolute(file)) {
    throw new UnlinkedError('BAD_INPUT', `the current directory no longer exists (deleted): ${JSON.stringify(file)} cannot be found from it; cd to another directory, or give the path absolute`);
  }
  return path.resolve(file);
}

/**
 * FILE absolute the way the kernel would resolve it from here: a relative one joined to the current
 * directory as text, nothing normalised ("a/../b" is not "b" when a is a symbolic link).
 */
export function absoluteAsGiven(file: string): string {
  if (path.isAbsolute(file)) return file;
  if (cwdGone) return absolutePath(file);
  return `${process.cwd().replace(/\/$/, '')}/${file}`;
}
