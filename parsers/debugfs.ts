import { warningText, type ParseResult } from './types.js';

// debugfs (e2fsprogs 1.47.0), `debugfs -c -R "stat <N>" IMAGE`: the inode's dtime, which on an
// inode of the s_last_orphan chain holds the next orphan's number, not a time.
//   dtime: 0x0000000d:(00000000) -- Thu Jan  1 00:00:13 1970
export interface DebugfsStat {
  inode: number | null;
  links: number | null;
  size: number | null;
  /** Raw 32-bit dtime value (0 when debugfs prints no dtime line). */
  dtimeRaw: number;
}

export function parseDebugfsStat(text: string): DebugfsStat {
  const stat: DebugfsStat = { inode: null, links: null, size: null, dtimeRaw: 0 };
  let match: RegExpExecArray | null;
  if ((match = /Inode: (\d+)\s/.exec(text)) !== null) stat.inode = Number(match[1]);
  if ((match = /Links: (\d+)/.exec(text)) !== null) stat.links = Number(match[1]);
  if ((match = /Size: (\d+)/.exec(text)) !== null) stat.size = Number(match[1]);
  if ((match = /^\s*dtime: 0x([0-9a-f]{1,8})/im.exec(text)) !== null) stat.dtimeRaw = parseInt(match[1] ?? '0', 16);
  return stat;
}

// `debugfs -c -R lsdel IMAGE` with TZ=UTC: deleted inodes that still own data blocks.
//    Inode  Owner  Mode    Size      Blocks   Time deleted
//       12      0 100644  30000     31/    31 Tue Nov 24 23:13:09 2026
//   1 deleted inodes found.
// Owner is printed with %d: uid 4000000000 comes out as -294967296, read back as unsigned 32 bits.
export interface LsdelEntry {
  inode: number;
  owner: number;
  mode: number;
  size: number;
  blocks: number;
  totalBlocks: number;
  /** Epoch seconds (debugfs printed it in UTC). */
  deleted: number | null;
}

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

export function parseLsdel(text: string): ParseResult<LsdelEntry> {
  const result: ParseResult<LsdelEntry> = { records: [], warnings: [] };
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '' || /^\s*Inode\s+Owner/.test(line) || /deleted inodes found\.$/.test(line) || /^debugfs \d/.test(line)) return;
    const match = /^\s*(\d+)\s+(-?\d+)\s+([0-7]+)\s+(\d+)\s+(\d+)\/\s*(\d+)\s+\w{3} (\w{3})\s+(\d+) (\d\d):(\d\d):(\d\d) (\d{4})$/.exec(line);
    if (match === null) {
      result.warnings.push({ line: index + 1, message: 'unreadable lsdel line', text: warningText(line) });
      return;
    }
    const [, inode, owner, mode, size, blocks, total, month, day, hour, minute, second, year] = match;
    const time = Date.UTC(Number(year), MONTHS[month ?? ''] ?? 0, Number(day), Number(hour), Number(minute), Number(second)) / 1000;
    result.records.push({
      inode: Number(inode), owner: Number(owner) >>> 0, mode: parseInt(mode ?? '0', 8), size: Number(size), blocks: Number(blocks), totalBlocks: Number(total),
      deleted: Number.isFinite(time) ? time : null,
    });
  });
  return result;
}
