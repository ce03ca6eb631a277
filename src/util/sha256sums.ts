import fs from 'node:fs';
import path from 'node:path';
import { oneLine } from '../errors.js';

/** One line of `sha256sum` output, so `sha256sum -c SHA256SUMS` checks the copy from inside its folder. */
export function appendSha256Sums(dir: string, sha256: string, file: string): void {
  fs.appendFileSync(path.join(dir, 'SHA256SUMS'), `${sha256}  ${path.basename(file)}\n`);
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
