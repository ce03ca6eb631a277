// Issue 3/4 speed: `unlinked snapshot` against `lsof +L1 -n -P` and a minimal C walker, same load, same run.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchResult } from './run.js';
import { compileC, startFdLoad, timeMedian } from './helpers.js';
import { repoRootFromBench } from './paths.js';

export async function bench(): Promise<BenchResult[]> {
  const work = fs.mkdtempSync(path.join('/var/tmp', 'unlinked-bench-snap-'));
  const load = await startFdLoad(path.join(work, 'load'), 200, 500, 10, 5);
  try {
    const cli = path.join(repoRootFromBench, 'dist', 'src', 'cli', 'main.js');
    const walker = compileC(path.join(repoRootFromBench, 'test', 'bench', 'c', 'procwalk.c'), work);
    const runs = 3;
    let caseNo = 0;
    const freshCase = () => path.join(work, `case${caseNo++}`);
    const lsof = timeMedian(runs, 'lsof', ['+L1', '-n', '-P']);
    const cWalker = timeMedian(runs, walker, []);
    // 3 (partly done) where root cannot read some process of this host (a sandbox's init).
    const oursNoLsof = timeMedian(runs, process.execPath, [cli, '--case', freshCase(), 'snapshot', '--no-lsof'], [0, 3]);
    const oursDefault = timeMedian(runs, process.execPath, [cli, '--case', freshCase(), 'snapshot'], [0, 3]);
    const rss = peakRssMb(process.execPath, [cli, '--case', freshCase(), 'snapshot', '--no-lsof']);
    const fdCount = execFileSync(walker, [], { encoding: 'utf8' }).trim();
    const note = `${os.cpus().length} cores, load: 200 processes x 500 fds, 10% deleted, 5 mmap-only each (${fdCount})`;
    return [
      { name: 'snapshot --no-lsof vs lsof +L1 -n -P', ours: oursNoLsof, reference: lsof, referenceName: 'lsof', unit: 's', target: 0.4, note },
      { name: 'snapshot --no-lsof vs C walker', ours: oursNoLsof, reference: cWalker, referenceName: 'C walker', unit: 's', target: 2 },
      { name: 'snapshot (with lsof) vs lsof +L1 -n -P', ours: oursDefault, reference: lsof, referenceName: 'lsof', unit: 's', target: 1.1 },
      { name: 'snapshot --no-lsof peak RSS vs 200 MB budget', ours: rss, reference: 200, referenceName: 'budget', unit: 'MB', target: 1 },
    ];
  } finally {
    await load.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Peak RSS of a child in MB: python3's resource module reads RUSAGE_CHILDREN after the child exits. */
export function peakRssMb(file: string, args: readonly string[]): number {
  const script = 'import resource,subprocess,sys; subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)';
  const out = execFileSync('python3', ['-c', script, file, ...args], { encoding: 'utf8' });
  return Number(out.trim()) / 1024;
}
