// Issue 6, the pure parts: the debugfs stat batch reader (real debugfs 1.47.0 output) and the
// orphan chain walk with its loop guard; the columns a scan keeps its inodes in, and how its records are read back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelTimes, needsRawTimes, parseDebugfsStats, parseInodeDumps } from '../parsers/debugfsStats.js';
import { followOrphanChain } from '../src/image/orphanChain.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openCase } from '../src/store/db.js';
import { cloneDevices, correlate, eachImageInode, modeString, onAnotherDisk, type LiveCandidate, type NewImageInode } from '../src/store/images.js';
import { FlsNames, IlsTable, RecordTable, ScannedInodes, StatTable, type InodeStat } from '../src/image/inodeTables.js';
import type { IlsInode } from '../parsers/ils.js';

// `debugfs -c -f CMDS k.img` with CMDS = stat <12>, <13>, <14>, <99999>, <2> on a 16 MiB mkfs.ext2
// image where 12 was written and freed with kill_file (which leaves the link count), 13 is a fast
// symlink, 14 a FIFO made by `mknod fifo p`.
const EXT2_BATCH = `debugfs: stat <12>
Inode: 12   Type: regular    Mode:  0644   Flags: 0x0
Generation: 0    Version: 0x00000000:00000000
User:     0   Group:     0   Project:     0   Size: 30000
File ACL: 0
Links: 1   Blockcount: 62
Fragment:  Address: 0    Number: 0    Size: 0
 ctime: 0x6b062269:00000000 -- Tue Nov 24 23:48:57 2026
 atime: 0x6b062269:00000000 -- Tue Nov 24 23:48:57 2026
 mtime: 0x6b062269:00000000 -- Tue Nov 24 23:48:57 2026
crtime: 0x6b062269:00000000 -- Tue Nov 24 23:48:57 2026
 dtime: 0x6b062269:(00000000) -- Tue Nov 24 23:48:57 2026
Size of extra inode fields: 32
BLOCKS:
(0-11):594-605, (IND):606, (12-29):607-624
TOTAL: 31

debugfs: stat <13>
Inode: 13   Type: symlink    Mode:  0777   Flags: 0x0
Generation: 0    Version: 0x00000000:00000000
User:     0   Group:     0   Project:     0   Size: 12
File ACL: 0
Links: 1   Blockcount: 0
Fragment:  Address: 0    Number: 0    Size: 0
 ctime: 0x6b062269:00000000 -- Tue Nov 24 23:48:57 2026
 atime: 0x6b062269:00000000 -- Tue Nov 24 23:48:57 2026
 mtime: 0x6b062269:00000000 -- Tue Nov 24 23:48:57 2026
crtime: 0x6b062269:00000000 -- Tue Nov 24 23:48:57 2026
Size of extra inode fields: 32
Fast link dest: "/some/target"
debugfs: stat <14>
Inode: 14   Type: FIFO    Mode:  0000   Flags: 0x0
Generation: 0    Version: 0x00000000:00000000
User:     0   Group:     0   Project:     0   Size: 0
File ACL: 0
Links: 1   Blockcount: 0
Fragment:  Address: 0    Number: 0    Size: 0
 ctime: 0x6b062269:00000000 -- Tue Nov 24 23:48:57 2026
 atime: 0x6b062269:00000000 -- Tue Nov 24 23:48:57 2026
 mtime: 0x6b062269:00000000 -- Tue Nov 24 23:48:57 2026
crtime: 0x6b062269:00000000 -- Tue Nov 24 23:48:57 2026
Size of extra inode fields: 32
BLOCKS:

debugfs: stat <99999>
debugfs: stat <2>
Inode: 2   Type: directory    Mode:  0755   Flags: 0x0
Generation: 0    Version: 0x00000000:00000000
User:     0   Group:     0   Project:     0   Size: 1024
File ACL: 0
Links: 3   Blockcount: 2
Fragment:  Address: 0    Number: 0    Size: 0
 ctime: 0x6b062269:00000000 -- Tue Nov 24 23:48:57 2026
 atime: 0x6b062269:00000000 -- Tue Nov 24 23:48:57 2026
 mtime: 0x6b062269:00000000 -- Tue Nov 24 23:48:57 2026
crtime: 0x6b062269:00000000 -- Tue Nov 24 23:48:57 2026
Size of extra inode fields: 32
BLOCKS:
(0):580
TOTAL: 1
`;

