// Pure /proc parsers and the byte display form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { devString, mapsDevToDecimal, parseFdInfo, parseIoUringFiles, parseMaps, parseMountInfo, parseProcLocks, parseProcStat, O_TMPFILE_BIT } from '../parsers/procfs.js';
import { deletedFileAt, kernelAtLeast, walkPids } from '../src/proc/walk.js';
import { makeTempDir } from './helpers/holder.js';
import { fdCount } from '../src/proc/tasks.js';
import { hidingOption } from '../src/proc/procView.js';
import { LeaseTable, leaseHeld, openEffect } from '../src/proc/leases.js';
import { fixturesDir } from './helpers/paths.js';
import { displayBytes, displayCmdline, parseDisplayBytes, quotedArg } from '../src/util/bytes.js';
import { NamespaceMounts } from '../src/proc/mounts.js';
import { mayWait } from '../src/proc/mountProbe.js';

test('stat: comm with spaces and parentheses runs to the last parenthesis', () => {
  const line = '4242 (evil) (x) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 987654 1000 200 18446744073709551615\n';
  assert.deepEqual(parseProcStat(line), { comm: 'evil) (x', state: 'S', ppid: 1, startTime: 987654, numThreads: 1 });
  assert.equal(parseProcStat(line.replace(' 20 0 1 0 ', ' 20 0 7 0 '))?.numThreads, 7, 'field 20: the number of threads');
  assert.equal(parseProcStat('garbage'), null);
});

test('fdinfo: pos, octal flags with O_TMPFILE, mnt_id, ino', () => {
  const info = parseFdInfo('pos:\t12\nflags:\t022300002\nmnt_id:\t27\nino:\t2146482\n');
  assert.deepEqual(info, { pos: 12, flags: 0o22300002, mntId: 27, ino: 2146482 });
  assert.ok(((info.flags ?? 0) & O_TMPFILE_BIT) !== 0);
  assert.equal((parseFdInfo('pos:\t5\nflags:\t02100002\nmnt_id:\t0\n').flags ?? 0) & O_TMPFILE_BIT, 0);
});

test('maps: file-backed lines only, path bytes exact with spaces and (deleted)', () => {
  const bytes = Buffer.concat([
    Buffer.from('7f4d5b7cf000-7f4d5b7d0000 rw-s 00000000 00:01 1026                       /dev/zero (deleted)\n'),
    Buffer.from('7f4d5b7d0000-7f4d5b7d2000 rw-s 00001000 fe:00 2146498                    /tmp/a b\xff (deleted)\n', 'latin1'),
    Buffer.from('7ffd1000-7ffd2000 rw-p 00000000 00:00 0                          [stack]\n'),
    Buffer.from('55d0-55d1 r--p 00000000 00:00 0 \n'),
    // Named with prctl(PR_SET_VMA_ANON_NAME) (Linux 5.17; 6.8 fs/proc/task_mmu.c:300 and 331): shared
    // anonymous memory keeps its shmem file's inode, yet is no file; only anonymous mappings can be
    // named (mm/madvise.c:1286, EBADF for a file's), so no deleted file is hidden so.
    Buffer.from('7f4d5b7ce000-7f4d5b7cf000 rw-s 00000000 00:01 1027                       [anon_shmem:scen shm]\n'),
    Buffer.from('7f4d5b7cd000-7f4d5b7ce000 rw-p 00000000 00:00 0                          [anon:scen heap]\n'),
  ]);
  const entries = parseMaps(bytes);
  assert.equal(entries.length, 2);
  assert.equal(entries[1]?.range, '7f4d5b7d0000-7f4d5b7d2000');
  assert.equal(entries[1]?.offset, 0x1000n);
  assert.equal(entries[1]?.inode, 2146498);
  assert.equal(entries[1]?.mapsDev, 'fe:00');
  assert.deepEqual(entries[1]?.path, Buffer.from('/tmp/a b\xff (deleted)', 'latin1'));
  assert.equal(mapsDevToDecimal('fe:00'), '254:0');
});

