import os from 'node:os';
import fs from 'node:fs';
import type { Db } from './db.js';
import { nowIso } from './db.js';
import type { LiveItem, WalkResult } from '../proc/types.js';

export interface SnapshotMeta {
  source: 'proc' | 'lsof';
  host: string | null;
  bootId: string | null;
  kernel: string | null;
  toolVersion: string;
  startedAt: string;
  euid: number | null;
  importFile?: string | null;
  importSha256?: string | null;
}

export function hostMeta(toolVersion: string, startedAt: string): SnapshotMeta {
  return {
    source: 'proc',
    host: os.hostname(),
    bootId: readTrimmed('/proc/sys/kernel/random/boot_id'),
    kernel: `${os.type()} ${os.release()} ${os.version()}`,
    toolVersion,
    startedAt,
    euid: process.geteuid?.() ?? null,
  };
}

function readTrimmed(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

/** A snapshot row that is not finished yet: finished_at stays NULL until its transaction commits. */
export function insertSnapshotRow(db: Db, meta: SnapshotMeta): number {
  const info = db
    .prepare(
      `INSERT INTO snapshots (source, host, boot_id, kernel, tool_version, started_at, euid, import_file, import_sha256)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(meta.source, meta.host, meta.bootId, meta.kernel, meta.toolVersion, meta.startedAt, meta.euid, meta.importFile ?? null, meta.importSha256 ?? null);
  return Number(info.lastInsertRowid);
}

export function finishSnapshot(db: Db, snapshotId: number, fields: { lsofStatus?: string | null; warnings?: readonly string[] }): void {
  db.prepare(`UPDATE snapshots SET finished_at = ?, lsof_status = coalesce(?, lsof_status), warnings = ? WHERE id = ?`).run(
    nowIso(),
    fields.lsofStatus ?? null,
    JSON.stringify(fields.warnings ?? []),
    snapshotId,
  );
}

const bool = (value: boolean | null): number | null => (value === null ? null : value ? 1 : 0);

/** Store everything a walk saw under one snapshot id. Call inside a transaction. */
export function storeWalk(db: Db, snapshotId: number, walk: WalkResult): Map<LiveItem, number> {
  const insertProcess = db.prepare(
    `INSERT INTO processes (snapshot_id, pid, ppid, start_time, state, uid, comm, cmdline, exe, exe_deleted, exe_dev, exe_inode, mnt_ns, pid_ns, cgroup, read_error)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const p of walk.processes) {
    insertProcess.run(snapshotId, p.pid, p.ppid, p.startTime, p.state, p.uid, p.comm, p.cmdline, p.exe, bool(p.exeDeleted), p.exeDev, p.exeInode, p.mntNs, p.pidNs, p.cgroup, p.readError);
  }
  const insertFd = db.prepare(
    `INSERT INTO fds (snapshot_id, pid, fd, target, dev, inode, mode, size, nlink, pos, flags, mnt_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const f of walk.fds) {
    insertFd.run(snapshotId, f.pid, f.fd, f.target, f.dev, f.inode, f.mode, f.size, f.nlink, f.pos, f.flags, f.mntId);
  }
  const insertMap = db.prepare(
    `INSERT OR IGNORE INTO maps (snapshot_id, pid, range, perms, offset, maps_dev, inode, path, dev, size, nlink, stat_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const m of walk.maps) {
    insertMap.run(snapshotId, m.pid, m.range, m.perms, m.offset, m.mapsDev, m.inode, m.path, m.dev, m.size, m.nlink, m.statError);
  }
  const insertMount = db.prepare(
    `INSERT OR IGNORE INTO mounts (snapshot_id, mnt_ns, mnt_id, parent_id, dev, root, mount_point, fs_type, source, fs_uuid, options) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const m of walk.mounts) {
    insertMount.run(snapshotId, m.mntNs, m.mntId, m.parentId, m.dev, m.root, m.mountPoint, m.fsType, m.source, m.fsUuid, m.options);
  }
  const ids = new Map<LiveItem, number>();
  const insertItem = db.prepare(
    `INSERT INTO items (snapshot_id, pid, start_time, comm, exe, kind, fd, map_range, path, dev, inode, size, nlink, mode, pos, flags, mnt_id, mnt_ns, mount_point, fs_type, fs_uuid, in_proc, in_lsof)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 0)`,
  );
  for (const i of walk.items) {
    const info = insertItem.run(snapshotId, i.pid, i.startTime, i.comm, i.exe, i.kind, i.fd, i.mapRange, i.path, i.dev, i.inode, i.size, i.nlink, i.mode, i.pos, i.flags, i.mntId, i.mntNs, i.mountPoint, i.fsType, i.fsUuid);
    ids.set(i, Number(info.lastInsertRowid));
  }
  db.prepare(
    `UPDATE snapshots SET processes_seen = ?, processes_vanished = ?, processes_unreadable = ?, fds_seen = ?, fds_vanished = ? WHERE id = ?`,
  ).run(walk.counts.processesSeen, walk.counts.processesVanished, walk.counts.processesUnreadable, walk.counts.fdsSeen, walk.counts.fdsVanished, snapshotId);
  return ids;
}
