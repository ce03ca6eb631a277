// Extract inode contents from an image or device: icat writes the output file itself at full speed
// while a worker thread hashes it right behind (one read, two cores); debugfs -c dump when icat
// fails. Never an empty file presented as content, never an existing file overwritten.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { oneLine } from '../errors.js';
import type { CommandRecorder } from '../exec/run.js';
import type { Db } from '../store/db.js';
import { EXTRACTION_INTERRUPTED, bornSecond, cloneDevices, completeRecoveries, extractionOutput, finishExtraction, liveItemsFor, onAnotherDisk, startExtraction, type LiveCandidate, type LiveCopy } from '../store/images.js';
import { currentBootId } from '../store/snapshots.js';
import { devicesSharingBytes } from '../util/blockDevices.js';
import { tryAppendSha256Sums } from '../util/sha256sums.js';
import { debugfsCatToStream, debugfsDump, debugfsStatMany } from '../tools/debugfs.js';
import { dropCachedPages, icatToFd, icatToStream } from '../tools/icat.js';
import { HOLE_BLOCK, SLOW_HOLE_BYTES, newCopyState, streamInto } from '../recover/copy.js';
import { SpaceGuard, keepFreeFor } from '../util/caseSpace.js';
import { FollowHasher, filesystemDevice, readSuperblock, type ImageSource } from './source.js';
import { createUnique } from '../util/createUnique.js';
import { noBlocksWhy, type BlockMapping } from './inodeNotes.js';
import { extType } from '../../parsers/extSuperblock.js';
import { specialFileType } from '../util/mode.js';
import { currentOutput } from '../report/rows.js';
import { caseFolder } from '../util/caseFolder.js';
import { beginStep, commitStep } from '../util/interrupt.js';
import { displayText, textBase64 } from '../util/bytes.js';
import type { U64 } from '../util/u64.js';

export interface ExtractTarget {
  offsetSectors: number;
  inode: number;
  /**
   * The inode's size and whether it still points at data, from a scan or debugfs stat (null: unknown).
   * Exact: a bigint past 2^53, larger than any ext4 file (a corrupt or crafted i_size), is refused.
   */
  size: U64 | null;
  recoverable: boolean | null;
  /** A scan's word: an orphan (open when imaged) or an ordinary deleted inode; null: not from a scan. */
  state: 'orphan' | 'deleted' | null;
  /** Data blocks the inode still lists (null: unknown). */
  blocks: number | null;
  /** The file system's block size, the unit of `blocks` (null: unknown). */
  blockSize: number | null;
  /** st_mode with the file type (null: unknown): a fast symlink's content is its target, not blocks. */
  mode: number | null;
  fsUuid: string | null;
  imageInodeId: number | null;
  /**
   * The scan (images row) of the image as it is now, whose sha256 is the copy's image's: the one that
   * listed the inode, or, for an inode no scan listed, the case's scan of the image as it is now
   * (the same size, mtime and ctime); null when there is none (or the device is mounted).
   */
  imageId: number | null;
  /** When the inode was created (seconds, from the scan or debugfs; null: not known): a live file born at another second is another file. */
  crtime: number | null;
  /** Why it is not recoverable when that is not "no data blocks" (an inode never used, say), else null. */
  unrecoverableWhy: string | null;
  /** What the copy's record must say of the inode itself (still linked: a live file), else absent. */
  note?: string;
  /** Why the scan that listed the inode saw its file system only in part (scanNote); null: from no scan, or a whole one. */
  scanNote: string | null;
}

export interface ExtractedJson {
  /** The image's path in the display form; its exact bytes in image_b64. */
  image: string;
  offset_sectors: number;
  inode: number;
  output: string | null;
  bytes: number;
  sha256: string | null;
  complete: boolean;
  method: 'icat' | 'debugfs' | null;
  note: string | null;
  live_item_id: number | null;
  live_sha256_match: boolean | null;
  /** Why the scan that listed this inode saw its file system only in part, or null (see ExtractTarget.scanNote). */
  scan_note: string | null;
  /** The image's path, its exact bytes (base64). */
  image_b64: string;
}

interface Outcome {
  output: string | null;
  bytes: number;
  sha256: string | null;
  complete: boolean;
  method: 'icat' | 'debugfs' | null;
  notes: string[];
}

export interface ExtractEvents {
  /** Each inode's result, as soon as it is known (in the order they are copied). */
  onResult?: (result: ExtractedJson) => void;
  /** Said before a copy that reads gigabytes of holes: why it takes a while. */
  onSlow?: (message: string) => void;
  /** Nothing but printing is left after the last inode's record: a signal then no longer stops the run (util/interrupt.ts). */
  lastStep?: boolean;
}

