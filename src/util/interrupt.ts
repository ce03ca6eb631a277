// A Ctrl-C (or SIGTERM, or SIGHUP) while recover or triage copies stops the copies, not the run: the
// copy under way ends with what it holds (hashed, kept, recorded as not complete), the items whose
// turn had not come are recorded as not copied, followed copies end with what was appended last, and
// the run ends as it would have (its JSON printed, triage writes its reports; exit 3). A second
// signal, or one at any other moment, stops at once (src/cli/main.ts).

import { UnlinkedError } from '../errors.js';

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

// What a signal that stops a run at once says: the step under way (not stored: its transaction rolled
// back, or its file not renamed into place) and the steps this run stored before it. A step's commit
// first lets the signals already received be handled (lets them in, below): the synchronous walk, a
// parse or a store keeps node from handling a signal until it returns, and a signal that came
// meanwhile must stop the run before the commit, not after it. Once the last step is stored (its
// result only left to print), a signal no longer stops the run: the result stands, printed whole,
// with its own exit code (docs/reliability.md).

/** What this run stored, in order (a key names a line that later commits of its kind replace: "3 inodes extracted"). */
const storedSteps = new Map<string, string>();
let stepUnderWay: string | null = null;
/** What a stop says of the run before the step under way when it stored nothing: see beginStep. */
let nothingBefore: string | null = null;
/** A program unlinked ran was killed by a signal unlinked did not send (exec/run.ts): the run is interrupted. */
let toolKilled: string | null = null;
let resultStored = false;
let committing = 0;
let deferred: NodeJS.Signals | null = null;
let redispatch: (signal: NodeJS.Signals) => void = () => undefined;

/** The handler a signal held back during an asynchronous commit goes to when it ends (main.ts's). */
export function setSignalHandler(handler: (signal: NodeJS.Signals) => void): void {
  redispatch = handler;
}

/**
 * The step now under way, as a stop's message says what becomes of it: "the snapshot under way is not
 * stored (rolled back)". A step that leaves rows of its own in the case (an extraction's row marked
 * interrupted) gives `nothingBefore`, what is said when nothing was stored before it, instead of
 * "nothing of this run is in the case".
 */
export function beginStep(leftUndone: string, nothingStoredBefore: string | null = null): void {
  stepUnderWay = leftUndone;
  nothingBefore = nothingStoredBefore;
}

/** Told by run(): a program was killed by a SIGINT, SIGTERM or SIGHUP unlinked did not send. */
export function toolInterrupted(what: string): void {
  toolKilled ??= what;
}

/**
 * Let node handle the signals it has received: it takes them in its event loop's poll phase, which a
 * second setImmediate (queued from the first's check phase) runs after. A signal that stops the run
 * then exits the process here.
 */
export function letSignalsIn(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/**
 * Commit a step: the signals received so far are handled first (one that stops the run stops it
 * here, and the step is rolled back); one that comes during an asynchronous commit (on the store's
 * thread) is held until it ends. `stored` names what the commit stored; `last`: nothing is left but
 * printing the result.
 */
export async function commitStep<T>(commit: () => T | Promise<T>, stored: (result: T) => string, last: boolean, key?: string): Promise<T> {
  await letSignalsIn();
  // A program killed by such a signal sent to it alone: the step is not committed either.
  if (toolKilled !== null) throw new UnlinkedError('INTERRUPTED', toolKilled);
  committing++;
  let result: T;
  try {
    result = await commit();
  } catch (error) {
    committing--;
    deferred = null; // the failure is said and the run ends with it
    throw error;
  }
  committing--;
  stepStored(stored(result), last, key);
  const signal = deferred;
  deferred = null;
  if (signal !== null) redispatch(signal);
  return result;
}

/** A step stored by a synchronous commit (no await between it and this call: no signal came between). */
export function stepStored(what: string, last: boolean, key: string = what): void {
  storedSteps.delete(key);
  storedSteps.set(key, what);
  stepUnderWay = null;
  nothingBefore = null;
  if (last) resultStored = true;
}

/** Called by the signal handler: true when a commit is under way, and the signal waits for its end. */
export function deferSignal(signal: NodeJS.Signals): boolean {
  if (committing === 0) return false;
  deferred ??= signal;
  return true;
}

let saidAfterResult = false;

/**
 * Called by the signal handler: null when the run's result is not stored yet (the signal stops it);
 * otherwise what to say on stderr (once; '' after that): the run goes on to print its result whole.
 */
export function signalAfterResult(signal: NodeJS.Signals): string | null {
  if (!resultStored) return null;
  if (saidAfterResult) return '';
  saidAfterResult = true;
  return `unlinked: ${signal} after ${[...storedSteps.values()].at(-1) ?? 'the result'} was stored: not stopped, the result stands and is printed whole (its exit code is the result's)\n`;
}

/** What a stop at once leaves: the step under way not stored, and what was stored before it. */
export function interruptedOutcome(): string {
  const before = storedSteps.size === 0 ? (nothingBefore ?? 'nothing of this run is in the case') : `stored before it: ${[...storedSteps.values()].join(', ')}`;
  if (stepUnderWay === null) {
    const stored = storedSteps.size === 0 ? '' : ` (this run stored ${[...storedSteps.values()].join(', ')})`;
    return `every finished step is in the case database${stored}, an unfinished snapshot or copy is not counted`;
  }
  return `${stepUnderWay}; ${before}`;
}
