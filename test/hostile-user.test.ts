// unlinked runs as root on a host an attacker may still have an account on. That user must not be
// able to make it write somewhere else (a case folder planted in /tmp with links in it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { json, runCli, runCliAsNobody, runCliAsync } from './helpers/cli.js';
import { makeTempDir, startHolder } from './helpers/holder.js';
import { firstLine } from './helpers/lines.js';
import type { RecoveredJson } from '../src/recover/recover.js';
import { openCase } from '../src/store/db.js';

const NOBODY = 65534;
const refusal = (what: string, dir: string, why: string): string => `unlinked: refusing ${what} ${dir}: ${why}: another user could swap a folder or file of the case for a symbolic link ` +
  'and have this run write through it (onto /etc/shadow, say); put the case in a folder only root (or this user) can change, e.g. --case /root/case-42 or media mounted by root; ' +
  'nothing was written there\n';

test('a case folder another user owns, may write, or reaches through a link of theirs is refused before anything is written: a recovered/ they planted as a link to a root folder gets no copy, a case.sqlite-wal linked to a root file leaves it as it was (root)', async (t) => {
  // A shared folder as /tmp is (1777), a root folder the attacker aims at (as /etc/cron.d), and a root file (as /etc/shadow).
  const shared = makeTempDir('hostile-shared', '/dev/shm');
  const victim = makeTempDir('hostile-victim', '/dev/shm');
  const heldIn = makeTempDir('hostile-held', '/dev/shm');
  const holder = await startHolder(heldIn, [{ kind: 'fd', name: 'payload', content: Buffer.from('* * * * * root id\n') }]);
  t.after(async () => {
    await holder.stop();
    for (const dir of [shared, victim, heldIn]) fs.rmSync(dir, { recursive: true, force: true });
  });
  fs.chmodSync(shared, 0o1777);
  const cronD = path.join(victim, 'cron.d');
  const shadow = path.join(victim, 'shadow');
  fs.mkdirSync(cronD);
  fs.writeFileSync(shadow, 'root:secret\n', { mode: 0o600 });
  const untouched = (): void => {
    assert.deepEqual(fs.readdirSync(cronD), []);
    assert.equal(fs.readFileSync(shadow, 'utf8'), 'root:secret\n');
  };
  const nobodys = (file: string): void => fs.lchownSync(file, NOBODY, NOBODY);

  // Their case (made by unlinked run as them), with recovered/ and the database's WAL linked where root would write.
  const planted = path.join(shared, 'case');
  assert.equal(runCliAsNobody(planted, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 3);
  fs.symlinkSync(cronD, path.join(planted, 'recovered'));
  nobodys(path.join(planted, 'recovered'));
  const plantedDb = fs.readFileSync(path.join(planted, 'case.sqlite'));
  const theirs = `${planted}, in the shared folder ${shared} (mode 1777), is owned by nobody (uid 65534)`;
  const refused = (args: string[]): void => {
    const result = runCli(planted, args);
    untouched();
    assert.deepEqual([result.code, result.stdout, result.stderr], [1, '', refusal('case directory', planted, theirs)], args.join(' '));
  };
  refused(['triage', '--no-lsof', '--json']);
  refused(['recover', '--json']);
  fs.symlinkSync(shadow, path.join(planted, 'case.sqlite-wal'));
  nobodys(path.join(planted, 'case.sqlite-wal'));
  refused(['snapshot', '--no-lsof', '--pid', String(holder.pid)]);
  assert.deepEqual(fs.readdirSync(planted).sort(), ['case.sqlite', 'case.sqlite-wal', 'recovered']);
  assert.ok(fs.readFileSync(path.join(planted, 'case.sqlite')).equals(plantedDb));
  untouched();

  // The case named through their link, and a folder of root's anyone may write.
  const link = path.join(shared, 'link');
  fs.symlinkSync(cronD, link);
  nobodys(link);
  const viaLink = runCli(link, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]);
  assert.deepEqual([viaLink.code, viaLink.stderr], [1, refusal('case directory', link, `${link}, in the shared folder ${shared} (mode 1777), is owned by nobody (uid 65534)`)]);
  const open = path.join(shared, 'open');
  fs.mkdirSync(open);
  fs.chmodSync(open, 0o777);
  const writable = runCli(path.join(open, 'case'), ['snapshot', '--no-lsof', '--pid', String(holder.pid)]);
  assert.deepEqual([writable.code, writable.stderr], [1, refusal('case directory', path.join(open, 'case'), `${open} may be written by others (mode 0777)`)]);
  assert.deepEqual(fs.readdirSync(open), []);
  untouched();

  // Root's own case in the shared folder is fine; its recovered/ linked into their folder is not, linked to root's is.
  const rootsCase = path.join(shared, 'roots');
  assert.equal(runCli(rootsCase, ['snapshot', '--no-lsof', '--pid', String(holder.pid)]).code, 0);
  const theirFolder = path.join(shared, 'theirs');
  fs.mkdirSync(theirFolder);
  nobodys(theirFolder);
  fs.symlinkSync(theirFolder, path.join(rootsCase, 'recovered'));
  const intoTheirs = runCli(rootsCase, ['recover', '--json']);
  assert.deepEqual([intoTheirs.code, intoTheirs.stdout, intoTheirs.stderr],
    [1, '', refusal('the case folder', path.join(rootsCase, 'recovered'), `${theirFolder}, in the shared folder ${shared} (mode 1777), is owned by nobody (uid 65534)`)]);
  assert.deepEqual(fs.readdirSync(theirFolder), []);
  fs.rmSync(path.join(rootsCase, 'recovered'));
  fs.symlinkSync(cronD, path.join(rootsCase, 'recovered'));
  const intoRoots = runCli(rootsCase, ['recover', '--json']);
  assert.equal(intoRoots.code, 0, intoRoots.stderr);
  assert.deepEqual(json<RecoveredJson[]>(intoRoots).map((copy) => [copy.complete, copy.sha256, path.dirname(copy.output ?? '')]), [[true, holder.files[0]?.sha256, path.join(rootsCase, 'recovered')]]);

  // The user sudo runs unlinked for could change what sudo runs anyway: their folder is theirs to use.
  fs.rmSync(path.join(planted, 'case.sqlite-wal'));
  fs.rmSync(path.join(planted, 'recovered'));
  const asSudo = runCli(planted, ['snapshot', '--no-lsof', '--pid', String(holder.pid)], { SUDO_UID: String(NOBODY), SUDO_GID: String(NOBODY) });
  assert.equal(asSudo.code, 0, asSudo.stderr);
});