/**
 * Extract each target; the results come back in the order of `targets`. Inodes whose holes add up
 * to SLOW_HOLE_BYTES or more are copied after all the others, the fewest holes first: icat and
 * debugfs read every hole out as zeros and each zero is hashed, so a sparse file of terabytes (a
 * crafted size costs its owner a few blocks) takes hours, and must not hold up the rest.
 */
export async function extractInodes(
  db: Db, source: ImageSource, targets: readonly ExtractTarget[], outputDir: string, recorder: CommandRecorder, events: ExtractEvents = {},
): Promise<ExtractedJson[]> {
  caseFolder(outputDir);
  const mounted = source.mounted;
  // The image file as it is copied (a mounted one changes under its stamp: none kept).
  const imageStamp = source.stamp === null || mounted ? null : { size: source.size, mtimeNs: source.stamp.mtimeNs, ctimeNs: source.stamp.ctimeNs };
  // A block device's own page cache is not kept in step with the file system mounted on it: file
  // data goes to the disk around it, so pages an earlier read cached (a scan's hash, a copy) stay
  // old. Dropped first (posix_fadvise DONTNEED, by dd opening it read-only): icat reads the disk.
  if (source.isDevice) await dropCachedPages(source.path, recorder);
  const results = new Array<ExtractedJson>(targets.length);
  const order = targets.map((target, index) => ({ target, index, holes: holeBytes(target) }))
    .sort((a, b) => Number(a.holes >= SLOW_HOLE_BYTES) - Number(b.holes >= SLOW_HOLE_BYTES) || (a.holes >= SLOW_HOLE_BYTES ? a.holes - b.holes : 0) || a.index - b.index);
  // Started before the first copy: the worker's start-up is then off every copy's path.
  const hasher = new FollowHasher();
  // Room the copies leave on the disk of the case database, when they share it.
  const guard = new SpaceGuard(outputDir, keepFreeFor(outputDir, db.name));
  try {
    let extracted = 0;
    for (const { target, index } of order) {
      // Its rows stay: the extraction's (marked interrupted, naming the partial file it wrote, if any) and the copying program's in commands.
      beginStep(`the copy of inode ${target.inode} under way is not finished: its row in extractions stays, saying "${EXTRACTION_INTERRUPTED}", as do the partial file it names ` +
        'in extracted/ (not in SHA256SUMS) and the row in commands of the program copying it, if the copy had begun', 'no copy or scan of this run was finished before it');
      const id = startExtraction(db, { imageInodeId: target.imageInodeId, imageId: target.imageId, image: source.path, offsetSectors: target.offsetSectors, inode: target.inode, imageStamp });
      const outcome = await extractOne({ source, outputDir, recorder, hasher, guard, onFile: (file) => extractionOutput(db, id, file), onSlow: events.onSlow }, target)
        .catch((error: unknown) => {
          // No file could be made in extracted/ (a folder this user may not write): said in the row, which names no file; the next inode is tried.
          if (!(error instanceof OutputRefused)) throw error;
          return { output: null, bytes: 0, sha256: null, complete: false, method: null, notes: [error.message] } satisfies Outcome;
        });
      if (target.note !== undefined) outcome.notes.unshift(target.note);
      // A signal the copy's last synchronous stretch kept node from handling stops the run here: the row stays interrupted.
      const last = events.lastStep === true && extracted + 1 === targets.length;
      const result = await commitStep(() => {
        const unlisted = outcome.output === null || outcome.sha256 === null ? null : tryAppendSha256Sums(outputDir, outcome.sha256, outcome.output);
        if (unlisted !== null) outcome.notes.push(unlisted);
        return conclude(db, id, source, target, outcome, mounted);
      }, () => `${++extracted} of ${targets.length} inodes extracted (rows in extractions)`, last, 'extract');
      results[index] = result;
      events.onResult?.(result);
    }
  } finally {
    await hasher.close();
  }
  return results;
}

/** A target whose size, when known, a JS number holds exactly (below 2^53): every one past the first check of extractOne. */
type SizedTarget = ExtractTarget & { size: number | null };

function isSized(target: ExtractTarget): target is SizedTarget {
  return typeof target.size !== 'bigint';
}

