// Inode numbers past 2^53: overlayfs (xino), CIFS (an NTFS file id carries its sequence number in
// the top 16 bits) and some NFS servers hand them out, and a JS number rounds them to a
// neighbour's (9007199254740993 becomes ...992). Past 2^63 they do not fit SQLite's signed INTEGER
// either. The file system here is test/helpers/c/bigino.c, a FUSE daemon numbering its two files
// 2^53 + 1 and 2^64 - 59. A process holds the first by an fd and maps the second with its fd
// closed, and both are unlinked: every place unlinked shows an inode must show the exact one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parseExact, runCli } from './helpers/cli.js';
import { killed, mountTestFuse } from './helpers/fuse.js';
import { makeTempDir } from './helpers/holder.js';
import { firstLine } from './helpers/lines.js';
import { fixturesDir } from './helpers/paths.js';

// As bigino.c serves them.
const PAST_2P53 = { name: 'past-2p53', inode: '9007199254740993', content: 'content of the file whose inode is 2^53 + 1\n' };
const PAST_2P63 = { name: 'past-2p63', inode: '18446744073709551557', content: 'content of the file whose inode is 2^64 - 59, mapped and unlinked\n' };

// Holds past-2p53 by an fd, maps past-2p63 through libc's mmap (python's mmap module would keep a
// dup of the fd) and closes its fd, unlinks both, prints its pid and the fd.
const HOLDER = `
import ctypes, os, sys, time
d = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
held = os.open(os.path.join(d, 'past-2p53'), os.O_RDONLY)
mapped = os.open(os.path.join(d, 'past-2p63'), os.O_RDONLY)
address = libc.mmap(None, 4096, 1, 1, mapped, 0)  # PROT_READ, MAP_SHARED
assert address not in (None, ctypes.c_void_p(-1).value), ctypes.get_errno()
os.close(mapped)
os.unlink(os.path.join(d, 'past-2p53'))
os.unlink(os.path.join(d, 'past-2p63'))
print(os.getpid(), held, flush=True)
time.sleep(600)
`;

const sha256 = (text: string): string => crypto.createHash('sha256').update(text).digest('hex');

