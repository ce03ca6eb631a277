import fs from 'node:fs';
import path from 'node:path';
import { oneLine } from '../errors.js';

/**
 * One line of `sha256sum` output, so `sha256sum -c SHA256SUMS` checks the copy from inside its
 * folder. Whole or not at all: one write, cut back when the disk took only part of it (full to the
 * byte); a part an earlier run left (the disk full then, the process killed) is cut off first, so
 * it cannot glue itself to this line. Never through a symbolic link planted at that name.
 */
export function appendSha256Sums(dir: string, sha256: string, file: string): void {
  const line = Buffer.from(`${sha256}  ${path.basename(file)}\n`);
  const { O_RDWR, O_APPEND, O_CREAT, O_NOFOLLOW } = fs.constants;
  const fd = fs.openSync(path.join(dir, 'SHA256SUMS'), O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW, 0o644);
  try {
    const size = fs.fstatSync(fd).size;
    const start = wholeLinesEnd(fd, size);
    // Cut only the part seen: a whole line another run appended meanwhile stays.
    if (start !== size && fs.fstatSync(fd).size === size) fs.ftruncateSync(fd, start);
    let written = 0;
    try {
      written = fs.writeSync(fd, line);
      if (written !== line.length) throw new Error(`only ${written} of its ${line.length} bytes were written`);
    } catch (error) {
      // Cut back to where this line began, unless another run has appended since (then its line stays).
      if (fs.fstatSync(fd).size === start + written) fs.ftruncateSync(fd, start);
      throw error;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Where the file's last whole line ends (its size when it ends in a newline or is empty), read through fd. */
function wholeLinesEnd(fd: number, size: number): number {
  if (size === 0) return 0;
  const tail = Buffer.alloc(Math.min(size, 4096));
  fs.readSync(fd, tail, 0, tail.length, size - tail.length);
  if (tail[tail.length - 1] === 0x0a) return size;
  const newline = tail.lastIndexOf(0x0a);
  // No newline at all: the file is that part alone. None in its last 4 KiB of more: no sha256sum
  // line is that long, so it is not ours to cut.
  if (newline < 0) return size === tail.length ? 0 : size;
  return size - tail.length + newline + 1;
}

/**
 * appendSha256Sums, or why the line could not be written (a case disk full to the byte, say), as a
 * note for the copy's row: the run goes on, the sha256 is still in the case database.
 */
export function tryAppendSha256Sums(dir: string, sha256: string, file: string): string | null {
  try {
    appendSha256Sums(dir, sha256, file);
    return null;
  } catch (error) {
    return `not listed in SHA256SUMS (${oneLine(error)}): its sha256 is in the case database`;
  }
}
