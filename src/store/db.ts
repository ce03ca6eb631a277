import fs from 'node:fs';
import { tryOr } from '../util/tryOr.js';
import path from 'node:path';
import Database from 'better-sqlite3';
import { onSignalExit } from '../util/interrupt.js';
import { UnlinkedError, errnoCode, oneLine } from '../errors.js';
import { accessError, currentUser, ownerText, unenterableFolder } from '../util/access.js';
import { MIGRATIONS } from './schema.js';
import { absolutePath } from '../util/cwd.js';
import { BUSY_TIMEOUT_MS } from './busy.js';
import { announceLockWaits, beforeWrite } from './lockWait.js';
import { caseFolder, changeableBy } from '../util/caseFolder.js';
import { freeBytes } from '../util/caseSpace.js';

/** Less free than this, an open SQLite fails for (its -shm file takes 32 KiB): the case's disk is full. */
const FULL_BELOW_BYTES = 64 << 10;

export type Db = Database.Database;

export interface CasePaths {
  dir: string;
  database: string;
  recovered: string;
  extracted: string;
  reports: string;
}

export function casePaths(dir: string): CasePaths {
  const absolute = absolutePath(dir);
  return {
    dir: absolute,
    database: path.join(absolute, 'case.sqlite'),
    recovered: path.join(absolute, 'recovered'),
    extracted: path.join(absolute, 'extracted'),
    reports: path.join(absolute, 'reports'),
  };
}

export interface OpenCaseOptions {
  /** Create the case directory and database when missing (commands that write). */
  create: boolean;
  /**
   * The command only reads the case (list, report): a case on read-only media (an archived,
   * write-protected copy) is then read from a copy in memory instead of failing.
   */
  readsOnly?: boolean;
  /** Told, before a write waits for another program's write lock on the case, who holds it (beforeWrite). */
  onLockWait?: (text: string) => void;
}

export interface Case {
  paths: CasePaths;
  db: Db;
  /** Read from a copy in memory: the case is on read-only media, or this user may not write it (see readOnlyCase). */
  readOnly?: boolean;
  /** Why, following the database's path: "is on read-only media", "is not writable by ...". */
  readOnlyWhy?: string;
  close(): void;
}

