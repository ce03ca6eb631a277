// lsof output, both forms, streamed line by line (lsof 4.95 on Linux; the format is stable since 4.8x).
//
// Field output, `lsof +L1 -n -P -F0pcuftDsikn` (with 0: every field ends in NUL, one set a line;
// without 0: one field a line):
//   p2680\0cpython3\0u0\0
//   f3\0tREG\0D0xfe00\0s100\0i15343621\0k0\0n/var/tmp/we ird\nna\xffme (deleted)\0
// Plain table, `lsof +L1` / `lsof -n -P` (NLINK only with +L):
//   COMMAND  PID USER   FD   TYPE DEVICE SIZE/OFF NLINK     NODE NAME
//   python3 2680 root    3u   REG  254,0      100     0 15343621 /var/tmp/lsoftest (deleted)
//
// Input lines are latin1 strings (one char per byte of the capture). lsof escapes names: "\n",
// "\t", "\\", "\xHH" (decoded back to bytes here) and "^X" for other control bytes (kept as text:
// indistinguishable from a name holding "^X"). Numbers stay exact: sizes, offsets and inodes past
// 2^53 are bigints (U64); a number that is not one is a warning. The command (a process names itself:
// prctl PR_SET_NAME takes any bytes) is in the display form the /proc walk stores comm in.
import { displayBytes } from '../src/util/bytes.js';
import { devString } from './procfs.js';
import { parseU64, warningText, type ParseResult, type ParseWarning, type U64 } from './types.js';

export interface LsofFileRecord {
  /** 1-based line where the record starts. */
  line: number;
  /** The process name in the display form (displayBytes of its bytes, lsof's escapes undone), as comm is stored. */
  command: string | null;
  pid: number;
  tid: number | null;
  /** A thread's own command (lsof -K: field M, column TASKCMD) in the same display form; null for a process's set. */
  taskCommand: string | null;
  uid: number | null;
  user: string | null;
  /** FD as lsof prints it: "3u", "txt", "mem", "DEL", "cwd". */
  fd: string;
  /** The descriptor number when FD is one (mode letters stripped). */
  fdNum: number | null;
  type: string | null;
  /** "MAJOR:MINOR" in decimal. */
  device: string | null;
  size: U64 | null;
  offset: U64 | null;
  nlink: number | null;
  inode: U64 | null;
  /** Name bytes, lsof's escapes decoded; " (deleted)" kept as printed. */
  name: Buffer;
  nameDeleted: boolean;
  /** The input had no link counts: a deleted candidate only because the name says " (deleted)". */
  candidateOnlyByText: boolean;
}

export type LsofFormat = 'field' | 'plain';

const DELETED = ' (deleted)';
const WARNING = /^lsof: |^\s+Output information may be incomplete\.|^lsof (?:version|WARNING)/;

export interface LsofParserOptions {
  /**
   * Only records that can be deleted files (link count 0, or no link count at all): the others are
   * counted in `records` but never built (no name decoded). What an import keeps; a million-line
   * capture is mostly live files.
   */
  deletedOnly?: boolean;
}

/** Warnings kept per capture; more are counted only. */
const MAX_WARNINGS = 10_000;

export class LsofStreamParser {
  format: LsofFormat | null = null;
  /** The first MAX_WARNINGS warnings; the rest are only counted (junk input must not fill memory). */
  readonly warnings: ParseWarning[] = [];
  /** Warnings beyond MAX_WARNINGS, and how many of them were unreadable lines (not lsof's own warnings). */
  droppedWarnings = 0;
  droppedUnreadable = 0;
  /**
   * lsof's own warnings (its stderr captured with 2>&1): all counted, the first kept. They are kept
   * under a cap of their own (MAX_WARNINGS too), so no number of other warnings before them hides them.
   */
  lsofWarned = 0;
  firstLsofWarning: ParseWarning | null = null;
  /** Warnings kept that are not lsof's own. */
  private otherKept = 0;
  /** Every warning not lsof's own, counted by kind (warningKind), with the first of each: whatever the cap. */
  readonly kinds = new Map<string, WarningKind>();
  /** Fields end in NUL (-F0): a line that does not end in one was cut off. */
  private nulEnded: boolean | null = null;
  /** Every well-formed file record seen, returned or not. */
  records = 0;
  /**
   * Records that say whether their file is deleted: a link count (k, NLINK), a name (n, NAME: " (deleted)"),
   * or lsof's DEL. A capture without any (-Ff, -Fp, a plain header alone) cannot tell a clean host.
   */
  judged = 0;
  private field: FieldState | null = null;
  private plain: PlainState | null = null;
  private readonly deletedOnly: boolean;
  private crlfSaid = false;
  /** Some file set had a name (n): the capture's field selection names files. */
  private named = false;

