// mmls (The Sleuth Kit 4.11.1), `mmls IMAGE`: DOS (MBR) and GPT partition tables.
//   002:  000:000   0000002048   0000022527   0000020480   Linux (0x83)
// An image without a partition table makes mmls exit 1 with nothing on stdout: the caller treats
// that as a bare file system at sector 0.
import { warningText, type ParseResult } from './types.js';

export interface Partition {
  slot: string;
  start: number;
  end: number;
  length: number;
  description: string;
  /** "Meta" (tables, headers) and unallocated space hold no file system. */
  allocated: boolean;
}

export interface MmlsResult extends ParseResult<Partition> {
  table: string | null;
  sectorSize: number;
}

export function parseMmls(text: string): MmlsResult {
  const result: MmlsResult = { table: null, sectorSize: 512, records: [], warnings: [] };
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const entry = /^\s*\d+:\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s*(.*)$/.exec(line);
    if (entry !== null) {
      const [, slot = '', start = '', end = '', length = '', description = ''] = entry;
      const numbers = [start, end, length].map(Number);
      if (!numbers.every(Number.isSafeInteger)) {
        result.warnings.push({ line: index + 1, message: 'partition numbers out of range', text: warningText(line) });
        return;
      }
      result.records.push({
        slot, start: numbers[0] ?? 0, end: numbers[1] ?? 0, length: numbers[2] ?? 0, description: description.trim(),
        allocated: slot !== 'Meta' && !/^-+$/.test(slot),
      });
      return;
    }
    const units = /^Units are in (\d+)-byte sectors/.exec(line);
    if (units !== null) result.sectorSize = Number(units[1]);
    else if (/Partition Table|GUID Partition|BSD Disk|Sun Volume|Mac Partition/.test(line) && result.table === null) result.table = line.trim();
    else if (!/^Offset Sector:|^\s*Slot\s+Start/.test(line)) result.warnings.push({ line: index + 1, message: 'unrecognised mmls line', text: warningText(line) });
  });
  return result;
}
