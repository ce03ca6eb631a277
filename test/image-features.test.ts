// File-system feature variants: what mke2fs leaves of an earlier file system on the disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { json, runCli } from './helpers/cli.js';
import { frozenCopy, imageWorkDirs, sha256, sha256File } from './helpers/images.js';
import { loopFs } from './helpers/loopfs.js';
import type { ImageInodeJson } from '../src/store/images.js';
import type { ExtractedJson } from '../src/image/extract.js';

const debugfsW = (image: string, commands: string): void => {
  execFileSync('debugfs', ['-w', '-f', '-', image], { input: commands, stdio: ['pipe', 'ignore', 'ignore'] });
};

test('a quick reformat (mke2fs lazy_itable_init over an earlier ext4): the earlier file system\'s inodes, which ils lists as deleted, are said to be last changed before this one was made; a file of this one is not (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'img-reformat');
  const image = path.join(dir, 'reformatted.img');
  fs.writeFileSync(image, '');
  fs.truncateSync(image, 8 << 20);
  // The earlier file system: five files (inodes 12-16), the second freed (debugfs kill_file keeps its
  // blocks), the last empty, all last changed in 2020.
  execFileSync('mkfs.ext4', ['-q', '-F', image], { stdio: 'ignore' });
  const old = [crypto.randomBytes(40_000), crypto.randomBytes(5000), crypto.randomBytes(6000), crypto.randomBytes(7000), Buffer.alloc(0)];
  old.forEach((content, index) => fs.writeFileSync(path.join(dir, `old${index}`), content));
  debugfsW(image, old.map((_, index) => `write ${path.join(dir, `old${index}`)} old${index}\n`).join('') +
    'kill_file old1\nunlink old1\n' +
    [12, 13, 14, 15, 16].map((inode) => `sif <${inode}> ctime @1600000000\n`).join('') + 'sif <13> dtime @1600000001\n');
  // The new one over it, as `mkfs.ext4` makes it on a disk (no discard: a disk that cannot, or a file):
  // its inode tables past the two inodes it uses are left as they were.
  execFileSync('mkfs.ext4', ['-q', '-F', '-E', 'nodiscard,lazy_itable_init=1', image], { stdio: 'ignore' });
  // s_mkfs_time, as dumpe2fs prints it ("Filesystem created:").
  const mkfsTime = fs.readFileSync(image).readUInt32LE(1024 + 0x108);
  const created = /^Filesystem created:\s+(.+)$/m.exec(execFileSync('dumpe2fs', ['-h', image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, TZ: 'UTC' } }))?.[1];
  assert.equal(Date.parse(`${created ?? ''} UTC`) / 1000, mkfsTime);
  // A file of this one, freed (its blocks kept): inode 12 again, over the earlier one's inode 12.
  const fresh = crypto.randomBytes(3000);
  fs.writeFileSync(path.join(dir, 'fresh'), fresh);
  debugfsW(image, `write ${path.join(dir, 'fresh')} fresh\nkill_file fresh\nunlink fresh\n`);
  const before = sha256File(image);

  const scan = runCli(caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.match(scan.stderr, new RegExp(`^warning: sector 0: 4 deleted inodes \\(first: 13, 14, 15, 16\\) were last changed before this file system was made \\(s_mkfs_time ${mkfsTime}\\): ` +
    'most likely left by an earlier file system on this disk in inode tables mke2fs did not zero \\(lazy_itable_init\\), not files of this one: kept, each record\'s note says so$', 'm'));
  const why = `most likely an inode of an earlier file system on this disk, left in an inode table mke2fs did not zero (lazy_itable_init: ` +
    `until the first mount's ext4lazyinit zeroes them, the inodes past those a group has used hold what the disk held), not a file of this one ` +
    `(made at ${mkfsTime}; or the clock was set back since); the blocks it points at may since hold this file system's data`;
  const unrecoverable = 'the inode (size 0) points at no data blocks any more (on unlink the kernel zeroes an ext4 inode\'s extents and its size)';
  const inodes = json<ImageInodeJson[]>(scan);
  assert.deepEqual(inodes.map((inode) => [inode.inode, inode.state, inode.size, inode.ctime, inode.dtime, inode.recoverable, inode.note]), [
    [12, 'deleted', 3000, inodes[0]?.ctime, inodes[0]?.dtime, true, null],
    [13, 'deleted', 5000, 1600000000, 1600000001, true, why],
    [14, 'deleted', 6000, 1600000000, null, true, why],
    [15, 'deleted', 7000, 1600000000, null, true, why],
    [16, 'deleted', 0, 1600000000, null, false, `${unrecoverable}; ${why}`],
  ]);
  assert.ok((inodes[0]?.ctime ?? 0) >= mkfsTime && (inodes[0]?.dtime ?? 0) >= mkfsTime);

  // Their copies are what the disk holds (the earlier files' bytes, here not overwritten), the note with them.
  const extract = runCli(caseDir, ['image', 'extract', image, '--all', '--json']);
  assert.equal(extract.code, 0, extract.stderr);
  assert.match(extract.stderr, /^1 deleted inodes point at no data blocks any more: not extracted/m);
  assert.deepEqual(json<ExtractedJson[]>(extract).map((copy) => [copy.inode, copy.bytes, copy.sha256, copy.complete, copy.note]), [
    [12, 3000, sha256(fresh), true, null],
    [13, 5000, sha256(old[1] ?? Buffer.alloc(0)), true, why],
    [14, 6000, sha256(old[2] ?? Buffer.alloc(0)), true, why],
    [15, 7000, sha256(old[3] ?? Buffer.alloc(0)), true, why],
  ]);
  assert.equal(sha256File(image), before, 'the image is unchanged');
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    assert.deepEqual(db.prepare('SELECT inode, note IS NOT NULL AS said FROM image_inodes ORDER BY inode').all(), [
      { inode: 12, said: 0 }, { inode: 13, said: 1 }, { inode: 14, said: 1 }, { inode: 15, said: 1 }, { inode: 16, said: 1 },
    ]);
  } finally {
    db.close();
  }
  // Without a scan (--inode into another case), each copy or refusal says the same.
  const otherCase = path.join(caseDir, 'other');
  const named = runCli(otherCase, ['image', 'extract', image, '--inode', '12', '--inode', '14', '--json']);
  assert.equal(named.code, 0, named.stderr);
  assert.deepEqual(json<ExtractedJson[]>(named).map((copy) => [copy.inode, copy.bytes, copy.sha256, copy.complete, copy.note]), [
    [12, 3000, sha256(fresh), true, null],
    [14, 6000, sha256(old[2] ?? Buffer.alloc(0)), true, why],
  ]);
  assert.equal(sha256File(image), before, 'the image is unchanged');
});

