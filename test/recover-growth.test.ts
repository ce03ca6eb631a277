// A file that grows without end while it is copied (a memfd its holder truncates 1 GiB larger every
// millisecond: read as zeros for ever) ends its copy by itself, says why, and holds no later copy back.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { makeTempDir } from './helpers/holder.js';
import { killed } from './helpers/fuse.js';
import { firstLine } from './helpers/lines.js';
import { json, startCli, type RunningCli } from './helpers/cli.js';
import type { LiveItemJson } from '../src/store/items.js';
import type { RecoveredJson } from '../src/recover/recover.js';
import { GROWTH_ALLOWANCE_BYTES, copyRange, newCopyState } from '../src/recover/copy.js';

const sha256 = (data: Buffer) => crypto.createHash('sha256').update(data).digest('hex');
const MiB = 1024 * 1024;

/** sha256 of `prefix` followed by zeros up to `bytes` (what a copy of a memfd grown by ftruncate holds). */
function prefixAndZeros(prefix: Buffer, bytes: number): string {
  const hash = crypto.createHash('sha256').update(prefix);
  const zeros = Buffer.alloc(4 * MiB);
  for (let left = bytes - prefix.length; left > 0; left -= zeros.length) hash.update(zeros.subarray(0, Math.min(left, zeros.length)));
  return hash.digest('hex');
}

/**
 * A holder of three files: a memfd ('runaway') of 64 KiB of data (the file `runaway` in argv[1]) that
 * it truncates 1 GiB larger every millisecond, a small memfd ('small', from `small`) and a deleted
 * file on disk ('on-disk', from `disk`), which stay as they are.
 */
const RUNAWAY = String.raw`
import os, sys, time
runaway = os.memfd_create('runaway')
read = lambda name: open(os.path.join(sys.argv[1], name), 'rb').read()
os.write(runaway, read('runaway'))
small = os.memfd_create('small')
os.write(small, read('small'))
p = os.path.join(sys.argv[1], 'on-disk')
disk = os.open(p, os.O_CREAT | os.O_RDWR, 0o600)
os.write(disk, read('disk'))
os.unlink(p)
for name in ('runaway', 'small', 'disk'):
    os.unlink(os.path.join(sys.argv[1], name))
print(os.getpid(), flush=True)
size = os.fstat(runaway).st_size
while True:
    size += 1 << 30
    os.ftruncate(runaway, size)
    time.sleep(0.001)
`;

interface Runaway {
  pid: number;
  caseDir: string;
  contents: { runaway: Buffer; small: Buffer; disk: Buffer };
}

