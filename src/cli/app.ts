// The program behind the bin entry (main.ts): one error boundary, exit codes of CONTRACT.md.
import fs from 'node:fs';
import { CommanderError } from 'commander';
import { EXIT, UnlinkedError, controlsEscaped, errnoCode, oneLine } from '../errors.js';
import { buildProgram } from './program.js';
import { settleStdout, stdoutFailure, watchStdout } from './stdout.js';
import { leaveDeletedCwd } from '../util/cwd.js';
import { BUSY_TIMEOUT_MS } from '../store/busy.js';
import { displayBytes } from '../util/bytes.js';
import { tryOr } from '../util/tryOr.js';
import { interruptedOutcome } from '../util/interrupt.js';
import { processLimit } from '../util/addressSpace.js';


export async function main(argv: readonly string[]): Promise<number> {
  leaveDeletedCwd();
  const notUtf8 = argumentNotUtf8(argv);
  if (notUtf8 !== null) {
    process.stderr.write(`unlinked: the argument ${notUtf8} is not valid UTF-8: node would pass it on with those bytes replaced (U+FFFD), a path naming another file; give it in UTF-8 (a path: hard-link or rename the file or folder) (run with --help for usage)\n`);
    return EXIT.usage;
  }
  const store = process.env['UNLINKED_STORE'];
  if (store !== undefined && !['thread', 'inline', 'auto'].includes(store)) {
    process.stderr.write(`unlinked: UNLINKED_STORE must be thread, inline or auto, not ${JSON.stringify(store)}: unset it to let unlinked choose\n`);
    return EXIT.usage;
  }
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return (program as unknown as { exitCodeResult?: number }).exitCodeResult ?? EXIT.ok;
  } catch (error) {
    const verbose = argv.includes('-v') || argv.includes('--verbose');
    if (error instanceof CommanderError && error.exitCode === 0) {
      // Help and version text are output too: one that could not be written (> /dev/full) is said.
      await settleStdout();
      const lost = stdoutFailure(null, false);
      if (lost !== null) return reportError(lost, verbose);
    }
    return reportError(error, verbose);
  }
}

/**
 * The first argument whose bytes are not UTF-8, shown escaped, or null. Node decodes the command
 * line as UTF-8 and replaces what is not: a case folder or report named with the byte 0xff would be
 * written under another name. The bytes themselves are in /proc/self/cmdline (argv ends it).
 */
function argumentNotUtf8(argv: readonly string[]): string | null {
  if (!argv.some((argument) => argument.includes('\ufffd'))) return null;
  const raw = tryOr(() => fs.readFileSync('/proc/self/cmdline'), null);
  if (raw === null) return null;
  const parts = raw.subarray(0, raw.at(-1) === 0 ? -1 : undefined).toString('latin1').split('\0').map((part) => Buffer.from(part, 'latin1'));
  const mine = parts.slice(parts.length - argv.length);
  const bad = mine.find((bytes, index) => !bytes.equals(Buffer.from(argv[index] ?? '', 'utf8')));
  return bad === undefined ? null : displayBytes(bad);
}

export function reportError(error: unknown, verbose: boolean): number {
  if (error instanceof CommanderError) {
    // commander already printed its message (or the help/version text)
    // `help` and --help exit 0; help printed because a command is missing (`unlinked`, `unlinked
    // image`) comes as commander.help with exit code 1: a usage error.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
    if (error.code === 'commander.help') return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof UnlinkedError) {
    // A program killed by a signal unlinked did not send: what was stored, as a signal's own stop says it.
    process.stderr.write(`unlinked: ${oneLine(error)}${error.code === 'INTERRUPTED' ? `; ${interruptedOutcome()}` : ''}${sizeLimitHint(error)}\n`);
    if (verbose && error.cause !== undefined) process.stderr.write(`${linesEscaped(String((error.cause as Error).stack ?? error.cause))}\n`);
    return error.exitCode;
  }
  if (errnoCode(error) === 'EMFILE' || errnoCode(error) === 'ENFILE') {
    process.stderr.write(`unlinked: too many open files (${errnoCode(error)}): raise the limit, e.g. \`ulimit -n 1024\` (unlinked needs about 80 descriptors)\n`);
    return EXIT.failed;
  }
  const code = errnoCode(error);
  if (code === 'ENOENT' && (error as NodeJS.ErrnoException).syscall === 'uv_cwd') {
    // A relative path resolved in a shell whose directory was deleted meanwhile.
    process.stderr.write('unlinked: the current directory no longer exists (deleted): cd to another one, or give every path absolute\n');
    return EXIT.failed;
  }
  if (code === 'SQLITE_BUSY') {
    process.stderr.write(`unlinked: the case database is locked (${code}): another unlinked (or another program) held it for ${BUSY_TIMEOUT_MS / 1000} s; run again when it is done\n`);
    return EXIT.failed;
  }
  if (code?.startsWith('SQLITE_') === true) {
    // A full disk, a read-only or locked case, a damaged file: the case database's fault, not ours.
    process.stderr.write(`unlinked: the case database failed (${code}): ${oneLine(error)}${sizeLimitHint(error)}\n`);
    return EXIT.failed;
  }
  if (code === 'EFBIG') {
    process.stderr.write(`unlinked: a file grew too large to be written (EFBIG): ${oneLine(error)}${sizeLimitHint(error)}\n`);
    return EXIT.failed;
  }
  process.stderr.write(`unlinked: internal error: ${oneLine(error)}\n`);
  if (verbose || process.env['UNLINKED_DEBUG'] !== undefined) process.stderr.write(`${linesEscaped((error as Error).stack ?? '')}\n`);
  return EXIT.failed;
}

watchStdout();

/** A stack trace line by line, each as oneLine escapes it: its message may quote a file's name. */
function linesEscaped(text: string): string {
  return text.split('\n').map((line) => controlsEscaped(line, true)).join('\n');
}

/**
 * The file size limit (`ulimit -f`), when one is set and the error (or what caused it) is a write
 * that can have passed it: EFBIG, or SQLite's "disk I/O error" or "disk full", where the disk has room.
 */
function sizeLimitHint(error: unknown): string {
  let sizeError = false;
  for (let at: unknown = error, depth = 0; at !== undefined && at !== null && depth < 8; at = (at as { cause?: unknown }).cause, depth++) {
    const code = errnoCode(at);
    if (code === 'EFBIG' || code === 'SQLITE_FULL' || code?.startsWith('SQLITE_IOERR') === true) sizeError = true;
  }
  const limit = sizeError ? processLimit('Max file size') : null;
  return limit === null ? '' : ` (this shell's file size limit, \`ulimit -f\`, is ${limit} bytes: raise it)`;
}
