// Worker thread: parse a large lsof capture beside the thread that stores it. Batches of records
// go out as messages; at most MAX_IN_FLIGHT unacknowledged ones, so a slow store holds the reader
// back instead of letting the queue (and the memory) grow with the file.
import { parentPort, workerData } from 'node:worker_threads';
import { parseLsofFile } from './parseFile.js';

const MAX_IN_FLIGHT = 8;

const { file, control } = workerData as { file: string; control: SharedArrayBuffer };
/** [0]: batches sent; [1]: batches the storing thread has finished with. */
const counters = new Int32Array(control);

try {
  const parsed = parseLsofFile(file, (records) => {
    for (;;) {
      const done = Atomics.load(counters, 1);
      if (Atomics.load(counters, 0) - done < MAX_IN_FLIGHT) break;
      Atomics.wait(counters, 1, done, 1000);
    }
    Atomics.add(counters, 0, 1);
    parentPort?.postMessage({ records });
  });
  parentPort?.postMessage({ parsed });
} catch (error) {
  parentPort?.postMessage({ error: error instanceof Error ? error.message : String(error) });
}
