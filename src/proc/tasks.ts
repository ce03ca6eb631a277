// A process whose main thread has exited while other threads run (a zombie leader) shows empty fd,
// maps and exe under /proc/PID: what they hold is read through one of the threads that still run.
import fs from 'node:fs';
import { parseProcStat } from '../../parsers/procfs.js';

/** BASE/task/TID of a thread of the process that has not exited (BASE is /proc/PID), or null. */
export function liveTaskDir(base: string, pid: number): string | null {
  let tids: string[];
  try {
    tids = fs.readdirSync(`${base}/task`);
  } catch {
    return null;
  }
  for (const tid of tids) {
    if (Number(tid) === pid) continue;
    try {
      const state = parseProcStat(fs.readFileSync(`${base}/task/${tid}/stat`, 'latin1'))?.state;
      if (state !== undefined && state !== 'Z' && state !== 'X') return `${base}/task/${tid}`;
    } catch {
      // that thread ended meanwhile
    }
  }
  return null;
}
