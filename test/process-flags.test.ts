// processFlags: what flags a process from the facts a snapshot stored (the real processes are in report.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { processFlags, type ProcessFacts } from '../src/store/processFlags.js';

const FACT = ' (a kernel thread has no executable, an empty command line and kthreadd, PID 2, as its parent)';

/** A process as a real kernel thread is stored: no exe, an empty command line, a child of kthreadd. */
const KTHREAD: ProcessFacts = { pid: 812, ppid: 2, comm: 'kworker/0:1', hasExe: false, cmdlineBytes: 0, argv0: Buffer.alloc(0), memfdExe: false };

test('a process stored as a kernel thread is (no exe, empty command line, parent kthreadd), bracketed or not, is not flagged: nothing read speaks against it', () => {
  assert.deepEqual(processFlags(KTHREAD), []);
  assert.deepEqual(processFlags({ ...KTHREAD, comm: '[kworker/0:1]' }), []);
  // kthreadd itself (PID 2, parent 0).
  assert.deepEqual(processFlags({ ...KTHREAD, pid: 2, ppid: 0, comm: '[kthreadd]' }), []);
  // An lsof import: no process row, nothing known but the name.
  assert.deepEqual(processFlags({ pid: 812, ppid: null, comm: '[kworker/0:1]', hasExe: false, cmdlineBytes: null, argv0: null, memfdExe: false }), []);
});

test('a name in brackets is flagged by each thing read that a kernel thread cannot have, and only those are named', () => {
  const why = (named: string, has: string): string => `named like a kernel thread: ${named} in brackets, yet it has ${has}${FACT}`;
  // An exe this user could not read (EACCES) and an empty command line: its parent alone gives it away.
  assert.deepEqual(processFlags({ ...KTHREAD, comm: '[kworker/0:1]', ppid: 1 }), [{ flag: 'kernel-thread-name', why: why('comm', 'parent PID 1') }]);
  assert.deepEqual(processFlags({ ...KTHREAD, comm: '[kworker/0:1]', hasExe: true }), [{ flag: 'kernel-thread-name', why: why('comm', 'an executable') }]);
  assert.deepEqual(processFlags({ ...KTHREAD, comm: 'bash', ppid: 900, hasExe: true, cmdlineBytes: 40, argv0: Buffer.from('[kworker/0:1]    ') }),
    [{ flag: 'kernel-thread-name', why: why('argv[0]', 'an executable, a command line and parent PID 900') }], 'blanks padding argv[0] do not hide it');
  assert.deepEqual(processFlags({ ...KTHREAD, comm: '[a]', cmdlineBytes: 3, argv0: Buffer.from('[a]') }),
    [{ flag: 'kernel-thread-name', why: why('comm and argv[0]', 'a command line') }]);
});

test('brackets inside a name, one bracket, or an empty pair are no kernel thread\'s form', () => {
  for (const name of ['my[worker]', '[kworker/0:1', 'kworker/0:1]', '[]', 'x [y]', '[y] x']) {
    assert.deepEqual(processFlags({ ...KTHREAD, comm: name, ppid: 1, hasExe: true, cmdlineBytes: 10, argv0: Buffer.from(name) }), [], name);
  }
});

test('an executable run from a memfd is said to be fileless, whatever the process is named', () => {
  const memfd = { flag: 'memfd-exe', why: 'runs from a memfd (fileless): its executable is a memfd, a file in memory only, on no file system (fexecve or execveat of a memfd)' };
  assert.deepEqual(processFlags({ ...KTHREAD, comm: 'memfd:x', ppid: 1, hasExe: true, cmdlineBytes: 4, argv0: Buffer.from('x'), memfdExe: true }), [memfd]);
  assert.deepEqual(processFlags({ ...KTHREAD, comm: 'memfd:x', ppid: 1, hasExe: true, cmdlineBytes: 4, argv0: Buffer.from('[x]'), memfdExe: true }).map((flag) => flag.flag), ['kernel-thread-name', 'memfd-exe']);
});

test('a kernel thread\'s name without brackets (prctl gives a comm with a "/", exec never does) is flagged when something read speaks against it; names near one, or a daemon\'s, are not', () => {
  const why = (named: string): string => `named like a kernel thread: ${named}, yet it has an executable and parent PID 1${FACT}`;
  const dressed = { ...KTHREAD, ppid: 1, hasExe: true };
  for (const name of ['kworker/0:1', 'kworker/u8:2-events_unbound', 'ksoftirqd/0', 'migration/3', 'jbd2/sda1-8', 'kswapd0', 'kthreadd', 'rcu_sched', 'kdamond.0', 'kworker/0:1  ']) {
    assert.deepEqual(processFlags({ ...dressed, comm: name }), [{ flag: 'kernel-thread-name', why: why('comm is a kernel thread\'s name') }], name);
  }
  assert.deepEqual(processFlags({ ...dressed, comm: 'kswapd0', cmdlineBytes: 8, argv0: Buffer.from('kswapd0') }),
    [{ flag: 'kernel-thread-name', why: `named like a kernel thread: comm and argv[0] are a kernel thread's name, yet it has an executable, a command line and parent PID 1${FACT}` }]);
  assert.deepEqual(processFlags({ ...dressed, comm: '[kworker/0:1]', cmdlineBytes: 0, argv0: Buffer.from('ksoftirqd/0') }),
    [{ flag: 'kernel-thread-name', why: why('comm in brackets and argv[0] is a kernel thread\'s name') }]);
  // Userland daemons (watchdog, watchdogd), names near one, a family without its number, QEMU's "CPU 0/KVM" thread.
  for (const name of ['watchdog', 'watchdogd', 'kworker', 'kworkerds', 'kworker/', 'kswapd', 'xkworker/0:1', 'CPU 0/KVM', 'systemd']) {
    assert.deepEqual(processFlags({ ...dressed, comm: name, cmdlineBytes: 4, argv0: Buffer.from(name) }), [], name);
  }
  // A real kernel thread, stored as one: nothing speaks against it.
  assert.deepEqual(processFlags({ ...KTHREAD, comm: 'kswapd0' }), []);
});
