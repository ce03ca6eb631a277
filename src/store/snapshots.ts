import os from 'node:os';
import fs from 'node:fs';
import type { Db } from './db.js';
import { nowIso } from './db.js';
import { FD_NUMBERS, type ItemRevision, type WalkResult } from '../proc/types.js';
import { BatchInsert, sqlInteger } from './batch.js';
import type { WalkChunk } from '../proc/walk.js';
import { sqlU64 } from '../util/u64.js';

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
    bootId: currentBootId(),
    kernel: `${os.type()} ${os.release()} ${os.version()}`,
    toolVersion,
    startedAt,
    euid: process.geteuid?.() ?? null,
  };
}

/** This boot's id: a snapshot of another boot describes processes that are gone. */
export function currentBootId(): string | null {
  return readTrimmed('/proc/sys/kernel/random/boot_id');
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

/** Kernel bytes travel as latin1 strings (RawBytes); they are stored as BLOBs. */
function raw(value: string): Buffer;
function raw(value: string | null): Buffer | null;
function raw(value: string | null): Buffer | null {
  return value === null ? null : Buffer.from(value, 'latin1');
}

const bool = (value: boolean | null): number | null => (value === null ? null : value ? 1 : 0);

/** A number of FdColumns: NaN stands for unknown (NULL). */
const known = (value: number | undefined): number | null => (value === undefined || Number.isNaN(value) ? null : value);

/**
 * Writes what a walk saw under one snapshot id, chunk by chunk as the walk proceeds, many rows per
 * statement. The caller holds the transaction open around all of it; finish() writes the last rows.
 */
export class WalkWriter {
  private readonly processes;
  private readonly fds;
  private readonly maps;
  private readonly items;

  constructor(
    private readonly db: Db,
    readonly snapshotId: number,
  ) {
    const id = sqlInteger(snapshotId);
    this.processes = new BatchInsert(
      db,
      `INSERT INTO processes (snapshot_id, pid, ppid, start_time, state, uid, comm, cmdline, exe, exe_deleted, exe_dev, exe_inode, mnt_ns, pid_ns, cgroup, read_error, thread_of)`,
      `(${id}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.fds = new BatchInsert(db, `INSERT INTO fds (snapshot_id, pid, fd, target, dev, inode, mode, size, nlink, pos, flags, mnt_id)`, `(${id}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.maps = new BatchInsert(
      db,
      `INSERT OR IGNORE INTO maps (snapshot_id, pid, range, perms, offset, maps_dev, inode, path, dev, size, nlink, stat_error)`,
      `(${id}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.items = new BatchInsert(
      db,
      `INSERT INTO items (snapshot_id, pid, start_time, comm, exe, kind, fd, map_range, path, dev, inode, size, nlink, mode, uid, gid, atime, mtime, ctime, btime_ns, pos, flags, mnt_id, mnt_ns, mount_point, fs_type, fs_uuid, lease, lease_pid, upper_dev, upper_fs_uuid, in_proc, in_lsof)`,
      `(${id}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 0)`,
    );
  }

  writeChunk(chunk: WalkChunk): void {
    // Parents first: the fds and maps batches reference process rows (foreign keys). A process walked
    // in parts has its row in the chunk that ends it, after its first fds and maps (checked at the commit).
    for (const p of chunk.processes) {
      this.processes.add(p.pid, p.ppid, p.startTime, p.state, p.uid, p.comm, raw(p.cmdline), raw(p.exe), bool(p.exeDeleted), p.exeDev, sqlU64(p.exeInode), p.mntNs, p.pidNs, p.cgroup, p.readError, p.threadOf);
    }
    this.processes.flush();
    const { count, numbers, devs } = chunk.fds;
    const targets = chunk.fds.targets.split('\0');
    // The values past 2^53 that the numbers array could not hold (rare: usually none).
    const exact = new Map(chunk.fds.exact.map(([index, column, value]) => [index * FD_NUMBERS + column, sqlU64(value)]));
    const u64At = exact.size === 0 ? (at: number) => known(numbers[at]) : (at: number) => exact.get(at) ?? known(numbers[at]);
    for (let index = 0, at = 0; index < count; index++, at += FD_NUMBERS) {
      this.fds.add(
        numbers[at] ?? null, numbers[at + 1] ?? null, raw(targets[index] ?? ''), devs[index] ?? null, u64At(at + 2), known(numbers[at + 3]),
        u64At(at + 4), known(numbers[at + 5]), u64At(at + 6), known(numbers[at + 7]), known(numbers[at + 8]),
      );
    }
    for (const [pid, range, perms, offset, mapsDev, inode, mapPath, dev, size, ...rest] of chunk.maps) {
      this.maps.add(pid, range, perms, sqlU64(offset), mapsDev, sqlU64(inode), raw(mapPath), dev, sqlU64(size), ...rest);
    }
    if (chunk.revisions.length > 0) this.revise(chunk.revisions);
    for (const i of chunk.items) {
      this.items.add(
        i.pid, i.startTime, i.comm, raw(i.exe), i.kind, i.fd, i.mapRange, raw(i.path), i.dev, sqlU64(i.inode), sqlU64(i.size), i.nlink, i.mode, i.uid, i.gid, i.atime,
        i.mtime, i.ctime, i.btimeNs, sqlU64(i.pos), i.flags, i.mntId, i.mntNs, raw(i.mountPoint), i.fsType, i.fsUuid, i.lease, i.leasePid, i.upperDev, i.upperFsUuid,
      );
    }
  }

  /**
   * Items of processes walked in parts, stored before their walk ended, changed as the walk changed
   * those it still held (walk.ts). The rows dropped are the last stored: the next get their ids.
   */
  private revise(revisions: readonly ItemRevision[]): void {
    this.items.flush();
    for (const { pid, dropped, exe, birthTimesLost } of revisions) {
      if (dropped) {
        this.db.prepare(`DELETE FROM items WHERE snapshot_id = ? AND pid = ?`).run(this.snapshotId, pid);
        continue;
      }
      if (exe !== null) {
        this.db.prepare(`UPDATE items SET exe = ? WHERE snapshot_id = ? AND pid = ? AND exe IS NULL`).run(raw(exe.name), this.snapshotId, pid);
        this.db.prepare(`UPDATE items SET path = ? WHERE snapshot_id = ? AND pid = ? AND kind = 'exe'`).run(raw(exe.itemPath), this.snapshotId, pid);
      }
      if (birthTimesLost) this.db.prepare(`UPDATE items SET btime_ns = NULL WHERE snapshot_id = ? AND pid = ?`).run(this.snapshotId, pid);
    }
  }

  /** Mounts and counts come once the whole walk is done. */
  finish(walk: WalkResult): void {
    this.writeChunk(walk);
    this.fds.flush();
    this.maps.flush();
    this.items.flush();
    // Times node rounded, read again by the walk's caller (exactTimes.ts): exact, or null as the walk left them.
    if (walk.exactTimes !== undefined && walk.exactTimes.length > 0) {
      const setTimes = this.db.prepare(
        `UPDATE items SET atime = ?, mtime = ?, ctime = ? WHERE snapshot_id = ? AND pid = ? AND kind = ? AND fd IS ? AND map_range IS ? AND in_proc = 1`,
      );
      for (const t of walk.exactTimes) setTimes.run(t.atime, t.mtime, t.ctime, this.snapshotId, t.pid, t.kind, t.fd, t.mapRange);
    }
    const insertMount = this.db.prepare(
      `INSERT OR IGNORE INTO mounts (snapshot_id, mnt_ns, mnt_id, parent_id, dev, root, mount_point, fs_type, source, fs_uuid, options, super_options) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const m of walk.mounts) {
      insertMount.run(this.snapshotId, m.mntNs, m.mntId, m.parentId, m.dev, raw(m.root), raw(m.mountPoint), m.fsType, m.source, m.fsUuid, m.options, m.superOptions);
    }
    this.db
      .prepare(`UPDATE snapshots SET processes_seen = ?, processes_vanished = ?, processes_unreadable = ?, fds_seen = ?, fds_vanished = ? WHERE id = ?`)
      .run(walk.counts.processesSeen, walk.counts.processesVanished, walk.counts.processesUnreadable, walk.counts.fdsSeen, walk.counts.fdsVanished, this.snapshotId);
  }
}

/** A snapshot's counts of processes it could not see whole. */
export interface UnreadCounts {
  source: string;
  processes_seen: number;
  processes_unreadable: number;
  processes_vanished: number;
}

/**
 * What a live snapshot could not see, in words, for the places that show a snapshot (list, HTML): a
 * snapshot of a non-root user that read no other process found "none" only among what it read.
 */
export function unreadSaid(counts: UnreadCounts): string[] {
  if (counts.source !== 'proc') return [];
  const said: string[] = [];
  if (counts.processes_unreadable > 0) {
    said.push(`${counts.processes_unreadable} of ${counts.processes_seen} processes could not be fully read (processes.read_error): a deleted file they hold may be missing from this snapshot`);
  }
  if (counts.processes_vanished > 0) said.push(`${counts.processes_vanished} process${counts.processes_vanished === 1 ? '' : 'es'} exited or changed during the walk (partly read)`);
  return said;
}
