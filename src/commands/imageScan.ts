// `unlinked image scan IMAGE [--offset SECTORS]`: orphan and deleted inodes of a raw image or device.
import { EXIT, type ExitCode } from '../errors.js';
import type { CommandContext } from '../cli/context.js';
import { openCase } from '../store/db.js';
import { commandRecorder } from '../store/commands.js';
import { correlate, imageInodesOf, type ImageInodeJson, type ImageInodeRecord } from '../store/images.js';
import { scanImage, scanProblems, type ScanResult } from '../image/scan.js';
import { openImageSource, refuseCaseOnEvidence } from '../image/source.js';

export interface ImageScanOptions {
  offset?: number;
  verify?: boolean;
}

export async function imageScanCommand(ctx: CommandContext, image: string, options: ImageScanOptions): Promise<ExitCode> {
  const source = openImageSource(image);
  for (const warning of refuseCaseOnEvidence(source, ctx.caseDir)) ctx.warn(warning);
  const kase = openCase(ctx.caseDir, { create: true });
  try {
    const scan = await scanImage(kase.db, source.path, options.offset, commandRecorder(kase.db), { verify: options.verify === true, workDir: kase.paths.dir });
    const problems = scanProblems(scan);
    problems.warnings.forEach((warning) => ctx.warn(warning));
    for (const fs of scan.filesystems) {
      if (fs.failure !== null) continue;
      const found = fs.inodes;
      ctx.info(
        `sector ${fs.offsetSectors}: ${fs.fsType ?? '?'} ${fs.fsUuid ?? ''}${fs.label === null ? '' : ` "${fs.label}"`}: ${count(found, 'orphan')}, ${count(found, 'deleted')}`,
      );
    }
    // Only the inodes live items match (one query); the whole list is read back for --json only.
    for (const match of correlate(kase.db, { imageId: scan.imageId })) {
      const holders = match.live.map((holder) => `pid ${holder.pid} (${holder.comm ?? '?'}) in snapshot ${holder.snapshot_id}`);
      ctx.info(
        `inode ${match.inode} at sector ${match.offset_sectors} was held open by ${holders.join(', ')}` +
          (match.ambiguous ? ` (ambiguous: ${match.reasons.join('; ')})` : ''),
      );
    }
    ctx.info(`image sha256 ${scan.sha256 ?? 'unknown'}${afterScan(scan)}`);
    if (ctx.json) ctx.out(JSON.stringify(imageInodesOf(kase.db, scan.imageId).map(toJson)));
    return problems.partial ? EXIT.partial : EXIT.ok;
  } finally {
    kase.close();
  }
}

/** "2 orphan (2 recoverable)" */
function count(found: ReadonlyArray<{ state: string; recoverable: boolean }>, state: 'orphan' | 'deleted'): string {
  const these = found.filter((inode) => inode.state === state);
  return `${these.length} ${state} (${these.filter((inode) => inode.recoverable).length} recoverable)`;
}

/** What the scan can say of the image afterwards (a change is also a warning of its own). */
function afterScan(scan: ScanResult): string {
  if (scan.sha256After !== null) return scan.sha256After === scan.sha256 ? ' (read again after the scan: the same)' : ` (read again after the scan: ${scan.sha256After})`;
  if (scan.unchangedAfter === true) return ' (its size, mtime and ctime the same after the scan; --verify reads it again)';
  return '';
}

function toJson({ image_inode_id: _id, blocks: _blocks, block_size: _blockSize, nlink: _nlink, ...record }: ImageInodeRecord): ImageInodeJson {
  return record;
}
