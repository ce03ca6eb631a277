// A process whose main thread has exited while other threads run (a zombie leader) shows empty fd,
// maps, map_files and exe under /proc/PID: what they hold is read through one of the threads that
// still run.
import fs from 'node:fs';
import path from 'node:path';
import { parseProcStat } from '../../parsers/procfs.js';

/**
 * /proc/TID of a thread of the process that has not exited (BASE is /proc/PID), or null. Not
 * BASE/task/TID: a task directory has fd, fdinfo, maps and exe but no map_files, which a thread's
 * own directory (there, though readdir of /proc does not list it) has.
 */
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
      if (state !== undefined && state !== 'Z' && state !== 'X') return `${path.dirname(base)}/${tid}`;
    } catch {
      // that thread ended meanwhile
    }
  }
  return null;
}

/** /proc/PID, or a live thread's /proc/TID when PID is a zombie leader (see liveTaskDir). */
export function procDirOf(procRoot: string, pid: number): string {
  const base = `${procRoot}/${pid}`;
  let state: string | null = null;
  try {
    state = parseProcStat(fs.readFileSync(`${base}/stat`, 'latin1'))?.state ?? null;
  } catch {
    return base;
  }
  return state === 'Z' ? (liveTaskDir(base, pid) ?? base) : base;
}
