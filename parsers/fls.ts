// fls (The Sleuth Kit 4.11.1), `fls -r -d -p IMAGE`: deleted names with the inode they pointed at.
//   r/r * 12:	gone.bin
//   -/r * 12:	$OrphanFiles/OrphanFile-12
//   r/r * 15:	$OrphanFiles/OrphanFile-14/inner.txt
// TSK's virtual `$OrphanFiles/OrphanFile-N` entries stand for an inode no name reaches: not names.
// What fls lists under one (the entries of a deleted directory whose own name is gone) are real
// deleted names, shown with that virtual directory as their path.
// The name is everything after the first tab, raw bytes (the caller reads stdout as latin1), as
// tsk_print_sanitized() left it: every byte 0x01-0x1f of the name (and of the directory part of the
// -p path) is printed as '^' (TSK_IS_CNTRL, tsk/base/tsk_printf.c), so "new\nline" and a real
// "new^line" print the same; a name with '^' is not known exactly (nameExact false).
import { warningText, type ParseResult } from './types.js';

export interface FlsEntry {
  type: string;
  deleted: boolean;
  inode: number;
  realloc: boolean;
  /** latin1 string: one char per byte of the name, as printed (control bytes as '^'). */
  name: string;
  /** false when the printed name holds a '^', which may stand for any control byte: not the exact name. */
  nameExact: boolean;
  /** TSK's virtual `$OrphanFiles` and `$OrphanFiles/OrphanFile-N` entries themselves: not names a file had. */
  virtual: boolean;
}

export function parseFls(text: string): ParseResult<FlsEntry> {
  const result: ParseResult<FlsEntry> = { records: [], warnings: [] };
  text.split('\n').forEach((line, index) => {
    if (line === '') return;
    const tab = line.indexOf('\t');
    const head = /^(\S+\/\S+) (\* )?(\d+)(?:-\d+-\d+)?(\(realloc\))?:$/.exec(tab < 0 ? line : line.slice(0, tab));
    if (tab < 0 || head === null) {
      result.warnings.push({ line: index + 1, message: 'unreadable fls line', text: warningText(line) });
      return;
    }
    const name = line.slice(tab + 1);
    result.records.push({
      type: head[1] ?? '', deleted: head[2] !== undefined, inode: Number(head[3]), realloc: head[4] !== undefined, name, nameExact: !name.includes('^'),
      virtual: /^\$OrphanFiles(?:\/OrphanFile-\d+)?$/.test(name),
    });
  });
  return result;
}

/** A name's bytes as fls prints them (tsk_print_sanitized): each byte 0x01-0x1f as '^', latin1 like parseFls' names. */
export function tskPrinted(name: Buffer): string {
  return name.toString('latin1').replace(/[\x01-\x1f]/g, '^');
}
