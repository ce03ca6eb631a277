// The walk's watchdog (walkWatchdog.ts): once the walk has stood still on one stat for stallMs, say
// what it waits on, once per stall.
import fs from 'node:fs';
import { workerData } from 'node:worker_threads';
import { displayBytes } from '../util/bytes.js';
import { FD, PID, SEQ, WHAT, WHAT_EXE, WHAT_FD, WHAT_NONE } from './walkWatchdog.js';

const { progress, stallMs, ownPid } = workerData as { progress: Int32Array; stallMs: number; ownPid: number };
const TICK_MS = 250;

let seen = Atomics.load(progress, SEQ);
let since = Date.now();
let told = false;

setInterval(() => {
  const now = Atomics.load(progress, SEQ);
  if (now !== seen) {
    seen = now;
    since = Date.now();
    told = false;
    return;
  }
  // Only a stat under way can wait on a file system (not the store, not /proc itself).
  const what = Atomics.load(progress, WHAT);
  if (told || what === WHAT_NONE || Date.now() - since < stallMs) return;
  told = true;
  try {
    fs.writeSync(2, `unlinked: ${stalledMessage(Atomics.load(progress, PID), Atomics.load(progress, FD), what, Math.round((Date.now() - since) / 1000), ownPid)}\n`);
  } catch {
    // stderr closed or full: nothing else to tell it with
  }
}, TICK_MS);

function stalledMessage(pid: number, fd: number, what: number, waitedS: number, self: number): string {
  const link = what === WHAT_FD ? `/proc/${pid}/fd/${fd}` : what === WHAT_EXE ? `/proc/${pid}/exe` : null;
  let target = '';
  if (link !== null) {
    try {
      // readlink of a /proc link asks no file system: it cannot hang here.
      target = ` (${JSON.stringify(displayBytes(fs.readlinkSync(link, 'buffer')))})`;
    } catch {
      // gone meanwhile: the link alone says enough
    }
  }
  const on = link === null ? `a file mapped by process ${pid}` : `${link}${target}`;
  return (
    `the walk has waited ${waitedS} s on a stat of ${on}: its file system stopped answering since the probe asked it ` +
    `(a dead NFS server, a hung FUSE daemon), and such a stat cannot be interrupted. It goes on by itself if the file system ` +
    `answers again. Otherwise stop unlinked with kill -9 ${self} (nothing of this snapshot is stored) and run it again: ` +
    `the probe then finds that mount silent and leaves it out`
  );
}
