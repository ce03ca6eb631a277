// The evidence itself: check it is something we can read, hash it, read its superblocks, all read-only.
import { Worker } from 'node:worker_threads';
import fs from 'node:fs';
import path from 'node:path';
import { UnlinkedError, errnoCode } from '../errors.js';
import { parseExtSuperblock, type ExtSuperblock } from '../../parsers/extSuperblock.js';

export interface ImageSource {
  path: string;
  isDevice: boolean;
  size: number;
}

export function openImageSource(image: string): ImageSource {
  const absolute = path.resolve(image);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(absolute);
  } catch (error) {
    throw new UnlinkedError('BAD_INPUT', `cannot read ${absolute}: ${errnoCode(error) === 'ENOENT' ? 'no such file or device' : (errnoCode(error) ?? String(error))}`);
  }
  if (stat.isDirectory()) throw new UnlinkedError('BAD_INPUT', `${absolute} is a directory, not a disk image or block device`);
  if (!stat.isFile() && !stat.isBlockDevice()) throw new UnlinkedError('BAD_INPUT', `${absolute} is not a regular file or a block device (a FIFO or socket cannot be scanned safely)`);
  const size = stat.isBlockDevice() ? blockDeviceSize(absolute) : stat.size;
  if (size === 0) throw new UnlinkedError('BAD_INPUT', `${absolute} is empty (0 bytes)`);
  return { path: absolute, isDevice: stat.isBlockDevice(), size };
}

function blockDeviceSize(device: string): number {
  const fd = fs.openSync(device, fs.constants.O_RDONLY);
  try {
    // lseek is not exposed by node; read the size from sysfs by major:minor instead.
    const rdev = fs.fstatSync(fd).rdev;
    const major = (rdev >>> 8) & 0xfff;
    const minor = (rdev & 0xff) | ((rdev >>> 12) & 0xfff00);
    const sectors = Number(fs.readFileSync(`/sys/dev/block/${major}:${minor}/size`, 'utf8').trim());
    return sectors * 512;
  } finally {
    fs.closeSync(fd);
  }
}

/** sha256 of the whole image or device, read-only, in a worker thread (it runs beside the tools). */
export function hashImage(source: ImageSource): Promise<string> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./hashWorker.js', import.meta.url), { workerData: { file: source.path } });
    worker.once('message', (sha256: string) => resolve(sha256));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`hashing ${source.path} failed (worker exit ${code})`));
    });
  });
}

/** The ext superblock of the file system starting at `offsetSectors`, or null when there is none. */
export function readSuperblock(source: ImageSource, offsetSectors: number): ExtSuperblock | null {
  const fd = fs.openSync(source.path, fs.constants.O_RDONLY);
  try {
    const buffer = Buffer.alloc(1024);
    const read = fs.readSync(fd, buffer, 0, 1024, offsetSectors * 512 + 1024);
    return read === 1024 ? parseExtSuperblock(buffer) : null;
  } finally {
    fs.closeSync(fd);
  }
}