async function startRunaway(t: TestContext, name: string): Promise<Runaway> {
  // The file on disk under /var/tmp (the root file system), the case on /dev/shm: another file system.
  const dir = makeTempDir(name);
  const caseDir = makeTempDir(`${name}-case`, '/dev/shm');
  let holder: ChildProcess | null = null;
  // Registered first: removed even when the holder cannot be started.
  t.after(async () => {
    if (holder !== null) await killed(holder).stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const contents = { runaway: crypto.randomBytes(64 * 1024), small: Buffer.from('second stage\n'), disk: crypto.randomBytes(5000) };
  for (const [name, data] of Object.entries(contents)) fs.writeFileSync(path.join(dir, name), data);
  holder = spawn('python3', ['-c', RUNAWAY, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  return { pid: Number(await firstLine(holder)), caseDir, contents };
}

/** Run the CLI to its end; a run that would never end (the bug) is killed after `guardS` and fails the test, rather than hang it. */
async function ran(caseDir: string, args: readonly string[], guardS = 300): Promise<RunningCli & { code: number | null }> {
  const cli = startCli(caseDir, args);
  const guard = setTimeout(() => cli.child.kill('SIGKILL'), guardS * 1000);
  const code = await cli.exited;
  clearTimeout(guard);
  assert.notEqual(code, null, `unlinked ${args.join(' ')} did not end within ${guardS} s (killed): ${cli.stderr}`);
  return Object.assign(cli, { code });
}

/** The sizes of an item's last copy, as its row in the case says them. */
function sizes(caseDir: string, itemId: number): { start: number; end: number } {
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    const row = db.prepare('SELECT size_at_start AS start, size_at_end AS end FROM recoveries WHERE item_id = ? ORDER BY id DESC LIMIT 1').get(itemId) as { start: number; end: number };
    return row;
  } finally {
    db.close();
  }
}

function runawayNote({ start, end }: { start: number; end: number }, follow: boolean): string {
  assert.ok(end > start, JSON.stringify({ start, end }));
  return `point-in-time copy: the file grew from ${start} to ${end} bytes (by ${end - start}) while it was copied, faster than it was read ` +
    `(by at least as many bytes as the last ${GROWTH_ALLOWANCE_BYTES} read): the copy stopped at ${GROWTH_ALLOWANCE_BYTES} bytes rather than read for ever; ` +
    `the copy holds the file's first ${GROWTH_ALLOWANCE_BYTES} bytes, and its sha256 is theirs${follow ? '' : '; recover it again with --follow (bounded by --follow-timeout) for more'}`;
}

test('recover: a memfd grown 1 GiB every millisecond is copied up to where it outruns the copy (64 MiB), kept and hashed, incomplete with why; the item after it is still copied (root)', async (t) => {
  const runaway = await startRunaway(t, 'growth-recover');
  const snapshot = await ran(runaway.caseDir, ['snapshot', '--no-lsof', '--pid', String(runaway.pid)]);
  assert.equal(snapshot.code, 0, snapshot.stderr);
  const listed = await ran(runaway.caseDir, ['list', '--json']);
  const items = JSON.parse(listed.stdout) as LiveItemJson[];
  const id = (name: string): number => {
    const item = items.find((each) => each.kind === 'memfd' && each.path === `/memfd:${name}`);
    assert.ok(item !== undefined, JSON.stringify(items));
    return item.id;
  };
  // The runaway first: the one after it is copied only if its copy ends.
  const result = await ran(runaway.caseDir, ['recover', '--json', '--item', String(id('runaway')), '--item', String(id('small'))]);
  assert.equal(result.code, 3, result.stderr);
  const [grown, small] = json<RecoveredJson[]>({ code: result.code, stdout: result.stdout, stderr: result.stderr });
  assert.ok(grown !== undefined && small !== undefined);
  const expected = prefixAndZeros(runaway.contents.runaway, GROWTH_ALLOWANCE_BYTES);
  assert.deepEqual([grown.bytes, grown.sha256, grown.complete, grown.note], [GROWTH_ALLOWANCE_BYTES, expected, false, runawayNote(sizes(runaway.caseDir, grown.item_id), false)]);
  assert.ok(sizes(runaway.caseDir, grown.item_id).start > GROWTH_ALLOWANCE_BYTES, 'grown past the bound before its copy started: the bound is not the size at the start');
  // The copy on disk: those bytes, listed in SHA256SUMS (holes not written).
  assert.ok(grown.output !== null);
  const stat = fs.statSync(grown.output);
  assert.equal(stat.size, GROWTH_ALLOWANCE_BYTES);
  assert.ok(stat.blocks * 512 < 1 * MiB, `${stat.blocks} blocks`);
  assert.equal(prefixAndZeros(fs.readFileSync(grown.output).subarray(0, 64 * 1024), GROWTH_ALLOWANCE_BYTES), expected);
  const sums = fs.readFileSync(path.join(runaway.caseDir, 'recovered', 'SHA256SUMS'), 'utf8');
  assert.ok(sums.includes(`${expected}  ${path.basename(grown.output)}\n`), sums);
  assert.deepEqual([small.bytes, small.sha256, small.complete, small.note], [runaway.contents.small.length, sha256(runaway.contents.small), true, null]);
  assert.match(result.stderr, new RegExp(`warning: item ${grown.item_id} \\(pid ${runaway.pid} memfd fd \\d+\\): incomplete: point-in-time copy: the file grew from`));

  // With --follow, --follow-timeout ends it: its first pass as above, then followed (zeros of its holes read) for 1 s.
  const followed = await ran(runaway.caseDir, ['recover', '--json', '--follow', '--follow-timeout', '1', '--item', String(id('runaway'))]);
  assert.equal(followed.code, 3, followed.stderr);
  const [again] = json<RecoveredJson[]>({ code: followed.code, stdout: followed.stdout, stderr: followed.stderr });
  assert.ok(again !== undefined && again.output !== null);
  assert.equal(again.note, `still held open by process ${runaway.pid} after following for 1 s: the file may still grow`);
  assert.equal(again.complete, false);
  assert.ok(again.bytes >= GROWTH_ALLOWANCE_BYTES, String(again.bytes));
  assert.equal(fs.statSync(again.output).size, again.bytes);
  assert.equal(again.sha256, prefixAndZeros(runaway.contents.runaway, again.bytes));
});

test('triage: a memfd grown 1 GiB every millisecond ends its copy by itself (64 MiB, hashed, incomplete with why); the other items are copied and the reports written (root)', async (t) => {
  const runaway = await startRunaway(t, 'growth-triage');
  const result = await ran(runaway.caseDir, ['triage', '--no-lsof', '--json']);
  assert.equal(result.code, 3, result.stderr);
  const summary = JSON.parse(result.stdout) as { reports: { html: string; csv: string } };
  const db = new Database(path.join(runaway.caseDir, 'case.sqlite'), { readonly: true });
  try {
    const rows = db.prepare(`SELECT i.kind, i.path, r.bytes, r.sha256, r.complete, r.note, r.size_at_start, r.size_at_end FROM items i JOIN recoveries r ON r.item_id = i.id WHERE i.pid = ? AND i.kind IN ('memfd', 'fd') ORDER BY r.bytes`)
      .all(runaway.pid) as Array<{ kind: string; path: Buffer; bytes: number; sha256: string; complete: number; note: string | null; size_at_start: number; size_at_end: number }>;
    const ours = rows.filter((row) => /^(\/memfd:(runaway|small)|.*\/on-disk)$/.test(row.path.toString()));
    assert.deepEqual(ours.map((row) => [row.path.toString().replace(/^.*\/on-disk/, 'on-disk'), row.bytes, row.sha256, row.complete]), [
      ['/memfd:small', runaway.contents.small.length, sha256(runaway.contents.small), 1],
      ['on-disk', runaway.contents.disk.length, sha256(runaway.contents.disk), 1],
      ['/memfd:runaway', GROWTH_ALLOWANCE_BYTES, prefixAndZeros(runaway.contents.runaway, GROWTH_ALLOWANCE_BYTES), 0],
    ]);
    const grown = ours[2];
    assert.ok(grown !== undefined);
    assert.equal(grown.note, runawayNote({ start: grown.size_at_start, end: grown.size_at_end }, false));
    // The reports, written after the copies, say so.
    const csv = fs.readFileSync(summary.reports.csv, 'utf8');
    assert.ok(csv.includes(`,complete,${sha256(runaway.contents.small)},${runaway.contents.small.length},`), csv);
    assert.ok(csv.includes(`,complete,${sha256(runaway.contents.disk)},${runaway.contents.disk.length},`), csv);
    assert.ok(csv.includes(prefixAndZeros(runaway.contents.runaway, GROWTH_ALLOWANCE_BYTES)), 'the CSV lists the copy of the runaway memfd');
    const html = fs.readFileSync(summary.reports.html, 'utf8');
    assert.doesNotMatch(html, /class="stage"/);
    assert.ok(html.includes('faster than it was read'), 'the HTML report says why the copy ended');
  } finally {
    db.close();
  }
});

test('copyRange with a readLimit: a file that grows slower than it is read, but on past the limit, is read to the limit and no further; without one it is read to its end', async (t) => {
  const dir = makeTempDir('growth-limit', '/dev/shm');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const source = path.join(dir, 'source');
  const data = crypto.randomBytes(32 * MiB);
  fs.writeFileSync(source, data);
  const copy = async (limit: number | null): Promise<{ bytes: number; sha256: string; bounded: string | null; size: number }> => {
    fs.truncateSync(source, data.length);
    const input = fs.openSync(source, 'r+');
    const outputPath = path.join(dir, `copy-${String(limit)}`);
    const output = fs.openSync(outputPath, 'w');
    try {
      const state = newCopyState();
      state.readLimit = limit;
      // 3 MiB appended (zeros) for every 4 MiB chunk copied, up to 100 MiB, where the copy catches up with it.
      await copyRange(input, output, state, () => {
        const size = fs.fstatSync(input).size;
        if (size < 100 * MiB) fs.ftruncateSync(input, Math.min(100 * MiB, size + 3 * MiB));
      });
      return { bytes: state.bytes, sha256: state.hash.digest('hex'), bounded: state.bounded, size: fs.fstatSync(input).size };
    } finally {
      fs.closeSync(input);
      fs.closeSync(output);
    }
  };
  const limit = data.length + GROWTH_ALLOWANCE_BYTES;
  assert.deepEqual(await copy(limit), { bytes: limit, sha256: prefixAndZeros(data, limit), bounded: 'limit', size: 100 * MiB });
  assert.deepEqual(await copy(null), { bytes: 100 * MiB, sha256: prefixAndZeros(data, 100 * MiB), bounded: null, size: 100 * MiB });
});
