// lsof parsers: golden files of real lsof 4.95 output, exact counts, and the cases lsof makes hard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseLsof, type LsofFileRecord } from '../parsers/lsof.js';
import { fixturesDir } from './helpers/paths.js';

const dir = path.join(fixturesDir, 'lsof');

/** Records as golden JSON: names as base64, numbers past 2^53 (bigints) as "<digits>n". */
function golden(records: LsofFileRecord[]): unknown {
  const plain = records.map((record) => ({ ...record, name: record.name.toString('base64') }));
  return JSON.parse(JSON.stringify(plain, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value))) as unknown;
}

for (const file of fs.readdirSync(dir).filter((name) => name.endsWith('.txt')).sort()) {
  test(`lsof golden: ${file}`, () => {
    const parsed = parseLsof(fs.readFileSync(path.join(dir, file), 'latin1'));
    const actual = { format: parsed.format, records: golden(parsed.records), warnings: parsed.warnings };
    const expectedPath = path.join(dir, file.replace(/\.txt$/, '.expected.json'));
    if (process.env['UPDATE_GOLDEN'] === '1' || !fs.existsSync(expectedPath)) {
      fs.writeFileSync(expectedPath, `${JSON.stringify(actual, null, 1)}\n`);
    }
    assert.deepEqual(actual, JSON.parse(fs.readFileSync(expectedPath, 'utf8')));
  });
}

const read = (file: string) => parseLsof(fs.readFileSync(path.join(dir, file), 'latin1'));

test('plain +L1: five deleted files, names decoded to bytes, exact numbers', () => {
  const parsed = read('plain-L1-nP.txt');
  assert.equal(parsed.format, 'plain');
  assert.equal(parsed.records.length, 5);
  assert.equal(parsed.warnings.length, 0);
  const hostile = parsed.records.find((record) => record.fd === '5u');
  assert.deepEqual(hostile?.name, Buffer.concat([Buffer.from('/var/tmp/lsoffix/-dash\nnewline'), Buffer.from([0xff]), Buffer.from(' (deleted)')]));
  assert.equal(hostile?.size, 10);
  assert.equal(hostile?.nlink, 0);
  assert.equal(hostile?.device, '254:0');
  const memfd = parsed.records.find((record) => record.name.toString().startsWith('/memfd:'));
  assert.equal(memfd?.device, '0:1');
  assert.equal(memfd?.fdNum, 7);
});

test('lsof 4.95 beside 4.99.7, one process at one moment: field output names fd 12345 whole in 4.99.7 (4.95: *345, as the plain table of both), and 4.99.7 gives s with o; nothing else differs', () => {
  const old = read('field-F0-fd12345-4.95.txt').records;
  const current = read('field-F0-fd12345-4.99.7.txt').records;
  const plain = read('plain-L1-fd12345-4.99.7.txt').records;
  assert.deepEqual([old.length, current.length, plain.length], [7, 7, 7]);
  assert.deepEqual(old.map((record) => [record.fd, record.fdNum]), [['3', 3], ['4', 4], ['5', 5], ['7', 7], ['8', 8], ['11', 11], ['*345', null]]);
  assert.deepEqual(current.map((record) => [record.fd, record.fdNum]), [['3', 3], ['4', 4], ['5', 5], ['7', 7], ['8', 8], ['11', 11], ['12345', 12345]]);
  assert.deepEqual(plain.map((record) => [record.fd, record.fdNum]), [['3u', 3], ['4u', 4], ['5u', 5], ['7u', 7], ['8u', 8], ['11u', 11], ['*345u', null]]);
  const sameBut = (record: LsofFileRecord) => ({ ...record, fd: '', fdNum: null });
  assert.deepEqual(current.map(sameBut), old.map(sameBut));
  // With both s and o asked (-Fpcuftdsikno), 4.95 gives o alone, 4.99.7 both.
  const oldNewline = read('field-F-newline-fd12345-4.95.txt').records;
  const newline = read('field-F-newline-fd12345-4.99.7.txt').records;
  assert.deepEqual(oldNewline.map((record) => [record.size, record.offset]), [[null, 100], [null, 100], [null, 10], [null, 50], [null, 10], [null, 4096], [null, 100]]);
  assert.deepEqual(newline.map((record) => [record.size, record.offset]), [[100, 100], [100, 100], [10, 10], [50, 50], [10, 10], [4096, 4096], [100, 100]]);
  assert.deepEqual(newline.map((record) => ({ ...sameBut(record), size: null, line: 0 })), oldNewline.map((record) => ({ ...sameBut(record), line: 0 })));
});

