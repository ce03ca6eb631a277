// The cross-check of a live snapshot's /proc items with lsof's records of the same moment, rule by
// rule, on rows written straight into a case (the real captures are in snapshot.test and lsof-import.test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { makeTempDir } from './helpers/holder.js';
import { openCase, type Db } from '../src/store/db.js';
import { crossCheckLsof } from '../src/store/lsof.js';
import { hostMeta, insertSnapshotRow } from '../src/store/snapshots.js';

/** A fresh case with one snapshot row, its transaction open: `body` fills and cross-checks it (and commits). */
function inSnapshot(name: string, takenAt: string, body: (db: Db, snapshotId: number) => void): void {
  const caseDir = makeTempDir(name);
  const kase = openCase(caseDir, { create: true });
  try {
    kase.db.exec('BEGIN');
    body(kase.db, insertSnapshotRow(kase.db, hostMeta('test', takenAt)));
  } finally {
    kase.close();
    fs.rmSync(caseDir, { recursive: true, force: true });
  }
}

test('cross-check: by fd, by exe, by mapped inode, fd reuse, text-only deletion, a process /proc did not see', () => {
  inSnapshot('crosscheck-case', '2026-12-02T00:00:00.000Z', (db, snapshotId) => {
  const process = db.prepare(`INSERT INTO processes (snapshot_id, pid, start_time, comm, exe) VALUES (?, ?, ?, ?, ?)`);
  process.run(snapshotId, 100, 5000, 'nginx', Buffer.from('/usr/sbin/nginx (deleted)'));
  process.run(snapshotId, 200, 6000, 'python3', Buffer.from('/usr/bin/python3'));
  const item = db.prepare(`INSERT INTO items (snapshot_id, pid, kind, fd, map_range, path, dev, inode, size, nlink) VALUES (?, ?, ?, ?, ?, ?, '8:1', ?, ?, 0) RETURNING id`);
  const id = (pid: number, kind: string, fd: number | null, inode: number, range: string | null = null): number =>
    (item.get(snapshotId, pid, kind, fd, range, Buffer.from(`/f${inode}`), inode, 10) as { id: number }).id;
  const fdItem = id(100, 'fd', 3, 11);
  const exeItem = id(100, 'exe', null, 12);
  const mapItem = id(100, 'map', null, 13, '7f00-7f01');
  const reusedItem = id(100, 'fd', 4, 14);
  const unseenItem = id(200, 'map', null, 15, '7f02-7f03');
  const textItem = id(200, 'fd', 5, 16);
  const record = db.prepare(
    `INSERT INTO lsof_files (snapshot_id, line, command, pid, fd, fd_num, type, dev, size, nlink, inode, name, deleted_by_text) VALUES (?, ?, ?, ?, ?, ?, ?, '8:1', 10, ?, ?, ?, ?)`,
  );
  let line = 0;
  const add = (pid: number, fd: string, fdNum: number | null, type: string, nlink: number | null, inode: number, byText = 0): void => {
    record.run(snapshotId, ++line, pid === 100 ? 'nginx' : pid === 200 ? 'python3' : 'ghost', pid, fd, fdNum, type, nlink, inode, Buffer.from(`/f${inode} (deleted)`), byText);
  };
  add(100, '3u', 3, 'REG', 0, 11); // the fd item
  add(100, 'txt', null, 'REG', 0, 12); // the running binary
  add(100, 'mem', null, 'REG', 0, 13); // the mapping, twice: one item
  add(100, 'DEL', null, 'DEL', 0, 13);
  add(100, '4u', 4, 'REG', 0, 99); // fd 4 now names another inode: reused between the two looks
  add(200, '5r', 5, 'REG', null, 16, 1); // no link count in the input: deleted by its name only
  add(300, '7u', 7, 'REG', 0, 17); // a process the walk did not see (started after it)
  add(100, '9u', 9, 'REG', 1, 18); // still linked: not a deleted file, never matched
  add(100, '10u', 10, 'FIFO', 0, 19); // not a regular file
  const check = crossCheckLsof(db, snapshotId, true);
  db.exec('COMMIT');

  assert.deepEqual(check, { both: 4, procOnly: 2, lsofOnly: 2, notItems: 1 }, 'the FIFO: a deleted file, no item');
  const items = db.prepare(`SELECT id, pid, kind, fd, inode, in_proc, in_lsof, lsof_note, comm, start_time FROM items ORDER BY id`).all();
  assert.deepEqual(items, [
    { id: fdItem, pid: 100, kind: 'fd', fd: 3, inode: 11, in_proc: 1, in_lsof: 1, lsof_note: null, comm: null, start_time: null },
    { id: exeItem, pid: 100, kind: 'exe', fd: null, inode: 12, in_proc: 1, in_lsof: 1, lsof_note: null, comm: null, start_time: null },
    { id: mapItem, pid: 100, kind: 'map', fd: null, inode: 13, in_proc: 1, in_lsof: 1, lsof_note: null, comm: null, start_time: null },
    { id: reusedItem, pid: 100, kind: 'fd', fd: 4, inode: 14, in_proc: 1, in_lsof: 0, lsof_note: 'not listed by lsof', comm: null, start_time: null },
    {
      id: unseenItem, pid: 200, kind: 'map', fd: null, inode: 15, in_proc: 1, in_lsof: 0,
      lsof_note: 'not listed by lsof +L1 (it shows mmap-only deleted files as DEL only without +L1)', comm: null, start_time: null,
    },
    { id: textItem, pid: 200, kind: 'fd', fd: 5, inode: 16, in_proc: 1, in_lsof: 1, lsof_note: 'lsof: deleted by name only (no link count in the input)', comm: null, start_time: null },
    {
      id: textItem + 1, pid: 100, kind: 'fd', fd: 4, inode: 99, in_proc: 0, in_lsof: 1,
      lsof_note: 'seen by lsof only; lsof names inode 99 for fd 4, /proc saw inode 14 (fd reused between the two looks)', comm: 'nginx', start_time: 5000,
    },
    { id: textItem + 2, pid: 300, kind: 'fd', fd: 7, inode: 17, in_proc: 0, in_lsof: 1, lsof_note: 'seen by lsof only; the /proc walk did not see this process', comm: 'ghost', start_time: null },
  ]);
  const links = db.prepare(`SELECT line, item_id FROM lsof_files ORDER BY line`).all();
  assert.deepEqual(links, [
    { line: 1, item_id: fdItem },
    { line: 2, item_id: exeItem },
    { line: 3, item_id: mapItem },
    { line: 4, item_id: mapItem },
    { line: 5, item_id: textItem + 1 },
    { line: 6, item_id: textItem },
    { line: 7, item_id: textItem + 2 },
    { line: 8, item_id: null },
    { line: 9, item_id: null },
  ]);
  });
});