export function openCase(dir: string, options: OpenCaseOptions): Case {
  const paths = casePaths(dir);
  refuseLongPath(paths);
  const found = reachDatabase(paths);
  if (!options.create && !found) {
    // A file named as the case folder: said as what it is (a mistyped --case, a case.sqlite given as --case).
    if (tryOr(() => fs.statSync(paths.dir).isDirectory(), true) === false) {
      throw new UnlinkedError('CASE', `${paths.dir} is a file, not a case folder: pass --case the folder that holds case.sqlite`);
    }
    throw new UnlinkedError('CASE', `no case database at ${paths.database}: run \`unlinked snapshot\` or \`unlinked image scan\` first, or pass --case DIR`);
  }
  // An empty file (0 bytes: wiped, truncated, or a case killed while it was being made) holds no
  // case: a command that only reads one says so, and never writes a schema into it.
  if (!options.create && fs.statSync(paths.database, { throwIfNoEntry: false })?.size === 0 && (fs.statSync(`${paths.database}-wal`, { throwIfNoEntry: false })?.size ?? 0) === 0) {
    throw new UnlinkedError('CASE', `${paths.database} is empty (0 bytes: wiped, cut short, or never written): no case there; nothing was changed`);
  }
  if (found) mayRead(paths.database);
  if (options.readsOnly === true && found) {
    const readOnly = readOnlyWhy(paths) ?? changeableWhy(paths);
    if (readOnly !== null) return readOnlyCase(paths, readOnly);
  }
  // A command that writes: a file or folder of the case this user may not write is said now, before
  // a walk or a copy, not as SQLite's SQLITE_READONLY after it.
  if (found) mayWrite(paths);
  // The nearest folder on the way that is there: those made below it go again if the case cannot be opened.
  let before = paths.dir;
  while (!fs.existsSync(before) && path.dirname(before) !== before) before = path.dirname(before);
  caseFolder(paths.dir, 'case directory');
  const companions = [paths.database, `${paths.database}-wal`, `${paths.database}-shm`];
  const there = companions.filter((file) => fs.existsSync(file));
  let db: Db | undefined;
  try {
    db = new Database(paths.database, { timeout: BUSY_TIMEOUT_MS });
    // Before anything is set (journal_mode writes the file's header): another program's database is left alone.
    refuseForeign(db, paths.database);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    // Sorts, temporary indexes and statement journals (the lsof savepoint) stay in memory. SQLite
    // would otherwise put them in $SQLITE_TMPDIR, $TMPDIR, /var/tmp or /tmp: on a live host, the
    // root file system under examination, whose free blocks may still hold deleted files.
    db.pragma('temp_store = MEMORY');
    if (options.onLockWait !== undefined) announceLockWaits(db, paths.database, options.onLockWait);
    migrate(db);
  } catch (error) {
    if (db?.open === true) db.close();
    // A full disk: SQLite cannot make its -shm file (32 KiB) and says SQLITE_IOERR, "disk I/O error".
    const free = /^SQLITE_(IOERR|FULL|CANTOPEN)/.test(errnoCode(error) ?? '') ? freeBytes(paths.dir) : null;
    const why = writable(paths.dir) ? oneLine(error) : `its folder ${paths.dir} cannot be written (read-only media, an immutable folder, or permissions), and this command writes to the case`;
    // What this open made (SQLite's -shm and -wal, an empty case.sqlite, the case folder) goes: a case that could not be opened is left as it was.
    for (const file of companions) {
      if (!there.includes(file) && (file !== paths.database || fs.statSync(file, { throwIfNoEntry: false })?.size === 0)) tryOr(() => fs.rmSync(file, { force: true }), undefined);
    }
    for (let made = paths.dir; made !== before && path.dirname(made) !== made; made = path.dirname(made)) {
      if (!tryOr(() => (fs.rmdirSync(made), true), false)) break;
    }
    if (error instanceof UnlinkedError) throw error;
    if (free !== null && free < FULL_BELOW_BYTES) {
      const full = `is on a full disk (${free} bytes free)`;
      if (options.readsOnly === true && found) return readOnlyCase(paths, { is: full, remedy: 'make room on that disk, or copy the case folder to another one and open it there' });
      throw new UnlinkedError('CASE', `cannot open case database ${paths.database}: the case's disk is full (${free} bytes free): make room on it, or use a case on another disk; nothing was changed`, { cause: error });
    }
    throw new UnlinkedError('CASE', `cannot open case database ${paths.database}: ${why}`, { cause: error });
  }
  // Closed on a signal too: an open transaction rolled back, the WAL checkpointed into case.sqlite
  // (without it, case.sqlite copied alone held nothing, and read-only media refuse a case with a WAL).
  const opened = db;
  const unhook = onSignalExit(() => {
    if (opened.open) opened.close();
  });
  if (options.onLockWait !== undefined && options.readsOnly !== true) {
    try {
      // Said now, before a walk or a copy, when another program is writing to the case.
      beforeWrite(opened);
    } catch (error) {
      unhook();
      opened.close();
      throw error;
    }
  }
  return {
    paths, db: opened, close: () => {
      unhook();
      opened.close();
    },
  };
}

/**
 * The longest database path SQLite opens: its unix VFS takes paths of up to 512 bytes
 * (SQLITE_MAX_PATHNAME) and keeps room for a "-journal" after it (measured with SQLite 3.51 of
 * better-sqlite3 12: 504 bytes open, 505 say SQLITE_CANTOPEN "unable to open database file").
 */
export const SQLITE_MAX_DATABASE_PATH = 512 - '-journal'.length;

/**
 * A case whose database path is longer than SQLite opens, refused before anything is made (it left
 * an empty case folder and "unable to open database file"). SQLite measures the path with its
 * symbolic links resolved: so is it here, up to the part that does not exist yet.
 */
