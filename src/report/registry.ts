// Report formats: one module each, listed here; `report --format` and triage go through this registry.
import fs from 'node:fs';
import path from 'node:path';
import { UnlinkedError, errnoCode } from '../errors.js';
import type { Writable } from 'node:stream';
import type { Db } from '../store/db.js';
import type { CasePaths } from '../store/db.js';
import { writeBodyfile } from './bodyfile.js';
import { writeCsv } from './csv.js';
import { writeHtml } from './html.js';
import { writeJson } from './json.js';

export interface ReportInput {
  db: Db;
  caseDir: string;
  /** Prefix that turns a case-relative path into a link relative to the report file: URL-encoded (see linkTo). */
  linkBase: string;
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
export async function writeReport(db: Db, paths: CasePaths, format: ReportFormatName, out: string | undefined): Promise<string> {
  const spec = REPORT_FORMATS[format];
  if (out === '-') {
    await spec.write({ db, caseDir: paths.dir, linkBase: linkTo(paths.dir) }, process.stdout);
    return '-';
  }
  const target = path.resolve(out ?? path.join(paths.reports, spec.defaultName));
  // Checked before anything is written (the temporary file would go beside a directory named as the report).
  try {
    if (fs.statSync(target, { throwIfNoEntry: false })?.isDirectory() === true) {
      throw new UnlinkedError('BAD_INPUT', `${target} is a directory: name the report's file (--out FILE, or - for stdout)`);
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
  } catch (error) {
    if (error instanceof UnlinkedError) throw error;
    throw new UnlinkedError('BAD_INPUT', `cannot write a report at ${target}: ${errnoCode(error) ?? String(error)}`);
  }
  const relativeCase = path.relative(path.dirname(target), paths.dir);
  const temporary = `${target}.partial-${process.pid}`;
  const stream = fs.createWriteStream(temporary, { flags: 'wx' });
  try {
    await spec.write({ db, caseDir: paths.dir, linkBase: linkTo(relativeCase) }, stream);
    await new Promise<void>((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
    fs.renameSync(temporary, target);
  } catch (error) {
    stream.destroy();
    fs.rmSync(temporary, { force: true });
    throw error;
  }
  return target;
}
