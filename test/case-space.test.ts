// A small case disk (a USB stick, a tmpfs): a copy that cannot fit is refused before it starts, a
// sparse file takes only its data, and a file that grows past the room while it is followed stops
// with 4 MiB left, so the case database still records every outcome (it used to fail SQLITE_FULL,
// exit 1, with the row left "interrupted"). Real processes hold the files; the case is on a tmpfs
// of 16 MiB mounted by the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { json, runCli, runCliAsNobody } from './helpers/cli.js';
import { makeTempDir } from './helpers/holder.js';
import { cliPath } from './helpers/paths.js';
import { mountTmpfs } from './helpers/tmpfs.js';
import { debugfsBuilt } from './helpers/images.js';
import type { RecoveredJson } from '../src/recover/recover.js';
import { openCase } from '../src/store/db.js';
import { caseSummary } from '../src/report/summary.js';
import { appendSha256Sums, tryAppendSha256Sums } from '../src/util/sha256sums.js';

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

test('recover onto a 16 MiB case disk: a 40 MiB deleted file is refused before a byte is written; a 256 MiB sparse memfd and a 40 MiB file of 4 KiB specks are copied whole in their data blocks, exit 3 (root)', async (t) => {
  const { caseDir, dir } = caseOnSmallDisk(t, 'space-refuse');
  const dense = crypto.randomBytes(40 * MiB);
  fs.writeFileSync(path.join(dir, 'dense.bin'), dense);
  const island = Buffer.alloc(64 << 10, 0x78);
  // 4 KiB of data every 64 KiB over 40 MiB: 2.6 MB of blocks, written as such (holes are found by 4 KiB).
  const speckled = Buffer.alloc(40 * MiB);
  for (let at = 0; at < speckled.length; at += 64 << 10) crypto.randomFillSync(speckled, at, 4096);
  const speckledFd = fs.openSync(path.join(dir, 'speckled.bin'), 'wx');
  try {
    fs.ftruncateSync(speckledFd, speckled.length);
    for (let at = 0; at < speckled.length; at += 64 << 10) fs.writeSync(speckledFd, speckled, at, 4096, at);
  } finally {
    fs.closeSync(speckledFd);
  }
  const holder = await holding(t, dir, [
    "f = open(os.path.join(d, 'dense.bin'), 'rb')",
    "os.unlink(os.path.join(d, 'dense.bin'))",
    "s = open(os.path.join(d, 'speckled.bin'), 'rb')",
    "os.unlink(os.path.join(d, 'speckled.bin'))",
    "m = os.memfd_create('holes')",
    `os.ftruncate(m, ${256 * MiB})`,
    `os.pwrite(m, b'x' * ${island.length}, ${100 * MiB})`,
  ].join('\n'));

  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  const result = runCli(caseDir, ['recover', '--json']);
  assert.equal(result.code, 3, result.stderr);
  const recovered = json<RecoveredJson[]>(result);
  assert.deepEqual(recovered.map((record) => record.kind).sort(), ['fd', 'fd', 'memfd']);
  const items = json<Array<{ id: number; path: string }>>(runCli(caseDir, ['list', '--json']));
  const itemOf = (name: string) => items.find((item) => item.path.endsWith(`/${name}`))?.id ?? assert.fail(`no item for ${name}`);
  const denseCopy = recovered.find((record) => record.item_id === itemOf('dense.bin'));
  const speckledCopy = recovered.find((record) => record.item_id === itemOf('speckled.bin'));
  const memfdCopy = recovered.find((record) => record.kind === 'memfd');

  assert.equal(speckledCopy?.complete, true, speckledCopy?.note ?? '');
  assert.equal(speckledCopy?.sha256, crypto.createHash('sha256').update(speckled).digest('hex'));
  const speckledOut = speckledCopy?.output ?? assert.fail('the speckled file has a copy');
  assert.ok(fs.statSync(speckledOut).blocks * 512 <= 3 * MiB, `its data blocks only (${fs.statSync(speckledOut).blocks * 512} bytes)`);

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
  assert.deepEqual(fs.readdirSync(path.join(caseDir, 'recovered')).sort(), ['SHA256SUMS', path.basename(output), path.basename(speckledOut)].sort(), 'nothing written for the refused file');

  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    const rows = db.prepare('SELECT complete, note FROM recoveries ORDER BY id').all() as Array<{ complete: number; note: string | null }>;
    assert.equal(rows.length, 3);
    assert.ok(rows.every((row) => !(row.note ?? '').startsWith('interrupted')), 'every row was closed');
  } finally {
    db.close();
  }
});

