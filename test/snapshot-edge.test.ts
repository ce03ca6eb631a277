// Issue 3, the awkward processes: a mapped file whose name holds a newline, a real file named like a
// memfd, overlayfs layers on two file systems, a namespace whose first process is chrooted, a main
// thread that exited while another runs on. Real processes, killed by PID.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { json, runCli, startCli } from './helpers/cli.js';
import { makeTempDir, startHolder } from './helpers/holder.js';
import { firstLine, lines } from './helpers/lines.js';
import { deepDeletedBinary, pythonHolder } from './helpers/pythonHolder.js';
import { tryOr } from '../src/util/tryOr.js';
import { killed } from './helpers/fuse.js';
import { MQUEUE_UNLINKED } from './helpers/mqueue.js';
import { cliPath, repoRoot } from './helpers/paths.js';
import { probeMounts } from '../src/proc/mountProbe.js';
import type { WalkChunk } from '../src/proc/walk.js';
import type { LiveItemJson } from '../src/store/items.js';

const mounted = (point: string): boolean => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((line) => line.split(' ')[4] === point);

test('a mapped file is named byte-exact (a newline is not maps\' "\\012"), and a real file named /memfd:x mapped is a map, not a memfd (root)', async (t) => {
  const dir = makeTempDir('mapname');
  const caseDir = makeTempDir('mapname-case', '/dev/shm');
  const fake = `memfd:unlinked-test-${process.pid}`;
  const holder = await startHolder(dir, [{ kind: 'map', name: 'map\nped\\012', content: Buffer.from('mapped with a newline in its name\n') }]);
  // A file at the root named like a memfd (created and unlinked at once by the holder).
  const rooted = await startHolder('/', [{ kind: 'map', name: fake, content: Buffer.from('an ordinary file\n') }]);
  t.after(async () => {
    await holder.stop();
    await rooted.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid), '--pid', String(rooted.pid)]).code, 0);
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.deepEqual(items.map((item) => [item.pid, item.kind, Buffer.from(item.path_b64, 'base64').toString('latin1')]), [
    [holder.pid, 'map', path.join(dir, 'map\nped\\012')],
    [rooted.pid, 'map', `/${fake}`],
  ]);
});

