// src/exec/run.ts, the one wrapper around execa: a program whose output cannot be taken (the
// consumer fails: ENOSPC on the case disk, a guard that stops a copy) is stopped at once, its
// command row says why, and run() fails with the consumer's own error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, type CommandRecord } from '../src/exec/run.js';
import { copyTimeoutMs } from '../src/tools/limits.js';

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

test('a copy timeout never exceeds what a timer can wait: a 64 TiB inode size does not time out at once', () => {
  assert.equal(copyTimeoutMs(1 << 30), 11 * 60_000);
  assert.equal(copyTimeoutMs(null), 10 * 60_000);
  assert.equal(copyTimeoutMs(64 * 2 ** 40), 2 ** 31 - 1);
});
