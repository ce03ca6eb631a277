// Issue 6: orphan and deleted inodes in real images built by the test; evidence never changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir, startHolder, type Holder } from './helpers/holder.js';
import { json, runCli, runCliAsNobody, type CliResult } from './helpers/cli.js';
import { cliPath } from './helpers/paths.js';
import { debugfsBuilt, frozenCopy, imageWorkDirs, makeDeletedImage, makeOrphanImage, sha256, sha256File } from './helpers/images.js';
import { loopFs, loopFsFor } from './helpers/loopfs.js';
import { correlate, imageInodesOf, type ImageInodeJson } from '../src/store/images.js';
import { Writable } from 'node:stream';
import { makeContext } from '../src/cli/context.js';
import { imageScanCommand } from '../src/commands/imageScan.js';
import { openCase } from '../src/store/db.js';
import { jsonText } from '../src/util/u64.js';
import type { ExtractedJson } from '../src/image/extract.js';

const orphanContents = () => [
  { name: 'access.log', content: Buffer.from('GET /wp-login.php 200\n'.repeat(500)) },
  { name: 'payload.bin', content: crypto.randomBytes(150_000) },
  { name: 'empty', content: Buffer.alloc(0) },
];

/** CONTRACT.md's keys, in order, then the ones this issue adds. */
const SCAN_KEYS = ['image', 'offset_sectors', 'fs_type', 'fs_uuid', 'inode', 'size', 'mode', 'uid', 'gid', 'atime', 'mtime', 'ctime', 'dtime', 'state', 'recoverable',
  'found_by', 'last_name', 'last_name_b64', 'live', 'live_ambiguous', 'last_name_exact', 'live_ambiguous_why', 'scan_note', 'image_b64', 'note'] as const;
const EXTRACT_KEYS = ['image', 'offset_sectors', 'inode', 'output', 'bytes', 'sha256', 'complete', 'method', 'note', 'live_item_id', 'live_sha256_match', 'scan_note', 'image_b64'] as const;

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
  for (const inode of inodes) assert.deepEqual(Object.keys(inode), [...SCAN_KEYS]);
  const orphanInodes = inodes.filter((inode) => inode.state === 'orphan');
  assert.deepEqual(orphanInodes.map((inode) => inode.inode).sort((a, b) => a - b), built.orphans.map((orphan) => orphan.inode).sort((a, b) => a - b));
  const deleted = inodes.filter((inode) => inode.state === 'deleted');
  assert.match(
    scan.stderr,
    new RegExp(`: ${orphanInodes.length} orphan \\(${orphanInodes.length} recoverable\\), ${deleted.length} deleted \\(${deleted.filter((inode) => inode.recoverable).length} recoverable\\)\n`),
  );
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
  for (const copy of extracted) assert.deepEqual(Object.keys(copy), [...EXTRACT_KEYS]);
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
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    // The evidence hash, read while the tools ran; the file's stamp (size, mtime, ctime) the same after.
    const image = db.prepare('SELECT sha256, sha256_after, size, is_device, mtime_ns, ctime_ns, unchanged_after FROM images').get();
    const stamp = fs.statSync(built.image, { bigint: true });
    assert.deepEqual(image, {
      sha256: sha256File(built.image), sha256_after: null, size: fs.statSync(built.image).size, is_device: 0,
      mtime_ns: String(stamp.mtimeNs), ctime_ns: String(stamp.ctimeNs), unchanged_after: 1,
    });
    const rows = db.prepare(`SELECT method, complete, image_inode_id IS NOT NULL AS linked FROM extractions`).all();
    assert.deepEqual(rows, built.orphans.map(() => ({ method: 'icat', complete: 1, linked: 1 })));
  } finally {
    db.close();
  }
  return { inodes, built, caseDir };
}

test('ext4 frozen while files were held open: orphans found and extracted with exact sha256 (root)', async (t) => {
  const { inodes, built, caseDir } = await orphanScenario(t, undefined);
  for (const inode of inodes.filter((entry) => entry.state === 'orphan')) {
    // Found by both: allocated without a link (ils -aL) and on the superblock's s_last_orphan chain.
    assert.equal(inode.found_by, 'ils+orphan_chain');
    assert.equal(inode.recoverable, true);
    assert.equal(inode.dtime, null, 'an orphan dtime is a chain link, not a time');
  }
  // A second extraction never overwrites the first: new names, the first copies unchanged, sums still check.
  const extracted = path.join(caseDir, 'extracted');
  const before = new Map(fs.readdirSync(extracted).filter((name) => name !== 'SHA256SUMS').map((name) => [name, sha256File(path.join(extracted, name))]));
  const again = json<ExtractedJson[]>(untouched(built.image, caseDir, ['image', 'extract', built.image, '--all', '--json']));
  assert.deepEqual(again.map((copy) => path.basename(copy.output ?? '')).sort(), [...before.keys()].map((name) => `${name}.2`).sort());
  for (const [name, sum] of before) assert.equal(sha256File(path.join(extracted, name)), sum, `${name} untouched`);
  const check = execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: extracted, encoding: 'utf8' });
  assert.equal(check.trim().split('\n').filter((line) => line.endsWith(': OK')).length, 2 * built.orphans.length);
});

