// Files and folders a killed run left in the case (SIGKILL gives it no chance to clean up): each is
// named with the PID of the unlinked process that made it, and removed by a later run once that
// PID no longer runs. One of a process that runs (another command on the same case) stays.
import fs from 'node:fs';
import path from 'node:path';
import { parseProcStat } from '../../parsers/procfs.js';
import { errnoCode } from '../errors.js';
import { tryOr } from './tryOr.js';

/** Whether a process of this PID runs (one of another user counts: EPERM). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) !== 'ESRCH';
  }
}

export interface Leftovers {
  /** The name of a leftover: its group that matched (the first defined) is the PID of the run that made it. */
  pattern: RegExp;
  /** Folders (removed with what they hold) rather than regular files. */
  folders?: boolean;
  /** Kept although its PID is gone: a file a row of the case names. */
  keep?: (file: string) => boolean;
}

/** Remove the leftovers in `dir` of runs no longer running; returns the paths removed. */
export function sweepLeftovers(dir: string, leftovers: Leftovers): string[] {
  const names = tryOr(() => fs.readdirSync(dir), [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const pid = leftovers.pattern.exec(name)?.slice(1).find((group) => group !== undefined);
    if (pid === undefined || Number(pid) === process.pid || isRunning(Number(pid))) continue;
    const file = path.join(dir, name);
    // Never through a symbolic link, never anything but what such a run makes.
    const stat = fs.lstatSync(file, { throwIfNoEntry: false });
    if (stat === undefined || (leftovers.folders === true ? !stat.isDirectory() : !stat.isFile())) continue;
    if (leftovers.keep?.(file) === true) continue;
    try {
      fs.rmSync(file, { recursive: leftovers.folders === true, force: true });
      removed.push(file);
    } catch {
      // left for the next run (a read-only case, a folder that cannot be written)
    }
  }
  return removed;
}

/**
 * This process as the writer of rows a later run may have to tell from a killed run's:
 * "PID START_TICK PID_NAMESPACE" (field 22 of /proc/self/stat: with the PID, one process of this boot).
 */
export function thisWriter(): string {
  const start = tryOr(() => parseProcStat(fs.readFileSync('/proc/self/stat', 'latin1'))?.startTime ?? null, null);
  return `${process.pid} ${start ?? '?'} ${tryOr(() => fs.readlinkSync('/proc/self/ns/pid'), '?')}`;
}

/**
 * Whether the writer a row names (thisWriter) still runs: false only when it is known to be gone
 * (no such PID, or another process now has it); a writer of another PID namespace cannot be told
 * from here and counts as running.
 */
export function writerRuns(writer: string): boolean {
  const [pid, start, pidNs] = writer.split(' ');
  const ownNs = tryOr(() => fs.readlinkSync('/proc/self/ns/pid'), null);
  if (pid === undefined || !/^\d+$/.test(pid) || pidNs === undefined || pidNs === '?' || ownNs === null || pidNs !== ownNs) return true;
  const now = tryOr(() => parseProcStat(fs.readFileSync(`/proc/${pid}/stat`, 'latin1'))?.startTime ?? null, null);
  if (now === null) return isRunning(Number(pid)); // /proc unreadable here: the PID alone
  return start === undefined || start === '?' || String(now) === start;
}
