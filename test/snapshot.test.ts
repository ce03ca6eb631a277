// Issue 3: a live snapshot lists exactly the deleted-but-open files of real processes, and no decoy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { cliPath } from './helpers/paths.js';
import { runCli, runCliAsNobody } from './helpers/cli.js';
import { GROWING_MEMFD, pythonHolder } from './helpers/pythonHolder.js';
import { bytesName, makeTempDir, startHolder, type Holder } from './helpers/holder.js';
import { firstLine } from './helpers/lines.js';
import type { LiveItemJson } from '../src/store/items.js';
import { openCase } from '../src/store/db.js';
import { takeSnapshot } from '../src/proc/snapshot.js';

function cli(caseDir: string, args: string[]): string {
  return execFileSync(process.execPath, [cliPath, '--case', caseDir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const HOSTILE = Buffer.concat([Buffer.from('-evil\nname'), Buffer.from([0xff]), Buffer.from(' (deleted)')]);

test('snapshot lists every kind of deleted-but-open file exactly, and no decoy (root)', async (t) => {
  const dir = makeTempDir('snap');
  const caseDir = makeTempDir('snap-case');
  const holders: Holder[] = [];
  let exePid: number | null = null;
  t.after(async () => {
    for (const holder of holders) await holder.stop();
    if (exePid !== null) {
      try {
        process.kill(exePid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });

  const holder = await startHolder(dir, [
    { kind: 'fd', name: 'plain.log', content: Buffer.from('plain deleted content\n') },
    { kind: 'map', name: 'mapped.bin', content: Buffer.alloc(8192, 0x41) },
    { kind: 'memfd', name: 'payload', content: Buffer.from('memfd bytes') },
    { kind: 'tmpfile', content: Buffer.from('never had a name') },
    { kind: 'fd', name: bytesName(HOSTILE), content: Buffer.from('hostile') },
    { kind: 'live', name: 'decoy (deleted)', content: Buffer.from('still linked') },
    { kind: 'hardlink', name: 'twice', content: Buffer.from('one name left') },
    { kind: 'renamed', name: 'moved', content: Buffer.from('renamed') },
  ]);
  holders.push(holder);

  // A running binary whose file was deleted.
  const exeCopy = path.join(dir, 'sleeper');
  fs.copyFileSync('/bin/sleep', exeCopy);
  fs.chmodSync(exeCopy, 0o755);
  const sleeper = spawn(exeCopy, ['600'], { stdio: 'ignore' });
  exePid = sleeper.pid ?? null;
  assert.ok(exePid !== null);
  const exeInode = fs.statSync(exeCopy).ino;
  const exeSize = fs.statSync(exeCopy).size;
  await new Promise((resolve) => setTimeout(resolve, 100));
  fs.unlinkSync(exeCopy);

  cli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid), '--pid', String(exePid)]);
  const items = JSON.parse(cli(caseDir, ['list', '--json'])) as LiveItemJson[];

  const summary = items
    .map((item) => ({ pid: item.pid, kind: item.kind, fd: item.fd, inode: item.inode, size: item.size, path_b64: item.path_b64 }))
    .sort((a, b) => Number(a.inode ?? 0) - Number(b.inode ?? 0));
  const held = (index: number) => {
    const file = holder.files[index];
    assert.ok(file !== undefined);
    return file;
  };
  const expected = [
    { pid: holder.pid, kind: 'fd', fd: held(0).fd, inode: held(0).inode, size: held(0).size, path_b64: held(0).pathB64 },
    { pid: holder.pid, kind: 'map', fd: null, inode: held(1).inode, size: 8192, path_b64: held(1).pathB64 },
    { pid: holder.pid, kind: 'memfd', fd: held(2).fd, inode: held(2).inode, size: held(2).size, path_b64: held(2).pathB64 },
    { pid: holder.pid, kind: 'tmpfile', fd: held(3).fd, inode: held(3).inode, size: held(3).size, path_b64: held(3).pathB64 },
    { pid: holder.pid, kind: 'fd', fd: held(4).fd, inode: held(4).inode, size: 7, path_b64: Buffer.concat([Buffer.from(`${dir}/`), HOSTILE]).toString('base64') },
    { pid: exePid, kind: 'exe', fd: null, inode: exeInode, size: exeSize, path_b64: Buffer.from(exeCopy).toString('base64') },
  ].sort((a, b) => a.inode - b.inode);
  assert.deepEqual(summary, expected);

  // Every item: nlink 0, dev of the temp dir's file system (memfd: the kernel's internal mount).
  const tempDev = fs.statSync(dir).dev;
  for (const item of items) {
    assert.equal(item.nlink, 0);
    assert.deepEqual(item.source, ['proc']);
    if (item.kind !== 'memfd') {
      assert.equal(item.dev, `${Math.floor(tempDev / 256) & 0xfff}:${(tempDev & 0xff) | ((tempDev >>> 12) & 0xfff00)}`);
      assert.ok(item.mount_point !== null, `mount point resolved for ${item.path}`);
    }
  }
  // The hostile name is shown escaped and kept byte-exact.
  const hostile = items.find((item) => item.inode === held(4).inode);
  assert.equal(hostile?.path, `${dir}/-evil\\x0aname\\xff (deleted)`);
});

test('another run of unlinked (a recover --follow in another terminal) holding the file it copies: its item is listed and said to be the forensic tool\'s, not a process of the host (root)', async (t) => {
  const { caseDir, pid } = await pythonHolder(t, 'snapshot-other-run', GROWING_MEMFD);
  const otherCase = makeTempDir('snapshot-other-run-case', '/dev/shm');
  assert.equal(runCli(otherCase, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const follower = spawn(process.execPath, [cliPath, '--case', otherCase, 'recover', '--follow', '--follow-timeout', '60'], { stdio: 'ignore' });
  t.after(async () => {
    follower.kill('SIGKILL');
    await new Promise((resolve) => follower.once('exit', resolve));
    fs.rmSync(otherCase, { recursive: true, force: true });
  });
  const recoverPid = follower.pid ?? 0;
  const holdsIt = () => fs.readdirSync(`/proc/${recoverPid}/fd`).some((fd) => {
    try {
      return fs.readlinkSync(`/proc/${recoverPid}/fd/${fd}`) === '/memfd:growing (deleted)';
    } catch {
      return false;
    }
  });
  for (let waited = 0; !holdsIt(); waited += 50) {
    assert.ok(waited < 20_000, 'the other run never opened the memfd');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const snapshot = runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid), '--pid', String(recoverPid)]);
  assert.equal(snapshot.code, 0, snapshot.stderr);
  const items = JSON.parse(runCli(caseDir, ['list', '--json']).stdout) as LiveItemJson[];
  const ours = items.find((item) => item.pid === recoverPid);
  assert.deepEqual(items.map((item) => [item.pid, item.kind, item.path]), [[pid, 'memfd', '/memfd:growing'], [recoverPid, 'memfd', '/memfd:growing']].sort((a, b) => Number(a[0]) - Number(b[0])));
  assert.ok(snapshot.stderr.includes(`warning: pid ${recoverPid} (node) is another run of unlinked (${cliPath} --case ${otherCase} recover --follow --follow-timeout 60): ` +
    `its item (fd ${ours?.fd} /memfd:growing) is a file it opened to copy, held by the forensic tool, not by a process of the host\n`), snapshot.stderr);
});

test('list on a case without a snapshot fails with one line and exit 1', () => {
  const caseDir = makeTempDir('empty-case');
  try {
    assert.throws(
      () => execFileSync(process.execPath, [cliPath, '--case', caseDir, 'list', '--json'], { stdio: 'pipe' }),
      (error: { status: number; stderr: Buffer }) => {
        assert.equal(error.status, 1);
        const lines = error.stderr.toString().trim().split('\n');
        assert.equal(lines.length, 1);
        assert.match(lines[0] ?? '', /^unlinked: no case database at /);
        return true;
      },
    );
  } finally {
    fs.rmSync(caseDir, { recursive: true, force: true });
  }
});

test('a usage error exits 2, a command missing too; help asked for exits 0', () => {
  const status = (args: string[]) => spawnSync(process.execPath, [cliPath, ...args], { stdio: 'pipe' }).status;
  assert.deepEqual(
    [['list', '--snapshot', 'abc'], [], ['image'], ['lsof'], ['snapshot', '--pid', '0'], ['recover', '--item', '0'], ['help'], ['--help'], ['image', '--help']].map(status),
    [2, 2, 2, 2, 2, 2, 0, 0, 0],
  );
});

test('help of an unknown command names it; -q with -v and a bogus UNLINKED_STORE are usage errors, one line each', () => {
  const run = (args: string[], env: NodeJS.ProcessEnv = process.env) => {
    const result = spawnSync(process.execPath, [cliPath, ...args], { stdio: 'pipe', env });
    return [result.status, result.stderr.toString()];
  };
  assert.deepEqual(run(['help', 'bogus']), [2, "unlinked: unknown command 'bogus' (run with --help for usage)\n"]);
  assert.deepEqual(run(['help', 'image', 'bogus']), [2, "unlinked: unknown command 'image bogus' (run with --help for usage)\n"]);
  assert.deepEqual(run(['image', 'help', 'bogus']), [2, "unlinked: unknown command 'image bogus' (run with --help for usage)\n"]);
  const imageHelp = spawnSync(process.execPath, [cliPath, 'image', 'help', 'scan'], { stdio: 'pipe' });
  assert.equal(imageHelp.status, 0);
  assert.match(imageHelp.stdout.toString(), /^Usage: unlinked image scan \[options\] <image>\n/);
  // commander's suggestion comes on a line of its own: one line all the same.
  assert.deepEqual(run(['snapshot', '--lsof']), [2, "unlinked: unknown option '--lsof' (Did you mean --json?) (run with --help for usage)\n"]);
  assert.deepEqual(run(['list', '-q', '--verbose']), [2, 'unlinked: --quiet and --verbose cannot be given together: choose one (run with --help for usage)\n']);
  assert.deepEqual(run(['-v', 'list', '--quiet']), [2, 'unlinked: --quiet and --verbose cannot be given together: choose one (run with --help for usage)\n']);
  // Node hands an argument that is not UTF-8 on with U+FFFD: a case would be made under another name.
  const caseDir = makeTempDir('notutf8', '/dev/shm');
  const notUtf8 = spawnSync('sh', ['-c', `"$1" "$2" --case "$(printf '${caseDir}/c\\377')" snapshot --no-lsof --pid 1`, 'sh', process.execPath, cliPath], { encoding: 'utf8' });
  assert.deepEqual([notUtf8.status, notUtf8.stderr, fs.readdirSync(caseDir)], [2, `unlinked: the argument ${caseDir}/c\\xff is not valid UTF-8: node would pass it on with those bytes replaced (U+FFFD), a path naming another file; give it in UTF-8 (a path: hard-link or rename the file or folder) (run with --help for usage)\n`, []]);
  fs.rmSync(caseDir, { recursive: true });
  assert.deepEqual(run(['list'], { ...process.env, UNLINKED_STORE: 'threads' }), [2, 'unlinked: UNLINKED_STORE must be thread, inline or auto, not "threads": unset it to let unlinked choose\n']);
});

test('snapshot --pid of a process that is not there: said, and partly done (exit 3); none there: nothing stored (exit 1); above pid_max: a usage error', (t) => {
  const caseDir = makeTempDir('nopid-case', '/dev/shm');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  const pidMax = Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  // A PID no process has now (the highest free one: the kernel hands PIDs out upwards from low ones).
  let free = pidMax - 1;
  while (fs.existsSync(`/proc/${free}`)) free--;
  const absent = String(free);
  const tooBig = runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pidMax + 1)]);
  assert.equal(tooBig.code, 2);
  assert.match(tooBig.stderr, new RegExp(`argument '${pidMax + 1}' is invalid\\. no process can have it: this kernel's pid_max is ${pidMax}`));
  const none = runCli(caseDir, ['snapshot', '--no-lsof', '--pid', absent]);
  assert.deepEqual([none.code, none.stderr], [1, `unlinked: no process ${absent} on this host (not in /proc: exited, or never was): nothing stored\n`]);
  assert.equal(fs.existsSync(path.join(caseDir, 'case.sqlite')), false);
  // Our own PID twice: walked once.
  const result = runCli(caseDir, ['snapshot', '--no-lsof', '--json', '--pid', absent, '--pid', String(process.pid), '--pid', String(process.pid)]);
  assert.equal(result.code, 3, result.stderr);
  // Named by its number on stderr, in the JSON and in the database (exit 3: they say which and why).
  const said = `--pid ${absent}: no such process, or it exited before the walk read it: not in this snapshot`;
  assert.match(result.stderr, new RegExp(`warning: ${said.replace(/[-:,]/g, '.')}\n`));
  assert.deepEqual((JSON.parse(result.stdout) as { warnings: string[] }).warnings, [said]);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  assert.deepEqual(db.prepare('SELECT warnings FROM snapshots ORDER BY id DESC LIMIT 1').get(), { warnings: JSON.stringify([said]) });
  db.close();
});