/** What of the inode's size its data blocks do not cover (holes, read as zeros); 0 when unknown (or refused: past 2^53). */
function holeBytes(target: ExtractTarget): number {
  if (!isSized(target) || target.size === null || target.blocks === null || target.blockSize === null) return 0;
  return Math.max(0, target.size - target.blocks * target.blockSize);
}

/** What the copy steps share: where from, where to, who hashes, and who hears of each new file. */
interface Copier {
  source: ImageSource;
  outputDir: string;
  recorder: CommandRecorder;
  hasher: FollowHasher;
  /** Each name the output is about to be created under: the row names it first (a kill leaves no unnamed file). */
  onFile: (file: string) => void;
  /** Refuses copies that cannot fit, and counts the writes of those made through this process against the free space. */
  guard: SpaceGuard;
  /** Told before a copy that reads SLOW_HOLE_BYTES of holes or more starts. */
  onSlow: ((message: string) => void) | undefined;
}

/** Compare with the live copy, if any, and close the extraction's row. */
function conclude(db: Db, id: number, source: ImageSource, target: ExtractTarget, outcome: Outcome, mounted: boolean): ExtractedJson {
  const live = compareWithLive(db, source, target, outcome, mounted);
  if (live.note !== null) outcome.notes.push(live.note);
  const note = outcome.notes.length === 0 ? null : outcome.notes.join('; ');
  finishExtraction(db, id, {
    output: outcome.output, bytes: outcome.bytes, sha256: outcome.sha256, complete: outcome.complete, method: outcome.method, note,
    liveItemId: live.itemId, liveSha256Match: live.match,
  });
  return {
    image: displayText(source.path), offset_sectors: target.offsetSectors, inode: target.inode, output: outcome.output, bytes: outcome.bytes, sha256: outcome.sha256,
    complete: outcome.complete, method: outcome.method, note, live_item_id: live.itemId, live_sha256_match: live.match,
    scan_note: target.scanNote, image_b64: textBase64(source.path),
  };
}

/** How the file system at `offset` maps blocks, from its superblock (null: not readable now). */
function blockMapping(source: ImageSource, offset: number): BlockMapping | null {
  const superblock = readSuperblock(source, offset);
  return superblock === null ? null : { type: extType(superblock), extents: superblock.extents };
}

