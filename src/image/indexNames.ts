// Deleted names fls read out of htree index blocks. The Sleuth Kit 4.11.1 reads every block of a
// directory as a linear one: in the dx_root and dx_node blocks of an htree directory (ext3/ext4 with
// dir_index), hashes and block numbers pass for deleted entries (`2049(realloc): d0/^`, `43: d1/O`),
// which would become a deleted inode's last name, or even "find" an inode. The directories that hold
// deleted names (and those on the way to them) are read (`debugfs -c dump`) and read again entry by
// entry as TSK reads them (parsers/extDirectory.ts), which tells where each name lies: a name that
// lies only in index bytes, or below a directory name that does, is dropped; one in a leaf block is
// kept. Only those directories are read, level by level from the root: one `stat` and one `dump`
// debugfs process per level; a directory of one block cannot be indexed and is not read (unless a
// directory on the way lies in it). Which directories each kept name may lie in, with when each last
// changed (from the same `stat`), is handed on: the scan tells a stale copy by them (scan.ts, lostBeforeFreed).
import { parseExtDirectory, type ExtDirectoryOptions } from '../../parsers/extDirectory.js';
import { tskPrinted } from '../../parsers/fls.js';
import type { U64 } from '../../parsers/types.js';
import type { FlsNames } from './inodeTables.js';

export interface DirectoryFacts {
  directory: boolean;
  /** Exact (a crafted i_size_high makes it a bigint past 2^53: then more than is read). */
  size: U64;
  /** Data in the inode itself (inline_data): never indexed, and not a block TSK reads. */
  inline: boolean;
  /**
   * When the directory last changed: the later of its mtime and ctime, as the kernel reads them
   * (nanoseconds null where the inode keeps none); null: not known.
   */
  changed: { seconds: number; nanoseconds: number | null } | null;
}

/** A directory a kept deleted name may lie in (whether the name is stale is judged by when it last changed). */
export interface HoldingDirectory {
  inode: number;
  /** Its path as fls prints it ('' for the root). */
  path: string;
  changed: DirectoryFacts['changed'];
}

/** How directories are looked at: through debugfs -c in a scan, a stand-in in tests. */
export interface DirectoryAccess {
  /** What each inode is; an inode absent from the answer was not described. */
  describe(inodes: readonly number[]): Promise<Map<number, DirectoryFacts>>;
  /** Each directory's content; one absent from the answer could not be read. */
  read(directories: ReadonlyArray<{ inode: number; size: number }>): Promise<Map<number, Buffer>>;
}

export interface IndexNameCheck {
  /** The rows of fls' list that are deleted names read out of index blocks: left out (every other row as it was). */
  dropped: Set<number>;
  warnings: string[];
  /** Deleted names that could not be checked against their directory's blocks: kept as fls printed them. */
  unchecked: number;
  /**
   * A kept deleted name's directories (by its row): those whose leaf blocks hold it, and those of
   * one block at its path (not read: it may lie in any). Null: not known (a directory at its path
   * not described or not read, a name not where TSK reads its directory), or no kept deleted name.
   */
  holdersOf(row: number): HoldingDirectory[] | null;
}

export const ROOT_INODE = 2;
/** A directory larger than this is not read into memory: its names stay unchecked. */
export const DIRECTORY_MAX_BYTES = 256 << 20;
/** TSK's virtual directory of an inode no name reaches: it lists that inode, a directory, itself. */
const ORPHAN_DIRECTORY = /^\$OrphanFiles\/OrphanFile-(\d+)$/;
/** TSK recurses into an entry whose type is a directory or undefined (no type byte, 0, or past 7). */
const descendsInto = (fileType: number | null) => fileType === null || fileType === 2 || fileType === 0 || fileType > 7;

/**
 * Where the entries of each path looked for (a deleted name, a directory on the way) lie: by slot (one
 * a path), the inodes of entries at it outside index ranges (leaf), each with the directories it lies
 * in, and of entries read out of index ranges, with the directory each lies in. Most paths are one
 * deleted name in one leaf of one directory: that is two numbers a slot; anything more, a few maps.
 */
