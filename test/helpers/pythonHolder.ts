// A python3 holder written inline by a test: its own temp directory as argv[1] (then `args`), its PID on the first
// line of its stdout, a case directory beside it on /dev/shm; killed and both removed after the test.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import type { TestContext } from 'node:test';
import { killed } from './fuse.js';
import { makeTempDir } from './holder.js';
import { firstLine } from './lines.js';

export async function pythonHolder(t: TestContext, name: string, script: string, args: readonly string[] = []): Promise<{ dir: string; caseDir: string; pid: number }> {
  const dir = makeTempDir(name);
  const caseDir = makeTempDir(`${name}-case`, '/dev/shm');
  const holder = spawn('python3', ['-c', script, dir, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(async () => {
    await killed(holder).stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  return { dir, caseDir, pid: Number(await firstLine(holder)) };
}

/** A holder of a memfd of 12,345 bytes ('x') that gains 100 bytes ('y') every 0.2 s: a file still written to, to follow. */
export const GROWING_MEMFD = `
import os, time
fd = os.memfd_create('growing')
os.write(fd, b'x' * 12345)
print(os.getpid(), flush=True)
while True:
    time.sleep(0.2)
    os.write(fd, b'y' * 100)
`;

/**
 * A copy of /bin/sleep 16 levels of 249-byte names deep (its path over 4,000 bytes, its " (deleted)"
 * link over PATH_MAX), run by a child of the holder and then deleted. `beforeFork`: python lines run
 * in its directory first (their fds set inheritable go with the child). Resolves to the running
 * binary's PID and inode; the child, the holder and both directories go after the test.
 */
export async function deepDeletedBinary(t: TestContext, name: string, beforeFork = ''): Promise<{ dir: string; caseDir: string; deep: string; exe: string; pid: number; inode: number }> {
  const dir = makeTempDir(name);
  const caseDir = makeTempDir(`${name}-case`, '/dev/shm');
  const deep = Array.from({ length: 16 }, () => 'b'.repeat(249)).join('/');
  const binary = 's'.repeat(90);
  const script = String.raw`import os, shutil, sys, time
os.chdir(sys.argv[1])
os.makedirs(sys.argv[2])
os.chdir(sys.argv[2])
shutil.copy('/bin/sleep', sys.argv[3])
os.chmod(sys.argv[3], 0o755)
${beforeFork}
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[3], [sys.argv[3], '600'])
time.sleep(0.3)
os.unlink(sys.argv[3])
print(pid, os.stat('/proc/%d/exe' % pid).st_ino, flush=True)
sys.stdin.read()`;
  const holder = spawn('python3', ['-c', script, dir, deep, binary], { stdio: ['pipe', 'pipe', 'inherit'] });
  let child = 0;
  t.after(async () => {
    if (child > 0) {
      try {
        process.kill(child, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await killed(holder).stop();
    execFileSync('rm', ['-rf', dir, caseDir]); // rm walks a tree deeper than PATH_MAX
  });
  const [pid = 0, inode = 0] = (await firstLine(holder)).split(' ').map(Number);
  child = pid;
  return { dir, caseDir, deep, exe: `${dir}/${deep}/${binary}`, pid, inode };
}
