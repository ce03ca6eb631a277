// A new output file that never replaces an existing one (a copy made before, another run's).
import fs from 'node:fs';
import path from 'node:path';

/** A new file in dir: NAME, else NAME.2, NAME.3, ..., each opened with O_EXCL. */
export function createUnique(dir: string, name: string, mode: number): { file: string; fd: number } {
  for (let attempt = 1; ; attempt++) {
    const file = path.join(dir, attempt === 1 ? name : `${name}.${attempt}`);
    try {
      return { file, fd: fs.openSync(file, 'wx', mode) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}
