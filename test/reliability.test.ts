// Issue 9: interruptions of every writing command, hostile names end to end, evidence untouched on
// the live side, corrupted images, and resource limits. Figures go to stdout as "# ..." lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { cliPath } from './helpers/paths.js';
import { makeContext } from '../src/cli/context.js';
import { oneLine } from '../src/errors.js';
import { firstLine } from './helpers/lines.js';
import { makeTempDir, startHolder } from './helpers/holder.js';
import { json, runCli } from './helpers/cli.js';
import { debugfsBuilt, imageWorkDirs, makeOrphanImage, sha256File } from './helpers/images.js';
import { pythonHolder } from './helpers/pythonHolder.js';
import { writeLsofCapture } from './bench/lsofImport.js';
import { mountTmpfs } from './helpers/tmpfs.js';
import type { LiveItemJson } from '../src/store/items.js';
import { wholeHostExit } from './helpers/host.js';
import { waitFor } from './helpers/wait.js';

function integrity(caseDir: string): void {
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    assert.deepEqual(db.pragma('foreign_key_check'), []);
  } finally {
    db.close();
  }
}

/** Start a command, SIGKILL it after a random delay; returns whether it was still running. */
async function killAtRandom(caseDir: string, args: string[], maxDelayMs: number): Promise<boolean> {
  const child = spawn(process.execPath, [cliPath, '--case', caseDir, ...args], { stdio: 'ignore' });
  await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * maxDelayMs)));
  const running = child.exitCode === null;
  child.kill('SIGKILL');
  await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)));
  return running;
}

test('recover, image extract and report killed at random moments: database whole, nothing counted complete that is not (root)', async (t) => {
  const dir = makeTempDir('kill2');
  const caseDir = makeTempDir('kill2-case', '/dev/shm');
  const big = crypto.randomBytes(64 << 20);
  const holder = await startHolder(dir, [{ kind: 'fd', name: 'big.bin', content: big }]);
  t.after(async () => {
    await holder.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const bigSha = crypto.createHash('sha256').update(big).digest('hex');
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  let killed = 0;
  for (let run = 0; run < 20; run++) {
    if (await killAtRandom(caseDir, ['recover', '-q'], 300)) killed++;
    integrity(caseDir);
    fs.rmSync(path.join(caseDir, 'recovered'), { recursive: true, force: true }); // let the next run write again
  }
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  const rows = db.prepare('SELECT complete, sha256, bytes, note FROM recoveries').all() as Array<{ complete: number; sha256: string | null; bytes: number; note: string | null }>;
  db.close();
  for (const row of rows) {
    if (row.complete === 1) assert.equal(row.sha256, bigSha, 'a copy counted complete is the whole file');
    else assert.ok(row.note !== null, 'an incomplete copy says why');
  }
  const interrupted = rows.filter((row) => row.note === 'interrupted: the copy did not finish').length;

  // image extract and report, on a small real image.
  const imageDir = path.join(dir, 'image');
  fs.mkdirSync(imageDir);
  const built = await makeOrphanImage({ dir: imageDir, fsType: 'ext4', sizeMiB: 64, orphans: [{ name: 'o.bin', content: crypto.randomBytes(20 << 20) }] });
  const imageSha = sha256File(built.image);
  assert.equal(runCli(caseDir, ['image', 'scan', built.image]).code, 0);
  let extractKilled = 0;
  let reportKilled = 0;
  for (let run = 0; run < 20; run++) {
    if (await killAtRandom(caseDir, ['image', 'extract', built.image, '--all', '-q'], 400)) extractKilled++;
    integrity(caseDir);
    fs.rmSync(path.join(caseDir, 'extracted'), { recursive: true, force: true });
    if (await killAtRandom(caseDir, ['report', '--format', 'html'], 300)) reportKilled++;
    integrity(caseDir);
    // A report is renamed into place whole, or not there at all.
    const reports = fs.existsSync(path.join(caseDir, 'reports')) ? fs.readdirSync(path.join(caseDir, 'reports')) : [];
    for (const name of reports.filter((file) => file === 'report.html')) assert.match(fs.readFileSync(path.join(caseDir, 'reports', name), 'utf8'), /<\/html>\n$/);
  }
  assert.equal(sha256File(built.image), imageSha, 'the image is unchanged after 20 killed extractions');
  const db2 = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  const extractions = db2.prepare('SELECT complete, sha256 FROM extractions').all() as Array<{ complete: number; sha256: string | null }>;
  db2.close();
  for (const row of extractions) if (row.complete === 1) assert.equal(row.sha256, built.orphans[0]?.sha256);
  process.stdout.write(`# interruption: recover 20 runs (${killed} killed while running, ${interrupted} rows marked interrupted), image extract 20 (${extractKilled} killed), report 20 (${reportKilled} killed); integrity_check ok after each, 0 false completes\n`);
});

const HOSTILE: readonly Buffer[] = [
  Buffer.from('new\nline'),
  Buffer.from('tab\there'),
  Buffer.from('pipe|bar'),
  Buffer.from('quo"te\'s'),
  Buffer.from('<script>alert(1)<'),
  Buffer.from("=cmd|' -C calc'!A0"),
  Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0x80]),
  Buffer.from('x'.repeat(255)),
  Buffer.from('-leading-dash'),
  Buffer.from('looks (deleted)'),
];

