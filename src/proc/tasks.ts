// A process whose main thread has exited while other threads run (a zombie leader) shows empty fd,
// maps, map_files and exe under /proc/PID: what they hold is read through one of the threads that
// still run.
import fs from 'node:fs';
import path from 'node:path';
import { parseProcStat } from '../../parsers/procfs.js';
import { tryOr } from '../util/tryOr.js';

/**
 * /proc/TID of a thread of the process that has not exited (BASE is /proc/PID), or null. Not
 * BASE/task/TID: a task directory has fd, fdinfo, maps and exe but no map_files, which a thread's
 * own directory (there, though readdir of /proc does not list it) has.
 */
export function liveTaskDir(base: string, pid: number): string | null {
  return chooseLiveTask(base, pid)?.dir ?? null;
}

/**
 * As liveTaskDir, and `tied`: the live threads whose fd table (of another size) as many threads
 * share as the chosen one's. Then which table was the process's cannot be told (the leader's own is
 * gone): the chosen thread's is taken for it, and the caller says so.
 */
export function chooseLiveTask(base: string, pid: number): { dir: string; tid: number; tied: number[] } | null {
  let tids: string[];
  try {
    tids = fs.readdirSync(`${base}/task`);
  } catch {
    return null;
  }
  // Of the threads still running, one whose fd table most of them share (by fd count): a thread
  // with a table of its own (unshare(CLONE_FILES)) is not the process's.
  const live: Array<{ tid: string; count: number }> = [];
  for (const tid of tids) {
    if (Number(tid) === pid) continue;
    try {
      const state = parseProcStat(fs.readFileSync(`${base}/task/${tid}/stat`, 'latin1'))?.state;
      if (state !== undefined && state !== 'Z' && state !== 'X') live.push({ tid, count: fdCount(`${base}/task/${tid}/fd`) });
    } catch {
      // that thread ended meanwhile
    }
  }
  const shared = new Map<number, number>();
  for (const { count } of live) shared.set(count, (shared.get(count) ?? 0) + 1);
  const chosen = live.reduce<{ tid: string; count: number } | null>((best, thread) => (best === null || (shared.get(thread.count) ?? 0) > (shared.get(best.count) ?? 0) ? thread : best), null);
  if (chosen === null) return null;
  const tied = live.filter((thread) => thread.count !== chosen.count && shared.get(thread.count) === shared.get(chosen.count)).map((thread) => Number(thread.tid));
  return { dir: `${path.dirname(base)}/${chosen.tid}`, tid: Number(chosen.tid), tied };
}

/**
 * How many fds an fd directory lists: its size since Linux 6.2 (fs/proc/fd.c proc_fd_getattr, in
 * 6.8, not in 6.1.166); before, its size is 0 whatever it holds (seen on 4.15, 5.4, 5.10, 5.15 and
 * 6.1), and its entries are counted instead.
 */
export function fdCount(dir: string): number {
  const size = fs.statSync(dir).size;
  return size > 0 ? size : fs.readdirSync(dir).length;
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

/** The process (thread group) of a PID, which may be a thread's TID (/proc/TID/status: Tgid); itself when unknown. */
export function processOf(pid: number, procRoot = '/proc'): number {
  const tgid = tryOr(() => fs.readFileSync(`${procRoot}/${pid}/status`, 'latin1'), '').match(/^Tgid:\s+(\d+)$/m)?.[1];
  return tgid === undefined ? pid : Number(tgid);
}
