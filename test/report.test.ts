// Issue 7: reports from a fixed case database: CSV round trip and formula escaping, bodyfile through
// mactime, JSON keys, and the HTML page in a real headless Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makeTempDir } from './helpers/holder.js';
import { fixturesDir } from './helpers/paths.js';
import { HOSTILE_NAMES, REPORT_CASE_FINDINGS, buildReportCase } from './helpers/reportCase.js';
import { parseExact, runCli, startCli } from './helpers/cli.js';
import { cliPath } from './helpers/paths.js';
import { firstLine } from './helpers/lines.js';
import { killed } from './helpers/fuse.js';
import { pythonHolder } from './helpers/pythonHolder.js';
import { REPORT_FORMATS } from '../src/report/registry.js';
import { displayBytes } from '../src/util/bytes.js';
import { modeString as bodyfileMode } from '../src/report/bodyfile.js';
import { caseSummary, type CaseSummary } from '../src/report/summary.js';
import { findProgram } from './setup/ensure-tools.js';
import { openCase, type Db } from '../src/store/db.js';
import { MIGRATIONS } from '../src/store/schema.js';
import { devString } from '../parsers/procfs.js';
import { debugfsBuilt, imageWorkDirs, patchMarker, sha256, sha256File } from './helpers/images.js';
import { loopFsFor } from './helpers/loopfs.js';
import crypto from 'node:crypto';
import { tryOr } from '../src/util/tryOr.js';
import { writeLsofCapture } from './bench/lsofImport.js';

function reportCase(t: { after: (fn: () => void) => void }, change?: (db: Db) => void, prefix = 'report'): string {
  const dir = makeTempDir(prefix);
  const kase = buildReportCase(dir);
  try {
    change?.(kase.db);
  } finally {
    kase.close();
  }
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A strict RFC 4180 reader: quoted fields, doubled quotes, CRLF records. */
function readCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        field += '"';
        index++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      record.push(field);
      field = '';
    } else if (char === '\r' && text[index + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      index++;
    } else field += char;
  }
  if (field !== '' || record.length > 0) records.push([...record, field]);
  return records;
}

test('every report module is registered', () => {
  const modules = fs.readdirSync(path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'src', 'report')).filter((name) => name.endsWith('.js'));
  const formats = ['csv', 'html', 'json', 'bodyfile'];
  assert.deepEqual(Object.keys(REPORT_FORMATS).sort(), formats.sort());
  for (const format of formats) assert.ok(modules.includes(`${format}.js`), `${format}.js exists`);
});

test('CSV: header, one row per finding, every field round-trips, formulas escaped', (t) => {
  const dir = reportCase(t);
  const result = runCli(dir, ['report', '--format', 'csv', '--out', '-']);
  assert.equal(result.code, 0, result.stderr);
  const records = readCsv(result.stdout);
  const header = records[0] ?? [];
  assert.equal(records.length, REPORT_CASE_FINDINGS + 1);
  assert.ok(records.every((record) => record.length === header.length));
  const pathColumn = header.indexOf('path');
  const b64Column = header.indexOf('path_b64');
  for (const name of HOSTILE_NAMES) {
    const matching = records.slice(1).filter((record) => Buffer.from(record[b64Column] ?? '', 'base64').equals(name));
    assert.equal(matching.length, 1, `one row holds the bytes of ${displayBytes(name)}`);
    const row = matching[0] ?? [];
    const shown = displayBytes(name);
    // A quote goes in front of text cells starting with = + - @ tab CR, so a spreadsheet keeps them text.
    assert.equal(row[pathColumn], /^[=+\-@\t\r]/.test(shown) ? `'${shown}` : shown);
  }
  assert.ok(!/^[=+@-]/m.test(result.stdout.split('\r\n').map((line) => line.split(',')).flat().join('\n')), 'no cell starts with a formula character');
});

/** Records as Python's csv module reads them (what a script of the responder would use). */
function pythonCsv(text: string): string[][] {
  const script = 'import csv, io, json, sys; print(json.dumps(list(csv.reader(io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", newline="")))))';
  return JSON.parse(execFileSync('python3', ['-c', script], { input: text, encoding: 'utf8' })) as string[][];
}

test('CSV: formulas escaped in text columns only; path_b64 starting with "+" and numbers stay exact', (t) => {
  // 0xF8 as the first byte makes the base64 start with '+'.
  const name = Buffer.from([0xf8, 0x2f, 0x78]);
  const dir = reportCase(t, (db) => {
    const insert = db.prepare(`INSERT INTO items (id, snapshot_id, pid, comm, kind, fd, path, inode, size, nlink, atime, in_proc, in_lsof) VALUES (?, 1, 900, ?, 'fd', ?, ?, ?, 10, 0, ?, 1, 1)`);
    insert.run(10, '@SUM(1)', 3, name, 1000, -1);
    insert.run(11, '\uff1d1+1', 4, Buffer.from('=HYPERLINK("http://evil.example","x")'), 1001, 0);
    // A process named with the escape's own quote: the two must stay two cells.
    insert.run(12, "'=x", 5, Buffer.from('/tmp/q'), 1002, 0);
    insert.run(13, '=x', 6, Buffer.from("'/tmp/q"), 1003, 0);
  });
  const records = pythonCsv(runCli(dir, ['report', '--format', 'csv', '--out', '-']).stdout);
  const header = records[0] ?? [];
  const row = (id: string): Record<string, string> => Object.fromEntries(header.map((column, index) => [column, records.find((record) => record[0] === 'live' && record[1] === id)?.[index] ?? '']));
  assert.equal(row('10')['path_b64'], '+C94');
  assert.deepEqual(Buffer.from(row('10')['path_b64'] ?? '', 'base64'), name);
  assert.equal(row('10')['path'], '\\xf8/x');
  assert.equal(row('10')['comm'], "'@SUM(1)");
  assert.equal(row('10')['atime'], '-1', 'a number is not a formula');
  assert.equal(row('11')['path'], `'=HYPERLINK("http://evil.example","x")`);
  assert.equal(row('11')['comm'], "'\uff1d1+1");
  assert.equal(row('11')['path_b64'], Buffer.from('=HYPERLINK("http://evil.example","x")').toString('base64'));
  assert.equal(row('12')['comm'], "''=x", 'a cell starting with a quote gets one more: the escape can be undone');
  assert.equal(row('13')['comm'], "'=x");
  assert.equal(row('13')['path'], "''/tmp/q");
});

test('bodyfile: 11 fields per line, names escaped, mactime reads it', (t) => {
  const dir = reportCase(t);
  const out = path.join(dir, 'body.txt');
  assert.equal(runCli(dir, ['report', '--format', 'bodyfile', '--out', out]).code, 0);
  const lines = fs.readFileSync(out, 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, REPORT_CASE_FINDINGS);
  for (const line of lines) assert.equal(line.split('|').length, 11, line);
  assert.ok(lines.some((line) => line.includes('/tmp/new\\x0aline\\x09tab\\x7cpipe "quoted"')));
  const timeline = execFileSync('mactime', ['-b', out, '-d', '-z', 'UTC'], { encoding: 'utf8' });
  assert.match(timeline, /\/evidence\/web01\.dd/);
  assert.match(timeline, /nginx fd 3, snapshot 1/);
});

test('bodyfile: modes as TSK\'s fls -m writes them, setuid, setgid and sticky included (a deleted setuid binary must show)', () => {
  assert.deepEqual(
    [0o104755, 0o102775, 0o101777, 0o104644, 0o100644, 0o041777, 0o120777, 0o010600].map((mode) => bodyfileMode(mode)),
    ['r/rrwsr-xr-x', 'r/rrwxrwsr-x', 'r/rrwxrwxrwt', 'r/rrwSr--r--', 'r/rrw-r--r--', 'd/drwxrwxrwt', 'l/lrwxrwxrwx', 'p/prw-------'],
  );
});

test('bodyfile: a newline, pipe or backslash in comm or the image path stays inside its line, and mactime keeps every entry', (t) => {
  // A process names itself with prctl(PR_SET_NAME): any byte but NUL, a newline included.
  const dir = reportCase(t, (db) => {
    db.prepare(`UPDATE items SET comm = ? WHERE id = 1`).run('evil\nname|x\\y');
    db.prepare(`UPDATE images SET path = ? WHERE id = 1`).run('/evidence/web\n01|\u202e.dd');
  });
  const out = path.join(dir, 'body.txt');
  assert.equal(runCli(dir, ['report', '--format', 'bodyfile', '--out', out]).code, 0);
  const lines = fs.readFileSync(out, 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, REPORT_CASE_FINDINGS);
  for (const line of lines) assert.equal(line.split('|').length, 11, line);
  const names = lines.map((line) => line.split('|')[1]);
  const renamed = `/var/log/<img src=x onerror="document.title='pwned'">.log (deleted: pid 4242 evil\\x0aname\\x7cx\\x5cy fd 3, snapshot 1)`;
  assert.deepEqual(names.filter((name) => name?.startsWith('/var/log/<img')), [renamed]);
  // U+202E (right-to-left override) would show the name reversed: escaped as displayBytes does.
  assert.equal(names.at(-1), '<inode 300> (deleted: deleted in /evidence/web\\x0a01\\x7c\\xe2\\x80\\xae.dd at sector 2048)');
  const timeline = execFileSync('mactime', ['-b', out, '-d', '-z', 'UTC'], { encoding: 'utf8' }).trimEnd().split('\n');
  // Each entry gives one timeline line per distinct time; every one of the 11 names must be there.
  // mactime writes the name last, quoted, with quotes doubled.
  const seen = new Set(timeline.slice(1).map((line) => line.slice(line.indexOf(',"') + 2, -1).replace(/""/g, '"')));
  assert.equal(seen.size, REPORT_CASE_FINDINGS);
  assert.ok(seen.has(renamed), 'the renamed process keeps its entry');
});

