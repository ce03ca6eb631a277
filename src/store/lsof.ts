// lsof records in the case database, and the cross-check with the /proc walk of the same snapshot.
import type { Db } from './db.js';
import { endsWithDeleted, type LsofFileRecord } from '../../parsers/lsof.js';
import { BatchInsert, sqlInteger } from './batch.js';

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
      record.device, record.size, record.offset, record.nlink, record.inode, record.name, record.candidateOnlyByText ? 1 : 0, itemId,
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
    this.nextId = (db.prepare(`SELECT coalesce(max(id), 0) + 1 AS next FROM items`).get() as { next: number }).next;
  }

  flush(): void {
    this.rows.flush();
  }

  itemFor(
    row: Pick<LsofFileRecord, 'pid' | 'fd' | 'fdNum' | 'inode' | 'name' | 'command' | 'device' | 'size' | 'nlink' | 'offset' | 'candidateOnlyByText'>,
    owner: OwnerRow | null,
    note: string | null,
  ): number {
    const path = stripDeletedBytes(row.name);
    const kind = lsofKind(row.fd, row.fdNum, path, row.inode);
    // lsof lists one mapped file once per mapping ('mem', 'DEL'): one item per file and process.
    if (row.pid !== this.itemsPid) {
      this.items.clear();
      this.itemsPid = row.pid;
    }
    const key = `${kind}/${row.fdNum ?? ''}/${row.inode ?? row.name.toString('latin1')}`;
    const existing = this.items.get(key);
    if (existing !== undefined) return existing;
    let why = 'seen by lsof only';
    if (owner === null && this.procWalked) why += '; the /proc walk did not see this process';
    if (row.candidateOnlyByText) why += '; deleted by name only (no link count in the input)';
    if (note !== null) why += `; ${note}`;
    const id = this.nextId++;
    this.rows.add(
      id, row.pid, owner?.start_time ?? null, owner?.comm ?? row.command, owner?.exe ?? null, kind,
      kind === 'fd' || kind === 'memfd' || kind === 'tmpfile' ? row.fdNum : null,
      path, row.device, row.inode, row.size, row.nlink, row.offset, why,
    );
    this.items.set(key, id);
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
export function crossCheckLsof(db: Db, snapshotId: number, procWalked: boolean): CrossCheck {
  if (!procWalked) {
    // An import: the writer's itemizer already made every record its item.
    const counted = db.prepare(`SELECT count(*) AS n FROM items WHERE snapshot_id = ?`).get(snapshotId) as { n: number };
    return { both: 0, procOnly: 0, lsofOnly: counted.n };
  }
  const itemizer = new LsofItemizer(db, snapshotId, true);
  const candidates = db
    .prepare(
      `SELECT id, command, pid, fd, fd_num, type, dev, size, offset, nlink, inode, name, deleted_by_text FROM lsof_files
       WHERE snapshot_id = ? AND item_id IS NULL AND (nlink = 0 OR (nlink IS NULL AND deleted_by_text = 1))
         AND (type IS NULL OR type IN ('REG', 'DEL')) ORDER BY id`,
    )
    .all(snapshotId) as Array<{
    id: number; command: string | null; pid: number; fd: string; fd_num: number | null; type: string | null; dev: string | null;
    size: number | null; offset: number | null; nlink: number | null; inode: number | null; name: Buffer; deleted_by_text: number;
  }>;
  const byFd = db.prepare(`SELECT id, inode FROM items WHERE snapshot_id = ? AND pid = ? AND fd = ? AND in_proc = 1`);
  const byExe = db.prepare(`SELECT id FROM items WHERE snapshot_id = ? AND pid = ? AND kind = 'exe' AND in_proc = 1`);
  const byMap = db.prepare(`SELECT id FROM items WHERE snapshot_id = ? AND pid = ? AND fd IS NULL AND inode = ? AND in_proc = 1`);
  const markBoth = db.prepare(`UPDATE items SET in_lsof = 1, lsof_note = ? WHERE id = ?`);
  const link = db.prepare(`UPDATE lsof_files SET item_id = ? WHERE id = ?`);
  const process = db.prepare(`SELECT start_time, comm, exe FROM processes WHERE snapshot_id = ? AND pid = ?`);
  let both = 0;
  const matched = new Set<number>();
  const lsofOnlyLinks: Array<[number, number]> = [];
  for (const record of candidates) {
    let itemId: number | null = null;
    let note: string | null = null;
    if (record.fd_num !== null) {
      const item = byFd.get(snapshotId, record.pid, record.fd_num) as { id: number; inode: number | null } | undefined;
      if (item !== undefined && (record.inode === null || item.inode === null || item.inode === record.inode)) itemId = item.id;
      else if (item !== undefined) note = `lsof names inode ${record.inode} for fd ${record.fd_num}, /proc saw inode ${item.inode} (fd reused between the two looks)`;
    } else if (record.fd === 'txt') {
      itemId = (byExe.get(snapshotId, record.pid) as { id: number } | undefined)?.id ?? null;
    } else if (record.inode !== null) {
      itemId = (byMap.get(snapshotId, record.pid, record.inode) as { id: number } | undefined)?.id ?? null;
    }
    if (itemId !== null && !matched.has(itemId)) {
      matched.add(itemId);
      markBoth.run(record.deleted_by_text === 1 ? 'lsof: deleted by name only (no link count in the input)' : null, itemId);
      link.run(itemId, record.id);
      both++;
      continue;
    }
    if (itemId !== null) {
      link.run(itemId, record.id); // a second record of the same item (e.g. 'mem' and 'DEL' lines)
      continue;
    }
    const owner = (process.get(snapshotId, record.pid) as OwnerRow | undefined) ?? null;
    const id = itemizer.itemFor(
      { pid: record.pid, fd: record.fd, fdNum: record.fd_num, inode: record.inode, name: record.name, command: record.command, device: record.dev,
        size: record.size, nlink: record.nlink, offset: record.offset, candidateOnlyByText: record.deleted_by_text === 1 },
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
      `UPDATE items SET lsof_note = CASE kind
         WHEN 'map' THEN 'not listed by lsof +L1 (it shows mmap-only deleted files as DEL only without +L1)'
         ELSE 'not listed by lsof' END
       WHERE snapshot_id = ? AND in_proc = 1 AND in_lsof = 0`,
    )
    .run(snapshotId).changes;
  return { both, procOnly, lsofOnly: itemizer.added };
}

function lsofKind(fd: string, fdNum: number | null, path: Buffer, inode: number | null): 'fd' | 'map' | 'exe' | 'memfd' | 'tmpfile' {
  if (fd === 'txt') return 'exe';
  if (path.length >= MEMFD.length && path.compare(MEMFD, 0, MEMFD.length, 0, MEMFD.length) === 0) return 'memfd';
  if (fdNum === null) return 'map';
  const slash = path.lastIndexOf(0x2f);
  // O_TMPFILE files are named "#<inode>" by the kernel (d_tmpfile); lsof cannot see open flags.
  if (inode !== null && path[slash + 1] === 0x23 && path.subarray(slash + 1).toString('latin1') === `#${inode}`) return 'tmpfile';
  return 'fd';
}

const MEMFD = Buffer.from('/memfd:', 'latin1');

function stripDeletedBytes(name: Buffer): Buffer {
  return endsWithDeleted(name) ? name.subarray(0, name.length - DELETED.length) : name;
}
