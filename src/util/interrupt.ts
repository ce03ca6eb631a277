// A Ctrl-C (or SIGTERM, or SIGHUP) while recover or triage copies stops the copies, not the run: the
// copy under way ends with what it holds (hashed, kept, recorded as not complete), the items whose
// turn had not come are recorded as not copied, followed copies end with what was appended last, and
// the run ends as it would have (its JSON printed, triage writes its reports; exit 3). A second
// signal, or one at any other moment, stops at once (src/cli/main.ts).

let copying = 0;
let following = 0;
let stopRequested = false;
const waiting = new Set<() => void>();

/** Marks the copies of one run (recoverItems); the returned function ends it. */
export function startCopyPhase(): () => void {
  copying++;
  return () => {
    copying--;
    // Over: a signal from now on (triage writing its reports) stops at once.
    if (copying === 0) stopRequested = false;
  };
}

/** Marks the follow phase of one run (within its copy phase); the returned function ends it. */
export function startFollowPhase(): () => void {
  following++;
  return () => {
    following--;
  };
}

/**
 * Called by the signal handler: what took the signal and stops gracefully ('following': the copies
 * being followed; 'copying': the copy under way and the items after it), or null: stop now.
 */
export function stopCopies(): 'following' | 'copying' | null {
  if (copying === 0 || stopRequested) return null;
  stopRequested = true;
  for (const wake of waiting) wake();
  waiting.clear();
  return following > 0 ? 'following' : 'copying';
}

/** Whether the copies of this run were asked to stop (a first Ctrl-C, SIGTERM or SIGHUP). */
export function copiesStopRequested(): boolean {
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