test('bodyfile: a comm the walk stored in the display form is written as it is, not escaped again; only its pipe becomes \\x7c (root)', async (t) => {
  const dir = makeTempDir('bodyfile-comm');
  const caseDir = makeTempDir('bodyfile-comm-case', '/dev/shm');
  // A process that names itself "=1+1<newline>|x<backslash>y" holds a deleted file.
  const script = String.raw`import ctypes, os, sys
ctypes.CDLL(None).prctl(15, b"=1+1\n|x\\y", 0, 0, 0)
fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR, 0o600)
os.write(fd, b"abc")
os.unlink(sys.argv[1])
print(os.getpid(), fd, flush=True)
sys.stdin.read()`;
  const holder = spawn('python3', ['-c', script, path.join(dir, 'held')], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(async () => {
    await killed(holder).stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const [pid, fd] = (await firstLine(holder)).split(' ').map(Number);
  assert.equal(fs.readFileSync(`/proc/${pid}/comm`, 'latin1'), '=1+1\n|x\\y\n');
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const held = fs.statSync(`/proc/${pid}/fd/${fd}`);
  const seconds = (date: Date): number => Math.floor(date.getTime() / 1000);
  const bodyfile = runCli(caseDir, ['report', '--format', 'bodyfile', '--out', '-']);
  assert.equal(bodyfile.code, 0, bodyfile.stderr);
  assert.equal(
    bodyfile.stdout,
    `0|${dir}/held (deleted: pid ${pid} =1+1\\x0a\\x7cx\\x5cy fd ${fd}, snapshot 1)|${held.ino}|r/rrw-------|0|0|3|${seconds(held.atime)}|${seconds(held.mtime)}|${seconds(held.ctime)}|${seconds(held.birthtime)}\n`,
  );
});

test('bodyfile: the crtime of an image inode, 0 where unknown (as TSK writes it)', (t) => {
  const dir = reportCase(t, (db) => db.exec(`UPDATE image_inodes SET crtime = 1795399000 WHERE id = 2`));
  const lines = runCli(dir, ['report', '--format', 'bodyfile', '--out', '-']).stdout.trimEnd().split('\n');
  assert.deepEqual(lines.slice(-2), [
    '0|<inode 100> (deleted: orphan in /evidence/web01.dd at sector 2048)|100|-/rrw-r--r--|0|0|1000|1795500000|1795500100|1795500200|0',
    '0|<inode 300> (deleted: deleted in /evidence/web01.dd at sector 2048)|300|-/rrw-r--r--|1000|1000|2048|1795400000|1795400100|1795400200|1795399000',
  ]);
});

test('bodyfile: an owner that is not known is -1, never written as root (0); mactime still reads the line', (t) => {
  const dir = reportCase(t, (db) => db.exec(`UPDATE image_inodes SET uid = NULL, gid = NULL WHERE id = 2`));
  const out = path.join(dir, 'body.txt');
  assert.equal(runCli(dir, ['report', '--format', 'bodyfile', '--out', out]).code, 0);
  const lines = fs.readFileSync(out, 'utf8').trimEnd().split('\n');
  assert.equal(lines.at(-1), '0|<inode 300> (deleted: deleted in /evidence/web01.dd at sector 2048)|300|-/rrw-r--r--|-1|-1|2048|1795400000|1795400100|1795400200|0');
  const timeline = execFileSync('mactime', ['-b', out, '-d', '-z', 'UTC'], { encoding: 'utf8' });
  assert.match(timeline, /,2048,\.a\.\.,-\/rrw-r--r--,-1,-1,300,"<inode 300> \(deleted: deleted in \/evidence\/web01\.dd at sector 2048\)"/);
});

test('bodyfile: an item with no time known (lsof alone saw it) has four times 0, none put in their place; mactime leaves it out of the timeline, as docs/reports.md says', (t) => {
  const dir = reportCase(t, (db) => db.exec(`UPDATE items SET atime = NULL, mtime = NULL, ctime = NULL, uid = NULL, gid = NULL, mode = NULL WHERE id = 9`));
  const out = path.join(dir, 'body.txt');
  assert.equal(runCli(dir, ['report', '--format', 'bodyfile', '--out', out]).code, 0);
  const lines = fs.readFileSync(out, 'utf8').trimEnd().split('\n');
  assert.deepEqual(lines.filter((line) => line.endsWith('|0|0|0|0')), ['0|/tmp/lsof-only (deleted) (deleted: pid 777 sshd fd 9, snapshot 1)|555|-/----------|-1|-1|42|0|0|0|0']);
  const timeline = execFileSync('mactime', ['-b', out, '-d', '-z', 'UTC'], { encoding: 'utf8' });
  assert.ok(!timeline.includes('lsof-only'), 'mactime drops a line whose times are all 0');
  assert.ok(timeline.includes('"/tmp/bad-utf8-\\xff\\xfe.bin (deleted: pid 4242 nginx fd 8, snapshot 1)"'), 'the lines with times are there');
});

test('an item with no name stored says so in the CSV note and the bodyfile name; no path is made up', (t) => {
  const dir = reportCase(t, (db) => db.exec(`UPDATE items SET path = X'' WHERE id = 9`));
  const records = readCsv(runCli(dir, ['report', '--format', 'csv', '--out', '-']).stdout);
  const header = records[0] ?? [];
  const row = records.find((record) => record[header.indexOf('key')] === 'live-9') ?? [];
  assert.deepEqual(['path', 'path_b64', 'note'].map((column) => row[header.indexOf(column)]), ['', '',
    'no name: none was recorded for this item; no copy made yet (recover not run on it, or stopped before it: a report written before the copies, as triage writes its first); seen by lsof only']);
  const body = runCli(dir, ['report', '--format', 'bodyfile', '--out', '-']).stdout.split('\n');
  assert.deepEqual(body.filter((line) => line.includes('pid 777')).map((line) => line.split('|')[1]), ['<no name> (deleted: pid 777 sshd fd 9, snapshot 1; no name: none was recorded for this item)']);
});

test('summary: items lsof did not see count as /proc only when lsof ran, even when it listed nothing', (t) => {
  let summary: CaseSummary | null = null;
  reportCase(t, (db) => {
    const snapshot = db.prepare(`INSERT INTO snapshots (id, source, host, tool_version, started_at, finished_at, lsof_status) VALUES (?, 'proc', 'web01', '0.1.0', '2026-11-25T10:00:00Z', ?, ?)`);
    // 2: lsof ran and listed nothing (hidden from it: the case to flag); 3: lsof not run; 4: not finished; 5: lsof listed files.
    snapshot.run(2, '2026-11-25T10:00:01Z', 'ran: 0 records, exit 0');
    snapshot.run(3, '2026-11-25T10:00:01Z', 'skipped (--no-lsof)');
    snapshot.run(4, null, 'ran: 0 records, exit 0');
    snapshot.run(5, '2026-11-25T10:00:01Z', 'ran: 1 records, exit 0');
    db.exec(`INSERT INTO lsof_files (snapshot_id, line, pid, name) VALUES (5, 1, 1, x'2f78')`);
    const item = db.prepare(`INSERT INTO items (id, snapshot_id, pid, kind, fd, path, nlink, in_proc, in_lsof) VALUES (?, ?, 900, 'fd', ?, x'2f74', 0, 1, 0)`);
    [[20, 2], [21, 2], [22, 3], [23, 4], [24, 5]].forEach(([id, snapshotId], index) => item.run(id, snapshotId, index + 3));
    summary = caseSummary(db);
  });
  assert.equal((summary as CaseSummary | null)?.procOnly, 3, 'items 20, 21 and 24');
});

/** The CSV report's records as objects, keyed by the header. */
function csvFindings(caseDir: string): Array<Record<string, string>> {
  const result = runCli(caseDir, ['report', '--format', 'csv', '--out', '-']);
  assert.equal(result.code, 0, result.stderr);
  const [header = [], ...rows] = readCsv(result.stdout);
  return rows.map((row) => Object.fromEntries(header.map((column, index) => [column, row[index] ?? ''])));
}

test('an image scanned twice, an extraction in between: one finding per inode, from the latest scan, with the copy made from the first (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'rescan');
  const one = crypto.randomBytes(30_000);
  const two = crypto.randomBytes(20_000);
  // Our own ext2 image: two files deleted by debugfs, which (like the old ext2 driver) keeps their block pointers.
  const image = debugfsBuilt(dir, ['mkfs.ext2'], { one, two }, 'kill_file one\nunlink one\nkill_file two\nunlink two\n');
  for (const args of [['image', 'scan', image], ['image', 'extract', image, '--inode', '12'], ['image', 'scan', image]]) {
    const result = runCli(caseDir, args);
    assert.equal(result.code, 0, result.stderr);
  }
  const columns = (finding: Record<string, string>) => [finding['finding'], finding['id'], finding['path'], finding['inode'], finding['status'], finding['sha256'],
    finding['bytes'], finding['output'], finding['note']];
  // Image inodes 1 and 2 are the first scan's rows, 3 and 4 the second's: the copy of inode 12 was made from row 1.
  assert.deepEqual(csvFindings(caseDir).map(columns), [
    ['image', '3', 'one', '12', 'complete', sha256(one), '30000', 'extracted/built.img-0-12', ''],
    ['image', '4', 'two', '13', 'not copied', '', '', '', ''],
  ]);
  const report = runCli(caseDir, ['report', '--format', 'json', '--out', '-']);
  assert.equal(report.code, 0, report.stderr);
  const document = JSON.parse(report.stdout) as { image_inodes: Array<{ inode: number; last_name: string }>; extracted: unknown[] };
  assert.deepEqual(document.image_inodes.map((record) => [record.inode, record.last_name]), [[12, 'one'], [13, 'two']]);
  assert.equal(document.extracted.length, 1);
  const bodyfile = runCli(caseDir, ['report', '--format', 'bodyfile', '--out', '-']);
  assert.deepEqual(bodyfile.stdout.trimEnd().split('\n').map((line) => line.split('|').slice(1, 3)), [
    [`/one (deleted: deleted in ${image} at sector 0)`, '12'], [`/two (deleted: deleted in ${image} at sector 0)`, '13'],
  ]);
  const kase = openCase(caseDir, { create: false });
  try {
    // Both scans are still all in the database; the summary counts each inode once.
    assert.deepEqual(kase.db.prepare(`SELECT (SELECT count(*) FROM images), (SELECT count(*) FROM image_inodes), (SELECT count(*) FROM extractions)`).raw().get(), [2, 4, 1]);
    const summary = caseSummary(kase.db);
    assert.deepEqual(summary.imageInodes, { orphan: 0, deleted: 2, recoverable: 2 });
    // One image (scanned twice), one inode copied.
    assert.deepEqual([summary.images, summary.recoverableCopies, summary.otherCopies], [1, { complete: 1, incomplete: 0, notCopied: 1 }, { complete: 0, incomplete: 0, notCopied: 0 }]);
  } finally {
    kase.close();
  }
  // Another file system put at the same path (a new image, its own UUID): its finding is added, the old ones stay.
  const other = path.join(dir, 'other');
  fs.mkdirSync(other);
  fs.copyFileSync(debugfsBuilt(other, ['mkfs.ext2'], { three: two }, 'kill_file three\nunlink three\n'), image);
  assert.equal(runCli(caseDir, ['image', 'scan', image]).code, 0);
  assert.deepEqual(csvFindings(caseDir).map(columns), [
    ['image', '3', 'one', '12', 'complete', sha256(one), '30000', 'extracted/built.img-0-12', ''],
    ['image', '4', 'two', '13', 'not copied', '', '', '', ''],
    ['image', '5', 'three', '12', 'not copied', '', '', '', ''],
  ]);
});

test('a device scanned again after its file system reused a freed inode: the old finding stays, from the scan that found it, and says so (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'rescan-dev');
  const image = debugfsBuilt(dir, ['mkfs.ext2'], { one: Buffer.from('one'), two: Buffer.from('two') }, 'kill_file one\nunlink one\nkill_file two\nunlink two\n');
  const { loop } = loopFsFor(t, { image, mountPoint: false });
  assert.equal(runCli(caseDir, ['image', 'scan', loop]).code, 0);
  // The same file system (same UUID) gets a new file: the first free inode, 12, is used again.
  const source = path.join(dir, 'new.src');
  fs.writeFileSync(source, 'new');
  execFileSync('debugfs', ['-w', '-R', `write ${source} new`, loop], { stdio: 'ignore' });
  assert.equal(runCli(caseDir, ['image', 'scan', loop]).code, 0);
  const kase = openCase(caseDir, { create: false });
  let scannedAt: string[];
  try {
    scannedAt = (kase.db.prepare(`SELECT scanned_at FROM images ORDER BY id`).raw().all() as string[][]).map(([at]) => at ?? '');
    assert.deepEqual(kase.db.prepare(`SELECT id, filesystem_id, inode FROM image_inodes ORDER BY id`).raw().all(), [[1, 1, 12], [2, 1, 13], [3, 2, 13]]);
  } finally {
    kase.close();
  }
  assert.deepEqual(csvFindings(caseDir).map((finding) => [finding['id'], finding['path'], finding['inode'], finding['image'], finding['note']]), [
    ['1', 'one', '12', loop, `as the scan of ${scannedAt[0]} found it: the latest scan of this file system (${scannedAt[1]}) did not list it`],
    ['3', 'two', '13', loop, ''],
  ]);
});

test('CSV, HTML and bodyfile: a deleted name fls printed with "^" for a control byte says so, and claims no bytes in path_b64 (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'ctlreport');
  const image = debugfsBuilt(dir, ['mkfs.ext2'], { 'del-newXline': Buffer.from('x'), 'del-caret^real': Buffer.from('y'), plain: Buffer.from('z') },
    'kill_file del-newXline\nunlink del-newXline\nkill_file del-caret^real\nunlink del-caret^real\nkill_file plain\nunlink plain\n');
  // Our own image: the freed entry's name "del-newXline" becomes "del-new\nline" (debugfs cannot type a newline).
  patchMarker(image, 'del-newXline', 7, 0x0a);
  assert.equal(runCli(caseDir, ['image', 'scan', image]).code, 0);
  const inexact = "last name as fls printed it: '^' stands for a control byte, not the exact bytes";
  assert.deepEqual(csvFindings(caseDir).map((finding) => [finding['inode'], finding['path'], finding['path_b64'], finding['note']]), [
    ['12', 'del-new^line', '', inexact],
    ['13', 'del-caret^real', '', inexact],
    ['14', 'plain', Buffer.from('plain').toString('base64'), ''],
  ]);
  const html = runCli(caseDir, ['report', '--format', 'html', '--out', '-']);
  assert.equal(html.code, 0, html.stderr);
  // The rows are JSON in the page, rendered with textContent: the note is there for both inexact names.
  assert.equal(html.stdout.split(JSON.stringify(inexact)).length - 1, 2);
  // mactime shows only the bodyfile's name: it says so there too.
  const body = runCli(caseDir, ['report', '--format', 'bodyfile', '--out', '-']);
  assert.equal(body.code, 0, body.stderr);
  assert.deepEqual(body.stdout.trimEnd().split('\n').map((line) => line.split('|').slice(1, 3)), [
    [`/del-new^line (deleted: deleted in ${image} at sector 0; name as fls printed it, '^' for a control byte)`, '12'],
    [`/del-caret^real (deleted: deleted in ${image} at sector 0; name as fls printed it, '^' for a control byte)`, '13'],
    [`/plain (deleted: deleted in ${image} at sector 0)`, '14'],
  ]);
});

test('CSV and HTML: an image inode carries its scan\'s note (all holes) before and after its copy, said once, and why its scan was partial (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'scannote');
  const data = crypto.randomBytes(30_000);
  // Our own image: orphans 12 (data) and 13 (no block, given a size: all holes), chained 12 -> 13.
  const image = debugfsBuilt(dir, ['mkfs.ext4'], { data, holes: Buffer.alloc(0) },
    'unlink data\nunlink holes\nsif <12> links_count 0\nsif <13> links_count 0\nsif <13> size 40960\nsif <12> dtime 13\nssv last_orphan 12\n');
  assert.equal(runCli(caseDir, ['image', 'scan', image]).code, 0);
  const holes = /^points at no data block: all holes; its 40960 bytes are zeros as the file system reads them: /;
  const notes = (): Array<[string | undefined, string | undefined, string | undefined]> =>
    csvFindings(caseDir).filter((finding) => finding['finding'] === 'image').map((finding) => [finding['inode'], finding['status'], finding['note']]);
  const before = notes();
  assert.deepEqual(before.map(([inode, status]) => [inode, status]), [['12', 'not copied'], ['13', 'not copied']]);
  assert.equal(before[0]?.[2], '');
  assert.match(before[1]?.[2] ?? '', holes);
  const html = runCli(caseDir, ['report', '--format', 'html', '--out', '-']);
  assert.ok(html.stdout.includes('points at no data block: all holes'), 'the HTML rows carry the note');
  assert.equal(runCli(caseDir, ['image', 'extract', image, '--all']).code, 0);
  const after = notes();
  assert.deepEqual(after.map(([inode, status]) => [inode, status]), [['12', 'complete'], ['13', 'complete']]);
  assert.equal(after[1]?.[2], before[1]?.[2], 'said once: the copy\'s note is the scan\'s');
  // A scan that saw its file system only in part (a superblock's inode count past what the image holds: cut short) says so on each row.
  const cut = path.join(dir, 'cut.img');
  fs.copyFileSync(image, cut);
  fs.truncateSync(cut, fs.statSync(image).size / 2);
  const partial = runCli(caseDir, ['image', 'scan', cut]);
  assert.equal(partial.code, 3, partial.stderr);
  const cutRows = csvFindings(caseDir).filter((finding) => finding['image'] === cut);
  assert.ok(cutRows.length > 0, 'the cut image has rows');
  for (const row of cutRows) assert.match(row['note'] ?? '', /the scan of the file system at sector 0 is partial \(inodes may be missing from its list, or not fully described\)/);
});

test('CSV and HTML: an inode extracted by its number with no scan of the image is a finding with its copy; the bodyfile leaves it out (no times) (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'unlisted');
  const content = crypto.randomBytes(5000);
  // A live file (not deleted): no scan lists it; `image extract --inode` copies it (a second copy of a live item, say).
  const image = debugfsBuilt(dir, ['mkfs.ext4'], { alive: content }, '');
  const extracted = runCli(caseDir, ['image', 'extract', image, '--inode', '12', '--json']);
  assert.equal(extracted.code, 0, extracted.stderr);
  const rows = csvFindings(caseDir).filter((finding) => finding['finding'] === 'image');
  assert.deepEqual(rows.map((finding) => [finding['kind'], finding['inode'], finding['path'], finding['status'], finding['sha256'], finding['bytes'], finding['output'], finding['image'], finding['offset_sectors']]), [
    ['extracted', '12', '<inode 12>', 'complete', sha256(content), '5000', 'extracted/built.img-0-12', image, '0'],
  ]);
  assert.equal(rows[0]?.['note'], "inode 12 still has 1 link(s): a live file, not an orphan; extracted by its number (image extract --inode) when no scan of the image as it was then listed it (id is the extraction's)");
  // No scan of the image at all: no scan to name.
  assert.deepEqual(['image_id', 'image_sha256', 'image_scanned_at'].map((column) => rows[0]?.[column]), ['', '', '']);
  const copies = (JSON.parse(runCli(caseDir, ['report', '--format', 'json', '--out', '-']).stdout) as { extracted: Array<Record<string, unknown>> }).extracted;
  assert.deepEqual(copies.map((copy) => [copy['inode'], copy['image_id'], copy['image_sha256'], copy['image_scanned_at'], copy['image_inode_id']]), [[12, null, null, null, null]]);
  const html = runCli(caseDir, ['report', '--format', 'html', '--out', '-']);
  assert.equal(html.code, 0, html.stderr);
  assert.ok(html.stdout.includes(JSON.stringify(sha256(content))), 'the HTML rows carry the copy');
  const body = path.join(dir, 'body.txt');
  assert.equal(runCli(caseDir, ['report', '--format', 'bodyfile', '--out', body]).code, 0);
  assert.equal(fs.readFileSync(body, 'utf8'), '', 'no timeline entry without times');
});