class Occurrences {
  private readonly leafInode: Float64Array;
  private readonly leafDirectory: Float64Array;
  private readonly more = new Map<number, { leaf: Set<number>; index: Map<number, string>; directories: Map<number, Set<number>> }>();

  constructor(slots: number) {
    this.leafInode = new Float64Array(slots).fill(NaN);
    this.leafDirectory = new Float64Array(slots).fill(NaN);
  }

  private spill(slot: number) {
    const made = { leaf: new Set<number>(), index: new Map<number, string>(), directories: new Map<number, Set<number>>() };
    const inode = this.leafInode[slot] ?? NaN;
    if (!Number.isNaN(inode)) {
      made.leaf.add(inode);
      made.directories.set(inode, new Set([this.leafDirectory[slot] ?? 0]));
      this.leafInode[slot] = NaN;
    }
    this.more.set(slot, made);
    return made;
  }

  addLeaf(slot: number, inode: number, directory: number): void {
    const first = this.leafInode[slot] ?? NaN;
    if (!this.more.has(slot) && Number.isNaN(first)) {
      this.leafInode[slot] = inode;
      this.leafDirectory[slot] = directory;
      return;
    }
    if (first === inode && this.leafDirectory[slot] === directory) return;
    const where = this.more.get(slot) ?? this.spill(slot);
    where.leaf.add(inode);
    where.directories.set(inode, (where.directories.get(inode) ?? new Set<number>()).add(directory));
  }

  addIndex(slot: number, inode: number, directory: string): void {
    (this.more.get(slot) ?? this.spill(slot)).index.set(inode, directory);
  }

  inLeaf(slot: number, inode: number): boolean {
    return this.more.get(slot)?.leaf.has(inode) ?? this.leafInode[slot] === inode;
  }

  /** The directory whose index range holds an entry of this inode at this path, or undefined. */
  inIndex(slot: number, inode: number): string | undefined {
    return this.more.get(slot)?.index.get(inode);
  }

  /** Only in index bytes: the first directory whose index holds it, else null. */
  onlyInIndex(slot: number): string | null {
    const where = this.more.get(slot);
    if (where === undefined || where.leaf.size > 0 || where.index.size === 0) return null;
    return [...where.index.values()][0] ?? null;
  }

  /** The directories whose leaf holds an entry of this inode at this path. */
  directoriesOf(slot: number, inode: number): number[] {
    const where = this.more.get(slot);
    if (where !== undefined) return [...(where.directories.get(inode) ?? [])];
    return this.leafInode[slot] === inode ? [this.leafDirectory[slot] ?? 0] : [];
  }
}

