// Extract inode contents from an image: icat streamed to the file with its sha256 on the way (one
// pass), debugfs -c dump when icat fails; never an empty file presented as content.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { oneLine } from '../errors.js';
import type { CommandRecorder } from '../exec/run.js';
import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import { liveHolders } from '../store/images.js';
import { debugfsDump } from '../tools/debugfs.js';
import { icat } from '../tools/tsk.js';
import { appendSha256Sums } from '../util/sha256sums.js';
import type { ImageSource } from './source.js';

export interface ExtractTarget {
  offsetSectors: number;
  inode: number;
  /** From the scan: the inode's size and whether it still has data blocks. */
  size: number | null;
  recoverable: boolean | null;
  fsUuid: string | null;
  imageInodeId: number | null;
}

export interface ExtractedJson {
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
}

export async function extractInodes(db: Db, source: ImageSource, targets: readonly ExtractTarget[], outputDir: string, recorder: CommandRecorder): Promise<ExtractedJson[]> {
  fs.mkdirSync(outputDir, { recursive: true });
  const results: ExtractedJson[] = [];
  const insert = db.prepare(
    `INSERT INTO extractions (image_inode_id, image, offset_sectors, inode, output, bytes, sha256, complete, method, note, live_item_id, live_sha256_match, started_at, finished_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const target of targets) {
    const startedAt = nowIso();
    const output = path.join(outputDir, `${path.basename(source.path).replace(/[^A-Za-z0-9._-]/g, '_')}-${target.offsetSectors}-${target.inode}`);
    const result = await extractOne(source, target, output, recorder);
    const live = compareWithLive(db, target, result.sha256);
    if (live.note !== null) result.note = result.note === null ? live.note : `${result.note}; ${live.note}`;
    insert.run(target.imageInodeId, source.path, target.offsetSectors, target.inode, result.output, result.bytes, result.sha256, result.complete ? 1 : 0, result.method,
      result.note, live.itemId, live.match === null ? null : live.match ? 1 : 0, startedAt, nowIso());
    if (result.output !== null && result.sha256 !== null) appendSha256Sums(outputDir, result.sha256, result.output);
    results.push({ image: source.path, offset_sectors: target.offsetSectors, inode: target.inode, ...result, live_item_id: live.itemId, live_sha256_match: live.match });
  }
  return results;
}

interface Outcome {
  output: string | null;
  bytes: number;
  sha256: string | null;
  complete: boolean;
  method: 'icat' | 'debugfs' | null;
  note: string | null;
}

async function extractOne(source: ImageSource, target: ExtractTarget, output: string, recorder: CommandRecorder): Promise<Outcome> {
  if (fs.existsSync(output)) return { output: null, bytes: 0, sha256: null, complete: false, method: null, note: `${output} exists already: never overwritten` };
  let icatError: string | null = null;
  let finished = false;
  // icat writes the file at full speed; we hash it right behind, from the page cache, on the other core.
  const copying = icat(source.path, target.offsetSectors, target.inode, output, recorder)
    .catch((error: unknown) => {
      icatError = oneLine(error);
    })
    .finally(() => {
      finished = true;
    });
  const hashed = await hashBehind(output, () => finished);
  await copying;
  if (icatError === null) {
    return judge(output, hashed.bytes, hashed.sha256, 'icat', target, null);
  }
  fs.rmSync(output, { force: true });
  // icat refused (e.g. "Address missing in partial image"): try debugfs, then judge what it wrote.
  try {
    await debugfsDump(source.path, target.offsetSectors, target.inode, output, recorder);
  } catch (error) {
    fs.rmSync(output, { force: true });
    return { output: null, bytes: 0, sha256: null, complete: false, method: null, note: `icat failed (${icatError}); debugfs dump failed (${oneLine(error)})` };
  }
  if (!fs.existsSync(output)) return { output: null, bytes: 0, sha256: null, complete: false, method: 'debugfs', note: `icat failed (${icatError}); debugfs wrote nothing` };
  const content = hashFile(output);
  return judge(output, content.bytes, content.sha256, 'debugfs', target, `icat failed (${icatError})`);
}

function judge(output: string, bytes: number, sha256: string, method: 'icat' | 'debugfs', target: ExtractTarget, prior: string | null): Outcome {
  const notes = prior === null ? [] : [prior];
  const expected = target.size;
  if (bytes === 0 && (target.recoverable === false || (expected !== null && expected > 0))) {
    // An empty file is not the content of a non-empty inode: remove it, say why.
    fs.rmSync(output, { force: true });
    notes.push(target.recoverable === false
      ? `unrecoverable: the inode (size ${expected ?? '?'}) points at no data blocks any more (on unlink ext4 zeroes the extents and the size)`
      : `${method} produced 0 of ${expected} bytes (the data is not in this image: truncated or damaged)`);
    return { output: null, bytes: 0, sha256: null, complete: false, method, note: notes.join('; ') };
  }
  let complete = true;
  if (expected !== null && bytes !== expected) {
    complete = false;
    notes.push(`${bytes} of ${expected} bytes extracted`);
  }
  fs.chmodSync(output, 0o400);
  return { output, bytes, sha256, complete, method, note: notes.length === 0 ? null : notes.join('; ') };
}

const read = promisify(fs.read);

/** Hash a file while another process is still writing it, until that process is done and we caught up. */
async function hashBehind(file: string, done: () => boolean): Promise<{ bytes: number; sha256: string }> {
  const hash = crypto.createHash('sha256');
  const buffer = Buffer.allocUnsafe(4 << 20);
  let bytes = 0;
  let fd: number | null = null;
  try {
    for (;;) {
      if (fd === null) {
        try {
          fd = fs.openSync(file, 'r');
        } catch {
          if (done()) return { bytes: 0, sha256: hash.digest('hex') };
          await new Promise((resolve) => setTimeout(resolve, 2));
          continue;
        }
      }
      const finishedBefore = done();
      const { bytesRead } = await read(fd, buffer, 0, buffer.length, bytes);
      if (bytesRead > 0) {
        hash.update(buffer.subarray(0, bytesRead));
        bytes += bytesRead;
        continue;
      }
      // EOF after the writer had finished: nothing more can come.
      if (finishedBefore) return { bytes, sha256: hash.digest('hex') };
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

function hashFile(file: string): { bytes: number; sha256: string } {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buffer = Buffer.allocUnsafe(4 << 20);
  let bytes = 0;
  try {
    for (let read = fs.readSync(fd, buffer); read > 0; read = fs.readSync(fd, buffer)) {
      hash.update(buffer.subarray(0, read));
      bytes += read;
    }
  } finally {
    fs.closeSync(fd);
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** A second, independent copy of a live item: do the two sha256 agree? */
function compareWithLive(db: Db, target: ExtractTarget, sha256: string | null): { itemId: number | null; match: boolean | null; note: string | null } {
  const holders = liveHolders(db, target.fsUuid, target.inode);
  if (holders.length === 0) return { itemId: null, match: null, note: null };
  const recovered = db
    .prepare(`SELECT r.item_id, r.sha256 FROM recoveries r WHERE r.item_id IN (${holders.map(() => '?').join(',')}) AND r.sha256 IS NOT NULL AND r.complete = 1 ORDER BY r.id DESC LIMIT 1`)
    .get(...holders.map((holder) => holder.item_id)) as { item_id: number; sha256: string } | undefined;
  const first = holders[0];
  if (recovered === undefined) return { itemId: first?.item_id ?? null, match: null, note: `held open by pid ${first?.pid} (item ${first?.item_id}) at snapshot time; no complete /proc copy to compare` };
  if (sha256 === null) return { itemId: recovered.item_id, match: null, note: null };
  const match = recovered.sha256 === sha256;
  return {
    itemId: recovered.item_id,
    match,
    note: match
      ? `same sha256 as the /proc copy of item ${recovered.item_id}`
      : `DIFFERS from the /proc copy of item ${recovered.item_id} (${recovered.sha256}): on a live device, data still in the page cache is not on disk yet, so the device copy is stale`,
  };
}
