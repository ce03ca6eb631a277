// Report formats: one module each, listed here; `report --format` and triage go through this registry.
import fs from 'node:fs';
import path from 'node:path';
import { UnlinkedError, errnoCode, oneLine } from '../errors.js';
import type { Writable } from 'node:stream';
import { onSignalExit } from '../util/interrupt.js';
import type { Db } from '../store/db.js';
import type { CasePaths } from '../store/db.js';
import { writeBodyfile } from './bodyfile.js';
import { writeCsv } from './csv.js';
import { writeHtml } from './html.js';
import { writeJson } from './json.js';
import { absolutePath } from '../util/cwd.js';
import { caseFolder } from '../util/caseFolder.js';

export interface ReportInput {
  db: Db;
  caseDir: string;
  /** Prefix that turns a case-relative path into a link relative to the report file: URL-encoded (see linkTo). */
  linkBase: string;
  /** Said at the top of the HTML page: a report written part-way through (triage's first, before its copies). */
  stage?: string;
}

export interface ReportFormat {
  defaultName: string;
  write(input: ReportInput, out: Writable): Promise<void>;
}

export const REPORT_FORMATS = {
  csv: { defaultName: 'items.csv', write: writeCsv },
  html: { defaultName: 'report.html', write: writeHtml },
  json: { defaultName: 'report.json', write: writeJson },
  bodyfile: { defaultName: 'bodyfile.txt', write: writeBodyfile },
} as const satisfies Record<string, ReportFormat>;

export type ReportFormatName = keyof typeof REPORT_FORMATS;

/**
 * A directory path as the start of an href: each segment URL-encoded, so a case path with '#', '%',
 * '?' or a space stays one path (a raw '#' would end it, a raw '%' would be read as an escape).
 */
export function linkTo(directory: string): string {
  if (directory === '') return '';
  const encoded = directory.split('/').map(encodeURIComponent).join('/');
  // '/' (a case at the root) must not become '//', which a browser reads as a host name.
  return encoded.endsWith('/') ? encoded : `${encoded}/`;
}

/**
 * Write one report. out: a file path, '-' for stdout, or undefined for <case>/reports/<default name>.
 * A file is written under a temporary name and renamed, so a killed run never leaves half a report.
 */
