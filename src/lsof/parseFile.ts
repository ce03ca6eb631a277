// Read and parse a whole lsof capture, streamed: constant memory whatever its size. Used in this
// thread for small captures and from parseWorker.ts for large ones (see ingest.ts).
import crypto from 'node:crypto';
import fs from 'node:fs';
import { LsofStreamParser, type LsofFileRecord, type LsofFormat } from '../../parsers/lsof.js';
import type { ParseWarning } from '../../parsers/types.js';

export interface ParsedCapture {
  format: LsofFormat | null;
  /** Every file record lsof printed. */
  records: number;
  lines: number;
  warnings: ParseWarning[];
  sha256: string;
}

const CHUNK = 1 << 20;

/**
 * Parse `file`, handing its deleted-file records (link count 0, or no link count at all) to `emit`
 * in batches. Lines are split on '\n' only (lsof escapes '\r' in names; readline would split on
 * it); the bytes are hashed as they are read, once.
 */
export function parseLsofFile(file: string, emit: (records: LsofFileRecord[]) => void, batchSize = 256): ParsedCapture {
  const parser = new LsofStreamParser({ deletedOnly: true });
  const hash = crypto.createHash('sha256');
  const buffer = Buffer.allocUnsafe(CHUNK);
  let batch: LsofFileRecord[] = [];
  let lines = 0;
  const take = (records: LsofFileRecord[]): void => {
    for (const record of records) batch.push(record);
    if (batch.length >= batchSize) {
      emit(batch);
      batch = [];
    }
  };
  const fd = fs.openSync(file, 'r');
  try {
    let rest = '';
    for (;;) {
      const read = fs.readSync(fd, buffer, 0, CHUNK, null);
      if (read === 0) break;
      hash.update(buffer.subarray(0, read));
      const text = rest + buffer.toString('latin1', 0, read);
      let start = 0;
      for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n', start)) {
        take(parser.push(text.slice(start, newline), ++lines));
        start = newline + 1;
      }
      rest = text.slice(start);
    }
    if (rest !== '') take(parser.push(rest, ++lines));
  } finally {
    fs.closeSync(fd);
  }
  take(parser.end());
  if (batch.length > 0) emit(batch);
  return { format: parser.format, records: parser.records, lines, warnings: parser.warnings, sha256: hash.digest('hex') };
}
