// ils (The Sleuth Kit 4.11.1) pipe output, `ils -aL IMAGE` (orphans: allocated, no links) and
// `ils -r IMAGE` (removed inodes):
//   st_ino|st_alloc|st_uid|st_gid|st_mtime|st_atime|st_ctime|st_crtime|st_mode|st_nlink|st_size
//   13|a|0|0|1795561959|1795561959|1795561959|1795561959|644|0|17
// st_mode is the permission bits in octal, without the file type. `ils -O` prints no rows even
// when orphans exist (4.11.1): do not use it.
import { warningText, type ParseResult } from './types.js';

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
  size: number;
}

const HEADER = 'st_ino|st_alloc|st_uid|st_gid|st_mtime|st_atime|st_ctime|st_crtime|st_mode|st_nlink|st_size';

export function parseIls(text: string): ParseResult<IlsInode> {
  const result: ParseResult<IlsInode> = { records: [], warnings: [] };
  let inTable = false;
  text.split('\n').forEach((line, index) => {
    if (line === '') return;
    if (line === HEADER) {
      inTable = true;
      return;
    }
    if (!inTable) return; // "class|host|device|start_time" preamble
    const fields = line.split('|');
    const numbers = fields.map((field, position) => (position === 1 ? 0 : position === 8 ? parseInt(field, 8) : Number(field)));
    if (fields.length !== 11 || !/^[af]$/.test(fields[1] ?? '') || !/^\d+$/.test(fields[0] ?? '') || numbers.some((value) => !Number.isSafeInteger(value))) {
      result.warnings.push({ line: index + 1, message: 'unreadable ils line', text: warningText(line) });
      return;
    }
    const [inode = 0, , uid = 0, gid = 0, mtime = 0, atime = 0, ctime = 0, crtime = 0, perms = 0, nlink = 0, size = 0] = numbers;
    result.records.push({ inode, allocated: fields[1] === 'a', uid, gid, mtime, atime, ctime, crtime, perms, nlink, size });
  });
  return result;
}