test('a bigalloc image cut short before its group descriptors, which neither The Sleuth Kit nor debugfs can open: one line, exit 1, nothing stored, whether the superblock names an orphan or not (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'img-bigalloc-cut');
  const content = crypto.randomBytes(5000);
  fs.writeFileSync(path.join(dir, 'held'), content);
  for (const chain of [true, false]) {
    const whole = path.join(dir, `whole-${chain}.img`);
    fs.writeFileSync(whole, '');
    fs.truncateSync(whole, 16 << 20);
    execFileSync('mkfs.ext4', ['-q', '-F', '-O', 'bigalloc', whole], { stdio: 'ignore' });
    // An orphan as the kernel leaves one: no link, on the s_last_orphan chain.
    if (chain) debugfsW(whole, `write ${path.join(dir, 'held')} held\nunlink held\nsif <12> links_count 0\nssv last_orphan 12\n`);
    // Read whole, debugfs finds the orphan (or nothing); TSK reads no bigalloc: partial, exit 3.
    const scanWhole = runCli(caseDir, ['image', 'scan', whole, '--json']);
    assert.equal(scanWhole.code, 3, scanWhole.stderr);
    assert.deepEqual(json<ImageInodeJson[]>(scanWhole).map((inode) => [inode.inode, inode.state, inode.size, inode.found_by]), chain ? [[12, 'orphan', 5000, 'orphan_chain']] : []);
    if (chain) {
      // Copied by debugfs alone: icat, which cannot read bigalloc, is not run for it.
      const extract = runCli(caseDir, ['image', 'extract', whole, '--all', '--json']);
      assert.equal(extract.code, 3, extract.stderr);
      assert.deepEqual(json<ExtractedJson[]>(extract).map((copy) => [copy.inode, copy.bytes, copy.sha256, copy.complete, copy.method, copy.note]),
        [[12, 5000, sha256(content), true, 'debugfs', 'read by debugfs dump, not icat: The Sleuth Kit cannot read bigalloc (blocks allocated in clusters)']]);
      const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
      try {
        assert.deepEqual(db.prepare("SELECT count(*) AS n FROM commands WHERE program = 'icat'").get(), { n: 0 });
      } finally {
        db.close();
      }
    }
    const cut = path.join(dir, `cut-${chain}.img`);
    fs.writeFileSync(cut, fs.readFileSync(whole).subarray(0, 3000));
    const before = sha256File(cut);
    const cutCase = path.join(caseDir, `cut-${chain}`);
    for (const args of [['image', 'scan', cut, '--json'], ['image', 'extract', cut, '--all', '--json']]) {
      const result = runCli(cutCase, args);
      assert.equal(result.code, 1, result.stderr);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, new RegExp(`^unlinked: ${cut}: neither The Sleuth Kit \\(bigalloc\\) nor debugfs can read this ext file system: ` +
        'the file system is 16777216 bytes long but the image holds only 3000 bytes of it from sector 0: a truncated image; .*' +
        'debugfs stat failed: debugfs could not read the inodes: debugfs: Attempt to read block from filesystem resulted in short read while trying to open [^\\n]*\\n$'));
      assert.doesNotMatch(result.stderr, /were found and described through debugfs/);
    }
    assert.equal(sha256File(cut), before, 'the image is unchanged');
    const db = new Database(path.join(cutCase, 'case.sqlite'), { readonly: true });
    try {
      assert.deepEqual(db.prepare('SELECT (SELECT count(*) FROM images) AS images, (SELECT count(*) FROM image_filesystems) AS filesystems, (SELECT count(*) FROM image_inodes) AS inodes, (SELECT count(*) FROM extractions) AS extractions').get(),
        { images: 0, filesystems: 0, inodes: 0, extractions: 0 });
      // What ran on the evidence is recorded all the same, debugfs among it.
      assert.ok((db.prepare("SELECT count(*) AS n FROM commands WHERE program = 'debugfs'").get() as { n: number }).n >= 2);
    } finally {
      db.close();
    }
  }
});

