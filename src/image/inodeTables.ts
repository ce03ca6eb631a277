// What a scan keeps of each inode, in columns: typed arrays (off V8's heap) instead of an object per
// inode. An object of ~25 fields is 200 bytes and more (a time past 2^30, which V8 cannot keep
// inline, is a heap number of its own), and a scan kept several per inode (ils' row, debugfs'
// description, the record stored, fls' entry, the directories holding its name): 1.7 KB of heap an
// inode measured, 3.5 GB for two million deleted inodes, more than V8's heap holds. Here a number
// is 4 bytes (8 once a column holds one past 2^32), a table 40 to 70 bytes a row. Values come out
// exactly as they went in (a U64 past 2^53 stays a bigint); an object is made only for a row asked for.
import type { DebugfsInode } from '../../parsers/debugfsStats.js';
import type { FlsEntry } from '../../parsers/fls.js';
import type { IlsInode } from '../../parsers/ils.js';
import type { U64 } from '../util/u64.js';
import type { NewImageInode } from '../store/images.js';

/**
 * Rows a column starts with (it doubles as it fills). Small: a scan makes two tables per partition,
 * and a crafted GPT of 9000 one-sector entries made 18,000 of them (1024 rows: 1.4 GB for nothing).
 */
const FIRST_CAPACITY = 16;

/** A longer copy that holds `row` (twice as long at least: appends stay linear). Three of them, no closure: called for every value set. */
function longerU32(array: Uint32Array, row: number): Uint32Array {
  const longer = new Uint32Array(Math.max(row + 1, array.length * 2));
  longer.set(array);
  return longer;
}

function longerF64(array: Float64Array, row: number): Float64Array {
  const longer = new Float64Array(Math.max(row + 1, array.length * 2));
  longer.set(array);
  return longer;
}

function longerU8(array: Uint8Array, row: number): Uint8Array {
  const longer = new Uint8Array(Math.max(row + 1, array.length * 2));
  longer.set(array);
  return longer;
}

/** Null in a column of 32-bit values (no such value is kept there). */
const NULL32 = 0xffffffff;

/**
 * A column of numbers (any JS number, exactly), bigints (a U64 past 2^53) and nulls: 4 bytes a row
 * while every value is a whole number from 0 to 2^32 - 2 (modes, owners, links, times to 2106, most
 * sizes), 8 from the first that is not (a time before 1970, a size past 4 GiB), a bigint aside.
 */
class NumberColumn {
  private narrow: Uint32Array | null = new Uint32Array(FIRST_CAPACITY);
  /** Once a value did not fit `narrow`: NaN is null (no value a parser gives is NaN: each is read as an integer), or a bigint. */
  private wide: Float64Array | null = null;
  private bigs: Map<number, bigint> | null = null;

  set(row: number, value: number | bigint | null): void {
    let narrow = this.narrow;
    if (narrow !== null) {
      // A whole number from 0 to 2^32 - 2, not -0 (which `>>> 0` makes 0).
      const fits = value === null || (typeof value === 'number' && value >>> 0 === value && value !== NULL32 && (value !== 0 || 1 / value > 0));
      if (fits) {
        if (row >= narrow.length) this.narrow = narrow = longerU32(narrow, row);
        narrow[row] = value ?? NULL32;
        return;
      }
      this.widen();
    }
    let wide = this.wide ?? new Float64Array(FIRST_CAPACITY);
    if (row >= wide.length) wide = longerF64(wide, row);
    this.wide = wide;
    if (typeof value === 'bigint') {
      wide[row] = NaN;
      (this.bigs ??= new Map()).set(row, value);
      return;
    }
    this.bigs?.delete(row);
    wide[row] = value ?? NaN;
  }

  private widen(): void {
    const narrow = this.narrow ?? new Uint32Array(0);
    const wide = new Float64Array(narrow.length);
    for (let row = 0; row < narrow.length; row++) {
      const value = narrow[row] ?? NULL32;
      wide[row] = value === NULL32 ? NaN : value;
    }
    this.wide = wide;
    this.narrow = null;
  }

  get(row: number): number | bigint | null {
    if (this.narrow !== null) {
      const value = this.narrow[row] ?? NULL32;
      return value === NULL32 ? null : value;
    }
    const value = this.wide?.[row] ?? NaN;
    if (!Number.isNaN(value)) return value;
    return this.bigs?.get(row) ?? null;
  }

