// What every command gets: where the case is, how to talk to the user, and nothing global.
import { controlsEscaped, usageError } from '../errors.js';
import { writeLines } from '../report/stream.js';

export interface CommandContext {
  caseDir: string;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  /** stdout: the JSON document or the report, nothing else. */
  out(text: string): void;
  /** stdout too, a piece at a time as the pieces are made, waiting while stdout is behind: a result too large for one string (list --json of a million items). */
  outPieces(pieces: Iterable<string>): Promise<void>;
  /** stderr: human text, suppressed by -q. */
  info(text: string): void;
  /** stderr: warnings are shown even with -q. */
  warn(text: string): void;
  /** Every warning said so far, in order (a JSON's `warnings` holds them all, those of run() too). */
  readonly warned: readonly string[];
  /** stderr: only with -v. */
  debug(text: string): void;
  /** Progress lines go to stderr only when it is a TTY and not -q. */
  progressEnabled: boolean;
  color: boolean;
}

export interface GlobalOptions {
  case: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export function makeContext(globals: GlobalOptions, streams: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream & { isTTY?: boolean } } = { stdout: process.stdout, stderr: process.stderr }): CommandContext {
  // An empty --case (an unset $CASE) would make the working directory the case: on a live host,
  // quite possibly the file system being examined.
  if (globals.case.trim() === '') throw usageError('--case must name a directory (it is empty)');
  const quiet = globals.quiet === true;
  const verbose = globals.verbose === true;
  const isTty = streams.stderr.isTTY === true;
  const warned: string[] = [];
  // One line each, whatever a message quotes raw (an image path with a newline, an escape sequence):
  // control bytes but the tab are written \xHH, as oneLine() writes those of an error.
  const line = (text: string): string => controlsEscaped(text, true);
  return {
    caseDir: globals.case,
    json: globals.json === true,
    quiet,
    verbose,
    out: (text) => {
      streams.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    },
    outPieces: (pieces) => writeLines(streams.stdout, pieces),
    info: (text) => {
      if (!quiet) streams.stderr.write(`${line(text)}\n`);
    },
    warn: (text) => {
      warned.push(line(text));
      streams.stderr.write(`warning: ${line(text)}\n`);
    },
    warned,
    debug: (text) => {
      if (verbose) streams.stderr.write(`${line(text)}\n`);
    },
    progressEnabled: isTty && !quiet,
    color: isTty && process.env['NO_COLOR'] === undefined,
  };
}