test('recover --follow onto a 16 MiB case disk: two files that grow past the room side by side stop with 4 MiB left, each kept copy an exact prefix of its file, the case database still works (root)', async (t) => {
  const { caseDir, dir } = caseOnSmallDisk(t, 'space-follow');
  // 1 MiB each at first (they fit); once both first copies are in recovered/ (however slow the
  // machine), 20 MiB more each, 1 MiB every 50 ms, while both are followed.
  const recovered = path.join(caseDir, 'recovered');
  const holder = await holding(t, dir, [
    "logs = [open(os.path.join(d, name), 'wb') for name in ('a.log', 'b.log')]",
    "for name in ('a.log', 'b.log'): os.unlink(os.path.join(d, name))",
    // b.log with a hole (60 KiB of zeros, not written to the copy): its kept copy is sparse.
    `logs[0].write(os.urandom(${MiB})); logs[1].write(os.urandom(4096) + bytes(61440) + os.urandom(${MiB - 65536}))`,
    'for g in logs: g.flush()',
    'import threading',
    `def copied():\n    try:\n        names = os.listdir(${JSON.stringify(recovered)})\n    except OSError:\n        return False\n    return all(any(n.endswith(log) for n in names) for log in ('-a.log', '-b.log'))`,
    `def grow():\n    while not copied(): time.sleep(0.02)\n    time.sleep(0.2)\n    for _ in range(20):\n        for g in logs: g.write(os.urandom(${MiB})); g.flush()\n        time.sleep(0.05)`,
    'threading.Thread(target=grow, daemon=True).start()',
  ].join('\n'));

  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  const result = runCli(caseDir, ['recover', '--follow', '--follow-timeout', '30', '--json']);
  assert.equal(result.code, 3, result.stderr);
  const copies = json<RecoveredJson[]>(result);
  assert.equal(copies.length, 2);
  assert.ok(freeOn(caseDir) >= KEEP_FREE, `at least 4 MiB left free (${freeOn(caseDir)})`);
  let kept = 0;
  for (const copy of copies) {
    assert.equal(copy.complete, false);
    assert.match(copy.note ?? '', /^copy failed: the case's disk is full: \d+ bytes free \(4 MiB are kept for the case database\): make room, or use a case on a larger disk; \d+ bytes of it were written to .+ before that \(kept; its sha256 is that of those bytes\)$/);
    const output = copy.output ?? assert.fail('what was copied is kept');
    const written = fs.readFileSync(output);
    assert.equal(copy.bytes, written.length);
    assert.equal(copy.sha256, crypto.createHash('sha256').update(written).digest('hex'), 'the kept bytes are hashed');
    // The file as its holder has it now, read through its fd: the copy is its first bytes, no gap.
    const source = fs.readFileSync(`/proc/${holder.pid}/fd/${copy.fd}`);
    assert.ok(written.equals(source.subarray(0, written.length)), `${output} is an exact prefix of fd ${copy.fd}`);
    kept += written.length;
  }
  assert.ok(kept >= 2 * MiB && kept <= 12 * MiB, `the two copies stopped part-way, together within the room (${kept} bytes)`);

  // The case still takes rows: every recovery row closed, another snapshot and the listing work.
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    assert.deepEqual(db.prepare("SELECT count(*) FROM recoveries WHERE note LIKE 'interrupted%'").pluck().get(), 0);
    // A failed copy keeps its record: the size it started from, that it was followed, that holes were left.
    const rows = db.prepare(`SELECT i.path, r.complete, r.size_at_start, r.sparse, r.followed FROM recoveries r JOIN items i ON i.id = r.item_id ORDER BY i.path`).raw().all() as Array<[Buffer, number, number, number, number]>;
    assert.deepEqual(rows.map(([name, ...rest]) => [path.basename(name.toString()), ...rest]), [['a.log', 0, MiB, 0, 1], ['b.log', 0, MiB, 1, 1]]);
  } finally {
    db.close();
  }
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  assert.equal(runCli(caseDir, ['list', '--json']).code, 0);
});