export async function dropIndexNames(records: FlsNames, layout: ExtDirectoryOptions, access: DirectoryAccess): Promise<IndexNameCheck> {
  const warnings: string[] = [];
  /** Every path looked for: the deleted names, then every directory path a name lies under, cut at each '/' (one read out of index bytes may hold a '/'). */
  const slots = new Map<string, number>();
  const prefixes = new Set<string>();
  let names = 0;
  let lastParent: string | null = null;
  for (let row = 0; row < records.length; row++) {
    if (!records.deletedAt(row) || records.virtualAt(row)) continue;
    names++;
    const name = records.nameAt(row);
    if (!slots.has(name)) slots.set(name, slots.size);
    // fls prints a directory's names together: the paths above those of the one before are cut already.
    const parent = name.slice(0, Math.max(name.lastIndexOf('/'), 0));
    if (parent === lastParent) continue;
    lastParent = parent;
    for (let at = name.indexOf('/'); at >= 0; at = name.indexOf('/', at + 1)) prefixes.add(name.slice(0, at));
  }
  if (names === 0) return { dropped: new Set(), warnings, unchecked: 0, holdersOf: () => null };
  for (const prefix of prefixes) if (!slots.has(prefix)) slots.set(prefix, slots.size);
  const parentOf = (path: string) => path.slice(0, Math.max(path.lastIndexOf('/'), 0));
  /** Directories a directory on the way lies in: read whatever their size. */
  const ancestors = new Set([...prefixes].map(parentOf));
  const found = new Occurrences(slots.size);
  /** Paths read (at least one directory there), and those of one block: no index, every name there is one. */
  const read = new Set<string>();
  const single = new Set<string>();
  /** Why no directory at a path was read. */
  const problems = new Map<string, string>();
  /** What each directory looked at is; the directories of one block at each path. */
  const described = new Map<number, DirectoryFacts>();
  const singleAt = new Map<string, Set<number>>();
  const label = (path: string, inode: number) => `${path === '' ? '/' : path} (inode ${inode})`;

  let level = [{ inode: ROOT_INODE, path: '' }];
  for (const prefix of prefixes) {
    const orphan = ORPHAN_DIRECTORY.exec(prefix)?.[1];
    if (orphan !== undefined) level.push({ inode: Number(orphan), path: prefix });
  }
  const visited = new Set<string>();
  /** The content of each directory read: one met again at another path is parsed again, not read again (its entries as objects would be ten times its bytes). */
  const contentOf = new Map<number, Buffer>();
  while (level.length > 0) {
    level = level.filter(({ inode, path }) => {
      const key = `${inode}/${path}`;
      if (visited.has(key)) return false;
      visited.add(key);
      return true;
    });
    const facts = await access.describe([...new Set(level.map((directory) => directory.inode))]);
    for (const [inode, fact] of facts) described.set(inode, fact);
    const toRead = level.filter(({ inode, path }) => {
      const fact = facts.get(inode);
      if (fact === undefined) problems.set(path, `debugfs did not describe inode ${inode}`);
      else if (!fact.directory) problems.set(path, `inode ${inode} is not a directory`);
      else if (fact.inline && ancestors.has(path)) problems.set(path, `directory inode ${inode} keeps its entries in the inode (inline_data), which are not read here`);
      else if (fact.inline || (fact.size <= layout.blockSize && !ancestors.has(path))) {
        single.add(path);
        singleAt.set(path, (singleAt.get(path) ?? new Set<number>()).add(inode));
      } else if (fact.size > DIRECTORY_MAX_BYTES) problems.set(path, `directory inode ${inode} is ${fact.size} bytes, more than are read`);
      else return !contentOf.has(inode);
      return false;
    });
    const contents = await access.read([...new Map(toRead.map(({ inode }) => [inode, facts.get(inode)?.size ?? 0])).entries()].map(([inode, size]) => ({ inode, size: Number(size) })));
    /** This level's directories, parsed. */
    const parsed = new Map<number, ReturnType<typeof parseExtDirectory>>();
    for (const [inode, content] of contents) {
      const directory = parseExtDirectory(content, layout);
      parsed.set(inode, directory);
      contentOf.set(inode, content);
      for (const warning of directory.warnings) warnings.push(`directory inode ${inode}: ${warning.message}`);
    }
    const next: typeof level = [];
    for (const { inode, path } of level) {
      let directory = parsed.get(inode);
      const content = contentOf.get(inode);
      if (directory === undefined && content !== undefined) {
        directory = parseExtDirectory(content, layout);
        parsed.set(inode, directory);
      }
      if (directory === undefined) {
        if (!single.has(path) && !problems.has(path)) problems.set(path, `debugfs could not dump directory inode ${inode}`);
        continue;
      }
      read.add(path);
      for (const entry of directory.records) {
        const printed = tskPrinted(entry.name);
        if (printed === '.' || printed === '..') continue;
        const full = path === '' ? printed : `${path}/${printed}`;
        const slot = slots.get(full);
        if (slot === undefined) continue;
        if (entry.inIndex) {
          found.addIndex(slot, entry.inode, label(path, inode));
          continue;
        }
        found.addLeaf(slot, entry.inode, inode);
        if (prefixes.has(full) && descendsInto(entry.fileType) && entry.inode >= 1 && entry.inode <= layout.inodesCount) next.push({ inode: entry.inode, path: full });
      }
    }
    level = next;
  }

  /** A directory name on the way that lies only in index bytes: everything fls listed below it came through it. */
  const underIndex = (name: string): string | null => {
    for (let at = name.indexOf('/'); at >= 0; at = name.indexOf('/', at + 1)) {
      const slot = slots.get(name.slice(0, at));
      const index = slot === undefined ? null : found.onlyInIndex(slot);
      if (index !== null) return index;
    }
    return null;
  };
  /** Why a deleted name is dropped (the directory whose index it lies in), or doubted; null: a name. */
  const verdict = (name: string, inode: number): { indexOf: string } | { doubt: string } | null => {
    const slot = slots.get(name) ?? -1;
    if (found.inLeaf(slot, inode)) return null;
    const index = found.inIndex(slot, inode);
    if (index !== undefined) return { indexOf: index };
    const parent = parentOf(name);
    if (single.has(parent)) return null;
    const under = underIndex(name);
    if (under !== null) return { indexOf: under };
    return { doubt: read.has(parent) ? 'not where The Sleuth Kit reads its directory' : (problems.get(parent) ?? 'its directory was not found by name') };
  };
  /** The directories a kept name may lie in, or null when one at its path was not looked at. */
  const holdingInodes = (name: string, inode: number): number[] | null => {
    const parent = parentOf(name);
    if (problems.has(parent)) return null;
    const inodes = new Set([...found.directoriesOf(slots.get(name) ?? -1, inode), ...(singleAt.get(parent) ?? [])]);
    return inodes.size === 0 ? null : [...inodes];
  };
  /** By row: the one directory a kept name lies in (most do), NaN for none known; several in `holdingMany`. */
  const holding = new Float64Array(records.length).fill(NaN);
  const holdingMany = new Map<number, number[]>();
  const dropped = new Set<number>();
  const droppedFrom = new Map<string, number>();
  const unchecked = new Map<string, number>();
  for (let row = 0; row < records.length; row++) {
    if (!records.deletedAt(row) || records.virtualAt(row)) continue;
    const name = records.nameAt(row);
    const inode = records.inodeAt(row);
    const judged = verdict(name, inode);
    if (judged === null) {
      const inodes = holdingInodes(name, inode);
      if (inodes?.length === 1) holding[row] = inodes[0] ?? NaN;
      else if (inodes !== null) holdingMany.set(row, inodes);
      continue;
    }
    if ('indexOf' in judged) {
      dropped.add(row);
      droppedFrom.set(judged.indexOf, (droppedFrom.get(judged.indexOf) ?? 0) + 1);
      continue;
    }
    unchecked.set(judged.doubt, (unchecked.get(judged.doubt) ?? 0) + 1);
  }
  const holdersOf = (row: number): HoldingDirectory[] | null => {
    const one = holding[row] ?? NaN;
    const inodes = Number.isNaN(one) ? holdingMany.get(row) : [one];
    if (inodes === undefined) return null;
    const path = parentOf(records.nameAt(row));
    return inodes.map((inode) => ({ inode, path, changed: described.get(inode)?.changed ?? null }));
  };
  const count = (map: Map<string, number>) => [...map.values()].reduce((sum, value) => sum + value, 0);
  const listed = (map: Map<string, number>) => [...map].slice(0, 10).map(([what, times]) => `${what}: ${times}`).join(', ') + (map.size > 10 ? ', ...' : '');
  if (droppedFrom.size > 0) {
    warnings.push(`fls read ${count(droppedFrom)} deleted names out of the htree index blocks of ${droppedFrom.size} directories (${listed(droppedFrom)}): index bytes, not names: left out`);
  }
  if (unchecked.size > 0) {
    warnings.push(`${count(unchecked)} deleted names fls found could not be checked against their directory's blocks (${listed(unchecked)}): ` +
      'kept as fls printed them, although one read out of an htree index block would be no name');
  }
  return { dropped, warnings, unchecked: count(unchecked), holdersOf };
}