test('lsof 4.99\'s plain table whose every fd is one digit: its header is a column wider than its rows from FD on (TYPE, DEVICE, ... NAME one to the right); read as 4.95\'s table of the same process, with -K too', () => {
  for (const [old, current] of [['plain-L1-fd3-4.95.txt', 'plain-L1-fd3-4.99.7.txt'], ['plain-K-L1-fd3-4.95.txt', 'plain-K-L1-fd3-4.99.7.txt']] as const) {
    const text = fs.readFileSync(path.join(dir, current), 'latin1');
    const [header = '', row = ''] = text.split('\n');
    assert.equal(header.indexOf('NAME') - row.indexOf('/var/tmp/'), 1, `${current}: NAME a column late`);
    const before = read(old);
    const after = read(current);
    assert.deepEqual([before.warnings, after.warnings], [[], []]);
    assert.equal(after.records.length, old.includes('-K-') ? 3 : 1);
    assert.deepEqual(after.records.map((record) => [record.pid, record.tid, record.fd, record.fdNum, record.type, record.device, record.size, record.nlink, record.inode, record.name.toString('latin1')]),
      before.records.map((record) => [record.pid, record.tid, record.fd, record.fdNum, record.type, record.device, record.size, record.nlink, record.inode, record.name.toString('latin1')]));
    assert.deepEqual(after.records, before.records);
  }
  // Rows that line up with neither layout stay unread: the shifted one is tried, never forced.
  const text = fs.readFileSync(path.join(dir, 'plain-L1-fd3-4.99.7.txt'), 'latin1').replace(' 3u   REG', '3u    REG');
  assert.deepEqual(parseLsof(text).warnings.map((warning) => warning.message), ['row does not line up with its header (a value runs into the NAME column)']);
});

test('field -F0 and plain agree record for record', () => {
  const field = read('field-F0.txt').records;
  const plain = read('plain-L1-nP.txt').records;
  assert.equal(field.length, plain.length);
  for (const [index, record] of field.entries()) {
    const other = plain[index];
    assert.equal(record.pid, other?.pid);
    assert.equal(record.fdNum, other?.fdNum);
    assert.equal(record.inode, other?.inode);
    assert.equal(record.size, other?.size);
    assert.equal(record.device, other?.device);
    assert.deepEqual(record.name, other?.name);
  }
});

test('newline-terminated field output reads offsets', () => {
  const parsed = read('field-F-newline.txt');
  assert.equal(parsed.format, 'field');
  assert.equal(parsed.records.length, 5);
  assert.equal(parsed.records[0]?.offset, 600);
  assert.equal(parsed.records[0]?.size, null);
});

test('newline-terminated field output: a line that is no lsof field (a name cut by a raw newline, text that is no capture) is warned of, and the file set it is in not read', () => {
  const text = 'p4300\ncraw\nu0\nf3u\ntREG\nD0xfe00\ns10\ni555\nk0\nn/tmp/secret\nbackup (deleted)\nf4u\ntREG\nD0xfe00\ns20\ni556\nk0\nn/tmp/other (deleted)\n';
  const parsed = parseLsof(text);
  assert.deepEqual(parsed.records.map((record) => [record.fd, record.name.toString('latin1')]), [['4u', '/tmp/other (deleted)']]);
  assert.deepEqual(parsed.warnings.map((warning) => [warning.line, warning.message]), [[11, 'not an lsof field (no field starts with "b"): the file set it is in is not read']]);
  // The rest of the name starting with a field letter ("log.1" read as an l field): after the name,
  // where lsof prints nothing but TCP info (T).
  const split = parseLsof(text.replace('backup (deleted)', 'log.1 (deleted)'));
  assert.deepEqual(split.records.map((record) => [record.fd, record.name.toString('latin1')]), [['4u', '/tmp/other (deleted)']]);
  assert.deepEqual(split.warnings.map((warning) => warning.line), [11]);
  assert.match(split.warnings[0]?.message ?? '', /^a field after the name in its file set/);
  // Text in the middle of a set: the set's other fields are skipped with it, one warning, the next set read.
  const junk = parseLsof('p4300\ncraw\nf3u\nHello, not lsof\ntREG\nD0xfe00\ni555\nk0\nn/tmp/a (deleted)\nf4u\ntREG\nD0xfe00\ni556\nk0\nn/tmp/b (deleted)\n');
  assert.deepEqual(junk.records.map((record) => record.fd), ['4u']);
  assert.deepEqual(junk.warnings.map((warning) => warning.line), [4]);
});