test('CSV and HTML: every row has a key of its own (key, data-id), also an inode extracted by number whose extraction id is an image inode\'s id', (t) => {
  // Extraction 2 copied inode 11 by its number (no scan listed it); image inode 2 is inode 300: both are finding "image", id 2.
  const dir = reportCase(t, (db) => db.exec(`INSERT INTO extractions (id, image_inode_id, image, offset_sectors, inode, output, bytes, sha256, complete, method, started_at)
    VALUES (2, NULL, '/evidence/img1.dd', 0, 11, NULL, 0, NULL, 0, NULL, '2026-11-24T12:00:00Z')`));
  const records = readCsv(runCli(dir, ['report', '--format', 'csv', '--out', '-']).stdout);
  const header = records[0] ?? [];
  const column = (name: string): number => header.indexOf(name);
  const rows = records.slice(1);
  assert.deepEqual(rows.filter((row) => row[column('id')] === '2' && row[column('finding')] === 'image').map((row) => [row[column('kind')], row[column('inode')], row[column('key')]]), [
    ['deleted', '300', 'image-2'], ['extracted', '11', 'extraction-2'],
  ]);
  const keys = rows.map((row) => row[column('key')] ?? '');
  assert.deepEqual([keys.length, new Set(keys).size], [REPORT_CASE_FINDINGS + 1, REPORT_CASE_FINDINGS + 1]);
  assert.deepEqual(keys.filter((key) => key.startsWith('live-')).sort(), Array.from({ length: 9 }, (_, index) => `live-${index + 1}`));
  assert.equal(runCli(dir, ['report', '--format', 'html']).code, 0);
  const ids = [...dumpDom(path.join(dir, 'reports', 'report.html')).dom.matchAll(/data-id="([^"]*)"/g)].map((match) => match[1]);
  assert.deepEqual([...ids].sort(), [...keys].sort(), 'the HTML rows carry the same keys, each once');
});

test('a moved case: outputs under recovered/ and extracted/ point into the case where it is now', (t) => {
  const before = makeTempDir('report-moved');
  const kase = buildReportCase(before);
  kase.db.prepare(`INSERT INTO recoveries (item_id, output, bytes, sha256, complete, started_at, finished_at) VALUES (3, '/srv/elsewhere/3.bin', 3, ?, 1, 'x', 'x')`).run('d'.repeat(64));
  kase.close();
  const dir = `${before}-now`;
  fs.renameSync(before, dir);
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const records = readCsv(runCli(dir, ['report', '--format', 'csv', '--out', '-']).stdout);
  const output = (records[0] ?? []).indexOf('output');
  const outputs = Object.fromEntries(records.slice(1).map((record) => [`${record[0]}-${record[1]}`, record[output]]));
  assert.equal(outputs['live-1'], 'recovered/1-4242-fd3-x.log');
  assert.equal(outputs['live-2'], 'recovered/2-4242-map-y');
  assert.equal(outputs['live-3'], path.relative(dir, '/srv/elsewhere/3.bin'), 'a path outside recovered/ is kept');
  assert.equal(outputs['image-1'], 'extracted/web01.dd-2048-100');
  const document = JSON.parse(runCli(dir, ['report', '--format', 'json', '--out', '-']).stdout) as Record<string, Array<Record<string, unknown>>>;
  assert.deepEqual(document['recovered']?.map((row) => row['output']), [path.join(dir, 'recovered', '1-4242-fd3-x.log'), path.join(dir, 'recovered', '2-4242-map-y'), '/srv/elsewhere/3.bin']);
  assert.deepEqual(document['extracted']?.map((row) => row['output']), [path.join(dir, 'extracted', 'web01.dd-2048-100')]);
});

test('JSON: one document with the records of CONTRACT.md', (t) => {
  const dir = reportCase(t);
  const result = runCli(dir, ['report', '--format', 'json', '--out', '-']);
  const document = JSON.parse(result.stdout) as Record<string, Array<Record<string, unknown>>>;
  assert.equal(document['items']?.length, 9);
  // The keys of list --json (in its order), then what the CSV has of each item besides.
  assert.deepEqual(Object.keys(document['items']?.[0] ?? {}), [
    'id', 'snapshot_id', 'pid', 'start_time', 'comm', 'exe', 'kind', 'fd', 'path', 'path_b64', 'dev', 'inode', 'size', 'nlink', 'mount_point', 'fs_type', 'fs_uuid', 'source', 'map_range', 'lsof_note', 'thread_of', 'lease', 'lease_pid', 'process_flags',
    'mode', 'uid', 'gid', 'atime', 'mtime', 'ctime', 'crtime', 'cmdline', 'cmdline_b64',
  ]);
  assert.deepEqual(document['items']?.find((item) => item['id'] === 9)?.['source'], ['lsof']);
  assert.equal(document['image_inodes']?.length, 2);
  assert.equal(document['recovered']?.length, 2);
  assert.equal(document['extracted']?.[0]?.['method'], 'icat');
  assert.deepEqual(Object.keys(document['extracted']?.[0] ?? {}), [
    'image', 'offset_sectors', 'inode', 'output', 'bytes', 'sha256', 'complete', 'method', 'note', 'live_item_id', 'live_sha256_match', 'scan_note', 'image_b64',
    'image_id', 'image_sha256', 'image_scanned_at', 'image_inode_id',
  ]);
  assert.deepEqual(['image_id', 'image_sha256', 'image_scanned_at', 'image_inode_id'].map((key) => document['extracted']?.[0]?.[key]), [1, 'c'.repeat(64), '2026-11-24T11:00:00Z', 1]);
  assert.deepEqual(document['snapshots']?.map((snapshot) => snapshot['warnings']), document['snapshots']?.map(() => []), 'warnings: an array, not JSON text');
  assert.deepEqual(document['commands']?.[0]?.['argv'], ['+L1', '-n', '-P']);
  // What was scanned, its hash and when: the evidence's own record.
  assert.deepEqual(document['images'], [{
    id: 1, path: '/evidence/web01.dd', is_device: false, path_b64: Buffer.from('/evidence/web01.dd').toString('base64'), size: 67108864, sha256: 'c'.repeat(64), sha256_after: null, unchanged_after: null, mtime_ns: null, ctime_ns: null,
    scanned_at: '2026-11-24T11:00:00Z', partition_table: null,
    filesystems: [{
      offset_sectors: 2048, fs_type: 'ext4', fs_uuid: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', label: null, last_mounted_at: null, last_mount_point: null, block_size: null, inode_count: null,
      orphan_file: false, last_orphan: null, partial: null, device: null, error: null,
    }],
  }]);
  const html = runCli(dir, ['report', '--format', 'html', '--out', '-']).stdout;
  assert.ok(html.includes(`<ul class="images"><li><span class="path">/evidence/web01.dd</span>, 67108864 bytes, scanned 2026-11-24T11:00:00Z, sha256 <span class="hash">${'c'.repeat(64)}</span></li></ul>`));
});

test('JSON: an image\'s mtime_ns and ctime_ns are exact integers, not strings (past 2^53, as inodes and sizes)', (t) => {
  const dir = reportCase(t, (db) => db.prepare(`UPDATE images SET mtime_ns = '1796439828019257151', ctime_ns = '-1000000001' WHERE id = 1`).run());
  const text = runCli(dir, ['report', '--format', 'json', '--out', '-']).stdout;
  assert.ok(text.includes('"mtime_ns":1796439828019257151,"ctime_ns":-1000000001,'), 'written as the digits, unquoted');
  const images = (JSON.parse(text) as { images: Array<Record<string, unknown>> }).images;
  assert.deepEqual([typeof images[0]?.['mtime_ns'], typeof images[0]?.['ctime_ns']], ['number', 'number']);
});

test('JSON: image inodes carry the name fls found (display form and bytes) and crtime', (t) => {
  const name = Buffer.from('/var/tmp/old\n.log');
  const dir = reportCase(t, (db) => db.prepare(`UPDATE image_inodes SET last_name = ?, last_name_exact = 0, crtime = 1795399000 WHERE id = 2`).run(name));
  const document = JSON.parse(runCli(dir, ['report', '--format', 'json', '--out', '-']).stdout) as Record<string, Array<Record<string, unknown>>>;
  assert.deepEqual(document['image_inodes'], [
    {
      id: 1, image: '/evidence/web01.dd', offset_sectors: 2048, fs_type: 'ext4', fs_uuid: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', inode: 100, size: 1000, mode: 33188, uid: 0, gid: 0,
      atime: 1795500000, mtime: 1795500100, ctime: 1795500200, dtime: null, state: 'orphan', recoverable: true, found_by: 'ils', last_name: null, last_name_b64: null, crtime: null,
      last_name_exact: null, live: [{ item_id: 1, pid: 4242, comm: 'nginx', fd: 3, snapshot_id: 1, kind: 'fd' }], live_ambiguous: false, live_ambiguous_why: [], scan_note: null, note: null,
      image_b64: Buffer.from('/evidence/web01.dd').toString('base64'), image_id: 1, image_sha256: 'c'.repeat(64), image_scanned_at: '2026-11-24T11:00:00Z',
    },
    {
      id: 2, image: '/evidence/web01.dd', offset_sectors: 2048, fs_type: 'ext4', fs_uuid: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', inode: 300, size: 2048, mode: 33188, uid: 1000, gid: 1000,
      atime: 1795400000, mtime: 1795400100, ctime: 1795400200, dtime: 1795400300, state: 'deleted', recoverable: false, found_by: 'ils',
      last_name: '/var/tmp/old\\x0a.log', last_name_b64: name.toString('base64'), crtime: 1795399000, last_name_exact: false, live: [], live_ambiguous: false, live_ambiguous_why: [], scan_note: null, note: null,
      image_b64: Buffer.from('/evidence/web01.dd').toString('base64'), image_id: 1, image_sha256: 'c'.repeat(64), image_scanned_at: '2026-11-24T11:00:00Z',
    },
  ]);
});

test('JSON: the image inodes and the copies of a file system its scan saw only in part say why (scan_note), as image scan and extract --json do; cut past 1000 characters', (t) => {
  const warnings = Array.from({ length: 40 }, (_, index) => `inode ${1000 + index}: its times are The Sleuth Kit's, which ignores ext4's epoch bits: not kept`);
  const dir = reportCase(t, (db) => db.prepare(`UPDATE image_filesystems SET partial = 1, error = ? WHERE id = 1`).run(warnings.join('; ')));
  const document = JSON.parse(runCli(dir, ['report', '--format', 'json', '--out', '-']).stdout) as Record<string, Array<Record<string, unknown>>>;
  const lead = 'the scan of the file system at sector 2048 is partial (inodes may be missing from its list, or not fully described)';
  // As many whole warnings as fit in 1000 characters, then where the rest is.
  const kept = warnings.slice(0, Math.floor(1002 / ((warnings[0]?.length ?? 0) + 2))).join('; ');
  const note = `${lead}: ${kept}; ... (all of it in image_filesystems.error)`;
  assert.ok(kept.length <= 1000 && kept.length + 2 + (warnings[0]?.length ?? 0) > 1000, `${kept.length}`);
  assert.deepEqual(document['image_inodes']?.map((inode) => [inode['inode'], inode['scan_note']]), [[100, note], [300, note]]);
  assert.deepEqual(document['extracted']?.map((copy) => [copy['inode'], copy['scan_note']]), [[100, note]]);
});

test('JSON: an image path with a newline, a backslash and U+202E is in one form wherever it is (images[].path, image_inodes[].image, extracted[].image: the display form), its bytes beside it (path_b64, image_b64)', (t) => {
  const odd = '/evidence/web\n01\\\u202e.dd';
  const dir = reportCase(t, (db) => {
    db.prepare(`UPDATE images SET path = ? WHERE id = 1`).run(odd);
    db.prepare(`UPDATE extractions SET image = ?`).run(odd);
  });
  const document = JSON.parse(runCli(dir, ['report', '--format', 'json', '--out', '-']).stdout) as Record<string, Array<Record<string, unknown>>>;
  const display = '/evidence/web\\x0a01\\x5c\\xe2\\x80\\xae.dd';
  const bytes = Buffer.from(odd, 'utf8').toString('base64');
  assert.deepEqual(document['images']?.map((image) => [image['path'], image['path_b64']]), [[display, bytes]]);
  assert.deepEqual(document['image_inodes']?.map((inode) => [inode['inode'], inode['image'], inode['image_b64']]), [[100, display, bytes], [300, display, bytes]]);
  assert.deepEqual(document['extracted']?.map((copy) => [copy['inode'], copy['image'], copy['image_b64']]), [[100, display, bytes]]);
});

test('an ambiguous match of an image inode with live items is said in held_by (the row CSV and HTML show) and in the JSON report', (t) => {
  // The orphan that matches the live item is larger in the image than the file was at snapshot time.
  const dir = reportCase(t, (db) => db.prepare(`UPDATE image_inodes SET size = 5000 WHERE id = 1`).run());
  const csv = readCsv(runCli(dir, ['report', '--format', 'csv', '--out', '-']).stdout);
  const header = csv[0] ?? [];
  const heldBy = csv.filter((row) => row[0] === 'image').map((row) => row[header.indexOf('held_by')]);
  assert.deepEqual(heldBy, ['pid 4242 (nginx) fd 3 in snapshot 1 (ambiguous: size 5000 in the image, 1000 at snapshot time: changed since, or another file on a reused inode)', '']);
  const document = JSON.parse(runCli(dir, ['report', '--format', 'json', '--out', '-']).stdout) as Record<string, Array<Record<string, unknown>>>;
  assert.deepEqual(document['image_inodes']?.map((inode) => [inode['live_ambiguous'], inode['live_ambiguous_why']]), [
    [true, ['size 5000 in the image, 1000 at snapshot time: changed since, or another file on a reused inode']], [false, []],
  ]);
});

