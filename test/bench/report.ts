// Issue 7 speed: reports of 100,000 findings, HTML and CSV, time and peak memory. Reference: node
// reading the same rows out of SQLite and writing them as JSON lines (the floor any format pays).
import fs from 'node:fs';
import path from 'node:path';
import type { BenchResult } from './run.js';
import { timeCommand } from './helpers.js';
import { repoRootFromBench } from './paths.js';
import { peakRssMb } from './snapshot.js';
import { openCase } from '../../src/store/db.js';

function buildCase(dir: string, findings: number): void {
  const kase = openCase(dir, { create: true });
  const db = kase.db;
  db.exec(`INSERT INTO snapshots (id, source, host, tool_version, started_at, finished_at) VALUES (1, 'proc', 'bench', '0', '2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z')`);
  const insert = db.prepare(`INSERT INTO items (snapshot_id, pid, start_time, comm, kind, fd, path, dev, inode, size, nlink, in_proc, in_lsof) VALUES (1, ?, 1, 'worker', 'fd', ?, ?, '254:0', ?, ?, 0, 1, 1)`);
  db.transaction(() => {
    for (let index = 0; index < findings; index++) insert.run(1000 + (index % 500), index % 1000, Buffer.from(`/var/log/app/worker-${index}.log`), index + 100, index * 7);
  })();
  kase.close();
}

export async function bench(): Promise<BenchResult[]> {
  const work = fs.mkdtempSync('/dev/shm/unlinked-bench-report-');
  try {
    const caseDir = path.join(work, 'case');
    buildCase(caseDir, 100_000);
    const cli = path.join(repoRootFromBench, 'dist', 'src', 'cli', 'main.js');
    const floor = path.join(work, 'floor.mjs');
    fs.writeFileSync(floor, `import Database from ${JSON.stringify(path.join(repoRootFromBench, 'node_modules', 'better-sqlite3', 'lib', 'index.js'))}; import fs from 'node:fs';
const db = new Database(process.argv[2], { readonly: true }); const out = fs.createWriteStream(process.argv[3]);
for (const row of db.prepare('SELECT * FROM items').iterate()) { row.path = row.path.toString('base64'); out.write(JSON.stringify(row) + '\\n'); } out.end();`);
    const reference = timeCommand(process.execPath, [floor, path.join(caseDir, 'case.sqlite'), path.join(work, 'floor.jsonl')]);
    const html = timeCommand(process.execPath, [cli, '--case', caseDir, 'report', '--format', 'html', '--out', path.join(work, 'r.html')]);
    const csv = timeCommand(process.execPath, [cli, '--case', caseDir, 'report', '--format', 'csv', '--out', path.join(work, 'r.csv')]);
    const htmlRss = peakRssMb(process.execPath, [cli, '--case', caseDir, 'report', '--format', 'html', '--out', path.join(work, 'r2.html')]);
    const csvRss = peakRssMb(process.execPath, [cli, '--case', caseDir, 'report', '--format', 'csv', '--out', path.join(work, 'r2.csv')]);
    const size = (file: string) => `${(fs.statSync(path.join(work, file)).size / 1e6).toFixed(1)} MB`;
    return [
      { name: 'HTML report of 100,000 findings', ours: html, reference, referenceName: 'rows to JSON lines', unit: 's', note: size('r.html') },
      { name: 'CSV report of 100,000 findings', ours: csv, reference, referenceName: 'rows to JSON lines', unit: 's', note: size('r.csv') },
      { name: 'HTML report peak RSS', ours: htmlRss, reference: 200, referenceName: 'budget', unit: 'MB', target: 1 },
      { name: 'CSV report peak RSS', ours: csvRss, reference: 200, referenceName: 'budget', unit: 'MB', target: 1 },
    ];
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
