// What a whole-host snapshot can read here, for tests that walk every process.
import fs from 'node:fs';

/**
 * The exit code of a whole-host snapshot or triage that otherwise went well: 3 (partly done) when
 * some process here cannot be read even by root (a sandbox's init, a security module: its exe link
 * refuses EACCES), else 0. Checked the way the walk meets it.
 */
export function wholeHostExit(): 0 | 3 {
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      fs.readlinkSync(`/proc/${name}/exe`);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') return 3;
    }
  }
  return 0;
}
