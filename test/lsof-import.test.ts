// Issue 4: lsof output stored beside the /proc walk, imports of captured output, and the cross-check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import Database from 'better-sqlite3';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliPath, fixturesDir } from './helpers/paths.js';
import { makeTempDir, startHolder } from './helpers/holder.js';
import { json, runCli, startCli } from './helpers/cli.js';
import { itemJson, listItems, type LiveItemJson } from '../src/store/items.js';
import { processFlagReader } from '../src/store/processFlags.js';
import { openCase } from '../src/store/db.js';
import { jsonText } from '../src/util/u64.js';
import { writeLsofCapture } from './bench/lsofImport.js';
import { mountTmpfs } from './helpers/tmpfs.js';
import { waitFor } from './helpers/wait.js';

const fixture = (name: string) => path.join(fixturesDir, 'lsof', name);

test('lsof import of field output: one item per deleted file, kinds from lsof, the capture kept byte for byte', (t) => {
  const caseDir = makeTempDir('lsof-import');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  const result = runCli(caseDir, ['lsof', 'import', fixture('field-F0.txt'), '--host', 'web01', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(result.stdout) as { snapshot_id: number; format: string; records: number; items: number; sha256: string };
  assert.deepEqual([summary.format, summary.records, summary.items], ['field', 5, 5]);
  assert.equal(summary.sha256, crypto.createHash('sha256').update(fs.readFileSync(fixture('field-F0.txt'))).digest('hex'));
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.deepEqual(items.map((item) => item.kind).sort(), ['fd', 'fd', 'fd', 'memfd', 'tmpfile']);
  for (const item of items) assert.deepEqual(item.source, ['lsof']);
  const hostile = items.find((item) => item.fd === 5);
  assert.deepEqual(Buffer.from(hostile?.path_b64 ?? '', 'base64'), Buffer.concat([Buffer.from('/var/tmp/lsoffix/-dash\nnewline'), Buffer.from([0xff])]));
  const kept = fs.readdirSync(path.join(caseDir, 'lsof'));
  assert.equal(kept.length, 1);
  assert.deepEqual(fs.readFileSync(path.join(caseDir, 'lsof', kept[0] ?? '')), fs.readFileSync(fixture('field-F0.txt')));
});

test('lsof import: a process name with a newline, a bidi override or 0xff is the display form in list, CSV and HTML, never the raw bytes', (t) => {
  const caseDir = makeTempDir('lsof-import-comm');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  const imported = runCli(caseDir, ['lsof', 'import', fixture('field-command-bytes.txt'), '--json']);
  assert.equal(imported.code, 0, imported.stderr);
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.deepEqual(items.map((item) => item.comm), ['ab\\xe2\\x80\\xaegpj.exe', '=1+1\\x0ax\\xffy']);
  const csv = runCli(caseDir, ['report', '--format', 'csv', '--out', '-']);
  assert.equal(csv.code, 0, csv.stderr);
  const html = runCli(caseDir, ['report', '--format', 'html', '--out', '-']);
  assert.equal(html.code, 0, html.stderr);
  for (const report of [csv.stdout, html.stdout]) {
    assert.ok(!report.includes('\u202e') && !report.includes('\ufffd') && !report.includes('1+1\nx'), 'no raw bidi override, lost byte or raw newline');
  }
  assert.ok(csv.stdout.includes(',ab\\xe2\\x80\\xaegpj.exe,') && csv.stdout.includes(",'=1+1\\x0ax\\xffy,"), csv.stdout);
});

test('lsof import of plain output without NLINK marks deleted-by-name items; bad input fails cleanly', (t) => {
  const caseDir = makeTempDir('lsof-plain');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  assert.equal(runCli(caseDir, ['lsof', 'import', fixture('plain-noNLINK.txt')]).code, 0);
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  // lsof's DEL row (a deleted file mapped, its fd closed: no " (deleted)" and no link count) is a map item too.
  // With a NLINK column (+L1 or'ed with -p), the DEL row's NLINK is empty: read, not refused.
  const orPid = makeTempDir('lsof-del');
  t.after(() => fs.rmSync(orPid, { recursive: true, force: true }));
  const imported = runCli(orPid, ['lsof', 'import', fixture('plain-L1-or-pid-DEL.txt'), '--json']);
  assert.deepEqual(JSON.parse(imported.stdout).unreadable_lines, 0);
  assert.deepEqual(json<LiveItemJson[]>(runCli(orPid, ['list', '--json'])).map((item) => [item.kind, item.fd, item.path, item.inode]).sort(), [
    ['fd', 3, '/var/tmp/lsoffix2/held.log', 15351841],
    ['map', null, '/var/tmp/lsoffix2/mapped.so', 15351825],
  ]);
  // A field capture without f: its files cannot be told apart: said; none read, so nothing imported
  // (no empty snapshot, exit 1), nothing invented.
  const noF = makeTempDir('lsof-nof');
  t.after(() => fs.rmSync(noF, { recursive: true, force: true }));
  const withoutF = runCli(noF, ['lsof', 'import', fixture('field-F0-no-f.txt'), '--json']);
  assert.deepEqual([withoutF.code, withoutF.stdout], [1, '']);
  assert.match(withoutF.stderr, /^unlinked: no file of .*field-F0-no-f\.txt could be read: 1 unreadable line \(line \d+: file fields without the 'f' field.*\): nothing imported\n$/);
  const noFDb = new Database(path.join(noF, 'case.sqlite'), { readonly: true });
  assert.deepEqual([noFDb.prepare('SELECT count(*) AS n FROM snapshots').get(), fs.readdirSync(path.join(noF, 'lsof'))], [{ n: 0 }, []]);
  noFDb.close();
  const mapped = items.filter((item) => item.kind === 'map');
  const others = items.filter((item) => item.kind !== 'map');
  assert.deepEqual(mapped.map((item) => [item.path, item.inode, item.fd, item.lsof_note]), [
    ['/var/tmp/lsoffix/mapped.so', 15343644, null, 'seen by lsof only; a mapping lsof marks DEL (deleted; it prints no link count for one)'],
  ]);
  assert.ok(others.length > 0 && others.every((item) => /deleted by name only/.test(item.lsof_note ?? '')));
  assert.ok(others.some((item) => item.path.endsWith('decoy')), 'plain lsof cannot tell the decoy from a deleted file, and says how it decided');
  const notLsof = runCli(caseDir, ['lsof', 'import', '/etc/hostname']);
  assert.equal(notLsof.code, 1);
  assert.match(notLsof.stderr, /^unlinked: \/etc\/hostname is not lsof output/);
  const corrupt = runCli(caseDir, ['lsof', 'import', fixture('corrupt-field.txt')]);
  assert.equal(corrupt.code, 3, 'some lines could not be read: partly done');
  assert.match(corrupt.stderr, /warning: line 4: file set with a malformed number/);
  const missing = runCli(caseDir, ['lsof', 'import', '/nonexistent/lsof.txt']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no such file/);
});

test('live snapshot with lsof: both sources for fd items, /proc only for mmap-only files (root)', async (t) => {
  const dir = makeTempDir('lsof-live');
  const caseDir = makeTempDir('lsof-live-case');
  const holder = await startHolder(dir, [
    { kind: 'fd', name: 'held.log', content: Buffer.from('held') },
    { kind: 'map', name: 'mapped.so', content: Buffer.alloc(4096, 1) },
    { kind: 'memfd', name: 'm', content: Buffer.from('m') },
  ]);
  t.after(async () => {
    await holder.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const snapshot = runCli(caseDir, ['snapshot', '--pid', String(holder.pid), '--json']);
  assert.equal(snapshot.code, 0, snapshot.stderr);
  const summary = JSON.parse(snapshot.stdout) as { lsof: string; cross_check: { both: number; proc_only: number; lsof_only: number } };
  assert.match(summary.lsof, /^ran: /);
  assert.deepEqual(summary.cross_check, { both: 2, proc_only: 1, lsof_only: 0, not_items: 0 });
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  const byKind = new Map(items.map((item) => [item.kind, item]));
  assert.deepEqual(byKind.get('fd')?.source, ['proc', 'lsof']);
  assert.deepEqual(byKind.get('memfd')?.source, ['proc', 'lsof']);
  assert.deepEqual(byKind.get('map')?.source, ['proc']);
  assert.match(byKind.get('map')?.lsof_note ?? '', /not listed by lsof \+L1/);
  // The snapshot's own capture, kept in the case, imported again: said as what it is, a live snapshot's lsof run, not an import.
  const kept = fs.readdirSync(path.join(caseDir, 'lsof'));
  assert.equal(kept.length, 1);
  const capture = path.join(caseDir, 'lsof', kept[0] ?? '');
  const sha = crypto.createHash('sha256').update(fs.readFileSync(capture)).digest('hex');
  const again = runCli(caseDir, ['lsof', 'import', capture, '--json']);
  assert.equal(again.code, 0, again.stderr);
  const said = `this capture (sha256 ${sha}) was taken as the lsof capture of live snapshot 1 of host ${os.hostname()} (its lsof run, not an import): its items are in the case 2 times now (list --snapshot N shows one snapshot's)`;
  assert.deepEqual(JSON.parse(again.stdout).warnings, [said]);
  assert.equal(again.stderr.split('\n').filter((line) => line.startsWith('warning: ')).join('\n'), `warning: ${said}`);
  // Stored with the import's snapshot: the reports say it to a later reader.
  const report = JSON.parse(runCli(caseDir, ['report', '--format', 'json', '--out', '-']).stdout) as { snapshots: Array<{ id: number; warnings: string[] }> };
  assert.deepEqual(report.snapshots.map((snapshot) => [snapshot.id, snapshot.warnings]), [[1, []], [2, [said]]]);
});

test('a capture over 8 MiB is parsed in a worker thread beside the store: exact counts, names and sizes', (t) => {
  const caseDir = makeTempDir('lsof-import-large');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  const capture = path.join(caseDir, 'large.F0.txt');
  writeLsofCapture(capture, 150_000); // 15,000 processes with 9 files each, fd 7 deleted
  assert.ok(fs.statSync(capture).size > 8 << 20);
  const result = runCli(caseDir, ['lsof', 'import', capture, '--json', '-q']);
  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(result.stdout) as { records: number; items: number; lines: number; sha256: string };
  assert.deepEqual([summary.lines, summary.records, summary.items], [150_000, 135_000, 15_000]);
  assert.equal(summary.sha256, crypto.createHash('sha256').update(fs.readFileSync(capture)).digest('hex'));
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.equal(items.length, 15_000);
  const pids = new Set(items.map((item) => item.pid));
  assert.equal(pids.size, 15_000);
  for (const item of [items[0], items[7_321], items.at(-1)]) {
    assert.ok(item !== undefined);
    assert.deepEqual([item.kind, item.fd, item.size, item.inode, item.path], ['fd', 7, 7000, item.pid * 100 + 7, `/var/log/app/${item.pid}-7.log`]);
  }
});

/** The CLI with its stdout into `file`: its exit code, stderr, and peak RSS in MB (getrusage of the child, as the kernel counted it). */
function runCliMeasured(caseDir: string, args: readonly string[], file: string): { code: number; stderr: string; peakMb: number } {
  const script = [
    'import resource, subprocess, sys',
    "with open(sys.argv[1], 'wb') as out: run = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.PIPE)",
    'sys.stderr.buffer.write(run.stderr)',
    'print(run.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)',
  ].join('\n');
  const result = spawnSync('python3', ['-c', script, file, process.execPath, cliPath, '--case', caseDir, ...args], { encoding: 'utf8' });
  const [code = '-1', maxRssKb = '0'] = result.stdout.trim().split(' ');
  return { code: Number(code), stderr: result.stderr, peakMb: Number(maxRssKb) / 1024 };
}

test('list --json prints exactly the JSON of the stored items (compact, one line, keys in CONTRACT.md order), as list and the store read them', (t) => {
  const caseDir = makeTempDir('lsof-import-list-bytes');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  assert.equal(runCli(caseDir, ['lsof', 'import', fixture('field-F0.txt'), '-q']).code, 0);
  const listed = runCli(caseDir, ['list', '--json']);
  assert.equal(listed.code, 0, listed.stderr);
  const kase = openCase(caseDir, { create: false, readsOnly: true });
  try {
    // The text the whole array made in one string was: the streamed output is byte for byte that.
    const flagsOf = processFlagReader(kase.db);
    assert.equal(listed.stdout, `${jsonText(listItems(kase.db, null).map((row) => itemJson(row, flagsOf(row.snapshot_id, row.pid, row.comm))))}\n`);
  } finally {
    kase.close();
  }
  const items = JSON.parse(listed.stdout) as LiveItemJson[];
  assert.equal(listed.stdout, `${JSON.stringify(items)}\n`);
  assert.deepEqual(items.map((item) => [item.id, item.fd, item.kind]), [[1, 3, 'fd'], [2, 4, 'fd'], [3, 5, 'fd'], [4, 7, 'memfd'], [5, 8, 'tmpfile']]);
  assert.deepEqual(Object.keys(items[0] ?? {}), ['id', 'snapshot_id', 'pid', 'start_time', 'comm', 'exe', 'kind', 'fd', 'path', 'path_b64', 'dev', 'inode', 'size', 'nlink',
    'mount_point', 'fs_type', 'fs_uuid', 'source', 'map_range', 'lsof_note', 'thread_of', 'lease', 'lease_pid', 'process_flags']);
  // An lsof import has no process rows: nothing to decide a flag from.
  assert.deepEqual(items.map((item) => item.process_flags), [[], [], [], [], []]);
  // None: the empty array, as before.
  const none = makeTempDir('lsof-import-list-none');
  t.after(() => fs.rmSync(none, { recursive: true, force: true }));
  fs.writeFileSync(path.join(none, 'none.F0.txt'), 'p1\0cinit\0u0\0\nf3\0tREG\0D0xfe01\0s1\0i5\0k1\0n/etc/passwd\0\n');
  assert.equal(runCli(none, ['lsof', 'import', path.join(none, 'none.F0.txt'), '-q']).code, 0);
  assert.deepEqual(runCli(none, ['list', '--json']), { code: 0, stdout: '[]\n', stderr: '' });
});

test('list --json of 300,000 items is written as it is read: every item, the same bytes, peak RSS under 250 MB (it was 1.4 GB: one string of it all)', (t) => {
  const caseDir = makeTempDir('lsof-import-list-stream', '/dev/shm');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  const capture = path.join(caseDir, 'all-deleted.F0.txt');
  // 33,334 processes, every file deleted: 300,000 items.
  writeLsofCapture(capture, 333_334, { allDeleted: true });
  const imported = runCli(caseDir, ['lsof', 'import', capture, '--json', '-q']);
  assert.equal(imported.code, 0, imported.stderr);
  assert.equal((JSON.parse(imported.stdout) as { items: number }).items, 300_000);
  const out = path.join(caseDir, 'list.json');
  const listed = runCliMeasured(caseDir, ['list', '--json'], out);
  assert.deepEqual([listed.code, listed.stderr], [0, '']);
  const text = fs.readFileSync(out, 'utf8');
  const items = JSON.parse(text) as LiveItemJson[];
  assert.equal(items.length, 300_000);
  assert.equal(text, `${JSON.stringify(items)}\n`);
  assert.deepEqual(items.at(-1), {
    id: 300_000, snapshot_id: 1, pid: 34_333, start_time: null, comm: 'worker-34333', exe: null, kind: 'fd', fd: 5, path: '/var/log/app/34333-5.log',
    path_b64: Buffer.from('/var/log/app/34333-5.log').toString('base64'), dev: '254:1', inode: 3_433_305, size: 5000, nlink: 0, mount_point: null, fs_type: null, fs_uuid: null,
    source: ['lsof'], map_range: null, lsof_note: 'seen by lsof only', thread_of: null, lease: null, lease_pid: null, process_flags: [],
  });
  process.stdout.write(`# list --json of 300,000 items: ${(text.length / 1e6).toFixed(0)} MB, peak RSS ${listed.peakMb.toFixed(0)} MB\n`);
  assert.ok(listed.peakMb < 250, `peak RSS ${listed.peakMb.toFixed(0)} MB`);
});

test('lsof import: a capture cut mid-field is partial (exit 3) and invents no name; a long file name is kept cut; junk is refused with bounded warnings', (t) => {
  const dir = makeTempDir('lsof-awkward');
  const caseDir = makeTempDir('lsof-awkward-case');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  // One whole deleted record, then one cut inside its name (no closing NUL), under a 250-byte file name.
  const capture = path.join(dir, 'x'.repeat(250));
  fs.writeFileSync(capture, 'p123\0cpy\0u0\0\nf3\0tREG\0D0xfe00\0s5\0i14\0k0\0n/var/tmp/whole (deleted)\0\nf4\0tREG\0D0xfe00\0s9\0i15\0k0\0n/var/tmp/fo');
  const imported = runCli(caseDir, ['lsof', 'import', capture, '--json']);
  assert.equal(imported.code, 3, imported.stderr);
  // Why the exit is 3, in the JSON as on stderr: which line, and what was wrong with it.
  const cut = 'line 3: the last line has no newline: the capture was cut off there; what it held is not taken';
  assert.deepEqual(pickImport(JSON.parse(imported.stdout) as Record<string, unknown>), { unreadable_lines: 1, warnings: [cut] });
  assert.ok(imported.stderr.startsWith(`warning: ${cut}\n`), imported.stderr);
  assert.deepEqual(json<LiveItemJson[]>(runCli(caseDir, ['list', '--json'])).map((item) => [item.fd, item.path, item.inode]), [[3, '/var/tmp/whole', 14]]);
  const [kept] = fs.readdirSync(path.join(caseDir, 'lsof'));
  assert.equal(kept, `import-${crypto.createHash('sha256').update(fs.readFileSync(capture)).digest('hex').slice(0, 16)}-${'x'.repeat(100)}`);
  assert.deepEqual(fs.readFileSync(path.join(caseDir, 'lsof', kept ?? '')), fs.readFileSync(capture));

  // 300,000 lines of junk: refused after 100,000 lines, with at most 10,000 warnings kept in memory.
  const junk = path.join(dir, 'junk.txt');
  fs.writeFileSync(junk, 'x\n'.repeat(300_000));
  const refused = runCli(caseDir, ['lsof', 'import', junk]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^unlinked: .*junk\.txt is not lsof output: no "COMMAND PID \.\.\." header and no "p<pid>" field in 100000 lines\n$/);

  // A capture that is not there creates no case for it.
  const never = path.join(dir, 'never');
  const missing = runCli(never, ['lsof', 'import', path.join(dir, 'missing.txt')]);
  assert.deepEqual([missing.code, missing.stderr, fs.existsSync(never)], [1, `unlinked: cannot read ${path.join(dir, 'missing.txt')}: no such file\n`, false]);
});

test('recover never reads this machine\'s /proc for items of imported lsof output, even when the PID and fd number exist here (root)', async (t) => {
  const dir = makeTempDir('lsof-foreign');
  const caseDir = makeTempDir('lsof-foreign-case', '/dev/shm');
  // A process here holds a deleted file at the very pid and fd number the capture of web01 names.
  const holder = await startHolder(dir, [{ kind: 'fd', name: 'local.log', content: Buffer.from('this machine, not web01') }]);
  t.after(async () => {
    await holder.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const held = holder.files[0];
  const capture = path.join(dir, 'web01.F0.txt');
  const device = `0x${((Math.floor((held?.dev ?? 0) / 256) << 8) | ((held?.dev ?? 0) % 256)).toString(16)}`;
  // -F0 output: fields end in NUL, a process set and a file set per line.
  fs.writeFileSync(capture, `p${holder.pid}\0csecretd\0\nf${held?.fd}\0tREG\0D${device}\0s1000000\0i${held?.inode}\0k0\0n/var/log/secret-on-web01.log\0\n`);
  assert.equal(runCli(caseDir, ['lsof', 'import', capture, '--host', 'web01']).code, 0);
  assert.deepEqual(json<LiveItemJson[]>(runCli(caseDir, ['list', '--json'])).map((item) => [item.pid, item.fd, item.path]), [[holder.pid, held?.fd, '/var/log/secret-on-web01.log']]);
  const recovered = runCli(caseDir, ['recover', '--json']);
  assert.equal(recovered.code, 3, recovered.stderr);
  const [copy] = json<Array<{ output: string | null; sha256: string | null; complete: boolean; note: string }>>(recovered);
  assert.deepEqual([copy?.output, copy?.sha256, copy?.complete], [null, null, false]);
  assert.match(copy?.note ?? '', /^not copied: the item comes from imported lsof output of host web01, not from this machine's \/proc/);
  assert.deepEqual(fs.readdirSync(path.join(caseDir, 'recovered')), []);
  // Beside a live snapshot: list --all says which snapshot each line is of, and what each snapshot is.
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  const all = runCli(caseDir, ['list', '--all']);
  assert.deepEqual(all.stdout.trimEnd().split('\n').map((line) => line.split('\t').slice(0, 3)), [['1', '1', String(holder.pid)], ['2', '2', String(holder.pid)]]);
  assert.match(all.stderr, /^snapshot 1: lsof import of web01 at \S+\nsnapshot 2: live \/proc walk of \S+ at \S+\n$/);
  // A host name that clears a terminal and reverses text is said in the display form, on stderr and in the note.
  assert.equal(runCli(caseDir, ['lsof', 'import', capture, '--host', 'h\x1b[2J\u202eX']).code, 0);
  const hostile = runCli(caseDir, ['recover', '--json']);
  const [said] = json<Array<{ note: string }>>(hostile);
  assert.match(said?.note ?? '', /^not copied: the item comes from imported lsof output of host h\\x1b\[2J\\xe2\\x80\\xaeX, not/);
  assert.ok(!hostile.stderr.includes('\x1b') && !hostile.stderr.includes('\u202e'), 'no raw control or bidi character on stderr');
});

test('a line of 3 MB (no newline for megabytes: a binary or damaged capture) is skipped without being held whole; the records around it are kept (exit 3)', (t) => {
  const dir = makeTempDir('lsof-longline');
  const caseDir = makeTempDir('lsof-longline-case', '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  // Large enough for the worker thread (8 MiB and more), each field a line (-F without 0): the long
  // line is the name of fd 4, whose set is dropped; fd 3 before it and fd 5 after it are whole.
  const capture = path.join(dir, 'long.F.txt');
  const filler = Array.from({ length: 60_000 }, (_, index) => `f${index + 10}\ntREG\nk1\nn/var/tmp/live-${index}\n`).join('');
  fs.writeFileSync(capture, `p4242\ncdb\nu0\nf3\ntREG\nk0\nn/var/tmp/before (deleted)\nf4\ntREG\nk0\nn/var/tmp/${'x'.repeat(3 << 20)}\nf5\ntREG\nk0\nn/var/tmp/after (deleted)\n${filler}${filler}${filler}${filler}`);
  assert.ok(fs.statSync(capture).size > 8 << 20);
  const imported = runCli(caseDir, ['lsof', 'import', capture, '--json']);
  assert.equal(imported.code, 3, imported.stderr);
  assert.match(imported.stderr, /line 11: line longer than 1,000,000 characters skipped/);
  const summary = JSON.parse(imported.stdout) as { unreadable_lines: number; warnings: string[] };
  assert.equal(summary.unreadable_lines, 1);
  assert.deepEqual(summary.warnings, imported.stderr.split('\n').filter((line) => line.startsWith('warning: ')).map((line) => line.slice('warning: '.length)));
  assert.match(summary.warnings.join('\n'), /line 11: line longer than 1,000,000 characters skipped/);
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.deepEqual(items.map((item) => [item.fd, item.path]), [[3, '/var/tmp/before'], [5, '/var/tmp/after']]);
});

test('lsof import stopped by Ctrl-C or SIGTERM: exit 1, no snapshot, no copy of the capture left in the case (parsed here, and in a worker)', async (t) => {
  const caseDir = makeTempDir('lsof-import-sigint', '/dev/shm');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  const lsofDir = path.join(caseDir, 'lsof');
  const snapshots = (): number => {
    const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
    try {
      return db.prepare('SELECT count(*) FROM snapshots').pluck().get() as number;
    } finally {
      db.close();
    }
  };
  for (const [lines, signal] of [[60_000, 'SIGINT'], [150_000, 'SIGTERM']] as const) {
    const capture = path.join(caseDir, `capture-${lines}.txt`);
    writeLsofCapture(capture, lines);
    // The signal races the import: an import done before it is taken is whole (exit 0, a snapshot,
    // the capture kept); one stopped leaves nothing. At least one of the tries must be stopped.
    let stopped = 0;
    for (let attempt = 0; attempt < 5 && stopped === 0; attempt++) {
      const before = fs.existsSync(path.join(caseDir, 'case.sqlite')) ? snapshots() : 0;
      const kept = fs.existsSync(lsofDir) ? fs.readdirSync(lsofDir).length : 0;
      const run = startCli(caseDir, ['lsof', 'import', capture, '-q']);
      const deadline = Date.now() + 20_000;
      while (!(fs.existsSync(lsofDir) && fs.readdirSync(lsofDir).some((name) => name.endsWith('.partial'))) && run.child.exitCode === null && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      run.child.kill(signal);
      const code = await run.exited;
      const partials = fs.readdirSync(lsofDir).filter((name) => name.endsWith('.partial'));
      assert.deepEqual(partials, [], 'no copy of the capture left');
      if (code === 0) {
        assert.equal(snapshots(), before + 1, 'an import that finished is whole');
        continue;
      }
      assert.equal(code, 1, `${lines} lines, ${signal}: ${run.stderr}`);
      assert.match(run.stderr, new RegExp(`unlinked: interrupted by ${signal}`));
      if (snapshots() !== before) {
        // Taken after its commit, before the exit: whole, with its capture kept.
        assert.deepEqual([snapshots(), fs.readdirSync(lsofDir).length], [before + 1, kept + 1]);
        continue;
      }
      assert.equal(fs.readdirSync(lsofDir).length, kept, 'no kept capture of a stopped import');
      stopped++;
    }
    assert.equal(stopped, 1, `${lines} lines: one of 5 imports was stopped by ${signal}`);
  }
});

test('lsof import says lsof\'s own warnings once, a capture imported before, and refuses an empty --host', (t) => {
  const caseDir = makeTempDir('lsof-import-said', '/dev/shm');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  const capture = path.join(caseDir, 'warned.F0.txt');
  fs.writeFileSync(capture, "p100\0ccmd\0u0\0\nf3\0tREG\0D0xfe00\0s5\0i77\0k0\0n/var/log/a.log (deleted)\0\nlsof: WARNING: can't stat() nfs file system /mnt/nfs\n      Output information may be incomplete.\n");
  const said = "warning: lsof itself warned 2 times in the capture (the first, line 3: lsof: WARNING: can't stat() nfs file system /mnt/nfs): what it could not read is not in it\n";
  const first = runCli(caseDir, ['lsof', 'import', capture]);
  assert.equal(first.code, 0, first.stderr);
  assert.ok(first.stderr.startsWith(said), first.stderr);
  assert.equal(json<LiveItemJson[]>(runCli(caseDir, ['list', '--json'])).length, 1, 'the set before the warning is kept');
  const again = runCli(caseDir, ['lsof', 'import', capture]);
  const sha = crypto.createHash('sha256').update(fs.readFileSync(capture)).digest('hex');
  const twice = `this capture (sha256 ${sha}) was imported before, as snapshot 1: its items are in the case 2 times now (list --snapshot N shows one import)`;
  assert.ok(again.stderr.includes(`warning: ${twice}\n`), again.stderr);
  // Kept with the second import's warnings, first: every report says it, not that run's stderr alone.
  const report = JSON.parse(runCli(caseDir, ['report', '--format', 'json', '--out', '-']).stdout) as { snapshots: Array<{ id: number; warnings: string[] }> };
  assert.deepEqual(report.snapshots.map((snapshot) => [snapshot.id, snapshot.warnings.filter((warning) => warning.startsWith('this capture')), snapshot.warnings[0]]), [[1, [], report.snapshots[0]?.warnings[0]], [2, [twice], twice]]);
  const html = runCli(caseDir, ['report', '--format', 'html', '--out', '-']).stdout;
  assert.ok(html.includes(`<li>${twice.replace(/'/g, '&#39;')}</li>`), 'in the HTML summary, under snapshot 2');
  const empty = runCli(caseDir, ['lsof', 'import', capture, '--host', '']);
  assert.deepEqual([empty.code, empty.stderr], [2, 'unlinked: --host is empty: give the name of the host the capture comes from, or leave --host out\n']);
});

test('lsof import into a case that cannot be written says so and where, not that the capture cannot be read: read-only media, a full disk (root)', (t) => {
  const dir = makeTempDir('lsof-import-unwritable');
  const capture = path.join(dir, 'cap.txt');
  fs.copyFileSync(fixture('plain-L1.txt'), capture);
  const big = path.join(dir, 'bigcap.txt');
  writeLsofCapture(big, 300_000); // 9 MB: more than the 6 MiB disk of the case below
  assert.ok(fs.statSync(big).size > 8 << 20);
  const caseDir = path.join(dir, 'case');
  assert.equal(runCli(caseDir, ['lsof', 'import', capture, '-q']).code, 0);
  const lsofDir = path.join(caseDir, 'lsof');
  // The case's lsof folder on read-only media (a bind mount of it, read-only).
  execFileSync('mount', ['--bind', lsofDir, lsofDir]);
  let mounted = true;
  const small = mountTmpfs('lsof-import-full', 6);
  t.after(() => {
    if (mounted) execFileSync('umount', [lsofDir]);
    small.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  execFileSync('mount', ['-o', 'remount,bind,ro', lsofDir]);
  const readOnly = runCli(caseDir, ['lsof', 'import', capture]);
  assert.equal(readOnly.code, 1);
  assert.equal(readOnly.stderr, `unlinked: cannot copy the capture into the case folder ${lsofDir}: its file system is read-only (the case keeps a copy of every capture it imports); nothing was imported\n`);
  execFileSync('umount', [lsofDir]);
  mounted = false;
  const full = runCli(small.dir, ['lsof', 'import', big]);
  assert.equal(full.code, 1);
  assert.equal(full.stderr, `unlinked: cannot copy the capture into the case folder ${path.join(small.dir, 'lsof')}: its file system has no space or no free inodes left (the case keeps a copy of every capture it imports); nothing was imported\n`);
  assert.deepEqual(fs.readdirSync(path.join(small.dir, 'lsof')), [], 'no part of the copy left');
  const db = new Database(path.join(small.dir, 'case.sqlite'), { readonly: true });
  assert.equal(db.prepare('SELECT count(*) FROM snapshots').pluck().get(), 0);
  db.close();
});

test('lsof import refuses a capture that cannot tell a deleted file (-Ff, -Fp, -Fpc, a plain header alone): exit 1, one line saying why and how to capture, nothing stored', async (t) => {
  const dir = makeTempDir('lsof-unjudged');
  const holder = await startHolder(dir, [{ kind: 'fd', name: 'held.log', content: Buffer.from('held') }]);
  t.after(async () => {
    await holder.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const lsof = (args: readonly string[]): string => execFileSync('lsof', ['-a', '+L1', '-p', String(holder.pid), ...args], { encoding: 'latin1' });
  const how = 'whether a file is deleted cannot be told from it, and a clean host cannot be told from such a capture; capture with lsof +L1 -F0pcuftDsikn (or plain lsof +L1): nothing imported';
  const captures: Array<[string, string, string]> = [
    ['Ff.txt', lsof(['-Ff']), 'lists 1 file, none with a link count (k, NLINK) or a name (n, NAME)'],
    ['Fp.txt', lsof(['-Fp']), 'lists no file at all (only process fields)'],
    ['Fpc.txt', lsof(['-Fpc']), 'lists no file at all (only process fields)'],
    ['header.txt', `${lsof([]).split('\n')[0] ?? ''}\n`, 'lists no file at all (only the header line)'],
  ];
  for (const [name, content, why] of captures) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content, 'latin1');
    const caseDir = path.join(dir, `case-${name}`);
    const refused = runCli(caseDir, ['lsof', 'import', file, '--json']);
    assert.deepEqual([refused.code, refused.stdout, refused.stderr], [1, '', `unlinked: ${file} ${why}: ${how}\n`], name);
    const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
    assert.deepEqual([db.prepare('SELECT count(*) AS n FROM snapshots').get(), fs.readdirSync(path.join(caseDir, 'lsof'))], [{ n: 0 }, []], name);
    db.close();
  }
  // -Fk alone (link counts, no names) and -Fn alone (names) can tell: imported.
  for (const fields of ['-Ffk', '-Ffn']) {
    const file = path.join(dir, `${fields}.txt`);
    fs.writeFileSync(file, lsof([fields]), 'latin1');
    const imported = runCli(path.join(dir, `case${fields}`), ['lsof', 'import', file, '--json']);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal((JSON.parse(imported.stdout) as { items: number }).items, 1, fields);
  }
});

test('a live snapshot whose lsof prints garbage (head -c 20000 /dev/urandom) says lsof failed: no cross-check claimed, nothing of it stored', (t) => {
  const dir = makeTempDir('lsof-garbage');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const wrappers = path.join(dir, 'bin');
  fs.mkdirSync(wrappers);
  fs.writeFileSync(path.join(wrappers, 'lsof'), '#!/bin/sh\nif [ "$1" = -v ]; then echo "lsof version 4.95.0" >&2; exit 0; fi\nhead -c 20000 /dev/urandom\n', { mode: 0o755 });
  const caseDir = path.join(dir, 'case');
  const snapshot = runCli(caseDir, ['snapshot', '--pid', String(process.pid), '--json'], { PATH: `${wrappers}:${process.env['PATH'] ?? ''}` });
  assert.equal(snapshot.code, 0, snapshot.stderr);
  const summary = JSON.parse(snapshot.stdout) as { lsof: string; cross_check: unknown; warnings: string[] };
  assert.match(summary.lsof, /^failed: its output is not lsof output: no "COMMAND PID \.\.\." header and no "p<pid>" field in \d+ lines$/);
  assert.equal(summary.cross_check, null);
  assert.deepEqual(summary.warnings, [`lsof failed, the snapshot holds the /proc walk only: ${summary.lsof.slice('failed: '.length)}`]);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  assert.deepEqual(db.prepare(`SELECT (SELECT count(*) FROM lsof_files) AS files, (SELECT count(*) FROM parse_warnings) AS warnings, (SELECT count(*) FROM items WHERE lsof_note IS NOT NULL) AS noted, (SELECT import_file FROM snapshots) AS file`).get(),
    { files: 0, warnings: 0, noted: 0, file: null });
  db.close();
  // lsof printing nothing (no deleted file open) is lsof's answer, not a failure.
  fs.writeFileSync(path.join(wrappers, 'lsof'), '#!/bin/sh\nif [ "$1" = -v ]; then echo "lsof version 4.95.0" >&2; exit 0; fi\nexit 1\n', { mode: 0o755 });
  const empty = runCli(path.join(dir, 'case2'), ['snapshot', '--pid', String(process.pid), '--json'], { PATH: `${wrappers}:${process.env['PATH'] ?? ''}` });
  assert.equal(empty.code, 0, empty.stderr);
  assert.deepEqual((JSON.parse(empty.stdout) as { lsof: string }).lsof, 'ran: 0 records, exit 1');
});

test('lsof import: lsof\'s own warnings are said with their count after any number of other warnings (25,000 junk lines before them); each kind of warning is said once, counted whole', (t) => {
  const dir = makeTempDir('lsof-warned-late', '/dev/shm');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const capture = path.join(dir, 't.txt');
  const junk = Array.from({ length: 25_000 }, (_value, index) => `x ${index + 1}\n`).join('');
  fs.writeFileSync(capture, `${fs.readFileSync(fixture('plain-L1.txt'), 'latin1')}${junk}lsof: WARNING: can't stat() fuse file system /x\n      Output information may be incomplete.\n`, 'latin1');
  const imported = runCli(path.join(dir, 'case'), ['lsof', 'import', capture]);
  assert.equal(imported.code, 3);
  assert.equal(imported.stderr, [
    "warning: lsof itself warned 2 times in the capture (the first, line 25007: lsof: WARNING: can't stat() fuse file system /x): what it could not read is not in it",
    'warning: 25000 lines of this kind (the first, line 7): cannot place "1" under a header column',
    "warning: 15000 of these warnings are counted but not kept in parse_warnings (it keeps the first 10,000 of lsof's own and of the others)",
    'snapshot 1 (lsof plain output, 25008 lines): 5 records, 5 deleted-but-open items (5 records stored), 25000 unreadable lines',
    '',
  ].join('\n'));
  const db = new Database(path.join(dir, 'case', 'case.sqlite'), { readonly: true });
  assert.deepEqual(db.prepare(`SELECT line, text FROM parse_warnings WHERE message = 'lsof warning' ORDER BY line`).all(), [
    { line: 25007, text: "lsof: WARNING: can't stat() fuse file system /x" }, { line: 25008, text: '      Output information may be incomplete.' },
  ]);
  db.close();
});

test('lsof import: a header or p field cut before its newline is said cut off (not "not lsof output"); an O_TMPFILE guess is noted; a thread\'s item of lsof -K bears its task command (M)', (t) => {
  const dir = makeTempDir('lsof-cut-head', '/dev/shm');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cut = 'the last line has no newline: the capture was cut off there; what it held is not taken';
  for (const [name, content] of [['header.txt', 'COMMAND  PID USER   FD   TYPE DEVICE SIZE/OFF NLINK     NODE NAME'], ['p.txt', 'p123\0']] as const) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content, 'latin1');
    const refused = runCli(path.join(dir, `case-${name}`), ['lsof', 'import', file]);
    assert.deepEqual([refused.code, refused.stderr], [1, `unlinked: no file of ${file} could be read: 1 unreadable line (line 1: ${cut}): nothing imported\n`], name);
  }
  // field-F0.txt holds a real O_TMPFILE (/var/tmp/lsoffix/#INODE (deleted)): lsof cannot tell it from a file renamed so.
  const caseDir = path.join(dir, 'case');
  assert.equal(runCli(caseDir, ['lsof', 'import', fixture('field-F0.txt')]).code, 0);
  const tmpfile = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json'])).find((item) => item.kind === 'tmpfile');
  assert.equal(tmpfile?.lsof_note, `seen by lsof only; kind tmpfile guessed from its name #${tmpfile?.inode} (the kernel names an O_TMPFILE file so; lsof cannot see open flags: a file renamed so, then deleted, looks the same)`);
  // lsof -K -F0pKMcuftDsikn: the process's set, then thread 101's (a table of its own: fd 4 not in the process's).
  const threads = path.join(dir, 'K.txt');
  fs.writeFileSync(threads, 'p100\0cmain\0u0\0\nf3\0tREG\0D0xfe00\0s5\0i77\0k0\0n/var/log/a.log (deleted)\0\n' +
    'p100\0K101\0Mworker\0cmain\0u0\0\nf3\0tREG\0D0xfe00\0s5\0i77\0k0\0n/var/log/a.log (deleted)\0\nf4\0tREG\0D0xfe00\0s6\0i78\0k0\0n/var/log/b.log (deleted)\0\n');
  const kCase = path.join(dir, 'case-K');
  assert.equal(runCli(kCase, ['lsof', 'import', threads]).code, 0);
  assert.deepEqual(json<LiveItemJson[]>(runCli(kCase, ['list', '--json'])).map((item) => [item.pid, item.comm, item.fd, item.path]).sort(), [
    [100, 'main', 3, '/var/log/a.log'], [101, 'worker', 4, '/var/log/b.log'],
  ]);
  const db = new Database(path.join(kCase, 'case.sqlite'), { readonly: true });
  assert.deepEqual(db.prepare('SELECT pid, comm, thread_of FROM processes').all(), [{ pid: 101, comm: 'worker', thread_of: 100 }]);
  db.close();
});

function pickImport(summary: Record<string, unknown>): Record<string, unknown> {
  return { unreadable_lines: summary['unreadable_lines'], warnings: summary['warnings'] };
}

test('list (text and --json, --all) into a file stops on a Ctrl-C within a moment, with the line that says so, exit 1 (written synchronously, it never gave node a turn to handle the signal: 3 Ctrl-Cs ignored, exit 0)', async (t) => {
  const caseDir = makeTempDir('lsof-import-list-signal', '/dev/shm');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  const capture = path.join(caseDir, 'all-deleted.F0.txt');
  // 200,000 items: about 70 MB of JSON, seconds to print.
  writeLsofCapture(capture, 222_223, { allDeleted: true });
  assert.equal(runCli(caseDir, ['lsof', 'import', capture, '-q']).code, 0);
  for (const args of [['list', '--all', '--json'], ['list', '--all'], ['list', '--json']]) {
    const out = path.join(caseDir, 'list.out');
    const fd = fs.openSync(out, 'w');
    const child = spawn(process.execPath, [cliPath, '--case', caseDir, ...args], { stdio: ['ignore', fd, 'pipe'] });
    fs.closeSync(fd);
    t.after(() => child.kill('SIGKILL'));
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await waitFor(() => fs.statSync(out).size > 0, 20_000, `${args.join(' ')} began printing`);
    child.kill('SIGINT');
    const signalled = Date.now();
    assert.equal(await exited, 1, `${args.join(' ')}: ${stderr}`);
    const tookMs = Date.now() - signalled;
    assert.ok(tookMs < 3000, `${args.join(' ')}: stopped ${tookMs} ms after the Ctrl-C`);
    assert.ok(stderr.endsWith('unlinked: interrupted by SIGINT; the list on stdout is cut short; nothing of this run is in the case\n'), stderr);
  }
});
