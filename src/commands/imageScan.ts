// `unlinked image scan IMAGE [--offset SECTORS]`: orphan and deleted inodes of a raw image or device.
import { EXIT, type ExitCode } from '../errors.js';
import type { CommandContext } from '../cli/context.js';
import { openCase } from '../store/db.js';
import { commandRecorder } from '../store/commands.js';
import { currentBootId } from '../store/snapshots.js';
import { addScanWarnings, correlate, eachImageInode, heldByText, type ImageInodeJson, type ImageInodeRecord } from '../store/images.js';
import { scanImage, scanProblems, type ListGap, type ScanResult } from '../image/scan.js';
import type { ScannedInodes } from '../image/inodeTables.js';
import { checkOffset, openImageSource, refuseCaseOnEvidence } from '../image/source.js';
import type { Db } from '../store/db.js';
import { parseDisplayBytes } from '../util/bytes.js';
import { IMAGE_COMMAND_ADDRESS_SPACE, requireAddressSpace } from '../util/addressSpace.js';
import { jsonArrayLine } from '../report/stream.js';

export interface ImageScanOptions {
  offset?: number;
  verify?: boolean;
}

export async function imageScanCommand(ctx: CommandContext, image: string, options: ImageScanOptions): Promise<ExitCode> {
  requireAddressSpace('image scan', IMAGE_COMMAND_ADDRESS_SPACE, 'the image is hashed in a worker thread, whose V8 reserves address space');
  const source = openImageSource(image);
  // Before the case is made: bad input leaves nothing behind.
  checkOffset(source, options.offset);
  for (const warning of refuseCaseOnEvidence(source, ctx.caseDir)) ctx.warn(warning);
  const kase = openCase(ctx.caseDir, { create: true, onLockWait: (text) => ctx.info(text) });
  try {
    // The scan's own lists (ScanResult) are let go before the records are printed: only its image id and outcome are kept.
    const { imageId, partial } = await scanAndSay(ctx, kase.db, source.path, kase.paths.dir, options);
    // Printed as SQLite reads the records, a piece at a time: a million inodes are no single string.
    if (ctx.json) {
      await ctx.outPieces(jsonArrayLine((function* () {
        for (const record of eachImageInode(kase.db, imageId)) yield toJson(record);
      })()));
    }
    return partial ? EXIT.partial : EXIT.ok;
  } finally {
    kase.close();
  }
}

/** Scan the image into the case and say on stderr what was found (per file system, live items that held its inodes). */
async function scanAndSay(ctx: CommandContext, db: Db, image: string, workDir: string, options: ImageScanOptions): Promise<{ imageId: number; partial: boolean }> {
  const scan = await scanImage(db, image, options.offset, commandRecorder(db), { verify: options.verify === true, workDir, lastStep: true });
  const problems = scanProblems(scan);
  problems.warnings.forEach((warning) => ctx.warn(warning));
  for (const fs of scan.filesystems) {
    if (fs.failure !== null) continue;
    const found = fs.inodes;
    ctx.info(
      `sector ${fs.offsetSectors}: ${fs.fsType ?? '?'} ${fs.fsUuid ?? '(no UUID)'}${fs.label === null ? '' : ` "${fs.label}"`}: ${count(found, 'orphan', fs.unlisted.orphan)}, ${count(found, 'deleted', fs.unlisted.deleted)}`,
    );
  }
  // Only the inodes live items match (one query); the whole list is read back for --json only.
  const matches = correlate(db, { imageId: scan.imageId });
  const hints = [
    ...otherUuidHints(db, scan, new Set(matches.map((match) => match.offset_sectors))),
    ...overlayMisses(db, scan, new Set(matches.flatMap((match) => match.live.map((live) => live.item_id)))),
  ];
  // Kept with the scan's warnings of each file system, where the reports read them: stderr alone loses them.
  addScanWarnings(db, scan.imageId, hints);
  for (const { offsetSectors, warning } of hints) ctx.warn(`sector ${offsetSectors}: ${warning}`);
  for (const match of matches) {
    // As the reports say them (pid, comm, fd or kind, snapshot): one line per holding, none repeated.
    const holders = [...new Set(match.live.map(heldByText))];
    ctx.info(
      `inode ${match.inode} at sector ${match.offset_sectors} was held open by ${holders.join(', ')}` +
        (match.ambiguous ? ` (ambiguous: ${match.reasons.join('; ')})` : ''),
    );
  }
  ctx.info(`image sha256 ${scan.sha256 ?? 'unknown'}${afterScan(scan)}`);
  return { imageId: scan.imageId, partial: problems.partial };
}

/**
 * "2 orphan (2 recoverable)"; a list a tool did not make whole says so, never a bare 0: "deleted
 * inodes not listed (ils -r failed)", "1 orphan (1 recoverable; ils -aL stopped part-way: more may
 * not be listed)" (orphans are also found by the orphan chain and the orphan file).
 */
function count(found: ScannedInodes, state: 'orphan' | 'deleted', unlisted: ListGap | null): string {
  const { all, recoverable } = found.count(state);
  if (unlisted === null) return `${all} ${state} (${recoverable} recoverable)`;
  if (state === 'deleted' && unlisted.none) {
    // What was found anyway came from the orphan chain, the orphan file or fls' names.
    return `deleted inodes not listed (${unlisted.why}${all === 0 ? '' : `; ${all} found otherwise, ${recoverable} recoverable`})`;
  }
  return `${all} ${state} (${recoverable} recoverable; ${unlisted.why}: more may not be listed)`;
}

