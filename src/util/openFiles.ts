// How many files this process may open and holds, and running out of them said as such (EMFILE, ENFILE).
import fs from 'node:fs';
import { errnoCode, oneLine } from '../errors.js';
import { processLimit } from './addressSpace.js';
import { tryOr } from './tryOr.js';

/** The soft limit of open files (`ulimit -n`), or null: unlimited or not known. */
export function openFilesLimit(): number | null {
  return processLimit('Max open files');
}

/** How many files this process holds open now, or null when it cannot be told. */
export function openFilesNow(): number | null {
  // The listing's own fd is in it.
  return tryOr(() => fs.readdirSync('/proc/self/fd').length - 1, null);
}

/** A limit worth suggesting for `need` open files: the next multiple of 1024 above it. */
export function suggestedLimit(need: number): number {
  return Math.max(1024, Math.ceil((need + 1) / 1024) * 1024);
}

/**
 * Why an error is running out of open files, with what to do (`too many open files (ulimit -n 300):
 * raise it, e.g. \`ulimit -n 1024\``), or null when it is another error.
 */
export function outOfFiles(error: unknown): string | null {
  // A program that could not be started says so in its message (`spawn EMFILE`).
  const code = errnoCode(error) ?? /\b(EMFILE|ENFILE)\b/.exec(oneLine(error))?.[1];
  if (code === 'EMFILE') {
    const limit = openFilesLimit();
    return `too many open files (ulimit -n ${limit ?? '?'}; EMFILE): raise it, e.g. \`ulimit -n ${suggestedLimit(limit ?? 0)}\``;
  }
  if (code === 'ENFILE') return 'too many open files in the whole system (ENFILE: fs.file-max reached): close other programs, or raise it with `sysctl fs.file-max`';
  return null;
}
