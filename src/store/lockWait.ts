// A command that writes to a case another program is writing to waits for its write lock (up to
// BUSY_TIMEOUT_MS, inside SQLite, where nothing can be said): it says so first, naming the holder.
// Each place a write may begin outside a transaction calls beforeWrite().
import fs from 'node:fs';
import type { Db } from './db.js';
import { BUSY_TIMEOUT_MS } from './busy.js';
import { errnoCode } from '../errors.js';
import { displayCmdline } from '../util/bytes.js';
import { tryOr } from '../util/tryOr.js';
import { devString, parseProcLocks } from '../../parsers/procfs.js';

/** SQLite's WAL write lock: byte 120 of the -shm file (WAL_WRITE_LOCK, the first of its locks). */
const WAL_WRITE_LOCK_BYTE = 120;
/** How much of the holder's command line is said. */
const CMDLINE_SHOWN = 160;

/** Who is told of a wait for the write lock on a connection, and the case database it is on. */
const announcers = new WeakMap<Db, { database: string; say: (text: string) => void }>();

/** From now on, a write on this connection that must wait for another program's write lock says so first (beforeWrite). */
export function announceLockWaits(db: Db, database: string, say: (text: string) => void): void {
  announcers.set(db, { database, say });
}

/**
 * Called before a write that may start outside a transaction (a transaction's BEGIN, an autocommit
 * statement): returns at once when the write lock is free (taken and given back, some microseconds)
 * or already this connection's; when another program holds it, says so through the connection's
 * announcer and waits for it as the write would (SQLITE_BUSY after BUSY_TIMEOUT_MS, said by the CLI's
 * error boundary). A connection nobody announces for waits in silence, as SQLite does.
 */
export function beforeWrite(db: Db): void {
  if (db.inTransaction) return;
  const announcer = announcers.get(db);
  if (announcer === undefined || lockFree(db)) return;
  announcer.say(`waiting for the case's write lock, held by ${lockHolder(`${announcer.database}-shm`) ?? 'another program'} (up to ${BUSY_TIMEOUT_MS / 1000} s)`);
  db.exec('BEGIN IMMEDIATE');
  db.exec('COMMIT');
}

/** Takes the write lock and gives it back at once, waiting for nobody: false when another writer holds it. */
function lockFree(db: Db): boolean {
  db.pragma('busy_timeout = 0');
  try {
    db.exec('BEGIN IMMEDIATE');
    db.exec('COMMIT');
    return true;
  } catch (error) {
    if (errnoCode(error) === 'SQLITE_BUSY') return false;
    throw error;
  } finally {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  }
}

/**
 * Who holds SQLite's WAL write lock on this -shm file, from /proc/locks (POSIX locks name their
 * process): "pid N (its command line)", or null when it cannot be told (another PID namespace, a
 * lock given back meanwhile, a file system whose locks are not listed).
 */
export function lockHolder(shm: string): string | null {
  const stat = tryOr(() => fs.statSync(shm), null);
  if (stat === null) return null;
  const dev = devString(stat.dev);
  const { locks } = parseProcLocks(tryOr(() => fs.readFileSync('/proc/locks', 'latin1'), ''));
  for (const lock of locks) {
    // "1: POSIX  ADVISORY  WRITE 24108 00:1b:459153 120 120". A READ lock over it, or a range that
    // holds it, is none of SQLite's: anyone who may read the -shm file (0644, as case.sqlite) can
    // take one and hold the writers off.
    const covers = Number(lock.start) <= WAL_WRITE_LOCK_BYTE && (lock.end === 'EOF' || Number(lock.end) >= WAL_WRITE_LOCK_BYTE);
    if (lock.waiting || lock.lockClass !== 'POSIX' || lock.dev !== dev || lock.inode !== stat.ino || !covers) continue;
    const pid = lock.pid;
    if (!Number.isSafeInteger(pid) || pid <= 0) return null;
    const cmdline = tryOr(() => displayCmdline(fs.readFileSync(`/proc/${pid}/cmdline`)), '');
    return cmdline === '' ? `pid ${pid}` : `pid ${pid} (${cmdline.length > CMDLINE_SHOWN ? `${cmdline.slice(0, CMDLINE_SHOWN)}...` : cmdline})`;
  }
  return null;
}
