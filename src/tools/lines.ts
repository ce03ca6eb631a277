// A tool's stdout parsed as it comes, in pieces of whole lines (latin1: one char per byte), by a pure
// piece parser: never one string of it all. V8 makes none past about 512 MiB, which `ils -r` of a big,
// busy file system (millions of deleted inodes) prints more than.
import { UnlinkedError } from '../errors.js';
import type { ParsedPiece, ParseResult, ParseWarning } from '../../parsers/types.js';

export interface LineParse<T> {
  /** run()'s streamStdout consumer: each chunk's whole lines are parsed now, the rest kept for the next. */
  consume(chunk: Buffer): Promise<void>;
  /** What the whole output parsed to (a last line without its newline included): what the parser gives the whole text. */
  finish(): ParseResult<T>;
}

/**
 * At most this much of a tool's output is read (a runaway tool on a damaged image): then it is
 * stopped, said as that. With `take`, each record is handed to it as its piece is parsed, and not
 * kept here (finish() gives no records): what the caller keeps of millions of them is its choice.
 */
export function parsedByLines<T, S>(tool: string, maxBytes: number, start: S, parsePiece: (text: string, from: S) => ParsedPiece<T, S>, take?: (record: T) => void): LineParse<T> {
  const records: T[] = [];
  const keep = take ?? ((record: T): void => {
    records.push(record);
  });
  const warnings: ParseWarning[] = [];
  let from = start;
  /** Bytes after the last newline so far: the start of a line still coming. */
  let pending: Buffer[] = [];
  let bytes = 0;
  const parse = (text: string): void => {
    const piece = parsePiece(text, from);
    // A loop, not push(...): a spread of a million arguments overflows the stack.
    for (const record of piece.records) keep(record);
    for (const warning of piece.warnings) warnings.push(warning);
    from = piece.next;
  };
  return {
    consume: (chunk) => {
      bytes += chunk.length;
      if (bytes > maxBytes) return Promise.reject(new UnlinkedError('TOOL_FAILED', `${tool} output larger than ${maxBytes} bytes: stopped`));
      const end = chunk.lastIndexOf(0x0a);
      if (end < 0) {
        pending.push(chunk);
      } else {
        parse(Buffer.concat([...pending, chunk.subarray(0, end + 1)]).toString('latin1'));
        // A copy: the chunk it came in is let go.
        pending = end + 1 < chunk.length ? [Buffer.from(chunk.subarray(end + 1))] : [];
      }
      return Promise.resolve();
    },
    finish: () => {
      if (pending.length > 0) parse(Buffer.concat(pending).toString('latin1'));
      pending = [];
      return { records, warnings };
    },
  };
}
