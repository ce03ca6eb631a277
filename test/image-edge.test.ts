// Issue 6, the awkward images: a damaged inode checksum, a path debugfs cannot name, an image replaced
// since its scan, a size zeroed under its blocks, unreadable or repeated partition tables, a mounted
// partition of the device examined, a case on a volume built on it. Every image is the test's own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir } from './helpers/holder.js';
import { json, runCli, type CliResult } from './helpers/cli.js';
import { makeDeletedImage, sha256, sha256File } from './helpers/images.js';
import type { ImageInodeJson } from '../src/store/images.js';
import type { ExtractedJson } from '../src/image/extract.js';

function work(t: { after: (fn: () => void) => void }, name: string): { dir: string; caseDir: string } {
  const dir = makeTempDir(name);
  const caseDir = makeTempDir(`${name}-case`, '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  return { dir, caseDir };
}

/** Run a command against an image and prove the image is byte-for-byte the same afterwards. */
function untouched(image: string, caseDir: string, args: string[]): CliResult {
  const before = sha256File(image);
  const result = runCli(caseDir, args);
  assert.equal(sha256File(image), before, `${args.join(' ')} left ${image} unchanged`);
  return result;
}

/** An ext4 (metadata_csum, as mkfs makes it) with one file deleted by debugfs kill_file: its extents stay. */
function deletedOnExt4(dir: string, content: Buffer): { image: string; inode: number } {
  const image = path.join(dir, 'csum.img');
  fs.writeFileSync(image, '');
  fs.truncateSync(image, 16 << 20);
  execFileSync('mkfs.ext4', ['-q', '-F', image]);
  const source = path.join(dir, 'gone.bin');
  fs.writeFileSync(source, content);
  execFileSync('debugfs', ['-w', '-R', `write ${source} gone.bin`, image], { stdio: 'ignore' });
  execFileSync('debugfs', ['-w', '-f', '-', image], { input: 'kill_file gone.bin\nunlink gone.bin\n', stdio: ['pipe', 'ignore', 'ignore'] });
  return { image, inode: 12 };
}

/** Where an inode lies in the image, from `debugfs imap` ("located at block B, offset 0xO") and the block size. */
function inodeOffset(image: string, inode: number): number {
  const imap = execFileSync('debugfs', ['-c', '-R', `imap <${inode}>`, image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const where = /located at block (\d+), offset 0x([0-9a-f]+)/.exec(imap);
  const blockSize = Number(/Block size:\s+(\d+)/.exec(execFileSync('dumpe2fs', ['-h', image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))?.[1]);
  assert.ok(where !== null && blockSize > 0, imap);
  return Number(where[1]) * blockSize + parseInt(where[2] ?? '', 16);
}

test('an inode whose metadata checksum does not match is still described (debugfs -n): recoverable, full mode, extracted whole (root)', (t) => {
  const { dir, caseDir } = work(t, 'csum');
  const content = crypto.randomBytes(30_000);
  const { image, inode } = deletedOnExt4(dir, content);
  // Flip one byte of i_checksum_lo (inode offset 0x7C): e2fsprogs refuses the inode without -n.
  const at = inodeOffset(image, inode) + 0x7c;
  const fd = fs.openSync(image, 'r+');
  const byte = Buffer.alloc(1);
  fs.readSync(fd, byte, 0, 1, at);
  byte[0] = (byte[0] ?? 0) ^ 0xff;
  fs.writeSync(fd, byte, 0, 1, at);
  fs.closeSync(fd);
  const refused = execFileSync('sh', ['-c', 'debugfs -c -R "stat <12>" "$1" 2>&1 >/dev/null', 'sh', image], { encoding: 'utf8' });
  assert.match(refused, /Inode checksum does not match/);

  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.state, entry.recoverable, entry.size, entry.mode]), [[inode, 'deleted', true, 30_000, 0o100644]]);
  const [copy] = json<ExtractedJson[]>(untouched(image, caseDir, ['image', 'extract', image, '--all', '--json']));
  assert.deepEqual([copy?.sha256, copy?.complete, copy?.method], [sha256(content), true, 'icat']);
});

test('an image path with "?" (which debugfs reads as its options) is scanned and extracted through a link (root)', (t) => {
  const { dir, caseDir } = work(t, 'qmark');
  const content = crypto.randomBytes(20_000);
  const built = makeDeletedImage(dir, 'ext2', content);
  const image = path.join(dir, 'disk?offset=0.img');
  fs.renameSync(built.image, image);
  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.recoverable, entry.size]), [[built.inode, true, 20_000]]);
  const [copy] = json<ExtractedJson[]>(untouched(image, caseDir, ['image', 'extract', image, '--inode', String(built.inode), '--json']));
  assert.deepEqual([copy?.sha256, copy?.complete], [sha256(content), true]);
  assert.deepEqual(fs.readdirSync(caseDir).filter((name) => name.startsWith('.debugfs-')), [], 'the scratch directory and its link are gone');
});

