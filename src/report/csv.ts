// CSV: RFC 4180, a header row, one row per finding; formula-leading cells escaped (a file named
// "=HYPERLINK(...)" must stay text in a spreadsheet). Streamed: memory does not grow with the case.
import { stringify } from 'csv-stringify';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { ReportInput } from './registry.js';
import { FINDING_COLUMNS, findings, type Finding } from './rows.js';
import type { ProcessFlag } from '../store/processFlags.js';

/**
 * Columns whose text is data to be read back exactly, never shown as a formula: base64 may start
 * with '+' (a name whose first byte is 0xF8..0xFB), and a quote in front would corrupt it.
 * csv-stringify's escape_formulas applies to every column, so the escaping is done here instead.
 */
const EXACT_COLUMNS: ReadonlySet<keyof Finding> = new Set<keyof Finding>(['path_b64', 'sha256', 'image_sha256']);

/**
 * The characters csv-stringify's escape_formulas looks for: = + - @ tab CR and the full-width
 * = + - @; and the quote itself, so that the escape can be undone: a cell that starts with a quote
 * had one added (a comm `'=x` and a comm `=x` would otherwise be the same cell `'=x`).
 */
const FORMULA_START = /^[=+\-@\t\r\uff1d\uff0b\uff0d\uff20']/;

/** What a CSV cell holds: a finding's value, its list of process flags written out as text. */
type CsvValue = Exclude<Finding[keyof Finding], ProcessFlag[]>;

/**
 * A text cell a spreadsheet would run as a formula gets a leading quote; numbers stay numbers. A
 * process's flags are one cell, `CODE: WHY` each, joined by ` | ` (their why holds no `|`).
 */
export function csvCell(column: keyof Finding, value: Finding[keyof Finding]): CsvValue {
  const cell = Array.isArray(value) ? (value.length === 0 ? null : value.map(({ flag, why }) => `${flag}: ${why}`).join(' | ')) : value;
  if (typeof cell !== 'string' || EXACT_COLUMNS.has(column) || !FORMULA_START.test(cell)) return cell;
  return `'${cell}`;
}

export async function writeCsv(input: ReportInput, out: Writable): Promise<void> {
  const rows = Readable.from(
    (function* () {
      for (const finding of findings(input.db, input.caseDir)) yield FINDING_COLUMNS.map((column) => csvCell(column, finding[column]));
    })(),
  );
  const csv = stringify({
    header: true,
    columns: FINDING_COLUMNS.map((column) => ({ key: String(FINDING_COLUMNS.indexOf(column)), header: column })),
    record_delimiter: 'windows',
    quoted_match: /[\s"]/,
    cast: { boolean: (value) => (value ? 'true' : 'false') },
  });
  await pipeline(rows, csv, out, { end: false });
}