// 128-byte inodes (mkfs.ext2 -I 128): no nanoseconds, no crtime, no Project; an ext4 orphan of the
// s_last_orphan chain whose dtime is the next link (13); an ext4 deletion with its extents zeroed.
const OLD_INODE = `debugfs: stat <12>
Inode: 12   Type: regular    Mode:  0644   Flags: 0x0
Generation: 0    Version: 0x00000000
User:     0   Group:     0   Size: 5000
File ACL: 0
Links: 1   Blockcount: 10
Fragment:  Address: 0    Number: 0    Size: 0
ctime: 0x6b0624d4 -- Tue Nov 24 23:59:16 2026
atime: 0x6b0624d4 -- Tue Nov 24 23:59:16 2026
mtime: 0x6b0624d4 -- Tue Nov 24 23:59:16 2026
dtime: 0x6b0624d4 -- Tue Nov 24 23:59:16 2026
BLOCKS:
(0-4):306-310
TOTAL: 5

debugfs: stat <14>
Inode: 14   Type: regular    Mode:  0644   Flags: 0x80000
Generation: 1250181710    Version: 0x00000000:00000002
User:     0   Group:     0   Project:     0   Size: 50000
File ACL: 0
Links: 0   Blockcount: 98
Fragment:  Address: 0    Number: 0    Size: 0
 ctime: 0x6b0619e7:028d5c28 -- Tue Nov 24 23:12:39 2026
 atime: 0x6b0619e7:0258aae8 -- Tue Nov 24 23:12:39 2026
 mtime: 0x6b0619e7:020cf7cc -- Tue Nov 24 23:12:39 2026
crtime: 0x6b0619e7:01b7fbe0 -- Tue Nov 24 23:12:39 2026
 dtime: 0x0000000d:(028d5c28) -- Thu Jan  1 00:00:13 1970
Size of extra inode fields: 32
Inode checksum: 0x4b29cad3
EXTENTS:
(0-48):8470-8518
debugfs: stat <15>
Inode: 15   Type: regular    Mode:  0644   Flags: 0x80000
Generation: 1482193026    Version: 0x00000000:00000002
User:     0   Group:     0   Project:     0   Size: 0
File ACL: 0
Links: 0   Blockcount: 0
Fragment:  Address: 0    Number: 0    Size: 0
 ctime: 0x6b062187:919d2ce4 -- Tue Nov 24 23:45:11 2026
 atime: 0x6b062185:a23a7ebc -- Tue Nov 24 23:45:09 2026
 mtime: 0x6b062187:919d2ce4 -- Tue Nov 24 23:45:11 2026
crtime: 0x6b062185:a23a7ebc -- Tue Nov 24 23:45:09 2026
 dtime: 0x6b062187:(919d2ce4) -- Tue Nov 24 23:45:11 2026
Size of extra inode fields: 32
Inode checksum: 0x4d08696c
EXTENTS:
`;

test('debugfs stat batch: every asked inode, full mode, times, dtime, data blocks without IND blocks', () => {
  const parsed = parseDebugfsStats(EXT2_BATCH, [12, 13, 14, 99999, 2]);
  assert.deepEqual(parsed.warnings.map((warning) => [warning.line, warning.message]), [[45, 'debugfs printed nothing usable for inode 99999']]);
  assert.deepEqual(parsed.records.map((record) => [record.inode, record.type, record.mode?.toString(8), record.size, record.links, record.dataBlocks, record.inlineData]), [
    [12, 'regular', '100644', 30000, 1, 30, false],
    [13, 'symlink', '120777', 12, 1, 0, true],
    [14, 'FIFO', '10000', 0, 1, 0, false],
    [2, 'directory', '40755', 1024, 3, 1, false],
  ]);
  const deleted = parsed.records[0];
  assert.deepEqual([deleted?.uid, deleted?.gid, deleted?.blockcount, deleted?.atime, deleted?.mtime, deleted?.ctime, deleted?.crtime, deleted?.dtimeRaw],
    [0, 0, 62, 0x6b062269, 0x6b062269, 0x6b062269, 0x6b062269, 0x6b062269]);
});

