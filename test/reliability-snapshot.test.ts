// Issue 9 (live side): snapshots under churn, killed at random moments, and run concurrently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { cliPath } from './helpers/paths.js';
import { makeTempDir, startHolder } from './helpers/holder.js';
import { startChurn } from './helpers/churn.js';
import { wholeHostExit } from './helpers/host.js';
import { waitFor } from './helpers/wait.js';
import { debugfsBuilt } from './helpers/images.js';
import { pythonHolder } from './helpers/pythonHolder.js';
import { openCase } from '../src/store/db.js';
import { MIGRATIONS } from '../src/store/schema.js';
import { takeSnapshot } from '../src/proc/snapshot.js';

const execFileAsync = promisify(execFile);

/** The environment with the snapshot's store forced onto a worker thread or the walking thread. */
function storeEnv(store: 'thread' | 'inline'): NodeJS.ProcessEnv {
  return { ...process.env, UNLINKED_STORE: store };
}

function snapshotArgs(caseDir: string, extra: string[] = []): string[] {
  return [cliPath, '--case', caseDir, 'snapshot', '--no-lsof', ...extra];
}

/** Every stored snapshot is whole: finished, every fd/map/item has its process, counts agree. */
function assertConsistent(databasePath: string): { snapshots: number; items: number } {
  const db = new Database(databasePath, { readonly: true, fileMustExist: true });
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    assert.deepEqual(db.pragma('foreign_key_check'), []);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version === 0) {
      // Killed while the case was being created: the schema's transaction never committed.
      assert.deepEqual(db.prepare(`SELECT name FROM sqlite_master`).all(), [], 'no half schema');
      return { snapshots: 0, items: 0 };
    }
    if (version < (MIGRATIONS.at(-1)?.version ?? 0)) {
      // Killed between two migrations of the new case (each its own transaction; the next open
      // applies the rest): a whole older schema, and no snapshot begun yet.
      assert.equal((db.prepare('SELECT count(*) AS n FROM snapshots').get() as { n: number }).n, 0, 'no snapshot before the schema is whole');
      return { snapshots: 0, items: 0 };
    }
    const unfinished = db.prepare('SELECT count(*) AS n FROM snapshots WHERE finished_at IS NULL').get() as { n: number };
    assert.equal(unfinished.n, 0, 'no half snapshot');
    const orphanItems = db.prepare('SELECT count(*) AS n FROM items i LEFT JOIN processes p ON p.snapshot_id = i.snapshot_id AND p.pid = i.pid WHERE i.in_proc = 1 AND p.pid IS NULL').get() as { n: number };
    assert.equal(orphanItems.n, 0, 'every item has its process row');
    const mismatched = db
      .prepare(`SELECT count(*) AS n FROM snapshots s WHERE s.source = 'proc' AND s.processes_seen != (SELECT count(*) FROM processes p WHERE p.snapshot_id = s.id AND p.thread_of IS NULL)`)
      .get() as { n: number };
    assert.equal(mismatched.n, 0, 'processes_seen matches the stored process rows');
    const notDeleted = db.prepare('SELECT count(*) AS n FROM items WHERE in_proc = 1 AND nlink != 0').get() as { n: number };
    assert.equal(notDeleted.n, 0, 'an item is never a file with a link');
    const snapshots = (db.prepare('SELECT count(*) AS n FROM snapshots').get() as { n: number }).n;
    const items = (db.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n;
    return { snapshots, items };
  } finally {
    db.close();
  }
}