test('as non-root: what is readable is listed, stderr says how many processes could not be read, and the snapshot is partly done (exit 3); list says so on stderr, with --json too (root)', async (t) => {
  const caseDir = makeTempDir('nonroot-case', '/tmp');
  fs.chownSync(caseDir, 65534, 65534);
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  const result = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, cliPath, '--case', caseDir, 'snapshot', '--no-lsof', '--json'], { encoding: 'utf8' });
  // Other users' files were not examined: a deleted one may be missing.
  assert.equal(result.status, 3, result.stderr);
  const summary = JSON.parse(result.stdout) as { processes_seen: number; processes_unreadable: number };
  assert.ok(summary.processes_unreadable > 0);
  assert.match(result.stderr, new RegExp(`run as root to read other users' processes: ${summary.processes_unreadable} of ${summary.processes_seen} processes could not be fully read \\(see processes\\.read_error\\)`));
  // Where the snapshot is shown later, "none found" is never all that is said.
  const said = `${summary.processes_unreadable} of ${summary.processes_seen} processes could not be fully read (processes.read_error): a deleted file they hold may be missing from this snapshot`;
  const list = runCli(caseDir, ['list']);
  assert.equal(list.code, 0);
  assert.ok(list.stderr.includes(`warning: snapshot 1: ${said}\n`), list.stderr);
  // With --json the same warnings on stderr (CONTRACT.md), the JSON alone on stdout.
  const listJson = runCli(caseDir, ['list', '--json']);
  assert.equal(listJson.code, 0);
  assert.equal(listJson.stderr, list.stderr.split('\n').filter((line) => line.startsWith('warning: ')).map((line) => `${line}\n`).join(''));
  assert.ok(listJson.stderr.includes(`warning: snapshot 1: ${said}\n`), listJson.stderr);
  assert.equal((JSON.parse(listJson.stdout) as unknown[]).length, list.stdout.split('\n').filter(Boolean).length);
  const html = runCli(caseDir, ['report', '--format', 'html', '--out', '-']).stdout;
  assert.ok(html.includes(`<ul class="warnings"><li>${said}</li>`), 'the HTML shows it under the snapshot');
});