test('hostile names stay byte-exact in the database and JSON, and every report stays well formed (root)', async (t) => {
  const dir = makeTempDir('hostile');
  const deep = path.join(dir, ...Array.from({ length: 20 }, (_, index) => `level-${index}-${'d'.repeat(40)}`));
  fs.mkdirSync(deep, { recursive: true });
  const caseDir = makeTempDir('hostile-case', '/dev/shm');
  const holder = await startHolder(deep, HOSTILE.map((name, index) => ({ kind: 'fd' as const, name: name.toString('latin1'), content: Buffer.from(`content ${index}`) })));
  t.after(async () => {
    await holder.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  assert.equal(runCli(caseDir, ['snapshot', '--pid', String(holder.pid)]).code, 0);
  assert.equal(runCli(caseDir, ['recover', '-q']).code, 0);
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.equal(items.length, HOSTILE.length);
  for (const name of HOSTILE) {
    const expected = Buffer.concat([Buffer.from(`${deep}/`), name]);
    const item = items.find((entry) => Buffer.from(entry.path_b64, 'base64').equals(expected));
    assert.ok(item !== undefined, `byte-exact: ${JSON.stringify(name.toString('latin1'))}`);
    assert.deepEqual(item.source, ['proc', 'lsof'], 'lsof decoded its escapes to the same bytes');
  }
  const csv = runCli(caseDir, ['report', '--format', 'csv', '--out', '-']).stdout;
  assert.equal(csv.trimEnd().split('\r\n').filter((line) => line.startsWith('live,')).length, HOSTILE.length, 'one CSV record per item: newlines in names are quoted or escaped');
  const bodyfile = runCli(caseDir, ['report', '--format', 'bodyfile', '--out', '-']).stdout.trimEnd().split('\n');
  assert.equal(bodyfile.length, HOSTILE.length);
  for (const line of bodyfile) assert.equal(line.split('|').length, 11);
  const document = JSON.parse(runCli(caseDir, ['report', '--format', 'json', '--out', '-']).stdout) as { items: LiveItemJson[] };
  assert.equal(document.items.length, HOSTILE.length);
  assert.equal(runCli(caseDir, ['report', '--format', 'html']).code, 0);
  const html = fs.readFileSync(path.join(caseDir, 'reports', 'report.html'), 'utf8');
  const data = html.slice(html.indexOf('id="findings-data">'), html.indexOf('</script>', html.indexOf('id="findings-data">')));
  assert.ok(!/<script>alert|<\/script><script>/i.test(data), 'no markup from a name inside the data block');
  process.stdout.write(`# hostile names: ${HOSTILE.length} names (newline, tab, |, quotes, <script>, formula, invalid UTF-8, 255 bytes, leading dash, " (deleted)") under a ${deep.length}-byte path: byte-exact in JSON, 11-field bodyfile, one CSV record each\n`);
});

test('snapshot and recover leave the evidence alone: atime, directory contents (root)', async (t) => {
  const dir = makeTempDir('atime');
  const caseDir = makeTempDir('atime-case', '/dev/shm');
  const holder = await startHolder(dir, [{ kind: 'fd', name: 'evidence.log', content: Buffer.from('do not touch\n'.repeat(1000)) }]);
  t.after(async () => {
    await holder.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const source = `/proc/${holder.pid}/fd/${holder.files[0]?.fd}`;
  // An atime older than mtime would be updated by a plain read even with relatime.
  execFileSync('touch', ['-a', '-d', '2001-01-01', source]);
  const before = fs.statSync(source);
  const listing = fs.readdirSync(dir);
  assert.equal(runCli(caseDir, ['snapshot', '--pid', String(holder.pid)]).code, 0);
  assert.equal(runCli(caseDir, ['recover', '-q']).code, 0);
  const after = fs.statSync(source);
  assert.equal(after.atimeMs, before.atimeMs, 'O_NOATIME: the read did not touch the atime');
  assert.equal(after.mtimeMs, before.mtimeMs);
  assert.equal(after.ctimeMs, before.ctimeMs);
  assert.deepEqual(fs.readdirSync(dir), listing, 'nothing created on the examined file system');
});

test('randomly corrupted images: a clear line or a result, never a hang or a stack trace (root)', async (t) => {
  const dir = makeTempDir('fuzzimg');
  const caseDir = makeTempDir('fuzzimg-case', '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const built = await makeOrphanImage({ dir, fsType: 'ext4', sizeMiB: 16, orphans: [{ name: 'a', content: Buffer.from('orphan') }] });
  const pristine = fs.readFileSync(built.image);
  const outcomes = new Map<number, number>();
  const runs = 24;
  for (let run = 0; run < runs; run++) {
    const corrupted = Buffer.from(pristine);
    // Hit the superblock, the group descriptors and the inode tables, where parsers and tools are exposed.
    const region = [1024, 2048, 4096 * 2, 1 << 20][run % 4] ?? 1024;
    for (let flip = 0; flip < 64; flip++) corrupted[region + crypto.randomInt(0, 65536)] = crypto.randomInt(0, 256);
    const image = path.join(dir, `corrupt-${run}.img`);
    fs.writeFileSync(image, corrupted);
    const started = Date.now();
    const result = spawnSync(process.execPath, [cliPath, '--case', caseDir, 'image', 'scan', image, '--json'], { encoding: 'utf8', timeout: 120_000 });
    assert.ok(Date.now() - started < 120_000, 'no hang');
    assert.ok([0, 1, 3].includes(result.status ?? -1), `exit ${result.status}: ${result.stderr}`);
    assert.ok(!/internal error|\n\s+at /.test(result.stderr), `no stack trace: ${result.stderr}`);
    if (result.status === 1) assert.equal(result.stderr.trim().split('\n').filter((line) => line.startsWith('unlinked:')).length, 1);
    outcomes.set(result.status ?? -1, (outcomes.get(result.status ?? -1) ?? 0) + 1);
    integrity(caseDir);
    fs.rmSync(image);
  }
  process.stdout.write(`# corrupted images: ${runs} images with 64 random bytes each in superblock/descriptors/inode tables: exit 0 x${outcomes.get(0) ?? 0}, 1 x${outcomes.get(1) ?? 0}, 3 x${outcomes.get(3) ?? 0}; 0 hangs, 0 stack traces\n`);
});

test('resource limits: a process with as many fds as the machine allows (up to 100,000), and unlinked under ulimit -n 32 (root)', async (t) => {
  const caseDir = makeTempDir('limits-case', '/dev/shm');
  const many = spawn('python3', ['-c', String.raw`
import os, resource, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = 100000 + 64
try:
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
except (ValueError, OSError):
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # a sandbox may cap the hard limit
    want = hard
base = os.open('/dev/null', os.O_RDONLY)
for i in range(want - 64): os.dup(base)
print(os.getpid(), want - 64, flush=True)
time.sleep(120)
`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    many.kill('SIGKILL');
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const [pid = '', opened = '0'] = (await firstLine(many)).split(' ');
  const started = Date.now();
  const snapshot = runCli(caseDir, ['snapshot', '--pid', pid, '--json']);
  const seconds = (Date.now() - started) / 1000;
  assert.equal(snapshot.code, 0, snapshot.stderr);
  assert.ok((JSON.parse(snapshot.stdout) as { fds_seen: number }).fds_seen >= Number(opened));
  // unlinked itself with almost no file descriptors to spare.
  const limited = spawnSync('prlimit', ['--nofile=32', process.execPath, cliPath, '--case', caseDir, 'snapshot', '--no-lsof', '--json'], { encoding: 'utf8' });
  assert.ok([0, 1].includes(limited.status ?? -1), limited.stderr);
  if (limited.status === 1) assert.match(limited.stderr.trim(), /^unlinked: too many open files: the limit is 32, unlinked needs at least 80: raise it/);
  process.stdout.write(`# limits: ${Number(opened) + 1} fds in one process (the most this machine's hard limit allows, up to 100,000) snapshotted in ${seconds.toFixed(1)} s; under ulimit -n 32 snapshot exited ${limited.status}\n`);
});

test('resource limits: a host with 10,000 more processes, each holding the same deleted file (root)', async (t) => {
  const dir = makeTempDir('many-procs');
  const caseDir = makeTempDir('many-procs-case', '/dev/shm');
  const children = 10_000;
  const forker = spawn('python3', ['-c', String.raw`
import os, signal, sys
n, path = int(sys.argv[1]), sys.argv[2]
fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
os.write(fd, b'held by every process of the test')
os.unlink(path)
kids = []
for i in range(n):
    pid = os.fork()
    if pid == 0:
        signal.pause()
        os._exit(0)
    kids.append(pid)
def stop(*_):
    for kid in kids:
        try: os.kill(kid, signal.SIGKILL)
        except ProcessLookupError: pass
    for kid in kids:
        try: os.waitpid(kid, 0)
        except ChildProcessError: pass
    os._exit(0)
signal.signal(signal.SIGTERM, stop)
print(os.getpid(), os.fstat(fd).st_ino, flush=True)
sys.stdin.read()
stop()
`, String(children), path.join(dir, 'shared.log')], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(async () => {
    // The forker kills and reaps its own children (by PID) on SIGTERM.
    if (forker.exitCode === null) {
      const exited = new Promise((resolve) => forker.once('exit', resolve));
      forker.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const [parent = '0', inode = '0'] = (await firstLine(forker)).split(' ');
  const started = Date.now();
  const snapshot = runCli(caseDir, ['snapshot', '--no-lsof', '--json', '-q']);
  const seconds = (Date.now() - started) / 1000;
  assert.equal(snapshot.code, wholeHostExit(), snapshot.stderr);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    const kids = db.prepare('SELECT count(*) AS n FROM processes WHERE ppid = ?').get(Number(parent)) as { n: number };
    const all = db.prepare('SELECT count(*) AS n FROM processes').get() as { n: number };
    const holders = db.prepare(`SELECT count(*) AS n FROM items WHERE inode = ? AND kind = 'fd' AND (pid = ? OR pid IN (SELECT pid FROM processes WHERE ppid = ?))`).get(Number(inode), Number(parent), Number(parent)) as { n: number };
    assert.equal(kids.n, children);
    assert.equal(holders.n, children + 1);
    process.stdout.write(`# limits: ${all.n} processes (${children} forked by the test, each holding one deleted file) snapshotted in ${seconds.toFixed(1)} s: ${holders.n} items, 0 failures\n`);
  } finally {
    db.close();
  }
});

test('an empty case.sqlite (0 bytes: wiped or cut short) is no case to the commands that read one: one line, exit 1, the file left as it was', (t) => {
  const caseDir = makeTempDir('empty-case');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  const database = path.join(caseDir, 'case.sqlite');
  fs.writeFileSync(database, '');
  for (const args of [['report', '--format', 'html', '--out', path.join(caseDir, 'r.html')], ['list'], ['recover']]) {
    const result = runCli(caseDir, args);
    assert.deepEqual([result.code, result.stderr], [1, `unlinked: ${database} is empty (0 bytes: wiped, cut short, or never written): no case there; nothing was changed\n`], args.join(' '));
  }
  assert.equal(fs.statSync(database).size, 0);
  assert.deepEqual(fs.readdirSync(caseDir), ['case.sqlite']);
});

test('a result that cannot reach stdout (/dev/full, a file on a full disk) is one line and exit 1; a command that stored its work says it is in the case (root)', async (t) => {
  const { dir, caseDir, pid } = await pythonHolder(t, 'stdout-full', `
import os, sys, time
f = open(os.path.join(sys.argv[1], 'held.txt'), 'w'); f.write('held' * 100); f.flush()
os.unlink(os.path.join(sys.argv[1], 'held.txt'))
print(os.getpid(), flush=True)
time.sleep(600)
`);
  const disk = mountTmpfs('stdout-full', 1);
  t.after(() => disk.cleanup());
  const devFull = fs.openSync('/dev/full', 'w');
  t.after(() => fs.closeSync(devFull));
  const run = (args: string[], stdout: number): { code: number | null; stderr: string } => {
    const result = spawnSync(process.execPath, [cliPath, '--case', caseDir, ...args], { stdio: ['ignore', stdout, 'pipe'], encoding: 'utf8' });
    return { code: result.status, stderr: result.stderr };
  };
  const lost = 'unlinked: cannot write the output to stdout: ENOSPC (no space left on device)';
  assert.deepEqual(run(['snapshot', '--no-lsof', '--pid', String(pid), '--json', '-q'], devFull), { code: 1, stderr: `${lost}; the snapshot is stored in the case ${caseDir}: only the printed JSON was lost\n` });
  // It was: list reads it.
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.deepEqual(items.map((item) => [item.pid, item.path]), [[pid, `${dir}/held.txt`]]);
  assert.deepEqual(run(['list', '--json'], devFull), { code: 1, stderr: `${lost}\n` });
  assert.deepEqual(run(['list'], devFull), { code: 1, stderr: `${lost}\n` });
  assert.deepEqual(run(['recover', '--json', '-q'], devFull), { code: 1, stderr: `${lost}; the copies are in ${caseDir}/recovered, recorded in the case: only the printed JSON was lost\n` });
  assert.deepEqual(fs.readFileSync(path.join(caseDir, 'recovered', 'SHA256SUMS'), 'utf8').split('\n').filter(Boolean).length, 1);
  const image = debugfsBuilt(dir, ['mkfs.ext4'], { kept: Buffer.from('kept') }, '');
  assert.deepEqual(run(['image', 'scan', image, '--json', '-q'], devFull), { code: 1, stderr: `${lost}; the scan is stored in the case ${caseDir}: only the printed JSON was lost\n` });
  // A file on a disk that is full: not a 0-byte file and exit 0.
  const fill = fs.openSync(path.join(disk.dir, 'fill'), 'w');
  try {
    for (const chunk = Buffer.alloc(64 << 10); ;) fs.writeSync(fill, chunk);
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    fs.closeSync(fill);
  }
  const onFullDisk = fs.openSync(path.join(disk.dir, 'list.json'), 'w');
  try {
    assert.deepEqual(run(['list', '--json'], onFullDisk), { code: 1, stderr: `${lost}\n` });
  } finally {
    fs.closeSync(onFullDisk);
  }
  // A reader that stops early is no failure.
  const piped = spawnSync('bash', ['-c', 'set -o pipefail; "$0" "$1" --case "$2" list --json | head -c 1 >/dev/null', process.execPath, cliPath, caseDir], { encoding: 'utf8' });
  assert.deepEqual([piped.status, piped.stderr], [0, '']);
});

test('resource limits: under ulimit -v 1500000, image scan and image extract are refused at once with one line (no V8 abort, nothing written); snapshot and lsof import under 1.2 GB store inline instead of on a thread that cannot start (root)', async (t) => {
  const KiB = 1024;
  const dir = makeTempDir('address-space');
  const caseDir = path.join(dir, 'case');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const image = debugfsBuilt(dir, ['mkfs.ext4'], { kept: Buffer.from('kept') }, '');
  const limited = (kib: number, args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stderr: string } => {
    const result = spawnSync('prlimit', [`--as=${kib * KiB}`, process.execPath, cliPath, '--case', caseDir, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
    return { code: result.status, stderr: result.stderr };
  };
  for (const [command, args, why] of [
    ['image scan', ['image', 'scan', image], 'the image is hashed in a worker thread, whose V8 reserves address space'],
    ['image extract', ['image', 'extract', image, '--inode', '12'], 'each copy is hashed in a worker thread, whose V8 reserves address space'],
  ] as const) {
    assert.deepEqual(limited(1_500_000, [...args]), {
      code: 1,
      stderr: `unlinked: the address-space limit (ulimit -v) is 1500000 KiB; ${command} needs at least 1843200 KiB (1800 MiB: ${why}): raise it, e.g. \`ulimit -v 2048000\` or \`ulimit -v unlimited\`; nothing was done\n`,
    });
    assert.equal(fs.existsSync(caseDir), false, `${command}: no case made`);
  }
  // At what it asks for, the scan runs (its worker starts).
  assert.deepEqual(limited(1_843_200, ['image', 'scan', image, '-q']), { code: 0, stderr: '' });
  // A snapshot told to store on its thread, and a capture large enough for the parse thread: under 1.2 GB there is no room for either.
  const holder = await startHolder(dir, [{ kind: 'fd', name: 'held.txt', content: Buffer.from('held') }]);
  t.after(() => holder.stop());
  assert.deepEqual(limited(1_200_000, ['snapshot', '--no-lsof', '--pid', String(holder.pid), '-q'], { UNLINKED_STORE: 'thread' }), { code: 0, stderr: '' });
  const capture = path.join(dir, 'capture.txt');
  writeLsofCapture(capture, 300_000);
  assert.ok(fs.statSync(capture).size >= 8 << 20);
  assert.deepEqual(limited(1_200_000, ['lsof', 'import', capture, '-q']), { code: 0, stderr: '' });
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--all', '--json']));
  assert.deepEqual([items.filter((item) => item.snapshot_id === 1).length, items.filter((item) => item.snapshot_id === 2).length], [1, 30_000]);
  assert.deepEqual(items.find((item) => item.snapshot_id === 1)?.path, `${dir}/held.txt`);
});

test('under umask 000 the case\'s folders and files are still writable by their owner only; under ulimit -f a write past the limit is one line naming it, exit 1, not SIGXFSZ (root)', (t) => {
  const dir = makeTempDir('umask');
  const caseDir = path.join(dir, 'case');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const capture = path.join(dir, 'capture.txt');
  writeLsofCapture(capture, 50);
  fs.chmodSync(capture, 0o666);
  const inShell = (script: string, args: string[]): { code: number | null; stderr: string } => {
    const result = spawnSync('sh', ['-c', `${script}; exec "$@"`, 'sh', process.execPath, cliPath, '--case', caseDir, ...args], { encoding: 'utf8' });
    return { code: result.status, stderr: result.stderr };
  };
  assert.deepEqual(inShell('umask 000', ['lsof', 'import', capture, '-q']), { code: 0, stderr: '' });
  assert.deepEqual(inShell('umask 000', ['report', '--format', 'csv', '-q']), { code: 0, stderr: '' });
  const modes = (folder: string): string[] => [folder, ...fs.readdirSync(folder, { recursive: true, encoding: 'utf8' }).map((name) => path.join(folder, name))]
    .filter((file) => (fs.lstatSync(file).mode & 0o022) !== 0).map((file) => `${path.relative(dir, file)} ${(fs.lstatSync(file).mode & 0o777).toString(8)}`);
  assert.deepEqual(modes(caseDir), []);
  assert.deepEqual(fs.readdirSync(caseDir).sort(), ['case.sqlite', 'lsof', 'reports']);
  // A write that crosses the limit is cut short (SQLite: "disk I/O error"); one that starts past it
  // raises SIGXFSZ, which killed the run (exit 153, no word). Which comes first depends on the
  // limit: several are tried on a scan, each on a fresh case.
  const image = debugfsBuilt(dir, ['mkfs.ext4'], { kept: Buffer.from('kept') }, '');
  const outcomes = [1, 100, 200, 400, 800, 1600].map((blocks) => {
    fs.rmSync(caseDir, { recursive: true, force: true });
    return inShell(`ulimit -f ${blocks}`, ['image', 'scan', image, '-q']);
  });
  for (const outcome of outcomes.filter((result) => result.code !== 0)) {
    assert.equal(outcome.code, 1, outcome.stderr);
    assert.match(outcome.stderr, /^unlinked: [^\n]*\(this shell's file size limit, `ulimit -f`, is \d+ bytes: raise it\)\n$/);
  }
  assert.ok(outcomes.filter((result) => result.code === 1).length >= 3, JSON.stringify(outcomes));
});

test('--help and --version onto a stdout that cannot take them (/dev/full): one line, exit 1; onto a pipe: exit 0', () => {
  const devFull = fs.openSync('/dev/full', 'w');
  try {
    for (const args of [['--help'], ['--version'], ['image', 'scan', '--help'], ['help']]) {
      const result = spawnSync(process.execPath, [cliPath, ...args], { stdio: ['ignore', devFull, 'pipe'], encoding: 'utf8' });
      assert.deepEqual([result.status, result.stderr], [1, 'unlinked: cannot write the output to stdout: ENOSPC (no space left on device)\n'], args.join(' '));
    }
  } finally {
    fs.closeSync(devFull);
  }
  const piped = spawnSync(process.execPath, [cliPath, '--version'], { encoding: 'utf8' });
  assert.deepEqual([piped.status, piped.stderr], [0, '']);
  assert.match(piped.stdout, /^\d+\.\d+\.\d+\n$/);
});

test('under ulimit -n 22, too few descriptors for node to load unlinked\'s modules: the one line, said before they load, not EMFILE and a stack trace', () => {
  for (const limit of [22, 79]) {
    const limited = spawnSync('prlimit', [`--nofile=${limit}`, process.execPath, cliPath, '--case', '/nonexistent-case', 'list'], { encoding: 'utf8' });
    assert.deepEqual([limited.status, limited.stderr], [1, `unlinked: too many open files: the limit is ${limit}, unlinked needs at least 80: raise it, e.g. \`ulimit -n 1024\`\n`]);
  }
});

test('a warning or a note that quotes raw bytes (a newline, an escape sequence, a C1 control, a bidi override) is still one line on stderr, shown as its bytes, and so in a JSON\'s warnings', () => {
  let said = '';
  const sink = { write: (text: string) => (said += text) } as unknown as NodeJS.WritableStream;
  const ctx = makeContext({ case: '/tmp/case' }, { stdout: sink, stderr: sink });
  ctx.warn('image /evidence/a\nb.img: \x1b[31mred\x1b[0m\tcut');
  ctx.info('copy of /evidence/a\rb');
  // A C1 CSI (U+009B), a bidi override and a zero-width space as their UTF-8 bytes, as the display form writes them; an em dash is text.
  ctx.info('fuse.x \u009b2J ev\u202elif\u200b \u2014 ok');
  assert.equal(said, 'warning: image /evidence/a\\x0ab.img: \\x1b[31mred\\x1b[0m\tcut\ncopy of /evidence/a\\x0db\nfuse.x \\xc2\\x9b2J ev\\xe2\\x80\\xaelif\\xe2\\x80\\x8b \u2014 ok\n');
  assert.deepEqual(ctx.warned, ['image /evidence/a\\x0ab.img: \\x1b[31mred\\x1b[0m\tcut']);
  assert.equal(oneLine(new Error('lsof: WARNING: can\'t stat() fuse.\u202eX file system /m\u0085n')), 'lsof: WARNING: can\'t stat() fuse.\\xe2\\x80\\xaeX file system /m\\xc2\\x85n');
});

test('a SIGINT the moment the result is printed never kills unlinked (exit 130, no word): the run ends with the result\'s exit code (root)', async (t) => {
  const { caseDir, pid } = await pythonHolder(t, 'late-int', `
import os, sys, time
f = open(os.path.join(sys.argv[1], 'held.txt'), 'w'); f.write('held'); f.flush()
os.unlink(os.path.join(sys.argv[1], 'held.txt'))
print(os.getpid(), flush=True)
time.sleep(600)
`);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid), '-q']).code, 0);
  const codes: Array<number | null> = [];
  for (let run = 0; run < 10; run++) {
    const child = spawn(process.execPath, [cliPath, '--case', caseDir, 'list', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    // Sent as soon as the whole JSON is out: node then tears down, and gave SIGINT back to its default action meanwhile.
    child.stdout.on('data', (data: Buffer) => {
      stdout += data.toString();
      if (stdout.endsWith(']\n')) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.once('close', (exitCode) => resolve(exitCode)));
    codes.push(code);
    assert.equal((JSON.parse(stdout) as LiveItemJson[]).length, 1);
    assert.equal(stderr, '');
  }
  assert.deepEqual(codes, new Array(10).fill(0));
});

test('SIGTERM while a scan\'s debugfs runs: nothing stored, said so, exit 1, and its .debugfs-PID-XXXXXX scratch folder removed with it', async (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'scan-term');
  // 8,000 deleted inodes: debugfs stats them in one batch of a few hundred ms.
  const source = path.join(dir, 'one.src');
  fs.writeFileSync(source, 'x');
  const names = Array.from({ length: 8000 }, (_, index) => `f${index}`);
  const image = debugfsBuilt(dir, ['mkfs.ext2', '-N', '16384'], {}, [...names.map((name) => `write ${source} ${name}\n`), ...names.map((name) => `kill_file ${name}\nunlink ${name}\n`)].join(''));
  const child = spawn(process.execPath, [cliPath, '--case', caseDir, 'image', 'scan', image, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  // The case folder is made by the scan: watched from when it is there.
  await waitFor(() => child.exitCode !== null || fs.existsSync(path.join(caseDir, 'case.sqlite')), 20_000, 'the case');
  let seen = false;
  const watcher = fs.watch(caseDir, (_event, name) => {
    if (!seen && name?.startsWith('.debugfs-') === true && fs.existsSync(path.join(caseDir, name))) {
      seen = true;
      child.kill('SIGTERM');
    }
  });
  t.after(() => watcher.close());
  const code = await exited;
  watcher.close();
  assert.ok(seen, 'a .debugfs- folder was made');
  assert.deepEqual(fs.readdirSync(caseDir).filter((name) => name.startsWith('.debugfs-')), []);
  assert.equal(code, 1);
  assert.equal(stdout, '');
  assert.equal(stderr, `unlinked: interrupted by SIGTERM; the scan of ${image} under way is not stored (rolled back); nothing of this run is in the case\n`);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  t.after(() => db.close());
  assert.equal((db.prepare('SELECT count(*) AS n FROM images').get() as { n: number }).n, 0);
});

/** The pid of a running child of `parent` whose program is `program` (its executable's base name), if any. */
function childRunning(parent: number, program: string): number | undefined {
  try {
    return fs.readFileSync(`/proc/${parent}/task/${parent}/children`, 'latin1').trim().split(/\s+/).filter(Boolean).map(Number)
      .find((kid) => path.basename(fs.readFileSync(`/proc/${kid}/cmdline`, 'latin1').split('\0')[0] ?? '') === program);
  } catch {
    return undefined;
  }
}

/** Running: not gone, nor a zombie waiting to be reaped. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /s.test(fs.readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return false;
  }
}

test('image extract stopped mid-copy (SIGTERM, then SIGKILL as the OOM killer kills): the icat copying has its commands row from its start on, not ended; the extraction\'s row and partial file stay, and SIGTERM\'s line says so (root)', async (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'extract-killed');
  // A 4 GiB file of one data block on an 8 GiB ext4 (a sparse image file, never mounted): icat reads its holes out as zeros for seconds.
  const image = path.join(dir, 'holes.img');
  fs.writeFileSync(path.join(dir, 'one.src'), 'x');
  fs.writeFileSync(image, '');
  fs.truncateSync(image, 8 * 2 ** 30);
  execFileSync('mkfs.ext4', ['-q', '-F', '-O', '^has_journal', '-E', 'lazy_itable_init=1', image], { stdio: 'ignore' });
  execFileSync('debugfs', ['-w', '-f', '-', image], { input: `write ${path.join(dir, 'one.src')} big\nset_inode_field <12> size 0x100000000\n`, stdio: ['pipe', 'ignore', 'ignore'] });
  const stopDuringIcat = async (signal: NodeJS.Signals): Promise<{ code: number | null; stderr: string }> => {
    const child = spawn(process.execPath, [cliPath, '--case', caseDir, 'image', 'extract', image, '--inode', '12', '-q'], { stdio: ['ignore', 'ignore', 'pipe'] });
    t.after(() => child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    let icat: number | undefined;
    await waitFor(() => (icat = childRunning(child.pid ?? 0, 'icat')) !== undefined || child.exitCode !== null, 60_000, 'icat running');
    assert.ok(icat !== undefined, `the extract ended before icat was seen: ${stderr}`);
    child.kill(signal);
    const code = await closed;
    // Killed with unlinked (its parent-death signal): nothing goes on writing into extracted/.
    await waitFor(() => !running(icat ?? 0), 2000, `icat (pid ${icat}) gone after unlinked was stopped`);
    return { code, stderr };
  };
  const db = (): Database.Database => new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  const copied = (): Array<{ program: string; argv: string; exit_code: number | null; error: string | null; finished_at: string | null }> => {
    const open = db();
    try {
      return open.prepare(`SELECT program, argv, exit_code, error, finished_at FROM commands WHERE program = 'icat' ORDER BY id`).all() as ReturnType<typeof copied>;
    } finally {
      open.close();
    }
  };
  const notEnded = { program: 'icat', argv: JSON.stringify([image, '12']), exit_code: null, finished_at: null,
    error: 'not ended: still running, or unlinked was killed while it ran (the program was killed with it), and what it wrote is partial' };

  const term = await stopDuringIcat('SIGTERM');
  assert.equal(term.code, 1);
  assert.equal(term.stderr, 'unlinked: interrupted by SIGTERM; the copy of inode 12 under way is not finished: its row in extractions stays, saying "interrupted: the copy did not finish", ' +
    'as do the partial file it names in extracted/ (not in SHA256SUMS) and the row in commands of the program copying it, if the copy had begun; no copy or scan of this run was finished before it\n');
  assert.deepEqual(copied(), [notEnded]);
  const killed = await stopDuringIcat('SIGKILL');
  assert.deepEqual([killed.code, killed.stderr], [null, '']);
  assert.deepEqual(copied(), [notEnded, notEnded]);
  // Each partial file is named by its extraction's row, marked interrupted; none is in SHA256SUMS.
  const open = db();
  const rows = open.prepare('SELECT output, complete, note FROM extractions ORDER BY id').all() as Array<{ output: string | null; complete: number; note: string }>;
  open.close();
  assert.deepEqual(rows.map((row) => [row.output === null ? null : path.relative(caseDir, row.output), row.complete, row.note]), [
    ['extracted/holes.img-0-12', 0, 'interrupted: the copy did not finish'], ['extracted/holes.img-0-12.2', 0, 'interrupted: the copy did not finish'],
  ]);
  assert.deepEqual(fs.readdirSync(path.join(caseDir, 'extracted')).sort(), ['holes.img-0-12', 'holes.img-0-12.2']);
});
