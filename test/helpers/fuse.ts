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
  /** DIR/mnt: the mount point, or a symbolic link to it when it was given a name of its own. */
  mountPoint: string;
  /** The mount point's path as the kernel has it (its bytes). */
  mounted: Buffer;
  caseDir: string;
  daemon: ChildProcess;
  /** Processes that hold files on the mount: stopped (by PID) before the daemon when the test ends. */
  holders: Array<{ stop(): Promise<void> }>;
}

/**
 * Build NAME.c, mount it at DIR/mnt (`args` gives the daemon's arguments for that mount point) and
 * wait until it is mounted. `mountName` (bytes, a hostile name, say) names the mount point instead,
 * DIR/mnt then a symbolic link to it, which the daemon is given (mount follows it). When the test
 * ends, however it ends: a hang switched off (SIGUSR2), the holders stopped, the daemon stopped, the
 * mount detached, both directories removed.
 */
export async function mountTestFuse(t: { after(fn: () => Promise<void>): void }, name: string, args: (mountPoint: string) => string[], mountName?: Buffer): Promise<TestFuse> {
  const dir = makeTempDir(name);
  const mountPoint = path.join(dir, 'mnt');
  const mounted = mountName === undefined ? Buffer.from(mountPoint) : Buffer.concat([Buffer.from(`${dir}/`), mountName]);
  fs.mkdirSync(mounted);
  if (mountName !== undefined) fs.symlinkSync(mounted, mountPoint);
  const caseDir = makeTempDir(`${name}-case`, '/dev/shm');
  const daemon = spawn(buildFuseDaemon(name, dir), args(mountPoint), { stdio: 'ignore' });
  const fuse: TestFuse = { dir, mountPoint, mounted, caseDir, daemon, holders: [] };
  // mountinfo read as latin1 (a byte a char), its path as the kernel writes it (no space or backslash in these).
  const isUp = (): boolean => fs.readFileSync('/proc/self/mountinfo', 'latin1').split('\n').some((line) => line.split(' ')[4] === mounted.toString('latin1'));
  t.after(async () => {
    daemon.kill('SIGUSR2');
    for (const holder of fuse.holders) await holder.stop();
    await stop(daemon, 'SIGTERM');
    if (isUp()) execFileSync('umount', ['-l', mountPoint]);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  await waitFor(isUp, 5_000, `${name} mounted`);
  return fuse;
}

/** A child of the test as a holder: stopped with SIGKILL. */
export function killed(child: ChildProcess): { stop(): Promise<void> } {
  return { stop: () => stop(child, 'SIGKILL') };
}