export async function writeReport(db: Db, paths: CasePaths, format: ReportFormatName, out: string | undefined, stage?: string): Promise<string> {
  const spec = REPORT_FORMATS[format];
  if (out === '-') {
    await spec.write({ db, caseDir: paths.dir, linkBase: linkTo(paths.dir), ...(stage === undefined ? {} : { stage }) }, process.stdout);
    return '-';
  }
  const target = absolutePath(out ?? path.join(paths.reports, spec.defaultName));
  // Checked before anything is written (the temporary file would go beside a directory named as the report).
  try {
    const existing = fs.lstatSync(target, { throwIfNoEntry: false });
    if (existing?.isDirectory() === true) {
      throw new UnlinkedError('BAD_INPUT', `${target} is a directory: name the report's file (--out FILE, or - for stdout)`);
    }
    if (existing !== undefined && !existing.isFile() && !existing.isSymbolicLink()) {
      throw new UnlinkedError('BAD_INPUT', `${target} is not a regular file (a device, FIFO or socket): a report never replaces one`);
    }
    const evidence = evidenceAt(db, paths, target);
    if (evidence !== null) throw new UnlinkedError('BAD_INPUT', `${target} is ${evidence}: a report never replaces it; name another file (--out FILE)`);
    if (out === undefined) {
      caseFolder(path.dirname(target));
    } else if (!fs.statSync(path.dirname(target), { throwIfNoEntry: false })?.isDirectory()) {
      // Never made: a mistyped path, or media not mounted (/mnt/usb/...), would put folders and the
      // report on the file system under examination.
      throw new UnlinkedError('BAD_INPUT', `cannot write a report at ${target}: the folder ${path.dirname(target)} does not exist (or is not a folder); unlinked does not create it`);
    }
  } catch (error) {
    if (error instanceof UnlinkedError) throw error;
    throw new UnlinkedError('BAD_INPUT', `cannot write a report at ${target}: ${errnoCode(error) ?? String(error)}`);
  }
  const relativeCase = path.relative(path.dirname(target), paths.dir);
  const temporary = `${target}.partial-${process.pid}`;
  // Opened here, so a folder that cannot be written (permissions, /proc, /sys, read-only media) is
  // said as that, about the report's path, not as an error of a temporary file.
  let fd: number;
  try {
    fd = fs.openSync(temporary, 'wx');
  } catch (error) {
    throw new UnlinkedError('BAD_INPUT', `cannot write a report at ${target}: ${writeFailure(errnoCode(error)) ?? oneLine(error)} (the report is written beside it first, as ${path.basename(temporary)})`);
  }
  const stream = fs.createWriteStream(temporary, { fd });
  // A signal while it is written: the half report goes with the process, never left beside the real one.
  const unhook = onSignalExit(() => fs.rmSync(temporary, { force: true }));
  try {
    await spec.write({ db, caseDir: paths.dir, linkBase: linkTo(relativeCase), ...(stage === undefined ? {} : { stage }) }, stream);
    await new Promise<void>((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
    fs.renameSync(temporary, target);
  } catch (error) {
    stream.destroy();
    fs.rmSync(temporary, { force: true });
    // A write that failed (ENOSPC, EIO) is said about the report; anything else (the case database) as it is.
    const why = error instanceof UnlinkedError ? undefined : writeFailure(errnoCode(error));
    if (why === undefined) throw error;
    throw new UnlinkedError('BAD_INPUT', `cannot write a report at ${target}: ${why}`, { cause: error });
  } finally {
    unhook();
  }
  return target;
}

/** A file write's errno said in words (EIO as itself); undefined for an error that is no errno (the case database's SQLITE_*). */
function writeFailure(code: string | undefined): string | undefined {
  if (code === undefined || !/^E[A-Z]+$/.test(code)) return undefined;
  return code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EROFS' ? 'a read-only file system' : code === 'ENOSPC' ? 'no space left' : code;
}

/**
 * What of the case or its evidence the report's path names, or null: the case database (and its
 * -wal, -shm, -journal files), anything under recovered/, extracted/ or lsof/ (captures), an image
 * or device the case scanned, a file an lsof capture was imported from. Compared by the real path of the directory (the report is renamed into place: that
 * directory entry is what would be replaced, a symbolic link itself rather than what it points at).
 */
function evidenceAt(db: Db, paths: CasePaths, target: string): string | null {
  const entry = realEntry(target);
  const database = realEntry(paths.database);
  if ([database, `${database}-wal`, `${database}-shm`, `${database}-journal`].includes(entry)) return 'the case database';
  const captures = path.join(paths.dir, 'lsof');
  for (const [dir, what] of [[paths.recovered, 'a recovered copy'], [paths.extracted, 'an extracted copy'], [captures, 'an lsof capture']] as const) {
    const real = realEntry(dir);
    if (entry.startsWith(`${real}/`)) return `in ${dir} (${what}'s folder)`;
  }
  for (const { path: image } of db.prepare(`SELECT DISTINCT path FROM images`).all() as Array<{ path: string }>) {
    if (realEntry(image) === entry) return `the image ${image} this case scanned (evidence)`;
  }
  // The file an lsof capture was imported from: its sha256 is recorded with the snapshot.
  for (const { import_file: file } of db.prepare(`SELECT DISTINCT import_file FROM snapshots WHERE import_file IS NOT NULL`).all() as Array<{ import_file: string }>) {
    if (realEntry(file) === entry) return `the lsof capture ${file} this case imported (evidence)`;
  }
  return null;
}

/** The path with every directory in it resolved (symbolic links, '..'), the last name as it is. */
function realEntry(file: string): string {
  const absolute = absolutePath(file);
  let dir = path.dirname(absolute);
  const rest: string[] = [path.basename(absolute)];
  for (;;) {
    try {
      return path.join(fs.realpathSync(dir), ...rest);
    } catch {
      if (dir === path.dirname(dir)) return absolute;
      rest.unshift(path.basename(dir));
      dir = path.dirname(dir);
    }
  }
}
