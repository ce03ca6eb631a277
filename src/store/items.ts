import type { Db } from './db.js';
import { displayBytes } from '../util/bytes.js';
import type { ItemKind } from '../proc/types.js';
import { exactText, readU64, type U64 } from '../util/u64.js';
import type { ProcessFlag } from './processFlags.js';

/** A live item as CONTRACT.md names its JSON keys. */
export interface LiveItemJson {
  id: number;
  snapshot_id: number;
  pid: number;
  start_time: number | null;
  comm: string | null;
  exe: string | null;
  kind: ItemKind;
  fd: number | null;
  path: string;
  path_b64: string;
  dev: string | null;
  inode: U64 | null;
  size: U64 | null;
  nlink: number | null;
  mount_point: string | null;
  fs_type: string | null;
  fs_uuid: string | null;
  source: Array<'proc' | 'lsof'>;
  map_range: string | null;
  lsof_note: string | null;
  /** For a thread with an fd table of its own (pid is its TID): its process's PID; else null. */
  thread_of: number | null;
  /** A lease on the file an open would break, as /proc/locks said it at the snapshot ("LEASE ACTIVE WRITE"), and who set it; else null. */
  lease: string | null;
  lease_pid: number | null;
  /** What to know of its process at a glance (processFlags.ts): a kernel thread's name on a process that is none, an executable run from a memfd; [] for none. */
  process_flags: ProcessFlag[];
}

export interface ItemRow {
  id: number;
  snapshot_id: number;
  pid: number;
  start_time: number | null;
  comm: string | null;
  exe: Buffer | null;
  kind: ItemKind;
  fd: number | null;
  map_range: string | null;
  path: Buffer;
  dev: string | null;
  inode: U64 | null;
  size: U64 | null;
  nlink: number | null;
  mount_point: Buffer | null;
  fs_type: string | null;
  fs_uuid: string | null;
  in_proc: number;
  in_lsof: number;
  lsof_note: string | null;
  /** Birth time in ns since the epoch (decimal text), null where unknown (see LiveItem.btimeNs). */
  btime_ns: string | null;
  thread_of: number | null;
  lease: string | null;
  lease_pid: number | null;
}

const MEMFD_NAME = Buffer.from('/memfd:', 'latin1');

/**
 * A memfd, or the executable run from one (fexecve, execveat of a memfd: fileless malware): the
 * walk's exe link names it "/memfd:NAME" (the kernel's name, byte-exact) on a device no mount lists
 * (the kernel's internal shmem mount), as the walk tells a memfd only mapped. In memory only, gone
 * with its last holder (triage copies it first), and read by unlinked itself like the memfd (no `dd`
 * child, whose copy could not stand for the other's): a memfd and the executable run from it are
 * one file, copied once.
 */
export function ofMemfd(item: Pick<ItemRow, 'kind' | 'in_proc' | 'fs_type' | 'mount_point' | 'path'>): boolean {
  if (item.kind === 'memfd') return true;
  return item.kind === 'exe' && item.in_proc === 1 && item.fs_type === null && item.mount_point === null &&
    item.path.length > MEMFD_NAME.length && item.path.subarray(0, MEMFD_NAME.length).equals(MEMFD_NAME);
}

export function itemJson(row: ItemRow, processFlags: ProcessFlag[]): LiveItemJson {
  const source: Array<'proc' | 'lsof'> = [];
  if (row.in_proc) source.push('proc');
  if (row.in_lsof) source.push('lsof');
  return {
    id: row.id,
    snapshot_id: row.snapshot_id,
    pid: row.pid,
    start_time: row.start_time,
    comm: row.comm,
    exe: row.exe === null ? null : displayBytes(row.exe),
    kind: row.kind,
    fd: row.fd,
    path: displayBytes(row.path),
    path_b64: row.path.toString('base64'),
    dev: row.dev,
    inode: row.inode,
    size: row.size,
    nlink: row.nlink,
    mount_point: row.mount_point === null ? null : displayBytes(row.mount_point),
    fs_type: row.fs_type,
    fs_uuid: row.fs_uuid,
    source,
    map_range: row.map_range,
    lsof_note: row.lsof_note,
    thread_of: row.thread_of,
    lease: row.lease,
    lease_pid: row.lease_pid,
    process_flags: processFlags,
  };
}

export function latestSnapshotId(db: Db): number | null {
  const row = db.prepare(`SELECT id FROM snapshots WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1`).get() as { id: number } | undefined;
  return row?.id ?? null;
}

