// Issue 6 speed: extracting a 1 GiB orphan vs icat alone; scanning 50k inodes vs the sleuthkit
// commands the scan runs (their durations from the case's commands table).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { BenchResult } from './run.js';
import { timeCommand } from './helpers.js';
import { repoRootFromBench } from './paths.js';
import { makeOrphanImage } from '../helpers/images.js';

const cli = path.join(repoRootFromBench, 'dist', 'src', 'cli', 'main.js');

async function extractBench(work: string): Promise<BenchResult> {
  const dir = path.join(work, 'extract');
  fs.mkdirSync(dir);
  const block = crypto.randomBytes(1 << 20);
  const content = Buffer.concat(Array.from({ length: 1024 }, () => block));
  const built = await makeOrphanImage({ dir, fsType: 'ext4', sizeMiB: 1200, orphans: [{ name: 'big.bin', content }] });
  const inode = String(built.orphans[0]?.inode);
  const caseDir = path.join('/dev/shm', `unlinked-bench-img-${process.pid}`);
  try {
    execFileSync(process.execPath, [cli, '--case', caseDir, 'image', 'scan', built.image, '-q']);
    execFileSync('cat', [built.image], { stdio: ['ignore', 'ignore', 'ignore'], maxBuffer: 1 << 20 });
    const icatOut = path.join(caseDir, 'icat.bin');
    const icat = timeCommand('bash', ['-c', 'icat "$1" "$2" > "$3"', 'bash', built.image, inode, icatOut]);
    fs.rmSync(icatOut);
    const ours = timeCommand(process.execPath, [cli, '--case', caseDir, 'image', 'extract', built.image, '--inode', inode, '-q']);
    return { name: 'image extract of a 1 GiB orphan vs icat alone', ours, reference: icat, referenceName: 'icat > file', unit: 's', target: 1.1 };
  } finally {
    fs.rmSync(caseDir, { recursive: true, force: true });
  }
}

function scanBench(work: string): BenchResult {
  const dir = path.join(work, 'scan');
  fs.mkdirSync(dir);
  const image = path.join(dir, 'many.img');
  fs.writeFileSync(image, '');
  fs.truncateSync(image, 512 * 1024 * 1024);
  execFileSync('mkfs.ext4', ['-q', '-F', '-N', '60000', image]);
  // 50,000 files through debugfs (our own bench image), 5,000 of them deleted again.
  const script = [
    ...Array.from({ length: 50 }, (_, d) => `mkdir d${d}`),
    ...Array.from({ length: 50_000 }, (_, n) => `write /dev/null d${n % 50}/f${n}`),
    ...Array.from({ length: 5_000 }, (_, n) => `kill_file d${(n * 10) % 50}/f${n * 10}`),
  ].join('\n');
  execFileSync('debugfs', ['-w', '-f', '-', image], { input: script, stdio: ['pipe', 'ignore', 'ignore'], maxBuffer: 1 << 30 });
  const caseDir = path.join('/dev/shm', `unlinked-bench-scan-${process.pid}`);
  try {
    const ours = timeCommand(process.execPath, [cli, '--case', caseDir, 'image', 'scan', image, '-q']);
    const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
    const rows = db.prepare(`SELECT program, started_at, finished_at FROM commands`).all() as Array<{ program: string; started_at: string; finished_at: string }>;
    const inodes = (db.prepare(`SELECT count(*) AS n FROM image_inodes`).get() as { n: number }).n;
    db.close();
    const tools = rows.reduce((sum, row) => sum + (Date.parse(row.finished_at) - Date.parse(row.started_at)) / 1000, 0);
    return {
      name: 'image scan of 50,000 inodes vs the sleuthkit/debugfs commands it runs', ours, reference: tools, referenceName: `${rows.length} commands`, unit: 's', target: 1.5,
      note: `${inodes} deleted inodes found; the image (512 MiB) is hashed alongside`,
    };
  } finally {
    fs.rmSync(caseDir, { recursive: true, force: true });
  }
}

export async function bench(): Promise<BenchResult[]> {
  const work = fs.mkdtempSync('/var/tmp/unlinked-bench-img-');
  try {
    return [await extractBench(work), scanBench(work)];
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
