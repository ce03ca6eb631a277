// Issue 5 speed: recover a 2 GiB deleted-but-open file vs `cp` alone and `openssl dgst -sha256` alone.
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { BenchResult } from './run.js';
import { median, timeCommand } from './helpers.js';
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
    execFileSync('sync'); // the 2 GiB just written: its writeback done before anything is timed
    execFileSync('cat', [source], { stdio: ['ignore', 'ignore', 'ignore'] }); // warm the page cache for all three
    const caseDir = path.join(out, 'case');
    // Three runs of each, interleaved, medians: one run each moved the ratio between 1.12x and 1.59x.
    const cps: number[] = [];
    const openssls: number[] = [];
    const ourRuns: number[] = [];
    for (let run = 0; run < 3; run++) {
      cps.push(timeCommand('cp', [source, path.join(out, 'cp.bin')]));
      fs.rmSync(path.join(out, 'cp.bin'));
      openssls.push(timeCommand('openssl', ['dgst', '-sha256', source]));
      execFileSync(process.execPath, [cli, '--case', caseDir, 'snapshot', '--no-lsof', '--pid', String(pid), '-q']);
      ourRuns.push(timeCommand(process.execPath, [cli, '--case', caseDir, 'recover', '-q']));
      fs.rmSync(caseDir, { recursive: true, force: true });
    }
    const [cp, openssl, ours] = [median(cps), median(openssls), median(ourRuns)];
    execFileSync(process.execPath, [cli, '--case', caseDir, 'snapshot', '--no-lsof', '--pid', String(pid), '-q']);
    const rss = peakRssMb(process.execPath, [cli, '--case', caseDir, 'recover', '-q']);
    const slower = Math.max(cp, openssl);
    return [
      { name: 'recover 2 GiB vs the slower of cp and openssl dgst', ours, reference: slower, referenceName: cp > openssl ? 'cp' : 'openssl dgst -sha256', unit: 's', target: 1.2, note: `medians of 3, interleaved: cp ${cp.toFixed(2)} s, openssl ${openssl.toFixed(2)} s` },
      { name: 'recover 2 GiB peak RSS vs 200 MB', ours: rss, reference: 200, referenceName: 'flat-memory budget', unit: 'MB', target: 1 },
    ];
  } finally {
    holder.kill('SIGKILL');
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(out, { recursive: true, force: true });
  }
}