test('a block-mapped orphan with a 20 MiB hole, cut short by a truncated image: debugfs cat, tried first, is run once (not again after icat fails), its prefix kept, incomplete (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'img-blockmap-cut');
  const image = path.join(dir, 'blockmap.img');
  fs.writeFileSync(image, '');
  fs.truncateSync(image, 16 << 20);
  execFileSync('mkfs.ext4', ['-q', '-F', '-b', '1024', '-O', '^extent,^64bit', image], { stdio: 'ignore' });
  // 3000 bytes, a 20 MiB hole, 20000 bytes: debugfs write leaves the hole a hole.
  const source = path.join(dir, 'sparse.src');
  const head = crypto.randomBytes(3000);
  const tail = crypto.randomBytes(20000);
  const fd = fs.openSync(source, 'w');
  fs.writeSync(fd, head, 0, head.length, 0);
  fs.writeSync(fd, tail, 0, tail.length, 20 << 20);
  fs.closeSync(fd);
  const content = fs.readFileSync(source);
  debugfsW(image, `write ${source} sparse\nunlink sparse\nsif <12> links_count 0\nssv last_orphan 12\n`);
  const blocks = /\(20480-20491\):(\d+)-/.exec(execFileSync('debugfs', ['-c', '-R', 'stat <12>', image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))?.[1];
  assert.ok(blocks !== undefined, 'the data after the hole in one run of blocks');
  // Cut 8 blocks into that run: 8 KiB after the hole are there, the rest is not.
  const cut = path.join(dir, 'cut.img');
  fs.writeFileSync(cut, fs.readFileSync(image).subarray(0, (Number(blocks) + 8) * 1024));
  const before = sha256File(cut);
  const prefix = (20 << 20) + 8 * 1024;
  const extract = runCli(caseDir, ['image', 'extract', cut, '--inode', '12', '--json']);
  assert.equal(extract.code, 3, extract.stderr);
  const [copy] = json<ExtractedJson[]>(extract);
  assert.deepEqual([copy?.bytes, copy?.sha256, copy?.complete, copy?.method], [prefix, sha256(content.subarray(0, prefix)), false, 'debugfs']);
  assert.match(copy?.note ?? '', /^debugfs cat failed after 20979712 bytes \(debugfs: cat: Attempt to read block from filesystem resulted in short read while reading ext2 file\), tried first for a block-mapped file with holes \(no extents on this file system\); icat failed after \d+ bytes \([^;]*\); written sparse: \d+ bytes of zeros left as holes in the copy \(its sha256 counts them\); 20979712 of 20991520 bytes extracted$/);
  assert.equal(sha256File(copy?.output ?? ''), copy?.sha256);
  // One copy left, no second debugfs file beside it.
  assert.deepEqual(fs.readdirSync(path.join(caseDir, 'extracted')).sort(), ['SHA256SUMS', path.basename(copy?.output ?? '')]);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    const cats = db.prepare("SELECT argv FROM commands WHERE program = 'debugfs' AND argv LIKE '%cat <12>%'").all();
    assert.equal(cats.length, 1, 'debugfs cat run once');
  } finally {
    db.close();
  }
  assert.equal(sha256File(cut), before, 'the image is unchanged');
});

