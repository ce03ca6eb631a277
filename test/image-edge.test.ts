// Issue 6, the awkward images: a damaged inode checksum, a path debugfs cannot name, an image replaced
// since its scan, a size zeroed under its blocks, unreadable or repeated partition tables, a mounted
// partition of the device examined, a case on a volume built on it. Every image is the test's own.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { makeTempDir } from './helpers/holder.js';
import { json, parseExact, runCli, type CliResult } from './helpers/cli.js';
import { cliPath } from './helpers/paths.js';
import { debugfsBuilt, frozenCopy, imageWorkDirs, patchMarker, makeDeletedImage, sha256, sha256File } from './helpers/images.js';
import type { ImageInodeJson } from '../src/store/images.js';
import type { ExtractedJson } from '../src/image/extract.js';
import { undoEach } from './helpers/cleanup.js';
import { directoryAccess } from '../src/image/scan.js';
import type { CommandRecord } from '../src/exec/run.js';
import { loopFs, loopFsFor } from './helpers/loopfs.js';
import { mountTmpfs } from './helpers/tmpfs.js';
import { parseMmls } from '../parsers/mmls.js';

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
  const { dir, caseDir } = imageWorkDirs(t, 'csum');
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
  const { dir, caseDir } = imageWorkDirs(t, 'qmark');
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
  const { dir, caseDir } = imageWorkDirs(t, 'replaced');
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
  // As every other refusal of bad input: no case is made for it.
  const freshCase = path.join(dir, 'fresh-case');
  for (const command of ['scan', 'extract']) {
    const refused = runCli(freshCase, ['image', command, image, '--offset', '40000', ...(command === 'extract' ? ['--all'] : [])]);
    assert.deepEqual([refused.code, refused.stderr, fs.existsSync(freshCase)], [1, `unlinked: offset 40000 sectors is past the end of ${image} (32768 sectors)\n`, false]);
  }
});

test('a deleted inode whose size is 0 but which still lists its blocks: recoverable, and no empty file is extracted as its content (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'size0');
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
  const { dir, caseDir } = imageWorkDirs(t, 'tables');
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
  // Before any scan, extract --inode finds the one file system the way the scan does: each start once.
  const named = untouched(twice, imageWorkDirs(t, 'tables-named').caseDir, ['image', 'extract', twice, '--inode', String(inode), '--json']);
  assert.equal(named.code, 0, named.stderr);
  assert.deepEqual(json<ExtractedJson[]>(named).map((copy) => [copy.offset_sectors, copy.inode, copy.sha256, copy.complete]), [[2048, inode, sha256(content), true]]);
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

  // An ext file system at sector 0 under a protective MBR entry whose GPT cannot be read: scanned
  // alone, partial (3); an extract --all of that scan's list is partial as well, and says why.
  const whole = path.join(dir, 'whole.img');
  fs.writeFileSync(whole, '');
  fs.truncateSync(whole, 32 << 20);
  execFileSync('mkfs.ext4', ['-q', '-F', whole]);
  const protective = Buffer.alloc(16);
  protective[4] = 0xee;
  protective.writeUInt32LE(1, 8);
  protective.writeUInt32LE(65535, 12);
  const wholeFd = fs.openSync(whole, 'r+');
  fs.writeSync(wholeFd, protective, 0, 16, 0x1be);
  fs.writeSync(wholeFd, Buffer.from([0x55, 0xaa]), 0, 2, 510);
  fs.closeSync(wholeFd);
  assert.equal(untouched(whole, caseDir, ['image', 'scan', whole]).code, 3);
  const again = untouched(whole, caseDir, ['image', 'extract', whole, '--all']);
  assert.equal(again.code, 3, again.stderr);
  assert.match(again.stderr, /^warning: sector 0: the case's scan of this image, whose list is used, read it only in part: the GPT could not be read \(mmls found only its protective MBR entry: a damaged or truncated image\?\): only the file system at sector 0 was scanned$/m);
});

test('a DOS table beside a Mac partition map (as hybrid ISO images have): mmls finds two table types and reads neither, said whatever words its version uses; never taken for no table (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'macdos');
  const content = crypto.randomBytes(20_000);
  const { image: fsImage, inode } = makeDeletedImage(dir, 'ext2', content);
  /** An Apple partition map entry (tsk/vs/tsk_mac.h mac_part) for sector 1: "PM", a map of 1 entry, sectors 1-63. */
  const macEntry = Buffer.alloc(512);
  macEntry.write('PM', 0, 'latin1');
  macEntry.writeUInt32BE(1, 4);
  macEntry.writeUInt32BE(1, 8);
  macEntry.writeUInt32BE(63, 12);
  macEntry.write('Apple_partition_map', 48, 'latin1');
  macEntry.writeUInt32BE(0x33, 88);
  const withMacMap = (file: string): void => {
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, macEntry, 0, 512, 512);
    fs.closeSync(fd);
  };
  /** mmls' own line for the image: 4.11.1 and 4.14.0 word the conflict differently (fixtures/tsk/mmls-mac-dos-*.stderr). */
  const conflict = (file: string): string => {
    const mmls = spawnSync('mmls', [file], { encoding: 'latin1' });
    assert.deepEqual([mmls.status, mmls.stdout], [1, '']);
    assert.match(mmls.stderr, /^(?:Cannot determine partition type|Multiple volume system types detected) \(Mac or DOS at 0\)\n$/);
    return mmls.stderr.trim();
  };

  // A DOS-partitioned disk (the ext2 file system at sector 2048) with a Mac map at sector 1.
  const disk = path.join(dir, 'macdos.img');
  fs.writeFileSync(disk, '');
  fs.truncateSync(disk, 24 << 20);
  execFileSync('sfdisk', ['-q', disk], { input: 'label: dos\nstart=2048, size=32768, type=83\n' });
  const fsBytes = fs.readFileSync(fsImage);
  const diskFd = fs.openSync(disk, 'r+');
  fs.writeSync(diskFd, fsBytes, 0, fsBytes.length, 2048 * 512);
  fs.closeSync(diskFd);
  withMacMap(disk);
  const refused = untouched(disk, caseDir, ['image', 'scan', disk]);
  assert.equal(refused.code, 1);
  assert.equal(refused.stderr, `unlinked: ${disk}: mmls could not read the partition table (${conflict(disk)}), and no ext file system starts at sector 0: name a partition with --offset SECTORS\n`);
  const named = untouched(disk, caseDir, ['image', 'extract', disk, '--inode', String(inode), '--offset', '2048', '--json']);
  assert.equal(named.code, 0, named.stderr);
  assert.deepEqual(json<ExtractedJson[]>(named).map((copy) => [copy.offset_sectors, copy.sha256, copy.complete]), [[2048, sha256(content), true]]);

  // An ext file system at sector 0 whose first 1024 bytes (which ext leaves alone) hold both tables:
  // scanned alone, partial (3), as under any table that cannot be read.
  const whole = path.join(dir, 'whole.img');
  fs.copyFileSync(fsImage, whole);
  const wholeFd = fs.openSync(whole, 'r+');
  fs.writeSync(wholeFd, fs.readFileSync(disk).subarray(0, 512), 0, 512, 0);
  fs.closeSync(wholeFd);
  withMacMap(whole);
  const scan = untouched(whole, caseDir, ['image', 'scan', whole, '--json']);
  assert.equal(scan.code, 3, scan.stderr);
  assert.match(scan.stderr, new RegExp(`^warning: mmls could not read the partition table \\(${conflict(whole).replace(/[()]/g, '\\$&')}\\): only the file system at sector 0 was scanned; name a partition with --offset SECTORS$`, 'm'));
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.offset_sectors, entry.inode]), [[0, inode]]);
});