/** A process of nobody's: argv[2] 'dumpable' (nobody may read its /proc, not its map_files) or 'hidden' (PR_SET_DUMPABLE 0: what is in /proc/PID is root's). */
const NOBODYS = String.raw`import ctypes, os, sys
os.setresgid(65534, 65534, 65534)
os.setresuid(65534, 65534, 65534)
ctypes.CDLL(None).prctl(4, 1 if sys.argv[2] == 'dumpable' else 0, 0, 0, 0)
print(os.getpid(), flush=True)
sys.stdin.read()`;

test('as non-root, the warning says what was refused: other users\' processes apart from this user\'s own, whose map_files, or whole /proc when not dumpable, the kernel shows to root only (root)', async (t) => {
  const dumpable = await pythonHolder(t, 'own-dumpable', NOBODYS, ['dumpable']);
  const hidden = await pythonHolder(t, 'own-hidden', NOBODYS, ['hidden']);
  assert.deepEqual([fs.statSync(`/proc/${hidden.pid}`).uid, fs.statSync(`/proc/${hidden.pid}/fd`).uid], [65534, 0], 'the kernel gives what is in the /proc of a process that is not dumpable to root');
  const caseDir = dumpable.caseDir;
  fs.chownSync(caseDir, 65534, 65534);
  const own = runCliAsNobody(caseDir, ['snapshot', '--no-lsof', '--pid', String(dumpable.pid), '--pid', String(hidden.pid), '--json']);
  assert.equal(own.code, 3, own.stderr);
  assert.deepEqual(pick(JSON.parse(own.stdout)), { processes_seen: 2, processes_unreadable: 2, processes_unreadable_own: 2 });
  assert.deepEqual(own.stderr.split('\n').slice(0, 2), [
    'warning: 1 of this user\'s own processes could not be fully read: the kernel shows the files a process maps (map_files) to root only, so a deleted file one of them maps ' +
      'without holding it open is missed; run as root to see those (see processes.read_error)',
    'warning: 1 of this user\'s own processes could not be fully read: the kernel refused (a process that is not dumpable: set-uid, or PR_SET_DUMPABLE 0; or a security module); ' +
      'run as root to read them (see processes.read_error)',
  ]);
  assert.match(own.stderr.split('\n').slice(2).join('\n'), /^snapshot 1: 2 processes, \d+ fds, 0 deleted-but-open items; case .*\n$/);
  // With another user's process (pid 1, root's): that one alone is another user's.
  const mixed = runCliAsNobody(caseDir, ['snapshot', '--no-lsof', '--pid', '1', '--pid', String(dumpable.pid), '--json']);
  assert.equal(mixed.code, 3, mixed.stderr);
  assert.deepEqual(pick(JSON.parse(mixed.stdout)), { processes_seen: 2, processes_unreadable: 2, processes_unreadable_own: 1 });
  assert.match(mixed.stderr, /^warning: run as root to read other users' processes: 1 of 2 processes could not be fully read \(see processes\.read_error\)\nwarning: 1 of this user's own processes could not be fully read: the kernel shows the files a process maps \(map_files\)/);
});