test('a deleted file mapped on overlayfs whose layers are on two file systems is found (its device is not in mountinfo) (root)', async (t) => {
  const dir = makeTempDir('overlay');
  const caseDir = makeTempDir('overlay-case', '/dev/shm');
  const [lower, upper, merged] = ['lower', 'upper', 'merged'].map((name) => path.join(dir, name));
  const holders: Array<{ stop(): Promise<void> }> = [];
  t.after(async () => {
    for (const holder of holders) await holder.stop();
    for (const point of [merged, upper, lower]) if (point !== undefined && mounted(point)) execFileSync('umount', [point]);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  assert.ok(lower !== undefined && upper !== undefined && merged !== undefined);
  for (const point of [lower, upper, merged]) fs.mkdirSync(point);
  // Two tmpfs: the lower layer and the upper one (with overlayfs' work directory).
  execFileSync('mount', ['-t', 'tmpfs', 'lower', lower]);
  execFileSync('mount', ['-t', 'tmpfs', 'upper', upper]);
  fs.mkdirSync(path.join(upper, 'data'));
  fs.mkdirSync(path.join(upper, 'work'));
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${path.join(upper, 'data')},workdir=${path.join(upper, 'work')}`, merged]);
  const holder = await startHolder(merged, [{ kind: 'map', name: 'layered.bin', content: Buffer.from('mapped on an overlay\n') }, { kind: 'fd', name: 'held.bin', content: Buffer.from('held on an overlay\n') }]);
  holders.push(holder);
  const devs = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((line) => line.split(' ')[2]);
  assert.ok(!devs.includes(`${Math.floor((holder.files[0]?.dev ?? 0) / 256)}:${(holder.files[0]?.dev ?? 0) % 256}`), 'the mapped file has a device number of its own');
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.deepEqual(items.map((item) => [item.kind, item.path, item.inode, item.mount_point, item.fs_type]).sort(), [
    ['fd', path.join(merged, 'held.bin'), holder.files[1]?.inode, merged, 'overlay'],
    ['map', path.join(merged, 'layered.bin'), holder.files[0]?.inode, merged, 'overlay'],
  ]);
});

test('a mount namespace whose first process is chrooted: another process of it still gets its own mount table (root)', async (t) => {
  const dir = makeTempDir('chroot');
  const caseDir = makeTempDir('chroot-case', '/dev/shm');
  fs.mkdirSync(path.join(dir, 'a'));
  fs.mkdirSync(path.join(dir, 'b'));
  // In a private mount namespace: a tmpfs at b, a (non-recursive) bind of / at a. A python child
  // holds a deleted file on b; then the shell, the lower PID, chroots into a (where b is not seen).
  const script = String.raw`
mount -t tmpfs held "$1/b"
mount --bind / "$1/a"
python3 -c 'import os, sys, time
p = sys.argv[1] + "/b/held.log"
f = os.open(p, os.O_CREAT | os.O_RDWR, 0o600)
os.write(f, b"outside the chroot\n")
os.unlink(p)
print(os.getpid(), flush=True)
time.sleep(600)' "$1" &
sleep 0.3
echo $$
exec chroot "$1/a" sleep 600`;
  // The walk goes in PID order and the shell must come first. With a pid_max of 32768 (this kind of
  // machine) the PIDs can wrap between the shell and its child: then the set-up is made again.
  const started: ChildProcess[] = [];
  const heldPids: number[] = [];
  t.after(async () => {
    for (const pid of heldPids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    for (const shell of started) await killed(shell).stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  let child = 0;
  let chrooted = 0;
  for (let attempt = 1; ; attempt++) {
    const shell = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    started.push(shell);
    const [childLine, shellLine] = await lines(shell, 2);
    child = Number(childLine);
    chrooted = Number(shellLine);
    heldPids.push(child);
    if (chrooted < child) break;
    assert.ok(attempt < 3, `the chrooted shell (${chrooted}) came after its child (${child}) three times: the PIDs cannot have wrapped each time`);
    process.kill(child, 'SIGKILL');
    await killed(shell).stop();
  }
  // Once chrooted, the shell's mountinfo lists only what is under its root: not the tmpfs at b.
  for (let tries = 0; / tmpfs held /.test(fs.readFileSync(`/proc/${chrooted}/mountinfo`, 'utf8')); tries++) {
    assert.ok(tries < 500, 'the shell did not chroot');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.match(fs.readFileSync(`/proc/${child}/mountinfo`, 'utf8'), / tmpfs held /);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(chrooted), '--pid', String(child)]).code, 0);
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.deepEqual(items.map((item) => [item.pid, item.kind, item.path, item.mount_point, item.fs_type]), [[child, 'fd', path.join(dir, 'b', 'held.log'), path.join(dir, 'b'), 'tmpfs']]);
});

test('a mount namespace of chrooted processes only: their mount points are given in the frame of their paths (the chroot prefixed), the same whichever of them is walked (root)', async (t) => {
  const dir = makeTempDir('chrootonly');
  const caseDir = makeTempDir('chrootonly-case', '/dev/shm');
  fs.mkdirSync(path.join(dir, 'r'));
  fs.mkdirSync(path.join(dir, 'data'));
  // A private namespace: / bound at r, a tmpfs on r's copy of dir/data; then chrooted into r (where it is dir/data).
  const script = String.raw`mount --bind / "$1/r" && mount -t tmpfs held "$1/r$1/data" && exec chroot "$1/r" python3 -c 'import os, sys, time
p = sys.argv[1] + "/data/c.log"
f = os.open(p, os.O_CREAT | os.O_RDWR, 0o600)
os.write(f, b"in a chroot\n")
os.unlink(p)
print(os.getpid(), flush=True)
time.sleep(600)' "$1"`;
  const holder = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(async () => {
    await killed(holder).stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const pid = Number(await firstLine(holder));
  assert.equal(fs.readlinkSync(`/proc/${pid}/root`), path.join(dir, 'r'));
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  const where = path.join(dir, 'r') + path.join(dir, 'data');
  assert.deepEqual(items.map((item) => [item.pid, item.path, item.mount_point, item.fs_type]), [[pid, path.join(where, 'c.log'), where, 'tmpfs']]);
});

/** zombieleader.c built and started in a new folder with these files (the first held, the second mapped, a third held in a thread's own table); resolves once its main thread has exited. */
async function startZombieLeader(t: TestContext, name: string, files: Record<string, string>): Promise<{ dir: string; caseDir: string; pid: number }> {
  const dir = makeTempDir(name);
  const caseDir = makeTempDir(`${name}-case`, '/dev/shm');
  const binary = path.join(dir, 'zombieleader');
  execFileSync('gcc', ['-O2', '-Wall', '-pthread', '-o', binary, path.join(repoRoot, 'test', 'helpers', 'c', 'zombieleader.c')]);
  for (const [file, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), content);
  const process_ = spawn(binary, Object.keys(files).map((file) => path.join(dir, file)), { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(async () => {
    await killed(process_).stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const pid = Number(await firstLine(process_));
  // Wait until the main thread is gone: the leader turns zombie.
  for (let tries = 0; !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8')); tries++) {
    assert.ok(tries < 200, 'the main thread did not exit');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { dir, caseDir, pid };
}

test('a process whose main thread exited while another runs: its held file is found through the live thread, and recovered (root)', async (t) => {
  const { dir, caseDir, pid } = await startZombieLeader(t, 'zombie', { 'held.log': 'held by a process whose main thread is gone\n', 'mapped.bin': 'mapped' });
  assert.deepEqual(fs.readdirSync(`/proc/${pid}/fd`), [], 'the leader itself shows no fds');
  // The probe of network and FUSE mounts sees its namespace (through the thread) too.
  const probed = await probeMounts([pid], '/proc', null);
  assert.deepEqual([...probed.pidsByNamespace], [[fs.readlinkSync('/proc/self/ns/mnt'), [pid]]]);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  // The file it only maps too: stat'ed and copied through the thread's map_files. Both on the mount
  // the leader's namespace has there (its own ns link and mountinfo cannot be read).
  const [mountPoint, fsType] = execFileSync('findmnt', ['-n', '-o', 'TARGET,FSTYPE', '-T', dir], { encoding: 'utf8' }).trim().split(/\s+/);
  assert.deepEqual(items.map((item) => [item.mount_point, item.fs_type]), [[mountPoint, fsType], [mountPoint, fsType]]);
  assert.deepEqual(
    items.map((item) => [item.pid, item.kind, item.fd, item.path, item.size]),
    [[pid, 'fd', 3, path.join(dir, 'held.log'), 44], [pid, 'map', null, path.join(dir, 'mapped.bin'), 6]],
  );
  const recover = runCli(caseDir, ['recover', '--json']);
  assert.equal(recover.code, 0, recover.stderr);
  const copies = json<Array<{ kind: string; complete: boolean; bytes: number; output: string }>>(recover);
  // The smallest first.
  assert.deepEqual(copies.map((copy) => [copy.kind, copy.complete, copy.bytes, fs.readFileSync(copy.output, 'utf8')]), [
    ['map', true, 6, 'mapped'],
    ['fd', true, 44, 'held by a process whose main thread is gone\n'],
  ]);
  // lsof -K lists nothing for the exited main thread, the file under the live one: imported, it is still the process's.
  const capture = path.join(dir, 'tasks.F0.txt');
  fs.writeFileSync(capture, execFileSync('lsof', ['-a', '-K', '+L1', '-n', '-P', '-F0pKcuftDsikn', '-p', String(pid)]));
  const importCase = path.join(caseDir, 'import');
  assert.equal(runCli(importCase, ['lsof', 'import', capture]).code, 0);
  const imported = json<LiveItemJson[]>(runCli(importCase, ['list', '--json']));
  assert.deepEqual(imported.map((item) => [item.pid, item.thread_of, item.fd, item.path]), [[pid, null, 3, path.join(dir, 'held.log')]]);
  assert.match(imported[0]?.lsof_note ?? '', /lsof -K lists no deleted file in the process's own set \(its main thread may have exited\): thread \d+'s set is taken for the process's/);
});

test('a zombie leader whose two live threads hold fd tables of different sizes, one thread each: which table was the process\'s cannot be told, and the snapshot says so (root)', async (t) => {
  const { caseDir, pid } = await startZombieLeader(t, 'zombie-tie', { 'held.log': 'held', 'mapped.bin': 'mapped', 'odd.bin': 'odd' });
  // The thread started first has the table of its own (held.log and odd.bin), the other the process's (held.log).
  const [oddTid, mainTid] = fs.readdirSync(`/proc/${pid}/task`).map(Number).filter((tid) => tid !== pid).sort((a, b) => a - b);
  const snapshot = runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]);
  assert.equal(snapshot.code, 0, snapshot.stderr);
  assert.match(snapshot.stderr, new RegExp(`^warning: pid ${pid}: its main thread has exited and its threads hold fd tables of different sizes, each shared by as many threads \\(thread ${oddTid}; thread ${mainTid}\\): which one was the process's cannot be told; its files are listed as the process's through thread ${oddTid}, another table's as a thread's own$`, 'm'));
  // Nothing lost: every file is listed once.
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.deepEqual(items.map((item) => path.basename(item.path)).sort(), ['held.log', 'mapped.bin', 'odd.bin']);
});

test('threads with an fd table of their own (unshare(CLONE_FILES)): each table\'s own deleted files listed once under one of its threads (thread_of), even at the process\'s fd numbers and under the same name, and recovered; what it inherited and what sharing threads see is not listed again; the same from an lsof -K capture imported (root)', async (t) => {
  const dir = makeTempDir('ownfdtable');
  const caseDir = makeTempDir('ownfdtable-case', '/dev/shm');
  const binary = path.join(dir, 'ownfdtable');
  execFileSync('gcc', ['-O2', '-Wall', '-pthread', '-o', binary, path.join(repoRoot, 'test', 'helpers', 'c', 'ownfdtable.c')]);
  const content: Record<string, Buffer> = {
    'inherited.bin': crypto.randomBytes(1001), 'hidden.bin': crypto.randomBytes(7001), 'shown.bin': crypto.randomBytes(3001),
    'same-thread.log': crypto.randomBytes(501), 'same-main.log': crypto.randomBytes(502),
  };
  for (const [name, bytes] of Object.entries(content)) fs.writeFileSync(path.join(dir, name), bytes);
  const process_ = spawn(binary, [dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(async () => {
    await killed(process_).stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const [pid = 0, ownTid = 0, sharesOwn = 0, sharesMain = 0] = (await firstLine(process_)).split(' ').map(Number);
  assert.deepEqual(fs.readdirSync(`/proc/${pid}/fd`).sort(), fs.readdirSync(`/proc/${pid}/task/${ownTid}/fd`).sort(), 'the same fd numbers in both tables');
  assert.equal(fs.readlinkSync(`/proc/${pid}/fd/5`), fs.readlinkSync(`/proc/${pid}/task/${ownTid}/fd/5`), 'fd 5: the same name in both');
  const at = (name: string) => path.join(dir, name);
  const expected = [
    [pid, null, 3, at('inherited.bin'), 1001], [pid, null, 4, at('shown.bin'), 3001], [pid, null, 5, at('same.log'), 502],
    [ownTid, pid, 4, at('hidden.bin'), 7001], [ownTid, pid, 5, at('same.log'), 501],
  ].sort((a, b) => Number(a[0]) - Number(b[0]) || Number(a[2]) - Number(b[2]));
  const listed = () => json<LiveItemJson[]>(runCli(caseDir, ['list', '--json'])).map((item) => [item.pid, item.thread_of, item.fd, item.path, item.size]);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  assert.deepEqual(listed(), expected);
  const listedTids = (json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']))).map((item) => item.pid);
  assert.ok(!listedTids.includes(sharesOwn) && !listedTids.includes(sharesMain), 'threads that share a table add no row');
  const recover = runCli(caseDir, ['recover', '--json']);
  assert.equal(recover.code, 0, recover.stderr);
  const copies = json<Array<{ pid: number; fd: number; complete: boolean; sha256: string }>>(recover);
  const sha = (bytes: Buffer | undefined) => crypto.createHash('sha256').update(bytes ?? Buffer.alloc(0)).digest('hex');
  assert.deepEqual(copies.map((copy) => [copy.pid, copy.fd, copy.complete, copy.sha256]).sort((a, b) => Number(a[0]) - Number(b[0]) || Number(a[1]) - Number(b[1])), [
    [pid, 3, true, sha(content['inherited.bin'])], [pid, 4, true, sha(content['shown.bin'])], [pid, 5, true, sha(content['same-main.log'])],
    [ownTid, 4, true, sha(content['hidden.bin'])], [ownTid, 5, true, sha(content['same-thread.log'])],
  ].sort((a, b) => Number(a[0]) - Number(b[0]) || Number(a[1]) - Number(b[1])));
  // A thread's TID asked for stands for its process; asked with it, still one row each.
  for (const asked of [[String(ownTid)], [String(pid), String(ownTid)]]) {
    const result = runCli(caseDir, ['snapshot', '--no-lsof', ...asked.flatMap((one) => ['--pid', one])]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`--pid ${ownTid} is a thread of process ${pid}: that process was walked`));
    assert.deepEqual(listed(), expected);
  }
  // With lsof beside the walk: lsof (without -K) lists the process's files, not the thread's, and the item says why.
  assert.equal(runCli(caseDir, ['snapshot', '--pid', String(pid)]).code, 0);
  const crossed = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.deepEqual(crossed.filter((item) => item.pid === ownTid).map((item) => [item.fd, item.source, item.lsof_note]), [
    [4, ['proc'], "not listed by lsof (held in a thread's own fd table, which lsof reads only with -K)"],
    [5, ['proc'], "not listed by lsof (held in a thread's own fd table, which lsof reads only with -K)"],
  ]);
  const csv = runCli(caseDir, ['report', '--format', 'csv', '--out', '-']);
  assert.equal(csv.code, 0, csv.stderr);
  const said = `held by thread ${ownTid} of process ${pid} in an fd table of its own (unshare(CLONE_FILES)), not the process's`;
  assert.equal(csv.stdout.split(said).length - 1, 2 * 4, 'each of the thread\'s two items in each of the four snapshots says so in the CSV report');
  // lsof -K, captured and imported (field and plain output): every thread's table is listed, sharing or not;
  // the same items as the walk's, the thread's own under its TID.
  for (const format of [['-F0pKcuftDsikn'], []]) {
    const capture = path.join(dir, `tasks${format.length}.txt`);
    fs.writeFileSync(capture, execFileSync('lsof', ['-a', '-K', '+L1', '-n', '-P', ...format, '-p', String(pid)]));
    const importCase = path.join(caseDir, `import${format.length}`);
    const imported = runCli(importCase, ['lsof', 'import', capture]);
    assert.equal(imported.code, 0, imported.stderr);
    const items = json<LiveItemJson[]>(runCli(importCase, ['list', '--json']));
    assert.deepEqual(items.map((item) => [item.pid, item.thread_of, item.fd, item.path, item.size]).sort((a, b) => Number(a[0]) - Number(b[0]) || Number(a[2]) - Number(b[2])), expected);
    const importedCsv = runCli(importCase, ['report', '--format', 'csv', '--out', '-']).stdout;
    assert.equal(importedCsv.split(said).length - 1, 2, 'the import\'s report says it of the thread\'s two items');
  }
  // Captured with -K but without K among the fields: the threads' sets come under the PID alone; said, not guessed.
  const withoutTid = path.join(dir, 'tasks-without-K.txt');
  fs.writeFileSync(withoutTid, execFileSync('lsof', ['-a', '-K', '+L1', '-n', '-P', '-F0pcuftDsikn', '-p', String(pid)]));
  const noTidCase = path.join(caseDir, 'import-without-K');
  const noTid = runCli(noTidCase, ['lsof', 'import', withoutTid, '--json']);
  assert.equal(noTid.code, 0, noTid.stderr);
  assert.match(noTid.stderr, /^warning: line \d+: the process's set is listed again right after itself, without a TID \(K\) field: a capture of lsof -K without K among the -F fields, whose threads' fd tables read as the process's \(capture with -F0pKcuftDsikn\)$/m);
  assert.equal(json<{ unreadable_lines: number }>(noTid).unreadable_lines, 0);
});

test('a thread whose own fd table differs from its process\'s only in which deleted file one name at one fd number is: told apart by the inode fdinfo gives (root)', async (t) => {
  const dir = makeTempDir('samename');
  const caseDir = makeTempDir('samename-case', '/dev/shm');
  const binary = path.join(dir, 'ownfdtable');
  execFileSync('gcc', ['-O2', '-Wall', '-pthread', '-o', binary, path.join(repoRoot, 'test', 'helpers', 'c', 'ownfdtable.c')]);
  for (const [name, size] of [['inherited.bin', 11], ['same-thread.log', 501], ['same-main.log', 502]] as const) fs.writeFileSync(path.join(dir, name), crypto.randomBytes(size));
  const process_ = spawn(binary, [dir, 'same-only'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(async () => {
    await killed(process_).stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const [pid = 0, ownTid = 0] = (await firstLine(process_)).split(' ').map(Number);
  assert.equal(fs.readlinkSync(`/proc/${pid}/fd/4`), fs.readlinkSync(`/proc/${pid}/task/${ownTid}/fd/4`), 'the same link text in both tables');
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  assert.deepEqual(json<LiveItemJson[]>(runCli(caseDir, ['list', '--json'])).map((item) => [item.pid, item.thread_of, item.fd, item.size]), [
    [pid, null, 3, 11], [pid, null, 4, 502], [ownTid, pid, 4, 501],
  ].sort((a, b) => Number(a[0]) - Number(b[0]) || Number(a[2]) - Number(b[2])));
});

test('a busy process whose threads share one fd table (one opens and closes files without pause) is never taken for threads with tables of their own (root)', async (t) => {
  const name = 'busythreads';
  const script = String.raw`import os, sys, threading
d = sys.argv[1]
held = os.open(os.path.join(d, 'held'), os.O_CREAT | os.O_RDWR, 0o600)
os.write(held, b'held')
os.unlink(os.path.join(d, 'held'))
def churn():
    n = 0
    while True:
        f = os.open(os.path.join(d, 'c%d' % (n % 7)), os.O_CREAT | os.O_RDWR, 0o600)
        os.close(f)
        n += 1
for _ in range(3): threading.Thread(target=churn, daemon=True).start()
print(os.getpid(), flush=True)
sys.stdin.read()`;
  const { caseDir, pid } = await pythonHolder(t, name, script);
  for (let run = 0; run < 10; run++) assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    assert.deepEqual(db.prepare('SELECT count(*) AS n FROM processes WHERE thread_of IS NOT NULL').get(), { n: 0 }, 'no thread row');
    assert.deepEqual(db.prepare('SELECT DISTINCT pid FROM items').all(), [{ pid }], 'the held file, under the process only');
    assert.deepEqual(db.prepare('SELECT count(*) AS n FROM items').get(), { n: 10 });
  } finally {
    db.close();
  }
});

test('a process whose short-lived threads start and end all the time: a thread that exits during the check is no table of its own, and no vanished process (root)', async (t) => {
  const name = 'shortthreads';
  const script = String.raw`import os, sys, threading, time
d = sys.argv[1]
held = os.open(os.path.join(d, 'held'), os.O_CREAT | os.O_RDWR, 0o600)
os.write(held, b'held')
os.unlink(os.path.join(d, 'held'))
def spawn():
    while True:
        t = threading.Thread(target=time.sleep, args=(0.0002,))
        t.start()
        t.join()
for _ in range(2): threading.Thread(target=spawn, daemon=True).start()
print(os.getpid(), flush=True)
sys.stdin.read()`;
  const { caseDir, pid } = await pythonHolder(t, name, script);
  // Each check meets a thread on its way out only now and then: 40 snapshots (about 6 s).
  for (let run = 0; run < 40; run++) {
    const result = runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]);
    assert.equal(result.code, 0, `run ${run}: ${result.stderr}`);
  }
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    assert.deepEqual(db.prepare('SELECT count(*) AS n FROM processes WHERE thread_of IS NOT NULL').get(), { n: 0 }, 'no thread row');
    assert.deepEqual(db.prepare('SELECT sum(processes_seen) AS seen, sum(processes_vanished) AS vanished FROM snapshots').get(), { seen: 40, vanished: 0 });
    assert.deepEqual(db.prepare('SELECT count(*) AS n FROM items WHERE pid = ?').get(pid), { n: 40 });
  } finally {
    db.close();
  }
});

test('a process of 30 threads holding 1,000 fds (29,000 links to compare, over the budget): its threads are told apart by fd counts only, and the snapshot says so (root)', async (t) => {
  const name = 'manythreads';
  const script = String.raw`import os, sys, threading
fds = [os.open(os.path.join(sys.argv[1], 'f%d' % i), os.O_CREAT | os.O_RDWR, 0o600) for i in range(1000)]
stop = threading.Event()
for _ in range(29): threading.Thread(target=stop.wait, daemon=True).start()
print(os.getpid(), flush=True)
sys.stdin.read()`;
  const { caseDir, pid } = await pythonHolder(t, name, script);
  const result = runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, new RegExp(`1 process with many threads and fds \\(the largest: pid ${pid} python3, 30 threads x \\d+ fds\\) had their threads' fd tables told apart by their fd counts \\(or numbers\\) only`));
});

test('a process whose fd links are refused (another user\'s, walked by root without CAP_SYS_PTRACE, as a sandbox\'s init is): its threads\' tables are not read link by link for nothing (root)', async (t) => {
  // 10 threads and about 300 fds, then another user (and so not dumpable): root needs
  // CAP_SYS_PTRACE to read its links, while its fd directories still list.
  const script = String.raw`import os, sys, threading
fds = [os.open('/dev/null', os.O_RDONLY) for _ in range(300)]
stop = threading.Event()
for _ in range(9): threading.Thread(target=stop.wait, daemon=True).start()
os.setresgid(65534, 65534, 65534)
os.setresuid(65534, 65534, 65534)
print(os.getpid(), flush=True)
sys.stdin.read()`;
  const { caseDir, pid } = await pythonHolder(t, 'refusedlinks', script);
  const helper = path.join(repoRoot, 'dist', 'test', 'helpers', 'taskReadlinks.js');
  const run = spawnSync('setpriv', ['--bounding-set=-sys_ptrace', process.execPath, helper, caseDir, String(pid)], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const { taskLinks, readError } = JSON.parse(run.stdout) as { taskLinks: number; readError: string | null };
  const fds = fs.readdirSync(`/proc/${pid}/fd`).length;
  assert.ok(fds >= 303, `the holder lists its fds (${fds})`);
  assert.match(readError ?? '', new RegExp(`fd: EACCES on ${fds} of ${fds} fds`));
  // 9 other threads x ~300 fds, each link read at least twice, were read before (0.1 s a snapshot).
  assert.equal(taskLinks, 0);
});

test('a process name with a newline, an invalid byte and a right-to-left override is kept reversible and inert (root)', async (t) => {
  const dir = makeTempDir('comm');
  const caseDir = makeTempDir('comm-case', '/dev/shm');
  const script = String.raw`import ctypes, os, sys
ctypes.CDLL(None).prctl(15, b"a\nb\xff\xe2\x80\xaeexe", 0, 0, 0)
p = sys.argv[1]
f = os.open(p, os.O_CREAT | os.O_RDWR, 0o600)
os.write(f, b"x")
os.unlink(p)
print(os.getpid(), flush=True)
sys.stdin.read()`;
  const holder = spawn('python3', ['-c', script, path.join(dir, 'held')], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(async () => {
    await killed(holder).stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const pid = Number(await firstLine(holder));
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.deepEqual(items.map((item) => item.comm), ['a\\x0ab\\xff\\xe2\\x80\\xaeexe']);
  // The plain listing keeps one line per item.
  const plain = runCli(caseDir, ['list']).stdout.trim().split('\n');
  assert.equal(plain.length, 1);
  assert.equal(plain[0]?.split('\t')[2], 'a\\x0ab\\xff\\xe2\\x80\\xaeexe');
});

test('a deleted file whose path is longer than PATH_MAX (readlink fails) is listed with no name, and recovered; the reports say why it has none (root)', async (t) => {
  const dir = makeTempDir('deep');
  const caseDir = makeTempDir('deep-case', '/dev/shm');
  const script = String.raw`import os, sys
os.chdir(sys.argv[1])
for i in range(16):
    os.mkdir('a' * 249)
    os.chdir('a' * 249)
fd = os.open('f' * 80, os.O_CREAT | os.O_RDWR, 0o600)
os.write(fd, b'deep down')
os.unlink('f' * 80)
print(os.getpid(), fd, os.fstat(fd).st_ino, flush=True)
sys.stdin.read()`;
  const holder = spawn('python3', ['-c', script, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(async () => {
    await killed(holder).stop();
    execFileSync('rm', ['-rf', dir, caseDir]); // rm walks a tree deeper than PATH_MAX
  });
  const [pid, fd, inode] = (await firstLine(holder)).split(' ').map(Number);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.deepEqual(items.map((item) => [item.kind, item.fd, item.path, item.path_b64, item.inode, item.size]), [['fd', fd, '', '', inode, 9]]);
  const recovered = runCli(caseDir, ['recover', '--json']);
  assert.equal(recovered.code, 0, recovered.stderr);
  const [copy] = json<Array<{ complete: boolean; output: string }>>(recovered);
  assert.deepEqual([copy?.complete, fs.readFileSync(copy?.output ?? '', 'utf8')], [true, 'deep down']);
  // No path is made up for it; the reports say why there is none (CSV and HTML in the note, the bodyfile in its name).
  const why = "no name: its fd's link could not be read (readlink ENAMETOOLONG: a path longer than PATH_MAX, 4096 bytes; processes.read_error)";
  const csv = runCli(caseDir, ['report', '--format', 'csv', '--out', '-']).stdout.split('\r\n');
  const header = csv[0]?.split(',') ?? [];
  const row = csv[1]?.split(',') ?? [];
  // Up to path and path_b64 no cell of this row holds a comma.
  assert.deepEqual(['path', 'path_b64'].map((column) => row[header.indexOf(column)]), ['', '']);
  assert.ok(csv[1]?.includes(`,"${why}",`), 'the note says why');
  const html = runCli(caseDir, ['report', '--format', 'html', '--out', '-']).stdout;
  assert.ok(html.includes(JSON.stringify(why)), 'the HTML row carries the note');
  const body = runCli(caseDir, ['report', '--format', 'bodyfile', '--out', '-']).stdout;
  assert.equal(body.split('|')[1], `<no name> (deleted: pid ${pid} python3 fd ${fd}, snapshot 1; ${why})`);
});

test('a deleted running binary whose path is longer than PATH_MAX (readlink of exe fails) is listed as the exe it is, named from maps, and recovered (root)', async (t) => {
  const { caseDir, exe: expected, pid, inode } = await deepDeletedBinary(t, 'deep-exe');
  assert.ok(Buffer.byteLength(`${expected} (deleted)`) >= 4096, 'past PATH_MAX');
  const snapshot = runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid), '--json']);
  assert.equal(snapshot.code, 0, snapshot.stderr);
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.deepEqual(items.map((item) => [item.kind, item.fd, item.path, item.exe, item.inode, item.size]),
    [['exe', null, expected, `${expected} (deleted)`, inode, fs.statSync('/bin/sleep').size]]);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  assert.equal(db.prepare('SELECT read_error FROM processes WHERE pid = ?').pluck().get(pid), 'exe: readlink ENAMETOOLONG: its name could not be read; a deleted one is named from maps');
  db.close();
  const recovered = runCli(caseDir, ['recover', '--json']);
  assert.equal(recovered.code, 0, recovered.stderr);
  const [copy] = json<Array<{ complete: boolean; sha256: string }>>(recovered);
  assert.deepEqual([copy?.complete, copy?.sha256], [true, crypto.createHash('sha256').update(fs.readFileSync('/bin/sleep')).digest('hex')]);
});

test('a process that exits during its walk is counted vanished with what was not read; what was read is kept (root)', async (t) => {
  const dir = makeTempDir('exits');
  // bash is the parent: the python process, once killed, is reaped at once (no zombie to read).
  const script = String.raw`import ctypes, os, sys, time
libc = ctypes.CDLL(None)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
base = sys.argv[1]
fd = os.open(base + '/held.log', os.O_CREAT | os.O_RDWR, 0o600)
os.write(fd, b'held')
os.unlink(base + '/held.log')
with open(base + '/mapped.bin', 'wb') as f:
    f.write(b'm' * 4096)
m = os.open(base + '/mapped.bin', os.O_RDONLY)
libc.mmap(None, 4096, 1, 1, m, 0)
os.close(m)
os.unlink(base + '/mapped.bin')
print(os.getpid(), flush=True)
time.sleep(600)`;
  const shell = spawn('bash', ['-c', 'python3 -c "$1" "$2" & wait', 'bash', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(async () => {
    await killed(shell).stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const pid = Number(await firstLine(shell));
  const { walkPids } = await import('../src/proc/walk.js');
  // Killed just before its maps are opened, as a process may exit at any moment of a walk.
  const openSync = fs.openSync;
  fs.openSync = ((file: fs.PathLike, ...rest: unknown[]) => {
    if (typeof file === 'string' && file === `/proc/${pid}/maps` && fs.existsSync(`/proc/${pid}`)) {
      process.kill(pid, 'SIGKILL');
      for (let tries = 0; fs.existsSync(`/proc/${pid}`); tries++) {
        assert.ok(tries < 2000, 'the killed process was not reaped');
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      }
    }
    return (openSync as (file: fs.PathLike, ...rest: unknown[]) => number)(file, ...rest);
  }) as typeof fs.openSync;
  const chunks: WalkChunk[] = [];
  let walked;
  try {
    walked = await walkPids([pid], '/proc', (chunk) => chunks.push(chunk));
  } finally {
    fs.openSync = openSync;
  }
  const all = [...chunks, walked];
  assert.equal(walked.counts.processesVanished, 1);
  assert.deepEqual(all.flatMap((chunk) => chunk.items).map((item) => [item.kind, item.fd]), [['fd', 3]]);
  assert.deepEqual(all.flatMap((chunk) => chunk.processes).map((record) => record.readError), ['exited during the walk: its mappings not read; what was read before is kept']);
});

test('a chrooted process walked first in its namespace: its own items still get their mount, read from another process of the namespace (root)', async (t) => {
  const dir = makeTempDir('chroot-own');
  const caseDir = makeTempDir('chroot-own-case', '/dev/shm');
  const script = String.raw`import os, sys, time
fd = os.open(sys.argv[1] + '/held.log', os.O_CREAT | os.O_RDWR, 0o600)
os.write(fd, b'held in a chroot')
os.unlink(sys.argv[1] + '/held.log')
os.chroot(sys.argv[1])
print(os.getpid(), flush=True)
time.sleep(600)`;
  const holder = spawn('python3', ['-c', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(async () => {
    await killed(holder).stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const pid = Number(await firstLine(holder));
  assert.equal(fs.readlinkSync(`/proc/${pid}/root`), dir);
  // Walked first (processes are walked in the order named), then this test's own process (root "/").
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid), '--pid', String(process.pid)]).code, 0);
  const [mountPoint, fsType] = execFileSync('findmnt', ['-n', '-o', 'TARGET,FSTYPE', '-T', dir], { encoding: 'utf8' }).trim().split(/\s+/);
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json'])).filter((item) => item.pid === pid);
  assert.deepEqual(items.map((item) => [item.kind, item.size, item.mount_point, item.fs_type]), [['fd', 16, mountPoint, fsType]]);
});

test('a deleted file mapped from a file system unmounted lazily (umount -l) is still found: its device is in no mountinfo, but it is not a kernel object (root)', async (t) => {
  const caseDir = makeTempDir('lazy-case', '/dev/shm');
  const mountPoint = makeTempDir('lazy-mnt');
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'lazyfs', mountPoint]);
  let mounted = true;
  const content = Buffer.alloc(20000, 'L');
  const child = spawn('python3', ['-c', `
import ctypes, mmap, os, sys, time
path = os.path.join(sys.argv[1], 'payload.bin')
fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
os.write(fd, b'L' * 20000)
# libc's mmap: Python's mmap object keeps a dup of the fd, and this mapping must be held by no fd.
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
assert libc.mmap(None, 20000, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0) not in (None, ctypes.c_void_p(-1).value)
os.close(fd)
os.unlink(path)
print(os.getpid(), flush=True)
time.sleep(60)
`, mountPoint], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    child.kill('SIGKILL');
    if (mounted) execFileSync('umount', ['-l', mountPoint]);
    fs.rmSync(caseDir, { recursive: true, force: true });
    fs.rmSync(mountPoint, { recursive: true, force: true });
  });
  const pid = await firstLine(child);
  execFileSync('umount', ['-l', mountPoint]);
  mounted = false;
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', pid]).code, 0);
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.deepEqual(items.map((item) => [item.kind, item.path, item.size, item.mount_point]), [['map', '/payload.bin', 20000, null]]);
  const recovered = json<Array<{ sha256: string; complete: boolean }>>(runCli(caseDir, ['recover', '--json']));
  assert.deepEqual(recovered.map((copy) => [copy.complete, copy.sha256]), [[true, crypto.createHash('sha256').update(content).digest('hex')]]);
});

test('fds of 10000 or more, which lsof before 4.99.7 prints as "*999": each matched to its /proc item, none taken for a mapping; the same capture imported gives fd items (root)', async (t) => {
  const script = `
import os, resource, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if hard != resource.RLIM_INFINITY and hard < 12000: sys.exit('RLIMIT_NOFILE hard limit %d: fds 10999 and 11999 cannot be opened' % hard)
resource.setrlimit(resource.RLIMIT_NOFILE, (12000, hard))
path = os.path.join(sys.argv[1], 'wide.db')
fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
os.write(fd, b'held at a high fd')
os.unlink(path)
for number in (1999, 10999, 11999): os.dup2(fd, number)
os.close(fd)
print(os.getpid(), flush=True)
time.sleep(600)
`;
  const { caseDir, pid } = await pythonHolder(t, 'highfd', script);
  const snapshot = runCli(caseDir, ['snapshot', '--pid', String(pid), '--json']);
  assert.equal(snapshot.code, 0, snapshot.stderr);
  assert.deepEqual(json<{ cross_check: unknown }>(snapshot).cross_check, { both: 3, proc_only: 0, lsof_only: 0, not_items: 0 });
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.deepEqual(items.map((item) => [item.kind, item.fd, item.size, item.source, item.lsof_note]), [
    ['fd', 1999, 17, ['proc', 'lsof'], null], ['fd', 10999, 17, ['proc', 'lsof'], null], ['fd', 11999, 17, ['proc', 'lsof'], null],
  ]);
  // What lsof really printed, kept in the case: the two high fds as *999 (lsof 4.95 to 4.99.6); lsof
  // 4.99.7 prints the whole number in field output (fixtures/lsof/field-F0-fd12345-*.txt).
  const [capture] = fs.readdirSync(path.join(caseDir, 'lsof'));
  const fields = fs.readFileSync(path.join(caseDir, 'lsof', capture ?? ''), 'latin1');
  const fdFields = fields.split('\n').filter((line) => line.startsWith('f')).map((line) => line.split('\0')[0]);
  const whole = fdFields.includes('f10999');
  assert.deepEqual(fdFields, whole ? ['f1999', 'f10999', 'f11999'] : ['f1999', 'f*999', 'f*999']);
  // Imported, with no /proc walk to match: fd items, never mappings; their number not known where lsof cut it.
  const imported = runCli(caseDir, ['lsof', 'import', path.join(caseDir, 'lsof', capture ?? ''), '--json']);
  assert.equal(imported.code, 0, imported.stderr);
  const fromImport = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json'])).map((item) => [item.kind, item.fd, item.source, item.lsof_note]);
  const unknown = 'seen by lsof only; lsof printed the fd as *999: an fd number of 10000 or more ending in 999, the number itself not known';
  assert.deepEqual(fromImport, whole
    ? [['fd', 1999, ['lsof'], 'seen by lsof only'], ['fd', 10999, ['lsof'], 'seen by lsof only'], ['fd', 11999, ['lsof'], 'seen by lsof only']]
    : [['fd', null, ['lsof'], unknown], ['fd', null, ['lsof'], unknown], ['fd', 1999, ['lsof'], 'seen by lsof only']]);
});

test('a file deleted while a loop device reads from it (kept by the kernel, no process) is said in a warning naming the device; a live backing file is not (root)', (t) => {
  const dir = makeTempDir('loopdel');
  const caseDir = makeTempDir('loopdel-case', '/dev/shm');
  const attached: string[] = [];
  t.after(() => {
    for (const loop of attached) spawnSync('losetup', ['-d', loop]);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const attach = (name: string, offset: number): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, '');
    fs.truncateSync(file, 4 << 20);
    const loop = execFileSync('losetup', ['-f', '--show', '-o', String(offset), file], { encoding: 'utf8' }).trim();
    attached.push(loop);
    return loop;
  };
  const hidden = attach('hidden.img', 1024);
  const live = attach('live.img', 0);
  fs.unlinkSync(path.join(dir, 'hidden.img'));
  const result = runCli(caseDir, ['snapshot', '--no-lsof']);
  // Only this test's devices: another loop device of the host may be on a deleted file too.
  const loopWarnings = result.stderr.split('\n').filter((line) => line.includes(' reads from a file the kernel names ') && line.includes(dir));
  assert.deepEqual(loopWarnings, [
    `warning: loop device ${hidden} reads from a file the kernel names ${path.join(dir, 'hidden.img')} (deleted): a file deleted while the loop device keeps it ` +
      `(by the kernel, not a process: no item); its content from byte 1024 can be read from ${hidden} (image scan ${hidden}; docs/limits.md)`,
  ]);
  assert.doesNotMatch(result.stderr, new RegExp(`loop device ${live} `));
});

test('times before 1970 are floored to the second, as stat says (not cut toward zero), and a live file\'s birth time is its crtime in the reports (root)', async (t) => {
  const { caseDir, pid } = await pythonHolder(t, 'pre-epoch', `
import os, sys, time
path = os.path.join(sys.argv[1], 'old.log')
fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
os.write(fd, b'x')
os.utime(fd, ns=(-1_000_000_001, -315_619_200_130_000_000))
os.unlink(path)
print(os.getpid(), flush=True)
time.sleep(600)
`);
  const link = `/proc/${pid}/fd/3`;
  const [atime, mtime, birth] = execFileSync('stat', ['-L', '-c', '%X %Y %W', link], { encoding: 'utf8' }).trim().split(' ').map(Number);
  assert.deepEqual([atime, mtime], [-2, -315619201], 'stat floors');
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const body = runCli(caseDir, ['report', '--format', 'bodyfile', '--out', '-']).stdout.split('\n').filter((line) => line.includes('old.log'));
  assert.equal(body.length, 1, body.join('\n'));
  const fields = (body[0] ?? '').split('|');
  assert.deepEqual(fields.slice(7), ['-2', '-315619201', fields[9] ?? '', String(birth)]);
  assert.ok((birth ?? 0) > 1_600_000_000, 'the file system keeps birth times');
});

test('a file deleted while bind-mounted (kept by the mount, no process) is said in a warning naming the mount point and a process of its namespace; a removed directory as a trace; a live bind mount not at all (root)', (t) => {
  const dir = makeTempDir('bind-deleted');
  const caseDir = makeTempDir('bind-deleted-case', '/dev/shm');
  const mounted: string[] = [];
  t.after(() => {
    for (const target of mounted.reverse()) spawnSync('umount', [target]);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const bind = (name: string, directory = false): string => {
    const target = path.join(dir, `${name}.target`);
    if (directory) {
      fs.mkdirSync(path.join(dir, name));
      fs.mkdirSync(target);
    } else {
      fs.writeFileSync(path.join(dir, name), `${name}\n`);
      fs.writeFileSync(target, '');
    }
    execFileSync('mount', ['--bind', path.join(dir, name), target]);
    mounted.push(target);
    return target;
  };
  const hidden = bind('hidden.conf');
  bind('live.conf');
  const removed = bind('removed.d', true);
  fs.unlinkSync(path.join(dir, 'hidden.conf'));
  fs.rmdirSync(path.join(dir, 'removed.d'));
  const result = runCli(caseDir, ['snapshot', '--no-lsof']);
  // 3 where some process of the host could not be fully read (a sandbox's init): the walk's, not this.
  assert.ok(result.code === 0 || result.code === 3, result.stderr);
  const dev = execFileSync('stat', ['-c', '%Hd:%Ld', hidden], { encoding: 'utf8' }).trim();
  const fsType = execFileSync('findmnt', ['-n', '-o', 'FSTYPE', '--target', dir], { encoding: 'utf8' }).trim();
  const namespace = fs.readlinkSync('/proc/self/ns/mnt');
  const said = result.stderr.split('\n').filter((line) => line.includes(dir));
  assert.equal(said.length, 2, said.join('\n'));
  const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  assert.match(said[0] ?? '', new RegExp(`^warning: ${escaped(`${dir}/hidden.conf on ${dev} (${fsType}) was deleted while bind-mounted on ${hidden} (mount namespace ${namespace}, pid `)}\\d+\\): ` +
    escaped('the mount keeps it, even when no process holds it open; its content can be read at that mount point, from a process of its mount namespace (nsenter -m -t PID; docs/limits.md)') + '$'));
  assert.match(said[1] ?? '', new RegExp(`^warning: the directory ${escaped(`${dir}/removed.d on ${dev} (${fsType}) was deleted while bind-mounted on ${removed} (mount namespace ${namespace}, pid `)}\\d+\\): ` +
    escaped('the mount keeps it, empty (a removed directory holds no entries): a trace, nothing to copy') + '$'));
  assert.equal(fs.readFileSync(hidden, 'utf8'), 'hidden.conf\n');
});

test('a host name that is not UTF-8 keeps its bytes in a warning of the snapshot; an lsof import --host that is not UTF-8 is refused (root)', (t) => {
  const caseDir = makeTempDir('host-bytes-case', '/dev/shm');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  // A UTS namespace of its own: the host's name is not touched.
  const script = `import ctypes, subprocess, sys
name = b'web\\xff01'
ctypes.CDLL(None).sethostname(name, len(name))
sys.exit(subprocess.run(sys.argv[1:]).returncode)`;
  const result = spawnSync('unshare', ['-u', 'python3', '-c', script, process.execPath, cliPath, '--case', caseDir, 'snapshot', '--no-lsof', '--pid', String(process.pid)], { encoding: 'utf8' });
  assert.match(result.stderr, /^warning: the host name is not valid UTF-8: stored as web\\xef\\xbf\\xbd01, its bytes are web\\xff01 \(hex 776562ff3031\)$/m);
  const warnings = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true }).prepare('SELECT warnings FROM snapshots').pluck().get() as string;
  assert.match(warnings, /its bytes are web\\\\xff01 \(hex 776562ff3031\)/);
  // The byte 0xff itself (node would pass the string as UTF-8): through the shell's printf.
  const imported = spawnSync('sh', ['-c', 'exec "$0" "$1" --case "$2" lsof import /dev/null --host "$(printf \'web\\37701\')"', process.execPath, cliPath, caseDir], { encoding: 'utf8' });
  assert.equal(imported.status, 2, imported.stderr);
  // Caught with every other argument: named with its bytes.
  assert.equal(imported.stderr, 'unlinked: the argument web\\xff01 is not valid UTF-8: node would pass it on with those bytes replaced (U+FFFD), a path naming another file; give it in UTF-8 (a path: hard-link or rename the file or folder) (run with --help for usage)\n');
});

test('a deleted file registered with an io_uring, its fd closed (held by the kernel for the ring, no fd, no mapping), is said in a warning, in a sparse table too (Linux 6.14 and later list only the filled slots); a live registered file is not; a table with no file listed is said as such (root)', async (t) => {
  const { dir, caseDir, pid } = await pythonHolder(t, 'io-uring', `
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
params = ctypes.create_string_buffer(120)
ring = libc.syscall(425, 4, params)  # io_uring_setup
hidden = os.path.join(sys.argv[1], 'ring file\\nx')
fd = os.open(hidden, os.O_RDWR | os.O_CREAT, 0o600)
os.write(fd, b'secret')
os.unlink(hidden)
live = os.open(os.path.join(sys.argv[1], 'live'), os.O_RDWR | os.O_CREAT, 0o600)
files = (ctypes.c_int * 2)(fd, live)
if ring < 0 or libc.syscall(427, ring, 2, files, 2) < 0:  # io_uring_register(IORING_REGISTER_FILES)
    print('io_uring:', ctypes.get_errno(), flush=True)
    sys.exit(1)
os.close(fd)
# A sparse table (fd -1: an empty slot): a deleted file in slot 2 only; and a table of empty slots.
sparse = libc.syscall(425, 4, ctypes.create_string_buffer(120))
third = os.path.join(sys.argv[1], 'slot two')
fd = os.open(third, os.O_RDWR | os.O_CREAT, 0o600)
os.unlink(third)
if sparse < 0 or libc.syscall(427, sparse, 2, (ctypes.c_int * 3)(-1, -1, fd), 3) < 0:
    print('io_uring sparse:', ctypes.get_errno(), flush=True)
    sys.exit(1)
os.close(fd)
empty = libc.syscall(425, 4, ctypes.create_string_buffer(120))
if empty < 0 or libc.syscall(427, empty, 2, (ctypes.c_int * 2)(-1, -1), 2) < 0:
    print('io_uring empty:', ctypes.get_errno(), flush=True)
    sys.exit(1)
# A forked worker shares the ring: it is said once.
if os.fork() == 0:
    time.sleep(600)
    os._exit(0)
print(os.getpid(), flush=True)
time.sleep(600)
`);
  assert.ok(Number.isSafeInteger(pid), 'io_uring is allowed here');
  const [ring, sparse, empty] = fs.readdirSync(`/proc/${pid}/fd`).filter((fd) => fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:[io_uring]').sort((a, b) => Number(a) - Number(b));
  const worker = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  t.after(() => tryKill(Number(worker)));
  assert.match(worker, /^\d+$/);
  const result = runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid), '--pid', worker]);
  assert.equal(result.code, 0, result.stderr);
  const unseen = 'a registered file needs no fd or mapping (no item; lsof does not list it), and its content cannot be read through /proc (docs/limits.md)';
  assert.deepEqual(result.stderr.split('\n').filter((line) => line.includes('io_uring')), [
    `warning: pid ${pid} (python3) has registered with its io_uring (fd ${ring}, slot 0) a file the kernel names ${dir}/ring file\\x0ax (deleted): ${unseen}`,
    `warning: pid ${pid} (python3) has registered with its io_uring (fd ${sparse}, slot 2) a file the kernel names ${dir}/slot two (deleted): ${unseen}`,
    `warning: pid ${pid} (python3) holds an io_uring (fd ${empty}) with 2 slots for registered files, of which its fdinfo listed none in 4 reads: ` +
      'either all are empty (Linux 6.14 and later list only the filled slots) or the ring was busy each time (5.10 to 6.14 list them only when they take its lock at once), ' +
      `so whether it keeps a deleted file cannot be told; ${unseen}`,
  ]);
  assert.deepEqual(json<LiveItemJson[]>(runCli(caseDir, ['list', '--json'])), []);
});

/** Kill a process this test started, if it still runs. */
function tryKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

test('a snapshot stopped by Ctrl-C while lsof runs leaves no lsof capture that no snapshot names (root)', async (t) => {
  const caseDir = makeTempDir('snapshot-sigint-capture', '/dev/shm');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  const run = startCli(caseDir, ['snapshot']);
  const lsofDir = path.join(caseDir, 'lsof');
  const deadline = Date.now() + 20_000;
  while (!(fs.existsSync(lsofDir) && fs.readdirSync(lsofDir).length > 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
  assert.equal(fs.readdirSync(lsofDir).length, 1, 'lsof was started, its capture made');
  run.child.kill('SIGINT');
  const code = await run.exited;
  assert.notEqual(code, 0, run.stderr);
  assert.deepEqual(fs.readdirSync(lsofDir), [], 'the capture of the snapshot that never was is gone');
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  assert.equal(db.prepare('SELECT count(*) FROM snapshots').pluck().get(), 0);
  db.close();
});

/** A deleted file written 50 ms after its birth (its ctime is not its birth time), then its holder runs as nobody. */
const BORN_THEN_WRITTEN = String.raw`import ctypes, os, sys, time
p = os.path.join(sys.argv[1], 'born')
f = os.open(p, os.O_CREAT | os.O_RDWR, 0o600)
if sys.argv[2] == 'nobody':
    os.fchown(f, 65534, 65534)
os.write(f, b'a' * 100)
time.sleep(0.05)
os.write(f, b'b' * 100)
os.unlink(p)
if sys.argv[2] == 'nobody':
    os.setresgid(65534, 65534, 65534)
    os.setresuid(65534, 65534, 65534)
    ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: nobody may read its /proc again
print(os.getpid(), flush=True)
sys.stdin.read() if sys.argv[2] == 'nobody' else time.sleep(120)`;

const SHA_BORN = crypto.createHash('sha256').update(Buffer.concat([Buffer.alloc(100, 'a'), Buffer.alloc(100, 'b')])).digest('hex');

test('as non-root, a file written after its birth keeps its true birth time (map_files is not stat\'ed without the capability, which cost node its statx), and recover copies it (root)', async (t) => {
  const { caseDir, pid } = await pythonHolder(t, 'bornnobody', BORN_THEN_WRITTEN, ['nobody']);
  fs.chownSync(caseDir, 65534, 65534);
  const truth = fs.statSync(`/proc/${pid}/fd/3`, { bigint: true });
  assert.notEqual(truth.birthtimeNs, truth.ctimeNs, 'the test needs a birth time apart from the ctime');
  const asNobody = (args: string[]) => spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, cliPath, '--case', caseDir, ...args], { encoding: 'utf8' });
  const snapshot = asNobody(['snapshot', '--no-lsof', '--pid', String(pid), '--json']);
  // Its own process is readable; map_files is refused to nobody (counted, as before).
  assert.equal(snapshot.status, 3, snapshot.stderr);
  assert.deepEqual((JSON.parse(snapshot.stdout) as { warnings: string[] }).warnings.filter((text) => text.includes('birth time')), []);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  assert.deepEqual(db.prepare('SELECT pid, fd, btime_ns FROM items').all(), [{ pid, fd: 3, btime_ns: String(truth.birthtimeNs) }]);
  assert.match((db.prepare('SELECT read_error FROM processes WHERE pid = ?').get(pid) as { read_error: string }).read_error, /^map_files: EPERM on \d+ mappings$/);
  db.close();
  const recover = asNobody(['recover', '--json']);
  assert.equal(recover.status, 0, recover.stderr);
  assert.deepEqual((JSON.parse(recover.stdout) as { sha256: string; complete: boolean }[]).map((copy) => [copy.sha256, copy.complete]), [[SHA_BORN, true]]);
});

test('in a user namespace (a rootless container) map_files is refused although the capabilities look held: birth times from there on are left unknown, said, and recover still copies by device and inode (root)', (t) => {
  const dir = makeTempDir('bornuserns');
  const caseDir = makeTempDir('bornuserns-case', '/dev/shm');
  const pidFile = path.join(dir, 'pid');
  t.after(() => {
    const pid = Number(tryRead(pidFile));
    if (pid > 0) spawnSync('kill', ['-9', String(pid)]);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  // Holder and unlinked in one new user namespace (root mapped to root): the holder is readable,
  // while map_files asks for CAP_SYS_ADMIN of the host's user namespace.
  // The holder's stderr goes to a file: left on the pipe, it would keep spawnSync waiting for it to close until its timeout.
  const script = String.raw`python3 -c "$1" "$2" root > "$3" 2> "$2/holder.err" < /dev/null &
until [ -s "$3" ]; do sleep 0.05; done
node "$4" --case "$5" snapshot --no-lsof --pid "$(cat "$3")" --json > "$5/snapshot.json"; echo "$?" > "$5/snapshot.rc"
node "$4" --case "$5" recover --json > "$5/recover.json"; echo "$?" > "$5/recover.rc"`;
  const run = spawnSync('unshare', ['-U', '-r', 'sh', '-c', script, 'sh', BORN_THEN_WRITTEN, dir, pidFile, cliPath, caseDir], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, run.stderr);
  const read = (name: string) => fs.readFileSync(path.join(caseDir, name), 'utf8');
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  assert.equal(read('snapshot.rc'), '3\n');
  assert.deepEqual((JSON.parse(read('snapshot.json')) as { warnings: string[] }).warnings, [
    `no birth time is recorded from pid ${pid} on: a stat failed there in a way that makes node stat without statx for the rest of the run (EPERM, EINVAL or EOPNOTSUPP: map_files in a user namespace, a security module, a seccomp filter, a FUSE or network file system); recovering these items checks device and inode only, not that the file is the one born then`,
    // Why the exit is 3: its map_files refused (root only of its user namespace), said by PID.
    `1 of 1 processes could not be fully read even as root (a security module or sandbox refused; see processes.read_error): pid ${pid} (python3)`,
  ]);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  assert.deepEqual(db.prepare('SELECT pid, fd, btime_ns FROM items').all(), [{ pid, fd: 3, btime_ns: null }]);
  db.close();
  assert.equal(read('recover.rc'), '0\n');
  assert.deepEqual((JSON.parse(read('recover.json')) as { sha256: string; complete: boolean }[]).map((copy) => [copy.sha256, copy.complete]), [[SHA_BORN, true]]);
});

function tryRead(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** unlinked run under `unshare -m` with /proc replaced by SETUP (a shell line) first: its result. */
function underOtherProc(setup: string, caseDir: string, args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync('unshare', ['-m', 'sh', '-c', `mount --make-rprivate / && ${setup} && exec "$0" "$@"`, process.execPath, cliPath, '--case', caseDir, ...args], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('a /proc that is no procfs, or the procfs of another PID namespace, is refused in one line with exit 1, and nothing is stored (root)', async (t) => {
  const caseDir = makeTempDir('foreign-proc-case', '/dev/shm');
  // A PID namespace of its own, with its own procfs: its init's PID on the host from unshare's children.
  const outer = spawn('unshare', ['--pid', '--fork', '--mount-proc', 'sleep', '600'], { stdio: 'ignore' });
  t.after(async () => {
    await killed(outer).stop();
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  let inner = '';
  for (let tries = 0; inner === '' && tries < 200; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    inner = tryOr(() => fs.readFileSync(`/proc/${outer.pid}/task/${outer.pid}/children`, 'utf8').trim(), '');
  }
  t.after(() => tryKill(Number(inner)));
  assert.match(inner, /^\d+$/);
  const tmpfs = underOtherProc('mount -t tmpfs none /proc', caseDir, ['triage', '--no-lsof']);
  assert.deepEqual([tmpfs.code, tmpfs.stdout, tmpfs.stderr], [1, '',
    'unlinked: /proc is not a procfs (its file system type is 0x1021994, procfs is 0x9fa0): something is mounted over it, and the processes it would show are not those of this host; ' +
      'nothing stored (mount -t proc proc /proc in a mount namespace of its own)\n']);
  const snapshot = underOtherProc('mount -t tmpfs none /proc', caseDir, ['snapshot', '--json']);
  assert.deepEqual([snapshot.code, snapshot.stdout, snapshot.stderr], [1, '', tmpfs.stderr]);
  // The procfs of the child PID namespace (mounted from inside it), where this process is not.
  const foreign = underOtherProc(`nsenter -t ${inner} -p mount -t proc proc /proc`, caseDir, ['snapshot', '--json', '--no-lsof']);
  assert.deepEqual([foreign.code, foreign.stdout, foreign.stderr], [1, '',
    'unlinked: /proc is the procfs of another PID namespace: it does not show this process, so its PIDs are not those this process sees; ' +
      'nothing stored (mount this namespace\'s own: mount -t proc proc /proc, in a mount namespace of its own)\n']);
  // Run in the child namespace under the host's /proc: this process is there, by another number.
  const ancestor = spawnSync('unshare', ['--pid', '--fork', process.execPath, cliPath, '--case', caseDir, 'snapshot', '--no-lsof', '--pid', '1'], { encoding: 'utf8' });
  assert.equal(ancestor.status, 1);
  assert.match(ancestor.stderr, /^unlinked: \/proc is the procfs of another PID namespace: it shows this process as PID \d+, not 1, so its PIDs are not those this process sees; nothing stored/);
  assert.deepEqual(fs.readdirSync(caseDir), [], 'no case database, no report');
});

test('a mount over a process\'s /proc/PID (as a rootkit hides one) is said by PID in the warnings, stored, exit 3; --pid says its /proc entry is covered, not that it exited (root)', async (t) => {
  const { caseDir, pid } = await pythonHolder(t, 'proc-covered', `
import os, sys, time
path = os.path.join(sys.argv[1], 'x')
f = open(path, 'w+')
f.write('s')
f.flush()
os.unlink(path)
print(os.getpid(), flush=True)
time.sleep(600)
`);
  const storedWarnings = (): string[] => {
    const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
    const rows = db.prepare('SELECT warnings FROM snapshots ORDER BY id DESC LIMIT 1').pluck().get() as string;
    db.close();
    return JSON.parse(rows) as string[];
  };
  // Only this test's: a mount of the host that does not answer (another test's) adds a warning of its own.
  const ours = (warnings: readonly string[]): string[] => warnings.filter((line) => line.includes(`process ${pid} `));
  const hidden = (point: string, lead: string): string =>
    `process ${pid} is hidden: ${lead} (tmpfs from hide), so what /proc shows there is not the process's, and the deleted files it holds are not in this snapshot ` +
    `(a rootkit hides a process this way; unmount it in a mount namespace of its own to see the process: unshare -m, umount ${point}, snapshot again; docs/limits.md)`;
  const whole = underOtherProc(`mount -t tmpfs hide /proc/${pid}`, caseDir, ['snapshot', '--no-lsof', '--json']);
  assert.equal(whole.code, 3, whole.stderr);
  const entry = hidden(`/proc/${pid}`, 'its /proc entry is covered by a mount');
  assert.deepEqual(ours((JSON.parse(whole.stdout) as { warnings: string[] }).warnings), [entry]);
  assert.deepEqual(ours(storedWarnings()), [entry]);
  const asked = underOtherProc(`mount -t tmpfs hide /proc/${pid}`, caseDir, ['snapshot', '--no-lsof', '--json', '--pid', String(pid)]);
  assert.equal(asked.code, 3, asked.stderr);
  const askedSummary = JSON.parse(asked.stdout) as { warnings: string[]; processes_seen: number; processes_vanished: number };
  assert.deepEqual([askedSummary.processes_seen, askedSummary.processes_vanished, ours(askedSummary.warnings)], [0, 1, [`--pid ${pid}: ${entry}`]]);
  assert.ok(!askedSummary.warnings.some((line) => line.includes('no such process')), askedSummary.warnings.join('\n'));
  // A mount below it (over its fd table): the process is read, its files are not; exit 3 all the same.
  const fds = underOtherProc(`mount -t tmpfs hide /proc/${pid}/fd`, caseDir, ['snapshot', '--no-lsof', '--json', '--pid', String(pid)]);
  assert.equal(fds.code, 3, fds.stderr);
  const below = hidden(`/proc/${pid}/fd`, `/proc/${pid}/fd, in its /proc entry, is covered by a mount`);
  const fdsSummary = JSON.parse(fds.stdout) as { warnings: string[]; processes_seen: number; processes_vanished: number; items: number };
  assert.deepEqual([fdsSummary.processes_seen, fdsSummary.processes_vanished, fdsSummary.items, ours(fdsSummary.warnings)], [1, 0, 0, [`--pid ${pid}: ${below}`]]);
  assert.deepEqual(ours(storedWarnings()), [`--pid ${pid}: ${below}`]);
  // Uncovered, the same process and its deleted file: no such warning.
  runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]);
  assert.deepEqual(ours(storedWarnings()), []);
  assert.equal(json<LiveItemJson[]>(runCli(caseDir, ['list', '--json'])).length, 1);
});

test('in a PID namespace that is not the host\'s (a container, unshare --pid), a whole-host snapshot says it saw only that namespace, stored, exit 3 (root)', (t) => {
  const caseDir = makeTempDir('pidns-case', '/dev/shm');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  const result = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, cliPath, '--case', caseDir, 'snapshot', '--no-lsof', '--json'], { encoding: 'utf8' });
  assert.equal(result.status, 3, result.stderr);
  const summary = JSON.parse(result.stdout) as { processes_seen: number; items: number; warnings: string[] };
  assert.deepEqual([summary.processes_seen, summary.items], [0, 0]);
  // Only this one: a mount of the host that does not answer (another test's) adds a warning of its own.
  const ours = (warnings: readonly string[]): string[] => warnings.filter((line) => line.includes('PID namespace'));
  assert.equal(ours(summary.warnings).length, 1, summary.warnings.join('\n'));
  const warning = ours(summary.warnings)[0] ?? '';
  assert.match(warning, /^this \/proc shows only the processes of PID namespace pid:\[(\d+)\], not the host's \(pid:\[4026531836\]\): /);
  assert.notEqual(/pid:\[(\d+)\]/.exec(warning)?.[1], '4026531836');
  assert.ok(warning.endsWith('unlinked runs inside a container or a PID namespace of its own, and the other processes of the host (and the deleted files they hold) are not in this snapshot: ' +
    'a clean result here is not one of the whole host; run it on the host itself, in its initial PID namespace, for that (docs/limits.md)'), warning);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  assert.deepEqual(ours(JSON.parse(db.prepare('SELECT warnings FROM snapshots').pluck().get() as string) as string[]), [warning]);
  db.close();
  // The host's own PID namespace: no such warning.
  assert.doesNotMatch(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(process.pid)]).stderr, /PID namespace/);
});

test('a /proc mounted with hidepid=invisible hides other users\' processes from a non-root user: the whole-host snapshot says so, stored, exit 3, and --pid of a hidden process names it; root, or the gid= group, sees no such warning; under hidepid=ptraceable the gid= group is hidden from too, and told so (root)', async (t) => {
  const { caseDir, pid } = await pythonHolder(t, 'hidepid', `
import os, sys, time
path = os.path.join(sys.argv[1], 'x')
f = open(path, 'w+')
f.write('h')
f.flush()
os.unlink(path)
print(os.getpid(), flush=True)
time.sleep(600)
`);
  const nobodyCase = makeTempDir('hidepid-nobody', '/dev/shm');
  fs.chownSync(nobodyCase, 65534, 65534);
  t.after(() => fs.rmSync(nobodyCase, { recursive: true, force: true }));
  /** As nobody, under a procfs of its own mounted with procOptions in a mount namespace of its own. */
  const asUser = (procOptions: string, groups: readonly string[], args: readonly string[]): { code: number | null; stdout: string; stderr: string } => {
    const result = spawnSync('unshare', ['-m', 'sh', '-c', `mount --make-rprivate / && mount -t proc -o ${procOptions} proc /proc && exec setpriv --reuid=65534 --regid=65534 "$@"`,
      'sh', ...groups, process.execPath, cliPath, '--case', path.join(nobodyCase, 'c'), ...args], { encoding: 'utf8' });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const warning = '/proc is mounted with hidepid=invisible: the kernel lists to this user (uid 65534) only the processes it may read, so other users\' processes are not ' +
    'even counted as unreadable, and the deleted files they hold are not in this snapshot: a clean result here is not one of the whole host; run as root ' +
    '(or with CAP_SYS_PTRACE) for that (docs/limits.md)';
  const hidden = asUser('hidepid=invisible', ['--clear-groups'], ['snapshot', '--no-lsof', '--json']);
  assert.equal(hidden.code, 3, hidden.stderr);
  const summary = JSON.parse(hidden.stdout) as { processes_seen: number; processes_unreadable: number; warnings: string[] };
  // Only nobody's own processes are listed (none of root's: not even counted as unreadable).
  const nobodys = fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name) && tryOr(() => fs.statSync(`/proc/${name}`).uid, -1) === 65534).length;
  assert.ok(summary.processes_seen <= nobodys, hidden.stdout);
  assert.equal(summary.processes_unreadable, 0);
  assert.ok(summary.warnings.includes(warning), summary.warnings.join('\n'));
  const db = new Database(path.join(nobodyCase, 'c', 'case.sqlite'), { readonly: true });
  assert.ok((JSON.parse(db.prepare('SELECT warnings FROM snapshots').pluck().get() as string) as string[]).includes(warning));
  db.close();
  const asked = asUser('hidepid=invisible', ['--clear-groups'], ['snapshot', '--no-lsof', '--pid', String(pid)]);
  assert.deepEqual([asked.code, asked.stderr], [1, `unlinked: no process ${pid} on this host (not in /proc: exited, or never was, or /proc, mounted with hidepid=invisible, hides it from this user: run as root): nothing stored\n`]);
  // In the gid= group every process is listed (and, not root, unreadable: counted, no hidepid warning).
  const group = asUser('hidepid=invisible,gid=65534', ['--groups', '65534'], ['snapshot', '--no-lsof', '--json']);
  const grouped = JSON.parse(group.stdout) as { processes_seen: number; processes_unreadable: number; warnings: string[] };
  assert.ok(grouped.processes_seen > nobodys && grouped.processes_unreadable >= grouped.processes_seen - nobodys, group.stdout);
  assert.ok(!grouped.warnings.some((line) => line.includes('hidepid=')), group.stdout);
  // hidepid=ptraceable (Linux 5.8) asks ptrace_may_access alone: the gid= group sees no more than anyone.
  const ptraceable = asUser('hidepid=ptraceable,gid=65534', ['--groups', '65534'], ['snapshot', '--no-lsof', '--json']);
  assert.equal(ptraceable.code, 3, ptraceable.stderr);
  const traced = JSON.parse(ptraceable.stdout) as { processes_seen: number; processes_unreadable: number; warnings: string[] };
  assert.ok(traced.processes_seen <= nobodys && traced.processes_unreadable === 0, ptraceable.stdout);
  assert.ok(traced.warnings.includes(warning.replace('hidepid=invisible', 'hidepid=ptraceable')), traced.warnings.join('\n'));
  // Root under the same /proc: the holder's file is found, no hidepid warning.
  const root = underOtherProc('mount -t proc -o hidepid=invisible proc /proc', caseDir, ['snapshot', '--no-lsof', '--json', '--pid', String(pid)]);
  assert.equal(root.code, 0, root.stderr);
  assert.deepEqual([(JSON.parse(root.stdout) as { items: number }).items, root.stderr.includes('hidepid=')], [1, false]);
});

test('file times of 2^53 s or more (which node\'s stat rounds: 2^63 - 1 came out negative) are stored exactly, read again by one stat each; ordinary times cost no process (root)', async (t) => {
  // tmpfs keeps any 64-bit time (ext4 stops in 2446).
  const shm = makeTempDir('bigtime-files', '/dev/shm');
  t.after(() => fs.rmSync(shm, { recursive: true, force: true }));
  const { caseDir, pid } = await pythonHolder(t, 'bigtime', `
import os, sys, time
fds = []
for name, times in (('xmax', (1700000000, 9223372036854775807)), ('x53', (-9007199254740993, 9007199254740993)), ('plain', (1700000000, 1700000001))):
    path = os.path.join(sys.argv[2], name)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.write(fd, name.encode())
    os.utime(fd, times)
    os.unlink(path)
    fds.append(fd)
print(os.getpid(), flush=True)
time.sleep(600)
`, [shm]);
  const expected = [[3, '1700000000', '9223372036854775807'], [4, '-9007199254740993', '9007199254740993'], [5, '1700000000', '1700000001']];
  for (const store of ['inline', 'thread']) {
    const snapshot = runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)], { UNLINKED_STORE: store });
    assert.equal(snapshot.code, 0, snapshot.stderr);
    const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
    try {
      const snapshotId = db.prepare('SELECT max(id) FROM snapshots').pluck().get();
      assert.deepEqual(db.prepare(`SELECT fd, CAST(atime AS TEXT), CAST(mtime AS TEXT), typeof(mtime) FROM items WHERE snapshot_id = ? ORDER BY fd`).raw().all(snapshotId),
        expected.map((row) => [...row, 'integer']), store);
      // One stat per item node rounded, through its /proc link; none for the ordinary file.
      assert.deepEqual(db.prepare(`SELECT argv FROM commands WHERE program = 'stat' ORDER BY id`).pluck().all().map((argv) => (JSON.parse(String(argv)) as string[]).at(-1)).slice(-2),
        [`/proc/${pid}/fd/3`, `/proc/${pid}/fd/4`]);
      assert.equal(db.prepare(`SELECT count(*) FROM commands WHERE program = 'stat' AND argv LIKE '%/fd/5"%'`).pluck().get(), 0);
    } finally {
      db.close();
    }
  }
  // Every report writes them exactly: CSV and bodyfile as digits, HTML as text (not a rounded number).
  const csv = runCli(caseDir, ['report', '--format', 'csv', '--out', '-']).stdout.split('\r\n');
  const header = (csv[0] ?? '').split(',');
  const column = (name: string): number => header.indexOf(name);
  assert.deepEqual(csv.slice(1).filter((line) => line.startsWith('live,') && line.split(',')[1] !== undefined).slice(0, 3).map((line) => {
    const cells = line.split(',');
    return [Number(cells[column('fd')]), cells[column('atime')], cells[column('mtime')]];
  }), expected);
  const body = runCli(caseDir, ['report', '--format', 'bodyfile', '--out', '-']).stdout.split('\n').filter((line) => /snapshot 1[);]/.test(line));
  // Past what mactime can date (2^63 - 1): 0 in its field, its exact value in the name; the others as they are.
  assert.deepEqual(body.map((line) => line.split('|').slice(7, 9)), [['1700000000', '0'], ['-9007199254740993', '9007199254740993'], ['1700000000', '1700000001']]);
  assert.match(body[0] ?? '', /; mtime 9223372036854775807 past what mactime can date \(year 2147483647\): written 0\)\|/);
  assert.match(runCli(caseDir, ['report', '--format', 'html', '--out', '-']).stdout, /"9223372036854775807"/);
});

test('a POSIX message queue removed with mq_unlink, a deleted directory and a deleted symbolic link held by fds are no items: the queue is said in a warning, and the lsof records of all three are counted as no items, none taken for an lsof-only item (root)', async (t) => {
  const script = `${MQUEUE_UNLINKED}d = os.path.join(sys.argv[1], 'gone-dir')
os.mkdir(d)
dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
os.rmdir(d)
link = os.path.join(sys.argv[1], 'gone-link')
os.symlink('/etc/hostname', link)
lfd = os.open(link, os.O_PATH | os.O_NOFOLLOW)
os.unlink(link)
print(os.getpid(), flush=True)
time.sleep(600)
`;
  const { caseDir, pid } = await pythonHolder(t, 'mqueue', script);
  const queueFd = 3;
  const snapshot = runCli(caseDir, ['snapshot', '--pid', String(pid), '--json']);
  assert.equal(snapshot.code, 0, snapshot.stderr);
  const summary = json<{ items: number; cross_check: unknown; warnings: string[] }>(snapshot);
  assert.deepEqual([summary.items, summary.cross_check], [0, { both: 0, proc_only: 0, lsof_only: 0, not_items: 3 }]);
  const queue = fs.statSync(`/proc/${pid}/fd/${queueFd}`);
  const dev = `${Math.floor(queue.dev / 256) & 0xfff}:${(queue.dev & 0xff) | ((queue.dev >> 12) & 0xfff00)}`;
  assert.deepEqual(summary.warnings, [
    `pid ${pid} (python3) fd ${queueFd} holds a POSIX message queue removed with mq_unlink (/unlinked-test-${pid}, inode ${queue.ino} on ${dev}): not an item: its messages ` +
      'cannot be read without taking them from the queue (a read of its file gives only the queue\'s status line); lsof +L1 lists it as a deleted REG file (docs/limits.md)',
  ]);
  assert.match(snapshot.stderr, /^lsof: 0 items seen by both, 0 by \/proc only, 0 by lsof only; 3 of its records of deleted files are no items \(a FIFO, directory, symbolic link, device, socket or message queue: nothing to copy; docs\/limits\.md\)$/m);
  assert.deepEqual(json<LiveItemJson[]>(runCli(caseDir, ['list', '--json'])), []);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    const records = db.prepare(`SELECT fd_num, type, nlink, item_id FROM lsof_files WHERE nlink = 0 ORDER BY fd_num`).raw().all();
    assert.deepEqual(records, [[queueFd, 'REG', 0, null], [4, 'DIR', 0, null], [5, 'LINK', 0, null]]);
    // The fds table keeps the queue's fd as the walk stat'ed it: a regular file, no link.
    assert.deepEqual(db.prepare(`SELECT size, nlink, mode & 61440 FROM fds WHERE pid = ? AND fd = ?`).raw().get(pid, queueFd), [80, 0, 0o100000]);
  } finally {
    db.close();
  }
});

test('shared anonymous memory is no deleted file: mmap(MAP_SHARED|MAP_ANONYMOUS) maps "/dev/zero (deleted)", with MAP_HUGETLB (a database\'s shared memory on huge pages) "/anon_hugepage (deleted)", both regular and nlink 0 on a kernel-internal mount: kept in maps, no item (root)', async (t) => {
  // One free huge page is needed: one more is reserved for the test (2 MiB) and given back after it.
  const hugePages = '/proc/sys/vm/nr_hugepages';
  const free = (): number => Number(/^HugePages_Free:\s+(\d+)$/m.exec(fs.readFileSync('/proc/meminfo', 'latin1'))?.[1] ?? 0);
  if (free() === 0) {
    const before = fs.readFileSync(hugePages, 'latin1').trim();
    fs.writeFileSync(hugePages, String(Number(before) + 1));
    t.after(() => fs.writeFileSync(hugePages, before));
  }
  if (free() === 0) {
    t.skip('no huge page could be reserved');
    return;
  }
  const { caseDir, pid } = await pythonHolder(t, 'anon-shared', `
import mmap, os, time
huge = mmap.mmap(-1, 2 << 20, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS | 0x40000)
huge[0:4] = b'huge'
zero = mmap.mmap(-1, 4096, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
zero[0:4] = b'zero'
print(os.getpid(), flush=True)
time.sleep(600)
`);
  const snapshot = runCli(caseDir, ['snapshot', '--no-lsof', '--json', '--pid', String(pid)]);
  assert.equal(snapshot.code, 0, snapshot.stderr);
  assert.deepEqual(JSON.parse(runCli(caseDir, ['list', '--json']).stdout), []);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    const rows = db.prepare(`SELECT CAST(path AS TEXT), size, nlink, stat_error FROM maps WHERE pid = ? AND perms = 'rw-s' ORDER BY size DESC`).raw().all(pid);
    assert.deepEqual(rows, [['/anon_hugepage (deleted)', 2 << 20, 0, null], ['/dev/zero (deleted)', 4096, 0, null]]);
  } finally {
    db.close();
  }
});