test('an image replaced since its scan is scanned again before anything is extracted from it; an offset past its end is one line (root)', (t) => {
  const { dir, caseDir } = work(t, 'replaced');
  const first = makeDeletedImage(path.join(dir), 'ext2', crypto.randomBytes(10_000));
  const image = path.join(dir, 'evidence.img');
  fs.renameSync(first.image, image);
  assert.equal(untouched(image, caseDir, ['image', 'scan', image]).code, 0);
  // Another image copied over the same path: another inode list.
  fs.mkdirSync(path.join(dir, 'second'));
  const secondContent = crypto.randomBytes(12_345);
  const second = makeDeletedImage(path.join(dir, 'second'), 'ext2', secondContent);
  fs.copyFileSync(second.image, image);
  const result = untouched(image, caseDir, ['image', 'extract', image, '--all', '--json']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /no scan of .*evidence\.img as it is now in the case \(none yet, or the file or the disk at that path changed since\): scanned it first/);
  assert.deepEqual(json<ExtractedJson[]>(result).map((copy) => [copy.inode, copy.bytes, copy.sha256, copy.complete]), [[second.inode, 12_345, sha256(secondContent), true]]);

  const past = runCli(caseDir, ['image', 'extract', image, '--inode', '12', '--offset', '9007199254740991']);
  assert.equal(past.code, 1);
  assert.equal(past.stderr, `unlinked: offset 9007199254740991 sectors is past the end of ${image} (32768 sectors)\n`);
});

