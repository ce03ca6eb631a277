// A live host with a file system that stopped answering (an NFS server gone, a FUSE daemon hung):
// stat on its files waits forever. The snapshot must finish, keep everything else, and say what it
// could not examine and why. The file system here is test/helpers/c/hangfs.c, a FUSE daemon whose
// getattr waits from SIGUSR1 to SIGUSR2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { json, runCli, runCliAsync, startCli } from './helpers/cli.js';
import { makeTempDir, startHolder } from './helpers/holder.js';
import { firstLine, lines } from './helpers/lines.js';
import { buildFuseDaemon, isMounted, killed, mountTestFuse, stop, type TestFuse } from './helpers/fuse.js';
import { cliPath } from './helpers/paths.js';
import { waitFor } from './helpers/wait.js';
import type { LiveItemJson } from '../src/store/items.js';
import type { RecoveredJson } from '../src/recover/recover.js';

/** The note on a copy from FUSE (no birth time): custody rested on device, inode and name. */
const NAME_ONLY = 'custody by device, inode and name only (no birth time to compare): a later file given the same inode number and the same name could not be told from it';

/** The first `length` bytes of bigino.c's "large": byte i is i % 251. */
function largeContent(length: number): Buffer {
  const content = Buffer.alloc(length);
  for (let index = 0; index < length; index++) content[index] = index % 251;
  return content;
}

/**
 * A python process that opens each file, unlinks it, and holds it (fds 3, 4, ...) until killed, or
 * until it reads "close" (then it closes them and lives on); its PID.
 */
async function holdUnlinked(holders: TestFuse['holders'], files: readonly string[]): Promise<number> {
  return (await holdUnlinkedClosable(holders, files)).pid;
}

const HOLD_SCRIPT = `import os, sys
fds = []
for name in sys.argv[1:]:
    fds.append(os.open(name, os.O_RDONLY))
    os.unlink(name)
print(os.getpid(), flush=True)
for line in sys.stdin:
    if line.strip() == 'close':
        for fd in fds:
            os.close(fd)
`;

async function holdUnlinkedClosable(holders: TestFuse['holders'], files: readonly string[]): Promise<{ pid: number; close(): void }> {
  const reader = spawn('python3', ['-c', HOLD_SCRIPT, ...files], { stdio: ['pipe', 'pipe', 'ignore'] });
  holders.push(killed(reader));
  return { pid: Number(await firstLine(reader)), close: () => reader.stdin.write('close\n') };
}

/** A work directory with an empty mount point, the daemon built into it, and a case directory. */
function setUp(prefix: string): { dir: string; caseDir: string; mountPoint: string; hangfs: string } {
  const dir = makeTempDir(prefix);
  const mountPoint = path.join(dir, 'mnt');
  fs.mkdirSync(mountPoint);
  return { dir, caseDir: makeTempDir(`${prefix}-case`, '/dev/shm'), mountPoint, hangfs: buildFuseDaemon('hangfs', dir) };
}