test('a disk whose partition is mounted is said mounted; a case on one of its partitions is refused (root)', (t) => {
  // (A case on an LVM or other device-mapper volume built on the disk is refused the same way,
  // through sysfs slaves; this kernel has no device-mapper to test it with.)
  const dir = makeTempDir('holders');
  const caseDir = makeTempDir('holders-case', '/dev/shm');
  const disk = loopFs({
    backing: path.join(dir, 'disk.img'), sizeMiB: 64, table: 'label: dos\nstart=2048, size=40960, type=83\nstart=43008, size=86000, type=83\n',
    partitions: 2, mountPoint: false,
  });
  const { loop } = disk;
  t.after(() => {
    disk.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  // The first partition mounted, as on a live host.
  execFileSync('mkfs.ext4', ['-q', '-F', `${loop}p1`]);
  disk.mount(`${loop}p1`, path.join(dir, 'mnt'));
  const scan = runCli(caseDir, ['image', 'scan', loop]);
  // A mounted ext4's journal is never replayed on the device: what only the journal holds is not seen (exit 3).
  assert.equal(scan.code, 3, scan.stderr);
  assert.match(scan.stderr, new RegExp(`^warning: ${loop} is mounted \\(itself, a partition of it, a volume built on it, or a loop device reading the same file; or in use by the kernel: unmounted lazily while its files stay open, or claimed by a volume\\): a live file system changes while it is read`, 'm'));
  const advice = /^warning: sector 2048: the journal was not replayed \(needs_recovery: .*: (dd if=IMAGE of=COPY bs=512 skip=2048 count=(\d+)) && debugfs -w -R journal_run COPY /m.exec(scan.stderr);
  assert.ok(advice !== null, scan.stderr);
  // The advice works: the partition cut out of a copy of the disk, its journal replayed there, is clean.
  const copy = path.join(dir, 'copy.img');
  execFileSync('dd', [`if=${loop}`, `of=${copy}`, 'bs=512', 'skip=2048', `count=${advice[2] ?? '0'}`, 'status=none']);
  execFileSync('debugfs', ['-w', '-R', 'journal_run', copy], { stdio: 'ignore' });
  assert.doesNotMatch(execFileSync('dumpe2fs', ['-h', copy], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), /needs_recovery/);
  const replayed = runCli(caseDir, ['image', 'scan', copy]);
  assert.doesNotMatch(replayed.stderr, /journal was not replayed/);

  // The case directory on the second partition of the disk examined.
  execFileSync('mkfs.ext4', ['-q', '-F', `${loop}p2`]);
  const secondMount = disk.mount(`${loop}p2`, path.join(dir, 'second'));
  const onEvidence = path.join(secondMount, 'case');
  const refused = runCli(onEvidence, ['image', 'scan', loop]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, new RegExp(`^unlinked: the case directory ${onEvidence} is on device \\d+:\\d+, a partition of \\d+:\\d+ \\(${loop}\\): writing there could overwrite the evidence; use --case DIR on another disk\n$`));
  assert.equal(fs.existsSync(onEvidence), false, 'nothing written there');
});

test('image scan refuses a case on a loop-mounted image file stored on the device examined, or on an overlay whose upper layer is there (root)', (t) => {
  const dir = makeTempDir('nested-loop');
  const cleanups: Array<() => void> = [];
  t.after(() => {
    undoEach(cleanups);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  // The device examined, mounted; an image file on it, mounted in turn; the case on that one.
  const evidence = loopFs({ backing: path.join(dir, 'disk.img'), sizeMiB: 64, mountPoint: path.join(dir, 'evidence') });
  cleanups.push(evidence.cleanup);
  const nested = loopFs({ backing: path.join(evidence.mountPoint, 'c.img'), sizeMiB: 16, mountPoint: path.join(dir, 'nested') });
  cleanups.push(nested.cleanup);
  const caseDir = path.join(nested.mountPoint, 'case');
  const refused = runCli(caseDir, ['image', 'scan', evidence.loop]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, new RegExp(`^unlinked: the case directory ${caseDir} is on device \\d+:\\d+, a loop device whose backing file ${evidence.mountPoint}/c\\.img is on \\d+:\\d+ \\(${evidence.loop}\\): writing there could overwrite the evidence; use --case DIR on another disk\n$`));
  assert.equal(fs.existsSync(caseDir), false, 'nothing written there');
  // An overlay (a container's root) whose upper layer is on the device examined: its own device number says nothing of it.
  const layers = path.join(evidence.mountPoint, 'layers');
  for (const sub of ['lower', 'upper', 'work']) fs.mkdirSync(path.join(layers, sub), { recursive: true });
  const merged = path.join(dir, 'merged');
  fs.mkdirSync(merged);
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${layers}/lower,upperdir=${layers}/upper,workdir=${layers}/work`, merged]);
  cleanups.push(() => execFileSync('umount', [merged]));
  const inContainer = path.join(merged, 'case');
  const refusedThere = runCli(inContainer, ['image', 'scan', evidence.loop]);
  assert.equal(refusedThere.code, 1);
  assert.match(refusedThere.stderr, new RegExp(`^unlinked: the case directory ${inContainer} is on device \\d+:\\d+, an overlay .*\\(${evidence.loop}\\): writing there could overwrite the evidence; use --case DIR on another disk\n$`));
  assert.equal(fs.existsSync(inContainer), false, 'nothing written there');
});

test('a case on a loop device over the image file itself (a partition mounted with losetup -o), or over the file the examined loop device reads, is refused (root)', (t) => {
  const dir = makeTempDir('alias-loop');
  const cleanups: Array<() => void> = [];
  t.after(() => {
    undoEach(cleanups);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  // Our own disk image: one partition at sector 2048, attached alone (-o) and mounted; the case would go there.
  const disk = path.join(dir, 'disk.img');
  const partition = loopFs({ backing: disk, sizeMiB: 64, table: 'label: dos\nstart=2048, size=40960, type=83\n', offset: 2048 * 512, sizeLimit: 40960 * 512, fsType: 'ext4', mountPoint: path.join(dir, 'p1') });
  cleanups.push(partition.cleanup);
  const caseDir = path.join(partition.mountPoint, 'case');
  const partitionId = execFileSync('stat', ['-c', '%t:%T', partition.loop], { encoding: 'utf8' }).trim().split(':').map((hex) => parseInt(hex, 16)).join(':');
  const onImage = runCli(caseDir, ['image', 'scan', disk, '--offset', '2048']);
  assert.deepEqual([onImage.code, onImage.stderr], [1,
    `unlinked: the case directory ${caseDir} is on loop device ${partitionId}, whose backing file is the image ${disk} itself: writing there would change the evidence; use --case DIR on another disk\n`]);
  // The whole disk attached again, as the device examined: the case's loop device reads the same file.
  const whole = loopFs({ image: disk, mountPoint: false, fsType: null });
  cleanups.push(whole.cleanup);
  const onDevice = runCli(caseDir, ['image', 'scan', whole.loop]);
  assert.deepEqual([onDevice.code, onDevice.stderr], [1,
    `unlinked: the case directory ${caseDir} is on loop device ${partitionId}, whose backing file is the file ${disk}, which ${whole.loop} reads from too: writing there would change the evidence; use --case DIR on another disk\n`]);
  assert.equal(fs.existsSync(caseDir), false, 'nothing written there');
  // With the case elsewhere: the whole disk is said mounted, through the partition's loop device.
  const elsewhere = makeTempDir('alias-loop-case', '/dev/shm');
  cleanups.push(() => fs.rmSync(elsewhere, { recursive: true, force: true }));
  const scanned = runCli(elsewhere, ['image', 'scan', whole.loop]);
  assert.match(scanned.stderr, new RegExp(`${whole.loop} is mounted \\(itself, a partition of it, a volume built on it, or a loop device reading the same file; `));
});

test('times before 1970 and after 2038 are stored as ext4 reads them: signed low word plus epoch bits (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'times');
  const content = crypto.randomBytes(30_000);
  const ext4 = debugfsBuilt(dir, ['mkfs.ext4', '-I', '256'], { pre: content, y2200: content },
    'set_inode_field pre mtime @-86400\nset_inode_field y2200 mtime 22000101000000\nkill_file pre\nkill_file y2200\n');
  const scan = untouched(ext4, caseDir, ['image', 'scan', ext4, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.mtime]), [[12, -86400], [13, 7_258_118_400]]);
});

test('an inode whose uid and gid are 2^31 or more keeps them and its size: scanned and extracted complete (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'uid');
  const content = crypto.randomBytes(30_000);
  const image = debugfsBuilt(dir, ['mkfs.ext4'], { big: content }, 'set_inode_field big uid 4000000000\nset_inode_field big gid 3000000000\nkill_file big\n');
  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.uid, entry.gid, entry.size, entry.recoverable]), [[12, 4_000_000_000, 3_000_000_000, 30_000, true]]);
  // Named without a scan of its own: described by debugfs alone, whose size must not be lost.
  const { caseDir: fresh } = imageWorkDirs(t, 'uid-fresh');
  const result = untouched(image, fresh, ['image', 'extract', image, '--inode', '12', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const [copy] = json<ExtractedJson[]>(result);
  // debugfs' kill_file frees the inode but leaves its link count: not said to be a live file in its record.
  assert.deepEqual([copy?.bytes, copy?.sha256, copy?.complete, copy?.note], [30_000, sha256(content), true, null]);
});

test('a freed inode of size 0 that kept its link count is no empty file: neither scanned nor extracted as one (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'freed-empty');
  // kill_file frees the inode and its blocks but leaves its link count and size (here 0).
  const image = debugfsBuilt(dir, ['mkfs.ext4'], { empty: Buffer.alloc(0), kept: Buffer.from('kept') }, 'kill_file empty\n');
  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.state, entry.size, entry.recoverable]), [[12, 'deleted', 0, false]]);
  const { caseDir: fresh } = imageWorkDirs(t, 'freed-empty-named');
  const named = untouched(image, fresh, ['image', 'extract', image, '--inode', '12', '--json']);
  assert.equal(named.code, 3, named.stderr);
  assert.deepEqual(json<ExtractedJson[]>(named).map((copy) => [copy.inode, copy.output, copy.bytes, copy.sha256, copy.complete, copy.note]), [
    [12, null, 0, null, false, 'unrecoverable: the inode (size 0) points at no data blocks any more (on unlink the kernel zeroes an ext4 inode\'s extents and its size): nothing extracted'],
  ]);
  assert.match(named.stderr, /inode 12 still has 1 link\(s\) but is not allocated \(its inode bitmap bit\)/);
  assert.deepEqual(fs.readdirSync(path.join(fresh, 'extracted')).filter((name) => name !== 'SHA256SUMS'), []);
});

/** Run fn with our own image mounted on a loop device (the kernel takes any byte but NUL in a symlink target), undone after. */
function withMounted(image: string, mountPoint: string, fn: () => void): void {
  const mounted = loopFs({ image, mountPoint });
  try {
    fn();
    execFileSync('sync', ['-f', mountPoint]);
  } finally {
    mounted.cleanup();
  }
}

test('a deleted symlink whose target holds "\\ndtime: 0x00000001" or a forged debugfs echo keeps its real dtime, every inode described by debugfs (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'evil-link');
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
  // The forged echo in 13's target cannot pass for the start of 14's description (random markers bound them): all three described by debugfs.
  assert.doesNotMatch(scan.stderr, /not described|istat/);
  const inodes = json<ImageInodeJson[]>(scan);
  assert.deepEqual(inodes.map((entry) => [entry.inode, entry.mode, entry.size]), [[12, 0o120777, 20], [13, 0o120777, 58], [14, 0o120777, 11]]);
  for (const entry of inodes) assert.ok((entry.dtime ?? 0) > 1_700_000_000, `inode ${entry.inode}: dtime ${entry.dtime}`);
  // The values are read from debugfs' hexadecimal words, not its dates: any zone reads the same.
  const { caseDir: elsewhere } = imageWorkDirs(t, 'evil-link-tz');
  const paris = runCli(elsewhere, ['image', 'scan', image, '--json'], { TZ: 'Europe/Paris' });
  assert.deepEqual(json<ImageInodeJson[]>(paris).map((entry) => [entry.inode, entry.dtime]), inodes.map((entry) => [entry.inode, entry.dtime]));
});

test('a deleted fast symlink: its exact target is extracted, one the kernel wiped is unrecoverable and no zeros are written (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'fastlink');
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
  const { caseDir: second } = imageWorkDirs(t, 'fastlink-wiped');
  const wipedScan = untouched(wiped, second, ['image', 'scan', wiped, '--json']);
  assert.deepEqual(json<ImageInodeJson[]>(wipedScan).map((entry) => [entry.inode, entry.size, entry.recoverable]), [[12, 12, false]]);
  const result = untouched(wiped, second, ['image', 'extract', wiped, '--inode', '12', '--json']);
  assert.equal(result.code, 3, result.stderr);
  const [copy] = json<ExtractedJson[]>(result);
  assert.deepEqual([copy?.output, copy?.bytes, copy?.sha256, copy?.complete], [null, 0, null, false]);
  assert.deepEqual(fs.readdirSync(path.join(second, 'extracted')).filter((name) => name !== 'SHA256SUMS'), []);
});

test('a volume label and last mount point that are UTF-8 are stored as that text, one that is not as reversible \\xHH (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'label');
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
  const { dir, caseDir } = imageWorkDirs(t, 'ctlname');
  const image = debugfsBuilt(dir, ['mkfs.ext2'], { newXline: Buffer.from('x'), 'new^line': Buffer.from('y'), plain: Buffer.from('z') },
    'kill_file newXline\nunlink newXline\nkill_file new^line\nunlink new^line\nkill_file plain\nunlink plain\n');
  // Our own image: the freed entry's name "newXline" becomes "new\nline" (debugfs cannot type a newline).
  patchMarker(image, 'newXline', 3, 0x0a);
  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.last_name, entry.last_name_exact]), [[12, 'new^line', false], [13, 'new^line', false], [14, 'plain', true]]);
});

test('image scan --json carries the bytes of a deleted name (last_name_b64), as the JSON report does, for names a spreadsheet or a shell would take for something else (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'namebytes');
  const image = debugfsBuilt(dir, ['mkfs.ext2'], { '=x(1)': Buffer.from('a'), 'del|pipe': Buffer.from('b') }, 'rm =x(1)\nrm del|pipe\n');
  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  const b64 = (name: string): string => Buffer.from(name).toString('base64');
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.last_name, entry.last_name_b64, entry.last_name_exact]), [
    [12, '=x(1)', b64('=x(1)'), true], [13, 'del|pipe', b64('del|pipe'), true],
  ]);
  const report = JSON.parse(runCli(caseDir, ['report', '--format', 'json', '--out', '-']).stdout) as { image_inodes: ImageInodeJson[] };
  assert.deepEqual(report.image_inodes.map((entry) => [entry.inode, entry.last_name, entry.last_name_b64, entry.last_name_exact]), json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.last_name, entry.last_name_b64, entry.last_name_exact]));
});

test('an orphan FIFO is found but not recoverable: nothing extracted, never an empty file presented as its content (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'fifo');
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
  // --all leaves it out, said once: no attempt that could fail, so no incomplete copy and exit 0.
  const all = untouched(image, caseDir, ['image', 'extract', image, '--all', '--json']);
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(json<ExtractedJson[]>(all), []);
  assert.match(all.stderr, /^1 special file \(FIFO; inode 12\) has no content: not extracted$/m);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  assert.equal((db.prepare('SELECT count(*) AS n FROM extractions').get() as { n: number }).n, 0);
  db.close();
  // Named, it is recorded as not extracted, with the reason.
  const named = untouched(image, caseDir, ['image', 'extract', image, '--inode', '12', '--json']);
  assert.equal(named.code, 3, named.stderr);
  assert.deepEqual(json<ExtractedJson[]>(named).map((entry) => [entry.output, entry.sha256, entry.complete, entry.note]), [
    [null, null, false, 'the inode is a FIFO: a special file has no content to extract, nothing written'],
  ]);
  assert.deepEqual(fs.readdirSync(path.join(caseDir, 'extracted')).filter((name) => name !== 'SHA256SUMS'), []);
});

/** What the record and the copy of an orphan of SIZE bytes that points at no data block say. */
const allHoles = (size: number): string =>
  `points at no data block: all holes; its ${size} bytes are zeros as the file system reads them: a file given its size (ftruncate) and never written, ` +
  'or written since but its data not on the disk yet when the image was taken (delayed allocation); not a file whose data was freed ' +
  '(when an unlinked file is let go, the kernel sets its size to 0 before it frees its blocks)';

test('an orphan that points at no data block (size 40960, no extent) is recoverable, its 40960 zeros extracted complete, and its scan record and copy say it is all holes; an empty orphan and one with inline data say nothing (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'allholes');
  const data = crypto.randomBytes(30_000);
  // Our own image: orphans 12 (data), 13 (no block, given a size: a file ftruncate'd up) and 14 (empty), chained 12 -> 13 -> 14.
  const image = debugfsBuilt(dir, ['mkfs.ext4'], { data, holes: Buffer.alloc(0), empty: Buffer.alloc(0) },
    'unlink data\nunlink holes\nunlink empty\nsif <12> links_count 0\nsif <13> links_count 0\nsif <14> links_count 0\n' +
    'sif <13> size 40960\nsif <12> dtime 13\nsif <13> dtime 14\nssv last_orphan 12\n');
  assert.match(execFileSync('debugfs', ['-c', '-R', 'stat <13>', image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), /Size: 40960\n[\s\S]*Blockcount: 0\n[\s\S]*EXTENTS:\n$/);
  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.state, entry.size, entry.recoverable, entry.note]), [
    [12, 'orphan', 30_000, true, null], [13, 'orphan', 40_960, true, allHoles(40_960)], [14, 'orphan', 0, true, null],
  ]);
  const all = untouched(image, caseDir, ['image', 'extract', image, '--all', '--json']);
  assert.equal(all.code, 0, all.stderr);
  const zeros = Buffer.alloc(40_960);
  assert.deepEqual(json<ExtractedJson[]>(all).map((copy) => [copy.inode, copy.bytes, copy.sha256, copy.complete, copy.note]), [
    [12, 30_000, sha256(data), true, null], [13, 40_960, sha256(zeros), true, allHoles(40_960)], [14, 0, sha256(Buffer.alloc(0)), true, null],
  ]);
  assert.ok(fs.readFileSync(json<ExtractedJson[]>(all)[1]?.output ?? '').equals(zeros));
  // Named by its number in a case with no scan of the image: described by debugfs, the same note.
  const { caseDir: fresh } = imageWorkDirs(t, 'allholes-named');
  const named = untouched(image, fresh, ['image', 'extract', image, '--inode', '13', '--json']);
  assert.equal(named.code, 0, named.stderr);
  assert.deepEqual(json<ExtractedJson[]>(named).map((copy) => [copy.bytes, copy.sha256, copy.complete, copy.note]), [[40_960, sha256(zeros), true, allHoles(40_960)]]);
  // A scan made before the note was kept (migration 11: NULL, not looked at): the extraction looks again, and says it.
  const older = new Database(path.join(caseDir, 'case.sqlite'));
  older.exec('UPDATE image_inodes SET note = NULL');
  older.close();
  const again = untouched(image, caseDir, ['image', 'extract', image, '--inode', '13', '--inode', '12', '--json']);
  assert.deepEqual(json<ExtractedJson[]>(again).map((copy) => [copy.inode, copy.bytes, copy.complete, copy.note]), [[13, 40_960, true, allHoles(40_960)], [12, 30_000, true, null]]);

  // Inline data lists no block either: its bytes are in the inode, no holes.
  const inline = path.join(dir, 'inline.img');
  fs.writeFileSync(inline, '');
  fs.truncateSync(inline, 32 << 20);
  execFileSync('mkfs.ext4', ['-q', '-F', '-O', 'inline_data,^orphan_file', '-I', '256', inline], { stdio: 'ignore' });
  const small = path.join(dir, 'small.txt');
  fs.writeFileSync(small, 'hello inline\n');
  execFileSync('debugfs', ['-w', '-f', '-', inline], { input: `write ${small} s\nunlink s\nsif <12> links_count 0\nssv last_orphan 12\n`, stdio: ['pipe', 'ignore', 'ignore'] });
  const { caseDir: third } = imageWorkDirs(t, 'allholes-inline');
  const inlineScan = untouched(inline, third, ['image', 'scan', inline, '--json']);
  assert.equal(inlineScan.code, 0, inlineScan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(inlineScan).map((entry) => [entry.inode, entry.size, entry.recoverable, entry.note]), [[12, 13, true, null]]);
  const inlineCopy = untouched(inline, third, ['image', 'extract', inline, '--inode', '12', '--json']);
  assert.deepEqual(json<ExtractedJson[]>(inlineCopy).map((copy) => [copy.bytes, copy.sha256, copy.complete, copy.note]), [[13, sha256(Buffer.from('hello inline\n')), true, null]]);
  const inlineAll = untouched(inline, third, ['image', 'extract', inline, '--all', '--json']);
  assert.deepEqual(json<ExtractedJson[]>(inlineAll).map((copy) => [copy.bytes, copy.complete, copy.note]), [[13, true, null]]);
});

test('setuid, setgid and sticky inodes (debugfs prints "Mode:  04755") are described by debugfs: full mode, the orphan chain followed through them (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'suid');
  const image = path.join(dir, 'suid.img');
  fs.writeFileSync(image, '');
  fs.truncateSync(image, 16 << 20);
  execFileSync('mkfs.ext4', ['-q', '-F', image]);
  const first = crypto.randomBytes(5000);
  const second = crypto.randomBytes(7000);
  fs.writeFileSync(path.join(dir, 'first'), first);
  fs.writeFileSync(path.join(dir, 'second'), second);
  // Our own scratch image: two setuid/setgid files unlinked while open, as the kernel leaves them on the
  // s_last_orphan chain (13, whose dtime names the next: 12); a g+s directory and a sticky one deleted.
  const commands = path.join(dir, 'orphans.txt');
  fs.writeFileSync(commands, [
    `write ${path.join(dir, 'first')} first`, 'sif first mode 0104755', `write ${path.join(dir, 'second')} second`, 'sif second mode 0106750',
    'mkdir shared', 'sif shared mode 042775', 'mkdir tmp', 'sif tmp mode 041777',
    `write ${path.join(dir, 'first')} live`, 'sif live mode 0104711',
    'sif first links_count 0', 'unlink first', 'sif second links_count 0', 'unlink second', 'ssv last_orphan 13', 'sif <13> dtime 12',
    'kill_file shared', 'unlink shared', 'kill_file tmp', 'unlink tmp', '',
  ].join('\n'));
  execFileSync('debugfs', ['-w', '-f', commands, image], { stdio: 'ignore' });
  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  // Exit 0 and no warning: read as a 4-digit mode only, each was "not described by debugfs" and left to istat.
  assert.equal(scan.code, 0, scan.stderr);
  assert.doesNotMatch(scan.stderr, /warning|not described/);
  assert.match(scan.stderr, /: 2 orphan \(2 recoverable\), 2 deleted \(2 recoverable\)\n/);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.state, entry.mode, entry.size, entry.recoverable]), [
    [12, 'orphan', 0o104755, 5000, true], [13, 'orphan', 0o106750, 7000, true], [14, 'deleted', 0o042775, 1024, true], [15, 'deleted', 0o041777, 1024, true],
  ]);
  const copies = json<ExtractedJson[]>(untouched(image, caseDir, ['image', 'extract', image, '--inode', '12', '--inode', '13', '--json']));
  assert.deepEqual(copies.map((copy) => [copy.inode, copy.sha256, copy.complete, copy.method]), [[12, sha256(first), true, 'icat'], [13, sha256(second), true, 'icat']]);
  // A live setuid file no scan lists: described by debugfs when asked for by number, its size known.
  const live = untouched(image, caseDir, ['image', 'extract', image, '--inode', '16', '--json']);
  assert.equal(live.code, 0, live.stderr);
  // The JSON and the database say what it is, not stderr alone.
  assert.deepEqual(json<ExtractedJson[]>(live).map((copy) => [copy.inode, copy.sha256, copy.complete, copy.note]), [[16, sha256(first), true, 'inode 16 still has 1 link(s): a live file, not an orphan']]);
  assert.match(live.stderr, /^inode 16 still has 1 link\(s\): a live file, not an orphan\n/);
});

test('the file system type is the one blkid and mount give (its features), not fsstat\'s guess: an ext4 without extents is ext4 (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'fstype');
  const made: Array<[string, string[]]> = [
    ['mkfs.ext4', ['-O', '^extent,^flex_bg,^64bit']], // metadata_csum, huge_file, dir_nlink, extra_isize: fsstat says Ext3
    ['mkfs.ext4', ['-O', '^has_journal']],
    ['mkfs.ext3', []],
    ['mkfs.ext2', []],
  ];
  const types = made.map(([mkfs, options], index) => {
    const image = path.join(dir, `t${index}.img`);
    fs.writeFileSync(image, '');
    fs.truncateSync(image, 8 << 20);
    execFileSync(mkfs, ['-q', '-F', ...options, image]);
    const blkid = execFileSync('blkid', ['-p', '-o', 'value', '-s', 'TYPE', image], { encoding: 'utf8' }).trim();
    const scan = untouched(image, caseDir, ['image', 'scan', image]);
    assert.equal(scan.code, 0, scan.stderr);
    return [blkid, /^sector 0: (\S+) /m.exec(scan.stdout + scan.stderr)?.[1] ?? scan.stdout];
  });
  assert.deepEqual(types, [['ext4', 'ext4'], ['ext4', 'ext4'], ['ext3', 'ext3'], ['ext2', 'ext2']]);
  const fsstat = execFileSync('fsstat', [path.join(dir, 't0.img')], { encoding: 'utf8' });
  assert.match(fsstat, /^File System Type: Ext3$/m, 'The Sleuth Kit 4.11.1 calls the first one ext3');
});

test('another disk attached later at a device path the case scanned is scanned again, never extracted by the old inode list (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'devreuse');
  const first = makeDeletedImage(fs.mkdtempSync(path.join(dir, 'a-')), 'ext2', Buffer.from('the first disk'));
  const second = makeDeletedImage(fs.mkdtempSync(path.join(dir, 'b-')), 'ext2', Buffer.from('THE SECOND DISK, another one'));
  const firstDisk = loopFsFor(t, { image: first.image, readOnly: true, mountPoint: false });
  const { loop } = firstDisk;
  assert.equal(runCli(caseDir, ['image', 'scan', loop]).code, 0);
  firstDisk.cleanup();
  // The same device node, the same size, another file system (another UUID).
  loopFsFor(t, { image: second.image, readOnly: true, device: loop, mountPoint: false });
  const extract = runCli(caseDir, ['image', 'extract', loop, '--all', '--json']);
  assert.equal(extract.code, 0, extract.stderr);
  assert.match(extract.stderr, /no scan of .* as it is now in the case \(none yet, or the file or the disk at that path changed since\): scanned it first/);
  const [copy] = json<ExtractedJson[]>(extract);
  assert.deepEqual([copy?.inode, copy?.sha256, copy?.complete], [second.inode, sha256(Buffer.from('THE SECOND DISK, another one')), true]);
});

test('an image reached through a symbolic link is recorded under its real path: one scan, found again whichever path names it (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'imglink');
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

/** Patch `bytes` into our own scratch image at `position`. */
function patch(image: string, position: number, bytes: Buffer): void {
  const fd = fs.openSync(image, 'r+');
  try {
    fs.writeSync(fd, bytes, 0, bytes.length, position);
  } finally {
    fs.closeSync(fd);
  }
}

test('the orphan chain and the orphan file are not trusted blindly: a deleted inode stays deleted, never-used and reserved inodes are left out (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'badchain');
  const { image, inode } = makeDeletedImage(dir, 'ext4', crypto.randomBytes(30_000));
  const scanOf = (copy: string): CliResult => {
    const result = untouched(copy, caseDir, ['image', 'scan', copy, '--json']);
    assert.equal(result.code, 0, result.stderr);
    return result;
  };
  /** A scratch copy of our image with the debugfs -w requests applied. */
  const crafted = (name: string, requests: string): string => {
    const copy = path.join(dir, name);
    fs.copyFileSync(image, copy);
    execFileSync('debugfs', ['-w', '-f', '-', copy], { input: requests, stdio: ['pipe', 'ignore', 'ignore'] });
    return copy;
  };
  const facts = (result: CliResult) => json<ImageInodeJson[]>(result).map((entry) => [entry.inode, entry.state, entry.recoverable, entry.found_by, (entry.dtime ?? 0) > 1_700_000_000]);

  // The chain head names an ordinarily deleted inode (ext4: size and extents zeroed).
  const toDeleted = crafted('to-deleted.img', `ssv last_orphan ${inode}\n`);
  const deletedScan = scanOf(toDeleted);
  assert.deepEqual(facts(deletedScan), [[inode, 'deleted', false, 'ils', true]]);
  assert.match(deletedScan.stderr, new RegExp(`^warning: sector 0: inode ${inode} is on the orphan chain but it is not allocated \\(ils -r lists it as deleted\\): kept as deleted, its dtime a deletion time \\(the chain is not followed past it\\)$`, 'm'));
  const extract = untouched(toDeleted, caseDir, ['image', 'extract', toDeleted, '--all', '--json']);
  assert.equal(extract.code, 0, extract.stderr);
  assert.deepEqual(json<ExtractedJson[]>(extract), []);
  assert.deepEqual(fs.existsSync(path.join(caseDir, 'extracted')) ? fs.readdirSync(path.join(caseDir, 'extracted')).filter((name) => name !== 'SHA256SUMS') : [], []);

  // A never-used inode (mode 0), and reserved inode 1 whose dtime names reserved inode 5.
  const neverUsed = scanOf(crafted('to-100.img', 'ssv last_orphan 100\n'));
  assert.deepEqual(facts(neverUsed), [[inode, 'deleted', false, 'ils', true]]);
  assert.match(neverUsed.stderr, /^warning: sector 0: inode 100 is on the orphan chain but it was never used \(mode 0, no file type\): left out \(the chain is not followed past it\)$/m);
  const reserved = scanOf(crafted('to-1.img', 'ssv last_orphan 1\nsif <1> dtime 5\n'));
  assert.deepEqual(facts(reserved), [[inode, 'deleted', false, 'ils', true]]);
  assert.match(reserved.stderr, /^warning: sector 0: inode 1 is on the orphan chain but it is a reserved inode \(below 11\), never an unlinked file: left out \(the chain is not followed past it\)$/m);
  assert.doesNotMatch(reserved.stderr, /inode 5 is/);

  // ext4 with orphan_file: a deleted inode (its extents kept) written into the orphan file's first slot.
  const content = crypto.randomBytes(20_000);
  const withFile = debugfsBuilt(fs.mkdtempSync(path.join(dir, 'of-')), ['mkfs.ext4', '-O', 'orphan_file'], { gone: content }, 'kill_file gone\nunlink gone\n');
  const orphanFileBlock = Number(execFileSync('debugfs', ['-c', '-R', 'bmap <12> 0', withFile], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  const blockSize = Number(/Block size:\s+(\d+)/.exec(execFileSync('dumpe2fs', ['-h', withFile], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))?.[1]);
  const slot = Buffer.alloc(4);
  slot.writeUInt32LE(13);
  patch(withFile, orphanFileBlock * blockSize, slot);
  const fileScan = scanOf(withFile);
  assert.deepEqual(facts(fileScan), [[13, 'deleted', true, 'ils', true]]);
  assert.match(fileScan.stderr, /^warning: sector 0: inode 13 is on the orphan file but it is not allocated \(ils -r lists it as deleted\): kept as deleted, its dtime a deletion time$/m);

  // Named with --inode, an unused reserved inode (8 on ext2: no journal) and a never-used one: no empty file as their content.
  const ext2 = makeDeletedImage(fs.mkdtempSync(path.join(dir, 'ext2-')), 'ext2', Buffer.from('x'));
  const { caseDir: fresh } = imageWorkDirs(t, 'badchain-named');
  const named = untouched(ext2.image, fresh, ['image', 'extract', ext2.image, '--inode', '8', '--inode', '100', '--json']);
  assert.equal(named.code, 3, named.stderr);
  assert.deepEqual(json<ExtractedJson[]>(named).map((copy) => [copy.inode, copy.output, copy.bytes, copy.sha256, copy.complete, copy.note]), [
    [8, null, 0, null, false, 'unrecoverable: inode 8 holds no file (mode 0, no file type: never used, a reserved inode this file system does not use): nothing extracted'],
    [100, null, 0, null, false, 'unrecoverable: inode 100 holds no file (mode 0, no file type: never used): nothing extracted'],
  ]);
  assert.deepEqual(fs.readdirSync(path.join(fresh, 'extracted')).filter((name) => name !== 'SHA256SUMS'), []);
});

test('an --offset that lands on a backup superblock is refused in one line that says where the file system starts (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'backup-sb');
  // ext2, 1 KiB blocks, 8192 blocks per group: group 1's backup superblock is block 8193, read as a
  // primary (1024 bytes into a file system) from sector 16384.
  const { image } = makeDeletedImage(dir, 'ext2', crypto.randomBytes(10_000));
  for (const args of [['image', 'scan', image, '--offset', '16384'], ['image', 'extract', image, '--inode', '12', '--offset', '16384']]) {
    const result = untouched(image, caseDir, args);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stderr, `unlinked: ${image} at sector 16384: this is the backup superblock of block group 1, not the start of a file system: the file system starts at sector 0 (--offset 0)\n`);
  }
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  assert.deepEqual(['images', 'image_inodes', 'extractions'].map((table) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n), [0, 0, 0]);
  db.close();

  // ext4, 4 KiB blocks, 8192 blocks per group, in a partition at sector 2048: group 1's backup is at
  // byte 32 MiB of the file system, read as a primary from 2 sectors before it.
  const disk = path.join(dir, 'disk.img');
  fs.writeFileSync(disk, '');
  fs.truncateSync(disk, 72 << 20);
  execFileSync('sfdisk', ['-q', disk], { input: 'label: dos\nstart=2048, type=83\n' });
  const part = path.join(dir, 'part.img');
  fs.writeFileSync(part, '');
  fs.truncateSync(part, 64 << 20);
  execFileSync('mkfs.ext4', ['-q', '-F', '-b', '4096', '-g', '8192', part]);
  patch(disk, 2048 * 512, fs.readFileSync(part));
  const wrong = 2048 + (8192 * 4096) / 512 - 2;
  const refused = untouched(disk, caseDir, ['image', 'scan', disk, '--offset', String(wrong)]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.equal(refused.stderr, `unlinked: ${disk} at sector ${wrong}: this is the backup superblock of block group 1, not the start of a file system: the file system starts at sector 2048 (--offset 2048)\n`);
  assert.equal(untouched(disk, caseDir, ['image', 'scan', disk, '--offset', '2048']).code, 0);
});

test('fls names: a file under $OrphanFiles/OrphanFile-N keeps that name; a reused inode with two deleted names keeps the first, not claimed exact (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'flsnames');
  const image = path.join(dir, 'names.img');
  fs.writeFileSync(image, '');
  fs.truncateSync(image, 16 << 20);
  execFileSync('mkfs.ext2', ['-q', '-F', image], { stdio: 'ignore' });
  const source = path.join(dir, 'src.txt');
  fs.writeFileSync(source, 'hello\n');
  // inner.txt is 15, a and b both 16 in turn (freed the ext2 way: blocks and entries kept), orphandirXYZ 14.
  execFileSync('debugfs', ['-w', '-f', '-', image], {
    input: `mkdir d1\nmkdir d2\nmkdir orphandirXYZ\nwrite ${source} orphandirXYZ/inner.txt\nwrite ${source} d1/a\nkill_file d1/a\nunlink d1/a\n` +
      `write ${source} d2/b\nkill_file d2/b\nunlink d2/b\nkill_file orphandirXYZ/inner.txt\nunlink orphandirXYZ/inner.txt\nkill_file orphandirXYZ\nunlink orphandirXYZ\n`,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  // No name reaches directory 14 any more: its freed entry's inode field (8 bytes before the name) zeroed.
  const bytes = fs.readFileSync(image);
  const at = bytes.indexOf('orphandirXYZ');
  assert.ok(at > 0 && bytes.indexOf('orphandirXYZ', at + 1) < 0 && bytes.readUInt32LE(at - 8) === 14);
  patch(image, at - 8, Buffer.alloc(4));
  assert.match(execFileSync('fls', ['-r', '-d', '-p', image], { encoding: 'utf8' }), /^r\/r \* 15:\t\$OrphanFiles\/OrphanFile-14\/inner\.txt$/m);

  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.state, entry.last_name, entry.last_name_exact]), [
    [14, 'deleted', null, null], [15, 'deleted', '$OrphanFiles/OrphanFile-14/inner.txt', true], [16, 'deleted', 'd1/a', false],
  ]);
  assert.match(scan.stderr, /^warning: sector 0: fls found several deleted names for 1 inodes \(first: 16\): reused inodes; the first name is kept, with last_name_exact false$/m);
});

test('a deleted name that is a stale copy (its inode freed, used by another file and freed again; or its file renamed away, then deleted) is kept but not claimed exact; a true last name stays exact (root)', (t) => {
  const dir = makeTempDir('img-stale-names');
  // A fixed UUID and hash seed: the same entries are moved by each leaf split, so the same stale copies are left in the slack.
  const device = loopFsFor(t, { dir, sizeMiB: 16, fsType: 'ext4', mkfsArgs: ['-b', '1024', '-U', '11111111-2222-3333-4444-555555555555', '-E', 'hash_seed=66666666-7777-8888-9999-aaaaaaaaaaaa'] });
  const { caseDir } = imageWorkDirs(t, 'img-stale-names-case');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const at = (...parts: string[]) => path.join(device.mountPoint, ...parts);
  for (const name of ['d', 'e', 'r', 's', 'f']) fs.mkdirSync(at(name));
  const long = (stem: string, i: number) => `${stem}-${i}-${'y'.repeat(30)}`;
  const odd = Array.from({ length: 50 }, (_, index) => 101 + 2 * index);
  // 100 entries of 52 bytes: each directory splits into several 1 KiB leaves, which keeps stale copies of the entries moved.
  const stems = [['d', 'old'], ['r', 'was'], ['f', 'keep']] as const;
  for (let i = 100; i < 200; i++) for (const [folder, stem] of stems) fs.writeFileSync(at(folder, long(stem, i)), '');
  execFileSync('sync', ['-f', device.mountPoint]);
  const inodeOf = (file: string) => fs.statSync(file).ino;
  const before = new Map(odd.flatMap((i) => stems.map(([folder, stem]) => [inodeOf(at(folder, long(stem, i))), `${folder}/${long(stem, i)}`] as const)));
  // d and r lose their odd names now, and change no more: their mtime stays this second.
  for (const i of odd) {
    fs.unlinkSync(at('d', long('old', i)));
    fs.renameSync(at('r', long('was', i)), at('s', `renamed-${i}`));
  }
  execFileSync('sync', ['-f', device.mountPoint]);
  execFileSync('sleep', ['2.1']);
  // The 50 inodes d freed are used by e's new files, then everything goes: e/new-N, s/renamed-N and f's odd names are the last names.
  for (let i = 1; i <= 50; i++) fs.writeFileSync(at('e', `new-${i}`), `new ${i}\n`);
  execFileSync('sync', ['-f', device.mountPoint]);
  const last = new Map<number, string>();
  for (const folder of ['e', 's']) for (const name of fs.readdirSync(at(folder))) last.set(inodeOf(at(folder, name)), `${folder}/${name}`);
  for (const i of odd) last.set(inodeOf(at('f', long('keep', i))), `f/${long('keep', i)}`);
  for (const folder of ['e', 's']) for (const name of fs.readdirSync(at(folder))) fs.unlinkSync(at(folder, name));
  for (const i of odd) fs.unlinkSync(at('f', long('keep', i)));
  execFileSync('sync', ['-f', device.mountPoint]);
  const directory = { d: inodeOf(at('d')), r: inodeOf(at('r')) };
  const image = path.join(dir, 'evidence.img');
  frozenCopy(device.mountPoint, device.backing, image);
  // The kernel wiped every removed entry: what fls still finds is the stale copies leaf splits left.
  assert.deepEqual(execFileSync('fls', ['-r', '-d', image], { encoding: 'utf8' }).split('\n').filter((line) => line.startsWith('r/r')), [
    `r/r * 232:\td/${long('old', 173)}`, `r/r * 209:\tr/${long('was', 165)}`, `r/r * 257:\tr/${long('was', 181)}`, `r/r * 234:\tf/${long('keep', 173)}`,
  ]);
  // Inode 232 was d/old-173, then e/new-37; 209 and 257 were renamed to s/renamed-165 and -181; 234's last name was f/keep-173.
  assert.deepEqual([232, 209, 257, 234].map((inode) => [before.get(inode), last.get(inode)]), [
    [`d/${long('old', 173)}`, 'e/new-37'], [`r/${long('was', 165)}`, 's/renamed-165'], [`r/${long('was', 181)}`, 's/renamed-181'], [`f/${long('keep', 173)}`, `f/${long('keep', 173)}`],
  ]);

  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  const records = json<ImageInodeJson[]>(scan);
  assert.equal(records.length, 150);
  assert.deepEqual(records.filter((entry) => entry.last_name !== null).map((entry) => [entry.inode, entry.last_name, entry.last_name_exact]), [
    [209, `r/${long('was', 165)}`, false], [232, `d/${long('old', 173)}`, false], [234, `f/${long('keep', 173)}`, true], [257, `r/${long('was', 181)}`, false],
  ]);
  const stale = (inode: number, name: string, folder: 'd' | 'r') => `${inode} ${name}: ${folder} \\(inode ${directory[folder]}\\) changed \\d+, dtime \\d+`;
  assert.match(scan.stderr, new RegExp('^warning: sector 0: the only deleted name fls found for 3 inodes lies in a directory last changed a second or more before the inode was freed ' +
    `\\(first: ${stale(232, `d/${long('old', 173)}`, 'd')}; ${stale(209, `r/${long('was', 165)}`, 'r')}; ${stale(257, `r/${long('was', 181)}`, 'r')}\\): ` +
    'not the name removed when it was freed, but a stale copy .*; kept, with last_name_exact false$', 'm'));
});

test('clobbered group descriptors: what debugfs says of the file system is a warning of that file system, and the scan is partial (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'gdt');
  const { image } = makeDeletedImage(dir, 'ext2', crypto.randomBytes(10_000));
  // Our own copy: the group descriptor block (block 2 with 1 KiB blocks) zeroed.
  patch(image, 2 * 1024, Buffer.alloc(1024));
  const said = spawnSync('debugfs', ['-c', '-n', '-R', 'stat <12>', image], { encoding: 'utf8' });
  assert.match(said.stderr, /^stat: A block group is missing an inode table while reading inode 12$/m);
  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 3, scan.stderr);
  const inodes = json<ImageInodeJson[]>(scan);
  assert.ok(inodes.length > 0, 'TSK lists what it reads there');
  assert.match(scan.stderr, new RegExp(`^warning: sector 0: debugfs said: A block group is missing an inode table \\(said ${inodes.length} times\\)$`, 'm'));
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  assert.match((db.prepare('SELECT error FROM image_filesystems').get() as { error: string }).error, /debugfs said: A block group is missing an inode table/);
  db.close();
});

/** Rows of the newest scan's inodes in a case database: their times, crtime included (not in the JSON). */
function storedTimes(caseDir: string): Array<[number, number | null, number | null, number | null, number | null]> {
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    const rows = db.prepare('SELECT inode, atime, mtime, ctime, crtime FROM image_inodes WHERE filesystem_id = (SELECT max(id) FROM image_filesystems) ORDER BY inode').all() as Array<{ inode: number; atime: number | null; mtime: number | null; ctime: number | null; crtime: number | null }>;
    return rows.map((row) => [row.inode, row.atime, row.mtime, row.ctime, row.crtime]);
  } finally {
    db.close();
  }
}

test('an inode whose ctime is 0 (which ils takes for never used) is looked at itself: a deleted one found through its name in fls, an orphan through the chain, both extracted (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'ctime0');
  const secret = crypto.randomBytes(20_000);
  const held = crypto.randomBytes(9_000);
  // ext4, 12 deleted the ext2 way (kill_file: extents kept) with ctime 0; 13 an orphan (allocated, no link, on the chain) with ctime 0.
  const image = debugfsBuilt(dir, ['mkfs.ext4'], { secret, held },
    'kill_file secret\nunlink secret\nsif <12> ctime @0\nunlink held\nsif <13> links_count 0\nsif <13> ctime @0\nssv last_orphan 13\n');
  // What TSK makes of them: in neither ils list, while fls still shows the deleted name.
  const tsk = (args: string[]) => execFileSync(args[0] ?? '', args.slice(1), { encoding: 'utf8' });
  assert.doesNotMatch(tsk(['ils', '-r', image]), /^12\|/m);
  assert.doesNotMatch(tsk(['ils', '-a', '-L', image]), /^13\|/m);
  assert.match(tsk(['fls', '-r', '-d', image]), /^r\/r \* 12:\tsecret$/m);
  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.state, entry.found_by, entry.last_name, entry.size, entry.ctime, entry.recoverable, (entry.dtime ?? 0) > 1_700_000_000]), [
    [12, 'deleted', 'fls', 'secret', 20_000, 0, true, true],
    [13, 'orphan', 'orphan_chain', null, 9_000, 0, true, false],
  ]);
  assert.match(scan.stderr, /^warning: sector 0: inode 13 is on the orphan chain and allocated \(its inode bitmap bit\), although ils -aL does not list it \(The Sleuth Kit takes an inode whose ctime is 0 for one never used\): kept as an orphan$/m);
  assert.match(scan.stderr, /^warning: sector 0: 1 inodes \(first: 12\) that ils did not list \(The Sleuth Kit takes an inode whose ctime is 0 for one never used\) were found through the deleted names fls found$/m);
  assert.doesNotMatch(scan.stderr, /not a file in use|fsstat lists orphan inodes/);
  const extract = untouched(image, caseDir, ['image', 'extract', image, '--all', '--json']);
  assert.equal(extract.code, 0, extract.stderr);
  assert.deepEqual(json<ExtractedJson[]>(extract).map((copy) => [copy.inode, copy.sha256, copy.complete]), [[12, sha256(secret), true], [13, sha256(held), true]]);

  // The chain names the deleted one: not allocated (its inode bitmap bit), kept as deleted with its name, said; the
  // orphan, off the chain now, is still found through its old name (fls: `13(realloc)`, allocated).
  const chained = path.join(dir, 'chained.img');
  fs.copyFileSync(image, chained);
  execFileSync('debugfs', ['-w', '-R', 'ssv last_orphan 12', chained], { stdio: 'ignore' });
  const { caseDir: second } = imageWorkDirs(t, 'ctime0-chain');
  const chainScan = untouched(chained, second, ['image', 'scan', chained, '--json']);
  assert.equal(chainScan.code, 0, chainScan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(chainScan).map((entry) => [entry.inode, entry.state, entry.found_by, entry.last_name]), [
    [12, 'deleted', 'orphan_chain', 'secret'], [13, 'orphan', 'fls', 'held'],
  ]);
  assert.match(chainScan.stderr, /^warning: sector 0: inode 12 is on the orphan chain but it is not allocated \(its inode bitmap bit\), although ils -r does not list it \(The Sleuth Kit takes an inode whose ctime is 0 for one never used\): kept as deleted, its dtime a deletion time \(the chain is not followed past it\)$/m);
});

/** A symlink target that forges debugfs' echo of `stat <14>` and a description of 14 (130 bytes, kept inline with inline_data). */
const FORGED_TARGET = '\ndebugfs: stat <14>\nInode: 14   Type: regular    Mode:  0644   Flags: 0x0\nUser:     0   Group:     0   Project:     0   Size: 999\n';

test('a symlink target forging debugfs\' output for another inode attributes nothing to it: every inode described by debugfs, times with their epoch bits exact (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'forged-link');
  assert.equal(FORGED_TARGET.length, 130);
  // Orphans (allocated, no link) 12 and 14, and 13 a symlink debugfs writes inline (60 bytes in
  // i_block, 70 in the system.data attribute), its placeholder target then overwritten in our image.
  const placeholder = 'Q'.repeat(130);
  const image = debugfsBuilt(dir, ['mkfs.ext4', '-I', '512', '-O', 'inline_data,^orphan_file'], { a: Buffer.from('a\n') },
    `symlink s ${placeholder}\nwrite ${path.join(dir, 'a.src')} c\nunlink a\nunlink s\nunlink c\n` +
    'sif <12> links_count 0\nsif <13> links_count 0\nsif <14> links_count 0\n' +
    'sif <14> atime_lo 1000000000\nsif <14> atime_extra 1\nsif <14> mtime_lo 684563713\nsif <14> mtime_extra 3\nsif <14> ctime_lo 100\nsif <14> ctime_extra 2\n' +
    'sif <14> crtime_lo 684563713\nsif <14> crtime_extra 3999999999\n');
  const bytes = fs.readFileSync(image);
  const head = bytes.indexOf('Q'.repeat(60));
  const tail = bytes.indexOf('Q'.repeat(70), head + 60);
  assert.ok(head > 0 && tail > 0 && bytes.indexOf('Q'.repeat(60), tail + 70) < 0, 'the placeholder in two parts');
  patch(image, head, Buffer.from(FORGED_TARGET.slice(0, 60), 'latin1'));
  patch(image, tail, Buffer.from(FORGED_TARGET.slice(60), 'latin1'));
  assert.ok(execFileSync('debugfs', ['-c', '-n', '-R', 'stat <13>', image], { encoding: 'latin1', stdio: ['ignore', 'pipe', 'ignore'] }).includes(`Fast link dest: "${FORGED_TARGET}"`));
  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.doesNotMatch(scan.stderr, /not described|forged|istat/);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.state, entry.mode, entry.size, entry.recoverable]), [
    [12, 'orphan', 0o100644, 2, true], [13, 'orphan', 0o120777, 130, true], [14, 'orphan', 0o100644, 2, true],
  ]);
  // As debugfs (and the kernel) read 14: each low word signed plus its epoch bits times 2^32.
  const [, , fourteen] = storedTimes(caseDir);
  assert.deepEqual(fourteen, [14, 1_000_000_000 + 2 ** 32, 684_563_713 + 3 * 2 ** 32, 100 + 2 * 2 ** 32, 684_563_713 + 3 * 2 ** 32]);
  // The target itself is 13's content: extracted exactly.
  const extract = untouched(image, caseDir, ['image', 'extract', image, '--inode', '13', '--json']);
  assert.equal(extract.code, 0, extract.stderr);
  assert.deepEqual(json<ExtractedJson[]>(extract).map((copy) => [copy.inode, copy.sha256, copy.complete]), [[13, sha256(Buffer.from(FORGED_TARGET, 'latin1')), true]]);
});

test('times known only from The Sleuth Kit (debugfs could not run) are null on inodes larger than 128 bytes, said per inode, exit 3; kept on 128-byte inodes (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'tsk-times');
  const content = crypto.randomBytes(5_000);
  // atime 2001-09-09 plus 2^32 s: ils prints 1000000000 for it.
  const image = debugfsBuilt(dir, ['mkfs.ext4', '-I', '256'], { x: content }, 'sif x atime_lo 1000000000\nsif x atime_extra 1\nkill_file x\nunlink x\n');
  const old = debugfsBuilt(fs.mkdtempSync(path.join(dir, 'old-')), ['mkfs.ext2', '-I', '128'], { x: content }, 'sif x atime @-86400\nkill_file x\nunlink x\n');
  const described = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(described.code, 0, described.stderr);
  assert.deepEqual(storedTimes(caseDir)[0]?.slice(0, 2), [12, 1_000_000_000 + 2 ** 32]);
  const dtime = json<ImageInodeJson[]>(described)[0]?.dtime;
  // A case disk without room for debugfs's output: istat describes the inodes, ils gives the times.
  const small = mountTmpfs('tsk-times', 4);
  t.after(() => small.cleanup());
  for (const [which, expected] of [[image, null], [old, -86400]] as const) {
    const smallCase = path.join(small.dir, `case-${path.basename(path.dirname(which))}`);
    // istat prints "Deleted:" in the local zone ("(CET)"): the adapter runs it with TZ=UTC, so any zone reads the same.
    const before = sha256File(which);
    const scan = runCli(smallCase, ['image', 'scan', which, '--json'], { TZ: 'Europe/Paris' });
    assert.equal(sha256File(which), before);
    assert.match(scan.stderr, /debugfs stat failed: no room on the case's disk/);
    const [entry] = json<ImageInodeJson[]>(scan);
    assert.deepEqual([entry?.inode, entry?.atime, entry?.size], [12, expected, 5_000]);
    if (which === image) assert.equal(entry?.dtime, dtime);
    if (expected === null) {
      assert.equal(scan.code, 3, scan.stderr);
      assert.match(scan.stderr, /^warning: sector 0: 1 inodes \(first: 12\) have no times from debugfs: those The Sleuth Kit \(ils, istat\) prints ignore ext4's epoch bits on 256-byte inodes and may be wrong by multiples of 2\^32 s: left null$/m);
      assert.deepEqual(storedTimes(smallCase), [[12, null, null, null, null]]);
    } else {
      assert.doesNotMatch(scan.stderr, /have no times/);
    }
  }
});

test('inodes with i_extra_isize 16, 20 or 0 get the times the kernel shows (each extra word that fits; 0 taken for 32), no birth time where none fits (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'extra-isize');
  const times = 'atime_lo 1400000000\nsif NAME atime_extra 5\nsif NAME mtime_lo 0x83AA7E80\nsif NAME mtime_extra 1\nsif NAME ctime_lo 1400000002\nsif NAME ctime_extra 2\n' +
    'sif NAME crtime_lo 1234567890\nsif NAME crtime_extra 1\n';
  const names = ['x16', 'x20', 'x0'];
  const image = debugfsBuilt(dir, ['mkfs.ext4', '-I', '256'], Object.fromEntries(names.map((name) => [name, Buffer.from(`${name}\n`)])),
    names.map((name) => `sif ${name} ${times.replaceAll('NAME', name)}sif ${name} extra_isize ${name.slice(1)}\n`).join(''));
  // What the kernel shows of them, mounted read-only (our own image): stat's %W is 0 without a birth time.
  const kernel = new Map<string, Array<number | null>>();
  const mounted = loopFs({ image, readOnly: true, mountPoint: path.join(dir, 'mnt') });
  try {
    for (const name of names) {
      const shown = execFileSync('stat', ['--format=%X %Y %Z %W', path.join(mounted.mountPoint, name)], { encoding: 'utf8' }).trim().split(' ').map(Number);
      kernel.set(name, [shown[0] ?? NaN, shown[1] ?? NaN, shown[2] ?? NaN, shown[3] === 0 ? null : shown[3] ?? NaN]);
    }
  } finally {
    mounted.cleanup();
  }
  assert.deepEqual([...kernel.values()], [
    [1_400_000_000 + 2 ** 32, 2_208_988_800, 1_400_000_002 + 2 * 2 ** 32, null],
    [1_400_000_000 + 2 ** 32, 2_208_988_800, 1_400_000_002 + 2 * 2 ** 32, 1_234_567_890],
    [1_400_000_000 + 2 ** 32, 2_208_988_800, 1_400_000_002 + 2 * 2 ** 32, 1_234_567_890 + 2 ** 32],
  ]);
  execFileSync('debugfs', ['-w', '-f', '-', image], { input: names.map((name) => `unlink ${name}\n`).join('') + 'sif <12> links_count 0\nsif <13> links_count 0\nsif <14> links_count 0\n', stdio: ['pipe', 'ignore', 'ignore'] });
  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.state]), [[12, 'orphan'], [13, 'orphan'], [14, 'orphan']]);
  assert.deepEqual(storedTimes(caseDir), names.map((name, index) => [12 + index, ...(kernel.get(name) ?? [])]));
});

test('the last mount time keeps s_mtime_hi: a mount after 2106 is stored as such (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'mtime-hi');
  // Without metadata_csum, so that our patch of the superblock leaves it readable to the tools.
  const image = debugfsBuilt(dir, ['mkfs.ext4', '-O', '^metadata_csum'], { x: Buffer.from('x') }, 'kill_file x\nunlink x\nssv mtime 20991231000000\n');
  patch(image, 1024 + 0x275, Buffer.from([1]));
  assert.equal(untouched(image, caseDir, ['image', 'scan', image, '-q']).code, 0);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    assert.deepEqual(db.prepare('SELECT last_mounted_at FROM image_filesystems').get(), { last_mounted_at: Date.UTC(2099, 11, 31) / 1000 + 2 ** 32 });
  } finally {
    db.close();
  }
});

test('an i_extra_isize the kernel refuses is said whatever debugfs made of it: not a multiple of 4 (26), past the inode (160) (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'badextra');
  for (const value of [26, 160]) {
    const image = path.join(dir, `extra${value}.img`);
    execFileSync('truncate', ['-s', '16M', image]);
    execFileSync('mkfs.ext4', ['-q', '-F', '-N', '256', '-I', '256', '-O', '^orphan_file', image], { stdio: 'ignore' });
    execFileSync('debugfs', ['-w', '-R', 'write /etc/hostname x', image], { stdio: 'ignore' });
    execFileSync('debugfs', ['-w', '-f', '-', image], { input: `sif <12> extra_isize ${value}\nsif <12> links_count 0\nunlink /x\n`, stdio: ['pipe', 'ignore', 'ignore'] });
    const scan = untouched(image, path.join(caseDir, String(value)), ['image', 'scan', image, '--json']);
    assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.state]), [[12, 'orphan']]);
    assert.ok(scan.stderr.includes(`warning: sector 0: inode 12 has i_extra_isize ${value}, which the kernel refuses (past the inode's 256 bytes or not a multiple of 4): the file system would not show it`), scan.stderr);
  }
});

test('an orphan found only through a deleted name fls printed (ils took it for never used: ctime 0) carries that name (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'flsorphan');
  const image = path.join(dir, 'f.img');
  execFileSync('truncate', ['-s', '16M', image]);
  execFileSync('mkfs.ext4', ['-q', '-F', '-N', '256', '-O', '^orphan_file', image], { stdio: 'ignore' });
  execFileSync('debugfs', ['-w', '-R', 'write /etc/hostname secret.txt', image], { stdio: 'ignore' });
  execFileSync('debugfs', ['-w', '-f', '-', image], { input: 'unlink /secret.txt\nsif <12> links_count 0\nsif <12> ctime 0\n', stdio: ['pipe', 'ignore', 'ignore'] });
  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.state, entry.found_by, entry.last_name]), [[12, 'orphan', 'fls', 'secret.txt']]);
});

test('fls reads an htree directory\'s index blocks as deleted entries: no name nor inode is taken from them; the deleted names of its leaf blocks keep their exact bytes', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'htree');
  const image = path.join(dir, 'htree.img');
  execFileSync('truncate', ['-s', '32M', image]);
  // No metadata_csum (ext3): the dx_root limit is 124, so dx_root_info `01 08 00 00` reads as an entry of inode 2049.
  execFileSync('mkfs.ext3', ['-q', '-F', '-b', '1024', '-N', '4096', '-E', 'hash_seed=66666666-7777-8888-9999-000000000000', image], { stdio: 'ignore' });
  const source = path.join(dir, 'src.txt');
  fs.writeFileSync(source, 'hi\n');
  // Inodes in turn: d 12, hide 13, n 14, d/f0.. from 15, so the file written 2035th is 2049: hide/victim.
  // n's 540 names of 240 bytes fill more than the 124 leaf blocks a dx_root points at: a dx_node level.
  const long = (index: number) => `${'L'.repeat(236)}${String(index).padStart(4, '0')}`;
  const writes = ['mkdir d', 'mkdir hide', 'mkdir n'];
  for (let index = 0; index < 2100; index++) writes.push(index === 2034 ? `write ${source} hide/victim` : `write ${source} d/f${index}`);
  writes.push('cd n', ...Array.from({ length: 540 }, (_, index) => `write ${source} ${long(index)}`));
  execFileSync('debugfs', ['-w', '-f', '-', image], { input: `${writes.join('\n')}\n`, stdio: ['pipe', 'ignore', 'ignore'] });
  const indexed = spawnSync('e2fsck', ['-f', '-y', '-D', image], { stdio: 'ignore' });
  assert.ok(indexed.status === 0 || indexed.status === 1, `e2fsck -D exited ${indexed.status}`);
  // Deleted the ext2 way (names left in the slack of the entry before): d/f100, d/f12 and n/L..0007. The victim's only name
  // goes with its directory's content (size 0), and ctime 0 keeps it off ils' lists: only fls' index misreading names it.
  execFileSync('debugfs', ['-w', '-f', '-', image], {
    input: `kill_file d/f100\nunlink d/f100\nkill_file d/f12\nunlink d/f12\nkill_file hide/victim\nsif <2049> ctime 0\nsif hide size 0\ncd n\nkill_file ${long(7)}\nunlink ${long(7)}\n`, stdio: ['pipe', 'ignore', 'ignore'],
  });
  assert.match(execFileSync('debugfs', ['-c', '-R', 'htree n', image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), /Indirect levels: 1\n/);
  const printed = execFileSync('fls', ['-r', '-d', '-p', image], { encoding: 'latin1' }).split('\n').filter((line) => !line.includes('$OrphanFiles'));
  // With this hash seed, a dx_entry's block number also reads as an entry: of inode 27, d/f12, whose real name fls finds too.
  assert.deepEqual(printed.sort(), ['', '-/r * 2049:\td/^', '-/r * 27:\td/^', 'r/r * 27:\td/f12', 'r/r * 115:\td/f100', `r/r * 2122:\tn/${long(7)}`].sort());

  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.state, entry.found_by, entry.last_name, entry.last_name_exact]), [
    [27, 'deleted', 'ils', 'd/f12', true], [115, 'deleted', 'ils', 'd/f100', true], [2122, 'deleted', 'ils', `n/${long(7)}`, true],
  ]);
  assert.match(scan.stderr, /^warning: sector 0: fls read 2 deleted names out of the htree index blocks of 1 directories \(d \(inode 12\): 2\): index bytes, not names: left out$/m);
});

