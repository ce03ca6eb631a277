// The whole case as one JSON document, records as CONTRACT.md names them; streamed item by item.
import type { Writable } from 'node:stream';
import { TOOL_VERSION } from '../version.js';
import { ITEM_COLUMNS, exactItem, itemJson, processCommands, type StoredItemRow } from '../store/items.js';
import { processFlagReader } from '../store/processFlags.js';
import type { ReportInput } from './registry.js';
import { currentOutput } from './rows.js';
import { SHOWN_INODES, bornSecond, correlate, liveJson, sameFilesystemScans, scanNote } from '../store/images.js';
import { displayBytes, displayCmdline, displayText, textBase64 } from '../util/bytes.js';
import { writeLines } from './stream.js';
import { exactSignedText, exactText, jsonText, readI64, readU64 } from '../util/u64.js';

function* array(name: string, rows: Iterable<unknown>, first = false, shape: (row: unknown) => unknown = (row) => row): Generator<string> {
  yield `${first ? '' : ','}\n"${name}":[`;
  let index = 0;
  for (const row of rows) yield `${index++ === 0 ? '' : ','}\n${jsonText(shape(row))}`;
  yield ']';
}

/** What the JSON report adds to a list --json record: the file's mode, owner and times as the snapshot read them. */
interface ItemFile {
  mode: number | null; uid: number | null; gid: number | null; atime: number | null; mtime: number | null; ctime: number | null;
  atime_text: string | null; mtime_text: string | null; ctime_text: string | null;
}

/** The scan (images row) a record comes from. */
interface ScanOf { image_id: number; image_sha256: string | null; image_scanned_at: string }
type NullableScanOf = { [key in keyof ScanOf]: ScanOf[key] | null };

/** A stamp in nanoseconds stored as its digits (images.mtime_ns), as an exact integer; anything else as it is. */
function nanoseconds(text: string | null): bigint | string | null {
  return text !== null && /^-?\d+$/.test(text) ? BigInt(text) : text;
}