test('a deleted inode whose size is 0 but which still lists its blocks: recoverable, and no empty file is extracted as its content (root)', (t) => {
  const { dir, caseDir } = work(t, 'size0');
  const { image, inode } = makeDeletedImage(dir, 'ext2', crypto.randomBytes(30_000));
  execFileSync('debugfs', ['-w', '-R', `sif <${inode}> size 0`, image], { stdio: 'ignore' });
  assert.deepEqual(json<ImageInodeJson[]>(untouched(image, caseDir, ['image', 'scan', image, '--json'])).map((entry) => [entry.inode, entry.size, entry.recoverable]), [[inode, 0, true]]);
  const result = untouched(image, caseDir, ['image', 'extract', image, '--all', '--json']);
  assert.equal(result.code, 3, result.stderr);
  const [copy] = json<ExtractedJson[]>(result);
  assert.deepEqual([copy?.output, copy?.bytes, copy?.sha256, copy?.complete, copy?.method], [null, 0, null, false, null]);
  assert.match(copy?.note ?? '', /^the inode's size is 0 but it still lists 30 data blocks \(its size was zeroed or altered\)/);
  assert.deepEqual(fs.readdirSync(path.join(caseDir, 'extracted')).filter((name) => name !== 'SHA256SUMS'), []);
});

test('partition tables: an entry twice is scanned once; a table mmls cannot read and a GPT cut short say so and name --offset (root)', (t) => {
  const { dir, caseDir } = work(t, 'tables');
  const content = crypto.randomBytes(20_000);
  const { image: fsImage, inode } = makeDeletedImage(dir, 'ext2', content);
  const fsBytes = fs.readFileSync(fsImage);
  /** A disk with a table from sfdisk's script and the ext2 file system at sector 2048. */
  const disk = (name: string, script: string, sizeMiB: number): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, '');
    fs.truncateSync(file, sizeMiB << 20);
    execFileSync('sfdisk', ['-q', file], { input: script });
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, fsBytes, 0, fsBytes.length, 2048 * 512);
    fs.closeSync(fd);
    return file;
  };

  // MBR whose second entry repeats the first (0x1BE + 16 per entry).
  const twice = disk('twice.img', 'label: dos\nstart=2048, size=32768, type=83\n', 24);
  const mbr = fs.readFileSync(twice).subarray(0, 512);
  mbr.copy(mbr, 0x1be + 16, 0x1be, 0x1be + 16);
  const fd = fs.openSync(twice, 'r+');
  fs.writeSync(fd, mbr, 0, 512, 0);
  fs.closeSync(fd);
  const scan = untouched(twice, caseDir, ['image', 'scan', twice, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.offset_sectors, entry.inode]), [[2048, inode]]);
  assert.deepEqual(json<ExtractedJson[]>(untouched(twice, caseDir, ['image', 'extract', twice, '--inode', String(inode), '--offset', '2048', '--json'])).map((copy) => copy.sha256), [sha256(content)]);

  // MBR with an extended entry far past the end of the image: mmls fails on it, and says nothing.
  const wild = disk('wild.img', 'label: dos\nstart=2048, size=32768, type=83\n', 24);
  const wildMbr = fs.readFileSync(wild).subarray(0, 512);
  const entry = Buffer.alloc(16);
  entry[4] = 0x05; // extended
  entry.writeUInt32LE(4_000_000_000, 8);
  entry.writeUInt32LE(2048, 12);
  entry.copy(wildMbr, 0x1be + 16);
  const wildFd = fs.openSync(wild, 'r+');
  fs.writeSync(wildFd, wildMbr, 0, 512, 0);
  fs.closeSync(wildFd);
  const unreadable = untouched(wild, caseDir, ['image', 'scan', wild]);
  assert.equal(unreadable.code, 1);
  assert.equal(unreadable.stderr, `unlinked: ${wild}: sector 0 ends in the 0x55AA signature of a partition table that mmls could not read (damaged?), and no ext file system starts at sector 0: name a partition with --offset SECTORS\n`);
  assert.equal(untouched(wild, caseDir, ['image', 'scan', wild, '--offset', '2048']).code, 0);

  // A GPT disk cut short (9 MiB of 24) before its second partition starts: mmls gives up the GPT
  // and reads only the protective MBR entry.
  const gpt = disk('gpt.img', 'label: gpt\nstart=2048, size=32768\nstart=36864, size=8192\n', 24);
  const cut = path.join(dir, 'cut.img');
  fs.copyFileSync(gpt, cut);
  fs.truncateSync(cut, 9 << 20);
  const short = untouched(cut, caseDir, ['image', 'scan', cut]);
  assert.equal(short.code, 1);
  assert.match(short.stderr, /^unlinked: .*cut\.img: the GPT could not be read \(mmls found only its protective MBR entry: a damaged or truncated image\?\), and no ext file system starts at sector 0: name a partition with --offset SECTORS\n$/);
});

