// Issue 6, extraction onto a small case disk: a sparse orphan is written sparse (its holes stay
// holes, its sha256 counts them), one larger than its file system (which TSK 4.11.1's icat cannot
// read) comes through debugfs cat, and a dense orphan that does not fit is refused with its reason
// instead of filling the disk. The image is the test's own ext4, frozen and copied while a real
// process holds the three files unlinked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { startHolder, type Holder } from './helpers/holder.js';
import { json, runCli } from './helpers/cli.js';
import { debugfsBuilt, imageWorkDirs, makeOrphanImage, sha256File } from './helpers/images.js';
import { loopFs } from './helpers/loopfs.js';
import { mountTmpfs } from './helpers/tmpfs.js';
import type { ExtractedJson } from '../src/image/extract.js';

const ISLAND = Buffer.alloc(64 << 10, 0xab);

/** A file of `size` bytes holding ISLAND at each offset and holes elsewhere. */
interface SparseSpec {
  name: string;
  size: number;
  at: number[];
}

function writeSparse(dir: string, spec: SparseSpec): void {
  const fd = fs.openSync(path.join(dir, spec.name), 'wx');
  try {
    fs.ftruncateSync(fd, spec.size);
    for (const offset of spec.at) fs.writeSync(fd, ISLAND, 0, ISLAND.length, offset);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** sha256 of the file's bytes, holes as the zeros they read as, without holding it in memory. */
function sparseSha256(spec: SparseSpec): string {
  const hash = crypto.createHash('sha256');
  const zeros = Buffer.alloc(4 << 20);
  let position = 0;
  const zerosTo = (end: number) => {
    while (position < end) {
      const length = Math.min(zeros.length, end - position);
      hash.update(zeros.subarray(0, length));
      position += length;
    }
  };
  for (const offset of [...spec.at].sort((a, b) => a - b)) {
    zerosTo(offset);
    hash.update(ISLAND);
    position += ISLAND.length;
  }
  zerosTo(spec.size);
  return hash.digest('hex');
}

/** The file system synced and frozen while its backing file is copied to `image`: the copy is what a disk imaged then holds. */
function frozenCopy(built: { mountPoint: string; backing: string }, image: string): void {
  execFileSync('sync', ['-f', built.mountPoint]);
  execFileSync('fsfreeze', ['-f', built.mountPoint]);
  try {
    fs.copyFileSync(built.backing, image);
  } finally {
    execFileSync('fsfreeze', ['-u', built.mountPoint]);
  }
}

/** The test's work directory, and a case directory on a tmpfs of its own of `mib` MiB (a small case disk), both removed after it. */
function onSmallCaseDisk(t: { after: (fn: () => void) => void }, name: string, mib: number): { dir: string; caseDir: string } {
  const { dir } = imageWorkDirs(t, name);
  const caseDisk = mountTmpfs(`${name}-case`, mib);
  t.after(() => caseDisk.cleanup());
  return { dir, caseDir: path.join(caseDisk.dir, 'case') };
}

/**
 * Our own ext4 of `sizeMiB` (4 KiB blocks) holding FILES (sparse ones, or whole bytes), each held
 * open by a real process and unlinked, frozen and copied to DIR/evidence.img: its orphans.
 */
async function orphansImage(dir: string, sizeMiB: number, files: ReadonlyArray<SparseSpec | { name: string; bytes: Buffer }>): Promise<{ image: string; inodes: number[] }> {
  const image = path.join(dir, 'evidence.img');
  const built = loopFs({ dir, sizeMiB, mkfsArgs: ['-b', '4096'] });
  let holder: Holder | null = null;
  try {
    for (const file of files) {
      if ('bytes' in file) fs.writeFileSync(path.join(built.mountPoint, file.name), file.bytes);
      else writeSparse(built.mountPoint, file);
    }
    holder = await startHolder(built.mountPoint, files.map(({ name }) => ({ kind: 'existing' as const, name, content: Buffer.alloc(0) })));
    const inodes = holder.files.map((file) => file.inode);
    frozenCopy(built, image);
    return { image, inodes };
  } finally {
    await holder?.stop();
    built.cleanup();
  }
}

/** Our own ext4 in which the kernel made `count` files and deleted them, frozen and copied to `image`. */
function deletedFilesImage(dir: string, image: string, options: { sizeMiB: number; mkfsArgs?: string[]; count: number; content: (index: number) => string }): void {
  const built = loopFs({ dir, sizeMiB: options.sizeMiB, mkfsArgs: options.mkfsArgs ?? [] });
  try {
    const folder = path.join(built.mountPoint, 'd');
    fs.mkdirSync(folder);
    for (let index = 0; index < options.count; index++) fs.writeFileSync(path.join(folder, `f${index}`), options.content(index));
    execFileSync('sync', ['-f', built.mountPoint]);
    for (let index = 0; index < options.count; index++) fs.unlinkSync(path.join(folder, `f${index}`));
    frozenCopy(built, image);
  } finally {
    built.cleanup();
  }
}

test('image extract onto a small case disk: sparse orphans written sparse with their exact sha256 (icat; debugfs cat where icat fails), a dense one that cannot fit refused with its reason, exit 3 (root)', async (t) => {
  // 24 MiB of case disk: the sparse copies fit in a few hundred KiB, the 40 MiB dense orphan does not.
  const { dir, caseDir } = onSmallCaseDisk(t, 'sparse', 24);

  // 128 MiB of ext4 with 4 KiB blocks: 100 MiB of holes fit in it, 512 MiB are larger than it.
  const small: SparseSpec = { name: 'small.sparse', size: 100 << 20, at: [0, 50 << 20, (100 << 20) - ISLAND.length] };
  const large: SparseSpec = { name: 'large.sparse', size: 512 << 20, at: [0, 300 << 20, (512 << 20) - ISLAND.length] };
  const dense = crypto.randomBytes(40 << 20);
  const { image, inodes } = await orphansImage(dir, 128, [small, large, { name: 'dense.bin', bytes: dense }]);
  const [smallInode, largeInode, denseInode] = inodes;
  const imageBefore = sha256File(image);

  const result = runCli(caseDir, ['image', 'extract', image, '--all', '--json']);
  assert.equal(result.code, 3, `one orphan not extracted: exit 3 (${result.stderr})`);
  const extracted = json<ExtractedJson[]>(result);
  assert.deepEqual(extracted.map((entry) => entry.inode), [smallInode, largeInode, denseInode]);
  const [smallCopy, largeCopy, denseCopy] = extracted;

  assert.equal(smallCopy?.method, 'icat');
  assert.equal(smallCopy?.complete, true);
  assert.equal(smallCopy?.bytes, small.size);
  assert.equal(smallCopy?.sha256, sparseSha256(small));
  assert.match(smallCopy?.note ?? '', /^written sparse: 104660992 bytes of zeros left as holes/);

  // TSK 4.11.1: "Invalid address in run (too large): 32768" past the end of the file system.
  assert.equal(largeCopy?.method, 'debugfs');
  assert.equal(largeCopy?.complete, true);
  assert.equal(largeCopy?.bytes, large.size);
  assert.equal(largeCopy?.sha256, sparseSha256(large));
  assert.match(largeCopy?.note ?? '', /^icat failed after \d+ bytes \(.*Invalid address in run.*\); written sparse: 536674304 bytes of zeros/);

  for (const [copy, spec] of [[smallCopy, small], [largeCopy, large]] as const) {
    const output = copy?.output ?? assert.fail('a sparse copy has an output');
    const stat = fs.statSync(output);
    assert.equal(stat.size, spec.size, `${output}: every byte of its length, the last hole included`);
    assert.ok(stat.blocks * 512 <= 3 * ISLAND.length + (64 << 10), `${output} takes ${stat.blocks * 512} bytes of the case disk: only its data islands`);
    assert.equal(sha256File(output), copy?.sha256, `${output} holds the bytes its sha256 names`);
  }

  assert.equal(denseCopy?.output, null);
  assert.equal(denseCopy?.complete, false);
  assert.equal(denseCopy?.sha256, null);
  assert.match(denseCopy?.note ?? '', /^not extracted: the copy needs 41943040 bytes and the case's file system has \d+ bytes free/);
  assert.deepEqual(fs.readdirSync(path.join(caseDir, 'extracted')).sort(), [
    'SHA256SUMS', `evidence.img-0-${largeInode}.debugfs`, `evidence.img-0-${smallInode}`,
  ].sort(), 'no file of the dense orphan, and icat\'s partial copy of the large one removed');

  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    const rows = db.prepare('SELECT inode, complete, method, note FROM extractions ORDER BY inode').all() as Array<{ inode: number; complete: number; method: string | null; note: string }>;
    assert.deepEqual(rows.map((row) => [row.inode, row.complete, row.method]), [[smallInode, 1, 'icat'], [largeInode, 1, 'debugfs'], [denseInode, 0, null]].sort((a, b) => Number(a[0]) - Number(b[0])));
    const cat = db.prepare("SELECT argv, exit_code FROM commands WHERE program = 'debugfs' AND argv LIKE '%cat <%'").all() as Array<{ argv: string; exit_code: number }>;
    assert.deepEqual(cat.map((row) => [JSON.parse(row.argv)[3], row.exit_code]), [[`cat <${largeInode}>`, 0]]);
  } finally {
    db.close();
  }
  assert.equal(sha256File(image), imageBefore, 'the image is unchanged');
});

test('image extract --all: an orphan with more than 1 GiB of holes is copied after the others (said before it starts), its copy still exact; the JSON keeps the scan\'s order (root)', async (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'holes-last');
  // 1.1 GiB of holes on a 64 MiB ext4 (icat 4.11.1 fails past the end of the file system: debugfs cat).
  const holey: SparseSpec = { name: 'holey.sparse', size: (1 << 30) + (100 << 20), at: [0, 1 << 30] };
  const dense = crypto.randomBytes(1 << 20);
  const { image, inodes } = await orphansImage(dir, 64, [holey, { name: 'dense.bin', bytes: dense }]);
  const [holeyInode = 0, denseInode = 0] = inodes;
  assert.ok(holeyInode < denseInode, 'the holey file has the lower inode: the scan lists it first');
  const imageBefore = sha256File(image);

  const result = runCli(caseDir, ['image', 'extract', image, '--all', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const extracted = json<ExtractedJson[]>(result);
  assert.deepEqual(extracted.map((entry) => [entry.inode, entry.complete, entry.sha256]), [
    [holeyInode, true, sparseSha256(holey)],
    [denseInode, true, crypto.createHash('sha256').update(dense).digest('hex')],
  ]);
  assert.equal(extracted[0]?.method, 'debugfs');
  const lines = result.stderr.split('\n');
  const said = lines.findIndex((line) => line.includes(`inode ${holeyInode} at sector 0: ${holey.size} bytes, ${holey.size - 2 * ISLAND.length} of them holes:`) && line.includes('copied after the others'));
  const denseDone = lines.findIndex((line) => line.includes(`inode ${denseInode} at sector 0: ${dense.length} bytes, sha256`));
  assert.ok(denseDone >= 0 && said > denseDone, `the dense orphan's copy is reported before the holey one is announced:\n${result.stderr}`);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    const rows = db.prepare('SELECT inode FROM extractions ORDER BY id').all() as Array<{ inode: number }>;
    assert.deepEqual(rows.map((row) => row.inode), [denseInode, holeyInode], 'copied in that order');
  } finally {
    db.close();
  }
  assert.equal(sha256File(image), imageBefore, 'the image is unchanged');
});

test('image extract of a dense orphan cut short by a truncated image, onto a case disk with room for one copy: icat\'s prefix is kept and debugfs dump is not tried beside it, with why (root)', async (t) => {
  const { dir, caseDir } = onSmallCaseDisk(t, 'cut-dense', 20);
  const content = crypto.randomBytes(12 << 20);
  const built = await makeOrphanImage({ dir, fsType: 'ext4', sizeMiB: 64, orphans: [{ name: 'big.bin', content }] });
  const [orphan] = built.orphans;
  const inode = orphan?.inode ?? assert.fail('one orphan');
  // Cut the image at the block that holds 80% of the orphan's data (its extents, from debugfs stat):
  // icat copies about 9.6 MiB before it stops, and 12 MiB more do not fit beside it.
  const stat = execFileSync('debugfs', ['-c', '-R', `stat <${inode}>`, built.image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const blockSize = Number(/Block size:\s+(\d+)/.exec(execFileSync('dumpe2fs', ['-h', built.image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))?.[1]);
  const logical = Math.floor((0.8 * content.length) / blockSize);
  const extent = [...stat.matchAll(/\((\d+)-(\d+)\):(\d+)-\d+/g)].map((match) => match.slice(1).map(Number)).find(([from = 0, to = 0]) => from <= logical && logical <= to);
  const [from = 0, , physical = 0] = extent ?? assert.fail(`no extent holds block ${logical}: ${stat}`);
  fs.truncateSync(built.image, (physical + logical - from) * blockSize);
  const imageBefore = sha256File(built.image);

  const result = runCli(caseDir, ['image', 'extract', built.image, '--inode', String(inode), '--json']);
  assert.equal(result.code, 3, result.stderr);
  const [copy] = json<ExtractedJson[]>(result);
  assert.equal(copy?.method, 'icat');
  assert.equal(copy?.complete, false);
  assert.match(copy?.note ?? '', new RegExp(`^icat failed after \\d+ bytes \\(.*\\); debugfs dump not tried: the copy needs ${content.length} bytes beside icat's \\d+ and the case's file system has \\d+ bytes free \\(4 MiB are kept for the case database\\)`));
  const output = copy?.output ?? assert.fail('icat\'s prefix is kept');
  const kept = fs.readFileSync(output);
  assert.ok(kept.length > 0 && kept.length < content.length);
  assert.ok(kept.equals(content.subarray(0, kept.length)), 'the prefix is the orphan\'s first bytes');
  assert.equal(copy?.sha256, crypto.createHash('sha256').update(kept).digest('hex'));
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    assert.deepEqual(db.prepare("SELECT count(*) FROM commands WHERE program = 'debugfs' AND argv LIKE '%dump%'").pluck().get(), 0);
  } finally {
    db.close();
  }
  assert.equal(sha256File(built.image), imageBefore, 'the image is unchanged');
});

test('image extract --inode of an inode whose size is past 2^53 bytes: not extracted, at once, with why (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'hugesize');
  // Our own image: a deleted file's inode given a size no ext4 file can have (debugfs -w, never mounted).
  const image = debugfsBuilt(dir, ['mkfs.ext2'], { huge: crypto.randomBytes(8192) }, 'set_inode_field huge size 18014398509481984\nkill_file huge\nunlink huge\n');
  const result = runCli(caseDir, ['image', 'extract', image, '--inode', '12', '--json']);
  assert.equal(result.code, 3, result.stderr);
  const [copy] = json<ExtractedJson[]>(result);
  assert.deepEqual([copy?.output, copy?.complete, copy?.sha256, copy?.method], [null, false, null, null]);
  assert.equal(copy?.note, "the inode's size is 18014398509481984 bytes, past 2^53, larger than any ext4 file (a corrupt or crafted i_size): nothing extracted, as icat and debugfs copy by the size (its 8 data blocks can be read with blkcat)");
  assert.deepEqual(fs.readdirSync(path.join(caseDir, 'extracted')), []);
  // No copy of 16 PiB of zeros was started: neither icat nor debugfs dump ran (asserted, not timed).
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    assert.deepEqual(db.prepare("SELECT program FROM commands WHERE program = 'icat' OR (program = 'debugfs' AND argv LIKE '%dump%')").pluck().all(), []);
    // Its allocation read from its bitmap bit by ils -e: istat, which walks every block its size
    // spans (13 s and 36 MB of output here), never runs.
    assert.deepEqual(db.prepare("SELECT program, argv FROM commands WHERE program IN ('ils', 'istat')").all(), [{ program: 'ils', argv: JSON.stringify(['-e', image, '12']) }]);
  } finally {
    db.close();
  }
});

test('image scan onto a 24 MiB case disk: 40,000 deleted inodes all described, debugfs run in batches that fit beside the case database, their output removed (root)', async (t) => {
  const { dir, caseDir } = onSmallCaseDisk(t, 'many-small', 24);
  const image = path.join(dir, 'many.img');
  deletedFilesImage(dir, image, { sizeMiB: 160, mkfsArgs: ['-N', '45000'], count: 40_000, content: () => '' });
  // One batch of 40,000 stat outputs is about 24 MB, more than the whole case disk.
  const result = runCli(caseDir, ['image', 'scan', image]);
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stderr, /not described|database or disk is full/);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    assert.deepEqual(db.prepare("SELECT count(*), count(blocks) FROM image_inodes WHERE state = 'deleted'").raw().get(), [40_000, 40_000]);
    const batches = db.prepare("SELECT count(*) FROM commands WHERE program = 'debugfs' AND argv LIKE '%\"-f\"%'").pluck().get() as number;
    assert.ok(batches >= 3, `debugfs ran in ${batches} batches`);
  } finally {
    db.close();
  }
  assert.deepEqual(fs.readdirSync(caseDir).filter((name) => name.startsWith('.debugfs-')), [], 'no scratch left');
});