/** The CLI with a time limit: a copy that never ends (icat by a size of 2^64 - 1) fails the test instead of hanging it. */
function boundedCli(caseDir: string, args: string[], timeoutMs = 120_000): CliResult {
  const result = spawnSync(process.execPath, [cliPath, '--case', caseDir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
  assert.equal(result.error, undefined, `${args.join(' ')} did not end within ${timeoutMs / 1000} s`);
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Orphans (unlinked, links_count 0) whose i_size is 2^53 + 1, 2^63, 2^64 - 1, one whose i_mode is 0170644, one plain: inodes 12 to 16. */
function crafted(dir: string): { image: string; contents: Buffer[] } {
  const contents = [0, 1, 2, 3, 4].map((index) => Buffer.from(`content of orphan ${12 + index}\n`));
  const names = ['big53', 'big63', 'allones', 'badtype', 'plain'];
  const image = debugfsBuilt(dir, ['mkfs.ext4'], Object.fromEntries(names.map((name, index) => [name, contents[index] ?? Buffer.alloc(0)])),
    names.map((name, index) => `unlink ${name}\nsif <${12 + index}> links_count 0\n`).join('') +
    'sif <12> size 9007199254740993\nsif <13> size 0x8000000000000000\nsif <14> size 18446744073709551615\nsif <15> mode 0170644\n');
  return { image, contents };
}

test('an i_size past 2^53 or from 2^63 (ils prints it signed) is found and kept exact in every output; extract refuses it with why and copies the rest (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'bigsize');
  const { image, contents } = crafted(dir);
  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  const found = parseExact<ImageInodeJson[]>(scan.stdout).map((entry) => [entry.inode, entry.state, entry.found_by, entry.size, entry.recoverable]);
  assert.deepEqual(found, [
    [12, 'orphan', 'ils', '9007199254740993', true], [13, 'orphan', 'ils', '9223372036854775808', true], [14, 'orphan', 'ils', '18446744073709551615', true],
    [15, 'orphan', 'ils', 21, true], [16, 'orphan', 'ils', 21, true],
  ]);
  assert.match(scan.stderr, /^warning: sector 0: 3 inodes \(12: 9007199254740993 bytes, 13: 9223372036854775808 bytes, 14: 18446744073709551615 bytes\) have sizes past 2\^53, larger than any ext4 file \(a corrupt or crafted i_size\): kept exact; image extract does not copy by such a size$/m);
  assert.doesNotMatch(scan.stderr, /unreadable ils line|ctime is 0/);
  // Stored as SQLite's signed 64 bits (docs/schema.md), every report unsigned.
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    assert.deepEqual(db.prepare('SELECT inode, CAST(size AS TEXT) FROM image_inodes ORDER BY inode').raw().all(),
      [[12, '9007199254740993'], [13, '-9223372036854775808'], [14, '-1'], [15, '21'], [16, '21']]);
  } finally {
    db.close();
  }
  const report = (format: string): string => {
    const written = runCli(caseDir, ['report', '--format', format, '--out', '-']);
    assert.equal(written.code, 0, written.stderr);
    return written.stdout;
  };
  const csv = report('csv').split('\r\n').filter((line) => line.startsWith('image,'));
  assert.deepEqual(csv.map((line) => line.split(',').slice(12, 14)), [['12', '9007199254740993'], ['13', '9223372036854775808'], ['14', '18446744073709551615'], ['15', '21'], ['16', '21']]);
  assert.deepEqual(report('bodyfile').trim().split('\n').map((line) => line.split('|').slice(2, 7).join('|')), [
    // Orphans with no name: "-" first, as ils -m writes it; 15's own type bits are no file type ("-" after the slash).
    '12|-/rrw-r--r--|0|0|9007199254740993', '13|-/rrw-r--r--|0|0|9223372036854775808', '14|-/rrw-r--r--|0|0|18446744073709551615',
    '15|-/-rw-r--r--|0|0|21', '16|-/rrw-r--r--|0|0|21',
  ]);
  assert.deepEqual(parseExact<{ image_inodes: Array<{ inode: number; size: unknown }> }>(report('json')).image_inodes.map((entry) => [entry.inode, entry.size]), [
    [12, '9007199254740993'], [13, '9223372036854775808'], [14, '18446744073709551615'], [15, 21], [16, 21],
  ]);
  assert.match(report("html"), /"18446744073709551615"/);

  // Copying by such a size would not end (debugfs dump writes 0 bytes for ever): refused with why, the others copied, exit 3.
  const extract = boundedCli(caseDir, ['image', 'extract', image, '--all', '--json']);
  assert.equal(extract.code, 3, extract.stderr);
  assert.deepEqual(json<ExtractedJson[]>(extract).map((copy) => [copy.inode, copy.bytes, copy.sha256, copy.complete, copy.note]), [
    ...[['12', '9007199254740993'], ['13', '9223372036854775808'], ['14', '18446744073709551615']].map(([inode, size]) => [Number(inode), 0, null, false,
      `the inode's size is ${size} bytes, past 2^53, larger than any ext4 file (a corrupt or crafted i_size): nothing extracted, as icat and debugfs copy by the size (its 1 data blocks can be read with blkcat)`]),
    [15, 21, sha256(contents[3] ?? Buffer.alloc(0)), true, null], [16, 21, sha256(contents[4] ?? Buffer.alloc(0)), true, null],
  ]);
  // Named without a scan: debugfs' exact size refuses it the same way.
  const { caseDir: fresh } = imageWorkDirs(t, 'bigsize-fresh');
  const named = boundedCli(fresh, ['image', 'extract', image, '--inode', '14', '--json']);
  assert.equal(named.code, 3, named.stderr);
  assert.match(json<ExtractedJson[]>(named)[0]?.note ?? '', /^the inode's size is 18446744073709551615 bytes, past 2\^53/);

  // On the orphan chain as well: found by both, its size exact, nothing blamed on a ctime of 0.
  const chained = path.join(dir, 'chained.img');
  fs.copyFileSync(image, chained);
  execFileSync('debugfs', ['-w', '-R', 'ssv last_orphan 12', chained], { stdio: 'ignore' });
  const { caseDir: second } = imageWorkDirs(t, 'bigsize-chain');
  const chainScan = untouched(chained, second, ['image', 'scan', chained, '--json']);
  assert.equal(chainScan.code, 0, chainScan.stderr);
  assert.deepEqual(parseExact<ImageInodeJson[]>(chainScan.stdout).filter((entry) => entry.inode === 12).map((entry) => [entry.found_by, entry.size]), [['ils+orphan_chain', '9007199254740993']]);
  assert.doesNotMatch(chainScan.stderr, /ctime is 0/);
});

test('an i_mode whose file type bits are no file type (0170644) keeps its whole mode, said; it is copied, scanned or named (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'badtype');
  const { image, contents } = crafted(dir);
  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.deepEqual(parseExact<ImageInodeJson[]>(scan.stdout).filter((entry) => entry.inode >= 15).map((entry) => [entry.inode, entry.mode]), [[15, 0o170644], [16, 0o100644]]);
  assert.match(scan.stderr, /^warning: sector 0: inode 15 has mode 0170644, whose file type bits \(0170000\) are no valid file type \(a corrupt or crafted i_mode\): the mode is kept as it is$/m);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    assert.deepEqual(db.prepare('SELECT mode, mode_string FROM image_inodes WHERE inode = 15').raw().get(), [0o170644, '?rw-r--r--']);
  } finally {
    db.close();
  }
  const csv = runCli(caseDir, ['report', '--format', 'csv', '--out', '-']);
  assert.deepEqual(csv.stdout.split('\r\n').filter((line) => line.startsWith('image,') && line.split(',')[12] === '15').map((line) => line.split(',')[14]), [String(0o170644)]);
  // Named without a scan: not taken for an inode never used (debugfs prints "bad type" for both).
  const { caseDir: fresh } = imageWorkDirs(t, 'badtype-fresh');
  const named = untouched(image, fresh, ['image', 'extract', image, '--inode', '15', '--json']);
  assert.equal(named.code, 0, named.stderr);
  assert.deepEqual(json<ExtractedJson[]>(named).map((copy) => [copy.bytes, copy.sha256, copy.complete]), [[21, sha256(contents[3] ?? Buffer.alloc(0)), true]]);
  // Said as the scan says it: a warning (-q does not hide it).
  assert.match(named.stderr, /^warning: sector 0: inode 15 has mode 0170644, whose file type bits \(0170000\) are no valid file type \(a corrupt or crafted i_mode\): the mode is kept as it is$/m);
  const quiet = untouched(image, imageWorkDirs(t, 'badtype-quiet').caseDir, ['image', 'extract', image, '--inode', '15', '-q']);
  assert.match(quiet.stderr, /^warning: sector 0: inode 15 has mode 0170644/m);
});