test('inode numbers past 2^53 and 2^63 stay exact from /proc and lsof to the database, list, recover and every report (root)', async (t) => {
  const { caseDir, mountPoint, holders } = await mountTestFuse(t, 'bigino', (at) => [at]);
  const holder = spawn('python3', ['-c', HOLDER, mountPoint], { stdio: ['ignore', 'pipe', 'ignore'] });
  holders.push(killed(holder));
  const [pid, heldFd] = (await firstLine(holder)).split(' ').map(Number);
  assert.ok(pid !== undefined && heldFd !== undefined);

  const snapshot = runCli(caseDir, ['snapshot', '--pid', String(pid), '--json']);
  assert.equal(snapshot.code, 0, snapshot.stderr);
  assert.deepEqual(parseExact<{ items_by_kind: unknown; cross_check: unknown }>(snapshot.stdout).items_by_kind, { fd: 1, map: 1 });

  // list --json: the digits exactly as the kernel gave them.
  const list = runCli(caseDir, ['list', '--json']);
  assert.equal(list.code, 0, list.stderr);
  const items = parseExact<Array<Record<string, unknown>>>(list.stdout).map(({ kind, fd, inode, size, nlink, mount_point: mountedAt, fs_type: fsType, source }) => ({
    kind, fd, inode, size, nlink, mountedAt, fsType, source,
  }));
  assert.deepEqual(items, [
    { kind: 'fd', fd: heldFd, inode: PAST_2P53.inode, size: PAST_2P53.content.length, nlink: 0, mountedAt: mountPoint, fsType: 'fuse.bigino', source: ['proc', 'lsof'] },
    { kind: 'map', fd: null, inode: PAST_2P63.inode, size: PAST_2P63.content.length, nlink: 0, mountedAt: mountPoint, fsType: 'fuse.bigino', source: ['proc'] },
  ]);

  // In the database: 2^53 + 1 as itself, 2^64 - 59 as its 64-bit pattern (-59), in every table that holds it.
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    const texts = (sql: string): string[] => (db.prepare(sql).pluck().all(pid) as string[]).sort();
    assert.deepEqual(texts(`SELECT CAST(inode AS TEXT) FROM items WHERE pid = ?`), ['-59', PAST_2P53.inode]);
    assert.deepEqual(texts(`SELECT CAST(inode AS TEXT) FROM fds WHERE pid = ? AND CAST(target AS TEXT) LIKE '%/past-%'`), [PAST_2P53.inode]);
    assert.deepEqual(texts(`SELECT CAST(inode AS TEXT) FROM maps WHERE pid = ? AND CAST(path AS TEXT) LIKE '%/past-%'`), ['-59']);
    assert.deepEqual(texts(`SELECT CAST(inode AS TEXT) FROM lsof_files WHERE pid = ? AND CAST(name AS TEXT) LIKE '%/past-%'`), [PAST_2P53.inode]);
  } finally {
    db.close();
  }

  // recover: the pid-reuse check compares the exact inode (a rounded one would call both files reused).
  // FUSE keeps no birth time here: custody rests on device, inode and name, and the notes say so.
  const NAME_ONLY = 'custody by device, inode and name only (no birth time to compare): a later file given the same inode number and the same name could not be told from it';
  const recover = runCli(caseDir, ['recover', '--json']);
  assert.equal(recover.code, 0, recover.stderr);
  const copies = parseExact<Array<{ kind: string; inode: string; bytes: number; sha256: string; complete: boolean; note: string | null; output: string }>>(recover.stdout);
  assert.deepEqual(copies.map(({ kind, inode, bytes, sha256: hash, complete, note }) => ({ kind, inode, bytes, hash, complete, note })), [
    { kind: 'fd', inode: PAST_2P53.inode, bytes: PAST_2P53.content.length, hash: sha256(PAST_2P53.content), complete: true, note: NAME_ONLY },
    { kind: 'map', inode: PAST_2P63.inode, bytes: PAST_2P63.content.length, hash: sha256(PAST_2P63.content), complete: true, note: NAME_ONLY },
  ]);
  assert.deepEqual(copies.map((copy) => fs.readFileSync(copy.output, 'utf8')), [PAST_2P53.content, PAST_2P63.content]);

  // Every report: the exact digits in the inode's place.
  const report = (format: string): string => {
    const out = path.join(caseDir, `report.${format}`);
    const result = runCli(caseDir, ['report', '--format', format, '--out', out]);
    assert.equal(result.code, 0, result.stderr);
    return fs.readFileSync(out, 'utf8');
  };
  const jsonReport = parseExact<{ items: Array<{ inode: string }>; recovered: Array<{ inode: string }> }>(report('json'));
  assert.deepEqual(jsonReport.items.map((item) => item.inode), [PAST_2P53.inode, PAST_2P63.inode]);
  assert.deepEqual(jsonReport.recovered.map((copy) => copy.inode), [PAST_2P53.inode, PAST_2P63.inode]);
  const csv = report('csv').split('\n');
  const inodeColumn = csv[0]?.split(',').indexOf('inode') ?? -1;
  assert.deepEqual(csv.slice(1).filter(Boolean).map((line) => line.split(',')[inodeColumn]), [PAST_2P53.inode, PAST_2P63.inode]);
  const bodyfile = report('bodyfile').split('\n').filter(Boolean);
  assert.deepEqual(bodyfile.map((line) => line.split('|')[2]), [PAST_2P53.inode, PAST_2P63.inode]);
  // The page reads its rows with JSON.parse, which would round a number: these go in as text.
  const html = report('html');
  for (const { inode } of [PAST_2P53, PAST_2P63]) assert.ok(html.includes(`"${inode}"`), `${inode} as text in the HTML report's data`);
  assert.ok(!html.includes('9007199254740992') && !html.includes('18446744073709552000'), 'no rounded inode in the HTML report');
});

test('lsof import: an inode past 2^53 in a capture stays exact in the case and in list --json', (t) => {
  const caseDir = makeTempDir('bigino-import', '/dev/shm');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  // Captured from bigino.c (fixtures/lsof/README.md): lsof +L1 -F0, fd 3 holding past-2p53.
  const imported = runCli(caseDir, ['lsof', 'import', path.join(fixturesDir, 'lsof', 'fuse-bigino-F0.txt'), '--json']);
  assert.equal(imported.code, 0, imported.stderr);
  const list = runCli(caseDir, ['list', '--json']);
  assert.deepEqual(parseExact<Array<{ fd: number; inode: string; size: number }>>(list.stdout).map(({ fd, inode, size }) => ({ fd, inode, size })), [
    { fd: 3, inode: PAST_2P53.inode, size: PAST_2P53.content.length },
  ]);
});
