// ils (The Sleuth Kit 4.11.1) pipe output, `ils -aL IMAGE` (orphans: allocated, no links) and
// `ils -r IMAGE` (removed inodes):
//   st_ino|st_alloc|st_uid|st_gid|st_mtime|st_atime|st_ctime|st_crtime|st_mode|st_nlink|st_size
//   13|a|0|0|1795561959|1795561959|1795561959|1795561959|644|0|17
// st_mode is the permission bits in octal, without the file type. Times are the inode's low 32-bit
// word printed UNSIGNED (4.11.1 reads neither its sign nor ext4's extra epoch bits): 1969-12-31 is
// 4294880896, 2200-01-01 is 2963151104, and on inodes larger than 128 bytes 2001-09-09 plus any
// multiple of 2^32 s prints 1000000000; see ilsTime. `ils -O` prints no rows even when orphans
// exist (4.11.1): do not use it. st_size is the inode's 64-bit i_size printed SIGNED (PRIdOFF): from
// 2^63 up it is negative (2^64 - 1 prints -1, 2^63 prints -9223372036854775808), and past 2^53 it
// has more digits than a JS number holds: read as the exact unsigned value (U64), see parseTskOff.
import { parseTskOff, warningText, type ParsedPiece, type ParseResult, type U64 } from './types.js';

export interface IlsInode {
  inode: number;
  allocated: boolean;
  uid: number;
  gid: number;
  mtime: number;
  atime: number;
  ctime: number;
  crtime: number;
  /** Permission bits only. */
  perms: number;
  nlink: number;
  /** i_size, exact (a bigint past 2^53): a crafted i_size_high must not hide an inode. */
  size: U64;
}

const HEADER = 'st_ino|st_alloc|st_uid|st_gid|st_mtime|st_atime|st_ctime|st_crtime|st_mode|st_nlink|st_size';

const DIGITS = /^\d+$/;

export function parseIls(text: string): ParseResult<IlsInode> {
  const { records, warnings } = parseIlsPiece(text, ILS_START);
  return { records, warnings };
}

/** Where a piece of ils output starts: how many lines came before it, and whether its header was among them. */
export interface IlsPosition {
  linesBefore: number;
  inTable: boolean;
}

export const ILS_START: IlsPosition = { linesBefore: 0, inTable: false };

/** parseIls of one piece of the output, cut at a line end (see ParsedPiece): the pieces' records are those of the whole. */
export function parseIlsPiece(text: string, from: IlsPosition): ParsedPiece<IlsInode, IlsPosition> {
  const lines = text.split('\n');
  // A piece ends with its last line's newline: the split's last part is empty, no line.
  const result: ParsedPiece<IlsInode, IlsPosition> = { records: [], warnings: [], next: { linesBefore: from.linesBefore + lines.length - 1, inTable: from.inTable } };
  // A plain loop: `ils -r` of a large file system is tens of thousands of rows, read while fls walks.
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? '';
    if (line === '') continue;
    if (line === HEADER) {
      result.next.inTable = true;
      continue;
    }
    if (!result.next.inTable) continue; // "class|host|device|start_time" preamble
    const fields = line.split('|');
    const record = fields.length === 11 ? readRow(fields) : null;
    if (record === null) result.warnings.push({ line: from.linesBefore + index + 1, message: `unreadable ils line${DIGITS.test(fields[0] ?? '') ? ` (inode ${fields[0]})` : ''}`, text: warningText(line) });
    else result.records.push(record);
  }
  return result;
}

/** One row of 11 fields, or null when a field is not what ils prints (a number past 2^53 other than the size included). */
function readRow(fields: readonly string[]): IlsInode | null {
  const alloc = fields[1];
  if ((alloc !== 'a' && alloc !== 'f') || !DIGITS.test(fields[0] ?? '')) return null;
  const number = (position: number): number => Number(fields[position]);
  const inode = number(0);
  const uid = number(2);
  const gid = number(3);
  const mtime = number(4);
  const atime = number(5);
  const ctime = number(6);
  const crtime = number(7);
  const perms = parseInt(fields[8] ?? '', 8);
  const nlink = number(9);
  const size = parseTskOff(fields[10] ?? '');
  if (size === null) return null;
  for (const value of [inode, uid, gid, mtime, atime, ctime, crtime, perms, nlink]) if (!Number.isSafeInteger(value)) return null;
  return { inode, allocated: alloc === 'a', uid, gid, mtime, atime, ctime, crtime, perms, nlink, size };
}

/**
 * A time as ils printed it, read as the kernel reads it where that is certain: with 128-byte inodes
 * there is no extra word, the value is the signed 32-bit word. With larger inodes the extra word's
 * epoch bits (which TSK ignores) may add any multiple of 2^32 s, whatever the low word: null.
 */
export function ilsTime(printed: number, inodeSize: number): number | null {
  return inodeSize <= 128 ? printed | 0 : null;
}