/**
 * A 12 MiB GPT disk: in its one partition (sector 2048) an ext4 labelled "real" with an orphan (inode
 * 13, "hello orphan\n"); in the unpartitioned gap at sector 1024 a decoy ext2 with an orphan of its own.
 */
function gptWithDecoy(dir: string): string {
  const build = (name: string, mkfs: string[], size: string, commands: string): Buffer => {
    const image = path.join(dir, name);
    execFileSync(mkfs[0] ?? 'mkfs.ext4', ['-q', '-F', ...mkfs.slice(1), image, size], { stdio: 'ignore' });
    execFileSync('debugfs', ['-w', '-f', '-', image], { input: commands, stdio: ['pipe', 'ignore', 'ignore'] });
    return fs.readFileSync(image);
  };
  const text = path.join(dir, 'd.txt');
  fs.writeFileSync(text, 'hello orphan\n');
  const planted = path.join(dir, 'p.txt');
  fs.writeFileSync(planted, 'planted evidence\n');
  const real = build('fs.img', ['mkfs.ext4', '-L', 'real'], '8M', `write ${text} keep.txt\nwrite ${text} orph.txt\nunlink orph.txt\nsif <13> links_count 0\nssv last_orphan 13\n`);
  const decoy = build('decoy.img', ['mkfs.ext2', '-b', '1024', '-N', '16', '-L', 'decoy'], '512K', `write ${planted} planted.txt\nunlink planted.txt\nsif <12> links_count 0\nssv last_orphan 12\n`);
  const disk = path.join(dir, 'disk.img');
  fs.writeFileSync(disk, '');
  fs.truncateSync(disk, 12 << 20);
  execFileSync('sfdisk', ['-q', disk], { input: 'label: gpt\nstart=2048, size=16384, type=linux\n' });
  patch(disk, 2048 * 512, real);
  patch(disk, 1024 * 512, decoy);
  return disk;
}