async function extractOne(copier: Copier, unsized: ExtractTarget): Promise<Outcome> {
  if (!isSized(unsized)) {
    // icat and debugfs copy by the size: this one they would write for ever (zeros past the blocks).
    return {
      output: null, bytes: 0, sha256: null, complete: false, method: null,
      notes: [`the inode's size is ${unsized.size} bytes, past 2^53, larger than any ext4 file (a corrupt or crafted i_size): nothing extracted, as icat and debugfs copy by the size` +
        (unsized.blocks === null ? '' : ` (its ${unsized.blocks} data blocks can be read with blkcat)`)],
    };
  }
  const target: SizedTarget = unsized;
  const special = specialFileType(target.mode);
  if (special !== null) {
    // icat copies 0 bytes of it: an empty file would pass for its content.
    return { output: null, bytes: 0, sha256: null, complete: false, method: null, notes: [`the inode is a ${special}: a special file has no content to extract, nothing written`] };
  }
  if (target.recoverable === false) {
    return {
      output: null, bytes: 0, sha256: null, complete: false, method: null,
      notes: [`unrecoverable: ${target.unrecoverableWhy ?? noBlocksWhy(target.size, blockMapping(copier.source, target.offsetSectors))}: nothing extracted`],
    };
  }
  if (target.state === 'deleted' && target.size === 0 && target.blocks !== null && target.blocks > 0) {
    // icat and debugfs copy as many bytes as the size says: 0. An empty file is not its content.
    return {
      output: null, bytes: 0, sha256: null, complete: false, method: null,
      notes: [`the inode's size is 0 but it still lists ${target.blocks} data blocks (its size was zeroed or altered): the tools copy by the size, so no file can be cut out of it; nothing extracted (its blocks can be read with blkcat)`],
    };
  }
  if (target.size === null && target.blocks !== null) {
    // Described, but with no size that can be read: icat would copy by that size, for ever.
    return {
      output: null, bytes: 0, sha256: null, complete: false, method: null,
      notes: [`the inode's size could not be read (debugfs printed none): nothing extracted (its ${target.blocks} data blocks can be read with blkcat)`],
    };
  }
  if (target.state === 'deleted' && target.size === 0 && target.blocks === null) {
    // ext4 zeroes the size of a file it deletes: with its blocks unknown (no tool described the
    // inode), 0 bytes from icat would pass for a whole empty file.
    return {
      output: null, bytes: 0, sha256: null, complete: false, method: null,
      notes: ['the deleted inode\'s size is 0 (ext4 zeroes it on deletion) and no tool described its blocks: nothing can be extracted as its content'],
    };
  }
  const base = `${path.basename(copier.source.path).replace(/[^A-Za-z0-9._-]/g, '_')}-${target.offsetSectors}-${target.inode}`;
  if (target.mode !== null && (target.mode & 0o170000) === 0o120000 && target.blocks === 0) return copyFastSymlink(copier, target, base);
  const plan = planCopy(target, copier.guard);
  if (plan.refusal !== null) return { output: null, bytes: 0, sha256: null, complete: false, method: null, notes: [plan.refusal] };
  const holes = holeBytes(target);
  if (holes >= SLOW_HOLE_BYTES) {
    copier.onSlow?.(`inode ${target.inode} at sector ${target.offsetSectors}: ${target.size ?? '?'} bytes, ${holes} of them holes: ` +
      'icat and debugfs read the holes out as zeros and each is hashed (about a minute per 16 GiB), so it is copied after the others');
  }
  const catStream = (consume: (chunk: Buffer) => Promise<void>) =>
    debugfsCatToStream(copier.source.path, target.offsetSectors, target.inode, consume, target.size, copier.recorder, path.dirname(copier.outputDir));
  // debugfs dump writes the holes out as zeros: a sparse inode comes through `cat`, written sparse.
  const request = plan.streamed ? 'cat' : 'dump';
  // A second file that cannot be made is debugfs's failure (never the loss of a copy icat made before).
  const copyByDebugfs = (): Promise<{ copy: Copy | null; error: string | null }> =>
    (plan.streamed ? copyStreamed(copier, `${base}.debugfs`, catStream) : copyWithDebugfs(copier, target, base))
      .catch((error: unknown) => {
        if (!(error instanceof OutputRefused)) throw error;
        return { copy: null, error: error.message };
      });
  const superblock = readSuperblock(copier.source, target.offsetSectors);
  const notes: string[] = [];
  // icat (TSK 4.11.1) walks a block map's holes block by block, sending nothing meanwhile: minutes
  // per GiB of hole (a 5 GiB one outlasted the 300 s stall limit). A file system without extents
  // has only block maps: there a file with holes goes to debugfs cat first.
  // The Sleuth Kit cannot read bigalloc at all (4.11.1: `Cannot determine file system type`; 4.14.0
  // the same, docs/images.md): an icat run per inode would only fail. debugfs alone, said.
  if (superblock?.bigalloc === true) {
    const why = `read by debugfs ${request}, not icat: The Sleuth Kit cannot read bigalloc (blocks allocated in clusters)`;
    const via = await copyByDebugfs();
    const said = via.error === null ? [why] : [why, `debugfs ${request} failed (${via.error})`];
    if (via.copy === null) return { output: null, bytes: 0, sha256: null, complete: false, method: null, notes: said };
    return judge(via.copy, 'debugfs', via.error === null, target, said);
  }
  /** debugfs cat's copy when it was tried first: kept beside icat's, never made again (each is a read of every hole). */
  let catFirst: { copy: Copy; error: string | null } | null = null;
  if (plan.streamed && superblock?.extents === false) {
    const first = await copyStreamed(copier, `${base}.debugfs`, catStream);
    const why = 'a block-mapped file with holes (no extents on this file system): copied by debugfs cat, since icat reads such holes a block at a time (minutes per GiB)';
    if (first.error === null) return judge(first.copy, 'debugfs', true, target, [why]);
    notes.push(`debugfs cat failed after ${first.copy.bytes} bytes (${first.error}), tried first for ${why.slice(0, why.indexOf(':'))}`);
    catFirst = first;
  }
  const viaIcat = await (plan.streamed
    ? copyStreamed(copier, base, (consume) => icatToStream(copier.source.path, target.offsetSectors, target.inode, consume, target.size, copier.recorder))
    : copyWithIcat(copier, target, base)).catch((error: unknown) => {
    if (catFirst !== null) discard(catFirst.copy.output);
    throw error;
  });
  // icat can also succeed with less than the inode holds: TSK 4.11 loads no group descriptor past a
  // meta_bg file system's first meta group, takes such an inode for an empty one and exits 0.
  const icatShort = viaIcat.error === null && target.size !== null && viaIcat.copy.bytes < target.size;
  if (viaIcat.error === null && !icatShort) {
    if (catFirst !== null) discard(catFirst.copy.output);
    return judge(viaIcat.copy, 'icat', true, target, notes);
  }
  // icat refused (e.g. "Address missing in partial image", or TSK 4.11's "Invalid address in run"
  // past a hole of a sparse ext4 file) or stopped short: try debugfs, then keep the better copy.
  notes.push(viaIcat.error === null
    ? `icat exited 0 after ${viaIcat.copy.bytes} of the inode's ${target.size ?? 0} bytes`
    : `icat failed after ${viaIcat.copy.bytes} bytes (${viaIcat.error})`);
  // dump writes the whole size beside icat's prefix: tried only when both fit.
  const noRoom = plan.streamed ? null : copier.guard.refusal(target.size, `${target.size} bytes beside icat's ${viaIcat.copy.bytes}`);
  if (noRoom !== null) {
    notes.push(`debugfs dump not tried: ${noRoom}`);
    return judge(viaIcat.copy, 'icat', false, target, notes);
  }
  const viaDebugfs = catFirst ?? await copyByDebugfs();
  // Its failure, when it was tried first, is said already.
  if (viaDebugfs.error !== null && catFirst === null) notes.push(`debugfs ${request} failed (${viaDebugfs.error})`);
  const icatCopy = viaIcat.copy;
  const debugfsCopy = viaDebugfs.copy;
  if (debugfsCopy !== null && (debugfsCopy.bytes === target.size || debugfsCopy.bytes > icatCopy.bytes)) {
    discard(icatCopy.output);
    return judge(debugfsCopy, 'debugfs', viaDebugfs.error === null, target, notes);
  }
  if (debugfsCopy !== null) {
    if (viaDebugfs.error === null) notes.push(`debugfs ${request} produced ${debugfsCopy.bytes} bytes`);
    discard(debugfsCopy.output);
  }
  return judge(icatCopy, 'icat', false, target, notes);
}

