// Issue 5: exact copies out of /proc, custody, follow, sparse, the same-fs rule, relink.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { firstLine } from './helpers/lines.js';
import { waitFor } from './helpers/wait.js';
import { makeTempDir, startHolder, type Holder } from './helpers/holder.js';
import { cliPath } from './helpers/paths.js';
import { json, runCli, runCliAsync, startCli } from './helpers/cli.js';
import type { ItemRow, LiveItemJson } from '../src/store/items.js';
import { NOT_REACHED, itemMount, recoverItems, type RecoveredJson } from '../src/recover/recover.js';
import { chunkBuffers } from '../src/recover/copy.js';
import { openCase, type Db } from '../src/store/db.js';
import { getItems, listItems } from '../src/store/items.js';
import { relinkItem } from '../src/recover/relink.js';
import { devString } from '../parsers/procfs.js';
import { btrfsWith, mountDevices } from '../src/util/blockDevices.js';
import { undoEach } from './helpers/cleanup.js';
import { MQUEUE_UNLINKED } from './helpers/mqueue.js';
import { killed } from './helpers/fuse.js';
import { GROWING_MEMFD, pythonHolder } from './helpers/pythonHolder.js';
import { loopFs, loopFsFor } from './helpers/loopfs.js';

const sha256 = (data: Buffer) => crypto.createHash('sha256').update(data).digest('hex');
/** Items live under /var/tmp (the root file system); cases go to /dev/shm (tmpfs), another file system. */
const caseDirOnOtherFs = (name: string) => makeTempDir(name, '/dev/shm');
const CONTRACT_KEYS = ['bytes', 'complete', 'fd', 'inode', 'item_id', 'kind', 'note', 'output', 'pid', 'sha256'];

/** Snapshots each holder into the case; the items of evidence.log and elsewhere.log among all it lists. */
function snapshotHolders(caseDir: string, holders: readonly Holder[]): { items: LiveItemJson[]; onEvidence: LiveItemJson; elsewhere: LiveItemJson } {
  for (const holder of holders) assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--all', '--json']));
  const onEvidence = items.find((item) => item.path.endsWith('evidence.log'));
  const elsewhere = items.find((item) => item.path.endsWith('elsewhere.log'));
  assert.ok(onEvidence !== undefined && elsewhere !== undefined);
  return { items, onEvidence, elsewhere };
}

/** The line recover prints when the case folder's writes land on an item's file system: `chain` how the folder gets there, `itemText` the item as named. */
/** Wait (at most 5 s) until recover has begun a copy whose name holds `marker`; the recovered folder. */
async function copyStarted(caseDir: string, marker: string): Promise<string> {
  const output = path.join(caseDir, 'recovered');
  for (let tries = 0; tries < 200 && !(fs.existsSync(output) && fs.readdirSync(output).some((name) => name.includes(marker))); tries++) await new Promise((resolve) => setTimeout(resolve, 25));
  return output;
}

const sameFsRefusalLine = (caseDir: string, chain: string, item: LiveItemJson, itemText: string): string =>
  `unlinked: refusing to write into ${caseDir}/recovered: it is on device ${chain}, the same file system as item ${item.id} (${itemText}), ` +
  `whose freed blocks a copy could overwrite; put the case on another disk (--case /mnt/usb/case) or pass --force-same-fs\n`;

test('recover copies every kind with the exact sha256, and SHA256SUMS checks (root)', async (t) => {
  const dir = makeTempDir('rec');
  const caseDir = caseDirOnOtherFs('rec-case');
  const contents = {
    fd: crypto.randomBytes(300_000),
    map: crypto.randomBytes(20_000),
    memfd: Buffer.from('memfd payload\n'),
    tmpfile: crypto.randomBytes(5000),
  };
  const holder = await startHolder(dir, [
    { kind: 'fd', name: 'deleted.log', content: contents.fd },
    { kind: 'map', name: 'lib.so', content: contents.map },
    { kind: 'memfd', name: 'stage2', content: contents.memfd },
    { kind: 'tmpfile', content: contents.tmpfile },
  ]);
  const exe = path.join(dir, 'sleeper');
  fs.copyFileSync('/bin/sleep', exe);
  fs.chmodSync(exe, 0o755);
  const exeSha = sha256(fs.readFileSync(exe));
  const sleeper = spawn(exe, ['600'], { stdio: 'ignore' });
  t.after(async () => {
    await holder.stop();
    sleeper.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  fs.unlinkSync(exe);

  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid), '--pid', String(sleeper.pid)]).code, 0);
  const result = runCli(caseDir, ['recover', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const recovered = json<RecoveredJson[]>(result);
  assert.equal(recovered.length, 5);
  const byKind = new Map(recovered.map((record) => [record.kind, record]));
  assert.equal(byKind.get('fd')?.sha256, sha256(contents.fd));
  assert.equal(byKind.get('map')?.sha256, sha256(contents.map));
  assert.equal(byKind.get('memfd')?.sha256, sha256(contents.memfd));
  assert.equal(byKind.get('tmpfile')?.sha256, sha256(contents.tmpfile));
  assert.equal(byKind.get('exe')?.sha256, exeSha);
  for (const record of recovered) {
    assert.deepEqual(Object.keys(record).sort(), CONTRACT_KEYS);
    assert.equal(record.complete, true);
    assert.equal(record.note, null);
    assert.ok(record.output !== null);
    assert.equal(sha256(fs.readFileSync(record.output)), record.sha256);
    assert.equal(fs.statSync(record.output).size, record.bytes);
  }
  const check = execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: path.join(caseDir, 'recovered'), encoding: 'utf8' });
  assert.equal(check.trim().split('\n').filter((line) => line.endsWith(': OK')).length, 5);

  // Again (an item named twice counts once): a copy of its own beside the first, never over it.
  const fdItem = String(byKind.get('fd')?.item_id);
  const again = runCli(caseDir, ['recover', '--json', '--item', fdItem, '--item', fdItem]);
  assert.equal(again.code, 0, again.stderr);
  const second = json<RecoveredJson[]>(again);
  assert.deepEqual(second.map((record) => [record.output, record.sha256, record.complete]), [[`${byKind.get('fd')?.output ?? ''}.2`, sha256(contents.fd), true]]);
  assert.equal(sha256(fs.readFileSync(byKind.get('fd')?.output ?? '')), sha256(contents.fd));
  assert.equal(execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: path.join(caseDir, 'recovered'), encoding: 'utf8' }).trim().split('\n').length, 6);
  // Once the process is gone a retry fails; the report still shows the good copy.
  await holder.stop();
  const gone = runCli(caseDir, ['recover', '--json', '--item', fdItem]);
  assert.equal(gone.code, 3);
  assert.match(json<RecoveredJson[]>(gone)[0]?.note ?? '', /has exited/);
  const row = runCli(caseDir, ['report', '--format', 'csv', '--out', '-']).stdout.split('\n').find((line) => line.startsWith(`live,${fdItem},`));
  assert.ok(row?.includes(`,complete,${sha256(contents.fd)},${contents.fd.length},`), row);
});