test('plain lsof without NLINK: candidates by text only, DEL mappings kept', () => {
  const parsed = read('plain-noNLINK.txt');
  const byText = parsed.records.filter((record) => record.candidateOnlyByText);
  assert.ok(byText.some((record) => record.name.toString().endsWith('decoy (deleted)')), 'the decoy looks deleted to plain lsof');
  assert.ok(parsed.records.some((record) => record.fd === 'DEL' && record.name.toString().endsWith('mapped.so')));
  assert.ok(parsed.records.every((record) => record.nlink === null));
});

test('COMMAND with an escaped space', () => {
  assert.equal(read('plain-command-space.txt').records[0]?.command, 'evil p');
  assert.equal(read('field-command-space.txt').records[0]?.command, 'evil prog');
});

test('a process name is stored in the display form, byte for byte, as the /proc walk stores comm (newline, bidi override, 0xff)', () => {
  // lsof 4.95 prints U+202E raw and a newline as \n in field output, and cuts the plain COMMAND to 9 escaped characters.
  assert.deepEqual(read('field-command-bytes.txt').records.map((record) => record.command), ['ab\\xe2\\x80\\xaegpj.exe', '=1+1\\x0ax\\xffy']);
  assert.deepEqual(read('plain-command-bytes.txt').records.map((record) => record.command), ['ab\\xe2', '=1+1\\x0ax']);
  assert.deepEqual(read('plain-command-bytes-c15.txt').records.map((record) => record.command), ['ab\\xe2\\x80\\xaeg', '=1+1\\x0ax\\xffy']);
});

test('warning lines are counted with their line numbers, not records', () => {
  const parsed = read('warnings-plain.txt');
  assert.deepEqual(parsed.warnings.map((warning) => warning.line), [1, 2]);
  assert.equal(parsed.records.length, 5);
});

test('corrupt and truncated input: warnings with line numbers, no half record', () => {
  const corrupt = read('corrupt-field.txt');
  assert.deepEqual(corrupt.records.map((record) => [record.pid, record.fdNum, record.name.toString()]), [[12, 5, '/good (deleted)']]);
  assert.deepEqual(corrupt.warnings.map((warning) => [warning.line, warning.message]), [
    [1, 'not lsof output (no COMMAND header or p field yet)'],
    [2, 'not lsof output (no COMMAND header or p field yet)'],
    [4, 'file set with a malformed number (s, o, k, i or D field)'],
    [6, 'bad pid field'],
    [7, 'file set of a process whose pid field could not be read: not read'], // each such set counted
  ]);
  const plain = read('corrupt-plain.txt');
  assert.equal(plain.records.length, 1);
  assert.equal(plain.warnings.length, 2);
  const truncated = read('truncated-F0.txt');
  for (const record of truncated.records) assert.ok(record.pid > 0);
});

test('inode numbers past 2^53 stay exact (bigint): a FUSE file system as overlayfs, CIFS or NFS may number them', () => {
  const inodeOf = (file: string, fd: number | 'DEL'): unknown => read(file).records.find((record) => (fd === 'DEL' ? record.fd === 'DEL' : record.fdNum === fd))?.inode;
  for (const file of ['fuse-bigino-plain.txt', 'fuse-bigino-F0.txt', 'fuse-bigino-F0-noL1.txt']) {
    assert.equal(inodeOf(file, 3), 9007199254740993n, file); // a double would make it ...992
  }
  assert.equal(inodeOf('fuse-bigino-plain.txt', 'DEL'), 18446744073709551557n);
  assert.equal(inodeOf('fuse-bigino-F0-noL1.txt', 'DEL'), 18446744073709551557n);
  // Below 2^53 a number, as before: one value, one form.
  assert.equal(inodeOf('fuse-bigino-plain.txt', 1), 2150152);
  // Past 2^64 is no inode number: a malformed field, with a warning.
  const beyond = parseLsof('p1\0cx\0\nf3\0tREG\0i18446744073709551616\0k0\0n/x (deleted)\0\n');
  assert.equal(beyond.records.length, 0);
  assert.equal(beyond.warnings.length, 1);
});

