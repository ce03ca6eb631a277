// The bounds of a followed copy (docs/recovery.md, "Growing files"): --follow-timeout ends a pass
// of a file on a FUSE mount in the middle of its dd's read, and the last pass after the holder
// closed a file that something else still grows stops at its bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { json, runCli, startCli, type RunningCli } from './helpers/cli.js';
import { killed, mountTestFuse } from './helpers/fuse.js';
import { firstLine } from './helpers/lines.js';
import { makeTempDir } from './helpers/holder.js';
import { GROWTH_ALLOWANCE_BYTES } from '../src/recover/copy.js';
import type { LiveItemJson } from '../src/store/items.js';
import type { RecoveredJson } from '../src/recover/recover.js';

const sha256 = (data: Buffer): string => crypto.createHash('sha256').update(data).digest('hex');

/** The note on a copy from FUSE (no birth time): custody rested on device, inode and name. */
const NAME_ONLY = 'custody by device, inode and name only (no birth time to compare): a later file given the same inode number and the same name could not be told from it';

/** The first `length` bytes of growfs.c's "grow": byte i is i % 251. */
function grownContent(length: number): Buffer {
  const content = Buffer.alloc(length);
  for (let index = 0; index < length; index++) content[index] = index % 251;
  return content;
}

/** Wait for the CLI's exit at most `withinMs`; one that is still running then is killed (SIGKILL) and fails the test. */
async function endsWithin(cli: RunningCli, withinMs: number, what: string): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), withinMs);
  });
  const code = await Promise.race([cli.exited, late]);
  clearTimeout(timer);
  if (code === 'late') {
    cli.child.kill('SIGKILL');
    await cli.exited;
    assert.fail(`${what}: still running ${withinMs} ms after it started (killed): ${cli.stderr}`);
  }
  assert.notEqual(code, null, cli.stderr);
  return code as number;
}

