// A new output file that never replaces an existing one (a copy made before, another run's).
import fs from 'node:fs';
import path from 'node:path';

/**
 * A new file in dir: NAME, else NAME.2, NAME.3, ..., each opened with O_EXCL. `naming` hears each
 * name before it is tried: a record can name the file before it exists (a kill between the two
 * leaves a record of a file never made, not a file no record names).
 */
export function createUnique(dir: string, name: string, mode: number, naming?: (file: string) => void): { file: string; fd: number } {
  for (let attempt = 1; ; attempt++) {
    const file = path.join(dir, attempt === 1 ? name : `${name}.${attempt}`);
    // A name taken already is not even named (a record must never name another run's file); O_EXCL decides.
    if (fs.lstatSync(file, { throwIfNoEntry: false }) !== undefined) continue;
    naming?.(file);
    try {
      return { file, fd: fs.openSync(file, 'wx', mode) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}
