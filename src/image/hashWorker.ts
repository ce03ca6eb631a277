// Worker thread: sha256 of a whole image or device (hashing runs beside the tools, not between
// them), or, as a standing worker, of each file another process is still writing (hash right
// behind the writer; started before the first copy so its start-up is not on a copy's path).
import crypto from 'node:crypto';
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

interface Job {
  file: string;
  /** follow[0] becomes 1 once the writer has exited: the next end of file is the real one. */
  follow: SharedArrayBuffer | null;
}

function hashFile({ file, follow }: Job): { sha256: string; bytes: number } {
  const writerDone = follow === null ? null : new Int32Array(follow);
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
  return { sha256: hash.digest('hex'), bytes };
}

const { file } = workerData as { file: string | null };
if (file !== null) {
  parentPort?.postMessage(hashFile({ file, follow: null }));
} else {
  parentPort?.on('message', (job: Job) => {
    try {
      parentPort?.postMessage({ ok: hashFile(job) });
    } catch (error) {
      parentPort?.postMessage({ error: error instanceof Error ? error.message : String(error) });
    }
  });
}