test('a disk whose partition is mounted is said mounted; a case on one of its partitions is refused (root)', (t) => {
  // (A case on an LVM or other device-mapper volume built on the disk is refused the same way,
  // through sysfs slaves; this kernel has no device-mapper to test it with.)
  const dir = makeTempDir('holders');
  const caseDir = makeTempDir('holders-case', '/dev/shm');
  const disk = path.join(dir, 'disk.img');
  fs.writeFileSync(disk, '');
  fs.truncateSync(disk, 64 << 20);
  execFileSync('sfdisk', ['-q', disk], { input: 'label: dos\nstart=2048, size=40960, type=83\nstart=43008, size=86000, type=83\n' });
  const loop = execFileSync('losetup', ['-f', '--show', '-P', disk], { encoding: 'utf8' }).trim();
  const mountPoint = path.join(dir, 'mnt');
  const secondMount = path.join(dir, 'second');
  t.after(() => {
    for (const point of [secondMount, mountPoint]) {
      if (fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${point} `)) execFileSync('umount', [point]);
    }
    execFileSync('partx', ['-d', loop], { stdio: 'ignore' });
    execFileSync('losetup', ['-d', loop]);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  // losetup -P asks the kernel to read the table; where that does not happen (seen here), partx adds them.
  const deadline = Date.now() + 10_000;
  while (!fs.existsSync(`${loop}p2`)) {
    assert.ok(Date.now() < deadline, `${loop}p2 did not appear`);
    execFileSync('partx', ['-a', loop], { stdio: 'ignore' });
    execFileSync('sleep', ['0.05']);
  }
  // The first partition mounted, as on a live host.
  execFileSync('mkfs.ext4', ['-q', '-F', `${loop}p1`]);
  fs.mkdirSync(mountPoint);
  execFileSync('mount', [`${loop}p1`, mountPoint]);
  const scan = runCli(caseDir, ['image', 'scan', loop]);
  assert.equal(scan.code, 0, scan.stderr);
  assert.match(scan.stderr, new RegExp(`^warning: ${loop} is mounted \\(itself, a partition of it, or a volume built on it\\): a live file system changes while it is read`, 'm'));

  // The case directory on the second partition of the disk examined.
  execFileSync('mkfs.ext4', ['-q', '-F', `${loop}p2`]);
  fs.mkdirSync(secondMount);
  execFileSync('mount', [`${loop}p2`, secondMount]);
  const onEvidence = path.join(secondMount, 'case');
  const refused = runCli(onEvidence, ['image', 'scan', loop]);
  assert.equal(refused.code, 1);
  assert.equal(refused.stderr, `unlinked: the case directory ${onEvidence} is on ${loop} itself: writing there could overwrite the evidence; use --case DIR on another disk\n`);
  assert.equal(fs.existsSync(onEvidence), false, 'nothing written there');
});

test('image scan refuses a case on a loop-mounted image file stored on the device examined (root)', (t) => {
  const dir = makeTempDir('nested-loop');
  const disk = path.join(dir, 'disk.img');
  execFileSync('truncate', ['-s', '64M', disk]);
  execFileSync('mkfs.ext4', ['-q', '-F', disk]);
  const cleanups: Array<() => void> = [];
  t.after(() => {
    for (const cleanup of cleanups.reverse()) {
      try {
        cleanup();
      } catch (error) {
        process.stderr.write(`# cleanup: ${String(error)}\n`);
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const attachAndMount = (image: string, name: string): { loop: string; mountPoint: string } => {
    const loop = execFileSync('losetup', ['-f', '--show', image], { encoding: 'utf8' }).trim();
    cleanups.push(() => execFileSync('losetup', ['-d', loop]));
    const mountPoint = path.join(dir, name);
    fs.mkdirSync(mountPoint);
    execFileSync('mount', [loop, mountPoint]);
    cleanups.push(() => execFileSync('umount', [mountPoint]));
    return { loop, mountPoint };
  };
  // The device examined, mounted; an image file on it, mounted in turn; the case on that one.
  const evidence = attachAndMount(disk, 'evidence');
  const inner = path.join(evidence.mountPoint, 'c.img');
  execFileSync('truncate', ['-s', '16M', inner]);
  execFileSync('mkfs.ext4', ['-q', '-F', inner]);
  const nested = attachAndMount(inner, 'nested');
  const caseDir = path.join(nested.mountPoint, 'case');
  const refused = runCli(caseDir, ['image', 'scan', evidence.loop]);
  assert.deepEqual([refused.code, refused.stderr], [1, `unlinked: the case directory ${caseDir} is on ${evidence.loop} itself: writing there could overwrite the evidence; use --case DIR on another disk\n`]);
  assert.equal(fs.existsSync(caseDir), false, 'nothing written there');
});

/** Our own image built with debugfs -w: `commands` run after writing `files` (name -> content). */
function debugfsBuilt(dir: string, mkfs: string[], files: Record<string, Buffer>, commands: string): string {
  const image = path.join(dir, 'built.img');
  fs.writeFileSync(image, '');
  fs.truncateSync(image, 32 << 20);
  execFileSync(mkfs[0] ?? 'mkfs.ext4', ['-q', '-F', ...mkfs.slice(1), image], { stdio: 'ignore' });
  const writes = Object.entries(files).map(([name, content]) => {
    const source = path.join(dir, `${name}.src`);
    fs.writeFileSync(source, content);
    return `write ${source} ${name}\n`;
  });
  execFileSync('debugfs', ['-w', '-f', '-', image], { input: writes.join('') + commands, stdio: ['pipe', 'ignore', 'ignore'] });
  return image;
}

test('times before 1970 and after 2038 are stored as ext4 reads them: signed low word plus epoch bits (root)', (t) => {
  const { dir, caseDir } = work(t, 'times');
  const content = crypto.randomBytes(30_000);
  const ext4 = debugfsBuilt(dir, ['mkfs.ext4', '-I', '256'], { pre: content, y2200: content },
    'set_inode_field pre mtime @-86400\nset_inode_field y2200 mtime 22000101000000\nkill_file pre\nkill_file y2200\n');
  const scan = untouched(ext4, caseDir, ['image', 'scan', ext4, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.mtime]), [[12, -86400], [13, 7_258_118_400]]);
});

test('an inode whose uid and gid are 2^31 or more keeps them and its size: scanned and extracted complete (root)', (t) => {
  const { dir, caseDir } = work(t, 'uid');
  const content = crypto.randomBytes(30_000);
  const image = debugfsBuilt(dir, ['mkfs.ext4'], { big: content }, 'set_inode_field big uid 4000000000\nset_inode_field big gid 3000000000\nkill_file big\n');
  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.uid, entry.gid, entry.size, entry.recoverable]), [[12, 4_000_000_000, 3_000_000_000, 30_000, true]]);
  // Named without a scan of its own: described by debugfs alone, whose size must not be lost.
  const { caseDir: fresh } = work(t, 'uid-fresh');
  const result = untouched(image, fresh, ['image', 'extract', image, '--inode', '12', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const [copy] = json<ExtractedJson[]>(result);
  assert.deepEqual([copy?.bytes, copy?.sha256, copy?.complete, copy?.note], [30_000, sha256(content), true, null]);
});

/** Run fn with our own image mounted on a loop device (the kernel takes any byte but NUL in a symlink target), undone after. */
function withMounted(image: string, mountPoint: string, fn: () => void): void {
  fs.mkdirSync(mountPoint, { recursive: true });
  const loop = execFileSync('losetup', ['-f', '--show', image], { encoding: 'utf8' }).trim();
  try {
    execFileSync('mount', [loop, mountPoint]);
    try {
      fn();
      execFileSync('sync', ['-f', mountPoint]);
    } finally {
      execFileSync('umount', [mountPoint]);
    }
  } finally {
    execFileSync('losetup', ['-d', loop]);
  }
}

test('a deleted symlink whose target holds "\\ndtime: 0x00000001" or a forged debugfs echo keeps its real dtime (root)', (t) => {
  const { dir, caseDir } = work(t, 'evil-link');
  const image = path.join(dir, 'links.img');
  fs.writeFileSync(image, '');
  fs.truncateSync(image, 16 << 20);
  execFileSync('mkfs.ext2', ['-q', '-F', image], { stdio: 'ignore' });
  withMounted(image, path.join(dir, 'mnt'), () => {
    fs.symlinkSync('a\ndtime: 0x00000001 ', path.join(dir, 'mnt', 'evil'));
    fs.symlinkSync('\ndebugfs: stat <14>\nInode: 14   Type: FIFO    Mode:  0644 ', path.join(dir, 'mnt', 'evil2'));
    fs.symlinkSync('good-target', path.join(dir, 'mnt', 'good'));
  });
  // Freed the ext2 way (block pointers and target kept), our own image.
  execFileSync('debugfs', ['-w', '-f', '-', image], { input: 'kill_file evil\nunlink evil\nkill_file evil2\nunlink evil2\nkill_file good\nunlink good\n', stdio: ['pipe', 'ignore', 'ignore'] });
  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.match(scan.stderr, /2 inodes not described by debugfs: 2 described by istat instead/);
  const inodes = json<ImageInodeJson[]>(scan);
  assert.deepEqual(inodes.map((entry) => [entry.inode, entry.mode, entry.size]), [[12, 0o120777, 20], [13, 0o120777, 58], [14, 0o120777, 11]]);
  for (const entry of inodes) assert.ok((entry.dtime ?? 0) > 1_700_000_000, `inode ${entry.inode}: dtime ${entry.dtime}`);
  // istat prints "Deleted:" in the local zone ("(CET)"): the adapter runs it with TZ=UTC, so any zone reads the same.
  const { caseDir: elsewhere } = work(t, 'evil-link-tz');
  const paris = runCli(elsewhere, ['image', 'scan', image, '--json'], { TZ: 'Europe/Paris' });
  assert.deepEqual(json<ImageInodeJson[]>(paris).map((entry) => [entry.inode, entry.dtime]), inodes.map((entry) => [entry.inode, entry.dtime]));
});

test('a deleted fast symlink: its exact target is extracted, one the kernel wiped is unrecoverable and no zeros are written (root)', (t) => {
  const { dir, caseDir } = work(t, 'fastlink');
  // ext2 freed the old way: the targets stay in the inodes.
  const kept = path.join(dir, 'kept.img');
  fs.writeFileSync(kept, '');
  fs.truncateSync(kept, 16 << 20);
  execFileSync('mkfs.ext2', ['-q', '-F', kept], { stdio: 'ignore' });
  withMounted(kept, path.join(dir, 'mnt'), () => {
    fs.symlinkSync('good-target', path.join(dir, 'mnt', 'good'));
    fs.symlinkSync('two\nlines', path.join(dir, 'mnt', 'two'));
  });
  execFileSync('debugfs', ['-w', '-f', '-', kept], { input: 'kill_file good\nunlink good\nkill_file two\nunlink two\n', stdio: ['pipe', 'ignore', 'ignore'] });
  const scan = untouched(kept, caseDir, ['image', 'scan', kept, '--json']);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.size, entry.recoverable]), [[12, 11, true], [13, 9, true]]);
  const copies = json<ExtractedJson[]>(untouched(kept, caseDir, ['image', 'extract', kept, '--all', '--json']));
  assert.deepEqual(copies.map((copy) => [copy.inode, copy.bytes, copy.sha256, copy.complete, copy.method]), [
    [12, 11, sha256(Buffer.from('good-target')), true, 'debugfs'], [13, 9, sha256(Buffer.from('two\nlines')), true, 'debugfs'],
  ]);
  assert.equal(fs.readFileSync(copies[1]?.output ?? '', 'latin1'), 'two\nlines');

  // ext4 with inline_data: the kernel wipes a fast symlink's target on unlink (debugfs: `Fast link dest: ""`, Size 12).
  const wiped = path.join(dir, 'wiped.img');
  fs.writeFileSync(wiped, '');
  fs.truncateSync(wiped, 32 << 20);
  execFileSync('mkfs.ext4', ['-q', '-F', '-O', 'inline_data,^orphan_file', '-I', '256', wiped], { stdio: 'ignore' });
  withMounted(wiped, path.join(dir, 'mnt'), () => {
    fs.symlinkSync('short-target', path.join(dir, 'mnt', 'sym'));
    execFileSync('sync', ['-f', path.join(dir, 'mnt')]);
    fs.unlinkSync(path.join(dir, 'mnt', 'sym'));
  });
  const { caseDir: second } = work(t, 'fastlink-wiped');
  const wipedScan = untouched(wiped, second, ['image', 'scan', wiped, '--json']);
  assert.deepEqual(json<ImageInodeJson[]>(wipedScan).map((entry) => [entry.inode, entry.size, entry.recoverable]), [[12, 12, false]]);
  const result = untouched(wiped, second, ['image', 'extract', wiped, '--inode', '12', '--json']);
  assert.equal(result.code, 3, result.stderr);
  const [copy] = json<ExtractedJson[]>(result);
  assert.deepEqual([copy?.output, copy?.bytes, copy?.sha256, copy?.complete], [null, 0, null, false]);
  assert.deepEqual(fs.readdirSync(path.join(second, 'extracted')).filter((name) => name !== 'SHA256SUMS'), []);
});

