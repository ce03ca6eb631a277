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
import { tskPrinted, type FlsEntry } from '../../parsers/fls.js';
import type { U64 } from '../../parsers/types.js';

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
  /** fls' records without the deleted names read out of index blocks (everything else as it was). */
  records: FlsEntry[];
  warnings: string[];
  /** Deleted names that could not be checked against their directory's blocks: kept as fls printed them. */
  unchecked: number;
  /**
   * Each kept deleted name's directories: those whose leaf blocks hold it, and those of one block at
   * its path (not read: it may lie in any). Absent: not known (a directory at its path not described
   * or not read, a name not where TSK reads its directory).
   */
  holders: Map<FlsEntry, HoldingDirectory[]>;
}

export const ROOT_INODE = 2;
/** A directory larger than this is not read into memory: its names stay unchecked. */
export const DIRECTORY_MAX_BYTES = 256 << 20;
/** TSK's virtual directory of an inode no name reaches: it lists that inode, a directory, itself. */
const ORPHAN_DIRECTORY = /^\$OrphanFiles\/OrphanFile-(\d+)$/;
/** TSK recurses into an entry whose type is a directory or undefined (no type byte, 0, or past 7). */
const descendsInto = (fileType: number | null) => fileType === null || fileType === 2 || fileType === 0 || fileType > 7;

interface Where {
  /** Inodes of the entries at this path outside index ranges. */
  leaf: Set<number>;
  /** Inodes of entries at this path read out of index ranges, with the directory each lies in. */
  index: Map<number, string>;
}