test('cross-check: lsof prints an fd of 10000 or more as "*999": matched to the fd with those last digits and the same inode, never a mapping', () => {
  inSnapshot('crosscheck-star', '2026-12-04T00:00:00.000Z', (db, snapshotId) => {
  db.prepare(`INSERT INTO processes (snapshot_id, pid, start_time, comm) VALUES (?, 100, 5000, 'db')`).run(snapshotId);
  const item = db.prepare(`INSERT INTO items (snapshot_id, pid, kind, fd, path, dev, inode, size, nlink) VALUES (?, 100, 'fd', ?, ?, '8:1', ?, 10, 0) RETURNING id`);
  const id = (fd: number, inode: number): number => (item.get(snapshotId, fd, Buffer.from(`/f${inode}`), inode) as { id: number }).id;
  const low = id(1999, 21);
  const first = id(10999, 21);
  const second = id(11999, 21);
  const record = db.prepare(
    `INSERT INTO lsof_files (snapshot_id, line, command, pid, fd, fd_num, type, dev, size, nlink, inode, name, deleted_by_text) VALUES (?, ?, 'db', 100, ?, ?, 'REG', '8:1', 10, 0, ?, ?, 0)`,
  );
  let line = 0;
  const add = (fd: string, fdNum: number | null, inode: number): void => void record.run(snapshotId, ++line, fd, fdNum, inode, Buffer.from(`/f${inode} (deleted)`));
  add('1999u', 1999, 21);
  add('*999u', null, 21); // 10999 and 11999 both print as *999: one record each
  add('*999u', null, 21);
  add('*555r', null, 22); // an fd of 10000 or more /proc did not see (opened after the walk)
  const check = crossCheckLsof(db, snapshotId, true);
  db.exec('COMMIT');
  assert.deepEqual(check, { both: 3, procOnly: 0, lsofOnly: 1, notItems: 0 });
  assert.deepEqual(db.prepare(`SELECT id, kind, fd, inode, in_proc, in_lsof, lsof_note FROM items ORDER BY id`).all(), [
    { id: low, kind: 'fd', fd: 1999, inode: 21, in_proc: 1, in_lsof: 1, lsof_note: null },
    { id: first, kind: 'fd', fd: 10999, inode: 21, in_proc: 1, in_lsof: 1, lsof_note: null },
    { id: second, kind: 'fd', fd: 11999, inode: 21, in_proc: 1, in_lsof: 1, lsof_note: null },
    {
      id: second + 1, kind: 'fd', fd: null, inode: 22, in_proc: 0, in_lsof: 1,
      lsof_note: 'seen by lsof only; lsof printed the fd as *555r: an fd number of 10000 or more ending in 555, the number itself not known',
    },
  ]);
  assert.deepEqual(db.prepare(`SELECT line, item_id FROM lsof_files ORDER BY line`).all(), [
    { line: 1, item_id: low }, { line: 2, item_id: first }, { line: 3, item_id: second }, { line: 4, item_id: second + 1 },
  ]);
  });
});