  constructor(options: LsofParserOptions = {}) {
    this.deletedOnly = options.deletedOnly === true;
  }

  /** Feed one line (without its newline); returns the records it completed. */
  push(text: string, lineNo: number): LsofFileRecord[] {
    if (text.length > MAX_LINE_CHARS) return this.tooLong(text, lineNo);
    if (text.charCodeAt(text.length - 1) === 0x0d) {
      if (!this.crlfSaid) this.warn({ line: lineNo, message: CRLF_ENDS });
      this.crlfSaid = true;
      text = text.slice(0, -1);
    }
    if (this.format === null) {
      if (text.trim() === '') return [];
      if (WARNING.test(text)) {
        this.warn({ line: lineNo, message: LSOF_WARNING, text: warningText(text) });
        return [];
      }
      if (/^\s*COMMAND\s+PID\s/.test(text)) {
        this.format = 'plain';
        this.plain = plainHeader(text);
        return [];
      }
      if (/^p\d+(\0|$)/.test(text)) {
        this.format = 'field';
        this.field = { process: null, file: null, skipping: false, badPid: false, noFileSet: false, repeated: false, tasksWithoutTid: false };
      } else {
        this.warn({ line: lineNo, message: 'not lsof output (no COMMAND header or p field yet)', text: warningText(text) });
        return [];
      }
    }
    if (this.format === 'plain' && this.plain !== null) return this.pushPlain(text, lineNo);
    if (this.field !== null) return this.pushField(text, lineNo);
    return [];
  }

  /**
   * A line over MAX_LINE_CHARS (`head`: its start), skipped. In field output it may have been a field of
   * the pending file set (each field a line without -F0): that set is dropped, never stored without it.
   */
  tooLong(head: string, lineNo: number): LsofFileRecord[] {
    this.warn({ line: lineNo, message: `line longer than ${MAX_LINE_CHARS.toLocaleString('en-US')} characters skipped`, text: warningText(head) });
    return this.lineLost(head);
  }

  /**
   * The input ended without a newline after its last line (lsof ends every line with one): the line
   * was cut off. Its record is not taken (a name cut short is a name nobody gave), and that is said.
   */
  cutOff(text: string, lineNo: number): LsofFileRecord[] {
    if (text.length > MAX_LINE_CHARS) return this.tooLong(text.slice(0, 200), lineNo);
    // The header or first p field, cut: lsof output all the same (said as cut off, not as no capture).
    if (this.format === null && /^\s*COMMAND\s+PID(?:\s|$)/.test(text)) this.format = 'plain';
    else if (this.format === null && /^p\d+(?:\0|$)/.test(text)) this.format = 'field';
    this.warn({ line: lineNo, message: CUT_OFF, text: warningText(text) });
    return this.lineLost(text);
  }

  /**
   * A line not read (`head`: its start). With -F0 each set is a line of its own, as is a line that
   * starts a set (f, p) without it: the set before it is whole, and taken. Another field (each field
   * a line) was the pending set's own: that set is dropped, never stored without it. A plain row is
   * its own line: nothing else is pending.
   */
  private lineLost(head: string): LsofFileRecord[] {
    const state = this.field;
    const out: LsofFileRecord[] = [];
    if (state === null) return out;
    if (this.nulEnded === true || head.includes('\0') || head.charCodeAt(0) === 0x66 || head.charCodeAt(0) === 0x70) this.finishFile(state, out);
    state.file = null;
    return out;
  }

  private warn(warning: ParseWarning): void {
    if (warning.message !== LSOF_WARNING) {
      const key = warningKind(warning.message);
      const kind = this.kinds.get(key);
      if (kind !== undefined) kind.count++;
      else if (this.kinds.size < MAX_KINDS) this.kinds.set(key, { first: warning, count: 1 });
    }
    if (warning.message === LSOF_WARNING) {
      this.firstLsofWarning ??= warning;
      if (this.lsofWarned++ < MAX_WARNINGS) {
        this.warnings.push(warning);
        return;
      }
    } else if (this.otherKept < MAX_WARNINGS) {
      this.otherKept++;
      this.warnings.push(warning);
      return;
    }
    this.droppedWarnings++;
    if (isUnreadableLine(warning)) this.droppedUnreadable++;
  }

  /** End of input: the last pending record. */
  end(): LsofFileRecord[] {
    if (this.field === null) return [];
    const out: LsofFileRecord[] = [];
    this.finishFile(this.field, out);
    return out;
  }