interface Copy {
  output: string;
  bytes: number;
  sha256: string;
  /** Bytes of zeros not written, left as holes (0 for a copy written whole). */
  holeBytes: number;
}

/** Holes that add up to this much make a copy written sparse (through this process) instead of whole (by icat itself). */
const SPARSE_MIN_HOLE_BYTES = 16 << 20;

/**
 * How to copy: by icat itself into the file (fast), or through this process, hashed and guarded, its
 * all-zero runs left as holes: a sparse inode (a 5 GiB orphan with a few blocks of data must not
 * fill the case disk with zeros), or one whose size is not known (icat could write anything). A
 * copy that cannot fit is refused before it starts: a full case disk loses the case database's rows.
 */
function planCopy(target: SizedTarget, guard: SpaceGuard): { streamed: boolean; refusal: string | null } {
  // A data block smaller than HOLE_BLOCK is written as a whole HOLE_BLOCK.
  const dataBytes = target.blocks !== null && target.blockSize !== null ? target.blocks * Math.max(target.blockSize, HOLE_BLOCK) : null;
  if (target.size === null) return { streamed: true, refusal: null };
  const sparse = dataBytes !== null && target.size - dataBytes >= SPARSE_MIN_HOLE_BYTES;
  const needs = sparse && dataBytes !== null ? dataBytes : target.size;
  const what = sparse
    ? `${needs} bytes (its ${target.blocks} data blocks; the holes of its ${target.size} bytes are not written)`
    : `${needs} bytes${dataBytes === null ? ' (its data blocks are unknown: counted whole)' : ''}`;
  const refusal = guard.refusal(needs, what);
  return { streamed: sparse, refusal: refusal === null ? null : `not extracted: ${refusal}` };
}

async function copyWithIcat(copier: Copier, target: SizedTarget, base: string): Promise<{ copy: Copy; error: string | null }> {
  const { file, fd } = createOutput(copier, base);
  // icat writes the file at full speed; the worker hashes it right behind, from the page cache, on the other core.
  const hashing = copier.hasher.follow(file);
  let error: string | null = null;
  try {
    await icatToFd(copier.source.path, target.offsetSectors, target.inode, fd, target.size, copier.recorder);
  } catch (failure) {
    error = oneLine(failure);
  } finally {
    fs.closeSync(fd);
    hashing.writerDone();
  }
  const hashed = await hashing.done;
  return { copy: { output: file, bytes: hashed.bytes, sha256: hashed.sha256, holeBytes: 0 }, error };
}

