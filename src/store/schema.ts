// Numbered migrations, applied in order on open; PRAGMA user_version holds the last one applied.
// Append new migrations at the end; never edit one that has shipped.

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'live snapshot, lsof, recovery, images, provenance',
    sql: `
CREATE TABLE snapshots (
  id INTEGER PRIMARY KEY,
  source TEXT NOT NULL CHECK (source IN ('proc', 'lsof')),
  host TEXT,
  boot_id TEXT,
  kernel TEXT,
  tool_version TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  euid INTEGER,
  import_file TEXT,
  import_sha256 TEXT,
  lsof_status TEXT,
  processes_seen INTEGER NOT NULL DEFAULT 0,
  processes_vanished INTEGER NOT NULL DEFAULT 0,
  processes_unreadable INTEGER NOT NULL DEFAULT 0,
  fds_seen INTEGER NOT NULL DEFAULT 0,
  fds_vanished INTEGER NOT NULL DEFAULT 0,
  warnings TEXT NOT NULL DEFAULT '[]'
);

CREATE TABLE processes (
  snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
  pid INTEGER NOT NULL,
  ppid INTEGER,
  start_time INTEGER,
  state TEXT,
  uid INTEGER,
  comm TEXT,
  cmdline BLOB,
  exe BLOB,
  exe_deleted INTEGER,
  exe_dev TEXT,
  exe_inode INTEGER,
  mnt_ns TEXT,
  pid_ns TEXT,
  cgroup TEXT,
  read_error TEXT,
  PRIMARY KEY (snapshot_id, pid)
) WITHOUT ROWID;

CREATE TABLE fds (
  snapshot_id INTEGER NOT NULL,
  pid INTEGER NOT NULL,
  fd INTEGER NOT NULL,
  target BLOB NOT NULL,
  dev TEXT,
  inode INTEGER,
  mode INTEGER,
  size INTEGER,
  nlink INTEGER,
  pos INTEGER,
  flags INTEGER,
  mnt_id INTEGER,
  PRIMARY KEY (snapshot_id, pid, fd),
  FOREIGN KEY (snapshot_id, pid) REFERENCES processes(snapshot_id, pid) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE maps (
  snapshot_id INTEGER NOT NULL,
  pid INTEGER NOT NULL,
  range TEXT NOT NULL,
  perms TEXT NOT NULL,
  offset INTEGER NOT NULL,
  maps_dev TEXT NOT NULL,
  inode INTEGER NOT NULL,
  path BLOB NOT NULL,
  dev TEXT,
  size INTEGER,
  nlink INTEGER,
  stat_error TEXT,
  PRIMARY KEY (snapshot_id, pid, range),
  FOREIGN KEY (snapshot_id, pid) REFERENCES processes(snapshot_id, pid) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE mounts (
  snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
  mnt_ns TEXT NOT NULL,
  mnt_id INTEGER NOT NULL,
  parent_id INTEGER,
  dev TEXT NOT NULL,
  root BLOB,
  mount_point BLOB NOT NULL,
  fs_type TEXT,
  source TEXT,
  fs_uuid TEXT,
  options TEXT,
  PRIMARY KEY (snapshot_id, mnt_ns, mnt_id)
);

-- One row per deleted-but-open file seen in a snapshot (by the /proc walk, by lsof, or both).
CREATE TABLE items (
  id INTEGER PRIMARY KEY,
  snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
  pid INTEGER NOT NULL,
  start_time INTEGER,
  comm TEXT,
  exe BLOB,
  kind TEXT NOT NULL CHECK (kind IN ('fd', 'map', 'exe', 'memfd', 'tmpfile')),
  fd INTEGER,
  map_range TEXT,
  path BLOB NOT NULL,
  dev TEXT,
  inode INTEGER,
  size INTEGER,
  nlink INTEGER,
  mode INTEGER,
  uid INTEGER,
  gid INTEGER,
  atime INTEGER,
  mtime INTEGER,
  ctime INTEGER,
  pos INTEGER,
  flags INTEGER,
  mnt_id INTEGER,
  mnt_ns TEXT,
  mount_point BLOB,
  fs_type TEXT,
  fs_uuid TEXT,
  in_proc INTEGER NOT NULL DEFAULT 1,
  in_lsof INTEGER NOT NULL DEFAULT 0,
  lsof_note TEXT
);
CREATE INDEX items_snapshot ON items(snapshot_id, pid, fd);
CREATE INDEX items_snapshot_inode ON items(snapshot_id, pid, inode);
CREATE INDEX items_fs_inode ON items(fs_uuid, inode);

-- Every record lsof printed for a snapshot (live run or import), kept as lsof said it.
CREATE TABLE lsof_files (
  id INTEGER PRIMARY KEY,
  snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
  line INTEGER NOT NULL,
  command TEXT,
  pid INTEGER NOT NULL,
  tid INTEGER,
  uid INTEGER,
  user TEXT,
  fd TEXT,
  fd_num INTEGER,
  type TEXT,
  dev TEXT,
  size INTEGER,
  offset INTEGER,
  nlink INTEGER,
  inode INTEGER,
  name BLOB,
  deleted_by_text INTEGER NOT NULL DEFAULT 0,
  item_id INTEGER REFERENCES items(id) ON DELETE SET NULL
);
CREATE INDEX lsof_files_snapshot ON lsof_files(snapshot_id);

CREATE TABLE parse_warnings (
  id INTEGER PRIMARY KEY,
  snapshot_id INTEGER REFERENCES snapshots(id) ON DELETE CASCADE,
  source TEXT NOT NULL,
  line INTEGER,
  message TEXT NOT NULL,
  text TEXT
);

-- One row per copy attempt out of /proc.
CREATE TABLE recoveries (
  id INTEGER PRIMARY KEY,
  item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
  output TEXT,
  bytes INTEGER NOT NULL DEFAULT 0,
  sha256 TEXT,
  complete INTEGER NOT NULL DEFAULT 0,
  note TEXT,
  size_at_start INTEGER,
  size_at_end INTEGER,
  sparse INTEGER NOT NULL DEFAULT 0,
  followed INTEGER NOT NULL DEFAULT 0,
  started_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE INDEX recoveries_item ON recoveries(item_id);

CREATE TABLE images (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL,
  is_device INTEGER NOT NULL DEFAULT 0,
  size INTEGER,
  sha256 TEXT,
  sha256_after TEXT,
  scanned_at TEXT NOT NULL,
  partition_table TEXT
);

CREATE TABLE image_filesystems (
  id INTEGER PRIMARY KEY,
  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  offset_sectors INTEGER NOT NULL,
  fs_type TEXT,
  fs_uuid TEXT,
  label TEXT,
  last_mounted_at INTEGER,
  last_mount_point TEXT,
  block_size INTEGER,
  inode_count INTEGER,
  orphan_file INTEGER NOT NULL DEFAULT 0,
  last_orphan INTEGER,
  error TEXT
);

CREATE TABLE image_inodes (
  id INTEGER PRIMARY KEY,
  filesystem_id INTEGER NOT NULL REFERENCES image_filesystems(id) ON DELETE CASCADE,
  inode INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('orphan', 'deleted')),
  found_by TEXT NOT NULL,
  size INTEGER,
  mode INTEGER,
  mode_string TEXT,
  uid INTEGER,
  gid INTEGER,
  nlink INTEGER,
  atime INTEGER,
  mtime INTEGER,
  ctime INTEGER,
  crtime INTEGER,
  dtime INTEGER,
  recoverable INTEGER NOT NULL DEFAULT 0,
  blocks INTEGER,
  last_name BLOB,
  UNIQUE (filesystem_id, inode)
);

CREATE TABLE extractions (
  id INTEGER PRIMARY KEY,
  image_inode_id INTEGER REFERENCES image_inodes(id) ON DELETE SET NULL,
  image TEXT NOT NULL,
  offset_sectors INTEGER NOT NULL,
  inode INTEGER NOT NULL,
  output TEXT,
  bytes INTEGER NOT NULL DEFAULT 0,
  sha256 TEXT,
  complete INTEGER NOT NULL DEFAULT 0,
  method TEXT CHECK (method IN ('icat', 'debugfs')),
  note TEXT,
  live_item_id INTEGER REFERENCES items(id) ON DELETE SET NULL,
  live_sha256_match INTEGER,
  started_at TEXT NOT NULL,
  finished_at TEXT
);

-- Provenance: every external command run, with its version and outcome.
CREATE TABLE commands (
  id INTEGER PRIMARY KEY,
  program TEXT NOT NULL,
  path TEXT,
  version TEXT,
  argv TEXT NOT NULL,
  exit_code INTEGER,
  error TEXT,
  started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL
);

CREATE VIEW deleted_items AS
SELECT
  i.id, i.snapshot_id, i.pid, i.start_time, i.comm, i.exe, i.kind, i.fd, i.map_range,
  i.path, i.dev, i.inode, i.size, i.nlink, i.mount_point, i.fs_type, i.fs_uuid,
  i.in_proc, i.in_lsof, i.lsof_note, s.host, s.source AS snapshot_source, s.started_at AS snapshot_at
FROM items i JOIN snapshots s ON s.id = i.snapshot_id
WHERE s.finished_at IS NOT NULL;
`,
  },
  {
    version: 2,
    name: 'drop items_snapshot_inode: items_snapshot (snapshot_id, pid, fd) serves the lookups by pid and inode',
    // A lookup of a mapped file (fd IS NULL) walks the few map and exe items of one process; the
    // extra index cost 10% of a 100,000-item lsof import.
    sql: `DROP INDEX IF EXISTS items_snapshot_inode;`,
  },
  {
    version: 3,
    name: 'images: the image file\'s mtime and ctime when scanned, and whether they held (the proof of an unchanged image without a second full read)',
    sql: `ALTER TABLE images ADD COLUMN mtime_ns TEXT;
ALTER TABLE images ADD COLUMN ctime_ns TEXT;
ALTER TABLE images ADD COLUMN unchanged_after INTEGER;`,
  },
  {
    version: 4,
    name: 'image_inodes.last_name_exact: fls prints control bytes of a name as "^", so such a name is not the exact one',
    sql: `ALTER TABLE image_inodes ADD COLUMN last_name_exact INTEGER;`,
  },
  {
    version: 5,
    name: 'mounts.super_options: the super block options of mountinfo (an overlay\'s upperdir and workdir: the disk its files are written to)',
    sql: `ALTER TABLE mounts ADD COLUMN super_options TEXT;`,
  },
  {
    version: 6,
    name: 'items.btime_ns: the birth time of the file, so custody tells it from a later file given the same (reused) inode number',
    sql: `ALTER TABLE items ADD COLUMN btime_ns TEXT;
DROP VIEW deleted_items;
CREATE VIEW deleted_items AS
SELECT
  i.id, i.snapshot_id, i.pid, i.start_time, i.comm, i.exe, i.kind, i.fd, i.map_range,
  i.path, i.dev, i.inode, i.size, i.nlink, i.mount_point, i.fs_type, i.fs_uuid,
  i.in_proc, i.in_lsof, i.lsof_note, s.host, s.source AS snapshot_source, s.started_at AS snapshot_at, i.btime_ns
FROM items i JOIN snapshots s ON s.id = i.snapshot_id
WHERE s.finished_at IS NOT NULL;`,
  },
  {
    version: 7,
    name: 'processes.thread_of: a thread with an fd table of its own is walked as a row of its own (pid = its TID), thread_of naming its process',
    sql: `ALTER TABLE processes ADD COLUMN thread_of INTEGER;
DROP VIEW deleted_items;
CREATE VIEW deleted_items AS
SELECT
  i.id, i.snapshot_id, i.pid, i.start_time, i.comm, i.exe, i.kind, i.fd, i.map_range,
  i.path, i.dev, i.inode, i.size, i.nlink, i.mount_point, i.fs_type, i.fs_uuid,
  i.in_proc, i.in_lsof, i.lsof_note, s.host, s.source AS snapshot_source, s.started_at AS snapshot_at, i.btime_ns, p.thread_of
FROM items i JOIN snapshots s ON s.id = i.snapshot_id
LEFT JOIN processes p ON p.snapshot_id = i.snapshot_id AND p.pid = i.pid
WHERE s.finished_at IS NOT NULL;`,
  },
  {
    version: 8,
    name: 'image_filesystems.partial: the scan did not see all of the file system (a tool that stopped, inodes not described, a truncated image), so a later extract --all of its list says so',
    sql: `ALTER TABLE image_filesystems ADD COLUMN partial INTEGER;`,
  },
  {
    version: 9,
    name: 'image_filesystems.device: MAJ:MIN of the block device holding a file system scanned on a device, so live items are matched by device too',
    sql: `ALTER TABLE image_filesystems ADD COLUMN device TEXT;`,
  },
  {
    version: 10,
    name: 'the nil UUID (all zeros: tune2fs -U clear) is no UUID: NULL in items, mounts and image_filesystems, so two unrelated file systems without one are never matched by it; a comparison an older unlinked made through it is withdrawn, said in the extraction\'s note',
    sql: `UPDATE extractions SET
  note = CASE WHEN note IS NULL THEN '' ELSE note || '; ' END || 'withdrawn: the comparison with live item ' || live_item_id ||
    ' was made by an older unlinked through the nil UUID (all zeros), which is no UUID and matched file systems that may be unrelated; extract again to compare it as the same device, if it is',
  live_item_id = NULL, live_sha256_match = NULL
  WHERE live_item_id IN (SELECT id FROM items WHERE fs_uuid = '00000000-0000-0000-0000-000000000000');
UPDATE items SET fs_uuid = NULL WHERE fs_uuid = '00000000-0000-0000-0000-000000000000';
UPDATE mounts SET fs_uuid = NULL WHERE fs_uuid = '00000000-0000-0000-0000-000000000000';
UPDATE image_filesystems SET fs_uuid = NULL WHERE fs_uuid = '00000000-0000-0000-0000-000000000000';`,
  },
  {
    version: 11,
    name: 'image_inodes.note: what a reader must know of the inode itself (an orphan that points at no data block: all holes, its size read as zeros)',
    sql: `ALTER TABLE image_inodes ADD COLUMN note TEXT;`,
  },
  {
    version: 12,
    name: 'extractions.image_id: the scan (images row) of the image as it was copied, also for an inode copied by its number that no scan listed; image_inodes.last_name_type: the type of its deleted name\'s directory entry, as fls printed it (the bodyfile\'s first mode letter)',
    // Extractions made before it name their scan through their image inode, where they have one; the others stay NULL (not known).
    sql: `ALTER TABLE extractions ADD COLUMN image_id INTEGER REFERENCES images(id) ON DELETE SET NULL;
UPDATE extractions SET image_id = (SELECT f.image_id FROM image_inodes n JOIN image_filesystems f ON f.id = n.filesystem_id WHERE n.id = extractions.image_inode_id)
  WHERE image_inode_id IS NOT NULL;
ALTER TABLE image_inodes ADD COLUMN last_name_type TEXT;`,
  },
  {
    version: 13,
    name: 'extractions.image_size, image_mtime_ns, image_ctime_ns: the image file as it was copied, so that a scan made later of that very content is the copy\'s scan (a copy by number made before it joins its finding)',
    // Rows made before it did not keep the image's stamp: NULL, never matched with a later scan.
    sql: `ALTER TABLE extractions ADD COLUMN image_size INTEGER;
ALTER TABLE extractions ADD COLUMN image_mtime_ns TEXT;
ALTER TABLE extractions ADD COLUMN image_ctime_ns TEXT;`,
  },
  {
    version: 14,
    name: 'commands.finished_at may be NULL: the row of a program whose output goes into the case (icat, debugfs dump, dd) is written as it starts, and ends empty when unlinked was killed while it ran',
    // SQLite cannot drop a NOT NULL: the table is made again, its rows and ids kept.
    sql: `CREATE TABLE commands_new (
  id INTEGER PRIMARY KEY,
  program TEXT NOT NULL,
  path TEXT,
  version TEXT,
  argv TEXT NOT NULL,
  exit_code INTEGER,
  error TEXT,
  started_at TEXT NOT NULL,
  finished_at TEXT
);
INSERT INTO commands_new (id, program, path, version, argv, exit_code, error, started_at, finished_at)
  SELECT id, program, path, version, argv, exit_code, error, started_at, finished_at FROM commands;
DROP TABLE commands;
ALTER TABLE commands_new RENAME TO commands;`,
  },
  {
    version: 15,
    name: 'items.lease, items.lease_pid: a write lease (fcntl F_SETLEASE) on the file when the snapshot was taken, which an open of it (recover) would break, signalling its holder',
    sql: `ALTER TABLE items ADD COLUMN lease TEXT;
ALTER TABLE items ADD COLUMN lease_pid INTEGER;
DROP VIEW deleted_items;
CREATE VIEW deleted_items AS
SELECT
  i.id, i.snapshot_id, i.pid, i.start_time, i.comm, i.exe, i.kind, i.fd, i.map_range,
  i.path, i.dev, i.inode, i.size, i.nlink, i.mount_point, i.fs_type, i.fs_uuid,
  i.in_proc, i.in_lsof, i.lsof_note, s.host, s.source AS snapshot_source, s.started_at AS snapshot_at, i.btime_ns, p.thread_of, i.lease, i.lease_pid
FROM items i JOIN snapshots s ON s.id = i.snapshot_id
LEFT JOIN processes p ON p.snapshot_id = i.snapshot_id AND p.pid = i.pid
WHERE s.finished_at IS NOT NULL;`,
  },
  {
    version: 16,
    name: 'items.upper_dev, items.upper_fs_uuid: for an item held through an overlay whose inode numbers are one file system\'s, the device and UUID of the file system its upper directory is on, so an image of that file system is matched with it',
    sql: `ALTER TABLE items ADD COLUMN upper_dev TEXT;
ALTER TABLE items ADD COLUMN upper_fs_uuid TEXT;
DROP VIEW deleted_items;
CREATE VIEW deleted_items AS
SELECT
  i.id, i.snapshot_id, i.pid, i.start_time, i.comm, i.exe, i.kind, i.fd, i.map_range,
  i.path, i.dev, i.inode, i.size, i.nlink, i.mount_point, i.fs_type, i.fs_uuid,
  i.in_proc, i.in_lsof, i.lsof_note, s.host, s.source AS snapshot_source, s.started_at AS snapshot_at, i.btime_ns, p.thread_of, i.lease, i.lease_pid,
  i.upper_dev, i.upper_fs_uuid
FROM items i JOIN snapshots s ON s.id = i.snapshot_id
LEFT JOIN processes p ON p.snapshot_id = i.snapshot_id AND p.pid = i.pid
WHERE s.finished_at IS NOT NULL;`,
  },
  {
    version: 17,
    name: 'an index on every foreign key\'s own columns: a snapshot (its foreign keys checked at its commit, see snapshotTransaction.ts) looked up lsof_files.item_id for every item it added, reading every lsof record of the case each time (the second snapshot with lsof of a busy host took 2.5 times as long as the first, the third 4.5 times)',
    sql: `CREATE INDEX IF NOT EXISTS lsof_files_item ON lsof_files(item_id);
CREATE INDEX IF NOT EXISTS parse_warnings_snapshot ON parse_warnings(snapshot_id);
CREATE INDEX IF NOT EXISTS image_filesystems_image ON image_filesystems(image_id);
CREATE INDEX IF NOT EXISTS extractions_image ON extractions(image_id);
CREATE INDEX IF NOT EXISTS extractions_live_item ON extractions(live_item_id);
CREATE INDEX IF NOT EXISTS extractions_image_inode ON extractions(image_inode_id);`,
  },
  {
    version: 18,
    name: 'commands.requests: the text of the requests a program read from a file its argv names (debugfs -f FILE, a scratch file removed after the run): which inodes it was asked about, so the record can be replayed',
    sql: `ALTER TABLE commands ADD COLUMN requests TEXT;`,
  },
];