export async function dropIndexNames(records: readonly FlsEntry[], layout: ExtDirectoryOptions, access: DirectoryAccess): Promise<IndexNameCheck> {
  const names = records.filter((entry) => entry.deleted && !entry.virtual);
  const warnings: string[] = [];
  if (names.length === 0) return { records: [...records], warnings, unchecked: 0, holders: new Map() };
  const wanted = new Set(names.map((entry) => entry.name));
  // Every directory path a name lies under, cut at each '/' (one read out of index bytes may hold a '/').
  const prefixes = new Set<string>();
  for (const { name } of names) for (let at = name.indexOf('/'); at >= 0; at = name.indexOf('/', at + 1)) prefixes.add(name.slice(0, at));
  const parentOf = (path: string) => path.slice(0, Math.max(path.lastIndexOf('/'), 0));
  /** Directories a directory on the way lies in: read whatever their size. */
  const ancestors = new Set([...prefixes].map(parentOf));
  const found = new Map<string, Where>();
  /** Paths read (at least one directory there), and those of one block: no index, every name there is one. */
  const read = new Set<string>();
  const single = new Set<string>();
  /** Why no directory at a path was read. */
  const problems = new Map<string, string>();
  /** What each directory looked at is; the directories of one block at each path; those whose leaf holds each name (path, then its inode). */
  const described = new Map<number, DirectoryFacts>();
  const singleAt = new Map<string, Set<number>>();
  const leafOf = new Map<string, Map<number, Set<number>>>();
  const label = (path: string, inode: number) => `${path === '' ? '/' : path} (inode ${inode})`;

  let level = [{ inode: ROOT_INODE, path: '' }];
  for (const prefix of prefixes) {
    const orphan = ORPHAN_DIRECTORY.exec(prefix)?.[1];
    if (orphan !== undefined) level.push({ inode: Number(orphan), path: prefix });
  }
  const visited = new Set<string>();
  const parsed = new Map<number, ReturnType<typeof parseExtDirectory>>();
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
      else return !parsed.has(inode);
      return false;
    });
    const contents = await access.read([...new Map(toRead.map(({ inode }) => [inode, facts.get(inode)?.size ?? 0])).entries()].map(([inode, size]) => ({ inode, size: Number(size) })));
    for (const [inode, content] of contents) {
      const directory = parseExtDirectory(content, layout);
      parsed.set(inode, directory);
      for (const warning of directory.warnings) warnings.push(`directory inode ${inode}: ${warning.message}`);
    }
    const next: typeof level = [];
    for (const { inode, path } of level) {
      const directory = parsed.get(inode);
      if (directory === undefined) {
        if (!single.has(path) && !problems.has(path)) problems.set(path, `debugfs could not dump directory inode ${inode}`);
        continue;
      }
      read.add(path);
      for (const entry of directory.records) {
        const printed = tskPrinted(entry.name);
        if (printed === '.' || printed === '..') continue;
        const full = path === '' ? printed : `${path}/${printed}`;
        if (!wanted.has(full) && !prefixes.has(full)) continue;
        const where = found.get(full) ?? { leaf: new Set<number>(), index: new Map<number, string>() };
        found.set(full, where);
        if (entry.inIndex) {
          where.index.set(entry.inode, label(path, inode));
          continue;
        }
        where.leaf.add(entry.inode);
        const byInode = leafOf.get(full) ?? new Map<number, Set<number>>();
        leafOf.set(full, byInode.set(entry.inode, (byInode.get(entry.inode) ?? new Set<number>()).add(inode)));
        if (prefixes.has(full) && descendsInto(entry.fileType) && entry.inode >= 1 && entry.inode <= layout.inodesCount) next.push({ inode: entry.inode, path: full });
      }
    }
    level = next;
  }

  /** A directory name on the way that lies only in index bytes: everything fls listed below it came through it. */
  const underIndex = (name: string): string | null => {
    for (let at = name.indexOf('/'); at >= 0; at = name.indexOf('/', at + 1)) {
      const where = found.get(name.slice(0, at));
      if (where !== undefined && where.leaf.size === 0 && where.index.size > 0) return [...where.index.values()][0] ?? null;
    }
    return null;
  };
  /** Why a deleted name is dropped (the directory whose index it lies in), or doubted; null: a name. */
  const verdict = (entry: FlsEntry): { indexOf: string } | { doubt: string } | null => {
    const where = found.get(entry.name);
    if (where?.leaf.has(entry.inode) === true) return null;
    const index = where?.index.get(entry.inode);
    if (index !== undefined) return { indexOf: index };
    const parent = parentOf(entry.name);
    if (single.has(parent)) return null;
    const under = underIndex(entry.name);
    if (under !== null) return { indexOf: under };
    return { doubt: read.has(parent) ? 'not where The Sleuth Kit reads its directory' : (problems.get(parent) ?? 'its directory was not found by name') };
  };
  /** The directories a kept name may lie in, or null when one at its path was not looked at. */
  const holdersOf = (entry: FlsEntry): HoldingDirectory[] | null => {
    const parent = parentOf(entry.name);
    if (problems.has(parent)) return null;
    const inodes = new Set([...(leafOf.get(entry.name)?.get(entry.inode) ?? []), ...(singleAt.get(parent) ?? [])]);
    if (inodes.size === 0) return null;
    return [...inodes].map((inode) => ({ inode, path: parent, changed: described.get(inode)?.changed ?? null }));
  };
  const holders = new Map<FlsEntry, HoldingDirectory[]>();
  const dropped = new Map<string, number>();
  const unchecked = new Map<string, number>();
  const kept = records.filter((entry) => {
    if (!entry.deleted || entry.virtual) return true;
    const judged = verdict(entry);
    if (judged === null) {
      const holding = holdersOf(entry);
      if (holding !== null) holders.set(entry, holding);
      return true;
    }
    if ('indexOf' in judged) {
      dropped.set(judged.indexOf, (dropped.get(judged.indexOf) ?? 0) + 1);
      return false;
    }
    unchecked.set(judged.doubt, (unchecked.get(judged.doubt) ?? 0) + 1);
    return true;
  });
  const count = (map: Map<string, number>) => [...map.values()].reduce((sum, value) => sum + value, 0);
  const listed = (map: Map<string, number>) => [...map].slice(0, 10).map(([what, times]) => `${what}: ${times}`).join(', ') + (map.size > 10 ? ', ...' : '');
  if (dropped.size > 0) {
    warnings.push(`fls read ${count(dropped)} deleted names out of the htree index blocks of ${dropped.size} directories (${listed(dropped)}): index bytes, not names: left out`);
  }
  if (unchecked.size > 0) {
    warnings.push(`${count(unchecked)} deleted names fls found could not be checked against their directory's blocks (${listed(unchecked)}): ` +
      'kept as fls printed them, although one read out of an htree index block would be no name');
  }
  return { records: kept, warnings, unchecked: count(unchecked), holders };
}