function refuseLongPath(paths: CasePaths): void {
  const missing: string[] = [];
  let existing = paths.dir;
  // A folder this user may not look into (EACCES) is taken as there: reachDatabase says what is wrong with it.
  const missingHere = (at: string): boolean => tryOr(() => fs.lstatSync(at, { throwIfNoEntry: false }) === undefined, false);
  for (; missingHere(existing) && path.dirname(existing) !== existing; existing = path.dirname(existing)) {
    missing.unshift(path.basename(existing));
  }
  const resolved = path.join(tryOr(() => fs.realpathSync(existing), existing), ...missing, path.basename(paths.database));
  const bytes = Math.max(Buffer.byteLength(paths.database), Buffer.byteLength(resolved));
  if (bytes <= SQLITE_MAX_DATABASE_PATH) return;
  const folderMax = SQLITE_MAX_DATABASE_PATH - Buffer.byteLength(`/${path.basename(paths.database)}`);
  throw new UnlinkedError(
    'CASE',
    `the case database's path (the --case folder and /${path.basename(paths.database)}${resolved === paths.database ? '' : ', its symbolic links resolved'}) is ${bytes} bytes long; SQLite opens databases up to ${SQLITE_MAX_DATABASE_PATH} bytes long (512 less room for a "-journal" suffix): use a shorter --case (at most ${folderMax} bytes); nothing was created`,
  );
}

/** What the case database and its companions are to this user: false when it is missing; a case this user may not even reach is refused here. */
function reachDatabase(paths: CasePaths): boolean {
  try {
    fs.statSync(paths.database);
    return true;
  } catch (error) {
    // existsSync says false for this too: a case that is there would be called missing (and a snapshot would try to make another).
    if (errnoCode(error) !== 'EACCES') return false;
    const folder = unenterableFolder(paths.database) ?? paths.dir;
    throw new UnlinkedError('CASE', `cannot reach the case ${paths.dir}: permission denied: this user, ${currentUser()}, may not enter ${folder} (${ownerText(folder)}); nothing was changed: run as a user who may (root)`, { cause: error });
  }
}

function mayRead(file: string): void {
  if (accessError(file, fs.constants.R_OK) !== 'EACCES') return;
  throw new UnlinkedError('CASE', `cannot read the case database ${file}: permission denied: it is ${ownerText(file)}, and this user, ${currentUser()}, may not read it; nothing was changed: run as its owner (or root)`);
}

/** The case database, its -wal and -shm files (when there) and its folder: each writable by this user, or one line naming it. */
function mayWrite(paths: CasePaths): void {
  for (const file of [paths.database, `${paths.database}-wal`, `${paths.database}-shm`, paths.dir]) {
    if (file !== paths.dir && !fs.existsSync(file)) continue;
    if (accessError(file, fs.constants.W_OK) !== 'EACCES') continue; // read-only media and immutable files: said when SQLite opens it
    const what = file === paths.dir ? 'the case directory' : file === paths.database ? 'the case database' : 'the case database\'s file';
    const verb = file === paths.dir ? 'may not write in it (SQLite makes its -wal and -shm files there, the copies go into its folders)' : 'may not write it';
    throw new UnlinkedError('CASE', `cannot write ${what} ${file}: permission denied: it is ${ownerText(file)}, and this user, ${currentUser()}, ${verb}; this command writes to the case, nothing was changed: run as its owner (or root)`);
  }
}

/** Why a case is read from a copy in memory: `is` follows the database's path ("... is on read-only media"). */
interface ReadOnlyWhy {
  is: string;
  /** What to do about a case that cannot be read that way. */
  remedy: string;
}

/**
 * Why this user cannot write the case (a command that only reads it then reads a copy in memory),
 * or null: read-only media, or a folder or database file this user may not write (permissions).
 */
