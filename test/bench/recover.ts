// Issue 5 speed: recover a 2 GiB deleted-but-open file vs `cp` alone and `openssl dgst -sha256` alone.
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { BenchResult } from './run.js';
import { timeCommand } from './helpers.js';
import { firstLine } from '../helpers/lines.js';
import { repoRootFromBench } from './paths.js';
import { peakRssMb } from './snapshot.js';

export async function bench(): Promise<BenchResult[]> {
  const work = fs.mkdtempSync('/var/tmp/unlinked-bench-rec-');
  const out = fs.mkdtempSync('/dev/shm/unlinked-bench-rec-out-');
  const file = path.join(work, 'big.bin');
  const block = crypto.randomBytes(1 << 20);
  const fd = fs.openSync(file, 'w');
  for (let index = 0; index < 2048; index++) fs.writeSync(fd, block);
  fs.closeSync(fd);
  const holder = spawn('python3', ['-c', 'import os,sys,time; fd=os.open(sys.argv[1], os.O_RDONLY); os.unlink(sys.argv[1]); print(os.getpid(), fd, flush=True); time.sleep(3600)', file], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const [pid, heldFd] = (await firstLine(holder)).split(' ');
    const source = `/proc/${pid}/fd/${heldFd}`;
    const cli = path.join(repoRootFromBench, 'dist', 'src', 'cli', 'main.js');
    execFileSync('cat', [source], { stdio: ['ignore', 'ignore', 'ignore'] }); // warm the page cache for all three
    const cp = timeCommand('cp', [source, path.join(out, 'cp.bin')]);
    fs.rmSync(path.join(out, 'cp.bin'));
    const openssl = timeCommand('openssl', ['dgst', '-sha256', source]);
    const caseDir = path.join(out, 'case');
    execFileSync(process.execPath, [cli, '--case', caseDir, 'snapshot', '--no-lsof', '--pid', String(pid), '-q']);
    const ours = timeCommand(process.execPath, [cli, '--case', caseDir, 'recover', '-q']);
    fs.rmSync(caseDir, { recursive: true, force: true });
    execFileSync(process.execPath, [cli, '--case', caseDir, 'snapshot', '--no-lsof', '--pid', String(pid), '-q']);
    const rss = peakRssMb(process.execPath, [cli, '--case', caseDir, 'recover', '-q']);
    const slower = Math.max(cp, openssl);
    return [
      { name: 'recover 2 GiB vs the slower of cp and openssl dgst', ours, reference: slower, referenceName: cp > openssl ? 'cp' : 'openssl dgst -sha256', unit: 's', target: 1.2, note: `cp ${cp.toFixed(2)} s, openssl ${openssl.toFixed(2)} s` },
      { name: 'recover 2 GiB peak RSS vs 200 MB', ours: rss, reference: 200, referenceName: 'flat-memory budget', unit: 'MB', target: 1 },
    ];
  } finally {
    holder.kill('SIGKILL');
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(out, { recursive: true, force: true });
  }
}