test('image extract --inode of a file freed with its link count (debugfs kill_file) is not called a live file: istat says it is not allocated; on bigalloc, where istat cannot read, that is said (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'img-freed-linked');
  const content = crypto.randomBytes(40_000);
  fs.writeFileSync(path.join(dir, 'f.src'), content);
  const cases: Array<[string[], RegExp]> = [
    [[], /^inode 12 still has 1 link\(s\) but is not allocated \(its inode bitmap bit\): freed without its link count dropped \(debugfs kill_file, a damaged file system\), a deleted file, not a live one\n/],
    [['-O', 'bigalloc'], /^inode 12 still has 1 link\(s\): not an orphan; whether it is in use \(a live file\) or was freed without its link count dropped is not known \(ils -e could not read its allocation\)\n/],
  ];
  for (const [features, said] of cases) {
    const image = path.join(dir, `killed${features.length}.img`);
    fs.writeFileSync(image, '');
    fs.truncateSync(image, 16 << 20);
    execFileSync('mkfs.ext4', ['-q', '-F', ...features, image], { stdio: 'ignore' });
    debugfsW(image, `write ${path.join(dir, 'f.src')} f\nkill_file f\nunlink f\n`);
    const extract = runCli(path.join(caseDir, String(features.length)), ['image', 'extract', image, '--inode', '12', '--json']);
    assert.equal(extract.code, 0, extract.stderr);
    assert.match(extract.stderr, said);
    assert.doesNotMatch(extract.stderr, /a live file, not an orphan/);
    assert.deepEqual(json<ExtractedJson[]>(extract).map((copy) => [copy.inode, copy.bytes, copy.sha256, copy.complete]), [[12, 40_000, sha256(content), true]]);
  }
});

test('an extended attribute value kept in an inode of its own (ea_inode), freed with its file: said to be no file, by scan and by extract --inode (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'img-ea-inode');
  const why = 'the value of an extended attribute of another inode, kept in an inode of its own (ea_inode; inode flag EXT4_EA_INODE_FL 0x200000): ' +
    'not a file, no directory ever named it (its atime holds the value\'s hash, not a time); a copy of it is that value\'s bytes';
  // The kernel's: a file with an 8000-byte attribute (inode 13 holds the value), deleted.
  const device = loopFs({ dir, sizeMiB: 16, fsType: 'ext4', mkfsArgs: ['-O', 'ea_inode'] });
  let image: string;
  try {
    const file = path.join(device.mountPoint, 'owner');
    fs.writeFileSync(file, crypto.randomBytes(3000));
    execFileSync('python3', ['-c', 'import os, sys; os.setxattr(sys.argv[1], "user.big", os.urandom(8000))', file]);
    fs.unlinkSync(file);
    execFileSync('sync', ['-f', device.mountPoint]);
    image = path.join(dir, 'kernel.img');
    frozenCopy(device.mountPoint, device.backing, image);
  } finally {
    device.cleanup();
  }
  const scan = runCli(caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  const noBlocks = 'the inode (size 0) points at no data blocks any more (on unlink the kernel zeroes an ext4 inode\'s extents and its size)';
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((inode) => [inode.inode, inode.state, inode.mode, inode.recoverable, inode.note]), [
    [12, 'deleted', 0o100644, false, null],
    [13, 'deleted', 0o100600, false, `${noBlocks}; ${why}`],
  ]);
  const extract = runCli(caseDir, ['image', 'extract', image, '--inode', '13', '--json']);
  assert.deepEqual(json<ExtractedJson[]>(extract).map((copy) => [copy.inode, copy.output, copy.note]), [[13, null, `unrecoverable: ${noBlocks}; ${why}: nothing extracted`]]);

  // One freed with its blocks (debugfs kill_file), copied by --inode: the value's bytes, said to be one.
  const built = path.join(dir, 'built.img');
  fs.writeFileSync(built, '');
  fs.truncateSync(built, 16 << 20);
  execFileSync('mkfs.ext4', ['-q', '-F', '-O', 'ea_inode', built], { stdio: 'ignore' });
  const value = crypto.randomBytes(1024);
  fs.writeFileSync(path.join(dir, 'value'), value);
  fs.writeFileSync(path.join(dir, 'own'), 'owner');
  debugfsW(built, `write ${path.join(dir, 'own')} own\nea_set -f ${path.join(dir, 'value')} own user.big\nkill_file <13>\n`);
  const copied = runCli(path.join(caseDir, 'built'), ['image', 'extract', built, '--inode', '13', '--json']);
  assert.equal(copied.code, 0, copied.stderr);
  assert.deepEqual(json<ExtractedJson[]>(copied).map((copy) => [copy.inode, copy.bytes, copy.sha256, copy.complete, copy.note]), [[13, 1024, sha256(value), true, why]]);
});
