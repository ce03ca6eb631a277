import type { Writable } from 'node:stream';
import { once } from 'node:events';

/** Write text pieces to a stream, waiting for 'drain' so memory stays flat. */
export async function writeLines(out: Writable, pieces: Iterable<string>): Promise<void> {
  let batch = '';
  for (const piece of pieces) {
    batch += piece;
    if (batch.length >= 1 << 16) {
      if (!out.write(batch)) await once(out, 'drain');
      batch = '';
    }
  }
  if (batch.length > 0 && !out.write(batch)) await once(out, 'drain');
}