test('maps: inode numbers past 2^53 are kept exact (bigint), never dropped or rounded', () => {
  // As the kernel printed them for test/helpers/c/bigino.c, a FUSE file system numbering its files past 2^53.
  const entries = parseMaps(Buffer.from(
    '7ff165ee3000-7ff165ee4000 r--s 00000000 00:28 18446744073709551557       /tmp/bm/past-2p63 (deleted)\n' +
      '7ff165ee4000-7ff165ee5000 r--s 00000000 00:28 9007199254740993           /tmp/bm/past-2p53 (deleted)\n' +
      '7ff165ee5000-7ff165ee6000 r--s 00000000 00:28 9007199254740991           /tmp/bm/max-safe\n' +
      '7ff165ee6000-7ff165ee7000 r--s 00000000 00:28 18446744073709551616       /tmp/bm/past-2p64\n',
  ));
  assert.deepEqual(entries.map((entry) => entry.inode), [18446744073709551557n, 9007199254740993n, 9007199254740991]);
  assert.equal(parseFdInfo('pos:\t9007199254740993\nflags:\t0100000\nmnt_id:\t40\n').pos, 9007199254740993n);
});

test('mountinfo: octal escapes in mount points become bytes', () => {
  const text = '36 35 98:0 /mnt1 /mnt\\040two\\012x rw,noatime master:1 - ext4 /dev/root rw,errors=continue\n';
  const [mount] = parseMountInfo(text);
  assert.equal(mount?.mntId, 36);
  assert.equal(mount?.dev, '98:0');
  assert.deepEqual(mount?.mountPoint, Buffer.from('/mnt two\nx'));
  assert.equal(mount?.fsType, 'ext4');
  assert.equal(mount?.source, '/dev/root');
});

test('devString splits Linux dev_t like the kernel', () => {
  assert.equal(devString(0xfe00), '254:0');
  assert.equal(devString(0x700003), '0:1795'); // minor 0x703: low byte 0x03, high bits from bits 20+
  assert.equal(devString(259 * 256 + 1), '259:1');
  assert.equal(devString((1n << 32n) | 0x0801n), devString(0x0801n | (1n << 32n)));
});

test('displayBytes escapes controls, invalid UTF-8 and backslash, and round-trips', () => {
  const cases: Array<[Buffer, string]> = [
    [Buffer.from('plain.log'), 'plain.log'],
    [Buffer.from('a\nb'), 'a\\x0ab'],
    [Buffer.from([0x2d, 0xff, 0x2e]), '-\\xff.'],
    [Buffer.from('back\\slash'), 'back\\x5cslash'],
    [Buffer.from('naïve 日本'), 'naïve 日本'],
    [Buffer.from('rtl\u202eexe'), 'rtl\\xe2\\x80\\xaeexe'],
    [Buffer.from([0xc0, 0x80]), '\\xc0\\x80'],
    // Noncharacters are never text: U+FFFF, U+FDD0, U+1FFFE.
    [Buffer.from('a\uffffb\ufdd0c\u{1fffe}'), 'a\\xef\\xbf\\xbfb\\xef\\xb7\\x90c\\xf0\\x9f\\xbf\\xbe'],
  ];
  for (const [bytes, shown] of cases) {
    assert.equal(displayBytes(bytes), shown);
    assert.deepEqual(parseDisplayBytes(shown), bytes);
  }
});

