// lsof records in the case database, and the cross-check with the /proc walk of the same snapshot.
import type { Db } from './db.js';
import { endsWithDeleted, isTruncatedFd, lsofFdName, type LsofFileRecord } from '../../parsers/lsof.js';
import { BatchInsert, sqlInteger } from './batch.js';
import { exactText, readU64, sqlU64, type U64 } from '../util/u64.js';

export class LsofWriter {
  private readonly rows;
  count = 0;

  /** itemizer: for an import (no /proc walk to match), each record becomes its item as it is written. */
  constructor(
    db: Db,
    snapshotId: number,
    private readonly itemizer: LsofItemizer | null = null,
  ) {
    this.rows = new BatchInsert(
      db,
      `INSERT INTO lsof_files (snapshot_id, line, command, pid, tid, uid, user, fd, fd_num, type, dev, size, offset, nlink, inode, name, deleted_by_text, item_id)`,
      `(${sqlInteger(snapshotId)}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      () => itemizer?.flush(),
    );
  }

  write(record: LsofFileRecord): void {
    const itemId = this.itemizer !== null && isItemType(record.type) ? this.itemizer.itemFor(record, null, null) : null;
    this.rows.add(
      record.line, record.command, record.pid, record.tid, record.uid, record.user, record.fd, record.fdNum, record.type,
      record.device, sqlU64(record.size), sqlU64(record.offset), record.nlink, sqlU64(record.inode), record.name, record.candidateOnlyByText ? 1 : 0, itemId,
    );
    this.count++;
  }

  /** Write what is queued (items first: the records point at them). */
  flush(): void {
    this.itemizer?.flush();
    this.rows.flush();
  }
}

const isItemType = (type: string | null): boolean => type === null || type === 'REG' || type === 'DEL';

interface OwnerRow {
  start_time: number | null;
  comm: string | null;
  exe: Buffer | null;
}

/**
 * Turns lsof records nothing in /proc matched into items (one per file and process). Items are
 * written in batches with ids given here: while it lives, it is the only writer of items in the
 * transaction (so max(id) + 1 onwards are free); flush() before anything reads them.
 */
export class LsofItemizer {
  private readonly rows;
  /**
   * Items of the current process set. lsof prints each process's files together, so the map is
   * emptied when the pid changes: memory stays flat however long the capture.
   */
  private readonly items = new Map<string, number>();
  /**
   * lsof -K lists every thread's fd table after its process's, sharing or not. A file the process's
   * own set has (a thread sharing the table, a file inherited when it unshared) is that item; one it
   * has not is in a table of the thread's own (unshare(CLONE_FILES)): an item of the thread (pid =
   * TID, its processes row naming the process in thread_of), as the /proc walk lists it, never one
   * of the process's at an fd number where the process holds another file. Threads sharing such a
   * table give it once, under the first of them listed.
   */
  private readonly threadItems = new Map<string, number>();
  private readonly threadRow;
  /**
   * When the process's own set lists no deleted file, which may be because its main thread has exited
   * (a zombie leader: lsof lists nothing for it), the first thread listed stands for the process, as
   * the /proc walk reads such a process through a live thread: its files are the process's items, noted so.
   */
  private mainListed = false;
  private standIn: number | null = null;
  /** Threads of the current process whose processes row is written. */
  private readonly threadsStored = new Set<number>();
  private itemsPid = -1;
  private nextId: number;
  added = 0;

  constructor(
    db: Db,
    snapshotId: number,
    private readonly procWalked: boolean,
  ) {
    this.rows = new BatchInsert(
      db,
      `INSERT INTO items (id, snapshot_id, pid, start_time, comm, exe, kind, fd, path, dev, inode, size, nlink, pos, in_proc, in_lsof, lsof_note)`,
      `(?, ${sqlInteger(snapshotId)}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 1, ?)`,
    );
    this.threadRow = db.prepare(`INSERT OR IGNORE INTO processes (snapshot_id, pid, comm, thread_of) VALUES (${sqlInteger(snapshotId)}, ?, ?, ?)`);
    this.nextId = (db.prepare(`SELECT coalesce(max(id), 0) + 1 AS next FROM items`).get() as { next: number }).next;
  }

  flush(): void {
    this.rows.flush();
  }

  itemFor(
    row: Pick<LsofFileRecord, 'pid' | 'tid' | 'taskCommand' | 'fd' | 'fdNum' | 'inode' | 'name' | 'command' | 'device' | 'size' | 'nlink' | 'offset' | 'candidateOnlyByText'>,
    owner: OwnerRow | null,
    note: string | null,
  ): number {
    const path = stripDeletedBytes(row.name);
    const kind = lsofKind(row.fd, row.fdNum, path, row.inode);
    // lsof lists one mapped file once per mapping ('mem', 'DEL'): one item per file and process.
    if (row.pid !== this.itemsPid) {
      this.items.clear();
      this.threadItems.clear();
      this.itemsPid = row.pid;
      this.mainListed = false;
      this.standIn = null;
      this.threadsStored.clear();
    }
    // An fd lsof printed as "*999" (isTruncatedFd) is an fd of its own each time: two of them are two fds (10999, 11999).
    const key = kind === 'fd' && row.fdNum === null ? `fd/${row.fd}/#${this.nextId}` : `${kind}/${row.fdNum ?? ''}/${row.inode ?? row.name.toString('latin1')}`;
    const tid = row.tid !== null && row.tid !== row.pid ? row.tid : null;
    if (tid === null) this.mainListed = true;
    else if (!this.mainListed) this.standIn ??= tid;
    // A thread's record that is not the stand-in's: in a table of the thread's own unless the process's holds it.
    const thread = tid !== null && tid !== this.standIn ? tid : null;
    const existing = this.items.get(key) ?? (thread === null ? undefined : this.threadItems.get(key));
    if (existing !== undefined) return existing;
    let why = 'seen by lsof only';
    if (thread !== null) why += `; lsof -K lists it in thread ${thread}'s fd table, not in its process's`;
    else if (tid !== null) why += `; lsof -K lists no deleted file in the process's own set (its main thread may have exited): thread ${tid}'s set is taken for the process's`;
    if (owner === null && this.procWalked) why += '; the /proc walk did not see this process';
    if (row.candidateOnlyByText) why += '; deleted by name only (no link count in the input)';
    if (lsofFdName(row.fd) === 'DEL') why += '; a mapping lsof marks DEL (deleted; it prints no link count for one)';
    if (row.fdNum === null && isTruncatedFd(row.fd)) why += `; lsof printed the fd as ${row.fd}: an fd number of 10000 or more ending in ${row.fd.slice(1, 4)}, the number itself not known`;
    if (kind === 'tmpfile') why += `; kind tmpfile guessed from its name #${row.inode} (the kernel names an O_TMPFILE file so; lsof cannot see open flags: a file renamed so, then deleted, looks the same)`;
    if (note !== null) why += `; ${note}`;
    // A thread's item bears the thread's own command (lsof -K: M, TASKCMD) when lsof printed it.
    const comm = thread !== null && row.taskCommand !== null ? row.taskCommand : (owner?.comm ?? row.command);
    const id = this.nextId++;
    this.rows.add(
      id, thread ?? row.pid, owner?.start_time ?? null, comm, owner?.exe ?? null, kind,
      kind === 'fd' || kind === 'memfd' || kind === 'tmpfile' ? row.fdNum : null,
      path, row.device, sqlU64(row.inode), sqlU64(row.size), row.nlink, sqlU64(row.offset), why,
    );
    if (thread === null) {
      this.items.set(key, id);
    } else {
      this.threadItems.set(key, id);
      if (!this.threadsStored.has(thread)) this.threadRow.run(thread, comm, row.pid);
      this.threadsStored.add(thread);
    }
    this.added++;
    return id;
  }
}

export interface CrossCheck {
  /** Items both saw. */
  both: number;
  /** Items only the /proc walk saw. */
  procOnly: number;
  /** Items only lsof saw (added to items with in_proc = 0). */
  lsofOnly: number;
  /**
   * Records of deleted files that are no item (their item_id NULL): a FIFO, directory, symbolic link
   * (O_PATH), device node or socket file lsof lists with +L1 (types other than REG), and a POSIX
   * message queue, a REG to lsof, that the walk saw at that fd and made no item of. Nothing to copy.
   */
  notItems: number;
}

/** lsof_files rows of a snapshot that name a deleted file: a link count of 0, else deleted by name, or a mapping lsof marks DEL. */
const DELETED_RECORD = `(l.nlink = 0 OR (l.nlink IS NULL AND (l.deleted_by_text = 1 OR l.fd LIKE 'DEL%')))`;

/** The deleted-file records of a snapshot that no item stands for (see CrossCheck.notItems). */
function countNotItems(db: Db, snapshotId: number): number {
  return (db.prepare(`SELECT count(*) AS n FROM lsof_files AS l WHERE l.snapshot_id = ? AND l.item_id IS NULL AND ${DELETED_RECORD}`).get(snapshotId) as { n: number }).n;
}

const DELETED = ` (deleted)`;

/**
 * Match the deleted-file records lsof printed to the items of the same snapshot: by pid and fd
 * number (fd, memfd, tmpfile), by pid for 'txt' (exe), by pid and inode for 'DEL'/'mem' (map).
 * Records no item matches become lsof-only items; items no record matches say so in lsof_note.
 * procWalked: the snapshot also holds a /proc walk (false for an import, whose records the
 * writer's itemizer already turned into items).
 * Call inside the snapshot's transaction.
 */
/**
 * lsof prints fd 19999 as "*999" (isTruncatedFd): such a record is the item of its process with an fd
 * of 10000 or more ending in those digits and the same inode, one record per item, in the records'
 * order. Matched here by (pid, inode) in one pass over each table: as one SQL statement, each record
 * looked through its process's items and every record already matched (no index serves either),
 * 19,000 deleted fds of one process took 21 s and ten such processes did not end in 25 minutes.
 */
function matchTruncatedFds(db: Db, snapshotId: number, candidate: string): void {
  const records = db
    .prepare(`SELECT l.id, l.pid, l.fd, l.inode FROM lsof_files AS l WHERE ${candidate} AND l.fd_num IS NULL AND l.fd GLOB '[*][0-9][0-9][0-9]*' AND l.inode IS NOT NULL ORDER BY l.id`)
    .safeIntegers(true)
    .all(snapshotId) as Array<{ id: bigint; pid: bigint; fd: string; inode: bigint }>;
  if (records.length === 0) return;
  /** Items of fd 10000 or more by process and inode (exact: inode numbers past 2^53 stay BigInt). */
  const items = new Map<string, Array<{ id: bigint; fd: bigint }>>();
  const rows = db.prepare(`SELECT id, pid, fd, inode FROM items WHERE snapshot_id = ? AND in_proc = 1 AND fd >= 10000 AND inode IS NOT NULL ORDER BY id`).safeIntegers(true);
  for (const item of rows.iterate(snapshotId) as IterableIterator<{ id: bigint; pid: bigint; fd: bigint; inode: bigint }>) {
    const key = `${item.pid}/${item.inode}`;
    const list = items.get(key);
    if (list === undefined) items.set(key, [{ id: item.id, fd: item.fd }]);
    else list.push({ id: item.id, fd: item.fd });
  }
  const taken = new Set(
    (db.prepare(`SELECT item_id FROM lsof_files WHERE snapshot_id = ? AND item_id IS NOT NULL`).pluck().safeIntegers(true).all(snapshotId) as bigint[]).map(String),
  );
  const link = db.prepare(`UPDATE lsof_files SET item_id = ? WHERE id = ?`);
  for (const record of records) {
    const digits = BigInt(Number.parseInt(record.fd.slice(1, 4), 10));
    const item = items.get(`${record.pid}/${record.inode}`)?.find((each) => each.fd % 1000n === digits && !taken.has(String(each.id)));
    if (item === undefined) continue;
    taken.add(String(item.id));
    link.run(item.id, record.id);
  }
}

export function crossCheckLsof(db: Db, snapshotId: number, procWalked: boolean): CrossCheck {
  if (!procWalked) {
    // An import: the writer's itemizer already made every record its item.
    const counted = db.prepare(`SELECT count(*) AS n FROM items WHERE snapshot_id = ?`).get(snapshotId) as { n: number };
    return { both: 0, procOnly: 0, lsofOnly: counted.n, notItems: countNotItems(db, snapshotId) };
  }
  // 1. Records that match an item of the walk: one statement per rule (each then finds its item
  //    through the index on items (snapshot_id, pid, fd) instead of scanning the process's items).
  //    Not a record of an fd the walk stat'ed as that deleted file and made no item of (a POSIX
  //    message queue, a REG to lsof): seen by both, no item (CrossCheck.notItems).
  const candidate = `l.snapshot_id = ? AND l.item_id IS NULL AND ${DELETED_RECORD}
    AND (l.type IS NULL OR l.type IN ('REG', 'DEL'))
    AND NOT EXISTS (SELECT 1 FROM fds f WHERE f.snapshot_id = l.snapshot_id AND f.pid = l.pid AND f.fd = l.fd_num AND f.nlink = 0
      AND (l.inode IS NULL OR f.inode = l.inode)
      AND NOT EXISTS (SELECT 1 FROM items i WHERE i.snapshot_id = f.snapshot_id AND i.pid = f.pid AND i.fd = f.fd))`;
  const matchBy = (rule: string, where: string): void => {
    db.prepare(
      `UPDATE lsof_files AS l SET item_id = (
         SELECT i.id FROM items i WHERE i.snapshot_id = l.snapshot_id AND i.pid = l.pid AND i.in_proc = 1 AND ${rule} LIMIT 1)
       WHERE ${candidate} AND ${where}`,
    ).run(snapshotId);
  };
  matchBy('i.fd = l.fd_num AND (l.inode IS NULL OR i.inode IS NULL OR i.inode = l.inode)', 'l.fd_num IS NOT NULL');
  matchBy(`i.kind = 'exe'`, `l.fd_num IS NULL AND l.fd LIKE 'txt%'`);
  matchTruncatedFds(db, snapshotId, candidate);
  matchBy('i.fd IS NULL AND i.inode = l.inode', `l.fd_num IS NULL AND l.fd <> 'txt' AND l.fd NOT GLOB '[*][0-9][0-9][0-9]*' AND l.inode IS NOT NULL`);
  // 2. Those items were seen by both; the note follows the first record that names each.
  const both = db
    .prepare(
      `WITH first AS (
         SELECT item_id, deleted_by_text, min(id) FROM lsof_files WHERE snapshot_id = ? AND item_id IS NOT NULL GROUP BY item_id)
       UPDATE items SET in_lsof = 1,
         lsof_note = CASE first.deleted_by_text WHEN 1 THEN 'lsof: deleted by name only (no link count in the input)' END
       FROM first WHERE items.id = first.item_id AND items.in_proc = 1`,
    )
    .run(snapshotId).changes;
  // 3. The rest become lsof-only items (few on a live host: files opened or closed between the looks).
  const itemizer = new LsofItemizer(db, snapshotId, true);
  const unmatched = db
    .prepare(
      `SELECT id, command, pid, fd, fd_num, type, dev, size, offset, nlink, inode, name, deleted_by_text,
         ${exactText('size', 'size_text')}, ${exactText('offset', 'offset_text')}, ${exactText('inode', 'inode_text')}
       FROM lsof_files AS l WHERE ${candidate} ORDER BY id`,
    )
    .all(snapshotId) as Array<{
    id: number; command: string | null; pid: number; fd: string; fd_num: number | null; type: string | null; dev: string | null;
    size: number | null; offset: number | null; nlink: number | null; inode: number | null; name: Buffer; deleted_by_text: number;
    size_text: string | null; offset_text: string | null; inode_text: string | null;
  }>;
  const byFd = db.prepare(`SELECT inode, ${exactText('inode', 'inode_text')} FROM items WHERE snapshot_id = ? AND pid = ? AND fd = ? AND in_proc = 1`);
  const link = db.prepare(`UPDATE lsof_files SET item_id = ? WHERE id = ?`);
  const process = db.prepare(`SELECT start_time, comm, exe FROM processes WHERE snapshot_id = ? AND pid = ?`);
  const lsofOnlyLinks: Array<[number, number]> = [];
  for (const record of unmatched) {
    const sameFd = record.fd_num === null ? undefined : (byFd.get(snapshotId, record.pid, record.fd_num) as { inode: number | null; inode_text: string | null } | undefined);
    const inode = readU64(record.inode, record.inode_text);
    const note = sameFd === undefined ? null : `lsof names inode ${inode} for fd ${record.fd_num}, /proc saw inode ${readU64(sameFd.inode, sameFd.inode_text)} (fd reused between the two looks)`;
    const owner = (process.get(snapshotId, record.pid) as OwnerRow | undefined) ?? null;
    // The snapshot's own lsof runs without -K: its records name processes, never threads.
    const id = itemizer.itemFor(
      { pid: record.pid, tid: null, taskCommand: null, fd: record.fd, fdNum: record.fd_num, inode, name: record.name, command: record.command, device: record.dev,
        size: readU64(record.size, record.size_text), nlink: record.nlink, offset: readU64(record.offset, record.offset_text), candidateOnlyByText: record.deleted_by_text === 1 },
      owner,
      note,
    );
    lsofOnlyLinks.push([id, record.id]);
  }
  // The lsof-only items exist once flushed; only then can the records point at them.
  itemizer.flush();
  for (const [itemId, recordId] of lsofOnlyLinks) link.run(itemId, recordId);
  const procOnly = db
    .prepare(
      `UPDATE items SET lsof_note = CASE
         WHEN kind = 'map' THEN 'not listed by lsof +L1 (it shows mmap-only deleted files as DEL only without +L1)'
         WHEN EXISTS (SELECT 1 FROM processes p WHERE p.snapshot_id = items.snapshot_id AND p.pid = items.pid AND p.thread_of IS NOT NULL)
           THEN 'not listed by lsof (held in a thread''s own fd table, which lsof reads only with -K)'
         ELSE 'not listed by lsof' END
       WHERE snapshot_id = ? AND in_proc = 1 AND in_lsof = 0`,
    )
    .run(snapshotId).changes;
  return { both, procOnly, lsofOnly: itemizer.added, notItems: countNotItems(db, snapshotId) };
}

function lsofKind(fd: string, fdNum: number | null, path: Buffer, inode: U64 | null): 'fd' | 'map' | 'exe' | 'memfd' | 'tmpfile' {
  if (lsofFdName(fd) === 'txt') return 'exe';
  if (path.length >= MEMFD.length && path.compare(MEMFD, 0, MEMFD.length, 0, MEMFD.length) === 0) return 'memfd';
  if (fdNum === null) return isTruncatedFd(fd) ? 'fd' : 'map';
  const slash = path.lastIndexOf(0x2f);
  // O_TMPFILE files are named "#<inode>" by the kernel (d_tmpfile); lsof cannot see open flags.
  if (inode !== null && path[slash + 1] === 0x23 && path.subarray(slash + 1).toString('latin1') === `#${inode}`) return 'tmpfile';
  return 'fd';
}

const MEMFD = Buffer.from('/memfd:', 'latin1');

function stripDeletedBytes(name: Buffer): Buffer {
  return endsWithDeleted(name) ? name.subarray(0, name.length - DELETED.length) : name;
}