  /** A column that holds no bigint, read as numbers. */
  number(row: number): number | null {
    const value = this.get(row);
    return typeof value === 'bigint' ? null : value;
  }
}

/** A column of few distinct values (debugfs' type words, fls' types, found_by lists), each kept once. */
class InternColumn<T> {
  private ids: Uint32Array = new Uint32Array(FIRST_CAPACITY);
  private readonly values: T[] = [];
  private readonly idOf = new Map<string, number>();
  /** The key set last and its id: rows mostly repeat the one before. */
  private lastKey: string | null = null;
  private lastId = 0;

  /** `own`: the copy kept of a value first seen (an array its caller may change). */
  constructor(private readonly keyOf: (value: T) => string, private readonly own: (value: T) => T = (value) => value) {}

  set(row: number, value: T): void {
    const key = this.keyOf(value);
    let id = this.lastId;
    if (key !== this.lastKey) {
      const known = this.idOf.get(key);
      id = known ?? this.values.push(this.own(value)) - 1;
      if (known === undefined) this.idOf.set(key, id);
      this.lastKey = key;
      this.lastId = id;
    }
    if (row >= this.ids.length) this.ids = longerU32(this.ids, row);
    this.ids[row] = id;
  }

  get(row: number): T {
    return this.values[this.ids[row] ?? 0] as T;
  }
}

/** A column of small flags (a byte a row). */
class ByteColumn {
  private data: Uint8Array = new Uint8Array(FIRST_CAPACITY);

  set(row: number, value: number): void {
    if (row >= this.data.length) this.data = longerU8(this.data, row);
    this.data[row] = value;
  }

  get(row: number): number {
    return this.data[row] ?? 0;
  }
}

/**
 * Inode numbers to rows, in the order they were first added: a binary search while they come in
 * ascending order (ils' lists, debugfs' sorted batches), a Map for those that do not.
 */
export class InodeIndex {
  private inodes: Float64Array = new Float64Array(FIRST_CAPACITY);
  /** Rows 0 to sortedRows - 1 are in ascending inode order. */
  private sortedRows = 0;
  private others: Map<number, number> | null = null;
  /** The row found last: lookups mostly ask for it again, or for the next (a list walked in order). */
  private last = 0;
  size = 0;

  /** The row of `inode`, or -1. */
  find(inode: number): number {
    const last = this.last;
    if (last < this.sortedRows && this.inodes[last] === inode) return last;
    if (last + 1 < this.sortedRows && this.inodes[last + 1] === inode) return (this.last = last + 1);
    let low = 0;
    let high = this.sortedRows - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const at = this.inodes[middle] ?? 0;
      if (at === inode) return (this.last = middle);
      if (at < inode) low = middle + 1;
      else high = middle - 1;
    }
    return this.others?.get(inode) ?? -1;
  }

  /** The row of `inode`, a new one (the next) when it has none. */
  add(inode: number): number {
    // Ascending, as ils lists them and batches are asked: new, and still in order.
    const ascending = this.others === null && (this.size === 0 || inode > (this.inodes[this.size - 1] ?? 0));
    const found = ascending ? -1 : this.find(inode);
    if (found >= 0) return found;
    const row = this.size++;
    if (row >= this.inodes.length) this.inodes = longerF64(this.inodes, row);
    this.inodes[row] = inode;
    if (this.others === null && (row === 0 || inode > (this.inodes[row - 1] ?? 0))) this.sortedRows = row + 1;
    else (this.others ??= new Map()).set(inode, row);
    return row;
  }

  inodeAt(row: number): number {
    return this.inodes[row] ?? 0;
  }

  /** Forgets the rows from `size` on (those added since the table had that many). */
  truncate(size: number): void {
    if (size >= this.size) return;
    for (const [inode, row] of this.others ?? []) if (row >= size) this.others?.delete(inode);
    if (this.others?.size === 0) this.others = null;
    this.sortedRows = Math.min(this.sortedRows, size);
    this.size = size;
  }

  /** Rows in ascending inode order. */
  rowsByInode(): Uint32Array {
    const rows = new Uint32Array(this.size);
    for (let row = 0; row < this.size; row++) rows[row] = row;
    if (this.others !== null) rows.sort((a, b) => this.inodeAt(a) - this.inodeAt(b));
    return rows;
  }
}

