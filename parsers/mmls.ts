// mmls (The Sleuth Kit 4.11.1), `mmls IMAGE` (tools/vstools/mmls.cpp): a header, then one row per entry.
//   GUID Partition Table (EFI)
//   Offset Sector: 0
//   Units are in 512-byte sectors
//
//         Slot      Start        End          Length       Description
//   004:  000       0000002048   0000022527   0000020480   root
// A row is printed `%.3d:  SLOT%.10d   %.10d   %.10d   DESC`, SLOT being `Meta      `, `-------   `,
// `NNN       ` or `NNN:NNN   `: at least 55 characters before DESC. DESC is printed raw, and a GPT
// entry's is its name (36 UTF-16 units at most), which may hold a newline: what follows it is a line
// of its own. No name can hold a whole row, so a line after the column header that is not one
// continues the description of the row before. The table type, offset and sector size are read from
// the header only (before the column header), never from a line a name could have made.
// An image without a partition table makes mmls exit 1 with nothing on stdout or stderr: the caller
// treats that as a bare file system at sector 0. What it says on stderr when it exits 1 is read by
// mmlsComplaint.
import { displayBytes } from '../src/util/bytes.js';
import { warningText, type ParseResult } from './types.js';

export interface Partition {
  slot: string;
  start: number;
  end: number;
  length: number;
  /** Display form of the bytes mmls printed (a newline of a GPT name as \x0a). */
  description: string;
  /** Lines the row took: more than 1 when its description (a GPT name) holds newlines. */
  descriptionLines: number;
  /** "Meta" (tables, headers) and unallocated space hold no file system. */
  allocated: boolean;
}

export interface MmlsResult extends ParseResult<Partition> {
  /** The header's first line: `DOS Partition Table`, `GUID Partition Table (EFI)`, ... */
  table: string | null;
  /** `Offset Sector: N` of the header: where the table lies, in its own sectors. */
  offsetSector: number | null;
  /** `Units are in N-byte sectors` of the header; null when the header has none. */
  sectorSize: number | null;
}

/** tsk_vs_type_todesc() of TSK 4.11.1 (tsk/vs/mm_types.c). */
export const TABLE_TYPES: readonly string[] = [
  'DOS Partition Table', 'MAC Partition Map', 'BSD Disk Label', 'Sun Volume Table of Contents (Solaris)', 'GUID Partition Table (EFI)',
];

// TSK keeps a slot and a table number in an int8_t and prints a slot with %u: an entry from the
// 128th of each 256 on (GPT entries 128-254, 384-510, ...) comes out as 4294967168-4294967294, a
// table number of a DOS chain past 127 logical partitions as -128 (%d). Such a row is still a row:
// read as one, it never continues a name (its partition was not scanned, the row swallowed into the
// description of the one before). An entry whose slot is -1 (GPT entry 255, 511, ...) is printed
// `-------` like unallocated space: told apart by its description, which is the entry's name, not
// TSK's `Unallocated` (see `allocated`).
const ROW = /^(\d{3,}): {2}(Meta {6}|-{7} {3}|\d{3,} {7}|-?\d{3,}:-?\d{3,} {3})(\d{10,}) {3}(\d{10,}) {3}(\d{10,}) {3}(.*)$/;

/** What mmls 4.11.1 calls space no partition holds (tsk/vs/mm_part.c). */
const UNALLOCATED = 'Unallocated';
const COLUMNS = /^ +Slot +Start +End +Length +Description$/;

export function parseMmls(text: string): MmlsResult {
  const result: MmlsResult = { table: null, offsetSector: null, sectorSize: null, records: [], warnings: [] };
  /** The raw description (latin1, one char per byte) of the last row, while lines may continue it. */
  let last: { partition: Partition; raw: string } | null = null;
  let inRows = false;
  // The newline that ends the last row is no empty line continuing its description.
  const lines = (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
  lines.forEach((line, index) => {
    const warn = (message: string) => result.warnings.push({ line: index + 1, message, text: warningText(displayBytes(Buffer.from(line, 'latin1'))) });
    if (!inRows) {
      if (index === 0) {
        result.table = displayBytes(Buffer.from(line, 'latin1'));
        if (!TABLE_TYPES.includes(line)) warn('not a partition table type mmls 4.11.1 prints');
        return;
      }
      const offset = /^Offset Sector: (\d+)$/.exec(line);
      const units = /^Units are in (\d+)-byte sectors$/.exec(line);
      if (offset !== null && result.offsetSector === null) result.offsetSector = Number(offset[1]);
      else if (units !== null && result.sectorSize === null) result.sectorSize = Number(units[1]);
      else if (COLUMNS.test(line)) inRows = true;
      else if (line !== '') warn('unrecognised mmls header line');
      return;
    }
    const row = ROW.exec(line);
    if (row === null) {
      if (last === null) {
        warn('unrecognised mmls line');
        return;
      }
      // A name with a newline: the rest of it, not a line of mmls' own.
      last.raw += `\n${line}`;
      last.partition.description = displayBytes(Buffer.from(last.raw, 'latin1'));
      last.partition.descriptionLines++;
      // TSK's own `Unallocated` is one line: a `-------` row whose description goes on is an entry's name.
      if (last.partition.slot === '-------') last.partition.allocated = true;
      return;
    }
    last = null;
    const [, , rawSlot = '', start = '', end = '', length = '', description = ''] = row;
    const numbers = [start, end, length].map(Number);
    if (!numbers.every(Number.isSafeInteger)) {
      warn('partition numbers out of range');
      return;
    }
    const slot = rawSlot.trim();
    const partition: Partition = {
      slot, start: numbers[0] ?? 0, end: numbers[1] ?? 0, length: numbers[2] ?? 0, description: displayBytes(Buffer.from(description, 'latin1')),
      // `-------` with a description of its own: an entry whose slot number TSK holds as -1 (GPT entry 255, ...), not free space.
      descriptionLines: 1, allocated: slot !== 'Meta' && (slot !== '-------' || description !== UNALLOCATED),
    };
    result.records.push(partition);
    last = { partition, raw: description };
  });
  return result;
}

/**
 * What mmls said on stderr when it exited 1: null when it found no partition table (it says
 * nothing then), else its first line, the reason the table it found cannot be read. Two table types
 * at one offset (a DOS table beside a Mac partition map, as hybrid ISO images have) are such a
 * reason, whichever words the version uses (fixtures/tsk/mmls-mac-dos-*.stderr):
 *   4.11.1: `Cannot determine partition type (Mac or DOS at 0)`
 *   4.14.0: `Multiple volume system types detected (Mac or DOS at 0)`
 * 4.11.1's words are those of "no table" (TSK_ERR_VS_UNKTYPE) with the two types after them: only
 * that text alone, which these versions do not print, is taken for no table.
 */
export function mmlsComplaint(stderr: string): string | null {
  return stderr.split('\n').map((line) => line.trim()).find((line) => line !== '' && !/^Cannot determine partition type$/i.test(line)) ?? null;
}
