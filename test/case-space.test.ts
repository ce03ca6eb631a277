// A small case disk (a USB stick, a tmpfs): a copy that cannot fit is refused before it starts, a
// sparse file takes only its data, and a file that grows past the room while it is followed stops
// with 4 MiB left, so the case database still records every outcome (it used to fail SQLITE_FULL,
// exit 1, with the row left "interrupted"). Real processes hold the files; the case is on a tmpfs
// of 16 MiB mounted by the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { json, runCli } from './helpers/cli.js';
import { makeTempDir } from './helpers/holder.js';
import { mountTmpfs } from './helpers/tmpfs.js';
import type { RecoveredJson } from '../src/recover/recover.js';

const MiB = 1 << 20;
const KEEP_FREE = 4 * MiB;

/**
 * A python3 process that runs `script` (with `os`, `sys`, `time` and the directory `d`), prints one
 * line when its files are in place, and is killed by PID when the test ends.
 */
async function holding(t: { after: (fn: () => void) => void }, dir: string, script: string): Promise<{ child: ChildProcess; pid: number; said: string }> {
  const child = spawn('python3', ['-c', `import os, sys, time\nd = sys.argv[1]\n${script}\nsys.stdout.write('ready\\n'); sys.stdout.flush()\ntime.sleep(600)\n`, dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => {
    child.kill('SIGKILL');
  });
  const lines = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const said = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the holder exited (${code}) before its files were in place`)));
  });
  return { child, pid: child.pid ?? assert.fail('no pid'), said };
}

function caseOnSmallDisk(t: { after: (fn: () => void) => void }, name: string): { caseDir: string; dir: string } {
  const disk = mountTmpfs(name, 16);
  t.after(() => disk.cleanup());
  const dir = makeTempDir(`${name}-files`);
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return { caseDir: path.join(disk.dir, 'case'), dir };
}

const freeOn = (dir: string): number => {
  const stats = fs.statfsSync(dir);
  return stats.bavail * stats.bsize;
};

test('recover onto a 16 MiB case disk: a 40 MiB deleted file is refused before a byte is written, a 256 MiB sparse memfd is copied whole in its 64 KiB of data, exit 3 (root)', async (t) => {
  const { caseDir, dir } = caseOnSmallDisk(t, 'space-refuse');
  const dense = crypto.randomBytes(40 * MiB);
  fs.writeFileSync(path.join(dir, 'dense.bin'), dense);
  const island = Buffer.alloc(64 << 10, 0x78);
  const holder = await holding(t, dir, [
    "f = open(os.path.join(d, 'dense.bin'), 'rb')",
    "os.unlink(os.path.join(d, 'dense.bin'))",
    "m = os.memfd_create('holes')",
    `os.ftruncate(m, ${256 * MiB})`,
    `os.pwrite(m, b'x' * ${island.length}, ${100 * MiB})`,
  ].join('\n'));

  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  const result = runCli(caseDir, ['recover', '--json']);
  assert.equal(result.code, 3, result.stderr);
  const recovered = json<RecoveredJson[]>(result);
  assert.deepEqual(recovered.map((record) => record.kind).sort(), ['fd', 'memfd']);
  const denseCopy = recovered.find((record) => record.kind === 'fd');
  const memfdCopy = recovered.find((record) => record.kind === 'memfd');

  assert.equal(denseCopy?.output, null);
  assert.equal(denseCopy?.bytes, 0);
  assert.equal(denseCopy?.complete, false);
  assert.match(denseCopy?.note ?? '', /^not copied: the copy needs 41943040 bytes and the case's file system has \d+ bytes free \(4 MiB are kept for the case database\)/);

  const expected = crypto.createHash('sha256');
  expected.update(Buffer.alloc(100 * MiB));
  expected.update(island);
  expected.update(Buffer.alloc(256 * MiB - 100 * MiB - island.length));
  assert.equal(memfdCopy?.complete, true, memfdCopy?.note ?? '');
  assert.equal(memfdCopy?.bytes, 256 * MiB);
  assert.equal(memfdCopy?.sha256, expected.digest('hex'));
  const output = memfdCopy?.output ?? assert.fail('the memfd has a copy');
  assert.equal(fs.statSync(output).size, 256 * MiB);
  assert.ok(fs.statSync(output).blocks * 512 <= 128 << 10, `the copy takes only its data on the case disk (${fs.statSync(output).blocks * 512} bytes)`);
  assert.deepEqual(fs.readdirSync(path.join(caseDir, 'recovered')).sort(), ['SHA256SUMS', path.basename(output)].sort(), 'nothing written for the refused file');

  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    const rows = db.prepare('SELECT complete, note FROM recoveries ORDER BY id').all() as Array<{ complete: number; note: string | null }>;
    assert.equal(rows.length, 2);
    assert.ok(rows.every((row) => !(row.note ?? '').startsWith('interrupted')), 'every row was closed');
  } finally {
    db.close();
  }
});

test('recover --follow onto a 16 MiB case disk: a file that grows past the room stops with 4 MiB left and its reason, the case database still works (root)', async (t) => {
  const { caseDir, dir } = caseOnSmallDisk(t, 'space-follow');
  // 1 MiB at first (it fits), then 40 MiB more, 1 MiB every 50 ms, while the copy follows it.
  const holder = await holding(t, dir, [
    "g = open(os.path.join(d, 'growing.log'), 'wb')",
    "os.unlink(os.path.join(d, 'growing.log'))",
    `g.write(os.urandom(${MiB})); g.flush()`,
    'import threading',
    `def grow():\n    time.sleep(1)\n    for _ in range(40):\n        g.write(os.urandom(${MiB})); g.flush(); time.sleep(0.05)`,
    'threading.Thread(target=grow, daemon=True).start()',
  ].join('\n'));

  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  const result = runCli(caseDir, ['recover', '--follow', '--follow-timeout', '30', '--json']);
  assert.equal(result.code, 3, result.stderr);
  const [copy, ...others] = json<RecoveredJson[]>(result);
  assert.equal(others.length, 0);
  assert.equal(copy?.complete, false);
  assert.match(copy?.note ?? '', /^copy failed: the case's disk is full: \d+ bytes free \(4 MiB are kept for the case database\): make room, or use a case on a larger disk; \d+ bytes of it were written to /);
  assert.ok(freeOn(caseDir) >= KEEP_FREE, `at least 4 MiB left free (${freeOn(caseDir)})`);
  const written = fs.statSync(copy?.output ?? assert.fail('what was copied is kept')).size;
  assert.ok(written >= MiB && written <= 12 * MiB, `the copy stopped part-way (${written} bytes)`);
  assert.equal(copy?.bytes, written);

  // The case still takes rows: another snapshot and the listing work.
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  assert.equal(runCli(caseDir, ['list', '--json']).code, 0);
});