test('recover into a file system without a size limit (ramfs: statfs says 0 blocks): nothing is refused for space (root)', async (t) => {
  const disk = makeTempDir('space-ramfs');
  execFileSync('mount', ['-t', 'ramfs', 'ramfs', disk]);
  t.after(() => {
    execFileSync('umount', [disk]);
    fs.rmSync(disk, { recursive: true, force: true });
  });
  const dir = makeTempDir('space-ramfs-files');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const content = crypto.randomBytes(1500);
  fs.writeFileSync(path.join(dir, 'small.log'), content);
  const holder = await holding(t, dir, "f = open(os.path.join(d, 'small.log'), 'rb')\nos.unlink(os.path.join(d, 'small.log'))");
  const caseDir = path.join(disk, 'case');
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  const result = runCli(caseDir, ['recover', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const [copy] = json<RecoveredJson[]>(result);
  assert.deepEqual([copy?.complete, copy?.sha256], [true, crypto.createHash('sha256').update(content).digest('hex')]);
});

test('recovered/ on a 4 MiB disk of its own: a 4 MiB file is refused (64 KiB are kept for SHA256SUMS), the small one copied and listed, exit 3; the refusal counts as not copied (root)', async (t) => {
  const caseDir = makeTempDir('space-own-case', '/dev/shm');
  const recovered = path.join(caseDir, 'recovered');
  fs.mkdirSync(recovered);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0755', 'tmpfs', recovered]);
  t.after(() => {
    execFileSync('umount', [recovered]);
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const dir = makeTempDir('space-own-files');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const exact = crypto.randomBytes(4 * MiB);
  const small = crypto.randomBytes(10);
  fs.writeFileSync(path.join(dir, 'exact.bin'), exact);
  fs.writeFileSync(path.join(dir, 'small.bin'), small);
  const holder = await holding(t, dir, [
    "held = [open(os.path.join(d, name), 'rb') for name in ('exact.bin', 'small.bin')]",
    "for name in ('exact.bin', 'small.bin'): os.unlink(os.path.join(d, name))",
  ].join('\n'));
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  const result = runCli(caseDir, ['recover', '--json']);
  assert.equal(result.code, 3, result.stderr);
  const copies = json<RecoveredJson[]>(result);
  const exactCopy = copies.find((copy) => copy.fd === 3);
  const smallCopy = copies.find((copy) => copy.fd === 4);
  assert.match(exactCopy?.note ?? '', /^not copied: the copy needs 4194304 bytes and the case's file system has \d+ bytes free \(64 KiB are kept for SHA256SUMS\)/);
  assert.deepEqual([smallCopy?.complete, smallCopy?.sha256, smallCopy?.note], [true, crypto.createHash('sha256').update(small).digest('hex'), null]);
  assert.equal(execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: recovered, encoding: 'utf8' }), `${path.basename(smallCopy?.output ?? '')}: OK\n`);
  const kase = openCase(caseDir, { create: false });
  try {
    const summary = caseSummary(kase.db);
    assert.deepEqual([summary.recoveredComplete, summary.recoveredIncomplete, summary.notRecovered], [1, 0, 1]);
  } finally {
    kase.close();
  }
});

test('SHA256SUMS gets a whole line or none: a disk full mid-line is cut back, a part left before is cut off, a symbolic link at its name is not followed (root)', (t) => {
  const dir = fs.mkdtempSync(path.join('/tmp', 'unlinked-sums-'));
  // One page of tmpfs: the file fills it, and a line that crosses into a second page is written in part.
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4k', 'tmpfs', dir]);
  t.after(() => {
    execFileSync('umount', [dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const sums = path.join(dir, 'SHA256SUMS');
  const hash = 'a'.repeat(64);
  const filler = `${'b'.repeat(64)}  ${'f'.repeat(4096 - 64 - 2 - 1 - 20)}\n`;
  fs.writeFileSync(sums, filler);
  const before = fs.readFileSync(sums);
  assert.match(tryAppendSha256Sums(dir, hash, '/x/copy') ?? '', /^not listed in SHA256SUMS \((ENOSPC|only 20 of its 71 bytes were written)/);
  assert.ok(fs.readFileSync(sums).equals(before), 'no part of the line is left');
  // A part an earlier run left (killed, or its cut-back failed) is cut off before the next line.
  fs.writeFileSync(sums, `${hash}  one\n${hash.slice(0, 20)}`);
  appendSha256Sums(dir, hash, '/x/two');
  assert.equal(fs.readFileSync(sums, 'utf8'), `${hash}  one\n${hash}  two\n`);
  fs.writeFileSync(sums, hash.slice(0, 10));
  appendSha256Sums(dir, hash, '/x/three');
  assert.equal(fs.readFileSync(sums, 'utf8'), `${hash}  three\n`);
  // Planted as a link to elsewhere: refused (ELOOP), the target untouched.
  fs.rmSync(sums);
  const elsewhere = path.join(dir, 'elsewhere');
  fs.writeFileSync(elsewhere, '');
  fs.symlinkSync(elsewhere, sums);
  assert.match(tryAppendSha256Sums(dir, hash, '/x/four') ?? '', /^not listed in SHA256SUMS \(ELOOP/);
  assert.equal(fs.readFileSync(elsewhere, 'utf8'), '');
});

test('a case folder that cannot be made (a file in the way) is one line saying so, not an internal error', (t) => {
  const caseDir = makeTempDir('case-folder', '/dev/shm');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(process.pid)]).code, 0);
  fs.writeFileSync(path.join(caseDir, 'recovered'), 'in the way');
  fs.writeFileSync(path.join(caseDir, 'lsof'), 'in the way');
  const recover = runCli(caseDir, ['recover']);
  assert.deepEqual([recover.code, recover.stderr], [1, `unlinked: cannot create the case folder ${caseDir}/recovered: a file of that name is in the way\n`]);
  const capture = path.join(caseDir, 'capture.txt');
  fs.writeFileSync(capture, 'p1\0cx\0\nf3\0tREG\0n/x\0\n');
  const imported = runCli(caseDir, ['lsof', 'import', capture]);
  assert.deepEqual([imported.code, imported.stderr], [1, `unlinked: cannot create the case folder ${caseDir}/lsof: a file of that name is in the way\n`]);
});

test('another program\'s SQLite database named case.sqlite is not made into a case, and not changed; a case folder that cannot be written says so (root)', (t) => {
  const caseDir = makeTempDir('case-foreign', '/dev/shm');
  t.after(() => {
    spawnSync('chattr', ['-i', caseDir]);
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const file = path.join(caseDir, 'case.sqlite');
  const foreign = new Database(file);
  foreign.exec('CREATE TABLE foo (x)');
  foreign.close();
  const before = fs.readFileSync(file);
  for (const args of [['list', '--json'], ['snapshot', '--no-lsof', '--pid', String(process.pid)]]) {
    const result = runCli(caseDir, args);
    assert.deepEqual([result.code, result.stderr], [1, `unlinked: ${file} is an SQLite database of another program (1 schema objects of its own, no unlinked schema): not a case; nothing was changed\n`], args.join(' '));
  }
  assert.ok(fs.readFileSync(file).equals(before), 'the foreign database is unchanged');
  // An immutable case folder: a command that writes says the folder cannot be written.
  fs.rmSync(file);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(process.pid)]).code, 0);
  execFileSync('chattr', ['+i', caseDir]);
  const refused = runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(process.pid)]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^unlinked: cannot open case database .*case\.sqlite: its folder .* cannot be written \(read-only media, an immutable folder, or permissions\), and this command writes to the case\n$/);
});

test('a case this user cannot reach is said as that, not as missing, and no second case is started; one whose folder it may not write, left with a WAL, says so, not read-only media (root)', (t) => {
  const parent = makeTempDir('case-unreachable', '/dev/shm');
  t.after(() => fs.rmSync(parent, { recursive: true, force: true }));
  fs.chmodSync(parent, 0o755);
  const hidden = path.join(parent, 'priv');
  fs.mkdirSync(hidden, { mode: 0o700 });
  const caseDir = path.join(hidden, 'c');
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(process.pid)]).code, 0);
  const made = fs.readdirSync(caseDir).sort();
  const unreachable = `unlinked: cannot reach the case ${caseDir}: permission denied: this user, nobody (uid 65534), may not enter ${hidden} (owned by root (uid 0), mode 0700); ` +
    'nothing was changed: run as a user who may (root)\n';
  for (const args of [['list'], ['snapshot', '--no-lsof', '--pid', String(process.pid)], ['recover'], ['report', '--format', 'csv', '--out', '-']]) {
    const result = runCliAsNobody(caseDir, args);
    assert.deepEqual([result.code, result.stderr, result.stdout], [1, unreachable, ''], args.join(' '));
  }
  assert.deepEqual(fs.readdirSync(caseDir).sort(), made);
  // A case in a folder only root may write, whose database root holds open (its -wal file is there).
  const rootsCase = path.join(parent, 'roots');
  assert.equal(runCli(rootsCase, ['snapshot', '--no-lsof', '--pid', String(process.pid)]).code, 0);
  const file = path.join(rootsCase, 'case.sqlite');
  const open = new Database(file);
  try {
    open.prepare(`UPDATE snapshots SET host = 'written while held open'`).run();
    assert.ok(fs.statSync(`${file}-wal`).size > 0);
    const result = runCliAsNobody(rootsCase, ['list', '--json']);
    assert.deepEqual([result.code, result.stderr], [1,
      `unlinked: ${file} is not writable by nobody (uid 65534) (its folder ${rootsCase} is owned by root (uid 0), mode 0755) and was not closed cleanly (${file}-wal holds part of it): ` +
        'run as its owner (or root), or copy the case folder where this user may write and open it there\n']);
  } finally {
    open.close();
  }
  // Closed cleanly: read from a copy in memory, as a case on read-only media.
  assert.equal(runCliAsNobody(rootsCase, ['list', '--json']).code, 0);
});

