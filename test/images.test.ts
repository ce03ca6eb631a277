// Issue 6: orphan and deleted inodes in real images built by the test; evidence never changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir } from './helpers/holder.js';
import { json, runCli, type CliResult } from './helpers/cli.js';
import { makeDeletedImage, makeOrphanImage, sha256File } from './helpers/images.js';
import type { ImageInodeJson } from '../src/store/images.js';
import type { ExtractedJson } from '../src/image/extract.js';

const orphanContents = () => [
  { name: 'access.log', content: Buffer.from('GET /wp-login.php 200\n'.repeat(500)) },
  { name: 'payload.bin', content: crypto.randomBytes(150_000) },
  { name: 'empty', content: Buffer.alloc(0) },
];

/** Run a command against an image and prove the image is byte-for-byte the same afterwards. */
function untouched(image: string, caseDir: string, args: string[]): CliResult {
  const before = sha256File(image);
  const result = runCli(caseDir, args);
  assert.equal(sha256File(image), before, `${args.join(' ')} left ${image} unchanged`);
  return result;
}

async function orphanScenario(t: { after: (fn: () => void) => void }, features: string[] | undefined, mbr?: { first: number; second: number }) {
  const dir = makeTempDir('img');
  const caseDir = makeTempDir('img-case', '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const orphans = orphanContents();
  const built = await makeOrphanImage({ dir, fsType: 'ext4', sizeMiB: 64, orphans, ...(features === undefined ? {} : { features }), ...(mbr === undefined ? {} : { mbr }) });
  const scan = untouched(built.image, caseDir, ['image', 'scan', built.image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  const inodes = json<ImageInodeJson[]>(scan);
  const orphanInodes = inodes.filter((inode) => inode.state === 'orphan');
  assert.deepEqual(orphanInodes.map((inode) => inode.inode).sort((a, b) => a - b), built.orphans.map((orphan) => orphan.inode).sort((a, b) => a - b));
  for (const orphan of built.orphans) {
    const found = orphanInodes.find((inode) => inode.inode === orphan.inode);
    assert.equal(found?.size, orphan.size);
    assert.equal(found?.fs_uuid, built.fsUuid);
    assert.equal(found?.offset_sectors, mbr === undefined ? 0 : 2048 + mbr.first);
    assert.equal(found?.mode, 0o100644);
  }
  const extract = untouched(built.image, caseDir, ['image', 'extract', built.image, '--all', '--json']);
  assert.equal(extract.code, 0, extract.stderr);
  const extracted = json<ExtractedJson[]>(extract);
  for (const orphan of built.orphans) {
    const copy = extracted.find((entry) => entry.inode === orphan.inode);
    assert.equal(copy?.sha256, orphan.sha256);
    assert.equal(copy?.bytes, orphan.size);
    assert.equal(copy?.complete, true);
    assert.equal(copy?.method, 'icat');
    assert.equal(sha256File(copy?.output ?? ''), orphan.sha256);
  }
  const check = execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: path.join(caseDir, 'extracted'), encoding: 'utf8' });
  assert.equal(check.trim().split('\n').length, built.orphans.length);
  return { inodes, built, caseDir };
}

test('ext4 frozen while files were held open: orphans found and extracted with exact sha256 (root)', async (t) => {
  const { inodes } = await orphanScenario(t, undefined);
  for (const inode of inodes.filter((entry) => entry.state === 'orphan')) assert.match(inode.found_by, /ils/);
});

test('ext4 with orphan_file: orphans read from the orphan file itself (root)', async (t) => {
  const { inodes } = await orphanScenario(t, ['orphan_file']);
  const orphans = inodes.filter((entry) => entry.state === 'orphan');
  assert.ok(orphans.length === 3);
  for (const inode of orphans) assert.match(inode.found_by, /orphan_file/, `inode ${inode.inode} found in the orphan file`);
});

test('MBR image: the orphans in the second partition are found at its offset (root)', async (t) => {
  await orphanScenario(t, undefined, { first: 20480, second: 81920 });
});

test('ext2 deleted file with its blocks: recoverable, exact sha256, last name from fls (root)', (t) => {
  const dir = makeTempDir('ext2');
  const caseDir = makeTempDir('ext2-case', '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const content = crypto.randomBytes(30_000);
  const { image, inode } = makeDeletedImage(dir, 'ext2', content);
  const inodes = json<ImageInodeJson[]>(untouched(image, caseDir, ['image', 'scan', image, '--json']));
  assert.deepEqual(inodes.map((entry) => [entry.inode, entry.state, entry.recoverable, entry.size, entry.last_name]), [[inode, 'deleted', true, 30_000, 'gone.bin']]);
  assert.ok(inodes[0]?.dtime !== null && (inodes[0]?.dtime ?? 0) > 1_700_000_000);
  const [copy] = json<ExtractedJson[]>(untouched(image, caseDir, ['image', 'extract', image, '--inode', String(inode), '--json']));
  assert.equal(copy?.sha256, crypto.createHash('sha256').update(content).digest('hex'));
  assert.equal(copy?.complete, true);
});

test('ext4 deleted file: unrecoverable, and no empty file is presented as its content (root)', (t) => {
  const dir = makeTempDir('ext4del');
  const caseDir = makeTempDir('ext4del-case', '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const { image, inode } = makeDeletedImage(dir, 'ext4', crypto.randomBytes(30_000));
  const inodes = json<ImageInodeJson[]>(untouched(image, caseDir, ['image', 'scan', image, '--json']));
  assert.deepEqual(inodes.map((entry) => [entry.inode, entry.state, entry.recoverable]), [[inode, 'deleted', false]]);
  const result = untouched(image, caseDir, ['image', 'extract', image, '--inode', String(inode), '--json']);
  assert.equal(result.code, 3);
  const [copy] = json<ExtractedJson[]>(result);
  assert.equal(copy?.complete, false);
  assert.equal(copy?.output, null);
  assert.equal(copy?.sha256, null);
  assert.match(copy?.note ?? '', /^unrecoverable: the inode .* points at no data blocks/);
  assert.deepEqual(fs.existsSync(path.join(caseDir, 'extracted')) ? fs.readdirSync(path.join(caseDir, 'extracted')).filter((name) => name !== 'SHA256SUMS') : [], []);
});

test('a live snapshot correlates an image orphan to the process that held it (root)', async (t) => {
  const dir = makeTempDir('corr');
  const caseDir = makeTempDir('corr-case', '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  let holderPid = 0;
  const built = await makeOrphanImage({
    dir, fsType: 'ext4', sizeMiB: 32, orphans: [{ name: 'held.log', content: Buffer.from('held open at snapshot time\n') }],
    whileHeld: (holder) => {
      holderPid = holder.pid;
      assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
      assert.equal(runCli(caseDir, ['recover', '--json']).code, 0);
    },
  });
  const inodes = json<ImageInodeJson[]>(untouched(built.image, caseDir, ['image', 'scan', built.image, '--json']));
  const orphan = inodes.find((inode) => inode.inode === built.orphans[0]?.inode);
  assert.deepEqual(orphan?.live.map((holder) => [holder.pid, holder.kind]), [[holderPid, 'fd']]);
  assert.equal(orphan?.live_ambiguous, false);
  const [copy] = json<ExtractedJson[]>(untouched(built.image, caseDir, ['image', 'extract', built.image, '--all', '--json']));
  assert.equal(copy?.live_sha256_match, true, 'the image copy and the /proc copy agree');
});

test('bad input: one clear line and exit 1, nothing stored (root)', (t) => {
  const dir = makeTempDir('bad');
  const caseDir = makeTempDir('bad-case', '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const junk = path.join(dir, 'junk.img');
  fs.writeFileSync(junk, crypto.randomBytes(4 * 1024 * 1024));
  const empty = path.join(dir, 'empty.img');
  fs.writeFileSync(empty, '');
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const clobbered = makeDeletedImage(dir, 'ext4', Buffer.from('x')).image;
  const fd = fs.openSync(clobbered, 'r+');
  fs.writeSync(fd, Buffer.alloc(1024), 0, 1024, 1024); // the test's own copy: wipe the superblock
  fs.closeSync(fd);
  const cases: Array<[string[], RegExp]> = [
    [['image', 'scan', junk], /no ext2\/3\/4 file system here/],
    [['image', 'scan', clobbered], /no ext2\/3\/4 file system here/],
    [['image', 'scan', empty], /is empty \(0 bytes\)/],
    [['image', 'scan', dir], /is a directory/],
    [['image', 'scan', fifo], /not a regular file or a block device/],
    [['image', 'scan', path.join(dir, 'missing.img')], /no such file or device/],
    [['image', 'scan', junk, '--offset', '999999'], /offset 999999 sectors is past the end/],
  ];
  for (const [args, message] of cases) {
    const result = runCli(caseDir, args);
    assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0] ?? '', message);
  }
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  assert.equal((db.prepare('SELECT count(*) AS n FROM images').get() as { n: number }).n, 0);
  db.close();
});

test('truncated image: orphans listed, extraction marked incomplete, never a bogus file (root)', async (t) => {
  const dir = makeTempDir('trunc');
  const caseDir = makeTempDir('trunc-case', '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const built = await makeOrphanImage({ dir, fsType: 'ext4', sizeMiB: 64, orphans: [{ name: 'big.bin', content: crypto.randomBytes(8 * 1024 * 1024) }] });
  // Keep the metadata at the start, lose the data blocks at the end.
  const truncated = path.join(dir, 'truncated.img');
  fs.copyFileSync(built.image, truncated);
  const scanFull = json<ImageInodeJson[]>(runCli(caseDir, ['image', 'scan', built.image, '--json']));
  assert.equal(scanFull.length, 1);
  fs.truncateSync(truncated, 12 * 1024 * 1024);
  const inodes = json<ImageInodeJson[]>(untouched(truncated, caseDir, ['image', 'scan', truncated, '--json']));
  assert.equal(inodes.find((inode) => inode.state === 'orphan')?.size, 8 * 1024 * 1024);
  const result = untouched(truncated, caseDir, ['image', 'extract', truncated, '--all', '--json']);
  assert.equal(result.code, 3);
  const [copy] = json<ExtractedJson[]>(result);
  assert.equal(copy?.complete, false);
  assert.notEqual(copy?.sha256, built.orphans[0]?.sha256);
  assert.ok(copy?.output === null || fs.statSync(copy.output).size < 8 * 1024 * 1024);
});

test('an orphan chain that points back to itself ends with a warning, not a hang (root)', async (t) => {
  const dir = makeTempDir('loop');
  const caseDir = makeTempDir('loop-case', '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const built = await makeOrphanImage({ dir, fsType: 'ext4', sizeMiB: 32, orphans: [{ name: 'a', content: Buffer.from('a') }] });
  const looped = path.join(dir, 'looped.img');
  fs.copyFileSync(built.image, looped);
  const inode = built.orphans[0]?.inode ?? 0;
  // Corrupt our own copy: the superblock's chain head names the orphan, whose dtime names itself.
  execFileSync('debugfs', ['-w', '-f', '-', looped], { input: `ssv last_orphan ${inode}\nsif <${inode}> dtime ${inode}\n`, stdio: ['pipe', 'ignore', 'ignore'] });
  const result = untouched(looped, caseDir, ['image', 'scan', looped, '--json']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, new RegExp(`orphan chain loops back to inode ${inode}: stopped`));
  assert.ok(json<ImageInodeJson[]>(result).some((entry) => entry.inode === inode && /orphan_chain/.test(entry.found_by)));
});
