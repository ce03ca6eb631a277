// House rule 1 on a live host: nothing is written outside the case directory. The system's temp
// directories (/var/tmp, /tmp, $TMPDIR) are on the root file system under examination there, whose
// free blocks may still hold deleted files; SQLite puts its temporary files there unless told not to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { json, runCli } from './helpers/cli.js';
import { makeTempDir, startHolder, type Holder } from './helpers/holder.js';
import type { LiveItemJson } from '../src/store/items.js';

const HOLDERS = 6;
const FILES_EACH = 400;

test('snapshot, cross-check with lsof and reports write no temporary file outside the case directory (root)', async (t) => {
  const dir = makeTempDir('scratch');
  const caseDir = makeTempDir('scratch-case', '/dev/shm');
  // Where SQLite (SQLITE_TMPDIR, TMPDIR) and anything else honouring TMPDIR would write.
  const watched = makeTempDir('scratch-tmp');
  const holders: Holder[] = [];
  t.after(async () => {
    for (const holder of holders) await holder.stop();
    for (const made of [dir, caseDir, watched]) fs.rmSync(made, { recursive: true, force: true });
  });
  // Enough deleted files that the lsof cross-check's savepoint journal outgrows SQLite's 64 KiB
  // in-memory spill limit (it went to /var/tmp before temp_store = MEMORY).
  for (let index = 0; index < HOLDERS; index++) {
    holders.push(await startHolder(dir, Array.from({ length: FILES_EACH }, (_, file) => ({ kind: 'fd' as const, name: `f-${index}-${file}`, content: Buffer.from(`${index}/${file}`) }))));
  }
  const env = { SQLITE_TMPDIR: watched, TMPDIR: watched };
  const before = fs.statSync(watched, { bigint: true });
  const pids = holders.flatMap((holder) => ['--pid', String(holder.pid)]);

  const snapshot = runCli(caseDir, ['snapshot', ...pids], env);
  assert.equal(snapshot.code, 0, snapshot.stderr);
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json'], env));
  for (const format of ['html', 'csv', 'json', 'bodyfile']) {
    const report = runCli(caseDir, ['report', '--format', format, '--out', path.join(caseDir, `report.${format}`)], env);
    assert.equal(report.code, 0, report.stderr);
  }

  const after = fs.statSync(watched, { bigint: true });
  assert.deepEqual([after.mtimeNs, after.ctimeNs, fs.readdirSync(watched)], [before.mtimeNs, before.ctimeNs, []], 'something was created in the temp directory');
  assert.equal(items.length, HOLDERS * FILES_EACH);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  assert.deepEqual(db.prepare('SELECT count(*) AS items, sum(in_lsof) AS in_lsof FROM items').get(), { items: HOLDERS * FILES_EACH, in_lsof: HOLDERS * FILES_EACH });
  db.close();
});