/** A tool's output through this process: hashed, guarded, and written with its all-zero blocks left as holes. */
async function copyStreamed(copier: Copier, base: string, produce: (consume: (chunk: Buffer) => Promise<void>) => Promise<void>): Promise<{ copy: Copy; error: string | null }> {
  const { file, fd } = createOutput(copier, base);
  const state = newCopyState(copier.guard);
  const sink = streamInto(fd, state);
  let error: string | null = null;
  try {
    await produce((chunk) => sink.consume(chunk));
  } catch (failure) {
    error = oneLine(failure);
  }
  try {
    // What arrived before a failure is kept.
    await sink.end();
  } catch (failure) {
    error ??= oneLine(failure);
  }
  try {
    // A hole at the end still counts in the file's length; after a write that failed (or that the
    // guard refused) the file is cut back to it: an exact prefix.
    fs.ftruncateSync(fd, state.stoppedAt ?? state.bytes);
  } catch (failure) {
    error ??= oneLine(failure);
  } finally {
    fs.closeSync(fd);
  }
  if (error === null) return { copy: { output: file, bytes: state.bytes, sha256: state.hash.digest('hex'), holeBytes: state.holeBytes }, error };
  // After a failure what was hashed on the way may not all be in the file: the file is read back,
  // so its sha256 is that of the bytes it holds.
  const hashing = copier.hasher.follow(file);
  hashing.writerDone();
  const hashed = await hashing.done;
  return { copy: { output: file, bytes: hashed.bytes, sha256: hashed.sha256, holeBytes: state.holeBytes }, error };
}

async function copyWithDebugfs(copier: Copier, target: SizedTarget, base: string): Promise<{ copy: Copy | null; error: string | null }> {
  // Reserve a name of our own: debugfs opens it with O_TRUNC and must never meet anything else there.
  const { file, fd } = createOutput(copier, `${base}.debugfs`);
  fs.closeSync(fd);
  let error: string | null = null;
  try {
    await debugfsDump(copier.source.path, target.offsetSectors, target.inode, file, target.size, copier.recorder, path.dirname(copier.outputDir));
  } catch (failure) {
    error = oneLine(failure);
  }
  if (!fs.existsSync(file)) return { copy: null, error: error ?? 'debugfs wrote nothing' };
  // debugfs has exited: the hash reads to the end of the file at once.
  const hashing = copier.hasher.follow(file);
  hashing.writerDone();
  const hashed = await hashing.done;
  return { copy: { output: file, bytes: hashed.bytes, sha256: hashed.sha256, holeBytes: 0 }, error };
}

/**
 * A fast symlink keeps its target in the inode: icat prints zeros for a deleted one and debugfs
 * dump reads the target as block numbers. Its bytes are the target debugfs stat printed, when whole.
 */
async function copyFastSymlink(copier: Copier, target: SizedTarget, base: string): Promise<Outcome> {
  let stat;
  try {
    stat = (await debugfsStatMany(copier.source.path, target.offsetSectors, [target.inode], copier.recorder, path.dirname(copier.outputDir))).records[0];
  } catch (failure) {
    return { output: null, bytes: 0, sha256: null, complete: false, method: null, notes: [`debugfs stat failed (${oneLine(failure)}): the symlink target could not be read, nothing extracted`] };
  }
  if (stat?.symlinkTarget === null || stat?.symlinkTarget === undefined) {
    return {
      output: null, bytes: 0, sha256: null, complete: false, method: null,
      notes: [`unrecoverable: the symlink's target (size ${stat?.size ?? target.size ?? '?'}) is not in its inode any more (wiped on deletion, or cut by a NUL byte): nothing extracted`],
    };
  }
  const content = Buffer.from(stat.symlinkTarget, 'latin1');
  const { file, fd } = createOutput(copier, base);
  try {
    fs.writeSync(fd, content);
  } finally {
    fs.closeSync(fd);
  }
  const hashing = copier.hasher.follow(file);
  hashing.writerDone();
  const hashed = await hashing.done;
  return judge({ output: file, bytes: hashed.bytes, sha256: hashed.sha256, holeBytes: 0 }, 'debugfs', true, { ...target, size: Number(stat.size) }, ['the symlink target, as debugfs stat printed it']);
}

/** A new output file could not be made (EACCES, ENOSPC, EROFS): nothing of this inode was written. */
class OutputRefused extends Error {}

/** The output file, named in the row first (see createUnique); a failure to make it is an OutputRefused. */
function createOutput(copier: Copier, name: string): { file: string; fd: number } {
  try {
    return createUnique(copier.outputDir, name, 0o600, copier.onFile);
  } catch (error) {
    throw new OutputRefused(`copy failed: ${oneLine(error)}`, { cause: error });
  }
}