test('a report of a case that does not exist is one line and exit 1, and creates nothing (a mistyped --case must not give an empty report)', (t) => {
  const dir = makeTempDir('report-nocase');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const caseDir = path.join(dir, 'typo');
  for (const format of ['csv', 'html', 'json', 'bodyfile']) {
    const result = runCli(caseDir, ['report', '--format', format]);
    assert.deepEqual([result.code, result.stdout, result.stderr.split('\n').length], [1, '', 2]);
    assert.match(result.stderr, /^unlinked: no case database at /);
  }
  assert.equal(runCli(dir, ['report', '--format', 'csv', '--out', '-']).code, 1);
  assert.deepEqual([fs.existsSync(caseDir), fs.readdirSync(dir)], [false, []]);
});

test('an empty case reports that it is empty, without failing', (t) => {
  const dir = makeTempDir('report-empty');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  openCase(dir, { create: true }).close();
  assert.equal(runCli(dir, ['report', '--format', 'html']).code, 0);
  assert.match(fs.readFileSync(path.join(dir, 'reports', 'report.html'), 'utf8'), /This case holds no findings yet/);
  const csv = runCli(dir, ['report', '--format', 'csv', '--out', '-']);
  assert.equal(csv.stdout.trim().split('\r\n').length, 1);
});

test('a report named as a directory, or under a file, is one line and exit 1, and nothing is written beside it', (t) => {
  const dir = makeTempDir('report-out');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const caseDir = path.join(dir, 'case');
  openCase(caseDir, { create: true }).close();
  const asDirectory = runCli(caseDir, ['report', '--format', 'csv', '--out', dir]);
  assert.deepEqual([asDirectory.code, asDirectory.stderr], [1, `unlinked: ${dir} is a directory: name the report's file (--out FILE, or - for stdout)\n`]);
  assert.deepEqual(fs.readdirSync(path.dirname(dir)).filter((name) => name.startsWith(`${path.basename(dir)}.partial`)), []);
  fs.writeFileSync(path.join(dir, 'plain'), '');
  const underFile = runCli(caseDir, ['report', '--format', 'csv', '--out', path.join(dir, 'plain', 'r.csv')]);
  assert.deepEqual([underFile.code, underFile.stderr], [1, `unlinked: cannot write a report at ${path.join(dir, 'plain', 'r.csv')}: ENOTDIR\n`]);
});

test('a report never replaces the case database, a recovered or extracted copy, an image the case scanned, an lsof capture (imported or kept), or a device', (t) => {
  const dir = makeTempDir('report-evidence');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const caseDir = path.join(dir, 'case');
  const image = path.join(dir, 'evidence.img');
  fs.writeFileSync(image, '');
  fs.truncateSync(image, 8 << 20);
  execFileSync('mkfs.ext4', ['-q', '-F', image]);
  assert.equal(runCli(caseDir, ['image', 'scan', image]).code, 0);
  const imageBytes = fs.readFileSync(image);
  fs.mkdirSync(path.join(caseDir, 'extracted'), { recursive: true });
  fs.writeFileSync(path.join(caseDir, 'extracted', 'copy'), 'evidence copy');
  // An lsof capture imported: the file it came from and the case's copy of it.
  const capture = path.join(dir, 'capture.F0');
  fs.writeFileSync(capture, 'p4242\0c/bin/x\0\nf3\0tREG\0D0x803\0s10\0i77\0k0\0n/var/log/x (deleted)\0\n');
  assert.equal(runCli(caseDir, ['lsof', 'import', capture]).code, 0);
  const [kept] = fs.readdirSync(path.join(caseDir, 'lsof'));
  const captureBytes = fs.readFileSync(capture);
  // The same places named another way: through a symbolic link to the folder, with '..'.
  fs.symlinkSync(caseDir, path.join(dir, 'link'));
  const refusals: Array<[string, string]> = [
    [path.join(caseDir, 'case.sqlite'), 'the case database'],
    [path.join(dir, 'link', 'case.sqlite-wal'), 'the case database'],
    [path.join(caseDir, 'extracted', 'copy'), `in ${path.join(caseDir, 'extracted')} (an extracted copy's folder)`],
    [path.join(caseDir, 'recovered', 'new.csv'), `in ${path.join(caseDir, 'recovered')} (a recovered copy's folder)`],
    [path.join(caseDir, '..', 'evidence.img'), `the image ${image} this case scanned (evidence)`],
    [path.join(caseDir, 'lsof', kept ?? ''), `in ${path.join(caseDir, 'lsof')} (an lsof capture's folder)`],
    [capture, `the lsof capture ${capture} this case imported (evidence)`],
  ];
  for (const [out, what] of refusals) {
    const refused = runCli(caseDir, ['report', '--format', 'csv', '--out', out]);
    assert.deepEqual([refused.code, refused.stderr], [1, `unlinked: ${path.resolve(out)} is ${what}: a report never replaces it; name another file (--out FILE)\n`]);
  }
  const device = runCli(caseDir, ['report', '--format', 'csv', '--out', '/dev/null']);
  assert.deepEqual([device.code, device.stderr], [1, 'unlinked: /dev/null is not a regular file (a character device (a terminal, /dev/null)): a report never replaces one (--out - for stdout)\n']);
  // Named through a symbolic link, the evidence is what the report would replace: refused the same way, the link left as it is.
  fs.symlinkSync(image, path.join(dir, 'to-image'));
  const linked = runCli(caseDir, ['report', '--format', 'csv', '--out', path.join(dir, 'to-image')]);
  assert.deepEqual([linked.code, linked.stderr], [1, `unlinked: ${path.join(dir, 'to-image')} is the image ${image} this case scanned (evidence): a report never replaces it; name another file (--out FILE)\n`]);
  assert.equal(fs.readlinkSync(path.join(dir, 'to-image')), image);
  // A folder that is not there is never made (a mistyped path, media not mounted: it would land on the disk examined).
  const missing = path.join(dir, 'usb-not-mounted', 'r.csv');
  const notThere = runCli(caseDir, ['report', '--format', 'csv', '--out', missing]);
  assert.deepEqual([notThere.code, notThere.stderr], [1, `unlinked: cannot write a report at ${missing}: the folder ${path.dirname(missing)} does not exist (or is not a folder); unlinked does not create it\n`]);
  assert.equal(fs.existsSync(path.dirname(missing)), false);
  // A folder no file can be made in (sysfs): one line about the report's path, not an internal error about a temporary file.
  const unwritable = runCli(caseDir, ['report', '--format', 'csv', '--out', '/sys/kernel/unlinked-report.csv']);
  assert.equal(unwritable.code, 1);
  assert.match(unwritable.stderr, /^unlinked: cannot write a report at \/sys\/kernel\/unlinked-report\.csv: (permission denied|a read-only file system) \(the report is written beside it first, as unlinked-report\.csv\.partial-\d+\)\n$/);
  assert.ok(fs.readFileSync(image).equals(imageBytes));
  assert.ok(fs.readFileSync(capture).equals(captureBytes));
  assert.equal(fs.readFileSync(path.join(caseDir, 'extracted', 'copy'), 'utf8'), 'evidence copy');
  // The case database is still one: the scan is in the report.
  assert.equal(runCli(caseDir, ['report', '--format', 'csv', '--out', path.join(dir, 'report.csv')]).code, 0);
  assert.match(fs.readFileSync(path.join(dir, 'report.csv'), 'utf8'), /^finding,/);
});

test('--out naming a symbolic link writes through it: the report replaces what it leads to, the link stays; one to a pipe or terminal (/dev/stdout) is refused with the hint --out -', (t) => {
  const dir = makeTempDir('report-link');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const caseDir = path.join(dir, 'case');
  openCase(caseDir, { create: true }).close();
  const header = 'finding,id,';
  // A link to an ordinary file: the file gets the report (written beside it, renamed over it), the link is left.
  const target = path.join(dir, 'target.csv');
  fs.writeFileSync(target, 'old');
  fs.symlinkSync('target.csv', path.join(dir, 'link.csv'));
  const through = runCli(caseDir, ['report', '--format', 'csv', '--out', path.join(dir, 'link.csv')]);
  assert.deepEqual([through.code, through.stderr], [0, `csv report: ${target} (--out ${path.join(dir, 'link.csv')} leads there)\n`]);
  assert.equal(fs.readlinkSync(path.join(dir, 'link.csv')), 'target.csv');
  assert.ok(fs.readFileSync(target, 'utf8').startsWith(header));
  // A dangling link: the report goes where it points when that folder is there; else the usual missing folder.
  fs.symlinkSync(path.join(dir, 'new.csv'), path.join(dir, 'dangling'));
  assert.equal(runCli(caseDir, ['report', '--format', 'csv', '--out', path.join(dir, 'dangling')]).code, 0);
  assert.deepEqual([fs.lstatSync(path.join(dir, 'dangling')).isSymbolicLink(), fs.readFileSync(path.join(dir, 'new.csv'), 'utf8').startsWith(header)], [true, true]);
  fs.symlinkSync(path.join(dir, 'usb-not-mounted', 'r.csv'), path.join(dir, 'nowhere'));
  const missing = runCli(caseDir, ['report', '--format', 'csv', '--out', path.join(dir, 'nowhere')]);
  assert.deepEqual([missing.code, missing.stderr], [1, `unlinked: cannot write a report at ${path.join(dir, 'usb-not-mounted', 'r.csv')}: the folder ${path.join(dir, 'usb-not-mounted')} does not exist (or is not a folder); unlinked does not create it\n`]);
  // Links to stdout: here a socket or pipe (runCli reads it). Refused, nothing written, no link replaced.
  fs.symlinkSync('/proc/self/fd/1', path.join(dir, 'mystdout'));
  for (const out of [path.join(dir, 'mystdout'), '/dev/stdout', '/proc/self/fd/1']) {
    const refused = runCli(caseDir, ['report', '--format', 'csv', '--out', out]);
    assert.equal(refused.code, 1, out);
    assert.equal(refused.stdout, '', out);
    assert.match(refused.stderr, new RegExp(`^unlinked: ${out} is not a regular file \\(a symbolic link to /proc/\\d+/fd/1, (?:a FIFO \\(pipe\\)|a socket)\\): a report never replaces one \\(--out - for stdout\\)\n$`), out);
  }
  assert.deepEqual([fs.readlinkSync(path.join(dir, 'mystdout')), fs.readlinkSync('/dev/stdout')], ['/proc/self/fd/1', '/proc/self/fd/1']);
  // stdout a regular file (a shell's redirection): still no write through /proc, which would delete the file under the shell.
  const redirected = path.join(dir, 'redirected.csv');
  const fd = fs.openSync(redirected, 'w');
  try {
    const result = spawnSync(process.execPath, [cliPath, '--case', caseDir, 'report', '--format', 'csv', '--out', '/dev/stdout'],
      { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^unlinked: \/dev\/stdout leads to \/proc\/\d+\/fd\/1, a \/proc link to a file of a process: a report never replaces a file through one \(renamed over, a file a process holds would be deleted under it\); name the file itself \(--out - for stdout\)\n$/);
  } finally {
    fs.closeSync(fd);
  }
  assert.deepEqual(fs.readdirSync(dir).sort(), ['case', 'dangling', 'link.csv', 'mystdout', 'new.csv', 'nowhere', 'redirected.csv', 'target.csv']);
});

test('a case on read-only media is listed and reported from memory; a default report path there, or a write, is one line (root)', (t) => {
  const dir = makeTempDir('report-ro');
  const caseDir = path.join(dir, 'case');
  const archived = path.join(dir, 'archived');
  fs.mkdirSync(archived);
  buildReportCase(caseDir).close();
  const before = fs.readFileSync(path.join(caseDir, 'case.sqlite'));
  // The same folder, write-protected: a read-only bind mount.
  execFileSync('mount', ['--bind', caseDir, archived]);
  t.after(() => {
    if (fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${archived} `)) execFileSync('umount', [archived]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  execFileSync('mount', ['-o', 'remount,bind,ro', archived]);
  const writable = runCli(caseDir, ['report', '--format', 'csv', '--out', '-']);
  const readOnly = runCli(archived, ['report', '--format', 'csv', '--out', '-']);
  assert.equal(readOnly.code, 0, readOnly.stderr);
  assert.equal(readOnly.stdout, writable.stdout.split(caseDir).join(archived), 'the same rows, read from memory');
  assert.equal(runCli(archived, ['list', '--json']).code, 0);
  const noPath = runCli(archived, ['report', '--format', 'html']);
  assert.deepEqual([noPath.code, noPath.stderr], [1, `unlinked: the case database ${archived}/case.sqlite is on read-only media: name where the report goes (--out FILE, or - for stdout)\n`]);
  assert.equal(runCli(archived, ['snapshot', '--no-lsof', '--pid', String(process.pid)]).code, 1);
  assert.ok(fs.readFileSync(path.join(caseDir, 'case.sqlite')).equals(before), 'the archived database is unchanged');
});

test('a case an older unlinked made (schema 7), on read-only media, is brought up to date in memory and reported; one of a newer schema is refused (root)', (t) => {
  const dir = makeTempDir('report-ro-old');
  const caseDir = path.join(dir, 'case');
  const archived = path.join(dir, 'archived');
  fs.mkdirSync(archived);
  buildReportCase(caseDir).close();
  const expected = runCli(caseDir, ['report', '--format', 'csv', '--out', '-']).stdout;
  // What schema 7 was: migrations 8, 9, 11, 12 and 13 added image_filesystems.partial and device, image_inodes.note and last_name_type, and extractions.image_id
  // and the image's stamp (14 only lets commands.finished_at be NULL); 15 added items.lease and lease_pid, 16 items.upper_dev and upper_fs_uuid, and the view deleted_items with them (schema 7's view made again); 17 indexes (dropped first).
  const db = new Database(path.join(caseDir, 'case.sqlite'));
  const view7 = MIGRATIONS.find((migration) => migration.version === 7)?.sql ?? '';
  db.exec(`DROP INDEX lsof_files_item; DROP INDEX parse_warnings_snapshot; DROP INDEX image_filesystems_image; DROP INDEX extractions_image; DROP INDEX extractions_live_item; DROP INDEX extractions_image_inode;
    ALTER TABLE image_filesystems DROP COLUMN partial; ALTER TABLE image_filesystems DROP COLUMN device; ALTER TABLE image_inodes DROP COLUMN note;
    ALTER TABLE image_inodes DROP COLUMN last_name_type; ALTER TABLE extractions DROP COLUMN image_id; ALTER TABLE extractions DROP COLUMN image_size;
    ALTER TABLE extractions DROP COLUMN image_mtime_ns; ALTER TABLE extractions DROP COLUMN image_ctime_ns;
    DROP VIEW deleted_items; ALTER TABLE items DROP COLUMN lease; ALTER TABLE items DROP COLUMN lease_pid;
    ALTER TABLE items DROP COLUMN upper_dev; ALTER TABLE items DROP COLUMN upper_fs_uuid; ALTER TABLE commands DROP COLUMN requests; ${view7.slice(view7.indexOf('CREATE VIEW'))}`);
  db.pragma('user_version = 7');
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  execFileSync('mount', ['--bind', caseDir, archived]);
  t.after(() => {
    if (fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${archived} `)) execFileSync('umount', [archived]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  execFileSync('mount', ['-o', 'remount,bind,ro', archived]);
  const before = fs.readFileSync(path.join(caseDir, 'case.sqlite'));
  const old = runCli(archived, ['report', '--format', 'csv', '--out', '-']);
  assert.equal(old.code, 0, old.stderr);
  assert.equal(old.stdout, expected.split(caseDir).join(archived));
  // Migration 12 names the scan of an extraction made before it through its image inode.
  const oldJson = JSON.parse(runCli(archived, ['report', '--format', 'json', '--out', '-']).stdout) as { extracted: Array<Record<string, unknown>> };
  assert.deepEqual(oldJson.extracted.map((copy) => [copy['image_inode_id'], copy['image_id'], copy['image_sha256']]), [[1, 1, 'c'.repeat(64)]]);
  assert.ok(fs.readFileSync(path.join(caseDir, 'case.sqlite')).equals(before), 'the archived database is unchanged');
  execFileSync('mount', ['-o', 'remount,bind,rw', archived]);
  const newer = new Database(path.join(caseDir, 'case.sqlite'));
  newer.pragma('user_version = 99');
  newer.pragma('wal_checkpoint(TRUNCATE)');
  newer.close();
  execFileSync('mount', ['-o', 'remount,bind,ro', archived]);
  const refused = runCli(archived, ['report', '--format', 'csv', '--out', '-']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, new RegExp(`is on read-only media and its schema \\(version 99\\) is newer than this unlinked's \\(${MIGRATIONS.at(-1)?.version ?? 0}\\)`));
});

function chromium(): string {
  const binary = findProgram('chromium');
  if (binary === null) throw new Error('chromium is not installed: apt-get install chromium (npm test installs it when run as root)');
  return binary;
}

function dumpDom(file: string, fragment = ''): { dom: string; stderr: string } {
  const profile = fs.mkdtempSync('/tmp/unlinked-chromium-');
  try {
    const result = spawnSync(
      chromium(),
      [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--enable-logging=stderr', '--v=0',
        '--virtual-time-budget=5000', '--dump-dom', `file://${file}${fragment}`,
      ],
      { encoding: 'utf8', timeout: 90_000 },
    );
    return { dom: result.stdout, stderr: result.stderr };
  } finally {
    // Its helper processes may still be writing there a moment after it exits (under load, seconds): tried again.
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 50, retryDelay: 100 });
  }
}

/**
 * A page of headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe:
 * commands on fd 3, answers on fd 4, each JSON ended by a NUL), for what --dump-dom cannot do: change
 * the fragment of a page already open, go back. `evaluate` runs an expression in the page and returns its value.
 */
async function openPage(url: string): Promise<{ evaluate: (expression: string) => Promise<unknown>; close: () => Promise<void> }> {
  const profile = fs.mkdtempSync('/tmp/unlinked-chromium-');
  const browser = spawn(chromium(), ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'], detached: true });
  const toBrowser = browser.stdio[3] as NodeJS.WritableStream;
  const fromBrowser = browser.stdio[4] as NodeJS.ReadableStream;
  const waiting = new Map<number, { resolve: (value: Record<string, unknown>) => void; reject: (error: Error) => void }>();
  let pending = '';
  fromBrowser.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    for (let end = pending.indexOf('\0'); end >= 0; end = pending.indexOf('\0')) {
      const message = JSON.parse(pending.slice(0, end)) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
      pending = pending.slice(end + 1);
      const waiter = message.id === undefined ? undefined : waiting.get(message.id);
      if (waiter === undefined) continue;
      waiting.delete(message.id ?? 0);
      if (message.error !== undefined) waiter.reject(new Error(message.error.message));
      else waiter.resolve(message.result ?? {});
    }
  });
  let nextId = 1;
  const send = (method: string, params: Record<string, unknown>, sessionId?: string): Promise<Record<string, unknown>> => new Promise((resolve, reject) => {
    const id = nextId++;
    waiting.set(id, { resolve, reject });
    toBrowser.write(`${JSON.stringify({ id, method, params, ...(sessionId === undefined ? {} : { sessionId }) })}\0`);
  });
  const close = async (): Promise<void> => {
    if (browser.exitCode === null && browser.signalCode === null) {
      const exited = new Promise((resolve) => browser.once('exit', resolve));
      browser.kill('SIGTERM');
      await exited;
    }
    // Its helper processes (its own process group, started detached) may outlive it: ended too.
    try {
      if (browser.pid !== undefined) process.kill(-browser.pid, 'SIGKILL');
    } catch {
      // none left
    }
    // They may still be writing there a moment after (under load, seconds): tried again.
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 50, retryDelay: 100 });
  };
  try {
    const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true }) as { sessionId: string };
    const evaluate = async (expression: string): Promise<unknown> => {
      const { result, exceptionDetails } = await send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, sessionId) as { result: { value?: unknown }; exceptionDetails?: unknown };
      if (exceptionDetails !== undefined) throw new Error(`in the page: ${JSON.stringify(exceptionDetails)}`);
      return result.value;
    };
    await send('Page.navigate', { url }, sessionId);
    // Asked until the page has loaded (an evaluation while the old page is left may fail: asked again).
    const loaded = `document.readyState === "complete" && location.href === ${JSON.stringify(url)} && document.getElementById("pageinfo").textContent !== ""`;
    for (let tries = 0; (await evaluate(loaded).catch(() => false)) !== true; tries++) {
      if (tries > 400) throw new Error(`${url} did not load`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return { evaluate, close };
  } catch (error) {
    await close();
    throw error;
  }
}

