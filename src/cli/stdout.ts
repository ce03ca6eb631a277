// The result a command prints (its JSON, its list, a report with --out -) must reach stdout: a write
// that failed (ENOSPC on a full disk or /dev/full, EIO) is a failure of the run, said in one line,
// never an exit 0 with the output lost. A reader that went away (EPIPE: `| head`) is not.
import { EXIT, UnlinkedError, errnoCode } from '../errors.js';

let failed: Error | null = null;

/** Listens for stdout's failure: an EPIPE ends the run (exit 0), any other is kept for stdoutFailure. */
export function watchStdout(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    // `unlinked list --json | head` closes the pipe early: not a failure of ours.
    if (error.code === 'EPIPE') process.exit(EXIT.ok);
    failed ??= error;
  });
}

/**
 * The write to stdout that failed, when one did: node marks the stream errored at once and emits
 * 'error' on the next tick (and then no longer says it errored).
 */
export function stdoutError(): Error | null {
  return failed ?? process.stdout.errored ?? null;
}

/** Waits for what stdout still buffers (a pipe or socket written asynchronously), or its failure. */
export async function settleStdout(): Promise<void> {
  const out = process.stdout;
  if (stdoutError() !== null || out.destroyed || out.writableLength === 0) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      out.off('error', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('error', done);
    out.on('close', done);
  });
}

/**
 * Why the command's output was lost, as the error the run ends with, or null when stdout took it
 * (or its reader went away). `kept` says what the command had already put into the case.
 */
export function stdoutFailure(kept: string | null, json: boolean): UnlinkedError | null {
  const error = stdoutError();
  const code = errnoCode(error);
  if (error === null || code === 'EPIPE') return null;
  const words = /^E[A-Z]+: ([^,]+)/.exec(error.message)?.[1];
  const why = code === undefined ? error.message : words === undefined ? code : `${code} (${words})`;
  const lost = json ? 'the printed JSON' : 'the printed output';
  return new UnlinkedError('FAILED', `cannot write the output to stdout: ${why}${kept === null ? '' : `; ${kept}: only ${lost} was lost`}`, { cause: error });
}