function discard(file: string): void {
  fs.rmSync(file, { force: true });
}

/** Keep a copy only when it holds something; complete only when the tool succeeded and every byte of the inode's size is there. */
function judge(copy: Copy, method: 'icat' | 'debugfs', toolSucceeded: boolean, target: SizedTarget, prior: readonly string[]): Outcome {
  const notes = [...prior];
  const expected = target.size;
  if (copy.bytes === 0 && expected !== 0) {
    // An empty file is not the content of a non-empty inode: remove it, say why.
    discard(copy.output);
    notes.push(expected === null
      ? `${method} produced 0 bytes and the inode's size is unknown: nothing kept`
      : `${method} produced 0 of ${expected} bytes: the data is not in this image (truncated or damaged), nothing kept`);
    return { output: null, bytes: 0, sha256: null, complete: false, method: null, notes };
  }
  if (copy.holeBytes > 0) notes.push(`written sparse: ${copy.holeBytes} bytes of zeros left as holes in the copy (its sha256 counts them)`);
  if (expected === null) notes.push('the inode size is unknown: the copy cannot be checked for completeness');
  else if (copy.bytes > expected) notes.push(`${copy.bytes} bytes extracted, more than the ${expected} the inode held when it was described: the inode changed between the two reads (a device in use)`);
  else if (copy.bytes !== expected) notes.push(`${copy.bytes} of ${expected} bytes extracted`);
  fs.chmodSync(copy.output, 0o400);
  return { output: copy.output, bytes: copy.bytes, sha256: copy.sha256, complete: toolSucceeded && expected !== null && copy.bytes === expected, method, notes };
}

/** A second, independent copy of a live item: do the two sha256 agree? Said plainly either way. */
function compareWithLive(db: Db, source: ImageSource, target: ExtractTarget, copy: { output: string | null; bytes: number; sha256: string | null }, mounted: boolean): { itemId: number | null; match: boolean | null; note: string | null } {
  const { output, bytes, sha256 } = copy;
  // The block device of this file system: the device, or its partition at the offset (null: an image file, or no partition starts there).
  const device = filesystemDevice(source, target.offsetSectors);
  let items = liveItemsFor(db, target.fsUuid, device, target.inode);
  if (items.length === 0) return { itemId: null, match: null, note: null };
  if (device !== null) {
    // Two file systems can share a UUID (a cloned disk): an item of this boot on a device that shares
    // no bytes with this one is on another disk, its file another file.
    const sharing = devicesSharingBytes(device);
    const bootId = currentBootId();
    const here = items.filter((item) => !onAnotherDisk(item, sharing, bootId));
    const elsewhere = items.filter((item) => onAnotherDisk(item, sharing, bootId));
    const other = elsewhere[0];
    if (here.length === 0 && other !== undefined) {
      const more = elsewhere.length > 1 ? ` (and ${elsewhere.length - 1} more live item${elsewhere.length === 2 ? '' : 's'} on ${[...new Set(elsewhere.map((item) => item.dev))].join(', ')})` : '';
      return {
        itemId: null, match: null,
        note: `not compared with the live item ${other.item_id} (pid ${other.pid}): that file was on device ${other.dev} in this boot, not on ${device} (nor on a device sharing its bytes)${more}: ` +
          'another disk with a file system of the same UUID (a cloned file system), whose file is another file',
      };
    }
    items = here;
  }
  // A file born at another time than this inode's is another file given the same (reused) number.
  const crtime = target.crtime;
  const sameFile = items.filter((item) => crtime === null || bornSecond(item.btime_ns) === null || bornSecond(item.btime_ns) === crtime);
  if (sameFile.length === 0) {
    const other = items[0] as LiveCandidate;
    return {
      itemId: null, match: null,
      note: `not compared with the live item ${other.item_id} (pid ${other.pid}): that file was born at ${bornSecond(other.btime_ns)}, this inode at ${crtime} (seconds since 1970): the inode number was reused by another file`,
    };
  }
  items = sameFile;
  const clone = cloneDevices(items);
  if (clone !== null) {
    return {
      itemId: null, match: null,
      note: `not compared: in one boot, live items on ${clone.size} devices (${[...clone].join(', ')}) have this file system UUID and inode number (a cloned file system): which one this copy is cannot be told`,
    };
  }
  const first = items[0];
  const holders = new Set(items.map((item) => `${item.pid}/${item.start_time ?? '?'}`)).size;
  const several = holders > 1 ? ` (${holders} processes held this inode number in the case's snapshots)` : '';
  // Each copy where it is now: a case folder moved since keeps its copies under recovered/.
  const caseDir = path.dirname(db.name);
  const copies = completeRecoveries(db, items.map((item) => item.item_id)).map((copy) => ({ ...copy, output: currentOutput(caseDir, copy.output) }));
  const recovered = copies[0];
  if (recovered === undefined) {
    return { itemId: first?.item_id ?? null, match: null, note: `held open by pid ${first?.pid} (${first?.comm ?? '?'}, item ${first?.item_id}) at snapshot time${several}; no complete /proc copy to compare with` };
  }
  if (sha256 === null || output === null) return { itemId: recovered.item_id, match: null, note: `the /proc copy of item ${recovered.item_id} exists; this extraction has no content to compare${several}` };
  if (recovered.sha256 === sha256) return { itemId: recovered.item_id, match: true, note: `same sha256 as the /proc copy of item ${recovered.item_id}${several}` };
  // Compared with the newest copy (a difference is never hidden); what the two hold says how they
  // relate, never when or why the file changed (a file grows and is cut; an image can be short).
  const why = differenceWhy(recovered, copies, { output, bytes, sha256, expected: target.size }, mounted);
  return {
    itemId: recovered.item_id, match: false,
    note: `DIFFERS from the /proc copy of item ${recovered.item_id} (${recovered.bytes} bytes, sha256 ${recovered.sha256}): ${why}${several}`,
  };
}