test('HTML in headless Chromium: no network, no console error, all rows, sortable, canaries inert', (t) => {
  const dir = reportCase(t);
  assert.equal(runCli(dir, ['report', '--format', 'html']).code, 0);
  const file = path.join(dir, 'reports', 'report.html');
  const html = fs.readFileSync(file, 'utf8');
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; script-src &#39;sha256-/);
  assert.ok(!/<(?:link|img|iframe)\b/i.test(html.replace(/<script type="application\/json"[\s\S]*?<\/script>/, '')), 'no external resource tags');

  const { dom, stderr } = dumpDom(file);
  assert.ok(dom.includes('data-visible="11"'), 'the table counts every finding');
  assert.equal((dom.match(/<tr class="[a-z]*" data-id=/g) ?? []).length, REPORT_CASE_FINDINGS);
  assert.match(dom, /<title>unlinked report — web01<\/title>/, 'canaries did not change the title');
  const body = dom.slice(dom.indexOf('<tbody>'), dom.indexOf('</tbody>'));
  assert.ok(!/<img|<script/i.test(body), 'no element injected from a file name');
  assert.ok(body.includes('&lt;img src=x onerror="document.title=\'pwned\'"&gt;.log'), 'the name renders as text');
  assert.ok(body.includes('&lt;/script&gt;&lt;script&gt;document.title="pwned2"&lt;/script&gt;'));
  assert.ok(!/Refused to|Uncaught|CONSOLE.*error/i.test(stderr.split('\n').filter((line) => !/dbus|Fontconfig|gpu|GLES|viz|sandbox/i.test(line)).join('\n')), 'no CSP violation or script error');

  const sorted = dumpDom(file, '#sort=size-desc').dom;
  const ids = [...sorted.matchAll(/data-id="([a-z]+-\d+)"/g)].map((match) => match[1]);
  assert.deepEqual(ids.slice(0, 3), ['live-8', 'live-7', 'live-6'], 'largest first (8000, 7000, 6000 bytes)');
  const filtered = dumpDom(file, '#q=sshd').dom;
  assert.ok(filtered.includes('data-visible="1"'));
});

test('HTML links: a case path with # % ? and spaces is URL-encoded segment by segment', (t) => {
  const dir = reportCase(t, undefined, 'report #%? x');
  const outDir = makeTempDir('report-out');
  t.after(() => fs.rmSync(outDir, { recursive: true, force: true }));
  const file = path.join(outDir, 'report.html');
  assert.equal(runCli(dir, ['report', '--format', 'html', '--out', file]).code, 0);
  const href = /<a href="([^"]*)">1-4242-fd3-x\.log<\/a>/.exec(dumpDom(file).dom)?.[1];
  assert.equal(href, `../${path.basename(dir).replace('report #%? x', 'report%20%23%25%3F%20x')}/recovered/1-4242-fd3-x.log`);
  assert.equal(fileURLToPath(new URL(href ?? '', pathToFileURL(file))), path.join(dir, 'recovered', '1-4242-fd3-x.log'), 'the link leads to the copy');
  // On stdout the report's place is unknown: links are absolute, encoded the same way.
  const stdout = runCli(dir, ['report', '--format', 'html', '--out', '-']).stdout;
  assert.ok(stdout.includes(`"linkBase":"${pathToFileURL(dir).pathname}/"`), 'absolute link base, encoded');
});

test('HTML in headless Chromium: the fragment is the whole view: a key it leaves out goes back to its default, on a new fragment and on Back', async (t) => {
  const dir = reportCase(t);
  assert.equal(runCli(dir, ['report', '--format', 'html']).code, 0);
  const url = pathToFileURL(path.join(dir, 'reports', 'report.html')).href;
  const page = await openPage(`${url}#kind=fd&sort=size-desc`);
  t.after(() => page.close());
  // The view as the page shows it: the filter box, the kind box, how many rows, the sorted column, the first row.
  const view = (): Promise<unknown> => page.evaluate(`[document.getElementById("q").value, document.getElementById("kind").value, document.getElementById("findings").getAttribute("data-visible"),
    (document.querySelector("th.sorted-asc, th.sorted-desc") || {}).className || "", document.querySelector("tbody tr").getAttribute("data-id")]`);
  // A new fragment, once the page has reacted to it (hashchange).
  const go = (change: string): Promise<unknown> => page.evaluate(`new Promise(function (done) { window.addEventListener("hashchange", function () { setTimeout(done, 0); }, { once: true }); ${change}; })`);
  // Items of kind fd: 1, 6 and 9 (lsof only); the largest first (6000 bytes).
  assert.deepEqual(await view(), ['', 'fd', '3', 'sorted-desc', 'live-6']);
  await go('location.hash = "q=sshd"');
  assert.deepEqual(await view(), ['sshd', '', '1', '', 'live-9'], 'kind and sort left out: every kind, unsorted');
  // nginx: its 8 items and the image inode they held (held_by).
  await go('location.hash = "q=nginx"');
  assert.deepEqual(await view(), ['nginx', '', '9', '', 'live-3']);
  await go('history.back()');
  assert.deepEqual(await view(), ['sshd', '', '1', '', 'live-9']);
  await go('history.back()');
  assert.deepEqual(await view(), ['', 'fd', '3', 'sorted-desc', 'live-6'], 'Back restores the first view, its filter box emptied');
});

test('HTML fragment: a malformed escape is taken as typed, and a value may hold "="', (t) => {
  const dir = reportCase(t, (db) => {
    db.exec(`INSERT INTO items (id, snapshot_id, pid, kind, fd, path, nlink, in_proc, in_lsof) VALUES (10, 1, 900, 'fd', 3, CAST('/tmp/100%' AS BLOB), 0, 1, 0)`);
  });
  assert.equal(runCli(dir, ['report', '--format', 'html']).code, 0);
  const file = path.join(dir, 'reports', 'report.html');
  for (const [fragment, visible] of [['#q=100%', 1], ['#q=%', 1], ['#q==HYPERLINK', 1], ['#q=%3DHYPERLINK&kind=exe&sort=%', 1]] as const) {
    const { dom, stderr } = dumpDom(file, fragment);
    assert.ok(dom.includes(`data-visible="${visible}"`), `${fragment}: ${visible} row(s) shown`);
    assert.ok(!/Uncaught|Refused to/.test(stderr), `${fragment}: no script error, the CSP hash still matches`);
  }
});