test('a volume label and last mount point that are UTF-8 are stored as that text, one that is not as reversible \\xHH (root)', (t) => {
  const { dir, caseDir } = work(t, 'label');
  const { image } = makeDeletedImage(dir, 'ext2', crypto.randomBytes(10_000));
  execFileSync('tune2fs', ['-L', 'données', '-M', '/srv/données', image], { stdio: 'ignore' });
  assert.equal(untouched(image, caseDir, ['image', 'scan', image]).code, 0);
  const other = path.join(dir, 'latin1.img');
  fs.copyFileSync(image, other);
  // "caf" and the latin1 byte 0xE9: not UTF-8 (an argument given by node would be UTF-8-encoded).
  execFileSync('sh', ['-c', 'tune2fs -L "$(printf \'caf\\351\')" "$1"', 'sh', other], { stdio: 'ignore' });
  assert.equal(untouched(other, caseDir, ['image', 'scan', other]).code, 0);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    assert.deepEqual(db.prepare('SELECT label, last_mount_point FROM image_filesystems ORDER BY id').raw().all(), [['données', '/srv/données'], ['caf\\xe9', '/srv/données']]);
  } finally {
    db.close();
  }
});

test('a deleted name with a control byte, which fls prints as "^", is stored flagged not exact, like a real "^" (root)', (t) => {
  const { dir, caseDir } = work(t, 'ctlname');
  const image = debugfsBuilt(dir, ['mkfs.ext2'], { newXline: Buffer.from('x'), 'new^line': Buffer.from('y'), plain: Buffer.from('z') },
    'kill_file newXline\nunlink newXline\nkill_file new^line\nunlink new^line\nkill_file plain\nunlink plain\n');
  // Our own image: the freed entry's name "newXline" becomes "new\nline" (debugfs cannot type a newline).
  const bytes = fs.readFileSync(image);
  const at = bytes.indexOf('newXline');
  assert.ok(at > 0 && bytes.indexOf('newXline', at + 1) < 0);
  bytes[at + 3] = 0x0a;
  fs.writeFileSync(image, bytes);
  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.last_name, entry.last_name_exact]), [[12, 'new^line', false], [13, 'new^line', false], [14, 'plain', true]]);
});

