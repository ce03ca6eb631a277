import { once } from 'node:events';
import { jsonText } from '../util/u64.js';

/** Where pieces go: a Writable (a report's file), or process.stdout. */
type Sink = NodeJS.WritableStream & { destroyed?: boolean; errored?: Error | null };

/**
 * Write text pieces to a stream, waiting for 'drain' so memory stays flat. A stream already
 * destroyed (its failure emitted, and seen by the CLI's stdout watch) throws that failure, never
 * waits for a 'drain' that cannot come.
 */
export async function writeLines(out: Sink, pieces: Iterable<string>): Promise<void> {
  const put = async (text: string): Promise<void> => {
    if (out.destroyed === true) throw out.errored ?? new Error('write after the stream was closed');
    if (!out.write(text)) await once(out, 'drain');
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