export function snapshotExists(db: Db, snapshotId: number): boolean {
  return db.prepare(`SELECT 1 FROM snapshots WHERE id = ? AND finished_at IS NOT NULL`).get(snapshotId) !== undefined;
}

/** The columns of an item as ItemRow has them (read each row through exactItem). */
export const ITEM_COLUMNS = `id, snapshot_id, pid, start_time, comm, exe, kind, fd, map_range, path, dev, inode, size, nlink, mount_point, fs_type, fs_uuid, in_proc, in_lsof, lsof_note, btime_ns, thread_of, lease, lease_pid,
  ${exactText('inode', 'inode_text')}, ${exactText('size', 'size_text')}`;

/** An item as read: inode and size come as numbers, with their exact text when past 2^53. */
export type StoredItemRow = ItemRow & { inode_text: string | null; size_text: string | null };

export function exactItem(row: StoredItemRow): ItemRow {
  if (row.inode_text !== null) row.inode = readU64(row.inode, row.inode_text);
  if (row.size_text !== null) row.size = readU64(row.size, row.size_text);
  return row;
}

/** Items of one finished snapshot, or of every finished snapshot (snapshotId null). */
export function listItems(db: Db, snapshotId: number | null): ItemRow[] {
  return [...eachItem(db, snapshotId)];
}

/** listItems one row at a time, as SQLite reads them: what prints them all holds one at a time, not a million. */
export function* eachItem(db: Db, snapshotId: number | null): Generator<ItemRow> {
  const rows = snapshotId === null
    ? db.prepare(`SELECT ${ITEM_COLUMNS} FROM deleted_items ORDER BY snapshot_id, pid, kind, fd, id`).iterate()
    : db.prepare(`SELECT ${ITEM_COLUMNS} FROM deleted_items WHERE snapshot_id = ? ORDER BY pid, kind, fd, id`).iterate(snapshotId);
  for (const row of rows as IterableIterator<StoredItemRow>) yield exactItem(row);
}

export function getItems(db: Db, ids: readonly number[]): ItemRow[] {
  const load = itemLoader(db);
  return ids.map(load).filter((row): row is ItemRow => row !== undefined);
}

/** Reads one item by its id (undefined: no such deleted item). */
export function itemLoader(db: Db): (id: number) => ItemRow | undefined {
  const statement = db.prepare(`SELECT ${ITEM_COLUMNS} FROM deleted_items WHERE id = ?`);
  return (id) => {
    const row = statement.get(id) as StoredItemRow | undefined;
    return row === undefined ? undefined : exactItem(row);
  };
}

/** A snapshot's items by id and size alone: what orders a recover, not their whole rows (100,000 rows took 230 MB). */
export function itemSizes(db: Db, snapshotId: number): Array<{ id: number; size: U64 | null }> {
  const rows = db.prepare(`SELECT id, size, ${exactText('size', 'size_text')} FROM deleted_items WHERE snapshot_id = ?`).all(snapshotId) as Array<{ id: number; size: U64 | null; size_text: string | null }>;
  return rows.map((row) => ({ id: row.id, size: readU64(row.size, row.size_text) }));
}

/** A process's executable and command line as stored (bytes; null where not read). */
export interface ProcessCommand {
  exe: Buffer | null;
  cmdline: Buffer | null;
}

/**
 * A reader of each item's process's executable and command line (processes.exe, .cmdline), kept for
 * the last process asked: rows come by snapshot and pid, and a command line (a Java class path) can
 * be hundreds of KB. A thread with an fd table of its own has a row of its own; its exe and command
 * line are its process's.
 */
export function processCommands(db: Db): (snapshotId: number, pid: number) => ProcessCommand {
  const processOf = db.prepare(`SELECT coalesce(p.exe, q.exe) AS exe, coalesce(p.cmdline, q.cmdline) AS cmdline FROM processes p
    LEFT JOIN processes q ON q.snapshot_id = p.snapshot_id AND q.pid = p.thread_of WHERE p.snapshot_id = ? AND p.pid = ?`);
  let last: { key: string; command: ProcessCommand } = { key: '', command: { exe: null, cmdline: null } };
  return (snapshotId, pid) => {
    const key = `${snapshotId}/${pid}`;
    if (last.key !== key) {
      const found = processOf.get(snapshotId, pid) as ProcessCommand | undefined;
      last = { key, command: { exe: found?.exe ?? null, cmdline: found?.cmdline ?? null } };
    }
    return last.command;
  };
}
