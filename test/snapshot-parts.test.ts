// Issue 3, memory: a process with many fds (or mappings, or items) is handed on to the store in
// parts of bounded size, not whole (16 processes of 16,000 fds whose paths are near PATH_MAX held
// 717 MB and more). Its rows come out as when it went whole: its row once it is walked, what changed
// in its items handed on before (a PID reused, an exe named from maps) changed in the store too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { json, runCli } from './helpers/cli.js';
import { makeTempDir } from './helpers/holder.js';
import { firstLine } from './helpers/lines.js';
import { killed } from './helpers/fuse.js';
import { deepDeletedBinary } from './helpers/pythonHolder.js';
import { CHUNK_BYTES, walkPids, type WalkChunk } from '../src/proc/walk.js';
import { openCase } from '../src/store/db.js';
import { hostMeta } from '../src/store/snapshots.js';
import { openSnapshotStore } from '../src/store/snapshotStore.js';
import type { LiveItemJson } from '../src/store/items.js';

/** 15 levels of 249-byte names: a path of about 3,800 bytes, its " (deleted)" link still within PATH_MAX. */
const DEEP = Array.from({ length: 15 }, () => 'd'.repeat(249)).join('/');

/**
 * A python process holding `live` fds on one file and `deleted` on another, deleted, both at BASE/DEEP.
 * Prints its PID, then its deleted file's inode.
 */
const HOLDER = String.raw`import os, resource, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
deep = os.path.join(sys.argv[1], sys.argv[2])
os.makedirs(deep)
live, gone = os.path.join(deep, 'live'), os.path.join(deep, 'gone')
for name in (live, gone):
    with open(name, 'wb') as f: f.write(b'held: ' + name.encode()[-8:])
for i in range(int(sys.argv[4])): os.open(gone, os.O_RDONLY)
inode = os.stat(gone).st_ino
os.unlink(gone)
for i in range(int(sys.argv[3])): os.open(live, os.O_RDONLY)
print(os.getpid(), inode, flush=True)
sys.stdin.read()`;

