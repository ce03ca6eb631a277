// Worker thread: sha256 of a whole image or device (hashing runs beside the tools, not between
// them), or of a file another process is still writing (`follow`: hash right behind the writer).
import crypto from 'node:crypto';
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const { file, follow } = workerData as { file: string; follow?: SharedArrayBuffer };
/** follow[0] becomes 1 once the writer has exited: the next end of file is the real one. */
const writerDone = follow === undefined ? null : new Int32Array(follow);
const hash = crypto.createHash('sha256');
// Behind a writer, small reads keep the hash close behind it (a shorter catch-up once it exits).
const buffer = Buffer.allocUnsafe(writerDone === null ? 8 << 20 : 1 << 20);
const fd = fs.openSync(file, fs.constants.O_RDONLY);
let bytes = 0;
try {
  for (;;) {
    const doneBefore = writerDone === null || Atomics.load(writerDone, 0) === 1;
    const read = fs.readSync(fd, buffer, 0, buffer.length, bytes);
    if (read > 0) {
      hash.update(buffer.subarray(0, read));
      bytes += read;
      continue;
    }
    if (doneBefore || writerDone === null) break;
    Atomics.wait(writerDone, 0, 0, 2);
  }
} finally {
  fs.closeSync(fd);
}
parentPort?.postMessage({ sha256: hash.digest('hex'), bytes });
