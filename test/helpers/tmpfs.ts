// A private tmpfs for a test's case directory: another file system than the evidence under
// /var/tmp, and one that no other process holds deleted files on. Unmounted even when a test fails.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Tmpfs {
  dir: string;
  cleanup(): void;
}

export function mountTmpfs(name: string, sizeMb = 256): Tmpfs {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `unlinked-${name}-`));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', dir]);
  return {
    dir,
    cleanup: () => {
      try {
        execFileSync('umount', [dir]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