test('a FUSE mount that stops answering: the snapshot finishes, keeps the rest, names the mount and what it left unexamined (root)', async (t) => {
  const { dir, caseDir, mountPoint, daemon, holders } = await mountTestFuse(t, 'hangfs', (at) => ['-f', at]);
  const holder = await startHolder(dir, [{ kind: 'fd', name: 'local.log', content: Buffer.from('deleted on a local disk\n') }]);
  holders.push(holder);
  const reader = spawn('python3', ['-c', 'import os, sys, time\nf = open(sys.argv[1], "rb")\nprint(os.getpid(), flush=True)\ntime.sleep(600)', path.join(mountPoint, 'held.txt')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  holders.push(killed(reader));
  const readerPid = Number(await firstLine(reader));
  const pids = ['--pid', String(holder.pid), '--pid', String(readerPid)];
  const local = holder.files[0];

  // Answering: its file is examined like any other (a live file, not an item).
  const answering = runCli(caseDir, ['snapshot', ...pids]);
  assert.equal(answering.code, 0, answering.stderr);
  assert.doesNotMatch(answering.stderr, /did not answer/);

  // Stopped answering: stat of held.txt would wait for ever.
  daemon.kill('SIGUSR1');
  const killer = setTimeout(() => daemon.kill('SIGUSR2'), 60_000); // a walk that hangs fails the test instead of hanging it
  const hung = await runCliAsync(caseDir, ['snapshot', ...pids, '--json']);
  // triage (every process of the host) goes through the same snapshot, and says partly done too.
  const triage = await runCliAsync(path.join(caseDir, 'triage'), ['triage', '--json']);
  clearTimeout(killer);
  assert.equal(triage.code, 3, triage.stderr);
  assert.equal((JSON.parse(triage.stdout) as { unanswered_mounts: number }).unanswered_mounts, 1);
  // Partly done: a deleted file on that mount would be missing.
  assert.equal(hung.code, 3, hung.stderr);
  const warning = new RegExp(
    `^warning: fuse\\.hangfs hangfs at "${mountPoint}" \\(mount namespace mnt:\\[\\d+\\]\\) did not answer a stat within 3 s: a server or FUSE daemon that stopped answering\\. ` +
      'Not examined there: 1 fds, 0 mappings, 0 executables; a deleted file on it is not in this snapshot$', 'm');
  assert.match(hung.stderr, warning);
  const summary = JSON.parse(hung.stdout) as { snapshot_id: number; items: number; lsof: string; warnings: string[]; unanswered_mounts: number };
  assert.deepEqual([summary.items, summary.unanswered_mounts], [1, 1]);
  assert.match(summary.lsof, /^ran: 1 records, exit 0$/);

  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.deepEqual(items.map((item) => [item.pid, item.kind, item.fd, item.inode, item.size, item.source]), [[holder.pid, 'fd', local?.fd, local?.inode, 24, ['proc', 'lsof']]]);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  const heldFd = db.prepare(`SELECT CAST(target AS TEXT) AS target, dev, inode, nlink FROM fds WHERE snapshot_id = ? AND pid = ? AND fd = 3`).get(summary.snapshot_id, readerPid);
  assert.deepEqual(heldFd, { target: path.join(mountPoint, 'held.txt'), dev: null, inode: null, nlink: null });
  const answered = db.prepare(`SELECT dev, nlink FROM fds WHERE snapshot_id = ? AND pid = ? AND fd = 3`).get(summary.snapshot_id - 1, readerPid) as { dev: string; nlink: number };
  assert.equal(answered.nlink, 1);
  assert.match(answered.dev, /^0:\d+$/);
  assert.deepEqual(db.prepare(`SELECT read_error FROM processes WHERE snapshot_id = ? AND pid = ?`).get(summary.snapshot_id, readerPid), {
    read_error: `1 files not examined: fuse.hangfs hangfs at "${mountPoint}" did not answer a stat`,
  });
  // The probe is a command like any other; lsof was told to leave the mount alone.
  const commands = db.prepare(`SELECT program, argv, exit_code, error FROM commands WHERE program IN ('stat', 'lsof') ORDER BY id`).all() as Array<{ program: string; argv: string; exit_code: number | null; error: string | null }>;
  // The hung stat cannot even be killed (FUSE waits uninterruptibly for a request its daemon has read): it is left behind.
  const leftBehind = 'timed out after 3000 ms; still there 500 ms after SIGKILL (an uninterruptible wait): left behind';
  assert.deepEqual(commands.map((row) => [row.program, JSON.parse(row.argv) as string[], row.exit_code, row.error]), [
    ['stat', ['--format=%d:%i', '--', `/proc/${holder.pid}/root${mountPoint}`], 0, null],
    ['lsof', ['+L1', '-n', '-P', '-F0pcuftDsikn', '-a', '-p', `${holder.pid},${readerPid}`], 0, null],
    ['stat', ['--format=%d:%i', '--', `/proc/${holder.pid}/root${mountPoint}`], null, leftBehind],
    ['lsof', ['+L1', '-n', '-P', '-F0pcuftDsikn', '-e', mountPoint, '-a', '-p', `${holder.pid},${readerPid}`], 0, null],
  ]);
  db.close();
});

test('a hung FUSE mount that only a container mount namespace has: its files are skipped, and lsof leaves that namespace out (root)', async (t) => {
  const { dir, caseDir, mountPoint, hangfs } = setUp('hung-ns');
  // A mount namespace of its own (as a container's), where the daemon mounts and a process holds a file.
  const script = [
    '"$1" -f "$2" &',
    'echo $!',
    'i=0; until grep -q " $2 " /proc/self/mountinfo; do sleep 0.01; i=$((i+1)); [ $i -gt 500 ] && exit 1; done',
    'exec python3 -c "import os, sys, time\nf = open(sys.argv[1], \'rb\')\nprint(os.getpid(), flush=True)\ntime.sleep(600)" "$2/held.txt"',
  ].join('\n');
  const inner = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', hangfs, mountPoint], { stdio: ['ignore', 'pipe', 'inherit'] });
  const holder = await startHolder(dir, [{ kind: 'fd', name: 'local.log', content: Buffer.from('deleted on a local disk\n') }]);
  let daemonPid: number | null = null;
  t.after(async () => {
    if (daemonPid !== null) process.kill(daemonPid, 'SIGUSR2');
    await stop(inner, 'SIGKILL');
    await holder.stop();
    if (daemonPid !== null) process.kill(daemonPid, 'SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const [daemonLine, readerLine] = await lines(inner, 2);
  daemonPid = Number(daemonLine);
  const readerPid = Number(readerLine);
  assert.equal(readerPid, inner.pid);
  assert.notEqual(fs.readlinkSync(`/proc/${readerPid}/ns/mnt`), fs.readlinkSync('/proc/self/ns/mnt'));
  assert.equal(isMounted(mountPoint), false, 'the mount is not in our namespace');

  process.kill(daemonPid, 'SIGUSR1');
  const killer = setTimeout(() => (daemonPid === null ? undefined : process.kill(daemonPid, 'SIGUSR2')), 60_000);
  const hung = await runCliAsync(caseDir, ['snapshot', '--pid', String(holder.pid), '--pid', String(readerPid), '--json']);
  // Every process of the host: lsof is told to leave out that namespace's processes (-p ^PID).
  const triageCase = path.join(caseDir, 'triage');
  const triage = await runCliAsync(triageCase, ['triage', '--no-recover', '--json']);
  clearTimeout(killer);
  assert.equal(triage.code, 3, triage.stderr);
  // --no-recover: no copy tried, said as null (a 0 would say every item was copied).
  const counts = JSON.parse(triage.stdout) as Record<string, unknown>;
  assert.deepEqual([counts['recovered_complete'], counts['recovered_incomplete'], counts['not_copied'], counts['copied_partly'], counts['failures']], [null, null, null, null, []]);
  const triageDb = new Database(path.join(triageCase, 'case.sqlite'), { readonly: true });
  const triageLsof = triageDb.prepare(`SELECT argv FROM commands WHERE program = 'lsof'`).get() as { argv: string };
  triageDb.close();
  assert.deepEqual(JSON.parse(triageLsof.argv), ['+L1', '-n', '-P', '-F0pcuftDsikn', '-p', [readerPid, daemonPid].sort((a, b) => a - b).map((pid) => `^${pid}`).join(',')]);
  assert.equal(hung.code, 3, hung.stderr);
  const namespace = fs.readlinkSync(`/proc/${readerPid}/ns/mnt`);
  assert.ok(hung.stderr.includes(`warning: fuse.hangfs hangfs at "${mountPoint}" (mount namespace ${namespace}) did not answer a stat within 3 s`), hung.stderr);
  const summary = JSON.parse(hung.stdout) as { snapshot_id: number; items: number; lsof: string; unanswered_mounts: number };
  assert.deepEqual([summary.items, summary.unanswered_mounts, summary.lsof], [1, 1, 'ran: 1 records, exit 0']);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  const lsof = db.prepare(`SELECT argv FROM commands WHERE program = 'lsof'`).get() as { argv: string };
  assert.deepEqual(JSON.parse(lsof.argv), ['+L1', '-n', '-P', '-F0pcuftDsikn', '-a', '-p', String(holder.pid)]);
  assert.deepEqual(db.prepare(`SELECT CAST(target AS TEXT) AS target, nlink FROM fds WHERE pid = ? AND fd = 3`).get(readerPid), { target: path.join(mountPoint, 'held.txt'), nlink: null });
  db.close();
});

test('recover after the mount stopped answering: its file is reported not copied, with why, the rest is copied, nothing hangs (root)', async (t) => {
  // bigino.c: a FUSE file system whose files can be unlinked while held; SIGUSR1 makes getattr wait.
  const { dir, caseDir, mountPoint, daemon, holders } = await mountTestFuse(t, 'bigino', (at) => [at]);
  const holder = await startHolder(dir, [{ kind: 'fd', name: 'local.log', content: Buffer.from('deleted on a local disk\n') }]);
  holders.push(holder);
  const readerPid = await holdUnlinked(holders, [path.join(mountPoint, 'past-2p53')]);
  const local = holder.files[0];
  assert.ok(local !== undefined);

  // The mount answers at snapshot time: both deleted files are found.
  const snapshot = runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid), '--pid', String(readerPid)]);
  assert.equal(snapshot.code, 0, snapshot.stderr);

  // Then it stops answering: without the probe, open and fstat of /proc/PID/fd/3 would wait for ever.
  daemon.kill('SIGUSR1');
  const killer = setTimeout(() => daemon.kill('SIGUSR2'), 60_000); // a recover that hangs fails the test instead of hanging it
  const recover = await runCliAsync(caseDir, ['recover', '--json']);
  clearTimeout(killer);
  assert.equal(recover.code, 3, recover.stderr); // partly done
  const copies = json<Array<{ pid: number; fd: number; complete: boolean; sha256: string | null; note: string | null }>>(recover).map(({ pid, fd, complete, sha256, note }) => ({ pid, fd, complete, sha256, note }));
  assert.deepEqual(copies.sort((a, b) => a.pid - b.pid), [
    { pid: holder.pid, fd: local.fd, complete: true, sha256: local.sha256, note: null },
    {
      pid: readerPid, fd: 3, complete: false, sha256: null,
      note: `not copied: fuse.bigino at ${JSON.stringify(mountPoint)} did not answer a stat within 3 s (a server or FUSE daemon that stopped answering); reading it would wait for ever`,
    },
  ].sort((a, b) => a.pid - b.pid));
  // The probe is recorded like every command; the stuck stat is left behind, not waited for.
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  const probes = db.prepare(`SELECT argv, error FROM commands WHERE program = 'stat'`).all() as Array<{ argv: string; error: string | null }>;
  db.close();
  // The snapshot's probe of the mount (answered), then recover's of the file (no answer).
  assert.deepEqual(probes.map((row) => [JSON.parse(row.argv) as string[], row.error]), [
    [['--format=%d:%i', '--', `/proc/${holder.pid}/root${mountPoint}`], null], // the first --pid of that namespace
    [['-L', '--format=%d %i %s %.9W %h', '--', `/proc/${readerPid}/fd/3`], 'timed out after 3000 ms; still there 500 ms after SIGKILL (an uninterruptible wait): left behind'],
  ]);
});

test('recover when the server dies in the middle of a copy: what came is kept and named, the copy is given up after the stall timeout, the mount\'s other file is not tried, nothing hangs (root)', async (t) => {
  // bigino.c: "large" is 8 MiB (byte i is i % 251); after SIGWINCH its reads from 1 MiB on wait.
  const { caseDir, mountPoint, daemon, holders } = await mountTestFuse(t, 'bigino', (at) => [at]);
  const readerPid = await holdUnlinked(holders, [path.join(mountPoint, 'large'), path.join(mountPoint, 'past-2p53')]);
  const snapshot = runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(readerPid)]);
  assert.equal(snapshot.code, 0, snapshot.stderr);
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json'])).map(({ id, fd, size }) => ({ id, fd, size }));
  assert.deepEqual(items.map(({ fd, size }) => ({ fd, size })), [{ fd: 3, size: 8 << 20 }, { fd: 4, size: 44 }]);
  const [large, small] = items;
  assert.ok(large !== undefined && small !== undefined);

  // While the daemon answers: the copy through dd is exact, and following polls with stat children.
  const followed = runCli(caseDir, ['recover', '--item', String(small.id), '--follow', '--follow-timeout', '1', '--json']);
  assert.equal(followed.code, 3, followed.stderr); // still held: it may grow
  assert.deepEqual(json<Array<{ bytes: number; sha256: string; complete: boolean; note: string }>>(followed).map(({ bytes, sha256, complete, note }) => ({ bytes, sha256, complete, note })), [{
    bytes: 44, sha256: crypto.createHash('sha256').update('content of the file whose inode is 2^53 + 1\n').digest('hex'), complete: false,
    note: `still held open by process ${readerPid} after following for 1 s: the file may still grow; ${NAME_ONLY}`,
  }]);

  daemon.kill('SIGWINCH');
  const killer = setTimeout(() => daemon.kill('SIGUSR2'), 60_000); // a recover that hangs fails the test instead of hanging it
  const started = Date.now();
  // The large one first (recover's own order is the smallest first): the small one's turn comes after the mount stopped answering.
  const recover = await runCliAsync(caseDir, ['recover', '--item', String(large.id), '--item', String(small.id), '--stall-timeout', '2', '--json']);
  const took = Date.now() - started;
  clearTimeout(killer);
  assert.equal(recover.code, 3, recover.stderr);
  assert.ok(took < 30_000, `recover took ${took} ms: the hang was not given up`);
  const copies = json<Array<{ item_id: number; output: string | null; bytes: number; complete: boolean; sha256: string | null; note: string | null }>>(recover);
  const output = path.join(caseDir, 'recovered', `${large.id}-${readerPid}-fd3-large`);
  assert.deepEqual(copies.map(({ item_id, output: out, bytes, complete, sha256, note }) => ({ item_id, out, bytes, complete, sha256, note })), [
    {
      item_id: large.id, out: output, bytes: 1 << 20, complete: false, sha256: crypto.createHash('sha256').update(largeContent(1 << 20)).digest('hex'),
      note: `copy failed: fuse.bigino at ${JSON.stringify(mountPoint)} sent nothing for 2 s (a server or FUSE daemon that stopped answering; the reading dd was killed); ` +
        `1048576 bytes of it were written to ${output} before that (kept; its sha256 is that of those bytes); ${NAME_ONLY}`,
    },
    { item_id: small.id, out: null, bytes: 0, complete: false, sha256: null, note: `not copied: fuse.bigino at ${JSON.stringify(mountPoint)} stopped answering during the copy of item ${large.id}` },
  ]);
  // The first MiB, byte-exact, as the daemon served it.
  assert.ok(fs.readFileSync(output).equals(largeContent(1 << 20)));
  // Every command is recorded: custody stat, then dd, given up and left behind in the kernel.
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  const commands = db.prepare(`SELECT program, argv, error FROM commands WHERE program IN ('stat', 'dd') ORDER BY id`).all() as Array<{ program: string; argv: string; error: string | null }>;
  db.close();
  // (The commands of the follow above read fd 4: left out.)
  assert.deepEqual(commands.filter((row) => !row.argv.includes('/fd/4')).map((row) => [row.program, JSON.parse(row.argv) as string[], row.error]), [
    ['stat', ['--format=%d:%i', '--', `/proc/${readerPid}/root${mountPoint}`], null], // the snapshot's probe
    ['stat', ['-L', '--format=%d %i %s %.9W %h', '--', `/proc/${readerPid}/fd/3`], null],
    // No further than its size at the start and 64 MiB more (a point-in-time copy of a file that grows without end ends).
    ['dd', [`if=/proc/${readerPid}/fd/3`, 'bs=1M', 'iflag=skip_bytes,count_bytes,noatime', 'skip=0', `count=${(8 << 20) + 67108864}`, 'status=none'], 'no output for 2000 ms: killed; still there 500 ms after SIGKILL (an uninterruptible wait): left behind'],
  ]);
});