  /** Close the pending file set: a record (counted; returned unless deletedOnly rules it out) or a warning. */
  private finishFile(state: FieldState, out: LsofFileRecord[]): void {
    const file = state.file;
    state.file = null;
    if (file === null || state.process === null) return;
    if (file.n === null && this.named) {
      // The capture names its files, this set has none: cut off before its name (lsof writes it last).
      this.warn({ line: file.line, message: 'file set without its name (n) field, in a capture that names its files: cut off; not taken', text: `f${file.fd}` });
      return;
    }
    if (file.n !== null) this.named = true;
    const malformed: ParseWarning[] = [];
    const record = fileRecord(state.process, file, this.deletedOnly, malformed);
    malformed.forEach((warning) => this.warn(warning));
    if (record === 'bad') return;
    this.records++;
    // null: ruled out by its link count (not 0).
    if (record === null || record.nlink !== null || file.n !== null || lsofFdName(file.fd) === 'DEL') this.judged++;
    if (record !== null) out.push(record);
  }

  private pushField(text: string, lineNo: number): LsofFileRecord[] {
    const state = this.field as FieldState;
    const out: LsofFileRecord[] = [];
    // lsof's own warning on stderr captured with its output (2>&1), or a blank line: no field. The
    // set before it is whole if it has its name (lsof writes the name last; with -F0 a set is a line).
    // Looked at only for a line that can be one (a field line starts with its letter; 'l' is one too).
    const first = text.charCodeAt(0);
    const maybe = text.length === 0 || first === 0x6c /* l */ || first === 0x20 || first === 0x09;
    const warning = maybe && WARNING.test(text);
    if (warning || (maybe && text.trim() === '')) {
      if (warning) this.warn({ line: lineNo, message: LSOF_WARNING, text: warningText(text) });
      if (state.file !== null && (this.nulEnded === true || state.file.n !== null)) this.finishFile(state, out);
      return out;
    }
    // Fields end in NUL with -F0, in the newline (already stripped) without it.
    this.nulEnded ??= text.includes('\0');
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\0', start);
      if (end < 0) {
        end = text.length;
        if (this.nulEnded) {
          // With -F0 every field ends in NUL: this one was cut off (a truncated capture). Neither it
          // nor the file set it belongs to is taken: a cut name would be a name nobody gave.
          this.warn({ line: lineNo, message: 'field cut off (no closing NUL): the capture is truncated', text: warningText(text.slice(start, end)) });
          if (state.file !== null && state.file.line <= lineNo) state.file = null;
          break;
        }
      }
      if (end > start) this.fieldValue(state, text.charCodeAt(start), text, start, end, lineNo, out);
      start = end + 1;
    }
    return out;
  }

  private fieldValue(state: FieldState, id: number, text: string, start: number, end: number, lineNo: number, out: LsofFileRecord[]): void {
    const value = text.slice(start + 1, end);
    if (!FIELD_IDS.has(id)) {
      // No lsof field: in a file set, the rest of a name cut by a raw newline (lsof itself writes one
      // as \n), or text that is no capture. The set is not read: a cut name is a name nobody gave.
      this.warn({ line: lineNo, message: `not an lsof field (no field starts with ${JSON.stringify(text[start])})${state.file === null ? '' : ': the file set it is in is not read'}`, text: warningText(text.slice(start, end)) });
      if (state.file !== null) {
        state.file = null;
        state.skipping = true; // its other fields too, until the next f or p
      }
      return;
    }
    if (id === 0x70 /* p */) {
      this.finishFile(state, out);
      const pid = toSafeInt(value);
      if (pid === null || pid <= 0) {
        this.warn({ line: lineNo, message: 'bad pid field', text: warningText(text.slice(start, end)) });
        state.process = null;
        state.skipping = true;
        state.badPid = true;
        return;
      }
      state.repeated = state.process !== null && state.process.pid === pid && state.process.tid === null;
      state.process = { pid, command: null, uid: null, user: null, tid: null, taskCommand: null };
      state.skipping = false;
      state.badPid = false;
    } else if (id === 0x66 /* f */) {
      this.finishFile(state, out);
      if (state.process === null) {
        // Its fields belong to no process: one warning for the whole set; under a bad pid field, one
        // for each file set (each a file not read, counted as an unreadable line).
        if (state.badPid) this.warn({ line: lineNo, message: 'file set of a process whose pid field could not be read: not read', text: warningText(text.slice(start, end)) });
        else if (!state.skipping) this.warn({ line: lineNo, message: 'file set before any process set', text: warningText(text.slice(start, end)) });
        state.skipping = true;
        return;
      }
      if (state.repeated) this.repeatedSet(state, state.process, lineNo);
      state.skipping = false;
      state.file = { line: lineNo, fd: value, t: null, D: null, s: null, o: null, k: null, i: null, n: null };
    } else if (state.skipping) {
      return;
    } else if (state.file !== null && state.file.n !== null && id !== 0x54 /* T */) {
      // lsof prints the name last in a file set (only TCP/TPI info, T, after it): any other field
      // there is the rest of a name split by a raw newline, read as a field (a "log.1" line as l).
      this.warn({ line: lineNo, message: 'a field after the name in its file set (the rest of a name split by a raw newline?): the file set is not read', text: warningText(text.slice(start, end)) });
      state.file = null;
      state.skipping = true;
    } else if (state.file !== null) {
      const file = state.file;
      // The fields a record is made of; the others (a, l, G, P, T, ...) stay in the raw capture.
      if (id === 0x74 /* t */) file.t = value;
      else if (id === 0x44 /* D */) file.D = value;
      else if (id === 0x73 /* s */) file.s = value;
      else if (id === 0x6f /* o */) file.o = value;
      else if (id === 0x6b /* k */) file.k = value;
      else if (id === 0x69 /* i */) file.i = value;
      else if (id === 0x6e /* n */) file.n = value;
    } else if (state.process !== null && FILE_FIELDS.has(id)) {
      // Captured with -F but without f: every file set starts with f, so files cannot be told apart.
      if (!state.noFileSet) {
        this.warn({ line: lineNo, message: "file fields without the 'f' field that starts each file set (capture with -F0pcuftDsikn): these files are not read", text: warningText(text.slice(start, end)) });
      }
      state.noFileSet = true;
    } else if (state.process !== null) {
      if (id === 0x63 /* c */) state.process.command = commandText(value);
      else if (id === 0x75 /* u */) state.process.uid = toSafeInt(value);
      else if (id === 0x4c /* L */) state.process.user = value;
      else if (id === 0x4b /* K */) state.process.tid = toSafeInt(value);
      else if (id === 0x4d /* M */) state.process.taskCommand = commandText(value);
    } else {
      this.warn({ line: lineNo, message: 'field outside any process set', text: warningText(text.slice(start, end)) });
    }
  }

  /** The first file of a set that repeats its process's PID: without a K before it, lsof -K was captured without K (said once). Kept out of fieldValue, the hot path. */
  private repeatedSet(state: FieldState, process: ProcessSet, lineNo: number): void {
    state.repeated = false;
    if (process.tid !== null || state.tasksWithoutTid) return;
    this.warn({ line: lineNo, message: TASKS_WITHOUT_TID, text: `p${process.pid}` });
    state.tasksWithoutTid = true;
  }

  private pushPlain(text: string, lineNo: number): LsofFileRecord[] {
    const plain = this.plain as PlainState;
    if (text.trim() === '') return [];
    if (WARNING.test(text)) {
      this.warn({ line: lineNo, message: LSOF_WARNING, text: warningText(text) });
      return [];
    }
    if (/^\s*COMMAND\s+PID\s/.test(text)) {
      this.plain = plainHeader(text); // several captures concatenated
      return [];
    }
    let record = plainRow(plain, text, lineNo);
    if (!plain.settled) {
      // Until a row lines up, one that does not is tried against lsof 4.99's header whose FD title
      // overflows its column (see fdTitleOverflow); the layout a row lines up with holds for the rest.
      const overflow = placed(record) ? null : fdTitleOverflow(plain);
      const retried = overflow === null ? null : plainRow(overflow, text, lineNo);
      if (overflow !== null && retried !== null && placed(retried)) {
        this.plain = overflow;
        record = retried;
      }
      if (placed(record)) (this.plain as PlainState).settled = true;
    }
    if (typeof record === 'string') {
      this.warn({ line: lineNo, message: record, text: warningText(text) });
      return [];
    }
    this.records++;
    this.judged++; // every row has its NAME (and NLINK when the header has it)
    if (this.deletedOnly && record.nlink !== null && record.nlink !== 0) return [];
    return [record];
  }
}