test('a Ctrl-C while a report is written leaves no half report and no temporary file beside it', async (t) => {
  const dir = makeTempDir('report-sigint');
  const caseDir = path.join(dir, 'case');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  // 100,000 findings from an lsof capture: the HTML report takes a second or more to write.
  const capture = path.join(dir, 'big.F0.txt');
  writeLsofCapture(capture, 1_000_000);
  assert.equal(runCli(caseDir, ['lsof', 'import', capture, '-q']).code, 0);
  const reports = path.join(caseDir, 'reports');
  fs.mkdirSync(reports, { recursive: true });
  const report = startCli(caseDir, ['report', '--format', 'html']);
  for (let tries = 0; tries < 400 && !fs.readdirSync(reports).some((name) => name.includes('.partial-')); tries++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(fs.readdirSync(reports).some((name) => name.includes('.partial-')), 'caught while writing');
  report.child.kill('SIGINT');
  assert.equal(await report.exited, 1, report.stderr);
  assert.deepEqual(fs.readdirSync(reports), []);
});

test('a report killed (SIGKILL) while it is written leaves its temporary file, which the next report removes; one of a report still being written, or one the case names, stays', async (t) => {
  const dir = makeTempDir('report-sigkill');
  const caseDir = path.join(dir, 'case');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  // 100,000 findings from an lsof capture: the HTML report takes a second or more to write.
  const capture = path.join(dir, 'big.F0.txt');
  writeLsofCapture(capture, 1_000_000);
  assert.equal(runCli(caseDir, ['lsof', 'import', capture, '-q']).code, 0);
  const reports = path.join(caseDir, 'reports');
  fs.mkdirSync(reports, { recursive: true });
  const report = startCli(caseDir, ['report', '--format', 'html']);
  const partial = `report.html.partial-${report.child.pid}`;
  for (let tries = 0; tries < 400 && !(fs.statSync(path.join(reports, partial), { throwIfNoEntry: false })?.size ?? 0); tries++) await new Promise((resolve) => setTimeout(resolve, 5));
  report.child.kill('SIGKILL');
  await report.exited;
  assert.deepEqual(fs.readdirSync(reports), [partial], 'caught while writing');
  // One of an unlinked that runs (this test's process), and a capture the case imported that happens to have such a name.
  const running = `report.html.partial-${process.pid}`;
  fs.writeFileSync(path.join(reports, running), 'being written');
  const gone = spawnSync('true').pid;
  const imported = path.join(reports, `report.html.partial-${gone}`);
  fs.copyFileSync(path.join(fixturesDir, 'lsof', 'plain-L1.txt'), imported);
  assert.equal(runCli(caseDir, ['lsof', 'import', imported, '-q']).code, 0);
  const next = runCli(caseDir, ['report', '--format', 'html', '-q']);
  assert.equal(next.code, 0, next.stderr);
  assert.deepEqual(fs.readdirSync(reports).sort(), ['report.html', running, path.basename(imported)].sort());
});

test('CSV: a live item no copy was made of yet (a report before recover, as triage writes its first) says so in its note, not a bare "not copied"', (t) => {
  const dir = reportCase(t);
  const result = runCli(dir, ['report', '--format', 'csv', '--out', '-']);
  const [header = [], ...rows] = readCsv(result.stdout);
  const column = (name: string) => header.indexOf(name);
  const uncopied = rows.filter((row) => row[column('finding')] === 'live' && row[column('status')] === 'not copied' && row[column('sha256')] === '');
  assert.ok(uncopied.length > 0);
  for (const row of uncopied) {
    assert.match(row[column('note')] ?? '', /no copy made yet \(recover not run on it, or stopped before it: a report written before the copies, as triage writes its first\)|^not copied: /);
  }
  assert.ok(uncopied.some((row) => (row[column('note')] ?? '').includes('no copy made yet')));
});

test('a host name and an image path from outside (a bidi override, a newline, markup) are shown in the display form in HTML (commands run included), CSV and bodyfile, never raw', (t) => {
  const host = 'ev\u202eil.exe<b>';
  const image = '/evidence/ev|il\n=img\u202e.dd';
  const dir = reportCase(t, (db) => {
    db.prepare('UPDATE snapshots SET host = ?').run(host);
    db.prepare('UPDATE images SET path = ?').run(image);
    db.prepare('UPDATE commands SET argv = ?, error = ?').run(JSON.stringify(['-o', '0', image]), `cannot open ${image}`);
  });
  const shownHost = 'ev\\xe2\\x80\\xaeil.exe<b>';
  const shownImage = '/evidence/ev|il\\x0a=img\\xe2\\x80\\xae.dd';
  const html = runCli(dir, ['report', '--format', 'html', '--out', '-']).stdout;
  assert.ok(!html.includes('\u202e'), 'no raw bidi override in the HTML (title, host, snapshots, commands run)');
  // Quoted (a shell's single quotes, escaped for HTML), so where an argument ends stays visible.
  assert.ok(html.includes(`-o 0 &#39;${shownImage}&#39;`), 'the command\'s arguments in the display form, quoted');
  assert.ok(html.includes(`<title>unlinked report \u2014 ${shownHost.replace('<', '&#60;').replace('>', '&#62;')}</title>`), 'the title shows the escaped host');
  const csv = readCsv(runCli(dir, ['report', '--format', 'csv', '--out', '-']).stdout);
  const header = csv[0] ?? [];
  const hosts = new Set(csv.slice(1).map((record) => record[header.indexOf('host')]).filter((value) => value !== ''));
  const images = new Set(csv.slice(1).map((record) => record[header.indexOf('image')]).filter((value) => value !== ''));
  assert.deepEqual([[...hosts], [...images]], [[shownHost], [shownImage]]);
  const bodyfile = runCli(dir, ['report', '--format', 'bodyfile', '--out', '-']).stdout;
  assert.ok(bodyfile.includes(`in ${shownImage.replace('|', '\\x7c')} at sector`), 'the image path escaped once, its pipe as \\x7c');
  assert.ok(!bodyfile.includes('\\x5cx'), 'nothing escaped twice');
});

test('CSV and HTML name a live item\'s process by its executable and command line too, each argument quoted where needed, formulas escaped; its comm kworker/0:1 (prctl) is flagged as a kernel thread\'s name (root)', async (t) => {
  const script = String.raw`import ctypes, os, sys
ctypes.CDLL(None).prctl(15, b"kworker/0:1", 0, 0, 0)
fd = os.open(os.path.join(sys.argv[1], 'held'), os.O_CREAT | os.O_RDWR, 0o600)
os.unlink(os.path.join(sys.argv[1], 'held'))
print(os.getpid(), flush=True)
sys.stdin.read()`;
  const { dir, caseDir, pid } = await pythonHolder(t, 'report-cmdline', script, ['two words', "it's\nhere"]);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const records = pythonCsv(runCli(caseDir, ['report', '--format', 'csv', '--out', '-']).stdout);
  const header = records[0] ?? [];
  const row = records.find((record) => record[0] === 'live') ?? [];
  const cell = (column: string): string | undefined => row[header.indexOf(column)];
  assert.deepEqual(header.slice(-8), ['crtime', 'exe', 'cmdline', 'key', 'image_id', 'image_sha256', 'image_scanned_at', 'process_flags']);
  assert.equal(cell('comm'), 'kworker/0:1');
  assert.equal(cell('exe'), fs.readlinkSync(`/proc/${pid}/exe`));
  const argv0 = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
  assert.equal(cell('cmdline'), `${argv0} -c '${script.replace(/\\/g, '\\x5c').replace(/\n/g, '\\x0a').replace(/'/g, "'\\''")}' ${dir} 'two words' 'it'\\''s\\x0ahere'`);
  assert.equal(runCli(caseDir, ['report', '--format', 'html']).code, 0);
  const { dom } = dumpDom(path.join(caseDir, 'reports', 'report.html'));
  const shown = /<tr class="[a-z]*" data-id="live-1">([\s\S]*?)<\/tr>/.exec(dom)?.[1] ?? '';
  assert.ok(shown.includes(`<td class="proc">kworker/0:1<div class="note">${domText(cell('cmdline') ?? '')}</div><div class="note">exe ${cell('exe') ?? ''}</div><div class="flag">`), shown);
  // A kernel thread's name without brackets (prctl gives it; exec never gives a name with a '/') is flagged too.
  const ppid = Number(/^PPid:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  const why = `named like a kernel thread: comm is a kernel thread's name, yet it has an executable, a command line and parent PID ${ppid} (a kernel thread has no executable, an empty command line and kthreadd, PID 2, as its parent)`;
  assert.equal(cell('process_flags'), `kernel-thread-name: ${why}`);
  assert.ok(shown.includes(`<div class="flag"><span class="badge flag">named like a kernel thread</span> ${domText(why.slice('named like a kernel thread: '.length))}</div></td>`), shown);
});

test('a process named like a kernel thread ([kworker/0:1] as comm or argv[0]) that has an executable, a command line and a parent other than kthreadd is flagged, and one run from a memfd (fexecve) is said to be fileless, in list, CSV, JSON and HTML (escaped); brackets inside a name are no flag (root)', async (t) => {
  const dir = makeTempDir('report-flags');
  const caseDir = makeTempDir('report-flags-case', '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  // The interpreter itself, not a shim that runs it (pyenv's): argv[0] is set on the process that holds the file.
  const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  // Each holds a deleted file of its own, renames itself (prctl PR_SET_NAME) when told, prints its PID and waits.
  const holderScript = String.raw`import ctypes, os, sys
if sys.argv[2]:
    ctypes.CDLL(None).prctl(15, sys.argv[2].encode(), 0, 0, 0)
fd = os.open(os.path.join(sys.argv[1], sys.argv[3]), os.O_CREAT | os.O_RDWR, 0o600)
os.unlink(os.path.join(sys.argv[1], sys.argv[3]))
print(os.getpid(), flush=True)
sys.stdin.read()`;
  const holder = async (argv0: string, comm: string, name: string): Promise<number> => {
    const child = spawn(python, ['-c', holderScript, dir, comm, name], { argv0, stdio: ['pipe', 'pipe', 'inherit'] });
    t.after(() => killed(child).stop());
    return Number(await firstLine(child));
  };
  const both = await holder('[kworker/0:1]', '[kworker/0:1]', 'both');
  const argvOnly = await holder('[kthreadd]', '', 'argv');
  // 15 bytes at most: markup in a name must stay text in the page.
  const markup = await holder('python3', '[<script>x]', 'markup');
  // Decoys: brackets inside a name, not around it.
  const decoy = await holder('x[1]', 'my[worker]', 'decoy');
  // Fileless: /bin/sleep's bytes written into a memfd and run from it; one of them named like a kernel thread too.
  const fileless = (argv0: string): number => {
    const child = spawn(python, ['-c', `import os; fd = os.memfd_create('payload'); os.write(fd, open('/bin/sleep', 'rb').read()); os.execve(fd, [${JSON.stringify(argv0)}, '600'], {})`], { stdio: 'ignore' });
    t.after(() => killed(child).stop());
    return child.pid ?? assert.fail('spawned');
  };
  const payload = fileless('payload');
  const hidden = fileless('[kworker/u8:3]');
  for (const pid of [payload, hidden]) {
    for (let waited = 0; !tryOr(() => fs.readlinkSync(`/proc/${pid}/exe`), '').startsWith('/memfd:payload'); waited += 20) {
      assert.ok(waited < 5000, 'the payload never ran from its memfd');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  const pids = [both, argvOnly, markup, decoy, payload, hidden];
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '-q', ...pids.flatMap((pid) => ['--pid', String(pid)])]).code, 0);

  const parent = process.pid;
  const lead = 'named like a kernel thread: ';
  const fact = ' (a kernel thread has no executable, an empty command line and kthreadd, PID 2, as its parent)';
  const kernelThread = (named: string): { flag: string; why: string } => ({ flag: 'kernel-thread-name', why: `${lead}${named} in brackets, yet it has an executable, a command line and parent PID ${parent}${fact}` });
  const memfd = { flag: 'memfd-exe', why: 'runs from a memfd (fileless): its executable is a memfd, a file in memory only, on no file system (fexecve or execveat of a memfd)' };
  const expected = new Map<number, Array<{ flag: string; why: string }>>([
    [both, [kernelThread('comm and argv[0]')]], [argvOnly, [kernelThread('argv[0]')]], [markup, [kernelThread('comm')]], [decoy, []],
    [payload, [memfd]], [hidden, [kernelThread('argv[0]'), memfd]],
  ]);
  const sorted = [...pids].sort((a, b) => a - b);

  // list --json, and the JSON report's items: each item of a process carries its flags.
  const listed = JSON.parse(runCli(caseDir, ['list', '--json']).stdout) as Array<{ pid: number; kind: string; process_flags: unknown }>;
  assert.deepEqual(listed.map((item) => [item.pid, item.kind, item.process_flags]), sorted.map((pid) => [pid, pid === payload || pid === hidden ? 'exe' : 'fd', expected.get(pid)]));
  const report = JSON.parse(runCli(caseDir, ['report', '--format', 'json', '--out', '-']).stdout) as { items: Array<{ pid: number; process_flags: unknown }> };
  assert.deepEqual(report.items.map((item) => [item.pid, item.process_flags]), sorted.map((pid) => [pid, expected.get(pid)]));
  // list: its lines as before, each flagged process once on stderr.
  const plain = runCli(caseDir, ['list']);
  assert.equal(plain.stdout.split('\n').filter((line) => line !== '').length, 6);
  const comms = new Map(sorted.map((pid) => [pid, fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trimEnd()]));
  assert.equal(plain.stderr, sorted.flatMap((pid) => (expected.get(pid) ?? []).map(({ flag, why }) => `warning: snapshot 1 pid ${pid} (${comms.get(pid) ?? ''}): ${flag}: ${why}\n`)).join(''));

  // CSV: the last column, each flag "CODE: WHY", joined by " | ".
  const records = pythonCsv(runCli(caseDir, ['report', '--format', 'csv', '--out', '-']).stdout);
  const header = records[0] ?? [];
  assert.equal(header.at(-1), 'process_flags');
  assert.deepEqual(records.slice(1).map((row) => [Number(row[header.indexOf('pid')]), row[header.indexOf('process_flags')]]),
    sorted.map((pid) => [pid, (expected.get(pid) ?? []).map(({ flag, why }) => `${flag}: ${why}`).join(' | ')]));

  // HTML: a badge and the why (without the badge's words again) in the process cell; none on the decoy; the markup is text.
  assert.equal(runCli(caseDir, ['report', '--format', 'html']).code, 0);
  const { dom } = dumpDom(path.join(caseDir, 'reports', 'report.html'));
  const badge = (flag: { flag: string; why: string }): string => {
    const label = flag.flag === 'memfd-exe' ? 'runs from a memfd (fileless)' : 'named like a kernel thread';
    return `<div class="flag"><span class="badge flag">${label}</span> ${domText(flag.why.slice(label.length + 2))}</div>`;
  };
  sorted.forEach((pid, index) => {
    const row = new RegExp(`<tr class="[a-z]*" data-id="live-${index + 1}">([\\s\\S]*?)</tr>`).exec(dom)?.[1] ?? '';
    const cell = /<td class="proc">([\s\S]*?)<\/td>/.exec(row)?.[1] ?? '';
    assert.ok(cell.startsWith(domText(comms.get(pid) ?? '')), cell);
    assert.equal(cell.slice(cell.indexOf('<div class="flag">') < 0 ? cell.length : cell.indexOf('<div class="flag">')), (expected.get(pid) ?? []).map(badge).join(''), `pid ${pid}`);
  });
  assert.ok(dom.includes('<td class="proc">[&lt;script&gt;x]<div class="note">'), 'the name renders as text');
  // The filter box finds them by their code.
  assert.ok(dumpDom(path.join(caseDir, 'reports', 'report.html'), '#q=kernel-thread-name').dom.includes('data-visible="4"'));
  assert.ok(dumpDom(path.join(caseDir, 'reports', 'report.html'), '#q=memfd-exe').dom.includes('data-visible="2"'));
  const body = dom.slice(dom.indexOf('<body'), dom.indexOf('<script type="application/json"'));
  assert.ok(!body.includes('<script>x'), 'no element from a name');
  // The summary counts them and lists each flagged process with its badges.
  const summary = /<section><h2>Processes holding them<\/h2>([\s\S]*?)<\/section>/.exec(dom)?.[1] ?? '';
  assert.equal(summary, '<div class="cards"><div class="card bad"><b>4</b><span>processes: named like a kernel thread</span></div><div class="card bad"><b>2</b><span>processes: runs from a memfd (fileless)</span></div></div>' +
    `<ul class="flagged">${sorted.filter((pid) => pid !== decoy).map((pid) => `<li>snapshot 1 pid ${pid} (${domText(comms.get(pid) ?? '')})${(expected.get(pid) ?? []).map(badge).join('')}</li>`).join('')}</ul>`);
});

test('HTML: items of one file held by several processes (a deleted library preloaded into each) say so under the path, with their PIDs; a copy holding more than the size the snapshot saw says how many bytes it holds (root)', async (t) => {
  // One deleted file, its fd inherited by a child (killed with its parent); it grows once the test says so.
  const script = String.raw`import ctypes, os, sys, time
fd = os.open(os.path.join(sys.argv[1], 'libevil.so'), os.O_CREAT | os.O_RDWR, 0o600)
os.write(fd, b'0123456789')
os.unlink(os.path.join(sys.argv[1], 'libevil.so'))
if os.fork() == 0:
    ctypes.CDLL(None).prctl(1, 9, 0, 0, 0)
    sys.stdin.close()
    time.sleep(600)
    sys.exit(0)
print(os.getpid(), flush=True)
while not os.path.exists(os.path.join(sys.argv[1], 'grow')):
    time.sleep(0.02)
os.write(fd, b'abcde')
sys.stdin.read()`;
  const { dir, caseDir, pid } = await pythonHolder(t, 'report-onefile', script);
  const child = Number(fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim());
  assert.ok(child > 0);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid), '--pid', String(child)]).code, 0);
  fs.writeFileSync(path.join(dir, 'grow'), '');
  while (fs.statSync(`/proc/${pid}/fd/3`).size !== 15) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(runCli(caseDir, ['recover']).code, 0);
  assert.equal(runCli(caseDir, ['report', '--format', 'html']).code, 0);
  const { dom } = dumpDom(path.join(caseDir, 'reports', 'report.html'));
  const { dev, ino } = fs.statSync(`/proc/${pid}/fd/3`);
  const file = `${devString(dev)}, inode ${ino}`;
  // Items are numbered in the walk's order, by PID.
  const [first, second] = [pid, child].sort((a, b) => a - b);
  for (const [key, holder] of [['live-1', first], ['live-2', second]] as const) {
    const shown = new RegExp(`<tr class="[a-z]*" data-id="${key}">([\\s\\S]*?)</tr>`).exec(dom)?.[1] ?? '';
    assert.ok(shown.includes(`<td class="num">${holder}</td>`), shown);
    assert.ok(shown.includes(`<td class="path">${dir}/libevil.so<div class="note">one file, 2 items in snapshot 1 (dev ${file}): pid ${first}, ${second}</div></td>`), shown);
    assert.ok(shown.includes('<td class="status-complete">complete<div class="note">15 bytes copied, size 10 at the snapshot</div></td>'), shown);
  }
});

