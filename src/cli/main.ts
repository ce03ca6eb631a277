#!/usr/bin/env node
// bin entry. The signal handlers come first, before any module loads (that takes a good part of
// the start-up): a Ctrl-C or a SIGTERM at any moment stops with the message, never silently.
import { EXIT } from '../errors.js';
import { runSignalExitHooks, stopFollowing } from '../util/interrupt.js';

function onSignal(signal: NodeJS.Signals): void {
  if (stopFollowing()) {
    process.stderr.write(`unlinked: ${signal} while following: the followed copies end with what they hold now, hashed and recorded (not complete); ${signal === 'SIGINT' ? 'Ctrl-C' : signal} again stops at once\n`);
    return;
  }
  process.stderr.write(`unlinked: interrupted by ${signal}; every finished step is in the case database, an unfinished snapshot or copy is not counted\n`);
  runSignalExitHooks();
  process.exit(EXIT.failed);
}

process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const { main } = await import('./app.js');
process.exitCode = await main(process.argv.slice(2));