test('100 snapshots while processes churn: no crash, every snapshot consistent (root)', async (t) => {
  const dir = makeTempDir('churn');
  const caseDir = makeTempDir('churn-case');
  const churn = startChurn(dir, 40);
  // A steady holder beside the churn: each of the 100 snapshots must hold exactly its five files.
  const steady = await startHolder(dir, Array.from({ length: 5 }, (_, file) => ({ kind: 'fd' as const, name: `steady-${file}`, content: Buffer.from(`steady ${file}`) })));
  t.after(async () => {
    await steady.stop();
    await churn.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  let vanished = 0;
  // In-process: 100 node start-ups would measure node, not the walk.
  const kase = openCase(caseDir, { create: true });
  try {
    for (let run = 0; run < 100; run++) {
      const summary = await takeSnapshot(kase, {});
      vanished += summary.counts.processesVanished + summary.counts.fdsVanished;
    }
  } finally {
    kase.close();
  }
  const { snapshots, items } = assertConsistent(path.join(caseDir, 'case.sqlite'));
  assert.equal(snapshots, 100);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    const steadyCounts = db.prepare('SELECT count(*) AS n FROM items WHERE pid = ? AND in_proc = 1 GROUP BY snapshot_id').all(steady.pid) as Array<{ n: number }>;
    assert.deepEqual(steadyCounts.map((row) => row.n), Array.from({ length: 100 }, () => 5), 'every snapshot holds the steady holder\'s five files');
  } finally {
    db.close();
  }
  const churnItems = items - 100 * 5;
  assert.ok(churnItems > 0, 'the churn produced deleted-but-open items');
  process.stdout.write(`# churn: 100 snapshots, ${churnItems} churn items stored, ${vanished} processes/fds vanished mid-walk, 0 crashes\n`);
});

test('snapshot killed with SIGKILL at random moments leaves whole snapshots or none (root)', async (t) => {
  const dir = makeTempDir('kill');
  const caseDir = makeTempDir('kill-case');
  // Enough open files that a snapshot takes a while to walk and store.
  const holders = await Promise.all(
    Array.from({ length: 4 }, (_, index) =>
      startHolder(
        dir,
        Array.from({ length: 200 }, (_, file) => ({ kind: 'fd' as const, name: `h${index}-${file}`, content: Buffer.from(`content ${index} ${file}`) })),
      ),
    ),
  );
  t.after(async () => {
    for (const holder of holders) await holder.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const runs = 25;
  let killedMidway = 0;
  for (let run = 0; run < runs; run++) {
    // Half of the runs store on the walking thread, half on a worker thread (src/store/snapshotStore.ts).
    const child = spawn(process.execPath, snapshotArgs(caseDir, ['-q']), { stdio: 'ignore', env: storeEnv(run % 2 === 0 ? 'thread' : 'inline') });
    const delay = Math.floor(Math.random() * 400);
    await new Promise((resolve) => setTimeout(resolve, delay));
    const exited = child.exitCode !== null;
    child.kill('SIGKILL');
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)));
    if (!exited) killedMidway++;
    // Killed before it created the case: nothing at all is a consistent outcome too.
    if (fs.existsSync(path.join(caseDir, 'case.sqlite'))) assertConsistent(path.join(caseDir, 'case.sqlite'));
  }
  // One last, uninterrupted snapshot: the case still works after all those kills.
  const child = spawn(process.execPath, snapshotArgs(caseDir, ['-q']), { stdio: 'ignore' });
  assert.equal(await new Promise((resolve) => child.once('exit', resolve)), wholeHostExit());
  const { snapshots } = assertConsistent(path.join(caseDir, 'case.sqlite'));
  assert.ok(snapshots >= 1 && snapshots <= runs + 1);
  process.stdout.write(`# interruption: ${runs} SIGKILLs (${killedMidway} while running), ${snapshots} whole snapshots kept, 0 half snapshots\n`);
});

test('two snapshots on the same case at once wait for each other (root)', async (t) => {
  const caseDir = makeTempDir('concurrent-case');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  const results = await Promise.all(
    Array.from({ length: 4 }, (_, index) =>
      execFileAsync(process.execPath, snapshotArgs(caseDir, ['--json', '-q']), { env: storeEnv(index % 2 === 0 ? 'thread' : 'inline') }).catch((error: { code: number; stdout: string }) => {
        // Partly done only where root cannot read some process here.
        if (error.code === wholeHostExit() && error.code !== 0) return { stdout: error.stdout };
        throw error;
      }),
    ),
  );
  const ids = results.map(({ stdout }) => (JSON.parse(stdout) as { snapshot_id: number }).snapshot_id).sort();
  assert.deepEqual(ids, [1, 2, 3, 4]);
  assertConsistent(path.join(caseDir, 'case.sqlite'));
});