test('recover of a FUSE file that grows without end while dd reads it: dd reads no further than its size at the start and 64 MiB more, kept and hashed, incomplete with why (root)', async (t) => {
  // bigino.c: after SIGPROF "large" says it is 1 GiB larger at each stat, and its reads never end.
  const { caseDir, mountPoint, daemon, holders } = await mountTestFuse(t, 'bigino', (at) => [at]);
  const readerPid = await holdUnlinked(holders, [path.join(mountPoint, 'large')]);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(readerPid)]).code, 0);
  daemon.kill('SIGPROF');
  const recover = startCli(caseDir, ['recover', '--json']);
  const guard = setTimeout(() => recover.child.kill('SIGKILL'), 300_000); // a copy that never ends fails the test instead of hanging it
  const code = await recover.exited;
  clearTimeout(guard);
  assert.equal(code, 3, recover.stderr);
  const [copy] = json<RecoveredJson[]>({ code, stdout: recover.stdout, stderr: recover.stderr });
  assert.ok(copy !== undefined);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  const sizes = db.prepare('SELECT size_at_start AS start, size_at_end AS end FROM recoveries').get() as { start: number; end: number };
  const dd = db.prepare(`SELECT argv FROM commands WHERE program = 'dd'`).all() as Array<{ argv: string }>;
  db.close();
  const bytes = sizes.start + 67108864;
  assert.ok(sizes.end > bytes, JSON.stringify(sizes));
  assert.deepEqual([copy.bytes, copy.sha256, copy.complete, copy.note], [
    bytes, crypto.createHash('sha256').update(largeContent(bytes)).digest('hex'), false,
    `point-in-time copy: the file grew from ${sizes.start} to ${sizes.end} bytes (by ${sizes.end - sizes.start}) while it was copied, ` +
      `the copy stopped at ${bytes} bytes, its size when the copy started and 67108864 more (a point-in-time copy reads no further: a file that grows without end would be read for ever); ` +
      `the copy holds the file's first ${bytes} bytes, and its sha256 is theirs; recover it again with --follow (bounded by --follow-timeout) for more; ${NAME_ONLY}`,
  ]);
  assert.deepEqual(dd.map((row) => JSON.parse(row.argv) as string[]), [[`if=/proc/${readerPid}/fd/3`, 'bs=1M', 'iflag=skip_bytes,count_bytes,noatime', 'skip=0', `count=${bytes}`, 'status=none']]);
  assert.ok(copy.output !== null && fs.readFileSync(copy.output).equals(largeContent(bytes)));
});

