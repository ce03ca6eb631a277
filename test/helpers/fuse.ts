// FUSE daemons for tests (test/helpers/c/*.c, libfuse3): built into the test's own directory.
import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths.js';

/** Compile test/helpers/c/NAME.c against libfuse3 into outDir; the binary's path. */
export function buildFuseDaemon(name: string, outDir: string): string {
  const binary = path.join(outDir, name);
  const flags = execFileSync('pkg-config', ['--cflags', '--libs', 'fuse3'], { encoding: 'utf8' }).trim().split(/\s+/);
  execFileSync('gcc', ['-O2', '-Wall', '-o', binary, path.join(repoRoot, 'test', 'helpers', 'c', `${name}.c`), ...flags], { stdio: 'inherit' });
  return binary;
}

export function isMounted(mountPoint: string): boolean {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((line) => line.split(' ')[4] === mountPoint);
}

/** Signal a child of the test and wait until it has exited (at once when it already has). */
export function stop(child: ChildProcess | null, signal: NodeJS.Signals): Promise<void> {
  if (child === null || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