/** PIDs of the processes whose command line names `needle` (a dd reading /proc/PID/fd/N, say). */
function processesNaming(needle: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`).toString('latin1').split('\0').includes(needle)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

test('recover --follow of a FUSE file still being read by dd when --follow-timeout ends: dd is killed then, what arrived is kept and hashed, incomplete with why, no dd left running (root)', async (t) => {
  // growfs.c: "grow" is 100000 bytes; read from there on (a follow pass) it grows without end, and
  // each open's reads after its fourth 64 KiB piece wait (a slow server) until interrupted.
  const { caseDir, mountPoint, holders } = await mountTestFuse(t, 'growfs', (at) => [at]);
  const reader = spawn('python3', ['-c', 'import os, sys, time\nfd = os.open(sys.argv[1], os.O_RDONLY)\nos.unlink(sys.argv[1])\nprint(os.getpid(), flush=True)\ntime.sleep(600)', path.join(mountPoint, 'grow')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  holders.push(killed(reader));
  const readerPid = Number(await firstLine(reader));
  const snapshot = runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(readerPid)]);
  assert.equal(snapshot.code, 0, snapshot.stderr);
  const items = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json']));
  assert.deepEqual(items.map(({ pid, fd, size, nlink }) => ({ pid, fd, size, nlink })), [{ pid: readerPid, fd: 3, size: 100000, nlink: 0 }]);

  // The first pass copies its 100000 bytes; the follow pass gets four pieces, then waits in a read
  // when --follow-timeout ends: dd is killed then, not when its read would end (never), nor at the
  // stall timeout (30 s).
  const recover = startCli(caseDir, ['recover', '--follow', '--follow-timeout', '4', '--json']);
  const code = await endsWithin(recover, 12_000, 'recover --follow-timeout 4');
  assert.equal(code, 3, recover.stderr);
  const source = `/proc/${readerPid}/fd/3`;
  assert.deepEqual(processesNaming(`if=${source}`), [], 'a dd left running');
  const bytes = 100000 + 4 * 65536;
  const [copy] = json<RecoveredJson[]>({ code, stdout: recover.stdout, stderr: recover.stderr });
  assert.ok(copy !== undefined && copy.output !== null);
  assert.deepEqual([copy.bytes, copy.sha256, copy.complete, copy.note], [
    bytes, sha256(grownContent(bytes)), false, `still held open by process ${readerPid} after following for 4 s: the file may still grow; ${NAME_ONLY}`,
  ]);
  assert.ok(fs.readFileSync(copy.output).equals(grownContent(bytes)));
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  const dd = db.prepare(`SELECT argv, exit_code, error, finished_at FROM commands WHERE program = 'dd' ORDER BY id`).all() as Array<{ argv: string; exit_code: number | null; error: string | null; finished_at: string | null }>;
  const row = db.prepare('SELECT followed, size_at_start, size_at_end FROM recoveries').get();
  db.close();
  // The first pass (point in time: no further than its size and 64 MiB more), then the follow pass, killed at the timeout.
  assert.deepEqual(dd.map((each) => [JSON.parse(each.argv) as string[], each.exit_code, each.error, each.finished_at !== null]), [
    [[`if=${source}`, 'bs=1M', 'iflag=skip_bytes,count_bytes,noatime', 'skip=0', `count=${100000 + 67108864}`, 'status=none'], 0, null, true],
    [[`if=${source}`, 'bs=1M', 'iflag=skip_bytes,noatime', 'skip=100000', 'status=none'], null, 'killed at its deadline: the copy reached the time it was allowed to read until', true],
  ]);
  // Its size at the end: 1 MiB past the furthest byte the daemon gave.
  assert.deepEqual(row, { followed: 1, size_at_start: 100000, size_at_end: bytes + (1 << 20) });
});

/**
 * A holder of a memfd holding the bytes of the file argv[1], with a child (forked: it holds the
 * memfd too) that, once told, truncates it 1 GiB larger every millisecond, for ever. The holder
 * prints its PID, its child's and the memfd's fd; on a line on stdin it starts the child and watches
 * the memfd (inotify IN_ACCESS), prints "armed", and at the first read of the memfd by anyone
 * (unlinked's copy) closes its own fd (the child still holds the file, and grows it) and prints "closed".
 */
const CLOSE_AT_FIRST_READ = String.raw`
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
fd = os.memfd_create('shared')
os.write(fd, open(sys.argv[1], 'rb').read())
go_r, go_w = os.pipe()
child = os.fork()
if child == 0:
    os.close(go_w)
    os.read(go_r, 1)
    size = os.fstat(fd).st_size
    while True:
        size += 1 << 30
        os.ftruncate(fd, size)
        time.sleep(0.001)
os.close(go_r)
print(os.getpid(), child, fd, flush=True)
sys.stdin.readline()
watch = libc.inotify_init1(0)
if watch < 0 or libc.inotify_add_watch(watch, ('/proc/self/fd/%d' % fd).encode(), 0x1) < 0:
    sys.exit('inotify: errno %d' % ctypes.get_errno())
os.write(go_w, b'g')
print('armed', flush=True)
os.read(watch, 4096)
os.close(fd)
print('closed', flush=True)
time.sleep(600)
`;

/** The lines a child prints, one per call, each awaited at most 10 s (a line that does not come fails the test). */
function lineReader(child: ChildProcess): () => Promise<string> {
  const ready: string[] = [];
  let partial = '';
  let wake: (() => void) | null = null;
  child.stdout?.on('data', (data: Buffer) => {
    const parts = (partial + data.toString()).split('\n');
    partial = parts.pop() ?? '';
    ready.push(...parts.map((line) => line.trim()));
    wake?.();
  });
  return async () => {
    const deadline = Date.now() + 10_000;
    while (ready.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) assert.fail(`no line from the holder within 10 s (exit ${String(child.exitCode)})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
    return ready.shift() as string;
  };
}