async function startDeepHolder(t: { after(fn: () => Promise<void>): void }, dir: string, live: number, deleted: number): Promise<{ pid: number; inode: number; gone: string }> {
  const holder = spawn('python3', ['-c', HOLDER, dir, DEEP, String(live), String(deleted)], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(async () => {
    await killed(holder).stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const [pid = 0, inode = 0] = (await firstLine(holder)).split(' ').map(Number);
  return { pid, inode, gone: `${dir}/${DEEP}/gone` };
}

/** The bytes of the paths a chunk carries: its fds', mappings' and items'. */
function pathBytes(chunk: WalkChunk): number {
  const targets = chunk.fds.count === 0 ? 0 : chunk.fds.targets.length - (chunk.fds.count - 1);
  return targets + chunk.maps.reduce((sum, row) => sum + row[6].length, 0) + chunk.items.reduce((sum, item) => sum + item.path.length + (item.exe?.length ?? 0), 0);
}

test('a process holding 1,500 fds on paths near PATH_MAX (300 on a deleted file) is handed on in parts of at most 256 KiB of paths, its row after all its fds; every fd and item comes once, exact', async (t) => {
  const dir = makeTempDir('parts');
  const { pid, inode, gone } = await startDeepHolder(t, dir, 1200, 300);
  const listed = fs.readdirSync(`/proc/${pid}/fd`).map(Number).sort((a, b) => a - b);
  const chunks: WalkChunk[] = [];
  const walked = await walkPids([pid], '/proc', (chunk) => chunks.push(chunk));
  const all = [...chunks, walked];
  // The rows of one fd (its path and its item's) may pass the bound before the next is checked.
  const oneFd = 2 * (Buffer.byteLength(gone) + ' (deleted)'.length);
  for (const chunk of all) assert.ok(pathBytes(chunk) <= CHUNK_BYTES + oneFd, `a chunk of ${pathBytes(chunk)} bytes of paths`);
  assert.ok(chunks.length >= 20, `${chunks.length} chunks`);
  // Its row once it is walked whole: in the chunk of its last rows, none before.
  const withRow = all.map((chunk, index) => (chunk.processes.some((row) => row.pid === pid) ? index : -1)).filter((index) => index >= 0);
  const withRows = all.map((chunk, index) => (chunk.fds.count > 0 || chunk.items.length > 0 || chunk.maps.length > 0 ? index : -1)).filter((index) => index >= 0);
  assert.deepEqual(withRow, [withRows.at(-1)]);
  const fds = all.flatMap((chunk) => {
    const targets = chunk.fds.count === 0 ? [] : chunk.fds.targets.split('\0');
    return targets.map((target, index) => [chunk.fds.numbers[index * 9 + 1], target] as const);
  });
  assert.deepEqual(fds.map(([fd]) => fd).sort((a, b) => (a ?? 0) - (b ?? 0)), listed);
  assert.equal(fds.filter(([, target]) => target === `${gone} (deleted)`).length, 300);
  assert.equal(fds.filter(([, target]) => target === `${dir}/${DEEP}/live`).length, 1200);
  const items = all.flatMap((chunk) => chunk.items);
  assert.deepEqual(items.map((item) => [item.kind, item.path, item.inode]), Array.from({ length: 300 }, () => ['fd', gone, inode]));
  assert.equal(new Set(items.map((item) => item.fd)).size, 300);
  assert.deepEqual(walked.revisions, []);
  assert.deepEqual(walked.counts, { processesSeen: 1, processesVanished: 0, processesUnreadable: 0, processesUnreadableOwn: 0, processesUnreadableOwnMaps: 0, fdsSeen: listed.length, fdsVanished: 0 });
});

test('a process walked in parts is stored whole and the same by the store thread and inline: every fd row, its items in fd order, its row', async (t) => {
  const dir = makeTempDir('parts-store');
  const cases = [makeTempDir('parts-thread', '/dev/shm'), makeTempDir('parts-inline', '/dev/shm')];
  t.after(() => {
    for (const caseDir of cases) fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const { pid, gone } = await startDeepHolder(t, dir, 1200, 300);
  const listed = fs.readdirSync(`/proc/${pid}/fd`).length;
  const stored = ['thread', 'inline'].map((store, index) => {
    const caseDir = cases[index] ?? '';
    const snapshot = runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)], { UNLINKED_STORE: store });
    assert.equal(snapshot.code, 0, snapshot.stderr);
    const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
    try {
      assert.equal(db.prepare('SELECT count(*) FROM fds WHERE pid = ?').pluck().get(pid), listed);
      assert.equal(db.prepare('SELECT count(*) FROM fds WHERE pid = ? AND target = ?').pluck().get(pid, Buffer.from(`${gone} (deleted)`)), 300);
      assert.deepEqual(db.prepare('SELECT pid, read_error FROM processes').all(), [{ pid, read_error: null }]);
      // The items' ids in the order of their fds as listed (readdir's, sorted as text), as a process stored whole has them.
      const rows = db.prepare('SELECT id, fd FROM items ORDER BY id').all() as Array<{ id: number; fd: number }>;
      assert.deepEqual(rows.map((row) => row.id), Array.from({ length: 300 }, (_, index) => index + 1));
      assert.deepEqual(rows.map((row) => String(row.fd)), rows.map((row) => String(row.fd)).sort());
    } finally {
      db.close();
    }
    return runCli(caseDir, ['list', '--json']).stdout;
  });
  assert.equal((JSON.parse(stored[0] ?? '') as LiveItemJson[]).length, 300);
  assert.equal(stored[0], stored[1]);
});

test('a PID found reused at the end of its walk drops its items, those handed on to the store before too; the next process\'s items get the ids they would have', async (t) => {
  const dir = makeTempDir('parts-reused');
  const other = makeTempDir('parts-other');
  const caseDir = makeTempDir('parts-reused-case', '/dev/shm');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  const reused = await startDeepHolder(t, dir, 0, 300);
  const next = await startDeepHolder(t, other, 0, 3);
  // The walk reads /proc/PID/stat first and again at its end: the second read says another start tick.
  const stat = fs.readFileSync(`/proc/${reused.pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const startTime = Number(fields[19]);
  fields[19] = String(startTime + 1);
  const fake = path.join(dir, 'stat');
  fs.writeFileSync(fake, `${stat.slice(0, stat.lastIndexOf(')') + 2)}${fields.join(' ')}`);
  const openSync = fs.openSync;
  let reads = 0;
  fs.openSync = ((file: fs.PathLike, ...rest: unknown[]) => {
    const swapped = file === `/proc/${reused.pid}/stat` && ++reads === 2 ? fake : file;
    return (openSync as (file: fs.PathLike, ...rest: unknown[]) => number)(swapped, ...rest);
  }) as typeof fs.openSync;
  const kase = openCase(caseDir, { create: true });
  const store = openSnapshotStore(kase, hostMeta('test', new Date().toISOString()), { mode: 'inline', processes: 2, busyBeside: 0 });
  let handedOn = 0;
  try {
    const walked = await walkPids([reused.pid, next.pid], '/proc', (chunk) => {
      handedOn += chunk.items.filter((item) => item.pid === reused.pid).length;
      store.writeChunk(chunk);
    });
    store.walked(walked);
    await store.commit('skipped', []);
    assert.equal(walked.counts.processesVanished, 1);
  } finally {
    fs.openSync = openSync;
    await store.close();
  }
  assert.equal(reads, 2);
  assert.ok(handedOn > 0, 'some of its items went to the store before its walk ended');
  try {
    assert.equal(kase.db.prepare('SELECT read_error FROM processes WHERE pid = ?').pluck().get(reused.pid), `PID reused during the walk (start tick ${startTime}, then ${startTime + 1}): its 300 items were dropped`);
    assert.deepEqual(kase.db.prepare('SELECT id, pid, path FROM items ORDER BY id').all(), [1, 2, 3].map((id) => ({ id, pid: next.pid, path: Buffer.from(next.gone) })));
  } finally {
    kase.close();
  }
});

test('a deleted running binary whose path is past PATH_MAX, holding 200 deleted files on paths near it: its items handed on before its exe was named from maps are named as the others (root)', async (t) => {
  // Its 200 deleted files on paths near the binary's.
  const { dir, caseDir, deep, exe, pid: child } = await deepDeletedBinary(t, 'parts-exe', String.raw`with open('f', 'wb') as f: f.write(b'held by the binary')
held = [os.open('f', os.O_RDONLY) for i in range(200)]
for fd in held: os.set_inheritable(fd, True)
os.unlink('f')`);
  // Its items pass the bound of a chunk before its maps are read.
  assert.ok(200 * (Buffer.byteLength(`${dir}/${deep}/f`) + Buffer.byteLength(exe)) > CHUNK_BYTES);
  const snapshot = runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(child)]);
  assert.equal(snapshot.code, 0, snapshot.stderr);
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.deepEqual(items.filter((item) => item.kind === 'exe').map((item) => [item.path, item.exe]), [[exe, `${exe} (deleted)`]]);
  const fdItems = items.filter((item) => item.kind === 'fd');
  assert.equal(fdItems.length, 200);
  assert.deepEqual(new Set(fdItems.map((item) => `${item.path}|${item.exe}`)), new Set([`${dir}/${deep}/f|${exe} (deleted)`]));
});

test('threads of a process holding fds on paths near PATH_MAX (compared by digest, not kept whole): one that unshared its fd table and holds another such file at an fd number is a table of its own; one that unshared and changed nothing is not (root)', async (t) => {
  const dir = makeTempDir('parts-threads');
  const script = String.raw`import ctypes, os, sys, threading, time
libc = ctypes.CDLL(None, use_errno=True)
deep = os.path.join(sys.argv[1], sys.argv[2])
os.makedirs(deep)
first, second = os.path.join(deep, 'first'), os.path.join(deep, 'second')
for name in (first, second):
    with open(name, 'wb') as f: f.write(name.encode()[-6:])
held = [os.open(first, os.O_RDONLY) for i in range(8)]
tids = [None, None]
def thread(index):
    if libc.unshare(0x400) != 0: raise OSError(ctypes.get_errno(), 'unshare(CLONE_FILES)')
    if index == 0:
        other = os.open(second, os.O_RDONLY)
        os.dup2(other, held[5])
        os.close(other)
    tids[index] = threading.get_native_id()
    time.sleep(600)
for index in (0, 1): threading.Thread(target=thread, args=(index,), daemon=True).start()
while None in tids: time.sleep(0.01)
print(os.getpid(), tids[0], tids[1], held[5], flush=True)
sys.stdin.read()`;
  const holder = spawn('python3', ['-c', script, dir, DEEP], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(async () => {
    await killed(holder).stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const [pid = 0, changed = 0, unchanged = 0, fd = 0] = (await firstLine(holder)).split(' ').map(Number);
  assert.equal(fs.readlinkSync(`/proc/${pid}/task/${changed}/fd/${fd}`), `${dir}/${DEEP}/second`);
  assert.equal(fs.readlinkSync(`/proc/${pid}/task/${unchanged}/fd/${fd}`), `${dir}/${DEEP}/first`);
  const chunks: WalkChunk[] = [];
  const walked = await walkPids([pid], '/proc', (chunk) => chunks.push(chunk));
  assert.deepEqual([...chunks, walked].flatMap((chunk) => chunk.processes).map((row) => [row.pid, row.threadOf]), [[pid, null], [changed, pid]]);
});