function readOnlyWhy(paths: CasePaths): ReadOnlyWhy | null {
  for (const file of [paths.dir, paths.database]) {
    const code = accessError(file, fs.constants.W_OK);
    if (code === null) continue;
    if (code === 'EACCES') {
      return {
        is: `is not writable by ${currentUser()} (${file === paths.dir ? `its folder ${file}` : 'the file'} is ${ownerText(file)})`,
        remedy: 'run as its owner (or root), or copy the case folder where this user may write and open it there',
      };
    }
    return { is: code === 'EROFS' ? 'is on read-only media' : `cannot be written (${code}: an immutable file or folder)`, remedy: 'copy the case folder to writable media and open it there' };
  }
  return null;
}

/**
 * A case in a folder another user can change (caseFolder refuses to write there): read from a copy in
 * memory, so that nothing is made in it (SQLite's -wal and -shm files).
 */
function changeableWhy(paths: CasePaths): ReadOnlyWhy | null {
  const why = changeableBy(paths.dir);
  return why === null ? null : { is: `is in a folder another user can change (${why})`, remedy: 'copy the case folder into one only root (or this user) can change and open it there' };
}

function writable(dir: string): boolean {
  return accessError(dir, fs.constants.W_OK) === null; // EROFS or EACCES: SQLite could not make its -shm and -wal files there
}

/**
 * A case on read-only media, or one this user may not write (another user's): SQLite cannot open a
 * WAL database there (its -shm file cannot be made), so the database file is read into memory and opened from there; nothing is written
 * anywhere (a copy in $TMPDIR could land on the file system under examination). A case closed
 * cleanly holds everything in that one file; one with a -wal file beside it was not, and is refused.
 */
function readOnlyCase(paths: CasePaths, why: ReadOnlyWhy): Case {
  if ((fs.statSync(`${paths.database}-wal`, { throwIfNoEntry: false })?.size ?? 0) > 0) {
    throw new UnlinkedError('CASE', `${paths.database} ${why.is} and was not closed cleanly (${paths.database}-wal holds part of it): ${why.remedy}`);
  }
  let db: Db;
  try {
    const image = fs.readFileSync(paths.database);
    // The header's file format bytes say WAL (2); an in-memory database is read as a rollback one (1).
    if (image.length >= 20) {
      image[18] = 1;
      image[19] = 1;
    }
    db = new Database(image);
  } catch (error) {
    throw new UnlinkedError('CASE', `cannot read case database ${paths.database}: ${oneLine(error)}`, { cause: error });
  }
  refuseForeign(db, paths.database);
  const version = db.pragma('user_version', { simple: true }) as number;
  const latest = MIGRATIONS.at(-1)?.version ?? 0;
  if (version > latest) {
    db.close();
    throw new UnlinkedError('CASE', `${paths.database} ${why.is} and its schema (version ${version}) is newer than this unlinked's (${latest}): use the unlinked that made it, or a newer one`);
  }
  // Made by an older unlinked: its migrations are applied to the copy in memory (the media is not written).
  if (version < latest) migrate(db);
  return { paths, db, readOnly: true, readOnlyWhy: why.is, close: () => db.close() };
}

/**
 * An SQLite database with tables of its own and no unlinked schema (user_version 0) is another
 * program's: never made into a case (the migrations would add fourteen tables to it).
 */
function refuseForeign(db: Db, file: string): void {
  if ((db.pragma('user_version', { simple: true }) as number) !== 0) return;
  const tables = db.prepare(`SELECT count(*) FROM sqlite_master`).pluck().get() as number;
  if (tables > 0) {
    db.close();
    throw new UnlinkedError('CASE', `${file} is an SQLite database of another program (${tables} schema objects of its own, no unlinked schema): not a case; nothing was changed`);
  }
}

export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = MIGRATIONS.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new Error(`database schema version ${current} is newer than this unlinked (${latest}); use a newer unlinked`);
  }
  // A migration writes: another program's write lock is waited for, said (list and report too).
  if (current < latest) beforeWrite(db);
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    // BEGIN IMMEDIATE so two processes opening a new case do not both apply the same migration.
    db.transaction(() => {
      const again = db.pragma('user_version', { simple: true }) as number;
      if (again >= migration.version) return;
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
}

export function nowIso(): string {
  return new Date().toISOString();
}