test('a copy read through dd that cannot fit on the case disk: refused before dd reads a byte of the FUSE file, with why, no stack trace (root)', async (t) => {
  const { caseDir, mountPoint, holders } = await mountTestFuse(t, 'bigino', (at) => [at]);
  const readerPid = await holdUnlinked(holders, [path.join(mountPoint, 'large')]);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(readerPid)]).code, 0);
  // recovered/ on a 1 MiB file system of its own: the 8 MiB file cannot fit.
  const recovered = path.join(caseDir, 'recovered');
  fs.mkdirSync(recovered);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'tmpfs', recovered]);
  // Unmounted with the holders, before the case directory is removed.
  holders.push({ stop: async () => { if (isMounted(recovered)) execFileSync('umount', [recovered]); } });
  const result = runCli(caseDir, ['recover', '--json']);
  assert.equal(result.code, 3, result.stderr);
  assert.doesNotMatch(result.stderr, /node:internal|triggerUncaughtException|^\s+at /m);
  const [copy] = json<Array<{ output: string | null; complete: boolean; sha256: string | null; note: string }>>(result);
  assert.deepEqual([copy?.complete, copy?.sha256, copy?.output], [false, null, null]);
  assert.match(copy?.note ?? '', /^not copied: the copy needs 8388608 bytes and the case's file system has \d+ bytes free \(64 KiB are kept for SHA256SUMS\): make room/);
  assert.deepEqual(fs.readdirSync(recovered), []);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  const dd = db.prepare(`SELECT error FROM commands WHERE program = 'dd'`).all();
  db.close();
  assert.deepEqual(dd, [], 'dd never ran');
});