test('partition names are not mmls lines: a GPT name "root\\nUnits are in 256-byte sectors" moves no offset, "root\\n9:  x 1024 2047 1024" invents no partition, "Linux data (0xEE)" is no protective entry (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'gptnames');
  const disk = gptWithDecoy(dir);
  const cases: Array<[string, string, string[]]> = [
    ['units.img', 'root\nUnits are in 256-byte sectors', ['warning: mmls printed the description of the entry in slot 000 (sector 2048) over 2 lines (a partition name holding a newline): read as one description, "root\\x0aUnits are in 256-byte sectors"']],
    ['row.img', 'root\n9:  x 1024 2047 1024', ['warning: mmls printed the description of the entry in slot 000 (sector 2048) over 2 lines (a partition name holding a newline): read as one description, "root\\x0a9:  x 1024 2047 1024"']],
    ['ee.img', 'Linux data (0xEE)', []],
  ];
  for (const [name, label, warnings] of cases) {
    const image = path.join(dir, name);
    fs.copyFileSync(disk, image);
    execFileSync('sfdisk', ['-q', '--part-label', image, '1', label]);
    const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
    assert.equal(scan.code, 0, scan.stderr);
    assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.offset_sectors, entry.inode, entry.state, entry.size, entry.recoverable]), [[2048, 13, 'orphan', 13, true]], name);
    assert.deepEqual(scan.stderr.split('\n').filter((line) => line.startsWith('warning:')), warnings, name);
  }
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    assert.deepEqual(db.prepare('SELECT i.partition_table, f.offset_sectors, f.fs_type, f.label, f.error FROM image_filesystems f JOIN images i ON i.id = f.image_id ORDER BY f.id').raw().all(), [
      ['GUID Partition Table (EFI)', 2048, 'ext4', 'real', null], ['GUID Partition Table (EFI)', 2048, 'ext4', 'real', null], ['GUID Partition Table (EFI)', 2048, 'ext4', 'real', null],
    ]);
  } finally {
    db.close();
  }
  const units = path.join(dir, 'units.img');
  const copies = untouched(units, caseDir, ['image', 'extract', units, '--all', '--json']);
  assert.equal(copies.code, 0, copies.stderr);
  assert.deepEqual(json<ExtractedJson[]>(copies).map((copy) => [copy.offset_sectors, copy.inode, copy.sha256, copy.complete]), [[2048, 13, sha256(Buffer.from('hello orphan\n')), true]]);
});