test('HTML in headless Chromium: inodes past 2^53 sort exactly, both ways (they would all tie as numbers)', (t) => {
  const caseDir = makeTempDir('report-bigsort', '/dev/shm');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  // An lsof -F0 capture of one process holding six deleted files with inode numbers near 2^64.
  const capture = path.join(caseDir, 'big.F0');
  const fields = ['p5000\0cx\0u0\0'];
  for (let index = 0; index < 6; index++) fields.push(`f${10 + index}\0tREG\0D0x803\0s${index}\0i${18446744073709551600n + BigInt((index * 7) % 6)}\0k0\0n/y${index} (deleted)\0`);
  fs.writeFileSync(capture, fields.join('\n') + '\n');
  assert.equal(runCli(caseDir, ['lsof', 'import', capture]).code, 0);
  assert.equal(runCli(caseDir, ['report', '--format', 'html']).code, 0);
  const file = path.join(caseDir, 'reports', 'report.html');
  const order = (fragment: string): string[] => {
    const { dom } = dumpDom(file, fragment);
    return [...dom.slice(dom.indexOf('<tbody>'), dom.indexOf('</tbody>')).matchAll(/1844674407370955160\d/g)].map((match) => match[0]);
  };
  const ascending = ['18446744073709551600', '18446744073709551601', '18446744073709551602', '18446744073709551603', '18446744073709551604', '18446744073709551605'];
  assert.deepEqual(order('#sort=inode-asc'), ascending);
  assert.deepEqual(order('#sort=inode-desc'), [...ascending].reverse());
});

test('HTML: a case whose snapshot found no deleted-but-open file says so, not "no findings yet", and shows the snapshot\'s warnings (a file kept by a bind mount) (root)', (t) => {
  const dir = makeTempDir('report-warned');
  const caseDir = makeTempDir('report-warned-case', '/dev/shm');
  const target = path.join(dir, 'target');
  t.after(() => {
    spawnSync('umount', [target]);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  fs.writeFileSync(path.join(dir, 'gone <b>'), 'x');
  fs.writeFileSync(target, '');
  execFileSync('mount', ['--bind', path.join(dir, 'gone <b>'), target]);
  fs.unlinkSync(path.join(dir, 'gone <b>'));
  // This process holds no deleted file: the snapshot's only news is its warning.
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(process.pid)]).code, 0);
  const html = runCli(caseDir, ['report', '--format', 'html', '--out', '-']).stdout;
  assert.match(html, /<p class="empty">No deleted-but-open file: snapshot #1 found none, and no image was scanned; the snapshots' 1 warning \(under Snapshots\) say what else they saw/);
  assert.ok(html.includes(`<ul class="warnings"><li>${dir}/gone &#60;b&#62; on `), 'the warning, escaped, under its snapshot');
  assert.ok(!html.includes('no findings yet'));
});

/** Text as Chromium's --dump-dom serializes it in an element: only &, < and > escaped. */
function domText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

test('HTML in headless Chromium: each finding shows its times in UTC, and sorting by time is by number (1901 before 1969, 2400 last), not as text', (t) => {
  // Live items 1-8 of the report case: mtimes across 1901, 1969, 2015, 2040 and 2400.
  const mtimes = [13569465601, -2, 1433592000, -2147472000, 2208988800, 1614834367, 1796429724, 1643767322];
  const dir = reportCase(t, (db) => {
    const set = db.prepare('UPDATE items SET mtime = ? WHERE id = ?');
    mtimes.forEach((mtime, index) => set.run(mtime, index + 1));
  });
  assert.equal(runCli(dir, ['report', '--format', 'html']).code, 0);
  const file = path.join(dir, 'reports', 'report.html');
  const { dom } = dumpDom(file, '#sort=mtime-asc');
  const body = dom.slice(dom.indexOf('<tbody>'), dom.indexOf('</tbody>'));
  const order = [...body.matchAll(/data-id="live-(\d+)"/g)].map((match) => Number(match[1])).filter((id) => id <= mtimes.length);
  const byTime = mtimes.map((mtime, index) => [mtime, index + 1] as const).sort((a, b) => a[0] - b[0]).map(([, id]) => id);
  assert.deepEqual(order, byTime);
  assert.ok(body.includes('<div>modified 1901-12-14T00:00:00Z</div>'), 'a time before 1970');
  assert.ok(body.includes('<div>modified 2400-01-01T00:00:01Z</div>'), 'a time after 2038');
  assert.ok(body.includes('<div>modified 1969-12-31T23:59:58Z</div>'));
});

test('CSV and HTML: an image inode whose extraction wrote no file is "unrecoverable" or "not copied", never "incomplete" (that is a prefix kept); an inode extracted by number likewise', (t) => {
  const dir = reportCase(t, (db) => {
    // Inode 300 (not recoverable): an attempt that found nothing; inode 100: one refused, after its copy.
    db.exec(`INSERT INTO extractions (image_inode_id, image, offset_sectors, inode, output, bytes, sha256, complete, method, note, started_at)
      VALUES (2, '/evidence/web01.dd', 2048, 300, NULL, 0, NULL, 0, NULL, 'unrecoverable: its block map is zeroed, nothing extracted', '2026-11-24T11:00:02Z'),
             (NULL, '/evidence/web01.dd', 2048, 7, NULL, 0, NULL, 0, NULL, 'icat failed and debugfs wrote nothing', '2026-11-24T11:00:03Z')`);
  });
  const records = readCsv(runCli(dir, ['report', '--format', 'csv', '--out', '-']).stdout);
  const header = records[0] ?? [];
  const status = (inode: string): string | undefined => records.find((record) => record[header.indexOf('finding')] === 'image' && record[header.indexOf('inode')] === inode)?.[header.indexOf('status')];
  assert.deepEqual([status('100'), status('300'), status('7')], ['complete', 'unrecoverable', 'not copied']);
  const html = runCli(dir, ['report', '--format', 'html', '--out', '-']).stdout;
  // No copy is counted incomplete: inode 100 is the one recoverable, copied; 300 (not recoverable) and 7 (by number) are the other two, not copied.
  assert.ok(html.includes('<div class="card "><b>1</b><span>recoverable inodes</span></div><div class="card ok"><b>1</b><span>recoverable: extracted complete</span></div>' +
    '<div class="card "><b>0</b><span>recoverable: extracted incomplete</span></div><div class="card "><b>0</b><span>recoverable: not copied</span></div>'));
  assert.ok(html.includes('<div class="card ok"><b>0</b><span>other inodes (by number, not recoverable): extracted complete</span></div>' +
    '<div class="card "><b>0</b><span>other inodes (by number, not recoverable): extracted incomplete</span></div><div class="card bad"><b>2</b><span>other inodes (by number, not recoverable): not copied</span></div>'));
});

test('an item of an imported lsof capture, which recover cannot copy here, is not "no copy made yet" in the CSV note: it says only its own host can copy it', (t) => {
  const caseDir = makeTempDir('imported-note-case', '/dev/shm');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  const capture = path.join(caseDir, '..', `${path.basename(caseDir)}.F0`);
  t.after(() => fs.rmSync(capture, { force: true }));
  fs.writeFileSync(capture, 'p4242\0c/bin/x\0\nf3\0tREG\0D0x803\0s10\0i77\0k0\0n/var/log/x (deleted)\0\n');
  assert.equal(runCli(caseDir, ['lsof', 'import', capture, '--host', 'web01', '-q']).code, 0);
  const records = readCsv(runCli(caseDir, ['report', '--format', 'csv', '--out', '-']).stdout);
  const header = records[0] ?? [];
  assert.deepEqual(records.slice(1).map((row) => [row[header.indexOf('path')], row[header.indexOf('status')], row[header.indexOf('note')]]), [
    ['/var/log/x', 'not copied', 'no copy: an item of imported lsof output, which recover cannot copy here (only unlinked recover on its own host, while the process runs, can); seen by lsof only'],
  ]);
});

test('report --out - onto a stdout that cannot take it (/dev/full): one line "cannot write the output to stdout: ENOSPC", exit 1, for every format; a reader that stops early (| head) is not a failure', (t) => {
  const dir = reportCase(t);
  const full = fs.openSync('/dev/full', 'w');
  t.after(() => fs.closeSync(full));
  for (const format of Object.keys(REPORT_FORMATS)) {
    for (const verbose of [[], ['-v']]) {
      const result = spawnSync(process.execPath, [cliPath, '--case', dir, 'report', '--format', format, '--out', '-', ...verbose], { stdio: ['ignore', full, 'pipe'], encoding: 'utf8' });
      const lines = result.stderr.split('\n');
      assert.deepEqual([result.status, lines[0]], [1, 'unlinked: cannot write the output to stdout: ENOSPC (no space left on device)'], `${format} ${verbose.join('')}`);
      // -v adds the cause (as for every error), never "internal error".
      if (verbose.length === 0) assert.equal(lines.length, 2, result.stderr);
      assert.doesNotMatch(result.stderr, /internal error/);
    }
    const piped = spawnSync('bash', ['-c', `set -o pipefail; "$0" "$1" --case "$2" report --format ${format} --out - | head -c 1 >/dev/null`, process.execPath, cliPath, dir], { encoding: 'utf8' });
    assert.deepEqual([piped.status, piped.stderr], [0, ''], format);
  }
});

test('an image changed between two scans: each image inode and each copy names its scan (image_id, image_sha256, image_scanned_at) and a copy its image inode record, in JSON, CSV and HTML (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'scanof');
  const one = Buffer.from('one\n');
  const alive = Buffer.from('alive\n');
  // Our own ext2 image: "a" (inode 12) deleted with its blocks kept, "alive" (inode 13) a live file.
  const image = debugfsBuilt(dir, ['mkfs.ext2'], { a: one, alive }, 'kill_file a\nunlink a\nset_inode_field <12> mtime @1500000000\n');
  const first = sha256File(image);
  const cli = (args: string[]): void => {
    const result = runCli(caseDir, args);
    assert.equal(result.code, 0, result.stderr);
  };
  cli(['image', 'scan', image]);
  cli(['image', 'extract', image, '--all']);
  // The image is written to (our own): another content at that path, the same inode 12 with another mtime.
  execFileSync('debugfs', ['-w', '-R', 'set_inode_field <12> mtime @1000000000', image], { stdio: 'ignore' });
  const second = sha256File(image);
  assert.notEqual(first, second);
  cli(['image', 'scan', image]);
  cli(['image', 'extract', image, '--inode', '12']);
  // A live file, which no scan lists: copied from the image as the second scan read it.
  cli(['image', 'extract', image, '--inode', '13']);
  const report = runCli(caseDir, ['report', '--format', 'json', '--out', '-']);
  assert.equal(report.code, 0, report.stderr);
  const document = JSON.parse(report.stdout) as Record<string, Array<Record<string, unknown>>>;
  const scans = document['images']?.map((scan) => [scan['id'], scan['sha256'], scan['scanned_at']]) ?? [];
  const [at1, at2] = scans.map((scan) => scan[2]);
  assert.deepEqual(scans, [[1, first, at1], [2, second, at2]]);
  assert.deepEqual(document['image_inodes']?.map((inode) => [inode['id'], inode['image_id'], inode['image_sha256'], inode['image_scanned_at'], inode['inode'], inode['mtime']]), [
    [1, 1, first, at1, 12, 1500000000],
    [2, 2, second, at2, 12, 1000000000],
  ]);
  assert.deepEqual(document['extracted']?.map((copy) => [copy['image_id'], copy['image_sha256'], copy['image_scanned_at'], copy['image_inode_id'], copy['inode'], copy['sha256']]), [
    [1, first, at1, 1, 12, sha256(one)],
    [2, second, at2, 2, 12, sha256(one)],
    [2, second, at2, null, 13, sha256(alive)],
  ]);
  // CSV: the three columns last, after key (the columns before keep their places).
  const csv = readCsv(runCli(caseDir, ['report', '--format', 'csv', '--out', '-']).stdout);
  assert.deepEqual(csv[0]?.slice(-6), ['cmdline', 'key', 'image_id', 'image_sha256', 'image_scanned_at', 'process_flags']);
  const column = (name: string): number => (csv[0] ?? []).indexOf(name);
  assert.deepEqual(csv.slice(1).map((row) => ['key', 'inode', 'status', 'image_id', 'image_sha256', 'image_scanned_at'].map((name) => row[column(name)])), [
    ['image-1', '12', 'complete', '1', first, at1],
    ['image-2', '12', 'complete', '2', second, at2],
    ['extraction-3', '13', 'complete', '2', second, at2],
  ]);
  // HTML: the "where" cell says which scan, and the image's sha256.
  assert.equal(runCli(caseDir, ['report', '--format', 'html']).code, 0);
  const { dom } = dumpDom(path.join(caseDir, 'reports', 'report.html'));
  const where = (key: string): string => /<td class="where">([^<]*<div class="note">[^<]*<\/div>)<\/td>/.exec(new RegExp(`<tr class="[a-z]*" data-id="${key}">([\\s\\S]*?)</tr>`).exec(dom)?.[1] ?? '')?.[1] ?? '';
  assert.deepEqual(['image-1', 'image-2', 'extraction-3'].map(where), [
    `${image} +0<div class="note">scan 1 of ${String(at1)}, image sha256 ${first}</div>`,
    `${image} +0<div class="note">scan 2 of ${String(at2)}, image sha256 ${second}</div>`,
    `${image} +0<div class="note">scan 2 of ${String(at2)}, image sha256 ${second}</div>`,
  ]);
});