test('debugfs stat batch: 128-byte inodes, an orphan chain link in dtime, zeroed ext4 extents', () => {
  const parsed = parseDebugfsStats(OLD_INODE, [12, 14, 15]);
  assert.deepEqual(parsed.warnings, []);
  assert.deepEqual(parsed.records.map((record) => [record.inode, record.size, record.dataBlocks, record.dtimeRaw, record.crtime, record.ctime]), [
    [12, 5000, 5, 0x6b0624d4, null, 0x6b0624d4],
    [14, 50000, 49, 13, 0x6b0619e7, 0x6b0619e7],
    [15, 0, 0, 0x6b062187, 0x6b062185, 0x6b062187],
  ]);
});

test('debugfs stat batch: a symlink target cannot forge another inode, a cut output is a warning', () => {
  const forged = `debugfs: stat <20>
Inode: 20   Type: symlink    Mode:  0777   Flags: 0x0
User:     0   Group:     0   Project:     0   Size: 40
Links: 0   Blockcount: 0
Fast link dest: "x
debugfs: stat <22>
Inode: 22   Type: regular    Mode:  0644   Flags: 0x0
User:     0   Group:     0   Project:     0   Size: 999"
debugfs: stat <21>
Inode: 21   Type: regular    Mode:  0600   Flags: 0x0
User:     1000   Group:     1000   Project:     0   Size: 7
Links: 0   Blockcount: 8
`;
  const parsed = parseDebugfsStats(forged, [20, 21, 22]);
  assert.deepEqual(parsed.records.map((record) => [record.inode, record.size, record.uid]), [[20, 40, 0], [21, 7, 1000]]);
  assert.deepEqual(parsed.warnings.map((warning) => warning.message), ['debugfs output ends before inode 22']);
});