test('GPT image: every partition is looked at, the orphans of the second one found at its offset (root)', async (t) => {
  const dir = makeTempDir('gpt');
  const caseDir = makeTempDir('gpt-case', '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const content = crypto.randomBytes(70_000);
  const built = await makeOrphanImage({ dir, fsType: 'ext4', sizeMiB: 16, orphans: [{ name: 'in-gpt.bin', content }] });
  // A GPT disk: partition 1 empty (no file system), partition 2 the frozen ext4 copy, backup table at the end.
  const disk = path.join(dir, 'gpt-disk.img');
  const fsSectors = fs.statSync(built.image).size / 512;
  fs.writeFileSync(disk, '');
  fs.truncateSync(disk, (4096 + fsSectors + 2048) * 512);
  execFileSync('sfdisk', ['-q', disk], { input: `label: gpt\nstart=2048, size=2048, type=L\nstart=4096, size=${fsSectors}, type=L\n` });
  const fd = fs.openSync(disk, 'r+');
  fs.writeSync(fd, fs.readFileSync(built.image), 0, fsSectors * 512, 4096 * 512);
  fs.closeSync(fd);
  const scan = untouched(disk, caseDir, ['image', 'scan', disk, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.match(scan.stderr, /sector 2048: skipped: no ext2\/3\/4 file system here/);
  const inodes = json<ImageInodeJson[]>(scan);
  // found_by proves debugfs read the partition too ("IMAGE?offset=BYTES"): it followed the orphan chain there.
  assert.deepEqual(inodes.map((inode) => [inode.offset_sectors, inode.inode, inode.state, inode.size, inode.fs_uuid, inode.found_by, inode.mode]),
    [[4096, built.orphans[0]?.inode, 'orphan', 70_000, built.fsUuid, 'ils+orphan_chain', 0o100644]]);
  const [copy] = json<ExtractedJson[]>(untouched(disk, caseDir, ['image', 'extract', disk, '--all', '--json']));
  assert.deepEqual([copy?.offset_sectors, copy?.sha256, copy?.complete], [4096, crypto.createHash('sha256').update(content).digest('hex'), true]);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  assert.deepEqual(db.prepare('SELECT offset_sectors, fs_type, error IS NOT NULL AS skipped FROM image_filesystems ORDER BY offset_sectors').all(), [
    { offset_sectors: 2048, fs_type: null, skipped: 1 },
    { offset_sectors: 4096, fs_type: 'ext4', skipped: 0 },
  ]);
  assert.match((db.prepare('SELECT partition_table FROM images').get() as { partition_table: string }).partition_table, /GUID Partition Table/);
  db.close();
});

test('ext4 with orphan_file: orphans read from the orphan file itself (root)', async (t) => {
  const { inodes } = await orphanScenario(t, ['orphan_file']);
  const orphans = inodes.filter((entry) => entry.state === 'orphan');
  assert.ok(orphans.length === 3);
  for (const inode of orphans) assert.match(inode.found_by, /orphan_file/, `inode ${inode.inode} found in the orphan file`);
});

test('ext4 with bigalloc, which The Sleuth Kit cannot read: the orphans of the chain and of the orphan file found through debugfs, extracted exact, the scan partial (root)', async (t) => {
  const dir = makeTempDir('img-bigalloc');
  const caseDir = makeTempDir('img-bigalloc-case', '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  for (const features of [['bigalloc'], ['bigalloc', 'orphan_file']]) {
    const built = await makeOrphanImage({ dir, fsType: 'ext4', sizeMiB: 64, orphans: orphanContents(), features });
    assert.match(spawnSync('fsstat', [built.image], { encoding: 'utf8' }).stderr, /Cannot determine file system type/);
    const scan = untouched(built.image, caseDir, ['image', 'scan', built.image, '--json']);
    assert.equal(scan.code, 3, scan.stderr);
    assert.match(scan.stderr, /bigalloc \(blocks allocated in clusters\), which The Sleuth Kit cannot read: the orphans of the s_last_orphan chain and of the orphan file were found and described through debugfs; deleted inodes/);
    // Not "0 deleted": no list of them could be made.
    assert.match(scan.stderr, /^sector 0: ext4 \S+: 3 orphan \(3 recoverable; ils -aL cannot read bigalloc: more may not be listed\), deleted inodes not listed \(ils -r cannot read bigalloc\)$/m);
    const byInode = (a: { inode: number }, b: { inode: number }) => a.inode - b.inode;
    const expected = built.orphans.map((orphan) => ({ inode: orphan.inode, size: orphan.size, sha256: orphan.sha256 })).sort(byInode);
    const by = features.includes('orphan_file') ? 'orphan_file' : 'orphan_chain';
    assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.state, entry.size, entry.recoverable, entry.found_by, entry.fs_type, entry.fs_uuid]).sort((a, b) => Number(a[0]) - Number(b[0])),
      expected.map((orphan) => [orphan.inode, 'orphan', orphan.size, true, by, 'ext4', built.fsUuid]));
    const extract = untouched(built.image, caseDir, ['image', 'extract', built.image, '--all', '--json']);
    // The list --all works from is the partial scan's: said again, and partial (3), as when extract scans itself.
    assert.equal(extract.code, 3, extract.stderr);
    assert.match(extract.stderr, /sector 0: the case's scan of this image, whose list is used, read it only in part: .*bigalloc/);
    assert.deepEqual(json<ExtractedJson[]>(extract).map((copy) => [copy.inode, copy.bytes, copy.sha256, copy.complete, copy.method]).sort((a, b) => Number(a[0]) - Number(b[0])),
      expected.map((orphan) => [orphan.inode, orphan.size, orphan.sha256, true, 'debugfs']));
    fs.rmSync(built.image);
  }
});

test('ext4 with meta_bg: orphans past its first meta group, which icat copies as empty (exit 0, no bytes), are extracted by debugfs, exact (root)', async (t) => {
  const dir = makeTempDir('img-metabg');
  const caseDir = makeTempDir('img-metabg-case', '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  // 1 KiB blocks (a small file system): 25 groups of 8 MiB, 16 group descriptors per meta group;
  // the kernel spreads top-level directories over the groups, and each file goes to its directory's.
  const directories = Array.from({ length: 40 }, (_, index) => `d${index}`);
  const orphans = directories.map((directory) => ({ name: `${directory}/f`, content: crypto.randomBytes(3000) }));
  const built = await makeOrphanImage({ dir, fsType: 'ext4', sizeMiB: 200, features: ['meta_bg', '^resize_inode', '^flex_bg'], directories, orphans });
  const icatEmpty = built.orphans.filter((orphan) => {
    const icat = spawnSync('icat', [built.image, String(orphan.inode)]);
    return icat.status === 0 && icat.stdout.length === 0;
  });
  assert.ok(icatEmpty.length > 0, 'some orphans lie where icat reads no group descriptor and exits 0 with nothing');
  const extract = untouched(built.image, caseDir, ['image', 'extract', built.image, '--all', '--json']);
  const copies = json<ExtractedJson[]>(extract);
  const byInode = (a: { inode: number }, b: { inode: number }) => a.inode - b.inode;
  assert.deepEqual(copies.map((copy) => [copy.inode, copy.bytes, copy.sha256, copy.complete]).sort((a, b) => Number(a[0]) - Number(b[0])),
    [...built.orphans].sort(byInode).map((orphan) => [orphan.inode, 3000, orphan.sha256, true]), extract.stderr);
  for (const orphan of icatEmpty) {
    const copy = copies.find((entry) => entry.inode === orphan.inode);
    assert.equal(copy?.method, 'debugfs');
    assert.match(copy?.note ?? '', /^icat exited 0 after 0 of the inode's 3000 bytes/);
  }
});

test('ext4 with meta_bg past its first meta group, where ils -r fails and ils -aL stops part-way: the summary says the deleted inodes were not listed, never "0 deleted" (root)', (t) => {
  const dir = makeTempDir('img-metabg-deleted');
  // Unmounted and detached before the folder of its mount point is removed (after hooks run in order).
  const device = loopFsFor(t, { dir, sizeMiB: 128, fsType: 'ext4', mkfsArgs: ['-b', '1024', '-g', '1024', '-N', '1024', '-O', 'meta_bg,^resize_inode'] });
  const { caseDir } = imageWorkDirs(t, 'img-metabg-deleted-case');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  // 128 groups of 1 MiB, 32 descriptors per meta group: the kernel spreads the directories over them.
  const files = Array.from({ length: 12 }, (_, index) => path.join(device.mountPoint, `d${index}`, 'f'));
  for (const file of files) {
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, crypto.randomBytes(3000));
  }
  execFileSync('sync', ['-f', device.mountPoint]);
  for (const file of files) fs.unlinkSync(file);
  execFileSync('sync', ['-f', device.mountPoint]);
  const image = path.join(dir, 'evidence.img');
  frozenCopy(device.mountPoint, device.backing, image);
  const uuid = execFileSync('blkid', ['-s', 'UUID', '-o', 'value', image], { encoding: 'utf8' }).trim();
  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 3, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan), []);
  const tsk = 'File system is corrupt \\(extXfs_group_load: Ext4 Group 16 descriptor block locations too large at byte offset 3072\\)';
  assert.match(scan.stderr, new RegExp(`^warning: sector 0: ils -r \\(deleted inodes\\) failed: ils exited with code 1: ${tsk}$`, 'm'));
  assert.match(scan.stderr, new RegExp(`^warning: sector 0: ils -aL stopped part-way \\(${tsk}\\): what it listed before that is kept \\(1 rows\\); inodes past that point were not seen$`, 'm'));
  assert.match(scan.stderr, new RegExp(`^sector 0: ext4 ${uuid}: 0 orphan \\(0 recoverable; ils -aL stopped part-way: more may not be listed\\), deleted inodes not listed \\(ils -r failed\\)$`, 'm'));
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
  // What a scan killed with SIGKILL left in the case (no pid runs as 4194304: above the kernel's pid_max limit
  // of 2^22), and the scratch directory of a scan that still runs (this test's own pid): only the first goes.
  const leftover = path.join(caseDir, '.debugfs-4194304-AbC123');
  const running = path.join(caseDir, `.debugfs-${process.pid}-XyZ789`);
  for (const scratch of [leftover, running]) {
    fs.mkdirSync(scratch, { recursive: true });
    fs.writeFileSync(path.join(scratch, 'stat-0.txt'), 'stat <12>\n');
  }
  const inodes = json<ImageInodeJson[]>(untouched(image, caseDir, ['image', 'scan', image, '--json']));
  assert.deepEqual(fs.readdirSync(caseDir).filter((name) => name.startsWith('.debugfs-')), [path.basename(running)]);
  assert.deepEqual(inodes.map((entry) => [entry.inode, entry.state, entry.recoverable, entry.size, entry.last_name, entry.last_name_exact]), [[inode, 'deleted', true, 30_000, 'gone.bin', true]]);
  assert.ok(inodes[0]?.dtime !== null && (inodes[0]?.dtime ?? 0) > 1_700_000_000);
  const [copy] = json<ExtractedJson[]>(untouched(image, caseDir, ['image', 'extract', image, '--inode', String(inode), '--json']));
  assert.equal(copy?.sha256, crypto.createHash('sha256').update(content).digest('hex'));
  assert.equal(copy?.complete, true);
});

