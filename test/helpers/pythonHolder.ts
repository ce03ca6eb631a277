// A python3 holder written inline by a test: its own temp directory as argv[1] (then `args`), its PID on the first
// line of its stdout, a case directory beside it on /dev/shm; killed and both removed after the test.
import { spawn } from 'node:child_process';
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
