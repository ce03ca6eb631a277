// Worker thread: sha256 of a whole image or device, so hashing runs beside the tools, not between them.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const { file } = workerData as { file: string };
const hash = crypto.createHash('sha256');
const buffer = Buffer.allocUnsafe(8 << 20);
const fd = fs.openSync(file, fs.constants.O_RDONLY);
try {
  for (let read = fs.readSync(fd, buffer); read > 0; read = fs.readSync(fd, buffer)) hash.update(buffer.subarray(0, read));
} finally {
  fs.closeSync(fd);
}
parentPort?.postMessage(hash.digest('hex'));