test('an orphan FIFO is found but not recoverable: nothing extracted, never an empty file presented as its content (root)', (t) => {
  const { dir, caseDir } = work(t, 'fifo');
  const image = path.join(dir, 'fifo.img');
  fs.writeFileSync(image, '');
  fs.truncateSync(image, 16 << 20);
  execFileSync('mkfs.ext4', ['-q', '-F', image]);
  // Our own scratch image: a FIFO unlinked while open, as the kernel leaves it (no link, on the orphan chain).
  execFileSync('debugfs', ['-w', '-R', 'mknod pipe p', image], { stdio: 'ignore' });
  const commands = path.join(dir, 'orphan.txt');
  fs.writeFileSync(commands, 'set_inode_field pipe links_count 0\nunlink pipe\nssv last_orphan 12\n');
  execFileSync('debugfs', ['-w', '-f', commands, image], { stdio: 'ignore' });
  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.state, entry.mode, entry.recoverable]), [[12, 'orphan', 0o010000, false]]);
  const extract = untouched(image, caseDir, ['image', 'extract', image, '--all', '--json']);
  assert.equal(extract.code, 3, extract.stderr);
  assert.deepEqual(json<ExtractedJson[]>(extract).map((entry) => [entry.output, entry.sha256, entry.complete, entry.note]), [
    [null, null, false, 'the inode is a FIFO: a special file has no content to extract, nothing written'],
  ]);
  assert.deepEqual(fs.readdirSync(path.join(caseDir, 'extracted')).filter((name) => name !== 'SHA256SUMS'), []);
});