/** An ils list: its rows by inode (a row printed twice: the last one, where the first was). */
export class IlsTable {
  private readonly index = new InodeIndex();
  private allocated: ByteColumn | null = new ByteColumn();
  private columns: Record<'uid' | 'gid' | 'mtime' | 'atime' | 'ctime' | 'crtime' | 'perms' | 'nlink' | 'size', NumberColumn> | null = {
    uid: new NumberColumn(), gid: new NumberColumn(), mtime: new NumberColumn(), atime: new NumberColumn(), ctime: new NumberColumn(),
    crtime: new NumberColumn(), perms: new NumberColumn(), nlink: new NumberColumn(), size: new NumberColumn(),
  };
  /** After keepRowsOf: the rows whose fields are still wanted. */
  private kept: Map<number, IlsInode> | null = null;

  get size(): number {
    return this.index.size;
  }

  add(record: IlsInode): void {
    if (this.columns === null || this.allocated === null) throw new Error('IlsTable: rows added after keepRowsOf');
    const row = this.index.add(record.inode);
    this.allocated.set(row, record.allocated ? 1 : 0);
    const { uid, gid, mtime, atime, ctime, crtime, perms, nlink, size } = this.columns;
    uid.set(row, record.uid);
    gid.set(row, record.gid);
    mtime.set(row, record.mtime);
    atime.set(row, record.atime);
    ctime.set(row, record.ctime);
    crtime.set(row, record.crtime);
    perms.set(row, record.perms);
    nlink.set(row, record.nlink);
    size.set(row, record.size);
  }

  has(inode: number): boolean {
    return this.index.find(inode) >= 0;
  }

  /** The row of an inode; undefined when it was not listed, or its fields were let go (keepRowsOf). */
  get(inode: number): IlsInode | undefined {
    const row = this.index.find(inode);
    if (row < 0) return undefined;
    if (this.kept !== null) return this.kept.get(row);
    return this.record(row);
  }

  private record(row: number): IlsInode | undefined {
    if (this.columns === null || this.allocated === null) return undefined;
    const { uid, gid, mtime, atime, ctime, crtime, perms, nlink, size } = this.columns;
    const number = (column: NumberColumn) => column.number(row) ?? 0;
    return {
      inode: this.index.inodeAt(row), allocated: this.allocated.get(row) === 1, uid: number(uid), gid: number(gid), mtime: number(mtime), atime: number(atime),
      ctime: number(ctime), crtime: number(crtime), perms: number(perms), nlink: number(nlink), size: size.get(row) ?? 0,
    };
  }

  /**
   * Lets go of the fields of every row but those of the inodes `wanted` names (which inodes are
   * listed stays known): what ils printed is read only where debugfs described an inode in part.
   */
  keepRowsOf(wanted: (inode: number) => boolean): void {
    const kept = new Map<number, IlsInode>();
    for (let row = 0; row < this.index.size; row++) {
      const record = wanted(this.index.inodeAt(row)) ? this.record(row) : undefined;
      if (record !== undefined) kept.set(row, record);
    }
    this.kept = kept;
    this.columns = null;
    this.allocated = null;
  }

  /** The inodes, in the order they were first listed. */
  *keys(): Generator<number> {
    for (let row = 0; row < this.index.size; row++) yield this.index.inodeAt(row);
  }
}

/** What a scan reads of debugfs' description of an inode (the nanoseconds and the link target it does not use). */
export type InodeStat = Omit<DebugfsInode, 'blockcount' | 'atimeNs' | 'mtimeNs' | 'ctimeNs' | 'crtimeNs' | 'symlinkTarget'>;

/** Descriptions of inodes (debugfs', or istat's in debugfs' shape), by inode. */
export class StatTable {
  private readonly index = new InodeIndex();
  private readonly type = new InternColumn<string>((value) => value);
  private readonly inlineData = new ByteColumn();
  private readonly columns = {
    mode: new NumberColumn(), uid: new NumberColumn(), gid: new NumberColumn(), size: new NumberColumn(), links: new NumberColumn(),
    atime: new NumberColumn(), mtime: new NumberColumn(), ctime: new NumberColumn(), crtime: new NumberColumn(), dtimeRaw: new NumberColumn(),
    extraIsize: new NumberColumn(), dataBlocks: new NumberColumn(), inlineSize: new NumberColumn(), flags: new NumberColumn(),
  };