/** Parse a whole capture at once (small inputs, tests); large ones go through LsofStreamParser. */
export function parseLsof(text: string): ParseResult<LsofFileRecord> & { format: LsofFormat | null } {
  const parser = new LsofStreamParser();
  const records: LsofFileRecord[] = [];
  const lines = text.split('\n');
  // After the last newline: '' when the capture ends as lsof ends it, else a line cut off.
  const last = lines.pop() ?? '';
  lines.forEach((line, index) => records.push(...parser.push(line, index + 1)));
  if (last !== '') records.push(...parser.cutOff(last, lines.length + 1));
  records.push(...parser.end());
  return { records, warnings: parser.warnings, format: parser.format };
}

interface ProcessSet {
  pid: number;
  command: string | null;
  uid: number | null;
  user: string | null;
  tid: number | null;
  /** M: the thread's command (lsof -K prints it after K). */
  taskCommand: string | null;
}

/** One file set's fields as printed (a fixed shape: a million of them go through here). */
interface FileSet {
  line: number;
  fd: string;
  t: string | null;
  D: string | null;
  s: string | null;
  o: string | null;
  k: string | null;
  i: string | null;
  n: string | null;
}

interface FieldState {
  process: ProcessSet | null;
  file: FileSet | null;
  /** After a bad p or an orphan f: ignore fields until the next p or f. */
  skipping: boolean;
  /** The last p field could not be read: each file set under it is said. */
  badPid: boolean;
  /** File fields came with no f field before them (said once). */
  noFileSet: boolean;
  /** This process set follows one of the same PID without a TID: a thread's set, if no K comes before its first file. */
  repeated: boolean;
  /** TASKS_WITHOUT_TID said (once per capture). */
  tasksWithoutTid: boolean;
}

