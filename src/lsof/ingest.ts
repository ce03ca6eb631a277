// Stream an lsof capture into the case database: constant memory whatever the file's size.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { LsofStreamParser, type LsofFileRecord, type LsofFormat } from '../../parsers/lsof.js';
import type { ParseWarning } from '../../parsers/types.js';
import type { Db } from '../store/db.js';
import { LsofWriter, type LsofItemizer } from '../store/lsof.js';

export interface IngestResult {
  format: LsofFormat | null;
  /** Every file record lsof printed. */
  records: number;
  /** Records of deleted files (link count 0, or " (deleted)" when the input has no link counts): stored. */
  stored: number;
  lines: number;
  warnings: ParseWarning[];
  sha256: string;
}

/** Split a latin1 stream on '\n' only (lsof escapes '\r' in names; readline would split on it). */
export async function* latin1Lines(file: string, hash?: crypto.Hash): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of fs.createReadStream(file, { encoding: 'latin1', highWaterMark: 1 << 20 })) {
    hash?.update(chunk as string, 'latin1');
    const text = rest + (chunk as string);
    let start = 0;
    for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n', start)) {
      yield text.slice(start, newline);
      start = newline + 1;
    }
    rest = text.slice(start);
  }
  if (rest !== '') yield rest;
}

/** A record about a deleted file: what the case database keeps (the raw capture keeps the rest). */
export function isDeletedRecord(record: LsofFileRecord): boolean {
  return record.nlink === 0 || record.candidateOnlyByText;
}

/**
 * Parse the capture and write its deleted-file records under snapshotId (with an itemizer, each
 * also becomes its item right away: an import has no /proc walk to match it against). The caller holds the transaction
 * (BEGIN before, COMMIT after): awaits happen between lines, never inside a db.transaction().
 */
export async function ingestLsofFile(db: Db, snapshotId: number, file: string, itemizer: LsofItemizer | null): Promise<IngestResult> {
  const parser = new LsofStreamParser();
  const writer = new LsofWriter(db, snapshotId, itemizer);
  const hash = crypto.createHash('sha256');
  let lineNo = 0;
  let records = 0;
  const keep = (record: LsofFileRecord): void => {
    records++;
    if (isDeletedRecord(record)) writer.write(record);
  };
  for await (const line of latin1Lines(file, hash)) {
    lineNo++;
    for (const record of parser.push(line, lineNo)) keep(record);
  }
  for (const record of parser.end()) keep(record);
  const insertWarning = db.prepare(`INSERT INTO parse_warnings (snapshot_id, source, line, message, text) VALUES (?, 'lsof', ?, ?, ?)`);
  for (const warning of parser.warnings) insertWarning.run(snapshotId, warning.line, warning.message, warning.text ?? null);
  return { format: parser.format, records, stored: writer.count, lines: lineNo, warnings: parser.warnings, sha256: hash.digest('hex') };
}