test('snapshot --json says which processes could not be fully read and why (unreadable_processes, as processes.read_error), and its warnings are the lines said on stderr (root)', async (t) => {
  const dumpable = await pythonHolder(t, 'named-dumpable', NOBODYS, ['dumpable']);
  const hidden = await pythonHolder(t, 'named-hidden', NOBODYS, ['hidden']);
  const caseDir = dumpable.caseDir;
  fs.chownSync(caseDir, 65534, 65534);
  const result = runCliAsNobody(caseDir, ['snapshot', '--no-lsof', '--pid', String(hidden.pid), '--pid', String(dumpable.pid), '--json']);
  assert.equal(result.code, 3, result.stderr);
  const summary = JSON.parse(result.stdout) as { processes_unreadable: number; unreadable_processes: unknown[]; warnings: string[] };
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  const stored = db.prepare('SELECT pid, comm, read_error FROM processes WHERE read_error IS NOT NULL ORDER BY pid').all() as Array<{ pid: number; comm: string; read_error: string }>;
  db.close();
  // Walked in the order asked for: the one that is not dumpable first.
  assert.deepEqual(summary.unreadable_processes, [hidden.pid, dumpable.pid].map((pid) => stored.find((row) => row.pid === pid)));
  assert.equal(summary.processes_unreadable, 2);
  assert.deepEqual(stored.map(({ pid, comm }) => [pid, comm]), [[dumpable.pid, 'python3'], [hidden.pid, 'python3']].sort((a, b) => Number(a[0]) - Number(b[0])));
  // Refused its map_files alone (root's only), or everything but its stat (not dumpable).
  assert.match(stored.find((row) => row.pid === dumpable.pid)?.read_error ?? '', /^map_files: EPERM on \d+ mappings$/);
  assert.match(stored.find((row) => row.pid === hidden.pid)?.read_error ?? '', /^exe: EACCES; fd: EACCES/);
  // The JSON's warnings are every warning line of stderr, why the exit is 3 included.
  const said = result.stderr.split('\n').filter((line) => line.startsWith('warning: ')).map((line) => line.slice('warning: '.length));
  assert.equal(said.length, 2, result.stderr);
  assert.deepEqual(summary.warnings, said);
});

