// Issue 4 speed: importing a 1,000,000-line `lsof -F0` capture vs node reading the same file line by line.
import fs from 'node:fs';
import path from 'node:path';
import type { BenchResult } from './run.js';
import { median, timeCommand } from './helpers.js';
import { repoRootFromBench } from './paths.js';
import { peakRssMb } from './snapshot.js';

/** A synthetic -F0 capture: 1 process line per 9 file lines, a tenth of the files deleted (allDeleted: every one). */
export function writeLsofCapture(file: string, lines: number, options: { allDeleted?: boolean } = {}): void {
  const fd = fs.openSync(file, 'w');
  let batch = '';
  let written = 0;
  for (let pid = 1000; written < lines; pid++) {
    batch += `p${pid}\0cworker-${pid}\0u33\0\n`;
    written++;
    for (let fdNum = 3; fdNum < 12 && written < lines; fdNum++, written++) {
      const deleted = options.allDeleted === true || fdNum === 7;
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
    const small = path.join(work, 'lsof-small.F0.txt');
    writeLsofCapture(small, 250_000);
    const reader = path.join(work, 'read-lines.mjs');
    fs.writeFileSync(reader, `import fs from 'node:fs'; import readline from 'node:readline'; let n = 0; for await (const line of readline.createInterface({ input: fs.createReadStream(process.argv[2], 'latin1') })) n += line.length; console.log(n);`);
    const cli = path.join(repoRootFromBench, 'dist', 'src', 'cli', 'main.js');
    let caseNo = 0;
    const importArgs = (file: string) => [cli, '--case', path.join(work, `case${caseNo++}`), 'lsof', 'import', file, '-q'];
    // Alternate the two so a slow spell of the machine hits both alike; the median of three each.
    const baselines: number[] = [];
    const ours: number[] = [];
    for (let run = 0; run < 3; run++) {
      baselines.push(timeCommand(process.execPath, [reader, capture]));
      ours.push(timeCommand(process.execPath, importArgs(capture)));
    }
    const rss = peakRssMb(process.execPath, importArgs(capture));
    const rssSmall = peakRssMb(process.execPath, importArgs(small));
    const size = fs.statSync(capture).size;
    return [
      { name: 'lsof import of 1,000,000 -F0 lines vs node reading them line by line', ours: median(ours), reference: median(baselines), referenceName: 'node readline', unit: 's', target: 3, note: `${(size / 1e6).toFixed(0)} MB capture, 100,000 deleted records` },
      { name: 'lsof import peak RSS (streamed)', ours: rss, reference: 200, referenceName: 'budget', unit: 'MB', target: 1 },
      { name: 'lsof import peak RSS, 1,000,000 lines vs 250,000 (flat when streamed)', ours: rss, reference: rssSmall, referenceName: '250k lines', unit: 'MB' },
    ];
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
