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

const LAG_BYTES = 4 << 20;

function hashFile({ file, follow }: Job): { sha256: string; bytes: number } {
  const writerDone = follow === null ? null : new Int32Array(follow);
  const hash = crypto.createHash('sha256');
  // 64 KiB: each read is hashed while it is still in the core's cache. Measured for 1 GiB from
  // the page cache: 1.2 s with 64 KiB reads, 1.75 s with 1 MiB or 8 MiB (the copy out of the page
  // cache doubles when the bytes must come back from memory to be hashed); openssl dgst 1.15 s.
  const buffer = Buffer.allocUnsafe(64 << 10);
  const fd = fs.openSync(file, fs.constants.O_RDONLY);
  let bytes = 0;
  /** How far the file reached at the last look: below it, reads need no look at the size. */
  let known = 0;
  try {
    for (;;) {
      const doneBefore = writerDone === null || Atomics.load(writerDone, 0) === 1;
      if (!doneBefore && writerDone !== null && known - bytes < LAG_BYTES) {
        // Stay a stretch behind the writer: chasing its last page in tiny reads slowed it down
        // (icat took up to twice as long with the hash right at its heels).
        known = fs.fstatSync(fd).size;
        if (known - bytes < LAG_BYTES) {
          Atomics.wait(writerDone, 0, 0, 5);
          continue;
        }
      }
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