/**
 * lsof -K prints each thread's fd table as a set of its own under the PID, told apart by the K field
 * (TID) only: captured without K among the -F fields, a thread's files read as the process's.
 */
export const TASKS_WITHOUT_TID =
  "the process's set is listed again right after itself, without a TID (K) field: a capture of lsof -K without K among the -F fields, whose threads' fd tables read as the process's (capture with -F0pKcuftDsikn)";

/** A warning about a line that could not be read (not lsof's own warning, not a note about the capture). */
export function isUnreadableLine(warning: ParseWarning): boolean {
  return warning.message !== LSOF_WARNING && warning.message !== TASKS_WITHOUT_TID && warning.message !== CRLF_ENDS && warning.message !== LSOF_UNKNOWN_ROW;
}

/** Warnings of one kind: how many, and the first. */
export interface WarningKind {
  first: ParseWarning;
  count: number;
}

/** Kinds of warning counted (a bound: a kind is a message without the value it quotes). */
const MAX_KINDS = 1000;

/** A warning's kind: its message without the values it quotes (`cannot place "x" under a header column`). */
export function warningKind(message: string): string {
  return message.includes('"') ? message.replace(/"(?:[^"\\]|\\.)*"/g, '""') : message;
}

/** A line of lsof's own warnings (`lsof: WARNING: ...`, `Output information may be incomplete.`). */
export const LSOF_WARNING = 'lsof warning';

/** A plain row of TYPE `unknown`: lsof saying what it could not read, itself no file (and no unreadable line). */
const LSOF_UNKNOWN_ROW = "lsof's row for what it could not read (TYPE unknown, e.g. readlink: Permission denied): no file";

/** Said once: lsof never prints a raw CR (a name's is escaped "\r"), so a CR before the newline is a converted capture's. */
const CRLF_ENDS = 'lines end in CR LF (the capture was converted, e.g. on Windows): each CR before a newline is ignored';

/** The capture's last line has no newline (lsof ends every line with one). */
export const CUT_OFF = 'the last line has no newline: the capture was cut off there; what it held is not taken';

/** Lines longer than this are skipped (said), never held whole: a binary file has no newline for gigabytes. */
export const MAX_LINE_CHARS = 1_000_000;

/**
 * Field letters of a file set (lsof(8) OUTPUT FOR OTHER PROGRAMS; lsof's src/print.c prints the
 * process set's p K M z Z g R c u L, then each file's fields).
 */
const FILE_FIELDS = new Set([...'aCdDFGiklnNoPrsStT'].map((letter) => letter.charCodeAt(0)));
/**
 * Every field identifier lsof -F prints (lsof -F?, include/lsof_fields.h): files', processes' (c, g,
 * K, L, M task command, p, R, u, z zone, Z SELinux context), and the marker m.
 */
const FIELD_IDS = new Set([...'aCdDFGiklnNoPrsStT', ...'cfgKLmMpRuzZe'].map((letter) => letter.charCodeAt(0)));

/** A number field: null when absent or empty, 'bad' when malformed. */
function numberField(value: string | null): U64 | null | 'bad' {
  if (value === null || value === '') return null;
  return parseLsofNumber(value) ?? 'bad';
}