test('a path lies on the mount with the longest mount point above it; only that mount counts as not answering', () => {
  const mountinfo = [
    '20 1 259:1 / / rw - ext4 /dev/vda rw',
    '30 20 0:50 / /mnt/nfs rw - nfs4 server:/export rw',
    '31 30 259:2 / /mnt/nfs/local rw - ext4 /dev/vdb rw',
    '32 20 0:51 / /mnt/nfs\\040two rw - nfs4 server:/two rw',
    '33 32 0:52 / /mnt/nfs\\040two rw - ext4 /dev/vdc rw',
  ].join('\n');
  const infos = parseMountInfo(mountinfo);
  const nfs = { mntNs: 'mnt:[1]', mntId: 30, dev: '0:50', mountPoint: '/mnt/nfs', fsType: 'nfs4', source: 'server:/export' };
  const two = { mntNs: 'mnt:[1]', mntId: 32, dev: '0:51', mountPoint: '/mnt/nfs two', fsType: 'nfs4', source: 'server:/two' };
  const table = new NamespaceMounts(infos, [nfs, two]);
  assert.equal(table.hasUnanswered, true);
  assert.equal(table.unansweredAt('/mnt/nfs/a/b (deleted)'), nfs);
  assert.equal(table.unansweredAt('/mnt/nfs'), nfs);
  assert.equal(table.unansweredAt('/mnt/nfs/local/file'), null, 'a local mount inside the NFS mount answers');
  assert.equal(table.unansweredAt('/mnt/nfsX/file'), null, 'a name that merely starts like the mount point');
  assert.equal(table.unansweredAt('/mnt/nfs two/file'), null, 'mounted over: the mount on top (listed last) is the one reached');
  assert.equal(table.unansweredAt('/etc/passwd'), null);
  assert.equal(new NamespaceMounts(infos, [{ ...nfs, mntId: 99 }]).hasUnanswered, false, 'a mount of another namespace is not this one');
  assert.deepEqual([mayWait('nfs4'), mayWait('fuse.sshfs'), mayWait('fuseblk'), mayWait('ext4'), mayWait('tmpfs'), mayWait('overlay')], [true, true, true, false, false, false]);
});

test('io_uring fdinfo (Linux 6.18, fixtures/procfs): the registered files by slot, their paths decoded from octal to bytes; the list ends at the next field', () => {
  const text = fs.readFileSync(path.join(fixturesDir, 'procfs', 'fdinfo-io_uring.txt'), 'latin1');
  assert.deepEqual(parseIoUringFiles(text), {
    registered: 2,
    files: [
      { slot: 0, path: Buffer.from('/tmp/uring/uring file\nx (deleted)') },
      { slot: 1, path: Buffer.from('/tmp/uring/live') },
    ],
  });
  assert.deepEqual(parseFdInfo(text).mntId, 17);
  assert.deepEqual(parseIoUringFiles('pos:\t0\nUserFiles:\t0\nUserBufs:\t0\n'), { registered: 0, files: [] });
  assert.deepEqual(parseIoUringFiles('pos:\t0\n'), { registered: null, files: [] });
});