/** What the scan can say of the image afterwards (a change is also a warning of its own). */
function afterScan(scan: ScanResult): string {
  if (scan.sha256After !== null) return scan.sha256After === scan.sha256 ? ' (read again after the scan: the same)' : ` (read again after the scan: ${scan.sha256After})`;
  if (scan.unchangedAfter === true) return ' (its size, mtime and ctime the same after the scan; --verify reads it again)';
  return '';
}

function toJson({ image_inode_id: _id, blocks: _blocks, block_size: _blockSize, nlink: _nlink, crtime: _crtime, ...record }: ImageInodeRecord): ImageInodeJson {
  return record;
}

/** What the scan says of one of its file systems once compared with the live items: stored with its warnings and said on stderr. */
interface ScanHint { offsetSectors: number; warning: string }

/**
 * Live items held through an overlay whose upper layer is on this file system (matched by its UUID,
 * or by its device in this boot, as correlate matches them) that no inode of it matched: said, as an
 * inode number does not tie them here. A file the overlay copied up from a lower layer shows the
 * number of its lower file, not its own in the upper layer (constant across the copy-up); or the
 * file was made or freed after the image was taken.
 */
function overlayMisses(db: Db, scan: ScanResult, matched: ReadonlySet<number>): ScanHint[] {
  const hints: ScanHint[] = [];
  const lookup = db.prepare(
    `SELECT i.id, i.pid, i.inode FROM deleted_items i
     WHERE (i.upper_fs_uuid = ? OR (? IS NOT NULL AND i.upper_fs_uuid IS NULL AND i.upper_dev = ? AND i.snapshot_id IN (SELECT id FROM snapshots WHERE source = 'proc' AND boot_id = ?)))
     ORDER BY i.snapshot_id, i.pid, i.fd`,
  );
  const bootNow = currentBootId() ?? '';
  for (const fs of scan.filesystems) {
    if (fs.failure !== null || (fs.fsUuid === null && fs.device === null)) continue;
    const missed = (lookup.all(fs.fsUuid, fs.device, fs.device, bootNow) as Array<{ id: number; pid: number; inode: number }>).filter((item) => !matched.has(item.id));
    if (missed.length === 0) continue;
    const pids = [...new Set(missed.map((item) => item.pid))];
    const firstTen = (values: readonly number[]): string => values.slice(0, 10).join(', ') + (values.length > 10 ? ` and ${values.length - 10} more` : '');
    hints.push({
      offsetSectors: fs.offsetSectors,
      warning: `${missed.length} live item${missed.length === 1 ? '' : 's'} (item ${firstTen(missed.map((item) => item.id))}; pid ${firstTen(pids)}) held through an overlay ` +
        `whose upper layer is this file system match${missed.length === 1 ? 'es' : ''} none of its orphan or deleted inodes by number: a file the overlay copied up from a lower layer shows ` +
        'the inode number of its lower file, not its own in the upper layer (or the file was made or freed after the image was taken); compare sizes and sha256 by hand',
    });
  }
  return hints;
}

/**
 * A file system none of whose orphans a live item matches by UUID, while live items on a file system
 * last mounted at the very path it was last mounted at hold files of its orphans' inode numbers: the
 * same file system under another UUID (tune2fs -U on the copy, a clone given a new one)? Said, never
 * matched: a UUID is what ties an image to a host.
 */
function otherUuidHints(db: Db, scan: ScanResult, matched: ReadonlySet<number>): ScanHint[] {
  const hints: ScanHint[] = [];
  const lookup = db.prepare(
    `SELECT fs_uuid, count(*) AS n, group_concat(DISTINCT pid) AS pids FROM deleted_items
     WHERE mount_point = ? AND (fs_uuid IS NULL OR fs_uuid != ?) AND inode IN (SELECT value FROM json_each(?)) GROUP BY fs_uuid`,
  );
  for (const fs of scan.filesystems) {
    const orphans = fs.inodes.inodesIn('orphan');
    if (fs.failure !== null || fs.lastMountPoint === null || orphans.length === 0 || matched.has(fs.offsetSectors)) continue;
    for (const row of lookup.all(parseDisplayBytes(fs.lastMountPoint), fs.fsUuid ?? '', JSON.stringify(orphans)) as Array<{ fs_uuid: string | null; n: number; pids: string }>) {
      hints.push({
        offsetSectors: fs.offsetSectors,
        warning: `no live item ${fs.fsUuid === null ? 'matches the orphans of this file system without UUID' : `of this file system's UUID ${fs.fsUuid} matches its orphans`}, but ${row.n} live item${row.n === 1 ? '' : 's'} (pid ${row.pids}) on a file system ` +
          `with UUID ${row.fs_uuid ?? 'unknown'}, mounted where this one was last mounted (${fs.lastMountPoint ?? '?'}), hold inode numbers of its orphans: ` +
          'the same file system under another UUID (tune2fs -U, a copy given a new one)? Not matched: compare them by hand',
      });
    }
  }
  return hints;
}
