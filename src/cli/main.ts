#!/usr/bin/env node
// bin entry. The signal handlers come first, before any module loads (that takes a good part of
// the start-up): a Ctrl-C or a SIGTERM at any moment stops with the message, never silently.
import { EXIT } from '../errors.js';

function onSignal(signal: NodeJS.Signals): void {
  process.stderr.write(`unlinked: interrupted by ${signal}; every finished step is in the case database, an unfinished snapshot or copy is not counted\n`);
  process.exit(EXIT.failed);
}

process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const { main } = await import('./app.js');
process.exitCode = await main(process.argv.slice(2));