  get size(): number {
    return this.index.size;
  }

  set(stat: InodeStat): void {
    const row = this.index.add(stat.inode);
    this.type.set(row, stat.type);
    this.inlineData.set(row, stat.inlineData ? 1 : 0);
    const { mode, uid, gid, size, links, atime, mtime, ctime, crtime, dtimeRaw, extraIsize, dataBlocks, inlineSize, flags } = this.columns;
    mode.set(row, stat.mode);
    uid.set(row, stat.uid);
    gid.set(row, stat.gid);
    size.set(row, stat.size);
    links.set(row, stat.links);
    atime.set(row, stat.atime);
    mtime.set(row, stat.mtime);
    ctime.set(row, stat.ctime);
    crtime.set(row, stat.crtime);
    dtimeRaw.set(row, stat.dtimeRaw);
    extraIsize.set(row, stat.extraIsize);
    dataBlocks.set(row, stat.dataBlocks);
    inlineSize.set(row, stat.inlineSize);
    flags.set(row, stat.flags);
  }

  has(inode: number): boolean {
    return this.index.find(inode) >= 0;
  }

  /** Forgets the descriptions set since it held `size` (a batch that failed part-way: none of it). */
  truncate(size: number): void {
    this.index.truncate(size);
  }

  /** The row of an inode, or -1: for the reads below, which make no object. */
  rowOf(inode: number): number {
    return this.index.find(inode);
  }

  /** Described, with its size, mode, owner, group and link count (debugfs prints all of them but for a damaged inode). */
  whole(inode: number): boolean {
    const row = this.index.find(inode);
    if (row < 0) return false;
    const { size, mode, uid, gid, links } = this.columns;
    return size.get(row) !== null && mode.get(row) !== null && uid.get(row) !== null && gid.get(row) !== null && links.get(row) !== null;
  }

  extraIsizeAt(row: number): number | null {
    return this.columns.extraIsize.number(row);
  }

  typeAt(row: number): string {
    return this.type.get(row);
  }

  get(inode: number): InodeStat | undefined {
    const row = this.index.find(inode);
    if (row < 0) return undefined;
    const { mode, uid, gid, size, links, atime, mtime, ctime, crtime, dtimeRaw, extraIsize, dataBlocks, inlineSize, flags } = this.columns;
    return {
      inode, type: this.type.get(row), mode: mode.number(row), uid: uid.number(row), gid: gid.number(row), size: size.get(row), links: links.number(row),
      atime: atime.number(row), mtime: mtime.number(row), ctime: ctime.number(row), crtime: crtime.number(row), dtimeRaw: dtimeRaw.number(row) ?? 0,
      extraIsize: extraIsize.number(row), dataBlocks: dataBlocks.number(row), inlineData: this.inlineData.get(row) === 1, inlineSize: inlineSize.number(row),
      flags: flags.number(row),
    };
  }
}

const EXACT_NULL = 2;

/**
 * The inodes a scan found (orphans, or deleted ones), each as image_inodes stores it, by inode. A
 * name is kept as fls printed it (latin1: one char per byte, the string fls' list holds already).
 */
export class RecordTable {
  private readonly index = new InodeIndex();
  private readonly state = new ByteColumn();
  private readonly recoverable = new ByteColumn();
  private readonly lastNameExact = new ByteColumn();
  // found_by's words are the scan's own (ils, orphan_chain, orphan_file, fls): no NUL in them.
  private readonly foundBy = new InternColumn<readonly string[]>((value) => (value.length === 1 ? (value[0] ?? '') : value.join('\0')), (value) => Object.freeze([...value]));
  private readonly lastNameType = new InternColumn<string | null>((value) => (value === null ? '\0' : value));
  private readonly lastName: Array<string | null> = [];
  /** Notes are few (all holes, encrypted, emptied inline): by row. */
  private readonly notes = new Map<number, string>();
  private readonly columns = {
    size: new NumberColumn(), mode: new NumberColumn(), uid: new NumberColumn(), gid: new NumberColumn(), nlink: new NumberColumn(), atime: new NumberColumn(),
    mtime: new NumberColumn(), ctime: new NumberColumn(), crtime: new NumberColumn(), dtime: new NumberColumn(), blocks: new NumberColumn(),
  };

