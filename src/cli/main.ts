#!/usr/bin/env node
// bin entry. The signal handlers come first, before any module loads (that takes a good part of
// the start-up): a Ctrl-C, a SIGTERM or a hangup (SIGHUP: the terminal or the SSH session gone) at
// any moment stops with the message, never silently.
import fs from 'node:fs';
import tty from 'node:tty';
import { EXIT } from '../errors.js';
import { copiesStopRequested, deferSignal, interruptedOutcome, runSignalExitHooks, setSignalHandler, signalAfterResult, stopCopies } from '../util/interrupt.js';

function onSignal(signal: NodeJS.Signals): void {
  // A hangup often comes twice (the kernel's to the terminal's foreground jobs, the shell's passed
  // on as it exits): it never turns the graceful stop it began into a stop at once.
  if (signal === 'SIGHUP' && copiesStopRequested()) return;
  // The result is stored, only its printing is left: it stands, with its own exit code.
  const afterResult = signalAfterResult(signal);
  if (afterResult !== null) {
    process.stderr.write(afterResult);
    return;
  }
  // A commit under way (on the store's thread): stored or not, the message must say which.
  if (deferSignal(signal)) return;
  const stopping = stopCopies();
  const again = signal === 'SIGHUP' ? 'a Ctrl-C or SIGTERM stops at once (another SIGHUP does not)' : `${signal === 'SIGINT' ? 'Ctrl-C' : signal} again stops at once`;
  if (stopping === 'following') {
    process.stderr.write(`unlinked: ${signal} while following: the followed copies end with what they hold now, hashed and recorded (not complete); ${again}\n`);
    return;
  }
  if (stopping === 'copying') {
    process.stderr.write(`unlinked: ${signal} while copying: the copy under way ends with what it holds now, hashed and recorded (not complete), the items after it are not copied; ${again}\n`);
    return;
  }
  process.stderr.write(`unlinked: interrupted by ${signal}; ${interruptedOutcome()}\n`);
  runSignalExitHooks();
  process.exit(EXIT.failed);
}

setSignalHandler(onSignal);
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
process.on('SIGHUP', onSignal);
// A file size limit (ulimit -f) sends SIGXFSZ at the write that passes it, which would kill the run
// with no word of ours (exit 153): caught, the write fails with EFBIG instead and is said as such.
process.on('SIGXFSZ', () => undefined);
// After a hangup the terminal is gone: a write to it fails (EIO; EPIPE for a pipe whose reader
// died). What was to be said is lost, not the run: no uncaught 'error' event, no stack trace.
process.stderr.on('error', () => undefined);
// Node restores a terminal's modes as it exits, and aborts (SIGABRT, a core dump, no exit code of
// ours) when the terminal is gone: tcsetattr fails with EIO (node 20). unlinked never changes a
// terminal's modes, so there is nothing to restore: every descriptor that was a terminal at start is
// closed as the process exits (node skips a closed one). All of them, not only those hung up by
// then: a hangup can land after any check (a dropped SSH session's terminal is let go when the last
// reader of its other side returns, under load a moment later), and then node's tcsetattr fails.
const terminals = [0, 1, 2].filter((fd) => tty.isatty(fd));
process.on('exit', () => {
  for (const fd of terminals) {
    try {
      fs.closeSync(fd);
    } catch {
      // closed already
    }
  }
});

/**
 * Node itself, its thread pool and SQLite need a few dozen descriptors before we open anything.
 * `recover --follow` holds two more per copy followed: it follows as many as the limit allows
 * (src/recover/recover.ts). Checked before unlinked's own modules load: node's loader opens many at
 * once, and below about 28 that failed with EMFILE and a stack trace.
 */
const MIN_OPEN_FILES = 80;
// As util/addressSpace.ts reads it (processLimit), without loading a module more for it.
const openFilesLine = (() => {
  try {
    return fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((line) => line.startsWith('Max open files')) ?? '';
  } catch {
    return '';
  }
})();
const openFilesSoft = openFilesLine.slice('Max open files'.length).trim().split(/\s+/)[0] ?? '';
const openFiles = /^\d+$/.test(openFilesSoft) ? Number(openFilesSoft) : null;
if (openFiles !== null && openFiles < MIN_OPEN_FILES) {
  process.stderr.write(`unlinked: too many open files: the limit is ${openFiles}, unlinked needs at least ${MIN_OPEN_FILES}: raise it, e.g. \`ulimit -n 1024\`\n`);
  process.exit(EXIT.failed);
}

const { main } = await import('./app.js');
const code = await main(process.argv.slice(2));
// Ended here, not by letting the event loop drain: as it drains out, node closes its signal handles and
// gives SIGINT, SIGTERM and SIGHUP back to their default action for its last ~70 ms (worker and
// thread-pool threads joined, V8 torn down), so a Ctrl-C then killed a run whose result was printed
// whole (exit 130, no message). process.exit keeps them caught to the end (those late ones are then
// not acted upon). The result is out: stdout is settled (cli/program.ts), its writes synchronous.
process.exit(code);
