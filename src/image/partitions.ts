// What image scan and image extract take from mmls' partition table: one rule for both, so they never
// disagree on which file systems an image holds.
import type { MmlsTable } from '../tools/mmls.js';

export interface TableReading {
  /** Where each allocated partition starts, in 512-byte sectors (TSK's -o unit), each start once, in table order. */
  starts: number[];
  /** What the scan says of the table: a description over several lines, an entry not scanned, a line not read. */
  warnings: string[];
  /** Why a partition may be missing from `starts` (a line of mmls not read, an entry off the 512-byte grid), or null. */
  doubt: string | null;
}

/** TSK's description of an MBR entry of type 0xEE (tsk/vs/dos.c): a GPT's protective entry. */
const PROTECTIVE_ENTRY = 'GPT Safety Partition (0xee)';

export function readTable(table: MmlsTable): TableReading {
  const warnings: string[] = [];
  const doubts: string[] = [];
  const starts: number[] = [];
  const dos = table.table === 'DOS Partition Table';
  // An MBR entry of type 0xEE beside others: a hybrid MBR whose GPT mmls could not read (with the GPT
  // read, mmls lists the GPT's entries): the GPT's partitions beyond the MBR's are not known.
  if (dos && !protectiveOnly(table) && table.records.some((part) => part.allocated && part.description === PROTECTIVE_ENTRY)) {
    const why = 'a hybrid MBR (an entry of type 0xEE protecting a GPT, beside others) whose GPT mmls could not read (damaged or cut off?): ' +
      'only the MBR\'s other entries were scanned, and a partition of the GPT alone is not known; name it with --offset SECTORS';
    warnings.push(why);
    doubts.push(why);
  }
  for (const part of table.records) {
    if (part.descriptionLines > 1) {
      warnings.push(`mmls printed the description of the entry in slot ${part.slot} (sector ${part.start}) over ${part.descriptionLines} lines ` +
        `(a partition name holding a newline): read as one description, "${part.description}"`);
    }
    // The 0xEE entry spans the GPT disk itself: no file system of its own.
    if (!part.allocated || (dos && part.description === PROTECTIVE_ENTRY)) continue;
    const startByte = ((table.offsetSector ?? 0) + part.start) * table.sectorSize;
    if (startByte % 512 !== 0) {
      const why = `the partition in slot ${part.slot} starts at byte ${startByte} (sector ${part.start} of ${table.sectorSize} bytes), not on a 512-byte sector: not scanned`;
      warnings.push(why);
      doubts.push(why);
      continue;
    }
    // Once each: two entries of a damaged or crafted table may start at the same sector.
    if (!starts.includes(startByte / 512)) starts.push(startByte / 512);
  }
  for (const warning of table.warnings) {
    warnings.push(`mmls line ${warning.line} could not be read (${warning.message}${warning.text === undefined ? '' : `: "${warning.text}"`}): a partition it lists may be missing`);
  }
  if (table.warnings.length > 0) doubts.push(`${table.warnings.length} line${table.warnings.length === 1 ? '' : 's'} of mmls' output could not be read (first: line ${table.warnings[0]?.line ?? '?'}): a partition may be missing`);
  return { starts, warnings, doubt: doubts.length === 0 ? null : doubts.join('; ') };
}

/**
 * A GPT of which mmls read only the protective MBR entry (its header or entries damaged or cut off):
 * a DOS table whose every allocated entry is of type 0xEE. Told by the table type TSK found and the
 * description it gives the MBR type byte, never by a GPT entry's description, which is its name.
 */
export function protectiveOnly(table: MmlsTable): boolean {
  const allocated = table.records.filter((part) => part.allocated);
  return table.table === 'DOS Partition Table' && allocated.length > 0 && allocated.every((part) => part.description === PROTECTIVE_ENTRY);
}