test('io_uring fdinfo on older kernels (fixtures/procfs, Linux 5.4, 5.10, 6.18): bare names running on over lines, empty slots, a list left out, none at all; since 6.14 only the filled slots', () => {
  const read = (name: string): string => fs.readFileSync(path.join(fixturesDir, 'procfs', name), 'latin1');
  const files = (...names: Array<[number, string]>): Array<{ slot: number; path: Buffer }> => names.map(([slot, name]) => ({ slot, path: Buffer.from(name, 'latin1') }));
  // 5.10: d_iname, unescaped: the newline's second line is still slot 0's; a 40-byte name is not in
  // d_iname (empty here); a file renamed from "evil" to a long name keeps "evil" there.
  assert.deepEqual(parseIoUringFiles(read('fdinfo-io_uring-5.10.txt')), { registered: 4, files: files([0, 'uring file\nx'], [1, 'live'], [2, ''], [3, 'evil']) });
  assert.deepEqual(parseIoUringFiles(read('fdinfo-io_uring-sparse-5.10.txt')), { registered: 3, files: files([0, '<none>'], [1, 'sparse-deleted'], [2, '<none>']) });
  // Its lock busy (another thread registering buffers): the count, no list.
  assert.deepEqual(parseIoUringFiles(read('fdinfo-io_uring-busy-5.10.txt')), { registered: 1, files: [] });
  // 5.4: no show_fdinfo for a ring at all.
  assert.deepEqual(parseIoUringFiles(read('fdinfo-io_uring-5.4.txt')), { registered: null, files: [] });
  // 6.18: slots 0 and 2 empty, not listed; slot 1's path decoded.
  assert.deepEqual(parseIoUringFiles(read('fdinfo-io_uring-sparse-6.18.txt')), { registered: 3, files: files([1, '/tmp/qa-kernels-host/sparse deleted (deleted)']) });
  assert.equal(parseFdInfo(read('fdinfo-io_uring-5.10.txt')).ino, null, 'no ino line before 5.14');
  // Before 6.14 the last name runs on to the field after the list; a line like a slot's past the
  // count, or not the next slot's, is part of a name; a bare name is not unescaped.
  assert.deepEqual(parseIoUringFiles('UserFiles:\t2\n    0: a\n    5: b\n    1: c\\040d\ne\nUserBufs:\t0\n'), { registered: 2, files: files([0, 'a\n    5: b'], [1, 'c\\040d\ne']) });
  assert.deepEqual(parseIoUringFiles('UserFiles:\t3\n    0: a\n    2: b\n    1: c\nUserBufs:\t0\n'), { registered: 3, files: files([0, 'a\n    2: b'], [1, 'c']) });
  // Since 6.14 a path is one line: any later slot may follow it.
  assert.deepEqual(parseIoUringFiles('UserFiles:\t9\n    3: /a\\012b\n    7: socket:[42]\n    8: /c\nUserBufs:\t0\n'), { registered: 9, files: files([3, '/a\nb'], [7, 'socket:[42]'], [8, '/c']) });
  // A number not padded to five columns is no slot line.
  assert.deepEqual(parseIoUringFiles('UserFiles:\t2\n0: a\nUserBufs:\t0\n'), { registered: 2, files: [] });
});

test('a kernel release is read as MAJOR.MINOR: whether io_uring names registered files by path (6.14) is told by it', () => {
  assert.deepEqual(
    ['6.18.44-fc-v1272', '6.14.0', '6.13.12-200.fc41.x86_64', '5.14.0-427.el9.x86_64', '7.0', '10.1', 'Linux'].map((release) => kernelAtLeast(release, 6, 14)),
    [true, true, false, false, true, true, false],
  );
});

test('a deleted file an fd table holds is told by its inode: from fdinfo, or before Linux 5.14 (no ino line, fixtures/procfs 5.10) from a stat', () => {
  const old = fs.readFileSync(path.join(fixturesDir, 'procfs', 'fdinfo-deleted-5.10.txt'), 'latin1');
  assert.equal(deletedFileAt('/tmp/s/dup (deleted)', old, () => 35n), '/tmp/s/dup (deleted)\x0035');
  assert.equal(deletedFileAt('/tmp/s/dup (deleted)', `${old}ino:\t33\n`, () => assert.fail('fdinfo gives it')), '/tmp/s/dup (deleted)\x0033');
  assert.equal(deletedFileAt('/tmp/s/dup (deleted)', null, () => null), '/tmp/s/dup (deleted)\x00?');
});

test('an fd directory whose size is 0 (every one before Linux 6.2: 4.15, 5.4, 5.10, 5.15, 6.1 here) is counted by its entries', () => {
  const fdinfo = `/proc/${process.pid}/fdinfo`;
  assert.equal(fs.statSync(fdinfo).size, 0);
  assert.equal(fdCount(fdinfo), fs.readdirSync(fdinfo).length);
  assert.ok(fdCount(fdinfo) >= 3);
  assert.equal(fdCount(`/proc/${process.pid}/fd`), fs.statSync(`/proc/${process.pid}/fd`).size, 'since 6.2 (here) its size');
});

