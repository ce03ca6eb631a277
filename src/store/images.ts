// Image findings as CONTRACT.md names them, and their correlation with live items: same file system
// UUID and inode number means "this inode was held open by that process at snapshot time".
import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';
import { displayBytes } from '../util/bytes.js';

export interface LiveHolder {
  item_id: number;
  snapshot_id: number;
  pid: number;
  comm: string | null;
  fd: number | null;
  kind: string;
}

export interface ImageInodeJson {
  image: string;
  offset_sectors: number;
  fs_type: string | null;
  fs_uuid: string | null;
  inode: number;
  size: number | null;
  mode: number | null;
  uid: number | null;
  gid: number | null;
  atime: number | null;
  mtime: number | null;
  ctime: number | null;
  dtime: number | null;
  state: 'orphan' | 'deleted';
  recoverable: boolean;
  found_by: string;
  last_name: string | null;
  /** Live items of the case on the same fs UUID with the same inode number. */
  live: LiveHolder[];
  /** Several processes or snapshots, or a deleted (not orphan) inode whose number may have been reused. */
  live_ambiguous: boolean;
}

interface InodeRow {
  id: number; image: string; offset_sectors: number; fs_type: string | null; fs_uuid: string | null; inode: number; size: number | null; mode: number | null;
  uid: number | null; gid: number | null; atime: number | null; mtime: number | null; ctime: number | null; dtime: number | null; state: 'orphan' | 'deleted';
  recoverable: number; found_by: string; last_name: Buffer | null;
}

const holderStatements = new WeakMap<Db, Statement<[string, number]>>();

export function liveHolders(db: Db, fsUuid: string | null, inode: number): LiveHolder[] {
  if (fsUuid === null) return [];
  let statement = holderStatements.get(db);
  if (statement === undefined) {
    statement = db.prepare<[string, number]>(`SELECT id AS item_id, snapshot_id, pid, comm, fd, kind FROM deleted_items WHERE fs_uuid = ? AND inode = ? ORDER BY snapshot_id, pid, fd`);
    holderStatements.set(db, statement);
  }
  return statement.all(fsUuid, inode) as LiveHolder[];
}

export function imageInodesOf(db: Db, imageId: number): Array<ImageInodeJson & { image_inode_id: number }> {
  const rows = db
    .prepare(
      `SELECT n.id, im.path AS image, f.offset_sectors, f.fs_type, f.fs_uuid, n.inode, n.size, n.mode, n.uid, n.gid, n.atime, n.mtime, n.ctime, n.dtime, n.state,
              n.recoverable, n.found_by, n.last_name
       FROM image_inodes n JOIN image_filesystems f ON f.id = n.filesystem_id JOIN images im ON im.id = f.image_id
       WHERE im.id = ? ORDER BY f.offset_sectors, n.inode`,
    )
    .all(imageId) as InodeRow[];
  return rows.map((row) => {
    const live = liveHolders(db, row.fs_uuid, row.inode);
    const holders = new Set(live.map((holder) => holder.pid));
    return {
      image_inode_id: row.id,
      image: row.image, offset_sectors: row.offset_sectors, fs_type: row.fs_type, fs_uuid: row.fs_uuid, inode: row.inode, size: row.size, mode: row.mode,
      uid: row.uid, gid: row.gid, atime: row.atime, mtime: row.mtime, ctime: row.ctime, dtime: row.dtime, state: row.state, recoverable: row.recoverable === 1,
      found_by: row.found_by, last_name: row.last_name === null ? null : displayBytes(row.last_name),
      live,
      live_ambiguous: holders.size > 1 || (live.length > 0 && row.state === 'deleted'),
    };
  });
}

/** The newest scan of this image path, if any. */
export function latestImageId(db: Db, imagePath: string): number | null {
  const row = db.prepare(`SELECT max(id) AS id FROM images WHERE path = ?`).get(imagePath) as { id: number | null };
  return row.id;
}