/** The record of a file set; null when deletedOnly rules it out; 'bad' (and a warning) when malformed. */
function fileRecord(process: ProcessSet, file: FileSet, deletedOnly: boolean, warnings: ParseWarning[]): LsofFileRecord | null | 'bad' {
  const size = numberField(file.s);
  const offset = numberField(file.o);
  const nlinkField = numberField(file.k);
  const nlink = typeof nlinkField === 'bigint' ? 'bad' : nlinkField;
  const inode = numberField(file.i);
  const device = file.D === null ? null : parseFieldDevice(file.D);
  if (size === 'bad' || offset === 'bad' || nlink === 'bad' || inode === 'bad' || device === 'bad') {
    const shown = (['t', 'D', 's', 'o', 'k', 'i', 'n'] as const).filter((id) => file[id] !== null).map((id) => id + (file[id] ?? ''));
    warnings.push({ line: file.line, message: 'file set with a malformed number (s, o, k, i or D field)', text: warningText(['f' + file.fd, ...shown].join(' ')) });
    return 'bad';
  }
  const fdProblem = badFd(file.fd);
  if (fdProblem !== null) {
    warnings.push({ line: file.line, message: fdProblem, text: warningText(`f${file.fd}`) });
    return 'bad';
  }
  if (deletedOnly && nlink !== null && nlink !== 0) return null;
  const name = unescapeName(file.n ?? '');
  const nameDeleted = endsWithDeleted(name);
  return {
    line: file.line,
    command: process.command,
    pid: process.pid,
    tid: process.tid,
    taskCommand: process.tid === null ? null : process.taskCommand,
    uid: process.uid,
    user: process.user,
    fd: file.fd,
    fdNum: fdNumber(file.fd),
    type: file.t,
    device,
    size,
    offset,
    nlink,
    inode,
    name,
    nameDeleted,
    candidateOnlyByText: nlink === null && nameDeleted,
  };
}

const DELETED_BYTES = Buffer.from(DELETED, 'latin1');

/** Does the name end in the " (deleted)" the kernel appends (bytes, after lsof's escapes are undone)? */
export function endsWithDeleted(name: Buffer): boolean {
  return name.length >= DELETED_BYTES.length && name.compare(DELETED_BYTES, 0, DELETED_BYTES.length, name.length - DELETED_BYTES.length) === 0;
}

interface Column {
  name: string;
  start: number;
  end: number;
}

interface PlainState {
  columns: Column[];
  nameStart: number;
  hasNlink: boolean;
  /** A row of this header has lined up with these columns (or with fdTitleOverflow's, then taken instead). */
  settled: boolean;
}

function plainHeader(text: string): PlainState {
  const columns: Column[] = [];
  for (const match of text.matchAll(/\S+/g)) columns.push({ name: match[0], start: match.index ?? 0, end: (match.index ?? 0) + match[0].length });
  const name = columns.find((column) => column.name === 'NAME');
  return { columns: columns.filter((column) => column.name !== 'NAME'), nameStart: name?.start ?? text.length, hasNlink: columns.some((column) => column.name === 'NLINK'), settled: false };
}

/** A row read against its columns: a record, or lsof's own row for what it could not read (also placed). */
function placed(row: LsofFileRecord | string): boolean {
  return typeof row !== 'string' || row === LSOF_UNKNOWN_ROW;
}

/**
 * The columns as lsof 4.99 lays out its rows when no FD text is 4 characters or more (every listed
 * fd a single digit: `3u`): it prints the title `FD` with its column's width less 2, where 4.95's fd
 * was always padded wider; the title takes one character more than the rows' fd, and the header's
 * columns after it stand one to the right of the rows' (`USER FD   TYPE` over `root 3u   REG`, NAME a
 * column late: fixtures/lsof/plain-L1-fd3-4.99.7.txt). null without an FD column.
 */
function fdTitleOverflow(state: PlainState): PlainState | null {
  const fd = state.columns.find((column) => column.name === 'FD');
  if (fd === undefined) return null;
  const columns = state.columns.map((column) => (column.start >= fd.end ? { ...column, start: column.start - 1, end: column.end - 1 } : column));
  return { ...state, columns, nameStart: state.nameStart - 1, settled: true };
}