test('hidepid in mountinfo (fixtures/procfs): the number before Linux 5.8 (4.15), the word since (5.10); under ptraceable the gid= group is hidden from too', () => {
  const mounts = (name: string) => parseMountInfo(fs.readFileSync(path.join(fixturesDir, 'procfs', name), 'latin1'));
  assert.deepEqual(hidingOption('/proc', mounts('mountinfo-hidepid-4.15.txt')), { mode: '2', gid: 1234 });
  assert.deepEqual(hidingOption('/proc', mounts('mountinfo-hidepid-5.10.txt')), { mode: 'invisible', gid: 1234 });
  assert.deepEqual(hidingOption('/proc', mounts('mountinfo-ptraceable-5.10.txt')), { mode: 'ptraceable', gid: null });
  assert.equal(hidingOption('/proc', parseMountInfo('22 1 0:5 / /proc rw,relatime - proc proc rw,hidepid=1\n')), null, 'noaccess lists every process');
  assert.equal(hidingOption('/proc', parseMountInfo('22 1 0:5 / /proc rw,relatime - proc proc rw\n')), null);
});

test('/proc/locks (Linux 6.18, fixtures/procfs): every lock, lease and waiter with its file; the leases an open for reading breaks, by device and inode', () => {
  const text = fs.readFileSync(path.join(fixturesDir, 'procfs', 'locks.txt'), 'latin1');
  const { locks, unreadable } = parseProcLocks(text);
  assert.deepEqual(unreadable, []);
  assert.equal(locks.length, 15);
  assert.deepEqual(locks[0], { id: 1, waiting: false, lockClass: 'POSIX', state: 'ADVISORY', type: 'WRITE', pid: 330, dev: '0:27', inode: 1189736, start: '120', end: '120' });
  assert.deepEqual(locks[4], { id: 5, waiting: false, lockClass: 'OFDLCK', state: 'ADVISORY', type: 'WRITE', pid: -1, dev: '254:0', inode: 15343649, start: '0', end: 'EOF' });
  assert.deepEqual(locks[6], { id: 6, waiting: true, lockClass: 'POSIX', state: 'ADVISORY', type: 'WRITE', pid: 328, dev: '254:0', inode: 15343648, start: '5', end: '14' });
  assert.deepEqual(locks[7], { id: 7, waiting: false, lockClass: 'FLOCK', state: 'ADVISORY', type: 'WRITE', pid: 32740, dev: '254:0', inode: 15343647, start: '0', end: 'EOF' });
  assert.deepEqual(locks[8], { id: 8, waiting: false, lockClass: 'LEASE', state: 'ACTIVE', type: 'READ', pid: 32740, dev: '254:0', inode: 15343646, start: '0', end: 'EOF' });
  assert.deepEqual(locks[9], { id: 9, waiting: false, lockClass: 'LEASE', state: 'BREAKING', type: 'READ', pid: 32740, dev: '254:0', inode: 15343645, start: '0', end: 'EOF' });
  assert.deepEqual(locks[10], { id: 9, waiting: true, lockClass: 'LEASE', state: 'BREAKER', type: 'READ', pid: 329, dev: null, inode: null, start: '0', end: 'EOF' });
  const parsed = parseProcLocks('1: LEASE  ACTIVE    WRITE 18015 fe:00:15343617 0 EOF\n2: garbage\n3:  -> FLOCK  ADVISORY  WRITE 7 00:1b:5 0 EOF\n');
  assert.deepEqual(parsed.unreadable, [2], 'a line that does not read so is counted by its number');
  assert.deepEqual(parsed.locks.map((lock) => [lock.id, lock.waiting, lock.lockClass, lock.type, lock.dev, lock.inode]), [[1, false, 'LEASE', 'WRITE', '254:0', 15343617], [3, true, 'FLOCK', 'WRITE', '0:27', 5]]);
  // A write lease, or one being broken: an open for reading breaks it, or waits for it; a read lease, a lock, neither.
  const table = new LeaseTable(`${text}20: LEASE  ACTIVE    WRITE 18015 fe:00:15343617 0 EOF\n21: DELEG  ACTIVE    WRITE 900 00:2c:77 0 EOF\n`);
  assert.deepEqual(table.on(['254:0'], 15343617), { state: 'LEASE ACTIVE WRITE', pid: 18015 });
  assert.deepEqual(table.on(['0:99', '254:0'], 15343645), { state: 'LEASE BREAKING READ', pid: 32740 }, 'by the mount\'s device when st_dev is not the super block\'s');
  assert.deepEqual(table.on(['0:44'], 77), { state: 'DELEG ACTIVE WRITE', pid: 900 }, 'an NFS server\'s write delegation: broken by an open too');
  assert.equal(table.on(['0:45'], 77), null, 'another device');
  assert.equal(table.on(['254:0'], 15343646), null, 'a read lease: not broken by an open for reading');
  assert.equal(table.on(['254:0'], 15343647), null, 'a flock');
  assert.equal(table.on(['254:0'], 15343648), null, 'a POSIX lock');
  assert.equal(leaseHeld({ state: 'LEASE ACTIVE WRITE', pid: 18015 }), 'process 18015 holds a write lease on it (/proc/locks: LEASE ACTIVE WRITE)');
  assert.equal(leaseHeld({ state: 'LEASE BREAKING READ', pid: 32740 }), 'a lease of process 32740 on it is being broken by another open (its holder has been signalled) (/proc/locks: LEASE BREAKING READ)');
  assert.equal(leaseHeld({ state: 'DELEG ACTIVE WRITE', pid: 900 }), 'process 900 (an NFS server) holds a delegation on it that is broken by an open (/proc/locks: DELEG ACTIVE WRITE)');
  // A lease being broken may be a read lease a writer breaks, which a read open neither signals nor waits for: said as what may happen.
  assert.equal(openEffect({ state: 'LEASE ACTIVE WRITE', pid: 18015 }), 'an open of the file signals the holder, which can change or cut it before it is read');
  assert.equal(openEffect({ state: 'LEASE BREAKING UNLCK', pid: 32740 }),
    'an open of the file may wait for the holder to give it up (a write lease being broken; /proc/locks does not tell it from a read lease a writer is breaking, which a read neither signals nor waits for), time in which the holder can change or cut it');
});

