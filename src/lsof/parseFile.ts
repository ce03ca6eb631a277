// Read and parse a whole lsof capture, streamed: constant memory whatever its size. Used in this
// thread for small captures and from parseWorker.ts for large ones (see ingest.ts).
import crypto from 'node:crypto';
import fs from 'node:fs';
import { isUnreadableLine, LsofStreamParser, MAX_LINE_CHARS, type LsofFileRecord, type LsofFormat } from '../../parsers/lsof.js';
import type { ParseWarning } from '../../parsers/types.js';

export interface ParsedCapture {
  format: LsofFormat | null;
  /** Every file record lsof printed. */
  records: number;
  lines: number;
  /** The first warnings (see LsofStreamParser); `unreadable` counts every unreadable line. */
  warnings: ParseWarning[];
  unreadable: number;
  sha256: string;
}

/** Lines read without finding an lsof header or p field before the input is given up as not lsof output. */
const GIVE_UP_AFTER_LINES = 100_000;

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
    /** The start of a line longer than MAX_LINE_CHARS, skipped to its newline (never held whole); null: none. */
    let longHead: string | null = null;
    let givenUp = false;
    while (!givenUp) {
      const read = fs.readSync(fd, buffer, 0, CHUNK, null);
      if (read === 0) break;
      hash.update(buffer.subarray(0, read));
      let text = buffer.toString('latin1', 0, read);
      if (longHead !== null) {
        // Still inside a line too long to keep: dropped up to its newline.
        const newline = text.indexOf('\n');
        if (newline < 0) continue;
        take(parser.tooLong(longHead, ++lines));
        longHead = null;
        text = text.slice(newline + 1);
      } else {
        text = rest + text;
      }
      let start = 0;
      for (let newline = text.indexOf('\n', start); newline >= 0; newline = text.indexOf('\n', start)) {
        take(parser.push(text.slice(start, newline), ++lines));
        start = newline + 1;
        // Not lsof output: the caller says so (the hash then covers only what was read; nothing is kept).
        if (parser.format === null && lines >= GIVE_UP_AFTER_LINES) {
          givenUp = true;
          break;
        }
      }
      rest = givenUp ? '' : text.slice(start);
      if (rest.length > MAX_LINE_CHARS) {
        longHead = rest.slice(0, 200);
        rest = '';
      }
    }
    if (longHead !== null) take(parser.tooLong(longHead, ++lines));
    else if (rest !== '') take(parser.cutOff(rest, ++lines));
  } finally {
    fs.closeSync(fd);
  }
  take(parser.end());
  if (batch.length > 0) emit(batch);
  const unreadable = parser.warnings.filter(isUnreadableLine).length + parser.droppedUnreadable;
  if (parser.droppedWarnings > 0) {
    parser.warnings.push({ line: lines, message: `${parser.droppedWarnings} more warnings not kept (the first ${parser.warnings.length} are)` });
  }
  return { format: parser.format, records: parser.records, lines, warnings: parser.warnings, unreadable, sha256: hash.digest('hex') };
}