test('a hybrid MBR whose GPT cannot be read (an 0xEE entry beside a Linux one): the MBR\'s partition is scanned, the 0xEE entry is not, and the scan is partial, saying a GPT partition may be missing (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'hybrid');
  const disk = path.join(dir, 'hybrid.img');
  fs.writeFileSync(disk, '');
  fs.truncateSync(disk, 12 << 20);
  execFileSync('sfdisk', ['-q', disk], { input: 'label: gpt\nstart=2048, size=8192, type=linux\nstart=10240, size=8192, type=linux\n' });
  for (const start of [2048, 10240]) execFileSync('mkfs.ext4', ['-q', '-F', '-E', `offset=${start * 512}`, disk, '4M'], { stdio: 'ignore' });
  // The hybrid MBR: 0xEE over the GPT's own sectors, then the first partition (type 0x83); the GPT's headers then damaged.
  const entry = (type: number, start: number, sectors: number): Buffer => {
    const bytes = Buffer.from([0, 0xfe, 0xff, 0xff, type, 0xfe, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]);
    bytes.writeUInt32LE(start, 8);
    bytes.writeUInt32LE(sectors, 12);
    return bytes;
  };
  patch(disk, 446, Buffer.concat([entry(0xee, 1, 2047), entry(0x83, 2048, 8192), Buffer.alloc(32)]));
  patch(disk, 512, Buffer.from('XXXXXXXX'));
  patch(disk, (12 << 20) - 512, Buffer.from('XXXXXXXX'));
  assert.match(execFileSync('mmls', [disk], { encoding: 'latin1' }), /^DOS Partition Table\n[\s\S]*GPT Safety Partition \(0xee\)\n[\s\S]*Linux \(0x83\)\n/);
  const scan = untouched(disk, caseDir, ['image', 'scan', disk]);
  assert.equal(scan.code, 3, scan.stderr);
  const hybrid = 'a hybrid MBR (an entry of type 0xEE protecting a GPT, beside others) whose GPT mmls could not read (damaged or cut off?): ' +
    'only the MBR\'s other entries were scanned, and a partition of the GPT alone is not known; name it with --offset SECTORS';
  assert.deepEqual(scan.stderr.split('\n').filter((line) => line.startsWith('warning:')), [`warning: ${hybrid}`]);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    assert.deepEqual(db.prepare('SELECT f.offset_sectors, f.fs_type, f.partial, f.error FROM image_filesystems f ORDER BY f.id').raw().all(), [[2048, 'ext4', 1, `the partition table was read in part (${hybrid})`]]);
  } finally {
    db.close();
  }
  // The partition of the GPT alone, named.
  assert.equal(untouched(disk, caseDir, ['image', 'scan', disk, '--offset', '10240']).code, 0);
});

test('a DOS table written for 4096-byte sectors (mmls reads it in 512-byte units): the scan that finds no file system says where one starts, and --offset scans it (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'dos4k');
  const disk = path.join(dir, 'd4k.img');
  fs.writeFileSync(disk, '');
  fs.truncateSync(disk, 64 << 20);
  // sfdisk through a loop device of 4096-byte sectors: the table's starts are in 4096-byte units.
  const loop = execFileSync('losetup', ['-b', '4096', '-f', '--show', disk], { encoding: 'utf8' }).trim();
  try {
    execFileSync('sfdisk', ['-q', loop], { input: 'label: dos\nstart=256, size=4096, type=83\n', stdio: ['pipe', 'ignore', 'ignore'] });
  } catch {
    // sfdisk's re-read of a loop device's partitions may fail: the table is written.
  } finally {
    execFileSync('losetup', ['-d', loop]);
  }
  execFileSync('mkfs.ext4', ['-q', '-F', '-b', '4096', '-E', `offset=${256 * 4096}`, disk, '4096'], { stdio: 'ignore' });
  assert.match(execFileSync('mmls', [disk], { encoding: 'latin1' }), /Units are in 512-byte sectors[\s\S]*0000000256 /);
  const scan = untouched(disk, caseDir, ['image', 'scan', disk]);
  assert.equal(scan.code, 1);
  assert.equal(scan.stderr, `unlinked: ${disk}: none of the 1 partitions (DOS Partition Table) holds an ext2/3/4 file system (one starts at sector 2048 (8 x 256): ` +
    'a DOS table of a disk of 4096-byte sectors, which mmls reads in 512-byte units? name it with --offset 2048)\n');
  assert.equal(untouched(disk, caseDir, ['image', 'scan', disk, '--offset', '2048']).code, 0);
});

/**
 * An ext2 image with one deleted file, scanned with an `fls` whose version is asked of the real one
 * and whose walk runs `walk` (shell) instead.
 */
function scanWithFls(t: TestContext, name: string, walk: string): { image: string; caseDir: string; before: string; scan: ReturnType<typeof runCli> } {
  const { dir, caseDir } = imageWorkDirs(t, name);
  const image = debugfsBuilt(dir, ['mkfs.ext2'], { gone: Buffer.from('gone\n') }, 'kill_file gone\nunlink gone\n');
  const wrappers = path.join(dir, 'bin');
  fs.mkdirSync(wrappers);
  const real = execFileSync('sh', ['-c', 'command -v fls'], { encoding: 'utf8' }).trim();
  fs.writeFileSync(path.join(wrappers, 'fls'), `#!/bin/sh\n[ "$1" = -V ] && exec ${real} -V\n${walk}\n`, { mode: 0o755 });
  const before = sha256(fs.readFileSync(image));
  const scan = runCli(caseDir, ['image', 'scan', image, '--json'], { ...process.env, PATH: `${wrappers}:${process.env['PATH'] ?? ''}` });
  return { image, caseDir, before, scan };
}

test('fls killed (a timeout on a large disk, the OOM killer): the scan is partial and says what is lost, never "saw all of its file system" (root)', (t) => {
  // The walk itself dies of SIGKILL.
  const { image, before, scan } = scanWithFls(t, 'flsfails', 'kill -9 $$');
  assert.equal(sha256(fs.readFileSync(image)), before);
  assert.equal(scan.code, 3, scan.stderr);
  const lost = 'fls -rd (names of deleted files) failed: fls exited with signal SIGKILL (nothing on stderr): no deleted inode has its last name, and one only a deleted name leads to is not listed';
  assert.deepEqual(scan.stderr.split('\n').filter((line) => line.startsWith('warning:')), [`warning: sector 0: ${lost}`]);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.state, entry.last_name, entry.scan_note]), [
    [12, 'deleted', null, `the scan of the file system at sector 0 is partial (inodes may be missing from its list, or not fully described): ${lost}`],
  ]);
});