test('a copy by number made before any scan of the image as it was copied joins the finding of the scan of that very content made later (same size, mtime, ctime): one finding, counted once; a later content keeps its copy apart (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'adopted');
  const one = Buffer.from('one\n');
  // Our own ext2 image: "a" (inode 12) deleted with its blocks kept.
  const image = debugfsBuilt(dir, ['mkfs.ext2'], { a: one }, 'kill_file a\nunlink a\n');
  const cli = (args: string[]): string => {
    const result = runCli(caseDir, args);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout;
  };
  cli(['image', 'scan', image]);
  // Written to (our own image): no scan of it as it is now, so the copy by number names none.
  const modify = (mtime: number): void => void execFileSync('debugfs', ['-w', '-R', `set_inode_field <12> mtime @${mtime}`, image], { stdio: 'ignore' });
  modify(1000000000);
  cli(['image', 'extract', image, '--inode', '12']);
  // --all scans it first (scan 2: the image as the copy above read it), and copies 12 again.
  cli(['image', 'extract', image, '--all']);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  t.after(() => db.close());
  const scanned12 = (imageId: number): number => (db.prepare('SELECT n.id FROM image_inodes n JOIN image_filesystems f ON f.id = n.filesystem_id WHERE f.image_id = ? AND n.inode = 12').get(imageId) as { id: number }).id;
  // The copy by number is of scan 2's record now, as the copy --all made.
  assert.deepEqual(db.prepare('SELECT id, image_id, image_inode_id, complete FROM extractions ORDER BY id').all(), [
    { id: 1, image_id: 2, image_inode_id: scanned12(2), complete: 1 }, { id: 2, image_id: 2, image_inode_id: scanned12(2), complete: 1 },
  ]);
  const keys = (): string[][] => {
    const csv = readCsv(cli(['report', '--format', 'csv', '--out', '-']));
    const column = (name: string): number => (csv[0] ?? []).indexOf(name);
    return csv.slice(1).map((row) => ['key', 'inode', 'status', 'image_id'].map((name) => row[column(name)] ?? ''));
  };
  // Inode 12 of each content once: scan 1's not copied, scan 2's copied (no extraction-1 beside image-2).
  assert.deepEqual(keys(), [['image-1', '12', 'not copied', '1'], [`image-${scanned12(2)}`, '12', 'complete', '2']]);
  const cards = (): string[] => [...cli(['report', '--format', 'html', '--out', '-']).matchAll(/<div class="card (?:ok|bad|)"><b>(\d+)<\/b><span>([^<]*(?:recoverable|other inodes)[^<]*)<\/span><\/div>/g)].map((match) => `${match[1]} ${match[2]}`);
  assert.deepEqual(cards(), ['2 recoverable inodes', '1 recoverable: extracted complete', '0 recoverable: extracted incomplete', '1 recoverable: not copied']);
  // A third content copied by number, then a fourth scanned: another content, the copy stays a finding of its own.
  modify(900000000);
  cli(['image', 'extract', image, '--inode', '12']);
  modify(800000000);
  cli(['image', 'scan', image]);
  assert.deepEqual(db.prepare('SELECT image_id, image_inode_id FROM extractions WHERE id = 3').get(), { image_id: null, image_inode_id: null });
  assert.deepEqual(keys().map((row) => row[0]), ['image-1', `image-${scanned12(2)}`, `image-${scanned12(3)}`, 'extraction-3']);
});

test('HTML summary: the disk image cards count each recoverable inode once, as copied complete, incomplete or not copied (refused: a size of 2^64-1), and copies by number apart (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'cards');
  // Our own ext4 image (no journal): "huge" (12) and "small" (13) deleted, 12 given i_size 2^64-1; "alive" (14) a live file.
  const image = debugfsBuilt(dir, ['mkfs.ext4', '-O', '^has_journal'], { huge: Buffer.from('huge\n'), small: Buffer.from('small\n'), alive: Buffer.from('alive\n') },
    'kill_file huge\nunlink huge\nkill_file small\nunlink small\nset_inode_field <12> size 0xFFFFFFFFFFFFFFFF\n');
  assert.equal(runCli(caseDir, ['image', 'scan', image]).code, 0);
  const all = runCli(caseDir, ['image', 'extract', image, '--all', '--json']);
  assert.equal(all.code, 3, all.stderr);
  assert.deepEqual((JSON.parse(all.stdout) as Array<{ inode: number; complete: boolean; output: string | null }>).map((copy) => [copy.inode, copy.complete, copy.output === null]), [[12, false, true], [13, true, false]]);
  assert.equal(runCli(caseDir, ['image', 'extract', image, '--inode', '14']).code, 0);
  const kase = openCase(caseDir, { create: false });
  try {
    const summary = caseSummary(kase.db);
    assert.deepEqual([summary.imageInodes, summary.recoverableCopies, summary.otherCopies], [
      { orphan: 0, deleted: 2, recoverable: 2 }, { complete: 1, incomplete: 0, notCopied: 1 }, { complete: 1, incomplete: 0, notCopied: 0 },
    ]);
  } finally {
    kase.close();
  }
  const html = runCli(caseDir, ['report', '--format', 'html', '--out', '-']);
  assert.equal(html.code, 0, html.stderr);
  const cards = [...html.stdout.matchAll(/<div class="card (?:ok|bad|)"><b>(\d+)<\/b><span>([^<]*)<\/span><\/div>/g)].map((match) => `${match[1]} ${match[2]}`);
  assert.deepEqual(cards.slice(cards.indexOf('1 images scanned')), [
    '1 images scanned', '0 orphan inodes', '2 deleted inodes', '0 held open by a live process',
    '2 recoverable inodes', '1 recoverable: extracted complete', '0 recoverable: extracted incomplete', '1 recoverable: not copied',
    '1 other inodes (by number, not recoverable): extracted complete', '0 other inodes (by number, not recoverable): extracted incomplete',
    '0 other inodes (by number, not recoverable): not copied',
  ]);
});

test('JSON report: each item carries its file\'s mode, owner and times (exact past 2^53) and its process\'s command line, as the CSV has them; list --json keeps its keys (root)', async (t) => {
  const script = String.raw`import os, sys
fd = os.open(sys.argv[2], os.O_CREAT | os.O_RDWR, 0o640)
os.write(fd, b'abc')
os.unlink(sys.argv[2])
print(os.getpid(), flush=True)
sys.stdin.read()`;
  // On tmpfs, which keeps a time of 2^63 - 1 (ext4 would cut it to 34 bits).
  const shm = makeTempDir('report-itemjson-file', '/dev/shm');
  t.after(() => fs.rmSync(shm, { recursive: true, force: true }));
  const { caseDir, pid } = await pythonHolder(t, 'report-itemjson', script, [path.join(shm, 'held'), 'two words', "it's\nhere"]);
  // A time past 2^53 (set by touch through the held file's /proc link): a number would round it.
  execFileSync('touch', ['-m', '-d', '@9223372036854775807', `/proc/${pid}/fd/3`]);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(pid)]).code, 0);
  const [csv] = csvFindings(caseDir);
  const report = runCli(caseDir, ['report', '--format', 'json', '--out', '-']);
  assert.equal(report.code, 0, report.stderr);
  const [item] = parseExact<{ items: Array<Record<string, unknown>> }>(report.stdout).items;
  const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`);
  const held = fs.statSync(`/proc/${pid}/fd/3`);
  const seconds = (date: Date): number => Math.floor(date.getTime() / 1000);
  assert.deepEqual(
    ['mode', 'uid', 'gid', 'atime', 'mtime', 'ctime', 'crtime', 'cmdline', 'cmdline_b64'].map((key) => item?.[key]),
    [0o100640, 0, 0, seconds(held.atime), '9223372036854775807', seconds(held.ctime), seconds(held.birthtime), csv?.['cmdline'], cmdline.toString('base64')],
  );
  // Each as the CSV has it.
  for (const key of ['mode', 'uid', 'gid', 'atime', 'mtime', 'ctime', 'crtime']) assert.equal(String(item?.[key]), csv?.[key], key);
  assert.ok(report.stdout.includes('"mtime":9223372036854775807,'), 'an exact integer, unquoted');
  // list --json: its records as before, the contract's keys and its six extra ones.
  const listed = JSON.parse(runCli(caseDir, ['list', '--json']).stdout) as Array<Record<string, unknown>>;
  assert.deepEqual(Object.keys(listed[0] ?? {}), [
    'id', 'snapshot_id', 'pid', 'start_time', 'comm', 'exe', 'kind', 'fd', 'path', 'path_b64', 'dev', 'inode', 'size', 'nlink', 'mount_point', 'fs_type', 'fs_uuid', 'source', 'map_range', 'lsof_note', 'thread_of', 'lease', 'lease_pid',
    'process_flags',
  ]);
});

test('bodyfile: an image inode\'s mode and name as TSK\'s own bodyfile has them (fls -r -m /, ils -m): the directory entry\'s type first, "-" with no name, and the name after the mount point "/" (root)', (t) => {
  const { dir, caseDir } = imageWorkDirs(t, 'tskbody');
  // Our own ext4 image (no journal): "bad" (12) deleted, its type bits made no file type; "orph" (13) an orphan on the orphan chain
  // (the scan keeps no name for it); "c1" (14) live; sub (15)/=inner (16) deleted.
  const image = debugfsBuilt(dir, ['mkfs.ext4', '-O', '^has_journal'], { bad: Buffer.from('bad\n'), orph: Buffer.from('orph\n'), c1: Buffer.from('c1\n') },
    `mkdir sub\nwrite ${path.join(dir, 'c1.src')} sub/=inner\nkill_file sub/=inner\nunlink sub/=inner\n` +
    'kill_file bad\nunlink bad\nsif <12> mode 0170644\nunlink orph\nsif <13> links_count 0\nssv last_orphan 13\n');
  assert.equal(runCli(caseDir, ['image', 'scan', image]).code, 0);
  const body = runCli(caseDir, ['report', '--format', 'bodyfile', '--out', '-']);
  assert.equal(body.code, 0, body.stderr);
  const ours = body.stdout.trimEnd().split('\n').map((line) => line.split('|')).map((fields) => [fields[2], fields[3], fields[1]]);
  const where = (state: string): string => `(deleted: ${state} in ${image} at sector 0)`;
  assert.deepEqual(ours, [
    ['12', 'r/-rw-r--r--', `/bad ${where('deleted')}`],
    ['13', '-/rrw-r--r--', `<inode 13> ${where('orphan')}`],
    ['16', 'r/rrw-r--r--', `/sub/=inner ${where('deleted')}`],
  ]);
  // TSK's own lines for the same inodes: the same mode, the same name before " (deleted".
  const fls = new Map(execFileSync('fls', ['-r', '-m', '/', image], { encoding: 'utf8' }).trimEnd().split('\n').map((line) => line.split('|')).map((fields) => [`${fields[2]} ${fields[1]}`, fields[3]]));
  assert.equal(fls.get('12 /bad (deleted)'), 'r/-rw-r--r--');
  assert.equal(fls.get('16 /sub/=inner (deleted)'), 'r/rrw-r--r--');
  const ils = execFileSync('ils', ['-e', '-m', image], { encoding: 'utf8' }).split('\n').map((line) => line.split('|')).find((fields) => fields[2] === '13');
  assert.equal(ils?.[3], '-/rrw-r--r--');
});

test('bodyfile: a time mactime cannot date (past 67767976233316800, touch -d @9223372036854775807) is written 0 and its exact value said in the name; the real mactime prints no warning', (t) => {
  const dir = reportCase(t, (db) => db.exec(`UPDATE items SET mtime = 9223372036854775807, atime = 67767976233316800 WHERE id = 1`));
  const out = path.join(dir, 'body.txt');
  assert.equal(runCli(dir, ['report', '--format', 'bodyfile', '--out', out]).code, 0);
  const line = fs.readFileSync(out, 'utf8').split('\n').find((entry) => entry.includes('nginx fd 3,')) ?? '';
  const name = `/var/log/<img src=x onerror="document.title='pwned'">.log (deleted: pid 4242 nginx fd 3, snapshot 1; mtime 9223372036854775807 past what mactime can date (year 2147483647): written 0)`;
  assert.equal(line, `0|${name}|100|r/rrw-r--r--|0|0|1000|67767976233316800|0|1795500200|0`);
  const timeline = spawnSync('mactime', ['-b', out, '-d', '-z', 'UTC'], { encoding: 'utf8' });
  assert.deepEqual([timeline.status, timeline.stderr], [0, '']);
  assert.ok(!timeline.stdout.includes('Jan 0 1900'), timeline.stdout);
  const quoted = `"${name.replace(/"/g, '""')}"`;
  assert.deepEqual(timeline.stdout.split('\n').filter((entry) => entry.endsWith(quoted)).map((entry) => entry.split(',').slice(0, 3).join(',')), [
    // mtime and crtime 0: mactime's "no time" (as for TSK's own lines), no warning, nothing dated 1900.
    'Xxx Xxx 00 0000 00:00:00,1000,m..b', 'Tue Nov 24 2026 06:03:20,1000,..c.', 'Sun Dec 29 2147483647 12:00:00,1000,.a..',
  ]);
});