test('image extract --all when the scan could not describe every deleted inode (no room for debugfs on a 4 MiB case disk): a deleted inode of size 0 and unknown blocks is not copied as an empty file (root)', async (t) => {
  const { dir, caseDir } = onSmallCaseDisk(t, 'undescribed', 4);
  const image = path.join(dir, 'gone.img');
  // 300 files deleted by the kernel (ext4 zeroes their size and extents): istat describes 256 of
  // them when debugfs cannot run, the other 44 stay undescribed.
  deletedFilesImage(dir, image, { sizeMiB: 32, count: 300, content: (index) => `content ${index}\n` });
  const result = runCli(caseDir, ['image', 'extract', image, '--all', '--json']);
  assert.equal(result.code, 3, result.stderr);
  assert.match(result.stderr, /no room on the case's disk for debugfs's output/);
  const extracted = json<ExtractedJson[]>(result);
  assert.equal(extracted.length, 300 - 256, 'the inodes istat described point at no blocks: not tried; the others are');
  for (const entry of extracted) {
    assert.deepEqual([entry.output, entry.complete, entry.sha256, entry.bytes], [null, false, null, 0]);
    assert.equal(entry.note, "the deleted inode's size is 0 (ext4 zeroes it on deletion) and no tool described its blocks: nothing can be extracted as its content");
  }
  assert.deepEqual(fs.readdirSync(path.join(caseDir, 'extracted')), []);
});