test('a case database this user may not write, in a folder it may: refused as the case is opened, before any walk, naming the file and its owner; list reads it from memory (root)', (t) => {
  const caseDir = makeTempDir('case-rootdb', '/dev/shm');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(process.pid)]).code, 0);
  fs.chownSync(caseDir, 65534, 65534);
  const file = path.join(caseDir, 'case.sqlite');
  const mode = (fs.statSync(file).mode & 0o7777).toString(8).padStart(4, '0');
  const refused = `unlinked: cannot write the case database ${file}: permission denied: it is owned by root (uid 0), mode ${mode}, and this user, nobody (uid 65534), may not write it; ` +
    'this command writes to the case, nothing was changed: run as its owner (or root)\n';
  // The whole of stderr: no walk ran (it warns of the processes nobody cannot read).
  for (const args of [['snapshot', '--no-lsof'], ['triage', '--no-lsof', '--json'], ['recover', '--json']]) {
    const result = runCliAsNobody(caseDir, args);
    assert.deepEqual([result.code, result.stderr, result.stdout], [1, refused, ''], args.join(' '));
  }
  const listed = runCliAsNobody(caseDir, ['list', '--json']);
  assert.deepEqual([listed.code, listed.stdout], [0, '[]\n'], listed.stderr);
  // Nothing of nobody's was left in the case (no -wal or -shm of a read-write open).
  assert.deepEqual(fs.readdirSync(caseDir), ['case.sqlite']);
});

