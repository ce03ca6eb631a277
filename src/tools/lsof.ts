// lsof adapter: `lsof +L1 -n -P -F0pcuftDsikn` (files with link count < 1, no name lookups),
// field output with NUL terminators so names with newlines survive. Output goes to a file:
// lsof runs while the /proc walk keeps the event loop busy, and a pipe would stall it.
import fs from 'node:fs';
import { isInstalled, prepareToRun, run, type CommandRecorder } from '../exec/run.js';

export const LSOF_ARGS = ['+L1', '-n', '-P', '-F0pcuftDsikn'] as const;

/**
 * lsof walks every process; on a host with 100k fds it takes seconds, so allow minutes. Killed then,
 * a helper child of its own (lsof forks one for stat and readlink) stuck in an uninterruptible wait
 * would keep its stderr open, and the snapshot waiting for it forever: given up abandonAfterMs later.
 * (An object, so a test can shorten them.)
 */
export const lsofLimits = { timeoutMs: 300_000, abandonAfterMs: 5_000 };

export function lsofInstalled(): boolean {
  return isInstalled('lsof');
}

export interface LsofScope {
  /** Only these processes (unlinked --pid, less the ones to leave out; never empty); all when absent. */
  pids?: readonly number[] | undefined;
  /** Mount points lsof must not stat, lstat or readlink on (lsof -e): they did not answer. */
  exempt: readonly string[];
  /** With all processes: the ones lsof must leave out (lsof -p ^PID), in another mount namespace with such a mount. */
  skipPids: readonly number[];
}

/**
 * Start lsof into outputFile: resolves once lsof is running (not when it ends), so the caller can
 * walk /proc synchronously beside it; `done` is the capture's outcome.
 */
export async function startLsof(outputFile: string, recorder: CommandRecorder | null, scope: LsofScope): Promise<{ done: Promise<{ exitCode: number; stderr: string }> }> {
  await prepareToRun();
  // With execa loaded, run() spawns lsof before its first await: it is running when this returns.
  const done = captureLsof(outputFile, recorder, scope);
  done.catch(() => undefined); // awaited by the caller; keep an early failure from being unhandled
  return { done };
}

/**
 * Run lsof into outputFile. lsof exits 1 when some file could not be listed (or nothing matched),
 * which is not a failure of the capture.
 */
async function captureLsof(outputFile: string, recorder: CommandRecorder | null, scope: LsofScope): Promise<{ exitCode: number; stderr: string }> {
  const args: string[] = [...LSOF_ARGS];
  // -e: no stat, lstat or readlink on that file system (one that did not answer: src/proc/mountProbe.ts).
  for (const mountPoint of scope.exempt) args.push('-e', mountPoint);
  if (scope.pids !== undefined) {
    args.push('-a', '-p', scope.pids.join(','));
  } else if (scope.skipPids.length > 0) {
    // In lists of 1,000: one argument may not pass 128 KiB (MAX_ARG_STRLEN), and lsof takes many -p.
    const excluded = scope.skipPids.map((pid) => `^${pid}`);
    for (let start = 0; start < excluded.length; start += 1000) args.push('-p', excluded.slice(start, start + 1000).join(','));
  }
  const fd = fs.openSync(outputFile, 'wx', 0o600);
  try {
    const result = await run('lsof', args, { timeoutMs: lsofLimits.timeoutMs, abandonAfterMs: lsofLimits.abandonAfterMs, recorder, stdoutFd: fd, okExitCodes: [0, 1] });
    return { exitCode: result.exitCode, stderr: result.stderr };
  } finally {
    fs.closeSync(fd);
  }
}
