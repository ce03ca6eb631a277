// CSV: RFC 4180, a header row, one row per finding; formula-leading cells escaped (a file named
// "=HYPERLINK(...)" must stay text in a spreadsheet). Streamed: memory does not grow with the case.
import { stringify } from 'csv-stringify';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { ReportInput } from './registry.js';
import { FINDING_COLUMNS, findings } from './rows.js';

export async function writeCsv(input: ReportInput, out: Writable): Promise<void> {
  const rows = Readable.from(
    (function* () {
      for (const finding of findings(input.db, input.caseDir)) yield FINDING_COLUMNS.map((column) => finding[column]);
    })(),
  );
  const csv = stringify({
    header: true,
    columns: FINDING_COLUMNS.map((column) => ({ key: String(FINDING_COLUMNS.indexOf(column)), header: column })),
    escape_formulas: true,
    record_delimiter: 'windows',
    quoted_match: /[\s"]/,
    cast: { boolean: (value) => (value ? 'true' : 'false') },
  });
  await pipeline(rows, csv, out, { end: false });
}
