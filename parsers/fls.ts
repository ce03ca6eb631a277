// fls (The Sleuth Kit 4.11.1), `fls -r -d -p IMAGE`: deleted names with the inode they pointed at.
//   r/r * 12:	gone.bin
//   -/r * 12:	$OrphanFiles/OrphanFile-12
//   r/r * 15:	$OrphanFiles/OrphanFile-14/inner.txt
// TSK's virtual `$OrphanFiles/OrphanFile-N` entries stand for an inode no name reaches: not names.
// TSK makes them (tsk/fs/fs_dir.c) as deleted names of undefined type (`-/`) for inode N itself, and
// lists them under its `$OrphanFiles` directory, an allocated entry of type `V/V` (older versions
// `d/d`) whose inode is one past the file system's last. A real file of that name (deleted, `r/r`,
// another inode) is a name.
// What fls lists under one (the entries of a deleted directory whose own name is gone) are real
// deleted names, shown with that virtual directory as their path.
// The name is everything after the first tab, raw bytes (the caller reads stdout as latin1), as
// tsk_print_sanitized() left it: every byte 0x01-0x1f of the name (and of the directory part of the
// -p path) is printed as '^' (TSK_IS_CNTRL, tsk/base/tsk_printf.c), so "new\nline" and a real
// "new^line" print the same; a name with '^' is not known exactly (nameExact false).
import { warningText, type ParsedPiece, type ParseResult } from './types.js';

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

export interface FlsOptions {
  /** s_inodes_count: TSK's `$OrphanFiles` directory has inode s_inodes_count + 1. */
  inodesCount?: number;
}

/** Whether an fls entry is one TSK made up: its `$OrphanFiles` directory, or an `OrphanFile-N` entry in it. */
function isVirtual(type: string, deleted: boolean, inode: number, name: string, options: FlsOptions): boolean {
  if (name === '$OrphanFiles') {
    return !deleted && (type === 'V/V' || (type === 'd/d' && options.inodesCount !== undefined && inode > options.inodesCount));
  }
  const orphan = /^\$OrphanFiles\/OrphanFile-(\d+)$/.exec(name);
  return orphan !== null && deleted && type.startsWith('-/') && Number(orphan[1]) === inode;
}

export function parseFls(text: string, options: FlsOptions = {}): ParseResult<FlsEntry> {
  const { records, warnings } = parseFlsPiece(text, 0, options);
  return { records, warnings };
}

/** parseFls of one piece of the output, cut at a line end, `linesBefore` lines after its start (see ParsedPiece); next: the lines before the following piece. */
export function parseFlsPiece(text: string, linesBefore: number, options: FlsOptions = {}): ParsedPiece<FlsEntry, number> {
  const lines = text.split('\n');
  // A piece ends with its last line's newline: the split's last part is empty, no line.
  const result: ParsedPiece<FlsEntry, number> = { records: [], warnings: [], next: linesBefore + lines.length - 1 };
  lines.forEach((line, index) => {
    if (line === '') return;
    const tab = line.indexOf('\t');
    const head = /^(\S+\/\S+) (\* )?(\d+)(?:-\d+-\d+)?(\(realloc\))?:$/.exec(tab < 0 ? line : line.slice(0, tab));
    if (tab < 0 || head === null) {
      result.warnings.push({ line: linesBefore + index + 1, message: 'unreadable fls line', text: warningText(line) });
      return;
    }
    const name = line.slice(tab + 1);
    const [type = '', deleted, inode] = [head[1], head[2] !== undefined, Number(head[3])];
    result.records.push({
      type, deleted, inode, realloc: head[4] !== undefined, name, nameExact: !name.includes('^'),
      virtual: isVirtual(type, deleted, inode, name, options),
    });
  });
  return result;
}

/** A name's bytes as fls prints them (tsk_print_sanitized): each byte 0x01-0x1f as '^', latin1 like parseFls' names. */
export function tskPrinted(name: Buffer): string {
  return name.toString('latin1').replace(/[\x01-\x1f]/g, '^');
}