test('as root, a process that even root cannot read (a sandbox\'s init) is named by PID and comm in the warning line and in unreadable_processes (root)', (t) => {
  const refused = fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number).find((pid) => {
    try {
      fs.readlinkSync(`/proc/${pid}/exe`);
      return false;
    } catch (error) {
      return ['EACCES', 'EPERM'].includes((error as NodeJS.ErrnoException).code ?? '');
    }
  });
  if (refused === undefined) {
    t.skip('every process here is readable by root');
    return;
  }
  const caseDir = makeTempDir('root-refused-case', '/dev/shm');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  const result = runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(refused), '--json']);
  assert.equal(result.code, 3, result.stderr);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  const row = db.prepare('SELECT pid, comm, read_error FROM processes WHERE pid = ?').get(refused) as { pid: number; comm: string; read_error: string };
  db.close();
  const line = `1 of 1 processes could not be fully read even as root (a security module or sandbox refused; see processes.read_error): pid ${refused} (${row.comm})`;
  const summary = JSON.parse(result.stdout) as { unreadable_processes: unknown[]; warnings: string[] };
  assert.deepEqual([summary.unreadable_processes, summary.warnings], [[row], [line]]);
  assert.ok(result.stderr.startsWith(`warning: ${line}\n`), result.stderr);
});