test('image extract into an extracted/ this user may not write: a note per inode, no output named, exit 3, the case consistent (root)', (t) => {
  const dir = makeTempDir('extract-noperm');
  const caseDir = makeTempDir('extract-noperm-case', '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const content = crypto.randomBytes(20_000);
  const { image, inode } = makeDeletedImage(dir, 'ext2', content);
  fs.chmodSync(dir, 0o755);
  // The case is nobody's, its extracted/ root's (755).
  fs.chownSync(caseDir, 65534, 65534);
  fs.mkdirSync(path.join(caseDir, 'extracted'), { mode: 0o755 });
  const result = runCliAsNobody(caseDir, ['image', 'extract', image, '--inode', String(inode), '--json']);
  assert.equal(result.code, 3, result.stderr);
  const note = `copy failed: EACCES: permission denied, open '${caseDir}/extracted/${path.basename(image)}-0-${inode}'`;
  assert.deepEqual(JSON.parse(result.stdout), [{
    image, offset_sectors: 0, inode, output: null, bytes: 0, sha256: null, complete: false, method: null, note, live_item_id: null, live_sha256_match: null, scan_note: null,
    image_b64: Buffer.from(image).toString('base64'),
  }]);
  assert.match(result.stderr, new RegExp(`warning: inode ${inode} at sector 0: ${note.replace(/[()'.,]/g, '.')}\n`));
  // The row names no file that does not exist, and the case was closed (no -wal or -shm left).
  assert.deepEqual(fs.readdirSync(caseDir).sort(), ['case.sqlite', 'extracted']);
  assert.deepEqual(fs.readdirSync(path.join(caseDir, 'extracted')), []);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    assert.deepEqual(db.prepare('SELECT output, bytes, sha256, complete, method, note, finished_at IS NOT NULL AS finished FROM extractions').all(), [
      { output: null, bytes: 0, sha256: null, complete: 0, method: null, note, finished: 1 },
    ]);
  } finally {
    db.close();
  }
});

test('an image named with a newline, a backslash and U+202E: image, as image scan, image extract and the JSON report give it, is the display form, image_b64 (path_b64 of images[]) its bytes: one key joins them (root)', (t) => {
  const dir = makeTempDir('odd-image');
  const caseDir = makeTempDir('odd-image-case', '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const content = crypto.randomBytes(20_000);
  const built = makeDeletedImage(dir, 'ext2', content);
  const image = path.join(dir, 'odd\nname\\\u202e.img');
  fs.renameSync(built.image, image);
  const display = `${dir}/odd\\x0aname\\x5c\\xe2\\x80\\xae.img`;
  const bytes = Buffer.from(image, 'utf8').toString('base64');
  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((inode) => [inode.inode, inode.image, inode.image_b64]), [[built.inode, display, bytes]]);
  const extract = untouched(image, caseDir, ['image', 'extract', image, '--all', '--json']);
  assert.equal(extract.code, 0, extract.stderr);
  assert.deepEqual(json<ExtractedJson[]>(extract).map((copy) => [copy.inode, copy.image, copy.image_b64, copy.sha256]), [[built.inode, display, bytes, crypto.createHash('sha256').update(content).digest('hex')]]);
  const report = JSON.parse(runCli(caseDir, ['report', '--format', 'json', '--out', '-']).stdout) as {
    images: Array<{ path: string; path_b64: string }>; image_inodes: Array<{ image: string; image_b64: string }>; extracted: Array<{ image: string; image_b64: string }>;
  };
  assert.deepEqual(report.images.map((scanned) => [scanned.path, scanned.path_b64]), [[display, bytes]]);
  assert.deepEqual(report.image_inodes.map((inode) => [inode.image, inode.image_b64]), [[display, bytes]]);
  assert.deepEqual(report.extracted.map((copy) => [copy.image, copy.image_b64]), [[display, bytes]]);
  assert.equal(Buffer.from(bytes, 'base64').toString('utf8'), image);
});

test('a whole-disk file system under a stale MBR is still scanned at sector 0 (root)', (t) => {
  const dir = makeTempDir('stale');
  const caseDir = makeTempDir('stale-case', '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const content = crypto.randomBytes(20_000);
  const { image, inode } = makeDeletedImage(dir, 'ext2', content);
  // Our own copy: a DOS table in sector 0 (the ext boot block, unused), one partition of garbage.
  execFileSync('sfdisk', ['-q', '--wipe', 'never', image], { input: 'label: dos\nstart=2048, size=4096, type=83\n' });
  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.match(scan.stderr, /an ext file system starts at sector 0 although mmls found a partition table \(DOS Partition Table\)/);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.offset_sectors, entry.inode, entry.state, entry.recoverable]), [[0, inode, 'deleted', true]]);
  const [copy] = json<ExtractedJson[]>(untouched(image, caseDir, ['image', 'extract', image, '--all', '--json']));
  assert.equal(copy?.sha256, crypto.createHash('sha256').update(content).digest('hex'));
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
  assert.equal(copy?.note, 'unrecoverable: the inode (size 0) points at no data blocks any more (on unlink the kernel zeroes an ext4 inode\'s extents and its size): nothing extracted');
  assert.deepEqual(fs.existsSync(path.join(caseDir, 'extracted')) ? fs.readdirSync(path.join(caseDir, 'extracted')).filter((name) => name !== 'SHA256SUMS') : [], []);
});