test('report --out through a link another user planted in a shared folder (to a root file, or to one not there yet) is refused, nothing written; a new name there, or a link of root\'s own, is written (root)', (t) => {
  const caseDir = makeTempDir('hostile-out-case', '/dev/shm');
  const shared = makeTempDir('hostile-out-shared', '/dev/shm');
  const victim = makeTempDir('hostile-out-victim', '/dev/shm');
  t.after(() => {
    for (const dir of [caseDir, shared, victim]) fs.rmSync(dir, { recursive: true, force: true });
  });
  fs.chmodSync(shared, 0o1777);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(process.pid)]).code, 0);
  const shadow = path.join(victim, 'shadow');
  fs.writeFileSync(shadow, 'root:secret\n', { mode: 0o600 });
  // As /etc/ld.so.preload: a file not there yet, which a report renamed into place would make.
  const preload = path.join(victim, 'ld.so.preload');
  for (const [name, to] of [['r.html', shadow], ['p.html', preload]] as const) {
    const link = path.join(shared, name);
    fs.symlinkSync(to, link);
    fs.lchownSync(link, NOBODY, NOBODY);
    const result = runCli(caseDir, ['report', '--format', 'html', '--out', link]);
    assert.deepEqual([result.code, result.stdout, result.stderr], [1, '', `unlinked: refusing to write a report at ${link}: ${link}, in the shared folder ${shared} (mode 1777), is owned by nobody (uid 65534): ` +
      'another user could swap it, or a folder on its way, for a symbolic link and have the report replace the file it names (/etc/shadow, say); write it into a folder only root (or this user) can change; nothing was written\n']);
  }
  assert.deepEqual([fs.readFileSync(shadow, 'utf8'), fs.existsSync(preload)], ['root:secret\n', false]);
  assert.deepEqual(fs.readdirSync(shared).sort(), ['p.html', 'r.html']);
  // A name of its own in the shared folder is made beside and renamed into place; root's own link is followed, as docs/reports.md says.
  const fresh = path.join(shared, 'fresh.csv');
  assert.equal(runCli(caseDir, ['report', '--format', 'csv', '--out', fresh]).code, 0);
  assert.equal(fs.lstatSync(fresh).isFile(), true);
  const rootsLink = path.join(shared, 'roots.csv');
  fs.symlinkSync(path.join(victim, 'target.csv'), rootsLink);
  const through = runCli(caseDir, ['report', '--format', 'csv', '--out', rootsLink]);
  assert.equal(through.code, 0, through.stderr);
  assert.ok(fs.readFileSync(path.join(victim, 'target.csv'), 'utf8').startsWith('finding,id,'));
});

test('another user who holds a read lock over SQLite\'s write lock in the case\'s -shm file (readable by all, as case.sqlite) is named while root\'s command waits for it (root)', async (t) => {
  const caseDir = makeTempDir('hostile-lock', '/dev/shm');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  fs.chmodSync(caseDir, 0o755);
  assert.equal(runCli(caseDir, ['snapshot', '--no-lsof', '--pid', String(process.pid)]).code, 0);
  // Held open here, so that its -shm file is there for the other user to lock.
  const kase = openCase(caseDir, { create: false });
  t.after(() => kase.close());
  const locker = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '/usr/bin/python3', '-c',
    'import fcntl, os, sys, time\nfd = os.open(sys.argv[1], os.O_RDONLY)\nfcntl.lockf(fd, fcntl.LOCK_SH, 1, 120)\nprint(os.getpid(), flush=True)\ntime.sleep(3)',
    path.join(caseDir, 'case.sqlite-shm')], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => locker.kill('SIGKILL'));
  const lockerPid = Number(await firstLine(locker));
  const waited = await runCliAsync(caseDir, ['snapshot', '--no-lsof', '--pid', String(process.pid)]);
  assert.equal(waited.code, 0, waited.stderr);
  assert.match(waited.stderr.split('\n')[0] ?? '', new RegExp(`^waiting for the case's write lock, held by pid ${lockerPid} \\(/usr/bin/python3 -c .*\\) \\(up to 420 s\\)$`));
});