export async function writeJson(input: ReportInput, out: Writable): Promise<void> {
  const { db } = input;
  await writeLines(out, (function* () {
    yield `{"tool":"unlinked","tool_version":${JSON.stringify(TOOL_VERSION)},"generated_at":${JSON.stringify(new Date().toISOString())},"case":${JSON.stringify(input.caseDir)}`;
    yield* array('snapshots', db.prepare(`SELECT id, source, host, boot_id, kernel, tool_version, started_at, finished_at, euid, import_file, import_sha256, lsof_status,
      processes_seen, processes_vanished, processes_unreadable, fds_seen, fds_vanished, warnings FROM snapshots WHERE finished_at IS NOT NULL ORDER BY id`).iterate(), false, (row) => {
      // Stored as JSON text: given as the array of strings it is.
      const record = row as Record<string, unknown>;
      return { ...record, warnings: record['warnings'] === null ? [] : (JSON.parse(String(record['warnings'])) as unknown) };
    });
    // The records of list --json, and what the CSV has of each item besides: its file's mode, owner and
    // times (exact past 2^53, as the CSV has them) and its process's command line (whole, and its bytes).
    const items = db.prepare(`SELECT d.*, t.mode, t.uid, t.gid, t.atime, t.mtime, t.ctime, t.atime_text, t.mtime_text, t.ctime_text
      FROM (SELECT ${ITEM_COLUMNS} FROM deleted_items) d
      JOIN (SELECT id AS file_id, mode, uid, gid, atime, mtime, ctime, ${exactSignedText('atime', 'atime_text')}, ${exactSignedText('mtime', 'mtime_text')},
        ${exactSignedText('ctime', 'ctime_text')} FROM items) t ON t.file_id = d.id
      ORDER BY d.snapshot_id, d.pid, d.kind, d.fd, d.id`);
    const commandOf = processCommands(db);
    const flagsOf = processFlagReader(db);
    yield* array('items', (function* () {
      for (const { mode, uid, gid, atime, mtime, ctime, atime_text: atimeText, mtime_text: mtimeText, ctime_text: ctimeText, ...row } of items.iterate() as IterableIterator<StoredItemRow & ItemFile>) {
        const { cmdline } = commandOf(row.snapshot_id, row.pid);
        yield {
          ...itemJson(exactItem(row), flagsOf(row.snapshot_id, row.pid, row.comm)), mode, uid, gid,
          atime: readI64(atime, atimeText), mtime: readI64(mtime, mtimeText), ctime: readI64(ctime, ctimeText), crtime: bornSecond(row.btime_ns),
          cmdline: cmdline === null ? null : displayCmdline(cmdline), cmdline_b64: cmdline === null ? null : cmdline.toString('base64'),
        };
      }
    })());
    yield* array('recovered', (function* () {
      const rows = db.prepare(`SELECT r.item_id, i.pid, i.fd, i.kind, i.inode, r.output, r.bytes, r.sha256, r.complete, r.note, r.size_at_start, r.size_at_end, r.started_at, r.finished_at,
        ${exactText('i.inode', 'inode_text')} FROM recoveries r JOIN items i ON i.id = r.item_id ORDER BY r.id`);
      for (const { inode_text: inodeText, ...row } of rows.iterate() as IterableIterator<Record<string, unknown> & { inode: number | null; inode_text: string | null }>) {
        yield { ...row, inode: readU64(row.inode, inodeText), output: currentOutput(input.caseDir, row['output'] as string | null), complete: row['complete'] === 1 };
      }
    })());
    yield* array('images', (function* () {
      // Each image or device scanned: its path, its sha256 (and the second one of --verify), when, and its file systems.
      const filesystems = db.prepare(`SELECT offset_sectors, fs_type, fs_uuid, label, last_mounted_at, last_mount_point, block_size, inode_count, orphan_file, last_orphan, partial, device, error
        FROM image_filesystems WHERE image_id = ? ORDER BY offset_sectors, id`);
      const rows = db.prepare(`SELECT id, path, is_device, size, sha256, sha256_after, unchanged_after, mtime_ns, ctime_ns, scanned_at, partition_table FROM images ORDER BY id`);
      for (const row of rows.iterate() as IterableIterator<Record<string, unknown> & { id: number; path: string; is_device: number; unchanged_after: number | null; mtime_ns: string | null; ctime_ns: string | null }>) {
        yield {
          ...row, path: displayText(row.path), path_b64: textBase64(row.path), is_device: row.is_device === 1, unchanged_after: row.unchanged_after === null ? null : row.unchanged_after === 1,
          // Stored as text (nanoseconds pass 2^53): written as the exact integers they are, as inodes and sizes are.
          mtime_ns: nanoseconds(row.mtime_ns), ctime_ns: nanoseconds(row.ctime_ns),
          filesystems: (filesystems.all(row.id) as Array<Record<string, unknown> & { orphan_file: number; partial: number | null }>).map((fs) => ({
            ...fs, orphan_file: fs.orphan_file === 1, partial: fs.partial === null ? null : fs.partial === 1,
          })),
        };
      }
    })());
    yield* array('image_inodes', (function* () {
      // last_name: the name fls found (display form, as image scan --json has it), its bytes in last_name_b64.
      // One record per inode of each file system, from its latest scan that lists it, as the CSV rows (SHOWN_INODES).
      const rows = db.prepare(`${SHOWN_INODES.with} SELECT n.id AS image_inode_id, im.path AS image, f.offset_sectors, f.fs_type, f.fs_uuid, n.inode, n.size, n.mode, n.uid, n.gid, n.atime, n.mtime, n.ctime, n.dtime, n.state, n.recoverable,
        n.found_by, n.last_name, n.last_name_exact, n.crtime, n.note, f.partial AS fs_partial, f.error AS fs_error, ${exactText('n.size', 'size_text')},
        im.id AS image_id, im.sha256 AS image_sha256, im.scanned_at AS image_scanned_at FROM image_inodes n ${SHOWN_INODES.join} JOIN image_filesystems f ON f.id = n.filesystem_id JOIN images im ON im.id = f.image_id
        WHERE ${SHOWN_INODES.where} ORDER BY ${SHOWN_INODES.latestFs}, n.inode`);
      // The live items each inode matches (by file system UUID and inode), as image scan --json has them.
      const matched = new Map(correlate(db).map((match) => [match.image_inode_id, match]));
      for (const { image_inode_id: id, last_name: lastName, last_name_exact: lastNameExact, crtime, fs_partial: fsPartial, fs_error: fsError, size_text: sizeText, image_id: imageId,
        image_sha256: imageSha256, image_scanned_at: imageScannedAt, ...row } of rows.iterate(sameFilesystemScans(db)) as IterableIterator<
        Record<string, unknown> & { image_inode_id: number; image: string; offset_sectors: number; last_name: Buffer | null; last_name_exact: number | null; crtime: number | null; fs_partial: number | null; fs_error: string | null; size: number | null; size_text: string | null } & ScanOf
      >) {
        const match = matched.get(id);
        yield {
          // Its image_inodes.id: what extracted[].image_inode_id names, and the CSV's id (key image-ID).
          id, ...row, size: readU64(row.size, sizeText), recoverable: row['recoverable'] === 1, last_name: lastName === null ? null : displayBytes(lastName),
          last_name_b64: lastName === null ? null : lastName.toString('base64'), crtime,
          // false: fls printed '^' where the name may hold control bytes: not the exact name.
          last_name_exact: lastName === null || lastNameExact === null ? null : lastNameExact === 1,
          live: (match?.live ?? []).map(liveJson),
          live_ambiguous: match?.ambiguous ?? false,
          live_ambiguous_why: match?.reasons ?? [],
          scan_note: scanNote(row.offset_sectors, fsPartial, fsError),
          // The image as images[].path has it (display form), and its bytes: image_b64 = path_b64 joins them.
          image: displayText(row.image), image_b64: textBase64(row.image),
          // The scan it comes from (images[].id), and the image's content as that scan read it: inodes of two contents of one path are told apart.
          image_id: imageId, image_sha256: imageSha256, image_scanned_at: imageScannedAt,
        };
      }
    })());
    yield* array('extracted', (function* () {
      // scan_note: of the scan that listed the inode, as image extract --json has it.
      const rows = db.prepare(`SELECT e.image, e.offset_sectors, e.inode, e.output, e.bytes, e.sha256, e.complete, e.method, e.note, e.live_item_id, e.live_sha256_match,
        f.partial AS fs_partial, f.error AS fs_error, e.image_id, im.sha256 AS image_sha256, im.scanned_at AS image_scanned_at, e.image_inode_id
        FROM extractions e LEFT JOIN image_inodes n ON n.id = e.image_inode_id LEFT JOIN image_filesystems f ON f.id = n.filesystem_id
        LEFT JOIN images im ON im.id = e.image_id ORDER BY e.id`);
      for (const { fs_partial: fsPartial, fs_error: fsError, image_id: imageId, image_sha256: imageSha256, image_scanned_at: imageScannedAt, image_inode_id: imageInodeId, ...row } of
        rows.iterate() as IterableIterator<Record<string, unknown> & { image: string; offset_sectors: number; fs_partial: number | null; fs_error: string | null; image_inode_id: number | null } & NullableScanOf>) {
        const match = row['live_sha256_match'];
        yield {
          ...row, output: currentOutput(input.caseDir, row['output'] as string | null), complete: row['complete'] === 1, live_sha256_match: match === null ? null : match === 1,
          scan_note: scanNote(row.offset_sectors, fsPartial, fsError),
          image: displayText(row.image), image_b64: textBase64(row.image),
          // The scan of the image as it was copied and the image inode record copied (null: by its number, which no scan listed).
          image_id: imageId, image_sha256: imageSha256, image_scanned_at: imageScannedAt, image_inode_id: imageInodeId,
        };
      }
    })());
    yield* array('commands', (function* () {
      const rows = db.prepare(`SELECT program, path, version, argv, requests, exit_code, error, started_at, finished_at FROM commands ORDER BY id`);
      for (const row of rows.iterate() as IterableIterator<Record<string, unknown>>) yield { ...row, argv: JSON.parse(String(row['argv'])) as unknown };
    })());
    yield '\n}\n';
  })());
}
