// src/exec/run.ts, the one wrapper around execa: a program whose output cannot be taken (the
// consumer fails: ENOSPC on the case disk, a guard that stops a copy) is stopped at once, its
// command row says why, and run() fails with the consumer's own error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { run, versionLimits, type CommandRecord } from '../src/exec/run.js';
import { cliPath, repoRoot } from './helpers/paths.js';
import { pathToFileURL } from 'node:url';
import { firstLine } from './helpers/lines.js';
import { waitFor } from './helpers/wait.js';
import { copyTimeoutMs } from '../src/tools/limits.js';
import { ilsRemoved } from '../src/tools/ils.js';
import { lsofLimits, startLsof } from '../src/tools/lsof.js';
import { makeTempDir } from './helpers/holder.js';
import { makeDeletedImage } from './helpers/images.js';
import { runCli } from './helpers/cli.js';

test('run(): a stdout consumer that fails stops the program at once, the command is recorded with why, and run() fails with that error', async () => {
  const records: CommandRecord[] = [];
  let chunks = 0;
  const started = Date.now();
  // 100 GiB of zeros: run to its end it would take minutes.
  const args = ['if=/dev/zero', 'bs=1M', 'count=102400', 'status=none'];
  await assert.rejects(
    run('dd', args, {
      timeoutMs: 120_000,
      recorder: (record) => records.push(record),
      streamStdout: {
        consume: async () => {
          chunks++;
          if (chunks === 3) throw new Error('ENOSPC: no space left on device, write');
        },
        stallMs: 30_000,
      },
    }),
    (error: Error) => error.message === 'ENOSPC: no space left on device, write',
  );
  assert.equal(chunks, 3, 'nothing handed on after the failure');
  assert.ok(Date.now() - started < 20_000, `dd stopped, not run to its end (${Date.now() - started} ms)`);
  const dd = records.filter((record) => record.program === 'dd' && record.argv.includes('if=/dev/zero'));
  assert.equal(dd.length, 1);
  assert.equal(dd[0]?.error, 'stopped: what it sent could not be taken: ENOSPC: no space left on device, write');
  assert.deepEqual(dd[0]?.argv, args);
});

test('run(): a streamed program still silent at its deadline (a read that has not answered) is killed then, not at the stall timeout; the command is recorded with why, and run() fails with the deadline\'s error', async (t) => {
  const dir = makeTempDir('run-deadline');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  // A FIFO no one writes to: dd waits in its open, sending nothing.
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const records: CommandRecord[] = [];
  let chunks = 0;
  let reached = 0;
  const args = [`if=${fifo}`, 'bs=1M', 'status=none'];
  const started = Date.now();
  await assert.rejects(
    run('dd', args, {
      timeoutMs: 0,
      abandonAfterMs: 500,
      recorder: (record) => records.push(record),
      streamStdout: {
        consume: async () => {
          chunks++;
        },
        stallMs: 10_000,
        deadline: {
          at: Date.now() + 500,
          reached: () => {
            reached++;
            return new Error('the copy reached the time it was allowed to read until');
          },
        },
      },
    }),
    (error: Error) => error.message === 'the copy reached the time it was allowed to read until',
  );
  assert.ok(Date.now() - started < 8_000, `killed at the deadline, not at the stall timeout (${Date.now() - started} ms)`);
  assert.deepEqual({ chunks, reached }, { chunks: 0, reached: 1 });
  const dd = records.filter((record) => record.program === 'dd' && record.argv.includes(`if=${fifo}`));
  assert.deepEqual(dd.map((record) => [record.argv, record.exitCode, record.error]), [[args, null, 'killed at its deadline: the copy reached the time it was allowed to read until']]);
});