/**
 * Why an image copy and the newest /proc copy of the same file differ, from what they hold: a copy
 * short of its own inode's size is incomplete, said first; an earlier /proc copy with the same
 * sha256 is named; one copy the start of the other says which held more, not when or why. Otherwise
 * the possible causes, none chosen without grounds.
 */
function differenceWhy(proc: LiveCopy, copies: readonly LiveCopy[], image: { output: string; bytes: number; sha256: string; expected: U64 | null }, mounted: boolean): string {
  const where = mounted ? 'on the device' : 'in the image';
  const earlier = copies.find((copy) => copy.sha256 === image.sha256);
  const sameAsEarlier = earlier === undefined ? null : `the same sha256 as the earlier /proc copy of item ${earlier.item_id} (snapshot ${earlier.snapshot_id})`;
  const startOfProc = proc.output !== null && image.bytes < proc.bytes && startsWith(proc.output, image.bytes, image.sha256);
  if (image.expected !== null && image.bytes < image.expected) {
    const holds = sameAsEarlier !== null ? `; it has ${sameAsEarlier}` : startOfProc ? '; it is the start of the /proc copy' : '';
    return `this copy is incomplete (${image.bytes} of the ${image.expected} bytes its inode holds ${where})${holds}: the rest could not be read`;
  }
  if (sameAsEarlier !== null) return `this copy has ${sameAsEarlier}: the file held then what this copy holds`;
  if (proc.output !== null && proc.bytes < image.bytes && startsWith(image.output, proc.bytes, proc.sha256)) {
    return `the /proc copy is the first ${proc.bytes} bytes of this one (${image.bytes} bytes): the file was longer ${where} than in the /proc copy ` +
      `(it grew after the /proc copy was made, or was cut after ${mounted ? 'what the device holds was written' : 'the image was taken'})`;
  }
  if (startOfProc) {
    return `this copy is the first ${image.bytes} bytes of the /proc copy: the file was shorter ${where} than in the /proc copy ` +
      (mounted ? '(what the page cache held had not all reached the disk, or the file was cut after the /proc copy was made)' : '(it grew after the image was taken, or was cut after the /proc copy was made)');
  }
  return mounted
    ? 'the device was read while mounted: data in the page cache may not have reached the disk (this device copy may be behind), or the file changed after the /proc copy was made'
    : 'the file changed between the snapshot and the image, or the inode number was reused';
}

/** Whether the first BYTES bytes of FILE hash to SHA256 (false when it cannot be read). */
function startsWith(file: string, bytes: number, sha256: string): boolean {
  let fd: number | null = null;
  try {
    fd = fs.openSync(file, 'r');
    const hash = crypto.createHash('sha256');
    const buffer = Buffer.allocUnsafe(1 << 20);
    let position = 0;
    while (position < bytes) {
      const read = fs.readSync(fd, buffer, 0, Math.min(buffer.length, bytes - position), position);
      if (read === 0) return false;
      hash.update(buffer.subarray(0, read));
      position += read;
    }
    return hash.digest('hex') === sha256;
  } catch {
    return false;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}
