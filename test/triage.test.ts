// Issue 8: `npx unlinked triage` as the README says, against real processes holding every kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { cliPath } from './helpers/paths.js';
import { makeTempDir, startHolder } from './helpers/holder.js';
import { mountTmpfs } from './helpers/tmpfs.js';
import { wholeHostExit } from './helpers/host.js';
import { runCliAsNobody } from './helpers/cli.js';
import { GROWING_MEMFD, pythonHolder } from './helpers/pythonHolder.js';
import { tryOr } from '../src/util/tryOr.js';

const sha256 = (data: Buffer) => crypto.createHash('sha256').update(data).digest('hex');

test('triage: snapshot, recover every kind with exact sha256, SHA256SUMS, HTML and CSV reports (root)', async (t) => {
  const dir = makeTempDir('triage');
  const cwd = mountTmpfs('triage-cwd');
  const contents = { fd: crypto.randomBytes(100_000), map: crypto.randomBytes(12_288), memfd: Buffer.from('#!/bin/sh\necho stage2\n'), tmpfile: crypto.randomBytes(777) };
  const holder = await startHolder(dir, [
    { kind: 'fd', name: 'nginx-access.log', content: contents.fd },
    { kind: 'map', name: 'libevil.so', content: contents.map },
    { kind: 'memfd', name: 'stage2', content: contents.memfd },
    { kind: 'tmpfile', content: contents.tmpfile },
  ]);
  const exe = path.join(dir, 'kworkerd');
  fs.copyFileSync('/bin/sleep', exe);
  const exeSha = sha256(fs.readFileSync(exe));
  fs.chmodSync(exe, 0o755);
  const running = spawn(exe, ['600'], { stdio: 'ignore' });
  t.after(async () => {
    await holder.stop();
    running.kill('SIGKILL');
    cwd.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  fs.unlinkSync(exe);

  // As the README says: `npx unlinked triage` in a directory of the responder's choosing.
  const ran = spawnSync(process.execPath, [cliPath, 'triage', '--json'], { cwd: cwd.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30 });
  // 3 where root cannot read some process here (its files were not examined).
  assert.equal(ran.status, wholeHostExit(), ran.stderr);
  const stdout = ran.stdout;
  const summary = JSON.parse(stdout) as { snapshot_id: number; reports: { html: string; csv: string }; recovered_incomplete: number };
  const caseDir = path.join(cwd.dir, 'unlinked-case');
  assert.equal(summary.reports.html, path.join(caseDir, 'reports', 'report.html'));
  assert.equal(summary.reports.csv, path.join(caseDir, 'reports', 'items.csv'));

  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
  const rows = db
    .prepare(`SELECT i.kind, i.pid, i.path, r.sha256, r.complete, r.output FROM items i JOIN recoveries r ON r.item_id = i.id WHERE i.pid IN (?, ?) ORDER BY i.kind`)
    .all(holder.pid, running.pid) as Array<{ kind: string; pid: number; path: Buffer; sha256: string; complete: number; output: string }>;
  assert.deepEqual(
    rows.map((row) => [row.kind, row.sha256, row.complete]),
    [
      ['exe', exeSha, 1],
      ['fd', sha256(contents.fd), 1],
      ['map', sha256(contents.map), 1],
      ['memfd', sha256(contents.memfd), 1],
      ['tmpfile', sha256(contents.tmpfile), 1],
    ],
  );
  for (const row of rows) assert.equal(sha256(fs.readFileSync(row.output)), row.sha256);
  const check = execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: path.join(caseDir, 'recovered'), encoding: 'utf8' });
  assert.ok(!check.includes('FAILED'));
  assert.ok(check.trim().split('\n').length >= 5);

  // Both reports list every item of the snapshot.
  const items = db.prepare(`SELECT id, path FROM items WHERE snapshot_id = ?`).all(summary.snapshot_id) as Array<{ id: number; path: Buffer }>;
  const csv = fs.readFileSync(summary.reports.csv, 'utf8');
  const html = fs.readFileSync(summary.reports.html, 'utf8');
  for (const item of items) {
    assert.ok(csv.includes(item.path.toString('base64')), `CSV lists item ${item.id}`);
    assert.ok(html.includes(item.path.toString('base64')), `HTML lists item ${item.id}`);
  }
  assert.equal(csv.trim().split('\r\n').length, items.length + 1);
  } finally {
    db.close();
  }
});

