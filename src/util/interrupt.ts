// A Ctrl-C (or SIGTERM) while copies are being followed stops the following, not the run: each
// followed copy then ends with what it holds, hashed and recorded as any copy (not complete: the file
// may still grow), and the run goes on to its end (triage writes its reports). A second signal, or
// one at any other moment, stops at once (src/cli/main.ts).

let following = 0;
let stopRequested = false;
const waiting = new Set<() => void>();

/** Marks the follow phase of one run; the returned function ends it. */
export function startFollowPhase(): () => void {
  following++;
  return () => {
    following--;
  };
}

/** Called by the signal handler: true when a follow phase took the signal (stop following), false when the run must stop now. */
export function stopFollowing(): boolean {
  if (following === 0 || stopRequested) return false;
  stopRequested = true;
  for (const wake of waiting) wake();
  waiting.clear();
  return true;
}

export function followStopRequested(): boolean {
  return stopRequested;
}

/** Wait `ms`, or less when following is stopped meanwhile. */
export function followPause(ms: number): Promise<void> {
  if (stopRequested) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      waiting.delete(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    waiting.add(done);
  });
}

/**
 * What must happen before the process exits on a signal, whatever it was doing: the case database
 * closed (its WAL checkpointed into case.sqlite, an open transaction rolled back), a report's
 * temporary file removed. Each hook is removed again by the function returned.
 */
const exitHooks = new Set<() => void>();

export function onSignalExit(hook: () => void): () => void {
  exitHooks.add(hook);
  return () => {
    exitHooks.delete(hook);
  };
}

export function runSignalExitHooks(): void {
  for (const hook of [...exitHooks].reverse()) {
    try {
      hook();
    } catch {
      // exiting anyway: one hook's failure must not keep the others from running
    }
  }
  exitHooks.clear();
}