function pick(summary: Record<string, unknown>): Record<string, unknown> {
  return { processes_seen: summary['processes_seen'], processes_unreadable: summary['processes_unreadable'], processes_unreadable_own: summary['processes_unreadable_own'] };
}

test('a file held inside another mount namespace shows that namespace\'s mount point (root)', async (t) => {
  const caseDir = makeTempDir('ns-case');
  const mountPoint = makeTempDir('ns-mnt');
  // A private mount namespace with its own tmpfs: invisible from ours, as in a container.
  const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs nsfs "$1" && exec python3 -c "
import os, time
fd = os.open('$1/inside.log', os.O_CREAT | os.O_RDWR); os.write(fd, b'in a container'); os.unlink('$1/inside.log')
print(os.getpid(), flush=True); time.sleep(60)"`, 'sh', mountPoint], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    child.kill('SIGKILL');
    fs.rmSync(caseDir, { recursive: true, force: true });
    fs.rmSync(mountPoint, { recursive: true, force: true });
  });
  const pid = await firstLine(child);
  assert.equal(fs.readdirSync(mountPoint).length, 0, 'our namespace does not see the tmpfs');
  execFileSync(process.execPath, [cliPath, '--case', caseDir, 'snapshot', '--no-lsof', '--pid', pid], { stdio: 'ignore' });
  const items = JSON.parse(execFileSync(process.execPath, [cliPath, '--case', caseDir, 'list', '--json'], { encoding: 'utf8' })) as LiveItemJson[];
  assert.equal(items.length, 1);
  assert.equal(items[0]?.mount_point, mountPoint);
  assert.equal(items[0]?.fs_type, 'tmpfs');
  assert.equal(items[0]?.path, `${mountPoint}/inside.log`);
});