test('recover --follow copies a file that is still being written until the writer closes it (root)', async (t) => {
  const dir = makeTempDir('follow');
  const caseDir = caseDirOnOtherFs('follow-case');
  // Appends 100 numbered lines per 0.1 s for ~10 s to a deleted file, then closes it and lingers.
  const writer = spawn('python3', ['-c', String.raw`
import os, sys, time
p = sys.argv[1]
fd = os.open(p, os.O_CREAT | os.O_WRONLY, 0o600)
os.unlink(p)
print(os.getpid(), fd, flush=True)
for i in range(100):
    os.write(fd, b''.join(b'line %06d of the growing log\n' % (i * 100 + j) for j in range(100)))
    time.sleep(0.1)
os.close(fd)
time.sleep(30)
`, path.join(dir, 'growing.log')], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    writer.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const [pid] = (await firstLine(writer)).split(' ');
  assert.ok(pid !== undefined);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', pid]).code, 0);
  const result = await runCliAsync(caseDir, ['recover', '--json', '--follow', '--follow-timeout', '60']);
  assert.equal(result.code, 0, result.stderr);
  const [record] = json<RecoveredJson[]>(result);
  const expected = Buffer.from(Array.from({ length: 10_000 }, (_, n) => `line ${String(n).padStart(6, '0')} of the growing log\n`).join(''));
  assert.equal(record?.bytes, expected.length);
  assert.equal(record?.sha256, sha256(expected));
  assert.equal(record?.complete, true);
});

test('recover --follow of a file its writer cuts and writes again: incomplete, the copy is the content before the cut, never a mix (root)', async (t) => {
  const dir = makeTempDir('follow-cut');
  const caseDir = caseDirOnOtherFs('follow-cut-case');
  // 1 MB of A, then (while followed) cut to nothing and 2 MB of B written from the start, then closed.
  const writer = spawn('python3', ['-c', String.raw`
import os, sys, time
p = sys.argv[1]
fd = os.open(p, os.O_CREAT | os.O_RDWR, 0o600)
os.unlink(p)
os.write(fd, b'A' * 1000000)
print(os.getpid(), fd, flush=True)
sys.stdin.readline()
time.sleep(1)
os.ftruncate(fd, 0)
os.pwrite(fd, b'B' * 2000000, 0)
time.sleep(1)
os.close(fd)
time.sleep(30)
`, path.join(dir, 'cut.log')], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => {
    writer.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const [pid] = (await firstLine(writer)).split(' ');
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', pid ?? '']).code, 0);
  const following = runCliAsync(caseDir, ['recover', '--json', '--follow', '--follow-timeout', '30']);
  // The cut only once the first megabyte is copied (a loaded machine may take seconds to start node).
  const recovered = path.join(caseDir, 'recovered');
  for (let waited = 0; !(fs.existsSync(recovered) && fs.readdirSync(recovered).some((name) => fs.statSync(path.join(recovered, name)).size === 1_000_000)); waited += 50) {
    assert.ok(waited < 60_000, 'the first copy was made');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  writer.stdin?.write('go\n');
  const result = await following;
  assert.equal(result.code, 3, `${result.stdout} ${result.stderr}`);
  const [record] = json<RecoveredJson[]>(result);
  assert.deepEqual([record?.bytes, record?.sha256, record?.complete], [1_000_000, sha256(Buffer.alloc(1_000_000, 'A')), false]);
  assert.equal(record?.note, 'the writer cut it from 1000000 bytes, or wrote over bytes already copied, while it was followed: the copy holds what it held before that (1000000 bytes); recover it again for what it holds now');
  assert.equal(sha256(fs.readFileSync(record?.output ?? '')), record?.sha256);
});

test('recover --follow-timeout: every item copied once first, then the ones still held followed together within one timeout (root)', async (t) => {
  const dir = makeTempDir('follow-all');
  const caseDir = caseDirOnOtherFs('follow-all-case');
  const holder = await startHolder(dir, [
    { kind: 'fd', name: 'a.log', content: Buffer.from('first, never closed') },
    { kind: 'fd', name: 'b.log', content: Buffer.from('second, never closed') },
  ]);
  t.after(async () => {
    await holder.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  const result = await runCliAsync(caseDir, ['recover', '--json', '--follow-timeout', '3']);
  assert.equal(result.code, 3, result.stderr);
  assert.deepEqual(json<RecoveredJson[]>(result).map((record) => [record.bytes, record.complete, record.note]), [
    [19, false, `still held open by process ${holder.pid} after following for 3 s: the file may still grow`],
    [20, false, `still held open by process ${holder.pid} after following for 3 s: the file may still grow`],
  ]);
  // Followed side by side: the two follows end together, not 3 s apart (one after the other).
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  const ends = (db.prepare('SELECT finished_at FROM recoveries ORDER BY id').all() as Array<{ finished_at: string }>).map((row) => Date.parse(row.finished_at));
  db.close();
  assert.ok(Math.abs((ends[1] ?? 0) - (ends[0] ?? 0)) < 1500, `the follows ended ${(ends[1] ?? 0) - (ends[0] ?? 0)} ms apart`);
});

test('without --follow a growing file is a point-in-time copy, marked incomplete (root)', async (t) => {
  const dir = makeTempDir('grow');
  const caseDir = caseDirOnOtherFs('grow-case');
  const writer = spawn('python3', ['-c', String.raw`
import os, sys, time
p = sys.argv[1]
fd = os.open(p, os.O_CREAT | os.O_WRONLY, 0o600)
os.write(fd, b'x' * (64 << 20))
os.unlink(p)
print(os.getpid(), flush=True)
while True:
    os.write(fd, b'y' * 65536)
    time.sleep(0.001)
`, path.join(dir, 'busy.log')], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    writer.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const pid = await firstLine(writer);
  runCli(caseDir, ['snapshot', '--no-lsof', '--pid', pid]);
  const result = runCli(caseDir, ['recover', '--json']);
  const [record] = json<RecoveredJson[]>(result);
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  const sizes = db.prepare('SELECT size_at_start, size_at_end FROM recoveries').get() as { size_at_start: number; size_at_end: number };
  db.close();
  assert.ok(sizes.size_at_end > sizes.size_at_start, 'the file grew while it was copied, and both sizes are recorded');
  assert.ok((record?.bytes ?? 0) >= 64 << 20);
  // complete means: every byte up to the size at the end. The copy can catch up with the writer for
  // a moment (then it is complete at that size); usually the writer is ahead at the end.
  if (record?.complete === true) {
    assert.equal(result.code, 0);
    assert.equal(record.bytes, sizes.size_at_end);
  } else {
    assert.equal(result.code, 3);
    assert.match(record?.note ?? '', /^point-in-time copy: the file grew from \d+ to \d+ bytes while it was copied; \d+ bytes copied \(use --follow\)$/);
    assert.ok((record?.bytes ?? 0) < sizes.size_at_end);
  }
});

test('PID reuse and fd reuse are detected: nothing is copied (root)', async (t) => {
  const dir = makeTempDir('reuse');
  const caseDir = caseDirOnOtherFs('reuse-case');
  const holders: Holder[] = [];
  t.after(async () => {
    for (const holder of holders) await holder.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const first = await startHolder(dir, [{ kind: 'fd', name: 'first', content: Buffer.from('first content') }]);
  holders.push(first);
  runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(first.pid)]);
  // The process is gone: its PID may be reused, its files are gone.
  await first.stop();
  const gone = json<RecoveredJson[]>(runCli(caseDir, ['recover', '--json']));
  assert.equal(gone[0]?.complete, false);
  assert.match(gone[0]?.note ?? '', /process \d+ has exited|PID reuse/);
  assert.equal(gone[0]?.output, null);

  // Same process, same fd number, another file: the snapshot's inode is checked after open.
  const second = await startHolder(dir, [{ kind: 'fd', name: 'second', content: Buffer.from('second content') }]);
  holders.push(second);
  runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(second.pid)]);
  const listed = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.equal(listed.length, 1);
  // Rewrite the snapshot's record so that it names another inode, as if the fd had been reused since.
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(path.join(caseDir, 'case.sqlite'));
  db.prepare('UPDATE items SET inode = inode + 1 WHERE id = ?').run(listed[0]?.id);
  db.prepare('UPDATE items SET start_time = start_time WHERE id = ?').run(listed[0]?.id);
  db.close();
  const reused = json<RecoveredJson[]>(runCli(caseDir, ['recover', '--json', '--item', String(listed[0]?.id)]));
  assert.equal(reused[0]?.complete, false);
  assert.match(reused[0]?.note ?? '', /now refers to inode \d+ .* \(reused\)/);
  assert.equal(reused[0]?.output, null);

  const db2 = new Database(path.join(caseDir, 'case.sqlite'));
  db2.prepare('UPDATE items SET inode = inode - 1, start_time = start_time + 1 WHERE id = ?').run(listed[0]?.id);
  db2.close();
  const restarted = json<RecoveredJson[]>(runCli(caseDir, ['recover', '--json', '--item', String(listed[0]?.id)]));
  assert.match(restarted[0]?.note ?? '', /^PID reuse: process \d+ started at tick \d+, the snapshot saw start tick \d+$/);
});

test('an 8 GiB sparse file is copied sparse with the sha256 of its full content (root)', async (t) => {
  const dir = makeTempDir('sparse');
  const caseDir = caseDirOnOtherFs('sparse-case');
  const size = 8 * 1024 ** 3;
  const islands = [0, 3 * 1024 ** 3 + 12345, size - 4096];
  const writer = spawn('python3', ['-c', String.raw`
import os, sys, time
p, size = sys.argv[1], int(sys.argv[2])
fd = os.open(p, os.O_CREAT | os.O_RDWR, 0o600)
os.ftruncate(fd, size)
for off in map(int, sys.argv[3:]):
    os.pwrite(fd, b'island at %d\n' % off, off)
os.unlink(p)
print(os.getpid(), flush=True)
time.sleep(3600)  # killed by the test when done
`, path.join(dir, 'disk.img'), String(size), ...islands.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    writer.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const pid = await firstLine(writer);
  runCli(caseDir, ['snapshot', '--no-lsof', '--pid', pid]);
  // The reference hash, streamed over the same logical content.
  const hash = crypto.createHash('sha256');
  const zero = Buffer.alloc(64 * 1024 * 1024);
  const marks = new Map(islands.map((offset) => [offset, Buffer.from(`island at ${offset}\n`)]));
  let position = 0;
  const sorted = [...marks.entries()].sort((a, b) => a[0] - b[0]);
  for (const [offset, data] of sorted) {
    while (position < offset) {
      const step = Math.min(zero.length, offset - position);
      hash.update(zero.subarray(0, step));
      position += step;
    }
    hash.update(data);
    position += data.length;
  }
  while (position < size) {
    const step = Math.min(zero.length, size - position);
    hash.update(zero.subarray(0, step));
    position += step;
  }
  const result = await runCliAsync(caseDir, ['recover', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const [record] = json<RecoveredJson[]>(result);
  assert.equal(record?.bytes, size);
  assert.equal(record?.sha256, hash.digest('hex'));
  const stat = fs.statSync(record?.output ?? '');
  assert.equal(stat.size, size);
  assert.ok(stat.blocks * 512 < 16 * 1024 * 1024, `copy allocates ${stat.blocks * 512} bytes, not 8 GiB`);
});

/** A process holding a deleted file on an ext4 with one free inode; swap() puts a new file on the same fd, with the same inode number. */
async function inodeReuse(
  t: TestContext, tmpfile: boolean, options: { noBirthTimes?: boolean; substituteName?: string } = {},
): Promise<{ caseDir: string; mountPoint: string; fd: string; inode: string; pid: number; swap(): Promise<string[]> }> {
  // ext4 gives a freed inode number to the next new file: a log closed and reopened (or a swap by an
  // attacker) puts another file on the same fd number with the same dev and inode. An ext4 of its
  // own with exactly one free inode makes the reuse certain.
  const dir = makeTempDir('inode-reuse');
  const caseDir = caseDirOnOtherFs('inode-reuse-case');
  // 128-byte inodes: no room for a birth time (as on ext3).
  const device = loopFs({ dir, backing: path.join(dir, 'fs.img'), sizeMiB: 16, mkfsArgs: ['-N', '64', ...(options.noBirthTimes === true ? ['-I', '128'] : [])], lazyUnmount: true });
  const { mountPoint } = device;
  let holder: ReturnType<typeof spawn> | null = null;
  t.after(() => {
    if (holder?.pid !== undefined && holder.exitCode === null) holder.kill('SIGKILL');
    device.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  // Every inode in use but one.
  execFileSync('python3', ['-c', `
import os, sys, errno
n = 0
while True:
    try:
        open(os.path.join(sys.argv[1], 'fill%d' % n), 'w').close()
    except OSError as e:
        if e.errno != errno.ENOSPC: raise
        break
    n += 1
os.unlink(os.path.join(sys.argv[1], 'fill0'))
`, mountPoint]);
  const script = `
import os, signal, sys, time
d = sys.argv[1]
def create(name):
    if sys.argv[2] == 'tmpfile':
        return os.open(d, os.O_RDWR | os.O_TMPFILE, 0o600)
    made = os.open(os.path.join(d, name), os.O_RDWR | os.O_CREAT, 0o600)
    os.unlink(os.path.join(d, name))
    return made
fd = create('orig')
os.write(fd, b'ORIGINAL')
def swap(*_):
    os.close(fd)
    other = create(sys.argv[3])
    os.write(other, b'SUBSTITUTE')
    print('swapped %d %d' % (other, os.fstat(other).st_ino), flush=True)
signal.signal(signal.SIGUSR1, swap)
print('ready %d %d' % (fd, os.fstat(fd).st_ino), flush=True)
while True:
    time.sleep(1)
`;
  const started = spawn('python3', ['-c', script, mountPoint, tmpfile ? 'tmpfile' : 'fd', options.substituteName ?? 'other'], { stdio: ['ignore', 'pipe', 'inherit'] });
  holder = started;
  const lines: string[] = [];
  const nextLine = () => new Promise<string>((resolve, reject) => {
    const poll = setInterval(() => {
      const line = lines.shift();
      if (line !== undefined) {
        clearInterval(poll);
        resolve(line);
      } else if (started.exitCode !== null) {
        clearInterval(poll);
        reject(new Error(`the holder exited (${started.exitCode})`));
      }
    }, 20);
  });
  started.stdout?.setEncoding('utf8').on('data', (text: string) => lines.push(...text.split('\n').filter(Boolean)));
  const [, fd = '', inode = ''] = (await nextLine()).split(' ');
  return {
    caseDir, mountPoint, fd, inode, pid: started.pid ?? -1,
    swap: async () => {
      started.kill('SIGUSR1');
      return (await nextLine()).split(' ');
    },
  };
}

test('an inode number handed to a new file on the same fd is caught by the birth time: the substitute is never copied (root)', async (t) => {
  const { caseDir, fd: fdText, inode: inodeText, pid, swap } = await inodeReuse(t, false);
  runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]);
  const listed = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.deepEqual(listed.map((item) => [item.kind, item.fd, item.inode, item.size]), [['fd', Number(fdText), Number(inodeText), 8]]);
  // The precondition: the same fd number, the same inode number, another file.
  assert.deepEqual(await swap(), ['swapped', fdText, inodeText]);

  const copied = runCli(caseDir, ['recover', '--json', '--force-same-fs']);
  assert.equal(copied.code, 3);
  const refused = json<RecoveredJson[]>(copied);
  assert.deepEqual(refused.map((copy) => [copy.complete, copy.output, copy.sha256]), [[false, null, null]]);
  assert.match(refused[0]?.note ?? '', new RegExp(`^fd ${fdText} now refers to another file with the same inode number ${inodeText}: born \\S+Z, the snapshot's file was born \\S+Z \\(the inode number was reused\\)$`));
  assert.deepEqual(fs.readdirSync(path.join(caseDir, 'recovered')).filter((name) => name !== 'SHA256SUMS'), []);
});

test('without birth times (ext4 with 128-byte inodes) a file on the same fd with a reused inode number is told by its name: another name is refused, the same name copied with a note that says custody was by device, inode and name only (root)', async (t) => {
  for (const substituteName of ['other', 'orig']) {
    await t.test(substituteName, async (t) => {
      const { caseDir, mountPoint, fd: fdText, inode: inodeText, pid, swap } = await inodeReuse(t, false, { noBirthTimes: true, substituteName });
      runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]);
      const listed = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
      assert.equal(listed[0]?.path, path.join(mountPoint, 'orig'));
      assert.deepEqual(await swap(), ['swapped', fdText, inodeText]);
      const copied = runCli(caseDir, ['recover', '--json', '--force-same-fs']);
      const [record] = json<RecoveredJson[]>(copied);
      if (substituteName === 'other') {
        assert.equal(copied.code, 3);
        assert.deepEqual([record?.complete, record?.output, record?.sha256, record?.note], [false, null, null,
          `fd ${fdText} now refers to another file with the same inode number ${inodeText}: named ${path.join(mountPoint, 'other')} now, the snapshot's file was ${path.join(mountPoint, 'orig')} ` +
          '(a deleted file cannot be renamed: the inode number was reused; no birth time to compare)']);
        assert.deepEqual(fs.readdirSync(path.join(caseDir, 'recovered')).filter((name) => name !== 'SHA256SUMS'), []);
      } else {
        // Nothing on the file tells it from the snapshot's: copied, and the record says how little custody rests on.
        assert.equal(copied.code, 0, copied.stderr);
        assert.deepEqual([record?.complete, record?.sha256, record?.note], [true, sha256(Buffer.from('SUBSTITUTE')),
          'custody by device, inode and name only (no birth time to compare): a later file given the same inode number and the same name could not be told from it']);
      }
    });
  }
});

test('without birth times a deleted executable replaced by another on the same inode number (the process exec\'d it) is refused: by its name, or by its size when the name is the same (root)', async (t) => {
  for (const secondName of ['Y', 'X']) {
    await t.test(secondName, async (t) => {
      const dir = makeTempDir('exe-reuse');
      const caseDir = caseDirOnOtherFs('exe-reuse-case');
      const device = loopFs({ dir, backing: path.join(dir, 'fs.img'), sizeMiB: 32, mkfsArgs: ['-N', '64', '-I', '128'], lazyUnmount: true });
      const { mountPoint } = device;
      let runner: ReturnType<typeof spawn> | null = null;
      t.after(() => {
        if (runner?.pid !== undefined && runner.exitCode === null) runner.kill('SIGKILL');
        device.cleanup();
        fs.rmSync(dir, { recursive: true, force: true });
        fs.rmSync(caseDir, { recursive: true, force: true });
      });
      // X: a shell (dash), run from the test's file system and deleted; on SIGUSR1 it execs a shell that
      // makes a copy of sleep there (on X's freed inode number, the only one free), deletes it and execs it.
      const x = path.join(mountPoint, 'X');
      fs.copyFileSync('/bin/dash', x);
      fs.chmodSync(x, 0o755);
      execFileSync('sh', ['-c', 'i=0; while touch "$1/fill$i" 2>/dev/null; do i=$((i+1)); done', 'fill', mountPoint]);
      const fill = path.join(mountPoint, 'fill0');
      fs.unlinkSync(fill);
      const second = path.join(mountPoint, secondName);
      const swap = 'cp /bin/sleep "$1" && exec 3<"$1" && rm "$1" && echo swapped && exec /proc/self/fd/3 600';
      runner = spawn(x, ['-c', 'trap \'exec /bin/sh -c "$0" sh "$1"\' USR1; echo ready; while :; do sleep 0.05; done', swap, second], { stdio: ['ignore', 'pipe', 'inherit'] });
      assert.equal(await firstLine(runner), 'ready');
      fs.unlinkSync(x);
      const xInode = fs.statSync(`/proc/${runner.pid}/exe`).ino;
      // The last free inode is taken, so X's number is the one the copy of sleep gets.
      fs.writeFileSync(fill, '');
      assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(runner.pid)]).code, 0);
      const [item] = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
      assert.deepEqual([item?.kind, item?.path, item?.inode], ['exe', x, xInode]);
      const swapped = firstLine(runner);
      runner.kill('SIGUSR1');
      assert.equal(await swapped, 'swapped');
      await waitFor(() => fs.readlinkSync(`/proc/${runner?.pid}/exe`) === `${second} (deleted)`, 5000, 'the copy of sleep runs');
      // The precondition: the same process, the same inode number, another executable.
      assert.equal(fs.statSync(`/proc/${runner.pid}/exe`).ino, xInode);

      const copied = runCli(caseDir, ['recover', '--json', '--force-same-fs']);
      assert.equal(copied.code, 3);
      const [record] = json<RecoveredJson[]>(copied);
      const another = `exe now refers to another file with the same inode number ${xInode}`;
      assert.deepEqual([record?.complete, record?.output, record?.note], [false, null, secondName === 'Y'
        ? `${another}: named ${second} now, the snapshot's file was ${x} (a deleted file cannot be renamed: the inode number was reused; no birth time to compare)`
        : `${another}: ${fs.statSync('/bin/sleep').size} bytes, the snapshot's executable was ${fs.statSync('/bin/dash').size} (a running executable cannot be written: the inode number was reused; no birth time to compare)`]);
    });
  }
});

test('relink of an O_TMPFILE item whose fd now holds another O_TMPFILE file on the same inode number is refused: no name is given to the substitute (root)', async (t) => {
  const { caseDir, mountPoint, fd: fdText, inode: inodeText, pid, swap } = await inodeReuse(t, true);
  runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]);
  const listed = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.deepEqual(listed.map((item) => [item.kind, item.fd, item.inode]), [['tmpfile', Number(fdText), Number(inodeText)]]);
  assert.deepEqual(await swap(), ['swapped', fdText, inodeText]);
  const target = path.join(mountPoint, 'relinked');
  const refused = runCli(caseDir, ['relink', '--item', String(listed[0]?.id), '--to', target]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, new RegExp(`^unlinked: cannot relink item ${listed[0]?.id}: fd ${fdText} now refers to another file with the same inode number ${inodeText}: .* \\(the inode number was reused\\)\\n$`));
  assert.equal(fs.existsSync(target), false);
});

test('recover refuses to write onto the file system that holds the item (root)', async (t) => {
  const dir = makeTempDir('samefs');
  const caseDir = makeTempDir('samefs-case'); // same file system as dir, on purpose
  const holder = await startHolder(dir, [{ kind: 'fd', name: 'evidence.log', content: Buffer.from('evidence') }]);
  t.after(async () => {
    await holder.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]);
  const refused = runCli(caseDir, ['recover', '--json']);
  assert.equal(refused.code, 1);
  assert.equal(refused.stdout, '');
  assert.match(refused.stderr.trim(), /^unlinked: refusing to write into .*recovered: it is on device \d+:\d+, the same file system as item 1 .* pass --force-same-fs$/);
  assert.deepEqual(fs.readdirSync(path.join(caseDir, 'recovered')), []);
  const forced = json<RecoveredJson[]>(runCli(caseDir, ['recover', '--json', '--force-same-fs']));
  assert.equal(forced[0]?.sha256, sha256(Buffer.from('evidence')));
});

test('the case database is held to the same rule as recovered/: a recovered/ on a tmpfs mounted in a case on the evidence file system, or a symbolic link to one, does not let recover write case.sqlite there unless --force-same-fs (root)', async (t) => {
  const dir = makeTempDir('samefs-db');
  // The case on the evidence file system (/var/tmp), its recovered/ in memory.
  const caseDir = path.join(dir, 'case');
  const recovered = path.join(caseDir, 'recovered');
  const elsewhere = makeTempDir('samefs-db-elsewhere', '/dev/shm');
  const holder = await startHolder(dir, [{ kind: 'fd', name: 'evidence.log', content: Buffer.from('evidence') }]);
  t.after(async () => {
    await holder.stop();
    if (fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((line) => line.split(' ')[4] === recovered)) execFileSync('umount', [recovered]);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(elsewhere, { recursive: true, force: true });
  });
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  const evidenceDev = devString(fs.statSync(dir).dev);
  const refusal = `unlinked: refusing to write the case database into ${caseDir}: it is on device ${evidenceDev}, the same file system as item 1 (${path.join(dir, 'evidence.log')}), ` +
    'whose freed blocks its writes could overwrite (wherever recovered/ is); put the case on another disk (--case /mnt/usb/case) or pass --force-same-fs\n';
  const refused = (): void => {
    const result = runCli(caseDir, ['recover', '--json']);
    assert.deepEqual([result.code, result.stdout, result.stderr], [1, '', refusal]);
    assert.deepEqual(fs.readdirSync(recovered), []);
  };
  fs.mkdirSync(recovered, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0755', 'tmpfs', recovered]);
  refused();
  execFileSync('umount', [recovered]);
  fs.rmdirSync(recovered);
  fs.symlinkSync(elsewhere, recovered);
  refused();
  const forced = runCli(caseDir, ['recover', '--json', '--force-same-fs']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.deepEqual(json<RecoveredJson[]>(forced).map((copy) => [copy.complete, copy.sha256]), [[true, sha256(Buffer.from('evidence'))]]);
});

test('a case on a loop-mounted image file whose backing file is on the evidence file system is refused, on the loop device or a partition of it; an item elsewhere is copied (root)', async (t) => {
  const dir = makeTempDir('loopcase'); // /var/tmp: the evidence file system, and the image files' too
  const shm = makeTempDir('loopcase-other', '/dev/shm');
  const cleanups: Array<() => void> = [];
  const holders: Holder[] = [];
  t.after(async () => {
    for (const holder of holders) await holder.stop();
    undoEach(cleanups);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(shm, { recursive: true, force: true });
  });
  // A plain image file, as in `truncate -s 64M c.img; mkfs.ext4 -q c.img; mount -o loop c.img /mnt/c`.
  const plain = loopFs({ backing: path.join(dir, 'c.img'), sizeMiB: 64, mountPoint: path.join(dir, 'c') });
  cleanups.push(plain.cleanup);
  const { backing: plainImage, mountPoint: plainMount } = plain;
  // An image with a partition table: the case on its first partition, /dev/loopNp1.
  const parted = loopFs({ backing: path.join(dir, 'p.img'), sizeMiB: 64, table: 'label: dos\nstart=2048, type=83\n', partitions: 1, mountPoint: false });
  cleanups.push(parted.cleanup);
  const { backing: partedImage, loop: partedLoop } = parted;
  execFileSync('mkfs.ext4', ['-q', '-F', `${partedLoop}p1`]);
  const partedMount = parted.mount(`${partedLoop}p1`, path.join(dir, 'p'));

  holders.push(await startHolder(dir, [{ kind: 'fd', name: 'evidence.log', content: Buffer.from('on the evidence disk') }]));
  holders.push(await startHolder(shm, [{ kind: 'fd', name: 'elsewhere.log', content: Buffer.from('on a tmpfs') }]));
  const evidenceDev = devString(fs.statSync(dir).dev);
  for (const [mountPoint, image, under] of [[plainMount, plainImage, ''], [partedMount, partedImage, `, a partition of ${devString(fs.statSync(partedLoop).rdev)}`]] as const) {
    const caseDir = path.join(mountPoint, 'case');
    const caseDev = devString(fs.statSync(mountPoint).dev);
    assert.notEqual(caseDev, evidenceDev, 'st_dev alone does not see it');
    const { onEvidence, elsewhere: onTmpfs } = snapshotHolders(caseDir, holders);
    const refused = runCli(caseDir, ['recover', '--snapshot', String(onEvidence.snapshot_id), '--json']);
    assert.deepEqual([refused.code, refused.stdout, refused.stderr], [1, '',
      sameFsRefusalLine(caseDir, `${caseDev}${under}, a loop device whose backing file ${image} is on ${evidenceDev}`, onEvidence, `${dir}/evidence.log`)]);
    assert.deepEqual(fs.readdirSync(path.join(caseDir, 'recovered')), []);
    // Not a refusal of every loop device: a file elsewhere is copied onto it.
    const copied = runCli(caseDir, ['recover', '--snapshot', String(onTmpfs.snapshot_id), '--json']);
    assert.equal(copied.code, 0, copied.stderr);
    assert.deepEqual(json<RecoveredJson[]>(copied).map((record) => [record.item_id, record.complete, record.sha256]), [[onTmpfs.id, true, sha256(Buffer.from('on a tmpfs'))]]);
  }
});

test('a file on an overlay (a container\'s root) is on the disk of the overlay\'s upper layer: a case there is refused, triage skips it (root)', async (t) => {
  const dir = makeTempDir('overlay');
  // The upper layer on a file system of its own (a tmpfs), as a container's upper layer is on the host's disk.
  const disk = path.join(dir, 'disk');
  const merged = path.join(dir, 'merged');
  for (const sub of [disk, merged, path.join(dir, 'lower')]) fs.mkdirSync(sub);
  // Room for a host-wide triage (its snapshot and copies of every other process's deleted files):
  // 16 MiB filled up on a busy host (SQLITE_FULL). tmpfs takes memory only as it is written.
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512m', 'tmpfs', disk]);
  let holder: Holder | null = null;
  let overlayMounted = false;
  t.after(async () => {
    await holder?.stop();
    if (overlayMounted) execFileSync('umount', [merged]);
    execFileSync('umount', [disk]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  for (const sub of ['upper', 'work', 'case']) fs.mkdirSync(path.join(disk, sub));
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${path.join(dir, 'lower')},upperdir=${path.join(disk, 'upper')},workdir=${path.join(disk, 'work')}`, merged]);
  overlayMounted = true;
  holder = await startHolder(merged, [{ kind: 'fd', name: 'container.log', content: Buffer.from('written in a container') }]);
  const caseDir = path.join(disk, 'case');
  assert.notEqual(fs.statSync(merged).dev, fs.statSync(caseDir).dev, 'the overlay has a device number of its own');
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  const refused = runCli(caseDir, ['recover', '--json']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^unlinked: refusing to write into .*: it is on device \d+:\d+, the same file system as item 1 \(.*container\.log, on an overlay whose upper layer is there\)/);
  assert.deepEqual(fs.readdirSync(path.join(caseDir, 'recovered')), []);
  const triage = runCli(caseDir, ['triage', '--no-lsof', '--json']);
  const failures = (JSON.parse(triage.stdout) as { failures: Array<{ note: string }> }).failures.map((failure) => failure.note);
  assert.ok(failures.some((note) => note.startsWith('not copied: it is on')), failures.join('; '));
});

test('an overlay mounted inside a holder\'s namespace: its upper directory is looked up as the holder sees it (here the same path names a tmpfs), so a case on the real upper disk is refused and one on the tmpfs is not (root)', async (t) => {
  const dir = makeTempDir('nsoverlay'); // /var/tmp: the disk of the real upper layer
  const decoy = makeTempDir('nsoverlay-decoy', '/dev/shm'); // the upper layer's path as seen from here: a tmpfs
  for (const sub of ['real/upper', 'real/work', 'lower', 'merged']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  for (const sub of ['upper', 'work']) fs.mkdirSync(path.join(decoy, sub));
  const script = String.raw`mount --bind "$2/real" "$3" && mount -t overlay overlay -o "lowerdir=$2/lower,upperdir=$3/upper,workdir=$3/work" "$2/merged" && exec python3 -c "$1" "$2/merged"`;
  const holder = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', HELD_IN_DIR, dir, decoy], { stdio: ['pipe', 'pipe', 'inherit'] });
  const safeCase = makeTempDir('nsoverlay-case', '/dev/shm');
  t.after(async () => {
    await killed(holder).stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(decoy, { recursive: true, force: true });
    fs.rmSync(safeCase, { recursive: true, force: true });
  });
  const pid = Number(await firstLine(holder));
  const diskCase = path.join(dir, 'case');
  assert.equal(runCli(diskCase, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const refused = runCli(diskCase, ['recover', '--json']);
  assert.equal(refused.code, 1, refused.stderr);
  assert.equal(refused.stderr, `unlinked: refusing to write into ${diskCase}/recovered: it is on device ${devString(fs.statSync(dir).dev)}, the same file system as item 1 ` +
    `(${dir}/merged/held.log, on an overlay whose upper layer is there (${decoy}/upper, as its process sees it)), whose freed blocks a copy could overwrite; put the case on another disk (--case /mnt/usb/case) or pass --force-same-fs\n`);
  assert.equal(runCli(safeCase, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const copies = json<RecoveredJson[]>(runCli(safeCase, ['recover', '--json']));
  assert.deepEqual(copies.map((copy) => [copy.sha256, copy.complete]), [[sha256(Buffer.from('held on an overlay '.repeat(100))), true]]);
});

/** python3 holding a deleted file of DIR (made, written, unlinked): it prints its PID. */
const HELD_IN_DIR = String.raw`import os, sys
fd = os.open(os.path.join(sys.argv[1], 'held.log'), os.O_CREAT | os.O_RDWR, 0o600)
os.write(fd, b'held on an overlay ' * 100)
os.unlink(os.path.join(sys.argv[1], 'held.log'))
print(os.getpid(), flush=True)
sys.stdin.read()`;

/** python3 holding a deleted file of JAIL (made, written, unlinked), then chrooted into JAIL: it prints its PID. */
const CHROOTED_HOLDER = String.raw`import os, sys
jail = sys.argv[1]
fd = os.open(os.path.join(jail, 'held.log'), os.O_CREAT | os.O_RDWR, 0o600)
os.write(fd, b'held in a chroot ' * 100)
os.unlink(os.path.join(jail, 'held.log'))
os.chroot(jail)
os.chdir('/')
print(os.getpid(), flush=True)
sys.stdin.read()`;

test('a process chrooted below its mount\'s root (its mountinfo lists nothing): its overlay file is still known to be on the upper layer\'s disk, or, its mount nowhere to be seen, not copied unless forced; on a tmpfs it is copied (root)', async (t) => {
  const dir = makeTempDir('chroot-overlay'); // /var/tmp: the disk of the upper layer, and of the first case
  const merged = path.join(dir, 'merged');
  for (const sub of ['lower', 'upper', 'work', 'merged']) fs.mkdirSync(path.join(dir, sub));
  const overlay = ['-t', 'overlay', 'overlay', '-o', `lowerdir=${path.join(dir, 'lower')},upperdir=${path.join(dir, 'upper')},workdir=${path.join(dir, 'work')}`, merged];
  const holders: Array<ReturnType<typeof spawn>> = [];
  let mounted = false;
  t.after(async () => {
    for (const holder of holders) await killed(holder).stop();
    if (mounted) execFileSync('umount', [merged]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const start = async (command: string, args: string[]): Promise<number> => {
    const holder = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    holders.push(holder);
    return Number(await firstLine(holder));
  };
  // 1. The overlay mounted here, the holder chrooted into a directory of it.
  execFileSync('mount', overlay);
  mounted = true;
  fs.mkdirSync(path.join(merged, 'jail'));
  const pid = await start('python3', ['-c', CHROOTED_HOLDER, path.join(merged, 'jail')]);
  assert.equal(fs.readFileSync(`/proc/${pid}/mountinfo`, 'latin1'), '', 'a chrooted process sees no mount');
  const caseDir = path.join(dir, 'case');
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const refused = runCli(caseDir, ['recover', '--json']);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /^unlinked: refusing to write into .*: it is on device \d+:\d+, the same file system as item 1 \(.*held\.log, on an overlay whose upper layer is there\)/);

  // 2. The overlay in a mount namespace of its own: no mountinfo here or there names its device.
  const privateCase = makeTempDir('chroot-overlay-case', '/dev/shm');
  t.after(() => fs.rmSync(privateCase, { recursive: true, force: true }));
  for (const sub of ['upper2', 'work2', 'merged2']) fs.mkdirSync(path.join(dir, sub));
  const overlay2 = `lowerdir=${path.join(dir, 'lower')},upperdir=${path.join(dir, 'upper2')},workdir=${path.join(dir, 'work2')}`;
  const hidden = await start('unshare', [
    '-m', '--propagation', 'private', 'sh', '-c', 'mount -t overlay overlay -o "$3" "$2" && mkdir "$2/jail" && exec python3 -c "$1" "$2/jail"', 'sh', CHROOTED_HOLDER, path.join(dir, 'merged2'), overlay2,
  ]);
  // A tmpfs in a mount namespace of its own: memory, whatever its mount.
  const inMemory = await start('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mkdir -p "$2" && mount -t tmpfs tmpfs "$2" && mkdir "$2/jail" && exec python3 -c "$1" "$2/jail"', 'sh', CHROOTED_HOLDER, path.join(dir, 'tmpfs')]);
  assert.equal(runCli(privateCase, ['snapshot', '--no-lsof', '--pid', String(hidden), '--pid', String(inMemory)]).code, 0);
  const items = json<LiveItemJson[]>(runCli(privateCase, ['list', '--all', '--json']));
  const onOverlay = items.find((item) => item.pid === hidden);
  const onTmpfs = items.find((item) => item.pid === inMemory);
  assert.deepEqual([onOverlay?.mount_point, onTmpfs?.mount_point], [null, null], 'their mounts are unknown');
  const copies = json<RecoveredJson[]>(runCli(privateCase, ['recover', '--json']));
  const overlayCopy = copies.find((copy) => copy.item_id === onOverlay?.id);
  assert.deepEqual([overlayCopy?.output, overlayCopy?.complete], [null, false]);
  assert.match(overlayCopy?.note ?? '', /^not copied: it is on device 0:\d+, whose mount is known neither to its snapshot \(its process sees none: chrooted below the mount's root\?\) nor here \(a file system of type 0x794c7630\): .* rerun with --force-same-fs to copy it anyway$/);
  const tmpfsCopy = copies.find((copy) => copy.item_id === onTmpfs?.id);
  assert.deepEqual([tmpfsCopy?.sha256, tmpfsCopy?.complete], [sha256(Buffer.from('held in a chroot '.repeat(100))), true]);
  const forced = json<RecoveredJson[]>(runCli(privateCase, ['recover', '--item', String(onOverlay?.id), '--force-same-fs', '--json']));
  assert.deepEqual([forced[0]?.sha256, forced[0]?.complete], [sha256(Buffer.from('held in a chroot '.repeat(100))), true]);
});

test('an item whose process has exited is said to be so, first: not refused as on the case\'s file system or on a mount known nowhere, nor pointed at --force-same-fs (root)', async (t) => {
  // 1. On the file system of the case (both under /var/tmp): recover (the whole run refused for such an item) and triage's way (the item skipped).
  const dir = makeTempDir('exited-samefs');
  const caseDir = makeTempDir('exited-samefs-case');
  const holder = await startHolder(dir, [{ kind: 'fd', name: 'evidence.log', content: Buffer.from('evidence') }]);
  const jailed: Array<ReturnType<typeof spawn>> = [];
  const privateCase = caseDirOnOtherFs('exited-unknown-case');
  t.after(async () => {
    await holder.stop();
    for (const child of jailed) await killed(child).stop();
    for (const folder of [dir, caseDir, privateCase]) fs.rmSync(folder, { recursive: true, force: true });
  });
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  await holder.stop();
  const exited = `process ${holder.pid} has exited`;
  const recovered = runCli(caseDir, ['recover', '--json']);
  assert.equal(recovered.code, 3, recovered.stderr);
  assert.deepEqual(json<RecoveredJson[]>(recovered).map((copy) => [copy.item_id, copy.output, copy.complete, copy.note]), [[1, null, false, exited]]);
  assert.doesNotMatch(recovered.stderr, /force-same-fs|same file system/);
  const kase = openCase(caseDir, { create: false });
  try {
    const skipped = await recoverItems(kase.db, listItems(kase.db, 1).map((item) => item.id), { outputDir: kase.paths.recovered, follow: false, followTimeoutS: null, sameFs: 'skip' });
    assert.deepEqual(skipped.map((copy) => [copy.item_id, copy.output, copy.note]), [[1, null, exited]]);
  } finally {
    kase.close();
  }
  // 2. Chrooted into a tmpfs of a mount namespace of its own: its mount is known neither to its snapshot nor here, and, its process gone, statfs cannot say tmpfs.
  const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mkdir -p "$2" && mount -t tmpfs tmpfs "$2" && mkdir "$2/jail" && exec python3 -c "$1" "$2/jail"', 'sh', CHROOTED_HOLDER, path.join(dir, 'tmpfs')], { stdio: ['pipe', 'pipe', 'inherit'] });
  jailed.push(child);
  const pid = Number(await firstLine(child));
  assert.equal(runCli(privateCase, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  assert.deepEqual(json<LiveItemJson[]>(runCli(privateCase, ['list', '--json'])).map((item) => [item.dev?.startsWith('0:'), item.mount_point]), [[true, null]]);
  await killed(child).stop();
  const unknown = runCli(privateCase, ['recover', '--json']);
  assert.equal(unknown.code, 3, unknown.stderr);
  assert.deepEqual(json<RecoveredJson[]>(unknown).map((copy) => [copy.output, copy.complete, copy.note]), [[null, false, `process ${pid} has exited`]]);
  assert.doesNotMatch(unknown.stderr, /force-same-fs|known neither/);
});

test('a case on an overlay whose upper layer is on the evidence file system is refused: its writes land there, whatever its device number says (root)', async (t) => {
  const dir = makeTempDir('overlay-case'); // /var/tmp: the evidence file system, and the overlay's upper layer
  const other = makeTempDir('overlay-case-other', '/dev/shm');
  const merged = path.join(dir, 'merged');
  // A comma in the upper and work directories' names: overlay's own escape (\,) inside mountinfo's (\134\054).
  for (const sub of ['lower', 'up,per', 'wo,rk', 'merged']) fs.mkdirSync(path.join(dir, sub));
  const holders: Holder[] = [];
  const relative = path.join(dir, 'relative');
  let overlayMounted = false;
  let relativeMounted = false;
  t.after(async () => {
    for (const holder of holders) await holder.stop();
    if (overlayMounted) execFileSync('umount', [merged]);
    if (relativeMounted) execFileSync('umount', [relative]);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(other, { recursive: true, force: true });
  });
  // As a container's root: the case written inside it lands in the upper directory, on the host's disk.
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${path.join(dir, 'lower')},upperdir=${path.join(dir, 'up\\,per')},workdir=${path.join(dir, 'wo\\,rk')}`, merged]);
  overlayMounted = true;
  holders.push(await startHolder(dir, [{ kind: 'fd', name: 'evidence.log', content: Buffer.from('on the evidence disk') }]));
  holders.push(await startHolder(other, [{ kind: 'fd', name: 'elsewhere.log', content: Buffer.from('on a tmpfs') }]));
  const caseDir = path.join(merged, 'case');
  const evidenceDev = devString(fs.statSync(dir).dev);
  const overlayDev = devString(fs.statSync(merged).dev);
  assert.notEqual(overlayDev, evidenceDev, 'st_dev alone does not see it');
  const { onEvidence, elsewhere: onTmpfs } = snapshotHolders(caseDir, holders);
  const refused = runCli(caseDir, ['recover', '--snapshot', String(onEvidence.snapshot_id), '--json']);
  assert.deepEqual([refused.code, refused.stdout, refused.stderr], [1, '',
    sameFsRefusalLine(caseDir, `${overlayDev}, an overlay whose upper directory ${dir}/up,per is on ${evidenceDev}`, onEvidence, `${dir}/evidence.log`)]);
  assert.deepEqual(fs.readdirSync(path.join(caseDir, 'recovered')), []);
  // Not a refusal of every overlay: a file elsewhere is copied onto it.
  const copied = runCli(caseDir, ['recover', '--snapshot', String(onTmpfs.snapshot_id), '--json']);
  assert.equal(copied.code, 0, copied.stderr);
  assert.deepEqual(json<RecoveredJson[]>(copied).map((record) => [record.item_id, record.complete, record.sha256]), [[onTmpfs.id, true, sha256(Buffer.from('on a tmpfs'))]]);
  // An overlay mounted from its folder with relative paths: where its upper directory is cannot be known from here; said, not guessed.
  for (const sub of ['rlower', 'rup', 'rwork', 'relative']) fs.mkdirSync(path.join(dir, sub));
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', 'lowerdir=rlower,upperdir=rup,workdir=rwork', 'relative'], { cwd: dir });
  relativeMounted = true;
  const unseenCase = path.join(relative, 'case');
  assert.equal(runCli(unseenCase, ['snapshot', '--no-lsof', '--pid', String(holders[1]?.pid)]).code, 0);
  const warned = runCli(unseenCase, ['recover', '--json']);
  assert.deepEqual([warned.code, warned.stderr.split('\n')[0]], [0,
    `warning: cannot tell where the copies written into ${unseenCase}/recovered land: it is on an overlay whose upper directory rup cannot be seen from here (a relative path, or one of another mount namespace): ` +
    `they may land on an item's file system; put the case on a disk of its own (--case /mnt/usb/case)`]);
  assert.deepEqual(json<RecoveredJson[]>(warned).map((record) => [path.basename(record.output ?? ''), record.complete, record.sha256]), [['1-' + String(holders[1]?.pid) + '-fd' + String(onTmpfs.fd) + '-elsewhere.log', true, sha256(Buffer.from('on a tmpfs'))]]);
});

test('btrfs gives each subvolume a device number of its own: a case in one subvolume is refused for a file held in another of the same file system, or in a container whose upper layer is in another (root)', async (t) => {
  const dir = makeTempDir('btrfs', '/dev/shm');
  const merged = path.join(dir, 'merged');
  const holders: Holder[] = [];
  let overlayMounted = false;
  // node:test runs after hooks in the order they were added: the holders stop, the overlay goes, then the btrfs.
  t.after(async () => {
    for (const holder of holders) await holder.stop();
  });
  t.after(() => {
    if (overlayMounted) execFileSync('umount', [merged]);
  });
  // What is mounted from files inside the btrfs goes before it.
  const inside: Array<() => void> = [];
  t.after(() => undoEach(inside));
  const { loop, mountPoint } = loopFsFor(t, { dir, sizeMiB: 256, fsType: 'btrfs', lazyUnmount: true });
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const subvolume of ['home', 'root', 'docker']) execFileSync('btrfs', ['-q', 'subvolume', 'create', path.join(mountPoint, subvolume)]);
  // Docker on btrfs: a container's upper layer in a subvolume of its own.
  for (const sub of [path.join(dir, 'lower'), merged, path.join(mountPoint, 'docker', 'upper'), path.join(mountPoint, 'docker', 'work')]) fs.mkdirSync(sub);
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${dir}/lower,upperdir=${mountPoint}/docker/upper,workdir=${mountPoint}/docker/work`, merged]);
  overlayMounted = true;
  const home = path.join(mountPoint, 'home');
  const caseDir = path.join(mountPoint, 'root', 'case');
  fs.mkdirSync(caseDir);
  const loopDev = devString(fs.statSync(loop).rdev);
  const [homeDev, caseDev] = [devString(fs.statSync(home).dev), devString(fs.statSync(caseDir).dev)];
  assert.ok(homeDev.startsWith('0:') && caseDev.startsWith('0:') && homeDev !== caseDev, `two anonymous device numbers, neither the disk's: ${homeDev} ${caseDev}`);
  const other = makeTempDir('btrfs-other', '/var/tmp');
  t.after(() => fs.rmSync(other, { recursive: true, force: true }));
  holders.push(await startHolder(home, [{ kind: 'fd', name: 'evidence.log', content: Buffer.from('in /home on btrfs') }]));
  holders.push(await startHolder(other, [{ kind: 'fd', name: 'elsewhere.log', content: Buffer.from('on another disk') }]));
  holders.push(await startHolder(merged, [{ kind: 'fd', name: 'container.log', content: Buffer.from('in a container') }]));
  const { items, onEvidence: onBtrfs, elsewhere } = snapshotHolders(caseDir, holders);
  // Its file system's UUID (what blkid says of the device), though its device number is the subvolume's.
  const uuid = execFileSync('blkid', ['-s', 'UUID', '-o', 'value', loop], { encoding: 'utf8' }).trim();
  assert.match(uuid, /^[0-9a-f-]{36}$/);
  assert.deepEqual([onBtrfs.dev, onBtrfs.fs_type, onBtrfs.mount_point, onBtrfs.fs_uuid], [homeDev, 'btrfs', mountPoint, uuid]);
  const refused = runCli(caseDir, ['recover', '--snapshot', String(onBtrfs.snapshot_id), '--json']);
  const onLoop = `${caseDev}, a btrfs file system on ${loop}, ${loopDev}`;
  assert.deepEqual([refused.code, refused.stdout, refused.stderr], [1, '', sameFsRefusalLine(caseDir, onLoop, onBtrfs, `${home}/evidence.log, on the btrfs file system of ${loop}`)]);
  assert.deepEqual(fs.readdirSync(path.join(caseDir, 'recovered')), []);
  const copied = runCli(caseDir, ['recover', '--snapshot', String(elsewhere.snapshot_id), '--json']);
  assert.equal(copied.code, 0, copied.stderr);
  assert.deepEqual(json<RecoveredJson[]>(copied).map((record) => [record.item_id, record.complete, record.sha256]), [[elsewhere.id, true, sha256(Buffer.from('on another disk'))]]);
  // An image file in the case's subvolume, loop-mounted: the case on it is refused too (its writes land in that subvolume).
  const image = loopFs({ backing: path.join(mountPoint, 'root', 'case.img'), sizeMiB: 32, mountPoint: path.join(dir, 'casefs') });
  inside.push(image.cleanup);
  const onImage = path.join(image.mountPoint, 'case');
  assert.equal(runCli(onImage, ['snapshot', '--no-lsof', '--pid', String(holders[0]?.pid)]).code, 0);
  const imageDev = devString(fs.statSync(image.mountPoint).dev);
  const onImageItem = json<LiveItemJson[]>(runCli(onImage, ['list', '--json']))[0] ?? assert.fail('no item');
  const refusedOnImage = runCli(onImage, ['recover', '--json']);
  assert.deepEqual([refusedOnImage.code, refusedOnImage.stderr], [1, sameFsRefusalLine(onImage,
    `${imageDev}, a loop device whose backing file ${mountPoint}/root/case.img is on ${caseDev}, a btrfs file system on ${loop}, ${loopDev}`, onImageItem, `${home}/evidence.log, on the btrfs file system of ${loop}`)]);
  // Seen from a mount namespace whose /dev has no such node (a container's): the device is found by its name in sysfs, the file system's UUID there too.
  assert.deepEqual(mountDevices({ source: `/dev/not-here/${path.basename(loop)}`, fsType: 'btrfs' }), [loopDev]);
  assert.deepEqual(btrfsWith(loopDev), { fsid: uuid, devices: [loopDev] });
  const forced = runCli(caseDir, ['recover', '--snapshot', String(onBtrfs.snapshot_id), '--json', '--force-same-fs']);
  assert.deepEqual(json<RecoveredJson[]>(forced).map((record) => [record.item_id, record.complete, record.sha256]), [[onBtrfs.id, true, sha256(Buffer.from('in /home on btrfs'))]]);
  const inContainer = items.find((item) => item.path.endsWith('container.log'));
  assert.ok(inContainer !== undefined);
  assert.equal(inContainer.fs_type, 'overlay');
  const refusedContainer = runCli(caseDir, ['recover', '--snapshot', String(inContainer.snapshot_id), '--json']);
  assert.deepEqual([refusedContainer.code, refusedContainer.stderr], [1,
    sameFsRefusalLine(caseDir, onLoop, inContainer, `${merged}/container.log, on an overlay whose upper layer is on the btrfs file system of ${loop}`)]);
});

test('a full case disk: the copy that cannot fit is refused before a byte of it is written, with why; the rest copied, no stack trace (root)', async (t) => {
  const dir = makeTempDir('full');
  const caseDir = makeTempDir('full-case', '/dev/shm');
  const small = Buffer.from('a small deleted log\n');
  const big = crypto.randomBytes(16 << 20);
  const holder = await startHolder(dir, [{ kind: 'fd', name: 'small.log', content: small }, { kind: 'fd', name: 'big.bin', content: big }]);
  const recovered = path.join(caseDir, 'recovered');
  t.after(async () => {
    await holder.stop();
    if (fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${recovered} `)) execFileSync('umount', [recovered]);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  // recovered/ on a 1 MiB file system of its own: the 16 MiB file cannot fit; the database is on
  // another disk, so only 64 KiB are kept there, for the SHA256SUMS lines.
  fs.mkdirSync(recovered);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'tmpfs', recovered]);
  const result = runCli(caseDir, ['recover', '--json']);
  assert.equal(result.code, 3, result.stderr); // partly done, not a crash
  assert.doesNotMatch(result.stderr, /node:internal|triggerUncaughtException|^\s+at /m);
  const copies = json<RecoveredJson[]>(result);
  assert.deepEqual(copies.map((copy) => [copy.fd, copy.complete, copy.sha256, copy.bytes]), [
    [holder.files[0]?.fd, true, sha256(small), small.length],
    [holder.files[1]?.fd, false, null, 0],
  ]);
  assert.equal(copies[1]?.output, null);
  assert.match(copies[1]?.note ?? '', /^not copied: the copy needs 16777216 bytes and the case's file system has \d+ bytes free \(64 KiB are kept for SHA256SUMS\): make room, or use a case on a larger disk$/);
  assert.deepEqual(fs.readdirSync(recovered).sort(), ['SHA256SUMS', path.basename(copies[0]?.output ?? '')].sort(), 'not a byte of the big file written');
  assert.deepEqual(fs.readFileSync(path.join(recovered, 'SHA256SUMS'), 'utf8').trim().split('\n').map((line) => line.split('  ')[0]), [sha256(small)]);
});

test('relink gives an O_TMPFILE file its name back, and explains why an ordinary deleted file cannot (the kernel refuses it) and where a relinked one is (root)', async (t) => {
  const dir = makeTempDir('relink');
  const caseDir = caseDirOnOtherFs('relink-case');
  const holder = await startHolder(dir, [
    { kind: 'tmpfile', content: Buffer.from('anonymous until now') },
    { kind: 'fd', name: 'ordinary', content: Buffer.from('ordinary') },
  ]);
  t.after(async () => {
    await holder.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]);
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  const tmpfile = items.find((item) => item.kind === 'tmpfile');
  const ordinary = items.find((item) => item.kind === 'fd');
  assert.ok(tmpfile !== undefined && ordinary !== undefined);
  // A dangling symbolic link is a name already: never replaced, never followed to create what it points at.
  const dangling = path.join(dir, 'dangling');
  fs.symlinkSync(path.join(dir, 'nowhere'), dangling);
  const onLink = runCli(caseDir, ['relink', '--item', String(tmpfile.id), '--to', dangling]);
  assert.deepEqual([onLink.code, onLink.stderr], [1, `unlinked: ${dangling} exists already: relink never replaces a file\n`]);
  assert.equal(fs.existsSync(path.join(dir, 'nowhere')), false);
  const target = path.join(dir, 'rescued.bin');
  const linked = runCli(caseDir, ['relink', '--item', String(tmpfile.id), '--to', target]);
  assert.equal(linked.code, 0, linked.stderr);
  assert.equal(fs.readFileSync(target, 'utf8'), 'anonymous until now');
  assert.equal(fs.statSync(target).nlink, 1);
  assert.equal(fs.statSync(target).ino, tmpfile.inode);
  const refused = runCli(caseDir, ['relink', '--item', String(ordinary.id), '--to', path.join(dir, 'nope')]);
  assert.deepEqual([refused.code, refused.stderr], [1, `unlinked: the kernel refuses to link item ${ordinary.id} (ENOENT): it is a file deleted from its name, or an O_TMPFILE file opened with O_EXCL or named once and unlinked again, which can never get a name again; use \`unlinked recover --item ${ordinary.id}\` to copy it\n`]);
  assert.equal(fs.existsSync(path.join(dir, 'nope')), false);
  const exists = runCli(caseDir, ['relink', '--item', String(tmpfile.id), '--to', target]);
  assert.equal(exists.code, 1);
  assert.match(exists.stderr, /exists already: relink never replaces a file/);
  // Named once: never a second name on the live file system.
  const twice = runCli(caseDir, ['relink', '--item', String(tmpfile.id), '--to', path.join(dir, 'again.bin')]);
  // Where to look for that name: the item's own mount point (/var/tmp is on /), never a placeholder.
  assert.equal(tmpfile.mount_point, '/');
  assert.deepEqual([twice.code, twice.stderr], [1, `unlinked: cannot relink item ${tmpfile.id}: it has a name again (link count 1): find it with \`find / -xdev -inum ${tmpfile.inode}\`\n`]);
  assert.equal(fs.existsSync(path.join(dir, 'again.bin')), false);
  const noDir = runCli(caseDir, ['relink', '--item', String(tmpfile.id), '--to', path.join(dir, 'no-such-dir', 'x.bin')]);
  assert.equal(noDir.stderr, `unlinked: cannot relink item ${tmpfile.id} as ${path.join(dir, 'no-such-dir', 'x.bin')}: the directory ${path.join(dir, 'no-such-dir')} does not exist\n`);
});

test('relink under a German locale: ln runs in the C locale, so the kernel\'s refusal is still explained, not passed on in German (root)', async (t) => {
  const dir = makeTempDir('relink-locale');
  const caseDir = caseDirOnOtherFs('relink-locale-case');
  const holder = await startHolder(dir, [{ kind: 'fd', name: 'ordinary', content: Buffer.from('ordinary') }]);
  // An ln that speaks as coreutils does under LC_ALL=de_DE.UTF-8 (its translations installed) unless
  // LC_ALL=C: a machine with the German locale generated is not needed.
  const tools = path.join(dir, 'bin');
  fs.mkdirSync(tools);
  fs.writeFileSync(path.join(tools, 'ln'), `#!/bin/sh
[ "$LC_ALL" = C ] && exec ${execFileSync('sh', ['-c', 'command -v ln'], { encoding: 'utf8' }).trim()} "$@"
echo "ln: Die harte Verkn\u00fcpfung konnte nicht angelegt werden: Datei oder Verzeichnis nicht gefunden" >&2
exit 1
`, { mode: 0o755 });
  t.after(async () => {
    await holder.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]);
  const [ordinary] = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.ok(ordinary !== undefined);
  const refused = runCli(caseDir, ['relink', '--item', String(ordinary.id), '--to', path.join(dir, 'nope')], { PATH: `${tools}:${process.env['PATH'] ?? ''}`, LC_ALL: 'de_DE.UTF-8', LANGUAGE: 'de' });
  assert.deepEqual([refused.code, refused.stderr], [1, `unlinked: the kernel refuses to link item ${ordinary.id} (ENOENT): it is a file deleted from its name, or an O_TMPFILE file opened with O_EXCL or named once and unlinked again, which can never get a name again; use \`unlinked recover --item ${ordinary.id}\` to copy it\n`]);
});

test('relink: a --to ending in / is a usage error, and a folder ln finds gone is said as such, never blamed on the file (root)', async (t) => {
  const dir = makeTempDir('relink-dir');
  const caseDir = caseDirOnOtherFs('relink-dir-case');
  const holder = await startHolder(dir, [{ kind: 'tmpfile', content: Buffer.from('still linkable') }]);
  // A folder removed while this test holds it open: it is still a directory to stat, and linkat in it is ENOENT.
  fs.mkdirSync(path.join(dir, 'removed'));
  const removedFd = fs.openSync(path.join(dir, 'removed'), 'r');
  fs.rmdirSync(path.join(dir, 'removed'));
  t.after(async () => {
    fs.closeSync(removedFd);
    await holder.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  const [tmpfile] = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.equal(tmpfile?.kind, 'tmpfile');
  const id = tmpfile.id;
  // A missing folder with a trailing slash: path.dirname used to drop the slash and check its parent.
  const folder = path.join(dir, 'newdir') + '/';
  const slash = runCli(caseDir, ['relink', '--item', String(id), '--to', folder]);
  assert.deepEqual([slash.code, slash.stderr], [2, `unlinked: --to ${folder} ends in '/': give the new file's full name (e.g. ${folder}rescued.bin), in a folder that exists\n`]);
  const inRemoved = `/proc/${process.pid}/fd/${removedFd}/x.bin`;
  const removed = runCli(caseDir, ['relink', '--item', String(id), '--to', inRemoved]);
  assert.deepEqual([removed.code, removed.stderr], [1, `unlinked: cannot relink item ${id} as ${inRemoved}: the directory /proc/${process.pid}/fd/${removedFd} was removed (it has no name, nothing can be created in it)\n`]);
  assert.deepEqual(fs.readdirSync(dir), []);
  const empty = runCli(caseDir, ['relink', '--item', String(id), '--to', '']);
  assert.deepEqual([empty.code, empty.stderr], [2, 'unlinked: --to is empty: give the new file\'s full name, in a folder that exists\n']);
  // The file was never at fault: it still takes its one name, given relative to the shell's directory
  // (ln runs in /: the name is made absolute first, and recorded so), through a symbolic link and
  // '..', which the kernel resolves from where the link points (into real/, not beside the link).
  fs.mkdirSync(path.join(dir, 'real', 'sub'), { recursive: true });
  fs.symlinkSync(path.join(dir, 'real', 'sub'), path.join(dir, 'link'));
  const linked = spawnSync(process.execPath, [cliPath, '--case', caseDir, 'relink', '--item', String(id), '--to', 'link/../rescued.bin', '--json'], { cwd: dir, encoding: 'utf8' });
  assert.equal(linked.status, 0, linked.stderr);
  assert.deepEqual(JSON.parse(linked.stdout), { item_id: id, path: `${dir}/link/../rescued.bin` }, 'the JSON names the path made absolute, as ln got it');
  assert.equal(fs.readFileSync(path.join(dir, 'real', 'rescued.bin'), 'utf8'), 'still linkable');
  assert.equal(fs.existsSync(path.join(dir, 'rescued.bin')), false);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  const argv = JSON.parse((db.prepare(`SELECT argv FROM commands WHERE program = 'ln' ORDER BY id DESC LIMIT 1`).get() as { argv: string }).argv) as string[];
  db.close();
  assert.equal(argv.at(-1), `${dir}/link/../rescued.bin`);
});

test('relink never names a file in the case directory, however --to reaches it (links, then ..): recover and report write there by name (root)', async (t) => {
  const { dir, pid } = await pythonHolder(t, 'relink-incase', `
import os, sys
for content in (b'a' * 5000, b'b' * 5001):
    fd = os.open(sys.argv[1], os.O_TMPFILE | os.O_RDWR, 0o600)
    os.write(fd, content)
print(os.getpid(), flush=True)
sys.stdin.read()
`);
  // The case on the items' own file system, as a responder may put it.
  const caseDir = path.join(dir, 'case');
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const [first] = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.equal(first?.kind, 'tmpfile');
  const id = first.id;
  fs.mkdirSync(path.join(caseDir, 'recovered'));
  fs.symlinkSync(caseDir, path.join(dir, 'alias'));
  fs.symlinkSync(path.join(caseDir, 'recovered'), path.join(dir, 'down'));
  const before = fs.readdirSync(caseDir).sort();
  const refusal = (to: string, folder: string): [number, string] => [1, `unlinked: cannot relink item ${id} as ${to}: its folder ${folder} is inside the case directory ${caseDir}, whose files unlinked writes by name; choose a path outside it\n`];
  const sums = path.join(caseDir, 'recovered', 'SHA256SUMS');
  const direct = runCli(caseDir, ['relink', '--item', String(id), '--to', sums]);
  assert.deepEqual([direct.code, direct.stderr], refusal(sums, path.join(caseDir, 'recovered')));
  const viaLink = path.join(dir, 'alias', 'reports', 'items.csv');
  fs.mkdirSync(path.join(caseDir, 'reports'));
  const linked = runCli(caseDir, ['relink', '--item', String(id), '--to', viaLink]);
  assert.deepEqual([linked.code, linked.stderr], refusal(viaLink, path.join(caseDir, 'reports')));
  // down/.. is the case directory itself (the kernel resolves '..' from where the link leads), not dir.
  const viaDots = `${dir}/down/../case.sqlite.bak`;
  const dots = runCli(caseDir, ['relink', '--item', String(id), '--to', viaDots]);
  assert.deepEqual([dots.code, dots.stderr], [1, `unlinked: cannot relink item ${id} as ${viaDots}: its folder is the case directory ${caseDir}, whose files unlinked writes by name; choose a path outside it\n`]);
  assert.deepEqual(fs.readdirSync(caseDir).sort(), [...before, 'reports'].sort());
  assert.deepEqual(fs.readdirSync(path.join(caseDir, 'recovered')), []);
  // Outside the case, the same item is linked.
  const outside = runCli(caseDir, ['relink', '--item', String(id), '--to', path.join(dir, 'rescued.bin')]);
  assert.equal(outside.code, 0, outside.stderr);
  assert.equal(fs.readFileSync(path.join(dir, 'rescued.bin'), 'utf8'), 'a'.repeat(5000));
});

test('relink: a directory made at PATH after the check gets no link inside it: ln -T fails (EEXIST) and nothing is linked (root)', async (t) => {
  const { dir, caseDir, pid } = await pythonHolder(t, 'relink-race', `
import os, sys
fd = os.open(sys.argv[1], os.O_TMPFILE | os.O_RDWR, 0o600)
os.write(fd, b'raced')
print(os.getpid(), flush=True)
sys.stdin.read()
`);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const [listed] = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.ok(listed !== undefined);
  const kase = openCase(caseDir, { create: false });
  const [item] = getItems(kase.db, [listed.id]);
  kase.close();
  assert.ok(item !== undefined);
  const target = path.join(dir, 'race');
  // The race, made certain: relink's check finds no PATH, and the directory appears right after it.
  const lstat = fs.lstatSync;
  const mutableFs = fs as { lstatSync: typeof fs.lstatSync };
  mutableFs.lstatSync = ((file: fs.PathLike, options?: fs.StatSyncOptions) => {
    if (file !== target) return lstat(file, options);
    fs.mkdirSync(target);
    return undefined;
  }) as typeof fs.lstatSync;
  const recorded: Array<readonly string[]> = [];
  try {
    await assert.rejects(relinkItem(item, target, (record) => recorded.push(record.argv), null, caseDir), (error: Error) => {
      assert.equal(error.message, `${target} exists already (it was created after relink checked): relink never replaces a file, and nothing was linked`);
      return true;
    });
  } finally {
    mutableFs.lstatSync = lstat;
  }
  assert.deepEqual(recorded.map((argv) => argv.slice(0, 3)), [['-L', '-T', '--']]);
  assert.deepEqual(fs.readdirSync(target), [], 'no link made inside the directory');
  assert.equal(fs.statSync(`/proc/${pid}/fd/${listed.fd}`).nlink, 0);
});

test('relink lets the kernel decide for any file an fd holds: an O_TMPFILE file reopened read-only through /proc (an fd item) is linked; a file deleted from its name and an O_EXCL one are refused, said why (root)', async (t) => {
  const { dir, caseDir, pid } = await pythonHolder(t, 'relink-reopened', `
import os, sys
d = sys.argv[1]
t = os.open(d, os.O_TMPFILE | os.O_RDWR, 0o600)
os.write(t, b'reopened read-only')
r = os.open('/proc/self/fd/%d' % t, os.O_RDONLY)
os.close(t)
o = os.open(os.path.join(d, 'ordinary'), os.O_CREAT | os.O_RDWR, 0o600)
os.write(o, b'ordinary')
os.unlink(os.path.join(d, 'ordinary'))
x = os.open(d, os.O_TMPFILE | os.O_RDWR | os.O_EXCL, 0o600)
os.write(x, b'never linkable')
print(os.getpid(), flush=True)
sys.stdin.read()
`);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  const byFd = (content: string) => {
    const found = items.find((item) => item.size === Buffer.byteLength(content));
    assert.ok(found !== undefined, content);
    return found;
  };
  const reopened = byFd('reopened read-only');
  const ordinary = byFd('ordinary');
  const excl = byFd('never linkable');
  // The read-only fd's flags lack O_TMPFILE: the walk calls it an fd item, and the kernel still links it.
  assert.deepEqual([reopened.kind, ordinary.kind, excl.kind], ['fd', 'fd', 'tmpfile']);
  const target = path.join(dir, 'rescued.bin');
  const linked = runCli(caseDir, ['relink', '--item', String(reopened.id), '--to', target]);
  assert.deepEqual([linked.code, linked.stderr], [0, `linked item ${reopened.id} (pid ${pid} fd ${reopened.fd}) as ${target}\n`]);
  assert.equal(fs.readFileSync(target, 'utf8'), 'reopened read-only');
  assert.equal(fs.statSync(target).ino, reopened.inode);
  const refusedOrdinary = runCli(caseDir, ['relink', '--item', String(ordinary.id), '--to', path.join(dir, 'nope')]);
  assert.deepEqual([refusedOrdinary.code, refusedOrdinary.stderr], [1, `unlinked: the kernel refuses to link item ${ordinary.id} (ENOENT): it is a file deleted from its name, or an O_TMPFILE file opened with O_EXCL or named once and unlinked again, which can never get a name again; use \`unlinked recover --item ${ordinary.id}\` to copy it\n`]);
  const refusedExcl = runCli(caseDir, ['relink', '--item', String(excl.id), '--to', path.join(dir, 'nope')]);
  assert.deepEqual([refusedExcl.code, refusedExcl.stderr], [1, `unlinked: the kernel refuses to link item ${excl.id} (ENOENT): it is an O_TMPFILE file opened with O_EXCL (never linkable), or one that had a name once and was unlinked again, which can never get a name again; use \`unlinked recover --item ${excl.id}\` to copy it\n`]);
  assert.deepEqual(fs.readdirSync(dir), ['rescued.bin']);
});

test('recover --snapshot with --item: an item of another snapshot is a usage error, nothing copied (root)', async (t) => {
  const dir = makeTempDir('recover-two');
  const caseDir = caseDirOnOtherFs('recover-two-case');
  const holder = await startHolder(dir, [{ kind: 'fd', name: 'kept.log', content: Buffer.from('twice snapshotted\n') }]);
  t.after(async () => {
    await holder.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  for (let round = 0; round < 2; round++) assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  const [first, second] = json<LiveItemJson[]>(runCli(caseDir, ['list', '--all', '--json']));
  assert.deepEqual([first?.snapshot_id, second?.snapshot_id], [1, 2]);
  const mixed = runCli(caseDir, ['recover', '--snapshot', '2', '--item', String(first?.id), '--item', String(second?.id)]);
  assert.deepEqual([mixed.code, mixed.stderr], [2, `unlinked: --snapshot 2 --item: item ${first?.id} is of snapshot 1, not of snapshot 2 (see \`unlinked list --all\`)\n`]);
  assert.equal(fs.existsSync(path.join(caseDir, 'recovered')), false);
  const matching = runCli(caseDir, ['recover', '--snapshot', '2', '--item', String(second?.id), '--json']);
  assert.equal(matching.code, 0, matching.stderr);
  assert.deepEqual(json<RecoveredJson[]>(matching).map((copy) => [copy.item_id, copy.sha256, copy.complete]), [[second?.id, sha256(Buffer.from('twice snapshotted\n')), true]]);
});

test('a holder that exited but is not reaped (a zombie) is said to have exited, not to have closed its fd (root)', async (t) => {
  const dir = makeTempDir('recover-zombie');
  const caseDir = caseDirOnOtherFs('recover-zombie-case');
  // The parent forks a child that holds a deleted file, prints the child's PID and never waits for it.
  const script = `
import os, sys, time
r, w = os.pipe()
child = os.fork()
if child == 0:
    path = os.path.join(sys.argv[1], 'held.log')
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.write(fd, b'held by a child about to die')
    os.unlink(path)
    os.write(w, b'x')
    time.sleep(600)
    os._exit(0)
os.read(r, 1)
print(child, flush=True)
time.sleep(600)
`;
  const parent = spawn('python3', ['-c', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    parent.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const child = Number(await firstLine(parent));
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(child)]).code, 0);
  process.kill(child, 'SIGKILL');
  for (let tries = 0; tries < 100 && !/^\d+ \(.*\) Z /.test(fs.readFileSync(`/proc/${child}/stat`, 'latin1')); tries++) await new Promise((resolve) => setTimeout(resolve, 20));
  const recovered = runCli(caseDir, ['recover', '--json']);
  assert.equal(recovered.code, 3, recovered.stderr);
  assert.deepEqual(json<RecoveredJson[]>(recovered).map((copy) => [copy.pid, copy.complete, copy.output, copy.note]), [
    [child, false, null, `process ${child} has exited (a zombie its parent has not reaped yet): its files were closed when it exited`],
  ]);
});

test('Ctrl-C while a growing file is followed: the copy ends with what it holds, hashed, listed in SHA256SUMS, not complete (exit 3); the rows are not lost (root)', async (t) => {
  // A memfd (on no file system of the case's) that gains 100 bytes every 0.2 s.
  const { caseDir, pid } = await pythonHolder(t, 'recover-sigint', GROWING_MEMFD);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const recover = startCli(caseDir, ['recover', '--follow-timeout', '120', '--json']);
  // The first copy is made, then the follow begins: interrupted a second into it.
  const output = await copyStarted(caseDir, 'memfd');
  await new Promise((resolve) => setTimeout(resolve, 1000));
  recover.child.kill('SIGINT');
  assert.equal(await recover.exited, 3, recover.stderr);
  assert.match(recover.stderr, /^unlinked: SIGINT while following: the followed copies end with what they hold now, hashed and recorded \(not complete\); Ctrl-C again stops at once\n/);
  const [copy] = JSON.parse(recover.stdout) as RecoveredJson[];
  assert.ok(copy !== undefined && copy.output !== null && copy.sha256 !== null);
  assert.deepEqual([copy.complete, copy.note], [false, `still held open by process ${pid} when following was stopped (interrupted): the file may still grow`]);
  const kept = fs.readFileSync(copy.output);
  assert.ok(kept.length > 12_345 && kept.length === copy.bytes, `${kept.length} bytes kept, ${copy.bytes} recorded`);
  assert.equal(sha256(kept), copy.sha256);
  assert.equal(fs.readFileSync(path.join(output, 'SHA256SUMS'), 'utf8'), `${copy.sha256}  ${path.basename(copy.output)}\n`);
});

test('a second Ctrl-C during a copy stops at once, and the case database is closed first: its WAL is in case.sqlite, which holds the case alone (root)', async (t) => {
  // A memfd of 16 GiB of holes: reading it out takes seconds.
  const { caseDir, pid } = await pythonHolder(t, 'recover-sigint2', `
import os, time
fd = os.memfd_create('holes')
os.ftruncate(fd, 16 << 30)
os.pwrite(fd, b'end', (16 << 30) - 3)
print(os.getpid(), flush=True)
time.sleep(600)
`);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const recover = startCli(caseDir, ['recover']);
  const recovered = await copyStarted(caseDir, 'memfd');
  await waitFor(() => fs.existsSync(recovered) && fs.readdirSync(recovered).some((name) => name.includes('memfd')), 10_000, 'the copy began');
  await new Promise((resolve) => setTimeout(resolve, 300));
  // Two signals at once (two Ctrl-C in a row would be one pending signal): the first stops the copies, the second the run.
  recover.child.kill('SIGINT');
  recover.child.kill('SIGTERM');
  assert.equal(await recover.exited, 1, recover.stderr);
  // Sent one after the other, but a process of several threads may take them in either order.
  const said = (first: 'SIGINT' | 'SIGTERM', second: 'SIGINT' | 'SIGTERM'): string =>
    `unlinked: ${first} while copying: the copy under way ends with what it holds now, hashed and recorded (not complete), the items after it are not copied; ` +
    `${first === 'SIGINT' ? 'Ctrl-C' : first} again stops at once\n` +
    `unlinked: interrupted by ${second}; every finished step is in the case database, an unfinished snapshot or copy is not counted\n`;
  assert.ok([said('SIGINT', 'SIGTERM'), said('SIGTERM', 'SIGINT')].includes(recover.stderr), recover.stderr);
  assert.equal(fs.existsSync(path.join(caseDir, 'case.sqlite-wal')), false, 'the WAL was checkpointed and removed');
  // case.sqlite copied alone holds the snapshot, and the copy that did not finish, said so.
  const alone = path.join(caseDir, 'alone.sqlite');
  fs.copyFileSync(path.join(caseDir, 'case.sqlite'), alone);
  const db = new Database(alone, { readonly: true });
  const [row] = db.prepare('SELECT complete, sha256, output, bytes, note FROM recoveries').all() as Array<{ complete: number; sha256: string | null; output: string; bytes: number; note: string }>;
  assert.equal((db.prepare('SELECT count(*) AS n FROM snapshots').get() as { n: number }).n, 1);
  // Never counted a copy, but the file it left and what it held are named.
  assert.deepEqual([row?.complete, row?.sha256], [0, null]);
  assert.ok(row !== undefined && fs.existsSync(row.output), JSON.stringify(row));
  // All holes so far: read, none written.
  const read = Number(/; (\d+) bytes were read \(\1 of them holes, not written\), /.exec(row.note)?.[1]);
  assert.ok(read > 0, row.note);
  assert.equal(row.note, `interrupted: the copy did not finish; ${read} bytes were read (${read} of them holes, not written), ${row.bytes} bytes were in ${row.output} then (not hashed, not checked: writes were still in flight)`);
  db.close();
});

test('a first Ctrl-C during the copies stops them, not the run: the copy under way keeps the prefix it holds, hashed; an item whose turn had not come is said so; the JSON is printed, exit 3. Without --item the smallest is copied first (root)', async (t) => {
  // A memfd of 1 PiB of holes (one byte at 1 TiB): its copy cannot be finished, every zero is hashed.
  const { caseDir, pid } = await pythonHolder(t, 'recover-stop', `
import os, time
huge = os.memfd_create('huge')
os.ftruncate(huge, 1 << 50)
os.pwrite(huge, b'x', 1 << 40)
small = os.memfd_create('small')
os.write(small, b'small evidence\\n')
print(os.getpid(), flush=True)
time.sleep(600)
`);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const [huge, small] = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.deepEqual([huge?.path, huge?.size, small?.path, small?.size], ['/memfd:huge', 2 ** 50, '/memfd:small', 15]);
  const stopped = async (args: string[], marker: string): Promise<RecoveredJson[]> => {
    const recover = startCli(caseDir, ['recover', '--json', ...args]);
    const recovered = await copyStarted(caseDir, marker);
    await waitFor(() => fs.existsSync(recovered) && fs.readdirSync(recovered).some((name) => name.endsWith(marker)), 10_000, 'the copy began');
    await new Promise((resolve) => setTimeout(resolve, 300));
    recover.child.kill('SIGINT');
    assert.equal(await recover.exited, 3, recover.stderr);
    assert.match(recover.stderr, /^unlinked: SIGINT while copying: the copy under way ends with what it holds now, hashed and recorded \(not complete\), the items after it are not copied; Ctrl-C again stops at once\n/);
    return JSON.parse(recover.stdout) as RecoveredJson[];
  };
  /** The huge one's copy: the first N bytes (holes), named, hashed, listed. */
  const prefixKept = (copy: RecoveredJson | undefined): void => {
    assert.ok(copy?.output !== null && copy?.output !== undefined && copy.bytes > 0, JSON.stringify(copy));
    assert.deepEqual([copy.item_id, copy.complete, copy.note], [huge?.id, false,
      `interrupted (a Ctrl-C, SIGTERM or SIGHUP stopped the copies) after ${copy.bytes} of its ${2 ** 50} bytes: the copy holds the first ${copy.bytes} bytes of the file, and its sha256 is theirs`]);
    const zeros = crypto.createHash('sha256');
    const block = Buffer.alloc(1 << 24);
    for (let left = copy.bytes; left > 0; left -= Math.min(left, block.length)) zeros.update(block.subarray(0, Math.min(left, block.length)));
    assert.equal(copy.sha256, zeros.digest('hex'));
    assert.equal(fs.statSync(copy.output).size, copy.bytes);
    assert.ok(fs.readFileSync(path.join(caseDir, 'recovered', 'SHA256SUMS'), 'utf8').includes(`${copy.sha256}  ${path.basename(copy.output)}\n`));
  };

  // The smallest first: the small one is copied whole before the huge one is begun.
  const [first, second] = await stopped([], 'memfd_huge');
  assert.deepEqual([first?.item_id, first?.complete, first?.sha256, first?.note], [small?.id, true, sha256(Buffer.from('small evidence\n')), null]);
  prefixKept(second);

  // --item keeps the order given: the huge one first, and the small one's turn never comes.
  const [stoppedCopy, notReached] = await stopped(['--item', String(huge?.id), '--item', String(small?.id)], 'memfd_huge.2');
  prefixKept(stoppedCopy);
  assert.deepEqual(notReached, {
    item_id: small?.id, pid, fd: small?.fd, kind: 'memfd', inode: small?.inode, output: null, bytes: 0, sha256: null, complete: false,
    note: 'not copied: interrupted before its turn (a Ctrl-C, SIGTERM or SIGHUP stopped the copies)',
  });
});

/** The rows of recoveries as a reader sees them while (or after) a recover runs. */
interface RecoveryRow { item_id: number; output: string | null; bytes: number; sha256: string | null; complete: number; followed: number; finished_at: string | null; note: string | null }
function recoveryRows(caseDir: string): RecoveryRow[] {
  const file = path.join(caseDir, 'case.sqlite');
  if (!fs.existsSync(file)) return [];
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT item_id, output, bytes, sha256, complete, followed, finished_at, note FROM recoveries ORDER BY id').all() as RecoveryRow[];
  } finally {
    db.close();
  }
}

/** The note of a followed copy's row until following ends; `at` when what it holds was hashed. */
const followingNote = (bytes: number, at: string): string =>
  `following was under way: the first ${bytes} bytes of the copy were copied and hashed at ${at}, and its sha256 is theirs; ` +
  'the file may hold more, written after that, and so may the copy, past them (not hashed, not checked); not listed in SHA256SUMS until following ends ' +
  '(a run killed before that leaves this row as it is)';
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

test('recover --follow killed (SIGKILL) while it follows: each copy\'s first pass is in its row (its bytes and their sha256, not complete, not listed), brought up to date while the file grows; never left `interrupted` (root)', async (t) => {
  const { caseDir, pid } = await pythonHolder(t, 'recover-follow-killed', `
import os, time
still = os.memfd_create('still')
os.write(still, b'A' * 100000)
growing = os.memfd_create('growing')
os.write(growing, b'x' * 12345)
print(os.getpid(), flush=True)
while True:
    time.sleep(0.1)
    os.write(growing, b'y' * 100)
`);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const [still, growing] = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.deepEqual([still?.path, growing?.path], ['/memfd:still', '/memfd:growing']);
  const recover = startCli(caseDir, ['recover', '--follow-timeout', '120', '--json']);
  t.after(() => {
    if (recover.child.exitCode === null) recover.child.kill('SIGKILL');
  });
  const rowOf = (item: LiveItemJson | undefined): RecoveryRow | undefined => recoveryRows(caseDir).find((row) => row.item_id === item?.id);
  // Both copied once: their rows say what they hold while they are followed.
  // Each row there with its sha256 (a row not made yet is no first pass: the smaller file may be copied first).
  await waitFor(() => (rowOf(still)?.sha256 ?? null) !== null && (rowOf(growing)?.sha256 ?? null) !== null, 20_000, 'the first passes recorded');
  const first = rowOf(growing);
  // Brought up to date while it grows (every 5 s at most).
  await waitFor(() => (rowOf(growing)?.bytes ?? 0) > (first?.bytes ?? 0), 15_000, 'the growing copy\'s row brought up to date');
  recover.child.kill('SIGKILL');
  assert.equal(await recover.exited, null);
  const rows = recoveryRows(caseDir);
  assert.equal(rows.length, 2);
  for (const row of rows) {
    assert.ok(row.output !== null && row.sha256 !== null, JSON.stringify(row));
    const at = /hashed at (\S+), and/.exec(row.note ?? '')?.[1] ?? '';
    assert.match(at, ISO_TIME);
    assert.deepEqual([row.complete, row.followed, row.finished_at, row.note], [0, 1, null, followingNote(row.bytes, at)]);
    // Its sha256 is that of the copy's first `bytes` bytes (the copy may hold more after them).
    const copy = fs.readFileSync(row.output);
    assert.ok(copy.length >= row.bytes, `${copy.length} bytes in the copy, ${row.bytes} recorded`);
    assert.equal(sha256(copy.subarray(0, row.bytes)), row.sha256);
  }
  const stillRow = rows.find((row) => row.item_id === still?.id);
  const growingRow = rows.find((row) => row.item_id === growing?.id);
  assert.deepEqual([stillRow?.item_id, stillRow?.bytes, stillRow?.sha256], [still?.id, 100000, sha256(Buffer.alloc(100000, 'A'))]);
  assert.ok(growingRow !== undefined && growingRow.bytes > 12345 && (growingRow.bytes - 12345) % 100 === 0, JSON.stringify(growingRow));
  const at = (row: RecoveryRow | undefined): string => /hashed at (\S+), and/.exec(row?.note ?? '')?.[1] ?? '';
  assert.ok(at(growingRow) > at(first), `${at(growingRow)} after the first pass (${at(first)})`);
  assert.equal(sha256(fs.readFileSync(growingRow.output ?? '').subarray(0, growingRow.bytes)), sha256(Buffer.concat([Buffer.alloc(12345, 'x'), Buffer.alloc(growingRow.bytes - 12345, 'y')])));
  // A copy is listed once it is final: none was.
  assert.equal(fs.existsSync(path.join(caseDir, 'recovered', 'SHA256SUMS')), false);
});

test('recover --follow under a low open files limit (ulimit -n 100) with 40 growing files: as many as the limit allows are followed, the others copied once and recorded incomplete with why; none is taken for closed, none complete, no EMFILE (root)', async (t) => {
  const { caseDir, pid } = await pythonHolder(t, 'recover-follow-fd-limit', `
import os, time
fds = [os.memfd_create('grow%d' % i) for i in range(40)]
for fd in fds:
    os.write(fd, b'x' * 5000)
print(os.getpid(), flush=True)
while True:
    for fd in fds:
        os.write(fd, b'y' * 100)
    time.sleep(0.2)
`);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const started = Date.now();
  const result = spawnSync('prlimit', ['--nofile=100', process.execPath, cliPath, '--case', caseDir, 'recover', '--follow-timeout', '2', '--json'], { encoding: 'utf8' });
  assert.equal(result.status, 3, result.stderr);
  assert.ok(Date.now() - started >= 2000, `the run took ${Date.now() - started} ms, not the 2 s of following`);
  const followed = Number(/^warning: --follow: the open files limit \(ulimit -n 100\) lets only (\d+) copies be followed at once/m.exec(result.stderr)?.[1]);
  assert.ok(followed > 0 && followed < 40, result.stderr);
  const raise = 'raise it, e.g. `ulimit -n 1024`';
  assert.ok(result.stderr.includes(`warning: --follow: the open files limit (ulimit -n 100) lets only ${followed} copies be followed at once (each holds its source and its copy open): ` +
    `the other items still held are copied once, not followed, and recorded incomplete; ${raise}\n`), result.stderr);
  assert.doesNotMatch(result.stderr, /EMFILE/);
  const records = JSON.parse(result.stdout) as RecoveredJson[];
  const still = `still held open by process ${pid} after following for 2 s: the file may still grow`;
  const notFollowed = `not followed: too many open files (ulimit -n 100): the ${followed} copies followed at once hold what it allows; this copy is of the file as it was when it was copied, ` +
    `and its holder may still write to it; ${raise}, and recover it again with --follow`;
  assert.deepEqual(records.map((record) => [record.complete, record.note]), [
    ...Array.from({ length: followed }, () => [false, still]),
    ...Array.from({ length: 40 - followed }, () => [false, notFollowed]),
  ]);
  // Every one copied, hashed: 5000 bytes of x, then whole appends of 100 bytes of y.
  for (const record of records) {
    const copy = fs.readFileSync(record.output ?? '');
    assert.ok(copy.length === record.bytes && record.bytes >= 5000 && (record.bytes - 5000) % 100 === 0, JSON.stringify(record));
    assert.equal(sha256(copy), record.sha256);
  }
  const rows = recoveryRows(caseDir);
  assert.deepEqual([rows.filter((row) => row.followed === 1).length, rows.filter((row) => row.complete === 1).length], [followed, 0]);
});

test('recover --follow: a holder whose state cannot be read for a while (no file can be opened: its /proc/PID/stat neither) is not taken for one that closed the file: followed on to the end (root)', async (t) => {
  const { caseDir, pid } = await pythonHolder(t, 'recover-follow-unreadable', GROWING_MEMFD);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const recover = startCli(caseDir, ['recover', '--follow-timeout', '4', '--json']);
  t.after(() => {
    if (recover.child.exitCode === null) recover.child.kill('SIGKILL');
  });
  const childPid = recover.child.pid ?? 0;
  await waitFor(() => recoveryRows(caseDir)[0]?.sha256 !== null && recoveryRows(caseDir)[0]?.sha256 !== undefined, 20_000, 'the first pass recorded');
  // For a second, not one more file can be opened by the run (the limit at its lowest free fd number):
  // /proc/PID/stat, read at each poll, fails with EMFILE.
  const open = new Set(fs.readdirSync(`/proc/${childPid}/fd`).map(Number));
  let lowestFree = 0;
  while (open.has(lowestFree)) lowestFree += 1;
  execFileSync('prlimit', [`--pid=${childPid}`, `--nofile=${lowestFree}:`]);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const running = recover.child.exitCode === null;
  if (running) execFileSync('prlimit', [`--pid=${childPid}`, '--nofile=20000:']);
  assert.ok(running, `recover ended while the holder still wrote to the file: ${recover.stderr}`);
  assert.equal(await recover.exited, 3, recover.stderr);
  const [record] = JSON.parse(recover.stdout) as RecoveredJson[];
  assert.deepEqual([record?.complete, record?.note], [false, `still held open by process ${pid} after following for 4 s: the file may still grow`]);
  assert.equal(sha256(fs.readFileSync(record?.output ?? '')), record?.sha256);
  assert.equal(recoveryRows(caseDir)[0]?.followed, 1);
});

test('two signals at once during the first pass of a --follow run: the copies already made once are recorded with what they hold (hashed, listed in SHA256SUMS, not complete), only the copy under way as not finished (root)', async (t) => {
  // Three memfds of 100 kB and one of 16 GiB of holes (reading it out takes seconds): smallest first.
  const { caseDir, pid } = await pythonHolder(t, 'recover-follow-stop2', `
import os, time
kept = []
for name in 'ABC':
    fd = os.memfd_create('small' + name)
    os.write(fd, name.encode() * 100000)
    kept.append(fd)
huge = os.memfd_create('huge')
os.ftruncate(huge, 16 << 30)
os.pwrite(huge, b'end', (16 << 30) - 3)
print(os.getpid(), flush=True)
time.sleep(600)
`);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const recover = startCli(caseDir, ['recover', '--follow-timeout', '60']);
  t.after(() => {
    if (recover.child.exitCode === null) recover.child.kill('SIGKILL');
  });
  const recovered = await copyStarted(caseDir, 'memfd_huge');
  await waitFor(() => fs.existsSync(recovered) && fs.readdirSync(recovered).some((name) => name.endsWith('memfd_huge')), 10_000, 'the huge copy began');
  await new Promise((resolve) => setTimeout(resolve, 300));
  recover.child.kill('SIGINT');
  recover.child.kill('SIGTERM');
  assert.equal(await recover.exited, 1, recover.stderr);
  // Either comes first (the threads that take them race): the first stops the copies, the second the run.
  const said = (first: string, again: string, second: string): string =>
    `unlinked: ${first} while copying: the copy under way ends with what it holds now, hashed and recorded (not complete), the items after it are not copied; ${again} again stops at once\n` +
    `unlinked: interrupted by ${second}; every finished step is in the case database, an unfinished snapshot or copy is not counted\n`;
  assert.ok([said('SIGINT', 'Ctrl-C', 'SIGTERM'), said('SIGTERM', 'SIGTERM', 'SIGINT')].includes(recover.stderr), recover.stderr);
  const rows = recoveryRows(caseDir);
  assert.equal(rows.length, 4);
  const sums = fs.readFileSync(path.join(recovered, 'SHA256SUMS'), 'utf8');
  for (const [index, name] of ['A', 'B', 'C'].entries()) {
    const row = rows[index];
    const data = Buffer.alloc(100000, name);
    assert.ok(row?.output?.endsWith(`memfd_small${name}`) === true && row.finished_at !== null, JSON.stringify(row));
    const at = /hashed at (\S+), and/.exec(row.note ?? '')?.[1] ?? '';
    assert.match(at, ISO_TIME);
    assert.deepEqual([row.bytes, row.sha256, row.complete, row.followed, row.note], [100000, sha256(data), 0, 1,
      `stopped at once by a second signal (Ctrl-C or SIGTERM) while it was followed or waited to be: the copy holds the first 100000 bytes of the file, copied and hashed at ${at}, ` +
      'and its sha256 is theirs; the file may hold more, written after that']);
    assert.ok(fs.readFileSync(row.output ?? '').equals(data));
    assert.ok(sums.includes(`${sha256(data)}  ${path.basename(row.output ?? '')}\n`), sums);
  }
  assert.equal(sums.split('\n').length, 4);
  assert.equal(execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: recovered, encoding: 'utf8' }).split('\n').filter((line) => line.endsWith(': OK')).length, 3);
  // The copy under way: named, never counted a copy.
  const huge = rows[3];
  assert.ok(huge?.output?.endsWith('memfd_huge') === true && huge.sha256 === null && huge.complete === 0, JSON.stringify(huge));
  assert.match(huge.note ?? '', /^interrupted: the copy did not finish; \d+ bytes were read \(\d+ of them holes, not written\), \d+ bytes were in .* then \(not hashed, not checked: writes were still in flight\)$/);
});

test('two signals at once while a followed copy reads what was appended: its row keeps what was copied and hashed before that read, not listed; never `interrupted` (root)', async (t) => {
  // 12345 bytes, then (when told) 8 GiB more, all holes but the last byte: reading them takes seconds.
  const { dir, caseDir, pid } = await pythonHolder(t, 'recover-follow-busy', `
import os, sys, time
fd = os.memfd_create('burst')
os.write(fd, b'x' * 12345)
print(os.getpid(), flush=True)
while not os.path.exists(os.path.join(sys.argv[1], 'grow')):
    time.sleep(0.05)
os.ftruncate(fd, 12345 + (8 << 30))
os.pwrite(fd, b'z', 12345 + (8 << 30) - 1)
time.sleep(600)
`);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const recover = startCli(caseDir, ['recover', '--follow-timeout', '60']);
  t.after(() => {
    if (recover.child.exitCode === null) recover.child.kill('SIGKILL');
  });
  await waitFor(() => recoveryRows(caseDir)[0]?.sha256 !== null && recoveryRows(caseDir)[0]?.sha256 !== undefined, 20_000, 'the first pass recorded');
  fs.writeFileSync(path.join(dir, 'grow'), '');
  // Polled every 200 ms: a second on, the 8 GiB are being read.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  recover.child.kill('SIGINT');
  recover.child.kill('SIGTERM');
  assert.equal(await recover.exited, 1, recover.stderr);
  const [row] = recoveryRows(caseDir);
  assert.ok(row?.output !== null && row?.output !== undefined && row.finished_at !== null, JSON.stringify(row));
  const at = /hashed at (\S+), and/.exec(row.note ?? '')?.[1] ?? '';
  assert.match(at, ISO_TIME);
  assert.deepEqual([row.bytes, row.sha256, row.complete, row.followed, row.note], [12345, sha256(Buffer.alloc(12345, 'x')), 0, 1,
    `stopped at once by a second signal (Ctrl-C or SIGTERM) while it was followed, in a read of what was appended: the first 12345 bytes of the copy were copied and hashed at ${at}, ` +
    `and its sha256 is theirs; more may follow them in ${row.output} (not hashed, not checked: writes were still in flight); not listed in SHA256SUMS`]);
  assert.equal(sha256(fs.readFileSync(row.output).subarray(0, 12345)), row.sha256);
  assert.equal(fs.existsSync(path.join(caseDir, 'recovered', 'SHA256SUMS')), false);
});

test('SIGHUP (a terminal or SSH session gone) stops the copies as SIGTERM does: followed copies end with what they hold, recorded and listed, the JSON printed, exit 3; a second SIGHUP (the shell passes its own on) does not stop it at once; a hung-up terminal on stderr is no stack trace nor abort (root)', async (t) => {
  const { caseDir, pid } = await pythonHolder(t, 'recover-sighup', GROWING_MEMFD);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  /** `count` copies begun, the last one a second ago: copied once, and followed. */
  const followed = async (count: number): Promise<void> => {
    const recovered = path.join(caseDir, 'recovered');
    await waitFor(() => fs.existsSync(recovered) && fs.readdirSync(recovered).filter((name) => name.includes('memfd_growing')).length === count, 20_000, `copy ${count} begun`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  };
  /** The last copy's row and file: what was recorded is what the copy holds, listed once. */
  const finalCopy = (): RecoveryRow => {
    // Before the case is read here (a reader makes a WAL of its own).
    assert.equal(fs.existsSync(path.join(caseDir, 'case.sqlite-wal')), false, 'the case database was closed');
    const row = recoveryRows(caseDir).at(-1);
    assert.ok(row?.output !== null && row?.output !== undefined && row.sha256 !== null, JSON.stringify(row));
    assert.deepEqual([row.complete, row.followed, row.note], [0, 1, `still held open by process ${pid} when following was stopped (interrupted): the file may still grow`]);
    const copy = fs.readFileSync(row.output);
    assert.deepEqual([copy.length, sha256(copy)], [row.bytes, row.sha256]);
    assert.ok(fs.readFileSync(path.join(caseDir, 'recovered', 'SHA256SUMS'), 'utf8').endsWith(`${row.sha256}  ${path.basename(row.output)}\n`));
    return row;
  };

  const recover = startCli(caseDir, ['recover', '--follow-timeout', '120', '--json']);
  t.after(() => {
    if (recover.child.exitCode === null) recover.child.kill('SIGKILL');
  });
  await followed(1);
  recover.child.kill('SIGHUP');
  recover.child.kill('SIGHUP');
  assert.equal(await recover.exited, 3, recover.stderr);
  assert.equal(recover.stderr.split('\n')[0], 'unlinked: SIGHUP while following: the followed copies end with what they hold now, hashed and recorded (not complete); a Ctrl-C or SIGTERM stops at once (another SIGHUP does not)');
  const [copy] = JSON.parse(recover.stdout) as RecoveredJson[];
  const first = finalCopy();
  assert.deepEqual([copy?.output, copy?.bytes, copy?.sha256], [first.output, first.bytes, first.sha256]);

  // stdin and stderr on a terminal that hangs up (its master closed): every write to it fails with
  // EIO, and node's restoring of the terminal's modes at exit with it.
  const wrapper = spawn('python3', ['-c', String.raw`
import os, subprocess, sys, threading
master, slave = os.openpty()
child = subprocess.Popen(sys.argv[1:], stdin=slave, stderr=slave, start_new_session=True)
os.close(slave)
def drain():
    try:
        while os.read(master, 4096):
            pass
    except OSError:
        pass
threading.Thread(target=drain, daemon=True).start()
sys.stderr.write('%d\n' % child.pid)
sys.stderr.flush()
sys.stdin.readline()
os.close(master)
child.send_signal(1)
child.send_signal(1)
sys.stderr.write('exit %d\n' % child.wait())
`, process.execPath, cliPath, '--case', caseDir, 'recover', '--follow-timeout', '120', '--json'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let said = '';
  let printed = '';
  wrapper.stderr.on('data', (chunk: Buffer) => (said += chunk.toString()));
  wrapper.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  const wrapped = new Promise((resolve) => wrapper.once('exit', resolve));
  t.after(() => {
    const child = Number(said.split('\n')[0]);
    if (child > 0 && !said.includes('exit ')) {
      try {
        process.kill(child, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    if (wrapper.exitCode === null) wrapper.kill('SIGKILL');
  });
  await followed(2);
  wrapper.stdin.end('hang up\n');
  assert.equal(await wrapped, 0, said);
  assert.equal(said.split('\n')[1], 'exit 3');
  const [again] = JSON.parse(printed) as RecoveredJson[];
  const row = finalCopy();
  assert.deepEqual([again?.output, again?.sha256], [row.output, row.sha256]);
  assert.notEqual(row.output, copy?.output);
});

test('one file held by several fds and processes (a log inherited by forked workers, a dup): copied once, the other items recorded with that copy and said so, listed once in SHA256SUMS (root)', async (t) => {
  const dir = makeTempDir('shared-file');
  const caseDir = caseDirOnOtherFs('shared-file-case');
  const script = String.raw`import os, sys, time
path = os.path.join(sys.argv[1], 'worker-access.log')
fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
os.write(fd, b'GET / 200\n' * 5000)
os.unlink(path)
os.dup(fd)
children = []
for _ in range(3):
    child = os.fork()
    if child == 0:
        time.sleep(600)
        os._exit(0)
    children.append(child)
print(' '.join(str(pid) for pid in [os.getpid()] + children), flush=True)
sys.stdin.read()`;
  const holder = spawn('python3', ['-c', script, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(async () => {
    holder.stdin?.end();
    await killed(holder).stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const pids = (await firstLine(holder)).split(' ');
  const children = pids.slice(1);
  t.after(() => {
    // The forked workers: each killed by its PID (they wait on the holder's stdin).
    for (const child of children) {
      try {
        process.kill(Number(child), 'SIGKILL');
      } catch {
        // exited already
      }
    }
  });
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', ...pids.flatMap((pid) => ['--pid', pid])]).code, 0);
  // A copy stands for other items of a file only when the file had not changed for a second before it.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const copies = json<RecoveredJson[]>(runCli(caseDir, ['recover', '--json']));
  const content = sha256(Buffer.from('GET / 200\n'.repeat(5000)));
  assert.equal(copies.length, 8, 'the two fds (one a dup) of the parent and of each of its three children');
  assert.deepEqual(copies.map((copy) => [copy.sha256, copy.complete]), copies.map(() => [content, true]));
  assert.equal(new Set(copies.map((copy) => copy.output)).size, 1, 'one file');
  assert.deepEqual(fs.readdirSync(path.join(caseDir, 'recovered')).filter((name) => name !== 'SHA256SUMS').length, 1);
  assert.equal(fs.readFileSync(path.join(caseDir, 'recovered', 'SHA256SUMS'), 'utf8').trim().split('\n').length, 1);
  const first = copies.find((copy) => copy.note === null);
  assert.ok(first !== undefined);
  for (const copy of copies.filter((entry) => entry !== first)) {
    assert.match(copy.note ?? '', new RegExp(`^the same file as item ${first.item_id} \\(device \\d+:\\d+, inode ${first.inode}\\): its copy ${path.basename(first.output ?? '')} holds it, not copied again$`));
  }
  // The first holder gone: its items fail, the next holder's copy is made and stands for the rest.
  holder.kill('SIGKILL');
  await new Promise((resolve) => (holder.exitCode !== null || holder.signalCode !== null ? resolve(null) : holder.once('exit', resolve)));
  const again = json<RecoveredJson[]>(runCli(caseDir, ['recover', '--json']));
  assert.deepEqual(again.filter((copy) => !copy.complete).map((copy) => copy.note), [`process ${pids[0]} has exited`, `process ${pids[0]} has exited`]);
  const whole = again.filter((copy) => copy.complete);
  assert.deepEqual([whole.length, new Set(whole.map((copy) => copy.output)).size, new Set(whole.map((copy) => copy.sha256)).size], [6, 1, 1]);
  assert.equal(whole.filter((copy) => copy.note === null).length, 1, 'one copy made, five standing on it');
  // Following: each holder may write on, so each item is copied (and followed) itself.
  const followed = json<RecoveredJson[]>(runCli(caseDir, ['recover', '--follow', '--follow-timeout', '1', '--json']));
  assert.equal(new Set(followed.filter((copy) => copy.output !== null).map((copy) => copy.output)).size, 6);
});

test('a snapshot taken inside a PID namespace (a container), recovered from the host: nothing copied, and the note names the other namespace, not only PID reuse (root)', async (t) => {
  const caseDir = caseDirOnOtherFs('pidns-case');
  const dir = makeTempDir('pidns');
  t.after(() => {
    fs.rmSync(caseDir, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });
  // Inside: a holder of a deleted file, a snapshot of the namespace, then the holder ends (the namespace with it).
  const script = String.raw`python3 -c "
import os, sys, time
fd = os.open('$1/held', os.O_CREAT | os.O_RDWR, 0o600)
os.write(fd, b'x' * 100)
os.unlink('$1/held')
open('$1/ready', 'w').close()
time.sleep(30)" &
while [ ! -e "$1/ready" ]; do sleep 0.05; done
"$2" "$3" --case "$4" snapshot --no-lsof -q; code=$?
kill $!
exit $code`;
  // Exit 3: the snapshot says it saw only that PID namespace's processes.
  const inside = spawnSync('unshare', ['-fp', '--mount-proc', 'sh', '-c', script, 'sh', dir, process.execPath, cliPath, caseDir], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  assert.equal(inside.status, 3, inside.stderr);
  assert.match(inside.stderr, /^warning: this \/proc shows only the processes of PID namespace pid:\[\d+\], not the host's/m);
  const [item] = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.ok(item !== undefined && item.pid < 10, `a PID of the namespace: ${JSON.stringify(item)}`);
  const [copy] = json<RecoveredJson[]>(runCli(caseDir, ['recover', '--json']));
  assert.deepEqual([copy?.output, copy?.complete], [null, false]);
  assert.match(copy?.note ?? '', /^PID reuse: process \d+ started at tick \d+, the snapshot saw start tick \d+; process \d+ here is in PID namespace pid:\[\d+\], the snapshot's was in pid:\[\d+\]: a snapshot taken in another PID namespace \(a container\), whose PIDs are not this \/proc's$/);
});

test('a deleted file only mapped (no fd, so no mnt_id) on a container\'s overlay in a mount namespace of its own: its mount found by its device there, copied to another disk, refused on the upper layer\'s (root)', async (t) => {
  const dir = makeTempDir('mapped-overlay'); // /var/tmp: the upper layer's disk
  for (const sub of ['lower', 'upper', 'work', 'merged']) fs.mkdirSync(path.join(dir, sub));
  const otherCase = caseDirOnOtherFs('mapped-overlay-case');
  const script = String.raw`import ctypes, mmap, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
p = os.path.join(sys.argv[1], 'lib.so')
fd = os.open(p, os.O_CREAT | os.O_RDWR, 0o600)
os.write(fd, b'mapped library ' * 300)
assert libc.mmap(None, 4500, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0) not in (None, ctypes.c_void_p(-1).value)
os.close(fd)
os.unlink(p)
print(os.getpid(), flush=True)
sys.stdin.read()`;
  const options = `lowerdir=${path.join(dir, 'lower')},upperdir=${path.join(dir, 'upper')},workdir=${path.join(dir, 'work')}`;
  const holder = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount -t overlay overlay -o "$3" "$2" && exec python3 -c "$1" "$2"', 'sh', script, path.join(dir, 'merged'), options], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(async () => {
    await killed(holder).stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(otherCase, { recursive: true, force: true });
  });
  const pid = Number(await firstLine(holder));
  assert.equal(runCli(otherCase, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const [item] = json<LiveItemJson[]>(runCli(otherCase, ['list', '--json']));
  assert.deepEqual([item?.kind, item?.fs_type], ['map', 'overlay']);
  const [copy] = json<RecoveredJson[]>(runCli(otherCase, ['recover', '--json']));
  assert.deepEqual([copy?.sha256, copy?.complete], [sha256(Buffer.from('mapped library '.repeat(300))), true]);
  // A case on the upper layer's disk: the copy would land there.
  const onUpper = path.join(dir, 'case');
  assert.equal(runCli(onUpper, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const refused = runCli(onUpper, ['recover', '--json']);
  assert.equal(refused.code, 1, refused.stderr);
  // Mounted in that namespace only: its upper directory is looked up as the holder sees it.
  assert.match(refused.stderr, /^unlinked: refusing to write into .*: it is on device \d+:\d+, the same file system as item 1 \(.*lib\.so, on an overlay whose upper layer is there \(.*, as its process sees it\)\)/);
});

test('one file held by two fds and rewritten in place all the time (same size, stamps coarser than the writes): each item copied itself, none standing on the other\'s copy (root)', async (t) => {
  const script = String.raw`import os, sys, time
path = os.path.join(sys.argv[1], 'counter.db')
fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
os.write(fd, b'x' * (1 << 20))
os.unlink(path)
os.dup(fd)
print(os.getpid(), flush=True)
n = 0
while True:
    n += 1
    os.pwrite(fd, b'%020d' % n, 0)
    time.sleep(0.001)`;
  const { caseDir, pid } = await pythonHolder(t, 'rewritten', script);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const copies = json<RecoveredJson[]>(runCli(caseDir, ['recover', '--json']));
  assert.equal(copies.length, 2);
  assert.deepEqual(copies.map((copy) => copy.note?.startsWith('the same file as') ?? false), [false, false]);
  assert.equal(new Set(copies.map((copy) => copy.output)).size, 2);
});

test('a file open and mapped whose fd is closed after the snapshot is copied through the mapping that still holds it; a file truncated since the snapshot says so (root)', async (t) => {
  const { caseDir, pid } = await pythonHolder(t, 'recover-mapped-closed', `
import ctypes, os, signal, sys, time
mapped = os.path.join(sys.argv[1], 'mapped.bin')
fd = os.open(mapped, os.O_RDWR | os.O_CREAT, 0o600)
os.write(fd, bytes(range(256)) * 256)
# mmap(2) itself: python's mmap module holds a dup of the fd, which would keep the file open.
libc = ctypes.CDLL(None)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.mmap(None, 65536, 1, 1, fd, 0)
os.unlink(mapped)
cut = os.path.join(sys.argv[1], 'cut.log')
held = os.open(cut, os.O_RDWR | os.O_CREAT, 0o600)
os.write(held, b'b' * 1048576)
os.unlink(cut)
signal.signal(signal.SIGUSR1, lambda *_: os.close(fd))
print(os.getpid(), flush=True)
while True:
    time.sleep(60)
`);
  const items = snapshotItems(caseDir, pid);
  const mapped = items.find((item) => item.path.endsWith('/mapped.bin'));
  const cut = items.find((item) => item.path.endsWith('/cut.log'));
  assert.ok(mapped !== undefined && cut !== undefined && mapped.kind === 'fd' && mapped.fd !== null && cut.fd !== null, JSON.stringify(items));
  // The mapping is kept as a row of maps, not as an item of its own: the fd stands for the file.
  assert.equal(items.filter((item) => item.inode === mapped.inode).length, 1, JSON.stringify(items, null, 1));
  process.kill(pid, 'SIGUSR1');
  const deadline = Date.now() + 5000;
  while (fs.existsSync(`/proc/${pid}/fd/${mapped.fd}`) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(!fs.existsSync(`/proc/${pid}/fd/${mapped.fd}`), 'the holder closed the fd');
  fs.truncateSync(`/proc/${pid}/fd/${cut.fd}`, 100);
  const recovered = runCli(caseDir, ['recover', '--json']);
  assert.equal(recovered.code, 0, recovered.stderr);
  const copies = json<RecoveredJson[]>(recovered);
  const viaMap = copies.find((copy) => copy.item_id === mapped.id);
  const range = fs.readFileSync(`/proc/${pid}/maps`, 'latin1').split('\n').find((line) => line.includes('/mapped.bin'))?.split(' ')[0];
  assert.deepEqual([viaMap?.complete, viaMap?.bytes, viaMap?.sha256], [true, 65536, sha256(Buffer.concat(Array.from({ length: 256 }, () => Buffer.from(Array.from({ length: 256 }, (_, index) => index)))))]);
  assert.equal(viaMap?.note, `/proc/${pid}/fd/${mapped.fd} is gone: the fd ${mapped.fd} was closed after the snapshot; copied through its mapping ${range} of the same process instead ` +
    `(/proc/${pid}/map_files/${range}), the same file by device, inode and birth time`);
  const shrunk = copies.find((copy) => copy.item_id === cut.id);
  assert.deepEqual([shrunk?.complete, shrunk?.bytes, shrunk?.sha256, shrunk?.note],
    [true, 100, sha256(Buffer.alloc(100, 'b')), 'the file was 1048576 bytes at the snapshot and 100 when the copy started: truncated since']);
});

test('report --out onto the file system of a live item of the case is refused (exit 1, nothing written) unless --force-same-fs; elsewhere it is written (root)', async (t) => {
  const { dir, caseDir, pid } = await pythonHolder(t, 'report-same-fs', holdsDeleted('held.log', 'held'));
  const [item] = snapshotItems(caseDir, pid);
  const beside = path.join(dir, 'report.csv');
  const refused = runCli(caseDir, ['report', '--format', 'csv', '--out', beside]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.equal(refused.stderr, `unlinked: refusing to write into ${dir}: it is on device ${item?.dev ?? '?'}, the same file system as item ${item?.id ?? '?'} (${dir}/held.log), ` +
    'whose freed blocks the report could overwrite; write it to another disk, or pass --force-same-fs\n');
  assert.ok(!fs.existsSync(beside));
  // Through a symbolic link (in the case's folder, which is not refused) the report would land beside the item all the same.
  const link = path.join(caseDir, 'link.csv');
  fs.symlinkSync(beside, link);
  const throughLink = runCli(caseDir, ['report', '--format', 'csv', '--out', link]);
  assert.deepEqual([throughLink.code, throughLink.stderr], [1, refused.stderr]);
  assert.deepEqual([fs.lstatSync(link).isSymbolicLink(), fs.existsSync(beside)], [true, false]);
  assert.equal(runCli(caseDir, ['report', '--format', 'csv', '--out', path.join(caseDir, 'elsewhere.csv')]).code, 0);
  assert.equal(runCli(caseDir, ['report', '--format', 'csv', '--out', beside, '--force-same-fs']).code, 0);
  assert.ok(fs.readFileSync(beside, 'utf8').includes('held.log'));
  // A case on that file system already: its own folder takes the report, as without --out; beside it, not.
  const caseHere = path.join(dir, 'case-here');
  assert.equal(runCli(caseHere, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  assert.equal(runCli(caseHere, ['report', '--format', 'csv']).code, 0);
  assert.equal(runCli(caseHere, ['report', '--format', 'csv', '--out', path.join(caseHere, 'reports', 'mine.csv')]).code, 0);
  assert.equal(runCli(caseHere, ['report', '--format', 'csv', '--out', path.join(dir, 'next-to-case.csv')]).code, 1);
});

test('an item whose fd was closed is copied through a dup of it still open; never through an fd that names another file now (root)', async (t) => {
  const { dir, caseDir, pid } = await pythonHolder(t, 'recover-other-fd', `
import os, signal, sys, time
def path(name): return os.path.join(sys.argv[1], name)
kept = os.open(path('kept.log'), os.O_RDWR | os.O_CREAT, 0o600)
os.write(kept, b'kept' * 1000)
os.dup2(kept, 20)
os.unlink(path('kept.log'))
gone = os.open(path('gone.log'), os.O_RDWR | os.O_CREAT, 0o600)
os.write(gone, b'gone' * 1000)
os.dup2(gone, 21)
os.unlink(path('gone.log'))
def swap(*_):
    os.close(kept)
    # Both fds of gone.log closed, and fd 21 opened again on a new, linked file.
    os.close(gone)
    os.close(21)
    other = os.open(path('other.log'), os.O_RDWR | os.O_CREAT, 0o600)
    os.write(other, b'other')
    os.dup2(other, 21)
    os.close(other)
    print('swapped', flush=True)
signal.signal(signal.SIGUSR1, swap)
print(os.getpid(), flush=True)
while True:
    time.sleep(60)
`);
  const items = snapshotItems(caseDir, pid);
  const kept = items.find((item) => item.path.endsWith('/kept.log') && item.fd !== 20);
  const gone = items.find((item) => item.path.endsWith('/gone.log') && item.fd !== 21);
  assert.ok(kept !== undefined && gone !== undefined, JSON.stringify(items));
  process.kill(pid, 'SIGUSR1');
  const deadline = Date.now() + 5000;
  while (!fs.existsSync(path.join(dir, 'other.log')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  await new Promise((resolve) => setTimeout(resolve, 100));
  const recovered = runCli(caseDir, ['recover', '--item', String(kept.id), '--item', String(gone.id), '--json']);
  assert.equal(recovered.code, 3, recovered.stderr);
  const copies = json<RecoveredJson[]>(recovered);
  const viaDup = copies.find((copy) => copy.item_id === kept.id);
  assert.deepEqual([viaDup?.complete, viaDup?.sha256], [true, sha256(Buffer.from('kept'.repeat(1000)))]);
  assert.match(viaDup?.note ?? '', new RegExp(`^/proc/${pid}/fd/${kept.fd} is gone: the fd ${kept.fd} was closed after the snapshot; copied through fd 20 of the same process instead \\(/proc/${pid}/fd/20\\), the same file by device, inode and birth time$`));
  const refused = copies.find((copy) => copy.item_id === gone.id);
  assert.deepEqual([refused?.complete, refused?.output, refused?.note], [false, null, `/proc/${pid}/fd/${gone.fd} is gone: the fd ${gone.fd} was closed after the snapshot`]);
});

test('a file on an overlay mounted with a relative upper directory (its disk unknown) is not copied unless --force-same-fs (root)', async (t) => {
  const base = makeTempDir('overlay-relative');
  const merged = path.join(base, 'merged');
  for (const name of ['lower', 'upper', 'work', 'merged']) fs.mkdirSync(path.join(base, name));
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', 'lowerdir=lower,upperdir=upper,workdir=work', 'merged'], { cwd: base });
  t.after(() => {
    spawnSync('umount', ['-l', merged]);
    fs.rmSync(base, { recursive: true, force: true });
  });
  assert.match(fs.readFileSync('/proc/self/mountinfo', 'utf8'), /upperdir=upper,workdir=work/, 'the kernel keeps the relative paths');
  const { caseDir, pid } = await pythonHolder(t, 'overlay-relative-holder', `
import os, sys, time
path = os.path.join(sys.argv[2], 'held.bin')
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
os.write(fd, b'o' * 3000)
os.unlink(path)
print(os.getpid(), flush=True)
time.sleep(600)
`, [merged]);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const refused = runCli(caseDir, ['recover', '--json']);
  assert.equal(refused.code, 3, refused.stderr);
  assert.deepEqual(json<RecoveredJson[]>(refused).map((copy) => [copy.output, copy.note]), [[null,
    "not copied: it is on an overlay whose upper directory (upper) cannot be found from here (given relative to where the overlay was mounted from): " +
    "the disk its bytes are on, and whether the case's writes land there, cannot be told; rerun with --force-same-fs to copy it anyway"]]);
  const forced = runCli(caseDir, ['recover', '--force-same-fs', '--json']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(json<RecoveredJson[]>(forced)[0]?.sha256, sha256(Buffer.alloc(3000, 'o')));
});

test('a recover killed (SIGKILL) while it writes a second copy leaves the row of that very file (NAME.2), not of the first copy (root)', async (t) => {
  const { caseDir, pid } = await pythonHolder(t, 'recover-killed-row', `
import os, sys, time
path = os.path.join(sys.argv[1], 'big.bin')
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
block = os.urandom(1 << 20)
for _ in range(400):
    os.write(fd, block)
os.unlink(path)
print(os.getpid(), flush=True)
time.sleep(600)
`);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  assert.equal(runCli(caseDir, ['recover', '-q']).code, 0);
  const second = startCli(caseDir, ['recover', '-q']);
  const copy = path.join(caseDir, 'recovered', `1-${pid}-fd3-big.bin.2`);
  const deadline = Date.now() + 20_000;
  while (!fs.existsSync(copy) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
  second.child.kill('SIGKILL');
  await second.exited;
  assert.ok(fs.existsSync(copy), 'the second copy was begun');
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  const rows = db.prepare('SELECT output, complete, note FROM recoveries ORDER BY id').all() as Array<{ output: string | null; complete: number; note: string | null }>;
  db.close();
  assert.deepEqual(rows.map((row) => [path.basename(row.output ?? ''), row.complete, row.note]), [
    [`1-${pid}-fd3-big.bin`, 1, null],
    [`1-${pid}-fd3-big.bin.2`, 0, 'interrupted: the copy did not finish'],
  ]);
});

test('--follow of an item whose fd was closed follows the file through the other fd it was copied by, to its holder\'s close (root)', async (t) => {
  const { caseDir, pid } = await pythonHolder(t, 'recover-follow-other-fd', `
import os, signal, sys, time
path = os.path.join(sys.argv[1], 'grow.log')
first = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
second = os.open(path, os.O_WRONLY | os.O_APPEND)
os.write(first, b'start\\n')
os.unlink(path)
go = []
def closed(*_):
    os.close(first)
    go.append(1)
signal.signal(signal.SIGUSR1, closed)
print(os.getpid(), flush=True)
while not go:
    time.sleep(0.05)
time.sleep(1)
for i in range(30):
    os.write(second, b'line %d\\n' % i)
    time.sleep(0.1)
os.close(second)
time.sleep(600)
`);
  const items = snapshotItems(caseDir, pid);
  const first = items.find((item) => item.fd === 3);
  assert.ok(first !== undefined, JSON.stringify(items));
  process.kill(pid, 'SIGUSR1');
  // Until the holder has closed fd 3: the copy must go through fd 4.
  const deadline = Date.now() + 5000;
  while (fs.existsSync(`/proc/${pid}/fd/3`) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  const recovered = await runCliAsync(caseDir, ['recover', '--item', String(first.id), '--follow', '--follow-timeout', '60', '--json']);
  assert.equal(recovered.code, 0, recovered.stderr);
  const [copy] = json<RecoveredJson[]>(recovered);
  const expected = Buffer.from(`start\n${Array.from({ length: 30 }, (_, index) => `line ${index}\n`).join('')}`);
  assert.deepEqual([copy?.complete, copy?.bytes, copy?.sha256], [true, expected.length, sha256(expected)]);
  assert.match(copy?.note ?? '', new RegExp(`copied through fd 4 of the same process instead \\(/proc/${pid}/fd/4\\)`));
});

/** A snapshot of one process (no lsof), and the items it lists. */
function snapshotItems(caseDir: string, pid: number): LiveItemJson[] {
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  return json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
}

test('a deleted file on tmpfs is copied into a case on that same tmpfs: memory, no disk blocks a write could take (root)', async (t) => {
  const shm = makeTempDir('recover-tmpfs-held', '/dev/shm');
  t.after(() => fs.rmSync(shm, { recursive: true, force: true }));
  const { caseDir, pid } = await pythonHolder(t, 'recover-tmpfs', holdsDeleted('payload', 'malware', 2), [shm]);
  assert.equal(fs.statSync(caseDir).dev, fs.statSync(shm).dev, 'the case is on the same tmpfs');
  const [item] = snapshotItems(caseDir, pid);
  assert.equal(item?.fs_type, 'tmpfs');
  const recovered = runCli(caseDir, ['recover', '--json']);
  assert.equal(recovered.code, 0, recovered.stderr);
  assert.deepEqual(json<RecoveredJson[]>(recovered).map((copy) => [copy.complete, copy.sha256]), [[true, sha256(Buffer.from('malware'))]]);
});

/** A python3 holder script (pythonHolder): NAME in the folder sys.argv[ARG], CONTENT written, unlinked, held open. */
function holdsDeleted(name: string, content: string, arg = 1): string {
  return `
import os, sys, time
path = os.path.join(sys.argv[${arg}], ${JSON.stringify(name)})
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
os.write(fd, ${JSON.stringify(content)}.encode())
os.unlink(path)
print(os.getpid(), flush=True)
time.sleep(600)
`;
}

/**
 * Recover every item of the case's first snapshot in this process; `during(item)` is called once per
 * item, when its copy first reaches `at` bytes, between two of its reads (what it does is done while
 * the copy is under way); `meanwhile` runs beside the copies. The case database is closed after.
 */
async function recoverWhileChanging(
  caseDir: string, follow: { follow: boolean; followTimeoutS: number | null }, at: number, during: (item: ItemRow) => void,
  meanwhile: (db: Db) => Promise<void> = async () => undefined,
): Promise<{ copies: RecoveredJson[]; followed: number[] }> {
  const kase = openCase(caseDir, { create: false });
  try {
    const seen = new Set<number>();
    const copies = recoverItems(kase.db, listItems(kase.db, 1).map((item) => item.id), {
      outputDir: kase.paths.recovered, ...follow, sameFs: 'refuse',
      onProgress: (item, bytes) => {
        if (bytes < at || seen.has(item.id)) return;
        seen.add(item.id);
        during(item);
      },
    });
    const [done] = await Promise.all([copies, meanwhile(kase.db)]);
    const followed = (kase.db.prepare('SELECT followed FROM recoveries ORDER BY item_id').pluck().all() as number[]);
    return { copies: done, followed };
  } finally {
    kase.close();
  }
}

const MiB = 1 << 20;
/** The note of a copy that cannot be shown to be one state of its file. */
const changedNote = (reasons: string): string =>
  `the file changed while it was copied (${reasons}): the copy cannot be shown to be one state of the file (it may hold earlier and later bytes mixed); recover it again for what it holds now`;
/** Holds five deleted files of 32 MiB of random bytes (fds 3 to 7); SIGUSR1 starts appending 64 KiB every 5 ms to regrown.log. */
const FIVE_DELETED = String.raw`import os, signal, sys, time
fds = {}
for name in ['cut.log', 'regrown.log', 'inplace.db', 'punched.img', 'appended.log']:
    p = os.path.join(sys.argv[1], name)
    fds[name] = os.open(p, os.O_CREAT | os.O_RDWR, 0o600)
    os.write(fds[name], os.urandom(32 << 20))
    os.unlink(p)
appending = []
signal.signal(signal.SIGUSR1, lambda *_: appending.append(os.open('/proc/self/fd/%d' % fds['regrown.log'], os.O_WRONLY | os.O_APPEND)))
print(os.getpid(), flush=True)
while True:
    if appending:
        os.write(appending[0], b'a' * 65536)
    time.sleep(0.005)`;

test('a file cut, written in place or punched with holes while it is copied is not complete: the note says it changed and to recover it again, never that it grew; a file only appended to is complete (root)', async (t) => {
  const { caseDir, pid } = await pythonHolder(t, 'changed-during', FIVE_DELETED);
  const items = snapshotItems(caseDir, pid);
  const nameOf = (id: number): string => path.basename(items.find((item) => item.id === id)?.path ?? '');
  const { copies } = await recoverWhileChanging(caseDir, { follow: false, followTimeoutS: null }, 8 * MiB, (item) => {
    const held = `/proc/${pid}/fd/${item.fd}`;
    const name = nameOf(item.id);
    if (name === 'cut.log' || name === 'regrown.log') {
      // Written again from its start, shorter (never cut below what is read meanwhile); regrown.log then grows on.
      const length = name === 'cut.log' ? 20 * MiB : 16 * MiB;
      const fd = fs.openSync(held, 'r+');
      fs.writeSync(fd, Buffer.alloc(length, 'N'), 0, length, 0);
      fs.ftruncateSync(fd, length);
      fs.closeSync(fd);
      if (name === 'regrown.log') process.kill(pid, 'SIGUSR1');
    } else if (name === 'inplace.db') {
      const fd = fs.openSync(held, 'r+');
      fs.writeSync(fd, Buffer.alloc(MiB, 'M'), 0, MiB, 4 * MiB);
      fs.closeSync(fd);
    } else if (name === 'punched.img') {
      execFileSync('fallocate', ['--punch-hole', '--offset', String(MiB), '--length', String(MiB), held]);
    } else {
      fs.appendFileSync(held, Buffer.alloc(MiB, 'a'));
    }
  });
  const byName = new Map(copies.map((copy) => [nameOf(copy.item_id), copy]));
  const cut = byName.get('cut.log');
  assert.deepEqual([cut?.bytes, cut?.complete, cut?.note], [20 * MiB, false, changedNote(`it was cut: ${32 * MiB} bytes when the copy started, ${20 * MiB} after it, ${20 * MiB} copied; its first 65536 bytes copied read differently now`)]);
  // Cut and grown again: not "grew" nor --follow, which could not help.
  const regrown = byName.get('regrown.log');
  assert.equal(regrown?.complete, false);
  assert.match(regrown?.note ?? '', new RegExp(`^${changedNote(`it was cut: ${32 * MiB} bytes when the copy started, \\d+ after it, \\d+ copied; its first 65536 bytes copied read differently now`).replace(/[()]/g, '\\$&')}$`));
  const inPlace = changedNote(`its change time moved while its size stayed ${32 * MiB} bytes: written in place, holes punched, or its attributes changed`);
  for (const name of ['inplace.db', 'punched.img']) assert.deepEqual([byName.get(name)?.bytes, byName.get(name)?.complete, byName.get(name)?.note], [32 * MiB, false, inPlace], name);
  // Appended to while it was copied (its times move as well): the copy reached its end, whole.
  const appended = byName.get('appended.log');
  const heldNow = fs.readFileSync(`/proc/${pid}/fd/${items.find((item) => item.path.endsWith('/appended.log'))?.fd}`);
  assert.deepEqual([appended?.bytes, appended?.sha256, appended?.complete, appended?.note], [33 * MiB, sha256(heldNow), true, null]);
});

test('--follow: a file cut and written again during its first pass is not followed on (its copy is no one state of it); one written in place while it is followed ends with what the copy held before (root)', async (t) => {
  const { caseDir, pid } = await pythonHolder(t, 'changed-followed', FIVE_DELETED);
  const items = snapshotItems(caseDir, pid);
  const cut = items.find((item) => item.path.endsWith('/cut.log'));
  const inPlace = items.find((item) => item.path.endsWith('/inplace.db'));
  assert.ok(cut !== undefined && inPlace !== undefined);
  const { copies, followed } = await recoverWhileChanging(caseDir, { follow: true, followTimeoutS: 3 }, 8 * MiB, (item) => {
    if (item.id !== cut.id) return;
    const fd = fs.openSync(`/proc/${pid}/fd/${item.fd}`, 'r+');
    fs.writeSync(fd, Buffer.alloc(20 * MiB, 'N'), 0, 20 * MiB, 0);
    fs.ftruncateSync(fd, 20 * MiB);
    fs.closeSync(fd);
  }, async (db) => {
    // Once inplace.db is followed (its first pass recorded): written over in the middle, its size the same.
    const firstPass = db.prepare('SELECT followed FROM recoveries WHERE item_id = ? AND finished_at IS NULL').pluck();
    for (let tries = 0; tries < 400 && firstPass.get(inPlace.id) !== 1; tries++) await new Promise((resolve) => setTimeout(resolve, 25));
    const fd = fs.openSync(`/proc/${pid}/fd/${inPlace.fd}`, 'r+');
    fs.writeSync(fd, Buffer.alloc(MiB, 'M'), 0, MiB, 4 * MiB);
    fs.closeSync(fd);
  });
  const byId = new Map(copies.map((copy) => [copy.item_id, copy]));
  assert.deepEqual([byId.get(cut.id)?.bytes, byId.get(cut.id)?.complete, byId.get(cut.id)?.note],
    [20 * MiB, false, changedNote(`it was cut: ${32 * MiB} bytes when the copy started, ${20 * MiB} after it, ${20 * MiB} copied; its first 65536 bytes copied read differently now`)]);
  assert.deepEqual([byId.get(inPlace.id)?.bytes, byId.get(inPlace.id)?.complete, byId.get(inPlace.id)?.note],
    [32 * MiB, false, `the writer cut it from ${32 * MiB} bytes, or wrote over bytes already copied, while it was followed: the copy holds what it held before that (${32 * MiB} bytes); recover it again for what it holds now`]);
  // cut.log was not followed; the others were (and are still held: the follow timeout).
  assert.deepEqual(followed, items.map((item) => (item.id === cut.id ? 0 : 1)));
});

test('one file held by two processes (fork) and rewritten through a shared mapping during the copy of the first item: that copy is not complete, the second item is copied itself, whole (root)', async (t) => {
  const { caseDir, pid } = await pythonHolder(t, 'changed-mmap', String.raw`import os, sys, time
p = os.path.join(sys.argv[1], 'shared.db')
fd = os.open(p, os.O_CREAT | os.O_RDWR, 0o600)
os.write(fd, os.urandom(16 << 20))
os.unlink(p)
child = os.fork()
if child == 0:
    time.sleep(600)
    os._exit(0)
print(os.getpid(), flush=True)
time.sleep(600)`);
  const child = forkedChild(t, pid);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid), '--pid', String(child)]).code, 0);
  // A copy stands for the other item of its file only when the file had not changed for a second before it.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const rewrite = 'import mmap, os, sys\nfd = os.open(sys.argv[1], os.O_RDWR)\nm = mmap.mmap(fd, 16 << 20)\nm[:] = b"R" * (16 << 20)\nm.close()';
  let first: number | null = null;
  const { copies } = await recoverWhileChanging(caseDir, { follow: false, followTimeoutS: null }, 4 * MiB, (item) => {
    if (first !== null) return;
    first = item.id;
    execFileSync('python3', ['-c', rewrite, `/proc/${item.pid}/fd/${item.fd}`]);
  });
  assert.equal(copies.length, 2);
  const [one, two] = copies[0]?.item_id === first ? copies : [copies[1], copies[0]];
  assert.deepEqual([one?.complete, one?.note], [false, changedNote(`its change time moved while its size stayed ${16 * MiB} bytes: written in place, holes punched, or its attributes changed; its first 65536 bytes copied read differently now`)]);
  assert.deepEqual([two?.complete, two?.note, two?.sha256], [true, null, sha256(Buffer.alloc(16 * MiB, 'R'))]);
  assert.notEqual(one?.output, two?.output);
});

test('a memfd and the executable run from it (execveat of the memfd, its fd kept open) are one file: copied once, by this process (no dd) (root)', async (t) => {
  const { caseDir, pid } = await pythonHolder(t, 'memfd-exe', String.raw`import os
fd = os.memfd_create('payload', 0)
os.write(fd, open('/bin/sleep', 'rb').read())
print(os.getpid(), flush=True)
os.execv('/proc/self/fd/%d' % fd, ['payload', '600'])`);
  // Its exe link names the memfd once the exec is done.
  await waitFor(() => tryReadlink(`/proc/${pid}/exe`).startsWith('/memfd:payload'), 5000);
  const items = snapshotItems(caseDir, pid);
  assert.deepEqual(items.map((item) => [item.kind, item.path]).sort(), [['exe', '/memfd:payload'], ['memfd', '/memfd:payload']]);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const copies = json<RecoveredJson[]>(runCli(caseDir, ['recover', '--json']));
  const made = copies.find((copy) => copy.note === null);
  assert.ok(made !== undefined, JSON.stringify(copies));
  const other = copies.find((copy) => copy !== made);
  assert.deepEqual([copies.length, made.sha256, made.complete], [2, sha256(fs.readFileSync('/bin/sleep')), true]);
  assert.deepEqual([other?.output, other?.sha256, other?.complete, other?.note],
    [made.output, made.sha256, true, `the same file as item ${made.item_id} (device ${items[0]?.dev}, inode ${items[0]?.inode}): its copy ${path.basename(made.output ?? '')} holds it, not copied again`]);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  const dd = db.prepare(`SELECT count(*) FROM commands WHERE program = 'dd'`).pluck().get();
  db.close();
  assert.equal(dd, 0);
});

function tryReadlink(link: string): string {
  try {
    return fs.readlinkSync(link);
  } catch {
    return '';
  }
}

test('one file held by two processes, changed after the whole copy of the first item ended: the second item is copied again and its note says the file changed since that copy (two whole copies, of two moments) (root)', async (t) => {
  const { caseDir, pid } = await pythonHolder(t, 'changed-after', String.raw`import os, sys, time
fds = []
for name, size in [('f.db', 1 << 20), ('g.log', 8 << 20)]:
    p = os.path.join(sys.argv[1], name)
    fds.append(os.open(p, os.O_CREAT | os.O_RDWR, 0o600))
    os.write(fds[-1], os.urandom(size))
    os.unlink(p)
if os.fork() == 0:
    time.sleep(600)
    os._exit(0)
print(os.getpid(), flush=True)
time.sleep(600)`);
  const child = forkedChild(t, pid);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid), '--pid', String(child)]).code, 0);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  let changedDuring: number | null = null;
  // f.db is written over while g.log of the first process is copied: after the copy of f.db of that process, before the other's.
  const { copies } = await recoverWhileChanging(caseDir, { follow: false, followTimeoutS: null }, 4 * MiB, (item) => {
    if (changedDuring !== null || !item.path.toString('latin1').endsWith('/g.log')) return;
    changedDuring = item.pid;
    const fd = fs.openSync(`/proc/${item.pid}/fd/3`, 'r+');
    fs.writeSync(fd, Buffer.alloc(4096, 'W'), 0, 4096, 0);
    fs.closeSync(fd);
  });
  const f = copies.filter((copy) => copy.inode === copies.find((one) => one.bytes === MiB)?.inode);
  const [first, second] = f[0]?.pid === changedDuring ? f : [f[1], f[0]];
  assert.deepEqual([first?.complete, first?.note, second?.complete], [true, null, true]);
  assert.notEqual(first?.sha256, second?.sha256);
  assert.equal(second?.sha256, sha256(fs.readFileSync(`/proc/${pid}/fd/3`)));
  const dev = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json'])).find((item) => item.id === first?.item_id)?.dev;
  assert.equal(second?.note, `the same file as item ${first?.item_id} (device ${dev}, inode ${first?.inode}), changed since its copy ${path.basename(first?.output ?? '')} was made (its size or change times differ now): copied again`);
});

/** The one child a holder forked (its PID as a string, as the CLI takes it), killed after the test. */
function forkedChild(t: TestContext, pid: number): string {
  const [child = ''] = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim().split(' ');
  t.after(() => {
    try {
      process.kill(Number(child), 'SIGKILL');
    } catch {
      // exited already
    }
  });
  return child;
}

/** A holder of `count` deleted files of 10 bytes each ('0123456789'), in its own temp directory: many small items. */
const MANY_SMALL_FILES = `
import os, sys, time, resource
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
fds = []
for n in range(int(sys.argv[2])):
    name = os.path.join(sys.argv[1], 'f%d' % n)
    fd = os.open(name, os.O_CREAT | os.O_RDWR, 0o600)
    os.write(fd, b'0123456789')
    os.unlink(name)
    fds.append(fd)
print(os.getpid(), flush=True)
time.sleep(600)
`;

test('recover of 300 small files makes a ring of copy buffers at most, not one per copy (each made 16 MiB: the GC made 12,500 items take 41 s of CPU)', async (t) => {
  const { caseDir, pid } = await pythonHolder(t, 'recover-many-small', MANY_SMALL_FILES, ['300']);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const kase = openCase(caseDir, { create: false });
  t.after(() => kase.close());
  const ids = listItems(kase.db, 1).map((item) => item.id);
  assert.equal(ids.length, 300);
  const madeBefore = chunkBuffers.made;
  const recovered = await recoverItems(kase.db, ids, { outputDir: kase.paths.recovered, follow: false, followTimeoutS: null, sameFs: 'refuse' });
  assert.deepEqual([recovered.length, recovered.filter((copy) => copy.complete && copy.bytes === 10 && copy.sha256 === sha256(Buffer.from('0123456789'))).length], [300, 300]);
  // A copy of a 10-byte file uses two (its read, and the read that finds the end), taken from those the copies before gave back.
  assert.ok(chunkBuffers.made - madeBefore <= 4, `${chunkBuffers.made - madeBefore} buffers made`);
});

test('a first Ctrl-C during a recover of 19,000 items: the items whose turn had not come are recorded in one go and said in ONE line with their count; the JSON lists each; a second Ctrl-C stops at once, exit 1', async (t) => {
  const { caseDir, pid } = await pythonHolder(t, 'recover-stop-many', MANY_SMALL_FILES, ['19000']);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const pristine = `${caseDir}.pristine`;
  fs.cpSync(caseDir, pristine, { recursive: true });
  t.after(() => fs.rmSync(pristine, { recursive: true, force: true }));
  const recovered = path.join(caseDir, 'recovered');
  const started = async (): Promise<ReturnType<typeof startCli>> => {
    const recover = startCli(caseDir, ['recover', '--json']);
    t.after(() => recover.child.kill('SIGKILL'));
    await waitFor(() => fs.existsSync(recovered) && fs.readdirSync(recovered).length > 20, 20_000, 'the copies began');
    return recover;
  };

  const once = await started();
  once.child.kill('SIGINT');
  assert.equal(await once.exited, 3, once.stderr);
  const copies = JSON.parse(once.stdout) as RecoveredJson[];
  assert.equal(copies.length, 19_000);
  const notReached = copies.filter((copy) => copy.note === NOT_REACHED);
  assert.ok(notReached.length > 0 && notReached.every((copy) => copy.output === null && copy.bytes === 0 && !copy.complete), JSON.stringify(notReached[0]));
  const lines = once.stderr.split('\n').filter((line) => line !== '');
  assert.equal(lines[0], 'unlinked: SIGINT while copying: the copy under way ends with what it holds now, hashed and recorded (not complete), the items after it are not copied; Ctrl-C again stops at once');
  // Smallest first, then by id: the items not reached are the last ids, one range.
  const ids = notReached.map((copy) => copy.item_id);
  const count = notReached.length.toLocaleString('en-US');
  assert.ok(lines.includes(`warning: ${count} items not copied: interrupted before their turn (a Ctrl-C, SIGTERM or SIGHUP stopped the copies) (items ${Math.min(...ids)}-${Math.max(...ids)}: each is recorded in the case)`), once.stderr);
  // The copy under way may be said on a line of its own; nothing else per item.
  assert.ok(lines.length <= 4, once.stderr);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  assert.equal(db.prepare(`SELECT count(*) FROM recoveries WHERE note = ? AND finished_at IS NOT NULL AND output IS NULL`).pluck().get(NOT_REACHED), notReached.length);
  db.close();

  // Again from the snapshot alone: a second Ctrl-C right after the first stops at once.
  fs.rmSync(caseDir, { recursive: true });
  fs.cpSync(pristine, caseDir, { recursive: true });
  const twice = await started();
  twice.child.kill('SIGINT');
  const signalled = Date.now();
  // The second once the first was taken (said), while the items not reached are recorded.
  await waitFor(() => twice.stderr.includes('Ctrl-C again stops at once'), 5000, 'the first Ctrl-C taken');
  twice.child.kill('SIGINT');
  assert.equal(await twice.exited, 1, twice.stderr);
  const tookMs = Date.now() - signalled;
  assert.ok(tookMs < 3000, `stopped ${tookMs} ms after the first Ctrl-C`);
  assert.match(twice.stderr, /^unlinked: SIGINT while copying: .*; Ctrl-C again stops at once\n/);
  assert.match(twice.stderr, /\nunlinked: interrupted by SIGINT; every finished step is in the case database, an unfinished snapshot or copy is not counted\n$/);
  assert.doesNotMatch(twice.stderr, /before its turn/);
});

/** A holder of a deleted file it holds a write lease on: told by SIGIO that an open breaks it, it wipes the file, gives the lease up and writes `tip`; SIGUSR1 writes the sha256 of what the file holds into `sha` (its own read breaks nothing). */
const LEASE_HOLDER = `
import os, sys, fcntl, signal, hashlib
d = sys.argv[1]
p = os.path.join(d, 'lease.log')
open(p, 'wb').write(b'EXFIL-KEY=0123456789abcdef\\n' * 100)
fd = os.open(p, os.O_RDWR)
def on_break(sig, frame):
    os.ftruncate(fd, 0); os.pwrite(fd, b'nothing to see here\\n', 0)
    fcntl.fcntl(fd, 1024, fcntl.F_UNLCK)
    open(os.path.join(d, 'tip'), 'w').write('tipped off, wiped\\n')
def report(sig, frame):
    open(os.path.join(d, 'sha.part'), 'w').write(hashlib.sha256(os.pread(fd, 1 << 20, 0)).hexdigest())
    os.rename(os.path.join(d, 'sha.part'), os.path.join(d, 'sha'))
signal.signal(signal.SIGIO, on_break)
signal.signal(signal.SIGUSR1, report)
fcntl.fcntl(fd, 1024, fcntl.F_WRLCK)
os.unlink(p)
print(os.getpid(), flush=True)
while True:
    signal.pause()
`;

test('a file its holder holds a write lease on: the snapshot says so, recover does not open it (the holder is not tipped off), --force-lease-break copies it and says the lease was broken (root)', async (t) => {
  const { dir, caseDir, pid } = await pythonHolder(t, 'recover-lease', LEASE_HOLDER);
  const content = Buffer.from('EXFIL-KEY=0123456789abcdef\n'.repeat(100));
  const snapshot = runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]);
  assert.equal(snapshot.code, 0, snapshot.stderr);
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  const item = items.find((each) => each.path === `${dir}/lease.log`);
  assert.ok(item !== undefined);
  assert.deepEqual([item.fd, item.size, item.lease, item.lease_pid], [3, content.length, 'LEASE ACTIVE WRITE', pid]);
  const warning = `pid ${pid} (python3) fd 3 (${dir}/lease.log): process ${pid} holds a write lease on it (/proc/locks: LEASE ACTIVE WRITE): ` +
    'an open of the file signals the holder, which can change or cut it before it is read: recover does not open it without --force-lease-break (docs/recovery.md)';
  assert.ok(snapshot.stderr.includes(`warning: ${warning}\n`), snapshot.stderr);
  const stored = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    assert.ok((JSON.parse((stored.prepare(`SELECT warnings FROM snapshots`).get() as { warnings: string }).warnings) as string[]).includes(warning));
  } finally {
    stored.close();
  }

  // Not opened: refused with the reason, exit 3; the holder was not signalled, the file is as it was.
  const refused = runCli(caseDir, ['recover', '--item', String(item.id), '--json']);
  assert.equal(refused.code, 3, refused.stderr);
  const reason = `not copied: process ${pid} holds a write lease on it (/proc/locks: LEASE ACTIVE WRITE): opening the file would signal the holder, which can change it before the copy; rerun with --force-lease-break to copy anyway`;
  assert.deepEqual(json<RecoveredJson[]>(refused).map((copy) => [copy.output, copy.complete, copy.note]), [[null, false, reason]]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(fs.existsSync(path.join(dir, 'tip')), false, 'the holder was not tipped off');
  process.kill(pid, 'SIGUSR1');
  await waitFor(() => fs.existsSync(path.join(dir, 'sha')), 5000);
  assert.equal(fs.readFileSync(path.join(dir, 'sha'), 'utf8'), sha256(content), 'the file holds what it held');

  // Forced: the open breaks the lease, the holder wipes the file before the open returns; the note says the copy did it.
  const forced = runCli(caseDir, ['recover', '--item', String(item.id), '--force-lease-break', '--json']);
  assert.equal(forced.code, 0, forced.stderr);
  const [copy] = json<RecoveredJson[]>(forced);
  assert.ok(copy !== undefined && copy.output !== null);
  assert.equal(fs.readFileSync(path.join(dir, 'tip'), 'utf8'), 'tipped off, wiped\n');
  assert.equal(fs.readFileSync(copy.output, 'utf8'), 'nothing to see here\n');
  assert.equal(copy.note,
    `process ${pid} held a write lease on it (/proc/locks: LEASE ACTIVE WRITE): this copy's open broke it (--force-lease-break), which signalled the holder: ` +
    'what the file held may have been changed or cut by the holder before or while it was copied; ' +
    `the file was ${content.length} bytes at the snapshot and 20 when the copy started: cut since, perhaps by the lease's holder when this copy's open broke its lease`);
  assert.match(forced.stderr, new RegExp(`^warning: item ${item.id}: process ${pid} holds a write lease on it \\(/proc/locks: LEASE ACTIVE WRITE\\): opening it \\(--force-lease-break\\) signals the holder and waits up to \\d+ s \\(/proc/sys/fs/lease-break-time\\) for it to give the lease up$`, 'm'));
});

test('a POSIX message queue listed as an fd item by an older snapshot is never read by default (its read gives the queue\'s status line, not its messages), told by the mount the snapshot named even unmounted since; forced, a copy whose reads end before its size is not said to have grown (root)', async (t) => {
  const script = `${MQUEUE_UNLINKED}print(os.getpid(), flush=True)
time.sleep(600)
`;
  const { dir, caseDir, pid } = await pythonHolder(t, 'recover-mqueue', script);
  // Mounted while the snapshot is taken (its mount table names it), unmounted before recover.
  const point = path.join(dir, 'mq');
  fs.mkdirSync(point);
  execFileSync('mount', ['-t', 'mqueue', 'mqueue', point]);
  try {
    assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  } finally {
    execFileSync('umount', [point]);
  }
  assert.deepEqual(json<LiveItemJson[]>(runCli(caseDir, ['list', '--json'])), [], 'the walk makes no item of it');
  // The items an older unlinked made of it: its walk named the mount by the device (the fd's mnt_id is the internal mount's).
  const db = new Database(path.join(caseDir, 'case.sqlite'));
  let named: number;
  let unnamed: number;
  try {
    const legacy = db.prepare(`INSERT INTO items (snapshot_id, pid, start_time, comm, kind, fd, path, dev, inode, size, nlink, mode, mnt_id, mnt_ns, mount_point, fs_type, in_proc)
      SELECT f.snapshot_id, f.pid, p.start_time, p.comm, 'fd', f.fd, CAST('/unlinked-test-' || f.pid AS BLOB), f.dev, f.inode, f.size, f.nlink, f.mode, f.mnt_id, p.mnt_ns,
        CASE WHEN ? THEN m.mount_point END, CASE WHEN ? THEN m.fs_type END, 1
      FROM fds f JOIN processes p USING (snapshot_id, pid) JOIN mounts m ON m.snapshot_id = f.snapshot_id AND m.mnt_ns = p.mnt_ns AND m.dev = f.dev
      WHERE f.pid = ? AND f.fd = 3 RETURNING id`);
    named = (legacy.get(1, 1, pid) as { id: number }).id;
    unnamed = (legacy.get(0, 0, pid) as { id: number }).id;
    const [item] = getItems(db, [named]);
    assert.ok(item !== undefined);
    assert.equal(db.prepare(`SELECT count(*) FROM mounts WHERE mnt_id = (SELECT mnt_id FROM items WHERE id = ?)`).pluck().get(named), 0, 'the fd\'s mnt_id is in no mountinfo');
    assert.deepEqual(itemMount(db)(item)?.fs_type, 'mqueue', 'its mount, as the walk named it: by its device');
  } finally {
    db.close();
  }
  const refused = runCli(caseDir, ['recover', '--item', String(named), '--item', String(unnamed), '--json']);
  assert.equal(refused.code, 3, refused.stderr);
  const queue = 'not copied: it is a POSIX message queue (the mqueue file system; removed with mq_unlink): a read of its file gives the queue\'s status line (QSIZE:...), ' +
    'not its messages, which cannot be read without taking them from the queue (docs/limits.md)';
  assert.deepEqual(json<RecoveredJson[]>(refused).map((copy) => [copy.item_id, copy.output, copy.note]), [[named, null, queue], [unnamed, null, queue]], 'by the mount named, and by statfs');
  // Forced past the unknown mount: the kernel's status line (60 bytes) of a file of 80, not "grew from 80 to 80".
  const [forced] = json<RecoveredJson[]>(runCli(caseDir, ['recover', '--item', String(unnamed), '--force-same-fs', '--json']));
  assert.ok(forced !== undefined && forced.output !== null);
  assert.deepEqual([forced.bytes, forced.complete], [60, false]);
  assert.match(fs.readFileSync(forced.output, 'latin1'), /^QSIZE:37 +NOTIFY:0 +SIGNO:0 +NOTIFY_PID:0 +\n$/);
  assert.match(forced.note ?? '', /^its reads ended after 60 bytes, though its size was 80 bytes when the copy started and when it ended: a file whose content is not what its size says \(a special file system's\?\); the copy holds what the reads gave(; |$)/);
  assert.doesNotMatch(forced.note ?? '', /grew/);
});
