import { once } from 'node:events';
import { jsonText } from '../util/u64.js';
import { letSignalsIn } from '../util/interrupt.js';

/** How often at most the event loop is given a turn while pieces are written without a wait (a signal is handled within about that). */
const TURN_EVERY_MS = 20;

/** Where pieces go: a Writable (a report's file), or process.stdout. */
type Sink = NodeJS.WritableStream & { destroyed?: boolean; errored?: Error | null };

/**
 * Write text pieces to a stream, waiting for 'drain' so memory stays flat. A stream already
 * destroyed (its failure emitted, and seen by the CLI's stdout watch) throws that failure, never
 * waits for a 'drain' that cannot come.
 */
export async function writeLines(out: Sink, pieces: Iterable<string>): Promise<void> {
  let turnAt = performance.now();
  const put = async (text: string): Promise<void> => {
    if (out.destroyed === true) throw out.errored ?? new Error('write after the stream was closed');
    if (!out.write(text)) {
      await once(out, 'drain');
      turnAt = performance.now();
    } else if (performance.now() - turnAt >= TURN_EVERY_MS) {
      // stdout to a file or /dev/null is written synchronously and never asks for a drain: without a
      // turn of the event loop node never runs its signal handler (a list of 48,000 items ignored
      // three Ctrl-Cs for 16 s). A turn every TURN_EVERY_MS, not every piece: the same CPU time.
      await letSignalsIn();
      turnAt = performance.now();
    }
  };
  let batch = '';
  for (const piece of pieces) {
    batch += piece;
    if (batch.length >= 1 << 16) {
      await put(batch);
      batch = '';
    }
  }
  if (batch.length > 0) await put(batch);
}

/**
 * A JSON array of records, and a newline: the text jsonText(array) gives (compact, one line), made
 * one record at a time. A million records would be a string past V8's limit (about 512 MiB).
 */
export function* jsonArrayLine(records: Iterable<unknown>): Generator<string> {
  yield '[';
  let first = true;
  for (const record of records) {
    yield first ? jsonText(record) : `,${jsonText(record)}`;
    first = false;
  }
  yield ']\n';
}