test('a FUSE file whose open is refused: no copy was made, so nothing is kept, hashed or listed; the note says the open failed (root)', async (t) => {
  const { caseDir, mountPoint, holders, daemon } = await mountTestFuse(t, 'bigino', (at) => [at]);
  const readerPid = await holdUnlinked(holders, [path.join(mountPoint, 'past-2p53')]);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(readerPid)]).code, 0);
  // From now on the daemon refuses every open (EACCES); a stat still answers.
  daemon.kill('SIGTTIN');
  const result = runCli(caseDir, ['recover', '--json']);
  assert.equal(result.code, 3, result.stderr);
  const [copy] = json<RecoveredJson[]>(result);
  assert.deepEqual([copy?.output, copy?.bytes, copy?.sha256, copy?.complete, copy?.note], [null, 0, null, false,
    `copy failed: dd could not open /proc/${readerPid}/fd/3: Permission denied; nothing was read, so no copy was made`]);
  const recovered = path.join(caseDir, 'recovered');
  assert.deepEqual(fs.readdirSync(recovered).filter((name) => name !== 'SHA256SUMS'), []);
  assert.doesNotMatch(fs.existsSync(path.join(recovered, 'SHA256SUMS')) ? fs.readFileSync(path.join(recovered, 'SHA256SUMS'), 'utf8') : '', /e3b0c442/);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    assert.deepEqual(db.prepare('SELECT output, bytes, sha256, complete, size_at_start FROM recoveries').all(), [{ output: null, bytes: 0, sha256: null, complete: 0, size_at_start: 44 }]);
  } finally {
    db.close();
  }
});

