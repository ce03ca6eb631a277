import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root: tests run compiled from dist/test/..., fixtures stay at the root. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const fixturesDir = path.join(repoRoot, 'fixtures');
export const cliPath = path.join(repoRoot, 'dist', 'src', 'cli', 'main.js');
