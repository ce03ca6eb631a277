// Issue 4 speed: importing a 1,000,000-line `lsof -F0` capture vs node reading the same file line by line.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { BenchResult } from './run.js';
import { timeCommand } from './helpers.js';
import { repoRootFromBench } from './paths.js';
import { peakRssMb } from './snapshot.js';

/** A synthetic -F0 capture: 1 process line per 9 file lines, a tenth of the files deleted. */
export function writeLsofCapture(file: string, lines: number): void {
  const fd = fs.openSync(file, 'w');
  let batch = '';
  let written = 0;
  for (let pid = 1000; written < lines; pid++) {
    batch += `p${pid}\0cworker-${pid}\0u33\0\n`;
    written++;
    for (let fdNum = 3; fdNum < 12 && written < lines; fdNum++, written++) {
      const deleted = fdNum === 7;
      batch += `f${fdNum}\0tREG\0D0xfe01\0s${fdNum * 1000}\0i${pid * 100 + fdNum}\0k${deleted ? 0 : 1}\0n/var/log/app/${pid}-${fdNum}.log${deleted ? ' (deleted)' : ''}\0\n`;
    }
    if (batch.length > 1 << 20) {
      fs.writeSync(fd, batch);
      batch = '';
    }
  }
  fs.writeSync(fd, batch);
  fs.closeSync(fd);
}

export async function bench(): Promise<BenchResult[]> {
  const work = fs.mkdtempSync('/dev/shm/unlinked-bench-lsof-');
  try {
    const capture = path.join(work, 'lsof.F0.txt');
    writeLsofCapture(capture, 1_000_000);
    const reader = path.join(work, 'read-lines.mjs');
    fs.writeFileSync(reader, `import fs from 'node:fs'; import readline from 'node:readline'; let n = 0; for await (const line of readline.createInterface({ input: fs.createReadStream(process.argv[2], 'latin1') })) n += line.length; console.log(n);`);
    void readline;
    const baseline = timeCommand(process.execPath, [reader, capture]);
    const cli = path.join(repoRootFromBench, 'dist', 'src', 'cli', 'main.js');
    const ours = timeCommand(process.execPath, [cli, '--case', path.join(work, 'case1'), 'lsof', 'import', capture, '-q']);
    const rss = peakRssMb(process.execPath, [cli, '--case', path.join(work, 'case2'), 'lsof', 'import', capture, '-q']);
    const size = fs.statSync(capture).size;
    void execFileSync;
    return [
      { name: 'lsof import of 1,000,000 -F0 lines vs node reading them line by line', ours, reference: baseline, referenceName: 'node readline', unit: 's', target: 3, note: `${(size / 1e6).toFixed(0)} MB capture` },
      { name: 'lsof import peak RSS (streamed)', ours: rss, reference: 200, referenceName: 'budget', unit: 'MB', target: 1 },
    ];
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