test('debugfs stat batch with markers: a symlink target holding a forged echo and fields of another inode changes nothing, both described', () => {
  // As unlinked runs it: `# MARKER N` before each `stat <N>`, copied by debugfs to its output. 13 is
  // a fast symlink whose target forges the echo of stat <14> and a description of it (Size 999).
  const marked = `# 5e1f 13
debugfs: stat <13>
Inode: 13   Type: symlink    Mode:  0777   Flags: 0x0
User:     0   Group:     0   Project:     0   Size: 40
Links: 0   Blockcount: 0
 ctime: 0x6b135e4d:b0290c08 -- Sat Dec  5 00:43:57 2026
Size of extra inode fields: 32
Fast link dest: "
debugfs: stat <14>
Inode: 14   Type: regular    Mode:  0644   Flags: 0x0
User:     0   Group:     0   Project:     0   Size: 999
 ctime: 0x00000001:00000000 -- x
"
# 5e1f 14
debugfs: stat <14>
Inode: 14   Type: regular    Mode:  0644   Flags: 0x80000
User:     0   Group:     0   Project:     0   Size: 2
Links: 0   Blockcount: 2
 ctime: 0x00000064:00000002 -- Wed Mar 16 12:58:12 2242
 atime: 0x3b9aca00:00000001 -- Wed Oct 16 08:14:56 2137
 mtime: 0x28cd9d01:00000003 -- Sat Jan  1 00:00:01 2400
crtime: 0x28cd9d01:ee6b27ff -- Sat Jan  1 00:00:01 2400
Size of extra inode fields: 32
EXTENTS:
(0):7170
`;
  const parsed = parseDebugfsStats(marked, [13, 14], '5e1f');
  assert.deepEqual(parsed.warnings, []);
  assert.deepEqual(parsed.records.map((record) => [record.inode, record.type, record.size, record.ctime, record.atime, record.mtime, record.crtime, record.extraIsize]), [
    [13, 'symlink', 40, 0x6b135e4d, null, null, null, 32],
    [14, 'regular', 2, 100 + 2 * 2 ** 32, 1_000_000_000 + 2 ** 32, 684_563_713 + 3 * 2 ** 32, 684_563_713 + 3 * 2 ** 32, 32],
  ]);
  // Without markers the same text cannot be told apart: both left out, said.
  const bare = marked.replace(/^# 5e1f \d+\n/gm, '');
  assert.deepEqual(parseDebugfsStats(bare, [13, 14]).records, []);
  // A marker missing (a batch cut short), or no echo after it: said, never another inode's text.
  assert.deepEqual(parseDebugfsStats(marked.replace('# 5e1f 14\n', ''), [13, 14], '5e1f').warnings.map((warning) => warning.message), ['debugfs output ends before inode 14']);
  assert.deepEqual(parseDebugfsStats(marked.replace('# 5e1f 14\ndebugfs: stat <14>\n', '# 5e1f 14\n'), [13, 14], '5e1f').warnings.map((warning) => warning.message),
    ['debugfs printed nothing usable for inode 14']);
});

// `debugfs -c -n -f CMDS r1.img`, CMDS = `# 0f3c 12`, `inode_dump <12>`, `# 0f3c 13`, `inode_dump <13>`:
// mkfs.ext4 -I 256, a file written and set with debugfs (atime_lo 1400000000, atime_extra 5,
// mtime_lo 0x83AA7E80, mtime_extra 1, ctime_lo 1400000002, crtime_lo 1234567890, extra_isize 16).
const INODE_DUMPS = `# 0f3c 12
debugfs: inode_dump <12>
0000  a481 0000 0500 0000 004e 7253 024e 7253  .........NrS.NrS
0020  807e aa83 0000 0000 0000 0000 0200 0000  .~..............
0040  0000 0800 0000 0000 0af3 0100 0400 0000  ................
0060  0000 0000 0000 0000 0100 0000 5206 0000  ............R...
0100  0000 0000 0000 0000 0000 0000 0000 0000  ................
*
0160  0000 0000 0000 0000 0000 0000 9658 0000  .............X..
0200  1000 5980 0000 0000 0100 0000 0500 0000  ..Y.............
0220  d202 9649 0000 0000 0000 0000 0000 0000  ...I............
0240  0000 0000 0000 0000 0000 0000 0000 0000  ................
*

# 0f3c 13
debugfs: inode_dump <13>
0000  0000 0000 0000 0000 0000 0000 0000 0000  ................
*

`;

test('inode_dump: the raw inode read back whole (octal offsets, "*" repeats); times as the kernel reads them from its i_extra_isize', () => {
  const parsed = parseInodeDumps(INODE_DUMPS, [12, 13], '0f3c', 256);
  assert.deepEqual(parsed.warnings, []);
  const [inode12, inode13] = parsed.records;
  assert.deepEqual([inode12?.inode, inode12?.raw.length, inode12?.raw.readUInt16LE(0x80), inode12?.raw.readUInt32LE(0x90), inode12?.raw.subarray(0x40, 0x70).every((byte) => byte === 0), inode12?.raw.readUInt16LE(0x7c)],
    [12, 256, 16, 1234567890, true, 0x5896]);
  assert.deepEqual([inode13?.inode, inode13?.raw.equals(Buffer.alloc(256))], [13, true]);
  const raw = inode12?.raw ?? Buffer.alloc(256);
  // extra_isize 16: the ctime, mtime and atime extra words fit, i_crtime does not (statx gives no btime).
  assert.deepEqual(kernelTimes(raw, 256), {
    atime: 1_400_000_000 + 2 ** 32, mtime: 2_208_988_800, ctime: 1_400_000_002, crtime: null,
    atimeNs: 1, mtimeNs: 0, ctimeNs: 0, crtimeNs: null, extraIsize: 16, refusedByKernel: false,
  });
  // extra_isize 0 is taken for 32 (everything fits); 20 holds i_crtime but not its extra word; 128-byte inodes none.
  const with0 = Buffer.from(raw);
  with0.writeUInt16LE(0, 0x80);
  with0.writeUInt32LE(1, 0x94);
  assert.deepEqual([kernelTimes(with0, 256).crtime, kernelTimes(with0, 256).atime], [1_234_567_890 + 2 ** 32, 1_400_000_000 + 2 ** 32]);
  const with20 = Buffer.from(with0);
  with20.writeUInt16LE(20, 0x80);
  assert.deepEqual([kernelTimes(with20, 256).crtime, kernelTimes(with20, 256).crtimeNs], [1_234_567_890, null]);
  assert.deepEqual([kernelTimes(raw.subarray(0, 128), 128).mtime, kernelTimes(raw.subarray(0, 128), 128).crtime], [2_208_988_800 - 2 ** 32, null]);
  const odd = Buffer.from(raw);
  odd.writeUInt16LE(18, 0x80);
  assert.equal(kernelTimes(odd, 256).refusedByKernel, true);
  // What debugfs 1.47.0 prints without extra words (below 24) is checked against the raw inode.
  assert.deepEqual([needsRawTimes({ extraIsize: 16 }, 256), needsRawTimes({ extraIsize: 0 }, 256), needsRawTimes({ extraIsize: 32 }, 256), needsRawTimes({ extraIsize: null }, 128)], [true, true, false, false]);
  // A dump cut short, or with a line out of place, is no inode.
  assert.deepEqual(parseInodeDumps(INODE_DUMPS.replace('0240  0000 0000 0000 0000 0000 0000 0000 0000  ................\n*\n', ''), [12, 13], '0f3c', 256).warnings.map((warning) => warning.message),
    ['debugfs printed no whole inode_dump of inode 12']);
  assert.deepEqual(parseInodeDumps(INODE_DUMPS.replace('0160', '0140'), [12], '0f3c', 256).records, []);
});

test('debugfs stat batch: an empty description, an echo on the last line, a CR after an echo, a target over lines', () => {
  const edges = 'debugfs: stat <12>\ndebugfs: stat <13>\nInode: 13   Type: regular    Mode:  0644   Flags: 0x0\n' +
    'User:     0   Group:     0   Project:     0   Size: 5\nLinks: 0   Blockcount: 8\nEXTENTS:\n(0):100\n\ndebugfs: stat <14>';
  const parsed = parseDebugfsStats(edges, [12, 13, 14]);
  assert.deepEqual(parsed.warnings, [
    { line: 1, message: 'debugfs printed nothing usable for inode 12', text: '' },
    { line: 9, message: 'debugfs printed nothing usable for inode 14', text: '' },
  ]);
  assert.deepEqual(parsed.records.map((record) => [record.inode, record.size, record.dataBlocks]), [[13, 5, 1]]);
  // "debugfs: stat <15>\r" is not the echo of stat <15>: nothing was described.
  assert.deepEqual(parseDebugfsStats('debugfs: stat <15>\r\nInode: 15   Type: regular    Mode:  0644   Flags: 0x0\n', [15]).warnings,
    [{ line: 3, message: 'debugfs output ends before inode 15' }]);
  const link = 'debugfs: stat <16>\nInode: 16   Type: symlink    Mode:  0777   Flags: 0x0\nUser:     0   Group:     0   Project:     0   Size: 3\nFast link dest: "a\nb"\n\n\n';
  assert.equal(parseDebugfsStats(link, [16]).records[0]?.symlinkTarget, 'a\nb');
});

test('orphan chain: followed through dtime links, a loop stops with a warning, a wild link too', async () => {
  const links = new Map([[14, 13], [13, 12], [12, 0]]);
  assert.deepEqual(await followOrphanChain(14, 100, async (inode) => links.get(inode) ?? null), { inodes: [14, 13, 12], warnings: [] });
  const looped = new Map([[14, 13], [13, 14]]);
  let lookups = 0;
  const chain = await followOrphanChain(14, 100, async (inode) => {
    lookups++;
    return looped.get(inode) ?? null;
  });
  assert.deepEqual(chain, { inodes: [14, 13], warnings: ['orphan chain loops back to inode 14: stopped'] });
  assert.equal(lookups, 2);
  assert.deepEqual(await followOrphanChain(14, 100, async () => 4_000_000), { inodes: [14], warnings: ['orphan chain points at inode 4000000, outside 1..100: stopped'] });
  assert.deepEqual(await followOrphanChain(0, 100, async () => 1), { inodes: [], warnings: [] });
  assert.deepEqual(await followOrphanChain(14, 100, async () => null), { inodes: [14], warnings: ['cannot read inode 14 of the orphan chain: stopped there'] });
});

test('mode strings as ls shows them', () => {
  assert.equal(modeString(0o100644), '-rw-r--r--');
  assert.equal(modeString(0o104755), '-rwsr-xr-x');
  assert.equal(modeString(0o041777), 'drwxrwxrwt');
  assert.equal(modeString(0o102644), '-rw-r-Sr--');
  assert.equal(modeString(0o120777), 'lrwxrwxrwx');
});

test('correlation: one holder is plain, several processes or snapshots, a freed inode and a size change are ambiguous', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unlinked-correlate-'));
  const kase = openCase(dir, { create: true });
  t.after(() => {
    kase.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const db = kase.db;
  const uuid = '11111111-2222-3333-4444-555555555555';
  db.exec(`INSERT INTO snapshots (id, source, tool_version, started_at, finished_at) VALUES
             (1, 'proc', '0.1.0', '2026-11-24T10:00:00Z', '2026-11-24T10:00:01Z'), (2, 'proc', '0.1.0', '2026-11-24T10:05:00Z', '2026-11-24T10:05:01Z'),
             (3, 'proc', '0.1.0', '2026-11-24T10:09:00Z', NULL)`);
  const item = db.prepare(`INSERT INTO items (id, snapshot_id, pid, start_time, comm, kind, fd, path, dev, inode, size, fs_uuid) VALUES (?, ?, ?, ?, ?, 'fd', ?, ?, '254:1', ?, ?, ?)`);
  item.run(1, 1, 100, 5000, 'nginx', 4, Buffer.from('/var/log/a.log'), 12, 500, uuid); // alone: plain
  item.run(2, 1, 200, 6000, 'php', 5, Buffer.from('/tmp/b'), 13, 10, uuid); // two processes
  item.run(3, 1, 201, 6001, 'php', 5, Buffer.from('/tmp/b'), 13, 10, uuid);
  item.run(4, 1, 300, 7000, 'java', 9, Buffer.from('/tmp/c'), 14, 70, uuid); // two snapshots, grew since
  item.run(5, 2, 300, 7000, 'java', 9, Buffer.from('/tmp/c'), 14, 90, uuid);
  item.run(6, 1, 400, 8000, 'cron', 3, Buffer.from('/tmp/d'), 15, 5, uuid); // freed in the image
  item.run(7, 3, 500, 9000, 'unfinished', 3, Buffer.from('/tmp/e'), 16, 5, uuid); // snapshot never finished: not a match
  item.run(8, 1, 600, 9500, 'other-fs', 3, Buffer.from('/tmp/f'), 12, 500, 'ffffffff-2222-3333-4444-555555555555');
  db.exec(`INSERT INTO images (id, path, size, sha256, scanned_at) VALUES (1, '/evidence/disk.dd', 1048576, NULL, '2026-11-24T11:00:00Z')`);
  db.exec(`INSERT INTO image_filesystems (id, image_id, offset_sectors, fs_type, fs_uuid) VALUES (1, 1, 2048, 'ext4', '${uuid}')`);
  db.exec(`INSERT INTO image_inodes (id, filesystem_id, inode, state, found_by, size) VALUES
             (1, 1, 12, 'orphan', 'ils', 500), (2, 1, 13, 'orphan', 'ils', 10), (3, 1, 14, 'orphan', 'ils', 90), (4, 1, 15, 'deleted', 'ils', 0),
             (5, 1, 16, 'orphan', 'ils', 5), (6, 1, 17, 'orphan', 'ils', 1)`);
  const found = correlate(db).map((entry) => [entry.inode, entry.live.map((match) => match.item_id), entry.ambiguous, entry.reasons]);
  assert.deepEqual(found, [
    [12, [1], false, []],
    [13, [2, 3], true, ['held by 2 processes']],
    [14, [4, 5], true, ['seen in 2 snapshots']],
    [15, [6], true, ['freed in the image (deleted, not open): the inode number may have been reused since the snapshot', 'size 0 in the image, 5 at snapshot time: changed since, or another file on a reused inode']],
  ]);
  assert.deepEqual(correlate(db, { imageId: 2 }), []);
  assert.deepEqual(Object.keys(correlate(db)[0] ?? {}), ['image_inode_id', 'image_id', 'image', 'offset_sectors', 'fs_uuid', 'inode', 'state', 'live', 'ambiguous', 'reasons']);
  assert.deepEqual(correlate(db)[0]?.live, [{ item_id: 1, snapshot_id: 1, pid: 100, start_time: 5000, comm: 'nginx', fd: 4, kind: 'fd', size: 500, dev: '254:1', btime_ns: null, boot_id: null }]);
});

test('a cloned file system: items of one boot on two devices with one UUID, in one snapshot or in two; not across boots, nor across lsof imports, whose boot is not known', () => {
  const item = (snapshot: number, dev: string, boot: string | null): LiveCandidate => ({
    item_id: snapshot, snapshot_id: snapshot, pid: 1, start_time: 1, comm: 'x', fd: 3, kind: 'fd', size: 1, dev, btime_ns: null, boot_id: boot,
  });
  assert.deepEqual(cloneDevices([item(1, '7:1', 'boot-a'), item(1, '7:2', 'boot-a')]), new Set(['7:1', '7:2']));
  assert.deepEqual(cloneDevices([item(2, '7:2', 'boot-a'), item(1, '7:1', 'boot-a')]), new Set(['7:2', '7:1']));
  assert.equal(cloneDevices([item(1, '7:1', 'boot-a'), item(2, '7:2', 'boot-b')]), null, 'a reboot renumbers devices');
  assert.equal(cloneDevices([item(1, '7:1', null), item(2, '7:2', null)]), null);
  assert.deepEqual(cloneDevices([item(1, '7:1', null), item(1, '7:2', null)]), new Set(['7:1', '7:2']));
  // Provably on another disk than 7:1: a block device of this boot that shares no bytes with it.
  const sharing = new Set(['7:1', '253:0']);
  assert.deepEqual([item(1, '7:2', 'boot-a'), item(1, '253:0', 'boot-a'), item(1, '7:1', 'boot-a'), item(1, '0:42', 'boot-a'), item(1, '7:2', 'boot-b'), item(1, '7:2', null)]
    .map((match) => onAnotherDisk(match, sharing, 'boot-a')), [true, false, false, false, false, false]);
  assert.equal(onAnotherDisk(item(1, '7:2', 'boot-a'), sharing, null), false, 'this boot unknown');
});

test('inode tables: every value back exactly (null, -0, past 2^32, negative, a bigint past 2^53), rows found whether added in order or not', () => {
  const record = (inode: number, change: Partial<NewImageInode> = {}): NewImageInode => ({
    inode, state: 'deleted', foundBy: ['ils'], size: 10, mode: 0o100644, uid: 0, gid: 0, nlink: 0, atime: 1, mtime: 2, ctime: 3, crtime: null, dtime: 4,
    recoverable: false, blocks: 0, lastName: null, lastNameExact: null, lastNameType: null, note: null, ...change,
  });
  const table = new RecordTable();
  const odd = record(20, {
    size: 2n ** 60n, mode: null, uid: 4_294_967_295, gid: 4_294_967_294, atime: -86_400, mtime: 7_258_118_400, ctime: -0, crtime: 0, dtime: null, blocks: null,
    recoverable: true, lastName: Buffer.from([0x61, 0xff, 0x0a]), lastNameExact: false, lastNameType: 'r', note: 'a note', foundBy: ['orphan_chain', 'fls'],
  });
  table.set(record(10));
  table.set(odd);
  table.set(record(30, { size: 2 ** 53 - 1 }));
  // Out of order (the chain's and fls' inodes come after ils' list), and one set again over its row.
  table.set(record(15, { lastName: Buffer.from('x'), lastNameExact: true, lastNameType: '-' }));
  table.set(record(10, { uid: 7 }));
  assert.equal(table.size, 4);
  assert.deepEqual(table.get(20), odd);
  assert.ok(Object.is(table.get(20)?.ctime, -0));
  assert.equal(table.get(30)?.size, 2 ** 53 - 1);
  assert.equal(table.get(10)?.uid, 7);
  assert.equal(table.get(11), undefined);
  assert.deepEqual([10, 15, 20, 30, 31].map((inode) => table.rowOf(inode)), [0, 3, 1, 2, -1]);
  // A copy: changing it changes nothing until it is set again.
  (table.get(20)?.foundBy as string[]).push('ils');
  assert.deepEqual(table.get(20)?.foundBy, ['orphan_chain', 'fls']);
  table.setName(0, 'dir/\xe9', true, 'r');
  table.setNameInexact(3);
  assert.deepEqual([table.get(10)?.lastName, table.get(10)?.lastNameExact, table.get(15)?.lastNameExact], [Buffer.from([0x64, 0x69, 0x72, 0x2f, 0xe9]), true, false]);
  const orphans = new RecordTable();
  orphans.set(record(12, { state: 'orphan' }));
  orphans.set(record(40, { state: 'orphan' }));
  const scanned = new ScannedInodes(orphans, table);
  assert.deepEqual([...scanned].map((found) => [found.inode, found.state]), [[10, 'deleted'], [12, 'orphan'], [15, 'deleted'], [20, 'deleted'], [30, 'deleted'], [40, 'orphan']]);
  assert.deepEqual([scanned.count('deleted'), scanned.count('orphan'), scanned.inodesIn('orphan'), scanned.has(40), scanned.has(41)],
    [{ all: 4, recoverable: 1 }, { all: 2, recoverable: 0 }, [12, 40], true, false]);
});

test('inode tables: debugfs descriptions dropped back to a size (a batch that failed part-way); ils rows, the last of an inode printed twice, fields let go but where wanted', () => {
  const stat = (inode: number, change: Partial<InodeStat> = {}): InodeStat => ({
    inode, type: 'regular', mode: 0o100644, uid: 0, gid: 0, size: 5, links: 0, atime: 1, mtime: 2, ctime: 3, crtime: 4, dtimeRaw: 5, extraIsize: 32,
    dataBlocks: 1, inlineData: false, inlineSize: null, flags: 0x80000, ...change,
  });
  const stats = new StatTable();
  stats.set(stat(12));
  stats.set(stat(14, { size: null, type: 'bad type' }));
  stats.set(stat(13));
  assert.deepEqual(stats.get(14), stat(14, { size: null, type: 'bad type' }));
  assert.deepEqual([stats.whole(12), stats.whole(14), stats.whole(99), stats.typeAt(stats.rowOf(14)), stats.extraIsizeAt(stats.rowOf(13))], [true, false, false, 'bad type', 32]);
  stats.truncate(1);
  assert.deepEqual([stats.has(12), stats.has(13), stats.has(14), stats.size], [true, false, false, 1]);
  stats.set(stat(13, { uid: 1 }));
  assert.deepEqual([stats.get(13)?.uid, stats.has(14)], [1, false]);

  const row = (inode: number, uid: number): IlsInode => ({ inode, allocated: false, uid, gid: 0, mtime: 1, atime: 2, ctime: 3, crtime: 4_294_967_295, perms: 0o644, nlink: 0, size: 2n ** 63n });
  const ils = new IlsTable();
  for (const [inode, uid] of [[11, 1], [12, 2], [11, 3], [13, 4]] as const) ils.add(row(inode, uid));
  assert.deepEqual([...ils.keys()], [11, 12, 13]);
  assert.deepEqual(ils.get(11), row(11, 3));
  ils.keepRowsOf((inode) => inode !== 12);
  assert.deepEqual([ils.get(11), ils.get(12), ils.has(12), ils.get(13)?.uid], [row(11, 3), undefined, true, 4]);

  const names = new FlsNames();
  names.add({ type: 'r/r', deleted: true, inode: 12, realloc: false, name: 'a/b^c', nameExact: false, virtual: false });
  names.add({ type: 'V/V', deleted: false, inode: 4_294_967_296, realloc: false, name: '$OrphanFiles', nameExact: true, virtual: true });
  assert.deepEqual([names.entry(0), names.entry(1).inode, names.length], [{ type: 'r/r', deleted: true, inode: 12, realloc: false, name: 'a/b^c', nameExact: false, virtual: false }, 4_294_967_296, 2]);
});

test('the records of a scan are read in index order, never sorted in memory: file system by file system (offsets ascending), inodes ascending', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unlinked-records-'));
  const kase = openCase(dir, { create: true });
  t.after(() => {
    kase.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const db = kase.db;
  db.exec(`INSERT INTO images (id, path, size, sha256, scanned_at) VALUES (1, '/evidence/disk.dd', 1048576, NULL, '2026-11-24T11:00:00Z')`);
  db.exec(`INSERT INTO image_filesystems (id, image_id, offset_sectors, fs_type, partial, error) VALUES (1, 1, 2048, 'ext4', 1, '${'w'.repeat(2000)}'), (2, 1, 63, 'ext2', 0, NULL)`);
  db.exec(`INSERT INTO image_inodes (id, filesystem_id, inode, state, found_by) VALUES (1, 1, 30, 'deleted', 'ils'), (2, 1, 12, 'orphan', 'ils'), (3, 2, 20, 'deleted', 'ils'), (4, 2, 11, 'deleted', 'ils')`);
  // What each statement reading the records' columns does: none may sort the rows (SQLite would hold them all, each with its file system's error).
  const prepared: string[] = [];
  const prepare = db.prepare.bind(db);
  db.prepare = ((source: string) => {
    prepared.push(source);
    return prepare(source);
  }) as typeof db.prepare;
  const read = [...eachImageInode(db, 1)].map((record) => [record.offset_sectors, record.inode, record.scan_note?.length ?? null]);
  db.prepare = prepare;
  assert.deepEqual(read, [[63, 11, null], [63, 20, null], [2048, 12, 1161], [2048, 30, 1161]]);
  const reading = prepared.filter((source) => source.includes('n.last_name'));
  assert.ok(reading.length > 0);
  for (const source of reading) {
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${source}`).all(1) as Array<{ detail: string }>).map((step) => step.detail);
    assert.ok(!plan.some((detail) => detail.includes('TEMP B-TREE')), `${source}\n${plan.join('\n')}`);
  }
});
