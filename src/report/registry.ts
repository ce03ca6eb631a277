// Report formats: one module each, listed here; `report --format` and triage go through this registry.
import fs from 'node:fs';
import path from 'node:path';
import { UnlinkedError, errnoCode, oneLine } from '../errors.js';
import type { Writable } from 'node:stream';
import { letSignalsIn, onSignalExit } from '../util/interrupt.js';
import type { Db } from '../store/db.js';
import type { CasePaths } from '../store/db.js';
import { writeBodyfile } from './bodyfile.js';
import { writeCsv } from './csv.js';
import { writeHtml } from './html.js';
import { writeJson } from './json.js';
import { absolutePath } from '../util/cwd.js';
import { caseFolder, changeableBy } from '../util/caseFolder.js';
import { sweepLeftovers } from '../util/leftovers.js';

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
  // The case's reports/ is made when first needed; a folder --out names never is (below).
  if (out === undefined) caseFolder(paths.reports);
  const named = out ?? path.join(paths.reports, spec.defaultName);
  // Before any link is followed: one another user planted (/tmp/r.html -> /etc/ld.so.preload) would
  // have the report renamed over the file it names.
  const changeable = out === undefined ? null : changeableBy(absolutePath(out), true);
  if (changeable !== null) {
    throw new UnlinkedError('BAD_INPUT', `refusing to write a report at ${absolutePath(out ?? '')}: ${changeable}: another user could swap it, or a folder on its way, for a symbolic link ` +
      'and have the report replace the file it names (/etc/shadow, say); write it into a folder only root (or this user) can change; nothing was written');
  }
  const target = reportDestination(named);
  // Checked before anything is written (the temporary file would go beside a directory named as the report).
  try {
    const evidence = evidenceAt(db, paths, target);
    // Said of the path as given: through a symbolic link, the evidence it leads to is named in `evidence`.
    if (evidence !== null) throw new UnlinkedError('BAD_INPUT', `${absolutePath(named)} is ${evidence}: a report never replaces it; name another file (--out FILE)`);
    if (!fs.statSync(path.dirname(target), { throwIfNoEntry: false })?.isDirectory()) {
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
  // Those of runs killed (SIGKILL) while they wrote this report: never one the case names as evidence.
  const leftover = new RegExp(`^${path.basename(target).replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}\\.partial-(\\d+)$`);
  sweepLeftovers(path.dirname(target), { pattern: leftover, keep: (file) => evidenceAt(db, paths, file) !== null });
  // Opened here, so a folder that cannot be written (permissions, /proc, /sys, read-only media) is
  // said as that, about the report's path, not as an error of a temporary file.
  let fd: number;
  try {
    fd = fs.openSync(temporary, 'wx', 0o644);
  } catch (error) {
    throw new UnlinkedError('BAD_INPUT', `cannot write a report at ${target}: ${writeFailure(errnoCode(error)) ?? oneLine(error)} (the report is written beside it first, as ${path.basename(temporary)})`);
  }
  const stream = fs.createWriteStream(temporary, { fd });
  // A signal while it is written: the half report goes with the process, never left beside the real one.
  const unhook = onSignalExit(() => fs.rmSync(temporary, { force: true }));
  try {
    await spec.write({ db, caseDir: paths.dir, linkBase: linkTo(relativeCase), ...(stage === undefined ? {} : { stage }) }, stream);
    await new Promise<void>((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
    // A signal that came while a synchronous part was written stops the run before the report takes
    // its place, not after (the caller says it is written as soon as this returns).
    await letSignalsIn();
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

/** What a file that is not a regular one is, in words. */
function fileKind(stat: fs.Stats): string {
  return stat.isDirectory() ? 'a directory' : stat.isFIFO() ? 'a FIFO (pipe)' : stat.isCharacterDevice() ? 'a character device (a terminal, /dev/null)'
    : stat.isBlockDevice() ? 'a block device' : stat.isSocket() ? 'a socket' : 'not a regular file';
}

/** At most this many symbolic links followed one after another (the kernel's own limit, MAXSYMLINKS). */
const MAX_LINKS = 40;

/**
 * The file a report named FILE is written to: FILE itself, or, for a symbolic link, what it leads to
 * (the report is written beside that and renamed over it; the link stays a link, never replaced:
 * /dev/stdout replaced by a regular file would break it for every program of the host). A link to a
 * file not there yet (dangling) leads to where it points. Refused, one line: a directory, anything but
 * a regular file (a device, FIFO, socket: /dev/stdout and /proc/self/fd/1 are a pipe or a terminal),
 * and a link of /proc (/proc/PID/fd/N, /dev/stdout's end): a file a process holds open, which renamed
 * over would leave that process writing to a deleted file (the rest of a shell's redirection lost).
 * Directories in the path are resolved, so the checks against the case and its evidence see the real place.
 */
export function reportDestination(file: string): string {
  const given = absolutePath(file);
  const stdout = '--out - for stdout';
  try {
    let entry = realEntry(given);
    let linked = false;
    for (let links = 0; ; links++) {
      const stat = fs.lstatSync(entry, { throwIfNoEntry: false });
      if (stat === undefined) return entry;
      if (!stat.isSymbolicLink()) {
        if (stat.isDirectory()) throw new UnlinkedError('BAD_INPUT', `${given} is ${linked ? `a symbolic link to a directory (${entry})` : 'a directory'}: name the report's file (--out FILE, or - for stdout)`);
        if (!stat.isFile()) throw new UnlinkedError('BAD_INPUT', `${given} is not a regular file (${linked ? `a symbolic link to ${entry}, ` : ''}${fileKind(stat)}): a report never replaces one (${stdout})`);
        return entry;
      }
      linked = true;
      if (entry.startsWith('/proc/')) {
        // A magic link: its text ("pipe:[N]", "/x (deleted)") is no path; what it leads to is asked of the kernel.
        const held = fs.statSync(entry, { throwIfNoEntry: false });
        if (held !== undefined && !held.isFile()) {
          throw new UnlinkedError('BAD_INPUT', held.isDirectory()
            ? `${given} is a symbolic link to a directory (${entry}): name the report's file (--out FILE, or - for stdout)`
            : `${given} is not a regular file (a symbolic link to ${entry}, ${fileKind(held)}): a report never replaces one (${stdout})`);
        }
        throw new UnlinkedError('BAD_INPUT', `${given} leads to ${entry}, a /proc link to a file of a process: a report never replaces a file through one (renamed over, a file a process holds would be deleted under it); name the file itself (${stdout})`);
      }
      if (links === MAX_LINKS) throw new UnlinkedError('BAD_INPUT', `cannot write a report at ${given}: ELOOP (more than ${MAX_LINKS} symbolic links)`);
      const points = fs.readlinkSync(entry);
      entry = realEntry(path.isAbsolute(points) ? points : `${path.dirname(entry)}/${points}`);
    }
  } catch (error) {
    if (error instanceof UnlinkedError) throw error;
    throw new UnlinkedError('BAD_INPUT', `cannot write a report at ${given}: ${errnoCode(error) ?? String(error)}`);
  }
}

/**
 * What of the case or its evidence the report's path names, or null: the case database (and its
 * -wal, -shm, -journal files), anything under recovered/, extracted/ or lsof/ (captures), an image
 * or device the case scanned, a file an lsof capture was imported from. The report's path is the
 * file it replaces (reportDestination: a symbolic link followed); each of these is compared by the
 * real path of its directory, its last name as it is.
 */
function evidenceAt(db: Db, paths: CasePaths, target: string): string | null {
  const entry = realEntry(target);
  const database = realFile(paths.database);
  if ([database, `${database}-wal`, `${database}-shm`, `${database}-journal`].includes(entry)) return 'the case database';
  const captures = path.join(paths.dir, 'lsof');
  for (const [dir, what] of [[paths.recovered, 'a recovered copy'], [paths.extracted, 'an extracted copy'], [captures, 'an lsof capture']] as const) {
    const real = realEntry(dir);
    if (entry.startsWith(`${real}/`)) return `in ${dir} (${what}'s folder)`;
  }
  for (const { path: image } of db.prepare(`SELECT DISTINCT path FROM images`).all() as Array<{ path: string }>) {
    if (realFile(image) === entry) return `the image ${image} this case scanned (evidence)`;
  }
  // The file an lsof capture was imported from: its sha256 is recorded with the snapshot.
  for (const { import_file: file } of db.prepare(`SELECT DISTINCT import_file FROM snapshots WHERE import_file IS NOT NULL`).all() as Array<{ import_file: string }>) {
    if (realFile(file) === entry) return `the lsof capture ${file} this case imported (evidence)`;
  }
  return null;
}

/** The real path of a file that is there (a symbolic link to it followed), else realEntry. */
function realFile(file: string): string {
  try {
    return fs.realpathSync(absolutePath(file));
  } catch {
    return realEntry(file);
  }
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
