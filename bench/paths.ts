import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Benches run compiled from dist/bench/; the repo root is two levels up. */
export const repoRootFromBench = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