test('/proc/locks on older kernels (fixtures/procfs): before Linux 5.4 READ padded to five columns (4.15), a flock of LOCK_MAND (MSNFS, until 5.15) padded still (5.10); an inode printed signed before the 2020 stable updates; a line of no known form said by the walk', async () => {
  const read = (name: string): string => fs.readFileSync(path.join(fixturesDir, 'procfs', name), 'latin1');
  const old = parseProcLocks(read('locks-4.15.txt'));
  assert.deepEqual(old.unreadable, []);
  assert.deepEqual(old.locks.map((lock) => [lock.id, lock.waiting, lock.lockClass, lock.state, lock.type, lock.pid, lock.dev, lock.inode, lock.start, lock.end]), [
    [1, false, 'LEASE', 'ACTIVE', 'READ', 129, '0:22', 20, '0', 'EOF'],
    [2, false, 'FLOCK', 'MSNFS', 'READ', 126, '0:22', 17, '0', 'EOF'],
    [3, false, 'FLOCK', 'ADVISORY', 'READ', 126, '0:22', 16, '0', 'EOF'],
    [4, false, 'POSIX', 'ADVISORY', 'READ', 126, '0:22', 15, '2', '4'],
    [5, false, 'FLOCK', 'ADVISORY', 'WRITE', 126, '0:22', 14, '0', 'EOF'],
    [6, false, 'OFDLCK', 'ADVISORY', 'READ', -1, '0:22', 13, '0', 'EOF'],
    [7, false, 'POSIX', 'ADVISORY', 'WRITE', 126, '0:22', 12, '0', '3'],
    [7, true, 'POSIX', 'ADVISORY', 'WRITE', 132, '0:22', 12, '0', '3'],
  ]);
  const newer = parseProcLocks(read('locks-5.10.txt'));
  assert.deepEqual(newer.unreadable, []);
  assert.deepEqual(newer.locks.slice(0, 5).map((lock) => [lock.id, lock.waiting, lock.lockClass, lock.state, lock.type, lock.pid, lock.dev, lock.inode]), [
    [1, false, 'LEASE', 'BREAKING', 'READ', 83, '0:21', 26], [1, true, 'LEASE', 'BREAKER', 'READ', 85, null, null],
    [2, false, 'LEASE', 'ACTIVE', 'WRITE', 83, '0:21', 25], [3, false, 'LEASE', 'ACTIVE', 'READ', 83, '0:21', 24], [4, false, 'FLOCK', 'MSNFS', 'READ', 80, '0:21', 21],
  ]);
  assert.deepEqual(new LeaseTable(read('locks-5.10.txt')).on(['0:21'], 26), { state: 'LEASE BREAKING READ', pid: 83 });
  // 4.19.1 fs/locks.c:2681 prints i_ino with "%ld" (an inode from 2^63 on negative); "%lu" after
  // "locks: print unsigned ino in /proc/locks" (4.14, 4.19 and 5.4 stable updates of January 2020).
  const signed = parseProcLocks('1: POSIX  ADVISORY  WRITE 42 00:2c:-9223372036854775807 0 EOF\n2: LEASE  ACTIVE    WRITE 43 00:2c:18446744073709551615 0 EOF\n');
  assert.deepEqual(signed.locks.map((lock) => lock.inode), [2n ** 63n + 1n, 2n ** 64n - 1n]);
  assert.deepEqual(parseProcLocks('1: POSIX  ADVISORY  WRITE 42 00:2c:-99999999999999999999 0 EOF\n').unreadable, [1], 'past 64 bits');
  assert.deepEqual(new LeaseTable('1: LEASE  ACTIVE    WRITE 43 00:2c:12 0 EOF\nnot a lock\n').unreadable, [2]);
  // The walk says so: a lease on such a line is unknown.
  const fake = makeTempDir('locks-unreadable');
  try {
    fs.writeFileSync(path.join(fake, 'locks'), '1: POSIX  ADVISORY  WRITE 330 00:1b:1189736 120 120\n2: what\n');
    assert.deepEqual((await walkPids([], fake, () => undefined)).warnings, [
      `${fake}/locks: 1 line did not read as a lock or lease (line 2): a lease there on an item is not known, and recover's open of the item could break it (or wait for it) unwarned (docs/limits.md)`,
    ]);
  } finally {
    fs.rmSync(fake, { recursive: true, force: true });
  }
});

test('a command line shown: each argument in the display form, quoted as a shell takes it back where needed; an empty one, one without its NUL, one with a quote', () => {
  assert.equal(quotedArg('/usr/bin/python3'), '/usr/bin/python3');
  assert.equal(quotedArg('--opt=a,b:c@d%e+f'), '--opt=a,b:c@d%e+f');
  assert.equal(quotedArg(''), "''");
  assert.equal(quotedArg('two words'), "'two words'");
  assert.equal(quotedArg("it's"), "'it'\\''s'");
  assert.equal(quotedArg('new\\x0aline'), 'new\\x0aline', 'the display form\'s escapes need no quotes');
  assert.equal(displayCmdline(Buffer.from('sh\0-c\0echo hi\0\0', 'latin1')), "sh -c 'echo hi' ''");
  assert.equal(displayCmdline(Buffer.from('nginx: worker process', 'latin1')), "'nginx: worker process'", 'rewritten, no NUL at the end');
  assert.equal(displayCmdline(Buffer.from([0x61, 0xff, 0x00, 0x0a, 0x00])), 'a\\xff \\x0a');
  assert.equal(displayCmdline(Buffer.alloc(0)), '');
});