test('plain output: a row whose value runs into the NAME column, or with no NLINK under an NLINK header, is a warning, never a misread record', () => {
  const header = 'COMMAND   PID USER   FD   TYPE DEVICE SIZE/OFF NLINK     NODE NAME';
  const good = 'python3 12642 root    3w   REG  254,0      500     0 15349763 /tmp/a (deleted)';
  const wide = 'python3 12642 root    4w   REG  254,0      500     0 99999999999999999999999 /tmp/b (deleted)';
  const noNlink = 'python3 12642 root    5w   REG  254,0      500       15349764 /tmp/c (deleted)';
  const parsed = parseLsof([header, good, wide, noNlink, ''].join('\n'));
  assert.deepEqual(parsed.records.map((record) => [record.fd, record.inode, record.name.toString('latin1')]), [['3w', 15349763, '/tmp/a (deleted)']]);
  assert.deepEqual(parsed.warnings.map((warning) => [warning.line, warning.message]), [
    [3, 'row does not line up with its header (a value runs into the NAME column)'],
    [4, 'row without a value under NLINK'],
  ]);
});

test('a capture that passed through Windows (CR LF line ends) reads as the original, said once', () => {
  for (const file of ['field-F0.txt', 'field-F-newline.txt', 'plain-L1.txt']) {
    const text = fs.readFileSync(path.join(dir, file), 'latin1');
    const original = parseLsof(text);
    const converted = parseLsof(text.replace(/\n/g, '\r\n'));
    assert.deepEqual(golden(converted.records), golden(original.records), file);
    assert.deepEqual(converted.warnings.slice(0, 1).map((warning) => warning.message), ['lines end in CR LF (the capture was converted, e.g. on Windows): each CR before a newline is ignored']);
    assert.equal(converted.warnings.length, original.warnings.length + 1, file);
  }
});

test('the last line without its newline was cut off: what it held is not taken (a name cut short, or a set without its name), the sets before it are', () => {
  const plain = 'COMMAND  PID USER   FD   TYPE DEVICE SIZE/OFF NLINK     NODE NAME\n' +
    'python3 2680 root    3u   REG  254,0      100     0 15343621 /var/tmp/whole.log (deleted)\n' +
    'python3 2680 root    4u   REG  254,0      100     0 15343622 /var/tmp/sparse.b';
  const cutPlain = parseLsof(plain);
  assert.deepEqual(cutPlain.records.map((record) => record.name.toString()), ['/var/tmp/whole.log (deleted)']);
  assert.deepEqual(cutPlain.warnings.map((warning) => [warning.line, warning.message]), [[3, 'the last line has no newline: the capture was cut off there; what it held is not taken']]);
  // Each field a line (-F without 0): the name line cut, its set dropped.
  const newline = parseLsof('p1\ncsh\nf3\ntREG\nk0\nn/var/tmp/whole (deleted)\nf4\ntREG\nk0\nn/var/tmp/sparse.b');
  assert.deepEqual(newline.records.map((record) => [record.fd, record.name.toString()]), [['3', '/var/tmp/whole (deleted)']]);
  // -F0, cut just after a closed field: the set has no name yet, so it is not taken; the one before is.
  const nul = parseLsof('p1\0csh\0\nf3\0tREG\0k0\0n/var/tmp/whole (deleted)\0\nf4\0tREG\0k0\0');
  assert.deepEqual(nul.records.map((record) => [record.fd, record.name.toString()]), [['3', '/var/tmp/whole (deleted)']]);
});

test('lsof field output: a warning or blank line after a whole file set keeps the set (-F0, and -F once the name came); a set cut before its name is not taken', () => {
  const warning = "lsof: WARNING: can't stat() nfs file system /mnt/nfs\n      Output information may be incomplete.\n";
  const nul = parseLsof(`p100\0ccmd\0u0\0\nf3\0tREG\0D0xfe00\0s5\0i77\0k0\0n/var/log/a.log (deleted)\0\n${warning} \n`);
  assert.deepEqual(nul.records.map((record) => [record.fd, record.name.toString()]), [['3', '/var/log/a.log (deleted)']]);
  assert.deepEqual(nul.warnings.map((entry) => entry.message), ['lsof warning', 'lsof warning']);
  const lines = parseLsof(`p100\nccmd\nu0\nf3\ntREG\nD0xfe00\ns5\ni77\nk0\nn/var/log/a.log (deleted)\n${warning}f4\ntREG\nD0xfe00\ns9\ni78\nk0\n`);
  assert.deepEqual(lines.records.map((record) => [record.fd, record.name.toString()]), [['3', '/var/log/a.log (deleted)']]);
  assert.deepEqual(lines.warnings.map((entry) => [entry.line, entry.message]), [
    [11, 'lsof warning'], [12, 'lsof warning'],
    [13, 'file set without its name (n) field, in a capture that names its files: cut off; not taken'],
  ]);
});

