// Read and parse a whole lsof capture, streamed: constant memory whatever its size. Used in this
// thread for small captures and from parseWorker.ts for large ones (see ingest.ts).
import crypto from 'node:crypto';
import fs from 'node:fs';
import { isUnreadableLine, LsofStreamParser, MAX_LINE_CHARS, type LsofFileRecord, type LsofFormat, type WarningKind } from '../../parsers/lsof.js';
import type { ParseWarning } from '../../parsers/types.js';

export interface ParsedCapture {
  format: LsofFormat | null;
  /** Every file record lsof printed. */
  records: number;
  /** Of them, those that say whether their file is deleted (a link count, a name, or DEL). */
  judged: number;
  lines: number;
  /** The first warnings (see LsofStreamParser); `unreadable` counts every unreadable line. */
  warnings: ParseWarning[];
  unreadable: number;
  /** lsof's own warnings in the capture: how many (all counted, whatever the other warnings) and the first. */
  lsofWarned: { count: number; first: ParseWarning | null };
  /** Every other warning by kind (each counted, whatever was kept), in the order first seen. */
  kinds: WarningKind[];
  /** Warnings counted but not kept (beyond the first 10,000 of lsof's own and of the others). */
  notKept: number;
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
    parser.warnings.push({ line: lines, message: `${parser.droppedWarnings} more warnings not kept (${parser.warnings.length} are: the first 10,000 of lsof's own and of the others)` });
  }
  return {
    format: parser.format, records: parser.records, judged: parser.judged, lines, warnings: parser.warnings, unreadable,
    lsofWarned: { count: parser.lsofWarned, first: parser.firstLsofWarning }, kinds: [...parser.kinds.values()], notKept: parser.droppedWarnings, sha256: hash.digest('hex'),
  };
}

/** How to capture what `lsof import` and the cross-check read. */
const HOW_TO_CAPTURE = 'capture with lsof +L1 -F0pcuftDsikn (or plain lsof +L1)';

/**
 * Why a parsed capture cannot stand for lsof's listing (then nothing of it is stored), or null.
 * `what` names it ("/x/capture.txt", "its output"). Input with no line at all is lsof's own answer
 * when no file matched (lsof +L1 on a clean host prints nothing): `emptyIsListing` takes it as one.
 */
export function captureRefusal(parsed: ParsedCapture, what: string, emptyIsListing: boolean): string | null {
  if (parsed.format === null) {
    if (emptyIsListing && parsed.unreadable === 0) return null;
    return `${what} is not lsof output: no "COMMAND PID ..." header and no "p<pid>" field in ${parsed.lines} lines`;
  }
  if (parsed.records === 0 && parsed.unreadable > 0) {
    const first = parsed.warnings.find(isUnreadableLine);
    return `no file of ${what} could be read: ${parsed.unreadable} unreadable line${parsed.unreadable === 1 ? '' : 's'}${first === undefined ? '' : ` (line ${first.line}: ${first.message})`}`;
  }
  if (parsed.judged === 0) {
    const listed = parsed.records === 0
      ? `no file at all (${parsed.format === 'plain' ? 'only the header line' : 'only process fields'})`
      : `${parsed.records} file${parsed.records === 1 ? '' : 's'}, none with a link count (k, NLINK) or a name (n, NAME)`;
    return `${what} lists ${listed}: whether a file is deleted cannot be told from it, and a clean host cannot be told from such a capture; ${HOW_TO_CAPTURE}`;
  }
  return null;
}