test('another disk attached later at a device path the case scanned is scanned again, never extracted by the old inode list (root)', (t) => {
  const { dir, caseDir } = work(t, 'devreuse');
  const first = makeDeletedImage(fs.mkdtempSync(path.join(dir, 'a-')), 'ext2', Buffer.from('the first disk'));
  const second = makeDeletedImage(fs.mkdtempSync(path.join(dir, 'b-')), 'ext2', Buffer.from('THE SECOND DISK, another one'));
  const loop = execFileSync('losetup', ['-r', '-f', '--show', first.image], { encoding: 'utf8' }).trim();
  let attached = true;
  t.after(() => {
    if (attached) execFileSync('losetup', ['-d', loop]);
  });
  assert.equal(runCli(caseDir, ['image', 'scan', loop]).code, 0);
  execFileSync('losetup', ['-d', loop]);
  attached = false;
  // The same device node, the same size, another file system (another UUID).
  execFileSync('losetup', ['-r', loop, second.image]);
  attached = true;
  const extract = runCli(caseDir, ['image', 'extract', loop, '--all', '--json']);
  assert.equal(extract.code, 0, extract.stderr);
  assert.match(extract.stderr, /no scan of .* as it is now in the case \(none yet, or the file or the disk at that path changed since\): scanned it first/);
  const [copy] = json<ExtractedJson[]>(extract);
  assert.deepEqual([copy?.inode, copy?.sha256, copy?.complete], [second.inode, sha256(Buffer.from('THE SECOND DISK, another one')), true]);
});

test('an image reached through a symbolic link is recorded under its real path: one scan, found again whichever path names it (root)', (t) => {
  const { dir, caseDir } = work(t, 'imglink');
  const content = Buffer.from('behind a link');
  const built = makeDeletedImage(dir, 'ext2', content);
  const link = path.join(dir, 'evidence-link.img');
  fs.symlinkSync(built.image, link);
  assert.equal(untouched(built.image, caseDir, ['image', 'scan', link]).code, 0);
  const extract = untouched(built.image, caseDir, ['image', 'extract', built.image, '--all', '--json']);
  assert.equal(extract.code, 0, extract.stderr);
  assert.doesNotMatch(extract.stderr, /scanned it first/);
  assert.deepEqual(json<ExtractedJson[]>(extract).map((copy) => [copy.image, copy.inode, copy.sha256]), [[built.image, built.inode, sha256(content)]]);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  assert.deepEqual(db.prepare('SELECT path FROM images').all(), [{ path: built.image }]);
  db.close();
});
