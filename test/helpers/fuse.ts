// FUSE daemons for tests (test/helpers/c/*.c, libfuse3): built into the test's own directory.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir } from './holder.js';
import { repoRoot } from './paths.js';
import { waitFor } from './wait.js';

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

/** A FUSE daemon of test/helpers/c mounted in a work directory of its own, with a case directory. */
export interface TestFuse {
  dir: string;
  mountPoint: string;
  caseDir: string;
  daemon: ChildProcess;
  /** Processes that hold files on the mount: stopped (by PID) before the daemon when the test ends. */
  holders: Array<{ stop(): Promise<void> }>;
}

/**
 * Build NAME.c, mount it at DIR/mnt (`args` gives the daemon's arguments for that mount point) and
 * wait until it is mounted. When the test ends, however it ends: a hang switched off (SIGUSR2), the
 * holders stopped, the daemon stopped, the mount detached, both directories removed.
 */
export async function mountTestFuse(t: { after(fn: () => Promise<void>): void }, name: string, args: (mountPoint: string) => string[]): Promise<TestFuse> {
  const dir = makeTempDir(name);
  const mountPoint = path.join(dir, 'mnt');
  fs.mkdirSync(mountPoint);
  const caseDir = makeTempDir(`${name}-case`, '/dev/shm');
  const daemon = spawn(buildFuseDaemon(name, dir), args(mountPoint), { stdio: 'ignore' });
  const fuse: TestFuse = { dir, mountPoint, caseDir, daemon, holders: [] };
  t.after(async () => {
    daemon.kill('SIGUSR2');
    for (const holder of fuse.holders) await holder.stop();
    await stop(daemon, 'SIGTERM');
    if (isMounted(mountPoint)) execFileSync('umount', ['-l', mountPoint]);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  await waitFor(() => isMounted(mountPoint), 5_000, `${name} mounted`);
  return fuse;
}

/** A child of the test as a holder: stopped with SIGKILL. */
export function killed(child: ChildProcess): { stop(): Promise<void> } {
  return { stop: () => stop(child, 'SIGKILL') };
}