test('SIGTERM stops a snapshot cleanly with a message', async (t) => {
  const caseDir = makeTempDir('term-case');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  const child = spawn(process.execPath, snapshotArgs(caseDir), { stdio: ['ignore', 'ignore', 'pipe'], env: storeEnv('thread') });
  let stderr = '';
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  // Signal it once it is at work (the case database is open), not while node itself starts.
  await waitFor(() => child.exitCode !== null || holdsFile(child.pid!, path.join(caseDir, 'case.sqlite')), 10_000);
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  if (code === 0) return; // it finished before the signal: nothing to check but consistency
  assert.equal(code, 1);
  assert.match(stderr, /interrupted by SIGTERM/);
  if (fs.existsSync(path.join(caseDir, 'case.sqlite'))) assertConsistent(path.join(caseDir, 'case.sqlite'));
});

function holdsFile(pid: number, file: string): boolean {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === file;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

test('a case on a full file system: the snapshot fails with one line, nothing half stored, on either store thread (root)', async (t) => {
  const dir = makeTempDir('full');
  const mountPoint = makeTempDir('full-mnt');
  // Enough held files with long names that their rows cannot fit beside the schema.
  const holders = await Promise.all(
    Array.from({ length: 8 }, (_, index) =>
      startHolder(dir, Array.from({ length: 400 }, (_, file) => ({ kind: 'fd' as const, name: `${'n'.repeat(180)}-${index}-${file}`, content: Buffer.from('x') }))),
    ),
  );
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'unlinked-full', mountPoint]);
  t.after(async () => {
    for (const holder of holders) await holder.stop();
    execFileSync('umount', [mountPoint]);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(mountPoint, { recursive: true, force: true });
  });
  for (const store of ['inline', 'thread'] as const) {
    const caseDir = path.join(mountPoint, store);
    const pids = holders.flatMap((holder) => ['--pid', String(holder.pid)]);
    const result = await execFileAsync(process.execPath, snapshotArgs(caseDir, pids), { env: storeEnv(store) }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );
    assert.equal(result.code, 1, `${store}: ${result.stderr}`);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0] ?? '', /^unlinked: cannot store the snapshot in .*\/case\.sqlite: database or disk is full$/);
    const { snapshots, items } = assertConsistent(path.join(caseDir, 'case.sqlite'));
    assert.deepEqual({ snapshots, items }, { snapshots: 0, items: 0 }, store);
    fs.rmSync(caseDir, { recursive: true, force: true });
  }
});

for (const store of ['inline', 'thread'] as const) {
  test(`a snapshot that waited for another writer of the case is dated when its walk began, not when it started waiting (${store} store)`, async (t) => {
    const caseDir = makeTempDir('dated-case', '/dev/shm');
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    t.after(() => {
      sleeper.kill('SIGKILL');
      fs.rmSync(caseDir, { recursive: true, force: true });
    });
    const kase = openCase(caseDir, { create: true });
    kase.db.exec('BEGIN IMMEDIATE');
    const snapshot = execFileAsync(process.execPath, [cliPath, '--case', caseDir, 'snapshot', '--pid', String(sleeper.pid), '--no-lsof', '--json', '-q'], { env: storeEnv(store) });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const released = Date.now();
    kase.db.exec('COMMIT');
    kase.close();
    const { stdout } = await snapshot;
    const id = (JSON.parse(stdout) as { snapshot_id: number }).snapshot_id;
    const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
    const row = db.prepare(`SELECT started_at, finished_at FROM snapshots WHERE id = ?`).get(id) as { started_at: string; finished_at: string };
    db.close();
    assert.ok(Date.parse(row.started_at) >= released, `started_at ${row.started_at} is before the lock was let go (${new Date(released).toISOString()})`);
    assert.ok(Date.parse(row.finished_at) >= Date.parse(row.started_at));
  });
}