test('a case folder under /proc or /sys is one line, at once (node\'s recursive mkdir loops for ever under /proc)', () => {
  for (const [where, why] of [['/proc/unlinked-case', 'no folder can be made there (a kernel file system such as /proc)'], ['/sys/kernel/unlinked-case', 'not permitted (an immutable folder, or a kernel file system such as /sys)']] as const) {
    const result = spawnSync(process.execPath, [cliPath, '--case', where, 'snapshot', '--no-lsof', '--pid', String(process.pid)], { encoding: 'utf8', timeout: 20_000 });
    assert.deepEqual([result.status, result.stderr], [1, `unlinked: cannot create case directory ${where}: ${why}\n`]);
  }
});

test('a usage error is one line like every other error (exit 2); seconds are digits, not hex, exponents or blanks', () => {
  const caseDir = '/dev/shm/unlinked-usage-never-made';
  const usage = (args: string[]) => spawnSync(process.execPath, [cliPath, '--case', caseDir, ...args], { encoding: 'utf8' });
  const bad = usage(['list', '--snapshot', 'x']);
  assert.deepEqual([bad.status, bad.stderr], [2, "unlinked: option '--snapshot <id>' argument 'x' is invalid. expected a whole number (run with --help for usage)\n"]);
  for (const seconds of ['0x10', ' 5', '', '1e3']) {
    const result = usage(['recover', '--follow-timeout', seconds]);
    assert.deepEqual([result.status, result.stderr], [2, `unlinked: option '--follow-timeout <seconds>' argument '${seconds}' is invalid. expected a number of seconds (0 or more) (run with --help for usage)\n`], JSON.stringify(seconds));
  }
  assert.equal(fs.existsSync(caseDir), false);
});