test('a tool that fails saying nothing is said so once: "exited with code 1 (nothing on stderr)", never the exit code twice (root)', (t) => {
  const { caseDir, scan } = scanWithFls(t, 'flssilent', 'exit 1');
  assert.equal(scan.code, 3, scan.stderr);
  assert.deepEqual(scan.stderr.split('\n').filter((line) => line.startsWith('warning:')), [
    'warning: sector 0: fls -rd (names of deleted files) failed: fls exited with code 1 (nothing on stderr): no deleted inode has its last name, and one only a deleted name leads to is not listed',
  ]);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    assert.deepEqual(db.prepare("SELECT exit_code, error FROM commands WHERE program = 'fls'").all(), [{ exit_code: 1, error: 'exited with code 1, nothing on stderr' }]);
  } finally {
    db.close();
  }
});

test('the label is the superblock\'s alone, and fsstat\'s orphan list is not read from lines s_last_mounted makes: no label "EVIL", no warning of orphans 7, 12 (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'lastmounted');
  const image = path.join(dir, 'm.img');
  execFileSync('mkfs.ext4', ['-q', '-F', '-O', '^metadata_csum', image, '8M'], { stdio: 'ignore' });
  // s_last_mounted (64 bytes at 0x88 of the superblock): fsstat prints it raw, each newline a line of its own.
  const lastMounted = Buffer.alloc(64);
  lastMounted.write('/mnt\nOrphan Inodes: 7, 12,\nVolume Name: EVIL', 'latin1');
  patch(image, 1024 + 0x88, lastMounted);
  assert.match(execFileSync('fsstat', [image], { encoding: 'latin1' }), /^Volume Name: \nVolume ID: [0-9a-f]+\n[^]*^Last mounted on: \/mnt\nOrphan Inodes: 7, 12,\nVolume Name: EVIL$/m);
  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan), []);
  assert.doesNotMatch(scan.stderr, /warning|EVIL/);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    assert.deepEqual(db.prepare('SELECT label, last_mount_point, error FROM image_filesystems').raw().all(), [[null, '/mnt\\x0aOrphan Inodes: 7, 12,\\x0aVolume Name: EVIL', null]]);
  } finally {
    db.close();
  }
});

test('a real deleted file named $OrphanFiles keeps that name: only TSK\'s own directory of that name is no name (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'orphanfilesname');
  const content = crypto.randomBytes(5000);
  const image = debugfsBuilt(dir, ['mkfs.ext2'], { $OrphanFiles: content }, 'kill_file $OrphanFiles\nunlink $OrphanFiles\n');
  assert.match(execFileSync('fls', ['-r', '-d', '-p', image], { encoding: 'latin1' }), /^r\/r \* 12:\t\$OrphanFiles$/m);
  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.state, entry.recoverable, entry.last_name, entry.last_name_exact]), [[12, 'deleted', true, '$OrphanFiles', true]]);
  const [copy] = json<ExtractedJson[]>(untouched(image, caseDir, ['image', 'extract', image, '--all', '--json']));
  assert.deepEqual([copy?.inode, copy?.sha256, copy?.complete], [12, sha256(content), true]);
});

test('a deleted inline-data file whose inline area the kernel emptied (size 0) is not recoverable and no file is written, said why; deleted inline files whose size and bytes were kept are extracted exactly (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'inline-deleted');
  const image = path.join(dir, 'inline.img');
  fs.writeFileSync(image, '');
  fs.truncateSync(image, 16 << 20);
  execFileSync('mkfs.ext4', ['-q', '-F', '-b', '4096', '-I', '256', '-O', 'inline_data', image], { stdio: 'ignore' });
  const kept = Buffer.from('A'.repeat(40));
  const withAttribute = Buffer.from('B'.repeat(100));
  const mountPoint = path.join(dir, 'mnt');
  withMounted(image, mountPoint, () => {
    // 12: 40 bytes in i_block; 13: 100 bytes, 40 of them in system.data; 14: 40 bytes and an attribute of its
    // own in a block (i_blocks above 0: freeing it truncates, which empties the inline area); 15: 30 bytes.
    fs.writeFileSync(path.join(mountPoint, 'kept'), kept);
    fs.writeFileSync(path.join(mountPoint, 'with-attribute'), withAttribute);
    fs.writeFileSync(path.join(mountPoint, 'emptied'), Buffer.from('C'.repeat(40)));
    execFileSync('python3', ['-c', 'import os, sys; os.setxattr(sys.argv[1], "user.big", b"x" * 1000)', path.join(mountPoint, 'emptied')]);
    fs.writeFileSync(path.join(mountPoint, 'size-zeroed'), Buffer.from('D'.repeat(30)));
    execFileSync('sync', ['-f', mountPoint]);
    for (const name of ['kept', 'with-attribute', 'emptied', 'size-zeroed']) fs.unlinkSync(path.join(mountPoint, name));
  });
  // Our own image: 15's size set to 0 under the bytes it still holds.
  execFileSync('debugfs', ['-w', '-R', 'sif <15> size 0', image], { stdio: 'ignore' });
  const stat = (inode: number): string => execFileSync('debugfs', ['-c', '-R', `stat <${inode}>`, image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  // debugfs prints a room of 60 for the emptied inode as for any inline one: that line decides nothing.
  assert.match(stat(14), /Flags: 0x10000000\n[\s\S]*Size: 0\n[\s\S]*system\.data \(0\)\n[\s\S]*Size of inline data: 60\n/);
  assert.match(stat(13), /Size: 100\n[\s\S]*system\.data \(40\)\n[\s\S]*Size of inline data: 100\n/);

  const emptied = 'the inode kept its data in itself (inline_data) and its size is 0, its inline area (i_block, system.data) all zeros: the kernel emptied it when the file was freed';
  const zeroedSize = 'the inode kept its data in itself (inline_data) and its size is 0, although its inline area still holds bytes: no size to cut a file out of them (debugfs -c -R "inode_dump <15>" shows them)';
  const scan = untouched(image, caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.state, entry.size, entry.recoverable, entry.note]), [
    [12, 'deleted', 40, true, null], [13, 'deleted', 100, true, null], [14, 'deleted', 0, false, emptied], [15, 'deleted', 0, false, zeroedSize],
  ]);
  assert.match(scan.stderr, /: 0 orphan \(0 recoverable\), 4 deleted \(2 recoverable\)\n/);
  const all = untouched(image, caseDir, ['image', 'extract', image, '--all', '--json']);
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(json<ExtractedJson[]>(all).map((copy) => [copy.inode, copy.bytes, copy.sha256, copy.complete, copy.note]), [
    [12, 40, sha256(kept), true, null], [13, 100, sha256(withAttribute), true, null],
  ]);
  assert.ok(fs.readFileSync(json<ExtractedJson[]>(all)[1]?.output ?? '').equals(withAttribute));
  const named = untouched(image, caseDir, ['image', 'extract', image, '--inode', '14', '--inode', '15', '--json']);
  assert.equal(named.code, 3, named.stderr);
  assert.deepEqual(json<ExtractedJson[]>(named).map((copy) => [copy.inode, copy.output, copy.bytes, copy.sha256, copy.complete, copy.method, copy.note]), [
    [14, null, 0, null, false, null, `unrecoverable: ${emptied}: nothing extracted`], [15, null, 0, null, false, null, `unrecoverable: ${zeroedSize}: nothing extracted`],
  ]);
  // Named in a case with no scan of the image: described by debugfs alone, the same verdict.
  const { caseDir: fresh } = imageWorkDirs(t, 'inline-deleted-named');
  const alone = untouched(image, fresh, ['image', 'extract', image, '--inode', '14', '--inode', '12', '--json']);
  assert.equal(alone.code, 3, alone.stderr);
  assert.deepEqual(json<ExtractedJson[]>(alone).map((copy) => [copy.inode, copy.bytes, copy.sha256, copy.complete, copy.note]), [
    [14, 0, null, false, 'unrecoverable: the inode kept its data in itself (inline_data) and its size is 0 (the kernel empties the inline area of a file it frees): nothing extracted'],
    [12, 40, sha256(kept), true, null],
  ]);
  for (const folder of [caseDir, fresh]) assert.deepEqual(fs.readdirSync(path.join(folder, 'extracted')).filter((name) => name !== 'SHA256SUMS').sort(), folder === caseDir ? ['inline.img-0-12', 'inline.img-0-13'] : ['inline.img-0-12']);
});

