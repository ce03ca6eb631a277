// A fixed case database for report tests: every kind, hostile names, lsof-only, recoveries complete
// and not, an image with orphans (one correlated to a live item), provenance rows.
import path from 'node:path';
import { openCase, type Case } from '../../src/store/db.js';

export const HOSTILE_NAMES: readonly Buffer[] = [
  Buffer.from('/var/log/<img src=x onerror="document.title=\'pwned\'">.log'),
  Buffer.from('/tmp/</script><script>document.title="pwned2"</script>'),
  Buffer.from('/tmp/=HYPERLINK("http://evil.example","click")'),
  Buffer.from("/tmp/=cmd|' /C calc'!A0"),
  Buffer.from('/tmp/new\nline\ttab|pipe "quoted"'),
  Buffer.concat([Buffer.from('/tmp/bad-utf8-'), Buffer.from([0xff, 0xfe]), Buffer.from('.bin')]),
  Buffer.from(`/tmp/${'n'.repeat(255)}`),
  Buffer.from('/tmp/-leading-dash (deleted)'),
];

export function buildReportCase(dir: string): Case {
  const kase = openCase(dir, { create: true });
  const db = kase.db;
  db.exec(`INSERT INTO snapshots (id, source, host, boot_id, kernel, tool_version, started_at, finished_at, euid, processes_seen, fds_seen)
           VALUES (1, 'proc', 'web01', 'b00t', 'Linux 6.1.0 #1 SMP', '0.1.0', '2026-11-24T10:00:00.000Z', '2026-11-24T10:00:01.000Z', 0, 3, 40)`);
  const insertItem = db.prepare(`INSERT INTO items (id, snapshot_id, pid, start_time, comm, exe, kind, fd, map_range, path, dev, inode, size, nlink, mode, uid, gid, atime, mtime, ctime, mount_point, fs_type, fs_uuid, in_proc, in_lsof, lsof_note)
    VALUES (?, 1, ?, 1000, ?, ?, ?, ?, ?, ?, '254:0', ?, ?, 0, 33188, 0, 0, 1795500000, 1795500100, 1795500200, '/', 'ext4', 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', ?, ?, ?)`);
  const kinds = ['fd', 'map', 'exe', 'memfd', 'tmpfile'] as const;
  HOSTILE_NAMES.forEach((name, index) => {
    const kind = kinds[index % kinds.length] ?? 'fd';
    insertItem.run(index + 1, 4242, 'nginx', Buffer.from('/usr/sbin/nginx'), kind, kind === 'map' || kind === 'exe' ? null : index + 3, kind === 'map' ? '7f00-7f01' : null, name, 100 + index, (index + 1) * 1000, 1, 1, null);
  });
  insertItem.run(9, 777, 'sshd', null, 'fd', 9, null, Buffer.from('/tmp/lsof-only (deleted)'), 555, 42, 0, 1, 'seen by lsof only');
  const insertRecovery = db.prepare(`INSERT INTO recoveries (item_id, output, bytes, sha256, complete, note, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, '2026-11-24T10:00:02Z', '2026-11-24T10:00:03Z')`);
  insertRecovery.run(1, path.join(kase.paths.recovered, '1-4242-fd3-x.log'), 1000, 'a'.repeat(64), 1, null);
  insertRecovery.run(2, path.join(kase.paths.recovered, '2-4242-map-y'), 1500, 'b'.repeat(64), 0, 'point-in-time copy: the file grew from 2000 to 3000 bytes');
  db.exec(`INSERT INTO images (id, path, size, sha256, scanned_at) VALUES (1, '/evidence/web01.dd', 67108864, '${'c'.repeat(64)}', '2026-11-24T11:00:00Z')`);
  db.exec(`INSERT INTO image_filesystems (id, image_id, offset_sectors, fs_type, fs_uuid) VALUES (1, 1, 2048, 'ext4', 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee')`);
  db.exec(`INSERT INTO image_inodes (id, filesystem_id, inode, state, found_by, size, mode, uid, gid, nlink, atime, mtime, ctime, dtime, recoverable)
           VALUES (1, 1, 100, 'orphan', 'ils', 1000, 33188, 0, 0, 0, 1795500000, 1795500100, 1795500200, NULL, 1),
                  (2, 1, 300, 'deleted', 'ils', 2048, 33188, 1000, 1000, 0, 1795400000, 1795400100, 1795400200, 1795400300, 0)`);
  db.exec(`INSERT INTO extractions (image_inode_id, image_id, image, offset_sectors, inode, output, bytes, sha256, complete, method, started_at)
           VALUES (1, 1, '/evidence/web01.dd', 2048, 100, '${path.join(kase.paths.extracted, 'web01.dd-2048-100')}', 1000, '${'a'.repeat(64)}', 1, 'icat', '2026-11-24T11:00:01Z')`);
  db.exec(`INSERT INTO commands (program, path, version, argv, exit_code, started_at, finished_at) VALUES ('lsof', '/usr/bin/lsof', 'revision: 4.95.0', '["+L1","-n","-P"]', 0, '2026-11-24T10:00:00Z', '2026-11-24T10:00:01Z')`);
  return kase;
}

/** Findings in the fixed case: 9 live items and 2 image inodes. */
export const REPORT_CASE_FINDINGS = 11;