test('an option that takes one value, given twice with two values, is a usage error, not the last one silently', () => {
  const run = (args: string[]) => spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8' });
  const twice = run(['--case', '/dev/shm/unlinked-never', 'list', '--snapshot', '1', '--snapshot', '2']);
  assert.deepEqual([twice.status, twice.stderr], [2, "unlinked: option '--snapshot <id>' argument '2' is invalid. given twice (1, then 2): give it once (run with --help for usage)\n"]);
  const formats = run(['report', '--format', 'csv', '--format', 'html']);
  assert.deepEqual([formats.status, formats.stderr], [2, "unlinked: option '--format <format>' argument 'html' is invalid. given twice (csv, then html): give it once (run with --help for usage)\n"]);
  const cases = run(['--case', '/dev/shm/unlinked-a', 'list', '--case', '/dev/shm/unlinked-b']);
  assert.equal(cases.status, 2, cases.stderr);
  assert.match(cases.stderr, /given twice \(\/dev\/shm\/unlinked-a, then \/dev\/shm\/unlinked-b\): give it once/);
  assert.equal(fs.existsSync('/dev/shm/unlinked-never'), false);
});

test('a full case disk is said as that, not as "disk I/O error": list and report --out elsewhere read the case from memory, the commands that write refuse; no -shm or -wal left behind, no new case made (root)', (t) => {
  const disk = mountTmpfs('full-case', 6);
  const other = makeTempDir('full-case-out', '/dev/shm');
  t.after(() => {
    fs.rmSync(other, { recursive: true, force: true });
    disk.cleanup();
  });
  const caseDir = path.join(disk.dir, 'case');
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(process.pid)]).code, 0);
  const listed = runCli(caseDir, ['list', '--all', '--json']);
  assert.equal(listed.code, 0, listed.stderr);
  const image = debugfsBuilt(other, ['mkfs.ext4'], { kept: Buffer.from('kept') }, '');
  // The rest of the disk filled, as a copy or another program left it.
  const fill = fs.openSync(path.join(disk.dir, 'fill'), 'w');
  try {
    for (const chunk = Buffer.alloc(MiB); ;) fs.writeSync(fill, chunk);
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    fs.closeSync(fill);
  }
  const database = path.join(caseDir, 'case.sqlite');
  const files = (): string[] => fs.readdirSync(caseDir).sort();
  const before = files();
  assert.deepEqual(before, ['case.sqlite']);
  // Read as read-only media are: from a copy in memory, the same items.
  const list = runCli(caseDir, ['list', '--all', '--json']);
  assert.deepEqual([list.code, list.stderr, list.stdout], [0, listed.stderr, listed.stdout]);
  assert.match(listed.stderr, /^snapshot 1: live \/proc walk of .* at \d{4}-\d\d-\d\dT[\d:.]+Z\n$/);
  const out = path.join(other, 'items.csv');
  const report = runCli(caseDir, ['report', '--format', 'csv', '--out', out]);
  assert.deepEqual([report.code, report.stderr], [0, `csv report: ${out}\n`]);
  assert.match(fs.readFileSync(out, 'utf8'), /^finding,id,snapshot_id,/);
  const inCase = runCli(caseDir, ['report', '--format', 'csv']);
  assert.deepEqual([inCase.code, inCase.stderr], [1, `unlinked: the case database ${database} is on a full disk (0 bytes free): name where the report goes (--out FILE, or - for stdout)\n`]);
  const full = `unlinked: cannot open case database ${database}: the case's disk is full (0 bytes free): make room on it, or use a case on another disk; nothing was changed\n`;
  for (const args of [['snapshot', '--no-lsof', '--pid', String(process.pid)], ['recover'], ['triage', '--no-lsof'], ['image', 'scan', image]]) {
    const refused = runCli(caseDir, args);
    assert.deepEqual([refused.code, refused.stderr], [1, full], args.join(' '));
    assert.deepEqual(files(), before, `${args.join(' ')} left the case as it was`);
  }
  // A new case there: refused, and its folders made for it gone again.
  const fresh = path.join(disk.dir, 'new', 'case');
  const made = runCli(fresh, ['snapshot', '--no-lsof', '--pid', String(process.pid)]);
  assert.deepEqual([made.code, made.stderr], [1, `unlinked: cannot open case database ${fresh}/case.sqlite: the case's disk is full (0 bytes free): make room on it, or use a case on another disk; nothing was changed\n`]);
  assert.deepEqual(fs.readdirSync(disk.dir).sort(), ['case', 'fill']);
});

