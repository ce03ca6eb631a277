import { createRequire } from 'node:module';

// package.json is the one place the version is written.
const require = createRequire(import.meta.url);
const pkg = require('../../package.json') as { version: string };
export const TOOL_VERSION: string = pkg.version;