test('ext2 and ext3 files deleted by the kernel: unrecoverable, the note naming their block pointers (no extents on them), not ext4\'s extents (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'blockmap-deleted');
  for (const type of ['ext2', 'ext3'] as const) {
    const image = path.join(dir, `${type}.img`);
    fs.writeFileSync(image, '');
    fs.truncateSync(image, 16 << 20);
    execFileSync(`mkfs.${type}`, ['-q', '-F', image], { stdio: 'ignore' });
    const mounted = loopFs({ image, mountPoint: path.join(dir, 'mnt') });
    try {
      fs.writeFileSync(path.join(dir, 'mnt', 'gone.bin'), crypto.randomBytes(30_000));
      execFileSync('sync', ['-f', path.join(dir, 'mnt')]);
      fs.unlinkSync(path.join(dir, 'mnt', 'gone.bin'));
      execFileSync('sync', ['-f', path.join(dir, 'mnt')]);
    } finally {
      mounted.cleanup();
    }
    const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
    assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.fs_type, entry.state, entry.size, entry.recoverable, entry.note]), [[12, type, 'deleted', 0, false, null]]);
    const result = untouched(image, caseDir, ['image', 'extract', image, '--inode', '12', '--json']);
    assert.equal(result.code, 3, result.stderr);
    assert.deepEqual(json<ExtractedJson[]>(result).map((copy) => [copy.output, copy.complete, copy.note]), [
      [null, false, `unrecoverable: the inode (size 0) points at no data blocks any more (on unlink the kernel zeroes an ${type} inode's block pointers and its size: this ${type} maps blocks with pointers, not extents): nothing extracted`],
    ]);
  }
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
  const scanned = untouched(built.image, caseDir, ['image', 'scan', built.image, '--json']);
  const inodes = json<ImageInodeJson[]>(scanned);
  const orphan = inodes.find((inode) => inode.inode === built.orphans[0]?.inode);
  assert.deepEqual(orphan?.live.map((holder) => [holder.pid, holder.kind]), [[holderPid, 'fd']]);
  assert.deepEqual([orphan?.live_ambiguous, orphan?.live_ambiguous_why], [false, []]);
  assert.match(scanned.stderr, new RegExp(`^inode ${orphan?.inode} at sector 0 was held open by pid ${holderPid} \\(python3\\) fd \\d+ in snapshot 1$`, 'm'));
  const [copy] = json<ExtractedJson[]>(untouched(built.image, caseDir, ['image', 'extract', built.image, '--all', '--json']));
  assert.equal(copy?.live_sha256_match, true, 'the image copy and the /proc copy agree');
  assert.equal(copy?.live_item_id, orphan?.live[0]?.item_id);
  assert.match(copy?.note ?? '', /^same sha256 as the \/proc copy of item \d+$/);
  // The store's correlation, as the report calls it.
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    const correlations = correlate(db);
    assert.deepEqual(correlations.map((entry) => [entry.inode, entry.state, entry.fs_uuid, entry.ambiguous, entry.reasons, entry.live.map((match) => [match.pid, match.fd !== null, match.kind])]), [
      [built.orphans[0]?.inode, 'orphan', built.fsUuid, false, [], [[holderPid, true, 'fd']]],
    ]);
  } finally {
    db.close();
  }
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
  // Truncated to the bone: the superblock is there, the bitmaps (block 66 on) and inode tables are not: ils lists nothing.
  const bone = path.join(dir, 'bone.img');
  fs.copyFileSync(makeDeletedImage(dir, 'ext2', Buffer.from('y')).image, bone);
  fs.truncateSync(bone, 64 * 1024);
  const clobbered = makeDeletedImage(dir, 'ext4', Buffer.from('x')).image;
  const fd = fs.openSync(clobbered, 'r+');
  fs.writeSync(fd, Buffer.alloc(1024), 0, 1024, 1024); // the test's own copy: wipe the superblock
  fs.closeSync(fd);
  const cases: Array<[string[], RegExp]> = [
    [['image', 'scan', junk], /no ext2\/3\/4 file system here/],
    [['image', 'scan', clobbered], /no ext2\/3\/4 file system here/],
    [['image', 'scan', empty], /is empty \(0 bytes\)/],
    [['image', 'scan', dir], /is a directory/],
    [['image', 'scan', fifo], /fifo is a FIFO, not a disk image or block device: only those can be read at any offset/],
    [['image', 'scan', '/dev/zero'], /^unlinked: \/dev\/zero is a character device, not a disk image or block device/],
    [['image', 'scan', path.join(dir, 'missing.img')], /no such file or device/],
    [['image', 'scan', junk, '--offset', '999999'], /offset 999999 sectors is past the end/],
    [['image', 'scan', bone], /The Sleuth Kit cannot read this ext file system: .*Offset missing in partial image/],
    [['image', 'extract', dir, '--all'], /is a directory/],
    [['image', 'extract', junk, '--inode', '12'], /no ext2\/3\/4 file system here/],
  ];
  for (const [args, message] of cases) {
    const evidence = args[2] ?? '';
    const before = fs.existsSync(evidence) && fs.statSync(evidence).isFile() && fs.statSync(evidence).size > 0 ? sha256File(evidence) : null;
    const result = runCli(caseDir, args);
    if (before !== null) assert.equal(sha256File(evidence), before, `${args.join(' ')} left the evidence unchanged`);
    assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0] ?? '', message);
  }
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  for (const table of ['images', 'image_filesystems', 'image_inodes', 'extractions']) {
    assert.equal((db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n, 0, `nothing in ${table}`);
  }
  db.close();
});

