import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Benches run compiled from dist/test/bench/; the repo root is three levels up. */
export const repoRootFromBench = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
