// Issue 6 on block devices: the mounted device of a live host read as a second, independent copy of
// a deleted-but-open file (and its staleness said plainly), the case refused on the device examined,
// and a missing Sleuth Kit.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { makeTempDir, startHolder } from './helpers/holder.js';
import { firstLine } from './helpers/lines.js';
import { killed } from './helpers/fuse.js';
import { json, runCli } from './helpers/cli.js';
import { cliPath } from './helpers/paths.js';
import { debugfsBuilt, makeDeletedImage, sha256File } from './helpers/images.js';
import { loopFs, loopFsFor, type LoopDevice } from './helpers/loopfs.js';
import type { ExtractedJson } from '../src/image/extract.js';
import type { ImageInodeJson } from '../src/store/images.js';
import type { LiveItemJson } from '../src/store/items.js';
import type { RecoveredJson } from '../src/recover/recover.js';
import { MIGRATIONS } from '../src/store/schema.js';

const sha256 = (data: Buffer) => crypto.createHash('sha256').update(data).digest('hex');
const run = (program: string, args: readonly string[]) => execFileSync(program, [...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** The mounted file system's device copied into IMAGE while frozen (synced first): an image of it as it is. */
function frozenCopy(mountPoint: string, backing: string, image: string): void {
  run('sync', ['-f', mountPoint]);
  run('fsfreeze', ['-f', mountPoint]);
  try {
    fs.copyFileSync(backing, image);
  } finally {
    run('fsfreeze', ['-u', mountPoint]);
  }
}

/**
 * What the reports say is held: the HTML summary's "held open by a live process" count, and the keys
 * (image-ID) of the image findings whose CSV held_by names a holder. The count must be those findings.
 */
function heldInReports(caseDir: string): { card: number | null; heldBy: string[] } {
  const html = runCli(caseDir, ['report', '--format', 'html', '--out', '-']);
  assert.equal(html.code, 0, html.stderr);
  const card = /<div class="card [a-z]*"><b>(\d+)<\/b><span>held open by a live process<\/span><\/div>/.exec(html.stdout)?.[1];
  const report = JSON.parse(runCli(caseDir, ['report', '--format', 'json', '--out', '-']).stdout) as { image_inodes: Array<{ id: number; live: unknown[] }> };
  const heldBy = report.image_inodes.filter((entry) => entry.live.length > 0).map((entry) => `image-${entry.id}`);
  // The CSV's held_by of those findings, and of no other.
  const csv = runCli(caseDir, ['report', '--format', 'csv', '--out', '-']).stdout;
  for (const key of heldBy) assert.match(csv, new RegExp(`pid \\d+ \\(python3\\) fd \\d+ in snapshot \\d+[^\\n]*,${key},`));
  assert.equal((csv.match(/pid \d+ \(python3\) fd \d+ in snapshot \d+/g) ?? []).length, heldBy.length, csv);
  return { card: card === undefined ? null : Number(card), heldBy };
}

/** A 16 MiB ext4 on a loop device, mounted, with one holder of a deleted CONTENT, and a case on /dev/shm: all removed after the test. */
async function heldOnLoopFs(t: TestContext, name: string, fileName: string, content: Buffer) {
  const dir = makeTempDir(name);
  const caseDir = makeTempDir(`${name}-case`, '/dev/shm');
  const device = loopFs({ dir, sizeMiB: 16 });
  const holder = await startHolder(device.mountPoint, [{ kind: 'fd', name: fileName, content }]);
  t.after(async () => {
    await holder.stop();
    device.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  return { dir, caseDir, device, holder };
}

test('the mounted device of a live host: same inode extracted again by /dev/block/MAJ:MIN, equal to the /proc copy, then stale after unsynced writes (root)', async (t) => {
  const dir = makeTempDir('livedev');
  const caseDir = makeTempDir('livedev-case', '/dev/shm');
  const device = loopFs({ dir, sizeMiB: 32 });
  const content = crypto.randomBytes(200_000);
  const holder = await startHolder(device.mountPoint, [{ kind: 'fd', name: 'held.bin', content }]);
  t.after(async () => {
    await holder.stop();
    device.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const held = holder.files[0];
  assert.ok(held !== undefined && held.fd !== null);
  run('sync', ['-f', device.mountPoint]);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  const [recovered] = json<RecoveredJson[]>(runCli(caseDir, ['recover', '--json']));
  assert.equal(recovered?.sha256, sha256(content));
  // No udev here: /dev/block/MAJ:MIN is found through sysfs. The system's temp directory is on the
  // device examined (as /tmp is on a live host's root device): no scratch file may go there.
  const rdev = fs.statSync(device.loop).rdev;
  const byNumber = `/dev/block/${Math.floor(rdev / 256) & 0xfff}:${rdev & 0xff}`;
  const tmpOnEvidence = path.join(device.mountPoint, 'tmp');
  fs.mkdirSync(tmpOnEvidence);
  const tmpBefore = fs.statSync(tmpOnEvidence, { bigint: true });
  const first = runCli(caseDir, ['image', 'extract', byNumber, '--inode', String(held.inode), '--json'], { TMPDIR: tmpOnEvidence });
  assert.equal(first.code, 0, first.stderr);
  const tmpAfter = fs.statSync(tmpOnEvidence, { bigint: true });
  assert.deepEqual([tmpAfter.mtimeNs, tmpAfter.ctimeNs, fs.readdirSync(tmpOnEvidence)], [tmpBefore.mtimeNs, tmpBefore.ctimeNs, []]);
  assert.deepEqual(fs.readdirSync(caseDir).filter((name) => name.startsWith('.')), [], 'scratch files left in the case');
  const [copy] = json<ExtractedJson[]>(first);
  assert.deepEqual([copy?.image, copy?.bytes, copy?.sha256, copy?.complete, copy?.method, copy?.live_item_id, copy?.live_sha256_match],
    [device.loop, content.length, sha256(content), true, 'icat', recovered?.item_id, true]);
  assert.match(copy?.note ?? '', /same sha256 as the \/proc copy/);

  // Written through the process's fd, not synced: the page cache has it, the device does not yet.
  const more = crypto.randomBytes(50_000);
  fs.appendFileSync(`/proc/${holder.pid}/fd/${held.fd}`, more);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  const fresh = json<RecoveredJson[]>(runCli(caseDir, ['recover', '--json']));
  const latest = fresh.at(-1);
  assert.equal(latest?.sha256, sha256(Buffer.concat([content, more])));
  const second = runCli(caseDir, ['image', 'extract', device.loop, '--inode', String(held.inode), '--json']);
  const [stale] = json<ExtractedJson[]>(second);
  // The device holds the synced content; ext4 may already have grown the on-disk size to the end of the
  // last page, whose new bytes are still only in memory: a stale copy either way, never the /proc one.
  assert.notEqual(stale?.sha256, latest?.sha256);
  assert.ok(stale !== undefined && stale.bytes >= content.length && stale.bytes < content.length + more.length, `${stale?.bytes} bytes on the device`);
  assert.deepEqual(fs.readFileSync(stale?.output ?? '').subarray(0, content.length), content);
  assert.equal(stale?.live_item_id, latest?.item_id);
  assert.equal(stale?.live_sha256_match, false);
  // The device copy is the first copy's content (said so), or that with the end of its last page
  // (neither copy's start: why cannot be told, both causes said).
  const why = stale.bytes === content.length
    ? `this copy has the same sha256 as the earlier /proc copy of item ${recovered?.item_id} \\(snapshot 1\\): the file held then what this copy holds`
    : 'the device was read while mounted: data in the page cache may not have reached the disk \\(this device copy may be behind\\), or the file changed after the /proc copy was made';
  assert.match(stale.note ?? '', new RegExp(`^DIFFERS from the /proc copy of item ${latest?.item_id} \\(250000 bytes, sha256 ${latest?.sha256}\\): ${why}$`));
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  assert.deepEqual(db.prepare('SELECT image, live_item_id, live_sha256_match FROM extractions ORDER BY id').all(), [
    { image: device.loop, live_item_id: recovered?.item_id, live_sha256_match: 1 },
    { image: device.loop, live_item_id: latest?.item_id, live_sha256_match: 0 },
  ]);
  db.close();

  // A scan reads the whole device (its hash), the free blocks the unsynced bytes will go to as well,
  // into the device's own page cache. Synced then: the file system writes its data to the disk around
  // that cache, whose old blocks are dropped before the next copy, which reads the disk.
  assert.equal(runCli(caseDir, ['image', 'scan', device.loop]).code, 3, 'a mounted device: partly done');
  run('sync', ['-f', device.mountPoint]);
  const [synced] = json<ExtractedJson[]>(runCli(caseDir, ['image', 'extract', device.loop, '--inode', String(held.inode), '--json']));
  assert.deepEqual([synced?.bytes, synced?.sha256, synced?.live_item_id, synced?.live_sha256_match], [content.length + more.length, latest?.sha256, latest?.item_id, true]);
  // --all on a mounted device: the scan above (made before the sync, with the smaller size) is out
  // of date; a new one is made, and the copy is whole.
  const all = runCli(caseDir, ['image', 'extract', device.loop, '--all', '--json']);
  assert.match(all.stderr, new RegExp(`${device.loop} is mounted: an earlier scan of it is out of date: scanned it first`));
  const held2 = json<ExtractedJson[]>(all).find((entry) => entry.inode === held.inode);
  assert.deepEqual([held2?.bytes, held2?.sha256, held2?.complete], [content.length + more.length, latest?.sha256, true]);

  // Grown and synced after the newest /proc copy: the device copy is the newer one, and the /proc
  // copy its start: said so, not called stale.
  const grown = crypto.randomBytes(30_000);
  fs.appendFileSync(`/proc/${holder.pid}/fd/${held.fd}`, grown);
  run('sync', ['-f', device.mountPoint]);
  const [newer] = json<ExtractedJson[]>(runCli(caseDir, ['image', 'extract', device.loop, '--inode', String(held.inode), '--json']));
  assert.deepEqual([newer?.bytes, newer?.sha256, newer?.live_item_id, newer?.live_sha256_match], [280_000, sha256(Buffer.concat([content, more, grown])), latest?.item_id, false]);
  assert.equal(newer?.note, `DIFFERS from the /proc copy of item ${latest?.item_id} (250000 bytes, sha256 ${latest?.sha256}): the /proc copy is the first 250000 bytes of this one (280000 bytes): the file was longer on the device than in the /proc copy (it grew after the /proc copy was made, or was cut after what the device holds was written)`);
});

test('a case directory on the device being examined is refused before anything is written (root)', (t) => {
  const dir = makeTempDir('samefs');
  const device = loopFsFor(t, { dir, sizeMiB: 16 });
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const caseDir = path.join(device.mountPoint, 'case');
  for (const args of [['image', 'scan', device.loop], ['image', 'extract', device.loop, '--inode', '2']]) {
    const result = runCli(caseDir, args);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^unlinked: the case directory .* is on \/dev\/loop\d+ itself: writing there could overwrite the evidence; use --case DIR on another disk\n$/);
  }
  assert.equal(fs.existsSync(caseDir), false);
});

test('The Sleuth Kit missing: one line naming the package, exit 1, nothing stored, image untouched (root)', (t) => {
  const dir = makeTempDir('notsk');
  const caseDir = makeTempDir('notsk-case', '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const image = path.join(dir, 'fs.img');
  fs.writeFileSync(image, '');
  fs.truncateSync(image, 8 << 20);
  run('mkfs.ext4', ['-q', '-F', image]);
  const before = sha256File(image);
  // In a private mount namespace, /dev/null hides every fls on PATH and in the directories looked in
  // after it (a character device is not a program): a second Sleuth Kit (a newer one put first on PATH) too.
  const hide = 'for dir in $(echo "$PATH" | tr : " ") /usr/local/sbin /usr/sbin /sbin /usr/local/bin /usr/bin /bin; do [ -f "$dir/fls" ] && { mount --bind /dev/null "$dir/fls" || exit 1; }; done; exec "$@"';
  for (const args of [['image', 'scan', image], ['image', 'extract', image, '--all']]) {
    const result = (() => {
      try {
        return { code: 0, stderr: execFileSync('unshare', ['-m', 'sh', '-c', hide, 'sh', process.execPath, cliPath, '--case', caseDir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
      } catch (error) {
        const failed = error as { status: number; stderr: string };
        return { code: failed.status, stderr: failed.stderr };
      }
    })();
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stderr, 'unlinked: fls is not installed: apt-get install sleuthkit\n');
  }
  assert.equal(sha256File(image), before);
  if (fs.existsSync(path.join(caseDir, 'case.sqlite'))) {
    const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
    assert.equal((db.prepare('SELECT count(*) AS n FROM images').get() as { n: number }).n, 0);
    db.close();
  }
});

test('a file system without UUID (tune2fs -U clear) has none (null), never the nil one: its live item is matched on that very device only, never with an unrelated image without UUID, and a case that stored the nil UUID reads it as none (root)', async (t) => {
  const dir = makeTempDir('nil-uuid');
  const caseDir = makeTempDir('nil-uuid-case', '/dev/shm');
  const device = loopFs({ dir, sizeMiB: 16, mkfsArgs: ['-U', 'clear'] });
  const content = crypto.randomBytes(20_000);
  const holder = await startHolder(device.mountPoint, [{ kind: 'fd', name: 'f', content }]);
  t.after(async () => {
    await holder.stop();
    device.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  assert.match(run('dumpe2fs', ['-h', device.loop]), /^Filesystem UUID: +<none>$/m);
  assert.equal(holder.files[0]?.inode, 12);
  run('sync', ['-f', device.mountPoint]);
  const rdev = fs.statSync(device.loop).rdev;
  const dev = `${Math.floor(rdev / 256) & 0xfff}:${rdev & 0xff}`;
  const snapshot = runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]);
  assert.equal(snapshot.code, 0, snapshot.stderr);
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.deepEqual(items.map((item) => [item.dev, item.inode, item.fs_uuid]), [[dev, 12, null]]);
  const itemId = items[0]?.id;
  const [recovered] = json<RecoveredJson[]>(runCli(caseDir, ['recover', '--json']));
  assert.deepEqual([recovered?.item_id, recovered?.sha256], [itemId, sha256(content)]);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  assert.deepEqual(db.prepare('SELECT fs_uuid FROM mounts WHERE dev = ?').all(dev), [{ fs_uuid: null }]);
  db.close();

  // Another file system without UUID, never mounted here, with an orphan at the same inode number: not the held file.
  const otherContent = crypto.randomBytes(20_000);
  const other = debugfsBuilt(fs.mkdtempSync(path.join(dir, 'other-')), ['mkfs.ext4', '-U', 'clear'], { x: otherContent }, 'unlink x\nsif <12> links_count 0\nssv last_orphan 12\n');
  const scan = runCli(caseDir, ['image', 'scan', other, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  assert.deepEqual(json<ImageInodeJson[]>(scan).map((entry) => [entry.inode, entry.state, entry.fs_uuid, entry.live, entry.live_ambiguous]), [[12, 'orphan', null, [], false]]);
  assert.match(scan.stderr, /^warning: sector 0: the file system has no UUID \(the nil UUID, all zeros: tune2fs -U clear, or made without one\): it cannot be matched with live items except as the same device \(a live item of this boot on the very block device scanned\); this is no block device: no live item is matched with its inodes$/m);
  assert.match(scan.stderr, /^sector 0: ext4 \(no UUID\): 1 orphan \(1 recoverable\), 0 deleted \(0 recoverable\)$/m);
  assert.doesNotMatch(scan.stderr, /held open/);
  const [fromOther] = json<ExtractedJson[]>(runCli(caseDir, ['image', 'extract', other, '--inode', '12', '--json']));
  assert.deepEqual([fromOther?.sha256, fromOther?.complete, fromOther?.live_item_id, fromOther?.live_sha256_match, fromOther?.note], [sha256(otherContent), true, null, null, null]);

  // The very device: its item of this boot is matched by MAJ:MIN.
  const onDevice = runCli(caseDir, ['image', 'scan', device.loop, '--json']);
  assert.equal(onDevice.code, 3, 'a mounted device: partly done');
  assert.deepEqual(json<ImageInodeJson[]>(onDevice).map((entry) => [entry.inode, entry.fs_uuid, entry.live.map((match) => match.item_id), entry.live_ambiguous]), [[12, null, [itemId], false]]);
  assert.match(onDevice.stderr, new RegExp(`^warning: sector 0: the file system has no UUID \\(the nil UUID, all zeros: tune2fs -U clear, or made without one\\): it cannot be matched with live items except as the same device: only live items of this boot on ${dev} itself are matched with its inodes$`, 'm'));
  assert.match(onDevice.stderr, new RegExp(`^inode 12 at sector 0 was held open by pid ${holder.pid} \\(python3\\) fd \\d+ in snapshot 1$`, 'm'));
  // The reports count it as held, as its finding says: matched by the device, there being no UUID to join on.
  const held = heldInReports(caseDir);
  assert.deepEqual([held.card, held.heldBy.length], [1, 1]);
  const [fromDevice] = json<ExtractedJson[]>(runCli(caseDir, ['image', 'extract', device.loop, '--inode', '12', '--json']));
  assert.deepEqual([fromDevice?.sha256, fromDevice?.live_item_id, fromDevice?.live_sha256_match], [sha256(content), itemId, true]);

  // A case an older unlinked made stored the nil UUID on both sides: read as none (migration 10), so the two are not matched.
  const old = new Database(path.join(caseDir, 'case.sqlite'));
  // Schema 9: what migrations 11 to 17 added is taken away again (their view with it: schema 7's made again; 17's indexes first).
  const view7 = MIGRATIONS.find((migration) => migration.version === 7)?.sql ?? '';
  old.exec(`UPDATE items SET fs_uuid = '00000000-0000-0000-0000-000000000000'; UPDATE mounts SET fs_uuid = '00000000-0000-0000-0000-000000000000' WHERE dev = '${dev}';
    UPDATE image_filesystems SET fs_uuid = '00000000-0000-0000-0000-000000000000'; DROP INDEX lsof_files_item; DROP INDEX parse_warnings_snapshot; DROP INDEX image_filesystems_image; DROP INDEX extractions_image; DROP INDEX extractions_live_item; DROP INDEX extractions_image_inode;
    ALTER TABLE image_inodes DROP COLUMN note;
    ALTER TABLE image_inodes DROP COLUMN last_name_type; ALTER TABLE extractions DROP COLUMN image_id; ALTER TABLE extractions DROP COLUMN image_size;
    ALTER TABLE extractions DROP COLUMN image_mtime_ns; ALTER TABLE extractions DROP COLUMN image_ctime_ns;
    DROP VIEW deleted_items; ALTER TABLE items DROP COLUMN lease; ALTER TABLE items DROP COLUMN lease_pid;
    ALTER TABLE items DROP COLUMN upper_dev; ALTER TABLE items DROP COLUMN upper_fs_uuid; ALTER TABLE commands DROP COLUMN requests; ${view7.slice(view7.indexOf('CREATE VIEW'))}`);
  // As an older unlinked compared the unrelated image's copy with the item, through the nil UUID.
  old.prepare("UPDATE extractions SET live_item_id = ?, live_sha256_match = 0, note = 'DIFFERS from the /proc copy of item ' || ? WHERE image = ?").run(itemId, String(itemId), other);
  old.pragma('user_version = 9');
  old.close();
  assert.deepEqual(json<LiveItemJson[]>(runCli(caseDir, ['list', '--json'])).map((item) => item.fs_uuid), [null]);
  const report = JSON.parse(runCli(caseDir, ['report', '--format', 'json', '--out', '-']).stdout) as { image_inodes: Array<ImageInodeJson & { image: string }> };
  assert.deepEqual(report.image_inodes.map((entry) => [entry.image, entry.inode, entry.fs_uuid, entry.live.map((match) => match.item_id)]).sort(), [
    [device.loop, 12, null, [itemId]], [other, 12, null, []],
  ].sort());
  // Every comparison made with an item of the nil UUID is withdrawn, and said: which were made through it alone cannot be told.
  const withdrawn = `withdrawn: the comparison with live item ${itemId} was made by an older unlinked through the nil UUID (all zeros), which is no UUID and matched file systems that may be unrelated; extract again to compare it as the same device, if it is`;
  const extracted = (JSON.parse(runCli(caseDir, ['report', '--format', 'json', '--out', '-']).stdout) as { extracted: ExtractedJson[] }).extracted;
  assert.deepEqual(extracted.map((copy) => [copy.image, copy.live_item_id, copy.live_sha256_match, copy.note]).sort(), [
    [device.loop, null, null, `same sha256 as the /proc copy of item ${itemId}; ${withdrawn}`], [other, null, null, `DIFFERS from the /proc copy of item ${itemId}; ${withdrawn}`],
  ].sort());
});

test('a device number the case saw holds another file system now: its inodes are not taken for the live items of the old one (root)', async (t) => {
  const dir = makeTempDir('devnum');
  const caseDir = makeTempDir('devnum-case', '/dev/shm');
  const device = loopFs({ dir, sizeMiB: 16 });
  const holder = await startHolder(device.mountPoint, [{ kind: 'fd', name: 'held.bin', content: Buffer.from('on the first file system') }]);
  let reattached: LoopDevice | null = null;
  t.after(async () => {
    await holder.stop();
    device.cleanup();
    reattached?.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const held = holder.files[0];
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  const [item] = json<Array<{ dev: string; inode: number; fs_uuid: string | null }>>(runCli(caseDir, ['list', '--json']));
  assert.ok(item?.fs_uuid !== null && item?.inode === held?.inode);
  await holder.stop();
  device.cleanup();
  // Another disk on the same loop device (same MAJOR:MINOR), with a deleted file at the same inode number.
  const other = makeDeletedImage(fs.mkdtempSync(path.join(dir, 'other-')), 'ext2', Buffer.from('another disk'));
  assert.equal(other.inode, held?.inode);
  reattached = loopFs({ dir, image: other.image, readOnly: true, device: device.loop, mountPoint: false });
  const extract = runCli(caseDir, ['image', 'extract', device.loop, '--inode', String(other.inode), '--json']);
  assert.equal(extract.code, 0, extract.stderr);
  const [copy] = json<ExtractedJson[]>(extract);
  assert.deepEqual([copy?.sha256, copy?.live_item_id, copy?.live_sha256_match], [sha256(Buffer.from('another disk')), null, null]);
});

test('two file systems with one UUID (a cloned disk): a device copy is compared with the item of that device; an image file of either is not compared, and says why (root)', async (t) => {
  const dir = makeTempDir('clone-uuid');
  const caseDir = makeTempDir('clone-uuid-case', '/dev/shm');
  const uuid = crypto.randomUUID();
  const devices = ['a', 'b'].map((name) => loopFs({ backing: path.join(dir, `${name}.img`), sizeMiB: 16, mkfsArgs: ['-U', uuid], mountPoint: path.join(dir, name) }));
  const contents = [crypto.randomBytes(30_000), crypto.randomBytes(30_000)];
  // Both files born in one second, as a clone's file and its original are: files born at other
  // seconds would be told apart by their birth time, not taken for a clone's (written again until so).
  const held = devices.map((device) => path.join(device.mountPoint, 'held.bin'));
  for (let attempt = 0; ; attempt++) {
    held.forEach((file, index) => {
      fs.rmSync(file, { force: true });
      fs.writeFileSync(file, contents[index] ?? Buffer.alloc(0));
    });
    const born = held.map((file) => Math.floor(fs.statSync(file).birthtimeMs / 1000));
    if (born[0] === born[1] && born[0] !== 0) break;
    assert.ok(attempt < 5, `the two files were born at ${born.join(' and ')} five times`);
  }
  const holders = await Promise.all(devices.map((device, index) => startHolder(device.mountPoint, [{ kind: 'existing', name: 'held.bin', content: contents[index] ?? Buffer.alloc(0) }])));
  t.after(async () => {
    for (const holder of holders) await holder.stop();
    for (const device of devices) device.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  for (const device of devices) run('sync', ['-f', device.mountPoint]);
  assert.deepEqual(holders.map((holder) => holder.files[0]?.inode), [12, 12], 'the same inode number on both');
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', ...holders.flatMap((holder) => ['--pid', String(holder.pid)])]).code, 0);
  const recovered = json<RecoveredJson[]>(runCli(caseDir, ['recover', '--json']));
  assert.deepEqual(recovered.map((copy) => copy.sha256), contents.map(sha256));
  // Device a: its own item, though b's copy is the newer one.
  const [onA] = json<ExtractedJson[]>(runCli(caseDir, ['image', 'extract', devices[0]?.loop ?? '', '--inode', '12', '--json']));
  assert.deepEqual([onA?.sha256, onA?.live_item_id, onA?.live_sha256_match], [sha256(contents[0] ?? Buffer.alloc(0)), recovered[0]?.item_id, true]);
  // The scan of device a: the holder of a's inode 12, b's said as a clone's, not listed.
  const scannedA = json<ImageInodeJson[]>(runCli(caseDir, ['image', 'scan', devices[0]?.loop ?? '', '--json'])).find((entry) => entry.inode === 12);
  assert.deepEqual(scannedA?.live.map((match) => match.item_id), [recovered[0]?.item_id]);
  assert.ok(scannedA?.live_ambiguous_why.some((why) => /^1 live item on this inode number of a file system with the same UUID on another device than \d+:\d+ in this boot \(another disk: a clone\), not listed$/.test(why)), JSON.stringify(scannedA?.live_ambiguous_why));
  // A frozen copy of a as an image file: no device number to tell the two apart.
  const image = path.join(dir, 'a-copy.img');
  run('fsfreeze', ['-f', devices[0]?.mountPoint ?? '']);
  try {
    fs.copyFileSync(devices[0]?.backing ?? '', image);
  } finally {
    run('fsfreeze', ['-u', devices[0]?.mountPoint ?? '']);
  }
  const [fromImage] = json<ExtractedJson[]>(runCli(caseDir, ['image', 'extract', image, '--inode', '12', '--json']));
  assert.deepEqual([fromImage?.sha256, fromImage?.live_item_id, fromImage?.live_sha256_match], [sha256(contents[0] ?? Buffer.alloc(0)), null, null]);
  assert.match(fromImage?.note ?? '', /not compared: in one boot, live items on 2 devices \(\d+:\d+, \d+:\d+\) have this file system UUID and inode number \(a cloned file system\): which one this copy is cannot be told/);
  // The scan of that image says the match is ambiguous, and why.
  const scanned = json<ImageInodeJson[]>(runCli(caseDir, ['image', 'scan', image, '--json'])).find((entry) => entry.inode === 12);
  assert.equal(scanned?.live_ambiguous, true);
  assert.ok(scanned?.live_ambiguous_why.some((why) => /^live items on 2 devices \(\d+:\d+, \d+:\d+\) in one boot share this file system UUID: a cloned file system$/.test(why)), JSON.stringify(scanned?.live_ambiguous_why));
});

test('a file system cloned onto a second device of this boot, its file held on one then on the other: a copy of one device is never compared with the item of the other nor named held by it, and an image file is not compared, the items being in two snapshots (root)', async (t) => {
  const dir = makeTempDir('clone-dev');
  const caseDir = makeTempDir('clone-dev-case', '/dev/shm');
  const holders: Array<Awaited<ReturnType<typeof startHolder>>> = [];
  t.after(async () => {
    for (const holder of holders) await holder.stop();
  });
  const a = loopFsFor(t, { backing: path.join(dir, 'a.img'), sizeMiB: 16, mountPoint: path.join(dir, 'a') });
  const content = crypto.randomBytes(30_000);
  fs.writeFileSync(path.join(a.mountPoint, 'x.bin'), content);
  // b: a copy of a's disk (same UUID, same inode, same crtime), attached and mounted beside it.
  frozenCopy(a.mountPoint, a.backing, path.join(dir, 'b.img'));
  const b = loopFsFor(t, { image: path.join(dir, 'b.img'), mountPoint: path.join(dir, 'b') });
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const onA = await startHolder(a.mountPoint, [{ kind: 'existing', name: 'x.bin', content }]);
  holders.push(onA);
  assert.equal(onA.files[0]?.inode, 12);
  run('sync', ['-f', a.mountPoint]);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(onA.pid)]).code, 0);
  const [itemA] = json<RecoveredJson[]>(runCli(caseDir, ['recover', '--json']));
  assert.equal(itemA?.sha256, sha256(content));
  const aDev = json<Array<{ id: number; dev: string }>>(runCli(caseDir, ['list', '--json'])).find((item) => item.id === itemA?.item_id)?.dev;
  const bDev = `${Math.floor(fs.statSync(b.loop).rdev / 256) & 0xfff}:${fs.statSync(b.loop).rdev & 0xff}`;
  // A second loop device over a's own file reads a's bytes: not another disk, its copy is compared with a's item.
  const overA = loopFsFor(t, { image: a.backing, readOnly: true, mountPoint: false });
  const [sameBytes] = json<ExtractedJson[]>(runCli(caseDir, ['image', 'extract', overA.loop, '--inode', '12', '--json']));
  assert.deepEqual([sameBytes?.live_item_id, sameBytes?.live_sha256_match], [itemA?.item_id, true]);
  // On b, x.bin is still linked: the copy of b's inode 12 is another file than the one held on a.
  const onB = runCli(caseDir, ['image', 'extract', b.loop, '--inode', '12', '--json']);
  const [linked] = json<ExtractedJson[]>(onB);
  assert.deepEqual([linked?.sha256, linked?.live_item_id, linked?.live_sha256_match], [sha256(content), null, null], onB.stderr);
  assert.equal(linked?.note, `inode 12 still has 1 link(s): a live file, not an orphan; not compared with the live item ${itemA?.item_id} (pid ${onA.pid}): that file was on device ${aDev} in this boot, ` +
    `not on ${bDev} (nor on a device sharing its bytes): another disk with a file system of the same UUID (a cloned file system), whose file is another file`);
  // Held on b too (not yet snapshotted): b's orphan 12 is not said held by a's holder.
  const onBHolder = await startHolder(b.mountPoint, [{ kind: 'existing', name: 'x.bin', content }]);
  holders.push(onBHolder);
  run('sync', ['-f', b.mountPoint]);
  const scanB = runCli(caseDir, ['image', 'scan', b.loop, '--json']);
  const orphanB = json<ImageInodeJson[]>(scanB).find((entry) => entry.inode === 12);
  assert.deepEqual([orphanB?.state, orphanB?.live, orphanB?.live_ambiguous], ['orphan', [], false]);
  assert.doesNotMatch(scanB.stderr, /held open by/);
  // Nor do the reports count it held: a's item is a clone's file, not b's (its finding names no holder).
  assert.deepEqual(heldInReports(caseDir), { card: 0, heldBy: [] });
  // b's holder in a second snapshot: b's copy is compared with b's item alone.
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(onBHolder.pid)]).code, 0);
  const [itemB] = json<RecoveredJson[]>(runCli(caseDir, ['recover', '--snapshot', '2', '--json']));
  const [fromB] = json<ExtractedJson[]>(runCli(caseDir, ['image', 'extract', b.loop, '--inode', '12', '--json']));
  assert.deepEqual([fromB?.live_item_id, fromB?.live_sha256_match, fromB?.note], [itemB?.item_id, true, `same sha256 as the /proc copy of item ${itemB?.item_id}`]);
  // An image file of a: items on two devices of one boot (in two snapshots) with its UUID and inode: which one cannot be told.
  const image = path.join(dir, 'a-copy.img');
  frozenCopy(a.mountPoint, a.backing, image);
  const [fromImage] = json<ExtractedJson[]>(runCli(caseDir, ['image', 'extract', image, '--inode', '12', '--json']));
  assert.deepEqual([fromImage?.sha256, fromImage?.live_item_id, fromImage?.live_sha256_match], [sha256(content), null, null]);
  // Newest snapshot first, as the copy is compared with the newest; the scan lists them oldest first.
  assert.equal(fromImage?.note, `not compared: in one boot, live items on 2 devices (${bDev}, ${aDev}) have this file system UUID and inode number (a cloned file system): which one this copy is cannot be told`);
  const scanned = json<ImageInodeJson[]>(runCli(caseDir, ['image', 'scan', image, '--json'])).find((entry) => entry.inode === 12);
  assert.equal(scanned?.live_ambiguous, true);
  assert.ok(scanned?.live_ambiguous_why.includes(`live items on 2 devices (${aDev}, ${bDev}) in one boot share this file system UUID: a cloned file system`), JSON.stringify(scanned?.live_ambiguous_why));
});

test('an inode number reused by a later file: the image copy is not compared with the live item of the earlier one (born at another second), and says why: with --inode and no scan before it (debugfs\'s crtime) on the device and an image file, and with --all after a scan (root)', async (t) => {
  const dir = makeTempDir('reused-inode');
  const caseDir = makeTempDir('reused-inode-case', '/dev/shm');
  const device = loopFs({ dir, sizeMiB: 16 });
  const holders: Array<Awaited<ReturnType<typeof startHolder>>> = [];
  t.after(async () => {
    for (const holder of holders) await holder.stop();
    device.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const earlier = await startHolder(device.mountPoint, [{ kind: 'fd', name: 'earlier.log', content: crypto.randomBytes(20_000) }]);
  holders.push(earlier);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(earlier.pid)]).code, 0);
  assert.equal(runCli(caseDir, ['recover']).code, 0);
  await earlier.stop();
  // The next second: a later file gets the freed number.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const later = await startHolder(device.mountPoint, [{ kind: 'fd', name: 'later.log', content: crypto.randomBytes(20_000) }]);
  holders.push(later);
  assert.equal(later.files[0]?.inode, earlier.files[0]?.inode, 'the inode number was reused');
  const image = path.join(dir, 'frozen.img');
  frozenCopy(device.mountPoint, device.backing, image);
  // No scan yet: the inode described by debugfs, whose crtime tells the later file from the earlier one.
  const reused = /^not compared with the live item \d+ \(pid \d+\): that file was born at \d+, this inode at \d+ \(seconds since 1970\): the inode number was reused by another file$/;
  for (const examined of [device.loop, image]) {
    const named = runCli(caseDir, ['image', 'extract', examined, '--inode', String(later.files[0]?.inode), '--json']);
    const [unscanned] = json<ExtractedJson[]>(named);
    assert.deepEqual([unscanned?.sha256, unscanned?.live_item_id, unscanned?.live_sha256_match], [later.files[0]?.sha256, null, null], named.stderr);
    assert.match(unscanned?.note ?? '', reused);
  }
  const [scanned] = json<ImageInodeJson[]>(runCli(caseDir, ['image', 'scan', image, '--json']));
  assert.equal(scanned?.live_ambiguous, true);
  assert.ok(scanned?.live_ambiguous_why.some((why) => /^created at second \d+ in the image, the live file at \d+: another file on a reused inode number$/.test(why)), JSON.stringify(scanned?.live_ambiguous_why));
  const [copy] = json<ExtractedJson[]>(runCli(caseDir, ['image', 'extract', image, '--all', '--json']));
  assert.deepEqual([copy?.sha256, copy?.live_item_id, copy?.live_sha256_match], [later.files[0]?.sha256, null, null]);
  assert.match(copy?.note ?? '', reused);
  // The later file snapshotted too: the image's inode is held by it alone; the earlier file, born at
  // another second, is left out of the match and said so.
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(later.pid)]).code, 0);
  const [again] = json<ImageInodeJson[]>(runCli(caseDir, ['image', 'scan', image, '--json']));
  assert.deepEqual(again?.live.map((match) => match.pid), [later.pid]);
  assert.ok(again?.live_ambiguous_why.includes('1 other live item on this inode number, born at another second: other files on a reused inode number, not listed'), JSON.stringify(again?.live_ambiguous_why));
});

test('an image copy equal to an earlier /proc copy of the file, not to the newest: the difference is kept, and the earlier copy named as equal (root)', async (t) => {
  const content = crypto.randomBytes(40_000);
  const { dir, caseDir, device, holder } = await heldOnLoopFs(t, 'earliercopy', 'rewritten.db', content);
  const held = holder.files[0];
  assert.ok(held !== undefined && held.fd !== null);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  const [first] = json<RecoveredJson[]>(runCli(caseDir, ['recover', '--json']));
  const image = path.join(dir, 'frozen.img');
  frozenCopy(device.mountPoint, device.backing, image);
  // Rewritten in place after the image was taken, then snapshotted and copied again.
  const fd = fs.openSync(`/proc/${holder.pid}/fd/${held.fd}`, 'r+');
  fs.writeSync(fd, Buffer.from('WRITTEN-AFTER-FREEZE'), 0, 20, 1000);
  fs.closeSync(fd);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  const [second] = json<RecoveredJson[]>(runCli(caseDir, ['recover', '--json']));
  assert.notEqual(second?.sha256, first?.sha256);
  const [copy] = json<ExtractedJson[]>(runCli(caseDir, ['image', 'extract', image, '--inode', String(held.inode), '--json']));
  assert.deepEqual([copy?.sha256, copy?.live_item_id, copy?.live_sha256_match], [sha256(content), second?.item_id, false]);
  assert.equal(
    copy?.note,
    `DIFFERS from the /proc copy of item ${second?.item_id} (40000 bytes, sha256 ${second?.sha256}): this copy has the same sha256 as the earlier /proc copy of item ${first?.item_id} (snapshot 1): ` +
      'the file held then what this copy holds',
  );
});

test('an image of the live file system given another UUID (tune2fs -U on the copy): not matched to the live items, but said: same last mount point, same inode numbers (root)', async (t) => {
  const { dir, caseDir, device, holder } = await heldOnLoopFs(t, 'newuuid', 'held.log', crypto.randomBytes(9000));
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  const image = path.join(dir, 'frozen.img');
  frozenCopy(device.mountPoint, device.backing, image);
  run('tune2fs', ['-f', '-U', 'random', image]);
  const scan = runCli(caseDir, ['image', 'scan', image, '--json']);
  const [record] = json<ImageInodeJson[]>(scan);
  assert.deepEqual([record?.inode, record?.live], [holder.files[0]?.inode, []]);
  assert.match(scan.stderr, new RegExp(`warning: sector 0: no live item of this file system's UUID ${record?.fs_uuid} matches its orphans, but 1 live item \\(pid ${holder.pid}\\) on a file system with UUID [0-9a-f-]+, ` +
    `mounted where this one was last mounted \\(${device.mountPoint}\\), hold inode numbers of its orphans: the same file system under another UUID`));
  // Kept with the scan's warnings of the file system: the reports show it, not stderr alone.
  const hint = /warning: sector 0: (no live item of this file system's UUID .*)\n/.exec(scan.stderr)?.[1] ?? assert.fail(scan.stderr);
  assertScanWarningReported(caseDir, hint);
});

/** A warning image scan said of the file system at sector 0 of its (only) image is in the JSON report's images[].filesystems[].error and under the image in the HTML report. */
function assertScanWarningReported(caseDir: string, warning: string): void {
  const report = json<{ images: Array<{ filesystems: Array<{ offset_sectors: number; error: string | null }> }> }>(runCli(caseDir, ['report', '--format', 'json', '--out', '-']));
  const error = report.images[0]?.filesystems[0]?.error ?? '';
  assert.ok(error === warning || error.endsWith(`; ${warning}`), error);
  const html = runCli(caseDir, ['report', '--format', 'html', '--out', '-']).stdout;
  const escaped = (text: string): string => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
  assert.ok(html.includes(`<ul class="warnings"><li>sector 0: ${escaped(error)}</li></ul></li></ul>`), html.slice(html.indexOf('<ul class="images">'), html.indexOf('<ul class="images">') + 3000));
}

/** python3 in the merged directory of an overlay: a file made there and one of the lower layer opened to append (copied up), both written and deleted; it prints its PID. */
const CONTAINER_FILES = String.raw`import os, sys
merged = sys.argv[1]
made = os.open(os.path.join(merged, 'exfil.dump'), os.O_CREAT | os.O_RDWR, 0o600)
os.write(made, b'made in the container\n' * 500)
copied = os.open(os.path.join(merged, 'config.txt'), os.O_WRONLY | os.O_APPEND)
os.write(copied, b'tampered\n')
os.unlink(os.path.join(merged, 'exfil.dump'))
os.unlink(os.path.join(merged, 'config.txt'))
print(os.getpid(), flush=True)
sys.stdin.read()`;

test('an image of the file system under a container\'s overlay: the orphan of a file made in the container is matched with the process that held it through the overlay; one copied up from a lower layer (which shows its lower file\'s inode number) is said, not matched (root)', async (t) => {
  const dir = makeTempDir('overlayimg');
  const caseDir = makeTempDir('overlayimg-case', '/dev/shm');
  // Every layer on one ext4, as a container runtime keeps them (/var/lib/docker/overlay2).
  const device = loopFs({ dir, sizeMiB: 32 });
  const layer = (name: string) => path.join(device.mountPoint, name);
  for (const name of ['lower', 'upper', 'work', 'merged']) fs.mkdirSync(layer(name));
  fs.writeFileSync(path.join(layer('lower'), 'config.txt'), 'v1\n');
  run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${layer('lower')},upperdir=${layer('upper')},workdir=${layer('work')}`, layer('merged')]);
  const holder = spawn('python3', ['-c', CONTAINER_FILES, layer('merged')], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(async () => {
    await killed(holder).stop();
    run('umount', [layer('merged')]);
    device.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const pid = Number(await firstLine(holder));
  const lowerInode = fs.statSync(path.join(layer('lower'), 'config.txt')).ino;
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const uuid = /^Filesystem UUID:\s+(\S+)$/m.exec(run('tune2fs', ['-l', device.loop]))?.[1];
  const rdev = fs.statSync(device.loop).rdev;
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  const items = db.prepare(`SELECT id, fd, inode, fs_type, fs_uuid, upper_dev, upper_fs_uuid FROM items ORDER BY fd`).all() as Array<{ id: number; fd: number; inode: number }>;
  db.close();
  // The overlay has no UUID; its upper directory's file system is recorded. The copied-up file shows its lower file's number.
  const loopDev = `${Math.floor(rdev / 256) & 0xfff}:${rdev & 0xff}`;
  assert.deepEqual(items.map((item) => ({ ...item, inode: item.fd === 4 ? item.inode === lowerInode : 'made' })), [
    { id: 1, fd: 3, inode: 'made', fs_type: 'overlay', fs_uuid: null, upper_dev: loopDev, upper_fs_uuid: uuid },
    { id: 2, fd: 4, inode: true, fs_type: 'overlay', fs_uuid: null, upper_dev: loopDev, upper_fs_uuid: uuid },
  ]);

  const image = path.join(dir, 'frozen.img');
  frozenCopy(device.mountPoint, device.backing, image);
  const scan = runCli(caseDir, ['image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  const orphans = json<ImageInodeJson[]>(scan).filter((record) => record.state === 'orphan').map((record) => [record.inode === items[0]?.inode, record.size, record.live, record.live_ambiguous]);
  assert.deepEqual(orphans, [
    [true, 11000, [{ item_id: 1, pid, comm: 'python3', fd: 3, snapshot_id: 1, kind: 'fd' }], false],
    [false, 12, [], false],
  ]);
  assert.ok(scan.stderr.includes(`inode ${items[0]?.inode} at sector 0 was held open by pid ${pid} (python3) fd 3 in snapshot 1\n`), scan.stderr);
  assert.ok(scan.stderr.includes(`warning: sector 0: 1 live item (item 2; pid ${pid}) held through an overlay whose upper layer is this file system matches none of its orphan or deleted inodes by number: ` +
    'a file the overlay copied up from a lower layer shows the inode number of its lower file, not its own in the upper layer (or the file was made or freed after the image was taken); compare sizes and sha256 by hand\n'), scan.stderr);
  assertScanWarningReported(caseDir, `1 live item (item 2; pid ${pid}) held through an overlay whose upper layer is this file system matches none of its orphan or deleted inodes by number: ` +
    'a file the overlay copied up from a lower layer shows the inode number of its lower file, not its own in the upper layer (or the file was made or freed after the image was taken); compare sizes and sha256 by hand');
  // The copy from the image and the /proc copy of the file made in the container are compared: the same.
  assert.equal(runCli(caseDir, ['recover']).code, 0);
  const [extracted] = json<ExtractedJson[]>(runCli(caseDir, ['image', 'extract', image, '--inode', String(items[0]?.inode), '--json']));
  assert.deepEqual([extracted?.sha256, extracted?.live_item_id, extracted?.live_sha256_match], [sha256(Buffer.from('made in the container\n'.repeat(500))), 1, true]);
});

test('an image cut short inside a file the case copied from /proc: the extraction is incomplete and the start of the /proc copy, and said so, not that the file grew (root)', async (t) => {
  const content = crypto.randomBytes(1 << 20);
  const { dir, caseDir, device, holder } = await heldOnLoopFs(t, 'cutimage', 'big.bin', content);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  const [recovered] = json<RecoveredJson[]>(runCli(caseDir, ['recover', '--json']));
  const image = path.join(dir, 'cut.img');
  frozenCopy(device.mountPoint, device.backing, image);
  // Cut 300,000 bytes into the file's data (written in one run here).
  const at = fs.readFileSync(image).indexOf(content.subarray(0, 4096));
  assert.ok(at > 0, 'the file\'s data found in the image');
  fs.truncateSync(image, at + 300_000);
  // The case folder moved since the /proc copy was made: that copy is read where it is now.
  const moved = `${caseDir}-moved`;
  fs.renameSync(caseDir, moved);
  t.after(() => fs.rmSync(moved, { recursive: true, force: true }));
  const [copy] = json<ExtractedJson[]>(runCli(moved, ['image', 'extract', image, '--inode', String(holder.files[0]?.inode), '--json']));
  assert.ok(copy !== undefined && copy.bytes < content.length && copy.complete === false, JSON.stringify(copy));
  assert.deepEqual([copy.live_item_id, copy.live_sha256_match], [recovered?.item_id, false]);
  assert.match(copy.note ?? '', new RegExp(`DIFFERS from the /proc copy of item ${recovered?.item_id} \\(1048576 bytes, sha256 [0-9a-f]{64}\\): this copy is incomplete \\(${copy.bytes} of the 1048576 bytes its inode holds in the image\\); it is the start of the /proc copy: the rest could not be read$`));
});

test('a file system unmounted lazily while a process holds a deleted file of it: its device is said in use, scanned again each time, and its orphan matched to the holder by device (no mount, no UUID) (root)', async (t) => {
  const dir = makeTempDir('lazy-umount');
  const caseDir = makeTempDir('lazy-umount-case', '/dev/shm');
  const device = loopFs({ dir, sizeMiB: 16, mountPoint: false });
  const mountPoint = path.join(dir, 'mnt');
  fs.mkdirSync(mountPoint);
  run('mount', [device.loop, mountPoint]);
  const content = crypto.randomBytes(50_000);
  const holder = await startHolder(mountPoint, [{ kind: 'fd', name: 'held.bin', content }]);
  t.after(async () => {
    await holder.stop();
    spawnSync('umount', [mountPoint]);
    device.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  run('sync', ['-f', mountPoint]);
  run('umount', ['-l', mountPoint]);
  assert.ok(!fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(mountPoint), 'no mount of it is left');
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  const [item] = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.deepEqual([item?.fs_uuid, item?.mount_point], [null, null]);
  // Another host's lsof capture naming the same device number and inode: another disk, never matched by device.
  const [major, minor] = (item?.dev ?? '0:0').split(':').map(Number);
  const capture = path.join(dir, 'web01.F0');
  fs.writeFileSync(capture, `p999\0cother\0u0\0\nf3\0tREG\0D0x${(((major ?? 0) << 8) | (minor ?? 0)).toString(16)}\0s5\0i${item?.inode ?? 0}\0k0\0n/elsewhere (deleted)\0\n`);
  assert.equal(runCli(caseDir, ['lsof', 'import', capture, '--host', 'web01']).code, 0);
  const scan = runCli(caseDir, ['image', 'scan', device.loop, '--json']);
  assert.match(scan.stderr, new RegExp(`^warning: ${device.loop} is mounted \\(.*or in use by the kernel: unmounted lazily while its files stay open`, 'm'));
  const orphan = json<ImageInodeJson[]>(scan).find((entry) => entry.inode === holder.files[0]?.inode);
  assert.deepEqual(orphan?.live.map((match) => [match.item_id, match.pid]), [[item?.id, holder.pid]]);
  // In use: an earlier scan is out of date, never reused by extract --all.
  const extracted = runCli(caseDir, ['image', 'extract', device.loop, '--all', '--json']);
  assert.match(extracted.stderr, /is mounted: an earlier scan of it is out of date: scanned it first/);
});

test('scan --verify reads an unmounted device a second time (sha256_after); a mounted one not, and says so (root)', async (t) => {
  const dir = makeTempDir('verify-device');
  const caseDir = makeTempDir('verify-device-case', '/dev/shm');
  const device = loopFsFor(t, { dir, sizeMiB: 16, mountPoint: false });
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const scan = runCli(caseDir, ['image', 'scan', device.loop, '--verify', '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  const row = db.prepare('SELECT sha256, sha256_after FROM images').get() as { sha256: string; sha256_after: string | null };
  db.close();
  assert.equal(row.sha256_after, row.sha256);
  assert.equal(row.sha256, sha256File(device.loop));
  const mountPoint = path.join(dir, 'mnt');
  fs.mkdirSync(mountPoint);
  run('mount', ['-o', 'ro', device.loop, mountPoint]);
  try {
    const mounted = runCli(caseDir, ['image', 'scan', device.loop, '--verify']);
    assert.match(mounted.stderr, new RegExp(`^warning: --verify: ${device.loop} is mounted and changes while it is read: it was not read a second time$`, 'm'));
  } finally {
    run('umount', [mountPoint]);
  }
});

test('an image file that a mounted loop device reads (mounted in another mount namespace) is said live, naming the loop device, stored with the scan, exit 3, as the loop device itself is (root)', async (t) => {
  const dir = makeTempDir('live-backing');
  const caseDir = makeTempDir('live-backing-case', '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const device = loopFsFor(t, { dir, sizeMiB: 16, fsType: 'ext2', mountPoint: false });
  const stored = (): unknown[] => {
    const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
    const row = db.prepare('SELECT partial, error FROM image_filesystems WHERE image_id = (SELECT max(id) FROM images)').get() as { partial: number; error: string | null };
    db.close();
    return [row.partial, row.error];
  };
  // Attached, not mounted: the file is still.
  const still = runCli(caseDir, ['image', 'scan', device.backing, '--verify', '--json']);
  assert.deepEqual([still.code, still.stderr.split('\n').filter((line) => line.startsWith('warning:'))], [0, []], still.stderr);
  assert.deepEqual(stored(), [0, null]);
  const mountPoint = path.join(dir, 'mnt');
  fs.mkdirSync(mountPoint);
  const holder = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount -o ro "$1" "$2" && echo mounted && exec sleep 600', 'sh', device.loop, mountPoint], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    assert.equal(await firstLine(holder), 'mounted');
    assert.ok(!fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(device.loop), 'mounted in another mount namespace only');
    const live = `${device.backing} is the backing file of loop device ${device.loop}, which is mounted (in this or another mount namespace, or a partition of it; or in use by the kernel): ` +
      'a live file system is on this file: it changes while it is read, and what that file system holds (data still in the page cache) may not be in the file yet';
    const scan = runCli(caseDir, ['image', 'scan', device.backing, '--verify', '--json']);
    assert.deepEqual([scan.code, scan.stderr.split('\n').filter((line) => line.startsWith('warning:'))], [3, [`warning: ${live}`]], scan.stderr);
    assert.deepEqual(stored(), [1, live]);
    // The loop device itself: the same, in its own words.
    const onDevice = runCli(caseDir, ['image', 'scan', device.loop, '--json']);
    const deviceLive = `${device.loop} is mounted (itself, a partition of it, a volume built on it, or a loop device reading the same file; or in use by the kernel: unmounted lazily while its files stay open, ` +
      'or claimed by a volume): a live file system changes while it is read, and data still in the page cache is not on the device yet';
    assert.deepEqual([onDevice.code, onDevice.stderr.split('\n').filter((line) => line.startsWith('warning:'))], [3, [`warning: ${deviceLive}`]], onDevice.stderr);
    assert.deepEqual(stored(), [1, deviceLive]);
  } finally {
    await killed(holder).stop();
  }
});

test('no ext file system to read: a mounted btrfs device is named as what it is mounted as by extract and scan, and /dev/block/0:N (the dev list shows for a btrfs item) as an anonymous device with no block device, pointing to recover (root)', (t) => {
  const dir = makeTempDir('btrfs-dev');
  const caseDir = makeTempDir('btrfs-dev-case', '/dev/shm');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  const device = loopFsFor(t, { dir, sizeMiB: 256, fsType: 'btrfs' });
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const extract = runCli(caseDir, ['image', 'extract', device.loop, '--inode', '257']);
  assert.deepEqual([extract.code, extract.stdout], [1, '']);
  // After the warning that it is mounted, the one line of the failure.
  assert.equal(extract.stderr.split('\n').at(-2), `unlinked: ${device.loop}: no ext2/3/4 file system here (no superblock magic 0xEF53 at sector 0 or in any partition): it is mounted as btrfs (at ${device.mountPoint})`);
  const scan = runCli(caseDir, ['image', 'scan', device.loop]);
  assert.deepEqual([scan.code, scan.stderr.split('\n').at(-2)], [1, `unlinked: ${device.loop}: no ext2/3/4 file system here (no superblock magic 0xEF53): it is mounted as btrfs (at ${device.mountPoint})`]);
  // A file on btrfs has an anonymous device number (a subvolume's), as list shows it: no /dev node, no block device.
  const dev = fs.statSync(device.mountPoint).dev;
  const anonymous = `/dev/block/${Math.floor(dev / 256) & 0xfff}:${(dev & 0xff) | ((dev >> 12) & 0xfff00)}`;
  assert.match(anonymous, /^\/dev\/block\/0:\d+$/);
  const byNumber = runCli(caseDir, ['image', 'extract', anonymous, '--inode', '257']);
  assert.deepEqual([byNumber.code, byNumber.stdout], [1, '']);
  assert.equal(byNumber.stderr, `unlinked: ${anonymous}: major 0 is an anonymous device number (btrfs, tmpfs, overlay, proc...), with no block device behind it to read: ` +
    'copy a file of it from the live host with `unlinked recover --item ID` (a btrfs is on the block devices its mount names, not an ext file system image extract can read)\n');
});
