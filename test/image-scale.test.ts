// A big disk's scan in bounded memory. An ext4 with 100,000 deleted inodes that keep their names
// (ils -r lists them, debugfs describes them, fls -rd finds their names) is scanned by a CLI whose V8
// heap is capped at 64 MiB. While each inode was kept as objects (ils' row, debugfs' description,
// the record, fls' entry, the directories holding its name: 1.7 KB of heap an inode) that scan ran
// out of heap and aborted; in columns (src/image/inodeTables.ts) it needs 30 to 48 MiB. The image is
// the test's own, made by mke2fs -d and emptied by debugfs -w (whose unlink keeps the names).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { imageWorkDirs } from './helpers/images.js';
import { cliPath } from './helpers/paths.js';

const DIRECTORIES = 100;
/** Files a directory: the first kept, the others deleted. */
const PER_DIRECTORY = 1001;
const HEAP_MIB = 64;
/** Deleted names fls finds of them: debugfs unlinks the first entry of a directory block by zeroing its inode, and fls names no inode then. */
const NAMED = 99_500;

test(`image scan of 100,000 deleted inodes with names runs in a ${HEAP_MIB} MiB heap: every one listed, described and named`, (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'unlinked-scale');
  const tree = path.join(dir, 'tree');
  const removals: string[] = [];
  for (let directory = 0; directory < DIRECTORIES; directory++) {
    fs.mkdirSync(path.join(tree, `d${directory}`), { recursive: true });
    for (let file = 0; file < PER_DIRECTORY; file++) {
      const name = `file-${String(file).padStart(4, '0')}.dat`;
      // One in ten holds a byte: a block, which debugfs' kill_file leaves listed (recoverable).
      fs.writeFileSync(path.join(tree, `d${directory}`, name), file % 10 === 1 ? 'x' : '');
      if (file > 0) removals.push(`rm /d${directory}/${name}\n`);
    }
  }
  const image = path.join(dir, 'scale.img');
  fs.writeFileSync(image, '');
  fs.truncateSync(image, 512 << 20);
  execFileSync('mkfs.ext4', ['-q', '-F', '-N', '110000', '-d', tree, image], { stdio: 'ignore' });
  fs.rmSync(tree, { recursive: true, force: true });
  execFileSync('debugfs', ['-w', '-f', '-', image], { input: removals.join(''), stdio: ['pipe', 'ignore', 'ignore'], maxBuffer: 1 << 26 });

  const scan = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_MIB}`, cliPath, '--case', caseDir, 'image', 'scan', image, '--json'], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30,
  });
  assert.equal(scan.status, 0, scan.stderr.slice(-2000));
  assert.doesNotMatch(scan.stderr, /heap out of memory/);
  const records = JSON.parse(scan.stdout) as Array<{ inode: number; state: string; recoverable: boolean; last_name: string | null; found_by: string }>;
  assert.equal(records.length, DIRECTORIES * (PER_DIRECTORY - 1));
  assert.deepEqual(new Set(records.map((record) => `${record.state} ${record.found_by}`)), new Set(['deleted ils']));
  assert.equal(records.filter((record) => record.recoverable).length, DIRECTORIES * 100);
  // Each a name of its own, the one it was created under (the inodes mke2fs -d gave them, in order).
  const named = records.filter((record) => record.last_name !== null);
  assert.equal(new Set(named.map((record) => record.last_name)).size, named.length);
  assert.ok(named.every((record) => /^d\d+\/file-\d{4}\.dat$/.test(record.last_name ?? '')));
  assert.equal(named.length, NAMED);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    assert.equal((db.prepare(`SELECT count(*) AS n FROM image_inodes WHERE mode IS NULL OR size IS NULL OR dtime IS NULL`).get() as { n: number }).n, 0);
  } finally {
    db.close();
  }
});