test('ils printing more than V8\'s longest string (600 MiB: millions of deleted inodes) is parsed as it comes, in pieces of whole lines: its rows kept, each bad line a warning with its line number, never "Cannot create a string longer than"', { timeout: 120_000 }, async (t) => {
  const dir = makeTempDir('ils-huge');
  // A stand-in ils (used nowhere else in this file: programs are resolved once per process): its
  // header, a row, 600 lines of 1 MiB that are no row, and a last row without its newline.
  const wrappers = path.join(dir, 'bin');
  fs.mkdirSync(wrappers);
  fs.writeFileSync(path.join(wrappers, 'ils'), `#!/usr/bin/python3
import sys
if sys.argv[1:] == ['-V']:
    print('The Sleuth Kit ver 4.11.1'); sys.exit(0)
out = sys.stdout.buffer
out.write(b'class|host|device|start_time\\nils|h|/img|1\\nst_ino|st_alloc|st_uid|st_gid|st_mtime|st_atime|st_ctime|st_crtime|st_mode|st_nlink|st_size\\n12|f|0|0|1|2|3|4|644|0|30000\\n')
line = b'x' * (1 << 20) + b'\\n'
for _ in range(600): out.write(line)
out.write(b'13|f|0|0|1|2|3|4|600|0|5')
`, { mode: 0o755 });
  const savedPath = process.env['PATH'];
  process.env['PATH'] = `${wrappers}:${savedPath ?? ''}`;
  t.after(() => {
    process.env['PATH'] = savedPath;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const records: CommandRecord[] = [];
  const listed = await ilsRemoved('/nonexistent.img', 0, (record) => records.push(record));
  assert.deepEqual(listed.records.map((inode) => [inode.inode, inode.perms, inode.size]), [[12, 0o644, 30000], [13, 0o600, 5]]);
  assert.equal(listed.warnings.length, 600);
  assert.deepEqual(listed.warnings[0], { line: 5, message: 'unreadable ils line', text: `${'x'.repeat(200)}…` });
  assert.deepEqual(listed.warnings.at(-1)?.line, 604);
  assert.equal(listed.stoppedEarly, null);
  assert.deepEqual(records.filter((record) => record.program === 'ils').map((record) => [record.argv, record.exitCode, record.error]), [[['-r', '/nonexistent.img'], 0, null]]);
});

test('a copy timeout never exceeds what a timer can wait: a 64 TiB inode size does not time out at once', () => {
  assert.equal(copyTimeoutMs(1 << 30), 11 * 60_000);
  assert.equal(copyTimeoutMs(null), 10 * 60_000);
  assert.equal(copyTimeoutMs(64 * 2 ** 40), 2 ** 31 - 1);
});

test('an lsof killed at its timeout whose own child keeps its stderr open (stuck in the kernel) is given up: the snapshot is not held forever', async (t) => {
  const dir = makeTempDir('lsof-hang');
  // A stand-in lsof: answers -v, else leaves a child holding stderr (as lsof's stat helper stuck on a
  // dead mount would) and hangs itself. The child's PID is written down so the test ends it.
  const wrappers = path.join(dir, 'bin');
  fs.mkdirSync(wrappers);
  fs.writeFileSync(path.join(wrappers, 'lsof'), `#!/bin/sh\n[ "$1" = -v ] && { echo 'lsof version 4.95.0' >&2; exit 0; }\nsleep 600 &\necho $! > '${dir}/child.pid'\nexec sleep 600\n`, { mode: 0o755 });
  const savedPath = process.env['PATH'];
  const saved = { ...lsofLimits };
  process.env['PATH'] = `${wrappers}:${savedPath ?? ''}`;
  Object.assign(lsofLimits, { timeoutMs: 1_000, abandonAfterMs: 1_000 });
  t.after(() => {
    process.env['PATH'] = savedPath;
    Object.assign(lsofLimits, saved);
    const child = Number(fs.readFileSync(path.join(dir, 'child.pid'), 'utf8'));
    if (child > 0) process.kill(child, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const records: CommandRecord[] = [];
  const started = Date.now();
  const { done } = await startLsof(path.join(dir, 'capture.F0.txt'), (record) => records.push(record), { exempt: [], skipPids: [] });
  await assert.rejects(done, /^UnlinkedError: lsof \+L1 -n -P -F0pcuftDsikn: timed out after 1 s and could not be killed$|timed out after 1 s and could not be killed/);
  assert.ok(Date.now() - started < 10_000, `given up after ${Date.now() - started} ms`);
  const lsof = records.filter((record) => record.program === 'lsof' && record.argv[0] === '+L1');
  assert.deepEqual(lsof.map((record) => [record.exitCode, record.error]), [[null, 'timed out after 1000 ms; still there 1000 ms after SIGKILL (an uninterruptible wait): left behind']]);
});

test('a version check whose program leaves a child holding its pipes (sleep 40 & exec sleep 40) is killed and given up: the command is not held, its version unknown (null)', { timeout: 30_000 }, async (t) => {
  const dir = makeTempDir('version-hang');
  // A stand-in mactime (used nowhere else in this file: programs are resolved once per process):
  // its -V leaves a child holding stdout and stderr, and hangs itself; anything else answers at once.
  const wrappers = path.join(dir, 'bin');
  fs.mkdirSync(wrappers);
  fs.writeFileSync(path.join(wrappers, 'mactime'), `#!/bin/sh\nif [ "$1" = -V ]; then sleep 600 & echo $! > '${dir}/child.pid'; exec sleep 600; fi\necho ok\n`, { mode: 0o755 });
  const savedPath = process.env['PATH'];
  const saved = { ...versionLimits };
  process.env['PATH'] = `${wrappers}:${savedPath ?? ''}`;
  Object.assign(versionLimits, { timeoutMs: 1_000, abandonAfterMs: 1_000 });
  t.after(() => {
    process.env['PATH'] = savedPath;
    Object.assign(versionLimits, saved);
    const child = Number(fs.readFileSync(path.join(dir, 'child.pid'), 'utf8'));
    if (child > 0) process.kill(child, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const records: CommandRecord[] = [];
  const started = Date.now();
  const result = await run('mactime', ['-b', '/dev/null'], { timeoutMs: 60_000, recorder: (record) => records.push(record) });
  const took = Date.now() - started;
  assert.equal(result.stdout.toString(), 'ok\n');
  assert.ok(took >= 1_900 && took < 6_000, `given up after the version check's 1 s + 1 s (${took} ms)`);
  assert.deepEqual(records.map((record) => [record.program, record.version, record.exitCode, record.error]), [['mactime', null, 0, null]]);
  const record = records[0] as CommandRecord;
  // Dated when mactime ended, not when its version check was given up.
  assert.ok(Date.parse(record.finishedAt) - Date.parse(record.startedAt) < 1_000, `${record.startedAt} .. ${record.finishedAt}`);
});

test('run from a directory deleted meanwhile (a responder\'s shell where an attacker removed it): lsof and the Sleuth Kit still run, a relative path is one line (root)', (t) => {
  const dir = makeTempDir('gonecwd');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const image = path.join(dir, 'small.img');
  fs.writeFileSync(image, '');
  fs.truncateSync(image, 8 << 20);
  execFileSync('mkfs.ext4', ['-q', '-F', image]);
  const gone = path.join(dir, 'gone');
  /** The CLI started in GONE, which is removed first (rmdir of the shell's own directory). */
  const fromGone = (args: readonly string[]) => {
    fs.mkdirSync(gone);
    const result = spawnSync('sh', ['-c', 'cd "$1" && rmdir "$1" && shift && exec "$@"', 'sh', gone, process.execPath, cliPath, ...args], { encoding: 'utf8' });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const caseDir = path.join(dir, 'case');
  const snapshot = fromGone(['--case', caseDir, 'snapshot', '--pid', String(process.pid), '--json']);
  assert.equal(snapshot.code, 0, snapshot.stderr);
  assert.match((JSON.parse(snapshot.stdout) as { lsof: string }).lsof, /^ran: /);
  const scan = fromGone(['--case', caseDir, 'image', 'scan', image, '--json']);
  assert.equal(scan.code, 0, scan.stderr);
  const relative = fromGone(['--case', 'case', 'list']);
  assert.deepEqual([relative.code, relative.stderr], [1, 'unlinked: the current directory no longer exists (deleted): "case" cannot be found from it; cd to another directory, or give the path absolute\n']);
});

test('debugfs prints its version at every run: the first run\'s own banner is its version, no `debugfs -V` of its own', async (t) => {
  const dir = makeTempDir('debugfs-banner');
  // A stand-in debugfs that writes down how it was called and runs the real one (resolved once per
  // process: debugfs runs nowhere else in this file).
  const real = execFileSync('bash', ['-c', 'PATH="$PATH:/usr/sbin:/sbin" command -v debugfs'], { encoding: 'utf8' }).trim();
  const wrappers = path.join(dir, 'bin');
  fs.mkdirSync(wrappers);
  const calls = path.join(dir, 'calls.txt');
  fs.writeFileSync(path.join(wrappers, 'debugfs'), `#!/bin/sh\necho "$*" >> '${calls}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
  const savedPath = process.env['PATH'];
  process.env['PATH'] = `${wrappers}:${savedPath ?? ''}`;
  t.after(() => {
    process.env['PATH'] = savedPath;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const versionLine = spawnSync(real, ['-V'], { encoding: 'utf8' }).stderr.split('\n')[0];
  assert.match(versionLine ?? '', /^debugfs \d+\.\d+/);
  const records: CommandRecord[] = [];
  const recorder = (record: CommandRecord) => records.push(record);
  await Promise.all([run('debugfs', ['-f', '/dev/null'], { timeoutMs: 10_000, recorder }), run('debugfs', ['-f', '/dev/null', '-n'], { timeoutMs: 10_000, recorder })]);
  await run('debugfs', ['-f', '/dev/null'], { timeoutMs: 10_000, recorder });
  assert.deepEqual(records.map((record) => record.version), [versionLine, versionLine, versionLine]);
  assert.deepEqual(fs.readFileSync(calls, 'utf8').split('\n').filter(Boolean).sort(), ['-f /dev/null', '-f /dev/null', '-f /dev/null -n'], 'no -V run');
});

test('a debugfs that refuses unlinked\'s arguments (e2fsprogs 1.42 has no -n): the failure said and recorded is its complaint, not the version banner it prints first; the version is that banner', (t) => {
  const dir = makeTempDir('old-debugfs');
  const caseDir = makeTempDir('old-debugfs-case', '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const { image } = makeDeletedImage(dir, 'ext2', Buffer.from('gone'));
  // What e2fsprogs 1.42.9's debugfs says (debugfs/debugfs.c v1.42.9: getopt "iwfecb:s:d:D", no n), banner first.
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'debugfs'), `#!/bin/sh
echo 'debugfs 1.42.9 (4-Feb-2014)' >&2
echo "$0: invalid option -- 'n'" >&2
echo "Usage: $0 [-b blocksize] [-s superblock] [-f cmd_file] [-R request] [-V] [[-w] [-c] device]" >&2
exit 1
`, { mode: 0o755 });
  const scan = runCli(caseDir, ['image', 'scan', image], { PATH: `${bin}:${process.env['PATH'] ?? ''}` });
  assert.equal(scan.code, 3, scan.stderr);
  assert.match(scan.stderr, new RegExp(`^warning: sector 0: debugfs stat failed: debugfs exited with code 1: ${bin}/debugfs: invalid option -- 'n'$`, 'm'));
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    const rows = db.prepare("SELECT path, version, exit_code, error FROM commands WHERE program = 'debugfs'").raw().all();
    assert.ok(rows.length > 0);
    for (const row of rows) assert.deepEqual(row, [path.join(bin, 'debugfs'), 'debugfs 1.42.9 (4-Feb-2014)', 1, `${bin}/debugfs: invalid option -- 'n'`]);
  } finally {
    db.close();
  }
});

test('a program not on PATH (a responder\'s PATH of a trusted toolkit) is run from the directories looked in after it only with a warning, once per program; its commands row names what ran; on PATH it is taken from there, without a word', (t) => {
  const dir = makeTempDir('outside-path');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const image = path.join(dir, 'small.img');
  fs.writeFileSync(image, '');
  fs.truncateSync(image, 8 << 20);
  execFileSync('mkfs.ext4', ['-q', '-F', image]);
  // A toolkit of node alone, and one of node and every program an image scan needs.
  const scanTools = ['mmls', 'fsstat', 'ils', 'fls', 'icat', 'istat', 'debugfs'];
  const found = Object.fromEntries(scanTools.map((tool) => [tool, execFileSync('sh', ['-c', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$1"', 'sh', tool], { encoding: 'utf8' }).trim()]));
  const nodeOnly = path.join(dir, 'node-only');
  const toolkit = path.join(dir, 'toolkit');
  for (const kit of [nodeOnly, toolkit]) {
    fs.mkdirSync(kit);
    fs.symlinkSync(process.execPath, path.join(kit, 'node'));
  }
  for (const tool of scanTools) fs.symlinkSync(found[tool] ?? '', path.join(toolkit, tool));
  const scanWith = (kit: string, caseName: string) => {
    const caseDir = path.join(dir, caseName);
    const result = spawnSync(path.join(kit, 'node'), [cliPath, '--case', caseDir, 'image', 'scan', image, '-q'], { encoding: 'utf8', env: { PATH: kit } });
    const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
    const paths = db.prepare('SELECT DISTINCT program, path FROM commands ORDER BY program').all() as Array<{ program: string; path: string }>;
    db.close();
    return { code: result.status, stderr: result.stderr, paths };
  };
  const outside = scanWith(nodeOnly, 'case-outside');
  assert.equal(outside.code, 0, outside.stderr);
  assert.equal(outside.stderr, scanTools.map((tool) => `warning: ${tool} is not on PATH: using ${found[tool]}, from the directories unlinked looks in after PATH; put a copy you trust on PATH to run that one instead\n`).join(''));
  // What ran (fls, fsstat, ils and mmls always; debugfs when the scan looks at the root directory): from where it was found.
  assert.deepEqual(outside.paths, outside.paths.map(({ program }) => ({ program, path: found[program] })));
  assert.deepEqual(['fls', 'fsstat', 'ils', 'mmls'].filter((program) => outside.paths.some((row) => row.program === program)), ['fls', 'fsstat', 'ils', 'mmls']);
  const onPath = scanWith(toolkit, 'case-toolkit');
  assert.deepEqual([onPath.code, onPath.stderr], [0, '']);
  assert.deepEqual(onPath.paths, onPath.paths.map(({ program }) => ({ program, path: path.join(toolkit, program) })));
  assert.deepEqual(['fls', 'fsstat', 'ils', 'mmls'].filter((program) => onPath.paths.some((row) => row.program === program)), ['fls', 'fsstat', 'ils', 'mmls']);
});

test('snapshot --json: a program taken from outside PATH (lsof) is in its `warnings` as on stderr, every warning line said in order (root)', (t) => {
  const dir = makeTempDir('outside-path-json');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const lsof = execFileSync('sh', ['-c', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v lsof'], { encoding: 'utf8' }).trim();
  const nodeOnly = path.join(dir, 'node-only');
  fs.mkdirSync(nodeOnly);
  fs.symlinkSync(process.execPath, path.join(nodeOnly, 'node'));
  const result = spawnSync(path.join(nodeOnly, 'node'), [cliPath, '--case', path.join(dir, 'case'), 'snapshot', '--pid', String(process.pid), '--json', '-q'], { encoding: 'utf8', env: { PATH: nodeOnly } });
  assert.equal(result.status, 0, result.stderr);
  const said = result.stderr.split('\n').filter((line) => line.startsWith('warning: ')).map((line) => line.slice('warning: '.length));
  assert.equal(said[0], `lsof is not on PATH: using ${lsof}, from the directories unlinked looks in after PATH; put a copy you trust on PATH to run that one instead`);
  assert.deepEqual((JSON.parse(result.stdout) as { warnings: string[] }).warnings, said);
});

test('a program run() started dies with unlinked: SIGKILL of unlinked (the OOM killer) kills it within a second; its commands row names the program itself, not setpriv, and one whose output goes into the case (recordFromStart) has its row from before its spawn, not ended', async (t) => {
  const dir = makeTempDir('pdeath');
  const script = path.join(dir, 'runs-dd.mjs');
  const runModule = pathToFileURL(path.join(repoRoot, 'dist', 'src', 'exec', 'run.js')).href;
  fs.writeFileSync(script, `
import { run } from ${JSON.stringify(runModule)};
const records = [];
await run('dd', ['if=/dev/zero', 'of=/dev/null', 'count=1', 'status=none'], { timeoutMs: 10000, recorder: (record) => records.push(record) });
process.stdout.write(JSON.stringify(records[0]) + '\\n');
// Runs until it is killed: reading zeros a byte at a time. Its row is written as it starts (as a copy's dd into recovered/ is), and never completed.
const recorder = Object.assign((record) => process.stdout.write(JSON.stringify({ ended: record }) + '\\n'), {
  start: (started) => {
    process.stdout.write(JSON.stringify({ started }) + '\\n');
    return (record) => process.stdout.write(JSON.stringify({ ended: record }) + '\\n');
  },
});
await run('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'status=none'], { timeoutMs: 600000, recorder, recordFromStart: true });
`);
  const parent = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let dd: number | undefined;
  t.after(() => {
    parent.kill('SIGKILL');
    if (dd !== undefined && alive(dd)) process.kill(dd, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  let printed = '';
  parent.stdout.on('data', (data: Buffer) => (printed += data.toString()));
  const record = JSON.parse(await firstLine(parent)) as CommandRecord;
  assert.equal(record.program, 'dd');
  assert.equal(record.path, execFileSync('sh', ['-c', 'command -v dd'], { encoding: 'utf8' }).trim());
  assert.deepEqual(record.argv, ['if=/dev/zero', 'of=/dev/null', 'count=1', 'status=none']);
  assert.equal(record.exitCode, 0);
  assert.match(record.version ?? '', /^dd \((GNU )?coreutils\) \d/);
  const ddOf = (): number | undefined => fs.readFileSync(`/proc/${parent.pid}/task/${parent.pid}/children`, 'latin1').trim().split(/\s+/).filter(Boolean).map(Number)
    .find((kid) => fs.readFileSync(`/proc/${kid}/cmdline`, 'latin1') === 'dd\0if=/dev/zero\0of=/dev/null\0bs=1\0status=none\0' || fs.readFileSync(`/proc/${kid}/cmdline`, 'latin1').endsWith('/dd\0if=/dev/zero\0of=/dev/null\0bs=1\0status=none\0'));
  await waitFor(() => (dd = ddOf()) !== undefined, 10_000, 'dd running');
  // Written before dd was spawned: program, path, argv, start; no exit code nor end (CommandStart).
  await waitFor(() => printed.split('\n').length > 2, 5000, 'the row of the running dd');
  const started = JSON.parse(printed.split('\n')[1] ?? '') as { started?: Record<string, unknown> };
  assert.deepEqual(Object.keys(started.started ?? {}).sort(), ['argv', 'path', 'program', 'requests', 'startedAt', 'version']);
  assert.deepEqual([started.started?.['program'], started.started?.['path'], started.started?.['argv']], ['dd', record.path, ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'status=none']]);
  // dd's version was known by then (the first dd's lookup): the row carries it from the start.
  assert.equal(started.started?.['version'], record.version);
  parent.kill('SIGKILL');
  const killedAt = Date.now();
  await waitFor(() => !alive(dd!) || Date.now() - killedAt > 1000, 2000);
  assert.equal(alive(dd!), false, `dd (pid ${dd}) still runs ${Date.now() - killedAt} ms after unlinked was killed`);
  await new Promise((resolve) => (parent.stdout.closed ? resolve(null) : parent.stdout.once('close', resolve)));
  assert.equal(printed.split('\n').length, 3, `no end recorded: unlinked was killed while dd ran: ${printed}`);
});

/** Running (not gone, nor a zombie waiting to be reaped). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /s.test(fs.readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return false;
  }
}
