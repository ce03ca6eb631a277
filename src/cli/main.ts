#!/usr/bin/env node
// bin entry. The signal handlers come first, before any module loads (that takes a good part of
// the start-up): a Ctrl-C or a SIGTERM at any moment stops with the message, never silently.
import { EXIT } from '../errors.js';
import { runSignalExitHooks, stopCopies } from '../util/interrupt.js';

function onSignal(signal: NodeJS.Signals): void {
  const stopping = stopCopies();
  const again = `${signal === 'SIGINT' ? 'Ctrl-C' : signal} again stops at once`;
  if (stopping === 'following') {
    process.stderr.write(`unlinked: ${signal} while following: the followed copies end with what they hold now, hashed and recorded (not complete); ${again}\n`);
    return;
  }
  if (stopping === 'copying') {
    process.stderr.write(`unlinked: ${signal} while copying: the copy under way ends with what it holds now, hashed and recorded (not complete), the items after it are not copied; ${again}\n`);
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