test('rows stored on a worker thread are the rows stored on the walking thread, lsof included (root)', async (t) => {
  const dir = makeTempDir('store-modes');
  const caseDir = makeTempDir('store-modes-case');
  const holder = await startHolder(dir, [
    ...Array.from({ length: 40 }, (_, index) => ({ kind: 'fd' as const, name: `f${index}`, content: Buffer.from(`file ${index}\n`) })),
    { kind: 'map', name: 'mapped.bin', content: Buffer.alloc(8192, 0x42) },
    { kind: 'memfd', name: 'payload', content: Buffer.from('memfd bytes') },
    { kind: 'tmpfile', content: Buffer.from('never had a name') },
    { kind: 'fd', name: bytesName(HOSTILE), content: Buffer.from('hostile') },
    { kind: 'live', name: 'decoy (deleted)', content: Buffer.from('still linked') },
  ]);
  t.after(async () => {
    await holder.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const kase = openCase(caseDir, { create: true });
  try {
    const inline = await takeSnapshot(kase, { pids: [holder.pid], lsof: true, store: 'inline' });
    const threaded = await takeSnapshot(kase, { pids: [holder.pid], lsof: true, store: 'thread' });
    assert.deepEqual([inline.snapshotId, threaded.snapshotId], [1, 2]);
    assert.deepEqual(threaded.itemsByKind, { fd: 41, map: 1, memfd: 1, tmpfile: 1 });
    assert.deepEqual(threaded.itemsByKind, inline.itemsByKind);
    assert.deepEqual(threaded.crossCheck, inline.crossCheck);
    assert.match(threaded.lsofStatus, /^ran: \d+ records, exit 0$/);
    const rows = (sql: string, snapshotId: number): unknown[] => kase.db.prepare(sql).all(snapshotId);
    for (const sql of [
      `SELECT pid, ppid, start_time, comm, cmdline, exe, mnt_ns, cgroup, read_error FROM processes WHERE snapshot_id = ? ORDER BY pid`,
      `SELECT pid, fd, target, dev, inode, mode, size, nlink, pos, flags, mnt_id FROM fds WHERE snapshot_id = ? ORDER BY pid, fd`,
      `SELECT pid, range, perms, offset, maps_dev, inode, path, dev, size, nlink, stat_error FROM maps WHERE snapshot_id = ? ORDER BY pid, range`,
      `SELECT pid, kind, fd, map_range, path, dev, inode, size, mode, pos, flags, mnt_id, mount_point, fs_type, in_proc, in_lsof, lsof_note FROM items WHERE snapshot_id = ? ORDER BY kind, fd, inode`,
      `SELECT command, pid, fd, type, dev, size, nlink, inode, name, deleted_by_text, item_id IS NOT NULL AS linked FROM lsof_files WHERE snapshot_id = ? ORDER BY line`,
      `SELECT mnt_ns, mnt_id, mount_point, fs_type, source FROM mounts WHERE snapshot_id = ? ORDER BY mnt_ns, mnt_id`,
    ]) {
      const fromThread = rows(sql, 2);
      assert.ok(fromThread.length > 0, sql);
      assert.deepEqual(fromThread, rows(sql, 1), sql);
    }
    // The fds rows hold what the kernel said: a deleted file (nlink 0, its offset from fdinfo) and the
    // live decoy (nlink 1; fdinfo is read for deleted files only).
    const fdRow = kase.db.prepare(`SELECT target, inode, size, nlink, pos, flags IS NOT NULL AS has_flags FROM fds WHERE snapshot_id = 2 AND pid = ? AND fd = ?`);
    const first = holder.files[0];
    const decoy = holder.files.find((file) => file.kind === 'live');
    assert.ok(first !== undefined && first.fd !== null && decoy !== undefined && decoy.fd !== null);
    assert.deepEqual(fdRow.get(holder.pid, first.fd), {
      target: Buffer.concat([Buffer.from(first.pathB64, 'base64'), Buffer.from(' (deleted)')]), inode: first.inode, size: first.size, nlink: 0, pos: first.size, has_flags: 1,
    });
    assert.deepEqual(fdRow.get(holder.pid, decoy.fd), { target: Buffer.from(decoy.pathB64, 'base64'), inode: decoy.inode, size: decoy.size, nlink: 1, pos: null, has_flags: 0 });
    // The lsof command that ran during each snapshot is recorded (one per snapshot).
    const lsofRuns = kase.db.prepare(`SELECT count(*) AS n FROM commands WHERE program = 'lsof' AND exit_code IS NOT NULL`).get() as { n: number };
    assert.equal(lsofRuns.n, 2);
  } finally {
    kase.close();
  }
});

test('a --case that names a file is said as that by the commands that read a case, not as a case not made yet', () => {
  const dir = makeTempDir('casefile', '/dev/shm');
  try {
    const file = path.join(dir, 'case.sqlite');
    fs.writeFileSync(file, 'hi\n');
    for (const args of [['list'], ['report', '--format', 'csv', '--out', '-'], ['recover']]) {
      const result = spawnSync(process.execPath, [cliPath, '--case', file, ...args], { encoding: 'utf8' });
      assert.deepEqual([result.status, result.stderr], [1, `unlinked: ${file} is a file, not a case folder: pass --case the folder that holds case.sqlite\n`], args.join(' '));
    }
    assert.equal(fs.readFileSync(file, 'utf8'), 'hi\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