test('lsof: an FD that is no fd number nor one of lsof\'s names is not read (never guessed a mapping); a NODE past 2^64 is a bad row', () => {
  const sets = ['-3', '', 'xyz', '0x10'].map((fd, index) => `f${fd}\0tREG\0D0xfe00\0s5\0i${77 + index}\0k0\0n/x${index} (deleted)\0\n`).join('');
  const field = parseLsof(`p100\0ccmd\0u0\0\n${sets}f7\0tREG\0D0xfe00\0s5\0i90\0k0\0n/kept (deleted)\0\nfDEL\0tREG\0D0xfe00\0i91\0n/lib.so\0\n`);
  assert.deepEqual(field.records.map((record) => [record.fd, record.fdNum]), [['7', 7], ['DEL', null]]);
  assert.deepEqual(field.warnings.map((entry) => entry.message), ['-3', '', 'xyz', '0x10'].map((fd) => `FD ${JSON.stringify(fd)} is neither an fd number nor one of lsof's names for other files (cwd, rtd, txt, mem, DEL, ...): not read`));
  const plain = parseLsof([
    'COMMAND   PID USER   FD   TYPE DEVICE SIZE/OFF NLINK                 NODE NAME',
    'python3   100 root    3u   REG  254,0        5     0 18446744073709551616 /big (deleted)',
    'python3   100 root    4r   REG  254,0        5     0                   12 /ok (deleted)',
    'python3   100 root  0x9u   REG  254,0        5     0                   13 /hex (deleted)',
  ].join('\n') + '\n');
  assert.deepEqual(plain.records.map((record) => [record.fd, record.fdNum, String(record.inode)]), [['4r', 4, '12']]);
  assert.equal(plain.warnings.length, 2, JSON.stringify(plain.warnings));
});

test('lsof: an FD name with lsof\'s mode and lock characters (DEL-W, 3uW, 4w-) is read as the name (a locked, deleted mapping is kept)', () => {
  // lsof 4.95 -n -P of a python3 that flock'ed, mmap'ed and unlinked a file (captured here), then a dup of fd 3 locked.
  const plain = parseLsof([
    'COMMAND   PID USER   FD   TYPE DEVICE SIZE/OFF     NODE NAME',
    'python3 11194 root  DEL-W  REG  254,0           2146362 /tmp/lockmap.bin',
    'python3 11194 root    3uW  REG  254,0     4096  2146362 /tmp/lockmap.bin (deleted)',
    'python3 11194 root    4w-  REG  254,0     4096  2146362 /tmp/lockmap.bin (deleted)',
  ].join('\n') + '\n');
  assert.deepEqual(plain.records.map((record) => [record.fd, record.fdNum]), [['DEL-W', null], ['3uW', 3], ['4w-', 4]]);
  assert.deepEqual(plain.warnings, []);
});

test('lsof field output: the process set\'s other fields (Z SELinux context of lsof -Z, z zone, g PGID, R PPID, M task command) are read silently, with -F0 and with -F', () => {
  const clean = fs.readFileSync(path.join(dir, 'field-F0.txt'), 'latin1');
  const original = parseLsof(clean);
  // lsof prints them right after p (and K), before c u L (src/print.c).
  const withContext = parseLsof(clean.replace(/^p(\d+)\0/gm, 'p$1\0Zunconfined_u:unconfined_r:unconfined_t:s0\0zglobal\0g$1\0R1\0'));
  assert.deepEqual([golden(withContext.records), withContext.warnings], [golden(original.records), original.warnings]);
  assert.equal(withContext.records.length, 5);
  const lines = parseLsof('p100\nZsystem_u:system_r:init_t:s0\ng100\nR1\nccmd\nu0\nf3\ntREG\nD0xfe00\ns5\ni77\nk0\nn/var/log/a.log (deleted)\n');
  assert.deepEqual([lines.records.map((record) => [record.pid, record.command, record.fd, record.name.toString()]), lines.warnings], [[[100, 'cmd', '3', '/var/log/a.log (deleted)']], []]);
});
