import fs from 'node:fs';
import path from 'node:path';

/** One line of `sha256sum` output, so `sha256sum -c SHA256SUMS` checks the copy from inside its folder. */
export function appendSha256Sums(dir: string, sha256: string, file: string): void {
  fs.appendFileSync(path.join(dir, 'SHA256SUMS'), `${sha256}  ${path.basename(file)}\n`);
}