test('a command that must wait for another writer of the case says so first, naming the holder from /proc/locks; with the lock free it says nothing', async (t) => {
  const caseDir = makeTempDir('lock-wait-case', '/dev/shm');
  const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
  t.after(() => {
    sleeper.kill('SIGKILL');
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const args = (command: string[]): string[] => [cliPath, '--case', caseDir, ...command];
  const free = await execFileAsync(process.execPath, args(['snapshot', '--pid', String(sleeper.pid), '--no-lsof']));
  assert.doesNotMatch(free.stderr, /waiting/);
  const kase = openCase(caseDir, { create: false });
  kase.db.exec('BEGIN IMMEDIATE');
  const waiting = ['snapshot', '--pid', String(sleeper.pid), '--no-lsof'];
  const snapshot = execFileAsync(process.execPath, args(waiting));
  const recover = execFileAsync(process.execPath, args(['recover']));
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  kase.db.exec('COMMIT');
  kase.close();
  // This process (the test) held the lock: its pid and command line are named.
  const said = new RegExp(`^waiting for the case's write lock, held by pid ${process.pid} \\(.*node.*\\) \\(up to 420 s\\)$`);
  for (const run of await Promise.all([snapshot, recover])) assert.match(run.stderr.split('\n')[0] ?? '', said, run.stderr);
  const quiet = await execFileAsync(process.execPath, args([...waiting, '-q']));
  assert.equal(quiet.stderr, '');
});

test('a wait for the write lock that begins after the case was opened (an image scan storing while another program writes) is said too (root)', async (t) => {
  const dir = makeTempDir('lock-wait-later', '/dev/shm');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const caseDir = path.join(dir, 'case');
  const image = debugfsBuilt(dir, ['mkfs.ext4'], { kept: Buffer.from('kept\n') }, '');
  await execFileAsync(process.execPath, [cliPath, '--case', caseDir, 'image', 'scan', image, '-q']);
  const database = path.join(caseDir, 'case.sqlite');
  const probe = new Database(database, { readonly: true });
  const recorded = (): number => probe.prepare('SELECT count(*) FROM commands').pluck().get() as number;
  const before = recorded();
  const scan = execFileAsync(process.execPath, [cliPath, '--case', caseDir, 'image', 'scan', image]);
  // Once the scan has run its first tool (recorded), the case is open: the lock is taken from then on.
  await waitFor(() => recorded() > before, 30_000, 'the scan running its first tool');
  probe.close();
  const kase = openCase(caseDir, { create: false });
  kase.db.exec('BEGIN IMMEDIATE');
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  kase.db.exec('COMMIT');
  kase.close();
  const { stderr } = await scan;
  assert.match(stderr, new RegExp(`^waiting for the case's write lock, held by pid ${process.pid} \\(.*node.*\\) \\(up to 420 s\\)$`, 'm'));
});

test('opening a case made by an older unlinked waits for another writer before its migration, and says so, also for list', async (t) => {
  const caseDir = makeTempDir('lock-wait-migrate', '/dev/shm');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  // A case of schema 11 (an older unlinked's: later migrations come after it), as the unlinked of that version left it.
  const older = new Database(path.join(caseDir, 'case.sqlite'));
  older.pragma('journal_mode = WAL');
  for (const migration of MIGRATIONS.filter((step) => step.version <= 11)) older.exec(migration.sql);
  older.pragma('user_version = 11');
  older.exec('BEGIN IMMEDIATE');
  // A case with no snapshot: list says so (exit 1), after its migration.
  const list = execFileAsync(process.execPath, [cliPath, '--case', caseDir, 'list', '--json']).catch((error: { code: number; stderr: string }) => error);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  older.exec('COMMIT');
  older.close();
  const { code, stderr } = (await list) as { code?: number; stderr: string };
  assert.equal(code, 1);
  const [waited, said, ...rest] = stderr.split('\n');
  assert.match(waited ?? '', new RegExp(`^waiting for the case's write lock, held by pid ${process.pid} \\(.*node.*\\) \\(up to 420 s\\)$`));
  assert.deepEqual([said, ...rest], [`unlinked: the case ${caseDir} holds no snapshot yet: run \`unlinked snapshot\``, '']);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.at(-1)?.version);
  db.close();
});

test('captures a killed snapshot or import left in lsof/ (no row names them, their PID gone) are removed by the next snapshot; those a row names, or of a running PID, are kept (root)', async (t) => {
  const caseDir = makeTempDir('capture-leftovers-case', '/dev/shm');
  const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
  t.after(() => {
    sleeper.kill('SIGKILL');
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  await execFileAsync(process.execPath, [cliPath, '--case', caseDir, 'snapshot', '--pid', String(sleeper.pid), '--json', '-q']);
  const lsofDir = path.join(caseDir, 'lsof');
  const named = fs.readdirSync(lsofDir);
  assert.equal(named.length, 1, 'the first snapshot\'s own capture');
  // A PID that runs no process (the kernel's pid_max is at most 4194304).
  const gone = 4194304 + 1;
  const running = sleeper.pid ?? 0;
  const leftovers = [`live-20261205T000000000Z-${gone}.F0.txt`, `.import-${gone}-1.partial`];
  const kept = [`live-20261205T000000000Z-${running}.F0.txt`, `.import-${running}-1.partial`, 'notes.txt'];
  for (const name of [...leftovers, ...kept]) fs.writeFileSync(path.join(lsofDir, name), 'p1\n');
  await execFileAsync(process.execPath, [cliPath, '--case', caseDir, 'snapshot', '--pid', String(sleeper.pid), '--json', '-q']);
  const after = fs.readdirSync(lsofDir);
  for (const name of leftovers) assert.ok(!after.includes(name), `${name} removed`);
  for (const name of [...kept, ...named]) assert.ok(after.includes(name), `${name} kept`);
  assert.equal(after.length, kept.length + named.length + 1, 'and the second snapshot\'s own capture');
});

/**
 * argv[2] processes (forked by one python3), each holding argv[3] deleted files of argv[1]; each child
 * dies with its parent (PR_SET_PDEATHSIG), so killing the parent the test started ends them all. The
 * parent prints its PID once every child holds its files.
 */
const MANY_HOLDERS = String.raw`
import os, sys, signal, ctypes
libc = ctypes.CDLL(None)
d, n, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r, w = os.pipe()
for p in range(n):
    if os.fork() == 0:
        libc.prctl(1, 9)
        os.close(r)
        held = []
        for i in range(k):
            name = os.path.join(d, 'p%d-%d' % (p, i))
            f = open(name, 'wb'); f.write(b'x'); f.flush(); os.unlink(name); held.append(f)
        os.write(w, b'.')
        signal.pause()
        os._exit(0)
os.close(w)
ready = 0
while ready < n:
    ready += len(os.read(r, 4096))
print(os.getpid(), flush=True)
signal.pause()
`;

function childrenOf(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function commOf(pid: number): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'latin1').trim();
  } catch {
    return null;
  }
}

function snapshotRows(caseDir: string): { snapshots: number; items: number } {
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return {
      snapshots: (db.prepare('SELECT count(*) AS n FROM snapshots').get() as { n: number }).n,
      items: (db.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n,
    };
  } finally {
    db.close();
  }
}

/** The CLI in a process group of its own (as a terminal's foreground job), to be sent a Ctrl-C as a terminal sends it. */
function startInGroup(args: readonly string[], env: NodeJS.ProcessEnv = process.env): { child: ReturnType<typeof spawn>; output: { stdout: string; stderr: string }; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
  const output = { stdout: '', stderr: '' };
  child.stdout?.on('data', (data: Buffer) => (output.stdout += data.toString()));
  child.stderr?.on('data', (data: Buffer) => (output.stderr += data.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, output, exited };
}

for (const store of ['inline', 'thread'] as const) {
  test(`a Ctrl-C to the process group during a snapshot (lsof dies of it too) stores nothing and says so, exit 1; lsof's capture removed (${store} store) (root)`, async (t) => {
    const { caseDir, pid } = await pythonHolder(t, `ctrlc-${store}`, MANY_HOLDERS, ['300', '30']);
    const pids = childrenOf(pid);
    assert.equal(pids.length, 300);
    const run = startInGroup(['--case', caseDir, 'snapshot', '--json', ...pids.flatMap((held) => ['--pid', String(held)])], storeEnv(store));
    t.after(() => run.child.kill('SIGKILL'));
    // In the walk (its working directory is a /proc/PID/fd it reads) while lsof runs: the snapshot
    // cannot be committed before lsof's capture is in.
    await waitFor(() => run.child.exitCode !== null || (inWalk(run.child.pid!) && childrenOf(run.child.pid!).some((kid) => commOf(kid) === 'lsof')), 20_000, 'lsof running beside the walk');
    process.kill(-run.child.pid!, 'SIGINT');
    const code = await run.exited;
    assert.deepEqual(snapshotRows(caseDir), { snapshots: 0, items: 0 });
    assert.equal(run.output.stdout, '');
    assert.equal(run.output.stderr, 'unlinked: interrupted by SIGINT; the snapshot under way is not stored (rolled back); nothing of this run is in the case\n');
    assert.equal(code, 1);
    assert.deepEqual(fs.existsSync(path.join(caseDir, 'lsof')) ? fs.readdirSync(path.join(caseDir, 'lsof')) : [], []);
  });
}

test('SIGINT to unlinked alone during the /proc walk stops it within a fraction of the walk, nothing stored, exit 1 (root)', async (t) => {
  const { caseDir, pid } = await pythonHolder(t, 'walk-int', MANY_HOLDERS, ['1000', '20']);
  const pids = childrenOf(pid);
  assert.equal(pids.length, 1000);
  const args = ['snapshot', '--no-lsof', ...pids.flatMap((held) => ['--pid', String(held)])];
  // A whole walk of them, for the measure.
  const whole = makeTempDir('walk-int-whole', '/dev/shm');
  t.after(() => fs.rmSync(whole, { recursive: true, force: true }));
  const began = Date.now();
  const full = spawn(process.execPath, [cliPath, '--case', whole, ...args], { stdio: 'ignore', env: storeEnv('inline') });
  let walkStarted = 0;
  await waitFor(() => full.exitCode !== null || inWalk(full.pid!), 20_000, 'the walk');
  walkStarted = Date.now();
  await new Promise((resolve) => full.once('close', resolve));
  const walkMs = Date.now() - walkStarted;
  assert.equal(snapshotRows(whole).items, 20_000, `a whole snapshot (${Date.now() - began} ms)`);
  const run = startInGroup(['--case', caseDir, ...args], storeEnv('inline'));
  t.after(() => run.child.kill('SIGKILL'));
  // In the walk: its working directory is a /proc/PID/fd it walks.
  await waitFor(() => run.child.exitCode !== null || inWalk(run.child.pid!), 20_000, 'the walk');
  const sent = Date.now();
  run.child.kill('SIGINT');
  assert.equal(await run.exited, 1);
  const tookMs = Date.now() - sent;
  assert.equal(run.output.stdout, '');
  assert.equal(run.output.stderr, 'unlinked: interrupted by SIGINT; the snapshot under way is not stored (rolled back); nothing of this run is in the case\n');
  assert.deepEqual(snapshotRows(caseDir), { snapshots: 0, items: 0 });
  assert.ok(tookMs < walkMs / 2, `stopped ${tookMs} ms after the signal; a whole walk takes ${walkMs} ms`);
  process.stdout.write(`# SIGINT during the walk of 1,000 processes (20,000 fds, walk ${walkMs} ms): stopped in ${tookMs} ms, nothing stored\n`);
});

/** Whether the process walks /proc now: its working directory is a /proc/PID/fd it reads. */
function inWalk(pid: number): boolean {
  return tryReadlink(`/proc/${pid}/cwd`)?.startsWith('/proc/') === true;
}

function tryReadlink(link: string): string | null {
  try {
    return fs.readlinkSync(link);
  } catch {
    return null;
  }
}