/** lsof left-aligns COMMAND, USER, FD, TYPE and NAME, right-aligns the numbers: a value overlaps its header. */
function plainRow(state: PlainState, text: string, lineNo: number): LsofFileRecord | string {
  const values = new Map<string, string>();
  // lsof pads every column to its widest value in the whole output: a value running into the NAME
  // column (a hand-edited or spliced capture) means the row cannot be read by position.
  if (text.length > state.nameStart && state.nameStart > 0 && text.charCodeAt(state.nameStart - 1) !== 0x20) {
    return 'row does not line up with its header (a value runs into the NAME column)';
  }
  const head = text.slice(0, state.nameStart);
  const tokens = [...head.matchAll(/\S+/g)].map((match) => ({ text: match[0], start: match.index ?? 0, end: (match.index ?? 0) + match[0].length }));
  // Every column before NAME is padded to its widest value, so NAME starts where its header does.
  const nameStart = Math.min(state.nameStart, text.length);
  for (const token of tokens) {
    const column = state.columns.find((candidate) => token.start < candidate.end && token.end > candidate.start)
      ?? nearestColumn(state.columns, token);
    if (column === undefined || values.has(column.name)) return `cannot place "${token.text}" under a header column`;
    values.set(column.name, token.text);
  }
  const command = values.get('COMMAND');
  const pidText = values.get('PID');
  const fd = values.get('FD');
  if (command === undefined || pidText === undefined || fd === undefined) return 'row without COMMAND, PID or FD';
  const pid = toSafeInt(pidText);
  if (pid === null || pid <= 0) return `bad PID "${pidText}"`;
  // lsof's own row for what it could not read (`cwd unknown /proc/1/task/61/cwd (readlink: Permission denied)`): no file.
  if (values.get('TYPE') === 'unknown') return LSOF_UNKNOWN_ROW;
  let size: U64 | null = null;
  let offset: U64 | null = null;
  // SIZE/OFF by default; SIZE alone with -s, OFFSET alone with -o.
  for (const column of ['SIZE/OFF', 'SIZE', 'OFFSET'] as const) {
    const text = values.get(column);
    if (text === undefined) continue;
    const parsed = parseLsofNumber(text);
    if (parsed === null) return `bad ${column} "${text}"`;
    if (column === 'OFFSET' || (column === 'SIZE/OFF' && /^0[tx]/.test(text))) offset = parsed;
    else size = parsed;
  }
  const nlinkText = values.get('NLINK');
  // A deleted mapping ('DEL') has no link count to print: lsof leaves NLINK (and SIZE/OFF) empty.
  if (nlinkText === undefined && state.hasNlink && lsofFdName(fd) !== 'DEL') return 'row without a value under NLINK';
  const nlink = nlinkText === undefined ? null : toSafeInt(nlinkText);
  if (nlinkText !== undefined && nlink === null) return `bad NLINK "${nlinkText}"`;
  const nodeText = values.get('NODE');
  const type = values.get('TYPE') ?? null;
  // NODE holds the inode for files, a protocol name (TCP, UDP) for sockets.
  const inode = nodeText === undefined || !/^\d+$/.test(nodeText) ? null : parseU64(nodeText);
  if (nodeText !== undefined && /^\d+$/.test(nodeText) && inode === null) return `bad NODE "${nodeText}" (past 2^64, no inode number)`;
  const fdProblem = badFd(fd);
  if (fdProblem !== null) return fdProblem;
  const deviceText = values.get('DEVICE');
  const device = deviceText === undefined ? null : /^\d+,\d+$/.test(deviceText) ? deviceText.replace(',', ':') : null;
  const name = unescapeName(text.slice(nameStart));
  const nameDeleted = endsWithDeleted(name);
  const user = values.get('USER') ?? null;
  const tid = values.has('TID') ? toSafeInt(values.get('TID') ?? '') : null;
  const taskCommand = values.get('TASKCMD');
  return {
    line: lineNo,
    command: commandText(command),
    pid,
    tid,
    // lsof cuts TASKCMD as it cuts COMMAND.
    taskCommand: tid === null || taskCommand === undefined ? null : commandText(taskCommand),
    uid: user !== null && /^\d+$/.test(user) ? Number(user) : null,
    user,
    fd,
    fdNum: fdNumber(fd),
    type,
    device,
    size,
    offset,
    nlink,
    inode,
    name,
    nameDeleted,
    candidateOnlyByText: !state.hasNlink && nameDeleted,
  };
}

function nearestColumn(columns: readonly Column[], token: { start: number; end: number }): Column | undefined {
  // Values wider than every other value in their column stick out past the header on one side.
  let best: Column | undefined;
  let distance = Infinity;
  for (const column of columns) {
    const gap = token.end <= column.start ? column.start - token.end : token.start - column.end;
    if (gap >= 0 && gap < distance) {
      distance = gap;
      best = column;
    }
  }
  return distance <= 2 ? best : undefined;
}