/** sha256 of `prefix` followed by zeros up to `bytes` (what a copy of a memfd grown by ftruncate holds). */
function prefixAndZeros(prefix: Buffer, bytes: number): string {
  const hash = crypto.createHash('sha256').update(prefix);
  const zeros = Buffer.alloc(4 * 1024 * 1024);
  for (let left = bytes - prefix.length; left > 0; left -= zeros.length) hash.update(zeros.subarray(0, Math.min(left, zeros.length)));
  return hash.digest('hex');
}

test('recover --follow of a memfd whose holder closes it while another process grows it without end: the last pass stops at its bound (what it had copied and 64 MiB more), kept and hashed, incomplete with why (root)', async (t) => {
  const dir = makeTempDir('follow-last-pass');
  const caseDir = makeTempDir('follow-last-pass-case', '/dev/shm');
  const pids: number[] = [];
  let holder: ChildProcess | null = null;
  // Registered first: everything is removed even when the holder cannot be started.
  t.after(async () => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    if (holder !== null) await killed(holder).stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const data = crypto.randomBytes(64 * 1024);
  fs.writeFileSync(path.join(dir, 'data'), data);
  holder = spawn('python3', ['-c', CLOSE_AT_FIRST_READ, path.join(dir, 'data')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const said = lineReader(holder);
  const [holderPid, growerPid, fd] = (await said()).split(' ').map(Number);
  assert.ok(holderPid !== undefined && growerPid !== undefined && fd !== undefined);
  pids.push(growerPid);
  const snapshot = runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(holderPid)]);
  assert.equal(snapshot.code, 0, snapshot.stderr);
  const [item] = json<LiveItemJson[]>(runCli(caseDir, ['list', '--json'])).filter((each) => each.pid === holderPid && each.fd === fd);
  assert.ok(item !== undefined && item.kind === 'memfd');
  holder.stdin?.write('go\n');
  assert.equal(await said(), 'armed');

  const recover = startCli(caseDir, ['recover', '--follow', '--follow-timeout', '60', '--json', '--item', String(item.id)]);
  const code = await endsWithin(recover, 15_000, 'recover --follow');
  assert.equal(code, 3, recover.stderr);
  assert.equal(await said(), 'closed');
  // The first pass ended where the file outran it (64 MiB: it grew by as many bytes as were read);
  // its holder had closed it by then, so the last pass read what had been copied and 64 MiB more,
  // and stopped there: the file outran it again (grown on by the child, which still holds it).
  const bytes = 2 * GROWTH_ALLOWANCE_BYTES;
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  const row = db.prepare('SELECT followed, size_at_start AS start, size_at_end AS end FROM recoveries WHERE item_id = ?').get(item.id) as { followed: number; start: number; end: number };
  db.close();
  assert.equal(row.followed, 1);
  assert.ok(row.end > row.start && row.start > bytes, JSON.stringify(row));
  const [copy] = json<RecoveredJson[]>({ code, stdout: recover.stdout, stderr: recover.stderr });
  assert.ok(copy !== undefined && copy.output !== null);
  const expected = prefixAndZeros(data, bytes);
  assert.deepEqual([copy.bytes, copy.sha256, copy.complete, copy.note], [
    bytes, expected, false,
    `point-in-time copy: the file grew from ${row.start} to ${row.end} bytes (by ${row.end - row.start}) while it was copied, faster than it was read ` +
      `(by at least as many bytes as the last ${GROWTH_ALLOWANCE_BYTES} read): the copy stopped at ${bytes} bytes rather than read for ever; ` +
      `the copy holds the file's first ${bytes} bytes, and its sha256 is theirs`,
  ]);
  // The copy on disk: exactly those bytes (the zeros left as holes), listed in SHA256SUMS.
  assert.equal(fs.statSync(copy.output).size, bytes);
  assert.equal(prefixAndZeros(fs.readFileSync(copy.output).subarray(0, data.length), bytes), expected);
  assert.ok(fs.readFileSync(copy.output).subarray(data.length).equals(Buffer.alloc(bytes - data.length)));
  assert.ok(fs.readFileSync(path.join(caseDir, 'recovered', 'SHA256SUMS'), 'utf8').includes(`${expected}  ${path.basename(copy.output)}\n`));
});