test('a case path longer than SQLite opens (504 bytes with case.sqlite) is refused before anything is made, naming its length; 492 bytes of folder open', (t) => {
  const root = makeTempDir('long-case', '/dev/shm');
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  // A folder of `bytes` bytes under root.
  const folder = (bytes: number): string => {
    const rest = bytes - root.length - 2 * 201;
    return path.join(root, 'x'.repeat(200), 'y'.repeat(200), 'z'.repeat(rest - 1));
  };
  const longest = folder(492);
  assert.equal(Buffer.byteLength(longest), 492);
  assert.equal(runCli(longest, ['snapshot', '--no-lsof', '--pid', String(process.pid)]).code, 0);
  assert.equal(runCli(longest, ['list', '--json']).code, 0);
  fs.rmSync(path.join(root, 'x'.repeat(200)), { recursive: true });
  for (const bytes of [493, 700]) {
    const tooLong = folder(bytes);
    for (const args of [['snapshot', '--no-lsof', '--pid', String(process.pid)], ['list', '--json']]) {
      const refused = runCli(tooLong, args);
      assert.deepEqual([refused.code, refused.stderr], [1, `unlinked: the case database's path (the --case folder and /case.sqlite) is ${bytes + 12} bytes long; SQLite opens databases up to 504 bytes long (512 less room for a "-journal" suffix): use a shorter --case (at most 492 bytes); nothing was created\n`], `${bytes}: ${args.join(' ')}`);
      assert.deepEqual(fs.readdirSync(root), [], 'nothing made');
    }
  }
  // Through a symbolic link SQLite resolves: the resolved path is the one measured.
  fs.mkdirSync(path.dirname(longest), { recursive: true });
  fs.symlinkSync(path.dirname(longest), path.join(root, 'l'));
  const linked = path.join(root, 'l', 'w'.repeat(100));
  const refused = runCli(linked, ['snapshot', '--no-lsof', '--pid', String(process.pid)]);
  assert.deepEqual([refused.code, refused.stderr], [1, `unlinked: the case database's path (the --case folder and /case.sqlite, its symbolic links resolved) is ${Buffer.byteLength(path.dirname(longest)) + 101 + 12} bytes long; SQLite opens databases up to 504 bytes long (512 less room for a "-journal" suffix): use a shorter --case (at most 492 bytes); nothing was created\n`]);
  assert.equal(fs.existsSync(path.join(path.dirname(longest), 'w'.repeat(100))), false);
});