  get size(): number {
    return this.index.size;
  }

  /** Sets the record of its inode (a new row, or over the one it had). */
  set(record: NewImageInode): void {
    const row = this.index.add(record.inode);
    this.state.set(row, record.state === 'orphan' ? 0 : 1);
    this.recoverable.set(row, record.recoverable ? 1 : 0);
    this.foundBy.set(row, record.foundBy);
    this.lastName[row] = record.lastName === null ? null : record.lastName.toString('latin1');
    this.lastNameExact.set(row, record.lastNameExact === null ? EXACT_NULL : record.lastNameExact ? 1 : 0);
    this.lastNameType.set(row, record.lastNameType);
    if (record.note === null) this.notes.delete(row);
    else this.notes.set(row, record.note);
    const { size, mode, uid, gid, nlink, atime, mtime, ctime, crtime, dtime, blocks } = this.columns;
    size.set(row, record.size);
    mode.set(row, record.mode);
    uid.set(row, record.uid);
    gid.set(row, record.gid);
    nlink.set(row, record.nlink);
    atime.set(row, record.atime);
    mtime.set(row, record.mtime);
    ctime.set(row, record.ctime);
    crtime.set(row, record.crtime);
    dtime.set(row, record.dtime);
    blocks.set(row, record.blocks);
  }

  has(inode: number): boolean {
    return this.index.find(inode) >= 0;
  }

  get(inode: number): NewImageInode | undefined {
    const row = this.index.find(inode);
    return row < 0 ? undefined : this.at(row);
  }

  /** The record of a row (a copy: set() it back to change it). */
  at(row: number): NewImageInode {
    const { size, mode, uid, gid, nlink, atime, mtime, ctime, crtime, dtime, blocks } = this.columns;
    const name = this.lastName[row] ?? null;
    const exact = this.lastNameExact.get(row);
    return {
      inode: this.index.inodeAt(row), state: this.state.get(row) === 0 ? 'orphan' : 'deleted', foundBy: [...this.foundBy.get(row)], size: size.get(row),
      mode: mode.number(row), uid: uid.number(row), gid: gid.number(row), nlink: nlink.number(row), atime: atime.number(row), mtime: mtime.number(row),
      ctime: ctime.number(row), crtime: crtime.number(row), dtime: dtime.number(row), recoverable: this.recoverable.get(row) === 1, blocks: blocks.number(row),
      lastName: name === null ? null : Buffer.from(name, 'latin1'), lastNameExact: exact === EXACT_NULL ? null : exact === 1, lastNameType: this.lastNameType.get(row),
      note: this.notes.get(row) ?? null,
    };
  }

  inodeAt(row: number): number {
    return this.index.inodeAt(row);
  }

  /** The row of an inode, or -1: for the reads and writes below, which make no object. */
  rowOf(inode: number): number {
    return this.index.find(inode);
  }

  foundByAt(row: number): readonly string[] {
    return this.foundBy.get(row);
  }

  /** The name as fls printed it (latin1), or null. */
  nameAt(row: number): string | null {
    return this.lastName[row] ?? null;
  }

  setName(row: number, name: string, exact: boolean, type: string): void {
    this.lastName[row] = name;
    this.lastNameExact.set(row, exact ? 1 : 0);
    this.lastNameType.set(row, type);
  }

  setNameInexact(row: number): void {
    this.lastNameExact.set(row, 0);
  }

  dtimeAt(row: number): number | null {
    return this.columns.dtime.number(row);
  }

  ctimeAt(row: number): number | null {
    return this.columns.ctime.number(row);
  }

  sizeAt(row: number): U64 | null {
    return this.columns.size.get(row);
  }

  noteAt(row: number): string | null {
    return this.notes.get(row) ?? null;
  }

  stateAt(row: number): 'orphan' | 'deleted' {
    return this.state.get(row) === 0 ? 'orphan' : 'deleted';
  }