test('truncated image: orphans listed with full sizes, the prefix that is there kept as incomplete, never a bogus file (root)', async (t) => {
  const dir = makeTempDir('trunc');
  const caseDir = makeTempDir('trunc-case', '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const content = crypto.randomBytes(8 * 1024 * 1024);
  const built = await makeOrphanImage({ dir, fsType: 'ext4', sizeMiB: 64, orphans: [{ name: 'big.bin', content }] });
  // Where the orphan's data starts in the image (1 KiB blocks on a 64 MiB ext4).
  const firstBlock = Number(/^\s*\(0(?:-\d+)?\):(\d+)/m.exec(execFileSync('debugfs', ['-c', '-R', `stat <${built.orphans[0]?.inode}>`, built.image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))?.[1]);
  assert.ok(firstBlock > 1000, `data starts at block ${firstBlock}`);
  // Cut 2 MiB into the data: TSK still lists the orphan with its full size, icat stops at the cut.
  const cut = path.join(dir, 'cut.img');
  fs.copyFileSync(built.image, cut);
  fs.truncateSync(cut, firstBlock * 1024 + 2 * 1024 * 1024);
  const scan = untouched(cut, caseDir, ['image', 'scan', cut, '--json']);
  // The superblock says how long the file system is: a cut copy is said, and the scan is partial.
  assert.equal(scan.code, 3, scan.stderr);
  assert.match(scan.stderr, new RegExp(`sector 0: the file system is ${64 << 20} bytes long but the image holds only ${firstBlock * 1024 + 2 * 1024 * 1024} bytes of it from sector 0: a truncated image`));
  const inodes = json<ImageInodeJson[]>(scan);
  assert.deepEqual(inodes.map((inode) => [inode.inode, inode.state, inode.size, inode.recoverable]), [[built.orphans[0]?.inode, 'orphan', 8 * 1024 * 1024, true]]);
  const result = untouched(cut, caseDir, ['image', 'extract', cut, '--all', '--json']);
  assert.equal(result.code, 3, result.stderr);
  const [copy] = json<ExtractedJson[]>(result);
  assert.equal(copy?.complete, false);
  assert.equal(copy?.method, 'icat');
  assert.ok(copy !== undefined && copy.bytes > 0 && copy.bytes <= 2 * 1024 * 1024, `kept ${copy?.bytes} bytes`);
  assert.equal(copy?.sha256, crypto.createHash('sha256').update(content.subarray(0, copy?.bytes)).digest('hex'), 'the kept prefix is the real start of the file');
  assert.equal(sha256File(copy?.output ?? ''), copy?.sha256);
  // debugfs exits 0 after a failed dump: what it said on stderr is the failure.
  assert.match(copy?.note ?? '', /icat failed after \d+ bytes \(.*Address missing in partial image.*\); debugfs dump failed \(debugfs: dump: .*short read.*\); \d+ of 8388608 bytes extracted$/);
  // Cut before the data: nothing of it in the image, so no file at all (debugfs leaves 0 bytes, removed).
  const bare = path.join(dir, 'bare.img');
  fs.copyFileSync(built.image, bare);
  fs.truncateSync(bare, firstBlock * 1024);
  const none = untouched(bare, caseDir, ['image', 'extract', bare, '--all', '--json']);
  assert.equal(none.code, 3, none.stderr);
  const [nothing] = json<ExtractedJson[]>(none);
  assert.deepEqual([nothing?.output, nothing?.bytes, nothing?.sha256, nothing?.complete, nothing?.method], [null, 0, null, false, null]);
  assert.match(nothing?.note ?? '', /Address missing in partial image.*debugfs dump failed \(debugfs: dump: .*short read.*\); icat produced 0 of 8388608 bytes: the data is not in this image/);
  assert.deepEqual(fs.readdirSync(path.join(caseDir, 'extracted')).filter((name) => name.startsWith('bare')), []);
  // The provenance says so too: each dump's command row has its exit code 0 and the complaint as its error.
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  const dumps = db.prepare(`SELECT exit_code, error FROM commands WHERE program = 'debugfs' AND argv LIKE '%dump <%' ORDER BY id`).all() as Array<{ exit_code: number; error: string | null }>;
  db.close();
  assert.equal(dumps.length, 2);
  for (const dump of dumps) {
    assert.equal(dump.exit_code, 0);
    assert.match(dump.error ?? '', /^dump: .*short read/);
  }
});

test('a truncated image: every record of image scan and image extract --all says why the scan of its file system is partial (scan_note), the exit 3 with it; the JSON report too; --inode copied whole exits 0 (root)', (t) => {
  const dir = makeTempDir('trunc-note');
  const caseDir = makeTempDir('trunc-note-case', '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  // 8 MiB ext4 (1 KiB blocks) made by debugfs -w on the test's own file: two orphans (12 -> 13 on the chain) and a deleted inode (14).
  const image = path.join(dir, 'e4.img');
  fs.writeFileSync(image, '');
  fs.truncateSync(image, 8 << 20);
  execFileSync('mkfs.ext4', ['-q', '-F', image]);
  const contents = [crypto.randomBytes(20_000), crypto.randomBytes(30_000), crypto.randomBytes(5_000)];
  contents.forEach((content, index) => fs.writeFileSync(path.join(dir, `f${index}`), content));
  const commands = [
    ...contents.map((_, index) => `write ${path.join(dir, `f${index}`)} f${index}`),
    'unlink f0', 'unlink f1', 'set_inode_field <12> links_count 0', 'set_inode_field <13> links_count 0', 'set_inode_field <12> dtime 13', 'set_super_value last_orphan 12', 'kill_file f2',
  ];
  execFileSync('debugfs', ['-w', '-f', '-', image], { input: commands.join('\n'), stdio: ['pipe', 'ignore', 'ignore'] });
  const trunc = path.join(dir, 'trunc.img');
  fs.copyFileSync(image, trunc);
  fs.truncateSync(trunc, 3_000_000);
  const why = 'the file system is 8388608 bytes long but the image holds only 3000000 bytes of it from sector 0: a truncated image; what lies past its end (inodes, data) is missing';
  const note = `the scan of the file system at sector 0 is partial (inodes may be missing from its list, or not fully described): ${why}`;
  const scan = untouched(trunc, caseDir, ['image', 'scan', trunc, '--json']);
  assert.equal(scan.code, 3, scan.stderr);
  assert.ok(scan.stderr.includes(`warning: sector 0: ${why}\n`), scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((inode) => [inode.inode, inode.state, inode.recoverable, inode.scan_note]), [[12, 'orphan', true, note], [13, 'orphan', true, note], [14, 'deleted', true, note]]);
  // Every copy whole, but the list they come from may lack inodes: exit 3, and each record says why.
  const all = untouched(trunc, caseDir, ['image', 'extract', trunc, '--all', '--json']);
  assert.equal(all.code, 3, all.stderr);
  const sha = (data: Buffer): string => crypto.createHash('sha256').update(data).digest('hex');
  assert.deepEqual(json<ExtractedJson[]>(all).map((copy) => [copy.inode, copy.bytes, copy.sha256, copy.complete, copy.note, copy.scan_note]),
    contents.map((content, index) => [12 + index, content.length, sha(content), true, null, note]));
  // Asked for by number: what was asked was copied whole (exit 0); the record still says what the scan it was listed by could not see.
  const named = untouched(trunc, caseDir, ['image', 'extract', trunc, '--inode', '13', '--json']);
  assert.equal(named.code, 0, named.stderr);
  assert.deepEqual(json<ExtractedJson[]>(named).map((copy) => [copy.inode, copy.sha256, copy.complete, copy.scan_note]), [[13, sha(contents[1] ?? Buffer.alloc(0)), true, note]]);
  const report = JSON.parse(runCli(caseDir, ['report', '--format', 'json', '--out', '-']).stdout) as { image_inodes: ImageInodeJson[]; extracted: ExtractedJson[] };
  assert.deepEqual(report.image_inodes.map((inode) => [inode.inode, inode.scan_note]), [[12, note], [13, note], [14, note]]);
  assert.deepEqual(report.extracted.map((copy) => [copy.inode, copy.scan_note]), [[12, note], [13, note], [14, note], [13, note]]);
  // The whole image: no note, exit 0.
  const whole = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(whole.code, 0, whole.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(whole).map((inode) => [inode.inode, inode.scan_note]), [[12, null], [13, null], [14, null]]);
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

test('an image written to during its scan is reported CHANGED (exit 3): by its stamp, and with --verify by its sha256 (root)', async (t) => {
  const dir = makeTempDir('img-changed');
  const caseDir = makeTempDir('img-changed-case', '/dev/shm');
  const wrappers = makeTempDir('img-changed-bin');
  t.after(() => {
    for (const gone of [dir, caseDir, wrappers]) fs.rmSync(gone, { recursive: true, force: true });
  });
  const built = await makeOrphanImage({ dir, fsType: 'ext4', sizeMiB: 16, orphans: orphanContents() });
  const env = { ...process.env, PATH: `${wrappers}:${process.env['PATH'] ?? ''}`, UNLINKED_TEST_IMAGE: built.image };
  const scan = (args: string[]): CliResult => {
    const result = spawnSync(process.execPath, [cliPath, '--case', caseDir, 'image', 'scan', built.image, ...args], { encoding: 'utf8', env });
    return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  };
  // Untouched, --verify reads the image again and finds the same sha256.
  const clean = scan(['--verify', '-q']);
  assert.equal(clean.code, 0, clean.stderr);
  // Then "fls" writes its pid into the image once it has run (a byte before the superblock, unused by
  // ext4): another program writing to the evidence while unlinked reads it, after the first hash
  // (which reads the 16 MiB in tens of ms beside the tools: the wrapper gives it a second, so a
  // loaded machine cannot have the write land before the hash read that byte).
  const realFls = execFileSync('sh', ['-c', 'command -v fls'], { encoding: 'utf8' }).trim();
  const wrapper = `#!/bin/sh\n${realFls} "$@"\nstatus=$?\nsleep 1\nprintf '%s' "$$" | dd of="$UNLINKED_TEST_IMAGE" bs=1 seek=100 conv=notrunc status=none\nexit $status\n`;
  fs.writeFileSync(path.join(wrappers, 'fls'), wrapper, { mode: 0o755 });
  const byStamp = scan([]);
  assert.equal(byStamp.code, 3, byStamp.stderr);
  assert.match(byStamp.stderr, /CHANGED while it was scanned \((size \d+ -> \d+, )?mtime moved, ctime moved\): something else writes to it/);
  const byHash = scan(['--verify']);
  assert.equal(byHash.code, 3, byHash.stderr);
  assert.match(byHash.stderr, /CHANGED while it was scanned \(sha256 [0-9a-f]{64} before, [0-9a-f]{64} after\)/);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    const rows = db.prepare('SELECT sha256_after IS NULL AS unverified, sha256_after = sha256 AS same, unchanged_after FROM images ORDER BY id').all();
    assert.deepEqual(rows, [
      { unverified: 0, same: 1, unchanged_after: 1 },
      { unverified: 1, same: null, unchanged_after: 0 },
      { unverified: 0, same: 0, unchanged_after: 0 },
    ]);
  } finally {
    db.close();
  }
});

test('a crash copy whose journal was not replayed says so and exits 3; replayed on a copy with debugfs journal_run, its orphan is found (root)', (t) => {
  const dir = makeTempDir('crash');
  const caseDir = makeTempDir('crash-case', '/dev/shm');
  const device = loopFs({ dir, sizeMiB: 32, mkfsArgs: ['-O', '^orphan_file'] });
  const { backing, mountPoint } = device;
  let heldFd: number | null = null;
  /** Close, unmount, detach: whatever is still open, once (also when the test failed half-way). */
  const undo = () => {
    if (heldFd !== null) fs.closeSync(heldFd);
    heldFd = null;
    device.cleanup();
  };
  t.after(() => {
    undo();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const content = crypto.randomBytes(50_000);
  const held = path.join(mountPoint, 'held.bin');
  heldFd = fs.openSync(held, 'w+');
  fs.writeSync(heldFd, content);
  const inode = fs.fstatSync(heldFd).ino;
  execFileSync('sync', ['-f', mountPoint]);
  // Unlinked while open; another file's fsync commits that to the journal, and nothing writes it to
  // its place yet (no syncfs, no freeze): the disk copied now is a crash image, the orphan in the journal only.
  fs.unlinkSync(held);
  const other = fs.openSync(path.join(mountPoint, 'other'), 'w');
  fs.writeSync(other, 'x');
  fs.fsyncSync(other);
  fs.closeSync(other);
  const crash = path.join(dir, 'crash.img');
  fs.copyFileSync(backing, crash);
  undo();
  assert.match(execFileSync('dumpe2fs', ['-h', crash], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), /^Filesystem features:.* needs_recovery/m);

  // extract --all with no scan in the case scans first, and says what that scan could not see.
  const extracted = untouched(crash, caseDir, ['image', 'extract', crash, '--all', '--json']);
  assert.equal(extracted.code, 3, extracted.stderr);
  assert.deepEqual(json<ExtractedJson[]>(extracted), []);
  assert.match(extracted.stderr, /^warning: sector 0: the journal was not replayed \(needs_recovery: /m);
  const scan = untouched(crash, caseDir, ['image', 'scan', crash, '--json']);
  assert.equal(scan.code, 3, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan), []);
  assert.match(scan.stderr, /^warning: sector 0: the journal was not replayed \(needs_recovery: not cleanly unmounted: a crash, a power-off, or a copy of a mounted disk\): orphans and deletions recorded only in the journal are not seen\. Replay it on a COPY, never the original, and scan the copy: cp IMAGE COPY && debugfs -w -R journal_run COPY \(not e2fsck: it frees the orphans\)$/m);

  // What the warning says to do, on a copy: the orphan is there.
  const replayed = path.join(dir, 'replayed.img');
  fs.copyFileSync(crash, replayed);
  execFileSync('debugfs', ['-w', '-R', 'journal_run', replayed], { stdio: 'ignore' });
  const again = untouched(replayed, caseDir, ['image', 'scan', replayed, '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(again).map((entry) => [entry.inode, entry.state, entry.size, entry.recoverable, entry.found_by]), [[inode, 'orphan', 50_000, true, 'ils+orphan_chain']]);
  const [copy] = json<ExtractedJson[]>(untouched(replayed, caseDir, ['image', 'extract', replayed, '--all', '--json']));
  assert.deepEqual([copy?.inode, copy?.sha256, copy?.complete], [inode, crypto.createHash('sha256').update(content).digest('hex'), true]);
});

test('a truncated image on which ils lists the orphans and then stops (exit 1) keeps them: warned, exit 3, extracted whole (root)', async (t) => {
  const dir = makeTempDir('ils-cut');
  const caseDir = makeTempDir('ils-cut-case', '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const content = crypto.randomBytes(20_000);
  // No flex_bg: group 1's bitmaps lie in group 1, after the orphan's inode and data in group 0.
  const built = await makeOrphanImage({ dir, fsType: 'ext4', sizeMiB: 16, features: ['^flex_bg'], orphans: [{ name: 'kept.bin', content }] });
  const layout = execFileSync('dumpe2fs', [built.image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const bitmap = Number(/^Group 1:[\s\S]*?Inode bitmap at (\d+)/m.exec(layout)?.[1]);
  const inode = built.orphans[0]?.inode ?? 0;
  const lastDataBlock = Math.max(...[...execFileSync('debugfs', ['-c', '-R', `blocks <${inode}>`, built.image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).matchAll(/\d+/g)].map((match) => Number(match[0])));
  assert.ok(inode < 2048 && lastDataBlock < bitmap, `inode ${inode} and its data (to block ${lastDataBlock}) before the cut at block ${bitmap}`);
  const cut = path.join(dir, 'cut.img');
  fs.copyFileSync(built.image, cut);
  fs.truncateSync(cut, bitmap * 1024);
  const ilsSays = spawnSync('ils', ['-aL', cut], { encoding: 'utf8' });
  assert.equal(ilsSays.status, 1);
  assert.match(ilsSays.stdout, new RegExp(`^${inode}\\|a\\|`, 'm'));

  const scan = untouched(cut, caseDir, ['image', 'scan', cut, '--json']);
  assert.equal(scan.code, 3, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.state, entry.size, entry.recoverable, entry.found_by]), [[inode, 'orphan', 20_000, true, 'ils+orphan_chain']]);
  const stopped = `\\(Error reading image file \\(tsk_fs_read: Offset missing in partial image: ${bitmap * 1024}\\)\\) \\(ext2fs_imap_load: Inode bitmap 1 at ${bitmap}\\)\\)`;
  assert.match(scan.stderr, new RegExp(`^warning: sector 0: ils -aL stopped part-way ${stopped}: what it listed before that is kept \\(2 rows\\); inodes past that point were not seen$`, 'm'));
  // ils -r printed its header and no row before it stopped: nothing to keep, a failure (and a partial scan).
  assert.match(scan.stderr, new RegExp(`^warning: sector 0: ils -r \\(deleted inodes\\) failed: ils exited with code 1: ${stopped.slice(2, -2)}$`, 'm'));
  const extract = untouched(cut, caseDir, ['image', 'extract', cut, '--all', '--json']);
  // Copied whole from a list that may lack inodes: exit 3, and the record says why.
  assert.equal(extract.code, 3, extract.stderr);
  const [copy] = json<ExtractedJson[]>(extract);
  assert.deepEqual([copy?.inode, copy?.bytes, copy?.sha256, copy?.complete], [inode, 20_000, crypto.createHash('sha256').update(content).digest('hex'), true]);
  assert.match(copy?.scan_note ?? '', new RegExp(`^the scan of the file system at sector 0 is partial \\(inodes may be missing from its list, or not fully described\\): the file system is ${16 << 20} bytes long but the image holds only ${bitmap * 1024} bytes of it from sector 0: a truncated image; .*; ils -aL stopped part-way `));
});

test('an orphan of 600 extents whose block list istat cannot read (debugfs had no room on the case disk): its blocks are unknown, not none, and extract still copies it, into a case whose path holds a quote and a question mark; an istat that reads it (TSK 4.14) gives its data blocks (root)', async (t) => {
  const dir = makeTempDir('fragmented');
  const small = path.join(dir, 'small');
  let mounted = false;
  t.after(() => {
    if (mounted) execFileSync('umount', [small]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  // 4 KiB of data, then a 4 KiB hole, 600 times: 600 extents, more than istat (TSK 4.11.1) can list;
  // 4.14.0 lists them (fixtures/tsk/istat-extent-index-*.txt).
  const content = Buffer.alloc(600 * 8192);
  for (let index = 0; index < 600; index++) content.fill(65 + (index % 26), index * 8192, index * 8192 + 4096);
  const built = await makeOrphanImage({ dir, fsType: 'ext4', sizeMiB: 64, features: ['^orphan_file'], orphans: [{ name: 'sparsefrag.bin', content, sparse: true }] });
  const orphan = built.orphans[0];
  assert.ok(orphan !== undefined);
  assert.equal(orphan.sha256, crypto.createHash('sha256').update(content).digest('hex'));
  const before = sha256File(built.image);
  // A case disk too small for debugfs's batch output: the scan falls back to istat.
  fs.mkdirSync(small);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4200k', 'tmpfs', small]);
  mounted = true;
  const smallCase = path.join(small, 'case');
  const scan = runCli(smallCase, ['image', 'scan', built.image, '--json']);
  assert.equal(scan.code, 3, scan.stderr);
  // What the installed istat makes of the inode decides what the scan can know: the tool's own answer, not its version.
  const istatReads = !spawnSync('istat', [built.image, String(orphan.inode)], { encoding: 'latin1' }).stdout.includes('\nError reading file:');
  assert.match(scan.stderr, istatReads
    ? /^warning: sector 0: 1 inodes not described by debugfs: 1 described by istat instead$/m
    : /^warning: sector 0: 1 inodes not described by debugfs: 1 described by istat instead \(1 without their data blocks, which istat could not read: whether they still point at data is unknown\)$/m);
  const record = json<ImageInodeJson[]>(scan).find((entry) => entry.inode === orphan.inode);
  assert.deepEqual([record?.state, record?.size], ['orphan', content.length]);
  const db = new Database(path.join(smallCase, 'case.sqlite'), { readonly: true });
  assert.deepEqual(db.prepare('SELECT blocks FROM image_inodes WHERE inode = ?').get(orphan.inode), { blocks: istatReads ? 2400 : null }, istatReads ? '600 extents of 4 KiB: 4 blocks of 1 KiB each' : 'unknown, not 0');
  db.close();
  // The case moved to a disk with room, under a path debugfs's request line would have split.
  const moved = path.join(dir, 'c"a?se');
  fs.cpSync(smallCase, moved, { recursive: true });
  const extract = runCli(moved, ['image', 'extract', built.image, '--all', '--json']);
  // The list is the partial scan's (an inode it could not describe): said again, exit 3, as a scan made by extract would.
  assert.equal(extract.code, 3, extract.stderr);
  assert.match(extract.stderr, /^warning: sector 0: the case's scan of this image, whose list is used, read it only in part: debugfs stat failed: no room on the case's disk/m);
  const copy = json<ExtractedJson[]>(extract).find((entry) => entry.inode === orphan.inode);
  // icat fails where istat could not read the block list, and debugfs copies it.
  assert.deepEqual([copy?.sha256, copy?.bytes, copy?.complete, copy?.method], [orphan.sha256, content.length, true, istatReads ? 'icat' : 'debugfs']);
  assert.equal(sha256File(built.image), before);
});

test('an orphan with a 64 MiB hole on an ext4 without extents (block maps): copied by debugfs cat, not by icat, which reads such holes a block at a time, and said so (root)', async (t) => {
  const dir = makeTempDir('blockmap-holes');
  const caseDir = makeTempDir('blockmap-holes-case', '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const content = Buffer.alloc((64 << 20) + 8192);
  content.fill('A', 0, 5000);
  content.fill('C', content.length - 10);
  const built = await makeOrphanImage({ dir, fsType: 'ext4', sizeMiB: 32, features: ['^extent', '^64bit', '^orphan_file'], orphans: [{ name: 'holes.db', content, sparse: true }] });
  const orphan = built.orphans[0];
  assert.ok(orphan !== undefined);
  const before = sha256File(built.image);
  const extract = runCli(caseDir, ['image', 'extract', built.image, '--all', '--json']);
  assert.equal(extract.code, 0, extract.stderr);
  const copy = json<ExtractedJson[]>(extract).find((entry) => entry.inode === orphan.inode);
  assert.deepEqual([copy?.sha256, copy?.bytes, copy?.complete, copy?.method], [crypto.createHash('sha256').update(content).digest('hex'), content.length, true, 'debugfs']);
  assert.match(copy?.note ?? '', /^a block-mapped file with holes \(no extents on this file system\): copied by debugfs cat, since icat reads such holes a block at a time \(minutes per GiB\); written sparse: \d+ bytes of zeros left as holes/);
  assert.ok(fs.statSync(copy?.output ?? '').blocks * 512 < 1 << 20, 'written sparse');
  assert.equal(sha256File(built.image), before);
});

test('an orphan that is all holes (ftruncate\'d to 5 MiB, never written) is recoverable: its 5 MiB of zeros copied, complete, with their sha256, by --all and --inode alike (root)', async (t) => {
  const dir = makeTempDir('all-holes');
  const caseDir = makeTempDir('all-holes-case', '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const content = Buffer.alloc(5 << 20);
  const built = await makeOrphanImage({ dir, fsType: 'ext4', sizeMiB: 32, orphans: [{ name: 'holes', content, sparse: true }] });
  const orphan = built.orphans[0];
  assert.ok(orphan !== undefined);
  const zeros = crypto.createHash('sha256').update(content).digest('hex');
  const before = sha256File(built.image);
  // Not scanned yet: --inode describes it itself (allocated, no data blocks).
  const byInode = runCli(caseDir, ['image', 'extract', built.image, '--inode', String(orphan.inode), '--json']);
  assert.equal(byInode.code, 0, byInode.stderr);
  const first = json<ExtractedJson[]>(byInode)[0];
  // Said on the record and on each copy: a reader must not take the zeros for data that was there.
  const allHoles = `points at no data block: all holes; its ${content.length} bytes are zeros as the file system reads them: a file given its size (ftruncate) and never written, ` +
    'or written since but its data not on the disk yet when the image was taken (delayed allocation); not a file whose data was freed ' +
    '(when an unlinked file is let go, the kernel sets its size to 0 before it frees its blocks)';
  assert.deepEqual([first?.bytes, first?.sha256, first?.complete, first?.note], [content.length, zeros, true, allHoles]);
  const scan = runCli(caseDir, ['image', 'scan', built.image, '--json']);
  const record = json<ImageInodeJson[]>(scan).find((entry) => entry.inode === orphan.inode);
  assert.deepEqual([record?.state, record?.size, record?.recoverable, record?.note], ['orphan', content.length, true, allHoles]);
  const all = runCli(caseDir, ['image', 'extract', built.image, '--all', '--json']);
  assert.equal(all.code, 0, all.stderr);
  const copy = json<ExtractedJson[]>(all).find((entry) => entry.inode === orphan.inode);
  assert.deepEqual([copy?.bytes, copy?.sha256, copy?.complete, copy?.note], [content.length, zeros, true, allHoles]);
  assert.equal(sha256File(copy?.output ?? ''), zeros);
  assert.equal(sha256File(built.image), before);
});

/**
 * fscrypt's ioctls (linux/fscrypt.h) through python3, on the test's own file system: `add` puts a
 * v2 key (64 fixed bytes) into the file system's keyring and prints its identifier; `policy DIR ID`
 * encrypts what is made in DIR from then on; `remove MOUNT ID` takes the key out again.
 */
const FSCRYPT = String.raw`
import os, sys, fcntl, struct
ioc = lambda direction, number, size: (direction << 30) | (size << 16) | (0x66 << 8) | number
what, target = sys.argv[1], sys.argv[2]
fd = os.open(target, os.O_RDONLY)
if what == 'add':
    arg = bytearray(struct.pack('<II32sII32s', 2, 0, b'\0' * 32, 64, 0, b'\0' * 32) + bytes(range(64)))
    fcntl.ioctl(fd, ioc(3, 23, 80), arg, True)  # FS_IOC_ADD_ENCRYPTION_KEY
    print(bytes(arg[8:24]).hex())
elif what == 'policy':
    policy = struct.pack('<BBBB4s16s', 2, 1, 4, 0, b'\0' * 4, bytes.fromhex(sys.argv[3]))  # v2, AES-256-XTS, AES-256-CTS
    fcntl.ioctl(fd, ioc(2, 19, 12), bytearray(policy), True)  # FS_IOC_SET_ENCRYPTION_POLICY
else:
    arg = bytearray(struct.pack('<II32sI20s', 2, 0, bytes.fromhex(sys.argv[3]) + b'\0' * 16, 0, b'\0' * 20))
    fcntl.ioctl(fd, ioc(3, 24, 64), arg, True)  # FS_IOC_REMOVE_ENCRYPTION_KEY
`;
const fscrypt = (...args: string[]): string => execFileSync('python3', ['-c', FSCRYPT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

test('files of an fscrypt-encrypted directory (EXT4_ENCRYPT_FL): the scan record and the copy say their bytes are ciphertext, not the content; the copy is what the disk holds, complete (root)', async (t) => {
  const dir = makeTempDir('fscrypt');
  // Unmounted and detached before the folder of its mount point is removed (after hooks run in order).
  const device = loopFsFor(t, { dir, sizeMiB: 64, fsType: 'ext4', mkfsArgs: ['-b', '4096', '-O', 'encrypt'] });
  const { caseDir } = imageWorkDirs(t, 'fscrypt-case');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const encrypted = path.join(device.mountPoint, 'enc');
  fs.mkdirSync(encrypted);
  const plaintext = crypto.randomBytes(5000);
  const image = path.join(dir, 'evidence.img');
  const keyId = fscrypt('add', device.mountPoint);
  let holder: Holder | null = null;
  try {
    fscrypt('policy', encrypted, keyId);
    // 13: written, unlinked and held open (an orphan); 14: written and deleted (the kernel zeroes its extents).
    holder = await startHolder(encrypted, [{ kind: 'fd', name: 'secret', content: plaintext }]);
    fs.writeFileSync(path.join(encrypted, 'gone'), crypto.randomBytes(3000));
    execFileSync('sync', ['-f', device.mountPoint]);
    fs.unlinkSync(path.join(encrypted, 'gone'));
    execFileSync('sync', ['-f', device.mountPoint]);
    execFileSync('fsfreeze', ['-f', device.mountPoint]);
    try {
      fs.copyFileSync(device.backing, image);
    } finally {
      execFileSync('fsfreeze', ['-u', device.mountPoint]);
    }
  } finally {
    await holder?.stop();
    fscrypt('remove', device.mountPoint, keyId);
  }
  assert.deepEqual(holder?.files.map((file) => file.inode), [13]);
  assert.match(execFileSync('debugfs', ['-c', '-R', 'stat <13>', image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), /Flags: 0x80800\n/);
  // What the disk holds of 13: its two blocks, cut at its size.
  const blocks = execFileSync('debugfs', ['-c', '-R', 'blocks <13>', image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split(/\s+/).map(Number);
  assert.equal(blocks.length, 2);
  const bytes = fs.readFileSync(image);
  const ciphertext = Buffer.concat(blocks.map((block) => bytes.subarray(block * 4096, (block + 1) * 4096))).subarray(0, 5000);
  assert.notEqual(sha256(ciphertext), sha256(plaintext));

  const name = '; its name in an encrypted directory is encrypted too (a last_name is the encrypted name\'s bytes)';
  const copied = 'encrypted (fscrypt, inode flag EXT4_ENCRYPT_FL 0x800): its bytes on the disk are ciphertext, not the file\'s content, usable only with its key (not in the image); ' +
    'a copy of it is that ciphertext, whose sha256 is not the plaintext\'s (fscrypt encrypts whole blocks: cut at the size, the copy ends inside its last block\'s ciphertext, which blkcat reads whole)' + name;
  const freed = 'the inode (size 0) points at no data blocks any more (on unlink the kernel zeroes an ext4 inode\'s extents and its size); encrypted (fscrypt, inode flag EXT4_ENCRYPT_FL 0x800)' + name;
  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.state, entry.size, entry.recoverable, entry.note]), [
    [13, 'orphan', 5000, true, copied], [14, 'deleted', 0, false, freed],
  ]);
  const all = untouched(image, caseDir, ['image', 'extract', image, '--all', '--json']);
  assert.equal(all.code, 0, all.stderr);
  const [copy] = json<ExtractedJson[]>(all);
  assert.deepEqual(json<ExtractedJson[]>(all).map((entry) => [entry.inode, entry.bytes, entry.sha256, entry.complete, entry.method, entry.note]), [[13, 5000, sha256(ciphertext), true, 'icat', copied]]);
  assert.ok(fs.readFileSync(copy?.output ?? '').equals(ciphertext));
  assert.match(all.stderr, new RegExp(`^inode 13 at sector 0: 5000 bytes, sha256 ${sha256(ciphertext)} \\(encrypted \\(fscrypt, inode flag EXT4_ENCRYPT_FL 0x800\\): its bytes on the disk are ciphertext`, 'm'));
  const named = untouched(image, caseDir, ['image', 'extract', image, '--inode', '14', '--json']);
  assert.deepEqual(json<ExtractedJson[]>(named).map((entry) => [entry.output, entry.complete, entry.note]), [[null, false, `unrecoverable: ${freed}: nothing extracted`]]);
  // Named in a case with no scan of the image: described by debugfs alone, the same note.
  const { caseDir: fresh } = imageWorkDirs(t, 'fscrypt-named');
  const alone = untouched(image, fresh, ['image', 'extract', image, '--inode', '13', '--json']);
  assert.equal(alone.code, 0, alone.stderr);
  assert.deepEqual(json<ExtractedJson[]>(alone).map((entry) => [entry.bytes, entry.sha256, entry.complete, entry.note]), [[5000, sha256(ciphertext), true, copied]]);
});

test('image scan --json is written in pieces as the records are read, byte for byte the JSON of the stored records (compact, one line, keys in CONTRACT.md order) (root)', async (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'scan-streamed');
  // 600 files deleted by debugfs kill_file: 600 records of about 400 bytes, several pieces of 64 KiB.
  const names = Array.from({ length: 600 }, (_, index) => `deleted-${String(index).padStart(3, '0')}.log`);
  const image = debugfsBuilt(dir, ['mkfs.ext4', '-N', '1024'], Object.fromEntries(names.map((name) => [name, Buffer.from(`${name}\n`)])),
    names.map((name) => `kill_file ${name}\nunlink ${name}\n`).join(''));
  const writes: string[] = [];
  const stdout = new Writable({ write: (chunk: Buffer, _encoding, done) => { writes.push(chunk.toString('utf8')); done(); } });
  const stderr = new Writable({ write: (_chunk, _encoding, done) => done() });
  const before = sha256File(image);
  const ctx = makeContext({ case: caseDir, json: true, quiet: true }, { stdout, stderr });
  assert.equal(await imageScanCommand(ctx, image, {}), 0);
  assert.equal(sha256File(image), before);
  const text = writes.join('');
  const inodes = JSON.parse(text) as ImageInodeJson[];
  const deleted = inodes.filter((inode) => inode.state === 'deleted');
  assert.deepEqual(deleted.map((inode) => inode.inode), names.map((_, index) => 12 + index));
  // The name fls still finds (one that began a directory block is merged away by its unlink: null) is the file's own.
  for (const inode of deleted) assert.ok(inode.last_name === null || inode.last_name === names[inode.inode - 12], `inode ${inode.inode}: ${inode.last_name}`);
  assert.ok(deleted.filter((inode) => inode.last_name !== null).length > 500);
  for (const inode of inodes) assert.deepEqual(Object.keys(inode), [...SCAN_KEYS]);
  // What the whole array made in one string was, from the same records: the same bytes.
  const kase = openCase(caseDir, { create: false, readsOnly: true });
  try {
    const records = imageInodesOf(kase.db, 1).map(({ image_inode_id: _id, blocks: _blocks, block_size: _blockSize, nlink: _nlink, crtime: _crtime, ...record }) => record);
    assert.equal(text, `${jsonText(records)}\n`);
  } finally {
    kase.close();
  }
  assert.equal(text, `${JSON.stringify(inodes)}\n`);
  // Written as it was made (pieces of 64 KiB), not as one string at the end.
  assert.ok(text.length > 4 * 65536, `${text.length} bytes`);
  assert.ok(writes.length >= 4, `${writes.length} writes`);
  for (const piece of writes.slice(0, -1)) assert.ok(piece.length >= 65536 && piece.length < 65536 + 4096, `a piece of ${piece.length} bytes`);
});