test('a mount that stops answering during the walk, after the probe: a watchdog says on stderr what the walk waits on and what to do; the walk goes on when it answers again (root)', async (t) => {
  const { caseDir, mountPoint, daemon, holders } = await mountTestFuse(t, 'bigino', (at) => [at]);
  const readerPid = await holdUnlinked(holders, [path.join(mountPoint, 'past-2p53')]);
  // The mount point still answers (the probe passes), its files do not (the walk's stat waits).
  daemon.kill('SIGURG');
  const snapshot = spawn(process.execPath, [cliPath, '--case', caseDir, 'snapshot', '--no-lsof', '--pid', String(readerPid), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  holders.push(killed(snapshot));
  let stderr = '';
  let stdout = '';
  snapshot.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  snapshot.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => snapshot.once('exit', (code) => resolve(code)));
  await waitFor(() => stderr.includes('\n'), 15_000, 'the watchdog\'s message');
  assert.equal(
    stderr,
    `unlinked: the walk has waited 5 s on a stat of /proc/${readerPid}/fd/3 (${JSON.stringify(`${mountPoint}/past-2p53 (deleted)`)}): its file system stopped answering since the probe ` +
      'asked it (a dead NFS server, a hung FUSE daemon), and such a stat cannot be interrupted. It goes on by itself if the file system answers again. ' +
      `Otherwise stop unlinked with kill -9 ${snapshot.pid} (nothing of this snapshot is stored) and run it again: the probe then finds that mount silent and leaves it out\n`,
  );
  // The file system answers again: the walk goes on, and the snapshot is whole.
  daemon.kill('SIGUSR2');
  assert.equal(await exited, 0, stderr);
  assert.equal((JSON.parse(stdout) as { items: number }).items, 1);
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.deepEqual(items.map((item) => [item.pid, item.fd, item.path, item.nlink]), [[readerPid, 3, `${mountPoint}/past-2p53`, 0]]);
});

test('recover --follow of a file on a FUSE mount whose holder closes it: what was read is kept and hashed, never read again through the closed fd, and said incomplete (root)', async (t) => {
  const { caseDir, mountPoint, holders } = await mountTestFuse(t, 'bigino', (at) => [at]);
  const holder = await holdUnlinkedClosable(holders, [path.join(mountPoint, 'past-2p53')]);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  const following = runCliAsync(caseDir, ['recover', '--follow', '--follow-timeout', '60', '--json']);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  holder.close();
  const recover = await following;
  assert.equal(recover.code, 3, recover.stderr);
  assert.deepEqual(json<Array<{ bytes: number; sha256: string; complete: boolean; note: string }>>(recover).map(({ bytes, sha256, complete, note }) => ({ bytes, sha256, complete, note })), [{
    bytes: 44, sha256: crypto.createHash('sha256').update('content of the file whose inode is 2^53 + 1\n').digest('hex'), complete: false,
    note: `its holder closed it while it was followed; on a network or FUSE file system unlinked holds no fd of its own, so what was written in the last 1 s before that may be missing; ${NAME_ONLY}`,
  }]);
});

test('a FUSE mount its mounter named with hostile bytes (a mount point that is not UTF-8; escape sequences, a C1 CSI and a bidi override in its source and type): probed through a descriptor, so the snapshot finishes instead of waiting on it, and its warning shows those names in the display form (root)', async (t) => {
  // fusermount lets any user choose these: the mount point (a folder of theirs), -o fsname= and subtype=.
  const { dir, caseDir, mountPoint, daemon, holders } = await mountTestFuse(t, 'hangfs', (at) => ['-f', '-o', 'fsname=ev\x1b]0;t\x07il\u202e\u009b2J,subtype=h\u202eng', at],
    Buffer.from([0x6d, 0xff, 0x78]));
  const reader = spawn('python3', ['-c', 'import os, sys, time\nf = open(sys.argv[1], "rb")\nprint(os.getpid(), flush=True)\ntime.sleep(600)', path.join(mountPoint, 'held.txt')], { stdio: ['ignore', 'pipe', 'inherit'] });
  holders.push(killed(reader));
  const readerPid = Number(await firstLine(reader));
  // Its fds besides the held file (0-2 and what it inherited) depend on the machine: counted, not assumed.
  const fdCount = fs.readdirSync(`/proc/${readerPid}/fd`).length;
  daemon.kill('SIGUSR1');
  const killer = setTimeout(() => daemon.kill('SIGUSR2'), 60_000); // a walk that hangs fails the test instead of hanging it
  const started = Date.now();
  const hung = await runCliAsync(caseDir, ['snapshot', '--pid', String(readerPid), '--json']);
  const took = Date.now() - started;
  clearTimeout(killer);
  assert.equal(hung.code, 3, hung.stderr);
  assert.ok(took < 30_000, `the snapshot took ${took} ms: it waited on the mount`);
  const where = `fuse.h\\xe2\\x80\\xaeng ev\\x1b]0;t\\x07il\\xe2\\x80\\xae\\xc2\\x9b2J at ${JSON.stringify(`${dir}/m\\xffx`)}`;
  assert.deepEqual(hung.stderr.split('\n'), [
    `warning: lsof was not run, the snapshot holds the /proc walk only: ${where} did not answer, and lsof -e cannot be given its mount point (not UTF-8): lsof would wait on it`,
    `warning: ${where} (mount namespace ${fs.readlinkSync('/proc/self/ns/mnt')}) did not answer a stat within 3 s: a server or FUSE daemon that stopped answering. ` +
      'Not examined there: 1 fds, 0 mappings, 0 executables; a deleted file on it is not in this snapshot',
    `snapshot 1: 1 processes, ${fdCount} fds, 0 deleted-but-open items; case ${caseDir}`,
    '',
  ]);
  assert.doesNotMatch(hung.stderr, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/u, 'no raw control, C1 or bidi character on stderr');
  const summary = JSON.parse(hung.stdout) as { unanswered_mounts: number; lsof: string };
  assert.deepEqual([summary.unanswered_mounts, summary.lsof], [1, 'skipped (a mount that did not answer has a mount point that is not UTF-8, which lsof -e cannot be given)']);
  // Its mount point was asked through a descriptor of unlinked's (the stat that waited was left behind).
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  const probes = db.prepare(`SELECT argv, error FROM commands WHERE program = 'stat'`).all() as Array<{ argv: string; error: string | null }>;
  db.close();
  assert.equal(probes.length, 1);
  assert.match(probes[0]?.argv ?? '', /^\["-L","--format=%d:%i","--","\/proc\/\d+\/fd\/\d+"\]$/);
  assert.match(probes[0]?.error ?? '', /^timed out after 3000 ms/);
});

test('the watchdog names the file the walk waits on in the display form: a FUSE mount point named with an escape sequence, a bidi override and the byte 0xff reaches stderr as \\xHH, never raw (root)', async (t) => {
  const name = Buffer.concat([Buffer.from('w\x1b[2J\u202e'), Buffer.from([0xff])]);
  const { dir, caseDir, mountPoint, daemon, holders } = await mountTestFuse(t, 'bigino', (at) => [at], name);
  const readerPid = await holdUnlinked(holders, [path.join(mountPoint, 'past-2p53')]);
  // The mount point still answers (the probe passes), its files do not (the walk's stat waits).
  daemon.kill('SIGURG');
  const snapshot = spawn(process.execPath, [cliPath, '--case', caseDir, 'snapshot', '--no-lsof', '--pid', String(readerPid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  holders.push(killed(snapshot));
  let stderr = '';
  snapshot.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => snapshot.once('exit', (code) => resolve(code)));
  await waitFor(() => stderr.includes('\n'), 15_000, 'the watchdog\'s message');
  daemon.kill('SIGUSR2');
  assert.equal(await exited, 0, stderr);
  assert.equal(stderr.split('\n')[0], `unlinked: the walk has waited 5 s on a stat of /proc/${readerPid}/fd/3 (${JSON.stringify(`${dir}/w\\x1b[2J\\xe2\\x80\\xae\\xff/past-2p53 (deleted)`)}): ` +
    'its file system stopped answering since the probe asked it (a dead NFS server, a hung FUSE daemon), and such a stat cannot be interrupted. It goes on by itself if the file system answers again. ' +
    `Otherwise stop unlinked with kill -9 ${snapshot.pid} (nothing of this snapshot is stored) and run it again: the probe then finds that mount silent and leaves it out`);
  assert.doesNotMatch(stderr, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e\ufffd]/u, 'no raw control, C1 or bidi character, no byte lost on stderr');
});