test('triage copies a payload run from a memfd (fexecve: /proc/PID/exe is "/memfd:NAME (deleted)") first, as it does a memfd: it goes with its process, before a smaller file on disk (root)', async (t) => {
  const dir = makeTempDir('triage-fileless');
  // Room for a host-wide triage: every process's deleted files are copied too (tmpfs takes memory only as it is written).
  const cwd = mountTmpfs('triage-fileless-cwd', 1024);
  // On disk (/var/tmp), 10 bytes: smaller than the payload, so it came first when the payload was ranked as a file on disk.
  const holder = await startHolder(dir, [{ kind: 'fd', name: 'small.log', content: Buffer.from('0123456789') }]);
  const payload = fs.readFileSync('/bin/sleep');
  // Fileless: the binary is written into a memfd and run from it, never from a file with a name.
  const fileless = spawn('python3', ['-c', "import os, sys; fd = os.memfd_create('payload'); os.write(fd, open('/bin/sleep', 'rb').read()); os.execve(fd, ['payload', '600'], {})"], { stdio: 'ignore' });
  t.after(async () => {
    await holder.stop();
    fileless.kill('SIGKILL');
    cwd.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  for (let waited = 0; !tryOr(() => fs.readlinkSync(`/proc/${fileless.pid}/exe`), '').startsWith('/memfd:payload'); waited += 20) {
    assert.ok(waited < 5000, 'the payload never ran from its memfd');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  const ran = spawnSync(process.execPath, [cliPath, 'triage', '--no-lsof'], { cwd: cwd.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30 });
  assert.equal(ran.status, wholeHostExit(), ran.stderr);
  const db = new Database(path.join(cwd.dir, 'unlinked-case', 'case.sqlite'), { readonly: true });
  try {
    const copies = db
      .prepare(`SELECT i.pid, i.kind, i.path, r.sha256, r.complete FROM recoveries r JOIN items i ON i.id = r.item_id WHERE i.pid IN (?, ?) ORDER BY r.id`)
      .all(fileless.pid, holder.pid) as Array<{ pid: number; kind: string; path: Buffer; sha256: string; complete: number }>;
    assert.deepEqual(
      copies.map((copy) => [copy.pid, copy.kind, copy.path.toString('latin1'), copy.sha256, copy.complete]),
      [
        [fileless.pid, 'exe', '/memfd:payload', sha256(payload), 1],
        [holder.pid, 'fd', path.join(dir, 'small.log'), sha256(Buffer.from('0123456789')), 1],
      ],
    );
  } finally {
    db.close();
  }
});

test('triage does not copy items onto their own file system: it says where to put the case, and still copies the rest and writes the reports (root)', async (t) => {
  const dir = makeTempDir('triage-same');
  const holder = await startHolder(dir, [
    { kind: 'fd', name: 'evidence', content: Buffer.from('on the case file system') },
    { kind: 'memfd', name: 'elsewhere', content: Buffer.from('in memory') },
  ]);
  const caseDir = path.join(dir, 'case');
  t.after(async () => {
    await holder.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const result = spawnSync(process.execPath, [cliPath, '--case', caseDir, 'triage', '--no-lsof', '--json'], { encoding: 'utf8', maxBuffer: 1 << 30 }); // a whole-host triage: its JSON grows with every deleted file the host holds
  assert.equal(result.status, 3, result.stderr);
  assert.match(result.stderr, /item\(s\) were not copied because the case directory .* is on their file system: put the case on another disk \(--case \/mnt\/usb\/case\)/);
  // Its database is written there all the same (its snapshot is in it already): said, not refused, so that `npx unlinked triage` works anywhere.
  assert.match(result.stderr, new RegExp(`^warning: the case database is written into ${caseDir}: it is on device \\d+:\\d+, the same file system as item \\d+ \\(.*\\), whose freed blocks its writes could overwrite; put the case on another disk \\(--case /mnt/usb/case\\)$`, 'm'));
  // Refused copies are told from copies that stopped part-way, as the reports tell them.
  const summary = JSON.parse(result.stdout) as { recovered_incomplete: number; not_copied: number; copied_partly: number; failures: Array<{ note: string | null }> };
  assert.equal(summary.recovered_incomplete, summary.not_copied + summary.copied_partly);
  assert.equal(summary.not_copied, summary.failures.filter((failure) => failure.note?.startsWith('not copied:') === true).length);
  assert.ok(summary.not_copied >= 1);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    const rows = db
      .prepare(`SELECT i.kind, r.complete, r.output, r.note, r.sha256 FROM items i JOIN recoveries r ON r.item_id = i.id WHERE i.pid = ? ORDER BY i.kind`)
      .all(holder.pid) as Array<{ kind: string; complete: number; output: string | null; note: string | null; sha256: string | null }>;
    assert.equal(rows.length, 2);
    assert.deepEqual([rows[0]?.kind, rows[0]?.complete, rows[0]?.output], ['fd', 0, null]);
    assert.match(rows[0]?.note ?? '', /^not copied: it is on \d+:\d+, the file system of the case directory/);
    assert.deepEqual([rows[1]?.kind, rows[1]?.complete, rows[1]?.sha256], ['memfd', 1, sha256(Buffer.from('in memory'))]);
  } finally {
    db.close();
  }
  assert.ok(fs.existsSync(path.join(caseDir, 'reports', 'report.html')));
  assert.ok(fs.existsSync(path.join(caseDir, 'reports', 'items.csv')));
});

test('a memfd of 4 EiB around 13 KB of data (all holes) is copied last: the small ones are copied and the reports written while it is still being read (root)', async (t) => {
  const caseDir = makeTempDir('triage-holes', '/dev/shm');
  const dir = makeTempDir('triage-holes-disk');
  // Two memfds and a deleted file on disk: without the rule, the 4 EiB memfd (memory first) came
  // before the file on disk.
  const small = [Buffer.from('first payload'), crypto.randomBytes(5000), crypto.randomBytes(7000)];
  const script = `
import os, sys, time
huge = os.memfd_create('holes')
os.pwrite(huge, b'X' * 13000, 0)
os.ftruncate(huge, 1 << 62)
kept = []
for i, data in enumerate(sys.argv[2:]):
    if i < 2:
        fd = os.memfd_create('small%d' % i)
    else:
        fd = os.open(os.path.join(sys.argv[1], 'on-disk'), os.O_RDWR | os.O_CREAT, 0o600)
        os.unlink(os.path.join(sys.argv[1], 'on-disk'))
    os.write(fd, bytes.fromhex(data))
    kept.append(fd)
print('ready', flush=True)
while True:
    time.sleep(1)
`;
  const holder = spawn('python3', ['-c', script, dir, ...small.map((data) => data.toString('hex'))], { stdio: ['ignore', 'pipe', 'inherit'] });
  let triage: ReturnType<typeof spawn> | null = null;
  t.after(() => {
    if (triage?.exitCode === null) triage.kill('SIGKILL');
    if (holder.exitCode === null) holder.kill('SIGKILL');
    fs.rmSync(caseDir, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await new Promise<void>((resolve, reject) => {
    holder.stdout?.once('data', () => resolve());
    holder.once('exit', (code) => reject(new Error(`the holder exited (${code})`)));
  });
  triage = spawn(process.execPath, [cliPath, '--case', caseDir, 'triage', '--no-lsof', '-q'], { stdio: 'ignore' });
  // Any file of holes bigger than memory on this machine (another's, too) comes after every other item.
  const look = () => {
    if (!fs.existsSync(path.join(caseDir, 'case.sqlite'))) return { small: [], hugeStarted: false };
    const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
    try {
      const small = db.prepare(`SELECT r.sha256 FROM items i JOIN recoveries r ON r.item_id = i.id WHERE i.pid = ? AND i.size < 1e18 AND r.complete = 1 ORDER BY i.size`)
        .all(holder.pid) as Array<{ sha256: string }>;
      const huge = db.prepare(`SELECT count(*) AS n FROM items i JOIN recoveries r ON r.item_id = i.id WHERE i.size > 1e18`).get() as { n: number };
      return { small: small.map((row) => row.sha256), hugeStarted: huge.n > 0 };
    } catch {
      return { small: [], hugeStarted: false }; // the schema is still being made
    } finally {
      db.close();
    }
  };
  const deadline = Date.now() + 120_000;
  while (!look().hugeStarted && triage.exitCode === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
  // A file of holes is being read (4 EiB: not in this lifetime), after everything else.
  assert.equal(triage.exitCode, null, 'triage ended: the huge memfd was not being read');
  assert.deepEqual(look(), { small: small.map(sha256), hugeStarted: true });
  // The reports of the snapshot are written before the copies, and say so on top.
  assert.match(fs.readFileSync(path.join(caseDir, 'reports', 'report.html'), 'utf8'), /<p class="stage"><strong>Written by triage before its copies\. A triage that finishes writes this page again after them: if this line is still here, it stopped before/);
  assert.ok(fs.existsSync(path.join(caseDir, 'reports', 'items.csv')));
  // A first SIGTERM (or Ctrl-C) stops the copies, not the triage: it still writes its reports.
  const stopped = new Promise((resolve) => triage?.once('exit', resolve));
  triage.kill('SIGTERM');
  assert.equal(await stopped, 3);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    // Ours: stopped with the prefix it holds kept and hashed, or not started when another file of holes came first; never complete.
    const ours = db.prepare(`SELECT r.complete, r.note, r.sha256 FROM items i JOIN recoveries r ON r.item_id = i.id WHERE i.pid = ? AND i.size > 1e18`).all(holder.pid) as Array<{ complete: number; note: string; sha256: string | null }>;
    assert.equal(ours.length, 1, JSON.stringify(ours));
    const [row] = ours;
    assert.ok(row?.complete === 0 && (row.note === 'not copied: interrupted before its turn (a Ctrl-C, SIGTERM or SIGHUP stopped the copies)' ||
      (/^interrupted \(a Ctrl-C, SIGTERM or SIGHUP stopped the copies\) after \d+ of its 4611686018427387904 bytes: the copy holds the first \d+ bytes of the file, and its sha256 is theirs$/.test(row.note) && row.sha256 !== null)), JSON.stringify(ours));
  } finally {
    db.close();
  }
  // Its reports written after the copies: the items copied are there as copied.
  assert.doesNotMatch(fs.readFileSync(path.join(caseDir, 'reports', 'report.html'), 'utf8'), /class="stage"/);
  const csv = fs.readFileSync(path.join(caseDir, 'reports', 'items.csv'), 'utf8');
  for (const data of small) assert.ok(csv.includes(`,complete,${sha256(data)},${data.length},`), csv);
});

/** A deleted file and a memfd held by a process of nobody's (dumpable: nobody may read its /proc). */
const NOBODY_HOLDER = String.raw`import ctypes, os, sys
p = os.path.join(sys.argv[1], 'nobody.log')
f = os.open(p, os.O_CREAT | os.O_RDWR, 0o600)
os.fchown(f, 65534, 65534)
os.write(f, b'kept by nobody\n' * 100)
os.unlink(p)
os.setresgid(65534, 65534, 65534)
os.setresuid(65534, 65534, 65534)
ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE
m = os.memfd_create('nobody-mem')
os.write(m, b'in memory')
print(os.getpid(), flush=True)
sys.stdin.read()`;

test('triage where reports/ cannot be written: the copies are made first, the reports are a failed step of their own (said, exit 3, the JSON printed) (root)', async (t) => {
  const { caseDir, pid } = await pythonHolder(t, 'triage-noreports', NOBODY_HOLDER);
  // The case is nobody's, its reports/ root's (755): nobody may not write there.
  fs.chownSync(caseDir, 65534, 65534);
  fs.mkdirSync(path.join(caseDir, 'reports'), { mode: 0o755 });
  const result = runCliAsNobody(caseDir, ['triage', '--no-lsof', '--json']);
  assert.equal(result.code, 3, result.stderr);
  const summary = JSON.parse(result.stdout) as { reports: { html: string | null; csv: string | null }; report_failures: string[] };
  assert.deepEqual(summary.reports, { html: null, csv: null });
  const refused = (name: string) => `cannot write a report at ${caseDir}/reports/${name}: permission denied \\(the report is written beside it first, as ${name.replace('.', '\\.')}\\.partial-\\d+\\)`;
  assert.equal(summary.report_failures.length, 2);
  assert.match(summary.report_failures[0] ?? '', new RegExp(`^${refused('report.html')}$`));
  assert.match(summary.report_failures[1] ?? '', new RegExp(`^${refused('items.csv')}$`));
  // Said before the copies (which go on), and again at the end with what to do.
  assert.match(result.stderr, new RegExp(`warning: before the copies: ${refused('report.html')}; the copies go on, the reports are tried again after them\n`));
  assert.match(result.stderr, new RegExp(`warning: ${refused('items.csv')}: \`unlinked report --format csv\` writes it from the case once that is fixed \\(or --out FILE elsewhere\\)\n`));
  assert.match(result.stderr, /\nno reports written\n/);
  // The JSON says them too: every warning line of stderr.
  assert.deepEqual((JSON.parse(result.stdout) as { warnings: string[] }).warnings, result.stderr.split('\n').filter((line) => line.startsWith('warning: ')).map((line) => line.slice('warning: '.length)));
  assert.deepEqual(fs.readdirSync(path.join(caseDir, 'reports')), []);
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  try {
    const rows = db.prepare(`SELECT i.kind, r.sha256, r.complete FROM items i JOIN recoveries r ON r.item_id = i.id WHERE i.pid = ? ORDER BY i.kind`).all(pid);
    assert.deepEqual(rows, [
      { kind: 'fd', sha256: sha256(Buffer.from('kept by nobody\n'.repeat(100))), complete: 1 },
      { kind: 'memfd', sha256: sha256(Buffer.from('in memory')), complete: 1 },
    ]);
  } finally {
    db.close();
  }
  // Once reports/ may be written, the report command writes them from the case.
  fs.chownSync(path.join(caseDir, 'reports'), 65534, 65534);
  assert.equal(runCliAsNobody(caseDir, ['report', '--format', 'csv']).code, 0);
});

test('triage --json carries the warnings of every step, the snapshot\'s included: a process hidden by a mount over its /proc/PID is said there, exit 3 (root)', async (t) => {
  const { caseDir, pid } = await pythonHolder(t, 'triage-covered', `
import os, sys, time
f = open(os.path.join(sys.argv[1], 'x'), 'w+')
print(os.getpid(), flush=True)
time.sleep(600)
`);
  const result = spawnSync('unshare', ['-m', 'sh', '-c', `mount --make-rprivate / && mount -t tmpfs hide /proc/${pid} && exec "$0" "$@"`,
    process.execPath, cliPath, '--case', caseDir, 'triage', '--no-recover', '--no-lsof', '--json'], { encoding: 'utf8' });
  assert.equal(result.status, 3, result.stderr);
  const summary = JSON.parse(result.stdout) as { warnings: string[]; processes_unreadable: number; unreadable_processes: Array<{ pid: number; comm: string | null; read_error: string }> };
  const hidden = `process ${pid} is hidden: its /proc entry is covered by a mount (tmpfs from hide), so what /proc shows there is not the process's, and the deleted files it holds are not in this snapshot ` +
    `(a rootkit hides a process this way; unmount it in a mount namespace of its own to see the process: unshare -m, umount /proc/${pid}, snapshot again; docs/limits.md)`;
  assert.deepEqual(summary.warnings.filter((line) => line.includes(`process ${pid} `)), [hidden]);
  // Every warning line of stderr, and nothing else.
  assert.deepEqual(summary.warnings, result.stderr.split('\n').filter((line) => line.startsWith('warning: ')).map((line) => line.slice('warning: '.length)));
  // The processes not fully read (a sandbox's init, here): named as processes.read_error names them.
  const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
  const stored = db.prepare(`SELECT pid, comm, read_error FROM processes WHERE read_error LIKE '%EACCES%' OR read_error LIKE '%EPERM%' ORDER BY pid`).all();
  db.close();
  assert.deepEqual(summary.unreadable_processes, stored);
  assert.equal(summary.processes_unreadable, stored.length);
});

test('triage --follow-timeout: a copy made once is in its row while it waits to be followed and is (a kill loses none of it); a SIGHUP (the SSH session gone) stops the copies as SIGTERM does, the reports are written, exit 3 (root)', async (t) => {
  const { caseDir, pid } = await pythonHolder(t, 'triage-follow-hup', GROWING_MEMFD);
  const triage = spawn(process.execPath, [cliPath, '--case', caseDir, 'triage', '--no-lsof', '--follow-timeout', '120', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  triage.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  triage.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => triage.once('exit', (code) => resolve(code)));
  t.after(() => {
    if (triage.exitCode === null) triage.kill('SIGKILL');
  });
  type Row = { bytes: number; sha256: string | null; complete: number; followed: number; finished_at: string | null; note: string | null; output: string | null };
  const ours = (): Row | undefined => {
    if (!fs.existsSync(path.join(caseDir, 'case.sqlite'))) return undefined;
    const db = new Database(path.join(caseDir, 'case.sqlite'), { readonly: true });
    try {
      return db.prepare(`SELECT r.bytes, r.sha256, r.complete, r.followed, r.finished_at, r.note, r.output FROM items i JOIN recoveries r ON r.item_id = i.id WHERE i.pid = ? ORDER BY r.id DESC`).get(pid) as Row | undefined;
    } catch {
      return undefined; // the schema is still being made
    } finally {
      db.close();
    }
  };
  // Copied once: its row holds what was copied and hashed, while triage goes on (the host's other items, then following).
  await waitUntil(() => ours()?.sha256 !== null && ours()?.sha256 !== undefined, 120_000, 'its first pass recorded');
  const during = ours();
  assert.ok(during !== undefined && during.output !== null && during.bytes >= 12345 && during.finished_at === null, JSON.stringify(during));
  assert.deepEqual([during.complete, during.followed], [0, 1]);
  assert.match(during.note ?? '', /^following was under way: the first \d+ bytes of the copy were copied and hashed at \S+, and its sha256 is theirs; /);
  assert.equal(sha256(fs.readFileSync(during.output).subarray(0, during.bytes)), during.sha256);
  // The session goes (while other items of the host are copied once, or all are followed).
  triage.kill('SIGHUP');
  assert.equal(await exited, 3, stderr);
  assert.match(stderr, /^unlinked: SIGHUP while (following|copying): .*; a Ctrl-C or SIGTERM stops at once \(another SIGHUP does not\)$/m);
  const after = ours();
  assert.ok(after !== undefined && after.output !== null && after.finished_at !== null && after.complete === 0, JSON.stringify(after));
  const copy = fs.readFileSync(after.output);
  assert.deepEqual([copy.length, sha256(copy)], [after.bytes, after.sha256]);
  assert.ok(fs.readFileSync(path.join(caseDir, 'recovered', 'SHA256SUMS'), 'utf8').includes(`${after.sha256}  ${path.basename(after.output)}\n`));
  const summary = JSON.parse(stdout) as { reports: { html: string | null } };
  assert.equal(summary.reports.html, path.join(caseDir, 'reports', 'report.html'));
  assert.doesNotMatch(fs.readFileSync(path.join(caseDir, 'reports', 'report.html'), 'utf8'), /class="stage"/);
});

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('triage names the processes the report flags, on stderr and in --json (flagged_processes): one named like a kernel thread ([kworker/0:1]) holding a deleted file; a decoy with brackets inside its name is not named (root)', async (t) => {
  const dir = makeTempDir('triage-flags');
  const caseDir = makeTempDir('triage-flags-case', '/dev/shm');
  // The interpreter itself, not a shim that runs it: argv[0] is set on the process that holds the file.
  const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  const script = String.raw`import ctypes, os, sys
ctypes.CDLL(None).prctl(15, sys.argv[2].encode(), 0, 0, 0)
fd = os.open(os.path.join(sys.argv[1], sys.argv[2].strip('[]').replace('/', '-')), os.O_CREAT | os.O_RDWR, 0o600)
os.write(fd, b'beacon log\n')
os.unlink(os.path.join(sys.argv[1], sys.argv[2].strip('[]').replace('/', '-')))
print(os.getpid(), flush=True)
sys.stdin.read()`;
  const children: Array<ReturnType<typeof spawn>> = [];
  t.after(() => {
    for (const child of children) child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  const holder = async (argv0: string, comm: string): Promise<number> => {
    const child = spawn(python, ['-c', script, dir, comm], { argv0, stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(child);
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8').trim()));
      child.once('exit', () => reject(new Error('the holder exited')));
    });
    return Number(line);
  };
  const dressed = await holder('[kworker/0:1]', '[kworker/0:1]');
  const decoy = await holder('x[1]', 'my[worker]');
  const result = spawnSync(process.execPath, [cliPath, '--case', caseDir, 'triage', '--no-lsof', '--json'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  assert.ok(result.status === 0 || result.status === 3, result.stderr);
  const why = `named like a kernel thread: comm and argv[0] in brackets, yet it has an executable, a command line and parent PID ${process.pid} ` +
    '(a kernel thread has no executable, an empty command line and kthreadd, PID 2, as its parent)';
  const mine = (line: string): boolean => line.startsWith(`flagged: pid ${dressed} `) || line.startsWith(`flagged: pid ${decoy} `);
  assert.deepEqual(result.stderr.split('\n').filter(mine), [`flagged: pid ${dressed} ([kworker/0:1]): ${why}`]);
  const summary = JSON.parse(result.stdout) as { flagged_processes: Array<{ pid: number; comm: string | null; flags: Array<{ flag: string; why: string }> }> };
  assert.deepEqual(summary.flagged_processes.filter((process) => process.pid === dressed || process.pid === decoy),
    [{ pid: dressed, comm: '[kworker/0:1]', flags: [{ flag: 'kernel-thread-name', why }] }]);
});