test('the root directory is looked at once whether fls is through before its look ahead is asked for or not: the commands a scan records do not depend on which came first', async (t) => {
  const dir = makeTempDir('root-once');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const image = debugfsBuilt(dir, ['mkfs.ext4', '-O', '^orphan_file'], { a: Buffer.from('a\n') }, 'mkdir d\n');
  const rootSize = Number(/Size: (\d+)/.exec(execFileSync('debugfs', ['-c', '-R', 'stat <2>', image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))?.[1]);
  const looks = async (order: 'ahead first' | 'fls first'): Promise<string[]> => {
    const records: CommandRecord[] = [];
    const access = directoryAccess(image, 0, 256, (record) => records.push(record), dir, (message) => assert.fail(message), 2);
    if (order === 'ahead first') access.prefetch();
    const facts = await access.describe([2]);
    if (order === 'fls first') access.prefetch();
    const contents = await access.read([{ inode: 2, size: rootSize }]);
    await access.settled();
    assert.deepEqual([facts.get(2)?.directory, contents.get(2)?.length], [true, rootSize], order);
    return records.map((record) => record.argv[3] ?? '').sort();
  };
  assert.deepEqual(await looks('ahead first'), ['dump.txt', 'stat-1.txt']);
  assert.deepEqual(await looks('fls first'), ['dump.txt', 'stat-1.txt']);
});

test('the requests debugfs read from its scratch file (-f) are recorded with the command: commands.requests, the JSON report, and the HTML report\'s count with the first and the last', async (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'requests');
  const files = Object.fromEntries(['a', 'b', 'c', 'd', 'e'].map((name) => [name, Buffer.from(`${name}\n`)]));
  const image = debugfsBuilt(dir, ['mkfs.ext4', '-O', '^orphan_file'], files, 'rm a\nrm b\nrm c\nrm d\nrm e\n');
  const before = sha256File(image);
  const scan = runCli(caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  const rows = db.prepare(`SELECT argv, requests FROM commands WHERE program = 'debugfs' ORDER BY id`).all() as Array<{ argv: string; requests: string | null }>;
  db.close();
  // The batch of the five deleted inodes, each after a line with the batch's marker (how its output is cut).
  const batch = rows.find((row) => (row.requests?.match(/^stat /gm) ?? []).length === 5);
  const marker = /^# ([0-9a-f]{32}) /.exec(batch?.requests ?? '')?.[1] ?? assert.fail(`no batch of five: ${JSON.stringify(rows)}`);
  assert.equal(batch?.requests, [12, 13, 14, 15, 16].map((inode) => `# ${marker} ${inode}\nstat <${inode}>\n`).join(''));
  assert.deepEqual(JSON.parse(batch?.argv ?? '[]'), ['-c', '-n', '-f', 'stat-5.txt', image]);
  // Every debugfs run (recorded as each ends, side by side): the root directory looked at, and read (whether or not its
  // names need it: looked at ahead, while fls walks), and the batch.
  assert.deepEqual(rows.map((row) => [(JSON.parse(row.argv) as string[])[3], row.requests?.replace(/^# [0-9a-f]{32} /gm, '# M ')]).sort(),
    [['dump.txt', 'dump <2> 2\n'], ['stat-1.txt', '# M 2\nstat <2>\n'], ['stat-5.txt', [12, 13, 14, 15, 16].map((inode) => `# M ${inode}\nstat <${inode}>\n`).join('')]]);
  const report = json<{ commands: Array<{ program: string; requests: string | null }> }>(runCli(caseDir, ['report', '--format', 'json', '--out', '-']));
  assert.deepEqual(report.commands.filter((command) => command.program === 'debugfs').map((command) => command.requests), rows.map((row) => row.requests));
  assert.ok(report.commands.filter((command) => command.program !== 'debugfs').every((command) => command.requests === null));
  const html = runCli(caseDir, ['report', '--format', 'html', '--out', '-']).stdout;
  assert.ok(html.includes('<div class="note">5 requests read from its file: stat &#60;12&#62; \u2026 stat &#60;16&#62; (all in the JSON report, commands.requests)</div>'));
  assert.equal(sha256File(image), before);
});

/**
 * Inode 12 (40960 bytes of 'A', deleted by kill_file: its extents kept) given an extent tree of depth
 * 3 whose index blocks are shared: the root's 4 entries point at one index block, whose 340 entries
 * all point at the one block of the next level, down to one leaf of 340 one-block extents, all at
 * the file's data block 10. 4 * 340^3 extents (debugfs prints 1.8 GB for them) from four blocks of
 * a 32 MiB image. Inode 13 is deleted and 14 an orphan, both ordinary, described after it.
 */
function sharedExtentTree(dir: string): { image: string; leafBlock: Buffer } {
  const image = debugfsBuilt(dir, ['mkfs.ext4', '-b', '4096', '-O', '^metadata_csum'],
    { f: Buffer.alloc(40960, 'A'), g: Buffer.from('deleted file\n'), k: Buffer.from('orphan file\n') },
    'kill_file f\nunlink f\nkill_file g\nunlink g\nunlink k\nsif <14> links_count 0\n');
  const stat = execFileSync('debugfs', ['-c', '-R', 'stat <12>', image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const first = Number(/\(0-9\):(\d+)-\d+/.exec(stat)?.[1] ?? assert.fail(stat));
  const header = (entries: number, depth: number): Buffer => {
    const bytes = Buffer.alloc(12);
    bytes.writeUInt16LE(0xf30a, 0);
    bytes.writeUInt16LE(entries, 2);
    bytes.writeUInt16LE(entries, 4);
    bytes.writeUInt16LE(depth, 6);
    return bytes;
  };
  // An index entry (ei_block, ei_leaf) and a leaf extent (ee_block, ee_len, ee_start): 12 bytes each.
  const index = (logical: number, block: number): Buffer => {
    const bytes = Buffer.alloc(12);
    bytes.writeUInt32LE(logical, 0);
    bytes.writeUInt32LE(block, 4);
    return bytes;
  };
  const extent = (logical: number, block: number): Buffer => {
    const bytes = Buffer.alloc(12);
    bytes.writeUInt32LE(logical, 0);
    bytes.writeUInt16LE(1, 4);
    bytes.writeUInt32LE(block, 8);
    return bytes;
  };
  const entries = (4096 - 12) / 12;
  const data = first + 9;
  patch(image, inodeOffset(image, 12) + 0x28, Buffer.concat([header(4, 3), ...[0, 1, 2, 3].map((at) => index(at * 1000, first))]));
  for (const level of [0, 1, 2]) {
    const depth = 2 - level;
    const list = Array.from({ length: entries }, (_, at) => (depth > 0 ? index(at, first + level + 1) : extent(at, data)));
    patch(image, (first + level) * 4096, Buffer.concat([header(entries, depth), ...list]));
  }
  return { image, leafBlock: Buffer.alloc(4096, 'A') };
}

test('an extent tree whose index blocks are shared (4 * 340^3 extents from four blocks) is stopped where it repeats: no gigabytes of debugfs text in the case, the inodes after it described (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'dag');
  const { image, leafBlock } = sharedExtentTree(dir);
  const before = sha256File(image);
  // Bounded so a regression fails instead of hanging; how fast it is, is no test's to say.
  const scan = boundedCli(caseDir, ['image', 'scan', image, '--json'], 60_000);
  assert.equal(scan.code, 3, scan.stderr);
  const cut = 'debugfs was stopped once its description of inode 12 passed 65536 bytes: its extent tree lists block ' +
    `${/block (\d+) as one/.exec(scan.stderr)?.[1] ?? '?'} as one of its own blocks twice (ETB2): blocks of the tree shared or looping, crafted or corrupt; ` +
    'its data blocks are counted only as far as the list first repeats (a lower bound)';
  assert.match(scan.stderr, new RegExp(`^warning: sector 0: ${cut.replace(/[()^;]/g, '\\$&')}$`, 'm'));
  const records = json<ImageInodeJson[]>(scan);
  assert.deepEqual(records.map((record) => [record.inode, record.state, record.recoverable, record.size, record.ctime !== null, record.scan_note?.includes(cut) === true]),
    [[12, 'deleted', true, 40960, true, true], [13, 'deleted', true, 13, true, true], [14, 'orphan', true, 12, true, true]]);
  // Nothing of debugfs' text is left in the case: its scratch folders are gone.
  assert.deepEqual(fs.readdirSync(caseDir).filter((name) => name.startsWith('.debugfs-')), []);
  const extract = boundedCli(caseDir, ['image', 'extract', image, '--all', '--json'], 60_000);
  const copies = json<ExtractedJson[]>(extract);
  assert.deepEqual(copies.map((copy) => [copy.inode, copy.bytes, copy.complete, copy.sha256]), [
    // What the tree maps: logical blocks 0-9 all at the leaf's one data block (icat refuses the overlapping runs; debugfs dump reads them).
    [12, 40960, true, sha256(Buffer.concat(Array.from({ length: 10 }, () => leafBlock)))],
    [13, 13, true, sha256(Buffer.from('deleted file\n'))],
    [14, 12, true, sha256(Buffer.from('orphan file\n'))],
  ]);
  assert.equal(copies[0]?.method, 'debugfs');
  assert.equal(sha256File(image), before);
});

test('an orphan file of 16 million slots all naming one inode (four extents of 4000 blocks over the same blocks) is read in a second, each number and each kind of damage said once (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'orphan-slots');
  // 4000 blocks, each a valid orphan block whose 1022 slots all name inode 1 (reserved: no orphan).
  const block = Buffer.alloc(4096);
  for (let slot = 0; slot < 1022; slot++) block.writeUInt32LE(1, slot * 4);
  block.writeUInt32LE(0x0b10ca04, 4088);
  const image = debugfsBuilt(dir, ['mkfs.ext4', '-b', '4096', '-O', 'orphan_file,^metadata_csum'], { filler: Buffer.concat(Array.from({ length: 4000 }, () => block)) }, '');
  const stat = execFileSync('debugfs', ['-c', '-R', 'stat filler', image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const first = Number(/\(0-3999\):(\d+)-\d+/.exec(stat)?.[1] ?? assert.fail(stat));
  // The orphan file (inode 12): 4 extents of 4000 blocks, all over filler's, and 16000 blocks long.
  const root = Buffer.alloc(60);
  root.writeUInt16LE(0xf30a, 0);
  root.writeUInt16LE(4, 2);
  root.writeUInt16LE(4, 4);
  for (let at = 0; at < 4; at++) {
    root.writeUInt32LE(at * 4000, 12 + at * 12);
    root.writeUInt16LE(4000, 16 + at * 12);
    root.writeUInt32LE(first, 20 + at * 12);
  }
  execFileSync('debugfs', ['-w', '-R', `sif <12> size ${16000 * 4096}`, image], { stdio: 'ignore' });
  patch(image, inodeOffset(image, 12) + 0x28, root);
  const before = sha256File(image);
  const scan = boundedCli(caseDir, ['image', 'scan', image, '--json'], 60_000);
  assert.equal(scan.code, 0, scan.stderr);
  assert.deepEqual(scan.stderr.split('\n').filter((line) => line.startsWith('warning:')), [
    'warning: sector 0: orphan file: 16351999 slots repeat an inode number an earlier slot holds (the kernel puts an inode in one slot): each inode taken once',
    'warning: sector 0: orphan file: inode 1 is not an ordinary inode of this file system (11 to 8192): left out',
  ]);
  assert.deepEqual(json<ImageInodeJson[]>(scan), []);
  assert.equal(sha256File(image), before);
});

test('an orphan file that cannot be read (its extent past the image\'s end) makes the scan partial: its orphans were not seen (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'orphan-file-unread');
  const image = debugfsBuilt(dir, ['mkfs.ext4', '-b', '4096', '-O', 'orphan_file,^metadata_csum'], { k: Buffer.from('orphan\n') }, 'unlink k\nsif <13> links_count 0\n');
  // The orphan file (inode 12) is one extent (0-N): its start (ee_start_lo, i_block + 20) a million blocks on.
  const start = Buffer.alloc(4);
  start.writeUInt32LE(1_000_000);
  patch(image, inodeOffset(image, 12) + 0x28 + 20, start);
  const before = sha256File(image);
  const scan = runCli(caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 3, scan.stderr);
  const why = 'reading the orphan file (inode 12) failed: icat exited with code 1: Invalid block address (Invalid address in run (too large): 1000000)';
  assert.ok(scan.stderr.split('\n').includes(`warning: sector 0: ${why}`), scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((record) => [record.inode, record.state, record.found_by, record.scan_note]),
    [[13, 'orphan', 'ils', `the scan of the file system at sector 0 is partial (inodes may be missing from its list, or not fully described): ${why}`]]);
  assert.equal(sha256File(image), before);
});

test('a primary superblock whose s_block_group_nr says 1 (two bytes the kernel and e2fsck ignore) is scanned and extracted with a warning, not refused as a backup (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'group-nr');
  const image = debugfsBuilt(dir, ['mkfs.ext4', '-O', '^metadata_csum'], { k: Buffer.from('orphan\n') }, 'unlink k\nsif <12> links_count 0\n');
  patch(image, 1024 + 0x5a, Buffer.from([1, 0]));
  const before = sha256File(image);
  const warning = 'warning: sector 0: the superblock says it is the backup of block group 1 (s_block_group_nr), but its file system would then start at ' +
    'byte -8388608 of the image, which is no sector start before this one inside it: read as the primary superblock (the kernel and e2fsck ignore that field; ' +
    'a damaged or crafted value), or this image starts inside a file system, at one of its backup superblocks, and what is listed is garbage (The Sleuth Kit reads a backup as a file system)';
  const scan = runCli(caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 3, scan.stderr);
  assert.ok(scan.stderr.split('\n').includes(warning), scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((record) => [record.inode, record.state, record.recoverable]), [[12, 'orphan', true]]);
  // Without a scan: debugfs describes it at the same offset, said the same way.
  const fresh = path.join(caseDir, 'fresh');
  const extract = runCli(fresh, ['image', 'extract', image, '--inode', '12', '--json']);
  assert.equal(extract.code, 3, extract.stderr);
  assert.ok(extract.stderr.split('\n').includes(warning), extract.stderr);
  assert.deepEqual(json<ExtractedJson[]>(extract).map((copy) => [copy.inode, copy.bytes, copy.complete, copy.sha256]), [[12, 7, true, sha256(Buffer.from('orphan\n'))]]);
  assert.equal(sha256File(image), before);
});

/**
 * A disk of `sizeMiB` with a GPT of `count` one-sector entries holding nothing, but those `homes`
 * names (entry -> start sector): a 32 MiB ext4 each, with orphan 12 (`orphan of entry N`).
 */
function gptDisk(dir: string, sizeMiB: number, count: number, homes: ReadonlyMap<number, number>): Buffer {
  const sectors = (sizeMiB << 20) / 512;
  const disk = Buffer.alloc(sizeMiB << 20);
  disk.writeUInt8(0xee, 446 + 4);
  disk.writeUInt32LE(1, 446 + 8);
  disk.writeUInt32LE(sectors - 1, 446 + 12);
  disk.writeUInt16LE(0xaa55, 510);
  const linux = Buffer.from('af3dc60f838472478e793d69d8477de4', 'hex');
  const entries = Buffer.alloc(count * 128);
  const firstUsable = 2 + Math.ceil((count * 128) / 512);
  for (let entry = 0; entry < count; entry++) {
    const at = entry * 128;
    linux.copy(entries, at);
    crypto.randomBytes(16).copy(entries, at + 16);
    const start = homes.get(entry) ?? firstUsable + entry;
    entries.writeBigUInt64LE(BigInt(start), at + 32);
    entries.writeBigUInt64LE(BigInt(homes.has(entry) ? start + 65535 : start), at + 40);
    entries.write(`p${entry}`, at + 56, 'utf16le');
  }
  const header = Buffer.alloc(92);
  header.write('EFI PART', 0, 'latin1');
  header.writeUInt32LE(0x10000, 8);
  header.writeUInt32LE(92, 12);
  header.writeBigUInt64LE(1n, 24);
  header.writeBigUInt64LE(BigInt(sectors - 1), 32);
  header.writeBigUInt64LE(BigInt(firstUsable), 40);
  header.writeBigUInt64LE(BigInt(sectors - 34), 48);
  crypto.randomBytes(16).copy(header, 56);
  header.writeBigUInt64LE(2n, 72);
  header.writeUInt32LE(count, 80);
  header.writeUInt32LE(128, 84);
  header.writeUInt32LE(zlib.crc32(entries), 88);
  header.writeUInt32LE(zlib.crc32(header), 16);
  header.copy(disk, 512);
  entries.copy(disk, 1024);
  for (const [entry, start] of homes) {
    const part = debugfsBuilt(dir, ['mkfs.ext4'], { k: Buffer.from(`orphan of entry ${entry}\n`) }, 'unlink k\nsif <12> links_count 0\n');
    fs.readFileSync(part).copy(disk, start * 512);
  }
  return disk;
}

/** An 80 MiB disk with a GPT of 260 one-sector entries holding nothing, but entry 200 an ext4 at sector 16384 and entry 255 one at 81920. */
function gptOf260(dir: string): string {
  const disk = gptDisk(dir, 80, 260, new Map([[200, 16384], [255, 81920]]));
  const image = path.join(dir, 'gpt260.img');
  fs.writeFileSync(image, disk);
  return image;
}

test('GPT entries 128-254 (mmls prints their slot as 4294967xxx) and 255 (printed "-------" like free space) are partitions: their file systems are scanned, not swallowed into a name or taken for unallocated space (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'gpt260');
  const image = gptOf260(dir);
  const printed = execFileSync('mmls', [image], { encoding: 'latin1' });
  // TSK 4.11.1 keeps the slot in an int8_t and prints it with %u.
  assert.match(printed, /^265: {2}4294967240 {7}0000016384 {3}0000081919 {3}0000065536 {3}p200$/m);
  assert.match(printed, /^266: {2}-{7} {3}0000081920 {3}0000147455 {3}0000065536 {3}p255$/m);
  const table = parseMmls(printed);
  assert.deepEqual(table.warnings, []);
  assert.deepEqual(table.records.filter((part) => part.start === 16384 || part.start === 81920).map((part) => [part.slot, part.description, part.allocated]),
    [['4294967240', 'p200', true], ['-------', 'p255', true]]);
  assert.equal(table.records.filter((part) => part.allocated).length, 260);
  const before = sha256File(image);
  const scan = runCli(caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((record) => [record.offset_sectors, record.inode, record.state]), [[16384, 12, 'orphan'], [81920, 12, 'orphan']]);
  const copies = json<ExtractedJson[]>(runCli(caseDir, ['image', 'extract', image, '--all', '--json']));
  assert.deepEqual(copies.map((copy) => [copy.offset_sectors, copy.sha256, copy.complete]),
    [[16384, sha256(Buffer.from('orphan of entry 200\n')), true], [81920, sha256(Buffer.from('orphan of entry 255\n')), true]]);
  assert.equal(sha256File(image), before);
});

test('a GPT of 9000 one-sector entries is gone through under 500 MB: each partition that holds no file system costs a few bytes, not 130 KB of empty inode tables (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'gpt9000');
  const image = path.join(dir, 'gpt9000.img');
  fs.writeFileSync(image, gptDisk(dir, 16, 9000, new Map()));
  const before = sha256File(image);
  const timed = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, cliPath, '--case', caseDir, 'image', 'scan', image, '--json'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(timed.status, 1, timed.stderr);
  const lines = timed.stderr.trimEnd().split('\n');
  assert.equal(lines.at(-3), `unlinked: ${image}: none of the 9000 partitions (GUID Partition Table (EFI)) holds an ext2/3/4 file system`);
  const kib = Number(lines.at(-1));
  assert.ok(kib > 0 && kib < 500_000, `max RSS ${kib} KiB`);
  assert.equal(sha256File(image), before);
});

test('a DOS chain of 200 logical partitions: mmls prints the table numbers past 127 as -128, -127, ...; every one is read as a partition (root)', (t) => {
  const { dir } = imageWorkDirs(t, 'dos200');
  const disk = Buffer.alloc(8 << 20);
  const entry = (at: number, type: number, start: number, sectors: number, into: Buffer): void => {
    into.writeUInt8(type, at + 4);
    into.writeUInt32LE(start, at + 8);
    into.writeUInt32LE(sectors, at + 12);
  };
  entry(446, 0x05, 2048, disk.length / 512 - 2048, disk);
  disk.writeUInt16LE(0xaa55, 510);
  // EBR i at sector 2048 + 4i: a logical partition of 2 sectors 2 on, and the link to EBR i + 1.
  for (let table = 0; table < 200; table++) {
    const ebr = Buffer.alloc(512);
    entry(446, 0x83, 2, 2, ebr);
    if (table < 199) entry(462, 0x05, 4 * (table + 1), 4, ebr);
    ebr.writeUInt16LE(0xaa55, 510);
    ebr.copy(disk, (2048 + 4 * table) * 512);
  }
  const image = path.join(dir, 'dos200.img');
  fs.writeFileSync(image, disk);
  const printed = execFileSync('mmls', [image], { encoding: 'latin1' });
  assert.match(printed, /^\d{3}: {2}-128:000 {3}0000002558 {3}0000002559 {3}0000000002 {3}Linux \(0x83\)$/m);
  const table = parseMmls(printed);
  assert.deepEqual(table.warnings, []);
  const logical = table.records.filter((part) => part.allocated && part.description === 'Linux (0x83)');
  assert.deepEqual(logical.map((part) => part.start), Array.from({ length: 200 }, (_, index) => 2048 + 4 * index + 2));
});