test('cross-check: 19,000 deleted fds of one process printed "*NNN" by lsof (19 per ending): each record matched to its own item, in order', () => {
  inSnapshot('crosscheck-star-many', '2026-12-04T00:00:00.000Z', (db, snapshotId) => {
  db.prepare(`INSERT INTO processes (snapshot_id, pid, start_time, comm) VALUES (?, 100, 5000, 'db')`).run(snapshotId);
  const item = db.prepare(`INSERT INTO items (snapshot_id, pid, kind, fd, path, dev, inode, size, nlink) VALUES (?, 100, 'fd', ?, ?, '8:1', ?, 10, 0)`);
  const record = db.prepare(
    `INSERT INTO lsof_files (snapshot_id, line, command, pid, fd, fd_num, type, dev, size, nlink, inode, name, deleted_by_text) VALUES (?, ?, 'db', 100, ?, NULL, 'REG', '8:1', 10, 0, ?, ?, 0)`,
  );
  // fds 10000-28999, each its own file (inode 1,000,000 + fd), and one file (inode 7) held by the 19 fds ending in 123.
  const inodeOf = (fd: number): number => (fd % 1000 === 123 ? 7 : 1_000_000 + fd);
  for (let fd = 10_000; fd < 29_000; fd++) item.run(snapshotId, fd, Buffer.from(`/f${fd}`), inodeOf(fd));
  for (let fd = 10_000; fd < 29_000; fd++) record.run(snapshotId, fd, `*${String(fd % 1000).padStart(3, '0')}u`, inodeOf(fd), Buffer.from(`/f${fd} (deleted)`));
  const check = crossCheckLsof(db, snapshotId, true);
  db.exec('COMMIT');
  assert.deepEqual(check, { both: 19_000, procOnly: 0, lsofOnly: 0, notItems: 0 });
  // Each record's item has its fd's ending and inode; no item has two records.
  const pairs = db.prepare(`SELECT l.fd, l.inode AS record_inode, i.fd AS item_fd, i.inode AS item_inode FROM lsof_files l JOIN items i ON i.id = l.item_id ORDER BY l.line`).all() as
    Array<{ fd: string; record_inode: number; item_fd: number; item_inode: number }>;
  assert.equal(pairs.length, 19_000);
  assert.ok(pairs.every((pair) => pair.record_inode === pair.item_inode && String(pair.item_fd % 1000).padStart(3, '0') === pair.fd.slice(1, 4)));
  assert.equal(new Set(pairs.map((pair) => pair.item_fd)).size, 19_000);
  });
});