  recoverableAt(row: number): boolean {
    return this.recoverable.get(row) === 1;
  }

  /** Rows in ascending inode order. */
  rowsByInode(): Uint32Array {
    return this.index.rowsByInode();
  }
}

/** A scan's records: its orphans and its deleted inodes, one list in inode order (an inode is in one of them). */
export class ScannedInodes implements Iterable<NewImageInode> {
  constructor(readonly orphans: RecordTable, readonly deleted: RecordTable) {}

  get length(): number {
    return this.orphans.size + this.deleted.size;
  }

  /** Each record in ascending inode order, as a new object. */
  *[Symbol.iterator](): Generator<NewImageInode> {
    for (const { table, row } of this.rows()) yield table.at(row);
  }

  /** Each record's table and row, in ascending inode order. */
  *rows(): Generator<{ table: RecordTable; row: number }> {
    const orphanRows = this.orphans.rowsByInode();
    const deletedRows = this.deleted.rowsByInode();
    let orphan = 0;
    let deleted = 0;
    while (orphan < orphanRows.length || deleted < deletedRows.length) {
      const next = orphanRows[orphan];
      const other = deletedRows[deleted];
      if (next !== undefined && (other === undefined || this.orphans.inodeAt(next) <= this.deleted.inodeAt(other))) {
        orphan++;
        yield { table: this.orphans, row: next };
      } else if (other !== undefined) {
        deleted++;
        yield { table: this.deleted, row: other };
      }
    }
  }

  has(inode: number): boolean {
    return this.orphans.has(inode) || this.deleted.has(inode);
  }

  /** How many records are in this state, and how many of them recoverable. */
  count(state: 'orphan' | 'deleted'): { all: number; recoverable: number } {
    const counted = { all: 0, recoverable: 0 };
    for (const table of [this.orphans, this.deleted]) {
      for (let row = 0; row < table.size; row++) {
        if (table.stateAt(row) !== state) continue;
        counted.all++;
        if (table.recoverableAt(row)) counted.recoverable++;
      }
    }
    return counted;
  }

  /** The inodes in this state, ascending. */
  inodesIn(state: 'orphan' | 'deleted'): number[] {
    const inodes: number[] = [];
    for (const { table, row } of this.rows()) if (table.stateAt(row) === state) inodes.push(table.inodeAt(row));
    return inodes;
  }
}

const DELETED = 1;
const REALLOC = 2;
const NAME_EXACT = 4;
const VIRTUAL = 8;

/** fls' entries in the order it printed them, by row (its name as printed: latin1, one char per byte). */
export class FlsNames {
  private readonly inodes = new NumberColumn();
  private readonly flags = new ByteColumn();
  private readonly types = new InternColumn<string>((value) => value);
  private readonly names: string[] = [];

  get length(): number {
    return this.names.length;
  }

  add(entry: FlsEntry): void {
    const row = this.names.length;
    this.names.push(entry.name);
    this.inodes.set(row, entry.inode);
    this.types.set(row, entry.type);
    this.flags.set(row, (entry.deleted ? DELETED : 0) | (entry.realloc ? REALLOC : 0) | (entry.nameExact ? NAME_EXACT : 0) | (entry.virtual ? VIRTUAL : 0));
  }

  inodeAt(row: number): number {
    return this.inodes.number(row) ?? 0;
  }

  nameAt(row: number): string {
    return this.names[row] ?? '';
  }

  typeAt(row: number): string {
    return this.types.get(row);
  }

  deletedAt(row: number): boolean {
    return (this.flags.get(row) & DELETED) !== 0;
  }

  reallocAt(row: number): boolean {
    return (this.flags.get(row) & REALLOC) !== 0;
  }

  nameExactAt(row: number): boolean {
    return (this.flags.get(row) & NAME_EXACT) !== 0;
  }

  virtualAt(row: number): boolean {
    return (this.flags.get(row) & VIRTUAL) !== 0;
  }

  entry(row: number): FlsEntry {
    return {
      type: this.typeAt(row), deleted: this.deletedAt(row), inode: this.inodeAt(row), realloc: this.reallocAt(row), name: this.nameAt(row),
      nameExact: this.nameExactAt(row), virtual: this.virtualAt(row),
    };
  }
}