/**
 * lsof 4.95 prints an fd number of 10000 or more as `*` and its last three digits (`*999u` for
 * 19999 or 10999): the number itself is lost. Such a record names an fd, not a mapping.
 */
export function isTruncatedFd(fd: string): boolean {
  return fd.length >= 4 && fd.charCodeAt(0) === 0x2a && /^\*\d{3}/.test(fd);
}

/** "3u", "12r", "4w-W": the leading digits; "txt", "mem", "DEL", "*999u" (see isTruncatedFd): null. */
function fdNumber(fd: string): number | null {
  let digits = 0;
  while (digits < fd.length && fd.charCodeAt(digits) >= 48 && fd.charCodeAt(digits) <= 57) digits++;
  if (digits === 0) return null;
  // After the number only the mode (r, w, u, or - for unknown) and the lock (N r R w W u U x X): "0x10" is no fd.
  if (digits < fd.length && !FD_SUFFIX.test(fd.slice(digits))) return null;
  return toSafeInt(digits === fd.length ? fd : fd.slice(0, digits));
}

/** The mode and lock characters lsof may write after an FD (a number or a name): "3uW", "4w-W", "DEL-W". */
const FD_SUFFIX = /^[rwuNRWUxX -]{1,3}$/;

/** What lsof writes in FD for a file that has no fd number (lsof(8), FD): a cwd, the program text, a mapping, ... */
const FD_NAMES = /^(cwd|rtd|txt|mem|mmap|DEL|ltx|m86|v86|pd|tr|err|jld|NOFD|L\d+|M[0-9a-f]+)([rwuNRWUxX -]{1,3})?$/;

/** The name of an FD lsof writes for a file with no fd number, without mode and lock ("DEL" of "DEL-W"), or null. */
export function lsofFdName(fd: string): string | null {
  return FD_NAMES.exec(fd)?.[1] ?? null;
}

/** null when FD is an fd number, an fd lsof cut short (*999), or one of lsof's names; else why it is not read. */
function badFd(fd: string): string | null {
  if (fdNumber(fd) !== null || isTruncatedFd(fd) || FD_NAMES.test(fd)) return null;
  return `FD ${JSON.stringify(fd)} is neither an fd number nor one of lsof's names for other files (cwd, rtd, txt, mem, DEL, ...): not read`;
}

/** "123", "0t123" (decimal offset), "0x1f" (hex offset). */
function parseLsofNumber(text: string): U64 | null {
  const plain = toSafeInt(text);
  if (plain !== null) return plain;
  if (text.startsWith('0t')) return /^\d+$/.test(text.slice(2)) ? parseU64(text.slice(2)) : null;
  return /^\d+$|^0x/.test(text) ? parseU64(text) : null;
}

/** A capture names few devices a million times: their "MAJOR:MINOR" form is kept (bounded). */
const deviceCache = new Map<string, string | 'bad'>();

function parseFieldDevice(text: string): string | 'bad' {
  const known = deviceCache.get(text);
  if (known !== undefined) return known;
  // Most devices fit a 32-bit number; BigInt only for the rest.
  const device = !/^0x[0-9a-fA-F]+$/.test(text) ? 'bad' : text.length <= 10 ? devString(Number.parseInt(text.slice(2), 16)) : devString(BigInt(text));
  if (deviceCache.size < 4096) deviceCache.set(text, device);
  return device;
}

function toSafeInt(text: string): number | null {
  // Fifteen digits are always exact in a double; from sixteen on (9007199254740993 rounds to ...992) check.
  if (text.length === 0 || text.length > 15) return text.length > 15 && /^\d+$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : null;
  let value = 0;
  for (let index = 0; index < text.length; index++) {
    const digit = text.charCodeAt(index) - 48;
    if (digit < 0 || digit > 9) return null;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * The display form of a command as lsof printed it. Field output has its bytes (valid UTF-8 raw, a
 * newline as \n, other bytes \xHH); the plain table cuts the escaped text to 9 characters (+c W).
 */
function commandText(text: string): string {
  return displayBytes(unescapeName(text));
}

/** Undo lsof's name escapes: \n \t \r \b \f \\ \xHH. Input chars are bytes (latin1). */
export function unescapeName(text: string): Buffer {
  if (!text.includes('\\')) return Buffer.from(text, 'latin1');
  const decoded = text.replace(/\\(x[0-9a-fA-F]{2}|[ntrbf\\])/g, (_match, code: string) => {
    if (code.startsWith('x')) return String.fromCharCode(parseInt(code.slice(1), 16));
    return ({ n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '\\': '\\' } as Record<string, string>)[code] ?? code;
  });
  return Buffer.from(decoded, 'latin1');
}
